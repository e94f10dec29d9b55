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
the library, any :data:`~kidneyshare.matching.explain.Change`. Each is re-run alone, or
all together in one re-run (``combine``: a
:class:`~kidneyshare.matching.explain.Combination`), which then says which change alone
would also match the patient.

Reading and solving are split (:func:`prepare_explanation`, then
:meth:`PreparedExplanation.solve`) so that a caller can end its database transaction
before the solves: on SQLite an open transaction holds the write lock.
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
    Combination,
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

__all__ = [
    "NewDonor",
    "PreparedExplanation",
    "Question",
    "RunExplanation",
    "StoredRun",
    "explain_run",
    "prepare_explanation",
    "stored_run",
]


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
    say what the what-if re-runs could not judge (each starts with the change's label).

    A combined question has one re-run in ``what_if``, with every change of ``combined``
    (their labels) applied together; when it matches the patient, ``alone`` has the
    re-run of each change by itself (in the same order), saying which alone would do."""

    run_id: int
    patient_id: int
    in_snapshot: bool
    explanation: Explanation
    what_if: tuple[WhatIf, ...] = ()
    notes: tuple[str, ...] = ()
    combined: tuple[str, ...] = ()
    alone: tuple[WhatIf, ...] = ()

    def record(self) -> dict[str, Any]:
        """The explanation as JSON, people by snapshot ids: what the registry keeps
        (:mod:`kidneyshare.registry.explanations`) and what
        :func:`~kidneyshare.workflows.disclosure.explanation_document` shows a caller.
        Each re-run keeps its change (``changes``: the labels of what it combines), the
        patient's match before and after, each level, the transplants, who gains or loses
        a match and its sentence (not its plan); a combined re-run that matches the
        patient also ``alone``: each change by itself and whether it matches them."""
        return {
            "run_id": self.run_id,
            "patient_id": self.patient_id,
            "in_snapshot": self.in_snapshot,
            "explanation": self.explanation.to_json(),
            "what_if": [self._re_run(w) for w in self.what_if],
            "notes": list(self.notes),
        }

    def _re_run(self, w: WhatIf) -> dict[str, Any]:
        alone = None
        sentence = w.sentence()
        if self.combined:
            alone = [{"change": a.change, "matched_after": a.matched_after} for a in self.alone]
            sentence += _alone_sentence(self.alone, w.patient)
        return {
            "change": w.change,
            "changes": list(self.combined) if self.combined else [w.change],
            "matched_before": w.matched_before,
            "matched_after": w.matched_after,
            "transplants_before": w.before.transplants,
            "transplants_after": w.after.transplants,
            "levels": [
                {"level": c.level, "before": c.run, "after": c.with_patient} for c in w.levels
            ],
            "newly_matched": list(w.newly_matched),
            "no_longer_matched": list(w.no_longer_matched),
            "alone": alone if self.alone else None,
            "sentence": sentence,
        }


def _alone_sentence(alone: Sequence[WhatIf], patient: str | None) -> str:
    """Which of a combination's changes would match ``patient`` by themselves."""
    if not alone or patient is None:
        return ""
    enough = [a.change for a in alone if a.matched_after]
    if not enough:
        return f" No change alone would match patient {patient}: it takes the combination."
    return f" Alone, {' or '.join(enough)} would also match patient {patient}."


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


@dataclass(frozen=True, slots=True)
class Question:
    """The what-if re-runs asked for with an explanation (none: the explanation alone),
    as :func:`explain_run` takes them: ``changes`` are library changes, ``combine`` asks
    for one re-run with every change together."""

    max_cycle: int | None = None
    max_chain: int | None = None
    abo_incompatible_titre_max: int | None = None
    new_donor: NewDonor | None = None
    changes: tuple[Change, ...] = ()
    combine: bool = False

    @property
    def count(self) -> int:
        """How many changes the question asks about (limits count as one)."""
        return (
            (self.max_cycle is not None or self.max_chain is not None)
            + (self.abo_incompatible_titre_max is not None)
            + (self.new_donor is not None)
            + len(self.changes)
        )


@dataclass(frozen=True, slots=True)
class PreparedExplanation:
    """Everything :func:`explain_run` reads from the registry for one question; solving
    it (:meth:`solve`) needs no database, so a caller can end its transaction first."""

    stored: StoredRun
    patient_id: int
    in_snapshot: bool
    singles: tuple[JudgedChange, ...]
    combined: tuple[JudgedChange, ...] = ()

    def solve(self) -> RunExplanation:
        """The explanation and the re-runs: one solve per single change, or one for the
        combination and, when it matches the patient, one per part to say which alone
        would."""
        stored = self.stored
        key = patient_key(self.patient_id)
        asked = key if self.in_snapshot else None
        explanation = explain(stored.instance, stored.config, stored.result, key)

        def rerun(change: Change | Combination) -> WhatIf:
            return what_if(
                stored.instance, stored.config, change, patient_id=asked, before=stored.result
            )

        if not self.combined:
            re_runs = tuple(rerun(c.change) for c in self.singles)
            notes = tuple(n for c in self.singles for n in c.notes)
            return RunExplanation(
                stored.run_id, self.patient_id, self.in_snapshot, explanation, re_runs, notes
            )
        both = rerun(Combination(tuple(c.change for c in self.combined)))
        alone: tuple[WhatIf, ...] = ()
        if both.matched_after and not both.matched_before:
            alone = tuple(rerun(c.change) for c in self.singles)
        # a note said by a part alone and together is said once
        notes = tuple(dict.fromkeys(n for c in (*self.combined, *self.singles) for n in c.notes))
        return RunExplanation(
            stored.run_id,
            self.patient_id,
            self.in_snapshot,
            explanation,
            (both,),
            notes,
            combined=tuple(c.change.describe() for c in self.combined),
            alone=alone,
        )


def prepare_explanation(
    session: Session, run_id: int, patient_id: int, question: Question
) -> PreparedExplanation:
    """What :func:`explain_run` reads from the registry to answer ``question`` (its
    errors, but for ConfigError and InstanceError from a re-run, raised when solving)."""
    q = question
    run = get_run(session, run_id)
    get_patient(session, patient_id)
    stored = stored_run(run)
    key = patient_key(patient_id)
    in_snapshot = key in stored.instance.patient_index
    asked = key if in_snapshot else None
    singles: list[JudgedChange] = []
    if q.max_cycle is not None or q.max_chain is not None:
        singles.append(JudgedChange(RelaxLimits(q.max_cycle, q.max_chain)))
    facts = RunFacts(session, run, stored.instance)
    titre = q.abo_incompatible_titre_max
    if titre is not None:
        singles.append(facts.abo_incompatible(titre, asked))
    together = list(singles)
    if q.new_donor is not None:
        singles.append(facts.new_donor(q.new_donor, asked))
        # together with ABO-incompatible transplants, the new donor's are accepted too
        together.append(
            facts.new_donor(q.new_donor, asked, titre)
            if q.combine and titre is not None
            else singles[-1]
        )
    singles += (JudgedChange(c) for c in q.changes)
    together += (JudgedChange(c) for c in q.changes)
    combined = tuple(together) if q.combine and len(together) > 1 else ()
    return PreparedExplanation(stored, patient_id, in_snapshot, tuple(singles), combined)


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
    combine: bool = False,
) -> RunExplanation:
    """Why the registry patient ``patient_id`` was (not) matched in run ``run_id``, with
    a what-if re-run for longer limits (``max_cycle``/``max_chain``), one for
    ABO-incompatible transplants (``abo_incompatible_titre_max``), one with a
    hypothetical donor (``new_donor``) and one per library change (``changes``); with
    ``combine``, one re-run with all of them together instead (and, when that matches the
    patient, one per change alone: :attr:`RunExplanation.alone`).

    Computed every time, and never kept: the registry's kept explanations are
    :func:`kidneyshare.workflows.kept_explanation.explanation_of` (which takes the same
    question, ``changes`` included, and computes it once). This is the computation
    behind it, for a caller who wants the re-runs' plans and pools (a kept explanation
    keeps their JSON record only).

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
        a relaxed limit the solver refuses, or combined changes relaxing one limit to two
        values.
    """
    question = Question(
        max_cycle, max_chain, abo_incompatible_titre_max, new_donor, tuple(changes), combine
    )
    return prepare_explanation(session, run_id, patient_id, question).solve()
