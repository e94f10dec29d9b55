"""``kidneyshare db``: migrate the registry's database (Alembic, shipped in the package).

The database is ``--database-url``, else ``$KIDNEYSHARE_DATABASE_URL``, else the SQLite
file ``kidneyshare.sqlite3`` in the working directory.
"""

from __future__ import annotations

from typing import Annotated

import typer

from kidneyshare.cli.output import info

__all__ = ["DATABASE_URL_OPTION", "database_url", "db_app"]

DATABASE_URL_OPTION = typer.Option(
    "--database-url",
    envvar="KIDNEYSHARE_DATABASE_URL",
    show_envvar=True,
    help="sqlite:///FILE or postgresql://USER@HOST:PORT/DB; default: "
    "kidneyshare.sqlite3 in the working directory.",
)

db_app = typer.Typer(
    name="db",
    help="Create and migrate the registry's database.",
    no_args_is_help=True,
    add_completion=False,
)


def database_url(url: str | None) -> str:
    """The URL given, or the default SQLite file in the working directory."""
    from kidneyshare.registry import default_url  # SQLAlchemy loads only when used

    return url or default_url()


@db_app.command("upgrade")
def upgrade_command(
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
    url: Annotated[str | None, DATABASE_URL_OPTION] = None,
) -> None:
    """Migrate the database up to REVISION (the newest by default)."""
    from kidneyshare.registry import current_revision, make_engine
    from kidneyshare.registry import upgrade as migrate_up

    engine = make_engine(database_url(url))
    try:
        migrate_up(engine, revision)
        info(f"database at revision {current_revision(engine)}")
    finally:
        engine.dispose()


@db_app.command("downgrade")
def downgrade_command(
    revision: Annotated[str, typer.Argument(help="Target revision; 'base' removes every table.")],
    url: Annotated[str | None, DATABASE_URL_OPTION] = None,
) -> None:
    """Migrate the database down to REVISION (for example -1, or base)."""
    from kidneyshare.registry import current_revision, make_engine
    from kidneyshare.registry import downgrade as migrate_down

    engine = make_engine(database_url(url))
    try:
        migrate_down(engine, revision)
        info(f"database at revision {current_revision(engine) or 'none (empty)'}")
    finally:
        engine.dispose()


@db_app.command("current")
def current_command(url: Annotated[str | None, DATABASE_URL_OPTION] = None) -> None:
    """Print the database's revision and the newest the package ships."""
    from kidneyshare.registry import current_revision, head_revision, make_engine

    engine = make_engine(database_url(url))
    try:
        found = current_revision(engine)
    finally:
        engine.dispose()
    head = head_revision()
    state = "up to date" if found == head else "run `kidneyshare db upgrade`"
    typer.echo(f"{found or 'none'} (newest: {head}; {state})")
