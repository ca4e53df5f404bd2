"""Kaplan-Meier and Cox PH baselines for the payment-time benchmark, run inside the pandas-2 venv (``_ft_env``).

Usage: ``python cox_baseline.py IN_DIR``. ``IN_DIR`` holds ``train.parquet`` and ``test.parquet`` (numeric design
columns ``x0..xk`` already imputed and standardised by the benchmark, plus ``duration`` and ``event``) and
``grid.json`` (days at which to evaluate survival). Writes ``cox_test.parquet`` (``risk``: the partial hazard,
``s_<day>``: Cox survival), ``km.parquet`` (the population curve on the grid) and ``fit.json`` (seconds).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from lifelines import CoxPHFitter, KaplanMeierFitter


def main(folder: Path) -> None:
    train = pd.read_parquet(folder / "train.parquet")
    test = pd.read_parquet(folder / "test.parquet")
    grid = np.asarray(json.loads((folder / "grid.json").read_text()), dtype=float)
    cols = [c for c in train.columns if c.startswith("x")]
    t0 = time.perf_counter()
    km = KaplanMeierFitter().fit(train["duration"], train["event"])
    km_s = km.survival_function_at_times(grid).to_numpy()
    t_km = time.perf_counter() - t0
    t0 = time.perf_counter()
    # a small ridge penalty: dozens of correlated history features (and missing-value indicators) otherwise
    # leave the Newton steps ill-conditioned
    cph = CoxPHFitter(penalizer=0.01).fit(train[[*cols, "duration", "event"]], "duration", "event")
    t_cox = time.perf_counter() - t0
    risk = cph.predict_partial_hazard(test[cols]).to_numpy()
    surv = cph.predict_survival_function(test[cols], times=grid).to_numpy().T  # (n_test, n_grid)
    out = pd.DataFrame(surv, columns=[f"s_{int(d)}" for d in grid])
    out.insert(0, "risk", risk)
    out.to_parquet(folder / "cox_test.parquet")
    pd.DataFrame({"day": grid, "s": km_s}).to_parquet(folder / "km.parquet")
    (folder / "fit.json").write_text(json.dumps({"seconds_km": t_km, "seconds_cox": t_cox}))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
