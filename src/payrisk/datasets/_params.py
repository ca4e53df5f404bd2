"""Parameters of the synthetic payment world (a pydantic model, so a world is described by data)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

ARCHETYPES: tuple[str, ...] = ("reliable", "forgetful", "struggling", "chronic")
TRACK_TONES: tuple[str, ...] = ("none", "mild", "strict")


def _shares_per_archetype(**shares: tuple[float, ...]) -> dict[str, tuple[float, ...]]:
    return shares


def _per_archetype(reliable: float, forgetful: float, struggling: float, chronic: float) -> dict[str, float]:
    return {"reliable": reliable, "forgetful": forgetful, "struggling": struggling, "chronic": chronic}


COLLECTOR_CHANNELS: tuple[str, ...] = ("phone", "sms", "letter")
COLLECTOR_TONES: tuple[str, ...] = ("mild", "firm", "strict")


class CollectorResponse(BaseModel):
    """How an overdue customer answers a collector's action: the world's true response to every dunning decision.

    Beyond the automatic reminder track (whose first reminder moves the days-late distribution), a collector can
    act on an open overdue invoice on any day with a phone call, an SMS or a letter, in a mild, firm or strict
    tone. The action is answered ("responds": the invoice is paid ``response_days[channel]`` days later) with
    probability

    ``u = base[archetype] * reach[channel] * tone[tone][archetype] * exp(-days_overdue / fade_days[archetype])
    * repeat_decay ** earlier_actions * fatigue ** max(0, contacts_7d - fatigue_free) * (1 + timing_boost if
    on the customer's payment weekday or in the days before its pay run) * (1 - bounce[channel])``,

    zero on weekends and public holidays of the customer's country, and capped at ``max_response``. An invoice
    that would never have been paid is paid (cured) with probability ``u * cure[archetype]``. A response that
    comes after the day the invoice would have been paid anyway changes nothing. A delivered strict action may
    lose the customer (``WorldParams.loss_per_contact``). So an action's worth is highest on recently overdue
    invoices of customers who would otherwise pay late, falls with every repeat and with contact pressure,
    depends on the archetype's answer to tone and is near zero on debts of a year and more.

    The magnitudes follow published collections figures: right-party contact rates of outbound calls of
    40-60%, promise-to-pay rates of reached debtors of 30-60% with about half of promises kept (ACA
    International and industry benchmarks), SMS reminders raising repayment by a few percentage points (Karlan,
    McConnell, Mullainathan & Zinman 2016; Cadena & Schoar 2011), letters below SMS, diminishing returns of
    repeated contacts, and recovery rates that fall steeply with days past due (the "ageing curve" of debt-sale
    pricing). They are set per archetype so that strict tone helps chronic payers and hurts reliable ones, as
    the first-reminder response of the world does.

    The logged history holds such actions: each late invoice is worked with probability
    ``logged_share[0]`` (amount below the 60th percentile) or ``logged_share[1]`` (above), at up to
    ``logged_max`` random days at least ``logged_gap_days`` apart; large invoices are mostly called, small ones
    mostly get an SMS or a letter, and the tone is drawn at random. Everything else in the world is untouched.

    Examples
    --------
    >>> CollectorResponse().reach["phone"] > CollectorResponse().reach["letter"]
    True
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    base: dict[str, float] = Field(default_factory=lambda: _per_archetype(0.6, 0.75, 0.5, 0.3))
    reach: dict[str, float] = Field(default_factory=lambda: {"phone": 0.55, "sms": 0.3, "letter": 0.22})
    tone: dict[str, dict[str, float]] = Field(
        default_factory=lambda: {
            "mild": _per_archetype(1.0, 1.0, 1.0, 1.0),
            "firm": _per_archetype(0.85, 1.05, 0.9, 1.3),
            "strict": _per_archetype(0.6, 1.0, 0.7, 1.6),
        }
    )
    fade_days: dict[str, float] = Field(default_factory=lambda: _per_archetype(45.0, 40.0, 90.0, 60.0))
    cure: dict[str, float] = Field(default_factory=lambda: _per_archetype(0.6, 0.6, 0.4, 0.25))
    repeat_decay: float = Field(default=0.7, gt=0, le=1)
    fatigue: float = Field(default=0.5, gt=0, le=1)
    fatigue_free: int = Field(default=1, ge=0)
    timing_boost: float = Field(default=0.35, ge=0)
    #: days before the pay-run day in which an action counts as timed to the pay run
    payrun_window: int = Field(default=4, ge=0, le=14)
    bounce: dict[str, float] = Field(default_factory=lambda: {"phone": 0.0, "sms": 0.03, "letter": 0.01})
    response_days: dict[str, int] = Field(default_factory=lambda: {"phone": 3, "sms": 4, "letter": 7})
    max_response: float = Field(default=0.95, gt=0, le=1)
    #: logged history: chance a late invoice is worked (small, large amount), at most how often, how far apart
    logged_share: tuple[float, float] = (0.35, 0.6)
    logged_max: int = Field(default=3, ge=0, le=8)
    logged_gap_days: int = Field(default=9, ge=8)
    logged_first_day: int = Field(default=5, ge=1)
    #: logged channel: P(phone) for (small, large) invoices; the rest split SMS / letter evenly
    logged_phone: tuple[float, float] = (0.15, 0.85)
    #: logged tone probabilities (randomised)
    logged_tone: dict[str, float] = Field(default_factory=lambda: {"mild": 0.4, "firm": 0.35, "strict": 0.25})
    #: a reached call that is not answered with a payment ends in a broken promise with this chance
    broken_promise: float = Field(default=0.4, ge=0, le=1)

    @model_validator(mode="after")
    def _check(self) -> CollectorResponse:
        for name in ("reach", "bounce", "response_days"):
            if set(getattr(self, name)) != set(COLLECTOR_CHANNELS):
                raise ValueError(f"collector.{name} must name exactly {COLLECTOR_CHANNELS}")
        if set(self.tone) != set(COLLECTOR_TONES) or set(self.logged_tone) != set(COLLECTOR_TONES):
            raise ValueError(f"collector.tone and collector.logged_tone must name exactly {COLLECTOR_TONES}")
        if abs(sum(self.logged_tone.values()) - 1) > 1e-6:
            raise ValueError("collector.logged_tone must sum to 1")
        if any(d > 7 or d < 1 for d in self.response_days.values()):
            raise ValueError("collector.response_days must lie in 1..7 (an answer comes within a week)")
        return self


class ProfileParams(BaseModel):
    """What a customer looks like before its first invoice: the attributes a credit manager sees at acceptance and
    a credit bureau's score, with known effects on the customer's archetype.

    Each attribute is drawn given the customer's archetype (so the archetype shares, and every other figure of the
    world, stay as they are), independently of the others: ``legal_form``, ``size_band`` and
    ``acquisition_channel`` from the archetype's shares, the company's age at acceptance from a log-normal with
    the archetype's median (``age_median_years``, ``age_sigma``), the requested limit from the customer's true
    need (a month's invoicing at its usual terms, times log-normal noise ``limit_sigma``). So
    ``P(archetype | attributes)`` is known exactly (:meth:`payrisk.datasets.Truth.archetype_given_profile`): the
    oracle a model of the same attributes is measured against.

    A bureau rates ``rated_share`` of the customers: first in the ``prospect_check_days`` before acceptance, then
    every ``refresh_days`` (give or take ``refresh_jitter_days``) while the customer buys. Its score (0-100,
    higher = safer) is the archetype's ``score_mean`` plus the customer's own offset (sd ``score_sd_customer``)
    and each publication's noise (sd ``score_sd_refresh``). A customer that deteriorates (turns struggling) is
    seen by the bureau ``score_lag_days`` later, its score moving to the struggling mean over
    ``score_move_days``. Rating classes cut the score at ``rating_bands``. Customers known at the start get the
    limit a score-proportional rule grants (``credit_limits``); the truth keeps the need.

    Examples
    --------
    >>> ProfileParams().score_mean["reliable"] > ProfileParams().score_mean["chronic"]
    True
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    legal_forms: tuple[str, ...] = ("sole_trader", "partnership", "limited", "plc")
    legal_form_shares: dict[str, tuple[float, ...]] = Field(
        default_factory=lambda: _shares_per_archetype(
            reliable=(0.15, 0.10, 0.55, 0.20),
            forgetful=(0.30, 0.15, 0.45, 0.10),
            struggling=(0.40, 0.15, 0.40, 0.05),
            chronic=(0.45, 0.17, 0.35, 0.03),
        )
    )
    size_bands: tuple[str, ...] = ("1-9", "10-49", "50-249", "250+")
    size_band_shares: dict[str, tuple[float, ...]] = Field(
        default_factory=lambda: _shares_per_archetype(
            reliable=(0.30, 0.35, 0.22, 0.13),
            forgetful=(0.45, 0.33, 0.15, 0.07),
            struggling=(0.55, 0.30, 0.11, 0.04),
            chronic=(0.60, 0.28, 0.09, 0.03),
        )
    )
    channels: tuple[str, ...] = ("referral", "sales", "web", "marketplace")
    channel_shares: dict[str, tuple[float, ...]] = Field(
        default_factory=lambda: _shares_per_archetype(
            reliable=(0.35, 0.35, 0.20, 0.10),
            forgetful=(0.25, 0.30, 0.30, 0.15),
            struggling=(0.20, 0.25, 0.35, 0.20),
            chronic=(0.15, 0.20, 0.40, 0.25),
        )
    )
    age_median_years: dict[str, float] = Field(default_factory=lambda: _per_archetype(14.0, 9.0, 5.0, 4.0))
    age_sigma: float = Field(default=0.8, gt=0)
    limit_sigma: float = Field(default=0.4, ge=0)
    rated_share: float = Field(default=0.85, ge=0, le=1)
    prospect_check_days: int = Field(default=120, ge=0)
    refresh_days: int = Field(default=91, ge=7)
    refresh_jitter_days: int = Field(default=20, ge=0)
    score_mean: dict[str, float] = Field(default_factory=lambda: _per_archetype(74.0, 64.0, 50.0, 40.0))
    score_sd_customer: float = Field(default=8.0, ge=0)
    score_sd_refresh: float = Field(default=4.0, ge=0)
    score_lag_days: int = Field(default=45, ge=0)
    score_move_days: int = Field(default=120, ge=1)
    #: rating classes from the best: a score at or above the first cut is "A", then "B", ...; below the last "E"
    rating_bands: tuple[float, ...] = (80.0, 65.0, 50.0, 35.0)

    @model_validator(mode="after")
    def _check(self) -> ProfileParams:
        for name, values, shares in (
            ("legal_form", self.legal_forms, self.legal_form_shares),
            ("size_band", self.size_bands, self.size_band_shares),
            ("channel", self.channels, self.channel_shares),
        ):
            if set(shares) != set(ARCHETYPES):
                raise ValueError(f"{name}_shares must name exactly {ARCHETYPES}")
            for a, v in shares.items():
                if len(v) != len(values) or abs(sum(v) - 1) > 1e-9 or min(v) < 0:
                    raise ValueError(f"{name}_shares[{a!r}] must be {len(values)} shares summing to 1")
        return self


class WorldParams(BaseModel):
    """Every knob of :func:`payrisk.datasets.make_ledger`. Defaults give the "default world" of the docs.

    Lateness is drawn per invoice from a known probability ``p_late`` (logistic in the archetype, a hidden
    customer effect, the invoice's relative amount, month and terms, and the customer's tenure). A late
    invoice is paid ``L = max(1, ceil(X))`` days after its due date with ``log X ~ Normal(mu, sigma)``, where
    ``mu`` depends on the archetype and on the first reminder: its tone (``none`` when it bounced), channel
    and whether it arrived on the customer's preferred payment weekday. This is the causal response that
    the dunning issues measure and simulate.

    Examples
    --------
    >>> WorldParams().archetype_shares["reliable"]
    0.45
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    #: share of customers per archetype (sums to 1)
    archetype_shares: dict[str, float] = Field(default_factory=lambda: _per_archetype(0.45, 0.25, 0.18, 0.12))
    #: share of reliable and forgetful customers who turn struggling at a random date
    deteriorating_share: float = Field(default=0.12, ge=0, le=1)
    #: share of customers who pay by direct debit: each invoice is collected on its due date (the last business
    #: day on or before it) unless the collection fails; a failed one runs late like any other invoice
    direct_debit_share: float = Field(default=0.0, ge=0, le=1)
    #: a direct-debit collection fails with this share of the invoice's chance of being paid late otherwise
    #: (insufficient funds follow the customer's own risk)
    direct_debit_fail_factor: float = Field(default=0.15, ge=0, le=1)
    #: shift of the hidden customer effect when a customer deteriorates
    deterioration_shift: float = 0.5
    #: when customers deteriorate: uniformly between these fractions of the history (a late, narrow window
    #: makes a shift after a model's training window, for monitoring)
    deterioration_window: tuple[float, float] = (0.25, 0.95)

    # customers and invoicing
    invoices_per_month_median: float = Field(default=2.0, gt=0)
    invoices_per_month_sigma: float = Field(default=0.8, ge=0)
    amount_median: float = Field(default=1500.0, gt=0)
    amount_sigma_between: float = Field(default=1.0, ge=0)
    amount_sigma_within: float = Field(default=0.5, ge=0)
    terms_days: tuple[int, ...] = (14, 30, 45, 60)
    terms_probs: tuple[float, ...] = (0.15, 0.55, 0.2, 0.1)
    #: share of invoices whose terms differ from the customer's usual terms
    other_terms_share: float = Field(default=0.1, ge=0, le=1)
    #: invoicing volume by calendar month (1..12), multiplicative
    month_volume: dict[int, float] = Field(default_factory=lambda: {3: 1.2, 6: 1.2, 8: 0.75, 9: 1.15, 12: 1.25})
    countries: dict[str, float] = Field(
        default_factory=lambda: {"NL": 0.3, "DE": 0.25, "BE": 0.1, "FR": 0.15, "GB": 0.15, "US": 0.05}
    )
    currency_of_country: dict[str, str] = Field(default_factory=lambda: {"GB": "GBP", "US": "USD"})
    #: share of customers who started before the ledger's first day
    existing_customer_share: float = Field(default=0.6, ge=0, le=1)

    # lateness
    late_logit: dict[str, float] = Field(default_factory=lambda: _per_archetype(-2.4, 0.1, 0.8, 1.7))
    customer_effect_sd: float = Field(default=0.5, ge=0)
    amount_effect: float = 0.35  #: per unit of log(amount / customer's usual amount)
    month_effect: dict[int, float] = Field(default_factory=lambda: {1: 0.15, 8: 0.35, 12: 0.3})
    terms_effect: float = -0.01  #: per day of terms beyond 30
    new_customer_effect: float = 0.4  #: added at tenure 0, decaying with a 6-month time constant
    never_given_late: dict[str, float] = Field(default_factory=lambda: _per_archetype(0.002, 0.005, 0.05, 0.15))
    #: days late of a late invoice under the mild track: median and log-scale sd per archetype
    late_days_median: dict[str, float] = Field(default_factory=lambda: _per_archetype(3.0, 5.0, 18.0, 30.0))
    late_days_sigma: dict[str, float] = Field(default_factory=lambda: _per_archetype(0.6, 0.6, 0.7, 0.9))
    #: on-time payments: fraction of the terms paid before the due date ~ Beta(a, b)
    early_beta: tuple[float, float] = (1.2, 3.0)

    # dunning response (log factor on days late, relative to the mild track)
    tone_effect: dict[str, dict[str, float]] = Field(
        default_factory=lambda: {
            "none": _per_archetype(0.25, 0.9, 0.15, 0.35),
            "mild": _per_archetype(0.0, 0.0, 0.0, 0.0),
            "strict": _per_archetype(-0.05, -0.15, 0.2, -0.45),
        }
    )
    channel_effect: dict[str, float] = Field(default_factory=lambda: {"email": 0.0, "sms": -0.1, "letter": 0.05})
    aligned_effect: float = -0.15  #: first reminder arrives on the customer's preferred payment weekday
    #: logged history: probability that an invoice's dunning track is strict (randomised)
    strict_share: float = Field(default=0.5, ge=0, le=1)
    first_channel_probs: dict[str, float] = Field(default_factory=lambda: {"email": 0.6, "sms": 0.25, "letter": 0.15})
    bad_email_share: float = Field(default=0.08, ge=0, le=1)
    bounce_prob: dict[str, float] = Field(
        default_factory=lambda: {"email_bad": 0.9, "email": 0.02, "sms": 0.03, "letter": 0.01}
    )
    #: dunning steps: (days after due, channel, tone) — tone "track" takes the invoice's track tone
    steps: tuple[tuple[int, str, str], ...] = (
        (1, "first", "track"),
        (14, "repeat", "track"),
        (28, "phone_or_letter", "track"),
        (45, "letter", "firm"),
        (75, "legal", "strict"),
    )
    legal_min_amount: float = 500.0
    #: probability that one delivered contact of the tone makes the customer stop buying
    loss_per_contact: dict[str, dict[str, float]] = Field(
        default_factory=lambda: {
            "mild": _per_archetype(0.0005, 0.0005, 0.0002, 0.0),
            "strict": _per_archetype(0.01, 0.006, 0.003, 0.0),
        }
    )

    # payment rhythm
    rhythm_shares: dict[str, float] = Field(default_factory=lambda: {"weekday": 0.55, "payrun": 0.25, "none": 0.2})
    weekday_probs: tuple[float, ...] = (0.15, 0.2, 0.2, 0.2, 0.25)  #: Monday .. Friday
    weekday_concentration_beta: tuple[float, float] = (4.0, 1.5)
    payrun_days: tuple[int, ...] = (1, 10, 15, 20, 25, 28)

    # disputes, partial payments, credit notes
    dispute_given_late: float = Field(default=0.06, ge=0, le=1)
    dispute_delay: float = 0.4  #: log factor on days late of a disputed invoice
    partial_given_late: dict[str, float] = Field(default_factory=lambda: _per_archetype(0.02, 0.05, 0.35, 0.2))
    credit_notes_per_invoice: float = Field(default=0.02, ge=0)

    # payment plans
    plans_per_year: dict[str, float] = Field(default_factory=lambda: _per_archetype(0.0, 0.05, 0.5, 0.35))
    plan_sizes: tuple[int, ...] = (3, 4, 6, 9, 12)
    plan_size_probs: tuple[float, ...] = (0.25, 0.2, 0.3, 0.15, 0.1)
    plan_kept_logit: dict[str, float] = Field(default_factory=lambda: _per_archetype(2.0, 1.5, 1.0, -0.6))
    plan_burden_effect: float = -0.8  #: per unit of instalment / usual monthly invoicing
    plan_size_effect: float = -0.06  #: per instalment
    plan_customer_effect: float = -0.6  #: times the hidden lateness effect of the customer
    plan_partial_on_break: float = Field(default=0.3, ge=0, le=1)

    #: the true response to collector actions (calls, SMS, letters) on overdue invoices
    collector: CollectorResponse = Field(default_factory=CollectorResponse)
    #: what a customer looks like at acceptance: attributes, a bureau's dated scores, granted limits
    profile: ProfileParams = Field(default_factory=ProfileParams)

    @classmethod
    def short_term(cls, **changes: Any) -> WorldParams:
        """The short-term world: a telco's or consumer lender's book rather than a wholesaler's.

        Monthly bills of small amounts on 14-day terms (a few on 30), most paid within days of issue, few days
        late when late; four in ten customers pay by direct debit (collected on the due date, failing with 15% of
        their chance of paying late otherwise); many customers who joined during the history (short histories:
        seven in ten), a fifth of the reliable and forgetful customers deteriorating, and few payment plans. The
        other knobs are the default world's; ``changes`` override any of them.

        Examples
        --------
        >>> p = WorldParams.short_term()
        >>> p.terms_days, p.invoices_per_month_median
        ((14, 30), 1.0)
        """
        preset: dict[str, Any] = {
            "archetype_shares": _per_archetype(0.5, 0.25, 0.15, 0.1),
            "deteriorating_share": 0.2,
            "invoices_per_month_median": 1.0,
            "invoices_per_month_sigma": 0.15,
            "amount_median": 80.0,
            "amount_sigma_between": 0.6,
            "amount_sigma_within": 0.25,
            "terms_days": (14, 30),
            "terms_probs": (0.85, 0.15),
            "other_terms_share": 0.05,
            "existing_customer_share": 0.3,
            "early_beta": (2.0, 1.0),
            "late_days_median": _per_archetype(2.0, 4.0, 12.0, 25.0),
            "plans_per_year": _per_archetype(0.0, 0.02, 0.2, 0.15),
            "legal_min_amount": 150.0,
            "direct_debit_share": 0.4,
        }
        return cls(**(preset | changes))

    @model_validator(mode="after")
    def _check(self) -> WorldParams:
        for name in ("archetype_shares", "rhythm_shares", "countries", "first_channel_probs"):
            d = getattr(self, name)
            if abs(sum(d.values()) - 1.0) > 1e-6:
                raise ValueError(f"{name} must sum to 1; got {sum(d.values())}")
        if set(self.archetype_shares) != set(ARCHETYPES):
            raise ValueError(f"archetype_shares must name exactly {ARCHETYPES}")
        if len(self.terms_days) != len(self.terms_probs) or abs(sum(self.terms_probs) - 1) > 1e-6:
            raise ValueError("terms_days and terms_probs must have equal length and terms_probs sum to 1")
        if len(self.plan_sizes) != len(self.plan_size_probs) or abs(sum(self.plan_size_probs) - 1) > 1e-6:
            raise ValueError("plan_sizes and plan_size_probs must have equal length and the probs sum to 1")
        w0, w1 = self.deterioration_window
        if not 0 <= w0 < w1 <= 1:
            raise ValueError(f"deterioration_window must be two fractions 0 <= start < end <= 1; got {(w0, w1)}")
        if any(not 1 <= d <= 28 for d in self.payrun_days):
            raise ValueError("payrun_days must lie in 1..28")
        return self
