"""The UK pool generator of Delorme et al. (2022), with donor ages.

The model, fitted by the paper to the pools of the UK Living Kidney Sharing Scheme:

1. a patient's blood group (O 0.6293, A 0.2325, B 0.1119, AB 0.0263);
2. the number of their willing donors (1: 0.9112, 2: 0.0769, 3: 0.0105, 4: 0.0014);
3. each donor's blood group, *conditional on the patient's* (:data:`PAIRED_DONOR_GROUPS`:
   a patient of group O has an O donor with probability 0.3721, A 0.4899, ...);
4. the patient's cPRA, from one distribution for patients with an ABO-compatible donor
   (in the pool because of antibodies: 31.7 % have cPRA 1.00) and another for those
   without (35.7 % have cPRA 0); values in a band are uniform within it;
5. the patient's *compatibility chance*, the probability that a donor of a compatible
   blood group has a negative crossmatch with them, from their cPRA by one of the
   paper's rules (:data:`COMPATIBILITY_RULES`; "Band-PRA0" by default: linear in two
   bands, fixed values above 0.95, and for cPRA below 0.01 a draw from the observed
   distribution of chances of unsensitised patients);
6. non-directed donors' blood groups (O 0.493, A 0.399, B 0.0939, AB 0.0141);
7. an arc from each donor to each patient other than their own when the blood groups are
   compatible (plain ABO rule) and an independent uniform draw does not exceed the
   patient's compatibility chance.

Donor ages are not part of the published model: the paper fits blood groups, donor
counts, cPRA and compatibility chance only, and the authors' own implementation of it
(kep_solver 4.0.2, ``published_generators.uk_nhs_generator2022``) gives its donors a
blood group and no age. So ages are drawn from :attr:`DelormeParameters.donor_age_bands`
(:data:`UK_LIVING_DONOR_AGES` by default), whose upper tail follows published UK
registry figures: 17.0 % of UK living kidney donors were aged 60 or over (1,557 of
9,140 living donor transplants, 2000-2019; K. Patel et al., "Survival advantage
comparing older living donor versus standard criteria donor kidney transplants",
Transplant International 37:12559, 2024, doi:10.3389/ti.2024.12559), and 5.8 % were
65 or over (586 of the 10,900 UK living donor nephrectomies of 2000-2013; Z. Ahmed et
al., "Living kidney donation in the elderly: the United Kingdom experience", American
Transplant Congress 2015, abstract B180). How the other 83 % spread over 18-59, and
the 65+ share over 65-69 and 70-79, are kidneyshare's assumptions (a shape peaking in
the fifties, as NHSBT's annual reports on living donation show). A study that depends
on ages should set its own bands. Arc weights are 1.

Reference
---------
M. Delorme, S. García, J. Gondzio, J. Kalcsics, D. Manlove, W. Pettersson, J. Trimble,
"Improved instance generation for kidney exchange programmes", Computers & Operations
Research 141:105707, 2022, doi:10.1016/j.cor.2022.105707. (The figures are the paper's;
this is an independent implementation.)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Final

import numpy as np
import numpy.typing as npt

from kidneyshare.errors import ConfigError
from kidneyshare.generators.saidman import BLOOD_GROUP_ORDER
from kidneyshare.generators.seeding import make_rng
from kidneyshare.model import Arc, Donor, DonorId, Instance, Patient, PatientId

__all__ = [
    "ALTRUIST_GROUPS",
    "COMPATIBILITY_RULES",
    "CPRA_ABO_COMPATIBLE_DONOR",
    "CPRA_NO_ABO_COMPATIBLE_DONOR",
    "DONORS_PER_PATIENT",
    "PAIRED_DONOR_GROUPS",
    "PATIENT_GROUPS",
    "UK_LIVING_DONOR_AGES",
    "UNSENSITISED_CHANCE",
    "Band",
    "DelormeParameters",
    "DrawnPairs",
    "compatibility_chance",
    "draw_bands",
    "draw_pairs",
    "generate_delorme",
]

Band = tuple[float, float, float]
"""(low, high, probability): a value uniform in [low, high), or exactly low if equal."""

PATIENT_GROUPS: Final = (0.6293, 0.2325, 0.1119, 0.0263)
"""Patients' blood groups O, A, B, AB."""
ALTRUIST_GROUPS: Final = (0.493, 0.399, 0.0939, 0.0141)
"""Non-directed donors' blood groups O, A, B, AB."""
DONORS_PER_PATIENT: Final = (0.9112, 0.0769, 0.0105, 0.0014)
"""Probability of 1, 2, 3, 4 willing donors."""
PAIRED_DONOR_GROUPS: Final = (
    (0.3721, 0.4899, 0.1219, 0.0161),
    (0.2783, 0.6039, 0.0907, 0.0271),
    (0.2910, 0.2719, 0.3689, 0.0682),
    (0.3166, 0.4271, 0.1910, 0.0653),
)
"""Row: the patient's group O, A, B, AB; columns: the donor's group O, A, B, AB."""

CPRA_ABO_COMPATIBLE_DONOR: Final[tuple[Band, ...]] = (
    (0.00, 0.00, 0.0434637245068539),
    (0.01, 0.10, 0.0063523905048479),
    (0.10, 0.20, 0.0026746907388833),
    (0.20, 0.30, 0.0060180541624875),
    (0.30, 0.40, 0.0083584085590104),
    (0.40, 0.50, 0.0106987629555333),
    (0.50, 0.60, 0.0217318622534269),
    (0.60, 0.70, 0.0290872617853561),
    (0.70, 0.80, 0.0391173520561685),
    (0.80, 0.85, 0.0257438983617519),
    (0.85, 0.90, 0.0307589434971581),
    (0.90, 0.90, 0.0113674356402541),
    (0.91, 0.91, 0.0106987629555333),
    (0.92, 0.92, 0.0157138080909395),
    (0.93, 0.93, 0.0317619525242394),
    (0.94, 0.94, 0.0190571715145436),
    (0.95, 0.95, 0.0197258441992645),
    (0.96, 0.96, 0.0240722166499498),
    (0.97, 0.97, 0.0534938147776663),
    (0.98, 0.98, 0.0929455031761953),
    (0.99, 0.99, 0.1802072885322634),
    (1.00, 1.00, 0.3169508525576730),
)
"""cPRA of patients with at least one ABO-compatible donor."""

CPRA_NO_ABO_COMPATIBLE_DONOR: Final[tuple[Band, ...]] = (
    (0.00, 0.00, 0.3567608861726510),
    (0.01, 0.10, 0.0389610389610390),
    (0.10, 0.20, 0.0133689839572193),
    (0.20, 0.30, 0.0106951871657754),
    (0.30, 0.40, 0.0210084033613445),
    (0.40, 0.50, 0.0244461420932009),
    (0.50, 0.60, 0.0336134453781513),
    (0.60, 0.70, 0.0305576776165011),
    (0.70, 0.80, 0.0427807486631016),
    (0.80, 0.85, 0.0355233002291826),
    (0.85, 0.90, 0.0458365164247517),
    (0.90, 0.90, 0.0064935064935064),
    (0.91, 0.91, 0.0126050420168067),
    (0.92, 0.92, 0.0286478227654698),
    (0.93, 0.93, 0.0064935064935064),
    (0.94, 0.94, 0.0076394194041252),
    (0.95, 0.95, 0.0156608097784568),
    (0.96, 0.96, 0.0236822001527884),
    (0.97, 0.97, 0.0152788388082506),
    (0.98, 0.98, 0.0252100840336134),
    (0.99, 0.99, 0.0966386554621849),
    (1.00, 1.00, 0.1080977845683730),
)
"""cPRA of patients whose donors are all ABO-incompatible."""

UNSENSITISED_CHANCE: Final[tuple[Band, ...]] = (
    (0.00, 0.00, 0.1890660592255102),
    (0.00, 0.01, 0.0683371298405470),
    (0.01, 0.02, 0.0774487471526198),
    (0.02, 0.03, 0.0387243735763102),
    (0.03, 0.04, 0.0205011389521642),
    (0.04, 0.10, 0.0546697038724377),
    (0.10, 0.25, 0.0592255125284742),
    (0.25, 0.50, 0.0911161731207292),
    (0.50, 0.75, 0.1412300683371303),
    (0.75, 1.00, 0.2596810933940773),
)
"""Compatibility chance of patients with cPRA below 0.01 under the "-PRA0" rules."""

_HIGH_CPRA_CHANCE: Final = {0.95: 0.058, 0.96: 0.053, 0.97: 0.025, 0.98: 0.015, 0.99: 0.015}


def _band_chance(cpra: float) -> float:
    if cpra < 0.5:
        return -0.33012 * cpra + 0.5651
    if cpra < 0.95:
        return -0.64194 * cpra + 0.6578
    if cpra >= 1.0:
        return 0.012
    return _HIGH_CPRA_CHANCE[math.floor(cpra * 100 + 1e-9) / 100]


COMPATIBILITY_RULES: Final[Mapping[str, tuple[Callable[[float], float], bool]]] = {
    "band-pra0": (_band_chance, True),
    "band": (_band_chance, False),
    "tweak-pra0": (lambda c: -0.55 * c + 0.55, True),
    "tweak": (lambda c: -0.55 * c + 0.55, False),
    "calc": (lambda c: -0.55 * c + 0.58, False),
}
"""The paper's rules from cPRA to compatibility chance: (function, whether patients with
cPRA below 0.01 draw their chance from :data:`UNSENSITISED_CHANCE` instead)."""

UK_LIVING_DONOR_AGES: Final[tuple[Band, ...]] = (
    (18, 30, 0.110),
    (30, 40, 0.170),
    (40, 50, 0.250),
    (50, 60, 0.300),
    (60, 65, 0.112),
    (65, 70, 0.042),
    (70, 80, 0.016),
)
"""Donor ages: 17.0 % aged 60 or over and 5.8 % aged 65 or over as published (see the
module's description); the split below 60 and above 65 is assumed."""


def compatibility_chance(rule: str, cpra: float, unsensitised_draw: float) -> float:
    """A patient's compatibility chance under ``rule``; ``unsensitised_draw`` is the
    value drawn from :data:`UNSENSITISED_CHANCE`, used for cPRA below 0.01 by the
    "-pra0" rules."""
    function, pra0 = COMPATIBILITY_RULES[rule]
    if pra0 and cpra < 0.01:
        return unsensitised_draw
    return min(1.0, max(0.0, function(cpra)))


def _check_bands(bands: tuple[Band, ...], field: str) -> None:
    total = 0.0
    for i, band in enumerate(bands):
        if len(band) != 3 or not 0 <= band[2] <= 1 or band[0] > band[1]:
            raise ConfigError(f"{field}[{i}]: expected (low, high, probability), got {band!r}")
        total += band[2]
    if not math.isclose(total, 1.0, abs_tol=1e-6):
        raise ConfigError(f"{field}: expected probabilities summing to 1, got {total!r}")


def _check_distribution(values: tuple[float, ...], size: int, field: str) -> None:
    if len(values) != size or any(not 0 <= v <= 1 for v in values):
        raise ConfigError(f"{field}: expected {size} probabilities, got {values!r}")
    if not math.isclose(math.fsum(values), 1.0, abs_tol=1e-6):
        raise ConfigError(f"{field}: expected probabilities summing to 1, got {values!r}")


@dataclass(frozen=True, slots=True)
class DelormeParameters:
    """The published parameters of the generator (see the module's description); each
    may be replaced. ``compatibility_rule`` is one of :data:`COMPATIBILITY_RULES`."""

    patient_groups: tuple[float, float, float, float] = PATIENT_GROUPS
    altruist_groups: tuple[float, float, float, float] = ALTRUIST_GROUPS
    donors_per_patient: tuple[float, ...] = DONORS_PER_PATIENT
    paired_donor_groups: tuple[tuple[float, float, float, float], ...] = PAIRED_DONOR_GROUPS
    cpra_abo_compatible_donor: tuple[Band, ...] = CPRA_ABO_COMPATIBLE_DONOR
    cpra_no_abo_compatible_donor: tuple[Band, ...] = CPRA_NO_ABO_COMPATIBLE_DONOR
    unsensitised_chance: tuple[Band, ...] = UNSENSITISED_CHANCE
    compatibility_rule: str = "band-pra0"
    donor_age_bands: tuple[Band, ...] = field(default=UK_LIVING_DONOR_AGES)

    def __post_init__(self) -> None:
        _check_distribution(self.patient_groups, 4, "patient_groups")
        _check_distribution(self.altruist_groups, 4, "altruist_groups")
        _check_distribution(
            self.donors_per_patient, len(self.donors_per_patient), "donors_per_patient"
        )
        if len(self.paired_donor_groups) != 4:
            raise ConfigError("paired_donor_groups: expected one row per patient group")
        for i, row in enumerate(self.paired_donor_groups):
            _check_distribution(row, 4, f"paired_donor_groups[{i}]")
        _check_bands(self.cpra_abo_compatible_donor, "cpra_abo_compatible_donor")
        _check_bands(self.cpra_no_abo_compatible_donor, "cpra_no_abo_compatible_donor")
        _check_bands(self.unsensitised_chance, "unsensitised_chance")
        _check_bands(self.donor_age_bands, "donor_age_bands")
        if self.compatibility_rule not in COMPATIBILITY_RULES:
            raise ConfigError(
                f"compatibility_rule: unknown rule {self.compatibility_rule!r}; expected one "
                f"of {', '.join(COMPATIBILITY_RULES)}"
            )


def draw_bands(
    rng: np.random.Generator, bands: tuple[Band, ...], size: int
) -> npt.NDArray[np.float64]:
    probabilities = np.array([b[2] for b in bands])
    chosen = rng.choice(len(bands), size=size, p=probabilities / probabilities.sum())
    low = np.array([b[0] for b in bands])[chosen]
    high = np.array([b[1] for b in bands])[chosen]
    values: npt.NDArray[np.float64] = low + rng.random(size) * (high - low)
    return values


_ABO: Final = np.array(
    [[d.can_donate_to(p) for p in BLOOD_GROUP_ORDER] for d in BLOOD_GROUP_ORDER], dtype=bool
)
_BLOCK: Final = 512  # patients per block of arc draws (bounds memory on large pools)


@dataclass(frozen=True, slots=True)
class DrawnPairs:
    """The pairs' blood groups, cPRA and compatibility chance (steps 1-5);
    ``unsensitised`` is each patient's draw from :data:`UNSENSITISED_CHANCE`, their
    chance if their cPRA is below 0.01 under a "-pra0" rule."""

    patient_groups: npt.NDArray[np.intp]
    donor_owner: npt.NDArray[np.intp]  # patient index of each paired donor
    donor_groups: npt.NDArray[np.intp]
    cpra: npt.NDArray[np.float64]
    chance: npt.NDArray[np.float64]
    unsensitised: npt.NDArray[np.float64]


def draw_pairs(rng: np.random.Generator, pairs: int, p: DelormeParameters) -> DrawnPairs:
    """Draw steps 1-5 of the model for ``pairs`` patients."""
    patient_groups = rng.choice(4, size=pairs, p=np.array(p.patient_groups))
    counts = 1 + rng.choice(len(p.donors_per_patient), size=pairs, p=np.array(p.donors_per_patient))
    owner = np.repeat(np.arange(pairs), counts)
    table = np.cumsum(np.array(p.paired_donor_groups), axis=1)
    uniforms = rng.random(owner.size)
    donor_groups = np.minimum(
        (uniforms[:, None] >= table[patient_groups[owner]]).sum(axis=1), 3
    ).astype(np.intp)
    abo_compatible_donor = np.zeros(pairs, dtype=bool)
    np.logical_or.at(abo_compatible_donor, owner, _ABO[donor_groups, patient_groups[owner]])
    with_compatible = draw_bands(rng, p.cpra_abo_compatible_donor, pairs)
    without = draw_bands(rng, p.cpra_no_abo_compatible_donor, pairs)
    cpra = np.round(np.where(abo_compatible_donor, with_compatible, without), 4).astype(np.float64)
    unsensitised = draw_bands(rng, p.unsensitised_chance, pairs)
    chance = np.array(
        [
            compatibility_chance(p.compatibility_rule, c, u)
            for c, u in zip(cpra.tolist(), unsensitised.tolist(), strict=True)
        ]
    )
    return DrawnPairs(patient_groups, owner, donor_groups, cpra, chance, unsensitised)


def generate_delorme(
    pairs: int,
    altruists: int = 0,
    *,
    seed: int,
    parameters: DelormeParameters | None = None,
    name: str | None = None,
) -> Instance:
    """Draw a pool from the Delorme et al. (2022) UK model.

    Parameters
    ----------
    pairs:
        patients (each with 1 to 4 donors).
    altruists:
        non-directed donors.
    seed:
        the same seed gives the same pool on every machine.
    parameters:
        the published figures by default.

    Returns
    -------
    Instance
        patients ``p1..`` with blood group and cPRA; donors ``p1_d1``.. (paired) and
        ``a1``.. (altruists) with blood group and age; arcs of weight 1.

    Raises
    ------
    ConfigError
        for a negative count, an empty pool or invalid parameters.

    Examples
    --------
    >>> pool = generate_delorme(50, 5, seed=1)
    >>> len(pool.patients), len(pool.altruists), pool == generate_delorme(50, 5, seed=1)
    (50, 5, True)
    """
    for value, label in ((pairs, "pairs"), (altruists, "altruists")):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ConfigError(f"{label}: expected a whole number >= 0, got {value!r}")
    if pairs == 0 and altruists == 0:
        raise ConfigError("pairs, altruists: expected at least one to be above 0, got 0 and 0")
    params = parameters or DelormeParameters()
    rng = make_rng(seed)
    drawn = draw_pairs(rng, pairs, params)
    altruist_groups = rng.choice(4, size=altruists, p=np.array(params.altruist_groups))
    donor_groups = np.concatenate([drawn.donor_groups, altruist_groups]).astype(np.intp)
    owner = np.concatenate([drawn.donor_owner, np.full(altruists, -1)])
    ages = np.round(draw_bands(rng, params.donor_age_bands, owner.size), 1)

    patient_ids = [PatientId(f"p{i + 1}") for i in range(pairs)]
    donor_ids: list[DonorId] = []
    per_patient = [0] * pairs
    for o in drawn.donor_owner.tolist():
        per_patient[o] += 1
        donor_ids.append(DonorId(f"p{o + 1}_d{per_patient[o]}"))
    donor_ids += [DonorId(f"a{k + 1}") for k in range(altruists)]
    patients = [
        Patient(pid, BLOOD_GROUP_ORDER[g], c)
        for pid, g, c in zip(
            patient_ids, drawn.patient_groups.tolist(), drawn.cpra.tolist(), strict=True
        )
    ]
    donors = [
        Donor(did, None if o < 0 else patient_ids[o], BLOOD_GROUP_ORDER[g], a)
        for did, o, g, a in zip(
            donor_ids, owner.tolist(), donor_groups.tolist(), ages.tolist(), strict=True
        )
    ]
    arcs: list[Arc] = []
    for start in range(0, pairs, _BLOCK):
        block = np.arange(start, min(pairs, start + _BLOCK))
        compatible = _ABO[donor_groups][:, drawn.patient_groups[block]]
        negative = rng.random((owner.size, block.size)) <= drawn.chance[block]
        own = owner[:, None] == block[None, :]
        d_index, p_index = np.nonzero(compatible & negative & ~own)
        arcs.extend(
            Arc(donor_ids[d], patient_ids[block[p]])
            for d, p in zip(d_index.tolist(), p_index.tolist(), strict=True)
        )
    return Instance(patients, donors, arcs, name=name or f"delorme-{pairs}-{altruists}-seed{seed}")
