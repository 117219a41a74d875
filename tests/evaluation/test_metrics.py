"""Tests for the pure metric functions (radcoder.evaluation.metrics).

Hand-computed cases plus cross-checks against scikit-learn wherever it implements the same metric.
"""

from __future__ import annotations

import dataclasses
import json
import math
import random
from collections import Counter

import numpy as np
import pytest
from sklearn.calibration import calibration_curve
from sklearn.metrics import (
    accuracy_score,
    confusion_matrix,
    label_ranking_average_precision_score,
    precision_recall_fscore_support,
    top_k_accuracy_score,
)
from sklearn.preprocessing import MultiLabelBinarizer

from radcoder.evaluation.metrics import (
    Counts,
    assertion_scores,
    auto_code_curve,
    bootstrap_ci,
    code_scores,
    count_sets,
    cpt_line_scores,
    expected_calibration_error,
    first_listed_accuracy,
    micro_macro,
    mrr,
    paired_bootstrap,
    per_label_counts,
    precision_at_k,
    prf,
    recall_at_k,
    reliability_curve,
    span_prf,
)

ASSERTIONS = ("present", "negated", "uncertain", "historical", "hypothetical", "family")


def approx(x):
    return pytest.approx(x, abs=1e-12)


# ------------------------------------------------------------------------------ Counts / prf
@pytest.mark.parametrize(
    "tp, fp, fn, p, r, f",
    [
        (0, 0, 0, 0.0, 0.0, 0.0),  # nothing at all
        (0, 3, 0, 0.0, 0.0, 0.0),  # no gold
        (0, 0, 4, 0.0, 0.0, 0.0),  # no predictions
        (5, 0, 0, 1.0, 1.0, 1.0),  # all correct
        (3, 1, 2, 0.75, 0.6, 2 * 0.75 * 0.6 / 1.35),
        (1, 3, 0, 0.25, 1.0, 0.4),
    ],
)
def test_counts_properties_and_prf(tp, fp, fn, p, r, f):
    c = Counts(tp, fp, fn)
    assert (c.precision, c.recall, c.f1) == (approx(p), approx(r), approx(f))
    d = prf(c)
    assert d == {"p": approx(p), "r": approx(r), "f": approx(f), "tp": tp, "fp": fp, "fn": fn,
                 "support": tp + fn}
    json.dumps(d)  # JSON-ready


def test_prf_zero_division():
    assert prf(Counts(), zero_division=1.0)["p"] == 1.0
    assert prf(Counts(0, 0, 2), zero_division=1.0) == {"p": 1.0, "r": 0.0, "f": 0.0, "tp": 0, "fp": 0,
                                                        "fn": 2, "support": 2}


def test_counts_add_and_sum():
    assert Counts(1, 2, 3) + Counts(10, 20, 30) == Counts(11, 22, 33)
    assert sum([Counts(1, 0, 0), Counts(0, 1, 0), Counts(0, 0, 1)]) == Counts(1, 1, 1)
    with pytest.raises(TypeError):
        Counts() + 1
    with pytest.raises(dataclasses.FrozenInstanceError):
        Counts().tp = 3  # frozen


# --------------------------------------------------------------------------------- sets
@pytest.mark.parametrize(
    "gold, pred, expected",
    [
        ([], [], Counts()),
        ([set()], [set()], Counts()),
        ([{"a", "b"}], [{"b", "c"}], Counts(1, 1, 1)),
        ([{"a"}, {"b", "c"}], [{"a"}, set()], Counts(1, 0, 2)),
        ([set(), set()], [{"x"}, {"y"}], Counts(0, 2, 0)),
    ],
)
def test_count_sets(gold, pred, expected):
    assert count_sets(gold, pred) == expected


def test_count_sets_length_mismatch_names_both_lengths():
    with pytest.raises(ValueError, match=r"gold has 2.*pred has 1"):
        count_sets([set(), set()], [set()])


def test_per_label_counts_spans_and_codes():
    gold = [{(0, 3, "A"), (4, 6, "B")}, {(0, 2, "A")}]
    pred = [{(0, 3, "A"), (4, 7, "B")}, {(0, 2, "B")}]
    got = per_label_counts(gold, pred, label=lambda s: s[2])
    assert got == {"A": Counts(1, 0, 1), "B": Counts(0, 2, 1)}
    assert per_label_counts([{"X", "Y"}], [{"Y", "Z"}]) == {"X": Counts(0, 0, 1), "Y": Counts(1, 0, 0),
                                                          "Z": Counts(0, 1, 0)}
    assert per_label_counts([], []) == {}
    with pytest.raises(ValueError):
        per_label_counts([set()], [])


def test_micro_macro_hand_computed():
    per = {"A": Counts(2, 0, 2), "B": Counts(1, 1, 0), "C": Counts(0, 0, 0)}  # C inactive
    out = micro_macro(per)
    assert out["micro"]["p"] == approx(3 / 4) and out["micro"]["r"] == approx(3 / 5)
    assert out["micro"]["f"] == approx(6 / 9)
    assert out["macro"]["n_labels"] == 2
    assert out["macro"]["f"] == approx((2 / 3 + 2 / 3) / 2)
    assert out["macro"]["p"] == approx((1.0 + 0.5) / 2)
    assert out["macro"]["r"] == approx((0.5 + 1.0) / 2)
    assert set(out["per_label"]) == {"A", "B", "C"}


def test_micro_macro_empty():
    out = micro_macro({})
    assert out["micro"]["f"] == 0.0 and out["macro"] == {"p": 0.0, "r": 0.0, "f": 0.0, "n_labels": 0}
    assert out["per_label"] == {}


# -------------------------------------------------------------------------------- spans
GOLD_SPANS = [
    {(0, 5, "MODALITY"), (10, 20, "ANATOMY"), (25, 30, "FINDING")},
    {(0, 4, "FINDING")},
]
PRED_SPANS = [
    {(0, 5, "MODALITY"), (12, 20, "ANATOMY"), (25, 30, "ANATOMY")},
    {(0, 4, "FINDING"), (6, 9, "FINDING")},
]


@pytest.mark.parametrize(
    "mode, tp, fp, fn",
    [("exact", 2, 3, 2), ("overlap", 3, 2, 1)],
)
def test_span_prf_modes(mode, tp, fp, fn):
    out = span_prf(GOLD_SPANS, PRED_SPANS, mode=mode)
    assert out["mode"] == mode and out["n_docs"] == 2
    assert {k: out["micro"][k] for k in ("tp", "fp", "fn")} == {"tp": tp, "fp": fp, "fn": fn}
    assert set(out["per_label"]) == {"MODALITY", "ANATOMY", "FINDING"}


def test_span_prf_per_label_and_macro_overlap():
    out = span_prf(GOLD_SPANS, PRED_SPANS, mode="overlap")
    pl = out["per_label"]
    assert (pl["MODALITY"]["tp"], pl["MODALITY"]["fp"], pl["MODALITY"]["fn"]) == (1, 0, 0)
    assert (pl["ANATOMY"]["tp"], pl["ANATOMY"]["fp"], pl["ANATOMY"]["fn"]) == (1, 1, 0)
    assert (pl["FINDING"]["tp"], pl["FINDING"]["fp"], pl["FINDING"]["fn"]) == (1, 1, 1)
    assert out["macro"]["f"] == approx((1.0 + 2 / 3 + 0.5) / 3)


def test_span_prf_exact_matches_set_counting():
    """Exact span matching over sets is plain set intersection."""
    assert prf(count_sets(GOLD_SPANS, PRED_SPANS)) == span_prf(GOLD_SPANS, PRED_SPANS)["micro"]


def test_span_prf_labels_filter_reports_zero_labels():
    out = span_prf(GOLD_SPANS, PRED_SPANS, labels=["FINDING", "LATERALITY"])
    assert set(out["per_label"]) == {"FINDING", "LATERALITY"}
    assert out["per_label"]["LATERALITY"]["support"] == 0
    assert out["macro"]["n_labels"] == 1  # LATERALITY is inactive
    assert (out["micro"]["tp"], out["micro"]["fp"], out["micro"]["fn"]) == (1, 1, 1)


def test_span_prf_overlap_is_one_to_one():
    gold = [{(0, 20, "FINDING")}]
    pred = [{(0, 5, "FINDING"), (10, 15, "FINDING")}]
    out = span_prf(gold, pred, mode="overlap")
    assert (out["micro"]["tp"], out["micro"]["fp"], out["micro"]["fn"]) == (1, 1, 0)


@pytest.mark.parametrize("mode", ["exact", "overlap"])
@pytest.mark.parametrize(
    "gold, pred, micro_f",
    [
        ([], [], 0.0),  # no docs
        ([set(), set()], [set(), set()], 0.0),  # docs without spans
        ([set()], [{(0, 1, "A")}], 0.0),  # no gold
        ([{(0, 1, "A")}], [set()], 0.0),  # no predictions
        ([{(0, 1, "A"), (2, 3, "B")}], [{(0, 1, "A"), (2, 3, "B")}], 1.0),  # all correct
    ],
)
def test_span_prf_degenerate(mode, gold, pred, micro_f):
    out = span_prf(gold, pred, mode=mode)
    assert out["micro"]["f"] == micro_f
    assert out["n_docs"] == len(gold)


def test_span_prf_errors():
    with pytest.raises(ValueError, match="gold_docs has 1.*pred_docs has 0"):
        span_prf([set()], [])
    with pytest.raises(ValueError, match="unknown span matching mode"):
        span_prf([], [], mode="fuzzy")


def test_span_prf_duplicates_collapse():
    out = span_prf([[(0, 2, "A"), (0, 2, "A")]], [[(0, 2, "A")]])
    assert (out["micro"]["tp"], out["micro"]["fp"], out["micro"]["fn"]) == (1, 0, 0)


# ---------------------------------------------------------------------------- assertions
def test_assertion_scores_hand_computed():
    gold = ["present", "present", "negated", "uncertain", "negated"]
    pred = ["present", "negated", "negated", "present", "negated"]
    out = assertion_scores(gold, pred)
    assert out["n"] == 5 and out["accuracy"] == approx(3 / 5)
    assert out["per_class"]["present"] == {"p": 0.5, "r": 0.5, "f": 0.5, "tp": 1, "fp": 1, "fn": 1,
                                           "support": 2}
    assert out["per_class"]["negated"]["p"] == approx(2 / 3)
    assert out["per_class"]["negated"]["r"] == 1.0
    assert out["per_class"]["uncertain"]["f"] == 0.0
    # macro over active classes: present, negated, uncertain
    assert out["macro_f"] == approx((0.5 + 0.8 + 0.0) / 3)
    assert list(out["confusion"]) == list(ASSERTIONS)
    assert out["confusion"]["present"]["negated"] == 1
    assert out["confusion"]["uncertain"]["present"] == 1
    assert out["confusion"]["family"] == {c: 0 for c in ASSERTIONS}


def test_assertion_scores_against_sklearn():
    rng = random.Random(7)
    gold = [rng.choice(ASSERTIONS) for _ in range(300)]
    pred = [g if rng.random() < 0.7 else rng.choice(ASSERTIONS) for g in gold]
    out = assertion_scores(gold, pred)
    assert out["accuracy"] == approx(accuracy_score(gold, pred))
    cm = confusion_matrix(gold, pred, labels=list(ASSERTIONS))
    assert [[out["confusion"][g][p] for p in ASSERTIONS] for g in ASSERTIONS] == cm.tolist()
    p, r, f, s = precision_recall_fscore_support(gold, pred, labels=list(ASSERTIONS), zero_division=0)
    for i, c in enumerate(ASSERTIONS):
        pc = out["per_class"][c]
        assert (pc["p"], pc["r"], pc["f"], pc["support"]) == (approx(p[i]), approx(r[i]), approx(f[i]), s[i])
    _, _, macro_f, _ = precision_recall_fscore_support(gold, pred, average="macro", zero_division=0)
    assert out["macro_f"] == approx(macro_f)


def test_assertion_scores_degenerate():
    empty = assertion_scores([], [])
    assert empty["n"] == 0 and empty["accuracy"] == 0.0 and empty["macro_f"] == 0.0
    assert sum(sum(row.values()) for row in empty["confusion"].values()) == 0
    single = assertion_scores(["negated"] * 4, ["negated"] * 4)  # single class, all correct
    assert single["accuracy"] == 1.0 and single["macro_f"] == 1.0
    assert single["per_class"]["present"]["support"] == 0
    with pytest.raises(ValueError, match="gold_labels has 2.*pred_labels has 1"):
        assertion_scores(["present", "present"], ["present"])


def test_assertion_scores_unknown_label_is_kept():
    out = assertion_scores(["present", "possible"], ["possible", "possible"], classes=("present", "negated"))
    assert list(out["confusion"]) == ["present", "negated", "possible"]
    assert out["confusion"]["present"]["possible"] == 1
    assert out["per_class"]["possible"]["tp"] == 1


# --------------------------------------------------------------------------------- codes
def _random_code_sets(seed, n_docs=60, vocab=12):
    rng = random.Random(seed)
    codes = [f"C{i:02d}" for i in range(vocab)]
    gold = [set(rng.sample(codes, rng.randint(0, 3))) for _ in range(n_docs)]
    pred = []
    for g in gold:
        p = {c for c in g if rng.random() < 0.7}
        p |= set(rng.sample(codes, rng.randint(0, 2)))
        pred.append(p)
    return gold, pred


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_code_scores_against_sklearn(seed):
    gold, pred = _random_code_sets(seed)
    out = code_scores(gold, pred)
    mlb = MultiLabelBinarizer().fit(gold + pred)
    yt, yp = mlb.transform(gold), mlb.transform(pred)
    for avg in ("micro", "macro"):
        p, r, f, _ = precision_recall_fscore_support(yt, yp, average=avg, zero_division=0)
        assert (out[avg]["p"], out[avg]["r"], out[avg]["f"]) == (approx(p), approx(r), approx(f))
    p, r, f, s = precision_recall_fscore_support(yt, yp, average=None, zero_division=0)
    for i, code in enumerate(mlb.classes_):
        assert out["per_code"][code]["f"] == approx(f[i])
        assert out["per_code"][code]["support"] == s[i]
    assert out["n_docs"] == len(gold)


def test_code_scores_hand_computed_and_degenerate():
    out = code_scores([{"R05.9", "J18.9"}, {"R91.8"}], [{"R05.9"}, {"R91.8", "J18.9"}])
    assert out["micro"] == {"p": 2 / 3, "r": 2 / 3, "f": approx(2 / 3), "tp": 2, "fp": 1, "fn": 1, "support": 3}
    assert out["per_code"]["J18.9"] == {"p": 0.0, "r": 0.0, "f": 0.0, "tp": 0, "fp": 1, "fn": 1, "support": 1}
    assert out["macro"]["f"] == approx((1 + 0 + 1) / 3)
    none = code_scores([], [])
    assert none["micro"]["f"] == 0.0 and none["per_code"] == {} and none["n_docs"] == 0
    assert code_scores([set()], [{"X"}])["micro"]["p"] == 0.0
    assert code_scores([{"X"}], [set()])["micro"]["r"] == 0.0
    assert code_scores([{"X"}, {"Y"}], [{"X"}, {"Y"}])["macro"]["f"] == 1.0
    with pytest.raises(ValueError):
        code_scores([{"X"}], [])


# ------------------------------------------------------------------------------- ranking
GOLD_R = [{"a", "b"}, {"c"}, set(), {"d"}]
RANKED = [["x", "a", "b"], ["c", "a"], ["a"], []]


@pytest.mark.parametrize(
    "k, p_at_k, r_at_k",
    [
        (1, (0 + 1 + 0) / 3, (0 + 1 + 0) / 3),
        (2, (0.5 + 0.5 + 0) / 3, (0.5 + 1 + 0) / 3),
        (3, (2 / 3 + 1 / 3 + 0) / 3, (1 + 1 + 0) / 3),
    ],
)
def test_precision_recall_at_k(k, p_at_k, r_at_k):
    assert precision_at_k(GOLD_R, RANKED, k) == approx(p_at_k)
    assert recall_at_k(GOLD_R, RANKED, k) == approx(r_at_k)


def test_mrr_hand_computed():
    assert mrr(GOLD_R, RANKED) == approx((1 / 2 + 1 + 0) / 3)
    assert mrr([{"a"}], [["a", "a", "b"]]) == 1.0


def test_ranking_degenerate():
    for fn in (lambda g, r: precision_at_k(g, r, 1), lambda g, r: recall_at_k(g, r, 1), mrr):
        assert fn([], []) == 0.0
        assert fn([set(), set()], [["a"], []]) == 0.0  # no gold anywhere
        with pytest.raises(ValueError, match="gold has 1.*ranked has 0"):
            fn([{"a"}], [])
    with pytest.raises(ValueError):
        precision_at_k([{"a"}], [["a"]], 0)
    # duplicates in a ranking do not count twice
    assert precision_at_k([{"a"}], [["a", "a"]], 2) == 0.5


def _single_label_ranking(seed, n=80, n_classes=7):
    rng = np.random.default_rng(seed)
    labels = [f"L{i}" for i in range(n_classes)]
    y = rng.integers(0, n_classes, size=n)
    scores = rng.random((n, n_classes))
    scores[np.arange(n), y] += rng.random(n) * 0.8  # make it better than chance
    ranked = [[labels[j] for j in np.argsort(-row, kind="stable")] for row in scores]
    gold = [{labels[i]} for i in y]
    return y, scores, gold, ranked


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("k", [1, 2, 3])
def test_recall_at_k_is_top_k_accuracy_for_single_gold(seed, k):
    y, scores, gold, ranked = _single_label_ranking(seed)
    expected = top_k_accuracy_score(y, scores, k=k, labels=list(range(scores.shape[1])))
    assert recall_at_k(gold, ranked, k) == approx(expected)
    assert precision_at_k(gold, ranked, k) == approx(expected / k)


@pytest.mark.parametrize("seed", [0, 1])
def test_mrr_is_lrap_for_single_gold(seed):
    y, scores, gold, ranked = _single_label_ranking(seed)
    onehot = np.zeros_like(scores, dtype=int)
    onehot[np.arange(len(y)), y] = 1
    assert mrr(gold, ranked) == approx(label_ranking_average_precision_score(onehot, scores))


@pytest.mark.parametrize(
    "gold_first, ranked, expected",
    [
        (["A", "B", None], [["A", "B"], ["A", "B"], ["Z"]], 0.5),
        (["A"], [[]], 0.0),  # empty ranking is wrong
        ([None, None], [["A"], []], 0.0),  # all excluded
        ([], [], 0.0),
        (["A", "B"], [["A"], ["B", "A"]], 1.0),
    ],
)
def test_first_listed_accuracy(gold_first, ranked, expected):
    assert first_listed_accuracy(gold_first, ranked) == approx(expected)


def test_first_listed_accuracy_mismatch():
    with pytest.raises(ValueError, match="gold_first has 1.*pred_ranked has 2"):
        first_listed_accuracy(["A"], [["A"], ["B"]])


# ----------------------------------------------------------------------------- CPT lines
def test_cpt_line_scores_hand_computed():
    gold = [
        [("73030", ("RT",), 1), ("73030", ("LT",), 1)],
        [("71046", (), 1)],
    ]
    pred = [
        [("73030", ("RT",), 1), ("73030", ("RT",), 1)],  # one right, one wrong laterality
        Counter({("71046", (), 2): 1}),  # right code, wrong units
    ]
    out = cpt_line_scores(gold, pred)
    assert out["n_docs"] == 2
    assert (out["line"]["tp"], out["line"]["fp"], out["line"]["fn"]) == (1, 2, 2)
    assert out["line"]["p"] == approx(1 / 3) and out["line"]["r"] == approx(1 / 3)
    assert (out["code"]["tp"], out["code"]["fp"], out["code"]["fn"]) == (3, 0, 0)
    assert out["code"]["f"] == 1.0


def test_cpt_line_scores_modifier_order_and_multiplicity():
    gold = [Counter({("77067", ("26", "GG"), 1): 2})]
    pred = [[("77067", ("GG", "26"), 1), ("77067", ("26", "GG"), 1), ("77067", ("26", "GG"), 1)]]
    out = cpt_line_scores(gold, pred)
    assert (out["line"]["tp"], out["line"]["fp"], out["line"]["fn"]) == (2, 1, 0)
    assert (out["code"]["tp"], out["code"]["fp"], out["code"]["fn"]) == (2, 1, 0)


def test_cpt_line_scores_degenerate():
    assert cpt_line_scores([], [])["line"]["f"] == 0.0
    assert cpt_line_scores([[]], [[("1", (), 1)]])["line"] == {"p": 0.0, "r": 0.0, "f": 0.0, "tp": 0, "fp": 1,
                                                              "fn": 0, "support": 0}
    with pytest.raises(ValueError, match="gold_lines has 0.*pred_lines has 1"):
        cpt_line_scores([], [[]])


# ---------------------------------------------------------------------------- calibration
def _calibration_data(seed, n=500):
    rng = np.random.default_rng(seed)
    prob = rng.random(n)
    y = (rng.random(n) < prob**1.5).astype(int)
    return y, prob


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("n_bins", [1, 5, 10])
def test_reliability_curve_matches_sklearn(seed, n_bins):
    y, prob = _calibration_data(seed)
    # bin edges exactly on boundaries exercise the right-closed convention
    prob[:5] = [0.0, 0.2, 0.5, 0.8, 1.0]
    frac, mean = calibration_curve(y, prob, n_bins=n_bins, strategy="uniform")
    curve = reliability_curve(y, prob, n_bins=n_bins)
    np.testing.assert_allclose(curve["frac_pos"], frac)
    np.testing.assert_allclose(curve["mean_pred"], mean)
    assert sum(curve["count"]) == len(y)
    assert all(lo < hi for lo, hi in zip(curve["bin_lower"], curve["bin_upper"]))
    # ECE agrees with a direct computation from the sklearn curve and our counts
    ece = float(np.sum(np.abs(frac - mean) * np.asarray(curve["count"])) / len(y))
    assert expected_calibration_error(y, prob, n_bins=n_bins) == approx(ece)


def test_quantile_strategy_matches_sklearn():
    y, prob = _calibration_data(3)
    frac, mean = calibration_curve(y, prob, n_bins=4, strategy="quantile")
    curve = reliability_curve(y, prob, n_bins=4, strategy="quantile")
    np.testing.assert_allclose(curve["frac_pos"], frac)
    np.testing.assert_allclose(curve["mean_pred"], mean)
    assert curve["count"] == [125, 125, 125, 125]


@pytest.mark.parametrize(
    "y, prob, n_bins, expected",
    [
        ([1, 0], [0.9, 0.1], 10, 0.1),  # |0.9-1|*1/2 + |0.1-0|*1/2
        ([1, 1, 0, 0], [0.75, 0.75, 0.75, 0.75], 4, 0.25),  # one bin: conf .75, acc .5
        ([1, 0, 1, 0], [1.0, 0.0, 1.0, 0.0], 10, 0.0),  # perfectly calibrated
        ([1, 1], [0.6, 0.6], 10, 0.4),  # single class
        ([], [], 10, 0.0),  # empty
    ],
)
def test_ece_hand_computed(y, prob, n_bins, expected):
    assert expected_calibration_error(y, prob, n_bins=n_bins) == approx(expected)


def test_calibration_errors_and_empty():
    assert reliability_curve([], []) == {"bin_lower": [], "bin_upper": [], "mean_pred": [], "frac_pos": [],
                                         "count": []}
    with pytest.raises(ValueError, match="outside"):
        expected_calibration_error([1], [1.2])
    with pytest.raises(ValueError, match="0/1"):
        reliability_curve([2], [0.5])
    with pytest.raises(ValueError, match="y_true has 2.*y_prob has 1"):
        expected_calibration_error([1, 0], [0.5])
    with pytest.raises(ValueError, match="strategy"):
        expected_calibration_error([1], [0.5], strategy="kmeans")


# ----------------------------------------------------------------------------- auto-code
def test_auto_code_curve_hand_computed():
    scores = [0.95, 0.9, 0.6, 0.3]
    correct = [True, False, True, False]
    curve = auto_code_curve(scores, correct, thresholds=[0.0, 0.5, 0.9, 0.99])
    assert curve == [
        {"threshold": 0.0, "n": 4, "share": 1.0, "precision": 0.5},
        {"threshold": 0.5, "n": 3, "share": 0.75, "precision": approx(2 / 3)},
        {"threshold": 0.9, "n": 2, "share": 0.5, "precision": 0.5},  # >= is inclusive
        {"threshold": 0.99, "n": 0, "share": 0.0, "precision": 0.0},
    ]


def test_auto_code_curve_defaults_and_degenerate():
    curve = auto_code_curve([0.5, 1.0], [True, True])
    assert [d["threshold"] for d in curve] == approx([i / 20 for i in range(21)])
    assert curve[-1] == {"threshold": 1.0, "n": 1, "share": 0.5, "precision": 1.0}
    assert all(d["precision"] == 1.0 for d in curve)  # all correct
    assert auto_code_curve([], [], thresholds=[0.5]) == [{"threshold": 0.5, "n": 0, "share": 0.0,
                                                          "precision": 0.0}]
    json.dumps(curve)
    with pytest.raises(ValueError, match="doc_scores has 1.*doc_correct has 0"):
        auto_code_curve([0.2], [])


# ---------------------------------------------------------------------------- bootstrap
def _micro_f(g, p):
    return code_scores(g, p)["micro"]["f"]


def test_bootstrap_ci_contains_point_and_is_reproducible():
    gold, pred = _random_code_sets(0, n_docs=80)
    point, lo, hi = bootstrap_ci(_micro_f, gold, pred, n_boot=200, seed=1)
    assert point == approx(_micro_f(gold, pred))
    assert lo <= point <= hi and lo < hi
    assert bootstrap_ci(_micro_f, gold, pred, n_boot=200, seed=1) == (point, lo, hi)
    assert bootstrap_ci(_micro_f, gold, pred, n_boot=200, seed=2) != (point, lo, hi)
    narrow = bootstrap_ci(_micro_f, gold, pred, n_boot=200, alpha=0.5, seed=1)
    assert lo <= narrow[1] <= narrow[2] <= hi


def test_bootstrap_ci_mean_of_numpy_array():
    x = np.arange(100, dtype=float)
    point, lo, hi = bootstrap_ci(np.mean, x, n_boot=500, seed=0)
    assert point == 49.5
    # the standard error of the mean is ~2.9, so the 95% CI is roughly ±5.7
    assert 42 < lo < 46 and 53 < hi < 57


def test_bootstrap_ci_degenerate():
    assert bootstrap_ci(np.mean, [1.0, 1.0, 1.0], n_boot=50) == (1.0, 1.0, 1.0)  # constant
    with pytest.raises(ValueError, match="0 documents"):
        bootstrap_ci(np.mean, [])
    with pytest.raises(ValueError, match="array0 has 2.*array1 has 1"):
        bootstrap_ci(_micro_f, [set(), set()], [set()])
    with pytest.raises(ValueError):
        bootstrap_ci(np.mean)
    with pytest.raises(ValueError):
        bootstrap_ci(np.mean, [1.0], alpha=1.5)


def test_paired_bootstrap_clear_winner():
    gold, pred_bad = _random_code_sets(4, n_docs=80)
    pred_good = [set(g) for g in gold]  # perfect system
    out = paired_bootstrap(_micro_f, gold, pred_good, pred_bad, n_boot=300, seed=0)
    assert out["a"] == 1.0 and out["b"] == approx(_micro_f(gold, pred_bad))
    assert out["delta"] == approx(out["a"] - out["b"]) and out["delta"] > 0
    assert 0 < out["lo"] <= out["delta"] <= out["hi"]
    assert out["p_value"] == 0.0
    flipped = paired_bootstrap(_micro_f, gold, pred_bad, pred_good, n_boot=300, seed=0)
    assert flipped["delta"] == approx(-out["delta"]) and flipped["p_value"] == 0.0


def test_paired_bootstrap_identical_systems_and_errors():
    gold, pred = _random_code_sets(5, n_docs=30)
    out = paired_bootstrap(_micro_f, gold, pred, pred, n_boot=50)
    assert out["delta"] == 0.0 and out["p_value"] == 1.0 and out["lo"] == out["hi"] == 0.0
    with pytest.raises(ValueError, match="pred_b has 1"):
        paired_bootstrap(_micro_f, gold, pred, pred[:1])
    with pytest.raises(ValueError, match="0 documents"):
        paired_bootstrap(_micro_f, [], [], [])


def test_paired_bootstrap_noisy_difference_has_large_p():
    rng = np.random.default_rng(0)
    a = rng.random(40)
    b = a + rng.normal(0, 0.3, 40)
    gold = list(range(40))

    def metric(g, p):
        return float(np.mean(p))

    out = paired_bootstrap(metric, gold, a, b, n_boot=500, seed=0)
    assert 0.0 < out["p_value"] <= 1.0
    assert out["lo"] <= out["delta"] <= out["hi"]
    assert not math.isnan(out["delta"])


def test_pr_curve_hand_computed():
    from radcoder.evaluation.metrics import pr_curve
    gold = [{"A", "B"}, {"C"}]
    scored = [[("A", 0.9), ("X", 0.5)], [("C", 0.7)]]
    pts = pr_curve(gold, scored)
    assert [p["threshold"] for p in pts] == [0.9, 0.7, 0.5]
    assert pts[0]["precision"] == 1.0 and abs(pts[0]["recall"] - 1 / 3) < 1e-9
    assert pts[1]["precision"] == 1.0 and abs(pts[1]["recall"] - 2 / 3) < 1e-9
    assert abs(pts[2]["precision"] - 2 / 3) < 1e-9
    assert pr_curve([], []) == [] and pr_curve([set()], [[]]) == []
