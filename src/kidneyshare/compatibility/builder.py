"""Clinical records -> a pool with arcs, every donor-patient combination explained.

For each donor and each patient other than the donor's own, the builder judges ABO under
the policy and runs the virtual crossmatch (where the donor's typing and the patient's
unacceptable antigens are known); a compatible combination becomes an :class:`Arc`
whose weight is its score (:mod:`~kidneyshare.compatibility.score`). Each combination's
:class:`Assessment` says why the arc exists or not; the :class:`~kidneyshare.model.Arc`
itself stays a plain value of the model.

A donor with their own patient is assessed too (a compatible pair is reported as
compatible) but never becomes an arc: that would be a direct transplant, not an exchange.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from kidneyshare.compatibility.abo import AboJudgement, AboType, abo_compatibility
from kidneyshare.compatibility.crossmatch import VirtualCrossmatch, hla_conflict
from kidneyshare.compatibility.hla import HlaName
from kidneyshare.compatibility.judgement import Compatibility
from kidneyshare.compatibility.mismatch import HlaMismatch, count_mismatch, locus_antigens
from kidneyshare.compatibility.policy import CompatibilityPolicy
from kidneyshare.compatibility.records import ClinicalPool, DonorRecord, PatientRecord
from kidneyshare.compatibility.score import ScoreParts, ScoringScheme, score_transplant
from kidneyshare.model import Arc, Donor, DonorId, Instance, Patient, PatientId

__all__ = ["Assessment", "BuiltPool", "build_pool", "latest_record_date"]


@dataclass(frozen=True, slots=True)
class Assessment:
    """One donor against one patient: the judgement, and for a compatible combination
    its HLA mismatch and score. ``own_donor``: the donor is registered for this patient."""

    donor: DonorId
    patient: PatientId
    compatibility: Compatibility
    mismatch: HlaMismatch | None
    score: ScoreParts | None
    own_donor: bool
    crossmatch_note: str = ""

    @property
    def is_arc(self) -> bool:
        """Whether the pool has the arc ``donor -> patient``."""
        return self.compatibility.compatible and not self.own_donor

    def reasons(self) -> list[str]:
        """Why the arc exists or not, one fact a line."""
        abo = self.compatibility.abo
        lines = [f"ABO: {'compatible' if abo.compatible else 'incompatible'} ({abo.rule})"]
        xm = self.compatibility.crossmatch
        if xm is None:
            lines.append(f"virtual crossmatch: not judged ({self.crossmatch_note})")
        elif xm.positive:
            lines.append(f"virtual crossmatch: positive: {', '.join(xm.conflicts)}")
        else:
            lines.append("virtual crossmatch: negative")
        if self.compatibility.compatible:
            if self.mismatch is None:
                lines.append("HLA mismatch: unknown (A, B or DR typing missing)")
            else:
                lines.append(f"HLA mismatch: {self.mismatch} (level {self.mismatch.level})")
        if self.score is not None:
            lines.append(f"score: {self.score}")
        if self.own_donor:
            lines.append(
                "own donor: a compatible pair transplants directly; not an exchange arc"
                if self.compatibility.compatible
                else "own donor: the pair's own incompatibility"
            )
        return lines

    def summary(self) -> str:
        """``"d3 -> p7: arc, weight 103"`` or ``"d3 -> p7: no arc"``."""
        head = f"{self.donor} -> {self.patient}: "
        if self.is_arc and self.score is not None:
            return head + f"arc, weight {self.score.total:g}"
        if self.own_donor:
            return head + (
                "compatible pair (own donor)"
                if self.compatibility.compatible
                else "incompatible pair (own donor)"
            )
        return head + "no arc"

    def to_json(self) -> dict[str, Any]:
        return {
            "donor": self.donor,
            "patient": self.patient,
            "arc": self.is_arc,
            "own_donor": self.own_donor,
            **self.compatibility.to_json(),
            "hla_mismatch": None
            if self.mismatch is None
            else {"mismatch": str(self.mismatch), "level": self.mismatch.level},
            "score": None if self.score is None else self.score.to_json(),
            "reasons": self.reasons(),
        }


@dataclass(frozen=True, slots=True)
class BuiltPool:
    """The pool built from clinical records, with the assessment of every combination."""

    instance: Instance
    assessments: Mapping[tuple[DonorId, PatientId], Assessment]

    def why(self, donor: str, patient: str) -> Assessment:
        """The assessment of ``donor -> patient``.

        Raises
        ------
        InstanceError
            naming the unknown donor or patient.
        """
        self.instance.donor(donor)
        self.instance.patient(patient)
        return self.assessments[(DonorId(donor), PatientId(patient))]

    def exclusions(self) -> dict[str, int]:
        """Combinations without an arc, by cause (own donors not counted)."""
        counts = {"abo": 0, "crossmatch": 0, "abo_and_crossmatch": 0}
        for a in self.assessments.values():
            if a.own_donor or a.is_arc:
                continue
            xm = a.compatibility.crossmatch
            positive = xm is not None and xm.positive
            if not a.compatibility.abo.compatible:
                counts["abo_and_crossmatch" if positive else "abo"] += 1
            else:
                counts["crossmatch"] += 1
        return counts


def latest_record_date(records: ClinicalPool) -> date | None:
    """The most recent ``recorded`` date of the pool (the default 'as of' date)."""
    dates = [p.recorded for p in records.patients if p.recorded is not None]
    dates += [d.recorded for d in records.donors if d.recorded is not None]
    return max(dates, default=None)


class _CrossmatchIndex:
    """Each patient's conflicts with every donor specificity of the pool, computed once per
    (specificity, unacceptable) pair: the same answers as ``virtual_crossmatch``."""

    def __init__(self, donors: tuple[DonorRecord, ...]) -> None:
        seen: dict[HlaName, None] = {}
        for donor in donors:
            if donor.hla is not None:
                seen.update(dict.fromkeys(donor.hla.specificities))
        self._universe = tuple(seen)
        self._pairs: dict[tuple[HlaName, HlaName], str | None] = {}

    def for_patient(self, unacceptable: tuple[HlaName, ...]) -> dict[HlaName, tuple[str, ...]]:
        found: dict[HlaName, tuple[str, ...]] = {}
        for specificity in self._universe:
            hits: list[str] = []
            for target in unacceptable:
                key = (specificity, target)
                if key not in self._pairs:
                    self._pairs[key] = hla_conflict(specificity, target)
                conflict = self._pairs[key]
                if conflict is not None:
                    hits.append(conflict)
            if hits:
                found[specificity] = tuple(hits)
        return found


def _crossmatch(
    donor: DonorRecord, conflicts: dict[HlaName, tuple[str, ...]] | None
) -> tuple[VirtualCrossmatch | None, str]:
    if donor.hla is None:
        return None, "the donor's HLA typing is not known"
    if conflicts is None:
        return None, "the patient's unacceptable antigens are not known"
    listed: dict[str, None] = {}
    for specificity in donor.hla.specificities:
        listed.update(dict.fromkeys(conflicts.get(specificity, ())))
    return VirtualCrossmatch(bool(listed), tuple(listed)), ""


def build_pool(
    records: ClinicalPool,
    policy: CompatibilityPolicy | None = None,
    *,
    scheme: ScoringScheme | None = None,
    as_of: date | None = None,
    cpra: Mapping[PatientId, float] | None = None,
) -> BuiltPool:
    """Build the pool's :class:`Instance` and explain every donor-patient combination.

    Parameters
    ----------
    records:
        the clinical records.
    policy:
        the ABO rules (default: the plain rule).
    scheme:
        the points scheme of arc weights (default: :class:`ScoringScheme`).
    as_of:
        the date waiting time is counted to; default the latest ``recorded`` date of the
        records (so that the same records always give the same pool).
    cpra:
        cPRA values that override the recorded ones (computed against a panel by
        :func:`~kidneyshare.compatibility.cpra.calculated_reaction_frequency`).

    Returns
    -------
    BuiltPool
        the instance (patients with blood group, cPRA and age; donors with blood group
        and age; an arc for each compatible donor and other patient, weighted by score)
        and the assessment of every combination.
    """
    policy = policy or CompatibilityPolicy()
    scheme = scheme or ScoringScheme()
    as_of = as_of or latest_record_date(records)
    cpra = cpra or {}
    index = _CrossmatchIndex(records.donors)
    abo_cache: dict[tuple[AboType, AboType, int | None, int | None], AboJudgement] = {}
    donor_loci = {d.id: locus_antigens(d.hla) for d in records.donors}
    assessments: dict[tuple[DonorId, PatientId], Assessment] = {}
    arcs: list[Arc] = []
    for patient in records.patients:
        conflicts = (
            None if patient.unacceptable is None else index.for_patient(patient.unacceptable)
        )
        patient_loci = locus_antigens(patient.hla)
        patient_cpra = cpra.get(patient.id, patient.cpra)
        for donor in records.donors:
            key = (donor.abo, patient.abo, patient.anti_a_titre, patient.anti_b_titre)
            abo = abo_cache.get(key)
            if abo is None:
                abo = abo_cache[key] = abo_compatibility(
                    donor.abo,
                    patient.abo,
                    policy,
                    anti_a_titre=patient.anti_a_titre,
                    anti_b_titre=patient.anti_b_titre,
                )
            xm, note = _crossmatch(donor, conflicts)
            verdict = Compatibility(abo, xm)
            mismatch = score = None
            if verdict.compatible:
                mismatch = count_mismatch(donor_loci[donor.id], patient_loci)
                score = score_transplant(
                    scheme,
                    mismatch=mismatch,
                    cpra=patient_cpra,
                    registered=patient.registered,
                    as_of=as_of,
                    donor_age=donor.age,
                    patient_age=patient.age,
                )
            assessment = Assessment(
                donor.id,
                patient.id,
                verdict,
                mismatch,
                score,
                own_donor=donor.patient == patient.id,
                crossmatch_note=note,
            )
            assessments[(donor.id, patient.id)] = assessment
            if assessment.is_arc and score is not None:
                arcs.append(Arc(donor.id, patient.id, weight=score.total))
    instance = _instance(records, cpra, arcs)
    return BuiltPool(instance, assessments)


def _patient(record: PatientRecord, cpra: Mapping[PatientId, float]) -> Patient:
    return Patient(
        record.id,
        blood_group=record.abo.group,
        cpra=cpra.get(record.id, record.cpra),
        age=record.age,
    )


def _instance(records: ClinicalPool, cpra: Mapping[PatientId, float], arcs: list[Arc]) -> Instance:
    return Instance(
        [_patient(p, cpra) for p in records.patients],
        [Donor(d.id, d.patient, d.abo.group, d.age) for d in records.donors],
        arcs,
        name=records.name,
    )
