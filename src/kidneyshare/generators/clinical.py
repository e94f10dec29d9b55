"""Full clinical records: blood groups, HLA typings and unacceptable antigens whose
crossmatch rates follow the UK's cPRA distribution.

Each pair is drawn as in :mod:`~kidneyshare.generators.delorme` (patient group, 1-4
donors, donor groups given the patient's, a *target* cPRA from the distribution for
patients with or without an ABO-compatible donor; altruists' groups), then given
clinical detail:

- HLA typings for everyone from antigen frequencies
  (:func:`~kidneyshare.generators.hla_typing.draw_typings`);
- unacceptable antigens chosen so that the patient's cPRA against the reference panel
  comes as close to the target as antigens allow: serological antigens the patient does
  not carry are tried in random order and kept while the cPRA stays at most
  ``target + tolerance``, until it reaches the target; a patient whose donor is
  ABO-compatible first gets the donor antigen rarest in the panel (they are in the pool
  because of a positive crossmatch), so their cPRA may exceed a low target. The cPRA
  recorded is the one achieved, not the target.

Since the pool's donors are drawn from the same frequencies as the panel, a patient's
rate of positive virtual crossmatches with the pool's donors matches their cPRA within
sampling error (a test checks it band by band).

Declines by the patient's centre (the do-not-match list)
--------------------------------------------------------
A negative virtual crossmatch is not the only reason a scheme has no arc: Delorme et
al. fitted the *compatibility chance*, the probability that a donor of a compatible
blood group gets an arc to the patient, to the arcs of the UK scheme, and it is well
below ``1 - cPRA`` (about 0.45 on average for unsensitised patients, 0.33 at cPRA 0.5),
because it also absorbs the transplant centres' other grounds for declining a donor
(donor age or size, anatomy, virology, antibodies below the unacceptable threshold).
Crossmatch alone gives pools about twice as dense as the paper's model (0.11-0.15
against 0.066 at 300 pairs). So each patient also gets a do-not-match list
(:attr:`~kidneyshare.compatibility.records.PatientRecord.declined_donors`): of the
``n_compatible`` other donors of an ABO-compatible group, ``n_negative`` have a negative
virtual crossmatch, and each of those is declined independently with probability
``1 - min(1, chance * n_compatible / n_negative)``, ``chance`` being the compatibility
chance the paper's rule (:data:`DelormeParameters.compatibility_rule`) gives the
patient's recorded cPRA (below 0.01: their draw from the published distribution of
unsensitised patients' chances). The expected number of arcs to each patient is then
the model's, ``chance * n_compatible``, unless crossmatch already leaves fewer (a
patient at cPRA 1.00, chance 0.012, has no crossmatch-negative donor at all), so the
pool's arc density, blood groups and cPRA bands are those of the published model; the
builder reports each declined combination as such. ``ClinicalParameters(
centre_declines=False)`` leaves the lists empty (arcs from crossmatch alone).

Figures that are kidneyshare's assumptions rather than published ones (so a study that
depends on them should set its own): patient ages uniform 18-75; 40 % of patients and
50 % of donors female; donor eGFR normal with mean 95 and s.d. 15 mL/min/1.73 m²,
clipped to 60-140; ABO titres (anti-A in O and B patients, anti-B in O and A patients)
2 to 512, every doubling equally likely; 23 centres ``C01``..``C23``; registration up
to three years before ``as_of`` and antibody screens up to 90 days before it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Final

import numpy as np
import numpy.typing as npt

from kidneyshare.compatibility.abo import AboType
from kidneyshare.compatibility.cpra import PanelDonor, ReferencePanel, default_panel
from kidneyshare.compatibility.crossmatch import virtual_crossmatch
from kidneyshare.compatibility.hla import HlaAntigen, HlaName
from kidneyshare.compatibility.records import (
    ClinicalPool,
    DonorRecord,
    HlaTyping,
    PatientRecord,
    Sex,
)
from kidneyshare.errors import ConfigError
from kidneyshare.generators.delorme import (
    DelormeParameters,
    compatibility_chance,
    draw_bands,
    draw_pairs,
)
from kidneyshare.generators.hla_typing import ANTIGEN_FREQUENCIES, draw_typings
from kidneyshare.generators.saidman import BLOOD_GROUP_ORDER
from kidneyshare.generators.seeding import make_rng
from kidneyshare.model import BloodGroup, DonorId, PatientId

__all__ = ["ClinicalParameters", "generate_clinical"]

_GROUPS: Final = tuple(AboType(g.value) for g in BLOOD_GROUP_ORDER)
_CENTRES: Final = 23
_DONOR_RETRIES: Final = 50  # redraws of a donor identical to the patient at every antigen


@dataclass(frozen=True, slots=True)
class ClinicalParameters:
    """The pool model (:class:`DelormeParameters`), how closely the achieved cPRA
    follows the target (``tolerance``, absolute), and whether centres' declines bring
    each patient's arcs down to the model's compatibility chance (``centre_declines``)."""

    pool: DelormeParameters = field(default_factory=DelormeParameters)
    tolerance: float = 0.02
    centre_declines: bool = True

    def __post_init__(self) -> None:
        if not 0 < self.tolerance < 0.5:
            raise ConfigError(f"tolerance: expected a number in (0, 0.5), got {self.tolerance!r}")


def _candidates() -> tuple[HlaAntigen, ...]:
    """Serological antigens a patient may be listed as unacceptable for."""
    names = [n for locus in ANTIGEN_FREQUENCIES.values() for n in locus if "*" not in n]
    return tuple(HlaAntigen(n) for n in names)


def _own(typing: HlaTyping, antigen: HlaName) -> bool:
    """Whether listing ``antigen`` would make the person crossmatch-positive with
    themselves (it is, or is related to, an antigen they carry): never unacceptable."""
    return virtual_crossmatch(typing.specificities, (antigen,)).positive


class _UnacceptableChooser:
    """Picks unacceptable antigens against a panel, caching each antigen's positives."""

    def __init__(self, panel: ReferencePanel, tolerance: float) -> None:
        self._panel = panel
        self._tolerance = tolerance
        self._candidates = _candidates()
        self._positives: dict[HlaName, npt.NDArray[np.bool_]] = {}

    def _hit(self, antigen: HlaName) -> npt.NDArray[np.bool_]:
        if antigen not in self._positives:
            self._positives[antigen] = self._panel.positive([antigen])
        return self._positives[antigen]

    def choose(
        self,
        rng: np.random.Generator,
        patient: HlaTyping,
        forced: list[HlaName],
        target: float,
    ) -> tuple[tuple[HlaName, ...], float]:
        chosen = list(forced)
        hit = np.zeros(len(self._panel.donors), dtype=bool)
        for antigen in forced:
            hit |= self._hit(antigen)
        order = rng.permutation(len(self._candidates))
        for i in order.tolist():
            if hit.mean() >= target - self._tolerance:
                break
            antigen = self._candidates[i]
            if antigen in chosen or _own(patient, antigen):
                continue
            trial = hit | self._hit(antigen)
            if trial.mean() <= target + self._tolerance:
                chosen.append(antigen)
                hit = trial
        return tuple(chosen), float(hit.mean())

    def rarest_mismatch(self, donor: HlaTyping, patient: HlaTyping) -> HlaName | None:
        """The donor antigen, not the patient's own, that the fewest panel donors carry:
        the antibody that makes the pair incompatible while raising cPRA the least."""
        options = [
            s
            for s in donor.specificities
            if isinstance(s, HlaAntigen)
            and s.name not in ("DR51", "DR52", "DR53")
            and not _own(patient, s)
        ]
        return min(options, key=lambda s: (int(self._hit(s).sum()), s.name), default=None)


def _declines(
    rng: np.random.Generator,
    patients: list[PatientRecord],
    donors: list[DonorRecord],
    chance: list[float],
) -> list[PatientRecord]:
    """The patients with their do-not-match lists (see the module's description)."""
    pool_donors = ReferencePanel(
        tuple(PanelDonor(d.id, d.abo.group, d.hla or HlaTyping(())) for d in donors),
        source="the pool's donors",
    )
    groups = [d.abo.group for d in donors]
    abo_for = {g: np.array([dg.can_donate_to(g) for dg in groups], dtype=bool) for g in BloodGroup}
    owners = np.array([d.patient or "" for d in donors])
    ids = [d.id for d in donors]
    out: list[PatientRecord] = []
    for patient, patient_chance in zip(patients, chance, strict=True):
        compatible = abo_for[patient.abo.group] & (owners != patient.id)
        negative = compatible & ~pool_donors.positive(patient.unacceptable or ())
        keep = min(1.0, patient_chance * int(compatible.sum()) / max(int(negative.sum()), 1))
        declined = negative & (rng.random(len(donors)) >= keep)
        listed = tuple(ids[d] for d in np.flatnonzero(declined).tolist())
        out.append(replace(patient, declined_donors=listed))
    return out


def _titre(rng: np.random.Generator) -> int:
    return int(2 ** rng.integers(1, 10))


def generate_clinical(
    pairs: int,
    altruists: int = 0,
    *,
    seed: int,
    parameters: ClinicalParameters | None = None,
    panel: ReferencePanel | None = None,
    as_of: date = date(2026, 1, 1),
    name: str | None = None,
) -> ClinicalPool:
    """Draw the clinical records of a pool.

    Parameters
    ----------
    pairs, altruists:
        patients (each with 1-4 donors) and non-directed donors.
    seed:
        the same seed (and panel) gives the same records on every machine.
    panel:
        the reference panel cPRA is computed against (the shipped synthetic panel by
        default).
    as_of:
        the date the records are current to.

    Returns
    -------
    ClinicalPool
        patients ``p1..`` and donors ``p1_d1..``, ``a1..``, every field filled.

    Examples
    --------
    >>> pool = generate_clinical(5, 1, seed=2)
    >>> len(pool.patients), sum(d.patient is None for d in pool.donors)
    (5, 1)
    """
    for value, label in ((pairs, "pairs"), (altruists, "altruists")):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ConfigError(f"{label}: expected a whole number >= 0, got {value!r}")
    if pairs == 0 and altruists == 0:
        raise ConfigError("pairs, altruists: expected at least one to be above 0, got 0 and 0")
    params = parameters or ClinicalParameters()
    panel = panel or default_panel()
    rng = make_rng(seed)
    drawn = draw_pairs(rng, pairs, params.pool)
    altruist_groups = rng.choice(4, size=altruists, p=np.array(params.pool.altruist_groups))
    paired = drawn.donor_owner.size
    typings = draw_typings(rng, pairs + paired + altruists)
    patient_typings = typings[:pairs]
    donor_typings = typings[pairs:]
    donor_ages = np.round(draw_bands(rng, params.pool.donor_age_bands, paired + altruists), 1)
    chooser = _UnacceptableChooser(panel, params.tolerance)

    donors_of: list[list[int]] = [[] for _ in range(pairs)]
    for d, owner in enumerate(drawn.donor_owner.tolist()):
        donors_of[owner].append(d)

    patients: list[PatientRecord] = []
    for i in range(pairs):
        group = _GROUPS[int(drawn.patient_groups[i])]
        forced: list[HlaName] = []
        for d in donors_of[i]:
            if not _GROUPS[int(drawn.donor_groups[d])].group.can_donate_to(group.group):
                continue
            antigen = chooser.rarest_mismatch(donor_typings[d], patient_typings[i])
            for _ in range(_DONOR_RETRIES):
                if antigen is not None:
                    break
                donor_typings[d] = draw_typings(rng, 1)[0]
                antigen = chooser.rarest_mismatch(donor_typings[d], patient_typings[i])
            if antigen is not None and antigen not in forced:
                forced.append(antigen)
        unacceptable, achieved = chooser.choose(
            rng, patient_typings[i], forced, float(drawn.cpra[i])
        )
        needs_a = "A" not in group.antigens
        needs_b = "B" not in group.antigens
        patients.append(
            PatientRecord(
                PatientId(f"p{i + 1}"),
                group,
                hla=patient_typings[i],
                unacceptable=unacceptable,
                cpra=round(achieved, 4),
                age=float(rng.integers(18, 76)),
                sex=Sex.FEMALE if rng.random() < 0.4 else Sex.MALE,
                anti_a_titre=_titre(rng) if needs_a else None,
                anti_b_titre=_titre(rng) if needs_b else None,
                centre=f"C{int(rng.integers(1, _CENTRES + 1)):02d}",
                registered=as_of - timedelta(days=int(rng.integers(0, 3 * 365))),
                recorded=as_of,
                antibodies_recorded=as_of - timedelta(days=int(rng.integers(0, 91))),
            )
        )

    donors: list[DonorRecord] = []
    per_patient = [0] * pairs
    groups = np.concatenate([drawn.donor_groups, altruist_groups]).tolist()
    owners = drawn.donor_owner.tolist() + [-1] * altruists
    for d, (owner, g) in enumerate(zip(owners, groups, strict=True)):
        if owner >= 0:
            per_patient[owner] += 1
            donor_id = DonorId(f"p{owner + 1}_d{per_patient[owner]}")
        else:
            donor_id = DonorId(f"a{d - paired + 1}")
        donors.append(
            DonorRecord(
                donor_id,
                _GROUPS[int(g)],
                None if owner < 0 else PatientId(f"p{owner + 1}"),
                hla=donor_typings[d],
                age=float(donor_ages[d]),
                sex=Sex.FEMALE if rng.random() < 0.5 else Sex.MALE,
                egfr=float(np.clip(np.round(rng.normal(95, 15)), 60, 140)),
                centre=f"C{int(rng.integers(1, _CENTRES + 1)):02d}",
                recorded=as_of,
            )
        )
    if params.centre_declines:
        chance = [
            compatibility_chance(params.pool.compatibility_rule, p.cpra or 0.0, unsensitised)
            for p, unsensitised in zip(patients, drawn.unsensitised.tolist(), strict=True)
        ]
        patients = _declines(rng, patients, donors, chance)
    return ClinicalPool(
        tuple(patients),
        tuple(donors),
        name=name or f"clinical-{pairs}-{altruists}-seed{seed}",
    )
