"""LatePaymentClassifier: recovers the synthetic truth, is calibrated, and is saved without pickle."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import payrisk as pr
from payrisk import evaluation as ev
from payrisk.errors import ModelFileError, NotFittedError, ParameterError
from payrisk.models import InstallmentAdherenceClassifier, LatePaymentClassifier


@pytest.fixture(scope="module")
def split(world: pr.Ledger):
    """Out of time: train on invoices issued in 2022-2023 with outcomes known at 2024-03-31; test on invoices
    issued from 2024-04-01 with outcomes known at the end."""
    X = pr.features.invoice_features(world, "issue_date")
    y_tr = pr.labels.late_payment(world, as_of="2024-03-31")
    Xtr = X.loc[y_tr.index]
    Xtr = Xtr.loc[Xtr["as_of"] < "2023-12-31"]
    y_all = pr.labels.late_payment(world)
    Xte = X.loc[(X["as_of"] >= "2024-04-01") & X.index.isin(y_all.index)]
    return Xtr, y_tr.loc[Xtr.index], Xte, y_all.loc[Xte.index]


@pytest.fixture(scope="module")
def fitted(split):
    Xtr, ytr, _, _ = split
    return LatePaymentClassifier(n_estimators=300).fit(Xtr, ytr)


def test_out_of_time_auc_near_the_oracle_and_calibrated(fitted, split, world):
    _, _, Xte, yte = split
    p = fitted.predict_proba(Xte)[:, 1]
    truth = world.truth.invoices.set_index("invoice_id")["p_late"].reindex(Xte.index).to_numpy()
    oracle = ev.auc(yte, truth)
    model = ev.auc(yte, p)
    baseline = ev.auc(yte, Xte["share_late"].fillna(Xte["share_late"].mean()))
    assert model > baseline  # better than the customer's historical late share
    assert oracle - model < 0.04  # the 0.01 target is measured at 200k rows in the benchmark
    assert ev.ece(truth, p) < 0.02
    assert fitted.calibration_method_ in ("platt", "isotonic")
    assert fitted.training_as_of_ <= pd.Timestamp("2023-12-31")


def test_save_load_round_trip_and_tamper_refusal(fitted, split, tmp_path):
    _, _, Xte, _ = split
    path = fitted.save(tmp_path / "m")
    assert sorted(p.name for p in path.iterdir()) == ["MANIFEST.json", "booster.ubj", "metadata.json"]
    back = LatePaymentClassifier.load(path)
    np.testing.assert_allclose(back.predict_proba(Xte), fitted.predict_proba(Xte))
    meta = json.loads((path / "metadata.json").read_text())
    assert meta["features"][0]["name"] == fitted.feature_names_in_[0] and meta["calibration"]["method"]
    with open(path / "booster.ubj", "ab") as fh:  # tamper
        fh.write(b"x")
    with pytest.raises(ModelFileError, match=r"booster\.ubj: changed after the folder was written"):
        LatePaymentClassifier.load(path)
    with pytest.raises(ModelFileError, match=r"expected metadata\.json"):
        LatePaymentClassifier.load(tmp_path / "nothing")


def test_columns_are_matched_by_name_and_missing_ones_named(fitted, split):
    _, _, Xte, _ = split
    shuffled = Xte[list(reversed(Xte.columns))]
    np.testing.assert_allclose(fitted.predict_proba(shuffled), fitted.predict_proba(Xte))
    with pytest.raises(ParameterError, match="share_late"):
        fitted.predict_proba(Xte.drop(columns="share_late"))


def test_errors_before_fit_and_bad_parameters(split):
    Xtr, ytr, _, _ = split
    with pytest.raises(NotFittedError):
        LatePaymentClassifier().predict_proba(Xtr)
    with pytest.raises(ParameterError, match="'calibration' parameter"):
        LatePaymentClassifier(calibration="magic").fit(Xtr, ytr)


def test_monotone_constraints_follow_the_registry(split):
    Xtr, ytr, _, _ = split
    clf = LatePaymentClassifier(n_estimators=60, monotone=True).fit(Xtr, ytr)
    base = Xtr.loc[Xtr["share_late"].notna()].iloc[:500]  # missing values follow their own default branch
    more_late = base.assign(share_late=np.minimum(base["share_late"] + 0.3, 1.0))
    assert (clf.predict_proba(more_late)[:, 1] >= clf.predict_proba(base)[:, 1] - 1e-9).all()


def test_adherence_monotone_constraints_point_the_good_way(world):
    P = pr.features.plan_features(world, "created_date")
    y = pr.labels.plan_kept(world, mature_only=True)
    P = P.loc[y.index]
    clf = InstallmentAdherenceClassifier(n_estimators=60, monotone=True, calibration="none").fit(P, y)
    base = P.loc[P["share_late"].notna()]
    worse = base.assign(share_late=np.minimum(base["share_late"] + 0.3, 1.0))  # later payer: less likely kept
    assert (clf.predict_proba(worse)[:, 1] <= clf.predict_proba(base)[:, 1] + 1e-9).all()
    assert (clf.predict_proba(worse)[:, 1] < clf.predict_proba(base)[:, 1] - 1e-6).any()


def test_select_size_chooses_by_time_ordered_validation_never_the_calibration_rows(split, tmp_path):
    """The size is chosen on the early-stopping slice at two origins: the calibration rows (the latest) never
    change the choice, a small book takes the regularised trees its validation loss prefers, and the choice is
    saved with the model."""
    Xtr, ytr, Xte, _ = split
    small = Xtr.sort_values("as_of").iloc[:3000]
    y = ytr.loc[small.index].to_numpy()
    a = LatePaymentClassifier(select_size=True, n_estimators=200).fit(small, y)
    flipped = y.copy()
    flipped[-int(0.15 * len(y)) :] = 1 - flipped[-int(0.15 * len(y)) :]  # the calibration rows, turned over
    b = LatePaymentClassifier(select_size=True, n_estimators=200).fit(small, flipped)
    sel = a.size_selection_
    assert sel == b.size_selection_ and sel["origins"] == 2 and len(sel["candidates"]) == 4  # its own size is one
    losses = [c["validation_loss"] for c in sel["candidates"]]
    chosen = sel["candidates"][int(np.argmin(losses))]
    assert sel["chosen"] == {k: chosen[k] for k in ("max_depth", "min_child_weight", "reg_lambda")}
    fixed = LatePaymentClassifier(n_estimators=200).fit(small, y)
    if sel["chosen"]["max_depth"] != 4:  # the booster is the chosen size's, not the default one
        assert not np.allclose(a.predict_proba(Xte)[:, 1], fixed.predict_proba(Xte)[:, 1])
    back = LatePaymentClassifier.load(a.save(tmp_path / "m"))
    assert back.size_selection_ == sel
    np.testing.assert_allclose(back.predict_proba(Xte)[:, 1], a.predict_proba(Xte)[:, 1])
    with pytest.raises(ParameterError, match="valid_fraction > 0"):
        LatePaymentClassifier(select_size=True, valid_fraction=0.0).fit(small, y)
