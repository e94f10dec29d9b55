"""Why a patient was (not) selected in a stored matching run, and what-if re-runs of it.

Everything is rebuilt from what the registry stored with the run, never from the pool as
it stands now: the snapshot (checked against its SHA-256, as a restarted run checks it),
the solver arguments the run was solved with (from its policy file), and the run's own
result. :mod:`kidneyshare.matching.explain` does the explaining; nothing is re-solved
except the forced solves and re-runs it makes itself.

The run's own result is explained, not a later plan version: a repaired plan is
re-optimised around failures on a reduced pool, so comparing it with the full snapshot's
optimum would call every repair "not optimal" (``run-not-optimal``).

What-if re-runs: longer cycles or chains (:class:`RelaxLimits`), ABO-incompatible
transplants accepted up to an antibody titre (:func:`abo_incompatible_arcs`), and, from
the library, any :data:`~kidneyshare.matching.explain.Change` (a new donor with their
arcs, for example).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from kidneyshare.compatibility import CompatibilityPolicy
from kidneyshare.formats import dump_native, parse_native
from kidneyshare.matching import Result, SolverConfig
from kidneyshare.matching.explain import (
    AddArcs,
    Change,
    Explanation,
    RelaxLimits,
    WhatIf,
    accept_abo_incompatible,
    explain,
    what_if,
)
from kidneyshare.model import Instance
from kidneyshare.registry.errors import RecordConflict
from kidneyshare.registry.keys import patient_key
from kidneyshare.registry.models import MatchingRun
from kidneyshare.registry.pool import get_patient
from kidneyshare.registry.runs import get_run, snapshot_digest, solver_config
from kidneyshare.registry.snapshot import snapshot_pool
from kidneyshare.registry.vocabulary import RunStatus
from kidneyshare.workflows.recourse import stored_result

__all__ = ["RunExplanation", "StoredRun", "abo_incompatible_arcs", "explain_run", "stored_run"]


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
    registered patient who was not in the run's pool (reason ``not-in-pool``)."""

    run_id: int
    patient_id: int
    in_snapshot: bool
    explanation: Explanation
    what_if: tuple[WhatIf, ...] = ()


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


def abo_incompatible_arcs(
    session: Session, run: MatchingRun, instance: Instance, titre_max: int
) -> AddArcs:
    """The arcs the run's pool would gain if ABO-incompatible transplants were accepted
    when every antibody against the donor's A/B antigens has a titre at most ``titre_max``.

    The snapshot keeps blood groups but not HLA or titres, so the pool is judged again
    from the registry's facts, which is right only while they are the run's: the pool
    judged now under the plain rules must give the run's very snapshot (same hash), else
    the facts or members changed since (or the run used other compatibility rules).

    Raises
    ------
    RecordConflict
        the pool is no longer the run's.
    ConfigError
        ``titre_max`` is not a whole number >= 0.
    """
    wider_policy = CompatibilityPolicy(abo_incompatible_titre_max=titre_max)
    now = snapshot_pool(session, instance.name, CompatibilityPolicy()).instance
    if now is None or snapshot_digest(dump_native(now)) != run.snapshot_sha256:
        raise RecordConflict(
            f"matching run {run.id}: the pool or its clinical facts have changed since the "
            "run, so an ABO-incompatible re-run cannot be judged on the run's pool"
        )
    wider = snapshot_pool(session, instance.name, wider_policy).instance
    assert wider is not None  # the same members as ``now``
    return accept_abo_incompatible(instance, wider)


def explain_run(
    session: Session,
    run_id: int,
    patient_id: int,
    *,
    max_cycle: int | None = None,
    max_chain: int | None = None,
    abo_incompatible_titre_max: int | None = None,
    changes: Sequence[Change] = (),
) -> RunExplanation:
    """Why the registry patient ``patient_id`` was (not) matched in run ``run_id``, with
    a what-if re-run for longer limits (``max_cycle``/``max_chain``), one for
    ABO-incompatible transplants (``abo_incompatible_titre_max``) and one per ``changes``.

    Raises
    ------
    RecordNotFound
        no such run, or no such patient in the registry.
    RecordConflict
        the run has not succeeded; an ABO-incompatible re-run on a pool that changed.
    ConfigError
        a relaxed limit the solver refuses.
    """
    run = get_run(session, run_id)
    get_patient(session, patient_id)
    stored = stored_run(run)
    key = patient_key(patient_id)
    in_snapshot = key in stored.instance.patient_index
    requested: list[Change] = []
    if max_cycle is not None or max_chain is not None:
        requested.append(RelaxLimits(max_cycle, max_chain))
    if abo_incompatible_titre_max is not None:
        requested.append(
            abo_incompatible_arcs(session, run, stored.instance, abo_incompatible_titre_max)
        )
    requested += changes
    explanation = explain(stored.instance, stored.config, stored.result, key)
    re_runs = tuple(
        what_if(
            stored.instance,
            stored.config,
            change,
            patient_id=key if in_snapshot else None,
            before=stored.result,
        )
        for change in requested
    )
    return RunExplanation(run.id, patient_id, in_snapshot, explanation, re_runs)
