"""Centres, users, API tokens and the scheme's own secrets.

Passwords and token secrets arrive here already hashed: hashing is the service's concern
(argon2 for passwords, SHA-256 of a 256-bit random secret for API tokens).
"""

from __future__ import annotations

import re
import secrets

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from kidneyshare.registry.columns import utc_now
from kidneyshare.registry.errors import RecordConflict, RecordInvalid, RecordNotFound
from kidneyshare.registry.models import ApiToken, Centre, SchemeSecret, User
from kidneyshare.registry.paging import page
from kidneyshare.registry.unit_of_work import UnitOfWork, check_version, row_state
from kidneyshare.registry.vocabulary import Role

__all__ = [
    "CENTRE_ROLES",
    "add_api_token",
    "create_centre",
    "create_user",
    "find_api_token",
    "find_user",
    "get_centre",
    "get_user",
    "list_centres",
    "list_users",
    "revoke_api_token",
    "scheme_secret",
    "update_user",
]

CENTRE_ROLES = frozenset({Role.CENTRE_COORDINATOR, Role.CARE_COORDINATOR})
"""Roles that belong to one centre; the others act for the whole scheme."""

_CODE = re.compile(r"[A-Z0-9][A-Z0-9-]{0,15}")
_USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{1,63}")


def get_centre(session: Session, centre_id: int) -> Centre:
    centre = session.get(Centre, centre_id)
    if centre is None:
        raise RecordNotFound(f"centre {centre_id} does not exist")
    return centre


def list_centres(session: Session) -> list[Centre]:
    return list(session.scalars(select(Centre).order_by(Centre.id)))


def create_centre(uow: UnitOfWork, code: str, name: str) -> Centre:
    """Add a centre; ``code`` is a short upper-case label (``GLA``, ``LON-GUY``)."""
    if not _CODE.fullmatch(code):
        raise RecordInvalid(
            f"expected 1-16 upper-case letters, digits or '-', got {code!r}", field="code"
        )
    if not name.strip():
        raise RecordInvalid("expected the centre's name", field="name")
    if uow.session.scalar(select(Centre.id).where(Centre.code == code)) is not None:
        raise RecordConflict(f"a centre with code {code} already exists")
    centre = Centre(code=code, name=name.strip())
    uow.session.add(centre)
    uow.flush()
    uow.audit("centre.create", "centre", centre.id, after=row_state(centre))
    return centre


def _check_role_centre(session: Session, role: Role, centre_id: int | None) -> None:
    if role in CENTRE_ROLES:
        if centre_id is None:
            raise RecordInvalid(f"a {role.value} belongs to a centre", field="centre_id")
        get_centre(session, centre_id)
    elif centre_id is not None:
        raise RecordInvalid(
            f"a {role.value} acts for the whole scheme; give no centre", field="centre_id"
        )


def create_user(
    uow: UnitOfWork, username: str, password_hash: str | None, role: Role, centre_id: int | None
) -> User:
    """Add a user; centre roles need a centre, scheme-wide roles must have none."""
    if not _USERNAME.fullmatch(username):
        raise RecordInvalid(
            f"expected 2-64 lower-case letters, digits, '.', '_' or '-', got {username!r}",
            field="username",
        )
    _check_role_centre(uow.session, role, centre_id)
    if uow.session.scalar(select(User.id).where(User.username == username)) is not None:
        raise RecordConflict(f"the username {username} is taken")
    user = User(username=username, password_hash=password_hash, role=role, centre_id=centre_id)
    uow.session.add(user)
    uow.flush()
    uow.audit("user.create", "user", user.id, after=row_state(user))
    return user


def get_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise RecordNotFound(f"user {user_id} does not exist")
    return user


def find_user(session: Session, username: str) -> User | None:
    return session.scalar(select(User).where(User.username == username))


def list_users(
    session: Session, *, centre_id: int | None, limit: int, offset: int
) -> tuple[list[User], int]:
    query = select(User)
    if centre_id is not None:
        query = query.where(User.centre_id == centre_id)
    return page(session, query, [User.id], limit, offset)


def update_user(
    uow: UnitOfWork,
    user: User,
    *,
    expected_version: int,
    role: Role | None = None,
    centre_id: int | None = None,
    active: bool | None = None,
    password_hash: str | None = None,
) -> User:
    """Change a user's role, centre, activity or password (``None`` keeps a field)."""
    check_version("user", user, expected_version)
    before = row_state(user)
    new_role = role or user.role
    new_centre = centre_id if centre_id is not None or role is not None else user.centre_id
    _check_role_centre(uow.session, new_role, new_centre)
    user.role, user.centre_id = new_role, new_centre
    if active is not None:
        user.active = active
    if password_hash is not None:
        user.password_hash = password_hash
    uow.flush()
    uow.audit("user.update", "user", user.id, before=before, after=row_state(user))
    return user


def add_api_token(uow: UnitOfWork, user: User, name: str, secret_sha256: str) -> ApiToken:
    token = ApiToken(user_id=user.id, name=name, secret_sha256=secret_sha256)
    uow.session.add(token)
    uow.flush()
    uow.audit("api-token.create", "user", user.id, after={"token_id": token.id, "name": name})
    return token


def find_api_token(session: Session, secret_sha256: str) -> ApiToken | None:
    return session.scalar(
        select(ApiToken).where(
            ApiToken.secret_sha256 == secret_sha256, ApiToken.revoked_at.is_(None)
        )
    )


def revoke_api_token(uow: UnitOfWork, token_id: int) -> ApiToken:
    token = uow.session.get(ApiToken, token_id)
    if token is None:
        raise RecordNotFound(f"API token {token_id} does not exist")
    if token.revoked_at is None:
        token.revoked_at = utc_now()
        uow.audit("api-token.revoke", "user", token.user_id, after={"token_id": token.id})
    return token


def scheme_secret(sessions: sessionmaker[Session], name: str) -> str:
    """The scheme's secret called ``name``, made (256 random bits) on first use.

    Two processes asking at once both read the one that was stored first.
    """
    with sessions() as session:
        value = session.scalar(select(SchemeSecret.value).where(SchemeSecret.name == name))
    if value is not None:
        return value
    try:
        with sessions.begin() as session:
            session.add(SchemeSecret(name=name, value=secrets.token_hex(32)))
    except IntegrityError:
        pass  # another process stored it first; read theirs
    with sessions() as session:
        stored = session.scalar(select(SchemeSecret.value).where(SchemeSecret.name == name))
    if stored is None:  # pragma: no cover - the row was just written or found
        raise RecordNotFound(f"scheme secret {name} could not be stored")
    return stored
