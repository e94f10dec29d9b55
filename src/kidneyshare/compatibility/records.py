"""Clinical records: what a scheme knows about each patient and donor.

Small frozen value types, validated at construction, that a registry can store and
round-trip through their JSON form (:mod:`~kidneyshare.compatibility.records_json`).
Unknown facts are ``None``; an empty ``unacceptable`` tuple means the patient's antibody
screen found no unacceptable antigen, while ``None`` means it is not known.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from enum import Enum

from kidneyshare.compatibility.abo import AboType
from kidneyshare.compatibility.hla import HlaName, parse_hla_names
from kidneyshare.compatibility.policy import check_titre
from kidneyshare.errors import InstanceError, ModelError
from kidneyshare.model import DonorId, PatientId
from kidneyshare.model.people import check_id

__all__ = [
    "ClinicalPool",
    "DonorRecord",
    "HlaTyping",
    "PatientRecord",
    "Sex",
]


class Sex(Enum):
    """Sex as recorded for transplantation (sensitisation by pregnancy, donor size)."""

    FEMALE = "F"
    MALE = "M"

    @classmethod
    def parse(cls, text: object, *, field: str) -> Sex:
        if isinstance(text, Sex):
            return text
        if isinstance(text, str):
            key = text.strip().upper()
            for member in cls:
                if key in (member.value, member.name):
                    return member
        raise ModelError(f"{field}: unknown sex {text!r}; expected F or M")


@dataclass(frozen=True, slots=True)
class HlaTyping:
    """A person's HLA typing: serological antigens and/or alleles, any loci
    (A, B, C, DRB1, DRB3/4/5, DQA1, DQB1, DPA1, DPB1), in the order given."""

    specificities: tuple[HlaName, ...]

    @classmethod
    def parse(cls, names: str | Iterable[str], *, field: str) -> HlaTyping:
        """Read ``"A1 A*02:01 B8 ..."`` or a list of names (see :func:`parse_hla_names`)."""
        return cls(parse_hla_names(names, field=field))

    def at(self, *genes: str) -> tuple[HlaName, ...]:
        """The specificities encoded by ``genes`` (``at("DRB1")``)."""
        return tuple(s for s in self.specificities if s.gene in genes)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.specificities)


def _check_number(value: float | None, field: str, low: float, high: float, what: str) -> None:
    if value is None:
        return
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or not low <= value <= high
    ):
        raise ModelError(f"{field}: expected {what} between {low:g} and {high:g}, got {value!r}")


def _check_date(value: date | None, field: str) -> None:
    if value is not None and not isinstance(value, date):
        raise ModelError(f"{field}: expected a date, got {value!r}")


def _check_text(value: str | None, field: str) -> None:
    if value is not None and (not isinstance(value, str) or not value.strip()):
        raise ModelError(f"{field}: expected non-empty text, got {value!r}")


@dataclass(frozen=True, slots=True)
class PatientRecord:
    """A patient's clinical record.

    Attributes
    ----------
    id, abo:
        identifier and ABO group (A1/A2 subgroups allowed).
    hla:
        the patient's own typing (for mismatch counts), or ``None``.
    unacceptable:
        HLA specificities the patient has antibodies to; ``()`` none, ``None`` unknown.
    cpra:
        calculated reaction frequency as recorded, a fraction in [0, 1], or ``None``.
    age, sex, centre:
        age in years, :class:`Sex`, the transplant centre's code.
    anti_a_titre, anti_b_titre:
        ABO antibody titres (reciprocal dilution, 8 for 1:8), where measured.
    registered:
        the date the patient joined the scheme (waiting time).
    recorded, antibodies_recorded:
        when the record was last confirmed, and when the antibody screen behind
        ``unacceptable`` and the titres was taken.
    declined_donors:
        the patient's *do-not-match list*: donors of the pool the patient's transplant
        centre has declined for this patient on clinical grounds other than ABO and
        unacceptable antigens (donor age or size, anatomy, virology, antibodies below
        the unacceptable threshold). The builder makes no arc from them and says so.
    """

    id: PatientId
    abo: AboType
    hla: HlaTyping | None = None
    unacceptable: tuple[HlaName, ...] | None = None
    cpra: float | None = None
    age: float | None = None
    sex: Sex | None = None
    anti_a_titre: int | None = None
    anti_b_titre: int | None = None
    centre: str | None = None
    registered: date | None = None
    recorded: date | None = None
    antibodies_recorded: date | None = None
    declined_donors: tuple[DonorId, ...] = ()

    def __post_init__(self) -> None:
        check_id(self.id, "patient id")
        where = f"patient {self.id}"
        if not isinstance(self.abo, AboType):
            raise ModelError(f"{where} abo: expected an AboType, got {self.abo!r}")
        if self.hla is not None and not isinstance(self.hla, HlaTyping):
            raise ModelError(f"{where} hla: expected an HlaTyping, got {self.hla!r}")
        if self.unacceptable is not None and not isinstance(self.unacceptable, tuple):
            raise ModelError(f"{where} unacceptable: expected a tuple of HLA names")
        _check_number(self.cpra, f"{where} cpra", 0, 1, "a fraction")
        _check_number(self.age, f"{where} age", 0, 120, "an age in years")
        if self.sex is not None and not isinstance(self.sex, Sex):
            raise ModelError(f"{where} sex: expected Sex, got {self.sex!r}")
        check_titre(self.anti_a_titre, f"{where} anti_a_titre", ModelError)
        check_titre(self.anti_b_titre, f"{where} anti_b_titre", ModelError)
        _check_text(self.centre, f"{where} centre")
        for name in ("registered", "recorded", "antibodies_recorded"):
            _check_date(getattr(self, name), f"{where} {name}")
        if not isinstance(self.declined_donors, tuple):
            raise ModelError(f"{where} declined_donors: expected a tuple of donor ids")
        for donor in self.declined_donors:
            check_id(donor, f"{where} declined_donors")
        if len(set(self.declined_donors)) != len(self.declined_donors):
            raise ModelError(f"{where} declined_donors: a donor is listed twice")


@dataclass(frozen=True, slots=True)
class DonorRecord:
    """A living donor's clinical record; ``patient`` is ``None`` for a non-directed donor.

    ``egfr`` is the estimated glomerular filtration rate in mL/min/1.73 m², where given.
    """

    id: DonorId
    abo: AboType
    patient: PatientId | None = None
    hla: HlaTyping | None = None
    age: float | None = None
    sex: Sex | None = None
    egfr: float | None = None
    centre: str | None = None
    recorded: date | None = None

    def __post_init__(self) -> None:
        check_id(self.id, "donor id")
        where = f"donor {self.id}"
        if self.patient is not None:
            check_id(self.patient, f"{where} patient")
        if not isinstance(self.abo, AboType):
            raise ModelError(f"{where} abo: expected an AboType, got {self.abo!r}")
        if self.hla is not None and not isinstance(self.hla, HlaTyping):
            raise ModelError(f"{where} hla: expected an HlaTyping, got {self.hla!r}")
        _check_number(self.age, f"{where} age", 0, 120, "an age in years")
        if self.sex is not None and not isinstance(self.sex, Sex):
            raise ModelError(f"{where} sex: expected Sex, got {self.sex!r}")
        _check_number(self.egfr, f"{where} egfr", 0, 250, "an eGFR in mL/min/1.73 m²")
        _check_text(self.centre, f"{where} centre")
        _check_date(self.recorded, f"{where} recorded")


@dataclass(frozen=True, slots=True)
class ClinicalPool:
    """Every patient and donor record of one pool, consistent with each other.

    Raises
    ------
    InstanceError
        on a duplicate id, a donor of an unknown patient, a patient without donor, or a
        declined donor who is not in the pool.
    """

    patients: tuple[PatientRecord, ...]
    donors: tuple[DonorRecord, ...]
    name: str = ""

    def __post_init__(self) -> None:
        patient_ids: set[str] = set()
        for patient in self.patients:
            if patient.id in patient_ids:
                raise InstanceError(f"patient {patient.id}: duplicate patient id")
            patient_ids.add(patient.id)
        donor_ids: set[str] = set()
        with_donor: set[str] = set()
        for donor in self.donors:
            if donor.id in donor_ids:
                raise InstanceError(f"donor {donor.id}: duplicate donor id")
            donor_ids.add(donor.id)
            if donor.patient is not None:
                if donor.patient not in patient_ids:
                    raise InstanceError(
                        f"donor {donor.id}: paired with unknown patient {donor.patient}"
                    )
                with_donor.add(donor.patient)
        for patient in self.patients:
            if patient.id not in with_donor:
                raise InstanceError(f"patient {patient.id}: has no donor; every patient needs one")
            for declined in patient.declined_donors:
                if declined not in donor_ids:
                    raise InstanceError(
                        f"patient {patient.id}: declined_donors names unknown donor {declined}"
                    )
