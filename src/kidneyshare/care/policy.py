"""A scheme's care policy as one versioned TOML file: follow-up visits and alert limits.

A care policy file (``policies/care-nhsbt.toml`` is the UK one)::

    [policy]
    name = "care-nhsbt"
    version = "2026.1"
    description = "..."
    references = ["..."]

    [[visit]]                    # fixed visits, in due-date order
    label = "2 weeks"
    weeks = 2                    # offset from surgery: any of days, weeks, months
    early_days = 4               # tolerance window around the due date
    late_days = 7

    [lifelong]                   # optional: then a visit every every_months for life
    every_months = 12
    from_months = 24
    early_days = 30
    late_days = 60

    [alerts]                     # optional: any field of AlertThresholds
    egfr_high_below = 30

Every key is checked (by pydantic): an unknown key, a missing one or a value of the
wrong kind is a :class:`~kidneyshare.errors.FormatError` naming the file and the key.
``[policy]`` carries a name and a version so that an episode records which rules it
followed.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from kidneyshare.care.measurements import ClavienDindo
from kidneyshare.care.schedule import LifelongRule, Schedule, VisitRule
from kidneyshare.care.thresholds import AlertThresholds
from kidneyshare.errors import ConfigError, FormatError

__all__ = ["BUNDLED_CARE_POLICIES", "CarePolicy", "load_care_policy", "parse_care_policy"]

BUNDLED_CARE_POLICIES = ("care-nhsbt", "care-optn")
"""Care policies shipped with kidneyshare (``policies/<name>.toml``), loadable by name."""


@dataclass(frozen=True, slots=True)
class CarePolicy:
    """A named, versioned follow-up schedule with the limits its alerts use."""

    name: str
    version: str
    schedule: Schedule
    thresholds: AlertThresholds = field(default_factory=AlertThresholds)
    description: str = ""
    references: tuple[str, ...] = ()
    source: str = ""


Text = Annotated[str, Field(min_length=1, pattern=r"\S")]
Count = Annotated[int, Field(ge=0, le=1200)]


class _Table(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class _Head(_Table):
    name: Text
    version: Text
    description: str = ""
    references: list[str] = []


class _Visit(_Table):
    label: Text
    days: Count = 0
    weeks: Count = 0
    months: Count = 0
    early_days: Count = 0
    late_days: Count = 0


class _Lifelong(_Table):
    every_months: Annotated[int, Field(ge=1, le=120)]
    from_months: Annotated[int, Field(ge=1, le=1200)]
    early_days: Count = 0
    late_days: Count = 0


class _Alerts(_Table):
    egfr_warning_below: float | None = None
    egfr_high_below: float | None = None
    egfr_decline_per_year: float | None = None
    acr_warning_from: float | None = None
    acr_high_from: float | None = None
    systolic_hypertension: int | None = None
    diastolic_hypertension: int | None = None
    systolic_severe: int | None = None
    diastolic_severe: int | None = None
    complication_grade_from: str | None = None
    complication_recent_days: int | None = None
    visit_overdue_high_days: int | None = None


class _File(_Table):
    policy: _Head
    visit: Annotated[list[_Visit], Field(min_length=1)]
    lifelong: _Lifelong | None = None
    alerts: _Alerts = _Alerts()


# Visits are checked to be in order by their due dates after this (arbitrary) donation.
_REFERENCE_DONATION = date(2001, 1, 1)


def parse_care_policy(text: str, source: str = "<care policy>") -> CarePolicy:
    """Read a care policy from TOML text; ``source`` names it in error messages.

    Raises
    ------
    FormatError
        Not TOML, an unknown/missing key or a wrong value, visits out of order, or
        inconsistent alert limits; the message names ``source`` and the key.
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise FormatError(f"not valid TOML: {exc}", source=source) from None
    try:
        document = _File.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"])
        raise FormatError(error["msg"], source=source, location=where) from None
    visits = tuple(
        VisitRule(v.label, v.months, v.days + 7 * v.weeks, v.early_days, v.late_days)
        for v in document.visit
    )
    lifelong = None
    if document.lifelong is not None:
        life = document.lifelong
        lifelong = LifelongRule(
            life.every_months, life.from_months, life.early_days, life.late_days
        )
    _check_order(visits, lifelong, source)
    limits: dict[str, Any] = {
        k: v for k, v in document.alerts.model_dump().items() if v is not None
    }
    grade = document.alerts.complication_grade_from
    if grade is not None:
        try:
            limits["complication_grade_from"] = ClavienDindo(grade)
        except ValueError:
            grades = ", ".join(g.value for g in ClavienDindo)
            raise FormatError(
                f"expected a Clavien-Dindo grade ({grades}), got {grade!r}",
                source=source,
                location="alerts.complication_grade_from",
            ) from None
    try:
        thresholds = AlertThresholds(**limits)
    except ConfigError as exc:
        raise FormatError(str(exc), source=source, location="alerts") from None
    return CarePolicy(
        name=document.policy.name,
        version=document.policy.version,
        schedule=Schedule(visits, lifelong),
        thresholds=thresholds,
        description=document.policy.description,
        references=tuple(document.policy.references),
        source=source,
    )


def _check_order(visits: tuple[VisitRule, ...], lifelong: LifelongRule | None, source: str) -> None:
    previous: date | None = None
    for index, rule in enumerate(visits):
        due = rule.due(_REFERENCE_DONATION)
        if due == _REFERENCE_DONATION:
            raise FormatError(
                "a visit needs days, weeks or months after surgery",
                source=source,
                location=f"visit.{index}",
            )
        if previous is not None and due <= previous:
            raise FormatError(
                f"visit {rule.label!r} is due no later than the visit before it; list visits "
                "in due-date order",
                source=source,
                location=f"visit.{index}",
            )
        previous = due
    if lifelong is not None and previous is not None:
        first = VisitRule("", months=lifelong.from_months).due(_REFERENCE_DONATION)
        if first <= previous:
            raise FormatError(
                "the first lifelong visit must come after the last fixed visit",
                source=source,
                location="lifelong.from_months",
            )


def load_care_policy(name_or_path: str | Path) -> CarePolicy:
    """A bundled care policy by name (:data:`BUNDLED_CARE_POLICIES`) or a file by path.

    Raises
    ------
    ConfigError
        No such file and no bundled policy of that name.
    FormatError
        The file is not a valid care policy.
    """
    if isinstance(name_or_path, str) and name_or_path in BUNDLED_CARE_POLICIES:
        resource = resources.files("kidneyshare") / "policies" / f"{name_or_path}.toml"
        return parse_care_policy(
            resource.read_text(encoding="utf-8"), f"policies/{name_or_path}.toml"
        )
    path = Path(name_or_path)
    try:
        text = path.read_text(encoding="utf-8")
    except (FileNotFoundError, IsADirectoryError):
        bundled = ", ".join(BUNDLED_CARE_POLICIES)
        raise ConfigError(
            f"care policy: no file {str(path)!r} and no bundled care policy of that name "
            f"({bundled})"
        ) from None
    except UnicodeDecodeError:
        raise FormatError("not UTF-8 text", source=str(path)) from None
    return parse_care_policy(text, str(path))
