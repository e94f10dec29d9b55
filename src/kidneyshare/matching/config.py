"""What to solve: length limits, objective, formulation, backend and solver limits."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from enum import Enum
from typing import Any, TypeVar

from kidneyshare.errors import ConfigError

__all__ = ["AgeRule", "Criterion", "Objective", "SolverConfig"]

_E = TypeVar("_E", bound=Enum)


class Criterion(Enum):
    """One level of an objective: a number each plan has, maximised or (``THREE_WAY``)
    minimised. Exact definitions, with references, are in docs/objectives.md and
    :mod:`kidneyshare.matching.criteria`."""

    TRANSPLANTS = "transplants"
    """In-pool transplants (a chain's final donation to the waiting list not counted)."""
    WEIGHT = "weight"
    """Sum of the arcs' weights (scores) as the instance gives them."""
    EXPECTED_TRANSPLANTS = "expected-transplants"
    """Failure-aware: a cycle all-or-nothing, a chain its expected successful prefix."""
    EFFECTIVE_TWO_WAY = "effective-two-way"
    """UK: two-way exchanges, three-way exchanges with a back-arc (every three-way chain)."""
    ALTRUISTS_IN_SHORT_CHAINS = "altruists-in-short-chains"
    """UK (published six-level form): altruists giving in two- or three-way chains."""
    THREE_WAY = "three-way"
    """UK: three-way exchanges (3-cycles and chains of two pairs), minimised."""
    BACK_ARCS = "back-arcs"
    """UK: back-arcs in three-way exchanges."""
    SCORE = "score"
    """UK: arc scores plus the donor-age rule (3 points within 20 years, and a tie-break)."""

    @property
    def minimised(self) -> bool:
        return self is Criterion.THREE_WAY

    @classmethod
    def parse(cls, text: str | Criterion) -> Criterion:
        return _by_value(cls, text, "levels: unknown criterion")


class Objective(Enum):
    """What a matching run optimises: one criterion, or a hierarchy solved level by level.

    ``MAX_TRANSPLANTS`` counts in-pool transplants (each cycle of length k gives k, each
    chain of length l gives l); ``MAX_WEIGHT`` sums the arcs' weights; ``EXPECTED``
    maximises expected transplants given arc success probabilities; ``UK`` is the NHSBT
    hierarchy in kep_solver's five levels and ``UK_NHSBT`` in the six levels the scheme
    publishes; ``HIERARCHY`` takes its levels from :attr:`SolverConfig.levels`.
    """

    MAX_TRANSPLANTS = "max-transplants"
    MAX_WEIGHT = "max-weight"
    EXPECTED = "expected"
    UK = "uk"
    UK_NHSBT = "uk-nhsbt"
    HIERARCHY = "hierarchy"

    @classmethod
    def parse(cls, text: str | Objective) -> Objective:
        return _by_value(cls, text, "objective: unknown objective")


def _by_value(cls: type[_E], text: object, unknown: str) -> _E:
    """The member of ``cls`` named ``text`` (or ``text`` itself if it is one)."""
    if isinstance(text, cls):
        return text
    for member in cls:
        if member.value == text:
            return member
    names = ", ".join(str(m.value) for m in cls)
    raise ConfigError(f"{unknown} {text!r}; expected one of {names}")


# The UK Living Kidney Sharing Scheme's criteria. kep_solver's order (Delorme et al.
# 2022; kep_solver's UK objective list) and the scheme's published list
# (kidney.optimalmatching.com "Optimality criteria"; Manlove & O'Malley 2014).
UK_LEVELS = (
    Criterion.EFFECTIVE_TWO_WAY,
    Criterion.TRANSPLANTS,
    Criterion.BACK_ARCS,
    Criterion.THREE_WAY,
    Criterion.SCORE,
)
UK_NHSBT_LEVELS = (
    Criterion.EFFECTIVE_TWO_WAY,
    Criterion.TRANSPLANTS,
    Criterion.ALTRUISTS_IN_SHORT_CHAINS,
    Criterion.THREE_WAY,
    Criterion.BACK_ARCS,
    Criterion.SCORE,
)


@dataclass(frozen=True, slots=True)
class AgeRule:
    """The UK score's donor-age rule: ``bonus`` points when the giving donor and the
    receiving pair's donor differ by at most ``within_years``, plus a tie-break of
    ``tie_break_factor * (tie_break_span - difference)^2`` rounded to 5 decimals
    (NHSBT's figures 3, 20, 1e-5 and 70, as Delorme et al. 2022 give them)."""

    bonus: float = 3.0
    within_years: float = 20.0
    tie_break_factor: float = 1e-5
    tie_break_span: float = 70.0

    def __post_init__(self) -> None:
        for name in ("bonus", "within_years", "tie_break_factor", "tie_break_span"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                raise ConfigError(f"age_rule.{name}: expected a number, got {v!r}")
            if v < 0:
                raise ConfigError(f"age_rule.{name}: expected a number >= 0, got {v!r}")
            object.__setattr__(self, name, float(v))


_FIXED_LEVELS = {
    Objective.MAX_TRANSPLANTS: (Criterion.TRANSPLANTS,),
    Objective.MAX_WEIGHT: (Criterion.WEIGHT,),
    Objective.EXPECTED: (Criterion.EXPECTED_TRANSPLANTS,),
    Objective.UK: UK_LEVELS,
    Objective.UK_NHSBT: UK_NHSBT_LEVELS,
}


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
    levels:
        the criteria of a ``hierarchy`` objective, most important first (empty for
        every other objective, whose levels are fixed).
    default_probability:
        success probability of arcs that give none, for the ``expected`` objective;
        ``None`` makes such an arc an error.
    age_rule:
        the donor-age points of the ``score`` criterion.
    """

    max_cycle: int = 3
    max_chain: int = 3
    objective: Objective = Objective.MAX_TRANSPLANTS
    formulation: str = "auto"
    backend: str = "highs"
    time_limit: float | None = None
    threads: int = 1
    seed: int = 0
    levels: tuple[Criterion, ...] = ()
    default_probability: float | None = None
    age_rule: AgeRule = AgeRule()

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
        raw: object = self.levels
        if not isinstance(raw, (tuple, list)):
            raise ConfigError(f"levels: expected a list of criteria, got {raw!r}")
        levels = tuple(Criterion.parse(c) for c in raw)
        object.__setattr__(self, "levels", levels)
        if len(set(levels)) != len(levels):
            raise ConfigError(f"levels: a criterion appears twice in {[c.value for c in levels]}")
        if self.objective is Objective.HIERARCHY and not levels:
            raise ConfigError("levels: the hierarchy objective needs at least one criterion")
        if self.objective is not Objective.HIERARCHY and levels:
            raise ConfigError(
                f"levels: only the hierarchy objective takes levels, not {self.objective.value}"
            )
        p = self.default_probability
        if p is not None and (
            isinstance(p, bool) or not isinstance(p, (int, float)) or not (0.0 <= p <= 1.0)
        ):
            raise ConfigError(f"default_probability: expected a number in [0, 1], got {p!r}")
        if not isinstance(self.age_rule, AgeRule):
            raise ConfigError(f"age_rule: expected an AgeRule, got {self.age_rule!r}")

    @property
    def criteria(self) -> tuple[Criterion, ...]:
        """The levels solved, most important first (one for a single-criterion objective)."""
        return self.levels or _FIXED_LEVELS[self.objective]

    @property
    def keeps_likeliest_arcs(self) -> bool:
        """Whether the solver keeps, of a pair's donors compatible with one patient, the
        likeliest to succeed (else the heaviest). The first level among weight, score
        and expected transplants decides, as the choice is exact for it; the back-arc
        levels decide nothing (docs/objectives.md)."""
        deciding = (Criterion.WEIGHT, Criterion.SCORE, Criterion.EXPECTED_TRANSPLANTS)
        first = next((c for c in self.criteria if c in deciding), None)
        return first is Criterion.EXPECTED_TRANSPLANTS

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (as printed under ``config`` by ``solve --json``)."""
        d = asdict(self)
        d["objective"] = self.objective.value
        d["levels"] = [c.value for c in self.criteria]
        return d
