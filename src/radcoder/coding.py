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


def code_kind(code: str) -> str:
    """Coding role of an ICD-10-CM code: ``external`` (V00-Y99, optional in outpatient coding, never
    first-listed), ``symptom`` (chapter 18, R codes: signs, symptoms, abnormal findings), ``status``
    (Z codes; refined by the lexicon: screening, history, encounter) or ``diagnosis`` (everything else)."""
    c = _concept(code)
    if c is not None and c.kind in LEXICON_KINDS:
        return c.kind
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
# encounter codes the gold never lists for a diagnostic radiology report (follow-up visit, ruled-out observation)
UNCODED_ENCOUNTER = frozenset({"Z09", "Z03.89"})
# §5.2 / §7.2: a cause stated for withholding contrast or for the technique is a present condition even inside a
# negated clause ("contrast was not given due to chronic kidney disease")
_REASON_CUE = re.compile(r"\b(due to|because of|secondary to|given (?:the |his |her )?(?:known )?|owing to)\s*$", re.I)
_SCREEN_WORD = re.compile(r"\bscreen(?:ing)?\b", re.I)
# generic screening codes made specific by what the exam/indication names (§7.2)
SCREENING_CONTEXT = (
    (re.compile(r"\b(dexa|dxa|bone (?:mineral )?density|osteopor|densitometry)", re.I), "Z13.820"),
    (re.compile(r"\b(mammo|breast|tomosynthesis)", re.I), "Z12.31"),
    (re.compile(r"\b(lung cancer|low[- ]dose ct|ldct|lung)", re.I), "Z12.2"),
    (re.compile(r"\b(coronary|calcium scor|cardiovascular|aneurysm|aaa|carotid)", re.I), "Z13.6"),
    (re.compile(r"\b(colon|colonograph|colorectal)", re.I), "Z12.11"),
)
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
    elif (code and assertion == "present" and m.section in reason_sections and text
          and code_kind(code) == "diagnosis" and _SCREEN_WORD.search(_line_of(text, m.start, m.end))):
        assertion = "hypothetical"
    if assertion == m.assertion and code == m.code:
        return m
    return replace(m, assertion=assertion, code=code)


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

    def add(code: str, reason: str, m: FindingMention, rank_key: tuple):
        if not code or (icd is not None and not icd.is_billable(code)):
            return
        if code not in by_code:
            by_code[code] = IcdDecision(code, reason)
            order.append((rank_key, code))
        by_code[code].evidence.append((m.start, m.end, m.text))

    # the exam title and technique name what was looked for, not what was found: like the indication
    reason_sections = ("indication", "exam", "technique")
    mentions = [_gold_view(m, text, reason_sections) for m in mentions]
    present = [m for m in mentions if m.code and m.assertion == "present" and code_kind(m.code) != "external"
               and m.code not in UNCODED_ENCOUNTER]
    confirmed = [m for m in present if m.section not in reason_sections]
    indication = [m for m in present if m.section in reason_sections]
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
        c = _concept(m.code)
        if m.assertion == "historical" and c is not None and c.history_code:
            add(c.history_code, "history of", m, (5, 0, m.start))
        elif m.assertion == "historical" and code_kind(m.code) == "history":
            add(m.code, "history of", m, (5, 0, m.start))
        elif m.assertion == "family" and c is not None and c.family_code:
            add(c.family_code, "family history", m, (6, 0, m.start))
    codes = [c for _, c in sorted(order)]
    if icd is not None:  # Excludes1: keep the higher-ranked code
        kept: list[str] = []
        for c in codes:
            if not any(icd.excludes1_conflict(c, k) for k in kept):
                kept.append(c)
        codes = kept
    return [by_code[c] for c in codes]


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
