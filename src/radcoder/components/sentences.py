"""Sentence splitting on radiology layout.

A sentence ends at a line break, at sentence punctuation followed by a non-lowercase token, and after a
short header ending in a colon ("FINDINGS:", "Clinical history:"). Numbered list items ("1.", "2)")
start a sentence and stay with their text. Unlike splitters that join lines, "No hemorrhage.\\n5 mm
nodule" gives two sentences, so the negation of the first never reaches the second.
"""

from __future__ import annotations

from spacy.language import Language
from spacy.tokens import Doc

MAX_HEADER_TOKENS = 5
END_PUNCT = {".", "!", "?"}
# words written with a period that does not end the sentence
ABBREVIATIONS = frozenset({"approx", "versus", "figs", "fig", "images", "series", "number",
                           "incl", "cont", "contd", "resp", "vert", "trans", "sagit", "coron"})


def _is_list_marker(doc: Doc, i: int) -> bool:
    t = doc[i]
    return t.is_digit and len(t.text) <= 2 and i + 1 < len(doc) and doc[i + 1].text in {".", ")"}


def _inline_header(doc: Doc, i: int) -> bool:
    """An ALL-CAPS header ending in a colon starts at token ``i`` ("CLINICAL INDICATION:")."""
    for j in range(i, min(i + MAX_HEADER_TOKENS, len(doc))):
        t = doc[j]
        if t.text == ":":
            return j > i
        if not (t.is_upper and t.is_alpha or t.text in {"/", "&"}):
            return False
    return False


def split_sentences(doc: Doc) -> Doc:
    n = len(doc)
    if n == 0:
        return doc
    starts = [False] * n
    starts[0] = True
    line_start = 0
    for i in range(1, n):
        prev, tok = doc[i - 1], doc[i]
        pi = i - 1  # index of ``prev``
        if tok.is_space:
            starts[i] = False
            continue
        if "\n" in prev.text or "\n" in prev.whitespace_ or (prev.is_space and "\n" in prev.text):
            starts[i] = True
            line_start = i
            continue
        if prev.is_space:
            # extra spaces inside a line ("No effusion.  IMPRESSION: ...", typed reports put two after a period)
            # are their own token: the punctuation and header rules look at the token before them
            p = i - 1
            while p > 0 and doc[p].is_space:
                p -= 1
            if doc[p].text in END_PUNCT or doc[p].text == ":":
                prev, pi = doc[p], p
            elif tok.is_upper and tok.is_alpha and _inline_header(doc, i):
                starts[i] = True  # "CT ANGIOGRAPHY CHEST  CLINICAL INDICATION: ..."
                continue
        if prev.text in END_PUNCT:
            # "2." of a numbered list: the text after the marker belongs to it
            j = pi - 1
            if j >= 0 and starts[j] and _is_list_marker(doc, j):
                continue
            if not tok.text[:1].islower():
                starts[i] = True
                continue
            # terse reports start sentences in lower case ("fever, leukocytosis. r/o abscess"): a period after
            # a full word (not an abbreviation such as "approx.", "vs.") ends the sentence
            w = doc[pi - 1] if pi >= 1 else None
            if w is not None and w.is_alpha and len(w.text) >= 5 and w.lower_ not in ABBREVIATIONS \
                    and prev.whitespace_:
                starts[i] = True
                continue
        if prev.text == ":" and (pi - line_start) <= MAX_HEADER_TOKENS:
            head = [t for t in doc[line_start:pi] if not t.is_space]
            if head and all(t.is_alpha or t.text in {"/", "-", "&"} for t in head):
                starts[i] = True
                continue
        if _is_list_marker(doc, i) and prev.text in {";", ":"}:
            starts[i] = True
    for i, t in enumerate(doc):
        t.is_sent_start = starts[i]
    return doc


@Language.factory("radcoder_sentences", assigns=["token.is_sent_start"])
def make_sentences(nlp: Language, name: str):
    return split_sentences
