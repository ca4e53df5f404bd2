"""Figures people would rather look at than tables: calibration, gains, reasons, segments, shades of red.

Every function returns a :class:`matplotlib.figure.Figure` (drawn with the non-interactive Agg canvas, so it
works on servers and in CI) and accepts ``ax=`` to draw into an existing axes instead.

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0); p = rng.random(500); y = rng.random(500) < p
>>> fig = calibration_curve(y, p)
>>> fig.axes[0].get_xlabel()
'predicted probability'
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from payrisk.errors import ParameterError

__all__ = [
    "ageing_chart",
    "calibration_curve",
    "drift_panel",
    "effect_forest",
    "forecast_fan",
    "gains_chart",
    "kpi_trend_chart",
    "priority_heat_list",
    "reason_waterfall",
    "segment_map",
]

SEGMENT_COLOURS = {
    "reliable": "#2e7d32",
    "forgetful": "#1565c0",
    "struggling": "#ef6c00",
    "chronic": "#b71c1c",
    "new": "#9e9e9e",
}


def _axes(ax: Any = None, size: tuple[float, float] = (6.0, 4.5)) -> tuple[Any, Any]:
    from matplotlib.figure import Figure

    if ax is not None:
        return ax.figure, ax
    fig = Figure(figsize=size, layout="constrained")
    return fig, fig.add_subplot()


def calibration_curve(y: Any, p: Any, n_bins: int = 10, label: str = "model", ax: Any = None) -> Any:
    """Observed rate against mean predicted probability per quantile bin, with the diagonal.

    Examples
    --------
    >>> rng = np.random.default_rng(0); p = rng.random(500); y = rng.random(500) < p
    >>> fig = calibration_curve(y, p, n_bins=5)
    >>> fig.axes[0].get_title(), len(fig.axes[0].lines[1].get_xdata())  # one point per bin
    ('Calibration', 5)
    """
    from sklearn.calibration import calibration_curve as curve

    observed, predicted = curve(
        np.asarray(y, dtype=int), np.asarray(p, dtype=float), n_bins=n_bins, strategy="quantile"
    )
    fig, ax = _axes(ax)
    ax.plot([0, 1], [0, 1], color="#9e9e9e", linestyle="--", linewidth=1, label="perfectly calibrated")
    ax.plot(predicted, observed, marker="o", label=label)
    ax.set(xlabel="predicted probability", ylabel="observed share", title="Calibration", xlim=(0, 1), ylim=(0, 1))
    ax.legend(loc="upper left")
    return fig


def gains_chart(y: Any, scores: dict[str, Any] | Any, ax: Any = None) -> Any:
    """Cumulative share of positives (late invoices) found against the share of items worked, per ordering.

    Examples
    --------
    >>> rng = np.random.default_rng(0); p = rng.random(500); y = rng.random(500) < p
    >>> fig = gains_chart(y, {"model": p, "amount": rng.random(500)})
    >>> [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    ['model', 'amount', 'random order']
    """
    y = np.asarray(y, dtype=float)
    if not isinstance(scores, dict):
        scores = {"model": scores}
    fig, ax = _axes(ax)
    x = np.arange(1, len(y) + 1) / len(y)
    for name, s in scores.items():
        order = np.argsort(-np.asarray(s, dtype=float), kind="stable")
        ax.plot(x, np.cumsum(y[order]) / max(y.sum(), 1), label=name)
    ax.plot([0, 1], [0, 1], color="#9e9e9e", linestyle="--", linewidth=1, label="random order")
    ax.set(xlabel="share of items worked", ylabel="share of late items found", title="Gains", xlim=(0, 1), ylim=(0, 1))
    ax.legend(loc="lower right")
    return fig


def reason_waterfall(contributions: pd.Series, top: int = 8, ax: Any = None) -> Any:
    """One row's contributions as a waterfall from the base value (``bias``) to the model output.

    ``contributions`` is one row of :func:`payrisk.explain.contributions` (features plus ``bias``); the ``top``
    largest in absolute value are drawn, the rest summed as "other features".

    Examples
    --------
    >>> row = pd.Series({"share_late": 0.8, "amount": -0.3, "days_overdue": 0.4, "n_open": 0.1, "bias": -1.0})
    >>> fig = reason_waterfall(row, top=2)
    >>> fig.axes[0].get_title()
    'Why: from -1.00 to 0.00'
    >>> [t.get_text() for t in fig.axes[0].get_yticklabels()]
    ['share_late', 'days_overdue', 'other features']
    """
    if "bias" not in contributions.index:
        raise ParameterError("reason_waterfall needs one row of payrisk.explain.contributions (with 'bias').")
    base = float(contributions["bias"])
    phi = contributions.drop("bias").astype(float)
    keep = phi.abs().sort_values(ascending=False).index[:top]
    steps = pd.concat([phi.loc[keep], pd.Series({"other features": phi.drop(keep).sum()})])
    fig, ax = _axes(ax, (7.0, 0.45 * len(steps) + 1.5))
    start = base + np.concatenate([[0.0], np.cumsum(steps.to_numpy())[:-1]])
    colours = np.where(steps.to_numpy() > 0, "#c62828", "#2e7d32")
    y = np.arange(len(steps))[::-1]
    ax.barh(y, steps.to_numpy(), left=start, color=colours)
    ax.set_yticks(y, labels=list(steps.index))
    ax.axvline(base, color="#9e9e9e", linewidth=1, linestyle="--")
    ax.set(
        xlabel="contribution to the model output (margin)", title=f"Why: from {base:.2f} to {base + steps.sum():.2f}"
    )
    return fig


def segment_map(segments: pd.DataFrame, ax: Any = None) -> Any:
    """Customers by late share and typical days late, coloured by segment (from ``PayerSegmenter.predict``).

    Examples
    --------
    >>> import payrisk as pr
    >>> ledger = pr.datasets.make_ledger(n_customers=150, seed=0)
    >>> segments = pr.segment.PayerSegmenter().fit_predict(ledger, "2024-06-30")
    >>> fig = segment_map(segments)
    >>> fig.axes[0].get_title(), len(fig.axes[0].collections) == segments["segment"].nunique()
    ('Segments', True)
    """
    need = {"segment", "n_settled", "n_late", "typical_days_late"}
    if not need <= set(segments.columns):
        raise ParameterError(f"segment_map needs the columns {sorted(need)} of PayerSegmenter.predict.")
    fig, ax = _axes(ax)
    share = segments["n_late"] / segments["n_settled"].where(segments["n_settled"] > 0)
    days = segments["typical_days_late"].fillna(0)
    for name, colour in SEGMENT_COLOURS.items():
        sel = (segments["segment"] == name).to_numpy()
        if sel.any():
            ax.scatter(share[sel], days[sel], s=10, alpha=0.6, color=colour, label=f"{name} ({sel.sum()})")
    ax.set(xlabel="share of settled invoices paid late", ylabel="typical days late", title="Segments")
    ax.set_yscale("symlog", linthresh=5)
    ax.legend(loc="upper left", fontsize="small")
    return fig


def effect_forest(
    by_segment: pd.DataFrame, truth: pd.Series | None = None, meta: dict[str, Any] | None = None, ax: Any = None
) -> Any:
    """Effect per segment with its interval (``ToneEffect.by_segment``), the naive difference beside it and the
    true effect where known (a synthetic world).

    Examples
    --------
    >>> by_segment = pd.DataFrame(
    ...     {"effect": [2.0, -1.5], "ci_low": [0.5, -3.0], "ci_high": [3.5, 0.0], "naive": [4.0, 1.0]},
    ...     index=["chronic", "forgetful"],
    ... )
    >>> fig = effect_forest(by_segment, truth=pd.Series({"chronic": 2.2, "forgetful": -1.0}))
    >>> fig.axes[0].get_title(), [t.get_text() for t in fig.axes[0].get_yticklabels()]
    ('strict vs mild', ['forgetful', 'chronic'])
    """
    fig, ax = _axes(ax, (6.5, 0.6 * len(by_segment) + 1.5))
    names = list(by_segment.index)[::-1]
    y = np.arange(len(names))
    rows = by_segment.loc[names]
    colours = [SEGMENT_COLOURS.get(n, "#424242") for n in names]
    ax.hlines(y, rows["ci_low"], rows["ci_high"], colors=colours, lw=2)
    ax.scatter(rows["effect"], y, color=colours, zorder=3, label="estimate (doubly robust)")
    ax.scatter(rows["naive"], y - 0.2, marker="|", color="#757575", label="difference in means")
    if truth is not None:
        ax.scatter(truth.reindex(names), y, marker="x", color="black", zorder=4, label="truth")
    ax.axvline(0, color="#9e9e9e", lw=0.8)
    meta = meta or {}
    what = f"{meta.get('treated', 'strict')} vs {meta.get('control', 'mild')}"
    ax.set(yticks=y, yticklabels=names, xlabel=f"effect on {meta.get('outcome', 'days late')} (days)", title=what)
    ax.legend(loc="best", fontsize="small")
    return fig


def priority_heat_list(worklist: pd.DataFrame, n: int = 30, ax: Any = None) -> Any:
    """The first ``n`` items of the worklist as bars of expected loss in shades of red, with the customer.

    The shade follows the expected loss of the items shown (darkest: the largest), so the first glance tells how
    steeply the list falls off, which the worklist's own ``red`` rank (all near 1 at the top) cannot.

    Examples
    --------
    >>> worklist = pd.DataFrame(
    ...     {"customer_id": ["c7", "c2", "c7"], "expected_loss": [900.0, 250.0, 40.0]},
    ...     index=pd.Index(["INV-3", "INV-1", "INV-2"], name="invoice_id"),
    ... )
    >>> fig = priority_heat_list(worklist, n=2)
    >>> fig.axes[0].get_title()
    'What first: the 2 reddest items'
    """
    need = {"expected_loss", "customer_id"}
    if not need <= set(worklist.columns):
        raise ParameterError(f"priority_heat_list needs the columns {sorted(need)} of RiskEngine.score.")
    from matplotlib import colormaps

    top = worklist.head(n)
    fig, ax = _axes(ax, (7.0, 0.3 * len(top) + 1.5))
    y = np.arange(len(top))[::-1]
    loss = top["expected_loss"].to_numpy(dtype=float)
    shade = np.log1p(loss) / max(np.log1p(loss).max(), 1e-12)  # the shade of red follows the expected loss
    colours = colormaps["Reds"](0.3 + 0.7 * shade**4)
    ax.barh(y, top["expected_loss"].to_numpy(), color=colours)
    labels = [f"{i}  {c}" for i, c in zip(top.index, top["customer_id"], strict=True)]
    ax.set_yticks(y, labels=labels, fontsize="small")
    ax.set(xlabel="expected loss", title=f"What first: the {len(top)} reddest items")
    return fig


def forecast_fan(forecast: Any, currency: str | None = None, actuals: pd.Series | None = None, ax: Any = None) -> Any:
    """Fan chart of a :class:`~payrisk.forecast.CashForecast`: the inflow per period and the cumulative curve,
    each with its interval, the actual inflow where known (``actuals``: indexed by period start) and the dry
    periods marked.

    Two panels (per period, cumulative) unless ``ax`` is given, when only the per-period panel is drawn.

    Examples
    --------
    >>> import payrisk as pr
    >>> day = pd.Timestamp("2024-06-30")
    >>> worklist = pd.DataFrame({"customer_id": ["c1", "c2"], "currency": "EUR", "open_amount": [1000.0, 400.0],
    ...                          "pay_p10": day + pd.Timedelta(days=3), "pay_p50": day + pd.Timedelta(days=12),
    ...                          "pay_p90": day + pd.Timedelta(days=45), "p_paid_30d": 0.8, "p_paid_60d": 0.95,
    ...                          "p_paid_90d": 0.99})
    >>> fc = pr.forecast.cash_inflow(None, worklist, day, horizon_weeks=6)
    >>> fig = forecast_fan(fc)
    >>> [a.get_title() for a in fig.axes]
    ['cash inflow per period (EUR)', 'cash inflow cumulative (EUR)']
    """
    periods = forecast.periods
    if periods.empty:
        raise ParameterError("forecast_fan: the forecast has no periods (no open items).")
    cur = currency if currency is not None else periods.groupby("currency")["expected"].sum().idxmax()
    f = periods.loc[periods["currency"] == cur]
    if f.empty:
        raise ParameterError(
            f"forecast_fan: no periods in currency {cur!r}; there are {sorted(set(periods['currency']))}."
        )
    if ax is None:
        from matplotlib.figure import Figure

        fig = Figure(figsize=(9.0, 4.2), layout="constrained")
        axes = fig.subplots(1, 2)
    else:
        fig, axes = ax.figure, [ax]
    x = f["period_start"].to_numpy()
    lo, hi = (round(100 * q) for q in forecast.levels)
    panels = [("expected", "low", "high", "per period"), ("cum_expected", "cum_low", "cum_high", "cumulative")]
    for a, (mid, low, high, title) in zip(axes, panels, strict=False):
        a.fill_between(x, f[low], f[high], color="#90caf9", alpha=0.6, label=f"P{lo}-P{hi}")
        a.plot(x, f[mid], color="#0d47a1", marker="o", ms=3, label="expected")
        if actuals is not None:
            act = actuals.reindex(f["period_start"]).to_numpy(dtype=float)
            a.plot(x, act if mid == "expected" else np.nancumsum(act), color="black", ls="--", label="actual")
        a.set(title=f"cash inflow {title} ({cur})", xlabel="period start")
        a.tick_params(axis="x", labelrotation=45, labelsize="small")
        a.yaxis.set_major_formatter(_money_ticks())
    dry = f["dry"].to_numpy() | f["dry_low"].to_numpy()
    if dry.any():
        axes[0].scatter(x[dry], f["expected"].to_numpy()[dry], color="#c62828", zorder=3, label="dry")
    axes[0].legend(fontsize="small")
    return fig


def _money_ticks() -> Any:
    """Axis ticks as money a reader takes in at a glance: 1,200 / 350k / 12.5M (never 1e7)."""
    from matplotlib.ticker import FuncFormatter

    def say(v: float, _: Any) -> str:
        for size, unit in ((1e9, "bn"), (1e6, "M"), (1e3, "k")):
            if abs(v) >= size:
                return f"{v / size:,.3g}{unit}"
        return f"{v:,.0f}"

    return FuncFormatter(say)


def kpi_trend_chart(trend: pd.DataFrame) -> Any:
    """The last months' DSO and ADD, CEI and overdue share per currency and the ageing of the largest currency
    (:func:`payrisk.kpi.kpi_trend`): four panels sharing the month axis.

    Examples
    --------
    >>> idx = pd.MultiIndex.from_product([["EUR"], pd.date_range("2024-01-31", periods=3, freq="ME")],
    ...                                  names=["currency", "as_of"])
    >>> trend = pd.DataFrame({"dso": [40.0, 42.0, 45.0], "add": [10.0, 11.0, 14.0], "cei": [80.0, 78.0, 75.0],
    ...                       "overdue_share": [0.3, 0.32, 0.35], "receivables": [9e5, 1e6, 1.1e6],
    ...                       "current": [0.7, 0.68, 0.65], "1-30": [0.3, 0.32, 0.35]}, index=idx)
    >>> [a.get_title() for a in kpi_trend_chart(trend).axes]
    ['DSO and ADD (days)', 'CEI (month)', 'overdue share', 'ageing (EUR)']
    """
    from matplotlib.figure import Figure

    fig = Figure(figsize=(14.0, 3.4), layout="constrained")
    axes = fig.subplots(1, 4, sharex=True)
    for (cur, rows), colour in zip(trend.groupby(level="currency"), _CURRENCY_COLOURS * 10, strict=False):
        x = rows.index.get_level_values("as_of")
        axes[0].plot(x, rows["dso"], color=colour, marker="o", ms=3, label=f"{cur} DSO")
        axes[0].plot(x, rows["add"], color=colour, ls="--", label=f"{cur} ADD")
        axes[1].plot(x, rows["cei"], color=colour, marker="o", ms=3, label=str(cur))
        axes[2].plot(x, 100 * rows["overdue_share"], color=colour, marker="o", ms=3, label=str(cur))
    buckets = [c for c in ("current", "1-30", "31-60", "61-90", "90+") if c in trend.columns]
    biggest = trend.groupby(level="currency")["receivables"].last().idxmax() if "receivables" in trend else None
    if buckets and biggest is not None:  # the ageing of the largest currency's receivables, month by month
        from matplotlib import colormaps

        aged = trend.loc[trend.index.get_level_values("currency") == biggest].droplevel("currency")
        colours = colormaps["RdYlGn_r"](np.linspace(0.1, 0.95, len(buckets)))
        axes[3].stackplot(aged.index, *(100 * aged[b].fillna(0).to_numpy() for b in buckets), labels=buckets,
                          colors=colours)  # fmt: skip
        axes[3].legend(fontsize="x-small", loc="lower left")
        axes[3].yaxis.set_major_formatter("{x:.0f}%")
    titles = ("DSO and ADD (days)", "CEI (month)", "overdue share", f"ageing ({biggest})")
    for a, title in zip(axes, titles, strict=True):
        a.set_title(title)
        a.tick_params(axis="x", labelrotation=45, labelsize="small")
    axes[2].yaxis.set_major_formatter("{x:.0f}%")
    axes[0].legend(fontsize="x-small", ncol=2)
    axes[1].legend(fontsize="x-small")
    return fig


_CURRENCY_COLOURS = ["#0d47a1", "#c62828", "#2e7d32", "#6a1b9a", "#ef6c00"]


def drift_panel(report: Any, top: int = 12) -> Any:
    """Two panels of a :class:`payrisk.monitor.DriftReport`: the features that moved most (PSI, with the
    moderate and major bands) and the calibration drift (the change of observed minus predicted since training)
    per model and segment with its 95% interval; flagged ones in red.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> features = pd.DataFrame({"psi": [0.4, 0.12, 0.01]}, index=["share_late", "amount", "terms_days"])
    >>> cal = pd.DataFrame({"quantity": ["p_late", "p_late"], "segment": ["all", "reliable"],
    ...                     "drift": [0.02, 0.08], "drift_low": [-0.01, 0.05], "drift_high": [0.05, 0.11],
    ...                     "flagged": [False, True]})
    >>> fig = drift_panel(SimpleNamespace(features=features, calibration=cal, score_psi=0.3))
    >>> [ax.get_title() for ax in fig.axes]
    ['feature drift (PSI)', 'calibration drift since training']
    """
    from matplotlib.figure import Figure

    fig = Figure(figsize=(12.0, max(3.5, 0.32 * max(top, len(report.calibration)) + 1.5)), layout="constrained")
    left, right = fig.subplots(1, 2)
    feats = report.features["psi"].head(top)[::-1]
    colours = ["#b71c1c" if v > 0.25 else "#ef6c00" if v > 0.1 else "#2e7d32" for v in feats]
    left.barh(np.arange(len(feats)), feats.to_numpy(), color=colours)
    for x, style in ((0.1, ":"), (0.25, "--")):
        left.axvline(x, color="#616161", lw=0.8, ls=style)
    left.set(yticks=np.arange(len(feats)), yticklabels=list(feats.index), xlabel="PSI", title="feature drift (PSI)")
    left.text(0.98, 0.02, f"P(late) PSI {report.score_psi:.2f}", transform=left.transAxes, ha="right", fontsize=9)
    cal = report.calibration.iloc[::-1]
    y = np.arange(len(cal))
    flag = cal["flagged"].to_numpy(dtype=bool)
    colour = np.where(flag, "#b71c1c", "#424242")
    right.hlines(y, 100 * cal["drift_low"], 100 * cal["drift_high"], colors=colour, lw=2)
    right.scatter(100 * cal["drift"], y, color=colour, zorder=3)
    right.axvline(0, color="#9e9e9e", lw=0.8)
    labels = [f"{q} | {s}" for q, s in zip(cal["quantity"], cal["segment"], strict=True)]
    right.set(
        yticks=y,
        yticklabels=labels,
        xlabel="change in observed - predicted (points; > 0: now too low)",
        title="calibration drift since training",
    )
    return fig


def ageing_chart(aged: pd.DataFrame, ax: Any = None) -> Any:
    """Open receivables per currency split into ageing buckets (:func:`payrisk.kpi.ageing`), as shares of each
    currency's total, from current (green) to the oldest bucket (deep red), with the amounts written on the bars.

    Examples
    --------
    >>> aged = pd.DataFrame({"current": [600.0, 50.0], "1-30": [200.0, 30.0], "31-60": [100.0, 0.0],
    ...                      "61-90": [50.0, 0.0], "90+": [50.0, 20.0], "total": [1000.0, 100.0]},
    ...                     index=pd.Index(["EUR", "USD"], name="currency"))
    >>> fig = ageing_chart(aged)
    >>> fig.axes[0].get_title(), [t.get_text() for t in fig.axes[0].get_yticklabels()]
    ('open receivables by days overdue', ['EUR', 'USD'])
    """
    from matplotlib import colormaps

    buckets = list(aged.columns[: list(aged.columns).index("total")])
    fig, ax = _axes(ax, (8.0, 0.55 * len(aged) + 1.6))
    shares = aged[buckets].div(aged["total"].where(aged["total"] > 0), axis=0).fillna(0.0)
    colours = colormaps["RdYlGn_r"](np.linspace(0.1, 0.95, len(buckets)))
    y = np.arange(len(aged))[::-1]
    left = np.zeros(len(aged))
    for bucket, colour in zip(buckets, colours, strict=True):
        width = shares[bucket].to_numpy()
        ax.barh(y, width, left=left, color=colour, label=bucket, edgecolor="white")
        left += width
    labels = [str(k[0] if isinstance(k, tuple) else k) for k in aged.index]
    for yi, total in zip(y, aged["total"], strict=True):
        ax.text(1.01, yi, f"{total:,.0f}", va="center", fontsize=9)
    ax.set(
        yticks=y,
        yticklabels=labels,
        xlim=(0, 1.15),
        xlabel="share of open amount",
        title="open receivables by days overdue",
    )
    ax.legend(ncol=len(buckets), loc="upper center", bbox_to_anchor=(0.5, -0.25), fontsize="small", frameon=False)
    return fig
