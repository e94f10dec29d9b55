"""What to solve: length limits, objective, formulation, backend and solver limits."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from enum import Enum
from typing import Any

from kidneyshare.errors import ConfigError

__all__ = ["Objective", "SolverConfig"]


class Objective(Enum):
    """What a matching run maximises.

    ``MAX_TRANSPLANTS`` counts in-pool transplants (each cycle of length k gives k, each
    chain of length l gives l); ``MAX_WEIGHT`` sums the arcs' weights.
    """

    MAX_TRANSPLANTS = "max-transplants"
    MAX_WEIGHT = "max-weight"

    @classmethod
    def parse(cls, text: str | Objective) -> Objective:
        if isinstance(text, Objective):
            return text
        for o in cls:
            if o.value == text:
                return o
        names = ", ".join(o.value for o in cls)
        raise ConfigError(f"objective: unknown objective {text!r}; expected one of {names}")


@dataclass(frozen=True, slots=True)
class SolverConfig:
    """A frozen description of one solve.

    Parameters
    ----------
    max_cycle:
        K, the longest exchange cycle allowed (0 or 1: no cycles; 2..).
    max_chain:
        L, the most in-pool donations in a chain, the altruist's included: the chain
        ``a -> p1 -> p2`` has length 2 (shared/DESIGN.md). 0 disables chains.
    objective:
        :class:`Objective` or its name.
    formulation:
        ``"auto"``, ``"cycle"`` (cycles and chains enumerated) or ``"picef"`` (cycles
        enumerated, chains position-indexed).
    backend:
        solver backend name (``"highs"``).
    time_limit:
        seconds for the whole solve, or ``None`` for no limit.
    threads:
        solver threads.
    seed:
        solver random seed (a fixed seed keeps runs reproducible).
    """

    max_cycle: int = 3
    max_chain: int = 3
    objective: Objective = Objective.MAX_TRANSPLANTS
    formulation: str = "auto"
    backend: str = "highs"
    time_limit: float | None = None
    threads: int = 1
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("max_cycle", "max_chain", "threads", "seed"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                raise ConfigError(f"{name}: expected a whole number >= 0, got {v!r}")
        if self.threads < 1:
            raise ConfigError(f"threads: expected at least 1, got {self.threads}")
        object.__setattr__(self, "objective", Objective.parse(self.objective))
        t = self.time_limit
        if t is not None and (
            isinstance(t, bool) or not isinstance(t, (int, float)) or not math.isfinite(t) or t <= 0
        ):
            raise ConfigError(f"time_limit: expected a positive number of seconds, got {t!r}")
        for name in ("formulation", "backend"):
            if not isinstance(getattr(self, name), str):
                raise ConfigError(f"{name}: expected a name, got {getattr(self, name)!r}")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (as printed under ``config`` by ``solve --json``)."""
        d = asdict(self)
        d["objective"] = self.objective.value
        return d
