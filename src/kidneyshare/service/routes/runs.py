"""Matching runs: start one (it runs in the background), follow it, restart it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, status

from kidneyshare.matching.policy import BUNDLED_POLICIES
from kidneyshare.registry.access import Permission, Principal
from kidneyshare.registry.errors import RecordInvalid
from kidneyshare.registry.runs import create_run, get_run, list_runs, restart_run
from kidneyshare.registry.vocabulary import RunStatus
from kidneyshare.service.deps import (
    MAX_ID,
    Limit,
    Offset,
    State,
    require,
)
from kidneyshare.service.schemas.common import Page
from kidneyshare.service.schemas.runs import RunCreate, RunPublic
from kidneyshare.service.views import run_view
from kidneyshare.workflows.matching_run import read_policy, start_run

router = APIRouter(prefix="/runs", tags=["runs"])
Reader = Annotated[Principal, Depends(require(Permission.READ_RUNS))]
Starter = Annotated[Principal, Depends(require(Permission.START_RUNS))]
RunId = Annotated[int, Path(ge=1, le=MAX_ID)]


@router.post("", response_model=RunPublic, status_code=status.HTTP_202_ACCEPTED)
def start(body: RunCreate, state: State, caller: Starter) -> RunPublic:
    """Snapshot the active pool and solve it in the background; poll ``GET /runs/{id}``.
    With ``policy`` the scheme's policy file gives the rules and is stored with the run."""
    with state.unit(caller) as uow:
        if body.policy is None:
            if body.levels:
                raise RecordInvalid("levels are taken with a policy only", field="levels")
            run = create_run(uow, body.model_dump(exclude={"policy", "levels"}))
        else:
            if body.policy not in BUNDLED_POLICIES:  # never a path on the server
                names = ", ".join(BUNDLED_POLICIES)
                raise RecordInvalid(f"expected one of {names}, got {body.policy!r}", field="policy")
            run = start_run(
                uow, read_policy(body.policy), levels=body.levels, time_limit=body.time_limit
            )
    state.worker.submit(run.id)
    with state.sessions() as session:
        return run_view(session, get_run(session, run.id), caller, state.pseudonyms)


@router.get("", response_model=Page[RunPublic])
def runs(
    state: State,
    caller: Reader,
    limit: Limit = 50,
    offset: Offset = 0,
    status_filter: Annotated[RunStatus | None, Query(alias="status")] = None,
) -> Page[RunPublic]:
    with state.sessions() as session:
        rows, total = list_runs(session, status=status_filter, limit=limit, offset=offset)
        items = [run_view(session, r, caller, state.pseudonyms) for r in rows]
    return Page[RunPublic](items=items, total=total, limit=limit, offset=offset)


@router.get("/{run_id}", response_model=RunPublic)
def run(run_id: RunId, state: State, caller: Reader) -> RunPublic:
    """The run, its progress and, when done, its exchanges: people of the caller's
    centre are identified, everyone else appears by pseudonym."""
    with state.sessions() as session:
        return run_view(session, get_run(session, run_id), caller, state.pseudonyms)


@router.post("/{run_id}/restart", response_model=RunPublic, status_code=status.HTTP_202_ACCEPTED)
def restart(run_id: RunId, state: State, caller: Starter) -> RunPublic:
    """Queue an interrupted or failed run again, on its stored snapshot."""
    with state.unit(caller) as uow:
        restart_run(uow, get_run(uow.session, run_id))
    state.worker.submit(run_id)
    with state.sessions() as session:
        return run_view(session, get_run(session, run_id), caller, state.pseudonyms)
