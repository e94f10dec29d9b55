"""Helpers for the format tests: small pools, comparison as sets, projections.

``pools()`` draws small random pools (Hypothesis); ``pool_key`` compares two pools as
sets of patients, donors and arcs (formats group arcs by donor, so arc order is not
kept by every format); ``projected`` drops what a format cannot hold.
"""

from __future__ import annotations

from dataclasses import replace

from hypothesis import strategies as st

from kidneyshare.model import Arc, BloodGroup, Donor, DonorId, Instance, Patient, PatientId

__all__ = ["canonical_pools", "pool_key", "pools", "projected", "tiny_pool"]

PoolKey = tuple[frozenset[Patient], frozenset[Donor], frozenset[Arc], int, int, int]


def pool_key(instance: Instance) -> PoolKey:
    """The pool as sets, with the record counts (so that a lost duplicate shows)."""
    return (
        frozenset(instance.patients),
        frozenset(instance.donors),
        frozenset(instance.arcs),
        len(instance.patients),
        len(instance.donors),
        len(instance.arcs),
    )


def projected(
    instance: Instance,
    *,
    name: bool = True,
    patient_details: bool = True,
    patient_age: bool = True,
    probability: bool = True,
    altruist_details: bool = True,
    donor_age: bool = True,
    donor_groups: bool = True,
) -> Instance:
    """``instance`` without the fields a format has no place for."""
    patients = [
        replace(
            p,
            blood_group=p.blood_group if patient_details else None,
            cpra=p.cpra if patient_details else None,
            age=p.age if patient_age and patient_details else None,
        )
        for p in instance.patients
    ]
    donors = [
        d if d.patient is not None or altruist_details else replace(d, blood_group=None, age=None)
        for d in instance.donors
    ]
    donors = [d if donor_age else replace(d, age=None) for d in donors]
    donors = [d if donor_groups else replace(d, blood_group=None) for d in donors]
    arcs = [a if probability else replace(a, probability=None) for a in instance.arcs]
    return Instance(patients, donors, arcs, instance.name if name else "")


def tiny_pool() -> Instance:
    """Two pairs (one patient with two donors), an altruist, every optional field."""
    p1, p2 = PatientId("p1"), PatientId("p2")
    return Instance(
        [Patient(p1, BloodGroup.O, 0.25, 51.0), Patient(p2, BloodGroup.AB, None, None)],
        [
            Donor(DonorId("d1"), p1, BloodGroup.A, 48.0),
            Donor(DonorId("d1b"), p1, None, None),
            Donor(DonorId("d2"), p2, BloodGroup.O, 30.5),
            Donor(DonorId("a1"), None, BloodGroup.B, 60.0),
        ],
        [
            Arc(DonorId("d1"), p2, 1.0, None),
            Arc(DonorId("d2"), p1, 2.5, 0.9),
            Arc(DonorId("a1"), p2, 0.0, 1.0),
            Arc(DonorId("d1b"), p2, 7.0, None),
        ],
        name="tiny",
    )


_GROUPS = st.none() | st.sampled_from(list(BloodGroup))
_FRACTIONS = st.none() | st.floats(0.0, 1.0)
_AGES = st.none() | st.floats(0.0, 120.0)
_WEIGHTS = st.integers(0, 10).map(float) | st.floats(0.0, 1e6)
_PROBABILITIES = st.none() | st.floats(0.0, 1.0, exclude_min=True)
TEXT_IDS = st.text(min_size=1, max_size=8).filter(lambda s: s == s.strip())
XML_IDS = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Co", "Cn")),
    min_size=1,
    max_size=8,
).filter(lambda s: s == s.strip())
NUMBER_IDS = st.integers(0, 10_000).map(str)


@st.composite
def pools(draw: st.DrawFn, ids: st.SearchStrategy[str] = TEXT_IDS) -> Instance:
    """A small pool with any ids from ``ids``, up to two donors per patient, altruists,
    and every optional field sometimes set."""
    patient_ids = draw(st.lists(ids, max_size=5, unique=True))
    donor_ids = draw(st.lists(ids, min_size=1, max_size=9, unique=True))
    # each patient takes one donor id, some a second; the rest are altruists
    if len(donor_ids) < len(patient_ids):
        patient_ids = patient_ids[: len(donor_ids)]
    patients = [
        Patient(PatientId(pid), draw(_GROUPS), draw(_FRACTIONS), draw(_AGES)) for pid in patient_ids
    ]
    owners: list[str | None] = list(patient_ids)
    for _ in donor_ids[len(patient_ids) :]:
        owners.append(draw(st.none() | st.sampled_from(patient_ids)) if patient_ids else None)
    donors = [
        Donor(DonorId(did), None if owner is None else PatientId(owner), draw(_GROUPS), draw(_AGES))
        for did, owner in zip(donor_ids, owners, strict=True)
    ]
    possible = [(d.id, p.id) for d in donors for p in patients]
    chosen = draw(st.lists(st.sampled_from(possible), unique=True)) if possible else []
    arcs = [Arc(d, p, draw(_WEIGHTS), draw(_PROBABILITIES)) for d, p in chosen]
    name = draw(st.text(max_size=10))
    return Instance(patients, donors, arcs, name)


@st.composite
def canonical_pools(draw: st.DrawFn) -> Instance:
    """A pool as PrefLib numbers it: pair i is patient "i" with donor "i" (i = 1..P),
    altruist j is donor "P+j"; no ages, no probabilities, altruists without details."""
    pairs = draw(st.integers(0, 6))
    altruists = draw(st.integers(0 if pairs else 1, 3))
    patients = [
        Patient(PatientId(str(i)), draw(_GROUPS), draw(_FRACTIONS)) for i in range(1, pairs + 1)
    ]
    donors = [Donor(DonorId(str(i)), PatientId(str(i)), draw(_GROUPS)) for i in range(1, pairs + 1)]
    donors += [Donor(DonorId(str(pairs + j))) for j in range(1, altruists + 1)]
    possible = [(d.id, p.id) for d in donors for p in patients]
    chosen = draw(st.lists(st.sampled_from(possible), unique=True)) if possible else []
    arcs = [Arc(d, p, draw(_WEIGHTS)) for d, p in chosen]
    name = draw(st.text(max_size=10).filter(lambda s: s.splitlines() in ([], [s]))).strip()
    return Instance(patients, donors, arcs, name)
