"""Dunning policy files (line-precise errors, the default that follows the segments) and timing rules."""

from __future__ import annotations

import json

import holidays
import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import payrisk as pr
from payrisk.dunning import Policy, send_days
from payrisk.dunning._policy import DEFAULT_FILE
from payrisk.errors import PolicyError

DEFAULT_TEXT = DEFAULT_FILE.read_text(encoding="utf-8")


def _line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), start=1) if needle in line)


def test_the_default_policy_follows_the_segments():
    p = Policy.default()
    offers = {seg: {s.offer for s in track.steps} for seg, track in p.tracks.items()}
    channels = {seg: [s.channel for s in track.steps] for seg, track in p.tracks.items()}
    assert "deferral" in offers["reliable"] and "legal" not in channels["reliable"]
    assert "direct_debit" in offers["forgetful"]
    assert "plan" in offers["struggling"]
    chronic = p.tracks["chronic"].steps
    assert chronic[-1].channel == "legal" and all(s.tone in ("firm", "strict") for s in chronic)
    legal_day = chronic[-1].days_after_due
    assert any(s.formal_notice and s.days_after_due < legal_day for s in chronic)
    # chronic payers escalate fastest: their formal notice comes before every other track's
    notice = {seg: min(s.days_after_due for s in t.steps if s.formal_notice) for seg, t in p.tracks.items()}
    assert notice["chronic"] == min(notice.values())


def test_errors_name_the_file_line_field_and_allowed_values():
    bad = DEFAULT_TEXT.replace("channel: legal", "channel: fax").replace("min_p_kept: 0.6", "min_p_kept: 1.6")
    with pytest.raises(PolicyError) as info:
        Policy.from_text(bad, source="policy.yaml")
    msg = str(info.value)
    assert msg.startswith("policy.yaml: the policy has 2 error(s)")
    assert f"line {_line_of(bad, 'channel: fax')}, tracks.chronic.steps[4].channel" in msg
    assert "'email', 'sms', 'letter', 'phone' or 'legal'" in msg and "Got 'fax'" in msg
    assert f"line {_line_of(bad, 'min_p_kept: 1.6')}, plan_offers.min_p_kept" in msg


def test_unknown_keys_missing_tracks_bad_order_and_syntax_are_refused(tmp_path):
    typo = DEFAULT_TEXT.replace("  max_wait_days: 6", "  max_wait_dayz: 6")
    with pytest.raises(PolicyError, match=rf"line {_line_of(typo, 'max_wait_dayz')}, timing.max_wait_dayz: Extra"):
        Policy.from_text(typo)
    data = Policy.default().to_dict()
    del data["tracks"]["new"]
    with pytest.raises(PolicyError, match=r"missing \['new'\]"):
        Policy.from_text(json.dumps(data, indent=1))
    data = Policy.default().to_dict()
    data["tracks"]["chronic"]["steps"].reverse()
    with pytest.raises(PolicyError, match="in order of days_after_due"):
        Policy.from_text(json.dumps(data, indent=1))
    with pytest.raises(PolicyError, match="needs a trigger"):
        Policy.from_text(DEFAULT_TEXT.replace("{name: call, days_after_due: 45,", "{name: call,"))
    tab = DEFAULT_TEXT.replace("  send_hour: 9", "\tsend_hour: 9")
    with pytest.raises(PolicyError, match=rf"not valid YAML or JSON at line {_line_of(tab, 'send_hour')}"):
        Policy.from_text(tab)
    with pytest.raises(PolicyError, match="cannot read"):
        Policy.from_file(tmp_path / "nope.yaml")


def test_json_files_get_line_numbers_too_and_round_trip(tmp_path):
    data = Policy.default().to_dict()
    data["guards"]["max_contacts_per_week"] = 0
    text = json.dumps(data, indent=2)
    path = tmp_path / "policy.json"
    path.write_text(text)
    with pytest.raises(PolicyError, match=rf"line {_line_of(text, 'max_contacts_per_week')}, guards"):
        Policy.from_file(path)
    assert Policy.from_text(json.dumps(Policy.default().to_dict())) == Policy.default()


TIMING = Policy.default().timing


def test_weekends_holidays_and_countries():
    # Saturday -> Monday; German Unity Day moves DE, not NL; Christmas moves both
    assert str(send_days("2024-10-05", TIMING, np.array(["NL"]))[0]) == "2024-10-07"
    assert [str(d) for d in send_days("2024-10-03", TIMING, np.array(["NL", "DE", None]))] == [
        "2024-10-03",
        "2024-10-04",
        "2024-10-03",  # no country: the policy's default (NL)
    ]
    assert str(send_days("2024-12-25", TIMING, np.array(["DE"]))[0]) == "2024-12-27"
    with pytest.raises(pr.errors.ParameterError, match=r"'XX' \(1 account\), '897' \(2 accounts\).*skip_holidays"):
        send_days("2024-10-03", TIMING, np.array(["XX", "NL", "897", "897"]))  # every unknown code at once


def test_the_customers_own_rhythm():
    country = np.array(["NL", "NL", "NL", "NL"])
    weekday = np.array([3, -1, -1, 2])  # Thursday payer, none, pay-run payer, Wednesday payer
    payrun = np.array([0, 0, 15, 0])
    got = send_days("2024-10-08", TIMING, country, pay_weekday=weekday, payrun_day=payrun)
    # Tue 8 Oct: the Thursday payer on Thu 10th; no rhythm today; pay run on the 15th: Mon 14th; Wednesday 9th
    assert [str(d) for d in got] == ["2024-10-10", "2024-10-08", "2024-10-14", "2024-10-09"]
    # the preferred weekday is a holiday (Christmas Wednesday): sent on the first allowed day instead
    assert str(send_days("2024-12-23", TIMING, np.array(["NL"]), pay_weekday=np.array([2]))[0]) == "2024-12-23"
    # a rhythm day beyond max_wait_days is not waited for
    short = TIMING.model_copy(update={"max_wait_days": 1})
    assert str(send_days("2024-10-08", short, np.array(["NL"]), pay_weekday=np.array([4]))[0]) == "2024-10-08"


@given(
    day=st.dates(min_value=pd.Timestamp("2023-01-01").date(), max_value=pd.Timestamp("2026-12-31").date()),
    country=st.sampled_from(["NL", "DE", "GB", "FR", "US"]),
    weekday=st.integers(-1, 6),
    payrun=st.integers(0, 31),
)
def test_a_send_day_is_always_an_allowed_working_day_soon_enough(day, country, weekday, payrun):
    got = send_days(day, TIMING, np.array([country]), np.array([weekday]), np.array([payrun]))[0]
    when = pd.Timestamp(got)
    wait = (when - pd.Timestamp(day)).days
    assert 0 <= wait <= TIMING.max_wait_days
    assert when.weekday() in TIMING.weekdays
    assert when.date() not in holidays.country_holidays(country, years=[when.year])
