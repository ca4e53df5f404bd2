"""Probability that an invoice is paid late: gradient boosting, out-of-time early stopping and calibration."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin

from payrisk.errors import NotFittedError, ParameterError
from payrisk.models._persist import FeatureSpec, ModelMetadata, read_model, write_model

__all__ = ["LatePaymentClassifier"]


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


class LatePaymentClassifier(ClassifierMixin, BaseEstimator):
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

    # -- helpers --------------------------------------------------------------------------------------------
    def _check_params(self) -> None:
        if self.calibration not in ("auto", "isotonic", "platt", "none"):
            raise ParameterError(
                "The 'calibration' parameter of LatePaymentClassifier must be one of 'auto', 'isotonic', 'platt', "
                f"'none'. Got {self.calibration!r} instead."
            )
        for name in ("valid_fraction", "calibration_fraction"):
            v = getattr(self, name)
            if not 0 <= v < 0.5:
                raise ParameterError(f"The {name!r} parameter of LatePaymentClassifier must be in [0, 0.5). Got {v}.")

    @staticmethod
    def _numeric(X: pd.DataFrame) -> pd.DataFrame:
        return X.select_dtypes(include=["number", "bool"])

    def _matrix(self, X: pd.DataFrame) -> np.ndarray:
        if not hasattr(self, "booster_"):
            raise NotFittedError("This LatePaymentClassifier is not fitted yet; call fit(X, y) first.")
        if not isinstance(X, pd.DataFrame):
            raise ParameterError("X must be a DataFrame with the feature columns the model was fitted on.")
        missing = [c for c in self.feature_names_in_ if c not in X.columns]
        if missing:
            raise ParameterError(f"X lacks {len(missing)} feature columns the model needs: {missing[:10]}")
        return X[list(self.feature_names_in_)].to_numpy(dtype=np.float32)

    def _xgb_params(self, names: list[str]) -> dict[str, Any]:
        params = {
            "objective": "binary:logistic",
            "eval_metric": "logloss",
            "eta": self.learning_rate,
            "max_depth": self.max_depth,
            "min_child_weight": self.min_child_weight,
            "subsample": self.subsample,
            "colsample_bytree": self.colsample_bytree,
            "lambda": self.reg_lambda,
            "tree_method": "hist",
            "nthread": self.n_jobs,
            "seed": self.random_state,
        }
        if self.monotone:
            from payrisk.features import registry

            risk = registry["risk"].reindex(names).fillna(0).astype(int)
            params["monotone_constraints"] = "(" + ",".join(str(v) for v in risk) + ")"
        return params

    # -- fit / predict --------------------------------------------------------------------------------------
    def fit(self, X: pd.DataFrame, y: Any, time: Any = None) -> LatePaymentClassifier:
        """Fit on rows ordered by ``time`` (default ``X["as_of"]``); see the class docstring for the splits."""
        import xgboost as xgb

        self._check_params()
        if not isinstance(X, pd.DataFrame):
            raise ParameterError("X must be a DataFrame (e.g. from pr.features.invoice_features).")
        y = np.asarray(y, dtype=np.float64)
        if len(y) != len(X):
            raise ParameterError(f"X has {len(X)} rows but y has {len(y)}.")
        if time is None and "as_of" in X.columns:
            time = X["as_of"]
        t = pd.to_datetime(pd.Series(np.asarray(time))) if time is not None else pd.Series(np.arange(len(X)))
        order = np.argsort(t.to_numpy(), kind="stable")
        Xn = self._numeric(X)
        names = list(Xn.columns)
        M = Xn.to_numpy(dtype=np.float32)[order]
        y = y[order]
        n = len(y)
        n_cal = round(n * self.calibration_fraction) if self.calibration != "none" else 0
        n_val = round(n * self.valid_fraction)
        n_tr = n - n_cal - n_val
        if n_tr < 10:
            raise ParameterError(f"LatePaymentClassifier needs more rows: {n} leave {n_tr} for training.")
        dtrain = xgb.DMatrix(M[:n_tr], label=y[:n_tr], feature_names=names)
        evals = []
        kwargs: dict[str, Any] = {}
        if n_val > 0:
            dval = xgb.DMatrix(M[n_tr : n_tr + n_val], label=y[n_tr : n_tr + n_val], feature_names=names)
            evals = [(dval, "valid")]
            kwargs["early_stopping_rounds"] = self.early_stopping_rounds
        booster = xgb.train(
            self._xgb_params(names), dtrain, self.n_estimators, evals=evals, verbose_eval=False, **kwargs
        )
        self.best_iteration_ = int(getattr(booster, "best_iteration", self.n_estimators - 1))
        self.booster_ = booster
        self.feature_names_in_ = np.asarray(names, dtype=object)
        self.n_features_in_ = len(names)
        self.classes_ = np.array([0, 1])
        raw_cal = self._raw(M[n - n_cal :]) if n_cal else np.zeros(0)
        self.calibration_method_, self.calibrator_ = self._fit_calibration(raw_cal, y[n - n_cal :])
        self.training_as_of_ = t.max() if time is not None and pd.api.types.is_datetime64_any_dtype(t) else None
        return self

    def _raw(self, M: np.ndarray) -> np.ndarray:
        import xgboost as xgb

        d = xgb.DMatrix(M, feature_names=list(self.feature_names_in_))
        return self.booster_.predict(d, iteration_range=(0, self.best_iteration_ + 1))

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
    def save(self, path: str | Path) -> Path:
        """Write the booster (UBJSON) and a JSON metadata document to folder ``path``; never pickle."""
        import xgboost

        import payrisk

        if not hasattr(self, "booster_"):
            raise NotFittedError("Fit the LatePaymentClassifier before saving it.")
        meta = ModelMetadata(
            kind="LatePaymentClassifier",
            payrisk_version=payrisk.__version__,
            xgboost_version=xgboost.__version__,
            features=[FeatureSpec(name=n, dtype="float32") for n in self.feature_names_in_],
            params=self.get_params(),
            training_as_of=None if self.training_as_of_ is None else str(self.training_as_of_.date()),
            calibration=self.calibrator_.to_dict(),
            extra={"best_iteration": self.best_iteration_},
        )
        return write_model(path, self.booster_, meta)

    @classmethod
    def load(cls, path: str | Path) -> LatePaymentClassifier:
        """Read a model written by :meth:`save`; refuses other kinds and modified files."""
        booster, meta = read_model(path, "LatePaymentClassifier")
        model = cls(**meta.params)
        model.booster_ = booster
        model.feature_names_in_ = np.asarray([f.name for f in meta.features], dtype=object)
        model.n_features_in_ = len(model.feature_names_in_)
        model.classes_ = np.array([0, 1])
        model.best_iteration_ = int(meta.extra["best_iteration"])
        model.calibration_method_ = meta.calibration["method"]
        model.calibrator_ = _Calibrator(meta.calibration["method"], meta.calibration["params"])
        model.training_as_of_ = None if meta.training_as_of is None else pd.Timestamp(meta.training_as_of)
        return model
