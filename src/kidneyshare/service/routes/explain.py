"""Explanations of a stored matching run: why a patient was (not) selected, what-if re-runs."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query

from kidneyshare.registry.access import Permission, Principal
from kidneyshare.registry.errors import RecordInvalid
from kidneyshare.service.deps import MAX_ID, UNPROCESSABLE, State, VisiblePatient, require
from kidneyshare.service.schemas.explain import ExplanationPublic
from kidneyshare.service.views import explanation_view
from kidneyshare.workflows.explain_run import NewDonor
from kidneyshare.workflows.kept_explanation import Question, explanation_of

router = APIRouter(prefix="/runs", tags=["runs"])
AboGroup = Literal["O", "A", "A1", "A2", "B", "AB", "A1B", "A2B"]


def _invalid(name: str, message: str) -> HTTPException:
    return HTTPException(
        UNPROCESSABLE, [{"loc": ["query", name], "msg": message, "type": "value_error"}]
    )


def _new_donor(
    blood_group: str | None, hla: str | None, age: float | None, altruist: bool
) -> NewDonor | None:
    if blood_group is None:
        if hla is not None or age is not None or altruist:
            raise _invalid("what_if_donor", "required to describe a new donor")
        return None
    try:
        return NewDonor.parse(blood_group, hla, age=age, altruist=altruist)
    except RecordInvalid as exc:
        raise _invalid(exc.field or "what_if_donor", exc.detail) from exc


_QUERY_FIELDS = frozenset(
    {"what_if_donor", "what_if_donor_hla", "what_if_donor_age", "what_if_donor_altruist"}
)


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
            "antibody titre, judged from the facts recorded by the run's time (409 when "
            "they do not give the run's snapshot).",
        ),
    ] = None,
    what_if_donor: Annotated[
        AboGroup | None,
        Query(description="Also re-run with a new donor of this blood group for the patient."),
    ] = None,
    what_if_donor_hla: Annotated[
        str | None,
        Query(
            max_length=400,
            description='The new donor\'s HLA typing, e.g. "A1 A24 B8 DR3" (without it the '
            "virtual crossmatch is not judged).",
        ),
    ] = None,
    what_if_donor_age: Annotated[
        float | None, Query(ge=0, le=100, description="The new donor's age in years.")
    ] = None,
    what_if_donor_altruist: Annotated[
        bool, Query(description="The new donor is an altruist, not the patient's.")
    ] = False,
    what_if_combine: Annotated[
        bool,
        Query(
            description="Re-run once with every requested change together (and, when that "
            "matches the patient, each change alone, to say which suffices) instead of once "
            "per change."
        ),
    ] = False,
) -> ExplanationPublic:
    """Why the patient was (not) matched in the run's own result (reasons in
    docs/explain.md), with the requested what-if re-runs; computed once per question and
    kept (a run never changes); a request for a question another request is computing waits
    for its answer. Other centres' people appear by pseudonym. 409 for a run that has not
    succeeded; 422 naming the query parameter for a bad what-if value."""
    donor = _new_donor(what_if_donor, what_if_donor_hla, what_if_donor_age, what_if_donor_altruist)
    question = Question(
        what_if_max_cycle,
        what_if_max_chain,
        abo_incompatible_titre_max,
        donor,
        combine=what_if_combine,
    )
    # Solved in the request the first time it is asked, then read back (kept_explanation).
    try:
        record = explanation_of(state.sessions, run_id, patient_id, question)
    except RecordInvalid as exc:
        # a what-if value the workflow refuses was given in the query, not in a body
        if exc.field not in _QUERY_FIELDS:
            raise
        raise _invalid(exc.field, exc.detail) from exc
    with state.sessions() as session:
        return explanation_view(session, record, caller, state.pseudonyms)
