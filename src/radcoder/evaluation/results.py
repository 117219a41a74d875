"""``evaluation/RESULTS.md``: one command runs every evaluation of the shipped model and renders the
figures the README and the model card quote.

    radcoder results            # evaluate + CMC 2007 cross-validation + render
    radcoder results --render   # re-render RESULTS.md from the metrics.json files already written
"""

from __future__ import annotations

import datetime as _dt
import json
import platform
from pathlib import Path
from typing import Any, Optional

REPO = Path(__file__).resolve().parents[3]
EVAL_DIR = REPO / "evaluation" / "radcoder_default"
RESULTS = REPO / "evaluation" / "RESULTS.md"
MESH_MAPPING = REPO / "evaluation" / "mappings" / "openi_mesh_to_icd10cm.tsv"
DATASETS = ("authored", "cmc2007", "openi", "assertion_ext")
DATASET_TITLES = {"authored": "Authored test split (hand-written reports)",
                  "cmc2007": "CMC 2007 real-text annotations (test part)",
                  "openi": "Open-i real-text annotations (test part)",
                  "assertion_ext": "Non-radiology clinical notes (authored stand-in for an external set, test half)"}


def run_all(model: Optional[str] = None, out_dir: Path = EVAL_DIR, n_boot: int = 1000) -> None:
    from ..benchmarks.cmc2007 import cross_validate
    from ..corpus import shared_data_dir
    from .harness import evaluate
    evaluate(model, DATASETS, out_dir, baselines=True, n_boot=n_boot)
    shared = shared_data_dir()
    if shared is not None:
        cross_validate(shared / "cmc2007" / "cmc2007_dev.xml", out_dir / "cmc2007_cv", model=model)
        from .harness import evaluate_openi_mesh
        evaluate_openi_mesh(model, shared / "openi" / "openi_dev.csv", MESH_MAPPING, out_dir / "openi_mesh",
                            n_boot=n_boot)


def _load(p: Path) -> Optional[dict]:
    return json.loads(p.read_text()) if p.exists() else None


def _f(x: Any, nd: int = 3) -> str:
    if x is None:
        return "–"
    if isinstance(x, (list, tuple)) and len(x) == 3:
        return f"{x[0]:.{nd}f} [{x[1]:.{nd}f}, {x[2]:.{nd}f}]"
    if isinstance(x, float):
        return f"{x:.{nd}f}"
    return str(x)


def _table(header: list[str], rows: list[list[Any]]) -> str:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(_f(c) for c in r) + " |" for r in rows]
    return "\n".join(out)


def render(out_dir: Path = EVAL_DIR, path: Path = RESULTS) -> str:
    lines: list[str] = []
    res = {d: _load(out_dir / d / "metrics.json") for d in DATASETS}
    model = next((r.get("model") for r in res.values() if r and r.get("model")), "radcoder_default")
    lines += [
        "# radcoder evaluation results",
        "",
        f"Model: **{model}**. Generated {_dt.date.today().isoformat()} by `radcoder results` on a "
        f"{platform.machine()} machine with Python {platform.python_version()}. Every figure below is read from "
        f"`evaluation/radcoder_default/*/metrics.json`; intervals are 95% bootstrap intervals over reports "
        "(percentile method). Nothing here was tuned on the test splits.",
        "",
    ]
    # ------------------------------------------------------------------ NER
    lines += ["## NER (exact span match)", ""]
    rows = []
    for d in DATASETS:
        r = res[d]
        if not r or "ner_exact" not in r:
            continue
        v = r.get("ner_variants", {})
        rows.append([DATASET_TITLES[d], r["n_docs"], r["ner_exact"]["micro_f_ci95"], r["ner_overlap"]["micro"]["f"],
                     v.get("rules_only", {}).get("micro_f_ci95"), v.get("trained_only", {}).get("micro_f_ci95")])
    lines += [_table(["dataset", "reports", "combined (shipped) F1", "combined overlap F1", "rules only F1",
                      "trained only F1"], rows), ""]
    for d in DATASETS:
        r = res[d]
        if not r or "ner_exact" not in r:
            continue
        rows = [[lab, v["p"], v["r"], v["f"], v["support"]] for lab, v in r["ner_exact"]["per_label"].items()]
        lines += [f"Per label, {DATASET_TITLES[d]}:", "", _table(["label", "P", "R", "F1", "gold"], rows), ""]
    # ------------------------------------------------------------------ assertion
    lines += ["## Assertion on gold FINDING spans", "",
              "radcoder's ConText rules (its own sentence splitter) beside negspacy 1.0.4 (`en_clinical` termset) and "
              "medspaCy 1.3.1 ConText (default rules), both with spaCy's `sentencizer`, on the same spans in the same run. "
              "negspacy only decides negated vs present. The non-radiology set (`corpus/assertion_ext`) stands in for the "
              "external negation test sets of other clinical note types: snippets of 14 note types written blind to "
              "radcoder's rules; its dev half was used to tune the rules, its test half only for this table.", ""]
    rows = []
    for d in DATASETS:
        r = res[d]
        if not r or "assertion" not in r:
            continue
        for system in ("radcoder", "medspacy", "negspacy"):
            a = r["assertion"].get(system)
            if not a:
                continue
            neg = a.get("per_class", {}).get("negated", {})
            rows.append([DATASET_TITLES[d], system, a.get("accuracy_ci95"), neg.get("f"), neg.get("support")])
        if "baselines_error" in r["assertion"]:
            rows.append([DATASET_TITLES[d], "baselines", "not run: " + r["assertion"]["baselines_error"][:80], None, None])
    pooled = []
    for system in ("radcoder", "medspacy", "negspacy"):
        conf: dict = {}
        for d in ("cmc2007", "openi"):
            a = ((res[d] or {}).get("assertion") or {}).get(system)
            for g, row in ((a or {}).get("confusion") or {}).items():
                for p_, n in row.items():
                    conf[(g, p_)] = conf.get((g, p_), 0) + n
        if conf:
            total = sum(conf.values())
            acc = sum(n for (g, p_), n in conf.items() if g == p_) / total
            tp = conf.get(("negated", "negated"), 0)
            fp = sum(n for (g, p_), n in conf.items() if p_ == "negated" and g != "negated")
            fn = sum(n for (g, p_), n in conf.items() if g == "negated" and p_ != "negated")
            negf = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
            pooled.append(["CMC 2007 + Open-i real text, pooled", system, acc, negf, tp + fn])
    rows += pooled
    lines += [_table(["dataset", "system", "accuracy", "negated F1", "negated (gold)"], rows), ""]
    mesh = _load(out_dir / "openi_mesh" / "metrics.json")
    if mesh and "micro" in mesh:
        lines += ["## Positive findings against Open-i's manual MeSH indexing (real text)", "",
                  f"All {mesh['n_reports']} indexed Open-i developer reports (`radcoder evaluate-openi`): the ICD-10-CM codes of "
                  "FINDING entities asserted present outside the indication, against the indexers' MeSH headings mapped "
                  "with `evaluation/mappings/openi_mesh_to_icd10cm.tsv`, both restricted to the codes the mapping can "
                  "produce. The 150 hand-annotated Open-i reports are among them (100 of those were used for tuning).", "",
                  _table(["micro-F1", "micro P", "micro R", "macro-F1", "codes"],
                         [[mesh.get("micro_f_ci95"), mesh["micro"]["p"], mesh["micro"]["r"], mesh["macro"]["f"],
                           len(mesh.get("per_code", {}))]]), ""]
    # ------------------------------------------------------------------ frames + codes
    a = res["authored"]
    if a and "icd10cm" in a:
        lines += ["## Exam frames and codes (authored test split)", ""]
        fr = a.get("frames", {})
        lines += [_table(["element", "accuracy"], [[k, fr.get(k)] for k in
                                                   ("modality", "region", "laterality", "contrast", "views",
                                                    "element_accuracy", "frame_exact")]), ""]
        ic, cp = a["icd10cm"], a["cpt_hcpcs"]
        rows = [
            ["ICD-10-CM set micro-F1", ic["micro_f_ci95"]], ["ICD-10-CM micro P / R", f"{ic['micro']['p']:.3f} / {ic['micro']['r']:.3f}"],
            ["ICD-10-CM macro-F1", ic["macro"]["f"]], ["ICD-10-CM first-listed accuracy", ic["first_listed_accuracy"]],
            ["codes whose evidence is only negated/uncertain/hypothetical gold findings",
             ic.get("codes_from_negated_or_uncertain_evidence")],
            ["codes equal to a gold span code whose every gold span is negated/uncertain/hypothetical (proxy)",
             ic["codes_from_negated_or_uncertain"]],
            ["CPT/HCPCS line exact match F1 (code+modifiers+units)", cp["line_f_ci95"]],
            ["CPT/HCPCS code F1", cp["code"]["f"]], ["documentation-gap flags micro-F1", a.get("flags", {}).get("micro", {}).get("f")],
            ["expected calibration error (code scores)", a.get("calibration", {}).get("ece")],
            ["auto-coded share (route=auto)", a.get("routing", {}).get("auto_share")],
            ["precision on the auto-coded share (all codes right)", a.get("routing", {}).get("auto_precision")],
        ]
        lines += [_table(["metric", "value"], rows), ""]
        base = a.get("codes_rules_only")
        if base:
            lines += ["Baseline beside the shipped coder (same run): the guideline rules without the trained ranker.", "",
                      _table(["system", "ICD-10-CM set micro-F1", "first-listed accuracy", "CPT/HCPCS line F1", "ECE"],
                             [["shipped (rules + ranker)", ic["micro_f_ci95"], ic["first_listed_accuracy"],
                               cp["line_f_ci95"], a.get("calibration", {}).get("ece")],
                              ["rules only", base["icd10cm_micro_f_ci95"], base["icd10cm_first_listed_accuracy"],
                               base["cpt_line_f_ci95"], base["calibration_ece"]]]), ""]
        curve = a.get("auto_code_curve") or []
        pick = [c for c in curve if round(c["threshold"] * 20) % 4 == 0]
        if pick:
            lines += ["Auto-code curve (report auto-coded when every code score ≥ threshold):", "",
                      _table(["threshold", "share auto-coded", "precision on it", "reports"],
                             [[c["threshold"], c["share"], c["precision"], c["n"]] for c in pick]), ""]
    # ------------------------------------------------------------------ CMC CV
    cv = _load(out_dir / "cmc2007_cv" / "metrics.json")
    if cv:
        lines += [f"## CMC 2007, {cv['folds']}-fold cross-validation on the developer split ({cv['n_docs']} reports)", "",
                  "Gold: CMC_MAJORITY mapped to ICD-10-CM with `icd9_to_icd10cm.tsv` (one-to-one, so ICD-9-CM scores are equal).", ""]
        names = {"radcoder": "radcoder (pipeline features + LR)", "radcoder_rules_only": "radcoder guideline rules only",
                 "baseline_tfidf_lr_negfilter": "baseline: TF-IDF + LR, negation filter"}
        rows = [[names.get(k, k), v["micro_f1_ci95"], v["macro_f1"]] for k, v in cv["results"].items()]
        tr = _load(out_dir / "cmc2007_transformer" / "metrics.json")
        if tr:
            names_tr = {"minilm_frozen": "transformer track: MiniLM (frozen) + LR",
                        "minilm_finetune": "transformer track: MiniLM fine-tuned",
                        "minilm_hybrid": "transformer track: MiniLM + radcoder features (hybrid)"}
            for k, v in (tr.get("results") or {}).items():
                if k in names_tr and isinstance(v, dict) and "micro_f1" in v:
                    rows.append([names_tr[k], v["micro_f1"], v.get("macro_f1")])
        lines += [_table(["system", "micro-F1", "macro-F1"], rows), ""]
    bench = _load(REPO / "benchmarks" / "results" / "pipeline.json")
    if bench:
        m = bench.get("machine", {})
        lines += ["## Speed and memory", "",
                  f"`python benchmarks/bench_pipeline.py` ({bench.get('date_utc', '')}, {m.get('cpu_count')} cores, "
                  f"load average at start {m.get('loadavg_at_start')}; model {bench.get('settings', {}).get('model')}). "
                  "medspaCy runs sectionizer + ConText only (no NER, no coding), so it is a floor, not a like-for-like.", ""]
        rows = []
        for ds in (bench.get("datasets") or {}).values():
            for system in ("radcoder", "medspacy"):
                v = ds.get(system) or {}
                if v:
                    rows.append([ds.get("corpus"), system, v.get("reports"), v.get("reports_per_second"),
                                 v.get("peak_rss_mib_self") or v.get("peak_rss_mb"), v.get("load_s") or v.get("load_seconds"),
                                 v.get("warm_up_s")])
        lines += [_table(["corpus", "system", "reports", "reports/s", "peak RSS MiB", "load s", "warm-up s"], rows), ""]
    text = "\n".join(lines) + "\n"
    path.write_text(text, encoding="utf-8")
    return text
