"""RiskEngine end to end: segments against the truth, priority against common practice, a real worklist, speed.

Run: ``.venv/bin/python benchmarks/bench_engine.py [case ...]``. Each case runs in a fresh process; results go to
``results/engine.json`` (and the printed tables).

- ``synthetic``: the default world (``make_ledger()``), fitted as of 2024-06-30 and scored as of 2024-07-31.
  Segments: adjusted Rand index and confusion matrix against the true archetypes. Priority: the cash still unpaid
  90 days later (the truth's P(unpaid) x open amount, and what really stayed unpaid) in the first 100 and 500
  overdue items of the list, beside ordering by days overdue and by amount (the common practice).
- ``ibm``: the IBM receivables, fitted as of 2013-06-30, scored as of 2013-09-30 (open items exist only by
  cutting the history): the first rows of the worklist with their reasons.
- ``score_speed``: an engine fitted on the default world scores the open items of a world of 255,000 customers
  with one year of history (about 1M open invoices at 2024-06-30): seconds and rows per second for the whole
  ``score`` (features, predictions, segments, priority), for reasons on the top 1,000 (exact and approximate),
  and the feature block by the one-day kernel beside the multi-cutoff kernel on the same rows.
- ``score_speed_long_history``: the same on 80,000 customers with 2.5 years of history before the scoring date
  (5.9M invoices, 335k open): how the cost grows with the history behind each open item.
- ``explain_cost``: TreeSHAP rows per second against accuracy for several model sizes, exact, approximate and
  the shap library.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
import payrisk as pr
from _common import RESULTS, main, previous_results
from payrisk import evaluation as ev

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
CASES: dict[str, dict[str, Any]] = {
    c: {"case": c} for c in ("synthetic", "ibm", "score_speed", "score_speed_long_history", "explain_cost")
}


def run_synthetic() -> dict:
    from sklearn.metrics import adjusted_rand_score

    ledger = pr.datasets.make_ledger()
    t0 = time.perf_counter()
    engine = pr.RiskEngine().fit(ledger, "2024-06-30")
    t_fit = time.perf_counter() - t0
    t0 = time.perf_counter()
    work = engine.score(ledger, "2024-07-31")
    t_score = time.perf_counter() - t0
    seg = engine.segmenter_.predict(ledger.as_of("2024-07-31"), "2024-07-31")
    truth = ledger.truth.archetype_at("2024-07-31").reindex(seg.index)
    known = seg["segment"] != "new"
    ari = adjusted_rand_score(truth[known], seg.loc[known, "segment"])
    confusion = pd.crosstab(truth, seg["segment"])
    # priority: cash still unpaid 90 days after the scoring date, in the first N overdue items of each order
    overdue = work.loc[work["days_overdue"] > 0].copy()
    day = pd.Timestamp("2024-07-31")
    elapsed = (day - overdue["due_date"]).dt.days.to_numpy()
    import dataclasses

    truth = ledger.truth
    truth = dataclasses.replace(truth, invoices=truth.invoices.loc[truth.invoices["invoice_id"].isin(overdue.index)])
    surv = truth.survival(np.unique(np.concatenate([elapsed, elapsed + 90]))).reindex(overdue.index)
    s_now = surv.to_numpy()[np.arange(len(overdue)), np.searchsorted(surv.columns.to_numpy(), elapsed)]
    s_later = surv.to_numpy()[np.arange(len(overdue)), np.searchsorted(surv.columns.to_numpy(), elapsed + 90)]
    overdue["true_at_risk"] = overdue["open_amount"] * np.where(s_now > 0, s_later / np.maximum(s_now, 1e-12), 1.0)
    paid = ledger.invoices.set_index("invoice_id")["paid_date"].reindex(overdue.index)
    overdue["really_unpaid"] = overdue["open_amount"] * ~(paid <= day + pd.Timedelta(days=90))
    orders = {
        "payrisk priority (expected loss)": overdue.sort_values("priority_rank").index,
        "days overdue (oldest first)": overdue.sort_values(["days_overdue", "open_amount"], ascending=False).index,
        "amount (largest first)": overdue.sort_values(["open_amount", "days_overdue"], ascending=False).index,
    }
    rows = []
    for name, idx in orders.items():
        for n in (100, 500):
            top = overdue.loc[idx[:n]]
            rows.append(
                {
                    "order": name,
                    "first_n": n,
                    "true_expected_unpaid_90d": float(top["true_at_risk"].sum()),
                    "really_unpaid_90d": float(top["really_unpaid"].sum()),
                }
            )
    figures = _figures(ledger, engine, work, seg, day)
    return {
        "figures": figures,
        "ari": ari,
        "confusion": confusion.to_dict(),
        "components": engine.segmenter_.components_.round(4).to_dict(),
        "priority": rows,
        "n_open": len(work),
        "n_overdue": len(overdue),
        "fit_seconds": t_fit,
        "score_seconds": t_score,
        "landmark_rows": engine.n_landmark_rows_,
    }


def _figures(
    ledger: pr.Ledger, engine: pr.RiskEngine, work: pd.DataFrame, seg: pd.DataFrame, day: pd.Timestamp
) -> dict:
    """Calibration and gains of p_late on the items not yet due (outcome read at the end of the data), the reason
    waterfall of the first item, the segment map and the heat list, as PNG under results/figures/."""
    from payrisk import plots

    folder = RESULTS / "figures"
    folder.mkdir(parents=True, exist_ok=True)
    not_due = work.loc[work["days_overdue"] == 0]
    outcome = pr.labels.late_payment(ledger)
    known = not_due.index.intersection(outcome.index)
    y, p = outcome.loc[known].to_numpy(), not_due.loc[known, "p_late"].to_numpy()
    X = pr.features.invoice_features(ledger.as_of(day), work.index[:1].to_frame(index=False).assign(as_of=day))
    phi = pr.explain.contributions(engine.time_model_, X).iloc[0]
    Xk = pr.features.invoice_features(ledger.as_of(day), known.to_frame(index=False).assign(as_of=day))
    shown = {
        "calibration.png": plots.calibration_curve(y, p, label="p_late, items not yet due"),
        "gains.png": plots.gains_chart(
            y,
            {
                "payrisk p_late": p,
                "prior late share": Xk["share_late"].fillna(0.5).to_numpy(),
                "amount": not_due.loc[known, "open_amount"].to_numpy(),
            },
        ),
        "reason_waterfall.png": plots.reason_waterfall(phi),
        "segment_map.png": plots.segment_map(seg),
        "priority_heat_list.png": plots.priority_heat_list(work, n=30),
    }
    for name, fig in shown.items():
        fig.savefig(folder / name, dpi=110)
    return {
        "folder": str(folder.relative_to(RESULTS.parent)),
        "files": sorted(shown),
        "late_auc_not_yet_due": ev.auc(y, p),
        "late_ece_not_yet_due": ev.ece(y, p),
        "n_not_yet_due": len(known),
    }


def run_ibm() -> dict:
    ledger = pr.datasets.load_ibm_ar(DATA / "ibm_accounts_receivable")
    # the Disputed flag has no date: an open invoice's own flag is not known while it is open (docs/models.md)
    engine = pr.RiskEngine(history_days=540, exclude_features=("disputed",)).fit(ledger, "2013-06-30")
    work = engine.score(ledger, "2013-09-30")
    cols = ["customer_id", "open_amount", "days_overdue", "p_late", "pay_p50", "p_paid_30d", "band", "segment"]
    head = work.head(8)
    return {
        "n_open": len(work),
        "rows": json.loads(
            head[[*cols, "reasons", "customer_reasons", "segment_why"]].to_json(orient="index", date_format="iso")
        ),
    }


def _score_speed(n_customers: int, start: str) -> dict:
    from payrisk.features._history import History, Prepared
    from payrisk.features._snapshot import SnapshotHistory

    engine = pr.RiskEngine().fit(pr.datasets.make_ledger(), "2024-06-30")
    day = "2024-06-30"
    t0 = time.perf_counter()
    big = pr.datasets.make_ledger(n_customers=n_customers, start=start, end=day, seed=5)
    out: dict[str, Any] = {"ledger_build_seconds": time.perf_counter() - t0, "history_start": start}
    out.update({t: len(getattr(big, t)) for t in ("customers", "invoices", "payments", "contacts")})
    engine.reasons_top_n = 0
    t0 = time.perf_counter()
    work = engine.score(big, day)
    out["score_seconds_no_reasons"] = time.perf_counter() - t0
    out["open_invoices"] = len(work)
    out["rows_per_second"] = len(work) / out["score_seconds_no_reasons"]
    print(f"score: {len(work):,} open invoices in {out['score_seconds_no_reasons']:.1f} s", flush=True)
    for method in ("exact", "approx"):
        engine.reasons_top_n, engine.reason_method = 1000, method
        t0 = time.perf_counter()
        engine.score(big, day)
        out[f"score_seconds_top1000_{method}"] = time.perf_counter() - t0
    # the customer-history block for the same rows: one-day kernel (bincounts) vs multi-cutoff kernel (streams)
    snap = big.as_of(day)
    prep = Prepared(snap)
    d = int((pd.Timestamp(day) - pd.Timestamp("1970-01-01")).days)
    pos = np.flatnonzero((prep.inv_issue <= d) & (prep.inv_paid > d))
    rows = (prep.inv_cust[pos], np.full(len(pos), d, dtype=np.int64), pos)
    for name, kernel in (("one_day_kernel", SnapshotHistory), ("multi_cutoff_kernel", History)):
        t0 = time.perf_counter()
        kernel(Prepared(snap), *rows).frame()
        out[f"customer_block_seconds_{name}"] = time.perf_counter() - t0
    X = pr.features.invoice_features(snap, day).iloc[:20_000]
    for method in ("exact", "approx"):
        t0 = time.perf_counter()
        pr.explain.contributions(engine.time_model_, X, method)
        out[f"reason_rows_per_second_{method}"] = len(X) / (time.perf_counter() - t0)
    return out


def run_score_speed() -> dict:
    return _score_speed(255_000, "2023-07-01")


def run_score_speed_long_history() -> dict:
    return _score_speed(80_000, "2022-01-01")


def run_explain_cost() -> dict:
    from payrisk.models import PaymentTimeModel

    ledger = pr.datasets.make_ledger()
    X = pr.features.invoice_features(ledger, "issue_date")
    target = pr.labels.days_to_pay(ledger, as_of="2024-06-30")
    issue = X["as_of"] + pd.Timedelta(days=1)
    test = X.index[(issue > "2024-06-30") & (issue <= "2024-08-31")]
    full = pr.labels.days_to_pay(ledger).to_frame().loc[test]
    rows = []
    for n_est, depth in ((100, 4), (200, 6), (400, 4), (600, 6)):
        m = PaymentTimeModel(n_estimators=n_est, max_depth=depth, early_stopping_rounds=10_000).fit(
            X.loc[target.index], target
        )
        c = ev.concordance_index(full["duration"], full["event"], m.predict_quantiles(X.loc[test], [0.5])[0.5])
        sample = X.loc[test].iloc[:5000]
        r = {"n_estimators": n_est, "max_depth": depth, "c_index": c}
        for method in ("exact", "approx", "shap"):
            t0 = time.perf_counter()
            pr.explain.contributions(m, sample, method)
            r[f"rows_per_s_{method}"] = len(sample) / (time.perf_counter() - t0)
        rows.append(r)
    return {"sizes": rows}


def run(case: str) -> dict:
    return globals()[f"run_{case}"]()


if __name__ == "__main__":
    main(
        "bench_engine",
        "engine",
        sys.argv[1:] or list(CASES),
        ["ari", "n_open", "open_invoices", "score_seconds_no_reasons", "rows_per_second"],
        keep=previous_results("engine"),
    )
