"""Customers before their first invoice: attributes, dated ratings and credit limits (schema, point in time,
persistence) and the synthetic world's profiles against their truth."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import payrisk as pr
from payrisk._manifest import digests
from payrisk.datasets._profile import RATING_CLASSES


def _frames() -> dict[str, pd.DataFrame]:
    customers = pd.DataFrame(
        {
            "customer_id": ["c1", "c2", "c3"],
            "legal_form": ["limited", "sole_trader", "plc"],
            "founded_date": ["2001-05-01", "1850-01-01", "2015-02-01"],  # c2's is before 1900: flagged, kept
            "requested_limit": ["5000", "-10", "20000"],  # c2's negative: flagged, left empty, kept
        }
    )
    invoices = pd.DataFrame(
        {
            "invoice_id": ["I1", "I2", "I3"], "customer_id": ["c1", "c2", "c3"],
            "issue_date": ["2024-01-01", "2024-01-10", "2024-02-01"],
            "due_date": ["2024-01-31", "2024-02-09", "2024-03-02"], "amount": [100.0, 200.0, 300.0],
        }
    )  # fmt: skip
    ratings = pd.DataFrame(
        {
            "customer_id": ["c1", "c1", "c2", "c9", "c3", "c3"],
            "valid_from": ["2023-12-01", "2024-03-01", "2024-01-05", "2024-01-01", "2024-01-01", "2024-02-01"],
            "source": ["Graydon", "Graydon", None, "Graydon", "Graydon", "Graydon"],
            "score": ["71,5", "55", "40", "80", None, "62"],
            "rating": ["B", "C", None, "A", None, "C"],
        }
    )
    limits = pd.DataFrame(
        {
            "customer_id": ["c1", "c1", "c2", "c3"],
            "valid_from": ["2024-01-01", "2024-03-15", "2024-01-01", "2024-01-01"],
            "credit_limit": ["5.000,00", "2.500,00", "-1,00", "10.000,00"],
        }
    )
    return {"customers": customers, "invoices": invoices, "ratings": ratings, "credit_limits": limits}


def test_dated_tables_are_validated_and_nothing_is_lost():
    ledger = pr.Ledger.from_frames(**_frames(), mapping={"decimal": ",", "thousands": "."})
    rep = ledger.report
    issues = rep.issues.set_index(["table", "row"])
    # a customer's odd attribute is flagged and left empty: the customer and its invoices stay
    assert set(ledger.customers["customer_id"]) == {"c1", "c2", "c3"}
    assert len(ledger.invoices) == 3
    assert issues.loc[("customers", 1)].set_index("column").loc["founded_date", "action"] == "flagged"
    c2 = ledger.customers.set_index("customer_id").loc["c2"]
    assert pd.isna(c2["founded_date"]) and pd.isna(c2["requested_limit"])
    # ratings: the unknown customer and the row without a score or rating are rejected, the rest read
    assert issues.loc[("ratings", 3), "rule"] == "unknown_customer"
    assert issues.loc[("ratings", 4), "rule"] == "missing_value"
    assert len(ledger.ratings) + len(rep.rejected_rows("ratings")) == 6
    r = ledger.ratings.set_index(["customer_id", "valid_from"])["score"]
    assert r.loc[("c1", pd.Timestamp("2023-12-01"))] == pytest.approx(71.5)  # the decimal comma
    assert ledger.ratings.set_index("customer_id").loc["c2", "source"] == "external"  # no source: said so
    # limits: a negative limit is rejected, the amounts read with the file's separators
    assert issues.loc[("credit_limits", 2), "rule"] == "negative_amount"
    assert sorted(ledger.credit_limits["credit_limit"]) == [2500.0, 5000.0, 10000.0]
    assert set(rep.counts.index) >= {"ratings", "credit_limits"}


def test_a_rating_published_later_does_not_exist_yet():
    ledger = pr.Ledger.from_frames(**_frames(), mapping={"decimal": ",", "thousands": "."})
    snap = ledger.as_of("2024-02-15")
    assert set(zip(snap.ratings["customer_id"], snap.ratings["score"], strict=True)) == {
        ("c1", 71.5), ("c2", 40.0), ("c3", 62.0)
    }  # fmt: skip
    assert snap.credit_limits.set_index("customer_id").loc["c1", "credit_limit"] == 5000.0
    assert ledger.as_of("2024-03-15").credit_limits.groupby("customer_id").size()["c1"] == 2


def test_round_trip_and_folders_written_before_the_dated_tables(tmp_path):
    ledger = pr.Ledger.from_frames(**_frames(), mapping={"decimal": ",", "thousands": "."})
    back = pr.Ledger.read(ledger.write(tmp_path / "l"))
    assert back == ledger
    pd.testing.assert_frame_equal(back.ratings, ledger.ratings)
    # a folder of an earlier payrisk has no ratings or limits: they read as empty tables
    old = ledger.write(tmp_path / "old")
    for name in ("ratings", "credit_limits"):
        (old / f"{name}.parquet").unlink()
    doc = json.loads((old / "ledger.json").read_text())
    for name in ("ratings", "credit_limits"):
        doc["tables"].pop(name)
    doc["sha256"] = digests(old, ("ledger.json",))
    (old / "ledger.json").write_text(json.dumps(doc))
    earlier = pr.Ledger.read(old)
    assert earlier.ratings.empty and earlier.credit_limits.empty
    assert list(earlier.ratings.columns) == pr.schema.TABLES["ratings"].column_names
    assert len(earlier.invoices) == len(ledger.invoices)


def test_ratings_and_limits_are_read_from_a_data_folder(tmp_path):
    from payrisk._cli_io import load_ledger

    for name, frame in _frames().items():
        frame.to_csv(tmp_path / f"{name}.csv", sep=";", index=False)
    ledger = load_ledger(tmp_path)  # the decimal commas are read off the values
    assert len(ledger.ratings) == 4 and len(ledger.credit_limits) == 3
    assert sorted(ledger.ratings["score"]) == [40.0, 55.0, 62.0, 71.5]
    assert ledger.report.n_rejected == 3  # c9's rating, the empty one and the negative limit


# -- the synthetic world's profiles ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def profiled() -> pr.Ledger:
    return pr.datasets.make_ledger(n_customers=4000, seed=11)


def test_the_posterior_is_calibrated_and_informative(profiled):
    truth = profiled.truth
    post = truth.archetype_given_profile()
    arche = truth.customers.set_index("customer_id")["archetype"].reindex(post.index)
    onehot = pd.get_dummies(arche).reindex(columns=post.columns, fill_value=False).to_numpy(dtype=float)
    prob = post.to_numpy()
    # calibrated: in every decile of P(archetype), the share that is that archetype matches the mean P
    p, y = prob.ravel(), onehot.ravel()
    bins = np.quantile(p, np.linspace(0, 1, 11))
    which = np.clip(np.searchsorted(bins, p, side="right") - 1, 0, 9)
    gap = [abs(p[which == b].mean() - y[which == b].mean()) for b in range(10)]
    assert max(gap) < 0.04, gap
    # informative: it beats the prior shares by a wide margin on the log loss
    prior = np.array([profiled.truth.params.archetype_shares[a] for a in post.columns])
    assert -np.mean(np.log(np.sum(prob * onehot, axis=1))) < -np.mean(np.log(onehot @ prior)) - 0.2


def test_customers_carry_attributes_that_follow_their_archetype(profiled):
    c = profiled.customers.set_index("customer_id")
    arche = profiled.truth.customers.set_index("customer_id")["archetype"].reindex(c.index)
    age = (c["created_date"] - c["founded_date"]).dt.days / 365.25
    assert age.groupby(arche).median()["reliable"] > 2 * age.groupby(arche).median()["chronic"]
    small = (c["size_band"] == "1-9").groupby(arche).mean()
    assert small["chronic"] > small["reliable"] + 0.15
    assert c["requested_limit"].gt(0).all() and (c["founded_date"] < c["created_date"]).all()


def test_ratings_come_before_acceptance_stop_when_lost_and_fall_when_a_customer_deteriorates(profiled):
    r = profiled.ratings
    t = profiled.truth.customers.set_index("customer_id")
    created = profiled.customers.set_index("customer_id")["created_date"]
    first = r.groupby("customer_id")["valid_from"].min()
    assert (first <= created.reindex(first.index)).all()  # the prospect check comes first
    assert r["valid_from"].le(t["lost_on"].reindex(r["customer_id"]).fillna(pd.Timestamp.max).to_numpy()).all()
    assert set(r["rating"]) <= set(RATING_CLASSES)
    assert abs(r["customer_id"].nunique() / len(t) - profiled.truth.params.profile.rated_share) < 0.03
    # deteriorating customers: the bureau's score falls towards the struggling level after it sees the change
    q = profiled.truth.params.profile
    det = t.loc[t["deteriorates"], "deteriorated_on"]
    rows = r.loc[r["customer_id"].isin(det.index)]
    seen = det.reindex(rows["customer_id"]).to_numpy() + pd.Timedelta(days=q.score_lag_days)
    before = rows.loc[rows["valid_from"].to_numpy() < seen].groupby("customer_id")["score"].mean()
    after_day = seen + pd.Timedelta(days=q.score_move_days)
    after = rows.loc[rows["valid_from"].to_numpy() >= after_day].groupby("customer_id")["score"].mean()
    both = before.index.intersection(after.index)
    assert len(both) > 30
    drop = (before[both] - after[both]).mean()
    expected = np.mean([q.score_mean[a] for a in t.loc[both, "archetype"]]) - q.score_mean["struggling"]
    assert abs(drop - expected) < 3.0, (drop, expected)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 50))
def test_property_a_profile_never_changes_the_rest_of_the_world(seed):
    """The profile is drawn from a stream of its own: switching the bureau off changes nothing else."""
    p = pr.datasets.WorldParams()
    off = p.model_copy(update={"profile": p.profile.model_copy(update={"rated_share": 0.0})})
    a = pr.datasets.make_ledger(n_customers=15, seed=seed, start="2023-01-01", end="2023-12-31")
    b = pr.datasets.make_ledger(n_customers=15, seed=seed, start="2023-01-01", end="2023-12-31", params=off)
    assert b.ratings.empty and not a.ratings.empty
    for name in ("invoices", "payments", "contacts", "plans", "installments", "credit_notes"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name))


def test_cutoffs_in_any_date_resolution_are_read_alike():
    ledger = pr.Ledger.from_frames(**_frames(), mapping={"decimal": ",", "thousands": "."})
    ns = pd.DataFrame({"customer_id": ["c1", "c3"], "as_of": pd.to_datetime(["2024-02-15", "2024-02-15"])})
    us = ns.assign(as_of=ns["as_of"].astype("datetime64[us]"))
    text = ns.assign(as_of=["2024-02-15", "2024-02-15"])
    a = pr.features.customer_profile(ledger, ns)
    for other in (us, text):
        pd.testing.assert_frame_equal(pr.features.customer_profile(ledger, other), a)
    assert a["score"].tolist() == [71.5, 62.0]
