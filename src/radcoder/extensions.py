"""One table of the Doc/Span/Token ``._`` attributes radcoder sets; registered once, idempotently."""

from __future__ import annotations

from spacy.tokens import Doc, Span, Token

# attribute names other modules and tests import
CODING = "coding"
FRAMES = "frames"
SECTIONS_KEY = "sections"   # doc.spans[SECTIONS_KEY]: one span per section, label = section name
GAPS = "gaps"


def _span_section(span: Span):
    return section_at(span.doc, span.start_char)


def section_at(doc: Doc, char: int):
    """Section name covering character ``char`` (None before any section is known)."""
    best = None
    for s in doc.spans.get(SECTIONS_KEY, ()):
        if s.start_char <= char < max(s.end_char, s.start_char + 1):
            best = s.label_
    if best is None:
        # char inside a header token or at a boundary: take the last section starting before it
        for s in doc.spans.get(SECTIONS_KEY, ()):
            if s.start_char <= char:
                best = s.label_
    return best


DOC_EXTENSIONS = {
    CODING: {"default": None},      # schema.ReportResult without id (set by radcoder_coder)
    FRAMES: {"default": None},      # tuple of exam-frame dicts (set by radcoder_frames)
    GAPS: {"default": None},        # tuple of schema.Flag (set by radcoder_coder)
    "report_id": {"default": None},
    "setting": {"default": None},   # global | professional | technical (batch input)
    "payer": {"default": None},
}
SPAN_EXTENSIONS = {
    "assertion": {"default": None},             # set by radcoder_assertion
    "assertion_cue": {"default": None},         # (start_char, end_char) of the deciding cue
    "icd10cm": {"default": None},               # set by radcoder_normalizer
    "concept": {"default": None},               # lexicon concept id
    "section": {"getter": _span_section},       # derived, never stored
    "is_negated": {"getter": lambda span: span._.assertion == "negated"},
    "is_uncertain": {"getter": lambda span: span._.assertion == "uncertain"},
    "is_historical": {"getter": lambda span: span._.assertion == "historical"},
    "is_hypothetical": {"getter": lambda span: span._.assertion == "hypothetical"},
    "is_family": {"getter": lambda span: span._.assertion == "family"},
}
TOKEN_EXTENSIONS: dict = {}


def register_extensions() -> None:
    for cls, table in ((Doc, DOC_EXTENSIONS), (Span, SPAN_EXTENSIONS), (Token, TOKEN_EXTENSIONS)):
        for name, kwargs in table.items():
            if not cls.has_extension(name):
                cls.set_extension(name, **kwargs)
