"""CMC 2007 report-level coder: threshold tuning and decoding (synthetic data, no pipeline needed)."""

import numpy as np
import pytest

pytest.importorskip("sklearn")

from radcoder.benchmarks.cmc2007 import CmcCoder, decode_row, tune_thresholds


def test_decode_row_keeps_codes_over_their_threshold_best_first():
    row = np.array([0.2, 0.9, 0.5])
    assert decode_row(row, ["A", "B", "C"], 0.4) == [("B", 0.9), ("C", 0.5)]
    # per-code thresholds: A passes its low threshold, C fails its high one
    assert [c for c, _ in decode_row(row, ["A", "B", "C"], [0.1, 0.4, 0.6])] == ["B", "A"]


def test_decode_row_falls_back_to_best_code():
    assert decode_row(np.array([0.1, 0.3, 0.2]), ["A", "B", "C"], 0.4) == [("B", 0.3)]


def test_tune_thresholds_finds_per_code_cut_points():
    # code 0: positives score 0.3, negatives 0.1 (needs a low threshold);
    # code 1: positives score 0.9, negatives 0.6 (needs a high one). No single threshold separates both.
    rng = np.random.default_rng(0)
    n = 40
    Y = np.zeros((n, 2), dtype=int)
    Y[:20, 0] = 1
    Y[10:30, 1] = 1
    P = np.where(Y[:, [0]] == 1, 0.3, 0.1) * np.array([[1, 0]]) + np.where(Y[:, [1]] == 1, 0.9, 0.6) * np.array([[0, 1]])
    P = P + rng.uniform(-0.01, 0.01, P.shape)
    thr = tune_thresholds(P, Y, min_pos=3)
    assert 0.1 < thr[0] <= 0.3
    assert 0.6 < thr[1] <= 0.9
    B = (P >= thr).astype(int)
    assert (B == Y).all()
    # codes with too few positives keep the global threshold
    thr_global = tune_thresholds(P, Y, min_pos=1000)
    assert thr_global[0] == thr_global[1]


def _views():
    reports = [("cough", "R05.9"), ("fever", "R50.9"), ("pneumonia", "J18.9"), ("reflux", "N13.70")]
    views, labels = [], []
    for i in range(40):
        word, code = reports[i % 4]
        views.append({"tokens": f"clinical history {word} day {i % 7} impression normal", "concepts": ""})
        labels.append([code])
    return views, labels


def test_cmc_coder_default_uses_fixed_threshold():
    views, labels = _views()
    coder = CmcCoder().fit(views, labels)
    assert not coder.per_code_thresholds
    assert np.allclose(coder.thresholds_, 0.3)
    assert [[c for c, _ in p] for p in coder.predict(views[:4])] == labels[:4]


def test_cmc_coder_per_code_thresholds_are_tuned():
    views, labels = _views()
    coder = CmcCoder(per_code_thresholds=True, inner_folds=4).fit(views, labels)
    assert len(coder.thresholds_) == len(coder.classes_) == 4
    assert all(0.15 <= t <= 0.75 for t in coder.thresholds_)
    assert [[c for c, _ in p] for p in coder.predict(views[:4])] == labels[:4]
