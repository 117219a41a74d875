"""THE results schema shared by the pipeline, batch, CLI and evaluation.

Offsets are character offsets into the input text, half-open ``[start, end)``.
The JSON form is fixed by ``shared/SPEC.md`` (the "output record"); fields may be added, never renamed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import Errors, RadcoderError

SCHEMA_VERSION = "1.0"
ASSERTIONS = ("present", "negated", "uncertain", "historical", "hypothetical", "family")
LABELS = ("MODALITY", "ANATOMY", "LATERALITY", "CONTRAST", "VIEWS", "GUIDANCE", "PROCEDURE", "FINDING")
SECTIONS = ("exam", "indication", "technique", "comparison", "findings", "impression", "other")
SETTINGS = ("global", "professional", "technical")
PAYERS = ("medicare", "commercial")
FLAG_CODES = (
    "missing_laterality", "missing_indication", "header_body_discrepancy",
    "incomplete_guidance_documentation", "contrast_unclear", "views_missing",
    "ultrasound_completeness_unsupported", "medical_necessity_unsupported", "ncci_conflict",
    "mue_exceeded",
)


@dataclass(frozen=True)
class Evidence:
    start: int
    end: int
    text: str = ""

    def to_dict(self) -> dict:
        return {"start": self.start, "end": self.end, "text": self.text}

    @classmethod
    def from_dict(cls, d: Mapping) -> Evidence:
        return cls(int(d["start"]), int(d["end"]), str(d.get("text", "")))


@dataclass(frozen=True)
class ProcedureLine:
    code: str
    modifiers: tuple[str, ...] = ()
    units: int = 1
    score: float = 1.0
    evidence: tuple[Evidence, ...] = ()
    description: str = ""
    alternatives: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        d = {"code": self.code, "modifiers": list(self.modifiers), "units": self.units,
             "score": round(float(self.score), 4), "evidence": [e.to_dict() for e in self.evidence]}
        if self.description:
            d["description"] = self.description
        if self.alternatives:
            d["alternatives"] = list(self.alternatives)
        return d

    @classmethod
    def from_dict(cls, d: Mapping) -> ProcedureLine:
        return cls(str(d["code"]), tuple(d.get("modifiers", ())), int(d.get("units", 1)),
                   float(d.get("score", 1.0)), tuple(Evidence.from_dict(e) for e in d.get("evidence", ())),
                   str(d.get("description", "")), tuple(d.get("alternatives", ())))


@dataclass(frozen=True)
class DiagnosisCode:
    code: str
    rank: int
    score: float = 1.0
    evidence: tuple[Evidence, ...] = ()
    description: str = ""
    reason: str = ""

    def to_dict(self) -> dict:
        d = {"code": self.code, "rank": self.rank, "score": round(float(self.score), 4),
             "evidence": [e.to_dict() for e in self.evidence]}
        if self.description:
            d["description"] = self.description
        if self.reason:
            d["reason"] = self.reason
        return d

    @classmethod
    def from_dict(cls, d: Mapping) -> DiagnosisCode:
        return cls(str(d["code"]), int(d["rank"]), float(d.get("score", 1.0)),
                   tuple(Evidence.from_dict(e) for e in d.get("evidence", ())),
                   str(d.get("description", "")), str(d.get("reason", "")))


@dataclass(frozen=True)
class Entity:
    start: int
    end: int
    label: str
    text: str = ""
    assertion: str | None = None
    section: str | None = None
    icd10cm: str | None = None

    def to_dict(self) -> dict:
        return {"start": self.start, "end": self.end, "label": self.label, "text": self.text,
                "assertion": self.assertion, "section": self.section, "icd10cm": self.icd10cm}

    @classmethod
    def from_dict(cls, d: Mapping) -> Entity:
        return cls(int(d["start"]), int(d["end"]), str(d["label"]), str(d.get("text", "")),
                   d.get("assertion"), d.get("section"), d.get("icd10cm"))


@dataclass(frozen=True)
class Flag:
    code: str
    message: str
    evidence: tuple[Evidence, ...] = ()

    def to_dict(self) -> dict:
        return {"code": self.code, "message": self.message, "evidence": [e.to_dict() for e in self.evidence]}

    @classmethod
    def from_dict(cls, d: Mapping) -> Flag:
        return cls(str(d["code"]), str(d.get("message", "")),
                   tuple(Evidence.from_dict(e) for e in d.get("evidence", ())))


@dataclass(frozen=True)
class ErrorInfo:
    code: str
    message: str

    def to_dict(self) -> dict:
        return {"code": self.code, "message": self.message}


@dataclass(frozen=True)
class ReportResult:
    """One output record. ``error`` is set (and every list empty) when the report could not be coded."""

    id: str
    model: str
    cpt: tuple[ProcedureLine, ...] = ()
    hcpcs: tuple[ProcedureLine, ...] = ()
    icd10cm: tuple[DiagnosisCode, ...] = ()
    entities: tuple[Entity, ...] = ()
    flags: tuple[Flag, ...] = ()
    error: ErrorInfo | None = None
    frames: tuple[Mapping[str, Any], ...] = ()
    route: str | None = None
    codesets: Mapping[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict:
        d = {
            "id": self.id, "model": self.model,
            "cpt": [c.to_dict() for c in self.cpt], "hcpcs": [c.to_dict() for c in self.hcpcs],
            "icd10cm": [c.to_dict() for c in self.icd10cm], "entities": [e.to_dict() for e in self.entities],
            "flags": [f.to_dict() for f in self.flags],
            "error": self.error.to_dict() if self.error else None,
            "frames": [dict(f) for f in self.frames], "route": self.route,
            "schema_version": SCHEMA_VERSION, "codesets": dict(self.codesets),
        }
        return d

    @classmethod
    def from_dict(cls, d: Mapping) -> ReportResult:
        err = d.get("error")
        return cls(
            id=str(d["id"]), model=str(d.get("model", "")),
            cpt=tuple(ProcedureLine.from_dict(x) for x in d.get("cpt", ())),
            hcpcs=tuple(ProcedureLine.from_dict(x) for x in d.get("hcpcs", ())),
            icd10cm=tuple(DiagnosisCode.from_dict(x) for x in d.get("icd10cm", ())),
            entities=tuple(Entity.from_dict(x) for x in d.get("entities", ())),
            flags=tuple(Flag.from_dict(x) for x in d.get("flags", ())),
            error=ErrorInfo(str(err["code"]), str(err["message"])) if err else None,
            frames=tuple(dict(f) for f in d.get("frames", ())), route=d.get("route"),
            codesets=dict(d.get("codesets", {})),
        )

    @classmethod
    def failed(cls, report_id: str, model: str, code: str, message: str) -> ReportResult:
        return cls(id=report_id, model=model, error=ErrorInfo(code, message))


def _check(cond: bool, fieldname: str, detail: str) -> None:
    if not cond:
        raise RadcoderError(Errors.E202.format(field=fieldname, detail=detail))


def _check_evidence(ev: Any, where: str, text_len: int | None) -> None:
    _check(isinstance(ev, list), where, "evidence must be a list")
    for e in ev:
        _check(isinstance(e, dict) and isinstance(e.get("start"), int) and isinstance(e.get("end"), int),
               where, "evidence items need integer start/end")
        _check(0 <= e["start"] <= e["end"], where, f"bad offsets {e['start']}..{e['end']}")
        if text_len is not None:
            _check(e["end"] <= text_len, where, f"offset {e['end']} beyond text length {text_len}")


def validate_record(rec: Mapping, text: str | None = None) -> None:
    """Raise RadcoderError (E202) if ``rec`` does not follow the output-record schema.

    With ``text``, offsets are checked against it and every ``text`` field must equal its slice.
    """
    n = len(text) if text is not None else None
    for key in ("id", "model", "cpt", "hcpcs", "icd10cm", "entities", "flags", "error"):
        _check(key in rec, key, "missing")
    _check(isinstance(rec["id"], str) and rec["id"] != "", "id", "must be a non-empty string")
    if rec["error"] is not None:
        err = rec["error"]
        _check(isinstance(err, dict) and "code" in err and "message" in err, "error", "needs code and message")
        for key in ("cpt", "hcpcs", "icd10cm", "entities", "flags"):
            _check(rec[key] == [], key, "must be empty when error is set")
        return
    for key in ("cpt", "hcpcs"):
        for line in rec[key]:
            _check(isinstance(line.get("code"), str) and line["code"], key, "code must be a string")
            _check(isinstance(line.get("modifiers"), list), key, "modifiers must be a list")
            _check(isinstance(line.get("units"), int) and line["units"] >= 1, key, "units must be an int >= 1")
            _check(0.0 <= float(line.get("score", 0)) <= 1.0, key, "score must be in [0, 1]")
            _check_evidence(line.get("evidence", []), key, n)
    ranks = []
    for c in rec["icd10cm"]:
        _check(isinstance(c.get("code"), str) and "." in c["code"] or len(c.get("code", "")) == 3,
               "icd10cm", f"code {c.get('code')!r} must be written with the dot")
        _check(0.0 <= float(c.get("score", 0)) <= 1.0, "icd10cm", "score must be in [0, 1]")
        ranks.append(c.get("rank"))
        _check_evidence(c.get("evidence", []), "icd10cm", n)
    _check(ranks == list(range(1, len(ranks) + 1)), "icd10cm", "ranks must be 1..n in order")
    for e in rec["entities"]:
        _check(e.get("label") in LABELS, "entities", f"label {e.get('label')!r} not in {LABELS}")
        _check(e.get("assertion") is None or e["assertion"] in ASSERTIONS, "entities",
               f"assertion {e.get('assertion')!r} not in {ASSERTIONS}")
        _check(e.get("section") is None or e["section"] in SECTIONS, "entities",
               f"section {e.get('section')!r} not in {SECTIONS}")
        _check(isinstance(e.get("start"), int) and isinstance(e.get("end"), int)
               and 0 <= e["start"] < e["end"], "entities", "bad offsets")
        if text is not None:
            _check(e["end"] <= n and text[e["start"]:e["end"]] == e.get("text"), "entities",
                   f"text does not match offsets {e['start']}..{e['end']}")
    for f in rec["flags"]:
        _check(isinstance(f.get("code"), str) and f["code"], "flags", "flag code must be a string")
        _check_evidence(f.get("evidence", []), "flags", n)
