"""The clinical-records generator: complete records, incompatible pairs, cPRA that follows
the published UK distribution, and crossmatch rates that match each patient's cPRA."""

from __future__ import annotations

import math

import numpy as np
import pytest

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
from kidneyshare.generators.delorme import CPRA_NO_ABO_COMPATIBLE_DONOR
from kidneyshare.model import describe


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


def test_cpra_follows_the_published_distribution(pool: ClinicalPool) -> None:
    """Patients without an ABO-compatible donor: the unsensitised share (cPRA 0, 35.7 %)
    is reproduced exactly by the choice (no antigen is forced), and the share at or above
    0.85 (published 0.29) within four binomial SEs plus the 0.02 tolerance band."""
    cpras = [p.cpra for p in pool.patients if not has_abo_compatible_donor(pool, p.id)]
    n = len(cpras)
    zero = sum(1 for c in cpras if c == 0)
    p0 = CPRA_NO_ABO_COMPATIBLE_DONOR[0][2]
    assert abs(zero - n * p0) <= 4 * math.sqrt(n * p0 * (1 - p0))
    high_published = sum(b[2] for b in CPRA_NO_ABO_COMPATIBLE_DONOR if b[0] >= 0.85)
    high = sum(1 for c in cpras if c is not None and c >= 0.85 - 0.02)
    assert abs(high - n * high_published) <= 4 * math.sqrt(n * high_published) + 0.05 * n


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
