"""Column types shared by the models: UTC timestamps, JSON and enums stored as text."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import Enum
from typing import Any

from sqlalchemy import JSON, DateTime, Dialect
from sqlalchemy import Enum as SqlEnum
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import TypeDecorator, TypeEngine

__all__ = ["JsonDocument", "UtcDateTime", "text_enum", "utc_now"]


def utc_now() -> datetime:
    """The current time, timezone-aware in UTC (the only clock the registry uses)."""
    return datetime.now(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back timezone-aware.

    SQLite keeps no zone, so values are normalised to UTC on the way in and marked UTC
    on the way out; PostgreSQL stores ``timestamp with time zone``.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the registry; expected a UTC time")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


JsonDocument: TypeEngine[Any] = JSON().with_variant(JSONB(), "postgresql")
"""JSON everywhere, ``jsonb`` on PostgreSQL."""


def text_enum(enum: type[Enum], name: str) -> SqlEnum:
    """Store ``enum``'s values (not member names) as text with a CHECK constraint, so the
    database holds the same words as the API."""
    return SqlEnum(
        enum,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )
