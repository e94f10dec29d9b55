"""Errors the care domain raises on purpose (under :class:`~kidneyshare.errors.KidneyshareError`).

Hierarchy::

    KidneyshareError
    └── CareError (ValueError)
        ├── TransitionError          a stage change the pathway does not allow; names from/to
        ├── EventLogError            an episode's event log is out of order or malformed
        └── MeasurementError         a measurement outside its plausible range; names field/value

A care policy file that cannot be read raises :class:`~kidneyshare.errors.FormatError`
(file and key), as matching policies do. The service maps ``CareError`` to 422 (or 409 for
a stale :class:`TransitionError`); the CLI prints it as one line.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kidneyshare.errors import KidneyshareError

if TYPE_CHECKING:
    from kidneyshare.care.pathway import Stage

__all__ = ["CareError", "EventLogError", "MeasurementError", "TransitionError"]


class CareError(KidneyshareError, ValueError):
    """Root of the care domain's errors."""


class TransitionError(CareError):
    """The pathway does not allow moving from ``from_stage`` to ``to_stage``."""

    def __init__(self, message: str, *, from_stage: Stage | None, to_stage: Stage) -> None:
        self.from_stage = from_stage
        self.to_stage = to_stage
        super().__init__(message)


class EventLogError(CareError):
    """An episode's event log cannot be replayed (wrong first event, dates going back ...)."""


class MeasurementError(CareError):
    """A measurement's ``field`` holds an implausible or malformed ``value``."""

    def __init__(self, message: str, *, field: str, value: object) -> None:
        self.field = field
        self.value = value
        super().__init__(f"{field}: {message}, got {value!r}")
