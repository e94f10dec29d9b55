"""Summary figures of a pool: sizes, arcs, density, blood groups, cPRA, degrees."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from kidneyshare.model.blood import BloodGroup
from kidneyshare.model.instance import Instance

IntArray = npt.NDArray[np.int64]

__all__ = [
    "CPRA_HIGH",
    "CPRA_MEDIUM",
    "BloodGroupCounts",
    "CpraBands",
    "PoolStatistics",
    "arc_ends",
    "describe",
]

CPRA_MEDIUM = 0.2
"""Lowest cPRA counted as medium; below it a patient is in the low band."""
CPRA_HIGH = 0.8
"""Lowest cPRA counted as high."""


@dataclass(frozen=True, slots=True)
class BloodGroupCounts:
    """How many people have each ABO group; ``unknown`` where none is recorded."""

    O: int = 0  # noqa: E741 - the blood group's name
    A: int = 0
    B: int = 0
    AB: int = 0
    unknown: int = 0

    @classmethod
    def of(cls, groups: Iterable[BloodGroup | None]) -> BloodGroupCounts:
        counts = {"O": 0, "A": 0, "B": 0, "AB": 0, "unknown": 0}
        for group in groups:
            counts["unknown" if group is None else group.value] += 1
        return cls(**counts)


@dataclass(frozen=True, slots=True)
class CpraBands:
    """Patients by cPRA: low below 0.2, medium from 0.2 to below 0.8, high from 0.8.

    With the Saidman generator's values: 0.05 is low; 0.2875 (a sensitised wife in the
    low band), 0.45 and 0.5875 are medium; 0.9 and 0.925 are high.
    """

    low: int = 0
    medium: int = 0
    high: int = 0
    unknown: int = 0

    @classmethod
    def of(cls, cpras: Iterable[float | None]) -> CpraBands:
        low = medium = high = unknown = 0
        for cpra in cpras:
            if cpra is None:
                unknown += 1
            elif cpra < CPRA_MEDIUM:
                low += 1
            elif cpra < CPRA_HIGH:
                medium += 1
            else:
                high += 1
        return cls(low=low, medium=medium, high=high, unknown=unknown)


@dataclass(frozen=True, slots=True)
class PoolStatistics:
    """Summary of one pool, as computed by :func:`describe`.

    A *pair vertex* is a patient with all their donors; an arc from any of a patient's
    donors to another patient is one pair-to-pair arc of the pair graph, however many
    donors give it.

    Attributes
    ----------
    pairs, altruists, donors:
        number of patients (pair vertices), non-directed donors, and all donors (paired
        and non-directed).
    arcs:
        donor -> patient arcs as recorded.
    pair_arcs:
        distinct pair -> other pair arcs of the pair graph.
    altruist_arcs:
        arcs from altruists.
    own_donor_arcs:
        arcs from a patient's own donor to that patient (a compatible pair; 0 in
        generated pools, which hold incompatible pairs only).
    density:
        ``pair_arcs / (pairs * (pairs - 1))``; 0.0 with fewer than two pairs.
    patient_blood_groups, donor_blood_groups:
        ABO counts of patients and of all donors (altruists included).
    cpra_bands:
        patients by cPRA band (:class:`CpraBands`).
    pairs_without_donor:
        pairs that no other pair's donor and no altruist can give to (in-degree 0 in
        the pool graph); such patients cannot be matched in this pool.
    mean_in_degree:
        arcs into a pair vertex from other pairs and from altruists, per pair.
    mean_out_degree:
        arcs from a pair vertex to other pairs, per pair (equals ``density * (pairs-1)``).
    """

    pairs: int
    altruists: int
    donors: int
    arcs: int
    pair_arcs: int
    altruist_arcs: int
    own_donor_arcs: int
    density: float
    patient_blood_groups: BloodGroupCounts
    donor_blood_groups: BloodGroupCounts
    cpra_bands: CpraBands
    pairs_without_donor: int
    mean_in_degree: float
    mean_out_degree: float


def arc_ends(instance: Instance) -> tuple[IntArray, IntArray, IntArray]:
    """For each arc (as columns): the number of its donor's paired patient (-1 for an
    altruist), of its patient, and of its donor, numbered in the pool's record order."""
    table = instance.arc_table()
    patient_number = {p.id: i for i, p in enumerate(instance.patients)}
    donor_number = {d.id: i for i, d in enumerate(instance.donors)}
    paired = {d.id: -1 if d.patient is None else patient_number[d.patient] for d in instance.donors}
    source = np.array([paired[d] for d in table.donors], dtype=np.int64)
    patient = np.array([patient_number[p] for p in table.patients], dtype=np.int64)
    donor = np.array([donor_number[d] for d in table.donors], dtype=np.int64)
    return source[table.donor], patient[table.patient], donor[table.donor]


def describe(instance: Instance) -> PoolStatistics:
    """Count what a pool holds and how richly it is connected.

    Parameters
    ----------
    instance:
        any pool; patients may have several donors, fields may be unknown.

    Returns
    -------
    PoolStatistics
        see its attributes for each figure's definition.

    Examples
    --------
    >>> from kidneyshare.model import Arc, Donor, Patient
    >>> pool = Instance(
    ...     [Patient("p1", "A", 0.05), Patient("p2", "O")],
    ...     [Donor("d1", "p1", "O"), Donor("d2", "p2", "A"), Donor("a1", None, "O")],
    ...     [Arc("d1", "p2"), Arc("a1", "p1"), Arc("a1", "p2")],
    ... )
    >>> s = describe(pool)
    >>> s.pair_arcs, s.altruist_arcs, s.density, s.pairs_without_donor
    (1, 2, 0.5, 0)
    """
    pairs = len(instance.patients)
    altruists = sum(1 for d in instance.donors if d.patient is None)
    several_donors = len(instance.donors) - altruists > pairs
    source, patient, _ = arc_ends(instance)
    from_altruist = source < 0
    own = source == patient
    between_pairs = ~from_altruist & ~own
    pair_arcs = int(between_pairs.sum())
    if several_donors:  # two donors of one pair giving to the same patient: one pair arc
        pair_arcs = len(np.unique(source[between_pairs] * pairs + patient[between_pairs]))
    altruist_arcs = int(from_altruist.sum())
    own_donor_arcs = int(own.sum())
    reached = len(np.unique(patient[~own]))
    return PoolStatistics(
        pairs=pairs,
        altruists=altruists,
        donors=len(instance.donors),
        arcs=len(instance.arcs),
        pair_arcs=pair_arcs,
        altruist_arcs=altruist_arcs,
        own_donor_arcs=own_donor_arcs,
        density=pair_arcs / (pairs * (pairs - 1)) if pairs >= 2 else 0.0,
        patient_blood_groups=BloodGroupCounts.of(p.blood_group for p in instance.patients),
        donor_blood_groups=BloodGroupCounts.of(d.blood_group for d in instance.donors),
        cpra_bands=CpraBands.of(p.cpra for p in instance.patients),
        pairs_without_donor=pairs - reached,
        mean_in_degree=(pair_arcs + altruist_arcs) / pairs if pairs else 0.0,
        mean_out_degree=pair_arcs / pairs if pairs else 0.0,
    )
