"""Access to packaged data files (rules, lexicons, code sets)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

from .errors import Errors, ResourceError


def resource_path(*parts: str) -> Path:
    p = Path(str(resources.files("radcoder"))).joinpath("resources", *parts)
    if not p.exists():
        raise ResourceError(Errors.E001.format(path=p))
    return p


def parse_jsonl(text: str, path: str | Path = "<memory>") -> Iterator[tuple[int, dict]]:
    """Yield (line number, object) for each non-empty, non-comment line of ``text``; bad JSON raises E104."""
    for i, line in enumerate(text.splitlines(), 1):
        s = line.strip()
        if not s or s.startswith("//"):
            continue
        try:
            obj = json.loads(s)
        except json.JSONDecodeError as e:
            raise ResourceError(Errors.E104.format(path=path, line=i, detail=e.msg)) from None
        if not isinstance(obj, dict):
            raise ResourceError(Errors.E104.format(path=path, line=i, detail="not a JSON object"))
        yield i, obj


def iter_jsonl(path: str | Path) -> Iterator[tuple[int, dict]]:
    """Yield (line number, object) for each non-empty, non-comment line of the file at ``path``."""
    with open(path, encoding="utf-8") as f:
        yield from parse_jsonl(f.read(), path)
