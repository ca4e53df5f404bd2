"""Point-in-time profile of a customer: what a credit manager knows before (and beside) its payment history, its
attributes and the latest rating and limit published by the cutoff day."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from payrisk.errors import ParameterError
from payrisk.ledger import Ledger, to_date

__all__ = ["PROFILE_CATEGORIES", "PROFILE_NUMBERS", "customer_profile"]

#: numeric profile features (in the feature registry, entity ``profile``)
PROFILE_NUMBERS: tuple[str, ...] = (
    "company_age_years", "days_since_accepted", "requested_limit", "score", "score_age_days", "score_change_365d",
    "credit_limit",
)  # fmt: skip
#: the customer's categories, as text (a model encodes them: :class:`payrisk.acceptance.AcceptanceModel`)
PROFILE_CATEGORIES: tuple[str, ...] = ("legal_form", "size_band", "acquisition_channel", "sector", "country", "rating")
_YEAR = 365.25


def _cutoffs(ledger: Ledger, as_of: Any) -> pd.DataFrame:
    if isinstance(as_of, pd.DataFrame):
        missing = {"customer_id", "as_of"} - set(as_of.columns)
        if missing:
            raise ParameterError(
                f"customer_profile: the cutoffs lack {sorted(missing)}; give one row per question with "
                "customer_id and as_of (the end of the day the customer is looked at)."
            )
        when = pd.to_datetime(as_of["as_of"]).dt.normalize().astype("datetime64[ns]")  # the ledger's resolution
        out = pd.DataFrame({"customer_id": as_of["customer_id"].astype("str").to_numpy(), "as_of": when.to_numpy()})
        if out["as_of"].isna().any():
            raise ParameterError(f"customer_profile: {int(out['as_of'].isna().sum())} cutoffs have no as_of date.")
        return out
    day = to_date(as_of, "as_of")
    ids = ledger.as_of(day).customers["customer_id"].to_numpy()
    return pd.DataFrame({"customer_id": ids, "as_of": day}).astype({"customer_id": "str"})


def _latest(rows: pd.DataFrame, dated: pd.DataFrame, value: str, when: pd.Series) -> pd.DataFrame:
    """Per row, the ``value`` (and its ``valid_from``) of the latest ``dated`` row of its customer published on or
    before ``when``: a rating published later does not exist yet."""
    left = pd.DataFrame({"customer_id": rows["customer_id"].to_numpy(), "when": when.to_numpy(), "row": rows.index})
    left = left.sort_values("when", kind="stable")
    right = dated[["customer_id", "valid_from", value]].dropna(subset=["valid_from"]).sort_values("valid_from")
    merged = pd.merge_asof(
        left, right, left_on="when", right_on="valid_from", by="customer_id", direction="backward"
    )  # one row per left row
    return merged.set_index("row").reindex(rows.index)[["valid_from", value]]


def customer_profile(ledger: Ledger, as_of: Any, source: str | None = None) -> pd.DataFrame:
    """The customer's profile at the end of each cutoff day: its attributes and the latest rating and credit limit
    published by then.

    Parameters
    ----------
    ledger : Ledger
    as_of : date or DataFrame(customer_id, as_of)
        A date (every customer known at it) or one row per (customer, cutoff day), e.g. a prospect's acceptance.
    source : str, optional
        Whose ratings to read (``ratings.source``); default the source with the most ratings in the ledger.

    Returns
    -------
    DataFrame
        In the order of the cutoffs, index ``customer_id``; ``as_of``, the numbers :data:`PROFILE_NUMBERS`
        (float64; NaN where unknown): ``company_age_years`` (since ``founded_date``), ``days_since_accepted``
        (since ``created_date``; negative for a prospect looked at before it is accepted), ``requested_limit``,
        ``score`` (the latest score of ``source`` published on or before the day), ``score_age_days``,
        ``score_change_365d`` (that score minus the one current a year before), ``credit_limit`` (the latest
        granted); and the categories
        :data:`PROFILE_CATEGORIES` as text (``sector`` cut to the NACE division or SIC major group, the first two
        digits, when it is a code; ``rating`` the latest class of ``source``).

    Examples
    --------
    >>> import payrisk as pr
    >>> ledger = pr.datasets.make_ledger(n_customers=40, seed=0)
    >>> P = customer_profile(ledger, "2024-06-30")
    >>> bool((P["score_age_days"].dropna() >= 0).all()), bool(P["legal_form"].notna().all())
    (True, True)
    """
    rows = _cutoffs(ledger, as_of)
    cust = ledger.customers.drop_duplicates("customer_id").set_index("customer_id")
    at = cust.reindex(rows["customer_id"])
    day = rows["as_of"]
    out = pd.DataFrame(index=rows.index)
    out["as_of"] = day.to_numpy()
    out["company_age_years"] = ((day.to_numpy() - at["founded_date"].to_numpy()) / np.timedelta64(1, "D")) / _YEAR
    out["days_since_accepted"] = (day.to_numpy() - at["created_date"].to_numpy()) / np.timedelta64(1, "D")
    out["requested_limit"] = at["requested_limit"].to_numpy(dtype=np.float64)
    ratings = ledger.ratings
    if source is None and len(ratings):
        source = str(ratings["source"].value_counts().index[0])
    mine = ratings.loc[ratings["source"] == source] if source is not None else ratings.iloc[:0]
    now = _latest(rows, mine, "score", day)
    out["score"] = now["score"].to_numpy(dtype=np.float64)
    out["score_age_days"] = (day.to_numpy() - now["valid_from"].to_numpy()) / np.timedelta64(1, "D")
    before = _latest(rows, mine, "score", day - pd.Timedelta(days=365))
    out["score_change_365d"] = out["score"].to_numpy() - before["score"].to_numpy(dtype=np.float64)
    limit = _latest(rows, ledger.credit_limits, "credit_limit", day)
    out["credit_limit"] = limit["credit_limit"].to_numpy(dtype=np.float64)
    for c in ("legal_form", "size_band", "acquisition_channel", "country"):
        out[c] = at[c].to_numpy() if c in at.columns else None
    sector = at["sector"].astype("str") if "sector" in at.columns else pd.Series(None, index=at.index, dtype="str")
    code = sector.str.extract(r"^\s*(\d{2})", expand=False)
    out["sector"] = code.where(code.notna(), sector).to_numpy()
    out["rating"] = _latest(rows, mine.dropna(subset=["rating"]), "rating", day)["rating"].to_numpy()
    for c in PROFILE_CATEGORIES:
        out[c] = out[c].astype("str")
    out.index = pd.Index(rows["customer_id"].to_numpy(), name="customer_id", dtype="str")
    return out
