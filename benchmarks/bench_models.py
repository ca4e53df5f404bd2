"""Models beside their baselines, out of time, on the synthetic world and the real datasets of ``../shared/data``.

Run: ``.venv/bin/python benchmarks/bench_models.py [case ...]``. Every case runs in a fresh process; the rows
(task, model, metric, value, 95% bootstrap interval) go to ``results/models.json`` and ``results/models.md``.

- late payment: ``LatePaymentClassifier`` vs (a) the customer's prior late share, (b) logistic regression on the
  same features; on the synthetic world also the oracle (ranking by the true probability).
- payment time: ``PaymentTimeModel`` vs Kaplan-Meier and Cox PH (lifelines, in the pandas-2 venv of ``_ft_env``)
  on the same features.
- adherence: ``InstallmentAdherenceClassifier`` vs (a) the customer's past instalments paid on time, (b) logistic
  regression; on the synthetic world also the oracle.

Training sets are cut at an origin with the outcomes known then (mature labels, censored payment times), test
sets are the invoices / plans that start after it, with the outcomes known at the end of the data. Intervals
resample customers whole.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
import payrisk as pr
from _common import RESULTS, machine, previous_results, run_case_in_child
from payrisk import evaluation as ev
from payrisk.models import InstallmentAdherenceClassifier, LatePaymentClassifier, PaymentTimeModel

DATA = Path(os.environ.get("PAYRISK_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
N_BOOT = 200
GRID = np.arange(0, 366, dtype=float)  # days from the origin of the payment-time target

CASES: dict[str, dict[str, Any]] = {
    name: {"case": name}
    for name in (
        "synthetic_invoices",
        "synthetic_adherence",
        "ibm",
        "berka",
        "home_credit",
        "loan_collections",
        "speed_1m",
    )
}


# -- shared pieces ----------------------------------------------------------------------------------------------
def _features(X: pd.DataFrame) -> list[str]:
    """The registry features present in ``X`` (what every model here is given)."""
    return [c for c in pr.features.registry.index if c in X.columns]


def _linear_design(Xtr: pd.DataFrame, Xte: pd.DataFrame, cols: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Median imputation with missing-value indicators, then standardisation (fitted on the training rows)."""
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    pipe = make_pipeline(SimpleImputer(strategy="median", add_indicator=True), StandardScaler())
    A = pipe.fit_transform(Xtr[cols].to_numpy(dtype=float))
    B = pipe.transform(Xte[cols].to_numpy(dtype=float))
    keep = A.std(axis=0) > 0
    return A[:, keep], B[:, keep]


def _logistic(Xtr: pd.DataFrame, ytr: Any, Xte: pd.DataFrame, cols: list[str]) -> np.ndarray:
    from sklearn.linear_model import LogisticRegression

    A, B = _linear_design(Xtr, Xte, cols)
    return LogisticRegression(max_iter=3000).fit(A, np.asarray(ytr)).predict_proba(B)[:, 1]


def _row(task: str, model: str, metric: str, value: float, lo: float = np.nan, hi: float = np.nan, **kw: Any) -> dict:
    nums = {"value": float(value), "ci_low": float(lo), "ci_high": float(hi)}
    return {"task": task, "model": model, "metric": metric, **nums, **kw}


def _classification_rows(
    task: str, y: Any, preds: dict[str, np.ndarray], groups: Any, truth: np.ndarray | None = None
) -> list[dict]:
    """AUC (with interval), Brier, log loss, ECE and calibration slope of each prediction; oracle when known."""
    y = np.asarray(y, dtype=float)
    rows = []
    if truth is not None:
        preds = {**preds, "oracle (true probability)": truth}
    for name, p in preds.items():
        p = np.clip(np.asarray(p, dtype=float), 1e-6, 1 - 1e-6)
        v, lo, hi = ev.bootstrap_ci(ev.auc, y, p, n_boot=N_BOOT, groups=groups)
        rows.append(_row(task, name, "auc", v, lo, hi, n=len(y), positives=int(y.sum())))
        for metric, fn in (("brier", ev.brier), ("log_loss", ev.log_loss), ("ece", ev.ece)):
            rows.append(_row(task, name, metric, fn(y, p)))
        slope, intercept = ev.calibration_slope_intercept(y, p)
        rows.append(_row(task, name, "calibration_slope", slope))
        rows.append(_row(task, name, "calibration_intercept", intercept))
        if truth is not None:
            rows.append(_row(task, name, "ece_vs_truth", ev.ece(truth, p)))
    return rows


def _prior_share(X: pd.DataFrame, col: str, fallback: float, invert: bool = False) -> np.ndarray:
    s = X[col].fillna(fallback).to_numpy(dtype=float)
    return 1 - s if invert else s


# -- payment time ---------------------------------------------------------------------------------------------
def _quantiles_from_curve(surv: np.ndarray, grid: np.ndarray, qs: tuple[float, ...]) -> dict[float, np.ndarray]:
    """Per row, the first grid day where P(paid) reaches q (inf when it never does on the grid)."""
    out = {}
    for q in qs:
        hit = surv <= 1 - q
        first = hit.argmax(axis=1)
        out[q] = np.where(hit.any(axis=1), grid[first], np.inf)
    return out


def _cox_and_km(Xtr: pd.DataFrame, ttr: Any, Xte: pd.DataFrame, cols: list[str]) -> dict[str, Any]:
    """Fit Kaplan-Meier and Cox PH with lifelines in the pandas-2 venv; survival curves of the test rows."""
    from _ft_env import ensure_featuretools_venv

    python = ensure_featuretools_venv()
    A, B = _linear_design(Xtr, Xte, cols)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        names = [f"x{i}" for i in range(A.shape[1])]
        tr = pd.DataFrame(A, columns=names).assign(duration=ttr.duration, event=ttr.event.astype(int))
        tr.to_parquet(folder / "train.parquet")
        pd.DataFrame(B, columns=names).to_parquet(folder / "test.parquet")
        (folder / "grid.json").write_text(json.dumps(GRID.tolist()))
        script = Path(__file__).resolve().parent / "cox_baseline.py"
        done = subprocess.run([str(python), str(script), str(folder)], capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"cox_baseline.py failed:\n{done.stderr[-3000:]}")
        cox = pd.read_parquet(folder / "cox_test.parquet")
        km = pd.read_parquet(folder / "km.parquet")["s"].to_numpy()
        fit = json.loads((folder / "fit.json").read_text())
    surv = cox[[f"s_{int(d)}" for d in GRID]].to_numpy()
    return {"cox_risk": cox["risk"].to_numpy(), "cox_surv": surv, "km_surv": km, **fit}


def _survival_rows(
    task: str, Xtr: pd.DataFrame, ttr: Any, Xte: pd.DataFrame, tte: Any, model: PaymentTimeModel, tau: float
) -> list[dict]:
    """C-index (Harrell, Uno), integrated Brier, 80% interval coverage and median errors: model, Cox, KM."""
    cols = _features(Xtr)
    base = _cox_and_km(Xtr, ttr, Xte, cols)
    d, e = tte.duration.astype(float), tte.event.astype(bool)
    groups = Xte["customer_id"].to_numpy()
    grid = GRID[(GRID >= 1) & (tau >= GRID)]
    at = np.searchsorted(GRID, grid)
    q_model = model.predict_quantiles(Xte, [0.1, 0.5, 0.9])
    curves = {
        "PaymentTimeModel": (model.predict_survival(Xte, grid).to_numpy(), q_model[0.5].to_numpy(), q_model),
        "Cox PH (lifelines)": (base["cox_surv"][:, at], -base["cox_risk"], None),
        "Kaplan-Meier": (np.broadcast_to(base["km_surv"][at], (len(d), len(grid))), np.zeros(len(d)), None),
    }
    rows = []
    for name, (surv, order, q) in curves.items():
        if q is None:
            full = base["cox_surv"] if name.startswith("Cox") else np.broadcast_to(base["km_surv"], (len(d), len(GRID)))
            q = _quantiles_from_curve(full, GRID, (0.1, 0.5, 0.9))
        q10, q50, q90 = (np.asarray(q[k], dtype=float) for k in (0.1, 0.5, 0.9))
        both = np.column_stack([d, e])

        def harrell(b: np.ndarray, o: np.ndarray) -> float:
            return ev.concordance_index(b[:, 0], b[:, 1].astype(bool), o)

        v, lo, hi = ev.bootstrap_ci(harrell, both, order, n_boot=min(N_BOOT, 100), groups=groups)
        rows.append(_row(task, name, "c_index_harrell", v, lo, hi, n=len(d), events=int(e.sum())))
        rows.append(_row(task, name, "c_index_uno", ev.concordance_index_ipcw(d, e, order, tau=tau)))
        rows.append(_row(task, name, "integrated_brier", ev.integrated_brier_score(d, e, surv, grid)))
        rows.append(_row(task, name, "coverage_80", ev.interval_coverage(d, q10, q90, event=e)))
        rows.append(_row(task, name, "pinball_50_paid", ev.pinball_loss(d[e], np.minimum(q50[e], 1e4), 0.5)))
        rows.append(_row(task, name, "mae_median_paid", float(np.mean(np.abs(d[e] - np.minimum(q50[e], 1e4))))))
    rows.append(_row(task, "Cox PH (lifelines)", "fit_seconds", base["seconds_cox"]))
    return rows


def _fit_time_model(Xtr: pd.DataFrame, ttr: Any) -> tuple[PaymentTimeModel, float]:
    t0 = time.perf_counter()
    model = PaymentTimeModel().fit(Xtr, ttr)
    return model, time.perf_counter() - t0


# -- cases ------------------------------------------------------------------------------------------------------
def _synthetic_world() -> tuple[pr.Ledger, pd.DataFrame]:
    ledger = pr.datasets.make_ledger(n_customers=4000, seed=1)
    return ledger, pr.features.invoice_features(ledger, "issue_date")


def _late_case(task: str, X: pd.DataFrame, ytr: pd.Series, yte: pd.Series, truth: Any = None, **fit: Any) -> dict:
    """Model, prior late share and logistic regression, trained on ``ytr`` rows and tested on ``yte`` rows."""
    Xtr, Xte = X.loc[ytr.index], X.loc[yte.index]
    cols = _features(X)
    t0 = time.perf_counter()
    clf = LatePaymentClassifier(**fit).fit(Xtr[["as_of", *cols]], ytr)
    seconds = time.perf_counter() - t0
    preds = {
        "LatePaymentClassifier": clf.predict_proba(Xte[cols])[:, 1],
        "prior late share": _prior_share(Xte, "share_late", float(ytr.mean())),
        "logistic regression": _logistic(Xtr, ytr, Xte, cols),
    }
    rows = _classification_rows(task, yte, preds, Xte["customer_id"].to_numpy(), truth)
    rows.append(_row(task, "LatePaymentClassifier", "fit_seconds", seconds, n_train=len(Xtr)))
    return {"rows": rows, "calibration": clf.calibration_method_, "best_iteration": clf.best_iteration_}


def run_synthetic_invoices() -> dict:
    ledger, X = _synthetic_world()
    origin = pd.Timestamp("2024-06-30")
    issue = X["as_of"] + pd.Timedelta(days=1)
    ytr = pr.labels.late_payment(ledger, as_of=origin, mature_only=True)
    y_end = pr.labels.late_payment(ledger)
    test = X.index[(issue > origin) & (issue <= origin + pd.Timedelta(days=92))]
    yte = y_end.loc[y_end.index.intersection(test)]
    truth = ledger.truth.invoices.set_index("invoice_id")["p_late"].reindex(yte.index).to_numpy()
    out = _late_case("late payment (synthetic)", X, ytr, yte, truth)
    # payment time: censored at the origin for training; a cohort with at least 122 days of follow-up for testing
    ttr = pr.labels.days_to_pay(ledger, as_of=origin)
    t_end = pr.labels.days_to_pay(ledger).to_frame()
    cohort = X.index[(issue > origin) & (issue <= origin + pd.Timedelta(days=62))]
    tte = t_end.loc[cohort]
    model, seconds = _fit_time_model(X.loc[ttr.index], ttr)
    task = "payment time (synthetic)"
    rows = _survival_rows(task, X.loc[ttr.index], ttr, X.loc[cohort], tte, model, tau=120)
    rows.append(_row(task, "PaymentTimeModel", "fit_seconds", seconds, n_train=len(ttr)))
    return {
        "rows": out["rows"] + rows,
        "info": {
            "world": "make_ledger(n_customers=4000, seed=1)",
            "origin": str(origin.date()),
            "n_train_late": len(ytr),
            "n_test_late": len(yte),
            "late_calibration": out["calibration"],
            "aft_distribution": model.distribution_,
            "aft_sigma": model.sigma_,
        },
    }


def _past_installments_on_time(
    ledger: pr.Ledger, customer: pd.Series, cutoff: pd.Series, grace_days: int = 30
) -> np.ndarray:
    """Share of the customer's instalments decided by ``cutoff`` (due + grace) that were paid in full on time.

    Customers with none decided get NaN. Vectorised with an as-of merge on the decision day.
    """
    ins = ledger.installments.merge(ledger.plans[["plan_id", "customer_id"]], on="plan_id", suffixes=("_i", ""))
    full = ins["paid_date"].notna() & (ins["amount_paid"] >= ins["amount_due"] - 0.005)
    hist = pd.DataFrame(
        {
            "customer_id": ins["customer_id"].astype(str),
            "decided": ins["due_date"] + pd.Timedelta(days=grace_days),
            "on_time": (full & (ins["paid_date"] <= ins["due_date"])).astype(float),
        }
    ).sort_values("decided")
    hist["n"] = hist.groupby("customer_id").cumcount() + 1.0
    hist["k"] = hist.groupby("customer_id")["on_time"].cumsum()
    q = pd.DataFrame({"customer_id": customer.astype(str).to_numpy(), "at": pd.to_datetime(cutoff).to_numpy()})
    q["row"] = np.arange(len(q))
    m = pd.merge_asof(
        q.sort_values("at"), hist, left_on="at", right_on="decided", by="customer_id", allow_exact_matches=True
    )
    m = m.sort_values("row")
    return (m["k"] / m["n"]).to_numpy(dtype=float)


def _adherence_case(
    task: str,
    ledger: pr.Ledger,
    P: pd.DataFrame,
    ytr: pd.Series,
    yte: pd.Series,
    truth: Any = None,
    grace_days: int = 30,
    **fit: Any,
) -> list[dict]:
    Ptr, Pte = P.loc[ytr.index], P.loc[yte.index]
    cols = [c for c in P.columns if c not in ("customer_id", "as_of", "installment_no")]
    cols = [c for c in cols if pd.api.types.is_numeric_dtype(P[c])]
    t0 = time.perf_counter()
    clf = InstallmentAdherenceClassifier(**fit).fit(Ptr[["as_of", *cols]], ytr)
    seconds = time.perf_counter() - t0
    share = _past_installments_on_time(ledger, Pte["customer_id"], Pte["as_of"], grace_days)
    fallback = float(ytr.mean())
    if "share_late" in Pte.columns:  # no past instalments: the invoices' on-time share, then the training mean
        share = np.where(np.isnan(share), 1 - Pte["share_late"].to_numpy(dtype=float), share)
    preds = {
        "InstallmentAdherenceClassifier": clf.predict_proba(Pte[cols])[:, 1],
        "past instalments on time": np.where(np.isnan(share), fallback, share),
        "logistic regression": _logistic(Ptr, ytr, Pte, cols),
    }
    rows = _classification_rows(task, yte, preds, Pte["customer_id"].to_numpy(), truth)
    rows.append(_row(task, "InstallmentAdherenceClassifier", "fit_seconds", seconds, n_train=len(Ptr)))
    return rows


def _next_installment_labels(
    Q: pd.DataFrame, ledger: pr.Ledger, as_of: pd.Timestamp, grace_days: int = 30
) -> pd.Series:
    """1 when the row's instalment is paid in full within ``grace_days`` of its due date; rows decided by ``as_of``
    and still unpaid at their cutoff.

    ``Q`` is a flat frame of ``plan_features(ledger, "installment_due")`` (columns ``plan_id``, ``installment_no``).
    """
    ins = ledger.installments.set_index(["plan_id", "installment_no"])
    row = ins.reindex(pd.MultiIndex.from_arrays([Q["plan_id"], Q["installment_no"].astype(int)]))
    limit = (row["due_date"] + pd.Timedelta(days=grace_days)).to_numpy()
    paid = row["paid_date"].to_numpy()
    full = (row["amount_paid"] >= row["amount_due"] - 0.005).to_numpy()
    ok = (paid <= limit) & (paid <= np.datetime64(as_of)) & full  # NaT compares False
    decided = limit <= np.datetime64(as_of)
    # an instalment already paid at its cutoff (paid early) has no question left to predict: leave it out; so is
    # one whose plan is already broken (the instalment before it not paid in full by the cutoff)
    cutoff = Q["as_of"].to_numpy()
    open_at_cutoff = ~(paid <= cutoff)
    prev = ins.reindex(pd.MultiIndex.from_arrays([Q["plan_id"], Q["installment_no"].astype(int) - 1]))
    prev_ok = prev["due_date"].isna().to_numpy() | (
        (prev["paid_date"].to_numpy() <= cutoff) & (prev["amount_paid"] >= prev["amount_due"] - 0.005).to_numpy()
    )
    return pd.Series(ok.astype(np.int8), index=Q.index)[decided & open_at_cutoff & prev_ok]


def run_synthetic_adherence() -> dict:
    ledger = pr.datasets.make_ledger(n_customers=16000, seed=1)
    origin = pd.Timestamp("2023-12-31")
    P = pr.features.plan_features(ledger, "created_date")
    ytr = pr.labels.plan_kept(ledger, as_of=origin, mature_only=True)
    y_end = pr.labels.plan_kept(ledger, mature_only=True)
    created = P["as_of"] + pd.Timedelta(days=1)
    yte = y_end.loc[y_end.index.intersection(P.index[created > origin])]
    truth = ledger.truth.plans.set_index("plan_id")["p_kept"].reindex(yte.index).to_numpy()
    rows = _adherence_case("plan kept, at creation (synthetic)", ledger, P, ytr, yte, truth)
    # during a plan: P(next instalment paid) for plans not yet broken, at the day before each due date
    Q = pr.features.plan_features(ledger, "installment_due").reset_index()
    due = Q["as_of"] + pd.Timedelta(days=1)
    q_tr = _next_installment_labels(Q.loc[due <= origin - pd.Timedelta(days=30)], ledger, origin)
    q_te = _next_installment_labels(Q.loc[due > origin], ledger, ledger.end_date)
    p_paid = ledger.truth.installments.set_index(["plan_id", "installment_no"])["p_paid"]
    te = Q.loc[q_te.index]
    truth_q = p_paid.reindex(pd.MultiIndex.from_arrays([te["plan_id"], te["installment_no"].astype(int)])).to_numpy()
    rows += _adherence_case("next instalment paid, during a plan (synthetic)", ledger, Q, q_tr, q_te, truth_q)
    info = {"world": "make_ledger(n_customers=16000, seed=1)", "origin": str(origin.date())}
    return {"rows": rows, "info": {**info, "plans_train": len(ytr), "plans_test": len(yte)}}


def _select_late_params(X: pd.DataFrame, y: pd.Series, inner_cut: pd.Timestamp, settle: pd.Series) -> dict:
    """Choose monotone constraints and depth on an inner out-of-time split of the training rows only.

    Fit on rows issued (and settled) before ``inner_cut``, score log loss on the later training rows.
    """
    issue = X["as_of"] + pd.Timedelta(days=1)
    inner = y.index[(issue.loc[y.index] < inner_cut) & (settle.loc[y.index] < inner_cut)]
    later = y.index[issue.loc[y.index] >= inner_cut]
    cols = _features(X)
    scores = {}
    for monotone in (False, True):
        for depth in (2, 4):
            clf = LatePaymentClassifier(monotone=monotone, max_depth=depth).fit(
                X.loc[inner, ["as_of", *cols]], y[inner]
            )
            scores[(monotone, depth)] = ev.log_loss(y[later], clf.predict_proba(X.loc[later, cols])[:, 1])
    monotone, depth = min(scores, key=scores.get)
    return {"monotone": monotone, "max_depth": depth}


def _leaky_random_split(ledger: pr.Ledger, y: pd.Series) -> float:
    """What published figures do: random split, customer late share over the full history (own outcome included)."""
    import xgboost as xgb
    from sklearn.model_selection import train_test_split

    inv = ledger.invoices.set_index("invoice_id").loc[y.index]
    frame = pd.DataFrame(
        {
            "customer_late_share": y.groupby(inv["customer_id"]).transform("mean"),
            "customer_days_late_mean": (inv["paid_date"] - inv["due_date"])
            .dt.days.clip(lower=0)
            .groupby(inv["customer_id"])
            .transform("mean"),
            "amount": inv["amount"],
            "disputed": inv["disputed"].astype(float),
            "paperless": (inv["channel"] == "Electronic").astype(float),
        }
    )
    a, b, ya, yb = train_test_split(frame, y, test_size=0.25, random_state=0, stratify=y)
    clf = xgb.XGBClassifier(n_estimators=200, max_depth=3, learning_rate=0.05, n_jobs=2).fit(a, ya)
    return ev.auc(yb, clf.predict_proba(b)[:, 1])


def run_ibm() -> dict:
    ledger = pr.datasets.load_ibm_ar(DATA / "ibm_accounts_receivable")
    X = pr.features.invoice_features(ledger, "issue_date")
    cut = pd.Timestamp("2013-07-01")
    issue = X["as_of"] + pd.Timedelta(days=1)
    inv = ledger.invoices.set_index("invoice_id")
    settle = inv["paid_date"].reindex(X.index)
    y = pr.labels.late_payment(ledger)
    ytr = y.loc[X.index[(issue < cut) & (settle < cut)]]
    yte = y.loc[X.index[issue >= cut]]
    params = _select_late_params(X, ytr, pd.Timestamp("2013-01-01"), settle)
    no_dispute = X.drop(columns=["disputed", "share_disputed"])
    own_flag = X.assign(disputed=inv["disputed"].reindex(X.index).astype(float))
    rows: list[dict] = []
    info: dict[str, Any] = {"chosen_params": params, "n_train": len(ytr), "n_test": len(yte)}
    for label, frame in (
        ("without dispute features", no_dispute),
        ("with the dispute history (past invoices' flags)", X),
        ("with the invoice's own dispute flag at issue (leaks)", own_flag),
    ):
        out = _late_case(f"late payment (IBM, {label})", frame, ytr, yte, **params)
        rows += out["rows"]
        info[f"calibration, {label}"] = out["calibration"]
    rows.append(
        _row(
            "late payment (IBM, random split, full-history customer means: leaks)",
            "XGBoost",
            "auc",
            _leaky_random_split(ledger, y),
        )
    )
    # payment time: trained on invoices issued before the cut, censored there; tested on later ones (all settled)
    ttr = pr.labels.days_to_pay(ledger, as_of=cut - pd.Timedelta(days=1))
    tte = pr.labels.days_to_pay(ledger).to_frame().loc[yte.index]
    Xs = no_dispute
    model, seconds = _fit_time_model(Xs.loc[ttr.index], ttr)
    task = "payment time (IBM)"
    rows += _survival_rows(task, Xs.loc[ttr.index], ttr, Xs.loc[yte.index], tte, model, tau=75)
    rows.append(_row(task, "PaymentTimeModel", "fit_seconds", seconds, n_train=len(ttr)))
    # days late: the median of the payment-time model beside the median predictor (0 days late)
    due = (inv["due_date"] - inv["issue_date"]).dt.days.reindex(yte.index).to_numpy()
    actual = np.maximum(tte["duration"].to_numpy() - due, 0)
    q50 = model.predict_quantiles(Xs.loc[yte.index], [0.5])[0.5].to_numpy()
    task = "days late (IBM)"
    groups = Xs.loc[yte.index, "customer_id"].to_numpy()

    def mae(a: np.ndarray, b: np.ndarray) -> float:
        return float(np.mean(np.abs(a - b)))

    v, lo, hi = ev.bootstrap_ci(mae, actual, np.maximum(q50 - due, 0), n_boot=N_BOOT, groups=groups)
    rows.append(_row(task, "PaymentTimeModel median", "mae_days", v, lo, hi, n=len(actual)))
    v, lo, hi = ev.bootstrap_ci(mae, actual, np.zeros(len(actual)), n_boot=N_BOOT, groups=groups)
    rows.append(_row(task, "median predictor (0 days)", "mae_days", v, lo, hi))
    prior = Xs.loc[yte.index, "days_late_median"] if "days_late_median" in Xs else None
    if prior is not None:
        rows.append(
            _row(task, "customer's prior median days late", "mae_days", mae(actual, prior.fillna(0).to_numpy()))
        )
    return {"rows": rows, "info": info}


def _numeric_customer_attributes(ledger: pr.Ledger, P: pd.DataFrame) -> pd.DataFrame:
    """Numeric customer attributes (``attr_`` columns) joined to feature rows by customer."""
    cust = ledger.customers.set_index("customer_id")
    num = cust.select_dtypes("number").add_prefix("attr_")
    return P.join(num, on="customer_id")


def run_berka() -> dict:
    ledger = pr.datasets.load_berka(DATA / "berka_pkdd99")
    plans = ledger.plans.set_index("plan_id")
    P = _numeric_customer_attributes(ledger, pr.features.plan_features(ledger, "created_date"))
    P["attr_owner_age"] = (
        P["as_of"] - ledger.customers.set_index("customer_id")["birth_date"].reindex(P["customer_id"]).to_numpy()
    ).dt.days / 365.25
    finished = plans.index[plans["finished"].astype(bool)]
    y = plans.loc[finished, "kept"].astype(np.int8)
    created = plans.loc[finished, "created_date"]
    cut = pd.Timestamp("1996-01-01")
    ytr, yte = y[created < cut], y[created >= cut]
    cols = [c for c in P.columns if c not in ("customer_id", "as_of", "installment_no")]
    Ptr, Pte = P.loc[ytr.index], P.loc[yte.index]
    clf = InstallmentAdherenceClassifier().fit(Ptr[["as_of", *cols]], ytr)
    preds = {
        "InstallmentAdherenceClassifier": clf.predict_proba(Pte[cols])[:, 1],
        "past instalments on time (none in this data: training mean)": np.full(len(yte), float(ytr.mean())),
        "logistic regression": _logistic(Ptr, ytr, Pte, [c for c in cols if Ptr[c].notna().any()]),
    }
    rows = _classification_rows("plan kept, at creation (Berka, finished loans)", yte, preds, Pte["customer_id"])
    return {"rows": rows, "info": {"n_train": len(ytr), "n_test": len(yte), "cut": str(cut.date())}}


def run_home_credit() -> dict:
    ledger = pr.datasets.load_home_credit(DATA / "home_credit_installments_sample")
    Q = pr.features.plan_features(ledger, "installment_due").reset_index()
    due = Q["as_of"] + pd.Timedelta(days=1)
    cut = due.quantile(0.8).normalize()
    end = ledger.installments["due_date"].max() + pd.Timedelta(days=1)
    ytr = _next_installment_labels(Q.loc[due <= cut], ledger, cut, grace_days=0)
    yte = _next_installment_labels(Q.loc[due > cut], ledger, end, grace_days=0)
    rows = _adherence_case("instalment paid on time (Home Credit)", ledger, Q, ytr, yte, grace_days=0)
    return {"rows": rows, "info": {"cut": str(cut.date()), "n_train": len(ytr), "n_test": len(yte)}}


def run_loan_collections() -> dict:
    ledger = pr.datasets.load_loan_collections(DATA / "loan_payments_collections")
    snapshot = pd.Timestamp(ledger.meta["snapshot_date"])
    X = _numeric_customer_attributes(ledger, pr.features.invoice_features(ledger, "issue_date"))
    target = pr.labels.days_to_pay(ledger, as_of=snapshot)
    issue = X["as_of"] + pd.Timedelta(days=1)
    cut = pd.Timestamp("2016-09-12")  # 296 loans before, 204 from
    tr, te = X.index[issue < cut], X.index[issue >= cut]
    frame = target.to_frame()
    ttr = pr.labels.SurvivalTarget.from_arrays(frame.loc[tr, "duration"], frame.loc[tr, "event"])
    model, _ = _fit_time_model(X.loc[tr], ttr)
    task = "payment time (loan collections, cohort split)"
    rows = _survival_rows(task, X.loc[tr], ttr, X.loc[te], frame.loc[te], model, tau=60)
    return {"rows": rows, "info": {"n_train": len(tr), "n_test": len(te), "snapshot": str(snapshot.date())}}


def run_speed_1m() -> dict:
    from sklearn.linear_model import LogisticRegression

    ledger = pr.datasets.make_ledger(n_invoices=1_500_000, seed=3)  # about 1.1M with a mature label
    t0 = time.perf_counter()
    X = pr.features.invoice_features(ledger, "issue_date")
    t_feat = time.perf_counter() - t0
    y = pr.labels.late_payment(ledger, mature_only=True).iloc[:1_000_000]
    X = X.loc[y.index]
    cols = _features(X)
    t0 = time.perf_counter()
    LatePaymentClassifier().fit(X[["as_of", *cols]], y)
    t_fit = time.perf_counter() - t0
    A, _ = _linear_design(X, X.iloc[:1], cols)
    t0 = time.perf_counter()
    LogisticRegression(max_iter=3000).fit(A, y.to_numpy())
    t_lr = time.perf_counter() - t0
    task = "training speed (synthetic, 1M invoices)"
    return {
        "rows": [
            _row(task, "invoice_features", "seconds", t_feat, n=len(X)),
            _row(task, "LatePaymentClassifier.fit", "seconds", t_fit, n=len(X)),
            _row(task, "logistic regression (sklearn lbfgs) fit", "seconds", t_lr, n=len(X)),
        ]
    }


# -- runner ------------------------------------------------------------------------------------------------------
def run(case: str) -> dict:
    return globals()[f"run_{case}"]()


def markdown(rows: list[dict]) -> str:
    """One table per task: models as rows, the headline metrics as columns (value [95% interval])."""
    df = pd.DataFrame(rows)
    out = []
    for task, part in df.groupby("task", sort=False):
        metrics = list(dict.fromkeys(part["metric"]))
        out.append(f"### {task}\n")
        out.append("| model | " + " | ".join(metrics) + " |")
        out.append("| --- " * (len(metrics) + 1) + "|")
        for model, m in part.groupby("model", sort=False):
            cells = []
            for metric in metrics:
                r = m.loc[m["metric"] == metric]
                if r.empty:
                    cells.append("")
                    continue
                r = r.iloc[0]
                cell = f"{r['value']:.4g}"
                if pd.notna(r.get("ci_low")):
                    cell += f" [{r['ci_low']:.3g}, {r['ci_high']:.3g}]"
                cells.append(cell)
            out.append(f"| {model} | " + " | ".join(cells) + " |")
        out.append("")
    return "\n".join(out)


def main(cases: list[str]) -> None:
    keep = [r for r in previous_results("models") if r.get("case") not in cases]
    rows, infos = [], {}
    for case in cases:
        print(f"running {case} ...", flush=True)
        t0 = time.perf_counter()
        res = run_case_in_child("bench_models", case)
        stamp = time.strftime("%Y-%m-%d %H:%M:%S")
        for r in res["rows"]:
            rows.append({**r, "case": case, "measured": stamp})
        infos[case] = {**res.get("info", {}), "peak_rss_mb": res["peak_rss_mb"], "seconds": time.perf_counter() - t0}
        print(markdown([r for r in rows if r["case"] == case]), flush=True)
    old_info = {}
    path = RESULTS / "models.json"
    if path.is_file():
        old_info = {k: v for k, v in json.loads(path.read_text()).get("info", {}).items() if k not in cases}
    rows = keep + rows
    order = [c for c in CASES if any(r["case"] == c for r in rows)]
    rows.sort(key=lambda r: order.index(r["case"]))
    doc = {"benchmark": "models", "machine": machine(), "info": {**old_info, **infos}, "results": rows}
    RESULTS.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=2, default=float), encoding="utf-8")
    (RESULTS / "models.md").write_text(
        "# Models beside their baselines (written by benchmarks/bench_models.py)\n\n" + markdown(rows),
        encoding="utf-8",
    )
    print(f"written {path} and models.md")


if __name__ == "__main__":
    main(sys.argv[1:] or list(CASES))
