"""A donor's care episode as an explicit state machine, rebuilt from its event log.

Every donor selected for a transplant gets one care episode. The episode moves through
the stages of :class:`Stage`; each move is a dated :class:`StageChanged` event that names
who recorded it and why. The episode itself is never stored or edited: it is the fold of
its events (:func:`replay`), so the registry keeps an append-only log and a correction is
a new event, never an update (DESIGN.md: "never deletes clinical data").

The pathway (``TRANSITIONS``; ``*`` marks the ended stages)::

    assessment          -> surgery-scheduled, withdrawn*, transferred*, deceased*
    surgery-scheduled   -> surgery, surgery-scheduled (new date), assessment,
                           withdrawn*, transferred*, deceased*
    surgery             -> inpatient-recovery, deceased*
    inpatient-recovery  -> discharged, deceased*
    discharged          -> follow-up, lost-to-follow-up*, transferred*, deceased*
    follow-up           -> lost-to-follow-up*, transferred*, deceased*
    lost-to-follow-up*  -> follow-up (the donor returns), transferred*, deceased*

- *withdrawn* is reachable only before surgery: a donor who has donated cannot withdraw
  from having donated; they can only stop attending (*lost to follow-up*).
- *lost to follow-up* ends active follow-up but is not terminal: a donor who returns is
  taken back into *follow-up* (lifelong follow-up is the donor's right; BTS/RA 2018).
- *withdrawn*, *deceased* and *transferred* (care handed to a provider outside the
  scheme's record) are terminal.
- *surgery-scheduled* may follow itself (a new date) and may go back to *assessment*
  (surgery postponed for further work-up).

Event dates never go backwards; several events may share a day (surgery and the start
of inpatient recovery usually do).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import Enum
from typing import NewType

from kidneyshare.care.errors import EventLogError, TransitionError
from kidneyshare.model.people import DonorId, check_id

__all__ = [
    "TRANSITIONS",
    "CareEpisode",
    "CoordinatorAssigned",
    "CoordinatorId",
    "EpisodeEvent",
    "EpisodeId",
    "EpisodeOpened",
    "Stage",
    "StageChanged",
    "apply",
    "change_stage",
    "replay",
]

EpisodeId = NewType("EpisodeId", str)
CoordinatorId = NewType("CoordinatorId", str)


class Stage(Enum):
    """Where a donor is in their care episode."""

    ASSESSMENT = "assessment"
    """Assessment and work-up before surgery (the episode opens here)."""
    SURGERY_SCHEDULED = "surgery-scheduled"
    SURGERY = "surgery"
    """The nephrectomy took place on this stage's date: the donor has donated."""
    INPATIENT_RECOVERY = "inpatient-recovery"
    DISCHARGED = "discharged"
    FOLLOW_UP = "follow-up"
    """Lifelong follow-up visits by the scheme's schedule."""
    WITHDRAWN = "withdrawn"
    """Withdrawn before donation (by the donor or on medical grounds)."""
    DECEASED = "deceased"
    LOST_TO_FOLLOW_UP = "lost-to-follow-up"
    TRANSFERRED = "transferred"
    """Care handed to a provider outside the scheme's record."""

    @property
    def is_ended(self) -> bool:
        """True for the ended stages: no work-up, surgery or scheduled visits are due."""
        return self in _ENDED

    @property
    def is_terminal(self) -> bool:
        """True when no stage may follow (every ended stage but lost to follow-up)."""
        return not TRANSITIONS[self]

    @property
    def label(self) -> str:
        """The stage in words, for sentences shown to coordinators."""
        return self.value.replace("-", " ")


_ENDED = frozenset({Stage.WITHDRAWN, Stage.DECEASED, Stage.LOST_TO_FOLLOW_UP, Stage.TRANSFERRED})

TRANSITIONS: dict[Stage, frozenset[Stage]] = {
    Stage.ASSESSMENT: frozenset(
        {Stage.SURGERY_SCHEDULED, Stage.WITHDRAWN, Stage.DECEASED, Stage.TRANSFERRED}
    ),
    Stage.SURGERY_SCHEDULED: frozenset(
        {
            Stage.SURGERY,
            Stage.SURGERY_SCHEDULED,
            Stage.ASSESSMENT,
            Stage.WITHDRAWN,
            Stage.DECEASED,
            Stage.TRANSFERRED,
        }
    ),
    Stage.SURGERY: frozenset({Stage.INPATIENT_RECOVERY, Stage.DECEASED}),
    Stage.INPATIENT_RECOVERY: frozenset({Stage.DISCHARGED, Stage.DECEASED}),
    Stage.DISCHARGED: frozenset(
        {Stage.FOLLOW_UP, Stage.LOST_TO_FOLLOW_UP, Stage.TRANSFERRED, Stage.DECEASED}
    ),
    Stage.FOLLOW_UP: frozenset({Stage.LOST_TO_FOLLOW_UP, Stage.TRANSFERRED, Stage.DECEASED}),
    Stage.LOST_TO_FOLLOW_UP: frozenset({Stage.FOLLOW_UP, Stage.TRANSFERRED, Stage.DECEASED}),
    Stage.WITHDRAWN: frozenset(),
    Stage.DECEASED: frozenset(),
    Stage.TRANSFERRED: frozenset(),
}
"""Every allowed stage change: ``TRANSITIONS[from_stage]`` is the set of next stages."""


def _check_date(value: object, field: str) -> None:
    # A datetime is a date subclass; comparing it with plain dates later would fail.
    if not isinstance(value, date) or isinstance(value, datetime):
        raise EventLogError(f"{field}: expected a calendar date, got {value!r}")


def _check_text(value: object, field: str) -> None:
    if not isinstance(value, str) or not value.strip():
        raise EventLogError(f"{field}: expected non-empty text, got {value!r}")


@dataclass(frozen=True, slots=True)
class EpisodeOpened:
    """The first event of every episode: the donor enters assessment with a coordinator."""

    episode_id: EpisodeId
    donor_id: DonorId
    coordinator: CoordinatorId
    on: date
    recorded_by: str
    reason: str = "selected for donation"

    def __post_init__(self) -> None:
        check_id(self.episode_id, "episode id")
        check_id(self.donor_id, f"episode {self.episode_id} donor id")
        check_id(self.coordinator, f"episode {self.episode_id} coordinator")
        check_id(self.recorded_by, f"episode {self.episode_id} recorded_by")
        _check_date(self.on, f"episode {self.episode_id} opened on")
        _check_text(self.reason, f"episode {self.episode_id} reason")


@dataclass(frozen=True, slots=True)
class StageChanged:
    """One move along the pathway, checked against :data:`TRANSITIONS` when built.

    ``from_stage`` is the stage the recorder saw; replaying the event on an episode at
    another stage fails, so two coordinators acting on the same stale view cannot both
    succeed. ``planned_for`` is the planned surgery date, required exactly when the
    change is to *surgery-scheduled*.
    """

    from_stage: Stage
    to_stage: Stage
    on: date
    recorded_by: str
    reason: str
    planned_for: date | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.from_stage, Stage) or not isinstance(self.to_stage, Stage):
            raise EventLogError(
                f"stage change: expected Stage values, got {self.from_stage!r} -> {self.to_stage!r}"
            )
        if self.to_stage not in TRANSITIONS[self.from_stage]:
            allowed = ", ".join(sorted(s.value for s in TRANSITIONS[self.from_stage])) or "none"
            raise TransitionError(
                f"stage change from {self.from_stage.value} to {self.to_stage.value} is not "
                f"allowed (from {self.from_stage.value}: {allowed})",
                from_stage=self.from_stage,
                to_stage=self.to_stage,
            )
        check_id(self.recorded_by, "stage change recorded_by")
        _check_date(self.on, "stage change date")
        _check_text(self.reason, "stage change reason")
        if self.to_stage is Stage.SURGERY_SCHEDULED:
            _check_date(self.planned_for, "stage change planned_for (surgery date)")
            assert self.planned_for is not None  # narrowed by the check above
            if self.planned_for < self.on:
                raise EventLogError(
                    f"stage change planned_for: surgery planned for {self.planned_for} is "
                    f"before the day it was scheduled ({self.on})"
                )
        elif self.planned_for is not None:
            raise EventLogError(
                f"stage change planned_for: only a change to surgery-scheduled has a planned "
                f"date, got {self.planned_for} for {self.to_stage.value}"
            )


@dataclass(frozen=True, slots=True)
class CoordinatorAssigned:
    """The episode passes to another care coordinator."""

    coordinator: CoordinatorId
    on: date
    recorded_by: str
    reason: str

    def __post_init__(self) -> None:
        check_id(self.coordinator, "coordinator assignment coordinator")
        check_id(self.recorded_by, "coordinator assignment recorded_by")
        _check_date(self.on, "coordinator assignment date")
        _check_text(self.reason, "coordinator assignment reason")


EpisodeEvent = EpisodeOpened | StageChanged | CoordinatorAssigned
"""Everything that can happen to an episode; the log is a sequence of these."""


@dataclass(frozen=True, slots=True)
class CareEpisode:
    """The state of one donor's care episode: the fold of ``events`` (never edited)."""

    episode_id: EpisodeId
    donor_id: DonorId
    coordinator: CoordinatorId
    stage: Stage
    opened_on: date
    stage_since: date
    """The date of the event that entered the current stage."""
    last_event_on: date
    donated_on: date | None
    """The surgery date, once the donor has donated."""
    surgery_planned_for: date | None
    """The planned surgery date while surgery is scheduled."""
    events: tuple[EpisodeEvent, ...]

    @property
    def has_donated(self) -> bool:
        return self.donated_on is not None

    @property
    def is_active(self) -> bool:
        """True while the episode is in a stage where care is still being given."""
        return not self.stage.is_ended


def change_stage(
    episode: CareEpisode,
    to_stage: Stage,
    *,
    on: date,
    recorded_by: str,
    reason: str,
    planned_for: date | None = None,
) -> StageChanged:
    """The event that moves ``episode`` to ``to_stage`` (checked; the episode is unchanged).

    Raises
    ------
    TransitionError
        The pathway does not allow ``episode.stage`` -> ``to_stage``.
    EventLogError
        The date is before the episode's last event, or a field is empty.
    """
    event = StageChanged(episode.stage, to_stage, on, recorded_by, reason, planned_for)
    apply(episode, event)  # raises on a date going back; the result is discarded
    return event


def apply(episode: CareEpisode | None, event: EpisodeEvent) -> CareEpisode:
    """The episode after ``event`` (``None`` before the opening event); a pure step.

    Raises
    ------
    EventLogError
        The log does not start with :class:`EpisodeOpened`, opens twice, goes back in
        time, or reassigns an ended episode.
    TransitionError
        A :class:`StageChanged` was recorded against another stage than the current one.
    """
    if episode is None:
        if not isinstance(event, EpisodeOpened):
            raise EventLogError(
                f"the first event of an episode must open it, got {type(event).__name__}"
            )
        return CareEpisode(
            episode_id=event.episode_id,
            donor_id=event.donor_id,
            coordinator=event.coordinator,
            stage=Stage.ASSESSMENT,
            opened_on=event.on,
            stage_since=event.on,
            last_event_on=event.on,
            donated_on=None,
            surgery_planned_for=None,
            events=(event,),
        )
    where = f"episode {episode.episode_id}"
    if isinstance(event, EpisodeOpened):
        raise EventLogError(f"{where}: is already open (opened on {episode.opened_on})")
    if event.on < episode.last_event_on:
        raise EventLogError(
            f"{where}: {type(event).__name__} dated {event.on} is before the previous "
            f"event ({episode.last_event_on}); events are recorded in date order"
        )
    events = (*episode.events, event)
    if isinstance(event, CoordinatorAssigned):
        if episode.stage.is_terminal:
            raise EventLogError(
                f"{where}: cannot assign a coordinator to an episode that ended "
                f"({episode.stage.value})"
            )
        if event.coordinator == episode.coordinator:
            raise EventLogError(f"{where}: {event.coordinator} is already its coordinator")
        return replace(
            episode, coordinator=event.coordinator, last_event_on=event.on, events=events
        )
    if event.from_stage is not episode.stage:
        raise TransitionError(
            f"{where}: a change from {event.from_stage.value} to {event.to_stage.value} was "
            f"recorded, but the episode is at {episode.stage.value}",
            from_stage=episode.stage,
            to_stage=event.to_stage,
        )
    return replace(
        episode,
        stage=event.to_stage,
        stage_since=event.on,
        last_event_on=event.on,
        donated_on=event.on if event.to_stage is Stage.SURGERY else episode.donated_on,
        surgery_planned_for=event.planned_for,
        events=events,
    )


def replay(events: Iterable[EpisodeEvent]) -> CareEpisode:
    """Rebuild an episode from its whole event log, oldest first.

    Raises
    ------
    EventLogError
        The log is empty or malformed (see :func:`apply`).
    TransitionError
        An event's stage change does not follow from the one before.
    """
    episode: CareEpisode | None = None
    for event in events:
        episode = apply(episode, event)
    if episode is None:
        raise EventLogError("an episode's event log is empty: it must start with EpisodeOpened")
    return episode
