"""Every error kidneyshare raises on purpose.

Hierarchy::

    KidneyshareError
    ├── ModelError (ValueError)            a value object was built with a bad field
    │   └── InstanceError                  the pool as a whole is inconsistent
    ├── FormatError (ValueError)           a file could not be read; names source, line/field
    ├── ConfigError (ValueError)           a solver configuration or name is invalid
    ├── FormulationTooLarge (RuntimeError) a formulation would exceed its size cap
    ├── SolverError (RuntimeError)         a backend failed or is not installed
    └── VerificationError (AssertionError) a result breaks the instance's rules

Messages name the field (or file and line), the value found and what was expected, so
that a coordinator can act on them without reading code.
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "FormatError",
    "FormulationTooLarge",
    "InstanceError",
    "KidneyshareError",
    "ModelError",
    "SolverError",
    "VerificationError",
]


class KidneyshareError(Exception):
    """Root of every error raised deliberately by kidneyshare."""


class ModelError(KidneyshareError, ValueError):
    """A value object (blood group, patient, donor, arc ...) was given a bad field."""


class InstanceError(ModelError):
    """The pool is inconsistent: duplicate ids, arcs to unknown people, empty pool ..."""


class FormatError(KidneyshareError, ValueError):
    """A file or text could not be read in its format.

    ``source`` is the file name (or ``"<text>"``), ``location`` a line number or a field
    path such as ``data["12"].matches[3].score``; both appear in the message.
    """

    def __init__(self, message: str, *, source: str = "<text>", location: str | None = None):
        self.source = source
        self.location = location
        self.detail = message
        where = source if location is None else f"{source}, {location}"
        super().__init__(f"{where}: {message}")


class ConfigError(KidneyshareError, ValueError):
    """A configuration value or a backend/formulation name is invalid."""


class FormulationTooLarge(KidneyshareError, RuntimeError):
    """Building this formulation would exceed its size cap (for example too many chains)."""


class SolverError(KidneyshareError, RuntimeError):
    """A solver backend failed, or is not installed."""


class VerificationError(KidneyshareError, AssertionError):
    """A result breaks the instance's rules; ``problems`` lists every violation found."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__("; ".join(self.problems))
