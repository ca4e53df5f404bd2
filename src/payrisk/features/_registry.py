"""The feature registry: every feature's name, entity, exact definition, unit and reason-code phrases."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

__all__ = ["FEATURES", "Feature", "feature_names", "registry_frame", "registry_markdown"]

WINDOWS: tuple[int, ...] = (90, 180, 365)  #: history windows in days (about 3, 6 and 12 months)
EWM_HALFLIFE_DAYS = 90
RESPONSE_DAYS = 7  #: a reminder counts as answered when its invoice gets a payment within this many days
MISSED_GRACE_DAYS = 30  #: an instalment is missed when not paid in full this many days after its due date
REMINDER_CHANNELS: tuple[str, ...] = ("email", "sms", "letter", "phone")


@dataclass(frozen=True)
class Feature:
    """One feature: what it is, exactly, and how to say it to a collector.

    ``risk`` is +1 when a higher value means more risk of paying late, -1 when less, 0 when it depends;
    it feeds monotone constraints and the direction of reason codes. ``high`` and ``low`` are the reason-code
    phrases (``{value}`` is the formatted value) used when the feature pushes the score up or down.

    Examples
    --------
    >>> f = next(f for f in FEATURES if f.name == "share_late")
    >>> f.entity, f.risk
    ('customer', 1)
    >>> f.high.format(value=0.4)  # the phrase for a collector, with the row's own value
    'paid 40% of its invoices late'
    """

    name: str
    entity: str
    description: str
    unit: str
    high: str
    low: str
    risk: int = 0


def _f(name: str, entity: str, description: str, unit: str, high: str, low: str, risk: int = 0) -> Feature:
    return Feature(name, entity, description, unit, high, low, risk)


_INVOICE = [
    _f("amount", "invoice", "Invoice amount.", "currency", "a large invoice ({value})", "a small invoice ({value})"),
    _f(
        "terms_days",
        "invoice",
        "Payment terms: due date minus issue date.",
        "days",
        "long payment terms ({value} days)",
        "short payment terms ({value} days)",
    ),
    _f(
        "days_to_due",
        "invoice",
        "Due date minus the cutoff day (negative once overdue).",
        "days",
        "due in {value} days",
        "close to or past its due date",
    ),
    _f(
        "days_open",
        "invoice",
        "The cutoff day minus the issue date: the invoice's age (0 on its issue day).",
        "days",
        "issued {value} days ago",
        "issued recently",
    ),
    _f(
        "days_overdue",
        "invoice",
        "Days past the due date at the cutoff, 0 before it.",
        "days",
        "{value} days overdue",
        "not overdue yet",
        1,
    ),
    _f(
        "amount_vs_usual",
        "invoice",
        "Amount divided by the geometric mean amount of the customer's other invoices issued on or before the "
        "cutoff; empty without such invoices.",
        "ratio",
        "{value}x the customer's usual invoice",
        "smaller than the customer's usual invoice",
        1,
    ),
    _f(
        "paid_share",
        "invoice",
        "Share of the invoice paid by payments dated on or before the cutoff.",
        "share",
        "{value:.0%} already paid",
        "nothing paid yet",
        -1,
    ),
    _f(
        "n_reminders",
        "invoice",
        "Contacts about this invoice sent on or before the cutoff day.",
        "count",
        "{value} reminders sent already",
        "no reminder sent yet",
        1,
    ),
    _f(
        "disputed",
        "invoice",
        "1 when the invoice is disputed at the cutoff: its dispute is dated on or before the cutoff, or it carries "
        "an undated dispute flag and was issued on or before the cutoff.",
        "flag",
        "the invoice is disputed",
        "no dispute",
        1,
    ),
    _f(
        "issue_month",
        "invoice",
        "Calendar month of the issue date (1-12).",
        "month",
        "issued in month {value}",
        "issued in month {value}",
    ),
]

_CUSTOMER = [
    _f(
        "tenure_days",
        "customer",
        "Cutoff minus the customer's first known day: the earlier of the customer's created date (when on or "
        "before the cutoff) and the first issue date of its other invoices issued on or before the cutoff.",
        "days",
        "a customer for {value} days",
        "a new customer",
        -1,
    ),
    _f(
        "n_invoices",
        "customer",
        "Other invoices of the customer issued on or before the cutoff.",
        "count",
        "{value} earlier invoices",
        "little history ({value} invoices)",
    ),
    _f(
        "days_since_last_invoice",
        "customer",
        "Cutoff minus the latest issue date of those invoices.",
        "days",
        "no invoice for {value} days",
        "invoices regularly",
    ),
    _f(
        "n_settled",
        "customer",
        "Other invoices settled (paid in full) on or before the cutoff.",
        "count",
        "{value} invoices settled",
        "few invoices settled ({value})",
    ),
    _f(
        "share_late",
        "customer",
        "Share of the settled invoices paid after their due date; empty when none is settled.",
        "share",
        "paid {value:.0%} of its invoices late",
        "almost always paid on time",
        1,
    ),
    _f(
        "days_late_mean",
        "customer",
        "Mean days late (paid date minus due date, negative = early) of the settled invoices.",
        "days",
        "pays {value:.0f} days late on average",
        "pays on time on average",
        1,
    ),
]
for _w in WINDOWS:
    _CUSTOMER += [
        _f(
            f"days_late_mean_{_w}d",
            "customer",
            f"Mean days late of the other invoices settled in the {_w} days up to the cutoff "
            f"(paid date in (cutoff - {_w}, cutoff]).",
            "days",
            f"paid {{value:.0f}} days late on average in the last {_w} days",
            f"paid on time in the last {_w} days",
            1,
        ),
        _f(
            f"days_late_median_{_w}d",
            "customer",
            f"Median days late of the invoices settled in those {_w} days.",
            "days",
            f"typically {{value:.0f}} days late in the last {_w} days",
            f"typically on time in the last {_w} days",
            1,
        ),
        _f(
            f"days_late_max_{_w}d",
            "customer",
            f"Largest days late of the invoices settled in those {_w} days.",
            "days",
            f"paid one invoice {{value:.0f}} days late in the last {_w} days",
            f"no invoice paid late in the last {_w} days",
            1,
        ),
        _f(
            f"share_late_{_w}d",
            "customer",
            f"Share of the invoices settled in those {_w} days paid late.",
            "share",
            f"paid {{value:.0%}} late in the last {_w} days",
            f"paid on time in the last {_w} days",
            1,
        ),
        _f(
            f"n_settled_{_w}d",
            "customer",
            f"Invoices settled in those {_w} days.",
            "count",
            f"{{value}} invoices settled in the last {_w} days",
            f"few invoices settled in the last {_w} days",
        ),
    ]
_CUSTOMER += [
    _f(
        "days_late_ewm",
        "customer",
        f"Mean days late of the settled invoices weighted by 0.5 ** ((cutoff - paid date) / {EWM_HALFLIFE_DAYS}).",
        "days",
        "recently {value:.0f} days late on average",
        "recently on time",
        1,
    ),
    _f(
        "lateness_trend",
        "customer",
        "days_late_mean_90d minus days_late_mean: positive = getting later.",
        "days",
        "paying {value:.0f} days later than it used to",
        "paying earlier than it used to",
        1,
    ),
    _f(
        "open_amount",
        "customer",
        "Open amount of the customer's other invoices at the cutoff (amount minus payments dated on or before "
        "it, for invoices issued on or before it and not settled by it).",
        "currency",
        "{value:,.0f} open on other invoices",
        "nothing else open",
        1,
    ),
    _f(
        "n_open",
        "customer",
        "Number of those open invoices.",
        "count",
        "{value} other invoices open",
        "no other invoice open",
        1,
    ),
    _f(
        "n_overdue",
        "customer",
        "Those open invoices whose due date is before the cutoff.",
        "count",
        "{value} other invoices overdue",
        "nothing else overdue",
        1,
    ),
    _f(
        "overdue_amount",
        "customer",
        "Open amount of those overdue invoices.",
        "currency",
        "{value:,.0f} overdue on other invoices",
        "nothing else overdue",
        1,
    ),
    _f(
        "max_days_overdue",
        "customer",
        "Days the oldest overdue open invoice is past its due date (a lower bound on its lateness).",
        "days",
        "an invoice {value:.0f} days overdue",
        "nothing overdue",
        1,
    ),
    _f(
        "n_late_due_90d",
        "customer",
        "Other invoices that fell due in the 90 days up to the cutoff (due date in [cutoff - 90, cutoff - 1]) and "
        "were not paid by it: paid late, or still open. Unlike share_late_90d it does not wait for them to be paid.",
        "count",
        "{value} invoices not paid by their due date in the last 90 days",
        "every invoice due in the last 90 days paid by its due date",
        1,
    ),
    _f(
        "share_late_due_90d",
        "customer",
        "Share of the other invoices that fell due in those 90 days not paid by their due date.",
        "share",
        "{value:.0%} of the invoices due in the last 90 days not paid by their due date",
        "paid by the due date in the last 90 days",
        1,
    ),
    _f(
        "days_since_last_payment",
        "customer",
        "Cutoff minus the latest payment date of the customer (unallocated or on other invoices).",
        "days",
        "no payment for {value:.0f} days",
        "paid recently",
        1,
    ),
    _f(
        "share_partial_payments",
        "customer",
        "Share of the customer's payments on other invoices, dated on or before the cutoff, after which the "
        "invoice stayed open (a partial payment).",
        "share",
        "pays in parts ({value:.0%} of payments)",
        "pays invoices in full",
        1,
    ),
    _f(
        "share_disputed",
        "customer",
        "Share of the other invoices issued on or before the cutoff disputed at it.",
        "share",
        "disputes {value:.0%} of invoices",
        "rarely disputes",
        1,
    ),
    _f(
        "n_credit_notes_365d",
        "customer",
        "Credit notes issued in the 365 days up to the cutoff.",
        "count",
        "{value} credit notes in the last year",
        "no credit notes",
    ),
    _f(
        "pay_weekday",
        "customer",
        "Most frequent weekday (0 = Monday) of the customer's payments (unallocated or on other invoices) dated "
        "on or before the cutoff; ties go to the earlier weekday.",
        "weekday",
        "pays on weekday {value}",
        "pays on weekday {value}",
    ),
    _f(
        "pay_weekday_share",
        "customer",
        "Share of those payments made on pay_weekday.",
        "share",
        "pays on a fixed weekday ({value:.0%})",
        "no fixed payment weekday",
    ),
    _f(
        "pay_day_of_month",
        "customer",
        "Most frequent day of month of those payments; ties go to the earlier day.",
        "day",
        "pays around day {value} of the month",
        "pays around day {value} of the month",
    ),
    _f(
        "pay_day_of_month_share",
        "customer",
        "Share of those payments made on pay_day_of_month.",
        "share",
        "pays on a fixed pay-run day ({value:.0%})",
        "no fixed pay-run day",
    ),
    _f(
        "days_to_pay_weekday",
        "customer",
        "Days from the cutoff to the next pay_weekday (0 when the cutoff falls on it): where the customer's usual "
        "payment day lies in the weeks ahead.",
        "days",
        "its usual payment weekday is {value} days away",
        "its usual payment weekday is close",
    ),
    _f(
        "days_to_pay_day",
        "customer",
        "Days from the cutoff to the next pay_day_of_month (0 on it; a day past the month's end is its last "
        "day): where the customer's pay run lies in the weeks ahead.",
        "days",
        "its next pay run is {value} days away",
        "its pay run is close",
    ),
    _f(
        "n_reminders_365d",
        "customer",
        "Contacts with the customer (customer level or about other invoices) sent in the 365 days up to the "
        "cutoff day.",
        "count",
        "{value} reminders in the last year",
        "hardly needed reminders",
        1,
    ),
    _f(
        "reminder_response_7d",
        "customer",
        f"Share of the contacts about other invoices sent at least {RESPONSE_DAYS} days before the cutoff that were "
        f"followed by a payment on that invoice within {RESPONSE_DAYS} days (sent day to sent day + "
        f"{RESPONSE_DAYS}).",
        "share",
        "pays soon after a reminder ({value:.0%})",
        "ignores reminders",
        -1,
    ),
]
for _ch in REMINDER_CHANNELS:
    _CUSTOMER.append(
        _f(
            f"reminder_response_7d_{_ch}",
            "customer",
            f"reminder_response_7d for contacts by {_ch} only.",
            "share",
            f"answers {_ch} reminders ({{value:.0%}})",
            f"ignores {_ch} reminders",
            -1,
        )
    )
_CUSTOMER += [
    _f(
        "days_reminder_to_settlement_median",
        "customer",
        "Median, over other invoices settled on or before the cutoff with a contact sent on or before their paid "
        "date, of the paid date minus the last such contact date.",
        "days",
        "pays {value:.0f} days after the last reminder",
        "pays right after a reminder",
        1,
    ),
    _f(
        "n_plans",
        "customer",
        "Payment plans created on or before the cutoff.",
        "count",
        "{value} payment plans so far",
        "never needed a payment plan",
        1,
    ),
    _f(
        "n_installments_missed",
        "customer",
        f"Instalments of those plans due at least {MISSED_GRACE_DAYS} days before the cutoff and not paid in full "
        f"within {MISSED_GRACE_DAYS} days of their due date.",
        "count",
        "missed {value} plan instalments",
        "kept its plan instalments",
        1,
    ),
]

_PLAN = [
    _f(
        "n_installments",
        "plan",
        "Instalments in the plan's schedule.",
        "count",
        "a long plan ({value} instalments)",
        "a short plan ({value} instalments)",
    ),
    _f(
        "installment_amount",
        "plan",
        "Mean amount due per instalment.",
        "currency",
        "instalments of {value:,.0f}",
        "instalments of {value:,.0f}",
    ),
    _f(
        "plan_burden",
        "plan",
        "installment_amount divided by the customer's mean monthly invoiced amount (invoices issued in the 365 "
        "days up to the cutoff, divided by the months of invoicing seen: 12, or fewer for a customer whose first "
        "invoice is younger than a year, at least 1); empty when that is 0.",
        "ratio",
        "instalments of {value:.1f}x its monthly invoicing",
        "affordable instalments",
        1,
    ),
    _f(
        "installments_due",
        "plan",
        "Instalments due on or before the cutoff.",
        "count",
        "{value} instalments due",
        "no instalment due yet",
    ),
    _f(
        "installments_paid_on_time",
        "plan",
        "Instalments paid in full on or before their due date, by the cutoff.",
        "count",
        "{value} instalments paid on time",
        "no instalment paid on time yet",
        -1,
    ),
    _f(
        "installments_missed",
        "plan",
        f"Instalments due at least {MISSED_GRACE_DAYS} days before the cutoff and not paid in full within "
        f"{MISSED_GRACE_DAYS} days of their due date.",
        "count",
        "missed {value} instalments",
        "missed none",
        1,
    ),
    _f(
        "last_installment_days_late",
        "plan",
        "For the latest instalment due on or before the cutoff: paid date minus due date when paid by the cutoff, "
        "else cutoff minus due date (a lower bound).",
        "days",
        "last instalment {value:.0f} days late",
        "last instalment on time",
        1,
    ),
    _f(
        "paid_vs_due",
        "plan",
        "Amount paid by the cutoff on instalments due on or before it, divided by their amount due.",
        "share",
        "paid {value:.0%} of what was due",
        "paid what was due",
        -1,
    ),
    _f(
        "prior_plans",
        "plan",
        "The customer's other plans created on or before the cutoff.",
        "count",
        "{value} earlier plans",
        "first plan",
    ),
    _f(
        "prior_plans_missed",
        "plan",
        "Those other plans with at least one missed instalment (as defined for installments_missed).",
        "count",
        "broke {value} earlier plans",
        "kept its earlier plans",
        1,
    ),
]


def _insert_after(features: list[Feature], after: str, new: Feature) -> None:
    features.insert([f.name for f in features].index(after) + 1, new)


_insert_after(
    _CUSTOMER,
    "days_late_mean",
    _f(
        "days_late_max",
        "customer",
        "Largest days late of the settled invoices.",
        "days",
        "once paid {value:.0f} days late",
        "never paid late",
        1,
    ),
)
_insert_after(
    _CUSTOMER,
    "days_since_last_payment",
    _f(
        "n_payments",
        "customer",
        "Payments of the customer (unallocated or on other invoices) dated on or before the cutoff.",
        "count",
        "{value} payments so far",
        "few payments so far ({value})",
    ),
)

#: what is known of a customer beside its payment history (:func:`payrisk.features.customer_profile`); the ``*_risk``
#: features are its categories as the acceptance model encodes them (the problem rate of customers sharing them)
_PROFILE = [
    _f("company_age_years", "profile", "Years since the business was founded (`customers.founded_date`).", "years",
       "an established business ({value:.0f} years)", "a young business ({value:.1f} years)", -1),
    _f("days_since_accepted", "profile", "Days since the customer was accepted (`customers.created_date`).", "days",
       "a customer for {value:.0f} days", "a new customer ({value:.0f} days)", -1),
    _f("requested_limit", "profile", "Credit limit the customer asked for at acceptance.", "currency",
       "a large requested limit ({value})", "a small requested limit ({value})"),
    _f("score", "profile", "The latest external score published on or before the cutoff (the main source).",
       "score", "a good external score ({value:.0f})", "a weak external score ({value:.0f})", -1),
    _f("score_age_days", "profile", "Days since that score was published.", "days",
       "an old external score ({value:.0f} days)", "a recent external score ({value:.0f} days)"),
    _f("score_change_365d", "profile", "That score minus the one current a year before.", "points",
       "an external score up {value:.0f} points in a year", "an external score down {value:.0f} points in a year",
       -1),
    _f("credit_limit", "profile", "The latest credit limit granted on or before the cutoff.", "currency",
       "a large credit limit ({value})", "a small credit limit ({value})"),
    _f("legal_form_risk", "profile", "Problem rate of earlier customers of the same legal form (smoothed).",
       "share", "a legal form whose customers often ran into problems ({value:.0%})",
       "a legal form whose customers rarely ran into problems ({value:.0%})", 1),
    _f("size_band_risk", "profile", "Problem rate of earlier customers of the same size band (smoothed).",
       "share", "a size band whose customers often ran into problems ({value:.0%})",
       "a size band whose customers rarely ran into problems ({value:.0%})", 1),
    _f("acquisition_channel_risk", "profile", "Problem rate of earlier customers who came the same way (smoothed).",
       "share", "came through a channel whose customers often ran into problems ({value:.0%})",
       "came through a channel whose customers rarely ran into problems ({value:.0%})", 1),
    _f("sector_risk", "profile", "Problem rate of earlier customers of the same sector (smoothed).",
       "share", "a sector whose customers often ran into problems ({value:.0%})",
       "a sector whose customers rarely ran into problems ({value:.0%})", 1),
    _f("country_risk", "profile", "Problem rate of earlier customers of the same country (smoothed).",
       "share", "a country whose customers often ran into problems ({value:.0%})",
       "a country whose customers rarely ran into problems ({value:.0%})", 1),
    _f("rating_risk", "profile", "Problem rate of earlier customers with the same latest rating class (smoothed).",
       "share", "a rating class whose customers often ran into problems ({value:.0%})",
       "a rating class whose customers rarely ran into problems ({value:.0%})", 1),
]  # fmt: skip

FEATURES: tuple[Feature, ...] = tuple(_INVOICE + _CUSTOMER + _PLAN + _PROFILE)


def feature_names(entity: str | None = None) -> list[str]:
    """Names of the features of one entity (``invoice``, ``customer``, ``plan``), or of all.

    Examples
    --------
    >>> feature_names("invoice")[:3]
    ['amount', 'terms_days', 'days_to_due']
    >>> "share_late" in feature_names("customer"), len(feature_names()) == len(FEATURES)
    (True, True)
    """
    return [f.name for f in FEATURES if entity is None or f.entity == entity]


def registry_frame() -> pd.DataFrame:
    """The registry as a DataFrame indexed by feature name."""
    rows = [
        {
            "name": f.name,
            "entity": f.entity,
            "description": f.description,
            "unit": f.unit,
            "risk": f.risk,
            "reason_high": f.high,
            "reason_low": f.low,
        }
        for f in FEATURES
    ]
    return pd.DataFrame(rows).set_index("name")


def registry_markdown() -> str:
    """The registry as a markdown table (the features page of the docs embeds exactly this).

    Examples
    --------
    >>> registry_markdown().splitlines()[0]
    '| feature | entity | unit | definition | reason (higher) | reason (lower) |'
    """
    lines = [
        "| feature | entity | unit | definition | reason (higher) | reason (lower) |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for f in FEATURES:
        lines.append(f"| `{f.name}` | {f.entity} | {f.unit} | {f.description} | {f.high} | {f.low} |")
    return "\n".join(lines) + "\n"
