"""In which of the next weeks will an open invoice be paid? A direct, discrete-time payment distribution."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from payrisk.errors import ParameterError
from payrisk.models._base import TimeSplitModel

__all__ = ["PaymentWeekModel", "payment_week"]


def payment_week(duration: Any, event: Any, follow_up: Any, weeks: int = 13) -> np.ndarray:
    """The week label of each open item: ``k`` (0 = the first 7 days) when paid in week ``k + 1`` of
    ``weeks``, ``weeks`` when paid later or not at all, -1 when not yet known.

    An item is known when it was paid within the weeks, or has been followed for all of them (``follow_up`` is
    the days observed after the cutoff). Unknown items must be left out of training *as a whole*: keeping the
    ones that paid early while dropping the open ones would make every recent cutoff look fast.

    Examples
    --------
    >>> payment_week([3, 20, 200, 40], [True, True, False, False], [100, 100, 200, 40], weeks=13).tolist()
    [0, 2, 13, -1]
    """
    d = np.asarray(duration, dtype=np.float64)
    e = np.asarray(event, dtype=bool)
    f = np.asarray(follow_up, dtype=np.float64)
    horizon = 7 * weeks
    week = np.where(e & (d <= horizon), np.maximum(np.ceil(d / 7) - 1, 0), weeks).astype(np.int64)
    known = f >= horizon
    return np.where(known, week, -1)


class PaymentWeekModel(TimeSplitModel, BaseEstimator):
    """P(paid in week 1, 2, ..., ``weeks`` after the cutoff, or later) for open items: XGBoost ``multi:softprob``.

    Where :class:`PaymentTimeModel` draws one smooth curve per invoice (a location and a shared scale), this
    model learns the whole weekly distribution from the features: "pays within days or not for months", a
    pay run in week 3, a slow tail. It answers the cash forecast's question directly and is trained only on
    cutoffs followed for all ``weeks`` (see :func:`payment_week`); later weeks are left to the survival model.
    The earliest rows train the trees and the latest ``valid_fraction`` stop them.

    Parameters
    ----------
    weeks : int, default 13
    n_estimators, learning_rate, max_depth, min_child_weight, subsample, colsample_bytree, reg_lambda,
    early_stopping_rounds, valid_fraction, n_jobs, random_state :
        As in :class:`LatePaymentClassifier`.

    Attributes
    ----------
    classes_ : ndarray
        ``0 .. weeks``; the last one is "later or never".

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame({"days_overdue": rng.integers(0, 90, 2000).astype(float)})
    >>> week = np.minimum(rng.poisson(1 + X["days_overdue"] / 10), 4)
    >>> m = PaymentWeekModel(weeks=4, n_estimators=50).fit(X, week)
    >>> p = m.predict_proba(X.iloc[:3])
    >>> p.shape, bool(np.allclose(p.sum(axis=1), 1))
    ((3, 5), True)
    """

    _kind: ClassVar[str] = "PaymentWeekModel"

    def __init__(
        self,
        *,
        weeks: int = 13,
        n_estimators: int = 400,
        learning_rate: float = 0.2,
        max_depth: int = 4,
        min_child_weight: float = 5.0,
        subsample: float = 0.8,
        colsample_bytree: float = 0.8,
        reg_lambda: float = 1.0,
        early_stopping_rounds: int = 30,
        valid_fraction: float = 0.15,
        n_jobs: int = 2,
        random_state: int = 0,
    ) -> None:
        self.weeks = weeks
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.max_depth = max_depth
        self.min_child_weight = min_child_weight
        self.subsample = subsample
        self.colsample_bytree = colsample_bytree
        self.reg_lambda = reg_lambda
        self.early_stopping_rounds = early_stopping_rounds
        self.valid_fraction = valid_fraction
        self.calibration_fraction = 0.0
        self.n_jobs = n_jobs
        self.random_state = random_state

    def fit(self, X: pd.DataFrame, week: Any, time: Any = None) -> PaymentWeekModel:
        """Fit on week labels ``0 .. weeks`` (from :func:`payment_week`; unknown rows left out beforehand)."""
        import xgboost as xgb

        self._check_params()
        y = np.asarray(week)
        bad = ~np.isin(y, np.arange(self.weeks + 1))
        if bad.any():
            raise ParameterError(
                f"PaymentWeekModel: {int(bad.sum())} week labels are not in 0..{self.weeks} (first at row "
                f"{int(np.flatnonzero(bad)[0])}: {y[bad][0]!r}). Leave out the rows payment_week() marks -1."
            )
        M, names, order, t = self._order(X, len(y), time)
        y = y[order]
        n_tr, n_val, _ = self._splits(len(y), calibrate=False)
        dtrain = xgb.DMatrix(M[:n_tr], label=y[:n_tr], feature_names=names)
        dval = xgb.DMatrix(M[n_tr:], label=y[n_tr:], feature_names=names) if n_val else None
        booster = self._train(self._xgb_params(names), dtrain, dval)
        self._set_fitted(booster, names, t, time is not None or "as_of" in X.columns, M)
        self.classes_ = np.arange(self.weeks + 1)
        return self

    def _check_params(self) -> None:
        if not isinstance(self.weeks, int | np.integer) or self.weeks < 1:
            raise ParameterError(f"The 'weeks' parameter of PaymentWeekModel must be an int >= 1. Got {self.weeks!r}.")

    def _xgb_params(self, names: list[str]) -> dict[str, Any]:
        params = {"objective": "multi:softprob", "num_class": self.weeks + 1, "eval_metric": "mlogloss"}
        return {**self._tree_params(names), **params}

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        """Rows x (``weeks`` + 1): P(paid in week 1), ..., P(paid in week ``weeks``), P(later or never)."""
        return self._raw(self._matrix(X)).reshape(len(X), self.weeks + 1)

    def predict_paid_by(self, X: pd.DataFrame, days: Any) -> pd.DataFrame:
        """P(paid within ``d`` days of the cutoff), linear within a week, for ``d`` up to ``7 * weeks``."""
        paid = self._paid_by(self.predict_proba(X), days)
        return pd.DataFrame(paid, index=X.index, columns=list(np.atleast_1d(days)))

    def _paid_by(self, proba: np.ndarray, days: Any) -> np.ndarray:
        d = np.atleast_1d(np.asarray(days, dtype=np.float64))
        if (d < 0).any() or (d > 7 * self.weeks).any():
            raise ParameterError(f"days must lie in [0, {7 * self.weeks}] for a {self.weeks}-week model. Got {d}.")
        cdf = np.concatenate([np.zeros((len(proba), 1)), np.cumsum(proba[:, : self.weeks], axis=1)], axis=1)
        k = np.minimum((d // 7).astype(np.int64), self.weeks - 1)
        frac = (d - 7 * k) / 7
        return np.minimum(cdf[:, k] + frac * (cdf[:, k + 1] - cdf[:, k]), 1.0)

    def _calibration_doc(self) -> dict[str, Any]:
        return {"weeks": int(self.weeks)}

    def _restore_calibration(self, doc: dict[str, Any]) -> None:
        self.classes_ = np.arange(int(doc["weeks"]) + 1)
