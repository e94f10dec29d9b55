"""Follow-up visits after donation: when each is due, and which were attended.

A scheme's schedule is data (``policies/care-*.toml``, read by
:mod:`kidneyshare.care.policy`): a list of fixed visits, each an offset from the surgery
date with a tolerance window, and optionally a visit every so many months for life.
The bundled schedules:

- ``care-nhsbt`` (UK): reviews at 2 and 6 weeks, 6 and 12 months, then every year for
  life. Lifelong annual follow-up is the BTS/RA recommendation (British Transplantation
  Society & Renal Association, *Guidelines for Living Donor Kidney Transplantation*, 4th
  edition, 2018, chapter on the long-term follow-up of the donor); the early visits are
  common UK centre practice, not a guideline figure, and a centre edits the file to
  match its own.
- ``care-optn`` (US): OPTN Policy 18.5 (Living Donor Data Submission Requirements)
  requires living donor follow-up forms at 6 months, 1 year and 2 years after donation;
  the form's instructions take data collected within 60 days before or after each
  anniversary, which is the tolerance window here.

Dates are computed from the surgery date, never chained from the previous visit, so
they do not drift. Month offsets land on the same day of the month, or on the month's
last day when it is shorter (31 August + 6 months = 28 February, or 29 in a leap year;
29 February + 12 months = 28 February).
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from enum import Enum

from kidneyshare.care.errors import EventLogError

__all__ = [
    "LifelongRule",
    "Schedule",
    "ScheduledVisit",
    "VisitRule",
    "VisitState",
    "VisitStatus",
    "add_months",
    "scheduled_visits",
    "track_visits",
]


def add_months(day: date, months: int) -> date:
    """``day`` moved by whole calendar months, clamped to the end of a shorter month.

    >>> add_months(date(2024, 8, 31), 6)
    datetime.date(2025, 2, 28)
    """
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


@dataclass(frozen=True, slots=True)
class VisitRule:
    """One fixed visit: due ``months`` months plus ``days`` days after surgery, attended
    on time from ``early_days`` before to ``late_days`` after that date."""

    label: str
    months: int = 0
    days: int = 0
    early_days: int = 0
    late_days: int = 0

    def due(self, donated_on: date) -> date:
        return add_months(donated_on, self.months) + timedelta(days=self.days)


@dataclass(frozen=True, slots=True)
class LifelongRule:
    """A visit every ``every_months`` months for life, the first ``from_months`` months
    after surgery (labelled "year N" when the period is whole years)."""

    every_months: int
    from_months: int
    early_days: int = 0
    late_days: int = 0

    def label(self, months: int) -> str:
        return f"year {months // 12}" if months % 12 == 0 else f"month {months}"


@dataclass(frozen=True, slots=True)
class Schedule:
    """A scheme's follow-up schedule: fixed visits in order, then the lifelong rule."""

    visits: tuple[VisitRule, ...]
    lifelong: LifelongRule | None = None


@dataclass(frozen=True, slots=True)
class ScheduledVisit:
    """One visit of a donor's schedule: its due date and the window that counts as on time."""

    number: int
    """1 for the first visit after surgery, and so on."""
    label: str
    due: date
    earliest: date
    latest: date


def scheduled_visits(
    schedule: Schedule, donated_on: date, *, until: date
) -> tuple[ScheduledVisit, ...]:
    """Every visit of ``schedule`` whose window opens on or before ``until``, plus the
    first one that opens after it (the next to come), in due-date order."""
    slots: list[ScheduledVisit] = []

    def add(label: str, due: date, early: int, late: int) -> bool:
        earliest = due - timedelta(days=early)
        slots.append(
            ScheduledVisit(len(slots) + 1, label, due, earliest, due + timedelta(days=late))
        )
        return earliest <= until

    for rule in schedule.visits:
        if not add(rule.label, rule.due(donated_on), rule.early_days, rule.late_days):
            return tuple(slots)
    life = schedule.lifelong
    if life is not None:
        months = life.from_months
        while add(
            life.label(months), add_months(donated_on, months), life.early_days, life.late_days
        ):
            months += life.every_months
    return tuple(slots)


class VisitState(Enum):
    """Where one scheduled visit stands on a given day."""

    ATTENDED = "attended"
    """Held within its window."""
    ATTENDED_LATE = "attended-late"
    """Held after its window closed, before the next visit's window opened."""
    OVERDUE = "overdue"
    """Its window has closed and no visit was held."""
    DUE = "due"
    """Its window is open and no visit has been held yet."""
    UPCOMING = "upcoming"
    """Its window has not opened."""


@dataclass(frozen=True, slots=True)
class VisitStatus:
    """A scheduled visit, its state as of a day, and the day it was held (if it was)."""

    visit: ScheduledVisit
    state: VisitState
    held_on: date | None = None
    days_overdue: int = 0
    """Days since the window closed, for an overdue visit (else 0)."""


def track_visits(
    schedule: Schedule, donated_on: date, held: Iterable[date], *, as_of: date
) -> tuple[VisitStatus, ...]:
    """The state, as of ``as_of``, of every visit whose window has opened, plus the next.

    A visit held in a scheduled visit's window attends it; one held after the window
    closed but before the next window opens attends it late (the donor was seen, the
    coordinator needs no reminder). Each held visit counts once. Visits held after
    ``as_of`` are ignored, so the same log answers "as of last month" truthfully.

    Raises
    ------
    EventLogError
        A follow-up visit is dated before the donation.
    """
    days = sorted(d for d in set(held) if d <= as_of)
    if days and days[0] < donated_on:
        raise EventLogError(f"follow-up visit on {days[0]} is before the donation on {donated_on}")
    slots = scheduled_visits(schedule, donated_on, until=as_of)
    statuses: list[VisitStatus] = []
    used: set[date] = set()
    for index, slot in enumerate(slots):
        closes = slots[index + 1].earliest if index + 1 < len(slots) else date.max
        held_on = next((d for d in days if d not in used and slot.earliest <= d < closes), None)
        if held_on is not None:
            used.add(held_on)
            late = held_on > slot.latest
            state = VisitState.ATTENDED_LATE if late else VisitState.ATTENDED
        elif as_of > slot.latest:
            statuses.append(
                VisitStatus(slot, VisitState.OVERDUE, days_overdue=(as_of - slot.latest).days)
            )
            continue
        elif as_of >= slot.earliest:
            state = VisitState.DUE
        else:
            state = VisitState.UPCOMING
        statuses.append(VisitStatus(slot, state, held_on))
    return tuple(statuses)
