"""What the command line reads and writes: data folders of CSV or Parquet tables, outputs in three formats,
and progress bars that only show on a terminal (private)."""

from __future__ import annotations

import csv
import io
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from payrisk._safe_csv import neutralise_frame, to_safe_csv
from payrisk._text import decode_or_explain
from payrisk.errors import DataFileError, ParameterError
from payrisk.schema import INPUT_TABLES, MALFORMED

if TYPE_CHECKING:
    from payrisk.ledger import Ledger

TABLES = INPUT_TABLES
FORMATS = ("table", "json", "csv", "parquet")


_DELIMITERS = (",", ";", "\t", "|")


def _decode(raw: bytes, path: Path, encoding: str | None) -> tuple[str, str]:
    """The file's text and the encoding it was read in: the one given, else UTF-8 (with or without a byte-order
    mark), else Windows-1252, else Latin-1 (which reads any byte)."""
    how = " (Excel: Save As > CSV UTF-8), or name its encoding, e.g. --encoding cp1252 (Windows) or --encoding latin-1"
    if encoding is not None:
        return decode_or_explain(raw, str(path), encoding, DataFileError, how), encoding
    if raw.startswith(b"\xef\xbb\xbf"):
        return decode_or_explain(raw[3:], str(path), "utf-8", DataFileError, how), "utf-8-sig"
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return decode_or_explain(raw, str(path), "utf-16", DataFileError, how), "utf-16"
    for candidate in ("utf-8", "cp1252", "latin-1"):
        try:
            return raw.decode(candidate), candidate
        except UnicodeDecodeError:
            continue
    raise AssertionError("latin-1 decodes any byte")  # pragma: no cover


def _sniff_delimiter(text: str) -> str:
    """The delimiter that splits the header and the first records into the same number of fields (most fields
    on a tie); a comma when none splits the header. Lines above the header that no delimiter splits (a report's
    title, the date it was printed) are passed over; a title such as ``Open items;;;;`` splits as the records do."""
    lines = text.splitlines()[:80]
    start = next(
        (
            k
            for k, line in enumerate(lines)
            if any(len(next(csv.reader([line], delimiter=d), [])) >= 2 for d in _DELIMITERS)
        ),
        0,
    )
    head = lines[start : start + 50]
    best, score = ",", (0, 0)
    for d in _DELIMITERS:
        rows = [r for r in csv.reader(head, delimiter=d) if r]
        if not rows or len(rows[0]) < 2:
            continue
        same = sum(len(r) == len(rows[0]) for r in rows)
        if (same, len(rows[0])) > score:
            best, score = d, (same, len(rows[0]))
    return best


def _header_row(filled: list[int]) -> int:
    """Which of the first rows is the header, from the number of non-empty fields of each (0 for a blank row):
    the first with two or more that has at least as many as most of the rows after it. The rows above it (a
    report's title, the date it was printed) must each fill at most half as many fields, else the first row is
    the header and the file is read as it is: a row is never skipped by guess."""
    for i, k in enumerate(filled):
        after = [n for n in filled[i + 1 : i + 31] if n > 0]
        if k >= 2 and (not after or k >= float(np.median(after))):
            return i if all(n <= k / 2 for n in filled[:i]) else 0
    return 0


def _title_lines(text: str, sep: str) -> int:
    """How many physical lines of ``text`` stand above its header (:func:`_header_row`); 0 for most files."""
    head = text.split("\n", 61)[:60]
    filled = [sum(1 for f in next(csv.reader([line], delimiter=sep), []) if f.strip()) for line in head]
    return _header_row(filled)


def _read_csv(
    path: Path, table: str, encoding: str | None, delimiter: str | None = None
) -> tuple[pd.DataFrame, list, dict]:
    """One table file as text columns, with what was inferred of its encoding and delimiter. A record that does
    not split into the header's fields (a stray quote, a missing or extra field) is kept as a row of its own,
    its raw text in the column ``MALFORMED``, for validation to reject with its line: nothing is lost."""
    raw = path.read_bytes()
    if not raw.strip():
        from payrisk.schema import TABLES as SPECS

        needed = [c.name for c in SPECS[table].columns if c.required]
        raise DataFileError(
            f"{path}: the file is empty; table {table!r} needs a header row with at least the columns "
            f"{', '.join(needed)} (or your names for them in --mapping), or remove the file."
        )
    utf16 = raw.startswith((b"\xff\xfe", b"\xfe\xff"))  # Excel's "Unicode text": UTF-16 with its mark
    if raw.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")) or (b"\x00" in raw[:4096] and not utf16):
        kind = "an Excel workbook or a zip archive" if raw.startswith(b"PK") else "not text"
        raise DataFileError(
            f"{path}: this is {kind}, not a CSV file. Name an Excel workbook .xlsx (payrisk reads it by sheet), or "
            "export the table as CSV."
        )
    text, used = _decode(raw, path, encoding)
    sep = delimiter or _sniff_delimiter(text)
    title = _title_lines(text, sep)
    if title:  # a report's title above the header: read from the header on, number the lines as in the file
        lines = text.split("\n", title)
        text = lines[-1]
    limit = csv.field_size_limit()
    csv.field_size_limit(max(limit, len(text) + 1))  # a stray quote may run to the end of the file: one field
    try:
        frame, notes = _read_records(path, table, text, sep, encoding, delimiter, used, title)
    finally:
        csv.field_size_limit(limit)
    if title:
        above = " / ".join(t.strip().rstrip(sep) for t in lines[:-1] if t.strip().rstrip(sep))[:120]
        notes.append((table, "(file)", path.name, f"header on line {title + 1}",
                      f"the {title} line(s) above it skipped, a title: {above!r}"))  # fmt: skip
    return frame, notes, {"encoding": used, "delimiter": sep}


def _read_records(
    path: Path,
    table: str,
    text: str,
    sep: str,
    encoding: str | None,
    delimiter: str | None,
    used: str,
    offset: int = 0,
) -> tuple[pd.DataFrame, list]:
    """The records of ``text`` (the file from its header on: ``offset`` lines above it were skipped)."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep, strict=False)
    try:
        header = next(r for r in reader if r)
    except StopIteration:  # pragma: no cover - the file is not blank
        header = []
    except csv.Error as exc:
        raise DataFileError(f"{path}: the header is not a CSV line ({exc}); check its quoting.") from None
    header = [h.strip() for h in header]
    frame = _read_plain(text, sep, len(header))
    if frame is not None:  # no quotes and every record has the header's fields: pandas' C parser reads it as is
        frame.columns = header
        return frame, _dialect_notes(table, path, encoding, delimiter, used, sep, len(header))
    rows: list[list[str | None]] = []
    bad: list[str | None] = []
    physical: list[str] | None = None

    def keep(record: list[str], lines: str) -> None:
        if len(record) == len(header):
            rows.append([v if v != "" else None for v in record])
            bad.append(None)
        else:
            rows.append([None] * len(header))
            bad.append(f"{lines}: {len(record)} fields for {len(header)} columns: {sep.join(record)[:200]}")

    start = reader.line_num
    try:
        for record in reader:
            end = reader.line_num
            if record and record != [""]:
                lines: list[tuple[list[str], int]] = []
                whole = False
                if end > start + 1:  # one record over several lines: a quoted line break, or a stray quote
                    physical = physical if physical is not None else text.split("\n")
                    raw_lines = [(physical[k].rstrip("\r"), k + 1) for k in range(start, end) if physical[k].strip()]
                    lines = [(next(csv.reader([t], delimiter=sep), []), k) for t, k in raw_lines]
                    # a line that splits into the header's fields when quotes are ignored is a record of its own
                    bare = csv.reader([t for t, _ in raw_lines], delimiter=sep, quoting=csv.QUOTE_NONE)
                    whole = any(len(r) == len(header) for r in bare)
                if lines and (len(record) != len(header) or whole):
                    # a stray quote joined whole records: each line is a record of its own again, so only the
                    # broken line is rejected and none after it is lost
                    for r, k in lines:
                        keep(r, f"line {k + offset}")
                else:
                    where = f"line {end + offset}" if end == start + 1 else f"lines {start + 1 + offset}-{end + offset}"
                    keep(record, where)
            start = end
    except csv.Error as exc:
        raise DataFileError(f"{path}, line {reader.line_num + offset}: not a readable CSV record ({exc}).") from None
    frame = pd.DataFrame(rows, columns=header, dtype=object)
    if any(b is not None for b in bad):
        frame[MALFORMED] = pd.Series(bad, dtype=object)
    return frame, _dialect_notes(table, path, encoding, delimiter, used, sep, len(header))


def _dialect_notes(
    table: str, path: Path, encoding: str | None, delimiter: str | None, used: str, sep: str, n_columns: int
) -> list:
    """What was read off the file (its encoding and delimiter), for the report."""
    notes = []
    if encoding is None and used != "utf-8":
        notes.append((table, "(file)", path.name, f"encoding {used}", "not UTF-8" if used != "utf-8-sig" else "BOM"))
    if delimiter is None and sep != ",":
        notes.append((table, "(file)", path.name, f"delimiter {sep!r}", f"splits the header into {n_columns} "
                      "columns, as the records"))  # fmt: skip
    return notes


def _read_plain(text: str, sep: str, n_columns: int) -> pd.DataFrame | None:
    """The table by pandas' C parser when that cannot lose or merge a record: no quote character anywhere, and
    every non-blank line holds exactly the header's number of delimiters (counted in one vectorised pass);
    else None, for the record-by-record reader."""
    if '"' in text or len(sep) != 1 or ord(sep) > 127 or n_columns < 2:
        return None
    raw = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)
    newline = np.flatnonzero(raw == 10)
    fields = np.bincount(np.searchsorted(newline, np.flatnonzero(raw == ord(sep))), minlength=len(newline) + 1) + 1
    for k in np.flatnonzero(fields == 1):  # lines without a delimiter: only empty ones may pass (few: the last)
        start = int(newline[k - 1]) + 1 if k > 0 else 0
        end = int(newline[k]) if k < len(newline) else len(raw)
        if raw[start:end].tobytes().strip(b"\r"):  # content, or spaces pandas would read as a record
            return None
    if not (fields[fields > 1] == n_columns).all():
        return None
    frame = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False, na_values=[""],
                        quoting=csv.QUOTE_NONE, skip_blank_lines=True, header=0)  # fmt: skip
    return frame  # text columns, empty fields missing, as the record-by-record reader gives them


def _table_files(data: Path, files: dict[str, str]) -> dict[str, Path]:
    """Where each table lies: the mapping's ``files`` (relative to the data folder), else ``<table>.parquet`` or
    ``<table>.csv`` in it; DATA may be one file, the invoices unless ``files`` names it for another table."""
    folder = data if data.is_dir() else data.parent
    if not data.is_dir() and not data.is_file():
        raise ParameterError(f"DATA must be a folder of CSV or Parquet tables, or one CSV file; {data} is neither.")
    if data.is_file() and data.name not in files.values() and str(data) not in files.values():
        files = {**files, "invoices": data.name}
    out = {}
    for name in TABLES:
        if name in files:
            path = Path(files[name])
            path = path if path.is_absolute() else folder / path
            if not path.is_file():
                raise DataFileError(f"{path}: no such file (the mapping's files: {name}: {files[name]!r}).")
            out[name] = path
        else:
            for suffix in (".parquet", ".csv", ".xlsx"):
                if (folder / f"{name}{suffix}").is_file():
                    out[name] = folder / f"{name}{suffix}"
                    break
    return out


def read_workbook(path: Path, table: str, sheet: str | None = None) -> tuple[pd.DataFrame, list]:
    """One sheet of an Excel workbook as text columns: the named one, else the only one, else the one named
    after the table; several sheets and no name is refused with the sheet names and the line to add."""
    from openpyxl import load_workbook

    try:
        names = load_workbook(path, read_only=True).sheetnames
    except Exception as exc:  # openpyxl raises many kinds on a damaged or foreign file
        raise DataFileError(f"{path}: not a readable Excel workbook (.xlsx) ({type(exc).__name__}: {exc}).") from None
    if sheet is None:
        same = [n for n in names if n.strip().lower() == table]
        if len(names) == 1 or same:
            sheet = names[0] if len(names) == 1 else same[0]
        else:
            raise DataFileError(
                f"{path}: the workbook has {len(names)} sheets ({', '.join(map(repr, names))}); say which holds "
                f"the {table}: `sheets: {{{table}: {names[0]!r}}}` in the mapping."
            )
    elif sheet not in names:
        raise DataFileError(f"{path}: no sheet {sheet!r}; the sheets are {names}.")
    try:
        grid = pd.read_excel(path, sheet_name=sheet, dtype=str, engine="openpyxl", keep_default_na=False, header=None)
    except Exception as exc:
        raise DataFileError(f"{path}, sheet {sheet!r}: not readable ({type(exc).__name__}: {exc}).") from None
    grid = grid.replace("", None)
    # the first 60 rows only: a bounded look for the header, never a pass over the records
    filled = grid.head(60).map(lambda v: pd.notna(v) and str(v).strip() != "").sum(axis=1)
    top = _header_row(filled.astype(int).tolist())
    notes = [(table, "(file)", f"{path.name}, sheet {sheet!r}", "Excel workbook", f"{len(names)} sheets")]
    if top:  # a report's title above the header
        above = " / ".join(str(v).strip() for v in grid.iloc[:top].to_numpy().ravel() if pd.notna(v))[:120]
        notes.append((table, "(file)", f"{path.name}, sheet {sheet!r}", f"header on row {top + 1}",
                      f"the {top} row(s) above it skipped, a title: {above!r}"))  # fmt: skip
    # the header's names as pandas gives them: an empty one is "Unnamed: j", a repeated one gets ".1", ".2"
    header: list[str] = []
    for j, c in enumerate(grid.iloc[top] if len(grid) else []):
        name = str(c).strip() if pd.notna(c) and str(c).strip() else f"Unnamed: {j}"
        base, k = name, 0
        while name in header:
            k += 1
            name = f"{base}.{k}"
        header.append(name)
    frame = grid.iloc[top + 1 :].reset_index(drop=True)
    frame.columns = header
    return frame, notes


def read_table_file(
    path: Path, table: str, encoding: str | None = None, delimiter: str | None = None, sheet: str | None = None
) -> tuple[pd.DataFrame, list, dict]:
    """One table file by its suffix (Parquet, Excel workbook, else CSV): the frame, what was read off it for the
    report, and the CSV dialect used (``encoding``, ``delimiter``; None for the typed files)."""
    typed = {"encoding": None, "delimiter": None}
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return (*read_workbook(path, table, sheet), typed)
    if path.suffix.lower() == ".parquet":
        try:
            return pd.read_parquet(path), [], typed
        except (OSError, ValueError) as exc:
            raise DataFileError(f"{path}: not a readable Parquet file ({exc}); write it again.") from None
    return _read_csv(path, table, encoding, delimiter)


def _read_folder(
    folder: str | Path,
    encoding: str | None = None,
    delimiter: str | None = None,
    files: dict | None = None,
    sheets: dict | None = None,
) -> tuple[dict[str, pd.DataFrame], list]:
    folder = Path(folder)
    tables, notes = {}, []
    for name, path in _table_files(folder, files or {}).items():
        tables[name], found, _ = read_table_file(path, name, encoding, delimiter, (sheets or {}).get(name))
        notes += found
    if "invoices" not in tables:
        folder = folder if folder.is_dir() else folder.parent
        found = sorted(p.name for p in folder.iterdir())[:10]
        raise ParameterError(
            f"{folder} holds no invoices.csv or invoices.parquet (found: {found}); name each table file after "
            f"its table: {', '.join(TABLES)}."
        )
    return tables, notes


def read_folder(folder: str | Path, encoding: str | None = None) -> dict[str, pd.DataFrame]:
    """The tables of a data folder: ``<table>.csv`` or ``<table>.parquet`` for each known table name."""
    return _read_folder(folder, encoding)[0]


def load_ledger(folder: str | Path, mapping: str | None = None, encoding: str | None = None) -> Ledger:
    """Validate a data folder into a ledger (rejected rows are in ``ledger.report``, and what was read off the
    files, their encoding and delimiter, in ``ledger.report.inferred``)."""
    from payrisk.ledger import Ledger
    from payrisk.schema import ColumnMapping

    # the fixes payrisk prints are written as mapping-file lines (YAML), the syntax the command's user writes
    spec = ColumnMapping.coerce(mapping) if mapping is not None else ColumnMapping().in_syntax("yaml")
    from payrisk._sql import is_url

    if is_url(str(folder)):  # a database: postgresql://..., sqlite:///ledger.db, duckdb:///ledger.duckdb
        return Ledger.from_sql(str(folder), mapping=spec)
    tables, notes = _read_folder(folder, encoding or spec.encoding, spec.delimiter, spec.files, spec.sheets)
    get = tables.get  # the keys of ``tables`` are among TABLES
    ledger = Ledger.from_frames(
        customers=get("customers"), ratings=get("ratings"), credit_limits=get("credit_limits"),
        invoices=get("invoices"), payments=get("payments"), plans=get("plans"), installments=get("installments"),
        contacts=get("contacts"), mapping=spec,
    )  # fmt: skip
    if notes:
        read = pd.DataFrame(notes, columns=ledger.report.inferred.columns)
        ledger.report.inferred = pd.concat([read, ledger.report.inferred], ignore_index=True)
    return ledger


def write_tables(ledger: Ledger, folder: str | Path) -> Path:
    """Write a ledger's tables as a data folder of CSV files (formula-safe) that ``read_folder`` reads back."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for name in TABLES:
        table = getattr(ledger, name)
        if name == "invoices":
            # credit notes are negative invoice rows in a data folder: they come back as credit notes, none lost
            credit = ledger.credit_notes.rename(columns={"credit_note_id": "invoice_id"})
            table = pd.concat([table, credit], ignore_index=True) if len(credit) else table
            table = table.drop(columns=["paid_amount", "open_amount"], errors="ignore")
        if len(table):
            to_safe_csv(table, folder / f"{name}.csv")
    return folder


def check_target(fmt: str | None, out: str | None) -> None:
    """Refuse a binary format without a file to write it to (before any work, and again where it is written)."""
    if fmt == "parquet" and out is None:
        raise ParameterError("--format parquet needs --out FILE (Parquet is binary, not for a terminal).")


def emit(frame: pd.DataFrame, fmt: str, out: str | None, index: bool = True, dialect: str = "standard") -> None:
    """Write ``frame`` to ``out`` (or stdout) as a readable table, JSON records, safe CSV or Parquet."""
    frame = frame.reset_index() if index and not isinstance(frame.index, pd.RangeIndex) else frame
    check_target(fmt, out)
    if fmt == "parquet" and out is not None:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        frame.to_parquet(out, index=False)
    elif fmt == "csv":
        if out is None:
            neutralise_frame(frame).to_csv(sys.stdout, index=False)
        else:
            to_safe_csv(frame, out, dialect=dialect)
    elif fmt == "json":
        text = frame.to_json(orient="records", date_format="iso", indent=None)
        if out is None:
            print(text)
        else:
            Path(out).write_text(text + "\n", encoding="utf-8")
    else:
        text = frame.to_string(max_rows=40, max_colwidth=60)
        if out is None:
            print(text)
        else:
            Path(out).write_text(text + "\n", encoding="utf-8")


@contextmanager
def progress_bar(total: int, description: str, enabled: bool) -> Iterator[Any]:
    """A tqdm bar on stderr when ``enabled`` (a terminal), else nothing; yields a ``(step, done, total)``
    callback as :class:`payrisk.RiskEngine` takes it."""
    if not enabled:
        yield lambda step, done, total: None
        return
    from tqdm import tqdm

    with tqdm(total=total, desc=description, file=sys.stderr, leave=False) as bar:

        def update(step: str, done: int, total: int) -> None:
            bar.total = total
            bar.set_postfix_str(step)
            bar.n = done
            bar.refresh()

        yield update


def _read_actions(path: str | Path) -> pd.DataFrame:
    """A plan as ``payrisk plan`` writes it: CSV, JSON records or Parquet, by the file's suffix."""
    path = Path(path)
    if not path.is_file():
        raise DataFileError(f"{path}: no such file; write the plan with `payrisk plan ... --format csv --out {path}`.")
    try:
        if path.suffix.lower() == ".parquet":
            return pd.read_parquet(path)
        if path.suffix.lower() == ".json":
            return pd.read_json(path, orient="records", dtype=False)
        return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    except (ValueError, OSError, pd.errors.ParserError) as exc:
        raise DataFileError(f"{path}: not a plan payrisk can read ({exc}); write it with `payrisk plan`.") from None


def record_contacts(
    folder: str | Path, actions: str | Path, mapping: str | None = None, encoding: str | None = None
) -> tuple[int, int]:
    """Append the sent actions of a plan (``status == "send"``) to the folder's contacts table, one row per
    invoice, in the table's own column names (``mapping``); a contact already recorded (same ``contact_id``) is
    not written again. Returns (added, already recorded)."""
    from payrisk.dunning import to_contacts
    from payrisk.schema import ColumnMapping

    plan = _read_actions(actions)
    need = ["action_id", "customer_id", "invoice_ids", "status", "send_at", "channel", "tone", "template"]
    missing = [c for c in need if c not in plan.columns]
    if missing:
        raise DataFileError(
            f"{actions}: a plan needs the columns {need}; {missing} are missing. Record the file that "
            "`payrisk plan` wrote, unchanged."
        )
    new = to_contacts(plan)
    new["sent_at"] = pd.to_datetime(new["sent_at"], format="ISO8601").dt.strftime("%Y-%m-%d %H:%M:%S")
    spec = ColumnMapping.coerce(mapping)
    names = {canon: user for user, canon in spec.columns.get("contacts", {}).items()}
    new = new.rename(columns=names)
    id_col = names.get("contact_id", "contact_id")
    folder = Path(folder)
    parquet, path = folder / "contacts.parquet", folder / "contacts.csv"
    existing = not parquet.is_file() and path.is_file() and bool(path.read_bytes().strip())
    if parquet.is_file():
        old = pd.read_parquet(parquet)
    elif existing:
        old, _, dialect = _read_csv(path, "contacts", encoding or spec.encoding, spec.delimiter)
        sep = dialect["delimiter"]
        # appended lines carry no second byte-order mark
        with path.open("rb") as fh:
            mark = fh.read(2)
        utf16 = "utf-16-le" if mark == b"\xff\xfe" else "utf-16-be"
        encoding = {"utf-8-sig": "utf-8", "utf-16": utf16}.get(dialect["encoding"], dialect["encoding"])
    else:
        old = pd.DataFrame(columns=new.columns)
    if len(old) and id_col not in old.columns:
        raise DataFileError(
            f"{parquet if parquet.is_file() else path}: the contacts table has no {id_col!r} column, so payrisk "
            f"cannot tell what was recorded already; map your contact id column onto contact_id in --mapping."
        )
    known = new[id_col].isin(set(old[id_col].astype(str))) if len(old) else np.zeros(len(new), dtype=bool)
    add = new.loc[~np.asarray(known)]
    if parquet.is_file():
        both = pd.concat([old, add.astype({c: old[c].dtype for c in add.columns if c in old.columns}, errors="ignore")])
        tmp = parquet.with_suffix(".parquet.tmp")
        both.to_parquet(tmp, index=False)
        tmp.replace(parquet)
    elif existing:  # an existing contacts file: append in its own dialect
        header = list(old.columns) + [c for c in add.columns if c not in old.columns]
        if header != list(old.columns):  # a column the file lacks (e.g. tone): rewrite with it, values kept
            both = pd.concat([old, add], ignore_index=True)[header]
            both.to_csv(path.with_suffix(".csv.tmp"), index=False, encoding=encoding, sep=sep)
            path.with_suffix(".csv.tmp").replace(path)
        else:
            with path.open("rb") as fh:
                fh.seek(-1, 2)
                ends = fh.read(1) == b"\n"  # the file is not blank: it has a last byte
            with path.open("a", encoding=encoding, newline="") as f:
                f.write("" if ends else "\n")
                neutralise_frame(add.reindex(columns=header)).to_csv(f, header=False, index=False, sep=sep)
    else:
        to_safe_csv(add, path)
    return len(add), int(np.asarray(known).sum())
