"""PaymentTimeModel learns from censored invoices; intervals cover; the adherence classifier ranks plans."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest

import payrisk as pr
from payrisk import evaluation as ev
from payrisk.errors import ModelFileError, ParameterError
from payrisk.models import InstallmentAdherenceClassifier, PaymentTimeModel


def _training(world: pr.Ledger) -> tuple[pd.DataFrame, pr.labels.SurvivalTarget]:
    X = pr.features.invoice_features(world, "issue_date")
    target = pr.labels.days_to_pay(world, as_of="2024-03-31")  # open invoices censored at that day
    Xtr = X.loc[target.index]
    keep = (Xtr["as_of"] < "2023-12-31").to_numpy()
    return Xtr.loc[keep], pr.labels.SurvivalTarget(target.duration[keep], target.event[keep], target.index[keep])


@pytest.fixture(scope="module")
def fitted(world: pr.Ledger):
    X = pr.features.invoice_features(world, "issue_date")
    model = PaymentTimeModel(n_estimators=300).fit(*_training(world))
    full = pr.labels.days_to_pay(world).to_frame()
    test = X.loc[(X["as_of"] >= "2024-04-01") & (X["as_of"] < "2024-06-01")]
    return model, test, full.loc[test.index]


def test_quantiles_are_ordered_and_intervals_cover(fitted):
    model, Xte, y = fitted
    q = model.predict_quantiles(Xte, [0.1, 0.5, 0.9])
    assert (q[0.1] <= q[0.5]).all() and (q[0.5] <= q[0.9]).all()
    # invoices issued April-May 2024: by the end of the year almost all are settled; an open one lies above
    # any interval that ends before its censoring time
    d, e = y["duration"].to_numpy(), y["event"].to_numpy()
    assert 0.75 <= ev.interval_coverage(d, q[0.1], q[0.9], event=e) <= 0.85
    assert model.distribution_ in ("normal", "logistic", "extreme") and 0.05 < model.sigma_ < 5


def test_interval_calibration_only_rescales_the_likelihood_fit(fitted, world):
    model, Xte, _ = fitted
    params = {**model.get_params(), "interval_calibration": False}
    raw = PaymentTimeModel(**params).fit(*_training(world))
    assert raw.interval_scale_ == 1.0 and 0.5 <= model.interval_scale_ <= 2.0
    assert np.isclose(model.sigma_, raw.sigma_ * model.interval_scale_)
    np.testing.assert_allclose(model.predict_location(Xte), raw.predict_location(Xte))  # same trees, same medians


def test_survival_curves_are_proper_and_conditional(fitted):
    model, Xte, _ = fitted
    s = model.predict_survival(Xte.iloc[:100], np.arange(0, 200, 10))
    assert ((s.to_numpy() >= 0) & (s.to_numpy() <= 1)).all()
    assert (np.diff(s.to_numpy(), axis=1) <= 1e-12).all()
    cond = model.predict_survival(Xte.iloc[:100], [30, 60], elapsed=30)
    assert np.allclose(cond[30], 1.0)
    assert (cond[60].to_numpy() >= s[60].to_numpy() - 1e-12).all()  # surviving 30 days makes 60 more likely
    q = model.predict_quantiles(Xte.iloc[:100], [0.5], elapsed=40)
    assert (q[0.5] >= 40 - 1e-9).all()


def test_ranking_beats_a_constant_and_uses_censoring(fitted):
    model, Xte, y = fitted
    pred = model.predict_quantiles(Xte, [0.5])[0.5]
    c = ev.concordance_index(y["duration"], y["event"], pred)
    assert c > 0.7


def test_pay_date_and_persistence(fitted, tmp_path):
    model, Xte, _ = fitted
    issue = Xte["as_of"] + pd.Timedelta(days=1)
    dates = model.predict_pay_date(Xte.iloc[:5], issue.iloc[:5])
    assert (dates >= issue.iloc[:5]).all()
    back = PaymentTimeModel.load(model.save(tmp_path / "pt"))
    pd.testing.assert_frame_equal(back.predict_quantiles(Xte.iloc[:50]), model.predict_quantiles(Xte.iloc[:50]))
    with pytest.raises(ModelFileError, match="this is a PaymentTimeModel, not a LatePaymentClassifier"):
        pr.models.LatePaymentClassifier.load(tmp_path / "pt")  # wrong kind is refused by the other class


def test_bad_inputs(fitted):
    model, Xte, _ = fitted
    with pytest.raises(ParameterError, match="strictly between 0 and 1"):
        model.predict_quantiles(Xte.iloc[:2], [1.0])
    with pytest.raises(ParameterError, match="'distribution' parameter"):
        PaymentTimeModel(distribution="weibull").fit(Xte, np.ones(len(Xte)), np.ones(len(Xte), bool))


def test_adherence_classifier_ranks_plans_by_true_adherence(world: pr.Ledger):
    P = pr.features.plan_features(world, "created_date")
    y = pr.labels.plan_kept(world)
    X = P.loc[y.index]
    clf = InstallmentAdherenceClassifier(n_estimators=150).fit(X, y)
    p = clf.predict_proba(X)[:, 1]
    truth = world.truth.plans.set_index("plan_id")["p_kept"].reindex(X.index)
    assert pd.Series(p, index=X.index).corr(truth, method="spearman") > 0.3


def test_survival_curves_beat_the_population_curve(fitted):
    """Integrated Brier score (censoring-weighted) of the model against the same curve for every invoice."""
    model, Xte, y = fitted
    grid = np.arange(10, 121, 10)
    s = model.predict_survival(Xte, grid).to_numpy()
    d, e = y["duration"].to_numpy(), y["event"].to_numpy()
    pop = np.array([(d > g).mean() for g in grid])  # nearly all of these invoices are resolved
    flat = np.tile(pop, (len(d), 1))
    assert ev.integrated_brier_score(d, e, s, grid) < 0.9 * ev.integrated_brier_score(d, e, flat, grid)
    assert ev.concordance_index_ipcw(d, e, model.predict_quantiles(Xte, [0.5])[0.5]) > 0.7


def test_the_scale_follows_the_location_so_each_part_of_the_book_is_covered():
    """Where the spread of log days grows with the expected wait (0.3 below, 1.0 above), one scale would cover
    the short waits nearly always and the long ones rarely; the location bins' scales recover both, and each
    half's 80% interval covers about 80% of fresh rows."""
    rng = np.random.default_rng(3)

    def draw(n: int) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
        x = rng.random(n)
        sigma = np.where(x < 0.5, 0.3, 1.0)
        days = np.round(np.expm1(4.0 + 2.0 * x + sigma * rng.standard_normal(n)))  # 55 to 400 days typically
        return pd.DataFrame({"x": x}), days, x < 0.5

    X, days, _ = draw(12000)
    m = PaymentTimeModel(n_estimators=200, distribution="normal").fit(X, days)
    assert len(m.scale_factors_) == 5 and m.scale_factors_[-1] > 2 * m.scale_factors_[0]
    Xt, dt, short = draw(4000)

    def covered(model: PaymentTimeModel) -> list[float]:
        q = model.predict_quantiles(Xt, [0.1, 0.9])
        inside = ((dt >= np.ceil(q[0.1])) & (dt <= np.ceil(q[0.9]))).to_numpy()  # in whole days, as the worklist
        return [inside[short].mean(), inside[~short].mean()]

    assert all(abs(c - 0.8) < 0.07 for c in covered(m)), covered(m)
    one = copy.deepcopy(m)
    one.scale_edges_, one.scale_factors_ = np.zeros(0), np.ones(1)  # one scale for every row, as before
    short_cover, long_cover = covered(one)
    assert short_cover > 0.95 and long_cover < 0.7
