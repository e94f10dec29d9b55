"""Why a patient was (not) selected in a stored matching run, and what-if re-runs of it.

Everything is rebuilt from what the registry stored with the run, never from the pool as
it stands now: the snapshot (checked against its SHA-256, as a restarted run checks it),
the solver arguments the run was solved with (from its policy file), and the run's own
result. :mod:`kidneyshare.matching.explain` does the explaining; nothing is re-solved
except the forced solves and re-runs it makes itself.

The run's own result is explained, not a later plan version: a repaired plan is
re-optimised around failures on a reduced pool, so comparing it with the full snapshot's
optimum would call every repair "not optimal" (``run-not-optimal``).

What-if re-runs: longer cycles or chains (:class:`RelaxLimits`); ABO-incompatible
transplants accepted up to an antibody titre and a hypothetical new donor, both judged
from the clinical facts in force when the run was made (:mod:`.what_if_run`); and, from
the library, any :data:`~kidneyshare.matching.explain.Change`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from kidneyshare.formats import parse_native
from kidneyshare.matching import Result, SolverConfig
from kidneyshare.matching.explain import (
    Change,
    Explanation,
    RelaxLimits,
    WhatIf,
    explain,
    what_if,
)
from kidneyshare.model import Instance
from kidneyshare.registry.errors import RecordConflict
from kidneyshare.registry.keys import patient_key
from kidneyshare.registry.models import MatchingRun
from kidneyshare.registry.pool import get_patient
from kidneyshare.registry.runs import get_run, snapshot_digest, solver_config
from kidneyshare.registry.vocabulary import RunStatus
from kidneyshare.workflows.recourse import stored_result
from kidneyshare.workflows.what_if_run import JudgedChange, NewDonor, RunFacts

__all__ = ["NewDonor", "RunExplanation", "StoredRun", "explain_run", "stored_run"]


@dataclass(frozen=True, slots=True)
class StoredRun:
    """A succeeded run as the matching engine sees it."""

    run_id: int
    instance: Instance
    config: SolverConfig
    result: Result


@dataclass(frozen=True, slots=True)
class RunExplanation:
    """What :func:`explain_run` returns. Ids inside ``explanation`` and ``what_if`` are
    the snapshot's (``P<patient id>``, ``D<donor id>``); ``in_snapshot`` is false for a
    registered patient who was not in the run's pool (reason ``not-in-pool``). ``notes``
    say what the what-if re-runs could not judge (each starts with the change's label)."""

    run_id: int
    patient_id: int
    in_snapshot: bool
    explanation: Explanation
    what_if: tuple[WhatIf, ...] = ()
    notes: tuple[str, ...] = ()

    def record(self) -> dict[str, Any]:
        """The explanation as JSON, people by snapshot ids: what the registry keeps
        (:mod:`kidneyshare.registry.explanations`) and what
        :func:`~kidneyshare.workflows.disclosure.explanation_document` shows a caller.
        Each re-run keeps its change, the patient's match before and after, each level,
        the transplants, who gains or loses a match and its sentence (not its plan)."""
        return {
            "run_id": self.run_id,
            "patient_id": self.patient_id,
            "in_snapshot": self.in_snapshot,
            "explanation": self.explanation.to_json(),
            "what_if": [
                {
                    "change": w.change,
                    "matched_before": w.matched_before,
                    "matched_after": w.matched_after,
                    "transplants_before": w.before.transplants,
                    "transplants_after": w.after.transplants,
                    "levels": [
                        {"level": c.level, "before": c.run, "after": c.with_patient}
                        for c in w.levels
                    ],
                    "newly_matched": list(w.newly_matched),
                    "no_longer_matched": list(w.no_longer_matched),
                    "sentence": w.sentence(),
                }
                for w in self.what_if
            ],
            "notes": list(self.notes),
        }


def stored_run(run: MatchingRun) -> StoredRun:
    """The run's snapshot, configuration and result, as stored.

    Raises
    ------
    RecordConflict
        the run has not succeeded (there is no result to explain), or its stored
        snapshot fails its hash.
    """
    if run.status is not RunStatus.SUCCEEDED or run.result is None:
        raise RecordConflict(
            f"matching run {run.id} is {run.status.value}; only a succeeded run can be explained"
        )
    if snapshot_digest(run.snapshot) != run.snapshot_sha256:
        raise RecordConflict(f"matching run {run.id}: the stored snapshot fails its hash")
    config = solver_config(run.config)
    instance = parse_native(run.snapshot, f"run {run.id} snapshot")
    return StoredRun(run.id, instance, config, stored_result(config, run.result))


def explain_run(
    session: Session,
    run_id: int,
    patient_id: int,
    *,
    max_cycle: int | None = None,
    max_chain: int | None = None,
    abo_incompatible_titre_max: int | None = None,
    new_donor: NewDonor | None = None,
    changes: Sequence[Change] = (),
) -> RunExplanation:
    """Why the registry patient ``patient_id`` was (not) matched in run ``run_id``, with
    a what-if re-run for longer limits (``max_cycle``/``max_chain``), one for
    ABO-incompatible transplants (``abo_incompatible_titre_max``), one with a
    hypothetical donor (``new_donor``) and one per ``changes``.

    Raises
    ------
    RecordNotFound
        no such run, or no such patient in the registry.
    RecordConflict
        the run has not succeeded; a re-run needing clinical facts when those recorded
        by the run's time do not give its snapshot (:mod:`.what_if_run`).
    RecordInvalid
        a new donor's field cannot be read, or a paired donor for a patient who was not
        in the run's pool.
    ConfigError
        a relaxed limit the solver refuses.
    """
    run = get_run(session, run_id)
    get_patient(session, patient_id)
    stored = stored_run(run)
    key = patient_key(patient_id)
    in_snapshot = key in stored.instance.patient_index
    asked = key if in_snapshot else None
    requested: list[JudgedChange] = []
    if max_cycle is not None or max_chain is not None:
        requested.append(JudgedChange(RelaxLimits(max_cycle, max_chain)))
    facts = RunFacts(session, run, stored.instance)
    if abo_incompatible_titre_max is not None:
        requested.append(facts.abo_incompatible(abo_incompatible_titre_max, asked))
    if new_donor is not None:
        requested.append(facts.new_donor(new_donor, asked))
    requested += (JudgedChange(c) for c in changes)
    explanation = explain(stored.instance, stored.config, stored.result, key)
    re_runs = tuple(
        what_if(stored.instance, stored.config, c.change, patient_id=asked, before=stored.result)
        for c in requested
    )
    notes = tuple(n for c in requested for n in c.notes)
    return RunExplanation(run.id, patient_id, in_snapshot, explanation, re_runs, notes)
