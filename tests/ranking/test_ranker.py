import numpy as np
import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from radcoder.ranking.ranker import CodeRanker
from radcoder.ranking.features import blocked, candidate_codes, features
from radcoder.coding import FindingMention, IcdDecision


@parametrize_with_checks([CodeRanker()])
def test_ranker_sklearn_contract(estimator, check):
    check(estimator)


def _data():
    rng = np.random.default_rng(0)
    X = [{"rule_selected": float(i % 2), "assert=present": float(i % 3 == 0), "bias": 1.0,
          "n_mentions": rng.random()} for i in range(60)]
    y = [int(x["rule_selected"] == 1.0) for x in X]
    return X, y


def test_ranker_round_trip_without_pickle(tmp_path):
    X, y = _data()
    est = CodeRanker(C=2.0).fit(X, y)
    est.save(tmp_path)
    assert not list(tmp_path.glob("*.pkl"))
    again = CodeRanker.load(tmp_path)
    assert np.allclose(est.predict_proba(X), again.predict_proba(X))
    assert again.get_params() == est.get_params()


def test_ranker_validates_params_and_features():
    X, y = _data()
    with pytest.raises(ValueError, match="C must be"):
        CodeRanker(C=0).fit(X, y)
    est = CodeRanker().fit(X, y)
    with pytest.raises(ValueError, match="features"):
        est.decision_function(np.zeros((2, 99)))


def test_ranker_features_and_blocking():
    ms = [FindingMention("J18.9", "present", "impression", 10, 19, "pneumonia"),
          FindingMention("J90", "negated", "findings", 30, 46, "pleural effusion"),
          FindingMention("R05.9", "present", "indication", 0, 5, "cough")]
    decisions = [IcdDecision("J18.9", "confirmed diagnosis")]
    cands = candidate_codes(ms, decisions)
    assert cands == ["J18.9", "J90", "R05.9"]
    assert blocked("J90", ms, decisions) and not blocked("J18.9", ms, decisions)
    f = features("J18.9", ms, decisions, 60)
    assert f["rule_selected"] == 1.0 and f["assert=present"] == 1.0 and f["present_in=impression"] == 1.0
