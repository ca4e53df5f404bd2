"""When does the cash come in? A cash-inflow forecast from open receivables, with intervals and dry periods.

Each open invoice has a payment-time distribution in days from the forecast date: the engine's
:class:`~payrisk.models.PaymentWeekModel` for its weeks (13 by default), and its
:class:`~payrisk.models.PaymentTimeModel`, given the invoice is still open then, beyond them. Its open amount is
expected in period *k* with probability ``F(end_k) - F(start_k)``; summed, that is the expected inflow per period.
Payments are not independent: customers and weeks move together (a slow month delays many invoices at once), and
independent per-invoice draws make intervals far too narrow. The intervals here come from a Gaussian copula with
one shared period factor: the payment-time quantile of invoice *i* is ``Phi(sqrt(1 - rho) Z_i + sqrt(rho) G)`` with
``G`` common to all invoices. ``rho`` (``period_correlation``) is calibrated on rolling backtests
(:func:`payrisk.backtest.backtest_forecast`), each origin using only the weeks that had ended by then. Given
``G``, invoices are independent and the total per period is close to normal, so the forecast distribution is a
mixture over equal-probability nodes of ``G``. Invoices whose payment curves agree to 0.02 share a bin, so the cost
is one pass over the invoices plus a small matrix per node.

Amounts are never summed across currencies: every figure is per currency.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import stats

from payrisk._compat import ledger_first
from payrisk.errors import ParameterError
from payrisk.schema import check_worklist

if TYPE_CHECKING:  # pragma: no cover
    from payrisk.engine import RiskEngine
    from payrisk.ledger import Ledger

__all__ = ["CashForecast", "OpenBook", "cash_inflow", "period_edges"]

_CDF_STEP = 0.02  #: invoices whose payment curves differ by less (at four periods) share a bin
_NODES = 100  #: equal-probability nodes of the shared period factor
_WORKLIST = (
    "customer_id",
    "currency",
    "open_amount",
    "pay_p10",
    "pay_p50",
    "pay_p90",
    "p_paid_30d",
    "p_paid_60d",
    "p_paid_90d",
)


def period_edges(as_of: pd.Timestamp, horizon: int, freq: str = "W") -> tuple[pd.DatetimeIndex, np.ndarray]:
    """Start dates of the forecast periods and their end as days after ``as_of`` (``freq``: "W", "D" or "M").

    Examples
    --------
    >>> starts, ends = period_edges(pd.Timestamp("2024-06-30"), 3)
    >>> [str(d.date()) for d in starts], ends.tolist()
    (['2024-07-01', '2024-07-08', '2024-07-15'], [7, 14, 21])
    """
    if horizon < 1:
        raise ParameterError(f"The horizon must be at least one period. Got {horizon}.")
    day = pd.Timestamp(as_of).normalize()
    if freq in ("W", "D"):
        step = 7 if freq == "W" else 1
        ends = np.arange(1, horizon + 1, dtype=np.int64) * step
    elif freq in ("M", "ME"):
        month_ends = pd.date_range(day + pd.Timedelta(days=1), periods=horizon, freq="ME")
        ends = np.asarray((month_ends - day).days, dtype=np.int64)
    else:
        raise ParameterError(f"The 'freq' parameter must be 'W', 'D' or 'M'. Got {freq!r}.")
    starts = day + pd.to_timedelta(np.concatenate([[0], ends[:-1]]) + 1, unit="D")
    return pd.DatetimeIndex(starts), ends


@dataclass
class CashForecast:
    """Expected cash per period and currency with intervals, breakdowns and dry-period flags.

    Attributes
    ----------
    periods : DataFrame
        One row per (currency, period): ``period_start``, ``period_end``, ``expected``, ``low``, ``high`` (the
        interval at ``levels``), ``cum_expected``, ``cum_low``, ``cum_high``, ``dry`` (expected below the
        threshold) and ``dry_low`` (the low end below it).
    by_customer, by_segment : DataFrame
        Expected cash per (currency, customer or segment) and period start (columns).

    Examples
    --------
    >>> day = pd.Timestamp("2024-06-30")  # a worklist of two open invoices, as RiskEngine.score returns it
    >>> worklist = pd.DataFrame({"customer_id": ["c1", "c2"], "currency": "EUR", "open_amount": [1000.0, 400.0],
    ...                          "pay_p10": day + pd.Timedelta(days=3), "pay_p50": day + pd.Timedelta(days=12),
    ...                          "pay_p90": day + pd.Timedelta(days=45), "p_paid_30d": 0.8, "p_paid_60d": 0.95,
    ...                          "p_paid_90d": 0.99})
    >>> fc = cash_inflow(None, worklist, day, horizon_weeks=4, threshold=100.0)
    >>> fc.n_invoices, fc.periods["period_start"].dt.strftime("%d %b").tolist()
    (2, ['01 Jul', '08 Jul', '15 Jul', '22 Jul'])
    >>> bool((fc.periods["low"] <= fc.periods["expected"]).all()), len(fc.dry_periods()) <= 4
    (True, True)
    """

    as_of: pd.Timestamp
    freq: str
    levels: tuple[float, float]
    period_correlation: float
    periods: pd.DataFrame
    by_customer: pd.DataFrame
    by_segment: pd.DataFrame
    n_invoices: int
    meta: dict[str, Any] = field(default_factory=dict)

    def dry_periods(self) -> pd.DataFrame:
        """The periods flagged dry (by the expected inflow or by the low end of its interval)."""
        return self.periods.loc[self.periods["dry"] | self.periods["dry_low"]]

    def plot(self, currency: str | None = None, actuals: pd.Series | None = None, ax: Any = None) -> Any:
        """Fan chart of the weekly and cumulative forecast (see :func:`payrisk.plots.forecast_fan`)."""
        from payrisk.plots import forecast_fan

        return forecast_fan(self, currency=currency, actuals=actuals, ax=ax)


# -- the distribution of the total per period -------------------------------------------------------------------


def _bin_sums(cdf: np.ndarray, amount: np.ndarray, currency: np.ndarray | None = None) -> pd.DataFrame:
    """Invoices whose payment curves agree to ``_CDF_STEP`` at a few periods share a bin. Per (currency, bin):
    ``a1`` (sum of amounts), ``a2`` (sum of squared amounts) and ``w0``, ``w1``, ... (sums of amount x P(paid by
    the end of each period)). Sums over disjoint sets of invoices add up, so partitions of a book combine."""
    cols = np.unique(np.linspace(0, cdf.shape[1] - 1, 4).round().astype(np.int64))
    levels = round(1 / _CDF_STEP) + 1
    key = np.zeros(len(cdf), dtype=np.int64)
    for j in cols:  # one integer per curve shape: a 1-D unique, not a row-wise one
        key = key * levels + np.rint(np.clip(cdf[:, j], 0, 1) / _CDF_STEP).astype(np.int64)
    currency = np.full(len(cdf), "", dtype=object) if currency is None else np.asarray(currency, dtype=object)
    codes, uniques = pd.factorize(pd.MultiIndex.from_arrays([currency, key], names=["currency", "bin"]))
    n = len(uniques)
    sums = {
        "a1": np.bincount(codes, weights=amount, minlength=n),
        "a2": np.bincount(codes, weights=amount**2, minlength=n),
    }
    sums |= {f"w{j}": np.bincount(codes, weights=amount * c, minlength=n) for j, c in enumerate(cdf.T)}
    return pd.DataFrame(sums, index=uniques).rename_axis(["currency", "bin"])


def _bins_from_sums(sums: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(amount-weighted mean curve, sum of amounts, sum of squared amounts) per bin of one currency."""
    a1 = sums["a1"].to_numpy()
    weighted = sums.drop(columns=["a1", "a2"]).to_numpy()
    return weighted / np.maximum(a1, 1e-300)[:, None], a1, sums["a2"].to_numpy()


def payment_curve_bins(cdf: np.ndarray, amount: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The bins of one currency's invoices (see :func:`_bin_sums`)."""
    return _bins_from_sums(_bin_sums(cdf, amount))


def _survival_paid_by(model: Any, location: np.ndarray, end_days: np.ndarray) -> np.ndarray:
    """P(paid within ``d`` days of the forecast date) from the payment-time model (payment takes a day at least)."""
    surv = model.survival_at(location, np.concatenate([[0.0], end_days.astype(np.float64)]))
    s0 = np.maximum(surv[:, :1], 1e-12)
    return np.clip((s0 - surv[:, 1:]) / s0, 0.0, 1.0)


def _paid_by(engine: Any, X: pd.DataFrame, end_days: np.ndarray) -> np.ndarray:
    """P(paid within ``d`` days) per open invoice and period end: the weekly model's distribution for its weeks,
    the payment-time model's (conditioned on still open then) beyond them or without a weekly model."""
    week_model = getattr(engine, "week_model_", None)
    if week_model is None:
        return _survival_paid_by(engine.time_model_, engine.time_model_.predict_location(X), end_days)
    horizon = 7.0 * week_model.weeks
    within = end_days <= horizon
    proba = week_model.predict_proba(X)
    out = np.empty((len(X), len(end_days)))
    out[:, within] = week_model.p_paid_by(proba, end_days[within])
    if (~within).any():  # the survival model only where the weekly one ends
        c_h = week_model.p_paid_by(proba, [horizon])
        location = engine.time_model_.predict_location(X)
        aft = _survival_paid_by(engine.time_model_, location, np.concatenate([[horizon], end_days[~within]]))
        later = np.clip((aft[:, 1:] - aft[:, :1]) / np.maximum(1 - aft[:, :1], 1e-12), 0.0, 1.0)
        out[:, ~within] = c_h + (1 - c_h) * later
    return out


def _mixture_quantiles(mean: np.ndarray, var: np.ndarray, weight: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """Quantiles of sum_g weight_g N(mean_g, var_g), per column of ``mean`` (nodes x periods) -> levels x periods."""
    sd = np.sqrt(np.maximum(var, 1e-18))
    lo = (mean - 8 * sd).min(axis=0)
    hi = (mean + 8 * sd).max(axis=0)
    out = np.empty((len(levels), mean.shape[1]))
    for i, q in enumerate(levels):
        a, b = lo.copy(), hi.copy()
        for _ in range(60):  # bisection on the mixture cdf, every period at once
            mid = (a + b) / 2
            below = (weight[:, None] * stats.norm.cdf((mid[None, :] - mean) / sd)).sum(axis=0) < q
            a, b = np.where(below, mid, a), np.where(below, b, mid)
        out[i] = (a + b) / 2
    return np.maximum(out, 0.0)


def total_quantiles(
    bins: tuple[np.ndarray, np.ndarray, np.ndarray], rho: float, levels: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Quantiles (levels x periods) of the inflow per period and of the cumulative inflow, from the invoices'
    P(paid by the end of each period), binned by :func:`payment_curve_bins`."""
    curve, a1, a2 = bins
    # equal-probability nodes (not Gauss-Hermite: those integrate well but put the mixture's mass on a few
    # points, which moves its quantiles)
    nodes = stats.norm.ppf((np.arange(_NODES) + 0.5) / _NODES)
    weights = np.full(_NODES, 1.0 / _NODES)
    if rho <= 0:
        nodes, weights = np.zeros(1), np.ones(1)
    # the copula: given G = g, P(paid by d) = Phi((Phi^-1(F(d)) - sqrt(rho) g) / sqrt(1 - rho))
    z = stats.norm.ppf(np.clip(curve, 1e-12, 1 - 1e-12))
    periods = curve.shape[1]
    per_mean, per_var, cum_mean, cum_var = (np.empty((len(nodes), periods)) for _ in range(4))
    for j, g in enumerate(nodes):
        c = stats.norm.cdf((z - np.sqrt(rho) * g) / np.sqrt(1 - rho)) if rho > 0 else curve
        p = np.diff(np.concatenate([np.zeros((len(a1), 1)), c], axis=1), axis=1)
        per_mean[j], per_var[j] = a1 @ p, a2 @ (p * (1 - p))
        cum_mean[j], cum_var[j] = a1 @ c, a2 @ (c * (1 - c))
    return (
        _mixture_quantiles(per_mean, per_var, weights, levels),
        _mixture_quantiles(cum_mean, cum_var, weights, levels),
    )


# -- the forecast ---------------------------------------------------------------------------------------------


def open_book(engine: Any, ledger: Any, as_of: Any, horizon: int, freq: str) -> tuple[Any, ...]:
    """(snapshot, day, period starts, period ends in days, open invoice lines, P(paid by each period end)) of the
    items open at the end of ``as_of``."""
    snap, day, X, inv = engine.open_items(ledger, as_of)
    starts, ends = period_edges(day, horizon, freq)
    return snap, day, starts, ends, inv, _paid_by(engine, X, ends)


def expected_by_period(inv: pd.DataFrame, cdf: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(open amounts, currencies, expected cash per invoice and period)."""
    amount = inv["open_amount"].to_numpy(dtype=np.float64)
    expected = amount[:, None] * np.diff(np.concatenate([np.zeros((len(amount), 1)), cdf], axis=1), axis=1)
    return amount, inv["currency"].to_numpy(dtype=object), expected


def _group_expected(keys: pd.Series, currency: np.ndarray, expected: np.ndarray, starts: pd.DatetimeIndex) -> Any:
    codes, uniques = pd.factorize(pd.MultiIndex.from_arrays([currency, keys.to_numpy()]))
    sums = np.column_stack([np.bincount(codes, weights=col, minlength=len(uniques)) for col in expected.T])
    out = pd.DataFrame(sums, index=uniques, columns=starts)
    out.index.names = ["currency", keys.name]
    return out.sort_index()


def _worklist_paid_by(scores: pd.DataFrame, day: pd.Timestamp, end_days: np.ndarray) -> np.ndarray:
    """P(paid within each of ``end_days``) from a worklist: a monotone curve through its P10/P50/P90 payment dates
    and its P(paid within 30/60/90 days), linear between them and flat after the last."""
    check_worklist(scores, _WORKLIST, "cash_inflow (or pass the fitted engine itself)")
    n = len(scores)
    days = np.column_stack(
        [np.zeros(n)]
        + [(scores[c] - day).dt.days.to_numpy(dtype=np.float64) for c in ("pay_p10", "pay_p50", "pay_p90")]
        + [np.full(n, float(d)) for d in (30, 60, 90)]
    )
    prob = np.column_stack(
        [np.zeros(n), *(np.full(n, q) for q in (0.1, 0.5, 0.9))]
        + [scores[f"p_paid_{d}d"].to_numpy(dtype=np.float64) for d in (30, 60, 90)]
    )
    order = np.argsort(days, axis=1, kind="stable")
    days = np.take_along_axis(days, order, axis=1)
    prob = np.maximum.accumulate(np.take_along_axis(prob, order, axis=1), axis=1)
    rows = np.arange(n)
    out = np.empty((n, len(end_days)))
    for j, e in enumerate(end_days.astype(np.float64)):
        i = np.maximum((days <= e).sum(axis=1) - 1, 0)
        k = np.minimum(i + 1, days.shape[1] - 1)
        gap = days[rows, k] - days[rows, i]
        frac = np.where(gap > 0, np.clip((e - days[rows, i]) / np.where(gap > 0, gap, 1.0), 0.0, 1.0), 0.0)
        out[:, j] = prob[rows, i] + frac * (prob[rows, k] - prob[rows, i])
    return np.clip(out, 0.0, 1.0)


def _book(source: Any, ledger: Any, as_of: Any, horizon: int, freq: str, segments: bool) -> tuple[Any, ...]:
    """(day, period starts, period ends, open lines, P(paid by each end), segment per line or None)."""
    from payrisk.ledger import to_date

    if isinstance(source, pd.DataFrame):
        day = to_date(as_of, "as_of")
        starts, ends = period_edges(day, horizon, freq)
        seg = source["segment"].to_numpy(dtype=object) if segments and "segment" in source.columns else None
        return day, starts, ends, source, _worklist_paid_by(source, day, ends), seg
    snap, day, starts, ends, inv, cdf = open_book(source, ledger, as_of, horizon, freq)
    seg = None
    if segments and source.segmenter_ is not None:
        found = source.segmenter_.predict(snap, day)["segment"]
        seg = found.reindex(inv["customer_id"].to_numpy()).fillna("new").to_numpy(dtype=object)
    return day, starts, ends, inv, cdf, seg


@ledger_first(("scores_or_engine", "ledger"))
def cash_inflow(
    ledger: Ledger | None,
    scores_or_engine: RiskEngine | pd.DataFrame,
    as_of: Any,
    horizon_weeks: int = 13,
    freq: str = "W",
    levels: tuple[float, float] = (0.1, 0.9),
    period_correlation: float = 0.1,
    threshold: float | dict[str, float] | None = None,
    segments: bool = True,
) -> CashForecast:
    """Expected cash per period from the items open at the end of ``as_of``, with intervals and dry periods.

    Parameters
    ----------
    ledger : Ledger or None
        The ledger the engine scores (not read when a worklist is given; pass None).
    scores_or_engine : RiskEngine or DataFrame
        A fitted engine: its weekly and payment-time models give each open invoice's payment-date
        distribution (the better forecast). Or the worklist that ``RiskEngine.score`` returned for ``as_of``:
        each invoice's curve then runs through its P10/P50/P90 payment dates and P(paid within 30/60/90 days),
        which is coarser (for an application that keeps worklists, not engines).
    as_of : date
        The forecast date; periods start the day after.
    horizon_weeks : int, default 13
        Number of periods (weeks for ``freq="W"``, days for "D", calendar months for "M").
    levels : (float, float), default (0.1, 0.9)
        The interval (P10-P90 by default) for every period and for the cumulative curve.
    period_correlation : float, default 0.1
        ``rho`` of the shared period factor; 0 treats invoices as independent (too narrow). Use the value that
        :func:`payrisk.backtest.backtest_forecast` calibrates on your own history
        (``ForecastBacktest.period_correlation``).
    threshold : float or dict, optional
        Planned outflows per period (one number, or one per currency): periods whose expected inflow, or the
        low end of its interval, falls below are flagged dry.
    segments : bool, default True
        Also break the expected inflow down by payer segment (runs the engine's segmenter).

    Returns
    -------
    CashForecast

    Examples
    --------
    >>> import payrisk as pr
    >>> ledger = pr.datasets.make_ledger(n_customers=300, seed=1)
    >>> engine = pr.RiskEngine(history_days=365).fit(ledger, "2024-03-31")
    >>> fc = pr.forecast.cash_inflow(ledger, engine, "2024-03-31", horizon_weeks=4, segments=False)
    >>> fc.periods[["currency", "period_start", "expected", "low", "high"]].shape
    (12, 5)
    """
    OpenBook.check_interval(levels, period_correlation)  # before the book is made
    book = OpenBook.of(ledger, scores_or_engine, as_of, horizon_weeks, freq, segments)
    return book.forecast(as_of, horizon_weeks, freq, levels, period_correlation, threshold)


@dataclass
class OpenBook:
    """What a forecast needs of the open items at a date, as sums per payment-curve bin, customer and segment.

    The books of disjoint sets of invoices add up (:meth:`combine`): a Dask ledger's customer partitions each make
    their book and only these sums travel (:func:`payrisk.distributed.cash_inflow`). :meth:`forecast` turns a book
    into the :class:`CashForecast`; :func:`cash_inflow` is ``OpenBook.of(...).forecast(...)``.

    Examples
    --------
    >>> import payrisk as pr
    >>> ledger = pr.datasets.make_ledger(n_customers=120, seed=1)
    >>> engine = pr.RiskEngine(n_estimators=20, reasons_top_n=0, forecast_weeks=0).fit(ledger, "2024-03-31")
    >>> worklist = engine.score(ledger, "2024-03-31")
    >>> half = worklist["customer_id"].isin(worklist["customer_id"].unique()[::2])
    >>> parts = [OpenBook.of(None, worklist.loc[m], "2024-03-31", 4) for m in (half, ~half)]
    >>> whole = OpenBook.of(None, worklist, "2024-03-31", 4)
    >>> a = OpenBook.combine(parts).forecast("2024-03-31", 4).periods["expected"]
    >>> bool(np.allclose(a, whole.forecast("2024-03-31", 4).periods["expected"]))
    True
    """

    bins: pd.DataFrame  #: per (currency, bin): a1, a2, w0, w1, ... (see _bin_sums)
    by_customer: pd.DataFrame
    by_segment: pd.DataFrame
    n_invoices: int

    @classmethod
    def of(
        cls,
        ledger: Ledger | None,
        scores_or_engine: RiskEngine | pd.DataFrame,
        as_of: Any,
        horizon_weeks: int = 13,
        freq: str = "W",
        segments: bool = True,
    ) -> OpenBook:
        """The book of the items open at the end of ``as_of`` (see :func:`cash_inflow` for the arguments)."""
        _, starts, _, inv, cdf, seg = _book(scores_or_engine, ledger, as_of, horizon_weeks, freq, segments)
        amount, currency, expected = expected_by_period(inv, cdf)
        by_customer = _group_expected(inv["customer_id"].rename("customer_id"), currency, expected, starts)
        by_segment = pd.DataFrame()
        if seg is not None:
            by_segment = _group_expected(pd.Series(seg, name="segment"), currency, expected, starts)
        return cls(_bin_sums(cdf, amount, currency), by_customer, by_segment, len(amount))

    @staticmethod
    def check_interval(levels: tuple[float, float], period_correlation: float) -> np.ndarray:
        """The interval levels as an array, or a clear error for levels or a period correlation out of range: the
        one check of :func:`cash_inflow`, :meth:`forecast` and :func:`payrisk.distributed.cash_inflow`, made before
        any book is computed.

        Examples
        --------
        >>> OpenBook.check_interval((0.1, 0.9), 0.1).tolist()
        [0.1, 0.9]
        """
        if not 0 <= period_correlation < 1:
            raise ParameterError(f"The 'period_correlation' parameter must be in [0, 1). Got {period_correlation}.")
        lv = np.asarray(levels, dtype=np.float64)
        if lv.shape != (2,) or not (0 < lv[0] < lv[1] < 1):
            raise ParameterError(f"The 'levels' parameter must be two probabilities, low < high. Got {levels}.")
        return lv

    @classmethod
    def empty(cls) -> OpenBook:
        """The book of no open items."""
        return cls(pd.DataFrame(), pd.DataFrame(), pd.DataFrame(), 0)

    @classmethod
    def combine(cls, books: list[OpenBook]) -> OpenBook:
        """One book from the books of disjoint sets of open items."""

        def add(frames: list[pd.DataFrame]) -> pd.DataFrame:
            frames = [f for f in frames if len(f)]
            if not frames:
                return pd.DataFrame()
            both = pd.concat(frames)
            return both.groupby(level=list(range(both.index.nlevels))).sum().sort_index()

        return cls(
            add([b.bins for b in books]),
            add([b.by_customer for b in books]),
            add([b.by_segment for b in books]),
            sum(b.n_invoices for b in books),
        )

    def forecast(
        self,
        as_of: Any,
        horizon_weeks: int = 13,
        freq: str = "W",
        levels: tuple[float, float] = (0.1, 0.9),
        period_correlation: float = 0.1,
        threshold: float | dict[str, float] | None = None,
    ) -> CashForecast:
        """The cash forecast of this book (see :func:`cash_inflow` for the arguments)."""
        from payrisk.ledger import to_date

        lv = self.check_interval(levels, period_correlation)
        day = to_date(as_of, "as_of")
        starts, ends = period_edges(day, horizon_weeks, freq)
        return _assemble(self, day, starts, ends, freq, lv, period_correlation, threshold)


def _assemble(
    book: OpenBook,
    day: pd.Timestamp,
    starts: pd.DatetimeIndex,
    ends: np.ndarray,
    freq: str,
    lv: np.ndarray,
    period_correlation: float,
    threshold: float | dict[str, float] | None,
) -> CashForecast:
    """The forecast of a book: totals per currency and period, their intervals and the dry periods."""
    frames, beyond = [], {}
    currencies = sorted(pd.unique(book.bins.index.get_level_values("currency"))) if len(book.bins) else []
    for cur in currencies:
        sums = book.bins.loc[book.bins.index.get_level_values("currency") == cur].droplevel("currency")
        per_q, cum_q = total_quantiles(_bins_from_sums(sums), period_correlation, lv)
        cum_exp = sums.drop(columns=["a1", "a2"]).sum().to_numpy()  # sum of amount x P(paid by each end)
        exp_cur = np.diff(cum_exp, prepend=0.0)
        beyond[cur] = float(sums["a1"].sum() - cum_exp[-1])
        frames.append(
            pd.DataFrame(
                {
                    "currency": cur,
                    "period_start": starts,
                    "period_end": day + pd.to_timedelta(ends, unit="D"),
                    "expected": exp_cur,
                    "low": np.minimum(per_q[0], exp_cur),
                    "high": np.maximum(per_q[1], exp_cur),
                    "cum_expected": cum_exp,
                    "cum_low": np.minimum(cum_q[0], cum_exp),
                    "cum_high": np.maximum(cum_q[1], cum_exp),
                }
            )
        )
    periods = pd.concat(frames, ignore_index=True) if frames else _empty_periods()
    limit = _threshold(threshold, periods["currency"])
    periods["dry"] = periods["expected"].to_numpy() < limit
    periods["dry_low"] = periods["low"].to_numpy() < limit
    return CashForecast(
        as_of=day,
        freq=freq,
        levels=(float(lv[0]), float(lv[1])),
        period_correlation=float(period_correlation),
        periods=periods,
        by_customer=book.by_customer,
        by_segment=book.by_segment,
        n_invoices=book.n_invoices,
        meta={"beyond_horizon": beyond},
    )


def _empty_periods() -> pd.DataFrame:
    cols = ["currency", "period_start", "period_end", "expected", "low", "high", "cum_expected", "cum_low", "cum_high"]
    return pd.DataFrame({c: pd.Series(dtype="float64") for c in cols})


def _threshold(threshold: float | dict[str, float] | None, currency: pd.Series) -> np.ndarray:
    if threshold is None:
        return np.full(len(currency), -np.inf)
    if isinstance(threshold, dict):
        return currency.map(threshold).fillna(-np.inf).to_numpy(dtype=np.float64)
    return np.full(len(currency), float(threshold))


def __getattr__(name: str) -> Any:
    """``backtest_forecast`` and ``ForecastBacktest`` moved to :mod:`payrisk.backtest` (backtests refit the engine,
    which sits above the forecast); the old names work for one release with a ``DeprecationWarning``."""
    if name in ("backtest_forecast", "ForecastBacktest"):
        import warnings

        from payrisk import backtest

        warnings.warn(
            f"payrisk.forecast.{name} moved to payrisk.backtest.{name}; the old name goes in the next release.",
            DeprecationWarning,
            stacklevel=2,
        )
        return getattr(backtest, name)
    raise AttributeError(f"module 'payrisk.forecast' has no attribute {name!r}")
