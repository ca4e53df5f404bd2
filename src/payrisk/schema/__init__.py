"""Table specifications, column mapping and the validation report.

The canonical tables of a ledger (see ``docs/concepts.md``) are declared here as pydantic models: each column
has a kind (id, date, money, ...), whether it is required, and a description. Users map their own column names
onto the canonical ones with a :class:`ColumnMapping`; :func:`validate_tables` parses and checks the tables and
returns the clean tables plus a :class:`ValidationReport` that lists every rejected row with the table, row,
column, rule, offending value and the fix. Nothing is dropped silently: for every table
``input == accepted + rejected``.

Examples
--------
>>> import pandas as pd
>>> import payrisk as pr
>>> inv = pd.DataFrame({"No": ["A1", "A2"], "Client": ["c1", "c1"], "Date": ["2024-01-02", "2024-01-05"],
...                     "Due": ["2024-02-01", "2023-12-01"], "Total": [100.0, 50.0]})
>>> mapping = {"invoices": {"No": "invoice_id", "Client": "customer_id", "Date": "issue_date",
...                         "Due": "due_date", "Total": "amount"}}
>>> ledger = pr.Ledger.from_frames(invoices=inv, mapping=mapping)
>>> ledger.report.issues[["table", "row", "column", "rule"]].values.tolist()
[['invoices', 1, 'due_date', 'due_before_issue']]
"""

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
    ColumnSpec,
    TableSpec,
    ValidationReport,
    suggest_columns,
)
from payrisk.schema._validate import DATE_DTYPE, validate_tables
from payrisk.schema._worklist import WORKLIST, check_worklist

__all__ = [
    "CHANNELS",
    "DATE_DTYPE",
    "INPUT_TABLES",
    "MALFORMED",
    "REPORT_COLUMNS",
    "RULES",
    "TABLES",
    "TONES",
    "WORKLIST",
    "ColumnKind",
    "ColumnMapping",
    "ColumnSpec",
    "TableSpec",
    "ValidationReport",
    "check_worklist",
    "suggest_columns",
    "validate_tables",
]
