"""``kidneyshare serve``: the REST service (OpenAPI at /openapi.json, docs at /docs).

The database is ``--database-url``, else ``$KIDNEYSHARE_DATABASE_URL``, else the SQLite
file ``kidneyshare.sqlite3`` in the working directory. An empty database is migrated
on start; one at an older revision is refused (``kidneyshare db upgrade`` first).
``--demo`` starts on a new SQLite file in a temporary folder with a seeded demo scheme
and prints its sign-in details once.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated

import typer

from kidneyshare.cli.db import DATABASE_URL_OPTION, database_url
from kidneyshare.cli.output import info

__all__ = ["serve_command"]


def _prepare(url: str, demo: bool) -> None:
    from kidneyshare.registry import current_revision, ensure_current, make_engine, make_sessions
    from kidneyshare.registry import upgrade as migrate_up

    engine = make_engine(url)
    try:
        if current_revision(engine) is None:
            migrate_up(engine)
        ensure_current(engine)
        if demo:
            from kidneyshare.service.demo import seed_demo

            users = seed_demo(make_sessions(engine))
            typer.echo("Demo scheme ready. Sign in at /docs (Authorize) with:")
            for user in users:
                centre = f" at {user.centre}" if user.centre else ""
                typer.echo(f"  {user.username:<18} {user.password:<18} {user.role.value}{centre}")
    finally:
        engine.dispose()


def serve_command(
    demo: Annotated[
        bool, typer.Option("--demo", help="Seed a demo scheme on a new SQLite file.")
    ] = False,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
    url: Annotated[str | None, DATABASE_URL_OPTION] = None,
) -> None:
    """Start the REST service (OpenAPI at /openapi.json, interactive docs at /docs)."""
    import uvicorn

    from kidneyshare.service.app import create_app
    from kidneyshare.service.settings import ServiceSettings

    settings = ServiceSettings()
    if demo and url is None:
        folder = Path(tempfile.mkdtemp(prefix="kidneyshare-demo-"))
        url = f"sqlite:///{folder / 'demo.sqlite3'}"
        info(f"demo database: {folder / 'demo.sqlite3'}")
    url = database_url(url)
    _prepare(url, demo)
    app = create_app(
        url, secret_key=settings.secret_key, access_token_minutes=settings.access_token_minutes
    )
    info(f"serving on http://{host}:{port} (API docs at /docs)")
    uvicorn.run(app, host=host, port=port, log_level="info")
