"""A care coordinator's caseload: each of their donors, most urgent first.

A row per donor whose episode the coordinator holds on the day asked about, with the
stage, days since donation, the next follow-up visit, how many visits are overdue, the
latest eGFR and its trend, and the donor's alerts. Terminal episodes (withdrawn,
deceased, transferred) leave the caseload; a donor lost to follow-up stays on it.

Urgency order: the most severe alert first; then more overdue visits; then the earliest
next date (a visit's due date, or the planned surgery); then the donor id, so that the
order never depends on input order.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from kidneyshare.care.alerts import Alert, Severity, donor_alerts
from kidneyshare.care.measurements import EgfrTrend, egfr_readings, egfr_trend
from kidneyshare.care.pathway import CoordinatorId, EpisodeId, Stage
from kidneyshare.care.policy import CarePolicy
from kidneyshare.care.record import CareRecord
from kidneyshare.care.schedule import ScheduledVisit, VisitState, track_visits
from kidneyshare.model.people import DonorId

__all__ = ["CaseloadEntry", "caseload"]


@dataclass(frozen=True, slots=True)
class CaseloadEntry:
    """One donor on a coordinator's caseload, as of the day asked about."""

    donor_id: DonorId
    episode_id: EpisodeId
    stage: Stage
    days_since_donation: int | None
    next_visit: ScheduledVisit | None
    """The first follow-up visit not yet held whose window has not closed."""
    surgery_planned_for: date | None
    overdue_visits: int
    egfr: EgfrTrend
    alerts: tuple[Alert, ...]

    @property
    def top_severity(self) -> Severity | None:
        return self.alerts[0].severity if self.alerts else None

    @property
    def next_date(self) -> date | None:
        """The next thing on the calendar: a follow-up visit, or the planned surgery."""
        return self.next_visit.due if self.next_visit else self.surgery_planned_for


def caseload(
    records: Iterable[CareRecord],
    coordinator: CoordinatorId,
    policy: CarePolicy,
    *,
    as_of: date,
) -> tuple[CaseloadEntry, ...]:
    """The caseload of ``coordinator`` on ``as_of``, most urgent first (module docstring)."""
    entries = []
    for full in records:
        record = full.as_of(as_of)
        if record is None or record.episode.coordinator != coordinator:
            continue
        if record.episode.stage.is_terminal:
            continue
        entries.append(_entry(record, policy, as_of))
    return tuple(sorted(entries, key=_urgency))


def _entry(record: CareRecord, policy: CarePolicy, as_of: date) -> CaseloadEntry:
    episode = record.episode
    donated = episode.donated_on
    overdue, next_visit = 0, None
    if donated is not None:
        for status in track_visits(policy.schedule, donated, record.visits, as_of=as_of):
            if status.state is VisitState.OVERDUE:
                overdue += 1
            elif next_visit is None and status.state in (VisitState.DUE, VisitState.UPCOMING):
                next_visit = status.visit
    trend = egfr_trend(
        egfr_readings(record.profile, record.measurements),
        donated_on=donated,
        change_per_year=policy.thresholds.egfr_decline_per_year,
    )
    return CaseloadEntry(
        donor_id=episode.donor_id,
        episode_id=episode.episode_id,
        stage=episode.stage,
        days_since_donation=None if donated is None else (as_of - donated).days,
        next_visit=None if episode.stage.is_ended else next_visit,
        surgery_planned_for=episode.surgery_planned_for,
        overdue_visits=overdue,
        egfr=trend,
        alerts=donor_alerts(record, policy, as_of=as_of),
    )


def _urgency(entry: CaseloadEntry) -> tuple[int, int, date, str, str]:
    severity = entry.top_severity.rank if entry.top_severity else 0
    return (
        -severity,
        -entry.overdue_visits,
        entry.next_date or date.max,
        entry.donor_id,
        entry.episode_id,
    )
