"""A deliberately naive reference implementation of payrisk's point-in-time features (tests only).

Every row is computed on its own: ``snap = ledger.as_of(T)`` for the row's cutoff day ``T``, then the features are
read off ``snap`` with plain pandas, one at a time, following the definitions in
``payrisk.features._registry`` and ``docs/features.md``. There is no cleverness here on purpose: this module is
slow and obviously correct, and the fast builders in ``payrisk.features`` are compared with it.

Conventions (see ``docs/features.md``):

* ``T`` is the end of the cutoff day; a date is "on or before the cutoff" when it is ``<= T``.
* Days are whole days: ``(a - b).days``.
* "In the last ``w`` days" means a date in ``(T - w, T]``.
* Empty aggregates (means, medians, maxima, shares over nothing) are NaN; counts are 0.
* A row's own invoice (and its payments and contacts) never counts in the customer's history.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from payrisk.features._registry import (
    EWM_HALFLIFE_DAYS,
    MISSED_GRACE_DAYS,
    REMINDER_CHANNELS,
    RESPONSE_DAYS,
    WINDOWS,
    feature_names,
)
from payrisk.ledger import Ledger

__all__ = [
    "created_cutoffs",
    "customer_date_cutoffs",
    "date_cutoffs",
    "due_cutoffs",
    "installment_due_cutoffs",
    "issue_cutoffs",
    "naive_customer_features",
    "naive_invoice_features",
    "naive_plan_features",
]

NAN = float("nan")
DAY = pd.Timedelta(days=1)
PAID_TOLERANCE = 0.005  #: an instalment is paid in full when amount_paid >= amount_due - this
#: The registry: an undated dispute flag counts only once the invoice is issued (at an "issue_date" cutoff, the
#: day before issue, it reads 0); before issue only a dispute dated on or before the cutoff counts.
UNDATED_DISPUTE_BEFORE_ISSUE = False


# -- small helpers -------------------------------------------------------------------------------------------------


def days_between(a: pd.Timestamp, b: pd.Timestamp) -> int:
    """Whole days from ``b`` to ``a``."""
    return (pd.Timestamp(a) - pd.Timestamp(b)).days


def mean(values: list[float]) -> float:
    return float(np.mean(values)) if len(values) else NAN


def median(values: list[float]) -> float:
    return float(np.median(values)) if len(values) else NAN


def maximum(values: list[float]) -> float:
    return float(max(values)) if len(values) else NAN


def share(flags: list[bool]) -> float:
    return float(sum(bool(f) for f in flags) / len(flags)) if len(flags) else NAN


def mode_smallest(values: list[int]) -> tuple[float, float]:
    """The most frequent value (ties: the smallest) and the share of values equal to it; NaN, NaN if empty."""
    if not values:
        return NAN, NAN
    counts: dict[int, int] = {}
    for v in values:
        counts[v] = counts.get(v, 0) + 1
    best = min(counts, key=lambda v: (-counts[v], v))
    return float(best), counts[best] / len(values)


def in_registry_order(values: dict[str, float], entity: str) -> dict[str, float]:
    """``values`` in the registry's order; fails loudly when the registry and this module disagree on names."""
    names = feature_names(entity)
    missing, extra = sorted(set(names) - set(values)), sorted(set(values) - set(names))
    assert not missing and not extra, f"naive {entity} features: not computed {missing}, not in the registry {extra}"
    return {name: values[name] for name in names}


def instalment_kept(row: pd.Series) -> bool:
    """Paid in full within MISSED_GRACE_DAYS of the due date (with what is known in the row)."""
    return bool(
        pd.notna(row["paid_date"])
        and row["paid_date"] <= row["due_date"] + pd.Timedelta(days=MISSED_GRACE_DAYS)
        and row["amount_paid"] >= row["amount_due"] - PAID_TOLERANCE
    )


def instalment_missed(row: pd.Series, T: pd.Timestamp) -> bool:
    """Due at least MISSED_GRACE_DAYS before T and not kept."""
    return bool(row["due_date"] <= T - pd.Timedelta(days=MISSED_GRACE_DAYS) and not instalment_kept(row))


def known_schedule(ledger: Ledger, plan_id: str, T: pd.Timestamp) -> pd.DataFrame:
    """The plan's full instalment schedule, with what was paid by the end of T (later payments unknown).

    The schedule is a fact of the plan (like an invoice's amount), so it is known even at a cutoff before the
    plan's creation; payments made after T are not.
    """
    ins = ledger.installments.loc[ledger.installments["plan_id"] == plan_id].copy()
    later = ~(ins["paid_date"] <= T)
    ins["paid_date"] = ins["paid_date"].where(~later)
    ins["amount_paid"] = ins["amount_paid"].where(~later, 0.0)
    return ins


# -- the customer's history ------------------------------------------------------------------------------------------


def customer_block(ledger: Ledger, snap: Ledger, customer_id: str, T: pd.Timestamp, own: str | None) -> dict:
    """Customer features of ``customer_id`` at the end of ``T``, without invoice ``own`` (when given)."""
    out: dict[str, float] = {}

    inv = snap.invoices.loc[snap.invoices["customer_id"] == customer_id]
    if own is not None:
        inv = inv.loc[inv["invoice_id"] != own]
    # payments known at T (dated <= T) of the customer: unallocated, or on another invoice
    pay = snap.payments.loc[snap.payments["customer_id"] == customer_id]
    pay = pay.loc[pay["invoice_id"].isna() | (pay["invoice_id"] != own)] if own is not None else pay
    con = snap.contacts.loc[snap.contacts["customer_id"] == customer_id]
    con = con.loc[con["invoice_id"].isna() | (con["invoice_id"] != own)] if own is not None else con

    # tenure
    firsts = []
    cust = ledger.customers.loc[ledger.customers["customer_id"] == customer_id]
    if len(cust) and pd.notna(cust["created_date"].iloc[0]) and cust["created_date"].iloc[0] <= T:
        firsts.append(cust["created_date"].iloc[0])
    if len(inv):
        firsts.append(inv["issue_date"].min())
    out["tenure_days"] = float(days_between(T, min(firsts))) if firsts else NAN

    # invoices issued on or before T
    out["n_invoices"] = float(len(inv))
    out["days_since_last_invoice"] = float(days_between(T, inv["issue_date"].max())) if len(inv) else NAN

    # settled invoices (paid by T in snap)
    settled = inv.loc[inv["paid_date"].notna()]
    late_days = {row.invoice_id: days_between(row.paid_date, row.due_date) for row in settled.itertuples()}
    paid_on = dict(zip(settled["invoice_id"], settled["paid_date"], strict=True))
    all_late = list(late_days.values())
    out["n_settled"] = float(len(settled))
    out["share_late"] = share([d > 0 for d in all_late])
    out["days_late_mean"] = mean(all_late)
    out["days_late_max"] = maximum(all_late)
    for w in WINDOWS:
        start = T - pd.Timedelta(days=w)
        recent = [late_days[i] for i, p in paid_on.items() if start < p <= T]
        out[f"days_late_mean_{w}d"] = mean(recent)
        out[f"days_late_median_{w}d"] = median(recent)
        out[f"days_late_max_{w}d"] = maximum(recent)
        out[f"share_late_{w}d"] = share([d > 0 for d in recent])
        out[f"n_settled_{w}d"] = float(len(recent))
    weights = [0.5 ** (days_between(T, paid_on[i]) / EWM_HALFLIFE_DAYS) for i in late_days]
    out["days_late_ewm"] = (
        float(sum(w * d for w, d in zip(weights, all_late, strict=True)) / sum(weights)) if weights else NAN
    )
    out["lateness_trend"] = out["days_late_mean_90d"] - out["days_late_mean"]

    # open and overdue invoices (the ledger's own definition: open_amount > 0 at T)
    open_ = inv.loc[inv["open_amount"] > 0]
    overdue = open_.loc[open_["due_date"] < T]
    out["open_amount"] = float(open_["open_amount"].sum())
    out["n_open"] = float(len(open_))
    out["n_overdue"] = float(len(overdue))
    out["overdue_amount"] = float(overdue["open_amount"].sum())
    out["max_days_overdue"] = maximum([days_between(T, d) for d in overdue["due_date"]])

    # invoices that fell due in the 90 days up to T: paid by the due date, or not (paid later or still open at T)
    fell = inv.loc[(inv["due_date"] < T) & (inv["due_date"] >= T - pd.Timedelta(days=90))]
    not_by_due = [pd.isna(r.paid_date) or r.paid_date > r.due_date for r in fell.itertuples()]
    out["n_late_due_90d"] = float(sum(not_by_due))
    out["share_late_due_90d"] = share(not_by_due)

    # payments
    out["days_since_last_payment"] = float(days_between(T, pay["payment_date"].max())) if len(pay) else NAN
    out["n_payments"] = float(len(pay))
    partial = []
    for row in pay.loc[pay["invoice_id"].notna()].itertuples():
        paid_date = snap.invoices.loc[snap.invoices["invoice_id"] == row.invoice_id, "paid_date"].iloc[0]
        partial.append(pd.isna(paid_date) or paid_date > row.payment_date)
    out["share_partial_payments"] = share(partial)

    # disputes, credit notes
    out["share_disputed"] = share(list(inv["disputed"]))
    cn = snap.credit_notes.loc[snap.credit_notes["customer_id"] == customer_id]
    out["n_credit_notes_365d"] = float(
        ((cn["issue_date"] > T - pd.Timedelta(days=365)) & (cn["issue_date"] <= T)).sum()
    )

    # payment rhythm
    out["pay_weekday"], out["pay_weekday_share"] = mode_smallest([d.weekday() for d in pay["payment_date"]])
    out["pay_day_of_month"], out["pay_day_of_month_share"] = mode_smallest([d.day for d in pay["payment_date"]])
    out["days_to_pay_weekday"] = NAN
    out["days_to_pay_day"] = NAN
    if len(pay):  # walk the calendar from the cutoff to the first day that is the usual weekday / pay-run day
        ahead = [T + pd.Timedelta(days=i) for i in range(63)]
        out["days_to_pay_weekday"] = float(next(i for i, d in enumerate(ahead) if d.weekday() == out["pay_weekday"]))
        out["days_to_pay_day"] = float(
            next(i for i, d in enumerate(ahead) if d.day == min(out["pay_day_of_month"], d.days_in_month))
        )

    # contacts
    sent_day = con["sent_at"].dt.normalize()
    out["n_reminders_365d"] = float(((sent_day > T - pd.Timedelta(days=365)) & (sent_day <= T)).sum())
    about = con.loc[con["invoice_id"].notna()]
    answered: list[tuple[str, bool]] = []
    for row in about.itertuples():
        s = row.sent_at.normalize()
        if s > T - pd.Timedelta(days=RESPONSE_DAYS):
            continue
        p = snap.payments.loc[snap.payments["invoice_id"] == row.invoice_id, "payment_date"]
        hit = bool(((p >= s) & (p <= s + pd.Timedelta(days=RESPONSE_DAYS))).any())
        answered.append((row.channel, hit))
    out["reminder_response_7d"] = share([hit for _, hit in answered])
    for ch in REMINDER_CHANNELS:
        out[f"reminder_response_7d_{ch}"] = share([hit for c, hit in answered if c == ch])
    gaps = []
    for inv_id, paid in paid_on.items():
        sent = snap.contacts.loc[snap.contacts["invoice_id"] == inv_id, "sent_at"].dt.normalize()
        sent = sent.loc[sent <= paid]
        if len(sent):
            gaps.append(days_between(paid, sent.max()))
    out["days_reminder_to_settlement_median"] = median(gaps)

    # payment plans (all of the customer's plans created on or before T)
    plans = snap.plans.loc[snap.plans["customer_id"] == customer_id]
    ins = snap.installments.loc[snap.installments["plan_id"].isin(list(plans["plan_id"]))]
    out["n_plans"] = float(len(plans))
    out["n_installments_missed"] = float(sum(instalment_missed(row, T) for _, row in ins.iterrows()))

    return in_registry_order(out, "customer")


# -- the own invoice --------------------------------------------------------------------------------------------------


def invoice_block(ledger: Ledger, snap: Ledger, invoice: pd.Series, T: pd.Timestamp) -> dict:
    """Invoice features of ``invoice`` (a row of the full ledger) at the end of ``T``.

    The invoice's own facts (amount, dates, terms) are known from the invoice itself, even when the cutoff is
    before its issue date (the "issue_date" rule); what happens to it (payments, contacts, disputes) only when
    dated on or before T.
    """
    own = invoice["invoice_id"]
    out: dict[str, float] = {}
    out["amount"] = float(invoice["amount"])
    out["terms_days"] = float(days_between(invoice["due_date"], invoice["issue_date"]))
    out["days_to_due"] = float(days_between(invoice["due_date"], T))
    out["days_open"] = float(days_between(T, invoice["issue_date"]))
    out["days_overdue"] = float(max(days_between(T, invoice["due_date"]), 0))
    others = snap.invoices.loc[
        (snap.invoices["customer_id"] == invoice["customer_id"]) & (snap.invoices["invoice_id"] != own)
    ]
    out["amount_vs_usual"] = (
        float(invoice["amount"] / math.exp(np.mean(np.log(others["amount"].to_numpy(dtype=float)))))
        if len(others)
        else NAN
    )
    own_pay = snap.payments.loc[snap.payments["invoice_id"] == own]
    out["paid_share"] = float(own_pay["amount"].sum() / invoice["amount"])
    out["n_reminders"] = float((snap.contacts["invoice_id"] == own).sum())
    # registry: disputed when the dispute is dated on or before T, or the flag is set without a date
    if pd.notna(invoice["disputed_date"]):
        disputed = bool(invoice["disputed_date"] <= T)
    elif invoice["issue_date"] > T and not UNDATED_DISPUTE_BEFORE_ISSUE:
        disputed = False
    else:
        disputed = bool(invoice["disputed"])
    if (snap.invoices["invoice_id"] == own).any():  # cross-check with the snapshot when the invoice exists at T
        assert bool(snap.invoices.loc[snap.invoices["invoice_id"] == own, "disputed"].iloc[0]) == bool(disputed)
    out["disputed"] = float(disputed)
    out["issue_month"] = float(invoice["issue_date"].month)
    return in_registry_order(out, "invoice")


# -- the own plan ------------------------------------------------------------------------------------------------------


def plan_block(ledger: Ledger, snap: Ledger, plan: pd.Series, T: pd.Timestamp) -> dict:
    """Plan features of ``plan`` (a row of the full ledger) at the end of ``T``."""
    out: dict[str, float] = {}
    ins = known_schedule(ledger, plan["plan_id"], T)
    out["n_installments"] = float(len(ins))
    out["installment_amount"] = mean(list(ins["amount_due"]))
    inv = snap.invoices.loc[snap.invoices["customer_id"] == plan["customer_id"]]
    year = inv.loc[inv["issue_date"] > T - pd.Timedelta(days=365), "amount"].sum()
    days_seen = (T - inv["issue_date"].min()).days if len(inv) else 0
    months = min(max(days_seen, 30), 365) * 12 / 365
    out["plan_burden"] = float(out["installment_amount"] / (year / months)) if year != 0 else NAN
    due = ins.loc[ins["due_date"] <= T]
    out["installments_due"] = float(len(due))
    on_time = ins.loc[
        ins["paid_date"].notna()
        & (ins["paid_date"] <= ins["due_date"])
        & (ins["amount_paid"] >= ins["amount_due"] - PAID_TOLERANCE)
    ]
    out["installments_paid_on_time"] = float(len(on_time))
    out["installments_missed"] = float(sum(instalment_missed(row, T) for _, row in ins.iterrows()))
    if len(due):
        # the latest instalment due on or before T (ties on the due date: the highest instalment number)
        last = due.sort_values(["due_date", "installment_no"]).iloc[-1]
        if pd.notna(last["paid_date"]):
            out["last_installment_days_late"] = float(days_between(last["paid_date"], last["due_date"]))
        else:
            out["last_installment_days_late"] = float(days_between(T, last["due_date"]))
        out["paid_vs_due"] = float(due["amount_paid"].sum() / due["amount_due"].sum())
    else:
        out["last_installment_days_late"] = NAN
        out["paid_vs_due"] = NAN
    other = snap.plans.loc[
        (snap.plans["customer_id"] == plan["customer_id"]) & (snap.plans["plan_id"] != plan["plan_id"])
    ]
    out["prior_plans"] = float(len(other))
    missed = 0
    for pid in other["plan_id"]:
        their = snap.installments.loc[snap.installments["plan_id"] == pid]
        missed += any(instalment_missed(row, T) for _, row in their.iterrows())
    out["prior_plans_missed"] = float(missed)
    return in_registry_order(out, "plan")


# -- the three builders ---------------------------------------------------------------------------------------------


def _day(value) -> pd.Timestamp:
    return pd.Timestamp(value).normalize()


def _finish(rows: list[dict], index: list[str], name: str, columns: list[str]) -> pd.DataFrame:
    out = pd.DataFrame(rows, columns=columns, index=pd.Index(index, dtype="str", name=name))
    for c in columns:
        if c == "customer_id":
            out[c] = out[c].astype("str")
        elif c == "as_of":
            out[c] = pd.to_datetime(out[c]).astype("datetime64[ns]")
        else:
            out[c] = out[c].astype("float64")
    return out


def naive_invoice_features(ledger: Ledger, cutoffs: pd.DataFrame) -> pd.DataFrame:
    """One row per line of ``cutoffs`` (columns ``invoice_id``, ``as_of``), computed on ``ledger.as_of(T)``."""
    columns = ["customer_id", "as_of", *feature_names("invoice"), *feature_names("customer")]
    invoices = ledger.invoices.set_index("invoice_id", drop=False)
    rows, index = [], []
    for invoice_id, as_of in zip(cutoffs["invoice_id"], cutoffs["as_of"], strict=True):
        T = _day(as_of)
        snap = ledger.as_of(T)
        invoice = invoices.loc[invoice_id]
        row = {"customer_id": invoice["customer_id"], "as_of": T}
        row |= invoice_block(ledger, snap, invoice, T)
        row |= customer_block(ledger, snap, invoice["customer_id"], T, own=invoice_id)
        rows.append(row)
        index.append(invoice_id)
    return _finish(rows, index, "invoice_id", columns)


def naive_customer_features(ledger: Ledger, cutoffs: pd.DataFrame) -> pd.DataFrame:
    """One row per line of ``cutoffs`` (columns ``customer_id``, ``as_of``); nothing excluded."""
    columns = ["as_of", *feature_names("customer")]
    rows, index = [], []
    for customer_id, as_of in zip(cutoffs["customer_id"], cutoffs["as_of"], strict=True):
        T = _day(as_of)
        snap = ledger.as_of(T)
        rows.append({"as_of": T} | customer_block(ledger, snap, customer_id, T, own=None))
        index.append(customer_id)
    return _finish(rows, index, "customer_id", columns)


def naive_plan_features(ledger: Ledger, cutoffs: pd.DataFrame) -> pd.DataFrame:
    """One row per line of ``cutoffs`` (``plan_id``, ``as_of``, optional ``installment_no``)."""
    columns = ["customer_id", "as_of", "installment_no", *feature_names("plan"), *feature_names("customer")]
    plans = ledger.plans.set_index("plan_id", drop=False)
    numbers = cutoffs["installment_no"] if "installment_no" in cutoffs.columns else [None] * len(cutoffs)
    rows, index = [], []
    for plan_id, as_of, no in zip(cutoffs["plan_id"], cutoffs["as_of"], numbers, strict=True):
        T = _day(as_of)
        snap = ledger.as_of(T)
        plan = plans.loc[plan_id]
        row = {
            "customer_id": plan["customer_id"],
            "as_of": T,
            "installment_no": NAN if no is None or pd.isna(no) else float(no),
        }
        row |= plan_block(ledger, snap, plan, T)
        row |= customer_block(ledger, snap, plan["customer_id"], T, own=None)
        rows.append(row)
        index.append(plan_id)
    return _finish(rows, index, "plan_id", columns)


# -- cutoff frames of the rules, built by hand ----------------------------------------------------------------------


def _frame(ids, days, id_col: str) -> pd.DataFrame:
    return pd.DataFrame(
        {id_col: pd.Series(list(ids), dtype="str"), "as_of": pd.Series(list(days), dtype="datetime64[ns]")}
    )


def issue_cutoffs(ledger: Ledger) -> pd.DataFrame:
    """Every invoice at the day before its issue date."""
    inv = ledger.invoices
    return _frame(inv["invoice_id"], inv["issue_date"] - DAY, "invoice_id")


def due_cutoffs(ledger: Ledger) -> pd.DataFrame:
    """Invoices not settled by the end of the day before their due date, at that day."""
    inv = ledger.invoices
    T = inv["due_date"] - DAY
    keep = inv["paid_date"].isna() | (inv["paid_date"] > T)
    return _frame(inv.loc[keep, "invoice_id"], T[keep], "invoice_id")


def date_cutoffs(ledger: Ledger, date) -> pd.DataFrame:
    """Invoices issued on or before ``date`` and not settled by its end, at ``date``."""
    D = _day(date)
    inv = ledger.invoices
    keep = (inv["issue_date"] <= D) & (inv["paid_date"].isna() | (inv["paid_date"] > D))
    return _frame(inv.loc[keep, "invoice_id"], [D] * int(keep.sum()), "invoice_id")


def customer_date_cutoffs(ledger: Ledger, date) -> pd.DataFrame:
    """Every customer known at the end of ``date`` (``ledger.as_of(date).customers``), at ``date``."""
    D = _day(date)
    ids = ledger.as_of(D).customers["customer_id"]
    return _frame(ids, [D] * len(ids), "customer_id")


def created_cutoffs(ledger: Ledger) -> pd.DataFrame:
    """Every plan at the day before its creation."""
    return _frame(ledger.plans["plan_id"], ledger.plans["created_date"] - DAY, "plan_id")


def installment_due_cutoffs(ledger: Ledger) -> pd.DataFrame:
    """Every instalment at the day before its due date (plan_id, as_of, installment_no)."""
    ins = ledger.installments
    out = _frame(ins["plan_id"], ins["due_date"] - DAY, "plan_id")
    out["installment_no"] = ins["installment_no"].astype("float64").to_numpy()
    return out
