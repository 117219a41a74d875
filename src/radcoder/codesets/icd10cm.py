"""Fast, immutable index over the ICD-10-CM code set.

Source data
-----------
The code set is the current CMS ICD-10-CM release (April 2026 / FY2026) as shipped
in the data files of the ``simple-icd-10-cm`` package:

* ``code-list-April-2026.txt`` -- every valid item, undotted: chapters ("1".."22"),
  blocks ("A00-A09"), categories, subcategories and the 7th-character extended codes.
* ``icd10c-tabular-April-1-2026.xml`` -- the CMS tabular list (descriptions,
  inclusion terms, Excludes1 notes, 7th-character definitions).

We never *import* ``simple_icd_10_cm`` (its ``__init__`` builds a full tree: ≈2.4 s
and ≈190 MB peak RSS in a fresh process here); we only read its two data files and
build our own index once, streaming the XML with ``xml.etree.ElementTree.iterparse``
and keeping only what the coder needs (descriptions, inclusion terms, Excludes1
notes, 7th-character tables; no Excludes2/code-first/use-additional notes).
Measured on the 2-core dev box (``benchmarks/bench_codesets.py``,
``benchmarks/results/codesets.json``): a fresh interpreter that imports this module
and calls :func:`load_icd10cm` takes ≈0.65-0.75 s and ≈60-65 MB peak RSS when the
``radcoder`` package ``__init__`` is bypassed; lookups take ≈1-5 µs. That is inside
the 1.5 s / 250 MB budget, so no prebuilt index is shipped and the index can never
drift from the installed package's files. NOTE: ``radcoder/__init__`` currently
imports spaCy (≈0.7-1.2 s, ≈95 MB) and every ``radcoder.*`` import pays for it.

Model
-----
* *valid*: listed in the code list (this includes chapters and blocks, like
  ``simple_icd_10_cm.is_valid_item``). Built as tabular items + the code list's
  7th-character codes, which for FY2026 is exactly the code list (tested).
* *billable*: a category, subcategory or 7th-character extended code that has no
  children. A subcategory that needs a 7th character (``S72.001``) has extended
  children (``S72.001A`` ...) and is therefore not billable.
* Parents follow the tabular: extended code -> the code the 7th character was
  appended to (``S02.0XXA`` -> ``S02.0``, placeholders dropped), subcategory ->
  subcategory/category, category -> block, block -> chapter. Blocks that hold a
  single category of the same name (``B99``, ``C7A`` ...) are folded into that
  category, so ``parent("B99")`` is the chapter.

All codes returned by the API are dotted (``"R05.9"``); every lookup accepts dotted
or undotted input in any case, with surrounding whitespace.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import re
import threading
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import MappingProxyType

from ..errors import RadcoderError

__all__ = [
    "CODE_LIST_FILE",
    "TABULAR_FILE",
    "Icd10cm",
    "UnknownCodeError",
    "load_icd10cm",
    "normalize",
    "undotted",
]

CODE_LIST_FILE = "code-list-April-2026.txt"
TABULAR_FILE = "icd10c-tabular-April-1-2026.xml"
_PACKAGE = "simple_icd_10_cm"
_SOURCE_DIST = "simple-icd-10-cm"
_RELEASE_LABEL = "ICD-10-CM April 2026 (FY2026)"

# node kinds
CHAPTER, BLOCK, CATEGORY, SUBCATEGORY, EXTENDED = (
    "chapter",
    "block",
    "category",
    "subcategory",
    "extended subcategory",
)
_CODE_KINDS = frozenset({CATEGORY, SUBCATEGORY, EXTENDED})

_EMPTY: tuple = ()
_EMPTY_MAP: Mapping[str, str] = MappingProxyType({})


# --------------------------------------------------------------------------- #
# normalisation
# --------------------------------------------------------------------------- #
def normalize(code: str) -> str:
    """Canonical dotted, upper-case form: ``" r059 "`` -> ``"R05.9"``.

    Codes of three characters or fewer, chapters (``"18"``) and blocks
    (``"R00-R09"``) are only stripped and upper-cased. Any dots are removed and a
    single dot is re-inserted after the third character.
    """
    if not isinstance(code, str):
        raise TypeError(f"ICD-10-CM code must be a str, got {type(code).__name__}: {code!r}")
    c = code.strip().upper()
    if "-" in c:
        return c
    if "." in c:
        c = c.replace(".", "")
    if len(c) > 3:
        return c[:3] + "." + c[3:]
    return c


def undotted(code: str) -> str:
    """Normalised code without the dot: ``"r05.9"`` -> ``"R059"``."""
    return normalize(code).replace(".", "")


class UnknownCodeError(RadcoderError, KeyError):
    """Raised when a lookup receives something that is not an ICD-10-CM code.

    A ``KeyError`` (lookups are mapping-like) and a :class:`radcoder.errors.RadcoderError`.
    """

    def __init__(self, received: object, normalized: str | None = None):
        self.received = received
        self.normalized = normalized
        shown = repr(received)
        if normalized is not None and normalized != received:
            shown += f" (normalized to {normalized!r})"
        msg = (
            f"{shown} is not a valid {_RELEASE_LABEL} code. A valid code is a letter, "
            "a digit and a digit or letter, optionally followed by a dot and 1-4 more "
            "characters, e.g. 'R05.9', 'J18.9', 'S72.001A' (dots and case are optional: "
            "'r059'); blocks look like 'J09-J18' and chapters like '10'."
        )
        super().__init__(msg)
        self.message = msg

    def __str__(self) -> str:  # KeyError would repr() the message
        return self.message


# --------------------------------------------------------------------------- #
# Excludes1 code references
# --------------------------------------------------------------------------- #
# A code reference inside a note: "J18.-", "K35.2-", "E10", "J70.2", "O9A.1-", "I69.".
_REF_CODE = r"[A-Z][0-9][0-9A-Z](?:\.[0-9A-Z]{0,4})?-?"
_REF_RE = re.compile(
    rf"(?<![A-Za-z0-9-])({_REF_CODE})(?:\s*(?:-|\bto\b)\s*({_REF_CODE}))?(?![A-Za-z0-9])"
)
_PAREN_RE = re.compile(r"\(([^()]*)\)")
_WITH_RE = re.compile(r"\s*-?\s*with\b\s*(.*)", re.DOTALL)
_ORDINALS = {
    "fourth": 3, "4th": 3, "fifth": 4, "5th": 4, "sixth": 5, "6th": 5, "seventh": 6, "7th": 6,
}
_Q_SUFFIX_RE = re.compile(r"^\.([0-9A-Z]+)-?(?:\s*-\s*\.([0-9A-Z]+)-?)?\s*$")
_Q_POS_RE = re.compile(
    r"^(fourth|4th|fifth|5th|sixth|6th|seventh|7th)[- ]characters?\s+\.?([0-9A-Z])\s*$", re.IGNORECASE
)
_Q_SPAN_RE = re.compile(
    r"^(fourth|4th|fifth|5th|sixth|6th)\s+to\s+(fifth|5th|sixth|6th|seventh|7th)"
    r"\s+characters?\s+([0-9A-Z]+)\s*$",
    re.IGNORECASE,
)
_Q_FINAL_RE = re.compile(r"^final characters?\s+-?([0-9A-Z]+)\s*$", re.IGNORECASE)

# A reference is (lo, hi, qualifier): undotted prefixes plus an optional constraint
# on the remaining characters, e.g. "(E08-E13 with .44)" -> ("E08", "E13", ("sfx", "44", "44")).
Ref = tuple


def _ref_key(ref: str) -> str:
    """Undotted prefix for a reference: "J18.-" -> "J18", "K35.2-" -> "K352"."""
    return ref.rstrip("-").replace(".", "")


def _parse_qualifier(text: str):
    """Qualifier after "with" in "(E08-E13 with .44)"; ``False`` if not understood."""
    text = text.strip()
    m = _Q_SUFFIX_RE.match(text)
    if m:
        lo = m.group(1)
        return ("sfx", lo, m.group(2) or lo)
    m = _Q_POS_RE.match(text)
    if m:
        return ("pos", _ORDINALS[m.group(1).lower()], m.group(2))
    m = _Q_SPAN_RE.match(text)
    if m:
        return ("pos", _ORDINALS[m.group(1).lower()], m.group(3))
    m = _Q_FINAL_RE.match(text)
    if m:
        return ("end", m.group(1))
    return False


def _refs_in(segment: str) -> list[Ref]:
    matches = list(_REF_RE.finditer(segment))
    if not matches:
        return []
    qual = None
    w = _WITH_RE.match(segment, matches[-1].end())
    if w:
        qual = _parse_qualifier(w.group(1))
        if qual is False:
            # "(E08-E10, E11, E13 with ketoacidosis)", "(S52.- with open fracture 7th
            # character)": a constraint we cannot evaluate -> no reference rather than
            # a too-broad one.
            return []
    out = []
    for m in matches:
        lo = _ref_key(m.group(1))
        hi = _ref_key(m.group(2)) if m.group(2) else lo
        out.append((lo, hi, qual))
    return out


def parse_code_refs(note: str) -> tuple[Ref, ...]:
    """Code references in an Excludes note as undotted ``(lo, hi, qualifier)`` ranges.

    ``"(J18.-)"`` -> ``("J18", "J18", None)``; ``"(E10-E13)"`` -> ``("E10", "E13", None)``;
    ``"(N48.1, N48.2-)"`` -> two refs; ``"(E08-E13 with .44)"`` -> ``("E08", "E13",
    ("sfx", "44", "44"))``; ``"(I69. with final characters -23)"`` -> ``("I69", "I69",
    ("end", "23"))``. Parenthesised groups are read first (that is where the tabular
    puts code references); a note without any falls back to code-like tokens in its
    text ("... classifiable to K56.-", "... C91.0-C95.9 with 5th character 1").
    Qualifiers we cannot evaluate ("with ketoacidosis") drop the reference.
    A code ``b`` falls under ``(lo, hi, q)`` when ``lo <= b[:len(lo)]`` and
    ``b[:len(hi)] <= hi`` on undotted strings (a prefix match for a single code) and
    ``q`` holds for ``b``.
    """
    out: list[Ref] = []
    groups = _PAREN_RE.findall(note)
    found = False
    for g in groups:
        refs = _refs_in(g)
        if refs or _REF_RE.search(g):
            found = True
        out.extend(refs)
    if not found:
        out.extend(_refs_in(note))
    return tuple(dict.fromkeys(out))


def _qual_ok(code_u: str, q) -> bool:
    if q[0] == "sfx":
        lo, hi = q[1], q[2]
        tail = code_u[3:]
        return lo <= tail[: len(lo)] and tail[: len(hi)] <= hi
    if q[0] == "pos":
        i, chars = q[1], q[2]
        return code_u[i : i + len(chars)] == chars
    return code_u.endswith(q[1])  # "end"


def _falls_under(code_u: str, refs: tuple[Ref, ...]) -> bool:
    for lo, hi, q in refs:
        if lo <= code_u[: len(lo)] and code_u[: len(hi)] <= hi and (q is None or _qual_ok(code_u, q)):
            return True
    return False


# --------------------------------------------------------------------------- #
# search helpers
# --------------------------------------------------------------------------- #
_TOKEN_RE = re.compile(r"[a-z0-9]+")
# ICD residual phrases that say nothing about the condition itself.
_RESIDUAL_RE = re.compile(
    r"\b(?:in diseases classified elsewhere|not elsewhere classified|classified elsewhere"
    r"|(?:unspecified|other specified|other) organisms?)\b"
)
# Function words plus ICD residual words.
_STOPWORDS = frozenset({
    "a", "an", "and", "as", "at", "by", "for", "from", "in", "into", "of", "on", "or",
    "other", "the", "to", "with", "without",
    "unspecified", "specified", "nos", "nec", "due",
})


def _tokens(text: str) -> tuple[frozenset[str], int]:
    """(content tokens, raw token count) of a text."""
    low = text.lower()
    raw = _TOKEN_RE.findall(low)
    toks = _TOKEN_RE.findall(_RESIDUAL_RE.sub(" ", low))
    content = [t for t in toks if t not in _STOPWORDS]
    return frozenset(content if content else raw), len(raw)


# --------------------------------------------------------------------------- #
# the index
# --------------------------------------------------------------------------- #
class Icd10cm:
    """Immutable ICD-10-CM index. Build it with :func:`load_icd10cm`.

    Internal tables are keyed by the dotted code. Every public collection returned
    is a tuple, frozenset or ``MappingProxyType``.
    """

    __slots__ = (
        "_billable",
        "_children",
        "_desc",
        "_excl1",
        "_excl1_refs",
        "_incl",
        "_kind",
        "_parent",
        "_search_index",
        "_search_lock",
        "_seven",
        "release",
    )

    release: str

    def __init__(self, *_a, **_k):
        raise TypeError("Icd10cm is built by load_icd10cm(); do not instantiate it directly")

    @classmethod
    def _create(cls, **fields) -> Icd10cm:
        self = object.__new__(cls)
        for k, v in fields.items():
            object.__setattr__(self, k, v)
        object.__setattr__(self, "_search_index", None)
        object.__setattr__(self, "_search_lock", threading.Lock())
        return self

    def __setattr__(self, name, value):
        raise AttributeError(f"Icd10cm is immutable; cannot set {name!r}")

    def __delattr__(self, name):
        raise AttributeError(f"Icd10cm is immutable; cannot delete {name!r}")

    def __reduce__(self):
        # Pickling re-uses the process-wide cached index on the other side.
        return (load_icd10cm, ())

    def __repr__(self) -> str:
        return f"<Icd10cm {self.release!r}: {len(self._billable)} billable codes>"

    # ---------------------------------------------------------------- lookup
    def _key(self, code: str) -> str | None:
        if not isinstance(code, str):
            return None
        c = normalize(code)
        return c if c in self._kind else None

    def _require(self, code: str) -> str:
        if not isinstance(code, str):
            raise UnknownCodeError(code)
        c = normalize(code)
        if c not in self._kind:
            raise UnknownCodeError(code, c)
        return c

    def is_valid(self, code: str) -> bool:
        """True for any item in the code list (incl. chapters "1".."22" and blocks)."""
        return self._key(code) is not None

    def is_billable(self, code: str) -> bool:
        """True for a leaf category/subcategory/extended code (e.g. R05.9, S72.001A)."""
        if not isinstance(code, str):
            return False
        return normalize(code) in self._billable

    def kind(self, code: str) -> str:
        """One of "chapter", "block", "category", "subcategory", "extended subcategory"."""
        return self._kind[self._require(code)]

    def description(self, code: str) -> str:
        """Tabular description; 7th-character codes get "<parent>, <7th-char meaning>"."""
        c = self._require(code)
        d = self._desc.get(c)
        if d is not None:
            return d
        # extended code: composed the way the CMS long titles are
        base = self._parent[c]
        return f"{self._desc[base]}, {self.seven_chr_def(base)[c[-1]]}"

    def inclusion_terms(self, code: str) -> tuple[str, ...]:
        """Inclusion terms listed under the code (extended codes: those of their base code)."""
        c = self._require(code)
        if self._kind[c] == EXTENDED:
            c = self._parent[c]
        return self._incl.get(c, _EMPTY)

    # ------------------------------------------------------------- hierarchy
    def parent(self, code: str) -> str | None:
        """Parent item (code, block or chapter); ``None`` for chapters."""
        return self._parent.get(self._require(code))

    def ancestors(self, code: str) -> tuple[str, ...]:
        """Nearest first, ending with the chapter: J18.9 -> (J18, J09-J18, 10)."""
        c = self._require(code)
        out = []
        p = self._parent.get(c)
        while p is not None:
            out.append(p)
            p = self._parent.get(p)
        return tuple(out)

    def children(self, code: str) -> tuple[str, ...]:
        return self._children.get(self._require(code), _EMPTY)

    def billable_descendants(self, code: str) -> tuple[str, ...]:
        """Billable codes at or under ``code`` in tabular order (the code itself if billable)."""
        c = self._require(code)
        out: list[str] = []
        stack = [c]
        while stack:
            n = stack.pop()
            if n in self._billable:
                out.append(n)
            kids = self._children.get(n)
            if kids:
                stack.extend(reversed(kids))
        return tuple(out)

    def iter_billable(self) -> Iterator[str]:
        """All billable codes in tabular order."""
        return iter(self._billable)

    def __contains__(self, code: object) -> bool:
        return isinstance(code, str) and self._key(code) is not None

    def __len__(self) -> int:
        return len(self._billable)

    # -------------------------------------------------------- 7th characters
    def _seven_owner(self, c: str) -> str | None:
        n: str | None = c
        while n is not None:
            if n in self._seven:
                return n
            n = self._parent.get(n)
        return None

    def seven_chr_def(self, code: str) -> Mapping[str, str]:
        """7th character -> meaning, defined at the code or inherited from an ancestor."""
        owner = self._seven_owner(self._require(code))
        return self._seven[owner] if owner is not None else _EMPTY_MAP

    def requires_7th(self, code: str) -> bool:
        """True when the code still needs a 7th character to be reportable (S72.001, S72)."""
        c = self._require(code)
        if self._kind[c] not in (CATEGORY, SUBCATEGORY) or c in self._billable:
            return False
        return self._seven_owner(c) is not None

    # -------------------------------------------------------------- excludes
    def excludes1(self, code: str) -> tuple[str, ...]:
        """Raw Excludes1 note texts at the code and its ancestors (nearest first)."""
        c = self._require(code)
        out: list[str] = []
        n: str | None = c
        while n is not None:
            out.extend(self._excl1.get(n, _EMPTY))
            n = self._parent.get(n)
        return tuple(out)

    def _refs_chain(self, c: str):
        n: str | None = c
        while n is not None:
            r = self._excl1_refs.get(n)
            if r:
                yield r
            n = self._parent.get(n)

    def excludes1_conflict(self, a: str, b: str) -> bool:
        """True if an Excludes1 note on ``a`` (or its ancestors) names a code/range that
        ``b`` falls under, or vice versa. References are parsed from the note text
        ("(J18.-)", "(E10-E13)", "(K35.2-)", "(N48.1, N48.2-)", "(E08-E13 with .44)",
        "(I69. with final characters -23)"; see :func:`parse_code_refs`). Notes without
        a usable code reference ("disorders of:", "- see nerve injury by body region",
        "... with ketoacidosis") are ignored. A code never conflicts with itself.
        """
        ca, cb = self._require(a), self._require(b)
        if ca == cb:
            return False
        ua, ub = ca.replace(".", ""), cb.replace(".", "")
        for refs in self._refs_chain(ca):
            if _falls_under(ub, refs):
                return True
        for refs in self._refs_chain(cb):
            if _falls_under(ua, refs):
                return True
        return False

    # ---------------------------------------------------------------- search
    def _build_search_index(self):
        import numpy as np  # search only; keeps numpy off the load path

        with self._search_lock:
            if self._search_index is not None:
                return self._search_index
            cache: dict[str, tuple[frozenset[str], int]] = {}

            def toks_of(text: str) -> tuple[frozenset[str], int]:
                r = cache.get(text)
                if r is None:
                    r = cache[text] = _tokens(text)
                return r

            codes = tuple(self._billable)
            postings: dict[str, list[int]] = {}
            f_code: list[int] = []  # field -> code index
            f_ntok: list[int] = []  # content tokens in the field
            f_nraw: list[int] = []  # raw tokens in the field (tie-break: shorter first)
            for ci, code in enumerate(codes):
                fields: list[tuple[frozenset[str], int]] = []
                if self._kind[code] == EXTENDED:
                    base = self._parent[code]
                    bt, bn = toks_of(self._desc[base])
                    mt, mn = toks_of(self.seven_chr_def(base)[code[-1]])
                    # the composed title, and the base description alone so that
                    # "fracture of vault of skull" matches S02.0XXA as well as S02.0XXB
                    fields.append((bt | mt, bn + mn))
                    fields.append((bt, bn))
                    texts = self._incl.get(base, _EMPTY)
                else:
                    fields.append(toks_of(self._desc[code]))
                    texts = self._incl.get(code, _EMPTY)
                fields.extend(toks_of(t) for t in texts)
                for toks, nraw in fields:
                    if not toks:
                        continue
                    i = len(f_code)
                    f_code.append(ci)
                    f_ntok.append(len(toks))
                    f_nraw.append(nraw)
                    for tok in toks:
                        lst = postings.get(tok)
                        if lst is None:
                            postings[tok] = [i]
                        else:
                            lst.append(i)
            # rank of each code by (length, code) for the final tie-break
            order = sorted(range(len(codes)), key=lambda k: (len(codes[k]), codes[k]))
            code_rank = np.empty(len(codes), dtype=np.int32)
            code_rank[order] = np.arange(len(codes), dtype=np.int32)
            frozen = []
            for arr in (f_code, f_ntok, f_nraw):
                a = np.asarray(arr, dtype=np.int32)
                a.flags.writeable = False
                frozen.append(a)
            code_rank.flags.writeable = False
            plist = {}
            for k, v in postings.items():
                a = np.asarray(v, dtype=np.int32)
                a.flags.writeable = False
                plist[k] = a
            index = (MappingProxyType(plist), codes, *frozen, code_rank)
            object.__setattr__(self, "_search_index", index)
            return index

    def search(self, query: str, limit: int = 10) -> list[tuple[str, float]]:
        """Rank billable codes by token overlap with their description/inclusion terms.

        Score of a code = best Dice overlap ``2|q∩f| / (|q|+|f|)`` over its text fields
        (description, each inclusion term; for 7th-character codes also the base
        description alone), on lower-cased alphanumeric tokens with function words and
        ICD residual words/phrases ("unspecified", "other", "NOS", "unspecified
        organism", "in diseases classified elsewhere" ...) dropped. Ties are broken by
        the field's raw length (shorter, i.e. less specific, first), then code length
        and code, so the order is deterministic. The token index is built on first
        use (≈1 s; numpy is imported then) and searches take ≈1 ms.
        """
        import numpy as np

        if not isinstance(query, str):
            raise TypeError(f"query must be a str, got {type(query).__name__}")
        q, _ = _tokens(query)
        if not q or limit <= 0:
            return []
        postings, codes, f_code, f_ntok, f_nraw, code_rank = (
            self._search_index or self._build_search_index()
        )
        hits = [postings[t] for t in q if t in postings]
        if not hits:
            return []
        fids, ov = np.unique(np.concatenate(hits), return_counts=True)
        score = 2.0 * ov / (len(q) + f_ntok[fids])
        fcode = f_code[fids]
        nraw = f_nraw[fids]
        # best field per code: sort by code, then score desc, then raw length
        o = np.lexsort((nraw, -score, fcode))
        fcode, score, nraw = fcode[o], score[o], nraw[o]
        first = np.ones(len(fcode), dtype=bool)
        first[1:] = fcode[1:] != fcode[:-1]
        fcode, score, nraw = fcode[first], score[first], nraw[first]
        o = np.lexsort((code_rank[fcode], nraw, -score))[:limit]
        return [(codes[int(c)], round(float(sc), 6)) for c, sc in zip(fcode[o], score[o])]


# --------------------------------------------------------------------------- #
# building
# --------------------------------------------------------------------------- #
def data_dir() -> Path:
    """Directory holding simple-icd-10-cm's data files, located WITHOUT importing it.

    ``importlib.resources.files("simple_icd_10_cm.data")`` would import the parent
    package, whose ``__init__`` builds its whole tree (≈1.6 s, ≈125 MB), so we ask the
    import system for the package location only (``find_spec`` of a top-level
    package does not execute it).
    """
    spec = importlib.util.find_spec(_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(
            f"{_SOURCE_DIST} is not installed; radcoder reads the ICD-10-CM data files "
            f"shipped with it (pip install '{_SOURCE_DIST}>=1.5,<2')"
        )
    for loc in spec.submodule_search_locations:
        d = Path(loc) / "data"
        if (d / CODE_LIST_FILE).is_file() and (d / TABULAR_FILE).is_file():
            return d
    raise FileNotFoundError(
        f"{_SOURCE_DIST} is installed but {CODE_LIST_FILE} / {TABULAR_FILE} were not found "
        f"under {list(spec.submodule_search_locations)}; radcoder expects the April 2026 "
        "release (simple-icd-10-cm 1.5.x)"
    )


def source_files() -> dict[str, Path]:
    d = data_dir()
    return {CODE_LIST_FILE: d / CODE_LIST_FILE, TABULAR_FILE: d / TABULAR_FILE}


def source_sha256() -> dict[str, str]:
    """sha256 of the two source files (provenance; not computed on the load path)."""
    out = {}
    for name, p in source_files().items():
        out[name] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def _dist_version() -> str:
    """Installed simple-icd-10-cm version, from its dist-info folder name when possible
    (``importlib.metadata`` alone costs ≈25 ms of import time)."""
    spec = importlib.util.find_spec(_PACKAGE)
    for loc in (spec.submodule_search_locations or []) if spec else []:
        infos = list(Path(loc).parent.glob(f"{_PACKAGE}-*.dist-info"))
        if len(infos) == 1:
            return infos[0].name[len(_PACKAGE) + 1 : -len(".dist-info")]
    try:  # pragma: no cover - e.g. egg installs
        from importlib.metadata import version

        return version(_SOURCE_DIST)
    except (ImportError, LookupError, OSError):  # pragma: no cover
        return "unknown"


def _note_texts(elem) -> tuple[str, ...]:
    return tuple(n.text.strip() for n in elem if n.tag == "note" and n.text and n.text.strip())


def _parse_tabular(path: Path):
    """Stream the tabular XML. Returns per-node tables keyed by the dotted code."""
    kind: dict[str, str] = {}
    parent: dict[str, str] = {}
    children: dict[str, tuple[str, ...]] = {}
    desc: dict[str, str] = {}
    incl: dict[str, tuple[str, ...]] = {}
    excl1: dict[str, tuple[str, ...]] = {}
    seven: dict[str, Mapping[str, str]] = {}

    # Only "end" events: a node's children ends arrive before the node's own end, so
    # when a node closes we link the already-processed child nodes (which we cleared
    # and tagged with their code in the "id" attribute) to it.
    # (The leading <introduction> holds no chapter/section/diag elements.)
    for _event, el in ET.iterparse(str(path), events=("end",)):
        tag = el.tag
        if tag not in ("diag", "section", "chapter"):
            continue
        if tag == "diag":
            code = el.findtext("name").strip()
            k = CATEGORY if len(code) == 3 else SUBCATEGORY
        elif tag == "section":
            code = el.get("id").strip()
            k = BLOCK
        else:
            code = el.findtext("name").strip()
            k = CHAPTER
        kids = [sub.get("id") for sub in el if sub.tag == "diag" or sub.tag == "section"]
        folded = k == BLOCK and len(kids) == 1 and kids[0] == code
        for sub in el:
            st = sub.tag
            if st == "desc":
                # a folded single-category block (B99, C7A, Z68 ...) keeps the
                # category's description; its notes are merged into the category's
                if sub.text and not folded:
                    desc[code] = sub.text.strip()
            elif st == "inclusionTerm":
                incl[code] = incl.get(code, _EMPTY) + _note_texts(sub)
            elif st == "excludes1":
                excl1[code] = excl1.get(code, _EMPTY) + _note_texts(sub)
            elif st == "sevenChrDef":
                d: dict[str, str] = {}
                for ext in sub:
                    if ext.tag == "extension" and ext.get("char"):
                        d[ext.get("char")] = (ext.text or "").strip()
                seven[code] = MappingProxyType(d)
        el.clear()
        el.set("id", code)
        if folded:
            # the category stands in for its block; its parent becomes the chapter
            continue
        kind[code] = k
        for c in kids:
            parent[c] = code
        if kids:
            children[code] = tuple(kids)
    return kind, parent, children, desc, incl, excl1, seven


def _read_code_list(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").split()


def _build() -> Icd10cm:
    files = source_files()
    kind, parent, children, desc, incl, excl1, seven = _parse_tabular(files[TABULAR_FILE])

    listed = _read_code_list(files[CODE_LIST_FILE])
    ext_children: dict[str, list[str]] = {}
    for raw in listed:
        # entries are upper-case and undotted; inline normalize() (≈0.2 s saved)
        if len(raw) <= 3 or "-" in raw:
            c = raw
        elif "." in raw or not raw.isupper():
            c = normalize(raw)
        else:
            c = raw[:3] + "." + raw[3:]
        if c in kind:
            continue
        # 7th-character extended code: attach to the code the character extends,
        # dropping placeholder X's ("S02.0XXA" -> "S02.0").
        base = c[:-1]
        while base not in kind:
            if base.endswith(("X", ".")):
                base = base[:-1]
            else:
                raise ValueError(f"code list entry {raw!r} has no parent in the tabular")
        kind[c] = EXTENDED
        parent[c] = base
        ext_children.setdefault(base, []).append(c)
    for base, kids in ext_children.items():
        if base in children:  # pragma: no cover - does not happen in FY2026
            children[base] = children[base] + tuple(kids)
        else:
            children[base] = tuple(kids)

    # valid = tabular items + listed 7th-character codes (as in simple_icd_10_cm); for
    # FY2026 this is exactly the code list (checked in tests/codesets/test_icd10cm.py).

    # billable = leaf codes, in tabular (pre-)order
    billable: dict[str, None] = {}
    stack = [c for c in kind if kind[c] == CHAPTER][::-1]
    stack.sort(key=int, reverse=True)
    while stack:
        n = stack.pop()
        kids = children.get(n)
        if kids:
            stack.extend(reversed(kids))
        elif kind[n] in _CODE_KINDS:
            billable[n] = None

    excl1_refs = {}
    for c, notes in excl1.items():
        refs: list[Ref] = []
        for note in notes:
            for r in parse_code_refs(note):
                if r not in refs:
                    refs.append(r)
        if refs:
            excl1_refs[c] = tuple(refs)

    release = f"{_RELEASE_LABEL}, via simple-icd-10-cm {_dist_version()}"
    return Icd10cm._create(
        release=release,
        _kind=MappingProxyType(kind),
        _parent=MappingProxyType(parent),
        _children=MappingProxyType(children),
        _desc=MappingProxyType(desc),
        _incl=MappingProxyType(incl),
        _excl1=MappingProxyType(excl1),
        _excl1_refs=MappingProxyType(excl1_refs),
        _seven=MappingProxyType(seven),
        _billable=MappingProxyType(billable),
    )


@functools.lru_cache(maxsize=1)
def load_icd10cm() -> Icd10cm:
    """The ICD-10-CM index, built once per process from simple-icd-10-cm's data files."""
    return _build()
