"""Tests for span matching strategies (radcoder.evaluation.matching)."""

from __future__ import annotations

import pytest

from radcoder.evaluation.matching import (
    MATCHERS,
    get_matcher,
    match_exact,
    match_overlap,
    overlap_length,
)


@pytest.mark.parametrize(
    "a, b, expected",
    [
        ((0, 5, "A"), (0, 5, "A"), 5),
        ((0, 5, "A"), (3, 8, "B"), 2),  # labels ignored
        ((0, 5, "A"), (5, 8, "A"), 0),  # half-open: touching is not overlapping
        ((2, 3, "A"), (0, 10, "A"), 1),  # containment
        ((4, 4, "A"), (0, 10, "A"), 0),  # zero-length span
    ],
)
def test_overlap_length(a, b, expected):
    assert overlap_length(a, b) == expected
    assert overlap_length(b, a) == expected


@pytest.mark.parametrize(
    "gold, pred, expected",
    [
        ([], [], []),
        ([(0, 3, "A")], [], []),
        ([], [(0, 3, "A")], []),
        ([(0, 3, "A")], [(0, 3, "A")], [(0, 0)]),
        ([(0, 3, "A")], [(0, 3, "B")], []),  # label differs
        ([(0, 3, "A")], [(0, 4, "A")], []),  # boundary differs
        ([(0, 3, "A"), (5, 7, "B")], [(5, 7, "B"), (0, 3, "A")], [(1, 0), (0, 1)]),
        # multiset: one gold copy matches only one of two identical predictions
        ([(0, 3, "A")], [(0, 3, "A"), (0, 3, "A")], [(0, 0)]),
    ],
)
def test_match_exact(gold, pred, expected):
    assert match_exact(gold, pred) == expected


@pytest.mark.parametrize(
    "gold, pred, expected",
    [
        ([], [], []),
        ([(0, 10, "A")], [(2, 4, "A")], [(0, 0)]),
        ([(0, 10, "A")], [(2, 4, "B")], []),  # same place, different label
        ([(0, 5, "A")], [(5, 9, "A")], []),  # touching only
        # one-to-one: two predictions inside one gold span -> only the first matches
        ([(0, 10, "A")], [(0, 3, "A"), (5, 8, "A")], [(0, 0)]),
        # one prediction covering two gold spans matches the one it overlaps most
        ([(0, 3, "A"), (4, 12, "A")], [(1, 10, "A")], [(1, 0)]),
        # tie on overlap length -> earliest gold start
        ([(0, 4, "A"), (6, 10, "A")], [(2, 8, "A")], [(0, 0)]),
        # predictions are visited in document order, regardless of input order
        ([(0, 10, "A")], [(5, 8, "A"), (0, 3, "A")], [(0, 1)]),
        # second prediction takes the remaining gold span
        ([(0, 5, "A"), (6, 12, "A")], [(0, 7, "A"), (4, 9, "A")], [(0, 0), (1, 1)]),
    ],
)
def test_match_overlap(gold, pred, expected):
    assert match_overlap(gold, pred) == expected


def test_matches_are_one_to_one():
    gold = [(0, 4, "A"), (2, 6, "A"), (5, 9, "A")]
    pred = [(1, 3, "A"), (3, 7, "A"), (4, 8, "A"), (8, 9, "A")]
    pairs = match_overlap(gold, pred)
    assert len({g for g, _ in pairs}) == len(pairs)
    assert len({p for _, p in pairs}) == len(pairs)
    for g, p in pairs:
        assert overlap_length(gold[g], pred[p]) > 0 and gold[g][2] == pred[p][2]


def test_get_matcher():
    assert get_matcher("exact") is match_exact
    assert get_matcher("overlap") is match_overlap
    assert set(MATCHERS) == {"exact", "overlap"}
    with pytest.raises(ValueError, match="partial"):
        get_matcher("partial")
