"""Collections judged by cash: replay the synthetic world's collections for 64 business days with a binding daily
capacity (2% and 5% of the overdue accounts, half calls, a quarter SMS, a quarter letters) under payrisk's plan
(ResponseModel + gain_planner), the simple orders a team would otherwise work, and the oracle (the world's true
value of every action). Common random numbers: every planner meets the same answers. Planners are compared by
the expected extra cash given the replay's path (each action's true value, summed), the realised cash beside it;
payrisk's off-policy estimate (doubly robust, from the log) beside the true value of its choice on the logged rows.

Usage: python benchmarks/bench_collections.py [n_seeds]   -> benchmarks/results/collections.json
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

import payrisk as pr
from payrisk.dunning import Capacity, ResponseModel, gain_planner, oracle_planner, rule_planner, simulate_collections

START = pd.Timestamp("2024-06-28")
CUSTOMER = list(pr.dunning.RESPONSE_FEATURES)


def one_seed(seed: int, shares: tuple[float, ...]) -> list[dict]:
    led = pr.datasets.make_ledger(n_customers=2_000, seed=seed)
    t = time.perf_counter()
    rm = ResponseModel(templates="^collector_").fit(led, START)
    fit_s = time.perf_counter() - t
    snap = led.as_of(START)
    cf = pr.features.customer_features(snap, START, CUSTOMER)
    countries = snap.customers.set_index("customer_id")["country"]
    open_ = snap.open_invoices()
    accounts = open_.loc[open_["due_date"] < START, "customer_id"].nunique()
    engine = pr.RiskEngine(reasons_top_n=0).fit(led, START)
    loss = engine.score(led, START).groupby("customer_id")["expected_loss"].sum()
    out = []
    ope = _off_policy(rm, led, snap)
    for share in shares:
        cap = Capacity.share_of(accounts, share)
        planners = {
            "payrisk": gain_planner(rm, cf, countries, horizon=30),
            "largest_first": rule_planner("largest_first"),
            "newest_overdue_first": rule_planner("newest_overdue_first"),
            "oldest_first": rule_planner("oldest_first"),
            "expected_loss_first": rule_planner("key_first", key=loss),
            "random": rule_planner("random", seed=seed),
            "oracle_30d": oracle_planner(led.truth, horizon_days=30),
            "oracle_90d": oracle_planner(led.truth, horizon_days=90),
        }
        t = time.perf_counter()
        table = simulate_collections(led, planners, START, cap, business_days=64, seed=seed)
        for name, row in table.iterrows():
            out.append({"seed": seed, "share": share, "planner": name, **row.to_dict(),
                        "fit_s": fit_s, "replay_s": time.perf_counter() - t} | (ope if name == "payrisk" else {}))  # fmt: skip
        cols = ["actions", "expected_extra_cash_30d", "expected_extra_cash_90d", "extra_cash_30d", "extra_cash_90d"]
        print(f"seed {seed} share {share:.0%}\n{table[cols].round(0)}\noff-policy {ope}", flush=True)
    return out


def _off_policy(rm: ResponseModel, led: pr.Ledger, snap: pr.Ledger) -> dict[str, float]:
    """payrisk's choice on the logged rows (the action with the most expected extra cash within 7 days, or none):
    its off-policy estimate of P(paid within 7 days) from the log beside the world's true value of that choice
    on the same rows (each row's payment without action, plus the chosen action's true answer)."""
    rows = rm.rows_
    who = pd.DataFrame({"customer_id": rows["customer_id"], "as_of": rows["day"] - pd.Timedelta(days=1)})
    cust = pr.features.customer_features(snap, who, CUSTOMER).reset_index(drop=True).set_index(rows.index)
    value = rm.uplift(rm.state_features(rows, cust), horizon=7).mul(rows["open_amount"], axis=0)
    chosen = np.where(value.max(axis=1) > 0, value.idxmax(axis=1), "none")
    est = rm.off_policy_value(lambda r: chosen, horizon=7)
    truth = led.truth
    base = truth.invoices.set_index("invoice_id")["paid_without_action"].reindex(rows["invoice_id"]).to_numpy()
    anyway = base <= (rows["day"] + pd.Timedelta(days=7)).to_numpy()
    act = chosen != "none"
    arm = pd.Series(chosen).where(act, "phone/firm").str.split("/")
    u = truth.answer_probability(rows["invoice_id"], rows["day"].to_numpy(), arm.str[0].to_numpy(),
                                 arm.str[1].to_numpy(), rows["earlier_actions"].to_numpy()).to_numpy()  # fmt: skip
    never = pd.isna(base)
    arche = rows["customer_id"].map(truth.archetype_at(START)).map(truth.params.collector.cure).to_numpy()
    in_week = _in_time(truth, arm.str[0].to_numpy(), rows["day"].to_numpy(), 7)
    true = np.mean(anyway) + np.mean(~anyway * act * in_week * u * np.where(never, arche, 1.0))
    dr = est.loc["dr"]
    return {"ope_dr_7d": float(dr["value"]), "ope_dr_7d_low": float(dr["ci_low"]),
            "ope_dr_7d_high": float(dr["ci_high"]), "ope_true_7d": float(true)}  # fmt: skip


def _in_time(truth, channel: np.ndarray, day: np.ndarray, horizon: int) -> np.ndarray:
    """True where an answer to an action on ``day`` pays within ``horizon`` days (the response time, to the next
    business day)."""
    from payrisk._calendar import next_business as _next_business
    from payrisk.datasets import _collector as col

    d = (day.astype("datetime64[D]") - np.datetime64("1970-01-01", "D")).astype(np.int64)
    return _next_business(d + col.response_days(truth.params.collector, channel)) - d <= horizon


def main() -> None:
    n_seeds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    rows = [r for s in range(n_seeds) for r in one_seed(s, (0.02, 0.05))]
    df = pd.DataFrame(rows)
    summary = []
    rules = ["largest_first", "newest_overdue_first", "oldest_first", "expected_loss_first", "random"]
    for (share, planner), g in df.groupby(["share", "planner"]):
        at = df.loc[df["share"] == share].pivot(index="seed", columns="planner")
        rec = {"share": share, "planner": planner, "seeds": len(g)}
        for h in (30, 90):
            cash = at[f"expected_extra_cash_{h}d"]  # the expectation given the path: one draw of answers is noise
            v = cash[planner]
            rel = v / cash[["oracle_30d", "oracle_90d"]].max(axis=1)  # the better of the two greedy oracles
            best_rule = cash[rules].max(axis=1)
            rec |= {f"extra_cash_{h}d_mean": float(v.mean()), f"extra_cash_{h}d_sd": float(v.std(ddof=1)),
                    f"share_of_oracle_{h}d_mean": float(rel.mean()), f"share_of_oracle_{h}d_min": float(rel.min()),
                    f"vs_best_rule_{h}d_mean": float((v / best_rule).mean()),
                    f"vs_best_rule_{h}d_min": float((v / best_rule).min()),
                    f"realised_extra_cash_{h}d_mean": float(at[f"extra_cash_{h}d"][planner].mean()),
                    f"cash_per_action_{h}d_mean": float(v.mean() / at["actions"][planner].mean())}  # fmt: skip
        summary.append(rec)
    summary = pd.DataFrame(summary)
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(summary.round(3).to_string(index=False))
    out = Path(__file__).parent / "results" / "collections.json"
    out.write_text(json.dumps({"runs": rows, "summary": summary.to_dict("records")}, indent=1, default=float))
    print(f"wrote {out}")


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
