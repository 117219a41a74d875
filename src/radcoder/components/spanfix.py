"""Span post-processing between the entity ruler and the normalizer (guideline §2, §2.1, §7.6, §7.12).

The trained NER learns the annotators' span boundaries and context; the entity ruler (lexicon phrase
patterns) does not. This component

1. drops ruler spans of the exam-description labels (ANATOMY, LATERALITY, VIEWS, CONTRAST) outside the
   exam/technique sections unless an exam anchor (MODALITY, PROCEDURE, GUIDANCE) lies within a few tokens
   in the same sentence ("CT chest" in a comparison is an exam mention, "the left breast" in the findings
   is a finding location, not an exam object);
2. drops FINDING spans that are a measurement unit written in mixed case ("mCi" is not MCI) and FINDING
   spans that name a protocol ("PE protocol", "adrenal protocol": the exam, not a problem);
3. trims FINDING spans to the guideline's minimal noun phrase: the side of a finding is never inside the
   span (§7.10: "nondisplaced right 8th rib fracture" -> "rib fracture" with the size rule), and leading
   determiners, cues, severity words and sizes/ordinals are out (§2, §2.1) unless the whole span is a
   lexicon term ("multiple sclerosis", "right lower quadrant pain"); word lists in
   resources/lexicons/span_boundaries.json;
4. replaces a trained-NER FINDING fragment (not a known term) by the lexicon FINDING match that strictly
   contains it ("wall pain" -> "chest wall pain");
5. extends VIEWS spans over a directly following "view(s)" ("CC and MLO views", §2.1), takes the
   preposition off GUIDANCE ("under CT guidance" -> "CT guidance", §2) and drops a PROCEDURE that names a
   marker device ("biopsy clip").

NER spans are marked by an empty ``ent_id_``; ruler spans carry the pattern id.
"""

from __future__ import annotations

import json
import re
from functools import cache

from spacy.language import Language
from spacy.tokens import Doc, Span
from spacy.util import filter_spans

from ..datafiles import resource_path
from ..extensions import register_extensions, section_at
from ..lexicons import finding_index, finding_pattern_ok, norm

EXAM_SECTIONS = frozenset({"exam", "technique"})
# sections where a ruler span of an exam-description label is kept without an anchor nearby (the title)
FREE_SECTIONS = frozenset({"exam"})
CONTEXT_LABELS = frozenset({"ANATOMY", "LATERALITY", "VIEWS", "CONTRAST"})
ANCHOR_LABELS = frozenset({"MODALITY", "PROCEDURE", "GUIDANCE"})
# measurement units that collide with upper-case abbreviations in the finding lexicon
UNIT_TOKENS = frozenset({"mci", "msv", "mgy", "mbq", "cgy", "gy", "ml", "cc", "mg", "kg", "mm", "cm"})
PROTOCOL_WORDS = frozenset({"protocol", "protocols"})
VIEW_WORDS = frozenset({"view", "views"})
VIEW_INFIX = frozenset({"upright", "supine", "erect", "portable", "frontal", "lateral", "oblique", "decubitus",
                        "weight-bearing", "weightbearing", "standing", "spot"})


@cache
def boundary_rules() -> dict:
    """Word lists of resources/lexicons/span_boundaries.json (sets, and the compiled size pattern)."""
    raw = json.loads(resource_path("lexicons", "span_boundaries.json").read_text(encoding="utf-8"))
    out = {k: frozenset(v) for k, v in raw.items() if isinstance(v, list)}
    out["finding_leading_drop_pattern"] = re.compile(raw["finding_leading_drop_pattern"], re.IGNORECASE)
    return out


def trim_finding(words: list[str]) -> tuple[int, int]:
    """Token range ``(i, j)`` of the minimal FINDING span inside ``words`` (texts of the span's tokens)."""
    n = len(words)
    text = " ".join(words)
    if n < 2 or (norm(text) in finding_index() and finding_pattern_ok(text)):
        return 0, n
    rules = boundary_rules()
    low = [w.lower() for w in words]
    i = 0
    for k in range(n - 1):
        nxt = low[k + 1]
        if low[k] in rules["finding_side_words"] and nxt not in rules["finding_side_compound_next"] \
                and not (k + 2 < n and low[k + 2] in rules["finding_side_compound_next"]):
            i = k + 1
    drop, size = rules["finding_leading_drop"], rules["finding_leading_drop_pattern"]
    while n - i > 1 and (low[i] in drop or size.match(low[i])):
        i += 1
    return i, n


def _sent_bounds(doc: Doc, e: Span) -> tuple[int, int]:
    if doc.has_annotation("SENT_START"):
        s = e.sent
        return s.start, s.end
    return 0, len(doc)


class SpanFix:
    def __init__(self, nlp: Language, name: str = "radcoder_spanfix", *, anchor_window: int = 3,
                 ruler_context: bool = True, fix_boundaries: bool = True):
        self.name = name
        self.nlp = nlp
        self.anchor_window = anchor_window
        self.ruler_context = ruler_context
        self.fix_boundaries = fix_boundaries
        self.free_sections = FREE_SECTIONS

    # ------------------------------------------------------------------ rules
    def _near_anchor(self, doc: Doc, e: Span, anchors: list[Span]) -> bool:
        lo, hi = _sent_bounds(doc, e)
        w = self.anchor_window
        for a in anchors:
            if a.start < lo or a.end > hi:
                continue
            if 0 <= e.start - a.end <= w or 0 <= a.start - e.end <= w:
                return True
        return False

    @staticmethod
    def _drop_finding(doc: Doc, e: Span) -> bool:
        text = e.text
        if len(e) == 1 and text.lower() in UNIT_TOKENS and not text.isupper():
            return True
        return e.end < len(doc) and doc[e.end].lower_ in PROTOCOL_WORDS

    @staticmethod
    def _drop_procedure(doc: Doc, e: Span) -> bool:
        """"biopsy clip": a marker device, not a procedure performed."""
        return e.end < len(doc) and doc[e.end].lower_ in boundary_rules()["procedure_device_next"]

    @staticmethod
    def _extend(doc: Doc, e: Span, taken: set[int]) -> Span:
        n = len(doc)
        if e.label_ == "FINDING":
            i, j = trim_finding([t.text for t in e])
            if (i, j) != (0, len(e)):
                return Span(doc, e.start + i, e.start + j, label=e.label, kb_id=e.kb_id, span_id=e.id)
            return e
        if e.label_ == "VIEWS" and e[-1].lower_ not in VIEW_WORDS:
            j = e.end
            if j < n and doc[j].lower_ in VIEW_INFIX and j + 1 < n and doc[j + 1].lower_ in VIEW_WORDS:
                j += 1
            if j < n and doc[j].lower_ in VIEW_WORDS and not any(k in taken for k in range(e.end, j + 1)):
                return Span(doc, e.start, j + 1, label=e.label, kb_id=e.kb_id, span_id=e.id)
        if e.label_ == "GUIDANCE" and len(e) > 1 and e[0].lower_ in boundary_rules()["guidance_leading_drop"]:
            return Span(doc, e.start + 1, e.end, label=e.label, kb_id=e.kb_id, span_id=e.id)  # "CT guidance"
        return e

    def _known_finding(self, text: str) -> bool:
        """A lexicon term or a span text the normalizer learned from the training gold."""
        key = norm(text)
        keys = (key, key[:-1]) if key.endswith("s") else (key,)
        memory = {}
        if "radcoder_normalizer" in self.nlp.pipe_names:
            memory = getattr(self.nlp.get_pipe("radcoder_normalizer"), "memory", {}) or {}
        return any(k in finding_index() or k in memory for k in keys)

    def _complete_fragments(self, doc: Doc, ents: list[Span]) -> list[Span]:
        """A trained-NER FINDING that is not a known term but lies strictly inside a lexicon FINDING match
        is a fragment of that term ("wall pain" in "chest wall pain", "ductal carcinoma" in "invasive ductal
        carcinoma"): take the lexicon match. Ruler spans it overlaps give way; NER spans of other labels win."""
        if "entity_ruler" not in self.nlp.pipe_names:
            return ents
        matches = []
        for match_id, start, end in self.nlp.get_pipe("entity_ruler").match(doc):
            label, _, pid = doc.vocab.strings[match_id].partition("||")
            if label == "FINDING":
                matches.append((start, end, pid))
        if not matches:
            return ents
        out = list(ents)
        for e in ents:
            if e.label_ != "FINDING" or e.ent_id_ or self._known_finding(e.text):
                continue
            sup = [m for m in matches if m[0] <= e.start and m[1] >= e.end and m[1] - m[0] > len(e)]
            if not sup:
                continue
            start, end, pid = max(sup, key=lambda m: (m[1] - m[0], -m[0]))
            clash = [o for o in out if o is not e and o.start < end and start < o.end]
            if any(not o.ent_id_ for o in clash):
                continue
            new = Span(doc, start, end, label=e.label, span_id=pid or e.id)
            out = [o for o in out if o is not e and o not in clash] + [new]
        return sorted(out, key=lambda x: x.start)

    # ------------------------------------------------------------------ call
    def __call__(self, doc: Doc) -> Doc:
        ents = list(doc.ents)
        if not ents:
            return doc
        if self.fix_boundaries:
            ents = self._complete_fragments(doc, ents)
        anchors = [e for e in ents if e.label_ in ANCHOR_LABELS]
        kept: list[Span] = []
        for e in ents:
            ruler = bool(e.ent_id_)
            if e.label_ == "FINDING" and self._drop_finding(doc, e):
                continue
            if e.label_ == "PROCEDURE" and self._drop_procedure(doc, e):
                continue
            if self.ruler_context and ruler and e.label_ in CONTEXT_LABELS \
                    and section_at(doc, e.start_char) not in self.free_sections \
                    and not self._near_anchor(doc, e, anchors):
                continue
            kept.append(e)
        if self.fix_boundaries:
            taken = {i for e in kept for i in range(e.start, e.end)}
            fixed = []
            for e in kept:
                own = set(range(e.start, e.end))
                new = self._extend(doc, e, taken - own)
                taken |= set(range(new.start, new.end))
                fixed.append(new)
            kept = fixed
        doc.ents = filter_spans(kept)
        return doc


@Language.factory("radcoder_spanfix", assigns=["doc.ents"],
                  default_config={"anchor_window": 3, "ruler_context": True, "fix_boundaries": True})
def make_spanfix(nlp: Language, name: str, anchor_window: int, ruler_context: bool, fix_boundaries: bool):
    register_extensions()
    return SpanFix(nlp, name, anchor_window=anchor_window, ruler_context=ruler_context,
                   fix_boundaries=fix_boundaries)
