"""The Saidman et al. (2006) pool generator.

Pairs are drawn as in Saidman et al.: a patient and a donor blood group from the US
distribution, the patient's sex, whether the donor is the patient's spouse, and a PRA
band whose probability of a positive crossmatch is 5 %, 45 % or 90 %. A wife whose
husband donates has been sensitised by pregnancy, so her chance of a *negative*
crossmatch is multiplied by 0.75: a positive crossmatch probability ``x`` becomes
``1 - 0.75 * (1 - x)`` (0.2875, 0.5875, 0.925). A drawn pair whose donor is
ABO-compatible with the patient and whose own crossmatch is negative is a compatible
pair; it would transplant directly, so it is discarded and another pair is drawn.
Altruists are drawn as donors only (a blood group).

The arc ``donor -> patient`` exists when the donor's blood group can give to the
patient's and an independent crossmatch draw with the patient's positive crossmatch
probability (their ``cpra`` here) is negative. As in Dickerson's implementation of the
generator, whose pools are PrefLib data set 00036, a wife patient keeps her raised
probability against every donor, not only her husband. Checked against the ten
256-pair, no-altruist PrefLib 00036 pools: 0.70 of ABO-compatible arcs into patients
with %Pra 0.2875 exist (0.7125 expected; 0.95 if only the husband were affected), and
the mean pair-to-pair arc density is 0.249 against 0.2485 computed from the
parameters below.

References
----------
S. L. Saidman, A. E. Roth, T. Sönmez, M. U. Ünver, F. L. Delmonico, "Increasing the
opportunity of live kidney donation by matching for two- and three-way exchanges",
Transplantation 81(5):773-782, 2006.

J. P. Dickerson, A. D. Procaccia, T. Sandholm, "Optimizing kidney exchange with
transplant chains: theory and reality", AAMAS 2012 (the generator as used for PrefLib
00036, N. Mattei and T. Walsh, "PrefLib: a library for preferences", ADT 2013).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from kidneyshare.errors import ConfigError
from kidneyshare.generators.seeding import make_rng
from kidneyshare.model import ArcTable, BloodGroup, Donor, DonorId, Instance, Patient, PatientId

__all__ = [
    "BLOOD_GROUP_ORDER",
    "SaidmanParameters",
    "altruists_from_fraction",
    "generate_saidman",
]

BLOOD_GROUP_ORDER: Final = (BloodGroup.O, BloodGroup.A, BloodGroup.B, BloodGroup.AB)
"""The order of the four groups in every blood-group probability tuple."""

_US_BLOOD_GROUPS: Final = (0.4814, 0.3373, 0.1428, 0.0385)
_UNIFORMS_PER_CANDIDATE: Final = 6  # uniforms per candidate pair, see _draw_pairs
_DRAWS_PER_BLOCK: Final = 1 << 22  # crossmatch uniforms drawn at once (32 MiB)
_MIN_INCOMPATIBLE: Final = 1e-6  # below this, drawing enough incompatible pairs is hopeless
_ROUND: Final = 12  # digits kept of a computed probability (0.2875, not 0.28750000000000003)

_ABO: Final = np.array(
    [[d.can_donate_to(p) for p in BLOOD_GROUP_ORDER] for d in BLOOD_GROUP_ORDER], dtype=bool
)
"""_ABO[donor group, patient group]: the plain ABO rule, in BLOOD_GROUP_ORDER."""


def _check_probability(value: float, field: str) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
        raise ConfigError(f"{field}: expected a probability between 0 and 1, got {value!r}")


def _check_distribution(values: tuple[float, ...], size: int, field: str) -> None:
    if not isinstance(values, tuple) or len(values) != size:
        raise ConfigError(f"{field}: expected a tuple of {size} probabilities, got {values!r}")
    for i, v in enumerate(values):
        _check_probability(v, f"{field}[{i}]")
    if not math.isclose(math.fsum(values), 1.0, abs_tol=1e-9):
        total = math.fsum(values)
        raise ConfigError(f"{field}: expected probabilities summing to 1, got {total!r}")


@dataclass(frozen=True, slots=True)
class SaidmanParameters:
    """The published parameters of the Saidman et al. (2006) generator.

    The defaults are the paper's figures, also those of Dickerson's implementation
    behind PrefLib data set 00036.

    Attributes
    ----------
    patient_blood_groups, donor_blood_groups:
        probabilities of O, A, B, AB (see :data:`BLOOD_GROUP_ORDER`); both
        0.4814, 0.3373, 0.1428, 0.0385, the US distribution.
    patient_female:
        probability that the patient is a woman, 0.4090.
    donor_is_spouse:
        probability that the donor is the patient's spouse, 0.4897.
    pra_bands:
        probabilities of the low, medium and high PRA bands, 0.7019, 0.2, 0.0981.
    positive_crossmatch:
        probability of a positive crossmatch for a patient in each band, 0.05, 0.45, 0.9.
    spousal_negative_crossmatch:
        factor on the negative-crossmatch probability of a wife whose husband is the
        donor, 0.75: her positive probability becomes ``1 - 0.75 * (1 - x)``.

    Raises
    ------
    ConfigError
        naming the field when a probability is outside [0, 1] or a distribution does not
        sum to 1.
    """

    patient_blood_groups: tuple[float, float, float, float] = _US_BLOOD_GROUPS
    donor_blood_groups: tuple[float, float, float, float] = _US_BLOOD_GROUPS
    patient_female: float = 0.4090
    donor_is_spouse: float = 0.4897
    pra_bands: tuple[float, float, float] = (0.7019, 0.2, 0.0981)
    positive_crossmatch: tuple[float, float, float] = (0.05, 0.45, 0.9)
    spousal_negative_crossmatch: float = 0.75

    def __post_init__(self) -> None:
        _check_distribution(self.patient_blood_groups, 4, "patient_blood_groups")
        _check_distribution(self.donor_blood_groups, 4, "donor_blood_groups")
        _check_probability(self.patient_female, "patient_female")
        _check_probability(self.donor_is_spouse, "donor_is_spouse")
        _check_distribution(self.pra_bands, 3, "pra_bands")
        if not isinstance(self.positive_crossmatch, tuple) or len(self.positive_crossmatch) != 3:
            raise ConfigError(
                "positive_crossmatch: expected a tuple of 3 probabilities (low, medium, high), "
                f"got {self.positive_crossmatch!r}"
            )
        for i, p in enumerate(self.positive_crossmatch):
            _check_probability(p, f"positive_crossmatch[{i}]")
        _check_probability(self.spousal_negative_crossmatch, "spousal_negative_crossmatch")

    def wife_positive_crossmatch(self) -> tuple[float, float, float]:
        """Positive-crossmatch probability per band for a wife whose husband donates.

        With the defaults: 0.2875, 0.5875, 0.925 (PrefLib 00036's raised %Pra values).
        """
        f = self.spousal_negative_crossmatch
        low, medium, high = (round(1.0 - f * (1.0 - x), _ROUND) for x in self.positive_crossmatch)
        return (low, medium, high)

    def incompatible_probability(self) -> float:
        """Probability that one drawn pair is incompatible, hence kept (0.5251 by default).

        A pair is incompatible when its donor's blood group cannot give to the patient's,
        or it can and the crossmatch is positive.
        """
        wife = self.patient_female * self.donor_is_spouse
        bands = zip(
            self.pra_bands, self.positive_crossmatch, self.wife_positive_crossmatch(), strict=True
        )
        # P(own crossmatch positive), over sex, spouse and band
        positive = math.fsum(p * ((1 - wife) * x + wife * xw) for p, x, xw in bands)
        abo_compatible = abo_incompatible = 0.0
        for i, p_donor in enumerate(self.donor_blood_groups):
            for j, p_patient in enumerate(self.patient_blood_groups):
                if _ABO[i, j]:
                    abo_compatible += p_donor * p_patient
                else:
                    abo_incompatible += p_donor * p_patient
        return abo_incompatible + abo_compatible * positive


def altruists_from_fraction(pairs: int, fraction: float) -> int:
    """Number of altruists for ``pairs`` pairs at ``fraction`` of them, rounded down.

    This is how PrefLib 00036 sized its pools: 256 pairs at 5, 10 and 15 % have 12, 25
    and 38 altruists.

    Raises
    ------
    ConfigError
        when ``pairs`` is negative or ``fraction`` is outside [0, 1].

    Examples
    --------
    >>> altruists_from_fraction(256, 0.1)
    25
    """
    _check_count(pairs, "pairs")
    if (
        isinstance(fraction, bool)
        or not isinstance(fraction, (int, float))
        or not (0.0 <= fraction <= 1.0)
    ):
        raise ConfigError(f"altruist fraction: expected a number between 0 and 1, got {fraction!r}")
    return math.floor(pairs * fraction + 1e-9)


def _check_count(value: int, field: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigError(f"{field}: expected a whole number >= 0, got {value!r}")


def _group_index(
    uniforms: npt.NDArray[np.float64], probabilities: tuple[float, ...]
) -> npt.NDArray[np.intp]:
    """Index of the category each uniform falls in (inverse of the cumulative distribution)."""
    bounds = np.cumsum(probabilities)[:-1]
    return np.searchsorted(bounds, uniforms, side="right")


def _draw_pairs(
    rng: np.random.Generator, count: int, params: SaidmanParameters
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp], npt.NDArray[np.float64]]:
    """Draw ``count`` incompatible pairs; return patient groups, donor groups, cpra.

    Candidates are drawn in batches, six uniforms each, in this column order: patient
    group, donor group, patient female, donor is spouse, PRA band, own crossmatch.
    Compatible candidates are dropped and the first ``count`` incompatible ones kept, in
    the order drawn. A batch holds ``2 * still_needed + 16`` candidates (about half are
    kept with the published parameters), so the draws depend on ``count`` alone.
    """
    normal = np.array(params.positive_crossmatch, dtype=np.float64)
    wife_pra = np.array(params.wife_positive_crossmatch(), dtype=np.float64)
    patient_groups: list[npt.NDArray[np.intp]] = []
    donor_groups: list[npt.NDArray[np.intp]] = []
    cpras: list[npt.NDArray[np.float64]] = []
    have = 0
    while have < count:
        need = count - have
        u = rng.random((2 * need + 16, _UNIFORMS_PER_CANDIDATE))
        patient = _group_index(u[:, 0], params.patient_blood_groups)
        donor = _group_index(u[:, 1], params.donor_blood_groups)
        wife = (u[:, 2] < params.patient_female) & (u[:, 3] < params.donor_is_spouse)
        band = _group_index(u[:, 4], params.pra_bands)
        cpra = np.where(wife, wife_pra[band], normal[band])
        compatible = _ABO[donor, patient] & (u[:, 5] >= cpra)
        kept = np.flatnonzero(~compatible)[:need]
        patient_groups.append(patient[kept])
        donor_groups.append(donor[kept])
        cpras.append(cpra[kept])
        have += kept.size
    empty_i = np.empty(0, dtype=np.intp)
    return (
        np.concatenate([empty_i, *patient_groups]),
        np.concatenate([empty_i, *donor_groups]),
        np.concatenate([np.empty(0, dtype=np.float64), *cpras]),
    )


def _draw_arcs(
    rng: np.random.Generator,
    donor_groups: npt.NDArray[np.intp],
    paired: int,
    patient_groups: npt.NDArray[np.intp],
    cpra: npt.NDArray[np.float64],
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """One crossmatch uniform per (donor, patient), donors in order, patients in order;
    returns the donor and patient index of each arc, ordered by donor, then patient.

    Row ``r`` is donor ``r``; the first ``paired`` donors belong to patient ``r`` and
    never get an arc to their own patient. Rows are drawn in blocks, so memory stays
    bounded; the stream of uniforms is the same whatever the block size.
    """
    n = len(patient_groups)
    donors: list[npt.NDArray[np.int64]] = [np.zeros(0, dtype=np.int64)]
    patients: list[npt.NDArray[np.int64]] = [np.zeros(0, dtype=np.int64)]
    if n == 0:
        return donors[0], patients[0]
    compatible_by_group = _ABO[:, patient_groups]  # 4 x n
    rows_per_block = max(1, _DRAWS_PER_BLOCK // n)
    for start in range(0, len(donor_groups), rows_per_block):
        stop = min(start + rows_per_block, len(donor_groups))
        negative = rng.random((stop - start, n)) >= cpra
        mask = compatible_by_group[donor_groups[start:stop]] & negative
        own = np.arange(start, min(stop, paired))
        mask[own - start, own] = False
        rows, cols = np.nonzero(mask)
        donors.append(rows.astype(np.int64) + start)
        patients.append(cols.astype(np.int64))
    return np.concatenate(donors), np.concatenate(patients)


def generate_saidman(
    pairs: int,
    altruists: int = 0,
    *,
    seed: int,
    parameters: SaidmanParameters = SaidmanParameters(),
    name: str | None = None,
) -> Instance:
    """Draw a pool of ``pairs`` incompatible pairs and ``altruists`` altruists.

    Parameters
    ----------
    pairs:
        number of incompatible patient-donor pairs; patients ``p1``..``pN`` with donors
        ``d1``..``dN`` (``di`` donates for ``pi``).
    altruists:
        number of non-directed donors ``a1``..``aM``.
    seed:
        the only source of randomness (see :func:`~kidneyshare.generators.make_rng`);
        the same seed and arguments give the same pool on every machine.
    parameters:
        the generator's probabilities; the published ones by default.
    name:
        the instance name; ``saidman-<pairs>-<altruists>-seed<seed>`` by default.

    Returns
    -------
    Instance
        patients with blood group and ``cpra`` (their positive-crossmatch probability,
        PrefLib's %Pra), donors with blood group, and arcs of weight 1.0, ordered by
        donor (pairs' donors, then altruists) and then by patient, held as an
        :class:`~kidneyshare.model.ArcTable` (a 10,000-pair pool has 28 million arcs).

    Raises
    ------
    ConfigError
        when a count is negative or both are zero, or when the parameters make every
        pair compatible (none could be kept).

    Notes
    -----
    Random numbers are drawn in a fixed order: candidate pairs (six uniforms each, see
    the module notes), one uniform per altruist for the blood group, then one uniform
    per (donor, patient) for the crossmatch, row by row. The procedure is that of the
    paper; see the module docstring for the checks against PrefLib 00036.

    References
    ----------
    Saidman et al., Transplantation 81(5), 2006; Dickerson et al., AAMAS 2012.

    Examples
    --------
    >>> pool = generate_saidman(20, 2, seed=1)
    >>> len(pool.patients), len(pool.altruists)
    (20, 2)
    >>> pool == generate_saidman(20, 2, seed=1)
    True
    """
    _check_count(pairs, "pairs")
    _check_count(altruists, "altruists")
    if pairs == 0 and altruists == 0:
        raise ConfigError("pairs, altruists: expected at least one to be above 0, got 0 and 0")
    if not isinstance(parameters, SaidmanParameters):
        raise ConfigError(
            f"parameters: expected SaidmanParameters, got {type(parameters).__name__}"
        )
    if pairs > 0 and parameters.incompatible_probability() < _MIN_INCOMPATIBLE:
        raise ConfigError(
            "parameters: (almost) every drawn pair would be compatible, so too few could be "
            f"kept; expected a chance of at least {_MIN_INCOMPATIBLE} of an ABO mismatch or "
            f"a positive crossmatch, got {parameters.incompatible_probability()!r}"
        )
    rng = make_rng(seed)

    patient_groups, pair_donor_groups, cpra = _draw_pairs(rng, pairs, parameters)
    altruist_groups = _group_index(rng.random(altruists), parameters.donor_blood_groups)

    patient_ids = [PatientId(f"p{i}") for i in range(1, pairs + 1)]
    pair_donor_ids = [DonorId(f"d{i}") for i in range(1, pairs + 1)]
    altruist_ids = [DonorId(f"a{i}") for i in range(1, altruists + 1)]
    cpra = cpra.round(_ROUND)

    patients = [
        Patient(pid, blood_group=BLOOD_GROUP_ORDER[g], cpra=c)
        for pid, g, c in zip(patient_ids, patient_groups.tolist(), cpra.tolist(), strict=True)
    ]
    donors = [
        Donor(did, patient=pid, blood_group=BLOOD_GROUP_ORDER[g])
        for did, pid, g in zip(pair_donor_ids, patient_ids, pair_donor_groups.tolist(), strict=True)
    ]
    donors.extend(
        Donor(aid, blood_group=BLOOD_GROUP_ORDER[g])
        for aid, g in zip(altruist_ids, altruist_groups.tolist(), strict=True)
    )
    if name is None:
        name = f"saidman-{pairs}-{altruists}-seed{seed}"
    donor_index, patient_index = _draw_arcs(
        rng, np.concatenate([pair_donor_groups, altruist_groups]), pairs, patient_groups, cpra
    )
    arcs = ArcTable(pair_donor_ids + altruist_ids, patient_ids, donor_index, patient_index)
    return Instance(patients, donors, arcs, name=name)
