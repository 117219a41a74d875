"""Sectionizer: finds report section headers (rules in resources/rules/section_headers.jsonl) and
writes one span per section to ``doc.spans["sections"]`` (label = section name).

A header is a rule literal at the start of a line (case-insensitive) followed by a colon, or an
ALL-CAPS rule literal alone on its line. Text before the first header is ``exam`` when its first
line names a study (a modality word), else ``other``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from pathlib import Path

from spacy.language import Language
from spacy.tokens import Doc
from spacy.util import ensure_path

from ..datafiles import iter_jsonl
from ..errors import Warnings, warn_once
from ..extensions import SECTIONS_KEY, register_extensions
from ..rules import SectionRule, load_rules, parse_rules, rules_to_jsonl

EXAM_WORDS = re.compile(
    r"\b(ct|cta|mri?|mra|x-?ray|xr|radiograph\w*|ultrasound|us|sonogra\w*|duplex|doppler|mammo\w*|tomosynthesis|"
    r"dexa|dxa|pet|spect|nuclear|scan|fluoro\w*|esophagram|vcug|biopsy|views?|chest|abdomen|pelvis)\b", re.IGNORECASE)


class Sectionizer:
    def __init__(self, nlp: Language, name: str = "radcoder_sectionizer", rules: Iterable[SectionRule] = ()):
        self.name = name
        self.rules: tuple[SectionRule, ...] = tuple(rules)
        self._compile()

    def _compile(self) -> None:
        lits = sorted({r.literal for r in self.rules}, key=len, reverse=True)
        self._map = {r.literal.lower(): r.section for r in self.rules}
        if not lits:
            self._re = None
            return
        alt = "|".join(re.escape(l).replace(r"\ ", r"[ \t]+") for l in lits)
        # "HEADER:" anywhere at line start, or "HEADER" alone on a line in capitals
        self._re = re.compile(
            rf"(?im)^[ \t]*(?:\d+\.[ \t]*)?(?P<h>{alt})[ \t]*(?::|-(?=[ \t])|(?=[ \t]*$))", )

    def initialize(self, get_examples: Callable | None = None, *, nlp: Language | None = None,
                   rules: Iterable[dict] | None = None) -> None:
        self.rules = load_rules("section") if rules is None else parse_rules("section", enumerate(rules, 1))
        self._compile()

    def find_headers(self, text: str) -> list[tuple[str, int, int]]:
        """(section, header_start, body_start) for every header found."""
        out = []
        if self._re is None:
            return out
        for m in self._re.finditer(text):
            h = m.group("h")
            line_end = text.find("\n", m.end())
            line_end = len(text) if line_end < 0 else line_end
            colon = text[m.end() - 1:m.end()] in (":", "-")
            if not colon:
                # bare header line: only when it is capitalized and alone on its line
                if not h.isupper() or text[m.end():line_end].strip():
                    continue
            key = re.sub(r"\s+", " ", h.lower())
            out.append((self._map[key], m.start("h"), m.end()))
        return out

    def __call__(self, doc: Doc) -> Doc:
        if not self.rules:
            warn_once(Warnings.W001.format(name=self.name))
        text = doc.text
        headers = self.find_headers(text)
        bounds = []
        first = headers[0][1] if headers else len(text)
        if text[:first].strip():
            first_line = text[:first].strip().split("\n")[0]
            bounds.append(("exam" if EXAM_WORDS.search(first_line) else "other", 0, first))
        for k, (sec, hstart, bstart) in enumerate(headers):
            end = headers[k + 1][1] if k + 1 < len(headers) else len(text)
            bounds.append((sec, hstart, end))
        spans = []
        for sec, s, e in bounds:
            span = doc.char_span(s, e, label=sec, alignment_mode="expand")
            if span is not None and len(span):
                spans.append(span)
        doc.spans[SECTIONS_KEY] = spans
        return doc

    def to_disk(self, path, *, exclude=()) -> None:
        path = ensure_path(path)
        path.mkdir(parents=True, exist_ok=True)
        (path / "section_headers.jsonl").write_text(rules_to_jsonl(self.rules), encoding="utf-8")

    def from_disk(self, path, *, exclude=()) -> Sectionizer:
        p = Path(path) / "section_headers.jsonl"
        self.rules = parse_rules("section", iter_jsonl(p), str(p))
        self._compile()
        return self


@Language.factory("radcoder_sectionizer", assigns=["doc.spans"])
def make_sectionizer(nlp: Language, name: str):
    register_extensions()
    return Sectionizer(nlp, name)
