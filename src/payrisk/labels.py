"""Targets with their censoring rules: late payment, days to pay (right-censored), plan kept.

Every label is read from ``ledger.as_of(as_of)``: only outcomes known at the end of that day count. Invoices
whose outcome is not known yet are not silently dropped: they are excluded and counted on the result's
``attrs`` (``n_excluded``), or, for days to pay, kept as right-censored durations.

Examples
--------
>>> import payrisk as pr
>>> ledger = pr.datasets.make_ledger(n_customers=50, seed=0)
>>> y = pr.labels.late_payment(ledger, as_of="2024-06-30")
>>> set(y.unique()) <= {0, 1}, y.attrs["n_excluded"] >= 0
(True, True)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from payrisk._calendar import day_numbers
from payrisk._frame import DayIntervals
from payrisk.errors import ParameterError
from payrisk.ledger import Ledger, to_date

__all__ = [
    "PROBLEM_KINDS",
    "SurvivalTarget",
    "cash_before_settlement",
    "cash_weeks",
    "check_survival_target",
    "customer_problem",
    "days_to_pay",
    "landmark_targets",
    "late_outcome",
    "late_payment",
    "payment_week",
    "plan_kept",
]


def _day(ledger: Ledger, as_of: Any) -> tuple[Ledger, pd.Timestamp]:
    if as_of is None:
        if ledger.end_date is None:
            raise ParameterError("The ledger is empty: give 'as_of'.")
        as_of = ledger.end_date
    day = to_date(as_of)
    return ledger.as_of(day), day


def late_payment(ledger: Ledger, as_of: Any = None, grace_days: int = 0, mature_only: bool = False) -> pd.Series:
    """Was the invoice paid late? Known outcomes only.

    - paid after ``due_date + grace_days`` -> 1 (late);
    - unpaid and already past ``due_date + grace_days`` at ``as_of`` -> 1 (late: it cannot become on time);
    - paid on or before ``due_date + grace_days`` -> 0 (on time);
    - open and not yet past ``due_date + grace_days`` -> no label (excluded, counted in ``attrs``).

    Parameters
    ----------
    ledger : Ledger
    as_of : date, optional
        The day at whose end outcomes are read (default: the end of the ledger).
    grace_days : int, default 0
        Days after the due date that still count as on time.
    mature_only : bool, default False
        Keep only invoices whose ``due_date + grace_days`` is on or before ``as_of``. Among invoices not yet due,
        only the early payers have a label, so a training set that includes them under-states lateness in its
        most recent rows; training sets should be mature.

    Returns
    -------
    Series of int8
        Index ``invoice_id``; ``attrs`` has ``as_of``, ``grace_days``, ``n_excluded`` (open, not yet late).

    Examples
    --------
    >>> import pandas as pd, payrisk as pr
    >>> inv = pd.DataFrame({"invoice_id": ["a", "b", "c"], "customer_id": "x", "issue_date": "2024-01-01",
    ...                     "due_date": "2024-01-31", "amount": 10.0,
    ...                     "paid_date": ["2024-01-20", "2024-02-10", None]})
    >>> y = late_payment(pr.Ledger.from_frames(invoices=inv), as_of="2024-01-30")
    >>> y.to_dict(), y.attrs["n_excluded"]
    ({'a': 0}, 2)
    >>> late_payment(pr.Ledger.from_frames(invoices=inv), as_of="2024-01-31").to_dict()  # unpaid at the due day's end
    {'a': 0, 'b': 1, 'c': 1}
    """
    if not isinstance(grace_days, int | np.integer) or grace_days < 0:
        raise ParameterError(f"The 'grace_days' parameter must be a non-negative integer. Got {grace_days!r}.")
    snap, day = _day(ledger, as_of)
    inv = snap.invoices
    late, known = late_outcome(inv["due_date"], inv["paid_date"], day, grace_days, mature_only)
    y = pd.Series(
        late[known].astype(np.int8),
        index=pd.Index(inv.loc[known, "invoice_id"], name="invoice_id"),
        name="late",
    )
    y.attrs.update(as_of=day, grace_days=int(grace_days), n_excluded=int((~known).sum()))
    return y


def late_outcome(
    due_date: pd.Series, paid_date: pd.Series, as_of: Any, grace_days: int = 0, mature_only: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """The late-payment rule, once for every target that uses it: ``(late, known)`` per invoice as seen at the end
    of ``as_of`` (each may be a date or an array of dates, one per invoice).

    Late when paid after ``due_date + grace_days``, or still unpaid at the end of ``as_of`` when that limit has
    passed (it can no longer be paid on time); on time when paid by the limit; not known while open and not yet
    past the limit. ``mature_only`` keeps only invoices whose limit is on or before ``as_of`` (see
    :func:`late_payment`). ``paid_date`` must already be what was known at ``as_of`` (a ledger snapshot).

    Examples
    --------
    >>> import pandas as pd
    >>> due = pd.Series(pd.to_datetime(["2024-01-31"] * 3))
    >>> paid = pd.Series(pd.to_datetime(["2024-01-20", None, None]))
    >>> late, known = late_outcome(due, paid, pd.Timestamp("2024-01-30"))
    >>> late.tolist(), known.tolist()
    ([0, 0, 0], [True, False, False])
    >>> late_outcome(due, paid, pd.Timestamp("2024-01-31"))[0].tolist()  # unpaid at the end of the due date: late
    [0, 1, 1]
    """
    limit = due_date + pd.Timedelta(days=int(grace_days))
    day = np.asarray(as_of, dtype="datetime64[ns]") if not isinstance(as_of, pd.Timestamp) else as_of
    late = ((paid_date > limit) | (paid_date.isna() & (limit <= day))).to_numpy()
    on_time = (paid_date.notna() & (paid_date <= limit)).to_numpy()
    known = late | on_time
    if mature_only:
        known &= (limit <= day).to_numpy()
    return late.astype(np.int64), known


def landmark_targets(rows: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """The targets of invoice rows observed at landmarks (``as_of`` column) and followed to the end of ``as_of``:
    ``duration`` (days from the landmark to payment, censored at ``as_of``), ``event`` (paid by then), ``late``
    and ``late_known`` (:func:`late_outcome` at ``as_of``: known once the due date has passed).

    Examples
    --------
    >>> import pandas as pd
    >>> rows = pd.DataFrame({"as_of": pd.to_datetime(["2024-01-10", "2024-01-10"]),
    ...                      "due_date": pd.to_datetime(["2024-01-31", "2024-03-31"]),
    ...                      "paid_date": pd.to_datetime(["2024-02-05", None])})
    >>> landmark_targets(rows, pd.Timestamp("2024-02-29")).to_dict("list")  # doctest: +NORMALIZE_WHITESPACE
    {'duration': [26, 50], 'event': [True, False], 'late': [1, 0], 'late_known': [True, False]}
    """
    paid = rows["paid_date"]
    event = paid.notna().to_numpy()
    duration = (paid.where(paid.notna(), as_of) - rows["as_of"]).dt.days.to_numpy()
    late, known = late_outcome(rows["due_date"], paid, as_of, mature_only=True)
    return pd.DataFrame({"duration": duration, "event": event, "late": late, "late_known": known})


@dataclass(frozen=True)
class SurvivalTarget:
    """A right-censored duration target: whole days and whether the event (payment) was observed.

    Build it with :func:`days_to_pay` or :meth:`from_arrays`; every survival model and metric checks it with
    :func:`check_survival_target`, so no model validates a target inline.

    Examples
    --------
    >>> t = SurvivalTarget.from_arrays([12, 40, 30], [True, False, True])  # the second is still open at day 40
    >>> len(t), t.to_frame().to_dict("list")
    (3, {'duration': [12.0, 40.0, 30.0], 'event': [True, False, True]})
    """

    duration: np.ndarray  #: whole days (>= 0) to the event, or to the censoring day
    event: np.ndarray  #: True when the event was observed, False when right-censored
    index: pd.Index | None = None

    @classmethod
    def from_arrays(cls, duration: Any, event: Any, index: pd.Index | None = None) -> SurvivalTarget:
        """Validate and wrap arrays."""
        target = cls(np.asarray(duration, dtype=np.float64), np.asarray(event, dtype=bool), index)
        check_survival_target(target)
        return target

    def __len__(self) -> int:
        return len(self.duration)

    def to_frame(self) -> pd.DataFrame:
        """``duration`` and ``event`` columns."""
        return pd.DataFrame({"duration": self.duration, "event": self.event}, index=self.index)


def check_survival_target(target: SurvivalTarget) -> SurvivalTarget:
    """Raise a clear error unless durations are finite, whole, non-negative and events boolean.

    Examples
    --------
    >>> check_survival_target(SurvivalTarget(np.array([1.0, -2.0]), np.array([True, False])))
    ... # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    payrisk.errors.ParameterError: survival target: 1 durations are negative (e.g. row 1: -2.0); ...
    """
    d, e = target.duration, target.event
    if len(d) != len(e):
        raise ParameterError(f"survival target: {len(d)} durations but {len(e)} event flags.")
    bad = np.flatnonzero(~np.isfinite(d))
    if len(bad):
        raise ParameterError(f"survival target: {len(bad)} durations are not finite (e.g. row {bad[0]}).")
    neg = np.flatnonzero(d < 0)
    if len(neg):
        raise ParameterError(
            f"survival target: {len(neg)} durations are negative (e.g. row {neg[0]}: {d[neg[0]]}); durations count "
            "days from the origin, >= 0."
        )
    if len(d) and not e.any():
        raise ParameterError("survival target: all samples are censored; nothing can be learned from them.")
    return target


def days_to_pay(ledger: Ledger, as_of: Any = None, origin: str = "issue_date") -> SurvivalTarget:
    """Whole days to full payment, with open invoices right-censored at ``as_of`` (not dropped).

    Parameters
    ----------
    ledger : Ledger
    as_of : date, optional
        Outcomes known at the end of this day (default: the end of the ledger).
    origin : {"issue_date", "due_date"}
        ``"issue_date"``: days from issue to payment (always >= 0). ``"due_date"``: days late, clipped at 0
        (an invoice paid on or before its due date has its event at 0; an open invoice is censored at
        ``max(0, as_of - due_date)``).

    Returns
    -------
    SurvivalTarget
        ``duration``, ``event`` (paid by ``as_of``), indexed by ``invoice_id``.

    Examples
    --------
    >>> import pandas as pd, payrisk as pr
    >>> inv = pd.DataFrame({"invoice_id": ["a", "b"], "customer_id": "x", "issue_date": "2024-01-01",
    ...                     "due_date": "2024-01-31", "amount": 10.0, "paid_date": ["2024-01-20", None]})
    >>> ledger = pr.Ledger.from_frames(invoices=inv)
    >>> t = days_to_pay(ledger, as_of="2024-02-15")
    >>> t.duration.tolist(), t.event.tolist()
    ([19.0, 45.0], [True, False])
    >>> days_to_pay(ledger, as_of="2024-02-15", origin="due_date").duration.tolist()
    [0.0, 15.0]
    """
    if origin not in ("due_date", "issue_date"):
        raise ParameterError(f"The 'origin' parameter must be 'due_date' or 'issue_date'. Got {origin!r}.")
    snap, day = _day(ledger, as_of)
    inv = snap.invoices
    event = inv["paid_date"].notna().to_numpy()
    end = inv["paid_date"].where(inv["paid_date"].notna(), day)
    start = inv[origin]
    duration = np.maximum((end - start).dt.days.to_numpy(dtype=np.float64), 0.0)
    return SurvivalTarget(duration, event, pd.Index(inv["invoice_id"], name="invoice_id"))


def payment_week(duration: Any, event: Any, follow_up: Any, weeks: int = 13) -> np.ndarray:
    """The week label of each open item: ``k`` (0 = the first 7 days) when paid in week ``k + 1`` of
    ``weeks``, ``weeks`` when paid later or not at all, -1 when not yet known.

    An item is known when it was paid within the weeks, or has been followed for all of them (``follow_up`` is
    the days observed after the cutoff). Unknown items must be left out of training *as a whole*: keeping the
    ones that paid early while dropping the open ones would make every recent cutoff look fast.

    Examples
    --------
    >>> payment_week([3, 20, 200, 40], [True, True, False, False], [100, 100, 200, 40], weeks=13).tolist()
    [0, 2, 13, -1]
    """
    d = np.asarray(duration, dtype=np.float64)
    e = np.asarray(event, dtype=bool)
    f = np.asarray(follow_up, dtype=np.float64)
    week = np.where(e, _week_of(d, weeks), weeks)
    known = f >= 7 * weeks
    return np.where(known, week, -1)


def _week_of(days: np.ndarray, weeks: int) -> np.ndarray:
    """The week label of a payment ``days`` after the cutoff: ``k`` for week ``k + 1`` (day 0 counts in the first
    week), ``weeks`` beyond them."""
    return np.where(days <= 7 * weeks, np.maximum(np.ceil(days / 7) - 1, 0), weeks).astype(np.int64)


def cash_before_settlement(rows: pd.DataFrame, payments: pd.DataFrame) -> pd.DataFrame:
    """The cash an open item brought before it was settled, for invoice rows observed at a cutoff.

    ``rows`` hold ``invoice_id``, ``as_of`` (the cutoff), ``amount`` and ``paid_date`` (the day the invoice was
    settled, if it was); ``payments`` the payments known (``invoice_id``, ``payment_date``, ``amount``). Per row:
    ``part_days``, the days from the cutoff to the first payment on the invoice after the cutoff that came before
    its settlement (NaN when none), and ``part_share``, all such payments' share of the amount open at the cutoff
    (the invoice amount less its payments up to the end of the cutoff day). A payment on the settlement day is the
    settlement itself.

    Examples
    --------
    >>> rows = pd.DataFrame({"invoice_id": ["A", "A", "B"], "amount": [100.0, 100.0, 50.0],
    ...                      "as_of": pd.to_datetime(["2024-01-10", "2024-02-10", "2024-01-10"]),
    ...                      "paid_date": pd.to_datetime(["2024-03-01", "2024-03-01", None])})
    >>> pay = pd.DataFrame({"invoice_id": ["A", "A", "B"], "amount": [40.0, 60.0, 10.0],
    ...                     "payment_date": pd.to_datetime(["2024-02-01", "2024-03-01", "2024-01-20"])})
    >>> cash_before_settlement(rows, pay).to_dict("list")  # A: 40 of 100 on day 22; B: 10 of 50, never settled
    {'part_days': [22.0, nan, 10.0], 'part_share': [0.4, 0.0, 0.2]}
    """
    n = len(rows)
    ids = rows["invoice_id"].to_numpy(dtype=object)
    settled = pd.Series(rows["paid_date"].to_numpy(), index=ids)
    settled = settled[~settled.index.duplicated()]
    pay = payments.loc[payments["invoice_id"].isin(settled.index), ["invoice_id", "payment_date", "amount"]]
    before_settlement = ~(pay["payment_date"].to_numpy() >= settled.reindex(pay["invoice_id"]).to_numpy())
    part = pay.loc[before_settlement]  # an open item's payments before the cutoff are partial ones too
    left = pd.DataFrame({"row": np.arange(n), "invoice_id": ids, "as_of": rows["as_of"].to_numpy()})
    pairs = left.merge(part.assign(invoice_id=part["invoice_id"].to_numpy(dtype=object)), on="invoice_id")
    after = (pairs["payment_date"] > pairs["as_of"]).to_numpy()
    row, amount = pairs["row"].to_numpy(), pairs["amount"].to_numpy(dtype=np.float64)
    paid_before = np.bincount(row[~after], weights=amount[~after], minlength=n)
    cash = np.bincount(row[after], weights=amount[after], minlength=n)
    first = pairs.loc[after].groupby("row")["payment_date"].min()
    days = np.full(n, np.nan)
    days[first.index.to_numpy()] = (first - left["as_of"].to_numpy()[first.index.to_numpy()]).dt.days.to_numpy()
    open_at = rows["amount"].to_numpy(dtype=np.float64) - paid_before
    share = np.where(open_at > 0, cash / np.maximum(open_at, 1e-9), 0.0)
    return pd.DataFrame({"part_days": days, "part_share": np.clip(share, 0.0, 1.0)}, index=rows.index)


def cash_weeks(
    week: Any, part_days: Any, part_share: Any, weeks: int = 13
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The weeks an open item's cash came in, weighted by cash: the week labels of :func:`payment_week` with the
    payments before settlement (:func:`cash_before_settlement`) in their own week.

    Returns ``(row, week, weight)``: the known rows (label >= 0), a row whose cash came partly before settlement
    twice (its partial payments' week with their share, its settlement week with the rest; a row paid in full
    before settlement once), each weight in (0, 1] and a row's weights summing to 1. Several partial payments
    after one cutoff count together in the first one's week (``part_days``): the rows stay at most two per
    cutoff. A model fitted on them learns the expected share of the open amount paid in each week: the cash
    forecast's own question.

    Examples
    --------
    >>> row, week, weight = cash_weeks([2, 13, -1], [3.0, 20.0, 5.0], [0.25, 0.5, 0.3], weeks=13)
    >>> row.tolist(), week.tolist(), weight.tolist()  # the third row is not known yet: left out
    ([0, 0, 1, 1], [2, 0, 13, 2], [0.75, 0.25, 0.5, 0.5])
    """
    week = np.asarray(week, dtype=np.int64)
    days = np.asarray(part_days, dtype=np.float64)
    share = np.where(np.isfinite(days), np.nan_to_num(np.asarray(part_share, dtype=np.float64)), 0.0)
    known = np.flatnonzero(week >= 0)
    split = known[share[known] > 0]
    row = np.concatenate([known, split])
    label = np.concatenate([week[known], _week_of(days[split], weeks)])
    weight = np.concatenate([1.0 - share[known], share[split]])
    keep = weight > 0
    order = np.argsort(row[keep], kind="stable")
    return row[keep][order], label[keep][order], weight[keep][order]


def _paid_in_time(ins: pd.DataFrame, grace_days: int) -> pd.Series:
    """Instalments paid in full within ``grace_days`` of their due date (the rule a missed instalment breaks)."""
    full = ins["paid_date"].notna() & (ins["amount_paid"] >= ins["amount_due"] - 0.005)
    return full & (ins["paid_date"] <= ins["due_date"] + pd.Timedelta(days=int(grace_days)))


def plan_kept(
    ledger: Ledger, as_of: Any = None, max_missed: int = 0, grace_days: int = 30, mature_only: bool = False
) -> pd.Series:
    """Was the payment plan kept? Completed with at most ``max_missed`` missed instalments.

    An instalment is missed when it is not paid in full within ``grace_days`` of its due date. A plan is:

    - broken (0) as soon as more than ``max_missed`` instalments are missed (known at the miss);
    - kept (1) when every instalment is due at least ``grace_days`` before ``as_of`` and at most
      ``max_missed`` were missed;
    - running (no label: censored, counted in ``attrs["n_excluded"]``) otherwise.

    ``mature_only=True`` keeps only plans whose last instalment is due at least ``grace_days`` before
    ``as_of``. A broken plan is known at its first miss but a kept one only at its end, so among running plans
    only the broken have a label: a training set cut at ``as_of`` without this over-states breaking (by a
    third on the default synthetic world) and its model is miscalibrated on new plans.

    Returns
    -------
    Series of int8
        Index ``plan_id``.

    Examples
    --------
    >>> import payrisk as pr
    >>> ledger = pr.datasets.make_ledger(n_customers=200, seed=0)
    >>> y = pr.labels.plan_kept(ledger)
    >>> set(y.unique()) <= {0, 1}
    True
    """
    snap, day = _day(ledger, as_of)
    ins = snap.installments
    ok_in_time = _paid_in_time(ins, grace_days)
    decided = ins["due_date"] + pd.Timedelta(days=grace_days) <= day
    missed = decided & ~ok_in_time
    g = pd.DataFrame({"plan_id": ins["plan_id"], "missed": missed, "decided": decided}).groupby("plan_id")
    agg = g.agg(n_missed=("missed", "sum"), all_decided=("decided", "all"))
    plans = snap.plans["plan_id"]
    agg = agg.reindex(plans, fill_value=0)
    broken = agg["n_missed"] > max_missed
    kept = (~broken) & agg["all_decided"].astype(bool) & (agg.index.isin(ins["plan_id"]))
    known = broken | kept
    if mature_only:
        known &= agg["all_decided"].astype(bool)
    y = pd.Series(kept[known].astype(np.int8).to_numpy(), index=pd.Index(agg.index[known], name="plan_id"), name="kept")
    y.attrs.update(as_of=day, max_missed=max_missed, mature_only=mature_only, n_excluded=int((~known).sum()))
    return y


#: what makes a customer a problem (:func:`customer_problem`), in the order the events are told apart
PROBLEM_KINDS = ("overdue", "broken_plan", "handover")


def _days(values: Any) -> np.ndarray:
    """Dates as whole days since 1970-01-01; a missing date (not paid yet) far in the future."""
    return day_numbers(values, missing=np.iinfo(np.int32).max)


def customer_problem(
    ledger: Ledger, cutoffs: pd.DataFrame, as_of: Any = None, horizon_days: int = 90, overdue_days: int = 30
) -> pd.DataFrame:
    """Does the customer become a problem within ``horizon_days`` after each cutoff? The early-warning target.

    A customer becomes a problem on the day one of these happens (known at the end of ``as_of``):

    - ``overdue``: an invoice is still not settled in full ``overdue_days`` days after its due date;
    - ``broken_plan``: a plan instalment is not paid in full ``overdue_days`` days after its due date (the miss
      that breaks a plan in :func:`plan_kept`);
    - ``handover``: the account is handed over (a contact on the ``legal`` channel).

    A customer *is* a problem at a cutoff while an invoice of it is past that limit and unsettled, or within
    ``horizon_days`` after a missed instalment or a hand-over. Early warning is about the customers who are not a
    problem yet, so those rows are marked ``already``.

    Parameters
    ----------
    ledger : Ledger
    cutoffs : DataFrame
        ``customer_id`` and ``as_of`` (the end of the day the customer is looked at), one row per question.
    as_of : date, optional
        The day at whose end outcomes are read (default: the end of the ledger).
    horizon_days, overdue_days : int

    Returns
    -------
    DataFrame
        In the order of ``cutoffs`` (its index): ``problem`` (int8: a problem begins in the ``horizon_days``
        after the cutoff), ``known`` (the whole horizon has passed by ``as_of``, or the problem already began:
        a quiet customer is known to have stayed quiet only at the horizon's end), ``already`` (a problem at the
        cutoff), ``first_problem`` (the day the first problem began in the horizon, NaT when none) and
        ``first_problem_kind`` (one of :data:`PROBLEM_KINDS`, empty when none).

    Examples
    --------
    >>> import pandas as pd
    >>> inv = pd.DataFrame({"invoice_id": ["a", "b"], "customer_id": ["x", "y"], "issue_date": "2024-01-01",
    ...                     "due_date": "2024-01-31", "amount": 10.0, "paid_date": [None, "2024-02-10"]})
    >>> ledger = Ledger.from_frames(invoices=inv)
    >>> days = pd.to_datetime(["2024-01-15", "2024-01-15", "2024-03-31"])
    >>> cut = pd.DataFrame({"customer_id": ["x", "y", "x"], "as_of": days})
    >>> y = customer_problem(ledger, cut, as_of="2024-06-30")
    >>> y["problem"].tolist(), y["already"].tolist(), y["first_problem_kind"].tolist()
    ([1, 0, 0], [False, False, True], ['overdue', '', ''])
    """
    snap, day = _day(ledger, as_of)
    limit = pd.Timedelta(days=int(overdue_days))
    horizon = int(horizon_days)
    today = int(_days([day.to_datetime64()])[0])
    inv = snap.invoices
    inv = inv.loc[(inv["amount"] > 0).to_numpy()]
    start_inv = _days(inv["due_date"] + limit)
    end_inv = _days(inv["paid_date"])
    hit = (end_inv > start_inv) & (start_inv <= today)  # still unsettled at the end of the limit's day
    ins = snap.installments
    in_time = _paid_in_time(ins, overdue_days).to_numpy()
    start_ins = _days(ins["due_date"] + limit)
    missed = ~in_time & (start_ins <= today)
    plan_customer = snap.plans.set_index("plan_id")["customer_id"]
    ins_customer = plan_customer.reindex(ins["plan_id"]).to_numpy()
    legal = snap.contacts.loc[(snap.contacts["channel"] == "legal").to_numpy()]
    start_legal = _days(legal["sent_at"].dt.normalize())
    customer = np.concatenate(
        [
            inv["customer_id"].to_numpy(dtype=object)[hit],
            ins_customer[missed].astype(object),
            legal["customer_id"].to_numpy(dtype=object),
        ]
    )
    start = np.concatenate([start_inv[hit], start_ins[missed], start_legal])
    end = np.concatenate([end_inv[hit], start_ins[missed] + horizon, start_legal + horizon])
    kind = np.repeat(np.arange(3, dtype=np.int8), [int(hit.sum()), int(missed.sum()), len(legal)])
    ask = cutoffs["customer_id"].astype(str)
    names = pd.Index(ask.unique())
    events = DayIntervals(names.get_indexer(pd.Index(customer.astype(str))), start, end)
    group, at = names.get_indexer(ask), _days(cutoffs["as_of"])
    already = events.covering(group, at) > 0
    problem = events.starting(group, at, at + horizon) > 0
    first = events.order[events.next_start(group, at)[problem]]  # the problem's event, where one begins
    first_day = np.full(len(at), np.datetime64("NaT"), dtype="datetime64[ns]")
    first_day[problem] = start[first].astype("datetime64[D]")
    first_kind = np.full(len(at), -1, dtype=np.int64)
    first_kind[problem] = kind[first]
    known = problem | (at + horizon <= today)
    labels_ = np.array([*PROBLEM_KINDS, ""], dtype=object)
    return pd.DataFrame(
        {
            "problem": problem.astype(np.int8),
            "known": known,
            "already": already,
            "first_problem": first_day,
            "first_problem_kind": labels_[first_kind],
        },
        index=cutoffs.index,
    )
