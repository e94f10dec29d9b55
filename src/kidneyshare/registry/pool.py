"""The pool's members: pairs and altruists, their clinical facts and their status.

Clinical facts are appended, never changed: :func:`record_patient_facts` writes a new row
that supersedes the current one, and the history functions show every row in order.
Each change also moves the member's ``version`` on, so a coordinator who edits from a
stale page gets a conflict rather than overwriting a colleague's correction.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import exists, select
from sqlalchemy.orm import Session, aliased

from kidneyshare.registry.accounts import get_centre
from kidneyshare.registry.clinical import DonorFacts, PatientFacts
from kidneyshare.registry.columns import utc_now
from kidneyshare.registry.eligibility import ineligible_donors, refuse_ineligible, same_person
from kidneyshare.registry.errors import RecordConflict, RecordInvalid, RecordNotFound
from kidneyshare.registry.models import (
    Altruist,
    Donor,
    DonorClinicalRecord,
    Pair,
    Patient,
    PatientClinicalRecord,
    StatusChange,
)
from kidneyshare.registry.paging import page
from kidneyshare.registry.unit_of_work import UnitOfWork, check_version, row_state
from kidneyshare.registry.vocabulary import STATUS_CHANGES, MemberStatus

__all__ = [
    "DonorEntry",
    "add_donor_facts",
    "add_patient_facts",
    "add_status_change",
    "change_status",
    "current_donor_facts",
    "current_patient_facts",
    "donor_facts_as_of",
    "donor_facts_history",
    "get_altruist",
    "get_pair",
    "get_patient",
    "list_altruists",
    "list_pairs",
    "pair_donors",
    "patient_facts_as_of",
    "patient_facts_history",
    "record_donor_facts",
    "record_patient_facts",
    "register_altruist",
    "register_pair",
    "set_status",
    "status_history",
]

_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")

Member = TypeVar("Member", Pair, Altruist)
Fact = TypeVar("Fact", PatientClinicalRecord, DonorClinicalRecord)


@dataclass(frozen=True, slots=True)
class DonorEntry:
    """A donor as a centre registers them: its code, identifiable reference, facts."""

    code: str
    reference: str | None = None
    facts: DonorFacts | None = None


def _check_code(code: str, field: str) -> str:
    if not isinstance(code, str) or not _CODE.fullmatch(code):
        raise RecordInvalid(
            f"expected 1-64 letters, digits, '.', '_', ':' or '-', got {code!r}", field=field
        )
    return code


def _facts_row(facts: PatientFacts | DonorFacts) -> dict[str, Any]:
    values = asdict(facts)
    for key in ("hla", "unacceptable_antigens"):
        if key in values:
            values[key] = list(values[key])
    return values


def add_patient_facts(
    uow: UnitOfWork, patient: Patient, facts: PatientFacts, supersedes: int | None, reason: str
) -> PatientClinicalRecord:
    record = PatientClinicalRecord(
        patient_id=patient.id,
        recorded_by_id=uow.actor.user_id,
        supersedes_id=supersedes,
        reason=reason,
        **_facts_row(facts),
    )
    uow.session.add(record)
    return record


def add_donor_facts(
    uow: UnitOfWork, donor: Donor, facts: DonorFacts, supersedes: int | None, reason: str
) -> DonorClinicalRecord:
    record = DonorClinicalRecord(
        donor_id=donor.id,
        recorded_by_id=uow.actor.user_id,
        supersedes_id=supersedes,
        reason=reason,
        **_facts_row(facts),
    )
    uow.session.add(record)
    return record


def _codes_free(session: Session, centre_id: int, patients: list[str], donors: list[str]) -> None:
    taken = session.scalars(
        select(Patient.code).where(Patient.centre_id == centre_id, Patient.code.in_(patients))
    ).first()
    if taken is not None:
        raise RecordConflict(f"patient code {taken} is already registered at this centre")
    taken = session.scalars(
        select(Donor.code).where(Donor.centre_id == centre_id, Donor.code.in_(donors))
    ).first()
    if taken is not None:
        raise RecordConflict(f"donor code {taken} is already registered at this centre")


def _refuse_donated(session: Session, centre_id: int, entry: DonorEntry, field: str) -> None:
    """A donor already registered who may not enter a pool (one who has donated) is not
    registered again under a new record either."""
    refuse_ineligible(session, same_person(session, centre_id, entry.code, entry.reference), field)


def _add_donor(
    uow: UnitOfWork,
    centre_id: int,
    entry: DonorEntry,
    patient: Patient | None,
) -> Donor:
    donor = Donor(
        centre_id=centre_id,
        code=entry.code,
        reference=entry.reference,
        patient_id=None if patient is None else patient.id,
    )
    uow.session.add(donor)
    uow.flush()
    if entry.facts is not None:
        add_donor_facts(uow, donor, entry.facts, None, "registration")
    return donor


def register_pair(
    uow: UnitOfWork,
    centre_id: int,
    patient_code: str,
    donors: Sequence[DonorEntry],
    *,
    patient_reference: str | None = None,
    patient_facts: PatientFacts | None = None,
) -> Pair:
    """Register a patient with their willing donors as an active pair of ``centre_id``."""
    get_centre(uow.session, centre_id)
    _check_code(patient_code, "patient.code")
    if not donors:
        raise RecordInvalid("a pair needs at least one donor", field="donors")
    codes = [_check_code(d.code, f"donors[{i}].code") for i, d in enumerate(donors)]
    if len(set(codes)) != len(codes):
        raise RecordInvalid("the donors' codes repeat", field="donors")
    for i, entry in enumerate(donors):
        _refuse_donated(uow.session, centre_id, entry, f"donors[{i}]")
    _codes_free(uow.session, centre_id, [patient_code], codes)
    patient = Patient(centre_id=centre_id, code=patient_code, reference=patient_reference)
    uow.session.add(patient)
    uow.flush()
    if patient_facts is not None:
        add_patient_facts(uow, patient, patient_facts, None, "registration")
    for entry in donors:
        _add_donor(uow, centre_id, entry, patient)
    pair = Pair(centre_id=centre_id, patient_id=patient.id, status=MemberStatus.ACTIVE)
    uow.session.add(pair)
    uow.flush()
    add_status_change(uow, pair, "registration")
    uow.audit("pair.register", "pair", pair.id, after=row_state(pair))
    return pair


def register_altruist(
    uow: UnitOfWork,
    centre_id: int,
    donor: DonorEntry,
) -> Altruist:
    """Register a non-directed donor as an active altruist of ``centre_id``."""
    get_centre(uow.session, centre_id)
    _check_code(donor.code, "donor.code")
    _refuse_donated(uow.session, centre_id, donor, "donor")
    _codes_free(uow.session, centre_id, [], [donor.code])
    row = _add_donor(uow, centre_id, donor, None)
    altruist = Altruist(centre_id=centre_id, donor_id=row.id, status=MemberStatus.ACTIVE)
    uow.session.add(altruist)
    uow.flush()
    add_status_change(uow, altruist, "registration")
    uow.audit("altruist.register", "altruist", altruist.id, after=row_state(altruist))
    return altruist


def get_pair(session: Session, pair_id: int) -> Pair:
    pair = session.get(Pair, pair_id)
    if pair is None:
        raise RecordNotFound(f"pair {pair_id} does not exist")
    return pair


def get_patient(session: Session, patient_id: int) -> Patient:
    patient = session.get(Patient, patient_id)
    if patient is None:
        raise RecordNotFound(f"patient {patient_id} does not exist")
    return patient


def get_altruist(session: Session, altruist_id: int) -> Altruist:
    altruist = session.get(Altruist, altruist_id)
    if altruist is None:
        raise RecordNotFound(f"altruist {altruist_id} does not exist")
    return altruist


def pair_donors(session: Session, pair: Pair) -> list[Donor]:
    return list(
        session.scalars(select(Donor).where(Donor.patient_id == pair.patient_id).order_by(Donor.id))
    )


def current_patient_facts(session: Session, patient_id: int) -> PatientClinicalRecord | None:
    """The patient's facts in force: the row that no other row supersedes."""
    later = aliased(PatientClinicalRecord)
    return session.scalar(
        select(PatientClinicalRecord).where(
            PatientClinicalRecord.patient_id == patient_id,
            ~exists().where(later.supersedes_id == PatientClinicalRecord.id),
        )
    )


def current_donor_facts(session: Session, donor_id: int) -> DonorClinicalRecord | None:
    later = aliased(DonorClinicalRecord)
    return session.scalar(
        select(DonorClinicalRecord).where(
            DonorClinicalRecord.donor_id == donor_id,
            ~exists().where(later.supersedes_id == DonorClinicalRecord.id),
        )
    )


def _in_force(rows: Sequence[Fact], at: datetime) -> Fact | None:
    # A correction supersedes the facts in force, so each history is one chain in id order.
    recorded = [row for row in rows if row.recorded_at <= at]
    return recorded[-1] if recorded else None


def patient_facts_as_of(
    session: Session, patient_id: int, at: datetime
) -> PatientClinicalRecord | None:
    """The patient's facts in force at ``at``: the last row recorded by then."""
    return _in_force(patient_facts_history(session, patient_id), at)


def donor_facts_as_of(session: Session, donor_id: int, at: datetime) -> DonorClinicalRecord | None:
    return _in_force(donor_facts_history(session, donor_id), at)


def patient_facts_history(session: Session, patient_id: int) -> list[PatientClinicalRecord]:
    """Every row of the patient's facts, oldest first."""
    return list(
        session.scalars(
            select(PatientClinicalRecord)
            .where(PatientClinicalRecord.patient_id == patient_id)
            .order_by(PatientClinicalRecord.id)
        )
    )


def donor_facts_history(session: Session, donor_id: int) -> list[DonorClinicalRecord]:
    return list(
        session.scalars(
            select(DonorClinicalRecord)
            .where(DonorClinicalRecord.donor_id == donor_id)
            .order_by(DonorClinicalRecord.id)
        )
    )


def _touch(member: Pair | Altruist) -> None:
    member.updated_at = utc_now()  # the UPDATE moves the version on and checks the old one


def record_patient_facts(
    uow: UnitOfWork, pair: Pair, facts: PatientFacts, *, reason: str, expected_version: int
) -> PatientClinicalRecord:
    """Record the pair's patient's facts; they supersede the facts in force."""
    check_version("pair", pair, expected_version)
    current = current_patient_facts(uow.session, pair.patient_id)
    record = add_patient_facts(
        uow, pair.patient, facts, None if current is None else current.id, reason
    )
    _touch(pair)
    uow.flush()
    uow.audit(
        "patient.facts",
        "pair",
        pair.id,
        before=None if current is None else row_state(current),
        after=row_state(record),
    )
    return record


def record_donor_facts(
    uow: UnitOfWork,
    member: Pair | Altruist,
    donor_id: int,
    facts: DonorFacts,
    *,
    reason: str,
    expected_version: int,
) -> DonorClinicalRecord:
    """Record the facts of a donor of ``member``; they supersede the facts in force."""
    kind = "pair" if isinstance(member, Pair) else "altruist"
    check_version(kind, member, expected_version)
    donor = uow.session.get(Donor, donor_id)
    belongs = donor is not None and (
        donor.patient_id == member.patient_id
        if isinstance(member, Pair)
        else donor.id == member.donor_id
    )
    if donor is None or not belongs:
        raise RecordNotFound(f"donor {donor_id} is not a donor of {kind} {member.id}")
    current = current_donor_facts(uow.session, donor.id)
    record = add_donor_facts(uow, donor, facts, None if current is None else current.id, reason)
    _touch(member)
    uow.flush()
    uow.audit(
        "donor.facts",
        kind,
        member.id,
        before=None if current is None else row_state(current),
        after=row_state(record),
    )
    return record


def add_status_change(uow: UnitOfWork, member: Pair | Altruist, reason: str) -> None:
    """Append the member's current status to its status history."""
    change = StatusChange(status=member.status, reason=reason, recorded_by_id=uow.actor.user_id)
    if isinstance(member, Pair):
        change.pair_id = member.id
    else:
        change.altruist_id = member.id
    uow.session.add(change)


def set_status(uow: UnitOfWork, member: Pair | Altruist, status: MemberStatus, reason: str) -> None:
    """Move the member to ``status`` with its history row and audit event (no rule
    checks: the callers check which changes are allowed)."""
    kind = "pair" if isinstance(member, Pair) else "altruist"
    before = row_state(member)
    member.status = status
    _touch(member)
    add_status_change(uow, member, reason)
    uow.flush()
    uow.audit(f"{kind}.status", kind, member.id, before=before, after=row_state(member))


def change_status(
    uow: UnitOfWork,
    member: Member,
    status: MemberStatus,
    *,
    reason: str,
    expected_version: int,
) -> Member:
    """Suspend, reactivate or withdraw a pair or altruist (see ``STATUS_CHANGES``)."""
    kind = "pair" if isinstance(member, Pair) else "altruist"
    check_version(kind, member, expected_version)
    if status not in STATUS_CHANGES[member.status]:
        allowed = ", ".join(sorted(s.value for s in STATUS_CHANGES[member.status])) or "none"
        raise RecordConflict(
            f"{kind} {member.id} is {member.status.value}; it can become: {allowed}"
        )
    if status is MemberStatus.ACTIVE:
        donors = (
            [d.id for d in pair_donors(uow.session, member)]
            if isinstance(member, Pair)
            else [member.donor_id]
        )
        refused = ineligible_donors(uow.session, donors)
        if len(refused) == len(donors):  # a pair may re-enter with a donor still able to
            _, verdict = min(refused.items())
            raise RecordConflict(f"{kind} {member.id} cannot re-enter the pool: {verdict.reason}")
    set_status(uow, member, status, reason)
    return member


def status_history(session: Session, member: Pair | Altruist) -> list[StatusChange]:
    column = StatusChange.pair_id if isinstance(member, Pair) else StatusChange.altruist_id
    return list(
        session.scalars(select(StatusChange).where(column == member.id).order_by(StatusChange.id))
    )


def list_pairs(
    session: Session,
    *,
    centre_id: int | None = None,
    status: MemberStatus | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[Pair], int]:
    """A page of pairs in id order, and how many match the filters in all."""
    query = select(Pair)
    if centre_id is not None:
        query = query.where(Pair.centre_id == centre_id)
    if status is not None:
        query = query.where(Pair.status == status)
    return page(session, query, [Pair.id], limit, offset)


def list_altruists(
    session: Session,
    *,
    centre_id: int | None = None,
    status: MemberStatus | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[Altruist], int]:
    query = select(Altruist)
    if centre_id is not None:
        query = query.where(Altruist.centre_id == centre_id)
    if status is not None:
        query = query.where(Altruist.status == status)
    return page(session, query, [Altruist.id], limit, offset)
