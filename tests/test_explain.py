"""Contributions add up to the model output, agree with shap, and read as plain words with the row's values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import payrisk as pr
from payrisk import explain
from payrisk.errors import ParameterError
from payrisk.models import InstallmentAdherenceClassifier, LatePaymentClassifier, PaymentTimeModel

BLAME = ("late", "ignore", "bad", "risk", "score", "dispute", "chronic", "behav", "fail")


@pytest.fixture(scope="module")
def late(world: pr.Ledger):
    X = pr.features.invoice_features(world, "issue_date")
    y = pr.labels.late_payment(world, as_of="2024-06-30", mature_only=True)
    clf = LatePaymentClassifier(n_estimators=150).fit(X.loc[y.index], y)
    test = X.loc[X["as_of"] >= "2024-07-01"]
    return clf, test


def test_contributions_sum_to_the_margin_for_every_model(late, world):
    clf, X = late
    rows = X.iloc[:300]
    for method in ("exact", "approx"):
        phi = explain.contributions(clf, rows, method=method)
        assert list(phi.columns) == [*clf.feature_names_in_, "bias"]
        np.testing.assert_allclose(phi.sum(axis=1), explain.margin(clf, rows), atol=1e-4)
    # the calibrated probability is a monotone map of that margin
    order = np.argsort(explain.margin(clf, rows))
    assert (np.diff(clf.predict_proba(rows)[:, 1][order]) >= -1e-12).all()
    # survival: contributions add up on the log-time scale, not to the predicted days
    target = pr.labels.days_to_pay(world, as_of="2024-06-30")
    Xall = pr.features.invoice_features(world, "issue_date")
    pt = PaymentTimeModel(n_estimators=80).fit(Xall.loc[target.index], target)
    phi = explain.contributions(pt, rows)
    np.testing.assert_allclose(phi.sum(axis=1), pt.predict_location(rows), atol=1e-4)
    P = pr.features.plan_features(world, "created_date")
    yk = pr.labels.plan_kept(world, mature_only=True)
    adh = InstallmentAdherenceClassifier(n_estimators=40, calibration="none").fit(P.loc[yk.index], yk)
    phi = explain.contributions(adh, P.iloc[:50])
    np.testing.assert_allclose(phi.sum(axis=1), explain.margin(adh, P.iloc[:50]), atol=1e-4)


def test_xgboost_treeshap_agrees_with_shap(late):
    clf, X = late
    rows = X.iloc[:200]
    exact = explain.contributions(clf, rows, method="exact")
    via_shap = explain.contributions(clf, rows, method="shap")
    np.testing.assert_allclose(exact.to_numpy(), via_shap.to_numpy(), atol=1e-4)


def test_reasons_use_the_rows_own_values_and_point_at_risk(late, world):
    clf, X = late
    rows = X.iloc[:400]
    reasons = explain.reason_codes(clf, rows, n=3)
    assert (reasons["contribution_1"].dropna() > 0).all()
    assert (reasons["contribution_1"].fillna(0) >= reasons["contribution_2"].fillna(0)).all()
    with_share = reasons.index[reasons["feature_1"] == "share_late"]
    assert len(with_share) > 0
    for inv in with_share[:20]:  # "paid 80% of its invoices late": the customer's own share, in words
        assert f"{rows.loc[inv, 'share_late']:.0%}" in reasons.loc[inv, "reason_1"]
        assert "late" in reasons.loc[inv, "reason_1"]
    # chronic bad payers get lateness reasons far more often than reliable payers
    arche = world.truth.archetype_at("2024-07-01").reindex(rows["customer_id"]).to_numpy()
    lateness = reasons["feature_1"].str.contains("late").to_numpy()
    assert lateness[arche == "chronic"].mean() > lateness[arche == "reliable"].mean() + 0.3


def test_customer_register_is_factual_and_never_blames(late):
    clf, X = late
    reasons = explain.reason_codes(clf, X.iloc[:400], n=3, register="customer")
    feats = set(pd.unique(reasons[["feature_1", "feature_2", "feature_3"]].to_numpy().ravel())) - {""}
    assert feats and feats <= set(explain.CUSTOMER_PHRASES)
    text = " ".join(reasons[["reason_1", "reason_2", "reason_3"]].to_numpy().ravel()).lower()
    assert text.strip() and not any(word in text for word in BLAME)


def test_importance_medians_persist_and_bad_input(late, tmp_path):
    clf, X = late
    imp = explain.global_importance(clf, X.iloc[:300])
    assert imp.index[0] in clf.feature_names_in_ and (np.diff(imp.to_numpy()) <= 0).all()
    back = LatePaymentClassifier.load(clf.save(tmp_path / "m"))
    np.testing.assert_array_equal(back.feature_medians_, clf.feature_medians_)
    pd.testing.assert_frame_equal(explain.reason_codes(back, X.iloc[:20]), explain.reason_codes(clf, X.iloc[:20]))
    with pytest.raises(ParameterError, match="method"):
        explain.contributions(clf, X.iloc[:5], method="lime")
    with pytest.raises(ParameterError, match="register"):
        explain.reason_codes(clf, X.iloc[:5], register="lawyer")


def test_one_reason_per_family(late):
    clf, X = late
    reasons = explain.reason_codes(clf, X.iloc[:400], n=3)
    feats = reasons[["feature_1", "feature_2", "feature_3"]].to_numpy()
    families = np.vectorize(explain._family)(feats)
    for row in families:
        named = [f for f in row if f]
        assert len(named) == len(set(named))  # "days late on average" and "days late in 90 days" never both
    assert explain._family("days_late_mean_90d") == explain._family("days_late_max") == "days_late"
    assert explain._family("share_late_365d") == "share_late"
