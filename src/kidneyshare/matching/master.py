"""Solve a vertex-packing master over enumerated exchanges (plus PICEF chains), exactly.

Small models go to the MIP whole. Larger ones (dense pools have hundreds of thousands
to millions of cycles) are solved by *LP, then reduced-cost restriction*:

1. The LP relaxation over every column. When the enumerated exchanges are too many for
   one LP, by column generation: solve a restricted LP, price every exchange with the
   vertex duals (vectorised), add the most positive, repeat until none is positive.
   Either way ``z_LP`` bounds the integer optimum and every reduced cost ``rc_j <= 0``.
2. For any 0/1 solution x, ``value(x) <= z_LP + sum_j rc_j x_j``; so a solution worth at
   least ``t`` uses only columns with ``rc_j >= t - z_LP``. Solve the MIP over those
   columns for the target ``t = z_LP`` (rounded down when values are whole): if it
   reaches ``t`` it is optimal. Otherwise its value ``v`` is a lower bound, and the MIP
   over the columns with ``rc_j >= v (+1 when whole) - z_LP`` gives the optimum.

On the dense pools of the literature the LP bound is almost always tight, so the first
MIP is small and settles it.

References
----------
Desaulniers, G., Desrosiers, J., Solomon, M. M. (eds.) (2005). Column Generation.
Springer. (the reduced-cost bound used to restrict the MIP)
Abraham, D. J., Blum, A., Sandholm, T. (2007). Clearing algorithms for barter exchange
markets. ACM EC '07. (pricing of cycles in kidney exchange)
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from kidneyshare.matching.backends import Backend
from kidneyshare.matching.formulations.columns import ExchangeColumns
from kidneyshare.matching.formulations.picef import PicefChains
from kidneyshare.matching.linear import (
    BackendOptions,
    BackendOutcome,
    BackendSolution,
    LinearModel,
)

__all__ = ["MasterSolution", "solve_master"]

log = logging.getLogger(__name__)

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

# Models with at most this many columns go to the MIP whole.
DIRECT_LIMIT = 5_000
# Up to this many exchange columns the LP is solved whole, beyond by column generation.
FULL_LP_LIMIT = 400_000
_TOL = 1e-6
# Columns per vertex allowed beyond the LP support in the first, small MIP.
_SMALL_MIP_PER_VERTEX = 20


@dataclass(frozen=True, slots=True)
class MasterSolution:
    """Chosen exchange columns and chain variables, with value and proven bound."""

    outcome: BackendOutcome
    columns: IntArray
    chain_vars: IntArray
    objective: float
    bound: float | None
    details: dict[str, float] = field(default_factory=dict)


class _Master:
    """Builds the master model for chosen exchange columns and chain variables."""

    def __init__(self, columns: ExchangeColumns, chains: PicefChains, n_vertices: int) -> None:
        self.columns = columns
        self.chains = chains
        self.n_vertices = n_vertices
        self.n_rows = n_vertices + chains.n_flow_rows
        self.row_lower = np.concatenate(
            [np.full(n_vertices, -np.inf), np.zeros(chains.n_flow_rows)]
        )
        self.row_upper = np.concatenate([np.ones(n_vertices), np.full(chains.n_flow_rows, np.inf)])

    def model(self, ids: IntArray, chain_ids: IntArray, *, relax: bool) -> LinearModel:
        rows = sp.hstack(
            [self.columns.matrix(ids, self.n_rows), self.chains.matrix[:, chain_ids]],
            format="csc",
        )
        n = rows.shape[1]
        return LinearModel(
            objective=np.concatenate([self.columns.values[ids], self.chains.values[chain_ids]]),
            col_lower=np.zeros(n),
            # The LP leaves columns unbounded above (the vertex rows bound them) so that
            # every reduced cost is <= 0 at its optimum, as the restriction argument needs.
            col_upper=np.full(n, np.inf) if relax else np.ones(n),
            integer=np.ones(n, dtype=bool),
            rows=rows,
            row_lower=self.row_lower,
            row_upper=self.row_upper,
        )

    def chain_reduced_costs(self, duals: FloatArray) -> FloatArray:
        return self.chains.values - self.chains.matrix.T @ duals  # type: ignore[no-any-return]


@dataclass
class _Run:
    """One call's solver settings and clock."""

    backend: Backend
    deadline: float | None
    threads: int
    seed: int
    integral: bool

    def solve(self, model: LinearModel, *, relax: bool = False) -> BackendSolution:
        sol = self._solve(model, relax=relax)
        log.debug(
            "%s: %d columns, %d rows -> %s %s (bound %s) in %.2f s",
            "LP" if relax else "MIP",
            model.n_cols,
            model.n_rows,
            sol.native_status,
            sol.objective,
            sol.bound,
            sol.seconds,
        )
        return sol

    def _solve(self, model: LinearModel, *, relax: bool) -> BackendSolution:
        remaining = None
        if self.deadline is not None:
            remaining = max(self.deadline - time.perf_counter(), 0.01)
        options = BackendOptions(
            time_limit=remaining,
            threads=self.threads,
            seed=self.seed,
            relax=relax,
            interior=relax,
            integral_objective=self.integral,
        )
        return self.backend.solve(model, options)

    def out_of_time(self) -> bool:
        return self.deadline is not None and time.perf_counter() >= self.deadline


def solve_master(
    columns: ExchangeColumns,
    chains: PicefChains,
    n_vertices: int,
    backend: Backend,
    *,
    integral: bool,
    deadline: float | None,
    threads: int,
    seed: int,
    direct_limit: int | None = None,
) -> MasterSolution:
    """Choose exchanges and chain arcs maximising the objective (see module docstring).

    ``integral`` says every objective value is whole, so bounds may be rounded down.
    """
    master = _Master(columns, chains, n_vertices)
    run = _Run(backend, deadline, threads, seed, integral)
    all_chain_vars = np.arange(len(chains), dtype=np.int64)
    if len(columns) + len(chains) <= (DIRECT_LIMIT if direct_limit is None else direct_limit):
        ids = np.arange(len(columns), dtype=np.int64)
        sol = run.solve(master.model(ids, all_chain_vars, relax=False))
        return _finish(sol, ids, all_chain_vars, sol.bound, integral, {"mip_solves": 1.0})

    # 1. The LP bound and the reduced cost of every column.
    lp = _solve_lp(master, run)
    details = {"lp_iterations": float(lp.iterations), "lp_value": lp.value}
    if not lp.converged:
        # Out of time (or the LP failed) before the bound was proven: best effort.
        bound = _lagrangian_bound(master, lp.duals, lp.rc, lp.rc_chain, integral)
        ids = np.flatnonzero(lp.in_master)
        sol = run.solve(master.model(ids, all_chain_vars, relax=False))
        return _finish(sol, ids, all_chain_vars, bound, integral, details, proven=False)
    # Any 0/1 solution x has value <= y.b + rc.x, and rc <= slack everywhere (interior
    # duals are feasible only to a tolerance), so a solution worth t uses only columns
    # with rc >= t - y.b - (columns used) * slack.
    z_lp = float(lp.duals[:n_vertices].sum())
    slack = max(0.0, float(lp.rc.max(initial=0.0)), float(lp.rc_chain.max(initial=0.0)))
    z_lp += n_vertices * slack
    target = math.floor(z_lp + _TOL) if integral else z_lp
    details["lp_bound"] = z_lp

    # 2. A small MIP first: the LP's support plus the best few columns that could be in
    #    a solution reaching the target. Degenerate LPs give reduced cost 0 to very many
    #    columns, so taking them all would hand the solver nearly the whole model.
    def restricted(threshold: float, cap: int | None) -> tuple[IntArray, IntArray, BackendSolution]:
        ids = _select(lp.rc, lp.support, threshold - z_lp - _TOL, cap)
        chain_ids = _select(lp.rc_chain, lp.chain_support, threshold - z_lp - _TOL, cap)
        details[f"mip_{len(details)}_columns"] = float(len(ids) + len(chain_ids))
        return ids, chain_ids, run.solve(master.model(ids, chain_ids, relax=False))

    cap = _SMALL_MIP_PER_VERTEX * n_vertices
    for attempt_cap in (cap, None):
        ids, chain_ids, sol = restricted(target, attempt_cap)
        value = sol.objective if sol.objective is not None else -math.inf
        if value >= target - _TOL:
            return _finish(sol, ids, chain_ids, float(target), integral, details)
        if sol.outcome is not BackendOutcome.OPTIMAL:
            bound = max(float(target), value)
            return _finish(sol, ids, chain_ids, bound, integral, details, proven=False)
        if attempt_cap is None or len(ids) + len(chain_ids) == _count_at(lp, target - z_lp):
            break

    # 3. Nothing reaches the target: the optimum is below it; widen to every column that
    #    could beat the value found, and solve again.
    better = value + (1.0 if integral else 0.0)
    ids2, chain_ids2, sol2 = restricted(better, None)
    if sol2.objective is None or sol2.objective < value - _TOL:
        bound = target if sol2.bound is None else max(min(target, sol2.bound), value)
        return _finish(sol, ids, chain_ids, bound, integral, details, proven=False)
    bound = max(value, sol2.bound if sol2.bound is not None else target)
    return _finish(sol2, ids2, chain_ids2, min(bound, target), integral, details)


def _select(rc: FloatArray, support: BoolArray, floor: float, cap: int | None) -> IntArray:
    """Columns with reduced cost >= ``floor``; at most ``cap`` of them beyond the LP's
    support, best reduced cost first (ties by index, for reproducible models)."""
    eligible = np.flatnonzero(rc >= floor)
    if cap is None or len(eligible) <= cap:
        return eligible
    extra = eligible[~support[eligible]]
    extra = extra[np.lexsort((extra, -rc[extra]))[:cap]]
    return np.sort(np.concatenate([np.flatnonzero(support), extra]))


def _count_at(lp: _LpResult, floor: float) -> int:
    return int((lp.rc >= floor - _TOL).sum() + (lp.rc_chain >= floor - _TOL).sum())


@dataclass
class _LpResult:
    value: float
    duals: FloatArray
    rc: FloatArray
    rc_chain: FloatArray
    support: BoolArray
    chain_support: BoolArray
    in_master: BoolArray
    iterations: int
    converged: bool


def _solve_lp(master: _Master, run: _Run) -> _LpResult:
    """The LP over every column, whole or by column generation over the exchanges."""
    columns, n_cols = master.columns, len(master.columns)
    all_chain_vars = np.arange(len(master.chains), dtype=np.int64)
    in_master = np.zeros(n_cols, dtype=bool)
    if n_cols <= FULL_LP_LIMIT:
        in_master[:] = True
    else:
        order = np.lexsort((np.arange(n_cols), -columns.values))
        in_master[order[: 10 * master.n_vertices]] = True
    batch = max(5_000, 5 * master.n_vertices)
    duals = np.zeros(master.n_rows)
    value = math.inf
    iterations = 0
    support = np.zeros(n_cols, dtype=bool)
    chain_support = np.zeros(len(master.chains), dtype=bool)
    while True:
        iterations += 1
        ids = np.flatnonzero(in_master)
        lp = run.solve(master.model(ids, all_chain_vars, relax=True), relax=True)
        if lp.outcome is not BackendOutcome.OPTIMAL or lp.row_duals is None:
            rc = columns.reduced_costs(duals[: master.n_vertices])
            rc_chain = master.chain_reduced_costs(duals)
            return _LpResult(
                value, duals, rc, rc_chain, support, chain_support, in_master, iterations, False
            )
        # Duals of the right sign only: vertex rows (<= 1) >= 0, flow rows (>= 0) <= 0.
        duals = np.concatenate(
            [
                np.maximum(lp.row_duals[: master.n_vertices], 0.0),
                np.minimum(lp.row_duals[master.n_vertices :], 0.0),
            ]
        )
        x = lp.x if lp.x is not None else np.zeros(len(ids) + len(all_chain_vars))
        support[:] = False
        support[ids[x[: len(ids)] > _TOL]] = True
        chain_support = x[len(ids) :] > _TOL
        value = float(lp.objective or 0.0)
        rc = columns.reduced_costs(duals[: master.n_vertices])
        candidates = np.flatnonzero((rc > _TOL) & ~in_master)
        if not len(candidates) or run.out_of_time():
            rc_chain = master.chain_reduced_costs(duals)
            converged = not len(candidates)
            return _LpResult(
                value, duals, rc, rc_chain, support, chain_support, in_master, iterations, converged
            )
        best = candidates[np.lexsort((candidates, -rc[candidates]))[:batch]]
        in_master[best] = True


def _lagrangian_bound(
    master: _Master, duals: FloatArray, rc: FloatArray, rc_chain: FloatArray, integral: bool
) -> float:
    """A valid upper bound from sign-feasible duals, for when pricing was cut short.

    For x in [0, 1]: c x = y A x + rc x <= y b + (sum of positive reduced costs).
    """
    value = float(duals[: master.n_vertices].sum())
    value += float(np.maximum(rc, 0).sum()) + float(np.maximum(rc_chain, 0).sum())
    return math.floor(value + _TOL) if integral else value


def _finish(
    sol: BackendSolution,
    ids: IntArray,
    chain_ids: IntArray,
    bound: float | None,
    integral: bool,
    details: dict[str, float],
    *,
    proven: bool = True,
) -> MasterSolution:
    outcome = sol.outcome
    if not proven and outcome is BackendOutcome.OPTIMAL:
        outcome = BackendOutcome.TIME_LIMIT
    if bound is not None and integral:
        bound = float(math.floor(bound + _TOL))
    if sol.x is None:
        empty = np.zeros(0, dtype=np.int64)
        return MasterSolution(outcome, empty, empty, 0.0, bound, details)
    chosen = sol.x > 0.5
    return MasterSolution(
        outcome,
        ids[chosen[: len(ids)]],
        chain_ids[chosen[len(ids) :]],
        float(sol.objective or 0.0),
        bound,
        details,
    )
