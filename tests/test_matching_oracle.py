"""Property tier: the matching engine against the brute-force oracle (tests/oracle.py).

(a) random small pools: optimal status, a verified result and the oracle's optimum, for
    K in {2, 3, 4}, L in {0, 1, 2, 3}, both objectives and the formulations "cycle",
    "picef" and "priced";
(b) the formulations agree with each other (also on pools too large for the oracle);
(c) shuffling the records gives the same exchanges; renaming ids gives the same optimum;
(d) tiny pools with hand-computed optima;
(e) the same instance solved twice gives the same exchanges.
"""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kidneyshare.matching import (
    Donation,
    Exchange,
    ExchangeKind,
    Objective,
    Result,
    SolverConfig,
    Status,
    solve,
    verify,
)
from kidneyshare.model import Arc, Donor, DonorId, Instance, Patient, PatientId
from oracle import oracle_optimum
from strategies import describe, instances, random_instance, random_renaming, renamed, shuffled

OBJECTIVES = (Objective.MAX_TRANSPLANTS, Objective.MAX_WEIGHT)
FORMULATIONS = ("cycle", "picef", "priced")
ORACLE_NAME = {Objective.MAX_TRANSPLANTS: "transplants", Objective.MAX_WEIGHT: "weight"}
TOL = 1e-6

PROPERTY = settings(
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def solved(instance: Instance, config: SolverConfig) -> Result:
    """Solve, and check what every result must satisfy: optimal, verified, consistent values
    and a bound no lower than the value."""
    result = solve(instance, config)
    where = f"\nconfig={config}\npool: {describe(instance)}"
    assert result.status is Status.OPTIMAL, f"status {result.status}: {result.message}{where}"
    report = verify(instance, config, result)
    assert report.ok, f"verify: {report.problems}\nresult={result}{where}"
    report.raise_if_invalid()
    assert result.values["transplants"] == result.transplants, where
    if config.objective is Objective.MAX_WEIGHT:
        assert result.values["weight"] == pytest.approx(result.weight, abs=TOL), where
    assert result.bound is not None and result.bound >= result.objective_value - TOL, where
    return result


def check_against_oracle(instance: Instance, max_cycle: int, max_chain: int) -> None:
    for objective in OBJECTIVES:
        expected = oracle_optimum(
            instance, max_cycle=max_cycle, max_chain=max_chain, objective=ORACLE_NAME[objective]
        )
        for formulation in FORMULATIONS:
            config = SolverConfig(
                max_cycle=max_cycle,
                max_chain=max_chain,
                objective=objective,
                formulation=formulation,
            )
            result = solved(instance, config)
            assert result.objective_value == pytest.approx(expected.value, abs=TOL), (
                f"{formulation} {objective.value} K={max_cycle} L={max_chain}: "
                f"got {result.objective_value} ({[e.vertices for e in result.exchanges]}), "
                f"oracle {expected.value} ({[e.vertices for e in expected.exchanges]})\n"
                f"pool: {describe(instance)}"
            )


# -- (a) random pools against the oracle ------------------------------------------------


@settings(PROPERTY, max_examples=300)
@given(
    instance=instances(),
    max_cycle=st.sampled_from([2, 3, 4]),
    max_chain=st.sampled_from([0, 1, 2, 3]),
)
def test_random_pools_match_oracle(instance: Instance, max_cycle: int, max_chain: int) -> None:
    check_against_oracle(instance, max_cycle, max_chain)


@pytest.mark.parametrize("max_chain", [0, 1, 2, 3])
@pytest.mark.parametrize("max_cycle", [2, 3, 4])
def test_every_length_limit_on_seeded_pools(max_cycle: int, max_chain: int) -> None:
    # Every (K, L) combination on the same few dense pools, whatever Hypothesis draws.
    for seed in range(3):
        instance = random_instance(1000 + seed, n_pairs=7, n_altruists=2, density=0.45)
        check_against_oracle(instance, max_cycle, max_chain)


# -- (b) formulations agree -----------------------------------------------------------


@pytest.mark.parametrize("seed", range(12))
def test_formulations_agree_on_larger_pools(seed: int) -> None:
    rng = random.Random(seed)
    instance = random_instance(
        seed, n_pairs=rng.randint(12, 20), n_altruists=rng.randint(0, 4), density=0.15
    )
    max_cycle, max_chain = rng.choice([2, 3, 4]), rng.choice([0, 1, 2, 3])
    for objective in OBJECTIVES:
        values = {}
        for formulation in (*FORMULATIONS, "auto"):
            config = SolverConfig(
                max_cycle=max_cycle,
                max_chain=max_chain,
                objective=objective,
                formulation=formulation,
            )
            values[formulation] = solved(instance, config).objective_value
        assert max(values.values()) - min(values.values()) <= TOL, (
            f"{objective.value} K={max_cycle} L={max_chain}: {values}\npool: {describe(instance)}"
        )


# -- (c) record order and ids do not matter ---------------------------------------------


@settings(PROPERTY, max_examples=150)
@given(
    instance=instances(),
    rng=st.randoms(use_true_random=False),
    max_cycle=st.sampled_from([2, 3, 4]),
    max_chain=st.sampled_from([0, 1, 2, 3]),
    objective=st.sampled_from(OBJECTIVES),
    formulation=st.sampled_from(FORMULATIONS),
)
def test_shuffled_records_give_same_exchanges(
    instance: Instance,
    rng: random.Random,
    max_cycle: int,
    max_chain: int,
    objective: Objective,
    formulation: str,
) -> None:
    config = SolverConfig(
        max_cycle=max_cycle, max_chain=max_chain, objective=objective, formulation=formulation
    )
    original = solved(instance, config)
    other = shuffled(instance, rng)
    again = solved(other, config)
    assert (again.cycles, again.chains) == (original.cycles, original.chains), (
        f"original order: {[e.vertices for e in original.exchanges]}\n"
        f"shuffled order: {[e.vertices for e in again.exchanges]}\n"
        f"config={config}\npool: {describe(instance)}\nshuffled: {describe(other)}"
    )
    assert again.values == original.values


@settings(PROPERTY, max_examples=100)
@given(
    instance=instances(),
    rng=st.randoms(use_true_random=False),
    max_cycle=st.sampled_from([2, 3, 4]),
    max_chain=st.sampled_from([0, 1, 2, 3]),
    objective=st.sampled_from(OBJECTIVES),
    formulation=st.sampled_from(FORMULATIONS),
)
def test_renamed_ids_give_same_optimum(
    instance: Instance,
    rng: random.Random,
    max_cycle: int,
    max_chain: int,
    objective: Objective,
    formulation: str,
) -> None:
    config = SolverConfig(
        max_cycle=max_cycle, max_chain=max_chain, objective=objective, formulation=formulation
    )
    mapping = random_renaming(instance, rng)
    other = renamed(instance, mapping)
    original, again = solved(instance, config), solved(other, config)
    assert again.objective_value == pytest.approx(original.objective_value, abs=TOL), (
        f"config={config}\npool: {describe(instance)}\nrenamed: {describe(other)}"
    )


# -- (d) tiny pools with known optima --------------------------------------------------


def pool(
    pairs: dict[str, list[str]], altruists: list[str], arcs: list[tuple[str, str, float]]
) -> Instance:
    """``pairs`` maps each patient id to its donor ids; ``arcs`` are (donor, patient, weight)."""
    patients = [Patient(PatientId(p)) for p in pairs]
    donors = [Donor(DonorId(d), PatientId(p)) for p, ds in pairs.items() for d in ds]
    donors += [Donor(DonorId(a)) for a in altruists]
    return Instance(patients, donors, [Arc(DonorId(d), PatientId(p), w) for d, p, w in arcs])


def config(k: int, length: int, objective: Objective, formulation: str) -> SolverConfig:
    return SolverConfig(max_cycle=k, max_chain=length, objective=objective, formulation=formulation)


def cycle(*donations: tuple[str, str, float], via: tuple[str, ...]) -> Exchange:
    return Exchange(ExchangeKind.CYCLE, via, tuple(Donation(*d) for d in donations))


def chain(*donations: tuple[str, str, float], via: tuple[str, ...]) -> Exchange:
    return Exchange(ExchangeKind.CHAIN, via, tuple(Donation(*d) for d in donations))


ALL_FORMULATIONS = pytest.mark.parametrize("formulation", [*FORMULATIONS, "auto"])
BOTH_OBJECTIVES = pytest.mark.parametrize("objective", OBJECTIVES)


@ALL_FORMULATIONS
@BOTH_OBJECTIVES
def test_two_cycle(formulation: str, objective: Objective) -> None:
    inst = pool({"p1": ["d1"], "p2": ["d2"]}, [], [("d2", "p1", 2), ("d1", "p2", 3)])
    result = solved(inst, config(2, 0, objective, formulation))
    assert result.cycles == (cycle(("d1", "p2", 3), ("d2", "p1", 2), via=("p1", "p2")),)
    assert result.chains == ()
    assert result.values["transplants"] == 2
    if objective is Objective.MAX_WEIGHT:
        assert result.values["weight"] == pytest.approx(5)


THREE_VS_TWO_TWO = pool(
    {f"p{i}": [f"d{i}"] for i in range(1, 5)},
    [],
    [
        ("d1", "p2", 1),
        ("d2", "p1", 1),
        ("d3", "p4", 1),
        ("d4", "p3", 1),
        ("d2", "p3", 10),
        ("d3", "p1", 10),
    ],
)


@ALL_FORMULATIONS
def test_two_two_cycles_beat_a_three_cycle_on_transplants(formulation: str) -> None:
    result = solved(THREE_VS_TWO_TWO, config(3, 0, Objective.MAX_TRANSPLANTS, formulation))
    assert [c.vertices for c in result.cycles] == [("p1", "p2"), ("p3", "p4")]
    assert result.values["transplants"] == 4


@ALL_FORMULATIONS
def test_heavy_three_cycle_beats_two_two_cycles_on_weight(formulation: str) -> None:
    result = solved(THREE_VS_TWO_TWO, config(3, 0, Objective.MAX_WEIGHT, formulation))
    assert [c.vertices for c in result.cycles] == [("p1", "p2", "p3")]
    assert result.values == {"transplants": 3, "weight": pytest.approx(21)}
    low = solved(THREE_VS_TWO_TWO, config(2, 0, Objective.MAX_WEIGHT, formulation))
    assert [c.vertices for c in low.cycles] == [("p1", "p2"), ("p3", "p4")]


@ALL_FORMULATIONS
@BOTH_OBJECTIVES
def test_max_cycle_two_forbids_a_three_cycle(formulation: str, objective: Objective) -> None:
    inst = pool(
        {"p1": ["d1"], "p2": ["d2"], "p3": ["d3"]},
        [],
        [("d1", "p2", 1), ("d2", "p3", 1), ("d3", "p1", 1)],
    )
    assert solved(inst, config(2, 3, objective, formulation)).exchanges == ()
    assert [c.vertices for c in solved(inst, config(3, 3, objective, formulation)).cycles] == [
        ("p1", "p2", "p3")
    ]


CHAIN_POOL = pool(
    {"p1": ["d1"], "p2": ["d2"], "p3": ["d3"]},
    ["a1"],
    [("a1", "p1", 1), ("d1", "p2", 1), ("d2", "p3", 1)],
)


@ALL_FORMULATIONS
@BOTH_OBJECTIVES
def test_chain_length_convention(formulation: str, objective: Objective) -> None:
    # a1 -> p1 -> p2 -> p3: L counts donations, the altruist's included.
    whole = chain(("a1", "p1", 1), ("d1", "p2", 1), ("d2", "p3", 1), via=("a1", "p1", "p2", "p3"))
    expected = {
        0: (),
        1: (chain(("a1", "p1", 1), via=("a1", "p1")),),
        2: (chain(("a1", "p1", 1), ("d1", "p2", 1), via=("a1", "p1", "p2")),),
        3: (whole,),
        4: (whole,),
    }
    for length, chains in expected.items():
        result = solved(CHAIN_POOL, config(3, length, objective, formulation))
        assert result.chains == chains, f"L={length}"
        assert result.cycles == ()
        assert result.values["transplants"] == min(length, 3), f"L={length}"


@ALL_FORMULATIONS
@BOTH_OBJECTIVES
def test_chain_cut_at_max_chain_against_a_cycle(formulation: str, objective: Objective) -> None:
    # a1 -> p1 -> p2 -> p3 (3 donations) competes with the 2-cycle p1 <-> p2.
    inst = pool(
        {"p1": ["d1"], "p2": ["d2"], "p3": ["d3"]},
        ["a1"],
        [("a1", "p1", 1), ("d1", "p2", 1), ("d2", "p3", 1), ("d2", "p1", 1)],
    )
    long = solved(inst, config(2, 3, objective, formulation))
    assert [e.vertices for e in long.exchanges] == [("a1", "p1", "p2", "p3")]
    short = solved(inst, config(2, 1, objective, formulation))
    assert [e.vertices for e in short.exchanges] == [("p1", "p2")]
    assert short.values["transplants"] == 2


@ALL_FORMULATIONS
@BOTH_OBJECTIVES
def test_pair_uses_its_second_donor(formulation: str, objective: Objective) -> None:
    inst = pool(
        {"p1": ["d1", "d1b"], "p2": ["d2"]},
        [],
        [("d1b", "p2", 1), ("d2", "p1", 1), ("d1", "p1", 1)],
    )
    result = solved(inst, config(2, 0, objective, formulation))
    assert result.cycles == (cycle(("d1b", "p2", 1), ("d2", "p1", 1), via=("p1", "p2")),)


@ALL_FORMULATIONS
def test_max_weight_names_the_donor_of_the_best_arc(formulation: str) -> None:
    inst = pool(
        {"p1": ["d1", "d1b"], "p2": ["d2"]},
        [],
        [("d1", "p2", 1), ("d1b", "p2", 5), ("d2", "p1", 2)],
    )
    result = solved(inst, config(2, 0, Objective.MAX_WEIGHT, formulation))
    assert result.cycles == (cycle(("d1b", "p2", 5), ("d2", "p1", 2), via=("p1", "p2")),)
    assert result.values["weight"] == pytest.approx(7)


@ALL_FORMULATIONS
@BOTH_OBJECTIVES
def test_arcs_to_own_patient_are_not_exchanges(formulation: str, objective: Objective) -> None:
    inst = pool({"p1": ["d1", "d1b"], "p2": ["d2"]}, [], [("d1", "p1", 4), ("d2", "p2", 1)])
    result = solved(inst, config(4, 3, objective, formulation))
    assert result.exchanges == ()
    assert result.values["transplants"] == 0


@ALL_FORMULATIONS
@BOTH_OBJECTIVES
def test_no_cycles_and_no_chains_when_limits_are_zero(
    formulation: str, objective: Objective
) -> None:
    inst = pool(
        {"p1": ["d1"], "p2": ["d2"]}, ["a1"], [("a1", "p1", 1), ("d1", "p2", 1), ("d2", "p1", 1)]
    )
    assert solved(inst, config(0, 0, objective, formulation)).exchanges == ()
    assert solved(inst, config(1, 0, objective, formulation)).exchanges == ()


@ALL_FORMULATIONS
def test_altruist_only_pool(formulation: str) -> None:
    inst = Instance([], [Donor(DonorId("a1"))], [])
    result = solved(inst, config(3, 3, Objective.MAX_TRANSPLANTS, formulation))
    assert result.exchanges == ()


# -- (e) determinism ----------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(15))
def test_same_instance_twice_gives_same_exchanges(seed: int) -> None:
    instance = random_instance(seed)
    rng = random.Random(seed)
    for objective in OBJECTIVES:
        for formulation in FORMULATIONS:
            cfg = config(rng.choice([2, 3, 4]), rng.choice([0, 1, 2, 3]), objective, formulation)
            first, second = solve(instance, cfg), solve(instance, cfg)
            assert (first.status, first.cycles, first.chains, first.values, first.bound) == (
                second.status,
                second.cycles,
                second.chains,
                second.values,
                second.bound,
            ), f"config={cfg}\npool: {describe(instance)}"
