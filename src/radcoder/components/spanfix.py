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
   lexicon term ("multiple sclerosis", "right lower quadrant pain"), and take in an acuity or displacement
   word just before the span that defines its head ("Acute appendicitis", "nondisplaced fracture", §2.1,
   §7.9); word lists in resources/lexicons/span_boundaries.json;
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
from ..lexicons import finding_index, finding_pattern_ok, norm, region_index, term_maps

EXAM_SECTIONS = frozenset({"exam", "technique"})
# sections where a ruler span of an exam-description label is kept without an anchor nearby (the title)
FREE_SECTIONS = frozenset({"exam"})
CONTEXT_LABELS = frozenset({"ANATOMY", "LATERALITY", "VIEWS", "CONTRAST"})
ANCHOR_LABELS = frozenset({"MODALITY", "PROCEDURE", "GUIDANCE"})
EXAM_LABELS = ("MODALITY", "ANATOMY", "LATERALITY", "CONTRAST", "VIEWS", "GUIDANCE", "PROCEDURE")
# measurement units that collide with upper-case abbreviations in the finding lexicon
UNIT_TOKENS = frozenset({"mci", "msv", "mgy", "mbq", "cgy", "gy", "ml", "cc", "mg", "kg", "mm", "cm"})
PROTOCOL_WORDS = frozenset({"protocol", "protocols"})
VIEW_WORDS = frozenset({"view", "views"})
MODALITY_WORDS = frozenset({"mr", "mri", "ct", "cta", "mra"})
CONTRACTION_TAILS = frozenset({"n't", "n’t"})
DETERMINERS = frozenset({"the", "a", "an", "its", "this", "that", "these", "those"})
KEEP_EDGE = frozenset({"/"})
# NER spans a lexicon FINDING may absorb when they lie inside it
ABSORBABLE = frozenset({"FINDING", "ANATOMY", "LATERALITY"})
NUMBER_RE = re.compile(r"^[<>~]?\d+([.,]\d+)?%?$")
VIEW_INFIX = frozenset({"upright", "supine", "erect", "portable", "frontal", "lateral", "oblique", "decubitus",
                        "weight-bearing", "weightbearing", "standing", "spot"})


@cache
def boundary_rules() -> dict:
    """Word lists of resources/lexicons/span_boundaries.json (sets, and the compiled size pattern)."""
    raw = json.loads(resource_path("lexicons", "span_boundaries.json").read_text(encoding="utf-8"))
    out = {k: frozenset(v) for k, v in raw.items() if isinstance(v, list)}
    out.update({k: {w: frozenset(h) for w, h in v.items()} for k, v in raw.items() if isinstance(v, dict)})
    out["finding_leading_drop_pattern"] = re.compile(raw["finding_leading_drop_pattern"], re.IGNORECASE)
    return out


def trim_finding(words: list[str], prev: str = "", next_word: str = "") -> tuple[int, int]:
    """Token range ``(i, j)`` of the minimal FINDING span inside ``words`` (texts of the span's tokens);
    ``prev``/``next_word`` are the words just before and after the span."""
    n = len(words)
    text = " ".join(words)
    if n < 2 or (norm(text) in finding_index() and finding_pattern_ok(text)):
        return 0, n
    rules = boundary_rules()
    low = [w.lower() for w in words]
    # "ring narrowing the lumen": a participle followed by a determiner is the verb, not the head
    if low[-1].endswith("ing") and next_word.lower() in DETERMINERS:
        n -= 1
        words, low = words[:n], low[:n]
        if n < 2 or norm(" ".join(words)) in finding_index():
            return 0, n
    i = 0
    for k in range(n - 1):
        nxt = low[k + 1]
        if low[k] in rules["finding_side_words"] and nxt not in rules["finding_side_compound_next"] \
                and not (k + 2 < n and low[k + 2] in rules["finding_side_compound_next"]):
            i = k + 1
    drop, size = rules["finding_leading_drop"], rules["finding_leading_drop_pattern"]
    sizes, after_size = rules["finding_size_words"], rules["finding_leading_drop_after_size"]
    while n - i > 1 and (low[i] in drop or size.match(low[i])
                         or (low[i] in after_size and (low[i - 1] if i else prev.lower()) in sizes)):
        i += 1
    return i, n


def extend_acuity(words: list[str], start: int, end: int, taken: frozenset[int] | set[int] = frozenset()) -> int:
    """New start of the FINDING span ``words[start:end]`` (``words``: the texts of the doc's tokens) taken over
    the acuity/displacement words directly before it that define its head noun (guideline §2.1, §7.9:
    "Acute appendicitis", "nondisplaced extra-articular fracture"); a graded displacement ("minimally displaced
    fracture") is taken in whole (§7.22.6); a grading adverb before an acuity word or a token of another span
    stops it."""
    rules = boundary_rules()
    ext, block = rules["finding_acuity_extension"], rules["finding_acuity_block_prev"]
    disp, grading = rules["finding_displacement_words"], rules["finding_displacement_grading"]
    head = words[end - 1].lower()
    # fracture kinds without an acuity axis take in displacement words only (§7.22.6)
    kind_block = any(w.lower() in rules["finding_acuity_block_inside"] for w in words[start:end])
    i = start
    while i > 0 and i - 1 not in taken and head in ext.get(words[i - 1].lower(), ()):
        w = words[i - 1].lower()
        if kind_block and w not in disp:
            break
        if i > 1 and words[i - 2].lower() in block:
            if w in disp and words[i - 2].lower() in grading and i - 2 not in taken:
                i -= 2  # "minimally displaced fracture": the graded displacement is inside (§7.22.6)
            break
        i -= 1
    if 0 < i < end and words[i].lower() in disp and words[i - 1].lower() in grading and i - 1 not in taken:
        i -= 1  # a span that starts at the displacement word takes its grading adverb in too
    return i


@cache
def contrast_vocabulary() -> frozenset[str]:
    """Words of the contrast lexicon that name contrast (function words and routes left out)."""
    words = set()
    for surface in term_maps().get("CONTRAST", {}):
        for w in re.split(r"[\s]+", surface.lower()):
            words.add(w)
            words.add(w.split("-")[0])
    return frozenset(words - boundary_rules()["contrast_non_naming_words"])


def finding_is_noise(words: list[str]) -> bool:
    """A FINDING span that names no problem: no letters, a trailing number ("PSV 342"), or a last word that
    cannot head a problem name (a function word, a descriptor, an exam or administrative noun)."""
    if not words or not any(c.isalpha() for w in words for c in w):
        return True
    if norm(" ".join(words)) in finding_index():
        return False
    last = words[-1].lower()
    if NUMBER_RE.match(last):
        # "CKD stage 3", "type 2": a number that completes a stage/grade/type name
        return not (len(words) > 1 and words[-2].lower() in boundary_rules()["finding_number_heads"])
    return last in boundary_rules()["finding_nonhead_words"]


def _sent_bounds(doc: Doc, e: Span) -> tuple[int, int]:
    if doc.has_annotation("SENT_START"):
        s = e.sent
        return s.start, s.end
    return 0, len(doc)


# a VIEWS span that is complete on its own: a count ("2V", "two views", "single view") or ends in "view(s)"
COMPLETE_VIEWS = re.compile(r"(?i)(?:\b(?:\d+|one|two|three|four|five|six|single)\s*(?:v|vw|vws|views?)?|\bviews?)\s*$")


class SpanFix:
    def __init__(self, nlp: Language, name: str = "radcoder_spanfix", *, anchor_window: int = 3,
                 ruler_context: bool = True, fix_boundaries: bool = True, code_extend: bool = False):
        self.name = name
        self.nlp = nlp
        self.anchor_window = anchor_window
        self.ruler_context = ruler_context
        self.fix_boundaries = fix_boundaries
        # §7.9 extension of a known term over code-changing modifiers ("hernia" -> "inguinal hernia"): off by
        # default, the older hand-written gold mostly leaves such modifiers out
        self.code_extend = code_extend
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
        if finding_is_noise([t.text for t in e]):
            return True
        rules = boundary_rules()
        if e.end < len(doc):
            nxt = doc[e.end].lower_
            # "PE protocol", "stroke team"; "ca" of "can't" (the contraction token "n't" follows)
            if nxt in PROTOCOL_WORDS or nxt in rules["finding_drop_next_words"] or nxt in CONTRACTION_TAILS:
                return True
        context = rules["finding_context_drop"].get(norm(text))
        if context:
            lo, hi = _sent_bounds(doc, e)
            if any(t.lower_ in context for t in doc[lo:hi] if not (e.start <= t.i < e.end)):
                return True
        # "an 8 Fr feeding tube", "10 Fr locking pigtail catheter": the instrument of the procedure performed
        size = rules["finding_device_size_words"]
        for k in range(max(1, e.start - 3), e.start):
            if doc[k].lower_ in size and NUMBER_RE.match(doc[k - 1].text):
                return True
        return False

    @staticmethod
    def _drop_procedure(doc: Doc, e: Span) -> bool:
        """"biopsy clip": a marker device, not a procedure performed."""
        return e.end < len(doc) and doc[e.end].lower_ in boundary_rules()["procedure_device_next"]

    @staticmethod
    def _not_performed(doc: Doc, e: Span) -> bool:
        """A procedure recommended, considered or declined (§7.3: only the procedure performed is
        annotated), or the injection of a contrast agent or tracer ("after intravenous injection")."""
        rules = boundary_rules()
        prev = e.start - 1
        if prev > 0 and doc[prev].lower_ in DETERMINERS:
            prev -= 1  # "after the injection"
        if prev >= 0 and e[-1].lower_ in rules["procedure_injection_words"] \
                and doc[prev].lower_ in rules["procedure_agent_prev"]:
            return True  # "after intravenous injection", "60 minutes after injection": the tracer/contrast
        if e.start > 1 and doc[e.start - 1].lower_ in MODALITY_WORDS \
                and doc[e.start - 2].lower_ in rules["procedure_purpose_prev"]:
            return True  # "injection for MR arthrography": the later exam the procedure is for
        if e.start > 0 and doc[e.start - 1].lower_ in rules["procedure_drop_prev"]:
            return True  # "placed to bag drainage": the catheter output, not a procedure
        if section_at(doc, e.start_char) in EXAM_SECTIONS:
            return False
        lo, hi = _sent_bounds(doc, e)
        words = {t.lower_ for t in doc[lo:hi]}
        return bool(words & rules["procedure_not_performed_cues"])

    @staticmethod
    def _extend(doc: Doc, e: Span, taken: set[int]) -> Span:
        n = len(doc)
        if e.label_ == "FINDING":
            prev = doc[e.start - 1].text if e.start > 0 else ""
            nxt = doc[e.end].text if e.end < n else ""
            i, j = trim_finding([t.text for t in e], prev, nxt)
            start = extend_acuity([t.text for t in doc], e.start + i, e.start + j, taken)
            if (start, e.start + j) != (e.start, e.end):
                return Span(doc, start, e.start + j, label=e.label, kb_id=e.kb_id, span_id=e.id)
            return e
        if e.label_ == "VIEWS":
            # "magnification CC and ML views", "spot compression CC and MLO views" (the view names)
            i = e.start
            while i > 0 and doc[i - 1].lower_ in boundary_rules()["views_leading_words"] and i - 1 not in taken:
                i -= 1
            if i != e.start:
                e = Span(doc, i, e.end, label=e.label, kb_id=e.kb_id, span_id=e.id)
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
        index = finding_index()
        for e in ents:
            if e.label_ != "FINDING" or e.ent_id_:
                continue
            sup = [m for m in matches if m[0] <= e.start and m[1] >= e.end and m[1] - m[0] > len(e)]
            if self._known_finding(e.text):
                if not self.code_extend:
                    continue
                # a known term inside a longer lexicon term with another code: the extra words are
                # code-changing modifiers and belong in the span (§7.9: "inguinal hernia", "EtOH cirrhosis")
                own = index.get(norm(e.text))
                sup = [m for m in sup if own is not None and own.icd10cm
                       and index.get(norm(doc[m[0]:m[1]].text)) is not None
                       and index[norm(doc[m[0]:m[1]].text)].icd10cm not in (None, own.icd10cm)
                       and not self._side_inside(doc, m[0], m[1])]
            if not sup:
                continue
            start, end, pid = max(sup, key=lambda m: (m[1] - m[0], -m[0]))
            clash = [o for o in out if o is not e and o.start < end and start < o.end]
            # NER spans of other labels win, except fragments of the same term lying inside it
            # ("EtOH" + "cirrhosis", "HEPATIC" (ANATOMY) + "ABSCESS")
            if any(not o.ent_id_ and not (o.start >= start and o.end <= end and o.label_ in ABSORBABLE)
                   for o in clash):
                continue
            new = Span(doc, start, end, label=e.label, span_id=pid or e.id)
            out = [o for o in out if o is not e and o not in clash] + [new]
        return sorted(out, key=lambda x: x.start)

    def _complete_anatomy(self, doc: Doc, ents: list[Span]) -> list[Span]:
        """A lexicon ANATOMY match whose name includes its side ("right upper quadrant", a word of
        anatomy_side_inside_words) replaces the NER LATERALITY/ANATOMY pieces that lie inside it and overlap
        nothing else: the whole quadrant is the exam object (the gold's convention), not a side + a body part."""
        if "entity_ruler" not in self.nlp.pipe_names:
            return ents
        words = boundary_rules()["anatomy_side_inside_words"]
        out = list(ents)
        for match_id, start, end in self.nlp.get_pipe("entity_ruler").match(doc):
            label, _, pid = doc.vocab.strings[match_id].partition("||")
            if label != "ANATOMY" or not any(t.lower_ in words for t in doc[start:end]):
                continue
            clash = [o for o in out if o.start < end and start < o.end]
            if not clash or any(o.label_ not in ("LATERALITY", "ANATOMY") or o.start < start or o.end > end
                                for o in clash) or any(o.start == start and o.end == end for o in clash):
                continue
            new = Span(doc, start, end, label="ANATOMY", span_id=pid)
            out = [o for o in out if o not in clash] + [new]
        return sorted(out, key=lambda x: x.start)

    def _split_procedure_pieces(self, doc: Doc, ents: list[Span]) -> list[Span]:
        """An NER exam-description span that is no term of its label but holds a lexicon PROCEDURE term
        ("GUIDED PARACENTESIS", "RENAL BIOPSY" tagged ANATOMY) is split: the procedure term becomes a PROCEDURE
        span, a remainder that is a body-part term stays ANATOMY ("RENAL"), any other remainder is dropped.
        A lexicon GUIDANCE phrase that holds an NER MODALITY span and otherwise free tokens ("US" + "GUIDED")
        becomes one GUIDANCE span (guideline §2: a modality inside a guidance phrase is GUIDANCE)."""
        if "entity_ruler" not in self.nlp.pipe_names:
            return ents
        matches = []
        for match_id, start, end in self.nlp.get_pipe("entity_ruler").match(doc):
            label, _, pid = doc.vocab.strings[match_id].partition("||")
            if label in ("PROCEDURE", "GUIDANCE"):
                matches.append((label, start, end, pid))
        if not matches:
            return ents
        maps, regions = term_maps(), region_index()
        out = list(ents)
        for e in ents:
            if e.ent_id_ or e.label_ not in CONTEXT_LABELS:
                continue
            key = norm(e.text)
            if key in maps.get(e.label_, {}) or (e.label_ == "ANATOMY" and key in regions):
                continue
            # only a term inside the span: the gold mostly keeps an approach word out ("PERCUTANEOUS DRAINAGE"
            # -> "DRAINAGE")
            procs = [m for m in matches if m[0] == "PROCEDURE" and m[1] >= e.start and m[2] <= e.end]
            if not procs:
                continue
            _, start, end, pid = max(procs, key=lambda m: (m[2] - m[1], -m[1]))
            pieces = [Span(doc, start, end, label="PROCEDURE", span_id=pid)]
            for a, b in ((e.start, start), (end, e.end)):
                rest = norm(doc[a:b].text) if b > a else ""
                if rest and (rest in regions or rest in maps.get("ANATOMY", {})):
                    pieces.append(Span(doc, a, b, label="ANATOMY"))
            out = [o for o in out if o is not e] + pieces
        taken = {i: o for o in out for i in range(o.start, o.end)}
        for label, start, end, pid in matches:
            if label != "GUIDANCE":
                continue
            inside = {taken[i] for i in range(start, end) if i in taken}
            if len(inside) == 1:
                o = inside.pop()
                if o.label_ == "MODALITY" and o.start >= start and o.end <= end and (o.start, o.end) != (start, end):
                    out = [x for x in out if x is not o] + [Span(doc, start, end, label="GUIDANCE", span_id=pid)]
        return sorted(out, key=lambda x: x.start)

    @staticmethod
    def _side_inside(doc: Doc, start: int, end: int) -> bool:
        side = boundary_rules()["finding_side_words"]
        return any(t.lower_ in side for t in doc[start:end])

    @staticmethod
    def _relabel(doc: Doc, e: Span) -> Span:
        """An NER exam-description span whose text is a lexicon term of exactly one other exam label takes
        that label ("MRCP" is a MODALITY, "Mammograms" is not an ANATOMY, "LIMITED" is VIEWS)."""
        if e.ent_id_ or e.label_ not in EXAM_LABELS or e.label_ == "GUIDANCE":
            return e  # "under fluoroscopy" is guidance although "fluoroscopy" is a modality term
        key = norm(e.text)
        maps = term_maps()
        own = key in maps.get(e.label_, {}) or (e.label_ == "ANATOMY" and key in region_index())
        if own:
            return e
        other = [lab for lab in EXAM_LABELS if lab != "ANATOMY" and key in maps.get(lab, {})]
        if len(other) != 1:
            return e
        return Span(doc, e.start, e.end, label=other[0], kb_id=e.kb_id, span_id=e.id)

    @staticmethod
    def _contrast_ok(e: Span) -> bool:
        """A CONTRAST span names contrast: one of its words is a contrast word of the lexicon
        ("without internal vascularity", "SINGLE GESTATION" are not)."""
        vocab = contrast_vocabulary()
        return any(t.lower_ in vocab or t.lower_.split("-")[0] in vocab for t in e)

    @staticmethod
    def _merge_views(doc: Doc, ents: list[Span]) -> list[Span]:
        """Adjacent VIEWS spans are one view list ("AP and cephalic" + "tilt views"), unless the first one is
        already complete: a count or a phrase ending in "views" ("2V" + "FRONTAL/LATERAL" stay two spans)."""
        out: list[Span] = []
        for e in sorted(ents, key=lambda x: x.start):
            if out and e.label_ == "VIEWS" and out[-1].label_ == "VIEWS" and out[-1].end == e.start \
                    and not COMPLETE_VIEWS.search(out[-1].text):
                p = out.pop()
                e = Span(doc, p.start, e.end, label=e.label, kb_id=p.kb_id, span_id=p.id)
            out.append(e)
        return out

    @staticmethod
    def _strip_edges(doc: Doc, e: Span) -> Span | None:
        """§1: a span never starts or ends with whitespace or punctuation ("PA AND LATERAL)", "W/O\\n")."""
        i, j = e.start, e.end
        while i < j and (doc[i].is_punct or doc[i].is_space) and doc[i].text not in KEEP_EDGE:
            i += 1
        while j > i and (doc[j - 1].is_punct or doc[j - 1].is_space) and doc[j - 1].text not in KEEP_EDGE:
            j -= 1
        if i == j:
            return None
        if (i, j) == (e.start, e.end):
            return e
        return Span(doc, i, j, label=e.label, kb_id=e.kb_id, span_id=e.id)

    # ------------------------------------------------------------------ call
    def __call__(self, doc: Doc) -> Doc:
        ents = list(doc.ents)
        if not ents:
            return doc
        if self.fix_boundaries:
            ents = self._complete_fragments(doc, ents)
            ents = self._complete_anatomy(doc, ents)
            ents = self._split_procedure_pieces(doc, ents)
        anchors = [e for e in ents if e.label_ in ANCHOR_LABELS or e.label_ == "VIEWS"]
        kept: list[Span] = []
        for e in ents:
            e = self._strip_edges(doc, e)
            if e is None:
                continue
            if self.fix_boundaries:
                e = self._relabel(doc, e)
            if e.label_ == "CONTRAST" and not self._contrast_ok(e):
                continue
            ruler = bool(e.ent_id_)
            if e.label_ == "FINDING" and self._drop_finding(doc, e):
                continue
            if e.label_ == "PROCEDURE" and (self._drop_procedure(doc, e) or self._not_performed(doc, e)):
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
            kept = self._merge_views(doc, fixed)
        doc.ents = filter_spans(kept)
        return doc


@Language.factory("radcoder_spanfix", assigns=["doc.ents"],
                  default_config={"anchor_window": 3, "ruler_context": True, "fix_boundaries": True,
                                  "code_extend": False})
def make_spanfix(nlp: Language, name: str, anchor_window: int, ruler_context: bool, fix_boundaries: bool,
                 code_extend: bool):
    register_extensions()
    return SpanFix(nlp, name, anchor_window=anchor_window, ruler_context=ruler_context,
                   fix_boundaries=fix_boundaries, code_extend=code_extend)
