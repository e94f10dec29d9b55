"""Alerts for a donor's care coordinator: missed follow-up visits and abnormal results.

Each alert has a severity, the day it dates from and one sentence a coordinator can act
on. The limits are the care policy's :class:`~kidneyshare.care.thresholds.AlertThresholds`
(cited there). Results are judged on the latest value of each kind, so a result that has
since returned to normal no longer raises an alert; overdue visits are judged against the
policy's schedule. Ended episodes raise nothing, except *lost to follow-up*, which asks
for the donor to be traced.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import Enum

from kidneyshare.care.measurements import (
    AlbuminCreatinineRatio,
    BloodPressure,
    Complication,
    Measurement,
    TrendDirection,
    egfr_readings,
    egfr_trend,
)
from kidneyshare.care.pathway import EpisodeId, Stage
from kidneyshare.care.policy import CarePolicy
from kidneyshare.care.record import CareRecord
from kidneyshare.care.schedule import VisitState, track_visits
from kidneyshare.care.thresholds import AlertThresholds
from kidneyshare.model.people import DonorId

__all__ = ["Alert", "AlertKind", "Severity", "donor_alerts"]


class Severity(Enum):
    """How soon a coordinator should act, most urgent first."""

    CRITICAL = "critical"
    HIGH = "high"
    WARNING = "warning"

    @property
    def rank(self) -> int:
        """3 for critical down to 1 for warning (higher is more urgent)."""
        return len(Severity) - list(Severity).index(self)


class AlertKind(Enum):
    """What an alert is about."""

    OVERDUE_VISIT = "overdue-visit"
    LOST_TO_FOLLOW_UP = "lost-to-follow-up"
    LOW_EGFR = "low-egfr"
    FALLING_EGFR = "falling-egfr"
    HYPERTENSION = "hypertension"
    ALBUMINURIA = "albuminuria"
    COMPLICATION = "complication"


@dataclass(frozen=True, slots=True)
class Alert:
    """One thing a coordinator should act on, with the sentence that says what."""

    donor_id: DonorId
    episode_id: EpisodeId
    kind: AlertKind
    severity: Severity
    since: date
    """The day of the result, or the day the missed visit's window closed."""
    message: str


def donor_alerts(record: CareRecord, policy: CarePolicy, *, as_of: date) -> tuple[Alert, ...]:
    """Every alert for one donor as of ``as_of``, most severe first, then oldest first.

    Only what had been recorded by the end of ``as_of`` counts (see
    :meth:`CareRecord.as_of`), so the same data answers for any past day.
    """
    seen = record.as_of(as_of)
    if seen is None or seen.episode.stage.is_terminal:
        return ()
    found: list[tuple[AlertKind, Severity, date, str]] = []
    if seen.episode.stage is Stage.LOST_TO_FOLLOW_UP:
        found.append(
            (
                AlertKind.LOST_TO_FOLLOW_UP,
                Severity.WARNING,
                seen.episode.stage_since,
                f"Lost to follow-up since {seen.episode.stage_since}: trace the donor and "
                "offer their annual review.",
            )
        )
    else:
        found += _overdue(seen, policy, as_of)
    found += _kidney_function(seen, policy.thresholds)
    found += _latest_blood_pressure(seen, policy.thresholds)
    found += _albuminuria(seen.measurements, policy.thresholds)
    found += _complications(seen.measurements, policy.thresholds, as_of)
    alerts = [
        Alert(seen.episode.donor_id, seen.episode.episode_id, kind, severity, since, message)
        for kind, severity, since, message in found
    ]
    return tuple(sorted(alerts, key=lambda a: (-a.severity.rank, a.since, a.kind.value)))


_Found = list[tuple[AlertKind, Severity, date, str]]


def _overdue(record: CareRecord, policy: CarePolicy, as_of: date) -> _Found:
    donated = record.episode.donated_on
    if donated is None:
        return []
    found: _Found = []
    for status in track_visits(policy.schedule, donated, record.visits, as_of=as_of):
        if status.state is not VisitState.OVERDUE:
            continue
        visit, late = status.visit, status.days_overdue
        high = late > policy.thresholds.visit_overdue_high_days
        found.append(
            (
                AlertKind.OVERDUE_VISIT,
                Severity.HIGH if high else Severity.WARNING,
                visit.latest + timedelta(days=1),
                f"The {visit.label} follow-up visit (due {visit.due}, window closed "
                f"{visit.latest}) was missed: {late} days overdue.",
            )
        )
    return found


def _kidney_function(record: CareRecord, limits: AlertThresholds) -> _Found:
    readings = egfr_readings(record.profile, record.measurements)
    if not readings:
        return []
    found: _Found = []
    latest = readings[-1]
    value = f"eGFR {latest.egfr:.0f} mL/min/1.73m2 on {latest.taken_on}"
    if latest.egfr < limits.egfr_warning_below:
        high = latest.egfr < limits.egfr_high_below
        limit = limits.egfr_high_below if high else limits.egfr_warning_below
        advice = "refer to specialist kidney care" if high else "repeat it and review"
        severity = Severity.HIGH if high else Severity.WARNING
        found.append(
            (
                AlertKind.LOW_EGFR,
                severity,
                latest.taken_on,
                f"{value} is below {limit:g}: {advice}.",
            )
        )
    trend = egfr_trend(
        readings, donated_on=record.episode.donated_on, change_per_year=limits.egfr_decline_per_year
    )
    if trend.direction is TrendDirection.FALLING and trend.slope_per_year is not None:
        found.append(
            (
                AlertKind.FALLING_EGFR,
                Severity.WARNING,
                latest.taken_on,
                f"eGFR is falling by {-trend.slope_per_year:.1f} mL/min/1.73m2 a year (latest "
                f"{latest.egfr:.0f} on {latest.taken_on}), faster than "
                f"{limits.egfr_decline_per_year:g} a year.",
            )
        )
    return found


def _latest_blood_pressure(record: CareRecord, limits: AlertThresholds) -> _Found:
    readings = [
        (m.taken_on, m.observation)
        for m in record.measurements
        if isinstance(m.observation, BloodPressure)
    ]
    if not readings:
        return []
    day, bp = max(readings, key=lambda r: r[0])
    text = f"Blood pressure {bp.systolic}/{bp.diastolic} mmHg on {day}"
    if bp.systolic >= limits.systolic_severe or bp.diastolic >= limits.diastolic_severe:
        limit = f"{limits.systolic_severe}/{limits.diastolic_severe}"
        return [
            (
                AlertKind.HYPERTENSION,
                Severity.HIGH,
                day,
                f"{text} is severe hypertension (at or above {limit}): same-day review.",
            )
        ]

    def raised(r: BloodPressure) -> bool:
        return (
            r.systolic >= limits.systolic_hypertension
            or r.diastolic >= limits.diastolic_hypertension
        )

    if not raised(bp):
        return []
    limit = f"{limits.systolic_hypertension}/{limits.diastolic_hypertension}"
    donated = record.episode.donated_on
    before = [r for d, r in readings if donated is not None and d < donated]
    # "New" only when readings before donation exist and were all below the limit.
    if donated is not None and day >= donated and before and not any(map(raised, before)):
        what = "is new hypertension (normal before donation)"
    else:
        what = "is hypertension"
    return [
        (
            AlertKind.HYPERTENSION,
            Severity.WARNING,
            day,
            f"{text} {what}, at or above {limit}: confirm with ambulatory or home readings.",
        )
    ]


def _albuminuria(measurements: Sequence[Measurement], limits: AlertThresholds) -> _Found:
    ratios = [
        (m.taken_on, m.observation)
        for m in measurements
        if isinstance(m.observation, AlbuminCreatinineRatio)
    ]
    if not ratios:
        return []
    day, acr = max(ratios, key=lambda r: r[0])
    if acr.mg_per_mmol < limits.acr_warning_from:
        return []
    high = acr.mg_per_mmol >= limits.acr_high_from
    limit = limits.acr_high_from if high else limits.acr_warning_from
    advice = "refer to specialist kidney care" if high else "repeat it to confirm"
    return [
        (
            AlertKind.ALBUMINURIA,
            Severity.HIGH if high else Severity.WARNING,
            day,
            f"Urine albumin:creatinine ratio {acr.mg_per_mmol:g} mg/mmol on {day} is at or "
            f"above {limit:g}: {advice}.",
        )
    ]


def _complications(
    measurements: Sequence[Measurement], limits: AlertThresholds, as_of: date
) -> _Found:
    found: _Found = []
    recent = as_of - timedelta(days=limits.complication_recent_days)
    for m in measurements:
        c = m.observation
        if not isinstance(c, Complication) or m.taken_on < recent:
            continue
        if c.grade.rank < limits.complication_grade_from.rank:
            continue
        critical = c.grade.rank >= 5  # grade IV or V: intensive care or death
        found.append(
            (
                AlertKind.COMPLICATION,
                Severity.CRITICAL if critical else Severity.HIGH,
                m.taken_on,
                f"Clavien-Dindo grade {c.grade.value} complication on {m.taken_on}: "
                f"{c.description}.",
            )
        )
    return found
