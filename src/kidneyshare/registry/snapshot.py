"""The pool as it stands, frozen into an :class:`~kidneyshare.model.Instance` for a run.

Members are the active pairs (with all their donors) and the active altruists, in id
order, so the same registry state always gives the same snapshot text and hash. Ids in
the snapshot are the registry's: ``P<patient id>`` and ``D<donor id>``.

Arcs: between two records read from the same pool file, the file's arcs are the
compatibility (its source computed it). Any other donor and patient (registered through
the service, or read from different files) are judged by the plain ABO rule and an
exact-name virtual crossmatch (a donor HLA name that the patient
lists as unacceptable rules the arc out). That interim rule is deliberately narrow; the
compatibility layer (splits and broads, the A2 rule, cPRA) replaces it when it lands.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from kidneyshare.model import Arc, BloodGroup, Donor, DonorId, Instance, Patient, PatientId
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


def patient_key(patient_id: int) -> str:
    return f"P{patient_id}"


def donor_key(donor_id: int) -> str:
    return f"D{donor_id}"


def parse_patient_key(key: str) -> int:
    return int(key.removeprefix("P"))


def parse_donor_key(key: str) -> int:
    return int(key.removeprefix("D"))


@dataclass(frozen=True, slots=True)
class _Person:
    id: int
    import_id: int | None
    group: BloodGroup | None
    hla: frozenset[str]


@dataclass(frozen=True, slots=True)
class PoolSnapshot:
    """The instance to solve; ``None`` when the pool has no active member."""

    instance: Instance | None
    pairs: int
    altruists: int


def _group(text: str | None) -> BloodGroup | None:
    return None if text is None else BloodGroup.parse(text)


def _rule_allows(donor: _Person, patient: _Person) -> bool:
    if donor.group is None or patient.group is None:
        return False
    return donor.group.can_donate_to(patient.group) and not (donor.hla & patient.hla)


def _arcs(
    session: Session, donors: Sequence[_Person], patients: Sequence[_Person], own: dict[int, int]
) -> list[Arc]:
    patient_ids = {p.id for p in patients}
    donor_ids = {d.id for d in donors}
    imported = {
        (row.donor_id, row.patient_id): row
        for row in session.scalars(select(ImportedArc))
        if row.donor_id in donor_ids and row.patient_id in patient_ids
    }
    arcs: list[Arc] = []
    for d in donors:
        for p in patients:
            if own.get(d.id) == p.id:
                continue
            stored = imported.get((d.id, p.id))
            if stored is not None:
                arcs.append(
                    Arc(
                        DonorId(donor_key(d.id)),
                        PatientId(patient_key(p.id)),
                        stored.weight,
                        stored.probability,
                    )
                )
            elif (d.import_id is None or d.import_id != p.import_id) and _rule_allows(d, p):
                arcs.append(Arc(DonorId(donor_key(d.id)), PatientId(patient_key(p.id))))
    return arcs


def _patient(row: PatientRow, facts: PatientClinicalRecord | None) -> tuple[Patient, _Person]:
    group = _group(None if facts is None else facts.blood_group)
    model = Patient(
        PatientId(patient_key(row.id)),
        blood_group=group,
        cpra=None if facts is None else facts.cpra,
        age=None if facts is None or facts.age is None else float(facts.age),
    )
    unacceptable = frozenset(() if facts is None else facts.unacceptable_antigens)
    return model, _Person(row.id, row.import_id, group, unacceptable)


def _donor(
    row: DonorRow, facts: DonorClinicalRecord | None, patient: int | None
) -> tuple[Donor, _Person]:
    group = _group(None if facts is None else facts.blood_group)
    model = Donor(
        DonorId(donor_key(row.id)),
        patient=None if patient is None else PatientId(patient_key(patient)),
        blood_group=group,
        age=None if facts is None or facts.age is None else float(facts.age),
    )
    hla = frozenset(() if facts is None else facts.hla)
    return model, _Person(row.id, row.import_id, group, hla)


def snapshot_pool(session: Session, name: str) -> PoolSnapshot:
    """Freeze the active pool (see the module's notes on ids and arcs)."""
    pairs = list(
        session.scalars(select(Pair).where(Pair.status == MemberStatus.ACTIVE).order_by(Pair.id))
    )
    altruists = list(
        session.scalars(
            select(Altruist).where(Altruist.status == MemberStatus.ACTIVE).order_by(Altruist.id)
        )
    )
    if not pairs and not altruists:
        return PoolSnapshot(None, 0, 0)
    patients: list[Patient] = []
    donors: list[Donor] = []
    patient_people: list[_Person] = []
    donor_people: list[_Person] = []
    own: dict[int, int] = {}
    for pair in pairs:
        model, person = _patient(pair.patient, current_patient_facts(session, pair.patient_id))
        patients.append(model)
        patient_people.append(person)
        rows = session.scalars(
            select(DonorRow).where(DonorRow.patient_id == pair.patient_id).order_by(DonorRow.id)
        )
        for row in rows:
            d_model, d_person = _donor(row, current_donor_facts(session, row.id), pair.patient_id)
            donors.append(d_model)
            donor_people.append(d_person)
            own[row.id] = pair.patient_id
    for altruist in altruists:
        d_model, d_person = _donor(
            altruist.donor, current_donor_facts(session, altruist.donor_id), None
        )
        donors.append(d_model)
        donor_people.append(d_person)
    arcs = _arcs(session, donor_people, patient_people, own)
    return PoolSnapshot(Instance(patients, donors, arcs, name=name), len(pairs), len(altruists))
