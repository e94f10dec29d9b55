"""The audit log (scheme administrators only)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from kidneyshare.registry.access import Permission, Principal
from kidneyshare.registry.audit_log import list_audit_events
from kidneyshare.service.deps import Limit, Offset, State, require
from kidneyshare.service.schemas.common import Page, Schema

router = APIRouter(prefix="/audit", tags=["audit"])


class AuditEventPublic(Schema):
    id: int
    at: datetime
    actor_id: int | None
    actor: str
    action: str
    entity: str
    entity_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None


@router.get("", response_model=Page[AuditEventPublic])
def audit_events(
    state: State,
    caller: Annotated[Principal, Depends(require(Permission.MANAGE_SCHEME))],
    limit: Limit = 50,
    offset: Offset = 0,
    entity: Annotated[str | None, Query(max_length=32, pattern=r"^[a-z-]+$")] = None,
    entity_id: Annotated[str | None, Query(max_length=64, pattern=r"^[0-9A-Za-z-]+$")] = None,
    action: Annotated[str | None, Query(max_length=64, pattern=r"^[a-z.-]+$")] = None,
) -> Page[AuditEventPublic]:
    """Who did what and when, with the record before and after; newest first."""
    with state.sessions() as session:
        rows, total = list_audit_events(
            session,
            entity=entity,
            entity_id=entity_id,
            action=action,
            limit=limit,
            offset=offset,
        )
        items = [AuditEventPublic.model_validate(e) for e in rows]
    return Page[AuditEventPublic](items=items, total=total, limit=limit, offset=offset)
