"""A matching run under the scheme's policy: snapshot, solve, verify, store, offer.

The steps themselves are :mod:`kidneyshare.registry.runs` (the snapshot and its hash,
the solve of the stored snapshot, the verifier's report, the offers, all stored in one
transaction each); this workflow adds what a scheme run needs around them:

- the configuration comes from the scheme's policy file
  (:func:`kidneyshare.matching.policy.load_policy`), and the file itself (name,
  version, SHA-256 and text) is stored with the run, so that the run can be defended
  by the exact rules it used; ``levels`` replaces the policy's objective by a
  hierarchy of those criteria, most important first;
- the run's plan is version 1 of its plan (:class:`PlanVersion`, stored with the
  result), which recourse repairs into later versions;
- the offers are reported per centre: each centre sees the donations where its donor
  gives or its patient receives.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from kidneyshare.compatibility import CompatibilityPolicy
from kidneyshare.errors import ConfigError
from kidneyshare.matching import Criterion, Objective, SolverConfig
from kidneyshare.matching.policy import BUNDLED_POLICIES, Policy, parse_policy
from kidneyshare.registry.errors import RecordConflict
from kidneyshare.registry.models import Centre, MatchingRun, Offer, PlanVersion
from kidneyshare.registry.runs import Progress, create_run, execute_run, get_run, solver_config
from kidneyshare.registry.unit_of_work import Actor, UnitOfWork
from kidneyshare.registry.vocabulary import OfferStatus, RunStatus

__all__ = [
    "CentreOffers",
    "RunOutcome",
    "current_plan",
    "ensure_first_plan",
    "offers_by_centre",
    "policy_arguments",
    "read_policy",
    "run_matching",
    "start_run",
]


@dataclass(frozen=True, slots=True)
class PolicyFile:
    """A policy file as read: the parsed policy and the text it came from."""

    policy: Policy
    text: str

    def record(self) -> dict[str, Any]:
        """What a run stores about its policy."""
        return {
            "name": self.policy.name,
            "version": self.policy.version,
            "source": self.policy.source,
            "sha256": hashlib.sha256(self.text.encode("utf-8")).hexdigest(),
            "text": self.text,
        }


def read_policy(name_or_path: str | Path) -> PolicyFile:
    """A bundled policy by name, or a policy file by path, with its text.

    Raises
    ------
    ConfigError
        no such file and no bundled policy of that name.
    FormatError
        the file is not a valid policy (naming the key).
    """
    if isinstance(name_or_path, str) and name_or_path in BUNDLED_POLICIES:
        source = f"policies/{name_or_path}.toml"
        text = (resources.files("kidneyshare") / "policies" / f"{name_or_path}.toml").read_text(
            encoding="utf-8"
        )
    else:
        source = str(name_or_path)
        try:
            text = Path(name_or_path).read_text(encoding="utf-8")
        except (FileNotFoundError, IsADirectoryError):
            bundled = ", ".join(BUNDLED_POLICIES)
            raise ConfigError(
                f"policy: no file {source!r} and no bundled policy of that name ({bundled})"
            ) from None
    return PolicyFile(parse_policy(text, source), text)


def policy_arguments(
    config: SolverConfig,
    *,
    levels: Sequence[str] = (),
    time_limit: float | None = None,
) -> dict[str, Any]:
    """The JSON keyword arguments that rebuild ``config`` (as a run stores them), with
    ``levels`` making the objective a hierarchy and ``time_limit`` overriding the
    policy's.

    Raises
    ------
    ConfigError
        an unknown criterion in ``levels``.
    RecordInvalid
        a configuration the solver refuses (a bad time limit, for example).
    """
    arguments = config.to_dict()
    if levels:
        arguments["objective"] = Objective.HIERARCHY.value
        arguments["levels"] = [Criterion.parse(level).value for level in levels]
    elif config.objective is not Objective.HIERARCHY:
        arguments["levels"] = []  # fixed by the objective itself
    if time_limit is not None:
        arguments["time_limit"] = time_limit
    solver_config(arguments)  # refuse a bad combination before anything is stored
    return arguments


def start_run(
    uow: UnitOfWork,
    policy: PolicyFile,
    *,
    levels: Sequence[str] = (),
    time_limit: float | None = None,
    compatibility: CompatibilityPolicy | None = None,
) -> MatchingRun:
    """Snapshot the active pool and queue a run of it under ``policy``."""
    arguments = policy_arguments(policy.policy.config, levels=levels, time_limit=time_limit)
    return create_run(uow, arguments, policy=policy.record(), compatibility=compatibility)


def current_plan(session: Session, run_id: int) -> PlanVersion | None:
    """The newest version of the run's plan (``None`` before the first is recorded)."""
    return session.scalar(
        select(PlanVersion).where(PlanVersion.run_id == run_id).order_by(PlanVersion.number.desc())
    )


def ensure_first_plan(uow: UnitOfWork, run: MatchingRun) -> PlanVersion:
    """The run's newest plan version, recording the run's own plan as version 1 first
    when no version exists (a run that finished before migration 0002 has none).

    Raises
    ------
    RecordConflict
        when the run has not succeeded (there is no plan).
    """
    if run.status is not RunStatus.SUCCEEDED or run.result is None or run.verification is None:
        raise RecordConflict(
            f"matching run {run.id} is {run.status.value}; only a succeeded run has a plan"
        )
    newest = current_plan(uow.session, run.id)
    if newest is not None:
        return newest
    first = PlanVersion(
        run_id=run.id,
        number=1,
        reason="the run's plan",
        result=run.result,
        verification=run.verification,
        created_by_id=uow.actor.user_id,
    )
    uow.session.add(first)
    uow.flush()
    uow.audit("plan.record", "run", run.id, after={"plan_version": 1})
    return first


@dataclass(frozen=True, slots=True)
class CentreOffers:
    """A centre's part of a plan: its offers, grouped by exchange number."""

    centre_code: str
    exchanges: dict[int, list[int]] = field(default_factory=dict)
    """Exchange number -> ids of the offers the centre is party to."""

    @property
    def offers(self) -> int:
        return sum(len(ids) for ids in self.exchanges.values())


def offers_by_centre(session: Session, run_id: int) -> list[CentreOffers]:
    """Each centre's live offers of the run (not cancelled), by centre code."""
    codes = {row_id: code for row_id, code in session.execute(select(Centre.id, Centre.code))}
    rows = session.scalars(
        select(Offer)
        .where(Offer.run_id == run_id, Offer.status != OfferStatus.CANCELLED)
        .order_by(Offer.exchange, Offer.position)
    )
    found: dict[str, CentreOffers] = {}
    for offer in rows:
        for centre in sorted({offer.donor_centre_id, offer.patient_centre_id}):
            entry = found.setdefault(codes[centre], CentreOffers(codes[centre]))
            entry.exchanges.setdefault(offer.exchange, []).append(offer.id)
    return [found[code] for code in sorted(found)]


@dataclass(frozen=True, slots=True)
class RunOutcome:
    """How a run ended, with what each centre is offered."""

    run_id: int
    status: RunStatus
    message: str
    transplants: int
    exchanges: int
    centres: tuple[CentreOffers, ...]


def run_matching(
    sessions: sessionmaker[Session],
    actor: Actor,
    policy: PolicyFile,
    *,
    levels: Sequence[str] = (),
    time_limit: float | None = None,
    compatibility: CompatibilityPolicy | None = None,
    progress: Progress | None = None,
) -> RunOutcome:
    """Start a run under ``policy``, execute it here, and record its plan (version 1)."""
    with UnitOfWork(sessions, actor) as uow:
        run = start_run(
            uow, policy, levels=levels, time_limit=time_limit, compatibility=compatibility
        )
        run_id = run.id
    status = execute_run(sessions, run_id, progress)
    with UnitOfWork(sessions, actor) as uow:
        run = get_run(uow.session, run_id)
        if status is RunStatus.SUCCEEDED:
            ensure_first_plan(uow, run)
        exchanges = uow.session.scalar(
            select(func.count(func.distinct(Offer.exchange))).where(Offer.run_id == run_id)
        )
        return RunOutcome(
            run_id=run_id,
            status=status,
            message=run.message,
            transplants=0 if run.result is None else int(run.result["transplants"]),
            exchanges=exchanges or 0,
            centres=tuple(offers_by_centre(uow.session, run_id)),
        )
