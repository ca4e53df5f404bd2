"""The dunning policy: per segment a track of steps, timing rules, plan offers and contact guards (pydantic)."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from payrisk.errors import PolicyError

__all__ = ["Guards", "PlanOffers", "Policy", "Step", "Timing", "Track"]

Channel = Literal["email", "sms", "letter", "phone", "legal"]
Tone = Literal["mild", "neutral", "firm", "strict"]
SEGMENTS = ("reliable", "forgetful", "struggling", "chronic", "new")
DEFAULT_FILE = Path(__file__).with_name("default_policy.yaml")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Step(_Strict):
    """One dunning step: when it fires, on which channel, in which tone, with which template, by whom.

    A step fires on an open invoice once ``days_after_due`` days have passed since its due date (negative:
    before it), and, when ``p_late_above`` is set, only while the invoice's P(late) is above it. A step with only
    ``p_late_above`` fires before the due date on the risky invoices (a pre-due nudge).

    Examples
    --------
    >>> step = Step(name="reminder", days_after_due=3, channel="email", tone="mild", template="reminder_1")
    >>> step.actor, step.offer
    ('automatic', 'none')
    >>> Step(name="nudge", p_late_above=0.7, channel="sms", tone="neutral", template="pre_due").days_after_due is None
    True
    """

    name: str = Field(min_length=1)
    days_after_due: int | None = Field(default=None, ge=-60, le=365)
    p_late_above: float | None = Field(default=None, ge=0.0, le=1.0)
    channel: Channel
    tone: Tone
    template: str = Field(min_length=1)
    actor: Literal["automatic", "collector"] = "automatic"
    formal_notice: bool = False
    offer: Literal["none", "plan", "deferral", "direct_debit"] = "none"

    @model_validator(mode="after")
    def _has_a_trigger(self) -> Step:
        if self.days_after_due is None and self.p_late_above is None:
            raise ValueError("a step needs a trigger: days_after_due, p_late_above or both")
        return self


class Track(_Strict):
    """The ordered steps of one segment; ``days_after_due`` never goes back from one step to the next.

    Examples
    --------
    >>> first = Step(name="reminder", days_after_due=3, channel="email", tone="mild", template="r1")
    >>> call = Step(name="call", days_after_due=14, channel="phone", tone="firm", template="c1", actor="collector")
    >>> [s.name for s in Track(steps=[first, call]).steps]
    ['reminder', 'call']
    >>> try:
    ...     Track(steps=[call, first])  # out of order
    ... except ValueError:
    ...     print("rejected")
    rejected
    """

    description: str = ""
    steps: list[Step] = Field(min_length=1)

    @field_validator("steps")
    @classmethod
    def _in_order(cls, steps: list[Step]) -> list[Step]:
        days = [s.days_after_due for s in steps if s.days_after_due is not None]
        if any(b < a for a, b in pairwise(days)):
            raise ValueError(f"steps must be in order of days_after_due; got {days}")
        names = [s.name for s in steps]
        if len(set(names)) != len(names):
            raise ValueError(f"step names must be unique within a track; got {names}")
        return steps


class Timing(_Strict):
    """When messages go out: allowed weekdays and hours, holidays, and the customer's own payment rhythm.

    Examples
    --------
    >>> Timing().weekdays, Timing().send_hour
    ([0, 1, 2, 3, 4], 9)
    >>> Timing(weekdays=[4, 0, 0]).weekdays  # sorted, without repeats
    [0, 4]
    """

    weekdays: list[int] = Field(default=[0, 1, 2, 3, 4], min_length=1)
    send_hour: int = Field(default=9, ge=0, le=23)
    last_hour: int = Field(default=17, ge=0, le=23)
    skip_holidays: bool = True
    default_country: str = Field(default="NL", min_length=2, max_length=2)
    follow_rhythm: bool = True
    max_wait_days: int = Field(default=6, ge=0, le=14)

    @field_validator("weekdays")
    @classmethod
    def _weekdays(cls, days: list[int]) -> list[int]:
        if any(not 0 <= d <= 6 for d in days):
            raise ValueError(f"weekdays are 0 (Monday) to 6 (Sunday); got {days}")
        return sorted(set(days))

    @model_validator(mode="after")
    def _hours(self) -> Timing:
        if self.last_hour < self.send_hour:
            raise ValueError(f"last_hour ({self.last_hour}) is before send_hour ({self.send_hour})")
        return self


class PlanOffers(_Strict):
    """Payment-plan offers, gated by the adherence model.

    Examples
    --------
    >>> offers = PlanOffers(min_p_kept=0.7, max_instalments=4)
    >>> offers.min_p_kept, offers.max_instalments, offers.offer_after_broken_plan
    (0.7, 4, False)
    """

    min_p_kept: float = Field(default=0.6, ge=0.0, le=1.0)
    max_instalments: int = Field(default=6, ge=2, le=36)
    max_share_of_monthly_payments: float = Field(default=1.0, gt=0.0)
    broken_plan_cooldown_days: int = Field(default=365, ge=0)
    offer_after_broken_plan: bool = False


class Guards(_Strict):
    """Contact-pressure and legal guards; each block names the rule that blocked.

    Examples
    --------
    >>> guards = Guards(max_contacts_per_week=1, legal_min_amount=1000.0)
    >>> guards.max_contacts_per_week, guards.max_per_channel_per_week["sms"], guards.bounce_fallback["email"]
    (1, 1, 'sms')
    """

    max_contacts_per_week: int = Field(default=2, ge=1)
    max_per_channel_per_week: dict[Channel, int] = Field(default={"sms": 1, "phone": 1, "letter": 1, "legal": 1})
    legal_min_amount: float = Field(default=500.0, ge=0.0)
    legal_needs_formal_notice: bool = True
    bounce_fallback: dict[Channel, Channel] = Field(default={"email": "sms", "sms": "letter", "phone": "letter"})
    #: a promise to pay on record (:meth:`payrisk.Ledger.promises`: its promised_date, or 14 days after it was made)
    #: pauses the track of its invoice, or of every invoice of its customer, until this many days after it falls due
    promise_grace_days: int = Field(default=3, ge=0)


class Policy(_Strict):
    """A dunning policy: one track per payer segment, timing, plan offers and guards.

    Load one with :meth:`from_file` (YAML or JSON): every mistake is reported with its file, line and field.

    Examples
    --------
    >>> from payrisk.dunning import Policy
    >>> policy = Policy.default()
    >>> sorted(policy.tracks) == sorted(["reliable", "forgetful", "struggling", "chronic", "new"])
    True
    >>> policy.tracks["chronic"].steps[-1].channel
    'legal'
    """

    name: str = Field(min_length=1)
    version: str = "1"
    description: str = ""
    tracks: dict[str, Track]
    timing: Timing = Timing()
    plan_offers: PlanOffers = PlanOffers()
    guards: Guards = Guards()

    @field_validator("tracks")
    @classmethod
    def _every_segment(cls, tracks: dict[str, Track]) -> dict[str, Track]:
        missing = [s for s in SEGMENTS if s not in tracks]
        if missing:
            raise ValueError(f"every segment needs a track; missing {missing} (segments: {list(SEGMENTS)})")
        return tracks

    @classmethod
    def default(cls) -> Policy:
        """The policy that ships with payrisk (``default_policy.yaml``), following the segments' treatments."""
        return cls.from_file(DEFAULT_FILE)

    @classmethod
    def from_file(cls, path: str | Path) -> Policy:
        """Read a policy from a YAML or JSON file; errors name the file, the line and the field."""
        from payrisk._text import read_text_file

        path = Path(path)
        return cls.from_text(read_text_file(path, "policy", PolicyError), source=str(path))

    @classmethod
    def from_text(cls, text: str, source: str = "<policy>") -> Policy:
        """Read a policy from YAML or JSON text (JSON is read as YAML, so both get line numbers)."""
        from payrisk.dunning._lines import load_with_lines

        data, line_of = load_with_lines(text, source)
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise PolicyError(_describe(exc, source, line_of)) from None

    @classmethod
    def one_size(cls, track: Track | dict[str, Any], name: str, base: Policy | None = None) -> Policy:
        """The same track for every segment (the "one size fits all" a segmented policy is compared with), with
        the timing, plan offers and guards of ``base`` (default: :meth:`default`).

        Examples
        --------
        >>> steps = [{"name": "reminder", "days_after_due": 1, "channel": "email", "tone": "strict", "template": "r1"}]
        >>> policy = Policy.one_size({"steps": steps}, "strict for all")
        >>> {t.steps[0].tone for t in policy.tracks.values()}
        {'strict'}
        """
        doc = (base or cls.default()).to_dict()
        track_doc = track.model_dump(mode="json") if isinstance(track, Track) else dict(track)
        doc.update(name=name, description=f"one track for every segment: {name}")
        doc["tracks"] = {segment: track_doc for segment in SEGMENTS}
        try:
            return cls.model_validate(doc)
        except ValidationError as exc:
            raise PolicyError(_describe(exc, f"one-size policy {name!r}", None)) from None

    def to_dict(self) -> dict[str, Any]:
        """The policy as plain data (``Policy.model_validate(p.to_dict()) == p``)."""
        return self.model_dump(mode="json")


def _describe(exc: ValidationError, source: str, line_of: Any) -> str:
    lines = [f"{source}: the policy has {exc.error_count()} error(s):"]
    for err in exc.errors():
        loc = tuple(err["loc"])
        where = ".".join(f"[{p}]" if isinstance(p, int) else str(p) for p in loc).replace(".[", "[") or "(top)"
        got = "" if err["type"] == "missing" else f" Got {err.get('input')!r}."
        at = f"line {line_of(loc)}, " if line_of is not None else ""
        lines.append(f"  {at}{where}: {err['msg']}.{got}")
    return "\n".join(lines)
