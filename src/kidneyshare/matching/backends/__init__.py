"""Solver backends, registered by name.

HiGHS (``highs``) is the default and always installed; OR-Tools (``ortools``) and SCIP
(``scip``) are optional extras (``pip install 'kidneyshare[ortools]'``, ``[scip]``, or
``[all-backends]``), registered here always and importing their library only when used,
so ``available()`` is false where it is missing. ``get_backend(name)`` raises a
:class:`~kidneyshare.errors.ConfigError` listing the known names for an unknown one and a
:class:`~kidneyshare.errors.SolverError` when the backend's library is missing.
"""

from __future__ import annotations

from kidneyshare.errors import ConfigError, SolverError
from kidneyshare.matching.backends.base import Backend, Capability
from kidneyshare.matching.backends.highs import HighsBackend
from kidneyshare.matching.backends.ortools import OrtoolsBackend
from kidneyshare.matching.backends.scip import ScipBackend

__all__ = ["BACKENDS", "Backend", "Capability", "get_backend"]

BACKENDS: dict[str, type[Backend]] = {
    backend.name: backend for backend in (HighsBackend, OrtoolsBackend, ScipBackend)
}


def get_backend(name: str) -> Backend:
    try:
        cls = BACKENDS[name]
    except KeyError:
        known = ", ".join(sorted(BACKENDS))
        raise ConfigError(f"backend: unknown backend {name!r}; expected one of {known}") from None
    if not cls.available():
        raise SolverError(
            f"backend {name!r} is not installed here: pip install 'kidneyshare[{name}]'"
        )
    return cls()
