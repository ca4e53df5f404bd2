"""plan_actions: every guard blocks what it must and allows what it may; planning is deterministic and
idempotent."""

from __future__ import annotations

import pandas as pd
import pytest

import payrisk as pr
from payrisk.dunning import Policy
from payrisk.dunning._plan import plan_actions, to_contacts

TODAY = pd.Timestamp("2024-06-12")  # a Wednesday, no holiday in NL
POLICY = Policy.default()
# customer: (segment, due date, amount, disputed on, paid on)
BOOK = {
    "c_legal_no_notice": ("chronic", "2024-05-01", 1000.0, None, None),
    "c_legal_ok": ("chronic", "2024-05-01", 1000.0, None, None),
    "c_legal_small": ("chronic", "2024-05-01", 100.0, None, None),
    "c_disputed": ("new", "2024-06-05", 300.0, "2024-06-07", None),
    "c_paid": ("new", "2024-06-05", 300.0, None, "2024-06-11"),
    "c_busy": ("new", "2024-06-05", 300.0, None, None),
    "c_sms_used": ("forgetful", "2024-06-03", 300.0, None, None),
    "c_email_used": ("forgetful", "2024-06-03", 300.0, None, None),
    "c_bounced": ("new", "2024-06-05", 300.0, None, None),
    "c_plain": ("new", "2024-06-05", 300.0, None, None),
}
# (customer, days before today, channel, template, bounced)
CONTACTS = [
    ("c_legal_ok", 20, "letter", "formal_notice", False),
    ("c_legal_small", 20, "letter", "formal_notice", False),
    ("c_busy", 2, "email", "other", False),
    ("c_busy", 4, "letter", "other", False),
    ("c_sms_used", 2, "sms", "other", False),
    ("c_email_used", 2, "email", "other", False),
    ("c_bounced", 40, "email", "other", True),
]


def _ledger(extra_contacts: pd.DataFrame | None = None) -> pr.Ledger:
    ids = list(BOOK)
    invoices = pd.DataFrame(
        {
            "invoice_id": [f"I_{c}" for c in ids],
            "customer_id": ids,
            "issue_date": [pd.Timestamp(v[1]) - pd.Timedelta(days=30) for v in BOOK.values()],
            "due_date": [v[1] for v in BOOK.values()],
            "amount": [v[2] for v in BOOK.values()],
            "currency": "EUR",
            "paid_date": [v[4] for v in BOOK.values()],
            "disputed_date": [v[3] for v in BOOK.values()],
        }
    )
    payments = pd.DataFrame(
        {
            "payment_id": ["P1"],
            "customer_id": ["c_paid"],
            "invoice_id": ["I_c_paid"],
            "payment_date": ["2024-06-11"],
            "amount": [300.0],
        }
    )
    contacts = pd.DataFrame(
        {
            "contact_id": [f"K{i}" for i in range(len(CONTACTS))],
            "customer_id": [c[0] for c in CONTACTS],
            "invoice_id": [f"I_{c[0]}" for c in CONTACTS],
            "sent_at": [TODAY - pd.Timedelta(days=c[1]) + pd.Timedelta(hours=10) for c in CONTACTS],
            "channel": [c[2] for c in CONTACTS],
            "tone": "mild",
            "template": [c[3] for c in CONTACTS],
            "delivered": [not c[4] for c in CONTACTS],
            "bounced": [c[4] for c in CONTACTS],
        }
    )
    if extra_contacts is not None:
        contacts = pd.concat([contacts, extra_contacts], ignore_index=True)
    customers = pd.DataFrame({"customer_id": ids, "country": "NL"})
    return pr.Ledger.from_frames(customers=customers, invoices=invoices, payments=payments, contacts=contacts)


def _scores() -> pd.DataFrame:
    """A worklist made the day before (so the invoice paid since is still on it)."""
    ids = list(BOOK)
    return pd.DataFrame(
        {
            "customer_id": ids,
            "open_amount": [v[2] for v in BOOK.values()],
            "due_date": pd.to_datetime([v[1] for v in BOOK.values()]),
            "p_late": 0.7,
            "segment": [v[0] for v in BOOK.values()],
            "priority_rank": range(1, len(ids) + 1),
        },
        index=pd.Index([f"I_{c}" for c in ids], name="invoice_id"),
    )


@pytest.fixture(scope="module")
def plan() -> pd.DataFrame:
    return plan_actions(_ledger(), _scores(), POLICY, TODAY)


def _rows(plan: pd.DataFrame, customer: str) -> pd.DataFrame:
    return plan.loc[plan["customer_id"] == customer]


def _sent(plan: pd.DataFrame, customer: str) -> pd.Series:
    rows = _rows(plan, customer)
    sent = rows.loc[rows["status"] == "send"]
    assert len(sent) == 1, rows.to_string()
    return sent.iloc[0]


def _blocked_by(plan: pd.DataFrame, customer: str) -> list[str]:
    rows = _rows(plan, customer)
    return [b.split(":")[0] for b in rows.loc[rows["status"] == "blocked", "blocked_by"]]


def test_legal_needs_a_formal_notice_and_a_minimum_amount(plan):
    assert _blocked_by(plan, "c_legal_no_notice") == ["legal_needs_formal_notice"]
    assert _sent(plan, "c_legal_no_notice")["step"] == "formal-notice"  # the notice goes out first
    assert _sent(plan, "c_legal_ok")["channel"] == "legal" and not _blocked_by(plan, "c_legal_ok")
    assert _blocked_by(plan, "c_legal_small") == ["legal_min_amount"]


def test_disputed_and_paid_invoices_get_no_dunning(plan):
    assert _blocked_by(plan, "c_disputed") == ["disputed"]
    assert _blocked_by(plan, "c_paid") == ["not_open"]
    assert (_rows(plan, "c_disputed")["status"] == "blocked").all()
    assert _sent(plan, "c_plain")["step"] == "reminder"


def test_contact_pressure_per_week_and_per_channel(plan):
    assert _blocked_by(plan, "c_busy") == ["max_contacts_per_week"]
    assert _blocked_by(plan, "c_sms_used") == ["max_per_channel_per_week"]
    got = _sent(plan, "c_email_used")  # an e-mail this week does not use up the SMS allowance
    assert got["channel"] == "sms" and got["step"] == "sms-reminder"


def test_a_bounced_channel_falls_back_and_asks_for_a_correct_address(plan):
    got = _sent(plan, "c_bounced")
    assert got["channel"] == "sms" and "bounced" in got["reason"] and got["template"].endswith("ask_email_address")
    assert _sent(plan, "c_plain")["channel"] == "email"


def test_send_days_are_working_days_and_one_action_per_customer(plan):
    sent = plan.loc[plan["status"] == "send"]
    assert sent["customer_id"].is_unique
    assert (sent["send_at"].dt.day_of_week < 5).all() and (sent["send_at"] >= TODAY).all()
    assert (sent["send_at"].dt.hour == POLICY.timing.send_hour).all()


def test_planning_is_deterministic_and_idempotent(plan):
    again = plan_actions(_ledger(), _scores(), POLICY, TODAY)
    pd.testing.assert_frame_equal(again, plan)
    recorded = _ledger(to_contacts(plan))
    replanned = plan_actions(recorded, _scores(), POLICY, TODAY)
    assert not (replanned["status"] == "send").any(), replanned.loc[replanned["status"] == "send"].to_string()


def _promise(customer: str, made: str, promised: str, invoice: str | None = None, amount: float = 1200.0):
    return pd.DataFrame(
        {"contact_id": [f"PTP_{customer}"], "customer_id": [customer], "invoice_id": [invoice],
         "sent_at": [pd.Timestamp(made) + pd.Timedelta(hours=11)], "channel": ["phone"], "outcome": ["promise_to_pay"],
         "promised_date": [promised], "promised_amount": [amount]}
    )  # fmt: skip


@pytest.mark.parametrize("invoice", [None, "I_c_plain"])
def test_a_promise_pauses_the_track_until_its_date_and_grace(invoice):
    ledger = _ledger(_promise("c_plain", "2024-06-10", "2024-06-14", invoice))
    paused = _rows(plan_actions(ledger, _scores(), POLICY, TODAY), "c_plain")
    assert (paused["status"] == "blocked").all() and len(paused)
    assert paused["blocked_by"].eq("promise_to_pay: promised 1,200 by 2024-06-14").all()
    grace = POLICY.guards.promise_grace_days
    last_paused = pd.Timestamp("2024-06-14") + pd.Timedelta(days=grace)
    still = _rows(plan_actions(ledger, _scores(), POLICY, last_paused), "c_plain")
    assert still["blocked_by"].str.startswith("promise_to_pay").all()
    resumed = _rows(plan_actions(ledger, _scores(), POLICY, last_paused + pd.Timedelta(days=1)), "c_plain")
    assert len(resumed) and not resumed["blocked_by"].str.startswith("promise_to_pay").any()
    assert (resumed["status"] == "send").any()


def test_a_promise_without_a_date_pauses_until_the_ledgers_due_day_for_it():
    """One definition of a promise on record (Ledger.promises): undated, it falls due 14 days after it was made, and
    the plan's pause, the account worklist's words and the KPI all read that day."""
    ledger = _ledger(_promise("c_plain", "2024-06-05", None, "I_c_plain"))
    due = ledger.as_of(TODAY).promises().set_index("customer_id").loc["c_plain", "due"]
    assert due == pd.Timestamp("2024-06-05") + pd.Timedelta(days=pr.ledger.PROMISE_UNDATED_DAYS)
    text = f"promise_to_pay: promised 1,200 by {due:%Y-%m-%d}"
    assert _rows(plan_actions(ledger, _scores(), POLICY, TODAY), "c_plain")["blocked_by"].eq(text).all()
    resume = due + pd.Timedelta(days=POLICY.guards.promise_grace_days + 1)
    resumed = _rows(plan_actions(ledger, _scores(), POLICY, resume), "c_plain")
    assert not resumed["blocked_by"].str.startswith("promise_to_pay").any()
    scores = _scores().assign(currency="EUR", expected_loss=1.0)
    scores["days_overdue"] = (TODAY - scores["due_date"]).dt.days.clip(lower=0)
    accounts = pr.accounts.account_worklist(ledger, scores, TODAY).set_index("customer_id")
    assert accounts.loc["c_plain", "promise"].startswith(f"promised 1,200 by {due:%Y-%m-%d} (on 2024-06-05")
    assert accounts.loc["c_plain", "promise_status"] == "open"


def test_a_promise_made_later_is_not_seen_and_another_customer_is_not_paused():
    ledger = _ledger(_promise("c_plain", "2024-06-20", "2024-06-30"))
    later = plan_actions(ledger, _scores(), POLICY, TODAY)  # made after today: not known yet
    assert not _rows(later, "c_plain")["blocked_by"].str.startswith("promise_to_pay").any()
    other = plan_actions(_ledger(_promise("c_busy", "2024-06-10", "2024-06-14")), _scores(), POLICY, TODAY)
    assert _sent(other, "c_plain")["blocked_by"] == ""


def test_the_promise_grace_is_set_in_the_policy():
    ledger = _ledger(_promise("c_plain", "2024-06-01", "2024-06-10"))
    guards = {**POLICY.guards.model_dump(), "promise_grace_days": 0}
    strict = Policy.model_validate({**POLICY.to_dict(), "guards": guards})
    assert _sent(plan_actions(ledger, _scores(), strict, TODAY), "c_plain")["status"] == "send"
    patient = strict.model_copy(update={"guards": strict.guards.model_copy(update={"promise_grace_days": 5})})
    waiting = _rows(plan_actions(ledger, _scores(), patient, TODAY), "c_plain")
    assert waiting["blocked_by"].str.startswith("promise_to_pay").all()
