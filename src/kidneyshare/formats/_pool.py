"""Collect a pool record by record, remembering where each record came from.

Private to :mod:`kidneyshare.formats`. A reader adds patients, donors and arcs with the
place it found them (a line number or a field path); :meth:`PoolBuilder.build` checks
the references and builds the :class:`~kidneyshare.model.Instance`, so that every
inconsistency is reported as a :class:`~kidneyshare.errors.FormatError` at its place.
Arcs are kept as columns and become the pool's :class:`~kidneyshare.model.ArcTable`,
checked with array operations: a reader of millions of arcs adds them as columns
(:meth:`PoolBuilder.add_arc_columns`), others one at a time (:meth:`PoolBuilder.add_arc`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np

from kidneyshare.errors import FormatError, ModelError
from kidneyshare.formats._arcs import ArcColumns, IntArray
from kidneyshare.formats._values import quote
from kidneyshare.model import ArcTable, BloodGroup, Donor, DonorId, Instance, Patient, PatientId

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

    __slots__ = ("_arc_list", "_columns", "_donors", "_patients", "source")

    def __init__(self, source: str) -> None:
        self.source = source
        self._patients: dict[str, tuple[Patient, Where]] = {}
        self._donors: dict[str, tuple[Donor, Where]] = {}
        # Arcs added one at a time: donor, patient, weight, probability (NaN: none), place.
        self._arc_list: tuple[list[str], list[str], list[float], list[float], list[Where]] = (
            [],
            [],
            [],
            [],
            [],
        )
        self._columns: tuple[ArcColumns, Callable[[int], Where]] | None = None

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

    def donor_ids(self) -> list[str]:
        """The donors added so far, in order."""
        return list(self._donors)

    def patient_ids(self) -> list[str]:
        """The patients added so far, in order."""
        return list(self._patients)

    def add_arc(
        self,
        where: Where,
        donor_id: str,
        patient_id: str,
        weight: float = 1.0,
        probability: float | None = None,
    ) -> None:
        """Add one arc found at ``where``; it is checked by :meth:`build`."""
        donors, patients, weights, probabilities, places = self._arc_list
        donors.append(donor_id)
        patients.append(patient_id)
        weights.append(weight)
        probabilities.append(np.nan if probability is None else probability)
        places.append(where)

    def add_arc_columns(self, columns: ArcColumns, where: Callable[[int], Where]) -> None:
        """Add every arc at once; ``where(i)`` is the place of the arc in row ``i``.

        A reader adds its arcs either this way or one at a time, not both.
        """
        self._columns = (columns, where)

    def _arc_columns(self) -> tuple[ArcColumns, Callable[[int], Where]]:
        if self._columns is not None:
            return self._columns
        donors, patients, weights, probabilities, places = self._arc_list
        donor_codes: dict[str, int] = {}
        patient_codes: dict[str, int] = {}
        n = len(donors)
        columns = ArcColumns(
            [],
            [],
            np.fromiter((donor_codes.setdefault(d, len(donor_codes)) for d in donors), np.int64, n),
            np.fromiter(
                (patient_codes.setdefault(p, len(patient_codes)) for p in patients), np.int64, n
            ),
            np.array(weights, dtype=np.float64),
            np.array(probabilities, dtype=np.float64),
        )
        columns.donors, columns.patients = list(donor_codes), list(patient_codes)
        return columns, places.__getitem__

    def build(self, name: str = "") -> Instance:
        """Check every reference, then build the pool.

        Raises
        ------
        FormatError
            at the record's place for a donor of an unknown patient, a patient without
            a donor, an arc naming an unknown donor or patient, or an arc given twice;
            without a place for an empty pool.
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
        columns, where_is = self._arc_columns()
        donor_at = _positions(columns.donors, self._donors)[columns.donor]
        patient_at = _positions(columns.patients, self._patients)[columns.patient]
        unknown = np.flatnonzero((donor_at < 0) | (patient_at < 0))
        if len(unknown):
            row = int(unknown[0])
            if donor_at[row] < 0:
                message = f"arc from unknown donor {quote(columns.donors[columns.donor[row]])}"
            else:
                message = f"arc to unknown patient {quote(columns.patients[columns.patient[row]])}"
            raise self.error(message, where_is(row))
        try:
            table = ArcTable(
                list(self._donors),
                list(self._patients),
                donor_at,
                patient_at,
                columns.weight,
                columns.probability,
            )
            repeat = table.duplicate()
            if repeat is not None:
                arc = table[repeat]
                first = table.position(arc.donor, arc.patient)
                raise self.error(
                    f"the arc from donor {quote(arc.donor)} to patient {quote(arc.patient)} "
                    f"appears twice (first at {location(where_is(first or 0))})",
                    where_is(repeat),
                )
            return Instance(
                (p for p, _ in self._patients.values()),
                (d for d, _ in self._donors.values()),
                table,
                name,
            )
        except ModelError as exc:
            raise self.error(str(exc), None) from exc


def _positions(names: list[str], records: Iterable[str]) -> IntArray:
    """For each name, the position of its record in ``records``, or -1 when it has none."""
    position = {name: i for i, name in enumerate(records)}
    return np.array([position.get(name, -1) for name in names], dtype=np.int64)
