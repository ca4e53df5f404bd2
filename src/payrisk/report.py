"""One self-contained HTML file for a credit manager: the worklist in shades of red with reasons and the planned
action, the early warning (customers who may become a problem, with the reasons), the cash-inflow fan chart with
dry weeks, the KPIs they report (DSO, ADD, CEI, ageing, on-time share), the segment map, the model's out-of-time
quality and its health since training (drift).

Examples
--------
>>> import payrisk as pr, tempfile, pathlib
>>> ledger = pr.datasets.make_ledger(n_customers=150, seed=0)
>>> engine = pr.RiskEngine(n_estimators=30, reasons_top_n=20).fit(ledger, "2024-03-31")
>>> path = write_report(ledger, engine, "2024-06-30", pathlib.Path(tempfile.mkdtemp()) / "report.html")
>>> "<table" in path.read_text() and path.with_name("worklist.csv").is_file()
True
"""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from payrisk._compat import ledger_first
from payrisk._safe_csv import to_safe_csv
from payrisk.errors import ParameterError

if TYPE_CHECKING:  # pragma: no cover
    from payrisk.acceptance import AcceptanceModel
    from payrisk.engine import RiskEngine
    from payrisk.ledger import Ledger

__all__ = ["model_quality", "write_report"]

_WORKLIST_COLUMNS = [
    ("priority_rank", "#"), ("customer_id", "customer"), ("invoice_id", "invoice"), ("currency", "cur"),
    ("open_amount", "open"), ("days_overdue", "days overdue"), ("p_late", "P(late)"), ("p_paid_30d", "P(paid 30d)"),
    ("expected_loss", "expected loss"), ("segment", "segment"), ("warning", "early warning"),
    ("limit_utilisation", "limit used"), ("reasons", "why"), ("action", "planned action"),
]  # fmt: skip
_SHARES = ("p_late", "p_paid_30d", "limit_utilisation")  # shown as percentages


def _png(fig: Any) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    return f'<img alt="{html.escape(fig.axes[0].get_title() or "figure")}" src="data:image/png;base64,' + (
        base64.b64encode(buf.getvalue()).decode("ascii") + '">'
    )


@ledger_first(("engine", "ledger"))
def model_quality(ledger: Ledger, engine: RiskEngine, as_of: Any, n_boot: int = 100) -> tuple[pd.DataFrame | None, Any]:
    """Out-of-time quality of the late-payment model: invoices issued after the model's date whose outcome is
    known at ``as_of``, scored at their issue date. Returns the metrics with intervals and the calibration
    figure, or ``(None, None)`` when fewer than 100 such invoices exist.

    Examples
    --------
    >>> import payrisk as pr
    >>> ledger = pr.datasets.make_ledger(n_customers=150, seed=0)
    >>> engine = pr.RiskEngine(n_estimators=30, reasons_top_n=0, forecast_weeks=0).fit(ledger, "2024-03-31")
    >>> metrics, fig = model_quality(ledger, engine, "2024-06-30", n_boot=20)
    >>> list(metrics.index), list(metrics.columns), metrics.attrs["n"] >= 100
    (['auc', 'gini', 'ks', 'brier', 'log_loss', 'ece'], ['value', 'ci_low', 'ci_high'], True)
    >>> fig.axes[0].get_title()
    'Calibration'
    >>> model_quality(ledger, engine, "2024-03-31")  # nothing issued after the model's date yet
    (None, None)
    """
    from payrisk import evaluation, plots
    from payrisk.ledger import to_date
    from payrisk.monitor import issued_between

    day = to_date(as_of)
    y, X = issued_between(ledger.as_of(day), engine.as_of_, day)  # features at issue, for these invoices only
    if len(y) < 100 or y.nunique() < 2:
        return None, None
    p = engine.late_model_.predict_proba(X)[:, 1]
    metrics = evaluation.classification_report(y.to_numpy(), p, n_boot=n_boot)
    metrics.attrs["n"] = len(y)
    fig = plots.calibration_curve(y.to_numpy(), p, label=f"P(late), {len(y)} invoices issued after the model's date")
    return metrics, fig


def _red(value: float) -> str:
    """Background of a worklist row: deeper red for more urgent (``red`` in 0..1)."""
    a = 0.08 + 0.6 * float(np.clip(value, 0, 1))
    return f"background: rgba(183, 28, 28, {a:.2f}); color: {'#fff' if a > 0.45 else '#000'}"


def _worklist_html(worklist: pd.DataFrame, actions: pd.DataFrame | None, n: int) -> str:
    rows = worklist.head(n).reset_index()
    if actions is not None and len(actions):
        sent = actions.loc[actions["status"] == "send"].drop_duplicates("customer_id").set_index("customer_id")
        text = (
            sent["step"]
            + " by "
            + sent["channel"]
            + " ("
            + sent["tone"]
            + "), "
            + sent["send_at"].dt.strftime("%a %d %b")
        )
        rows["action"] = rows["customer_id"].map(text).fillna("")
    else:
        rows["action"] = ""
    # the customer's early warning: its chance of becoming a problem, where it raised an alert
    alert = rows["alert"].to_numpy(dtype=bool) if "alert" in rows else np.zeros(len(rows), bool)
    chance = rows["p_problem_90d"].to_numpy(dtype=float) if "p_problem_90d" in rows else np.full(len(rows), np.nan)
    rows["warning"] = [f"alert: {p:.0%} in 90 days" if a else "" for a, p in zip(alert, chance, strict=True)]
    head = "".join(f"<th>{html.escape(label)}</th>" for _, label in _WORKLIST_COLUMNS)
    body = []
    for rec, red in zip(rows.to_dict("records"), rows["red"].fillna(0), strict=True):
        cells = []
        for col, _ in _WORKLIST_COLUMNS:
            v = rec.get(col, "")
            if isinstance(v, float):
                v = "" if np.isnan(v) else f"{v:.0%}" if col in _SHARES else f"{v:,.0f}"
            cells.append(f"<td>{html.escape(str(v))}</td>")
        body.append(f'<tr style="{_red(red)}">' + "".join(cells) + "</tr>")
    return f'<table id="worklist"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'


@ledger_first(("path", "ledger", "engine", "as_of"))
def write_report(
    ledger: Ledger,
    engine: RiskEngine,
    as_of: Any,
    path: str | Path,
    *,
    worklist: pd.DataFrame | None = None,
    forecast: Any = None,
    actions: pd.DataFrame | None = None,
    acceptance: AcceptanceModel | None = None,
    appetite: float = 500.0,
    lgd: float = 0.5,
    top_n: int = 100,
    title: str = "payrisk: receivables at a glance",
) -> Path:
    """Write the HTML report (figures embedded, no external files or scripts) and ``worklist.csv`` beside it.

    Parameters
    ----------
    ledger : Ledger
    engine : RiskEngine
        Fitted; scores the worklist and forecasts when they are not given.
    as_of : date-like
    path : str or Path
        The HTML file to write.
    worklist, forecast, actions : optional
        ``engine.score(...)``, :func:`payrisk.forecast.cash_inflow` and :func:`payrisk.dunning.plan_actions`
        results to show (computed when missing, except the actions).
    acceptance : AcceptanceModel, optional
        Fitted (:class:`payrisk.acceptance.AcceptanceModel`): the report then lists the customers whose
        recommended credit limit fell sharply since their last review (:func:`payrisk.limits.limit_review`).
    appetite, lgd : float, default 500 and 0.5
        The expected loss accepted per customer and payment cycle, and the share of the exposure lost in a
        problem, for those recommended limits (:func:`payrisk.limits.recommend_limits`).
    top_n : int
        Rows of the worklist (and of each customer list) shown (the CSV holds all).

    Returns
    -------
    Path
        The report. ``worklist.csv`` (formula-safe) lies beside it.

    Examples
    --------
    >>> import payrisk as pr, tempfile, pathlib
    >>> ledger = pr.datasets.make_ledger(n_customers=150, seed=0)
    >>> engine = pr.RiskEngine(n_estimators=30, reasons_top_n=10, forecast_weeks=0).fit(ledger, "2024-03-31")
    >>> path = write_report(ledger, engine, "2024-06-30", pathlib.Path(tempfile.mkdtemp()) / "report.html",
    ...                     top_n=10, title="Receivables")
    >>> text = path.read_text()
    >>> rows = text.split('<table id="worklist">')[1].split("</table>")[0].count("<tr style=")  # top_n rows shown
    >>> rows, "<title>Receivables</title>" in text, path.with_name("worklist.csv").is_file()
    (10, True, True)
    """
    from payrisk import forecast as fc
    from payrisk import plots
    from payrisk.ledger import to_date

    day = to_date(as_of)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    worklist = engine.score(ledger, day) if worklist is None else worklist
    forecast = fc.cash_inflow(ledger, engine, day) if forecast is None else forecast
    to_safe_csv(worklist.reset_index(), path.with_name("worklist.csv"))
    sections = [f"<h1>{html.escape(title)}</h1>", f"<p>As of <b>{day.date()}</b>. " + _summary(worklist) + "</p>"]
    sections.append("<h2>What comes first: the worklist in shades of red</h2>")
    sections.append('<p><a href="worklist.csv">worklist.csv</a> (all rows, safe to open in a spreadsheet)</p>')
    sections.append(_worklist_html(worklist, actions, top_n))
    sections += _early_warning_sections(ledger, engine, day, top_n)
    sections += _limit_sections(ledger, day, acceptance, (appetite, lgd), top_n)
    sections.append("<h2>When the money comes in</h2>")
    currencies = list(dict.fromkeys(forecast.periods["currency"]))
    for cur in currencies:
        sections.append(_png(forecast.plot(currency=cur)))
    dry = forecast.dry_periods()
    dry_text = ", ".join(f"{r.currency} week of {r.period_start:%d %b}" for r in dry.itertuples()) or "none"
    sections.append(f'<p id="dry-weeks">Dry weeks: {html.escape(dry_text)}</p>')
    sections += _kpi_sections(ledger, engine, day)
    if engine.segmenter_ is not None:
        sections.append("<h2>Segments</h2>")
        sections.append(_png(plots.segment_map(engine.segmenter_.predict(ledger, day))))
    sections.append("<h2>Model quality (out of time)</h2>")
    metrics, fig = model_quality(ledger, engine, day)
    if metrics is None:
        sections.append("<p>Not enough invoices issued after the model's date have a known outcome yet.</p>")
    else:
        sections.append(_png(fig))
        sections.append(metrics.round(3).to_html(classes="metrics", border=0))
    sections += _monitor_sections(engine, ledger, day)
    return _write(path, title, sections)


_KPI_FORMATS = {
    "receivables": "{:,.0f}",
    "overdue_share": "{:.0%}",
    "credit_sales": "{:,.0f}",
    "dso": "{:.1f}",
    "dso_countback": "{:.1f}",
    "add": "{:.1f}",
    "cei": "{:.1f}",
    "on_time_share": "{:.0%}",
    "promise_kept_rate": "{:.0%}",
}
_KPI_LABELS = {
    "receivables": "open receivables",
    "overdue_share": "overdue",
    "credit_sales": "credit sales (90 days)",
    "dso": "DSO",
    "dso_countback": "DSO (countback)",
    "add": "ADD",
    "cei": "CEI (90 days)",
    "on_time_share": "paid on time",
    "promise_kept_rate": "promises kept",
}


def _early_warning_sections(ledger: Any, engine: Any, day: pd.Timestamp, top_n: int) -> list[str]:
    """The alerted customers, most at risk first, with the reasons; a line when the engine has no early warning."""
    from payrisk._training import WARNING_DAYS

    out = ["<h2>Early warning: customers who may become a problem</h2>"]
    if engine.problem_model_ is None:
        return [*out, "<p>No early warning: too few customers became a problem in the engine's history.</p>"]
    ew = engine.early_warning(ledger, day)
    alerts = ew.loc[ew["alert"]]
    out.append(
        "<p>"
        + html.escape(
            f"{len(ew):,} customers in business, {int(ew['problem_now'].sum()):,} a problem now (an invoice 30+ days "
            f"overdue, a missed instalment or a hand-over), {len(alerts):,} alerted: a chance of at least "
            f"{engine.alert_level:.0%} of becoming one within {WARNING_DAYS} days."
        )
        + "</p>"
    )
    rows = "".join(
        f"<tr><td>{html.escape(str(c))}</td><td>{p:.0%}</td><td>{html.escape(str(why))}</td></tr>"
        for c, p, why in zip(alerts.index[:top_n], alerts["p_problem_90d"], alerts["reasons"], strict=False)
    )
    head = f"<th>customer</th><th>P(problem within {WARNING_DAYS} days)</th><th>why</th>"
    return [*out, f'<table id="early-warning"><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>']


def _customer_table(table: pd.DataFrame, columns: dict[str, str], table_id: str) -> str:
    """A list of customers (index ``customer_id``): money without decimals, shares in per cent, dates as days."""
    shown = table.reset_index()[["customer_id", *columns]]
    cells = []
    for rec in shown.itertuples(index=False):
        row = []
        for name, v in zip(shown.columns, rec, strict=True):
            if isinstance(v, pd.Timestamp):
                v = f"{v:%Y-%m-%d}"
            elif isinstance(v, float):
                v = "" if np.isnan(v) else f"{v:.0%}" if name in ("utilisation", "change") else f"{v:,.0f}"
            row.append(f"<td>{html.escape(str(v))}</td>")
        cells.append("<tr>" + "".join(row) + "</tr>")
    head = "".join(f"<th>{html.escape(label)}</th>" for label in ["customer", *columns.values()])
    return f'<table id="{table_id}"><thead><tr>{head}</tr></thead><tbody>{"".join(cells)}</tbody></table>'


def _limit_sections(
    ledger: Any, day: pd.Timestamp, acceptance: Any, terms: tuple[float, float], top_n: int
) -> list[str]:
    """Customers over (or near) their credit limit, and those whose recommended limit fell sharply since their
    last review (with an acceptance model); nothing when the ledger holds no credit limits."""
    from payrisk import limits

    if not len(ledger.as_of(day).credit_limits):
        return []
    held = limits.limit_utilisation(ledger, day)
    over = held.loc[held["status"] == "over the limit"].sort_values("over_by", ascending=False)
    counts = held["status"].value_counts()
    out = ["<h2>Credit limits: who is over, whose limit to review</h2>"]
    out.append(
        "<p>"
        + html.escape(
            f"{int(held['credit_limit'].notna().sum()):,} customers have a credit limit: "
            f"{counts.get('over the limit', 0):,} are over it, {counts.get('near the limit', 0):,} near it (90% "
            f"used or more); {counts.get('no limit set', 0):,} owe open invoices without a limit set. Used = the "
            "customer's open invoices in the limit's currency over its limit."
        )
        + "</p>"
    )
    columns = {"credit_limit": "limit", "exposure": "open", "utilisation": "used", "over_by": "over by",
               "limit_since": "limit since"}  # fmt: skip
    out.append(_customer_table(over.head(top_n), columns, "over-limit"))
    if acceptance is None:
        return [*out, "<p>Limit reviews need the acceptance model: <code>payrisk fit --acceptance</code>.</p>"]
    appetite, lgd = terms
    review = limits.limit_review(ledger, day, acceptance, appetite=appetite, lgd=lgd)
    due = review.loc[review["to_review"]]
    out.append(
        "<p>"
        + html.escape(
            f"{len(due):,} customers to review: their recommended limit (expected loss within {appetite:,.0f} per "
            "payment cycle) fell by 30% or more since their last review (the day their limit was set, or a year "
            "ago) to below their limit or what they owe."
        )
        + "</p>"
    )
    columns = {"credit_limit": "limit", "exposure": "open", "reviewed_on": "reviewed", "recommended_then": "then",
               "recommended_now": "now", "change": "change", "reason": "why"}  # fmt: skip
    return [*out, _customer_table(due.head(top_n), columns, "limit-review")]


def _kpi_table(table: pd.DataFrame, table_id: str) -> str:
    shown = table[[c for c in _KPI_FORMATS if c in table.columns]].copy()
    for col in shown.columns:
        shown[col] = [("" if pd.isna(v) else _KPI_FORMATS[col].format(v)) for v in shown[col]]
    return shown.rename(columns=_KPI_LABELS).to_html(table_id=table_id, classes="metrics", border=0)


def _kpi_sections(ledger: Any, engine: Any, day: pd.Timestamp) -> list[str]:
    """The KPIs credit managers report (payrisk.kpi): per currency, per segment, and the ageing chart."""
    from payrisk import kpi, plots

    out = ["<h2>The figures you report</h2>", _kpi_table(kpi.kpi_summary(ledger, day), "kpis")]
    out.append(
        "<p>DSO: open receivables over the last 90 days' credit sales, in days (countback: matched against the "
        "latest months' sales); ADD: the days late payment adds to DSO; CEI: the share of what could be collected "
        "in the last 90 days that was. Definitions: <code>payrisk.kpi</code>.</p>"
    )
    out.append(_png(plots.ageing_chart(kpi.ageing(ledger, day))))
    if engine.segmenter_ is not None:
        segments = engine.segmenter_.predict(ledger, day)["segment"]
        out.append(_kpi_table(kpi.kpi_summary(ledger, day, by="segment", segments=segments), "kpis-by-segment"))
    return out


def _monitor_sections(engine: Any, ledger: Any, day: pd.Timestamp) -> list[str]:
    """Model health since the training date (payrisk.monitor), when enough has happened since to judge."""
    from payrisk import monitor

    try:
        report = monitor.monitor(ledger, engine, day)
    except ParameterError as exc:
        return ["<h2>Model health</h2>", f"<p>Not checked yet: {html.escape(str(exc))}</p>"]
    items = "".join(f"<li>{html.escape(line)}</li>" for line in report.summary)
    return ["<h2>Model health since training</h2>", f'<ul id="monitor">{items}</ul>', _png(report.plot())]


def _summary(worklist: pd.DataFrame) -> str:
    overdue = worklist.loc[worklist["days_overdue"] > 0]
    by_cur = overdue.groupby("currency")["open_amount"].sum()
    money = ", ".join(f"{c} {v:,.0f}" for c, v in by_cur.items()) or "nothing"
    return html.escape(f"{len(worklist):,} open invoices, {len(overdue):,} overdue ({money}).")


def _write(path: Path, title: str, sections: list[str]) -> Path:
    style = (
        "body{font-family:system-ui,sans-serif;margin:2em;max-width:1400px}"
        "table{border-collapse:collapse;font-size:13px}td,th{padding:3px 6px;border-bottom:1px solid #ddd}"
        "th{text-align:left;background:#fafafa}img{max-width:100%}"
    )
    doc = (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f"<style>{style}</style></head><body>{''.join(sections)}</body></html>"
    )
    path.write_text(doc, encoding="utf-8")
    return path
