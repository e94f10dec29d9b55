"""One transaction per business action, with its audit events inside it.

Every repository function takes a :class:`UnitOfWork`; whatever it writes, and the audit
events it records with :meth:`UnitOfWork.audit`, commit together or not at all. Database
failures leave as registry errors: a stale version or a broken uniqueness rule as
:class:`~kidneyshare.registry.errors.RecordConflict`, an unreachable database as
:class:`~kidneyshare.registry.errors.DatabaseError`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from types import TracebackType
from typing import Any, Protocol

from sqlalchemy import inspect
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from kidneyshare.registry.errors import DatabaseError, RecordConflict
from kidneyshare.registry.models import AuditEvent, Base

__all__ = ["SYSTEM", "Actor", "UnitOfWork", "Versioned", "check_version", "row_state"]


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acts: a user (``user_id``) or the system itself (``None``)."""

    user_id: int | None
    name: str


SYSTEM = Actor(None, "system")
"""The scheme's own processes (migrations' seeds, background runs, start-up recovery)."""

_HIDDEN = frozenset({"password_hash", "secret_sha256", "value", "snapshot"})


def _json_value(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return value


def row_state(row: Base) -> dict[str, Any]:
    """A row's column values as JSON for the audit log (secrets and snapshots left out)."""
    mapper = inspect(type(row))
    return {
        column.key: _json_value(getattr(row, column.key))
        for column in mapper.column_attrs
        if column.key not in _HIDDEN
    }


class UnitOfWork:
    """A session in one transaction, acting for ``actor``.

    Use as a context manager: the transaction commits when the block ends normally and
    rolls back when it raises.
    """

    def __init__(self, sessions: sessionmaker[Session], actor: Actor) -> None:
        self._sessions = sessions
        self.actor = actor
        self._session: Session | None = None

    @property
    def session(self) -> Session:
        if self._session is None:
            raise RuntimeError("the unit of work is used outside its 'with' block")
        return self._session

    def __enter__(self) -> UnitOfWork:
        self._session = self._sessions()
        try:
            self._session.begin()
        except OperationalError as exc:
            self._session.close()
            self._session = None
            raise DatabaseError(f"the database cannot be reached: {exc.orig}") from exc
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        session = self.session
        try:
            if exc_type is None:
                self.flush()
                session.commit()
            else:
                session.rollback()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()
            self._session = None

    def flush(self) -> None:
        """Write pending rows now (to learn their ids), translating conflicts."""
        try:
            self.session.flush()
        except StaleDataError as exc:
            raise RecordConflict(
                "the record was changed by someone else since it was read; "
                "read it again and repeat the change"
            ) from exc
        except IntegrityError as exc:
            raise RecordConflict(f"the change conflicts with a stored record: {exc.orig}") from exc
        except OperationalError as exc:
            raise DatabaseError(f"the database failed: {exc.orig}") from exc

    def audit(
        self,
        action: str,
        entity: str,
        entity_id: object,
        *,
        before: dict[str, Any] | None = None,
        after: dict[str, Any] | None = None,
    ) -> None:
        """Record that the actor did ``action`` to ``entity`` ``entity_id``."""
        self.session.add(
            AuditEvent(
                actor_id=self.actor.user_id,
                actor=self.actor.name,
                action=action,
                entity=entity,
                entity_id=str(entity_id),
                before=before,
                after=after,
            )
        )


class Versioned(Protocol):
    id: Any
    version: Any


def check_version(kind: str, row: Versioned, expected_version: int) -> None:
    """Refuse a change made from a stale read (the optimistic lock's first line; the
    UPDATE's version check is the second, for writes racing each other)."""
    if row.version != expected_version:
        raise RecordConflict(
            f"{kind} {row.id} is at version {row.version}, not {expected_version}: "
            "someone changed it since you read it; read it again"
        )
