"""Coding logic behind the ``radcoder_coder`` component (pure functions over frames and entities).

CPT/HCPCS: each exam frame is matched to the CPT attribute table (modality, region, contrast state,
views or completeness, laterality, subtype); modifiers follow the code's attributes and the billing
setting. ICD-10-CM follows the ICD-10-CM Official Guidelines, Section IV (outpatient):
confirmed diagnoses only, never negated/uncertain/hypothetical findings, symptoms integral to a
confirmed diagnosis dropped, normal study -> the indication, screening Z code first, history -> Z codes,
Excludes1 pairs never together, first-listed order.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Optional

from .cpt_coding import SCREENING_RE, modifiers_for, select_cpt  # noqa: F401  (re-exported)
from .layout import exam_title
from .lexicons import concepts_by_code
from .schema import DiagnosisCode, Evidence, Flag, ProcedureLine


# ---------------------------------------------------------------------------------------------- ICD-10-CM
@dataclass
class FindingMention:
    code: str | None
    assertion: str
    section: str | None
    start: int
    end: int
    text: str
    concept: str | None = None


@dataclass
class IcdDecision:
    code: str
    reason: str
    evidence: list = field(default_factory=list)
    score: float = 1.0


def _concept(code: str):
    return concepts_by_code().get(code)


SECTION_RANK = {"impression": 0, "findings": 1, "exam": 2, "technique": 3, "comparison": 4, "indication": 5, "other": 6, None: 7}
LEXICON_KINDS = ("screening", "status", "history", "encounter")
SYSTEM_SUPPRESSION = False
# encounter for screening (Z11-Z13) and antenatal screening (Z36): screening codes whatever the lexicon says
SCREENING_CATEGORIES = frozenset({"Z11", "Z12", "Z13", "Z36"})


def _by_id():
    from .lexicons import findings
    global _BY_ID
    if _BY_ID is None:
        _BY_ID = {c.id: c for c in findings()}
    return _BY_ID


_BY_ID = None
_CATEGORY_HISTORY: dict = {}


def _history_concept(m: "FindingMention"):
    """The lexicon concept that gives a historical/family mention its Z85-Z87 / Z80-Z84 code: the mention's own
    concept (its code may have been made more specific than the lexicon's), else the concept of its exact code,
    else the one history/family code that every concept of its 3-character category agrees on (C18.7 from a
    "sigmoid colon cancer" span -> Z85.038 like C18.9)."""
    c = _by_id().get(m.concept) if m.concept else None
    if c is not None and c.icd10cm and c.icd10cm[:3] == (m.code or "")[:3]:
        return c
    c = _concept(m.code)
    if c is not None:
        return c
    cat = m.code[:3]
    if cat not in _CATEGORY_HISTORY:
        from .lexicons import findings
        same = [x for x in findings() if x.icd10cm and x.icd10cm[:3] == cat]
        hist = {x.history_code for x in same if x.history_code}
        fam = {x.family_code for x in same if x.family_code}
        _CATEGORY_HISTORY[cat] = (replace(same[0], history_code=next(iter(hist)) if len(hist) == 1 else None,
                                          family_code=next(iter(fam)) if len(fam) == 1 else None)
                                  if same and (len(hist) == 1 or len(fam) == 1) else None)
    return _CATEGORY_HISTORY[cat]


def code_kind(code: str) -> str:
    """Coding role of an ICD-10-CM code: ``external`` (V00-Y99, optional in outpatient coding, never
    first-listed), ``symptom`` (chapter 18, R codes: signs, symptoms, abnormal findings), ``status``
    (Z codes; refined by the lexicon: screening, history, encounter) or ``diagnosis`` (everything else)."""
    c = _concept(code)
    if c is not None and c.kind in LEXICON_KINDS:
        return c.kind
    if code[:3] in SCREENING_CATEGORIES:
        return "screening"
    first = code[:1]
    if first in "VWXY":
        return "external"
    if first == "R":
        return "symptom"
    if first == "Z":
        return "status"
    return "diagnosis"


# lexicon kinds that are signs/symptoms/abnormal findings whatever their chapter (M25.561 knee pain, N64.4)
SYMPTOM_LIKE_KINDS = ("symptom", "sign", "finding")
# encounter codes the gold never lists for a diagnostic radiology report (follow-up visit, ruled-out observation);
# the full list (with catch-all statuses and unspecified-region injuries) is data: resources/rules/icd_selection.jsonl
UNCODED_ENCOUNTER = frozenset({"Z09", "Z03.89"})


@dataclass(frozen=True)
class SelectionRules:
    """Document-level selection rules loaded from ``resources/rules/icd_selection.jsonl``."""
    uncoded_exact: frozenset
    uncoded_prefixes: tuple
    generic: tuple          # ((code, ((lo, hi), ...)), ...)
    surveillance: tuple     # ((code, history_prefix, compiled cue), ...)
    explained_findings: frozenset = frozenset()  # lexicon concept ids of nonspecific imaging descriptors
    integral: tuple = ()        # ((diagnosis patterns, integral code patterns), ...)
    combine: tuple = ()         # ((code patterns, combination code, patterns of codes kept beside it), ...)
    not_explaining: tuple = ()  # patterns of diagnoses that do not explain the indication's symptoms
    code_first: tuple = ()      # ((manifestation patterns, etiology patterns), ...)
    gestation_with: tuple = ()  # patterns of pregnancy codes that take a Z3A weeks-of-gestation code
    status_site: tuple = ()     # ((status patterns, {site: exam words}, whole-body regex), ...)
    exam_system: tuple = ()     # ((body system, compiled exam-title regex), ...)
    family_range: tuple = ()    # ((code patterns, family-history code), ...)
    characterized: tuple = ()   # ((finding patterns, diagnosis patterns), ...)
    preprocedural: tuple = ()   # ((code patterns, compiled not-cue, ((compiled title regex, code), ...)), ...)
    injury_symptoms: tuple = ()  # ((symptom patterns, injury patterns that explain them), ...)
    sequence_first: tuple = ()   # code patterns sequenced before the other diagnoses when confirmed
    impression_coded: frozenset = frozenset()  # uncoded codes that are coded when the impression states them
    screening_targets: tuple = ()  # ((screening code patterns, patterns of the findings the screen looks for), ...)
    status_evaluated: tuple = ()   # ((status code patterns, compiled impression cue), ...)
    coded_beside: tuple = ()       # ((diagnosis patterns, sign/symptom patterns coded beside them), ...)
    reason_coded: frozenset = frozenset()  # uncoded codes that are coded when the indication or exam title names them

    def status_needs_impression(self, code: str):
        """The impression cue a status named only in the indication needs to be coded (§7.19: the exam evaluates
        it or the impression states it), or None when the status needs none."""
        for pats, cue in self.status_evaluated:
            if any(code_matches(code, p) for p in pats):
                return cue
        return None

    def screening_target(self, screening, code: str):
        """True/False when a screening code of ``screening`` has a target list (``code`` is / is not what the screen
        looks for); None when no rule covers the screening codes."""
        known = False
        for pats, targets in self.screening_targets:
            if any(code_matches(z, p) for z in screening for p in pats):
                known = True
                if any(code_matches(code, t) for t in targets):
                    return True
        return False if known else None

    def characterized_by(self, code: str, diagnoses) -> bool:
        """An indication finding (breast lump, adrenal nodule) that a selected diagnosis characterizes."""
        return any(any(code_matches(code, p) for p in pats) and
                   any(d != code and any(code_matches(d, q) for q in by) for d in diagnoses)
                   for pats, by in self.characterized)

    def injury_explains(self, code: str, injuries) -> bool:
        """Injuries explain a sign/symptom unless a data rule ``injury_explains`` names the symptom and none of
        the injuries is one of the rule's injuries."""
        for syms, by in self.injury_symptoms:
            if any(code_matches(code, p) for p in syms):
                return any(code_matches(i, p) for i in injuries for p in by)
        return True

    def is_uncoded(self, code: str, section: Optional[str] = None) -> bool:
        """A code the gold never lists (data rule ``uncoded``); one with ``"unless": "impression"`` is coded when
        the mention sits in the impression (§7.19: statuses the impression states), one with ``"unless":
        "indication"`` when the indication or the exam statement names it (the device the exam checks, §7.24)."""
        if section == "impression" and code in self.impression_coded:
            return False
        if section in REASON_SECTIONS and code in self.reason_coded:
            return False
        return code in self.uncoded_exact or any(code.startswith(p) for p in self.uncoded_prefixes)

    def combines(self, code: str, others) -> bool:
        """``code`` and other selected codes make up a combination code (data rule ``combine``): the sign is kept
        for the combination (disc displacement + radiculopathy -> disc disorder with radiculopathy)."""
        pool = set(others) | {code}
        return any(any(code_matches(code, p) for p in pats) and all(any(code_matches(k, p) for k in pool) for p in pats)
                   for pats, _, _ in self.combine)

    def is_generic(self, code: str) -> bool:
        return any(code_matches(code, g) if g.endswith("*") else code == g for g, _ in self.generic)

    def explains_symptoms(self, code: str) -> bool:
        return not any(code_matches(code, p) for p in self.not_explaining)

    def is_coded_beside(self, code: str, diagnoses) -> bool:
        """A sign/symptom coded in addition to a confirmed diagnosis that would otherwise explain it (data rule
        ``coded_beside``: §7.23.1 focal deficits beside an infarct or arterial occlusion)."""
        return any(any(code_matches(code, p) for p in pats) and
                   any(d != code and any(code_matches(d, q) for q in dx) for d in diagnoses)
                   for dx, pats in self.coded_beside)

    def integral_to(self, code: str, others) -> bool:
        """``code`` is routinely associated with (integral to) another selected code (data rule ``integral``)."""
        return any(any(code_matches(code, p) for p in pats) and
                   any(o != code and any(code_matches(o, d) for d in dx) for o in others)
                   for dx, pats in self.integral)


def code_matches(code: str, pattern: str) -> bool:
    """A code against a data-file pattern: a range "C00-C96" (inclusive, by prefix), a glob ("K80.*1", "R06.0*")
    or a prefix ("I50" covers I50.9; "K44.9" is that code)."""
    if "-" in pattern:
        return _in_range(code, tuple(pattern.split("-")))
    if "*" in pattern or "?" in pattern:
        from fnmatch import fnmatchcase
        return fnmatchcase(code, pattern)
    return code.startswith(pattern)


def _in_range(code: str, rng: tuple) -> bool:
    """``code`` within an inclusive range of code prefixes ("C00"-"C96", "R92.0"-"R92.1")."""
    lo, hi = rng
    return lo <= code[:len(lo)] and code[:len(hi)] <= hi


_RULES: Optional[SelectionRules] = None


def selection_rules() -> SelectionRules:
    global _RULES
    if _RULES is None:
        from .datafiles import iter_jsonl, resource_path
        exact, prefixes, generic, surv, explained = set(UNCODED_ENCOUNTER), [], [], [], []
        integral, combine, not_expl, code_first, gest, status_site = [], [], [], [], [], []
        exam_system, family_range, characterized, preproc, imp_coded, inj_sym, seq_first = [], [], [], [], [], [], []
        screen_targets, status_eval, beside, reason_coded = [], [], [], []
        for _, r in iter_jsonl(resource_path("rules", "icd_selection.jsonl")):
            kind = r.get("rule")
            if kind == "uncoded":
                for c in r["codes"]:
                    (prefixes.append(c[:-1]) if c.endswith("*") else exact.add(c))
                    if r.get("unless") == "impression" and not c.endswith("*"):
                        imp_coded.append(c)
                    if r.get("unless") == "indication" and not c.endswith("*"):
                        reason_coded.append(c)
            elif kind == "generic":
                rngs = tuple(tuple(x.split("-")) if "-" in x else (x, x) for x in r["within"])
                for c in r["codes"]:
                    generic.append((c, rngs))
            elif kind == "surveillance":
                surv.append((r["code"], r["history_prefix"], re.compile(r["cue"], re.I)))
            elif kind == "explained_finding":
                explained.extend(r["concepts"])
            elif kind == "integral":
                integral.append((tuple(r["diagnoses"]), tuple(r["codes"])))
            elif kind == "combine":
                combine.append((tuple(r["codes"]), r["into"], tuple(r.get("keep", ()))))
            elif kind == "not_explaining":
                not_expl.extend(r["codes"])
            elif kind == "code_first":
                code_first.append((tuple(r["codes"]), tuple(r["etiology"])))
            elif kind == "gestation_weeks":
                gest.extend(r["with"])
            elif kind == "status_site":
                status_site.append((tuple(r["codes"]), r["sites"], re.compile(r["whole_body"], re.I)))
            elif kind == "exam_system":
                exam_system.append((r["system"], re.compile(r["title"], re.I)))
            elif kind == "family_range":
                family_range.append((tuple(r["codes"]), r["into"]))
            elif kind == "characterized":
                characterized.append((tuple(r["codes"]), tuple(r["by"])))
            elif kind == "sequence_first":
                seq_first.extend(r["codes"])
            elif kind == "screening_targets":
                screen_targets.append((tuple(r["screening"]), tuple(r["codes"])))
            elif kind == "status_evaluated":
                status_eval.append((tuple(r["codes"]), re.compile(r["impression_cue"], re.I)))
            elif kind == "coded_beside":
                beside.append((tuple(r["diagnoses"]), tuple(r["codes"])))
            elif kind == "injury_explains":
                inj_sym.append((tuple(r["symptoms"]), tuple(r["injuries"])))
            elif kind == "preprocedural":
                preproc.append((tuple(r["codes"]), re.compile(r["not_cue"], re.I),
                                tuple((re.compile(t, re.I), c) for t, c in r.get("by_title", ()))))
        _RULES = SelectionRules(frozenset(exact), tuple(prefixes), tuple(generic), tuple(surv), frozenset(explained),
                                tuple(integral), tuple(combine), tuple(not_expl), tuple(code_first), tuple(gest), tuple(status_site),
                                tuple(exam_system), tuple(family_range), tuple(characterized), tuple(preproc),
                                tuple(inj_sym), tuple(seq_first), frozenset(imp_coded), tuple(screen_targets),
                                tuple(status_eval), tuple(beside), frozenset(reason_coded))
    return _RULES


def _unspecified(icd, code: str) -> bool:
    try:
        return "unspecified" in (icd.description(code) or "").lower()
    except Exception:  # noqa: BLE001 - unknown code: treat as specified
        return False


_DESC_STOP = frozenset({
    "unspecified", "other", "specified", "of", "and", "or", "the", "with", "without", "in", "to", "by", "site",
    "sites", "part", "parts", "left", "right", "bilateral", "female", "male", "organ", "nos", "not", "elsewhere",
    "classified", "type", "initial", "encounter"})


def _desc_words(icd, code: str) -> set:
    try:
        d = (icd.description(code) or "").lower()
    except Exception:  # noqa: BLE001 - unknown code
        return set()
    return {w for w in re.findall(r"[a-z]+", d) if w not in _DESC_STOP and len(w) > 2}


def _same_condition(icd, unspecified: str, other: str) -> bool:
    """The unspecified code and the other code of its category name the same condition (same subcategory, or a
    shared content word of their titles): "C50.919" / "C50.412" yes; "N13.30 unspecified hydronephrosis" /
    "N13.4 hydroureter" no (two conditions of one category, both coded)."""
    if unspecified[:5] == other[:5]:
        return True
    a, b = _desc_words(icd, unspecified), _desc_words(icd, other)
    if unspecified[:1] in "ST" and other[:1] in "ST":
        # injuries: the bone or structure decides; a shared word of the injury's kind ('fracture', 'shaft') is no
        # same injury ('unspecified fracture of shaft of left fibula' beside a tibial shaft nonunion)
        a, b = a - _INJURY_WORDS, b - _INJURY_WORDS
    return bool(a & b)


# title words of injury codes that name the kind of injury or encounter, not the injured bone or structure
_INJURY_WORDS = frozenset({
    "fracture", "fractures", "shaft", "displaced", "nondisplaced", "closed", "open", "subsequent", "routine",
    "healing", "delayed", "nonunion", "malunion", "sequela", "lower", "upper", "end", "head", "neck", "base",
    "transverse", "oblique", "spiral", "comminuted", "segmental", "simple", "torus", "greenstick", "physeal",
    "dislocation", "subluxation", "sprain", "strain", "contusion", "laceration", "injury", "superficial",
    "abrasion", "puncture", "wound", "bite", "for", "type", "iiia", "iiib", "iiic", "extraarticular",
    "intraarticular", "process", "styloid", "proximal", "distal", "middle", "medial", "lateral", "anterior",
    "posterior", "avulsion", "stable", "unstable", "burst", "wedge", "compression", "minimally", "angulated"})


def prune_codes(codes: list[str], icd=None) -> list[str]:
    """Drop codes a more specific selected code makes redundant (ICD-10-CM I.B.18 / Section IV.D: an
    unspecified code is not assigned when the documentation supports a specific one):
    - a generic code of the data file ("C80.1 malignant neoplasm, unspecified") when a selected code falls in
      its range;
    - a code whose title says "unspecified" when a selected code of the same 3-character category does not and
      names the same condition (``_same_condition``);
    - a right/left code when the bilateral code of its subcategory is selected;
    - a code integral to another selected code (data rule ``integral``: pulmonary edema with heart failure,
      diverticulosis with diverticulitis);
    - the losing code of an Excludes1 pair (``resolve_excludes1``).
    Also applied to the codes the trained rescorer adds."""
    rules = selection_rules()
    out = []
    for c in codes:
        others = [k for k in codes if k != c]
        drop = False
        for g, rngs in rules.generic:
            if code_matches(c, g) if g.endswith("*") else c == g:
                if any(_in_range(k, r) and not rules.is_generic(k) for k in others for r in rngs):
                    drop = True
        if not drop and icd is not None and _unspecified(icd, c):
            drop = any(k[:3] == c[:3] and not _unspecified(icd, k) and _same_condition(icd, c, k) for k in others)
        if not drop and icd is not None:
            drop = any(_bilateral_covers(icd, k, c) for k in others)
        if not drop:
            drop = rules.integral_to(c, codes)
        if not drop:
            out.append(c)
    return resolve_excludes1(out, icd)


def _bilateral_covers(icd, bilateral: str, side: str) -> bool:
    """A "bilateral" code covers the right/left codes of its subcategory (I65.23 covers I65.21 and I65.22;
    ICD-10-CM I.B.13: a bilateral code when the condition is bilateral)."""
    if bilateral[:-1] != side[:-1] or bilateral == side:
        return False
    try:
        b, s_ = (icd.description(bilateral) or "").lower(), (icd.description(side) or "").lower()
    except Exception:  # noqa: BLE001 - unknown code
        return False
    if "bilateral" not in b or re.search(r"\b(right|left)\b", s_) is None:
        return False

    def words(d):
        return {re.sub(r"ies$", "y", w).rstrip("s") for w in re.findall(r"[a-z]+", d)
                if w not in ("bilateral", "right", "left")}
    return words(b) == words(s_)
# §5.2 / §7.2: a cause stated for withholding contrast or for the technique is a present condition even inside a
# negated clause ("contrast was not given due to chronic kidney disease")
_REASON_CUE = re.compile(r"\b(due to|because of|secondary to|given (?:the |his |her )?(?:known )?|owing to)\s*$", re.I)
_SCREEN_WORD = re.compile(r"\bscreen(?:ing)?\b", re.I)
# generic screening codes made specific by what the exam/indication names (§7.2)
SCREENING_CONTEXT = (
    (re.compile(r"\b(dexa|dxa|bone (?:mineral )?density|osteopor|densitometry)", re.I), "Z13.820"),
    (re.compile(r"\b(breast (?:ultrasound|sonograph|us|mri|mr)\b|(?:ultrasound|sonograph\w*|us|mri|mr)\b[^\n]{0,30}\bbreasts?\b)", re.I),
     "Z12.39"),  # breast screening by another modality than mammography
    (re.compile(r"\b(mammo|breast|tomosynthesis)", re.I), "Z12.31"),
    (re.compile(r"\b(ovar\w*)", re.I), "Z12.73"),
    (re.compile(r"\b(lung cancer|low[- ]dose ct|ldct|lung)", re.I), "Z12.2"),
    (re.compile(r"\b(coronary|calcium scor|cardiovascular|aneurysm|aaa|carotid)", re.I), "Z13.6"),
    (re.compile(r"\b(colon|colonograph|colorectal)", re.I), "Z12.11"),
)
_MAMMO = re.compile(r"\b(mammo\w*|tomosynthesis|dbt|mlo|craniocaudal)\b", re.I)
GENERIC_SCREENING = frozenset({"Z13.9", "Z12.89", "Z13.89", "Z12.9"})


def is_symptom_like(code: str) -> bool:
    """A sign/symptom/abnormal finding (chapter 18, or a lexicon symptom/sign/finding such as M25.561)."""
    if code[:1] == "R":
        return True
    c = _concept(code)
    if c is not None:
        return c.kind in SYMPTOM_LIKE_KINDS
    return _category_kind(code) in SYMPTOM_LIKE_KINDS


_CATEGORY_AGREEMENT: dict = {}


def _category_agreement(code: str, attr: str) -> str | None:
    """The value of lexicon concept attribute ``attr`` that every concept of a code's 3-character category
    (with a value) agrees on, else None."""
    key = (attr, code[:3])
    if key not in _CATEGORY_AGREEMENT:
        from .lexicons import findings
        vals = {getattr(x, attr) for x in findings() if x.icd10cm and x.icd10cm[:3] == code[:3] and getattr(x, attr)}
        _CATEGORY_AGREEMENT[key] = next(iter(vals)) if len(vals) == 1 else None
    return _CATEGORY_AGREEMENT[key]


def _category_kind(code: str) -> str | None:
    """The lexicon kind every concept of a code's 3-character category agrees on (N63.22, a lump made specific
    by quadrant, is a finding like N63.0), else None."""
    return _category_agreement(code, "kind")


def _line_of(text: str, start: int, end: int) -> str:
    lo = text.rfind("\n", 0, start) + 1
    hi = text.find("\n", end)
    return text[lo:hi if hi >= 0 else len(text)]


def specific_screening_code(code: str, text: str, m: "FindingMention") -> str:
    """Z13.9/Z12.89 from a bare "screening" word -> the code of what the exam screens for (same line first,
    then the whole report)."""
    if code not in GENERIC_SCREENING:
        return code
    for scope in (_line_of(text, m.start, m.end), text):
        for rx, specific in SCREENING_CONTEXT:
            if rx.search(scope):
                return specific
    return code


def effective_assertion(m: "FindingMention", text: str) -> str:
    """The assertion the gold applies: a negated condition that is the stated reason for the technique
    ("not given due to contrast allergy") is present."""
    if m.assertion == "negated" and text and _REASON_CUE.search(text[max(0, m.start - 40):m.start]):
        return "present"
    return m.assertion


DROP_SYMPTOMS_WITH_DIAGNOSIS = True


# the report states that a finding explains the presentation ("likely accounts for the patient's pain"): it explains
# the indication's symptoms even when it is a condition that usually does not (data rule ``not_explaining``)
_STATED_CAUSE = re.compile(r"\b(accounts? for|accounting for|explains?|explaining|responsible for|(?:likely|probable) "
                           r"(?:cause|source) of|correlates? with)\b[^.;]{0,40}\b(pain|symptoms?|complaints?|"
                           r"presentation|bleeding|hematuria|findings|radiculopathy)\b", re.I)


def _incidental_code(code: str, mentions, text: str) -> bool:
    """Every confirmed mention of ``code`` (in the impression, when it states it) sits in a sentence that calls it
    incidental."""
    ms = [m for m in mentions if m.code == code]
    spans = [(m.start, m.end) for m in ([m for m in ms if m.section == "impression"] or ms)]
    return _all_called_incidental(text, spans)


def _gold_view(m: "FindingMention", text: str, reason_sections) -> "FindingMention":
    """The mention as the gold reads it: reason-for-technique negations are present, the condition a
    screening exam looks for is hypothetical (§7.2), a generic screening code gets the exam's target."""
    assertion = effective_assertion(m, text)
    code = m.code
    if code and (code in GENERIC_SCREENING or code_kind(code) == "screening") and text:
        code = specific_screening_code(code, text, m)
        if code == "Z12.31" and not _MAMMO.search(text):  # breast screening by ultrasound/MRI, not mammography
            code = "Z12.39"
    elif (code and assertion == "present" and m.section in reason_sections and text
          and code_kind(code) == "diagnosis" and _SCREEN_WORD.search(_clause_of(text, m.start, m.end))):
        assertion = "hypothetical"
    elif (code and assertion == "present" and m.section in reason_sections and text and _resected_cancer(m, text)):
        assertion = "historical"
    if assertion == m.assertion and code == m.code:
        return m
    return replace(m, assertion=assertion, code=code)


REASON_SECTIONS = ("indication", "exam", "technique")

# a primary cancer the indication names as resected ('adenocarcinoma of the RUL s/p lobectomy 2 years ago'), in a
# report that finds no recurrence: a history of the cancer (Z85), the exam its surveillance (I.C.2.d, I.C.21.c.8)
_RESECTED_RE = re.compile(r"\b(?:s/p|status post|post|after|following|treated with|underwent)\s+(?:\w+\s+){0,4}?"
                          r"(?:\w*ectom(?:y|ies)|resection|excision|lumpectomy|whipple|orchiectomy|chemoradiation|"
                          r"radiation|radiotherapy|chemotherapy)\b", re.IGNORECASE)
_NO_RECURRENCE_RE = re.compile(r"\bno (?:\w+\s+){0,3}?(?:evidence of |signs? of |findings of |)(?:local |locoregional |"
                               r"nodal |)(?:recurren\w*|residual (?:or recurrent )?(?:disease|tumou?r)|metastatic disease)\b",
                               re.IGNORECASE)


def _resected_cancer(m: "FindingMention", text: str) -> bool:
    code = m.code or ""
    if not (code[:1] == "C" and "C00" <= code[:3] <= "C76" or "C81" <= code[:3] <= "C96"):
        return False
    sent = _sentence_of(text, m.start, m.end)
    return bool(_RESECTED_RE.search(sent)) and bool(_NO_RECURRENCE_RE.search(text[m.end:]))


def is_sectioned(mentions: Sequence[FindingMention], has_impression: Optional[bool] = None) -> bool:
    return bool(has_impression) or any(m.section in ("findings", "impression") for m in mentions)


def coding_view(mentions: Sequence[FindingMention], text: str, has_impression: Optional[bool] = None) -> list:
    """The mentions as the ICD rules read them (also the ranker's input): the gold view of each mention
    (``_gold_view``), and in a terse report without FINDINGS/IMPRESSION headers the unheaded body lines are
    findings (§7.8), even where the sectionizer left them in the technique."""
    out = [_gold_view(m, text, REASON_SECTIONS) for m in mentions]
    # a sequela of a past stroke (I69.-) is a present condition, whatever history cue governs it ("s/p CVA with
    # dysphagia")
    out = [replace(m, assertion="present") if m.assertion == "historical" and (m.code or "").startswith("I69")
           else m for m in out]
    if not is_sectioned(out, has_impression) and TERSE_TECHNIQUE_IS_FINDINGS:
        out = [replace(m, section="findings") if m.section == "technique" else m for m in out]
    return out


def code_icd10(mentions: Sequence[FindingMention], text: str, icd=None, screening: bool = False,
               impression_only: bool = True, has_impression: Optional[bool] = None) -> list[IcdDecision]:
    """Apply the ICD-10-CM Official Guidelines, Section IV (outpatient), to the asserted findings of one
    report; returns the codes in first-listed order.

    Order: screening Z code; confirmed diagnoses (impression first, then findings, then diagnoses the
    indication states as known); signs/symptoms/reasons for the exam that no confirmed diagnosis explains;
    abnormal findings; status codes; history codes (Z85/Z86/Z87); family history (Z80-Z84).
    Never coded: negated, uncertain and hypothetical findings, external-cause codes, symptoms integral to
    a confirmed diagnosis, a code that an Excludes1 note forbids next to a higher-ranked one."""
    by_code: dict[str, IcdDecision] = {}
    order: list[tuple] = []
    concepts_of: dict[str, set] = {}

    def add(code: str, reason: str, m: FindingMention, rank_key: tuple):
        if not code or (icd is not None and not icd.is_billable(code)):
            return
        if code not in by_code:
            by_code[code] = IcdDecision(code, reason)
            order.append((rank_key, code))
        else:  # same role, a better-placed mention (impression before findings): it sets the order
            i = next(i for i, (_, c) in enumerate(order) if c == code)
            if rank_key[0] == order[i][0][0] and rank_key < order[i][0]:
                order[i] = (rank_key, code)
        by_code[code].evidence.append((m.start, m.end, m.text))
        concepts_of.setdefault(code, set()).add(m.concept)

    # the exam title and technique name what was looked for, not what was found: like the indication
    reason_sections = REASON_SECTIONS
    mentions = coding_view(mentions, text, has_impression)
    sectioned = is_sectioned(mentions, has_impression)
    present = [m for m in mentions if m.code and m.assertion == "present" and code_kind(m.code) != "external"
               and not selection_rules().is_uncoded(m.code, m.section)]
    # the device the performed procedure places ("RIGHT PERCUTANEOUS NEPHROSTOMY" ... "nephrostomy in good
    # position") is the service billed, not a status the patient had (Z93.6, Z95.828)
    present = [m for m in present if not _placed_by_this_procedure(m, text)]
    confirmed = [m for m in present if m.section not in reason_sections]
    indication = [m for m in present if m.section in reason_sections]
    # a diagnosis named only in the exam title or the technique is what was looked for or how the exam was
    # done ("CTA for PE", "time-of-flight", "CAD" software, "claustrophobia"), not a reason for the exam;
    # the exception is the condition a contrast decision was made for ("not given due to CKD")
    # (only in a sectioned report: without FINDINGS/IMPRESSION the unlabelled body may sit in those sections)
    if sectioned:
        indication = [m for m in indication if not _technique_only(m, present, text)]
    indication = [m for m in indication if not _status_off_site(m, present, text, icd)]
    # the impression is the radiologist's conclusion: when there is one, a finding named only in the body
    # is coded only if the impression repeats it (same code) -- coders code from the impression
    if has_impression is None:
        has_impression = any(m.section == "impression" for m in mentions)
    if impression_only and has_impression:
        in_impression = {m.code for m in confirmed if m.section == "impression"}
        confirmed = [m for m in confirmed if m.section == "impression" or m.code in in_impression]
    diagnoses = [m for m in confirmed if code_kind(m.code) == "diagnosis" and not is_symptom_like(m.code)]
    # §5.1: the indication's signs/symptoms are the reason for the exam only when no confirmed diagnosis
    # explains it
    # (Section IV.D/J): a confirmed diagnosis that is a chronic, usually silent finding (data rule
    # ``not_explaining``: carotid plaque, unruptured aneurysm, hiatal hernia, diverticulosis) does not explain them
    rules = selection_rules()
    known = [m for m in indication if code_kind(m.code) == "diagnosis" and not is_symptom_like(m.code)]
    stated = {m.code for m in diagnoses if text and _STATED_CAUSE.search(_clause_of(text, m.start, m.end))}
    explained = DROP_SYMPTOMS_WITH_DIAGNOSIS and bool(diagnoses) and (
        any(rules.explains_symptoms(m.code) or m.code in stated for m in diagnoses)
        or any(rules.explains_symptoms(m.code) for m in known))
    # §5 rule 5: a diagnosis the report itself calls incidental ("Incidental cholelithiasis") is not the answer to
    # the indication and does not explain its sign/symptom (microscopic hematuria stays the reason for the exam)
    if explained and text:
        explaining = [m for m in diagnoses + known if (rules.explains_symptoms(m.code) or m.code in stated)
                      and not _incidental_code(m.code, diagnoses + known, text)]
        explained = bool(explaining)
    else:
        explaining = []

    def explains(code: str) -> bool:
        """The confirmed diagnoses explain the indication's sign/symptom ``code``; a head symptom (headache,
        vomiting, confusion) after trauma is explained only by a head injury (data rule ``injury_explains``), not by a
        scalp hematoma or a cervical spine fracture."""
        if not explained:
            return False
        if any(not _is_injury(m.code) for m in explaining):
            return True
        return rules.injury_explains(code, [m.code for m in explaining])
    # an indication finding ("renal lesion" N28.89) that a confirmed diagnosis of its category characterizes
    # ("renal cyst" N28.1) is answered by it
    answered_categories = {m.code[:3] for m in diagnoses}
    # the lump/nodule the indication presents with that a confirmed diagnosis characterizes ("palpable lump" ->
    # "simple cyst"): data rule ``characterized``; not coded as the reason, nor where the impression restates it
    characterized = {m.code for m in indication if rules.characterized_by(m.code, {d.code for d in diagnoses})}
    dx_codes = {m.code for m in diagnoses + known}

    def answered(code: str) -> bool:
        c = _concept(code)
        return code in characterized or (code[:3] in answered_categories and c is not None and c.kind == "finding")
    integral: set[str] = set()
    systems: set[str] = set()
    for m in diagnoses + [m for m in indication if code_kind(m.code) == "diagnosis"]:
        c = _concept(m.code)
        if c:
            integral.update(c.integral_symptoms)
            systems.add(c.body_system)
    for m in mentions:
        z = preprocedural_code(m, text, icd)
        if z:
            add(z, "preprocedural examination", m, (0, 0, m.start))
    for m in indication + confirmed:
        kind = code_kind(m.code)
        if kind == "screening" and (screening or m.section in reason_sections):
            add(m.code, "screening encounter", m, (0, 0, m.start))
    for m in diagnoses:
        add(m.code, "confirmed diagnosis", m, (1, SECTION_RANK.get(m.section, 7), m.start))
    confirmed_dx = {m.code for m in diagnoses}
    for m in indication:
        kind = code_kind(m.code)
        c = _concept(m.code)
        if is_symptom_like(m.code) and rules.is_coded_beside(m.code, confirmed_dx):
            add(m.code, BESIDE_REASON, m, (1, 9, m.start))  # §7.23.1, after the diagnoses
        elif kind == "diagnosis" and is_symptom_like(m.code):
            if (explains(m.code) or m.code in integral or answered(m.code)) and not rules.combines(m.code, dx_codes):
                continue
            add(m.code, "sign/symptom/reason for exam", m, (2, 0, m.start))
        elif kind == "diagnosis":
            add(m.code, "known diagnosis (indication)", m, (1, 8, m.start))
        elif kind == "history":
            add(m.code, "history of", m, (5, 0, m.start))
        elif kind in ("status", "encounter"):
            if kind == "status" and STATUS_NEEDS_EVALUATION and has_impression and \
                    not _status_evaluated(m.code, mentions, text, icd):
                continue  # §7.19: a status the impression neither states nor evaluates is not coded
            add(m.code, "status", m, (4, 0, m.start))
        elif kind == "symptom":
            if rules.combines(m.code, dx_codes):
                pass  # merged into its combination code below
            elif explains(m.code) or m.code in integral or answered(m.code) or (SYSTEM_SUPPRESSION and c is not None and c.body_system and c.body_system in systems):
                continue  # integral to / explained by a confirmed diagnosis
            add(m.code, "sign/symptom/reason for exam", m, (2, 0, m.start))
    for m in confirmed:
        kind = code_kind(m.code)
        c = _concept(m.code)
        if m.code in characterized:
            continue
        if explained and m.section == "impression" and c is not None and c.kind == "symptom" \
                and not rules.combines(m.code, dx_codes):
            pass  # a symptom the impression restates beside the diagnosis that explains it (§5 rule 3)
        elif kind == "diagnosis" and is_symptom_like(m.code) and m.code not in integral:
            add(m.code, "abnormal finding", m, (3, SECTION_RANK.get(m.section, 7), m.start))
        elif kind == "history":
            add(m.code, "history of", m, (5, 0, m.start))
        elif kind == "symptom" and m.code not in integral:
            add(m.code, "abnormal finding", m, (3, SECTION_RANK.get(m.section, 7), m.start))
        elif kind in ("status", "encounter"):
            add(m.code, "status", m, (4, 1, m.start))
    # §7.19: a past condition the body mentions only in FINDINGS ("an old lacunar infarct is noted") is not coded
    # as a history code when the report has an impression that does not restate it; the indication and the
    # impression are what the coder reads for history
    hist_read = {m.code for m in mentions if m.code and m.assertion in ("historical", "family")
                 and (not has_impression or m.section in reason_sections + ("impression",))}
    for m in mentions:
        if not m.code or m.code not in hist_read:
            continue
        c = _history_concept(m) if m.assertion in ("historical", "family") else _concept(m.code)
        if m.assertion == "historical" and c is not None and c.history_code:
            add(c.history_code, "history of", m, (5, 0, m.start))
        elif m.assertion == "historical" and code_kind(m.code) == "history":
            add(m.code, "history of", m, (5, 0, m.start))
        elif m.assertion == "family" and c is not None and c.family_code:
            add(c.family_code, "family history", m, (6, 0, m.start))
        elif m.assertion == "family":  # no concept family code: the family-history code of its chapter block
            z = next((into for pats, into in selection_rules().family_range
                      if any(code_matches(m.code, p) for p in pats)), None)
            if z:
                add(z, "family history", m, (6, 0, m.start))
    # surveillance after treated cancer with nothing new to code: the follow-up encounter code first
    findings_reasons = ("sign/symptom/reason for exam", "abnormal finding")
    for zcode, hist, cue in selection_rules().surveillance:
        if (any(k.startswith(hist) for k in by_code) and cue.search(text or "")
                and not any(d.reason in findings_reasons or "C00" <= k[:3] <= "D49" for k, d in by_code.items())
                and (icd is None or icd.is_billable(zcode))):
            by_code.setdefault(zcode, IcdDecision(zcode, "surveillance after treated malignancy"))
            order.append(((0, 1, 0), zcode))
    order = _drop_explained_findings(order, by_code, concepts_of)
    order = _drop_characterized_findings(order, by_code, diagnoses, text)
    order = _relevance_order(order, by_code, mentions, reason_sections, text)
    codes = [c for _, c in sorted(order)]
    codes = combine_codes(codes, by_code, icd)
    codes = prune_codes(codes, icd)
    codes = code_first_order(codes)
    codes = trimester_codes(codes, by_code, text, icd)
    codes = _one_encounter(codes)
    z3a = gestation_code(codes, text, icd)
    if z3a and z3a not in by_code:
        by_code[z3a] = IcdDecision(z3a, "weeks of gestation")
        codes.append(z3a)
    return [by_code[c] for c in codes]


def preprocedural_code(m: "FindingMention", text: str, icd=None) -> str | None:
    """Section IV.M: a present "pre-op evaluation" in the indication of an exam done as a preoperative evaluation
    (not imaging of the operative site for planning/localization: the rule's ``not_cue`` on its line) is coded
    first, as the Z01.81- code the exam title implies (a chest exam: Z01.811)."""
    if not (m.code and m.assertion == "present" and m.section in REASON_SECTIONS and text):
        return None
    for pats, not_cue, by_title in selection_rules().preprocedural:
        if not any(code_matches(m.code, p) for p in pats):
            continue
        if not_cue.search(_line_of(text, m.start, m.end)):
            return None
        title = _title(text)
        code = next((c for rx, c in by_title if rx.search(title)), m.code)
        return code if icd is None or icd.is_billable(code) else None
    return None


def combine_codes(codes: list[str], by_code: dict, icd=None) -> list[str]:
    """ICD-10-CM I.B.9 (combination codes): two selected codes that one code classifies together are replaced by
    that code (data rule ``combine``: K70.30 + R18.8 -> K70.31, K80.20 + K80.51 -> K80.71, N20.1 + N13.30 ->
    N13.2), at the place of the better-ranked one. A code matching the rule's ``keep`` patterns is also kept, after
    the combination code, where the combination code's note says "use additional code" (I10 + N18.4 -> I12.9 + N18.4:
    I.C.9.a.2 presumes the hypertension/CKD link; E11.9 + L97.509 -> E11.621 + L97.509)."""
    for pats, into, keep in selection_rules().combine:
        if icd is not None and not icd.is_billable(into):
            continue
        hits = []
        for p in pats:
            h = next((c for c in codes if code_matches(c, p) and c not in hits), None)
            if h is None:
                break
            hits.append(h)
        else:
            pos = min(codes.index(h) for h in hits)
            ev = [e for h in hits for e in by_code[h].evidence]
            if into not in by_code:
                by_code[into] = IcdDecision(into, "combination code: " + " + ".join(hits), ev)
            gone = [h for h in hits if not any(code_matches(h, k) for k in keep)]
            pos = min([pos] + [i for i, c in enumerate(codes) if c == into])
            rest = [c for c in codes if c not in gone and c != into]
            pos = sum(1 for c in codes[:pos] if c in rest)
            codes = rest[:pos] + [into] + rest[pos:]
    if icd is not None:  # right + left of one subcategory -> its bilateral code (I.B.13: I65.21 + I65.22 -> I65.23)
        for a in list(codes):
            for b in list(codes):
                if a in codes and b in codes and a < b and a[:-1] == b[:-1]:
                    bil = _bilateral_sibling(icd, a, b)
                    if bil:
                        pos = min(codes.index(a), codes.index(b))
                        by_code.setdefault(bil, IcdDecision(bil, f"bilateral code: {a} + {b}",
                                                            by_code[a].evidence + by_code[b].evidence))
                        rest = [c for c in codes if c not in (a, b, bil)]
                        codes = rest[:pos] + [bil] + rest[pos:]
    return codes


def _bilateral_sibling(icd, a: str, b: str) -> str | None:
    """The billable bilateral code of the subcategory of a right code and a left code, if there is one."""
    try:
        da, db = (icd.description(a) or "").lower(), (icd.description(b) or "").lower()
        if not ({"right", "left"} == {w for w in ("right", "left") if re.search(rf"\b{w}\b", da + " " + db)}
                and re.search(r"\bright\b", da) != re.search(r"\bright\b", db)):
            return None
        parent = icd.parent(a)
        if parent is None or parent != icd.parent(b):
            return None
        for sib in icd.children(parent):
            if icd.is_billable(sib) and _bilateral_covers(icd, sib, a) and _bilateral_covers(icd, sib, b):
                return sib
    except Exception:  # noqa: BLE001 - unknown code
        return None
    return None


def _excludes1_names(icd, a: str, b: str) -> bool:
    """The Excludes1 note of ``a`` (or of its ancestors) names a code that ``b`` falls under."""
    from .codesets.icd10cm import _falls_under, parse_code_refs
    ub = b.replace(".", "")
    try:
        notes = icd.excludes1(a)
    except Exception:  # noqa: BLE001 - unknown code
        return False
    return any(_falls_under(ub, parse_code_refs(n)) for n in notes)


_NOTE_WORDS_STOP = _DESC_STOP | {"nos", "due", "any", "such", "as", "from", "than"}


def _note_applies(icd, note: str, other: str) -> bool:
    """An Excludes1 note that names the NOS form of a condition and points to a whole category ("insufficiency,
    NOS, of precerebral artery (G45.-)") excludes only the member of that category that classifies that condition,
    not every code of it (G45.3 amaurosis fugax is coded with carotid stenosis I65.2-): such a note applies to
    ``other`` only when ``other``'s title shares a content word with the note."""
    from .codesets.icd10cm import _falls_under, parse_code_refs
    refs = parse_code_refs(note)
    if not _falls_under(other.replace(".", ""), refs):
        return False
    if not re.search(r"\bNOS\b", note) or not re.search(r"-\s*\)", note):
        return True
    words = {w for w in re.findall(r"[a-z]+", re.sub(r"\([^)]*\)", " ", note).lower())
             if w not in _NOTE_WORDS_STOP and len(w) > 2}
    stems = {w[:6] for w in words}
    return bool(stems & {w[:6] for w in _desc_words(icd, other)})


def _excludes1_clash(icd, a: str, b: str) -> bool:
    """Excludes1 conflict between two codes (``icd.excludes1_conflict``), read note by note (``_note_applies``)."""
    try:
        if not icd.excludes1_conflict(a, b):
            return False
        return (any(_note_applies(icd, n, b) for n in icd.excludes1(a))
                or any(_note_applies(icd, n, a) for n in icd.excludes1(b)))
    except Exception:  # noqa: BLE001 - unknown code
        return False


def _is_injury(code: str) -> bool:
    return code[:1] == "S" or ("T00" <= code[:3] <= "T34")


def resolve_excludes1(codes: list[str], icd=None) -> list[str]:
    """§5 rule 7 / ICD-10-CM I.A.12.a: never two codes joined by an Excludes1 note. When only one of the two
    codes carries the note ("N20 Excludes1: calculus with hydronephrosis (N13.2)", "M81 Excludes1: osteoporosis
    with current pathological fracture (M80.-)"), the note points to the code that classifies the condition: it is
    kept, at the better rank of the two. When both notes name each other the higher-ranked code is kept. Two injury
    codes from separate mentions are separate injuries (the Excludes1 exception for unrelated conditions: a pilon
    fracture and a lateral malleolus fracture are both coded)."""
    if icd is None:
        return codes
    kept: list[str] = []
    for c in codes:
        clash = [k for k in kept if not (_is_injury(c) and _is_injury(k)) and _excludes1_clash(icd, c, k)]
        if not clash:
            kept.append(c)
            continue
        k = clash[0]
        if _excludes1_names(icd, k, c) and not _excludes1_names(icd, c, k):
            kept[kept.index(k)] = c  # the earlier code's note points to this one
    return kept


def code_first_order(codes: list[str]) -> list[str]:
    """"Code first underlying disease" (ICD-10-CM I.A.13): a manifestation code (J91.0 malignant pleural effusion,
    J91.8) follows its selected etiology code."""
    out = list(codes)
    for man, etio in selection_rules().code_first:
        for c in list(out):
            if not any(code_matches(c, p) for p in man):
                continue
            i = out.index(c)
            e = next((x for x in out[i + 1:] if any(code_matches(x, p) for p in etio)), None)
            if e is not None:
                out.remove(e)
                out.insert(i, e)
    return out


_GA = re.compile(r"(?<![<>\d])(?<![<>] )\b(\d{1,2})\s*(?:-\s*)?(?:weeks?|wks?|w)(?=\b|\d)", re.I)
_GA_PAST = re.compile(r"\b(deliver\w*|born|prior|previous|history|for|x)\s*(?:at\s*)?$", re.I)
# a number of weeks that is no gestational age: "6 wks postpartum", "2 weeks ago", "4 weeks old"
_GA_NOT = re.compile(r"^\W{0,3}(?:postpartum|post-partum|post partum|after|ago|old|of age|since|prior|later|duration|"
                     r"history|status post|s/p)\b", re.I)


def _one_encounter(codes: list[str]) -> list[str]:
    """One injury is coded once: codes that differ only in the 7th character (the fracture the indication names as
    'A' and the healing one the findings code 'D') keep the first-listed."""
    out, seen = [], set()
    for c in codes:
        key = c[:-1] if c[:1] in "ST" and len(c.replace(".", "")) == 7 else c
        if key in seen:
            continue
        seen.add(key)
        out.append(c)
    return out


def gestational_weeks(text: str) -> int | None:
    """The first gestational age in weeks the report states, not a past delivery or a duration."""
    for m in _GA.finditer(text or ""):
        if _GA_PAST.search(text[max(0, m.start() - 20):m.start()]) or _GA_NOT.search(text[m.end():m.end() + 20]):
            continue
        return int(m.group(1))
    return None


_TRIMESTER = re.compile(r"\b(first|second|third|unspecified) trimester\b")
_TRIMESTER_DIGIT = {1: "first", 2: "second", 3: "third"}


def trimester_codes(codes: list[str], by_code: dict, text: str, icd=None) -> list[str]:
    """A pregnancy code with a trimester axis takes the trimester of the gestational age the report states
    (ICD-10-CM I.C.15.a.3: first trimester before 14 weeks 0 days, second to 27 weeks 6 days, third from 28 weeks):
    the sibling code whose title differs only in its trimester."""
    weeks = gestational_weeks(text)
    if weeks is None or icd is None or not any(c.startswith("O") for c in codes):
        return codes
    want = _TRIMESTER_DIGIT[1 if weeks < 14 else 2 if weeks < 28 else 3]
    out = []
    for c in codes:
        new = c
        try:
            desc = icd.description(c).lower() if c.startswith("O") else ""
        except (KeyError, ValueError):
            desc = ""
        m = _TRIMESTER.search(desc)
        if m and m.group(1) != want:
            target = _TRIMESTER.sub(f"{want} trimester", desc)
            flat = c.replace(".", "")
            for i in range(3, len(flat)):
                for d in "1239":
                    cand = flat[:i] + d + flat[i + 1:]
                    cand = cand[:3] + "." + cand[3:]
                    try:
                        if cand != c and icd.is_billable(cand) and icd.description(cand).lower() == target:
                            new = cand
                    except (KeyError, ValueError):
                        continue
        if new != c and new not in by_code:
            by_code[new] = replace(by_code[c], code=new)
        out.append(new)
    return list(dict.fromkeys(out))


def gestation_code(codes: list[str], text: str, icd=None) -> str | None:
    """Z3A weeks of gestation (ICD-10-CM I.C.15.b.3): with a pregnancy code, the first gestational age the report
    states ("at 20 weeks", "38w1d", "corresponding to 8 weeks 2 days") -- not a past delivery or a duration."""
    rules = selection_rules()
    if not text or not rules.gestation_with or not any(code_matches(c, p) for c in codes for p in rules.gestation_with):
        return None
    if any(c.startswith("Z3A") for c in codes):
        return None
    w = gestational_weeks(text)
    if w is None:
        return None
    code = "Z3A.01" if w < 8 else ("Z3A.49" if w > 42 else f"Z3A.{w:02d}")
    return code if icd is None or icd.is_billable(code) else None


DROP_EXPLAINED_FINDINGS = True
_REASON_REASONS = ("sign/symptom/reason for exam", "known diagnosis (indication)")


# "<finding> is a / consistent with / represents <diagnosis>": the sentence names what the finding is
_CHARACTERIZES = re.compile(r"^[ \t,:;(-]*(?:(?:which|that)\s+)?(?:(?:is|are|was|were)\s+)?(?:(?:most\s+)?(?:consistent with|"
                            r"compatible with|in keeping with|diagnostic of|characteristic of|typical of)|represents?|"
                            r"representing|reflects?|reflecting|is|are)\s+(?:(?:an?|the)\s+)?(?:[\w/.-]+\s+){0,4}$",
                            re.IGNORECASE)


def _drop_characterized_findings(order: list, by_code: dict, diagnoses, text: str) -> list:
    """§5 rule 3: an abnormal finding whose every mention the same sentence goes on to characterize as a confirmed
    diagnosis ("1.9 cm left renal lesion is a Bosniak II hemorrhagic cyst", "renal mass, consistent with renal cell
    carcinoma") is that diagnosis: only the diagnosis is coded. An uncertain characterization ("likely", "suspicious
    for") is no confirmed diagnosis, and the finding stays."""
    if not text or not diagnoses:
        return order
    out = []
    for key, code in order:
        d = by_code[code]

        def characterized(end: int) -> bool:
            return any(m.start >= end and m.code != code and _CHARACTERIZES.match(text[end:m.start]) for m in diagnoses)
        # every mention, or the last one (the impression's conclusion on the lesion the findings describe: "mass
        # within the subcutaneous fat ... IMPRESSION: subcutaneous mass, consistent with a lipoma")
        if d.reason == "abnormal finding" and d.evidence and (
                all(characterized(end) for _, end, _ in d.evidence)
                or characterized(max(d.evidence, key=lambda e: e[0])[1])):
            continue
        out.append((key, code))
    return out


def _drop_explained_findings(order: list, by_code: dict, concepts_of: dict) -> list:
    """Section IV.K / III.B and §5 rule 3: an abnormal finding named only by a nonspecific imaging descriptor
    (the data file's ``explained_finding`` concepts: "bronchial wall thickening", "opacity" R91.8, "urothelial
    thickening" N28.89) of the same body system as the coded reason for the exam (the indication's sign/symptom
    or known diagnosis) is the imaging picture of that reason, not a separate condition: it is not coded
    beside it. Findings of another system, findings with a specific concept (lung mass, consolidation,
    pyelectasis) and findings in a report whose reason is not coded stay."""
    if not DROP_EXPLAINED_FINDINGS:
        return order
    rules = selection_rules()
    systems = set()
    for c, d in by_code.items():
        k = _concept(c)
        if d.reason in _REASON_REASONS and k is not None and k.body_system and k.body_system != "general":
            systems.add(k.body_system)
    if not systems:
        return order
    out = []
    for key, code in order:
        k = _concept(code)
        cs = concepts_of.get(code) or {None}
        if (by_code[code].reason == "abnormal finding" and k is not None and k.body_system in systems
                and all(x in rules.explained_findings for x in cs)):
            continue
        out.append((key, code))
    return out


TERSE_TECHNIQUE_IS_FINDINGS = True
_REASON_WORDS = re.compile(r"\b(due to|because of|secondary to|given|owing to|in view of|for)\b", re.I)
_CONTRAST_LINE = re.compile(r"\b(contrast|gadolinium|iodinated|omnipaque|isovue|visipaque|gadavist|dotarem|"
                            r"multihance|iv |intravenous)", re.I)


def _impression_text(mentions, text: str) -> str:
    """The impression: from its first mention's line to the end of the report."""
    starts = [m.start for m in mentions if m.section == "impression"]
    if not starts:
        i = (text or "").lower().rfind("impression")
        return text[i:] if i >= 0 else ""
    return text[text.rfind("\n", 0, min(starts)) + 1:]


def _status_evaluated(code: str, mentions, text: str, icd=None) -> bool:
    """A status from the indication is coded when the exam images its site on its side (a right knee radiograph
    after a right TKA, data rule ``status_site``), when the impression states it (a mention with its code) or names
    what the exam found of it (data rule ``status_evaluated``: 'postsurgical changes', 'anastomosis', 'resection
    bed'); statuses without a rule are kept."""
    cue = selection_rules().status_needs_impression(code)
    if cue is None or _status_site_imaged(code, text, icd):
        return True
    if any(m.code == code and m.section == "impression" and m.assertion == "present" for m in mentions):
        return True
    return bool(cue.search(_impression_text(mentions, text or "")))


_TITLE_SIDE = {"right": re.compile(r"\b(right|rt)\b", re.I), "left": re.compile(r"\b(left|lt)\b", re.I)}


def _status_site_imaged(code: str, text: str, icd=None) -> bool:
    """The exam title names the site of a device/absence status (data rule ``status_site``) and no other side."""
    if not text or icd is None:
        return False
    title = _title(text).lower()
    for _whole, site_words, words in _status_site_rules(code, icd):
        if not any(w in title for w in site_words):
            return False
        side = "right" if "right" in words else "left" if "left" in words else None
        other = {"right": "left", "left": "right"}.get(side)
        if other and _TITLE_SIDE[other].search(title) and not _TITLE_SIDE[side].search(title) and \
                "bilateral" not in title:
            return False
        return True
    return False


def _sentence_of(text: str, start: int, end: int) -> str:
    lo = max(text.rfind(".", 0, start), text.rfind("\n", 0, start), text.rfind(";", 0, start)) + 1
    his = [i for i in (text.find(".", end), text.find("\n", end), text.find(";", end)) if i >= 0]
    return text[lo:min(his) if his else len(text)]


def _technique_only(m: "FindingMention", present, text: str) -> bool:
    """True for a present diagnosis mentioned only in the exam title/technique (no indication, findings or
    impression mention of the same code), unless its line is about contrast (the reason for a contrast
    decision is a coded condition, §5.2)."""
    if m.section not in ("exam", "technique") or code_kind(m.code) not in ("diagnosis", "status") \
            or is_symptom_like(m.code):
        return False
    if any(x.code == m.code and x.section not in ("exam", "technique") for x in present):
        return False
    if m.section == "technique" and text:
        before = text[max(0, m.start - 60):m.start]
        if _REASON_WORDS.search(before) and _CONTRAST_LINE.search(_sentence_of(text, m.start, m.end)):
            return False
    return True


def _title(text: str) -> str:
    """The exam title: the first non-empty line and any EXAM:/PROCEDURE:/STUDY: line, cut at inline labels."""
    return exam_title(text, ("exam", "procedure", "study"))


_DIAGNOSTIC_TITLE_RE = re.compile(r"\b(?:xr|x-ray|radiograph\w*|film|chest|ct|cta|mri?|us|ultrasound|sonogra\w*|"
                                  r"portable|abdomen|kub|fluoro\w*|check|position|tip)\b", re.IGNORECASE)
_PLACEMENT_RE = re.compile(r"\b(?:placement|placed|insertion|inserted|exchange|exchanged|creation|percutaneous|"
                           r"tunnel(?:l)?ed)\b", re.IGNORECASE)


def _placed_by_this_procedure(m: "FindingMention", text: str) -> bool:
    """A device status (Z93.-, Z95.8-) whose device the exam title names as the procedure performed: the title
    names the device and a placement and is no diagnostic exam of it (a chest film for tip position keeps it)."""
    if not (m.code.startswith("Z93") or m.code.startswith("Z95.8")):
        return False
    title = _title(text)
    words = [w for w in re.findall(r"[a-z]+", (m.text or "").lower()) if len(w) > 3 and not _PLACEMENT_RE.match(w)]
    if not words or not _PLACEMENT_RE.search(title) or _DIAGNOSTIC_TITLE_RE.search(title):
        return False
    return any(re.search(r"\b" + re.escape(w) + r"\b", title, re.IGNORECASE) for w in words)


def _status_off_site(m: FindingMention, present, text: str, icd=None) -> bool:
    """§7.19: a device/absence status named only in the indication (data rule ``status_site``) whose site the exam
    does not image ("s/p right TKA" on a CTA chest) is not coded."""
    if not text or code_kind(m.code) not in ("status",) or any(
            x.code == m.code and x.section not in REASON_SECTIONS for x in present):
        return False
    title = _title(text).lower()
    for whole, site_words, _words in _status_site_rules(m.code, icd):
        if whole.search(title):
            return False
        if site_words and not any(w in title for w in site_words):
            return True
    return False


def _status_site_rules(code: str, icd=None):
    """For each data rule ``status_site`` covering ``code``: its whole-body title pattern, the exam words of the
    sites the code's title names, and the words of that title."""
    words = set(re.findall(r"[a-z]+", (icd.description(code) if icd is not None else "").lower()))
    for pats, sites, whole in selection_rules().status_site:
        if any(code_matches(code, p) for p in pats):
            yield whole, [w for s in sites if s in words for w in sites[s]], words


def _is_secondary_neoplasm(code: str) -> bool:
    return "C77" <= code[:3] <= "C79" or code[:3] == "C7B"


def _system_family(system):
    """Body systems the lexicon splits but an organ belongs to both of (prostate, testis: genitourinary/reproductive)."""
    return "genitourinary" if system == "reproductive" else system


def _is_suspected_malignancy(code: str) -> bool:
    """A malignant neoplasm, or a neoplasm of uncertain/unspecified behavior (what "suspicious for tumor" reads as)."""
    return ("C00" <= code[:3] <= "C96") or code[:3] == "C7B" or ("D37" <= code[:3] <= "D49")


def _is_primary_malignancy(code: str) -> bool:
    return code[:1] == "C" and not _is_secondary_neoplasm(code) and code[:3] not in ("C80",)


ORDER_BY_RELEVANCE = True
ANSWER_FIRST = True
ABNORMAL_ANSWER_FIRST = True
HISTORY_BEFORE_INCIDENTAL = True
SCREENING_TARGETS = True
STATUS_NEEDS_EVALUATION = True
INCIDENTAL_LAST = True
_INCIDENTAL = re.compile(r"\bincidental(?:ly)?\b", re.I)


def _called_incidental(d: "IcdDecision", text: str) -> bool:
    """Every mention behind the code sits in a sentence that calls it incidental ("Incidental 1.4 cm thyroid
    nodule")."""
    return bool(text) and _all_called_incidental(text, [(s, e) for s, e, _ in d.evidence])


def _all_called_incidental(text: str, spans) -> bool:
    """There are spans, and each sits in a sentence of ``text`` that calls it incidental."""
    return bool(spans) and all(_INCIDENTAL.search(_clause_of(text, s, e)) for s, e in spans)


def _clause_of(text: str, start: int, end: int) -> str:
    """The sentence around a span: bounded by line breaks and by "." or ";" followed by a space (not "1.4 cm")."""
    lo = text.rfind("\n", 0, start) + 1
    cuts = [lo] + [lo + m.end() for m in re.finditer(r"[.;](?=\s)", text[lo:start])]
    lo = max(cuts)
    hi = text.find("\n", end)
    hi = len(text) if hi < 0 else hi
    m = re.search(r"[.;](?=\s)", text[end:hi])
    return text[lo:end + m.start() if m else hi]


def confirmed_answers(mentions, reason_sections=None) -> set:
    """Codes the indication/exam title names as a present imaging finding (lexicon kind ``finding``: nodule, mass,
    effusion) or as the question (hypothetical/uncertain) that a present body/impression mention confirms with the
    same code; not symptoms ("dysphagia", "pain" restated)."""
    reason_sections = reason_sections or REASON_SECTIONS
    confirmed = {m.code for m in mentions if m.code and m.assertion == "present" and m.section not in reason_sections}
    out = set()
    for m in mentions:
        if (m.code in confirmed and m.section in reason_sections
                and m.assertion in ("present", "hypothetical", "uncertain")):
            c = _concept(m.code)
            if m.assertion != "present":
                out.add(m.code)  # the question of the exam, answered
            elif (c.kind if c is not None else _category_kind(m.code)) == "finding":
                out.add(m.code)  # the indication's own imaging finding (nodule, mass), confirmed
    return out


_TRAUMA = re.compile(r"\b(fall|fell|struck|trauma|traumatic|injur\w*|mvc|mva|motor vehicle|collision|assault\w*|"
                     r"twist\w*|blow to|hit by|invert\w*|inversion|tripped|slipped|jammed|sprain\w*|"
                     r"rolled (?:\w+ )?(?:ankle|knee)|hyperextension|dislocat\w*|tackled|crush\w*)\b", re.I)
def body_system(code: str) -> str | None:
    """The lexicon body system of a code: its concept's, else the one body system the concepts of its 3-character
    category agree on (I82.612 takes I82.622's cardiovascular)."""
    c = _concept(code)
    if c is not None and c.body_system:
        return c.body_system
    return _category_agreement(code, "body_system")


BESIDE_REASON = "coded beside a confirmed diagnosis"


def _relevance_order(order: list, by_code: dict, mentions, reason_sections, text: str = "") -> list:
    """First-listed order (§5 rules 1 and 5): among the diagnoses and abnormal findings, those of the body
    system the indication asks about come first; confirmed findings of another system are incidental and
    follow the indication's signs/symptoms. A primary malignancy the indication names comes before its
    confirmed secondary (metastatic) sites (the cancer being staged explains the exam)."""
    if not ORDER_BY_RELEVANCE:
        return order
    systems = set()
    for m in mentions:
        if m.code and m.section in reason_sections and m.assertion not in ("negated", "family"):
            sy = body_system(m.code)
            if sy and sy != "general":
                systems.add(sy)
    # an injury mechanism in the report ("ground-level fall, struck head") makes the injuries the answer
    trauma = bool(_TRAUMA.search(text or ""))
    # the question of the exam ("eval for PE", "r/o fracture"): a confirmed answer to it is first-listed
    asked = {m.code[:3] for m in mentions if m.code and m.section in reason_sections
             and m.assertion in ("hypothetical", "uncertain")}
    rules = selection_rules()
    # the exam itself names the body system it evaluates ("CAROTID DUPLEX", "HEMODIALYSIS ACCESS" -> vascular):
    # confirmed findings of that system answer the exam even when the indication's symptom has another system
    # (amaurosis fugax -> carotid stenosis; ESRD with bleeding access -> outflow stenosis)
    title = _title(text)
    systems |= {sy for sy, rx in rules.exam_system if rx.search(title)} if systems else set()
    # the indication's own finding or question ("lung nodule", "eval for posterior fossa mass") that the body/
    # impression confirms with the same code is the answer to the exam: it is first-listed (Section IV.K)
    answers = {c for c in confirmed_answers(mentions, reason_sections) if c in by_code}
    # what characterizes the mass the indication presents with ("neck mass" -> the lymphadenopathy it is) answers it
    presenting = {m.code for m in mentions if m.code and m.section in reason_sections and m.assertion == "present"}
    for pats, by in rules.characterized:
        if any(code_matches(p_, q) for p_ in presenting for q in pats):
            answers |= {c for c in by_code if c not in presenting and any(code_matches(c, q) for q in by)}
    if trauma and any(_is_injury(c) and d.reason == "confirmed diagnosis" for c, d in by_code.items()):
        answers = {c for c in answers if not is_symptom_like(c)}  # the injury answers a trauma exam, not its signs
    secondary = any(_is_secondary_neoplasm(c) for c in by_code)
    # a sign/symptom the confirmed diagnoses do not explain is the reason for the exam: the chronic findings that
    # could not explain it (``not_explaining``) are incidental and follow it (§5 rules 1 and 5)
    symptom_reason = any(k[0] == 2 for k, _ in order)
    body = [m for m in mentions if m.code and m.assertion == "present" and m.section not in reason_sections]
    # an abnormal finding the impression calls suspicious for malignancy ("new lung nodule, suspicious for
    # metastasis"; "renal mass, highly suspicious for RCC") is what the exam found: it is first-listed before the
    # indication's sign/symptom (Section IV.K: code the findings of the interpreted study)
    suspicious = set()
    if text:
        clauses = {_clause_of(text, u.start, u.end) for u in mentions if u.assertion == "uncertain"
                   and u.section == "impression" and u.code and _is_suspected_malignancy(u.code)}
        suspicious = {m.code for m in body if m.section == "impression" and is_symptom_like(m.code)
                      and _clause_of(text, m.start, m.end) in clauses
                      and (not systems or _system_family(body_system(m.code)) in {_system_family(x) for x in systems})}
        # a confirmed/known malignancy is the diagnosis; its suspicious-looking mass follows it
        if any(_is_suspected_malignancy(c) and not is_symptom_like(c) and c[:1] == "C" for c in by_code):
            suspicious = set()
    # a screening exam (§7.22.2(a)) is answered by the findings the screen looks for (a lung nodule on lung cancer
    # screening); its other confirmed findings (emphysema, coronary calcification) are incidental
    screening = [c for k, c in order if k[0] == 0 and code_kind(c) == "screening"]
    # §7.23.1: the infarct/occlusion whose deficits are coded beside it answers the exam
    beside = [c for c, d in by_code.items() if d.reason == BESIDE_REASON]
    beside_dx = {c for c in by_code if beside and any(rules.is_coded_beside(s, {c}) for s in beside)}
    out = []
    for key, code in order:
        tier = key[0]
        if tier not in (1, 2, 3):
            out.append((key, code))
            continue
        target = rules.screening_target(screening, code) if screening and tier in (1, 3) else None
        if target is not None and SCREENING_TARGETS:
            if not target and by_code[code].reason == "known diagnosis (indication)":
                out.append(((5, 0) + tuple(key), code))  # a risk factor the indication names (current smoker)
            else:
                out.append(((1, -1 if target else 1) + tuple(key), code))
            continue
        if code in beside_dx:
            out.append(((1, -1) + tuple(key), code))
            continue
        if by_code[code].reason == "confirmed diagnosis" and any(code_matches(code, p) for p in rules.sequence_first):
            out.append(((1, -2) + tuple(key), code))
            continue
        if secondary and by_code[code].reason == "known diagnosis (indication)" and _is_primary_malignancy(code):
            out.append(((1, 0, 0) + tuple(key[1:]), code))
            continue
        rel = 0
        sy = body_system(code)
        if tier != 2 and INCIDENTAL_LAST and (_called_incidental(by_code[code], text) or (
                text and _incidental_code(code, body, text))):
            rel = 1  # §7.19: what the report itself calls incidental follows the answer to the indication
        elif ANSWER_FIRST and (code in answers or code in suspicious):
            rel = -1
        elif (tier == 3 and ABNORMAL_ANSWER_FIRST and symptom_reason and key[1] == SECTION_RANK["impression"]
              and systems and sy and sy != "general" and sy in systems):
            # §7.22.2(b): an impression's abnormal finding of the system the indication's symptom asks about answers
            # it: after the confirmed diagnoses, before the symptom
            out.append(((1, 0, 2, -1) + tuple(key[1:]), code))
            continue
        elif tier == 1 and symptom_reason and not rules.explains_symptoms(code):
            rel = 1
        elif tier == 1 and ANSWER_FIRST and code[:3] in asked and by_code[code].reason == "confirmed diagnosis":
            rel = -1
        elif tier == 1 and trauma and _is_injury(code) and by_code[code].reason == "confirmed diagnosis":
            rel = 0
        elif tier != 2 and systems and sy and sy not in systems:
            rel = 1
        out.append(((1, rel) + tuple(key), code))
    # §7.22.2(d)-(e): what does not answer the indication follows the statuses and history codes, when something
    # (a diagnosis, an abnormal finding or the indication's sign/symptom) does answer it
    if HISTORY_BEFORE_INCIDENTAL and any(k[0] == 1 and k[1] <= 0 for k, _ in out):
        out = [(((5, 5) + k[2:]) if k[0] == 1 and k[1] == 1 else k, c) for k, c in out]
    return out


def make_flag(code: str, message: str, evidence=()) -> Flag:
    return Flag(code, message, tuple(Evidence(s, e, t) for s, e, t in evidence))


def ev(doc_text: str, pairs) -> tuple[Evidence, ...]:
    return tuple(Evidence(s, e, doc_text[s:e]) for s, e in pairs)


__all__ = [
    "DiagnosisCode",
    "FindingMention",
    "IcdDecision",
    "ProcedureLine",
    "code_icd10",
    "ev",
    "make_flag",
    "modifiers_for",
    "select_cpt",
]
