"""Candidate features and the trained code ranker (scikit-learn estimator, persisted without pickle)."""

from .ranker import CodeRanker  # noqa: F401
