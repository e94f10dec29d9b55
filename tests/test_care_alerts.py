"""Alerts: a missed visit, abnormal results by the cited limits, ended episodes."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest
from tests.care_fixtures import donated_episode, measure, profile, record, work_up_episode

from kidneyshare.care.alerts import AlertKind, Severity, donor_alerts
from kidneyshare.care.errors import EventLogError, MeasurementError
from kidneyshare.care.measurements import (
    CREATININE_UMOL_PER_MG,
    AlbuminCreatinineRatio,
    BloodPressure,
    ClavienDindo,
    Complication,
    Creatinine,
)
from kidneyshare.care.pathway import Stage
from kidneyshare.care.policy import load_care_policy
from kidneyshare.care.record import CareRecord

NHSBT = load_care_policy("care-nhsbt")
DONATED = date(2025, 3, 31)
# 2 weeks (10-21 Apr), 6 weeks (5-26 May), 6 months (31 Aug - 30 Oct), 12 months ...
ON_TIME = (date(2025, 4, 14), date(2025, 5, 12))


def test_a_missed_visit_raises_an_alert_that_grows_with_time() -> None:
    donor = record(donated_episode("d1", DONATED), visits=ON_TIME)
    assert donor_alerts(donor, NHSBT, as_of=date(2025, 10, 30)) == ()  # window still open
    (alert,) = donor_alerts(donor, NHSBT, as_of=date(2025, 11, 15))
    assert (alert.kind, alert.severity, alert.since) == (
        AlertKind.OVERDUE_VISIT,
        Severity.WARNING,
        date(2025, 10, 31),
    )
    assert alert.message == (
        "The 6 months follow-up visit (due 2025-09-30, window closed 2025-10-30) was missed: "
        "16 days overdue."
    )
    assert (alert.donor_id, alert.episode_id) == ("d1", "e-d1")
    (later,) = donor_alerts(donor, NHSBT, as_of=date(2026, 2, 1))
    assert later.severity is Severity.HIGH and "94 days overdue" in later.message
    # Seen late, before the 12-month window opened: no alert any more.
    seen = replace(donor, visits=(*ON_TIME, date(2026, 2, 2)))
    assert donor_alerts(seen, NHSBT, as_of=date(2026, 2, 3)) == ()


def test_alerts_as_of_an_earlier_day_ignore_later_records() -> None:
    donor = record(
        donated_episode("d1", DONATED),
        visits=(*ON_TIME, date(2025, 12, 1)),
        measurements=(measure("d1", date(2025, 12, 1), BloodPressure(185, 100)),),
    )
    kinds = [a.kind for a in donor_alerts(donor, NHSBT, as_of=date(2025, 11, 20))]
    assert kinds == [AlertKind.OVERDUE_VISIT]
    assert donor_alerts(donor, NHSBT, as_of=DONATED - timedelta(days=61)) == ()


def creatinine_for_egfr(egfr_wanted: float) -> float:
    """Creatinine (umol/L) giving about ``egfr_wanted`` for the fixture's man, aged 50."""
    # Above the knot eGFR = 142 (Scr/0.9)^-1.2 0.9938^age; solve for Scr.
    scr = 0.9 * (egfr_wanted / (142 * 0.9938**50)) ** (-1 / 1.2)
    return scr * CREATININE_UMOL_PER_MG


@pytest.mark.parametrize(
    ("egfr", "severity", "text"),
    [
        (27.0, Severity.HIGH, "eGFR 27 mL/min/1.73m2 on 2025-09-30 is below 30: refer"),
        (40.0, Severity.WARNING, "eGFR 40 mL/min/1.73m2 on 2025-09-30 is below 45: repeat"),
        (55.0, None, ""),
    ],
)
def test_low_egfr(egfr: float, severity: Severity | None, text: str) -> None:
    day = date(2025, 9, 30)
    donor = record(
        donated_episode("d1", DONATED),
        visits=(*ON_TIME, day),
        measurements=(measure("d1", day, Creatinine(creatinine_for_egfr(egfr))),),
    )
    alerts = donor_alerts(donor, NHSBT, as_of=day)
    if severity is None:
        assert alerts == ()
    else:
        (alert,) = alerts
        assert (alert.kind, alert.severity) == (AlertKind.LOW_EGFR, severity)
        assert alert.message.startswith(text)


def test_falling_egfr() -> None:
    days = [DONATED + timedelta(days=d) for d in (120, 485, 850)]
    values = [62.0, 55.0, 48.0]
    donor = record(
        donated_episode("d1", DONATED),
        measurements=tuple(
            measure("d1", d, Creatinine(creatinine_for_egfr(v)))
            for d, v in zip(days, values, strict=True)
        ),
    )
    found = {a.kind: a for a in donor_alerts(donor, NHSBT, as_of=days[-1])}
    assert found[AlertKind.FALLING_EGFR].severity is Severity.WARNING
    assert "falling by 7." in found[AlertKind.FALLING_EGFR].message


@pytest.mark.parametrize(
    ("before", "after", "severity", "text"),
    [
        (BloodPressure(125, 80), BloodPressure(150, 85), Severity.WARNING, "is new hypertension"),
        (
            BloodPressure(145, 92),
            BloodPressure(150, 85),
            Severity.WARNING,
            "150/85 mmHg on 2025-09-30 is hypertension",
        ),
        (None, BloodPressure(130, 95), Severity.WARNING, "is hypertension, at or above 140/90"),
        (BloodPressure(125, 80), BloodPressure(182, 100), Severity.HIGH, "severe hypertension"),
        (BloodPressure(125, 80), BloodPressure(139, 89), None, ""),
    ],
)
def test_blood_pressure(
    before: BloodPressure | None, after: BloodPressure, severity: Severity | None, text: str
) -> None:
    day = date(2025, 9, 30)
    ms = [measure("d1", day, after)]
    if before is not None:
        ms.append(measure("d1", DONATED - timedelta(days=40), before))
    donor = record(donated_episode("d1", DONATED), visits=(*ON_TIME, day), measurements=tuple(ms))
    alerts = donor_alerts(donor, NHSBT, as_of=day)
    if severity is None:
        assert alerts == ()
        return
    (alert,) = alerts
    assert (alert.kind, alert.severity, alert.since) == (AlertKind.HYPERTENSION, severity, day)
    assert text in alert.message


def test_albuminuria_uses_the_latest_ratio() -> None:
    day = date(2025, 9, 30)
    ms = (
        measure("d1", day - timedelta(days=100), AlbuminCreatinineRatio(45)),
        measure("d1", day, AlbuminCreatinineRatio(4.5)),
    )
    donor = record(donated_episode("d1", DONATED), visits=(*ON_TIME, day), measurements=ms)
    (alert,) = donor_alerts(donor, NHSBT, as_of=day)
    assert alert.severity is Severity.WARNING
    assert alert.message == (
        "Urine albumin:creatinine ratio 4.5 mg/mmol on 2025-09-30 is at or above 3: repeat it "
        "to confirm."
    )
    high = replace(donor, measurements=ms[:1])
    assert donor_alerts(high, NHSBT, as_of=day)[0].severity is Severity.HIGH


def test_complications_by_grade_while_recent() -> None:
    ms = (
        measure(
            "d1", DONATED + timedelta(days=2), Complication(ClavienDindo.II, "wound infection")
        ),
        measure(
            "d1",
            DONATED + timedelta(days=3),
            Complication(ClavienDindo.IIIB, "re-operation for bleeding"),
        ),
        measure(
            "d1",
            DONATED + timedelta(days=4),
            Complication(ClavienDindo.IVA, "ICU: respiratory failure"),
        ),
    )
    donor = record(donated_episode("d1", DONATED), measurements=ms)
    alerts = donor_alerts(donor, NHSBT, as_of=DONATED + timedelta(days=10))
    assert [(a.severity, a.message) for a in alerts] == [
        (
            Severity.CRITICAL,
            "Clavien-Dindo grade IVa complication on 2025-04-04: ICU: respiratory failure.",
        ),
        (
            Severity.HIGH,
            "Clavien-Dindo grade IIIb complication on 2025-04-03: re-operation for bleeding.",
        ),
    ]
    assert (
        donor_alerts(donor, NHSBT, as_of=DONATED + timedelta(days=13)) == alerts
    )  # 2-week window open
    quiet = replace(donor, visits=ON_TIME)
    assert donor_alerts(quiet, NHSBT, as_of=DONATED + timedelta(days=120)) == ()


def test_ended_episodes() -> None:
    lost = record(donated_episode("d1", DONATED, then=(Stage.LOST_TO_FOLLOW_UP,)), visits=ON_TIME)
    (alert,) = donor_alerts(lost, NHSBT, as_of=date(2026, 6, 1))
    assert alert.kind is AlertKind.LOST_TO_FOLLOW_UP
    assert alert.message.startswith("Lost to follow-up since 2025-05-14: trace the donor")
    gone = record(donated_episode("d1", DONATED, then=(Stage.TRANSFERRED,)))
    assert donor_alerts(gone, NHSBT, as_of=date(2030, 1, 1)) == ()
    waiting = record(work_up_episode("d1", date(2025, 1, 1)))
    assert donor_alerts(waiting, NHSBT, as_of=date(2030, 1, 1)) == ()


def test_a_care_record_holds_one_donor() -> None:
    episode = donated_episode("d1", DONATED)
    with pytest.raises(EventLogError, match="profile is for donor d2, the episode for d1"):
        CareRecord(episode, profile("d2"))
    with pytest.raises(MeasurementError, match="measurement donor: expected donor d1"):
        CareRecord(episode, profile("d1"), (), (measure("d2", DONATED, Creatinine(80)),))
