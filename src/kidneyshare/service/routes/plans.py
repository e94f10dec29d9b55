"""Plan versions of a run, and recourse: repair the plan after failed crossmatches and
withdrawals (recorded through offers and pool statuses)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, status
from sqlalchemy import select

from kidneyshare.registry.access import Permission, Principal
from kidneyshare.registry.models import PlanVersion
from kidneyshare.registry.runs import get_run
from kidneyshare.service.deps import MAX_ID, State, require
from kidneyshare.service.schemas.care import PlanVersionPublic, RepairIn
from kidneyshare.workflows.recourse import repair_run

router = APIRouter(prefix="/runs", tags=["runs"])
Reader = Annotated[Principal, Depends(require(Permission.READ_RUNS))]
Repairer = Annotated[Principal, Depends(require(Permission.REPAIR_PLANS))]
RunId = Annotated[int, Path(ge=1, le=MAX_ID)]


def _public(plan: PlanVersion, caller: Principal) -> PlanVersionPublic:
    return PlanVersionPublic(
        number=plan.number,
        reason=plan.reason,
        transplants=plan.result["transplants"],
        verified=bool(plan.verification.get("ok")),
        created_at=plan.created_at,
        repair=plan.repair if caller.may(Permission.REPAIR_PLANS) else None,
    )


@router.get("/{run_id}/plans", response_model=list[PlanVersionPublic])
def plans(run_id: RunId, state: State, caller: Reader) -> list[PlanVersionPublic]:
    """Every version of the run's plan, oldest first (the before/after records for
    administrators)."""
    with state.sessions() as session:
        get_run(session, run_id)
        rows = session.scalars(
            select(PlanVersion).where(PlanVersion.run_id == run_id).order_by(PlanVersion.number)
        )
        return [_public(p, caller) for p in rows]


@router.post(
    "/{run_id}/repair", response_model=PlanVersionPublic, status_code=status.HTTP_201_CREATED
)
def repair(run_id: RunId, body: RepairIn, state: State, caller: Repairer) -> PlanVersionPublic:
    """Repair the run's plan: exchanges broken by a positive crossmatch or a withdrawal
    are re-optimised, agreed exchanges kept; new offers are made (409 when nothing is
    broken)."""
    with state.unit(caller) as uow:
        repaired = repair_run(
            uow,
            run_id,
            chain_policy=body.chain_policy,
            fixed=body.fixed,
            keep_unaffected=body.keep_unaffected,
            reason=body.reason,
        )
        view = _public(repaired.plan, caller)
    view.cancelled_offers = list(repaired.cancelled_offers)
    view.new_offers = list(repaired.new_offers)
    return view
