"""Registry rows as the library's ids: ``P<patient id>`` and ``D<donor id>``."""

from __future__ import annotations

__all__ = ["donor_key", "parse_donor_key", "parse_patient_key", "patient_key"]


def patient_key(patient_id: int) -> str:
    return f"P{patient_id}"


def donor_key(donor_id: int) -> str:
    return f"D{donor_id}"


def parse_patient_key(key: str) -> int:
    return int(key.removeprefix("P"))


def parse_donor_key(key: str) -> int:
    return int(key.removeprefix("D"))
