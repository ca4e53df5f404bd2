"""``payrisk map``: a complete mapping proposed from an export's headers and values, each choice with its evidence
(private). Header words in English, Dutch, German and French, and the field names of SAP FI-AR line items
(BSID/BSAD) and Odoo invoices (account.move)."""

from __future__ import annotations

import json
import re
import unicodedata
from pathlib import Path

import pandas as pd

from payrisk._formats import infer_date_format, infer_separators, settle_date_formats
from payrisk.schema import TABLES, ColumnKind

__all__ = ["SYNONYMS", "propose_mapping"]

#: header words per table and canonical column, compared without case, accents, spaces or punctuation
SYNONYMS: dict[str, dict[str, tuple[str, ...]]] = {
    "invoices": {
        "invoice_id": ("invoiceid", "invoicenumber", "invoiceno", "invoicenr", "invoice", "invnumber", "documentnumber",
                       "docnumber", "documentno", "factuurnummer", "factuurnr", "factuur", "rechnungsnummer",
                       "rechnungsnr", "rechnung", "belegnummer", "belnr", "numerofacture", "nfacture", "facture",
                       "numfacture", "name", "movename", "number"),
        "customer_id": ("customerid", "customernumber", "customerno", "customer", "clientid", "client", "debtorid",
                        "debtor", "debtornumber", "debiteur", "debiteurnummer", "debiteurnr", "klant", "klantnummer",
                        "klantnr", "kunde", "kundennummer", "kundennr", "kunnr", "debitor", "debitorennummer",
                        "partnerid", "partner", "numeroclient", "codeclient", "accountnumber", "account"),
        "issue_date": ("issuedate", "invoicedate", "documentdate", "docdate", "billingdate", "factuurdatum",
                       "datumfactuur", "rechnungsdatum", "belegdatum", "bldat", "datefacture", "datedefacture",
                       "datedemission", "invoicebilldate", "postingdate", "date", "datum"),
        "due_date": ("duedate", "paymentduedate", "netduedate", "invoicedatedue", "dateduedate", "vervaldatum",
                     "vervaldag", "uiterstebetaaldatum", "falligkeitsdatum", "faelligkeitsdatum", "falligkeit",
                     "faelligkeit", "falligam", "dateecheance", "echeance", "datedecheance", "dateechance"),
        "amount": ("amount", "invoiceamount", "amounttotal", "amounttotalsigned", "totalamount", "total", "grossamount",
                   "bedrag", "factuurbedrag", "totaalbedrag", "brutobedrag", "betrag", "rechnungsbetrag",
                   "bruttobetrag", "wrbtr", "montant", "montantttc", "montanttotal", "totalsigned",
                   "totalincurrencysigned", "totalincurrency"),
        "currency": ("currency", "currencycode", "currencyid", "cur", "ccy", "valuta", "munt", "wahrung", "waehrung",
                     "waers", "devise", "monnaie"),
        "paid_date": ("paiddate", "settleddate", "settlementdate", "clearingdate", "closedatdate", "datepaid",
                      "betaaldatum",
                      "betaaldop", "vereffeningsdatum", "zahlungsdatum", "ausgleichsdatum", "augdt", "datepaiement",
                      "datedereglement", "datereglement"),
        "disputed": ("disputed", "dispute", "indispute", "betwist", "geschil", "strittig", "reklamiert", "litige",
                     "conteste", "enlitige"),
        "disputed_date": ("disputeddate", "disputedate", "datebetwist", "reklamationsdatum", "datelitige"),
        # SAP FI-AR line items: baseline date and days of the terms (due = ZFBDT + ZBD1T), debit/credit (SHKZG)
        "baseline_date": ("zfbdt", "baselinedate", "basisdatum", "basislinedatum"),
        "terms_days": ("zbd1t", "termsdays", "paymentterms", "terms", "betalingstermijn", "zahlungsziel",
                       "delaidepaiement"),
        "debit_credit": ("shkzg", "debitcredit", "debitcreditindicator", "sollhaben", "debetcredit"),
    },
    "payments": {
        "payment_id": ("paymentid", "paymentnumber", "paymentno", "betalingsnummer", "betalingid", "zahlungsnummer",
                       "numeropaiement", "reference"),
        "customer_id": ("customerid", "customer", "debtor", "debiteur", "klant", "kunde", "kundennummer", "kunnr",
                        "partnerid", "client"),
        "invoice_id": ("invoiceid", "invoicenumber", "invoice", "factuurnummer", "factuur", "rechnungsnummer",
                       "belnr", "facture", "numerofacture"),
        "payment_date": ("paymentdate", "paiddate", "valuedate", "betaaldatum", "betalingsdatum", "valutadatum",
                         "zahlungsdatum", "wertstellung", "datepaiement", "datedevaleur", "date", "datum"),
        "amount": ("amount", "paidamount", "amountpaid", "paymentamount", "bedrag", "betaaldbedrag", "betrag",
                   "zahlbetrag", "montant", "montantpaye"),
        "currency": ("currency", "currencycode", "valuta", "wahrung", "waehrung", "devise", "waers"),
    },
    "customers": {
        "customer_id": ("customerid", "customernumber", "customer", "clientid", "debtor", "debiteur", "debiteurnummer",
                        "klantnummer", "klant", "kundennummer", "kunde", "kunnr", "numeroclient", "partnerid", "id"),
        "name": ("name", "customername", "naam", "klantnaam", "bedrijfsnaam", "firmenname", "name1", "nom",
                 "raisonsociale", "company"),
        "country": ("country", "countrycode", "land", "landcode", "landeskennzeichen", "land1", "pays", "codepays"),
    },
}  # fmt: skip


def _norm(text: str) -> str:
    """A header as compared: no accents, case, spaces or punctuation (``Fälligkeits-Datum`` -> ``falligkeitsdatum``)."""
    plain = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]", "", plain.lower())


def _score(header: str, words: tuple[str, ...]) -> float:
    """1 for a header that is one of the words, less the later the word stands (more generic), 0.5 for a header
    that contains one of the longer words, else 0."""
    h = _norm(header)
    for i, w in enumerate(words):
        if h == w:
            return 1.0 - 0.001 * i
    for w in words:
        if len(w) >= 6 and w in h:
            return 0.5
    return 0.0


def _guess_table(headers: list[str]) -> str:
    """The table whose required columns the headers cover best (invoices on a tie)."""
    best, score = "invoices", -1.0
    for table, words in SYNONYMS.items():
        found = {c for c in words if max((_score(h, words[c]) for h in headers), default=0) > 0}
        if "terms_days" in found:
            found.add("due_date")
        required = [c.name for c in TABLES[table].columns if c.required and c.name in words]
        # the required columns covered, then the most columns recognised (a customer number alone is no table)
        s = len(found & set(required)) / max(len(required), 1) + 0.1 * len(found) + 0.01 * (table == "invoices")
        if s > score:
            best, score = table, s
    return best


_PSEUDO = {"baseline_date": ColumnKind.DATE, "terms_days": ColumnKind.INT, "debit_credit": ColumnKind.TEXT}


def _kind(spec: object, column: str) -> ColumnKind:
    """The kind of a canonical column, or of a source column that validation consumes (terms, baseline date)."""
    return _PSEUDO[column] if column in _PSEUDO else spec.column(column).kind  # type: ignore[attr-defined]


def propose_mapping(frame: pd.DataFrame, table: str | None = None) -> tuple[str, dict, list[tuple[str, str, str]]]:
    """The table a file holds, the mapping of its columns and formats, and one line of evidence per choice.

    Returns
    -------
    table : str
    mapping : dict
        ``columns``, ``date_formats``, ``decimal``, ``thousands`` entries for this table (``None`` where the values
        leave a choice open).
    evidence : list of (column, choice, why)

    Examples
    --------
    >>> f = pd.DataFrame({"factuurnummer": ["F1"], "debiteur": ["D1"], "factuurdatum": ["31-12-2024"],
    ...                   "vervaldatum": ["30-01-2025"], "bedrag": ["1.234,56"]})
    >>> table, mapping, _ = propose_mapping(f)
    >>> table, mapping["columns"]["bedrag"], mapping["date_formats"]["issue_date"], mapping["decimal"]
    ('invoices', 'amount', '%d-%m-%Y', ',')
    """
    headers = [str(c) for c in frame.columns]
    table = table or _guess_table(headers)
    words = SYNONYMS.get(table, {})
    spec = TABLES[table]
    # every (header, column) pair by score; each header and each column is taken once, best pairs first
    pairs = sorted(
        ((_score(h, w), -i, h, c) for c, w in words.items() for i, h in enumerate(headers) if _score(h, w) > 0),
        reverse=True,
    )
    columns: dict[str, str] = {}
    evidence: list[tuple[str, str, str]] = []
    taken: set[str] = set()
    for score, _, header, canonical in pairs:
        if header in columns or canonical in taken:
            continue
        kind = _kind(spec, canonical)
        values = frame[header].dropna().astype(str).str.strip()
        values = values.loc[values != ""]
        if kind in (ColumnKind.DATE, ColumnKind.DATETIME) and len(values):
            reading = infer_date_format(values)
            if reading.value is None and not reading.candidates:
                continue  # the header says date, the values are not
        columns[header] = canonical
        taken.add(canonical)
        how = "header word" if score > 0.5 else "header contains the word"
        evidence.append((header, canonical, f"{how}; {values.nunique():,} distinct values, e.g. {values.iloc[0]!r}"
                         if len(values) else f"{how}; no values"))  # fmt: skip
    date_formats: dict[str, str | None] = {}
    readings = settle_date_formats({
        (h, c): infer_date_format(frame[h].dropna().astype(str))
        for h, c in columns.items()
        if _kind(spec, c) in (ColumnKind.DATE, ColumnKind.DATETIME)
    })  # fmt: skip
    for (header, canonical), reading in readings.items():
        value, why = reading.value, reading.evidence
        if value != "ISO8601":
            date_formats[canonical] = value
            choice = value or f"one of {', '.join(reading.candidates)}: say which"
            evidence.append((header, f"dates as {choice}", why))
    money = [h for h, c in columns.items() if _kind(spec, c) is ColumnKind.MONEY]
    decimal: str | None = "."  # None: the amounts leave it open
    thousands: str | None = None
    if money:
        sep = infer_separators(pd.concat([frame[h].dropna().astype(str) for h in money]))
        decimal, thousands = sep.decimal, sep.thousands
        evidence.append((", ".join(money), f"decimal {decimal!r}, thousands {thousands!r}", sep.evidence))
    missing = [c.name for c in spec.columns if c.required and c.name not in taken]
    if "due_date" in missing and "terms_days" in taken:
        missing.remove("due_date")
        base = "the baseline date" if "baseline_date" in taken else "the issue date"
        evidence.append(("terms", "due_date", f"no due date column: due date = {base} + terms_days"))
    kinds = [h for h in headers if _norm(h) in {"documenttype", "doctype", "belegart", "blart", "typedocument",
                                                 "movetype", "documentsoort"}]  # fmt: skip
    if kinds:
        seen = ", ".join(map(repr, frame[kinds[0]].dropna().astype(str).unique()[:6]))
        evidence.append((kinds[0], "a filter", f"the export mixes document types ({seen}): keep the invoices and "
                         "credit notes only (filter before exporting, or read with a SQL query); payments belong "
                         "in the payments table"))  # fmt: skip
    for c in missing:
        evidence.append(("?", c, "required, but no column looks like it: add the line `<your column>: " + c + "`"))
    mapping = {"columns": columns, "date_formats": date_formats, "decimal": decimal, "thousands": thousands,
               "headers": headers}  # fmt: skip
    return table, mapping, evidence


def mapping_yaml(proposals: list[tuple[Path, str, dict, list, dict]]) -> str:
    """The proposed mapping file: ``files``, ``columns``, ``date_formats``, separators and the file dialect, each
    choice with its evidence as a comment; an open choice is written commented out, for the user to settle."""

    def q(value: object) -> str:
        return json.dumps(value, ensure_ascii=False)

    lines = ["# proposed by `payrisk map`; check each line, then `payrisk validate DATA --mapping THIS_FILE`"]
    lines.append("files:")
    lines += [f"  {table}: {q(path.name)}" for path, table, *_ in proposals]
    lines.append("columns:")
    for path, table, mapping, evidence, _ in proposals:
        why: dict[str, str] = {}
        for h, _, w in evidence:
            why.setdefault(h, w)
        lines.append(f"  {table}:  # {path.name}")
        lines += [f"    {q(h)}: {c}  # {why.get(h, '')}" for h, c in mapping["columns"].items()]
        rest = [h for h in mapping["headers"] if h not in mapping["columns"]]
        if rest:
            lines.append(f"    # not mapped, kept as extra columns: {', '.join(rest)}")
        lines += [f"    # WARNING {h}: {w}" for h, c, w in evidence if c == "a filter"]
        lines += [f"    # {c}: required, no column looks like it; add `<your column>: {c}`"
                  for h, c, _ in evidence if h == "?"]  # fmt: skip
    formats = [(t, m["date_formats"]) for _, t, m, _, _ in proposals if m["date_formats"]]
    if formats:
        lines.append("date_formats:")
        for table, fmts in formats:
            lines.append(f"  {table}:")
            for col, fmt in fmts.items():
                lines.append(f"    {col}: {q(fmt)}" if fmt else f"    # {col}: \"%d/%m/%Y\"  # or \"%m/%d/%Y\": the "
                             "values read both ways; uncomment the right one")  # fmt: skip
    decimals = {m["decimal"] for _, _, m, _, _ in proposals}
    thousands = {m["thousands"] for _, _, m, _, _ in proposals}
    if None in decimals or len(decimals) > 1:
        lines.append('# decimal: ","  # or ".": the amounts leave it open (e.g. 3.300); uncomment the right one')
    else:
        lines.append(f"decimal: {q(decimals.pop())}")
        sep = thousands.pop() if len(thousands) == 1 else None
        if sep:
            lines.append(f"thousands: {q(sep)}")
    dialects = {(d["encoding"], d["delimiter"]) for *_, d in proposals if d["encoding"]}
    if len(dialects) == 1:
        encoding, delimiter = dialects.pop()
        lines += [f"encoding: {q(encoding)}", f"delimiter: {q(delimiter)}"]
    return "\n".join(lines) + "\n"
