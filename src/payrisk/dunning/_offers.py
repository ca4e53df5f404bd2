"""Payment-plan offers gated by the adherence model: a plan the customer can carry and will keep, or none."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from payrisk.dunning._policy import PlanOffers
from payrisk.features import MISSED_GRACE_DAYS

if TYPE_CHECKING:
    from payrisk.ledger import Ledger

__all__ = ["OFFER_COLUMNS", "gate_plan_offers"]

OFFER_COLUMNS = ["plan_instalments", "instalment_amount", "p_kept"]
_MONTH_DAYS = 30


def _adherence_model(adherence: Any) -> Any:
    """The instalment-adherence classifier of a fitted engine, or the classifier itself (None stays None)."""
    return getattr(adherence, "adherence_model_", adherence)


def last_broken_plan(snap: Ledger, day: pd.Timestamp) -> pd.Series:
    """Per customer, the last day on or before ``day`` one of its plans broke: an instalment not paid in full
    within the grace period (the definition of :func:`payrisk.labels.plan_kept` and the plan features)."""
    ins = snap.installments
    grace = pd.Timedelta(days=MISSED_GRACE_DAYS)
    full = ins["paid_date"].notna() & (ins["amount_paid"] >= ins["amount_due"] - 0.005)
    missed = (ins["due_date"] + grace <= day) & ~(full & (ins["paid_date"] <= ins["due_date"] + grace))
    broke = ins.loc[missed, ["plan_id", "due_date"]].assign(broken_on=lambda d: d["due_date"] + grace)
    owner = snap.plans.set_index("plan_id")["customer_id"]
    broke["customer_id"] = owner.reindex(broke["plan_id"]).to_numpy()
    return broke.groupby("customer_id")["broken_on"].max()


def monthly_payments(snap: Ledger, day: pd.Timestamp, customers: Any) -> pd.Series:
    """Per customer of ``customers``, the mean amount paid per month over the year up to ``day`` (months seen
    since its first payment in that year, 1 to 12): what it has shown it can pay."""
    pay = snap.payments
    pay = pay.loc[(pay["payment_date"] > day - pd.Timedelta(days=365)) & pay["customer_id"].isin(customers)]
    g = pay.groupby("customer_id")
    months = ((day - g["payment_date"].min()).dt.days / (365 / 12)).clip(lower=1, upper=12)
    return g["amount"].sum() / months


def _candidates(offers: pd.DataFrame, policy: PlanOffers, day: pd.Timestamp) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Hypothetical plans of 2..max_instalments equal monthly instalments over each offer's open amount."""
    counts = np.arange(2, policy.max_instalments + 1)
    plans = offers[["customer_id", "open_amount", "currency"]].merge(pd.DataFrame({"n_installments": counts}), "cross")
    plans["plan_id"] = "offer|" + plans["customer_id"] + "|" + plans["n_installments"].astype(str)
    plans["created_date"] = day + pd.Timedelta(days=1)
    plans["total_amount"] = plans["open_amount"]
    inst = plans.loc[plans.index.repeat(plans["n_installments"])].copy()
    inst["installment_no"] = inst.groupby("plan_id").cumcount() + 1
    inst["due_date"] = inst["created_date"] + pd.to_timedelta(inst["installment_no"] * _MONTH_DAYS, unit="D")
    inst["amount_due"] = (inst["open_amount"] / inst["n_installments"]).round(2)
    inst["amount_paid"] = 0.0
    return plans.drop(columns="open_amount"), inst[
        ["plan_id", "installment_no", "due_date", "amount_due", "amount_paid"]
    ]


def _p_kept(model: Any, snap: Ledger, plans: pd.DataFrame, inst: pd.DataFrame, day: pd.Timestamp) -> np.ndarray:
    """P(kept) of each hypothetical plan, scored on the features it would have if agreed tomorrow."""
    from payrisk import features
    from payrisk.ledger import Ledger

    who = plans["customer_id"].unique()
    tables = {n: t.loc[t["customer_id"].isin(who)] for n, t in snap.tables.items() if "customer_id" in t.columns}
    tables["plans"] = pd.concat([tables["plans"], plans[snap.plans.columns.intersection(plans.columns)]])
    known = snap.installments.loc[snap.installments["plan_id"].isin(tables["plans"]["plan_id"])]
    tables["installments"] = pd.concat([known, inst], ignore_index=True)
    P = features.plan_features(Ledger(tables), pd.DataFrame({"plan_id": plans["plan_id"], "as_of": day}))
    return model.predict_proba(P.loc[plans["plan_id"]])[:, 1]


def gate_plan_offers(
    actions: pd.DataFrame, policy: PlanOffers, snap: Ledger, day: pd.Timestamp, adherence: Any
) -> pd.DataFrame:
    """Decide the plan offer of every action whose step offers a plan.

    A plan is offered when the customer did not break a plan within the cooldown (unless the policy allows it),
    and some plan of 2..``max_instalments`` equal monthly instalments over the action's open amount is both
    affordable (an instalment at most ``max_share_of_monthly_payments`` of what the customer paid per month in
    the past year) and likely kept (P(kept) from the adherence model at least ``min_p_kept``); the shortest such
    plan is offered. Otherwise the offer is withdrawn, with the reason.

    Returns
    -------
    DataFrame
        Index of ``actions``; ``offer`` ("plan" or "none"), ``plan_instalments``, ``instalment_amount``,
        ``p_kept`` (NaN where no plan was scored) and ``offer_note`` (why, in words).
    """
    out = pd.DataFrame({"offer": actions["offer"], "offer_note": ""}, index=actions.index).assign(
        **{c: np.nan for c in OFFER_COLUMNS}
    )
    asks = actions.loc[(actions["offer"] == "plan") & (actions["blocked_by"] == "")]
    if asks.empty:
        return out
    broke = pd.Series(last_broken_plan(snap, day).reindex(asks["customer_id"]).to_numpy())
    since = day - pd.Timedelta(days=policy.broken_plan_cooldown_days)
    cooling = (broke > since).to_numpy() & (not policy.offer_after_broken_plan)
    broke_text = "no plan offered: broke a plan on " + broke.dt.strftime("%Y-%m-%d").fillna("")
    note = np.where(cooling, broke_text, "")
    model = _adherence_model(adherence)
    if model is None:
        note = np.where(note == "", "no plan offered: no adherence model to check the plan would be kept", note)
    out.loc[asks.index, "offer_note"] = note
    scored = asks.loc[note == ""]
    if not scored.empty:
        out.loc[scored.index] = _best_plans(scored, policy, snap, day, model)
    withdrawn = (out["offer"] == "plan") & out["offer_note"].str.startswith("no plan")
    out.loc[withdrawn, "offer"] = "none"
    return out


def _best_plans(asks: pd.DataFrame, policy: PlanOffers, snap: Ledger, day: pd.Timestamp, model: Any) -> pd.DataFrame:
    """The shortest affordable plan with P(kept) >= min_p_kept per action, or the reason there is none."""
    currency = snap.invoices.drop_duplicates("customer_id").set_index("customer_id")["currency"]
    offers = asks.assign(currency=currency.reindex(asks["customer_id"]).to_numpy(), action=asks.index)
    plans, inst = _candidates(offers, policy, day)
    plans["action"] = np.repeat(offers["action"].to_numpy(), policy.max_instalments - 1)
    plans["p_kept"] = _p_kept(model, snap, plans, inst, day)
    plans["instalment_amount"] = (plans["total_amount"] / plans["n_installments"]).round(2)
    can_pay = monthly_payments(snap, day, asks["customer_id"]).reindex(plans["customer_id"]).fillna(0).to_numpy()
    plans["affordable"] = plans["instalment_amount"].to_numpy() <= policy.max_share_of_monthly_payments * can_pay
    plans["ok"] = plans["affordable"] & (plans["p_kept"] >= policy.min_p_kept)
    best = plans.sort_values(["action", "ok", "n_installments"], ascending=[True, False, True])
    best = best.drop_duplicates("action").set_index("action").reindex(asks.index)
    top = plans.loc[plans["affordable"]].sort_values("p_kept").drop_duplicates("action", keep="last")
    top = top.set_index("action").reindex(asks.index)
    why = np.where(
        top["p_kept"].isna(),
        f"no plan offered: no plan of up to {policy.max_instalments} instalments is affordable on its payments",
        "no plan offered: best affordable plan is kept with P "
        + top["p_kept"].round(2).astype(str)
        + f" (needs {policy.min_p_kept:g})",
    )
    ok = best["ok"].to_numpy(dtype=bool)
    return pd.DataFrame(
        {
            "offer": "plan",
            "offer_note": np.where(
                ok,
                "plan of "
                + best["n_installments"].astype(int).astype(str)
                + " x "
                + best["instalment_amount"].map("{:,.2f}".format)
                + ", P(kept) "
                + best["p_kept"].round(2).astype(str),
                why,
            ),
            "plan_instalments": np.where(ok, best["n_installments"], np.nan),
            "instalment_amount": np.where(ok, best["instalment_amount"], np.nan),
            "p_kept": np.where(ok, best["p_kept"], top["p_kept"]),
        },
        index=asks.index,
    )
