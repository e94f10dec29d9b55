"""Donor care in the registry: episodes, stages, follow-up visits, measurements, alerts.

Every donor selected for a transplant gets a care episode with a care coordinator. A
coordinator may open it at selection (work-up starts in *assessment*); recording the
transplant (:func:`record_transplant_with_care`) opens it if nobody did and moves it to
*surgery* on the transplant's date (through *surgery-scheduled* for that day when no
date was planned), in the transaction that records the transplant. Later stages
(inpatient recovery, discharge, follow-up ...) are recorded with :func:`change_stage`.

Every rule is the care domain's (:mod:`kidneyshare.care`): an event is built and
replayed on the episode's log before it is stored, so a stage change the pathway does
not allow, or a date going back, never reaches the database. Alerts and caseloads are
computed on demand from the stored rows, as of any day, under the scheme's care policy.

Coordinator assignment: the one named, else the active care coordinator of the donor's
centre with the fewest open episodes (then by username), so that work is shared out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kidneyshare.care import (
    Alert,
    CarePolicy,
    CaseloadEntry,
    CoordinatorAssigned,
    CoordinatorId,
    EpisodeOpened,
    Stage,
    VisitStatus,
    caseload,
    donor_alerts,
    replay,
    track_visits,
)
from kidneyshare.care import change_stage as next_stage
from kidneyshare.care.pathway import CareEpisode, EpisodeEvent
from kidneyshare.model import DonorId
from kidneyshare.registry.care_log import (
    care_record,
    episode_events,
    episode_key,
    event_row,
    get_episode,
    measurement_row,
    replay_episode,
)
from kidneyshare.registry.errors import RecordConflict, RecordInvalid, RecordNotFound
from kidneyshare.registry.keys import donor_key
from kidneyshare.registry.models import (
    CareEvent,
    Donor,
    DonorCareEpisode,
    FollowUpVisit,
    Offer,
    Transplant,
    User,
)
from kidneyshare.registry.outcomes import record_transplant
from kidneyshare.registry.pool import current_donor_facts
from kidneyshare.registry.unit_of_work import UnitOfWork, row_state
from kidneyshare.registry.vocabulary import MeasurementKind, Role

__all__ = [
    "EARLIEST",
    "LATEST",
    "EpisodeState",
    "alerts",
    "assign_coordinator",
    "change_stage",
    "coordinator_caseload",
    "episode_state",
    "list_episodes",
    "open_episode",
    "record_measurement",
    "record_transplant_with_care",
    "record_visit",
]


EARLIEST, LATEST = date(1900, 1, 1), date(2200, 12, 31)
"""The days a care record may name: lifelong schedules are computed from them."""


def _check_day(day: date, field: str) -> date:
    if not EARLIEST <= day <= LATEST:
        raise RecordInvalid(f"expected a day from {EARLIEST} to {LATEST}, got {day}", field=field)
    return day


def _coordinator(session: Session, username: str, centre_id: int) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None or not user.active or user.role is not Role.CARE_COORDINATOR:
        raise RecordInvalid(f"{username!r} is not an active care coordinator", field="coordinator")
    if user.centre_id not in (None, centre_id):
        raise RecordInvalid(
            f"care coordinator {username} works for another centre than the donor's",
            field="coordinator",
        )
    return user


def _open_episodes(session: Session, centre_id: int | None = None) -> list[DonorCareEpisode]:
    query = select(DonorCareEpisode).order_by(DonorCareEpisode.id)
    if centre_id is not None:
        query = query.where(DonorCareEpisode.centre_id == centre_id)
    return [e for e in session.scalars(query) if replay_episode(session, e).is_active]


def _least_loaded(session: Session, centre_id: int) -> User:
    candidates = list(
        session.scalars(
            select(User)
            .where(
                User.role == Role.CARE_COORDINATOR,
                User.active.is_(True),
                User.centre_id == centre_id,
            )
            .order_by(User.username)
        )
    )
    if not candidates:
        raise RecordConflict(
            f"centre {centre_id} has no active care coordinator to follow the donor; add one, "
            "or name a coordinator"
        )
    load = {u.username: 0 for u in candidates}
    for episode in _open_episodes(session, centre_id):
        name = replay_episode(session, episode).coordinator
        if name in load:
            load[name] += 1
    return min(candidates, key=lambda u: (load[u.username], u.username))


def _append(
    uow: UnitOfWork, episode: DonorCareEpisode, event: EpisodeEvent, coordinator: int | None
) -> CareEpisode:
    """Replay the log with ``event`` (the domain's checks), then store it."""
    state = replay([*episode_events(uow.session, episode), event])
    row = event_row(episode, event, uow.actor.user_id, coordinator)
    uow.session.add(row)
    uow.flush()
    uow.audit("care.event", "care-episode", episode.id, after=row_state(row))
    return state


def _profile(
    session: Session, donor: Donor, born_on: date | None, sex: str | None
) -> tuple[date, str]:
    """Date of birth and sex for the eGFR: as given, else from the donor's facts (the
    birth date estimated from the age recorded, to within a year)."""
    facts = current_donor_facts(session, donor.id)
    if sex is None and facts is not None:
        sex = facts.sex
    if born_on is None and facts is not None and facts.age is not None:
        day = facts.recorded_on
        born_on = day.replace(year=day.year - facts.age, day=min(day.day, 28))
    if born_on is None:
        raise RecordInvalid(
            f"donor {donor.id}'s date of birth is needed for the eGFR (no age is recorded)",
            field="born_on",
        )
    if sex not in ("F", "M"):
        raise RecordInvalid(
            f"donor {donor.id}'s sex (F or M) is needed for the eGFR, got {sex!r}", field="sex"
        )
    return born_on, sex


def open_episode(
    uow: UnitOfWork,
    donor_id: int,
    policy: CarePolicy,
    *,
    on: date,
    coordinator: str | None = None,
    born_on: date | None = None,
    sex: str | None = None,
    offer_id: int | None = None,
    reason: str = "selected for donation",
) -> DonorCareEpisode:
    """Open the donor's care episode in *assessment* with a care coordinator.

    Raises
    ------
    RecordConflict
        the donor already has an open episode, or the centre has no care coordinator.
    RecordInvalid
        the coordinator named is not one, or the donor's birth date or sex is unknown.
    """
    _check_day(on, "opened_on")
    if born_on is not None:
        _check_day(born_on, "born_on")
    session = uow.session
    donor = session.get(Donor, donor_id)
    if donor is None:
        raise RecordNotFound(f"donor {donor_id} does not exist")
    for earlier in session.scalars(
        select(DonorCareEpisode).where(DonorCareEpisode.donor_id == donor_id)
    ):
        if replay_episode(session, earlier).is_active:
            raise RecordConflict(f"donor {donor_id} already has open care episode {earlier.id}")
    user = (
        _coordinator(session, coordinator, donor.centre_id)
        if coordinator is not None
        else _least_loaded(session, donor.centre_id)
    )
    birth, sex_code = _profile(session, donor, born_on, sex)
    episode = DonorCareEpisode(
        donor_id=donor.id,
        centre_id=donor.centre_id,
        offer_id=offer_id,
        policy_name=policy.name,
        policy_version=policy.version,
        born_on=birth,
        sex=sex_code,
        opened_on=on,
        created_by_id=uow.actor.user_id,
    )
    session.add(episode)
    uow.flush()
    opened = EpisodeOpened(
        episode_key(episode.id),
        DonorId(donor_key(donor.id)),
        CoordinatorId(user.username),
        on,
        uow.actor.name,
        reason,
    )
    _append(uow, episode, opened, user.id)
    return episode


def change_stage(
    uow: UnitOfWork,
    episode_id: int,
    to_stage: Stage,
    *,
    on: date,
    reason: str,
    planned_for: date | None = None,
) -> CareEpisode:
    """Move the episode along the pathway (the pathway's rules decide; see
    :data:`kidneyshare.care.TRANSITIONS`)."""
    _check_day(on, "on")
    if planned_for is not None:
        _check_day(planned_for, "planned_for")
    episode = get_episode(uow.session, episode_id)
    state = replay_episode(uow.session, episode)
    event = next_stage(
        state, to_stage, on=on, recorded_by=uow.actor.name, reason=reason, planned_for=planned_for
    )
    return _append(uow, episode, event, None)


def assign_coordinator(
    uow: UnitOfWork, episode_id: int, coordinator: str, *, on: date, reason: str
) -> CareEpisode:
    """Hand the episode to another care coordinator of the donor's centre."""
    _check_day(on, "on")
    episode = get_episode(uow.session, episode_id)
    user = _coordinator(uow.session, coordinator, episode.centre_id)
    event = CoordinatorAssigned(CoordinatorId(user.username), on, uow.actor.name, reason)
    return _append(uow, episode, event, user.id)


def record_transplant_with_care(
    uow: UnitOfWork,
    offer: Offer,
    performed_on: date,
    policy: CarePolicy,
    *,
    expected_version: int,
    coordinator: str | None = None,
    born_on: date | None = None,
    sex: str | None = None,
) -> tuple[Transplant, DonorCareEpisode]:
    """Record the offer's transplant and carry the donor's care episode to *surgery*
    (opening it first if nobody did), in one transaction."""
    _check_day(performed_on, "performed_on")
    transplant = record_transplant(uow, offer, performed_on, expected_version=expected_version)
    session = uow.session
    episode = next(
        (
            e
            for e in session.scalars(
                select(DonorCareEpisode)
                .where(DonorCareEpisode.donor_id == offer.donor_id)
                .order_by(DonorCareEpisode.id.desc())
            )
            if replay_episode(session, e).is_active
        ),
        None,
    )
    if episode is None:
        episode = open_episode(
            uow,
            offer.donor_id,
            policy,
            on=performed_on,
            coordinator=coordinator,
            born_on=born_on,
            sex=sex,
            offer_id=offer.id,
            reason=f"selected for donation: offer {offer.id} of run {offer.run_id}",
        )
    state = replay_episode(session, episode)
    why = f"transplant of offer {offer.id} recorded"
    if state.stage is Stage.ASSESSMENT:
        state = change_stage(
            uow,
            episode.id,
            Stage.SURGERY_SCHEDULED,
            on=performed_on,
            reason=f"{why}; no surgery date had been planned",
            planned_for=performed_on,
        )
    if state.stage is not Stage.SURGERY_SCHEDULED:
        raise RecordConflict(
            f"care episode {episode.id} is at {state.stage.value}; the donor cannot donate "
            "from there"
        )
    change_stage(uow, episode.id, Stage.SURGERY, on=performed_on, reason=why)
    return transplant, episode


def _donated_on(session: Session, episode: DonorCareEpisode) -> date:
    donated = replay_episode(session, episode).donated_on
    if donated is None:
        raise RecordConflict(
            f"care episode {episode.id} has no surgery yet; follow-up starts after donation"
        )
    return donated


def record_visit(
    uow: UnitOfWork, episode_id: int, held_on: date, *, notes: str = ""
) -> FollowUpVisit:
    """Record a follow-up visit the donor attended (on or after the donation)."""
    _check_day(held_on, "held_on")
    episode = get_episode(uow.session, episode_id)
    donated = _donated_on(uow.session, episode)
    if held_on < donated:
        raise RecordInvalid(
            f"the visit on {held_on} is before the donation on {donated}", field="held_on"
        )
    visit = FollowUpVisit(
        episode_id=episode.id, held_on=held_on, notes=notes, recorded_by_id=uow.actor.user_id
    )
    uow.session.add(visit)
    uow.flush()
    uow.audit("care.visit", "care-episode", episode.id, after=row_state(visit))
    return visit


def record_measurement(
    uow: UnitOfWork,
    episode_id: int,
    kind: MeasurementKind,
    taken_on: date,
    value: dict[str, Any],
) -> int:
    """Record an observation (checked by the care domain's plausible ranges); its id."""
    _check_day(taken_on, "taken_on")
    episode = get_episode(uow.session, episode_id)
    row = measurement_row(episode, kind, taken_on, value, uow.actor.user_id)
    uow.session.add(row)
    uow.flush()
    uow.audit(
        "care.measurement",
        "care-episode",
        episode.id,
        after={"kind": kind.value, "taken_on": taken_on.isoformat(), "value": dict(value)},
    )
    return row.id


@dataclass(frozen=True, slots=True)
class EpisodeState:
    """An episode as of a day: its replayed state, visits and alerts."""

    row: DonorCareEpisode
    episode: CareEpisode
    visits: tuple[VisitStatus, ...]
    alerts: tuple[Alert, ...]


def episode_state(
    session: Session, episode: DonorCareEpisode, policy: CarePolicy, *, as_of: date
) -> EpisodeState:
    _check_day(as_of, "as_of")
    record = care_record(session, episode)
    seen = record.as_of(as_of) or record
    donated = seen.episode.donated_on
    visits = (
        () if donated is None else track_visits(policy.schedule, donated, seen.visits, as_of=as_of)
    )
    return EpisodeState(episode, seen.episode, visits, donor_alerts(record, policy, as_of=as_of))


def list_episodes(
    session: Session, *, centre_id: int | None = None, coordinator: str | None = None
) -> list[DonorCareEpisode]:
    """Episodes in id order: of a centre's donors, and/or held now by a coordinator."""
    query = select(DonorCareEpisode).order_by(DonorCareEpisode.id)
    if centre_id is not None:
        query = query.where(DonorCareEpisode.centre_id == centre_id)
    if coordinator is not None:
        named = select(CareEvent.episode_id).join(User, User.id == CareEvent.coordinator_id)
        query = query.where(DonorCareEpisode.id.in_(named.where(User.username == coordinator)))
    rows = list(session.scalars(query))
    if coordinator is None:
        return rows
    return [e for e in rows if replay_episode(session, e).coordinator == coordinator]


def coordinator_caseload(
    session: Session, coordinator: str, policy: CarePolicy, *, as_of: date
) -> tuple[CaseloadEntry, ...]:
    """The coordinator's donors, most urgent first (:func:`kidneyshare.care.caseload`)."""
    _check_day(as_of, "as_of")
    records = [care_record(session, e) for e in list_episodes(session, coordinator=coordinator)]
    return caseload(records, CoordinatorId(coordinator), policy, as_of=as_of)


def alerts(
    session: Session,
    policy: CarePolicy,
    *,
    as_of: date,
    centre_id: int | None = None,
    coordinator: str | None = None,
) -> list[tuple[DonorCareEpisode, Alert]]:
    """Every alert as of ``as_of`` for the episodes asked about, most severe first."""
    _check_day(as_of, "as_of")
    found: list[tuple[DonorCareEpisode, Alert]] = []
    episodes: Sequence[DonorCareEpisode] = list_episodes(
        session, centre_id=centre_id, coordinator=coordinator
    )
    for episode in episodes:
        found += [
            (episode, a) for a in donor_alerts(care_record(session, episode), policy, as_of=as_of)
        ]
    return sorted(found, key=lambda pair: (-pair[1].severity.rank, pair[1].since, pair[0].id))
