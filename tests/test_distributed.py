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
    assert len(rows) == engine.n_landmark_rows_  # the same landmark rows, built per partition
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
    got = prd.score(engine, prd.read_ledger(folder).by_customer(npartitions=4), "2024-07-31").compute()
    want = engine.score(ledger, "2024-07-31")
    got = got.sort_values("priority_rank")
    assert list(got.index) == list(want.index)  # the same global order, ranked across partitions
    cols = ["customer_id", "p_late", "p_paid_30d", "expected_loss", "segment", "priority_rank", "red", "band"]
    pd.testing.assert_frame_equal(got[cols], want[cols], check_exact=True, check_dtype=False)
