"""The model benchmark suite behind ``payrisk benchmark``, and the gate that compares a run with a baseline.

Every metric is out of time: models are fitted on what was known at a date and scored on what came after.
The suite is deterministic for fixed settings (same seed, data and library versions give the same figures), so
a tolerance only has to absorb platform and library differences and deliberate trade-offs.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict

import numpy as np
import pandas as pd

from payrisk.errors import ParameterError

if TYPE_CHECKING:
    from payrisk.engine import RiskEngine
    from payrisk.ledger import Ledger

#: metric name suffix -> (what is better, tolerance): "higher", "lower", or a target value to stay close to
RULES: dict[str, tuple[str | float, float]] = {
    "auc": ("higher", 0.01),
    "gini": ("higher", 0.02),
    "ks": ("higher", 0.02),
    "c_index": ("higher", 0.01),
    "brier": ("lower", 0.005),
    "log_loss": ("lower", 0.01),
    "ece": ("lower", 0.01),
    "coverage_80": (0.8, 0.03),
    "share_of_oracle_30d": ("higher", 0.05),
    "share_of_oracle_90d": ("higher", 0.05),
    "vs_best_rule_30d": ("higher", 0.05),
    "vs_best_rule_90d": ("higher", 0.05),
}
#: the suite's steps as its progress counts them: two synthetic worlds, then each real dataset
STEPS = 5
SYNTHETIC = {"fit_as_of": "2024-06-30", "score_on": "2024-07-31", "end": "2024-12-31"}
Progress = Callable[[str, int, int], None]


class _Size(TypedDict):
    """The model size every model of the suite is fitted with."""

    n_estimators: int
    max_depth: int


def _classification(prefix: str, y: np.ndarray, p: np.ndarray, n_boot: int) -> dict[str, dict[str, float]]:
    from payrisk import evaluation

    return _rounded(prefix, evaluation.classification_report(y, p, n_boot=n_boot), len(y))


def _rounded(prefix: str, table: pd.DataFrame, n: int) -> dict[str, dict[str, float]]:
    """AUC, Brier, log loss and ECE of a classification report, each with its interval and test-set size."""
    names = ("auc", "brier", "log_loss", "ece")
    rows = {m: table.loc[m].to_dict() for m in names}  # the report's rows: value, ci_low, ci_high
    return {f"{prefix}.{m}": {str(k): round(float(v), 5) for k, v in row.items()} | {"n": n} for m, row in rows.items()}


def _survival(prefix: str, model: Any, X: pd.DataFrame, duration: np.ndarray, event: np.ndarray) -> dict[str, Any]:
    q = model.predict_quantiles(X, [0.1, 0.5, 0.9])
    return _survival_metrics(prefix, duration, event, *(q[k].to_numpy() for k in (0.1, 0.5, 0.9)))


def _survival_metrics(
    prefix: str, duration: np.ndarray, event: np.ndarray, p10: np.ndarray, p50: np.ndarray, p90: np.ndarray
) -> dict[str, Any]:
    """C-index of the median and coverage of the P10-P90 interval (censoring-aware), with the test-set size."""
    from payrisk import evaluation

    c = evaluation.concordance_index(duration, event, p50)
    cover = evaluation.interval_coverage(duration, p10, p90, event=event)
    n = len(duration)
    return {
        f"{prefix}.c_index": {"value": round(float(c), 5), "n": n},
        f"{prefix}.coverage_80": {"value": round(cover, 5), "n": n},
    }


def _synthetic(customers: int, seed: int, size: _Size, n_boot: int, world: str = "synthetic") -> dict[str, Any]:
    """The engine on a synthetic world (the default one, or ``short_term``: monthly bills on 14-day terms),
    fitted as of mid-2024; scored on the invoices issued after, and on the items open a month later."""
    from payrisk import datasets
    from payrisk.engine import RiskEngine
    from payrisk.report import model_quality

    params = datasets.WorldParams.short_term() if world == "short_term" else None
    ledger = datasets.make_ledger(n_customers=customers, seed=seed, params=params)
    engine = RiskEngine(reasons_top_n=0, forecast_weeks=0, **size).fit(ledger, SYNTHETIC["fit_as_of"])
    metrics, _ = model_quality(ledger, engine, SYNTHETIC["end"], n_boot=n_boot)
    if metrics is None:  # fewer than 100 invoices issued after the fit with a known outcome
        raise ParameterError(f"{customers} customers are too few to judge the models (under 100 test invoices).")
    return _rounded(f"{world}.p_late", metrics, metrics.attrs["n"]) | _open_items(engine, ledger, world)


def _collections(customers: int, seed: int, size: _Size) -> dict[str, Any]:
    """Collections judged by cash: the synthetic world's book replayed for 64 business days from mid-2024 with a
    capacity of 5% of the overdue accounts a day; payrisk's plan (response model + gain planner) as a share of the
    oracle's expected extra cash and of the best simple order's (largest first, newest overdue first)."""
    from payrisk import datasets, features
    from payrisk.dunning import RESPONSE_FEATURES, Capacity, ResponseModel, gain_planner, oracle_planner, rule_planner
    from payrisk.dunning import simulate_collections as replay

    ledger = datasets.make_ledger(n_customers=customers, seed=seed)
    day = pd.Timestamp(SYNTHETIC["fit_as_of"])
    model = ResponseModel(templates="^collector_", seed=seed, **size).fit(ledger, day)
    snap = ledger.as_of(day)
    cust = features.customer_features(snap, day, RESPONSE_FEATURES)
    open_ = snap.open_invoices()
    capacity = Capacity.share_of(open_.loc[open_["due_date"] < day, "customer_id"].nunique(), 0.05)
    planners = {
        "payrisk": gain_planner(model, cust, snap.customers.set_index("customer_id")["country"], horizon=30),
        "largest_first": rule_planner("largest_first"),
        "newest_overdue_first": rule_planner("newest_overdue_first"),
        "oracle_30d": oracle_planner(ledger.truth, horizon_days=30),
        "oracle_90d": oracle_planner(ledger.truth, horizon_days=90),
    }
    table = replay(ledger, planners, day, capacity, business_days=64, seed=seed)
    out = {}
    for h in (30, 90):
        cash = table[f"expected_extra_cash_{h}d"]  # the replay's expected cash: one draw of answers is noise
        best_rule = cash[["largest_first", "newest_overdue_first"]].max()
        n = int(table["actions"].loc["payrisk"])
        out[f"synthetic.collections.share_of_oracle_{h}d"] = {
            "value": round(cash["payrisk"] / cash[["oracle_30d", "oracle_90d"]].max(), 4),  # the better oracle
            "n": n,
        }
        out[f"synthetic.collections.vs_best_rule_{h}d"] = {"value": round(cash["payrisk"] / best_rule, 4), "n": n}
    return out


def _open_items(engine: RiskEngine, ledger: Ledger, world: str) -> dict[str, Any]:
    """The payment-time model where the engine uses it: the items open a month after its date, their P10/P50/P90
    payment dates against when they were paid (censored at the end of the history)."""
    day = pd.Timestamp(SYNTHETIC["score_on"])
    worklist = engine.score(ledger, day)
    paid = ledger.invoices.set_index("invoice_id")["paid_date"].reindex(worklist.index)
    end = pd.Timestamp(SYNTHETIC["end"])
    event = (paid <= end).to_numpy()
    duration = (paid.where(event, end) - day).dt.days.to_numpy()
    q = {c: (worklist[f"pay_{c}"] - day).dt.days.to_numpy() for c in ("p10", "p50", "p90")}
    return _survival_metrics(f"{world}.pay_time", duration, event, q["p10"], q["p50"], q["p90"])


def _ibm(root: Path, size: _Size, n_boot: int) -> dict[str, Any]:
    """IBM accounts receivable: trained on invoices issued and settled before 2013-07-01, tested on later ones."""
    from payrisk import datasets, features, labels
    from payrisk.models import LatePaymentClassifier, PaymentTimeModel

    ledger = datasets.load_ibm_ar(root / "ibm_accounts_receivable")
    X = features.invoice_features(ledger, "issue_date").drop(columns=["disputed", "share_disputed"])
    cut = pd.Timestamp("2013-07-01")
    issue = X["as_of"] + pd.Timedelta(days=1)
    settle = ledger.invoices.set_index("invoice_id")["paid_date"].reindex(X.index)
    y = labels.late_payment(ledger)
    train = X.index[(issue < cut) & (settle < cut)].intersection(y.index)
    test = X.index[issue >= cut].intersection(y.index)
    late = LatePaymentClassifier(**size).fit(X.loc[train], y.loc[train])
    out = _classification("ibm.p_late", y.loc[test].to_numpy(), late.predict_proba(X.loc[test])[:, 1], n_boot)
    days = labels.days_to_pay(ledger, as_of=cut - pd.Timedelta(days=1))
    time_model = PaymentTimeModel(**size).fit(X.loc[days.index], days)
    after = labels.days_to_pay(ledger).to_frame().loc[test]
    return out | _survival(
        "ibm.pay_time", time_model, X.loc[test], after["duration"].to_numpy(), after["event"].to_numpy(dtype=bool)
    )


def _berka(root: Path, size: _Size, n_boot: int) -> dict[str, Any]:
    """Berka (PKDD'99) loans as plans: kept or not, at creation; finished loans created before 1996 train."""
    from payrisk import datasets, features
    from payrisk.models import InstallmentAdherenceClassifier

    ledger = datasets.load_berka(root / "berka_pkdd99")
    plans = ledger.plans.set_index("plan_id")
    finished = plans.index[plans["finished"].astype(bool)]
    y = plans.loc[finished, "kept"].astype(np.int8)
    created = plans.loc[finished, "created_date"]
    P = features.plan_features(ledger, "created_date").loc[finished]
    cut = pd.Timestamp("1996-01-01")
    train, test = y.index[created < cut], y.index[created >= cut]
    model = InstallmentAdherenceClassifier(**size).fit(P.loc[train], y.loc[train])
    return _classification("berka.p_kept", y.loc[test].to_numpy(), model.predict_proba(P.loc[test])[:, 1], n_boot)


def _loan_collections(root: Path, size: _Size) -> dict[str, Any]:
    """Loan payments and collections: payment time, loans issued from 2016-09-12 scored by a model of earlier ones."""
    from payrisk import datasets, features, labels
    from payrisk.models import PaymentTimeModel

    ledger = datasets.load_loan_collections(root / "loan_payments_collections")
    X = features.invoice_features(ledger, "issue_date")
    target = labels.days_to_pay(ledger, as_of=pd.Timestamp(ledger.meta["snapshot_date"])).to_frame()
    issue = X["as_of"] + pd.Timedelta(days=1)
    cut = pd.Timestamp("2016-09-12")
    train, test = X.index[issue < cut], X.index[issue >= cut]
    ttr = labels.SurvivalTarget.from_arrays(target.loc[train, "duration"], target.loc[train, "event"])
    model = PaymentTimeModel(**size).fit(X.loc[train], ttr)
    return _survival(
        "loan_collections.pay_time",
        model,
        X.loc[test],
        target.loc[test, "duration"].to_numpy(),
        target.loc[test, "event"].to_numpy(dtype=bool),
    )


def run_suite(
    customers: int = 2000,
    seed: int = 0,
    data_root: str | Path | None = None,
    trees: int = 400,
    depth: int = 4,
    n_boot: int = 200,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Run the models suite: the synthetic world, and the real datasets found under ``data_root``.

    Returns the results document: ``settings`` (the data: what must match for a comparison), ``model`` (the
    model size: what a comparison judges), ``metrics`` (name ->
    ``value`` and, where bootstrapped, ``ci_low``/``ci_high``), ``skipped`` (datasets not found) and the default
    ``tolerances`` of each metric.
    """
    size: _Size = {"n_estimators": trees, "max_depth": depth}
    root = Path(data_root) if data_root is not None else None
    real: dict[str, tuple[str, Callable[[Path], dict[str, Any]]]] = {
        "ibm": ("ibm_accounts_receivable", lambda base: _ibm(base, size, n_boot)),
        "berka": ("berka_pkdd99", lambda base: _berka(base, size, n_boot)),
        "loan_collections": ("loan_payments_collections", lambda base: _loan_collections(base, size)),
    }
    report = progress or (lambda step, done, total: None)
    total = STEPS
    report("synthetic world", 0, total)
    metrics = _synthetic(customers, seed, size, n_boot) | _collections(customers, seed, size)
    report("short-term world", 1, total)
    metrics |= _synthetic(customers, seed, size, n_boot, world="short_term")
    skipped = []
    for k, (name, (folder, run)) in enumerate(real.items(), start=2):
        report(name, k, total)
        if root is None or not (root / folder).is_dir():
            skipped.append(name)
            continue
        metrics |= run(root)
    report("done", total, total)
    return {
        "suite": "models",
        "settings": {"customers": customers, "seed": seed, "datasets": sorted(set(real) - set(skipped))},
        "model": {"trees": trees, "depth": depth},
        "metrics": metrics,
        "skipped": skipped,
        "tolerances": {name: tolerance(name, m) for name, m in metrics.items()},
    }


def tolerance(name: str, metric: dict[str, float]) -> float:
    """The default tolerance of a metric, widened to a quarter of its 95% interval where the test set is small
    (a model change within a quarter of the noise is no evidence of a loss)."""
    width = metric.get("ci_high", np.nan) - metric.get("ci_low", np.nan)
    return round(max(rule(name)[1], width / 4 if np.isfinite(width) else 0.0), 4)


def rule(metric: str) -> tuple[str | float, float]:
    """(what is better, default tolerance) of a metric, from the last part of its name."""
    return RULES.get(metric.rsplit(".", 1)[-1], ("higher", 0.01))


def compare(baseline: dict[str, Any], current: dict[str, Any]) -> pd.DataFrame:
    """Each tracked metric of ``baseline`` beside ``current``: the change, the tolerance and a status.

    ``worse`` means it moved the wrong way by more than the tolerance (the baseline's own ``tolerances``, else
    :data:`RULES`); ``missing`` means the current run lacks it; ``better`` and ``ok`` pass.
    """
    rows = []
    tolerances = baseline.get("tolerances", {})
    for name, base in baseline["metrics"].items():
        better, default = rule(name)
        tol = float(tolerances.get(name, default))
        b = float(base["value"])
        now = current["metrics"].get(name)
        if now is None:
            rows.append(
                {
                    "metric": name,
                    "baseline": b,
                    "current": np.nan,
                    "change": np.nan,
                    "tolerance": tol,
                    "status": "missing",
                }
            )
            continue
        c = float(now["value"])
        if better == "higher":
            loss = b - c
        elif better == "lower":
            loss = c - b
        else:  # stay close to a target value
            loss = abs(c - float(better)) - abs(b - float(better))
        status = "worse" if loss > tol + 1e-12 else "better" if loss < -tol else "ok"
        rows.append({"metric": name, "baseline": b, "current": c, "change": c - b, "tolerance": tol, "status": status})
    return pd.DataFrame(rows, columns=["metric", "baseline", "current", "change", "tolerance", "status"])


def settings_differ(baseline: dict[str, Any], current: dict[str, Any]) -> list[str]:
    """The settings in which two runs differ (a comparison needs none)."""
    a, b = baseline.get("settings", {}), current.get("settings", {})
    return [k for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]
