"""Term lexicons (data files under resources/lexicons and resources/codesets/regions.jsonl).

- term files map a surface form to a normalized value (modality, contrast state, views, guidance,
  procedure, laterality);
- ``findings.jsonl`` maps findings and diagnoses (with synonyms) to ICD-10-CM codes;
- ``regions.jsonl`` maps anatomy words to the body-region ids of the CPT attribute table.

Everything is loaded once, immutable, in a deterministic order.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from types import MappingProxyType

from .datafiles import iter_jsonl, resource_path

TERM_FILES = {
    "MODALITY": "modality_terms.jsonl",
    "CONTRAST": "contrast_terms.jsonl",
    "VIEWS": "view_terms.jsonl",
    "GUIDANCE": "guidance_terms.jsonl",
    "PROCEDURE": "procedure_terms.jsonl",
    "LATERALITY": "laterality_terms.jsonl",
    "ANATOMY": "anatomy_terms.jsonl",   # exam-object terms that are not region synonyms (value = region id)
}

_WS = re.compile(r"\s+")
# region synonyms that are not body parts in running text
NON_ANATOMY = frozenset({"axial", "any", "appendicular", "peripheral", "central", "total", "body", "complete",
                         "limited", "skeleton", "bone", "bones", "joint", "joints", "extremity", "soft tissue"})


def norm(text: str) -> str:
    """Lower-case, collapse whitespace, strip surrounding punctuation."""
    return _WS.sub(" ", text.lower()).strip(" .,:;")


@dataclass(frozen=True)
class Concept:
    id: str
    term: str
    icd10cm: str | None
    synonyms: tuple[str, ...] = ()
    laterality: Mapping[str, str] | None = None
    acuity: Mapping[str, str] | None = None
    kind: str = "finding"
    body_system: str = ""
    integral_symptoms: tuple[str, ...] = ()
    history_code: str | None = None
    family_code: str | None = None


@dataclass(frozen=True)
class Region:
    region: str
    synonyms: tuple[str, ...]
    parent: str | None
    paired: bool


@cache
def term_maps() -> Mapping[str, Mapping[str, str]]:
    """label -> {normalized surface form: value}."""
    out = {}
    for label, fname in TERM_FILES.items():
        m = {}
        for _, row in iter_jsonl(resource_path("lexicons", fname)):
            m.setdefault(norm(row["literal"]), row["value"])
        out[label] = MappingProxyType(m)
    return MappingProxyType(out)


def _freeze(d):
    return MappingProxyType(dict(d)) if d else None


@cache
def findings() -> tuple[Concept, ...]:
    try:
        path = resource_path("lexicons", "findings.jsonl")
    except Exception:
        return ()
    out = []
    for _, r in iter_jsonl(path):
        out.append(Concept(
            id=r["id"], term=r["term"], icd10cm=r.get("icd10cm"), synonyms=tuple(r.get("synonyms") or ()),
            laterality=_freeze(r.get("laterality")), acuity=_freeze(r.get("acuity")),
            kind=r.get("kind") or "finding", body_system=r.get("body_system") or "",
            integral_symptoms=tuple(r.get("integral_symptoms") or ()), history_code=r.get("history_code"),
            family_code=r.get("family_code")))
    return tuple(out)


@cache
def finding_index() -> Mapping[str, Concept]:
    idx: dict[str, Concept] = {}
    for c in findings():
        for s in (c.term, *c.synonyms):
            idx.setdefault(norm(s), c)
    return MappingProxyType(idx)


@cache
def concepts_by_code() -> Mapping[str, Concept]:
    idx: dict[str, Concept] = {}
    for c in findings():
        for code in (c.icd10cm, *(c.laterality or {}).values(), *(c.acuity or {}).values()):
            if code:
                idx.setdefault(code, c)
    return MappingProxyType(idx)


@cache
def regions() -> tuple[Region, ...]:
    try:
        path = resource_path("codesets", "regions.jsonl")
    except Exception:
        return ()
    return tuple(Region(r["region"], tuple(r.get("synonyms") or ()), r.get("parent"), bool(r.get("paired")))
                 for _, r in iter_jsonl(path))


@cache
def region_index() -> Mapping[str, Region]:
    idx: dict[str, Region] = {}
    for r in regions():
        for s in (r.region.replace("_", " "), *r.synonyms):
            idx.setdefault(norm(s), r)
    return MappingProxyType(idx)


# words that the guideline keeps out of FINDING spans (cues, severity, laterality, encounter words)
_SPAN_STOP_FIRST = frozenset({
    "mild", "moderate", "severe", "small", "large", "tiny", "minimal", "trace", "displaced", "nondisplaced",
    "non-displaced", "left", "right", "bilateral", "history", "hx", "h/o", "family", "mother", "father",
    "sister", "brother", "evaluate", "eval", "rule", "r/o", "follow-up", "followup", "f/u", "surveillance",
    "encounter", "screening", "routine", "annual", "personal", "known", "possible", "probable", "no",
    "multiple", "focal", "diffuse", "patchy", "status", "s/p", "post", "prior", "old", "new", "bilat",
    # the historical cue "former" (§3) and descriptors that do not change the code (§7.9): a lexicon term that
    # starts with one ("palpable lump", "scattered fibroglandular density") is no minimal span and must not
    # stop the trimming of an NER span
    "former", "palpable", "scattered", "productive", "nonproductive", "persistent", "spiculated", "noncalcified",
    "extensive", "residual", "shadowing", "nonocclusive", "non-occlusive", "hypoechoic", "fat-containing",
    "several", "high-grade",
})
_SPAN_STOP_ANY = ("history of", "family history", "evaluate for", "rule out", "follow-up", "follow up",
                  "screening", "surveillance", "encounter", "assess for", "eval for")


def finding_pattern_ok(surface: str) -> bool:
    """Whether a lexicon surface form is a minimal FINDING span under the guideline (for NER patterns)."""
    t = norm(surface)
    if not t or len(t) < 2:
        return False
    first = t.split()[0]
    if first in _SPAN_STOP_FIRST and len(t.split()) > 1:
        return False
    return not any(x in t for x in _SPAN_STOP_ANY) or t in ("screening",)


@cache
def ruler_exclusions() -> tuple[tuple[str, str, str], ...]:
    """(label, normalized literal, "exact"|"prefix") surface forms that never become ruler patterns
    (resources/lexicons/ruler_exclusions.jsonl: ambiguous in running text or not annotated by the guideline)."""
    from .errors import ResourceError
    try:
        path = resource_path("lexicons", "ruler_exclusions.jsonl")
    except ResourceError:
        return ()
    return tuple((r["label"], norm(r["literal"]), r.get("match", "exact")) for _, r in iter_jsonl(path))


def ruler_pattern_ok(label: str, surface: str) -> bool:
    """Whether a lexicon surface form may be an entity-ruler pattern of ``label``."""
    t = norm(surface)
    for lab, lit, how in ruler_exclusions():
        if lab == label and (t == lit or (how == "prefix" and t.startswith(lit))):
            return False
    # a region synonym that is also a finding term ("effusion", "ascites", "aaa") is a FINDING, not an exam object
    return not (label == "ANATOMY" and t in finding_index())


def entity_patterns() -> list[dict]:
    """spaCy EntityRuler patterns for every lexicon (phrase patterns, matched on LOWER)."""
    pats: list[dict] = []
    seen = set()

    def add(label: str, text: str, pid: str) -> None:
        key = (label, norm(text))
        if not key[1] or key in seen or not ruler_pattern_ok(label, text):
            return
        seen.add(key)
        pats.append({"label": label, "pattern": text.lower(), "id": pid})

    for label, m in term_maps().items():
        for surface, value in m.items():
            if (label == "LATERALITY" and len(surface) == 1) or (label == "MODALITY" and surface == "us"):
                continue  # ambiguous short forms: only through the case-sensitive token patterns below
            add(label, surface, f"{label.lower()}:{value}")
    for r in regions():
        for s in (r.region.replace("_", " "), *r.synonyms):
            # guideline: "abdomen and pelvis" is two ANATOMY spans; frames recombine them
            if " and " in s or "," in s or norm(s) in NON_ANATOMY:
                continue
            add("ANATOMY", s, f"region:{r.region}")
    for c in findings():
        for s in (c.term, *c.synonyms):
            if finding_pattern_ok(s):
                add("FINDING", s, f"finding:{c.id}")
    # token patterns
    pats.append({"label": "MODALITY", "pattern": [{"ORTH": "US"}], "id": "modality:US"})
    num = {"LOWER": {"IN": ["1", "2", "3", "4", "5", "6", "one", "two", "three", "four", "five", "six", "single"]}}
    pats.append({"label": "VIEWS", "pattern": [num, {"LOWER": {"IN": ["view", "views", "v", "vw", "vws"]}}],
                 "id": "views:n"})
    pats.append({"label": "VIEWS", "pattern": [{"LOWER": {"IN": ["2v", "3v", "4v", "1v"]}}], "id": "views:n"})
    pats.append({"label": "FINDING", "pattern": [{"LOWER": "grade"},
                                                 {"LOWER": {"IN": ["1", "2", "3", "4", "5", "i", "ii", "iii", "iv", "v"]}},
                                                 {"LOWER": {"IN": ["reflux", "vur", "vesicoureteral"]}},
                                                 {"LOWER": "reflux", "OP": "?"}], "id": "finding:vesicoureteral_reflux"})
    return pats
