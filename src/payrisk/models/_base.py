"""The template every payrisk model follows, and what the XGBoost models share.

A model declares its parameters (``_defaults``, with constraints for those the base does not know), its
XGBoost objective and how it calibrates; :class:`TimeSplitModel` does the rest, in this order: check the
parameters (scikit-learn's ``_parameter_constraints``) and the target, order the rows in time, split them into
train / early-stopping / calibration slices (latest last), build the matrices, grow the trees, calibrate on the
latest slice and record the fitted metadata.
"""

from __future__ import annotations

import inspect
import warnings
from numbers import Integral, Real
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils._param_validation import InvalidParameterError as _SklearnInvalidParameterError

from payrisk._device import DEVICES, check_device
from payrisk.errors import InvalidParameterError, NotFittedError, ParameterError
from payrisk.models._persist import FeatureSpec, ModelMetadata, read_model, write_model

#: The sizes ``select_size=True`` chooses among (besides the model's own): shallow and strongly regularised for
#: small books, deeper for large ones
SIZE_GRID: tuple[dict[str, float], ...] = (
    {"max_depth": 2, "min_child_weight": 10.0, "reg_lambda": 5.0},
    {"max_depth": 3, "min_child_weight": 5.0, "reg_lambda": 2.0},
    {"max_depth": 4, "min_child_weight": 5.0, "reg_lambda": 1.0},
    {"max_depth": 6, "min_child_weight": 2.0, "reg_lambda": 1.0},
)

#: The tree parameters (and their defaults) every model inherits; a model overrides or leaves out some.
TREE_PARAMETERS: dict[str, Any] = {
    "n_estimators": 600,
    "learning_rate": 0.05,
    "max_depth": 4,
    "min_child_weight": 5.0,
    "subsample": 0.8,
    "colsample_bytree": 0.8,
    "reg_lambda": 1.0,
    "early_stopping_rounds": 40,
    "valid_fraction": 0.15,
    "calibration_fraction": 0.15,
    "monotone": False,
    "select_size": False,
    "n_jobs": 2,
    "random_state": 0,
    "device": "cpu",
}

_TREE_CONSTRAINTS: dict[str, list[Any]] = {
    "n_estimators": [Interval(Integral, 1, None, closed="left")],
    "learning_rate": [Interval(Real, 0, None, closed="neither")],
    "max_depth": [Interval(Integral, 1, None, closed="left")],
    "min_child_weight": [Interval(Real, 0, None, closed="left")],
    "subsample": [Interval(Real, 0, 1, closed="right")],
    "colsample_bytree": [Interval(Real, 0, 1, closed="right")],
    "reg_lambda": [Interval(Real, 0, None, closed="left")],
    "early_stopping_rounds": [Interval(Integral, 1, None, closed="left")],
    "valid_fraction": [Interval(Real, 0, 0.5, closed="left")],
    "calibration_fraction": [Interval(Real, 0, 0.5, closed="left")],
    "monotone": ["boolean"],
    "select_size": ["boolean"],
    "n_jobs": [Integral],
    "random_state": [Interval(Integral, 0, None, closed="left")],
    "device": [StrOptions(set(DEVICES))],
}


def _keyword_init(module: str, qualname: str, defaults: dict[str, Any]) -> Any:
    """An ``__init__`` that stores each keyword parameter as an attribute (scikit-learn style), with the explicit
    keyword-only signature ``inspect.signature`` (and so ``get_params``, ``clone`` and ``repr``) reads."""

    def __init__(self: Any, **params: Any) -> None:  # noqa: N807 (installed as the class's __init__)
        unknown = [name for name in params if name not in defaults]
        if unknown:
            raise TypeError(f"{qualname}() got an unexpected keyword argument {unknown[0]!r}")
        for name, default in defaults.items():
            setattr(self, name, params.get(name, default))

    self_param = inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)
    params = [inspect.Parameter(n, inspect.Parameter.KEYWORD_ONLY, default=v) for n, v in defaults.items()]
    __init__.__signature__ = inspect.Signature([self_param, *params], return_annotation=None)  # type: ignore[attr-defined]
    __init__.__qualname__ = f"{qualname}.__init__"
    __init__.__module__ = module  # the model's own module (the documentation reads the constructor there)
    return __init__


class TimeSplitModel(BaseEstimator):
    """Base of the payrisk models: rows ordered by time, split into train / early-stopping / calibration slices.

    A subclass declares ``_defaults`` (its parameters and their defaults: the constructor is made from them),
    ``_parameter_constraints`` for the parameters the base does not know, its XGBoost objective
    (``_objective`` or ``_objective_params``), how labels enter the matrix (``_set_label``) and how it calibrates
    (:meth:`fit_calibration`); ``fit`` calls :meth:`_fit` with its target.

    The steps of ``fit`` are public so that the trees can be grown elsewhere (:mod:`payrisk.distributed` grows
    them on a Dask cluster): :meth:`validate_params`, :meth:`holdout_fractions`, :meth:`booster_params`, then
    :meth:`set_booster` with the trained booster and :meth:`fit_calibration` on the calibration rows.

    Examples
    --------
    >>> from payrisk.models import PaymentWeekModel
    >>> sorted(PaymentWeekModel._parameter_constraints) == sorted(PaymentWeekModel().get_params())
    True
    """

    _kind: ClassVar[str] = "model"
    #: +1 when the model's output grows with risk (P(late), days to pay); -1 when it falls (P(plan kept)).
    _risk_sign: ClassVar[int] = 1
    #: the constructor's parameters and defaults, in signature order
    _defaults: ClassVar[dict[str, Any]] = {}
    #: scikit-learn's constraints, one entry per parameter (completed from the tree parameters' own)
    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {}
    #: XGBoost's objective parameters, when they do not depend on the model's parameters
    _objective: ClassVar[dict[str, Any]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "_defaults" in cls.__dict__:
            cls.__init__ = _keyword_init(cls.__module__, cls.__qualname__, dict(cls._defaults))  # type: ignore[method-assign]
            known = {**_TREE_CONSTRAINTS, **cls._parameter_constraints}
            cls._parameter_constraints = {name: known[name] for name in cls._defaults}

    # -- scikit-learn ------------------------------------------------------------------------------------------
    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True  # a missing feature is information: XGBoost learns where it goes
        return tags

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "booster_")

    def _validate_params(self) -> None:
        """scikit-learn's check of ``_parameter_constraints``, raising payrisk's ``InvalidParameterError``."""
        try:
            super()._validate_params()
        except _SklearnInvalidParameterError as exc:
            raise InvalidParameterError(str(exc)) from None

    def validate_params(self) -> None:
        """Check every parameter against its constraints, as ``fit`` does before training.

        Raises
        ------
        payrisk.errors.InvalidParameterError
            Naming the first parameter out of its range or of the wrong type.

        Examples
        --------
        >>> from payrisk.models import LatePaymentClassifier
        >>> LatePaymentClassifier().validate_params()
        >>> LatePaymentClassifier(max_depth=0).validate_params()
        Traceback (most recent call last):
        ...
        payrisk.errors.InvalidParameterError: The 'max_depth' parameter of LatePaymentClassifier must be ...
        """
        self._validate_params()
        check_device(self.device, type(self).__name__)

    def holdout_fractions(self) -> tuple[float, float]:
        """The shares of the latest rows kept out of training: (early stopping, calibration).

        The calibration share is 0 for a model that does not calibrate (the weekly model, a classifier with
        ``calibration="none"``).

        Examples
        --------
        >>> from payrisk.models import LatePaymentClassifier
        >>> LatePaymentClassifier().holdout_fractions()
        (0.15, 0.15)
        >>> LatePaymentClassifier(calibration="none").holdout_fractions()
        (0.15, 0.0)
        """
        return self.valid_fraction, self.calibration_fraction if self._calibrates() else 0.0

    # -- the template ------------------------------------------------------------------------------------------
    def _fit(self, X: Any, target: Any, time: Any, sample_weight: Any = None) -> Any:
        """Check, order in time, split, build the matrices, train, calibrate on the latest rows, set metadata."""
        import xgboost as xgb

        self.validate_params()
        M, names, order, t = self._order(X, time)
        target = self._check_target(target)
        if len(target) != len(M):
            raise ParameterError(f"X has {len(M)} rows but the target has {len(target)}.")
        target = target[order]
        weight = None if sample_weight is None else _check_weight(sample_weight, len(M))[order]
        n = len(target)
        n_tr, n_val, n_cal = self._splits(n)

        def dmatrix(rows: slice, ref: Any = None) -> Any:
            # quantised once (the histogram the trees are grown on, on the CPU or the GPU), not kept as floats;
            # an evaluation slice uses its training slice's bins
            rows_w = None if weight is None else weight[rows]
            rows_m, rows_y, rows_w, tree_names = self._tree_rows(M[rows], target[rows], rows_w, names)
            d = xgb.QuantileDMatrix(rows_m, feature_names=tree_names, ref=ref, weight=rows_w)
            self._set_label(d, rows_y)
            return d

        if self.select_size:
            booster = self._select_size(names, n_tr, n_val, dmatrix)
        else:
            dtrain = dmatrix(slice(0, n_tr))
            dval = dmatrix(slice(n_tr, n_tr + n_val), dtrain) if n_val else None
            booster = self._train(self.booster_params(names), dtrain, dval)
        self._set_fitted(booster, names, t, time is not None or _has_column(X, "as_of"), M)
        cal = slice(n - n_cal, n)
        self.fit_calibration(self._raw(M[cal]) if n_cal else np.zeros(0), target[cal])
        return self

    def _select_size(self, names: list[str], n_tr: int, n_val: int, dmatrix: Any) -> Any:
        """Choose the tree size (depth, minimum child weight, L2 penalty) among the model's own and
        :data:`SIZE_GRID` by time-ordered validation inside the training rows: each size is trained on the rows
        before an origin and scored on the early-stopping slice after it, at two origins (the later one is the
        early-stopping split of a plain fit); the lowest mean validation loss wins. The calibration rows are never
        seen. Records ``size_selection_`` and returns the chosen size's booster of the later origin."""
        if not n_val:
            raise ParameterError(
                f"{type(self).__name__}(select_size=True) chooses the size on the early-stopping slice: give "
                "valid_fraction > 0."
            )
        folds = [(slice(0, n_tr), slice(n_tr, n_tr + n_val))]
        if n_tr - n_val >= 10:
            folds.insert(0, (slice(0, n_tr - n_val), slice(n_tr - n_val, n_tr)))
        own = {"max_depth": self.max_depth, "min_child_weight": self.min_child_weight, "reg_lambda": self.reg_lambda}
        sizes = [own, *(g for g in SIZE_GRID if g != own)]
        matrices = []
        for tr, va in folds:
            dtrain = dmatrix(tr)
            matrices.append((dtrain, dmatrix(va, dtrain)))
        base = self.booster_params(names)
        scores, boosters = [], []
        for size in sizes:
            params = {**base, "max_depth": size["max_depth"], "min_child_weight": size["min_child_weight"]}
            params["lambda"] = size["reg_lambda"]
            losses = []
            for dtrain, dvalid in matrices:
                booster = self._train(params, dtrain, dvalid)
                losses.append(float(booster.best_score))
            scores.append(float(np.mean(losses)))
            boosters.append(booster)
        best = int(np.argmin(scores))

        def plain(size: dict[str, Any]) -> dict[str, Any]:
            return {"max_depth": int(size["max_depth"]), "min_child_weight": float(size["min_child_weight"]),
                    "reg_lambda": float(size["reg_lambda"])}  # fmt: skip

        self.size_selection_ = {
            "chosen": plain(sizes[best]),
            "candidates": [{**plain(z), "validation_loss": v} for z, v in zip(sizes, scores, strict=True)],
            "origins": len(folds),
        }
        return boosters[best]

    # hooks of the template
    def _check_target(self, target: Any) -> np.ndarray:
        """The target as an array with one row per sample (refusing what cannot be learned from)."""
        raise NotImplementedError

    def _set_label(self, dmatrix: Any, target: np.ndarray) -> None:
        dmatrix.set_label(target)

    def _tree_rows(
        self, M: np.ndarray, target: np.ndarray, weight: np.ndarray | None, names: list[str]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, list]:
        """The rows, labels, weights and column names the trees are grown on (the model's rows as they are, unless
        a model expands them: the weekly hazard's invoice-weeks)."""
        return M, target, weight, names

    def _calibrates(self) -> bool:
        """Whether fit keeps the latest ``calibration_fraction`` of the rows for calibration."""
        return False

    def fit_calibration(self, raw: np.ndarray, target: np.ndarray) -> Any:
        """Fit the calibration from the booster's uncalibrated output on the calibration rows; returns ``self``.

        ``fit`` calls it on the latest rows (``holdout_fractions()[1]`` of them); call it yourself after
        :meth:`set_booster` when the trees were grown elsewhere. This model does not calibrate: nothing is fitted.

        Parameters
        ----------
        raw : ndarray of shape (n_rows,)
            ``booster_.predict`` on the calibration rows (up to ``best_iteration_``).
        target : ndarray
            Their target, as the model's ``fit`` encodes it.

        Examples
        --------
        >>> import numpy as np
        >>> from payrisk.models import PaymentWeekModel
        >>> m = PaymentWeekModel()
        >>> m.fit_calibration(np.zeros(0), np.zeros(0)) is m
        True
        """
        return self

    def _objective_params(self) -> dict[str, Any]:
        return dict(self._objective)

    # -- input -----------------------------------------------------------------------------------------------
    def _order(self, X: Any, time: Any) -> tuple[np.ndarray, list[str], np.ndarray, pd.Series]:
        """(feature matrix sorted by time, feature names, sort order, times)."""
        if _named(X):
            Xn = X.select_dtypes(include=["number", "bool"])
            M, names = Xn.to_numpy(dtype=np.float32), list(Xn.columns)
            if time is None and "as_of" in X.columns:
                time = X["as_of"]
        else:
            M = self._array(X)
            names = [f"x{i}" for i in range(M.shape[1])]
        if len(M) == 0:
            raise ParameterError(f"{type(self).__name__} needs rows to learn from: X has 0 samples.")
        if M.shape[1] == 0:
            raise ParameterError(
                f"0 feature(s) (shape={M.shape}) while a minimum of 1 is required: X has no numeric feature columns."
            )
        _refuse_infinite(M, names)
        t = pd.to_datetime(pd.Series(np.asarray(time))) if time is not None else pd.Series(np.arange(len(M)))
        # rows already in time order (the engine's training rows are) are neither sorted nor copied again
        if t.is_monotonic_increasing:
            return M, names, np.arange(len(M)), t
        order = np.argsort(t.to_numpy(), kind="stable")
        return M[order], names, order, t

    def _array(self, X: Any) -> np.ndarray:
        """A feature array (not a DataFrame) as float32, or a clear error."""
        if hasattr(X, "toarray") or hasattr(X, "tocsr"):
            raise ParameterError(
                f"{type(self).__name__} takes dense features (a DataFrame or a 2-D array); got a sparse matrix. "
                "Convert it with .toarray()."
            )
        if X is None or isinstance(X, str):
            raise ParameterError(f"X must be a DataFrame of features (e.g. from pr.features); got {X!r}.")
        A = np.asarray(X)
        if A.ndim != 2:
            raise ParameterError(
                f"Expected a 2-D array of features, got a {A.ndim}-D one. Reshape your data with X.reshape(-1, 1) "
                "if it holds a single feature, or pass a DataFrame (e.g. from pr.features)."
            )
        if A.dtype.kind == "c":
            raise ParameterError("Complex data not supported: X must hold real numbers.")
        if A.dtype.kind not in "biuf":
            try:
                A = A.astype(np.float64)  # numbers stored as objects; another object raises numpy's TypeError
            except ValueError:
                raise ParameterError(
                    f"X must hold numbers; its {A.dtype} values could not be read as numbers. Pass a DataFrame: "
                    "its numeric and boolean columns are the features."
                ) from None
        return A.astype(np.float32)

    def _splits(self, n: int) -> tuple[int, int, int]:
        """(train, early-stopping, calibration) row counts; the fractions were checked by ``validate_params``."""
        valid, calibration = self.holdout_fractions()
        n_cal = round(n * calibration)
        n_val = round(n * valid)
        n_tr = n - n_cal - n_val
        if n_tr < 10:
            raise ParameterError(
                f"{type(self).__name__} needs more rows: n_samples={n} leave {n_tr} for training (at least 10)."
            )
        return n_tr, n_val, n_cal

    def matrix(self, X: Any) -> np.ndarray:
        """The feature matrix of ``X`` in the fitted column order, as float32: what the booster reads.

        A DataFrame's columns are matched by name (extra columns are ignored, a missing one is refused); an array
        must have ``n_features_in_`` columns.

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> from payrisk.models import PaymentWeekModel
        >>> X = pd.DataFrame({"a": np.arange(60.0), "b": np.arange(60.0) % 7})
        >>> m = PaymentWeekModel(weeks=2, n_estimators=5).fit(X, np.arange(60) % 3)
        >>> m.matrix(X[["b", "a"]].assign(note="x")).shape, m.matrix(X).dtype
        ((60, 2), dtype('float32'))
        """
        if not hasattr(self, "booster_"):
            raise NotFittedError(f"This {type(self).__name__} is not fitted yet; call fit first.")
        if not _named(X):
            M = self._array(X)
            if M.shape[1] != self.n_features_in_:
                raise ParameterError(
                    f"X has {M.shape[1]} features, but {type(self).__name__} is expecting {self.n_features_in_} "
                    "features as input."
                )
            return M
        missing = [c for c in self.feature_names_in_ if c not in X.columns]
        if missing:
            raise ParameterError(f"X lacks {len(missing)} feature columns the model needs: {missing[:10]}")
        return X[list(self.feature_names_in_)].to_numpy(dtype=np.float32)

    @property
    def risk_sign(self) -> int:
        """+1 when the model's output grows with risk (P(late), days to pay); -1 when it falls (P(plan kept)).

        Examples
        --------
        >>> from payrisk.models import InstallmentAdherenceClassifier, LatePaymentClassifier
        >>> LatePaymentClassifier().risk_sign, InstallmentAdherenceClassifier().risk_sign
        (1, -1)
        """
        return self._risk_sign

    # -- xgboost ------------------------------------------------------------------------------------------
    def booster_params(self, feature_names: list[str]) -> dict[str, Any]:
        """XGBoost's training parameters (``xgboost.train``'s ``params``) for these feature columns: the tree
        parameters (with the monotone constraints of ``monotone=True``, by feature name), then the objective.

        Examples
        --------
        >>> from payrisk.models import LatePaymentClassifier
        >>> params = LatePaymentClassifier(max_depth=3).booster_params(["days_to_due"])
        >>> params["max_depth"], params["objective"]
        (3, 'binary:logistic')
        """
        return {**self._tree_params(feature_names), **self._objective_params()}

    def _tree_params(self, names: list[str]) -> dict[str, Any]:
        params = {
            "eta": self.learning_rate,
            "max_depth": self.max_depth,
            "min_child_weight": self.min_child_weight,
            "subsample": self.subsample,
            "colsample_bytree": self.colsample_bytree,
            "lambda": self.reg_lambda,
            "tree_method": "hist",
            "nthread": self.n_jobs,
            "seed": self.random_state,
            "device": self.device,
        }
        if getattr(self, "monotone", False):
            from payrisk.features import registry

            risk = registry["risk"].reindex(names).fillna(0).astype(int) * self._risk_sign
            params["monotone_constraints"] = "(" + ",".join(str(v) for v in risk) + ")"
        return params

    def _train(self, params: dict[str, Any], dtrain: Any, dvalid: Any | None) -> Any:
        import xgboost as xgb

        kwargs: dict[str, Any] = {}
        evals = []
        if dvalid is not None:
            evals = [(dvalid, "valid")]
            kwargs["early_stopping_rounds"] = self.early_stopping_rounds
        return xgb.train(params, dtrain, self.n_estimators, evals=evals, verbose_eval=False, **kwargs)

    def _raw(self, M: np.ndarray) -> np.ndarray:
        import xgboost as xgb

        d = xgb.DMatrix(M, feature_names=list(self.feature_names_in_))
        return self.booster_.predict(d, iteration_range=(0, self.best_iteration_ + 1))

    def _set_fitted(self, booster: Any, names: list[str], t: pd.Series, time_given: bool, M: np.ndarray) -> None:
        # the usual level of each feature (median of the training rows): "high" or "low" in reason codes
        # from at most _MEDIAN_ROWS rows spread evenly over the (time-ordered) rows: words need no exact median,
        # and a copy of millions of rows would not be small
        step = max(1, len(M) // _MEDIAN_ROWS)
        with warnings.catch_warnings():  # a feature empty in every training row has no median: NaN
            warnings.simplefilter("ignore", RuntimeWarning)
            medians = np.nanmedian(M[::step], axis=0)
        as_of = t.max() if time_given and pd.api.types.is_datetime64_any_dtype(t) else None
        self.set_booster(booster, names, medians, as_of)

    def set_booster(
        self, booster: Any, feature_names: list[str], feature_medians: Any, training_as_of: Any = None
    ) -> Any:
        """Adopt a booster trained elsewhere (on a Dask cluster, say) as this model's trees; returns ``self``.

        Sets the fitted state ``fit`` sets before calibrating: ``booster_``, ``best_iteration_`` (the booster's
        early-stopping round, else its last round), ``feature_names_in_``, ``n_features_in_``,
        ``feature_medians_`` and ``training_as_of_``. A model that calibrates still needs
        :meth:`fit_calibration`.

        Parameters
        ----------
        booster : xgboost.Booster
            Trained with :meth:`booster_params` on the columns ``feature_names``, in that order.
        feature_names : list of str
        feature_medians : array of shape (len(feature_names),)
            The usual level of each feature on the training rows ("high" or "low" in reason codes; NaN allowed).
        training_as_of : pandas.Timestamp, optional
            The latest row time seen in training.

        Examples
        --------
        >>> import numpy as np, xgboost as xgb
        >>> from payrisk.models import PaymentWeekModel
        >>> m = PaymentWeekModel(weeks=1, n_estimators=3)
        >>> X, y = np.arange(40.0).reshape(-1, 1), np.arange(40) % 2
        >>> booster = xgb.train(m.booster_params(["x"]), xgb.DMatrix(X, y, feature_names=["x"]), m.n_estimators)
        >>> m.set_booster(booster, ["x"], [19.5]).predict_proba(X[:2]).shape, m.best_iteration_
        ((2, 2), 2)
        """
        self.booster_ = booster
        self.best_iteration_ = int(getattr(booster, "best_iteration", booster.num_boosted_rounds() - 1))
        self.feature_medians_ = np.asarray(feature_medians, dtype=np.float64)
        self.feature_names_in_ = np.asarray(feature_names, dtype=object)
        self.n_features_in_ = len(feature_names)
        self.training_as_of_ = training_as_of
        return self

    # -- persistence ----------------------------------------------------------------------------------------
    def _calibration_doc(self) -> dict[str, Any]:
        return {}

    def _restore_calibration(self, doc: dict[str, Any]) -> None:
        return None

    def save(self, path: str | Path) -> Path:
        """Write the booster (UBJSON) and a JSON metadata document into folder ``path``; never pickle."""
        import xgboost

        from payrisk._version import __version__

        if not hasattr(self, "booster_"):
            raise NotFittedError(f"Fit the {type(self).__name__} before saving it.")
        meta = ModelMetadata(
            kind=self._kind,
            payrisk_version=__version__,
            xgboost_version=xgboost.__version__,
            features=[FeatureSpec(name=n, dtype="float32") for n in self.feature_names_in_],
            params=self.get_params(),
            training_as_of=None if self.training_as_of_ is None else str(self.training_as_of_.date()),
            calibration=self._calibration_doc(),
            extra={
                "best_iteration": self.best_iteration_,
                "feature_medians": [None if np.isnan(v) else float(v) for v in self.feature_medians_],
                **({"size_selection": self.size_selection_} if hasattr(self, "size_selection_") else {}),
            },
        )
        return write_model(path, self.booster_, meta)

    @classmethod
    def load(cls, path: str | Path) -> Any:
        """Read a model written by ``save``; refuses other kinds and files modified after saving."""
        booster, meta = read_model(path, cls._kind)
        model = cls(**meta.params)
        model.booster_ = booster
        model.feature_names_in_ = np.asarray([f.name for f in meta.features], dtype=object)
        model.n_features_in_ = len(model.feature_names_in_)
        model.best_iteration_ = int(meta.extra["best_iteration"])
        medians = meta.extra.get("feature_medians") or [None] * model.n_features_in_
        model.feature_medians_ = np.array([np.nan if v is None else v for v in medians], dtype=np.float64)
        model.training_as_of_ = None if meta.training_as_of is None else pd.Timestamp(meta.training_as_of)
        if "size_selection" in meta.extra:
            model.size_selection_ = meta.extra["size_selection"]
        model._restore_calibration(meta.calibration)
        return model


def _check_weight(sample_weight: Any, n: int) -> np.ndarray:
    """Sample weights as float32, one per row, finite and not negative."""
    w = np.asarray(sample_weight, dtype=np.float32).reshape(-1)
    if len(w) != n:
        raise ParameterError(f"X has {n} rows but sample_weight has {len(w)}.")
    bad = ~np.isfinite(w) | (w < 0)
    if bad.any():
        raise ParameterError(
            f"sample_weight must be finite and not negative: {int(bad.sum())} are not (first at row "
            f"{int(np.flatnonzero(bad)[0])}: {w[bad][0]!r})."
        )
    if not w.sum() > 0:
        raise ParameterError("sample_weight sums to zero: give some rows a positive weight.")
    return w


def _named(X: Any) -> bool:
    """A DataFrame whose columns are all named by strings: matched by name. Other column labels (the integers of
    ``pd.DataFrame(array)``) are positions, as scikit-learn reads them: the frame is taken as an array."""
    return isinstance(X, pd.DataFrame) and all(isinstance(c, str) for c in X.columns)


def _has_column(X: Any, name: str) -> bool:
    return isinstance(X, pd.DataFrame) and name in X.columns


_MEDIAN_ROWS = 200_000  #: rows the feature medians (the words "high" and "low" of reasons) are taken from


def _refuse_infinite(M: np.ndarray, names: list[str]) -> None:
    """Missing values (NaN) are information the trees use; infinite ones are refused, naming their columns (``M``:
    a float matrix with rows)."""
    # a column holds an infinite value where its largest or smallest one is infinite (fmax and fmin skip NaN): no
    # mask of M's size, only of the columns found
    bad = np.flatnonzero(np.isinf(np.fmax.reduce(M, axis=0)) | np.isinf(np.fmin.reduce(M, axis=0)))
    if len(bad):
        cols = [names[j] for j in bad]
        raise ParameterError(
            f"X has {int(np.isinf(M[:, bad]).sum())} infinite values, in columns {cols[:10]}; replace them with a "
            "finite value or leave them missing (NaN: the trees learn where missing values go)."
        )
