"""Parameters of the synthetic payment world (a pydantic model, so a world is described by data)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

ARCHETYPES: tuple[str, ...] = ("reliable", "forgetful", "struggling", "chronic")
TRACK_TONES: tuple[str, ...] = ("none", "mild", "strict")


def _per_archetype(reliable: float, forgetful: float, struggling: float, chronic: float) -> dict[str, float]:
    return {"reliable": reliable, "forgetful": forgetful, "struggling": struggling, "chronic": chronic}


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
