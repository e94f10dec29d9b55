"""Solver backends: each on tiny hand-made models, then all of them through ``solve()``.

Unit tier (every installed backend, on :class:`LinearModel` s small enough to check by
hand): optimal, infeasible and time-limited statuses, the LP duals' sign convention and
strong duality, integrality and its relaxation, mixed models, warm starts, and that
every native status is mapped.

Property tier (the matrix): every installed backend solves the same pools (Hypothesis
pools against the brute-force oracle, seeded pools at every K in 2..4 and L in 0..3,
Saidman pools against HiGHS) with both objectives and every formulation (cycle, picef,
priced), and must find the same optimum with a verified result.

A backend whose library is missing is skipped with the reason, unless the environment
variable ``KIDNEYSHARE_REQUIRE_BACKENDS`` is ``1`` (every registered backend) or a comma
list of names, as ``.ci/run`` sets it: then a missing backend fails.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from dataclasses import replace

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kidneyshare.errors import ConfigError, SolverError
from kidneyshare.generators import generate_saidman
from kidneyshare.matching import Objective, SolverConfig
from kidneyshare.matching.backends import BACKENDS, Backend, Capability, get_backend
from kidneyshare.matching.linear import BackendOptions, BackendOutcome, LinearModel
from kidneyshare.model import Instance
from oracle import oracle_optimum
from strategies import describe, instances, random_instance
from test_matching_oracle import solved

TOL = 1e-6
OBJECTIVES = (Objective.MAX_TRANSPLANTS, Objective.MAX_WEIGHT)
FORMULATIONS = ("cycle", "picef", "priced")
ORACLE_NAME = {Objective.MAX_TRANSPLANTS: "transplants", Objective.MAX_WEIGHT: "weight"}
INSTALL_HINT = {"ortools": "kidneyshare[ortools]", "scip": "kidneyshare[scip]"}


def _required() -> set[str]:
    wanted = os.environ.get("KIDNEYSHARE_REQUIRE_BACKENDS", "").strip()
    if wanted == "1":
        return set(BACKENDS)
    return {name.strip() for name in wanted.split(",") if name.strip()}


def _backend_params(names: list[str]) -> list[object]:
    params: list[object] = []
    for name in names:
        if BACKENDS[name].available() or name in _required():
            params.append(pytest.param(name, id=name))
        else:
            hint = INSTALL_HINT.get(name, name)
            reason = f"backend {name!r} not installed (pip install '{hint}')"
            params.append(pytest.param(name, id=name, marks=pytest.mark.skip(reason=reason)))
    return params


ALL_BACKENDS = _backend_params(sorted(BACKENDS))
# The default is the reference; the matrix compares every other backend with it.
OTHER_BACKENDS = _backend_params(sorted(set(BACKENDS) - {"highs"}))

PROPERTY = settings(
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def test_required_backends_are_installed() -> None:
    missing = sorted(name for name in _required() if not BACKENDS[name].available())
    assert not missing, f"KIDNEYSHARE_REQUIRE_BACKENDS asks for missing backends: {missing}"


# -- the registry ----------------------------------------------------------------------


def test_registry_names_and_capabilities() -> None:
    assert {"highs", "ortools", "scip"} <= set(BACKENDS)
    for name, cls in BACKENDS.items():
        assert cls.name == name
        # solve() needs both; a backend without them would be refused before solving.
        assert {Capability.INTEGER, Capability.DUALS} <= cls.capabilities, name
    assert BACKENDS["highs"].available()


def test_unknown_backend_lists_the_known_ones() -> None:
    with pytest.raises(ConfigError, match="expected one of highs, ortools, scip"):
        get_backend("gurobi-typo")


@pytest.mark.parametrize(("name", "library"), [("ortools", "ortools"), ("scip", "pyscipopt")])
def test_missing_library_makes_backend_unavailable(
    name: str, library: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A None entry in sys.modules makes ``import library`` raise ImportError.
    for module in [m for m in sys.modules if m == library or m.startswith(library + ".")]:
        monkeypatch.delitem(sys.modules, module)
    monkeypatch.setitem(sys.modules, library, None)
    assert not BACKENDS[name].available()
    with pytest.raises(
        SolverError, match=rf"not installed here: pip install 'kidneyshare\[{name}\]'"
    ):
        get_backend(name)
    with pytest.raises(SolverError, match="needs"):
        BACKENDS[name]().solve(_triangle(), BackendOptions())


def test_package_imports_and_solves_without_optional_solvers() -> None:
    # A fresh interpreter in which the optional libraries cannot be imported at all.
    script = textwrap.dedent(
        """
        import sys
        sys.modules["ortools"] = None
        sys.modules["pyscipopt"] = None
        import kidneyshare.matching as matching
        from kidneyshare.matching.backends import BACKENDS
        from kidneyshare.model import Arc, Donor, DonorId, Instance, Patient, PatientId
        assert not BACKENDS["ortools"].available() and not BACKENDS["scip"].available()
        pool = Instance(
            [Patient(PatientId("p1")), Patient(PatientId("p2"))],
            [Donor(DonorId("d1"), PatientId("p1")), Donor(DonorId("d2"), PatientId("p2"))],
            [Arc(DonorId("d1"), PatientId("p2"), 1.0), Arc(DonorId("d2"), PatientId("p1"), 1.0)],
        )
        print(matching.solve(pool).transplants)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "2"


# -- native statuses -------------------------------------------------------------------


def test_every_highs_status_is_mapped() -> None:
    import highspy

    from kidneyshare.matching.backends import highs

    names = set(highspy.HighsModelStatus.__members__)
    assert names <= set(highs.NATIVE_STATUS), names - set(highs.NATIVE_STATUS)


def test_every_ortools_status_is_mapped() -> None:
    mathopt = pytest.importorskip("ortools.math_opt.python.mathopt")
    from kidneyshare.matching.backends import ortools

    names = {reason.name for reason in mathopt.TerminationReason}
    assert names == set(ortools.NATIVE_STATUS)


def test_every_scip_status_is_mapped() -> None:
    pyscipopt = pytest.importorskip("pyscipopt")
    from kidneyshare.matching.backends import scip

    names = {name.lower() for name in dir(pyscipopt.SCIP_STATUS) if name.isupper()}
    assert names <= set(scip.NATIVE_STATUS), names - set(scip.NATIVE_STATUS)


# -- tiny hand-made models ---------------------------------------------------------------


def _model(
    objective: list[float],
    rows: list[list[float]],
    row_lower: list[float],
    row_upper: list[float],
    *,
    col_upper: float | list[float] = 1.0,
    integer: bool | list[bool] = True,
) -> LinearModel:
    n = len(objective)
    return LinearModel(
        objective=np.asarray(objective, dtype=np.float64),
        col_lower=np.zeros(n),
        col_upper=np.broadcast_to(np.asarray(col_upper, dtype=np.float64), (n,)).copy(),
        integer=np.broadcast_to(np.asarray(integer, dtype=bool), (n,)).copy(),
        rows=sp.csc_matrix(np.asarray(rows, dtype=np.float64).reshape(len(row_lower), n)),
        row_lower=np.asarray(row_lower, dtype=np.float64),
        row_upper=np.asarray(row_upper, dtype=np.float64),
    )


def _triangle() -> LinearModel:
    """Three pairs, each pair of them a 2-cycle worth 1: the LP takes half of each (1.5),
    an integer solution only one cycle (1)."""
    return _model(
        [1.0, 1.0, 1.0],
        [[1, 1, 0], [1, 0, 1], [0, 1, 1]],
        [-np.inf] * 3,
        [1.0] * 3,
    )


def _packing(objective: list[float], col_upper: float = 1.0) -> LinearModel:
    """Five exchanges over four vertices (each vertex at most once)."""
    return _model(
        objective,
        [[1, 0, 1, 1, 0], [1, 1, 0, 0, 1], [0, 1, 1, 1, 0], [0, 0, 0, 1, 1]],
        [-np.inf] * 4,
        [1.0] * 4,
        col_upper=col_upper,
    )


def _market_split(seed: int = 3) -> tuple[LinearModel, np.ndarray]:
    """A market-split model (Cornuéjols & Dawande 1999): 4 equality rows over 30 binary
    columns with a planted solution. Finding any solution, let alone proving one optimal,
    defeats branch-and-bound for far longer than the limits used here."""
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 100, size=(4, 30)).astype(np.float64)
    planted = (rng.random(30) < 0.5).astype(np.float64)
    b = a @ planted
    objective = rng.integers(1, 10, size=30).astype(np.float64)
    model = LinearModel(
        objective, np.zeros(30), np.ones(30), np.ones(30, dtype=bool), sp.csc_matrix(a), b, b
    )
    return model, planted


@pytest.mark.parametrize("name", ALL_BACKENDS)
def test_mip_optimal_is_integral_and_proven(name: str) -> None:
    sol = get_backend(name).solve(_triangle(), BackendOptions(integral_objective=True))
    assert sol.outcome is BackendOutcome.OPTIMAL, sol.native_status
    assert sol.x is not None and sol.objective == pytest.approx(1.0)
    assert np.allclose(sol.x, np.round(sol.x)) and sol.x.round().sum() == 1
    assert sol.bound is not None and 1.0 - TOL <= sol.bound < 2.0


@pytest.mark.parametrize("name", ALL_BACKENDS)
def test_relaxation_is_fractional(name: str) -> None:
    sol = get_backend(name).solve(_triangle(), BackendOptions(relax=True))
    assert sol.outcome is BackendOutcome.OPTIMAL, sol.native_status
    assert sol.x is not None and np.allclose(sol.x, 0.5)
    assert sol.objective == pytest.approx(1.5) and sol.bound == pytest.approx(1.5)


@pytest.mark.parametrize("name", ALL_BACKENDS)
def test_lp_duals_follow_the_convention(name: str) -> None:
    # max 2 x1 + x2  s.t.  x1 + x2 <= 4,  x2 - x1 >= 0: optimum x = (2, 2), value 6, and
    # the unique duals y = (1.5, -0.5): objective - A^T y = 0, y >= 0 on the <= row and
    # y <= 0 on the >= row.
    model = _model([2.0, 1.0], [[1, 1], [-1, 1]], [-np.inf, 0.0], [4.0, np.inf], col_upper=np.inf)
    backend = get_backend(name)
    assert Capability.DUALS in backend.capabilities
    sol = backend.solve(model, BackendOptions(relax=True, interior=True))
    assert sol.outcome is BackendOutcome.OPTIMAL, sol.native_status
    assert sol.x is not None and np.allclose(sol.x, [2.0, 2.0], atol=1e-6)
    assert sol.row_duals is not None
    assert np.allclose(sol.row_duals, [1.5, -0.5], atol=1e-6)
    reduced = model.objective - model.rows.T @ sol.row_duals
    assert np.all(reduced <= TOL)
    active = np.where(sol.row_duals > 0, model.row_upper, model.row_lower)
    used = np.abs(sol.row_duals) > TOL
    assert float(sol.row_duals[used] @ active[used]) == pytest.approx(6.0)


@pytest.mark.parametrize("name", ALL_BACKENDS)
def test_degenerate_lp_duals_are_dual_feasible(name: str) -> None:
    # A packing LP with many optimal duals: whichever the solver returns must be
    # sign-feasible and prove the LP value (weak duality with equality).
    model = _packing([1.0, 1.0, 1.0, 2.0, 1.5], col_upper=np.inf)
    sol = get_backend(name).solve(model, BackendOptions(relax=True))
    assert sol.outcome is BackendOutcome.OPTIMAL and sol.row_duals is not None
    assert np.all(sol.row_duals >= -TOL)
    assert np.all(model.objective - model.rows.T @ sol.row_duals <= TOL)
    assert float(sol.row_duals.sum()) == pytest.approx(sol.objective)


@pytest.mark.parametrize("name", ALL_BACKENDS)
@pytest.mark.parametrize("relax", [False, True])
def test_infeasible(name: str, relax: bool) -> None:
    model = _model([1.0, 1.0], [[1, 1]], [3.0], [np.inf])  # two columns <= 1 cannot reach 3
    sol = get_backend(name).solve(model, BackendOptions(relax=relax))
    assert sol.outcome is BackendOutcome.INFEASIBLE, sol.native_status
    assert sol.x is None and sol.objective is None and sol.row_duals is None


@pytest.mark.parametrize("name", ALL_BACKENDS)
def test_mixed_integer_model(name: str) -> None:
    # max 2x + y, x integer, y continuous, 2x + 2y <= 5: x = 2, y = 0.5 (LP: x = 2.5).
    model = _model([2.0, 1.0], [[2, 2]], [-np.inf], [5.0], col_upper=10.0, integer=[True, False])
    sol = get_backend(name).solve(model, BackendOptions())
    assert sol.outcome is BackendOutcome.OPTIMAL, sol.native_status
    assert sol.x is not None and np.allclose(sol.x, [2.0, 0.5], atol=1e-6)
    assert sol.objective == pytest.approx(4.5)
    relaxed = get_backend(name).solve(model, BackendOptions(relax=True))
    assert relaxed.objective == pytest.approx(5.0)


@pytest.mark.parametrize("name", ALL_BACKENDS)
def test_fractional_row_coefficients(name: str) -> None:
    # 0.5 x1 + 0.3 x2 + 0.25 x3 <= 0.6 over binaries: only x2 and x3 fit together.
    model = _model([1.0, 1.0, 1.0], [[0.5, 0.3, 0.25]], [-np.inf], [0.6])
    sol = get_backend(name).solve(model, BackendOptions(integral_objective=True))
    assert sol.outcome is BackendOutcome.OPTIMAL, sol.native_status
    assert sol.x is not None and np.allclose(sol.x, [0.0, 1.0, 1.0], atol=1e-6)


@pytest.mark.parametrize("name", ALL_BACKENDS)
def test_time_limit_without_proof(name: str) -> None:
    model, _ = _market_split()
    backend = get_backend(name)
    assert Capability.TIME_LIMIT in backend.capabilities
    sol = backend.solve(model, BackendOptions(time_limit=0.3, integral_objective=True))
    assert sol.outcome is BackendOutcome.TIME_LIMIT, sol.native_status
    if sol.x is not None:  # whatever was found must be feasible
        assert np.allclose(model.rows @ sol.x, model.row_upper)


@pytest.mark.parametrize("name", ALL_BACKENDS)
def test_warm_start_is_accepted(name: str) -> None:
    # Without help no backend finds a market-split solution this quickly; given the
    # planted one, each must return a solution at least as good.
    model, planted = _market_split()
    backend = get_backend(name)
    assert Capability.WARM_START in backend.capabilities
    options = BackendOptions(time_limit=0.3, initial=planted, integral_objective=True)
    sol = backend.solve(model, options)
    assert sol.outcome in (BackendOutcome.TIME_LIMIT, BackendOutcome.OPTIMAL), sol.native_status
    assert sol.x is not None, f"{name} dropped the starting solution ({sol.native_status})"
    assert np.allclose(model.rows @ sol.x, model.row_upper)
    assert sol.objective is not None and sol.objective >= float(model.objective @ planted) - TOL
    assert sol.bound is not None and sol.bound >= sol.objective - TOL


@pytest.mark.parametrize("name", ALL_BACKENDS)
def test_every_option_is_accepted_and_runs_repeat(name: str) -> None:
    model = _packing([3.0, 2.0, 2.0, 1.0, 2.5])
    backend = get_backend(name)
    plain = backend.solve(model, BackendOptions())
    options = BackendOptions(
        time_limit=60.0,
        threads=2,
        seed=7,
        presolve=False,
        node_limit=1_000,
        initial=np.array([0.0, 1.0, 0.0, 0.0, 0.0]),
    )
    first, second = backend.solve(model, options), backend.solve(model, options)
    for sol in (plain, first, second):
        assert sol.outcome is BackendOutcome.OPTIMAL, sol.native_status
        assert sol.objective == pytest.approx(4.5)  # exchanges 2 and 4, the only optimum
    assert first.x is not None and second.x is not None
    assert np.array_equal(first.x, second.x)


# -- the matrix: every backend through solve() ------------------------------------------


def _configs(max_cycle: int, max_chain: int, backend: str = "highs") -> list[SolverConfig]:
    """Both objectives with both formulations."""
    return [
        SolverConfig(
            max_cycle=max_cycle,
            max_chain=max_chain,
            objective=objective,
            formulation=formulation,
            backend=backend,
        )
        for objective in OBJECTIVES
        for formulation in FORMULATIONS
    ]


def _check_against_oracle(backend: str, instance: Instance, max_cycle: int, max_chain: int) -> None:
    for config in _configs(max_cycle, max_chain, backend):
        expected = oracle_optimum(
            instance,
            max_cycle=max_cycle,
            max_chain=max_chain,
            objective=ORACLE_NAME[config.objective],
        )
        result = solved(instance, config)
        assert result.objective_value == pytest.approx(expected.value, abs=TOL), (
            f"{backend} {config.formulation} {config.objective.value} K={max_cycle} "
            f"L={max_chain}: got {result.objective_value}, oracle {expected.value}\n"
            f"pool: {describe(instance)}"
        )


@pytest.mark.parametrize("backend", OTHER_BACKENDS)
@settings(PROPERTY, max_examples=80)
@given(
    instance=instances(),
    max_cycle=st.sampled_from([2, 3, 4]),
    max_chain=st.sampled_from([0, 1, 2, 3]),
)
def test_random_pools_match_oracle(
    backend: str, instance: Instance, max_cycle: int, max_chain: int
) -> None:
    _check_against_oracle(backend, instance, max_cycle, max_chain)


@pytest.mark.parametrize("backend", OTHER_BACKENDS)
@pytest.mark.parametrize("max_chain", [0, 1, 2, 3])
@pytest.mark.parametrize("max_cycle", [2, 3, 4])
def test_every_length_limit_on_seeded_pools(backend: str, max_cycle: int, max_chain: int) -> None:
    for seed in range(2):
        instance = random_instance(2000 + seed, n_pairs=7, n_altruists=2, density=0.45)
        _check_against_oracle(backend, instance, max_cycle, max_chain)


# Saidman pools too large for the oracle. The last one's models (about 7,400 columns)
# exceed the master's direct limit, so its LP, the backend's duals and the reduced-cost
# restriction are exercised too.
SAIDMAN_CASES = [
    (25, 2, 3, 3, 11),
    (35, 3, 4, 2, 12),
    (30, 3, 2, 1, 13),
    (70, 5, 4, 1, 16),
]


@pytest.mark.parametrize("backend", OTHER_BACKENDS)
@pytest.mark.parametrize(("pairs", "altruists", "max_cycle", "max_chain", "seed"), SAIDMAN_CASES)
def test_saidman_pools_agree_with_highs(
    backend: str, pairs: int, altruists: int, max_cycle: int, max_chain: int, seed: int
) -> None:
    instance = generate_saidman(pairs, altruists, seed=seed)
    for config in _configs(max_cycle, max_chain):
        reference = solved(instance, config)
        other = solved(instance, replace(config, backend=backend))
        assert other.config.backend == backend
        assert other.objective_value == pytest.approx(reference.objective_value, abs=TOL), (
            f"{backend} vs highs, {config.formulation} {config.objective.value} "
            f"K={max_cycle} L={max_chain} on saidman({pairs}, {altruists}, seed={seed})"
        )


@pytest.mark.parametrize("backend", OTHER_BACKENDS)
def test_picef_chain_rows_through_the_lp(backend: str) -> None:
    # PICEF with L=3 on 80 pairs: 6,453 columns, so the LP runs, and its chain-flow rows
    # (>= 0, duals <= 0) feed the chain arcs' reduced costs.
    instance = generate_saidman(80, 6, seed=17)
    config = SolverConfig(max_cycle=3, max_chain=3, formulation="picef")
    reference = solved(instance, config)
    other = solved(instance, replace(config, backend=backend))
    assert "lp_bound" in other.message, other.message
    assert other.objective_value == pytest.approx(reference.objective_value, abs=TOL)


@pytest.mark.parametrize("backend", OTHER_BACKENDS)
@pytest.mark.parametrize("objective", ["uk", "uk-nhsbt"])
def test_uk_hierarchy_levels_agree_with_highs(backend: str, objective: str) -> None:
    # Lexicographic levels: each later solve carries side rows fixing the earlier levels.
    instance = generate_saidman(40, 3, seed=5)
    config = SolverConfig(max_cycle=3, max_chain=2, objective=Objective.parse(objective))
    reference = solved(instance, config)
    other = solved(instance, replace(config, backend=backend))
    assert other.values.keys() == reference.values.keys()
    for level, value in reference.values.items():
        assert other.values[level] == pytest.approx(value, abs=TOL), level


def test_backend_objects_are_stateless() -> None:
    # The same backend object solves different models in turn without carrying anything.
    for name in (n for n in BACKENDS if BACKENDS[n].available()):
        backend: Backend = get_backend(name)
        assert backend.solve(_triangle(), BackendOptions()).objective == pytest.approx(1.0)
        model, planted = _market_split()
        hinted = backend.solve(model, BackendOptions(time_limit=0.2, initial=planted))
        assert hinted.x is not None
        assert backend.solve(_triangle(), BackendOptions(relax=True)).objective == pytest.approx(
            1.5
        )
