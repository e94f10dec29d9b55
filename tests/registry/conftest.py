"""Registry tests: every one runs on SQLite and on PostgreSQL (see ``registry_backends``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from registry_backends import database_url, postgres_database
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from kidneyshare.registry import Actor, UnitOfWork, make_engine, make_sessions, upgrade
from kidneyshare.registry.accounts import create_centre, create_user
from kidneyshare.registry.vocabulary import Role

__all__ = ["database_url", "postgres_database"]


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """An engine on a database migrated to the newest revision."""
    engine = make_engine(database_url)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return make_sessions(engine)


@pytest.fixture
def admin(sessions: sessionmaker[Session]) -> Actor:
    """A scheme administrator, as the actor of the test's writes."""
    with UnitOfWork(sessions, Actor(None, "setup")) as uow:
        user = create_user(uow, "admin", None, Role.SCHEME_ADMIN, None)
        return Actor(user.id, user.username)


@pytest.fixture
def centres(sessions: sessionmaker[Session], admin: Actor) -> tuple[int, int]:
    """Two centres' ids."""
    with UnitOfWork(sessions, admin) as uow:
        return create_centre(uow, "GLA", "Glasgow").id, create_centre(uow, "LON", "London").id
