"""Command line: a thin layer over the library. Each command parses arguments, calls one library
function and prints. Run ``radcoder --help``."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

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
             model: Optional[Path] = typer.Option(None, "--model", help="Model folder (default: shipped model)."),
             setting: str = typer.Option("global", help="global | professional | technical"),
             report_id: Optional[str] = typer.Option(None, "--id", help="Report id for the record.")):
    """Code one report."""
    from .batch import check_text, InputError
    from .reporting import format_record
    import radcoder
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
              model: Optional[Path] = typer.Option(None, "--model", help="Model folder (default: shipped model)."),
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


def main():  # console-script entry point
    app()


if __name__ == "__main__":
    main()
