"""CodeRanker: a scikit-learn classifier over candidate-code feature dicts.

Follows the estimator contract (parameters in ``__init__``, validation and learning in ``fit``, fitted
attributes end in ``_``) and saves to JSON + ``.npy`` (``allow_pickle=False``), never pickle.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
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

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

    # feature dicts -> matrix ------------------------------------------------------------
    @staticmethod
    def _is_dicts(X) -> bool:
        return isinstance(X, (list, tuple)) and len(X) > 0 and isinstance(X[0], Mapping)

    def _dicts_to_matrix(self, X) -> np.ndarray:
        index = {f: i for i, f in enumerate(self.feature_names_)}
        M = np.zeros((len(X), len(index)))
        for r, feats in enumerate(X):
            for k, v in feats.items():
                j = index.get(k)
                if j is not None:
                    M[r, j] = float(v)
        return M

    def fit(self, X, y):
        from sklearn.utils.validation import validate_data
        if not isinstance(self.C, (int, float)) or self.C <= 0:
            raise ValueError(f"C must be > 0; got {self.C}.")
        if self._is_dicts(X):
            self.feature_names_ = sorted({k for feats in X for k in feats})
            M = self._dicts_to_matrix(X)
            y = np.asarray(y)
            self.n_features_in_ = M.shape[1]
        else:
            M, y = validate_data(self, X, y, accept_sparse="csr")
            self.feature_names_ = [f"x{i}" for i in range(M.shape[1])]
        from sklearn.utils.multiclass import check_classification_targets
        check_classification_targets(y)
        lr = LogisticRegression(C=self.C, class_weight=self.class_weight, max_iter=self.max_iter)
        lr.fit(M, y)
        self.classes_ = lr.classes_
        self.coef_ = lr.coef_
        self.intercept_ = lr.intercept_
        self.n_iter_ = lr.n_iter_
        return self

    def _matrix(self, X):
        from sklearn.utils.validation import validate_data
        check_is_fitted(self, "coef_")
        if self._is_dicts(X):
            return self._dicts_to_matrix(X)
        return validate_data(self, X, reset=False, accept_sparse="csr")

    def decision_function(self, X) -> np.ndarray:
        M = self._matrix(X)
        if M.shape[1] != self.coef_.shape[1]:
            raise ValueError(f"X has {M.shape[1]} features; the ranker was fitted with {self.coef_.shape[1]}.")
        scores = np.asarray(M @ self.coef_.T) + self.intercept_
        return scores.ravel() if scores.shape[1] == 1 else scores

    def predict_proba(self, X) -> np.ndarray:
        d = self.decision_function(X)
        if d.ndim == 1:
            p = 1.0 / (1.0 + np.exp(-d))
            return np.column_stack([1 - p, p])
        e = np.exp(d - d.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    def predict(self, X) -> np.ndarray:
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]

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
        est.n_iter_ = np.asarray([0])
        return est

