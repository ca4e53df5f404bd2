"""device="cpu"|"cuda" (issue 25): every model, the engine, the acceptance model and the reasons take it; a GPU asked
for where XGBoost has none is refused with the fix, never silently replaced by the CPU. The GPU itself is measured
in benchmarks where one is lent (DEVELOPERS.md), not here."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xgboost as xgb

import payrisk as pr
from payrisk import explain
from payrisk._device import _gpu_missing
from payrisk.acceptance import AcceptanceModel
from payrisk.errors import InvalidParameterError, ParameterError
from payrisk.models import (
    CustomerProblemClassifier,
    InstallmentAdherenceClassifier,
    LatePaymentClassifier,
    PaymentTimeModel,
    PaymentWeekModel,
)

MODELS = [LatePaymentClassifier, PaymentTimeModel, PaymentWeekModel, InstallmentAdherenceClassifier,
          CustomerProblemClassifier]  # fmt: skip
NO_GPU = _gpu_missing()


@pytest.mark.parametrize("model", MODELS)
def test_every_model_takes_a_device_and_hands_it_to_xgboost(model):
    assert model().get_params()["device"] == "cpu"
    assert model(device="cuda").booster_params(["days_to_due"])["device"] == "cuda"
    with pytest.raises(InvalidParameterError, match=r"'device' parameter of .* must be a str among"):
        model(device="gpu").validate_params()


def test_the_engine_and_the_acceptance_model_take_a_device():
    assert pr.RiskEngine().get_params()["device"] == "cpu"
    assert AcceptanceModel(device="cuda")._model().device == "cuda"
    ledger = pr.datasets.make_ledger(n_customers=40, seed=0)
    with pytest.raises(ParameterError, match=r"'device' parameter of RiskEngine must be one of \('cpu', 'cuda'\)"):
        pr.RiskEngine(device="GPU").fit(ledger, "2024-03-31")


@pytest.mark.skipif(not NO_GPU, reason="XGBoost sees a GPU here: the refusal cannot be shown")
def test_cuda_without_a_gpu_is_refused_with_the_fix():
    ledger = pr.datasets.make_ledger(n_customers=40, seed=0)
    for fit in (
        lambda: pr.RiskEngine(device="cuda").fit(ledger, "2024-03-31"),
        lambda: LatePaymentClassifier(device="cuda").fit(np.zeros((50, 1)), np.arange(50) % 2),
    ):
        with pytest.raises(ParameterError, match=r"device='cuda' asks for the GPU, but .*Use device='cpu'") as err:
            fit()
        assert NO_GPU in str(err.value)


@pytest.fixture(scope="module")
def fitted():
    ledger = pr.datasets.make_ledger(n_customers=150, seed=0)
    X = pr.features.invoice_features(ledger, "issue_date")
    y = pr.labels.late_payment(ledger, mature_only=True)
    return LatePaymentClassifier(n_estimators=30).fit(X.loc[y.index], y), X.loc[y.index]


def test_the_trees_are_those_of_xgboosts_own_histogram_fit(fitted):
    """fit quantises the training rows once (QuantileDMatrix, the form the GPU reads): the trees are the ones
    xgboost.train grows on the same rows from a plain DMatrix."""
    model, X = fitted
    M = model.matrix(X.sort_values("as_of", kind="stable"))
    n_tr, n_val, _ = model._splits(len(M))
    y = pr.labels.late_payment(pr.datasets.make_ledger(n_customers=150, seed=0), mature_only=True)
    target = y.reindex(X.sort_values("as_of", kind="stable").index).to_numpy(dtype=float)
    names = list(model.feature_names_in_)
    dtrain = xgb.DMatrix(M[:n_tr], target[:n_tr], feature_names=names)
    dval = xgb.DMatrix(M[n_tr : n_tr + n_val], target[n_tr : n_tr + n_val], feature_names=names)
    plain = xgb.train(model.booster_params(names), dtrain, model.n_estimators, evals=[(dval, "valid")],
                      early_stopping_rounds=model.early_stopping_rounds, verbose_eval=False)  # fmt: skip
    assert plain.best_iteration == model.best_iteration_
    d = xgb.DMatrix(model.matrix(X), feature_names=names)
    np.testing.assert_allclose(plain.predict(d, output_margin=True), explain.margin(model, X), rtol=1e-6)


def test_reasons_on_an_asked_device_equal_the_models_own(fitted):
    model, X = fitted
    phi = explain.contributions(model, X.iloc[:50])
    pd.testing.assert_frame_equal(explain.contributions(model, X.iloc[:50], device="cpu"), phi)
    with pytest.raises(ParameterError, match="'device' parameter of contributions must be one of"):
        explain.contributions(model, X.iloc[:5], device="tpu")
