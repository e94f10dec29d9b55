"""Pairs, altruists and their clinical facts."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import Field

from kidneyshare.registry.vocabulary import MemberStatus
from kidneyshare.service.schemas.common import Schema

__all__ = [
    "AltruistCreate",
    "AltruistPublic",
    "DonorCreate",
    "DonorFactsIn",
    "DonorFactsPublic",
    "DonorPublic",
    "FactsHistory",
    "PairCreate",
    "PairPublic",
    "PatientFactsIn",
    "PatientFactsPublic",
    "PseudonymisedMember",
    "StatusChangeIn",
    "StatusChangePublic",
]

_CODE = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$"
_HLA_NAME = Field(max_length=24)


class PatientFactsIn(Schema):
    recorded_on: date
    blood_group: str | None = Field(default=None, examples=["O"])
    anti_a_titre: int | None = Field(default=None, ge=0, le=4096)
    hla: list[str] = Field(default_factory=list, max_length=40, examples=[["A2", "B44", "DR4"]])
    unacceptable_antigens: list[str] = Field(
        default_factory=list, max_length=400, examples=[["A9", "DQ7"]]
    )
    cpra: float | None = Field(default=None, ge=0, le=1)
    age: int | None = Field(default=None, ge=0, le=120)
    sex: str | None = Field(default=None, examples=["F"])
    reason: str = Field(default="", max_length=500, description="Why this record supersedes.")


class DonorFactsIn(Schema):
    recorded_on: date
    blood_group: str | None = Field(default=None, examples=["A"])
    a_subgroup: str | None = Field(default=None, examples=["A2"])
    hla: list[str] = Field(default_factory=list, max_length=40)
    age: int | None = Field(default=None, ge=0, le=120)
    sex: str | None = None
    egfr: float | None = Field(default=None, ge=0, le=250)
    reason: str = Field(default="", max_length=500)


class PatientFactsPublic(Schema):
    id: int
    recorded_on: date
    blood_group: str | None
    anti_a_titre: int | None
    hla: list[str]
    unacceptable_antigens: list[str]
    cpra: float | None
    age: int | None
    sex: str | None
    recorded_at: datetime
    supersedes_id: int | None
    reason: str


class DonorFactsPublic(Schema):
    id: int
    recorded_on: date
    blood_group: str | None
    a_subgroup: str | None
    hla: list[str]
    age: int | None
    sex: str | None
    egfr: float | None
    recorded_at: datetime
    supersedes_id: int | None
    reason: str


class DonorCreate(Schema):
    code: str = Field(pattern=_CODE, examples=["D-0042"])
    reference: str | None = Field(default=None, max_length=200)
    facts: DonorFactsIn | None = None


class DonorPublic(Schema):
    id: int
    code: str
    reference: str | None
    facts: DonorFactsPublic | None


class PairCreate(Schema):
    patient_code: str = Field(pattern=_CODE, examples=["P-0042"])
    patient_reference: str | None = Field(
        default=None, max_length=200, description="The centre's identifiable label."
    )
    patient_facts: PatientFactsIn | None = None
    donors: list[DonorCreate] = Field(min_length=1, max_length=10)


class PairPublic(Schema):
    id: int
    centre_id: int
    status: MemberStatus
    version: int
    patient_id: int
    patient_code: str
    patient_reference: str | None
    patient_facts: PatientFactsPublic | None
    donors: list[DonorPublic]
    updated_at: datetime


class AltruistCreate(Schema):
    donor: DonorCreate


class AltruistPublic(Schema):
    id: int
    centre_id: int
    status: MemberStatus
    version: int
    donor: DonorPublic
    updated_at: datetime


class StatusChangeIn(Schema):
    status: MemberStatus
    reason: str = Field(default="", max_length=500)


class StatusChangePublic(Schema):
    status: MemberStatus
    reason: str
    recorded_at: datetime


class FactsHistory(Schema):
    """Every clinical record, oldest first; the last of each list is in force."""

    patient: list[PatientFactsPublic]
    donors: dict[int, list[DonorFactsPublic]]
    status: list[StatusChangePublic]


class PseudonymisedMember(Schema):
    """A pool member as an analyst sees it: pseudonyms and clinical facts, no ids or
    references."""

    kind: str
    pseudonym: str
    centre_code: str
    status: MemberStatus
    blood_group: str | None
    cpra: float | None
    donor_pseudonyms: list[str]
