"""Arcs of the compatibility graph: a donor who can give to a patient."""

from __future__ import annotations

import math
from dataclasses import dataclass

from kidneyshare.errors import ModelError
from kidneyshare.model.people import DonorId, PatientId, check_id

__all__ = ["Arc"]


@dataclass(frozen=True, slots=True)
class Arc:
    """Donor ``donor`` is compatible with patient ``patient``.

    ``weight`` is the scheme's score of the transplant (non-negative, finite; 1 when the
    source has none); ``probability`` the chance that it proceeds (crossmatch, health),
    in (0, 1], where known.
    """

    donor: DonorId
    patient: PatientId
    weight: float = 1.0
    probability: float | None = None

    def __post_init__(self) -> None:
        check_id(self.donor, "arc donor")
        check_id(self.patient, "arc patient")
        w = self.weight
        if isinstance(w, bool) or not isinstance(w, (int, float)) or not math.isfinite(w) or w < 0:
            raise ModelError(
                f"arc {self.donor}->{self.patient} weight: expected a finite number >= 0, got {w!r}"
            )
        p = self.probability
        if p is not None and (
            isinstance(p, bool) or not isinstance(p, (int, float)) or not (0.0 < p <= 1.0)
        ):
            raise ModelError(
                f"arc {self.donor}->{self.patient} probability: "
                f"expected a number in (0, 1], got {p!r}"
            )
