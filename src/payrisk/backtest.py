"""Backtests: refit at rolling origins on what was known then, score on what came after, beside the baselines.

:func:`backtest_forecast` replays the cash-inflow forecast against the baselines a treasurer would use;
:func:`time_backtest` refits a late-payment or payment-time model at rolling origins beside the prior. Backtests
refit the engine, so they sit above it in payrisk's layers (the forecast and the metrics they use sit below)."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import pandas as pd

from payrisk.errors import ParameterError
from payrisk.forecast import expected_by_period, open_book, payment_curve_bins, total_quantiles

if TYPE_CHECKING:
    from payrisk.engine import RiskEngine
    from payrisk.ledger import Ledger

__all__ = ["ForecastBacktest", "backtest_forecast", "time_backtest"]

#: the period-correlation values tried when calibrating on earlier origins
RHO_GRID: tuple[float, ...] = (0.0, 0.01, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5)
METHODS = ("payrisk", "due_date", "due_plus_delay", "ets")
BUCKETS: tuple[tuple[str, int, int], ...] = (("1-4", 1, 4), ("5-13", 5, 13))


@dataclass
class ForecastBacktest:
    """Per (origin, currency, period): the actual inflow and every method's forecast; metrics per horizon bucket.

    Attributes
    ----------
    cells : DataFrame
        ``origin``, ``currency``, ``period`` (1 = first), ``actual``, one column per method (point forecast),
        ``payrisk_low``/``payrisk_high`` (calibrated interval), ``independent_low``/``independent_high``
        (rho = 0), ``ets_low``/``ets_high`` and ``rho`` (the period correlation used at that origin, calibrated
        on the periods of earlier origins that had ended by then).
    metrics : DataFrame
        WAPE, MAE, interval coverage and pinball loss per method, horizon bucket and currency.
    period_correlation : float
        The rho that fits all origins: pass it to :func:`~payrisk.forecast.cash_inflow`.

    Examples
    --------
    A tiny hand-made result (:func:`backtest_forecast` computes real ones):

    >>> cells = pd.DataFrame({"origin": pd.Timestamp("2024-06-30"), "currency": "EUR", "period": [1, 2],
    ...                       "actual": [900.0, 300.0], "payrisk": [850.0, 350.0]})
    >>> bt = ForecastBacktest(cells=cells, metrics=pd.DataFrame(), period_correlation=0.1, levels=(0.1, 0.9))
    >>> float((bt.cells["actual"] - bt.cells["payrisk"]).abs().sum() / bt.cells["actual"].sum())  # WAPE
    0.08333333333333333
    """

    cells: pd.DataFrame
    metrics: pd.DataFrame
    period_correlation: float
    levels: tuple[float, float]
    notes: list[str] = field(default_factory=list)


def _open_at(inv: pd.DataFrame, day: pd.Timestamp) -> np.ndarray:
    return ((inv["issue_date"] <= day) & ~(inv["paid_date"] <= day)).to_numpy(dtype=bool)


def _actuals(ledger: Ledger, day: pd.Timestamp, ends: np.ndarray) -> pd.Series:
    """Cash received per (currency, period) after ``day`` on the invoices open at ``day``."""
    inv, pay = ledger.invoices, ledger.payments
    at = ledger.invoice_positions("payments")
    open_now = _open_at(inv, day)
    after = (pay["payment_date"] - day).dt.days.to_numpy(dtype=np.float64, na_value=np.nan)
    ok = (at >= 0) & (after >= 1) & (after <= ends[-1])
    ok[ok] = open_now[at[ok]]
    period = np.searchsorted(ends, after[ok], side="left") + 1
    frame = pd.DataFrame(
        {
            "currency": inv["currency"].to_numpy(dtype=object)[at[ok]],
            "period": period,
            "actual": pay["amount"].to_numpy(dtype=np.float64)[ok],
        }
    )
    return frame.groupby(["currency", "period"])["actual"].sum()


def _place(currency: np.ndarray, amount: np.ndarray, days_after: np.ndarray, ends: np.ndarray) -> pd.Series:
    """A point forecast: each amount in the period of its expected payment day (the first period at the least)."""
    days = np.maximum(np.ceil(days_after), 1)
    inside = days <= ends[-1]
    period = np.searchsorted(ends, days[inside], side="left") + 1
    frame = pd.DataFrame({"currency": currency[inside], "period": period, "value": amount[inside]})
    return frame.groupby(["currency", "period"])["value"].sum()


def _customer_delay(ledger: Ledger, day: pd.Timestamp) -> pd.Series:
    """Mean days late of each customer's invoices settled by ``day`` (the treasurer's 'usual delay')."""
    inv = ledger.invoices
    settled = (inv["paid_date"] <= day).to_numpy(dtype=bool)
    late = (inv["paid_date"] - inv["due_date"]).dt.days.to_numpy(dtype=np.float64, na_value=np.nan)
    return pd.Series(late[settled]).groupby(inv["customer_id"].to_numpy(dtype=object)[settled]).mean()


def _runoff_history(ledger: Ledger, day: pd.Timestamp, ends: np.ndarray, n_weeks: int) -> pd.DataFrame:
    """For weekly origins before ``day``: cash in each period after the origin from the items open at it, where
    already known at ``day`` (index: currency, period; columns: origin)."""
    inv, pay = ledger.invoices, ledger.payments
    at = ledger.invoice_positions("payments")
    keep = (at >= 0) & (pay["payment_date"] <= day).to_numpy(dtype=bool, na_value=False)
    pos = at[keep]
    pay_day = pay["payment_date"].to_numpy()[keep]
    issue = inv["issue_date"].to_numpy()[pos]
    amount = pay["amount"].to_numpy(dtype=np.float64)[keep]
    currency = inv["currency"].to_numpy(dtype=object)[pos]
    out = {}
    for j in range(1, n_weeks + 1):
        origin = np.datetime64(day - pd.Timedelta(days=7 * j))
        after = (pay_day - origin).astype("timedelta64[D]").astype(np.int64)
        ok = (issue <= origin) & (after >= 1) & (after <= ends[-1])
        period = np.searchsorted(ends, after[ok], side="left") + 1
        s = pd.DataFrame({"currency": currency[ok], "period": period, "v": amount[ok]})
        out[pd.Timestamp(origin)] = s.groupby(["currency", "period"])["v"].sum()
    index = pd.MultiIndex.from_product(
        [sorted(set(inv["currency"].dropna())), range(1, len(ends) + 1)], names=["currency", "period"]
    )
    hist = pd.DataFrame(out).reindex(index).sort_index(axis=1).fillna(0.0)
    periods = hist.index.get_level_values("period").to_numpy()
    for col in hist.columns:  # a period not yet over at ``day`` is unknown, not zero
        hist.loc[col + pd.to_timedelta(ends[periods - 1], unit="D") > day, col] = np.nan
    return hist


def _ets(history: pd.DataFrame, ends: np.ndarray, levels: tuple[float, float]) -> pd.DataFrame:
    """AutoETS-style baseline: per (currency, period) series over weekly origins, the best of a few additive
    ETS models by AIC, forecast to this origin (the series ends ``period`` weeks back)."""
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    rows = []
    for key, series in history.iterrows():
        cur, k = cast("tuple[str, int]", key)  # the index: (currency, period)
        y = series.dropna().to_numpy(dtype=np.float64)
        steps = max(int(np.ceil(ends[k - 1] / 7)), 1)
        if len(y) < 8:
            rows.append((cur, k, np.nan, np.nan, np.nan))
            continue
        best = None
        for trend, damped in ((None, False), ("add", True)):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                try:
                    fit = ETSModel(pd.Series(y), error="add", trend=trend, damped_trend=damped).fit(disp=False)
                except (ValueError, np.linalg.LinAlgError):
                    continue
            if best is None or fit.aic < best.aic:
                best = fit
        if best is None:
            rows.append((cur, k, np.nan, np.nan, np.nan))
            continue
        frame = best.get_prediction(start=len(y), end=len(y) + steps - 1).summary_frame(
            alpha=1 - (levels[1] - levels[0])
        )
        last = frame.iloc[-1]
        rows.append((cur, k, max(last["mean"], 0.0), max(last["pi_lower"], 0.0), max(last["pi_upper"], 0.0)))
    return pd.DataFrame(rows, columns=["currency", "period", "ets", "ets_low", "ets_high"]).set_index(
        ["currency", "period"]
    )


def _coverage_by_rho(cells: pd.DataFrame) -> pd.Series:
    covered = {}
    for rho in RHO_GRID:
        lo, hi = cells[f"q_low_{rho}"], cells[f"q_high_{rho}"]
        covered[rho] = float(((cells["actual"] >= lo) & (cells["actual"] <= hi)).mean())
    return pd.Series(covered)


def _best_rho(cells: pd.DataFrame, nominal: float) -> float:
    if cells.empty:
        return 0.0
    cov = _coverage_by_rho(cells)
    return float(cast("float", (cov - nominal).abs().idxmin()))  # the index: the rho grid


def _rho_at_origins(cells: pd.DataFrame, origins: list[pd.Timestamp], nominal: float) -> dict[pd.Timestamp, float]:
    """The period correlation each origin uses: calibrated on what was known at it, the cells (with their
    ``period_end``) of earlier origins whose period had ended by then."""
    return {origin: _best_rho(cells.loc[cells["period_end"] <= origin], nominal) for origin in origins}


def backtest_forecast(
    ledger: Ledger,
    origins: Any = None,
    horizon_weeks: int = 13,
    engine: RiskEngine | None = None,
    levels: tuple[float, float] = (0.1, 0.9),
    n_origins: int = 8,
    step_weeks: int = 4,
    ets_weeks: int = 104,
    progress: Any = None,
) -> ForecastBacktest:
    """Rolling origins over the history: refit the engine at each origin, forecast, compare with what came in.

    Each origin gets an engine fitted on what was known at it (``engine`` is the template; default
    ``RiskEngine()``), and the baselines a treasurer would use: (a) every open amount on its due date
    (overdue ones in the first period), (b) the due date plus the customer's average delay so far, (c) an ETS
    model of the weekly run-off series (cash k weeks after each past weekly origin, per currency; the best of
    simple and damped-trend additive ETS by AIC, statsmodels). The interval's period correlation at each origin is
    the one that gave the nominal coverage on what was known at it: the periods of earlier origins that had ended
    by then (0 at the first origin), so coverage is measured out of sample.

    Parameters
    ----------
    ledger : Ledger
        The full history (outcomes after each origin are read from it).
    origins : list of dates, optional
        Default: ``n_origins`` origins ``step_weeks`` apart, the last one ``horizon_weeks`` before the end of
        the data.

    Examples
    --------
    >>> import payrisk as pr
    >>> ledger = pr.datasets.make_ledger(n_customers=150, seed=0)
    >>> engine = pr.RiskEngine(n_estimators=30, reasons_top_n=0, history_days=365, forecast_weeks=0)
    >>> bt = backtest_forecast(ledger, horizon_weeks=4, n_origins=2, engine=engine, ets_weeks=10)
    >>> bt.cells["origin"].nunique(), {"payrisk", "due_date", "due_plus_delay"} <= set(bt.metrics["method"])
    (2, True)
    >>> bt.period_correlation in RHO_GRID
    True
    """
    from sklearn.base import clone

    from payrisk.engine import RiskEngine

    template = engine if engine is not None else RiskEngine()
    end = ledger.end_date
    if end is None:  # no dates at all: nothing to backtest
        raise ParameterError("The ledger has no invoices or payments to backtest a forecast on.")
    if origins is None:
        last = end - pd.Timedelta(weeks=horizon_weeks)
        origins = [last - pd.Timedelta(weeks=step_weeks * i) for i in range(n_origins)][::-1]
    origins = [pd.Timestamp(o).normalize() for o in origins]
    if any(o + pd.Timedelta(weeks=horizon_weeks) > end for o in origins):
        raise ParameterError(
            f"Every origin needs {horizon_weeks} weeks of outcomes before the end of the data ({end.date()})."
        )
    report = progress or (lambda *a: None)
    lv = np.asarray(levels, dtype=np.float64)
    notes: list[str] = []
    frames = []
    for i, origin in enumerate(origins):
        report(f"origin {origin.date()}", i, len(origins))
        fitted = clone(template).fit(ledger, origin)
        _, _, _, ends, inv, cdf = open_book(fitted, ledger, origin, horizon_weeks, "W")
        amount, currency, expected = expected_by_period(inv, cdf)
        bins = {c: payment_curve_bins(cdf[currency == c], amount[currency == c]) for c in sorted(set(currency))}
        index = pd.MultiIndex.from_product(
            [sorted(set(currency)), range(1, horizon_weeks + 1)], names=["currency", "period"]
        )
        cell = pd.DataFrame(index=index)
        cell["actual"] = _actuals(ledger, origin, ends).reindex(index).fillna(0.0)
        cell["payrisk"] = np.concatenate([expected[currency == c].sum(axis=0) for c in sorted(set(currency))])
        for rho in RHO_GRID:
            q = [total_quantiles(bins[c], rho, lv)[0] for c in sorted(set(currency))]
            cell[f"q_low_{rho}"] = np.concatenate([x[0] for x in q])
            cell[f"q_high_{rho}"] = np.concatenate([x[1] for x in q])
        due_days = (inv["due_date"] - origin).dt.days.to_numpy(dtype=np.float64)
        cell["due_date"] = _place(currency, amount, due_days, ends).reindex(index).fillna(0.0)
        delay = _customer_delay(ledger.as_of(origin), origin)
        overall = float(delay.mean()) if len(delay) else 0.0
        cust_delay = delay.reindex(inv["customer_id"].to_numpy(dtype=object)).fillna(overall).to_numpy()
        cell["due_plus_delay"] = _place(currency, amount, due_days + cust_delay, ends).reindex(index).fillna(0.0)
        try:
            ets = _ets(_runoff_history(ledger, origin, ends, ets_weeks), ends, levels)
            cell = cell.join(ets)
        except ImportError:
            cell["ets"] = cell["ets_low"] = cell["ets_high"] = np.nan
            if "statsmodels is not installed: the ETS baseline is left out." not in notes:
                notes.append("statsmodels is not installed: the ETS baseline is left out.")
        cell["origin"] = origin
        cell["period_end"] = origin + pd.to_timedelta(np.tile(ends, len(cell) // len(ends)), unit="D")
        frames.append(cell.reset_index())
    report("done", len(origins), len(origins))
    cells = pd.concat(frames, ignore_index=True)
    nominal = lv[1] - lv[0]
    cells["rho"] = cells["origin"].map(_rho_at_origins(cells, origins, nominal))
    pick = {rho: (cells["rho"] == rho).to_numpy() for rho in RHO_GRID}
    cells["payrisk_low"] = sum(np.where(m, cells[f"q_low_{r}"], 0.0) for r, m in pick.items())
    cells["payrisk_high"] = sum(np.where(m, cells[f"q_high_{r}"], 0.0) for r, m in pick.items())
    cells["independent_low"], cells["independent_high"] = cells["q_low_0.0"], cells["q_high_0.0"]
    calibrated = _best_rho(cells, nominal)
    cells = cells.drop(columns=[c for c in cells.columns if c.startswith("q_") or c == "period_end"])
    return ForecastBacktest(
        cells=cells,
        metrics=_metrics(cells, lv),
        period_correlation=calibrated,
        levels=(float(lv[0]), float(lv[1])),
        notes=notes,
    )


def _pinball(y: np.ndarray, q: np.ndarray, level: float) -> float:
    d = y - q
    return float(np.mean(np.maximum(level * d, (level - 1) * d)))


def _metrics(cells: pd.DataFrame, levels: np.ndarray) -> pd.DataFrame:
    rows = []
    intervals = {"payrisk": "payrisk", "independent": "independent", "ets": "ets"}
    for cur, by_cur in cells.groupby("currency"):
        for bucket, a, b in BUCKETS:
            part = by_cur.loc[by_cur["period"].between(a, b)]
            y = part["actual"].to_numpy()
            for method in [*METHODS, "independent"]:
                point = part["payrisk" if method == "independent" else method].to_numpy(dtype=np.float64)
                if np.isnan(point).all():
                    continue
                row = {
                    "currency": cur,
                    "horizon": bucket,
                    "method": method,
                    "wape": float(np.nansum(np.abs(y - point)) / max(np.abs(y).sum(), 1e-12)),
                    "mae": float(np.nanmean(np.abs(y - point))),
                    "n": len(y),
                }
                if method in intervals:
                    lo = part[f"{intervals[method]}_low"].to_numpy(dtype=np.float64)
                    hi = part[f"{intervals[method]}_high"].to_numpy(dtype=np.float64)
                    row["coverage"] = float(np.mean((y >= lo) & (y <= hi)))
                    row["pinball"] = (
                        _pinball(y, lo, levels[0]) + _pinball(y, point, 0.5) + _pinball(y, hi, levels[1])
                    ) / 3
                rows.append(row)
    return pd.DataFrame(rows)


# -- rolling-origin backtests --------------------------------------------------------------------------------
def time_backtest(
    ledger: Ledger,
    origins: Any,
    target: str = "late",
    horizon_days: int = 90,
    model_factory: Callable[[], Any] | None = None,
    n_boot: int = 100,
) -> pd.DataFrame:
    """Rolling-origin backtest: at each origin, train on what is known then, test on what happens after.

    For each origin ``D``: features are point-in-time (``invoice_features(ledger, "issue_date")``), the model
    is trained on invoices issued on or before ``D`` with the outcomes known at the end of ``D`` (for lateness:
    only invoices already due by ``D``, whose outcome is decided whatever it is; among invoices not yet due only
    the early payers have a label, which would bias the most recent rows, i.e. the calibration slice), and tested
    on invoices issued in ``(D, D + horizon_days]`` with the outcomes known at the end of the ledger.

    Parameters
    ----------
    ledger : Ledger
    origins : list of dates
    target : {"late", "days_to_pay"}
        ``"late"``: AUC, Brier, ECE (with bootstrap intervals) beside the customer's prior late share.
        ``"days_to_pay"``: Harrell's and Uno's C and the censoring-aware coverage of the P10-P90 interval on the test
        invoices, the pinball loss of the median on those paid, beside the prior mean days late.
    horizon_days : int
    model_factory : callable, optional
        Returns an unfitted model (default: ``LatePaymentClassifier()`` or ``PaymentTimeModel()``).
    n_boot : int
        Bootstrap resamples (customers resampled whole) for the intervals.

    Returns
    -------
    DataFrame
        One row per origin and metric: ``origin``, ``metric``, ``model``, ``ci_low``, ``ci_high``, ``baseline``,
        ``n_train``, ``n_test``.

    Examples
    --------
    >>> import payrisk as pr
    >>> ledger = pr.datasets.make_ledger(n_customers=150, seed=0)
    >>> bt = time_backtest(ledger, ["2024-06-30"], n_boot=20)
    >>> bt["metric"].tolist()
    ['auc', 'brier', 'ece']
    >>> bool((bt["ci_low"] <= bt["model"]).all() and (bt["model"] <= bt["ci_high"]).all())
    True
    """
    from payrisk import features, labels, models
    from payrisk.evaluation import (
        auc,
        bootstrap_ci,
        brier,
        concordance_index,
        concordance_index_ipcw,
        ece,
        interval_coverage,
        pinball_loss,
    )
    from payrisk.ledger import to_date

    if target not in ("late", "days_to_pay"):
        raise ParameterError(f"The 'target' parameter must be 'late' or 'days_to_pay'. Got {target!r}.")
    X = features.invoice_features(ledger, "issue_date")
    issue = X["as_of"] + pd.Timedelta(days=1)
    rows = []
    for origin in origins:
        day = to_date(origin, "origins")
        test_mask = (issue > day) & (issue <= day + pd.Timedelta(days=horizon_days))
        if target == "late":
            y_tr = labels.late_payment(ledger, as_of=day, mature_only=True)
            Xtr = X.loc[X.index.isin(y_tr.index)]
            y_all = labels.late_payment(ledger)
            Xte = X.loc[test_mask & X.index.isin(y_all.index)]
            model = (model_factory or models.LatePaymentClassifier)().fit(Xtr, y_tr.loc[Xtr.index])
            yt = y_all.loc[Xte.index].to_numpy()
            p = model.predict_proba(Xte)[:, 1]
            prior = Xte["share_late"].fillna(float(np.nanmean(Xtr["share_late"])))
            groups = Xte["customer_id"].to_numpy()
            for name, fn in (("auc", auc), ("brier", brier), ("ece", ece)):
                v, lo, hi = bootstrap_ci(fn, yt, p, n_boot=n_boot, groups=groups)
                rows.append(
                    {
                        "origin": day,
                        "metric": name,
                        "model": v,
                        "ci_low": lo,
                        "ci_high": hi,
                        "baseline": fn(yt, prior.to_numpy()),
                        "n_train": len(Xtr),
                        "n_test": len(Xte),
                    }
                )
        else:
            tr = labels.days_to_pay(ledger, as_of=day)
            Xtr = X.loc[cast("pd.Index", tr.index)]  # days_to_pay indexes its target by the invoices' index
            full = labels.days_to_pay(ledger).to_frame()
            Xte = X.loc[test_mask]
            observed = full.loc[Xte.index]
            model = (model_factory or models.PaymentTimeModel)().fit(Xtr, tr)
            q = model.predict_quantiles(Xte, [0.1, 0.5, 0.9])
            d, e = observed["duration"].to_numpy(), observed["event"].to_numpy()
            prior = Xte["days_late_mean"].fillna(float(np.nanmean(Xtr["days_late_mean"])))
            res = {
                "c_index": (concordance_index(d, e, q[0.5]), concordance_index(d, e, prior + Xte["terms_days"])),
                "c_index_uno": (
                    concordance_index_ipcw(d, e, q[0.5]),
                    concordance_index_ipcw(d, e, prior + Xte["terms_days"]),
                ),
                "coverage_80": (interval_coverage(d, q[0.1], q[0.9], event=e), np.nan),
                "pinball_50": (pinball_loss(d[e], q[0.5][e], 0.5), np.nan),
            }
            for name, (v, b) in res.items():
                rows.append(
                    {
                        "origin": day,
                        "metric": name,
                        "model": v,
                        "ci_low": np.nan,
                        "ci_high": np.nan,
                        "baseline": b,
                        "n_train": len(Xtr),
                        "n_test": len(Xte),
                    }
                )
    return pd.DataFrame(rows)
