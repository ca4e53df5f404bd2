"""The early warning per customer (issue 22, item 4) beside the rules a credit manager uses.

Each world is fitted once (``RiskEngine.fit`` at the fit date) and looked at week by week for six months after it.
On each week's end the customers in business who are not a problem yet are ranked three ways:

- ``engine``: the engine's ``p_problem_90d`` (:meth:`payrisk.RiskEngine.early_warning`);
- ``p_late_mean``: the mean ``p_late`` of the customer's open invoices in that day's worklist (0 without any);
- ``two_late``: the credit manager's rule "the last two invoices with a known outcome were both late" (ties by the
  customer's late share).

Every method alerts on the same number of customers each week: the number the two-late rule alerts on. The outcome
is :func:`payrisk.labels.customer_problem` read at the end of the data (a problem within 90 days: an invoice 30
days overdue, a missed instalment or a hand-over). Figures with customer-bootstrap 95% intervals:

- precision of the alerts (pooled over the weeks);
- on the synthetic deteriorating customers, the lead time of the first alert before the customer's first invoice
  30 days overdue after it deteriorated (alerts in the 90 days before it count; a customer never alerted has lead
  time 0) and the share alerted before it;
- the engine's own alerts at its ``alert_level``: how many a week and their precision;
- ``volume_tradeoff``: precision and median lead time when every method alerts on 1.5, 2 and 3 times as many
  customers (an earlier alert is bought with alerts on customers who will not become a problem).

Usage: python benchmarks/bench_early_warning.py [synthetic] [short_term] [ibm]
    -> benchmarks/results/early_warning.json
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

import payrisk as pr
from payrisk import evaluation as ev

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
RESULTS = Path(__file__).resolve().parent / "results"
CASES = {
    "synthetic": ("2024-03-31", "2024-09-29", lambda: pr.datasets.make_ledger(n_customers=2000, seed=0)),
    "short_term": (
        "2024-03-31",
        "2024-09-29",
        lambda: pr.datasets.make_ledger(n_customers=5000, seed=0, params=pr.datasets.WorldParams.short_term()),
    ),
    "ibm": ("2013-03-31", "2013-09-29", lambda: pr.datasets.load_ibm_ar(DATA / "ibm_accounts_receivable")),
}
METHODS = ("engine", "p_late_mean", "two_late")


def _two_late(snap: pr.Ledger, day: pd.Timestamp, customers: pd.Index) -> tuple[np.ndarray, np.ndarray]:
    """The two-late rule per customer (bool) and its tie-break, the share late among the known outcomes."""
    inv = snap.invoices
    late, known = pr.labels.late_outcome(inv["due_date"], inv["paid_date"], day)
    seen = pd.DataFrame({"customer_id": inv["customer_id"].to_numpy(), "due": inv["due_date"].to_numpy(), "late": late})
    seen = seen.loc[known].sort_values(["customer_id", "due"], kind="stable")
    last2 = seen.groupby("customer_id").tail(2).groupby("customer_id")["late"].agg(["sum", "size"])
    rule = (last2["sum"] == 2) & (last2["size"] == 2)
    share = seen.groupby("customer_id")["late"].mean()
    return rule.reindex(customers, fill_value=False).to_numpy(), share.reindex(customers, fill_value=0).to_numpy()


def _looks(ledger: pr.Ledger, engine: pr.RiskEngine, first: str, last: str) -> pd.DataFrame:
    """One row per (week end, customer in business and not a problem yet) with the three methods' scores."""
    rows = []
    for day in pd.date_range(first, last, freq="7D"):
        snap = ledger.as_of(day)
        ew = engine.early_warning(ledger, day, reasons=False)
        ew = ew.loc[~ew["problem_now"]]
        work = engine.score(snap, day)
        p_late = work.groupby("customer_id")["p_late"].mean().reindex(ew.index, fill_value=0.0)
        rule, share = _two_late(snap, day, ew.index)
        rows.append(
            pd.DataFrame(
                {
                    "day": day,
                    "customer_id": ew.index,
                    "engine": ew["p_problem_90d"].to_numpy(),
                    "engine_alert": ew["alert"].to_numpy(),
                    "p_late_mean": p_late.to_numpy(),
                    "two_late": rule + 0.5 * share,  # the rule first, then by late share
                    "rule": rule,
                }
            )
        )
    return pd.concat(rows, ignore_index=True)


def _alerts(looks: pd.DataFrame, volume: float = 1.0) -> pd.DataFrame:
    """Each method's alerts: its top k customers each week, k ``volume`` times the two-late rule's count that week."""
    k = looks.groupby("day")["rule"].transform("sum").to_numpy() * volume
    out = looks[["day", "customer_id"]].copy()
    for m in METHODS:
        rank = looks.groupby("day")[m].rank(ascending=False, method="first").to_numpy()
        out[m] = rank <= k
    return out


def _lead_times(ledger: pr.Ledger, looks: pd.DataFrame, alerts: pd.DataFrame, first: str, last: str) -> dict:
    """Lead time of the first alert (in the 90 days before) before each deteriorating customer's first invoice 30
    days overdue after it deteriorated, for the problems that fall in the weeks looked at."""
    truth = ledger.truth.customers.set_index("customer_id")
    det = truth.loc[truth["deteriorates"], "deteriorated_on"]
    inv = ledger.invoices
    limit = inv["due_date"] + pd.Timedelta(days=30)
    hit = inv["paid_date"].isna() | (inv["paid_date"] > limit)
    when = pd.DataFrame({"customer_id": inv["customer_id"], "limit": limit}).loc[hit.to_numpy()]
    when = when.loc[when["customer_id"].isin(det.index)]
    when = when.loc[(when["limit"] > det.reindex(when["customer_id"]).to_numpy()).to_numpy()]
    problem = when.groupby("customer_id")["limit"].min()
    problem = problem.loc[(problem > pd.Timestamp(first) + pd.Timedelta(days=7)) & (problem <= pd.Timestamp(last))]
    out: dict = {"n_deteriorating_problems": len(problem)}
    customers = problem.index.to_numpy()
    for m in METHODS:
        a = alerts.loc[alerts[m] & alerts["customer_id"].isin(customers), ["customer_id", "day"]]
        p = problem.reindex(a["customer_id"]).to_numpy()
        before = (a["day"].to_numpy() < p) & (a["day"].to_numpy() >= p - np.timedelta64(90, "D"))
        earliest = a.loc[before].groupby("customer_id")["day"].min()
        lead = (problem - earliest.reindex(problem.index)).dt.days.fillna(0).to_numpy(dtype=np.float64)
        v, lo, hi = ev.bootstrap_ci(lambda y, _: float(np.median(y)), lead, lead, n_boot=500)
        out[f"{m}_lead_days_median"] = [v, lo, hi]
        v, lo, hi = ev.bootstrap_ci(lambda y, _: float(np.mean(y > 0)), lead, lead, n_boot=500)
        out[f"{m}_alerted_before"] = [round(v, 3), round(lo, 3), round(hi, 3)]
    return out


def one(name: str) -> dict:
    fit_on, last, load = CASES[name]
    ledger = load()
    t = time.perf_counter()
    engine = pr.RiskEngine(reasons_top_n=0, forecast_weeks=0).fit(ledger, fit_on)
    fit_s = time.perf_counter() - t
    first = str((pd.Timestamp(fit_on) + pd.Timedelta(days=7)).date())
    looks = _looks(ledger, engine, first, last)
    outcome = pr.labels.customer_problem(ledger, looks[["customer_id"]].assign(as_of=looks["day"]))
    looks["problem"] = outcome["problem"].to_numpy()
    assert outcome["known"].all(), "the weeks looked at must end 90 days before the data"
    alerts = _alerts(looks)
    out = {
        "dataset": name,
        "fit_as_of": fit_on,
        "looked_to": last,
        "fit_s": round(fit_s, 1),
        "customer_weeks": len(looks),
        "base_rate": round(float(looks["problem"].mean()), 4),
        "alerts_per_week": round(float(alerts["two_late"].sum() / looks["day"].nunique()), 1),
    }
    groups = looks["customer_id"].to_numpy()
    y = looks["problem"].to_numpy()
    methods = METHODS
    if engine.problem_model_ is None:  # too few problems in the history: the engine says so and alerts no one
        out["engine"] = "left out: too few customer-months became a problem in the history"
        methods = METHODS[1:]
    for m in methods:
        on = alerts[m].to_numpy()
        v, lo, hi = ev.bootstrap_ci(
            lambda yy, aa: float(yy[aa > 0].mean()), y, on.astype(float), n_boot=300, groups=groups
        )
        out[f"{m}_precision"] = [round(v, 4), round(lo, 4), round(hi, 4)]
        if m != "two_late":
            v, lo, hi = ev.bootstrap_ci(ev.auc, y, looks[m].to_numpy(), n_boot=300, groups=groups)
            out[f"{m}_auc"] = [round(v, 4), round(lo, 4), round(hi, 4)]
    if engine.problem_model_ is not None:
        own = looks["engine_alert"].to_numpy()
        out["engine_alert_level"] = engine.alert_level
        out["engine_own_alerts_per_week"] = round(float(own.sum() / looks["day"].nunique()), 1)
        out["engine_own_precision"] = round(float(y[own].mean()), 4) if own.any() else None
        out["engine_ece"] = round(ev.ece(y, looks["engine"].to_numpy()), 4)
    if ledger.truth is not None:
        out |= _lead_times(ledger, looks, alerts, first, last)
        # precision against lead time: the same methods alerting on more customers a week
        out["volume_tradeoff"] = {}
        for volume in (1.5, 2.0, 3.0):
            more = _alerts(looks, volume)
            lead = _lead_times(ledger, looks, more, first, last)
            out["volume_tradeoff"][f"{volume:g}x"] = {
                m: {
                    "precision": round(float(y[more[m].to_numpy()].mean()), 4),
                    "lead_days": lead[f"{m}_lead_days_median"][0],
                }
                for m in methods
            }
    print(json.dumps(out), flush=True)
    return out


if __name__ == "__main__":
    names = sys.argv[1:] or list(CASES)
    results = [one(n) for n in names if n != "ibm" or (DATA / "ibm_accounts_receivable").is_dir()]
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "early_warning.json").write_text(json.dumps(results, indent=1))
