"""The validation engine: :func:`validate_tables` parses and checks the input tables (vectorised; one pass per
rule)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from payrisk._formats import infer_date_format, infer_separators, parse_dates, settle_date_formats
from payrisk._frame import isin, lookup
from payrisk.errors import ColumnMissingError, ParameterError
from payrisk.schema._spec import (
    CHANNELS,
    INPUT_TABLES,
    MALFORMED,
    REPORT_COLUMNS,
    RULES,
    TABLES,
    TONES,
    ColumnKind,
    ColumnMapping,
    ValidationReport,
    suggest_columns,
)

DATE_DTYPE: Final = "datetime64[ns]"
#: source columns consumed by validation, not kept: payment terms, their baseline date, a debit/credit indicator
_DERIVED = {"terms_days", "baseline_date", "debit_credit"}
_TINY = 1e-300  #: a non-zero amount below this is a broken value, not money
#: date columns that are events (a day something happened); other dates (due dates) may lie further ahead
_EVENTS = {"issue_date", "paid_date", "payment_date", "disputed_date", "created_date", "sent_at", "first_seen"}
_TRUE = {"true", "t", "yes", "y", "1", "1.0", "ja", "oui", "si"}
_FALSE = {"false", "f", "no", "n", "0", "0.0", "nee", "nein", "non"}
ORDER = INPUT_TABLES


def _text(s: pd.Series) -> pd.Series:
    """Values as stripped text; empty strings become missing."""
    if pd.api.types.is_float_dtype(s.dtype):
        v = s.to_numpy(dtype=float)
        integral = np.isfinite(v) & (np.floor(v) == v) & (np.abs(v) < 2**53)
        out = s.astype(object)
        out[integral] = v[integral].astype(np.int64).astype(str)
        s = out
    out = s.astype("str")
    if not pd.api.types.is_numeric_dtype(s.dtype):
        out = out.str.strip()
    return out.mask(out == "")


def _all_distinct(col: pd.Series) -> bool:
    """True when the non-missing values of ``col`` are all different (hash count in Arrow, no factorize)."""
    try:
        arr = pa.array(col.array)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
        return bool(col.dropna().is_unique)
    return pc.count_distinct(arr, mode="only_valid").as_py() == len(arr) - arr.null_count


class _Table:
    """One input table being checked: raw input, parsed canonical frame, rejection mask and issues."""

    def __init__(self, name: str, frame: pd.DataFrame, mapping: ColumnMapping) -> None:
        if not isinstance(frame, pd.DataFrame):
            raise ParameterError(f"{name}: expected a pandas DataFrame, got {type(frame).__name__}")
        self.name = name
        self.spec = TABLES[name]
        self.mapping = mapping
        self.raw = frame
        self.n = len(frame)
        user_map = mapping.columns.get(name, {})
        missing_src = [u for u in user_map if u not in frame.columns]
        if missing_src:
            raise ColumnMissingError(
                f"{name}: the mapping names columns {missing_src} that the table does not have. "
                f"Columns present: {[str(c) for c in frame.columns]}. Fix: correct the mapping for {name!r}."
            )
        self.malformed = (
            frame[MALFORMED].notna().to_numpy() if MALFORMED in frame.columns else np.zeros(len(frame), dtype=bool)
        )
        frame = frame.drop(columns=[MALFORMED], errors="ignore")
        renamed = frame.rename(columns=user_map).reset_index(drop=True)
        renamed.columns = [str(c) for c in renamed.columns]
        dup_cols = sorted({c for c in renamed.columns if list(renamed.columns).count(c) > 1})
        if dup_cols:
            raise ParameterError(f"{name}: after the mapping, columns {dup_cols} appear twice; map or drop one of them")
        self.src = renamed  # user values under canonical names (still unparsed)
        self.df = pd.DataFrame(index=pd.RangeIndex(self.n))
        self.bad = np.zeros(self.n, dtype=bool)
        #: columns whose bad values are left empty and flagged rather than rejecting the row (a customer's
        #: attributes: an odd founding date must not take the customer's invoices with it)
        self.soft: frozenset[str] = frozenset()
        self.parts: list[pd.DataFrame] = []
        self.credit = np.zeros(self.n, dtype=bool)
        self._key_text: np.ndarray | None = None
        self.notes: list[dict[str, str]] = []
        if self.malformed.any():
            self.flag(self.malformed, "malformed_record", "(record)")
            self.parts[-1]["value"] = frame_text = self.raw[MALFORMED].to_numpy()[self.malformed]
            self.parts[-1]["message"] = [f"{self.name}: {t}" for t in frame_text]
        # a record that repeats the header, column by column (a report's page break): said, then left out of the
        # other rules, as a malformed record is
        text_cols = [c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c].dtype)]
        if self.n and len(text_cols) == len(frame.columns) and len(text_cols) >= 2:
            same = np.ones(self.n, dtype=bool)
            for c in text_cols:  # per column, not per record
                same &= (frame[c].astype("string").str.strip() == str(c).strip()).fillna(False).to_numpy(dtype=bool)
            repeated = same & ~self.malformed
            if repeated.any():
                self.flag(repeated, "repeated_header", "(record)")
                self.malformed = self.malformed | repeated
                self.src.loc[repeated] = None  # its words are no values: they must not sway how a column is read
        self._user = {canonical: user for user, canonical in user_map.items()}

    def note(self, column: str, read_as: str, evidence: str) -> None:
        """Say how a column was read where payrisk inferred it (a date format, the separators)."""
        self.notes.append({"table": self.name, "column": column, "source": self._user.get(column, column),
                           "read_as": read_as, "evidence": evidence})  # fmt: skip

    def named(self, column: str) -> str:
        """``table.column`` with the user's own column name beside it where the mapping renamed it."""
        user = self._user.get(column)
        return f"{self.name}.{column}" + (f" (your column {user!r})" if user and user != column else "")

    # -- reporting ---------------------------------------------------------------------------------------
    def key_text(self) -> np.ndarray:
        if self._key_text is None:
            cols = [c for c in self.spec.key if c in self.src.columns]
            if not cols:
                self._key_text = np.array([""] * self.n, dtype=object)
            else:
                parts = [_text(self.src[c]).fillna("").to_numpy(dtype=object) for c in cols]
                key = parts[0]
                for p in parts[1:]:
                    key = key + "/" + p
                self._key_text = key
        return self._key_text

    def flag_amount(self, column: str) -> np.ndarray:
        """Reject zero and negative values of an amount column (rules zero_amount, negative_amount); the values."""
        amount = self.df[column].to_numpy()
        self.flag(amount == 0, "zero_amount", column)
        self.flag(amount < 0, "negative_amount", column)
        return amount

    def flag(
        self,
        mask: np.ndarray | pd.Series,
        rule: str,
        column: str,
        action: str = "rejected",
        message: str | None = None,
        fix: str | None = None,
    ) -> None:
        mask = np.asarray(mask, dtype=bool)
        if rule != "malformed_record":  # a record that did not split into fields breaks that rule only
            mask = mask & ~self.malformed
        pos = np.flatnonzero(mask)
        if len(pos) == 0:
            return
        if column in self.src.columns:
            vals = self.src[column].iloc[pos].astype("str").fillna("").to_numpy(dtype=object)
        else:
            vals = np.array([""] * len(pos), dtype=object)
        desc, default_fix = RULES[rule]
        fix = fix or default_fix
        if action == "rejected" and column in self.soft:
            action, fix = "flagged", f"the value was left empty and the row kept; {fix}"
        self.parts.append(
            pd.DataFrame(
                {
                    "table": self.name,
                    "row": pos,
                    "id": self.key_text()[pos],
                    "column": column,
                    "rule": rule,
                    "value": vals,
                    "action": action,
                    "message": message or f"{self.name}.{column}: {desc}",
                    "fix": fix,
                }
            )
        )
        if action == "rejected":
            self.bad |= mask

    # -- parsing -----------------------------------------------------------------------------------------
    def require_columns(self, extra_ok: Mapping[str, str] | None = None) -> None:
        extra_ok = extra_ok or {}
        for col in self.spec.columns:
            if col.required and col.name not in self.src.columns and col.name not in extra_ok:
                present = [str(c) for c in self.raw.columns]
                hints = suggest_columns(col.name, present)
                example = hints[0] if hints else "<your column>"
                hint = f" Columns that look like it: {hints}." if hints else ""
                line = self.mapping.example(columns={self.name: {example: col.name}})  # in the user's syntax
                raise ColumnMissingError(
                    f"{self.name}: required column {col.name!r} ({col.description}) is missing. "
                    f"Columns present: {present}.{hint} Fix: map your column onto it, e.g. {line}."
                )

    def parse(self, skip_missing: frozenset[str] = frozenset()) -> None:
        fmts = self._date_formats()
        seps = self._separators()
        for col in self.spec.columns:
            if col.name not in self.src.columns:
                continue
            s = self.src[col.name]
            if col.kind in (ColumnKind.ID, ColumnKind.TEXT):
                out = _text(s)
            elif col.kind in (ColumnKind.DATE, ColumnKind.DATETIME):
                out = self._parse_date(s, fmts.get(col.name), col.kind, col.name)
            elif col.kind in (ColumnKind.MONEY, ColumnKind.NUMBER):  # a score is read with the amounts' separators
                out = self._parse_money(s, col.name, seps)
            elif col.kind is ColumnKind.INT:
                out = self._parse_int(s, col.name)
            else:
                out = self._parse_bool(s, col.name)
            self.df[col.name] = out
            if col.required and not col.nullable and col.name not in skip_missing:
                self.flag(self.blank(col.name), "missing_value", col.name)
        # pass through user columns that map onto nothing canonical (customer attributes, channels, ...)
        canonical = set(self.spec.column_names)
        for c in self.src.columns:
            if c not in canonical and c not in _DERIVED:
                self.df[c] = self.src[c].to_numpy()

    def _date_formats(self) -> dict[str, str]:
        """The format of each date column: the mapping's, else ISO 8601, else the one format that reads every
        value (or that the table's other date columns settle); several that do are refused with the line to add."""
        out = dict(self.mapping.date_formats.get(self.name, {}))
        kinds = (ColumnKind.DATE, ColumnKind.DATETIME)
        cols = [
            c.name for c in self.spec.columns if c.kind in kinds and c.name in self.src.columns and c.name not in out
        ]
        cols = [c for c in cols if not pd.api.types.is_datetime64_any_dtype(self.src[c].dtype)]
        readings = settle_date_formats({c: infer_date_format(_text(self.src[c])) for c in cols})
        for c, r in readings.items():
            if r.value is not None:
                out[c] = r.value
                if r.value != "ISO8601" or not r.complete:
                    rest = "" if r.complete else "; the values it does not read are rejected"
                    self.note(c, f"dates as {r.value}", r.evidence + rest)
                continue
            options = " or ".join(self.mapping.example(date_formats={self.name: {c: f}}) for f in r.candidates[:2])
            why = "no day above 12 tells the day from the month" if r.complete else "the values mix formats"
            raise ParameterError(
                f"{self.named(c)}: the dates read in {len(r.candidates)} formats ({', '.join(r.candidates)}) and "
                f"they disagree ({r.evidence}): {why}. Say which in the mapping: {options}."
            )
        return out

    def _parse_date(self, s: pd.Series, fmt: str | None, kind: ColumnKind, name: str) -> pd.Series:
        if pd.api.types.is_datetime64_any_dtype(s.dtype):
            out = s.dt.tz_convert(None) if getattr(s.dt, "tz", None) is not None else s
            out = pd.Series(out.to_numpy(), index=self.df.index)
        else:
            txt = _text(s)
            fmt = fmt or "ISO8601"
            out = parse_dates(txt, fmt)
            out.index = self.df.index
            bad = txt.notna().to_numpy() & out.isna().to_numpy()
            shown = "ISO 8601 (2024-06-30)" if fmt == "ISO8601" else fmt.replace("|", " or ")
            self.flag(bad, "unparsable_date", name, message=f"{self.named(name)}: not a date in {shown}",
                      fix=f"correct the date, or give the column's format: "
                      f"{self.mapping.example(date_formats={self.name: {name: '%d/%m/%Y'}})}")  # fmt: skip
        low = pd.Timestamp(self.mapping.min_date)
        ahead = self.mapping.max_future_days * (1 if name in _EVENTS else 5)
        high = pd.Timestamp.today().normalize() + pd.Timedelta(days=ahead)
        out_of_range = out.notna().to_numpy() & ((out < low) | (out > high)).to_numpy()
        self.flag(out_of_range, "implausible_date", name, message=f"{self.named(name)}: date before {low.date()} or "
                  f"after {high.date()} ({ahead} days after today)")  # fmt: skip
        out = out.mask(out_of_range).astype(DATE_DTYPE)
        return out.dt.normalize() if kind is ColumnKind.DATE else out

    def _separators(self) -> tuple[str, str | None]:
        """The decimal and thousands separators of the table's amounts: the mapping's, else read off the values;
        values that leave them open are refused with the lines to add."""
        if self.mapping.decimal is not None:
            return self.mapping.decimal, self.mapping.thousands
        kinds = (ColumnKind.MONEY, ColumnKind.NUMBER)
        cols = [c.name for c in self.spec.columns if c.kind in kinds and c.name in self.src.columns]
        text = [_text(self.src[c]) for c in cols if not pd.api.types.is_numeric_dtype(self.src[c].dtype)]
        if not text:
            return ".", self.mapping.thousands
        sep = infer_separators(pd.concat(text, ignore_index=True))
        if sep.decimal is None:
            raise ParameterError(
                f"{self.name}: the amounts ({', '.join(self.named(c) for c in cols)}) leave the decimal separator "
                f"open: {sep.evidence}. Say which in the mapping: {self.mapping.example(decimal=',', thousands='.')}"
                f" (1.234,56) or {self.mapping.example(decimal='.', thousands=',')} (1,234.56)."
            )
        if sep.decimal != "." or sep.thousands:
            self.note(", ".join(cols), f"decimal {sep.decimal!r}, thousands {sep.thousands or 'none'!r}", sep.evidence)
        return sep.decimal, sep.thousands if self.mapping.thousands is None else self.mapping.thousands

    def _parse_money(self, s: pd.Series, name: str, seps: tuple[str, str | None] = (".", None)) -> pd.Series:
        if pd.api.types.is_bool_dtype(s.dtype):
            vals = pd.Series(np.full(self.n, np.nan))
            self.flag(s.notna().to_numpy(), "unparsable_amount", name)
            return vals
        misgrouped = np.zeros(self.n, dtype=bool)
        if pd.api.types.is_numeric_dtype(s.dtype):
            vals = pd.Series(s.to_numpy(dtype=float, na_value=np.nan), index=self.df.index)
        else:
            decimal, thousands = seps
            txt = _text(s)
            t = txt.str.replace(r"[\s\u00a0\u202f€$£¥]", "", regex=True)
            t = t.str.replace(r"^\((.*)\)$", r"-\1", regex=True)  # accounting negatives: (12.50)
            t = t.str.replace(r"^(\d[\d.,'\u2019]*)-$", r"-\1", regex=True)  # SAP's trailing minus: 1.234,56-
            if thousands == "'":
                t = t.str.replace("\u2019", "'", regex=False)  # the typographic apostrophe of Swiss grouping
            if thousands:
                # a thousands separator only between groups of three digits: 1.5 with '.' grouping is refused
                group = re.escape(thousands)
                grouped = rf"^[+-]?\d{{1,3}}({group}\d{{3}})+({re.escape(decimal)}\d*)?$"
                misgrouped = (t.str.contains(thousands, regex=False) & ~t.str.match(grouped)).fillna(False).to_numpy()
                t = t.str.replace(thousands, "", regex=False)
            if decimal != ".":
                t = t.str.replace(".", "\x00", regex=False).str.replace(decimal, ".", regex=False)
            vals = pd.to_numeric(t, errors="coerce").astype(float)
            vals.index = self.df.index
        bad = (s.notna().to_numpy() & ~np.isfinite(vals.to_numpy())) | misgrouped
        fix = "write the amount as digits with the file's separators, or set them: " + self.mapping.example(
            decimal=",", thousands="."
        )
        shown = _text(s.loc[bad]) if bad.any() else pd.Series(dtype=object)  # the rejected values only
        coded = shown.str.strip().str.contains(r"^[A-Za-z]{3}\s*[-+(\d]|\d\)?\s*[A-Za-z]{3}$", regex=True).fillna(False)
        if coded.any():  # a currency code written into the amount: said as such, never stripped by guess
            example = shown[coded.to_numpy(dtype=bool)].iloc[0]
            fix = (f"the amount carries a currency code ({example!r}): write the code in a currency column and the "
                   f"amount as digits")  # fmt: skip
        self.flag(bad, "unparsable_amount", name, fix=fix)
        v = np.abs(vals.to_numpy())
        implausible = ~bad & np.isfinite(v) & ((v > self.mapping.max_amount) | ((v > 0) & (v < _TINY)))
        self.flag(implausible, "implausible_amount", name, message=f"{self.named(name)}: amount above "
                  f"{self.mapping.max_amount:g} or below {_TINY:g}")  # fmt: skip
        return vals.mask(bad | implausible)

    def _parse_int(self, s: pd.Series, name: str) -> pd.Series:
        if pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype):
            v = s.to_numpy(dtype=float, na_value=np.nan)
        else:
            v = pd.to_numeric(_text(s), errors="coerce").to_numpy(dtype=float)
        ok = np.isfinite(v) & (np.floor(v) == v) & (np.abs(v) < 2**53)
        self.flag(s.notna().to_numpy() & ~ok, "unparsable_int", name)
        return pd.Series(pd.array(np.where(ok, v, np.nan), dtype="Float64"), index=self.df.index).astype("Int64")

    def _parse_bool(self, s: pd.Series, name: str) -> pd.Series:
        if pd.api.types.is_bool_dtype(s.dtype) and s.notna().all():
            return pd.Series(s.to_numpy(dtype=bool), index=self.df.index)
        low = _text(s).str.lower()
        is_true = low.isin(_TRUE).to_numpy()
        is_false = low.isin(_FALSE).to_numpy()
        self.flag(low.notna().to_numpy() & ~is_true & ~is_false, "unparsable_bool", name)
        return pd.Series(is_true, index=self.df.index)

    def blank(self, col: str) -> np.ndarray:
        """Rows where the user gave no value in ``col`` (missing, or empty text)."""
        if col not in self.src.columns:
            return np.ones(self.n, dtype=bool)
        s = self.src[col]
        if pd.api.types.is_object_dtype(s.dtype) or pd.api.types.is_string_dtype(s.dtype):
            return _text(s).isna().to_numpy()
        return s.isna().to_numpy()

    def fill_default(self, col: str, value: str | bool | None) -> None:
        if col not in self.df.columns:
            self.df[col] = value
        elif value is not None:
            self.df[col] = self.df[col].fillna(value)

    # -- row rules -------------------------------------------------------------------------------------
    def check_duplicates(self) -> None:
        key = list(self.spec.key)
        if any(k not in self.df.columns for k in key) or self.n == 0:
            return
        if len(key) == 1 and _all_distinct(self.df[key[0]]):
            return
        keyed = self.df[key].notna().all(axis=1).to_numpy()
        dup_any = self.df[key].duplicated(keep=False).to_numpy() & keyed
        if not dup_any.any():
            return
        sub = self.src.loc[dup_any].astype("str")
        exact_later = sub.duplicated(keep="first")
        distinct = (~exact_later).groupby([self.df.loc[dup_any, k] for k in key]).transform("sum").to_numpy()
        conflict = np.zeros(self.n, dtype=bool)
        copy = np.zeros(self.n, dtype=bool)
        conflict[np.flatnonzero(dup_any)[distinct > 1]] = True
        copy[np.flatnonzero(dup_any)[(distinct == 1) & exact_later.to_numpy()]] = True
        self.flag(conflict, "duplicate_id", key[-1])
        self.flag(copy, "duplicate_row", key[-1])

    def ok(self) -> np.ndarray:
        return ~self.bad

    def result(self) -> pd.DataFrame:
        keep = ~self.bad
        cols = [c for c in self.spec.column_names if c in self.df.columns]
        cols += [c for c in self.df.columns if c not in cols]
        return self.df.loc[keep, cols].reset_index(drop=True)


# ---------------------------------------------------------------------------------------------------------
_CREDIT = {"h", "c", "cr", "credit", "haben", "k", "kredit", "credit note"}
_DEBIT = {"s", "d", "dr", "debit", "soll", "debet"}


def _guess_like(t: _Table, column: str) -> str:
    """The format of a source-only date column (a baseline date): inferred like any date column."""
    reading = infer_date_format(_text(t.src[column]))
    return reading.value or (reading.candidates[0] if reading.candidates else "ISO8601")


def _check_invoices(t: _Table) -> None:
    if "due_date" not in t.src.columns and "terms_days" in t.src.columns:
        terms = t._parse_int(t.src["terms_days"], "terms_days")
        t.require_columns(extra_ok={"due_date": "terms_days"})
        t.parse(skip_missing=frozenset({"due_date"}))
        # terms count from the baseline date where the export has one (SAP: ZFBDT + ZBD1T), else the issue date
        base = t.df["issue_date"]
        if "baseline_date" in t.src.columns:
            fmt = t.mapping.date_formats.get("invoices", {}).get("baseline_date") or _guess_like(t, "baseline_date")
            base = t._parse_date(t.src["baseline_date"], fmt, ColumnKind.DATE, "baseline_date").fillna(base)
        t.df["due_date"] = base + pd.to_timedelta(terms.astype("Float64").to_numpy(float), unit="D")
    else:
        t.require_columns()
        t.parse(skip_missing=frozenset({"due_date"}))
    if "debit_credit" in t.src.columns:  # SAP SHKZG: amounts are positive, H (credit) turns them into credit notes
        mark = _text(t.src["debit_credit"]).str.lower()
        credit, debit = mark.isin(_CREDIT).to_numpy(), mark.isin(_DEBIT).to_numpy()
        t.flag(mark.notna().to_numpy() & ~credit & ~debit, "debit_credit", "debit_credit")
        a = t.df["amount"].to_numpy(dtype=float)
        t.df["amount"] = np.where(credit, -np.abs(a), a)
    amount = t.df["amount"].to_numpy()
    t.credit = amount < 0
    t.flag(amount == 0, "zero_amount", "amount")
    t.flag(t.credit, "credit_note", "amount", action="moved")
    inv = ~t.credit
    due_src = "due_date" if "due_date" in t.src.columns else "terms_days"
    t.flag(inv & t.blank(due_src), "missing_value", due_src)
    t.flag(inv & (t.df["due_date"] < t.df["issue_date"]).to_numpy(), "due_before_issue", "due_date")
    if "paid_date" in t.df.columns:
        t.flag(inv & (t.df["paid_date"] < t.df["issue_date"]).to_numpy(), "paid_before_issue", "paid_date")
        t.df.loc[t.credit, "paid_date"] = pd.NaT
    t.fill_default("currency", t.mapping.default_currency)
    t.df["currency"] = t.df["currency"].str.upper()
    t.fill_default("disputed", False)
    if "disputed_date" in t.df.columns:
        t.df["disputed"] = t.df["disputed"].to_numpy(bool) | t.df["disputed_date"].notna().to_numpy()
    t.check_duplicates()


def _check_payments(t: _Table) -> None:
    t.require_columns(extra_ok={"customer_id": "invoice_id"} if "invoice_id" in t.src.columns else None)
    t.parse()
    if "payment_id" not in t.df.columns:
        t.df["payment_id"] = pd.Series(np.arange(t.n), index=t.df.index).astype("str").radd("PAY-")
    t.flag_amount("amount")
    t.check_duplicates()


def _check_plans(t: _Table) -> None:
    t.require_columns()
    t.parse()
    if "total_amount" in t.df.columns:
        t.flag_amount("total_amount")
    t.check_duplicates()


def _check_installments(t: _Table) -> None:
    t.require_columns()
    t.parse()
    no = t.df["installment_no"]
    t.flag((no.notna() & (no < 1)).to_numpy(dtype=bool, na_value=False), "installment_no", "installment_no")
    due = t.flag_amount("amount_due")
    if "paid_date" not in t.df.columns:
        t.df["paid_date"] = pd.Series(pd.NaT, index=t.df.index, dtype=DATE_DTYPE)
    if "amount_paid" not in t.df.columns:
        t.df["amount_paid"] = np.where(t.df["paid_date"].notna(), t.df["amount_due"], 0.0)
    else:
        paid = t.df["amount_paid"].to_numpy()
        t.flag(paid < 0, "negative_amount", "amount_paid")
        t.flag(paid > due + t.mapping.overpayment_tolerance, "paid_ahead", "amount_paid", action="flagged")
        t.df["amount_paid"] = t.df["amount_paid"].fillna(0.0)
    t.check_duplicates()


def _check_contacts(t: _Table) -> None:
    t.require_columns()
    t.parse()
    if "contact_id" not in t.df.columns:
        t.df["contact_id"] = pd.Series(np.arange(t.n), index=t.df.index).astype("str").radd("CON-")
    ch = t.df["channel"].str.lower()
    t.df["channel"] = ch
    t.flag(ch.notna().to_numpy() & ~ch.isin(CHANNELS).to_numpy(), "unknown_channel", "channel")
    if "tone" in t.df.columns:
        tone = t.df["tone"].str.lower()
        t.df["tone"] = tone
        t.flag(tone.notna().to_numpy() & ~tone.isin(TONES).to_numpy(), "unknown_tone", "tone")
    if "promised_amount" in t.df.columns:
        promised = t.df["promised_amount"].to_numpy()
        t.flag((promised <= 0) & ~np.isnan(promised), "negative_amount", "promised_amount")
    t.fill_default("bounced", False)
    if "delivered" not in t.df.columns:
        t.df["delivered"] = ~t.df["bounced"].to_numpy(bool)
    t.check_duplicates()


def _check_customers(t: _Table) -> None:
    t.require_columns()
    t.soft = frozenset(t.spec.column_names) - set(t.spec.key)
    t.parse()
    if "requested_limit" in t.df.columns:
        negative = (t.df["requested_limit"] < 0).to_numpy(dtype=bool, na_value=False)
        t.flag(negative, "negative_amount", "requested_limit")
        t.df["requested_limit"] = t.df["requested_limit"].mask(negative)
    t.check_duplicates()


def _check_ratings(t: _Table) -> None:
    t.require_columns()
    t.parse()
    t.fill_default("source", "external")
    no_value = t.blank("score") if "score" in t.df.columns else np.ones(t.n, dtype=bool)
    if "rating" in t.df.columns:
        no_value = no_value & t.blank("rating")
    t.flag(no_value, "missing_value", "score", message="ratings: the row has neither a score nor a rating",
           fix="give the score or the rating class, or drop the row")  # fmt: skip
    t.check_duplicates()


def _check_credit_limits(t: _Table) -> None:
    t.require_columns()
    t.parse()
    t.flag((t.df["credit_limit"] < 0).to_numpy(dtype=bool, na_value=False), "negative_amount", "credit_limit")
    t.fill_default("currency", t.mapping.default_currency)
    t.df["currency"] = t.df["currency"].str.upper()
    t.check_duplicates()


_CHECKS = {
    "customers": _check_customers,
    "ratings": _check_ratings,
    "credit_limits": _check_credit_limits,
    "invoices": _check_invoices,
    "payments": _check_payments,
    "plans": _check_plans,
    "installments": _check_installments,
    "contacts": _check_contacts,
}


# ---------------------------------------------------------------------------------------------------------
def _refs(t: _Table, col: str, known: pd.Index | np.ndarray, rule: str, message: str | None = None) -> None:
    if col not in t.df.columns:
        return
    v = t.df[col]
    t.flag(v.notna().to_numpy() & ~isin(v, known) & t.ok(), rule, col, message=message)


def _check_currency(inv: _Table, mapping: ColumnMapping) -> None:
    ok = inv.ok()
    cur = inv.df["currency"]
    if mapping.fx_rates is not None:
        inv.flag(ok & ~cur.isin(list(mapping.fx_rates)).to_numpy(), "unknown_currency", "currency")
        return
    sub = inv.df.loc[ok, ["customer_id", "currency"]]
    n_cur = sub.groupby("customer_id")["currency"].transform("nunique")
    if (n_cur <= 1).all():
        return
    counts = sub.groupby(["customer_id", "currency"]).size().rename("n").reset_index()
    counts = counts.sort_values(["customer_id", "n", "currency"], ascending=[True, False, True])
    main = counts.drop_duplicates("customer_id").set_index("customer_id")["currency"]
    minority = np.zeros(inv.n, dtype=bool)
    pos = np.flatnonzero(ok)
    minority[pos] = sub["currency"].to_numpy() != lookup(sub["customer_id"], main).to_numpy()
    inv.flag(
        minority,
        "mixed_currency",
        "currency",
        message="invoices.currency: the customer's other invoices are in another currency and no fx_rates "
        "were given (the customer's most frequent currency was kept)",
    )


def _check_payment_links(pay: _Table, inv: _Table | None, mapping: ColumnMapping) -> None:
    if "invoice_id" not in pay.df.columns:
        pay.df["invoice_id"] = pd.Series(np.nan, index=pay.df.index, dtype="str")
    if inv is None:
        pay.flag(pay.df["invoice_id"].notna().to_numpy() & pay.ok(), "unknown_invoice", "invoice_id")
        if "customer_id" not in pay.df.columns:
            pay.df["customer_id"] = pd.Series(np.nan, index=pay.df.index, dtype="str")
            pay.flag(pay.ok(), "missing_value", "customer_id")
        return
    good = inv.df.loc[inv.ok() & ~inv.credit].set_index("invoice_id")
    _refs(
        pay,
        "invoice_id",
        good.index,
        "unknown_invoice",
        message="payments.invoice_id: invoice id not among the accepted invoices (absent, or rejected itself)",
    )
    linked = pay.df["invoice_id"].notna().to_numpy() & pay.ok()
    pos = good.index.get_indexer(pd.Index(pay.df["invoice_id"]))  # one hash lookup, reused for every invoice column
    found = pos >= 0

    inv_customer = _at(good["customer_id"], pos, found, pay.df.index)
    if "customer_id" not in pay.df.columns:
        pay.df["customer_id"] = inv_customer
        pay.flag(pay.df["customer_id"].isna().to_numpy() & pay.ok(), "missing_value", "customer_id")
    else:
        pay.flag(linked & (pay.df["customer_id"] != inv_customer).to_numpy(), "customer_mismatch", "customer_id")
    issue = _at(good["issue_date"], pos, found, pay.df.index)
    pay.flag(linked & (pay.df["payment_date"] < issue).to_numpy(), "payment_before_issue", "payment_date")
    if "currency" in pay.df.columns:
        inv_cur = _at(good["currency"], pos, found, pay.df.index)
        pcur = pay.df["currency"].str.upper()
        pay.flag(linked & pcur.notna().to_numpy() & (pcur != inv_cur).to_numpy(), "currency_mismatch", "currency")
    # over-payment: in date order, the payments that push an invoice past its amount
    rows = np.flatnonzero(pay.ok() & found)
    if len(rows):
        key = pos[rows]
        day = pay.df["payment_date"].to_numpy()[rows].astype("datetime64[ns]").astype(np.int64)
        order = np.lexsort((rows, day, key))
        rows, key = rows[order], key[order]
        paid = pay.df["amount"].to_numpy(dtype=float)[rows]
        cum = np.cumsum(paid)
        start = np.r_[True, key[1:] != key[:-1]]
        first = np.maximum.accumulate(np.where(start, np.arange(len(key)), 0))
        running = cum - cum[first] + paid[first]
        limit = good["amount"].to_numpy(dtype=float)[key] + mapping.overpayment_tolerance
        over = np.zeros(pay.n, dtype=bool)
        over[rows[running > limit]] = True
        pay.flag(over, "over_payment", "amount")


def _at(col: pd.Series, pos: np.ndarray, found: np.ndarray, index: pd.Index) -> pd.Series:
    """``col`` at positions ``pos`` (from ``get_indexer``), missing where ``found`` is False."""
    out = col.iloc[np.where(found, pos, 0)] if len(col) else pd.Series(np.nan, index=index).astype(col.dtype)
    out = pd.Series(out.to_numpy(), index=index, dtype=col.dtype) if len(col) else out
    return out.where(found)


def _customer_universe(tables: dict[str, _Table]) -> pd.Index | None:
    if "customers" in tables:
        c = tables["customers"]
        return pd.Index(c.df.loc[c.ok(), "customer_id"])
    return None


def run_validation(
    frames: Mapping[str, pd.DataFrame | None], mapping: ColumnMapping
) -> tuple[dict[str, pd.DataFrame], ValidationReport]:
    tables: dict[str, _Table] = {}
    for name in ORDER:
        frame = frames.get(name)
        if frame is None:
            continue
        t = _Table(name, frame, mapping)
        _CHECKS[name](t)
        tables[name] = t

    customers = _customer_universe(tables)
    for name in ("ratings", "credit_limits", "invoices", "payments", "plans", "contacts"):
        if name in tables and customers is not None:
            _refs(tables[name], "customer_id", customers, "unknown_customer")
    inv = tables.get("invoices")
    if inv is not None:
        _check_currency(inv, mapping)
    if "payments" in tables:
        _check_payment_links(tables["payments"], inv, mapping)
        if customers is not None:
            _refs(tables["payments"], "customer_id", customers, "unknown_customer")
    if "installments" in tables:
        ins = tables["installments"]
        plans = tables.get("plans")
        if plans is None:
            ins.flag(
                ins.ok(),
                "unknown_plan",
                "plan_id",
                message="installments.plan_id: no plans table was given; pass plans=...",
            )
        else:
            good = plans.df.loc[plans.ok()].set_index("plan_id")
            _refs(ins, "plan_id", good.index, "unknown_plan")
            created = lookup(ins.df["plan_id"], good["created_date"])
            ins.flag(ins.ok() & (ins.df["due_date"] < created).to_numpy(), "due_before_plan", "due_date")
    if "contacts" in tables and "invoice_id" in tables["contacts"].df.columns:
        known = pd.Index(inv.df.loc[inv.ok(), "invoice_id"]) if inv is not None else pd.Index([], dtype="str")
        _refs(tables["contacts"], "invoice_id", known, "unknown_invoice")

    return _assemble(tables)


def _assemble(tables: dict[str, _Table]) -> tuple[dict[str, pd.DataFrame], ValidationReport]:
    out: dict[str, pd.DataFrame] = {}
    counts = []
    rejected: dict[str, pd.DataFrame] = {}
    parts: list[pd.DataFrame] = []
    notes = [n for t in tables.values() for n in t.notes]
    for name, t in tables.items():
        res = t.result()
        n_credit = int((t.credit & ~t.bad).sum())
        if name == "invoices":
            credit = t.credit[~t.bad]
            out["credit_notes"] = (
                res.loc[credit].rename(columns={"invoice_id": "credit_note_id"}).reset_index(drop=True)
            )
            res = res.loc[~credit].reset_index(drop=True)
        out[name] = res
        counts.append(
            {
                "table": name,
                "input": t.n,
                "accepted": t.n - int(t.bad.sum()),
                "rejected": int(t.bad.sum()),
                "credit_notes": n_credit,
            }
        )
        parts.extend(t.parts)
        if t.bad.any():
            pos = np.flatnonzero(t.bad)
            rows = t.raw.iloc[pos].copy()
            issues = pd.concat([p for p in t.parts if (p["action"] == "rejected").any()])
            issues = issues[issues["action"] == "rejected"]
            rules = issues.groupby("row")["rule"].agg(lambda r: ";".join(dict.fromkeys(r)))
            rows["rules"] = rules.reindex(pos).to_numpy()
            rejected[name] = rows
    issues = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=REPORT_COLUMNS)
    if len(issues):
        order = {n: i for i, n in enumerate(ORDER)}
        issues = issues.sort_values(
            ["table", "row"], key=lambda s: s.map(order) if s.name == "table" else s, kind="stable"
        ).reset_index(drop=True)
        issues["row"] = issues["row"].astype("int64")
    counts_df = pd.DataFrame(counts, columns=["table", "input", "accepted", "rejected", "credit_notes"])
    inferred = pd.DataFrame(notes, columns=["table", "column", "source", "read_as", "evidence"])
    report = ValidationReport(issues=issues, counts=counts_df.set_index("table"), rejected=rejected, inferred=inferred)
    return out, report


def validate_tables(
    frames: Mapping[str, pd.DataFrame | None],
    mapping: ColumnMapping | Mapping[str, Any] | None = None,
) -> tuple[dict[str, pd.DataFrame], ValidationReport]:
    """Parse and check the input tables.

    Parameters
    ----------
    frames : mapping of table name to DataFrame
        Any of ``customers``, ``invoices``, ``payments``, ``plans``, ``installments``, ``contacts``.
    mapping : ColumnMapping or dict, optional
        Column mapping and parsing options.

    Returns
    -------
    tables : dict of DataFrame
        Accepted rows in canonical columns and dtypes (plus ``credit_notes`` split off ``invoices``).
    report : ValidationReport
        Every rejected row with the rule it broke.

    Raises
    ------
    payrisk.errors.ColumnMissingError
        When a required column is absent; the message names the mapping that would fix it.

    Examples
    --------
    >>> import pandas as pd
    >>> tables, report = validate_tables({"invoices": pd.DataFrame({
    ...     "invoice_id": ["1"], "customer_id": ["c"], "issue_date": ["2024-01-01"],
    ...     "due_date": ["2024-01-31"], "amount": ["0"]})})
    >>> report.issues["rule"].tolist()
    ['zero_amount']
    """
    unknown = sorted(set(frames) - set(TABLES))
    if unknown:
        raise ParameterError(f"unknown tables {unknown}; tables are {sorted(TABLES)}")
    return run_validation(frames, ColumnMapping.coerce(mapping))
