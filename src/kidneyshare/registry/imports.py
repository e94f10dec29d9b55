"""Reading a pool file, or a file of clinical records, into the registry: every record,
or none.

The file is parsed by :mod:`kidneyshare.formats` (any format it reads) before anything
is written, so a malformed record stops the import with the reader's message naming
the file and line or field. The writes then happen in the caller's unit of work: a code
already registered at the centre, or a crash part-way, leaves nothing behind.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from datetime import date

from sqlalchemy import insert, select

from kidneyshare.compatibility.abo import AboType
from kidneyshare.compatibility.hla import HlaName
from kidneyshare.compatibility.records import ClinicalPool, DonorRecord
from kidneyshare.formats import parse_instance
from kidneyshare.model import Donor, Instance
from kidneyshare.registry.accounts import get_centre
from kidneyshare.registry.clinical import DonorFacts, PatientFacts
from kidneyshare.registry.eligibility import refuse_ineligible
from kidneyshare.registry.errors import RecordConflict, RecordInvalid
from kidneyshare.registry.models import Altruist, Base, ImportedArc, Pair, Patient, PoolImport
from kidneyshare.registry.models import Donor as DonorRow
from kidneyshare.registry.pool import (
    DonorEntry,
    add_donor_facts,
    add_patient_facts,
    add_status_change,
    register_altruist,
    register_pair,
)
from kidneyshare.registry.unit_of_work import UnitOfWork, row_state
from kidneyshare.registry.vocabulary import MemberStatus

__all__ = ["import_pool", "import_pool_text", "read_pool_text", "register_records"]


def _whole_age(age: float | None) -> int | None:
    return None if age is None else round(age)


def _donor_facts(donor: Donor, recorded_on: date) -> DonorFacts:
    group = donor.blood_group
    return DonorFacts(
        recorded_on=recorded_on,
        blood_group=None if group is None else group.value,
        age=_whole_age(donor.age),
    )


def _refuse_taken_codes(uow: UnitOfWork, centre_id: int, instance: Instance) -> None:
    patient_codes = [p.id for p in instance.patients]
    donor_codes = [d.id for d in instance.donors]
    for start in range(0, len(donor_codes), 500):
        # A donor who has donated is refused by name before the generic "taken" message.
        known = uow.session.scalars(
            select(DonorRow.id).where(
                DonorRow.centre_id == centre_id,
                DonorRow.code.in_(donor_codes[start : start + 500]),
            )
        )
        refuse_ineligible(uow.session, known, "pool file")
    for model, codes, kind in (
        (Patient, patient_codes, "patient"),
        (DonorRow, donor_codes, "donor"),
    ):
        for start in range(0, len(codes), 500):  # bounded IN lists
            taken = uow.session.scalars(
                select(model.code).where(
                    model.centre_id == centre_id, model.code.in_(codes[start : start + 500])
                )
            ).first()
            if taken is not None:
                raise RecordConflict(
                    f"{kind} {taken} of the file is already registered at this centre; "
                    "nothing was imported"
                )


def import_pool(
    uow: UnitOfWork,
    centre_id: int,
    instance: Instance,
    *,
    source_name: str,
    sha256: str,
    recorded_on: date,
) -> PoolImport:
    """Register every pair and altruist of ``instance`` at ``centre_id`` with its arcs.

    Record ids of the file become the patients' and donors' codes at the centre.

    Raises
    ------
    RecordConflict
        when a code of the file is already registered at the centre.
    """
    get_centre(uow.session, centre_id)
    _refuse_taken_codes(uow, centre_id, instance)
    pool_import = PoolImport(
        centre_id=centre_id,
        source_name=source_name[:255],
        sha256=sha256,
        pairs=len(instance.patients),
        altruists=len(instance.altruists),
        arcs=len(instance.arcs),
        created_by_id=uow.actor.user_id,
    )
    uow.session.add(pool_import)
    uow.flush()
    # Rows are added in bulk, a few flushes for the whole file (one per table level),
    # rather than through register_pair's per-record flushes.
    patients = {
        p.id: Patient(centre_id=centre_id, code=p.id, import_id=pool_import.id)
        for p in instance.patients
    }
    uow.session.add_all(patients.values())
    uow.flush()
    donors = {
        d.id: DonorRow(
            centre_id=centre_id,
            code=d.id,
            patient_id=None if d.patient is None else patients[d.patient].id,
            import_id=pool_import.id,
        )
        for d in instance.donors
    }
    uow.session.add_all(donors.values())
    uow.flush()
    for p in instance.patients:
        facts = PatientFacts(
            recorded_on=recorded_on,
            blood_group=None if p.blood_group is None else p.blood_group.value,
            cpra=p.cpra,
            age=_whole_age(p.age),
        )
        add_patient_facts(uow, patients[p.id], facts, None, "registration")
    for d in instance.donors:
        add_donor_facts(uow, donors[d.id], _donor_facts(d, recorded_on), None, "registration")
    members: list[Pair | Altruist] = [
        Pair(centre_id=centre_id, patient_id=patients[p.id].id, status=MemberStatus.ACTIVE)
        for p in instance.patients
    ]
    members += [
        Altruist(centre_id=centre_id, donor_id=donors[a.id].id, status=MemberStatus.ACTIVE)
        for a in instance.altruists
    ]
    uow.session.add_all(members)
    uow.flush()
    for member in members:
        add_status_change(uow, member, "registration")
    if instance.arcs:  # a Core executemany: tens of thousands of arcs are common
        uow.session.connection().execute(
            insert(Base.metadata.tables[ImportedArc.__tablename__]),
            [
                {
                    "import_id": pool_import.id,
                    "donor_id": donors[arc.donor].id,
                    "patient_id": patients[arc.patient].id,
                    "weight": arc.weight,
                    "probability": arc.probability,
                }
                for arc in instance.arcs
            ],
        )
    uow.flush()
    uow.audit("pool.import", "pool-import", pool_import.id, after=row_state(pool_import))
    return pool_import


def read_pool_text(
    text: str, *, source_name: str, dat_text: str | None = None
) -> tuple[Instance, str]:
    """Parse an uploaded pool (any format :func:`~kidneyshare.formats.parse_instance`
    reads) and its SHA-256, before any transaction is opened (parsing a large file takes
    seconds; holding the database's write lock meanwhile would stall other writers).

    Raises
    ------
    FormatError
        naming the file and the line or field.
    """
    instance = parse_instance(text, source_name, dat_text)
    return instance, hashlib.sha256(text.encode("utf-8")).hexdigest()


def import_pool_text(
    uow: UnitOfWork,
    centre_id: int,
    text: str,
    *,
    source_name: str,
    recorded_on: date,
    dat_text: str | None = None,
) -> PoolImport:
    """:func:`read_pool_text` then :func:`import_pool` (for callers that already hold a
    unit of work)."""
    instance, digest = read_pool_text(text, source_name=source_name, dat_text=dat_text)
    return import_pool(
        uow, centre_id, instance, source_name=source_name, sha256=digest, recorded_on=recorded_on
    )


def _names(names: Iterable[HlaName] | None) -> tuple[str, ...]:
    return () if names is None else tuple(n.name for n in names)


def _subgroup(abo: AboType) -> str | None:
    return {AboType.A1: "A1", AboType.A1B: "A1", AboType.A2: "A2", AboType.A2B: "A2"}.get(abo)


def register_records(
    uow: UnitOfWork, records: ClinicalPool, centres: Mapping[str, int], *, recorded_on: date
) -> tuple[int, int]:
    """Register every patient of ``records`` with their donors as a pair, and every donor
    without a patient as an altruist, at the centre their record names.

    Record ids become the codes at the centre; facts are recorded on the record's
    ``recorded`` date, else ``recorded_on``. The registry keeps no anti-B titre,
    registration date or do-not-match list, so those fields of a record are not kept.

    Returns
    -------
    tuple[int, int]
        the pairs and the altruists registered.

    Raises
    ------
    RecordInvalid
        naming the record whose centre is missing or not in ``centres``.
    """

    def centre_of(kind: str, record_id: str, code: str | None) -> int:
        if code is None or code not in centres:
            known = ", ".join(sorted(centres)) or "none"
            raise RecordInvalid(
                f"centre {code!r} is not a registered centre ({known})",
                field=f"{kind}s.{record_id}.centre",
            )
        return centres[code]

    def donor_entry(donor: DonorRecord) -> DonorEntry:
        facts = DonorFacts(
            recorded_on=donor.recorded or recorded_on,
            blood_group=donor.abo.group.value,
            a_subgroup=_subgroup(donor.abo),
            hla=_names(None if donor.hla is None else donor.hla.specificities),
            age=_whole_age(donor.age),
            sex=None if donor.sex is None else donor.sex.value,
            egfr=donor.egfr,
        )
        return DonorEntry(donor.id, facts=facts)

    donors_of: dict[str, list[DonorRecord]] = {}
    for donor in records.donors:
        if donor.patient is not None:
            donors_of.setdefault(donor.patient, []).append(donor)
    for patient in records.patients:
        facts = PatientFacts(
            recorded_on=patient.recorded or recorded_on,
            blood_group=patient.abo.group.value,
            anti_a_titre=patient.anti_a_titre,
            hla=_names(None if patient.hla is None else patient.hla.specificities),
            unacceptable_antigens=_names(patient.unacceptable),
            cpra=patient.cpra,
            age=_whole_age(patient.age),
            sex=None if patient.sex is None else patient.sex.value,
        )
        register_pair(
            uow,
            centre_of("patient", patient.id, patient.centre),
            patient.id,
            [donor_entry(d) for d in donors_of.get(patient.id, [])],
            patient_facts=facts,
        )
    altruists = [d for d in records.donors if d.patient is None]
    for donor in altruists:
        register_altruist(uow, centre_of("donor", donor.id, donor.centre), donor_entry(donor))
    return len(records.patients), len(altruists)
