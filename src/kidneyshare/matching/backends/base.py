"""The interface every solver backend implements, with its capability flags."""

from __future__ import annotations

from abc import ABC, abstractmethod
from enum import Enum
from typing import ClassVar

from kidneyshare.matching.linear import BackendOptions, BackendSolution, LinearModel

__all__ = ["Backend", "Capability"]


class Capability(Enum):
    INTEGER = "integer"
    """Solves mixed-integer models."""
    DUALS = "duals"
    """Returns row duals of an LP (needed by column generation)."""
    TIME_LIMIT = "time-limit"
    WARM_START = "warm-start"
    """Accepts a feasible starting solution for a MIP."""


class Backend(ABC):
    """A solver: takes a :class:`LinearModel`, returns a :class:`BackendSolution`.

    Backends are stateless between calls, import their solver library lazily (only when
    used) and declare what they can do in ``capabilities``; callers check a capability
    before relying on it.
    """

    name: ClassVar[str]
    capabilities: ClassVar[frozenset[Capability]]

    @classmethod
    @abstractmethod
    def available(cls) -> bool:
        """Whether the solver library can be imported here."""

    @abstractmethod
    def solve(self, model: LinearModel, options: BackendOptions) -> BackendSolution:
        """Solve ``model`` (maximisation) within ``options``."""
