"""Matching runs, offers and outcomes."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import Field

from kidneyshare.registry.vocabulary import CrossmatchOutcome, OfferStatus, RunStatus
from kidneyshare.service.schemas.common import Schema
from kidneyshare.workflows.care import EARLIEST, LATEST

__all__ = [
    "CrossmatchIn",
    "ImportPublic",
    "OfferPublic",
    "PersonRef",
    "RunCreate",
    "RunDonation",
    "RunExchange",
    "RunPublic",
    "TransplantIn",
]


class RunCreate(Schema):
    max_cycle: int = Field(default=3, ge=0, le=6)
    max_chain: int = Field(default=3, ge=0, le=12)
    objective: str = Field(
        default="max-transplants",
        max_length=40,
        description="An objective name the matching engine knows (e.g. max-transplants).",
    )
    time_limit: float | None = Field(default=None, gt=0, le=3600)
    policy: str | None = Field(
        default=None,
        max_length=40,
        description="A bundled policy (uk, uk-nhsbt, max-transplants): its rules replace "
        "max_cycle, max_chain and objective, and the run stores the policy file.",
    )
    levels: list[str] = Field(
        default_factory=list,
        max_length=10,
        description="With a policy: a hierarchy of these criteria, most important first.",
    )


class PersonRef(Schema):
    """A patient or donor in a result: identified when the caller may, else pseudonymised."""

    pseudonym: str
    centre_code: str
    id: int | None = None
    code: str | None = None


class RunDonation(Schema):
    donor: PersonRef
    patient: PersonRef
    weight: float


class RunExchange(Schema):
    kind: str
    donations: list[RunDonation]


class RunPublic(Schema):
    id: int
    status: RunStatus
    phase: str
    progress: int = Field(ge=0, le=100)
    config: dict[str, Any]
    snapshot_sha256: str
    attempts: int
    message: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    policy: dict[str, str] | None = Field(
        default=None, description="The policy file the run followed: name, version, sha256."
    )
    transplants: int | None = None
    verification: dict[str, Any] | None = None
    exchanges: list[RunExchange] | None = None


class OfferPublic(Schema):
    id: int
    run_id: int
    exchange: int
    kind: str
    position: int
    donor: PersonRef
    patient: PersonRef
    weight: float
    status: OfferStatus
    version: int
    plan_version: int = 1


class CrossmatchIn(Schema):
    outcome: CrossmatchOutcome
    performed_on: date
    notes: str = Field(default="", max_length=2000)


class OfferResponseIn(Schema):
    """The patient's centre's answer; a decline needs a reason and is a failed arc for
    ``POST /runs/{id}/repair``."""

    accepted: bool
    responded_on: date = Field(ge=EARLIEST, le=LATEST)
    reason: str = Field(default="", max_length=2000)


class TransplantIn(Schema):
    """The transplant also opens the donor's care episode (if none is open) and moves it
    to surgery; its coordinator and the donor's birth date and sex (for the eGFR) are
    taken from here, else assigned and read from the donor's facts."""

    performed_on: date = Field(ge=EARLIEST, le=LATEST)
    coordinator: str | None = Field(default=None, max_length=64)
    born_on: date | None = Field(default=None, ge=EARLIEST, le=LATEST)
    sex: str | None = Field(default=None, pattern="^[FM]$")


class ImportPublic(Schema):
    id: int
    centre_id: int
    source_name: str
    sha256: str
    pairs: int
    altruists: int
    arcs: int
    created_at: datetime
