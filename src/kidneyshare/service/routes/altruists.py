"""Altruists (non-directed donors): register, read, correct facts, suspend or withdraw."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status

from kidneyshare.registry.access import Permission, Principal
from kidneyshare.registry.pool import (
    change_status,
    get_altruist,
    list_altruists,
    record_donor_facts,
    register_altruist,
)
from kidneyshare.registry.vocabulary import MemberStatus
from kidneyshare.service.deps import (
    ExpectedVersion,
    Limit,
    ListScope,
    Offset,
    State,
    VisibleAltruist,
    WritableCentre,
    require,
    with_etag,
)
from kidneyshare.service.intake import donor_entry, donor_facts
from kidneyshare.service.schemas.common import Page
from kidneyshare.service.schemas.pool import (
    AltruistCreate,
    AltruistPublic,
    DonorFactsIn,
    FactsHistory,
    StatusChangeIn,
)
from kidneyshare.service.views import altruist_view, history_view

router = APIRouter(prefix="/altruists", tags=["altruists"])
Reader = Annotated[Principal, Depends(require(Permission.READ_POOL))]
Editor = Annotated[Principal, Depends(require(Permission.EDIT_POOL))]


@router.get("", response_model=Page[AltruistPublic])
def altruists(
    state: State,
    caller: Reader,
    scope: ListScope,
    limit: Limit = 50,
    offset: Offset = 0,
    status_filter: Annotated[MemberStatus | None, Query(alias="status")] = None,
) -> Page[AltruistPublic]:
    with state.sessions() as session:
        rows, total = list_altruists(
            session, centre_id=scope, status=status_filter, limit=limit, offset=offset
        )
        items = [altruist_view(session, a) for a in rows]
    return Page[AltruistPublic](items=items, total=total, limit=limit, offset=offset)


@router.post("", response_model=AltruistPublic, status_code=status.HTTP_201_CREATED)
def register(
    body: AltruistCreate,
    state: State,
    caller: Editor,
    centre_id: WritableCentre,
    response: Response,
) -> AltruistPublic:
    with state.unit(caller) as uow:
        altruist = register_altruist(uow, centre_id, donor_entry(body.donor, "donor"))
        uow.flush()
        view = altruist_view(uow.session, altruist)
    return with_etag(response, view)


@router.get("/{altruist_id}", response_model=AltruistPublic)
def altruist(altruist_id: VisibleAltruist, state: State, response: Response) -> AltruistPublic:
    with state.sessions() as session:
        view = altruist_view(session, get_altruist(session, altruist_id))
    return with_etag(response, view)


@router.get("/{altruist_id}/history", response_model=FactsHistory)
def history(altruist_id: VisibleAltruist, state: State) -> FactsHistory:
    with state.sessions() as session:
        return history_view(session, get_altruist(session, altruist_id))


@router.post("/{altruist_id}/facts", response_model=AltruistPublic)
def correct_donor(
    altruist_id: VisibleAltruist,
    body: DonorFactsIn,
    state: State,
    caller: Editor,
    version: ExpectedVersion,
    response: Response,
) -> AltruistPublic:
    with state.unit(caller) as uow:
        altruist = get_altruist(uow.session, altruist_id)
        record_donor_facts(
            uow,
            altruist,
            altruist.donor_id,
            donor_facts(body),
            reason=body.reason,
            expected_version=version,
        )
        uow.flush()
        view = altruist_view(uow.session, altruist)
    return with_etag(response, view)


@router.post("/{altruist_id}/status", response_model=AltruistPublic)
def set_status(
    altruist_id: VisibleAltruist,
    body: StatusChangeIn,
    state: State,
    caller: Editor,
    version: ExpectedVersion,
    response: Response,
) -> AltruistPublic:
    with state.unit(caller) as uow:
        altruist = change_status(
            uow,
            get_altruist(uow.session, altruist_id),
            body.status,
            reason=body.reason,
            expected_version=version,
        )
        view = altruist_view(uow.session, altruist)
    return with_etag(response, view)
