"""Benchmark the code-set loaders: cold start time, peak memory, per-call lookups.

Usage (from the repository root):

    .venv/bin/python benchmarks/bench_codesets.py [--runs 5] [--calls 10000] [--no-baselines]

Cold start: each run is a fresh ``python -c "..."`` subprocess (interpreter start +
import + load; one untimed warm-up run precedes the timed ones so the OS file cache
is warm; ``.pyc`` files are only reused if the environment lets Python write them --
``PYTHONDONTWRITEBYTECODE`` is recorded in the result). Wall time is measured around the subprocess;
peak RSS is the child's ``ru_maxrss`` taken per run with ``os.wait4`` and, as a
cross-check, ``resource.getrusage(RUSAGE_CHILDREN).ru_maxrss`` (the maximum over all
children so far). Per-call timings run in this process after loading.

Prints a table and writes ``benchmarks/results/codesets.json``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import random
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "codesets.json"

ICD_CMD = "import radcoder.codesets.icd10cm as m; m.load_icd10cm()"
CPT_CMD = "import radcoder.codesets.procedures as p; p.load_cpt()"
# The same load with radcoder/__init__ (which imports spaCy) replaced by an empty
# package object: isolates what the ICD-10-CM module itself costs.
ICD_ISOLATED_CMD = (
    "import sys, types, importlib.util; "
    "spec = importlib.util.find_spec('radcoder'); "
    "pkg = types.ModuleType('radcoder'); pkg.__path__ = list(spec.submodule_search_locations); "
    "sys.modules['radcoder'] = pkg; "
    "import radcoder.codesets.icd10cm as m; m.load_icd10cm(); "
    "assert 'spacy' not in sys.modules and 'simple_icd_10_cm' not in sys.modules"
)


def _kib_to_mib(kib: int) -> float:
    # ru_maxrss is KiB on Linux, bytes on macOS
    return kib / (1024 * 1024) if sys.platform == "darwin" else kib / 1024


def cold_runs(code: str, runs: int) -> dict:
    cmd = [sys.executable, "-c", code]
    subprocess.run(cmd, check=True, capture_output=True)  # warm-up (pyc, page cache)
    walls, rss = [], []
    for _ in range(runs):
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _pid, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            raise RuntimeError(f"{code!r} failed: {proc.stderr.read().decode()[-2000:]}")
        proc.stderr.close()
        walls.append(wall)
        rss.append(_kib_to_mib(usage.ru_maxrss))
    return {
        "command": code,
        "runs": runs,
        "wall_s": [round(w, 4) for w in walls],
        "wall_s_min": round(min(walls), 4),
        "wall_s_median": round(statistics.median(walls), 4),
        "wall_s_max": round(max(walls), 4),
        "peak_rss_mib": [round(r, 1) for r in rss],
        "peak_rss_mib_median": round(statistics.median(rss), 1),
        "peak_rss_mib_max": round(max(rss), 1),
    }


def per_call(fn, args_list, calls: int) -> float:
    """Mean microseconds per call over ``calls`` calls cycling through ``args_list``."""
    n = len(args_list)
    seq = [args_list[i % n] for i in range(calls)]
    t0 = time.perf_counter()
    for a in seq:
        fn(*a)
    return (time.perf_counter() - t0) / calls * 1e6


def source_sha256() -> dict:
    from radcoder.codesets.icd10cm import source_sha256 as sha

    return sha()


def micro(calls: int) -> dict:
    import radcoder.codesets.icd10cm as m

    t0 = time.perf_counter()
    icd = m.load_icd10cm()
    in_process_load = time.perf_counter() - t0

    rng = random.Random(0)
    billable = list(icd.iter_billable())
    sample = rng.sample(billable, 2000)
    mixed = sample[:1500] + [m.undotted(c) for c in sample[1500:1800]] + [
        "R05.0",
        "S72.001",
        "J18",
        "XYZ",
    ] * 50
    rng.shuffle(mixed)
    pairs = list(zip(sample[:1000], sample[1000:2000])) + [
        ("R05.9", "J41.0"),
        ("E11.9", "E10.9"),
        ("J18.9", "J84.9"),
        ("R05.9", "J18.9"),
    ] * 25
    out = {
        "in_process_load_s": round(in_process_load, 4),
        "release": icd.release,
        "billable_codes": len(icd),
        "calls": calls,
        "us_per_call": {
            "is_billable": round(per_call(icd.is_billable, [(c,) for c in mixed], calls), 3),
            "is_valid": round(per_call(icd.is_valid, [(c,) for c in mixed], calls), 3),
            "description": round(per_call(icd.description, [(c,) for c in sample], calls), 3),
            "excludes1_conflict": round(per_call(icd.excludes1_conflict, pairs, calls), 3),
            "ancestors": round(per_call(icd.ancestors, [(c,) for c in sample], calls), 3),
        },
    }
    t0 = time.perf_counter()
    icd.search("pneumonia")
    out["search_first_call_incl_index_build_s"] = round(time.perf_counter() - t0, 4)
    queries = [("pneumonia",), ("pleural effusion",), ("fracture of right femur",), ("kidney stone",)]
    out["us_per_call"]["search"] = round(per_call(icd.search, queries, 200), 1)
    out["search_calls"] = 200
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--calls", type=int, default=10_000)
    ap.add_argument("--no-baselines", action="store_true", help="skip bare python / simple_icd_10_cm rows")
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args(argv)
    load_start = os.getloadavg()

    cold: dict[str, dict] = {}
    if not args.no_baselines:
        cold["python -c pass (baseline)"] = cold_runs("pass", args.runs)
        # radcoder/__init__ (spaCy extensions) is paid by any radcoder.* import
        cold["import radcoder (package __init__)"] = cold_runs("import radcoder", args.runs)
    cold["icd10cm: import + load_icd10cm()"] = cold_runs(ICD_CMD, args.runs)
    cold["icd10cm, radcoder/__init__ bypassed"] = cold_runs(ICD_ISOLATED_CMD, args.runs)
    have_cpt = importlib.util.find_spec("radcoder.codesets.procedures") is not None
    if have_cpt:
        probe = subprocess.run([sys.executable, "-c", CPT_CMD], capture_output=True, check=False)
        cpt_ok = probe.returncode == 0
        if cpt_ok:
            cold["cpt: import + load_cpt()"] = cold_runs(CPT_CMD, args.runs)
            cold["icd10cm + cpt"] = cold_runs(f"{ICD_CMD}; {CPT_CMD}", args.runs)
        else:
            print("note: radcoder.codesets.procedures exists but load_cpt() failed; skipped")
    if not args.no_baselines and importlib.util.find_spec("simple_icd_10_cm") is not None:
        cold["import simple_icd_10_cm (reference)"] = cold_runs("import simple_icd_10_cm", args.runs)
    children_max = _kib_to_mib(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)

    calls = micro(args.calls)

    result = {
        "benchmark": "codesets",
        "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {
            "platform": platform.platform(),
            "python": platform.python_version(),
            "cpu_count": os.cpu_count(),
            "PYTHONDONTWRITEBYTECODE": os.environ.get("PYTHONDONTWRITEBYTECODE"),
            "loadavg_at_start": [round(x, 2) for x in load_start],
            "loadavg_at_end": [round(x, 2) for x in os.getloadavg()],
            "processor": platform.processor() or platform.machine(),
        },
        "method": (
            "cold = fresh subprocess per run after one untimed warm-up; wall time around "
            "the subprocess; peak RSS = child's ru_maxrss via os.wait4"
        ),
        "budget": {"cold_wall_s": 1.5, "peak_rss_mib": 250},
        "cold": cold,
        "rusage_children_max_rss_mib": round(children_max, 1),
        "per_call": calls,
        "source_sha256": source_sha256(),
    }

    w = max(len(k) for k in cold)
    head = f"cold start ({args.runs} runs)"
    w = max(w, len(head))
    print(f"\n{head:<{w}}  {'min s':>7} {'median s':>9} {'max s':>7}  {'med MiB':>8} {'max MiB':>8}")
    for name, r in cold.items():
        print(
            f"{name:<{w}}  {r['wall_s_min']:>7.3f} {r['wall_s_median']:>9.3f} {r['wall_s_max']:>7.3f}  "
            f"{r['peak_rss_mib_median']:>8.1f} {r['peak_rss_mib_max']:>8.1f}"
        )
    print(f"(RUSAGE_CHILDREN max RSS over all runs: {children_max:.1f} MiB)")
    print(f"\nper call ({calls['billable_codes']} billable codes, {calls['release']})")
    for name, us in calls["us_per_call"].items():
        n = calls["search_calls"] if name == "search" else calls["calls"]
        print(f"  {name:<20} {us:>10.2f} µs   ({n} calls)")
    print(f"  search index build (first search): {calls['search_first_call_incl_index_build_s']:.2f} s")

    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
