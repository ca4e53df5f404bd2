"""Probability that an invoice is paid late: gradient boosting, out-of-time early stopping and calibration."""

from __future__ import annotations

import warnings
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from sklearn.base import ClassifierMixin
from sklearn.utils._param_validation import StrOptions

from payrisk.errors import ParameterError, PayriskWarning
from payrisk.models._base import TREE_PARAMETERS, TimeSplitModel

__all__ = ["CustomerProblemClassifier", "InstallmentAdherenceClassifier", "LatePaymentClassifier"]


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


class LatePaymentClassifier(ClassifierMixin, TimeSplitModel):
    """P(invoice paid late), calibrated, measured and stopped out of time.

    Rows are ordered by time (``time=`` in :meth:`fit`, or the ``as_of`` column that
    :func:`payrisk.features.invoice_features` returns). The earliest rows train the booster, the next
    ``valid_fraction`` decide when to stop adding trees, and the latest ``calibration_fraction`` fit the
    calibration map, so neither the stopping nor the calibration ever sees the rows it is judged on.
    ``calibration="auto"`` chooses Platt or isotonic by their log loss on the later half of the calibration
    slice when fitted on its earlier half, then refits the winner on the whole slice.

    ``X`` is a DataFrame (its numeric and boolean columns are the features, matched by name when predicting) or
    a 2-D array. Missing feature values (NaN) are allowed: the trees learn where they go. Infinite values, a
    target with missing values or with one class only are refused.

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
    select_size : bool
        Choose ``max_depth``, ``min_child_weight`` and ``reg_lambda`` among these and ``SIZE_GRID`` by
        time-ordered validation inside the training rows (two origins on the early-stopping slice; never the
        calibration rows): for small books, where the default trees may be too large. The choice and each
        candidate's validation loss are in ``size_selection_`` and the saved metadata.
    n_jobs, random_state : int

    Attributes
    ----------
    booster_ : xgboost.Booster
    classes_ : ndarray of shape (2,)
        The two labels seen in fit, sorted; ``predict_proba[:, 1]`` is the probability of ``classes_[1]`` (late).
    feature_names_in_ : ndarray of str
        The feature columns seen in fit (``x0``, ``x1``, ... when ``X`` was an array).
    n_features_in_ : int
    best_iteration_ : int
    calibration_method_ : str
    size_selection_ : dict
        With ``select_size=True``: the ``chosen`` size, each candidate's ``validation_loss`` and the ``origins``.
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

    _kind: ClassVar[str] = "LatePaymentClassifier"
    _defaults: ClassVar[dict[str, Any]] = {**TREE_PARAMETERS, "calibration": "auto"}
    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "calibration": [StrOptions({"auto", "isotonic", "platt", "none"})]
    }
    _objective: ClassVar[dict[str, Any]] = {"objective": "binary:logistic", "eval_metric": "logloss"}

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False
        return tags

    # -- fit / predict --------------------------------------------------------------------------------------
    def fit(self, X: Any, y: Any, time: Any = None) -> LatePaymentClassifier:
        """Fit on rows ordered by ``time`` (default ``X["as_of"]``); see the class docstring for the splits.

        ``y`` holds two labels (e.g. 0/1 or False/True); the larger one is "late", the positive class.
        """
        return self._fit(X, y, time)

    def _check_target(self, y: Any) -> np.ndarray:
        """The labels encoded 0/1 (``classes_`` keeps the originals); a missing label or one class is refused."""
        from sklearn.utils.multiclass import check_classification_targets

        name = type(self).__name__
        y = np.asarray(y)
        if y.ndim == 2 and y.shape[1] == 1:
            from sklearn.exceptions import DataConversionWarning

            warnings.warn(
                "A column-vector y was passed when a 1d array was expected; it was flattened.",
                DataConversionWarning,
                stacklevel=3,
            )
            y = y.ravel()
        if y.ndim != 1:
            raise ParameterError(f"y should be a 1d array of labels; got shape {y.shape}.")
        missing = pd.isna(y)
        if missing.any():
            raise ParameterError(
                f"y has {int(missing.sum())} missing labels (first at row {int(np.flatnonzero(missing)[0])}); leave "
                "out the rows whose outcome is not known yet (pr.labels does)."
            )
        try:
            check_classification_targets(y)
        except ValueError as exc:
            raise ParameterError(f"{exc} {name} learns two labels (e.g. 0/1: on time, late).") from None
        classes, encoded = np.unique(y, return_inverse=True)
        if len(classes) == 0:
            raise ParameterError(f"{name} needs rows to learn from: y is empty.")
        if len(classes) < 2:
            raise ParameterError(
                f"{name} needs both classes in y to learn from, but every one of the {len(y)} rows has the one "
                f"class {classes[0]!r} (one class)."
            )
        if len(classes) > 2:
            raise ParameterError(
                f"Only binary classification is supported. The type of the target is multiclass: y has {len(classes)} "
                f"labels ({list(classes[:5])}); {name} learns two (e.g. 0/1: on time, late)."
            )
        self.classes_ = classes
        return encoded.astype(np.float64)

    def _calibrates(self) -> bool:
        return self.calibration != "none"

    def fit_calibration(self, raw: np.ndarray, y: np.ndarray) -> LatePaymentClassifier:
        """Fit the probability calibration (``calibration``) on the calibration rows; returns ``self``.

        ``fit`` calls it on the latest rows; call it yourself after :meth:`set_booster` when the trees were grown
        elsewhere. Sets ``calibration_method_`` (``"none"`` without rows, or when they hold one class) and the map
        ``predict_proba`` applies.

        Parameters
        ----------
        raw : ndarray of shape (n_rows,)
            The booster's uncalibrated P(late) on the calibration rows.
        y : ndarray of shape (n_rows,)
            Their labels, 0/1.

        Examples
        --------
        >>> import numpy as np
        >>> clf = LatePaymentClassifier(calibration="platt")
        >>> raw = np.linspace(0.05, 0.95, 40)
        >>> clf.fit_calibration(raw, (raw > 0.5).astype(float)).calibration_method_
        'platt'
        """
        self.calibration_method_, self.calibrator_ = self._fit_calibration(raw, y)
        return self

    def _fit_calibration(self, raw: np.ndarray, y: np.ndarray) -> tuple[str, _Calibrator]:
        if self.calibration == "none" or len(raw) == 0:
            return "none", _Calibrator("none")
        if len(np.unique(y)) < 2:  # nothing to map: the raw probabilities stand
            warnings.warn(
                f"{type(self).__name__}: the {len(y)} calibration rows (the latest) hold one class only; the "
                "probabilities are left uncalibrated. Fit on more rows, or with calibration='none'.",
                PayriskWarning,
                stacklevel=4,
            )
            return "none", _Calibrator("none")
        if self.calibration != "auto":
            return self.calibration, _Calibrator.fit(self.calibration, raw, y)
        half = len(raw) // 2
        scores: dict[str, float] = {}
        for method in ("platt", "isotonic"):
            if method == "platt" and len(np.unique(y[:half])) < 2:
                continue  # a logistic map needs both classes; isotonic fits a constant
            cal = _Calibrator.fit(method, raw[:half], y[:half])
            scores[method] = _log_loss(y[half:], cal.apply(raw[half:]))
        best = min(scores, key=scores.__getitem__)
        self.calibration_scores_ = scores
        return best, _Calibrator.fit(best, raw, y)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Calibrated probabilities, shape (n, 2): column 1 is P(late) (the label ``classes_[1]``)."""
        raw = self._raw(self.matrix(X))
        p = self.calibrator_.apply(raw)
        return np.column_stack([1 - p, p])

    def predict(self, X: Any) -> np.ndarray:
        """``classes_[1]`` (late) where P(late) >= 0.5, ``classes_[0]`` elsewhere."""
        late = self.predict_proba(X)[:, 1] >= 0.5
        return self.classes_[late.astype(int)]

    # -- persistence ----------------------------------------------------------------------------------------
    def _calibration_doc(self) -> dict[str, Any]:
        return {**self.calibrator_.to_dict(), "classes": self.classes_.tolist()}

    def _restore_calibration(self, doc: dict[str, Any]) -> None:
        self.classes_ = np.asarray(doc.get("classes", [0, 1]))  # files saved before the labels were kept: 0/1
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
    _defaults: ClassVar[dict[str, Any]] = {
        **LatePaymentClassifier._defaults,
        "n_estimators": 400,
        "max_depth": 3,
        "min_child_weight": 3.0,
        "reg_lambda": 2.0,
        "valid_fraction": 0.2,
        "calibration_fraction": 0.2,
        "calibration": "platt",
    }


class CustomerProblemClassifier(LatePaymentClassifier):
    """P(the customer becomes a problem within 90 days): the early warning, one row per customer and day.

    The same calibrated, out-of-time gradient-boosting classifier as :class:`LatePaymentClassifier`, fitted on
    :func:`payrisk.features.customer_features` rows at monthly cutoffs with :func:`payrisk.labels.customer_problem`
    (an invoice 30 days overdue, a missed plan instalment or a hand-over in the 90 days after the cutoff), for the
    customers who were not a problem at the cutoff. Its default trees are smaller: there is one row per customer
    and month, not per invoice.

    Examples
    --------
    >>> CustomerProblemClassifier().get_params()["max_depth"]
    3
    """

    _kind: ClassVar[str] = "CustomerProblemClassifier"
    _defaults: ClassVar[dict[str, Any]] = {
        **LatePaymentClassifier._defaults,
        "n_estimators": 300,
        "max_depth": 3,
        "min_child_weight": 5.0,
        "calibration": "platt",
    }
