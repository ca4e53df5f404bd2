"""The engine's P(late) for new invoices beside the direct issue-date classifier and the prior (issue 22's
baseline): does the engine, trained on landmark rows, lose what its own parts know about invoices in their first
week?

Each dataset is fitted once (the engine and a LatePaymentClassifier on issue-date rows, both on what was known at
the fit date) and scored week by week after it: the invoices issued in each week are scored by the engine's
worklist at the week's end and by the classifier on their features at issue; the outcome is whether each was paid
late. AUCs with customer-bootstrap intervals, beside the customer's prior late share; on the synthetic worlds
also the oracle (the world's true probability of each invoice being late, ``truth.invoices.p_late``), and the ECE
of every probability (the prior's is a share, not a probability, and has none). Payment dates: MAE of the median
and 80% interval coverage on those paid by the end of the data, beside the direct payment-time model (days from
issue, given the invoice's age).

``open_items`` gives the same figures for the older open items (issued more than 7 days before the week's end),
every fourth week: P(late) for those not yet due (the overdue ones are late already), payment dates for all.

Cases: the default world, the short-term world (monthly bills on 14-day terms), the short-term world with many
customers of few invoices each, and IBM's receivables (real).

Usage: python benchmarks/bench_new_invoices.py [--select-size] [synthetic] [short_term] [few_invoices] [ibm]
    -> benchmarks/results/new_invoices.json (new_invoices_select_size.json with --select-size: the engine's models
    choose their tree size by time-ordered validation, ``RiskEngine(select_size=True)``)
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
    "synthetic": ("2024-06-30", "2024-11-30", lambda: pr.datasets.make_ledger(n_customers=1500, seed=0)),
    "short_term": (
        "2024-06-30",
        "2024-11-30",
        lambda: pr.datasets.make_ledger(n_customers=5000, seed=0, params=pr.datasets.WorldParams.short_term()),
    ),
    "few_invoices": (
        "2024-06-30",
        "2024-11-30",
        lambda: pr.datasets.make_ledger(
            n_customers=20000,
            seed=0,
            params=pr.datasets.WorldParams.short_term(
                invoices_per_month_median=0.2, invoices_per_month_sigma=0.5, existing_customer_share=0.1
            ),
        ),
    ),
    "ibm": ("2013-06-30", "2013-11-30", lambda: pr.datasets.load_ibm_ar(DATA / "ibm_accounts_receivable")),
}


def _metrics(scored: pd.DataFrame, oracle: bool, data_end: pd.Timestamp) -> dict:
    """AUC and ECE of P(late) (customer-bootstrap intervals) on the rows not yet due; payment-date MAE and 80%
    coverage on the rows paid by the end of the data (the same rows for both models), and over all rows with the
    unpaid ones censored at the end of the data: the C-index of the median and the coverage (a censored row counts
    where it decides: unpaid beyond P90 is a miss). Paid rows alone flatter a model that expects an old debt to be
    paid soon."""
    out: dict = {"n": len(scored)}
    due = scored.loc[scored["not_due"]]
    out["n_not_due"] = len(due)
    groups = due["customer_id"].to_numpy()
    y = due["late"].to_numpy()
    for method in ("engine", "direct", "prior", "oracle")[: 4 if oracle else 3]:
        v, lo, hi = ev.bootstrap_ci(ev.auc, y, due[method].to_numpy(), n_boot=200, groups=groups)
        out[f"{method}_auc"] = [round(v, 4), round(lo, 4), round(hi, 4)]
        if method != "prior":
            v, lo, hi = ev.bootstrap_ci(ev.ece, y, due[method].to_numpy(), n_boot=200, groups=groups)
            out[f"{method}_ece"] = [round(v, 4), round(lo, 4), round(hi, 4)]
    paid = scored.loc[scored["paid_date"].notna()]
    out["n_paid"] = len(paid)
    for method in ("engine", "direct"):
        err = (paid[f"{method}_pay_p50"] - paid["paid_date"]).dt.days.abs().to_numpy(dtype=np.float64)
        inside = (paid[f"{method}_pay_p10"] <= paid["paid_date"]) & (paid["paid_date"] <= paid[f"{method}_pay_p90"])
        for key, values in (("pay_mae_days", err), ("pay_coverage_80", inside.to_numpy(dtype=np.float64))):
            v, lo, hi = ev.bootstrap_ci(
                lambda a, b: float(np.mean(a)), values, values, n_boot=200, groups=paid["customer_id"].to_numpy()
            )
            out[f"{method}_{key}"] = [round(v, 3), round(lo, 3), round(hi, 3)]
    event = scored["paid_date"].notna().to_numpy()
    until = scored["paid_date"].fillna(data_end)
    duration = (until - scored["week_end"]).dt.days.to_numpy(dtype=np.float64)
    for method in ("engine", "direct"):
        q = {
            k: (scored[f"{method}_pay_p{k}"] - scored["week_end"]).dt.days.to_numpy(dtype=np.float64)
            for k in (10, 50, 90)
        }
        out[f"{method}_pay_c_index"] = round(ev.concordance_index(duration, event, q[50]), 4)
        out[f"{method}_pay_coverage_80_censored"] = round(ev.interval_coverage(duration, q[10], q[90], event), 3)
    return out


def one(name: str, select_size: bool = False) -> dict:
    fit_on, last, load = CASES[name]
    ledger = load()
    day = pd.Timestamp(fit_on)
    t = time.perf_counter()
    engine = pr.RiskEngine(reasons_top_n=0, forecast_weeks=0, select_size=select_size).fit(ledger, day)
    X = pr.features.invoice_features(ledger, "issue_date")
    y_train = pr.labels.late_payment(ledger, as_of=day, mature_only=True)
    issued = X["as_of"] + pd.Timedelta(days=1)
    train = y_train.index.intersection(X.index[(issued <= day).to_numpy()])
    direct = pr.models.LatePaymentClassifier().fit(X.loc[train], y_train.loc[train])
    # the direct payment-time model: days from issue on the same issue-date rows, open invoices censored at the fit
    t_train = pr.labels.days_to_pay(ledger, as_of=day)
    fitted = X.index[(issued <= day).to_numpy()].intersection(t_train.index)
    at = t_train.index.get_indexer(fitted)
    direct_time = pr.models.PaymentTimeModel().fit(X.loc[fitted], t_train.duration[at], t_train.event[at])
    fit_s = time.perf_counter() - t
    outcome = pr.labels.late_payment(ledger)  # known at the end of the data
    paid_date = ledger.invoices.set_index("invoice_id")["paid_date"]
    truth = None if ledger.truth is None else ledger.truth.invoices.set_index("invoice_id")["p_late"]
    due_date = ledger.invoices.set_index("invoice_id")["due_date"]
    prior = X["share_late"].fillna(float(np.nanmean(X.loc[train, "share_late"])))

    def frame(ids: pd.Index, end: pd.Timestamp, worklist: pd.DataFrame) -> pd.DataFrame:
        """The rows of ``ids`` scored at ``end``: both models' P(late) and payment-date quantiles, the outcome."""
        age = (end - issued.loc[ids]).dt.days.to_numpy()
        q = direct_time.predict_quantiles(X.loc[ids], (0.1, 0.5, 0.9), elapsed=age)
        issue_day = issued.loc[ids].to_numpy()
        return pd.DataFrame(
            {
                "week_end": end,
                "paid_date": paid_date.loc[ids].to_numpy(),
                "not_due": (due_date.loc[ids] >= end).to_numpy(),
                **{f"engine_{c}": worklist.loc[ids, c].to_numpy() for c in ("pay_p10", "pay_p50", "pay_p90")},
                **{
                    f"direct_pay_p{round(k * 100)}": issue_day + pd.to_timedelta(np.ceil(q[k]), unit="D").to_numpy()
                    for k in (0.1, 0.5, 0.9)
                },
                "customer_id": X.loc[ids, "customer_id"].to_numpy(),
                "late": outcome.loc[ids].to_numpy(),
                "engine": worklist.loc[ids, "p_late"].to_numpy(),
                "direct": direct.predict_proba(X.loc[ids])[:, 1],
                "prior": prior.loc[ids].to_numpy(),
                "oracle": np.nan if truth is None else truth.loc[ids].to_numpy(),
            },
            index=ids,
        )

    new_rows, open_rows = [], []
    for end in pd.date_range(day + pd.Timedelta(days=7), last, freq="7D"):
        worklist = engine.score(ledger, end)
        scored_ids = worklist.index.intersection(outcome.index)
        fresh = ((issued.loc[scored_ids] > end - pd.Timedelta(days=7)) & (issued.loc[scored_ids] <= end)).to_numpy()
        if fresh.any():
            new_rows.append(frame(scored_ids[fresh], end, worklist))
        if (end - day).days % 28 == 7 and (~fresh).any():  # the older open items every fourth week
            open_rows.append(frame(scored_ids[~fresh], end, worklist))
    out = {
        "dataset": name,
        "select_size": select_size,
        "fit_as_of": fit_on,
        "scored_to": last,
        "fit_s": round(fit_s, 1),
    }
    out |= _metrics(pd.concat(new_rows), truth is not None, ledger.end_date)
    older = _metrics(pd.concat(open_rows), truth is not None, ledger.end_date)
    out["open_items"] = {"what": "open at the week's end and issued more than 7 days before it, every 4th week"} | older
    print(json.dumps(out), flush=True)
    return out


if __name__ == "__main__":
    select = "--select-size" in sys.argv
    names = [a for a in sys.argv[1:] if a != "--select-size"] or list(CASES)
    results = [one(n, select) for n in names if n != "ibm" or (DATA / "ibm_accounts_receivable").is_dir()]
    RESULTS.mkdir(exist_ok=True)
    out = "new_invoices_select_size.json" if select else "new_invoices.json"
    (RESULTS / out).write_text(json.dumps(results, indent=1))
