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
from dataclasses import dataclass, field
from typing import Optional

from .cpt_coding import SCREENING_RE, modifiers_for, select_cpt  # noqa: F401  (re-exported)
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
        from dataclasses import replace
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

    def is_uncoded(self, code: str) -> bool:
        return code in self.uncoded_exact or any(code.startswith(p) for p in self.uncoded_prefixes)


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
        for _, r in iter_jsonl(resource_path("rules", "icd_selection.jsonl")):
            kind = r.get("rule")
            if kind == "uncoded":
                for c in r["codes"]:
                    (prefixes.append(c[:-1]) if c.endswith("*") else exact.add(c))
            elif kind == "generic":
                rngs = tuple(tuple(x.split("-")) if "-" in x else (x, x) for x in r["within"])
                for c in r["codes"]:
                    generic.append((c, rngs))
            elif kind == "surveillance":
                surv.append((r["code"], r["history_prefix"], re.compile(r["cue"], re.I)))
            elif kind == "explained_finding":
                explained.extend(r["concepts"])
        _RULES = SelectionRules(frozenset(exact), tuple(prefixes), tuple(generic), tuple(surv), frozenset(explained))
    return _RULES


def _unspecified(icd, code: str) -> bool:
    try:
        return "unspecified" in (icd.description(code) or "").lower()
    except Exception:  # noqa: BLE001 - unknown code: treat as specified
        return False


def prune_codes(codes: list[str], icd=None) -> list[str]:
    """Drop codes a more specific selected code makes redundant (ICD-10-CM I.B.18 / Section IV.D: an
    unspecified code is not assigned when the documentation supports a specific one):
    - a generic code of the data file ("C80.1 malignant neoplasm, unspecified") when a selected code falls in
      its range;
    - a code whose title says "unspecified" when a selected code of the same 3-character category does not."""
    rules = selection_rules()
    out = []
    for c in codes:
        others = [k for k in codes if k != c]
        drop = False
        for g, rngs in rules.generic:
            if c == g and any(_in_range(k, r) and k not in {x for x, _ in rules.generic} for k in others for r in rngs):
                drop = True
        if not drop and icd is not None and _unspecified(icd, c):
            drop = any(k[:3] == c[:3] and not _unspecified(icd, k) for k in others)
        if not drop:
            out.append(c)
    return out
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
    return c is not None and c.kind in SYMPTOM_LIKE_KINDS


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


def _gold_view(m: "FindingMention", text: str, reason_sections) -> "FindingMention":
    """The mention as the gold reads it: reason-for-technique negations are present, the condition a
    screening exam looks for is hypothetical (§7.2), a generic screening code gets the exam's target."""
    from dataclasses import replace
    assertion = effective_assertion(m, text)
    code = m.code
    if code and (code in GENERIC_SCREENING or code_kind(code) == "screening") and text:
        code = specific_screening_code(code, text, m)
        if code == "Z12.31" and not _MAMMO.search(text):  # breast screening by ultrasound/MRI, not mammography
            code = "Z12.39"
    elif (code and assertion == "present" and m.section in reason_sections and text
          and code_kind(code) == "diagnosis" and _SCREEN_WORD.search(_line_of(text, m.start, m.end))):
        assertion = "hypothetical"
    if assertion == m.assertion and code == m.code:
        return m
    return replace(m, assertion=assertion, code=code)


REASON_SECTIONS = ("indication", "exam", "technique")


def is_sectioned(mentions: Sequence[FindingMention], has_impression: Optional[bool] = None) -> bool:
    return bool(has_impression) or any(m.section in ("findings", "impression") for m in mentions)


def coding_view(mentions: Sequence[FindingMention], text: str, has_impression: Optional[bool] = None) -> list:
    """The mentions as the ICD rules read them (also the ranker's input): the gold view of each mention
    (``_gold_view``), and in a terse report without FINDINGS/IMPRESSION headers the unheaded body lines are
    findings (§7.8), even where the sectionizer left them in the technique."""
    out = [_gold_view(m, text, REASON_SECTIONS) for m in mentions]
    if not is_sectioned(out, has_impression) and TERSE_TECHNIQUE_IS_FINDINGS:
        from dataclasses import replace
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
               and not selection_rules().is_uncoded(m.code)]
    confirmed = [m for m in present if m.section not in reason_sections]
    indication = [m for m in present if m.section in reason_sections]
    # a diagnosis named only in the exam title or the technique is what was looked for or how the exam was
    # done ("CTA for PE", "time-of-flight", "CAD" software, "claustrophobia"), not a reason for the exam;
    # the exception is the condition a contrast decision was made for ("not given due to CKD")
    # (only in a sectioned report: without FINDINGS/IMPRESSION the unlabelled body may sit in those sections)
    if sectioned:
        indication = [m for m in indication if not _technique_only(m, present, text)]
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
    explained = bool(diagnoses) and DROP_SYMPTOMS_WITH_DIAGNOSIS
    integral: set[str] = set()
    systems: set[str] = set()
    for m in diagnoses + [m for m in indication if code_kind(m.code) == "diagnosis"]:
        c = _concept(m.code)
        if c:
            integral.update(c.integral_symptoms)
            systems.add(c.body_system)
    for m in indication + confirmed:
        kind = code_kind(m.code)
        if kind == "screening" and (screening or m.section in reason_sections):
            add(m.code, "screening encounter", m, (0, 0, m.start))
    for m in diagnoses:
        add(m.code, "confirmed diagnosis", m, (1, SECTION_RANK.get(m.section, 7), m.start))
    for m in indication:
        kind = code_kind(m.code)
        c = _concept(m.code)
        if kind == "diagnosis" and is_symptom_like(m.code):
            if explained or m.code in integral:
                continue
            add(m.code, "sign/symptom/reason for exam", m, (2, 0, m.start))
        elif kind == "diagnosis":
            add(m.code, "known diagnosis (indication)", m, (1, 8, m.start))
        elif kind == "history":
            add(m.code, "history of", m, (5, 0, m.start))
        elif kind in ("status", "encounter"):
            add(m.code, "status", m, (4, 0, m.start))
        elif kind == "symptom":
            if explained or m.code in integral or (SYSTEM_SUPPRESSION and c is not None and c.body_system and c.body_system in systems):
                continue  # integral to / explained by a confirmed diagnosis
            add(m.code, "sign/symptom/reason for exam", m, (2, 0, m.start))
    for m in confirmed:
        kind = code_kind(m.code)
        if kind == "diagnosis" and is_symptom_like(m.code) and m.code not in integral:
            add(m.code, "abnormal finding", m, (3, SECTION_RANK.get(m.section, 7), m.start))
        elif kind == "history":
            add(m.code, "history of", m, (5, 0, m.start))
        elif kind == "symptom" and m.code not in integral:
            add(m.code, "abnormal finding", m, (3, SECTION_RANK.get(m.section, 7), m.start))
        elif kind in ("status", "encounter"):
            add(m.code, "status", m, (4, 1, m.start))
    for m in mentions:
        if not m.code:
            continue
        c = _history_concept(m) if m.assertion in ("historical", "family") else _concept(m.code)
        if m.assertion == "historical" and c is not None and c.history_code:
            add(c.history_code, "history of", m, (5, 0, m.start))
        elif m.assertion == "historical" and code_kind(m.code) == "history":
            add(m.code, "history of", m, (5, 0, m.start))
        elif m.assertion == "family" and c is not None and c.family_code:
            add(c.family_code, "family history", m, (6, 0, m.start))
    # surveillance after treated cancer with nothing new to code: the follow-up encounter code first
    findings_reasons = ("sign/symptom/reason for exam", "abnormal finding")
    for zcode, hist, cue in selection_rules().surveillance:
        if (any(k.startswith(hist) for k in by_code) and cue.search(text or "")
                and not any(d.reason in findings_reasons or "C00" <= k[:3] <= "D49" for k, d in by_code.items())
                and (icd is None or icd.is_billable(zcode))):
            by_code.setdefault(zcode, IcdDecision(zcode, "surveillance after treated malignancy"))
            order.append(((0, 1, 0), zcode))
    order = _drop_explained_findings(order, by_code, concepts_of)
    order = _relevance_order(order, by_code, mentions, reason_sections)
    codes = [c for _, c in sorted(order)]
    codes = prune_codes(codes, icd)
    if icd is not None:  # Excludes1: keep the higher-ranked code
        kept: list[str] = []
        for c in codes:
            if not any(icd.excludes1_conflict(c, k) for k in kept):
                kept.append(c)
        codes = kept
    return [by_code[c] for c in codes]


DROP_EXPLAINED_FINDINGS = True
_REASON_REASONS = ("sign/symptom/reason for exam", "known diagnosis (indication)")


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


def _is_secondary_neoplasm(code: str) -> bool:
    return "C77" <= code[:3] <= "C79" or code[:3] == "C7B"


def _is_primary_malignancy(code: str) -> bool:
    return code[:1] == "C" and not _is_secondary_neoplasm(code) and code[:3] not in ("C80",)


ORDER_BY_RELEVANCE = True
ANSWER_FIRST = True


def _relevance_order(order: list, by_code: dict, mentions, reason_sections) -> list:
    """First-listed order (§5 rules 1 and 5): among the diagnoses and abnormal findings, those of the body
    system the indication asks about come first; confirmed findings of another system are incidental and
    follow the indication's signs/symptoms. A primary malignancy the indication names comes before its
    confirmed secondary (metastatic) sites (the cancer being staged explains the exam)."""
    if not ORDER_BY_RELEVANCE:
        return order
    systems = set()
    for m in mentions:
        if m.code and m.section in reason_sections and m.assertion not in ("negated", "family"):
            c = _concept(m.code)
            if c is not None and c.body_system and c.body_system != "general":
                systems.add(c.body_system)
    # the question of the exam ("eval for PE", "r/o fracture"): a confirmed answer to it is first-listed
    asked = {m.code[:3] for m in mentions if m.code and m.section in reason_sections
             and m.assertion in ("hypothetical", "uncertain")}
    secondary = any(_is_secondary_neoplasm(c) for c in by_code)
    out = []
    for key, code in order:
        tier = key[0]
        if tier not in (1, 2, 3):
            out.append((key, code))
            continue
        if secondary and by_code[code].reason == "known diagnosis (indication)" and _is_primary_malignancy(code):
            out.append(((1, 0, 0) + tuple(key[1:]), code))
            continue
        rel = 0
        c = _concept(code)
        if tier == 1 and ANSWER_FIRST and code[:3] in asked and by_code[code].reason == "confirmed diagnosis":
            rel = -1
        elif tier != 2 and systems and c is not None and c.body_system and c.body_system not in systems:
            rel = 1
        out.append(((1, rel) + tuple(key), code))
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
