"""Fit the ICD-10-CM ranker on the training split of the authored corpus."""

from __future__ import annotations

from pathlib import Path

from ..corpus import load_authored
from .features import blocked, candidate_codes, features
from .ranker import CodeRanker
from .rescoring import IcdRescorer


def ranker_rows(nlp, records):
    """Feature rows and labels for every (report, candidate) pair, using the pipeline's own rules."""
    coder = nlp.get_pipe("radcoder_coder")
    saved = coder.ranker
    coder.ranker = None
    X, y = [], []
    try:
        for rec, doc in zip(records, nlp.pipe([r["text"] for r in records])):
            mentions = coder._mentions(doc)
            from ..coding import SCREENING_RE, code_icd10, coding_view
            has_impression = any(s.label_ == "impression" for s in doc.spans.get("sections", ()))
            decisions = code_icd10(mentions, doc.text, icd=coder.tables[3], screening=bool(SCREENING_RE.search(doc.text)),
                                   has_impression=has_impression)
            gold = set(rec.get("icd10cm", []))
            mentions = coding_view(mentions, doc.text, has_impression or None)
            for c in candidate_codes(mentions, decisions):
                if blocked(c, mentions, decisions):
                    continue
                X.append(features(c, mentions, decisions, len(doc.text)))
                y.append(int(c in gold))
    finally:
        coder.ranker = saved
    return X, y


def fit_ranker(model_dir, out_dir, C: float = 0.3) -> Path:
    import spacy
    nlp = spacy.load(model_dir)
    recs = [r for r in load_authored() if r["split"] == "train" and r.get("icd10cm") is not None]
    X, y = ranker_rows(nlp, recs)
    if len(set(y)) < 2:
        raise ValueError("The ranker needs positive and negative candidates in the training split.")
    est = CodeRanker(C=C).fit(X, y)
    out = Path(out_dir)
    IcdRescorer(est).save(out)
    return out
