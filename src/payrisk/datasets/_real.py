"""Loaders for five public real datasets, read from a local folder and validated into a :class:`~payrisk.Ledger`.

The data files are not shipped with payrisk (several have no redistribution licence). Each loader takes the
dataset folder (as described in the data README that comes with the files), maps the columns onto the canonical
tables with a :class:`~payrisk.ColumnMapping`, pre-processes in pandas only what a mapping cannot express
(reshaping, aggregation, day offsets, ``YYMMDD`` decoding) and returns the validated ledger. Everything that was
assumed or dropped is listed in ``ledger.meta["notes"]``; every rejected row is in ``ledger.report``.

Examples
--------
>>> import payrisk as pr
>>> ledger = pr.datasets.load_dataset("ibm_accounts_receivable", "../shared/data")  # doctest: +SKIP
>>> len(ledger.invoices)  # doctest: +SKIP
2466
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from payrisk.errors import DataFileError, ParameterError
from payrisk.ledger import Ledger, to_date
from payrisk.schema import DATE_DTYPE, ColumnMapping

__all__ = [
    "DATASETS",
    "load_berka",
    "load_dataset",
    "load_home_credit",
    "load_ibm_ar",
    "load_loan_collections",
    "load_taiwan_credit",
]


_IBM_FILE = "WA_Fn-UseC_-Accounts-Receivable.csv"
_BERKA_FILES = ("loan.asc", "account.asc", "client.asc", "disp.asc", "district.asc", "card.asc", "order.asc")
_HOME_CREDIT_FILE = "installments_payments_sample.csv"
_TAIWAN_FILE = "UCI_Credit_Card.csv"
_LOANS_FILE = "Loan_payments_data.csv"
_LOANS_SNAPSHOT = "2016-12-08"

_IBM_COLUMNS = (
    "countryCode",
    "customerID",
    "PaperlessDate",
    "invoiceNumber",
    "InvoiceDate",
    "DueDate",
    "InvoiceAmount",
    "Disputed",
    "SettledDate",
    "PaperlessBill",
)
_BERKA_PLAN_COLUMNS = [
    "loan_id",
    "account_id",
    "created_date",
    "duration",
    "amount",
    "currency",
    "installment_amount",
    "status",
    "finished",
    "kept",
]
_HOME_CREDIT_COLUMNS = (
    "SK_ID_PREV",
    "SK_ID_CURR",
    "NUM_INSTALMENT_VERSION",
    "NUM_INSTALMENT_NUMBER",
    "DAYS_INSTALMENT",
    "DAYS_ENTRY_PAYMENT",
    "AMT_INSTALMENT",
    "AMT_PAYMENT",
)


# -- helpers ---------------------------------------------------------------------------------------------
def _folder(path: str | Path, dataset: str, files: Iterable[str]) -> Path:
    """The dataset folder, after checking that it and every expected file exist."""
    folder = Path(path)
    files = list(files)
    expected = f"the {dataset!r} dataset folder holding {', '.join(files)}"
    if not folder.is_dir():
        raise DataFileError(f"{folder}: folder not found; expected {expected}")
    missing = [f for f in files if not (folder / f).is_file()]
    if missing:
        raise DataFileError(f"{folder}: {', '.join(missing)} not found; expected {expected}")
    return folder


def _need_columns(df: pd.DataFrame, columns: Iterable[str], file: Path) -> None:
    """Raise :class:`DataFileError` when ``file`` lacks columns the loader relies on."""
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise DataFileError(
            f"{file}: columns {missing} not found (columns present: {[str(c) for c in df.columns]}); "
            "is this the original file described in the data README?"
        )


def _yymmdd(values: pd.Series) -> pd.Series:
    """``YYMMDD`` integers of the 1900s (Berka) as dates."""
    text = (values.astype("int64") + 19_000_000).astype("str")
    return pd.to_datetime(text, format="%Y%m%d").astype(DATE_DTYPE)


def _month_end(labels: Iterable[str]) -> np.ndarray:
    """Last day of each ``YYYY-MM`` month as ``datetime64[ns]``."""
    starts = pd.to_datetime([f"{m}-01" for m in labels], format="%Y-%m-%d")
    return (starts + pd.offsets.MonthEnd(0)).as_unit("ns").to_numpy()


# -- 1. IBM accounts receivable --------------------------------------------------------------------------
def load_ibm_ar(path: str | Path) -> Ledger:
    """Load the IBM Watson "Accounts Receivable" sample (2,466 invoices of 100 customers, 2012-2013).

    Parameters
    ----------
    path : str or Path
        The ``ibm_accounts_receivable/`` folder holding ``WA_Fn-UseC_-Accounts-Receivable.csv``.

    Returns
    -------
    Ledger
        Invoices, customers and derived payments (one full payment per invoice on its settle date).

    Raises
    ------
    payrisk.errors.DataFileError
        When the folder or the file is missing, or the file lacks the expected columns.

    Notes
    -----
    Mapping (``invoices``): ``invoiceNumber`` -> ``invoice_id``, ``customerID`` -> ``customer_id``,
    ``InvoiceDate`` -> ``issue_date``, ``DueDate`` -> ``due_date``, ``InvoiceAmount`` -> ``amount``,
    ``SettledDate`` -> ``paid_date``, ``Disputed`` (Yes/No) -> ``disputed``; currency ``XXX`` (not stated);
    ``PaperlessBill`` is kept as the extra column ``channel`` (Electronic/Paper). Dates are ``M/D/YYYY``; ids are
    read as text (invoice numbers are zero-padded). ``customers``: ``customerID`` -> ``customer_id``,
    ``countryCode`` -> ``country`` (an undocumented numeric code, not ISO 3166), ``PaperlessDate`` -> extra
    column ``paperless_date``. No payments table is given, so the ledger derives one full payment per invoice.

    Caveats (from the data README): ``DaysToSettle`` and ``DaysLate`` are derived from the dates and leak the
    target, so they are dropped. The dispute flag has no date: ``disputed`` is True from issue onwards, which is
    leakage for point-in-time features. The file looks simulated (30-day terms for every invoice, invoices and
    settlements uniformly on all weekdays including weekends), every invoice is settled (censor with
    :meth:`Ledger.as_of`), and the last quarter (2013Q4) is incomplete.

    Examples
    --------
    >>> import payrisk as pr
    >>> ledger = pr.datasets.load_ibm_ar("../shared/data/ibm_accounts_receivable")  # doctest: +SKIP
    >>> ledger.report.counts.loc["invoices", "accepted"]  # doctest: +SKIP
    2466
    """
    folder = _folder(path, "ibm_accounts_receivable", [_IBM_FILE])
    file = folder / _IBM_FILE
    raw = pd.read_csv(file, dtype={"invoiceNumber": "str", "customerID": "str", "countryCode": "str"})
    _need_columns(raw, _IBM_COLUMNS, file)
    leaking = [c for c in ("DaysToSettle", "DaysLate") if c in raw.columns]
    invoices = raw.drop(columns=[*leaking, "countryCode", "PaperlessDate"]).rename(columns={"PaperlessBill": "channel"})
    customers = (
        raw[["customerID", "countryCode", "PaperlessDate"]]
        .drop_duplicates()  # conflicting rows per customer (none expected) surface as duplicate_id
        .assign(paperless_date=lambda d: pd.to_datetime(d["PaperlessDate"], format="%m/%d/%Y").astype(DATE_DTYPE))
        .drop(columns="PaperlessDate")
    )
    mdy = "%m/%d/%Y"
    mapping = ColumnMapping(
        columns={
            "invoices": {
                "invoiceNumber": "invoice_id",
                "customerID": "customer_id",
                "InvoiceDate": "issue_date",
                "DueDate": "due_date",
                "InvoiceAmount": "amount",
                "SettledDate": "paid_date",
                "Disputed": "disputed",
            },
            "customers": {"customerID": "customer_id", "countryCode": "country"},
        },
        date_formats={"invoices": {"issue_date": mdy, "due_date": mdy, "paid_date": mdy}},
        default_currency="XXX",
    )
    notes = [
        "Currency is not stated in the source: amounts carry the ISO 4217 placeholder XXX.",
        f"Dropped {', '.join(leaking) or 'no'} column(s): derived from the settle date, they leak the target.",
        "Disputed (Yes/No) has no date: disputed_date is empty and the flag is visible from the issue date on, "
        "so using it as a point-in-time feature leaks the outcome (disputed invoices are late far more often).",
        "Payments are not in the source: one full payment per invoice on SettledDate is derived.",
        "countryCode is an undocumented numeric code (not ISO 3166); it is kept as text in customers.country.",
        "PaperlessBill is kept as invoices.channel (Electronic/Paper); PaperlessDate as customers.paperless_date.",
        "Realism warning: the file looks simulated (every invoice has 30-day terms; issue and settle dates fall "
        "uniformly on all weekdays incl. weekends; amounts 5..128): weekday features carry no signal.",
        "Every invoice is settled (no open items): censor with ledger.as_of(date) for survival or forecast tests.",
        "The last quarter is incomplete: issue dates stop on 2013-12-02.",
    ]
    return Ledger.from_frames(
        invoices=invoices,
        customers=customers,
        mapping=mapping,
        meta={"source": "ibm_accounts_receivable", "path": str(folder), "notes": notes},
    )


# -- 2. Berka (PKDD'99) ----------------------------------------------------------------------------------
_FREQUENCY = {
    "POPLATEK MESICNE": "monthly",
    "POPLATEK TYDNE": "weekly",
    "POPLATEK PO OBRATU": "after_transaction",
}
_ORDER_SYMBOLS = {"SIPO": "order_sipo", "UVER": "order_uver", "POJISTNE": "order_pojistne", "LEASING": "order_leasing"}
_DISTRICT_COLUMNS = {
    "A1": "district_id",
    "A2": "district_name",
    "A3": "region",
    "A4": "inhabitants",
    "A11": "avg_salary",
    "A12": "unemployment_1995",
    "A13": "unemployment_1996",
    "A14": "entrepreneurs_per_1000",
}


def load_berka(path: str | Path) -> Ledger:
    """Load the PKDD'99 Berka financial data (Czech bank, 682 loans as plans, 4,500 accounts as customers).

    Parameters
    ----------
    path : str or Path
        The ``berka_pkdd99/`` folder holding ``loan.asc``, ``account.asc``, ``client.asc``, ``disp.asc``,
        ``district.asc``, ``card.asc`` and ``order.asc`` (``;``-separated).

    Returns
    -------
    Ledger
        Plans (loans) with their outcome status, and customers (accounts) with owner, district, card and
        standing-order attributes. No invoices, payments or instalments.

    Raises
    ------
    payrisk.errors.DataFileError
        When the folder or a file is missing, or a file lacks the expected columns.

    Notes
    -----
    Mapping (``plans``): ``loan_id`` -> ``plan_id``, ``account_id`` -> ``customer_id``, ``date`` (``YYMMDD``,
    all 19xx) -> ``created_date``, ``duration`` -> ``n_installments``, ``amount`` -> ``total_amount``, currency
    ``CZK``; extra columns ``installment_amount`` (= ``payments``), ``status`` (A finished OK, B finished unpaid,
    C running OK, D running in debt), ``finished`` (status A/B) and ``kept`` (status A/C).

    ``customers`` (one row per account): ``customer_id`` = ``account_id``, ``created_date`` = account opening
    date, ``country`` ``CZ``, ``statement_frequency`` (monthly / weekly / after_transaction), the branch
    ``district_id`` with ``district_name``, ``region``, ``inhabitants`` (A4), ``avg_salary`` (A11),
    ``unemployment_1995`` (A12), ``unemployment_1996`` (A13), ``entrepreneurs_per_1000`` (A14); the OWNER
    client's ``owner_client_id``, ``sex`` (F/M, from ``birth_number``: month > 50 means female, month - 50),
    ``birth_date`` and ``client_district_id``; ``n_cards`` over all the account's dispositions; and the summed
    standing-order amounts per purpose ``order_sipo`` (household), ``order_uver`` (loan instalment),
    ``order_pojistne`` (insurance), ``order_leasing`` (0 when none).

    Caveats (from the data README): ``trans.asc`` is not available, so instalment paid dates are unknown and no
    installments table is built; plan-level outcome only. Finished (A/B) and running (C/D) loans are not
    comparable labels: C/D are right-censored at the end of 1998. 35 accounts have a UVER (loan) standing order
    but no loan. District 69 has no 1995 unemployment rate (``?`` read as missing).

    Examples
    --------
    >>> import payrisk as pr
    >>> ledger = pr.datasets.load_berka("../shared/data/berka_pkdd99")  # doctest: +SKIP
    >>> ledger.plans["status"].value_counts()["C"]  # doctest: +SKIP
    403
    """
    folder = _folder(path, "berka_pkdd99", _BERKA_FILES)

    def read(name: str, columns: list[str], **kw: Any) -> pd.DataFrame:
        df = pd.read_csv(folder / name, sep=";", **kw)
        _need_columns(df, columns, folder / name)
        return df

    loan = read("loan.asc", ["loan_id", "account_id", "date", "amount", "duration", "payments", "status"])
    account = read("account.asc", ["account_id", "district_id", "frequency", "date"])
    client = read("client.asc", ["client_id", "birth_number", "district_id"])
    disp = read("disp.asc", ["disp_id", "client_id", "account_id", "type"])
    district = read("district.asc", list(_DISTRICT_COLUMNS), na_values="?")
    card = read("card.asc", ["card_id", "disp_id"])
    order = read("order.asc", ["account_id", "amount", "k_symbol"])

    status = loan["status"].str.strip()
    plans = loan.assign(
        created_date=_yymmdd(loan["date"]),
        currency="CZK",
        status=status,
        finished=status.isin(["A", "B"]),
        kept=status.isin(["A", "C"]),
    ).rename(columns={"payments": "installment_amount"})[_BERKA_PLAN_COLUMNS]

    # owner client: sex and birth date decoded from birth_number (YYMMDD, women YY(MM+50)DD)
    birth = client["birth_number"].astype("int64")
    month = birth // 100 % 100
    female = month > 50
    client = client.assign(
        sex=np.where(female, "F", "M"),
        birth_date=pd.to_datetime(
            pd.DataFrame({"year": 1900 + birth // 10_000, "month": month - 50 * female, "day": birth % 100})
        ).astype(DATE_DTYPE),
    ).rename(columns={"client_id": "owner_client_id", "district_id": "client_district_id"})
    owners = disp.loc[disp["type"].str.strip() == "OWNER", ["account_id", "client_id"]]
    owners = owners.rename(columns={"client_id": "owner_client_id"})

    cards = card.merge(disp[["disp_id", "account_id"]], on="disp_id", how="left").groupby("account_id").size()
    orders = order.assign(k_symbol=order["k_symbol"].str.strip()).pivot_table(
        index="account_id", columns="k_symbol", values="amount", aggfunc="sum"
    )
    orders = orders.reindex(columns=list(_ORDER_SYMBOLS)).rename(columns=_ORDER_SYMBOLS)

    districts = district[list(_DISTRICT_COLUMNS)].rename(columns=_DISTRICT_COLUMNS)
    customers = (
        account.assign(
            created_date=_yymmdd(account["date"]),
            country="CZ",
            statement_frequency=account["frequency"].str.strip().map(_FREQUENCY).fillna(account["frequency"]),
        )
        .drop(columns=["date", "frequency"])
        .merge(districts, on="district_id", how="left", validate="many_to_one")
        .merge(owners, on="account_id", how="left", validate="one_to_one")
        .merge(
            client[["owner_client_id", "sex", "birth_date", "client_district_id"]],
            on="owner_client_id",
            how="left",
            validate="many_to_one",
        )
    )
    customers["n_cards"] = customers["account_id"].map(cards).fillna(0).astype("int64")
    order_cols = orders.reindex(customers["account_id"]).fillna(0.0).to_numpy()
    customers[list(_ORDER_SYMBOLS.values())] = order_cols

    uver = orders["order_uver"]
    uver_no_loan = int((uver.gt(0) & ~uver.index.isin(loan["account_id"])).sum())
    n_status = status.value_counts()
    mapping = ColumnMapping(
        columns={
            "plans": {
                "loan_id": "plan_id",
                "account_id": "customer_id",
                "duration": "n_installments",
                "amount": "total_amount",
            },
            "customers": {"account_id": "customer_id"},
        },
        default_currency="CZK",
    )
    notes = [
        "Plans are the loans of loan.asc; customers are the accounts (the loan holder), one row per account.",
        "No installments table: the transaction file trans.asc (the only source of instalment payments, "
        "k_symbol UVER) is not available, so instalment due and paid dates are unknown. Plan-level outcome only.",
        f"status A finished OK ({n_status.get('A', 0)}), B finished unpaid ({n_status.get('B', 0)}), C running OK "
        f"({n_status.get('C', 0)}), D running in debt ({n_status.get('D', 0)}); finished = A/B, kept = A/C.",
        "Finished (A/B) and running (C/D) are decided by dates alone: C/D plans are right-censored at the end of "
        "1998, so kept is not a comparable label across the two groups.",
        "Dates are YYMMDD integers decoded as 19YY-MM-DD; amounts are CZK.",
        "Owner sex and birth date are decoded from birth_number (month > 50 means female, month - 50).",
        "Standing orders are summed per account and purpose (order_sipo household, order_uver loan, "
        "order_pojistne insurance, order_leasing leasing; 0 when none); orders with a blank k_symbol are not "
        "counted in these columns.",
        f"{uver_no_loan} accounts have a UVER (loan) standing order but no loan in loan.asc.",
        "District 69 has no 1995 unemployment rate ('?' read as missing).",
    ]
    return Ledger.from_frames(
        plans=plans,
        customers=customers,
        mapping=mapping,
        meta={"source": "berka_pkdd99", "path": str(folder), "notes": notes},
    )


# -- 3. Home Credit instalments --------------------------------------------------------------------------
def load_home_credit(path: str | Path, anchor: Any = "2020-01-01") -> Ledger:
    """Load the 20,000-row random sample of Home Credit's ``installments_payments.csv`` as instalments.

    Parameters
    ----------
    path : str or Path
        The ``home_credit_installments_sample/`` folder holding ``installments_payments_sample.csv``.
    anchor : str, date or Timestamp, default "2020-01-01"
        The calendar date that day offset 0 (each client's application date) is mapped onto.

    Returns
    -------
    Ledger
        Plans (one per ``SK_ID_PREV``) and their instalments; customers derived from the plans.

    Raises
    ------
    payrisk.errors.DataFileError
        When the folder or the file is missing, or the file lacks the expected columns.
    payrisk.errors.ParameterError
        When ``anchor`` is not a date.

    Notes
    -----
    Mapping (``installments``): ``SK_ID_PREV`` -> ``plan_id``, ``NUM_INSTALMENT_NUMBER`` -> ``installment_no``,
    ``due_date`` = anchor + ``DAYS_INSTALMENT`` days, ``amount_due`` = ``AMT_INSTALMENT``,
    ``paid_date`` = anchor + ``DAYS_ENTRY_PAYMENT`` days (empty = unpaid), ``amount_paid`` = ``AMT_PAYMENT``
    (empty -> 0); extra columns ``customer_id`` (``SK_ID_CURR``), ``instalment_version``
    (``NUM_INSTALMENT_VERSION``, highest of the merged rows) and ``n_payment_rows``.

    Rows sharing (``SK_ID_PREV``, ``NUM_INSTALMENT_NUMBER``) are payments toward one instalment and are merged
    (groupby): ``due_date`` = earliest, ``paid_date`` = last payment date, ``amount_paid`` = sum,
    ``amount_due`` = the largest ``AMT_INSTALMENT`` of each calendar version, summed over versions (the same as
    the maximum when there is one version). A payment row repeated with the same day and amount under another
    calendar version is one payment booked against two parts of the instalment and is counted once.

    ``plans``: one per ``SK_ID_PREV``, ``customer_id`` = ``SK_ID_CURR``, currency ``XXX``. ``created_date`` is not
    in the sample: it is estimated as the plan's earliest due date in the sample minus 30 days
    (``created_date_estimated`` = True), so the ``due_before_plan`` rule cannot fire.

    Caveats (from the data README): only day offsets from each client's own application date exist, so
    calendar, weekday and seasonality features are meaningless. Rows are random, not whole plans (most plans
    have one row): use the data for instalment-level models, not plan-level adherence. Instalments paid more
    than due (+ 0.01), i.e. paying ahead or settling early, are kept and flagged by the ``paid_ahead`` rule.

    Examples
    --------
    >>> import payrisk as pr
    >>> ledger = pr.datasets.load_home_credit("../shared/data/home_credit_installments_sample")  # doctest: +SKIP
    >>> ledger.report.counts.loc["installments", "input"]  # doctest: +SKIP
    19981
    """
    folder = _folder(path, "home_credit_installments_sample", [_HOME_CREDIT_FILE])
    file = folder / _HOME_CREDIT_FILE
    day0 = to_date(anchor, "anchor")
    raw = pd.read_csv(file)
    _need_columns(raw, _HOME_CREDIT_COLUMNS, file)
    key = ["SK_ID_PREV", "NUM_INSTALMENT_NUMBER"]
    version = [*key, "NUM_INSTALMENT_VERSION"]
    payment = [*key, "DAYS_ENTRY_PAYMENT", "AMT_PAYMENT"]
    df = raw.assign(
        due_date=(day0 + pd.to_timedelta(raw["DAYS_INSTALMENT"], unit="D")).astype(DATE_DTYPE),
        paid_date=(day0 + pd.to_timedelta(raw["DAYS_ENTRY_PAYMENT"], unit="D")).astype(DATE_DTYPE),
    )
    # amount due: largest per calendar version, summed over versions
    first_of_version = ~df.duplicated(version)
    due_max = df.groupby(version, dropna=False)["AMT_INSTALMENT"].transform("max")
    df["_due"] = due_max.where(first_of_version, 0.0)
    # one payment (same day and amount) repeated under several calendar versions is counted once
    n_versions = df.groupby(payment, dropna=False)["NUM_INSTALMENT_VERSION"].transform("nunique")
    repeated = df.duplicated(payment) & (n_versions > 1)
    df["_paid"] = df["AMT_PAYMENT"].fillna(0.0).where(~repeated, 0.0)
    multi = df.duplicated(key, keep=False)
    multi_version = int(df.loc[multi].groupby(key)["NUM_INSTALMENT_VERSION"].nunique().gt(1).sum())

    inst = (
        df.groupby(key, sort=False)
        .agg(
            customer_id=("SK_ID_CURR", "first"),  # made text below, like the parsed plan ids
            instalment_version=("NUM_INSTALMENT_VERSION", "max"),
            due_date=("due_date", "min"),
            amount_due=("_due", "sum"),
            paid_date=("paid_date", "max"),
            amount_paid=("_paid", "sum"),
            n_payment_rows=("SK_ID_PREV", "size"),
        )
        .reset_index()
    )
    # extra columns are not parsed by validation: give the customer id as text so that the customers derived
    # from plans and instalments match (an integer id here would derive every customer twice)
    inst["customer_id"] = inst["customer_id"].astype("str")
    plans = (
        inst.groupby(["SK_ID_PREV", "customer_id"], sort=False)["due_date"]
        .min()
        .sub(pd.Timedelta(days=30))
        .rename("created_date")
        .reset_index()
        .assign(created_date_estimated=True, currency="XXX")
    )

    n_merged_pairs = int((inst["n_payment_rows"] > 1).sum())
    n_removed = len(raw) - len(inst)
    n_over = int((inst["amount_paid"] > inst["amount_due"] + 0.01).sum())
    n_zero_due = int((inst["amount_due"] == 0).sum())
    n_zero_paid = int((raw["AMT_PAYMENT"].eq(0) & raw["DAYS_ENTRY_PAYMENT"].notna()).sum())
    n_unpaid = int(inst["paid_date"].isna().sum())
    mapping = ColumnMapping(
        columns={
            "installments": {"SK_ID_PREV": "plan_id", "NUM_INSTALMENT_NUMBER": "installment_no"},
            "plans": {"SK_ID_PREV": "plan_id"},
        }
    )
    notes = [
        f"Day offsets are relative to each client's own application date; they were mapped onto the anchor "
        f"{day0.date()} (same anchor for every client): calendar, weekday and seasonality features are meaningless.",
        f"{int(multi.sum())} rows in {n_merged_pairs} (SK_ID_PREV, NUM_INSTALMENT_NUMBER) pairs were split payments "
        f"toward one instalment and were aggregated into {n_merged_pairs} instalment rows ({n_removed} rows fewer: "
        f"{len(raw)} input rows -> {len(inst)} instalments): due_date = earliest, paid_date = last payment, "
        "amount_paid = sum, amount_due = largest AMT_INSTALMENT (per calendar version, summed over versions).",
        f"{multi_version} of these pairs span two calendar versions with the same payment (day and amount) on both "
        "rows: one payment of two instalment parts, so amount_due is the sum of the parts and the payment is "
        "counted once (a plain sum of AMT_PAYMENT would double it).",
        "plans.created_date is not in the sample: estimated as the plan's earliest due date in the sample minus "
        "30 days (created_date_estimated=True); the due_before_plan rule therefore cannot fire.",
        "Rows are a random sample, not whole plans (most plans have a single row): use for instalment-level "
        "models (late / under-paid), not plan-level adherence or 'previous instalments' features.",
        f"{n_unpaid} instalments are unpaid (no DAYS_ENTRY_PAYMENT; amount_paid 0); {n_zero_paid} rows have a "
        "payment date but AMT_PAYMENT 0.",
        f"{n_zero_due} instalments have amount_due 0 (rejected as zero_amount if any); {n_over} instalments were "
        "paid more than due (+0.01): paying ahead or settling early; kept and flagged (paid_ahead).",
        "No payments table: canonical payments link to invoices only, and this data has instalments.",
        "Currency is not stated: plans carry the placeholder XXX.",
    ]
    return Ledger.from_frames(
        plans=plans,
        installments=inst,
        mapping=mapping,
        meta={
            "source": "home_credit_installments_sample",
            "path": str(folder),
            "anchor": str(day0.date()),
            "rows_aggregated": n_removed,
            "notes": notes,
        },
    )


# -- 4. Taiwan credit cards ------------------------------------------------------------------------------
_TAIWAN_MONTHS = ("2005-09", "2005-08", "2005-07", "2005-06", "2005-05", "2005-04")  # suffix 1..6
_TAIWAN_STATUS = ("PAY_0", "PAY_2", "PAY_3", "PAY_4", "PAY_5", "PAY_6")  # Sep..Apr (there is no PAY_1)
_TAIWAN_TARGETS = ("default.payment.next.month", "defaulted")


def load_taiwan_credit(path: str | Path) -> Ledger:
    """Load the UCI "default of credit card clients" data (Taiwan 2005, 30,000 customers, 6 monthly bills).

    Parameters
    ----------
    path : str or Path
        The ``uci_credit_card_taiwan/`` folder holding ``UCI_Credit_Card.csv``.

    Returns
    -------
    Ledger
        Customers with their attributes and the default label, one invoice per customer-month statement and
        unallocated monthly payments.

    Raises
    ------
    payrisk.errors.DataFileError
        When the folder or the file is missing, or the file lacks the expected columns.

    Notes
    -----
    ``customers``: ``ID`` -> ``customer_id`` with ``LIMIT_BAL``, ``SEX``, ``EDUCATION``, ``MARRIAGE``, ``AGE``,
    ``PAY_0``, ``PAY_2`` .. ``PAY_6``, ``default_next_month`` (the file's ``default.payment.next.month``, named
    ``defaulted`` in some copies) and ``country`` ``TW``.

    ``invoices``: the six statements unrolled (suffix 1 = September .. 6 = April 2005, the index runs backwards
    in time): ``invoice_id`` = ``"{ID}-{YYYY-MM}"``, ``issue_date`` = last day of the month, ``due_date`` =
    issue + 25 days (ASSUMED: given as ``terms_days``; the data has no due dates), ``amount`` = ``BILL_AMTk``,
    currency ``TWD``, ``paid_date`` empty (settlement is not observed, so every statement stays open), extra
    column ``pay_status`` = ``PAY_k`` of the month (-1 paid duly, 1..9 months late, -2/0 undocumented). Zero
    bills are rejected (``zero_amount``) and negative bills (credit balances) become credit notes.

    ``payments``: ``PAY_AMTk`` (amount paid in month k) with ``payment_id`` = ``"PAY-{ID}-{YYYY-MM}"``,
    ``payment_date`` = last day of month k (the day is not given), currency ``TWD`` and no ``invoice_id``
    (unallocated). Months with ``PAY_AMTk`` = 0 are not payments and are dropped before validation (counted in
    the notes).

    Examples
    --------
    >>> import payrisk as pr
    >>> ledger = pr.datasets.load_taiwan_credit("../shared/data/uci_credit_card_taiwan")  # doctest: +SKIP
    >>> len(ledger.customers)  # doctest: +SKIP
    30000
    """
    folder = _folder(path, "uci_credit_card_taiwan", [_TAIWAN_FILE])
    file = folder / _TAIWAN_FILE
    raw = pd.read_csv(file)
    bill_cols = [f"BILL_AMT{k}" for k in range(1, 7)]
    pay_cols = [f"PAY_AMT{k}" for k in range(1, 7)]
    attrs = ["ID", "LIMIT_BAL", "SEX", "EDUCATION", "MARRIAGE", "AGE", *_TAIWAN_STATUS]
    _need_columns(raw, attrs + bill_cols + pay_cols, file)
    target = next((c for c in _TAIWAN_TARGETS if c in raw.columns), None)
    if target is None:
        raise DataFileError(f"{file}: no default label column; expected one of {list(_TAIWAN_TARGETS)}")

    customers = raw[attrs].assign(default_next_month=raw[target].to_numpy(), country="TW")

    # unroll the six months (vectorised): one row per (customer, month), months in calendar order
    order = slice(None, None, -1)  # suffix 6 (April) .. 1 (September)
    months = np.array(_TAIWAN_MONTHS[order])
    month_end = _month_end(months)
    n = len(raw)
    ids = np.repeat(raw["ID"].astype("str").to_numpy(dtype=object), 6)
    label = np.tile(months.astype(object), n)
    when = np.tile(month_end, n)
    invoices = pd.DataFrame(
        {
            "invoice_id": ids + "-" + label,
            "customer_id": ids,
            "issue_date": when,
            "terms_days": 25,
            "amount": raw[bill_cols[order]].to_numpy(dtype=float).ravel(),
            "currency": "TWD",
            "paid_date": pd.Series(pd.NaT, index=range(n * 6), dtype=DATE_DTYPE),
            "pay_status": raw[list(_TAIWAN_STATUS[order])].to_numpy().ravel(),
        }
    )
    paid = raw[pay_cols[order]].to_numpy(dtype=float).ravel()
    payments = pd.DataFrame(
        {"payment_id": "PAY-" + ids + "-" + label, "customer_id": ids, "payment_date": when, "amount": paid}
    ).assign(currency="TWD")
    zero_pay = paid == 0
    payments = payments.loc[~zero_pay].reset_index(drop=True)

    amounts = invoices["amount"].to_numpy()
    notes = [
        "Statements unrolled to one invoice per customer-month (suffix 1 = September .. 6 = April 2005; "
        "invoice_id '{ID}-{YYYY-MM}', issue_date = last day of the month, pay_status = PAY_k of that month).",
        "ASSUMED: due_date = issue_date + 25 days; the data has no due dates.",
        "paid_date is empty: settlement of a statement is not observed, so every statement counts as open and "
        "open_amount means nothing here.",
        f"{int((amounts == 0).sum())} zero bills are rejected (zero_amount); {int((amounts < 0).sum())} negative "
        "bills (credit balances) are kept as credit notes.",
        "Payments: PAY_AMTk is the amount paid in month k, dated the last day of that month (the day is not "
        "given) and not allocated to any statement (invoice_id empty).",
        f"{int(zero_pay.sum())} customer-months with PAY_AMTk = 0 are not payments and were dropped before "
        f"validation ({len(payments)} payments kept).",
        f"The default label column {target!r} is kept as customers.default_next_month (default in October 2005).",
        "EDUCATION 0/5/6, MARRIAGE 0 and PAY_k -2/0 are undocumented codes, kept as given. Currency TWD.",
    ]
    if target != _TAIWAN_TARGETS[0]:
        notes.append(
            f"The label column is named {target!r} in this copy (the data README names it {_TAIWAN_TARGETS[0]!r})."
        )
    mapping = ColumnMapping(columns={"customers": {"ID": "customer_id"}}, default_currency="TWD")
    return Ledger.from_frames(
        customers=customers,
        invoices=invoices,
        payments=payments,
        mapping=mapping,
        meta={
            "source": "uci_credit_card_taiwan",
            "path": str(folder),
            "dropped_zero_payments": int(zero_pay.sum()),
            "notes": notes,
        },
    )


# -- 5. Loan payments with collections -------------------------------------------------------------------
def load_loan_collections(path: str | Path) -> Ledger:
    """Load the Kaggle "Loan payments data" (500 short bullet loans with collection outcome, snapshot 2016-12-08).

    Parameters
    ----------
    path : str or Path
        The ``loan_payments_collections/`` folder holding ``Loan_payments_data.csv``.

    Returns
    -------
    Ledger
        The full history (not cut): each loan as an invoice of its own customer, derived payments for the paid
        loans, and the borrowers. ``ledger.meta["snapshot_date"]`` is ``"2016-12-08"``.

    Raises
    ------
    payrisk.errors.DataFileError
        When the folder or the file is missing, lacks the expected columns, or holds a date after the
        snapshot date.

    Notes
    -----
    Mapping (``invoices``): ``Loan_ID`` -> ``invoice_id`` and ``customer_id`` (one loan per customer),
    ``effective_date`` -> ``issue_date``, ``due_date`` -> ``due_date``, ``Principal`` -> ``amount``, currency
    ``XXX`` (not stated), ``paid_off_time`` -> ``paid_date`` (date part; empty = open); extra columns
    ``loan_status`` (PAIDOFF, COLLECTION, COLLECTION_PAIDOFF), ``terms`` and ``past_due_days``.
    ``customers``: ``Loan_ID`` -> ``customer_id``, ``age``, ``education`` (typo ``Bechalor`` kept), ``gender``.

    Caveats (from the data README): the snapshot (censoring) date is 2016-12-08; every COLLECTION loan has
    due_date + past_due_days = 2016-12-08. The 300/100/100 class split shows a designed sample whose provenance
    cannot be verified. due_date - effective_date is not always terms - 1 (term extensions). One PAIDOFF loan
    (xqd20160271) was paid one day after due; one COLLECTION_PAIDOFF loan (xqd20160428) has past_due_days 2
    where the dates give 1. The escalation (collection) date is not given.

    Examples
    --------
    >>> import payrisk as pr
    >>> ledger = pr.datasets.load_loan_collections("../shared/data/loan_payments_collections")  # doctest: +SKIP
    >>> len(ledger.open_invoices())  # doctest: +SKIP
    100
    """
    folder = _folder(path, "loan_payments_collections", [_LOANS_FILE])
    file = folder / _LOANS_FILE
    raw = pd.read_csv(file, dtype={"Loan_ID": "str"})
    cols = ["Loan_ID", "loan_status", "Principal", "terms", "effective_date", "due_date", "paid_off_time"]
    _need_columns(raw, [*cols, "past_due_days", "age", "education", "Gender"], file)
    invoices = raw[[*cols, "past_due_days"]].assign(customer_id=raw["Loan_ID"])
    customers = raw[["Loan_ID", "age", "education", "Gender"]].rename(columns={"Gender": "gender"})
    mapping = ColumnMapping(
        columns={
            "invoices": {
                "Loan_ID": "invoice_id",
                "effective_date": "issue_date",
                "Principal": "amount",
                "paid_off_time": "paid_date",
            },
            "customers": {"Loan_ID": "customer_id"},
        },
        date_formats={"invoices": {"issue_date": "%Y-%m-%d", "due_date": "%Y-%m-%d", "paid_date": "%Y-%m-%d %H:%M"}},
        default_currency="XXX",
    )
    status = raw["loan_status"].value_counts()
    notes = [
        f"Snapshot (censoring) date {_LOANS_SNAPSHOT}: every COLLECTION loan has due_date + past_due_days = "
        "that date; the full history is returned, cut it with ledger.as_of(meta['snapshot_date']) if needed.",
        f"loan_status: PAIDOFF {status.get('PAIDOFF', 0)}, COLLECTION {status.get('COLLECTION', 0)} (open), "
        f"COLLECTION_PAIDOFF {status.get('COLLECTION_PAIDOFF', 0)}; a designed sample whose provenance cannot "
        "be verified. The escalation (collection) date is not given.",
        "One loan per customer: invoice_id = customer_id = Loan_ID. paid_date is the date part of paid_off_time.",
        "Currency is not stated: amounts carry the placeholder XXX.",
        "Payments are not in the source: one full payment per paid loan on its paid date is derived.",
        "due_date - effective_date is not always terms - 1 (term extensions). xqd20160271 (PAIDOFF) was paid one "
        "day after due; xqd20160428 has past_due_days 2 where the dates give 1.",
    ]
    ledger = Ledger.from_frames(
        invoices=invoices,
        customers=customers,
        mapping=mapping,
        meta={
            "source": "loan_payments_collections",
            "path": str(folder),
            "snapshot_date": _LOANS_SNAPSHOT,
            "notes": notes,
        },
    )
    snapshot = pd.Timestamp(_LOANS_SNAPSHOT)
    dates = pd.concat(
        [ledger.invoices[c] for c in ("issue_date", "due_date", "paid_date")] + [ledger.payments["payment_date"]]
    )
    if (dates > snapshot).any():
        raise DataFileError(
            f"{file}: {int((dates > snapshot).sum())} dates fall after the snapshot date {_LOANS_SNAPSHOT} "
            f"(latest {dates.max().date()}); is this the file described in the data README?"
        )
    return ledger


# -- dispatch --------------------------------------------------------------------------------------------
DATASETS: dict[str, Callable[..., Ledger]] = {
    "ibm_accounts_receivable": load_ibm_ar,
    "berka_pkdd99": load_berka,
    "home_credit_installments_sample": load_home_credit,
    "uci_credit_card_taiwan": load_taiwan_credit,
    "loan_payments_collections": load_loan_collections,
}


def load_dataset(name: str, root: str | Path, **kwargs: Any) -> Ledger:
    """Load one of the public real datasets by its folder name.

    Parameters
    ----------
    name : str
        One of ``"ibm_accounts_receivable"``, ``"berka_pkdd99"``, ``"home_credit_installments_sample"``,
        ``"uci_credit_card_taiwan"``, ``"loan_payments_collections"`` (the keys of :data:`DATASETS`).
    root : str or Path
        The data folder holding the dataset folders (e.g. ``../shared/data``).
    **kwargs
        Passed to the loader (e.g. ``anchor`` for :func:`load_home_credit`).

    Returns
    -------
    Ledger

    Raises
    ------
    payrisk.errors.ParameterError
        When ``name`` is not a known dataset.
    payrisk.errors.DataFileError
        When the dataset folder or one of its files is missing.

    Examples
    --------
    >>> import payrisk as pr
    >>> ledger = pr.datasets.load_dataset("berka_pkdd99", "../shared/data")  # doctest: +SKIP
    >>> len(ledger.plans)  # doctest: +SKIP
    682
    """
    if name not in DATASETS:
        raise ParameterError(f"unknown dataset {name!r}; datasets are {sorted(DATASETS)}")
    return DATASETS[name](Path(root) / name, **kwargs)
