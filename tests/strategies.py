"""Small random pools for property tests: Hypothesis strategies and a seeded plain builder.

A pool has 1-8 pairs (patients ``p1, p2, ...``; donor ``d<i>`` and, for some pairs, a
second donor ``d<i>b``), 0-3 altruists (``a1, a2, ...``) and random arcs from every donor
to every patient with a density drawn in [0.1, 0.7], weights 0..10 (sometimes
fractional). Arcs from a donor to their own patient are drawn like any other: the
matching must ignore them.

Also here: record shuffling and id renaming, the two transformations that must not
change a matching.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping

from hypothesis import strategies as st

from kidneyshare.model import Arc, Donor, DonorId, Instance, Patient, PatientId

__all__ = [
    "aged_instances",
    "build_instance",
    "describe",
    "donor_records",
    "instances",
    "random_instance",
    "random_renaming",
    "renamed",
    "shuffled",
]


def build_instance(
    second_donor: list[bool],
    n_altruists: int,
    arc_choice: Callable[[str, str], float | None],
    name: str = "",
) -> Instance:
    """A pool with one pair per entry of ``second_donor`` (two donors where it is true) and
    ``n_altruists`` altruists; ``arc_choice(donor, patient)`` gives the arc's weight, or
    ``None`` for no arc. Donors are asked in a fixed order (pairs' donors, then altruists;
    patients in order)."""
    patients = [Patient(PatientId(f"p{i + 1}")) for i in range(len(second_donor))]
    donors = [
        Donor(DonorId(d), None if p is None else PatientId(p))
        for d, p in donor_records(second_donor, n_altruists)
    ]
    arcs = []
    for donor in donors:
        for patient in patients:
            weight = arc_choice(donor.id, patient.id)
            if weight is not None:
                arcs.append(Arc(donor.id, patient.id, weight))
    return Instance(patients, donors, arcs, name=name)


def donor_records(second_donor: list[bool], n_altruists: int) -> list[tuple[str, str | None]]:
    """(donor id, patient id or None) in record order: ``d<i>`` (and ``d<i>b``) of pair
    ``p<i>``, then the altruists ``a<j>``."""
    records: list[tuple[str, str | None]] = []
    for i, two in enumerate(second_donor):
        records += [(f"d{i + 1}{suffix}", f"p{i + 1}") for suffix in ("", "b")[: 1 + two]]
    return records + [(f"a{j + 1}", None) for j in range(n_altruists)]


@st.composite
def instances(draw: st.DrawFn, max_pairs: int = 8, max_altruists: int = 3) -> Instance:
    """Hypothesis strategy for small pools (shrinks towards fewer pairs, arcs, donors)."""
    n_pairs = draw(st.integers(1, max_pairs), label="pairs")
    second_donor = draw(st.lists(st.booleans(), min_size=n_pairs, max_size=n_pairs))
    n_altruists = draw(st.sampled_from(range(max_altruists + 1)), label="altruists")
    density = draw(st.integers(10, 70), label="density %")
    weights: st.SearchStrategy[float] = st.integers(0, 10).map(float)
    if draw(st.booleans(), label="fractional weights"):
        weights = st.one_of(weights, st.integers(0, 1000).map(lambda x: x / 100))
    # Exactly ``density`` percent of the possible arcs (every donor to every patient, own
    # patient included), chosen as a prefix of a random order.
    candidates = [
        (donor, f"p{i + 1}")
        for donor, _ in donor_records(second_donor, n_altruists)
        for i in range(n_pairs)
    ]
    order = draw(st.permutations(candidates), label="arc order")
    chosen = set(order[: round(density / 100 * len(candidates))])

    def arc_choice(donor: str, patient: str) -> float | None:
        return draw(weights) if (donor, patient) in chosen else None

    return build_instance(second_donor, n_altruists, arc_choice, name="hypothesis")


def random_instance(
    seed: int,
    *,
    n_pairs: int | None = None,
    n_altruists: int | None = None,
    density: float | None = None,
) -> Instance:
    """The same distribution as :func:`instances` from a plain seeded generator (no
    Hypothesis): the same seed gives the same pool."""
    rng = random.Random(seed)
    n_pairs = rng.randint(1, 8) if n_pairs is None else n_pairs
    n_altruists = rng.randint(0, 3) if n_altruists is None else n_altruists
    density = rng.uniform(0.1, 0.7) if density is None else density
    second_donor = [rng.random() < 0.3 for _ in range(n_pairs)]
    fractional = rng.random() < 0.5

    def arc_choice(donor: str, patient: str) -> float | None:
        if rng.random() >= density:
            return None
        if fractional and rng.random() < 0.5:
            return rng.randint(0, 1000) / 100
        return float(rng.randint(0, 10))

    return build_instance(second_donor, n_altruists, arc_choice, name=f"random-{seed}")


def shuffled(instance: Instance, rng: random.Random) -> Instance:
    """The same pool with its patient, donor and arc records in a random order."""
    patients = list(instance.patients)
    donors = list(instance.donors)
    arcs = list(instance.arcs)
    for records in (patients, donors, arcs):
        rng.shuffle(records)
    return Instance(patients, donors, arcs, name=instance.name)


def renamed(instance: Instance, mapping: Mapping[str, str]) -> Instance:
    """The same pool with every patient and donor id replaced by ``mapping[id]`` (a
    bijection on the ids, which are all distinct in pools built here)."""
    patients = [
        Patient(PatientId(mapping[p.id]), p.blood_group, p.cpra, p.age) for p in instance.patients
    ]
    donors = [
        Donor(
            DonorId(mapping[d.id]),
            None if d.patient is None else PatientId(mapping[d.patient]),
            d.blood_group,
            d.age,
        )
        for d in instance.donors
    ]
    arcs = [
        Arc(DonorId(mapping[a.donor]), PatientId(mapping[a.patient]), a.weight, a.probability)
        for a in instance.arcs
    ]
    return Instance(patients, donors, arcs, name=instance.name)


def random_renaming(instance: Instance, rng: random.Random) -> dict[str, str]:
    """A random bijection from the pool's ids to fresh ids whose sorted order is scrambled."""
    ids = [p.id for p in instance.patients] + [d.id for d in instance.donors]
    fresh = [f"x{n:03d}" for n in rng.sample(range(1000), len(ids))]
    return dict(zip(ids, fresh, strict=True))


def describe(instance: Instance) -> str:
    """A compact, copyable description of a pool for failure messages (pairs with their
    donors, altruists, arcs as ``donor->patient:weight``)."""
    pairs = {p.id: [d.id for d in instance.donors_of(p.id)] for p in instance.patients}
    altruists = [d.id for d in instance.donors if d.patient is None]
    arcs = " ".join(f"{a.donor}->{a.patient}:{a.weight:g}" for a in instance.arcs)
    return f"pairs={pairs} altruists={altruists} arcs=[{arcs}]"


@st.composite
def aged_instances(
    draw: st.DrawFn, max_pairs: int = 7, max_altruists: int = 2, several_donors: bool = False
) -> Instance:
    """Pools with one donor per pair (or with ``several_donors``, some pairs with two),
    donor ages (some unknown) and arc success probabilities: what the UK hierarchy and
    the failure-aware objective read."""
    base = draw(instances(max_pairs=max_pairs, max_altruists=max_altruists))
    keep = {d.id for d in base.donors if several_donors or not d.id.endswith("b")}
    ages = st.one_of(st.none(), st.integers(18, 75).map(float))
    donors = [
        Donor(d.id, d.patient, d.blood_group, draw(ages, label=f"age {d.id}"))
        for d in base.donors
        if d.id in keep
    ]
    probabilities = st.sampled_from([0.3, 0.5, 0.8, 0.9, 1.0])
    arcs = [
        Arc(a.donor, a.patient, a.weight, draw(probabilities, label="probability"))
        for a in base.arcs
        if a.donor in keep
    ]
    return Instance(list(base.patients), donors, arcs, name="hypothesis-aged")
