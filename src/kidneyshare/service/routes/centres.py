"""Centres of the scheme."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, status

from kidneyshare.registry.access import Permission, Principal
from kidneyshare.registry.accounts import create_centre, list_centres
from kidneyshare.service.deps import Caller, State, require
from kidneyshare.service.schemas.accounts import CentreCreate, CentrePublic

router = APIRouter(prefix="/centres", tags=["centres"])


@router.get("", response_model=list[CentrePublic])
def centres(state: State, caller: Caller) -> list[CentrePublic]:
    """Every centre (codes and names are public within the scheme)."""
    with state.sessions() as session:
        return [CentrePublic.model_validate(c) for c in list_centres(session)]


@router.post("", response_model=CentrePublic, status_code=status.HTTP_201_CREATED)
def add_centre(
    body: CentreCreate,
    state: State,
    caller: Annotated[Principal, Depends(require(Permission.MANAGE_SCHEME))],
) -> CentrePublic:
    with state.unit(caller) as uow:
        return CentrePublic.model_validate(create_centre(uow, body.code, body.name))
