"""FastAPI dependencies: the caller, their permissions, their centre scope, versions.

Handlers declare what they need (``Depends(require(Permission.EDIT_POOL))``,
``VisiblePair``); no handler checks a role itself.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Protocol, TypeVar

from fastapi import Depends, Header, HTTPException, Path, Query, Request, Response, status
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy import select

from kidneyshare.registry.access import OWN_CENTRE_ONLY, Permission, Principal
from kidneyshare.registry.accounts import find_api_token
from kidneyshare.registry.models import Altruist, Offer, Pair, Patient, User
from kidneyshare.service.schemas.common import MAX_PAGE
from kidneyshare.service.security import (
    API_TOKEN_PREFIX,
    TokenError,
    decode_access_token,
    token_digest,
)
from kidneyshare.service.state import ServiceState

__all__ = [
    "MAX_ID",
    "Caller",
    "CentreFilter",
    "ExpectedVersion",
    "Limit",
    "ListScope",
    "Offset",
    "State",
    "VisibleAltruist",
    "VisibleOffer",
    "VisiblePair",
    "VisiblePatient",
    "WritableCentre",
    "require",
    "with_etag",
]

UNPROCESSABLE = 422  # named differently across Starlette versions
MAX_ID = 2_147_483_647  # the largest id an INTEGER column holds

_bearer = OAuth2PasswordBearer(tokenUrl="/auth/token", auto_error=False)


def _state(request: Request) -> ServiceState:
    state: ServiceState = request.app.state.kidneyshare
    return state


State = Annotated[ServiceState, Depends(_state)]


def _unauthorised(reason: str) -> HTTPException:
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED, reason, headers={"WWW-Authenticate": "Bearer"}
    )


def _principal(state: State, token: Annotated[str | None, Depends(_bearer)]) -> Principal:
    if not token:
        raise _unauthorised("sign in: send 'Authorization: Bearer <token>'")
    with state.sessions() as session:
        user: User | None
        if token.startswith(API_TOKEN_PREFIX):
            api_token = find_api_token(session, token_digest(token))
            user = None if api_token is None else api_token.user
        else:
            try:
                user = session.get(User, decode_access_token(token, state.signing_key))
            except TokenError as exc:
                raise _unauthorised(f"the token is not valid: {exc}") from exc
        if user is None or not user.active:
            raise _unauthorised("the token is not valid, or its user is deactivated")
        return Principal.of(user)


Caller = Annotated[Principal, Depends(_principal)]


def require(permission: Permission) -> Callable[[Principal], Principal]:
    """A dependency that admits callers whose role has ``permission`` (else 403)."""

    def check(caller: Caller) -> Principal:
        if not caller.may(permission):
            raise HTTPException(status.HTTP_403_FORBIDDEN, caller.refusal(permission))
        return caller

    return check


def _not_found(kind: str, row_id: int) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, f"{kind} {row_id} does not exist")


def _visible_pair(
    pair_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    caller: Annotated[Principal, Depends(require(Permission.READ_POOL))],
    state: State,
) -> int:
    with state.sessions() as session:
        centre = session.scalar(select(Pair.centre_id).where(Pair.id == pair_id))
    if centre is None or not caller.identifies(centre):
        raise _not_found("pair", pair_id)
    return pair_id


def _visible_altruist(
    altruist_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    caller: Annotated[Principal, Depends(require(Permission.READ_POOL))],
    state: State,
) -> int:
    with state.sessions() as session:
        centre = session.scalar(select(Altruist.centre_id).where(Altruist.id == altruist_id))
    if centre is None or not caller.identifies(centre):
        raise _not_found("altruist", altruist_id)
    return altruist_id


def _visible_offer(
    offer_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    caller: Annotated[Principal, Depends(require(Permission.READ_OFFERS))],
    state: State,
) -> int:
    with state.sessions() as session:
        centres = session.execute(
            select(Offer.donor_centre_id, Offer.patient_centre_id).where(Offer.id == offer_id)
        ).first()
    if centres is None or not caller.identifies(*centres):
        raise _not_found("offer", offer_id)
    return offer_id


def _visible_patient(
    patient_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    caller: Annotated[Principal, Depends(require(Permission.READ_POOL))],
    state: State,
) -> int:
    # A patient is identifiable pool data: another centre's answers 404, as a pair does.
    with state.sessions() as session:
        centre = session.scalar(select(Patient.centre_id).where(Patient.id == patient_id))
    if centre is None or not caller.identifies(centre):
        raise _not_found("patient", patient_id)
    return patient_id


VisiblePair = Annotated[int, Depends(_visible_pair)]
VisiblePatient = Annotated[int, Depends(_visible_patient)]
VisibleAltruist = Annotated[int, Depends(_visible_altruist)]
VisibleOffer = Annotated[int, Depends(_visible_offer)]


def _writable_centre(
    caller: Annotated[Principal, Depends(require(Permission.EDIT_POOL))],
    centre_id: Annotated[
        int | None,
        Query(
            ge=1,
            le=MAX_ID,
            description="The centre to register at; a coordinator's own by default.",
        ),
    ] = None,
) -> int:
    if caller.centre_id is not None:
        if centre_id is not None and not caller.registers_at(centre_id):
            raise HTTPException(status.HTTP_403_FORBIDDEN, OWN_CENTRE_ONLY)
        return caller.centre_id
    if centre_id is None:
        raise HTTPException(
            UNPROCESSABLE,
            [
                {
                    "loc": ["query", "centre_id"],
                    "msg": "required for a scheme administrator",
                    "type": "missing",
                }
            ],
        )
    return centre_id


WritableCentre = Annotated[int, Depends(_writable_centre)]


def _expected_version(
    if_match: Annotated[
        str | None,
        Header(description='The version read (the ETag), e.g. "3"; a stale one gets 409.'),
    ] = None,
) -> int:
    if if_match is None:
        raise HTTPException(
            status.HTTP_428_PRECONDITION_REQUIRED,
            "send If-Match with the ETag you read, so that no one's change is overwritten",
        )
    text = if_match.strip().removeprefix("W/").strip('"')
    if not text.isdigit():
        raise HTTPException(
            UNPROCESSABLE,
            [
                {
                    "loc": ["header", "if-match"],
                    "msg": f"expected a version number, got {if_match!r}",
                    "type": "value_error",
                }
            ],
        )
    return int(text)


ExpectedVersion = Annotated[int, Depends(_expected_version)]
CentreFilter = Annotated[int | None, Query(ge=1, le=MAX_ID, description="Only this centre.")]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE, description="Page size.")]
Offset = Annotated[int, Query(ge=0, le=MAX_ID, description="Items to skip.")]


def _list_scope(caller: Caller, centre_id: CentreFilter = None) -> int | None:
    """The centre a list is cut to: a centre role's own whatever was asked; for the
    scheme-wide roles, the ``centre_id`` filter if given."""
    return caller.scope(centre_id)


ListScope = Annotated[int | None, Depends(_list_scope)]

Tagged = TypeVar("Tagged", bound="HasVersion")


class HasVersion(Protocol):
    version: int


def with_etag(response: Response, view: Tagged) -> Tagged:
    """``view`` with its version sent as the ``ETag`` (to return as ``If-Match``)."""
    response.headers["ETag"] = f'"{view.version}"'
    return view
