"""The pipeline on Dask (LocalCluster, 2 workers) equals the single-machine pipeline: features exactly."""

from __future__ import annotations

import pandas as pd
import pytest

import payrisk as pr

dd = pytest.importorskip("dask.dataframe", reason="the dask extra is not installed (pip install 'payrisk[dask]')")
distributed = pytest.importorskip("distributed")
prd = pytest.importorskip("payrisk.distributed")

pytestmark = pytest.mark.xdist_group("dask")


@pytest.fixture(scope="module")
def client():
    with (
        distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster,
        distributed.Client(cluster) as c,
    ):
        yield c


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> tuple[pr.Ledger, str]:
    ledger = pr.datasets.make_ledger(n_customers=300, seed=4)
    return ledger, str(ledger.write(tmp_path_factory.mktemp("dask") / "ledger"))


@pytest.mark.parametrize("cutoffs", ["issue_date", "due_date"])
def test_features_on_dask_equal_the_single_machine_ones_exactly(client, world, cutoffs):
    ledger, folder = world
    dask_ledger = prd.read_ledger(folder).by_customer(npartitions=5)
    got = prd.invoice_features(dask_ledger, cutoffs).compute()
    want = pr.features.invoice_features(ledger, cutoffs)
    assert got.index.is_unique and set(got.index) == set(want.index)
    pd.testing.assert_frame_equal(got.loc[want.index], want, check_exact=True)


def test_a_ledger_stored_by_customer_reads_back_aligned_and_gives_the_same_features(client, world, tmp_path):
    ledger, folder = world
    stored = prd.read_ledger(folder).by_customer(npartitions=4).write(tmp_path / "by_customer")
    again = prd.read_ledger(stored)
    assert again.partitioned_by_customer
    assert {t.npartitions for t in again.tables.values()} == {4}
    assert len(again.tables["payments"]) == len(ledger.payments)  # nothing lost on the way
    got = prd.invoice_features(again, "due_date").compute()
    want = pr.features.invoice_features(ledger, "due_date")
    assert set(got.index) == set(want.index)
    pd.testing.assert_frame_equal(got.loc[want.index], want, check_exact=True)


def test_every_customer_lives_in_one_partition_of_every_table(client, world):
    _, folder = world
    tables = prd.read_ledger(folder).by_customer(npartitions=4).tables
    where = {}
    for name in ("invoices", "payments", "contacts", "installments"):
        parts = (
            tables[name]
            .map_partitions(
                lambda df, partition_info=None: df[["customer_id"]].assign(part=partition_info["number"]),
                meta={"customer_id": "str", "part": "int64"},
            )
            .compute()
        )
        assert parts.groupby("customer_id")["part"].nunique().max() == 1, name
        where[name] = parts.drop_duplicates("customer_id").set_index("customer_id")["part"]
    both = where["invoices"].to_frame("inv").join(where["payments"].rename("pay"), how="inner")
    assert (both["inv"] == both["pay"]).all()  # the same partition in every table


def test_the_late_model_trained_on_dask_matches_the_single_machine_one(client, world):
    ledger, folder = world
    rows = prd.training_rows(prd.read_ledger(folder).by_customer(npartitions=3), "2024-06-30").persist()
    dask_model = prd.fit_late_payment(client, rows, n_estimators=150)
    engine = pr.RiskEngine(n_estimators=150, forecast_weeks=0, reasons_top_n=0).fit(ledger, "2024-06-30")
    assert int((~rows["fresh"]).sum().compute()) == engine.n_landmark_rows_  # the same rows, built per partition
    assert int(rows["fresh"].sum().compute()) > 0  # and the issue rows beside them
    snap = ledger.as_of("2024-12-31")
    y = pr.labels.late_payment(snap, mature_only=True)
    issued = snap.invoices.set_index("invoice_id")["issue_date"].reindex(y.index)
    y = y.loc[(issued > pd.Timestamp("2024-06-30")).to_numpy()]
    X = pr.features.invoice_features(snap, "issue_date").loc[y.index]
    single, dask = (m.predict_proba(X)[:, 1] for m in (engine.late_model_, dask_model))
    assert len(y) > 500
    assert abs(pr.evaluation.auc(y, single) - pr.evaluation.auc(y, dask)) < 0.02
    assert abs(pr.evaluation.brier(y, single) - pr.evaluation.brier(y, dask)) < 0.005
    assert list(dask_model.feature_names_in_) == list(engine.late_model_.feature_names_in_)


def test_the_worklist_on_dask_equals_the_single_machine_one(client, world):
    ledger, folder = world
    engine = pr.RiskEngine(n_estimators=60, forecast_weeks=0, reasons_top_n=0).fit(ledger, "2024-06-30")
    got = prd.score(prd.read_ledger(folder).by_customer(npartitions=4), engine, "2024-07-31").compute()
    want = engine.score(ledger, "2024-07-31")
    got = got.sort_values("priority_rank")
    assert list(got.index) == list(want.index)  # the same global order, ranked across partitions
    cols = ["customer_id", "p_late", "p_paid_30d", "expected_loss", "segment", "priority_rank", "red", "band"]
    pd.testing.assert_frame_equal(got[cols], want[cols], check_exact=True, check_dtype=False)
    cols = ["p_problem_90d", "alert"]  # the early warning reads the customer's whole history: one partition holds it
    pd.testing.assert_frame_equal(got[cols], want[cols], check_exact=True, check_dtype=False)


@pytest.fixture(scope="module")
def engines(client, world):
    """The engine fitted on one machine and on the cluster: same data, same seed, same settings."""
    ledger, folder = world
    params = {"n_estimators": 150, "reasons_top_n": 0}
    single = pr.RiskEngine(**params).fit(ledger, "2024-06-30")
    dask_ledger = prd.read_ledger(folder).by_customer(npartitions=3)
    steps = []
    on_dask = prd.fit_engine(client, dask_ledger, "2024-06-30", progress=lambda s, d, t: steps.append(s), **params)
    return single, on_dask, steps


def test_the_engine_fitted_on_dask_has_every_model_of_the_single_machine_one(engines):
    single, on_dask, steps = engines
    assert steps[-1] == "done" and len(steps) == 7
    assert on_dask.n_landmark_rows_ == single.n_landmark_rows_
    for name in ("late_model_", "time_model_", "week_model_", "problem_model_"):
        a, b = getattr(single, name), getattr(on_dask, name)
        assert list(a.feature_names_in_) == list(b.feature_names_in_), name
        assert b.training_as_of_ == a.training_as_of_, name
    assert (single.adherence_model_ is None) == (on_dask.adherence_model_ is None)
    assert on_dask.time_model_.distribution_ in ("normal", "logistic", "extreme")
    # the segments come from the same per-customer sums: the same mixture
    pd.testing.assert_frame_equal(on_dask.segmenter_.components_, single.segmenter_.components_, rtol=1e-9)


def _realised(ledger: pr.Ledger, worklist: pd.DataFrame, day: pd.Timestamp) -> tuple:
    """Days from ``day`` to payment of each open invoice (censored at the ledger's end) and whether it was paid."""
    paid = ledger.invoices.set_index("invoice_id")["paid_date"].reindex(worklist.index)
    end = paid.fillna(pd.Timestamp("2024-12-31"))
    return (end - day).dt.days.to_numpy(), paid.notna().to_numpy()


def test_the_payment_time_model_trained_on_dask_predicts_as_well_out_of_time(engines, world):
    ledger, _ = world
    single, on_dask, _ = engines
    day = pd.Timestamp("2024-07-31")
    results = {}
    for name, engine in (("single", single), ("dask", on_dask)):
        worklist = engine.score(ledger, day)
        duration, event = _realised(ledger, worklist, day)
        p50 = (worklist["pay_p50"] - day).dt.days.to_numpy()
        paid_30 = event & (duration <= 30)
        results[name] = (
            pr.evaluation.concordance_index(duration, event, p50),
            pr.evaluation.brier(paid_30.astype(int), worklist["p_paid_30d"].to_numpy()),
        )
    assert len(worklist) > 500
    assert abs(results["single"][0] - results["dask"][0]) < 0.02  # concordance of the median payment date
    assert abs(results["single"][1] - results["dask"][1]) < 0.01  # Brier of P(paid within 30 days)


def test_the_forecast_on_dask_equals_the_single_machine_forecast(client, world, engines):
    ledger, folder = world
    _, on_dask, _ = engines
    dask_ledger = prd.read_ledger(folder).by_customer(npartitions=4)
    got = prd.cash_inflow(dask_ledger, on_dask, "2024-07-31", threshold=1000.0)
    want = pr.forecast.cash_inflow(ledger, on_dask, "2024-07-31", threshold=1000.0)
    pd.testing.assert_frame_equal(got.periods, want.periods, rtol=1e-9)
    pd.testing.assert_frame_equal(got.by_customer, want.by_customer, rtol=1e-9)
    pd.testing.assert_frame_equal(got.by_segment, want.by_segment, rtol=1e-9)
    assert got.n_invoices == want.n_invoices
    assert got.meta["beyond_horizon"] == pytest.approx(want.meta["beyond_horizon"], rel=1e-9)


def test_the_weekly_model_trained_on_dask_forecasts_as_well_out_of_time(engines, world):
    ledger, _ = world
    single, on_dask, _ = engines
    day = pd.Timestamp("2024-07-31")
    pay = ledger.payments.loc[(ledger.payments["payment_date"] > day)]
    open_ids = single.score(ledger, day).index
    pay = pay.loc[pay["invoice_id"].isin(open_ids)]
    wape = {}
    for name, engine in (("single", single), ("dask", on_dask)):
        fc = pr.forecast.cash_inflow(ledger, engine, day, horizon_weeks=8, segments=False)
        periods = fc.periods.loc[fc.periods["currency"] == "EUR"]
        week = ((pay["payment_date"] - day).dt.days - 1) // 7
        actual = pay.loc[pay["currency"] == "EUR"].groupby(week)["amount"].sum().reindex(range(8), fill_value=0.0)
        wape[name] = abs(periods["expected"].to_numpy() - actual.to_numpy()).sum() / actual.sum()
    assert wape["dask"] < wape["single"] + 0.05
