"""RiskEngine: one row per open invoice, ordered, explained, saved without pickle, and blind to the future."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import payrisk as pr
from payrisk.errors import ModelFileError, NotFittedError, ParameterError
from payrisk.segment import prioritise

FIT, SCORE = "2024-03-31", "2024-04-30"


@pytest.fixture(scope="module")
def small() -> pr.Ledger:
    return pr.datasets.make_ledger(n_customers=400, seed=3)


@pytest.fixture(scope="module")
def engine(small):
    return pr.RiskEngine(n_estimators=80, reasons_top_n=50).fit(small, FIT)


@pytest.fixture(scope="module")
def worklist(engine, small):
    return engine.score(small, SCORE)


def test_one_row_per_open_invoice_in_priority_order(worklist, small):
    snap = small.as_of(SCORE)
    open_ids = set(snap.invoices.loc[snap.invoices["open_amount"] > 0, "invoice_id"])
    assert set(worklist.index) == open_ids
    assert worklist["priority_rank"].tolist() == list(range(1, len(worklist) + 1))
    assert (np.diff(worklist["red"].to_numpy()) < 0).all()
    assert (worklist["expected_loss"].diff().dropna() <= 1e-9).all()  # the order is the expected loss
    overdue = worklist["days_overdue"] > 0
    assert (worklist.loc[overdue, "p_late"] == 1).all() and worklist.loc[~overdue, "p_late"].between(0, 1).all()
    assert (worklist["pay_p10"] <= worklist["pay_p50"]).all() and (worklist["pay_p50"] <= worklist["pay_p90"]).all()
    p = worklist[["p_paid_30d", "p_paid_60d", "p_paid_90d"]].to_numpy()
    assert (np.diff(p, axis=1) >= -1e-12).all()
    assert set(worklist["band"]) <= {"critical", "high", "medium", "low"}


def test_reasons_for_the_top_of_the_list_only(worklist):
    top, rest = worklist.iloc[:50], worklist.iloc[50:]
    assert (top["reasons"].str.len() > 0).mean() > 0.9 and (rest["reasons"] == "").all()
    overdue_top = top.loc[top["days_overdue"] > 0]
    said = [f"{d} days overdue" in r for d, r in zip(overdue_top["days_overdue"], overdue_top["reasons"], strict=True)]
    assert np.mean(said) > 0.5  # the most common reason at the top of the list is the invoice's own delay
    assert (top["customer_reasons"].str.len() > 0).all() and (rest["customer_reasons"] == "").all()
    text = " ".join(top["customer_reasons"]).lower()
    assert "late" not in text and "chronic" not in text


def test_priority_beats_common_practice_on_the_truth(engine, small, worklist):
    """Expected amount still unpaid after 90 days (the truth) covered by the first 50 contacts."""
    overdue = worklist.loc[worklist["days_overdue"] > 0]
    truth_s = small.truth.survival([90]).reindex(overdue.index)
    at_risk = overdue["open_amount"] * truth_s.iloc[:, 0].fillna(1.0)
    n = 50
    ours = at_risk.loc[overdue.sort_values("priority_rank").index[:n]].sum()
    by_days = at_risk.loc[overdue.sort_values("days_overdue", ascending=False).index[:n]].sum()
    by_amount = at_risk.loc[overdue.sort_values("open_amount", ascending=False).index[:n]].sum()
    assert ours > by_days and ours >= 0.95 * by_amount


def test_save_load_scores_the_same(engine, small, worklist, tmp_path):
    folder = engine.save(tmp_path / "engine")
    assert {"engine.json", "late_payment", "payment_time", "payment_week", "early_warning"} <= {
        p.name for p in folder.iterdir()
    }
    assert not list(folder.rglob("*.pkl")) and not list(folder.rglob("*.pickle"))
    back = pr.RiskEngine.load(folder)
    pd.testing.assert_frame_equal(back.score(small, SCORE), worklist)
    doc = json.loads((folder / "engine.json").read_text())
    (folder / "engine.json").write_text(json.dumps({**doc, "format_version": 99}))
    with pytest.raises(ModelFileError, match=r"engine\.json: changed after the folder was written"):
        pr.RiskEngine.load(folder)  # any edit is refused, naming the file


def test_a_model_folder_with_an_edited_missing_or_added_file_is_refused(engine, tmp_path):
    import shutil

    def fresh(name: str):
        return engine.save(tmp_path / name)

    meta = fresh("meta") / "late_payment" / "metadata.json"
    meta.write_text(meta.read_text().replace('"calibration"', '"calibration" ', 1))
    with pytest.raises(ModelFileError, match=r"late_payment/metadata\.json: changed after the folder was written"):
        pr.RiskEngine.load(tmp_path / "meta")
    (fresh("gone") / "payment_time" / "booster.ubj").unlink()
    with pytest.raises(ModelFileError, match=r"payment_time/booster\.ubj: listed .* but missing"):
        pr.RiskEngine.load(tmp_path / "gone")
    (fresh("extra") / "late_payment" / "evil.pkl").write_bytes(b"x")
    with pytest.raises(ModelFileError, match=r"late_payment/evil\.pkl"):
        pr.RiskEngine.load(tmp_path / "extra")
    folder = fresh("escape")
    manifest = json.loads((folder / "MANIFEST.json").read_text())
    manifest["files"]["../outside.json"] = "0" * 64
    (folder / "MANIFEST.json").write_text(json.dumps(manifest))
    with pytest.raises(ModelFileError, match="outside the folder"):
        pr.RiskEngine.load(folder)
    shutil.copytree(fresh("copy"), tmp_path / "copied")  # a copied folder is the same model
    assert pr.RiskEngine.load(tmp_path / "copied").as_of_ == engine.as_of_


def test_the_future_does_not_change_the_fit(engine, small):
    """Fitting on the ledger cut at the fit date gives the same models as fitting on the full history."""
    cut = pr.RiskEngine(n_estimators=80, reasons_top_n=50).fit(small.as_of(FIT), FIT)
    X = pr.features.invoice_features(small.as_of(FIT), "issue_date").iloc[:200]
    np.testing.assert_allclose(cut.time_model_.predict_location(X), engine.time_model_.predict_location(X))
    np.testing.assert_allclose(cut.late_model_.predict_proba(X), engine.late_model_.predict_proba(X))
    C = pr.features.customer_features(small.as_of(FIT), FIT)
    np.testing.assert_allclose(cut.problem_model_.predict_proba(C), engine.problem_model_.predict_proba(C))


def test_errors(small):
    with pytest.raises(NotFittedError):
        pr.RiskEngine().score(small, SCORE)
    with pytest.raises(ParameterError, match="too few to fit"):
        pr.RiskEngine(history_days=31).fit(small, "2022-01-15")
    with pytest.raises(ParameterError, match="prioritise needs"):
        prioritise(pd.DataFrame({"open_amount": [1.0]}))


@pytest.mark.parametrize(
    "params",
    [{"n_estimators": 0}, {"max_depth": 0}, {"history_days": 7}, {"forecast_weeks": -1}, {"annual_rate": 8},
     {"horizon_days": 0.5}, {"loss_given_nonpayment": 1.5}, {"reasons_top_n": -1}, {"n_estimators": True},
     {"alert_level": 1.0}, {"alert_level": 0}, {"select_size": "yes"}],
)  # fmt: skip
def test_parameters_out_of_range_are_refused_by_name(small, params):
    with pytest.raises(ParameterError, match=f"'{next(iter(params))}' parameter"):
        pr.RiskEngine(**params).fit(small, FIT)


def test_the_engine_is_a_scikit_learn_estimator_get_set_params_repr_and_clone():
    from sklearn.base import clone

    engine = pr.RiskEngine(n_estimators=30, exclude_features=["issue_month"])
    twin = clone(engine)
    assert twin is not engine and twin.get_params() == engine.get_params()
    assert engine.set_params(max_depth=3) is engine and engine.max_depth == 3
    assert "n_estimators=30" in repr(engine) and "max_depth=3" in repr(engine)
    with pytest.raises(ParameterError, match="exclude_features"):
        pr.RiskEngine(exclude_features="issue_month").fit(pr.datasets.make_ledger(n_customers=20, seed=0), "2024-06-30")


def test_the_worklist_is_the_declared_table(worklist, small, tmp_path):
    """The engine produces payrisk.schema.WORKLIST: its columns in their order, each of its declared kind."""
    from payrisk.schema import WORKLIST, check_worklist

    assert list(worklist.columns) == WORKLIST.column_names and worklist.index.name == "invoice_id"
    kinds = {c.name: c.kind.value for c in WORKLIST.columns}
    for name, kind in kinds.items():
        col = worklist[name]
        if kind == "date":
            assert pd.api.types.is_datetime64_any_dtype(col), name
        elif kind in ("money", "number", "int"):
            declared = WORKLIST.column(name)
            assert pd.api.types.is_numeric_dtype(col) and (declared.nullable or col.notna().all()), name
        elif kind == "bool":
            assert pd.api.types.is_bool_dtype(col), name
        else:
            assert col.map(lambda v: isinstance(v, str)).all(), name
    check_worklist(worklist, WORKLIST.column_names, "test")  # the engine's own output passes its check
    # a worklist saved as CSV and read back without its dates is refused with the fix, not read as garbage
    worklist.to_csv(tmp_path / "w.csv")
    back = pd.read_csv(tmp_path / "w.csv", index_col="invoice_id")
    with pytest.raises(ParameterError, match=r"'pay_p10' holds .* not dates; .*parse_dates="):
        pr.forecast.cash_inflow(pr.datasets.make_ledger(n_customers=20, seed=0), back, "2024-07-31")
    with pytest.raises(ParameterError, match=r"plan_actions: the worklist lacks the columns \['p_late'\]"):
        pr.dunning.plan_actions(small, worklist.drop(columns="p_late"), pr.dunning.Policy.default(), "2024-07-31")


def test_the_early_warning_sees_problems_coming_better_than_the_customers_late_share(engine, small):
    """Out of time (looked at monthly after the fit, outcome read at the end of the data): the customers the early
    warning ranks first become a problem within 90 days more often, and the deteriorating ones stand out."""
    from payrisk import evaluation as ev

    looks = []
    for day in pd.date_range("2024-04-30", "2024-08-31", freq="MS") - pd.Timedelta(days=1):
        ew = engine.early_warning(small, day, reasons=False)
        quiet = ew.loc[~ew["problem_now"]]
        share = pr.features.customer_features(small.as_of(day), day)["share_late"].reindex(quiet.index)
        looks.append(quiet.assign(as_of=day, share_late=share.fillna(share.mean()).to_numpy()))
    looks = pd.concat(looks).reset_index()
    y = pr.labels.customer_problem(small, looks[["customer_id", "as_of"]])["problem"].to_numpy()
    assert ev.auc(y, looks["p_problem_90d"]) > max(0.8, ev.auc(y, looks["share_late"]) + 0.03)
    alerts = looks["alert"].to_numpy()
    assert alerts.any() and y[alerts].mean() > 2 * y.mean()  # an alert is worth reading
    c = small.truth.customers.set_index("customer_id").reindex(looks["customer_id"])
    changed = (c["deteriorated_on"] <= looks["as_of"].to_numpy()).to_numpy() & (c["archetype"] == "reliable").to_numpy()
    steady = ~c["deteriorates"].to_numpy() & (c["archetype"] == "reliable").to_numpy()
    assert looks["p_problem_90d"][changed].median() > 2 * looks["p_problem_90d"][steady].median()


def test_early_warning_lists_customers_in_business_with_reasons_for_the_alerts(engine, small, worklist):
    ew = engine.early_warning(small, SCORE)
    assert ew.index.is_unique and set(worklist["customer_id"]) <= set(ew.index)
    assert not (ew["alert"] & ew["problem_now"]).any()
    assert (ew.loc[ew["alert"], "p_problem_90d"] >= engine.alert_level).all()
    assert (ew.loc[ew["alert"], "reasons"].str.len() > 0).all() and (ew.loc[~ew["alert"], "reasons"] == "").all()
    assert ew["alert"].iloc[: int(ew["alert"].sum())].all()  # the alerts come first
    per_row = ew.reindex(worklist["customer_id"])  # the worklist carries each customer's warning
    np.testing.assert_allclose(worklist["p_problem_90d"].to_numpy(), per_row["p_problem_90d"].to_numpy())
    assert (worklist["alert"].to_numpy() == per_row["alert"].to_numpy()).all()


def _said(record: list, category: type, text: str) -> list[str]:
    return [str(w.message) for w in record if issubclass(w.category, category) and text in str(w.message)]


def test_using_the_engine_before_its_fit_date_is_said_as_a_look_ahead(engine, small):
    import warnings

    from payrisk.errors import PayriskWarning

    before = (pd.Timestamp(FIT) - pd.Timedelta(days=30)).date()
    for use in (engine.score, engine.early_warning):
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always")
            use(small, str(before))
        said = _said(record, PayriskWarning, "look-ahead")
        assert len(said) == 1  # said once per call, naming both dates and the fix
        assert f"fitted as of {FIT}, after {before}" in said[0] and f"fit it as of {before} or earlier" in said[0]
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always")
            out = use(small, FIT)
        assert len(out) > 0 and not _said(record, PayriskWarning, "look-ahead")  # on the fit date: nothing to say


def test_a_day_well_after_the_ledgers_last_date_is_said(engine, small):
    import warnings

    from payrisk.errors import PayriskWarning

    snap = small.as_of(SCORE)  # an export that ends on SCORE
    later = (pd.Timestamp(SCORE) + pd.Timedelta(days=60)).date()
    fresh = pr.RiskEngine(n_estimators=5, reasons_top_n=0, forecast_weeks=0)
    runs = ((lambda: engine.score(snap, str(later)), SCORE), (lambda: fresh.fit(small.as_of(FIT), str(later)), FIT))
    for run, end in runs:  # scoring an export that ends on SCORE, fitting on one that ends on FIT
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always")
            run()
        said = _said(record, PayriskWarning, "after the last date the ledger records")
        gap = (pd.Timestamp(later) - pd.Timestamp(end)).days
        assert len(said) == 1 and f"as_of {later} is {gap} days after" in said[0] and f"on or before {end}" in said[0]
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        engine.score(snap, SCORE)
    assert not _said(record, PayriskWarning, "after the last date the ledger records")  # the export's own day


def test_a_model_saved_before_pay_days_reads_its_segments_as_it_was_fitted(engine, small, tmp_path):
    """An engine.json without the segmenter's pay_days and bounced_factor (written by an earlier payrisk) loads
    with pay days at face value and a bounced reminder read as a mild one: the segments it was fitted with."""
    from payrisk._manifest import write_manifest
    from payrisk.segment import PayerSegmenter

    folder = engine.save(tmp_path / "old")
    doc = json.loads((folder / "engine.json").read_text())
    del doc["segmenter"]["params"]["pay_days"]
    for row in doc["segmenter"]["components"]:
        del row["bounced_factor"]
    (folder / "engine.json").write_text(json.dumps(doc))
    write_manifest(folder)  # as the earlier version signed it
    back = pr.RiskEngine.load(folder).segmenter_
    assert back.pay_days is False and "bounced_factor" not in back.components_
    old = PayerSegmenter(pay_days=False)
    old.components_ = engine.segmenter_.components_.assign(bounced_factor=1.0)
    pd.testing.assert_frame_equal(back.predict(small, SCORE), old.predict(small, SCORE))


def test_the_worklist_carries_each_customers_limit_and_its_use(worklist, small):
    from payrisk.limits import limit_utilisation

    held = limit_utilisation(small, SCORE)
    by_customer = worklist.groupby("customer_id")[["credit_limit", "limit_utilisation"]].agg(["min", "max"])
    for col in ("credit_limit", "limit_utilisation"):  # one figure per customer, the same as limit_utilisation's
        lo, hi = by_customer[(col, "min")], by_customer[(col, "max")]
        assert ((lo == hi) | lo.isna()).all()
        np.testing.assert_allclose(lo.to_numpy(), held.loc[lo.index, col.replace("limit_", "")].to_numpy())
    assert worklist["credit_limit"].notna().any() and (worklist["limit_utilisation"] > 1).any()
    # the utilisation is the customer's open invoices over its limit
    first = worklist.dropna(subset=["limit_utilisation"]).iloc[0]
    mine = worklist.loc[worklist["customer_id"] == first["customer_id"], "open_amount"].sum()
    assert first["limit_utilisation"] == pytest.approx(mine / first["credit_limit"])
