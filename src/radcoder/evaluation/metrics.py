"""Pure evaluation metrics over plain Python sequences (no Docs, no files, no printing).

Conventions shared by every function here:

* Inputs are aligned per-document sequences; mismatched lengths raise ``ValueError``
  naming both lengths.
* Undefined ratios (0/0) take ``zero_division`` (default ``0.0``), as scikit-learn does.
* F1 is computed as ``2·tp / (2·tp + fp + fn)``, which equals the harmonic mean of
  precision and recall whenever both are defined.
* "Macro" averages are taken over the labels that occur in the gold standard OR in the
  predictions (support > 0 or at least one prediction); labels that appear nowhere do not
  dilute the average. With labels fitted on gold ∪ predictions this equals scikit-learn's
  ``average="macro"``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..schema import ASSERTIONS
from .matching import get_matcher

__all__ = [
    "Counts",
    "assertion_scores",
    "auto_code_curve",
    "bootstrap_ci",
    "code_scores",
    "count_sets",
    "cpt_line_scores",
    "expected_calibration_error",
    "first_listed_accuracy",
    "micro_macro",
    "mrr",
    "paired_bootstrap",
    "per_label_counts",
    "precision_at_k",
    "prf",
    "recall_at_k",
    "reliability_curve",
    "span_prf",
]


def _safe_div(num: float, den: float, zero_division: float = 0.0) -> float:
    return float(num) / float(den) if den else float(zero_division)


def _check_lengths(**named: Sequence[Any]) -> int:
    """Raise ValueError unless all sequences have the same length; return it."""
    lengths = {name: len(seq) for name, seq in named.items()}
    if len(set(lengths.values())) > 1:
        desc = ", ".join(f"{name} has {n}" for name, n in lengths.items())
        raise ValueError(f"length mismatch: {desc} documents")
    return next(iter(lengths.values()), 0)


# ------------------------------------------------------------------------------ counts
@dataclass(frozen=True)
class Counts:
    """True-positive, false-positive and false-negative counts with derived P/R/F1.

    Counts add element-wise (``a + b``); ``precision``, ``recall`` and ``f1`` return ``0.0``
    when undefined (zero_division=0.0). ``support`` is the number of gold items (``tp + fn``).
    """

    tp: int = 0
    fp: int = 0
    fn: int = 0

    def __add__(self, other: Counts) -> Counts:
        if not isinstance(other, Counts):
            return NotImplemented
        return Counts(self.tp + other.tp, self.fp + other.fp, self.fn + other.fn)

    def __radd__(self, other: Any) -> Counts:
        if other == 0:  # lets sum() start from the integer 0
            return self
        return NotImplemented

    @property
    def support(self) -> int:
        """Number of gold items, ``tp + fn``."""
        return self.tp + self.fn

    @property
    def predicted(self) -> int:
        """Number of predicted items, ``tp + fp``."""
        return self.tp + self.fp

    @property
    def precision(self) -> float:
        """``tp / (tp + fp)``, 0.0 when nothing was predicted."""
        return _safe_div(self.tp, self.tp + self.fp)

    @property
    def recall(self) -> float:
        """``tp / (tp + fn)``, 0.0 when there is no gold item."""
        return _safe_div(self.tp, self.tp + self.fn)

    @property
    def f1(self) -> float:
        """``2·tp / (2·tp + fp + fn)``, 0.0 when there is neither gold nor prediction."""
        return _safe_div(2 * self.tp, 2 * self.tp + self.fp + self.fn)


def prf(counts: Counts, zero_division: float = 0.0) -> dict[str, float | int]:
    """Turn counts into a flat, JSON-ready dict of precision, recall, F1 and the raw counts.

    Parameters
    ----------
    counts : Counts
        The tp/fp/fn counts.
    zero_division : float, default 0.0
        Value used for any ratio whose denominator is zero.

    Returns
    -------
    dict
        Keys ``p``, ``r``, ``f`` (floats) and ``tp``, ``fp``, ``fn``, ``support`` (ints).
    """
    tp, fp, fn = counts.tp, counts.fp, counts.fn
    return {
        "p": _safe_div(tp, tp + fp, zero_division),
        "r": _safe_div(tp, tp + fn, zero_division),
        "f": _safe_div(2 * tp, 2 * tp + fp + fn, zero_division),
        "tp": int(tp), "fp": int(fp), "fn": int(fn), "support": int(tp + fn),
    }


def count_sets(gold: Sequence[set], pred: Sequence[set]) -> Counts:
    """Count set overlaps document by document and sum them (micro counting).

    Parameters
    ----------
    gold, pred : sequence of set
        Aligned per-document sets of hashable items (codes, spans, ...).

    Returns
    -------
    Counts
        ``tp = Σ|g ∩ p|``, ``fp = Σ|p − g|``, ``fn = Σ|g − p|``.

    Raises
    ------
    ValueError
        If ``gold`` and ``pred`` do not have the same number of documents.
    """
    _check_lengths(gold=gold, pred=pred)
    tp = fp = fn = 0
    for g, p in zip(gold, pred):
        g, p = set(g), set(p)
        tp += len(g & p)
        fp += len(p - g)
        fn += len(g - p)
    return Counts(tp, fp, fn)


def per_label_counts(
    gold: Sequence[Iterable[Hashable]],
    pred: Sequence[Iterable[Hashable]],
    label: Callable[[Any], Hashable] | None = None,
) -> dict[Hashable, Counts]:
    """Count tp/fp/fn per label, where each item's label is given by a function.

    Parameters
    ----------
    gold, pred : sequence of iterable
        Aligned per-document collections of hashable items; each is treated as a set.
    label : callable, optional
        Maps an item to its label, e.g. ``lambda s: s[2]`` for spans ``(start, end, label)``.
        Defaults to the identity (the item is its own label, as for codes).

    Returns
    -------
    dict
        Label -> :class:`Counts`, for every label seen in gold or predictions, in sorted order
        when labels are mutually comparable.

    Raises
    ------
    ValueError
        If ``gold`` and ``pred`` do not have the same number of documents.
    """
    _check_lengths(gold=gold, pred=pred)
    key = label if label is not None else (lambda item: item)
    tp: Counter = Counter()
    fp: Counter = Counter()
    fn: Counter = Counter()
    for g, p in zip(gold, pred):
        g, p = set(g), set(p)
        for item in g & p:
            tp[key(item)] += 1
        for item in p - g:
            fp[key(item)] += 1
        for item in g - p:
            fn[key(item)] += 1
    labels = _sorted_labels(set(tp) | set(fp) | set(fn))
    return {lab: Counts(tp[lab], fp[lab], fn[lab]) for lab in labels}


def _sorted_labels(labels: Iterable[Hashable]) -> list:
    labels = list(labels)
    try:
        return sorted(labels)
    except TypeError:
        return sorted(labels, key=repr)


def micro_macro(per_label: Mapping[Hashable, Counts], zero_division: float = 0.0) -> dict[str, Any]:
    """Aggregate per-label counts into micro and macro precision/recall/F1.

    Parameters
    ----------
    per_label : mapping
        Label -> :class:`Counts`.
    zero_division : float, default 0.0
        Value for undefined ratios (also the macro value when no label is active).

    Returns
    -------
    dict
        ``micro``: :func:`prf` of the summed counts; ``macro``: ``p``/``r``/``f`` means of the
        per-label values over "active" labels (support > 0 or at least one prediction) plus
        ``n_labels`` (how many were averaged); ``per_label``: label -> :func:`prf` dict.
    """
    total = sum(per_label.values(), Counts())
    active = [c for c in per_label.values() if c.support > 0 or c.predicted > 0]
    per = {lab: prf(c, zero_division) for lab, c in per_label.items()}
    if active:
        rows = [prf(c, zero_division) for c in active]
        macro = {k: float(np.mean([r[k] for r in rows])) for k in ("p", "r", "f")}
    else:
        macro = {"p": float(zero_division), "r": float(zero_division), "f": float(zero_division)}
    macro["n_labels"] = len(active)
    return {"micro": prf(total, zero_division), "macro": macro, "per_label": per}


# ------------------------------------------------------------------------------- spans
def span_prf(
    gold_docs: Sequence[Iterable[tuple[int, int, str]]],
    pred_docs: Sequence[Iterable[tuple[int, int, str]]],
    mode: str = "exact",
    labels: Iterable[str] | None = None,
) -> dict[str, Any]:
    """Score labelled spans with exact or overlap (one-to-one, greedy) matching.

    Parameters
    ----------
    gold_docs, pred_docs : sequence of iterable of tuple
        Aligned per-document spans ``(start, end, label)``. Duplicate spans within a document
        are collapsed (each document's spans are a set).
    mode : {"exact", "overlap"}
        ``exact``: a prediction is a TP only if an identical gold span exists. ``overlap``: a
        prediction is a TP if it shares at least one character with a not-yet-matched gold span
        of the same label (see :func:`radcoder.evaluation.matching.match_overlap`).
    labels : iterable of str, optional
        Restrict scoring to these labels (spans with other labels are ignored) and always report
        them in ``per_label``, even with zero counts. Default: every label seen.

    Returns
    -------
    dict
        ``mode``, ``n_docs``, ``micro`` (prf dict), ``macro`` (p/r/f/n_labels) and ``per_label``
        (label -> prf dict).

    Raises
    ------
    ValueError
        On a document-count mismatch or an unknown ``mode``.
    """
    n = _check_lengths(gold_docs=gold_docs, pred_docs=pred_docs)
    matcher = get_matcher(mode)
    keep = set(labels) if labels is not None else None
    tp: Counter = Counter()
    fp: Counter = Counter()
    fn: Counter = Counter()
    for g_doc, p_doc in zip(gold_docs, pred_docs):
        g = sorted({tuple(s) for s in g_doc if keep is None or s[2] in keep}, key=_span_key)
        p = sorted({tuple(s) for s in p_doc if keep is None or s[2] in keep}, key=_span_key)
        pairs = matcher(g, p)
        matched_g = {gi for gi, _ in pairs}
        matched_p = {pi for _, pi in pairs}
        for gi, _ in pairs:
            tp[g[gi][2]] += 1
        for pi, s in enumerate(p):
            if pi not in matched_p:
                fp[s[2]] += 1
        for gi, s in enumerate(g):
            if gi not in matched_g:
                fn[s[2]] += 1
    all_labels = set(tp) | set(fp) | set(fn) | (keep or set())
    per_label = {lab: Counts(tp[lab], fp[lab], fn[lab]) for lab in _sorted_labels(all_labels)}
    out = micro_macro(per_label)
    out.update({"mode": mode, "n_docs": n})
    return out


def _span_key(s: tuple) -> tuple:
    return (s[0], s[1], str(s[2]))


# -------------------------------------------------------------------------- assertions
def assertion_scores(
    gold_labels: Sequence[str],
    pred_labels: Sequence[str],
    classes: Sequence[str] = ASSERTIONS,
) -> dict[str, Any]:
    """Score assertion classification on aligned (gold, predicted) labels of matched spans.

    Parameters
    ----------
    gold_labels, pred_labels : sequence of str
        One assertion label per evaluated span, aligned.
    classes : sequence of str
        Class order for ``per_class`` and ``confusion``; defaults to
        ``("present", "negated", "uncertain", "historical", "hypothetical", "family")``. Labels
        seen in the data but not listed are appended (sorted) rather than dropped.

    Returns
    -------
    dict
        ``n``; ``accuracy`` (0.0 for no spans); ``per_class``: class -> prf dict (one-vs-rest);
        ``macro_f``: mean F1 over classes with support > 0 or predictions; ``confusion``:
        gold -> pred -> count over all classes (zeros included).

    Raises
    ------
    ValueError
        If the two label sequences differ in length.
    """
    n = _check_lengths(gold_labels=gold_labels, pred_labels=pred_labels)
    extra = sorted((set(gold_labels) | set(pred_labels)) - set(classes))
    order = list(dict.fromkeys(classes)) + extra
    confusion = {g: {p: 0 for p in order} for g in order}
    for g, p in zip(gold_labels, pred_labels):
        confusion[g][p] += 1
    per_label = {}
    for c in order:
        tp = confusion[c][c]
        fn = sum(confusion[c].values()) - tp
        fp = sum(confusion[g][c] for g in order) - tp
        per_label[c] = Counts(tp, fp, fn)
    mm = micro_macro(per_label)
    correct = sum(confusion[c][c] for c in order)
    return {
        "n": n,
        "accuracy": _safe_div(correct, n),
        "per_class": mm["per_label"],
        "macro_f": mm["macro"]["f"],
        "confusion": confusion,
    }


# ------------------------------------------------------------------------------- codes
def code_scores(gold: Sequence[set[str]], pred: Sequence[set[str]]) -> dict[str, Any]:
    """Score per-document code sets (CPT or ICD-10-CM), micro and macro over codes.

    Parameters
    ----------
    gold, pred : sequence of set of str
        Aligned per-document sets of codes.

    Returns
    -------
    dict
        ``n_docs``, ``micro`` (prf dict), ``macro`` (p/r/f/n_labels over codes seen in gold or
        predictions) and ``per_code`` (code -> prf dict with tp/fp/fn/support).

    Raises
    ------
    ValueError
        On a document-count mismatch.
    """
    counts = per_label_counts(gold, pred)
    mm = micro_macro(counts)
    return {"n_docs": len(gold), "micro": mm["micro"], "macro": mm["macro"], "per_code": mm["per_label"]}


def _ranked_pairs(gold: Sequence[Iterable[str]], ranked: Sequence[Sequence[str]]):
    """Yield (gold set, de-duplicated ranking) for documents with a non-empty gold set."""
    _check_lengths(gold=gold, ranked=ranked)
    for g, r in zip(gold, ranked):
        g = set(g)
        if g:
            yield g, list(dict.fromkeys(r))


def precision_at_k(gold: Sequence[set[str]], ranked: Sequence[Sequence[str]], k: int) -> float:
    """Mean precision@k: share of the top ``k`` ranked codes that are gold, averaged over documents.

    The denominator is always ``k`` (a list shorter than ``k`` is not rewarded). Repeated codes in
    a ranking count once. Documents with an empty gold set are excluded; 0.0 if none remain.

    Parameters
    ----------
    gold : sequence of set of str
        Gold codes per document.
    ranked : sequence of sequence of str
        Predicted codes per document, best first.
    k : int
        Cut-off, at least 1.

    Returns
    -------
    float
        The mean precision@k.
    """
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    vals = [len(g.intersection(r[:k])) / k for g, r in _ranked_pairs(gold, ranked)]
    return float(np.mean(vals)) if vals else 0.0


def recall_at_k(gold: Sequence[set[str]], ranked: Sequence[Sequence[str]], k: int) -> float:
    """Mean recall@k: share of each document's gold codes found in its top ``k``, averaged over documents.

    Documents with an empty gold set are excluded (recall is undefined for them); 0.0 if none
    remain. With exactly one gold code per document this is top-k accuracy.

    Parameters
    ----------
    gold : sequence of set of str
        Gold codes per document.
    ranked : sequence of sequence of str
        Predicted codes per document, best first.
    k : int
        Cut-off, at least 1.

    Returns
    -------
    float
        The mean recall@k.
    """
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    vals = [len(g.intersection(r[:k])) / len(g) for g, r in _ranked_pairs(gold, ranked)]
    return float(np.mean(vals)) if vals else 0.0


def mrr(gold: Sequence[set[str]], ranked: Sequence[Sequence[str]]) -> float:
    """Mean reciprocal rank of the first gold code in each ranking.

    A document scores ``1/rank`` of its best-ranked gold code (ranks from 1) and 0 when no gold
    code is ranked. Documents with an empty gold set are excluded; 0.0 if none remain.

    Parameters
    ----------
    gold : sequence of set of str
        Gold codes per document.
    ranked : sequence of sequence of str
        Predicted codes per document, best first.

    Returns
    -------
    float
        The mean reciprocal rank.
    """
    vals = []
    for g, r in _ranked_pairs(gold, ranked):
        rank = next((i for i, code in enumerate(r, start=1) if code in g), None)
        vals.append(1.0 / rank if rank else 0.0)
    return float(np.mean(vals)) if vals else 0.0


def first_listed_accuracy(
    gold_first: Sequence[str | None], pred_ranked: Sequence[Sequence[str]]
) -> float:
    """Share of documents whose top-ranked predicted code is the gold first-listed code.

    Parameters
    ----------
    gold_first : sequence of str or None
        The gold first-listed (principal) code per document; ``None`` excludes the document.
    pred_ranked : sequence of sequence of str
        Predicted codes per document, best first; an empty ranking is wrong.

    Returns
    -------
    float
        Accuracy over the included documents; 0.0 if none are included.
    """
    _check_lengths(gold_first=gold_first, pred_ranked=pred_ranked)
    hits = [bool(r) and r[0] == g for g, r in zip(gold_first, pred_ranked) if g is not None]
    return float(np.mean(hits)) if hits else 0.0


def _as_multiset(lines: Iterable[tuple] | Mapping[tuple, int]) -> Counter:
    items = lines.items() if isinstance(lines, Mapping) else ((line, 1) for line in lines)
    out: Counter = Counter()
    for (code, modifiers, units), n in items:
        out[(str(code), tuple(sorted(modifiers)), int(units))] += int(n)
    return out


def cpt_line_scores(
    gold_lines: Sequence[Iterable[tuple] | Mapping[tuple, int]],
    pred_lines: Sequence[Iterable[tuple] | Mapping[tuple, int]],
) -> dict[str, Any]:
    """Score CPT claim lines ``(code, modifiers, units)`` as per-document multisets.

    Parameters
    ----------
    gold_lines, pred_lines : sequence
        Aligned per-document lines, each an iterable of ``(code, tuple_of_modifiers, units)``
        (or a ``collections.Counter`` of such lines). Modifier order is normalised by sorting;
        repeated identical lines count with multiplicity.

    Returns
    -------
    dict
        ``line``: micro prf over exact line matches (code, modifiers and units all equal);
        ``code``: micro prf over the multiset of codes, one per line, ignoring modifiers and
        units; ``n_docs``.

    Raises
    ------
    ValueError
        On a document-count mismatch.
    """
    n = _check_lengths(gold_lines=gold_lines, pred_lines=pred_lines)
    line_c, code_c = Counts(), Counts()
    for g_raw, p_raw in zip(gold_lines, pred_lines):
        g, p = _as_multiset(g_raw), _as_multiset(p_raw)
        line_c += _multiset_counts(g, p)
        gc: Counter = Counter()
        pc: Counter = Counter()
        for (code, _, _), k in g.items():
            gc[code] += k
        for (code, _, _), k in p.items():
            pc[code] += k
        code_c += _multiset_counts(gc, pc)
    return {"n_docs": n, "line": prf(line_c), "code": prf(code_c)}


def _multiset_counts(g: Counter, p: Counter) -> Counts:
    return Counts(sum((g & p).values()), sum((p - g).values()), sum((g - p).values()))


# ------------------------------------------------------------------------- calibration
def _check_binary(y_true: Sequence[int], y_prob: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    _check_lengths(y_true=y_true, y_prob=y_prob)
    yt = np.asarray(y_true, dtype=float).ravel()
    yp = np.asarray(y_prob, dtype=float).ravel()
    if yt.size and not np.isin(yt, (0.0, 1.0)).all():
        raise ValueError("y_true must contain only 0/1 (or False/True)")
    if yp.size and (np.isnan(yp).any() or yp.min() < 0 or yp.max() > 1):
        raise ValueError("y_prob has values outside [0, 1]")
    return yt, yp


def _bin_edges(yp: np.ndarray, n_bins: int, strategy: str) -> np.ndarray:
    if n_bins < 1:
        raise ValueError(f"n_bins must be >= 1, got {n_bins}")
    if strategy == "uniform":
        return np.linspace(0.0, 1.0, n_bins + 1)
    if strategy == "quantile":
        return np.percentile(yp, np.linspace(0, 100, n_bins + 1))
    raise ValueError(f"strategy must be 'uniform' or 'quantile', got {strategy!r}")


def _binned(y_true, y_prob, n_bins: int, strategy: str):
    yt, yp = _check_binary(y_true, y_prob)
    if yt.size == 0:
        return yt, yp, np.linspace(0.0, 1.0, n_bins + 1), np.zeros(n_bins), np.zeros(n_bins), np.zeros(n_bins)
    edges = _bin_edges(yp, n_bins, strategy)
    # Same binning as sklearn.calibration.calibration_curve: bins are right-closed, (lo, hi],
    # except the first which also holds 0.0.
    ids = np.searchsorted(edges[1:-1], yp)
    sums = np.bincount(ids, weights=yp, minlength=n_bins)
    pos = np.bincount(ids, weights=yt, minlength=n_bins)
    total = np.bincount(ids, minlength=n_bins)
    return yt, yp, edges, sums, pos, total


def expected_calibration_error(
    y_true: Sequence[int], y_prob: Sequence[float], n_bins: int = 10, strategy: str = "uniform"
) -> float:
    """Expected calibration error: count-weighted mean gap between confidence and accuracy per bin.

    ``ECE = Σ_b (n_b / N) · |mean(y_prob in b) − mean(y_true in b)|`` over non-empty bins, with
    the same bins as ``sklearn.calibration.calibration_curve``.

    Parameters
    ----------
    y_true : sequence of int
        Binary outcomes (1 = the prediction was right).
    y_prob : sequence of float
        Predicted probabilities in ``[0, 1]``.
    n_bins : int, default 10
        Number of bins.
    strategy : {"uniform", "quantile"}
        Equal-width bins on ``[0, 1]`` or bins holding equal numbers of predictions.

    Returns
    -------
    float
        The ECE in ``[0, 1]``; 0.0 for empty input.
    """
    yt, _, _, sums, pos, total = _binned(y_true, y_prob, n_bins, strategy)
    if yt.size == 0:
        return 0.0
    nz = total > 0
    gaps = np.abs(sums[nz] / total[nz] - pos[nz] / total[nz])
    return float(np.sum(gaps * total[nz]) / yt.size)


def reliability_curve(
    y_true: Sequence[int], y_prob: Sequence[float], n_bins: int = 10, strategy: str = "uniform"
) -> dict[str, list]:
    """Reliability-diagram points: mean predicted probability vs observed positive rate per bin.

    Only non-empty bins are returned (as ``sklearn.calibration.calibration_curve`` does), so all
    lists have the same length.

    Parameters
    ----------
    y_true : sequence of int
        Binary outcomes.
    y_prob : sequence of float
        Predicted probabilities in ``[0, 1]``.
    n_bins : int, default 10
        Number of bins.
    strategy : {"uniform", "quantile"}
        Binning strategy, as in :func:`expected_calibration_error`.

    Returns
    -------
    dict
        Lists ``bin_lower``, ``bin_upper``, ``mean_pred``, ``frac_pos`` (floats) and ``count``
        (ints); all empty for empty input.
    """
    yt, _, edges, sums, pos, total = _binned(y_true, y_prob, n_bins, strategy)
    nz = np.flatnonzero(total > 0) if yt.size else np.array([], dtype=int)
    return {
        "bin_lower": [float(edges[i]) for i in nz],
        "bin_upper": [float(edges[i + 1]) for i in nz],
        "mean_pred": [float(sums[i] / total[i]) for i in nz],
        "frac_pos": [float(pos[i] / total[i]) for i in nz],
        "count": [int(total[i]) for i in nz],
    }


def auto_code_curve(
    doc_scores: Sequence[float],
    doc_correct: Sequence[bool],
    thresholds: Sequence[float] | None = None,
) -> list[dict[str, float | int]]:
    """Auto-coding trade-off: how many reports clear a confidence threshold and how often they are right.

    Parameters
    ----------
    doc_scores : sequence of float
        Per report, the minimum confidence over its codes.
    doc_correct : sequence of bool
        Per report, whether all of its codes were right.
    thresholds : sequence of float, optional
        Thresholds to evaluate, in the given order. Default: 0.00, 0.05, ..., 1.00.

    Returns
    -------
    list of dict
        One dict per threshold with ``threshold``; ``n`` (reports with score >= threshold);
        ``share`` (``n`` / all reports, 0.0 if there are none) and ``precision`` (share of those
        ``n`` reports that are correct; 0.0 when ``n`` is 0 — check ``n``).
    """
    total = _check_lengths(doc_scores=doc_scores, doc_correct=doc_correct)
    scores = np.asarray(doc_scores, dtype=float).ravel()
    correct = np.asarray(doc_correct, dtype=bool).ravel()
    if thresholds is None:
        thresholds = np.round(np.linspace(0.0, 1.0, 21), 2)
    out = []
    for t in thresholds:
        sel = scores >= t
        n = int(sel.sum())
        out.append({
            "threshold": float(t),
            "n": n,
            "share": _safe_div(n, total),
            "precision": _safe_div(int(correct[sel].sum()), n),
        })
    return out


# ------------------------------------------------------------------------- uncertainty
def _resample(arr: Any, idx: np.ndarray) -> Any:
    if isinstance(arr, np.ndarray):
        return arr[idx]
    return [arr[i] for i in idx]


def bootstrap_ci(
    metric_fn: Callable[..., float],
    *arrays: Sequence[Any],
    n_boot: int = 1000,
    alpha: float = 0.05,
    seed: int = 0,
) -> tuple[float, float, float]:
    """Percentile bootstrap confidence interval of a document-level metric.

    Documents are resampled with replacement (the same indices for every array, so gold and
    predictions stay aligned) using ``numpy.random.default_rng(seed)``.

    Parameters
    ----------
    metric_fn : callable
        ``metric_fn(*arrays) -> float``, e.g. ``lambda g, p: code_scores(g, p)["micro"]["f"]``.
    *arrays : sequence
        Aligned per-document sequences (lists are resampled as lists, NumPy arrays as arrays).
    n_boot : int, default 1000
        Number of bootstrap resamples.
    alpha : float, default 0.05
        Two-sided level; the interval spans the ``alpha/2`` and ``1 − alpha/2`` percentiles.
    seed : int, default 0
        Seed for the random generator.

    Returns
    -------
    tuple of float
        ``(point, lo, hi)`` where ``point`` is the metric on the original data.

    Raises
    ------
    ValueError
        If no array is given, the arrays differ in length, there are no documents, or
        ``n_boot`` / ``alpha`` are out of range.
    """
    if not arrays:
        raise ValueError("bootstrap_ci needs at least one array")
    n = _check_lengths(**{f"array{i}": a for i, a in enumerate(arrays)})
    if n == 0:
        raise ValueError("cannot bootstrap over 0 documents")
    if n_boot < 1 or not 0 < alpha < 1:
        raise ValueError(f"need n_boot >= 1 and 0 < alpha < 1, got n_boot={n_boot}, alpha={alpha}")
    point = float(metric_fn(*arrays))
    rng = np.random.default_rng(seed)
    stats = np.empty(n_boot)
    for b in range(n_boot):
        idx = rng.integers(0, n, size=n)
        stats[b] = metric_fn(*(_resample(a, idx) for a in arrays))
    lo, hi = np.percentile(stats, [100 * alpha / 2, 100 * (1 - alpha / 2)])
    return point, float(lo), float(hi)


def paired_bootstrap(
    metric_fn: Callable[[Sequence[Any], Sequence[Any]], float],
    gold: Sequence[Any],
    pred_a: Sequence[Any],
    pred_b: Sequence[Any],
    n_boot: int = 1000,
    seed: int = 0,
    alpha: float = 0.05,
) -> dict[str, float]:
    """Paired bootstrap comparison of two systems scored on the same documents.

    ``delta = metric_fn(gold, pred_a) − metric_fn(gold, pred_b)`` (positive: system A is better
    for a higher-is-better metric). Each resample draws the same document indices for gold, A and
    B. The p-value is the share of resamples whose delta has the opposite sign to the observed
    delta or is zero (1.0 when the observed delta is zero).

    Parameters
    ----------
    metric_fn : callable
        ``metric_fn(gold, pred) -> float``.
    gold, pred_a, pred_b : sequence
        Aligned per-document gold annotations and the two systems' predictions.
    n_boot : int, default 1000
        Number of bootstrap resamples.
    seed : int, default 0
        Seed for ``numpy.random.default_rng``.
    alpha : float, default 0.05
        Two-sided level of the percentile interval on delta.

    Returns
    -------
    dict
        ``delta``, ``lo``, ``hi``, ``p_value``, plus ``a`` and ``b`` (the two point values).

    Raises
    ------
    ValueError
        On length mismatch, zero documents, or out-of-range ``n_boot`` / ``alpha``.
    """
    n = _check_lengths(gold=gold, pred_a=pred_a, pred_b=pred_b)
    if n == 0:
        raise ValueError("cannot bootstrap over 0 documents")
    if n_boot < 1 or not 0 < alpha < 1:
        raise ValueError(f"need n_boot >= 1 and 0 < alpha < 1, got n_boot={n_boot}, alpha={alpha}")
    a = float(metric_fn(gold, pred_a))
    b = float(metric_fn(gold, pred_b))
    delta = a - b
    rng = np.random.default_rng(seed)
    deltas = np.empty(n_boot)
    for i in range(n_boot):
        idx = rng.integers(0, n, size=n)
        g = _resample(gold, idx)
        deltas[i] = metric_fn(g, _resample(pred_a, idx)) - metric_fn(g, _resample(pred_b, idx))
    lo, hi = np.percentile(deltas, [100 * alpha / 2, 100 * (1 - alpha / 2)])
    if delta > 0:
        p_value = float(np.mean(deltas <= 0))
    elif delta < 0:
        p_value = float(np.mean(deltas >= 0))
    else:
        p_value = 1.0
    return {"delta": delta, "lo": float(lo), "hi": float(hi), "p_value": p_value, "a": a, "b": b}


def pr_curve(gold: Sequence[set[str]], scored: Sequence[Sequence[tuple[str, float]]]) -> list[dict[str, float]]:
    """Micro precision/recall of scored code predictions as the score threshold moves.

    Parameters
    ----------
    gold : sequence of set of str
        Gold codes per document.
    scored : sequence of sequence of (code, score)
        Predicted codes with scores per document (aligned with ``gold``).

    Returns
    -------
    list of dict
        One point per distinct score (descending): ``threshold``, ``precision``, ``recall``, ``n``
        (predictions kept). Recall is over every gold code, including codes never predicted.
    """
    _check_lengths(gold=gold, scored=scored)
    n_gold = sum(len(g) for g in gold)
    pairs = sorted(((float(s), c in g) for g, preds in zip(gold, scored) for c, s in preds), key=lambda x: -x[0])
    points, tp = [], 0
    for i, (score, hit) in enumerate(pairs, 1):
        tp += hit
        if i == len(pairs) or pairs[i][0] != score:
            points.append({"threshold": score, "precision": tp / i, "recall": _safe_div(tp, n_gold), "n": i})
    return points
