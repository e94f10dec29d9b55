"""describe(): every figure checked by hand on small pools."""

from __future__ import annotations

import dataclasses

import pytest

import kidneyshare.model as model
from kidneyshare.model import Arc, Donor, DonorId, Instance, Patient, PatientId, describe
from kidneyshare.model.statistics import BloodGroupCounts, CpraBands, PoolStatistics


def patient(pid: str, group: str | None, cpra: float | None) -> Patient:
    return Patient(PatientId(pid), blood_group=group, cpra=cpra)  # type: ignore[arg-type]


def donor(did: str, pid: str | None, group: str | None) -> Donor:
    return Donor(
        DonorId(did),
        patient=None if pid is None else PatientId(pid),
        blood_group=group,  # type: ignore[arg-type]
    )


def arc(did: str, pid: str) -> Arc:
    return Arc(DonorId(did), PatientId(pid))


@pytest.fixture
def pool() -> Instance:
    """Five pairs (p2 with two donors), two altruists, eleven arcs.

    Pair graph: 1->2, 1->3, 2->1 (from d2 and from d2b: one vertex arc), 2->3, 3->1,
    5->4; d1->p1 is an own-donor arc. Altruists: a1->p1, a1->p2, a2->p3. Nobody reaches
    p5.
    """
    return Instance(
        patients=[
            patient("p1", "A", 0.05),  # low
            patient("p2", "O", 0.2),  # medium: 0.2 is the lower bound of medium
            patient("p3", "B", 0.9),  # high
            patient("p4", "AB", None),  # unknown
            patient("p5", "O", 0.8),  # high: 0.8 is the lower bound of high
        ],
        donors=[
            donor("d1", "p1", "O"),
            donor("d2", "p2", "A"),
            donor("d2b", "p2", "B"),
            donor("d3", "p3", "A"),
            donor("d4", "p4", None),
            donor("d5", "p5", "AB"),
            donor("a1", None, "O"),
            donor("a2", None, "B"),
        ],
        arcs=[
            arc("d1", "p2"),
            arc("d1", "p3"),
            arc("d1", "p1"),
            arc("d2", "p1"),
            arc("d2b", "p1"),
            arc("d2b", "p3"),
            arc("d3", "p1"),
            arc("d5", "p4"),
            arc("a1", "p1"),
            arc("a1", "p2"),
            arc("a2", "p3"),
        ],
        name="hand-made",
    )


def test_describe_hand_checked_pool(pool: Instance) -> None:
    assert describe(pool) == PoolStatistics(
        pairs=5,
        altruists=2,
        donors=8,
        arcs=11,
        pair_arcs=6,
        altruist_arcs=3,
        own_donor_arcs=1,
        density=6 / 20,
        patient_blood_groups=BloodGroupCounts(O=2, A=1, B=1, AB=1, unknown=0),
        donor_blood_groups=BloodGroupCounts(O=2, A=2, B=2, AB=1, unknown=1),
        cpra_bands=CpraBands(low=1, medium=1, high=2, unknown=1),
        pairs_without_donor=1,
        mean_in_degree=(6 + 3) / 5,
        mean_out_degree=6 / 5,
    )


def test_single_donor_pool_counts_arcs_directly() -> None:
    # p1 <-> p2 two-way, p3 reached only by its own donor.
    pool = Instance(
        [patient("p1", "A", 0.5), patient("p2", "A", 0.5), patient("p3", "B", 0.95)],
        [donor("d1", "p1", "A"), donor("d2", "p2", "A"), donor("d3", "p3", "B")],
        [arc("d1", "p2"), arc("d2", "p1"), arc("d3", "p3")],
    )
    s = describe(pool)
    assert (s.pair_arcs, s.own_donor_arcs, s.altruist_arcs) == (2, 1, 0)
    assert s.density == pytest.approx(2 / 6)
    assert s.pairs_without_donor == 1
    assert s.mean_in_degree == s.mean_out_degree == pytest.approx(2 / 3)
    assert s.cpra_bands == CpraBands(medium=2, high=1)


def test_pools_too_small_for_a_density() -> None:
    one_pair = Instance([patient("p1", None, None)], [donor("d1", "p1", None)], [])
    s = describe(one_pair)
    assert (s.pairs, s.density, s.pairs_without_donor) == (1, 0.0, 1)
    assert s.patient_blood_groups == BloodGroupCounts(unknown=1)
    only_altruists = Instance([], [donor("a1", None, "O")], [])
    s = describe(only_altruists)
    assert (s.pairs, s.altruists, s.donors, s.density) == (0, 1, 1, 0.0)
    assert s.mean_in_degree == s.mean_out_degree == 0.0


def test_statistics_are_frozen_and_exported(pool: Instance) -> None:
    s = describe(pool)
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.arcs = 0  # type: ignore[misc]
    assert {"PoolStatistics", "describe"} <= set(model.__all__)
    assert model.describe is describe
