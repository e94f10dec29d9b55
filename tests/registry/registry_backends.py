"""Throwaway databases for the registry and service tests: one SQLite file, one PostgreSQL.

Every test that takes ``database_url`` runs twice, once per backend. The PostgreSQL
database is created with a unique name and dropped afterwards (``WITH (FORCE)``), on the
server at ``$KIDNEYSHARE_TEST_POSTGRES_URL`` (default: postgres@127.0.0.1:5432, trust).
When that server cannot be reached the PostgreSQL cases are skipped, unless
``KIDNEYSHARE_TEST_POSTGRES=required`` (as under CI), when they fail.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

ADMIN_URL = os.environ.get(
    "KIDNEYSHARE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
]


def _postgres_required() -> bool:
    return os.environ.get("KIDNEYSHARE_TEST_POSTGRES", "").lower() == "required"


def sqlite_url(folder: Path) -> str:
    return f"sqlite:///{folder / 'registry.sqlite3'}"


@pytest.fixture
def postgres_database() -> Iterator[str]:
    """The URL of a new, empty PostgreSQL database, dropped after the test."""
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"ks_test_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as exc:
        admin.dispose()
        message = f"PostgreSQL at {ADMIN_URL} is unreachable: {exc.orig}"
        if _postgres_required():
            pytest.fail(message)
        pytest.skip(message + " (set KIDNEYSHARE_TEST_POSTGRES=required to fail instead)")
    try:
        yield make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database on each backend in turn."""
    if request.param == "sqlite":
        return sqlite_url(tmp_path)
    url: str = request.getfixturevalue("postgres_database")
    return url
