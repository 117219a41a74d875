"""CodeRanker: a scikit-learn classifier over candidate-code feature dicts.

Follows the estimator contract (parameters in ``__init__``, validation and learning in ``fit``, fitted
attributes end in ``_``) and saves to JSON + ``.npy`` (``allow_pickle=False``), never pickle.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.utils.validation import check_is_fitted


class CodeRanker(ClassifierMixin, BaseEstimator):
    """Binary classifier: is this candidate code part of the gold coding?

    Parameters
    ----------
    C : float
        Inverse regularization strength of the logistic regression.
    class_weight : None or "balanced"
        Class weights passed to the logistic regression.
    max_iter : int
        Solver iterations.
    """

    def __init__(self, C: float = 1.0, class_weight=None, max_iter: int = 2000):
        self.C = C
        self.class_weight = class_weight
        self.max_iter = max_iter

    # feature dicts -> matrix ------------------------------------------------------------
    def _vectorize(self, X) -> np.ndarray:
        if isinstance(X, np.ndarray) or (hasattr(X, "shape") and not isinstance(X, list)):
            return np.asarray(X, dtype=float)
        if len(X) and not isinstance(X[0], Mapping):
            return np.asarray(X, dtype=float)
        index = {f: i for i, f in enumerate(self.feature_names_)}
        M = np.zeros((len(X), len(index)))
        for r, feats in enumerate(X):
            for k, v in feats.items():
                j = index.get(k)
                if j is not None:
                    M[r, j] = float(v)
        return M

    def fit(self, X, y):
        if self.C <= 0:
            raise ValueError(f"C must be > 0; got {self.C}.")
        y = np.asarray(y)
        if len(X) and isinstance(X[0], Mapping):
            names = sorted({k for feats in X for k in feats})
            self.feature_names_ = names
            M = self._vectorize(X)
        else:
            from sklearn.utils.validation import check_X_y
            M, y = check_X_y(X, y)
            self.feature_names_ = [f"x{i}" for i in range(M.shape[1])]
        self.n_features_in_ = M.shape[1]
        lr = LogisticRegression(C=self.C, class_weight=self.class_weight, max_iter=self.max_iter)
        lr.fit(M, y)
        self.classes_ = lr.classes_
        self.coef_ = lr.coef_
        self.intercept_ = lr.intercept_
        return self

    def decision_function(self, X) -> np.ndarray:
        check_is_fitted(self, "coef_")
        M = self._vectorize(X)
        if M.ndim != 2 or M.shape[1] != self.coef_.shape[1]:
            raise ValueError(f"X has {M.shape[-1] if M.ndim else 0} features; the ranker was fitted with "
                             f"{self.coef_.shape[1]}.")
        scores = M @ self.coef_.T + self.intercept_
        return scores.ravel() if scores.shape[1] == 1 else scores

    def predict_proba(self, X) -> np.ndarray:
        d = self.decision_function(X)
        if d.ndim == 1:
            p = 1.0 / (1.0 + np.exp(-d))
            return np.column_stack([1 - p, p])
        e = np.exp(d - d.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    def predict(self, X) -> np.ndarray:
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]

    # persistence -------------------------------------------------------------------------
    def save(self, path: str | Path) -> None:
        check_is_fitted(self, "coef_")
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        meta = {"params": self.get_params(), "feature_names": list(self.feature_names_),
                "classes": [c.item() if hasattr(c, "item") else c for c in self.classes_]}
        (path / "ranker.json").write_text(json.dumps(meta, indent=1))
        np.save(path / "coef.npy", np.asarray(self.coef_), allow_pickle=False)
        np.save(path / "intercept.npy", np.asarray(self.intercept_), allow_pickle=False)

    @classmethod
    def load(cls, path: str | Path) -> CodeRanker:
        path = Path(path)
        meta = json.loads((path / "ranker.json").read_text())
        est = cls(**meta["params"])
        est.feature_names_ = list(meta["feature_names"])
        est.classes_ = np.asarray(meta["classes"])
        est.coef_ = np.load(path / "coef.npy", allow_pickle=False)
        est.intercept_ = np.load(path / "intercept.npy", allow_pickle=False)
        est.n_features_in_ = est.coef_.shape[1]
        return est


def _as_list(x: Sequence) -> list:
    return list(x)
