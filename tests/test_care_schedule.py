"""Follow-up schedules: the bundled policies, due dates by hand, visit tracking, bad files."""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kidneyshare.care.errors import EventLogError
from kidneyshare.care.policy import (
    BUNDLED_CARE_POLICIES,
    load_care_policy,
    parse_care_policy,
)
from kidneyshare.care.schedule import (
    LifelongRule,
    Schedule,
    VisitRule,
    VisitState,
    add_months,
    scheduled_visits,
    track_visits,
)
from kidneyshare.care.thresholds import AlertThresholds
from kidneyshare.errors import ConfigError, FormatError

REPO = Path(__file__).resolve().parents[1]
NHSBT = load_care_policy("care-nhsbt").schedule
OPTN = load_care_policy("care-optn").schedule


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2024, 8, 31), 6, date(2025, 2, 28)),
        (date(2023, 8, 31), 6, date(2024, 2, 29)),  # into a leap February
        (date(2024, 2, 29), 12, date(2025, 2, 28)),
        (date(2024, 2, 29), 48, date(2028, 2, 29)),
        (date(2025, 1, 31), 1, date(2025, 2, 28)),
        (date(2025, 3, 31), 6, date(2025, 9, 30)),
        (date(2025, 12, 15), 1, date(2026, 1, 15)),
        (date(2025, 5, 10), 0, date(2025, 5, 10)),
        (date(2025, 5, 10), -5, date(2024, 12, 10)),
    ],
)
def test_add_months_by_hand(day: date, months: int, expected: date) -> None:
    assert add_months(day, months) == expected


@given(st.dates(date(1950, 1, 1), date(2100, 1, 1)), st.integers(0, 600))
def test_add_months_keeps_the_day_or_clamps_to_month_end(day: date, months: int) -> None:
    moved = add_months(day, months)
    assert (moved.year * 12 + moved.month) - (day.year * 12 + day.month) == months
    assert moved.day == min(day.day, calendar.monthrange(moved.year, moved.month)[1])


def test_nhsbt_schedule_for_a_leap_day_donation_by_hand() -> None:
    visits = scheduled_visits(NHSBT, date(2024, 2, 29), until=date(2027, 3, 1))
    got = [(v.label, v.due, v.earliest, v.latest) for v in visits]
    assert got == [
        ("2 weeks", date(2024, 3, 14), date(2024, 3, 10), date(2024, 3, 21)),
        ("6 weeks", date(2024, 4, 11), date(2024, 4, 4), date(2024, 4, 25)),
        ("6 months", date(2024, 8, 29), date(2024, 7, 30), date(2024, 9, 28)),
        ("12 months", date(2025, 2, 28), date(2025, 1, 29), date(2025, 4, 29)),
        ("year 2", date(2026, 2, 28), date(2026, 1, 29), date(2026, 4, 29)),
        ("year 3", date(2027, 2, 28), date(2027, 1, 29), date(2027, 4, 29)),
        ("year 4", date(2028, 2, 29), date(2028, 1, 30), date(2028, 4, 29)),  # the next one
    ]
    assert [v.number for v in visits] == list(range(1, 8))


def test_optn_schedule_for_a_month_end_donation_by_hand() -> None:
    visits = scheduled_visits(OPTN, date(2025, 8, 31), until=date(2040, 1, 1))
    got = [(v.label, v.due, v.earliest, v.latest) for v in visits]
    assert got == [
        ("6 months", date(2026, 2, 28), date(2025, 12, 30), date(2026, 4, 29)),
        ("1 year", date(2026, 8, 31), date(2026, 7, 2), date(2026, 10, 30)),
        ("2 years", date(2027, 8, 31), date(2027, 7, 2), date(2027, 10, 30)),
    ]


def test_schedule_stops_after_the_first_visit_not_yet_open() -> None:
    visits = scheduled_visits(NHSBT, date(2026, 1, 1), until=date(2026, 1, 1))
    assert [v.label for v in visits] == ["2 weeks"]


def test_lifelong_visits_go_on_for_life() -> None:
    visits = scheduled_visits(NHSBT, date(2000, 6, 15), until=date(2060, 6, 1))
    # Year 60's window opens on 16 May 2060; year 61 is the next to come.
    assert [v.label for v in visits[-2:]] == ["year 60", "year 61"]
    assert visits[-2].due == date(2060, 6, 15)
    assert len(visits) == 4 + 60


DONATED = date(2025, 3, 31)


def test_track_visits_states() -> None:
    # 2 weeks due 14 Apr (10-21 Apr): attended 12 Apr.
    # 6 weeks due 12 May (5-26 May): attended late on 3 Jun, before 6 months opens.
    # 6 months due 30 Sep (31 Aug - 30 Oct): missed.
    # 12 months due 31 Mar 2026 (1 Mar - 30 May 2026): window open on 15 Mar 2026.
    held = [date(2025, 4, 12), date(2025, 6, 3), date(2026, 4, 1)]  # the last is after as_of
    statuses = track_visits(NHSBT, DONATED, held, as_of=date(2026, 3, 15))
    got = [(s.visit.label, s.state, s.held_on, s.days_overdue) for s in statuses]
    assert got == [
        ("2 weeks", VisitState.ATTENDED, date(2025, 4, 12), 0),
        ("6 weeks", VisitState.ATTENDED_LATE, date(2025, 6, 3), 0),
        ("6 months", VisitState.OVERDUE, None, 136),
        ("12 months", VisitState.DUE, None, 0),
        ("year 2", VisitState.UPCOMING, None, 0),
    ]
    later = track_visits(NHSBT, DONATED, held, as_of=date(2026, 4, 2))
    assert later[3].state is VisitState.ATTENDED and later[3].held_on == date(2026, 4, 1)
    assert later[4].state is VisitState.UPCOMING and later[4].visit.label == "year 2"


def test_each_held_visit_counts_once_and_early_visits_count_for_nothing() -> None:
    # Two visits inside the 2-week window; one well before it (day 3 after surgery).
    held = [date(2025, 4, 3), date(2025, 4, 11), date(2025, 4, 13)]
    statuses = track_visits(NHSBT, DONATED, held, as_of=date(2025, 5, 30))
    # The 13 April visit is too early for the 6-week review (window 5-26 May).
    states = [s.state for s in statuses]
    assert states == [VisitState.ATTENDED, VisitState.OVERDUE, VisitState.UPCOMING]
    assert statuses[0].held_on == date(2025, 4, 11)
    assert statuses[1].days_overdue == 4


def test_a_visit_before_donation_is_an_error() -> None:
    with pytest.raises(EventLogError, match="2025-03-30 is before the donation on 2025-03-31"):
        track_visits(NHSBT, DONATED, [date(2025, 3, 30)], as_of=date(2025, 5, 1))


def test_optn_schedule_completes() -> None:
    held = [date(2025, 10, 1), date(2026, 3, 31), date(2027, 3, 31)]
    statuses = track_visits(OPTN, DONATED, held, as_of=date(2035, 1, 1))
    assert [s.state for s in statuses] == [VisitState.ATTENDED] * 3


# --- the policy files --------------------------------------------------------------


def test_bundled_care_policies_load_and_match_the_repository_files() -> None:
    for name in BUNDLED_CARE_POLICIES:
        policy = load_care_policy(name)
        assert policy.name == name and policy.version and policy.references
        assert load_care_policy(REPO / "policies" / f"{name}.toml").schedule == policy.schedule
    assert NHSBT.lifelong == LifelongRule(
        every_months=12, from_months=24, early_days=30, late_days=60
    )
    assert [(v.label, v.months, v.days) for v in NHSBT.visits] == [
        ("2 weeks", 0, 14),
        ("6 weeks", 0, 42),
        ("6 months", 6, 0),
        ("12 months", 12, 0),
    ]
    assert OPTN.lifelong is None
    assert {(v.early_days, v.late_days) for v in OPTN.visits} == {(60, 60)}


MINIMAL = """
[policy]
name = "test"
version = "1"

[[visit]]
label = "1 month"
months = 1
"""


def test_a_minimal_policy_and_alert_overrides() -> None:
    policy = parse_care_policy(
        MINIMAL + '\n[alerts]\negfr_high_below = 25\ncomplication_grade_from = "IVa"\n'
    )
    assert policy.schedule == Schedule((VisitRule("1 month", months=1),))
    assert policy.thresholds.egfr_high_below == 25
    assert policy.thresholds.complication_grade_from.value == "IVa"
    assert policy.thresholds.egfr_warning_below == AlertThresholds().egfr_warning_below


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[policy", "not valid TOML"),
        (MINIMAL.replace('version = "1"', ""), "policy.version"),
        (MINIMAL + "colour = 1\n", "visit.0.colour"),
        (MINIMAL.replace("months = 1", "months = -1"), "visit.0.months"),
        (MINIMAL.replace("months = 1", 'months = "1"'), "visit.0.months"),
        (MINIMAL.replace("months = 1", "days = 0"), "visit.0: a visit needs days"),
        (
            MINIMAL + '[[visit]]\nlabel = "2 weeks"\nweeks = 2\n',
            "visit.1: visit '2 weeks' is due no later",
        ),
        (MINIMAL + "[lifelong]\nevery_months = 12\nfrom_months = 1\n", "lifelong.from_months"),
        (
            MINIMAL + "[alerts]\negfr_high_below = 50\n",
            "alerts: alert thresholds: expected 0 < egfr_high_below",
        ),
        (MINIMAL + '[alerts]\ncomplication_grade_from = "3"\n', "alerts.complication_grade_from"),
        (MINIMAL + "[extra]\n", "extra"),
    ],
)
def test_bad_policies_name_file_and_key(text: str, message: str) -> None:
    with pytest.raises(FormatError, match=message) as info:
        parse_care_policy(text, "mine.toml")
    assert str(info.value).startswith("mine.toml")


def test_unknown_policy_names_the_bundled_ones(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="care-nhsbt, care-optn"):
        load_care_policy("care-nowhere")
    path = tmp_path / "mine.toml"
    path.write_text(MINIMAL, encoding="utf-8")
    assert load_care_policy(path).name == "test"


@given(
    st.sampled_from([NHSBT, OPTN]),
    st.dates(date(2000, 1, 1), date(2030, 12, 31)),
    st.lists(st.integers(0, 3000), max_size=12),
    st.integers(0, 3500),
)
def test_tracked_visits_are_consistent(
    schedule: Schedule, donated: date, offsets: list[int], days: int
) -> None:
    held = [donated + timedelta(days=d) for d in offsets]
    as_of = donated + timedelta(days=days)
    statuses = track_visits(schedule, donated, held, as_of=as_of)
    used = [s.held_on for s in statuses if s.held_on is not None]
    assert len(used) == len(set(used))  # each visit counts once
    assert all(d <= as_of and d in held for d in used)
    for index, s in enumerate(statuses):
        v = s.visit
        assert v.earliest <= v.due <= v.latest and v.number == index + 1
        if s.state is VisitState.ATTENDED:
            assert s.held_on is not None and v.earliest <= s.held_on <= v.latest
        elif s.state is VisitState.ATTENDED_LATE:
            assert s.held_on is not None and s.held_on > v.latest
        elif s.state is VisitState.OVERDUE:
            assert s.days_overdue == (as_of - v.latest).days > 0
        elif s.state is VisitState.DUE:
            assert v.earliest <= as_of <= v.latest
        else:
            assert as_of < v.earliest
    # Only the last visit may not have opened yet.
    assert all(s.state is not VisitState.UPCOMING for s in statuses[:-1])
