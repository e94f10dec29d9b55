"""Donor care as the registry stores it: episodes, their event logs, visits, measurements.

The rows are append-only inputs; :mod:`kidneyshare.care` computes everything else from
them. This module turns rows into the care domain's values (events replayed into a
:class:`~kidneyshare.care.CareEpisode`, measurements into
:class:`~kidneyshare.care.Measurement`) and back, and nothing more: which events are
allowed is the pathway's rule, checked by replaying the log with the new event before
it is written.

Ids in the care domain: episode ``E<episode id>``, donor ``D<donor id>`` (as in a run's
snapshot), coordinator and recorder by username (``system`` for the scheme's own
processes).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kidneyshare.care import (
    AlbuminCreatinineRatio,
    BloodPressure,
    BodyWeight,
    CareEpisode,
    CareRecord,
    ClavienDindo,
    Complication,
    CoordinatorAssigned,
    CoordinatorId,
    Creatinine,
    DonorProfile,
    EpisodeEvent,
    EpisodeId,
    EpisodeOpened,
    Measurement,
    Observation,
    Sex,
    StageChanged,
    replay,
)
from kidneyshare.model import DonorId
from kidneyshare.registry.errors import RecordInvalid, RecordNotFound
from kidneyshare.registry.keys import donor_key
from kidneyshare.registry.models import (
    CareEvent,
    CareMeasurement,
    DonorCareEpisode,
    FollowUpVisit,
    User,
)
from kidneyshare.registry.vocabulary import CareEventKind, MeasurementKind

__all__ = [
    "SYSTEM_NAME",
    "care_record",
    "donor_episodes",
    "episode_events",
    "episode_key",
    "event_row",
    "get_episode",
    "measurement_row",
    "observation",
    "parse_episode_key",
    "replay_episode",
]

SYSTEM_NAME = "system"
"""The recorder's name for events the scheme's own processes record."""


def episode_key(episode_id: int) -> EpisodeId:
    return EpisodeId(f"E{episode_id}")


def parse_episode_key(key: str) -> int:
    return int(key.removeprefix("E"))


def get_episode(session: Session, episode_id: int) -> DonorCareEpisode:
    episode = session.get(DonorCareEpisode, episode_id)
    if episode is None:
        raise RecordNotFound(f"care episode {episode_id} does not exist")
    return episode


class _Names:
    """Usernames by user id, looked up once."""

    def __init__(self, session: Session, ids: Iterable[int | None]) -> None:
        wanted = {i for i in ids if i is not None}
        self._names: dict[int, str] = {}
        if wanted:
            query = select(User.id, User.username).where(User.id.in_(wanted))
            self._names = {user_id: name for user_id, name in session.execute(query)}

    def __call__(self, user_id: int | None) -> str:
        return SYSTEM_NAME if user_id is None else self._names[user_id]


def _event(row: CareEvent, episode: DonorCareEpisode, names: _Names) -> EpisodeEvent:
    by = names(row.recorded_by_id)
    if row.kind is CareEventKind.OPENED:
        return EpisodeOpened(
            episode_key(episode.id),
            DonorId(donor_key(episode.donor_id)),
            CoordinatorId(names(row.coordinator_id)),
            row.on,
            by,
            row.reason,
        )
    if row.kind is CareEventKind.COORDINATOR_ASSIGNED:
        return CoordinatorAssigned(CoordinatorId(names(row.coordinator_id)), row.on, by, row.reason)
    assert row.from_stage is not None and row.to_stage is not None  # written together
    return StageChanged(row.from_stage, row.to_stage, row.on, by, row.reason, row.planned_for)


def episode_events(session: Session, episode: DonorCareEpisode) -> list[EpisodeEvent]:
    """The episode's log as care-domain events, in the order recorded."""
    rows = list(
        session.scalars(
            select(CareEvent).where(CareEvent.episode_id == episode.id).order_by(CareEvent.id)
        )
    )
    names = _Names(session, [r.recorded_by_id for r in rows] + [r.coordinator_id for r in rows])
    return [_event(r, episode, names) for r in rows]


def replay_episode(session: Session, episode: DonorCareEpisode) -> CareEpisode:
    return replay(episode_events(session, episode))


def donor_episodes(session: Session, donor_ids: Iterable[int]) -> dict[int, list[CareEpisode]]:
    """Every care episode of each of ``donor_ids`` that has one, replayed."""
    wanted = set(donor_ids)
    found: dict[int, list[CareEpisode]] = {}
    if not wanted:
        return found
    rows = session.scalars(
        select(DonorCareEpisode)
        .where(DonorCareEpisode.donor_id.in_(wanted))
        .order_by(DonorCareEpisode.id)
    )
    for row in rows:
        found.setdefault(row.donor_id, []).append(replay_episode(session, row))
    return found


def event_row(
    episode: DonorCareEpisode, event: EpisodeEvent, recorded_by: int | None, coordinator: int | None
) -> CareEvent:
    """The row that stores ``event`` (``coordinator``: the user id it names, if any)."""
    if isinstance(event, StageChanged):
        return CareEvent(
            episode_id=episode.id,
            kind=CareEventKind.STAGE_CHANGED,
            on=event.on,
            from_stage=event.from_stage,
            to_stage=event.to_stage,
            planned_for=event.planned_for,
            reason=event.reason,
            recorded_by_id=recorded_by,
        )
    opened = isinstance(event, EpisodeOpened)
    return CareEvent(
        episode_id=episode.id,
        kind=CareEventKind.OPENED if opened else CareEventKind.COORDINATOR_ASSIGNED,
        on=event.on,
        coordinator_id=coordinator,
        reason=event.reason,
        recorded_by_id=recorded_by,
    )


def observation(kind: MeasurementKind, value: dict[str, Any]) -> Observation:
    """The care-domain observation a stored ``value`` of ``kind`` holds.

    Raises
    ------
    RecordInvalid
        naming the field that is missing or of the wrong kind.
    MeasurementError
        when a value is outside its plausible range (the domain's check).
    """
    fields = {
        MeasurementKind.CREATININE: ("umol_per_l",),
        MeasurementKind.BLOOD_PRESSURE: ("systolic", "diastolic"),
        MeasurementKind.ALBUMIN_CREATININE_RATIO: ("mg_per_mmol",),
        MeasurementKind.WEIGHT: ("kg",),
        MeasurementKind.COMPLICATION: ("grade", "description"),
    }[kind]
    missing = [f for f in fields if value.get(f) is None]
    if missing:
        raise RecordInvalid(
            f"a {kind.value} measurement needs {', '.join(fields)}", field=missing[0]
        )
    allowed = {*fields, "height_cm"} if kind is MeasurementKind.WEIGHT else set(fields)
    unknown = sorted(set(value) - allowed)
    if unknown:
        raise RecordInvalid(
            f"not a field of a {kind.value} measurement (expected {', '.join(sorted(allowed))})",
            field=unknown[0],
        )
    if kind is MeasurementKind.CREATININE:
        return Creatinine(value["umol_per_l"])
    if kind is MeasurementKind.BLOOD_PRESSURE:
        return BloodPressure(value["systolic"], value["diastolic"])
    if kind is MeasurementKind.ALBUMIN_CREATININE_RATIO:
        return AlbuminCreatinineRatio(value["mg_per_mmol"])
    if kind is MeasurementKind.WEIGHT:
        return BodyWeight(value["kg"], value.get("height_cm"))
    try:
        grade = ClavienDindo(value["grade"])
    except ValueError:
        grades = ", ".join(g.value for g in ClavienDindo)
        raise RecordInvalid(
            f"expected a Clavien-Dindo grade ({grades}), got {value['grade']!r}", field="grade"
        ) from None
    return Complication(grade, value["description"])


def measurement_row(
    episode: DonorCareEpisode,
    kind: MeasurementKind,
    taken_on: date,
    value: dict[str, Any],
    recorded_by: int | None,
) -> CareMeasurement:
    observation(kind, value)  # refuses what the care domain would refuse, before storing
    return CareMeasurement(
        episode_id=episode.id,
        kind=kind,
        taken_on=taken_on,
        value=dict(value),
        recorded_by_id=recorded_by,
    )


def _sex(text: str) -> Sex:
    return Sex.FEMALE if text == "F" else Sex.MALE


def care_record(session: Session, episode: DonorCareEpisode) -> CareRecord:
    """Everything recorded about the episode, as the care domain's alerts read it."""
    replayed = replay_episode(session, episode)
    donor = replayed.donor_id
    visits: Sequence[date] = list(
        session.scalars(
            select(FollowUpVisit.held_on)
            .where(FollowUpVisit.episode_id == episode.id)
            .order_by(FollowUpVisit.id)
        )
    )
    rows = list(
        session.scalars(
            select(CareMeasurement)
            .where(CareMeasurement.episode_id == episode.id)
            .order_by(CareMeasurement.id)
        )
    )
    names = _Names(session, [r.recorded_by_id for r in rows])
    measurements = tuple(
        Measurement(donor, r.taken_on, observation(r.kind, r.value), names(r.recorded_by_id))
        for r in rows
    )
    return CareRecord(
        replayed,
        DonorProfile(donor, episode.born_on, _sex(episode.sex)),
        tuple(visits),
        measurements,
    )
