"""payrisk.feedback: reports validated, stored once per idempotency key (an embedded SQLite file or the ledger's own
database), and applied to the ledger point in time."""

from __future__ import annotations

import pandas as pd
import pytest
from pydantic import ValidationError

import payrisk as pr
from payrisk.errors import ConflictError, ParameterError, UnknownIdError
from payrisk.feedback import (
    ContactChange,
    Dispute,
    FeedbackStore,
    PlanRequest,
    PromiseToPay,
    apply_feedback,
    check_references,
)

pytest.importorskip("sqlalchemy")


@pytest.fixture(scope="module")
def ledger() -> pr.Ledger:
    return pr.datasets.make_ledger(n_customers=40, seed=0)


def _open(ledger: pr.Ledger, day: str = "2024-04-30") -> pd.DataFrame:
    return ledger.as_of(day).open_invoices()


def test_the_same_key_records_once_and_another_body_conflicts(ledger, tmp_path):
    store = FeedbackStore(tmp_path / "fb.sqlite")
    inv = _open(ledger).iloc[0]
    report = PromiseToPay(
        customer_id=inv["customer_id"], amount=100.0, promised_date="2024-05-10", made_on="2024-04-30"
    )
    first, created = store.record(report, "k1", ledger=ledger)
    again, created_again = store.record(report, "k1", ledger=ledger)
    assert created and not created_again and again == first
    with pytest.raises(ConflictError, match=r"'k1' was used .* for another promise report"):
        store.record(report.model_copy(update={"amount": 99.0}), "k1", ledger=ledger)
    with pytest.raises(ParameterError, match="Idempotency-Key must be 1 to 200 printable characters"):
        store.record(report, "  ", ledger=ledger)
    reopened = FeedbackStore(tmp_path / "fb.sqlite")  # stored on disk, not in the object
    assert reopened.version() == 1 and reopened.records()[0].report["amount"] == 100.0


def test_unknown_ids_name_the_field_and_the_fix(ledger):
    with pytest.raises(UnknownIdError, match="customer_id 'NOPE' is not a customer") as err:
        check_references(PromiseToPay(customer_id="NOPE", amount=1, promised_date="2024-05-01"), ledger)
    assert err.value.field == "customer_id"
    inv = ledger.invoices
    other = inv.loc[inv["customer_id"] != inv["customer_id"].iloc[0]].iloc[0]
    report = PromiseToPay(customer_id=inv["customer_id"].iloc[0], invoice_id=other["invoice_id"], amount=1,
                          promised_date="2024-05-01")  # fmt: skip
    with pytest.raises(UnknownIdError, match="belongs to customer") as err:
        check_references(report, ledger)
    assert err.value.field == "invoice_id"
    with pytest.raises(UnknownIdError, match="invoice_id 'X' is not an invoice") as err:
        check_references(Dispute(invoice_id="X", reason="never ordered"), ledger)


def test_reports_are_validated_like_any_input():
    with pytest.raises(ValidationError, match="either n_instalments or instalment_amount"):
        PlanRequest(customer_id="C1", n_instalments=3, instalment_amount=50, first_date="2024-05-01")
    with pytest.raises(ValidationError, match="either new_address"):
        ContactChange(customer_id="C1", channel="email")
    with pytest.raises(ValidationError, match="amount"):
        PromiseToPay(customer_id="C1", amount=0, promised_date="2024-05-01")
    with pytest.raises(ValidationError, match="channel"):
        ContactChange(customer_id="C1", channel="pigeon", bounced=True)
    with pytest.raises(ValidationError, match="extra"):
        Dispute.model_validate({"invoice_id": "I1", "reason": "bad goods", "colour": "red"})


def test_feedback_is_applied_point_in_time(ledger, tmp_path):
    store = FeedbackStore(tmp_path / "fb.sqlite")
    inv = _open(ledger).iloc[0]
    c = inv["customer_id"]
    store.record(Dispute(invoice_id=inv["invoice_id"], reason="goods damaged", made_on="2024-04-20"), "d", ledger)
    store.record(PromiseToPay(customer_id=c, amount=5.0, promised_date="2024-05-20", made_on="2024-04-21"), "p", ledger)
    store.record(ContactChange(customer_id=c, channel="sms", bounced=True, made_on="2024-04-22"), "b", ledger)
    store.record(PlanRequest(customer_id=c, instalment_amount=50, first_date="2024-05-01", made_on="2024-04-23"),
                 "r", ledger)  # fmt: skip
    seen = apply_feedback(ledger, store)
    assert len(seen.contacts) == len(ledger.contacts) + 4 and len(ledger.contacts) == len(ledger.as_of("2099").contacts)
    before, after = seen.as_of("2024-04-19"), seen.as_of("2024-04-30")
    at = after.invoices.set_index("invoice_id").loc[inv["invoice_id"]]
    assert bool(at["disputed"]) and at["disputed_date"] == pd.Timestamp("2024-04-20")
    assert not before.invoices.set_index("invoice_id").loc[inv["invoice_id"], "disputed"]
    mine = after.contacts.loc[after.contacts["template"].str.startswith("reported:", na=False)]
    assert mine.set_index("outcome")["sent_at"].dt.strftime("%m-%d").to_dict() == {
        "disputed": "04-20", "promise_to_pay": "04-21", "bounced": "04-22", "plan_requested": "04-23"}  # fmt: skip
    promise = mine.loc[mine["outcome"] == "promise_to_pay"].iloc[0]
    assert promise["promised_date"] == pd.Timestamp("2024-05-20") and promise["promised_amount"] == 5.0
    assert mine.loc[mine["outcome"] == "bounced", "bounced"].all()
    assert seen.as_of("2024-04-21").contacts["outcome"].eq("bounced").sum() == 0
    assert apply_feedback(ledger, FeedbackStore(tmp_path / "none.sqlite")) is ledger


def test_nothing_is_created_until_a_report_is_recorded(tmp_path):
    (tmp_path / "data").mkdir()
    store = FeedbackStore.for_source(tmp_path / "data")
    assert store.version() == 0 and store.records() == []
    assert not (tmp_path / "data" / "payrisk_feedback.sqlite").exists()


def test_a_database_store_adds_its_own_table_and_leaves_the_users_alone(ledger, tmp_path):
    import sqlalchemy as sa

    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    db = sa.create_engine(url)
    with db.begin() as con:
        ledger.invoices.drop(columns=["paid_amount", "open_amount"]).to_sql("invoices", con, index=False)
    columns = [c["name"] for c in sa.inspect(db).get_columns("invoices")]
    store = FeedbackStore.for_source(url)
    assert store.version() == 0 and "payrisk_feedback" not in sa.inspect(db).get_table_names()
    inv = _open(ledger).iloc[0]
    store.record(Dispute(invoice_id=inv["invoice_id"], reason="wrong price", made_on="2024-04-30"), "k", ledger)
    assert sorted(sa.inspect(db).get_table_names()) == ["invoices", "payrisk_feedback"]
    assert [c["name"] for c in sa.inspect(db).get_columns("invoices")] == columns
    seen = apply_feedback(pr.Ledger.from_sql(url), FeedbackStore.for_source(url))
    assert seen.as_of("2024-04-30").invoices.set_index("invoice_id").loc[inv["invoice_id"], "disputed"]
