"""The engine's P(late) for new invoices beside the direct issue-date classifier and the prior (issue 22's
baseline): does the engine, trained on landmark rows, lose what its own parts know about invoices in their first
week?

Each dataset is fitted once (the engine and a LatePaymentClassifier on issue-date rows, both on what was known at
the fit date) and scored week by week after it: the invoices issued in each week are scored by the engine's
worklist at the week's end and by the classifier on their features at issue; the outcome is whether each was paid
late. AUCs with customer-bootstrap intervals, beside the customer's prior late share; on the synthetic worlds
also the oracle (the world's true probability of each invoice being late, ``truth.invoices.p_late``), and the ECE
of every probability (the prior's is a share, not a probability, and has none).

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
    rows = []
    for end in pd.date_range(day + pd.Timedelta(days=7), last, freq="7D"):
        new = X.index[((issued > end - pd.Timedelta(days=7)) & (issued <= end)).to_numpy()]
        new = new.intersection(outcome.index)
        worklist = engine.score(ledger, end)
        new = new.intersection(worklist.index)
        if not len(new):
            continue
        age = (end - issued.loc[new]).dt.days.to_numpy()
        q = direct_time.predict_quantiles(X.loc[new], (0.1, 0.5, 0.9), elapsed=age)
        issue_day = issued.loc[new].to_numpy()
        rows.append(
            pd.DataFrame(
                {
                    "week_end": end,
                    "paid_date": paid_date.loc[new].to_numpy(),
                    **{f"engine_{c}": worklist.loc[new, c].to_numpy() for c in ("pay_p10", "pay_p50", "pay_p90")},
                    **{
                        f"direct_pay_p{round(k * 100)}": issue_day + pd.to_timedelta(np.ceil(q[k]), unit="D").to_numpy()
                        for k in (0.1, 0.5, 0.9)
                    },
                    "customer_id": X.loc[new, "customer_id"].to_numpy(),
                    "late": outcome.loc[new].to_numpy(),
                    "engine": worklist.loc[new, "p_late"].to_numpy(),
                    "direct": direct.predict_proba(X.loc[new])[:, 1],
                    "prior": X.loc[new, "share_late"].fillna(float(np.nanmean(X.loc[train, "share_late"]))).to_numpy(),
                    "oracle": np.nan if truth is None else truth.loc[new].to_numpy(),
                },
                index=new,
            )
        )
    scored = pd.concat(rows)
    out = {
        "dataset": name,
        "select_size": select_size,
        "fit_as_of": fit_on,
        "scored_to": last,
        "n": len(scored),
        "fit_s": round(fit_s, 1),
    }
    groups = scored["customer_id"].to_numpy()
    y = scored["late"].to_numpy()
    for method in ("engine", "direct", "prior", "oracle")[: 4 if truth is not None else 3]:
        v, lo, hi = ev.bootstrap_ci(ev.auc, y, scored[method].to_numpy(), n_boot=200, groups=groups)
        out[f"{method}_auc"] = [round(v, 4), round(lo, 4), round(hi, 4)]
        if method != "prior":
            out[f"{method}_ece"] = round(ev.ece(y, scored[method].to_numpy()), 4)
    # payment dates of the new invoices paid by the end of the data (the same invoices for both models)
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
    print(json.dumps(out), flush=True)
    return out


if __name__ == "__main__":
    select = "--select-size" in sys.argv
    names = [a for a in sys.argv[1:] if a != "--select-size"] or list(CASES)
    results = [one(n, select) for n in names if n != "ibm" or (DATA / "ibm_accounts_receivable").is_dir()]
    RESULTS.mkdir(exist_ok=True)
    out = "new_invoices_select_size.json" if select else "new_invoices.json"
    (RESULTS / out).write_text(json.dumps(results, indent=1))
