"""Explanations of a stored matching run: why a patient was (not) selected, what-if re-runs."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from kidneyshare.service.access import Permission, Principal
from kidneyshare.service.deps import MAX_ID, State, VisiblePatient, require
from kidneyshare.service.schemas.explain import ExplanationPublic
from kidneyshare.service.views import explanation_view
from kidneyshare.workflows.explain_run import explain_run

router = APIRouter(prefix="/runs", tags=["runs"])
# Identifiable pool data: the patient's own centre (VisiblePatient) or the scheme's staff.
Reader = Annotated[Principal, Depends(require(Permission.READ_POOL))]
RunId = Annotated[int, Path(ge=1, le=MAX_ID)]


@router.get("/{run_id}/explain/{patient_id}", response_model=ExplanationPublic)
def explain(
    run_id: RunId,
    patient_id: VisiblePatient,
    state: State,
    caller: Reader,
    what_if_max_cycle: Annotated[
        int | None, Query(ge=0, le=6, description="Also re-run with cycles of this length.")
    ] = None,
    what_if_max_chain: Annotated[
        int | None, Query(ge=0, le=12, description="Also re-run with chains of this length.")
    ] = None,
    abo_incompatible_titre_max: Annotated[
        int | None,
        Query(
            ge=0,
            le=4096,
            description="Also re-run accepting ABO-incompatible transplants up to this "
            "antibody titre (409 when the pool or its facts changed since the run).",
        ),
    ] = None,
) -> ExplanationPublic:
    """Why the patient was (not) matched in the run's own result (reasons in
    docs/explain.md), with the requested what-if re-runs. Other centres' people appear
    by pseudonym. 409 for a run that has not succeeded."""
    # A plain session: explaining reads and solves, it writes nothing.
    with state.sessions() as session:
        answer = explain_run(
            session,
            run_id,
            patient_id,
            max_cycle=what_if_max_cycle,
            max_chain=what_if_max_chain,
            abo_incompatible_titre_max=abo_incompatible_titre_max,
        )
        return explanation_view(session, answer, caller, state.pseudonyms)
