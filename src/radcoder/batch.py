"""Batch inference: stream reports in, one output record per input, in input order.

Bad input (empty, binary, huge, undecodable, malformed rows, duplicate ids) becomes an error record with
a coded message naming the report id, never its text; it never stops the batch or loses another
report's result. A component that fails on one report gives that report an error record (E306).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Union

from .errors import Errors, RadcoderError
from .schema import PAYERS, SETTINGS, ReportResult

DEFAULT_MAX_CHARS = 200_000
CHUNK = 256


@dataclass(frozen=True)
class ReportInput:
    id: str
    text: str
    setting: str = "global"
    payer: str = "medicare"


@dataclass(frozen=True)
class InputError:
    id: str
    code: str
    message: str


Item = Union[ReportInput, InputError]


def _err(report_id: str, msg: str) -> InputError:
    return InputError(report_id, msg[1:5], msg)


def check_text(report_id: str, raw: str | bytes, *, encoding: str = "utf-8",
               max_chars: int = DEFAULT_MAX_CHARS) -> str | InputError:
    if isinstance(raw, bytes):
        if b"\x00" in raw:
            return _err(report_id, Errors.E303.format(report_id=report_id))
        try:
            raw = raw.decode(encoding)
        except UnicodeDecodeError:
            return _err(report_id, Errors.E301.format(report_id=report_id, encoding=encoding))
    if not isinstance(raw, str):
        return _err(report_id, Errors.E305.format(line="?", detail="text is not a string"))
    if not raw.strip():
        return _err(report_id, Errors.E302.format(report_id=report_id))
    ctrl = sum(1 for ch in raw[:5000] if ord(ch) < 32 and ch not in "\n\r\t\f")
    if "\x00" in raw or ctrl > max(3, len(raw[:5000]) // 50):
        return _err(report_id, Errors.E303.format(report_id=report_id))
    if len(raw) > max_chars:
        return _err(report_id, Errors.E304.format(report_id=report_id, length=len(raw), limit=max_chars))
    return raw


def _make_input(rid: str, raw, setting, payer, line, encoding, max_chars) -> Item:
    setting = setting or "global"
    payer = payer or "medicare"
    if setting not in SETTINGS:
        return _err(rid, Errors.E307.format(report_id=rid, value=setting))
    if payer not in PAYERS:
        return _err(rid, Errors.E308.format(report_id=rid, value=payer))
    text = check_text(rid, raw, encoding=encoding, max_chars=max_chars)
    if isinstance(text, InputError):
        return text
    return ReportInput(rid, text, setting, payer)


def read_jsonl(path: Path, encoding: str, max_chars: int) -> Iterator[Item]:
    with open(path, "rb") as f:
        for lineno, raw_line in enumerate(f, 1):
            if not raw_line.strip():
                continue
            try:
                obj = json.loads(raw_line.decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError) as e:
                rid = f"line-{lineno}"
                yield _err(rid, Errors.E305.format(line=lineno, detail=type(e).__name__))
                continue
            if not isinstance(obj, dict) or not isinstance(obj.get("id"), (str, int)) or isinstance(obj.get("id"), bool):
                yield _err(f"line-{lineno}", Errors.E305.format(line=lineno, detail="missing or non-string 'id'"))
                continue
            rid = str(obj["id"])
            if not isinstance(obj.get("text"), str):
                yield _err(rid, Errors.E305.format(line=lineno, detail="missing or non-string 'text'"))
                continue
            yield _make_input(rid, obj["text"], obj.get("setting"), obj.get("payer"), lineno, encoding, max_chars)


def read_table(path: Path, encoding: str, max_chars: int) -> Iterator[Item]:
    if path.suffix.lower() == ".parquet":
        try:
            import pyarrow.parquet as pq
        except ImportError:
            raise RadcoderError(Errors.E404) from None
        table = pq.read_table(path)
        cols = table.column_names
        rows: Iterable[dict] = table.to_pylist()
    else:
        f = open(path, encoding=encoding, errors="replace", newline="")
        reader = csv.DictReader(f)
        cols = reader.fieldnames or []
        rows = reader
    for col in ("id", "text"):
        if col not in cols:
            raise RadcoderError(Errors.E403.format(path=path, column=col, columns=list(cols)))
    for lineno, row in enumerate(rows, 2):
        rid = str(row.get("id") or f"row-{lineno}")
        text = row.get("text")
        if text is None:
            yield _err(rid, Errors.E305.format(line=lineno, detail="missing text"))
            continue
        yield _make_input(rid, text, row.get("setting"), row.get("payer"), lineno, encoding, max_chars)


def read_dir(path: Path, encoding: str, max_chars: int) -> Iterator[Item]:
    for p in sorted(path.glob("*.txt")):
        rid = p.stem
        try:
            if p.stat().st_size > max_chars * 4:
                yield _err(rid, Errors.E304.format(report_id=rid, length=p.stat().st_size, limit=max_chars))
                continue
            raw = p.read_bytes()
        except OSError as e:
            yield _err(rid, Errors.E305.format(line=0, detail=type(e).__name__))
            continue
        yield _make_input(rid, raw, None, None, 0, encoding, max_chars)


def read_inputs(path: str | Path, *, encoding: str = "utf-8", max_chars: int = DEFAULT_MAX_CHARS) -> Iterator[Item]:
    """Yield a ReportInput or an InputError for every report in ``path`` (.jsonl, .csv, .parquet, dir)."""
    path = Path(path)
    if not path.exists():
        raise RadcoderError(Errors.E402.format(path=path))
    if path.is_dir():
        it = read_dir(path, encoding, max_chars)
    elif path.suffix.lower() in (".jsonl", ".ndjson"):
        it = read_jsonl(path, encoding, max_chars)
    elif path.suffix.lower() in (".csv", ".parquet"):
        it = read_table(path, encoding, max_chars)
    else:
        raise RadcoderError(Errors.E401.format(path=path))
    seen: set[str] = set()
    for k, item in enumerate(it, 1):
        if isinstance(item, ReportInput):
            if item.id in seen:
                yield _err(item.id, Errors.E309.format(line=k, report_id=item.id))
                continue
            seen.add(item.id)
        yield item


# ------------------------------------------------------------------------------------------ processing
def code_reports(nlp, inputs: list[ReportInput]) -> dict[str, dict]:
    """Run the pipeline over ``inputs``; returns id -> output record. A report on which a component
    fails gets an E306 error record; the others are unaffected."""
    from . import to_record
    model = f"{nlp.meta.get('name', 'radcoder')} {nlp.meta.get('version', '')}".strip()
    out: dict[str, dict] = {}
    failed: dict[str, str] = {}

    def make(item: ReportInput):
        d = nlp.make_doc(item.text)
        d._.report_id, d._.setting, d._.payer = item.id, item.setting, item.payer
        return d

    try:
        for doc in nlp.pipe((make(it) for it in inputs), batch_size=64):
            out[doc._.report_id] = to_record(doc, doc._.report_id)
    except Exception:  # noqa: BLE001 - one bad report must not lose the others: retry one at a time
        for item in inputs:
            if item.id in out:
                continue
            doc = make(item)
            try:
                for name, proc in nlp.pipeline:
                    failed[item.id] = name
                    doc = proc(doc)
                failed.pop(item.id, None)
                out[item.id] = to_record(doc, item.id)
            except Exception:  # noqa: BLE001
                failed.setdefault(item.id, "to_record")
    for item in inputs:
        if item.id not in out:
            comp = failed.get(item.id, "pipeline")
            msg = Errors.E306.format(report_id=item.id, component=comp, exc_type="exception")
            out[item.id] = ReportResult.failed(item.id, model, "E306", msg).to_dict()
    return out


_worker_nlp = None


def _worker_init(model_path: str | None) -> None:
    global _worker_nlp
    from . import load
    from .pipeline import warm_up
    _worker_nlp = load(model_path)
    warm_up(_worker_nlp)


def _worker_run(chunk: list[ReportInput]) -> dict[str, dict]:
    return code_reports(_worker_nlp, chunk)


def _chunks(items: Iterable[Item], size: int) -> Iterator[list[Item]]:
    buf: list[Item] = []
    for it in items:
        buf.append(it)
        if len(buf) >= size:
            yield buf
            buf = []
    if buf:
        yield buf


def run_batch(input_path, out_path, *, model: str | None = None, n_process: int = 1, resume: bool = False,
              encoding: str = "utf-8", max_chars: int = DEFAULT_MAX_CHARS, chunk_size: int = CHUNK) -> dict:
    """Code every report of ``input_path`` into ``out_path`` (JSONL). Returns counts."""
    out_path = Path(out_path)
    if not Path(input_path).exists():
        raise RadcoderError(Errors.E402.format(path=input_path))
    done: set[str] = set()
    if resume and out_path.exists():
        with open(out_path, encoding="utf-8") as f:
            for line in f:
                try:
                    done.add(json.loads(line)["id"])
                except (json.JSONDecodeError, KeyError, TypeError):
                    continue  # a torn last line from an interrupted run is rewritten
        _truncate_torn_tail(out_path)
    items = (it for it in read_inputs(input_path, encoding=encoding, max_chars=max_chars) if it.id not in done)
    counts = {"written": 0, "errors": 0, "skipped": len(done)}
    out_path.parent.mkdir(parents=True, exist_ok=True)
    mode = "a" if resume else "w"
    pool = None
    nlp = None
    model_name = "radcoder"
    if n_process > 1:
        import multiprocessing as mp
        pool = mp.get_context("spawn").Pool(n_process, initializer=_worker_init, initargs=(model,))
    else:
        from . import load
        nlp = load(model)
        model_name = f"{nlp.meta.get('name', 'radcoder')} {nlp.meta.get('version', '')}".strip()
    try:
        with open(out_path, mode, encoding="utf-8") as out:
            chunks = _chunks(items, chunk_size)
            if pool is not None:
                def jobs():
                    for chunk in chunks:
                        good = [c for c in chunk if isinstance(c, ReportInput)]
                        yield chunk, pool.apply_async(_worker_run, (good,))
                results = ((chunk, fut.get()) for chunk, fut in jobs())
            else:
                results = ((chunk, code_reports(nlp, [c for c in chunk if isinstance(c, ReportInput)]))
                           for chunk in chunks)
            for chunk, recs in results:
                for it in chunk:
                    if isinstance(it, InputError):
                        rec = ReportResult.failed(it.id, model_name, it.code, it.message).to_dict()
                    else:
                        rec = recs[it.id]
                    counts["errors" if rec["error"] else "written"] += 1
                    out.write(json.dumps(rec, ensure_ascii=False) + "\n")
                out.flush()
    finally:
        if pool is not None:
            pool.close()
            pool.join()
    return counts


def _truncate_torn_tail(path: Path) -> None:
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        cut = data.rfind(b"\n") + 1
        with open(path, "r+b") as f:
            f.truncate(cut)
