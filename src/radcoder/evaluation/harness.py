"""Evaluation harness: score any radcoder model against any annotated set the same way.

``evaluate(model, datasets, out_dir)`` runs the model over the test split of each dataset and writes,
per dataset, ``metrics.json``, ``per_label.csv``, ``per_code.csv``, ``errors.jsonl`` and ``report.html``
(with plots) under ``out_dir/<dataset>/``. No metric is computed here: metrics come from
``metrics.py``; formatting from ``report.py``.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from . import metrics as M
from . import report as R

NER_LABELS = ("MODALITY", "ANATOMY", "LATERALITY", "CONTRAST", "VIEWS", "GUIDANCE", "PROCEDURE", "FINDING")
FRAME_FIELDS = ("modality", "region", "laterality", "contrast", "views")
BLOCKED = ("negated", "uncertain", "hypothetical")


ASSERTION_ONLY = ("assertion_ext",)  # datasets with assertion-labelled spans only


def load_dataset(name: str, split: str = "test") -> list[dict]:
    """``authored``, ``cmc2007`` or ``openi`` (annotated reports), ``assertion_ext`` (non-radiology clinical
    snippets with assertion-labelled spans only), or a path to a gold JSONL."""
    from ..corpus import load_authored, load_standoff, read_jsonl
    if name == "authored":
        recs = load_authored()
    elif name == "assertion_ext":
        from ..corpus import corpus_dir
        recs = read_jsonl(corpus_dir() / "assertion_ext" / "notes.jsonl")
    elif name in ("cmc2007", "openi"):
        recs = load_standoff(name)
    else:
        recs = read_jsonl(name)
    return [r for r in recs if split in (None, "all") or r.get("split", "test") == split]


def _sentence(doc, start: int, end: int):
    span = doc.char_span(start, end, alignment_mode="expand")
    if span is None or not doc.has_annotation("SENT_START"):
        return doc.text, 0
    s = span.sent
    return s.text, s.start_char


def _frame_accuracy(gold_frames: Sequence[Sequence[dict]], pred_frames: Sequence[Sequence[dict]]) -> dict:
    """Element accuracy of exam frames: each gold frame is paired with the best predicted frame."""
    per_field = Counter()
    total = 0
    frames_exact = 0
    for gold, pred in zip(gold_frames, pred_frames):
        pred = list(pred)
        for g in gold:
            best, best_hits = None, -1
            for p in pred:
                hits = sum(1 for f in FRAME_FIELDS if _norm_field(f, g.get(f)) == _norm_field(f, p.get(f)))
                if hits > best_hits:
                    best, best_hits = p, hits
            total += 1
            if best is not None:
                pred.remove(best)
            for f in FRAME_FIELDS:
                if best is not None and _norm_field(f, g.get(f)) == _norm_field(f, best.get(f)):
                    per_field[f] += 1
            if best is not None and best_hits == len(FRAME_FIELDS):
                frames_exact += 1
    out = {f: (per_field[f] / total if total else 0.0) for f in FRAME_FIELDS}
    out["element_accuracy"] = sum(per_field.values()) / (total * len(FRAME_FIELDS)) if total else 0.0
    out["frame_exact"] = frames_exact / total if total else 0.0
    out["n_frames"] = total
    return out


def _norm_field(field: str, v):
    if field == "contrast" and v in ("na", None):
        return None
    if field == "views" and v is not None:
        try:
            return int(v)
        except (TypeError, ValueError):
            return v
    return v


def _from_blocked_evidence(gold: dict, code: dict) -> bool:
    """True when every evidence span of a predicted code lies on gold FINDING spans that are all negated,
    uncertain or hypothetical, i.e. the code was taken from a finding the gold says is not confirmed.
    (The code-identity check beside it also counts a present finding coded under another code.)"""
    ev = code.get("evidence") or []
    if not ev:
        return False
    for e in ev:
        over = [s for s in gold.get("spans", []) if s.get("label") == "FINDING"
                and s["start"] < e["end"] and e["start"] < s["end"]]
        if not over or any(s.get("assertion") not in BLOCKED for s in over):
            return False
    return True


def document_metrics(golds: list[dict], recs_c: list[dict], n_boot: int = 500) -> tuple[dict, list[dict]]:
    """Report-level metrics of output records against gold documents (same order): ICD-10-CM codes,
    CPT/HCPCS lines, flags, exam frames, calibration, auto-coding. Returns (metrics, error records)."""
    out: dict[str, Any] = {}
    errors: list[dict] = []
    g_icd = [list(r["icd10cm"]) for r in golds]
    p_icd = [[c["code"] for c in rec["icd10cm"]] for rec in recs_c]
    out["icd10cm"] = M.code_scores([set(x) for x in g_icd], [set(x) for x in p_icd])
    out["icd10cm"]["first_listed_accuracy"] = M.first_listed_accuracy([g[0] if g else None for g in g_icd], p_icd)
    out["icd10cm"]["pr_curve"] = M.pr_curve([set(x) for x in g_icd],
                                            [[(c["code"], c["score"]) for c in rec["icd10cm"]] for rec in recs_c])
    setf = lambda g, p: M.code_scores(g, p)["micro"]["f"]
    out["icd10cm"]["micro_f_ci95"] = M.bootstrap_ci(setf, [set(x) for x in g_icd], [set(x) for x in p_icd],
                                                    n_boot=n_boot)
    # guideline check: codes that come only from negated/uncertain/hypothetical gold findings
    bad = 0
    for r, pred in zip(golds, p_icd):
        for c in pred:
            ms = [s for s in r["spans"] if s.get("icd10cm") == c]
            if ms and all(s.get("assertion") in BLOCKED for s in ms):
                bad += 1
    out["icd10cm"]["codes_from_negated_or_uncertain"] = bad
    out["icd10cm"]["codes_from_negated_or_uncertain_evidence"] = sum(
        _from_blocked_evidence(r, c) for r, rec in zip(golds, recs_c) for c in rec["icd10cm"])
    g_cpt = [[(c["code"], tuple(sorted(c.get("modifiers", []))), int(c.get("units", 1))) for c in r.get("cpt", [])]
             for r in golds]
    p_cpt = [[(c["code"], tuple(sorted(c["modifiers"])), int(c["units"])) for c in rec["cpt"] + rec["hcpcs"]]
             for rec in recs_c]
    g_cpt = [g + [(h["code"], (), int(h.get("units", 1))) for h in r.get("hcpcs", [])] for g, r in zip(g_cpt, golds)]
    out["cpt_hcpcs"] = M.cpt_line_scores(g_cpt, p_cpt)
    linef = lambda g, p: M.cpt_line_scores(g, p)["line"]["f"]
    out["cpt_hcpcs"]["line_f_ci95"] = M.bootstrap_ci(linef, g_cpt, p_cpt, n_boot=n_boot)
    out["cpt_codes"] = M.code_scores([{c[0] for c in g} for g in g_cpt], [{c[0] for c in p} for p in p_cpt])
    # flags
    g_fl = [set(r.get("flags", [])) for r in golds]
    p_fl = [{f["code"] for f in rec["flags"]} for rec in recs_c]
    out["flags"] = M.code_scores(g_fl, p_fl)
    # frames
    if any(r.get("frames") for r in golds):
        out["frames"] = _frame_accuracy([r.get("frames", []) for r in golds], [rec["frames"] for rec in recs_c])
    # calibration of code scores + auto-coding curve
    y_true, y_prob = [], []
    doc_min, doc_ok = [], []
    for r, rec in zip(golds, recs_c):
        gold_set = set(r["icd10cm"])
        gl = Counter((c["code"], tuple(sorted(c.get("modifiers", []))), int(c.get("units", 1))) for c in r.get("cpt", []))
        scores = []
        for c in rec["icd10cm"]:
            y_true.append(int(c["code"] in gold_set))
            y_prob.append(c["score"])
            scores.append(c["score"])
        for c in rec["cpt"]:
            key = (c["code"], tuple(sorted(c["modifiers"])), int(c["units"]))
            y_true.append(int(gl[key] > 0))
            y_prob.append(c["score"])
            scores.append(c["score"])
        pl = Counter((c["code"], tuple(sorted(c["modifiers"])), int(c["units"])) for c in rec["cpt"])
        doc_min.append(min(scores) if scores else 0.0)
        doc_ok.append({c["code"] for c in rec["icd10cm"]} == gold_set and pl == gl)
    if y_true:
        out["calibration"] = {"ece": M.expected_calibration_error(y_true, y_prob),
                              "reliability": M.reliability_curve(y_true, y_prob)}
        out["auto_code_curve"] = M.auto_code_curve(doc_min, doc_ok)
        routed = [rec.get("route") == "auto" for rec in recs_c]
        n_auto = sum(routed)
        out["routing"] = {"auto_share": n_auto / len(routed),
                          "auto_precision": (sum(ok for ok, a in zip(doc_ok, routed) if a) / n_auto) if n_auto else None,
                          "all_correct_share": sum(doc_ok) / len(doc_ok)}
    for r, rec, g, p in zip(golds, recs_c, g_icd, p_icd):
        for kind, items in (("code_fn", set(g) - set(p)), ("code_fp", set(p) - set(g))):
            for c in sorted(items):
                errors.append({"id": r["id"], "kind": kind, "sentence": "", "sentence_start": 0,
                               "gold": {"icd10cm": g}, "pred": {"icd10cm": p, "code": c}, "spans": []})
    return out, errors


def run_model(nlp, recs: list[dict]) -> list:
    docs = []
    for r in recs:
        d = nlp.make_doc(r["text"])
        d._.setting = r.get("setting", "global")
        d._.payer = r.get("payer") or "medicare"
        d._.report_id = r["id"]
        docs.append(d)
    return list(nlp.pipe(docs))


def _assertion_block(nlp, recs: list[dict], errors: list[dict], *, baselines: bool, n_boot: int) -> dict:
    """Assertion of the gold FINDING spans by radcoder (and negspacy / medspaCy when ``baselines``): the
    ``assertion`` block of a dataset's metrics; disagreements are appended to ``errors``."""
    import radcoder
    out: dict[str, Any] = {}
    gold_a, pred_a, texts_spans = [], [], []
    for r in recs:
        fs = [s for s in r["spans"] if s["label"] == "FINDING" and s.get("assertion")]
        if not fs:
            continue
        labs = radcoder.assert_spans(nlp, r["text"], [(s["start"], s["end"]) for s in fs])
        gold_a.extend(s["assertion"] for s in fs)
        pred_a.extend(labs)
        texts_spans.append({"id": r["id"], "text": r["text"], "spans": [[s["start"], s["end"]] for s in fs]})
        for s, lab in zip(fs, labs):
            if lab != s["assertion"]:
                d = nlp.make_doc(r["text"])
                d = nlp.get_pipe("radcoder_sentences")(d)
                sent, off = _sentence(d, s["start"], s["end"])
                errors.append({"id": r["id"], "kind": "assertion", "sentence": sent, "sentence_start": off,
                               "gold": {"assertion": s["assertion"]}, "pred": {"assertion": lab},
                               "spans": [{"start": s["start"] - off, "end": s["end"] - off,
                                          "label": f"{s['assertion']}->{lab}"}]})
    if gold_a:
        out["assertion"] = {"radcoder": M.assertion_scores(gold_a, pred_a)}
        acc = lambda g, p: M.assertion_scores(g, p)["accuracy"]
        out["assertion"]["radcoder"]["accuracy_ci95"] = M.bootstrap_ci(acc, gold_a, pred_a, n_boot=n_boot)
        if baselines:
            try:
                from .baselines import run_assertion_baselines
                base = run_assertion_baselines(texts_spans)
                for bname, per_doc in base.items():
                    flat = [lab for labs in per_doc for lab in labs]
                    out["assertion"][bname] = M.assertion_scores(gold_a, flat)
                    out["assertion"][bname]["accuracy_ci95"] = M.bootstrap_ci(acc, gold_a, flat, n_boot=n_boot)
                    out["assertion"][f"paired_radcoder_vs_{bname}"] = M.paired_bootstrap(acc, gold_a, pred_a, flat,
                                                                                         n_boot=n_boot)
            except Exception as exc:  # baselines are optional: say why they are missing
                out["assertion"]["baselines_error"] = f"{type(exc).__name__}: {exc}"[:300]
    return out


def evaluate_dataset(nlp, recs: list[dict], name: str, *, baselines: bool = True, n_boot: int = 500,
                     variants: dict[str, Any] | None = None) -> tuple[dict, list[dict]]:
    """Metrics and error records of one model on one list of annotated reports."""
    import radcoder
    t0 = time.perf_counter()
    docs = run_model(nlp, recs)
    secs = time.perf_counter() - t0
    errors: list[dict] = []
    out: dict[str, Any] = {"dataset": name, "n_docs": len(recs), "seconds": round(secs, 3),
                           "reports_per_second": round(len(recs) / secs, 2) if secs else None}
    # ---------------------------------------------------------------- NER
    gold_spans = [[(s["start"], s["end"], s["label"]) for s in r["spans"]] for r in recs]
    pred_spans = [[(e.start_char, e.end_char, e.label_) for e in d.ents] for d in docs]
    labels = sorted({s[2] for g in gold_spans for s in g})
    out["ner_exact"] = M.span_prf(gold_spans, pred_spans, "exact", labels=labels)
    out["ner_overlap"] = M.span_prf(gold_spans, pred_spans, "overlap", labels=labels)
    f1 = lambda g, p: M.span_prf(g, p, "exact", labels=labels)["micro"]["f"]
    out["ner_exact"]["micro_f_ci95"] = M.bootstrap_ci(f1, gold_spans, pred_spans, n_boot=n_boot)
    for r, d, g, p in zip(recs, docs, gold_spans, pred_spans):
        gs, ps = set(g), set(p)
        for kind, items in (("span_fn", gs - ps), ("span_fp", ps - gs)):
            for s, e, lab in sorted(items):
                sent, off = _sentence(d, s, e)
                errors.append({"id": r["id"], "kind": kind, "sentence": sent, "sentence_start": off,
                               "gold": {"label": lab} if kind == "span_fn" else {},
                               "pred": {"label": lab} if kind == "span_fp" else {},
                               "spans": [{"start": s - off, "end": e - off, "label": lab}]})
    out.update(_assertion_block(nlp, recs, errors, baselines=baselines, n_boot=n_boot))
    # ---------------------------------------------------------------- document codes (authored gold)
    coded = [(r, d) for r, d in zip(recs, docs) if "icd10cm" in r]
    if coded:
        doc_metrics, doc_errors = document_metrics([r for r, _ in coded],
                                                   [radcoder.to_record(d, r["id"]) for r, d in coded], n_boot=n_boot)
        out.update(doc_metrics)
        errors.extend(doc_errors)
        coder = nlp.get_pipe("radcoder_coder") if "radcoder_coder" in nlp.pipe_names else None
        if coder is not None and getattr(coder, "ranker", None) is not None:
            # baseline beside the shipped coder: the guideline rules without the trained ranker
            saved, coder.ranker = coder.ranker, None
            try:
                base_docs = run_model(nlp, [r for r, _ in coded])
                base, _ = document_metrics([r for r, _ in coded],
                                           [radcoder.to_record(d, r["id"]) for (r, _), d in zip(coded, base_docs)],
                                           n_boot=n_boot)
            finally:
                coder.ranker = saved
            out["codes_rules_only"] = {"icd10cm_micro_f_ci95": base["icd10cm"]["micro_f_ci95"],
                                       "icd10cm_first_listed_accuracy": base["icd10cm"]["first_listed_accuracy"],
                                       "cpt_line_f_ci95": base["cpt_hcpcs"]["line_f_ci95"],
                                       "calibration_ece": base.get("calibration", {}).get("ece")}
    # ---------------------------------------------------------------- NER variants
    for vname, vnlp in (variants or {}).items():
        vdocs = run_model(vnlp, recs)
        vp = [[(e.start_char, e.end_char, e.label_) for e in d.ents] for d in vdocs]
        res = M.span_prf(gold_spans, vp, "exact", labels=labels)
        res["micro_f_ci95"] = M.bootstrap_ci(f1, gold_spans, vp, n_boot=n_boot)
        res["paired_vs_shipped"] = M.paired_bootstrap(f1, gold_spans, pred_spans, vp, n_boot=n_boot)
        out.setdefault("ner_variants", {})[vname] = res
    return out, errors


def write_outputs(result: dict, errors: list[dict], out_dir: Path, title: str) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    R.write_metrics(result, out_dir)
    if "ner_exact" in result:  # assertion-only sets have no NER figures
        rows = [{"label": lab, **vals} for lab, vals in result["ner_exact"]["per_label"].items()]
        R.write_table_csv(rows, out_dir / "per_label.csv")
    if "icd10cm" in result:
        rows = [{"system": "icd10cm", "code": c, **v} for c, v in result["icd10cm"]["per_code"].items()]
        rows += [{"system": "cpt", "code": c, **v} for c, v in result.get("cpt_codes", {}).get("per_code", {}).items()]
        R.write_table_csv(rows, out_dir / "per_code.csv")
    R.write_errors_jsonl(errors, out_dir / "errors.jsonl")
    plots = {}
    pdir = out_dir / "plots"
    pdir.mkdir(exist_ok=True)
    if "assertion" in result:
        plots["assertion confusion"] = str(R.plot_confusion(result["assertion"]["radcoder"]["confusion"],
                                                           pdir / "assertion_confusion.png"))
    if result.get("icd10cm", {}).get("pr_curve"):
        plots["ICD-10-CM precision-recall"] = str(R.plot_pr_curve(result["icd10cm"]["pr_curve"], pdir / "pr_icd10cm.png"))
    if "calibration" in result:
        plots["calibration"] = str(R.plot_reliability(result["calibration"]["reliability"], pdir / "reliability.png"))
        plots["auto-code curve"] = str(R.plot_auto_code(result["auto_code_curve"], pdir / "auto_code.png"))
    R.render_html(result, errors, plots, out_dir / "report.html", title=title)


def evaluate_assertion_only(nlp, recs: list[dict], name: str, *, baselines: bool = True,
                            n_boot: int = 500) -> tuple[dict, list[dict]]:
    """Metrics of a dataset that has assertion-labelled spans only (no NER or document gold)."""
    errors: list[dict] = []
    out: dict[str, Any] = {"dataset": name, "n_docs": len(recs)}
    out.update(_assertion_block(nlp, recs, errors, baselines=baselines, n_boot=n_boot))
    return out, errors


def evaluate(model: str | Path | None, datasets: Iterable[str], out_dir: str | Path, *, baselines: bool = True,
             variants: bool = True, n_boot: int = 500) -> dict[str, dict]:
    """Score ``model`` on the test split of every dataset; write results under ``out_dir/<dataset>``."""
    import radcoder
    nlp = radcoder.load(model)
    var = {}
    if variants and "ner" in nlp.pipe_names:
        var["rules_only"] = radcoder.load(model)
        var["rules_only"].disable_pipe("ner")
        var["trained_only"] = radcoder.load(model)
        var["trained_only"].disable_pipe("entity_ruler")
    results = {}
    for name in datasets:
        recs = load_dataset(name)
        if not recs:
            results[name] = {"dataset": name, "skipped": "no annotated test reports (is ../shared/data present?)"}
            continue
        if name in ASSERTION_ONLY:
            res, errs = evaluate_assertion_only(nlp, recs, name, baselines=baselines, n_boot=n_boot)
        else:
            res, errs = evaluate_dataset(nlp, recs, name, baselines=baselines, n_boot=n_boot, variants=var)
        res["model"] = f"{nlp.meta.get('name')} {nlp.meta.get('version')}"
        folder = name if name in ("authored", "cmc2007", "openi", *ASSERTION_ONLY) else Path(name).stem
        write_outputs(res, errs, Path(out_dir) / folder, f"radcoder evaluation: {folder}")
        results[name] = res
    return results


def read_mesh_mapping(path: str | Path) -> dict[str, str]:
    """MeSH heading -> ICD-10-CM code (TSV with a header; '#' lines are comments)."""
    out = {}
    with open(path, encoding="utf-8") as f:
        rows = [ln.rstrip("\n").split("\t") for ln in f if ln.strip() and not ln.startswith("#")]
    for row in rows[1:]:
        if len(row) >= 2 and row[0].strip() and row[1].strip():
            out[row[0].strip()] = row[1].strip()
    return out


def evaluate_openi_mesh(model: str | Path | None, csv_path: str | Path, mapping_path: str | Path,
                        out_dir: str | Path | None = None, *, limit: Optional[int] = None, n_boot: int = 500) -> dict:
    """Score finding extraction against Open-i's manual MeSH indexing (positive findings only).

    Gold per report: the ICD-10-CM codes the mapping gives for its MeSH headings (reports indexed
    'No Indexing' are skipped; 'normal' gives an empty set). Predicted: the codes of the report's FINDING
    entities asserted present (any section but the indication), restricted to the codes the mapping can
    produce, so unmapped findings are neither rewarded nor punished."""
    import radcoder
    from ..corpus import read_openi
    mapping = read_mesh_mapping(mapping_path)
    universe = set(mapping.values())
    nlp = radcoder.load(model)
    docs = [d for d in read_openi(csv_path) if not any(m.strip().lower() == "no indexing" for m in d.mesh)]
    if limit:
        docs = docs[:limit]
    gold = [{mapping[h.split("/")[0].strip()] for h in d.mesh if h.split("/")[0].strip() in mapping} for d in docs]
    pred = []
    for doc in nlp.pipe([d.text for d in docs], batch_size=64):
        codes = set()
        for e in doc.ents:
            if e.label_ == "FINDING" and (e._.assertion or "present") == "present" and e._.icd10cm in universe:
                from ..extensions import section_at
                if section_at(doc, e.start_char) != "indication":
                    codes.add(e._.icd10cm)
        pred.append(codes)
    res = M.code_scores(gold, pred)
    res["micro_f_ci95"] = M.bootstrap_ci(lambda g, p: M.code_scores(g, p)["micro"]["f"], gold, pred, n_boot=n_boot)
    res["n_reports"] = len(docs)
    res["mapping"] = str(mapping_path)
    if out_dir is not None:
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        R.write_metrics(res, out_dir)
        R.write_table_csv([{"code": c, **v} for c, v in res["per_code"].items()], out_dir / "per_code.csv")
    return res


def score_predictions(pred_path: str | Path, gold_path: str | Path, out_dir: str | Path | None = None, *,
                      n_boot: int = 500) -> dict:
    """Score an existing predictions JSONL (output records) against a gold JSONL (corpus format),
    aligned by id: spans (exact and overlap), assertions of exactly matched FINDING spans, and, when the
    gold has document codes, ICD-10-CM, CPT/HCPCS lines, flags, frames and calibration."""
    from ..corpus import read_jsonl
    gold = {r["id"]: r for r in read_jsonl(gold_path)}
    preds = {r["id"]: r for r in read_jsonl(pred_path)}
    ids = [i for i in gold if i in preds]
    out: dict[str, Any] = {"n_gold": len(gold), "n_pred": len(preds), "n_scored": len(ids),
                           "missing_predictions": sorted(set(gold) - set(preds))[:50]}
    gs = [[(s["start"], s["end"], s["label"]) for s in gold[i]["spans"]] for i in ids]
    ps = [[(e["start"], e["end"], e["label"]) for e in preds[i]["entities"]] for i in ids]
    labels = sorted({s[2] for g in gs for s in g})
    out["ner_exact"] = M.span_prf(gs, ps, "exact", labels=labels)
    out["ner_overlap"] = M.span_prf(gs, ps, "overlap", labels=labels)
    out["ner_exact"]["micro_f_ci95"] = M.bootstrap_ci(lambda g, p: M.span_prf(g, p, "exact", labels=labels)["micro"]["f"],
                                                      gs, ps, n_boot=n_boot)
    ga, pa = [], []
    for i in ids:
        pmap = {(e["start"], e["end"]): e.get("assertion") for e in preds[i]["entities"] if e["label"] == "FINDING"}
        for s in gold[i]["spans"]:
            if s["label"] == "FINDING" and (s["start"], s["end"]) in pmap:
                ga.append(s.get("assertion") or "present")
                pa.append(pmap[(s["start"], s["end"])] or "present")
    if ga:
        out["assertion_on_matched_spans"] = M.assertion_scores(ga, pa)
    errors: list[dict] = []
    coded = [i for i in ids if "icd10cm" in gold[i]]
    if coded:
        m, errors = document_metrics([gold[i] for i in coded], [preds[i] for i in coded], n_boot=n_boot)
        out.update(m)
    if out_dir is not None:
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        R.write_metrics(out, out_dir)
        R.write_table_csv([{"label": k, **v} for k, v in out["ner_exact"]["per_label"].items()], out_dir / "per_label.csv")
        R.write_errors_jsonl(errors, out_dir / "errors.jsonl")
    return out


def compare(model_a: str | Path | None, model_b: str | Path, datasets, out_dir: str | Path | None = None, *,
            n_boot: int = 1000) -> dict:
    """Two models on the same test splits in one run, with paired bootstrap tests (delta = A - B) of
    NER exact F1, assertion accuracy on gold spans, ICD-10-CM set F1 and CPT/HCPCS line F1."""
    import radcoder
    nlps = {"A": radcoder.load(model_a), "B": radcoder.load(model_b)}
    out: dict[str, Any] = {"A": str(model_a or "shipped"), "B": str(model_b)}
    for name in datasets:
        recs = load_dataset(name)
        if not recs:
            out[name] = {"skipped": "no annotated test reports"}
            continue
        gold_spans = [[(s["start"], s["end"], s["label"]) for s in r["spans"]] for r in recs]
        labels = sorted({s[2] for g in gold_spans for s in g})
        per: dict[str, Any] = {}
        spans, asserts, records = {}, {}, {}
        for key, nlp in nlps.items():
            docs = run_model(nlp, recs)
            spans[key] = [[(e.start_char, e.end_char, e.label_) for e in d.ents] for d in docs]
            records[key] = [radcoder.to_record(d, r["id"]) for r, d in zip(recs, docs)]
            asserts[key] = [lab for r in recs for lab in radcoder.assert_spans(
                nlp, r["text"], [(s["start"], s["end"]) for s in r["spans"] if s["label"] == "FINDING" and s.get("assertion")])]
        f1 = lambda g, p: M.span_prf(g, p, "exact", labels=labels)["micro"]["f"]  # noqa: E731
        per["ner_exact_f1"] = M.paired_bootstrap(f1, gold_spans, spans["A"], spans["B"], n_boot=n_boot)
        gold_a = [s["assertion"] for r in recs for s in r["spans"] if s["label"] == "FINDING" and s.get("assertion")]
        if gold_a:
            acc = lambda g, p: M.assertion_scores(g, p)["accuracy"]  # noqa: E731
            per["assertion_accuracy"] = M.paired_bootstrap(acc, gold_a, asserts["A"], asserts["B"], n_boot=n_boot)
        idx = [k for k, r in enumerate(recs) if "icd10cm" in r]
        if idx:
            g_icd = [set(recs[k]["icd10cm"]) for k in idx]
            p = {key: [{c["code"] for c in records[key][k]["icd10cm"]} for k in idx] for key in nlps}
            setf = lambda g, q: M.code_scores(g, q)["micro"]["f"]  # noqa: E731
            per["icd10cm_set_f1"] = M.paired_bootstrap(setf, g_icd, p["A"], p["B"], n_boot=n_boot)
            line = lambda rec: [(c["code"], tuple(sorted(c.get("modifiers", []))), int(c.get("units", 1)))  # noqa: E731
                                for c in rec.get("cpt", []) + rec.get("hcpcs", [])]
            g_cpt = [line(recs[k]) for k in idx]
            pc = {key: [line(records[key][k]) for k in idx] for key in nlps}
            linef = lambda g, q: M.cpt_line_scores(g, q)["line"]["f"]  # noqa: E731
            per["cpt_line_f1"] = M.paired_bootstrap(linef, g_cpt, pc["A"], pc["B"], n_boot=n_boot)
        out[name] = per
    if out_dir is not None:
        Path(out_dir).mkdir(parents=True, exist_ok=True)
        R.write_metrics(out, out_dir)
    return out
