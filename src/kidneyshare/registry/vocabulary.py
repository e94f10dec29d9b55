"""The registry's closed vocabularies: roles, pool statuses, run and offer states."""

from __future__ import annotations

from enum import Enum

__all__ = [
    "STATUS_CHANGES",
    "CareEventKind",
    "CrossmatchOutcome",
    "MeasurementKind",
    "MemberStatus",
    "OfferStatus",
    "Role",
    "RunStatus",
]


class Role(Enum):
    """What a user may do (the service's permission table is built on these)."""

    SCHEME_ADMIN = "scheme-admin"
    """Runs the scheme: centres, users, matching runs; sees every record."""
    CENTRE_COORDINATOR = "centre-coordinator"
    """Registers and maintains their centre's pairs and altruists."""
    CARE_COORDINATOR = "care-coordinator"
    """Follows their centre's donors and patients: crossmatches, transplants."""
    ANALYST = "analyst"
    """Reads pseudonymised data only."""


class MemberStatus(Enum):
    """A pair's or altruist's place in the pool."""

    ACTIVE = "active"
    SUSPENDED = "suspended"
    WITHDRAWN = "withdrawn"
    TRANSPLANTED = "transplanted"


# Which status changes a coordinator may record; a transplant is recorded through an
# offer, and withdrawn / transplanted are final.
STATUS_CHANGES: dict[MemberStatus, frozenset[MemberStatus]] = {
    MemberStatus.ACTIVE: frozenset({MemberStatus.SUSPENDED, MemberStatus.WITHDRAWN}),
    MemberStatus.SUSPENDED: frozenset({MemberStatus.ACTIVE, MemberStatus.WITHDRAWN}),
    MemberStatus.WITHDRAWN: frozenset(),
    MemberStatus.TRANSPLANTED: frozenset(),
}


class RunStatus(Enum):
    """Where a matching run is."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    INTERRUPTED = "interrupted"
    """The server stopped while the run was queued or running; restart it."""


class OfferStatus(Enum):
    """An offer is one proposed donation of a run's plan."""

    PROPOSED = "proposed"
    ACCEPTED = "accepted"
    """The patient's centre has accepted the offered donor; the crossmatch follows."""
    DECLINED = "declined"
    """The patient's centre declined the offer: for the plan, a failed arc."""
    CROSSMATCH_NEGATIVE = "crossmatch-negative"
    """The laboratory crossmatch allows the transplant to go ahead."""
    CROSSMATCH_POSITIVE = "crossmatch-positive"
    """The crossmatch rules the transplant out."""
    TRANSPLANTED = "transplanted"
    CANCELLED = "cancelled"
    """A repaired plan no longer proposes this donation (its exchange was broken)."""


class CrossmatchOutcome(Enum):
    NEGATIVE = "negative"
    POSITIVE = "positive"


class CareEventKind(Enum):
    """What one row of a care episode's event log records."""

    OPENED = "opened"
    STAGE_CHANGED = "stage-changed"
    COORDINATOR_ASSIGNED = "coordinator-assigned"


class MeasurementKind(Enum):
    """The kinds of observation recorded at a donor's follow-up (kidneyshare.care)."""

    CREATININE = "creatinine"
    BLOOD_PRESSURE = "blood-pressure"
    ALBUMIN_CREATININE_RATIO = "acr"
    WEIGHT = "weight"
    COMPLICATION = "complication"
