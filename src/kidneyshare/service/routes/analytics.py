"""The pool for analysts: pseudonyms and clinical facts, nothing identifiable."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from kidneyshare.registry.access import Permission, Principal
from kidneyshare.registry.pool import list_altruists, list_pairs
from kidneyshare.service.deps import Limit, Offset, State, require
from kidneyshare.service.schemas.common import Page
from kidneyshare.service.schemas.pool import PseudonymisedMember
from kidneyshare.service.views import pseudonymised_members

router = APIRouter(prefix="/analytics", tags=["analytics"])


@router.get("/pairs", response_model=Page[PseudonymisedMember])
def pairs(
    state: State,
    caller: Annotated[Principal, Depends(require(Permission.READ_PSEUDONYMISED))],
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[PseudonymisedMember]:
    with state.sessions() as session:
        rows, total = list_pairs(session, limit=limit, offset=offset)
        items = pseudonymised_members(session, rows, [], state.pseudonyms)
    return Page[PseudonymisedMember](items=items, total=total, limit=limit, offset=offset)


@router.get("/altruists", response_model=Page[PseudonymisedMember])
def altruists(
    state: State,
    caller: Annotated[Principal, Depends(require(Permission.READ_PSEUDONYMISED))],
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[PseudonymisedMember]:
    with state.sessions() as session:
        rows, total = list_altruists(session, limit=limit, offset=offset)
        items = pseudonymised_members(session, [], rows, state.pseudonyms)
    return Page[PseudonymisedMember](items=items, total=total, limit=limit, offset=offset)
