"""Ledger: as_of semantics (by hand and as properties), persistence, summary."""

from __future__ import annotations

import functools
import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import payrisk as pr
from payrisk.errors import DataFileError, ParameterError, PayriskError

# -- by hand -------------------------------------------------------------------------------------------------


def test_as_of_by_hand(frames):
    ledger = pr.Ledger.from_frames(**frames)
    snap = ledger.as_of("2024-01-31")
    assert snap.invoices["invoice_id"].tolist() == ["I1", "I2"]
    assert snap.invoices["paid_date"].isna().all()  # I1 was paid on 02-05
    assert snap.invoices["open_amount"].tolist() == [100.0, 200.0]
    assert snap.payments.empty and snap.contacts.empty and snap.plans.empty
    assert snap.customers["customer_id"].tolist() == ["c1"]  # c2 has no activity yet

    snap = ledger.as_of("2024-02-12")  # the contact at 09:30 that day is known at the end of the day
    assert snap.contacts["invoice_id"].tolist() == ["I2"]
    inv = snap.invoices.set_index("invoice_id")
    assert inv.loc["I1", "open_amount"] == 0 and str(inv.loc["I1", "paid_date"].date()) == "2024-02-05"
    assert inv.loc["I2", "open_amount"] == 200.0  # the partial payment comes on 02-15

    snap = ledger.as_of("2024-02-15")
    assert snap.invoices.set_index("invoice_id").loc["I2", ["paid_amount", "open_amount"]].tolist() == [80.0, 120.0]

    snap = ledger.as_of("2024-04-15")
    ins = snap.installments
    assert ins["paid_date"].notna().tolist() == [True, False]
    snap = ledger.as_of("2024-03-15")
    assert snap.installments["paid_date"].isna().all() and (snap.installments["amount_paid"] == 0).all()
    assert len(snap.installments) == 2  # the schedule is known from the plan's creation


def test_as_of_disputes_follow_their_date(frames):
    frames["invoices"]["disputed_date"] = [None, "2024-02-20", None]
    ledger = pr.Ledger.from_frames(**frames)
    assert ledger.invoices["disputed"].tolist() == [False, True, False]
    assert ledger.as_of("2024-02-19").invoices["disputed"].tolist() == [False, False, False]
    assert ledger.as_of("2024-02-20").invoices["disputed"].tolist() == [False, True, False]


def test_as_of_rejects_bad_dates(frames):
    ledger = pr.Ledger.from_frames(**frames)
    with pytest.raises(ParameterError, match="'as_of' parameter must be a date"):
        ledger.as_of("not a date")


def test_as_of_later_than_cut_keeps_the_cut(frames):
    ledger = pr.Ledger.from_frames(**frames)
    assert ledger.as_of("2024-02-10").as_of("2025-01-01") == ledger.as_of("2024-02-10")


def test_snapshot_at_the_ledger_end_shares_its_columns_and_never_changes_the_ledger(world):
    # at or after the ledger's last fact nothing is cut: the snapshot's columns are the ledger's (no second copy of
    # a large ledger), and writing to the snapshot leaves the ledger as it was (copy-on-write)
    end = max(world.invoices["issue_date"].max(), world.payments["payment_date"].max(), world.contacts["sent_at"].max())
    snap = world.as_of(end.normalize())
    for table, column in (("invoices", "amount"), ("payments", "amount"), ("contacts", "sent_at")):
        assert len(getattr(snap, table)) == len(getattr(world, table))
        assert np.shares_memory(getattr(snap, table)[column].to_numpy(), getattr(world, table)[column].to_numpy())
    before = world.invoices["amount"].copy()
    snap.invoices.loc[0, "amount"] = -1.0
    pd.testing.assert_series_equal(world.invoices["amount"], before)
    assert world.as_of(end.normalize()).invoices["amount"].iloc[0] == before.iloc[0]


def test_summary_reads_like_a_report(world):
    s = world.summary()
    d = s.to_dict()
    assert d["invoices"] == len(world.invoices)
    assert d["open invoices"] == int((world.invoices["open_amount"] > 0).sum())
    text = str(s)
    assert "paid late" in text and "open amount" in text


def test_open_invoices(world):
    snap = world.as_of("2023-06-30")
    open_ = snap.open_invoices()
    assert (open_["open_amount"] > 0).all()
    assert (open_["paid_date"].isna()).all()
    assert len(open_) > 0


# -- persistence -----------------------------------------------------------------------------------------------


def test_parquet_round_trip_is_exact(world, tmp_path):
    snap = world.as_of("2023-09-30")
    back = pr.Ledger.read(snap.write(tmp_path / "l"))
    assert back == snap
    for name in pr.ledger.TABLE_NAMES:
        pd.testing.assert_frame_equal(getattr(back, name), getattr(snap, name))
    assert back.truth == snap.truth
    assert back.meta == json.loads(json.dumps(snap.meta, default=str))


def test_round_trip_keeps_rejected_rows(frames, tmp_path):
    frames["invoices"].loc[0, "amount"] = 0
    ledger = pr.Ledger.from_frames(**frames)
    back = pr.Ledger.read(ledger.write(tmp_path / "l"))
    assert back.report == ledger.report
    assert back.report.rejected_rows("invoices")["invoice_id"].tolist() == ["I1"]


def test_read_refuses_foreign_or_tampered_folders(frames, tmp_path):
    with pytest.raises(DataFileError, match=r"ledger\.json"):
        pr.Ledger.read(tmp_path)
    path = pr.Ledger.from_frames(**frames).write(tmp_path / "l")
    pd.read_parquet(path / "invoices.parquet").iloc[:1].to_parquet(path / "invoices.parquet")
    with pytest.raises(DataFileError, match=r"invoices\.parquet: changed after the folder was written"):
        pr.Ledger.read(path)
    world = pr.datasets.make_ledger(n_customers=20, seed=1)
    truth = world.write(tmp_path / "w")
    files = sorted(p.relative_to(truth).as_posix() for p in (truth / "truth").rglob("*") if p.is_file())
    edited = truth / files[0]
    edited.write_bytes(edited.read_bytes() + b" ")
    with pytest.raises(DataFileError, match=f"{files[0]}: changed"):  # the truth is covered too
        pr.Ledger.read(truth)
    extra = pr.Ledger.from_frames(**frames).write(tmp_path / "l3")
    (extra / "notes.txt").write_text("x")
    with pytest.raises(DataFileError, match=r"notes\.txt"):
        pr.Ledger.read(extra)
    path = pr.Ledger.from_frames(**frames).write(tmp_path / "l2")
    (path / "payments.parquet").unlink()
    with pytest.raises(DataFileError, match=r"payments\.parquet"):
        pr.Ledger.read(path)
    doc = json.loads((path / "ledger.json").read_text())
    doc["format_version"] = 99
    (path / "ledger.json").write_text(json.dumps(doc))
    with pytest.raises(DataFileError, match="format version"):
        pr.Ledger.read(path)


# -- properties ------------------------------------------------------------------------------------------------

BASE = pd.Timestamp("2024-01-01")


@st.composite
def small_frames(draw) -> dict[str, pd.DataFrame]:
    """Random small but valid user tables with events crowded into a few weeks (many same-day ties)."""
    n_inv = draw(st.integers(1, 12))
    cust = draw(st.lists(st.sampled_from(["a", "b", "c"]), min_size=n_inv, max_size=n_inv))
    issue = draw(st.lists(st.integers(0, 40), min_size=n_inv, max_size=n_inv))
    terms = draw(st.lists(st.integers(0, 20), min_size=n_inv, max_size=n_inv))
    pay_after = draw(st.lists(st.one_of(st.none(), st.integers(0, 50)), min_size=n_inv, max_size=n_inv))
    split = draw(st.lists(st.booleans(), min_size=n_inv, max_size=n_inv))
    amount = draw(st.lists(st.integers(1, 500), min_size=n_inv, max_size=n_inv))
    day = lambda k: BASE + pd.Timedelta(days=k)  # noqa: E731
    inv_rows, pay_rows, con_rows = [], [], []
    for i in range(n_inv):
        paid = None if pay_after[i] is None else day(issue[i] + pay_after[i])
        inv_rows.append((f"I{i}", cust[i], day(issue[i]), day(issue[i] + terms[i]), float(amount[i]), paid))
        if paid is not None:
            if split[i] and pay_after[i] > 0:
                pay_rows.append((f"I{i}", cust[i], day(issue[i] + pay_after[i] // 2), amount[i] / 2))
                pay_rows.append((f"I{i}", cust[i], paid, amount[i] / 2))
            else:
                pay_rows.append((f"I{i}", cust[i], paid, float(amount[i])))
        elif split[i]:
            pay_rows.append((f"I{i}", cust[i], day(issue[i] + 3), amount[i] / 4))
        con_rows.append((cust[i], f"I{i}", day(issue[i] + terms[i] + 1) + pd.Timedelta(hours=draw(st.integers(0, 23)))))
    n_plan = draw(st.integers(0, 2))
    plans = pd.DataFrame(
        {
            "plan_id": [f"P{k}" for k in range(n_plan)],
            "customer_id": ["a"] * n_plan,
            "created_date": [day(draw(st.integers(0, 40))) for _ in range(n_plan)],
        }
    )
    ins_rows = []
    for k in range(n_plan):
        for j in range(1, 4):
            due = plans["created_date"].iloc[k] + pd.Timedelta(days=30 * j)
            paid = draw(st.one_of(st.none(), st.integers(-5, 10)))
            ins_rows.append(
                (
                    f"P{k}",
                    j,
                    due,
                    10.0,
                    None if paid is None else due + pd.Timedelta(days=paid),
                    0.0 if paid is None else 10.0,
                )
            )
    inv = pd.DataFrame(inv_rows, columns=["invoice_id", "customer_id", "issue_date", "due_date", "amount", "paid_date"])
    return {
        "invoices": inv,
        "payments": pd.DataFrame(pay_rows, columns=["invoice_id", "customer_id", "payment_date", "amount"]),
        "contacts": pd.DataFrame(con_rows, columns=["customer_id", "invoice_id", "sent_at"]).assign(channel="email"),
        "plans": plans,
        "installments": pd.DataFrame(
            ins_rows, columns=["plan_id", "installment_no", "due_date", "amount_due", "paid_date", "amount_paid"]
        ),
    }


def assert_nothing_after(snap: pr.Ledger, full: pr.Ledger, day: pd.Timestamp) -> None:
    end = day + pd.Timedelta(days=1)
    inv = snap.invoices
    assert (inv["issue_date"] <= day).all()
    assert (inv["paid_date"].isna() | (inv["paid_date"] <= day)).all()
    assert (snap.payments["payment_date"] <= day).all()
    assert (snap.credit_notes["issue_date"] <= day).all()
    assert (snap.plans["created_date"] <= day).all()
    ins = snap.installments
    assert (ins["paid_date"].isna() | (ins["paid_date"] <= day)).all()
    assert (ins.loc[ins["paid_date"].isna(), "amount_paid"] == 0).all()
    assert (snap.contacts["sent_at"] < end).all()
    for dated in ("ratings", "credit_limits"):  # a rating or limit published later does not exist yet
        rows, all_rows = getattr(snap, dated), getattr(full, dated)
        assert (rows["valid_from"] <= day).all()
        of_known = all_rows["customer_id"].isin(snap.customers["customer_id"])  # prospects are not customers yet
        assert len(rows) == int(((all_rows["valid_from"] <= day) & of_known).sum())
    # ... and everything known at the date is still there
    assert set(inv["invoice_id"]) == set(full.invoices.loc[full.invoices["issue_date"] <= day, "invoice_id"])
    assert len(snap.payments) == int((full.payments["payment_date"] <= day).sum())
    assert len(snap.contacts) == int((full.contacts["sent_at"] < end).sum())
    # open amounts are recomputed from the payments known at the date
    paid = snap.payments.groupby("invoice_id")["amount"].sum().to_dict()
    paid_known = np.array([paid.get(i, 0.0) for i in inv["invoice_id"]], dtype=float)
    expected = np.where(inv["paid_date"].notna(), 0.0, inv["amount"] - np.minimum(paid_known, inv["amount"]))
    np.testing.assert_allclose(inv["open_amount"], expected)


@given(data=small_frames(), t=st.integers(-2, 100), s=st.integers(-2, 100))
def test_property_as_of_on_random_ledgers(data, t, s):
    ledger = pr.Ledger.from_frames(**data)
    assert ledger.report.ok, str(ledger.report)
    dt, ds = BASE + pd.Timedelta(days=t), BASE + pd.Timedelta(days=s)
    assert_nothing_after(ledger.as_of(dt), ledger, dt)
    assert ledger.as_of(dt).as_of(ds) == ledger.as_of(min(dt, ds))
    assert_positions_inherited(ledger.as_of(dt).as_of(ds))


@functools.lru_cache(maxsize=8)
def _synthetic(seed: int) -> pr.Ledger:
    return pr.datasets.make_ledger(n_customers=25, start="2023-01-01", end="2023-12-31", seed=seed)


@given(seed=st.integers(0, 7), t=st.integers(-10, 380), s=st.integers(-10, 380))
def test_property_as_of_on_synthetic_ledgers(seed, t, s):
    ledger = _synthetic(seed)
    dt, ds = pd.Timestamp("2023-01-01") + pd.Timedelta(days=t), pd.Timestamp("2023-01-01") + pd.Timedelta(days=s)
    snap = ledger.as_of(dt)
    assert_nothing_after(snap, ledger, dt)
    assert snap.as_of(ds) == ledger.as_of(min(dt, ds))
    assert set(snap.truth.invoices["invoice_id"]) == set(snap.invoices["invoice_id"])
    assert_positions_inherited(snap)


def assert_positions_inherited(snap: pr.Ledger) -> None:
    """A snapshot's invoice positions of payments and contacts (remapped from its parent's, no id hashing) are
    those a fresh lookup of the ids finds."""
    index = pd.Index(snap.invoices["invoice_id"].astype(object))
    for table in ("payments", "contacts"):
        ids = getattr(snap, table)["invoice_id"].astype(object)
        fresh = np.where(ids.isna(), -1, index.get_indexer(ids.fillna("")))
        np.testing.assert_array_equal(snap.invoice_positions(table), fresh, err_msg=table)


# -- fuzz: malformed tables never crash and never lose a row -----------------------------------------------------

_values = st.one_of(
    st.none(),
    st.text(max_size=12),
    st.sampled_from(["", " ", "2024-02-30", "2024-01-05", "01/02/2024", "=1+1", "-3", "1e400", "nan", "NaT", "yes"]),
    st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.datetimes(
        min_value=pd.Timestamp("1700-01-01").to_pydatetime(), max_value=pd.Timestamp("2300-01-01").to_pydatetime()
    ),
)


@st.composite
def malformed_frame(draw, table: str) -> pd.DataFrame:
    spec = pr.schema.TABLES[table]
    names = [c.name for c in spec.columns]
    cols = draw(st.lists(st.sampled_from([*names, "junk", "Amount "]), unique=True, max_size=len(names) + 2))
    if draw(st.booleans()):  # mostly keep the required columns so that rows reach the row rules
        cols = list(dict.fromkeys([c.name for c in spec.columns if c.required] + cols))
    n = draw(st.integers(0, 6))
    return pd.DataFrame({c: pd.Series([draw(_values) for _ in range(n)], dtype=object) for c in cols})


@given(
    inv=malformed_frame("invoices"),
    pay=st.one_of(st.none(), malformed_frame("payments")),
    cust=st.one_of(st.none(), malformed_frame("customers")),
    con=st.one_of(st.none(), malformed_frame("contacts")),
    plans=st.one_of(st.none(), malformed_frame("plans")),
    ins=st.one_of(st.none(), malformed_frame("installments")),
)
def test_fuzz_malformed_tables_give_a_report_or_a_payrisk_error(inv, pay, cust, con, plans, ins):
    given_tables = {
        "invoices": inv,
        "payments": pay,
        "customers": cust,
        "contacts": con,
        "plans": plans,
        "installments": ins,
    }
    given_tables = {k: v for k, v in given_tables.items() if v is not None}
    try:
        ledger = pr.Ledger.from_frames(**given_tables)
    except PayriskError:
        return
    counts = ledger.report.counts
    for name, df in given_tables.items():
        assert counts.loc[name, "input"] == len(df)
        assert counts.loc[name, "accepted"] + counts.loc[name, "rejected"] == len(df)
        assert len(ledger.report.rejected_rows(name)) == counts.loc[name, "rejected"]
    assert len(ledger.invoices) + len(ledger.credit_notes) == counts.loc["invoices", "accepted"]
    if "payments" in given_tables:
        assert len(ledger.payments) == counts.loc["payments", "accepted"]
    # what was accepted is clean
    assert (ledger.invoices["amount"] > 0).all() and (ledger.credit_notes["amount"] < 0).all()
    assert (ledger.invoices["due_date"] >= ledger.invoices["issue_date"]).all()
    assert ledger.invoices["invoice_id"].is_unique


@given(seed=st.integers(0, 3), t=st.integers(-10, 380), shuffle=st.integers(0, 2**31))
def test_snapshot_positions_hold_when_invoices_are_not_in_date_order(seed, t, shuffle):
    """Snapshot positions are remapped through the invoices kept; with invoices out of date order the kept ones
    are not a prefix, so a wrong remap would show."""
    tables = {k: v for k, v in _synthetic(seed).tables.items() if len(v) and k != "credit_notes"}
    tables["invoices"] = tables["invoices"].sample(frac=1.0, random_state=shuffle % 2**31)
    ledger = pr.Ledger.from_frames(**tables)
    snap = ledger.as_of(pd.Timestamp("2023-01-01") + pd.Timedelta(days=t))
    assert_positions_inherited(snap)
