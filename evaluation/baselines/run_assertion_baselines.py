#!/usr/bin/env python
"""Assertion baselines (negspacy NegEx, medspaCy ConText) -- runs INSIDE .venv-baselines.

This script must not import radcoder: it runs in the isolated baseline environment
(spacy 3.7.5 + medspacy 1.3.1 + negspacy 1.0.4) created by ``setup.sh``. The project
talks to it through ``radcoder.evaluation.baselines`` over JSONL on stdin/stdout.

Assertion mode (default)
    input  (stdin or --input):  {"id": str, "text": str, "spans": [[start, end], ...]}
    output (stdout or --output): {"id": str, "negspacy": [...], "medspacy": [...],
                                  "medspacy_attrs": [[true ConText attrs] per span],
                                  "fallback": [span indices that got the "present" fallback]}
    One label per input span, in input order. A one-line JSON summary goes to stderr.

    Both baselines see the same Doc: ``spacy.blank("en")`` tokenizer + spaCy's rule-based
    ``sentencizer`` (NOT PyRuSH), with the given character spans as ``doc.ents`` (label
    FINDING, ``alignment_mode="expand"``). A span that overlaps an earlier span after
    expansion (or that cannot be aligned to any token, e.g. out of range) is left out of ``doc.ents`` and
    gets the label "present" from both baselines; its index is listed in "fallback".

Speed mode (--speed --texts FILE.jsonl --targets TARGETS.json)
    medspacy.load() default pipeline with PyRuSH replaced by spaCy's sentencizer, plus
    medspacy_sectionizer (default rules), target matcher loaded with the given terms and
    ConText (default rules). Prints {"reports", "seconds", "reports_per_second",
    "peak_rss_mb", ...} as JSON on stdout.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from collections.abc import Iterable, Iterator
from contextlib import ExitStack
from typing import IO

import spacy
from spacy.language import Language
from spacy.tokens import Doc, Span

FINDING = "FINDING"
PRESENT = "present"

# medspaCy ConText span attributes (DEFAULT_ATTRIBUTES) -> our label, in precedence
# order: the first attribute that is True wins.
MEDSPACY_PRECEDENCE = (
    ("is_negated", "negated"),
    ("is_uncertain", "uncertain"),
    ("is_historical", "historical"),
    ("is_hypothetical", "hypothetical"),
    ("is_family", "family"),
)


def _versions() -> dict[str, str]:
    from importlib.metadata import version

    return {name: version(name) for name in ("spacy", "negspacy", "medspacy")}


# --------------------------------------------------------------------------- assertion


def build_assertion_pipeline() -> Language:
    """blank('en') + sentencizer + negex (default en_clinical termset) + ConText (default rules)."""
    import medspacy  # noqa: F401  (registers medspacy_context + extensions)
    import negspacy.negation  # noqa: F401  (registers the "negex" factory)

    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    nlp.add_pipe("negex")  # default config: neg_termset = en_clinical, all ent types
    nlp.add_pipe("medspacy_context")  # default rules (resources/en/context_rules.json)
    return nlp


def _set_ents(doc: Doc, spans: list) -> tuple[dict[int, tuple[int, int]], list[int]]:
    """Set ``doc.ents`` from character spans. Returns (span index -> token bounds, fallback indices)."""
    taken = [False] * len(doc)
    bounds: dict[int, tuple[int, int]] = {}
    fallback: list[int] = []
    ents: list[Span] = []
    for i, pair in enumerate(spans):
        start, end = int(pair[0]), int(pair[1])
        span = doc.char_span(start, end, label=FINDING, alignment_mode="expand")
        if span is None or len(span) == 0 or any(taken[span.start : span.end]):
            fallback.append(i)
            continue
        for t in range(span.start, span.end):
            taken[t] = True
        bounds[i] = (span.start, span.end)
        ents.append(span)
    doc.ents = sorted(ents, key=lambda s: s.start)
    return bounds, fallback


def _medspacy_label(ent: Span) -> str:
    for attr, label in MEDSPACY_PRECEDENCE:
        if getattr(ent._, attr):
            return label
    return PRESENT


def label_record(nlp: Language, record: dict) -> dict:
    text = record["text"]
    spans = record.get("spans") or []
    doc = nlp.make_doc(text)
    doc = nlp.get_pipe("sentencizer")(doc)
    bounds, fallback = _set_ents(doc, spans)
    for name in ("negex", "medspacy_context"):
        doc = nlp.get_pipe(name)(doc)
    by_bounds = {(e.start, e.end): e for e in doc.ents}
    neg_labels: list[str] = []
    med_labels: list[str] = []
    med_attrs: list[list[str]] = []
    for i in range(len(spans)):
        ent = by_bounds.get(bounds[i]) if i in bounds else None
        if ent is None:
            neg_labels.append(PRESENT)
            med_labels.append(PRESENT)
            med_attrs.append([])
            continue
        neg_labels.append("negated" if ent._.negex else PRESENT)
        med_labels.append(_medspacy_label(ent))
        med_attrs.append([attr for attr, _ in MEDSPACY_PRECEDENCE if getattr(ent._, attr)])
    return {
        "id": record.get("id"),
        "negspacy": neg_labels,
        "medspacy": med_labels,
        # every ConText attribute that was True (several can be, e.g. "family history of"
        # sets is_family AND is_historical); lets callers re-map without re-running.
        "medspacy_attrs": med_attrs,
        "fallback": fallback,
    }


def _read_jsonl(stream: IO[str]) -> Iterator[dict]:
    for lineno, line in enumerate(stream, 1):
        line = line.strip()
        if not line:
            continue
        try:
            yield json.loads(line)
        except json.JSONDecodeError as exc:
            raise SystemExit(f"input line {lineno}: invalid JSON: {exc}") from exc


def run_assertion(records: Iterable[dict], out: IO[str]) -> dict:
    nlp = build_assertion_pipeline()
    n_records = n_spans = n_fallback = 0
    for record in records:
        result = label_record(nlp, record)
        out.write(json.dumps(result) + "\n")
        n_records += 1
        n_spans += len(result["negspacy"])
        n_fallback += len(result["fallback"])
    out.flush()
    return {
        "records": n_records,
        "spans": n_spans,
        "fallback_spans": n_fallback,
        "sentence_splitter": "spacy sentencizer",
        "versions": _versions(),
    }


# --------------------------------------------------------------------------- speed


def build_speed_pipeline(targets: list[str]) -> Language:
    """medspacy.load() defaults, PyRuSH swapped for spaCy's sentencizer, plus the sectionizer."""
    import medspacy
    from medspacy.target_matcher import TargetRule

    nlp = medspacy.load(
        medspacy_enable=[
            "medspacy_tokenizer",  # medspacy.load() default tokenizer, kept
            "medspacy_target_matcher",
            "medspacy_context",  # default rules
            "medspacy_sectionizer",  # default rules
        ]
    )
    nlp.add_pipe("sentencizer", first=True)  # replaces the default medspacy_pyrush
    matcher = nlp.get_pipe("medspacy_target_matcher")
    matcher.add([TargetRule(term, FINDING) for term in targets])
    return nlp


def run_speed(texts_path: str, targets_path: str, batch_size: int = 64) -> dict:
    with open(targets_path, encoding="utf-8") as fh:
        targets = json.load(fh)
    if not isinstance(targets, list) or not all(isinstance(t, str) for t in targets):
        raise SystemExit("--targets must be a JSON list of strings")
    with open(texts_path, encoding="utf-8") as fh:
        texts = [rec["text"] for rec in _read_jsonl(fh)]

    t0 = time.perf_counter()
    nlp = build_speed_pipeline(targets)
    load_seconds = time.perf_counter() - t0

    n_ents = 0
    t0 = time.perf_counter()
    for doc in nlp.pipe(texts, batch_size=batch_size):
        n_ents += len(doc.ents)
    seconds = time.perf_counter() - t0

    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    return {
        "reports": len(texts),
        "seconds": round(seconds, 4),
        "reports_per_second": round(len(texts) / seconds, 2) if seconds > 0 else None,
        "peak_rss_mb": round(peak_kb / 1024, 1),
        "load_seconds": round(load_seconds, 4),
        "entities": n_ents,
        "targets": len(targets),
        "pipe_names": nlp.pipe_names,
        "versions": _versions(),
    }


# --------------------------------------------------------------------------- cli


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--input", help="assertion input JSONL (default: stdin)")
    parser.add_argument("--output", help="assertion output JSONL (default: stdout)")
    parser.add_argument("--speed", action="store_true", help="run the medspaCy speed benchmark")
    parser.add_argument("--texts", help="speed mode: JSONL of {id, text}")
    parser.add_argument("--targets", help="speed mode: JSON list of finding terms")
    parser.add_argument("--batch-size", type=int, default=64)
    args = parser.parse_args(argv)

    if args.speed:
        if not args.texts or not args.targets:
            parser.error("--speed requires --texts and --targets")
        print(json.dumps(run_speed(args.texts, args.targets, args.batch_size)))
        return 0

    with ExitStack() as stack:
        fin = stack.enter_context(open(args.input, encoding="utf-8")) if args.input else sys.stdin
        fout = stack.enter_context(open(args.output, "w", encoding="utf-8")) if args.output else sys.stdout
        summary = run_assertion(_read_jsonl(fin), fout)
    print(json.dumps(summary), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
