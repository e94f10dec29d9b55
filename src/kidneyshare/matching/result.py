"""The outcome of a solve: status, exchanges, objective values, bound and timings."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from kidneyshare.matching.config import SolverConfig

__all__ = ["Donation", "Exchange", "ExchangeKind", "Result", "Status"]


class Status(Enum):
    """How a solve ended."""

    OPTIMAL = "optimal"
    """The exchanges are proven optimal (``bound`` equals the objective value)."""
    FEASIBLE_TIME_LIMIT = "feasible-time-limit"
    """The time limit stopped the solver; the best exchanges found and the proven bound."""
    INFEASIBLE = "infeasible"
    """No solution exists (cannot happen for a pool: the empty set is feasible)."""
    ERROR = "error"
    """The solver failed; no exchanges are reported."""

    @property
    def solved(self) -> bool:
        return self in (Status.OPTIMAL, Status.FEASIBLE_TIME_LIMIT)


class ExchangeKind(Enum):
    CYCLE = "cycle"
    CHAIN = "chain"


@dataclass(frozen=True, slots=True)
class Donation:
    """One transplant of a plan: ``donor`` gives to ``patient``; ``weight`` is the arc's."""

    donor: str
    patient: str
    weight: float


@dataclass(frozen=True, slots=True)
class Exchange:
    """A cycle of pairs or a chain started by an altruist.

    ``vertices`` are pair ids (patient ids) in donation order; a chain's first vertex is
    the altruist's donor id. ``donations`` names the donor of each transplant (a pair
    with several donors uses the one that gives this arc). For a cycle
    ``donations[i]`` goes from ``vertices[i]`` to ``vertices[i+1]`` (wrapping round); for
    a chain from ``vertices[i]`` to ``vertices[i+1]``.
    """

    kind: ExchangeKind
    vertices: tuple[str, ...]
    donations: tuple[Donation, ...]

    @property
    def transplants(self) -> int:
        return len(self.donations)

    @property
    def weight(self) -> float:
        return sum(d.weight for d in self.donations)


@dataclass(frozen=True, slots=True)
class Result:
    """What :func:`kidneyshare.matching.solve` returns.

    ``values`` has one entry per objective level (and ``transplants`` always),
    recomputed from the exchanges; ``bound`` is the solver's proven bound on the level
    named by ``bound_level`` (the last level when every level was proven optimal, else the
    level the solver was working on when it stopped): an upper bound for a maximised level,
    a lower bound for a minimised one, equal to the value when ``status`` is optimal;
    ``seconds`` holds ``build`` and ``solve`` (and ``reduce``) wall-clock times.
    Exchanges are in a canonical order: cycles rotated to start at their smallest id,
    then sorted; chains sorted by altruist id.
    """

    status: Status
    config: SolverConfig
    cycles: tuple[Exchange, ...] = ()
    chains: tuple[Exchange, ...] = ()
    values: dict[str, float] = field(default_factory=dict)
    bound: float | None = None
    seconds: dict[str, float] = field(default_factory=dict)
    formulation: str = ""
    message: str = ""
    bound_level: str = ""

    @property
    def exchanges(self) -> tuple[Exchange, ...]:
        return self.cycles + self.chains

    @property
    def transplants(self) -> int:
        return sum(e.transplants for e in self.exchanges)

    @property
    def weight(self) -> float:
        return sum(e.weight for e in self.exchanges)

    @property
    def objective_value(self) -> float:
        """The value of the level ``bound`` refers to (the last level by default)."""
        level = self.bound_level or self.config.criteria[-1].value
        return self.values.get(level, 0.0)

    @property
    def gap(self) -> float | None:
        """Relative gap between the bound and the objective value (0 when optimal)."""
        if self.bound is None:
            return None
        distance = abs(self.bound - self.objective_value)
        return 0.0 if distance <= 1e-9 else distance / max(abs(self.bound), 1e-9)

    def to_json(self) -> dict[str, Any]:
        """The ``solve --json`` object of shared/DESIGN.md."""
        return {
            "status": self.status.value,
            "objective": self.config.objective.value,
            "transplants": self.transplants,
            "values": dict(self.values),
            "cycles": [list(c.vertices) for c in self.cycles],
            "chains": [list(c.vertices) for c in self.chains],
            "bound": self.bound,
            "bound_level": self.bound_level or self.config.criteria[-1].value,
            "seconds": {k: round(v, 4) for k, v in self.seconds.items()},
            "config": self.config.to_dict(),
            "formulation": self.formulation,
            "donations": [
                [{"donor": d.donor, "patient": d.patient, "weight": d.weight} for d in e.donations]
                for e in self.exchanges
            ],
        }
