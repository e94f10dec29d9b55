"""Errors the registry raises on purpose (all under :class:`~kidneyshare.errors.KidneyshareError`).

Hierarchy::

    KidneyshareError
    └── RegistryError
        ├── RecordNotFound (LookupError)     no such centre, user, pair, run ...
        ├── RecordInvalid (ValueError)       a field breaks a rule; ``field`` names it
        ├── RecordConflict (RuntimeError)    duplicate code, stale version, wrong state
        └── DatabaseError (RuntimeError)     the database is unreachable or not migrated

The service maps them to 404, 422, 409 and 503; the CLI prints them as one line.
"""

from __future__ import annotations

from kidneyshare.errors import KidneyshareError

__all__ = ["DatabaseError", "RecordConflict", "RecordInvalid", "RecordNotFound", "RegistryError"]


class RegistryError(KidneyshareError):
    """Root of the registry's errors."""


class RecordNotFound(RegistryError, LookupError):
    """The record asked for does not exist (or is not visible to the caller)."""


class RecordInvalid(RegistryError, ValueError):
    """A value breaks a registry rule; ``field`` is the dotted path of the bad field."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        self.field = field
        self.detail = message
        super().__init__(message if field is None else f"{field}: {message}")


class RecordConflict(RegistryError, RuntimeError):
    """The write conflicts with the stored state: a duplicate, a stale version, a state
    that does not allow the change."""


class DatabaseError(RegistryError, RuntimeError):
    """The database cannot be used: unreachable, or its schema is not at the expected
    revision."""
