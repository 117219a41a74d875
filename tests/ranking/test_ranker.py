import numpy as np
import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from radcoder.coding import FindingMention, IcdDecision
from radcoder.ranking.features import blocked, candidate_codes, features
from radcoder.ranking.ranker import CodeRanker


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


def test_ranker_features_flag_unspecified_and_normalizer_source():
    ms = [FindingMention("M85.80", "present", "impression", 0, 10, "osteopenia", "osteopenia"),
          FindingMention("M85.89", "present", "impression", 20, 34, "low bone mass", None)]
    decisions = [IcdDecision("M85.80", "confirmed diagnosis"), IcdDecision("M85.89", "confirmed diagnosis")]
    f = features("M85.80", ms, decisions, 40)
    assert f["unspecified"] == 1.0 and f["has_concept"] == 1.0 and f["same_category_rule_code"] == 1.0
    g = features("M85.89", ms, decisions, 40)
    assert "unspecified" not in g and g["has_concept"] == 0.0


class _Doc:
    def __init__(self, text):
        self.text = text


def _always(p):
    """A fitted ranker whose probability is ``p`` for every candidate."""
    X = [{"bias": 1.0}, {"bias": 1.0}]
    est = CodeRanker().fit(X, [0, 1])
    est.coef_ = np.zeros_like(est.coef_)
    est.intercept_ = np.asarray([np.log(p / (1 - p))])
    return est


def test_rescorer_round_trip_keeps_reject_threshold(tmp_path):
    from radcoder.ranking.rescoring import IcdRescorer
    r = IcdRescorer(_always(0.6), threshold=0.55, reject=0.22)
    r.save(tmp_path)
    again = IcdRescorer.load(tmp_path)
    assert again.threshold == 0.55 and again.reject == 0.22


def test_rescorer_never_adds_uncoded_or_redundant_codes():
    from radcoder.ranking.rescoring import IcdRescorer
    text = "x" * 80
    ms = [FindingMention("C34.90", "present", "impression", 0, 11, "lung cancer"),
          FindingMention("Z98.890", "present", "indication", 20, 27, "surgery"),
          FindingMention("C80.1", "present", "findings", 30, 40, "malignancy")]
    decisions = [IcdDecision("C34.90", "confirmed diagnosis")]
    out = IcdRescorer(_always(0.9)).rescore(_Doc(text), ms, decisions)
    assert [d.code for d in out] == ["C34.90"]
    assert out[0].score == pytest.approx(0.9)


def test_ranker_may_not_add_a_finding_stated_only_in_the_body():
    # §7.19: with an impression, a code whose present mentions are all in FINDINGS is not added
    ms = [FindingMention("I63.9", "present", "impression", 50, 63, "acute infarct"),
          FindingMention("I67.82", "present", "findings", 20, 45, "small vessel ischemic disease"),
          FindingMention("R47.81", "present", "indication", 0, 14, "slurred speech"),
          FindingMention("J98.11", "present", "technique", 70, 81, "atelectasis")]
    decisions = [IcdDecision("I63.9", "confirmed diagnosis")]
    assert blocked("I67.82", ms, decisions, has_impression=True)
    assert blocked("J98.11", ms, decisions, has_impression=True)
    assert not blocked("R47.81", ms, decisions, has_impression=True)
    # without an impression the body is where the diagnoses are
    assert not blocked("I67.82", ms, decisions, has_impression=False)
    # a rule code is never blocked
    assert not blocked("I67.82", ms, [*decisions, IcdDecision("I67.82", "incidental")], has_impression=True)
