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
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

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


# ------------------------------------------------------------------------------------ corpus records
import json as _json

CORPUS_DIR = Path(__file__).resolve().parents[2] / "corpus"
HARD_CASE_TAGS = (
    "bilateral", "without_and_with_contrast", "contrast_not_given", "oral_contrast_only", "reduced_service",
    "repeat_service", "negated_finding", "uncertain_finding", "normal_study", "incidental_finding", "screening",
    "history_of_cancer", "follow_up_known_disease", "missing_laterality", "missing_indication",
    "header_body_discrepancy", "multiple_procedures", "guided_procedure", "family_history", "hypothetical_finding",
)
MODALITIES = ("XR", "CT", "CTA", "MR", "MRA", "US", "DUPLEX", "MAMMO", "DBT", "DEXA", "NM", "PET", "FLUORO", "IR")


def corpus_dir() -> Path:
    env = os.environ.get("RADCODER_CORPUS")
    return Path(env) if env else CORPUS_DIR


def read_jsonl(path: str | Path) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [_json.loads(line) for line in f if line.strip()]


def read_ids(path: str | Path) -> list[str]:
    p = Path(path)
    if not p.exists():
        return []
    return [x.strip() for x in p.read_text(encoding="utf-8").splitlines() if x.strip() and not x.startswith("#")]


def load_authored(root: str | Path | None = None) -> list[dict]:
    """All authored reports (handwritten and template) with their ``split`` from the manifests."""
    root = Path(root) if root else corpus_dir()
    recs = []
    for p in sorted((root / "authored").glob("*.jsonl")):
        recs.extend(read_jsonl(p))
    splits = {}
    for split in ("train", "dev", "test"):
        for i in read_ids(root / "authored" / "splits" / f"{split}.ids"):
            splits[i] = split
    for r in recs:
        r["source"] = "authored"
        r["split"] = splits.get(r["id"], "train")
    return recs


def load_standoff(name: str, root: str | Path | None = None, shared: Path | None = None) -> list[dict]:
    """Materialize stand-off annotations of ``name`` ("cmc2007" or "openi") with texts from ../shared.

    Returns [] when the shared data folder is absent. A text whose SHA-1 differs from the one recorded
    at annotation time is skipped (the source changed)."""
    root = Path(root) if root else corpus_dir()
    shared = shared or shared_data_dir()
    ann_path = root / name / "annotations.jsonl"
    if shared is None or not ann_path.exists():
        return []
    if name == "cmc2007":
        docs = {d.id: d for d in read_cmc(shared / "cmc2007" / "cmc2007_dev.xml")}
    elif name == "openi":
        docs = {d.id: d for d in read_openi(shared / "openi" / "openi_dev.csv")}
    else:
        raise ValueError(f"Unknown stand-off corpus {name!r}; use 'cmc2007' or 'openi'.")
    out = []
    for ann in read_jsonl(ann_path):
        d = docs.get(ann["id"])
        if d is None or text_sha1(d.text) != ann.get("sha1"):
            continue
        spans = []
        for s in ann["spans"]:
            s = dict(s)
            s["text"] = d.text[s["start"]:s["end"]]
            spans.append(s)
        rec = {"id": ann["id"], "text": d.text, "spans": spans, "split": ann.get("split", "train"), "source": name}
        if name == "cmc2007":
            rec["icd9"] = list(d.codes)
        else:
            rec["mesh"] = list(d.mesh)
        out.append(rec)
    return out


# ------------------------------------------------------------------------------------ validation
def validate_corpus_record(rec: dict, nlp=None, cpt=None, icd=None, hcpcs=None) -> list[str]:
    """Problems found in one annotated record (empty list = valid)."""
    from .schema import ASSERTIONS, FLAG_CODES, LABELS, SECTIONS
    probs: list[str] = []
    rid = rec.get("id", "?")
    text = rec.get("text", "")
    if not text:
        return [f"{rid}: empty text"]
    doc = nlp.make_doc(text) if nlp is not None else None
    starts = {t.idx for t in doc} if doc is not None else None
    ends = {t.idx + len(t) for t in doc} if doc is not None else None
    last_end = -1
    for s in sorted(rec.get("spans", []), key=lambda x: (x["start"], x["end"])):
        where = f"{rid} span {s['start']}-{s['end']}"
        if not (0 <= s["start"] < s["end"] <= len(text)):
            probs.append(f"{where}: offsets outside the text")
            continue
        if "text" in s and text[s["start"]:s["end"]] != s["text"]:
            probs.append(f"{where}: quoted text does not match offsets")
        if s["start"] < last_end:
            probs.append(f"{where}: overlaps the previous span")
        last_end = max(last_end, s["end"])
        if starts is not None and (s["start"] not in starts or s["end"] not in ends):
            probs.append(f"{where}: not aligned to token boundaries")
        if s.get("label") not in LABELS:
            probs.append(f"{where}: label {s.get('label')!r} not in {LABELS}")
        if s.get("section") not in SECTIONS:
            probs.append(f"{where}: section {s.get('section')!r} not in {SECTIONS}")
        if s.get("label") == "FINDING":
            if s.get("assertion") not in ASSERTIONS:
                probs.append(f"{where}: FINDING needs an assertion in {ASSERTIONS}")
            code = s.get("icd10cm")
            if code and icd is not None and not icd.is_billable(code):
                probs.append(f"{where}: ICD-10-CM {code} is not billable")
    if "icd10cm" in rec:  # document-level gold (authored reports)
        for code in rec.get("icd10cm", []):
            if icd is not None and not icd.is_billable(code):
                probs.append(f"{rid}: document ICD-10-CM {code} is not billable")
            finding_codes = [s for s in rec.get("spans", []) if s.get("label") == "FINDING" and s.get("icd10cm") == code]
            if finding_codes and all(s.get("assertion") in ("negated", "uncertain", "hypothetical") for s in finding_codes):
                probs.append(f"{rid}: ICD-10-CM {code} comes only from negated/uncertain/hypothetical findings")
        if rec.get("cpt") and not rec.get("icd10cm") and not {"missing_indication", "medical_necessity_unsupported"} & set(rec.get("flags", [])):
            probs.append(f"{rid}: procedures billed without a first-listed diagnosis")
        for line in rec.get("cpt", []):
            if cpt is not None:
                if line["code"] not in cpt:
                    probs.append(f"{rid}: CPT {line['code']} is not in the CPT attribute table")
                    continue
                allowed = cpt.allowed_modifiers(line["code"])
                bad = [m for m in line.get("modifiers", []) if m not in allowed]
                if bad:
                    probs.append(f"{rid}: modifier(s) {bad} not allowed on CPT {line['code']}")
            if not isinstance(line.get("units", 1), int) or line.get("units", 1) < 1:
                probs.append(f"{rid}: CPT {line['code']} units must be a positive integer")
        for line in rec.get("hcpcs", []):
            if hcpcs is not None and line["code"] not in hcpcs:
                probs.append(f"{rid}: HCPCS {line['code']} is not in the HCPCS table")
        for f in rec.get("flags", []):
            if f not in FLAG_CODES:
                probs.append(f"{rid}: unknown flag {f!r}")
        for t in rec.get("tags", []):
            if t not in HARD_CASE_TAGS:
                probs.append(f"{rid}: unknown hard-case tag {t!r}")
    return probs


def validate_corpus(records: list[dict], nlp=None) -> list[str]:
    from .codesets.icd10cm import load_icd10cm
    from .codesets.procedures import load_cpt, load_hcpcs
    if nlp is None:
        from .components.tokenizer import blank
        nlp = blank()
    cpt, hcpcs, icd = load_cpt(), load_hcpcs(), load_icd10cm()
    probs: list[str] = []
    ids = set()
    for r in records:
        if r["id"] in ids:
            probs.append(f"{r['id']}: duplicate id")
        ids.add(r["id"])
        probs.extend(validate_corpus_record(r, nlp, cpt, icd, hcpcs))
    return probs


# ------------------------------------------------------------------------------------ statistics
def corpus_stats(records: list[dict]) -> dict:
    from collections import Counter, defaultdict
    st: dict = {"documents": Counter(), "labels": defaultdict(Counter), "assertions": defaultdict(Counter),
                "modalities": defaultdict(Counter), "tags": defaultdict(Counter), "cpt_by_modality": defaultdict(Counter),
                "icd10cm_codes": Counter()}
    for r in records:
        sp = r.get("split", "train")
        st["documents"][f"{r.get('source', '?')}/{sp}"] += 1
        for s in r.get("spans", []):
            st["labels"][s["label"]][sp] += 1
            if s["label"] == "FINDING":
                st["assertions"][s.get("assertion")][sp] += 1
        if r.get("modality"):
            st["modalities"][r["modality"]][sp] += 1
        for t in r.get("tags", []):
            st["tags"][t][sp] += 1
        for line in r.get("cpt", []):
            st["cpt_by_modality"][r.get("modality", "?")][line["code"]] += 1
        for c in r.get("icd10cm", []):
            st["icd10cm_codes"][c] += 1
    return _json.loads(_json.dumps(st))


# ------------------------------------------------------------------------------------ conversion
def to_docbin(records: list[dict], nlp):
    """spaCy DocBin with gold entities (labels) for NER training."""
    from spacy.tokens import DocBin
    db = DocBin(store_user_data=False)
    for r in records:
        doc = nlp.make_doc(r["text"])
        ents = []
        for s in sorted(r.get("spans", []), key=lambda x: x["start"]):
            span = doc.char_span(s["start"], s["end"], label=s["label"], alignment_mode="strict")
            if span is None:
                span = doc.char_span(s["start"], s["end"], label=s["label"], alignment_mode="expand")
            if span is not None and (not ents or span.start >= ents[-1].end):
                ents.append(span)
        doc.ents = ents
        db.add(doc)
    return db


def to_examples(records: list[dict], nlp):
    from spacy.training import Example
    db = to_docbin(records, nlp)
    return [Example(nlp.make_doc(d.text), d) for d in db.get_docs(nlp.vocab)]


def to_hf_dataset(records: list[dict]):
    """A ``datasets.DatasetDict`` with one split per manifest split (train/dev/test)."""
    import datasets
    by_split: dict[str, list[dict]] = {}
    for r in records:
        row = {"id": r["id"], "text": r["text"], "source": r.get("source", ""),
               "spans": [{"start": s["start"], "end": s["end"], "label": s["label"],
                          "assertion": s.get("assertion") or "", "section": s.get("section") or "",
                          "icd10cm": s.get("icd10cm") or ""} for s in r.get("spans", [])],
               "cpt": [{"code": c["code"], "modifiers": list(c.get("modifiers", [])), "units": int(c.get("units", 1))}
                       for c in r.get("cpt", [])],
               "icd10cm": list(r.get("icd10cm", []))}
        by_split.setdefault(r.get("split", "train"), []).append(row)
    return datasets.DatasetDict({k: datasets.Dataset.from_list(v) for k, v in by_split.items()})
