"""The Saidman et al. (2006) generator: determinism, shape, and its published statistics.

The statistical tests compare one large generated pool (fixed seed, so the outcome is
fixed) with expectations computed here independently from the parameters, with bounds
of several standard errors so that a change of seed would not break them.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import random
import re
from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from scipy import stats
from tests.shared_data import shared_data_dir

import kidneyshare.generators as generators
from kidneyshare.errors import ConfigError
from kidneyshare.generators import (
    BLOOD_GROUP_ORDER,
    SaidmanParameters,
    altruists_from_fraction,
    generate_saidman,
    make_rng,
)
from kidneyshare.model import Arc, BloodGroup, Instance, describe

PREFLIB_00036 = shared_data_dir() / "preflib" / "00036"

LARGE_PAIRS = 3000
LARGE_ALTRUISTS = 300


# -- an independent oracle: the distribution of a kept (incompatible) pair ---------------


@dataclass(frozen=True)
class Category:
    patient: BloodGroup
    donor: BloodGroup
    cpra: float
    probability: float  # among kept pairs


def abo(donor: BloodGroup, patient: BloodGroup) -> bool:
    return donor is BloodGroup.O or patient is BloodGroup.AB or donor is patient


def kept_categories(params: SaidmanParameters) -> list[Category]:
    """Enumerate (patient group, donor group, sex and spouse, band) and keep the
    incompatible share of each: ABO-incompatible, or ABO-compatible with a positive
    crossmatch."""
    wife = params.patient_female * params.donor_is_spouse
    raw: list[Category] = []
    for (i, gp), (j, gd) in itertools.product(enumerate(BLOOD_GROUP_ORDER), repeat=2):
        for is_wife, band in itertools.product((False, True), range(3)):
            x = params.positive_crossmatch[band]
            cpra = 1 - params.spousal_negative_crossmatch * (1 - x) if is_wife else x
            p = (
                params.patient_blood_groups[i]
                * params.donor_blood_groups[j]
                * (wife if is_wife else 1 - wife)
                * params.pra_bands[band]
            )
            keep = cpra if abo(gd, gp) else 1.0
            raw.append(Category(gp, gd, round(cpra, 9), p * keep))
    total = sum(c.probability for c in raw)
    return [Category(c.patient, c.donor, c.cpra, c.probability / total) for c in raw]


def expected_density(params: SaidmanParameters) -> float:
    """P(arc from one kept pair's donor to another kept pair's patient)."""
    cats = kept_categories(params)
    return sum(
        a.probability * b.probability * abo(a.donor, b.patient) * (1 - b.cpra)
        for a in cats
        for b in cats
    )


def marginal(cats: list[Category], key: str) -> dict[object, float]:
    out: defaultdict[object, float] = defaultdict(float)
    for c in cats:
        out[getattr(c, key)] += c.probability
    return dict(out)


def index(ident: str) -> int:
    return int(ident[1:]) - 1


@pytest.fixture(scope="module")
def large() -> Instance:
    return generate_saidman(LARGE_PAIRS, LARGE_ALTRUISTS, seed=20060315)


# -- API, determinism, global state --------------------------------------------------------


def test_public_api_is_pinned() -> None:
    assert generators.__all__ == [
        "BLOOD_GROUP_ORDER",
        "SaidmanParameters",
        "altruists_from_fraction",
        "generate_saidman",
        "make_rng",
    ]


def test_same_seed_gives_identical_pool() -> None:
    first = generate_saidman(40, 4, seed=11)
    second = generate_saidman(40, 4, seed=11)
    assert first == second
    assert first.arcs == second.arcs
    assert first.name == "saidman-40-4-seed11"


def test_different_seeds_give_different_pools() -> None:
    pools = [generate_saidman(40, 4, seed=s) for s in range(5)]
    assert len({(p.patients, p.donors, p.arcs) for p in pools}) == 5


def canonical(instance: Instance) -> str:
    lines = [
        f"{p.id} {p.blood_group.value if p.blood_group else '-'} {p.cpra!r}"
        for p in instance.patients
    ]
    lines += [
        f"{d.id} {d.patient} {d.blood_group.value if d.blood_group else '-'}"
        for d in instance.donors
    ]
    lines += [f"{a.donor}>{a.patient} {a.weight!r}" for a in instance.arcs]
    return "\n".join(lines)


def test_pool_is_pinned_across_machines_and_versions() -> None:
    # PCG64 yields the same numbers everywhere; if this changes, pools published with a
    # seed can no longer be reproduced: treat it as a breaking change.
    pool = generate_saidman(12, 2, seed=2006)
    text = canonical(pool)
    assert text.splitlines()[:3] == ["p1 B 0.2875", "p2 B 0.925", "p3 O 0.9"]
    assert len(pool.arcs) == 32
    digest = hashlib.sha256(text.encode()).hexdigest()
    assert digest == "7e61be925c159f0754492b535433cf9ee347eb50ca0578f1f47dbff1ca5dbdf9", text


def test_generation_leaves_global_random_state_untouched() -> None:
    random.seed(1234)
    np.random.seed(1234)
    expected = (random.random(), np.random.random())
    random.seed(1234)
    np.random.seed(1234)
    generate_saidman(60, 6, seed=3)
    make_rng(3).random(10)
    assert (random.random(), np.random.random()) == expected


def test_make_rng_is_pcg64_and_reproducible() -> None:
    rng = make_rng(99)
    assert isinstance(rng.bit_generator, np.random.PCG64)
    assert np.array_equal(rng.random(5), make_rng(99).random(5))
    numpy_seed = make_rng(np.int64(99))  # type: ignore[arg-type]
    assert np.array_equal(numpy_seed.random(5), make_rng(99).random(5))


@pytest.mark.parametrize("seed", [-1, True, 1.5, "7", None])
def test_make_rng_refuses_bad_seeds(seed: object) -> None:
    with pytest.raises(ConfigError, match="seed"):
        make_rng(seed)  # type: ignore[arg-type]


# -- shape of a pool -------------------------------------------------------------------------


def test_ids_counts_and_fields() -> None:
    pool = generate_saidman(30, 5, seed=8)
    assert [p.id for p in pool.patients] == [f"p{i}" for i in range(1, 31)]
    assert [d.id for d in pool.donors] == [f"d{i}" for i in range(1, 31)] + [
        f"a{i}" for i in range(1, 6)
    ]
    assert [d.patient for d in pool.donors[:30]] == [f"p{i}" for i in range(1, 31)]
    assert all(d.patient is None for d in pool.donors[30:])
    assert len(pool.altruists) == 5 and len(pool) == 35
    assert all(p.blood_group is not None for p in pool.patients)
    assert all(d.blood_group is not None for d in pool.donors)
    allowed = {0.05, 0.45, 0.9, 0.2875, 0.5875, 0.925}
    assert {p.cpra for p in pool.patients} <= allowed
    assert all(a.weight == 1.0 and a.probability is None for a in pool.arcs)
    assert pool.arcs == tuple(Arc(a.donor, a.patient, 1.0) for a in pool.arcs)
    order = [(pool.donors.index(pool.donor(a.donor)), index(a.patient)) for a in pool.arcs]
    assert order == sorted(order)


def test_arcs_follow_abo_and_never_join_a_pair_to_itself() -> None:
    pool = generate_saidman(200, 20, seed=5)
    for arc in pool.arcs:
        donor, patient = pool.donor(arc.donor), pool.patient(arc.patient)
        assert donor.blood_group is not None and patient.blood_group is not None
        assert donor.blood_group.can_donate_to(patient.blood_group)
        assert donor.patient != patient.id
    assert describe(pool).own_donor_arcs == 0


def test_altruists_only_and_pairs_only_pools() -> None:
    only_altruists = generate_saidman(0, 3, seed=1)
    assert len(only_altruists.altruists) == 3 and not only_altruists.arcs
    only_pairs = generate_saidman(5, seed=1)
    assert not only_pairs.altruists and len(only_pairs.patients) == 5
    with pytest.raises(ConfigError, match="at least one"):
        generate_saidman(0, 0, seed=1)


@pytest.mark.parametrize(("pairs", "altruists"), [(-1, 0), (3, -2), (2.0, 0), (True, 0), (3, None)])
def test_bad_counts_are_refused(pairs: object, altruists: object) -> None:
    with pytest.raises(ConfigError):
        generate_saidman(pairs, altruists, seed=1)  # type: ignore[arg-type]


def test_altruists_from_fraction_matches_preflib_sizes() -> None:
    # PrefLib 00036: 256 pairs with 12/25/38, 128 with 6/12/19, 64 with 3/6/9, 32 with 1/3/4.
    for pairs, sizes in {256: (12, 25, 38), 128: (6, 12, 19), 64: (3, 6, 9), 32: (1, 3, 4)}.items():
        assert tuple(altruists_from_fraction(pairs, f) for f in (0.05, 0.1, 0.15)) == sizes
    assert altruists_from_fraction(100, 0.29) == 29
    with pytest.raises(ConfigError, match="fraction"):
        altruists_from_fraction(10, 1.5)


# -- parameters ------------------------------------------------------------------------------


def test_default_parameters_are_the_published_ones() -> None:
    p = SaidmanParameters()
    assert p.patient_blood_groups == p.donor_blood_groups == (0.4814, 0.3373, 0.1428, 0.0385)
    assert (p.patient_female, p.donor_is_spouse) == (0.4090, 0.4897)
    assert p.pra_bands == (0.7019, 0.2, 0.0981)
    assert p.positive_crossmatch == (0.05, 0.45, 0.9)
    assert p.spousal_negative_crossmatch == 0.75
    # PrefLib 00036's %Pra values for a wife whose husband donates
    assert p.wife_positive_crossmatch() == (0.2875, 0.5875, 0.925)
    total = sum(c.probability for c in kept_categories(p))
    assert math.isclose(total, 1.0)


def test_incompatible_probability_matches_the_oracle() -> None:
    p = SaidmanParameters()
    wife = p.patient_female * p.donor_is_spouse
    kept = 0.0
    for (i, gp), (j, gd) in itertools.product(enumerate(BLOOD_GROUP_ORDER), repeat=2):
        for is_wife, band in itertools.product((False, True), range(3)):
            x = p.positive_crossmatch[band]
            cpra = 1 - 0.75 * (1 - x) if is_wife else x
            weight = p.patient_blood_groups[i] * p.donor_blood_groups[j] * p.pra_bands[band]
            weight *= wife if is_wife else 1 - wife
            kept += weight * (cpra if abo(gd, gp) else 1.0)
    assert math.isclose(p.incompatible_probability(), kept)
    assert 0.52 < kept < 0.53


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"patient_blood_groups": (0.5, 0.5, 0.5, 0.0)}, "patient_blood_groups"),
        ({"donor_blood_groups": (1.0, 0.0, 0.0)}, "donor_blood_groups"),
        ({"patient_female": 1.2}, "patient_female"),
        ({"donor_is_spouse": -0.1}, "donor_is_spouse"),
        ({"pra_bands": (0.7, 0.2, 0.2)}, "pra_bands"),
        ({"positive_crossmatch": (0.05, 0.45, 1.9)}, "positive_crossmatch"),
        ({"positive_crossmatch": (0.05, 0.45)}, "positive_crossmatch"),
        ({"spousal_negative_crossmatch": True}, "spousal_negative_crossmatch"),
    ],
)
def test_bad_parameters_are_refused(changes: dict[str, object], field: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(field)):
        SaidmanParameters(**changes)  # type: ignore[arg-type]


def test_parameters_that_make_every_pair_compatible_are_refused() -> None:
    always_compatible = SaidmanParameters(
        patient_blood_groups=(0.0, 0.0, 0.0, 1.0),
        positive_crossmatch=(0.0, 0.0, 0.0),
        spousal_negative_crossmatch=1.0,
    )
    assert always_compatible.incompatible_probability() == 0.0
    with pytest.raises(ConfigError, match="compatible"):
        generate_saidman(3, seed=1, parameters=always_compatible)
    # ... but an altruists-only pool needs no pair.
    assert len(generate_saidman(0, 2, seed=1, parameters=always_compatible).altruists) == 2


def test_custom_parameters_are_used() -> None:
    all_o = SaidmanParameters(
        patient_blood_groups=(1.0, 0.0, 0.0, 0.0), donor_blood_groups=(0.0, 1.0, 0.0, 0.0)
    )
    pool = generate_saidman(20, seed=4, parameters=all_o)
    assert {p.blood_group for p in pool.patients} == {BloodGroup.O}
    assert {d.blood_group for d in pool.donors} == {BloodGroup.A}
    assert not pool.arcs  # A donors cannot give to O patients


# -- published statistics on a large pool --------------------------------------------------


def chi_square_pvalue(observed: Counter[Any], expected: Mapping[Any, float]) -> float:
    keys = sorted(expected, key=str)
    n = sum(observed.values())
    assert set(observed) <= set(keys)
    result = stats.chisquare([observed[k] for k in keys], [n * expected[k] for k in keys])
    return float(result.pvalue)


def test_patient_blood_groups_are_skewed_towards_o(large: Instance) -> None:
    expected = marginal(kept_categories(SaidmanParameters()), "patient")
    observed: Counter[object] = Counter(p.blood_group for p in large.patients)
    assert chi_square_pvalue(observed, expected) > 1e-4
    # O patients can receive only from O donors, so they are over-represented among
    # incompatible pairs (0.4814 in the population); AB patients are rare.
    assert expected[BloodGroup.O] > 0.55
    assert observed[BloodGroup.O] / LARGE_PAIRS > 0.53
    assert observed[BloodGroup.AB] / LARGE_PAIRS < 0.03


def test_paired_donor_blood_groups(large: Instance) -> None:
    expected = marginal(kept_categories(SaidmanParameters()), "donor")
    observed: Counter[object] = Counter(d.blood_group for d in large.donors[:LARGE_PAIRS])
    assert chi_square_pvalue(observed, expected) > 1e-4


def test_altruist_blood_groups_follow_the_population(large: Instance) -> None:
    expected = dict(zip(BLOOD_GROUP_ORDER, SaidmanParameters().donor_blood_groups, strict=True))
    observed: Counter[object] = Counter(a.donor.blood_group for a in large.altruists)
    assert chi_square_pvalue(observed, expected) > 1e-4


def test_cpra_values_follow_the_pra_bands(large: Instance) -> None:
    expected = marginal(kept_categories(SaidmanParameters()), "cpra")
    observed: Counter[object] = Counter(round(p.cpra or 0.0, 9) for p in large.patients)
    assert chi_square_pvalue(observed, expected) > 1e-4
    # Drawn bands are 70.19 / 20 / 9.81 %; discarding compatible pairs shifts the kept
    # ones towards higher PRA.
    high = (observed[0.9] + observed[0.925]) / LARGE_PAIRS
    assert expected[0.9] + expected[0.925] > 0.0981
    assert abs(high - (expected[0.9] + expected[0.925])) < 5 * math.sqrt(0.25 / LARGE_PAIRS)


def test_abo_compatible_pairs_appear_only_at_the_positive_crossmatch_rate(
    large: Instance,
) -> None:
    cats = kept_categories(SaidmanParameters())
    p_abo = sum(c.probability for c in cats if abo(c.donor, c.patient))
    by_cpra: Counter[object] = Counter(
        round(p.cpra or 0.0, 9)
        for p, d in zip(large.patients, large.donors[:LARGE_PAIRS], strict=True)
        if d.blood_group and p.blood_group and abo(d.blood_group, p.blood_group)
    )
    n_abo = sum(by_cpra.values())
    assert abs(n_abo / LARGE_PAIRS - p_abo) < 5 * math.sqrt(p_abo * (1 - p_abo) / LARGE_PAIRS)
    # Among ABO-compatible pairs, a low-PRA patient stays only after a 5 % positive
    # crossmatch: most of them are highly sensitised instead.
    expected = {
        k: v / p_abo
        for k, v in marginal([c for c in cats if abo(c.donor, c.patient)], "cpra").items()
    }
    assert chi_square_pvalue(by_cpra, expected) > 1e-4
    assert by_cpra[0.05] / n_abo < 0.2


def test_arc_density_matches_the_parameters(large: Instance) -> None:
    s = describe(large)
    density = expected_density(SaidmanParameters())
    assert 0.245 < density < 0.252  # 0.2485 with the published parameters
    assert abs(s.density - density) < 0.01
    assert s.arcs == s.pair_arcs + s.altruist_arcs
    assert s.own_donor_arcs == 0


def test_arcs_exist_with_probability_one_minus_cpra(large: Instance) -> None:
    groups = {g: k for k, g in enumerate(BLOOD_GROUP_ORDER)}
    donor_group = np.array([groups[d.blood_group] for d in large.donors])  # type: ignore[index]
    patient_group = np.array([groups[p.blood_group] for p in large.patients])  # type: ignore[index]
    cpra = np.array([p.cpra for p in large.patients])
    row = {d.id: k for k, d in enumerate(large.donors)}
    arc = np.zeros((len(large.donors), LARGE_PAIRS), dtype=bool)
    arc[[row[a.donor] for a in large.arcs], [index(a.patient) for a in large.arcs]] = True
    rule = np.array([[abo(d, p) for p in BLOOD_GROUP_ORDER] for d in BLOOD_GROUP_ORDER])
    eligible = rule[donor_group][:, patient_group]
    eligible[np.arange(LARGE_PAIRS), np.arange(LARGE_PAIRS)] = False
    assert not (arc & ~eligible).any()
    for value in np.unique(cpra):
        cols = cpra == value
        trials = int(eligible[:, cols].sum())
        hits = int(arc[:, cols].sum())
        p = 1 - value
        # arcs into one patient share that patient, not the draws: binomial bounds hold
        assert abs(hits / trials - p) < 5 * math.sqrt(p * (1 - p) / trials) + 1e-3, value


def preflib_pair_densities(pairs: int) -> Iterator[float]:
    for wmd in sorted(PREFLIB_00036.glob("*.wmd")):
        text = wmd.read_text()
        if f"TITLE: Kidney Matching - {pairs} with 0" not in text:
            continue
        arcs = 0
        for line in text.splitlines():
            if line and not line.startswith("#"):
                source, target, weight = line.split(",")
                arcs += float(weight) > 0 and int(source) <= pairs and int(target) <= pairs
        yield arcs / (pairs * (pairs - 1))


@pytest.mark.public_data
@pytest.mark.skipif(not PREFLIB_00036.is_dir(), reason="PrefLib 00036 not present")
def test_density_agrees_with_preflib_00036() -> None:
    preflib = list(preflib_pair_densities(256))
    assert len(preflib) == 10
    mean_preflib = sum(preflib) / len(preflib)
    ours = [describe(generate_saidman(256, seed=s)).density for s in range(10)]
    density = expected_density(SaidmanParameters())
    assert abs(mean_preflib - density) < 0.01
    assert abs(sum(ours) / len(ours) - mean_preflib) < 0.015
