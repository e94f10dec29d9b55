"""Importing a pool file (any format kidneyshare reads), all of it or nothing."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, UploadFile, status
from starlette.concurrency import run_in_threadpool

from kidneyshare.registry.access import Permission, Principal
from kidneyshare.registry.columns import utc_now
from kidneyshare.registry.errors import RecordInvalid
from kidneyshare.registry.imports import import_pool, read_pool_text
from kidneyshare.service.deps import State, WritableCentre, require
from kidneyshare.service.schemas.runs import ImportPublic

router = APIRouter(prefix="/imports", tags=["imports"])

MAX_BYTES = 64 * 1024 * 1024


async def _text(upload: UploadFile, field: str) -> str:
    data = await upload.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise RecordInvalid(f"the file is over {MAX_BYTES // (1024 * 1024)} MiB", field=field)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RecordInvalid(f"the file is not UTF-8 text ({exc.reason})", field=field) from exc


@router.post("", response_model=ImportPublic, status_code=status.HTTP_201_CREATED)
async def import_file(
    state: State,
    caller: Annotated[Principal, Depends(require(Permission.EDIT_POOL))],
    centre_id: WritableCentre,
    file: Annotated[UploadFile, File(description="Native JSON, Glasgow JSON/XML or PrefLib .wmd")],
    dat: Annotated[UploadFile | None, File(description="A PrefLib .dat companion")] = None,
) -> ImportPublic:
    """Register every pair and altruist of the file at the centre, with its arcs; a
    malformed record or a code already registered there writes nothing (422 / 409)."""
    text = await _text(file, "file")
    dat_text = None if dat is None else await _text(dat, "dat")
    source = file.filename or "upload"

    # The parse and the writes are synchronous work: run them off the event loop.
    def write() -> ImportPublic:
        instance, digest = read_pool_text(text, source_name=source, dat_text=dat_text)
        with state.unit(caller) as uow:
            done = import_pool(
                uow,
                centre_id,
                instance,
                source_name=source,
                sha256=digest,
                recorded_on=utc_now().date(),
            )
            return ImportPublic.model_validate(done)

    return await run_in_threadpool(write)
