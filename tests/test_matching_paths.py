"""Every solution path of the master agrees with the oracle.

The master hands small models to the MIP whole, solves medium ones by the LP followed
by a MIP restricted by reduced costs, and large ones by column generation first. The
oracle pools are small, so the size limits are lowered here to send them down each path.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kidneyshare.matching import Objective, SolverConfig, Status, master, solve, verify
from oracle import oracle_optimum
from strategies import describe, instances, random_instance

PATHS = {
    "restricted-mip": {"DIRECT_LIMIT": 0},
    "column-generation": {"DIRECT_LIMIT": 0, "FULL_LP_LIMIT": 1},
}
KEY = {Objective.MAX_TRANSPLANTS: "transplants", Objective.MAX_WEIGHT: "weight"}


@pytest.fixture(params=sorted(PATHS))
def path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    for name, value in PATHS[request.param].items():
        monkeypatch.setattr(master, name, value)
    return str(request.param)


def _check(instance, k: int, max_chain: int, objective: Objective, formulation: str) -> None:
    config = SolverConfig(
        max_cycle=k, max_chain=max_chain, objective=objective, formulation=formulation
    )
    result = solve(instance, config)
    where = f"path config={config} pool={describe(instance)} message={result.message}"
    assert result.status is Status.OPTIMAL, where
    assert verify(instance, config, result).ok, where
    best = oracle_optimum(
        instance, max_cycle=k, max_chain=max_chain, objective=KEY[objective]
    ).value
    assert result.objective_value == pytest.approx(best, abs=1e-6), where
    assert result.bound == pytest.approx(best, abs=1e-6), where


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    instance=instances(),
    k=st.integers(2, 4),
    max_chain=st.integers(0, 3),
    objective=st.sampled_from(list(KEY)),
    formulation=st.sampled_from(["cycle", "picef"]),
)
def test_each_path_reaches_the_oracle_optimum(
    path: str, instance, k: int, max_chain: int, objective: Objective, formulation: str
) -> None:
    _check(instance, k, max_chain, objective, formulation)


@pytest.mark.parametrize("seed", range(12))
def test_dense_pools_on_each_path(path: str, seed: int) -> None:
    instance = random_instance(seed, n_pairs=8, n_altruists=2, density=0.6)
    for objective in KEY:
        for formulation in ("cycle", "picef"):
            _check(instance, 3, 3, objective, formulation)
