"""Migrations up and down, on empty and filled databases, on both backends."""

from __future__ import annotations

from datetime import date

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, func, inspect, select

from kidneyshare.cli.main import main
from kidneyshare.generators import generate_saidman
from kidneyshare.registry import (
    Actor,
    DatabaseError,
    UnitOfWork,
    current_revision,
    downgrade,
    ensure_current,
    head_revision,
    make_engine,
    make_sessions,
    upgrade,
)
from kidneyshare.registry.imports import import_pool
from kidneyshare.registry.models import Base, Patient


def _tables(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names()) - {"alembic_version"}


def test_upgrade_and_downgrade_an_empty_database(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        assert current_revision(engine) is None
        with pytest.raises(DatabaseError, match="kidneyshare db upgrade"):
            ensure_current(engine)
        upgrade(engine)
        assert current_revision(engine) == head_revision()
        assert _tables(engine) == set(Base.metadata.tables)
        ensure_current(engine)
        downgrade(engine, "base")
        assert current_revision(engine) is None
        assert _tables(engine) == set()
        upgrade(engine)  # and back up again
        assert _tables(engine) == set(Base.metadata.tables)
    finally:
        engine.dispose()


def test_the_migrations_build_exactly_the_models(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_downgrade_and_upgrade_a_filled_database(engine: Engine) -> None:
    sessions = make_sessions(engine)
    with UnitOfWork(sessions, Actor(None, "test")) as uow:
        from kidneyshare.registry.accounts import create_centre

        centre = create_centre(uow, "GLA", "Glasgow")
        import_pool(
            uow,
            centre.id,
            generate_saidman(12, 2, seed=3),
            source_name="pool.json",
            sha256="0" * 64,
            recorded_on=date(2026, 11, 1),
        )
    with sessions() as session:
        assert session.scalar(select(func.count(Patient.id))) == 12
    downgrade(engine, "base")
    assert _tables(engine) == set()
    upgrade(engine)
    with sessions() as session:
        assert session.scalar(select(func.count(Patient.id))) == 0


def test_the_db_command_migrates_and_reports(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    def run(*argv: str) -> int:
        with pytest.raises(SystemExit) as stop:
            main([*argv, "--database-url", database_url])
        return int(stop.value.code or 0)

    assert run("db", "current") == 0
    assert capsys.readouterr().out.startswith("none ")
    assert run("db", "upgrade") == 0
    assert run("db", "current") == 0
    assert capsys.readouterr().out.startswith(f"{head_revision()} ")
    assert run("db", "downgrade", "base") == 0
    assert run("db", "current") == 0
    assert capsys.readouterr().out.startswith("none ")


def test_an_unsupported_database_url_is_one_line_exit_1(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as stop:
        main(["db", "upgrade", "--database-url", "mysql://root@localhost/x"])
    assert stop.value.code == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "backend 'mysql' is not supported" in err
