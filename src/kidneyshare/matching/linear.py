"""A solver-neutral linear model and the answer a backend gives for it.

Formulations describe their model here with numpy/scipy arrays; a backend turns it into
its own objects. Keeping this layer pure lets every backend solve the same model and
lets tests compare them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

__all__ = ["BackendOptions", "BackendOutcome", "BackendSolution", "LinearModel"]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True, slots=True, eq=False)
class LinearModel:
    """Maximise ``objective @ x`` subject to ``row_lower <= rows @ x <= row_upper`` and
    ``col_lower <= x <= col_upper``; ``integer[j]`` marks integer columns."""

    objective: FloatArray
    col_lower: FloatArray
    col_upper: FloatArray
    integer: BoolArray
    rows: sp.csc_matrix
    row_lower: FloatArray
    row_upper: FloatArray

    @property
    def n_cols(self) -> int:
        return int(self.objective.shape[0])

    @property
    def n_rows(self) -> int:
        return int(self.row_lower.shape[0])


class BackendOutcome(Enum):
    """A backend's verdict, mapped from its native statuses by the backend's own table."""

    OPTIMAL = "optimal"
    TIME_LIMIT = "time-limit"
    INFEASIBLE = "infeasible"
    UNBOUNDED = "unbounded"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class BackendOptions:
    """Limits and hints for one backend call.

    ``relax`` solves the LP relaxation (and then ``row_duals`` are returned); with
    ``interior`` the LP's duals should lie in the relative interior of the optimal dual
    face (an interior-point method without crossover), so that only columns that can be
    in some optimal LP solution have reduced cost zero; ``presolve`` may be turned off
    where the solver's presolve costs more than it saves; ``node_limit`` caps the
    branch-and-bound nodes (a deterministic work limit);
    ``initial`` is a feasible starting point for a MIP; ``integral_objective`` says the
    objective takes whole values on integer points, so a gap below 1 proves optimality.
    """

    time_limit: float | None = None
    threads: int = 1
    seed: int = 0
    relax: bool = False
    interior: bool = False
    presolve: bool = True
    node_limit: int | None = None
    initial: FloatArray | None = None
    integral_objective: bool = False

    @property
    def absolute_gap(self) -> float:
        """The MIP gap that proves optimality: with whole-valued objectives any gap
        below 1 does; otherwise a tolerance for rounding."""
        return 1.0 - 1e-6 if self.integral_objective else 1e-7


@dataclass(frozen=True, slots=True, eq=False)
class BackendSolution:
    """Primal values, objective, proven bound (for a MIP) and duals (for an LP)."""

    outcome: BackendOutcome
    x: FloatArray | None
    objective: float | None
    bound: float | None
    row_duals: FloatArray | None = None
    native_status: str = ""
    seconds: float = 0.0
    details: dict[str, float] = field(default_factory=dict)
