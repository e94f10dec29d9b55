"""Explanations of a stored matching run: why a patient was (not) matched, what-if re-runs."""

from __future__ import annotations

from pydantic import Field

from kidneyshare.matching.explain import Reason
from kidneyshare.service.schemas.common import Schema
from kidneyshare.service.schemas.runs import PersonRef, RunExchange

__all__ = [
    "ExplanationPublic",
    "LevelComparison",
    "WhatIfAlone",
    "WhatIfLevel",
    "WhatIfPublic",
]


class LevelComparison(Schema):
    """One objective level: the run's value, that of the best plan including the patient,
    and how much worse that is (``drop``, positive when worse)."""

    level: str
    run: float
    with_patient: float
    drop: float


class WhatIfLevel(Schema):
    level: str
    before: float
    after: float


class WhatIfAlone(Schema):
    """One change of a combination, re-run by itself."""

    change: str
    matched_after: bool | None


class WhatIfPublic(Schema):
    """The run solved again with one change, or with several together (``changes``);
    ``matched_before``/``matched_after`` are ``null`` when the patient was not in the
    run's pool."""

    change: str
    changes: list[str] = Field(
        description="The changes applied together in this re-run (one unless combined)."
    )
    matched_before: bool | None
    matched_after: bool | None
    transplants_before: int
    transplants_after: int
    levels: list[WhatIfLevel]
    newly_matched: list[PersonRef]
    no_longer_matched: list[PersonRef]
    alone: list[WhatIfAlone] | None = Field(
        default=None,
        description="For a combination that matches the patient: each change by itself "
        "and whether it alone would match them (null otherwise).",
    )
    sentence: str


class ExplanationPublic(Schema):
    """Why the patient was (not) matched in the run's own result. People the caller may
    not identify appear by pseudonym and centre, in the sentences too."""

    run_id: int
    patient: PersonRef
    in_snapshot: bool = Field(description="Whether the patient was in the run's pool.")
    reason: Reason
    sentence: str
    exchange: RunExchange | None = Field(
        default=None, description="The patient's exchange in the run (when matched)."
    )
    alternative: RunExchange | None = Field(
        default=None, description="Their exchange in the best plan found that includes them."
    )
    competing: list[RunExchange] = Field(
        default_factory=list, description="The run's exchanges the alternative would break."
    )
    levels: list[LevelComparison] = Field(default_factory=list)
    decisive_level: str | None = None
    shortest_cycle: int | None = Field(default=None, description="Fewest pairs in a cycle.")
    shortest_chain: int | None = Field(default=None, description="Fewest donations in a chain.")
    method: str
    exact: bool
    what_if: list[WhatIfPublic] = Field(default_factory=list)
    notes: list[str] = Field(
        default_factory=list,
        description="What the what-if re-runs could not judge (an antibody titre not "
        "recorded, a new donor without HLA typing), each led by the change's label.",
    )
