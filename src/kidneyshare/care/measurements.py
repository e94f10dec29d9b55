"""What is measured at a donor's visits, validated against plausible ranges, and the eGFR.

Each observation is a frozen value checked when built: a value outside its plausible
range is far more often a typing or unit error (mg/dL typed as umol/L, kPa as mmHg) than
a real result, so it is refused with a :class:`~kidneyshare.care.errors.MeasurementError`
that names the field and the value. The ranges are deliberately wide (they bound what a
living human can show), not clinical normal ranges; alerts judge what is abnormal.

eGFR is computed from serum creatinine by the race-free CKD-EPI 2021 creatinine equation
(Inker LA, Eneanya ND, Coresh J, et al. New creatinine- and cystatin C-based equations
to estimate GFR without race. N Engl J Med 2021;385:1737-1749)::

    eGFR = 142 * min(Scr/k, 1)^a * max(Scr/k, 1)^-1.200 * 0.9938^age * 1.012 [if female]

with Scr in mg/dL (umol/L / 88.4), k = 0.7 (female) or 0.9 (male), a = -0.241 (female)
or -0.302 (male), age in whole years; result in mL/min/1.73m2. It is validated for
adults (18 and over), as living donors are.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum

from kidneyshare.care.errors import MeasurementError
from kidneyshare.model.people import DonorId, check_id

__all__ = [
    "CREATININE_UMOL_PER_MG",
    "AlbuminCreatinineRatio",
    "BloodPressure",
    "BodyWeight",
    "ClavienDindo",
    "Complication",
    "Creatinine",
    "DonorProfile",
    "EgfrReading",
    "EgfrTrend",
    "Measurement",
    "Observation",
    "Sex",
    "TrendDirection",
    "age_on",
    "egfr_ckd_epi_2021",
    "egfr_readings",
    "egfr_trend",
]

CREATININE_UMOL_PER_MG = 88.4
"""umol/L of creatinine in 1 mg/dL (molar mass 113.12 g/mol)."""


class Sex(Enum):
    """Sex as the CKD-EPI equation uses it (its coefficients were fitted by sex)."""

    FEMALE = "female"
    MALE = "male"


def _number(value: object, field: str, low: float, high: float) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or not low <= value <= high
    ):
        raise MeasurementError(
            f"expected a number from {low:g} to {high:g}", field=field, value=value
        )
    return float(value)


def _day(value: object, field: str) -> date:
    if not isinstance(value, date) or isinstance(value, datetime):
        raise MeasurementError("expected a calendar date", field=field, value=value)
    return value


def age_on(born_on: date, day: date) -> int:
    """Age in completed years on ``day`` (a 29 February birthday counts on 1 March)."""
    years = day.year - born_on.year
    return years - ((day.month, day.day) < (born_on.month, born_on.day))


def egfr_ckd_epi_2021(creatinine_umol_per_l: float, age_years: float, sex: Sex) -> float:
    """eGFR in mL/min/1.73m2 by the CKD-EPI 2021 race-free creatinine equation.

    Parameters
    ----------
    creatinine_umol_per_l
        IDMS-standardised serum creatinine in umol/L.
    age_years
        Age in years, 18 or more (the equation is not validated for children).
    sex
        The sex the equation's coefficients were fitted for.

    Raises
    ------
    MeasurementError
        Creatinine outside 10-3000 umol/L, or age outside 18-120.

    References
    ----------
    Inker LA et al. N Engl J Med 2021;385:1737-1749 (the equation and its constants).

    Examples
    --------
    The National Kidney Foundation's calculator gives 95.2 for a man of 70 with creatinine
    0.8 mg/dL (70.7 umol/L):

    >>> round(egfr_ckd_epi_2021(0.8 * CREATININE_UMOL_PER_MG, 70, Sex.MALE), 1)
    95.2
    """
    creatinine = _number(creatinine_umol_per_l, "creatinine (umol/L)", 10, 3000)
    age = _number(age_years, "age for eGFR (years)", 18, 120)
    if not isinstance(sex, Sex):
        raise MeasurementError("expected female or male", field="sex for eGFR", value=sex)
    female = sex is Sex.FEMALE
    kappa, alpha = (0.7, -0.241) if female else (0.9, -0.302)
    ratio = creatinine / CREATININE_UMOL_PER_MG / kappa
    egfr = 142 * math.pow(min(ratio, 1.0), alpha) * math.pow(max(ratio, 1.0), -1.200)
    egfr *= math.pow(0.9938, age)
    return egfr * 1.012 if female else egfr


@dataclass(frozen=True, slots=True)
class Creatinine:
    """Serum creatinine, umol/L (plausible 10-3000)."""

    umol_per_l: float

    def __post_init__(self) -> None:
        _number(self.umol_per_l, "creatinine (umol/L)", 10, 3000)


@dataclass(frozen=True, slots=True)
class BloodPressure:
    """Clinic blood pressure, mmHg (systolic 50-300, diastolic 20-200, systolic higher)."""

    systolic: int
    diastolic: int

    def __post_init__(self) -> None:
        _number(self.systolic, "systolic blood pressure (mmHg)", 50, 300)
        _number(self.diastolic, "diastolic blood pressure (mmHg)", 20, 200)
        if self.diastolic >= self.systolic:
            raise MeasurementError(
                "expected the diastolic below the systolic pressure",
                field="blood pressure (mmHg)",
                value=f"{self.systolic}/{self.diastolic}",
            )


@dataclass(frozen=True, slots=True)
class AlbuminCreatinineRatio:
    """Urine albumin:creatinine ratio, mg/mmol (UK units; 0-2000). 1 mg/mmol = 8.84 mg/g."""

    mg_per_mmol: float

    def __post_init__(self) -> None:
        _number(self.mg_per_mmol, "urine albumin:creatinine ratio (mg/mmol)", 0, 2000)


@dataclass(frozen=True, slots=True)
class BodyWeight:
    """Weight in kg (25-350), with height in cm (100-250) when measured, for the BMI."""

    kg: float
    height_cm: float | None = None

    def __post_init__(self) -> None:
        _number(self.kg, "weight (kg)", 25, 350)
        if self.height_cm is not None:
            _number(self.height_cm, "height (cm)", 100, 250)

    @property
    def bmi(self) -> float | None:
        """Body-mass index, kg/m2 (``None`` without a height)."""
        return None if self.height_cm is None else self.kg / (self.height_cm / 100) ** 2


class ClavienDindo(Enum):
    """Surgical complication grade (Dindo D, Demartines N, Clavien PA. Ann Surg
    2004;240:205-213)."""

    I = "I"  # noqa: E741 - the grade's published name
    """Any deviation from the normal course, without intervention beyond simple drugs."""
    II = "II"
    """Needs drugs beyond those of grade I, transfusion or parenteral nutrition."""
    IIIA = "IIIa"
    """Needs a surgical, endoscopic or radiological intervention, not under general anaesthesia."""
    IIIB = "IIIb"
    """Needs an intervention under general anaesthesia."""
    IVA = "IVa"
    """Life-threatening, needing intensive care: single organ dysfunction."""
    IVB = "IVb"
    """Life-threatening, needing intensive care: multi-organ dysfunction."""
    V = "V"
    """Death of the patient."""

    @property
    def rank(self) -> int:
        """Order of severity, 1 (grade I) to 7 (grade V)."""
        return list(ClavienDindo).index(self) + 1


@dataclass(frozen=True, slots=True)
class Complication:
    """A complication of donation, graded by Clavien-Dindo, described in words."""

    grade: ClavienDindo
    description: str

    def __post_init__(self) -> None:
        if not isinstance(self.grade, ClavienDindo):
            raise MeasurementError(
                f"expected one of {', '.join(g.value for g in ClavienDindo)}",
                field="complication Clavien-Dindo grade",
                value=self.grade,
            )
        if not isinstance(self.description, str) or not self.description.strip():
            raise MeasurementError(
                "expected non-empty text", field="complication description", value=self.description
            )


Observation = Creatinine | BloodPressure | AlbuminCreatinineRatio | BodyWeight | Complication
"""Every kind of observation a coordinator records."""


@dataclass(frozen=True, slots=True)
class Measurement:
    """One observation of one donor on one day, with who recorded it."""

    donor_id: DonorId
    taken_on: date
    observation: Observation
    recorded_by: str

    def __post_init__(self) -> None:
        check_id(self.donor_id, "measurement donor id")
        _day(self.taken_on, f"measurement of donor {self.donor_id} date")
        check_id(self.recorded_by, f"measurement of donor {self.donor_id} recorded_by")
        if not isinstance(self.observation, Observation):
            raise MeasurementError(
                "expected a creatinine, blood pressure, albumin:creatinine ratio, weight or "
                "complication",
                field=f"measurement of donor {self.donor_id} observation",
                value=self.observation,
            )


@dataclass(frozen=True, slots=True)
class DonorProfile:
    """What eGFR needs to know about a donor besides creatinine."""

    donor_id: DonorId
    born_on: date
    sex: Sex

    def __post_init__(self) -> None:
        check_id(self.donor_id, "donor profile donor id")
        _day(self.born_on, f"donor {self.donor_id} date of birth")
        if not isinstance(self.sex, Sex):
            raise MeasurementError(
                "expected female or male", field=f"donor {self.donor_id} sex", value=self.sex
            )


@dataclass(frozen=True, slots=True)
class EgfrReading:
    """An eGFR computed from one creatinine measurement."""

    taken_on: date
    creatinine_umol_per_l: float
    egfr: float


def egfr_readings(
    profile: DonorProfile, measurements: Iterable[Measurement]
) -> tuple[EgfrReading, ...]:
    """The donor's eGFR from each of their creatinine measurements, oldest first.

    Raises
    ------
    MeasurementError
        A measurement belongs to another donor, or was taken before the donor was 18.
    """
    readings = []
    for m in measurements:
        if m.donor_id != profile.donor_id:
            raise MeasurementError(
                f"expected donor {profile.donor_id}'s measurements only",
                field="measurement donor id",
                value=m.donor_id,
            )
        if isinstance(m.observation, Creatinine):
            age = age_on(profile.born_on, m.taken_on)
            value = egfr_ckd_epi_2021(m.observation.umol_per_l, age, profile.sex)
            readings.append(EgfrReading(m.taken_on, m.observation.umol_per_l, value))
    return tuple(sorted(readings, key=lambda r: (r.taken_on, r.creatinine_umol_per_l)))


class TrendDirection(Enum):
    """Which way eGFR is moving, by the slope of :func:`egfr_trend`."""

    FALLING = "falling"
    STABLE = "stable"
    RISING = "rising"
    UNKNOWN = "unknown"
    """Too few readings, or too short a span, to tell."""


@dataclass(frozen=True, slots=True)
class EgfrTrend:
    """The latest eGFR and its direction over the readings since the kidney settled."""

    latest: EgfrReading | None
    slope_per_year: float | None
    direction: TrendDirection


SETTLING_DAYS = 90
"""Readings this soon after donation are left out of the trend: eGFR falls by about a
third at nephrectomy and the remaining kidney's compensation takes weeks to months."""
MIN_SPAN_DAYS = 180


def egfr_trend(
    readings: Iterable[EgfrReading],
    *,
    donated_on: date | None,
    change_per_year: float = 5.0,
) -> EgfrTrend:
    """The least-squares eGFR slope (mL/min/1.73m2 per year) and its direction.

    Only readings at least 90 days after donation count (all readings before a
    donation); at least two spanning 180 days are needed. A slope beyond
    ``change_per_year`` either way is falling or rising: 5 per year is KDIGO's "rapid
    progression" (KDIGO 2012 CKD guideline, Kidney Int Suppl 2013;3:1-150, 2.1.4).
    """
    ordered = sorted(readings, key=lambda r: r.taken_on)
    latest = ordered[-1] if ordered else None
    if donated_on is not None:
        ordered = [r for r in ordered if (r.taken_on - donated_on).days >= SETTLING_DAYS]
    if len(ordered) < 2 or (ordered[-1].taken_on - ordered[0].taken_on).days < MIN_SPAN_DAYS:
        return EgfrTrend(latest, None, TrendDirection.UNKNOWN)
    years = [(r.taken_on - ordered[0].taken_on).days / 365.25 for r in ordered]
    slope = statistics.linear_regression(years, [r.egfr for r in ordered]).slope
    if slope <= -change_per_year:
        direction = TrendDirection.FALLING
    elif slope >= change_per_year:
        direction = TrendDirection.RISING
    else:
        direction = TrendDirection.STABLE
    return EgfrTrend(latest, slope, direction)
