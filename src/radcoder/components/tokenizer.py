"""Tokenizer for radiology text.

Fixes what spaCy's default English tokenizer splits badly in reports:
- slash abbreviations stay one token: ``w/o``, ``w/``, ``b/l``, ``s/p``, ``r/o``, ``h/o``, ``PA/lat``, ``abd/pelvis``;
- spine levels stay one token: ``L4-L5``, ``C5-6``, ``T12-L1``;
- hyphenated words stay one token (``T2-weighted``, ``x-ray``, ``CT-guided``, ``non-contrast``);
- dates stay one token (``10/12/2025``);
- dimensions are split: ``3.2x1.5cm`` -> ``3.2 x 1.5 cm``;
- a colon after a header is split from it (``IMPRESSION:1.`` -> ``IMPRESSION : 1.``).
"""

from __future__ import annotations

import re

import spacy
from spacy.lang.char_classes import ALPHA, ALPHA_LOWER, ALPHA_UPPER, CONCAT_QUOTES, LIST_ELLIPSES, LIST_ICONS
from spacy.tokenizer import Tokenizer
from spacy.util import compile_infix_regex, compile_prefix_regex, compile_suffix_regex, registry

SLASH_ABBREVIATIONS = (
    "w/o", "w/", "b/l", "s/p", "r/o", "h/o", "c/o", "f/u", "n/v", "a/p", "pa/lat", "ap/lat", "pa/lateral", "w/wo",
    "w/ and w/o", "abd/pelvis", "abd/pel", "y/o", "yo", "d/c", "c/w", "r/t", "l/s", "t/l", "n/a", "w/w/o", "wo/w",
    "pet/ct", "spect/ct", "hx/o", "u/s", "x/r",
)
TOKEN_MATCH = re.compile(
    r"^(?:"
    r"[CTLS]\d{1,2}-[CTLS]?\d{1,2}"            # spine levels L4-L5, C5-6
    r"|\d{1,2}/\d{1,2}/\d{2,4}"                 # dates
    r"|(?i:(?:" + "|".join(re.escape(a) for a in sorted(SLASH_ABBREVIATIONS, key=len, reverse=True)
                          if " " not in a) + r"))"
    r")$"
)


def _infixes():
    return (
        LIST_ELLIPSES + LIST_ICONS + [
            r"(?<=[0-9])[+\-\*^](?=[0-9-])",
            rf"(?<=[{ALPHA_LOWER}{CONCAT_QUOTES}])\.(?=[{ALPHA_UPPER}{CONCAT_QUOTES}])",
            rf"(?<=[{ALPHA}]),(?=[{ALPHA}0-9])",
            rf"(?<=[0-9]),(?=[{ALPHA}])",
            # hyphens between letters are NOT split (x-ray, T2-weighted, CT-guided)
            rf"(?<=[{ALPHA}0-9])[:<>=](?=[{ALPHA}0-9])",
            r"(?<=[0-9])(?:x|X|×)(?=[0-9.])",          # 3.2x1.5
            r"(?<=[0-9])(?=(?:cm|mm|ml|mL|cc|mCi|MBq|mSv|mGy)\b)",
            rf"(?<=[{ALPHA}])/(?=[{ALPHA}])",   # cough/fever -> cough / fever (abbreviations via token_match)
            rf"(?<=[{ALPHA}0-9])--(?=[{ALPHA}])",
        ]
    )


def build_tokenizer(nlp) -> Tokenizer:
    defaults = nlp.Defaults
    prefixes = list(defaults.prefixes)
    suffixes = list(defaults.suffixes) + [r"(?<=[0-9])(?:cm|mm|ml|mL|cc)$", r":$", r"(?<=[0-9][A-Za-z])\.$", r"(?<=^[A-Z])\.$", r"(?<=[A-Za-z])-$"]
    infix_re = compile_infix_regex(_infixes())
    rules = dict(defaults.tokenizer_exceptions)
    # the default exceptions split some forms we want whole, or keep others whole that we want split
    for k in list(rules):
        if "/" in k or k[:1] in ":;=" or re.fullmatch(r"[A-Za-z]\.", k):
            rules.pop(k)
    return Tokenizer(
        nlp.vocab,
        rules=rules,
        prefix_search=compile_prefix_regex(prefixes).search,
        suffix_search=compile_suffix_regex(suffixes).search,
        infix_finditer=infix_re.finditer,
        token_match=TOKEN_MATCH.match,
        url_match=None,
    )


@registry.tokenizers("radcoder.tokenizer.v1")
def create_radiology_tokenizer():
    def create(nlp):
        return build_tokenizer(nlp)
    return create


def blank(lang: str = "en") -> spacy.Language:
    """A blank pipeline with the radiology tokenizer (for tests and training)."""
    return spacy.blank(lang, config={"nlp": {"tokenizer": {"@tokenizers": "radcoder.tokenizer.v1"}}})
