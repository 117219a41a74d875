"""Cross-fitted ranker rows: each fold is featurized with a normalizer memory that never saw it."""
from collections import Counter

import pytest

from radcoder.components.normalizer import norm
from radcoder.ranking import train as T


class _Norm:
    def __init__(self):
        self.memory = {"shipped phrase": "Z00.00"}

    def learn(self, pairs):  # same contract as the normalizer: replaces the memory
        self.memory = {norm(t): c for t, c in pairs}


class _Nlp:
    def __init__(self):
        self.norm = _Norm()

    def get_pipe(self, name):
        assert name == "radcoder_normalizer"
        return self.norm


def _rec(i, origin="handwritten"):
    return {"id": f"r{i}", "origin": origin, "icd10cm": ["J18.9"], "text": f"report {i}",
            "spans": [{"label": "FINDING", "text": f"finding{i}", "icd10cm": "J18.9", "assertion": "present"},
                      {"label": "FINDING", "text": f"old{i}", "icd10cm": "J90", "assertion": "historical"},
                      {"label": "ANATOMY", "text": f"lung{i}", "icd10cm": None}]}


def test_fold_of_is_deterministic_and_balanced():
    ids = [f"doc-{i}" for i in range(500)]
    folds = [T.fold_of(i) for i in ids]
    assert folds == [T.fold_of(i) for i in ids]
    assert set(folds) == set(range(T.K_FOLDS))
    assert min(Counter(folds).values()) > 500 / T.K_FOLDS * 0.6
    assert T.fold_of("doc-1", salt="other") in range(T.K_FOLDS)


def test_memory_pairs_keeps_coded_non_historical_findings():
    assert T.memory_pairs([_rec(1)]) == [("finding1", "J18.9")]


def test_crossfit_rows_memory_never_holds_the_fold(monkeypatch):
    recs = [_rec(i) for i in range(40)]
    templates = [_rec(100 + i, "template") for i in range(20)]
    nlp = _Nlp()
    calls = []

    def fake_rows(nlp_, fold):
        calls.append(([r["id"] for r in fold], dict(nlp_.get_pipe("radcoder_normalizer").memory)))
        return [{"bias": 1.0} for _ in fold], [1 for _ in fold]

    monkeypatch.setattr(T, "ranker_rows", fake_rows)
    X, y = T.crossfit_rows(nlp, recs, memory_records=recs + templates)
    assert len(X) == len(y) == len(recs)
    seen = [i for ids, _ in calls for i in ids]
    assert sorted(seen) == sorted(r["id"] for r in recs)          # every report once, out of fold
    for ids, memory in calls:
        for i in ids:
            assert f"finding{i[1:]}" not in memory                 # its own spans are not remembered
        others = {r["id"] for r in recs if r["id"] not in ids}
        assert all(f"finding{o[1:]}" in memory for o in others)    # the other folds' spans are
        fold = T.fold_of(ids[0])
        assert all(f"finding{t['id'][1:]}" in memory for t in templates if T.fold_of(t["id"]) != fold)
    assert nlp.norm.memory == {"shipped phrase": "Z00.00"}          # the pipeline's memory is restored


def test_ranker_records_by_origin():
    recs = [_rec(1), _rec(2, "template"), {**_rec(3), "icd10cm": None}]
    assert [r["id"] for r in T.ranker_records(recs, None)] == ["r1", "r2"]
    assert [r["id"] for r in T.ranker_records(recs, ("handwritten",))] == ["r1"]


def test_fit_ranker_uses_crossfit_rows_and_saves_without_pickle(monkeypatch, tmp_path):
    import radcoder.pipeline as P
    recs = [_rec(i) for i in range(10)]
    monkeypatch.setattr(P, "load", lambda path: _Nlp())
    got = {}

    def fake_crossfit(nlp, records, memory_records=None, k=T.K_FOLDS, exclude=frozenset()):
        got.update(n=len(records), mem=len(memory_records), k=k)
        X = [{"bias": 1.0, "rule_selected": float(i % 2)} for i in range(20)]
        return X, [i % 2 for i in range(20)]

    monkeypatch.setattr(T, "crossfit_rows", fake_crossfit)
    monkeypatch.setattr(T, "ranker_rows", lambda *a: pytest.fail("in-sample rows used"))
    out = T.fit_ranker("unused", tmp_path / "ranker", records=recs)
    assert got == {"n": 10, "mem": 10, "k": T.K_FOLDS}
    assert (out / "ranker.json").exists() and not list(out.glob("*.pkl"))
    from radcoder.ranking.rescoring import IcdRescorer
    assert IcdRescorer.load(out).ranker.predict_proba([{"bias": 1.0, "rule_selected": 1.0}])[0, 1] > 0.5
