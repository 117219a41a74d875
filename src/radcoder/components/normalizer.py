"""Entity normalizer.

1. Context filter (guideline §2): ANATOMY, LATERALITY, VIEWS and CONTRAST spans are kept only where they
   describe the exam or procedure: in the exam/technique sections, or in a sentence that names a
   MODALITY, PROCEDURE or GUIDANCE. LATERALITY is kept only next to a kept ANATOMY or PROCEDURE span.
2. FINDING spans get ``span._.concept`` and ``span._.icd10cm`` from the finding lexicon
   (resources/lexicons/findings.jsonl), choosing the laterality or acuity variant from nearby words;
   unknown terms fall back to a search over ICD-10-CM descriptions and inclusion terms.
"""

from __future__ import annotations

from spacy.language import Language
from spacy.tokens import Doc, Span

from ..extensions import register_extensions, section_at
from ..lexicons import Concept, concepts_by_code, finding_index, norm, term_maps

EXAM_SECTIONS = {"exam", "technique"}
CONTEXT_LABELS = {"ANATOMY", "LATERALITY", "VIEWS", "CONTRAST"}
ANCHOR_LABELS = {"MODALITY", "PROCEDURE", "GUIDANCE"}
LEADING_MODIFIERS = {
    "mild", "mildly", "moderate", "moderately", "severe", "severely", "small", "large", "tiny", "minimal", "trace",
    "new", "old", "stable", "persistent", "focal", "diffuse", "patchy", "subtle", "minor", "marked", "extensive",
    "significant", "slight", "slightly", "increased", "decreased", "worsening", "improving", "residual",
    "bibasilar", "bibasal", "basilar", "apical", "scattered", "multiple", "few", "several", "a", "an", "the",
    "left", "right", "bilateral", "lower", "upper", "middle", "lobe", "lung", "known", "underlying",
    "dependent", "nonspecific", "non-specific", "probable", "early", "developing", "small-to-moderate",
}
# lexicon concepts too generic to code without the anatomy they refer to
GENERIC_CONCEPTS = frozenset({"fracture_unspecified", "solitary_pulmonary_nodule", "lung_mass", "pleural_effusion",
                              "cancer_unspecified", "hernia_unspecified", "fracture", "nodule", "mass", "lesion", "pain", "effusion", "cyst", "opacity",
                              "density", "tear", "swelling", "edema", "calcification", "stenosis", "occlusion",
                              "thickening", "enlargement", "dislocation", "contusion", "foreign_body", "scarring",
                              "infection", "abscess", "atrophy", "degenerative_changes", "arthritis", "osteoarthritis",
                              "hernia", "stone", "calculus", "carcinoma", "cancer", "tumor", "metastasis"})
LAT_WORDS = {"left": "left", "right": "right", "bilateral": "bilateral", "bilaterally": "bilateral",
             "both": "bilateral", "b/l": "bilateral", "lt": "left", "rt": "right", "l": "left", "r": "right"}
ACUITY_WORDS = {"acute": "acute", "subacute": "acute", "chronic": "chronic", "recurrent": "chronic"}


def lookup_concept(text: str) -> Concept | None:
    idx = finding_index()
    key = norm(text)
    if key in idx:
        return idx[key]
    words = key.split()
    # drop leading modifiers, then try singular forms
    while words and words[0] in LEADING_MODIFIERS:
        words = words[1:]
        if " ".join(words) in idx:
            return idx[" ".join(words)]
    cand = " ".join(words)
    for variant in (cand[:-1] if cand.endswith("s") else None, cand[:-2] if cand.endswith("es") else None):
        if variant and variant in idx:
            return idx[variant]
    # longest suffix that is a known term ("right lower lobe pneumonia" -> "pneumonia")
    for k in range(1, len(words)):
        tail = " ".join(words[k:])
        if tail in idx:
            return idx[tail]
    return None


def _window_words(span: Span, before: int = 5, after: int = 3) -> list[str]:
    sent = span.sent if span.doc.has_annotation("SENT_START") else span.doc[:]
    lo = max(sent.start, span.start - before)
    hi = min(sent.end, span.end + after)
    return [t.lower_ for t in span.doc[lo:hi]]


def choose_code(concept: Concept, span: Span) -> str | None:
    words = _window_words(span)
    code = concept.icd10cm
    if concept.acuity:
        for w in words:
            if w in ACUITY_WORDS and ACUITY_WORDS[w] in concept.acuity:
                code = concept.acuity[ACUITY_WORDS[w]]
                break
    if concept.laterality:
        found = {LAT_WORDS[w] for w in words if w in LAT_WORDS}
        if "left" in found and "right" in found:
            found = {"bilateral"}
        if not found:  # no side next to the finding: the side of the performed exam (one-sided exams only)
            found = _exam_sides(span.doc)
        for side in ("bilateral", "left", "right"):
            if side in found and side in concept.laterality:
                code = concept.laterality[side]
                break
    return code


def _exam_sides(doc: Doc) -> set:
    """Sides named by LATERALITY spans in the exam/technique sections; empty when the exam is two-sided."""
    sides = set()
    for e in doc.ents:
        if e.label_ == "LATERALITY" and section_at(doc, e.start_char) in EXAM_SECTIONS:
            for w in norm(e.text).split():
                if w in LAT_WORDS:
                    sides.add(LAT_WORDS[w])
    return sides if len(sides) == 1 else set()


# measurement units the tagger can mistake for abbreviations ("mCi" is not MCI)
UNIT_TOKENS = frozenset({"mci", "msv", "mgy", "mbq", "cgy", "gy", "ml", "cc"})


class Normalizer:
    def __init__(self, nlp: Language, name: str = "radcoder_normalizer", *, filter_context: bool = True,
                 fallback_search: bool = True, min_search_score: float = 0.6):
        self.name = name
        self.filter_context = filter_context
        self.fallback_search = fallback_search
        self.min_search_score = min_search_score
        self.memory: dict[str, str] = {}   # normalized span text -> ICD-10-CM code learned from training data

    def learn(self, pairs) -> None:
        """Learn span-text -> code from annotated (text, code) pairs: a text's majority code, kept when it
        has at least 60% of that text's annotations."""
        from collections import Counter, defaultdict
        by_text: dict[str, Counter] = defaultdict(Counter)
        for text, code in pairs:
            if code:
                by_text[norm(text)][code] += 1
        self.memory = {}
        for text, counts in sorted(by_text.items()):
            code, n = counts.most_common(1)[0]
            if n / sum(counts.values()) >= 0.6:
                self.memory[text] = code

    def to_disk(self, path, *, exclude=()) -> None:
        import json
        from pathlib import Path
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        (path / "memory.json").write_text(json.dumps(self.memory, indent=0, sort_keys=True), encoding="utf-8")

    def from_disk(self, path, *, exclude=()) -> "Normalizer":
        import json
        from pathlib import Path
        p = Path(path) / "memory.json"
        self.memory = json.loads(p.read_text(encoding="utf-8")) if p.exists() else {}
        return self

    def _filter(self, doc: Doc) -> None:
        ents = list(doc.ents)
        anchor_sents = set()
        for e in ents:
            if e.label_ in ANCHOR_LABELS:
                anchor_sents.add(e.sent.start if doc.has_annotation("SENT_START") else 0)

        def in_context(e: Span) -> bool:
            if section_at(doc, e.start_char) in EXAM_SECTIONS:
                return True
            s = e.sent.start if doc.has_annotation("SENT_START") else 0
            return s in anchor_sents

        kept = [e for e in ents if e.label_ not in CONTEXT_LABELS or e.label_ == "LATERALITY" or in_context(e)]
        anat = [e for e in kept if e.label_ in ("ANATOMY", "PROCEDURE")]
        final = []
        for e in kept:
            if e.label_ == "LATERALITY":
                near = any((0 <= a.start - e.end <= 2) or (0 <= e.start - a.end <= 3) for a in anat)
                if not near:
                    continue
            final.append(e)
        doc.ents = final

    def normalize(self, span: Span) -> None:
        """Set ``span._.concept`` and ``span._.icd10cm``: learned memory, then the lexicon (made more
        specific with nearby anatomy words), then a search over ICD-10-CM titles."""
        key = norm(span.text)
        if key in UNIT_TOKENS and not span.text.isupper():
            span._.concept = None
            span._.icd10cm = None
            return
        concept = lookup_concept(span.text)
        if concept is not None and concept.id in GENERIC_CONCEPTS or concept is None:
            specific = self._specialize(span)
            if specific is not None:
                concept = specific
        remembered = self.memory.get(key)
        if remembered is not None:
            code = remembered
            c = concepts_by_code().get(code)
            if c is not None and (c.laterality or c.acuity):
                code = choose_code(c, span) or code
            span._.concept = c.id if c is not None else None
            span._.icd10cm = code
            return
        if concept is not None:
            span._.concept = concept.id
            span._.icd10cm = choose_code(concept, span)
            return
        span._.concept = None
        span._.icd10cm = None
        if self.fallback_search:
            try:
                from ..codesets.icd10cm import load_icd10cm
                hits = load_icd10cm().search(span.text, limit=1)
            except (ImportError, OSError, ValueError):  # the search index is optional at run time
                hits = []
            if hits and hits[0][1] >= self.min_search_score:
                span._.icd10cm = hits[0][0]

    def _specialize(self, span: Span) -> Optional[Concept]:
        """"fracture" + a nearby "rib" -> the "rib fracture" concept; also the exam's anatomy words."""
        doc = span.doc
        sent = span.sent if doc.has_annotation("SENT_START") else doc[:]
        words = []
        lo, hi = max(sent.start, span.start - 6), min(sent.end, span.end + 6)
        for t in list(doc[lo:span.start])[::-1] + list(doc[span.end:hi]):
            if t.is_alpha and not t.is_stop and t.lower_ not in LEADING_MODIFIERS and t.lower_ not in LAT_WORDS:
                words.append(t.lower_)
        for e in doc.ents:
            if e.label_ == "ANATOMY":
                words.extend(norm(e.text).split()[-1:])
        head = norm(span.text)
        base = lookup_concept(head)
        for w in words:
            for cand in (f"{w} {head}", f"{head} of {w}", f"{w} {head.split()[-1]}"):
                c = finding_index().get(cand) or lookup_concept(cand)
                if c is not None and c is not base and (base is None or c.id != base.id):
                    return c
        return None

    def __call__(self, doc: Doc) -> Doc:
        if self.filter_context:
            self._filter(doc)
        for e in doc.ents:
            if e.label_ == "FINDING":
                self.normalize(e)
        return doc


@Language.factory("radcoder_normalizer", assigns=["span._.icd10cm", "span._.concept", "doc.ents"],
                  default_config={"filter_context": True, "fallback_search": True, "min_search_score": 0.6})
def make_normalizer(nlp: Language, name: str, filter_context: bool, fallback_search: bool,
                    min_search_score: float):
    register_extensions()
    term_maps()  # fail early on a broken lexicon
    return Normalizer(nlp, name, filter_context=filter_context, fallback_search=fallback_search,
                      min_search_score=min_search_score)
