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


def _ambiguous_views():
    """Reports saying "ambig" are gold A or B half and half (the gold model scores both about 0.5); every
    coder says A for them. Other reports are unambiguous C or D."""
    views, gold, coder = [], [], []
    for i in range(48):
        if i % 2 == 0:
            views.append({"tokens": f"clinical history ambig day {i % 5} impression normal", "concepts": ""})
            gold.append(["A"] if i % 4 == 0 else ["B"])
            coder.append(["A"])
        else:
            code = "C" if i % 4 == 1 else "D"
            views.append({"tokens": f"clinical history word{code} day {i % 5} impression normal", "concepts": ""})
            gold.append([code])
            coder.append([code, "OTHER"])  # a code outside the gold set is ignored
    return views, gold, [coder, coder, coder]


def test_cmc_coder_ensemble_averages_gold_and_coder_models():
    views, gold, coders = _ambiguous_views()
    alone = CmcCoder().fit(views, gold)
    ens = CmcCoder().fit(views, gold, coders)
    assert alone.n_models_ == 1 and ens.n_models_ == 4
    assert ens.classes_ == ["A", "B", "C", "D"]  # OTHER never became a class
    X = ens._X(views[:4])
    parts = [clf.predict_proba(X) for clf in ens.clfs_]
    assert np.allclose(ens.predict_proba(views[:4]), np.mean(parts, axis=0))
    # member 0 is the gold model (liblinear is randomised: equal up to its tolerance)
    assert np.allclose(parts[0], alone.predict_proba(views[:4]), atol=1e-3)
    # gold-only: A and B both pass 0.3 on an ambiguous report; the coders pull B under it
    assert sorted(c for c, _ in alone.predict([views[0]])[0]) == ["A", "B"]
    assert [c for c, _ in ens.predict([views[0]])[0]] == ["A"]
    assert [c for c, _ in ens.predict([views[1]])[0]] == ["C"]


def test_cmc_coder_use_coders_false_ignores_coder_labels():
    views, gold, coders = _ambiguous_views()
    c = CmcCoder(use_coders=False).fit(views, gold, coders)
    assert c.n_models_ == 1
    assert sorted(x for x, _ in c.predict([views[0]])[0]) == ["A", "B"]


def test_cmc_coder_rejects_misaligned_coder_labels():
    views, gold, coders = _ambiguous_views()
    with pytest.raises(ValueError):
        CmcCoder().fit(views, gold, [coders[0][:-1]])


def test_cmc_coder_ensemble_with_per_code_thresholds():
    views, gold, coders = _ambiguous_views()
    c = CmcCoder(per_code_thresholds=True, inner_folds=4).fit(views, gold, coders)
    assert c.n_models_ == 4 and len(c.thresholds_) == 4
    assert [x for x, _ in c.predict([views[1]])[0]] == ["C"]


CMC_XML = """<?xml version='1.0' standalone='yes'?>
<docs>
  <doc id="1" type="RADIOLOGY_REPORT">
    <codes>
      <code origin="CMC_MAJORITY" type="ICD-9-CM">786.2</code>
      <code origin="COMPANY1" type="ICD-9-CM">786.2</code>
      <code origin="COMPANY2" type="ICD-9-CM">786.2</code>
      <code origin="COMPANY2" type="ICD-9-CM">204.00</code>
      <code origin="COMPANY3" type="ICD-9-CM">741.9</code>
    </codes>
    <texts>
      <text origin="CCHMC_RADIOLOGY" type="CLINICAL_HISTORY">Cough.</text>
      <text origin="CCHMC_RADIOLOGY" type="IMPRESSION">Normal.</text>
    </texts>
  </doc>
  <doc id="2" type="RADIOLOGY_REPORT">
    <codes>
      <code origin="CMC_MAJORITY" type="ICD-9-CM">741.90</code>
      <code origin="COMPANY1" type="ICD-9-CM">741.90</code>
      <code origin="COMPANY3" type="ICD-9-CM">741.90</code>
    </codes>
    <texts>
      <text origin="CCHMC_RADIOLOGY" type="CLINICAL_HISTORY">Spina bifida.</text>
      <text origin="CCHMC_RADIOLOGY" type="IMPRESSION">Normal.</text>
    </texts>
  </doc>
</docs>
"""


def test_load_coder_codes_maps_each_company_in_document_order(tmp_path):
    from radcoder.benchmarks.cmc2007 import load_coder_codes
    p = tmp_path / "x.xml"
    p.write_text(CMC_XML)
    m = {"786.2": "R05.9", "741.90": "Q05.9"}
    c1, c2, c3 = load_coder_codes(p, m)
    assert c1 == [["R05.9"], ["Q05.9"]]
    assert c2 == [["204.00", "R05.9"], []]  # unmapped codes stay as written
    assert c3 == [["Q05.9"], ["Q05.9"]]  # 741.9 reads as 741.90
    # an origin coding no report is left out
    assert len(load_coder_codes(p, m, origins=("COMPANY1", "COMPANY4"))) == 1


def test_load_coder_codes_majority_matches_gold_on_dev():
    import collections

    import radcoder
    shared = radcoder.corpus.shared_data_dir()
    if shared is None or not (shared / "cmc2007" / "cmc2007_dev.xml").exists():
        pytest.skip("shared CMC 2007 data not available")
    from radcoder.benchmarks.cmc2007 import load_coder_codes, load_xml
    from radcoder.corpus import read_icd9_map
    icd9 = read_icd9_map(shared / "cmc2007" / "icd9_to_icd10cm.tsv")
    xml = shared / "cmc2007" / "cmc2007_dev.xml"
    _, gold = load_xml(xml, icd9)
    coders = load_coder_codes(xml, icd9)
    assert len(coders) == 3 and all(len(rows) == len(gold) for rows in coders)
    agree = 0
    for i, g in enumerate(gold):
        votes = collections.Counter(c for rows in coders for c in rows[i])
        agree += sorted(c for c, n in votes.items() if n >= 2) == g
    # gold is the two-of-three vote; it differs only where 741.9 / 789.0 were merged with 741.90 / 789.00
    assert agree >= len(gold) - 10
