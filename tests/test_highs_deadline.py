"""The HiGHS backend's deadline: HiGHS's own time limit plus its interrupt callbacks.

``HighsBackend.solve`` turns ``time_limit`` into a wall-clock deadline; the simplex,
interior-point and MIP interrupt callbacks stop the run once it has passed, and the
backend reports that stop (``kInterrupt``) as it reports HiGHS's own time limit. These
tests solve models HiGHS cannot finish in the time given (random set packings, made
here) and check the outcome and what comes back with it, never the wall time beyond a
generous sanity bound. ``_solve(model, options, deadline)`` with no ``time_limit`` in
the options stops through the callbacks alone, which isolates them from HiGHS's check.
"""

from __future__ import annotations

import time
from types import SimpleNamespace

import numpy as np
import pytest
import scipy.sparse as sp

from kidneyshare.matching.backends import highs
from kidneyshare.matching.backends.highs import HighsBackend
from kidneyshare.matching.linear import (
    BackendOptions,
    BackendOutcome,
    BackendSolution,
    LinearModel,
)

TOL = 1e-6
SANITY = 60.0  # seconds over the limit a run may take on a loaded machine


def _packing(n_rows: int, n_cols: int, *, seed: int, integer: bool = True) -> LinearModel:
    """Maximise a random whole-valued weight over columns that each use 4 random rows,
    every row at most once. At 1,500 x 8,000 the root LP alone takes HiGHS tens of
    seconds (dual simplex, 2-core machine); at 3,000 x 20,000 the LP takes minutes by
    simplex and several seconds by interior point."""
    rng = np.random.default_rng(seed)
    rows = rng.integers(0, n_rows, size=(n_cols, 4))
    a = sp.csc_matrix(
        (np.ones(rows.size), (rows.ravel(), np.repeat(np.arange(n_cols), 4))),
        shape=(n_rows, n_cols),
    )
    a.sum_duplicates()
    a.data[:] = 1.0
    return LinearModel(
        objective=rng.integers(1, 20, size=n_cols).astype(np.float64),
        col_lower=np.zeros(n_cols),
        col_upper=np.ones(n_cols),
        integer=np.full(n_cols, integer),
        rows=a,
        row_lower=np.full(n_rows, -np.inf),
        row_upper=np.ones(n_rows),
    )


@pytest.fixture(scope="module")
def hard_mip() -> LinearModel:
    return _packing(1_500, 8_000, seed=1)


@pytest.fixture(scope="module")
def long_lp() -> LinearModel:
    return _packing(3_000, 20_000, seed=1, integer=False)


def _greedy(model: LinearModel) -> np.ndarray:
    """A feasible packing: columns by falling weight, each if its rows are free."""
    a = model.rows.tocsc()
    used = np.zeros(model.n_rows, dtype=bool)
    x = np.zeros(model.n_cols)
    for j in np.argsort(-model.objective, kind="stable"):
        rows = a.indices[a.indptr[j] : a.indptr[j + 1]]
        if not used[rows].any():
            used[rows] = True
            x[j] = 1.0
    return x


def _check_mip_stop(model: LinearModel, sol: BackendSolution) -> None:
    """A stop short of proof: TIME_LIMIT, and whatever came back is a feasible 0/1 plan
    with its true value, under a bound at least as large."""
    assert sol.outcome is BackendOutcome.TIME_LIMIT, sol.native_status
    assert sol.row_duals is None
    if sol.x is not None:
        assert np.allclose(sol.x, np.round(sol.x), atol=1e-6)
        assert (model.rows @ sol.x <= model.row_upper + TOL).all()
        assert sol.objective is not None
        assert sol.objective == pytest.approx(float(model.objective @ sol.x))
        if sol.bound is not None:
            assert sol.bound >= sol.objective - TOL
    else:
        assert sol.objective is None


def test_the_installed_highspy_has_the_callbacks() -> None:
    import highspy

    h = highs._new_highs(highspy)
    assert highs._interrupt_at(h, highspy, time.perf_counter() + 60.0)


def test_a_highspy_without_callbacks_keeps_its_own_limit_alone() -> None:
    # Neither the callback types nor setCallback: the guard declines, the solve goes on.
    assert not highs._interrupt_at(SimpleNamespace(), SimpleNamespace(), 0.0)


def test_small_time_limit_on_a_hard_mip(hard_mip: LinearModel) -> None:
    started = time.perf_counter()
    sol = HighsBackend().solve(hard_mip, BackendOptions(time_limit=1.0, integral_objective=True))
    assert time.perf_counter() - started < 1.0 + SANITY
    assert sol.native_status in ("kTimeLimit", "kInterrupt")
    _check_mip_stop(hard_mip, sol)


def test_an_interrupt_is_reported_as_a_time_limit(hard_mip: LinearModel) -> None:
    # A deadline already past and no HiGHS time limit: only the callback can stop it,
    # at the MIP's first limit check.
    past = time.perf_counter() - 1.0
    sol = HighsBackend()._solve(hard_mip, BackendOptions(integral_objective=True), past)
    assert sol.native_status == "kInterrupt"
    _check_mip_stop(hard_mip, sol)


def test_an_interrupted_mip_keeps_its_start(hard_mip: LinearModel) -> None:
    start = _greedy(hard_mip)
    options = BackendOptions(initial=start, integral_objective=True)
    sol = HighsBackend()._solve(hard_mip, options, time.perf_counter() - 1.0)
    assert sol.native_status == "kInterrupt"
    _check_mip_stop(hard_mip, sol)
    assert sol.x is not None and sol.objective is not None
    assert sol.objective >= float(hard_mip.objective @ start) - TOL


def test_the_cold_resolve_shares_the_deadline(
    hard_mip: LinearModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    # HiGHS claiming another value than its returned plan's (its presolve quirk with a
    # start) makes the backend solve again without the start; that solve gets what is
    # left of the deadline (here nothing), and the plan in hand is kept, unproven.
    info_value = highs._info_value

    def claims_more(info: object, name: str) -> float | None:
        value = info_value(info, name)
        return value + 1.0 if name == "objective_function_value" and value else value

    monkeypatch.setattr(highs, "_info_value", claims_more)
    solve = HighsBackend._solve
    deadlines: list[float | None] = []

    def counted(
        self: HighsBackend, model: LinearModel, options: BackendOptions, deadline: float | None
    ) -> BackendSolution:
        deadlines.append(deadline)
        return solve(self, model, options, deadline)

    monkeypatch.setattr(HighsBackend, "_solve", counted)
    start = _greedy(hard_mip)
    options = BackendOptions(initial=start, integral_objective=True)
    past = time.perf_counter() - 1.0
    sol = HighsBackend()._solve(hard_mip, options, past)
    assert deadlines == [past, past]  # solved again, against the same deadline
    _check_mip_stop(hard_mip, sol)
    assert sol.x is not None  # the start, or what the cold solve found


@pytest.mark.parametrize("interior", [False, True], ids=["simplex", "ipm"])
def test_an_interrupted_lp_is_a_time_limit(long_lp: LinearModel, interior: bool) -> None:
    options = BackendOptions(relax=True, interior=interior)
    sol = HighsBackend()._solve(long_lp, options, time.perf_counter() - 1.0)
    assert sol.native_status == "kInterrupt"
    assert sol.outcome is BackendOutcome.TIME_LIMIT
    assert sol.bound is None and sol.row_duals is None  # an unfinished LP proves nothing


@pytest.mark.parametrize("interior", [False, True], ids=["simplex", "ipm"])
def test_the_callbacks_stop_an_lp_mid_run(long_lp: LinearModel, interior: bool) -> None:
    # The deadline passes while the LP runs, and HiGHS is not told of any limit: the
    # simplex (every iteration) or interior-point callback stops it.
    options = BackendOptions(relax=True, interior=interior)
    started = time.perf_counter()
    sol = HighsBackend()._solve(long_lp, options, started + 0.3)
    assert time.perf_counter() - started < 0.3 + SANITY
    assert sol.native_status == "kInterrupt"
    assert sol.outcome is BackendOutcome.TIME_LIMIT
    assert sol.bound is None and sol.row_duals is None


@pytest.mark.parametrize("interior", [False, True], ids=["simplex", "ipm"])
def test_small_time_limit_on_a_long_lp(long_lp: LinearModel, interior: bool) -> None:
    sol = HighsBackend().solve(
        long_lp, BackendOptions(time_limit=0.3, relax=True, interior=interior)
    )
    assert sol.native_status in ("kTimeLimit", "kInterrupt")
    assert sol.outcome is BackendOutcome.TIME_LIMIT
    assert sol.bound is None and sol.row_duals is None


def test_no_limit_no_callbacks(monkeypatch: pytest.MonkeyPatch) -> None:
    # Without a time limit the guard is not installed (no per-iteration cost).
    calls: list[float] = []

    def guard(h: object, highspy: object, deadline: float) -> bool:
        calls.append(deadline)
        return True

    monkeypatch.setattr(highs, "_interrupt_at", guard)
    model = _packing(20, 40, seed=2)
    assert HighsBackend().solve(model, BackendOptions()).outcome is BackendOutcome.OPTIMAL
    assert calls == []
    HighsBackend().solve(model, BackendOptions(time_limit=30.0))
    assert len(calls) == 1


def test_feasibility_jump_is_skipped_close_to_the_deadline(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A MIP too large for the time left runs without the feasibility-jump heuristic
    (which polls neither the time limit nor the callbacks); with time to spare it
    keeps it."""
    made: list[object] = []
    original = highs._new_highs

    def keep(highspy: object) -> object:
        made.append(original(highspy))
        return made[-1]

    monkeypatch.setattr(highs, "_new_highs", keep)
    # 600 nonzeros: 0.024 s of heuristic budget, above the 0.01 s shortest limit; small
    # enough to be solved at once when the heuristic may run.
    model = _packing(30, 150, seed=5)

    def jump(time_limit: float) -> bool:
        made.clear()
        HighsBackend().solve(model, BackendOptions(time_limit=time_limit))
        _, value = made[0].getOptionValue("mip_heuristic_run_feasibility_jump")  # type: ignore[attr-defined]
        return bool(value)

    assert jump(1e-3) is False
    assert jump(60.0) is True
