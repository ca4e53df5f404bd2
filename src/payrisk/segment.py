"""Behaviour segments of debtors, learned from their own payment history and explainable per customer.

Four payer types of the seed, plus customers with too little history:

- ``reliable``: rarely late; gets flexibility and deferral;
- ``forgetful``: often late, but only by days (pays when reminded); gets a direct-debit campaign;
- ``struggling``: often late by weeks; wants to pay, cannot; gets a plan where the adherence model allows;
- ``chronic``: late by a month and more; strict track, fast escalation;
- ``new``: fewer than ``min_settled`` settled invoices in the window.

:class:`PayerSegmenter` fits a four-component mixture to each customer's settled invoices in the window before
``as_of`` (expectation-maximisation, vectorised over customers): in each component an invoice is late with
probability ``p_late``, a late invoice is ``exp(Normal(mu, sd))`` days late after a mild first reminder,
``strict_factor`` times that after a strict one (the response to the tone of earlier reminders) and
``bounced_factor`` times that when the first reminder never arrived, is paid in parts with probability
``p_paid_in_parts``, and an invoice long past due is still unpaid with probability ``p_unpaid``. A late invoice
paid on the customer's own pay day (its monthly run or weekday, :func:`pay_day_intervals`) is read as late by
somewhere since the previous pay day, not at its face value. Every customer gets the posterior probability of
each component, so a segment comes with the evidence that decided it ("paid 31 of 40 invoices late, typically
24 days late; pays on a monthly run on the 25th"). Components are named by their fitted parameters: the lowest
late rate is ``reliable``; of the other three the longest delays are ``chronic``, the shortest ``forgetful``.

Examples
--------
>>> import payrisk as pr
>>> ledger = pr.datasets.make_ledger(n_customers=400, seed=0)
>>> seg = PayerSegmenter().fit(ledger, "2024-06-30")
>>> out = seg.predict(ledger, "2024-06-30")
>>> set(out["segment"]) <= set(SEGMENTS)
True
>>> bool(seg.components_.loc["reliable", "p_late"] < seg.components_.loc["chronic", "p_late"])
True
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
import pandas as pd
from scipy.special import log_ndtr, logsumexp
from sklearn.base import BaseEstimator

from payrisk._calendar import NEVER, day_numbers, month_start, prev_payrun, weekday
from payrisk._priority import BANDS, prioritise
from payrisk.errors import NotFittedError, ParameterError

if TYPE_CHECKING:
    from payrisk.ledger import Ledger

__all__ = [
    "BANDS",
    "RHYTHM_Z",
    "SEGMENTS",
    "TREATMENT",
    "PayerSegmenter",
    "pay_day_intervals",
    "payment_history",
    "prioritise",
]

SEGMENTS: tuple[str, ...] = ("reliable", "forgetful", "struggling", "chronic", "new")
#: What each segment gets in the default dunning policy (issue 8 builds the tracks).
TREATMENT: dict[str, str] = {
    "reliable": "flexibility and deferral offers",
    "forgetful": "reminder plus direct-debit campaign",
    "struggling": "payment-plan offer where the plan will be kept",
    "chronic": "strict track, fast escalation",
    "new": "standard track until there is history",
}
_PAYERS = SEGMENTS[:4]


class _Evidence(NamedTuple):
    """The settled invoices of a window, per invoice: what :func:`payment_history` sums and
    :func:`pay_day_intervals` lists."""

    customers: pd.Index  # the customers with an invoice, sorted
    cust: np.ndarray  # each invoice's position in ``customers``
    late: np.ndarray  # settled in the window, after its due date
    reminder: np.ndarray  # first reminder: 0 mild (or none), 1 strict, 2 bounced
    days_late: np.ndarray  # paid date minus due date (NaN when open)
    settled: np.ndarray  # paid within the window
    paid: np.ndarray  # paid and due dates as day numbers (paid: NEVER when open)
    due: np.ndarray


def _evidence(ledger: Ledger, day: pd.Timestamp, window_days: int) -> tuple[Ledger, _Evidence]:
    snap = ledger.as_of(day)
    inv = snap.invoices
    con = snap.contacts
    start = day - pd.Timedelta(days=window_days)
    # integer codes and bincounts over the snapshot's cached codes: no hashing or groupby on text ids
    index, codes = snap.customer_codes()
    present = np.zeros(len(index) + 1, bool)  # the extra last slot absorbs a missing id (-1)
    present[codes["customers"]] = present[codes["invoices"]] = True
    known = np.flatnonzero(present[:-1])
    order = np.argsort(index[known].to_numpy(dtype=object))
    customers = pd.Index(index[known[order]], name="customer_id", dtype="str")
    rank = np.full(len(index), -1, dtype=np.int64)
    rank[known[order]] = np.arange(len(known))
    # the first reminder of each invoice: strict in tone, or never delivered (bounced)
    first = (con["step"] == 1).to_numpy(dtype=bool, na_value=False)
    at = snap.invoice_positions("contacts")
    reminder = np.zeros(len(inv) + 1, np.int8)
    reminder[at[first & (con["tone"] == "strict").to_numpy(dtype=bool, na_value=False)]] = 1
    reminder[at[first & con["bounced"].to_numpy(dtype=bool, na_value=False)]] = 2
    settled = (inv["paid_date"].notna() & (inv["paid_date"] > start)).to_numpy()
    days_late = (inv["paid_date"] - inv["due_date"]).dt.days.to_numpy(dtype=np.float64, na_value=np.nan)
    evidence = _Evidence(
        customers=customers,
        cust=rank[codes["invoices"]],
        late=settled & (days_late > 0),
        reminder=reminder[:-1],
        days_late=days_late,
        settled=settled,
        paid=day_numbers(inv["paid_date"], missing=NEVER),
        due=day_numbers(inv["due_date"], missing=NEVER),
    )
    return snap, evidence


def payment_history(ledger: Ledger, as_of: Any, window_days: int = 548, never_after_days: int = 120) -> pd.DataFrame:
    """Per customer, the payment-history sums :class:`PayerSegmenter` learns from, over the ``window_days``
    before ``as_of``.

    They are sums over invoices, so the sums of disjoint sets of customers (a ledger's partitions) are this
    table's rows: :func:`payrisk.distributed.fit_segmenter` computes them per partition, then
    :meth:`PayerSegmenter.fit_history` fits the mixture on them.

    Parameters
    ----------
    ledger : Ledger
    as_of : date-like
    window_days, never_after_days : int
        As in :class:`PayerSegmenter`.

    Returns
    -------
    DataFrame
        Index ``customer_id`` (sorted), one row per customer with an invoice; float columns: ``n`` invoices
        settled in the window, ``k`` of them late; of the late ones whose first reminder was mild (or none),
        strict, and bounced (never delivered): counts ``km`` / ``ks`` / ``kb``, sums of log days late ``s1m`` /
        ``s1s`` / ``s1b`` and of its square ``s2m`` / ``s2s`` / ``s2b``; ``kp`` late invoices paid in parts;
        ``nn`` invoices due ``never_after_days`` or more before ``as_of`` (inside the window) and ``nu`` of them
        still unpaid.

    Examples
    --------
    >>> import payrisk as pr
    >>> ledger = pr.datasets.make_ledger(n_customers=50, seed=0)
    >>> stats = payment_history(ledger, "2024-06-30")
    >>> list(stats.columns)
    ['n', 'k', 'km', 's1m', 's2m', 'ks', 's1s', 's2s', 'kb', 's1b', 's2b', 'kp', 'nn', 'nu']
    >>> bool((stats["k"] <= stats["n"]).all() and stats.index.is_monotonic_increasing)
    True
    """
    from payrisk.ledger import to_date

    day = to_date(as_of, "as_of")
    return _history_sums(*_evidence(ledger, day, window_days), day, window_days, never_after_days)


def _history_sums(
    snap: Ledger, e: _Evidence, day: pd.Timestamp, window_days: int, never_after_days: int
) -> pd.DataFrame:
    """:func:`payment_history` of the evidence of ``snap`` (its snapshot at ``day``)."""
    late = e.late
    log_days = np.where(late, np.log(np.maximum(np.nan_to_num(e.days_late), 1)), 0.0)
    n_pay = np.bincount(snap.invoice_positions("payments") + 1, minlength=len(late) + 1)[1:]
    parts = np.asarray(n_pay) > 1
    start = day_numbers(np.datetime64(day - pd.Timedelta(days=window_days), "D"))
    old = (e.due <= day_numbers(np.datetime64(day - pd.Timedelta(days=never_after_days), "D"))) & (e.due > start)
    columns = {"n": e.settled, "k": late}
    for group, suffix in enumerate("msb"):  # mild (or none), strict, bounced first reminder
        in_group = late & (e.reminder == group)
        columns |= {
            f"k{suffix}": in_group,
            f"s1{suffix}": np.where(in_group, log_days, 0.0),
            f"s2{suffix}": np.where(in_group, log_days**2, 0.0),
        }
    columns |= {"kp": late & parts, "nn": old, "nu": old & (e.paid >= NEVER)}
    stats = {
        k: np.bincount(e.cust, weights=np.asarray(v, dtype=np.float64), minlength=len(e.customers))
        for k, v in columns.items()
    }
    return pd.DataFrame(stats, index=e.customers)


#: A pay-day rhythm is believed when its payments stand this many standard errors above chance.
RHYTHM_Z = 3.5
#: Days either side of a monthly pay-run day that still count as that run (a run on a weekend or holiday is paid on
#: the business day before or after it).
_RUN_SLACK = 2


def _pay_rhythm(cust: np.ndarray, paid: np.ndarray, n_customers: int) -> tuple[np.ndarray, np.ndarray]:
    """Each customer's monthly pay-run day (1..28, 0 for none) and payment weekday (0..4, -1 for none), from
    the days its settled invoices were paid: the rhythm whose payments stand out most above chance (a z-score
    of at least :data:`RHYTHM_Z`). The run day is the most frequent day of the month (29-31 count as 28); the
    ``_RUN_SLACK`` days either side of it count as the run."""
    n = np.bincount(cust, minlength=n_customers).astype(np.float64)
    dom = np.minimum(_day_of_month(paid), 28)
    runs = np.zeros((n_customers, 29))
    np.add.at(runs, (cust, dom), 1.0)
    # a run on a weekend is paid on the business day before it (on time) or after it (late): the run's window
    # spans _RUN_SLACK days either side, across the month's end (a run on the 1st is paid on the 29th-31st)
    window = np.sum([np.roll(runs[:, 1:], -k, axis=1) for k in range(-_RUN_SLACK, _RUN_SLACK + 1)], axis=0)
    run_day = runs[:, 1:].argmax(axis=1) + 1  # the most frequent day
    run_count = window[np.arange(n_customers), run_day - 1]
    weekdays = np.zeros((n_customers, 7))
    np.add.at(weekdays, (cust, weekday(paid)), 1.0)
    wd_count, wd = weekdays.max(axis=1), weekdays.argmax(axis=1)

    def z(k: np.ndarray, p: float) -> np.ndarray:
        return (k - n * p) / np.sqrt(np.maximum(n * p * (1 - p), 1e-12))

    z_run, z_wd = z(run_count, (2 * _RUN_SLACK + 1) / 28), z(wd_count, 1 / 5)
    is_run = (z_run >= RHYTHM_Z) & (z_run >= z_wd)
    is_wd = (z_wd >= RHYTHM_Z) & ~is_run
    return np.where(is_run, run_day, 0), np.where(is_wd, wd, -1)


def _day_of_month(days: np.ndarray) -> np.ndarray:
    return days - month_start(days) + 1


def pay_day_intervals(ledger: Ledger, as_of: Any, window_days: int = 548) -> pd.DataFrame:
    """The late invoices of :func:`payment_history` that were paid on the customer's own pay day, with the
    interval their true lateness lies in: after the previous pay day, at most as paid.

    Many customers pay on a rhythm: a monthly pay run (say the 25th) or a weekday. Such a customer's late invoice
    is paid on the first pay day after it could be, so its days late overstate the lateness by up to a month:
    a customer who forgets by five days and pays on its monthly run looks like one who is weeks behind. For an
    invoice paid on the pay day (the run day or up to two days after it, or the weekday), all the payment says
    is that the invoice became payable after the previous pay day: its lateness lies in ``(late_more_than,
    late_at_most]``. :class:`PayerSegmenter` reads these invoices so (an interval-censored likelihood) instead
    of at their face value. The rhythm is each customer's own, found in the payment days of the window: a pay
    run day or a weekday that holds far more payments than chance would (:data:`RHYTHM_Z` standard errors).

    Parameters
    ----------
    ledger : Ledger
    as_of : date-like
    window_days : int
        As in :class:`PayerSegmenter`.

    Returns
    -------
    DataFrame
        One row per such invoice: ``customer_id``, ``reminder`` (the first reminder: 0 mild or none, 1 strict,
        2 bounced, as the groups of :func:`payment_history`), ``days_late`` (as paid), ``late_more_than`` and
        ``late_at_most`` (days).

    Examples
    --------
    >>> import payrisk as pr
    >>> ledger = pr.datasets.make_ledger(n_customers=200, seed=0)
    >>> iv = pay_day_intervals(ledger, "2024-06-30")
    >>> bool(((iv["late_more_than"] < iv["late_at_most"]) & (iv["late_at_most"] <= iv["days_late"])).all())
    True
    """
    from payrisk.ledger import to_date

    _, e = _evidence(ledger, to_date(as_of, "as_of"), window_days)
    return _intervals_and_rhythm(e)[0]


def _intervals_and_rhythm(e: _Evidence) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """:func:`pay_day_intervals` of the evidence, and each customer's run day and weekday (:func:`_pay_rhythm`)."""
    settled = np.flatnonzero(e.settled & (e.cust >= 0))
    run_day, pay_weekday = _pay_rhythm(e.cust[settled], e.paid[settled], len(e.customers))
    i = np.flatnonzero(e.late & (e.cust >= 0))
    c, paid, due = e.cust[i], e.paid[i], e.due[i]
    run = np.maximum(run_day[c], 1)
    # paid on the run or up to _RUN_SLACK days after it (29-31 count as 28, as in the rhythm): the invoice became
    # payable after the run before
    dom = _day_of_month(paid)
    after_run = (np.minimum(dom, 28) - run) % 28
    this_run = paid - np.maximum(dom - 28, 0) - after_run
    on_run = (run_day[c] > 0) & (after_run <= _RUN_SLACK) & (this_run > due)
    on_weekday = (pay_weekday[c] >= 0) & (weekday(paid) == pay_weekday[c])
    days = e.days_late[i]
    after = np.where(on_run, prev_payrun(this_run - 1, run) - due, days - 7)
    keep = on_run | on_weekday
    intervals = pd.DataFrame(
        {
            "customer_id": e.customers[c[keep]],
            "reminder": e.reminder[i[keep]],
            "days_late": days[keep],
            "late_more_than": np.maximum(after[keep], 0.0),
            "late_at_most": days[keep],
        }
    )
    return intervals, run_day, pay_weekday


_WEEKDAYS = ("Mondays", "Tuesdays", "Wednesdays", "Thursdays", "Fridays", "Saturdays", "Sundays")


def _pay_day_words(run_day: np.ndarray, pay_weekday: np.ndarray) -> np.ndarray:
    """ "a monthly run on the 25th", "Tuesdays" or "" per customer."""
    day = np.asarray(run_day, dtype=np.int64)
    ordinal = np.where(
        (day % 100 >= 11) & (day % 100 <= 13), "th", np.array(["th", "st", "nd", "rd", *["th"] * 6])[day % 10]
    )
    run = np.char.add(np.char.add("a monthly run on the ", day.astype(str)), ordinal)
    run = np.where(day == 28, "a monthly run at the month's end (28th-31st)", run)
    week = np.asarray(_WEEKDAYS, dtype=object)[np.maximum(pay_weekday, 0)]
    return np.where(day > 0, run, np.where(np.asarray(pay_weekday) >= 0, week, "")).astype(object)


def _truncated_normal(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For a standard normal Z and bounds ``a < b`` (``a`` may be -inf): log P(a < Z <= b), E[Z | a < Z <= b] and
    E[Z^2 | a < Z <= b]. Computed in log space on the tail the interval lies in, so an interval far out in either
    tail neither underflows nor divides zero by zero."""
    flip = a + b > 0  # mirror an upper-tail interval into the lower tail
    lo, hi = np.where(flip, -b, a), np.where(flip, -a, b)
    log_hi = log_ndtr(hi)
    with np.errstate(divide="ignore"):
        log_mass = log_hi + np.log1p(-np.exp(np.minimum(log_ndtr(lo) - log_hi, -1e-12)))
    half_log_2pi = 0.5 * np.log(2 * np.pi)
    bounded = np.isfinite(lo)
    lo0 = np.where(bounded, lo, 0.0)
    r_lo = np.where(bounded, np.exp(-0.5 * lo0**2 - half_log_2pi - log_mass), 0.0)  # pdf(lo) / mass
    r_hi = np.exp(-0.5 * hi**2 - half_log_2pi - log_mass)
    mean = r_lo - r_hi
    square = 1 + lo0 * r_lo - hi * r_hi
    return log_mass, np.where(flip, -mean, mean), square


class PayerSegmenter(BaseEstimator):
    """Segments customers into reliable, forgetful, struggling and chronic payers (plus new) by a mixture model.

    Parameters
    ----------
    window_days : int, default 548
        Settled invoices in this many days before ``as_of`` are the evidence.
    min_settled : int, default 5
        Fewer settled invoices in the window make a customer ``new``.
    never_after_days : int, default 120
        Invoices due at least this many days before ``as_of`` and still unpaid count as "not paid at all".
    n_init : int, default 16
        EM starts: the seed's picture, one from each customer's own evidence (late share, typical delay,
        unpaid invoices), then alternately the seed's picture jittered and random responsibilities; the best
        likelihood wins (the likelihood has separate basins: one start is not enough).
    max_iter : int, default 300
    tol : float, default 1e-7
        EM stops when the mean log-likelihood improves by less.
    random_state : int, default 0
    pay_days : bool, default True
        Read a late invoice paid on the customer's own pay day (its monthly pay run or weekday) as "late by
        somewhere since the previous pay day" (:func:`pay_day_intervals`), not at its face value: without it a
        customer who pays on a monthly run looks weeks later than it is.

    Attributes
    ----------
    components_ : DataFrame
        Index: the four payer segments; columns ``weight``, ``p_late``, ``median_days_late`` (of a late invoice
        after a mild first reminder), ``log_sd``, ``strict_factor`` (days late after a strict first reminder,
        relative), ``p_paid_in_parts`` (of a late invoice), ``p_unpaid`` (still unpaid ``never_after_days`` after
        its due date).
    n_iter_ : int
    log_likelihood_ : float
        Mean per customer, of the best start.

    Examples
    --------
    >>> import payrisk as pr
    >>> ledger = pr.datasets.make_ledger(n_customers=150, seed=0)
    >>> seg = PayerSegmenter().fit(ledger, "2024-06-30")
    >>> list(seg.components_.index)
    ['reliable', 'forgetful', 'struggling', 'chronic']
    >>> out = seg.predict(ledger, "2024-06-30")
    >>> set(out["segment"]) <= set(SEGMENTS), bool(out["why"].str.len().gt(0).all())
    (True, True)
    """

    def __init__(
        self,
        window_days: int = 548,
        min_settled: int = 5,
        never_after_days: int = 120,
        n_init: int = 16,
        max_iter: int = 300,
        tol: float = 1e-7,
        random_state: int = 0,
        pay_days: bool = True,
    ) -> None:
        self.window_days = window_days
        self.min_settled = min_settled
        self.never_after_days = never_after_days
        self.n_init = n_init
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state
        self.pay_days = pay_days

    @staticmethod
    def _gauss(k: np.ndarray, s1: np.ndarray, s2: np.ndarray, mu: np.ndarray, sd: np.ndarray) -> np.ndarray:
        return -k * np.log(sd) - (s2 - 2 * mu * s1 + k * mu**2) / (2 * sd**2)

    def _loglik(self, g: dict[str, np.ndarray], theta: dict[str, np.ndarray]) -> np.ndarray:
        t = theta
        return (
            np.log(t["weight"])
            + g["k"] * np.log(t["p_late"])
            + (g["n"] - g["k"]) * np.log1p(-t["p_late"])
            + self._gauss(g["km"], g["s1m"], g["s2m"], t["mu"], t["sd"])
            + self._gauss(g["ks"], g["s1s"], g["s2s"], t["mu"] + t["strict_shift"], t["sd"])
            + self._gauss(g["kb"], g["s1b"], g["s2b"], t["mu"] + t["bounced_shift"], t["sd"])
            + g["kp"] * np.log(t["p_parts"])
            + (g["k"] - g["kp"]) * np.log1p(-t["p_parts"])
            + g["nu"] * np.log(t["p_unpaid"])
            + (g["nn"] - g["nu"]) * np.log1p(-t["p_unpaid"])
        )

    @staticmethod
    def _m_step(g: dict[str, np.ndarray], r: np.ndarray) -> dict[str, np.ndarray]:
        """The parameters that maximise the expected log-likelihood under responsibilities ``r``."""

        def share(num: np.ndarray, den: np.ndarray) -> np.ndarray:
            return np.clip(num.sum(0) / np.maximum(den.sum(0), 1e-12), 1e-4, 1 - 1e-4)

        km, ks, kb = (r * g["km"]).sum(0), (r * g["ks"]).sum(0), (r * g["kb"]).sum(0)
        mu = (r * g["s1m"]).sum(0) / np.maximum(km, 1e-9)
        mu_s = np.where(ks > 1e-9, (r * g["s1s"]).sum(0) / np.maximum(ks, 1e-9), mu)
        mu_b = np.where(kb > 1e-9, (r * g["s1b"]).sum(0) / np.maximum(kb, 1e-9), mu)
        ss = (r * (g["s2m"] - 2 * mu * g["s1m"] + g["km"] * mu**2)).sum(0)
        ss = ss + (r * (g["s2s"] - 2 * mu_s * g["s1s"] + g["ks"] * mu_s**2)).sum(0)
        ss = ss + (r * (g["s2b"] - 2 * mu_b * g["s1b"] + g["kb"] * mu_b**2)).sum(0)
        return {
            "weight": np.maximum(r.mean(axis=0), 1e-6),
            "p_late": share(r * g["k"], r * g["n"]),
            "mu": mu,
            "strict_shift": mu_s - mu,
            "bounced_shift": mu_b - mu,
            "sd": np.sqrt(np.maximum(ss / np.maximum(km + ks + kb, 1e-9), 0.05)),
            "p_parts": share(r * g["kp"], r * g["k"]),
            "p_unpaid": share(r * g["nu"], r * g["nn"]),
        }

    @staticmethod
    def _intervals(stats: pd.DataFrame, intervals: pd.DataFrame | None) -> dict[str, np.ndarray] | None:
        """The pay-day intervals of the customers in ``stats`` as arrays: row in ``stats``, reminder group, log
        of the observed days late and the interval's log bounds; None when there are none."""
        if intervals is None or not len(intervals):
            return None
        row = stats.index.get_indexer(pd.Index(intervals["customer_id"].astype(str)))
        keep = row >= 0
        if not keep.any():
            return None
        iv = intervals.loc[keep]
        with np.errstate(divide="ignore"):
            lo = np.log(iv["late_more_than"].to_numpy(dtype=np.float64))  # -inf: any lateness up to the bound
        return {
            "row": row[keep],
            "group": iv["reminder"].to_numpy(dtype=np.int64),
            "x": np.log(np.maximum(iv["days_late"].to_numpy(dtype=np.float64), 1)),
            "lo": lo,
            "hi": np.log(np.maximum(iv["late_at_most"].to_numpy(dtype=np.float64), 1)),
        }

    @staticmethod
    def _at_face_value_removed(g: dict[str, np.ndarray], iv: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """The sums ``g`` without the observed days late of the interval invoices (counts stay: they are late)."""
        out = dict(g)
        n = len(g["n"])
        for group, suffix in enumerate("msb"):
            sel = iv["group"] == group
            row, x = iv["row"][sel], iv["x"][sel]
            for key, w in ((f"k{suffix}", np.ones_like(x)), (f"s1{suffix}", x), (f"s2{suffix}", x**2)):
                out[key] = g[key] - np.bincount(row, weights=w, minlength=n)[:, None]
        return out

    @staticmethod
    def _interval_terms(
        iv: dict[str, np.ndarray], theta: dict[str, np.ndarray], n: int
    ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """Per customer and component: the log-probability of its interval invoices, and their expected sums
        (count, log days late and its square, given the interval) to add to ``g`` for the M-step."""
        shifts = np.stack([np.zeros_like(theta["mu"]), theta["strict_shift"], theta["bounced_shift"]])
        m = theta["mu"] + shifts[iv["group"]]
        sd = theta["sd"]
        a, b = (iv["lo"][:, None] - m) / sd, (iv["hi"][:, None] - m) / sd
        log_mass, mean_z, square_z = _truncated_normal(a, b)
        e1 = m + sd * mean_z  # the log days late's moments, given the interval
        e2 = m**2 + 2 * m * sd * mean_z + sd**2 * square_z
        ll = np.stack([np.bincount(iv["row"], weights=log_mass[:, j], minlength=n) for j in range(m.shape[1])], 1)
        extra: dict[str, np.ndarray] = {}
        for group, suffix in enumerate("msb"):
            sel = iv["group"] == group
            row = iv["row"][sel]
            extra[f"k{suffix}"] = np.bincount(row, minlength=n)[:, None].astype(np.float64)
            for key, v in ((f"s1{suffix}", e1[sel]), (f"s2{suffix}", e2[sel])):
                extra[key] = np.stack([np.bincount(row, weights=v[:, j], minlength=n) for j in range(v.shape[1])], 1)
        return ll, extra

    def _em(
        self, g: dict[str, np.ndarray], theta: dict[str, np.ndarray], iv: dict[str, np.ndarray] | None = None
    ) -> tuple[dict[str, np.ndarray], float, int]:
        """Expectation-maximisation from ``theta``; returns the fit, its mean log-likelihood and the iterations.
        With pay-day intervals ``iv``, ``g`` holds the other invoices' sums and the interval invoices enter by
        their interval (their expected log days late under the current fit, in the M-step)."""
        last, it = -np.inf, 0
        for it in range(1, self.max_iter + 1):  # noqa: B007 - the count is returned
            ll, g_now = self._loglik(g, theta), g
            if iv is not None:
                ll_iv, extra = self._interval_terms(iv, theta, len(ll))
                ll = ll + ll_iv
                g_now = {k: g[k] + extra[k] if k in extra else g[k] for k in g}
            norm = logsumexp(ll, axis=1, keepdims=True)
            theta = self._m_step(g_now, np.exp(ll - norm))
            mean_ll = float(norm.mean())
            if mean_ll - last < self.tol:
                break
            last = mean_ll
        return theta, last, it

    def fit(self, ledger: Ledger, as_of: Any) -> PayerSegmenter:
        """Fit the mixture on the customers with at least ``min_settled`` settled invoices in the window."""
        self.validate_params()
        stats, intervals, _, _ = self._read(ledger, as_of)
        return self.fit_history(stats, intervals if self.pay_days else None)

    def _read(self, ledger: Ledger, as_of: Any) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray, np.ndarray]:
        """:func:`payment_history`, :func:`pay_day_intervals` and each customer's run day and weekday, from one
        pass over the window's invoices."""
        from payrisk.ledger import to_date

        day = to_date(as_of, "as_of")
        snap, e = _evidence(ledger, day, self.window_days)
        return (_history_sums(snap, e, day, self.window_days, self.never_after_days), *_intervals_and_rhythm(e))

    def validate_params(self) -> None:
        """Check the parameters, as ``fit`` does before reading the ledger.

        Raises
        ------
        payrisk.errors.ParameterError
            When ``min_settled < 1``, ``window_days < 30`` or ``n_init < 1``.

        Examples
        --------
        >>> PayerSegmenter().validate_params()
        >>> PayerSegmenter(window_days=7).validate_params()
        Traceback (most recent call last):
        ...
        payrisk.errors.ParameterError: PayerSegmenter needs min_settled >= 1, window_days >= 30 and n_init >= 1.
        """
        if self.min_settled < 1 or self.window_days < 30 or self.n_init < 1:
            raise ParameterError("PayerSegmenter needs min_settled >= 1, window_days >= 30 and n_init >= 1.")

    def fit_history(self, stats: pd.DataFrame, intervals: pd.DataFrame | None = None) -> PayerSegmenter:
        """Fit the mixture on per-customer payment-history sums (:func:`payment_history`, sorted by customer id),
        on the customers with at least ``min_settled`` settled invoices; returns ``self``.

        ``fit(ledger, as_of)`` is ``fit_history(payment_history(ledger, as_of, window_days, never_after_days),
        pay_day_intervals(ledger, as_of, window_days))`` after :meth:`validate_params` (without the intervals
        when ``pay_days=False``); both may come from elsewhere (a Dask ledger's partitions). The EM starts read
        every invoice at face value; the best one is then refined with the pay-day invoices read by their
        interval.

        Examples
        --------
        >>> import payrisk as pr
        >>> ledger = pr.datasets.make_ledger(n_customers=150, seed=0)
        >>> seg = PayerSegmenter()
        >>> seg.fit_history(payment_history(ledger, "2024-06-30", seg.window_days, seg.never_after_days))
        PayerSegmenter()
        >>> list(seg.components_.index)
        ['reliable', 'forgetful', 'struggling', 'chronic']
        """
        S = stats.loc[stats["n"] >= self.min_settled]
        if len(S) < 8:
            raise ParameterError(
                f"Only {len(S)} customers have {self.min_settled}+ settled invoices in the {self.window_days} days "
                "before as_of: too few to learn segments. Lower min_settled or choose a later as_of."
            )
        g = {c: S[c].to_numpy()[:, None] for c in S.columns}
        rng = np.random.default_rng(self.random_state)
        best: tuple[float, dict[str, np.ndarray], int] = (-np.inf, {}, 0)
        for start in range(self.n_init):
            if start == 0 or (start % 2 == 0 and start > 1):
                # the seed's picture (rarely late / late by days / by weeks / by a month and more), then jittered
                jitter = 0.0 if start == 0 else 1.0
                theta = {
                    "weight": np.full(4, 0.25),
                    "p_late": np.clip([0.1, 0.5, 0.6, 0.8] + jitter * rng.uniform(-0.1, 0.1, 4), 0.02, 0.98),
                    "mu": np.log([4.0, 5.0, 15.0, 30.0]) + jitter * rng.uniform(-0.4, 0.4, 4),
                    "strict_shift": np.zeros(4),
                    "bounced_shift": np.zeros(4),
                    "sd": np.full(4, 0.7),
                    "p_parts": np.full(4, 0.1),
                    "p_unpaid": np.array([0.001, 0.005, 0.03, 0.1]) * np.exp(jitter * rng.uniform(-1, 1, 4)),
                }
            elif start == 1:  # each customer's own evidence: late share, then typical delay and unpaid invoices
                share = (S["k"] / S["n"]).to_numpy()
                typical = np.exp((S["s1m"] + S["s1s"] + S["s1b"]) / np.maximum(S["k"], 1)).to_numpy()
                chronic = (S["nu"].to_numpy() > 0) | (typical > 25)
                hard = np.where(share < 0.3, 0, np.where(chronic, 3, np.where(typical < 10, 1, 2)))
                theta = self._m_step(g, np.eye(4)[hard] * 0.9 + 0.025)
            else:  # random responsibilities, as scikit-learn's mixtures do with init_params="random"
                theta = self._m_step(g, rng.dirichlet(np.ones(4), size=len(S)))
            fitted, ll, it = self._em(g, theta)
            if ll > best[0]:
                best = (ll, fitted, it)
        iv = self._intervals(S, intervals)
        if iv is not None:
            theta, ll, it = self._em(self._at_face_value_removed(g, iv), best[1], iv)
            best = (ll, theta, best[2] + it)
        self.log_likelihood_, theta, self.n_iter_ = best
        names = self._name(theta["p_late"], theta["mu"])
        comp = pd.DataFrame(
            {
                "weight": theta["weight"],
                "p_late": theta["p_late"],
                "median_days_late": np.exp(theta["mu"]),
                "log_sd": theta["sd"],
                "strict_factor": np.exp(theta["strict_shift"]),
                "bounced_factor": np.exp(theta["bounced_shift"]),
                "p_paid_in_parts": theta["p_parts"],
                "p_unpaid": theta["p_unpaid"],
            },
            index=names,
        )
        self.components_ = comp.loc[list(_PAYERS)]
        return self

    @staticmethod
    def _name(p: np.ndarray, mu: np.ndarray) -> list[str]:
        """Reliable: the lowest late rate; of the rest, chronic: the longest delays, forgetful: the shortest."""
        names = [""] * 4
        reliable = int(np.argmin(p))
        rest = sorted((c for c in range(4) if c != reliable), key=lambda c: mu[c])
        for c, name in zip([reliable, *rest], _PAYERS, strict=True):
            names[c] = name
        return names

    def predict(self, ledger: Ledger, as_of: Any) -> pd.DataFrame:
        """One row per customer: ``segment``, the posterior of each payer segment, and the evidence in words.

        Returns
        -------
        DataFrame
            Index ``customer_id``; ``segment``, ``p_reliable`` .. ``p_chronic`` (NaN for ``new``), ``n_settled``,
            ``n_late``, ``typical_days_late``, ``pay_day`` (the customer's own rhythm, e.g. "a monthly run on the
            25th" or "Tuesdays"; empty when none stands out: :func:`pay_day_intervals`), ``why``, ``treatment``.
        """
        if not hasattr(self, "components_"):
            raise NotFittedError("This PayerSegmenter is not fitted yet; call fit first.")
        S, intervals, run_day, pay_weekday = self._read(ledger, as_of)
        c = self.components_
        # a model saved before a bounced reminder had its own response: the same response as a mild one
        bounced = c["bounced_factor"] if "bounced_factor" in c else pd.Series(1.0, index=c.index)
        theta = {
            "weight": c["weight"].to_numpy(),
            "p_late": c["p_late"].to_numpy(),
            "mu": np.log(c["median_days_late"].to_numpy()),
            "strict_shift": np.log(c["strict_factor"].to_numpy()),
            "bounced_shift": np.log(bounced.to_numpy()),
            "sd": c["log_sd"].to_numpy(),
            "p_parts": c["p_paid_in_parts"].to_numpy(),
            "p_unpaid": c["p_unpaid"].to_numpy(),
        }
        g = {col: S[col].to_numpy()[:, None] for col in S.columns}
        iv = self._intervals(S, intervals) if self.pay_days else None
        if iv is None:
            ll = self._loglik(g, theta)
        else:
            ll = self._loglik(self._at_face_value_removed(g, iv), theta) + self._interval_terms(iv, theta, len(S))[0]
        post = np.exp(ll - logsumexp(ll, axis=1, keepdims=True))
        new = S["n"].to_numpy() < self.min_settled
        seg = np.where(new, "new", np.asarray(_PAYERS)[post.argmax(axis=1)])
        out = pd.DataFrame(np.where(new[:, None], np.nan, post), index=S.index, columns=[f"p_{s}" for s in _PAYERS])
        typical = np.where(S["k"] > 0, np.exp((S["s1m"] + S["s1s"] + S["s1b"]) / np.maximum(S["k"], 1)), np.nan)
        out.insert(0, "segment", seg)
        out["n_settled"] = S["n"].astype(int).to_numpy()
        out["n_late"] = S["k"].astype(int).to_numpy()
        out["typical_days_late"] = np.round(typical, 1)
        out["pay_day"] = _pay_day_words(run_day, pay_weekday)
        out["why"] = self._why(out)
        out["treatment"] = out["segment"].map(TREATMENT)
        return out

    def fit_predict(self, ledger: Ledger, as_of: Any) -> pd.DataFrame:
        """``fit`` then ``predict`` on the same ledger and date."""
        return self.fit(ledger, as_of).predict(ledger, as_of)

    def _why(self, out: pd.DataFrame) -> pd.Series:
        n, k = out["n_settled"].astype(str), out["n_late"].astype(str)
        days = out["typical_days_late"].fillna(0).round().astype(int).astype(str)
        share = out[[f"p_{s}" for s in _PAYERS]].max(axis=1).fillna(0)
        evidence = "paid " + k + " of its last " + n + " settled invoices late"
        evidence = evidence.where(out["n_late"] == 0, evidence + ", typically " + days + " days late")
        text = evidence + " (" + (share * 100).round().astype(int).astype(str) + "% sure)"
        few = f"fewer than {self.min_settled} settled invoices in the last {self.window_days} days"
        text = text.where(out["segment"] != "new", few)
        return text.where(out["pay_day"] == "", text + "; pays on " + out["pay_day"])
