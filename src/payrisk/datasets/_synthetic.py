"""The synthetic payment world: vectorised, deterministic by seed, with ground truth on ``ledger.truth``.

All dates are handled as integer day numbers (days since 1970-01-01, a Thursday) until the frames are built.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from scipy.special import expit

from payrisk._calendar import NEVER as _NEVER
from payrisk._calendar import NS_PER_DAY as _NS_PER_DAY
from payrisk._calendar import add_months as _add_months
from payrisk._calendar import direct_debit_day
from payrisk._calendar import month as _month
from payrisk._calendar import month_start as _month_start
from payrisk._calendar import next_business as _next_business
from payrisk._calendar import next_payrun as _next_payrun
from payrisk._calendar import next_weekday as _next_weekday
from payrisk._calendar import prev_business as _prev_business
from payrisk._calendar import prev_payrun as _prev_payrun
from payrisk._calendar import prev_weekday as _prev_weekday
from payrisk._calendar import to_datetime as _to_datetime
from payrisk._calendar import weekday as _weekday
from payrisk.datasets._params import ARCHETYPES, WorldParams
from payrisk.datasets._profile import RATING_CLASSES, draw_profile
from payrisk.datasets._truth import Truth
from payrisk.errors import ParameterError
from payrisk.ledger import Ledger, to_date

__all__ = ["make_ledger"]


CHANNELS = ("email", "sms", "letter", "phone", "legal")
TONES = ("mild", "strict", "firm")
_STRUGGLING = ARCHETYPES.index("struggling")


def _ids(prefix: str, n: int, width: int) -> pa.Array:
    """``prefix`` + zero-padded 1..n as an Arrow text array (50x faster than numpy.char)."""
    digits = pc.utf8_lpad(pc.cast(pa.array(np.arange(1, n + 1)), pa.string()), width, "0")
    return pc.binary_join_element_wise(prefix, digits, "")


def _text(vocab: tuple[str, ...] | list[str], codes: np.ndarray) -> pd.Series:
    """Codes into a vocabulary as an Arrow-backed text column; a negative code gives a missing value."""
    codes = np.asarray(codes, dtype=np.int64)
    idx = pa.array(codes, mask=codes < 0)
    return pd.Series(pd.array(pc.take(pa.array(list(vocab), pa.string()), idx), dtype="str"))


def _code(vocab: Iterable[str], name: str) -> int:
    return list(vocab).index(name)


def _choice(rng: np.random.Generator, options: dict[str, float] | tuple, size: int, p: Any = None) -> np.ndarray:
    if isinstance(options, dict):
        keys = np.array(list(options))
        return keys[rng.choice(len(keys), size=size, p=np.array(list(options.values())))]
    return np.asarray(options)[rng.choice(len(options), size=size, p=p)]


def _lookup(table: dict[str, float], codes: np.ndarray, vocab: tuple[str, ...] = ARCHETYPES) -> np.ndarray:
    """Per-row values of ``table`` for integer ``codes`` into ``vocab`` (archetypes by default)."""
    return np.array([table.get(k, 0.0) for k in vocab], dtype=float)[codes]


def _codes(rng: np.random.Generator, shares: dict[str, float], size: int) -> np.ndarray:
    return rng.choice(len(shares), size=size, p=np.array(list(shares.values())))


#: the profile's generator is seeded with the world's seed and this number (its own stream)
_PROFILE_STREAM = 23


# -- the generator -----------------------------------------------------------------------------------------
class _World:
    def __init__(self, p: WorldParams, start: pd.Timestamp, end: pd.Timestamp, rng: np.random.Generator) -> None:
        self.p = p
        self.rng = rng
        self.d0 = int(start.value // _NS_PER_DAY)
        self.d1 = int(end.value // _NS_PER_DAY)

    # customers ------------------------------------------------------------------------------------------
    def customers(self, n: int, n_invoices: int | None) -> dict[str, np.ndarray]:
        p, rng = self.p, self.rng
        span = self.d1 - self.d0
        shares = [p.archetype_shares[a] for a in ARCHETYPES]
        arche = rng.choice(len(ARCHETYPES), size=n, p=np.array(shares))
        existing = rng.random(n) < p.existing_customer_share
        created = np.where(
            existing,
            self.d0 - rng.integers(30, 3 * 365, n),
            self.d0 + (rng.random(n) * max(span - 60, 1)).astype(np.int64),
        )
        can_worsen = (arche == _code(ARCHETYPES, "reliable")) | (arche == _code(ARCHETYPES, "forgetful"))
        deteriorates = can_worsen & (rng.random(n) < p.deteriorating_share)
        w0, w1 = p.deterioration_window
        det_on = np.where(
            deteriorates,
            np.maximum(created, self.d0 + int(w0 * span)) + (rng.random(n) * (w1 - w0) * span).astype(np.int64),
            _NEVER,
        )
        det_on = np.where(det_on >= self.d1, _NEVER, det_on)
        deteriorates &= det_on < _NEVER
        rate = p.invoices_per_month_median * np.exp(p.invoices_per_month_sigma * rng.standard_normal(n))
        rate = np.clip(rate, 0.2, 60.0)
        active_from = np.maximum(created, self.d0)
        months = (self.d1 - active_from + 1) / 30.44
        if n_invoices is not None:
            rate *= n_invoices / max(float((rate * months).sum()), 1e-9)
        country = np.array(list(p.countries))[_codes(rng, p.countries, n)]
        currencies = sorted({p.currency_of_country.get(k, "EUR") for k in p.countries})
        cur_of_country = np.array([currencies.index(p.currency_of_country.get(k, "EUR")) for k in p.countries])
        currency = cur_of_country[
            np.searchsorted(np.array(list(p.countries)), country, sorter=np.argsort(list(p.countries)))
        ]
        self.currencies = currencies
        rhythm = _codes(rng, p.rhythm_shares, n)
        return {
            "archetype": arche,
            "customer_effect": p.customer_effect_sd * rng.standard_normal(n),
            "created": created,
            "active_from": active_from,
            "deteriorates": deteriorates,
            "deteriorated_on": det_on,
            "rate": rate,
            # drawn from a spawned generator, and only where there is direct debit: the default world is unchanged
            "direct_debit": (self.rng.spawn(1)[0].random(n) < p.direct_debit_share)
            if p.direct_debit_share > 0
            else np.zeros(n, dtype=bool),
            "amount_scale": p.amount_median * np.exp(p.amount_sigma_between * rng.standard_normal(n)),
            "terms": _choice(rng, tuple(p.terms_days), n, p=np.array(p.terms_probs)),
            "country": country,
            "currency": currency,
            "sector": _choice(
                rng, ("retail", "wholesale", "construction", "services", "manufacturing", "hospitality"), n
            ),
            "rhythm": rhythm,
            "weekday": _choice(rng, tuple(range(5)), n, p=np.array(p.weekday_probs)),
            "concentration": rng.beta(*p.weekday_concentration_beta, n),
            "payrun_day": _choice(rng, tuple(p.payrun_days), n),
            "bad_email": rng.random(n) < p.bad_email_share,
        }

    # invoices -------------------------------------------------------------------------------------------
    def issue_days(self, c: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        p, rng = self.p, self.rng
        days = np.arange(self.d0, self.d1 + 1)
        w = np.where(_weekday(days) < 5, 1.0, 0.05)
        month_w = np.ones(13)
        for m, f in p.month_volume.items():
            month_w[m] = f
        w = w * month_w[_month(days)]
        cum = np.concatenate([[0.0], np.cumsum(w)])
        lo = cum[c["active_from"] - self.d0]
        total = cum[-1] - lo
        mean_w = w.mean()
        expected = c["rate"] * total / mean_w / 30.44
        counts = rng.poisson(expected)
        cust = np.repeat(np.arange(len(counts)), counts)
        u = lo[cust] + rng.random(len(cust)) * total[cust]
        day = self.d0 + np.searchsorted(cum, u, side="right") - 1
        return cust, np.clip(day, self.d0, self.d1)

    def invoices(self, c: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        p, rng = self.p, self.rng
        cust, issue = self.issue_days(c)
        order = np.lexsort((cust, issue))
        cust, issue = cust[order], issue[order]
        n = len(cust)
        amount = np.round(c["amount_scale"][cust] * np.exp(p.amount_sigma_within * rng.standard_normal(n)), 2)
        amount = np.maximum(amount, 1.0)
        terms = c["terms"][cust].astype(np.int64)
        other = rng.random(n) < p.other_terms_share
        terms = np.where(other, _choice(rng, tuple(p.terms_days), n, p=np.array(p.terms_probs)), terms)
        due = issue + terms
        switched = issue >= c["deteriorated_on"][cust]
        arche = np.where(switched, _STRUGGLING, c["archetype"][cust])
        effect = c["customer_effect"][cust] + np.where(switched, p.deterioration_shift, 0.0)
        month_eff = np.zeros(13)
        for m, f in p.month_effect.items():
            month_eff[m] = f
        tenure_months = (issue - c["created"][cust]) / 30.44
        logit = (
            _lookup(p.late_logit, arche)
            + effect
            + p.amount_effect * np.log(amount / c["amount_scale"][cust])
            + month_eff[_month(issue)]
            + p.terms_effect * (terms - 30)
            + p.new_customer_effect * np.exp(-np.maximum(tenure_months, 0) / 6.0)
        )
        p_late = expit(logit)
        direct_debit = c["direct_debit"][cust]
        p_late = np.where(direct_debit, p_late * p.direct_debit_fail_factor, p_late)  # a failed collection
        p_never = p_late * _lookup(p.never_given_late, arche)
        return {
            "cust": cust,
            "issue": issue,
            "amount": amount,
            "terms": terms,
            "due": due,
            "archetype": arche,
            "p_late": p_late,
            "p_never": p_never,
            "direct_debit": direct_debit,
        }

    def payment_days(self, c: dict[str, np.ndarray], inv: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        p, rng = self.p, self.rng
        n = len(inv["cust"])
        cust, due, issue, arche = inv["cust"], inv["due"], inv["issue"], inv["archetype"]
        late = rng.random(n) < inv["p_late"]
        never = late & (rng.random(n) < inv["p_never"] / np.maximum(inv["p_late"], 1e-12))

        # the logged dunning treatment (randomised track tone and first channel)
        strict = rng.random(n) < p.strict_share
        first_vocab = tuple(p.first_channel_probs)
        channel = np.array([_code(CHANNELS, ch) for ch in first_vocab])[_codes(rng, p.first_channel_probs, n)]
        first_day = _next_business(due + 1)
        bad_email = c["bad_email"][cust]
        bounced = rng.random(n) < self.bounce_prob(channel, bad_email)
        rhythm = c["rhythm"][cust]
        weekday_rhythm, payrun_rhythm = _code(p.rhythm_shares, "weekday"), _code(p.rhythm_shares, "payrun")
        has_weekday = rhythm == weekday_rhythm
        aligned = has_weekday & (_weekday(first_day) == c["weekday"][cust])
        base_mu = np.log(_lookup(p.late_days_median, arche))
        chan_eff = _lookup(p.channel_effect, channel, CHANNELS)
        common = chan_eff + p.aligned_effect * aligned
        mu_mild = base_mu + _lookup(p.tone_effect["mild"], arche) + common
        mu_strict = base_mu + _lookup(p.tone_effect["strict"], arche) + common
        mu_none = base_mu + _lookup(p.tone_effect["none"], arche)
        disputed = late & (rng.random(n) < p.dispute_given_late)
        mu = np.where(bounced, mu_none, np.where(strict, mu_strict, mu_mild)) + p.dispute_delay * disputed
        sigma = _lookup(p.late_days_sigma, arche)
        z = rng.standard_normal(n)
        a, b = p.early_beta
        early = np.rint(rng.beta(a, b, n) * inv["terms"]).astype(np.int64)
        snap = rng.random(n) < c["concentration"][cust]
        wd = c["weekday"][cust]
        pr_day = c["payrun_day"][cust]

        def late_pay_day(loc: np.ndarray) -> np.ndarray:
            """Payment day of a late invoice whose log days-late has location ``loc`` (same noise, same snap)."""
            days = np.maximum(1, np.ceil(np.minimum(np.exp(loc + sigma * z), 10_000))).astype(np.int64)
            raw = due + days
            fwd = np.where(
                rhythm == weekday_rhythm,
                _next_weekday(raw, wd),
                np.where(rhythm == payrun_rhythm, _next_payrun(raw, pr_day), raw),
            )
            return _next_business(np.where(snap, fwd, raw))

        # on time: paid before the due date, moved back onto the rhythm and a business day (never before issue)
        raw = np.maximum(due - early, issue)
        back = np.where(
            rhythm == weekday_rhythm,
            _prev_weekday(raw, wd),
            np.where(rhythm == payrun_rhythm, _prev_payrun(raw, pr_day), raw),
        )
        back = np.where(snap & (back >= issue), back, raw)
        biz_back = _prev_business(back)
        on_time_day = np.minimum(np.where(biz_back >= issue, biz_back, _next_business(back)), due)
        on_time_day = np.where(inv["direct_debit"], direct_debit_day(issue, due), on_time_day)
        pay = np.where(late, late_pay_day(mu), on_time_day)
        # potential outcomes of the first reminder's tone (delivered, as logged otherwise): days late
        dispute = p.dispute_delay * disputed
        if_mild = np.where(late, late_pay_day(mu_mild + dispute) - due, 0).astype(float)
        if_strict = np.where(late, late_pay_day(mu_strict + dispute) - due, 0).astype(float)
        if_mild[never] = np.nan
        if_strict[never] = np.nan
        pay = np.where(never, _NEVER, pay)
        base_pay = pay.copy()  # the payment day without collector actions (the replay's baseline)
        work = self.collector_log(c, inv, pay, never, disputed)
        pay, never = work.pop("pay"), work.pop("never")

        # disputes are raised after the first reminder; partial payments come before the final one
        dispute_day = np.where(disputed, first_day + rng.integers(1, 10, n), _NEVER)
        partial_p = _lookup(p.partial_given_late, arche)
        span = np.where(never, 60, pay - first_day)
        partial = late & (rng.random(n) < partial_p) & (span >= 3)
        partial_day = _next_business(first_day + np.floor(span * rng.uniform(0.2, 0.7, n)).astype(np.int64))
        partial = partial & ((partial_day < pay) | never)
        partial_amount = np.round(inv["amount"] * rng.uniform(0.2, 0.7, n), 2)
        return {
            "late": late,
            "never": never,
            "pay": pay,
            "strict": strict,
            "channel": channel,
            "bounced": bounced,
            "aligned": aligned,
            "first_day": first_day,
            "mu": mu,
            "sigma": sigma,
            "mu_mild": mu_mild,
            "mu_strict": mu_strict,
            "disputed": disputed,
            "dispute_day": dispute_day,
            "partial": partial,
            "partial_day": partial_day,
            "partial_amount": partial_amount,
            "days_late": np.where(late & ~never, pay - due, np.where(late, -1, 0)),
            "if_mild": if_mild,
            "if_strict": if_strict,
            "base_pay": base_pay,
            "work": work,
        }

    def collector_log(
        self, c: dict, inv: dict, pay: np.ndarray, never: np.ndarray, disputed: np.ndarray
    ) -> dict[str, np.ndarray]:
        """The logged collector actions on late invoices and the payments they brought forward.

        A late, undisputed invoice is worked with a chance that rises with its amount; up to ``logged_max``
        actions at random days at least ``logged_gap_days`` apart, while it is open; channel by amount (mostly
        calls for large invoices), tone at random. Each answers with the world's true response probability. Drawn
        from a generator spawned off the world's own, so the rest of the world is the same draw as without it.
        """
        from payrisk.datasets import _collector as col

        p, cp = self.p, self.p.collector
        rng = self.rng.spawn(1)[0]
        n = len(pay)
        cust, due, amount = inv["cust"], inv["due"], inv["amount"]
        large = amount >= (np.quantile(amount, 0.6) if n else 0.0)
        worked = (pay > due) & ~disputed & (rng.random(n) < np.where(large, cp.logged_share[1], cp.logged_share[0]))
        rhythm = np.array(list(p.rhythm_shares))[c["rhythm"]][cust]
        country = c["country"][cust]
        pay, never = pay.copy(), never.copy()
        day = due + cp.logged_first_day + rng.integers(0, 21, n)
        earlier = np.zeros(n, dtype=np.int64)
        rows = []
        tone_p = np.array([cp.logged_tone[t] for t in col.COLLECTOR_TONES])
        for k in range(cp.logged_max):
            day = day if k == 0 else day + cp.logged_gap_days + rng.integers(0, 45, n)
            day = _next_business(day)
            act = worked & (day < pay) & (day <= self.d1 + 120) & (rng.random(n) < (1.0 if k == 0 else 0.75))
            phone = rng.random(n) < np.where(large, cp.logged_phone[1], cp.logged_phone[0])
            channel = np.where(phone, 0, np.where(rng.random(n) < 0.5, 1, 2))
            tone = rng.choice(3, size=n, p=tone_p)
            overdue = day - due
            u = col.response_probability(
                cp,
                inv["archetype"],
                channel,
                tone,
                overdue,
                earlier,
                col.auto_contacts_7d(p, overdue, amount),
                col.timed(rhythm, c["weekday"][cust], c["payrun_day"][cust], day, cp.payrun_window),
                col.closed(country, day),
            )
            u = np.where(never, u * col.cure_factor(cp, inv["archetype"]), u)
            draw = rng.random(n)
            answered = act & (draw < u)
            new_pay = _next_business(day + col.response_days(cp, channel))
            moved = answered & (new_pay < pay)
            pay = np.where(moved, new_pay, pay)
            never = never & ~moved
            reached = rng.random(n) < cp.reach["phone"]
            # a bounce is one way not to be answered: P(bounced) = bounce[channel] overall
            bounce = np.array([cp.bounce[ch] for ch in col.COLLECTOR_CHANNELS])[channel]
            bounced = ~answered & (rng.random(n) < bounce / np.maximum(1 - u, 1e-9))
            minute = rng.integers(9 * 60, 17 * 60, n)
            idx = np.flatnonzero(act)
            rows.append(
                {
                    "inv": idx,
                    "day": day[idx],
                    "channel": channel[idx],
                    "tone": tone[idx],
                    "earlier": earlier[idx],
                    "u": u[idx],
                    "answered": answered[idx],
                    "moved": moved[idx],
                    "promise": (phone & (answered | (reached & (rng.random(n) < cp.broken_promise))))[idx],
                    "bounced": bounced[idx],
                    "minute": minute[idx],
                }
            )
            earlier = earlier + act
        empty = {"inv": np.zeros(0, np.int64)}  # logged_max = 0: no collector actions
        out = {k: np.concatenate([r[k] for r in rows]) for k in rows[0]} if rows else empty
        return out | {"pay": pay, "never": never}

    def bounce_prob(self, channel: np.ndarray, bad_email: np.ndarray) -> np.ndarray:
        """Probability that a contact on ``channel`` (codes into CHANNELS) bounces."""
        b = self.p.bounce_prob
        email = np.where(bad_email, b["email_bad"], b["email"])
        by_channel = np.array([0.0, b["sms"], b["letter"], 0.0, 0.0])[channel]
        return np.where(channel == _code(CHANNELS, "email"), email, by_channel)

    # dunning contacts -----------------------------------------------------------------------------------
    def contacts(self, c: dict, inv: dict, pay: dict) -> dict[str, np.ndarray]:
        p, rng = self.p, self.rng
        idx_all = np.flatnonzero(pay["late"])
        amount_q60 = np.quantile(inv["amount"], 0.6) if len(inv["amount"]) else 0.0
        parts = []
        for step_no, (offset, channel_rule, tone_rule) in enumerate(p.steps, start=1):
            idx = idx_all
            day = pay["first_day"][idx] if step_no == 1 else _next_business(inv["due"][idx] + offset)
            if channel_rule == "legal":
                idx, day = idx[inv["amount"][idx] >= p.legal_min_amount], day[inv["amount"][idx] >= p.legal_min_amount]
            keep = day <= pay["pay"][idx]  # sent only while the invoice is still unpaid (morning of day)
            if step_no > 1:
                keep &= day < pay["pay"][idx]
            idx, day = idx[keep], day[keep]
            m = len(idx)
            email, sms = _code(CHANNELS, "email"), _code(CHANNELS, "sms")
            if channel_rule == "first":
                channel = pay["channel"][idx]
            elif channel_rule == "repeat":  # same channel, but a bounced e-mail falls back to SMS
                channel = np.where(pay["bounced"][idx] & (pay["channel"][idx] == email), sms, pay["channel"][idx])
            elif channel_rule == "phone_or_letter":
                big = inv["amount"][idx] >= amount_q60
                channel = np.where(big, _code(CHANNELS, "phone"), _code(CHANNELS, "letter"))
            else:
                channel = np.full(m, _code(CHANNELS, channel_rule))
            if tone_rule == "track":
                tone = np.where(pay["strict"][idx], _code(TONES, "strict"), _code(TONES, "mild"))
            else:
                tone = np.full(m, _code(TONES, tone_rule))
            if step_no == 1:
                bounced = pay["bounced"][idx]
            else:
                bounced = rng.random(m) < self.bounce_prob(channel, c["bad_email"][inv["cust"][idx]])
            parts.append(
                {
                    "inv": idx,
                    "day": day,
                    "step": np.full(m, step_no),
                    "channel": channel,
                    "tone": tone,
                    "bounced": bounced,
                }
            )
        out = {k: np.concatenate([pt[k] for pt in parts]) for k in parts[0]}
        n = len(out["inv"])
        to_pay = pay["pay"][out["inv"]] - out["day"]
        phone = out["channel"] == _code(CHANNELS, "phone")
        u = rng.random(n)
        soon = to_pay <= 10
        promise, no_answer, refused = 0, 1, 2  # codes into OUTCOMES
        outcome = np.where(
            phone,
            np.where(
                soon,
                np.where(u < 0.8, promise, no_answer),
                np.where(u < 0.3, promise, np.where(u < 0.8, no_answer, refused)),
            ),
            -1,
        )
        out["outcome"] = outcome
        out["minute"] = rng.integers(9 * 60, 17 * 60, n)
        return _with_collector_rows(out, pay["work"], len(p.steps) + 1)

    def loss_days(self, c: dict, inv: dict, con: dict) -> np.ndarray:
        """The day each customer stops buying after a strict (or, rarely, mild) contact; _NEVER otherwise."""
        p, rng = self.p, self.rng
        cust = inv["cust"][con["inv"]]
        arche = c["archetype"][cust]
        mild = con["tone"] == _code(TONES, "mild")
        prob = np.where(mild, _lookup(p.loss_per_contact["mild"], arche), _lookup(p.loss_per_contact["strict"], arche))
        trigger = (~con["bounced"]) & (rng.random(len(cust)) < prob)
        lost = np.full(len(c["archetype"]), _NEVER, dtype=np.int64)
        np.minimum.at(lost, cust[trigger], con["day"][trigger] + 30)
        return lost

    # plans ----------------------------------------------------------------------------------------------
    def plans(self, c: dict, lost: np.ndarray) -> dict[str, np.ndarray]:
        p, rng = self.p, self.rng
        arche = c["archetype"]
        years = np.maximum(np.minimum(lost, self.d1 - 30) - c["active_from"], 0) / 365.25
        counts = rng.poisson(_lookup(p.plans_per_year, arche) * years)
        cust = np.repeat(np.arange(len(counts)), counts)
        lo = c["active_from"][cust]
        hi = np.minimum(lost[cust], self.d1 - 30)
        created = lo + (rng.random(len(cust)) * (hi - lo)).astype(np.int64)
        order = np.lexsort((cust, created))
        cust, created = cust[order], created[order]
        m = len(cust)
        switched = created >= c["deteriorated_on"][cust]
        parche = np.where(switched, _STRUGGLING, arche[cust])
        effect = c["customer_effect"][cust] + np.where(switched, p.deterioration_shift, 0.0)
        size = _choice(rng, tuple(p.plan_sizes), m, p=np.array(p.plan_size_probs)).astype(np.int64)
        monthly = c["amount_scale"][cust] * c["rate"][cust]
        total = np.round(c["amount_scale"][cust] * rng.uniform(1.0, 6.0, m), 2)
        inst_amount = np.round(total / size, 2)
        burden = inst_amount / np.maximum(monthly, 1.0)
        logit = (
            _lookup(p.plan_kept_logit, parche)
            + p.plan_burden_effect * burden
            + p.plan_size_effect * size
            + p.plan_customer_effect * effect
        )
        p_kept = expit(logit)
        kept = rng.random(m) < p_kept
        break_at = np.where(kept, 0, 1 + np.floor(rng.random(m) * size).astype(np.int64))
        return {
            "cust": cust,
            "created": created,
            "size": size,
            "inst_amount": inst_amount,
            "total": total,
            "burden": burden,
            "p_kept": p_kept,
            "kept": kept,
            "break_at": break_at,
            "archetype": parche,
        }

    def installments(self, c: dict, pl: dict) -> dict[str, np.ndarray]:
        p, rng = self.p, self.rng
        plan = np.repeat(np.arange(len(pl["size"])), pl["size"])
        first = np.concatenate([[0], np.cumsum(pl["size"])[:-1]]) if len(plan) else np.zeros(0, np.int64)
        no = np.arange(len(plan)) - np.repeat(first, pl["size"]) + 1
        created = pl["created"][plan]
        ms = _month_start(created)
        dom = np.minimum(created - ms + 1, 28)
        due = _add_months(ms, no) + dom - 1
        n = len(plan)
        brk = pl["break_at"][plan]
        paid_ok = (brk == 0) | (no < brk)
        offset = np.where(rng.random(n) < 0.2, rng.integers(1, 11, n), -rng.integers(0, 6, n))
        paid_day = np.where(paid_ok, due + offset, _NEVER)
        at_break = no == brk
        part = at_break & (rng.random(n) < p.plan_partial_on_break)
        paid_day = np.where(part, due + rng.integers(0, 21, n), paid_day)
        amount_due = pl["inst_amount"][plan]
        amount_paid = np.where(
            paid_ok, amount_due, np.where(part, np.round(amount_due * rng.uniform(0.1, 0.6, n), 2), 0.0)
        )
        size = pl["size"][plan]
        p_k = pl["p_kept"][plan]
        # P(instalment j paid | instalments before it paid) under "break at a uniform instalment if not kept"
        p_paid = 1.0 - (1 - p_k) / size / (p_k + (1 - p_k) * (size - no + 1) / size)
        return {
            "plan": plan,
            "no": no,
            "due": due,
            "amount_due": amount_due,
            "paid_day": paid_day,
            "amount_paid": amount_paid,
            "p_paid": p_paid,
        }


#: collector channels and tones (phone, sms, letter / mild, firm, strict) as codes into CHANNELS and TONES
_COLLECTOR_CHANNEL_CODES = np.array([_code(CHANNELS, "phone"), _code(CHANNELS, "sms"), _code(CHANNELS, "letter")])
_COLLECTOR_TONE_CODES = np.array([_code(TONES, "mild"), _code(TONES, "firm"), _code(TONES, "strict")])


def _with_collector_rows(out: dict, work: dict, step: int) -> dict[str, np.ndarray]:
    """The automatic track's contacts followed by the logged collector actions (step ``len(steps) + 1``)."""
    m = len(work["inv"])
    if m == 0:
        work = {k: np.zeros(0, t) for k, t in (("channel", np.int64), ("tone", np.int64), ("bounced", bool),
                ("promise", bool), ("minute", np.int64), ("u", float), ("answered", bool), ("moved", bool),
                ("earlier", np.int64), ("day", np.int64))} | work  # fmt: skip
    rows = {
        "inv": work["inv"],
        "day": work["day"],
        "step": np.full(m, step),
        "channel": _COLLECTOR_CHANNEL_CODES[work["channel"]],
        "tone": _COLLECTOR_TONE_CODES[work["tone"]],
        "bounced": work["bounced"],
        "outcome": np.where(work["channel"] == 0, np.where(work["promise"], 0, 1), -1),
        "minute": work["minute"],
        "p_answer": work["u"],
        "answered": work["answered"],
        "moved": work["moved"],
        "earlier": work["earlier"],
    }
    n = len(out["inv"])
    out |= {"p_answer": np.full(n, np.nan), "answered": np.zeros(n, bool), "moved": np.zeros(n, bool)}
    out["earlier"] = np.zeros(n, np.int64)
    return {k: np.concatenate([out[k], rows[k]]) for k in out}


def _generate(
    n_customers: int, start: pd.Timestamp, end: pd.Timestamp, seed: int, n_invoices: int | None, p: WorldParams
) -> Ledger:
    rng = np.random.default_rng(seed)
    w = _World(p, start, end, rng)
    c = w.customers(n_customers, n_invoices)
    inv = w.invoices(c)
    pay = w.payment_days(c, inv)
    con = w.contacts(c, inv, pay)
    pay.pop("work")
    lost = w.loss_days(c, inv, con)

    # customers who stopped buying issue nothing after their loss day
    keep_inv = inv["issue"] <= lost[inv["cust"]]
    inv = {k: v[keep_inv] for k, v in inv.items()}
    pay = {k: v[keep_inv] for k, v in pay.items()}
    remap = np.cumsum(keep_inv) - 1
    keep_con = keep_inv[con["inv"]]
    con = {k: v[keep_con] for k, v in con.items()}
    con["inv"] = remap[con["inv"]]
    pl = w.plans(c, lost)
    ins = w.installments(c, pl)
    return _assemble(w, c, inv, pay, con, lost, pl, ins, seed)


def _take(ids: pa.Array, idx: np.ndarray | None = None) -> pd.Series:
    """Rows ``idx`` of an Arrow id column as an Arrow-backed pandas text column."""
    arr = ids if idx is None else pc.take(ids, pa.array(np.asarray(idx, dtype=np.int64)))
    return pd.Series(pd.array(arr, dtype="str"))


def _assemble(w: _World, c, inv, pay, con, lost, pl, ins, seed: int) -> Ledger:
    p, rng, end = w.p, w.rng, w.d1
    n_c = len(c["archetype"])
    cust_ids = _ids("C", n_c, 6)
    n = len(inv["cust"])
    inv_ids = _ids("INV", n, 8)
    cur = c["currency"]
    pay_day = pay["pay"]
    paid_known = pay_day <= end
    dispute_known = pay["dispute_day"] <= end

    # credit notes: small negative documents per customer (returns, rebates)
    n_cn = rng.poisson(p.credit_notes_per_invoice * np.bincount(inv["cust"], minlength=n_c))
    cn_cust = np.repeat(np.arange(n_c), n_cn)
    lo = c["active_from"][cn_cust]
    hi = np.minimum(lost[cn_cust], end)
    cn_day = lo + (rng.random(len(cn_cust)) * np.maximum(hi - lo, 0)).astype(np.int64)
    cn_amount = -np.round(c["amount_scale"][cn_cust] * rng.uniform(0.05, 0.4, len(cn_cust)), 2)
    never_cn = np.full(len(cn_cust), _NEVER)
    all_cust = np.concatenate([inv["cust"], cn_cust])
    invoices = pd.DataFrame(
        {
            "invoice_id": _take(pa.concat_arrays([inv_ids, _ids("CN", len(cn_cust), 7)])),
            "customer_id": _take(cust_ids, all_cust),
            "issue_date": _to_datetime(np.concatenate([inv["issue"], cn_day])),
            "due_date": _to_datetime(np.concatenate([inv["due"], cn_day])),
            "amount": np.concatenate([inv["amount"], cn_amount]),
            "currency": _text(w.currencies, cur[all_cust]),
            "paid_date": _to_datetime(np.concatenate([np.where(paid_known, pay_day, _NEVER), never_cn])),
            "disputed": np.concatenate([pay["disputed"] & dispute_known, np.zeros(len(cn_cust), bool)]),
            "disputed_date": _to_datetime(
                np.concatenate([np.where(dispute_known, pay["dispute_day"], _NEVER), never_cn])
            ),
        }
    )

    # payments: a final payment per paid invoice, a partial one before it for some
    part = pay["partial"] & (pay["partial_day"] <= end)
    full_amount = np.where(part, np.round(inv["amount"] - pay["partial_amount"], 2), inv["amount"])
    pi = np.concatenate([np.flatnonzero(part), np.flatnonzero(paid_known)])
    p_day = np.concatenate([pay["partial_day"][part], pay_day[paid_known]])
    p_amt = np.concatenate([pay["partial_amount"][part], full_amount[paid_known]])
    order = np.lexsort((pi, p_day))
    pi, p_day, p_amt = pi[order], p_day[order], p_amt[order]
    payments = pd.DataFrame(
        {
            "payment_id": _take(_ids("PAY", len(pi), 8)),
            "customer_id": _take(cust_ids, inv["cust"][pi]),
            "invoice_id": _take(inv_ids, pi),
            "payment_date": _to_datetime(p_day),
            "amount": p_amt,
            "currency": _text(w.currencies, cur[inv["cust"][pi]]),
        }
    )

    # contacts up to the end date
    sent = con["day"] <= end
    con = {k: v[sent] for k, v in con.items()}
    order = np.lexsort((con["inv"], con["minute"], con["day"]))
    con = {k: v[order] for k, v in con.items()}
    channel = _text(CHANNELS, con["channel"])
    tone = _text(TONES, con["tone"])
    collector = con["step"] == len(p.steps) + 1
    prefix = pc.if_else(
        pa.array(collector),
        "collector",
        pc.binary_join_element_wise("R", pc.cast(pa.array(con["step"]), pa.string()), ""),
    )
    template = pc.binary_join_element_wise(
        prefix, pa.array(channel.array).cast(pa.string()), pa.array(tone.array).cast(pa.string()), "_"
    )
    contacts = pd.DataFrame(
        {
            "contact_id": _take(_ids("CON", len(con["inv"]), 8)),
            "customer_id": _take(cust_ids, inv["cust"][con["inv"]]),
            "invoice_id": _take(inv_ids, con["inv"]),
            "sent_at": _to_datetime(con["day"]) + (con["minute"] * 60 * 10**9).astype("timedelta64[ns]"),
            "channel": channel,
            "tone": tone,
            "template": _take(template),
            "step": con["step"],
            "delivered": ~con["bounced"],
            "bounced": con["bounced"],
            "outcome": _text(("promise_to_pay", "no_answer", "refused"), con["outcome"]),
        }
    )

    # plans and instalments known at the end date
    known_plan = pl["created"] <= end
    plan_ids = _ids("PLAN", len(pl["cust"]), 6)
    plans = pd.DataFrame(
        {
            "plan_id": _take(plan_ids, np.flatnonzero(known_plan)),
            "customer_id": _take(cust_ids, pl["cust"][known_plan]),
            "created_date": _to_datetime(pl["created"][known_plan]),
            "n_installments": pl["size"][known_plan],
            "total_amount": np.round(pl["inst_amount"] * pl["size"], 2)[known_plan],
            "currency": _text(w.currencies, cur[pl["cust"][known_plan]]),
        }
    )
    ins_known = known_plan[ins["plan"]]
    ins_paid = ins["paid_day"] <= end
    installments = pd.DataFrame(
        {
            "plan_id": _take(plan_ids, ins["plan"][ins_known]),
            "installment_no": ins["no"][ins_known],
            "due_date": _to_datetime(ins["due"][ins_known]),
            "amount_due": ins["amount_due"][ins_known],
            "paid_date": _to_datetime(np.where(ins_paid, ins["paid_day"], _NEVER)[ins_known]),
            "amount_paid": np.where(ins_paid, ins["amount_paid"], 0.0)[ins_known],
        }
    )
    # what was known before the first invoice: drawn from a generator of its own, so every other figure of the
    # world stays as it was
    prof = draw_profile(p, c, lost, end, np.random.default_rng([seed, _PROFILE_STREAM]))
    q, pc_ = p.profile, prof["customers"]
    customers = pd.DataFrame(
        {
            "customer_id": _take(cust_ids),
            "name": _take(_ids("Customer ", n_c, 1)),
            "country": c["country"],
            "sector": c["sector"],
            "created_date": _to_datetime(c["created"]),
            "currency": _text(w.currencies, cur),
            "legal_form": _text(q.legal_forms, pc_["legal_form"]),
            "founded_date": _to_datetime(pc_["founded"]),
            "size_band": _text(q.size_bands, pc_["size_band"]),
            "acquisition_channel": _text(q.channels, pc_["channel"]),
            "requested_limit": pc_["requested_limit"],
        }
    )
    r = prof["ratings"]
    ratings = pd.DataFrame(
        {
            "customer_id": _take(cust_ids, r["cust"]),
            "valid_from": _to_datetime(r["day"]),
            "source": "bureau",
            "score": r["score"],
            "rating": _text(RATING_CLASSES, r["rating"]),
        }
    )
    lim = prof["limits"]
    credit_limits = pd.DataFrame(
        {
            "customer_id": _take(cust_ids, lim["cust"]),
            "valid_from": _to_datetime(lim["day"]),
            "credit_limit": lim["limit"],
            "currency": _text(w.currencies, cur[lim["cust"]]),
        }
    )
    ledger = Ledger.from_frames(
        customers=customers,
        ratings=ratings,
        credit_limits=credit_limits,
        invoices=invoices,
        payments=payments,
        plans=plans,
        installments=installments,
        contacts=contacts,
        strict=True,
        meta={
            "source": "synthetic",
            "seed": seed,
            "start": str(_to_datetime(np.array([w.d0]))[0])[:10],
            "end": str(_to_datetime(np.array([w.d1]))[0])[:10],
        },
    )
    worked = con["step"] == len(p.steps) + 1
    actions = pd.DataFrame(
        {
            "contact_id": contacts["contact_id"].to_numpy()[worked],
            "invoice_id": contacts["invoice_id"].to_numpy()[worked],
            "p_answer": con["p_answer"][worked],
            "answered": con["answered"][worked],
            "brought_forward": con["moved"][worked],
            "earlier_actions": con["earlier"][worked],
        }
    ).astype({"contact_id": "str", "invoice_id": "str"})
    ledger.truth = _truth(w, c, inv, pay, lost, pl, ins, cust_ids, inv_ids, plan_ids, actions, pc_)
    return ledger


def _truth(w: _World, c, inv, pay, lost, pl, ins, cust_ids, inv_ids, plan_ids, actions, prof) -> Truth:
    p = w.p
    weekday_rhythm, payrun_rhythm = _code(p.rhythm_shares, "weekday"), _code(p.rhythm_shares, "payrun")
    rhythm = c["rhythm"]
    customers = pd.DataFrame(
        {
            "customer_id": _take(cust_ids),
            "archetype": _text(ARCHETYPES, c["archetype"]),
            "deteriorates": c["deteriorates"],
            "deteriorated_on": _to_datetime(c["deteriorated_on"]),
            "archetype_after": _text(ARCHETYPES, np.where(c["deteriorates"], _STRUGGLING, c["archetype"])),
            "customer_effect": c["customer_effect"],
            "rhythm": _text(tuple(p.rhythm_shares), rhythm),
            "preferred_weekday": np.where(rhythm == weekday_rhythm, c["weekday"].astype(np.int64), -1),
            "weekday_concentration": np.where(
                (rhythm == weekday_rhythm) | (rhythm == payrun_rhythm), c["concentration"], 0.0
            ),
            "payrun_day": np.where(rhythm == payrun_rhythm, c["payrun_day"].astype(np.int64), -1),
            "bad_email": c["bad_email"],
            "lost_on": _to_datetime(lost),
            "invoices_per_month": c["rate"],
            "amount_scale": c["amount_scale"],
            "usual_terms": c["terms"].astype(np.int64),
            "country": c["country"],
            "credit_need": prof["need"],
            "first_score": prof["first_score"],
            **{f"p_{a}_given_profile": prof["posterior"][:, k] for k, a in enumerate(ARCHETYPES)},
        }
    )
    dispute = p.dispute_delay * pay["disputed"]
    invoices = pd.DataFrame(
        {
            "invoice_id": _take(inv_ids),
            "customer_id": _take(cust_ids, inv["cust"]),
            "archetype": _text(ARCHETYPES, inv["archetype"]),
            "due_date": _to_datetime(inv["due"]),
            "terms": inv["terms"],
            "p_late": inv["p_late"],
            "p_never": inv["p_never"],
            "late_log_mu": pay["mu"],
            "late_log_sigma": pay["sigma"],
            "log_mu_if_mild": pay["mu_mild"] + dispute,
            "log_mu_if_strict": pay["mu_strict"] + dispute,
            "track_tone": _text(TONES, np.where(pay["strict"], _code(TONES, "strict"), _code(TONES, "mild"))),
            "first_channel": _text(CHANNELS, pay["channel"]),
            "first_bounced": pay["bounced"],
            "first_aligned": pay["aligned"],
            "direct_debit": inv["direct_debit"],
            "days_late_if_mild": pay["if_mild"],
            "days_late_if_strict": pay["if_strict"],
            "late": pay["late"],
            "never_paid": pay["never"],
            "days_late": np.where(pay["never"], np.nan, pay["days_late"]).astype(float),
            "amount": inv["amount"],
            "paid_without_action": _to_datetime(pay["base_pay"]),
        }
    )
    plans = pd.DataFrame(
        {
            "plan_id": _take(plan_ids),
            "customer_id": _take(cust_ids, pl["cust"]),
            "archetype": _text(ARCHETYPES, pl["archetype"]),
            "p_kept": pl["p_kept"],
            "kept": pl["kept"],
            "break_at": pl["break_at"],
            "burden": pl["burden"],
        }
    )
    installments = pd.DataFrame(
        {"plan_id": _take(plan_ids, ins["plan"]), "installment_no": ins["no"], "p_paid": ins["p_paid"]}
    )
    rows = [{"archetype": a, "tone": t, "log_factor": p.tone_effect[t][a]} for a in ARCHETYPES for t in p.tone_effect]
    effects = pd.DataFrame(rows).astype({"archetype": "str", "tone": "str"})
    truth = Truth(customers, invoices, plans, installments, effects, p, actions)
    known_plans = plans.loc[pl["created"] <= w.d1]
    return truth.restrict({"invoices": invoices, "plans": known_plans})


def make_ledger(
    n_customers: int = 2_000,
    start: Any = "2022-01-01",
    end: Any = "2024-12-31",
    seed: int = 0,
    *,
    n_invoices: int | None = None,
    params: WorldParams | None = None,
) -> Ledger:
    """A synthetic payment world with ground truth: the test oracle of payrisk.

    Each customer has a hidden archetype (reliable, forgetful, struggling, chronic bad payer; some
    reliable and forgetful customers deteriorate into struggling ones), a payment rhythm (preferred
    weekday or a monthly pay-run day), a usual invoice amount and terms. Every invoice has a true probability
    of being paid late and a true days-late distribution; late invoices get dunning contacts whose tone was
    randomised (mild or strict) and whose effect differs by archetype. Partial payments, disputes, credit
    notes, payment plans with a true probability of being kept, and open invoices at ``end`` are included.
    See :class:`~payrisk.datasets.WorldParams` for every parameter and ``ledger.truth`` for the truth.

    Parameters
    ----------
    n_customers : int, default 2000
        Number of customers.
    start, end : date-like
        First and last day of the history; items open at ``end`` stay open.
    seed : int, default 0
        Seed; the same arguments give the same ledger.
    n_invoices : int, optional
        Expected number of invoices before customers lost to strict dunning stop buying (in the default world
        about 10% fewer are issued); scales every customer's invoicing rate (default: about 2 invoices per
        customer-month).
    params : WorldParams, optional
        The world's parameters.

    Returns
    -------
    Ledger
        Validated ledger with ``ledger.truth`` set.

    Examples
    --------
    >>> import payrisk as pr
    >>> ledger = pr.datasets.make_ledger(n_customers=100, seed=1)
    >>> ledger.report.ok, ledger.truth.customers["archetype"].nunique()
    (True, 4)
    """
    if not isinstance(n_customers, int | np.integer) or n_customers < 1:
        raise ParameterError(f"The 'n_customers' parameter must be a positive integer. Got {n_customers!r}.")
    if n_invoices is not None and n_invoices < 1:
        raise ParameterError(f"The 'n_invoices' parameter must be a positive integer. Got {n_invoices!r}.")
    start_ts, end_ts = to_date(start, "start"), to_date(end, "end")
    if end_ts <= start_ts:
        raise ParameterError(f"The 'end' parameter must be after 'start'. Got start={start!r}, end={end!r}.")
    return _generate(int(n_customers), start_ts, end_ts, int(seed), n_invoices, params or WorldParams())
