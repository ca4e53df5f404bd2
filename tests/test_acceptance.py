"""Customer acceptance: cutoffs by hand, point in time, and the models against the synthetic world's truth."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr

import payrisk as pr
from payrisk import evaluation as ev
from payrisk.acceptance import AcceptanceModel, acceptance_cutoffs, accepted_on
from payrisk.errors import NotFittedError, ParameterError


def _small() -> pr.Ledger:
    invoices = pd.DataFrame(
        {
            "invoice_id": [f"I{i}" for i in range(8)],
            "customer_id": ["old", "old", "new", "new", "new", "new", "late", "late"],
            "issue_date": ["2024-01-02", "2024-02-01", "2024-05-01", "2024-05-20", "2024-06-03", "2024-07-01",
                           "2024-06-10", "2024-06-11"],
            "due_date": "2024-08-30", "amount": 100.0,
        }
    )  # fmt: skip
    customers = pd.DataFrame(
        {"customer_id": ["old", "new", "late"], "created_date": [None, "2024-04-28", "2024-06-09"]}
    )
    return pr.Ledger.from_frames(customers=customers, invoices=invoices)


def test_cutoffs_by_hand():
    ledger = _small()
    start = accepted_on(ledger)
    # "old" starts with the data (its history may go back further): not read as newly accepted
    assert start.to_dict() == {"late": pd.Timestamp("2024-06-09"), "new": pd.Timestamp("2024-04-28")}
    cut = acceptance_cutoffs(ledger, "2024-06-30", stages=(0, 2, 3, 4))
    got = {(r.customer_id, r.stage): r.as_of.date().isoformat() for r in cut.itertuples()}
    # acceptance: the end of the day before (nothing invoiced yet); a stage: the day of the k-th invoice
    assert got == {("new", 0): "2024-04-27", ("late", 0): "2024-06-08", ("new", 2): "2024-05-20",
                   ("late", 2): "2024-06-11", ("new", 3): "2024-06-03"}  # fmt: skip  # the 4th is after June
    monthly = acceptance_cutoffs(ledger, "2024-06-30", every_days=30)
    assert sorted(monthly.loc[monthly["customer_id"] == "new", "as_of"].dt.date.astype(str)) == [
        "2024-04-27", "2024-05-27", "2024-06-26"
    ]  # fmt: skip
    with pytest.raises(ParameterError, match="every_days"):
        acceptance_cutoffs(ledger, "2024-06-30", every_days=0)


@pytest.fixture(scope="module")
def fitted() -> tuple[pr.Ledger, AcceptanceModel]:
    ledger = pr.datasets.make_ledger(n_customers=5000, seed=21)
    return ledger, AcceptanceModel(n_estimators=80).fit(ledger, "2023-12-31")


def test_new_customers_are_scored_from_what_was_known_at_acceptance(fitted):
    ledger, model = fitted
    cut = acceptance_cutoffs(ledger, "2023-12-31", stages=(0,))
    cut = cut.loc[cut["as_of"] > pd.Timestamp("2023-01-01")].reset_index(drop=True)
    p = model.predict(ledger, cut)
    assert (p["history_weight"] == 0).all() and (p["n_invoices"] == 0).all()  # at acceptance: no history yet
    # the attribute model recovers the world's own P(archetype | profile): it ranks the customers as the truth's
    # expected problem rate does (chronic and struggling payers have problems, reliable ones rarely)
    post = ledger.truth.archetype_given_profile().reindex(p["customer_id"])
    risky = (post["struggling"] + post["chronic"]).to_numpy()
    assert spearmanr(p["p_attributes"], risky).statistic > 0.6
    y = pr.labels.customer_problem(ledger, cut, as_of="2024-12-31", horizon_days=365, overdue_days=60)
    ok = (y["known"] & ~y["already"]).to_numpy()
    assert ev.auc(y["problem"][ok], p["p_attributes"][ok]) > 0.65
    assert abs(p["p_problem_12m"][ok].mean() - y["problem"][ok].mean()) < 0.06  # calibrated in the large


def test_a_rating_published_after_the_cutoff_changes_nothing(fitted):
    ledger, model = fitted
    cut = acceptance_cutoffs(ledger, "2023-06-30", stages=(0, 3)).iloc[:200].reset_index(drop=True)
    before = model.predict(ledger, cut)
    ratings = ledger.ratings.copy()
    later = ratings["valid_from"] > pd.Timestamp("2023-06-30")
    ratings.loc[later, "score"] = 1.0  # the later ones: the worst score, a day later still
    ratings.loc[later, "valid_from"] += pd.Timedelta(days=1)
    changed = pr.Ledger(dict(ledger.tables, ratings=ratings), truth=None)
    after = model.predict(changed, cut)
    pd.testing.assert_frame_equal(before, after)


def test_the_blend_moves_from_attributes_to_history(fitted):
    ledger, model = fitted
    cut = acceptance_cutoffs(ledger, "2023-12-31", stages=(0, 12))
    p = model.predict(ledger, cut)
    w = p.groupby(cut["stage"].to_numpy())["history_weight"].mean()
    assert w[12] > w[0] + 0.1
    assert model.credibility_k_ > 0 and set(model.blend_coef_) == {
        "intercept", "attributes", "history", "attributes_z", "history_z", "z"
    }  # fmt: skip


def test_unseen_categories_get_the_portfolio_rate(fitted):
    _, model = fitted
    rates = model.category_rates_["legal_form"]
    X = pd.DataFrame({c: ["never seen"] for c in pr.features.PROFILE_CATEGORIES})
    enc = AcceptanceModel._encode(X, model.category_rates_)
    assert enc["legal_form_risk"].iloc[0] == rates["__other__"]
    assert min(rates.values()) < rates["__other__"] < max(rates.values())


def test_refusals():
    with pytest.raises(NotFittedError):
        AcceptanceModel().predict(_small(), pd.DataFrame({"customer_id": ["new"], "as_of": ["2024-06-01"]}))
    with pytest.raises(ParameterError, match="at least 200 rows"):
        AcceptanceModel().fit(_small(), "2024-06-30")
    with pytest.raises(ParameterError, match="every_days"):
        AcceptanceModel(every_days=0).fit(_small(), "2024-06-30")
    np.testing.assert_array_equal(AcceptanceModel().get_params()["horizon_days"], 365)


def test_reasons_follow_the_blend_and_the_register(fitted):
    ledger, model = fitted
    cut = acceptance_cutoffs(ledger, "2023-12-31", stages=(0, 12))
    cut = cut.groupby("stage").head(300).reset_index(drop=True)
    r = model.reasons(ledger, cut, n=3)
    profile = set(pr.features.feature_names("profile"))
    at0 = r.loc[cut["stage"] == 0, "feature_1"]
    at12 = r.loc[cut["stage"] == 12, "feature_1"]
    # a prospect's first reason is its profile; a customer of 12 invoices is read more by its behaviour
    share0, share12 = at0.isin(profile).mean(), at12.isin(profile).mean()
    assert share0 > 0.7 and share12 < share0 - 0.2, (share0, share12)
    assert (r["contribution_1"].dropna() >= r["contribution_2"].dropna().reindex(r["contribution_1"].dropna().index)
            .fillna(-np.inf)).all()  # fmt: skip
    said = model.reasons(ledger, cut, n=3, register="customer")
    used = set(said[["feature_1", "feature_2", "feature_3"]].to_numpy().ravel()) - {""}
    assert used and not {f for f in used if f.endswith("_risk")}  # never the rate of a group it belongs to


def test_save_and_load_give_the_same_scores_and_refuse_an_edited_folder(fitted, tmp_path):
    from payrisk.errors import ModelFileError

    ledger, model = fitted
    cut = acceptance_cutoffs(ledger, "2023-12-31", stages=(0, 6)).iloc[:300]
    back = AcceptanceModel.load(model.save(tmp_path / "acceptance"))
    pd.testing.assert_frame_equal(back.predict(ledger, cut), model.predict(ledger, cut))
    assert back.get_params() == model.get_params() and back.as_of_ == model.as_of_
    doc = tmp_path / "acceptance" / "acceptance.json"
    doc.write_text(doc.read_text().replace('"credibility_k"', '"credibility_k" ', 1))
    with pytest.raises(ModelFileError, match=r"acceptance\.json: changed"):
        AcceptanceModel.load(tmp_path / "acceptance")
    with pytest.raises(ModelFileError, match=r"no acceptance\.json"):
        AcceptanceModel.load(tmp_path)


def test_the_limit_review_finds_the_customers_who_deteriorated_since_their_review(fitted):
    from payrisk.limits import limit_review

    ledger, model = fitted
    day = pd.Timestamp("2024-06-30")
    review = limit_review(ledger, day, model, appetite=500.0)
    truth = ledger.truth.customers.set_index("customer_id")["deteriorated_on"].reindex(review.index)
    turned = ((truth > review["reviewed_on"]) & (truth <= day)).to_numpy()
    flagged = review["to_review"].to_numpy()
    assert turned.sum() >= 50  # the world turns enough customers struggling in the window to measure
    # those who turned struggling since their review are flagged far more often than the rest
    assert flagged[turned].mean() > 2.5 * flagged[~turned].mean(), (flagged[turned].mean(), flagged[~turned].mean())
    assert (review.loc[review["fell_sharply"], "change"] <= -0.3).all()
    assert (
        review["fell_sharply"][review["to_review"]].all()
        and review["reason"][review["to_review"]].str.len().gt(0).all()
    )
    assert (review["reviewed_on"] < day).all() and (review["reviewed_on"] >= day - pd.Timedelta(days=365)).all()
    # each day scored with what was known on it: the future changes nothing
    cut = limit_review(ledger.as_of(day), day, model, appetite=500.0)
    pd.testing.assert_frame_equal(cut, review)
    fixed = limit_review(ledger, day, model, appetite=500.0, since="2024-03-31")
    assert (fixed["reviewed_on"] == pd.Timestamp("2024-03-31")).all()
    with pytest.raises(ParameterError, match="since"):
        limit_review(ledger, day, model, since="2024-07-01")
    with pytest.raises(ParameterError, match="fall must lie"):
        limit_review(ledger, day, model, fall=1.5)
    with pytest.raises(ParameterError, match="not one per segment"):
        limit_review(ledger, day, model, appetite={"reliable": 100.0})
