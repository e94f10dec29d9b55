"""Donor care: every donor selected for a transplant is followed through a care episode.

Pure library, no I/O: the registry stores the append-only inputs (episode events,
follow-up visits, measurements) and this package computes everything else from them.

- :mod:`~kidneyshare.care.pathway`: the stages of an episode as a state machine; an
  episode is the fold of its events (:func:`replay`).
- :mod:`~kidneyshare.care.eligibility`: :func:`may_enter_pool` (a donor who has donated
  never enters a pool again).
- :mod:`~kidneyshare.care.schedule` and :mod:`~kidneyshare.care.policy`: follow-up
  visits from a scheme's care policy (``policies/care-nhsbt.toml``, ``care-optn.toml``).
- :mod:`~kidneyshare.care.measurements`: validated observations; CKD-EPI 2021 eGFR.
- :mod:`~kidneyshare.care.alerts` and :mod:`~kidneyshare.care.caseload`: what each
  coordinator should act on, most urgent first.

docs/care.md describes the whole.
"""

from kidneyshare.care.alerts import Alert, AlertKind, Severity, donor_alerts
from kidneyshare.care.caseload import CaseloadEntry, caseload
from kidneyshare.care.eligibility import DonorHistory, PoolEligibility, may_enter_pool
from kidneyshare.care.errors import CareError, EventLogError, MeasurementError, TransitionError
from kidneyshare.care.measurements import (
    AlbuminCreatinineRatio,
    BloodPressure,
    BodyWeight,
    ClavienDindo,
    Complication,
    Creatinine,
    DonorProfile,
    EgfrReading,
    EgfrTrend,
    Measurement,
    Observation,
    Sex,
    TrendDirection,
    egfr_ckd_epi_2021,
    egfr_readings,
    egfr_trend,
)
from kidneyshare.care.pathway import (
    TRANSITIONS,
    CareEpisode,
    CoordinatorAssigned,
    CoordinatorId,
    EpisodeEvent,
    EpisodeId,
    EpisodeOpened,
    Stage,
    StageChanged,
    apply,
    change_stage,
    replay,
)
from kidneyshare.care.policy import (
    BUNDLED_CARE_POLICIES,
    CarePolicy,
    load_care_policy,
    parse_care_policy,
)
from kidneyshare.care.record import CareRecord
from kidneyshare.care.schedule import (
    LifelongRule,
    Schedule,
    ScheduledVisit,
    VisitRule,
    VisitState,
    VisitStatus,
    scheduled_visits,
    track_visits,
)
from kidneyshare.care.thresholds import AlertThresholds

__all__ = [
    "BUNDLED_CARE_POLICIES",
    "TRANSITIONS",
    "AlbuminCreatinineRatio",
    "Alert",
    "AlertKind",
    "AlertThresholds",
    "BloodPressure",
    "BodyWeight",
    "CareEpisode",
    "CareError",
    "CarePolicy",
    "CareRecord",
    "CaseloadEntry",
    "ClavienDindo",
    "Complication",
    "CoordinatorAssigned",
    "CoordinatorId",
    "Creatinine",
    "DonorHistory",
    "DonorProfile",
    "EgfrReading",
    "EgfrTrend",
    "EpisodeEvent",
    "EpisodeId",
    "EpisodeOpened",
    "EventLogError",
    "LifelongRule",
    "Measurement",
    "MeasurementError",
    "Observation",
    "PoolEligibility",
    "Schedule",
    "ScheduledVisit",
    "Severity",
    "Sex",
    "Stage",
    "StageChanged",
    "TransitionError",
    "TrendDirection",
    "VisitRule",
    "VisitState",
    "VisitStatus",
    "apply",
    "caseload",
    "change_stage",
    "donor_alerts",
    "egfr_ckd_epi_2021",
    "egfr_readings",
    "egfr_trend",
    "load_care_policy",
    "may_enter_pool",
    "parse_care_policy",
    "replay",
    "scheduled_visits",
    "track_visits",
]
