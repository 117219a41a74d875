"""Sectionizer: finds report section headers (rules in resources/rules/section_headers.jsonl) and
writes one span per section to ``doc.spans["sections"]`` (label = section name).

A header is a rule literal at the start of a line (case-insensitive) followed by a colon, an
ALL-CAPS rule literal alone on its line, or, in reports written as one paragraph, a capitalized rule
literal with a colon right after a sentence end ("... 2 views. INDICATION: cough. FINDINGS: ..."). Text before the first header is ``exam`` when its first
line names a study (a modality word, or a short title in capitals), else ``other``.

Two layout rules of the guideline (§7.7, §7.8):
- a ``PROCEDURE:`` header whose body is a narrative (more than one sentence, or a long one) is
  ``technique``; one that only names the procedure stays ``exam``;
- in terse reports a one-line header (``Hx: ...``, ``Indication: ...``, ``Comparison: ...``,
  ``Contrast: ...``) ends at its line end: each following unheaded line is ``findings``, unless it only
  describes the acquisition (protocol, views, contrast given, "Limited study"), which is ``technique``.
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
    r"dexa|dxa|pet|spect|nuclear|scan|fluoro\w*|esophagram|vcug|biopsy|views?|chest|abdomen|pelvis|nm|"
    r"\w+grams?|\w+graphy|swallow|enema|upper gi|series|\d+ ?vw?s?|ldct|hrct|pet/ct)\b", re.IGNORECASE)
# sections whose header line, when it has text after the colon, is a one-line section (§7.8)
ONE_LINE_SECTIONS = {"indication", "comparison", "technique", "exam"}
# narrative bodies of "procedure" headers (§7.7)
NARRATIVE_HEADERS = {"procedure", "procedures"}
NARRATIVE_MIN_WORDS = 16
# a sentence that only describes how the study was acquired
ACQUISITION = re.compile(
    r"\b(protocol|contrast|non-?contrast|views?|images?|sequences?|obtained|acquired|reformat\w*|"
    r"reconstruct\w*|axial|coronal|sagittal|mci|mbq|ml|iv|technique|scout|fluoroscopy time|dlp|ctdi\w*|mgy|"
    r"radiopharmaceutical|injected|administered|weight-?bearing|ap|pa|lateral|oblique|frontal|portable|"
    r"positioning|motion|tolerate\w*|exam|examination|study|limited)\b", re.IGNORECASE)
# an unheaded line under the title that states the indication (§7.8: "No history provided.", "63-year-old woman
# with ...", "7yo, f/u ...")
INDICATION_LINE = re.compile(
    r"(?i)^\s*(?:no\s+(?:clinical\s+)?(?:history|indication|information)\b|"
    r"\d+[- ]?(?:years?|yrs?|months?|mos?|weeks?|wks?|days?)[- ]old\b|\d+\s*(?:yo|y/o|y\.o\.)\b|"
    r"\d+\s*(?:yo|y/o)?\s*[MF]\b|(?:clinical\s+)?(?:history|indication|hx)\b|"
    # prose: 'The patient is a 45-year-old man with ...', 'This is a 3-day-old infant ...', 'Pt with ...'
    r"(?:the\s+)?(?:patient|pt)\s+(?:is|was|with|has|presents|presenting|complains)\b|"
    r"(?:this\s+is\s+)?an?\s+\d+[- ]?(?:years?|yrs?|months?|mos?|weeks?|wks?|days?)[- ]old\b|"
    r"reason\s+for\s+(?:the\s+)?(?:exam|study|examination)\b)")
FINDING_HINT = re.compile(
    r"\b(no|normal|unremarkable|intact|clear|negative|fracture|mass|effusion|lesion|nodule|"
    r"seen|noted|present|demonstrat\w*|shows?|identified|without)\b", re.IGNORECASE)


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
        # inline layout: "... 3 views. INDICATION: ... FINDINGS: ..." (after a sentence end, with a colon)
        # ("EXAM: XR ELBOW RT 3V  HISTORY: ...": after a sentence end, or after two or more spaces, with a colon)
        self._inline_re = re.compile(rf"(?i)(?:(?<=[.;!?])[ \t]+|(?<=\S)[ \t]{{2,}})(?P<h>{alt})[ \t]*:(?=[ \t]|$)")
        # a capitalized label after one space on the title line: "CT ABDOMEN WITH CONTRAST INDICATION: pain"
        self._caps_inline_re = re.compile(rf"(?i)(?<=[A-Za-z0-9)\]])[ \t](?P<h>{alt})[ \t]*:(?=[ \t]|$)")

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
        seen = {s for _, s, _ in out}
        for m in self._inline_re.finditer(text):
            h = m.group("h")
            # inline headers are written in capitals or title case ("FINDINGS:", "Findings:", "Reason For Exam:")
            if m.start("h") in seen or not (h.isupper() or h.split()[0].istitle()):
                continue
            key = re.sub(r"\s+", " ", h.lower())
            out.append((self._map[key], m.start("h"), m.end()))
        for m in self._caps_inline_re.finditer(text):
            h, s = m.group("h"), m.start("h")
            # capitals only, and not the tail of a longer header already found ("CLINICAL HISTORY:")
            if not h.isupper() or any(a <= s < b for _, a, b in out):
                continue
            key = re.sub(r"\s+", " ", h.lower())
            out.append((self._map[key], s, m.end()))
        return sorted(out, key=lambda x: x[1])

    @staticmethod
    def _is_title(line: str) -> bool:
        if EXAM_WORDS.search(line):
            return True
        letters = [c for c in line if c.isalpha()]
        return bool(letters) and len(line.split()) <= 10 and sum(c.isupper() for c in letters) >= 0.8 * len(letters)

    @staticmethod
    def _is_acquisition(line: str) -> bool:
        """The line only states how the study was acquired (§7.8): every clause names acquisition terms."""
        parts = [p.strip() for p in re.split(r"[.;:](?=\s|$)", line) if p.strip()]
        for p in parts:
            if not ACQUISITION.search(p):
                return False
            body = ACQUISITION.sub(" ", p)
            if FINDING_HINT.search(body) and not re.match(r"(?i)\s*no\b[^,]*\b(contrast|iv)\b", p):
                return False
        return bool(parts)

    @staticmethod
    def _caps_line(line: str) -> bool:
        letters = [c for c in line if c.isalpha()]
        return bool(letters) and sum(c.isupper() for c in letters) >= 0.8 * len(letters)

    def _split_lead(self, text: str, end: int) -> list[tuple[str, int, int]]:
        """Unheaded lines under a title line (§7.8): further title lines (in capitals) stay ``exam``; the first
        line that states the indication is ``indication``; a line that only describes the acquisition is
        ``technique``; any other line is ``findings``."""
        out: list[tuple[str, int, int]] = []
        pos = 0
        for k, line in enumerate(text[:end].split("\n")):
            lstart, pos = pos, pos + len(line) + 1
            if not line.strip():
                continue
            if not out:
                label = "exam"
            elif out[-1][0] == "exam" and self._caps_line(line):
                label = "exam"
            elif out[-1][0] == "exam" and INDICATION_LINE.match(line):
                label = "indication"
            else:
                label = "technique" if self._is_acquisition(line) else "findings"
            if out and out[-1][0] == label:
                out[-1] = (label, out[-1][1], lstart + len(line))
            else:
                out.append((label, lstart if out else 0, lstart + len(line)))
        return [(lab, s, out[k + 1][1] if k + 1 < len(out) else end) for k, (lab, s, _) in enumerate(out)]

    def _split_body(self, text: str, sec: str, hstart: int, bstart: int, end: int) -> list[tuple[str, int, int]]:
        """Refine one header's extent: narrative PROCEDURE bodies, one-line headers of terse reports."""
        line_end = text.find("\n", bstart)
        line_end = end if line_end < 0 or line_end > end else line_end
        header = re.sub(r"\s+", " ", text[hstart:bstart].rstrip(" \t:-").lower())
        if sec == "exam" and header in NARRATIVE_HEADERS:
            body = text[bstart:end].strip()
            sentences = [x for x in re.split(r"(?<=[.!?])\s+(?=[A-Z0-9])", body) if x.strip()]
            if len(sentences) > 1 or len(body.split()) >= NARRATIVE_MIN_WORDS:
                sec = "technique"
        rest = text[line_end:end]
        if sec not in ONE_LINE_SECTIONS or not text[bstart:line_end].strip() or not rest.strip():
            return [(sec, hstart, end)]
        out = [(sec, hstart, line_end)]
        pos = line_end
        for line in rest.split("\n"):
            lstart, pos = pos, pos + len(line) + 1
            if not line.strip():
                continue
            if out[-1][0] == "exam" and INDICATION_LINE.match(line):
                label = "indication"  # 'EXAM: CT HEAD' then 'The patient is a 45-year-old man with ...'
            else:
                label = "technique" if self._is_acquisition(line) else "findings"
            if out[-1][0] == label and out[-1][1] >= hstart and out[-1] is not out[0]:
                out[-1] = (label, out[-1][1], lstart + len(line))
            else:
                out.append((label, lstart, lstart + len(line)))
        # sections are contiguous: each one runs to the start of the next
        return [(lab, s, out[k + 1][1] if k + 1 < len(out) else end) for k, (lab, s, _) in enumerate(out)]

    def __call__(self, doc: Doc) -> Doc:
        if not self.rules:
            warn_once(Warnings.W001.format(name=self.name))
        text = doc.text
        headers = self.find_headers(text)
        bounds = []
        first = headers[0][1] if headers else len(text)
        if text[:first].strip():
            first_line = text[:first].strip().split("\n")[0]
            if self._is_title(first_line):
                bounds.extend(self._split_lead(text, first))
            else:
                bounds.append(("other", 0, first))
        for k, (sec, hstart, bstart) in enumerate(headers):
            end = headers[k + 1][1] if k + 1 < len(headers) else len(text)
            bounds.extend(self._split_body(text, sec, hstart, bstart, end))
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
