"""A pool: patients, their donors, altruists and the arcs between them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from kidneyshare.errors import InstanceError
from kidneyshare.model.arc import Arc
from kidneyshare.model.arc_table import ArcTable
from kidneyshare.model.people import Altruist, Donor, DonorId, Pair, Patient, PatientId

__all__ = ["Instance"]


@dataclass(frozen=True, slots=True)
class Instance:
    """An immutable, validated pool ready for matching.

    Every donor is either paired with a patient of the pool or non-directed; every
    patient has at least one donor; every arc joins a known donor to a known patient and
    appears once. Order of the records is kept as given (it never affects a solution:
    the matching layer orders vertices by id). ``arcs`` is a tuple of :class:`Arc`, or an
    :class:`ArcTable` (columns, for pools of millions of arcs), kept as given.

    Raises
    ------
    InstanceError
        on a duplicate id, a donor of an unknown patient, a patient without donor, an
        arc naming an unknown donor or patient, a repeated arc, or an empty pool.
    """

    patients: tuple[Patient, ...]
    donors: tuple[Donor, ...]
    arcs: Sequence[Arc]
    name: str = ""
    _patient_index: dict[PatientId, Patient] = field(init=False, repr=False, compare=False)
    _donor_index: dict[DonorId, Donor] = field(init=False, repr=False, compare=False)
    _donors_of: dict[PatientId, tuple[Donor, ...]] = field(init=False, repr=False, compare=False)
    _arc_index: dict[tuple[str, str], Arc] | None = field(init=False, repr=False, compare=False)

    def __init__(
        self,
        patients: Iterable[Patient],
        donors: Iterable[Donor],
        arcs: Iterable[Arc] | ArcTable,
        name: str = "",
    ) -> None:
        object.__setattr__(self, "patients", tuple(patients))
        object.__setattr__(self, "donors", tuple(donors))
        object.__setattr__(self, "arcs", arcs if isinstance(arcs, ArcTable) else tuple(arcs))
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "_arc_index", None)
        self._validate()

    def _validate(self) -> None:
        patients: dict[PatientId, Patient] = {}
        for p in self.patients:
            if not isinstance(p, Patient):
                raise InstanceError(f"patients: expected Patient objects, got {type(p).__name__}")
            if p.id in patients:
                raise InstanceError(f"patient {p.id}: duplicate patient id")
            patients[p.id] = p
        donors: dict[DonorId, Donor] = {}
        donors_of: dict[PatientId, list[Donor]] = {pid: [] for pid in patients}
        for d in self.donors:
            if not isinstance(d, Donor):
                raise InstanceError(f"donors: expected Donor objects, got {type(d).__name__}")
            if d.id in donors:
                raise InstanceError(f"donor {d.id}: duplicate donor id")
            donors[d.id] = d
            if d.patient is not None:
                if d.patient not in patients:
                    raise InstanceError(f"donor {d.id}: paired with unknown patient {d.patient}")
                donors_of[d.patient].append(d)
        for pid, ds in donors_of.items():
            if not ds:
                raise InstanceError(f"patient {pid}: has no donor; every patient needs one")
        if not patients and not donors:
            raise InstanceError("empty pool: no patients and no donors")
        if isinstance(self.arcs, ArcTable):
            self._validate_table(self.arcs, donors, patients)
        else:
            self._validate_arcs(donors, patients)
        object.__setattr__(self, "_patient_index", patients)
        object.__setattr__(self, "_donor_index", donors)
        object.__setattr__(self, "_donors_of", {k: tuple(v) for k, v in donors_of.items()})

    @staticmethod
    def _validate_table(
        table: ArcTable, donors: Mapping[DonorId, Donor], patients: Mapping[PatientId, Patient]
    ) -> None:
        for kind, ids, known in (
            ("donor", table.donors, donors),
            ("patient", table.patients, patients),
        ):
            if len(set(ids)) != len(ids):
                raise InstanceError(f"arc table: a {kind} id is listed twice")
            unknown = [i for i in ids if i not in known]
            if unknown:
                raise InstanceError(f"arc table: unknown {kind} {unknown[0]}")
        repeat = table.duplicate()
        if repeat is not None:
            a = table[repeat]
            raise InstanceError(f"arc {a.donor}->{a.patient}: appears more than once")

    def _validate_arcs(
        self, donors: Mapping[DonorId, Donor], patients: Mapping[PatientId, Patient]
    ) -> None:
        seen: set[tuple[str, str]] = set()
        for a in self.arcs:
            if not isinstance(a, Arc):
                raise InstanceError(f"arcs: expected Arc objects, got {type(a).__name__}")
            if a.donor not in donors:
                raise InstanceError(f"arc {a.donor}->{a.patient}: unknown donor {a.donor}")
            if a.patient not in patients:
                raise InstanceError(f"arc {a.donor}->{a.patient}: unknown patient {a.patient}")
            key = (a.donor, a.patient)
            if key in seen:
                raise InstanceError(f"arc {a.donor}->{a.patient}: appears more than once")
            seen.add(key)

    # -- lookups ---------------------------------------------------------------------
    def patient(self, patient_id: str) -> Patient:
        try:
            return self._patient_index[PatientId(patient_id)]
        except KeyError:
            raise InstanceError(f"unknown patient {patient_id}") from None

    def donor(self, donor_id: str) -> Donor:
        try:
            return self._donor_index[DonorId(donor_id)]
        except KeyError:
            raise InstanceError(f"unknown donor {donor_id}") from None

    def arc(self, donor_id: str, patient_id: str) -> Arc | None:
        """The arc from donor ``donor_id`` to patient ``patient_id``, or ``None``."""
        if isinstance(self.arcs, ArcTable):
            at = self.arcs.position(donor_id, patient_id)
            return None if at is None else self.arcs[at]
        if self._arc_index is None:
            object.__setattr__(self, "_arc_index", {(a.donor, a.patient): a for a in self.arcs})
        assert self._arc_index is not None
        return self._arc_index.get((donor_id, patient_id))

    def arc_table(self) -> ArcTable:
        """The arcs as columns: ``arcs`` itself when it is an :class:`ArcTable`, else a
        table over the pool's donors and patients in record order (arcs in their order)."""
        if isinstance(self.arcs, ArcTable):
            return self.arcs
        donors = {d.id: i for i, d in enumerate(self.donors)}
        patients = {p.id: i for i, p in enumerate(self.patients)}
        n = len(self.arcs)
        return ArcTable(
            list(donors),
            list(patients),
            np.fromiter((donors[a.donor] for a in self.arcs), np.int64, n),
            np.fromiter((patients[a.patient] for a in self.arcs), np.int64, n),
            np.fromiter((a.weight for a in self.arcs), np.float64, n),
            np.fromiter(
                (np.nan if a.probability is None else a.probability for a in self.arcs),
                np.float64,
                n,
            ),
        )

    def donors_of(self, patient_id: str) -> tuple[Donor, ...]:
        return self._donors_of.get(PatientId(patient_id), ())

    @property
    def patient_index(self) -> Mapping[PatientId, Patient]:
        return self._patient_index

    @property
    def donor_index(self) -> Mapping[DonorId, Donor]:
        return self._donor_index

    @property
    def pairs(self) -> tuple[Pair, ...]:
        """Each patient with their donors, in record order."""
        return tuple(Pair(p, self._donors_of[p.id]) for p in self.patients)

    @property
    def altruists(self) -> tuple[Altruist, ...]:
        """Non-directed donors, in record order."""
        return tuple(Altruist(d) for d in self.donors if d.patient is None)

    def __len__(self) -> int:
        """Number of vertices: pairs plus altruists."""
        return len(self.patients) + sum(1 for d in self.donors if d.patient is None)
