"""Offers per centre, the centres' answers, crossmatch results and transplants."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from kidneyshare.registry.access import Permission, Principal
from kidneyshare.registry.outcomes import (
    get_offer,
    list_offers,
    record_crossmatch,
    record_response,
)
from kidneyshare.registry.vocabulary import OfferStatus
from kidneyshare.service.deps import (
    MAX_ID,
    ExpectedVersion,
    Limit,
    ListScope,
    Offset,
    State,
    VisibleOffer,
    require,
    with_etag,
)
from kidneyshare.service.schemas.common import Page
from kidneyshare.service.schemas.runs import (
    CrossmatchIn,
    OfferPublic,
    OfferResponseIn,
    TransplantIn,
)
from kidneyshare.service.views import offer_views
from kidneyshare.workflows.care import record_transplant_with_care

router = APIRouter(prefix="/offers", tags=["offers"])
Reader = Annotated[Principal, Depends(require(Permission.READ_OFFERS))]
Recorder = Annotated[Principal, Depends(require(Permission.RECORD_OUTCOMES))]


@router.get("", response_model=Page[OfferPublic])
def offers(
    state: State,
    caller: Reader,
    scope: ListScope,
    limit: Limit = 50,
    offset: Offset = 0,
    run_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    status_filter: Annotated[OfferStatus | None, Query(alias="status")] = None,
) -> Page[OfferPublic]:
    """Offers where the centre's donor gives or its patient receives (a coordinator's own
    centre; any centre, or all, for an administrator)."""
    with state.sessions() as session:
        rows, total = list_offers(
            session,
            centre_id=scope,
            run_id=run_id,
            status=status_filter,
            limit=limit,
            offset=offset,
        )
        items = offer_views(session, rows, caller, state.pseudonyms)
    return Page[OfferPublic](items=items, total=total, limit=limit, offset=offset)


def _one(state: State, offer_id: int, caller: Principal, response: Response) -> OfferPublic:
    with state.sessions() as session:
        (view,) = offer_views(session, [get_offer(session, offer_id)], caller, state.pseudonyms)
    return with_etag(response, view)


@router.get("/{offer_id}", response_model=OfferPublic)
def offer(offer_id: VisibleOffer, state: State, caller: Reader, response: Response) -> OfferPublic:
    return _one(state, offer_id, caller, response)


@router.post("/{offer_id}/response", response_model=OfferPublic)
def respond(
    offer_id: VisibleOffer,
    body: OfferResponseIn,
    state: State,
    caller: Recorder,
    version: ExpectedVersion,
    response: Response,
) -> OfferPublic:
    """Accept or decline the offer for its patient; a declined offer is a failed arc for
    the plan's repair."""
    with state.unit(caller) as uow:
        record_response(
            uow,
            get_offer(uow.session, offer_id),
            body.accepted,
            body.responded_on,
            reason=body.reason,
            expected_version=version,
        )
    return _one(state, offer_id, caller, response)


@router.post("/{offer_id}/crossmatch", response_model=OfferPublic)
def crossmatch(
    offer_id: VisibleOffer,
    body: CrossmatchIn,
    state: State,
    caller: Recorder,
    version: ExpectedVersion,
    response: Response,
) -> OfferPublic:
    """Record a laboratory crossmatch; a later result supersedes an earlier one."""
    with state.unit(caller) as uow:
        record_crossmatch(
            uow,
            get_offer(uow.session, offer_id),
            body.outcome,
            body.performed_on,
            notes=body.notes,
            expected_version=version,
        )
    return _one(state, offer_id, caller, response)


@router.post("/{offer_id}/transplant", response_model=OfferPublic)
def transplant(
    offer_id: VisibleOffer,
    body: TransplantIn,
    state: State,
    caller: Recorder,
    version: ExpectedVersion,
    response: Response,
) -> OfferPublic:
    """Record that the transplant took place (after a negative crossmatch); the donor's
    care episode is opened if need be and reaches surgery (``GET /care/episodes``)."""
    with state.unit(caller) as uow:
        record_transplant_with_care(
            uow,
            get_offer(uow.session, offer_id),
            body.performed_on,
            state.care_policy,
            expected_version=version,
            coordinator=body.coordinator,
            born_on=body.born_on,
            sex=body.sex,
        )
    return _one(state, offer_id, caller, response)
