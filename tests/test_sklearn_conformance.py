"""scikit-learn conformance of payrisk's estimators: ``check_estimator``'s checks (each remaining failure listed
with its reason), parameter validation, clone / set_params / repr, fitted-state errors and input checks."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError as SklearnNotFittedError
from sklearn.utils._param_validation import InvalidParameterError as SklearnInvalidParameterError
from sklearn.utils.estimator_checks import check_param_validation, parametrize_with_checks
from sklearn.utils.validation import check_is_fitted

from payrisk.errors import InvalidParameterError, NotFittedError, ParameterError, PayriskError, PayriskWarning
from payrisk.models import InstallmentAdherenceClassifier, LatePaymentClassifier, PaymentTimeModel, PaymentWeekModel

# small trees: the checks fit dozens of times on a few rows
ESTIMATORS = [
    LatePaymentClassifier(n_estimators=5),
    InstallmentAdherenceClassifier(n_estimators=5),
    PaymentTimeModel(n_estimators=5),
    PaymentWeekModel(n_estimators=5),
]

_TOO_FEW_ROWS = (
    "fits on {n} rows: after the time-ordered early-stopping and calibration slices fewer than the 10 training "
    "rows every payrisk model needs are left, and fit says so (n_samples={n}) instead of accepting them"
)


def expected_failed_checks(estimator: object) -> dict[str, str]:
    """The checks payrisk's estimators fail on purpose, with the reason."""
    out = {"check_fit2d_1feature": _TOO_FEW_ROWS.format(n=10)}
    if isinstance(estimator, LatePaymentClassifier):
        out["check_classifier_data_not_an_array"] = _TOO_FEW_ROWS.format(n=12)
    if isinstance(estimator, InstallmentAdherenceClassifier):  # 20% early stopping and 20% calibration by default
        out["check_n_features_in_after_fitting"] = _TOO_FEW_ROWS.format(n=15)
    if isinstance(estimator, PaymentTimeModel):
        out["check_fit_score_takes_y"] = (
            "fit(X, duration, event=None, time=None): a survival target is named for what it is (days and whether "
            "payment was seen); positional calls fit(X, y) work as scikit-learn expects"
        )
    if isinstance(estimator, PaymentWeekModel):
        out["check_fit_score_takes_y"] = (
            "fit(X, week, time=None): the target is the week label of payment_week(); positional calls "
            "fit(X, y) work as scikit-learn expects"
        )
        out["check_sample_weight_equivalence_on_dense_data"] = (
            "the check calls fit(X, y=..., sample_weight=...) and the target is named week; besides, the trees "
            "sample rows (subsample) and cut the early-stopping slice by row count, where a row repeated k times "
            "differs from a weight of k. Without them weights equal repeats exactly: tested in "
            "test_models_payment_week.py"
        )
    return out


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=expected_failed_checks, xfail_strict=True)
def test_sklearn_check_estimator(estimator, check):
    with warnings.catch_warnings():  # tiny fits: uncalibrated-probability notes are expected
        warnings.simplefilter("ignore", PayriskWarning)
        check(estimator)


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda e: type(e).__name__)
def test_parameters_are_validated_the_sklearn_way(estimator):
    """Every constructor parameter has a constraint, checked in fit, raising scikit-learn's error type."""
    check_param_validation(type(estimator).__name__, estimator)
    bad = clone(estimator).set_params(n_estimators=0)
    with pytest.raises(InvalidParameterError, match="'n_estimators' parameter of") as info:
        bad.fit(np.zeros((40, 2)), np.arange(40) % 2)
    assert isinstance(info.value, ParameterError) and isinstance(info.value, SklearnInvalidParameterError)


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda e: type(e).__name__)
def test_set_params_repr_and_clone(estimator):
    changed = clone(estimator).set_params(learning_rate=0.3, random_state=7)
    assert changed.get_params()["learning_rate"] == 0.3 and changed.random_state == 7
    assert "learning_rate=0.3" in repr(changed) and "random_state=7" in repr(changed)
    twin = clone(changed)
    assert twin is not changed and twin.get_params() == changed.get_params()
    assert type(estimator)().get_params() == type(estimator)().get_params()  # defaults are constructible
    with pytest.raises(TypeError, match="unexpected keyword argument 'n_trees'"):
        type(estimator)(n_trees=3)


def test_constructor_defaults_are_unchanged():
    """The public constructor parameters (names and defaults) of the four models, as before the common base, and
    the device (issue 25: the CPU unless asked)."""
    tree = {
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
    assert LatePaymentClassifier().get_params() == {**tree, "calibration": "auto"}
    assert InstallmentAdherenceClassifier().get_params() == {
        **tree,
        "n_estimators": 400,
        "max_depth": 3,
        "min_child_weight": 3.0,
        "reg_lambda": 2.0,
        "valid_fraction": 0.2,
        "calibration_fraction": 0.2,
        "calibration": "platt",
    }
    assert PaymentTimeModel().get_params() == {**tree, "distribution": "auto", "interval_calibration": True}
    week = {k: v for k, v in tree.items() if k not in ("calibration_fraction", "monotone")}
    assert PaymentWeekModel().get_params() == {
        **week,
        "weeks": 13,
        "form": "softprob",
        "n_estimators": 400,
        "learning_rate": 0.2,
        "early_stopping_rounds": 30,
    }


def test_not_fitted_error_is_sklearns_and_payrisks():
    model = LatePaymentClassifier()
    with pytest.raises(SklearnNotFittedError) as info:
        check_is_fitted(model)
    with pytest.raises(NotFittedError) as info:
        model.predict_proba(np.zeros((2, 2)))
    assert isinstance(info.value, PayriskError) and isinstance(info.value, SklearnNotFittedError)
    assert isinstance(info.value, ValueError) and isinstance(info.value, AttributeError)


def _data(n: int = 80, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n)})
    y = (X["a"] + rng.normal(scale=0.5, size=n) > 0).to_numpy().astype(int)
    return X, y


def test_classes_come_from_the_data_and_predict_returns_them(tmp_path):
    X, y = _data()
    labels = np.where(y == 1, "late", "on time")
    clf = LatePaymentClassifier(n_estimators=5, calibration="none").fit(X, labels)
    assert clf.classes_.tolist() == ["late", "on time"]  # sorted: column 1 of predict_proba is "on time"
    assert set(clf.predict(X)) <= {"late", "on time"}
    p = clf.predict_proba(X)[:, 1]
    np.testing.assert_array_equal(clf.predict(X), np.where(p >= 0.5, "on time", "late"))
    back = LatePaymentClassifier.load(clf.save(tmp_path / "m"))
    np.testing.assert_array_equal(back.classes_, clf.classes_)
    np.testing.assert_array_equal(back.predict(X), clf.predict(X))
    boolean = LatePaymentClassifier(n_estimators=5).fit(X, y.astype(bool))
    assert boolean.classes_.tolist() == [False, True] and boolean.predict(X).dtype == bool


def test_a_target_with_one_class_or_missing_labels_is_refused():
    X, y = _data()
    with pytest.raises(ParameterError, match=r"needs both classes in y .* one class"):
        LatePaymentClassifier(n_estimators=5).fit(X, np.ones(len(X)))
    with pytest.raises(ParameterError, match="Only binary classification is supported"):
        LatePaymentClassifier(n_estimators=5).fit(X, np.arange(len(X)) % 3)
    with pytest.raises(ParameterError, match="1 missing labels"):
        LatePaymentClassifier(n_estimators=5).fit(X, np.where(np.arange(len(X)) == 5, np.nan, y))


def test_missing_features_are_used_and_infinite_ones_refused():
    X, y = _data()
    with_nan = X.assign(a=X["a"].where(np.arange(len(X)) % 4 != 0))
    clf = LatePaymentClassifier(n_estimators=5).fit(with_nan, y)
    assert np.isfinite(clf.predict_proba(with_nan)).all()
    with pytest.raises(ParameterError, match=r"2 infinite values, in columns \['b'\]"):
        LatePaymentClassifier(n_estimators=5).fit(X.assign(b=X["b"].where(X.index > 1, np.inf)), y)
    with pytest.raises(ParameterError, match="infinite"):
        PaymentTimeModel(n_estimators=5).fit(np.where(np.isnan(with_nan), np.inf, with_nan), np.arange(len(X)))
    # -inf too, beside a column that is missing in every row (its extremes are NaN, not infinite)
    minus = X.assign(a=np.nan, b=X["b"].where(X.index != 3, -np.inf))
    with pytest.raises(ParameterError, match=r"1 infinite values, in columns \['b'\]"):
        LatePaymentClassifier(n_estimators=5).fit(minus, y)
    assert np.isfinite(LatePaymentClassifier(n_estimators=5).fit(X.assign(a=np.nan), y).predict_proba(X)).all()


def test_feature_names_follow_sklearns_convention_but_columns_are_matched_by_name():
    """Deliberate difference: scikit-learn refuses reordered columns; payrisk matches them by name (tables from
    different exports come in different orders) and names the missing ones."""
    X, y = _data()
    clf = LatePaymentClassifier(n_estimators=5).fit(X, y)
    assert clf.feature_names_in_.dtype == object and clf.feature_names_in_.tolist() == ["a", "b"]
    np.testing.assert_array_equal(clf.predict_proba(X[["b", "a"]]), clf.predict_proba(X))
    with pytest.raises(ParameterError, match=r"lacks 1 feature columns the model needs: \['b'\]"):
        clf.predict_proba(X[["a"]])
    arrays = LatePaymentClassifier(n_estimators=5).fit(X.to_numpy(), y)
    assert arrays.feature_names_in_.tolist() == ["x0", "x1"] and arrays.n_features_in_ == 2
    np.testing.assert_array_equal(arrays.predict_proba(X.to_numpy()), clf.predict_proba(X))
