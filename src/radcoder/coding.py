"""Coding logic behind the ``radcoder_coder`` component (pure functions over frames and entities).

CPT/HCPCS: each exam frame is matched to the CPT attribute table (modality, region, contrast state,
views or completeness, laterality, subtype); modifiers follow the code's attributes and the billing
setting. ICD-10-CM follows the ICD-10-CM Official Guidelines, Section IV (outpatient):
confirmed diagnoses only, never negated/uncertain/hypothetical findings, symptoms integral to a
confirmed diagnosis dropped, normal study -> the indication, screening Z code first, history -> Z codes,
Excludes1 pairs never together, first-listed order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

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


def code_icd10(mentions: Sequence[FindingMention], text: str, icd=None, screening: bool = False) -> list[IcdDecision]:
    """Apply the outpatient guidelines to the asserted findings of one report; returns ordered codes."""
    by_code: dict[str, IcdDecision] = {}
    order: list[tuple] = []

    def add(code: str, reason: str, m: FindingMention, rank_key: tuple):
        if not code:
            return
        if icd is not None and not icd.is_billable(code):
            return
        if code not in by_code:
            by_code[code] = IcdDecision(code, reason)
            order.append((rank_key, code))
        by_code[code].evidence.append((m.start, m.end, m.text))

    # the exam title and technique name what was looked for, not what was found: like the indication
    reason_sections = ("indication", "exam", "technique")
    confirmed = [m for m in mentions if m.code and m.assertion == "present" and m.section not in reason_sections]
    indication = [m for m in mentions if m.code and m.assertion == "present" and m.section in reason_sections]
    confirmed_kinds = {}
    for m in confirmed + indication:
        c = _concept(m.code)
        confirmed_kinds[m.code] = c.kind if c else "finding"
    diagnoses = [m for m in confirmed if confirmed_kinds.get(m.code) not in ("status", "history")]
    integral = set()
    systems = set()
    for m in diagnoses + [m for m in indication if confirmed_kinds.get(m.code) == "diagnosis"]:
        c = _concept(m.code)
        if c:
            integral.update(c.integral_symptoms)
            if c.kind == "diagnosis":
                systems.add(c.body_system)
    if screening:
        for m in indication + confirmed:
            c = _concept(m.code)
            if c and c.kind == "screening":
                add(m.code, "screening encounter", m, (0, 0, m.start))
    for m in indication:
        c = _concept(m.code)
        kind = c.kind if c else "finding"
        if kind in ("screening",):
            add(m.code, "reason for exam", m, (0, 1, m.start))
            continue
        if kind in ("diagnosis",):
            add(m.code, "known diagnosis (indication)", m, (1, 0, m.start))
            continue
        if kind in ("status", "history"):
            add(m.code, "status", m, (4, 0, m.start))
            continue
        if m.code in integral:
            continue
        if c and c.body_system in systems and kind in ("symptom", "sign"):
            continue  # explained by a confirmed diagnosis of the same body system
        add(m.code, "sign/symptom/reason for exam", m, (2, 0, m.start))
    for m in confirmed:
        c = _concept(m.code)
        kind = c.kind if c else "finding"
        if m.code in integral and kind in ("symptom", "sign"):
            continue
        rank = (1, SECTION_RANK.get(m.section, 7), m.start) if kind == "diagnosis" else \
               (3, SECTION_RANK.get(m.section, 7), m.start) if kind not in ("status", "history") else (4, 0, m.start)
        add(m.code, "confirmed finding" if kind != "status" else "status", m, rank)
    for m in mentions:
        if m.assertion == "historical" and m.code:
            c = _concept(m.code)
            if c and c.history_code:
                add(c.history_code, "history of", m, (5, 0, m.start))
        elif m.assertion == "family" and m.code:
            c = _concept(m.code)
            if c and c.family_code:
                add(c.family_code, "family history", m, (6, 0, m.start))
    codes = [c for _, c in sorted(order)]
    # Excludes1: keep the earlier (higher-ranked) code
    if icd is not None:
        kept: list[str] = []
        for c in codes:
            if any(icd.excludes1_conflict(c, k) for k in kept):
                continue
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
