"""A coordinator's caseload: who is on it, what each row says, and the urgency order."""

from __future__ import annotations

from datetime import date

from hypothesis import given
from hypothesis import strategies as st
from tests.care_fixtures import donated_episode, measure, record, work_up_episode

from kidneyshare.care.alerts import Severity
from kidneyshare.care.caseload import caseload
from kidneyshare.care.measurements import (
    BloodPressure,
    ClavienDindo,
    Complication,
    Creatinine,
    TrendDirection,
)
from kidneyshare.care.pathway import CoordinatorAssigned, CoordinatorId, Stage, apply
from kidneyshare.care.policy import load_care_policy
from kidneyshare.care.record import CareRecord

NHSBT = load_care_policy("care-nhsbt")
AS_OF = date(2026, 3, 1)
CC1 = CoordinatorId("cc1")


def the_caseload() -> list[CareRecord]:
    """Eight donors; six are cc1's on AS_OF."""
    late = date(2025, 3, 31)  # 6-month visit missed 122 days ago: HIGH
    return [
        # Up to date, next visit the 12-month review: no alerts.
        record(
            donated_episode("calm", date(2025, 3, 20)),
            visits=(date(2025, 4, 3), date(2025, 5, 1), date(2025, 9, 20)),
            measurements=(
                measure("calm", date(2025, 7, 1), Creatinine(95)),
                measure("calm", date(2025, 9, 20), Creatinine(96)),
                measure("calm", date(2026, 2, 1), Creatinine(97)),
            ),
        ),
        # Missed two visits (6 weeks, 6 months), both long ago: HIGH, 2 overdue.
        record(donated_episode("missed", late), visits=(date(2025, 4, 14),)),
        # One visit missed long ago, otherwise fine: HIGH, 1 overdue.
        record(
            donated_episode("one-missed", late),
            visits=(date(2025, 4, 14), date(2025, 5, 12)),
        ),
        # A recent grade IVa complication: CRITICAL, though no visit is overdue yet.
        record(
            donated_episode("icu", date(2026, 2, 20)),
            measurements=(
                measure("icu", date(2026, 2, 22), Complication(ClavienDindo.IVA, "ICU")),
            ),
        ),
        # In work-up with surgery planned: no visits yet, sorted by the surgery date.
        record(work_up_episode("work-up", date(2026, 1, 5), planned_for=date(2026, 3, 10))),
        # New hypertension at the last visit: WARNING, nothing overdue.
        record(
            donated_episode("bp", date(2025, 3, 20)),
            visits=(date(2025, 4, 3), date(2025, 5, 1), date(2025, 9, 20)),
            measurements=(
                measure("bp", date(2025, 1, 10), BloodPressure(124, 78)),
                measure("bp", date(2025, 9, 20), BloodPressure(152, 88)),
            ),
        ),
        # Another coordinator's donor, and a transferred one: not on cc1's caseload.
        record(donated_episode("other", late, coordinator="cc2")),
        record(donated_episode("moved", late, then=(Stage.TRANSFERRED,))),
    ]


def test_caseload_rows_and_order() -> None:
    rows = caseload(the_caseload(), CC1, NHSBT, as_of=AS_OF)
    got = [(r.donor_id, r.top_severity, r.overdue_visits) for r in rows]
    assert got == [
        ("icu", Severity.CRITICAL, 0),
        ("missed", Severity.HIGH, 2),
        ("one-missed", Severity.HIGH, 1),
        ("bp", Severity.WARNING, 0),
        ("work-up", None, 0),  # surgery on 10 March
        ("calm", None, 0),  # 12-month review due 20 March
    ]
    by_id = {r.donor_id: r for r in rows}
    calm = by_id["calm"]
    assert calm.stage is Stage.FOLLOW_UP and calm.days_since_donation == 346
    assert calm.next_visit is not None and calm.next_visit.label == "12 months"
    assert calm.next_visit.due == date(2026, 3, 20) and calm.next_date == date(2026, 3, 20)
    assert calm.egfr.latest is not None and calm.egfr.latest.taken_on == date(2026, 2, 1)
    assert calm.egfr.direction is TrendDirection.STABLE
    work_up = by_id["work-up"]
    assert work_up.stage is Stage.SURGERY_SCHEDULED and work_up.days_since_donation is None
    assert work_up.next_visit is None and work_up.next_date == date(2026, 3, 10)
    assert [a.message[:27] for a in by_id["missed"].alerts] == [
        "The 6 weeks follow-up visit",
        "The 6 months follow-up visi",
    ]


def test_a_reassigned_donor_moves_caseload_on_the_day() -> None:
    records = the_caseload()
    moved = apply(
        records[0].episode,
        CoordinatorAssigned(CoordinatorId("cc2"), date(2026, 2, 15), "u1", "cc1 on leave"),
    )
    records[0] = CareRecord(moved, records[0].profile, records[0].visits, records[0].measurements)
    assert "calm" not in [r.donor_id for r in caseload(records, CC1, NHSBT, as_of=AS_OF)]
    before = caseload(records, CC1, NHSBT, as_of=date(2026, 2, 14))
    assert "calm" in [r.donor_id for r in before]
    cc2 = caseload(records, CoordinatorId("cc2"), NHSBT, as_of=AS_OF)
    assert [r.donor_id for r in cc2] == ["other", "calm"]


def test_an_earlier_day_sees_an_earlier_caseload() -> None:
    rows = caseload(the_caseload(), CC1, NHSBT, as_of=date(2025, 6, 1))
    # icu's and work-up's episodes had not opened yet; moved was transferred on 14 May.
    assert {r.donor_id for r in rows} == {"calm", "missed", "one-missed", "bp"}
    moved = caseload(the_caseload(), CC1, NHSBT, as_of=date(2025, 5, 13))
    assert "moved" in {r.donor_id for r in moved}


@given(st.permutations(the_caseload()))
def test_order_does_not_depend_on_input_order(records: list[CareRecord]) -> None:
    expected = caseload(the_caseload(), CC1, NHSBT, as_of=AS_OF)
    assert caseload(records, CC1, NHSBT, as_of=AS_OF) == expected


def test_an_empty_caseload() -> None:
    assert caseload([], CC1, NHSBT, as_of=AS_OF) == ()
    assert caseload(the_caseload(), CoordinatorId("nobody"), NHSBT, as_of=AS_OF) == ()
