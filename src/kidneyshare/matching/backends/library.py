"""Optional solver libraries, imported only when their backend is asked for or used.

The package must import, and the default backend run, where an optional library is
missing; so backends never import theirs at module load.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from kidneyshare.errors import SolverError

__all__ = ["has_library", "load_library"]


def has_library(module: str) -> bool:
    """Whether ``module`` can be imported here."""
    try:
        importlib.import_module(module)
    except ImportError:
        return False
    return True


def load_library(module: str, backend: str) -> ModuleType:
    """Import ``module`` for ``backend``, or say which extra installs it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        package = module.split(".")[0]
        raise SolverError(
            f"the {backend} backend needs {package}: pip install 'kidneyshare[{backend}]'"
        ) from exc
