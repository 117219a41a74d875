"""Benchmark the full radcoder pipeline against medspaCy: reports/second and peak memory.

Usage (from the repository root):

    .venv/bin/python benchmarks/bench_pipeline.py [--model PATH] [--n-process 2]
        [--datasets cmc openi] [--limit N] [--no-medspacy] [--batch-size 64]

Corpora (read from ``shared/data``, found by ``radcoder.corpus.shared_data_dir()``;
the script exits with a message and status 2 if it is absent):

* ``cmc``   -- the 976 unlabeled CMC 2007 reports (``cmc2007/cmc2007_unlabeled.xml``)
* ``openi`` -- the 2,695 Open-i developer reports (``openi/openi_dev.csv``)

What is measured, per corpus:

* **radcoder** (``--model PATH``, default: the shipped model via ``radcoder.load()``):
  a fresh subprocess per corpus, so peak RSS is per pipeline. ``load_s`` is
  ``import radcoder`` + ``radcoder.load()`` (spaCy is imported lazily there); ``warm_up_s`` is
  ``radcoder.pipeline.warm_up`` (the code tables the components build on first use, and one
  built-in report), a one-time cost per process that batch workers also pay at start. The timed
  job is ``list(nlp.pipe(texts, batch_size=64))`` plus ``radcoder.to_record`` for every
  doc. Peak RSS is the child's own ``ru_maxrss`` (``RUSAGE_SELF`` at the end; the
  parent's ``os.wait4`` value is kept as a cross-check). It includes the interpreter,
  spaCy, the model and all docs held in the list.
* **radcoder run_batch, n_process=N** (only with ``--n-process N``): a fresh subprocess
  calls ``radcoder.batch.run_batch`` on a temporary JSONL of the same texts. Its wall
  time is end to end (spawning N workers, each loading the model, reading the JSONL,
  writing the output JSONL), so it is compared with a ``run_batch`` n_process=1 run
  measured the same way. Peak RSS is reported for the coordinating process and for the
  largest worker (``RUSAGE_CHILDREN`` after the pool has joined).
* **medspaCy** (sentencizer + target matcher + ConText + sectionizer, the isolated
  ``.venv-baselines`` environment) via
  ``radcoder.evaluation.baselines.run_medspacy_speed``; the target terms are the first
  300 ``term`` values of ``src/radcoder/resources/lexicons/findings.jsonl`` (file order).
  Its ``seconds`` covers ``nlp.pipe`` only (no output records are built), its peak RSS is
  the runner process's ``ru_maxrss``. Set the environment up with
  ``bash evaluation/baselines/setup.sh``.

Everything is one run per measurement (no repeats); the machine's load average is
recorded at start and end, because other jobs on a shared machine skew the numbers.
Report texts only go to a temporary directory outside the repository.

Prints a table and writes ``benchmarks/results/pipeline.json``.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
RESULTS = HERE / "results" / "pipeline.json"
FINDINGS = REPO / "src" / "radcoder" / "resources" / "lexicons" / "findings.jsonl"
N_TARGETS = 300
DATASETS = {
    "cmc": ("CMC 2007 unlabeled", "cmc2007/cmc2007_unlabeled.xml"),
    "openi": ("Open-i dev", "openi/openi_dev.csv"),
}


PATCH_ENV = "RADCODER_BENCH_PATCH_ERROR_HANDLER"


def _patch_error_handler() -> None:
    """Benchmark-only workaround for ``run_batch`` with a trained ``ner`` (spaCy 3.8.18).

    ``radcoder.batch.code_reports`` calls ``nlp.set_error_handler``; spaCy's
    ``Pipe.set_error_handler`` raises ``AttributeError: ... EntityRecognizer object has no
    attribute 'error_handler'`` for the trained NER, so ``run_batch`` fails on every report
    batch. This replacement skips the pipes that cannot take a handler (they then keep
    spaCy's default, raise_error); nothing changes for documents that process without
    errors, so the timing is that of the unpatched code path.
    """
    from spacy.language import Language

    def set_error_handler(self, error_handler):
        self.default_error_handler = error_handler
        for _name, pipe in self.pipeline:
            if hasattr(pipe, "set_error_handler"):
                try:
                    pipe.set_error_handler(error_handler)
                except AttributeError:
                    pass

    Language.set_error_handler = set_error_handler


# run_batch's spawn workers re-import this file as __mp_main__, so the patch reaches them too.
if os.environ.get(PATCH_ENV) == "1":
    _patch_error_handler()


def _kib_to_mib(kib: int) -> float:
    # ru_maxrss is KiB on Linux, bytes on macOS
    return kib / (1024 * 1024) if sys.platform == "darwin" else kib / 1024


# ----------------------------------------------------------------------------------- child modes
def child_radcoder(texts_path: str, model: str | None, batch_size: int) -> dict:
    with open(texts_path, encoding="utf-8") as f:
        rows = [json.loads(line) for line in f if line.strip()]
    texts = [r["text"] for r in rows]
    ids = [r["id"] for r in rows]
    rss_before_load = _kib_to_mib(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)

    t0 = time.perf_counter()
    import radcoder

    nlp = radcoder.load(model)
    load_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    from radcoder.pipeline import warm_up

    warm_up(nlp)  # lazily built code tables (ICD-10-CM index and search, CPT/HCPCS/NCCI): a one-time cost
    warm_up_s = time.perf_counter() - t0
    rss_after_load = _kib_to_mib(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)

    t0 = time.perf_counter()
    docs = list(nlp.pipe(texts, batch_size=batch_size))
    pipe_s = time.perf_counter() - t0
    t1 = time.perf_counter()
    records = [radcoder.to_record(doc, rid) for doc, rid in zip(docs, ids)]
    record_s = time.perf_counter() - t1
    seconds = time.perf_counter() - t0

    return {
        "reports": len(texts),
        "load_s": round(load_s, 3),
        "warm_up_s": round(warm_up_s, 3),
        "seconds": round(seconds, 3),
        "pipe_s": round(pipe_s, 3),
        "to_record_s": round(record_s, 3),
        "reports_per_second": round(len(texts) / seconds, 2) if seconds > 0 else None,
        "peak_rss_mib_self": round(_kib_to_mib(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss), 1),
        "rss_mib_before_load": round(rss_before_load, 1),
        "peak_rss_mib_after_load": round(rss_after_load, 1),
        "entities": sum(len(r.get("entities") or []) for r in records),
        "error_records": sum(1 for r in records if r.get("error")),
        "model": f"{nlp.meta.get('name', '')} {nlp.meta.get('version', '')}".strip(),
        "pipe_names": nlp.pipe_names,
    }


def child_batch(texts_path: str, model: str | None, n_process: int) -> dict:
    from radcoder.batch import run_batch

    with open(texts_path, encoding="utf-8") as f:
        n = sum(1 for line in f if line.strip())
    with tempfile.TemporaryDirectory(prefix="radcoder-bench-out-") as tmp:
        out = Path(tmp) / "out.jsonl"
        t0 = time.perf_counter()
        counts = run_batch(texts_path, out, model=model, n_process=n_process)
        seconds = time.perf_counter() - t0
    return {
        "reports": n,
        "n_process": n_process,
        "seconds": round(seconds, 3),
        "reports_per_second": round(n / seconds, 2) if seconds > 0 else None,
        "peak_rss_mib_parent": round(_kib_to_mib(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss), 1),
        "peak_rss_mib_largest_worker": (
            round(_kib_to_mib(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss), 1) if n_process > 1 else None
        ),
        "counts": counts,
    }


# ---------------------------------------------------------------------------------------- parent
def run_child(args: list[str], timeout: float, env: dict | None = None) -> dict:
    """Run this script in a fresh interpreter; returns its JSON plus wait4's peak RSS and wall time."""
    cmd = [sys.executable, str(Path(__file__).resolve()), *args]
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, cwd=str(REPO),
                                env={**os.environ, **(env or {})})
        deadline = t0 + timeout
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                proc.kill()
                pid, status, usage = os.wait4(proc.pid, 0)
                raise RuntimeError(f"child {args} timed out after {timeout:.0f} s")
            time.sleep(0.05)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if proc.returncode != 0:
            tail = "\n".join(err.read().strip().splitlines()[-20:])
            raise RuntimeError(f"child {args[:2]} failed (exit {proc.returncode}):\n{tail}")
        lines = [line for line in out.read().splitlines() if line.strip()]
    result = json.loads(lines[-1])
    result["process_wall_s"] = round(wall, 3)
    # wait4's ru_maxrss is the max over the child and its reaped descendants (Linux), so for
    # run_batch with a pool it is the largest worker, not the coordinating process.
    result["peak_rss_mib_wait4"] = round(_kib_to_mib(usage.ru_maxrss), 1)
    result["peak_rss_mib"] = result.get("peak_rss_mib_self", result.get("peak_rss_mib_parent",
                                                                        result["peak_rss_mib_wait4"]))
    return result


def load_texts(name: str, data: Path, limit: int | None) -> list[tuple[str, str]]:
    from radcoder.corpus import read_cmc, read_openi

    path = data / DATASETS[name][1]
    if not path.exists():
        raise SystemExit(f"bench_pipeline: {path} not found (shared data incomplete).")
    reader = read_cmc if name == "cmc" else read_openi
    rows = [(str(d.id), d.text) for d in reader(path)]
    return rows[:limit] if limit else rows


def finding_targets(n: int = N_TARGETS) -> list[str]:
    terms: list[str] = []
    with open(FINDINGS, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                term = json.loads(line)["term"]
                if term not in terms:
                    terms.append(term)
            if len(terms) >= n:
                break
    return terms


def machine_info() -> dict:
    import spacy

    info = {
        "platform": platform.platform(),
        "processor": platform.machine(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "spacy": spacy.__version__,
        "loadavg_at_start": [round(x, 2) for x in os.getloadavg()],
    }
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    info["cpu_model"] = line.split(":", 1)[1].strip()
                    break
        with open("/proc/meminfo", encoding="utf-8") as f:
            info["mem_total_mib"] = round(int(f.readline().split()[1]) / 1024)
    except OSError:
        pass
    return info


def fmt(x, nd=1) -> str:
    return "-" if x is None else f"{x:,.{nd}f}"


def print_table(results: dict) -> None:
    head = f"{'corpus':<8} {'pipeline':<32} {'reports':>7} {'load s':>7} {'run s':>8} {'reports/s':>10} {'peak RSS MiB':>15}"
    print()
    print(head)
    print("-" * len(head))
    for ds, res in results["datasets"].items():
        for key, label in (("radcoder", "radcoder (pipe + to_record)"),
                           ("radcoder_batch_1", "radcoder run_batch n_process=1"),
                           ("radcoder_batch_n", None),
                           ("medspacy", "medspaCy (pipe)")):
            r = res.get(key)
            if not r:
                continue
            if key == "radcoder_batch_n":
                label = f"radcoder run_batch n_process={r['n_process']}"
            if "error" in r:
                print(f"{ds:<8} {label:<32} failed: {r['error'].splitlines()[-1][:80]}")
                continue
            if r.get("workaround"):
                label += " *"
            rss = r.get("peak_rss_mib")
            if key.startswith("radcoder_batch") and r.get("peak_rss_mib_largest_worker"):
                rss_s = f"{fmt(rss)}+{fmt(r['peak_rss_mib_largest_worker'])}w"
            else:
                rss_s = fmt(rss)
            load = r.get("load_s", r.get("load_seconds"))
            print(f"{ds:<8} {label:<32} {r['reports']:>7} {fmt(load, 2):>7} {fmt(r['seconds'], 2):>8} "
                  f"{fmt(r['reports_per_second']):>10} {rss_s:>15}")
    print()
    print("run s: timed job only (load excluded) for radcoder/medspaCy; run_batch rows are end to end "
          "(spawn + model load + I/O). 'w' = largest worker's peak RSS.")
    if any(r.get("workaround") for res in results["datasets"].values() for r in res.values()
           if isinstance(r, dict)):
        print("* run_batch failed unpatched (nlp.set_error_handler -> AttributeError on the trained ner); "
              "measured with the benchmark-only workaround, see 'unpatched_error' in the JSON.")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=None, help="model folder (default: the shipped model, radcoder.load())")
    ap.add_argument("--n-process", type=int, default=None,
                    help="also time radcoder.batch.run_batch with this many processes (and with 1, for comparison)")
    ap.add_argument("--datasets", nargs="+", choices=sorted(DATASETS), default=["cmc", "openi"])
    ap.add_argument("--limit", type=int, default=None, help="only the first N reports of each corpus (smoke runs)")
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--no-medspacy", action="store_true", help="skip the medspaCy baseline")
    ap.add_argument("--timeout", type=float, default=1800.0, help="per-measurement timeout, seconds")
    ap.add_argument("--output", type=Path, default=RESULTS, help=f"result JSON (default: {RESULTS})")
    # internal: the per-measurement child processes
    ap.add_argument("--child", choices=["radcoder", "batch"], help=argparse.SUPPRESS)
    ap.add_argument("--texts", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args.child == "radcoder":
        print(json.dumps(child_radcoder(args.texts, args.model, args.batch_size)))
        return 0
    if args.child == "batch":
        print(json.dumps(child_batch(args.texts, args.model, args.n_process or 1)))
        return 0

    sys.path.insert(0, str(REPO / "src"))  # harmless when radcoder is installed in the venv
    from radcoder.corpus import shared_data_dir

    data = shared_data_dir()
    if data is None:
        print("bench_pipeline: shared data not found (expected ../shared/data next to the repository, "
              "or set $RADCODER_SHARED_DATA). Nothing to benchmark.", file=sys.stderr)
        return 2
    if args.model is not None:
        model = str(Path(args.model).resolve())
        if not (Path(model) / "config.cfg").exists():
            print(f"bench_pipeline: --model {args.model} has no config.cfg.", file=sys.stderr)
            return 2
        model_desc = model
    else:
        from radcoder.pipeline import default_model_path

        if not (default_model_path() / "config.cfg").exists():
            print(f"bench_pipeline: the shipped model ({default_model_path()}) does not exist yet; "
                  "pass --model PATH.", file=sys.stderr)
            return 2
        model = None
        model_desc = f"shipped default ({default_model_path()})"

    run_medspacy = not args.no_medspacy
    if run_medspacy:
        from radcoder.evaluation.baselines import SETUP_HINT, baseline_python, run_medspacy_speed

        if baseline_python() is None:
            print(f"bench_pipeline: medspaCy environment missing; {SETUP_HINT} (or pass --no-medspacy).",
                  file=sys.stderr)
            return 2
    targets = finding_targets()

    results: dict = {
        "benchmark": "pipeline",
        "date_utc": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "machine": machine_info(),
        "settings": {
            "model": model_desc,
            "batch_size": args.batch_size,
            "n_process": args.n_process,
            "limit": args.limit,
            "medspacy_targets": len(targets),
            "medspacy_targets_source": f"first {N_TARGETS} 'term' values of findings.jsonl",
        },
        "method": (
            "one fresh subprocess per measurement, one run each; radcoder: load = import + radcoder.load(), "
            "timed = list(nlp.pipe(texts, batch_size)) + to_record per doc, peak RSS = child's ru_maxrss "
            "(os.wait4); run_batch: end-to-end wall incl. worker spawn/model load/JSONL I/O; medspaCy: "
            "run_medspacy_speed (nlp.pipe only, load excluded, ru_maxrss of the runner)"
        ),
        "datasets": {},
    }

    with tempfile.TemporaryDirectory(prefix="radcoder-bench-") as tmp:
        for name in args.datasets:
            rows = load_texts(name, data, args.limit)
            texts_path = Path(tmp) / f"{name}.jsonl"
            with open(texts_path, "w", encoding="utf-8") as f:
                f.writelines(json.dumps({"id": rid, "text": text}) + "\n" for rid, text in rows)
            chars = sum(len(t) for _, t in rows)
            res: dict = {"corpus": DATASETS[name][0], "reports": len(rows), "chars": chars,
                         "mean_chars": round(chars / max(len(rows), 1), 1)}
            results["datasets"][name] = res
            base = ["--texts", str(texts_path), "--batch-size", str(args.batch_size)]
            if model:
                base += ["--model", model]

            print(f"[{name}] {len(rows)} reports, {chars:,} chars: radcoder ...", flush=True)
            res["radcoder"] = run_child(["--child", "radcoder", *base], args.timeout)
            print(f"[{name}]   {res['radcoder']['reports_per_second']} reports/s", flush=True)

            if args.n_process:
                for key, n in (("radcoder_batch_1", 1), ("radcoder_batch_n", args.n_process)):
                    if key == "radcoder_batch_n" and n == 1:
                        continue
                    print(f"[{name}] run_batch n_process={n} ...", flush=True)
                    cmd = ["--child", "batch", "--n-process", str(n), *base]
                    try:
                        res[key] = run_child(cmd, args.timeout)
                    except RuntimeError as exc:
                        if "error_handler" not in str(exc):
                            res[key] = {"n_process": n, "error": str(exc)}
                            print(f"[{name}]   failed: {exc}", flush=True)
                            continue
                        # known radcoder.batch/spaCy bug: retry with the benchmark-only workaround
                        print(f"[{name}]   run_batch failed (nlp.set_error_handler AttributeError); "
                              "retrying with the error-handler workaround", flush=True)
                        try:
                            res[key] = run_child(cmd, args.timeout, env={PATCH_ENV: "1"})
                        except RuntimeError as exc2:
                            res[key] = {"n_process": n, "error": str(exc2)}
                            print(f"[{name}]   failed: {exc2}", flush=True)
                            continue
                        res[key]["workaround"] = "nlp.set_error_handler patched to skip pipes raising AttributeError"
                        res[key]["unpatched_error"] = str(exc).splitlines()[-1]
                    print(f"[{name}]   {res[key]['reports_per_second']} reports/s", flush=True)

            if run_medspacy:
                print(f"[{name}] medspaCy ...", flush=True)
                try:
                    t0 = time.perf_counter()
                    med = run_medspacy_speed(texts_path, targets, timeout=args.timeout)
                    med["process_wall_s"] = round(time.perf_counter() - t0, 3)
                    med["peak_rss_mib"] = med.get("peak_rss_mb")  # ru_maxrss / 1024, i.e. MiB
                    res["medspacy"] = med
                    print(f"[{name}]   {med['reports_per_second']} reports/s", flush=True)
                except RuntimeError as exc:
                    res["medspacy"] = {"error": str(exc)}
                    print(f"[{name}]   failed: {exc}", flush=True)

    results["machine"]["loadavg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    print_table(results)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
