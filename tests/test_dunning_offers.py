"""Plan offers: the shortest plan the customer can carry and will keep; never soon after a broken plan."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import payrisk as pr
from payrisk.dunning import Policy, plan_actions

TODAY = pd.Timestamp("2024-06-12")
DUE = TODAY - pd.Timedelta(days=14)  # the struggling track's plan offer is due 12 days after the due date
# customer: (monthly invoiced and paid, overdue amount, day its earlier plan broke or None)
BOOK = {
    "s_ok": (1000.0, 1500.0, None),
    "s_poor": (100.0, 1500.0, None),
    "s_broke": (1000.0, 1500.0, TODAY - pd.Timedelta(days=100)),
    "s_broke_long_ago": (1000.0, 1500.0, TODAY - pd.Timedelta(days=500)),
}


class BurdenModel:
    """An adherence model whose P(kept) falls with the plan's burden (instalment / monthly invoicing)."""

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        p = np.clip(0.95 - 0.4 * X["plan_burden"].to_numpy(), 0, 1)
        return np.column_stack([1 - p, p])


def _ledger() -> pr.Ledger:
    months = pd.date_range(TODAY - pd.Timedelta(days=720), DUE - pd.Timedelta(days=40), freq="30D")
    inv, plans, inst = [], [], []
    for cust, (monthly, overdue, broke) in BOOK.items():
        for i, day in enumerate(months):
            inv.append((f"{cust}_{i}", cust, day, day + pd.Timedelta(days=30), monthly, day + pd.Timedelta(days=25)))
        inv.append((f"{cust}_open", cust, DUE - pd.Timedelta(days=30), DUE, overdue, None))
        if broke is not None:  # a 3-instalment plan whose first instalment was missed (broken 30 days after due)
            plans.append((f"{cust}_plan", cust, broke - pd.Timedelta(days=60), 3, 300.0))
            inst += [(f"{cust}_plan", k, broke - pd.Timedelta(days=30) + pd.Timedelta(days=30 * (k - 1)), 100.0)
                     for k in (1, 2, 3)]  # fmt: skip
    cols = ["invoice_id", "customer_id", "issue_date", "due_date", "amount", "paid_date"]
    invoices = pd.DataFrame(inv, columns=cols).assign(currency="EUR")
    plan_cols = ["plan_id", "customer_id", "created_date", "n_installments", "total_amount"]
    return pr.Ledger.from_frames(
        customers=pd.DataFrame({"customer_id": list(BOOK), "country": "NL"}),
        invoices=invoices,
        plans=pd.DataFrame(plans, columns=plan_cols),
        installments=pd.DataFrame(inst, columns=["plan_id", "installment_no", "due_date", "amount_due"]),
    )


def _scores() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": list(BOOK),
            "open_amount": [v[1] for v in BOOK.values()],
            "due_date": DUE,
            "p_late": 0.9,
            "segment": "struggling",
        },
        index=pd.Index([f"{c}_open" for c in BOOK], name="invoice_id"),
    )


def _p_kept(customer: str, instalment: float) -> float:
    """BurdenModel's P(kept) of an instalment for a customer of BOOK (its invoicing of the past year / 12)."""
    inv = _ledger().invoices
    mine = inv.loc[(inv["customer_id"] == customer) & (inv["issue_date"] > TODAY - pd.Timedelta(days=365))]
    return 0.95 - 0.4 * instalment / (mine["amount"].sum() / 12)


DEFAULT = Policy.default()


def _offers(policy: Policy = DEFAULT, adherence: object = "burden") -> pd.DataFrame:
    model = BurdenModel() if adherence == "burden" else adherence
    plan = plan_actions(_ledger(), _scores(), policy, TODAY, adherence=model)
    assert (plan["step"] == "plan-offer").all() and (plan["status"] == "send").all(), plan.to_string()
    return plan.set_index("customer_id")


def _with_offers(**changes: object) -> Policy:
    doc = Policy.default().to_dict()
    doc["plan_offers"].update(changes)
    return Policy.model_validate(doc)


@pytest.fixture(scope="module")
def offers() -> pd.DataFrame:
    return _offers()


def test_the_shortest_plan_that_will_be_kept_is_offered(offers):
    ok = offers.loc["s_ok"]
    assert _p_kept("s_ok", 750) >= 0.6 > _p_kept("s_ok", 1500)  # 2 x 750 is the shortest plan kept with P >= 0.6
    assert ok["offer"] == "plan" and ok["plan_instalments"] == 2 and ok["instalment_amount"] == 750.0
    assert ok["p_kept"] == pytest.approx(_p_kept("s_ok", 750)) and "plan of 2 x 750.00" in ok["reason"]
    assert ok["template"] == "struggling_plan"
    assert _p_kept("s_ok", 500) >= 0.75 > _p_kept("s_ok", 750)
    stricter = _offers(_with_offers(min_p_kept=0.75)).loc["s_ok"]
    assert stricter["plan_instalments"] == 3 and stricter["p_kept"] == pytest.approx(_p_kept("s_ok", 500))


def test_no_plan_when_none_would_be_kept():
    best = _p_kept("s_ok", 250)  # the best plan: 6 x 250
    assert best < 0.9
    got = _offers(_with_offers(min_p_kept=0.9)).loc["s_ok"]
    assert got["offer"] == "none" and np.isnan(got["plan_instalments"]) and got["p_kept"] == pytest.approx(best)
    assert f"kept with P {best:.2f} (needs 0.9)" in got["reason"] and got["template"] == "struggling_plan+no_plan"


def test_no_plan_the_customer_cannot_carry(offers):
    poor = offers.loc["s_poor"]  # pays 100 a month: even 6 x 250 is too much
    assert poor["offer"] == "none" and "affordable" in poor["reason"] and np.isnan(poor["p_kept"])
    carried = _offers(_with_offers(max_share_of_monthly_payments=3.0)).loc["s_poor"]
    assert carried["offer"] == "none"  # affordable now, but too heavy to be kept
    assert "kept with P" in carried["reason"] and carried["p_kept"] == pytest.approx(_p_kept("s_poor", 250))


def test_no_plan_soon_after_a_broken_plan_unless_the_policy_allows_it(offers):
    assert offers.loc["s_broke", "offer"] == "none" and "broke a plan on" in offers.loc["s_broke", "reason"]
    assert offers.loc["s_broke_long_ago", "offer"] == "plan"  # broke 500 days ago: the 365-day cooldown is over
    allowed = _offers(_with_offers(offer_after_broken_plan=True))
    assert allowed.loc["s_broke", "offer"] == "plan"


def test_no_plan_without_an_adherence_model():
    got = _offers(adherence=None)
    assert (got["offer"] == "none").all()
    assert got["reason"].drop("s_broke").str.contains("no adherence model").all()  # s_broke: the cooldown says it


def test_plan_offers_follow_the_true_chance_of_keeping_a_plan():
    """On a world with many plans, the fitted adherence model ranks hypothetical plans as the truth does."""
    from payrisk.dunning._offers import _candidates, _p_kept

    params = pr.datasets.WorldParams(
        plans_per_year={"reliable": 0.0, "forgetful": 0.5, "struggling": 3.0, "chronic": 2.0}
    )
    ledger = pr.datasets.make_ledger(n_customers=1500, seed=3, params=params)
    day = pd.Timestamp("2024-04-30")
    snap = ledger.as_of(day)
    y = pr.labels.plan_kept(snap, mature_only=True)
    model = pr.models.InstallmentAdherenceClassifier().fit(pr.features.plan_features(snap).loc[y.index], y)
    truth = ledger.truth.customers.set_index("customer_id")
    who = truth.loc[truth["archetype"].isin(["struggling", "chronic"])].index[:300]
    asks = pd.DataFrame({"customer_id": who, "open_amount": 3000.0, "currency": "EUR", "action": range(len(who))})
    plans, inst = _candidates(asks, Policy.default().plan_offers, day)
    p = _p_kept(model, snap, plans, inst, day)
    monthly = (truth["amount_scale"] * truth["invoices_per_month"]).reindex(plans["customer_id"]).to_numpy()
    cust = truth.reindex(plans["customer_id"])
    logit = (
        cust["archetype"].map(params.plan_kept_logit).to_numpy()
        + params.plan_burden_effect * (3000.0 / plans["n_installments"].to_numpy()) / monthly
        + params.plan_size_effect * plans["n_installments"].to_numpy()
        + params.plan_customer_effect * cust["customer_effect"].to_numpy()
    )
    true_p = 1 / (1 + np.exp(-logit))
    assert np.corrcoef(p, true_p)[0, 1] > 0.5
    top = p >= np.median(p)
    assert true_p[top].mean() > true_p[~top].mean() + 0.05
