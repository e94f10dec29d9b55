"""Donor care and recourse: episodes, stage changes, visits, measurements, alerts,
caseloads, and plan versions."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import Field

from kidneyshare.care import Stage
from kidneyshare.registry.vocabulary import MeasurementKind
from kidneyshare.service.schemas.common import Schema
from kidneyshare.workflows.care import EARLIEST, LATEST

__all__ = [
    "CLINICAL_DATE",
    "EARLIEST",
    "LATEST",
    "AlertPublic",
    "CaseloadEntryPublic",
    "CoordinatorIn",
    "EpisodeCreate",
    "EpisodePublic",
    "MeasurementIn",
    "PlanVersionPublic",
    "RepairIn",
    "StageIn",
    "VisitIn",
    "VisitStatusPublic",
]

_TEXT = Field(default="", max_length=2000)
_ID = Field(ge=1, le=2_147_483_647)  # the largest id an INTEGER column holds
CLINICAL_DATE = Annotated[date, Field(ge=EARLIEST, le=LATEST)]
"""A day of a donor's care: lifelong schedules are computed from it, so it is bounded."""


class RepairIn(Schema):
    chain_policy: str = Field(
        default="waiting-list", description="A chain broken mid-way: waiting-list or re-route."
    )
    fixed: list[Annotated[int, _ID]] = Field(
        default_factory=list,
        max_length=500,
        description="Also keep these exchanges of the current plan (numbered from 1).",
    )
    keep_unaffected: bool = Field(
        default=True,
        description="Keep exchanges no failure touches; false re-optimises every exchange "
        "not agreed (may match more patients, remakes their offers).",
    )
    reason: str = _TEXT


class PlanVersionPublic(Schema):
    number: int
    reason: str
    transplants: int
    verified: bool
    created_at: datetime
    cancelled_offers: list[int] | None = None
    new_offers: list[int] | None = None
    repair: dict[str, Any] | None = Field(
        default=None, description="The before/after record (scheme administrators only)."
    )


class EpisodeCreate(Schema):
    donor_id: Annotated[int, _ID]
    opened_on: CLINICAL_DATE
    coordinator: str | None = Field(
        default=None, max_length=64, description="A care coordinator's username; else assigned."
    )
    born_on: CLINICAL_DATE | None = None
    sex: str | None = Field(default=None, pattern="^[FM]$")
    offer_id: Annotated[int, _ID] | None = None


class StageIn(Schema):
    to_stage: Stage
    on: CLINICAL_DATE
    reason: str = Field(min_length=1, max_length=2000)
    planned_for: CLINICAL_DATE | None = None


class CoordinatorIn(Schema):
    coordinator: str = Field(min_length=1, max_length=64)
    on: CLINICAL_DATE
    reason: str = Field(min_length=1, max_length=2000)


class VisitIn(Schema):
    held_on: CLINICAL_DATE
    notes: str = _TEXT


class MeasurementIn(Schema):
    kind: MeasurementKind
    taken_on: CLINICAL_DATE
    value: dict[str, Any] = Field(
        examples=[
            {"umol_per_l": 95},
            {"systolic": 128, "diastolic": 80},
            {"grade": "II", "description": "wound infection"},
        ]
    )


class AlertPublic(Schema):
    episode_id: int
    donor_id: int
    kind: str
    severity: str
    since: date
    message: str


class VisitStatusPublic(Schema):
    label: str
    due: date
    earliest: date
    latest: date
    state: str
    held_on: date | None
    days_overdue: int


class EpisodePublic(Schema):
    id: int
    donor_id: int
    centre_id: int
    offer_id: int | None
    coordinator: str
    stage: Stage
    stage_since: date
    opened_on: date
    donated_on: date | None
    surgery_planned_for: date | None
    policy: str
    as_of: date
    visits: list[VisitStatusPublic]
    alerts: list[AlertPublic]


class CaseloadEntryPublic(Schema):
    episode_id: int
    donor_id: int
    stage: Stage
    days_since_donation: int | None
    next_visit: str | None = Field(description="The next visit's label and due date.")
    surgery_planned_for: date | None
    overdue_visits: int
    egfr: float | None
    egfr_trend: str
    alerts: list[AlertPublic]
