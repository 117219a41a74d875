"""CPT/HCPCS selection: exam frames -> codes of the CPT attribute table, and their modifiers."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

MODALITY_EQUIV = {"MAMMO": ("MAMMO",), "DBT": ("DBT",), "CTA": ("CTA",), "MRA": ("MRA",), "PET": ("PET",),
                  "NM": ("NM",), "DUPLEX": ("DUPLEX", "US"), "US": ("US",)}
SCREENING_RE = re.compile(r"\b(screening|screen|annual mammogram|routine mammogram|lung cancer screening|ldct)\b", re.IGNORECASE)
PET_INITIAL_RE = re.compile(r"\b(initial staging|initial treatment strategy|staging|newly diagnosed|new diagnosis)\b", re.IGNORECASE)
PET_SUBSEQ_RE = re.compile(r"\b(restaging|re-staging|subsequent|treatment response|response to (?:therapy|treatment)|"
                           r"surveillance|follow[- ]?up|post[- ]?treatment|recurrence)\b", re.IGNORECASE)
REPEAT_RE = re.compile(r"\b(repeat(?:ed)? (?:exam|study|image|imaging|radiograph|film|views?)|same[- ]day repeat)\b", re.IGNORECASE)
REDUCED_RE = re.compile(r"\b(incomplete (?:exam|examination|study)|exam (?:was )?terminated|discontinued|"
                        r"could not be completed|only (?:one|1|a single) view (?:was )?obtained)\b", re.IGNORECASE)


LIMITED_RE = re.compile(r"\blimited\b", re.IGNORECASE)
OTHER_READER_RE = re.compile(r"\b(?:read|interpreted) by (?:dr\.?|another|a different|outside)", re.IGNORECASE)


def _title_text(text: str) -> str:
    """The first line of the report plus an 'EXAM:' line: the statement naming the performed exam."""
    first = text.strip().split("\n", 1)[0]
    m = re.search(r"^\s*exam(?:ination)?\s*:([^\n]*)", text, re.IGNORECASE | re.MULTILINE)
    return first + (" " + m.group(1) if m else "")


@dataclass
class Candidate:
    code: str
    score: float
    frame_index: int
    alternatives: tuple[str, ...] = ()
    evidence: tuple = ()


def _region_score(code_region: str, region: str) -> float:
    from .codesets.procedures import load_regions
    d = load_regions().distance(code_region, region)
    if d is None:
        return -5.0
    return {0: 3.0, 1: 2.5, 2: 2.0, 3: 1.5}.get(d, 0.5)


LEX_STOP = frozenset({"with", "without", "and", "or", "of", "the", "a", "an", "to", "for", "in", "on", "by", "incl",
                      "including", "e", "g", "contrast", "study", "exam", "imaging", "study", "single", "one", "side",
                      "added", "supervision", "interpretation", "diagnostic", "s", "w", "wo", "views", "view", "xr",
                      "us", "ct", "mr", "mri", "nm", "fluoro", "ultrasound", "left", "right", "bilateral", "both",
                      "limited", "complete", "area", "2", "3", "4", "1"})
LEX_MODALITIES = frozenset({"NM", "PET", "FLUORO", "IR", "GUIDANCE"})
_LEX_CACHE: dict = {}


def _words(text: str) -> set:
    return {w for w in re.findall(r"[a-z0-9]+", text.lower()) if w not in LEX_STOP}


def _lexical_score(c, title: str) -> float:
    """Overlap of the exam title with the words of the code's short description (study-type words such as
    'bone scan', 'ventilation and perfusion', 'gastric emptying', 'PET/CT', 'upper GI', 'VCUG')."""
    if c.modality not in LEX_MODALITIES or not title:
        return 0.0
    key = c.code
    w = _LEX_CACHE.get(key)
    if w is None:
        w = _LEX_CACHE[key] = _words(c.short) | ({"ct"} if "/ct" in c.short.lower() or "with ct" in c.short.lower() else set())
    tw = _words(title) | ({"ct"} if re.search(r"\b(?:pet|spect)\s*[/-]?\s*ct\b", title, re.IGNORECASE) else set())
    return min(3.5, 0.5 * len(w & tw))


def _match_score(c, frame: dict, text: str, selected: frozenset = frozenset()) -> float:
    s = _lexical_score(c, _title_text(text))
    if frame.get("region") is not None:
        s += _region_score(c.region, frame["region"])
    fc = frame.get("contrast")
    if c.contrast not in (None, "na"):
        if fc is None:
            s += 0.5 if c.contrast == "without" else 0.0
        else:
            s += 2.0 if c.contrast == fc else -3.0
    fv = frame.get("views")
    if c.views is not None or c.views_min is not None:
        if fv is None:
            s += 0.2 if (c.views == 2 or c.views_min == 2) else 0.0
        elif c.views is not None:
            s += 2.0 if c.views == fv else -1.0 - 0.2 * abs(c.views - fv)
        elif c.views_min is not None:
            s += 1.5 if fv >= c.views_min else -2.0
    fe = frame.get("extent")
    if c.extent is not None:
        if fe is None:
            s += 0.5 if c.extent == "complete" else 0.0
        else:
            s += 2.0 if c.extent == fe else -2.0
    lat = frame.get("laterality")
    if c.laterality == "bilateral":
        s += 1.0 if lat == "bilateral" else -1.0
    sub = (c.subtype or "")
    screening = bool(SCREENING_RE.search(text))
    if "screening" in sub:
        s += 1.5 if screening else -1.5
    if "diagnostic" in sub:
        s += -1.5 if screening else 1.0
    if frame.get("guidance") and c.guidance:
        s += 1.5 if c.guidance in (frame["guidance"], "ANY") else -1.0
    elif frame.get("guidance") and c.modality == "IR" and frame.get("procedure"):
        s -= 0.5  # an image-guided procedure: prefer the code of its guided variant when there is one
    if c.addon and not (set(c.addon_parents or ()) & selected):
        s -= 4.0
    return s


def select_cpt(frames: Sequence[dict], table, text: str) -> list[Candidate]:
    out = []
    for i, fr in enumerate(frames):
        mods = MODALITY_EQUIV.get(fr["modality"], (fr["modality"],))
        cands = [c for c in table if c.modality in mods]
        if fr.get("procedure"):
            cands = [c for c in table if c.modality == "IR"]
            fam = [c for c in cands if fr["procedure"] in (c.family or "")]
            named = [c for c in cands if fr["procedure"] in (c.notes or "").lower() or fr["procedure"] in c.short.lower()]
            # a family named after the procedure (ir_fna) outranks codes that only mention it
            cands = fam if any(c.family == "ir_" + fr["procedure"] for c in fam) else (fam + [c for c in named if c not in fam])
        if not cands:
            continue
        selected = frozenset(o.code for o in out)
        scored = sorted(((_match_score(c, fr, text, selected), c.code) for c in cands), key=lambda x: (-x[0], x[1]))
        best_score, best = scored[0]
        if fr.get("region") is None and best_score < 1.0 and not fr.get("procedure"):
            continue
        fam = table.get(best).family
        alts = tuple(code for sc, code in scored[1:4] if table.get(code).family == fam and sc >= best_score - 1.5)
        if any(o.code == best for o in out):
            continue
        margin = best_score - (scored[1][0] if len(scored) > 1 else best_score - 5)
        conf = max(0.05, min(0.99, 0.5 + 0.1 * margin))
        out.append(Candidate(best, conf, i, alts, tuple(tuple(e) for e in fr.get("evidence", ()))))
    return out


def modifiers_for(code, frame: dict, setting: str, text: str, allowed: Iterable[str]) -> list[list[str]]:
    """Modifier lists, one per claim line (two lines for RT+LT bilateral imaging)."""
    allowed = set(allowed)
    base: list[str] = []
    if setting == "professional" and code.pctc == 1:
        base.append("26")
    elif setting == "technical" and code.pctc == 1:
        base.append("TC")
    if code.modality == "PET":
        if PET_SUBSEQ_RE.search(text):
            base.append("PS")
        elif PET_INITIAL_RE.search(text):
            base.append("PI")
    title = _title_text(text)
    if REDUCED_RE.search(text) or (LIMITED_RE.search(title) and code.extent is None):
        base.append("52")
    if REPEAT_RE.search(text) or re.search(r"\brepeat(?:ed)?\b", title):
        base.append("77" if OTHER_READER_RE.search(text) else "76")
    lines: list[list[str]] = []
    lat = frame.get("laterality")
    if code.laterality == "unilateral" and lat in ("left", "right", "bilateral"):
        if lat == "bilateral":
            if code.bilateral_indicator == 1 and "50" in allowed:
                lines = [base + ["50"]]
            else:
                lines = [base + ["RT"], base + ["LT"]]
        else:
            lines = [base + (["LT"] if lat == "left" else ["RT"])]
    else:
        lines = [base]
    return [[m for m in ln if m in allowed] for ln in lines]


# ----------------------------------------------------------------------------- contrast supplies
CONTRAST_MODALITIES = frozenset({"CT", "CTA", "MR", "MRA"})
_AGENTS = r"omnipaque|isovue|visipaque|optiray|ultravist|prohance|multihance|eovist|dotarem|clariscan|gadavist"
CONTRAST_AGENT_RE = re.compile(
    r"(?:(?P<ml>\d+(?:\.\d+)?)\s*ml\s+(?:of\s+)?(?:iv\s+|intravenous\s+)?(?P<agent>" + _AGENTS + r")(?:[- ](?P<conc>\d{3}))?)"
    r"|(?:(?P<agent2>" + _AGENTS + r")(?:[- ](?P<conc2>\d{3}))?,?\s+(?P<ml2>\d+(?:\.\d+)?)\s*ml)", re.IGNORECASE)
AGENT_HCPCS = {"prohance": "A9576", "multihance": "A9577", "eovist": "A9581", "dotarem": "A9575",
               "clariscan": "A9575", "gadavist": "A9585"}
IODINATED = frozenset({"omnipaque", "isovue", "visipaque", "optiray", "ultravist"})


def contrast_hcpcs(agent: str, conc: str | None) -> str | None:
    """HCPCS supply code of a contrast agent (iodinated low-osmolar by mg I/mL concentration)."""
    agent = agent.lower()
    if agent in AGENT_HCPCS:
        return AGENT_HCPCS[agent]
    if agent in IODINATED:
        c = int(conc) if conc else 300
        return "Q9965" if c < 200 else "Q9966" if c < 300 else "Q9967" if c < 400 else "Q9951"
    return None


def contrast_supply_lines(text: str, modalities: set, hcpcs) -> list[tuple[str, int]]:
    """(code, units) for per-mL IV contrast documented with its volume, for CT/MR exams."""
    modalities = set(modalities) & CONTRAST_MODALITIES
    if not modalities:
        return []
    out, seen = [], set()
    for m in CONTRAST_AGENT_RE.finditer(text):
        agent = m.group("agent") or m.group("agent2")
        ml = m.group("ml") or m.group("ml2")
        hc = contrast_hcpcs(agent, m.group("conc") or m.group("conc2"))
        if hc is None or hc in seen or hc not in hcpcs or not ml:
            continue
        h = hcpcs.get(hc)
        if not (set(getattr(h, "applies_to", ()) or ()) & modalities):
            continue
        seen.add(hc)
        unit = (getattr(h, "unit", "") or "").lower()
        n = float(ml) * (10 if "0.1" in unit else 1)
        out.append((hc, max(1, int(round(n)))))
    return out


# ----------------------------------------------------------------------------- radiopharmaceuticals
_ISOTOPE_RE = re.compile(r"^((?:tc|f|ga|i|in|rb|n|c|xe|tl)-\d+m?)\s+", re.IGNORECASE)
_DOSE = r"(\d+(?:\.\d+)?)\s*(mci|mbq)"
_RP_CACHE: dict = {}


def _iso_variants(iso: str) -> list[str]:
    el, num = iso.lower().split("-")
    return [f"{el}-{num}", f"{el}{num}", f"{el} {num}", f"{num}{el}", f"{num}-{el}"]


def _radiopharm_lexicon(hcpcs) -> list[tuple[str, str, str | None]]:
    """(alias, code, isotope) from the short descriptions of the radiopharmaceutical HCPCS codes:
    the agent name and its parenthesised abbreviation; the chemical name of an abbreviation is
    carried over to the other codes naming the same chemical (pentetate -> DTPA)."""
    key = id(hcpcs)
    if key in _RP_CACHE:
        return _RP_CACHE[key]
    rows, abbrev = [], {}
    for h in hcpcs:
        if getattr(h, "kind", "") != "radiopharmaceutical" or "not otherwise" in h.short.lower():
            continue
        name = h.short.split(",")[0].strip()
        m = _ISOTOPE_RE.match(name)
        iso = m.group(1) if m else None
        name = name[m.end():] if m else name
        pm = re.search(r"\(([^)]+)\)", name)
        base = re.sub(r"\s*\([^)]*\)", "", name).strip().lower()
        base = re.sub(r"\s+capsule\(s\)$", "", base)
        aliases = {base}
        if pm:
            ab = pm.group(1).lower()
            if not re.search(r"ucsf|ucla", ab):
                aliases.add(ab)
                abbrev[base] = ab
        rows.append((aliases, h.code, iso))
    out = []
    for aliases, code, iso in rows:
        extra = set()
        for a in aliases:
            for chem, ab in abbrev.items():
                if a.startswith(chem + " "):
                    extra.add(ab + a[len(chem):])
        for a in aliases | extra:
            out.append((a, code, iso))
    out.sort(key=lambda x: -len(x[0]))
    _RP_CACHE[key] = out
    return out


def radiopharm_lines(text: str, hcpcs) -> list[tuple[str, int]]:
    """(code, units) of the diagnostic radiopharmaceuticals named in the report. Units follow the billing
    unit of the code: per study dose -> one per documented administration; per (fraction of) mCi -> dose."""
    low = text.lower()
    lex = _radiopharm_lexicon(hcpcs)
    taken: list[tuple[int, int]] = []
    hits: dict[str, list[tuple[int, int]]] = {}
    for alias, code, iso in lex:
        for m in re.finditer(r"(?<![\w-])" + re.escape(alias) + r"(?![\w])", low):
            if any(a < m.end() and m.start() < b for a, b in taken):
                continue
            ctx = low[max(0, m.start() - 20): m.end() + 5]
            cands = [(al, c, i) for al, c, i in lex if al == alias]
            if len(cands) > 1:  # same agent name under several isotopes: the isotope written next to it decides
                with_iso = [x for x in cands if x[2] and any(v in ctx for v in _iso_variants(x[2]))]
                if not with_iso:
                    continue
                if with_iso[0][1] != code:
                    continue
            elif iso and not any(v in ctx for v in _iso_variants(iso)) and len(alias) <= 3:
                pass
            taken.append((m.start(), m.end()))
            hits.setdefault(code, []).append((m.start(), m.end()))
    out = []
    for code, spans in sorted(hits.items(), key=lambda kv: kv[1][0][0]):
        h = hcpcs.get(code)
        unit = (getattr(h, "unit", "") or "").lower()
        doses = []
        for a, b in spans:
            before = list(re.finditer(_DOSE, low[max(0, a - 30):a]))
            after = re.search(r"^\W{0,3}(?:\w+\W+){0,2}?" + _DOSE, low[b:b + 30])
            d = before[-1] if before else after
            if d:
                v = float(d.group(1)) / (37.0 if d.group(2) == "mbq" else 1.0)
                if (a, v) not in doses:
                    doses.append(v)
        if "study dose" in unit or not unit.startswith("per") or not doses:
            units = max(1, len(doses))
        else:
            m = re.match(r"per\s*(\d*\.?\d*)\s*(m|u)ci", unit)
            step = float(m.group(1)) if m and m.group(1) else 1.0
            if m and m.group(2) == "u":
                step /= 1000.0
            units = max(1, int(round(sum(doses) / step)))
        out.append((code, units))
    return out
