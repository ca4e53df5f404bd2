"""The engine's training rows: every invoice at its issue day and at a young age of its own beside the landmark
rows (no length bias in an invoice's first days), nothing twice, nothing from after the fit date, and the forecast
models' rows unchanged."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import payrisk as pr
from payrisk import _training as training

DAY = pd.Timestamp("2024-06-30")
HISTORY = 365


@pytest.fixture(scope="module")
def world() -> pr.Ledger:
    return pr.datasets.make_ledger(n_customers=300, seed=5, params=pr.datasets.WorldParams.short_term())


@pytest.fixture(scope="module")
def rows(world):
    return training.landmark_rows(world.as_of(DAY), DAY, HISTORY)


def test_every_invoice_issued_in_the_window_has_a_row_on_its_issue_day(world, rows):
    r, _ = rows
    inv = world.as_of(DAY).invoices
    first = DAY - pd.Timedelta(days=HISTORY)
    issued = inv.loc[(inv["issue_date"] >= first) & (inv["issue_date"] < DAY)]
    open_at_issue = issued.loc[~(issued["paid_date"] <= issued["issue_date"])]
    at_issue = r.loc[r["as_of"] == r["issue_date"], "invoice_id"]
    assert set(at_issue) == set(open_at_issue["invoice_id"])
    assert not r.duplicated(["invoice_id", "as_of"]).any()
    # a landmark falling on the issue day keeps its row (marked as a landmark row): it is not made twice
    fresh = r.loc[r["fresh"]]
    on_issue = fresh["as_of"] == fresh["issue_date"]
    assert set(fresh.loc[on_issue, "invoice_id"]) | set(
        r.loc[~r["fresh"] & (r["as_of"] == r["issue_date"]), "invoice_id"]
    ) == set(at_issue)


def test_every_invoice_has_one_more_row_at_a_young_age_while_open_and_not_due(world, rows):
    r, _ = rows
    young = r.loc[r["fresh"] & (r["as_of"] > r["issue_date"])]
    age = (young["as_of"] - young["issue_date"]).dt.days
    assert age.between(1, training.YOUNG_DAYS).all() and set(age) == set(range(1, training.YOUNG_DAYS + 1))
    assert (young["as_of"] <= young["due_date"]).all()  # the late-payment model's rows: not due yet
    assert not (young["paid_date"] <= young["as_of"]).any()  # still open at the end of that day
    assert not young["invoice_id"].duplicated().any()  # one young age per invoice
    # most invoices are still open at their young age (the terms are 14 days and more): they have that row, or a
    # landmark row on the same day instead
    inv = world.as_of(DAY).invoices.set_index("invoice_id")
    issued = inv.loc[
        (inv["issue_date"] >= DAY - pd.Timedelta(days=HISTORY)) & (inv["issue_date"] < DAY - pd.Timedelta(days=20))
    ]
    quick = (issued["paid_date"] - issued["issue_date"]).dt.days <= training.YOUNG_DAYS
    slow = issued.index[~quick.to_numpy()]
    landmark_days = r.loc[~r["fresh"] & ((r["as_of"] - r["issue_date"]).dt.days.between(1, training.YOUNG_DAYS))]
    covered = set(young["invoice_id"]) | set(landmark_days["invoice_id"])
    assert len(set(slow) - covered) == 0  # every invoice open for its first two weeks is there at some young age


def test_the_landmark_rows_are_the_open_book_sampled_as_before(world, rows):
    r, _ = rows
    snap = world.as_of(DAY)
    inv = snap.invoices
    phase = (pd.util.hash_array(inv["invoice_id"].to_numpy(dtype=object)) % np.uint64(training.LANDMARK_EVERY)).astype(
        int
    )
    expected = pd.concat([training._open_at(inv, m, phase).assign(as_of=m) for m in training.landmarks(DAY, HISTORY)])
    got = r.loc[~r["fresh"].to_numpy()]
    assert got["invoice_id"].tolist() == expected["invoice_id"].tolist()
    assert got["as_of"].tolist() == expected["as_of"].tolist()


def test_quick_payers_are_no_longer_under_represented(world, rows):
    """On the issue day the rows hold the invoices issued, quick payers (paid within 10 days) in their share; at
    the young ages, the invoices still open then, each age alike (the landmark rows alone see an invoice in its
    first days about one time in six, and quick payers less)."""
    r, _ = rows
    inv = world.as_of(DAY).invoices
    issued = inv.loc[
        (inv["issue_date"] >= DAY - pd.Timedelta(days=HISTORY)) & (inv["issue_date"] < DAY - pd.Timedelta(days=30))
    ]
    issued = issued.loc[~(issued["paid_date"] <= issued["issue_date"])]
    days_to_pay = (issued["paid_date"] - issued["issue_date"]).dt.days.to_numpy()
    quick = days_to_pay <= 10
    mine = r.loc[r["invoice_id"].isin(issued["invoice_id"])]
    age = (mine["as_of"] - mine["issue_date"]).dt.days
    first = mine.loc[(age == 0).to_numpy()]
    assert abs(((first["paid_date"] - first["issue_date"]).dt.days <= 10).mean() - quick.mean()) < 0.03
    young = mine.loc[mine["fresh"].to_numpy() & (age > 0).to_numpy()]
    got = ((young["paid_date"] - young["issue_date"]).dt.days <= 10).mean()
    # expected: each invoice at an age drawn evenly from 1..YOUNG_DAYS, kept while open (not paid by that day)
    ages = np.arange(1, training.YOUNG_DAYS + 1)
    still_open = ~(days_to_pay[:, None] <= ages[None, :])  # NaN (unpaid) compares False: open
    expected = (still_open & quick[:, None]).sum() / still_open.sum()
    assert abs(got - expected) < 0.03
    per_invoice = mine.loc[(age <= training.YOUNG_DAYS).to_numpy()].groupby("invoice_id").size()
    assert per_invoice.max() <= 3  # the issue row, the young row and at most one landmark in those days
    assert set(per_invoice.index) == set(issued["invoice_id"])


def test_targets_are_followed_only_to_the_fit_date(world, rows):
    r, target = rows
    assert (r["as_of"] < DAY).all()
    paid_after = r["paid_date"].notna() & (r["paid_date"] > DAY)
    assert not target.loc[paid_after.to_numpy(), "event"].any()
    assert (target["duration"] >= 0).all()


def test_the_forecast_models_are_fitted_on_the_landmark_rows_only(world):
    built = training.training_rows(world.as_of(DAY), DAY, HISTORY)
    assert built["fresh"].any() and (~built["fresh"]).any()
    feats = training.InProcess._features(built)
    assert not set(training.NOT_FEATURES) & set(feats.columns)
    time_model = training.InProcess().fit_time(built, {"n_estimators": 20, "max_depth": 3})
    size = {"n_estimators": 20, "max_depth": 3}
    landmark_only = training.InProcess().fit_time(built.loc[~built["fresh"].to_numpy()], size)
    X = feats.iloc[:200]
    np.testing.assert_allclose(time_model.predict(X), landmark_only.predict(X))


def test_an_engine_with_landmark_rows_but_no_invoice_due_yet_is_refused_by_name():
    long_terms = pr.datasets.WorldParams(terms_days=(90,), terms_probs=(1.0,), existing_customer_share=0.0)
    led = pr.datasets.make_ledger(n_customers=400, seed=1, start="2024-01-01", end="2024-06-30", params=long_terms)
    with pytest.raises(pr.errors.ParameterError, match=r"known late-payment outcome .* too few to fit"):
        pr.RiskEngine(n_estimators=20).fit(led, "2024-03-15")
    assert training.MIN_OUTCOMES < training.MIN_ROWS  # a book that fits today keeps fitting


def test_a_ledger_that_records_no_settlement_is_refused_with_the_columns_to_map(tmp_path, capsys):
    """Every due invoice of a ledger without paid dates or allocated payments is late: the engine says why, in
    the ledger's terms, not that a classifier saw one class (as UCI's Taiwan statements would)."""
    from payrisk._cli_io import write_tables
    from payrisk.cli import main

    world = pr.datasets.make_ledger(n_customers=200, seed=2)
    unsettled = pr.Ledger.from_frames(invoices=world.invoices.drop(columns=["paid_date"]), customers=world.customers)
    assert unsettled.invoices["paid_date"].isna().all()
    with pytest.raises(pr.errors.ParameterError, match=r"none was paid on time.*invoices\.paid_date.*invoice_id"):
        pr.RiskEngine(n_estimators=20).fit(unsettled, "2024-03-31")
    write_tables(unsettled, tmp_path / "data")
    assert main(["--quiet", "fit", str(tmp_path / "data"), "--as-of", "2024-03-31", "--out", str(tmp_path / "m")]) == 2
    assert "records no settlement" in capsys.readouterr().err and not (tmp_path / "m").exists()


def test_a_ledger_of_plans_without_invoices_is_told_where_plans_are_modelled():
    from conftest import shared_data_dir

    folder = shared_data_dir() / "berka_pkdd99"
    if not folder.is_dir():
        pytest.skip("Berka not found under ../shared/data")
    plans_only = pr.datasets.load_berka(folder)
    assert len(plans_only.invoices) == 0 and len(plans_only.plans) > 0
    with pytest.raises(pr.errors.ParameterError, match=r"holds no invoices \(\d+ payment plans\).*plan_features"):
        pr.RiskEngine(n_estimators=20).fit(plans_only, "1997-06-30")


def test_the_cash_before_settlement_is_read_by_hand_and_only_to_the_fit_date():
    """Each row's partial payments after its cutoff and before its settlement, known by the fit date, by hand:
    the day of the first and their share of what was open at the cutoff."""
    world = pr.datasets.make_ledger(n_customers=300, seed=2)
    built = training.training_rows(world.as_of(DAY), DAY, HISTORY)
    has = built["part_share"].to_numpy() > 0
    assert 50 < has.sum() < 0.3 * len(built)  # partial payments are there, on a minority of rows
    pick = np.r_[np.flatnonzero(has)[:60], np.flatnonzero(~has)[:60]]
    pay = world.payments.loc[world.payments["payment_date"] <= DAY]
    inv = world.invoices.set_index("invoice_id")
    for i in pick:
        invoice_id, cutoff = built.index[i], built["as_of"].iloc[i]
        settled = inv.at[invoice_id, "paid_date"]
        mine = pay.loc[pay["invoice_id"] == invoice_id]
        if pd.notna(settled) and settled <= DAY:
            mine = mine.loc[mine["payment_date"] < settled]  # the settlement day's payment is the settlement
        after = mine.loc[mine["payment_date"] > cutoff]
        open_at = inv.at[invoice_id, "amount"] - mine.loc[mine["payment_date"] <= cutoff, "amount"].sum()
        want_days = (after["payment_date"].min() - cutoff).days if len(after) else np.nan
        assert np.isclose(built["part_share"].iloc[i], after["amount"].sum() / open_at), invoice_id
        assert np.array_equal([built["part_days"].iloc[i]], [want_days], equal_nan=True), invoice_id
