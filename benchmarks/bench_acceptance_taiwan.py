"""Customer acceptance on real data (issue 23): the UCI Taiwan credit-card set (30,000 customers, April to
September 2005, default in October).

The acceptance model's parts (:meth:`payrisk.acceptance.AcceptanceModel.fit_rows`) on the customer table: what is
known at acceptance (the credit limit and education; sex, marriage and age are left out: characteristics a
credit decision must not rest on), then the first 1, 3 and 6 months of statements (repayment status, bill,
amount paid, use of the limit) as the history, blended by the months seen. Beside it: logistic regression on the
same inputs at each stage, and the published level with the full six months (XGBoost about 0.78 AUC; Yeh & Lien
2009 and the many replications on Kaggle). A random 30% of the customers is held out (the set is one cross-section:
no out-of-time split is possible); customer-bootstrap 95% intervals.

What the set cannot show: time (one cohort, one outcome month), a prospect's external score, the dates of
payments, and anything about B2B customers; the "attributes" are a consumer's, chosen by the bank.

Usage: python benchmarks/bench_acceptance_taiwan.py  -> benchmarks/results/acceptance_taiwan.json
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import payrisk as pr
from payrisk import evaluation as ev
from payrisk.acceptance import AcceptanceModel

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "uci_credit_card_taiwan"
MONTHS = ["2005-04", "2005-05", "2005-06", "2005-07", "2005-08", "2005-09"]  # calendar order
STATUS = ["PAY_6", "PAY_5", "PAY_4", "PAY_3", "PAY_2", "PAY_0"]  # the same months' repayment status
STAGES = (0, 1, 3, 6)


def _tables() -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
    ledger = pr.datasets.load_taiwan_credit(DATA)
    c = ledger.customers.set_index("customer_id")
    inv = ledger.invoices.assign(month=ledger.invoices["issue_date"].dt.strftime("%Y-%m"))
    bills = inv.pivot_table(index="customer_id", columns="month", values="amount", aggfunc="sum")
    pay = ledger.payments.assign(month=ledger.payments["payment_date"].dt.strftime("%Y-%m"))
    paid = pay.pivot_table(index="customer_id", columns="month", values="amount", aggfunc="sum")
    bills, paid = bills.reindex(index=c.index, columns=MONTHS).fillna(0.0), paid.reindex(index=c.index, columns=MONTHS)
    limit = c["LIMIT_BAL"].astype(float)
    attributes = pd.DataFrame({"limit": limit, "education": c["EDUCATION"].astype("str")})
    history = pd.DataFrame(index=c.index)
    for k, (m, s) in enumerate(zip(MONTHS, STATUS, strict=True)):
        history[f"status_{k + 1}"] = c[s].astype(float)
        history[f"bill_{k + 1}"] = bills[m]
        history[f"paid_{k + 1}"] = paid[m].fillna(0.0)
        history[f"use_{k + 1}"] = bills[m] / limit
    return attributes, history, c["default_next_month"].astype(float).to_numpy()


def _seen(history: pd.DataFrame, months: int) -> pd.DataFrame:
    """The history as known after ``months`` months: later months are not known yet (NaN)."""
    out = history.copy()
    for k in range(months + 1, 7):
        out[[f"status_{k}", f"bill_{k}", f"paid_{k}", f"use_{k}"]] = np.nan
    return out


def _ci(metric, y, p) -> list[float]:
    return [round(v, 4) for v in ev.bootstrap_ci(metric, y, p, n_boot=300)]


def main() -> None:
    t0 = time.perf_counter()
    attributes, history, y = _tables()
    rng = np.random.default_rng(0)
    test = rng.random(len(y)) < 0.3
    ids = attributes.index.to_numpy()
    # training rows: every customer at every stage (the blend learns how much the months seen count)
    A = pd.concat([attributes.loc[~test]] * len(STAGES))
    H = pd.concat([_seen(history.loc[~test], m) for m in STAGES])
    n = np.repeat(STAGES, (~test).sum())
    model = AcceptanceModel(seed=0).fit_rows(A, H, n, np.tile(y[~test], len(STAGES)), np.tile(ids[~test], len(STAGES)))
    out = {"customers": len(y), "test_customers": int(test.sum()), "default_share": float(y.mean()),
           "credibility_k": model.credibility_k_, "blend": model.blend_coef_, "stages": {}}  # fmt: skip
    for m in STAGES:
        Ht = _seen(history.loc[test], m)
        p = model.predict_rows(attributes.loc[test], Ht, np.full(int(test.sum()), m))

        # logistic regression on the same inputs (education one-hot, missing months as 0 with the stage known)
        def design(rows: np.ndarray, months: int = m) -> np.ndarray:
            X = pd.concat([attributes.loc[rows, ["limit"]], pd.get_dummies(attributes.loc[rows, "education"]),
                           _seen(history.loc[rows], months).fillna(0.0)], axis=1)  # fmt: skip
            return X.reindex(columns=sorted(X.columns, key=str), fill_value=0).to_numpy(dtype=float)

        lr = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)).fit(design(~test), y[~test])
        yt = y[test]
        rec = {"payrisk_blend": {"auc": _ci(ev.auc, yt, p["p_problem_12m"]),
                                 "log_loss": _ci(ev.log_loss, yt, p["p_problem_12m"]),
                                 "ece": _ci(ev.ece, yt, p["p_problem_12m"])},
               "attributes_only": {"auc": _ci(ev.auc, yt, p["p_attributes"])},
               "history_only": {"auc": _ci(ev.auc, yt, p["p_history"])},
               "logistic_regression": {"auc": _ci(ev.auc, yt, lr.predict_proba(design(test))[:, 1])}}  # fmt: skip
        out["stages"][m] = rec
        print(f"months {m}: blend AUC {rec['payrisk_blend']['auc']}, ECE {rec['payrisk_blend']['ece'][0]}; "
              f"attributes {rec['attributes_only']['auc'][0]}; history {rec['history_only']['auc'][0]}; "
              f"logistic regression {rec['logistic_regression']['auc']}", flush=True)  # fmt: skip
    out["seconds"] = time.perf_counter() - t0
    path = Path(__file__).parent / "results" / "acceptance_taiwan.json"
    path.write_text(json.dumps(out, indent=1, default=float))
    print(f"published: XGBoost with the six months about 0.78 AUC\nwrote {path}")


if __name__ == "__main__":
    main()
