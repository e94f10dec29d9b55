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
"""

from __future__ import annotations

from dataclasses import dataclass

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
from kidneyshare.registry.pool import current_donor_facts, current_patient_facts
from kidneyshare.registry.vocabulary import MemberStatus

__all__ = [
    "PoolSnapshot",
    "donor_key",
    "parse_donor_key",
    "parse_patient_key",
    "patient_key",
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
    donors = {parse_donor_key(d.id) for d in got.donors}
    patients = {parse_patient_key(p.id) for p in got.patients}
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
        facts = current_patient_facts(session, pair.patient_id)
        key = PatientId(patient_key(pair.patient_id))
        got.patients.append(
            Patient(
                key,
                blood_group=_group(None if facts is None else facts.blood_group),
                cpra=None if facts is None else facts.cpra,
                age=None if facts is None or facts.age is None else float(facts.age),
            )
        )
        got.imports[key] = pair.patient.import_id
        if facts is not None and facts.blood_group is not None:
            got.patient_records.append(_patient_record(pair.patient, facts))
        for row in donors:
            _add_donor(session, got, row, pair.patient_id)
    counted_altruists = 0
    for altruist in altruists:
        if altruist.donor_id not in refused:
            counted_altruists += 1
            _add_donor(session, got, altruist.donor, None)
    excluded = tuple((donor_key(i), v.reason) for i, v in sorted(refused.items()))
    if not got.patients and not got.donors:
        return PoolSnapshot(None, 0, 0, excluded)
    arcs = _imported_arcs(session, got)
    arcs += _judged_arcs(session, got, compatibility or CompatibilityPolicy())
    instance = Instance(got.patients, got.donors, arcs, name=name)
    return PoolSnapshot(instance, counted_pairs, counted_altruists, excluded)


def _add_donor(session: Session, got: _Collected, row: DonorRow, patient: int | None) -> None:
    facts = current_donor_facts(session, row.id)
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
