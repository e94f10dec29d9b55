"""The care package's public API is pinned, documented and free of I/O layers."""

from __future__ import annotations

import importlib
import subprocess
import sys

import kidneyshare.care as care

MODULES = [
    "alerts",
    "caseload",
    "eligibility",
    "errors",
    "measurements",
    "pathway",
    "policy",
    "record",
    "schedule",
    "thresholds",
]


def test_the_public_api_is_pinned() -> None:
    assert sorted(care.__all__) == [
        "AlbuminCreatinineRatio",
        "Alert",
        "AlertKind",
        "AlertThresholds",
        "BUNDLED_CARE_POLICIES",
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
        "TRANSITIONS",
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
    assert all(hasattr(care, name) for name in care.__all__)


def test_every_module_declares_all_and_documents_its_public_names() -> None:
    for name in MODULES:
        module = importlib.import_module(f"kidneyshare.care.{name}")
        assert module.__doc__, name
        for public in module.__all__:
            value = getattr(module, public)
            if callable(value) and not isinstance(value, type(care.EpisodeEvent)):
                assert getattr(value, "__doc__", None), f"{name}.{public}"


def test_care_imports_no_database_web_or_solver_library() -> None:
    code = (
        "import sys, kidneyshare.care; "
        "bad = [m for m in ('sqlalchemy', 'fastapi', 'highspy', 'kidneyshare.registry', "
        "'kidneyshare.service', 'kidneyshare.matching') if m in sys.modules]; print(bad)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
