"""CPT/HCPCS selection: exam frames -> codes of the CPT attribute table, and their modifiers."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .layout import exam_title

MODALITY_EQUIV = {"MAMMO": ("MAMMO",), "DBT": ("DBT",), "CTA": ("CTA",), "MRA": ("MRA",), "PET": ("PET",),
                  "NM": ("NM",), "DUPLEX": ("DUPLEX", "US"), "US": ("US",)}
SCREENING_RE = re.compile(r"\b(screening|screen|annual mammogram|routine mammogram|lung cancer screening|ldct)\b", re.IGNORECASE)
PET_INITIAL_RE = re.compile(r"\b(initial staging|initial treatment strategy|staging|newly diagnosed|new diagnosis|"
                            r"characteriz\w*|indeterminate)\b", re.IGNORECASE)
PET_SUBSEQ_RE = re.compile(r"\b(restaging|re-staging|subsequent|treatment response|response to (?:therapy|treatment)|"
                           r"surveillance|follow[- ]?up|post[- ]?treatment|recurrence)\b", re.IGNORECASE)
REPEAT_RE = re.compile(r"\b(repeat(?:ed)? (?:exam|examination|study|image|imaging|radiograph|film|views?)|"
                       r"same[- ]day repeat|repeat same[- ]day|repeat(?:ed)?,? same[- ](?:day|date))\b", re.IGNORECASE)
REDUCED_RE = re.compile(r"\b(incomplete (?:exam|examination|study)|(?:exam|examination|study) (?:was )?terminated|"
                        r"terminated (?:early|prematurely)|discontinued|could not be completed|not completed|"
                        r"declined further|abbreviated (?:exam|examination|study)|"
                        r"only (?:one|1|a single) view (?:was )?obtained)\b", re.IGNORECASE)
FEWER_VIEWS_RE = re.compile(r"\b(?:view only|views only|only (?:a |one |1 |a single )?(?:\w+ )?views?|incomplete|would not "
                            r"tolerate|could not tolerate|unable to (?:obtain|tolerate|cooperate)|limited (?:exam|study))\b",
                            re.IGNORECASE)
# a same-day earlier exam of the same kind named in the comparison / history: a repeat (76/77)
SAME_DAY_RE = re.compile(r"\b(?:earlier today|today at \d{1,2}:?\d{2}|(?:at )?\d{1,2}:\d{2} today|"
                         r"\d{3,4}h? today|same[- ]day)\b", re.IGNORECASE)
MODALITY_WORDS = {"CT": r"\bct\b|\bcomputed tomograph", "CTA": r"\bcta\b|\bct angiogra",
                  "MR": r"\bmri?\b|\bmagnetic", "MRA": r"\bmra\b|\bmr angiogra",
                  "US": r"\bus\b|\bultrasound|\bsonogra", "DUPLEX": r"\bduplex\b|\bdoppler\b",
                  "XR": r"\bradiograph|\bx-?ray|\bxr\b|\bfilms?\b|\bviews?\b|\bcxr\b|\bkub\b",
                  "NM": r"\bscan\b|\bscintigra", "PET": r"\bpet\b", "MAMMO": r"\bmammogra",
                  "FLUORO": r"\bfluoro|\besophagram|\bswallow"}
DIGITS = {"finger": {"left": ("FA", "F1", "F2", "F3", "F4"), "right": ("F5", "F6", "F7", "F8", "F9")},
          "toe": {"left": ("TA", "T1", "T2", "T3", "T4"), "right": ("T5", "T6", "T7", "T8", "T9")}}
DIGIT_RE = {
    "finger": [(0, r"\bthumb\b|\b(?:1st|first) (?:finger|digit)\b"), (1, r"\bindex\b|\b(?:2nd|second) (?:finger|digit)\b"),
               (2, r"\bmiddle (?:finger|digit)\b|\blong finger\b|\b(?:3rd|third) (?:finger|digit)\b"),
               (3, r"\bring (?:finger|digit)\b|\b(?:4th|fourth) (?:finger|digit)\b"),
               (4, r"\b(?:little|small|pinky|fifth|5th) (?:finger|digit)\b|\bpinky\b")],
    "toe": [(0, r"\bgreat toe\b|\bbig toe\b|\bhallux\b|\b(?:1st|first) (?:toe|digit)\b"),
            (1, r"\b(?:2nd|second) (?:toe|digit)\b"), (2, r"\b(?:3rd|third|middle) (?:toe|digit)\b"),
            (3, r"\b(?:4th|fourth) (?:toe|digit)\b"), (4, r"\b(?:5th|fifth|little|small) (?:toe|digit)\b|\bpinky toe\b")]}


LIMITED_RE = re.compile(r"\b(?:limited|ltd)\b", re.IGNORECASE)
OTHER_READER_RE = re.compile(r"\b(?:read|interpreted|reported) by (?:dr\.?|another|a different|outside)", re.IGNORECASE)
NOT_SCREENING_RE = re.compile(r"\b(?:diagnostic|call[- ]?back|recall(?:ed)?|additional (?:views|imaging|evaluation))\b",
                              re.IGNORECASE)
COMPARISON_LINE_RE = re.compile(r"^\s*(?:comparisons?|priors?|compared)\b[^\n]*$", re.IGNORECASE | re.MULTILINE)


def is_screening(text: str) -> bool:
    """A screening exam: 'screening' in the exam statement, or (when the exam statement says neither screening
    nor diagnostic) in the indication; the comparison line (a prior screening mammogram) does not count."""
    title = _title_text(text)
    if SCREENING_RE.search(title):
        return True
    if NOT_SCREENING_RE.search(title):
        return False
    body = COMPARISON_LINE_RE.sub(" ", text)
    return bool(SCREENING_RE.search(body)) and not NOT_SCREENING_RE.search(body)


def _cue_rows():
    rows = _CUES.get("rows")
    if rows is None:
        from .datafiles import iter_jsonl, resource_path
        sub, proc, fam, comp, ext, report_scoped = {}, [], {}, [], {}, set()
        for _, row in iter_jsonl(resource_path("codesets", "cpt_cues.jsonl")):
            rx = re.compile(row["pattern"], re.IGNORECASE)
            if row["kind"] == "subtype":
                sub[row["subtype"]] = rx
                if row.get("where") == "report":
                    report_scoped.add(row["subtype"])
            elif row["kind"] == "procedure":
                proc.append((rx, row["procedure"], tuple(row.get("families") or ()), bool(row.get("fluoro"))))
            elif row["kind"] == "family":
                fam[row["family"]] = rx
            elif row["kind"] == "companion":
                comp.append((row["code"], row["with"], rx))
            elif row["kind"] == "extent":
                ext[row["family"]] = rx
        rows = _CUES["rows"] = (sub, proc, fam, comp, ext, frozenset(report_scoped))
    return rows


def extent_cue(family: str | None):
    """The cue of the report text that documents the complete study of a family whose reports rarely state the
    extent (a limb physiologic study at 3+ levels or with provocative maneuvers); without it the study is limited."""
    return _cue_rows()[4].get(family) if family else None


def family_cue(family: str | None):
    return _cue_rows()[2].get(family) if family else None


def companion_codes(code: str, text: str) -> list[str]:
    """Injection procedures coded with a supervision-and-interpretation code (74455 VCUG -> 51600) when the
    report documents the injection."""
    return [w for c, w, rx in _cue_rows()[3] if c == code and rx.search(text)]


_CUES: dict = {}


def subtype_cue(subtype: str | None):
    """The compiled cue of a CPT subtype (None when the subtype has no cue)."""
    return _cue_rows()[0].get(subtype) if subtype else None


def procedure_families(proc: str | None) -> tuple[str, ...]:
    for _rx, value, fams, _fl in _cue_rows()[1]:
        if value == proc and fams:
            return fams
    return ()


def frame_procedure(frame: dict, title: str) -> str | None:
    """The image-guided procedure of a frame: its ``procedure`` element, else, for a frame without that element
    (the §5 frame schema) that is an IR frame or names a guidance modality, the procedure the exam statement
    names first."""
    if frame.get("procedure"):
        return frame.get("procedure")
    # a fluoroscopy frame whose exam statement names an injection done under fluoroscopy (arthrogram injection
    # for MR arthrography) is that injection, with or without a procedure element
    fluoro_only = frame.get("modality") == "FLUORO"
    if "procedure" in frame and not fluoro_only:
        return None
    if frame.get("modality") != "IR" and not frame.get("guidance") and not fluoro_only:
        return None
    hits = []
    for rx, value, _fams, fl in _cue_rows()[1]:
        if fluoro_only and not fl and ("procedure" in frame or not frame.get("guidance")):
            continue
        m = rx.search(title)
        if m:
            hits.append((m.start(), -(m.end() - m.start()), value))
    return min(hits)[2] if hits else None


def _title_text(text: str) -> str:
    """The first line of the report plus an 'EXAM:' line: the statement naming the performed exam."""
    return exam_title(text)


@dataclass
class Candidate:
    code: str
    score: float
    frame_index: int
    alternatives: tuple[str, ...] = ()
    evidence: tuple = ()
    frame: dict | None = None  # the frame coded (frames may be merged or split before selection)
    units: int = 1


REGION_PARTS = {"abdomen_pelvis": ("abdomen", "pelvis"), "chest_abdomen_pelvis": ("chest", "abdomen", "pelvis"),
                "chest_abdomen": ("chest", "abdomen")}


CAVITY_REGIONS = {"peritoneum": ("pelvis", "abdomen_pelvis")}


def _region_score(code_region: str, region: str) -> float:
    from .codesets.procedures import load_regions
    regions = load_regions()
    d = regions.distance(code_region, region)
    if d is None and code_region == "limited_area" and region and region not in ("whole_body", "multiple_areas",
                                                                       "skull_base_to_mid_thigh"):
        return 2.0  # a bone scan of one named part (feet, a knee) is the limited-area study
    if d is None:
        # a code for a part of the frame's region (frame 'abdomen', code 'upper_gi'): a weak match that the
        # exam statement's study-type words decide between
        if region in CAVITY_REGIONS.get(code_region, ()):
            return 1.0  # the peritoneal cavity extends into the pelvis (pelvic abscess: a peritoneal collection)
        anc = regions.ancestors(code_region)
        for part in REGION_PARTS.get(region, (region,)):
            if part in anc:
                return 1.0 - 0.25 * anc.index(part)
        if (region.startswith(code_region + "_") or code_region.startswith(region + "_")) and \
                set(anc) & set(regions.ancestors(region)):
            return 0.5  # the vessels of a region for a code of the region (lower_extremity_arteries / lower_extremity)
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


def _match_score(c, frame: dict, text: str, selected: frozenset = frozenset(), screening: bool | None = None,
                 title: str | None = None, views_cap: dict | None = None, best_region: float | None = None,
                 unilateral_families: frozenset | None = None) -> float:
    title = _title_text(text) if title is None else title
    s = _lexical_score(c, title)
    region_s = 0.0
    fam_cue = family_cue(c.family)
    fam_hit = bool(fam_cue is not None and fam_cue.search(title))
    if frame.get("region") is not None:
        region_s = _region_score(c.region, frame["region"])
        if region_s <= -5.0 and fam_hit:
            region_s = 0.0  # the study named in the exam statement outranks a frame region it does not fit
        s += region_s
    if c.modality == frame.get("modality"):
        s += 0.5  # a DUPLEX frame prefers the duplex code over the plain ultrasound code of the region
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
            cap = (views_cap or {}).get(c.code)
            s += 1.5 if fv >= c.views_min and (cap is None or fv <= cap) else -2.0
    fe = frame.get("extent")
    ecue = extent_cue(c.family)
    if fe is None and ecue is not None and (frame.get("region") == c.region or frame.get("_single")):
        fe = "complete" if ecue.search(text) else "limited"
    if c.extent is not None:
        if fe is None:
            s += 0.5 if c.extent == "complete" else 0.0
        elif c.extent == fe:
            # a limited code of a broader region does not describe a limited exam of an organ with its own code
            s += 2.0 if frame.get("region") is None or best_region is None or region_s >= best_region - 1e-6 \
                or fam_hit else 0.5
        else:
            s -= 2.0
    lat = frame.get("laterality")
    if lat is None and _UNILATERAL_RE.search(title):
        # 'LE VENOUS DOPPLER, UNILATERAL': one side whose name the statement leaves out
        s += -2.0 if c.laterality == "bilateral" else 0.5 if c.laterality == "unilateral" else 0.0
    if c.laterality == "bilateral":
        s += 1.0 if lat == "bilateral" else -0.5 if lat is None else -1.0
        if lat in ("left", "right") and c.family in (unilateral_families or ()):
            s -= 2.0  # one side: the one-side code of the family
    sub = (c.subtype or "")
    if screening is None:
        screening = is_screening(text)
    if "screening" in sub:
        s += 1.5 if screening else -1.5
    if "diagnostic" in sub:
        s += -1.5 if screening else 1.0
    cue = subtype_cue(sub)
    if cue is not None:
        # (a cue row with "where": "report" is read over the whole report, not only the exam statement)
        if cue.search(text if sub in _cue_rows()[5] else title):
            # a code of its own kind that the title names ('SKELETAL SURVEY, INFANT': 77076) outranks the family's
            # code of the extent the report implies ('a complete skeletal survey'); an exam the report calls limited
            # stays the limited code ('US OB LIMITED, THIRD TRIMESTER': 76815, not 76805)
            s += 1.5 + (2.0 if c.extent is None and fe == "complete" else 0.0)
        else:
            s -= 0.5
        if c.modality == "IR" and not cue.search(text):
            s -= 3.0  # a procedure code of one access route (transrectal / transvaginal drainage) needs that route
    if fam_cue is not None:
        s += 3.0 if fam_hit else -0.5
    if c.modality == "US" and c.contrast in (None, "na") and fc in ("with", "without_with") and \
            frame.get("modality") == "US":
        s -= 2.0  # a contrast-enhanced ultrasound frame: the contrast-enhanced US code
    if frame.get("guidance") and c.guidance:
        s += 1.5 if c.guidance in (frame["guidance"], "ANY") else -1.0
    elif frame.get("guidance") and c.modality == "IR" and frame.get("procedure"):
        s -= 0.5  # an image-guided procedure: prefer the code of its guided variant when there is one
    if c.addon:
        s += 1.0 if set(c.addon_parents or ()) & selected else -4.0
    return s


_UNILATERAL_RE = re.compile(r"\b(?:unilateral|unilat|one side|single side)\b", re.IGNORECASE)
_TITLE_PARTS = re.compile(r";|,|\+|\bwith\b|\band\b|\bplus\b", re.IGNORECASE)


def _limited_for(title: str, modality: str) -> bool:
    """'LIMITED' in the exam statement said of this exam: in a part of the statement that names this modality, or
    in a statement naming no other modality ("DIAGNOSTIC MAMMOGRAM WITH TOMOSYNTHESIS; LIMITED BREAST US": the
    ultrasound is limited, not the mammogram)."""
    if not LIMITED_RE.search(title):
        return False
    previous: list = []
    for part in _TITLE_PARTS.split(title):
        named = [m for m, rx in MODALITY_WORDS.items() if re.search(rx, part, re.IGNORECASE)]
        if LIMITED_RE.search(part):
            # (a bare ', LIMITED' continues the exam named just before it: 'ULTRASOUND LEFT BREAST, LIMITED')
            named = named or previous
            if not named or modality in named:
                return True
        previous = named or previous
    return False


def views_caps(table) -> dict:
    """The most views a 'views_min' code covers: one less than the next code of its family ('under 3 views')."""
    key = id(table)
    if key in _CAPS:
        return _CAPS[key]
    by_fam: dict = {}
    for c in table:
        if c.modality == "XR" and (c.views is not None or c.views_min is not None):
            by_fam.setdefault(c.family, []).append(c)
    caps = {}
    for cs in by_fam.values():
        for c in cs:
            if c.views_min is None:
                continue
            higher = [(o.views if o.views is not None else o.views_min) for o in cs if o is not c and
                      (o.views if o.views is not None else o.views_min) > c.views_min and o.laterality == c.laterality]
            if higher:
                caps[c.code] = min(higher) - 1
    _CAPS[key] = caps
    return caps


_CAPS: dict = {}


def _fold_chest(frames: list[dict], title: str, region: str, subtype: str, views_of) -> list[dict]:
    """A radiograph of ``region`` named with a chest view in one exam statement whose code includes the chest
    (the ``subtype`` cue of the title) is one exam: the chest frame is folded into the ``region`` frame, whose views
    become ``views_of(region frames, chest frames)`` (unchanged when that is None)."""
    main = [f for f in frames if f.get("modality") == "XR" and f.get("region") == region]
    chest = [f for f in frames if f.get("modality") == "XR" and f.get("region") == "chest"]
    cue = subtype_cue(subtype)
    if not (main and chest and cue is not None and cue.search(title)):
        return frames
    m = dict(main[0])
    views = views_of(main, chest)
    if views is not None:
        m["views"] = views
    return [m if f is main[0] else f for f in frames if f not in chest]


def _merge_ribs_chest(frames: list[dict], title: str) -> list[dict]:
    """Ribs with a PA chest (ribs-with-chest codes): the most views either part names."""
    return _fold_chest(frames, title, "ribs", "with_chest",
                       lambda main, chest: max([f["views"] for f in main + chest if f.get("views")], default=None))


def _merge_abdomen_chest(frames: list[dict], title: str) -> list[dict]:
    """An acute abdomen series (abdomen views with a chest view, 74022): at least its three views."""
    return _fold_chest(frames, title, "abdomen", "acute_abdomen_series",
                       lambda main, chest: max([3] + [f.get("views") or 0 for f in main]))


ADDED_TV_RE = re.compile(r"(?:\bwith|\band|\bplus|&|\+)\s+(?:an?\s+|additional\s+)?(?:trans-?vaginal|endovaginal)\b")


def _split_transabdominal_transvaginal(frames: list[dict], title: str) -> list[dict]:
    """A pelvic / obstetric ultrasound statement naming both the transabdominal and the transvaginal approach is
    two exams (§7.15): a second frame is added when only one was given."""
    low = title.lower()
    tv = subtype_cue("transvaginal")
    if tv is None or not tv.search(low):
        return frames
    if not (re.search(r"\btrans-?abdominal\b|\bta\b", low) or ADDED_TV_RE.search(low)):
        # only the transvaginal approach named ("TV OB US <14 WKS"): the transvaginal code, not the transabdominal one
        return [dict(f, _approach="transvaginal") if f.get("modality") == "US" and f.get("region") in ("pelvis", "obstetric")
                and len([g for g in frames if g.get("modality") == "US" and g.get("region") == f.get("region")]) == 1
                else f for f in frames]
    out = []
    for f in frames:
        same = [g for g in frames if g.get("modality") == "US" and g.get("region") == f.get("region")]
        if f.get("modality") == "US" and f.get("region") in ("pelvis", "obstetric") and len(same) == 2:
            # the frame builder gave both exams: the first is the transabdominal one, the second the transvaginal
            out.append(dict(f, _approach="transabdominal" if f is same[0] else "transvaginal"))
            continue
        out.append(f)
        if f.get("modality") == "US" and f.get("region") in ("pelvis", "obstetric") and len(same) == 1:
            out[-1] = dict(f, _approach="transabdominal")
            tv = dict(f)
            tv["extent"] = None
            tv["_approach"] = "transvaginal"
            out.append(tv)
    return out


LESION_COUNT_RE = re.compile(r"\b(two|three|four|five|[2-5])\s+(?:\w+\s+)?(?:nodules|lesions|masses|sites|targets)\b",
                             re.IGNORECASE)
_NUM = {"two": 2, "three": 3, "four": 4, "five": 5}


def _expand_lesions(frames: list[dict], title: str) -> list[dict]:
    """An image-guided procedure whose exam statement names N lesions ('FNA, THYROID, 2 NODULES') is N
    procedures of one frame each (the second and later are coded with the 'each additional' add-on)."""
    m = LESION_COUNT_RE.search(title)
    if not m:
        return frames
    n = _NUM.get(m.group(1).lower()) or int(m.group(1))
    out = []
    for f in frames:
        out.append(f)
        same = [g for g in frames if g.get("modality") == "IR" and g.get("region") == f.get("region")]
        if f.get("modality") == "IR" and len(same) == 1:
            out.extend(dict(f) for _ in range(n - 1))
    return out


GESTATION_WORDS = {"twin": 2, "twins": 2, "triplet": 3, "triplets": 3, "quadruplet": 4, "quadruplets": 4}
GESTATION_RE = re.compile(r"(?<!\bno )(?<!\bnot )\b(twins?|triplets?|quadruplets?)\b|"
                          r"\b(two|three|four|2|3|4)\s+(?:live\s+|viable\s+)?(?:intrauterine\s+)?(?:gestational sacs|"
                          r"gestations|fetuses|embryos)\b|\b(dichorionic|diamniotic|monochorionic)\b", re.IGNORECASE)


def gestation_count(text: str) -> int:
    """Number of gestations the report documents (1 when it names no multiple gestation)."""
    n = 1
    for m in GESTATION_RE.finditer(text):
        if m.group(1):
            n = max(n, GESTATION_WORDS[m.group(1).lower()])
        elif m.group(2):
            w = m.group(2).lower()
            n = max(n, int(w) if w.isdigit() else {"two": 2, "three": 3, "four": 4}[w])
        else:
            n = max(n, 2)
    return n


def select_cpt(frames: Sequence[dict], table, text: str, payer: str | None = None) -> list[Candidate]:
    title = _title_text(text)
    screening = is_screening(text)
    frames = _split_transabdominal_transvaginal(_merge_abdomen_chest(_merge_ribs_chest(list(frames), title), title),
                                                title)
    frames = _expand_lesions(frames, title)
    mammo_diagnostic = any(f.get("modality") == "MAMMO" for f in frames) and not screening
    if len(frames) == 1:  # the one exam of the report (a study named by the title, e.g. an ABI)
        frames = [dict(frames[0], _single=True)]
    caps = views_caps(table)
    uni_fams = frozenset(c.family for c in table if c.laterality == "unilateral")
    out: list[Candidate] = []
    chosen: list[tuple] = []  # (frame key, code) of the lines already selected
    for i, fr in enumerate(frames):
        if fr["modality"] == "DBT" and mammo_diagnostic and payer != "commercial":
            continue  # Medicare: diagnostic tomosynthesis is G0279 (an HCPCS line), not 77061/77062
        mods = MODALITY_EQUIV.get(fr["modality"], (fr["modality"],))
        cands = [c for c in table if c.modality in mods]
        proc = frame_procedure(fr, title)
        if proc:
            fr = dict(fr, procedure=proc)
            if fr.get("modality") == "FLUORO" and not fr.get("guidance"):
                fr["guidance"] = "FLUORO"
            cands = [c for c in table if c.modality == "IR"]
            listed = procedure_families(proc)
            fam = [c for c in cands if (c.family in listed) if listed] or \
                [c for c in cands if proc in (c.family or "")]
            named = [c for c in cands if proc in (c.notes or "").lower() or proc in c.short.lower()]
            # a family named after the procedure (ir_fna) outranks codes that only mention it
            cands = fam if (listed and fam) or any(c.family == "ir_" + proc for c in fam) else \
                (fam + [c for c in named if c not in fam])
        if fr.get("_approach") == "transvaginal":
            cands = [c for c in cands if c.subtype == "transvaginal"] or cands
        elif fr.get("_approach") == "transabdominal":
            cands = [c for c in cands if c.subtype != "transvaginal"] or cands
        key = (fr.get("modality"), fr.get("region"), fr.get("laterality"), fr.get("procedure"))
        repeated = [code for k, code in chosen if k == key]
        if repeated and fr.get("repeat"):
            # the same exam repeated the same day (radiographs before and after a reduction): the same code again
            cands = [c for c in cands if c.code in repeated] or cands
        elif repeated:
            # the same exam again: an add-on code of the one already coded ("each additional lesion"), else,
            # for a diagnostic exam, the other part of a multi-part exam (a code of another family)
            fams = {table.get(code).family for code in repeated}
            if proc:
                cands = [c for c in cands if c.addon and set(c.addon_parents or ()) & set(repeated)]
            else:
                cands = [c for c in cands if c.family not in fams and c.code not in repeated]
        if not cands:
            continue
        selected = frozenset(o.code for o in out)
        best_region = max((_region_score(c.region, fr["region"]) for c in cands), default=None) \
            if fr.get("region") is not None else None
        scored = sorted(((_match_score(c, fr, text, selected, screening, title, caps, best_region, uni_fams), c.code)
                         for c in cands),
                        key=lambda x: (-x[0], x[1]))
        best_score, best = scored[0]
        if fr.get("region") is None and best_score < 1.0 and not fr.get("procedure"):
            continue
        if repeated and not proc and best_score < 2.0 and not fr.get("repeat"):
            continue
        fam = table.get(best).family
        alts = tuple(code for sc, code in scored[1:4] if table.get(code).family == fam and sc >= best_score - 1.5)
        if not fr.get("repeat") and any(o.code == best and frames[o.frame_index].get("laterality") == fr.get("laterality")
                                        for o in out):
            continue
        margin = best_score - (scored[1][0] if len(scored) > 1 else best_score - 5)
        conf = max(0.05, min(0.99, 0.5 + 0.1 * margin))
        chosen.append((key, best))
        out.append(Candidate(best, conf, i, alts, tuple(tuple(e) for e in fr.get("evidence", ())), fr))
    # a multiple gestation: the 'each additional gestation' add-on of the obstetric code, one unit per extra fetus
    n = gestation_count(text)
    if n > 1:
        for o in list(out):
            for c in table:
                if c.addon and o.code in (c.addon_parents or ()) and "additional gestation" in c.short.lower() \
                        and all(x.code != c.code for x in out):
                    out.append(Candidate(c.code, o.score, o.frame_index, (), o.evidence, o.frame, units=n - 1))
    # callers index frames with frame_index: hand back the frames the candidates refer to
    for o in out:  # the frame as coded (with the procedure / guidance selection filled in)
        o.frame = o.frame if o.frame is not None else frames[o.frame_index]
    return out


def digit_modifier(code, frame: dict, text: str) -> str | None:
    """FA-F9 / TA-T9 for a finger or toe exam whose digit and side are named in the exam statement."""
    reg = frame.get("region")
    lat = frame.get("laterality")
    if reg not in DIGIT_RE or lat not in ("left", "right"):
        return None
    title = _title_text(text).lower()
    hits = [i for i, rx in DIGIT_RE[reg] if re.search(rx, title)]
    if len(hits) != 1:
        return None
    return DIGITS[reg][lat][hits[0]]


FINDINGS_START_RE = re.compile(r"\b(?:findings|impression|conclusion|result)s?\s*:", re.IGNORECASE)
RECOMMEND_RE = re.compile(r"\b(?:consider|recommend\w*|suggest\w*|advis\w*|could|may|should|if|would)\b|"
                          r"\bin \d+(?:\s*(?:-|to)\s*\d+)? (?:days?|weeks?|months?)\b", re.IGNORECASE)


def pet_strategy_modifier(text: str) -> str | None:
    """PI (initial anti-tumor treatment strategy) / PS (subsequent): what the exam statement says, else the
    history / indication (the part before the findings), else the whole report. A recommended follow-up in the
    impression does not make an initial staging study subsequent."""
    title = _title_text(text)
    m = FINDINGS_START_RE.search(text)
    # (the whole report without its recommendations: 'vascular surgery follow-up suggested' is no restaging)
    body = " ".join(x for x in re.split(r"(?<=[.;\n])", text) if not RECOMMEND_RE.search(x))
    for part in (title, text[:m.start()] if m else text, body):
        if PET_SUBSEQ_RE.search(part):
            return "PS"
        if PET_INITIAL_RE.search(part):
            return "PI"
    return None


def _is_repeat(code, text: str, title: str) -> bool:
    if re.search(r"\brepeat(?:ed)?\b", title, re.IGNORECASE):
        return True
    # a repeat the report documents, not one it recommends ('consider repeat radiographs in 7-10 days')
    for m in REPEAT_RE.finditer(text):
        start = max(text.rfind(".", 0, m.start()), text.rfind("\n", 0, m.start())) + 1
        end = min([i for i in (text.find(".", m.end()), text.find("\n", m.end())) if i >= 0] or [len(text)])
        if not RECOMMEND_RE.search(text[start:end]):
            return True
    rx = MODALITY_WORDS.get(code.modality)
    if rx is None:
        return False
    # the comparison names the same kind of exam, earlier the same day
    for cm in COMPARISON_LINE_RE.finditer(text):
        for snt in re.split(r"(?<=[.;])\s+", cm.group(0)):
            if SAME_DAY_RE.search(snt) and re.search(rx, snt, re.IGNORECASE) and _same_body_part(snt, title):
                return True
    return False


_BODY_PART_RE = re.compile(r"\b(chest|cxr|kub|abdom\w*|pelvi\w*|head|brain|neck|spine|spinal|cervical|thoracic|lumbar|"
                           r"hand|wrist|elbow|shoulder|hip|knee|ankle|foot|feet|femur|tibia\w*|humer\w*|forearm|leg|arm|"
                           r"finger|toe|sinus\w*|face|facial|orbits?|ribs?|clavicle|sacrum|coccyx)\b", re.IGNORECASE)
_BODY_PART_SAME = {"cxr": "chest", "kub": "abdom", "feet": "foot", "spinal": "spine"}


def _same_body_part(comparison: str, title: str) -> bool:
    """A same-day comparison is this exam's repeat only when it names no body part or one the exam title names
    ('Chest radiograph from earlier today' on an abdomen film is another exam, not a repeat)."""
    def parts(s):
        return {_BODY_PART_SAME.get(w, w)[:5] for w in (m.group(1).lower() for m in _BODY_PART_RE.finditer(s))}
    named, exam = parts(comparison), parts(title)
    return not named or not exam or bool(named & exam)


def modifiers_for(code, frame: dict, setting: str, text: str, allowed: Iterable[str],
                  primary: bool = True) -> list[list[str]]:
    """Modifier lists, one per claim line (two lines for RT+LT bilateral imaging). ``primary``: the first exam
    of the report (a repeat stated for the report applies to it only)."""
    allowed = set(allowed)
    base: list[str] = []
    if setting == "professional" and code.pctc == 1:
        base.append("26")
    elif setting == "technical" and code.pctc == 1:
        base.append("TC")
    if code.modality == "PET":
        pm = pet_strategy_modifier(text)
        if pm:
            base.append(pm)
    title = _title_text(text)
    lat = frame.get("laterality")
    by_views = code.views is not None or code.views_min is not None
    is_limited_code = code.extent == "limited" or code.subtype == "limited"
    reduced = False
    if not by_views and not is_limited_code:
        # 52: the exam was reduced / stopped and no code describes what was done (§7.13); a code defined by
        # its number of views is chosen by the views obtained instead
        reduced = bool(REDUCED_RE.search(text)) or \
            (_limited_for(title, code.modality) and code.extent is None and code.modality not in ("US", "DUPLEX"))
    elif by_views:
        # fewer views than the family's smallest code describes ('Single lateral view only; exam incomplete' on a
        # 2-view elbow code): the reduced service (52)
        fv, need = frame.get("views"), code.views or code.views_min
        reduced = bool(fv and need and fv < need and (REDUCED_RE.search(text) or FEWER_VIEWS_RE.search(text)))
    if code.laterality == "bilateral" and lat in ("left", "right") and not code.addon:
        reduced = True  # a both-sides code for one side (the add-on follows its primary code unmodified)
    if reduced:
        base.append("52")
    # (a frame marked repeat False is the first of an exam the report repeats: the repeat is its own frame)
    if (primary and frame.get("repeat") is None and _is_repeat(code, text, title)) or frame.get("repeat"):
        base.append("77" if OTHER_READER_RE.search(text) else "76")
    lines: list[list[str]] = []
    digit = digit_modifier(code, frame, text)
    if digit is not None and digit in allowed:
        lines = [base + [digit]]
    elif code.laterality == "unilateral" and lat in ("left", "right", "bilateral"):
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
# per-mL contrast is billed with the CT/MR exam it was given for, and with an image-guided injection whose
# report documents the agent and volume (§5: units = mL documented)
CONTRAST_MODALITIES = frozenset({"CT", "CTA", "MR", "MRA", "IR"})
_AGENTS = r"omnipaque|isovue|visipaque|optiray|ultravist|prohance|multihance|eovist|dotarem|clariscan|gadavist"
CONTRAST_AGENT_RE = re.compile(
    r"(?:(?P<ml>\d+(?:\.\d+)?)\s*ml\s+(?:of\s+)?(?:iv\s+|intravenous\s+)?(?P<agent>" + _AGENTS + r")(?:[- ](?P<conc>\d{3}))?)"
    r"|(?:(?P<agent2>" + _AGENTS + r")(?:[- ](?P<conc2>\d{3}))?,?\s+(?P<ml2>\d+(?:\.\d+)?)\s*ml)"
    # '7 mL gadolinium (Dotarem)', '100 mL iodinated contrast (Omnipaque 350)'
    r"|(?:(?P<ml3>\d+(?:\.\d+)?)\s*ml\s+(?:of\s+)?(?:iv\s+|intravenous\s+)?(?:[a-z-]+\s+){0,2}\((?P<agent3>" + _AGENTS
    + r")(?:[- ](?P<conc3>\d{3}))?\))"
    # 'gadobutrol (Gadavist) 3 mL', 'iohexol (Omnipaque 300), 80 mL'
    r"|(?:\((?P<agent4>" + _AGENTS + r")(?:[- ](?P<conc4>\d{3}))?\),?\s+(?P<ml4>\d+(?:\.\d+)?)\s*ml)", re.IGNORECASE)
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


def _alternative(m: re.Match, name: str) -> str | None:
    """The group ``name`` of whichever CONTRAST_AGENT_RE alternative matched (``name``, ``name2``, ...)."""
    return next((v for g in (name, name + "2", name + "3", name + "4") if (v := m.group(g))), None)


def contrast_supply_lines(text: str, modalities: set, hcpcs) -> list[tuple[str, int]]:
    """(code, units) for per-mL IV contrast documented with its volume, for CT/MR exams."""
    modalities = set(modalities) & CONTRAST_MODALITIES
    if not modalities:
        return []
    out, seen = [], set()
    for m in CONTRAST_AGENT_RE.finditer(text):
        agent, ml = _alternative(m, "agent"), _alternative(m, "ml")
        hc = contrast_hcpcs(agent, _alternative(m, "conc"))
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


# ----------------------------------------------------------------------------- drugs
_DRUG_DOSE = r"(\d+(?:\.\d+)?)\s*(mg|mcg|µg|μg|micrograms?|milligrams?)\b"


def drug_lines(text: str, modalities: set, hcpcs) -> list[tuple[str, int]]:
    """(code, units) of the injected drugs of the HCPCS table (pharmacologic stress agents, sincalide, joint
    steroids) named with a dose in the report, for the modalities the drug code applies to. Units = dose / the
    code's billing unit ('per 0.1 mg')."""
    low = text.lower()
    out = []
    for h in hcpcs:
        if getattr(h, "kind", "") != "drug" or not (set(getattr(h, "applies_to", ()) or ()) & set(modalities)):
            continue
        name = re.sub(r"\s+(?:injection|sodium phosphate|acetonide|acetate).*$", "", h.short.lower()).strip()
        um = re.match(r"per\s*(\d*\.?\d*)\s*(mg|mcg)", (h.unit or "").lower())
        if not name or not um:
            continue
        step = float(um.group(1) or 1) / (1000.0 if um.group(2) == "mcg" else 1.0)
        total = 0.0
        for m in re.finditer(r"(?<![\w-])" + re.escape(name) + r"(?![\w])", low):
            after = re.search(r"^\W{0,3}(?:\w+\W+){0,2}?" + _DRUG_DOSE, low[m.end():m.end() + 30])
            before = list(re.finditer(_DRUG_DOSE + r"\W{0,3}(?:of\s+)?$", low[max(0, m.start() - 25):m.start()]))
            d = after or (before[-1] if before else None)
            if d:
                v = float(d.group(1)) / (1000.0 if d.group(2) in ("mcg", "µg", "μg") or d.group(2).startswith("microgram") else 1.0)
                total += v
        if total > 0:
            out.append((h.code, max(1, round(total / step)), name, step, total))
    # one drug with codes of several billing units (methylprednisolone J1030 per 40 mg, J1040 per 80 mg): the code
    # of the largest unit that the dose fills in whole units, else the smallest unit's
    best: dict = {}
    for code, units, name, step, total in out:
        whole = abs(total / step - round(total / step)) < 1e-6 and total >= step
        key = (whole, step if whole else -step)
        if name not in best or key > best[name][0]:
            best[name] = (key, (code, units))
    return [v[1] for v in best.values()]


# ----------------------------------------------------------------------------- radiopharmaceuticals
_ISOTOPE_RE = re.compile(r"^((?:tc|f|ga|i|in|rb|n|c|xe|tl)-\d+m?)\s+", re.IGNORECASE)
_DOSE = r"(\d+(?:\.\d+)?)\s*(mci|mbq|uci|µci|μci|microcuries?|millicuries?)\b"
_RP_CACHE: dict = {}


# radiopharmaceutical short names that are no agent name of their own ('Xe-133 gas')
GENERIC_AGENT_NAMES = frozenset({"gas"})
ELEMENT_NAMES = {"xe": "xenon", "tc": "technetium", "tl": "thallium", "ga": "gallium", "in": "indium", "rb": "rubidium"}


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
        base = re.sub(r"\s+capsules?(?:\(s\))?$", "", base)
        aliases = {base}
        if base in GENERIC_AGENT_NAMES and iso:
            # 'Xe-133 gas': the agent is named by its isotope ('Xe-133', 'xenon-133'), never by the bare word
            el, num = iso.lower().split("-")
            aliases = set(_iso_variants(iso)) | {f"{ELEMENT_NAMES.get(el, el)}-{num}", f"{ELEMENT_NAMES.get(el, el)} {num}"}
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


def _mci(value: str, unit: str) -> float:
    v = float(value)
    if unit == "mbq":
        return v / 37.0
    if unit in ("uci", "µci", "μci") or unit.startswith("microcurie"):
        return v / 1000.0
    return v


def _dose_near(low: str, a: int, b: int) -> float | None:
    """The activity (mCi) written just before or just after an agent name."""
    before = list(re.finditer(_DOSE, low[max(0, a - 30):a]))
    after = re.search(r"^\W{0,3}(?:\w+\W+){0,2}?" + _DOSE, low[b:b + 30])
    d = before[-1] if before else after
    return _mci(d.group(1), d.group(2)) if d else None


def _unit_fit(h, dose: float | None) -> int:
    """0 when the billing unit of ``h`` suits the dose (per 100 uCi under 1 mCi, per mCi from 1 mCi), else 1."""
    unit = (getattr(h, "unit", "") or "").lower()
    micro = bool(re.search(r"\buci\b|microcurie", unit))
    if dose is None:
        return 0 if not micro else 1
    return 0 if micro == (dose < 1.0) else 1


BARE_RADIOIODINE_RE = re.compile(r"(?<![\w-])(?:i-?(123|131)|(123|131)-?i|iodine-?(123|131))(?![\w-])"
                                 r"(?!\s*(?:-\s*)?(?:mibg|iobenguane|ioflupane|datscan))")


LABELED_RBC_RE = re.compile(r"\b(?:tagged|labell?ed|tc-?99m)\s+(?:red (?:blood )?cells?|rbcs?)\b|\b(?:red blood cells?|rbcs?)\s+"
                            r"(?:were\s+|was\s+)?(?:labell?ed|tagged)\b")


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
                if len({x[1] for x in with_iso}) > 1:  # one agent billed per mCi or per 100 uCi: the dose decides
                    with_iso = sorted(with_iso, key=lambda x: _unit_fit(hcpcs.get(x[1]), _dose_near(low, m.start(), m.end())))
                if with_iso[0][1] != code:
                    continue
            elif iso and not any(v in ctx for v in _iso_variants(iso)) and len(alias) <= 3:
                pass
            taken.append((m.start(), m.end()))
            hits.setdefault(code, []).append((m.start(), m.end()))
    if not hits:  # radioiodine named by its isotope only ('I-123 300 uCi PO'): sodium iodide of that isotope
        for m in BARE_RADIOIODINE_RE.finditer(low):
            iso = "I-" + (m.group(1) or m.group(2) or m.group(3))
            cands = [c for al, c, i in lex if al == "sodium iodide" and i == iso]
            if cands:
                dose = _dose_near(low, m.start(), m.end())
                code = sorted(dict.fromkeys(cands), key=lambda c: _unit_fit(hcpcs.get(c), dose))[0]
                hits.setdefault(code, []).append((m.start(), m.end()))
                break
    # red blood cells labelled with pertechnetate: the labelled cells are the agent billed (A9560, a study dose)
    m = LABELED_RBC_RE.search(low)
    if m and hcpcs.get("A9560") is not None:
        hits.pop("A9512", None)
        hits.setdefault("A9560", [(m.start(), m.end())])
    out = []
    for code, spans in sorted(hits.items(), key=lambda kv: kv[1][0][0]):
        h = hcpcs.get(code)
        unit = (getattr(h, "unit", "") or "").lower()
        doses = []
        for a, b in spans:
            v = _dose_near(low, a, b)
            if v is not None and (a, v) not in doses:
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
