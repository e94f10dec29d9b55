"""Request bodies turned into the registry's validated value objects.

A rule the registry checks (an HLA name, an A subgroup for an O donor) is reported at
its place in the request body, e.g. ``patient_facts.unacceptable_antigens[1]``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from kidneyshare.registry.clinical import DonorFacts, PatientFacts
from kidneyshare.registry.errors import RecordInvalid
from kidneyshare.registry.pool import DonorEntry
from kidneyshare.service.schemas.pool import DonorCreate, DonorFactsIn, PatientFactsIn

__all__ = ["donor_entry", "donor_facts", "patient_facts"]

Value = TypeVar("Value")


def _at(place: str, build: Callable[[], Value]) -> Value:
    try:
        return build()
    except RecordInvalid as exc:
        field = place if not exc.field else f"{place}.{exc.field}" if place else exc.field
        raise RecordInvalid(exc.detail, field=field) from exc


def patient_facts(body: PatientFactsIn, place: str = "") -> PatientFacts:
    return _at(place, lambda: PatientFacts(**body.model_dump(exclude={"reason"})))


def donor_facts(body: DonorFactsIn, place: str = "") -> DonorFacts:
    return _at(place, lambda: DonorFacts(**body.model_dump(exclude={"reason"})))


def donor_entry(body: DonorCreate, place: str) -> DonorEntry:
    facts = None if body.facts is None else donor_facts(body.facts, f"{place}.facts")
    return DonorEntry(body.code, body.reference, facts)
