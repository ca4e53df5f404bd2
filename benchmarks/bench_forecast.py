"""Cash-inflow forecast: rolling-origin backtest against the treasurer's baselines, and speed on 1M open items.

Run: ``.venv/bin/python benchmarks/bench_forecast.py [case ...]``. Each case runs in a fresh process; results go
to ``results/forecast.json`` and the fan chart to ``results/figures/forecast_fan.png``.

- ``synthetic``: the default world, 8 origins 4 weeks apart (the last 13 weeks before the end of the data),
  13-week horizon; WAPE, MAE, 80% interval coverage and pinball loss per method and horizon bucket.
- ``synthetic_16``: the same world over 16 origins (64 weeks back): 64 or 144 weeks per currency and horizon
  bucket instead of 32 or 72, for coverage and WAPE figures that 8 origins cannot resolve (bootstrap intervals
  over origins beside every ratio and coverage).
- ``ibm``: the same on the IBM receivables.
- ``speed``: ``cash_inflow`` on the 1M-open world of ``bench_engine.py score_speed``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
import payrisk as pr
from _common import RESULTS, main, previous_results

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
CASES: dict[str, dict[str, Any]] = {c: {"case": c} for c in ("synthetic", "synthetic_16", "ibm", "speed")}


def _summary(bt: Any) -> dict:
    m = bt.metrics
    best = (
        m.loc[m["method"].isin(["due_date", "due_plus_delay", "ets"])]
        .groupby(["currency", "horizon"])["wape"]
        .min()
        .rename("best_baseline_wape")
    )
    ours = m.loc[m["method"] == "payrisk"].set_index(["currency", "horizon"])["wape"]
    ratio = (ours / best).rename("wape_ratio")
    cov = m.loc[m["method"].isin(["payrisk", "independent", "ets"])].pivot_table(
        index=["currency", "horizon"], columns="method", values="coverage"
    )
    print(m.round(3).to_string(), flush=True)
    print(pd.concat([ours.rename("payrisk_wape"), best, ratio], axis=1).round(3).to_string(), flush=True)
    print(cov.round(3).to_string(), flush=True)
    return {
        "metrics": m.to_dict(orient="records"),
        "wape_ratio": {f"{c} {h}": float(v) for (c, h), v in ratio.items()},
        "best_baseline_wape": {f"{c} {h}": float(v) for (c, h), v in best.items()},
        "coverage": {f"{c} {h}": row.to_dict() for (c, h), row in cov.iterrows()},
        "period_correlation": bt.period_correlation,
        "rho_by_origin": {str(k.date()): float(v) for k, v in bt.cells.groupby("origin")["rho"].first().items()},
        "notes": bt.notes,
    }


def _buckets(cells: pd.DataFrame) -> pd.DataFrame:
    return cells.assign(bucket=np.where(cells["period"] <= 4, "1-4", "5-13"))


def _by_origin(cells: pd.DataFrame, per_origin: Any, n_boot: int = 2000) -> dict:
    """95% bootstrap interval (origins resampled, the weeks of an origin kept together: they move together) of a
    ratio of sums, per currency and horizon bucket; ``per_origin(part, (currency, bucket))`` gives one origin's
    (numerator, denominator)."""
    rng = np.random.default_rng(0)
    cells = _buckets(cells)
    origins = np.sort(cells["origin"].unique())
    draws = rng.integers(0, len(origins), (n_boot, len(origins)))
    out = {}
    for key, part in cells.groupby(["currency", "bucket"]):
        sums = np.array([per_origin(part.loc[part["origin"] == o], key) for o in origins], dtype=np.float64)
        ratio = sums[draws, 0].sum(1) / sums[draws, 1].sum(1)
        out[" ".join(key)] = [float(np.quantile(ratio, 0.025)), float(np.quantile(ratio, 0.975))]
    return out


def _ratio_interval(bt: Any, best: pd.Series) -> dict:
    """95% bootstrap interval (origins resampled) of payrisk's WAPE over the best baseline's, per cell group."""
    out = _by_origin(
        bt.cells,
        lambda g, key: ((g["actual"] - g["payrisk"]).abs().sum(), (g["actual"] - g[best[key]]).abs().sum()),
    )
    print("WAPE ratio, 95% bootstrap over origins:", {k: [round(x, 2) for x in v] for k, v in out.items()})
    return out


def _coverage_interval(bt: Any) -> dict:
    """95% bootstrap interval (origins resampled) of the share of weeks inside payrisk's 80% interval: how far
    8 or 16 origins can tell a coverage from the 0.75-0.85 band."""

    def covered(g: pd.DataFrame, key: tuple[str, str]) -> tuple[float, float]:
        inside = (g["actual"] >= g["payrisk_low"]) & (g["actual"] <= g["payrisk_high"])
        return float(inside.sum()), float(len(g))

    out = _by_origin(bt.cells, covered)
    print("coverage, 95% bootstrap over origins:", {k: [round(x, 2) for x in v] for k, v in out.items()})
    return out


def _truth_floor(ledger: pr.Ledger, bt: Any) -> dict:
    """WAPE of the generator's own payment curves on the same cells: the floor any forecast can reach; and
    payrisk's WAPE over it, with its bootstrap interval over origins."""
    cells = []
    for origin in sorted(bt.cells["origin"].unique()):
        _, ends = pr.forecast.period_edges(origin, 13, "W")
        items = ledger.as_of(origin).open_invoices()
        paid = ledger.truth.paid_within(items["invoice_id"], origin, ends).to_numpy()
        cash = items["open_amount"].to_numpy()[:, None] * np.diff(paid, axis=1, prepend=0)
        for cur in sorted(items["currency"].unique()):
            m = (items["currency"] == cur).to_numpy()
            cells.append(
                pd.DataFrame({"origin": origin, "currency": cur, "period": range(1, 14), "truth": cash[m].sum(0)})
            )
    merged = _buckets(bt.cells.merge(pd.concat(cells), on=["origin", "currency", "period"]))
    floor, over = {}, {}
    for (cur, bucket), part in merged.groupby(["currency", "bucket"]):
        truth_error = (part["actual"] - part["truth"]).abs().sum()
        floor[f"{cur} {bucket}"] = float(truth_error / part["actual"].abs().sum())
        over[f"{cur} {bucket}"] = float((part["actual"] - part["payrisk"]).abs().sum() / truth_error)
    print("truth (generator's curves) WAPE:", {k: round(v, 3) for k, v in floor.items()}, flush=True)
    ratio_ci = _by_origin(
        merged, lambda g, key: ((g["actual"] - g["payrisk"]).abs().sum(), (g["actual"] - g["truth"]).abs().sum())
    )
    print(
        "payrisk / true curves, 95% bootstrap over origins:", {k: [round(x, 2) for x in v] for k, v in ratio_ci.items()}
    )
    return {"truth_wape": floor, "payrisk_over_truth": over, "payrisk_over_truth_ci95": ratio_ci}


def _run_backtest(ledger: pr.Ledger, engine: pr.RiskEngine, figure: str | None = None, n_origins: int = 8) -> dict:
    t0 = time.perf_counter()
    bt = pr.backtest.backtest_forecast(ledger, engine=engine, n_origins=n_origins, step_weeks=4)
    out = {"n_origins": n_origins, "backtest_seconds": time.perf_counter() - t0, **_summary(bt)}
    m = bt.metrics.loc[bt.metrics["method"].isin(["due_date", "due_plus_delay", "ets"])]
    best = m.loc[m.groupby(["currency", "horizon"])["wape"].idxmin()].set_index(["currency", "horizon"])["method"]
    out["wape_ratio_ci95"] = _ratio_interval(bt, best)
    out["coverage_ci95"] = _coverage_interval(bt)
    if ledger.truth is not None:
        out |= _truth_floor(ledger, bt)
        out["truth_ratio_to_best_baseline"] = {
            k: v / out["best_baseline_wape"][k] for k, v in out["truth_wape"].items()
        }
    if figure:
        origin = max(bt.cells["origin"])
        fitted = engine.fit(ledger, origin)
        fc = pr.forecast.cash_inflow(ledger, fitted, origin, period_correlation=bt.period_correlation)
        cur = fc.periods.groupby("currency")["expected"].sum().idxmax()
        actual = bt.cells.loc[(bt.cells["origin"] == origin) & (bt.cells["currency"] == cur)]
        actuals = pd.Series(
            actual["actual"].to_numpy(), index=fc.periods.loc[fc.periods["currency"] == cur, "period_start"]
        )
        folder = RESULTS / "figures"
        folder.mkdir(parents=True, exist_ok=True)
        fc.plot(currency=cur, actuals=actuals).savefig(folder / figure, dpi=110)
        out["figure"] = f"results/figures/{figure}"
    return out


def run_synthetic() -> dict:
    return _run_backtest(pr.datasets.make_ledger(), pr.RiskEngine(), "forecast_fan.png")


def run_synthetic_16() -> dict:
    """The same world over 16 origins (64 weeks back): twice the weeks per bucket, so narrower intervals."""
    return _run_backtest(pr.datasets.make_ledger(), pr.RiskEngine(), n_origins=16)


def run_ibm() -> dict:
    ledger = pr.datasets.load_ibm_ar(DATA / "ibm_accounts_receivable")
    return _run_backtest(
        ledger, pr.RiskEngine(history_days=540, exclude_features=("disputed",)), "forecast_fan_ibm.png"
    )


def run_speed() -> dict:
    engine = pr.RiskEngine().fit(pr.datasets.make_ledger(), "2024-06-30")
    big = pr.datasets.make_ledger(n_customers=255_000, start="2023-07-01", end="2024-06-30", seed=5)
    t0 = time.perf_counter()
    fc = pr.forecast.cash_inflow(big, engine, "2024-06-30", segments=False)
    seconds = time.perf_counter() - t0
    t0 = time.perf_counter()
    pr.forecast.cash_inflow(big, engine, "2024-06-30", segments=True)
    with_segments = time.perf_counter() - t0
    print(f"cash_inflow: {fc.n_invoices:,} open invoices in {seconds:.1f} s ({with_segments:.1f} s with segments)")
    return {"open_invoices": fc.n_invoices, "seconds": seconds, "seconds_with_segments": with_segments}


def run(case: str) -> dict:
    return globals()[f"run_{case}"]()


if __name__ == "__main__":
    main(
        "bench_forecast",
        "forecast",
        sys.argv[1:] or list(CASES),
        ["period_correlation", "backtest_seconds", "seconds", "open_invoices"],
        keep=previous_results("forecast"),
    )
