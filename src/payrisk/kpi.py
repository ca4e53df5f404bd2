"""The receivables figures credit managers report: ageing, DSO, ADD, CEI, on-time share and promises kept.

Every KPI is computed from the ledger as of a date (nothing later is read) and is given per currency (amounts are
never summed across currencies), optionally per customer or per segment. The definitions are the usual ones,
stated in each docstring; in short:

- **receivables** at a date: the open amount of the invoices issued by then (amount less the payments received
  by then; partial payments reduce it);
- **credit sales** of a period: the amount invoiced in it.

Credit notes are not invoices: they enter neither receivables nor sales (payrisk's tables do not record which
invoice a credit note settles or when), and ``dso`` shows the credit issued in the period beside the sales.

Examples
--------
>>> import payrisk as pr
>>> ledger = pr.datasets.make_ledger(n_customers=200, seed=0)
>>> aged = ageing(ledger, "2024-06-30")
>>> list(aged.columns[:5])
['current', '1-30', '31-60', '61-90', '90+']
>>> bool((dso(ledger, "2024-06-30")["dso"] > 0).all())
True
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from payrisk.errors import ParameterError
from payrisk.ledger import PROMISE_UNDATED_DAYS

if TYPE_CHECKING:
    from payrisk.ledger import Ledger

__all__ = [
    "ageing",
    "collection_effectiveness",
    "dso",
    "kpi_summary",
    "kpi_trend",
    "on_time_share",
    "promise_kept_rate",
]

_BY = (None, "customer", "segment")


# -- shared pieces ------------------------------------------------------------------------------------------------
def _day(as_of: Any) -> pd.Timestamp:
    from payrisk.ledger import to_date

    return to_date(as_of, "as_of")


def _keys(frame: pd.DataFrame, by: str | None, segments: pd.Series | None) -> list[pd.Series]:
    """The grouping columns of ``frame``'s rows: currency, then the customer or its segment."""
    if by not in _BY:
        raise ParameterError(f"The 'by' parameter must be None, 'customer' or 'segment'. Got {by!r}.")
    keys = [frame["currency"].astype("str").rename("currency")]
    if by == "customer":
        keys.append(frame["customer_id"].astype("str").rename("customer_id"))
    elif by == "segment":
        if segments is None:
            raise ParameterError(
                "by='segment' needs segments: a Series of segment names indexed by customer_id, e.g. "
                "engine.segmenter_.predict(ledger, as_of)['segment']."
            )
        seg = frame["customer_id"].map(segments).astype("object").fillna("unassigned")
        keys.append(seg.astype("str").rename("segment"))
    return keys


def _sum(frame: pd.DataFrame, columns: dict[str, Any], by: str | None, segments: pd.Series | None) -> pd.DataFrame:
    """Sums of ``columns`` (arrays aligned with ``frame``) per group; groups with no rows are absent."""
    values = pd.DataFrame({k: np.asarray(v, dtype=np.float64) for k, v in columns.items()}, index=frame.index)
    if frame.empty:
        names = ["currency"] + ([] if by is None else ["customer_id" if by == "customer" else "segment"])
        index = pd.MultiIndex.from_tuples([], names=names) if len(names) > 1 else pd.Index([], name="currency")
        return pd.DataFrame({k: pd.Series(dtype="float64") for k in columns}, index=index)
    return values.groupby(_keys(frame, by, segments), sort=True).sum()


def _open_invoices(ledger: Ledger, day: pd.Timestamp) -> pd.DataFrame:
    """Invoices issued by ``day`` with an open amount at its end (partial payments deducted)."""
    inv = ledger.as_of(day).invoices
    return inv.loc[inv["open_amount"].to_numpy(dtype=np.float64) > 0]


def _issued(table: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
    return table.loc[((table["issue_date"] >= start) & (table["issue_date"] <= end)).to_numpy(dtype=bool)]


def _receivables(ledger: Ledger, day: pd.Timestamp, by: str | None, segments: pd.Series | None) -> pd.DataFrame:
    """Per group: ``receivables`` and ``current`` (not yet due) at the end of ``day``."""
    inv = _open_invoices(ledger, day)
    amount = inv["open_amount"].to_numpy(dtype=np.float64)
    current = np.where(inv["due_date"].to_numpy() >= np.datetime64(day), amount, 0.0)
    return _sum(inv, {"receivables": amount, "current": current}, by, segments)


def _sales(
    ledger: Ledger, start: pd.Timestamp, end: pd.Timestamp, by: str | None, segments: pd.Series | None
) -> pd.DataFrame:
    """Per group: ``credit_sales`` (invoiced) and ``credit_notes`` (credit issued, positive) from start to end."""
    inv = _issued(ledger.invoices, start, end)
    cn = _issued(ledger.credit_notes, start, end)
    sales = _sum(inv, {"credit_sales": inv["amount"]}, by, segments)
    return sales.join(_sum(cn, {"credit_notes": -cn["amount"]}, by, segments), how="outer").fillna(0.0)


# -- ageing -------------------------------------------------------------------------------------------------------
def _bucket_labels(buckets: tuple[int, ...]) -> list[str]:
    edges = [0, *buckets]
    return ["current"] + [f"{a + 1}-{b}" for a, b in itertools.pairwise(edges)] + [f"{buckets[-1]}+"]


def ageing(
    ledger: Ledger,
    as_of: Any,
    by: str | None = None,
    segments: pd.Series | None = None,
    buckets: tuple[int, ...] = (30, 60, 90),
) -> pd.DataFrame:
    """Open receivables by days overdue at the end of ``as_of``: the ageing report.

    An invoice's open amount (amount less the payments received by ``as_of``; partially paid invoices count with
    what is still open) goes into ``current`` when it is not yet overdue (due on or after ``as_of``), else into
    the bucket of its days overdue ``as_of - due_date``: 1-30, 31-60, 61-90 and 90+ with the default ``buckets``
    (upper bounds, inclusive). Credit notes are not aged.

    Returns
    -------
    DataFrame
        Index ``currency`` (and ``customer_id`` or ``segment`` with ``by``). Columns: one per bucket, ``total``
        (open invoice amount), ``overdue`` (total less current) and ``overdue_share``.

    Examples
    --------
    >>> import payrisk as pr
    >>> ledger = pr.Ledger.from_frames(invoices=pd.DataFrame({
    ...     "invoice_id": ["a", "b", "c"], "customer_id": "c1", "currency": "EUR",
    ...     "issue_date": ["2024-04-01", "2024-05-20", "2024-06-20"],
    ...     "due_date": ["2024-05-01", "2024-06-19", "2024-07-20"], "amount": [100.0, 200.0, 300.0]}),
    ...     payments=pd.DataFrame({"payment_id": ["p"], "customer_id": "c1", "invoice_id": ["a"],
    ...     "payment_date": ["2024-05-10"], "amount": [40.0], "currency": "EUR"}))
    >>> ageing(ledger, "2024-06-30")[["current", "1-30", "31-60", "61-90", "total"]].round(2).to_dict("records")
    [{'current': 300.0, '1-30': 200.0, '31-60': 60.0, '61-90': 0.0, 'total': 560.0}]
    """
    bounds = tuple(int(b) for b in buckets)
    if not bounds or bounds[0] < 1 or any(b <= a for a, b in itertools.pairwise(bounds)):
        raise ParameterError(f"The 'buckets' must be increasing positive day counts, e.g. (30, 60, 90). Got {buckets}.")
    day = _day(as_of)
    inv = _open_invoices(ledger, day)
    amount = inv["open_amount"].to_numpy(dtype=np.float64)
    overdue = (day - inv["due_date"]).dt.days.to_numpy()
    slot = np.searchsorted(np.asarray(bounds), overdue, side="left") + 1  # 1..len(bounds)+1 for overdue > 0
    slot = np.where(overdue <= 0, 0, slot)
    labels = _bucket_labels(bounds)
    out = _sum(inv, {label: np.where(slot == i, amount, 0.0) for i, label in enumerate(labels)}, by, segments)
    out["total"] = out[labels].sum(axis=1)
    out["overdue"] = out["total"] - out["current"]
    out["overdue_share"] = (out["overdue"] / out["total"].where(out["total"] > 0)).astype("float64")
    return out[[*labels, "total", "overdue", "overdue_share"]]


# -- DSO and ADD --------------------------------------------------------------------------------------------------
def _month_periods(day: pd.Timestamp, months: int) -> tuple[list[pd.Timestamp], list[pd.Timestamp]]:
    """The month to date of ``day`` and the ``months - 1`` calendar months before it, latest first."""
    starts, ends = [day.replace(day=1)], [day]
    for _ in range(months - 1):
        end = starts[-1] - pd.Timedelta(days=1)
        starts.append(end.replace(day=1))
        ends.append(end)
    return starts, ends


def _countback(receivables: np.ndarray, sales: np.ndarray, days: np.ndarray) -> np.ndarray:
    """Countback DSO per row: whole periods (latest first) whose sales the receivables cover, plus the share of
    the next one; beyond the last period, at the average daily sales of all of them."""
    cum = np.cumsum(sales, axis=1)
    covered = (cum < receivables[:, None]).sum(axis=1)  # whole periods consumed
    cum_days = np.concatenate([[0.0], np.cumsum(days)])
    prev = np.where(covered > 0, cum[np.arange(len(cum)), np.maximum(covered - 1, 0)], 0.0)
    k = np.minimum(covered, sales.shape[1] - 1)
    part_sales = sales[np.arange(len(sales)), k]
    inside = covered < sales.shape[1]
    rest = receivables - prev
    daily_all = cum[:, -1] / cum_days[-1]
    partial = np.where(
        inside,
        rest / np.where(part_sales > 0, part_sales, np.nan) * days[k],
        rest / np.where(daily_all > 0, daily_all, np.nan),
    )
    out = cum_days[covered] + partial
    return np.where(receivables <= 0, 0.0, out)


def dso(
    ledger: Ledger,
    as_of: Any,
    period_days: int = 90,
    by: str | None = None,
    segments: pd.Series | None = None,
    countback_months: int = 24,
) -> pd.DataFrame:
    """Days sales outstanding at the end of ``as_of``: standard, countback, best possible, and ADD.

    - ``dso`` (standard): receivables / credit sales of the ``period_days`` up to ``as_of`` x ``period_days``.
    - ``dso_countback``: the receivables are matched against the latest sales first (month to date, then whole
      calendar months back): the days of every month whose sales they cover in full, plus the covered share of
      the next month's days. Unlike the standard figure, it does not move with seasonal sales.
    - ``best_possible_dso``: current (not yet overdue) receivables / credit sales x ``period_days``: the DSO if
      every customer paid on its due date.
    - ``add`` (average days delinquent): ``dso - best_possible_dso``, the days that late payment adds.

    Returns
    -------
    DataFrame
        Index ``currency`` (and ``customer_id`` or ``segment`` with ``by``): ``receivables``, ``current``,
        ``credit_sales``, ``credit_notes`` (credit issued in the period, for information), ``dso``,
        ``dso_countback``, ``best_possible_dso``, ``add``. NaN where there were no credit sales.

    Examples
    --------
    >>> import payrisk as pr
    >>> ledger = pr.Ledger.from_frames(invoices=pd.DataFrame({
    ...     "invoice_id": ["a", "b"], "customer_id": "c1", "issue_date": ["2024-05-05", "2024-06-01"],
    ...     "due_date": ["2024-05-31", "2024-07-01"], "amount": [300.0, 300.0], "currency": "EUR"}))
    >>> dso(ledger, "2024-06-30", period_days=60)[["receivables", "credit_sales", "dso", "add"]].to_dict("records")
    [{'receivables': 600.0, 'credit_sales': 600.0, 'dso': 60.0, 'add': 30.0}]
    """
    if period_days < 1 or countback_months < 1:
        raise ParameterError("period_days and countback_months must be at least 1.")
    day = _day(as_of)
    start = day - pd.Timedelta(days=period_days - 1)
    out = _receivables(ledger, day, by, segments)
    out = out.join(_sales(ledger, start, day, by, segments), how="outer").fillna(0.0)
    sales = out["credit_sales"].where(out["credit_sales"] > 0)
    out["dso"] = out["receivables"] / sales * period_days
    out["best_possible_dso"] = out["current"] / sales * period_days
    out["add"] = out["dso"] - out["best_possible_dso"]
    starts, ends = _month_periods(day, countback_months)
    days = np.array([(e - s).days + 1 for s, e in zip(starts, ends, strict=True)], dtype=np.float64)
    matrix = np.clip(_monthly_sales(ledger, starts, day, by, segments, out.index), 0.0, None)
    out["dso_countback"] = _countback(out["receivables"].to_numpy(), matrix, days)
    columns = ["receivables", "current", "credit_sales", "credit_notes", "dso", "dso_countback", "best_possible_dso"]
    return out[[*columns, "add"]]


def _monthly_sales(
    ledger: Ledger, starts: list[pd.Timestamp], day: pd.Timestamp, by: str | None, segments: Any, index: pd.Index
) -> np.ndarray:
    """Credit sales per group (rows in ``index`` order) and period (columns, latest first: ``starts`` from
    :func:`_month_periods`), in one pass over the invoices."""
    inv = _issued(ledger.invoices, starts[-1], day)
    if inv.empty:
        return np.zeros((len(index), len(starts)))
    ascending = pd.DatetimeIndex(starts[::-1])
    period = len(starts) - np.searchsorted(ascending, inv["issue_date"].to_numpy(), side="right")  # 0: latest
    keys = [*_keys(inv, by, segments), pd.Series(period, index=inv.index, name="_period")]
    sums = inv["amount"].astype("float64").groupby(keys).sum().unstack("_period", fill_value=0)
    return sums.reindex(index=index, columns=range(len(starts)), fill_value=0.0).to_numpy()


# -- CEI ----------------------------------------------------------------------------------------------------------
def collection_effectiveness(
    ledger: Ledger,
    start: Any,
    end: Any,
    freq: str = "M",
    by: str | None = None,
    segments: pd.Series | None = None,
) -> pd.DataFrame:
    """Collection effectiveness index (CEI) per period from ``start`` to ``end`` (``freq`` "M" months, "W" weeks,
    "Q" quarters).

    ``CEI = (B + S - E) / (B + S - Ec) x 100`` with ``B`` the receivables at the end of the day before the period,
    ``S`` the credit sales in the period, ``E`` the receivables at its end and ``Ec`` the current (not yet
    overdue) part of them: what was collected, as a share of what could have been. 100 means everything
    collectable was collected.

    Returns
    -------
    DataFrame
        One row per period (and currency, and customer or segment with ``by``): ``period_start``, ``period_end``,
        ``beginning``, ``credit_sales``, ``ending``, ``ending_current``, ``collected`` (``B + S - E``) and ``cei``.

    Examples
    --------
    >>> import payrisk as pr
    >>> ledger = pr.Ledger.from_frames(invoices=pd.DataFrame({
    ...     "invoice_id": ["a", "b"], "customer_id": "c1", "issue_date": ["2024-05-20", "2024-06-10"],
    ...     "due_date": ["2024-06-05", "2024-07-10"], "amount": [100.0, 200.0], "currency": "EUR"}),
    ...     payments=pd.DataFrame({"payment_id": ["p"], "customer_id": "c1", "invoice_id": ["a"],
    ...     "payment_date": ["2024-06-15"], "amount": [60.0], "currency": "EUR"}))
    >>> cei = collection_effectiveness(ledger, "2024-06-01", "2024-06-30")
    >>> cei[["beginning", "credit_sales", "ending", "ending_current", "cei"]].to_dict("records")
    [{'beginning': 100.0, 'credit_sales': 200.0, 'ending': 240.0, 'ending_current': 200.0, 'cei': 60.0}]
    """
    codes = {"M": "MS", "W": "W-MON", "Q": "QS"}
    if freq not in codes:
        raise ParameterError(f"The 'freq' parameter must be 'M', 'W' or 'Q'. Got {freq!r}.")
    first, last = _day(start), _day(end)
    if last < first:
        raise ParameterError(f"end ({last.date()}) is before start ({first.date()}).")
    starts = pd.date_range(first, last, freq=codes[freq])
    starts = starts if len(starts) and starts[0] == first else starts.insert(0, first)
    ends = [*(s - pd.Timedelta(days=1) for s in starts[1:]), last]
    # the receivables at each boundary, once: a period begins where the one before it ended
    close = [_receivables(ledger, d, by, segments) for d in [first - pd.Timedelta(days=1), *ends]]
    frames = [
        _cei_frame(close[k]["receivables"], _sales(ledger, s, e, by, segments)["credit_sales"], close[k + 1], s, e)
        for k, (s, e) in enumerate(zip(starts, ends, strict=True))
    ]
    out = pd.concat(frames).set_index("period_start", append=True).sort_index()
    return out[["period_end", "beginning", "credit_sales", "ending", "ending_current", "collected", "cei"]]


def _cei_period(
    ledger: Ledger, s: pd.Timestamp, e: pd.Timestamp, by: str | None, segments: pd.Series | None
) -> pd.DataFrame:
    """CEI's terms and value for the period from ``s`` to ``e`` (both included), per group."""
    begin = _receivables(ledger, s - pd.Timedelta(days=1), by, segments)["receivables"]
    sales = _sales(ledger, s, e, by, segments)["credit_sales"]
    return _cei_frame(begin, sales, _receivables(ledger, e, by, segments), s, e)


def _cei_frame(
    begin: pd.Series, sales: pd.Series, close: pd.DataFrame, s: pd.Timestamp, e: pd.Timestamp
) -> pd.DataFrame:
    parts = [
        begin.rename("beginning"),
        sales,
        close["receivables"].rename("ending"),
        close["current"].rename("ending_current"),
    ]
    out = pd.concat(parts, axis=1).fillna(0.0).assign(period_start=s, period_end=e)
    out["collected"] = out["beginning"] + out["credit_sales"] - out["ending"]
    collectable = out["beginning"] + out["credit_sales"] - out["ending_current"]
    out["cei"] = 100 * out["collected"] / collectable.where(collectable > 0)
    return out


# -- payment behaviour --------------------------------------------------------------------------------------------
def on_time_share(
    ledger: Ledger, as_of: Any, window_days: int = 90, by: str | None = None, segments: pd.Series | None = None
) -> pd.DataFrame:
    """Share of the invoices due in the ``window_days`` up to ``as_of`` that were paid in full by their due date.

    Every such invoice's outcome is known at ``as_of``: paid in full on or before its due date (on time), or
    later, or not yet (late). A partial payment by the due date is not on time. Also by amount.

    Returns
    -------
    DataFrame
        ``invoices_due``, ``paid_on_time``, ``on_time_share``, ``amount_due``, ``amount_on_time_share``.

    Examples
    --------
    >>> import payrisk as pr
    >>> ledger = pr.Ledger.from_frames(invoices=pd.DataFrame({
    ...     "invoice_id": ["a", "b", "c", "d"], "customer_id": "c1", "issue_date": "2024-05-01",
    ...     "due_date": "2024-06-01", "amount": [100.0, 100.0, 100.0, 300.0], "currency": "EUR"}),
    ...     payments=pd.DataFrame({"payment_id": ["p1", "p2", "p3"], "customer_id": "c1",
    ...     "invoice_id": ["a", "b", "c"], "payment_date": ["2024-05-30", "2024-06-05", "2024-05-30"],
    ...     "amount": [100.0, 100.0, 50.0], "currency": "EUR"}))
    >>> on_time_share(ledger, "2024-06-30")[["invoices_due", "paid_on_time", "on_time_share"]].to_dict("records")
    [{'invoices_due': 4.0, 'paid_on_time': 1.0, 'on_time_share': 0.25}]
    """
    if window_days < 1:
        raise ParameterError(f"window_days must be at least 1. Got {window_days}.")
    day = _day(as_of)
    inv = ledger.as_of(day).invoices
    due = inv["due_date"]
    inv = inv.loc[((due <= day) & (due > day - pd.Timedelta(days=window_days))).to_numpy(dtype=bool)]
    on_time = (inv["paid_date"] <= inv["due_date"]).to_numpy(dtype=bool, na_value=False)
    amount = inv["amount"].to_numpy(dtype=np.float64)
    cols = {"invoices_due": np.ones(len(inv)), "paid_on_time": on_time, "amount_due": amount}
    out = _sum(inv, cols | {"_amount_on_time": np.where(on_time, amount, 0.0)}, by, segments)
    out["on_time_share"] = out["paid_on_time"] / out["invoices_due"]
    out["amount_on_time_share"] = out.pop("_amount_on_time") / out["amount_due"].where(out["amount_due"] > 0)
    return out[["invoices_due", "paid_on_time", "on_time_share", "amount_due", "amount_on_time_share"]]


def promise_kept_rate(
    ledger: Ledger,
    as_of: Any,
    window_days: int = 90,
    grace_days: int = PROMISE_UNDATED_DAYS,
    by: str | None = None,
    segments: pd.Series | None = None,
) -> pd.DataFrame:
    """Share of promises to pay that were kept: promises on record (:meth:`payrisk.Ledger.promises`) made in the
    ``window_days`` up to ``as_of`` and due by ``as_of``.

    A promise falls due on its ``promised_date``, or ``grace_days`` after it was made when it has none. A promise
    about an invoice is kept when that invoice is paid in full by then (already paid counts too); a promise with no
    invoice is kept when the customer pays anything between the promise and its due day. Promises still ahead are
    not judged.

    Returns
    -------
    DataFrame
        ``promises``, ``kept``, ``kept_rate`` (NaN-free: groups without promises are absent).

    Examples
    --------
    >>> import payrisk as pr
    >>> ledger = pr.datasets.make_ledger(n_customers=300, seed=0)
    >>> rate = promise_kept_rate(ledger, "2024-06-30", window_days=365)
    >>> bool(rate["kept_rate"].between(0, 1).all() and (rate["promises"] > 0).all())
    True
    """
    if window_days < 1 or grace_days < 0:
        raise ParameterError("window_days must be at least 1 and grace_days at least 0.")
    day = _day(as_of)
    snap = ledger.as_of(day)
    con = snap.promises(undated_days=grace_days)
    con = con.loc[((con["made"] > day - pd.Timedelta(days=window_days)) & (con["due"] <= day)).to_numpy(dtype=bool)]
    paid = snap.invoices.set_index("invoice_id")["paid_date"]
    kept_invoice = (con["invoice_id"].map(paid) <= con["due"]).to_numpy(dtype=bool, na_value=False)
    pay = snap.payments[["customer_id", "payment_date"]]
    pair = con[["customer_id", "made", "due"]].assign(row=np.arange(len(con))).merge(pay, on="customer_id")
    hit = pair.loc[(pair["payment_date"] >= pair["made"]) & (pair["payment_date"] <= pair["due"]), "row"]
    kept_customer = np.isin(np.arange(len(con)), hit.to_numpy())
    kept = np.where(con["invoice_id"].notna().to_numpy(), kept_invoice, kept_customer)
    out = _sum(
        con.assign(currency=_contact_currency(con, snap)), {"promises": np.ones(len(con)), "kept": kept}, by, segments
    )
    out["kept_rate"] = out["kept"] / out["promises"]
    return out


def _contact_currency(con: pd.DataFrame, snap: Ledger) -> np.ndarray:
    """A contact's currency: its invoice's, else its customer's invoices' (one per customer, as validated)."""
    inv = snap.invoices
    by_invoice = con["invoice_id"].map(inv.set_index("invoice_id")["currency"])
    by_customer = con["customer_id"].map(inv.drop_duplicates("customer_id").set_index("customer_id")["currency"])
    return by_invoice.fillna(by_customer).fillna("unknown").astype("str").to_numpy()


# -- all of them --------------------------------------------------------------------------------------------------
def kpi_summary(
    ledger: Ledger, as_of: Any, period_days: int = 90, by: str | None = None, segments: pd.Series | None = None
) -> pd.DataFrame:
    """One table of the headline KPIs at ``as_of``: receivables, overdue share, DSO (standard and countback),
    ADD, CEI over the ``period_days`` up to ``as_of``, on-time share and promise-kept rate.

    Examples
    --------
    >>> import payrisk as pr
    >>> ledger = pr.datasets.make_ledger(n_customers=200, seed=0)
    >>> table = kpi_summary(ledger, "2024-06-30")
    >>> {"dso", "add", "cei", "on_time_share", "overdue_share"} <= set(table.columns)
    True
    """
    day = _day(as_of)
    start = day - pd.Timedelta(days=period_days - 1)
    aged = ageing(ledger, day, by, segments)[["total", "overdue_share"]]
    days = dso(ledger, day, period_days, by, segments)[["credit_sales", "dso", "dso_countback", "add"]]
    cei = _cei_period(ledger, start, day, by, segments)["cei"]
    on_time = on_time_share(ledger, day, period_days, by, segments)[["on_time_share"]]
    promises = promise_kept_rate(ledger, day, period_days, by=by, segments=segments)[["kept_rate"]]
    out = aged.rename(columns={"total": "receivables"}).join(days, how="outer")
    out = out.join(cei, how="outer")
    return out.join(on_time, how="outer").join(promises.rename(columns={"kept_rate": "promise_kept_rate"}), how="outer")


def kpi_trend(ledger: Ledger, as_of: Any, months: int = 12, period_days: int = 90) -> pd.DataFrame:
    """DSO, ADD, CEI and the ageing at each of the last ``months`` month ends up to ``as_of`` (the last point is
    ``as_of`` itself), per currency: the trend behind :func:`kpi_summary`'s one day.

    Returns
    -------
    DataFrame
        Index (``currency``, ``as_of``): ``receivables``, ``overdue_share``, the share of the receivables in each
        ageing bucket (``current``, ``1-30``, ... as :func:`ageing`), ``dso`` and ``add`` (over the
        ``period_days`` up to each point) and ``cei`` (of the month ending there).

    Examples
    --------
    >>> import payrisk as pr
    >>> ledger = pr.datasets.make_ledger(n_customers=200, seed=0)
    >>> trend = kpi_trend(ledger, "2024-06-30", months=6)
    >>> trend.index.get_level_values("as_of").unique().strftime("%Y-%m-%d").tolist()[-2:]
    ['2024-05-31', '2024-06-30']
    >>> bool(trend["cei"].between(0, 100).all())
    True
    """
    if months < 1:
        raise ParameterError(f"kpi_trend: months must be 1 or more; got {months}.")
    day = _day(as_of)
    month_ends = pd.date_range(end=day, periods=months, freq="ME")
    ends = [*month_ends[month_ends < day], day][-months:]
    parts = []
    for end in ends:  # one point per month: a dozen calls, each vectorised over the ledger
        aged = ageing(ledger, end)
        buckets = list(aged.columns[: list(aged.columns).index("total")])
        shares = aged[buckets].div(aged["total"].where(aged["total"] > 0), axis=0)
        days = dso(ledger, end, period_days)[["dso", "add"]]
        start = max(end.replace(day=1), end - pd.Timedelta(days=30))
        cei = _cei_period(ledger, start, end, None, None)["cei"]
        row = aged[["total", "overdue_share"]].rename(columns={"total": "receivables"}).join(shares)
        parts.append(row.join(days, how="outer").join(cei, how="outer").assign(as_of=end))
    out = pd.concat(parts).reset_index().set_index(["currency", "as_of"]).sort_index()
    return out
