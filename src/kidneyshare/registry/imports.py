"""Reading a pool file into the registry: every record, or none.

The file is parsed by :mod:`kidneyshare.formats` (any format it reads) before anything
is written, so a malformed record stops the import with the reader's message naming
the file and line or field. The writes then happen in the caller's unit of work: a code
already registered at the centre, or a crash part-way, leaves nothing behind.
"""

from __future__ import annotations

import hashlib
from datetime import date

from sqlalchemy import select

from kidneyshare.formats import parse_instance
from kidneyshare.model import Donor, Instance
from kidneyshare.registry.accounts import get_centre
from kidneyshare.registry.clinical import DonorFacts, PatientFacts
from kidneyshare.registry.errors import RecordConflict
from kidneyshare.registry.models import Donor as DonorRow
from kidneyshare.registry.models import ImportedArc, Patient, PoolImport
from kidneyshare.registry.pool import DonorEntry, register_altruist, register_pair
from kidneyshare.registry.unit_of_work import UnitOfWork, row_state

__all__ = ["import_pool", "import_pool_text"]


def _whole_age(age: float | None) -> int | None:
    return None if age is None else round(age)


def _donor_entry(donor: Donor, recorded_on: date) -> DonorEntry:
    group = donor.blood_group
    facts = DonorFacts(
        recorded_on=recorded_on,
        blood_group=None if group is None else group.value,
        age=_whole_age(donor.age),
    )
    return DonorEntry(donor.id, facts=facts)


def _refuse_taken_codes(uow: UnitOfWork, centre_id: int, instance: Instance) -> None:
    patient_codes = [p.id for p in instance.patients]
    donor_codes = [d.id for d in instance.donors]
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
    for pair in instance.pairs:
        patient = pair.patient
        register_pair(
            uow,
            centre_id,
            patient.id,
            [_donor_entry(d, recorded_on) for d in pair.donors],
            patient_facts=PatientFacts(
                recorded_on=recorded_on,
                blood_group=None if patient.blood_group is None else patient.blood_group.value,
                cpra=patient.cpra,
                age=_whole_age(patient.age),
            ),
            import_id=pool_import.id,
            check_codes=False,
        )
    for altruist in instance.altruists:
        register_altruist(
            uow,
            centre_id,
            _donor_entry(altruist.donor, recorded_on),
            import_id=pool_import.id,
            check_codes=False,
        )
    uow.flush()
    patients: dict[str, int] = {
        code: row_id
        for code, row_id in uow.session.execute(
            select(Patient.code, Patient.id).where(Patient.import_id == pool_import.id)
        )
    }
    donors: dict[str, int] = {
        code: row_id
        for code, row_id in uow.session.execute(
            select(DonorRow.code, DonorRow.id).where(DonorRow.import_id == pool_import.id)
        )
    }
    uow.session.add_all(
        ImportedArc(
            import_id=pool_import.id,
            donor_id=donors[arc.donor],
            patient_id=patients[arc.patient],
            weight=arc.weight,
            probability=arc.probability,
        )
        for arc in instance.arcs
    )
    uow.flush()
    uow.audit("pool.import", "pool-import", pool_import.id, after=row_state(pool_import))
    return pool_import


def import_pool_text(
    uow: UnitOfWork,
    centre_id: int,
    text: str,
    *,
    source_name: str,
    recorded_on: date,
    dat_text: str | None = None,
) -> PoolImport:
    """Parse ``text`` (any format :func:`~kidneyshare.formats.parse_instance` reads) and
    import it with :func:`import_pool`.

    Raises
    ------
    FormatError
        naming the file and the line or field, before anything is written.
    """
    instance = parse_instance(text, source_name, dat_text)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return import_pool(
        uow, centre_id, instance, source_name=source_name, sha256=digest, recorded_on=recorded_on
    )
