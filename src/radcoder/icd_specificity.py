"""Specificity refinement of ICD-10-CM codes from a FINDING span's context.

A lexicon, memory or search code is often the unspecified member of its category (C50.911 "unspecified
site of right female breast", M25.40 "Effusion, unspecified joint", D17.9 "Benign lipomatous neoplasm,
unspecified"). The documented context (side, breast clock position or quadrant, lung lobe, digit,
displaced/nondisplaced, joint or limb named in the sentence or in the exam title) often selects a more
specific billable code of the same 3-character category. ``refine`` compares the ICD-10-CM titles of the
billable codes of the category with the context words:

* a title word the candidate adds and the context supports counts for it; an unsupported added word,
  and dropping a specific word of the original title, count against it (dropping the word after
  "unspecified" -- "unspecified joint", "unspecified site" -- is free: that is the axis being filled in);
* the 7th character (encounter, fetus) of the original code is kept;
* ICD-10-CM convention: a fracture not stated displaced/nondisplaced is coded displaced.

The mapping of report words to ICD-10-CM title words (quadrant, clock, lobe, digit, laterality and
adjective forms) is data: resources/lexicons/specificity_terms.jsonl.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from functools import cache

from .datafiles import iter_jsonl, resource_path

TERMS_FILE = "specificity_terms.jsonl"
SIDES = ("left", "right", "bilateral")
# title words that carry no axis value
IGNORE = frozenset({"of", "and", "or", "the", "in", "on", "at", "to", "for", "a", "an", "with", "without", "by",
                    "as", "not", "specified", "nec", "encounter", "initial", "subsequent", "type", "due",
                    "part", "site", "sites", "region", "classified", "elsewhere", "any"})
W_LITERAL = 2.0      # a title word written in the sentence
W_DERIVED = 1.5      # a title word implied by a mapped phrase (RUL -> upper lobe, 10 o'clock -> upper outer)
W_EXAM = 1.5         # a title word written in the exam title's anatomy
W_FAR = 1.0          # a word of the sentence further from the span; a title word the exam anatomy implies
W_IMPLICIT = 0.6     # conventions (a fracture not stated nondisplaced is displaced)
P_UNSUPPORTED_ADD = 0.5
P_DROP_SPECIFIC = 1.5
P_DROP_SUPPORTED = 3.0
B_DROP_UNSPECIFIED = 0.5
MIN_SCORE = 1.0
MIN_SUPPORT = 1.5

_SPLIT = re.compile(r"[^a-z0-9/]+")
_CLOCK = re.compile(r"\b(1[0-2]|0?[1-9])(?:(?::|\.)([0-5]\d))?\s*(?:o\s*['’]?\s*clock|oclock)\b"
                    r"|\b(1[0-2]|0?[1-9]):([0-5]\d)\b", re.IGNORECASE)


def stem(w: str) -> str:
    if len(w) > 3 and w.endswith("s") and not w.endswith(("ss", "us", "is", "ous")):
        return w[:-1]
    return w


def words(text: str, keep_case: bool = False) -> list[str]:
    """Lower-case word tokens (hyphens split, '/' kept: 'b/l'); ``keep_case``: the same tokens as written."""
    t = text.replace("’", "'").replace("'", "")
    if keep_case:
        return [w for w in re.split(r"[^A-Za-z0-9/]+", t) if w]
    return [w for w in _SPLIT.split(t.lower()) if w]


@dataclass(frozen=True)
class Terms:
    phrases: tuple          # (tuple of words, tokens, side or None)
    sides: dict             # word tuple -> side
    clock: tuple            # (side, from, to, tokens)
    max_len: int


@cache
def terms() -> Terms:
    phrases, sides, clock = [], {}, []
    for _, r in iter_jsonl(resource_path("lexicons", TERMS_FILE)):
        kind = r.get("kind")
        if kind == "clock":
            if r["side"] not in ("left", "right"):
                raise ValueError(f"{TERMS_FILE}: clock side must be left/right: {r}")
            clock.append((r["side"], float(r["from"]), float(r["to"]), tuple(r["tokens"])))
            continue
        key = tuple(words(r["match"]))
        if not key:
            raise ValueError(f"{TERMS_FILE}: empty match: {r}")
        if kind == "side":
            if r["side"] not in SIDES:
                raise ValueError(f"{TERMS_FILE}: unknown side: {r}")
            sides[key] = r["side"]
        elif kind == "phrase":
            side = r.get("side")
            if side is not None and side not in SIDES:
                raise ValueError(f"{TERMS_FILE}: unknown side: {r}")
            phrases.append((key, tuple(stem(t) for t in r["tokens"]), side))
        else:
            raise ValueError(f"{TERMS_FILE}: unknown kind {kind!r}")
    n = max([len(p[0]) for p in phrases] + [len(k) for k in sides] + [1])
    return Terms(tuple(phrases), sides, tuple(clock), n)


def phrase_hits(ws: list[str]):
    """(start, end, tokens, side) for every mapped phrase in the word list."""
    t = terms()
    index = {p[0]: p for p in t.phrases}
    out = []
    for i in range(len(ws)):
        for n in range(min(t.max_len, len(ws) - i), 0, -1):
            p = index.get(tuple(ws[i:i + n]))
            if p is not None:
                out.append((i, i + n, p[1], p[2]))
    return out


def side_words(ws: list[str], raw: list[str] | None = None) -> set:
    """Sides named in a word list (single letters only when written upper-case: 'R', 'L')."""
    t = terms()
    found = set()
    for i, w in enumerate(ws):
        s = t.sides.get((w,))
        if s is None:
            continue
        if len(w) == 1 and (raw is None or raw[i] not in ("L", "R")):
            continue
        found.add(s)
    for _, _, _, side in phrase_hits(ws):
        if side:
            found.add(side)
    return found


def resolve_side(found: set) -> str | None:
    if not found:
        return None
    if "bilateral" in found or {"left", "right"} <= found:
        return "bilateral"
    return next(iter(found))


def clock_tokens(text: str, side: str | None) -> set:
    if side not in ("left", "right"):
        return set()
    out = set()
    for m in _CLOCK.finditer(text):
        h = int(m.group(1) or m.group(3)) % 12
        mins = m.group(2) or m.group(4)
        v = h + (int(mins) / 60 if mins else 0.0)
        for s, lo, hi, toks in terms().clock:
            if s == side and lo < v < hi:
                out.update(stem(x) for x in toks)
    return out


@dataclass
class Context:
    tokens: dict = field(default_factory=dict)   # title word -> weight
    side: str | None = None
    local: set = field(default_factory=set)      # words written next to the span (or implied by them)

    def add(self, toks, w: float, local: bool = False) -> None:
        for t in toks:
            t = stem(t)
            if t in IGNORE or t == "unspecified" or t in SIDES:
                continue
            if self.tokens.get(t, 0.0) < w:
                self.tokens[t] = w
            if local:
                self.local.add(t)


# negated or uncertain clauses ("no pneumothorax", "eval for retained foreign body") document nothing
_UNCERTAIN = re.compile(r"\b(?:no|not|without|negative for|eval(?:uate|uation)?(?: for)?|r/o|rule out|"
                        r"assess(?:ment)? for|question of|possible|possibly|versus|vs)\b[^,.;:()]*", re.IGNORECASE)


def _text_tokens(text: str) -> tuple[list[str], set]:
    ws = words(_UNCERTAIN.sub(" ", text))
    derived = set()
    for _, _, toks, _ in phrase_hits(ws):
        derived.update(toks)
    lit = [stem(w) for w in ws]
    if "nondisplaced" in derived:
        lit = [w for w in lit if w != "displaced"]
    return lit, derived


def build_context(local_text: str, *, side: str | None = None, sentence_text: str = "",
                  exam_text: str = "") -> Context:
    """Context from the words around a span (``local_text``), its resolved side, the whole sentence
    (further words, clock positions) and the exam title's anatomy words."""
    ctx = Context(side=side)
    lit, derived = _text_tokens(local_text)
    ctx.add(lit, W_LITERAL, local=True)
    ctx.add(derived, W_DERIVED, local=True)
    ctx.add(clock_tokens(sentence_text or local_text, side), W_LITERAL, local=True)
    if exam_text:
        lit, derived = _text_tokens(exam_text)
        ctx.add(lit, W_EXAM)
        ctx.add(derived, W_FAR)
    if sentence_text:
        lit, derived = _text_tokens(sentence_text)
        ctx.add(lit, W_FAR)
        ctx.add(derived, W_FAR)
    if side:
        ctx.tokens[side] = W_LITERAL
    return ctx


# ----------------------------------------------------------------------------------------------------
# candidate codes

@cache
def _icd():
    from .codesets.icd10cm import load_icd10cm
    return load_icd10cm()


@cache
def title_tokens(code: str) -> tuple[Counter, frozenset, frozenset]:
    """(word counts of the code's title, words that follow 'unspecified', 'no_' words of its 'without
    ...' clauses). A word of a 'without' clause is kept as 'no_<word>' (the default state, needing no
    support), so "with perforation" and "without perforation" differ."""
    desc = _icd().description(code).lower()
    # an inclusion clause of the title ("lower limb, including hip") names no axis value the code requires
    desc = re.sub(r",?\s*including\b[^,]*", " ", desc)
    neutral = set()

    def _neg(m):
        ws = [stem(w) for w in words(m.group(1)) if stem(w) not in IGNORE]
        neutral.update("no_" + w for w in ws)
        return " " + " ".join("no_" + w for w in ws) + " "

    desc = re.sub(r"\bwithout\b((?:(?!\b(?:of|with|without|in|and)\b)[^,])*)", _neg, desc)
    ws = [w if w.startswith("no_") else stem(w) for w in re.split(r"[^a-z0-9/_]+", desc) if w]
    # "unspecified joint", "unspecified quadrant": the axis word (not after a leading "Unspecified
    # fracture", "Unspecified hydronephrosis", where it qualifies the condition itself)
    free = {ws[i + 1] for i, w in enumerate(ws[:-1])
            if i > 0 and w == "unspecified" and ws[i + 1] not in IGNORE and ws[i + 1] not in SIDES}
    # "unspecified part of neck of left femur": the part of the neck is the axis (midcervical, basicervical)
    free |= {ws[i + 3] for i, w in enumerate(ws[:-3]) if w == "unspecified" and ws[i + 1:i + 3] == ["part", "of"]
             and ws[i + 3] not in IGNORE and ws[i + 3] not in SIDES}
    return Counter(w for w in ws if w not in IGNORE), frozenset(free), frozenset(neutral)


@cache
def _inclusion_tokens(code: str) -> frozenset:
    try:
        terms = _icd().inclusion_terms(code)
    except (KeyError, ValueError, AttributeError):
        return frozenset()
    return frozenset(stem(w) for t in terms for w in words(t.lower()) if stem(w) not in IGNORE and w != "nos")


@cache
def _pool(category: str) -> tuple[str, ...]:
    try:
        return tuple(_icd().billable_descendants(category))
    except (KeyError, ValueError):  # not a category of the code set
        return ()


@cache
def _category_info(category: str):
    """(code -> title word set, pairs of words that occur together in some title, all words, the set of
    title word sets) of a category."""
    pool = _pool(category)
    together, vocab = set(), set()
    sets = {}
    for c in pool:
        ws = set(title_tokens(c)[0])
        sets[c] = frozenset(ws)
        vocab |= ws
        together |= {(a, b) for a in ws for b in ws}
    return sets, frozenset(together), frozenset(vocab), frozenset(sets.values())


def _side_swap(ws: frozenset) -> set:
    """Word sets of the same title with another side."""
    out = set()
    for s in SIDES:
        if s in ws:
            for o in SIDES:
                if o != s:
                    out.add(frozenset((ws - {s}) | {o}))
    return out


def _seventh(code: str) -> str | None:
    u = code.replace(".", "")
    return u[6] if len(u) == 7 else None


def _is_fracture(code: str) -> bool:
    return "fracture" in title_tokens(code)[0]


def score(code: str, cand: str, ctx: Context) -> float | None:
    """Score of replacing ``code`` by ``cand`` (None: not allowed).

    Allowed: the original title is unspecified in some axis ('unspecified' in it), or the change is only
    the side. The words the candidate adds must be supported by the context (more supported than not; a
    'without ...' clause is the default and needs no support); a side word counts only where ICD-10-CM
    has the same title for the other side. A word of the original title that the context supports is
    never dropped; another specific word only where the candidate puts a word written next to the span
    in its place (words that never share a title: 'shaft' -> 'lower end'). A candidate that picks one of
    several values the context names ('frontal' of frontal, ethmoidal and maxillary) is not allowed."""
    orig_c, free, neutral_o = title_tokens(code)
    new_c, _, neutral = title_tokens(cand)
    _, together, vocab, titles = _category_info(code[:3])
    orig, new = frozenset(orig_c), frozenset(new_c)
    tok = ctx.tokens
    sides = set(SIDES)
    implicit = {}
    if _is_fracture(code) and "nondisplaced" not in tok:
        implicit["displaced"] = W_IMPLICIT
    added, dropped = new - orig, orig - new
    side_only = bool(added) and added <= sides and dropped <= sides
    # a fracture coded displaced by convention that the report calls nondisplaced (or the reverse)
    disp_swap = ((added - sides, dropped - sides) in (({"nondisplaced"}, {"displaced"}), ({"displaced"}, {"nondisplaced"}))
                 and next(iter(added - sides)) in ctx.local)
    if "unspecified" not in orig and not side_only and not disp_swap:
        return None
    if "other" in orig and not disp_swap and (dropped - {"unspecified"} - free - sides - neutral_o):
        # "Unspecified injury of other intra-abdominal organs" is no unspecified spleen injury: a residual
        # "other" class is specified only within itself (its words are kept)
        return None
    side_add = added & sides
    lead_unspecified = not free and _icd().description(code).lower().startswith("unspecified ")
    if lead_unspecified and "other" in added and not {t for t in added - sides - {"other"} if t in ctx.local}:
        # "Unspecified hydronephrosis" is not "Other hydronephrosis"; "intra-articular distal radius fracture" is the
        # "Other intraarticular fracture of lower end of radius" (the kind is written next to the span)
        return None
    paired = any(alt in titles for alt in _side_swap(new)) if side_add else False
    local_strong = {t for t in ctx.local if t in vocab}
    s, sup, unsup, best = 0.0, 0, 0, 0.0
    # 'ankle and foot', 'hand and fingers': one place named in two words; the report names one of them
    partners = _and_partners(cand)
    for t in added - sides:
        w = tok.get(t)
        if not w and any(tok.get(y) for y in partners.get(t, ())):
            continue
        if w:
            # one of several values named in the context: the same title with another context word
            for y in local_strong - new:
                if (t, y) not in together and frozenset((new - {t}) | {y}) in titles:
                    return None
            s += w
            sup += 1
            best = max(best, w)
        elif t in implicit:
            s += implicit[t]
        elif t in neutral:
            continue
        else:
            if t != "other" and lead_unspecified:
                # "Unspecified hydronephrosis" is no axis to fill in: another kind of the condition must be
                # documented in all its words (not "calculous" obstruction from "ureteral obstruction")
                return None
            s -= P_UNSUPPORTED_ADD
            # "Other extraarticular fracture": the residual class word needs no support of its own
            unsup += t != "other"
    for t in side_add:
        if t in tok and paired and (sup or not (added - sides - set(implicit) - neutral)):
            s += tok[t]
            best = max(best, tok[t])
        elif paired and t not in tok:
            # a side the report does not document where ICD-10-CM has the same title for the other side
            # is a guess (a fifth metacarpal fracture of no stated hand is not the right hand's)
            return None
        else:
            s -= P_UNSUPPORTED_ADD
            unsup += 1
    if unsup >= max(sup, 1) and not (side_only and best):
        return None
    if best < MIN_SUPPORT:
        return None
    for t in dropped - {"unspecified"}:
        if t in free and t in ctx.local and _side_unspecified(code, orig):
            # "unspecified popliteal vein" is unspecified in its side ("right/left popliteal vein" exist): the word
            # after 'unspecified' is the value, not an axis placeholder ("unspecified joint"); written next to the
            # span it is kept ("L popliteal DVT" is no "deep veins of left lower extremity")
            return None
        if t in free or t in neutral_o:
            continue  # the placeholder of the axis being filled in ("unspecified joint")
        if t in tok or t in implicit:
            return None
        if t in sides:
            s -= P_UNSUPPORTED_ADD
            continue
        if any((t, y) not in together for y in (added & local_strong)):
            continue  # the candidate puts a context word in its place
        s -= P_DROP_SPECIFIC
    s += B_DROP_UNSPECIFIED * max(0, orig_c["unspecified"] - new_c["unspecified"])
    # a kept or added word that a word written next to the span contradicts (never in one title with it);
    # a change of side alone keeps the rest of the title as it is
    # (a word the original title keeps too is not held against the change: staying does not remove it)
    for t in (() if side_only else added - sides - set(tok) - free - neutral - set(implicit) - {"unspecified", "other"}):
        if any((t, y) not in together for y in local_strong - new):
            s -= P_DROP_SPECIFIC
    return s


@cache
def _and_partners(code: str) -> dict:
    """Word -> the words joined to it by 'and' in ``code``'s title ('left ankle and foot': ankle <-> foot), and the
    two vertebrae of a level pair ('T11-T12 vertebra')."""
    out: dict = {}
    desc = _icd().description(code).lower()
    for a, b in re.findall(r"\b([a-z]+) and ([a-z]+)\b", desc) + re.findall(r"\b([ctl]\d{1,2})-([ctl]\d{1,2})\b", desc):
        a, b = stem(a), stem(b)
        if a not in IGNORE and b not in IGNORE:
            out.setdefault(a, set()).add(b)
            out.setdefault(b, set()).add(a)
    return out


def _side_unspecified(code: str, orig: frozenset) -> bool:
    """The 'unspecified' of ``code``'s title is its side: a sibling title reads the same with 'right' or 'left'."""
    want = {frozenset((orig - {"unspecified"}) | {s}) for s in ("right", "left")}
    return any(frozenset(title_tokens(c)[0]) in want for c in _pool(code[:3]) if c[:5] == code[:5] and c != code)


def specializes(b: str, a: str) -> bool:
    """Whether ``b`` is ``a`` with an unspecified axis filled in (same category, all of ``a``'s title
    words but 'unspecified' and the word after it, fewer 'unspecified')."""
    if not a or not b or a == b or a[:3] != b[:3] or _seventh(a) != _seventh(b):
        return False
    try:
        ta, free, _ = title_tokens(a)
        tb = title_tokens(b)[0]
    except (KeyError, ValueError):  # not a code of the code set
        return False
    if tb["unspecified"] >= ta["unspecified"] or ("other" in tb and "other" not in ta):
        return False
    return set(ta) - {"unspecified"} - free <= set(tb)


# "Acute respiratory failure, unspecified whether with hypoxia or hypercapnia", "..., unspecified as to partial
# versus complete obstruction": the title names the two values of its open axis
_CHOICE_RE = re.compile(r"\bunspecified (?:whether|as to) (?:with )?(.+?) (?:or|versus) (.+?)(?:,|$)")


def _choice_score(code: str, cand: str, ctx: Context) -> float | None:
    """Score of ``cand`` when ``code``'s title leaves an axis open between two named values (``_CHOICE_RE``) and
    ``cand`` is the title with the value the context names (and not the other): J96.00 + "hypoxic" -> J96.01,
    K56.609 + "partial" -> K56.600. None when the rule does not apply."""
    try:
        desc = _icd().description(code).lower()
    except (KeyError, ValueError, TypeError):
        return None
    m = _CHOICE_RE.search(desc)
    if not m:
        return None
    rest = {stem(w) for w in words(desc[:m.start()] + " " + desc[m.end():])} - IGNORE
    a = {stem(w) for w in words(m.group(1))} - IGNORE - rest
    b = {stem(w) for w in words(m.group(2))} - IGNORE - rest
    new = set(title_tokens(cand)[0])
    orig = set(title_tokens(code)[0])
    tok = ctx.tokens
    for pick, other in ((a, b), (b, a)):
        if not pick or (other & new) or not (pick <= new):
            continue
        if any(t in tok for t in pick) and not any(t in tok for t in other) \
                and not (new - pick - orig - {"unspecified", "cause"}) \
                and (orig - a - b - {"unspecified", "whether", "versus"}) <= new | {"unspecified"}:
            return W_LITERAL
    return None


def refine(code: str | None, ctx: Context) -> str | None:
    """The most specific billable code of ``code``'s category that the context supports (``code`` when
    no candidate is better supported)."""
    if not code:
        return code
    icd = _icd()
    try:
        if not icd.is_valid(code):
            return code
    except (KeyError, ValueError, TypeError):
        return code
    seventh = _seventh(code)
    best, best_key = code, None
    sets = _category_info(code[:3])[0]
    # the words the code already names, in its title or its inclusion terms (M54.9 "Back pain NOS"): a
    # candidate must add another ("back pain" is not "low back pain")
    orig = frozenset(title_tokens(code)[0]) | _inclusion_tokens(code)
    known = set(ctx.tokens)
    for cand in _pool(code[:3]):
        if cand == code or _seventh(cand) != seventh:
            continue
        s = _choice_score(code, cand, ctx)
        if s is None:
            if not (sets[cand] - orig) & known:
                continue  # a candidate must add a word the context supports
            s = score(code, cand, ctx)
        if s is None or s < MIN_SCORE:
            continue
        key = (s, -len(title_tokens(cand)[0]), cand)
        if best_key is None or key[:2] > best_key[:2]:
            best, best_key = cand, key
    if not ctx.side and "unspecified" in title_tokens(best)[0]:
        best = _unspecified_side_code(best, ctx) or best
    return best


_UNSPECIFIED_LATERALITY = re.compile(r"\bspecified\b.*\bwith unspecified laterality\b")


def _unspecified_side_code(code: str, ctx: Context) -> str | None:
    """ICD-10-CM codes a named digit or bone of no stated side to the "other" code whose inclusion term
    reads "... specified <bone> with unspecified laterality" (S62.338: a fifth metacarpal neck fracture,
    side not stated): that code, when a sided candidate of the category is supported but for its side."""
    seventh = _seventh(code)
    pool = [c for c in _pool(code[:3]) if _seventh(c) == seventh]
    others = [c for c in pool if any(_UNSPECIFIED_LATERALITY.search(t.lower()) for t in _icd().inclusion_terms(c))]
    if not others:
        return None
    for side in ("left", "right"):
        sided = Context(tokens={**ctx.tokens, side: W_LITERAL}, side=side, local=set(ctx.local))
        cand = refine(code, sided) if side else code
        if cand == code or side not in title_tokens(cand)[0]:
            continue
        # the "other" code of the candidate's own subcategory ("neck of other metacarpal bone")
        words = set(title_tokens(cand)[0]) - set(SIDES)
        for o in others:
            ow = set(title_tokens(o)[0])
            if o[:-2] == cand[:-2] if len(cand.replace(".", "")) == 7 else o[:-1] == cand[:-1]:
                if "other" in ow and not (ow - words - {"other"}):
                    return o
        return None
    return None


def more_documented(a: str, b: str, ctx: Context) -> bool:
    """Whether code ``a`` is no less specific than ``b`` ('unspecified' no more often) and the words of
    ``b``'s title that ``a`` lacks are not in the context while some of ``a``'s own words are."""
    ta, tb = title_tokens(a)[0], title_tokens(b)[0]
    if ta["unspecified"] > tb["unspecified"]:
        return False
    own_b = set(tb) - set(ta)
    own_a = set(ta) - set(tb)
    return not any(t in ctx.tokens for t in own_b) and any(t in ctx.tokens for t in own_a)


# ----------------------------------------------------------------------------------------------------
# a code learned from another report, made general

# 7th character of a later encounter of a fracture -> that of the initial encounter (closed A, open B)
_INITIAL_SEVENTH = {"D": "A", "G": "A", "K": "A", "P": "A", "E": "B", "H": "B", "M": "B", "Q": "B"}


def initial_encounter(code: str) -> str:
    """A fracture code of a later encounter (routine/delayed healing, nonunion, malunion: 7th character
    D/G/K/P, E/H/M/Q) as the initial encounter's code (A/B): the encounter is documented per report."""
    s = _seventh(code)
    if s not in _INITIAL_SEVENTH or not code.startswith("S"):
        return code
    try:
        if not _is_fracture(code):
            return code
        new = code[:-1] + _INITIAL_SEVENTH[s]
        return new if _icd().is_valid(new) else code
    except (KeyError, ValueError, TypeError):
        return code


def document_tokens(text: str) -> frozenset:
    """Stemmed words of a text (and the title words its mapped phrases imply) outside negated and
    uncertain clauses: what the report documents anywhere."""
    lit, derived = _text_tokens(text)
    return frozenset(lit) | frozenset(derived)


NO_COMPLICATION = "no_complication"


def generalize(code: str | None, ctx: Context, documented: frozenset = frozenset(),
               keep_clauses: bool = False) -> str | None:
    """A code learned from another report's span, with the axes that report documented and this one does
    not taken back to their default: a side other than this span's side (``ctx.side``) becomes the
    category's 'unspecified' side, a 'with ...' clause whose words ``documented`` (the report's words) and the
    span's context lack becomes its 'without ...' form (K80.01 "... with obstruction" -> K80.00), and a
    fracture's later-encounter 7th character becomes the initial encounter's (healing_code and ``refine``
    then add back what this report documents). ``keep_clauses``: 'with ...' clauses are kept (a negated
    mention documents no detail either way). The code itself when no such code of its category exists."""
    if not code:
        return code
    try:
        if not _icd().is_valid(code):
            return code
        code = initial_encounter(code)
        seventh = _seventh(code)
        orig_c = title_tokens(code)[0]
    except (KeyError, ValueError, TypeError):
        return code
    orig = set(orig_c)
    known = set(ctx.tokens) | set(documented)

    def droppable(w: str, cand_c: Counter, neutral: frozenset) -> bool:
        if w in SIDES:
            # a side this span does not have: the 'unspecified' side of the same title
            return w != ctx.side and cand_c["unspecified"] > orig_c["unspecified"]
        # a 'with ...' clause not documented here: its 'without ...' form, or the category's 'without
        # complications' code (K50.012 "Crohn's disease of small intestine with intestinal obstruction" -> K50.00)
        return not keep_clauses and (("no_" + w) in neutral or NO_COMPLICATION in neutral) and w not in known

    best, best_key = code, None
    for cand in _pool(code[:3]):
        if cand == code or _seventh(cand) != seventh:
            continue
        cand_c, _, neutral = title_tokens(cand)
        new = set(cand_c)
        dropped, added = orig - new, new - orig
        if not dropped or not all(droppable(w, cand_c, neutral) for w in dropped):
            continue
        if not all(a == "unspecified" or (a.startswith("no_") and a[3:] in dropped) or a == NO_COMPLICATION
                   for a in added):
            continue
        if cand_c["unspecified"] > orig_c["unspecified"] + sum(w in SIDES for w in dropped):
            continue  # no other axis made unspecified
        key = (len(dropped), cand)
        if best_key is None or key[0] > best_key[0]:
            best, best_key = cand, key
    return best
