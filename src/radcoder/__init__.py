"""radcoder: radiology report coding as a spaCy pipeline.

>>> import radcoder
>>> nlp = radcoder.load()                      # the shipped default model
>>> doc = nlp("XR CHEST PA AND LATERAL\\nINDICATION: cough\\nIMPRESSION: No acute disease.")
>>> radcoder.to_record(doc, "A17")["cpt"][0]["code"]
'71046'

Importing the package is cheap: spaCy is imported, and the ``._`` extensions registered, only when a
pipeline is loaded or a component is created (``load``, ``spacy.load`` through the entry points,
``assert_spans``), so code-set users (``radcoder.codesets``) do not pay for it.
"""

from __future__ import annotations

from typing import Sequence

from .about import __version__


def load(path=None):
    """Load the shipped default pipeline, or the one saved at ``path`` (a ``nlp.to_disk`` folder)."""
    from .extensions import register_extensions
    from .pipeline import load as _load
    register_extensions()
    return _load(path)


def to_record(doc, id: str) -> dict:
    """The output record (``shared/SPEC.md``) for a processed Doc, as a plain dict."""
    from dataclasses import replace
    result = doc._.coding
    if result is None:
        raise ValueError("Doc has no coding: process it with a radcoder pipeline (radcoder.load()) first.")
    return replace(result, id=str(id)).to_dict()


def assert_spans(nlp, text: str, spans: Sequence[tuple[int, int]]) -> list[str]:
    """One assertion label per character span ``(start, end)`` of ``text``, using the pipeline's own
    sentence splitting, sections and assertion component (no NER involved)."""
    from .extensions import register_extensions
    register_extensions()
    doc = nlp.make_doc(text)
    for name in ("radcoder_sentences", "radcoder_sectionizer"):
        if name in nlp.pipe_names:
            doc = nlp.get_pipe(name)(doc)
    targets = []
    for s, e in spans:
        span = doc.char_span(s, e, alignment_mode="expand")
        if span is None or len(span) == 0:
            # a span that covers no token (whitespace only): the nearest token
            i = min(range(len(doc)), key=lambda k: abs(doc[k].idx - s)) if len(doc) else 0
            span = doc[i:i + 1]
        targets.append(span)
    return nlp.get_pipe("radcoder_assertion").assert_spans(doc, targets)


__all__ = ["__version__", "load", "to_record", "assert_spans"]
