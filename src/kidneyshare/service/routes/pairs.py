"""Pairs: register, read, correct clinical facts, suspend or withdraw."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response, status

from kidneyshare.registry.access import Permission, Principal
from kidneyshare.registry.pool import (
    change_status,
    get_pair,
    list_pairs,
    record_donor_facts,
    record_patient_facts,
    register_pair,
)
from kidneyshare.registry.vocabulary import MemberStatus
from kidneyshare.service.deps import (
    MAX_ID,
    ExpectedVersion,
    Limit,
    ListScope,
    Offset,
    State,
    VisiblePair,
    WritableCentre,
    require,
    with_etag,
)
from kidneyshare.service.intake import donor_entry, donor_facts, patient_facts
from kidneyshare.service.schemas.common import Page
from kidneyshare.service.schemas.pool import (
    DonorFactsIn,
    FactsHistory,
    PairCreate,
    PairPublic,
    PatientFactsIn,
    StatusChangeIn,
)
from kidneyshare.service.views import history_view, pair_view

router = APIRouter(prefix="/pairs", tags=["pairs"])
Reader = Annotated[Principal, Depends(require(Permission.READ_POOL))]
Editor = Annotated[Principal, Depends(require(Permission.EDIT_POOL))]


@router.get("", response_model=Page[PairPublic])
def pairs(
    state: State,
    caller: Reader,
    scope: ListScope,
    limit: Limit = 50,
    offset: Offset = 0,
    status_filter: Annotated[MemberStatus | None, Query(alias="status")] = None,
) -> Page[PairPublic]:
    """Pairs the caller may identify: a coordinator's own centre, every centre for an
    administrator (optionally filtered by ``centre_id``)."""
    with state.sessions() as session:
        rows, total = list_pairs(
            session, centre_id=scope, status=status_filter, limit=limit, offset=offset
        )
        items = [pair_view(session, p) for p in rows]
    return Page[PairPublic](items=items, total=total, limit=limit, offset=offset)


@router.post("", response_model=PairPublic, status_code=status.HTTP_201_CREATED)
def register(
    body: PairCreate,
    state: State,
    caller: Editor,
    centre_id: WritableCentre,
    response: Response,
) -> PairPublic:
    """Register a patient and their donors as an active pair."""
    with state.unit(caller) as uow:
        pair = register_pair(
            uow,
            centre_id,
            body.patient_code,
            [donor_entry(d, f"donors[{i}]") for i, d in enumerate(body.donors)],
            patient_reference=body.patient_reference,
            patient_facts=None
            if body.patient_facts is None
            else patient_facts(body.patient_facts, "patient_facts"),
        )
        uow.flush()
        view = pair_view(uow.session, pair)
    return with_etag(response, view)


@router.get("/{pair_id}", response_model=PairPublic)
def pair(pair_id: VisiblePair, state: State, response: Response) -> PairPublic:
    """One pair; the ``ETag`` is its version, to send back as ``If-Match``."""
    with state.sessions() as session:
        view = pair_view(session, get_pair(session, pair_id))
    return with_etag(response, view)


@router.get("/{pair_id}/history", response_model=FactsHistory)
def history(pair_id: VisiblePair, state: State) -> FactsHistory:
    """Every clinical record and status change of the pair, oldest first."""
    with state.sessions() as session:
        return history_view(session, get_pair(session, pair_id))


@router.post("/{pair_id}/patient-facts", response_model=PairPublic)
def correct_patient(
    pair_id: VisiblePair,
    body: PatientFactsIn,
    state: State,
    caller: Editor,
    version: ExpectedVersion,
    response: Response,
) -> PairPublic:
    """Record the patient's facts; they supersede the facts in force."""
    with state.unit(caller) as uow:
        pair = get_pair(uow.session, pair_id)
        record_patient_facts(
            uow, pair, patient_facts(body), reason=body.reason, expected_version=version
        )
        uow.flush()
        view = pair_view(uow.session, pair)
    return with_etag(response, view)


@router.post("/{pair_id}/donors/{donor_id}/facts", response_model=PairPublic)
def correct_donor(
    pair_id: VisiblePair,
    donor_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    body: DonorFactsIn,
    state: State,
    caller: Editor,
    version: ExpectedVersion,
    response: Response,
) -> PairPublic:
    """Record a donor's facts; they supersede the facts in force."""
    with state.unit(caller) as uow:
        pair = get_pair(uow.session, pair_id)
        record_donor_facts(
            uow, pair, donor_id, donor_facts(body), reason=body.reason, expected_version=version
        )
        uow.flush()
        view = pair_view(uow.session, pair)
    return with_etag(response, view)


@router.post("/{pair_id}/status", response_model=PairPublic)
def set_status(
    pair_id: VisiblePair,
    body: StatusChangeIn,
    state: State,
    caller: Editor,
    version: ExpectedVersion,
    response: Response,
) -> PairPublic:
    """Suspend, reactivate or withdraw the pair."""
    with state.unit(caller) as uow:
        pair = change_status(
            uow,
            get_pair(uow.session, pair_id),
            body.status,
            reason=body.reason,
            expected_version=version,
        )
        view = pair_view(uow.session, pair)
    return with_etag(response, view)
