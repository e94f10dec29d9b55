"""A pool: patients, their donors, altruists and the arcs between them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from kidneyshare.errors import InstanceError
from kidneyshare.model.arc import Arc
from kidneyshare.model.people import Altruist, Donor, DonorId, Pair, Patient, PatientId

__all__ = ["Instance"]


@dataclass(frozen=True, slots=True)
class Instance:
    """An immutable, validated pool ready for matching.

    Every donor is either paired with a patient of the pool or non-directed; every
    patient has at least one donor; every arc joins a known donor to a known patient and
    appears once. Order of the records is kept as given (it never affects a solution:
    the matching layer orders vertices by id).

    Raises
    ------
    InstanceError
        on a duplicate id, a donor of an unknown patient, a patient without donor, an
        arc naming an unknown donor or patient, a repeated arc, or an empty pool.
    """

    patients: tuple[Patient, ...]
    donors: tuple[Donor, ...]
    arcs: tuple[Arc, ...]
    name: str = ""
    _patient_index: dict[PatientId, Patient] = field(init=False, repr=False, compare=False)
    _donor_index: dict[DonorId, Donor] = field(init=False, repr=False, compare=False)
    _donors_of: dict[PatientId, tuple[Donor, ...]] = field(init=False, repr=False, compare=False)

    def __init__(
        self,
        patients: Iterable[Patient],
        donors: Iterable[Donor],
        arcs: Iterable[Arc],
        name: str = "",
    ) -> None:
        object.__setattr__(self, "patients", tuple(patients))
        object.__setattr__(self, "donors", tuple(donors))
        object.__setattr__(self, "arcs", tuple(arcs))
        object.__setattr__(self, "name", name)
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
        object.__setattr__(self, "_patient_index", patients)
        object.__setattr__(self, "_donor_index", donors)
        object.__setattr__(self, "_donors_of", {k: tuple(v) for k, v in donors_of.items()})

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
