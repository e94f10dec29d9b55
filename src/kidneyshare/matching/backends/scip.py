"""SCIP through ``pyscipopt`` (an optional backend: ``pip install 'kidneyshare[scip]'``).

SCIP is a branch-cut-and-price framework with its own LP solver (SoPlex); it is an
independent check on HiGHS on the same models and is widely used for kidney exchange
in the literature.

Limits of this backend, stated where callers can read them:

- LPs (``relax``, or no integer column) go straight to SCIP's LP solver (SoPlex)
  through SCIP's LP interface, not through a SCIP model: the duals SCIP reconstructs
  after solving a model are unreliable even with presolve off (SCIP and PySCIPOpt
  maintainers say so; a 5-column packing LP here got dual-infeasible ones), while the
  LP interface returns the simplex's own. They are a vertex of the optimal dual face:
  ``interior`` is not honoured (SoPlex has no barrier). They are as valid for bounds
  and reduced costs; the master's reduced-cost restriction only keeps more columns.
- SCIP solves on one thread; ``threads`` is ignored.
- ``seed`` shifts every random seed SCIP uses (``randomization/randomseedshift``).

References
----------
Bolusani, S. et al. (2024). The SCIP Optimization Suite 9.0. Optimization Online.
https://scipopt.org
"""

from __future__ import annotations

import time
from typing import Any, ClassVar

import numpy as np

from kidneyshare.errors import SolverError
from kidneyshare.matching.backends.base import Backend, Capability
from kidneyshare.matching.backends.library import has_library, load_library
from kidneyshare.matching.linear import (
    BackendOptions,
    BackendOutcome,
    BackendSolution,
    LinearModel,
)

__all__ = ["NATIVE_STATUS", "ScipBackend"]

# Every status ``Model.getStatus()`` returns mapped to an outcome; a test checks none is
# missing. Every limit that stops the search early is reported as TIME_LIMIT, as HiGHS's.
NATIVE_STATUS: dict[str, BackendOutcome] = {
    "optimal": BackendOutcome.OPTIMAL,
    "infeasible": BackendOutcome.INFEASIBLE,
    "inforunbd": BackendOutcome.INFEASIBLE,
    "unbounded": BackendOutcome.UNBOUNDED,
    "timelimit": BackendOutcome.TIME_LIMIT,
    "nodelimit": BackendOutcome.TIME_LIMIT,
    "totalnodelimit": BackendOutcome.TIME_LIMIT,
    "stallnodelimit": BackendOutcome.TIME_LIMIT,
    "gaplimit": BackendOutcome.TIME_LIMIT,
    "sollimit": BackendOutcome.TIME_LIMIT,
    "bestsollimit": BackendOutcome.TIME_LIMIT,
    "restartlimit": BackendOutcome.TIME_LIMIT,
    "primallimit": BackendOutcome.TIME_LIMIT,
    "duallimit": BackendOutcome.TIME_LIMIT,
    "userinterrupt": BackendOutcome.TIME_LIMIT,
    "memlimit": BackendOutcome.ERROR,
    "unknown": BackendOutcome.ERROR,
    # LPs solved through the LP interface (see the module docstring).
    "lp-optimal": BackendOutcome.OPTIMAL,
    "lp-infeasible": BackendOutcome.INFEASIBLE,
    "lp-unbounded": BackendOutcome.UNBOUNDED,
    "lp-time-limit": BackendOutcome.TIME_LIMIT,
    "lp-unsolved": BackendOutcome.ERROR,
}


class ScipBackend(Backend):
    name: ClassVar[str] = "scip"
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {Capability.INTEGER, Capability.DUALS, Capability.TIME_LIMIT, Capability.WARM_START}
    )

    @classmethod
    def available(cls) -> bool:
        return has_library("pyscipopt")

    def solve(self, model: LinearModel, options: BackendOptions) -> BackendSolution:
        pyscipopt = load_library("pyscipopt", self.name)
        started = time.perf_counter()
        if options.relax or not model.integer.any():
            return _solve_lp(pyscipopt, model, options, started)
        scip = pyscipopt.Model()
        scip.hideOutput()
        _set_limits(scip, pyscipopt, options)
        variables = _add_columns(scip, model)
        _add_rows(scip, pyscipopt, model, variables)
        if options.initial is not None:
            start = scip.createSol()
            for var, value in zip(variables, np.asarray(options.initial).tolist(), strict=True):
                scip.setSolVal(start, var, float(value))
            scip.addSol(start)  # SCIP checks it and keeps it only if feasible
        try:
            scip.optimize()
        except Exception as exc:  # pyscipopt raises plain Exception for SCIP error codes
            raise SolverError(f"SCIP failed: {exc}") from exc
        native_name = str(scip.getStatus())
        outcome = NATIVE_STATUS.get(native_name, BackendOutcome.ERROR)
        x = None
        objective = None
        if scip.getNSols() > 0 and outcome in (BackendOutcome.OPTIMAL, BackendOutcome.TIME_LIMIT):
            best = scip.getBestSol()
            x = np.fromiter(
                (scip.getSolVal(best, var) for var in variables),
                dtype=np.float64,
                count=model.n_cols,
            )
            objective = float(model.objective @ x)
        bound: float | None = None
        dual_bound = float(scip.getDualbound())
        if abs(dual_bound) < scip.infinity():
            bound = dual_bound
        elif outcome is BackendOutcome.OPTIMAL:
            bound = objective
        return BackendSolution(
            outcome=outcome,
            x=x,
            objective=objective,
            bound=bound,
            native_status=native_name,
            seconds=time.perf_counter() - started,
            details={"nodes": float(scip.getNNodes())},
        )


def _solve_lp(
    pyscipopt: Any, model: LinearModel, options: BackendOptions, started: float
) -> BackendSolution:
    """The LP relaxation through SCIP's LP interface (SoPlex), with its own duals."""
    lp = pyscipopt.LP(name="kidneyshare", sense="maximize")
    infinity = lp.infinity()
    if options.time_limit is not None:
        lp.setRealParam(pyscipopt.SCIP_LPPARAM.LPTILIM, max(float(options.time_limit), 0.01))
    lp.setIntParam(pyscipopt.SCIP_LPPARAM.RANDOMSEED, int(options.seed))
    if not options.presolve:
        lp.setIntParam(pyscipopt.SCIP_LPPARAM.PRESOLVING, 0)
    lp.addCols(
        [[] for _ in range(model.n_cols)],
        objs=np.asarray(model.objective, dtype=np.float64).tolist(),
        lbs=np.clip(model.col_lower, -infinity, infinity).tolist(),
        ubs=np.clip(model.col_upper, -infinity, infinity).tolist(),
    )
    if model.n_rows:
        matrix = model.rows.tocsr()
        indptr, indices = matrix.indptr, matrix.indices.tolist()
        data = matrix.data.astype(np.float64).tolist()
        lp.addRows(
            [
                list(
                    zip(
                        indices[indptr[i] : indptr[i + 1]],
                        data[indptr[i] : indptr[i + 1]],
                        strict=True,
                    )
                )
                for i in range(model.n_rows)
            ],
            lhss=np.clip(model.row_lower, -infinity, infinity).tolist(),
            rhss=np.clip(model.row_upper, -infinity, infinity).tolist(),
        )
    try:
        lp.solve()
    except Exception as exc:  # pyscipopt raises plain Exception for SCIP error codes
        raise SolverError(f"SCIP's LP solver failed: {exc}") from exc
    seconds = time.perf_counter() - started
    if lp.isOptimal():
        x = np.asarray(lp.getPrimal(), dtype=np.float64)
        objective = float(model.objective @ x)
        return BackendSolution(
            outcome=BackendOutcome.OPTIMAL,
            x=x,
            objective=objective,
            bound=objective,
            # With the sense set to maximise, SoPlex's duals satisfy objective - A^T y
            # <= 0 at the optimum, as HiGHS's do (checked in tests/test_backends.py).
            row_duals=np.asarray(lp.getDual(), dtype=np.float64),
            native_status="lp-optimal",
            seconds=seconds,
        )
    if lp.getDualRay() is not None:  # a Farkas proof of infeasibility
        native = "lp-infeasible"
    elif lp.getPrimalRay() is not None:
        native = "lp-unbounded"
    elif options.time_limit is not None and seconds >= options.time_limit:
        native = "lp-time-limit"
    else:
        native = "lp-unsolved"
    return BackendSolution(
        outcome=NATIVE_STATUS[native],
        x=None,
        objective=None,
        bound=None,
        native_status=native,
        seconds=seconds,
    )


def _set_limits(scip: Any, pyscipopt: Any, options: BackendOptions) -> None:
    scip.setIntParam("randomization/randomseedshift", int(options.seed))
    if options.time_limit is not None:
        scip.setRealParam("limits/time", max(float(options.time_limit), 0.01))
    if not options.presolve:
        scip.setPresolve(pyscipopt.SCIP_PARAMSETTING.OFF)
    if options.node_limit is not None:
        scip.setLongintParam("limits/nodes", int(options.node_limit))
    # SCIP stops at a 0.01% relative gap by default; optimality must be exact.
    scip.setRealParam("limits/gap", 0.0)
    scip.setRealParam("limits/absgap", options.absolute_gap)


def _add_columns(scip: Any, model: LinearModel) -> list[Any]:
    infinity = scip.infinity()
    lower = np.clip(model.col_lower, -infinity, infinity).tolist()
    upper = np.clip(model.col_upper, -infinity, infinity).tolist()
    vtype = np.where(model.integer, "I", "C").tolist()
    objective = np.asarray(model.objective, dtype=np.float64).tolist()
    variables = [
        scip.addVar(name=f"x{j}", vtype=vtype[j], lb=lower[j], ub=upper[j], obj=objective[j])
        for j in range(model.n_cols)
    ]
    scip.setMaximize()
    return variables


def _add_rows(scip: Any, pyscipopt: Any, model: LinearModel, variables: list[Any]) -> None:
    """One linear constraint per row, filled from the row-major matrix."""
    infinity = scip.infinity()
    matrix = model.rows.tocsr()
    indptr, indices, data = matrix.indptr, matrix.indices, matrix.data.astype(np.float64)
    lower = np.clip(model.row_lower, -infinity, infinity).tolist()
    upper = np.clip(model.row_upper, -infinity, infinity).tolist()
    for i in range(model.n_rows):
        span = slice(indptr[i], indptr[i + 1])
        expr = pyscipopt.quicksum(
            coef * variables[j]
            for j, coef in zip(indices[span].tolist(), data[span].tolist(), strict=True)
        )
        scip.addCons(pyscipopt.ExprCons(expr, lhs=lower[i], rhs=upper[i]), name=f"r{i}")
