"""OR-Tools through MathOpt: CP-SAT for integer models, GLOP for LPs and their duals.

Why these engines. The matching master needs two things from a backend: 0/1 models
solved to proven optimality, and the row duals of their LP relaxation. OR-Tools offers
no single engine for both: CP-SAT (its strongest engine on pure 0/1 packing models, and
an algorithm unlike HiGHS's and SCIP's branch-and-cut, which makes it a useful
cross-check) returns no duals, and GLOP (primal/dual simplex) solves LPs only. So LPs
(``relax``, or models with no integer column) go to GLOP and integer models to CP-SAT.
A model with continuous columns, or with fractional row coefficients or bounds, goes to
the SCIP build that ships inside OR-Tools, since CP-SAT would have to scale it.

The model reaches OR-Tools as a MathOpt ``ModelProto`` filled from the numpy arrays in
bulk, never one variable at a time in Python.

Limits of this backend, stated where callers can read them:

- ``interior`` is not honoured: GLOP is a simplex code, so its duals are a vertex of the
  optimal dual face. They are as valid for bounds and reduced costs; only the master's
  reduced-cost restriction keeps more columns than with HiGHS's interior duals.
- ``node_limit`` is ignored by CP-SAT, which has no branch-and-bound nodes: such a solve
  runs to optimality (or the time limit) instead of stopping early.
- With ``threads > 1`` CP-SAT runs a portfolio of workers; ``interleave_search`` keeps
  that deterministic (the same answer whatever the timing), as the scheme needs.
- CP-SAT scales a fractional objective to integers; weights given to a few decimals (as
  in every format kidneyshare reads) are scaled exactly.

References
----------
Perron, L., Didier, F. (2024). CP-SAT. Google OR-Tools v9.x, https://developers.google.com/optimization
Applegate, D. et al. (2021). Practical large-scale linear programming using primal-dual
hybrid gradient. NeurIPS. (PDLP, the first-order LP code not used here: its duals are
only feasible to a tolerance)
"""

from __future__ import annotations

import datetime
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
    FloatArray,
    LinearModel,
)

__all__ = ["NATIVE_STATUS", "OrtoolsBackend"]

# Every MathOpt TerminationReason mapped to an outcome; a test checks none is missing.
# FEASIBLE and NO_SOLUTION_FOUND mean a limit (time, nodes, ...) stopped the solve.
NATIVE_STATUS: dict[str, BackendOutcome] = {
    "OPTIMAL": BackendOutcome.OPTIMAL,
    "INFEASIBLE": BackendOutcome.INFEASIBLE,
    "UNBOUNDED": BackendOutcome.UNBOUNDED,
    "INFEASIBLE_OR_UNBOUNDED": BackendOutcome.INFEASIBLE,
    "IMPRECISE": BackendOutcome.ERROR,
    "FEASIBLE": BackendOutcome.TIME_LIMIT,
    "NO_SOLUTION_FOUND": BackendOutcome.TIME_LIMIT,
    "NUMERICAL_ERROR": BackendOutcome.ERROR,
    "OTHER_ERROR": BackendOutcome.ERROR,
}


class OrtoolsBackend(Backend):
    name: ClassVar[str] = "ortools"
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {Capability.INTEGER, Capability.DUALS, Capability.TIME_LIMIT, Capability.WARM_START}
    )

    @classmethod
    def available(cls) -> bool:
        return has_library("ortools.math_opt.python.mathopt")

    def solve(self, model: LinearModel, options: BackendOptions) -> BackendSolution:
        mathopt = load_library("ortools.math_opt.python.mathopt", self.name)
        started = time.perf_counter()
        relax = options.relax or not model.integer.any()
        integer = np.zeros(model.n_cols, dtype=bool) if relax else model.integer
        if relax:
            solver_type = mathopt.SolverType.GLOP
        elif _fits_cp_sat(model):
            solver_type = mathopt.SolverType.CP_SAT
        else:
            solver_type = mathopt.SolverType.GSCIP
        math_model = mathopt.Model.from_model_proto(_model_proto(model, integer))
        params = _parameters(mathopt, solver_type, options, relax)
        model_params = None
        if options.initial is not None and not relax:
            values = np.asarray(options.initial, dtype=np.float64)
            hint = {math_model.get_variable(j): float(values[j]) for j in range(model.n_cols)}
            model_params = mathopt.ModelSolveParameters(
                solution_hints=[mathopt.SolutionHint(variable_values=hint)]
            )
        try:
            result = mathopt.solve(
                math_model, solver_type, params=params, model_params=model_params
            )
        except Exception as exc:  # OR-Tools raises bare Exception subclasses (StatusNotOk)
            cause = exc.__context__ or exc
            raise SolverError(f"OR-Tools ({solver_type.name}) failed: {cause}") from exc
        termination = result.termination
        native_name = termination.reason.name
        if termination.limit is not None:
            native_name += f"/{termination.limit.name}"
        outcome = NATIVE_STATUS.get(termination.reason.name, BackendOutcome.ERROR)
        proto = result.to_proto()
        x = None
        objective = None
        row_duals = None
        if proto.solutions and outcome in (BackendOutcome.OPTIMAL, BackendOutcome.TIME_LIMIT):
            solution = proto.solutions[0]
            if solution.HasField("primal_solution"):
                values_proto = solution.primal_solution.variable_values
                x = _dense(values_proto.ids, values_proto.values, model.n_cols)
                objective = float(model.objective @ x)
            if relax and solution.HasField("dual_solution"):
                # MathOpt's duals for a maximisation satisfy objective - A^T y <= 0 at the
                # optimum, as HiGHS's do (checked in tests/test_backends.py).
                duals = solution.dual_solution.dual_values
                row_duals = _dense(duals.ids, duals.values, model.n_rows)
        bound: float | None = None
        if relax:
            if outcome is BackendOutcome.OPTIMAL:
                bound = objective
        else:
            dual_bound = float(termination.objective_bounds.dual_bound)
            if np.isfinite(dual_bound):
                bound = dual_bound
            elif outcome is BackendOutcome.OPTIMAL:
                bound = objective
        return BackendSolution(
            outcome=outcome,
            x=x,
            objective=objective,
            bound=bound,
            row_duals=row_duals if outcome is BackendOutcome.OPTIMAL else None,
            native_status=f"{solver_type.name}:{native_name}",
            seconds=time.perf_counter() - started,
        )


def _fits_cp_sat(model: LinearModel) -> bool:
    """CP-SAT is exact on integer columns with whole row coefficients and bounds; other
    models it would have to scale, so they go to SCIP."""
    data = model.rows.data
    bounds = np.concatenate([model.row_lower, model.row_upper])
    bounds = bounds[np.isfinite(bounds)]
    return bool(
        model.integer.all()
        and np.array_equal(data, np.round(data))
        and np.array_equal(bounds, np.round(bounds))
    )


def _model_proto(model: LinearModel, integer: Any) -> Any:
    """A MathOpt ``ModelProto`` built from the arrays in bulk (ids are 0..n-1)."""
    from ortools.math_opt import model_pb2

    proto = model_pb2.ModelProto()
    variables = proto.variables
    variables.ids.extend(range(model.n_cols))
    variables.lower_bounds.extend(np.asarray(model.col_lower, dtype=np.float64).tolist())
    variables.upper_bounds.extend(np.asarray(model.col_upper, dtype=np.float64).tolist())
    variables.integers.extend(np.asarray(integer, dtype=bool).tolist())
    proto.objective.maximize = True
    nonzero = np.flatnonzero(model.objective)
    proto.objective.linear_coefficients.ids.extend(nonzero.tolist())
    proto.objective.linear_coefficients.values.extend(model.objective[nonzero].tolist())
    rows = proto.linear_constraints
    rows.ids.extend(range(model.n_rows))
    rows.lower_bounds.extend(np.asarray(model.row_lower, dtype=np.float64).tolist())
    rows.upper_bounds.extend(np.asarray(model.row_upper, dtype=np.float64).tolist())
    # MathOpt wants the matrix in row-major order without explicit zeros.
    matrix = model.rows.tocsr()
    matrix.eliminate_zeros()
    matrix.sort_indices()
    coo = matrix.tocoo()
    entries = proto.linear_constraint_matrix
    entries.row_ids.extend(coo.row.tolist())
    entries.column_ids.extend(coo.col.tolist())
    entries.coefficients.extend(coo.data.astype(np.float64).tolist())
    return proto


def _parameters(mathopt: Any, solver_type: Any, options: BackendOptions, relax: bool) -> Any:
    params = mathopt.SolveParameters(
        enable_output=False,
        random_seed=int(options.seed),
    )
    if options.time_limit is not None:
        params.time_limit = datetime.timedelta(seconds=max(float(options.time_limit), 0.01))
    if not options.presolve:
        params.presolve = mathopt.Emphasis.OFF
    if relax:
        return params  # GLOP: single-threaded, no gaps, no nodes
    params.relative_gap_tolerance = 0.0
    # Whole-valued objectives: a gap below 1 already proves optimality.
    params.absolute_gap_tolerance = options.absolute_gap
    params.threads = int(options.threads)
    if solver_type == mathopt.SolverType.CP_SAT:
        if options.threads > 1:
            from ortools.sat import sat_parameters_pb2

            params.cp_sat = sat_parameters_pb2.SatParameters(interleave_search=True)
    elif options.node_limit is not None:
        params.node_limit = int(options.node_limit)
    return params


def _dense(ids: Any, values: Any, size: int) -> FloatArray:
    dense = np.zeros(size, dtype=np.float64)
    index = np.asarray(ids, dtype=np.int64)
    if len(index):
        dense[index] = np.asarray(values, dtype=np.float64)
    return dense
