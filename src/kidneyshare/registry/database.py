"""Engines and sessions for the registry's database (SQLite file or PostgreSQL).

The URL is always passed in: the CLI and the service read ``KIDNEYSHARE_DATABASE_URL``,
the library never reads the environment. ``postgresql://`` URLs are sent to psycopg 3.

SQLite is set up for a small multi-user service: foreign keys on, write-ahead logging
(readers do not block the writer), a busy timeout, and every transaction started with
``BEGIN IMMEDIATE`` so that two writers queue for the lock instead of deadlocking on a
read lock each wants to upgrade (SQLite's ``database is locked`` on upgrade).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session, sessionmaker

from kidneyshare.registry.errors import DatabaseError

__all__ = ["DEFAULT_SQLITE_FILE", "default_url", "make_engine", "make_sessions", "normalise_url"]

DEFAULT_SQLITE_FILE = "kidneyshare.sqlite3"
"""The file used in the working directory when no database URL is configured."""

SQLITE_BUSY_SECONDS = 30.0


def default_url(folder: Path | None = None) -> str:
    """The SQLite URL of :data:`DEFAULT_SQLITE_FILE` in ``folder`` (the working directory)."""
    path = (folder or Path.cwd()) / DEFAULT_SQLITE_FILE
    return f"sqlite:///{path}"


def normalise_url(url: str) -> str:
    """``url`` with PostgreSQL pointed at psycopg 3 (``postgresql+psycopg://``).

    Raises
    ------
    DatabaseError
        when ``url`` is not a database URL or names a backend other than SQLite or
        PostgreSQL.
    """
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise DatabaseError(
            f"database URL {url!r}: expected sqlite:///FILE or postgresql://USER@HOST/DB"
        ) from exc
    backend = parsed.get_backend_name()
    if backend == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    elif backend != "sqlite":
        raise DatabaseError(
            f"database URL {parsed.render_as_string(hide_password=True)!r}: backend "
            f"{backend!r} is not supported; expected sqlite or postgresql"
        )
    return parsed.render_as_string(hide_password=False)


def _sqlite_setup(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # SQLAlchemy issues BEGIN itself below
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """An engine for ``url`` (see :func:`normalise_url`), set up for its backend."""
    url = normalise_url(url)
    if make_url(url).get_backend_name() == "sqlite":
        engine = create_engine(
            url,
            echo=echo,
            connect_args={"timeout": SQLITE_BUSY_SECONDS, "check_same_thread": False},
        )
        _sqlite_setup(engine)
        return engine
    return create_engine(url, echo=echo, pool_pre_ping=True, pool_size=10, max_overflow=20)


def make_sessions(engine: Engine) -> sessionmaker[Session]:
    """The session factory the registry's units of work use.

    ``expire_on_commit=False`` keeps loaded rows readable after commit, for building
    responses.
    """
    return sessionmaker(engine, expire_on_commit=False)
