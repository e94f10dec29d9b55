"""Patients, donors, pairs and altruists: the people in a pool."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NewType

from kidneyshare.errors import ModelError
from kidneyshare.model.blood import BloodGroup

__all__ = ["Altruist", "Donor", "DonorId", "Pair", "Patient", "PatientId", "check_id"]

PatientId = NewType("PatientId", str)
DonorId = NewType("DonorId", str)


def check_id(value: object, field: str) -> str:
    """Return ``value`` if it is a usable identifier (non-empty text without edge spaces)."""
    if not isinstance(value, str) or not value or value != value.strip():
        raise ModelError(f"{field}: expected a non-empty identifier, got {value!r}")
    return value


def _check_fraction(value: float | None, field: str) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not (0.0 <= value <= 1.0):
        raise ModelError(f"{field}: expected a number between 0 and 1, got {value!r}")


def _check_age(value: float | None, field: str) -> None:
    if value is None:
        return
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or not (0 <= value <= 120)
    ):
        raise ModelError(f"{field}: expected an age in years between 0 and 120, got {value!r}")


def _coerce_blood_group(person: Patient | Donor, field: str) -> None:
    """Accept a blood group given as text (``"AB"``) and store the enum."""
    raw: object = person.blood_group
    if raw is not None and not isinstance(raw, BloodGroup):
        object.__setattr__(person, "blood_group", BloodGroup.parse(raw, field=field))


@dataclass(frozen=True, slots=True)
class Patient:
    """A patient waiting for a kidney, registered with one or more willing donors.

    ``cpra`` is the calculated panel-reactive antibody (calculated reaction frequency) as
    a fraction in [0, 1]; it is recorded where the source gives it.
    """

    id: PatientId
    blood_group: BloodGroup | None = None
    cpra: float | None = None
    age: float | None = None

    def __post_init__(self) -> None:
        check_id(self.id, "patient id")
        _coerce_blood_group(self, f"patient {self.id} blood group")
        _check_fraction(self.cpra, f"patient {self.id} cpra")
        _check_age(self.age, f"patient {self.id} age")


@dataclass(frozen=True, slots=True)
class Donor:
    """A living donor: paired with one patient, or non-directed (altruistic) when
    ``patient`` is ``None``."""

    id: DonorId
    patient: PatientId | None = None
    blood_group: BloodGroup | None = None
    age: float | None = None

    def __post_init__(self) -> None:
        check_id(self.id, "donor id")
        if self.patient is not None:
            check_id(self.patient, f"donor {self.id} patient")
        _coerce_blood_group(self, f"donor {self.id} blood group")
        _check_age(self.age, f"donor {self.id} age")

    @property
    def is_altruist(self) -> bool:
        return self.patient is None


@dataclass(frozen=True, slots=True)
class Pair:
    """A patient together with every donor registered for them (one vertex of the pool)."""

    patient: Patient
    donors: tuple[Donor, ...]

    def __post_init__(self) -> None:
        if not self.donors:
            raise ModelError(f"pair of patient {self.patient.id}: expected at least one donor")
        for donor in self.donors:
            if donor.patient != self.patient.id:
                raise ModelError(
                    f"pair of patient {self.patient.id}: donor {donor.id} is registered "
                    f"for patient {donor.patient!r}"
                )

    @property
    def id(self) -> PatientId:
        """A pair is identified by its patient."""
        return self.patient.id


@dataclass(frozen=True, slots=True)
class Altruist:
    """A non-directed donor: starts a chain and expects nothing back."""

    donor: Donor

    def __post_init__(self) -> None:
        if self.donor.patient is not None:
            raise ModelError(
                f"altruist {self.donor.id}: is paired with patient {self.donor.patient}; "
                "a non-directed donor has no patient"
            )

    @property
    def id(self) -> DonorId:
        return self.donor.id
