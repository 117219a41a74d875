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


def _match_score(c, frame: dict, text: str, selected: frozenset = frozenset()) -> float:
    s = 0.0
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
        s += 1.5 if c.guidance == frame["guidance"] else -1.0
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
            cands = [c for c in cands if fr["procedure"] in (c.family or "") or fr["procedure"] in (c.notes or "").lower()
                     or fr["procedure"] in c.short.lower()] or []
        if not cands:
            continue
        selected = frozenset(o.code for o in out)
        scored = sorted(((_match_score(c, fr, text, selected), c.code) for c in cands), key=lambda x: (-x[0], x[1]))
        best_score, best = scored[0]
        if fr.get("region") is None and best_score < 1.0:
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
