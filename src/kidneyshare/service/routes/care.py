"""Donor care: episodes, stage changes, coordinators, follow-up visits, measurements,
alerts and caseloads. Care coordinators see their centre's donors; administrators all."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Query, status

from kidneyshare.care import Alert
from kidneyshare.registry.access import Permission, Principal
from kidneyshare.registry.care_log import get_episode
from kidneyshare.registry.keys import parse_donor_key
from kidneyshare.registry.models import Donor, DonorCareEpisode
from kidneyshare.service.deps import MAX_ID, State, require
from kidneyshare.service.schemas.care import (
    EARLIEST,
    LATEST,
    AlertPublic,
    CaseloadEntryPublic,
    CoordinatorIn,
    EpisodeCreate,
    EpisodePublic,
    MeasurementIn,
    StageIn,
    VisitIn,
    VisitStatusPublic,
)
from kidneyshare.workflows.care import (
    alerts,
    assign_coordinator,
    change_stage,
    coordinator_caseload,
    episode_state,
    list_episodes,
    open_episode,
    record_measurement,
    record_visit,
)

router = APIRouter(prefix="/care", tags=["care"])
Reader = Annotated[Principal, Depends(require(Permission.READ_CARE))]
Recorder = Annotated[Principal, Depends(require(Permission.RECORD_CARE))]
AsOf = Annotated[
    date | None,
    Query(ge=EARLIEST, le=LATEST, description="Judge as of this day (default: today)."),
]


def _visible_episode(
    episode_id: Annotated[int, Path(ge=1, le=MAX_ID)], caller: Reader, state: State
) -> int:
    with state.sessions() as session:
        episode = session.get(DonorCareEpisode, episode_id)
    if episode is None or not caller.identifies(episode.centre_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"care episode {episode_id} does not exist")
    return episode_id


VisibleEpisode = Annotated[int, Depends(_visible_episode)]


def _alert(alert: Alert, episode_id: int) -> AlertPublic:
    return AlertPublic(
        episode_id=episode_id,
        donor_id=parse_donor_key(alert.donor_id),
        kind=alert.kind.value,
        severity=alert.severity.value,
        since=alert.since,
        message=alert.message,
    )


def _view(state: State, episode_id: int, as_of: date | None) -> EpisodePublic:
    day = as_of or date.today()
    with state.sessions() as session:
        row = get_episode(session, episode_id)
        seen = episode_state(session, row, state.care_policy, as_of=day)
    e = seen.episode
    return EpisodePublic(
        id=row.id,
        donor_id=row.donor_id,
        centre_id=row.centre_id,
        offer_id=row.offer_id,
        coordinator=e.coordinator,
        stage=e.stage,
        stage_since=e.stage_since,
        opened_on=e.opened_on,
        donated_on=e.donated_on,
        surgery_planned_for=e.surgery_planned_for,
        policy=f"{row.policy_name} {row.policy_version}",
        as_of=day,
        visits=[
            VisitStatusPublic(
                label=v.visit.label,
                due=v.visit.due,
                earliest=v.visit.earliest,
                latest=v.visit.latest,
                state=v.state.value,
                held_on=v.held_on,
                days_overdue=v.days_overdue,
            )
            for v in seen.visits
        ],
        alerts=[_alert(a, row.id) for a in seen.alerts],
    )


@router.get("/episodes", response_model=list[EpisodePublic])
def episodes(state: State, caller: Reader, as_of: AsOf = None) -> list[EpisodePublic]:
    """Care episodes of the caller's centre's donors (every centre's for an administrator)."""
    with state.sessions() as session:
        ids = [e.id for e in list_episodes(session, centre_id=caller.centre_id)]
    return [_view(state, i, as_of) for i in ids]


@router.post("/episodes", response_model=EpisodePublic, status_code=status.HTTP_201_CREATED)
def open_(body: EpisodeCreate, state: State, caller: Recorder) -> EpisodePublic:
    """Open a donor's care episode (in assessment) with a care coordinator."""
    with state.sessions() as session:
        donor = session.get(Donor, body.donor_id)
    if donor is None or not caller.identifies(donor.centre_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"donor {body.donor_id} does not exist")
    with state.unit(caller) as uow:
        episode = open_episode(
            uow,
            body.donor_id,
            state.care_policy,
            on=body.opened_on,
            coordinator=body.coordinator,
            born_on=body.born_on,
            sex=body.sex,
            offer_id=body.offer_id,
        )
    return _view(state, episode.id, body.opened_on)


@router.get("/episodes/{episode_id}", response_model=EpisodePublic)
def episode(episode_id: VisibleEpisode, state: State, as_of: AsOf = None) -> EpisodePublic:
    """The episode as of a day: stage, coordinator, follow-up visits and alerts."""
    return _view(state, episode_id, as_of)


@router.post("/episodes/{episode_id}/stage", response_model=EpisodePublic)
def stage(
    episode_id: VisibleEpisode, body: StageIn, state: State, caller: Recorder
) -> EpisodePublic:
    """Move the episode along the pathway (a move the pathway forbids gets 422)."""
    with state.unit(caller) as uow:
        change_stage(
            uow,
            episode_id,
            body.to_stage,
            on=body.on,
            reason=body.reason,
            planned_for=body.planned_for,
        )
    return _view(state, episode_id, body.on)


@router.post("/episodes/{episode_id}/coordinator", response_model=EpisodePublic)
def coordinator(
    episode_id: VisibleEpisode, body: CoordinatorIn, state: State, caller: Recorder
) -> EpisodePublic:
    """Hand the episode to another care coordinator of the donor's centre."""
    with state.unit(caller) as uow:
        assign_coordinator(uow, episode_id, body.coordinator, on=body.on, reason=body.reason)
    return _view(state, episode_id, body.on)


@router.post(
    "/episodes/{episode_id}/visits",
    response_model=EpisodePublic,
    status_code=status.HTTP_201_CREATED,
)
def visit(
    episode_id: VisibleEpisode, body: VisitIn, state: State, caller: Recorder
) -> EpisodePublic:
    """Record a follow-up visit the donor attended."""
    with state.unit(caller) as uow:
        record_visit(uow, episode_id, body.held_on, notes=body.notes)
    return _view(state, episode_id, body.held_on)


@router.post(
    "/episodes/{episode_id}/measurements",
    response_model=EpisodePublic,
    status_code=status.HTTP_201_CREATED,
)
def measurement(
    episode_id: VisibleEpisode, body: MeasurementIn, state: State, caller: Recorder
) -> EpisodePublic:
    """Record an observation (creatinine, blood pressure, ACR, weight, complication)."""
    with state.unit(caller) as uow:
        record_measurement(uow, episode_id, body.kind, body.taken_on, body.value)
    return _view(state, episode_id, body.taken_on)


@router.get("/alerts", response_model=list[AlertPublic])
def care_alerts(state: State, caller: Reader, as_of: AsOf = None) -> list[AlertPublic]:
    """Every alert of the caller's centre's donors, most severe first."""
    with state.sessions() as session:
        found = alerts(
            session, state.care_policy, as_of=as_of or date.today(), centre_id=caller.centre_id
        )
    return [_alert(a, e.id) for e, a in found]


@router.get("/caseload", response_model=list[CaseloadEntryPublic])
def caseload(
    state: State,
    caller: Reader,
    as_of: AsOf = None,
    coordinator: Annotated[
        str | None,
        Query(max_length=64, description="Whose caseload (an administrator's choice; else yours)."),
    ] = None,
) -> list[CaseloadEntryPublic]:
    """A care coordinator's donors, most urgent first, with their recovery status."""
    if not caller.reads_caseload_of(coordinator or caller.username):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, "a care coordinator reads their own caseload"
        )
    who = coordinator or caller.username
    with state.sessions() as session:
        entries = coordinator_caseload(session, who, state.care_policy, as_of=as_of or date.today())
    return [
        CaseloadEntryPublic(
            episode_id=int(e.episode_id.removeprefix("E")),
            donor_id=parse_donor_key(e.donor_id),
            stage=e.stage,
            days_since_donation=e.days_since_donation,
            next_visit=None
            if e.next_visit is None
            else f"{e.next_visit.label} due {e.next_visit.due}",
            surgery_planned_for=e.surgery_planned_for,
            overdue_visits=e.overdue_visits,
            egfr=None if e.egfr.latest is None else round(e.egfr.latest.egfr, 1),
            egfr_trend=e.egfr.direction.value,
            alerts=[_alert(a, int(e.episode_id.removeprefix("E"))) for a in e.alerts],
        )
        for e in entries
    ]
