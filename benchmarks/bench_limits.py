"""Credit limits judged by money (issue 23): a forward simulation on the synthetic world.

The customers accepted in 2023 (a 16,000-customer world, the acceptance model fitted as of 2023-12-31 on the
customers accepted before) get a limit on their acceptance day from each policy:

- ``payrisk``: :func:`payrisk.limits.recommend_limits` on the acceptance model's P(problem within a year) (a
  30-day cycle: nothing is known of the customer's own payments yet), without the requested-limit cap;
- ``flat``: the same limit for every customer;
- ``score``: a limit proportional to the bureau's score at acceptance (the median score where there is none);
- ``oracle``: as payrisk, with the world's exact P(archetype | profile) times each archetype's problem rate.

Then their first year of invoices is replayed in issue order: an invoice is delivered when the customer's open
delivered invoices on its issue day plus its amount stay within the limit, else the sale is refused. A delivered
invoice that the world never pays is lost. Each policy's limits are scaled (one factor for all customers) until
it delivers the same share of the year's sales (80%, 90% and 95%); the losses are compared at equal sales.
Payment behaviour does not depend on the limit (a refused order is simply not made). Customer-bootstrap 95%
intervals on the loss differences.

Usage: python benchmarks/bench_limits.py [n_customers] [seed ...]  -> benchmarks/results/limits.json
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

import payrisk as pr
from bench_acceptance import (  # the same cohort and oracle as the acceptance benchmark
    FIT,
    oracle_problem,
    tested_cohort,
)
from payrisk.acceptance import AcceptanceModel, acceptance_cutoffs, accepted_on
from payrisk.limits import recommend_limits

SHARES = (0.80, 0.90, 0.95)


def _book(ledger: pr.Ledger, customers: pd.Index, start: pd.Series) -> dict[str, np.ndarray]:
    """Each customer's first year of invoices as customer x rank matrices (issue day, paid day, amount, lost)."""
    truth = ledger.truth.invoices.set_index("invoice_id")
    inv = ledger.invoices.loc[ledger.invoices["customer_id"].isin(customers) & (ledger.invoices["amount"] > 0)]
    first = start.reindex(inv["customer_id"]).to_numpy()
    inv = inv.loc[
        (inv["issue_date"].to_numpy() > first) & (inv["issue_date"].to_numpy() <= first + np.timedelta64(365, "D"))
    ]
    inv = inv.sort_values(["customer_id", "issue_date", "invoice_id"])
    code = pd.Index(customers).get_indexer(inv["customer_id"])
    rank = inv.groupby("customer_id").cumcount().to_numpy()
    shape = (len(customers), int(rank.max()) + 1 if len(rank) else 1)
    day = lambda s: s.to_numpy().astype("datetime64[D]").astype(np.int64)  # noqa: E731
    never = truth["never_paid"].reindex(inv["invoice_id"]).to_numpy(dtype=bool)
    paid = np.where(
        never | inv["paid_date"].isna().to_numpy(),
        np.iinfo(np.int64).max // 4,
        day(inv["paid_date"].fillna(pd.Timestamp(0))),
    )
    out = {"issue": np.full(shape, np.iinfo(np.int64).max // 4), "paid": np.zeros(shape, dtype=np.int64),
           "amount": np.zeros(shape), "lost": np.zeros(shape, dtype=bool), "exists": np.zeros(shape, dtype=bool)}  # fmt: skip
    out["issue"][code, rank] = day(inv["issue_date"])
    out["paid"][code, rank] = paid
    out["amount"][code, rank] = inv["amount"].to_numpy()
    out["lost"][code, rank] = never
    out["exists"][code, rank] = True
    return out


def _open_before(book: dict[str, np.ndarray]) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per invoice rank r: the (customer, earlier rank) pairs of invoices issued before and still unpaid on the
    issue day of the customer's r-th invoice (the same for every policy; only what was delivered differs)."""
    out = []
    for r in range(book["amount"].shape[1]):
        m = book["exists"][:, :r] & (book["paid"][:, :r] > book["issue"][:, r : r + 1]) & book["exists"][:, r : r + 1]
        out.append(np.nonzero(m))
    return out


def _replay(book: dict[str, np.ndarray], pairs: list, limit: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per customer: sales delivered and money lost under ``limit`` (one step per invoice rank, all customers at
    once)."""
    n, k = book["amount"].shape
    delivered = np.zeros((n, k), dtype=bool)
    for r in range(k):
        c, j = pairs[r]
        exposure = np.bincount(c, weights=delivered[c, j] * book["amount"][c, j], minlength=n)
        delivered[:, r] = book["exists"][:, r] & (exposure + book["amount"][:, r] <= limit)
    sales = (delivered * book["amount"]).sum(axis=1)
    lost = (delivered * book["lost"] * book["amount"]).sum(axis=1)
    return sales, lost


def _at_share(book: dict[str, np.ndarray], pairs: list, base: np.ndarray, share: float) -> tuple:
    """The factor on ``base`` limits that delivers ``share`` of the year's sales (bisection on the log scale)."""
    total = float((book["exists"] * book["amount"]).sum())
    lo, hi = -20.0, 20.0
    for _ in range(36):
        mid = 0.5 * (lo + hi)
        sales, _ = _replay(book, pairs, np.exp(mid) * base)
        lo, hi = (mid, hi) if sales.sum() < share * total else (lo, mid)
    sales, lost = _replay(book, pairs, np.exp(hi) * base)
    return float(np.exp(hi)), sales, lost


def one_world(n_customers: int, seed: int) -> dict:
    t0 = time.perf_counter()
    ledger = pr.datasets.make_ledger(n_customers=n_customers, seed=seed)
    model = AcceptanceModel(seed=seed).fit(ledger, FIT)
    start = accepted_on(ledger.as_of(FIT))
    cut = acceptance_cutoffs(ledger, FIT, stages=(0,))
    cut = cut.loc[cut["customer_id"].isin(tested_cohort(ledger))].reset_index(drop=True)
    pred = model.predict(ledger, cut).set_index("customer_id")
    ids = pd.Index(pred.index)
    p_oracle = oracle_problem(ledger, model).reindex(ids).to_numpy()
    score = pr.features.customer_profile(ledger, cut)["score"].to_numpy()
    score = np.where(np.isnan(score), np.nanmedian(score), score)

    def payrisk_base(p: np.ndarray) -> np.ndarray:
        risk = pd.DataFrame({"customer_id": ids, "p_problem_12m": p, "cycle_days": 30.0})
        return recommend_limits(risk, appetite=1.0, round_to=1e-9)["max_exposure"].to_numpy()

    bases = {"payrisk": payrisk_base(pred["p_problem_12m"].to_numpy()), "flat": np.ones(len(ids)),
             "score": score, "oracle": payrisk_base(p_oracle)}  # fmt: skip
    bases = {k: np.minimum(v, 1e12) for k, v in bases.items()}
    book = _book(ledger, ids, start)
    pairs = _open_before(book)
    total = float((book["exists"] * book["amount"]).sum())
    out = {"seed": seed, "customers": len(ids), "year_sales": total,
           "lost_if_all_delivered": float((book["exists"] * book["lost"] * book["amount"]).sum())}  # fmt: skip
    rng = np.random.default_rng(seed)
    boot = [rng.integers(0, len(ids), len(ids)) for _ in range(300)]
    for share in SHARES:
        res = {name: _at_share(book, pairs, base, share) for name, base in bases.items()}
        rec: dict = {}
        for name, (factor, sales, lost) in res.items():
            rec[name] = {"factor": factor, "sales": float(sales.sum()), "lost": float(lost.sum()),
                         "loss_rate": float(lost.sum() / sales.sum())}  # fmt: skip
        for other in ("flat", "score"):
            d = res[other][2] - res["payrisk"][2]
            draws = [float(d[b].sum()) for b in boot]
            rec[f"{other}_minus_payrisk_lost"] = [float(d.sum()), *np.percentile(draws, [2.5, 97.5]).tolist()]
        out[f"share_{share}"] = rec
        print(f"seed {seed} sales {share:.0%}: " + "; ".join(f"{k} lost {v['lost']:,.0f} ({v['loss_rate']:.2%})"
              for k, v in rec.items() if isinstance(v, dict)), flush=True)  # fmt: skip
    out["seconds"] = time.perf_counter() - t0
    return out


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 16_000
    seeds = [int(s) for s in sys.argv[2:]] or [0]
    runs = [one_world(n, s) for s in seeds]
    path = Path(__file__).parent / "results" / "limits.json"
    path.write_text(json.dumps(runs, indent=1, default=float))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
