"""Corpus readers: authored reports, stand-off annotations on ../shared texts, importers.

Texts of the external corpora (CMC 2007, Open-i) are never stored in this repository. They are
rendered from the files under ``../shared/data`` by :func:`render_cmc` and :func:`render_openi`,
and stand-off annotations refer to character offsets in those rendered texts (half-open
``[start, end)``), with the SHA-1 of the rendered text to detect drift.
"""

from __future__ import annotations

import csv
import hashlib
import os
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

SHARED_ENV = "RADCODER_SHARED_DATA"


def shared_data_dir() -> Path | None:
    """Locate ``shared/data``: $RADCODER_SHARED_DATA, else ``../shared/data`` next to the repo."""
    env = os.environ.get(SHARED_ENV)
    candidates = [Path(env)] if env else []
    repo = Path(__file__).resolve().parents[2]
    candidates += [repo.parent / "shared" / "data", Path.cwd().parent / "shared" / "data"]
    for c in candidates:
        if c.is_dir():
            return c
    return None


def text_sha1(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class CmcDoc:
    id: str
    history: str
    impression: str
    codes: tuple[str, ...]  # CMC_MAJORITY ICD-9-CM codes, as strings
    text: str = ""
    sections: tuple[tuple[str, int, int], ...] = field(default=())


def render_cmc(history: str, impression: str) -> tuple[str, tuple[tuple[str, int, int], ...]]:
    """Render a CMC report as ``CLINICAL HISTORY: ...\\nIMPRESSION: ...``.

    Returns the text and the section bodies as ``(name, start, end)``.
    """
    h_head, i_head = "CLINICAL HISTORY: ", "IMPRESSION: "
    history = (history or "").strip()
    impression = (impression or "").strip()
    text = h_head + history + "\n" + i_head + impression
    h_start = len(h_head)
    i_start = len(h_head) + len(history) + 1 + len(i_head)
    return text, (("indication", h_start, h_start + len(history)), ("impression", i_start, len(text)))


def read_cmc(path: str | Path) -> Iterator[CmcDoc]:
    """Read a CMC 2007 challenge XML file (dev, unlabeled or test)."""
    root = ET.parse(str(path)).getroot()
    for doc in root.iter("doc"):
        codes = tuple(
            (c.text or "").strip()
            for c in doc.iter("code")
            if c.get("origin") == "CMC_MAJORITY" and (c.text or "").strip()
        )
        texts = {t.get("type"): (t.text or "") for t in doc.iter("text")}
        history, impression = texts.get("CLINICAL_HISTORY", ""), texts.get("IMPRESSION", "")
        text, sections = render_cmc(history, impression)
        yield CmcDoc(doc.get("id", ""), history, impression, codes, text, sections)


def read_icd9_map(path: str | Path) -> dict[str, str]:
    """ICD-9-CM -> ICD-10-CM table shipped with the CMC data (``icd9_to_icd10cm.tsv``)."""
    with open(path, encoding="utf-8") as f:
        return {r["icd9"].strip(): r["icd10cm"].strip() for r in csv.DictReader(f, delimiter="\t")}


OPENI_PARTS = (("EXAM", "image", "exam"), ("INDICATION", "indication", "indication"),
               ("COMPARISON", "comparison", "comparison"), ("FINDINGS", "findings", "findings"),
               ("IMPRESSION", "impression", "impression"))


@dataclass(frozen=True)
class OpeniDoc:
    id: str
    mesh: tuple[str, ...]
    text: str
    sections: tuple[tuple[str, int, int], ...]


def render_openi(row: dict) -> tuple[str, tuple[tuple[str, int, int], ...]]:
    """Render an Open-i row as ``EXAM: ...`` / ``INDICATION:`` / ``COMPARISON:`` / ``FINDINGS:`` /
    ``IMPRESSION:`` lines, leaving empty parts out."""
    lines: list[str] = []
    sections = []
    pos = 0
    for header, col, name in OPENI_PARTS:
        value = (row.get(col) or "").strip()
        if not value:
            continue
        head = f"{header}: "
        start = pos + len(head)
        lines.append(head + value)
        sections.append((name, start, start + len(value)))
        pos += len(head) + len(value) + 1
    return "\n".join(lines), tuple(sections)


def read_openi(path: str | Path) -> Iterator[OpeniDoc]:
    """Read the Open-i reports CSV (``openi_dev.csv`` layout)."""
    with open(path, encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            text, sections = render_openi(row)
            mesh = tuple(m.strip() for m in (row.get("MeSH") or "").split(";") if m.strip())
            yield OpeniDoc(str(row["uid"]).strip(), mesh, text, sections)
