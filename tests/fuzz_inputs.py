"""Malformed exports for the command-line fuzz suite (tests/test_fuzz_command.py, benchmarks/fuzz_command.py): an
invoices table written as real exports write it (delimiter, encoding, date format, decimal separator), then broken
the ways real files break (stray quotes, short and long records, junk amounts and dates, formula text, odd
headers), each row's truth kept: what a correct reader must accept, and with which amount."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

DATE_STYLES = ["%Y-%m-%d", "%d-%m-%Y", "%m/%d/%Y", "%d.%m.%Y", "%d/%m/%Y"]
JUNK_AMOUNTS = ["1e308", "-1e400", "nan", "inf", "abc", "=1+1", "1,2,3", "--5", "12..5", "1e-320", " ", "0x1F"]
JUNK_DATES = ["2024-02-30", "31/31/2024", "yesterday", "1850-01-01", "9999-12-31", "=NOW()", "0", "13-13-13"]


@dataclass
class Case:
    """One export: its bytes, the mapping file's text (or None) and what a right reading gives."""

    content: bytes
    mapping: str | None
    records: int  #: data records as a spreadsheet would count them (non-blank lines after the header)
    #: invoice id -> amount, for the rows written clean (a right reader accepts them with exactly this amount,
    #: unless a broken line next to them takes them along)
    clean: dict[str, float] = field(default_factory=dict)
    junk: set[str] = field(default_factory=set)  #: ids of rows written with a junk value: never accepted
    notes: list[str] = field(default_factory=list)


def _money(value: float, decimal: str, thousands: str) -> str:
    whole, frac = f"{abs(value):,.2f}".split(".")
    return ("-" if value < 0 else "") + whole.replace(",", thousands) + decimal + frac


def make_case(rng: random.Random) -> Case:
    """A random export of 3-15 invoices with random damage."""
    sep = rng.choice([",", ";", "\t", "|"])
    decimal, thousands = rng.choice([(".", ","), (",", "."), (".", ""), (",", "")])
    if thousands == sep or decimal == sep:
        decimal, thousands = ".", ""
    style = rng.choice(DATE_STYLES)
    encoding = rng.choice(["utf-8", "utf-8-sig", "cp1252"])
    n = rng.randint(3, 15)
    header = ["invoice_id", "customer_id", "issue_date", "due_date", "amount"]
    case = Case(b"", None, 0)
    lines = []
    for i in range(n):
        day = pd.Timestamp("2023-01-01") + pd.Timedelta(days=rng.randint(0, 600))
        # one date above the 12th settles day against month in every style
        day = day.replace(day=25) if i == 0 else day
        amount = round(rng.uniform(1, 25_000), 2) * (1 if rng.random() > 0.1 else -1)
        row = [f"I{i}", rng.choice(["C1", "C2", "Café Müller"]), day.strftime(style),
               (day + pd.Timedelta(days=30)).strftime(style), _money(amount, decimal, thousands)]  # fmt: skip
        damage = rng.random()
        if damage < 0.08:
            row[4] = rng.choice(JUNK_AMOUNTS)
            case.junk.add(row[0])
        elif damage < 0.14:
            row[rng.choice([2, 3])] = rng.choice(JUNK_DATES)
            case.junk.add(row[0])
        elif damage < 0.18:
            row = row[: rng.randint(1, 4)]  # a short record
            case.junk.add(row[0])
        elif damage < 0.21:
            row = [*row, "extra"]  # a long one
            case.junk.add(row[0])
        elif damage < 0.24:
            row[1] = '"' + row[1]  # a stray quote
            case.junk.add(row[0])
        elif damage < 0.27:
            row[1] = rng.choice(['=HYPERLINK("x")', "+cmd", "@SUM(A1)"])  # formula text: a plain id, kept as text
            case.clean[row[0]] = float(amount)
        else:
            case.clean[row[0]] = float(amount)
        lines.append(sep.join(_quote(v, sep) for v in row))
        if rng.random() < 0.05:
            lines.append("")  # a blank line: not a record
    case.records = sum(1 for line in lines if line.strip())
    if rng.random() < 0.05:
        header = [*header[:2], header[1], *header[3:]]  # a duplicated header
        case.notes.append("duplicate header")
    if rng.random() < 0.04:
        header = header[:-1]  # the amount column is missing
        case.notes.append("missing column")
    text = sep.join(header) + "\n" + "\n".join(lines) + ("\n" if rng.random() < 0.8 else "")
    case.content = text.encode(encoding, errors="replace")
    if rng.random() < 0.3:
        case.mapping = f"decimal: {decimal!r}\n" + (f"thousands: {thousands!r}\n" if thousands else "")
        if rng.random() < 0.3:
            case.mapping = rng.choice(["decimal: ','\nthousands: ','\n", "columns: [1, 2]\n", "date_formats: {",
                                       "invoices: {amount: nonsense}\n", "max_amount: -1\n"])  # fmt: skip
            case.notes.append("bad mapping")
    return case


def _quote(value: str, sep: str) -> str:
    """A field as a careful writer quotes it: when it holds the delimiter."""
    return f'"{value}"' if sep in value and not value.startswith('"') else value


def write_case(case: Case, folder: Path) -> tuple[Path, Path | None]:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "invoices.csv").write_bytes(case.content)
    mapping = None
    if case.mapping is not None:
        mapping = folder.parent / f"{folder.name}_mapping.yaml"
        mapping.write_text(case.mapping, encoding="utf-8")
    return folder / "invoices.csv", mapping
