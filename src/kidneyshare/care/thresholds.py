"""The limits past which a donor's result or missed visit raises an alert, with sources.

The defaults follow published guidance; a scheme may set its own in the ``[alerts]``
table of its care policy file. Sources:

- eGFR: KDIGO 2012 Clinical Practice Guideline for the Evaluation and Management of CKD
  (Kidney Int Suppl 2013;3:1-150). GFR categories G3b (30-44) and G4 (15-29); Rec. 5.1.1
  refers people with GFR < 30 mL/min/1.73m2 to specialist kidney care; Rec. 2.1.4 calls
  a sustained decline of more than 5 mL/min/1.73m2 per year rapid progression. Many
  donors settle in G3a (45-59) after nephrectomy, so the warning starts at G3b.
- Albuminuria: the same guideline's categories A2 (ACR 3-30 mg/mmol) and A3 (> 30
  mg/mmol), and Rec. 5.1.1's referral at ACR >= 30 mg/mmol.
- Blood pressure: NICE NG136 (Hypertension in adults, 2019, updated 2023): clinic
  blood pressure >= 140/90 mmHg is hypertension to be confirmed; >= 180/120 mmHg is
  severe hypertension, for same-day assessment.
- Complications: Clavien-Dindo grade III or worse needs an intervention (Dindo et al.,
  Ann Surg 2004;240:205-213).
- Missed visits: a visit overdue by more than ``visit_overdue_high_days`` (default 90)
  is a donor at risk of being lost to follow-up (scheme choice).
"""

from __future__ import annotations

from dataclasses import dataclass

from kidneyshare.care.measurements import ClavienDindo
from kidneyshare.errors import ConfigError

__all__ = ["AlertThresholds"]


@dataclass(frozen=True, slots=True)
class AlertThresholds:
    """The limits the alerts use (defaults: see the module docstring for sources)."""

    egfr_warning_below: float = 45.0
    egfr_high_below: float = 30.0
    egfr_decline_per_year: float = 5.0
    acr_warning_from: float = 3.0
    acr_high_from: float = 30.0
    systolic_hypertension: int = 140
    diastolic_hypertension: int = 90
    systolic_severe: int = 180
    diastolic_severe: int = 120
    complication_grade_from: ClavienDindo = ClavienDindo.IIIA
    complication_recent_days: int = 90
    """A complication raises an alert for this many days after it was recorded."""
    visit_overdue_high_days: int = 90

    def __post_init__(self) -> None:
        pairs = [
            (
                "egfr_high_below",
                self.egfr_high_below,
                "egfr_warning_below",
                self.egfr_warning_below,
            ),
            ("acr_warning_from", self.acr_warning_from, "acr_high_from", self.acr_high_from),
            (
                "systolic_hypertension",
                self.systolic_hypertension,
                "systolic_severe",
                self.systolic_severe,
            ),
            (
                "diastolic_hypertension",
                self.diastolic_hypertension,
                "diastolic_severe",
                self.diastolic_severe,
            ),
        ]
        for low_name, low, high_name, high in pairs:
            if not 0 < low < high:
                raise ConfigError(
                    f"alert thresholds: expected 0 < {low_name} ({low}) < {high_name} ({high})"
                )
        for name in (
            "egfr_decline_per_year",
            "complication_recent_days",
            "visit_overdue_high_days",
        ):
            if not getattr(self, name) > 0:
                raise ConfigError(
                    f"alert thresholds: {name} must be positive, got {getattr(self, name)!r}"
                )
