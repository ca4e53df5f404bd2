"""What the XGBoost models share: time-ordered splits, feature matrices, parameters and persistence."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from payrisk.errors import NotFittedError, ParameterError
from payrisk.models._persist import FeatureSpec, ModelMetadata, read_model, write_model


class TimeSplitModel:
    """Mixin: rows ordered by time, split into train / early-stopping / calibration slices (latest last).

    Subclasses set ``_kind`` and store the usual XGBoost parameters as attributes (scikit-learn style).
    """

    _kind: ClassVar[str] = "model"
    #: +1 when the model's output grows with risk (P(late), days to pay); -1 when it falls (P(plan kept)).
    _risk_sign: ClassVar[int] = 1

    # -- input -----------------------------------------------------------------------------------------------
    def _order(self, X: pd.DataFrame, n_y: int, time: Any) -> tuple[np.ndarray, list[str], np.ndarray, pd.Series]:
        """(feature matrix sorted by time, feature names, sort order, times)."""
        if not isinstance(X, pd.DataFrame):
            raise ParameterError(f"X must be a DataFrame of features (e.g. from pr.features); got {type(X).__name__}.")
        if n_y != len(X):
            raise ParameterError(f"X has {len(X)} rows but the target has {n_y}.")
        if time is None and "as_of" in X.columns:
            time = X["as_of"]
        t = pd.to_datetime(pd.Series(np.asarray(time))) if time is not None else pd.Series(np.arange(len(X)))
        order = np.argsort(t.to_numpy(), kind="stable")
        Xn = X.select_dtypes(include=["number", "bool"])
        return Xn.to_numpy(dtype=np.float32)[order], list(Xn.columns), order, t

    def _splits(self, n: int, calibrate: bool) -> tuple[int, int, int]:
        for name in ("valid_fraction", "calibration_fraction"):
            v = getattr(self, name)
            if not 0 <= v < 0.5:
                raise ParameterError(f"The {name!r} parameter of {type(self).__name__} must be in [0, 0.5). Got {v}.")
        n_cal = round(n * self.calibration_fraction) if calibrate else 0
        n_val = round(n * self.valid_fraction)
        n_tr = n - n_cal - n_val
        if n_tr < 10:
            raise ParameterError(f"{type(self).__name__} needs more rows: {n} leave {n_tr} for training.")
        return n_tr, n_val, n_cal

    def _matrix(self, X: pd.DataFrame) -> np.ndarray:
        if not hasattr(self, "booster_"):
            raise NotFittedError(f"This {type(self).__name__} is not fitted yet; call fit first.")
        if not isinstance(X, pd.DataFrame):
            raise ParameterError("X must be a DataFrame with the feature columns the model was fitted on.")
        missing = [c for c in self.feature_names_in_ if c not in X.columns]
        if missing:
            raise ParameterError(f"X lacks {len(missing)} feature columns the model needs: {missing[:10]}")
        return X[list(self.feature_names_in_)].to_numpy(dtype=np.float32)

    # -- xgboost ------------------------------------------------------------------------------------------
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
        booster = xgb.train(params, dtrain, self.n_estimators, evals=evals, verbose_eval=False, **kwargs)
        self.best_iteration_ = int(getattr(booster, "best_iteration", self.n_estimators - 1))
        return booster

    def _raw(self, M: np.ndarray) -> np.ndarray:
        import xgboost as xgb

        d = xgb.DMatrix(M, feature_names=list(self.feature_names_in_))
        return self.booster_.predict(d, iteration_range=(0, self.best_iteration_ + 1))

    def _set_fitted(self, booster: Any, names: list[str], t: pd.Series, time_given: bool, M: np.ndarray) -> None:
        # the usual level of each feature (median of the training rows): "high" or "low" in reason codes
        with warnings.catch_warnings():  # a feature empty in every training row has no median: NaN
            warnings.simplefilter("ignore", RuntimeWarning)
            medians = np.nanmedian(M, axis=0)
        as_of = t.max() if time_given and pd.api.types.is_datetime64_any_dtype(t) else None
        self._set_booster(booster, names, medians, as_of)

    def _set_booster(self, booster: Any, names: list[str], medians: np.ndarray, training_as_of: Any) -> None:
        """The fitted state, however the booster was trained (here, or on a Dask cluster)."""
        self.booster_ = booster
        self.feature_medians_ = np.asarray(medians, dtype=np.float64)
        self.feature_names_in_ = np.asarray(names, dtype=object)
        self.n_features_in_ = len(names)
        self.training_as_of_ = training_as_of

    # -- persistence ----------------------------------------------------------------------------------------
    def _calibration_doc(self) -> dict[str, Any]:
        return {}

    def _restore_calibration(self, doc: dict[str, Any]) -> None:
        return None

    def save(self, path: str | Path) -> Path:
        """Write the booster (UBJSON) and a JSON metadata document into folder ``path``; never pickle."""
        import xgboost

        import payrisk

        if not hasattr(self, "booster_"):
            raise NotFittedError(f"Fit the {type(self).__name__} before saving it.")
        meta = ModelMetadata(
            kind=self._kind,
            payrisk_version=payrisk.__version__,
            xgboost_version=xgboost.__version__,
            features=[FeatureSpec(name=n, dtype="float32") for n in self.feature_names_in_],
            params=self.get_params(),
            training_as_of=None if self.training_as_of_ is None else str(self.training_as_of_.date()),
            calibration=self._calibration_doc(),
            extra={
                "best_iteration": self.best_iteration_,
                "feature_medians": [None if np.isnan(v) else float(v) for v in self.feature_medians_],
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
        model._restore_calibration(meta.calibration)
        return model
