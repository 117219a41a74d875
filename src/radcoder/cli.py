"""Command line: a thin layer over the library. Each command parses arguments, calls one library
function and prints. Run ``radcoder --help``."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

from .about import __version__
from .errors import RadcoderError

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Radiology report coding (CPT/HCPCS, ICD-10-CM).")
corpus_app = typer.Typer(no_args_is_help=True, help="Corpus tools: validate, stats, build.")
benchmark_app = typer.Typer(no_args_is_help=True, help="External benchmarks.")
app.add_typer(corpus_app, name="corpus")
app.add_typer(benchmark_app, name="benchmark")


def _version(value: bool):
    if value:
        typer.echo(f"radcoder {__version__}")
        raise typer.Exit()


@app.callback()
def main_callback(version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                               help="Print the version and exit.")):
    """radcoder: tagged spans, CPT/HCPCS with modifiers, ICD-10-CM with evidence, documentation gaps."""


def _fail(e: Exception, code: int = 2):
    typer.echo(str(e), err=True)
    raise typer.Exit(code)


@app.command("code")
def code_cmd(report: str = typer.Argument(..., help="Report text file, or - for stdin."),
             json_out: bool = typer.Option(False, "--json", help="Print the output record as JSON."),
             model: Path | None = typer.Option(None, "--model", help="Model folder (default: shipped model)."),
             setting: str = typer.Option("global", help="global | professional | technical"),
             report_id: str | None = typer.Option(None, "--id", help="Report id for the record.")):
    """Code one report."""
    import radcoder

    from .batch import InputError, check_text
    from .reporting import format_record
    try:
        raw = sys.stdin.buffer.read() if report == "-" else Path(report).read_bytes()
    except OSError as e:
        _fail(RadcoderError(f"[E402] Input {report} could not be read ({type(e).__name__})."))
    rid = report_id or ("stdin" if report == "-" else Path(report).stem)
    text = check_text(rid, raw)
    if isinstance(text, InputError):
        _fail(RadcoderError(text.message))
    try:
        nlp = radcoder.load(model)
    except RadcoderError as e:
        _fail(e)
    doc = nlp.make_doc(text)
    doc._.setting = setting
    doc = nlp(doc)
    rec = radcoder.to_record(doc, rid)
    typer.echo(json.dumps(rec, indent=2) if json_out else format_record(rec))


@app.command("batch")
def batch_cmd(input: Path = typer.Argument(..., help=".jsonl, .csv, .parquet or a folder of .txt files"),
              out: Path = typer.Option(..., "--out", help="Output JSONL (one record per input)."),
              model: Path | None = typer.Option(None, "--model", help="Model folder (default: shipped model)."),
              n_process: int = typer.Option(1, "--n-process", min=1, help="Worker processes."),
              resume: bool = typer.Option(False, "--resume", help="Skip ids already in --out and append."),
              encoding: str = typer.Option("utf-8", help="Encoding of .txt/.csv inputs."),
              max_chars: int = typer.Option(200_000, "--max-chars", help="Longest report accepted.")):
    """Code every report of INPUT into OUT (JSONL), in input order; bad rows become error records."""
    from .batch import run_batch
    try:
        counts = run_batch(input, out, model=str(model) if model else None, n_process=n_process, resume=resume,
                           encoding=encoding, max_chars=max_chars)
    except RadcoderError as e:
        _fail(e)
    typer.echo(f"{counts['written']} coded, {counts['errors']} errors, {counts['skipped']} skipped (resume) -> {out}")


@app.command("evaluate")
def evaluate_cmd(model: Path | None = typer.Option(None, "--model", help="Model folder (default: shipped model)."),
                 dataset: list[str] = typer.Option(["authored", "cmc2007", "openi"], "--dataset",
                                                   help="authored | cmc2007 | openi | assertion_ext | path to a gold JSONL"),
                 out: Path = typer.Option(Path("evaluation/radcoder_default"), "--out", help="Output folder."),
                 baselines: bool = typer.Option(True, help="Run negspacy/medspaCy assertion baselines."),
                 n_boot: int = typer.Option(500, help="Bootstrap resamples for confidence intervals.")):
    """Score MODEL on the test split of each DATASET; write metrics.json, CSVs, errors.jsonl, report.html."""
    from .evaluation.harness import evaluate
    res = evaluate(model, dataset, out, baselines=baselines, n_boot=n_boot)
    for name, r in res.items():
        if "skipped" in r:
            typer.echo(f"{name}: skipped ({r['skipped']})")
            continue
        typer.echo(f"{name}: NER exact F1 {r['ner_exact']['micro']['f']:.3f}"
                   + (f", assertion acc {r['assertion']['radcoder']['accuracy']:.3f}" if "assertion" in r else "")
                   + (f", ICD-10-CM F1 {r['icd10cm']['micro']['f']:.3f}" if "icd10cm" in r else ""))


@app.command("train")
def train_cmd(out: Path = typer.Option(Path("models/radcoder_default"), "--out", help="Where to save the pipeline."),
              config: Path = typer.Option(Path("training/configs/ner.cfg"), "--config", help="spaCy NER config."),
              work_dir: Path = typer.Option(Path("training/output"), "--work-dir", help="Intermediate outputs."),
              max_steps: int | None = typer.Option(None, "--max-steps", help="Override training.max_steps."),
              refit: bool = typer.Option(True, "--refit/--no-refit",
                                         help="Learn from train + dev with fixed NER steps (the shipped model), "
                                              "or from train with the NER checkpoint selected on dev.")):
    """Rebuild the default model from corpus/: corpus files, NER, ranker, packaged pipeline."""
    from .training import train_all
    ov = {"training.max_steps": max_steps} if max_steps else None
    path = train_all(out, work_dir=work_dir, config=config, overrides=ov, refit=refit)
    typer.echo(f"Saved pipeline to {path}")


@corpus_app.command("validate")
def corpus_validate_cmd(root: Path | None = typer.Option(None, "--root", help="Corpus folder (default corpus/).")):
    """Check every annotated report (offsets, labels, codes, modifiers, guideline rules)."""
    from .corpus import load_authored, load_standoff, validate_corpus
    recs = load_authored(root) + load_standoff("cmc2007", root) + load_standoff("openi", root)
    probs = validate_corpus(recs)
    for p in probs:
        typer.echo(p)
    typer.echo(f"{len(recs)} reports, {len(probs)} problems")
    raise typer.Exit(1 if probs else 0)


@corpus_app.command("stats")
def corpus_stats_cmd(root: Path | None = typer.Option(None, "--root"),
                     out: Path | None = typer.Option(None, "--out", help="Write the statistics as JSON.")):
    """Label counts, assertion distribution, modalities, hard-case tags, codes, documents per split."""
    from .corpus import corpus_stats, load_authored, load_standoff
    recs = load_authored(root) + load_standoff("cmc2007", root) + load_standoff("openi", root)
    st = corpus_stats(recs)
    text = json.dumps(st, indent=1, sort_keys=True)
    if out:
        out.write_text(text)
    typer.echo(text)


@benchmark_app.command("cmc2007")
def benchmark_cmc_cmd(train: Path = typer.Option(..., "--train", help="CMC 2007 XML to train on."),
                      test: Path = typer.Option(..., "--test", help="CMC 2007 XML to predict."),
                      out: Path = typer.Option(..., "--out", help="Output folder."),
                      model: Path | None = typer.Option(None, "--model"),
                      icd9_map: Path | None = typer.Option(None, "--icd9-map", help="icd9_to_icd10cm.tsv")):
    """Train the ICD-10-CM ranking on TRAIN, predict TEST; write predictions.jsonl and metrics.json."""
    from .benchmarks.cmc2007 import run_benchmark
    try:
        m = run_benchmark(train, test, out, model=model, map_path=icd9_map)
    except RadcoderError as e:
        _fail(e)
    if "icd10cm" in m:
        typer.echo(f"micro-F1 {m['icd10cm']['micro_f1']:.4f}  macro-F1 {m['icd10cm']['macro_f1']:.4f}")
    typer.echo(f"Wrote {out}/predictions.jsonl and {out}/metrics.json")


@benchmark_app.command("cmc2007-cv")
def benchmark_cmc_cv_cmd(data: Path = typer.Option(..., "--data", help="CMC 2007 developer XML."),
                         out: Path = typer.Option(Path("evaluation/radcoder_default/cmc2007_cv"), "--out"),
                         folds: int = typer.Option(5, "--folds"), model: Path | None = typer.Option(None, "--model")):
    """k-fold cross-validation of the CMC coder and its baselines on the developer split."""
    from .benchmarks.cmc2007 import cross_validate
    r = cross_validate(data, out, folds=folds, model=model)
    def ci(v, key):
        c = v.get(f"{key}_ci95")
        return f" [{c[1]:.4f}, {c[2]:.4f}]" if c else ""
    for name, v in r["results"].items():
        typer.echo(f"{name}: micro-F1 {v['micro_f1']:.4f}{ci(v, 'micro_f1')} "
                   f"macro-F1 {v['macro_f1']:.4f}{ci(v, 'macro_f1')}")


@app.command("score")
def score_cmd(pred: Path = typer.Option(..., "--pred", help="Predictions JSONL (output records)."),
              gold: Path = typer.Option(..., "--gold", help="Gold JSONL in the corpus format."),
              out: Path | None = typer.Option(None, "--out", help="Write metrics.json, per_label.csv, errors.jsonl.")):
    """Score an existing predictions file against gold, without running a model."""
    from .evaluation.harness import score_predictions
    r = score_predictions(pred, gold, out)
    typer.echo(f"{r['n_scored']} reports scored: NER exact F1 {r['ner_exact']['micro']['f']:.3f}"
               + (f", ICD-10-CM F1 {r['icd10cm']['micro']['f']:.3f}" if "icd10cm" in r else ""))


@app.command("compare")
def compare_cmd(model_a: Path = typer.Argument(..., help="Model A folder."),
                model_b: Path = typer.Argument(..., help="Model B folder."),
                dataset: list[str] = typer.Option(["authored", "cmc2007", "openi"], "--dataset"),
                out: Path | None = typer.Option(None, "--out", help="Write metrics.json here."),
                n_boot: int = typer.Option(1000, help="Bootstrap resamples.")):
    """Compare two models on the same test splits with paired bootstrap tests (delta = A - B)."""
    from .evaluation.harness import compare
    r = compare(str(model_a), str(model_b), dataset, out, n_boot=n_boot)
    for name in dataset:
        for metric, v in (r.get(name) or {}).items():
            if isinstance(v, dict) and "delta" in v:
                typer.echo(f"{name} {metric}: A {v.get('a', float('nan')):.3f} B {v.get('b', float('nan')):.3f} "
                           f"delta {v['delta']:+.3f} [{v['lo']:+.3f}, {v['hi']:+.3f}] p={v['p_value']:.3f}")


@app.command("evaluate-openi")
def evaluate_openi_cmd(csv: Path = typer.Option(..., "--csv", help="Open-i reports CSV (openi_dev.csv layout)."),
                       mapping: Path = typer.Option(Path("evaluation/mappings/openi_mesh_to_icd10cm.tsv"), "--mapping",
                                                    help="MeSH heading -> ICD-10-CM TSV."),
                       model: Path | None = typer.Option(None, "--model"),
                       out: Path | None = typer.Option(None, "--out", help="Write metrics.json and per_code.csv here."),
                       limit: int | None = typer.Option(None, "--limit", help="Score only the first N reports.")):
    """Score finding extraction against Open-i's MeSH positive-finding labels through a mapping file."""
    from .evaluation.harness import evaluate_openi_mesh
    r = evaluate_openi_mesh(str(model) if model else None, csv, mapping, out, limit=limit)
    typer.echo(f"{r['n_reports']} reports: micro-F1 {r['micro']['f']:.3f} (P {r['micro']['p']:.3f}, R {r['micro']['r']:.3f})")


@app.command("results")
def results_cmd(model: Path | None = typer.Option(None, "--model", help="Model folder (default: shipped model)."),
                render_only: bool = typer.Option(False, "--render", help="Only re-render RESULTS.md."),
                n_boot: int = typer.Option(1000, help="Bootstrap resamples.")):
    """Run every evaluation of the model and write evaluation/RESULTS.md."""
    from .evaluation.results import RESULTS, render, run_all
    if not render_only:
        run_all(str(model) if model else None, n_boot=n_boot)
    render()
    typer.echo(f"Wrote {RESULTS}")


def main():  # console-script entry point
    app()


if __name__ == "__main__":
    main()
