"""Users and their API tokens (scheme administrators only)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Response, status

from kidneyshare.registry.access import Permission, Principal
from kidneyshare.registry.accounts import (
    add_api_token,
    create_user,
    get_user,
    list_users,
    update_user,
)
from kidneyshare.service.deps import (
    MAX_ID,
    CentreFilter,
    ExpectedVersion,
    Limit,
    Offset,
    State,
    require,
    with_etag,
)
from kidneyshare.service.schemas.accounts import (
    ApiTokenCreate,
    ApiTokenIssued,
    UserCreate,
    UserPublic,
    UserUpdate,
)
from kidneyshare.service.schemas.common import Page
from kidneyshare.service.security import hash_password, new_api_token

router = APIRouter(prefix="/users", tags=["users"])
Admin = Annotated[Principal, Depends(require(Permission.MANAGE_SCHEME))]


@router.get("", response_model=Page[UserPublic])
def users(
    state: State,
    caller: Admin,
    limit: Limit = 50,
    offset: Offset = 0,
    centre_id: CentreFilter = None,
) -> Page[UserPublic]:
    with state.sessions() as session:
        rows, total = list_users(session, centre_id=centre_id, limit=limit, offset=offset)
        items = [UserPublic.model_validate(u) for u in rows]
    return Page[UserPublic](items=items, total=total, limit=limit, offset=offset)


@router.post("", response_model=UserPublic, status_code=status.HTTP_201_CREATED)
def add_user(body: UserCreate, state: State, caller: Admin) -> UserPublic:
    hashed = None if body.password is None else hash_password(body.password)
    with state.unit(caller) as uow:
        user = create_user(uow, body.username, hashed, body.role, body.centre_id)
        return UserPublic.model_validate(user)


@router.patch("/{user_id}", response_model=UserPublic)
def change_user(
    user_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    body: UserUpdate,
    state: State,
    caller: Admin,
    version: ExpectedVersion,
    response: Response,
) -> UserPublic:
    hashed = None if body.password is None else hash_password(body.password)
    with state.unit(caller) as uow:
        user = update_user(
            uow,
            get_user(uow.session, user_id),
            expected_version=version,
            role=body.role,
            centre_id=body.centre_id,
            active=body.active,
            password_hash=hashed,
        )
        view = UserPublic.model_validate(user)
    return with_etag(response, view)


@router.post(
    "/{user_id}/api-tokens", response_model=ApiTokenIssued, status_code=status.HTTP_201_CREATED
)
def issue_api_token(
    user_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    body: ApiTokenCreate,
    state: State,
    caller: Admin,
) -> ApiTokenIssued:
    """A long-lived token for a system acting as this user; shown once."""
    token, digest = new_api_token()
    with state.unit(caller) as uow:
        row = add_api_token(uow, get_user(uow.session, user_id), body.name, digest)
        return ApiTokenIssued(id=row.id, name=row.name, token=token)
