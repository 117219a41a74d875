"""Entity normalizer.

1. Context filter (guideline §2): ANATOMY, LATERALITY, VIEWS and CONTRAST spans are kept only where they
   describe the exam or procedure: in the exam/technique sections, or in a sentence that names a
   MODALITY, PROCEDURE or GUIDANCE. LATERALITY is kept only next to a kept ANATOMY or PROCEDURE span.
2. FINDING spans get ``span._.concept`` and ``span._.icd10cm`` from the finding lexicon
   (resources/lexicons/findings.jsonl), choosing the laterality or acuity variant from nearby words;
   unknown terms fall back to a search over ICD-10-CM descriptions and inclusion terms. A generic one-word
   span ("nodule", "laceration", "screening") is made specific from nearby words and the exam's anatomy
   and modality ("thyroid" -> thyroid nodule, "finger" -> finger laceration, "mammogram" -> screening
   mammogram).
3. Specificity (icd_specificity): the code is moved to the most specific billable code of its category
   that the span's context documents (side, breast quadrant or clock position, lung lobe, digit,
   displaced/nondisplaced, the exam's joint or limb); an unspecified code then takes the more specific code
   of the same category found for another mention of the same thing in the report.
   A code learned from the training reports (the memory) keeps its concept but not the details of the
   report it was learned from: its side, a fracture's later-encounter 7th character and its 'with ...'
   clauses are taken back to their defaults (icd_specificity.generalize) unless this report documents
   them; the steps above then add what this report documents.
"""

from __future__ import annotations

import re
from functools import cache, lru_cache

from spacy.language import Language
from spacy.tokens import Doc, Span

from .. import icd_specificity as spec
from ..datafiles import iter_jsonl, resource_path
from ..errors import ResourceError
from ..extensions import register_extensions, section_at
from ..lexicons import Concept, concepts_by_code, finding_index, findings, norm, region_index, term_maps

EXAM_SECTIONS = {"exam", "technique"}
CONTEXT_LABELS = {"ANATOMY", "LATERALITY", "VIEWS", "CONTRAST"}
ANCHOR_LABELS = {"MODALITY", "PROCEDURE", "GUIDANCE", "VIEWS"}
# labels whose trained-NER spans are trusted as they are: the NER learned the exam context from the gold;
# the filter below is for the context-free lexicon (entity ruler) spans, marked by a pattern id
NER_TRUSTED_LABELS = {"LATERALITY", "VIEWS", "CONTRAST"}
LEADING_MODIFIERS = {
    "mild", "mildly", "moderate", "moderately", "severe", "severely", "small", "large", "tiny", "minimal", "trace",
    "new", "old", "stable", "persistent", "focal", "diffuse", "patchy", "subtle", "minor", "marked", "extensive",
    "significant", "slight", "slightly", "increased", "decreased", "worsening", "improving", "residual",
    "bibasilar", "bibasal", "basilar", "apical", "scattered", "multiple", "few", "several", "a", "an", "the",
    "left", "right", "bilateral", "lower", "upper", "middle", "lobe", "lung", "known", "underlying",
    "dependent", "nonspecific", "non-specific", "probable", "early", "developing", "small-to-moderate",
}
# lexicon concepts too generic to code without the anatomy they refer to
GENERIC_CONCEPTS = frozenset({"fracture_unspecified", "solitary_pulmonary_nodule", "lung_mass", "pleural_effusion",
                              "cancer_unspecified", "hernia_unspecified", "fracture", "nodule", "mass", "lesion", "pain", "effusion", "cyst", "opacity",
                              "density", "tear", "swelling", "edema", "calcification", "stenosis", "occlusion",
                              "thickening", "enlargement", "dislocation", "contusion", "foreign_body", "scarring",
                              "infection", "abscess", "atrophy", "degenerative_changes", "arthritis", "osteoarthritis",
                              "hernia", "stone", "calculus", "carcinoma", "cancer", "tumor", "metastasis",
                              "laceration", "screening_encounter", "greenstick_fracture", "hemorrhage_nos", "hematoma",
                              "joint_stiffness", "joint_instability", "atherosclerosis"})
LAT_WORDS = {"left": "left", "right": "right", "bilateral": "bilateral", "bilaterally": "bilateral",
             "both": "bilateral", "b/l": "bilateral", "lt": "left", "rt": "right", "l": "left", "r": "right"}
ACUITY_WORDS = {"acute": "acute", "subacute": "acute", "chronic": "chronic", "recurrent": "chronic"}


SPELLING_VARIANTS = (("dilatation", "dilation"), ("dilatations", "dilations"), ("tumour", "tumor"),
                     ("oesophageal", "esophageal"), ("haemorrhage", "hemorrhage"), ("oedema", "edema"),
                     ("calcification", "calcifications"), ("disk", "disc"), ("fx", "fracture"), ("fxs", "fractures"))
# a site word with another name of a primary malignancy ("cervical malignancy", "gastric carcinoma"): the
# site's cancer concept ("cervical cancer") before the bare head's generic concept
MALIGNANCY_HEADS = ("malignancy", "malignancies", "carcinoma", "carcinomas", "cancers", "ca", "malignant neoplasm",
                    "malignant tumor")
_NODAL = re.compile(r"\b(?:nodal|nodes?|lymph|lymphadenopathy|adenopathy)\b")
_METASTATIC = re.compile(r"\bmetasta\w*")


def lookup_concept(text: str) -> Concept | None:
    idx = finding_index()
    key = norm(text)
    if key in idx:
        return idx[key]
    words = key.split()
    # drop leading modifiers, then try singular forms
    while words and words[0] in LEADING_MODIFIERS:
        words = words[1:]
        if " ".join(words) in idx:
            return idx[" ".join(words)]
    cand = " ".join(words)
    # spelling variants of the head ("common bile duct dilatation" / "dilation")
    hit = _variant_hit(cand, idx)
    if hit is not None:
        return hit
    for h in MALIGNANCY_HEADS:
        if cand.endswith(" " + h) and not _METASTATIC.search(cand):
            alt = cand[:-len(h)] + "cancer"
            if alt in idx:
                return idx[alt]
    # "nodal metastatic melanoma", "metastatic cervical lymph node": a secondary of the lymph nodes (C77.-)
    # whatever the primary named with it
    if _NODAL.search(cand) and _METASTATIC.search(cand) and "lymph node metastases" in idx:
        return idx["lymph node metastases"]
    for variant in (cand[:-1] if cand.endswith("s") else None, cand[:-2] if cand.endswith("es") else None):
        if variant and variant in idx:
            return idx[variant]
    # longest suffix that is a known term ("right lower lobe pneumonia" -> "pneumonia"), also in a spelling
    # variant ("l1 burst fx" -> "burst fracture")
    for k in range(1, len(words)):
        tail = " ".join(words[k:])
        if tail in idx:
            return idx[tail]
        hit = _variant_hit(tail, idx)
        if hit is not None:
            return hit
    return None


def _variant_hit(text: str, idx: dict):
    """The lexicon concept of ``text`` written with one word in its other spelling or abbreviation (SPELLING_VARIANTS:
    dilatation/dilation, fx/fracture), or None."""
    for a, b in SPELLING_VARIANTS:
        for x, y in ((a, b), (b, a)):
            if re.search(rf"\b{x}\b", text):
                alt = re.sub(rf"\b{x}\b", y, text)
                if alt in idx:
                    return idx[alt]
    return None


# words that describe a finding without naming its site or organ or its kind ("nondisplaced transverse
# fracture"; not "cystic lesion", "chronic pain", "intra-articular fracture")
DESCRIPTIVE_WORDS = frozenset({
    "displaced", "nondisplaced", "non-displaced", "minimally", "transverse", "oblique", "spiral", "comminuted",
    "impacted", "angulated", "segmental", "complete", "incomplete", "linear",
    "depressed", "acute", "subacute", "healed", "healing", "old", "partially"}) | LEADING_MODIFIERS - {"lung", "lobe", "left", "right", "bilateral"}


# a finding of many sites at once (polyarthralgia, polyarthritis, polyneuropathy)
MULTI_SITE_RE = re.compile(r"(?i)poly(?:arthr|neur|myalg|myosit)")


def _names_no_site(key: str) -> bool:
    """A span of one word, or of a head word with descriptive modifiers only."""
    words = key.split()
    return len(words) == 1 or all(w in DESCRIPTIVE_WORDS for w in words[:-1])


def _window_words(span: Span, before: int = 5, after: int = 3) -> list[str]:
    sent = span.sent if span.doc.has_annotation("SENT_START") else span.doc[:]
    lo = max(sent.start, span.start - before)
    hi = min(sent.end, span.end + after)
    return [t.lower_ for t in span.doc[lo:hi]]


ACUTE_ON_CHRONIC_RE = re.compile(r"\bacute[- ]on[- ]chronic\b|\bchronic,? with acute (?:exacerbation|decompensation)\b")


def choose_code(concept: Concept, span: Span) -> str | None:
    words = _window_words(span)
    code = concept.icd10cm
    if concept.acuity:
        # the span's own acuity word first ("recurrent acute pancreatitis": the span "acute pancreatitis")
        own = [t.lower_ for t in span]
        if "acute_on_chronic" in concept.acuity and ACUTE_ON_CHRONIC_RE.search(" ".join(own + words)):
            return concept.acuity["acute_on_chronic"]
        for w in own + words:
            if w in concept.acuity:  # a code of its own ("subacute cough" R05.2)
                code = concept.acuity[w]
                break
            if w in ACUITY_WORDS and ACUITY_WORDS[w] in concept.acuity:
                code = concept.acuity[ACUITY_WORDS[w]]
                break
    if concept.laterality:
        found = {LAT_WORDS[w] for w in words if w in LAT_WORDS}
        if "left" in found and "right" in found:
            found = {"bilateral"}
        if not found:
            # the side heading the finding's line ("Left: heterogeneous plaque at the bulb")
            para = _paragraph_side(span)
            found = {para} if para else set()
        if not found:
            # the same condition already coded with its side earlier in the sentence ("Left ICA stenosis ..., with
            # heterogeneous plaque"): that side
            sent = span.sent if span.doc.has_annotation("SENT_START") else span.doc[:]
            by_code = {c: side for side, c in concept.laterality.items()}
            sides = {by_code[e._.icd10cm] for e in span.doc.ents if e.label_ == "FINDING" and e.start < span.start
                     and e.start >= sent.start and e._.icd10cm in by_code}
            if len(sides) == 1:
                found = sides
        if not found and _exam_side_applies(span, _concept_words(concept)):
            # no side next to the finding: the side of the performed exam (one-sided exams only)
            found = _exam_sides(span.doc)
        for side in ("bilateral", "left", "right"):
            if side in found and side in concept.laterality:
                code = concept.laterality[side]
                break
    return code


INDICATION_SECTIONS = {"indication", "history"}
# words after a span that introduce its site ("fracture of/through/in the ...")
POSTNOMINAL_PREPS = frozenset({"of", "through", "in", "involving", "within", "along", "across"})
# words that name a site in _specialize ("mass in the lung" -> lung mass), unlike the other leading modifiers
SITE_CONFIRM = frozenset({"lung", "lobe"})
# lung lobes by abbreviation ("RLL nodule"); "lower lobe" is recognized from its two words
LUNG_LOBE_WORDS = frozenset({"rll", "rul", "rml", "lll", "lul", "lingula", "lingular", "perifissural", "subpleural"})
# a section label is no site header ("Hx: febrile UTI")
SECTION_HEADER_WORDS = frozenset({"hx", "history", "indication", "indications", "findings", "finding", "impression",
                                  "exam", "examination", "technique", "comparison", "clinical", "reason", "procedure",
                                  "conclusion", "diagnosis", "dx", "imp", "summary", "addendum", "note", "notes", "other"})
SPECIALIZE_SKIP = LEADING_MODIFIERS - SITE_CONFIRM
# a part of a bone or organ ("neck of the femur", "lower pole of the kidney")
PART_WORDS = frozenset({"neck", "head", "base", "shaft", "body", "tip", "pole", "dome", "roof", "floor", "wall", "apex",
                        "margin", "surface", "aspect", "portion", "segment", "root", "tail", "waist"})


def _part_of(t) -> bool:
    doc = t.doc
    return t.lower_ in PART_WORDS and t.i + 1 < len(doc) and doc[t.i + 1].lower_ == "of"


# a fracture in routine healing: 7th character D (subsequent encounter, routine healing) for an A code
_HEALING = re.compile(r"\b(?:healing|healed|callus|callus formation|consolidating)\b", re.IGNORECASE)
_HEALING_NEG = re.compile(r"\b(?:no|without|not)\b[^.;,]{0,25}$", re.IGNORECASE)
# a fracture documented with delayed healing, nonunion or malunion: 7th character G/K/P (H/M/Q for an open
# fracture's B), checked before routine healing ("delayed healing" is no routine healing)
_HEALING_COMPLICATION = (
    (re.compile(r"\b(?:nonunion|non-union|non union|ununited|pseudarthrosis|pseudoarthrosis)\b", re.IGNORECASE), "K", "M"),
    (re.compile(r"\bdelayed (?:healing|union)\b", re.IGNORECASE), "G", "H"),
    (re.compile(r"\b(?:malunion|mal-union|malunited)\b", re.IGNORECASE), "P", "Q"),
)
# a complication only asked about ("eval nonunion", "r/o delayed union", "? nonunion") is not documented
_COMPLICATION_UNCERTAIN = re.compile(r"(?:\b(?:eval|evaluate|evaluation|assess|r/o|rule out|question of|concern for|"
                                     r"possible|suspected)\b|\?)[^.;,]{0,15}$", re.IGNORECASE)


# a grade, stage or score alone ("grade II" of a reflux named before it) names no condition to search for
GRADE_ONLY_RE = re.compile(r"^(?:grade|stage|type|class|level|category|bi-?rads|ti-?rads|li-?rads|pi-?rads)\s*"
                           r"(?:[0-9]+|[ivx]+)[a-c]?$")


# a bare healing complication ("established nonunion", "malunion") names no bone of its own
_COMPLICATION_SPAN = re.compile(r"^(?:(?:established|persistent|fibrous|atrophic|hypertrophic|early|probable)\s+)*"
                                r"(non-?union|mal-?union|delayed (?:union|healing))$")


def fracture_complications(findings) -> None:
    """A bare "nonunion" / "malunion" / "delayed union" span is of the fracture the report names: the fracture
    code of its sentence (else of the nearest fracture mention before it) with the complication's 7th character
    (K/P/G, M/Q/H for an open fracture), not a code searched from the word alone (ICD-10-CM I.C.19.a)."""
    fractures = [e for e in findings if e._.icd10cm and e._.icd10cm.startswith("S")
                 and len(e._.icd10cm.replace(".", "")) == 7 and re.search(r"fracture|\bfx\b", e.text, re.IGNORECASE)]
    for e in findings:
        m = _COMPLICATION_SPAN.match(norm(e.text))
        if not m:
            continue
        closed, open_ = next((c, o) for pat, c, o in _HEALING_COMPLICATION if pat.search(m.group(1)))
        same = [f for f in fractures if f.sent == e.sent] if e.doc.has_annotation("SENT_START") else []
        before = [f for f in fractures if f.start < e.start]
        src = (same or before[-1:] or fractures[:1])
        if not src:
            e._.icd10cm = None
            continue
        code = src[0]._.icd10cm
        new = code[:-1] + (closed if code[-1] in "ADGKPS" else open_)
        if _valid_code(new):
            e._.icd10cm, e._.concept = new, src[0]._.concept


# a "collection" named by a descriptor only ("residual rim-enhancing collection", "fluid collection") in a report that
# names what the collection is (abscess, hematoma, empyema, seroma, biloma, urinoma, lymphocele)
_COLLECTION_SPAN = re.compile(r"^(?:(?:small|large|residual|new|persistent|rim[- ]enhancing|peripherally enhancing|"
                              r"enhancing|loculated|multiloculated|complex|organized|drainable|fluid|focal|"
                              r"walled[- ]off|\d+(?:\.\d+)?\s*(?:cm|mm)|x)\s+)*(?:fluid\s+)?collections?$")
_COLLECTION_KINDS = re.compile(r"abscess|hematoma|empyema|seroma|biloma|urinoma|lymphocele|pseudocyst")
_GENERIC_COLLECTION_CODES = frozenset({None, "R93.89", "R93.5", "R93.3", "R93.6", "R93.7", "R93.8", "R19.00", "R18.8",
                                       "R22.9", "K65.1", "L02.91"})


_UNCERTAIN_BEFORE = re.compile(r"(?:\b(?:concerning|suspicious|worrisome|suggestive|evaluat\w*|eval|assess\w*|search|"
                               r"looking)\s+for|\b(?:possible|possibly|probable|probably|likely|questionable|suspected|"
                               r"may|might|could|r/o|rule out|question of|cannot exclude|can't exclude|versus|vs)\b|\?)"
                               r"[^.;:]*$", re.IGNORECASE)


def _locally_uncertain(span: Span) -> bool:
    """An uncertainty or hypothetical cue before the span in its clause ("concerning for abscess", "evaluate for
    abscess", "?abscess"): the normalizer runs before the assertion component."""
    doc = span.doc
    sent = span.sent if doc.has_annotation("SENT_START") else doc[:]
    return bool(_UNCERTAIN_BEFORE.search(doc.text[sent.start_char:span.start_char]))


def collection_anaphora(findings) -> None:
    """A collection named only by descriptors is the abscess, hematoma or empyema the report names (the nearest
    present mention of one, before or after): its code, not an imaging-abnormality code of its own."""
    sources = [e for e in findings if e._.icd10cm and not _locally_negated(e) and not _locally_uncertain(e)
               and _COLLECTION_KINDS.search(norm(e.text))]
    if not sources:
        return
    for e in findings:
        if e in sources or e._.icd10cm not in _GENERIC_COLLECTION_CODES or not _COLLECTION_SPAN.match(norm(e.text)):
            continue
        src = min(sources, key=lambda x: abs(x.start - e.start))
        e._.icd10cm, e._.concept = src._.icd10cm, src._.concept


_ULCER_HEAD = re.compile(r"\b(?:ulcers?|ulceration|wound)$")
_ULCER_TYPE = re.compile(r"\b(?:pressure|decubitus|diabetic|neuropathic|venous|stasis|varicose|arterial|ischemic|"
                         r"bed ?sores?|stage)\b")


def ulcer_anaphora(findings) -> None:
    """An ulcer named without its kind ('the ulcer', 'heel ulcer', 'soft tissue ulcer') is the ulcer the report
    names with its kind ("stage 4 pressure ulcer R heel"): when the present mentions that state a kind (pressure,
    diabetic, venous, arterial) carry one code, the untyped mentions take it, not a code their neighbourhood
    suggests (a heel ulcer read as a diabetic foot ulcer)."""
    ulcers = [e for e in findings if _ULCER_HEAD.search(norm(e.text))]
    typed = {e._.icd10cm for e in ulcers if e._.icd10cm and _ULCER_TYPE.search(norm(e.text))
             and not _locally_negated(e) and not _locally_uncertain(e)}
    if len(typed) != 1:
        return
    src = next(e for e in ulcers if e._.icd10cm in typed)
    for e in ulcers:
        if not _ULCER_TYPE.search(norm(e.text)):
            e._.icd10cm, e._.concept = src._.icd10cm, src._.concept


# a bare head word (with only a determiner or a size before it) that refers back to the named lesion
_BARE_HEAD_RE = re.compile(r"^(?:(?:the|this|that|a|an|known|small|large|tiny|moderate|sizable|\d+(?:\.\d+)?\s*(?:mm|cm)|"
                           r"x)\s+)*(diverticul(?:um|a)|hernias?|aneurysms?)$")


def head_anaphora(findings) -> None:
    """'the diverticulum' after 'Zenker diverticulum', 'the hernia' after 'hiatal hernia', 'the aneurysm' after
    'infrarenal abdominal aortic aneurysm': a bare head word takes the code of the one present, named mention of
    that head in the report (when the named mentions carry one code), not a code of another organ."""
    for e in findings:
        m = _BARE_HEAD_RE.match(norm(e.text))
        if not m:
            continue
        stem = m.group(1)[:6]
        named = [x for x in findings if x is not e and x._.icd10cm and not _BARE_HEAD_RE.match(norm(x.text))
                 and norm(x.text).split()[-1].startswith(stem) and not _locally_negated(x) and not _locally_uncertain(x)]
        codes = {x._.icd10cm for x in named}
        if len(codes) == 1:
            e._.icd10cm, e._.concept = named[0]._.icd10cm, named[0]._.concept


# the loss-of-consciousness axis of intracranial injury codes (S06.-, 6th character): 0 without LOC, 9 with LOC of
# unspecified duration, A status unknown (the default when the report is silent)
_LOC_RE = re.compile(r"\b(?:loss of consciousness|loc|lost consciousness|loss of conciousness|knocked out|"
                     r"unresponsive after)\b", re.IGNORECASE)
_NO_LOC_RE = re.compile(r"\b(?:no|without|denies|denied|negative for|did not have|no reported|no known)\s+(?:any\s+)?"
                        r"(?:loss of consciousness|loc|loss of conciousness)\b|\b(?:did not|didn't)\s+lose consciousness\b"
                        r"|\bloc\s*:\s*(?:no|none|denied|negative)\b", re.IGNORECASE)


_LOC_UNKNOWN_RE = re.compile(r"\b(?:unknown|unclear|uncertain|unsure|not known|undetermined|possible|possibly|questionable)"
                             r"|\?", re.IGNORECASE)


# the duration of a documented loss of consciousness (S06.- 6th character 1-4): "brief LOC", "LOC for about 10 minutes"
_LOC_BRIEF_RE = re.compile(r"\b(?:brief|briefly|momentary|momentarily|transient|transiently|few seconds|seconds)\b", re.IGNORECASE)
_LOC_DURATION_RE = re.compile(r"(\d+(?:\.\d+)?)\s*(?:-\s*\d+\s*)?(seconds?|secs?|minutes?|mins?|hours?|hrs?)\b", re.IGNORECASE)


def loc_duration_axis(text: str, m: re.Match) -> str:
    """The 6th character of a loss of consciousness whose duration the words around it state ("brief", "under 5
    minutes", "for 45 min"): 1 (30 minutes or less), 2 (31-59 minutes), 3 (1-5 hours 59 minutes), 4 (6-24 hours);
    9 (unspecified duration) when none is stated."""
    window = text[max(0, m.start() - 25):m.end() + 45]
    d = _LOC_DURATION_RE.search(window)
    if d:
        n, unit = float(d.group(1)), d.group(2).lower()
        minutes = n / 60 if unit.startswith("s") else n * 60 if unit.startswith("h") else n
        return "1" if minutes <= 30 else "2" if minutes < 60 else "3" if minutes < 360 else "4" if minutes <= 1440 else "9"
    return "1" if _LOC_BRIEF_RE.search(window) else "9"


def consciousness_axis(findings) -> None:
    """An intracranial injury code (S06.-) whose 6th character is the loss-of-consciousness axis takes the state
    the report documents: 0 'without loss of consciousness' when it says so ("No loss of consciousness", "no
    LOC"), 1-4 by the duration of a documented loss of consciousness (``loc_duration_axis``), 9 'of unspecified
    duration' when none is stated, else A 'status unknown'."""
    if not findings:
        return
    text = findings[0].doc.text
    if _NO_LOC_RE.search(text):
        axis = "0"
    else:
        locs = [m for m in _LOC_RE.finditer(text) if not _NO_LOC_RE.search(text[max(0, m.start() - 30):m.end()])
                and not _LOC_UNKNOWN_RE.search(text[max(0, m.start() - 25):m.end() + 20])]
        if not locs:
            return
        axis = loc_duration_axis(text, locs[0])
    for e in findings:
        code = e._.icd10cm
        if not code or not code.startswith("S06.") or len(code.replace(".", "")) != 7 or code[-2] not in "012349A":
            continue
        new = code[:-2] + axis + code[-1]
        if new != code and _valid_code(new) and _valid_code(code[:-2] + "A" + code[-1]):
            e._.icd10cm = new


# the completed weeks of gestation of a preterm newborn ("27 wk preemie", "born at 25 weeks gestation", "GA 32+4")
_GA_RE = re.compile(r"\b(?:born at |ga(?: of)?:? |gestational age(?: of)?:? |ex-?\s*)?(2[0-9]|3[0-6])(?:\s*\+\s*[0-6]|\s+[0-6]/7)?"
                    r"[- ]?(?:wk|wks|week|weeks|weeker)\b", re.IGNORECASE)
_GA_LEAD_RE = re.compile(r"\b(?:ga|gestational age)\s*(?:of\s*)?:?\s*(2[0-9]|3[0-6])\b", re.IGNORECASE)


def gestational_weeks_axis(findings) -> None:
    """A preterm-newborn code (P07.2- extreme immaturity, P07.3- other preterm) takes the completed weeks of
    gestation the report states: P07.21 (< 23 weeks) .. P07.26 (27 weeks), P07.31 (28 weeks) .. P07.39 (36 weeks)."""
    codes = [e for e in findings if (e._.icd10cm or "").startswith(("P07.2", "P07.3"))]
    if not codes:
        return
    text = codes[0].doc.text
    m = _GA_LEAD_RE.search(text) or _GA_RE.search(text)
    if not m:
        return
    w = int(m.group(1))
    new = "P07.21" if w < 23 else f"P07.2{w - 21}" if w <= 27 else f"P07.3{w - 27}"
    if _valid_code(new):
        for e in codes:
            e._.icd10cm = new


# radiculopathy documented in the report (not negated): an intervertebral disc displacement/degeneration code takes
# its 'with radiculopathy' form (M50.1-, M51.1-) at the same level
_RADICULOPATHY_RE = re.compile(r"\b(?:radiculopath\w*|radicular (?:pain|symptoms?)|sciatica)\b", re.IGNORECASE)
_RADIC_NEGATED = re.compile(r"\b(?:no|not|without|denies|negative for)\s+(?:\w+\s+){0,2}$", re.IGNORECASE)


def _with_radiculopathy(code: str) -> str | None:
    if code.startswith(("M50.2", "M50.3")) and len(code) >= 5:
        return "M50.1" + code[5:]
    if code.startswith(("M51.2", "M51.3")) and len(code) >= 6:
        return "M51.1" + code[5]
    return None


def radiculopathy_axis(findings) -> None:
    """A cervical/thoracolumbar disc displacement or degeneration (M50.2-/M50.3-, M51.2-/M51.3-) in a report that
    documents radiculopathy or sciatica is the disc disorder with radiculopathy of the same level (M50.1-, M51.1-):
    the radiculopathy is what the disc causes (ICD-10-CM index: Disorder, disc, with radiculopathy)."""
    if not findings:
        return
    text = findings[0].doc.text
    if not any(not _RADIC_NEGATED.search(text[max(0, m.start() - 30):m.start()]) for m in _RADICULOPATHY_RE.finditer(text)):
        return
    for e in findings:
        code = e._.icd10cm
        new = _with_radiculopathy(code) if code else None
        if new and _valid_code(new):
            e._.icd10cm = new


def healing_code(span: Span, code: str | None) -> str | None:
    """A fracture code of the initial encounter (7th character A/B) documented in the span's sentence with
    delayed healing, nonunion or malunion takes G/K/P (H/M/Q for B); documented as healing ("healing
    greenstick fracture", "fracture with early periosteal callus") it takes the subsequent encounter with
    routine healing (D/E): ICD-10-CM guideline I.C.19.a."""
    if not code or not code.startswith("S") or len(code.replace(".", "")) != 7 or code[-1] not in "AB":
        return code
    try:
        if "fracture" not in spec.title_tokens(code)[0]:
            return code
    except (KeyError, ValueError, ImportError, OSError):
        return code
    doc = span.doc
    sent = span.sent if doc.has_annotation("SENT_START") else doc[:]
    text = sent.text
    for pat, closed, open_ in _HEALING_COMPLICATION:
        for m in pat.finditer(text):
            before = text[:m.start()]
            if _HEALING_NEG.search(before) or _COMPLICATION_UNCERTAIN.search(before):
                continue
            new = code[:-1] + (closed if code[-1] == "A" else open_)
            if _valid_code(new):
                return new
    for m in _HEALING.finditer(text):
        if not _HEALING_NEG.search(text[:m.start()]) and not re.search(r"\bdelayed\s*$", text[:m.start()], re.IGNORECASE):
            if not _fracture_known(doc):
                return code  # a healing fracture found for the first time (skeletal survey) is an initial encounter
            return code[:-1] + ("D" if code[-1] == "A" else "E")
    return code


# the indication of a follow-up of a known fracture ("f/u distal radius fx", "fracture 3 weeks ago, in cast")
_KNOWN_FRACTURE_RE = re.compile(r"\b(?:follow[- ]?up|f/u|known|healing|interval|recheck|re-?check|prior|previous|"
                                r"s/p|status post|post[- ]?(?:reduction|op|operative|cast)|in (?:a )?(?:cast|splint|boot)|"
                                r"cast|splint|(?:weeks?|wks?|days?|months?) ago|(?:weeks?|wks?) (?:out|post)|"
                                r"(?:weeks?|wks?) after|treated|immobiliz\w*|assess (?:for )?healing|check (?:healing|alignment))\b",
                                re.IGNORECASE)


def _fracture_known(doc: Doc) -> bool:
    """The indication presents a known fracture being followed (a subsequent encounter, 7th character D); a report
    without an indication section keeps the convention that a healing fracture is followed."""
    sents = list(doc.sents) if doc.has_annotation("SENT_START") else [doc[:]]
    ind = [x.text for x in sents if section_at(doc, x.start_char) in INDICATION_SECTIONS]
    if not ind:
        return True
    return bool(_KNOWN_FRACTURE_RE.search(" ".join(ind)))


def _concept_words(c: Concept) -> set:
    return {w for t in (c.term, *c.synonyms) for w in norm(t).split()}


def _exam_words(doc: Doc) -> set:
    out = set()
    sents = doc.sents if doc.has_annotation("SENT_START") else [doc[:]]
    for s in sents:
        if section_at(doc, s.start_char) in EXAM_SECTIONS:
            out.update(spec.words(s.text))
    out |= {"breast", "breasts"} if any(w.startswith("mammo") for w in out) else set()
    return {spec.stem(w) for w in out}


def _exam_side_applies(span: Span, words) -> bool:
    """Whether the side of a one-sided exam may be given to a finding with no side of its own: always in
    the body of the report; in the indication only for a finding of the examined part (a right knee exam's
    "knee pain", not the history of an ovarian cancer before a left thoracentesis)."""
    sent = span.sent if span.doc.has_annotation("SENT_START") else span.doc[:]
    if _FAMILY.search(sent.text):
        return False
    if section_at(span.doc, span.start_char) not in INDICATION_SECTIONS:
        return True
    # content words only ("carcinoma of ovary" shares no more than "of" with "imaging of the lower extremity")
    return bool({spec.stem(w) for w in words} & _exam_words(span.doc) - spec.IGNORE)


def _exam_sides(doc: Doc) -> set:
    """Sides named by LATERALITY spans in the exam/technique sections; empty when the exam is two-sided."""
    sides = set()
    for e in doc.ents:
        # (a side word inside the exam's ANATOMY span counts too: "US RIGHT THIGH SOFT TISSUE")
        if e.label_ in ("LATERALITY", "ANATOMY") and section_at(doc, e.start_char) in EXAM_SECTIONS:
            for w in norm(e.text).split():
                if w in LAT_WORDS:
                    sides.add(LAT_WORDS[w])
    return sides if len(sides) == 1 else set()


# a paragraph header of at most four words ending in ':' or ',' ("RIGHT HIP:", "On the left,")
_SIDE_HEADER = re.compile(r"[ \t]*((?:[A-Za-z/-]+[ \t]+){0,3}[A-Za-z/-]+)[ \t]*[:,]")


def _line_header(span: Span, rx: re.Pattern = _SIDE_HEADER):
    """The match of ``rx`` at the start of the span's line, before the span ("Right kidney: ... simple cyst")."""
    doc = span.doc
    return rx.match(doc.text, doc.text.rfind("\n", 0, span.start_char) + 1, span.start_char)


_SIDE_LABEL = re.compile(r"\b(right|left|rt|lt)[ \t]*(?:side)?[ \t]*:", re.IGNORECASE)
# a finding of another person (family history) takes no side from the exam
_FAMILY = re.compile(r"\b(?:mother|father|sister|brother|aunt|uncle|grandmother|grandfather|daughter|son|cousin|niece|"
                     r"nephew|maternal|paternal|sibling|family history|fh|fhx)\b", re.IGNORECASE)


def _valid_code(code: str) -> bool:
    try:
        return bool(spec._icd().is_valid(code))
    except (KeyError, ValueError, TypeError, ImportError, OSError):
        return False


def _token_distance(i: int, span) -> int:
    """Tokens between position ``i`` and a span; a word before the span counts one less (modifiers
    precede their noun: "left pleural effusion")."""
    if i < span.start:
        return span.start - i - 1
    if i >= span.end:
        return i - span.end + 1
    return 0


def _nearer_other(i: int, span, others) -> bool:
    d = _token_distance(i, span)
    return any(_token_distance(i, o) < d for o in others)


def _paragraph_side(span: Span) -> str | None:
    """The side leading the span's line ("RIGHT HIP: ... Small joint effusion."), else the last side label of the
    line before the span ("Right: ... plaque. Left: ... plaque"); None when there is none or several."""
    doc = span.doc
    line_start = doc.text.rfind("\n", 0, span.start_char) + 1
    m = _line_header(span)
    lead = m.group(1) if m else ""
    found = spec.side_words(spec.words(lead), spec.words(lead, keep_case=True))
    if len(found) != 1:
        labels = _SIDE_LABEL.findall(doc.text, line_start, span.start_char)
        found = spec.side_words(spec.words(labels[-1])) if labels else set()
    return next(iter(found)) if len(found) == 1 else None


# a diagnosis that names what an earlier finding of its sentence is ("right renal mass, consistent with renal cell
# carcinoma", "left adrenal nodule, likely an adenoma"): the earlier finding's side is its side
_RESTATES = re.compile(r"^[\s,;:(-]*(?:(?:which|that)\s+(?:is|are)\s+)?(?:most\s+)?(?:consistent with|compatible with|"
                       r"in keeping with|diagnostic of|characteristic of|typical of|representing|reflecting|"
                       r"likely|probably|most likely|presumably|due to|from)\s+(?:(?:an?|the)\s+)?"
                       r"(?:[\w-]+\s+){0,2}$", re.IGNORECASE)


def _restated_side(span: Span, others) -> str | None:
    """The side of the finding that the span restates as a diagnosis (``_RESTATES``): the one side word
    just before (or in) the nearest FINDING before the span in its sentence."""
    doc = span.doc
    before = [o for o in others if o.end <= span.start]
    if not before:
        return None
    prev = max(before, key=lambda o: o.end)
    if not _RESTATES.match(doc.text[prev.end_char:span.start_char]):
        return None
    near = list(doc[max(prev.sent.start if doc.has_annotation("SENT_START") else 0, prev.start - 3):prev.end])
    found = spec.side_words([spec.words(t.text)[0] if spec.words(t.text) else "" for t in near], [t.text for t in near])
    return next(iter(found)) if len(found) == 1 and "bilateral" not in found else None


def span_context(span: Span, ents=None) -> spec.Context:
    """Specificity context of a FINDING span: words within 8 tokens in its sentence, ANATOMY/LATERALITY
    entities of the sentence, the exam title's anatomy, clock positions, and the side (next to the
    span, else the one side named in the sentence, else the side of a one-sided exam)."""
    doc = span.doc
    ents = list(doc.ents) if ents is None else ents
    sent = span.sent if doc.has_annotation("SENT_START") else doc[:]
    lo, hi = max(sent.start, span.start - 8), min(sent.end, span.end + 8)
    parts = [doc[lo:hi].text]
    exam = []
    for e in ents:
        if e.label_ not in ("ANATOMY", "LATERALITY"):
            continue
        if sent.start <= e.start and e.end <= sent.end:
            parts.append(e.text)
        if section_at(doc, e.start_char) in EXAM_SECTIONS and e.label_ == "ANATOMY":
            exam.append(e.text)
    wlo, whi = max(sent.start, span.start - 5), min(sent.end, span.end + 3)
    toks = list(doc[wlo:whi])
    found = spec.side_words([spec.words(t.text)[0] if spec.words(t.text) else "" for t in toks], [t.text for t in toks])
    if {"left", "right"} <= found and "bilateral" not in found:
        # two findings of two sides in one clause ("right heel pain and left foot pain"): the side written
        # just before the span (or in it) is its own
        near = list(doc[max(sent.start, span.start - 2):span.end])
        own = spec.side_words([spec.words(t.text)[0] if spec.words(t.text) else "" for t in near], [t.text for t in near])
        if len(own) == 1:
            found = own
    side = spec.resolve_side(found)
    if side is None:
        # a side word of the sentence, unless it belongs to another finding of the sentence (the finding
        # nearest to it: "ovarian carcinoma ... with a recurrent left pleural effusion" -> the effusion's)
        others = [e for e in ents if e.label_ == "FINDING" and sent.start <= e.start and e.end <= sent.end
                  and (e.start, e.end) != (span.start, span.end)]
        stoks = [t for t in sent if not _nearer_other(t.i, span, others)]
        found = spec.side_words([spec.words(t.text)[0] if spec.words(t.text) else "" for t in stoks],
                                [t.text for t in stoks])
        for e in ents:
            if (e.label_ == "LATERALITY" and sent.start <= e.start and e.end <= sent.end
                    and not _nearer_other(e.start, span, others)):
                found |= spec.side_words(spec.words(e.text))
        if len(found) == 1:
            side = next(iter(found))
        elif not found:
            side = _restated_side(span, others)
    if side is None:
        side = _paragraph_side(span)
    if side is None and _exam_side_applies(span, spec.words(span.text) + (
            list(spec.title_tokens(span._.icd10cm)[0]) if span._.icd10cm and _valid_code(span._.icd10cm) else [])):
        ex = _exam_sides(doc)
        if len(ex) == 1:
            side = next(iter(ex))
    return spec.build_context(" ".join(parts), side=side, sentence_text=sent.text, exam_text=" ".join(exam))


@lru_cache(maxsize=16)
def _text_document_tokens(text: str) -> frozenset:
    return spec.document_tokens(text)


def _document_tokens(doc: Doc) -> frozenset:
    """The words the report documents (spec.document_tokens of its text)."""
    return _text_document_tokens(doc.text)


def _bare_head(key: str, c: Concept) -> bool:
    """A one-word span ("edema", "atrophy", "swelling") that reaches a concept only as the head of its
    longer term ("pulmonary edema", "cerebral atrophy"): the organ must come from the context."""
    words = key.split()
    return len(words) == 1 and len(norm(c.term).split()) > 1 and words[0] not in norm(c.term).split()[:-1]


def _names_head(c: Concept, head: str) -> bool:
    last = head.split()[-1] if head.split() else ""
    stems = {last, last.removesuffix("s"), last.removesuffix("es")}
    return any(w in stems for s in (c.term, *c.synonyms) for w in norm(s).split())


# measurement units the tagger can mistake for abbreviations ("mCi" is not MCI)
UNIT_TOKENS = frozenset({"mci", "msv", "mgy", "mbq", "cgy", "gy", "ml", "cc"})
# a one-word span ("elevated", "obstruction", "thickening") is coded by the ICD-10-CM title search only when
# the title says no more than the word (score 1.0: "hemorrhage" -> R58); a partial match adds an organ or a
# condition the report did not name ("obstruction" -> K22.2 esophageal obstruction)
SINGLE_WORD_MIN_SEARCH_SCORE = 1.0
# codes the ICD-10-CM title search must never give a FINDING span: external causes (V00-Y99: the activity code
# Y93.9 for "increased activity", a place or status code) come only from the lexicon's external-cause concepts,
# and a drug's poisoning / adverse-effect / underdosing code (T36-T50) or a toxic effect (T51-T65) is not what a
# report's drug name means ("oral contraceptives" is long-term use, Z79.3, not T38.4X6A)
FALLBACK_EXCLUDED = re.compile(r"^(?:[VWXY]|T3[6-9]|T4\d|T5\d|T6[0-5])")
FALLBACK_SEARCH_LIMIT = 10


def fallback_code(hits, min_score: float) -> str | None:
    """The best-ranked ICD-10-CM search hit (code, score) that scores ``min_score`` or more and is not a code a
    finding cannot have (FALLBACK_EXCLUDED), else None."""
    for code, score in hits:
        if score < min_score:
            return None
        if not FALLBACK_EXCLUDED.match(code):
            return code
    return None


SCOPES = ("window", "sentence", "exam", "procedure", "document")
WINDOW = 6  # tokens on each side of the span for the "window" scope


@cache
def _cue_pattern(cues: tuple[str, ...]) -> re.Pattern | None:
    cues = tuple(c for c in (norm(c) for c in cues) if c)
    if not cues:
        return None
    alt = "|".join(re.escape(c).replace(r"\ ", r"[\s-]+") for c in sorted(cues, key=len, reverse=True))
    return re.compile(rf"(?<![a-z0-9])(?:{alt})(?![a-z0-9])")


@cache
def context_rules() -> dict[str, tuple[tuple, tuple]]:
    """concept id -> (gates, context codes) from the ``context`` and ``context_codes`` fields of
    findings.jsonl (see resources/lexicons/README.md).

    A gate ``{"forms": [...], "scope": ..., "forbid": [...], "require": [...]}`` leaves a span written as one
    of ``forms`` (all surface forms when absent) uncoded when a ``forbid`` cue is in its scope or no
    ``require`` cue is ("CAD" in a mammogram is computer-aided detection); with ``"specialize": true`` a
    more specific concept named by nearby words is still taken ("scarring" + "kidney"). A context code
    ``{"code": ..., "scope": ..., "any": [...]}`` replaces the concept's code when a cue is in its scope
    (a pneumothorax in a biopsy report is J95.811); with ``"skip_negated": true`` not for a mention negated
    in its own clause ("no pneumothorax" in a trauma report stays J93.9). Scopes: the span's ``sentence``,
    the ``document``, the texts of its ``procedure`` (PROCEDURE) entities, the sentences of its
    ``exam``/technique sections, or the span and ``window`` (default ``WINDOW``) tokens on each side
    (``window``, within the sentence)."""
    out = {}
    try:
        path = resource_path("lexicons", "findings.jsonl")
    except ResourceError:
        return {}
    for _, r in iter_jsonl(path):
        gates, codes = [], []
        for g in r.get("context") or ():
            if g.get("scope", "sentence") not in SCOPES:
                raise ValueError(f"findings.jsonl {r['id']}: unknown context scope {g.get('scope')!r}")
            gates.append((frozenset(norm(f) for f in g.get("forms") or ()),
                          (g.get("scope", "sentence"), int(g.get("window", WINDOW))),
                          _cue_pattern(tuple(g.get("forbid") or ())), _cue_pattern(tuple(g.get("require") or ())),
                          bool(g.get("specialize"))))
        for c in r.get("context_codes") or ():
            if c.get("scope", "sentence") not in SCOPES or not c.get("code"):
                raise ValueError(f"findings.jsonl {r['id']}: bad context code {c}")
            extra = []
            for a in c.get("and") or ():
                if a.get("scope", "sentence") not in SCOPES or not a.get("any"):
                    raise ValueError(f"findings.jsonl {r['id']}: bad 'and' condition {a}")
                extra.append(((a.get("scope", "sentence"), int(a.get("window", WINDOW))), _cue_pattern(tuple(a["any"]))))
            codes.append((c["code"], (c.get("scope", "sentence"), int(c.get("window", WINDOW))),
                          _cue_pattern(tuple(c.get("any") or ())), bool(c.get("skip_negated")), tuple(extra)))
        if gates or codes:
            out[r["id"]] = (tuple(gates), tuple(codes))
    return out


@cache
def _concepts_by_id() -> dict[str, Concept]:
    return {c.id: c for c in findings()}


def _scope_text(span: Span, scope: tuple[str, int]) -> str:
    scope, window = scope
    doc = span.doc
    if scope == "document":
        return doc.text.lower()
    if scope == "procedure":
        return " | ".join(e.text.lower() for e in doc.ents if e.label_ == "PROCEDURE")
    if scope == "exam":
        sents = doc.sents if doc.has_annotation("SENT_START") else [doc[:]]
        return " | ".join(s.text.lower() for s in sents if section_at(doc, s.start_char) in EXAM_SECTIONS)
    sent = span.sent if doc.has_annotation("SENT_START") else doc[:]
    # the organ header that opens the span's line ('GB: multiple mobile shadowing stones') belongs to its context
    m = _line_header(span, _LINE_HEADER)
    header = m.group(1).lower() + ": " if m else ""
    if scope == "window":
        return header + doc[max(sent.start, span.start - window):min(sent.end, span.end + window)].text.lower()
    return header + sent.text.lower()


_LINE_HEADER = re.compile(r"[ \t]*([A-Za-z][A-Za-z /&-]{1,30}):")


def gated(span: Span, concept: Concept) -> str | None:
    """Whether a context gate of the concept leaves this span uncoded (ambiguous abbreviation or word):
    None (not gated), "drop" (no code) or "specialize" (no code unless nearby words name a more specific
    concept: "scarring" next to "kidney" -> renal scarring)."""
    rules = context_rules().get(concept.id)
    if not rules:
        return None
    key = norm(span.text)
    for forms, scope, forbid, require, specialize in rules[0]:
        if forms and not any(key == f or key.endswith(" " + f) for f in forms):
            continue
        text = _scope_text(span, scope)
        if (forbid is not None and forbid.search(text)) or (require is not None and not require.search(text)):
            return "specialize" if specialize else "drop"
    return None


def context_code(span: Span, code: str | None, remembered: bool = False) -> str | None:
    """The concept's context code whose cue the span's scope names (first rule wins), else ``code``.
    ``remembered``: the code was learned from the training reports (then the rules of the span text's own
    lexicon concept apply to it when it is of that concept's category)."""
    if not code:
        return code
    c = _concepts_by_id().get(span._.concept) if span._.concept else None
    if c is None:
        c = concepts_by_code().get(code)
    rules = context_rules().get(c.id) if c is not None else None
    if not rules and remembered:
        # a code remembered from the training reports under another concept ("calculus" -> N20.0, a kidney
        # stone): the rules of the span's own lexicon concept
        own = lookup_concept(span.text)
        if own is not None and own is not c and context_rules().get(own.id):
            c, rules = own, context_rules()[own.id]
    # only the concept's own default codes, or a code of their category remembered from the training reports
    # ("calculus" remembered as a kidney stone), are replaced: this report's context wins over the prior
    if not rules:
        return code
    defaults = {c.icd10cm, *(c.laterality or {}).values(), *(c.acuity or {}).values()}
    if (code not in defaults and code[:3] not in {d[:3] for d in defaults if d}):
        return code
    negated = None
    for new, scope, cues, skip_negated, extra in rules[1]:
        if skip_negated:
            negated = _locally_negated(span) if negated is None else negated
            if negated:
                continue
        if cues is not None and _affirmed_cue(cues, _scope_text(span, scope)) and all(
                _affirmed_cue(p, _scope_text(span, sc)) for sc, p in extra):
            return new
    return code


# a negation just before a context cue ("without visible stones", "no obstructing stone"): the cue's context is absent
_CUE_NEGATED = re.compile(r"\b(?:no|not|without|negative for|absent|free of)\s+(?:(?:[\w-]+)\s+){0,2}$", re.IGNORECASE)


def _affirmed_cue(cues: re.Pattern, text: str) -> bool:
    """A cue of a context rule found in ``text`` and not negated by the words just before it (a cue that is
    itself negative, "no prior", is taken as written)."""
    for m in cues.finditer(text):
        if re.match(r"(?:no|not|without|non)\b", m.group(0), re.IGNORECASE):
            return True
        if not _CUE_NEGATED.search(text[max(0, m.start() - 40):m.start()]):
            return True
    return False


def context_free_code(text: str, code: str) -> str:
    """The code a span text takes without its report's context: a gold ``code`` that is one of the context
    codes of the text's lexicon concept (a hemiparesis after a past stroke, I69.35-; liver metastases of a
    carcinoid, C7B.02) becomes the concept's default code, since the context rule gives the context code
    where its cue is present. Other codes are returned unchanged."""
    concept = lookup_concept(text)
    if concept is None or not concept.icd10cm or code[:5] == concept.icd10cm[:5]:
        return code
    rules = context_rules().get(concept.id)
    if rules and any(code[:5] == new[:5] for new, *_ in rules[1]):
        return concept.icd10cm
    return code


def harmonize_context_codes(findings) -> None:
    """A report documents a detail once ("CKD stage 4" in the history, "known CKD" in the findings): a
    mention still on its concept's default code takes the one context code that other mentions of the
    same concept got (not when they got several different ones)."""
    concepts = {e._.concept for e in findings if e._.concept and e._.icd10cm}
    for cid in concepts:
        rules = context_rules().get(cid)
        c = _concepts_by_id().get(cid)
        if not rules or not rules[1] or c is None:
            continue
        defaults = {c.icd10cm, *(c.laterality or {}).values(), *(c.acuity or {}).values()}
        rule_codes = {r[0] for r in rules[1] if not r[3] and not r[4]}   # not for skip_negated rules (negation is per mention)
        # mentions of the concept, and spans coded with one of its context codes ("CKD stage 4" remembered)
        found = {e._.icd10cm for e in findings if e._.icd10cm in rule_codes and e._.concept in (cid, None)}
        if len(found) == 1:
            code = next(iter(found))
            for e in findings:
                if e._.concept == cid and e._.icd10cm in defaults:
                    e._.icd10cm = code


_NEG_BEFORE = re.compile(r"\b(?:no|not|without|negative for|free of|absence of|absent)\b[^.;:]*$", re.IGNORECASE)
_NEG_AFTER = re.compile(r"^[^.;:]{0,20}?\b(?:is|are|was|were|has|have)?\s*(?:not|absent|resolved)\b", re.IGNORECASE)


LEFT_MODIFIER_TERMS = True


def _left_terms(span: Span, stop=frozenset()):
    """(n, lexicon concept or None) for the span preceded by its n = 1..3 nearest words in the sentence (alphabetic
    words, not in ``stop``), nearest first."""
    doc = span.doc
    sent = span.sent if doc.has_annotation("SENT_START") else doc[:]
    head = norm(span.text)
    left: list[str] = []
    for t in list(doc[max(sent.start, span.start - 3):span.start])[::-1]:
        if not t.is_alpha or t.lower_ in stop:
            break
        left.insert(0, t.lower_)
        yield len(left), finding_index().get(norm(" ".join(left) + " " + head))


def _left_term(span: Span, concept) -> "Concept | None":
    """The lexicon concept named by the (up to three) words just before ``span`` together with it, when its code is of
    the same ICD-10-CM category as ``concept``'s and differs from it."""
    best = None
    for _n, c in _left_terms(span, LAT_WORDS):
        if c is not None and c is not concept and c.icd10cm and concept.icd10cm and \
                c.icd10cm[:3] == concept.icd10cm[:3] and c.icd10cm != concept.icd10cm:
            best = c  # the longest term wins ("descending thoracic" + "aortic aneurysm")
    return best


def _locally_negated(span: Span) -> bool:
    """A negation cue in the span's clause ("no pneumothorax", "pneumothorax is not seen")."""
    doc = span.doc
    sent = span.sent if doc.has_annotation("SENT_START") else doc[:]
    before = doc.text[sent.start_char:span.start_char]
    after = doc.text[span.end_char:sent.end_char]
    return bool(_NEG_BEFORE.search(before) or _NEG_AFTER.search(after))


class Normalizer:
    def __init__(self, nlp: Language, name: str = "radcoder_normalizer", *, filter_context: bool = True,
                 fallback_search: bool = True, min_search_score: float = 0.6, refine_codes: bool = True):
        self.name = name
        self.filter_context = filter_context
        self.fallback_search = fallback_search
        self.min_search_score = min_search_score
        self.refine_codes = refine_codes
        self.memory: dict[str, str] = {}   # normalized span text -> ICD-10-CM code learned from training data
        self._remembered = False           # whether the span being normalized took its code from the memory

    def learn(self, pairs) -> None:
        """Learn span-text -> code from annotated (text, code) pairs: a text's majority code, kept when it
        has at least 60% of that text's annotations."""
        from collections import Counter, defaultdict
        by_text: dict[str, Counter] = defaultdict(Counter)
        for text, code in pairs:
            if code:
                by_text[norm(text)][code] += 1
        self.memory = {}
        for text, counts in sorted(by_text.items()):
            code, n = counts.most_common(1)[0]
            if n / sum(counts.values()) >= 0.6:
                self.memory[text] = code

    def to_disk(self, path, *, exclude=()) -> None:
        import json
        from pathlib import Path
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        (path / "memory.json").write_text(json.dumps(self.memory, indent=0, sort_keys=True), encoding="utf-8")

    def from_disk(self, path, *, exclude=()) -> Normalizer:
        import json
        from pathlib import Path
        p = Path(path) / "memory.json"
        self.memory = json.loads(p.read_text(encoding="utf-8")) if p.exists() else {}
        return self

    def _filter(self, doc: Doc) -> None:
        ents = list(doc.ents)
        anchor_sents = set()
        for e in ents:
            if e.label_ in ANCHOR_LABELS:
                anchor_sents.add(e.sent.start if doc.has_annotation("SENT_START") else 0)

        def in_context(e: Span) -> bool:
            if section_at(doc, e.start_char) in EXAM_SECTIONS:
                return True
            s = e.sent.start if doc.has_annotation("SENT_START") else 0
            return s in anchor_sents

        def trusted(e: Span) -> bool:
            return e.label_ in NER_TRUSTED_LABELS and not e.ent_id_

        kept = [e for e in ents if e.label_ not in CONTEXT_LABELS or e.label_ == "LATERALITY" or trusted(e)
                or in_context(e)]
        anat = [e for e in kept if e.label_ in ("ANATOMY", "PROCEDURE")]
        final = []
        for e in kept:
            if e.label_ == "LATERALITY" and not trusted(e):
                near = any((0 <= a.start - e.end <= 2) or (0 <= e.start - a.end <= 3) for a in anat)
                if not near:
                    continue
            final.append(e)
        doc.ents = final

    def normalize(self, span: Span, ents=None) -> None:
        """Set ``span._.concept`` and ``span._.icd10cm``: learned memory, then the lexicon (made more
        specific with nearby anatomy words), then a search over ICD-10-CM titles; the code is then made
        as specific as the span's context documents (icd_specificity.refine). ``ents`` are the doc's
        entities before the context filter (defaults to doc.ents)."""
        self._remembered = False
        self._normalize(span)
        if self._remembered and self.refine_codes and span._.icd10cm:
            # a code learned from another report keeps its concept, not that report's side, encounter or
            # 'with ...' details: those this report documents are added back below (refine, healing_code)
            try:
                span._.icd10cm = self._generalize(span, ents)
            except (ImportError, OSError):  # the ICD-10-CM tables are optional at run time
                pass
        # the context code first (a concept's default code made specific by its context: a stone at the UVJ
        # is ureteral, a DVT of the brachial veins is of the upper extremity), then the specificity step adds
        # the side, site or 7th character the context documents to whichever code was chosen
        span._.icd10cm = context_code(span, span._.icd10cm, remembered=self._remembered)
        if self.refine_codes and span._.icd10cm:
            try:
                self._refine(span, ents)
            except (ImportError, OSError):  # the ICD-10-CM tables are optional at run time
                pass
        span._.icd10cm = healing_code(span, span._.icd10cm)

    @staticmethod
    def _generalize(span: Span, ents) -> str | None:
        """The remembered code of ``span`` made general (spec.generalize): the side of this span's context,
        'with ...' clauses the report's words or the span's own words document (kept for a negated mention)."""
        code = span._.icd10cm
        ctx = span_context(span, ents)
        exam_side = False
        if ctx.side is None and code[:1] in ("S", "M"):
            # an injury or musculoskeletal condition given as the reason for a one-sided exam ("twisting
            # injury" before a right knee MRI) is of the examined side
            sent = span.sent if span.doc.has_annotation("SENT_START") else span.doc[:]
            ex = _exam_sides(span.doc)
            if len(ex) == 1 and not _FAMILY.search(sent.text):
                ctx.side = next(iter(ex))
                ctx.tokens[ctx.side] = spec.W_LITERAL
                exam_side = True
        own = spec.words(span.text)
        documented = _document_tokens(span.doc) | {spec.stem(w) for w in own} | {
            t for _, _, toks, _ in spec.phrase_hits(own) for t in toks}
        code = spec.generalize(code, ctx, documented, keep_clauses=_locally_negated(span))
        # the exam's side is not in the span's own context (refined below): add it here
        return spec.refine(code, ctx) if exam_side else code

    def _refine(self, span: Span, ents) -> None:
        if MULTI_SITE_RE.match(span.text):
            return  # 'polyarthralgia' names many joints: the exam's site and side are not its own
        ctx = span_context(span, ents)
        code = spec.refine(span._.icd10cm, ctx)
        base = self._lexicon_code(span)
        if base and code == span._.icd10cm and base != code and base[:3] == code[:3]:
            # a remembered code of the lexicon code's category whose own words the context does not
            # support: a code the context documents wins
            alt = spec.refine(base, ctx)
            if alt not in (base, code) and spec.more_documented(alt, code, ctx):
                code = alt
        span._.icd10cm = code

    def _lexicon_code(self, span: Span) -> str | None:
        c = lookup_concept(span.text)
        return choose_code(c, span) if c is not None else None

    def _normalize(self, span: Span) -> None:
        key = norm(span.text)
        if key in UNIT_TOKENS and not span.text.isupper():
            span._.concept = None
            span._.icd10cm = None
            return
        concept = lookup_concept(span.text)
        gate = gated(span, concept) if concept is not None else None
        if gate is not None:
            specific = self._specialize(span) if gate == "specialize" else None
            span._.concept = specific.id if specific is not None else None
            span._.icd10cm = choose_code(specific, span) if specific is not None else None
            return
        specific = None
        # the span is itself a surface form of a generic lexicon concept (not "mesenteric mass" -> "mass")
        base_generic = (concept if concept is not None and finding_index().get(key) is concept
                        and (concept.id in GENERIC_CONCEPTS or _bare_head(key, concept)) else None)
        if concept is None or concept.id in GENERIC_CONCEPTS or _bare_head(key, concept):
            specific = self._specialize(span)
            if specific is not None:
                concept = specific
        elif LEFT_MODIFIER_TERMS:
            # a code-changing modifier the span left out, written just before it, that makes a lexicon term of the
            # same category ("ascending" + "thoracic aortic aneurysm" -> I71.21): the code uses it (§7.1, §7.9)
            wider = _left_term(span, concept)
            if wider is not None:
                concept = wider
        # a generic one-word span made specific by its context ("nodule" next to "thyroid") beats the
        # remembered code of the bare word, unless that code is of the same category (learned detail)
        remembered = self.memory.get(key)
        if (remembered is not None and specific is not None and _names_no_site(key)
                and (specific.icd10cm or "")[:3] != remembered[:3]):
            # also a span of a generic head and its descriptive modifiers only ("nondisplaced transverse
            # fracture"): the training reports' site is not this report's
            remembered = None
        # a generic word ("masses", "edema", "degenerative changes") remembered with the organ of the
        # training reports (breast mass, cerebral edema, lumbar spondylosis) is coded from this report's
        # context instead: the lexicon's generic concept, made specific by nearby words when they name it
        # ("degenerative changes" near "spine" is spondylosis, not the lumbar code remembered from training)
        if remembered is not None and base_generic is not None:
            if specific is not None and remembered != choose_code(specific, span):
                remembered = None
            elif specific is None and (base_generic.icd10cm or "")[:3] != remembered[:3]:
                remembered = None
        if remembered is not None:
            self._remembered = True
            code = remembered
            # the span's own lexicon concept when it has the remembered code ('disc protrusion' M51.9 is a disc
            # herniation, not the first concept of M51.9, degenerative disc disease)
            c = concept if concept is not None and concept.icd10cm == code else concepts_by_code().get(code)
            if c is not None and (c.laterality or c.acuity):
                code = choose_code(c, span) or code
            span._.concept = c.id if c is not None else None
            span._.icd10cm = code
            return
        if concept is not None:
            span._.concept = concept.id
            span._.icd10cm = choose_code(concept, span)
            return
        span._.concept = None
        span._.icd10cm = None
        if self.fallback_search and not GRADE_ONLY_RE.match(key):
            try:
                from ..codesets.icd10cm import load_icd10cm
                hits = load_icd10cm().search(span.text, limit=FALLBACK_SEARCH_LIMIT)
            except (ImportError, OSError, ValueError):  # the search index is optional at run time
                hits = []
            min_score = self.min_search_score if len(key.split()) > 1 else SINGLE_WORD_MIN_SEARCH_SCORE
            code = fallback_code(hits, min_score)
            if code is not None:
                span._.icd10cm = code

    def _specialize(self, span: Span) -> Concept | None:
        """"fracture" + a nearby "rib" -> the "rib fracture" concept; also the exam's anatomy words."""
        doc = span.doc
        sent = span.sent if doc.has_annotation("SENT_START") else doc[:]
        head = norm(span.text)
        # the words just before the span with it, as a whole term ("lung cancer" + "screening")
        for n, c in _left_terms(span):
            if c is not None and n > 1:
                return c
        words = []
        lo, hi = max(sent.start, span.start - 6), min(sent.end, span.end + 6)
        prep = next((t.i for t in doc[span.end:min(sent.end, span.end + 3)] if t.lower_ in POSTNOMINAL_PREPS), None)
        if prep is not None and not any(t.is_punct for t in doc[span.end:prep]):
            # a post-nominal "of" phrase names the site however long it is ("fracture of the midshaft of
            # the left clavicle"), up to the clause's end
            hi = span.end
            while hi < min(sent.end, span.end + 12) and not (doc[hi].is_punct and doc[hi].text not in "-/"):
                hi += 1
        # a multi-word site after the span ("fracture of the distal tibial plafond" -> tibial plafond fracture)
        # a part of a bone or organ named before it ("the neck of the fifth metacarpal", "lower pole of the
        # spleen") is not the site itself
        right = [t.lower_ for t in doc[span.end:hi] if t.is_alpha and not t.is_stop and t.lower_ not in LAT_WORDS
                 and not _part_of(t)]
        last = head.split()[-1] if head.split() else ""
        if len(head.split()) > 1:
            # the whole span after the site first ("greenstick fracture" of the radial shaft -> radial
            # greenstick fracture, not any radial shaft fracture)
            for n in (3, 2, 1):
                for i in range(len(right) - n + 1):
                    c = finding_index().get(" ".join(right[i:i + n]) + " " + head)
                    if c is not None and _names_head(c, head):
                        return c
        for n in (3, 2):
            for i in range(len(right) - n + 1):
                c = finding_index().get(" ".join(right[i:i + n]) + " " + last)
                if c is not None and _names_head(c, head):
                    return c
        # the span's own modifiers first ("hepatic lobe abscess" -> hepatic abscess)
        inner = [t for t in span[:-1] if t.is_alpha and not t.is_stop]
        for t in inner[::-1] + list(doc[lo:span.start])[::-1] + list(doc[span.end:hi]):
            if (t.is_alpha and not t.is_stop and t.lower_ not in SPECIALIZE_SKIP and t.lower_ not in LAT_WORDS
                    and not _part_of(t)):
                words.append(t.lower_)
                # "ribs" -> "rib fracture"
                w = t.lower_
                if len(w) > 3 and w.endswith("s") and not w.endswith(("ss", "us", "is")):
                    words.append(w[:-1])
        # the paragraph's header ("Right kidney: ... a simple cyst in the lower pole")
        m = _line_header(span)
        if m and not (set(norm(m.group(1)).split()) & SECTION_HEADER_WORDS):
            words.extend(w for w in norm(m.group(1)).split() if w.isalpha() and w not in LAT_WORDS
                         and w not in SPECIALIZE_SKIP and w not in words)
        n_local = len(words)
        for e in doc.ents:
            if e.label_ == "ANATOMY":
                last = norm(e.text).split()[-1:]
                words.extend(last)
                if section_at(doc, e.start_char) in EXAM_SECTIONS:
                    # the exam's anatomy in full ("CAROTID ARTERIES" -> carotid plaque)
                    words.extend(w for w in norm(e.text).split()[:-1] if w not in LAT_WORDS and w.isalpha())
                # "breasts" -> "breast masses", "knees" -> "degenerative changes of the knee"
                words.extend(w[:-1] for w in last if w.endswith("s") and not w.endswith("ss") and len(w) > 4)
        for e in doc.ents:  # the performed exam's modality ("screening" + mammogram)
            if e.label_ == "MODALITY" and section_at(doc, e.start_char) in EXAM_SECTIONS:
                words.extend(norm(e.text).split()[-1:])
        base = lookup_concept(head)
        # a span that is itself a multi-word term of its concept ("pulmonary nodule") is made specific by its own
        # sentence only, not by another organ the report names elsewhere ("... thyroid nodule", "thyroid US")
        own_term = (base is not None and len(head.split()) > 1 and finding_index().get(head) is base
                    and any(w in region_index() for w in head.split()[:-1]))
        local = {t.lower_ for t in doc[lo:hi]} | {t.lower_ for t in span}
        if base is not None and base.body_system == "respiratory" and (local & LUNG_LOBE_WORDS or (
                local & {"lobe", "lobes"} and local & {"upper", "middle", "lower"})):
            return None  # "nodule in the right lower lobe": the lung concept it already is, whatever else is named
        for k, w in enumerate(words):
            if own_term and k >= n_local:
                break
            if w in SITE_CONFIRM:
                # "lung"/"lobe" only confirm a lung concept ("mass at the R lung apex" -> lung mass, not the
                # exam's neck mass); they name no other concept ("hepatic lobe abscess")
                c = finding_index().get(f"{w} {head.split()[-1]}") if head.split() else None
                if c is not None and base is not None and c.id == base.id and k < n_local:
                    return None
                continue
            # "{head} {w}" ("screening mammogram") only as a whole term: its suffix is the other word
            for cand, fallback in ((f"{w} {head}", True), (f"{head} of {w}", True), (f"{head} of the {w}", False),
                                   (f"{w} {head.split()[-1]}", True), (f"{head} {w}", False)):
                c = finding_index().get(cand)
                if c is None and fallback:
                    c = lookup_concept(cand)
                    # a suffix match must still be about the span's head word ("fracture of rib" -> rib
                    # fracture, not "resection of liposarcoma" -> liposarcoma)
                    if c is not None and not _names_head(c, head):
                        c = None
                if c is not None and c is not base and (base is None or c.id != base.id):
                    return c
        return None

    def __call__(self, doc: Doc) -> Doc:
        ents = list(doc.ents)
        if self.filter_context:
            self._filter(doc)
        findings = [e for e in doc.ents if e.label_ == "FINDING"]
        for e in findings:
            self.normalize(e, ents)
        if self.refine_codes:
            self._harmonize(findings)
        harmonize_context_codes(findings)
        fracture_complications(findings)
        consciousness_axis(findings)
        gestational_weeks_axis(findings)
        radiculopathy_axis(findings)
        collection_anaphora(findings)
        ulcer_anaphora(findings)
        head_anaphora(findings)
        return doc

    @staticmethod
    def _harmonize(findings) -> None:
        try:
            Normalizer._harmonize_codes(findings)
        except (ImportError, OSError):  # the ICD-10-CM tables are optional at run time
            pass

    @staticmethod
    def _harmonize_codes(findings) -> None:
        """A report names one lesion several times ("right breast mass at 7 o'clock" ... "the breast
        mass"): an unspecified code takes the one more specific code of the same category found for
        another span of the report (not when several different ones are found)."""
        texts = [(e, spec.words(e.text)) for e in findings if e._.icd10cm]
        for e, ws in texts:
            a = e._.icd10cm
            # the other mention names the same thing: one span's words end the other's ("mass" ... "breast mass")
            better = {o._.icd10cm for o, ows in texts
                      if spec.specializes(o._.icd10cm, a) and ws and ows
                      and (ows[-len(ws):] == ws or ws[-len(ows):] == ows)}
            # keep the most specific: drop those that others specialize further
            better = {b for b in better if not any(spec.specializes(c, b) for c in better)}
            if len(better) == 1:
                e._.icd10cm = next(iter(better))
        # one fracture, one encounter: a mention of the fracture on the initial encounter's A/B takes the
        # delayed-healing/nonunion/malunion 7th character another mention of the same code documents
        # ("Jones fracture ..." / "Established nonunion of the Jones fracture" -> K for both)
        later = {}
        for e in findings:
            c = e._.icd10cm
            if c and c.startswith("S") and len(c.replace(".", "")) == 7 and c[-1] in "GHKMPQ":
                later.setdefault(c[:-1], set()).add(c)
        for e in findings:
            c = e._.icd10cm
            if c and c[-1] in "AB" and len(later.get(c[:-1], ())) == 1:
                new = next(iter(later[c[:-1]]))
                if (c[-1] == "A") == (new[-1] in "GKP"):
                    e._.icd10cm = new


@Language.factory("radcoder_normalizer", assigns=["span._.icd10cm", "span._.concept", "doc.ents"],
                  default_config={"filter_context": True, "fallback_search": True, "min_search_score": 0.6,
                                  "refine_codes": True})
def make_normalizer(nlp: Language, name: str, filter_context: bool, fallback_search: bool,
                    min_search_score: float, refine_codes: bool):
    register_extensions()
    term_maps()  # fail early on a broken lexicon
    return Normalizer(nlp, name, filter_context=filter_context, fallback_search=fallback_search,
                      min_search_score=min_search_score, refine_codes=refine_codes)
