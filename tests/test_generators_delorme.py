"""The Delorme et al. (2022) UK generator: determinism, shape, and the published figures.

The statistical tests draw one large pool with a fixed seed and compare each figure with
the paper's within four standard errors (binomial), so that another seed would pass too.
"""

from __future__ import annotations

import math
import random
from collections import Counter

import numpy as np
import pytest
from typer.testing import CliRunner

from chance_expectation import expected_arcs
from kidneyshare.cli import app
from kidneyshare.errors import ConfigError
from kidneyshare.generators.delorme import (
    ALTRUIST_GROUPS,
    CPRA_ABO_COMPATIBLE_DONOR,
    CPRA_NO_ABO_COMPATIBLE_DONOR,
    DONORS_PER_PATIENT,
    PAIRED_DONOR_GROUPS,
    PATIENT_GROUPS,
    UK_LIVING_DONOR_AGES,
    DelormeParameters,
    compatibility_chance,
    generate_delorme,
)
from kidneyshare.model import BloodGroup, Instance

ORDER = [BloodGroup.O, BloodGroup.A, BloodGroup.B, BloodGroup.AB]
PAIRS, ALTRUISTS = 4000, 1500


@pytest.fixture(scope="module")
def large() -> Instance:
    return generate_delorme(PAIRS, ALTRUISTS, seed=2022)


def within(observed: int, n: int, p: float, sigmas: float = 4.0) -> bool:
    """Whether ``observed`` successes of ``n`` are within ``sigmas`` binomial SEs of p."""
    return abs(observed - n * p) <= sigmas * math.sqrt(n * p * (1 - p)) + 1


def test_same_seed_same_pool_and_no_global_state() -> None:
    random.seed(1)
    np.random.seed(1)
    before = (random.random(), np.random.random())
    random.seed(1)
    np.random.seed(1)
    pool = generate_delorme(60, 6, seed=7)
    assert pool == generate_delorme(60, 6, seed=7)
    assert pool != generate_delorme(60, 6, seed=8)
    assert (random.random(), np.random.random()) == before


def test_shape_ids_and_arcs(large: Instance) -> None:
    assert len(large.patients) == PAIRS and len(large.altruists) == ALTRUISTS
    assert large.name == f"delorme-{PAIRS}-{ALTRUISTS}-seed2022"
    donors = large.donor_index
    for arc in large.arcs[:20000]:
        donor = donors[arc.donor]
        patient = large.patient(arc.patient)
        assert donor.patient != patient.id
        assert donor.blood_group is not None and patient.blood_group is not None
        assert donor.blood_group.can_donate_to(patient.blood_group)
        assert arc.weight == 1.0
    assert all(d.age is not None and 18 <= d.age <= 80 for d in large.donors)
    assert large.donors[0].id == "p1_d1"


def test_patient_and_altruist_blood_groups(large: Instance) -> None:
    patients = Counter(p.blood_group for p in large.patients)
    altruists = Counter(a.donor.blood_group for a in large.altruists)
    for group, p_patient, p_altruist in zip(ORDER, PATIENT_GROUPS, ALTRUIST_GROUPS, strict=True):
        assert within(patients[group], PAIRS, p_patient), group
        assert within(altruists[group], ALTRUISTS, p_altruist), group


def test_donors_per_patient_and_their_groups(large: Instance) -> None:
    counts = Counter(len(large.donors_of(p.id)) for p in large.patients)
    for k, probability in enumerate(DONORS_PER_PATIENT, start=1):
        assert within(counts[k], PAIRS, probability), k
    for row, patient_group in enumerate(ORDER):
        donors = [
            d.blood_group
            for p in large.patients
            if p.blood_group is patient_group
            for d in large.donors_of(p.id)
        ]
        seen = Counter(donors)
        for column, donor_group in enumerate(ORDER):
            assert within(seen[donor_group], len(donors), PAIRED_DONOR_GROUPS[row][column])


def _has_compatible_donor(pool: Instance, patient_id: str) -> bool:
    patient = pool.patient(patient_id)
    assert patient.blood_group is not None
    return any(
        d.blood_group is not None and d.blood_group.can_donate_to(patient.blood_group)
        for d in pool.donors_of(patient_id)
    )


@pytest.mark.parametrize(
    ("with_compatible", "bands"),
    [(True, CPRA_ABO_COMPATIBLE_DONOR), (False, CPRA_NO_ABO_COMPATIBLE_DONOR)],
)
def test_cpra_distribution(large: Instance, with_compatible: bool, bands: tuple) -> None:
    cpras = [
        p.cpra
        for p in large.patients
        if _has_compatible_donor(large, p.id) is with_compatible and p.cpra is not None
    ]
    n = len(cpras)
    assert n > 300
    for low, high, probability in bands:
        if low == high:
            observed = sum(1 for c in cpras if math.isclose(c, low))
        else:
            observed = sum(1 for c in cpras if low <= c < high)
        assert within(observed, n, probability), (low, high)


def test_arcs_follow_the_compatibility_chance(large: Instance) -> None:
    """Given cPRA, each ABO-compatible donor's arc is an independent draw with the
    patient's chance: compare the arcs received with their expectation and variance."""
    expected, variance = expected_arcs(large)
    assert abs(len(large.arcs) - expected) <= 4 * math.sqrt(variance)


def test_donor_ages_follow_the_published_uk_shares(large: Instance) -> None:
    """17.0 % of UK living donors aged 60 or over, 5.8 % aged 65 or over (the module's
    sources); every age in 18-80."""
    ages = [d.age for d in large.donors]
    assert all(a is not None and 18 <= a < 80 for a in ages)
    n = len(ages)
    assert within(sum(1 for a in ages if a is not None and a >= 60), n, 0.170)
    assert within(sum(1 for a in ages if a is not None and a >= 65), n, 0.058)
    assert math.isclose(sum(b[2] for b in UK_LIVING_DONOR_AGES if b[0] >= 60), 0.170)
    assert math.isclose(sum(b[2] for b in UK_LIVING_DONOR_AGES if b[0] >= 65), 0.058)


def test_compatibility_rules() -> None:
    assert compatibility_chance("band-pra0", 0.0, 0.33) == 0.33
    assert compatibility_chance("band", 0.0, 0.33) == pytest.approx(0.5651)
    assert compatibility_chance("band", 0.6, 0.0) == pytest.approx(-0.64194 * 0.6 + 0.6578)
    assert compatibility_chance("band", 0.97, 0.0) == 0.025
    assert compatibility_chance("band", 1.0, 0.0) == 0.012
    assert compatibility_chance("tweak", 0.5, 0.0) == pytest.approx(0.275)
    assert compatibility_chance("calc", 1.0, 0.0) == pytest.approx(0.03)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"patient_groups": (0.5, 0.5, 0.5, 0.5)}, "patient_groups"),
        ({"compatibility_rule": "nope"}, "compatibility_rule"),
        ({"donor_age_bands": ((18, 80, 0.5),)}, "donor_age_bands"),
    ],
)
def test_bad_parameters(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(ConfigError, match=field):
        DelormeParameters(**kwargs)  # type: ignore[arg-type]


def test_bad_counts() -> None:
    with pytest.raises(ConfigError, match="pairs"):
        generate_delorme(-1, seed=1)
    with pytest.raises(ConfigError, match="at least one"):
        generate_delorme(0, 0, seed=1)


def test_cli_generate_delorme() -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["generate", "--pairs", "30", "--seed", "4", "--model", "delorme"])
    assert result.exit_code == 0, result.output
    assert '"name": "delorme-30-0-seed4"' in result.stdout
