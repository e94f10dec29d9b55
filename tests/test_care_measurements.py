"""Measurements: CKD-EPI 2021 against published values, plausible ranges, eGFR trends."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kidneyshare.care.errors import MeasurementError
from kidneyshare.care.measurements import (
    CREATININE_UMOL_PER_MG,
    AlbuminCreatinineRatio,
    BloodPressure,
    BodyWeight,
    ClavienDindo,
    Complication,
    Creatinine,
    DonorProfile,
    EgfrReading,
    Measurement,
    Sex,
    TrendDirection,
    age_on,
    egfr_ckd_epi_2021,
    egfr_readings,
    egfr_trend,
)
from kidneyshare.model import DonorId


@pytest.mark.parametrize(
    ("mg_per_dl", "age", "sex", "published"),
    [
        # National Kidney Foundation eGFR calculator (CKD-EPI 2021), as quoted in the
        # documentation of the R package tabletools (calculate_egfr examples).
        (0.8, 70, Sex.MALE, 95.2),
        (1.0, 50, Sex.FEMALE, 68.6),
    ],
)
def test_ckd_epi_2021_matches_published_values(
    mg_per_dl: float, age: int, sex: Sex, published: float
) -> None:
    egfr = egfr_ckd_epi_2021(mg_per_dl * CREATININE_UMOL_PER_MG, age, sex)
    assert round(egfr, 1) == published


def test_ckd_epi_2021_at_the_knot_is_142_times_the_age_term() -> None:
    # At Scr = kappa both min and max terms are 1 (Inker et al. 2021, the equation's form).
    assert egfr_ckd_epi_2021(0.9 * CREATININE_UMOL_PER_MG, 40, Sex.MALE) == pytest.approx(
        142 * 0.9938**40
    )
    assert egfr_ckd_epi_2021(0.7 * CREATININE_UMOL_PER_MG, 40, Sex.FEMALE) == pytest.approx(
        142 * 0.9938**40 * 1.012
    )


@given(
    st.floats(20, 2000),
    st.floats(20, 2000),
    st.integers(18, 100),
    st.sampled_from(list(Sex)),
)
def test_egfr_falls_as_creatinine_rises(a: float, b: float, age: int, sex: Sex) -> None:
    low, high = sorted((a, b))
    assert egfr_ckd_epi_2021(low, age, sex) >= egfr_ckd_epi_2021(high, age, sex)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda: egfr_ckd_epi_2021(5, 40, Sex.MALE),
            "creatinine \\(umol/L\\): expected a number from 10 to 3000, got 5",
        ),
        (lambda: egfr_ckd_epi_2021(80, 17, Sex.MALE), "age for eGFR \\(years\\).*got 17"),
        (lambda: egfr_ckd_epi_2021(80, 40, "M"), "sex for eGFR: expected female or male, got 'M'"),
        (lambda: egfr_ckd_epi_2021(float("nan"), 40, Sex.MALE), "got nan"),
        (lambda: Creatinine(True), "creatinine"),
        (lambda: BloodPressure(400, 80), "systolic blood pressure \\(mmHg\\).*got 400"),
        (lambda: BloodPressure(120, 10), "diastolic blood pressure \\(mmHg\\).*got 10"),
        (lambda: BloodPressure(80, 120), "diastolic below the systolic pressure, got '80/120'"),
        (lambda: AlbuminCreatinineRatio(-1), "albumin:creatinine ratio \\(mg/mmol\\).*got -1"),
        (lambda: BodyWeight(12), "weight \\(kg\\).*got 12"),
        (lambda: BodyWeight(70, 1.75), "height \\(cm\\).*got 1.75"),  # metres typed as cm
        (lambda: Complication("IIIa", "bleed"), "Clavien-Dindo grade: expected one of I, II, IIIa"),  # type: ignore[arg-type]
        (lambda: Complication(ClavienDindo.I, " "), "complication description"),
        (
            lambda: Measurement(DonorId("d1"), date(2026, 1, 1), 120, "u1"),  # type: ignore[arg-type]
            "observation: expected a creatinine",
        ),
        (lambda: DonorProfile(DonorId("d1"), date(1980, 1, 1), "female"), "donor d1 sex"),  # type: ignore[arg-type]
    ],
)
def test_implausible_values_name_field_and_value(call: Callable[[], object], message: str) -> None:
    with pytest.raises(MeasurementError, match=message) as info:
        call()
    assert isinstance(info.value, ValueError)


def test_bmi_and_grades() -> None:
    assert BodyWeight(81, 180).bmi == pytest.approx(25.0)
    assert BodyWeight(81).bmi is None
    assert [g.rank for g in ClavienDindo] == list(range(1, 8))
    assert ClavienDindo("IIIb") is ClavienDindo.IIIB


@pytest.mark.parametrize(
    ("born", "day", "age"),
    [
        (date(1980, 6, 15), date(2026, 6, 14), 45),
        (date(1980, 6, 15), date(2026, 6, 15), 46),
        (date(1980, 2, 29), date(2026, 2, 28), 45),
        (date(1980, 2, 29), date(2026, 3, 1), 46),
    ],
)
def test_age_in_completed_years(born: date, day: date, age: int) -> None:
    assert age_on(born, day) == age


PROFILE = DonorProfile(DonorId("d1"), date(1976, 5, 20), Sex.FEMALE)


def creatinine(day: date, umol: float, donor: str = "d1") -> Measurement:
    return Measurement(DonorId(donor), day, Creatinine(umol), "u1")


def test_egfr_readings_use_age_on_the_day_and_skip_other_observations() -> None:
    ms = [
        creatinine(date(2026, 5, 21), 88.4),  # age 50
        Measurement(DonorId("d1"), date(2026, 1, 1), BloodPressure(120, 80), "u1"),
        creatinine(date(2026, 5, 19), 88.4),  # age 49, listed later, sorted first
    ]
    readings = egfr_readings(PROFILE, ms)
    assert [r.taken_on for r in readings] == [date(2026, 5, 19), date(2026, 5, 21)]
    assert round(readings[1].egfr, 1) == 68.6
    assert readings[0].egfr == pytest.approx(readings[1].egfr / 0.9938)
    with pytest.raises(MeasurementError, match="measurement donor id: expected donor d1"):
        egfr_readings(PROFILE, [creatinine(date(2026, 1, 1), 80, donor="d2")])


DONATED = date(2024, 1, 10)


def readings(*pairs: tuple[int, float]) -> list[EgfrReading]:
    return [EgfrReading(DONATED + timedelta(days=d), 80.0, e) for d, e in pairs]


def test_trend_ignores_the_settling_months_and_needs_a_span() -> None:
    # The fall at nephrectomy (90 -> 60) is not a falling trend.
    trend = egfr_trend(readings((-30, 90), (5, 58), (100, 61), (460, 62)), donated_on=DONATED)
    assert trend.direction is TrendDirection.STABLE
    assert trend.slope_per_year == pytest.approx(1 / (360 / 365.25))
    assert trend.latest is not None and trend.latest.egfr == 62
    short = egfr_trend(readings((100, 61), (200, 40)), donated_on=DONATED)
    assert short.direction is TrendDirection.UNKNOWN and short.slope_per_year is None
    assert egfr_trend([], donated_on=None).latest is None


def test_trend_directions() -> None:
    falling = egfr_trend(readings((100, 60), (465, 54), (830, 47)), donated_on=DONATED)
    assert falling.direction is TrendDirection.FALLING
    assert falling.slope_per_year == pytest.approx(-6.5, abs=0.01)
    rising = egfr_trend(readings((100, 50), (465, 60)), donated_on=DONATED)
    assert rising.direction is TrendDirection.RISING
