"""The pool as it stands, frozen into an :class:`~kidneyshare.model.Instance` for a run.

Members are the active pairs (with all their donors) and the active altruists, in id
order, so the same registry state always gives the same snapshot text and hash. Ids in
the snapshot are the registry's: ``P<patient id>`` and ``D<donor id>``.

A donor who may not enter a pool (:mod:`kidneyshare.registry.eligibility`: one who has
donated, or is in an open care episode) is left out, and so is a pair left with no
donor; :attr:`PoolSnapshot.excluded` says who and why.

Arcs: between two records read from the same pool file, the file's arcs are the
compatibility (its source computed it). Any other donor and patient (registered through
the service, or read from different files) are judged by
:func:`kidneyshare.compatibility.build_pool` from their current clinical facts: ABO
with the scheme's :class:`~kidneyshare.compatibility.CompatibilityPolicy` (the A2 rule
reads the donor's A subgroup and the patient's anti-A titre), the virtual crossmatch
with splits and broads, and the arc's weight is the compatibility score. A person whose
blood group is not recorded gets no judged arc (nothing can be said about them), and a
patient none of whose donors has a recorded blood group receives judged arcs but gives
none.

:func:`rebuild_snapshot` freezes a stored run's members again from the facts in force
when the run was made (the facts are append-only, so they can be read as of any time),
under any compatibility rules and with hypothetical donors added: what a what-if re-run
of the run needs, since the snapshot keeps blood groups but not HLA or titres.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from kidneyshare.compatibility import (
    AboType,
    ClinicalPool,
    CompatibilityPolicy,
    DonorRecord,
    HlaTyping,
    PatientRecord,
    Sex,
    assess,
    build_pool,
    parse_hla_names,
)
from kidneyshare.errors import KidneyshareError
from kidneyshare.model import Arc, BloodGroup, Donor, DonorId, Instance, Patient, PatientId
from kidneyshare.registry.eligibility import ineligible_donors
from kidneyshare.registry.errors import RecordInvalid
from kidneyshare.registry.keys import donor_key, parse_donor_key, parse_patient_key, patient_key
from kidneyshare.registry.models import (
    Altruist,
    DonorClinicalRecord,
    ImportedArc,
    Pair,
    PatientClinicalRecord,
)
from kidneyshare.registry.models import Donor as DonorRow
from kidneyshare.registry.models import Patient as PatientRow
from kidneyshare.registry.pool import (
    current_donor_facts,
    current_patient_facts,
    donor_facts_as_of,
    patient_facts_as_of,
)
from kidneyshare.registry.vocabulary import MemberStatus

__all__ = [
    "PoolSnapshot",
    "RebuiltSnapshot",
    "donor_key",
    "parse_donor_key",
    "parse_patient_key",
    "patient_key",
    "rebuild_snapshot",
    "snapshot_pool",
]


@dataclass(frozen=True, slots=True)
class PoolSnapshot:
    """The instance to solve (``None`` when the pool has no member that may enter), and
    the donors left out with the reason (``(donor key, reason)``, in id order)."""

    instance: Instance | None
    pairs: int
    altruists: int
    excluded: tuple[tuple[str, str], ...] = ()


def _group(text: str | None) -> BloodGroup | None:
    return None if text is None else BloodGroup.parse(text)


def _sex(text: str | None, field: str) -> Sex | None:
    return None if text is None else Sex.parse(text, field=field)


def _patient_record(row: PatientRow, facts: PatientClinicalRecord) -> PatientRecord:
    key = patient_key(row.id)
    assert facts.blood_group is not None  # only patients with a group are judged
    return PatientRecord(
        PatientId(key),
        AboType.parse(facts.blood_group),
        hla=HlaTyping.parse(facts.hla, field=f"patient {key} hla") if facts.hla else None,
        unacceptable=parse_hla_names(
            facts.unacceptable_antigens, field=f"patient {key} unacceptable antigens"
        ),
        cpra=facts.cpra,
        age=None if facts.age is None else float(facts.age),
        sex=_sex(facts.sex, f"patient {key} sex"),
        anti_a_titre=facts.anti_a_titre,
        registered=row.created_at.date(),
        recorded=facts.recorded_on,
    )


def _donor_record(row: DonorRow, facts: DonorClinicalRecord, patient: int | None) -> DonorRecord:
    key = donor_key(row.id)
    assert facts.blood_group is not None
    group = facts.blood_group
    if facts.a_subgroup is not None:  # A + A2 -> A2, AB + A2 -> A2B
        group = group.replace("A", facts.a_subgroup, 1)
    return DonorRecord(
        DonorId(key),
        AboType.parse(group),
        patient=None if patient is None else PatientId(patient_key(patient)),
        hla=HlaTyping.parse(facts.hla, field=f"donor {key} hla") if facts.hla else None,
        age=None if facts.age is None else float(facts.age),
        sex=_sex(facts.sex, f"donor {key} sex"),
        egfr=facts.egfr,
        recorded=facts.recorded_on,
    )


@dataclass
class _Collected:
    """The snapshot's members as they are gathered."""

    patients: list[Patient]
    donors: list[Donor]
    patient_records: list[PatientRecord]
    donor_records: list[DonorRecord]
    imports: dict[str, int | None]


def _judged_arcs(session: Session, got: _Collected, policy: CompatibilityPolicy) -> list[Arc]:
    """Arcs from the compatibility layer between people not from the same pool file."""
    giving = {d.patient for d in got.donor_records if d.patient is not None}
    patients = tuple(p for p in got.patient_records if p.id in giving)
    kept = {p.id for p in patients}
    donors = tuple(d for d in got.donor_records if d.patient is None or d.patient in kept)
    receiving_only = [p for p in got.patient_records if p.id not in giving]
    arcs: list[Arc] = []
    try:
        if patients or donors:
            built = build_pool(ClinicalPool(patients, donors), policy)
            arcs += built.instance.arcs
        if receiving_only and got.donor_records:
            # Patients whose donors have no recorded group still receive: judge them with
            # every donor, each given a stand-in patient so the clinical pool is whole.
            arcs += _arcs_to(receiving_only, got.donor_records, policy)
    except KidneyshareError as exc:
        raise RecordInvalid(f"the compatibility layer cannot judge the pool: {exc}") from exc
    return [
        a
        for a in arcs
        if got.imports[a.donor] is None or got.imports[a.donor] != got.imports[a.patient]
    ]


def _arcs_to(
    patients: list[PatientRecord], donors: list[DonorRecord], policy: CompatibilityPolicy
) -> list[Arc]:
    arcs = []
    for patient in patients:
        for donor in donors:
            verdict = assess(donor, patient, policy)
            if verdict.is_arc and verdict.score is not None:
                arcs.append(Arc(donor.id, patient.id, weight=verdict.score.total))
    return arcs


def _imported_arcs(session: Session, got: _Collected) -> list[Arc]:
    # only people read from a pool file have its arcs (a hypothetical donor is from none)
    donors = {parse_donor_key(d.id) for d in got.donors if got.imports[d.id] is not None}
    patients = {parse_patient_key(p.id) for p in got.patients if got.imports[p.id] is not None}
    return [
        Arc(
            DonorId(donor_key(row.donor_id)),
            PatientId(patient_key(row.patient_id)),
            row.weight,
            row.probability,
        )
        for row in session.scalars(select(ImportedArc).order_by(ImportedArc.id))
        if row.donor_id in donors and row.patient_id in patients
    ]


def snapshot_pool(
    session: Session, name: str, compatibility: CompatibilityPolicy | None = None
) -> PoolSnapshot:
    """Freeze the active pool (see the module's notes on members, ids and arcs).

    Raises
    ------
    RecordInvalid
        when a recorded HLA name or value cannot be read by the compatibility layer.
    """
    pairs = list(
        session.scalars(select(Pair).where(Pair.status == MemberStatus.ACTIVE).order_by(Pair.id))
    )
    altruists = list(
        session.scalars(
            select(Altruist).where(Altruist.status == MemberStatus.ACTIVE).order_by(Altruist.id)
        )
    )
    pair_donors = {
        pair.id: list(
            session.scalars(
                select(DonorRow).where(DonorRow.patient_id == pair.patient_id).order_by(DonorRow.id)
            )
        )
        for pair in pairs
    }
    refused = ineligible_donors(
        session,
        [d.id for ds in pair_donors.values() for d in ds] + [a.donor_id for a in altruists],
    )
    got = _Collected([], [], [], [], {})
    counted_pairs = 0
    for pair in pairs:
        donors = [d for d in pair_donors[pair.id] if d.id not in refused]
        if not donors:
            continue
        counted_pairs += 1
        _add_patient(got, pair.patient, current_patient_facts(session, pair.patient_id))
        for row in donors:
            _add_donor(got, row, current_donor_facts(session, row.id), pair.patient_id)
    counted_altruists = 0
    for altruist in altruists:
        if altruist.donor_id not in refused:
            counted_altruists += 1
            donor = altruist.donor
            _add_donor(got, donor, current_donor_facts(session, donor.id), None)
    excluded = tuple((donor_key(i), v.reason) for i, v in sorted(refused.items()))
    if not got.patients and not got.donors:
        return PoolSnapshot(None, 0, 0, excluded)
    instance = _freeze(session, got, name, compatibility)
    return PoolSnapshot(instance, counted_pairs, counted_altruists, excluded)


def _freeze(
    session: Session, got: _Collected, name: str, compatibility: CompatibilityPolicy | None
) -> Instance:
    arcs = _imported_arcs(session, got)
    arcs += _judged_arcs(session, got, compatibility or CompatibilityPolicy())
    return Instance(got.patients, got.donors, arcs, name=name)


def _add_patient(got: _Collected, row: PatientRow, facts: PatientClinicalRecord | None) -> None:
    key = PatientId(patient_key(row.id))
    got.patients.append(
        Patient(
            key,
            blood_group=_group(None if facts is None else facts.blood_group),
            cpra=None if facts is None else facts.cpra,
            age=None if facts is None or facts.age is None else float(facts.age),
        )
    )
    got.imports[key] = row.import_id
    if facts is not None and facts.blood_group is not None:
        got.patient_records.append(_patient_record(row, facts))


def _add_donor(
    got: _Collected, row: DonorRow, facts: DonorClinicalRecord | None, patient: int | None
) -> None:
    key = DonorId(donor_key(row.id))
    got.donors.append(
        Donor(
            key,
            patient=None if patient is None else PatientId(patient_key(patient)),
            blood_group=_group(None if facts is None else facts.blood_group),
            age=None if facts is None or facts.age is None else float(facts.age),
        )
    )
    got.imports[key] = row.import_id
    if facts is not None and facts.blood_group is not None:
        got.donor_records.append(_donor_record(row, facts, patient))


@dataclass(frozen=True, slots=True)
class RebuiltSnapshot:
    """A stored snapshot's members frozen again (:func:`rebuild_snapshot`): the instance,
    the clinical records its arcs were judged from (people with a recorded blood group,
    hypothetical donors included), and the pool file each member was read from
    (``imports``: snapshot id -> pool import id, ``None`` for people registered
    otherwise), between whose members the file's arcs stand unjudged."""

    instance: Instance
    patient_records: tuple[PatientRecord, ...]
    donor_records: tuple[DonorRecord, ...]
    imports: Mapping[str, int | None]


def rebuild_snapshot(
    session: Session,
    stored: Instance,
    at: datetime,
    compatibility: CompatibilityPolicy | None = None,
    *,
    extra_donors: Sequence[DonorRecord] = (),
) -> RebuiltSnapshot:
    """The members of the snapshot ``stored`` (in its order) with the clinical facts in
    force at ``at``, their arcs judged under ``compatibility`` as :func:`snapshot_pool`
    judges them; ``extra_donors`` (ids not of the registry's form) are judged with them,
    as donors from no pool file.

    With the rules and the time of the run that stored the snapshot, the result is the
    snapshot itself, unless the run used other rules or a fact was recorded while the run
    was being made; the caller compares.
    """
    patient_ids = [parse_patient_key(p.id) for p in stored.patients]
    donor_ids = [parse_donor_key(d.id) for d in stored.donors]
    patient_rows = {
        row.id: row
        for row in session.scalars(select(PatientRow).where(PatientRow.id.in_(patient_ids)))
    }
    donor_rows = {
        row.id: row for row in session.scalars(select(DonorRow).where(DonorRow.id.in_(donor_ids)))
    }
    got = _Collected([], [], [], [], {})
    for patient_id in patient_ids:
        _add_patient(got, patient_rows[patient_id], patient_facts_as_of(session, patient_id, at))
    for donor, donor_id in zip(stored.donors, donor_ids, strict=True):
        owner = None if donor.patient is None else parse_patient_key(donor.patient)
        _add_donor(got, donor_rows[donor_id], donor_facts_as_of(session, donor_id, at), owner)
    for extra in extra_donors:
        got.donors.append(
            Donor(extra.id, patient=extra.patient, blood_group=extra.abo.group, age=extra.age)
        )
        got.donor_records.append(extra)
        got.imports[extra.id] = None
    instance = _freeze(session, got, stored.name, compatibility)
    return RebuiltSnapshot(
        instance, tuple(got.patient_records), tuple(got.donor_records), got.imports
    )
