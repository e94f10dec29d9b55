"""Matching runs: snapshot the pool, solve, verify, store the plan and its offers.

A run is created with its exact input (the pool in native JSON and its SHA-256) and its
configuration in one transaction. :func:`execute_run` then solves that stored text, never
the live pool, so a restarted run solves exactly what was snapshotted. The result, the
verifier's report, the offers and version 1 of the run's plan are written together in one
transaction at the end: a
process killed mid-run leaves the run ``running`` with no result and no offers, and
:func:`interrupt_unfinished` (at service start) marks it ``interrupted`` for a restart.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from kidneyshare.compatibility import CompatibilityPolicy
from kidneyshare.errors import ConfigError, KidneyshareError
from kidneyshare.formats import dump_native, parse_native
from kidneyshare.matching import AgeRule, Result, SolverConfig, solve, verify
from kidneyshare.registry.columns import utc_now
from kidneyshare.registry.errors import RecordConflict, RecordInvalid, RecordNotFound
from kidneyshare.registry.models import Donor, MatchingRun, Offer, Patient, PlanVersion
from kidneyshare.registry.paging import page
from kidneyshare.registry.snapshot import parse_donor_key, parse_patient_key, snapshot_pool
from kidneyshare.registry.unit_of_work import SYSTEM, UnitOfWork, row_state
from kidneyshare.registry.vocabulary import OfferStatus, RunStatus

__all__ = [
    "Progress",
    "create_run",
    "execute_run",
    "get_run",
    "interrupt_unfinished",
    "list_runs",
    "restart_run",
    "snapshot_digest",
    "solver_config",
]

Progress = Callable[[str, int], None]
"""Told each phase's name and a percentage as a run goes."""

_RESTARTABLE = frozenset({RunStatus.INTERRUPTED, RunStatus.FAILED})


def snapshot_digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def get_run(session: Session, run_id: int) -> MatchingRun:
    run = session.get(MatchingRun, run_id)
    if run is None:
        raise RecordNotFound(f"matching run {run_id} does not exist")
    return run


def list_runs(
    session: Session, *, status: RunStatus | None, limit: int, offset: int
) -> tuple[list[MatchingRun], int]:
    query = select(MatchingRun)
    if status is not None:
        query = query.where(MatchingRun.status == status)
    return page(session, query, [MatchingRun.id.desc()], limit, offset)


def solver_config(arguments: Mapping[str, Any]) -> SolverConfig:
    """The :class:`SolverConfig` built from JSON keyword ``arguments`` (as stored).

    Raises
    ------
    RecordInvalid
        naming the argument SolverConfig refused.
    """
    values = dict(arguments)
    try:
        if isinstance(values.get("age_rule"), Mapping):  # as a policy's JSON stores it
            values["age_rule"] = AgeRule(**values["age_rule"])
        return SolverConfig(**values)
    except TypeError as exc:  # an argument SolverConfig does not take
        raise RecordInvalid(str(exc), field="config") from exc
    except ConfigError as exc:
        raise RecordInvalid(str(exc), field="config") from exc


def create_run(
    uow: UnitOfWork,
    arguments: Mapping[str, Any],
    *,
    policy: Mapping[str, Any] | None = None,
    compatibility: CompatibilityPolicy | None = None,
) -> MatchingRun:
    """Snapshot the active pool and queue a run of it under ``SolverConfig(**arguments)``.

    ``arguments`` are stored as given (JSON values), so that the run rebuilds exactly
    the configuration that was asked for; the result stores the full configuration.
    ``policy`` records the policy file the arguments came from; ``compatibility`` the
    rules that judge arcs between registered people (the plain ABO rule by default).

    Raises
    ------
    RecordInvalid
        when the pool has no active pair or altruist, or the arguments are refused.
    """
    solver_config(arguments)
    number = (uow.session.scalar(select(func.count(MatchingRun.id))) or 0) + 1
    snapshot = snapshot_pool(uow.session, f"registry run {number}", compatibility)
    if snapshot.instance is None:
        raise RecordInvalid("the pool has no active pair or altruist to match", field="pool")
    text = dump_native(snapshot.instance)
    run = MatchingRun(
        status=RunStatus.QUEUED,
        phase="queued",
        progress=0,
        config=dict(arguments),
        policy=None if policy is None else dict(policy),
        snapshot=text,
        snapshot_sha256=snapshot_digest(text),
        requested_by_id=uow.actor.user_id,
    )
    uow.session.add(run)
    uow.flush()
    uow.audit("run.create", "run", run.id, after=row_state(run))
    return run


def restart_run(uow: UnitOfWork, run: MatchingRun) -> MatchingRun:
    """Queue an interrupted or failed run again, on its stored snapshot."""
    if run.status not in _RESTARTABLE:
        raise RecordConflict(
            f"matching run {run.id} is {run.status.value}; only an interrupted or failed run "
            "can be restarted"
        )
    before = row_state(run)
    run.status, run.phase, run.progress, run.message = RunStatus.QUEUED, "queued", 0, ""
    uow.flush()
    uow.audit("run.restart", "run", run.id, before=before, after=row_state(run))
    return run


def interrupt_unfinished(sessions: sessionmaker[Session]) -> list[int]:
    """Mark runs left queued or running by a stopped process as interrupted; their ids."""
    with UnitOfWork(sessions, SYSTEM) as uow:
        runs = list(
            uow.session.scalars(
                select(MatchingRun).where(
                    MatchingRun.status.in_((RunStatus.QUEUED, RunStatus.RUNNING))
                )
            )
        )
        for run in runs:
            before = row_state(run)
            run.status, run.phase = RunStatus.INTERRUPTED, "interrupted"
            run.message = "the service stopped before the run finished; restart it"
            uow.flush()
            uow.audit("run.interrupt", "run", run.id, before=before, after=row_state(run))
        return [run.id for run in runs]


def _set_phase(sessions: sessionmaker[Session], run_id: int, phase: str, percent: int) -> None:
    # Progress is bookkeeping, not a decision: a plain UPDATE, outside the version check,
    # so a reader's ETag of the run does not go stale with every percent.
    with sessions.begin() as session:
        session.execute(
            update(MatchingRun)
            .where(MatchingRun.id == run_id)
            .values(phase=phase, progress=percent)
            .execution_options(synchronize_session=False)
        )


def _start(sessions: sessionmaker[Session], run_id: int) -> MatchingRun | None:
    with UnitOfWork(sessions, SYSTEM) as uow:
        run = get_run(uow.session, run_id)
        if run.status is not RunStatus.QUEUED:
            return None  # another worker took it, or it was interrupted meanwhile
        run.status, run.phase, run.progress = RunStatus.RUNNING, "snapshot", 5
        run.started_at, run.attempts = utc_now(), run.attempts + 1
        uow.audit("run.start", "run", run.id, after={"attempt": run.attempts})
    return run


def _offers(uow: UnitOfWork, run: MatchingRun, result: Result) -> list[Offer]:
    donor_ids = [parse_donor_key(d.donor) for e in result.exchanges for d in e.donations]
    patient_ids = [parse_patient_key(d.patient) for e in result.exchanges for d in e.donations]
    donor_centre: dict[int, int] = {
        row_id: centre
        for row_id, centre in uow.session.execute(
            select(Donor.id, Donor.centre_id).where(Donor.id.in_(donor_ids))
        )
    }
    patient_centre: dict[int, int] = {
        row_id: centre
        for row_id, centre in uow.session.execute(
            select(Patient.id, Patient.centre_id).where(Patient.id.in_(patient_ids))
        )
    }
    offers = []
    for number, exchange in enumerate(result.exchanges, start=1):
        for position, donation in enumerate(exchange.donations, start=1):
            donor, patient = parse_donor_key(donation.donor), parse_patient_key(donation.patient)
            offers.append(
                Offer(
                    run_id=run.id,
                    exchange=number,
                    kind=exchange.kind.value,
                    position=position,
                    donor_id=donor,
                    patient_id=patient,
                    donor_centre_id=donor_centre[donor],
                    patient_centre_id=patient_centre[patient],
                    weight=donation.weight,
                    status=OfferStatus.PROPOSED,
                )
            )
    uow.session.add_all(offers)
    return offers


def _finish(
    sessions: sessionmaker[Session],
    run_id: int,
    result: Result,
    report: dict[str, Any],
) -> None:
    with UnitOfWork(sessions, SYSTEM) as uow:
        run = get_run(uow.session, run_id)
        if run.status is not RunStatus.RUNNING:
            return  # interrupted meanwhile by a restarted service: that state stands
        offers = _offers(uow, run, result) if report["ok"] else []
        run.result, run.verification = result.to_json(), report
        if report["ok"]:  # version 1 of the run's plan; recourse adds the next ones
            uow.session.add(
                PlanVersion(
                    run_id=run.id,
                    number=1,
                    reason="the run's plan",
                    result=run.result,
                    verification=report,
                )
            )
        run.status = RunStatus.SUCCEEDED if report["ok"] else RunStatus.FAILED
        run.phase, run.progress, run.finished_at = "done", 100, utc_now()
        run.message = "" if report["ok"] else "the verifier rejected the result"
        uow.flush()
        uow.audit(
            "run.finish",
            "run",
            run.id,
            after={
                "status": run.status.value,
                "offers": len(offers),
                "transplants": result.transplants,
            },
        )


def _fail(sessions: sessionmaker[Session], run_id: int, message: str) -> None:
    with UnitOfWork(sessions, SYSTEM) as uow:
        run = get_run(uow.session, run_id)
        run.status, run.phase, run.finished_at = RunStatus.FAILED, "failed", utc_now()
        run.message = message
        uow.audit("run.fail", "run", run.id, after={"message": message})


def execute_run(
    sessions: sessionmaker[Session], run_id: int, progress: Progress | None = None
) -> RunStatus:
    """Solve a queued run's stored snapshot, verify the result and store both.

    Returns the run's final status (``None``-safe: a run that is not queued is left
    alone and its status returned). Solver and verification failures end as ``failed``
    with the reason in ``message``; nothing is partially stored.
    """
    run = _start(sessions, run_id)
    if run is None:
        with sessions() as session:
            return get_run(session, run_id).status

    def tell(phase: str, percent: int) -> None:
        _set_phase(sessions, run_id, phase, percent)
        if progress is not None:
            progress(phase, percent)

    try:
        if snapshot_digest(run.snapshot) != run.snapshot_sha256:
            raise RecordConflict(f"matching run {run_id}: the stored snapshot fails its hash")
        instance = parse_native(run.snapshot, f"run {run_id} snapshot")
        config = solver_config(run.config)
        tell("solving", 20)
        result = solve(instance, config)
        tell("verifying", 80)
        report = verify(instance, config, result)
        tell("storing", 90)
        _finish(
            sessions,
            run_id,
            result,
            {"ok": report.ok, "problems": list(report.problems), "values": dict(report.values)},
        )
    except KidneyshareError as exc:
        _fail(sessions, run_id, str(exc))
    with sessions() as session:
        return get_run(session, run_id).status
