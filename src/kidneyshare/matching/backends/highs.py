"""HiGHS through ``highspy``'s own API (the default backend, always installed).

A time limit is a deadline on the wall clock (``time.perf_counter``) from the moment
``solve`` is called: HiGHS's own ``time_limit`` is set to the time left just before the
run (building and passing the model count, and so does a second, cold solve), and
HiGHS's simplex, interior-point and MIP interrupt callbacks (``setCallback`` and
``startCallback`` on the core ``_Highs``) set ``user_interrupt`` once the clock has
passed it. HiGHS then stops with ``kInterrupt``, reported like its own time limit
(``TIME_LIMIT`` with the best solution and bound found). HiGHS calls them only where it
polls: each simplex iteration, many times per interior-point iteration, and in a MIP at
the points where it checks its own limit (not inside the MIP's node LPs, which get the
time left as their limit). A phase that polls neither still overruns: in HiGHS 1.16 the
feasibility-jump heuristic ran 29 s of a 3 s limit on a 20,000-row, 300,000-column
packing MIP, so it is switched off for a MIP whose time left is short for its size
(``_JUMP_SECONDS_PER_NONZERO``). Without a time limit no callback is set; a highspy
without the callback API (older releases) keeps HiGHS's own limit alone.

References
----------
Huangfu, Q., Hall, J. A. J. (2018). Parallelizing the dual revised simplex method.
Mathematical Programming Computation 10, 119-142. https://highs.dev
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from typing import Any, ClassVar

import numpy as np

from kidneyshare.errors import SolverError
from kidneyshare.matching.backends.base import Backend, Capability
from kidneyshare.matching.linear import (
    BackendOptions,
    BackendOutcome,
    BackendSolution,
    LinearModel,
)

log = logging.getLogger(__name__)

__all__ = ["NATIVE_STATUS", "HighsBackend"]

# Every HighsModelStatus name mapped to an outcome; a test checks none is missing.
NATIVE_STATUS: dict[str, BackendOutcome] = {
    "kNotset": BackendOutcome.ERROR,
    "kLoadError": BackendOutcome.ERROR,
    "kModelError": BackendOutcome.ERROR,
    "kPresolveError": BackendOutcome.ERROR,
    "kSolveError": BackendOutcome.ERROR,
    "kPostsolveError": BackendOutcome.ERROR,
    "kModelEmpty": BackendOutcome.OPTIMAL,
    "kOptimal": BackendOutcome.OPTIMAL,
    "kInfeasible": BackendOutcome.INFEASIBLE,
    "kUnboundedOrInfeasible": BackendOutcome.INFEASIBLE,
    "kUnbounded": BackendOutcome.UNBOUNDED,
    "kObjectiveBound": BackendOutcome.TIME_LIMIT,
    "kObjectiveTarget": BackendOutcome.TIME_LIMIT,
    "kTimeLimit": BackendOutcome.TIME_LIMIT,
    "kIterationLimit": BackendOutcome.TIME_LIMIT,
    "kUnknown": BackendOutcome.ERROR,
    "kSolutionLimit": BackendOutcome.TIME_LIMIT,
    "kInterrupt": BackendOutcome.TIME_LIMIT,
    "kMemoryLimit": BackendOutcome.ERROR,
    "kHighsInterrupt": BackendOutcome.TIME_LIMIT,
}

_IPM_FROM = 20_000
_MIN_LIMIT = 0.01
# Feasibility jump's run time per constraint nonzero, with a margin: on a 300,000-column
# packing MIP with 900,000 nonzeros it ran 8 s (28.7 s on a heavily loaded machine, about
# 3.2e-5 s each), so it is skipped when less than 4e-5 s per nonzero is left.
_JUMP_SECONDS_PER_NONZERO = 4e-5
_COLWISE = 1
_MAXIMIZE = -1


class HighsBackend(Backend):
    name: ClassVar[str] = "highs"
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {Capability.INTEGER, Capability.DUALS, Capability.TIME_LIMIT, Capability.WARM_START}
    )

    @classmethod
    def available(cls) -> bool:
        try:
            import highspy  # noqa: F401
        except ImportError:
            return False
        return True

    def solve(self, model: LinearModel, options: BackendOptions) -> BackendSolution:
        deadline = None
        if options.time_limit is not None:
            deadline = time.perf_counter() + max(float(options.time_limit), _MIN_LIMIT)
        return self._solve(model, options, deadline)

    def _solve(
        self, model: LinearModel, options: BackendOptions, deadline: float | None
    ) -> BackendSolution:
        """``solve`` stopping at ``deadline`` (a ``time.perf_counter()`` value) through
        the interrupt callbacks, and through HiGHS's own limit when ``options`` has one."""
        try:
            import highspy
        except ImportError as exc:  # pragma: no cover - highspy is a hard dependency
            raise SolverError("the HiGHS backend needs highspy: pip install highspy") from exc
        started = time.perf_counter()
        h = _new_highs(highspy)
        h.setOptionValue("output_flag", False)
        h.setOptionValue("random_seed", int(options.seed))
        _use_threads(highspy, int(options.threads))
        h.setOptionValue("threads", int(options.threads))
        if options.node_limit is not None:
            h.setOptionValue("mip_max_nodes", int(options.node_limit))
        if not options.presolve:
            h.setOptionValue("presolve", "off")
        relax = options.relax or not model.integer.any()
        if relax and (options.interior or model.n_cols > _IPM_FROM):
            # Exchange LPs are highly degenerate; interior point is several times faster
            # than simplex on large ones. Without crossover its duals stay interior.
            h.setOptionValue("solver", "ipm")
            if options.interior:
                h.setOptionValue("run_crossover", "off")
        if not relax:
            h.setOptionValue("mip_rel_gap", 0.0)
            h.setOptionValue("mip_abs_gap", options.absolute_gap)
        a = model.rows.tocsc()
        a.sort_indices()
        integrality = (
            np.zeros(model.n_cols, dtype=np.int32) if relax else model.integer.astype(np.int32)
        )
        status = h.passModel(
            model.n_cols,
            model.n_rows,
            int(a.nnz),
            _COLWISE,
            _MAXIMIZE,
            0.0,
            np.ascontiguousarray(model.objective, dtype=np.float64),
            np.ascontiguousarray(model.col_lower, dtype=np.float64),
            np.ascontiguousarray(model.col_upper, dtype=np.float64),
            np.ascontiguousarray(model.row_lower, dtype=np.float64),
            np.ascontiguousarray(model.row_upper, dtype=np.float64),
            a.indptr.astype(np.int32),
            a.indices.astype(np.int32),
            a.data.astype(np.float64),
            integrality,
        )
        if status == highspy.HighsStatus.kError:
            raise SolverError("HiGHS rejected the model")
        if options.initial is not None and not relax:
            idx = np.arange(model.n_cols, dtype=np.int32)
            h.setSolution(model.n_cols, idx, np.asarray(options.initial, dtype=np.float64))
        if deadline is not None:
            left = deadline - time.perf_counter()
            if options.time_limit is not None:
                h.setOptionValue("time_limit", max(left, _MIN_LIMIT))
            if not relax and left < a.nnz * _JUMP_SECONDS_PER_NONZERO:
                # The feasibility-jump heuristic polls neither the time limit nor the
                # callbacks; too close to the deadline it would overrun it.
                h.setOptionValue("mip_heuristic_run_feasibility_jump", False)
            _interrupt_at(h, highspy, deadline)
        h.run()
        native = h.getModelStatus()
        native_name = native.name if hasattr(native, "name") else str(native).split(".")[-1]
        outcome = NATIVE_STATUS.get(native_name, BackendOutcome.ERROR)
        info = h.getInfo()
        sol = h.getSolution()
        x = None
        objective = None
        if sol.value_valid and outcome in (BackendOutcome.OPTIMAL, BackendOutcome.TIME_LIMIT):
            x = np.asarray(sol.col_value, dtype=np.float64)
            objective = float(model.objective @ x)
            claimed = _info_value(info, "objective_function_value")
            if (
                options.initial is not None
                and not relax
                and claimed is not None
                and abs(claimed - objective) > 1e-6 * max(1.0, abs(claimed))
            ):
                # HiGHS 1.16 can solve a MIP in presolve, report the optimum's value and
                # hand back the starting solution as its solution. Solve again cold.
                log.debug("HiGHS returned its start (%s) for an optimum of %s", objective, claimed)
                cold = self._solve(model, replace(options, initial=None), deadline)
                if cold.x is not None:
                    return cold
                # Out of time before the cold solve found a plan: the start, unproven.
                outcome = BackendOutcome.TIME_LIMIT
        bound: float | None = None
        row_duals = None
        if relax:
            if outcome is BackendOutcome.OPTIMAL:
                bound = objective
                if sol.dual_valid or options.interior:
                    # For a maximisation HiGHS gives the duals y with objective - A^T y
                    # <= 0 at the optimum (checked in tests/test_backends.py).
                    row_duals = np.asarray(sol.row_dual, dtype=np.float64)
        else:
            raw_bound = _info_value(info, "mip_dual_bound")
            if raw_bound is not None and np.isfinite(raw_bound):
                bound = raw_bound
            elif outcome is BackendOutcome.OPTIMAL:
                bound = objective
        return BackendSolution(
            outcome=outcome,
            x=x,
            objective=objective,
            bound=bound,
            row_duals=row_duals,
            native_status=native_name,
            seconds=time.perf_counter() - started,
        )


_scheduler_threads: list[int] = []


def _use_threads(highspy: Any, threads: int) -> None:
    """HiGHS sizes one process-wide task scheduler at its first solve; a later solve
    asking for another thread count fails unless the scheduler is reset first."""
    if _scheduler_threads and _scheduler_threads[0] != threads:
        highspy.Highs.resetGlobalScheduler(True)
    _scheduler_threads[:] = [threads]


def _new_highs(highspy: Any) -> Any:
    """A solver object that prints nothing.

    ``highspy.Highs`` (the callback-enabled wrapper) prints a banner on stdout when the
    first one is made, which would corrupt ``solve --json``; the core class underneath
    has the same API without it.
    """
    core = getattr(getattr(highspy, "_core", None), "_Highs", None)
    return core() if core is not None else highspy.Highs()


_INTERRUPTS = ("kCallbackSimplexInterrupt", "kCallbackIpmInterrupt", "kCallbackMipInterrupt")
_no_callbacks_logged: list[bool] = []


def _interrupt_at(h: Any, highspy: Any, deadline: float) -> bool:
    """Make ``h``'s interrupt callbacks stop its run once ``time.perf_counter()`` passes
    ``deadline``; False (HiGHS's own time limit alone) when this highspy has no
    callback API.

    HiGHS calls the callback from the thread that runs the solve (``run`` releases the
    GIL, so the call takes it back); it does nothing but read the clock, as it runs every
    simplex iteration.
    """
    kinds = getattr(getattr(highspy, "cb", None), "HighsCallbackType", None)
    if kinds is None or not hasattr(h, "setCallback") or not hasattr(h, "startCallback"):
        if not _no_callbacks_logged:
            _no_callbacks_logged.append(True)
            log.warning("highspy has no callbacks: the time limit is HiGHS's own alone")
        return False
    clock = time.perf_counter

    def interrupt(kind: int, message: str, data_out: Any, data_in: Any, user: Any) -> None:
        if clock() >= deadline and data_in is not None:
            data_in.user_interrupt = True

    h.setCallback(interrupt, None)
    for name in _INTERRUPTS:
        h.startCallback(getattr(kinds, name))
    return True


def _info_value(info: Any, name: str) -> float | None:
    value = getattr(info, name, None)
    return None if value is None else float(value)
