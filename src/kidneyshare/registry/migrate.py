"""Schema migrations: Alembic, configured in code so that an installed package can migrate.

The scripts live in ``kidneyshare/registry/migrations/versions``; there is no
``alembic.ini``. Each call runs in one transaction on the given engine (PostgreSQL and
SQLite both have transactional DDL), so a failed migration leaves the schema as it was.
On SQLite, foreign keys are switched off while a migration runs (batch mode copies
tables) and all references are checked before it commits.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

from kidneyshare.registry.errors import DatabaseError

__all__ = ["current_revision", "downgrade", "ensure_current", "head_revision", "upgrade"]

_SCRIPTS = Path(__file__).with_name("migrations")


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(_SCRIPTS))
    return config


def head_revision() -> str:
    """The newest revision the package ships."""
    head = ScriptDirectory.from_config(_config()).get_current_head()
    if head is None:  # the package always ships at least the initial revision
        raise DatabaseError(f"no migration scripts found in {_SCRIPTS}")
    return head


def _run(engine: Engine, revision: str, *, up: bool) -> None:
    config = _config()
    try:
        with engine.connect() as connection:
            # SQLite's batch mode copies and drops tables that others refer to (offers,
            # in 0002): foreign keys are off for the migration (the pragma only works
            # outside a transaction) and every reference is checked before it commits.
            sqlite = connection.dialect.name == "sqlite"
            driver = connection.connection.driver_connection
            if sqlite and driver is not None:
                driver.execute("PRAGMA foreign_keys=OFF")
            try:
                with connection.begin():
                    config.attributes["connection"] = connection
                    if up:
                        command.upgrade(config, revision)
                    else:
                        command.downgrade(config, revision)
                    if sqlite:
                        broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
                        if broken:
                            raise DatabaseError(
                                f"migration to {revision!r} would break references: {broken[:5]}"
                            )
            finally:
                if sqlite and driver is not None:
                    driver.execute("PRAGMA foreign_keys=ON")
    except CommandError as exc:
        raise DatabaseError(f"migration to {revision!r} failed: {exc}") from exc
    except OperationalError as exc:
        raise DatabaseError(f"the database cannot be migrated: {exc.orig}") from exc


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate the database up to ``revision`` (the newest by default)."""
    _run(engine, revision, up=True)


def downgrade(engine: Engine, revision: str = "-1") -> None:
    """Migrate the database down to ``revision`` (one step by default; ``base`` empties
    it of the registry's tables)."""
    _run(engine, revision, up=False)


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or ``None`` for a database never migrated."""
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    except OperationalError as exc:
        raise DatabaseError(f"the database cannot be reached: {exc.orig}") from exc


def ensure_current(engine: Engine) -> None:
    """Raise unless the database is at the package's newest revision.

    Raises
    ------
    DatabaseError
        naming the revision found and the one expected, with the command that fixes it.
    """
    found, expected = current_revision(engine), head_revision()
    if found != expected:
        raise DatabaseError(
            f"the database is at revision {found or 'none (empty)'}, expected {expected}; "
            "run `kidneyshare db upgrade`"
        )
