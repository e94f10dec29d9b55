"""Clinical records -> a pool with arcs, every donor-patient combination explained.

For each donor and each patient other than the donor's own, the builder judges ABO under
the policy and runs the virtual crossmatch (where the donor's typing and the patient's
unacceptable antigens are known); a compatible combination becomes an :class:`Arc`
whose weight is its score (:mod:`~kidneyshare.compatibility.score`). Each combination's
:class:`Assessment` (from :func:`assess`, the pure rule) says why the arc exists or not;
the :class:`~kidneyshare.model.Arc` itself stays a plain value of the model.

The arcs are found with arrays: every distinct donor specificity is compared once with
every distinct unacceptable specificity of the pool (:func:`hla_conflict`), and a
donor-patient crossmatch is positive when one of the donor's specificities conflicts
with one of the patient's. Assessments, with their texts, are made on demand
(:meth:`BuiltPool.why`, :meth:`BuiltPool.assessments`); tests check that the two paths
agree on every combination.

A donor with their own patient is assessed too (a compatible pair is reported as
compatible) but never becomes an arc: that would be a direct transplant, not an exchange.
Nor does a donor on the patient's do-not-match list
(:attr:`~kidneyshare.compatibility.records.PatientRecord.declined_donors`): the
combination may be medically compatible, but the patient's centre has declined it, and
the assessment says so.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import partial
from typing import Any

import numpy as np
import numpy.typing as npt

from kidneyshare.compatibility.abo import AboJudgement, AboType, abo_compatibility
from kidneyshare.compatibility.crossmatch import (
    VirtualCrossmatch,
    carried,
    gather_conflicts,
    hla_conflict,
)
from kidneyshare.compatibility.hla import HlaName
from kidneyshare.compatibility.judgement import Compatibility, judge
from kidneyshare.compatibility.mismatch import (
    HlaMismatch,
    LocusAntigens,
    count_mismatch,
    hla_mismatch,
    locus_antigens,
)
from kidneyshare.compatibility.policy import CompatibilityPolicy
from kidneyshare.compatibility.records import ClinicalPool, DonorRecord, PatientRecord
from kidneyshare.compatibility.score import ScoreParts, ScoringScheme, score_transplant
from kidneyshare.model import Arc, Donor, DonorId, Instance, Patient, PatientId

__all__ = [
    "Assessment",
    "BuiltPool",
    "ScoringContext",
    "assess",
    "build_pool",
    "latest_record_date",
]


@dataclass(frozen=True, slots=True)
class Assessment:
    """One donor against one patient: the judgement, and for a compatible combination
    its HLA mismatch and score. ``own_donor``: the donor is registered for this patient;
    ``declined``: the donor is on the patient's do-not-match list."""

    donor: DonorId
    patient: PatientId
    compatibility: Compatibility
    mismatch: HlaMismatch | None
    score: ScoreParts | None
    own_donor: bool
    crossmatch_note: str = ""
    """Why the crossmatch was not judged ("" when it was)."""
    declined: bool = False

    @property
    def is_arc(self) -> bool:
        """Whether the pool has the arc ``donor -> patient``."""
        return self.compatibility.compatible and not self.own_donor and not self.declined

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
        if self.declined:
            lines.append(
                "declined by the patient's centre: the donor is on the patient's do-not-match list"
            )
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
            "declined": self.declined,
            **self.compatibility.to_json(),
            "hla_mismatch": None
            if self.mismatch is None
            else {"mismatch": str(self.mismatch), "level": self.mismatch.level},
            "score": None if self.score is None else self.score.to_json(),
            "reasons": self.reasons(),
        }


@dataclass(frozen=True, slots=True)
class ScoringContext:
    """What scores a transplant besides the two records: the points scheme, the date
    waiting time is counted to, and cPRA values overriding the recorded ones."""

    scheme: ScoringScheme = field(default_factory=ScoringScheme)
    as_of: date | None = None
    cpra: Mapping[PatientId, float] = field(default_factory=dict)

    def score(
        self,
        donor: DonorRecord,
        patient: PatientRecord,
        mismatch: HlaMismatch | None,
    ) -> ScoreParts:
        return score_transplant(
            self.scheme,
            mismatch=mismatch,
            cpra=self.cpra.get(patient.id, patient.cpra),
            registered=patient.registered,
            as_of=self.as_of,
            donor_age=donor.age,
            patient_age=patient.age,
        )


def assess(
    donor: DonorRecord,
    patient: PatientRecord,
    policy: CompatibilityPolicy,
    context: ScoringContext | None = None,
) -> Assessment:
    """Judge one donor against one patient: ABO, virtual crossmatch, and for a compatible
    combination the HLA mismatch and score."""
    context = context or ScoringContext()
    verdict = judge(
        donor.abo,
        patient.abo,
        policy,
        anti_a_titre=patient.anti_a_titre,
        anti_b_titre=patient.anti_b_titre,
        donor_hla=None if donor.hla is None else donor.hla.specificities,
        unacceptable=patient.unacceptable,
    )
    return _assessment(
        donor,
        patient,
        verdict,
        context,
        lambda: hla_mismatch(donor.hla, patient.hla),
        declined=donor.id in patient.declined_donors,
    )


def _assessment(
    donor: DonorRecord,
    patient: PatientRecord,
    verdict: Compatibility,
    context: ScoringContext,
    mismatch_of: Callable[[], HlaMismatch | None],
    *,
    declined: bool,
) -> Assessment:
    """The assessment of a judged combination: for a compatible one its HLA mismatch
    (``mismatch_of()``) and score (shared by :func:`assess` and the builder's tables)."""
    mismatch = score = None
    if verdict.compatible:
        mismatch = mismatch_of()
        score = context.score(donor, patient, mismatch)
    note = ""
    if donor.hla is None:
        note = "the donor's HLA typing is not known"
    elif patient.unacceptable is None:
        note = "the patient's unacceptable antigens are not known"
    return Assessment(
        donor.id,
        patient.id,
        verdict,
        mismatch,
        score,
        own_donor=donor.patient == patient.id,
        crossmatch_note=note,
        declined=declined,
    )


@dataclass(frozen=True, slots=True)
class BuiltPool:
    """The pool built from clinical records; every combination explained on demand."""

    instance: Instance
    records: ClinicalPool
    policy: CompatibilityPolicy
    context: ScoringContext
    exclusions: Mapping[str, int]
    """Combinations without an arc, by cause: ``abo``, ``crossmatch``,
    ``abo_and_crossmatch``, and ``declined`` (compatible, but on the patient's
    do-not-match list); a donor's own patient is not counted."""
    conflicts: _ConflictTable | None = field(default=None, repr=False, compare=False)
    """The crossmatch tables :func:`build_pool` made (rebuilt when ``None``)."""

    def why(self, donor: str, patient: str) -> Assessment:
        """The assessment of ``donor -> patient``.

        Raises
        ------
        InstanceError
            naming the unknown donor or patient.
        """
        self.instance.donor(donor)
        self.instance.patient(patient)
        donor_record = next(d for d in self.records.donors if d.id == donor)
        patient_record = next(p for p in self.records.patients if p.id == patient)
        return assess(donor_record, patient_record, self.policy, self.context)

    def assessments(self) -> Iterator[Assessment]:
        """Every donor-patient combination, patient by patient in record order: each
        equal to :func:`assess` of the two records, made from the pool's tables (the
        crossmatch texts looked up, ABO judged once per blood groups and titres, HLA
        antigens gathered once per person)."""
        table = self.conflicts or _ConflictTable(self.records)
        donors = self.records.donors
        donor_loci = [locus_antigens(d.hla) for d in donors]
        judged: dict[_AboKey, dict[AboType, AboJudgement]] = {}
        for patient in self.records.patients:
            key = (patient.abo, patient.anti_a_titre, patient.anti_b_titre)
            if key not in judged:
                judged[key] = _abo_judgements(patient, self.policy)
            abo = judged[key]
            found = None if patient.unacceptable is None else table.lookup(patient.unacceptable)
            patient_loci = locus_antigens(patient.hla)
            declined = frozenset(patient.declined_donors)
            for row, donor in enumerate(donors):
                xm = None if donor.hla is None or found is None else table.crossmatch(row, found)
                yield _assessment(
                    donor,
                    patient,
                    Compatibility(abo[donor.abo], xm),
                    self.context,
                    partial(count_mismatch, donor_loci[row], patient_loci),
                    declined=donor.id in declined,
                )


def latest_record_date(records: ClinicalPool) -> date | None:
    """The most recent ``recorded`` date of the pool (the default 'as of' date)."""
    dates = [p.recorded for p in records.patients if p.recorded is not None]
    dates += [d.recorded for d in records.donors if d.recorded is not None]
    return max(dates, default=None)


BoolArray = npt.NDArray[np.bool_]
_AboKey = tuple[AboType, int | None, int | None]
"""What an ABO judgement depends on besides the donor's group: the patient's group and
anti-A and anti-B titres."""


def _abo_judgements(
    patient: PatientRecord, policy: CompatibilityPolicy
) -> dict[AboType, AboJudgement]:
    """The ABO judgement for ``patient`` of a donor of each group."""
    return {
        t: abo_compatibility(
            t,
            patient.abo,
            policy,
            anti_a_titre=patient.anti_a_titre,
            anti_b_titre=patient.anti_b_titre,
        )
        for t in AboType
    }


_NEGATIVE = VirtualCrossmatch(positive=False, conflicts=())


class _ConflictTable:
    """Which donor specificities of the pool (with the DR51/52/53 a DRB1-only typing
    implies) conflict with which unacceptable ones, and how (:func:`hla_conflict`)."""

    def __init__(self, records: ClinicalPool) -> None:
        donor_carried = [carried(d.hla.specificities if d.hla else ()) for d in records.donors]
        donor_index: dict[HlaName, int] = {}
        for specificities in donor_carried:
            for s, _ in specificities:
                donor_index.setdefault(s, len(donor_index))
        target_index: dict[HlaName, int] = {}
        for patient in records.patients:
            for s in patient.unacceptable or ():
                target_index.setdefault(s, len(target_index))
        texts = [[hla_conflict(s, t) for t in target_index] for s in donor_index]
        table = np.array([[text is not None for text in row] for row in texts], dtype=bool)
        table = table.reshape(len(donor_index), len(target_index))
        carries = np.zeros((len(records.donors), len(donor_index)), dtype=np.int32)
        for row, specificities in enumerate(donor_carried):
            for s, _ in specificities:
                carries[row, donor_index[s]] = 1
        self._table = table
        self._texts = texts
        self._carries = carries
        self._targets = target_index
        self._carried = [
            [(donor_index[s], s.name, implied_by) for s, implied_by in specificities]
            for specificities in donor_carried
        ]
        self.typed = np.array([d.hla is not None for d in records.donors], dtype=bool)

    def positive(self, unacceptable: tuple[HlaName, ...]) -> BoolArray:
        """For each donor, whether the virtual crossmatch with ``unacceptable`` is positive."""
        columns = [self._targets[t] for t in unacceptable]
        conflicting = self._table[:, columns].any(axis=1).astype(np.int32)
        return (self._carries @ conflicting) > 0

    def lookup(self, unacceptable: tuple[HlaName, ...]) -> dict[int, list[str | None]]:
        """For each donor specificity (by index) that conflicts with one of
        ``unacceptable``: its comparison with each of them, in order."""
        columns = [self._targets[t] for t in unacceptable]
        rows = np.flatnonzero(self._table[:, columns].any(axis=1)).tolist()
        return {i: [self._texts[i][j] for j in columns] for i in rows}

    def crossmatch(self, donor: int, found: dict[int, list[str | None]]) -> VirtualCrossmatch:
        """The virtual crossmatch of donor row ``donor`` with the unacceptable
        specificities ``found`` was made for (:meth:`lookup`)."""
        hits = [(name, by, found[i]) for i, name, by in self._carried[donor] if i in found]
        return gather_conflicts(hits) if hits else _NEGATIVE


def build_pool(
    records: ClinicalPool,
    policy: CompatibilityPolicy | None = None,
    *,
    scheme: ScoringScheme | None = None,
    as_of: date | None = None,
    cpra: Mapping[PatientId, float] | None = None,
) -> BuiltPool:
    """Build the pool's :class:`Instance`; every donor-patient combination can then be
    explained with :meth:`BuiltPool.why`.

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
        :func:`~kidneyshare.compatibility.cpra.panel_cpra`).

    Returns
    -------
    BuiltPool
        the instance (patients with blood group, cPRA and age; donors with blood group
        and age; an arc for each compatible donor and other patient, weighted by score),
        the exclusion counts, and what is needed to explain any combination.
    """
    policy = policy or CompatibilityPolicy()
    context = ScoringContext(
        scheme or ScoringScheme(), as_of or latest_record_date(records), dict(cpra or {})
    )
    donors = records.donors
    table = _ConflictTable(records)
    donor_types = [d.abo for d in donors]
    owners = [d.patient for d in donors]
    donor_loci: list[LocusAntigens | None] = [locus_antigens(d.hla) for d in donors]
    abo_rows: dict[_AboKey, BoolArray] = {}
    exclusions = {"abo": 0, "crossmatch": 0, "abo_and_crossmatch": 0, "declined": 0}
    row_of = {d.id: row for row, d in enumerate(donors)}
    arcs: list[Arc] = []
    for patient in records.patients:
        key = (patient.abo, patient.anti_a_titre, patient.anti_b_titre)
        if key not in abo_rows:
            by_type = _abo_judgements(patient, policy)
            abo_rows[key] = np.array([by_type[t].compatible for t in donor_types], dtype=bool)
        abo_ok = abo_rows[key]
        if patient.unacceptable is None:
            positive = np.zeros(len(donors), dtype=bool)
        else:
            positive = table.positive(patient.unacceptable) & table.typed
        other = np.array([o != patient.id for o in owners], dtype=bool)
        exclusions["abo"] += int((~abo_ok & ~positive & other).sum())
        exclusions["crossmatch"] += int((abo_ok & positive & other).sum())
        exclusions["abo_and_crossmatch"] += int((~abo_ok & positive & other).sum())
        accepted = other.copy()
        accepted[[row_of[d] for d in patient.declined_donors]] = False
        exclusions["declined"] += int((abo_ok & ~positive & other & ~accepted).sum())
        patient_loci = locus_antigens(patient.hla)
        for d in np.flatnonzero(abo_ok & ~positive & accepted).tolist():
            score = context.score(donors[d], patient, count_mismatch(donor_loci[d], patient_loci))
            arcs.append(Arc(donors[d].id, patient.id, weight=score.total))
    instance = Instance(
        [_patient(p, context.cpra) for p in records.patients],
        [Donor(d.id, d.patient, d.abo.group, d.age) for d in donors],
        arcs,
        name=records.name,
    )
    return BuiltPool(instance, records, policy, context, exclusions, table)


def _patient(record: PatientRecord, cpra: Mapping[PatientId, float]) -> Patient:
    return Patient(
        record.id,
        blood_group=record.abo.group,
        cpra=cpra.get(record.id, record.cpra),
        age=record.age,
    )
