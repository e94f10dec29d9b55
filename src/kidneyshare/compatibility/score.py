"""The score of a transplant: a documented points scheme, each part reported.

kidneyshare's default points (every figure is a field of :class:`ScoringScheme`, so a
scheme can set its own). They follow the factors the UK Living Kidney Sharing Scheme
scores (Manlove & O'Malley, ACM J. Exp. Algorithmics 19, 2014, section 2: HLA mismatch,
sensitisation, waiting, donor-recipient age difference), but the numbers are ours:

===================  =========================================================
part                 default points
===================  =========================================================
base                 50 for every compatible transplant
HLA mismatch         level 1: 30, level 2: 20, level 3: 10, level 4 or unknown: 0
sensitisation        cPRA >= 0.95: 25; >= 0.85: 15; >= 0.50: 5; lower or unknown: 0
waiting time         4 per year since registration, at most 20
age difference       |donor - patient| <= 20 years: 10; <= 30: 5; otherwise or unknown: 0
===================  =========================================================

So the best possible transplant scores 135 and the least favoured 50; the weight of an
arc is the total.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from typing import Any

from kidneyshare.compatibility.mismatch import HlaMismatch
from kidneyshare.errors import ConfigError

__all__ = ["ScoreParts", "ScoringScheme", "score_transplant"]

_DAYS_PER_YEAR = 365.25


def _check_points(value: object, field: str) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ConfigError(f"{field}: expected a finite number of points, got {value!r}")
    if value < 0:
        raise ConfigError(f"{field}: expected points >= 0, got {value!r}")


@dataclass(frozen=True, slots=True)
class ScoringScheme:
    """The points of each part of a transplant's score (see the module's table).

    ``sensitisation`` is a list of (lowest cPRA, points), highest threshold first; the
    first threshold met gives the points. ``age_difference`` is a list of (largest
    difference in years, points), smallest first.
    """

    base: float = 50.0
    mismatch_level: tuple[float, float, float, float] = (30.0, 20.0, 10.0, 0.0)
    sensitisation: tuple[tuple[float, float], ...] = ((0.95, 25.0), (0.85, 15.0), (0.5, 5.0))
    waiting_per_year: float = 4.0
    waiting_max: float = 20.0
    age_difference: tuple[tuple[float, float], ...] = ((20.0, 10.0), (30.0, 5.0))

    def __post_init__(self) -> None:
        _check_points(self.base, "base")
        if len(self.mismatch_level) != 4:
            raise ConfigError(
                f"mismatch_level: expected points for levels 1 to 4, got {self.mismatch_level!r}"
            )
        for i, p in enumerate(self.mismatch_level):
            _check_points(p, f"mismatch_level[{i}]")
        for i, (_, p) in enumerate(self.sensitisation):
            _check_points(p, f"sensitisation[{i}]")
        _check_points(self.waiting_per_year, "waiting_per_year")
        _check_points(self.waiting_max, "waiting_max")
        for i, (_, p) in enumerate(self.age_difference):
            _check_points(p, f"age_difference[{i}]")


@dataclass(frozen=True, slots=True)
class ScoreParts:
    """The points of one transplant, part by part."""

    base: float
    mismatch: float
    sensitisation: float
    waiting: float
    age_difference: float

    @property
    def total(self) -> float:
        return self.base + self.mismatch + self.sensitisation + self.waiting + self.age_difference

    def to_json(self) -> dict[str, Any]:
        return {
            "base": self.base,
            "mismatch": self.mismatch,
            "sensitisation": self.sensitisation,
            "waiting": self.waiting,
            "age_difference": self.age_difference,
            "total": self.total,
        }

    def __str__(self) -> str:
        return (
            f"{self.total:g} = {self.base:g} base + {self.mismatch:g} HLA mismatch + "
            f"{self.sensitisation:g} sensitisation + {self.waiting:g} waiting + "
            f"{self.age_difference:g} age difference"
        )


def score_transplant(
    scheme: ScoringScheme,
    *,
    mismatch: HlaMismatch | None,
    cpra: float | None,
    registered: date | None,
    as_of: date | None,
    donor_age: float | None,
    patient_age: float | None,
) -> ScoreParts:
    """Score one transplant under ``scheme``; unknown facts give a part's lowest points.

    Examples
    --------
    >>> parts = score_transplant(ScoringScheme(), mismatch=HlaMismatch(1, 1, 0), cpra=0.9,
    ...     registered=date(2024, 1, 1), as_of=date(2026, 1, 1), donor_age=50, patient_age=35)
    >>> str(parts)
    '103 = 50 base + 20 HLA mismatch + 15 sensitisation + 8 waiting + 10 age difference'
    """
    mismatch_points = 0.0 if mismatch is None else scheme.mismatch_level[mismatch.level - 1]
    sensitisation = 0.0
    if cpra is not None:
        sensitisation = next((p for low, p in scheme.sensitisation if cpra >= low), 0.0)
    waiting = 0.0
    if registered is not None and as_of is not None and as_of > registered:
        years = (as_of - registered).days / _DAYS_PER_YEAR
        waiting = min(scheme.waiting_max, round(scheme.waiting_per_year * years, 1))
    age_points = 0.0
    if donor_age is not None and patient_age is not None:
        gap = abs(donor_age - patient_age)
        age_points = next((p for most, p in scheme.age_difference if gap <= most), 0.0)
    return ScoreParts(
        base=scheme.base,
        mismatch=mismatch_points,
        sensitisation=sensitisation,
        waiting=waiting,
        age_difference=age_points,
    )
