"""Reading the audit log (it is written only by :meth:`UnitOfWork.audit`)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from kidneyshare.registry.models import AuditEvent
from kidneyshare.registry.paging import page

__all__ = ["list_audit_events"]


def list_audit_events(
    session: Session,
    *,
    entity: str | None = None,
    entity_id: str | None = None,
    action: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[AuditEvent], int]:
    """A page of audit events, newest first, and how many match in all."""
    query = select(AuditEvent)
    if entity is not None:
        query = query.where(AuditEvent.entity == entity)
    if entity_id is not None:
        query = query.where(AuditEvent.entity_id == entity_id)
    if action is not None:
        query = query.where(AuditEvent.action == action)
    return page(session, query, [AuditEvent.id.desc()], limit, offset)
