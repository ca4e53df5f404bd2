"""The worklist, declared: the table :meth:`payrisk.RiskEngine.score` produces and the forecast, the dunning
planners, the report and the command read. One row per open invoice (index ``invoice_id``), in priority order."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from payrisk.errors import ParameterError
from payrisk.schema._spec import ColumnKind, ColumnSpec, TableSpec

__all__ = ["WORKLIST", "check_worklist"]

K = ColumnKind


def _c(name: str, kind: ColumnKind, desc: str, nullable: bool = False) -> ColumnSpec:
    return ColumnSpec(name=name, kind=kind, required=True, nullable=nullable, description=desc)


#: the worklist's columns in their order, with their kind and meaning
WORKLIST = TableSpec(
    name="worklist",
    key=("invoice_id",),
    description="One row per open invoice at the end of the as-of date, in priority order (index invoice_id).",
    columns=(
        _c("customer_id", K.ID, "The customer who owes the invoice."),
        _c("currency", K.TEXT, "The invoice's currency (amounts are never summed across currencies)."),
        _c("open_amount", K.MONEY, "What is still open on the invoice."),
        _c("due_date", K.DATE, "When it is (or was) due."),
        _c("days_overdue", K.INT, "Days past the due date at the end of the as-of date (0 when not yet due)."),
        _c("p_late", K.NUMBER, "P(paid after the due date); 1 for an invoice already overdue."),
        _c("pay_p10", K.DATE, "The date by which it is paid with 10% probability."),
        _c("pay_p50", K.DATE, "The median payment date."),
        _c("pay_p90", K.DATE, "The date by which it is paid with 90% probability."),
        _c("p_paid_30d", K.NUMBER, "P(paid within 30 days of the as-of date)."),
        _c("p_paid_60d", K.NUMBER, "P(paid within 60 days)."),
        _c("p_paid_90d", K.NUMBER, "P(paid within 90 days)."),
        _c("p_unpaid_horizon", K.NUMBER, "P(still unpaid at the engine's horizon, 90 days by default)."),
        _c("expected_wait_days", K.NUMBER, "Expected days until paid, within the horizon."),
        _c("segment", K.TEXT, "The customer's payer segment (reliable, forgetful, struggling, chronic, new)."),
        _c("segment_why", K.TEXT, "Why the customer is in that segment, in plain words."),
        _c(
            "p_problem_90d",
            K.NUMBER,
            "The customer's early warning: P(an invoice 30 days overdue, a missed plan instalment or a hand-over "
            "within 90 days); empty when the engine has none (too few problems in its history).",
            nullable=True,
        ),
        _c("alert", K.BOOL, "The customer is not a problem yet, but its p_problem_90d reached the alert level."),
        _c(
            "credit_limit",
            K.MONEY,
            "The customer's credit limit in force (the latest credit_limits row); empty when none was set.",
            nullable=True,
        ),
        _c(
            "limit_utilisation",
            K.NUMBER,
            "The customer's open invoices (in the limit's currency) over its credit limit: above 1 = over the limit; "
            "empty without a positive limit.",
            nullable=True,
        ),
        _c(
            "expected_loss",
            K.MONEY,
            "Open amount x P(unpaid at the horizon) x loss given non-payment, plus the cost of waiting.",
        ),
        _c("priority_rank", K.INT, "1 = act first (by expected loss)."),
        _c("red", K.NUMBER, "The shade of red: 1 - the item's share of the worklist by rank (1 = first in line)."),
        _c("band", K.TEXT, "Band by share of the worklist: critical (first 5%), high (to 20%), medium (to 50%), low."),
        _c("reasons", K.TEXT, "Why, for a collector (empty beyond reasons_top_n)."),
        _c("customer_reasons", K.TEXT, "Why, in words fit for the customer (empty beyond reasons_top_n)."),
    ),
)

_NUMERIC = {K.MONEY, K.NUMBER, K.INT}


def check_worklist(scores: pd.DataFrame, columns: Iterable[str], who: str) -> None:
    """Refuse a worklist that lacks ``columns`` or holds them in the wrong kind, naming ``who`` needs them.

    Examples
    --------
    >>> check_worklist(pd.DataFrame({"customer_id": ["c1"]}), ["customer_id", "open_amount"], "plan_actions")
    Traceback (most recent call last):
    ...
    payrisk.errors.ParameterError: plan_actions: the worklist lacks the columns ['open_amount']; pass the DataFrame RiskEngine.score returns (its columns: payrisk.schema.WORKLIST).
    """  # noqa: E501
    wanted = list(columns)
    missing = [c for c in wanted if c not in scores.columns]
    if missing:
        raise ParameterError(
            f"{who}: the worklist lacks the columns {missing}; pass the DataFrame RiskEngine.score returns (its "
            "columns: payrisk.schema.WORKLIST)."
        )
    for name in wanted:
        kind = WORKLIST.column(name).kind if name in WORKLIST.column_names else None
        col = scores[name]
        if kind == K.DATE and not pd.api.types.is_datetime64_any_dtype(col):
            raise ParameterError(
                f"{who}: the worklist's column {name!r} holds {col.dtype} values, not dates; read a saved worklist "
                f"with pd.read_csv(..., parse_dates={[c for c in wanted if c in _dates()]!r})."
            )
        if kind in _NUMERIC and not pd.api.types.is_numeric_dtype(col):
            raise ParameterError(f"{who}: the worklist's column {name!r} holds {col.dtype} values, not numbers.")


def _dates() -> list[str]:
    return [c.name for c in WORKLIST.columns if c.kind == K.DATE]
