"""On the synthetic world the features recover what is really there: archetypes, rhythms, plan adherence."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import payrisk as pr


@pytest.fixture(scope="module")
def customer_view(world: pr.Ledger) -> pd.DataFrame:
    """Customer features at a date late in the world, beside each customer's true archetype then."""
    day = "2024-10-31"
    feats = pr.features.customer_features(world, day)
    arche = world.truth.archetype_at(day).rename("archetype")
    return feats.join(arche)


def test_features_separate_the_archetypes(customer_view: pd.DataFrame):
    enough = customer_view.loc[customer_view["n_settled"] >= 10]
    means = enough.groupby("archetype")[["share_late", "days_late_mean", "days_late_median_365d"]].mean()
    for col in means:
        m = means[col]
        assert m["reliable"] < m["forgetful"] < m["struggling"] < m["chronic"], (col, m)
    resp = enough.groupby("archetype")["reminder_response_7d"].mean()
    assert resp["forgetful"] > resp["struggling"] > resp["chronic"]  # forgetful payers pay when reminded
    plans = enough.groupby("archetype")["n_plans"].mean()
    assert plans["struggling"] > plans["reliable"]


def test_payment_rhythm_features_find_the_true_rhythm(world: pr.Ledger, customer_view: pd.DataFrame):
    truth = world.truth.customers.set_index("customer_id")
    df = customer_view.join(truth[["rhythm", "preferred_weekday", "payrun_day", "weekday_concentration"]])
    weekly = df.loc[(df["rhythm"] == "weekday") & (df["weekday_concentration"] > 0.6) & (df["n_settled"] >= 10)]
    assert (weekly["pay_weekday"] == weekly["preferred_weekday"]).mean() > 0.95
    runs = df.loc[(df["rhythm"] == "payrun") & (df["weekday_concentration"] > 0.6) & (df["n_settled"] >= 10)]
    # a pay-run day on a weekend moves to the Monday after: allow two days
    assert ((runs["pay_day_of_month"] - runs["payrun_day"]) % 31).le(2).mean() > 0.8
    assert runs["pay_day_of_month_share"].mean() > df.loc[df["rhythm"] == "none", "pay_day_of_month_share"].mean()


def test_issue_date_features_predict_the_true_probability(world: pr.Ledger):
    X = pr.features.invoice_features(world, "issue_date")
    p = world.truth.invoices.set_index("invoice_id")["p_late"].reindex(X.index)
    ok = X["share_late_365d"].notna()
    rho = pd.Series(X.loc[ok, "share_late_365d"]).corr(p[ok], method="spearman")
    assert rho > 0.6
    # open and overdue counts at the cutoff never count the row's own invoice
    first = X.groupby("customer_id")["as_of"].transform("min") == X["as_of"]
    assert (X.loc[first, "n_invoices"] == 0).all()


def test_plan_features_rank_plans_by_true_adherence(world: pr.Ledger):
    P = pr.features.plan_features(world, "created_date")
    truth = world.truth.plans.set_index("plan_id")["p_kept"].reindex(P.index)
    rho = P["share_late"].corr(truth, method="spearman")
    assert rho < -0.2  # customers who paid late before the plan keep it less often
    assert (P["installments_due"] == 0).all() and (P["prior_plans"] >= 0).all()
    due = pr.features.plan_features(world, "installment_due")
    assert len(due) == len(world.installments)
    assert np.array_equal(due["installments_due"].to_numpy(), (due["installment_no"] - 1).to_numpy())
