"""Span matching strategies used by :func:`radcoder.evaluation.metrics.span_prf`.

A span is a tuple ``(start, end, label)`` with half-open character offsets. Every
matcher takes the gold and predicted spans of ONE document and returns one-to-one
``(gold_index, pred_index)`` pairs; unmatched predictions are false positives and
unmatched gold spans are false negatives.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence

Span = tuple[int, int, Hashable]
Matcher = Callable[[Sequence[Span], Sequence[Span]], list[tuple[int, int]]]

__all__ = ["MATCHERS", "Matcher", "Span", "get_matcher", "match_exact", "match_overlap", "overlap_length"]


def overlap_length(a: Span, b: Span) -> int:
    """Return the number of characters shared by two spans (labels are ignored).

    Parameters
    ----------
    a, b : tuple
        Spans ``(start, end, label)`` with half-open offsets.

    Returns
    -------
    int
        ``max(0, min(a.end, b.end) - max(a.start, b.start))``; zero-length spans never overlap anything.
    """
    return max(0, min(a[1], b[1]) - max(a[0], b[0]))


def match_exact(gold: Sequence[Span], pred: Sequence[Span]) -> list[tuple[int, int]]:
    """Match predicted spans to identical gold spans (same start, end and label), one-to-one.

    Parameters
    ----------
    gold, pred : sequence of tuple
        The gold and predicted spans of one document; duplicates are treated as a multiset
        (two identical predictions can match at most two identical gold spans).

    Returns
    -------
    list of tuple of int
        ``(gold_index, pred_index)`` pairs, in prediction order.
    """
    free: dict[tuple, list[int]] = {}
    for gi, g in enumerate(gold):
        free.setdefault(tuple(g), []).append(gi)
    pairs: list[tuple[int, int]] = []
    for pi, p in enumerate(pred):
        slots = free.get(tuple(p))
        if slots:
            pairs.append((slots.pop(0), pi))
    return pairs


def match_overlap(gold: Sequence[Span], pred: Sequence[Span]) -> list[tuple[int, int]]:
    """Greedily match each prediction to an overlapping, not-yet-matched gold span with the same label.

    Predictions are visited in document order (by start, then end, then input position). Among
    the still-free gold spans with the same label that share at least one character with the
    prediction, the one with the largest overlap is taken (ties: earliest gold start, then input
    position). Greedy matching is deterministic and one-to-one but not guaranteed to be a maximum
    matching in contrived chains of partial overlaps.

    Parameters
    ----------
    gold, pred : sequence of tuple
        The gold and predicted spans ``(start, end, label)`` of one document.

    Returns
    -------
    list of tuple of int
        ``(gold_index, pred_index)`` pairs, in the order they were made.
    """
    used = [False] * len(gold)
    order = sorted(range(len(pred)), key=lambda i: (pred[i][0], pred[i][1], i))
    pairs: list[tuple[int, int]] = []
    for pi in order:
        p = pred[pi]
        best: tuple[int, int, int] | None = None  # (-overlap, gold start, gold index)
        for gi, g in enumerate(gold):
            if used[gi] or g[2] != p[2]:
                continue
            ov = overlap_length(g, p)
            if ov <= 0:
                continue
            key = (-ov, g[0], gi)
            if best is None or key < best:
                best = key
        if best is not None:
            used[best[2]] = True
            pairs.append((best[2], pi))
    return pairs


MATCHERS: dict[str, Matcher] = {"exact": match_exact, "overlap": match_overlap}


def get_matcher(mode: str) -> Matcher:
    """Return the matcher registered under ``mode`` (``"exact"`` or ``"overlap"``).

    Parameters
    ----------
    mode : str
        Name of the matching strategy.

    Returns
    -------
    callable
        The matching function.

    Raises
    ------
    ValueError
        If ``mode`` is not a known strategy.
    """
    try:
        return MATCHERS[mode]
    except KeyError:
        raise ValueError(f"unknown span matching mode {mode!r}; expected one of {sorted(MATCHERS)}") from None
