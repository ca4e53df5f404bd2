"""Customer acceptance (issue 23) on the synthetic world: the attribute model against the oracle of the same
attributes for new customers, and the credibility blend against the attribute-only and history-only scores after
3, 6 and 12 invoices.

The world (16,000 customers, 2022-2024) is fitted as of 2023-12-31: it learns from the customers accepted until
2022-12-31, whose year after each cutoff is over by the fit date. It is tested on the customers accepted in 2023,
looked at on their acceptance day and on the day of their 3rd, 6th and 12th invoice (cutoffs up to 2023-12-31),
with outcomes read at the end of the world (2024-12-31): a problem within a year (an invoice 60 days overdue, a
missed instalment or a hand-over).

The oracle: P(archetype | the same attributes) from the world's truth (exact) times each archetype's problem rate
among the training customers at acceptance. Figures with customer-bootstrap 95% intervals; differences paired.

Usage: python benchmarks/bench_acceptance.py [n_customers] [seed ...]  -> benchmarks/results/acceptance.json
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
from payrisk.acceptance import AcceptanceModel, acceptance_cutoffs

FIT, END = pd.Timestamp("2023-12-31"), pd.Timestamp("2024-12-31")


def _ci(metric, y, p, groups) -> list[float]:
    return [round(v, 4) for v in ev.bootstrap_ci(metric, y, p, n_boot=300, groups=groups)]


def tested_cohort(ledger: pr.Ledger) -> pd.Index:
    """The customers accepted in the year up to the fit date: the ones the benchmarks test on."""
    start = pr.acceptance.accepted_on(ledger.as_of(FIT))
    return start.index[(start > FIT - pd.DateOffset(years=1)) & (start <= FIT)]


def oracle_problem(ledger: pr.Ledger, model: AcceptanceModel) -> pd.Series:
    """The oracle of the same attributes per customer: the world's exact P(archetype | profile) times each
    archetype's problem rate among the model's training customers at acceptance."""
    arche = ledger.truth.customers.set_index("customer_id")["archetype"]
    train = model.training_rows(ledger, FIT)
    train = train.loc[train["stage"] == 0]
    rate = train.groupby(train["customer_id"].map(arche))["problem"].mean()
    post = ledger.truth.archetype_given_profile()
    return pd.Series(post.to_numpy() @ rate.reindex(post.columns).fillna(rate.mean()).to_numpy(), index=post.index)


def one_world(n_customers: int, seed: int) -> dict:
    t0 = time.perf_counter()
    ledger = pr.datasets.make_ledger(n_customers=n_customers, seed=seed)
    t_gen = time.perf_counter() - t0
    t0 = time.perf_counter()
    model = AcceptanceModel(seed=seed).fit(ledger, FIT)
    t_fit = time.perf_counter() - t0
    oracle = oracle_problem(ledger, model)
    cut = acceptance_cutoffs(ledger, FIT)
    cut = cut.loc[cut["customer_id"].isin(tested_cohort(ledger))].reset_index(drop=True)
    y = pr.labels.customer_problem(ledger, cut, as_of=END, horizon_days=365, overdue_days=60)
    keep = (y["known"] & ~y["already"]).to_numpy()
    cut, yk = cut.loc[keep].reset_index(drop=True), y["problem"].to_numpy()[keep]
    pred = model.predict(ledger.as_of(END), cut)
    out = {"seed": seed, "n_customers": n_customers, "generate_s": t_gen, "fit_s": t_fit,
           "fit_report": model.fit_report_, "credibility_k": model.credibility_k_, "blend": model.blend_coef_}  # fmt: skip
    for stage, g in pred.groupby(cut["stage"].to_numpy()):
        yy, ids = yk[g.index], g["customer_id"].to_numpy()
        rec: dict = {"rows": len(g), "problem_share": float(yy.mean())}
        cols = {"blend": "p_problem_12m", "attributes": "p_attributes", "history": "p_history"}
        if stage == 0:
            cols["oracle"] = None
        for name, col in cols.items():
            p = oracle.reindex(ids).to_numpy() if col is None else g[col].to_numpy()
            rec[name] = {"auc": _ci(ev.auc, yy, p, ids), "log_loss": _ci(ev.log_loss, yy, p, ids),
                         "ece": _ci(ev.ece, yy, p, ids)}  # fmt: skip
        # the ECE a perfectly calibrated model would show on as many rows: outcomes drawn from the blend's own
        # probabilities (the noise floor of the figure: ten bins of a few hundred rows each are not exact)
        rng = np.random.default_rng(seed)
        pb = g["p_problem_12m"].to_numpy()
        rec["blend"]["ece_noise_floor"] = float(np.mean([ev.ece(rng.random(len(pb)) < pb, pb) for _ in range(200)]))
        P = g[["p_problem_12m", "p_attributes", "p_history"]].to_numpy()
        for other, j in (("attributes", 1), ("history", 2)):
            rec[f"blend_minus_{other}_auc"] = _ci(
                lambda y_, q, j=j: ev.auc(y_, q[:, 0]) - ev.auc(y_, q[:, j]), yy, P, ids
            )
            rec[f"{other}_minus_blend_log_loss"] = _ci(
                lambda y_, q, j=j: ev.log_loss(y_, q[:, j]) - ev.log_loss(y_, q[:, 0]), yy, P, ids
            )
        if stage == 0:
            both = np.column_stack([g["p_attributes"].to_numpy(), oracle.reindex(ids).to_numpy()])
            rec["attributes_minus_oracle_auc"] = _ci(
                lambda y_, q: ev.auc(y_, q[:, 0]) - ev.auc(y_, q[:, 1]), yy, both, ids
            )
        out[f"stage_{int(stage)}"] = rec
        print(f"seed {seed} stage {stage}: rows {len(g)}, problems {yy.mean():.3f}; "
              + "; ".join(f"{k} AUC {v['auc'][0]:.3f} LL {v['log_loss'][0]:.3f} ECE {v['ece'][0]:.3f}"
                          for k, v in rec.items() if isinstance(v, dict))
              + f"; blend ECE noise floor {rec['blend']['ece_noise_floor']:.3f}", flush=True)  # fmt: skip
    return out


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 16_000
    seeds = [int(s) for s in sys.argv[2:]] or [0]
    runs = [one_world(n, s) for s in seeds]
    path = Path(__file__).parent / "results" / "acceptance.json"
    path.write_text(json.dumps(runs, indent=1, default=float))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
