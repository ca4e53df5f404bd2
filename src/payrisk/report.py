"""One self-contained HTML file for a credit manager (its figures embedded, its script inline, nothing fetched):
the accounts in shades of red (sortable, filterable, searchable, each expanding into its invoices; money and
dates in the reader's locale) with the next action or the guard that blocked it, promises to pay, disputes and the
credit limit in use; the invoice-level worklist one click away; the open promises and disputes; the early warning
(customers who may become a problem, with the reasons); credit limits over and to review; the cash-inflow fan
chart with dry weeks; the KPIs they report (DSO, ADD, CEI, ageing, on-time share) and their last 12 months; the
segment map; the model's out-of-time quality and its health since training (drift).

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
from payrisk.accounts import account_worklist
from payrisk.errors import ParameterError

if TYPE_CHECKING:  # pragma: no cover
    from payrisk.acceptance import AcceptanceModel
    from payrisk.engine import RiskEngine
    from payrisk.ledger import Ledger
    from payrisk.monitor import DriftReport

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


# -- the account worklist: sortable, filterable, searchable, expandable ------------------------------------------
_BAND_RGB = {"critical": (183, 28, 28), "high": (229, 57, 53), "medium": (245, 124, 0), "low": (253, 216, 53)}
_ACCOUNT_HEADS = [
    ("account_rank", "#", "num", "Order to act in: most expected loss of the account first."),
    ("customer_id", "customer", "text", "The customer (click the arrow for its open invoices)."),
    ("band", "band", "text", "critical: the first 5% of accounts by expected loss; high: to 20%; medium: to 50%; low."),
    ("open_amount", "open", "money", "What the customer owes in this currency (open invoices, partial payments off)."),
    ("overdue_amount", "overdue", "money", "The part of it past its due date."),
    ("max_days_overdue", "days overdue", "num", "Days past due of its oldest overdue invoice."),
    ("expected_loss", "expected loss", "money", "The sum over its invoices of open amount x P(still unpaid in 90 days) "
     "x loss given non-payment, plus the cost of waiting (interest while the money is out): for a long-overdue "
     "invoice it can exceed the open amount."),
    ("segment", "segment", "text", "How the customer pays: reliable, forgetful, struggling, chronic or new."),
    ("p_problem_90d", "early warning", "pct", "P(an invoice 30 days overdue, a missed instalment or a hand-over within "
     "90 days); 'alert' when it reached the alert level for a customer not yet a problem."),
    ("limit_utilisation", "limit used", "pct", "Open invoices over the customer's credit limit (above 100% = over)."),
    ("promise_status", "promise", "text", "The latest promise to pay of the last 30 days: open, kept or broken."),
    ("disputed_amount", "disputed", "money", "Open invoices the customer disputes (not dunned)."),
    ("next_action", "next action", "text", "Today's dunning step, or why none goes out (the guard that blocked it)."),
    ("reasons", "why", "text", "Why its first invoice is urgent, in words."),
]  # fmt: skip
_INVOICE_HEADS = [
    ("invoice_id", "invoice"), ("priority_rank", "# in worklist"), ("due_date", "due"), ("open_amount", "open"),
    ("days_overdue", "days overdue"), ("p_late", "P(late)"), ("p_paid_30d", "P(paid 30d)"),
    ("expected_loss", "expected loss"), ("reasons", "why"),
]  # fmt: skip


def _shade(accounts: pd.DataFrame) -> list[str]:
    """Each account's row colour: the band's hue, deeper within the band for more expected loss (log scale), so
    that shades differ where urgency differs."""
    loss = np.log1p(accounts["expected_loss"].clip(lower=0).to_numpy(dtype=np.float64))
    out = []
    band = accounts["band"].to_numpy()
    depth = np.zeros(len(accounts))
    for name in _BAND_RGB:
        m = band == name
        if m.any():
            lo, hi = loss[m].min(), loss[m].max()
            depth[m] = (loss[m] - lo) / (hi - lo) if hi > lo else 1.0
    for b, d in zip(band, depth, strict=True):
        r, g, bl = _BAND_RGB.get(b, (200, 200, 200))
        alpha = 0.18 + 0.5 * d if b != "low" else 0.10 + 0.3 * d
        out.append(f"background: rgba({r}, {g}, {bl}, {alpha:.2f})")
    return out


def _cell(value: Any, kind: str, currency: str = "") -> str:
    """A table cell: its sort value in ``data-v``, readable text (money and dates re-written in the reader's locale
    by the page's script)."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NaT:
        return '<td data-v=""></td>'
    if kind == "money":
        return (f'<td class="money" data-v="{float(value):.2f}" data-cur="{html.escape(currency)}">'
                f"{html.escape(currency)} {float(value):,.0f}</td>")  # fmt: skip
    if kind == "pct":
        return f'<td data-v="{float(value):.6f}">{float(value):.0%}</td>'
    if kind == "num":
        return f'<td data-v="{float(value):.6f}">{html.escape(str(value))}</td>'
    if kind == "date":
        d = pd.Timestamp(value)
        return f'<td class="date" data-v="{d:%Y-%m-%d}">{d:%Y-%m-%d}</td>'
    return f'<td data-v="{html.escape(str(value).lower())}">{html.escape(str(value))}</td>'


def _accounts_html(accounts: pd.DataFrame, worklist: pd.DataFrame, n: int) -> str:
    """The account worklist: one row per customer and currency, its invoices one click away (hidden rows), with
    the controls the page's script drives."""
    shown = accounts.head(n)
    inv = worklist.loc[worklist["customer_id"].isin(shown["customer_id"])].reset_index()
    inv = inv.rename(columns={inv.columns[0]: "invoice_id"})
    by_account = {key: rows for key, rows in inv.groupby(["customer_id", "currency"], sort=False)}
    head = "".join(
        f'<th data-type="{kind}" title="{html.escape(tip)}">{html.escape(label)}</th>'
        for _, label, kind, tip in _ACCOUNT_HEADS
    )
    body = []
    for rec, style in zip(shown.to_dict("records"), _shade(shown), strict=True):
        cur, cust = str(rec["currency"]), str(rec["customer_id"])
        cells = []
        for col, _, kind, _ in _ACCOUNT_HEADS:
            v = rec.get(col)
            if col == "customer_id":
                cells.append(f'<td data-v="{html.escape(cust.lower())}"><button class="expand" aria-expanded="false" '
                             f'title="show its invoices">&#9656;</button> {html.escape(cust)}</td>')  # fmt: skip
            elif col == "band":
                cells.append(f'<td data-v="{"chml".index(str(v)[0])}"><span class="badge {v}">{v}</span></td>')
            elif col == "p_problem_90d":
                flag = " alert" if rec.get("alert") else ""
                cells.append(_cell(v, "pct").replace("</td>", f"{flag}</td>") if v == v else _cell(v, "pct"))
            elif col == "next_action":
                text = v or (f"blocked: {rec['blocked_by']}" if rec.get("blocked_by") else "")
                cells.append(_cell(text, "text"))
            elif col == "promise_status":
                cell = _cell(v, "text")
                cells.append(cell.replace("<td ", f'<td title="{html.escape(str(rec.get("promise", "")))}" ', 1))
            else:
                cells.append(_cell(v, kind, cur))
        search = " ".join(str(rec.get(c, "")) for c in ("customer_id", "segment", "band", "reasons", "next_action",
                                                         "blocked_by", "promise")).lower()  # fmt: skip
        body.append(
            f'<tr class="account" data-band="{rec["band"]}" data-segment="{html.escape(str(rec["segment"]))}" '
            f'data-overdue="{int(rec["overdue_amount"] > 0)}" data-search="{html.escape(search)}" style="{style}">'
            + "".join(cells) + "</tr>"
        )  # fmt: skip
        rows = by_account.get((cust, cur), inv.iloc[:0])
        inner_head = "".join(f"<th>{html.escape(label)}</th>" for _, label in _INVOICE_HEADS)
        inner = []
        for r in rows.to_dict("records"):
            kinds = {"due_date": "date", "open_amount": "money", "expected_loss": "money", "p_late": "pct",
                     "p_paid_30d": "pct", "priority_rank": "num", "days_overdue": "num"}  # fmt: skip
            inner.append("<tr>" + "".join(_cell(r.get(c), kinds.get(c, "text"), cur) for c, _ in _INVOICE_HEADS)
                         + "</tr>")  # fmt: skip
        body.append(
            f'<tr class="invoices" hidden><td colspan="{len(_ACCOUNT_HEADS)}"><table class="inner">'
            f"<thead><tr>{inner_head}</tr></thead><tbody>{''.join(inner)}</tbody></table></td></tr>"
        )
    segments = sorted(set(accounts["segment"].astype("str")))
    options = "".join(f'<option value="{html.escape(s)}">{html.escape(s)}</option>' for s in segments)
    bands = "".join(f'<option value="{b}">{b}</option>' for b in _BAND_RGB)
    controls = (
        '<div class="controls"><input id="search" type="search" placeholder="search customer, reason, action" '
        'title="shows the accounts whose customer, segment, band, reasons, action or promise contain the text">'
        f'<select id="band-filter" title="one band only"><option value="">every band</option>{bands}</select>'
        f'<select id="segment-filter" title="one segment only"><option value="">every segment</option>{options}'
        '</select><label title="hide accounts with nothing overdue"><input id="overdue-only" type="checkbox"> '
        f'overdue only</label> <span id="shown-count" data-all="{len(accounts):,}">{len(shown):,} accounts shown '
        f"({len(accounts):,} in accounts.csv)</span></div>"
    )
    legend = "".join(f'<span class="badge {b}">{b}</span> ' for b in _BAND_RGB)
    return (
        controls
        + f'<p class="legend">Bands: {legend} Click a column to sort, the arrow to see the invoices.</p>'
        + f'<table id="accounts"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'
    )


def _promise_and_dispute_sections(ledger: Any, worklist: pd.DataFrame, accounts: pd.DataFrame, day: pd.Timestamp,
                                  top_n: int) -> list[str]:  # fmt: skip
    """The open promises to pay (and those broken or kept in the last 30 days) and the open disputed invoices."""
    out = ["<h2>Promises to pay and disputes</h2>"]
    made = accounts.loc[accounts["promise_status"] != ""]
    order = {"broken": 0, "open": 1, "kept": 2}
    made = made.assign(_o=made["promise_status"].map(order)).sort_values(["_o", "overdue_amount"],
                                                                           ascending=[True, False])  # fmt: skip
    counts = made["promise_status"].value_counts()
    out.append(
        "<p>"
        + html.escape(
            f"Promises made in the last 30 days: {counts.get('open', 0):,} open, {counts.get('broken', 0):,} broken "
            f"(the date passed with the invoice still open), {counts.get('kept', 0):,} kept."
        )
        + "</p>"
    )
    rows = "".join(
        f"<tr>{_cell(r['customer_id'], 'text')}{_cell(r['promise_status'], 'text')}{_cell(r['promise'], 'text')}"
        f"{_cell(r['overdue_amount'], 'money', str(r['currency']))}</tr>"
        for r in made.head(top_n).to_dict("records")
    )
    out.append('<table id="promises"><thead><tr><th>customer</th><th>status</th><th>promise</th>'
               f"<th>overdue</th></tr></thead><tbody>{rows}</tbody></table>")  # fmt: skip
    inv = ledger.as_of(day).invoices.set_index("invoice_id")
    since = inv["disputed_date"].reindex(worklist.index)
    open_disputes = worklist.loc[since.notna().to_numpy() & (since <= day).to_numpy(dtype=bool, na_value=False)]
    open_disputes = open_disputes.assign(disputed_date=since.loc[open_disputes.index]).sort_values(
        "open_amount", ascending=False
    )
    out.append(
        "<p>"
        + html.escape(
            f"{len(open_disputes):,} open invoices are disputed: the dunning plan leaves them to the dispute flow."
        )
        + "</p>"
    )
    rows = "".join(
        f"<tr>{_cell(i, 'text')}{_cell(r['customer_id'], 'text')}{_cell(r['open_amount'], 'money', str(r['currency']))}"
        f"{_cell(r['disputed_date'], 'date')}{_cell(r['days_overdue'], 'num')}</tr>"
        for i, r in zip(open_disputes.index[:top_n], open_disputes.head(top_n).to_dict("records"), strict=True)
    )
    out.append('<table id="disputes"><thead><tr><th>invoice</th><th>customer</th><th>open</th><th>disputed since'
               f"</th><th>days overdue</th></tr></thead><tbody>{rows}</tbody></table>")  # fmt: skip
    return out


_SCRIPT = """
(function () {
  const lang = navigator.language || "en";
  const money = {};
  document.querySelectorAll("td.money").forEach(td => {
    const cur = td.dataset.cur, v = parseFloat(td.dataset.v);
    if (isNaN(v)) return;
    try {
      money[cur] = money[cur]
        || new Intl.NumberFormat(lang, {style: "currency", currency: cur, maximumFractionDigits: 0});
      td.textContent = money[cur].format(v);
    } catch (e) { td.textContent = cur + " " + Math.round(v).toLocaleString(lang); }
  });
  document.querySelectorAll("td.date").forEach(td => {
    const d = new Date(td.dataset.v + "T00:00:00");
    if (!isNaN(d)) td.textContent = d.toLocaleDateString(lang, {year: "numeric", month: "short", day: "numeric"});
  });
  const table = document.getElementById("accounts");
  if (!table) return;
  const body = table.tBodies[0];
  const pairs = () => Array.from(body.querySelectorAll("tr.account")).map(tr => [tr, tr.nextElementSibling]);
  table.querySelectorAll("button.expand").forEach(b => b.addEventListener("click", () => {
    const inv = b.closest("tr").nextElementSibling, open = inv.hidden;
    inv.hidden = !open; b.setAttribute("aria-expanded", String(open)); b.innerHTML = open ? "&#9662;" : "&#9656;";
  }));
  table.tHead.querySelectorAll("th").forEach((th, col) => th.addEventListener("click", () => {
    const kind = th.dataset.type, down = th.dataset.sort !== "desc";
    table.tHead.querySelectorAll("th").forEach(h => { delete h.dataset.sort; });
    th.dataset.sort = down ? "desc" : "asc";
    const key = tr => tr.cells[col].dataset.v;
    const rows = pairs();
    rows.sort((a, b) => {
      const x = key(a[0]), y = key(b[0]);
      if (x === "" && y !== "") return 1;
      if (y === "" && x !== "") return -1;
      const c = kind === "text" ? x.localeCompare(y) : parseFloat(x) - parseFloat(y);
      return down ? -c : c;
    });
    rows.forEach(([a, inv]) => { body.appendChild(a); body.appendChild(inv); });
  }));
  const search = document.getElementById("search"), band = document.getElementById("band-filter");
  const segment = document.getElementById("segment-filter"), overdue = document.getElementById("overdue-only");
  const count = document.getElementById("shown-count"), total = pairs().length;
  const filter = () => {
    const q = search.value.trim().toLowerCase();
    let shown = 0;
    pairs().forEach(([tr, inv]) => {
      const ok = (!q || tr.dataset.search.includes(q)) && (!band.value || tr.dataset.band === band.value)
        && (!segment.value || tr.dataset.segment === segment.value) && (!overdue.checked || tr.dataset.overdue === "1");
      tr.hidden = !ok;
      const expanded = tr.querySelector("button.expand").getAttribute("aria-expanded") === "true";
      inv.hidden = !(ok && expanded);
      shown += ok;
    });
    count.textContent = shown.toLocaleString(lang) + " of " + total.toLocaleString(lang) + " accounts shown ("
      + count.dataset.all + " in accounts.csv)";
  };
  [search, band, segment, overdue].forEach(el => el.addEventListener("input", filter));
  [band, segment, overdue].forEach(el => el.addEventListener("change", filter));
})();
"""


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
            if col in ("open_amount", "expected_loss"):  # money in the reader's locale, as in the accounts
                cells.append(_cell(v, "money", str(rec["currency"])))
                continue
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
    health: DriftReport | None = None,
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
    title : str
    health : DriftReport, optional
        :func:`payrisk.monitor.monitor` for the same engine and day, when already computed (it is otherwise).

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
    accounts = account_worklist(ledger, worklist, day, actions)
    to_safe_csv(worklist.reset_index(), path.with_name("worklist.csv"))
    to_safe_csv(accounts, path.with_name("accounts.csv"))
    sections = [f"<h1>{html.escape(title)}</h1>", f"<p>As of <b>{day.date()}</b>. " + _summary(worklist) + "</p>"]
    sections.append("<h2>What comes first: the accounts in shades of red</h2>")
    sections.append(
        f"<p>The first {min(top_n, len(accounts)):,} of {len(accounts):,} accounts (a customer in one currency), "
        'most expected loss first. <a href="accounts.csv">accounts.csv</a> and <a href="worklist.csv">worklist.csv'
        "</a> hold every account and invoice (safe to open in a spreadsheet). Hover a column's title for what it "
        "means.</p>"
    )
    sections.append(_accounts_html(accounts, worklist, top_n))
    sections.append(
        f'<details id="invoice-level"><summary>The invoice-level worklist: the first {min(top_n, len(worklist)):,} '
        f"of {len(worklist):,} open invoices</summary>" + _worklist_html(worklist, actions, top_n) + "</details>"
    )
    sections += _promise_and_dispute_sections(ledger, worklist, accounts, day, top_n)
    sections += _early_warning_sections(ledger, engine, day, top_n)
    sections += _limit_sections(ledger, day, acceptance, (appetite, lgd), top_n)
    sections.append("<h2>When the money comes in</h2>")
    currencies = list(dict.fromkeys(forecast.periods["currency"]))
    for cur in currencies:
        sections.append(_png(forecast.plot(currency=cur)))
    dry = forecast.dry_periods()
    dry_text = ", ".join(f"{r.currency} week of {r.period_start:%d %b}" for r in dry.itertuples()) or "none"
    sections.append(f'<p id="dry-weeks">Dry weeks: {html.escape(dry_text)}</p>')
    sections.append(
        "<p>The expected inflow per week from the open invoices (each paid on its predicted date distribution) "
        "with its P10-P90 band, per week and cumulated; a dry week (red dots) is one whose expected inflow, or the "
        "low end of its band, falls below the threshold given to the forecast (cash_inflow(..., threshold=...); "
        "none by default). Invoices not issued yet are not in it.</p>"
    )
    sections += _kpi_sections(ledger, engine, day)
    sections += _trend_sections(ledger, day)
    if engine.segmenter_ is not None:
        sections.append("<h2>Segments</h2>")
        sections.append(_png(plots.segment_map(engine.segmenter_.predict(ledger, day))))
        sections.append(
            "<p>Each dot a customer: how often it paid late (share of its settled invoices) against how late "
            "(typical days), coloured by segment: reliable pays on time, forgetful late but soon after a reminder, "
            "struggling later and later, chronic late most of the time.</p>"
        )
    sections.append("<h2>Model quality (out of time)</h2>")
    metrics, fig = model_quality(ledger, engine, day)
    if metrics is None:
        sections.append("<p>Not enough invoices issued after the model's date have a known outcome yet.</p>")
    else:
        sections.append(_png(fig))
        sections.append(metrics.round(3).to_html(classes="metrics", border=0))
    sections += _monitor_sections(engine, ledger, day, health)
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


def _trend_sections(ledger: Any, day: pd.Timestamp) -> list[str]:
    """DSO, ADD, CEI and the overdue share at the last 12 month ends (payrisk.kpi.kpi_trend), as a figure and a
    table."""
    from payrisk import kpi, plots

    trend = kpi.kpi_trend(ledger, day, months=12)
    out = ["<h2>The last 12 months</h2>", _png(plots.kpi_trend_chart(trend))]
    table = trend[["dso", "add", "cei", "overdue_share", "receivables"]].reset_index()
    table["as_of"] = table["as_of"].dt.strftime("%Y-%m")
    wide = table.pivot(index="as_of", columns="currency")
    cells = []
    for month, row in wide.iterrows():
        vals = "".join(
            f"<td>{row[('dso', c)]:.1f}</td><td>{row[('add', c)]:.1f}</td><td>{row[('cei', c)]:.0f}</td>"
            f"<td>{row[('overdue_share', c)]:.0%}</td>"
            for c in wide.columns.get_level_values(1).unique()
        )
        cells.append(f"<tr><td>{month}</td>{vals}</tr>")
    currencies = list(wide.columns.get_level_values(1).unique())
    tips = ('<th title="days sales outstanding: receivables over the last 90 days\' credit sales, in days">DSO</th>'
            '<th title="average days delinquent: the days late payment adds to DSO">ADD</th>'
            '<th title="collection effectiveness index of the month: the share of what could be collected that '
            'was, in %">CEI</th><th title="share of the receivables past their due date">overdue</th>')  # fmt: skip
    head1 = "".join(f'<th colspan="4">{html.escape(str(c))}</th>' for c in currencies)
    out.append(
        f'<table id="kpi-trend" class="metrics"><thead><tr><th></th>{head1}</tr><tr><th>month end</th>'
        f"{tips * len(currencies)}</tr></thead><tbody>{''.join(cells)}</tbody></table>"
    )
    return out


def _monitor_sections(engine: Any, ledger: Any, day: pd.Timestamp, report: DriftReport | None) -> list[str]:
    """Model health since the training date (payrisk.monitor), when enough has happened since to judge."""
    from payrisk import monitor

    if report is None or report.as_of != day or report.training_as_of != engine.as_of_:
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
        "body{font-family:system-ui,sans-serif;margin:2em;max-width:1500px}"
        "table{border-collapse:collapse;font-size:13px}td,th{padding:3px 6px;border-bottom:1px solid #ddd}"
        "th{text-align:left;background:#fafafa}img{max-width:100%}th[title]{text-decoration:underline dotted}"
        "#accounts th{cursor:pointer;position:sticky;top:0}#accounts th[data-sort=desc]::after{content:' \\25BE'}"
        "#accounts th[data-sort=asc]::after{content:' \\25B4'}button.expand{border:none;background:none;"
        "cursor:pointer;font-size:14px}table.inner{margin:4px 0 8px 24px;background:#fff}"
        ".controls{margin:8px 0;display:flex;gap:12px;align-items:center}.controls input[type=search]{width:280px}"
        "#accounts td:nth-child(2){white-space:nowrap}"
        ".badge{padding:1px 6px;border-radius:8px;font-size:12px;color:#fff}.badge.critical{background:#b71c1c}"
        ".badge.high{background:#e53935}.badge.medium{background:#f57c00}.badge.low{background:#c9a800}"
        "details summary{cursor:pointer;font-weight:600;margin:12px 0}"
    )
    doc = (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f"<style>{style}</style></head><body>{''.join(sections)}<script>{_SCRIPT}</script></body></html>"
    )
    path.write_text(doc, encoding="utf-8")
    return path
