"""The synthetic world's customers before their first invoice: attributes drawn given the archetype, a credit
bureau's dated scores that move when a customer deteriorates, the limits a score rule granted, and the exact
P(archetype | what was known at acceptance) (the oracle of an acceptance model)."""

from __future__ import annotations

import numpy as np

from payrisk.datasets._params import ARCHETYPES, WorldParams

_YEAR = 365.25
_OLDEST_YEARS = 100.0  #: ages are capped here (1 in 1,000 or so): a ledger's dates start in 1900
#: rating classes, best first (one more than the score cuts)
RATING_CLASSES: tuple[str, ...] = ("A", "B", "C", "D", "E")


def draw_profile(
    p: WorldParams, c: dict[str, np.ndarray], lost: np.ndarray, end: int, rng: np.random.Generator
) -> dict[str, dict[str, np.ndarray]]:
    """Attributes, ratings, granted limits and the acceptance posterior of the customers ``c`` (the generator's
    customer arrays: ``archetype`` codes, ``created`` day, ``deteriorated_on``, ``rate``, ``amount_scale``,
    ``terms``), rated until they are lost or the world ends.

    Returns ``{"customers": ..., "ratings": ..., "limits": ...}``: per customer ``legal_form``, ``size_band``,
    ``channel`` (codes into the params' vocabularies), ``founded`` (day number), ``need`` and ``requested_limit``,
    ``first_score`` (NaN where not rated by acceptance) and ``posterior`` (n x 4, P(archetype | the attributes and
    the first score)); per rating ``cust``, ``day``, ``score``, ``rating`` (code into :data:`RATING_CLASSES`);
    per limit ``cust``, ``day``, ``limit``.
    """
    q = p.profile
    arche = c["archetype"]
    n = len(arche)

    def by_archetype(vocab: tuple[str, ...], shares: dict[str, tuple[float, ...]]) -> tuple[np.ndarray, np.ndarray]:
        table = np.array([shares[a] for a in ARCHETYPES])  # archetype x value
        cum = np.cumsum(table[arche], axis=1)
        code = np.minimum((rng.random(n)[:, None] > cum).sum(axis=1), len(vocab) - 1)
        return code, table

    legal, t_legal = by_archetype(q.legal_forms, q.legal_form_shares)
    size, t_size = by_archetype(q.size_bands, q.size_band_shares)
    channel, t_channel = by_archetype(q.channels, q.channel_shares)
    log_median = np.log([q.age_median_years[a] for a in ARCHETYPES])
    log_age = np.minimum(log_median[arche] + q.age_sigma * rng.standard_normal(n), np.log(_OLDEST_YEARS))
    founded = c["created"] - np.round(np.exp(log_age) * _YEAR).astype(np.int64)
    need = c["rate"] * c["amount_scale"] * (c["terms"].astype(np.float64) + 15.0) / 30.44
    requested = np.maximum(np.round(need * np.exp(q.limit_sigma * rng.standard_normal(n)), -2), 100.0)

    # the bureau: a first check before acceptance, then a refresh every quarter or so while the customer buys
    rated = rng.random(n) < q.rated_share
    offset = q.score_sd_customer * rng.standard_normal(n)
    first = c["created"] - rng.integers(0, q.prospect_check_days + 1, n)
    span = int(end - first.min()) if n else 0
    k = np.arange(span // q.refresh_days + 2)
    jitter = rng.integers(-q.refresh_jitter_days, q.refresh_jitter_days + 1, (n, len(k)))
    day = first[:, None] + k[None, :] * q.refresh_days + np.where(k[None, :] > 0, jitter, 0)
    stop = np.minimum(np.asarray(lost, dtype=np.int64), end)
    keep = rated[:, None] & (day <= stop[:, None])
    cust = np.broadcast_to(np.arange(n)[:, None], day.shape)[keep]
    day = day[keep]
    mean = np.array([q.score_mean[a] for a in ARCHETYPES])
    seen = np.asarray(c["deteriorated_on"], dtype=np.int64)[cust] + q.score_lag_days  # the bureau sees it later
    moved = np.clip((day - seen) / q.score_move_days, 0.0, 1.0)
    level = mean[arche[cust]] + moved * (mean[ARCHETYPES.index("struggling")] - mean[arche[cust]])
    score = np.clip(level + offset[cust] + q.score_sd_refresh * rng.standard_normal(len(cust)), 0.0, 100.0)
    score = np.round(score, 1)
    rating = (score[:, None] < np.asarray(q.rating_bands)[None, :]).sum(axis=1)

    first_score = _first_scores(keep, score)  # the prospect check's (k = 0), before acceptance
    posterior = _posterior(p, legal, size, channel, log_age, first_score, (t_legal, t_size, t_channel))

    # the limit granted at acceptance by a score rule (a flat half of the request where there is no score)
    share = np.where(np.isnan(first_score), 0.5, np.clip((first_score - 30.0) / 50.0, 0.2, 1.0))
    limit = np.maximum(np.round(requested * share, -2), 100.0)
    return {
        "customers": {
            "legal_form": legal, "size_band": size, "channel": channel, "founded": founded, "need": need,
            "requested_limit": requested, "first_score": first_score, "posterior": posterior,
        },
        "ratings": {"cust": cust, "day": day, "score": score, "rating": rating},
        "limits": {"cust": np.arange(n), "day": c["created"].astype(np.int64), "limit": limit},
    }  # fmt: skip


def _first_scores(keep: np.ndarray, score: np.ndarray) -> np.ndarray:
    """Per customer the score of its first publication (its row k = 0), NaN where it has none."""
    counts = keep.sum(axis=1)
    start = np.concatenate([[0], np.cumsum(counts)[:-1]])
    out = np.full(len(keep), np.nan)
    has = keep[:, 0]
    out[has] = score[start[has]]
    return out


def _posterior(
    p: WorldParams,
    legal: np.ndarray,
    size: np.ndarray,
    channel: np.ndarray,
    log_age: np.ndarray,
    first_score: np.ndarray,
    tables: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> np.ndarray:
    """P(archetype | legal form, size band, channel, age at acceptance and the first score where there is one):
    the attributes are independent given the archetype, so the posterior is the prior times their likelihoods
    (the score's up to its clipping at 0 and 100, the age's up to its cap at 100 years: both are rare).
    """
    q = p.profile
    prior = np.log([p.archetype_shares[a] for a in ARCHETYPES])
    t_legal, t_size, t_channel = tables
    log_median = np.log([q.age_median_years[a] for a in ARCHETYPES])
    ll = prior[None, :] + np.log(t_legal.T[legal]) + np.log(t_size.T[size]) + np.log(t_channel.T[channel])
    ll = ll - 0.5 * ((log_age[:, None] - log_median[None, :]) / q.age_sigma) ** 2
    sd = float(np.hypot(q.score_sd_customer, q.score_sd_refresh))
    mean = np.array([q.score_mean[a] for a in ARCHETYPES])
    rated = ~np.isnan(first_score)
    ll[rated] -= 0.5 * ((first_score[rated, None] - mean[None, :]) / max(sd, 1e-9)) ** 2
    ll -= ll.max(axis=1, keepdims=True)
    w = np.exp(ll)
    return w / w.sum(axis=1, keepdims=True)
