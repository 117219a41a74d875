"""Rule records loaded from JSONL data files, validated, immutable.

Each rule kind has a schema: required keys, optional keys and allowed values. ``load_rules`` rejects
unknown keys and bad values with a coded error that names the file and the line.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .datafiles import iter_jsonl, resource_path
from .errors import Errors, ResourceError

ASSERTION_CATEGORIES = ("NEGATED", "UNCERTAIN", "HISTORICAL", "HYPOTHETICAL", "FAMILY", "PRESENT",
                        "PSEUDO", "TERMINATE")
DIRECTIONS = ("FORWARD", "BACKWARD", "BIDIRECTIONAL", "TERMINATE", "PSEUDO")
SECTION_NAMES = ("exam", "indication", "technique", "comparison", "findings", "impression", "other")


@dataclass(frozen=True)
class AssertionRule:
    literal: str
    category: str
    direction: str
    max_scope: int | None = None
    allowed_types: tuple[str, ...] = ()
    comment: str = ""


@dataclass(frozen=True)
class SectionRule:
    literal: str
    section: str
    comment: str = ""


@dataclass(frozen=True)
class TermRule:
    """A surface form and the normalized value it stands for (modality, contrast state, ...)."""
    literal: str
    value: str
    kind: str = ""
    comment: str = ""


_SCHEMAS: dict[str, tuple[type, set, set, dict]] = {
    "assertion": (AssertionRule, {"literal", "category", "direction"}, {"max_scope", "allowed_types", "comment"},
                  {"category": ASSERTION_CATEGORIES, "direction": DIRECTIONS}),
    "section": (SectionRule, {"literal", "section"}, {"comment"}, {"section": SECTION_NAMES}),
    "term": (TermRule, {"literal", "value"}, {"kind", "comment"}, {}),
}

DEFAULT_FILES = {
    "assertion": ("rules", "assertion_rules.jsonl"),
    "section": ("rules", "section_headers.jsonl"),
}


def parse_rules(kind: str, rows: Iterable[tuple[int, Mapping[str, Any]]], path: str = "<memory>") -> tuple:
    cls, required, optional, enums = _SCHEMAS[kind]
    out = []
    for line, row in rows:
        keys = set(row)
        unknown = keys - required - optional
        if unknown:
            raise ResourceError(Errors.E101.format(path=path, line=line, keys=sorted(unknown),
                                                   allowed=sorted(required | optional)))
        missing = required - keys
        if missing:
            raise ResourceError(Errors.E102.format(path=path, line=line, keys=sorted(missing)))
        for key, allowed in enums.items():
            if row[key] not in allowed:
                raise ResourceError(Errors.E103.format(path=path, line=line, key=key, value=row[key],
                                                       allowed=list(allowed)))
        kwargs = dict(row)
        if "allowed_types" in kwargs:
            kwargs["allowed_types"] = tuple(kwargs["allowed_types"])
        if not str(kwargs["literal"]).strip():
            raise ResourceError(Errors.E103.format(path=path, line=line, key="literal", value=row["literal"],
                                                   allowed="a non-empty string"))
        out.append(cls(**kwargs))
    return tuple(out)


def load_rules(kind: str, path: str | Path | None = None) -> tuple:
    """Load rules of ``kind`` ("assertion", "section", "term") from ``path`` or the packaged default."""
    if path is None:
        path = resource_path(*DEFAULT_FILES[kind])
    return parse_rules(kind, iter_jsonl(path), str(path))


def rules_to_jsonl(rules: Iterable[Any]) -> str:
    from dataclasses import asdict, fields
    lines = []
    for r in rules:
        d = asdict(r)
        defaults = {f.name: f.default for f in fields(r)}
        d = {k: (list(v) if isinstance(v, tuple) else v) for k, v in d.items()
             if k in ("literal",) or v != defaults.get(k)}
        lines.append(json.dumps(d, ensure_ascii=False))
    return "\n".join(lines) + "\n"
