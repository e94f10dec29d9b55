"""Hierarchies (UK, custom) and the failure-aware objective against the brute-force oracle,
plus pools where the right answer is known by construction."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.oracle import oracle_levels
from tests.strategies import aged_instances, describe

from kidneyshare.errors import ConfigError
from kidneyshare.matching import Criterion, Objective, SolverConfig, Status, solve, verify
from kidneyshare.model import Arc, Donor, Instance, Patient

OBJECTIVES = [
    SolverConfig(objective=Objective.UK),
    SolverConfig(objective=Objective.UK_NHSBT),
    SolverConfig(objective=Objective.EXPECTED),
    SolverConfig(objective=Objective.HIERARCHY, levels=(Criterion.WEIGHT, Criterion.TRANSPLANTS)),
    SolverConfig(
        objective=Objective.HIERARCHY,
        levels=(Criterion.THREE_WAY, Criterion.TRANSPLANTS, Criterion.SCORE),
    ),
]


def _check(instance: Instance, config: SolverConfig) -> None:
    result = solve(instance, config)
    where = (
        f"{config.objective.value} {[c.value for c in config.criteria]} "
        f"K={config.max_cycle} L={config.max_chain}: {describe(instance)}"
    )
    assert result.status is Status.OPTIMAL, (where, result.message)
    assert verify(instance, config, result).ok
    names = tuple(c.value for c in config.criteria)
    expected, _ = oracle_levels(
        instance, max_cycle=config.max_cycle, max_chain=config.max_chain, levels=names
    )
    for name in names:
        assert result.values[name] == pytest.approx(expected[name], abs=1e-6), (name, where)
    assert result.bound == pytest.approx(result.values[names[-1]], abs=1e-6)


@settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    instance=aged_instances(),
    config=st.sampled_from(OBJECTIVES),
    k=st.integers(2, 4),
    max_chain=st.integers(0, 3),
)
def test_levels_reach_the_lexicographic_oracle(
    instance: Instance, config: SolverConfig, k: int, max_chain: int
) -> None:
    _check(instance, replace(config, max_cycle=k, max_chain=max_chain))


@settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    instance=aged_instances(max_pairs=6, several_donors=True),
    config=st.sampled_from(OBJECTIVES),
    k=st.integers(2, 3),
    max_chain=st.integers(0, 2),
)
def test_levels_choose_among_a_pairs_donors_as_the_oracle_does(
    instance: Instance, config: SolverConfig, k: int, max_chain: int
) -> None:
    """Pairs with two donors of different ages and compatibilities: the levels that
    read the giving donor (back-arcs, age points) reach the oracle's optimum over every
    choice of donors, as kep_solver's donor vertices do."""
    _check(instance, replace(config, max_cycle=k, max_chain=max_chain))


@pytest.mark.parametrize("path", ["whole-mip", "lp-then-mip", "column-generation"])
def test_every_master_path_keeps_earlier_levels(monkeypatch: pytest.MonkeyPatch, path: str) -> None:
    """Side rows on every path of the master: the whole MIP, the LP then restricted MIPs,
    and column generation (whose first restricted LP must hold the previous plan, or
    the side rows make it infeasible), on seeded pools."""
    from kidneyshare.matching import master

    if path != "whole-mip":
        monkeypatch.setattr(master, "DIRECT_LIMIT", 0)
    if path == "column-generation":
        monkeypatch.setattr(master, "FULL_LP_LIMIT", 5)
    for seed in range(10):
        inst = _seeded(seed)
        for config in OBJECTIVES:
            _check(inst, replace(config, max_cycle=3, max_chain=2))


def test_each_level_grows_its_lp_from_the_last_support(monkeypatch: pytest.MonkeyPatch) -> None:
    """Column generation at every level after the first starts from the previous
    level's LP support (columns still alive there), and the levels reach the oracle's
    values as they do when each starts from the best columns alone."""
    from kidneyshare.matching import master

    monkeypatch.setattr(master, "DIRECT_LIMIT", 0)
    monkeypatch.setattr(master, "FULL_LP_LIMIT", 5)
    original = master._solve_lp
    given: list[int] = []

    def recording(*args: object, **kwargs: object) -> object:
        lp_from = args[3] if len(args) > 3 else kwargs.get("lp_from")
        given.append(-1 if lp_from is None else len(lp_from[0]) + len(lp_from[1]))  # type: ignore[index]
        return original(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(master, "_solve_lp", recording)
    config = replace(OBJECTIVES[0], max_cycle=3, max_chain=2)
    carried = 0
    for seed in range(6):
        given.clear()
        _check(_seeded(seed), config)
        if len(given) > 1:
            assert given[0] == -1 and all(n > 0 for n in given[1:]), given
            carried += 1
    assert carried >= 3


def test_plans_completed_around_lp_face_vertices(monkeypatch: pytest.MonkeyPatch) -> None:
    """With the small MIPs reduced to one over the LP support, the completion around the
    LP face's vertices runs wherever that misses the target; the plans it gives (their
    whole columns kept, the rest solved exactly) reach the oracle's values."""
    from kidneyshare.matching import master

    monkeypatch.setattr(master, "DIRECT_LIMIT", 0)
    monkeypatch.setattr(master, "FULL_LP_LIMIT", 5)
    monkeypatch.setattr(master, "_MIP_COLUMNS_PER_VERTEX", (0,))
    original = master._complete_face_vertices
    outcomes: list[bool] = []

    def recording(*args: object, **kwargs: object) -> object:
        completed = original(*args, **kwargs)  # type: ignore[arg-type]
        outcomes.append(completed is not None)
        return completed

    monkeypatch.setattr(master, "_complete_face_vertices", recording)
    for seed in range(40):
        inst = _seeded(seed)
        for config in (OBJECTIVES[0], OBJECTIVES[1], OBJECTIVES[3]):
            _check(inst, replace(config, max_cycle=3, max_chain=2))
    assert sum(outcomes) >= 5, outcomes


def _seeded(seed: int) -> Instance:
    import random

    rng = random.Random(seed)
    n = 7
    patients = [Patient(f"p{i}") for i in range(1, n + 1)]
    donors = [Donor(f"d{i}", f"p{i}", age=float(rng.randint(20, 70))) for i in range(1, n + 1)]
    donors += [Donor("a1", None, age=45.0), Donor("a2", None, age=None)]
    arcs = [
        Arc(d.id, p.id, float(rng.randint(0, 5)), rng.choice([0.5, 0.8, 1.0]))
        for d in donors
        for p in patients
        if d.patient != p.id and rng.random() < 0.45
    ]
    return Instance(patients, donors, arcs, name=f"seeded-{seed}")


def _pool(
    arcs: list[tuple[str, str]], ages: dict[str, float] | None = None, **prob: float
) -> Instance:
    """Pairs p<i> with donor d<i> (altruists a<i>); ``arcs`` as (giver vertex, patient)."""
    ages = ages or {}
    vertices = sorted({v for arc in arcs for v in arc})
    patients = [Patient(v) for v in vertices if v.startswith("p")]
    donors = [
        Donor(
            f"d{v[1:]}" if v.startswith("p") else v,
            v if v.startswith("p") else None,
            age=ages.get(v),
        )
        for v in vertices
    ]
    donor_of = {v: (f"d{v[1:]}" if v.startswith("p") else v) for v in vertices}
    return Instance(
        patients,
        donors,
        [Arc(donor_of[u], v, 1.0, prob.get(f"{u}_{v}", 1.0)) for u, v in arcs],
    )


def test_uk_prefers_an_effective_two_way_to_more_transplants() -> None:
    # A 3-cycle without back-arcs (3 transplants) against a 2-cycle sharing p3 (2).
    pool = _pool([("p1", "p2"), ("p2", "p3"), ("p3", "p1"), ("p3", "p4"), ("p4", "p3")])
    most = solve(pool, SolverConfig(objective="max-transplants", max_chain=0))
    assert [c.vertices for c in most.cycles] == [("p1", "p2", "p3")]
    uk = solve(pool, SolverConfig(objective="uk", max_chain=0))
    assert [c.vertices for c in uk.cycles] == [("p3", "p4")]
    assert uk.values["effective-two-way"] == 1
    assert uk.values["transplants"] == 2
    assert uk.values["three-way"] == 0


def test_back_arcs_make_a_three_way_effective() -> None:
    # A 3-cycle with the back-arc p2 -> p1 (which also makes the 2-cycle p1, p2): both
    # are one effective two-way, and the 3-cycle's 3 transplants beat 2.
    pool = _pool([("p1", "p2"), ("p2", "p3"), ("p3", "p1"), ("p2", "p1")])
    uk = solve(pool, SolverConfig(objective="uk", max_chain=0))
    assert [c.vertices for c in uk.cycles] == [("p1", "p2", "p3")]
    assert uk.values == {
        "transplants": 3.0,
        "effective-two-way": 1.0,
        "back-arcs": 1.0,
        "three-way": 1.0,
        "score": 3.0 * 1.0,
    }


def test_chains_count_as_the_scheme_counts_them() -> None:
    # a1 -> p1 -> p2: a three-way chain; its back-arc to the altruist (p1's donor to the
    # waiting list) always exists, and p2 -> p1 adds a second.
    pool = _pool([("a1", "p1"), ("p1", "p2"), ("p2", "p1")])
    config = SolverConfig(objective="uk", max_cycle=0, max_chain=2)
    result = solve(pool, config)
    assert [c.vertices for c in result.chains] == [("a1", "p1", "p2")]
    assert result.values["effective-two-way"] == 1
    assert result.values["three-way"] == 1
    assert result.values["back-arcs"] == 2


def test_age_rule_breaks_a_tie_between_equal_weights() -> None:
    # p1 can swap with p2 or with p3 (equal weights); p1's donor is 40, p2's 70, p3's 45.
    ages = {"p1": 40.0, "p2": 70.0, "p3": 45.0}
    pool = _pool([("p1", "p2"), ("p2", "p1"), ("p1", "p3"), ("p3", "p1")], ages)
    result = solve(pool, SolverConfig(objective="uk", max_chain=0))
    assert [c.vertices for c in result.cycles] == [("p1", "p3")]
    # Two donations, each 1 + 3 (within 20 years) + 1e-5 * (70 - 5)^2.
    assert result.values["score"] == pytest.approx(2 * (1 + 3 + round(1e-5 * 65**2, 5)))


def test_expected_transplants_prefer_the_reliable_exchange() -> None:
    # A 3-cycle of unreliable arcs (3 * 0.5^3 = 0.375) against a sure 2-cycle on p1.
    pool = _pool(
        [("p1", "p2"), ("p2", "p3"), ("p3", "p1"), ("p1", "p4"), ("p4", "p1")],
        p1_p2=0.5,
        p2_p3=0.5,
        p3_p1=0.5,
    )
    result = solve(pool, SolverConfig(objective="expected", max_chain=0))
    assert [c.vertices for c in result.cycles] == [("p1", "p4")]
    assert result.values["expected-transplants"] == pytest.approx(2.0)


def test_expected_keeps_the_likeliest_of_a_pairs_donors() -> None:
    """p1 has two donors for p2's patient: d1a heavier but less likely to succeed. The
    expected objective gives with d1b (2 x 0.9 x 1.0), max-weight with d1a."""
    pool = Instance(
        [Patient("p1"), Patient("p2")],
        [Donor("d1a", patient="p1"), Donor("d1b", patient="p1"), Donor("d2", patient="p2")],
        [
            Arc("d1a", "p2", 5.0, probability=0.5),
            Arc("d1b", "p2", 1.0, probability=0.9),
            Arc("d2", "p1", 1.0, probability=1.0),
        ],
    )
    for objective, donor, key, value in (
        ("expected", "d1b", "expected-transplants", 1.8),
        ("max-weight", "d1a", "weight", 6.0),
    ):
        config = SolverConfig(objective=objective, max_chain=0)
        result = solve(pool, config)
        assert verify(pool, config, result).ok
        assert result.status is Status.OPTIMAL
        assert [d.donor for d in result.cycles[0].donations] == [donor, "d2"]
        assert result.values[key] == pytest.approx(value)


def test_expected_values_a_chain_by_its_successful_prefix() -> None:
    pool = _pool([("a1", "p1"), ("p1", "p2"), ("p2", "p3")], a1_p1=0.5, p1_p2=0.5, p2_p3=0.5)
    result = solve(pool, SolverConfig(objective="expected", max_cycle=0, max_chain=3))
    assert result.values["expected-transplants"] == pytest.approx(0.5 + 0.25 + 0.125)


def test_expected_needs_a_probability_for_every_arc() -> None:
    pool = Instance(
        [Patient("p1"), Patient("p2")],
        [Donor("d1", "p1"), Donor("d2", "p2")],
        [Arc("d1", "p2", 1.0, 0.5), Arc("d2", "p1", 1.0)],
    )
    with pytest.raises(ConfigError, match="d2->p1 has no success probability"):
        solve(pool, SolverConfig(objective="expected"))
    result = solve(pool, SolverConfig(objective="expected", default_probability=0.5))
    assert result.values["expected-transplants"] == pytest.approx(2 * 0.25)


def test_configuration_errors_name_the_problem() -> None:
    with pytest.raises(ConfigError, match="needs at least one criterion"):
        SolverConfig(objective="hierarchy")
    with pytest.raises(ConfigError, match="only the hierarchy objective takes levels"):
        SolverConfig(objective="uk", levels=("transplants",))
    with pytest.raises(ConfigError, match="unknown criterion 'size'"):
        SolverConfig(objective="hierarchy", levels=("size",))
    with pytest.raises(ConfigError, match="appears twice"):
        SolverConfig(objective="hierarchy", levels=("transplants", "transplants"))
    with pytest.raises(ConfigError, match="default_probability"):
        SolverConfig(default_probability=1.5)
    pool = _pool([("p1", "p2"), ("p2", "p1")])
    with pytest.raises(ConfigError, match="picef cannot express"):
        solve(pool, SolverConfig(objective="uk", formulation="picef"))


def test_picef_carries_arc_sums_through_a_hierarchy() -> None:
    config = SolverConfig(
        objective="hierarchy", levels=("transplants", "weight"), formulation="picef"
    )
    for seed in range(6):
        inst = _seeded(seed)
        picef = solve(inst, config)
        cycle = solve(inst, replace(config, formulation="cycle"))
        assert picef.status is Status.OPTIMAL
        assert picef.values == pytest.approx(cycle.values)


def test_verifier_rejects_a_tampered_level() -> None:
    pool = _pool([("p1", "p2"), ("p2", "p3"), ("p3", "p1"), ("p2", "p1")])
    config = SolverConfig(objective="uk", max_chain=0)
    result = solve(pool, config)
    tampered = replace(result, values={**result.values, "back-arcs": 3.0})
    report = verify(pool, config, tampered)
    assert not report.ok
    assert any("back-arcs reported 3.0, recomputed 1.0" in p for p in report.problems)


def test_json_reports_every_level() -> None:
    pool = _pool([("p1", "p2"), ("p2", "p1")])
    out = solve(pool, SolverConfig(objective="uk")).to_json()
    assert out["objective"] == "uk"
    assert list(out["values"]) == [
        "transplants",
        "effective-two-way",
        "back-arcs",
        "three-way",
        "score",
    ]
    assert out["config"]["levels"] == [
        "effective-two-way",
        "transplants",
        "back-arcs",
        "three-way",
        "score",
    ]
    assert out["bound_level"] == "score"


def test_a_back_arc_needs_the_exchange_own_donor() -> None:
    # p2 has two donors: d2 gives to p3 in the 3-cycle, d2b could give back to p1. NHSBT
    # counts a back-arc only when it brings in no new donor, so this one does not count.
    pool = Instance(
        [Patient("p1"), Patient("p2"), Patient("p3")],
        [Donor("d1", "p1"), Donor("d2", "p2"), Donor("d2b", "p2"), Donor("d3", "p3")],
        [Arc("d1", "p2", 1.0), Arc("d2", "p3", 1.0), Arc("d3", "p1", 1.0), Arc("d2b", "p1", 1.0)],
    )
    config = SolverConfig(objective="hierarchy", levels=("transplants", "back-arcs"))
    result = solve(pool, config)
    assert [c.vertices for c in result.cycles] == [("p1", "p2", "p3")]
    assert result.values["back-arcs"] == 0
    with_own = Instance(pool.patients, pool.donors, [*pool.arcs, Arc("d2", "p1", 1.0)])
    assert solve(with_own, config).values["back-arcs"] == 1


def test_expected_on_picef_with_one_shared_probability() -> None:
    """With one success probability p for every arc, PICEF values the k-th donation of a
    chain at p^k, and agrees with the enumerated chains and the oracle."""
    config = SolverConfig(objective="expected", max_cycle=3, max_chain=3, formulation="picef")
    for seed in range(8):
        base = _seeded(seed)
        inst = Instance(
            base.patients, base.donors, [replace(a, probability=0.7) for a in base.arcs]
        )
        picef = solve(inst, config)
        cycle = solve(inst, replace(config, formulation="cycle"))
        best, _ = oracle_levels(inst, max_cycle=3, max_chain=3, levels=("expected-transplants",))
        assert picef.status is Status.OPTIMAL and picef.formulation == "picef"
        assert picef.values["expected-transplants"] == pytest.approx(
            best["expected-transplants"], abs=1e-6
        )
        assert cycle.values["expected-transplants"] == pytest.approx(
            best["expected-transplants"], abs=1e-6
        )
    mixed = _seeded(0)
    with pytest.raises(ConfigError, match="one success probability shared by every arc"):
        solve(mixed, config)
