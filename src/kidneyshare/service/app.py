"""The FastAPI application: routers, error mapping and the service's start and stop.

Errors the registry and the library raise on purpose become HTTP answers here, once:
not found -> 404, invalid -> 422 with the field's location, conflict (a stale version,
a duplicate, a state that forbids the change) -> 409, database unusable -> 503.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError

from kidneyshare.care import TransitionError, load_care_policy
from kidneyshare.errors import FormatError, KidneyshareError
from kidneyshare.registry.accounts import scheme_secret
from kidneyshare.registry.database import make_engine, make_sessions
from kidneyshare.registry.errors import (
    DatabaseError,
    RecordConflict,
    RecordInvalid,
    RecordNotFound,
)
from kidneyshare.registry.migrate import ensure_current
from kidneyshare.registry.pseudonyms import Pseudonymiser
from kidneyshare.registry.runs import interrupt_unfinished
from kidneyshare.service.routes import (
    altruists,
    analytics,
    audit,
    auth,
    care,
    centres,
    explain,
    imports,
    offers,
    pairs,
    plans,
    runs,
    users,
)
from kidneyshare.service.state import RunWorker, ServiceState

__all__ = ["create_app"]

_log = logging.getLogger("kidneyshare.service")

DESCRIPTION = """
The registry of a living-donor kidney sharing scheme: centres, users, pairs and
altruists with their clinical facts, pool imports, matching runs, offers, crossmatch
results and transplants.

Sign in with `POST /auth/token` (or the **Authorize** button), then send
`Authorization: Bearer <token>`. Changes to an existing record need `If-Match` with the
`ETag` you read; a stale one gets **409**. Clinical facts are never overwritten: a
correction supersedes, and `/history` shows every version.
"""


def _error(status: int, detail: Any) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status)


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RecordNotFound)
    async def not_found(_: Request, exc: RecordNotFound) -> JSONResponse:
        return _error(404, str(exc))

    @app.exception_handler(RecordConflict)
    async def conflict(_: Request, exc: RecordConflict) -> JSONResponse:
        return _error(409, str(exc))

    @app.exception_handler(RecordInvalid)
    async def invalid(_: Request, exc: RecordInvalid) -> JSONResponse:
        loc = ["body", *(exc.field or "").replace("[", ".").replace("]", "").split(".")]
        return _error(
            422, [{"loc": [p for p in loc if p], "msg": exc.detail, "type": "value_error"}]
        )

    @app.exception_handler(FormatError)
    async def bad_file(_: Request, exc: FormatError) -> JSONResponse:
        where = {"source": exc.source, "location": exc.location}
        return _error(
            422, [{"loc": ["body", "file"], "msg": str(exc), "type": "format_error", "ctx": where}]
        )

    @app.exception_handler(DataError)
    async def unstorable(_: Request, exc: DataError) -> JSONResponse:
        # a value the database cannot hold (out of range, a NUL character in text)
        return _error(
            422,
            [
                {
                    "loc": ["body"],
                    "msg": f"a value cannot be stored: {exc.orig}",
                    "type": "value_error",
                }
            ],
        )

    @app.exception_handler(TransitionError)
    async def stale_stage(_: Request, exc: TransitionError) -> JSONResponse:
        # a stage change the pathway forbids, or one recorded against a stage since left
        return _error(409, str(exc))

    @app.exception_handler(DatabaseError)
    async def database(_: Request, exc: DatabaseError) -> JSONResponse:
        _log.error("database error: %s", exc)
        return _error(503, str(exc))

    @app.exception_handler(KidneyshareError)
    async def other(_: Request, exc: KidneyshareError) -> JSONResponse:
        # ValueError subclasses (a bad model or configuration value) are the caller's
        # input; anything else the library raised on purpose is a failure of the work.
        if isinstance(exc, ValueError):
            return _error(422, [{"loc": ["body"], "msg": str(exc), "type": "value_error"}])
        return _error(500, str(exc))


def create_app(
    database_url: str,
    *,
    secret_key: str | None = None,
    access_token_minutes: int = 15,
    care_policy: str = "care-nhsbt",
) -> FastAPI:
    """The service on the database at ``database_url`` (already migrated); donor care
    follows ``care_policy`` (a bundled care policy's name or a TOML file).

    At start it refuses a database whose schema is not current, marks runs left
    unfinished by a previous process as interrupted, and starts the run worker.
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        care = load_care_policy(care_policy)
        engine = make_engine(database_url)
        ensure_current(engine)
        sessions = make_sessions(engine)
        key = secret_key or scheme_secret(sessions, "token-signing")
        pseudonym_key = scheme_secret(sessions, "pseudonyms")
        interrupted = interrupt_unfinished(sessions)
        if interrupted:
            _log.warning("runs interrupted by the last stop: %s", interrupted)
        worker = RunWorker(sessions)
        app.state.kidneyshare = ServiceState(
            engine=engine,
            sessions=sessions,
            signing_key=key,
            pseudonyms=Pseudonymiser(bytes.fromhex(pseudonym_key)),
            access_token_minutes=access_token_minutes,
            worker=worker,
            care_policy=care,
        )
        try:
            yield
        finally:
            worker.shutdown()
            engine.dispose()

    app = FastAPI(
        title="kidneyshare",
        description=DESCRIPTION,
        version="0.1.0",
        lifespan=lifespan,
    )
    _install_error_handlers(app)
    for module in (
        auth,
        centres,
        users,
        pairs,
        altruists,
        imports,
        runs,
        plans,
        explain,
        offers,
        care,
        analytics,
        audit,
    ):
        app.include_router(module.router)
    return app
