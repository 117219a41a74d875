"""ConText-style assertion: present, negated, uncertain, historical, hypothetical, family.

Cues are data (resources/rules/assertion_rules.jsonl): a literal, a category and a direction.
A FORWARD cue governs targets after it, a BACKWARD cue targets before it, BIDIRECTIONAL both.
Scope ends at the sentence end (radcoder_sentences splits on line breaks and headers), at a
TERMINATE cue ("but", "however", ";", ...) and after ``max_scope`` tokens when set. PSEUDO cues
("no change", "not only", "no increase in size") are matched too and switch off any cue they overlap.
When several cues reach a target, the closest wins; ties go to the category order
negated > uncertain > hypothetical > historical > family.

Clinical-note layout (beyond radiology):
- a negation cue left dangling at the end of its clause is an answer to what precedes it ("Fever: no",
  "Aortic stenosis: none.", "Hepatitis B surface antigen: negative"), even when the sentence splitter put
  the answer after a header-like "Fever:" in a sentence of its own;
- a header cue (a rule literal ending in ":", e.g. "FAMILY HISTORY:", "Resolved Problems:", "Negative:")
  alone on its sentence governs the following lines up to the next header or a blank line (a NEGATED
  header only its own line); a cue in the target's own sentence still decides first;
- a negation right before a history cue negates it ("denies personal h/o DVT"); a duration joined to
  "history" ("three-day history of") is a pseudo-cue.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
import re
from dataclasses import replace
from pathlib import Path

from spacy.language import Language
from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc, Span
from spacy.util import ensure_path

from ..datafiles import iter_jsonl
from ..errors import Warnings, warn_once
from ..extensions import register_extensions
from ..rules import AssertionRule, load_rules, parse_rules, rules_to_jsonl

# a past procedure named after a historical cue ("status post", "s/p", "prior", "history of") is a present
# status (Z codes such as Z98.890, Z95.1); the condition it treated stays historical
PROCEDURE_RE = re.compile(r"(ectomy|ectomies|plasty|plasties|otomy|ostomy|ostomies|pexy|rrhaphy|placement|repair|"
                          r"replacement|reimplantation|implantation|augmentation|fusion|transplant|transplantation|"
                          r"resection|reconstruction|orif|stent|stenting|bypass|cabg|graft|ablation|embolization|"
                          r"amputation|arthroplasty|tka|tha|insertion|evar|tevar|radiation|radiotherapy|xrt|chemotherapy|"
                          r"chemoradiation|brachytherapy|excision|wle|lar|apr|tah|bso|tahbso|turbt|turp)s?$", re.IGNORECASE)
# "X s/p <procedure>": X is the condition the procedure treated, so it is historical (guideline §7.3)
STATUS_POST = ("s/p", "status post", "post")
# a historical cue that starts the span itself ("former smoker", guideline §7.1) governs it
IN_SPAN_HISTORICAL = frozenset({"former", "remote", "previous", "prior"})
ALTERNATIVE_WORDS = {"or", "versus", "vs", "vs.", "and/or", "/"}
IN_SPAN_NEGATIONS = {"without", "no", "not"}


def _negates_inside(span) -> bool:
    """The span names negated complications of its finding after its head ("appendicitis without perforation")."""
    return any(t.lower_ in IN_SPAN_NEGATIONS for t in span[1:])
# backward cues whose scope ends at a comma or at another cue before them
BACKWARD_SHORT = frozenset({"versus", "vs", "vs.", "?"})

# a negation cue with nothing after it in its clause points back at what precedes it ("Fever: no",
# "Aortic stenosis: none.", "Pleural invasion: absent"): it reaches back this many tokens
DANGLING_SCOPE = 2
DANGLING_END = frozenset({".", ",", ";", ")", "!"})
# "Label: answer" / "Label - answer"; the label runs back to the previous clause punctuation
LABEL_SEPARATORS = frozenset({":", "-"})
CLAUSE_PUNCT = frozenset({".", ",", ";", ":", "!", "?"})
# "three-day history of cough", "2-week history of": a duration joined to "history" is a pseudo-cue (§3, §7.4)
DURATION_RE = re.compile(r"^(?:\d+(?:\.\d+)?|a|an|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|"
                         r"several|few|couple|many|multi)-?(?:hours?|hrs?|days?|weeks?|wks?|months?|mos?|years?|yrs?)$",
                         re.IGNORECASE)
# a negation right before a history cue negates the history ("denies personal h/o DVT", "no personal or
# family history of")
HISTORY_WORD_RE = re.compile(r"\b(?:history|hx|h/o)\b", re.IGNORECASE)
NEGATED_HISTORY_GAP = 3
# header cues (literal ending in ":", e.g. "FAMILY HISTORY:", "Resolved Problems:") govern the lines under
# the header up to the next header or blank line; an in-sentence cue still decides first
# ("Negative: fever, chills." governs its own line only); a sentence about the patient
# ("Patient with hypertension.") under a family header is the patient's own
BLOCK_OVERRIDES = {"FAMILY": {"present", "historical"}, "HISTORICAL": {"present"}, "NEGATED": {"present"}}
LINE_BLOCKS = frozenset({"NEGATED"})
PATIENT_SUBJECT = re.compile(r"(?i)^\s*(?:the\s+)?(?:patient|pt|he|she|they)\b")

PRIORITY = {"NEGATED": 0, "UNCERTAIN": 1, "HYPOTHETICAL": 2, "HISTORICAL": 3, "FAMILY": 4, "PRESENT": 5}


class AssertionDetector:
    def __init__(self, nlp: Language, name: str = "radcoder_assertion", *, labels: Sequence[str] = ("FINDING",),
                 spans_key: str | None = None, max_scope: int | None = None, backward_scope: int = 8,
                 rules: Iterable[AssertionRule] = ()):
        self.nlp = nlp
        self.name = name
        self.labels = tuple(labels)
        self.spans_key = spans_key
        self.max_scope = max_scope
        self.backward_scope = backward_scope
        self.rules: tuple[AssertionRule, ...] = tuple(rules)
        self._compile()

    # ----------------------------------------------------------------- rules
    def _compile(self) -> None:
        self.matcher = PhraseMatcher(self.nlp.vocab, attr="LOWER")
        self._by_key: dict[int, list[AssertionRule]] = {}
        by_literal: dict[str, list[AssertionRule]] = {}
        for r in self.rules:
            by_literal.setdefault(r.literal.lower(), []).append(r)
        for lit, rules in by_literal.items():
            key = self.nlp.vocab.strings.add("ctx::" + lit)
            self._by_key[key] = rules
            self.matcher.add("ctx::" + lit, [self.nlp.make_doc(lit)])

    def initialize(self, get_examples: Callable | None = None, *, nlp: Language | None = None,
                   rules: Iterable[dict] | None = None) -> None:
        self.rules = load_rules("assertion") if rules is None else parse_rules("assertion", enumerate(rules, 1))
        self._compile()

    # ----------------------------------------------------------------- matching
    def cues(self, doc: Doc) -> list[tuple[int, int, AssertionRule]]:
        """Non-overlapping cue matches (start token, end token, rule); longest match wins."""
        raw = []
        for key, s, e in self.matcher(doc):
            for r in self._by_key[key]:
                raw.append((s, e, r))
        raw.sort(key=lambda x: (-(x[1] - x[0]), x[0]))
        taken = [False] * (len(doc) + 1)
        kept = []
        for s, e, r in raw:
            if any(taken[s:e]):
                # same-extent cue with a second category/direction is kept alongside
                if not any(k[0] == s and k[1] == e for k in kept):
                    continue
            for i in range(s, e):
                taken[i] = True
            kept.append((s, e, r))
        out = []
        for s, e, r in kept:
            if r.direction == "PSEUDO" or r.category == "PSEUDO":
                continue
            if r.category == "HISTORICAL" and doc[s].lower_ == "history" and s > 0 \
                    and DURATION_RE.match(doc[s - 1].text):
                continue
            if r.category == "HISTORICAL" and e - s == 1 and doc[s].lower_ in ("hx", "history") \
                    and e < len(doc) and doc[e].text == ":":
                continue  # the 'HX:' / 'HISTORY:' label of the clinical history, not a past condition
            out.append((s, e, r))
        return out

    @staticmethod
    def _dangling(doc: Doc, cues, sent_of) -> list:
        """A forward negation or uncertainty cue with nothing after it in its clause ("Fever: no",
        "Edema: none.", "Mesenteric adenitis possible.") is turned into a short backward cue."""
        out = []
        # a cue with its own backward rule ("negative": "Murphy sign negative") keeps that rule's scope at a clause end
        backward_at = {(s, e) for s, e, r in cues if r.direction == "BACKWARD"}
        for s, e, r in cues:
            if r.direction == "FORWARD" and (s, e) in backward_at:
                out.append((s, e, r))
                continue
            if r.category in ("NEGATED", "UNCERTAIN") and r.direction in ("FORWARD", "BACKWARD") and s > 0 \
                    and not r.literal.endswith(":"):
                send = sent_of(s)[1]
                nxt = next((i for i in range(e, send) if not doc[i].is_space), None)
                if nxt is None or doc[nxt].text in DANGLING_END:
                    scope = DANGLING_SCOPE if r.direction == "FORWARD" else r.max_scope
                    if doc[s - 1].text in LABEL_SEPARATORS:
                        # "Hepatitis B surface antigen: negative": the answer covers its whole label
                        k = s - 2
                        while k >= 0 and doc[k].text not in CLAUSE_PUNCT and not doc[k].is_space \
                                and "\n" not in doc[k].whitespace_:
                            k -= 1
                        scope = max(scope or 0, s - 1 - (k + 1))
                    if r.direction == "FORWARD" or scope != r.max_scope:
                        r = replace(r, direction="BACKWARD", max_scope=scope)
            out.append((s, e, r))
        return out

    @staticmethod
    def _answers(doc: Doc, cues) -> dict[int, int]:
        """"Fever: no" is split after the header-like "Fever:"; the answer sentence that is only a negation
        cue joins the sentence before it on the same line (end token of that sentence -> new end)."""
        out = {}
        for s, e, r in cues:
            if r.category != "NEGATED" or r.direction != "BACKWARD" or not doc[s].is_sent_start or s == 0:
                continue
            prev = doc[s - 1].sent
            if doc[s - 1].text != ":" or "\n" in doc[s - 1].whitespace_:
                continue
            send = doc[s].sent.end
            if all(t.is_space or t.text in DANGLING_END for t in doc[e:send]):
                out[prev.end] = send
        return out

    @staticmethod
    def _blocks(doc: Doc, cues) -> list[tuple[int, int, str, tuple[int, int]]]:
        """(first token, end token, category, cue) of the lines governed by a header cue."""
        if not doc.has_annotation("SENT_START"):
            return []
        sents = list(doc.sents)
        out = []
        for s, e, r in cues:
            if r.direction != "FORWARD" or r.category not in BLOCK_OVERRIDES or not r.literal.endswith(":"):
                continue
            k = next((i for i, x in enumerate(sents) if x.start <= s < x.end), None)
            if k is None:
                continue
            sent = sents[k]
            if any(not t.is_space for t in doc[sent.start:s]) or any(not t.is_space for t in doc[e:sent.end]):
                # not a header alone on its sentence: the cue governs its own sentence only
                continue
            end = sent.end
            for x in sents[k + 1:]:
                words = [t for t in x if not t.is_space]
                if not words or words[-1].text == ":":
                    break
                gap = doc[end - 1].whitespace_ + "".join(t.text for t in doc[end - 1:x.start] if t.is_space)
                if "\n\n" in gap or (r.category in LINE_BLOCKS and "\n" in gap):
                    break
                end = x.end
            out.append((sent.end, end, r.category, (s, e)))
        return out

    def _decide(self, target_start: int, target_end: int, cues, sent_start: int, sent_end: int):
        best = None  # (distance, priority, category, cue)
        terminators = [(s, e) for s, e, r in cues if r.direction == "TERMINATE" or r.category == "TERMINATE"]
        for s, e, r in cues:
            if r.direction == "TERMINATE" or r.category == "TERMINATE":
                continue
            if s < sent_start or e > sent_end:
                continue
            if s >= target_start and e <= target_end:
                continue  # a cue inside the target span ("no" inside a name) is not a cue for it
            dist = None
            # a cue that overlaps the start of the target ("no focal" + "focal consolidation") still governs it
            if r.direction in ("FORWARD", "BIDIRECTIONAL") and s < target_start:
                if not any(ts >= e and te <= target_start for ts, te in terminators):
                    scope = r.max_scope if r.max_scope is not None else self.max_scope
                    d = max(0, target_start - e)
                    if scope is None or d <= scope:
                        dist = d
            if dist is None and r.direction in ("BACKWARD", "BIDIRECTIONAL") and e > target_end and s >= target_start:
                if not any(ts >= target_end and te <= s for ts, te in terminators):
                    scope = r.max_scope if r.max_scope is not None else self.backward_scope
                    d = max(0, s - target_end)
                    if scope is None or d <= scope:
                        dist = d
            if dist is None:
                continue
            cand = (dist, PRIORITY.get(r.category, 9), r.category, (s, e))
            if best is None or cand < best:
                best = cand
        if best is None:
            return "present", None
        return best[2].lower(), best[3]

    def assert_spans(self, doc: Doc, spans: Iterable[Span]) -> list[str]:
        """Assertion label for each span (also written to ``span._.assertion``).

        Beyond the cues: a procedure named after "status post" is a present status, and findings offered
        as alternatives ("pneumonia or atelectasis", "X versus Y") are uncertain unless negated."""
        cues = self.cues(doc)
        has_sents = doc.has_annotation("SENT_START")
        cues = self._dangling(doc, cues, lambda i: (doc[i].sent.start, doc[i].sent.end) if has_sents
                              else (0, len(doc)))
        # header cues and their blocks; answer sentences joined to their "Label:" sentence
        blocks = self._blocks(doc, cues)
        joined = self._answers(doc, cues) if has_sents else {}
        spans = list(spans)
        order = sorted(range(len(spans)), key=lambda k: spans[k].start)
        alternative = set()
        for a, b in zip(order, order[1:]):
            sa, sb = spans[a], spans[b]
            between = [t.lower_ for t in doc[sa.end:sb.start]]
            if 0 < len(between) <= 3 and any(w in ALTERNATIVE_WORDS for w in between) and \
                    all(w in ALTERNATIVE_WORDS or w in {",", "a", "an", "the", "and"} for w in between) and \
                    not _negates_inside(sa):
                # (not "appendicitis without perforation or abscess": the 'or' joins the negated complications)
                alternative.update((a, b))
        out = []
        for k, span in enumerate(spans):
            sent = span.sent if has_sents else doc[:]
            sent = doc[sent.start:joined.get(sent.end, sent.end)]
            label, cue = self._decide(span.start, span.end, cues, sent.start, sent.end)
            if cue and cue[0] >= span.end and doc[cue[0]:cue[1]].text.lower() in BACKWARD_SHORT \
                    and self._crosses_clause(doc, cues, span.end, cue[0]):
                # "opacity, atelectasis versus pneumonia", "opacity may represent atelectasis versus
                # pneumonia", "vomiting x 3 days, ? pyloric stenosis": an alternative or question mark after
                # the finding reaches back only over its own noun phrase
                rest = [c for c in cues if (c[0], c[1]) != cue]
                label, cue = self._decide(span.start, span.end, rest, sent.start, sent.end)
            if cue and doc[cue[0]:cue[1]].text.lower() in ALTERNATIVE_WORDS:
                # "r/o X vs Y", "no X or Y": a stronger cue governing the whole coordination wins (§7.5)
                other = [c for c in cues if doc[c[0]:c[1]].text.lower() not in ALTERNATIVE_WORDS]
                l2, c2 = self._decide(span.start, span.end, other, sent.start, sent.end)
                if l2 in ("negated", "hypothetical"):
                    label, cue = l2, c2
                elif _negates_inside(span) and cue[0] >= span.end:
                    # "acute appendicitis without perforation or abscess": the alternatives are the negated
                    # complications the span names, not a differential of the finding
                    label, cue = l2, c2
            if label == "present" and len(span) > 1 and span[0].lower_ in IN_SPAN_HISTORICAL \
                    and not PROCEDURE_RE.search(span.text.strip()):
                label, cue = "historical", (span.start, span.start + 1)
            if label == "present" and self._treated_before(doc, span, sent.end):
                label, cue = "historical", None
            if label == "historical" and cue and PROCEDURE_RE.search(span.text.strip()):
                label, cue = "present", None
            if label in ("historical", "family") and cue and cue[1] <= span.start and \
                    HISTORY_WORD_RE.search(doc[cue[0]:cue[1]].text):
                # "denies personal h/o blood clots", "no prior hx of": the history itself is negated
                neg = [(s, e) for s, e, r in cues if r.category == "NEGATED" and r.direction == "FORWARD"
                       and s >= sent.start and e <= cue[0] and cue[0] - e <= NEGATED_HISTORY_GAP]
                if neg:
                    label, cue = "negated", neg[-1]
            if label == "present" and k in alternative:
                label = "uncertain"
            for bs, be, bcat, bcue in blocks:
                if bs <= span.start and span.end <= be and label in BLOCK_OVERRIDES[bcat]:
                    if bcat == "FAMILY" and PATIENT_SUBJECT.match(sent.text):
                        continue
                    if bcat == "HISTORICAL" and PROCEDURE_RE.search(span.text.strip()):
                        continue
                    label, cue = bcat.lower(), bcue
            span._.assertion = label
            span._.assertion_cue = (doc[cue[0]].idx, doc[cue[1] - 1].idx + len(doc[cue[1] - 1])) if cue else None
            out.append(label)
        return out

    @staticmethod
    def _crosses_clause(doc: Doc, cues, start: int, end: int) -> bool:
        """A comma or another cue lies between token ``start`` and the cue at ``end``."""
        if any(t.text == "," for t in doc[start:end]):
            return True
        return any(start <= s and e <= end for s, e, r in cues
                   if r.direction not in ("TERMINATE", "PSEUDO") and r.category != "TERMINATE")

    @staticmethod
    def _treated_before(doc: Doc, span: Span, sent_end: int, window: int = 4) -> bool:
        """The span is followed, within a few tokens of its sentence, by "s/p <procedure>"."""
        if PROCEDURE_RE.search(span.text.strip()):
            return False
        toks = [t.lower_ for t in doc[span.end:min(sent_end, span.end + window + 4)]]
        for k in range(min(window, len(toks))):
            if toks[k] in {",", ";", "but", "with", "and"}:
                return False
            for cue in STATUS_POST:
                n = len(cue.split())
                if toks[k:k + n] == cue.split() and k + n < len(toks) and \
                        any(PROCEDURE_RE.search(w) for w in toks[k + n:k + n + 4]):
                    return True
        return False

    def targets(self, doc: Doc) -> list[Span]:
        spans = doc.spans.get(self.spans_key, ()) if self.spans_key else doc.ents
        return [s for s in spans if not self.labels or s.label_ in self.labels]

    def __call__(self, doc: Doc) -> Doc:
        if not self.rules:
            warn_once(Warnings.W001.format(name=self.name))
            return doc
        self.assert_spans(doc, self.targets(doc))
        return doc

    # ----------------------------------------------------------------- serialization
    def to_disk(self, path, *, exclude=()) -> None:
        path = ensure_path(path)
        path.mkdir(parents=True, exist_ok=True)
        (path / "assertion_rules.jsonl").write_text(rules_to_jsonl(self.rules), encoding="utf-8")

    def from_disk(self, path, *, exclude=()) -> AssertionDetector:
        p = Path(path) / "assertion_rules.jsonl"
        self.rules = parse_rules("assertion", iter_jsonl(p), str(p))
        self._compile()
        return self


@Language.factory(
    "radcoder_assertion",
    assigns=["span._.assertion"],
    default_config={"labels": ["FINDING"], "spans_key": None, "max_scope": None, "backward_scope": 8},
)
def make_assertion(nlp: Language, name: str, labels: list[str], spans_key: str | None,
                   max_scope: int | None, backward_scope: int):
    register_extensions()
    return AssertionDetector(nlp, name, labels=labels, spans_key=spans_key, max_scope=max_scope,
                             backward_scope=backward_scope)
