"""Recourse in the registry: repair a run's plan after a failed crossmatch or a withdrawal.

What failed is read from the registry, never typed again: every offer of the run whose
crossmatch is positive, or that the patient's centre declined, is a failed arc; every
pair or altruist of the run's snapshot that is no longer active (withdrawn, suspended,
or transplanted outside this plan) has left, and so has a donor who may no longer enter
a pool. Exchanges already agreed are kept exactly: every exchange all of whose offers
are accepted, have a negative crossmatch or a transplant (and any the caller names).
:func:`kidneyshare.matching.recourse.repair` does the rest on the run's stored snapshot
and configuration.

The repaired plan is stored as the next :class:`PlanVersion` of the run with its
before/after record (broken exchanges and their causes, what is kept, what is new). The
offers follow it in the same transaction: offers of broken exchanges that are still open
are *cancelled* (those of a chain's prefix that goes ahead under the waiting-list policy
stay), and every new exchange gets new offers under the new version, numbered after the
run's existing exchanges.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session, aliased

from kidneyshare.formats import parse_native
from kidneyshare.matching import (
    Donation,
    Exchange,
    ExchangeKind,
    Result,
    SolverConfig,
    Status,
    verify,
)
from kidneyshare.matching.recourse import ChainPolicy, Repair, repair
from kidneyshare.registry.eligibility import ineligible_donors
from kidneyshare.registry.errors import RecordConflict
from kidneyshare.registry.keys import donor_key, parse_donor_key, parse_patient_key, patient_key
from kidneyshare.registry.models import (
    Altruist,
    CrossmatchResult,
    Donor,
    MatchingRun,
    Offer,
    Pair,
    Patient,
    PlanVersion,
    Transplant,
)
from kidneyshare.registry.runs import get_run, solver_config
from kidneyshare.registry.unit_of_work import UnitOfWork
from kidneyshare.registry.vocabulary import CrossmatchOutcome, MemberStatus, OfferStatus
from kidneyshare.workflows.matching_run import ensure_first_plan

__all__ = ["PlanRepair", "plan_result", "repair_run", "stored_result"]

_OPEN = (OfferStatus.PROPOSED, OfferStatus.ACCEPTED, OfferStatus.CROSSMATCH_NEGATIVE)
_AGREED = (OfferStatus.ACCEPTED, OfferStatus.CROSSMATCH_NEGATIVE, OfferStatus.TRANSPLANTED)


def plan_result(run: MatchingRun, plan: PlanVersion) -> Result:
    """A stored plan version as a :class:`Result` under the run's configuration."""
    return stored_result(solver_config(run.config), plan.result)


def stored_result(config: SolverConfig, document: Mapping[str, Any]) -> Result:
    """A result as the registry stores it (``Result.to_json``) under ``config``."""
    count = len(document["cycles"])
    exchanges = [
        Exchange(
            ExchangeKind.CYCLE if n < count else ExchangeKind.CHAIN,
            tuple(vertices),
            tuple(Donation(d["donor"], d["patient"], d["weight"]) for d in donations),
        )
        for n, (vertices, donations) in enumerate(
            zip(document["cycles"] + document["chains"], document["donations"], strict=True)
        )
    ]
    return Result(
        Status(document["status"]),
        config,
        tuple(e for e in exchanges if e.kind is ExchangeKind.CYCLE),
        tuple(e for e in exchanges if e.kind is ExchangeKind.CHAIN),
        dict(document["values"]),
        bound=document.get("bound"),
        bound_level=document.get("bound_level", ""),
    )


def _donations(exchange: Exchange) -> tuple[tuple[str, str], ...]:
    return tuple((d.donor, d.patient) for d in exchange.donations)


def _live_offers(session: Session, run_id: int) -> dict[tuple[str, ...], list[Offer]]:
    """The run's offers that are not cancelled, by exchange (keyed by its donations)."""
    by_number: dict[int, list[Offer]] = {}
    for offer in session.scalars(
        select(Offer)
        .where(Offer.run_id == run_id, Offer.status != OfferStatus.CANCELLED)
        .order_by(Offer.exchange, Offer.position)
    ):
        by_number.setdefault(offer.exchange, []).append(offer)
    return {
        tuple(f"{donor_key(o.donor_id)}>{patient_key(o.patient_id)}" for o in offers): offers
        for offers in by_number.values()
    }


def _key(exchange: Exchange) -> tuple[str, ...]:
    return tuple(f"{d}>{p}" for d, p in _donations(exchange))


def _failed_arcs(session: Session, run_id: int) -> set[tuple[str, str]]:
    """Arcs of the run's offers whose crossmatch in force is positive or that the patient's
    centre declined."""
    later = aliased(CrossmatchResult)
    declined = session.execute(
        select(Offer.donor_id, Offer.patient_id).where(
            Offer.run_id == run_id, Offer.status == OfferStatus.DECLINED
        )
    )
    failed = {(donor_key(d), patient_key(p)) for d, p in declined}
    rows = session.execute(
        select(Offer.donor_id, Offer.patient_id)
        .join(CrossmatchResult, CrossmatchResult.offer_id == Offer.id)
        .where(
            Offer.run_id == run_id,
            CrossmatchResult.outcome == CrossmatchOutcome.POSITIVE,
            ~exists().where(later.supersedes_id == CrossmatchResult.id),
        )
    )
    return failed | {(donor_key(d), patient_key(p)) for d, p in rows}


def _departed(
    session: Session, run_id: int, patients: Collection[str], donors: Collection[str]
) -> tuple[set[str], set[str]]:
    """Patients and donors of the snapshot who are no longer in the pool."""
    transplanted_here = set(
        session.scalars(
            select(Transplant.patient_id)
            .join(Offer, Offer.id == Transplant.offer_id)
            .where(Offer.run_id == run_id)
        )
    )
    patient_ids = [parse_patient_key(p) for p in patients]
    gone_patients = {
        patient_key(patient_id)
        for patient_id, status in session.execute(
            select(Pair.patient_id, Pair.status).where(Pair.patient_id.in_(patient_ids))
        )
        if status is not MemberStatus.ACTIVE and patient_id not in transplanted_here
    }
    donor_ids = [parse_donor_key(d) for d in donors]
    donated_here = set(
        session.scalars(
            select(Transplant.donor_id)
            .join(Offer, Offer.id == Transplant.offer_id)
            .where(Offer.run_id == run_id)
        )
    )
    gone_donors = {
        donor_key(donor_id)
        for donor_id, status in session.execute(
            select(Altruist.donor_id, Altruist.status).where(Altruist.donor_id.in_(donor_ids))
        )
        if status is not MemberStatus.ACTIVE and donor_id not in donated_here
    }
    # Donors who may no longer enter a pool (donated elsewhere, or in another episode),
    # unless their donation is this plan's.
    ineligible = ineligible_donors(session, [d for d in donor_ids if d not in donated_here])
    gone_donors |= {donor_key(d) for d in ineligible}
    return gone_patients, gone_donors


@dataclass(frozen=True, slots=True)
class PlanRepair:
    """What :func:`repair_run` stored: the new plan version and the offers it changed."""

    plan: PlanVersion
    repaired: Repair
    cancelled_offers: tuple[int, ...]
    new_offers: tuple[int, ...]


def _agreed(
    plan: Result, live: dict[tuple[str, ...], list[Offer]], extra: Iterable[int]
) -> list[Exchange]:
    exchanges = plan.exchanges
    fixed = [
        e
        for e in exchanges
        if (offers := live.get(_key(e))) and all(o.status in _AGREED for o in offers)
    ]
    for number in extra:
        if not 1 <= number <= len(exchanges):
            raise RecordConflict(
                f"fixed exchange {number}: the current plan has {len(exchanges)} exchanges"
            )
        if exchanges[number - 1] not in fixed:
            fixed.append(exchanges[number - 1])
    return fixed


def _new_offers(
    uow: UnitOfWork, run: MatchingRun, version: int, exchanges: Iterable[Exchange]
) -> list[Offer]:
    session = uow.session
    number = session.scalar(select(func.max(Offer.exchange)).where(Offer.run_id == run.id)) or 0
    offers = []
    for exchange in exchanges:
        number += 1
        for position, donation in enumerate(exchange.donations, start=1):
            donor = session.get_one(Donor, parse_donor_key(donation.donor))
            patient = session.get_one(Patient, parse_patient_key(donation.patient))
            offers.append(
                Offer(
                    run_id=run.id,
                    plan_version=version,
                    exchange=number,
                    kind=exchange.kind.value,
                    position=position,
                    donor_id=donor.id,
                    patient_id=patient.id,
                    donor_centre_id=donor.centre_id,
                    patient_centre_id=patient.centre_id,
                    weight=donation.weight,
                    status=OfferStatus.PROPOSED,
                )
            )
    session.add_all(offers)
    uow.flush()
    return offers


def repair_run(
    uow: UnitOfWork,
    run_id: int,
    *,
    chain_policy: ChainPolicy | str = ChainPolicy.WAITING_LIST,
    fixed: Iterable[int] = (),
    keep_unaffected: bool = True,
    reason: str = "",
) -> PlanRepair:
    """Repair the run's current plan from what the registry records (module notes).

    Parameters
    ----------
    fixed:
        further exchanges to keep exactly, numbered from 1 in the current plan's order
        (cycles, then chains), besides those already agreed.
    keep_unaffected:
        keep the exchanges no failure touches (the default: centres keep the offers they
        are working on, and only the people of broken exchanges and the unmatched are
        re-optimised); ``False`` re-optimises every exchange not agreed, which may match
        more patients but cancels and remakes offers no failure touched.
    chain_policy:
        as :func:`kidneyshare.matching.recourse.repair` takes it.

    Raises
    ------
    RecordConflict
        the run has no plan; nothing has failed; an agreed exchange is broken (release
        it first: record the crossmatch that broke it is the usual way).
    """
    run = get_run(uow.session, run_id)
    current = ensure_first_plan(uow, run)
    instance = parse_native(run.snapshot, f"run {run.id} snapshot")
    config = solver_config(run.config)
    plan = plan_result(run, current)
    live = _live_offers(uow.session, run.id)
    failed = _failed_arcs(uow.session, run.id)
    gone_patients, gone_donors = _departed(
        uow.session, run.id, instance.patient_index, instance.donor_index
    )
    touched = [
        e
        for e in plan.exchanges
        for d in e.donations
        if (d.donor, d.patient) in failed or d.donor in gone_donors or d.patient in gone_patients
    ]
    if not touched:
        raise RecordConflict(
            f"matching run {run.id}: no exchange of plan version {current.number} has a failed "
            "crossmatch, a declined offer or a member who left the pool; nothing to repair"
        )
    agreed = _agreed(plan, live, fixed)
    repaired = repair(
        instance,
        config,
        plan,
        failed_arcs=sorted(failed),
        withdrawn_patients=sorted(gone_patients),
        withdrawn_donors=sorted(gone_donors),
        fixed=agreed,
        chain_policy=chain_policy,
        keep_unaffected=keep_unaffected,
    )
    going_ahead = {_key(e) for e in repaired.after.exchanges}
    truncated = {_key(e) for e in repaired.truncated}
    cancelled: list[int] = []
    for key, offers in live.items():
        if key in going_ahead:
            continue
        prefix = next((t for t in truncated if key[: len(t)] == t), ())
        for offer in offers[len(prefix) :]:
            if offer.status in _OPEN:
                offer.status = OfferStatus.CANCELLED
                cancelled.append(offer.id)
            elif offer.status is OfferStatus.TRANSPLANTED:
                raise RecordConflict(
                    f"offer {offer.id} was transplanted but its exchange is broken and not "
                    "kept; repair with the waiting-list chain policy"
                )
    version = current.number + 1
    report = verify(instance, config, repaired.after)
    stored = PlanVersion(
        run_id=run.id,
        number=version,
        based_on_id=current.id,
        reason=reason or "; ".join(c for b in repaired.broken for c in b.causes),
        result=repaired.after.to_json(),
        verification={
            "ok": report.ok,
            "problems": list(report.problems),
            "values": dict(report.values),
        },
        repair=repaired.to_json(),
        created_by_id=uow.actor.user_id,
    )
    uow.session.add(stored)
    uow.flush()
    new = _new_offers(
        uow,
        run,
        version,
        [e for e in repaired.after.exchanges if _key(e) not in live and _key(e) not in truncated],
    )
    uow.audit(
        "plan.repair",
        "run",
        run.id,
        before={"plan_version": current.number, "transplants": plan.transplants},
        after={
            "plan_version": version,
            "transplants": repaired.after.transplants,
            "cancelled_offers": cancelled,
            "new_offers": [o.id for o in new],
        },
    )
    return PlanRepair(stored, repaired, tuple(cancelled), tuple(o.id for o in new))
