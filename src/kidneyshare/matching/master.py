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

A hierarchy adds *side rows* ``S x >= s`` (each earlier level kept at its optimum). Their
duals ``mu <= 0`` enter the same argument: ``c x = y A x + mu S x + rc x <= y 1 + mu s +
rc x`` for every feasible x, so the LP bound is ``y 1 + mu s`` and the restriction holds.

References
----------
Desaulniers, G., Desrosiers, J., Solomon, M. M. (eds.) (2005). Column Generation.
Springer. (the reduced-cost bound used to restrict the MIP)
Abraham, D. J., Blum, A., Sandholm, T. (2007). Clearing algorithms for barter exchange
markets. ACM EC '07. (pricing of cycles in kidney exchange)
"""

from __future__ import annotations

import itertools
import logging
import math
import time
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from kidneyshare.errors import FormulationTooLarge
from kidneyshare.matching.backends import Backend
from kidneyshare.matching.bounds import assignment_arcs
from kidneyshare.matching.chain_pricing import ChainPricer, chain_blocks
from kidneyshare.matching.enumeration import ExchangeBlock
from kidneyshare.matching.formulations.columns import ExchangeColumns
from kidneyshare.matching.formulations.picef import PicefChains
from kidneyshare.matching.linear import (
    BackendOptions,
    BackendOutcome,
    BackendSolution,
    LinearModel,
)
from kidneyshare.matching.pricing import CyclePricing, ListingOutOfTime, cycle_blocks

__all__ = [
    "UNLISTED_NEAR_BOUND",
    "MasterSolution",
    "SideRows",
    "solve_master",
    "with_survivors",
]

log = logging.getLogger(__name__)

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

# Models with at most this many columns go to the MIP whole.
DIRECT_LIMIT = 5_000
# Up to this many exchange columns the LP is solved whole, beyond by column generation.
# 30,000: the UK levels of PrefLib 231 (1,024 pairs, 175,000-363,000 columns alive per
# level) took 125 s solved whole (interior point, 120 s for one LP) and 55 s by column
# generation; PrefLib 211 136 -> 73 s, 171 33 -> 11 s (same run, same load).
FULL_LP_LIMIT = 30_000
# Up to this many PICEF chain-arc variables all are in every LP, beyond they are priced.
FULL_CHAIN_LP_LIMIT = 100_000
_TOL = 1e-6
# Columns per vertex allowed beyond the LP support in the successive small MIPs. The
# first, tiny one often holds an optimal plan (Delorme 1,000 pairs, L=2: 67 s -> 24 s
# with it; PrefLib 512-pair pool 211, K=3 L=6: 44 s -> 38 s, same machine load).
_MIP_COLUMNS_PER_VERTEX = (3, 20, 200)
# Branch-and-bound nodes each small MIP may take before the next, wider one is tried
# (a work limit, not seconds, so that the path taken is the same on every machine).
_SMALL_MIP_NODES = 1_000
# Not whole-valued priced objectives: the first band of reduced costs listed below the
# LP bound reaches this fraction of the way to the best plan (then twice as deep, ...).
_BANDS = 4
# A band is solved whole only up to this many columns per vertex (Delorme 500 + 50,
# L=4 and L=6: 11,418 and 17,758 columns proved in about a minute; Delorme 1,000 + 100,
# L=4: 743,292 columns, no proof in 560 s).
_BAND_COLUMNS_PER_VERTEX = 30
# A band found too large is replaced by the one halfway back to the deepest band solved,
# unless that adds less than this fraction of the gap (bound - best plan).
_BAND_FINEST = 1 / 32
# Vertices of the LP's optimal face tried by _complete_face_vertices, and the largest
# objective perturbation per column that picks them.
_FACE_SAMPLES = 8
_FACE_NOISE = 1e-3
# From this many vertices (pairs and altruists) a priced master looks for a plan at the
# bound by diving (_dive) before the MIP over the generated columns: on Delorme 5,000 +
# 500, K=3 L=2, that MIP had found no plan after 4 minutes.
DIVE_FROM_VERTICES = 2_000
# A dive (_dive) fixes columns at most this many times; its residual MIP is tried once
# the residual LP has at most _DIVE_MIP_COLUMNS columns; LP values within _DIVE_TOL of
# the target, relative, count as reaching it, and column values within _DIVE_WHOLE of
# a whole number as whole (interior solutions without crossover).
_DIVE_STEPS = 300
_DIVE_MIP_COLUMNS = 3_000
_DIVE_TOL = 1e-7
_DIVE_WHOLE = 1e-5
# Objectives that are not whole: the dive (_dive_below) aims this fraction below the LP
# bound, and its residual MIP waits for a residual LP of at most this many columns
# (such MIPs are slow in HiGHS: 46 s for 1,967 columns on Saidman 1,000 + 100).
_DIVE_BELOW = 0.005
_DIVE_MIP_COLUMNS_NOT_WHOLE = 300
# Restricted MIPs wider than this are solved without presolve.
_PRESOLVE_UP_TO = 20_000


@dataclass(frozen=True, slots=True, eq=False)
class SideRows:
    """Rows ``columns @ x + chains @ y >= lower`` over every exchange column x and chain
    variable y (dense: one row per earlier level of a hierarchy)."""

    columns: FloatArray
    chains: FloatArray
    lower: FloatArray

    @classmethod
    def none(cls, n_columns: int, n_chain_vars: int) -> SideRows:
        return cls(np.zeros((0, n_columns)), np.zeros((0, n_chain_vars)), np.zeros(0))

    def __len__(self) -> int:
        return int(self.lower.shape[0])

    def add(self, column_values: FloatArray, chain_values: FloatArray, lower: float) -> SideRows:
        return SideRows(
            np.vstack([self.columns, column_values[None, :]]),
            np.vstack([self.chains, chain_values[None, :]]),
            np.append(self.lower, lower),
        )

    def subset(self, column_ids: IntArray, chain_ids: IntArray) -> SideRows:
        """The rows restricted to some columns and chain variables."""
        return SideRows(self.columns[:, column_ids], self.chains[:, chain_ids], self.lower)

    def allows_any_addition(self) -> BoolArray:
        """Columns that can be added to a feasible plan without breaking a side row."""
        return np.all(self.columns >= 0, axis=0)  # type: ignore[no-any-return]


@dataclass(frozen=True, slots=True)
class MasterSolution:
    """Chosen exchange columns and chain variables, with value and proven bound."""

    outcome: BackendOutcome
    columns: IntArray
    chain_vars: IntArray
    objective: float
    bound: float | None
    details: dict[str, float] = field(default_factory=dict)
    keep: BoolArray | None = None
    """When proven optimal through the LP: the columns that can be in any plan worth the
    objective (reduced cost >= objective - LP bound), others can be dropped for good
    once the objective is kept by a side row; ``None`` when not computed."""
    chain_keep: BoolArray | None = None
    """The same for the chain variables."""


class _Master:
    """Builds the master model for chosen exchange columns and chain variables."""

    def __init__(
        self, columns: ExchangeColumns, chains: PicefChains, n_vertices: int, side: SideRows
    ) -> None:
        self.columns = columns
        self.chains = chains
        self.side = side
        self.n_vertices = n_vertices
        self.n_packing_rows = n_vertices + chains.n_flow_rows
        self.n_rows = self.n_packing_rows + len(side)
        self.row_lower = np.concatenate(
            [np.full(n_vertices, -np.inf), np.zeros(chains.n_flow_rows), side.lower]
        )
        self.row_upper = np.concatenate(
            [np.ones(n_vertices), np.full(chains.n_flow_rows + len(side), np.inf)]
        )

    @classmethod
    def plain(cls, columns: ExchangeColumns, chains: PicefChains, n_vertices: int) -> _Master:
        """The master with no side rows (a single objective)."""
        return cls(columns, chains, n_vertices, SideRows.none(len(columns), len(chains)))

    def model(self, ids: IntArray, chain_ids: IntArray, *, relax: bool) -> LinearModel:
        rows = sp.hstack(
            [self.columns.matrix(ids, self.n_packing_rows), self.chains.matrix[:, chain_ids]],
            format="csc",
        )
        objective = np.concatenate([self.columns.values[ids], self.chains.values[chain_ids]])
        if len(self.side):
            side = np.hstack([self.side.columns[:, ids], self.side.chains[:, chain_ids]])
            rows = sp.vstack([rows, sp.csc_matrix(side)], format="csc")
        n = rows.shape[1]
        return LinearModel(
            objective=objective,
            col_lower=np.zeros(n),
            # The LP leaves columns unbounded above (the vertex rows bound them) so that
            # every reduced cost is <= 0 at its optimum, as the restriction argument needs.
            col_upper=np.full(n, np.inf) if relax else np.ones(n),
            integer=np.ones(n, dtype=bool),
            rows=rows,
            row_lower=self.row_lower,
            row_upper=self.row_upper,
        )

    def reduced_costs(self, duals: FloatArray) -> FloatArray:
        rc = self.columns.reduced_costs(duals[: self.n_vertices])
        if len(self.side):
            rc = rc - self.side.columns.T @ duals[self.n_packing_rows :]
        return rc

    def chain_reduced_costs(self, duals: FloatArray) -> FloatArray:
        rc = self.chains.values - self.chains.matrix.T @ duals[: self.n_packing_rows]
        if len(self.side):
            rc = rc - self.side.chains.T @ duals[self.n_packing_rows :]
        return rc  # type: ignore[no-any-return]

    def dual_bound(self, duals: FloatArray) -> float:
        """``y b`` over the rows that bind: vertex rows (<= 1) and side rows (>= s)."""
        value = float(duals[: self.n_vertices].sum())
        if len(self.side):
            value += float(duals[self.n_packing_rows :] @ self.side.lower)
        return value


@dataclass
class _Run:
    """One call's solver settings and clock."""

    backend: Backend
    deadline: float | None
    threads: int
    seed: int
    integral: bool
    has_flow_rows: bool

    def solve(
        self,
        model: LinearModel,
        *,
        relax: bool = False,
        initial: FloatArray | None = None,
        node_limit: int | None = None,
        vertex: bool = False,
    ) -> BackendSolution:
        """Solve ``model`` (its LP relaxation with ``relax``: by interior point without
        crossover, unless ``vertex`` asks for a basic solution, whose support is at
        most one column per row)."""
        sol = self._solve(model, relax=relax, initial=initial, node_limit=node_limit, vertex=vertex)
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

    def _solve(
        self,
        model: LinearModel,
        *,
        relax: bool,
        initial: FloatArray | None,
        node_limit: int | None,
        vertex: bool,
    ) -> BackendSolution:
        remaining = None
        if self.deadline is not None:
            remaining = max(self.deadline - time.perf_counter(), 0.01)
        options = BackendOptions(
            time_limit=remaining,
            threads=self.threads,
            seed=self.seed,
            relax=relax,
            interior=relax and not vertex,
            # HiGHS's probing on wide pure set-packing MIPs (no chain-arc rows) can take
            # minutes and gain nothing; on PICEF models presolve pays for itself.
            presolve=relax or model.n_cols <= _PRESOLVE_UP_TO or self.has_flow_rows,
            initial=initial,
            node_limit=node_limit,
            integral_objective=self.integral,
        )
        return self.backend.solve(model, options)

    def out_of_time(self) -> bool:
        return self.deadline is not None and time.perf_counter() >= self.deadline


def with_survivors(
    solution: MasterSolution, lp_seen: list[tuple[_LpResult, float]]
) -> MasterSolution:
    """``solution`` with ``keep`` and ``chain_keep`` set when it was proven optimal
    through an LP (``lp_seen``, as :func:`solve_master` filled it): every plan x has
    value <= z_lp + rc.x with rc <= 0, so a plan worth the optimum uses only columns with
    rc >= optimum - z_lp."""
    if solution.outcome is not BackendOutcome.OPTIMAL or not lp_seen:
        return solution
    lp, z_lp = lp_seen[0]
    floor = solution.objective - z_lp - _TOL
    return replace(solution, keep=lp.rc >= floor, chain_keep=lp.rc_chain >= floor)


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
    simple_bound: float = math.inf,
    start_from: tuple[IntArray, IntArray] | None = None,
    lp_from: tuple[IntArray, IntArray] | None = None,
    side: SideRows | None = None,
    lp_seen: list[tuple[_LpResult, float]] | None = None,
    pricer: CyclePricing | None = None,
    listed: list[ExchangeColumns] | None = None,
    chain_pricer: ChainPricer | None = None,
    unlisted_stops: bool = False,
) -> MasterSolution:
    """Choose exchanges and chain arcs maximising the objective (see module docstring).

    ``integral`` says every objective value is whole, so bounds may be rounded down;
    ``simple_bound`` is a valid bound known beforehand (each pair receives at most once)
    that caps the bound reported when the LP could not be finished; ``start_from`` is a
    feasible solution (exchange columns, chain variables) to start from, for example
    the optimum with shorter cycles (it must satisfy ``side``); ``lp_from`` are columns
    (and chain variables) for column generation to start from besides the start, for
    example the previous level's LP support; ``side`` holds rows every
    solution must satisfy (the earlier levels of a hierarchy); ``lp_seen``, when given,
    receives the LP and its bound for :func:`with_survivors`; with ``pricer`` the cycles
    are not enumerated beforehand: ``columns`` holds the chain columns only (or none), and
    the cycles come from the pricer (:class:`_PricedLp`), and ``listed`` receives the
    columns the solution's ``columns`` refer to; with ``chain_pricer`` too, the chains
    are priced columns as well (``chains`` is then empty); with ``unlisted_stops``, a
    priced solve whose columns near the bound are too many to list returns its best
    plan below the bound at once (unproven, ``UNLISTED_NEAR_BOUND`` in its details)
    instead of searching on for a plan that meets the bound.
    """
    listed = listed if listed is not None else []
    side = side if side is not None else SideRows.none(len(columns), len(chains))
    master = _Master(columns, chains, n_vertices, side)
    run = _Run(backend, deadline, threads, seed, integral, chains.n_flow_rows > 0)
    all_chain_vars = np.arange(len(chains), dtype=np.int64)
    direct = DIRECT_LIMIT if direct_limit is None else direct_limit
    if pricer is None and len(columns) + len(chains) <= direct:
        ids = np.arange(len(columns), dtype=np.int64)
        initial = None
        if start_from is not None:
            initial = np.concatenate(
                [np.isin(ids, start_from[0]), np.isin(all_chain_vars, start_from[1])]
            ).astype(np.float64)
        sol = run.solve(master.model(ids, all_chain_vars, relax=False), initial=initial)
        return _finish(sol, ids, all_chain_vars, sol.bound, integral, {"mip_solves": 1.0})

    # 1. The LP bound and the reduced cost of every column.
    complete_down_to = -math.inf  # every column of reduced cost >= this is listed
    priced: _PricedLp | None = None
    if pricer is None:
        lp = _solve_lp(master, run, start_from, lp_from)
    else:
        priced = _PricedLp(pricer, columns, chains, n_vertices, run, chain_pricer)
        columns, lp = priced.solve(stop_at=simple_bound)

        dived = False
        # The best plan below the bound so far, with the columns it refers to.
        unproven: tuple[MasterSolution, ExchangeColumns] | None = None

        def settled(target: float) -> MasterSolution | None:
            """A plan worth ``target`` (a proven bound): by diving with pricing on large
            pools, else among the generated columns; or the best one found when the
            time is up; ``None`` to go on."""
            nonlocal dived, unproven
            if n_vertices >= DIVE_FROM_VERTICES and not len(chains) and not dived:
                dived = True
                solution = _dive(priced, target)
                if solution is not None:
                    listed.append(priced.pool.columns())
                    return solution
            solution = _generated_plan(
                columns, chains, n_vertices, run, lp, target, integral, mip=unproven is None
            )
            if solution is not None and (
                unproven is None or solution.objective > unproven[0].objective
            ):
                unproven = (solution, columns)
            if solution is None or not (
                solution.outcome is BackendOutcome.OPTIMAL or run.out_of_time()
            ):
                return None
            listed.append(columns)
            return solution

        if lp.value >= simple_bound - _TOL:
            # The LP reached a bound it cannot exceed: try the generated columns for a
            # plan meeting it before proving the LP optimal by pricing.
            solution = settled(math.floor(simple_bound + _TOL) if integral else simple_bound)
            if solution is not None:
                return solution
            columns, lp = priced.solve()
        master = _Master.plain(columns, chains, n_vertices)  # a priced master has no side rows
        complete_down_to = math.inf
        if lp.converged and not integral and not len(chains):
            # Values that are not whole: a plan near the bound by diving first (the
            # MIPs over the generated columns find far worse ones, slowly).
            dived = True
            z_lp = _lp_bound(master, lp, n_vertices)
            dive_plan = _dive_below(priced, z_lp)
            if dive_plan is not None:
                if dive_plan.outcome is BackendOutcome.OPTIMAL:
                    listed.append(priced.pool.columns())
                    return dive_plan
                # The LP again, over the columns the dive added (its bound stays valid
                # should the time run out before the pricing proves it again).
                simple_bound = min(simple_bound, z_lp)
                columns, lp = priced.solve()
                master = _Master.plain(columns, chains, n_vertices)
                unproven = (dive_plan, columns)
                start_from = (dive_plan.columns, dive_plan.chain_vars)
        if lp.converged:
            z_lp = _lp_bound(master, lp, n_vertices)
            target = math.floor(z_lp + _TOL) if integral else z_lp
            solution = settled(target)
            if solution is not None:
                return solution
            # The best plan among the generated columns, if any, is carried over.
            below_plan = unproven[0] if unproven is not None and unproven[1] is columns else None
            keep = below_plan.columns if below_plan is not None else np.zeros(0, np.int64)
            columns, lp, complete_down_to, kept = _list_near_bound(
                priced, columns, lp, target - z_lp - _TOL, keep
            )
            if (
                complete_down_to == math.inf
                and unproven is not None
                and (unlisted_stops or run.out_of_time())
            ):
                # The time is up, or no proof can come from here but a plan at the
                # bound (the caller has another formulation to try): the best plan.
                below, below_columns = unproven
                listed.append(below_columns)
                if not run.out_of_time():
                    below = replace(below, details={**below.details, UNLISTED_NEAR_BOUND: 1.0})
                return below
            master = _Master.plain(columns, chains, n_vertices)
            if below_plan is not None:
                start_from = (kept, below_plan.chain_vars)
        listed.append(columns)
    details = {"lp_iterations": float(lp.iterations), "lp_value": lp.value}
    if not lp.converged:
        # Out of time (or the LP failed) before the bound was proven: best effort.
        bound = master.dual_bound(lp.duals) + _positive_sum(lp.rc) + _positive_sum(lp.rc_chain)
        if lp.unlisted_max > _TOL:
            bound = math.inf  # unpriced columns may have any reduced cost
        bound = min(bound, simple_bound)
        ids = np.flatnonzero(lp.in_master)
        chain_ids = np.flatnonzero(lp.chain_in_master)
        none = np.zeros(0, np.int64)
        plan = start_from if start_from is not None else (none, none)
        start = _greedy_start(master, ids, chain_ids, lp.x, plan[0], plan[1])
        sol = run.solve(master.model(ids, chain_ids, relax=False), initial=start)
        return _finish(sol, ids, chain_ids, bound, integral, details, proven=False)
    # Any 0/1 solution x has value <= y.b + rc.x, and rc <= slack everywhere (interior
    # duals are feasible only to a tolerance), so a solution worth t uses only columns
    # with rc >= t - y.b - (columns used) * slack.
    z_lp = _lp_bound(master, lp, n_vertices)
    if lp_seen is not None:
        lp_seen.append((lp, z_lp))
    target = math.floor(z_lp + _TOL) if integral else z_lp
    if simple_bound < target:
        target = math.floor(simple_bound + _TOL) if integral else simple_bound
    details["lp_bound"] = z_lp

    # 2. Small MIPs first: the LP's support plus the best few columns that could be in a
    #    solution reaching the target, widening until the target is reached or every
    #    such column is in. Degenerate LPs give reduced cost 0 to very many columns, so
    #    taking them all at once would hand the solver nearly the whole model.
    no_columns = np.zeros(0, dtype=np.int64)
    incumbent, chain_incumbent = start_from if start_from is not None else (no_columns, no_columns)

    if start_from is not None:
        # A starting solution that already meets the LP bound is optimal as it stands.
        start_value = float(columns.values[incumbent].sum() + chains.values[chain_incumbent].sum())
        if start_value >= target - _TOL:
            details["started_at_bound"] = 1.0
            return MasterSolution(
                BackendOutcome.OPTIMAL,
                np.sort(incumbent),
                np.sort(chain_incumbent),
                start_value,
                float(target),
                details,
            )

    support, chain_support = _basic_support(master, run, lp, target - z_lp - _TOL)

    # The last restricted MIP: what it was given and its answer.
    last: tuple[tuple[Any, ...], tuple[IntArray, IntArray, BackendSolution]] | None = None

    def restricted(
        threshold: float, cap: int | None, node_limit: int | None = None
    ) -> tuple[IntArray, IntArray, BackendSolution]:
        nonlocal last
        ids = _select(lp.rc, support, threshold - z_lp - _TOL, cap, incumbent)
        chain_ids = _select(
            lp.rc_chain, chain_support, threshold - z_lp - _TOL, cap, chain_incumbent
        )
        given = (
            lp,
            node_limit,
            *(a.tobytes() for a in (ids, chain_ids, incumbent, chain_incumbent)),
        )
        if last is not None and last[0][0] is lp and last[0][1:] == given[1:]:
            # Widening added no column (every eligible one was in): the same MIP again
            # (28 s each on Saidman 1,000 + 100 with fractional weights).
            return last[1]
        details[f"mip_{len(details)}_columns"] = float(len(ids) + len(chain_ids))
        start = _greedy_start(master, ids, chain_ids, lp.x, incumbent, chain_incumbent)
        model = master.model(ids, chain_ids, relax=False)
        last = (given, (ids, chain_ids, run.solve(model, initial=start, node_limit=node_limit)))
        return last[1]

    # The best plan known: the start, or the empty plan when no side row forbids it.
    best = -math.inf
    if start_from is not None:
        best = float(columns.values[incumbent].sum() + chains.values[chain_incumbent].sum())
    elif not len(side):
        best = 0.0

    def known(outcome: BackendOutcome, bound: float, *, proven: bool = True) -> MasterSolution:
        """The best plan known as the answer."""
        if best == -math.inf:
            outcome = BackendOutcome.ERROR
        elif not proven and outcome is BackendOutcome.OPTIMAL:
            outcome = BackendOutcome.TIME_LIMIT
        if integral:
            bound = float(math.floor(bound + _TOL))
        value = best if best > -math.inf else 0.0
        return MasterSolution(
            outcome, np.sort(incumbent), np.sort(chain_incumbent), value, bound, details
        )

    eligible = _count_at(lp, target - z_lp)
    # A hierarchy's later levels, confined to the earlier levels' optimal faces, are
    # the degenerate ones: there the face's vertices are tried once the first small
    # MIP misses (PrefLib 251's third UK level: 79 at once, where the wider MIPs found
    # 77); elsewhere only when the widest misses too.
    face_after = _MIP_COLUMNS_PER_VERTEX[0 if len(side) else -1]
    for per_vertex in (*_MIP_COLUMNS_PER_VERTEX, None):
        cap = None if per_vertex is None else per_vertex * n_vertices
        ids, chain_ids, sol = restricted(target, cap, None if cap is None else _SMALL_MIP_NODES)
        found = _found(sol)
        if found >= target - _TOL:
            return _finish(sol, ids, chain_ids, float(target), integral, details)
        if found > best and sol.x is not None:
            incumbent = ids[sol.x[: len(ids)] > 0.5]
            chain_incumbent = chain_ids[sol.x[len(ids) :] > 0.5]
            best = found
        complete = (
            len(ids) + len(chain_ids) >= eligible
            and complete_down_to <= target - z_lp - _TOL + 1e-12
        )
        if per_vertex == face_after and not complete and not len(chains) and not run.out_of_time():
            # Before the MIP over every eligible column (the whole optimal face on a
            # degenerate level), try the face's vertices.
            face = _complete_face_vertices(master, run, lp, target - z_lp - _TOL, target)
            if face is not None:
                face_ids, no_chains, face_sol = face
                details["face_completions"] = 1.0
                face_found = _found(face_sol)
                if face_found >= target - _TOL:
                    return _finish(face_sol, face_ids, no_chains, float(target), integral, details)
                if face_found > best and face_sol.x is not None:
                    incumbent = face_ids[face_sol.x > 0.5]
                    best = face_found
        if priced is not None and not integral and best > -math.inf:
            # Values that are not whole reach the bound only where the LP is whole: with
            # a plan below it, the bands of step 3 decide (the widest MIP here took the
            # rest of the time on Saidman 1,000 + 100 with weights in 0.50-1.50).
            break
        if (
            cap is not None
            and not run.out_of_time()
            and (
                not complete
                or sol.outcome not in (BackendOutcome.OPTIMAL, BackendOutcome.INFEASIBLE)
            )
        ):
            # A small MIP that missed the target, or stopped at its node budget: widen
            # (until 2026-12-03 one holding every eligible column and stopped by its
            # budget ended the solve unproven, though time was left).
            continue
        if sol.outcome not in (BackendOutcome.OPTIMAL, BackendOutcome.INFEASIBLE):
            return known(BackendOutcome.TIME_LIMIT, max(float(target), best), proven=False)
        break
    # Every column of every solution worth the target was in (a restricted model with
    # no solution says none reaches it), and none reached it. (Not so when the priced
    # columns near the bound were too many to list: then step 3 decides.)
    if integral and best >= target - 1 - _TOL and complete:
        return known(BackendOutcome.OPTIMAL, best)

    # 3. The optimum is below the target: widen to every column that could beat the
    #    best value known, and solve again.
    better = best + (1.0 if integral else 0.0)
    if priced is not None and not integral and best > -math.inf:
        # Values that are not whole leave no rounding to close the gap, and on long
        # chains the columns down to the best plan are millions: list bands of reduced
        # cost ever deeper below the bound, each solved whole, until a band's plan is
        # no further below the bound than the band reaches (then nothing outside it can
        # beat the plan) or its columns are too many.
        depth = (best - z_lp) / _BANDS
        too_deep = -math.inf  # the shallowest band found too large
        solved = 0.0  # the deepest band solved
        # Every band holds the columns at the bound: when those alone are too many (a
        # degenerate face: 1.6 million on Saidman 1,000 + 100 with fractional
        # weights), no band is solved whole.
        gave_up = len(columns) > _BAND_COLUMNS_PER_VERTEX * n_vertices
        band_bound = float(target)  # what the bands solved (or cut short) prove
        while not gave_up and depth > better - z_lp and not run.out_of_time():
            if depth < complete_down_to - _TOL:
                columns, lp, complete_down_to, incumbent = _list_near_bound(
                    priced, columns, lp, depth - _TOL, incumbent
                )
                master = _Master.plain(columns, chains, n_vertices)
                listed[:] = [columns]
                if (
                    depth < complete_down_to - _TOL
                    or len(columns) > _BAND_COLUMNS_PER_VERTEX * n_vertices
                ):
                    # Too many to list, or to solve whole: a shallower band may still
                    # give a better plan, and with it a shallower depth to prove.
                    too_deep, depth = depth, (solved + depth) / 2
                    # A band adding a sliver beyond the deepest solved can barely
                    # better the plan (Saidman 1,000 + 100 with fractional weights:
                    # twenty halvings, each refused, until the time ran out).
                    gave_up = solved - depth < max(_TOL, _BAND_FINEST * (z_lp - best))
                    if gave_up:
                        break
                    continue
            ids, chain_ids, sol = restricted(z_lp + depth, None)
            details[f"band_{len(details)}"] = depth
            solved = depth
            found = _found(sol)
            in_band = sol.bound if sol.bound is not None else math.inf
            if sol.outcome is BackendOutcome.OPTIMAL:
                in_band = found
            # A plan of the band's columns is worth at most the MIP's bound, even one
            # cut short; a plan using any other column at most the LP bound + depth
            # (Delorme 1,000 + 100, L=4, expected: 545.075 -> 544.856).
            band_bound = min(band_bound, max(in_band, z_lp + depth))
            if found > best and sol.x is not None:
                incumbent = ids[sol.x[: len(ids)] > 0.5]
                chain_incumbent = chain_ids[sol.x[len(ids) :] > 0.5]
                best = better = found
            if best >= band_bound - _TOL:
                # Nothing in the band beats the plan (the MIP finished, or its bound
                # says so), and nothing outside it can. (Until 2026-12-03 a band MIP
                # stopped by the time limit with a plan past the band's depth was
                # taken as proof.)
                return known(BackendOutcome.OPTIMAL, best)
            depth = max(2 * depth, better - z_lp)  # no deeper than the proof needs
            gave_up = sol.outcome is not BackendOutcome.OPTIMAL or depth <= too_deep
            if gave_up:
                break
        if gave_up or run.out_of_time():
            # The columns a proof needs are too many (the caller may try another
            # formulation), or the time is up: the best plan, unproven.
            if gave_up and not run.out_of_time():
                details[UNLISTED_NEAR_BOUND] = 1.0
            return known(BackendOutcome.TIME_LIMIT, max(band_bound, best), proven=False)
    if priced is not None and better - z_lp < complete_down_to - _TOL:
        # The priced columns stop above what this step needs: list down to it.
        columns, lp, complete_down_to, incumbent = _list_near_bound(
            priced, columns, lp, better - z_lp - _TOL, incumbent
        )
        master = _Master.plain(columns, chains, n_vertices)
        listed[:] = [columns]
        if better - z_lp < complete_down_to - _TOL:
            if not run.out_of_time():
                details[UNLISTED_NEAR_BOUND] = 1.0  # the caller may try another formulation
            return known(BackendOutcome.TIME_LIMIT, float(target), proven=False)
    ids2, chain_ids2, sol2 = restricted(better, None)
    found2 = _found(sol2)
    if sol2.outcome is BackendOutcome.INFEASIBLE:
        return known(BackendOutcome.OPTIMAL, best)  # nothing beats the best known
    if found2 < best - _TOL or sol2.x is None:
        bound = target if sol2.bound is None else max(min(target, sol2.bound), best)
        return known(BackendOutcome.TIME_LIMIT, bound, proven=False)
    bound = max(found2, sol2.bound if sol2.bound is not None else target)
    return _finish(sol2, ids2, chain_ids2, min(bound, target), integral, details)


def _found(sol: BackendSolution) -> float:
    """The objective of a solver's plan, or -inf when it returned none."""
    if sol.x is None or sol.objective is None:
        return -math.inf
    return float(sol.objective)


def _basic_support(
    master: _Master, run: _Run, lp: _LpResult, floor: float
) -> tuple[BoolArray, BoolArray]:
    """The support the small MIPs start from: the interior LP solution's, or, when that
    spreads over many more columns than a basic solution can use (one per row), the
    support of a basic optimal solution of the LP over the columns of reduced cost >=
    ``floor`` (the only ones a plan worth the target can use). Degenerate LPs give the
    interior solution tens of thousands of columns: a UK level on a dense 250-pair pool
    handed 74,536 of them to a MIP that took 183 s."""
    rows = master.n_rows
    if int(lp.support.sum() + lp.chain_support.sum()) <= _MIP_COLUMNS_PER_VERTEX[0] * rows:
        return lp.support, lp.chain_support
    # The restricted master of the converged column generation already holds an optimal
    # basis: solving over its columns (not every column of reduced cost >= floor, which
    # on a degenerate level of a large pool are millions) gives a basic optimum.
    ids = np.flatnonzero(lp.in_master & (lp.rc >= floor))
    chain_ids = np.flatnonzero(lp.chain_in_master & (lp.rc_chain >= floor))
    basic = run.solve(master.model(ids, chain_ids, relax=True), relax=True, vertex=True)
    if basic.outcome is not BackendOutcome.OPTIMAL or basic.x is None:
        return lp.support, lp.chain_support
    used = basic.x > _TOL
    support = np.zeros(len(lp.rc), dtype=bool)
    support[ids[used[: len(ids)]]] = True
    chain_support = np.zeros(len(lp.rc_chain), dtype=bool)
    chain_support[chain_ids[used[len(ids) :]]] = True
    return support, chain_support


def _complete_face_vertices(
    master: _Master, run: _Run, lp: _LpResult, floor: float, target: float
) -> tuple[IntArray, IntArray, BackendSolution] | None:
    """Look for a plan worth ``target`` around vertices of the LP's optimal face.

    Each of ``_FACE_SAMPLES`` basic optimal solutions (the restricted LP's columns of
    reduced cost >= ``floor``, objective perturbed at random so that each lands on
    another vertex of the face) is mostly whole: its columns at 1 are kept, and the MIP
    over every column of reduced cost >= ``floor`` on the vertices they leave free
    completes it exactly (a neighbourhood in the spirit of RENS: Berthold 2014, Math.
    Programming Computation 6). Returns the first plan reaching ``target``, else the
    best one, else ``None``. Exchange columns only (no PICEF chain variables)."""
    in_lp = np.flatnonzero(lp.in_master & (lp.rc >= floor))
    eligible = np.flatnonzero(lp.rc >= floor)
    if not len(in_lp) or not len(eligible):
        return None
    none = np.zeros(0, dtype=np.int64)
    base = master.model(in_lp, none, relax=True)
    incidence = master.columns.matrix(eligible, master.n_packing_rows)[: master.n_vertices].T
    incidence = incidence.tocsr()
    rng = np.random.default_rng(0)
    best: tuple[IntArray, IntArray, BackendSolution] | None = None
    tried: set[bytes] = set()
    for _ in range(_FACE_SAMPLES):
        if run.out_of_time():
            break
        noise = _FACE_NOISE * rng.random(len(in_lp))
        vertex = run.solve(replace(base, objective=base.objective + noise), relax=True, vertex=True)
        if vertex.x is None:
            continue
        fixed = in_lp[vertex.x > 1 - _TOL]
        if fixed.tobytes() in tried:
            continue  # the same completion MIP again (all of it when no column is at 1)
        tried.add(fixed.tobytes())
        taken = np.zeros(master.n_vertices)
        # The restricted LP's columns are eligible too: their incidence rows are there.
        taken[incidence[np.searchsorted(eligible, fixed)].indices] = 1.0
        free = eligible[(incidence @ taken) == 0]
        ids = np.union1d(fixed, free)
        model = master.model(ids, none, relax=False)
        lower = np.isin(ids, fixed).astype(np.float64)
        sol = run.solve(replace(model, col_lower=lower), node_limit=_SMALL_MIP_NODES)
        if sol.x is None:
            continue
        if best is None or _found(sol) > _found(best[2]):
            best = (ids, none, sol)
        if _found(sol) >= target - _TOL:
            break
    return best


def _select(
    rc: FloatArray,
    support: BoolArray,
    floor: float,
    cap: int | None,
    keep: IntArray | None,
) -> IntArray:
    """Columns with reduced cost >= ``floor``: all of them, or the LP's support, the
    columns in ``keep`` (the incumbent) and at most ``cap`` more, best reduced cost
    first (ties by index, for reproducible models)."""
    eligible = np.flatnonzero(rc >= floor)
    if cap is None or len(eligible) <= cap:
        return eligible
    extra = eligible[~support[eligible]]
    extra = extra[np.lexsort((extra, -rc[extra]))[:cap]]
    parts = [np.flatnonzero(support), extra]
    if keep is not None:
        parts.append(keep)
    return np.unique(np.concatenate(parts))


def _count_at(lp: _LpResult, floor: float) -> int:
    return int((lp.rc >= floor - _TOL).sum() + (lp.rc_chain >= floor - _TOL).sum())


@dataclass
class _LpResult:
    value: float
    duals: FloatArray
    rc: FloatArray
    rc_chain: FloatArray
    x: FloatArray
    support: BoolArray
    chain_support: BoolArray
    in_master: BoolArray
    chain_in_master: BoolArray
    iterations: int
    converged: bool
    unlisted_max: float = -math.inf
    """An upper bound on the reduced cost of the columns not listed (priced ones)."""


def _sign_feasible(row_duals: FloatArray, n_vertices: int) -> FloatArray:
    """Duals of the right sign only: vertex rows (<= 1) >= 0, flow rows (>= 0) and side
    rows (>= s) <= 0."""
    return np.concatenate(
        [np.maximum(row_duals[:n_vertices], 0.0), np.minimum(row_duals[n_vertices:], 0.0)]
    )


def _solve_lp(
    master: _Master,
    run: _Run,
    start: tuple[IntArray, IntArray] | None,
    lp_from: tuple[IntArray, IntArray] | None = None,
) -> _LpResult:
    """The LP over every column, whole or by column generation over the exchanges (and,
    when they are many, over PICEF's chain-arc variables too: their reduced costs are
    one sparse product, and a restricted PICEF with fewer arc variables is still valid).

    Column generation starts from the best columns by value (for chains, the
    altruists' first arcs) and ``start``, a feasible plan: with side rows, the best
    columns alone may not satisfy them, and an infeasible restricted LP gives no duals
    to price with; and from ``lp_from``."""
    columns, n_cols = master.columns, len(master.columns)
    in_master = np.zeros(n_cols, dtype=bool)
    if n_cols <= FULL_LP_LIMIT:
        in_master[:] = True
    else:
        order = np.lexsort((np.arange(n_cols), -columns.values))
        in_master[order[: 10 * master.n_vertices]] = True
    in_chain = np.ones(len(master.chains), dtype=bool)
    if len(master.chains) > FULL_CHAIN_LP_LIMIT:
        in_chain = master.chains.position == 1
    for given in (start, lp_from):
        if given is not None:
            in_master[given[0]] = True
            in_chain[given[1]] = True
    batch = max(5_000, 5 * master.n_vertices)
    duals = np.zeros(master.n_rows)
    value = math.inf
    iterations = 0
    x_full = np.zeros(n_cols)
    rc = columns.values.copy()  # the reduced costs under the zero duals
    converged = False
    chain_support = np.zeros(len(master.chains), dtype=bool)
    rc_chain = master.chains.values.copy()
    while True:
        iterations += 1
        ids = np.flatnonzero(in_master)
        chain_ids = np.flatnonzero(in_chain)
        lp = run.solve(master.model(ids, chain_ids, relax=True), relax=True)
        if lp.outcome is not BackendOutcome.OPTIMAL or lp.row_duals is None:
            break
        duals = _sign_feasible(lp.row_duals, master.n_vertices)
        x = lp.x if lp.x is not None else np.zeros(len(ids) + len(chain_ids))
        x_full[:] = 0.0
        x_full[ids] = x[: len(ids)]
        chain_support[:] = False
        chain_support[chain_ids] = x[len(ids) :] > _TOL
        value = float(lp.objective or 0.0)
        rc = master.reduced_costs(duals)
        rc_chain = master.chain_reduced_costs(duals)
        candidates = np.flatnonzero((rc > _TOL) & ~in_master)
        chain_candidates = np.flatnonzero((rc_chain > _TOL) & ~in_chain)
        if not len(candidates) and not len(chain_candidates):
            converged = True
            break
        if run.out_of_time():
            break
        in_master[candidates[np.lexsort((candidates, -rc[candidates]))[:batch]]] = True
        in_chain[
            chain_candidates[np.lexsort((chain_candidates, -rc_chain[chain_candidates]))[:batch]]
        ] = True
    return _LpResult(
        value,
        duals,
        rc,
        rc_chain,
        x_full,
        x_full > _TOL,
        chain_support,
        in_master,
        in_chain,
        iterations,
        converged,
    )


class _CyclePool:
    """Columns of a priced master: the enumerated chains (fixed, first) and the
    exchanges generated so far (cycles, and chains when they are priced too), each once,
    numbered in the order they came."""

    def __init__(
        self,
        chain_columns: ExchangeColumns,
        arc_value: FloatArray,
        success: FloatArray | None = None,
    ) -> None:
        self.chain_blocks = chain_columns.blocks
        self.n_chains = len(chain_columns)
        self.arc_value = arc_value
        self.success = success
        self.blocks: list[ExchangeBlock] = []
        self.index: dict[tuple[int, ...], int] = {}

    def add(self, blocks: list[ExchangeBlock]) -> int:
        """Add the exchanges not yet in the pool; returns how many were new. (A chain
        starts at an altruist and a cycle has none, so their vertex lists never clash.)"""
        added = 0
        for block in blocks:
            fresh = []
            for row, exchange in enumerate(map(tuple, block.vertices.tolist())):
                if exchange not in self.index:
                    self.index[exchange] = self.n_chains + len(self.index)
                    fresh.append(row)
            if fresh:
                self.blocks.append(
                    ExchangeBlock(block.is_cycle, block.vertices[fresh], block.arcs[fresh])
                )
                added += len(fresh)
        return added

    def columns(self) -> ExchangeColumns:
        return ExchangeColumns(self.chain_blocks + self.blocks, self.arc_value, self.success)

    def generated_with(self, chosen: BoolArray) -> list[ExchangeBlock]:
        """The pool's generated exchanges whose column is marked in ``chosen`` (over
        every column)."""
        picked = [
            ExchangeBlock(b.is_cycle, b.vertices[mask], b.arcs[mask])
            for b, mask in zip(self.blocks, self._split(chosen), strict=True)
        ]
        return [b for b in picked if len(b)]

    def generated_ids(self, blocks: list[ExchangeBlock]) -> IntArray:
        """Column numbers of generated exchanges already in the pool."""
        return np.asarray(
            [self.index[tuple(c)] for b in blocks for c in b.vertices.tolist()], dtype=np.int64
        )

    def _split(self, values: BoolArray) -> list[BoolArray]:
        bounds = np.cumsum([self.n_chains] + [len(b) for b in self.blocks])
        return [values[lo:hi] for lo, hi in itertools.pairwise(bounds)]


# Cycles listed for the restricted MIPs after a priced LP, at most; a solve that needed
# more is left unproven with this key set in its details.
PRICED_COLUMN_LIMIT = 3_000_000
UNLISTED_NEAR_BOUND = "unlisted_near_bound"


def _lp_bound(master: _Master, lp: _LpResult, n_vertices: int) -> float:
    """``y.b`` corrected for the duals' tolerance: reduced costs are <= ``slack``
    everywhere, so a plan (at most one column per vertex) gains at most
    ``n_vertices * slack`` over ``y.b``."""
    slack = max(
        0.0, float(lp.rc.max(initial=0.0)), float(lp.rc_chain.max(initial=0.0)), lp.unlisted_max
    )
    return master.dual_bound(lp.duals) + n_vertices * slack


def _assignment_hint(
    pricer: CyclePricing, chains: PicefChains, max_chain: int
) -> tuple[list[ExchangeBlock], list[ExchangeBlock], IntArray]:
    """Columns from a maximum-weight assignment (:func:`assignment_arcs`): its cycles of
    at most K pairs, and the first ``max_chain`` donations of its chains, as chain
    columns and as PICEF variables (where ``chains`` has them). On dense pools the
    assignment is worth the optimum or nearly, so the first LP starts close to it
    instead of climbing there over many rounds of pricing."""
    graph = pricer.graph
    arcs = assignment_arcs(graph, pricer.all_arc_values)
    giving = dict(zip(graph.src[arcs].tolist(), arcs.tolist(), strict=True))
    seen: set[int] = set()
    chain_keys: list[int] = []
    chain_items: list[tuple[IntArray, IntArray]] = []
    width = int(chains.position.max(initial=0)) + 1
    for altruist in range(graph.n_pairs, graph.n_vertices):
        vertex, walk, used = altruist, [altruist], list[int]()
        while vertex in giving and len(used) < max_chain:
            arc = giving[vertex]
            chain_keys.append(arc * width + len(used) + 1)
            used.append(arc)
            vertex = int(graph.dst[arc])
            walk.append(vertex)
            seen.add(vertex)
        if used:
            chain_items.append((np.asarray(walk, np.int64), np.asarray(used, np.int64)))
    keys = chains.arc * width + chains.position
    chain_vars = np.flatnonzero(np.isin(keys, chain_keys))
    cycles: list[tuple[IntArray, IntArray]] = []
    for start in range(graph.n_pairs):
        walk, vertex = [start], start
        while vertex in giving and vertex not in seen and len(walk) <= pricer.max_cycle:
            seen.add(vertex)
            vertex = int(graph.dst[giving[vertex]])
            if vertex == start:
                verts = np.asarray(walk, dtype=np.int64)
                cycles.append((verts, np.asarray([giving[v] for v in walk], dtype=np.int64)))
                break
            walk.append(vertex)
    return cycle_blocks(cycles), chain_blocks(chain_items), chain_vars


class _PricedLp:
    """The LP by column generation with cycles priced by search.

    Enumerated chains (``chain_columns``, or none) are always in the LP; chains are
    priced columns too with a ``chain_pricer``, else PICEF chain variables, priced as in
    :func:`_solve_lp` when they are many. The generated columns are kept between calls,
    so a run stopped early (at ``stop_at``) resumes."""

    def __init__(
        self,
        pricer: CyclePricing,
        chain_columns: ExchangeColumns,
        chains: PicefChains,
        n_vertices: int,
        run: _Run,
        chain_pricer: ChainPricer | None = None,
    ) -> None:
        self.pricer, self.chains, self.n_vertices, self.run = pricer, chains, n_vertices, run
        self.chain_pricer = chain_pricer
        self.batch = max(2_000, 2 * n_vertices)
        self.pool = _CyclePool(chain_columns, pricer.all_arc_values, pricer.success)
        max_chain = 0 if chain_pricer is None else chain_pricer.max_chain
        hint_cycles, hint_chains, hint_chain_vars = _assignment_hint(pricer, chains, max_chain)
        self.pool.add(hint_cycles)
        self.pool.add(hint_chains)
        found, _ = pricer.positive_cycles(np.zeros(pricer.n), tolerance=_TOL, limit=self.batch)
        self.pool.add(found)
        self.in_chain = np.ones(len(chains), dtype=bool)
        if len(chains) > FULL_CHAIN_LP_LIMIT:
            self.in_chain = chains.position == 1
            self.in_chain[hint_chain_vars] = True
        self.iterations = 0

    def solve(
        self, stop_at: float = math.inf, excluded: BoolArray | None = None
    ) -> tuple[ExchangeColumns, _LpResult]:
        """Generate columns until none has positive reduced cost (``converged``), the
        time is up, or the LP value reaches ``stop_at`` (a bound known to hold, such as
        the assignment bound: the LP cannot exceed it). Returns the generated columns
        (chains first, then cycles in the order they came) and the LP over them; its
        ``unlisted_max`` bounds the reduced cost of every other column.

        With ``excluded`` (the vertices a dive has taken), the LP is over the columns
        that avoid them, and their duals are raised out of reach before pricing, so no
        column through them is generated."""
        pricer, chains, n_vertices, run = self.pricer, self.chains, self.n_vertices, self.run
        out_of_reach = 1e6 * max(1.0, float(pricer.all_arc_values.max(initial=1.0)))
        chain_free = np.ones(len(chains), dtype=bool)
        chain_pricer = self.chain_pricer
        if excluded is not None:
            if chain_pricer is not None:
                chain_pricer = chain_pricer.among(~excluded)
            taken = chains.matrix[:n_vertices].T @ excluded.astype(np.float64)
            chain_free = np.asarray(taken == 0).ravel()
        converged, value, unlisted = False, math.inf, math.inf
        duals = np.zeros(n_vertices + chains.n_flow_rows)
        # The last solved LP's values and its layout (the pool may grow after it).
        x = np.zeros(0)
        lp_ids = lp_chain_ids = np.zeros(0, dtype=np.int64)
        while True:
            self.iterations += 1
            columns = self.pool.columns()
            master = _Master.plain(columns, chains, n_vertices)
            ids = np.arange(len(columns), dtype=np.int64)
            chain_ids = np.flatnonzero(self.in_chain & chain_free)
            if excluded is not None:
                ids = ids[~columns.touching(excluded)]
            lp = run.solve(master.model(ids, chain_ids, relax=True), relax=True)
            if lp.outcome is not BackendOutcome.OPTIMAL or lp.row_duals is None:
                break
            duals = _sign_feasible(lp.row_duals, n_vertices)
            if excluded is not None:
                duals[:n_vertices][excluded] = out_of_reach
            x = lp.x if lp.x is not None else np.zeros(len(ids) + len(chain_ids))
            lp_ids, lp_chain_ids = ids, chain_ids
            value = float(lp.objective or 0.0)
            if value >= stop_at - _TOL:
                break
            found, unlisted = pricer.positive_cycles(
                duals[: pricer.n], tolerance=_TOL, limit=self.batch
            )
            if chain_pricer is not None:
                chain_found, chain_unlisted = chain_pricer.positive_chains(
                    duals[:n_vertices], tolerance=_TOL, limit=self.batch
                )
                found += chain_found
                unlisted = max(unlisted, chain_unlisted)
            rc_chain = master.chain_reduced_costs(duals)
            chain_candidates = np.flatnonzero((rc_chain > _TOL) & ~self.in_chain)
            if not self.pool.add(found) and not len(chain_candidates):
                converged = True
                break
            if run.out_of_time():
                break
            best = np.lexsort((chain_candidates, -rc_chain[chain_candidates]))[: self.batch]
            # An arc enters at every position at once: a chain then shifts along its
            # positions in one round instead of one position a round (PrefLib 243,
            # 1,024 pairs + 51 altruists, K=4 L=6: 20 -> 10 rounds).
            self.in_chain |= np.isin(chains.arc, chains.arc[chain_candidates[best]])
        columns = self.pool.columns()
        master = _Master.plain(columns, chains, n_vertices)
        x_pool = np.zeros(len(columns))
        x_pool[lp_ids] = x[: len(lp_ids)]
        chain_x = np.zeros(len(chains))
        chain_x[lp_chain_ids] = x[len(lp_ids) :]
        rc_chain = master.chain_reduced_costs(duals)
        # Chain variables left out of the LP may have positive reduced cost too.
        unlisted = max(unlisted, float(rc_chain[~self.in_chain].max(initial=-math.inf)))
        return columns, _LpResult(
            value,
            duals,
            master.reduced_costs(duals),
            rc_chain,
            x_pool,
            x_pool > _TOL,
            chain_x > _TOL,
            np.ones(len(columns), dtype=bool),
            self.in_chain.copy(),
            self.iterations,
            converged,
            unlisted_max=max(0.0, unlisted) if converged else math.inf,
        )


def _generated_plan(
    columns: ExchangeColumns,
    chains: PicefChains,
    n_vertices: int,
    run: _Run,
    lp: _LpResult,
    target: float,
    integral: bool,
    *,
    mip: bool = True,
) -> MasterSolution | None:
    """A plan worth ``target`` (a proven bound) among the generated columns.

    The interior LP solution spreads over every column of the optimal face (60,000 on a
    1,024-pair pool with altruists, where a MIP over them took 20 s), so a basic
    optimal solution of the same LP comes first: often integral already, else a small
    MIP over its support and the best few columns per vertex. Then the MIP over the
    interior support and those columns. Without ``mip`` (a plan is known already), only
    the basic solution is tried."""
    master = _Master.plain(columns, chains, n_vertices)
    cap = _MIP_COLUMNS_PER_VERTEX[0] * n_vertices
    every = np.arange(len(columns), dtype=np.int64)
    in_lp = np.flatnonzero(lp.chain_in_master)
    best_few = _select(lp.rc, np.zeros(len(columns), dtype=bool), -math.inf, cap, None)
    tries = []
    basic = run.solve(master.model(every, in_lp, relax=True), relax=True, vertex=True)
    if basic.outcome is BackendOutcome.OPTIMAL and basic.x is not None:
        if _found(basic) >= target - _TOL and np.all(np.abs(basic.x - np.round(basic.x)) < _TOL):
            plan = basic.x > 0.5
            details = {"lp_iterations": float(lp.iterations), "lp_bound": float(target)}
            chosen = replace(basic, x=plan.astype(np.float64))
            return _finish(chosen, every, in_lp, float(target), integral, details)
        used = basic.x > _TOL
        tries.append((np.union1d(every[used[: len(every)]], best_few), in_lp[used[len(every) :]]))
    chain_ids = _select(
        np.where(lp.chain_in_master, lp.rc_chain, -math.inf), lp.chain_support, -math.inf, cap, None
    )
    tries.append(
        (_select(lp.rc, lp.support, -math.inf, cap, None), chain_ids[lp.chain_in_master[chain_ids]])
    )
    none = np.zeros(0, np.int64)
    details = {"lp_iterations": float(lp.iterations), "lp_bound": float(target)}
    best: MasterSolution | None = None
    if not integral:
        # A bound that is not whole is met only where the LP is whole: one MIP for a
        # plan to start from is enough, the master's bands prove it (each of these
        # node-limited MIPs took 80-100 s on Delorme 1,000 + 100, expected transplants).
        tries = tries[:1]
    if not mip:
        tries = []
    for ids, chain_ids in tries:
        start = _greedy_start(master, ids, chain_ids, lp.x, none, none)
        model = master.model(ids, chain_ids, relax=False)
        sol = run.solve(model, initial=start, node_limit=_SMALL_MIP_NODES)
        if _found(sol) >= target - _TOL:
            return _finish(sol, ids, chain_ids, float(target), integral, details)
        if sol.x is not None and (best is None or _found(sol) > best.objective):
            # Below the bound, so not proven: kept in case the time runs out.
            best = _finish(sol, ids, chain_ids, float(target), integral, details, proven=False)
        if run.out_of_time():
            break
    return best


def _dive(
    priced: _PricedLp, target: float, mip_columns: int = _DIVE_MIP_COLUMNS
) -> MasterSolution | None:
    """A plan worth ``target`` (a proven bound) by diving with pricing, or ``None``.

    Each step fixes the columns the LP leans on: those above one half in its solution
    (vertex-disjoint, since two columns sharing a vertex sum to at most 1), or its
    largest when none is. Their vertices are taken out, and column generation goes on
    over the rest (the pricers offering only columns that avoid them) until the residual
    LP again reaches what the target leaves. When it cannot, the step is undone and
    retried with the better half of its columns; a single column that fails ends the
    dive. Once the residual LP is whole, or has at most ``mip_columns`` columns for a MIP
    that meets its part of the target, the plan is complete. Only for masters whose
    chains are columns (no PICEF variables). Unlike a MIP over the columns the LP
    happened to need, every step prices columns for the plan being built (Sadykov,
    Vanderbeck, Pessoa, Tahiri, Uchoa 2019, Primal heuristics for branch and price: the
    assets of diving methods, INFORMS J. Computing 31(2)).
    """
    n_vertices, run, chains = priced.n_vertices, priced.run, priced.chains
    excluded = np.zeros(n_vertices, dtype=bool)
    fixed: list[int] = []
    fixed_value = 0.0
    batch: IntArray | None = None  # the columns the current step fixes (None: first LP)
    none = np.zeros(0, dtype=np.int64)
    for step in range(1, _DIVE_STEPS + 1):
        if run.out_of_time():
            return None
        trial, trial_value = excluded.copy(), fixed_value
        if batch is not None:
            columns = priced.pool.columns()
            trial[columns.matrix(batch, n_vertices).indices] = True
            trial_value += float(columns.values[batch].sum())
        left = target - trial_value
        # Interior LP values fall short of the target by a few parts in 10^9; a miss
        # within the tolerance shows at the (exact) residual MIP.
        slack = _DIVE_TOL * max(1.0, abs(left))
        columns, lp = priced.solve(stop_at=left - slack, excluded=trial if trial.any() else None)
        if not math.isfinite(lp.value):
            return None  # the LP failed
        if lp.value < left - slack:
            if batch is None or len(batch) == 1:
                log.debug("dive: gave up after %d steps, %d columns fixed", step, len(fixed))
                return None
            batch = batch[: len(batch) // 2]  # undo, fix the better half
            continue
        if batch is not None:
            fixed.extend(batch.tolist())
        excluded, fixed_value = trial, trial_value
        residual = np.flatnonzero(~columns.touching(excluded))
        x = lp.x[residual]
        if np.all(np.abs(x - np.round(x)) < _DIVE_WHOLE) or len(residual) <= mip_columns:
            master = _Master.plain(columns, chains, n_vertices)
            start = _greedy_start(master, residual, none, lp.x, none, none)
            sol = run.solve(
                master.model(residual, none, relax=False),
                initial=start,
                node_limit=_SMALL_MIP_NODES,
            )
            if _found(sol) >= left - _TOL and sol.x is not None:
                plan = np.concatenate([np.asarray(fixed, np.int64), residual[sol.x > 0.5]])
                log.debug("dive: plan at the bound after %d steps", step)
                details = {"dive_steps": float(step), "lp_bound": float(target)}
                value = float(columns.values[plan].sum())
                return MasterSolution(
                    BackendOutcome.OPTIMAL, np.sort(plan), none, value, float(target), details
                )
            if len(residual) <= mip_columns and sol.outcome is BackendOutcome.OPTIMAL:
                # The residual's optimum falls short: the fixings went wrong.
                log.debug("dive: gave up at step %d, the residual's optimum short", step)
                return None
        order = residual[np.lexsort((residual, -x))]
        above = order[lp.x[order] > 0.5 + _DIVE_WHOLE]
        batch = above if len(above) else order[:1]
    return None


def _dive_below(priced: _PricedLp, bound: float) -> MasterSolution | None:
    """For objectives that are not whole: a plan within ``_DIVE_BELOW`` (relative) of
    the LP ``bound`` by diving (:func:`_dive`), unproven unless it meets the bound, or
    ``None``. Rounding cannot close such a gap, and the MIPs over the generated columns
    find poor plans slowly (Saidman 1,000 + 100, arc weights in 0.50-1.50, K=3 L=6:
    969.93 in 112 s against a bound of 1,005.38; the dive: 1,000.97 in 47 s)."""
    plan = _dive(priced, bound - _DIVE_BELOW * max(1.0, abs(bound)), _DIVE_MIP_COLUMNS_NOT_WHOLE)
    if plan is None:
        return None
    at_bound = plan.objective >= bound - _TOL
    outcome = BackendOutcome.OPTIMAL if at_bound else BackendOutcome.TIME_LIMIT
    return replace(plan, outcome=outcome, bound=bound, details={**plan.details, "lp_bound": bound})


def _list_near_bound(
    priced: _PricedLp,
    generated: ExchangeColumns,
    lp: _LpResult,
    floor: float,
    keep: IntArray,
) -> tuple[ExchangeColumns, _LpResult, float, IntArray]:
    """Every cycle (and priced chain) of reduced cost >= ``floor`` (the only ones a plan
    worth ``floor + bound`` can use), listed by the pricers, with the LP's support and
    the columns ``keep`` of ``generated`` (an incumbent). Returns the columns, the LP
    over them, the reduced cost down to which every exchange is listed (``+inf`` when
    there were too many: then only ``generated`` is kept, and only a plan meeting the
    bound can be proven optimal; also when the run's deadline passed while listing)
    and the new numbers of ``keep``."""
    pricer, chain_pricer, chains = priced.pricer, priced.chain_pricer, priced.chains
    arc_value, success = pricer.all_arc_values, pricer.success
    fixed = ExchangeColumns(priced.pool.chain_blocks, arc_value, success)
    n_fixed = len(fixed)
    old = _CyclePool(fixed, arc_value, success)
    old.add(generated.blocks[len(fixed.blocks) :])
    support = old.generated_with(lp.support)
    support_x = lp.x[old.generated_ids(support)]
    kept = old.generated_with(np.isin(np.arange(len(generated)), keep))
    pool = _CyclePool(fixed, arc_value, success)
    complete_down_to = math.inf
    duals = lp.duals[: priced.n_vertices]
    deadline = priced.run.deadline
    try:
        pool.add(
            pricer.cycles_at_least(
                duals[: pricer.n], floor, limit=PRICED_COLUMN_LIMIT, deadline=deadline
            )
        )
        if chain_pricer is not None:
            pool.add(
                chain_pricer.chains_at_least(
                    duals, floor, limit=PRICED_COLUMN_LIMIT, deadline=deadline
                )
            )
        complete_down_to = floor
    except (FormulationTooLarge, ListingOutOfTime) as exc:
        # Cycles listed before the chains overflowed (or the time ran out) stay: more
        # chances for a plan that meets the bound (the only kind then proven optimal).
        log.debug("not all exchanges within %g of the LP bound listed: %s", -floor, exc)
        pool.add(generated.blocks[len(fixed.blocks) :])
    pool.add(support)
    pool.add(kept)
    columns = pool.columns()
    x = np.zeros(len(columns))
    x[pool.generated_ids(support)] = support_x
    x[:n_fixed] = lp.x[:n_fixed]
    master = _Master.plain(columns, chains, priced.n_vertices)
    listed = replace(
        lp,
        rc=master.reduced_costs(lp.duals),
        x=x,
        support=x > _TOL,
        in_master=np.ones(len(columns), dtype=bool),
    )
    new_keep = np.concatenate([keep[keep < n_fixed], pool.generated_ids(kept)])
    return columns, listed, complete_down_to, np.sort(new_keep)


def _greedy_start(
    master: _Master,
    ids: IntArray,
    chain_ids: IntArray,
    lp_x: FloatArray,
    incumbent: IntArray,
    chain_incumbent: IntArray,
) -> FloatArray:
    """A feasible 0/1 start for a restricted MIP: the incumbent's chain arcs and
    exchanges, then vertex-disjoint exchanges taken greedily by LP value, objective and
    index."""
    used = np.zeros(master.n_rows, dtype=bool)
    start = np.zeros(len(ids) + len(chain_ids))
    if len(chain_incumbent):
        taken = np.flatnonzero(np.isin(chain_ids, chain_incumbent))
        start[len(ids) + taken] = 1.0
        rows = master.chains.matrix[:, chain_ids[taken]].tocoo().row
        used[rows[rows < master.n_vertices]] = True
    incidence = master.columns.matrix(ids, master.n_packing_rows)
    first = np.isin(ids, incumbent)
    # Beyond the incumbent, only columns that cannot break a side row (a hierarchy's
    # minimised level, say) are added, so a feasible incumbent stays feasible.
    addable = first | master.side.allows_any_addition()[ids]
    order = np.lexsort((ids, -master.columns.values[ids], -lp_x[ids], ~first))
    order = order[addable[order]]
    indptr, indices = incidence.indptr, incidence.indices
    for j in order.tolist():
        rows = indices[indptr[j] : indptr[j + 1]]
        if not used[rows].any():
            used[rows] = True
            start[j] = 1.0
    return start


def _positive_sum(rc: FloatArray) -> float:
    """For x in [0, 1] and sign-feasible duals, ``c x <= y b + sum(max(rc, 0))``: the
    bound when pricing was cut short."""
    return float(np.maximum(rc, 0).sum())


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
