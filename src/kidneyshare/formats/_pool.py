"""Collect a pool record by record, remembering where each record came from.

Private to :mod:`kidneyshare.formats`. A reader adds patients, donors and arcs with the
place it found them (a line number or a field path); :meth:`PoolBuilder.build` checks
the references and builds the :class:`~kidneyshare.model.Instance`, so that every
inconsistency is reported as a :class:`~kidneyshare.errors.FormatError` at its place.
"""

from __future__ import annotations

from kidneyshare.errors import FormatError, ModelError
from kidneyshare.formats._values import quote
from kidneyshare.model import Arc, BloodGroup, Donor, DonorId, Instance, Patient, PatientId

__all__ = ["PoolBuilder", "Where", "location"]

Where = str | int
"""A field path such as ``arcs[3].weight``, or a 1-based line number."""


def location(where: Where | None) -> str | None:
    """The ``FormatError.location`` text for ``where``."""
    if where is None:
        return None
    if isinstance(where, int):
        return f"line {where}"
    return where or "top level"


class PoolBuilder:
    """Accumulate the records of one file and build the validated pool."""

    __slots__ = ("_arcs", "_donors", "_patients", "source")

    def __init__(self, source: str) -> None:
        self.source = source
        self._patients: dict[str, tuple[Patient, Where]] = {}
        self._donors: dict[str, tuple[Donor, Where]] = {}
        self._arcs: dict[tuple[str, str], tuple[Arc, Where]] = {}

    def error(self, message: str, where: Where | None) -> FormatError:
        return FormatError(message, source=self.source, location=location(where))

    def blood_group(self, value: object, where: Where, field: str) -> BloodGroup | None:
        """``value`` read as a blood group (any case); ``None`` stays ``None``."""
        if value is None:
            return None
        try:
            return BloodGroup.parse(value, field=field)
        except ModelError as exc:
            raise self.error(str(exc), where) from exc

    def has_patient(self, patient_id: str) -> bool:
        return patient_id in self._patients

    def add_patient(
        self,
        where: Where,
        patient_id: str,
        *,
        blood_group: BloodGroup | None = None,
        cpra: float | None = None,
        age: float | None = None,
    ) -> None:
        if patient_id in self._patients:
            first = location(self._patients[patient_id][1])
            raise self.error(f"duplicate patient id {quote(patient_id)} (first at {first})", where)
        try:
            patient = Patient(PatientId(patient_id), blood_group, cpra, age)
        except ModelError as exc:
            raise self.error(str(exc), where) from exc
        self._patients[patient_id] = (patient, where)

    def add_donor(
        self,
        where: Where,
        donor_id: str,
        patient_id: str | None,
        *,
        blood_group: BloodGroup | None = None,
        age: float | None = None,
    ) -> None:
        if donor_id in self._donors:
            first = location(self._donors[donor_id][1])
            raise self.error(f"duplicate donor id {quote(donor_id)} (first at {first})", where)
        patient = None if patient_id is None else PatientId(patient_id)
        try:
            donor = Donor(DonorId(donor_id), patient, blood_group, age)
        except ModelError as exc:
            raise self.error(str(exc), where) from exc
        self._donors[donor_id] = (donor, where)

    def add_arc(
        self,
        where: Where,
        donor_id: str,
        patient_id: str,
        weight: float = 1.0,
        probability: float | None = None,
    ) -> None:
        pair = (donor_id, patient_id)
        if pair in self._arcs:
            first = location(self._arcs[pair][1])
            raise self.error(
                f"the arc from donor {quote(donor_id)} to patient {quote(patient_id)} "
                f"appears twice (first at {first})",
                where,
            )
        try:
            arc = Arc(DonorId(donor_id), PatientId(patient_id), weight, probability)
        except ModelError as exc:
            raise self.error(str(exc), where) from exc
        self._arcs[pair] = (arc, where)

    def build(self, name: str = "") -> Instance:
        """Check every reference, then build the pool.

        Raises
        ------
        FormatError
            at the record's place for a donor of an unknown patient, a patient without
            a donor, or an arc naming an unknown donor or patient; without a place for
            an empty pool.
        """
        if not self._donors:
            what = "patients but no donors" if self._patients else "no patients and no donors"
            raise self.error(f"empty pool: expected at least one donor, found {what}", None)
        with_donor: set[str] = set()
        for donor, where in self._donors.values():
            if donor.patient is None:
                continue
            if donor.patient not in self._patients:
                raise self.error(
                    f"donor {quote(donor.id)} is paired with patient {quote(donor.patient)}, "
                    "who is not in the pool",
                    where,
                )
            with_donor.add(donor.patient)
        for patient, where in self._patients.values():
            if patient.id not in with_donor:
                raise self.error(
                    f"patient {quote(patient.id)} has no donor; every patient needs a paired donor",
                    where,
                )
        for arc, where in self._arcs.values():
            if arc.donor not in self._donors:
                raise self.error(f"arc from unknown donor {quote(arc.donor)}", where)
            if arc.patient not in self._patients:
                raise self.error(f"arc to unknown patient {quote(arc.patient)}", where)
        try:
            return Instance(
                (p for p, _ in self._patients.values()),
                (d for d, _ in self._donors.values()),
                (a for a, _ in self._arcs.values()),
                name,
            )
        except ModelError as exc:
            raise self.error(str(exc), None) from exc
