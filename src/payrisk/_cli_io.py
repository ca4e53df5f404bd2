"""What the command line reads and writes: data folders of CSV or Parquet tables, outputs in three formats,
and progress bars that only show on a terminal (private)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from payrisk._safe_csv import neutralise_frame, to_safe_csv
from payrisk._text import decode_or_explain
from payrisk.errors import DataFileError, ParameterError

TABLES = ("customers", "invoices", "payments", "plans", "installments", "contacts")
FORMATS = ("table", "json", "csv", "parquet")


def _read_csv(path: Path, table: str, encoding: str) -> pd.DataFrame:
    """One table file as text columns; an empty, undecodable or malformed file is refused with its line."""
    raw = path.read_bytes()
    if not raw.strip():
        from payrisk.schema import TABLES as SPECS

        needed = [c.name for c in SPECS[table].columns if c.required]
        raise DataFileError(
            f"{path}: the file is empty; table {table!r} needs a header row with at least the columns "
            f"{', '.join(needed)} (or your names for them in --mapping), or remove the file."
        )
    how = " (Excel: Save As > CSV UTF-8), or name its encoding, e.g. --encoding cp1252 (Windows) or --encoding latin-1"
    decode_or_explain(raw, str(path), encoding, DataFileError, how)
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""], encoding=encoding)
    except pd.errors.ParserError as exc:
        raise DataFileError(
            f"{path}: not a readable CSV table ({exc}); check the quoting and the number of fields on that line."
        ) from None


def read_folder(folder: str | Path, encoding: str = "utf-8") -> dict[str, pd.DataFrame]:
    """The tables of a data folder: ``<table>.csv`` or ``<table>.parquet`` for each known table name."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ParameterError(f"DATA must be a folder of CSV or Parquet tables; {folder} is not a folder.")
    tables = {}
    for name in TABLES:
        parquet, csv = folder / f"{name}.parquet", folder / f"{name}.csv"
        if parquet.is_file():
            try:
                tables[name] = pd.read_parquet(parquet)
            except (OSError, ValueError) as exc:
                raise DataFileError(f"{parquet}: not a readable Parquet file ({exc}); write it again.") from None
        elif csv.is_file():
            tables[name] = _read_csv(csv, name, encoding)
    if "invoices" not in tables:
        found = sorted(p.name for p in folder.iterdir())[:10]
        raise ParameterError(
            f"{folder} holds no invoices.csv or invoices.parquet (found: {found}); name each table file after "
            f"its table: {', '.join(TABLES)}."
        )
    return tables


def load_ledger(folder: str | Path, mapping: str | None = None, encoding: str = "utf-8") -> Any:
    """Validate a data folder into a ledger (rejected rows are in ``ledger.report``)."""
    from payrisk.ledger import Ledger

    return Ledger.from_frames(**read_folder(folder, encoding), mapping=mapping)


def write_tables(ledger: Any, folder: str | Path) -> Path:
    """Write a ledger's tables as a data folder of CSV files (formula-safe) that ``read_folder`` reads back."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for name in TABLES:
        table = getattr(ledger, name)
        if name == "invoices":
            table = table.drop(columns=["paid_amount", "open_amount"], errors="ignore")
        if len(table):
            to_safe_csv(table, folder / f"{name}.csv")
    return folder


def emit(frame: pd.DataFrame, fmt: str, out: str | None, index: bool = True) -> None:
    """Write ``frame`` to ``out`` (or stdout) as a readable table, JSON records, safe CSV or Parquet."""
    frame = frame.reset_index() if index and not isinstance(frame.index, pd.RangeIndex) else frame
    if fmt == "parquet":
        if out is None:
            raise ParameterError("--format parquet needs --out FILE (Parquet is binary, not for a terminal).")
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        frame.to_parquet(out, index=False)
    elif fmt == "csv":
        if out is None:
            neutralise_frame(frame).to_csv(sys.stdout, index=False)
        else:
            to_safe_csv(frame, out)
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
    folder: str | Path, actions: str | Path, mapping: str | None = None, encoding: str = "utf-8"
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
    names = {canon: user for user, canon in ColumnMapping.coerce(mapping).columns.get("contacts", {}).items()}
    new = new.rename(columns=names)
    id_col = names.get("contact_id", "contact_id")
    folder = Path(folder)
    parquet, path = folder / "contacts.parquet", folder / "contacts.csv"
    if parquet.is_file():
        old = pd.read_parquet(parquet)
    elif path.is_file() and path.read_bytes().strip():
        old = _read_csv(path, "contacts", encoding)
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
    elif len(old) or (path.is_file() and path.read_bytes().strip()):
        header = list(old.columns) + [c for c in add.columns if c not in old.columns]
        if header != list(old.columns):  # a column the file lacks (e.g. tone): rewrite with it, values kept
            both = pd.concat([old, add], ignore_index=True)[header]
            both.to_csv(path.with_suffix(".csv.tmp"), index=False, encoding=encoding)
            path.with_suffix(".csv.tmp").replace(path)
        else:
            ends = path.read_bytes().endswith(b"\n")
            with path.open("a", encoding=encoding, newline="") as f:
                f.write("" if ends else "\n")
                neutralise_frame(add.reindex(columns=header)).to_csv(f, header=False, index=False)
    else:
        to_safe_csv(add, path)
    return len(add), int(np.asarray(known).sum())
