"""The clinical-records generator: complete records, incompatible pairs, cPRA that follows
the published UK distribution, and crossmatch rates that match each patient's cPRA."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest

from chance_expectation import expected_arcs
from kidneyshare.compatibility import virtual_crossmatch
from kidneyshare.compatibility.builder import build_pool
from kidneyshare.compatibility.cpra import (
    PanelDonor,
    ReferencePanel,
    calculated_reaction_frequency,
    default_panel,
)
from kidneyshare.compatibility.records import ClinicalPool
from kidneyshare.compatibility.records_json import dump_records, parse_records
from kidneyshare.errors import ConfigError
from kidneyshare.generators.clinical import ClinicalParameters, generate_clinical
from kidneyshare.generators.delorme import (
    ALTRUIST_GROUPS,
    CPRA_ABO_COMPATIBLE_DONOR,
    CPRA_NO_ABO_COMPATIBLE_DONOR,
    PAIRED_DONOR_GROUPS,
    PATIENT_GROUPS,
)
from kidneyshare.model import BloodGroup, describe

ORDER = [BloodGroup.O, BloodGroup.A, BloodGroup.B, BloodGroup.AB]


def within(observed: int, n: int, p: float) -> bool:
    """Whether ``observed`` successes of ``n`` are within four binomial SEs of ``p``."""
    return abs(observed - n * p) <= 4 * math.sqrt(n * p * (1 - p)) + 1


@pytest.fixture(scope="module")
def pool() -> ClinicalPool:
    return generate_clinical(300, 15, seed=11)


def has_abo_compatible_donor(pool: ClinicalPool, patient_id: str) -> bool:
    patient = next(p for p in pool.patients if p.id == patient_id)
    return any(
        d.abo.group.can_donate_to(patient.abo.group) for d in pool.donors if d.patient == patient_id
    )


def test_same_seed_same_records() -> None:
    assert generate_clinical(12, 2, seed=3) == generate_clinical(12, 2, seed=3)
    assert generate_clinical(12, 2, seed=3) != generate_clinical(12, 2, seed=4)


def test_records_are_complete_and_round_trip(pool: ClinicalPool) -> None:
    assert len(pool.patients) == 300
    assert sum(d.patient is None for d in pool.donors) == 15
    for p in pool.patients:
        assert p.hla is not None and p.unacceptable is not None and p.cpra is not None
        assert p.age is not None and p.sex is not None and p.centre is not None
        assert p.registered is not None and p.registered <= p.recorded  # type: ignore[operator]
        # nobody is listed unacceptable for an antigen of their own
        assert not virtual_crossmatch(p.hla.specificities, p.unacceptable).positive
    for d in pool.donors:
        assert d.hla is not None and d.age is not None and d.egfr is not None
        assert 18 <= d.age <= 80 and 60 <= d.egfr <= 140
    assert parse_records(dump_records(pool)) == pool


def test_every_pair_is_incompatible(pool: ClinicalPool) -> None:
    """A patient whose donor is ABO-compatible has a positive crossmatch with them."""
    for donor in pool.donors:
        if donor.patient is None:
            continue
        patient = next(p for p in pool.patients if p.id == donor.patient)
        if donor.abo.group.can_donate_to(patient.abo.group):
            assert donor.hla is not None and patient.unacceptable is not None
            assert virtual_crossmatch(donor.hla.specificities, patient.unacceptable).positive


def test_recorded_cpra_is_against_the_default_panel(pool: ClinicalPool) -> None:
    panel = default_panel()
    for p in pool.patients[:40]:
        assert p.unacceptable is not None
        assert p.cpra == round(calculated_reaction_frequency(p.unacceptable, panel), 4)


def test_blood_groups_follow_the_published_figures(pool: ClinicalPool) -> None:
    """Patients' groups (PATIENT_GROUPS), paired donors' groups given their patient's
    (PAIRED_DONOR_GROUPS) and altruists' groups (ALTRUIST_GROUPS), each within four
    binomial standard errors."""
    patients = Counter(p.abo.group for p in pool.patients)
    for group, probability in zip(ORDER, PATIENT_GROUPS, strict=True):
        assert within(patients[group], len(pool.patients), probability), group
    group_of = {p.id: p.abo.group for p in pool.patients}
    paired = [d for d in pool.donors if d.patient is not None]
    for column, group in enumerate(ORDER):
        chances = [PAIRED_DONOR_GROUPS[ORDER.index(group_of[d.patient])][column] for d in paired]
        seen = sum(1 for d in paired if d.abo.group is group)
        spread = math.sqrt(sum(c * (1 - c) for c in chances))
        assert abs(seen - sum(chances)) <= 4 * spread + 1, group
    altruists = Counter(d.abo.group for d in pool.donors if d.patient is None)
    for group, probability in zip(ORDER, ALTRUIST_GROUPS, strict=True):
        assert within(altruists[group], 15, probability), group


def test_cpra_bands_follow_the_published_distribution(pool: ClinicalPool) -> None:
    """Each patient's target cPRA comes from the published distribution for patients with
    (or without) an ABO-compatible donor, and the recorded cPRA is within ``tolerance``
    of it: so for every band edge e, the patients recorded at or above e + 0.02 are at
    most, and those at or above e - 0.02 at least, the published share at or above e
    (within four standard errors). Patients without an ABO-compatible donor are at
    cPRA 0 in the published share (35.7 %): no antigen is forced on them."""
    tolerance = ClinicalParameters().tolerance
    cpras = [p.cpra or 0.0 for p in pool.patients]
    bands = [
        CPRA_ABO_COMPATIBLE_DONOR
        if has_abo_compatible_donor(pool, p.id)
        else CPRA_NO_ABO_COMPATIBLE_DONOR
        for p in pool.patients
    ]
    for edge in (0.01, 0.5, 0.85, 0.95):
        shares = [sum(b[2] for b in published if b[0] >= edge) for published in bands]
        expected = sum(shares)
        spread = 4 * math.sqrt(sum(q * (1 - q) for q in shares)) + 1
        assert sum(1 for c in cpras if c >= edge + tolerance) <= expected + spread, edge
        assert sum(1 for c in cpras if c >= edge - tolerance) >= expected - spread, edge
    without = [c for c, b in zip(cpras, bands, strict=True) if b is CPRA_NO_ABO_COMPATIBLE_DONOR]
    p0 = CPRA_NO_ABO_COMPATIBLE_DONOR[0][2]
    assert within(sum(1 for c in without if c == 0), len(without), p0)


def test_arc_density_follows_the_published_compatibility_chance(pool: ClinicalPool) -> None:
    """Arcs from crossmatch and the centres' declines together are as many as the
    published compatibility chance of each patient's cPRA gives (within four standard
    deviations), so the pool is as dense as the Delorme et al. model's (about 0.066);
    crossmatch alone would make it about twice as dense."""
    built = build_pool(pool)
    expected, variance = expected_arcs(built.instance)
    assert abs(len(built.instance.arcs) - expected) <= 4 * math.sqrt(variance)
    crossmatch_only = build_pool(
        generate_clinical(300, 15, seed=11, parameters=ClinicalParameters(centre_declines=False))
    )
    assert describe(crossmatch_only.instance).density > 1.5 * describe(built.instance).density
    assert all(not p.declined_donors for p in crossmatch_only.records.patients)


def test_declines_are_of_compatible_donors_and_explained(pool: ClinicalPool) -> None:
    """A centre declines only a donor who is otherwise compatible (other than the
    patient's own), and the builder says so."""
    built = build_pool(pool)
    declined = [(d, p.id) for p in pool.patients for d in p.declined_donors]
    assert len(declined) == built.exclusions["declined"] > 0
    for donor, patient in declined[:300]:
        assessment = built.why(donor, patient)
        assert assessment.compatibility.compatible and not assessment.own_donor
        assert not assessment.is_arc and "do-not-match" in assessment.reasons()[-1]


BANDS = [(0.0, 0.01), (0.01, 0.5), (0.5, 0.85), (0.85, 0.95), (0.95, 1.01)]


def test_crossmatch_rates_with_pool_donors_match_the_cpra_bands(pool: ClinicalPool) -> None:
    """The pool's donors come from the panel's frequencies, so each band's mean rate of
    positive crossmatches with them matches its mean cPRA (315 donors: SE about 0.03 for
    one patient, much less for a band's mean)."""
    donors = ReferencePanel(
        tuple(PanelDonor(d.id, d.abo.group, d.hla) for d in pool.donors if d.hla is not None)
    )
    for low, high in BANDS:
        patients = [p for p in pool.patients if p.cpra is not None and low <= p.cpra < high]
        if len(patients) < 5:
            continue
        rates = [calculated_reaction_frequency(p.unacceptable or (), donors) for p in patients]
        cpras = [p.cpra for p in patients]
        assert abs(float(np.mean(rates)) - float(np.mean(cpras))) < 0.05, (low, high)


def test_three_hundred_records_build_with_every_combination_explained(pool: ClinicalPool) -> None:
    built = build_pool(pool)
    stats = describe(built.instance)
    assert stats.pairs == 300 and stats.own_donor_arcs == 0
    assert 0.02 < stats.density < 0.5
    arcs = {(a.donor, a.patient) for a in built.instance.arcs}
    for patient in pool.patients[:10]:
        for donor in pool.donors:
            assessment = built.why(donor.id, patient.id)
            assert assessment.is_arc is ((donor.id, patient.id) in arcs)
            assert assessment.reasons()
    assert sum(built.exclusions.values()) + len(arcs) == 300 * len(pool.donors) - sum(
        1 for d in pool.donors if d.patient is not None
    )


def test_bad_arguments() -> None:
    with pytest.raises(ConfigError, match="tolerance"):
        ClinicalParameters(tolerance=0)
    with pytest.raises(ConfigError, match="at least one"):
        generate_clinical(0, 0, seed=1)
