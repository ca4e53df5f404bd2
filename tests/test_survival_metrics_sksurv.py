"""payrisk's survival metrics beside scikit-survival's, on times tied on whole days.

Harrell's C and the censoring Kaplan-Meier equal sksurv's. Uno's C and the integrated Brier score weight an event
by ``1 / G(T_i-)`` where sksurv takes ``1 / G(T_i)`` (see their docstrings): they equal sksurv's once every
censoring time (and every grid time of the Brier score) is moved half a day later, and differ without it.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from payrisk import evaluation as ev
from payrisk.errors import ParameterError

sm = pytest.importorskip("sksurv.metrics")
from sksurv.nonparametric import CensoringDistributionEstimator  # noqa: E402
from sksurv.util import Surv  # noqa: E402

EXACT = 1e-12
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _days(n: int = 3000, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Whole days 0..120, about 30% censored, predictions in whole days too (so they tie)."""
    rng = np.random.default_rng(seed)
    t = rng.integers(0, 121, n).astype(float)
    e = rng.random(n) > 0.3
    e[t == t.max()] = True  # sksurv's own G(T_i) is 0 on a last day with only censorings besides the events
    p = np.round(0.5 * t + rng.integers(0, 60, n))
    return t, e, p


def _moved(t: np.ndarray, e: np.ndarray, d: float = 0.5) -> np.ndarray:
    """The structured array of sksurv with each censoring moved ``d`` later."""
    return Surv.from_arrays(e, t + d * ~e)


def _curves(p: np.ndarray, grid: np.ndarray) -> np.ndarray:
    return np.clip(1 - grid[None, :] / (2 * p[:, None] + 1), 0, 1)


# -- a realistic sample: whole days, many ties ---------------------------------------------------------------
def test_harrell_equals_sksurv_on_tied_days():
    t, e, p = _days()
    assert len(np.unique(t)) == 121 and len(np.unique(p)) < 200
    ours = ev.concordance_index(t, e, p)
    assert ours == pytest.approx(sm.concordance_index_censored(e, t, -p)[0], abs=EXACT)
    # a censoring on an event's day is comparable: moving censorings later by less than a day changes nothing
    assert ours == pytest.approx(sm.concordance_index_censored(e, t + 0.5 * ~e, -p)[0], abs=EXACT)


def test_censoring_survival_equals_sksurv_censoring_distribution():
    t, e, _ = _days()
    times, g = ev.censoring_survival(t, e)
    km = CensoringDistributionEstimator().fit(Surv.from_arrays(e, t))
    np.testing.assert_allclose(g, km.predict_proba(times), rtol=0, atol=EXACT)


@pytest.mark.parametrize("tau", [None, 60.0])
def test_uno_equals_sksurv_with_censorings_half_a_day_later(tau):
    t, e, p = _days()
    ours = ev.concordance_index_ipcw(t, e, p, tau=tau)
    y = _moved(t, e)
    assert ours == pytest.approx(sm.concordance_index_ipcw(y, y, -p, tau=tau)[0], abs=EXACT)
    # as given, sksurv's 1 / G(T_i)**2 weights the events on days with censorings more
    y0 = Surv.from_arrays(e, t)
    theirs = sm.concordance_index_ipcw(y0, y0, -p, tau=tau)[0]
    assert 1e-6 < abs(ours - theirs) < 0.01


def test_integrated_brier_equals_sksurv_with_censorings_and_grid_half_a_day_later():
    t, e, p = _days()
    grid = np.arange(5.0, 115.0, 5.0)
    s = _curves(p, grid)
    ours = ev.integrated_brier_score(t, e, s, grid)
    y = _moved(t, e)
    assert ours == pytest.approx(sm.integrated_brier_score(y, y, s, grid + 0.5), abs=EXACT)
    # as given, sksurv's 1 / G(T_i) is at least 1 / G(T_i-): its score is higher, here by 0.1-1%
    y0 = Surv.from_arrays(e, t)
    theirs = sm.integrated_brier_score(y0, y0, s, grid)
    assert 1.001 < theirs / ours < 1.01


def test_without_censorings_on_event_days_payrisk_and_sksurv_agree_as_given():
    t, e, p = _days()
    t = t + 0.5 * ~e  # censored at noon: no censoring shares a time with an event
    y = Surv.from_arrays(e, t)
    grid = np.arange(5.0, 115.0, 5.0)
    s = _curves(p, grid)
    assert ev.concordance_index_ipcw(t, e, p) == pytest.approx(sm.concordance_index_ipcw(y, y, -p)[0], abs=EXACT)
    assert ev.integrated_brier_score(t, e, s, grid) == pytest.approx(
        sm.integrated_brier_score(y, y, s, grid), abs=EXACT
    )


def test_payment_time_model_outputs_against_sksurv():
    import payrisk as pr
    from payrisk import features, labels
    from payrisk.models import PaymentTimeModel

    ledger = pr.datasets.make_ledger(n_customers=60, seed=0)
    X = features.invoice_features(ledger, "issue_date")
    y = labels.days_to_pay(ledger, as_of="2024-06-30").to_frame()
    cut = len(y) * 2 // 3
    tr, te = y.index[:cut], y.index[cut:]
    model = PaymentTimeModel(n_estimators=60, distribution="normal").fit(
        X.loc[tr], y.loc[tr, "duration"], y.loc[tr, "event"]
    )
    d, e = y.loc[te, "duration"].to_numpy(float), y.loc[te, "event"].to_numpy(bool)
    assert (~e).any() and np.isin(d[~e], d[e]).any()  # censorings on event days: the case the conventions split
    grid = np.arange(1.0, np.quantile(d, 0.9))
    surv = model.predict_survival(X.loc[te], grid).to_numpy()
    median = model.predict_quantiles(X.loc[te], [0.5])[0.5].to_numpy()
    ym = _moved(d, e)
    assert ev.concordance_index(d, e, median) == pytest.approx(
        sm.concordance_index_censored(e, d, -median)[0], abs=EXACT
    )
    assert ev.concordance_index_ipcw(d, e, median) == pytest.approx(
        sm.concordance_index_ipcw(ym, ym, -median)[0], abs=EXACT
    )
    assert ev.integrated_brier_score(d, e, surv, grid) == pytest.approx(
        sm.integrated_brier_score(ym, ym, surv, grid + 0.5), abs=EXACT
    )


# -- properties on small samples -------------------------------------------------------------------------------
rows = st.lists(
    st.tuples(st.integers(0, 15), st.booleans(), st.integers(0, 5)),  # day, event, predicted day: ties everywhere
    min_size=2,
    max_size=50,
)


def _arrays(sample: list[tuple[int, bool, int]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    t, e, p = (np.array(c) for c in zip(*sample, strict=True))
    return t.astype(float), e.astype(bool), p.astype(float)


@pytest.mark.filterwarnings("ignore:invalid value encountered in scalar divide:RuntimeWarning")  # sksurv's 0 / 0
@SETTINGS
@given(rows)
def test_property_harrell_equals_sksurv(sample):
    t, e, p = _arrays(sample)
    try:
        theirs = sm.concordance_index_censored(e, t, -p)[0]
    except (sm.NoComparablePairException, ValueError):  # ValueError: sksurv refuses a sample without events
        theirs = np.nan
    if np.isnan(theirs):  # sksurv's 0 / 0 where every event ties in time with every later row, all events too
        with pytest.raises(ParameterError, match="no comparable pairs"):
            ev.concordance_index(t, e, p)
        return
    assert ev.concordance_index(t, e, p) == pytest.approx(theirs, abs=EXACT)
    assert ev.concordance_index(t, e, -p) == pytest.approx(1 - theirs, abs=EXACT)


@SETTINGS
@given(rows)
def test_property_censoring_survival_equals_sksurv(sample):
    t, e, _ = _arrays(sample)
    assume(e.any())  # sksurv refuses a sample without events
    times, g = ev.censoring_survival(t, e)
    km = CensoringDistributionEstimator().fit(Surv.from_arrays(e, t))
    np.testing.assert_allclose(g, km.predict_proba(times), rtol=0, atol=EXACT)


@SETTINGS
@given(rows, st.none() | st.integers(1, 15))
def test_property_uno_equals_sksurv_with_censorings_half_a_day_later(sample, tau):
    t, e, p = _arrays(sample)
    assume(e.any())
    try:
        ours = ev.concordance_index_ipcw(t, e, p, tau=tau)
    except ParameterError:  # no comparable pair with an event before tau
        return
    y = _moved(t, e)
    assert ours == pytest.approx(sm.concordance_index_ipcw(y, y, -p, tau=tau)[0], abs=EXACT)


@SETTINGS
@given(rows, st.integers(0, 2**32 - 1), st.integers(2, 6))
def test_property_integrated_brier_equals_sksurv_moved_and_is_at_most_sksurv_as_given(sample, seed, n_grid):
    t, e, _ = _arrays(sample)
    assume(e.any() and t.max() - t.min() >= n_grid)
    rng = np.random.default_rng(seed)
    grid = np.sort(rng.choice(np.arange(t.min(), t.max()), n_grid, replace=False))
    s = np.sort(rng.random((len(t), n_grid)), axis=1)[:, ::-1]  # decreasing curves
    ours = ev.integrated_brier_score(t, e, s, grid)
    y = _moved(t, e)
    assert ours == pytest.approx(sm.integrated_brier_score(y, y, s, grid + 0.5), abs=EXACT)
    y0 = Surv.from_arrays(e, t)
    try:
        theirs = sm.integrated_brier_score(y0, y0, s, grid)
    except ValueError:  # sksurv's G(T_i) is 0 for an event on a last day with only censorings besides
        return
    assert ours <= theirs + EXACT  # 1 / G(T_i-) <= 1 / G(T_i): each event weighs at most as much as in sksurv
