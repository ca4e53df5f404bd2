"""Probability that an invoice is paid late: gradient boosting, out-of-time early stopping and calibration."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin

from payrisk.errors import ParameterError
from payrisk.models._base import TimeSplitModel

__all__ = ["InstallmentAdherenceClassifier", "LatePaymentClassifier"]


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-7, 1 - 1e-7)
    return np.log(p / (1 - p))


def _log_loss(y: np.ndarray, p: np.ndarray) -> float:
    p = np.clip(p, 1e-7, 1 - 1e-7)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


class _Calibrator:
    """Platt (logistic on the logit) or isotonic map from raw to calibrated probability, JSON-serialisable."""

    def __init__(self, method: str, params: dict[str, Any] | None = None) -> None:
        self.method = method
        self.params = params or {}

    @classmethod
    def fit(cls, method: str, raw: np.ndarray, y: np.ndarray) -> _Calibrator:
        if method == "none":
            return cls("none")
        if method == "platt":
            from sklearn.linear_model import LogisticRegression

            lr = LogisticRegression(C=np.inf, max_iter=1000).fit(_logit(raw).reshape(-1, 1), y)
            return cls("platt", {"a": float(lr.coef_[0, 0]), "b": float(lr.intercept_[0])})
        from sklearn.isotonic import IsotonicRegression

        iso = IsotonicRegression(out_of_bounds="clip", y_min=1e-4, y_max=1 - 1e-4).fit(raw, y)
        return cls("isotonic", {"x": iso.X_thresholds_.tolist(), "y": iso.y_thresholds_.tolist()})

    def apply(self, raw: np.ndarray) -> np.ndarray:
        if self.method == "none":
            return raw
        if self.method == "platt":
            z = self.params["a"] * _logit(raw) + self.params["b"]
            return 1 / (1 + np.exp(-z))
        return np.interp(raw, self.params["x"], self.params["y"])

    def to_dict(self) -> dict[str, Any]:
        return {"method": self.method, "params": self.params}


class LatePaymentClassifier(TimeSplitModel, ClassifierMixin, BaseEstimator):
    """P(invoice paid late), calibrated, measured and stopped out of time.

    Rows are ordered by time (``time=`` in :meth:`fit`, or the ``as_of`` column that
    :func:`payrisk.features.invoice_features` returns). The earliest rows train the booster, the next
    ``valid_fraction`` decide when to stop adding trees, and the latest ``calibration_fraction`` fit the
    calibration map, so neither the stopping nor the calibration ever sees the rows it is judged on.
    ``calibration="auto"`` chooses Platt or isotonic by their log loss on the later half of the calibration
    slice when fitted on its earlier half, then refits the winner on the whole slice.

    Parameters
    ----------
    n_estimators, learning_rate, max_depth, min_child_weight, subsample, colsample_bytree, reg_lambda :
        XGBoost parameters (``n_estimators`` is the upper bound for early stopping).
    early_stopping_rounds : int
    valid_fraction, calibration_fraction : float
        Shares of the latest rows used for early stopping and for calibration.
    calibration : {"auto", "isotonic", "platt", "none"}
    monotone : bool
        Constrain features with a known risk direction in ``pr.features.registry`` to move the score that way.
    n_jobs, random_state : int

    Attributes
    ----------
    booster_ : xgboost.Booster
    feature_names_in_ : ndarray of str
    best_iteration_ : int
    calibration_method_ : str
    training_as_of_ : pandas.Timestamp or None
        The latest row time seen in fit.

    Examples
    --------
    >>> import payrisk as pr
    >>> ledger = pr.datasets.make_ledger(n_customers=300, seed=0)
    >>> X = pr.features.invoice_features(ledger, "issue_date")
    >>> y = pr.labels.late_payment(ledger, as_of="2024-12-31")
    >>> X = X.loc[y.index]
    >>> clf = LatePaymentClassifier(n_estimators=50).fit(X, y)
    >>> p = clf.predict_proba(X)[:, 1]
    >>> bool(((p > 0) & (p < 1)).all())
    True
    """

    def __init__(
        self,
        *,
        n_estimators: int = 600,
        learning_rate: float = 0.05,
        max_depth: int = 4,
        min_child_weight: float = 5.0,
        subsample: float = 0.8,
        colsample_bytree: float = 0.8,
        reg_lambda: float = 1.0,
        early_stopping_rounds: int = 40,
        valid_fraction: float = 0.15,
        calibration_fraction: float = 0.15,
        calibration: str = "auto",
        monotone: bool = False,
        n_jobs: int = 2,
        random_state: int = 0,
    ) -> None:
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.max_depth = max_depth
        self.min_child_weight = min_child_weight
        self.subsample = subsample
        self.colsample_bytree = colsample_bytree
        self.reg_lambda = reg_lambda
        self.early_stopping_rounds = early_stopping_rounds
        self.valid_fraction = valid_fraction
        self.calibration_fraction = calibration_fraction
        self.calibration = calibration
        self.monotone = monotone
        self.n_jobs = n_jobs
        self.random_state = random_state

    _kind: ClassVar[str] = "LatePaymentClassifier"

    def _check_params(self) -> None:
        if self.calibration not in ("auto", "isotonic", "platt", "none"):
            raise ParameterError(
                f"The 'calibration' parameter of {type(self).__name__} must be one of 'auto', 'isotonic', 'platt', "
                f"'none'. Got {self.calibration!r} instead."
            )

    # -- fit / predict --------------------------------------------------------------------------------------
    def fit(self, X: pd.DataFrame, y: Any, time: Any = None) -> LatePaymentClassifier:
        """Fit on rows ordered by ``time`` (default ``X["as_of"]``); see the class docstring for the splits."""
        import xgboost as xgb

        self._check_params()
        y = np.asarray(y, dtype=np.float64)
        M, names, order, t = self._order(X, len(y), time)
        y = y[order]
        n = len(y)
        n_tr, n_val, n_cal = self._splits(n, calibrate=self.calibration != "none")
        dtrain = xgb.DMatrix(M[:n_tr], label=y[:n_tr], feature_names=names)
        dval = xgb.DMatrix(M[n_tr : n_tr + n_val], label=y[n_tr : n_tr + n_val], feature_names=names) if n_val else None
        booster = self._train(self._xgb_params(names), dtrain, dval)
        self._set_fitted(booster, names, t, time is not None or "as_of" in X.columns, M)
        self.classes_ = np.array([0, 1])
        raw_cal = self._raw(M[n - n_cal :]) if n_cal else np.zeros(0)
        self.calibration_method_, self.calibrator_ = self._fit_calibration(raw_cal, y[n - n_cal :])
        return self

    def _xgb_params(self, names: list[str]) -> dict[str, Any]:
        return {**self._tree_params(names), "objective": "binary:logistic", "eval_metric": "logloss"}

    def _fit_calibration(self, raw: np.ndarray, y: np.ndarray) -> tuple[str, _Calibrator]:
        if self.calibration == "none" or len(raw) == 0:
            return "none", _Calibrator("none")
        if self.calibration != "auto":
            return self.calibration, _Calibrator.fit(self.calibration, raw, y)
        half = len(raw) // 2
        scores = {}
        for method in ("platt", "isotonic"):
            cal = _Calibrator.fit(method, raw[:half], y[:half])
            scores[method] = _log_loss(y[half:], cal.apply(raw[half:]))
        best = min(scores, key=scores.get)
        self.calibration_scores_ = scores
        return best, _Calibrator.fit(best, raw, y)

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        """Calibrated probabilities, shape (n, 2): column 1 is P(late)."""
        raw = self._raw(self._matrix(X))
        p = self.calibrator_.apply(raw)
        return np.column_stack([1 - p, p])

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """1 where P(late) >= 0.5."""
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(int)

    # -- persistence ----------------------------------------------------------------------------------------
    def _calibration_doc(self) -> dict[str, Any]:
        return self.calibrator_.to_dict()

    def _restore_calibration(self, doc: dict[str, Any]) -> None:
        self.classes_ = np.array([0, 1])
        self.calibration_method_ = doc["method"]
        self.calibrator_ = _Calibrator(doc["method"], doc["params"])


class InstallmentAdherenceClassifier(LatePaymentClassifier):
    """P(payment plan kept) at plan creation, or P(next instalment paid on time) during a plan.

    The same calibrated, out-of-time gradient-boosting classifier as :class:`LatePaymentClassifier`, fitted on
    :func:`payrisk.features.plan_features` rows (``"created_date"`` cutoffs with :func:`payrisk.labels.plan_kept`
    for gating plan offers; ``"installment_due"`` cutoffs for the next instalment). Its default trees are
    smaller because plans are few.

    Examples
    --------
    >>> InstallmentAdherenceClassifier().get_params()["max_depth"]
    3
    """

    _kind: ClassVar[str] = "InstallmentAdherenceClassifier"
    _risk_sign: ClassVar[int] = -1  # the positive class (kept, paid on time) is the good outcome

    def __init__(
        self,
        *,
        n_estimators: int = 400,
        learning_rate: float = 0.05,
        max_depth: int = 3,
        min_child_weight: float = 3.0,
        subsample: float = 0.8,
        colsample_bytree: float = 0.8,
        reg_lambda: float = 2.0,
        early_stopping_rounds: int = 40,
        valid_fraction: float = 0.2,
        calibration_fraction: float = 0.2,
        calibration: str = "platt",
        monotone: bool = False,
        n_jobs: int = 2,
        random_state: int = 0,
    ) -> None:
        super().__init__(
            n_estimators=n_estimators,
            learning_rate=learning_rate,
            max_depth=max_depth,
            min_child_weight=min_child_weight,
            subsample=subsample,
            colsample_bytree=colsample_bytree,
            reg_lambda=reg_lambda,
            early_stopping_rounds=early_stopping_rounds,
            valid_fraction=valid_fraction,
            calibration_fraction=calibration_fraction,
            calibration=calibration,
            monotone=monotone,
            n_jobs=n_jobs,
            random_state=random_state,
        )
