"""The engine's P(late) for invoices in their first week: what a worklist shows the day a new invoice appears.
It must know what its own issue-date classifier knows (issue 22), on a short-term book and on IBM's real one."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import payrisk as pr
from conftest import shared_data_dir
from payrisk.evaluation import auc


def _first_week_aucs(ledger: pr.Ledger, fit_on: str, weeks: int) -> dict[str, float]:
    day = pd.Timestamp(fit_on)
    engine = pr.RiskEngine(n_estimators=150, reasons_top_n=0, forecast_weeks=0).fit(ledger, day)
    X = pr.features.invoice_features(ledger, "issue_date")
    issued = X["as_of"] + pd.Timedelta(days=1)
    y_fit = pr.labels.late_payment(ledger, as_of=day, mature_only=True)
    train = y_fit.index.intersection(X.index[(issued <= day).to_numpy()])
    direct = pr.models.LatePaymentClassifier(n_estimators=150).fit(X.loc[train], y_fit.loc[train])
    outcome = pr.labels.late_payment(ledger)
    parts = []
    for end in pd.date_range(day + pd.Timedelta(days=7), periods=weeks, freq="7D"):
        new = X.index[((issued > end - pd.Timedelta(days=7)) & (issued <= end)).to_numpy()]
        worklist = engine.score(ledger, end)
        new = new.intersection(outcome.index).intersection(worklist.index)
        parts.append(pd.DataFrame({"late": outcome.loc[new], "engine": worklist.loc[new, "p_late"],
                                   "direct": direct.predict_proba(X.loc[new])[:, 1],
                                   "prior": X.loc[new, "share_late"]}))  # fmt: skip
    s = pd.concat(parts)
    s["prior"] = s["prior"].fillna(float(np.nanmean(X.loc[train, "share_late"])))
    return {m: auc(s["late"].to_numpy(), s[m].to_numpy()) for m in ("engine", "direct", "prior")} | {"n": len(s)}


@pytest.mark.filterwarnings("ignore:the plan-adherence model was left out")
def test_new_invoices_on_a_short_term_book():
    led = pr.datasets.make_ledger(n_customers=1200, seed=4, params=pr.datasets.WorldParams.short_term())
    a = _first_week_aucs(led, "2024-06-30", 8)
    assert a["n"] > 1000
    assert a["engine"] >= a["direct"] - 0.01, a
    assert a["engine"] >= a["prior"] + 0.02, a


def test_new_invoices_on_ibm_real_receivables():
    folder = shared_data_dir() / "ibm_accounts_receivable"
    if not folder.is_dir():
        pytest.skip("IBM receivables not found under ../shared/data")
    a = _first_week_aucs(pr.datasets.load_ibm_ar(folder), "2013-06-30", 20)
    assert a["n"] > 300
    assert a["engine"] >= a["direct"] - 0.01, a
    assert a["engine"] >= a["prior"] + 0.03, a
