"""The public feature builders: invoice, customer and plan features at their cutoffs."""

from __future__ import annotations

import itertools
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pandas as pd

from payrisk._frame import positions
from payrisk.errors import ParameterError
from payrisk.features._customer import invoiced_365, usual_log_amount
from payrisk.features._prepared import Prepared, _div
from payrisk.features._registry import MISSED_GRACE_DAYS, feature_names
from payrisk.features._snapshot import history, one_day
from payrisk.features._streams import NEVER, Stream, to_days
from payrisk.ledger import Ledger, to_date

__all__ = ["customer_features", "invoice_features", "plan_features"]

_INVOICE_RULES = ("issue_date", "due_date")
_PLAN_RULES = ("created_date", "installment_due")


def _as_datetime(days: np.ndarray) -> np.ndarray:
    return days.astype("datetime64[D]").astype("datetime64[ns]")


def _check_frame(cutoffs: pd.DataFrame, id_col: str, fn: str) -> pd.DataFrame:
    missing = [c for c in (id_col, "as_of") if c not in cutoffs.columns]
    if missing:
        raise ParameterError(
            f"The 'cutoffs' of {fn} must have columns {id_col!r} and 'as_of'; missing {missing}. "
            f"Got columns {list(cutoffs.columns)}."
        )
    as_of = pd.to_datetime(cutoffs["as_of"], errors="coerce")
    bad = np.flatnonzero(as_of.isna().to_numpy())
    if len(bad):
        raise ParameterError(f"{fn}: cutoffs rows {bad[:10].tolist()} have an empty or unparsable 'as_of'.")
    return pd.DataFrame({id_col: cutoffs[id_col].astype("str").to_numpy(), "as_of": as_of.dt.normalize()})


def _positions(index: pd.Index, ids: pd.Series, what: str, fn: str) -> np.ndarray:
    pos = positions(ids, index)
    bad = np.flatnonzero(pos < 0)
    if len(bad):
        raise ParameterError(
            f"{fn}: cutoffs rows {bad[:10].tolist()} name {what} not in the ledger "
            f"(e.g. {ids.iloc[bad[0]]!r}); fix the ids or the ledger."
        )
    return pos.astype(np.int64)


def _invoice_rows(prep: Prepared, cutoffs: Any) -> tuple[np.ndarray, np.ndarray]:
    fn = "invoice_features"
    if isinstance(cutoffs, pd.DataFrame):
        frame = _check_frame(cutoffs, "invoice_id", fn)
        pos = _positions(prep.inv_index, frame["invoice_id"], "invoices", fn)
        day = to_days(frame["as_of"])
        settled = np.flatnonzero(prep.inv_paid[pos] <= day)
        if len(settled):
            raise ParameterError(
                f"{fn}: cutoffs rows {settled[:10].tolist()} fall on or after their invoice's paid date (e.g. "
                f"invoice {frame['invoice_id'].iloc[settled[0]]!r}); invoice features describe an open invoice, "
                "so give a cutoff before the invoice was settled."
            )
        return pos, day
    if isinstance(cutoffs, str) and cutoffs in _INVOICE_RULES:
        if cutoffs == "issue_date":
            return np.arange(len(prep.inv_issue)), prep.inv_issue - 1
        day = prep.inv_due - 1
        pos = np.flatnonzero(prep.inv_paid > day)
        return pos, day[pos]
    try:
        date = to_date(cutoffs, "cutoffs")
    except ParameterError as exc:
        raise ParameterError(
            f"The 'cutoffs' parameter of {fn} must be 'issue_date', 'due_date', a date or a "
            f"DataFrame(invoice_id, as_of). Got {cutoffs!r}."
        ) from exc
    d = int(to_days(np.array([date.to_datetime64()]))[0])
    pos = np.flatnonzero((prep.inv_issue <= d) & (prep.inv_paid > d))
    return pos, np.full(len(pos), d, dtype=np.int64)


def _select(features: list[str] | None, entities: tuple[str, ...], fn: str) -> tuple[list[str], list[str] | None]:
    """(own-entity names, customer names or None for all) after checking ``features`` against the registry."""
    own_entity = entities[0]
    known = [n for e in entities for n in feature_names(e)]
    if features is None:
        return feature_names(own_entity), None
    unknown = [f for f in features if f not in known]
    if unknown:
        import difflib

        hints = {u: difflib.get_close_matches(u, known, n=1) for u in unknown}
        raise ParameterError(
            f"The 'features' parameter of {fn} names unknown features {unknown} (close matches: {hints}); "
            f"see pr.features.registry."
        )
    chosen = set(features)
    return [n for n in feature_names(own_entity) if n in chosen], [n for n in feature_names("customer") if n in chosen]


def invoice_features(ledger: Ledger, cutoffs: Any = "issue_date", features: list[str] | None = None) -> pd.DataFrame:
    """Point-in-time features of invoices at their cutoffs: the invoice itself plus its customer's history.

    Parameters
    ----------
    ledger : Ledger
        The payment history.
    cutoffs : {"issue_date", "due_date"}, date or DataFrame
        ``"issue_date"``: every invoice at the day before its issue date; ``"due_date"``: invoices still open at
        the start of their due date, at the day before it; a date: invoices open at the end of that day;
        ``DataFrame(invoice_id, as_of)``: one row per line (the invoice must still be open at ``as_of``).
    features : list of str, optional
        Compute only these features (names from ``pr.features.registry``); default all.

    Returns
    -------
    DataFrame
        Index ``invoice_id``; columns ``customer_id``, ``as_of`` (the cutoff day), then the invoice and the
        customer features (``feature_names("invoice") + feature_names("customer")``), all float32 (computed in
        float64, stored as the trees read them). The customer features leave the row's own invoice out.

    Examples
    --------
    >>> import payrisk as pr
    >>> ledger = pr.datasets.make_ledger(n_customers=30, seed=0)
    >>> X = pr.features.invoice_features(ledger, cutoffs="issue_date")
    >>> len(X) == len(ledger.invoices), X.index.name
    (True, 'invoice_id')
    >>> bool((X["n_invoices"] >= 0).all())
    True
    """
    prep = Prepared(ledger)
    pos, day = _invoice_rows(prep, cutoffs)
    order = np.lexsort((day, prep.inv_cust[pos]))  # sorted queries make every searchsorted cache-friendly
    inv_names, cust_names = _select(features, ("invoice", "customer"), "invoice_features")
    names = inv_names + (feature_names("customer") if cust_names is None else cust_names)
    # one float32 matrix in the cutoffs' order, filled block by block of whole customers: what a block derives
    # (sorted streams, windows, the features it reuses) is the block's size, never the ledger's
    values = np.empty((len(pos), len(names)), dtype=np.float32, order="F")
    cust = prep.inv_cust[pos[order]]
    # one cutoff day for all rows (scoring a book): the one-day kernel is masks and counts over the events, light
    # already, and every block would read the whole ledger's tables again: one block
    blocks = [(0, len(cust))] if one_day(day) else _customer_blocks(cust)

    def fill(block: tuple[int, int]) -> None:
        rows = order[block[0] : block[1]]
        own = _own_invoice_features(prep, pos[rows], day[rows], cust[block[0] : block[1]], inv_names, len(blocks) > 1)
        for j, name in enumerate(names):
            values[rows, j] = own[name] if name in own else own["_history"][name]

    # the blocks run side by side on two threads (numpy's sorts and searches let go of the GIL); not inside a worker
    # thread (a Dask task, a web request): its pool already shares out the cores
    if len(blocks) > 1 and threading.current_thread() is threading.main_thread():
        prep.load_all()
        with ThreadPoolExecutor(max_workers=min(2, os.cpu_count() or 1)) as pool:
            list(pool.map(fill, blocks))
    else:
        for block in blocks:
            fill(block)
    out = pd.DataFrame(values, columns=names, copy=False)
    out.insert(0, "as_of", _as_datetime(day))
    out.insert(0, "customer_id", ledger.invoices["customer_id"].take(pos).reset_index(drop=True))
    out.index = pd.Index(ledger.invoices["invoice_id"].take(pos), name="invoice_id", dtype="str")
    return out


#: rows per block of customers in :func:`invoice_features` (a block's working memory is a few hundred bytes a row)
BLOCK_ROWS = 125_000
#: at most this many blocks (each block builds its event tables from the whole ledger's arrays)
MAX_BLOCKS = 8


def _customer_blocks(cust: np.ndarray) -> list[tuple[int, int]]:
    """``(first, stop)`` row ranges of sorted customer codes ``cust``, about :data:`BLOCK_ROWS` rows each, never
    splitting a customer."""
    size = max(BLOCK_ROWS, -(-len(cust) // MAX_BLOCKS))  # each block reads its tables once: bounded in number
    if not len(cust):
        return []
    cuts = np.unique(np.searchsorted(cust, cust[np.arange(size, len(cust), size)], side="left"))
    bounds = [0, *[int(c) for c in cuts if 0 < c < len(cust)], len(cust)]
    return list(itertools.pairwise(bounds))


def _own_invoice_features(
    prep: Prepared, pos: np.ndarray, day: np.ndarray, cust: np.ndarray, inv_names: list[str], block: bool
) -> dict[str, Any]:
    """The invoice features of rows (invoice positions ``pos`` at cutoff days ``day``, one block of customers
    ``cust``, sorted by customer and day, reading only their events when ``block``), with the block's history
    kernel under ``"_history"``."""
    hist = history(prep, cust, day, pos, customers=(int(cust[0]), int(cust[-1]) + 1) if block else None)
    amount = prep.inv_amount[pos]
    dd = prep.inv_dispute_day[pos]
    own = {
        "amount": amount,
        "terms_days": (prep.inv_due - prep.inv_issue)[pos],
        "days_to_due": prep.inv_due[pos] - day,
        "days_open": day - prep.inv_issue[pos],
        "days_overdue": np.maximum(0, day - prep.inv_due[pos]),
        "amount_vs_usual": (lambda: amount / np.exp(usual_log_amount(hist))),
        "paid_share": (lambda: hist.own_total("payments", "cents") / 100.0 / amount),
        "n_reminders": (lambda: hist.own_total("contacts")),
        "disputed": (dd <= day) & ((prep.inv_issue[pos] <= day) | (dd > -NEVER)),
        "issue_month": pd.DatetimeIndex(_as_datetime(prep.inv_issue[pos])).month.to_numpy(),
    }
    return {n: own[n]() if callable(own[n]) else own[n] for n in inv_names} | {"_history": hist}


def _unsort(frame: pd.DataFrame, order: np.ndarray) -> pd.DataFrame:
    """Rows back in the order of the cutoffs (they were computed sorted by customer and day)."""
    if len(order) and (order[1:] > order[:-1]).all():
        return frame
    inverse = np.empty_like(order)
    inverse[order] = np.arange(len(order))
    out = pd.DataFrame({c: frame[c].take(inverse).reset_index(drop=True) for c in frame.columns})
    out.index = frame.index.take(inverse)
    return out


def customer_features(ledger: Ledger, as_of: Any, features: list[str] | None = None) -> pd.DataFrame:
    """Point-in-time features of customers: their payment behaviour up to the end of a day.

    Parameters
    ----------
    ledger : Ledger
    as_of : date or DataFrame(customer_id, as_of)
        A date (every customer known at it) or one row per (customer, cutoff day).
    features : list of str, optional
        Compute only these customer features; default all.

    Returns
    -------
    DataFrame
        Index ``customer_id``; columns ``as_of`` and ``feature_names("customer")``, float32.

    Examples
    --------
    >>> import payrisk as pr
    >>> ledger = pr.datasets.make_ledger(n_customers=40, seed=0)
    >>> C = pr.features.customer_features(ledger, "2024-06-30")
    >>> bool(C["share_late"].between(0, 1).all() or C["share_late"].isna().any())
    True
    """
    prep = Prepared(ledger)
    fn = "customer_features"
    if isinstance(as_of, pd.DataFrame):
        frame = _check_frame(as_of, "customer_id", fn)
        codes = _positions(prep.cust_index, frame["customer_id"], "customers", fn)
        day = to_days(frame["as_of"])
        ids = frame["customer_id"].to_numpy()
    else:
        date = to_date(as_of, "as_of")
        ids = ledger.as_of(date).customers["customer_id"].to_numpy()
        codes = positions(ids, prep.cust_index).astype(np.int64)
        day = np.full(len(ids), int(to_days(np.array([date.to_datetime64()]))[0]), dtype=np.int64)
    order = np.lexsort((day, codes))
    codes, day, ids = codes[order], day[order], np.asarray(ids)[order]
    _, cust_names = _select(features, ("customer",), "customer_features")
    block = history(prep, codes, day, np.full(len(codes), -1)).frame(cust_names)
    out = pd.concat([pd.DataFrame({"as_of": _as_datetime(day)}), block], axis=1)
    out.index = pd.Index(ids, name="customer_id", dtype="str")
    return _unsort(out, order)


def _plan_rows(prep: Prepared, cutoffs: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    fn = "plan_features"
    if isinstance(cutoffs, pd.DataFrame):
        frame = _check_frame(cutoffs, "plan_id", fn)
        pos = _positions(prep.plan_index, frame["plan_id"], "plans", fn)
        no = (
            pd.to_numeric(cutoffs["installment_no"], errors="coerce").to_numpy(dtype=np.float64)
            if "installment_no" in cutoffs.columns
            else np.full(len(pos), np.nan)
        )
        return pos, to_days(frame["as_of"]), no
    if cutoffs == "created_date":
        pos = np.arange(len(prep.plan_created))
        return pos, prep.plan_created - 1, np.full(len(pos), np.nan)
    if cutoffs == "installment_due":
        ok = np.flatnonzero(prep.ins_plan >= 0)
        order = ok[np.lexsort((prep.ins_no[ok], prep.ins_plan[ok]))]
        return prep.ins_plan[order], prep.ins_due[order] - 1, prep.ins_no[order]
    raise ParameterError(
        f"The 'cutoffs' parameter of {fn} must be 'created_date', 'installment_due' or a "
        f"DataFrame(plan_id, as_of[, installment_no]). Got {cutoffs!r}."
    )


def plan_features(ledger: Ledger, cutoffs: Any = "created_date", features: list[str] | None = None) -> pd.DataFrame:
    """Point-in-time features of payment plans: the plan so far plus the customer's history.

    Parameters
    ----------
    ledger : Ledger
    cutoffs : {"created_date", "installment_due"} or DataFrame
        ``"created_date"``: each plan at the day before it was agreed (for gating plan offers);
        ``"installment_due"``: one row per instalment at the day before its due date (for "will the next
        instalment be paid"); ``DataFrame(plan_id, as_of[, installment_no])``.

    Returns
    -------
    DataFrame
        Index ``plan_id``; columns ``customer_id``, ``as_of``, ``installment_no`` (NaN for plan-level rows), then
        ``feature_names("plan") + feature_names("customer")``, float32.

    Examples
    --------
    >>> import payrisk as pr
    >>> ledger = pr.datasets.make_ledger(n_customers=200, seed=0)
    >>> P = pr.features.plan_features(ledger, "created_date")
    >>> len(P) == len(ledger.plans), bool((P["installments_due"] == 0).all())
    (True, True)
    """
    prep = Prepared(ledger)
    pos, day, no = _plan_rows(prep, cutoffs)
    order = np.lexsort((day, prep.plan_cust[pos]))
    pos, day, no = pos[order], day[order], no[order]
    cust = prep.plan_cust[pos]
    plan_names, cust_names = _select(features, ("plan", "customer"), "plan_features")
    hist = history(prep, cust, day, np.full(len(pos), -1))
    cust_block = hist.frame(cust_names)
    ok = prep.ins_plan >= 0
    plan, due, paid = prep.ins_plan[ok], prep.ins_due[ok], prep.ins_paid[ok]
    amt_due, amt_paid, full, missed = (
        prep.ins_amount_due[ok],
        prep.ins_amount_paid[ok],
        prep.ins_full[ok],
        prep.ins_missed[ok],
    )
    n_plans = len(prep.plan_created)
    n_inst = np.bincount(plan, minlength=n_plans)
    sum_due = np.bincount(plan, weights=amt_due, minlength=n_plans)
    mean_amount = _div(sum_due, n_inst)

    def count(days: np.ndarray, sel: np.ndarray, values: np.ndarray | None = None) -> np.ndarray:
        st = Stream(plan[sel], days[sel])
        pre = st.prefix(st.take(np.ones(int(sel.sum()), np.int64) if values is None else values[sel]))
        return pre[st.upto(pos, day)] - pre[st.start(pos)]

    every = np.ones(len(plan), bool)
    n_due = count(due, every)
    on_time = full & (paid <= due)
    paid_known = paid < NEVER
    st = Stream(plan, due)
    last = st.upto(pos, day) - 1
    has_last = (last >= st.start(pos)) & (last >= 0)
    li = np.maximum(last, 0)
    last_due = st.take(due)[li] if st.n else np.zeros(len(pos), np.int64)
    last_paid = st.take(paid)[li] if st.n else np.full(len(pos), NEVER)
    last_late = np.where(last_paid <= day, last_paid - last_due, day - last_due)
    broken_day = np.full(n_plans, NEVER, dtype=np.int64)
    np.minimum.at(broken_day, plan[missed], due[missed] + MISSED_GRACE_DAYS)
    pl = Stream(prep.plan_cust, prep.plan_created)
    self_created = prep.plan_created[pos] <= day
    br = Stream(prep.plan_cust, broken_day)
    self_broken = broken_day[pos] <= day
    first = hist.earliest("issues")  # the customer's first invoice (plan rows have no own invoice)
    first_issue = np.where(np.isnan(first), day, first)
    months = np.clip(day - first_issue, 30, 365) * 12 / 365  # months of invoicing seen, 1..12
    block = {
        "n_installments": n_inst[pos],
        "installment_amount": mean_amount[pos],
        "plan_burden": _div(mean_amount[pos], invoiced_365(hist) / months),
        "installments_due": n_due,
        "installments_paid_on_time": count(paid, on_time),
        "installments_missed": count(due + MISSED_GRACE_DAYS, missed),
        "last_installment_days_late": np.where(has_last, last_late, np.nan),
        "paid_vs_due": _div(count(np.maximum(due, paid), paid_known, amt_paid), count(due, every, amt_due)),
        "prior_plans": pl.upto(cust, day) - pl.start(cust) - self_created,
        "prior_plans_missed": br.upto(cust, day) - br.start(cust) - self_broken,
    }
    plan_block = pd.DataFrame({n: np.asarray(block[n], dtype=np.float32) for n in plan_names})
    head = pd.DataFrame(
        {
            "customer_id": ledger.plans["customer_id"].to_numpy()[pos],
            "as_of": _as_datetime(day),
            "installment_no": no.astype(np.float32),
        }
    )
    out = pd.concat([head, plan_block, cust_block], axis=1)
    out.index = pd.Index(ledger.plans["plan_id"].to_numpy()[pos], name="plan_id", dtype="str")
    return _unsort(out, order)
