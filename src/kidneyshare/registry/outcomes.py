"""What happens to a run's offers: the centre's answer, crossmatch results, transplants.

An offer moves ``proposed [-> accepted] -> crossmatch-negative -> transplanted``, or ends
``declined`` (by the patient's centre) or ``crossmatch-positive``. An answer is
appended (a centre may decline an offer it accepted, until the transplant); a crossmatch
result is appended (a later one supersedes the earlier, for a repeated test or a
corrected entry); a transplant is recorded once, and marks the recipient's pair, and a
donating altruist, as transplanted.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session, aliased

from kidneyshare.registry.errors import RecordConflict, RecordInvalid, RecordNotFound
from kidneyshare.registry.models import (
    Altruist,
    CrossmatchResult,
    Offer,
    OfferResponse,
    Pair,
    Transplant,
)
from kidneyshare.registry.paging import page
from kidneyshare.registry.pool import set_status
from kidneyshare.registry.unit_of_work import UnitOfWork, check_version, row_state
from kidneyshare.registry.vocabulary import CrossmatchOutcome, MemberStatus, OfferStatus

__all__ = [
    "crossmatch_history",
    "get_offer",
    "list_offers",
    "record_crossmatch",
    "record_response",
    "record_transplant",
    "response_history",
]


def get_offer(session: Session, offer_id: int) -> Offer:
    offer = session.get(Offer, offer_id)
    if offer is None:
        raise RecordNotFound(f"offer {offer_id} does not exist")
    return offer


def list_offers(
    session: Session,
    *,
    centre_id: int | None = None,
    run_id: int | None = None,
    status: OfferStatus | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[Offer], int]:
    """Offers in (run, exchange, position) order; ``centre_id`` keeps those where the
    centre's donor gives or its patient receives."""
    query = select(Offer)
    if centre_id is not None:
        query = query.where(
            or_(Offer.donor_centre_id == centre_id, Offer.patient_centre_id == centre_id)
        )
    if run_id is not None:
        query = query.where(Offer.run_id == run_id)
    if status is not None:
        query = query.where(Offer.status == status)
    return page(
        session, query, [Offer.run_id.desc(), Offer.exchange, Offer.position], limit, offset
    )


def crossmatch_history(session: Session, offer_id: int) -> list[CrossmatchResult]:
    return list(
        session.scalars(
            select(CrossmatchResult)
            .where(CrossmatchResult.offer_id == offer_id)
            .order_by(CrossmatchResult.id)
        )
    )


def record_crossmatch(
    uow: UnitOfWork,
    offer: Offer,
    outcome: CrossmatchOutcome,
    performed_on: date,
    *,
    notes: str,
    expected_version: int,
) -> CrossmatchResult:
    """Record a crossmatch for an offer not yet transplanted; it supersedes any earlier."""
    check_version("offer", offer, expected_version)
    if offer.status in (OfferStatus.TRANSPLANTED, OfferStatus.CANCELLED, OfferStatus.DECLINED):
        raise RecordConflict(f"offer {offer.id} is already {offer.status.value}")
    later = aliased(CrossmatchResult)
    current = uow.session.scalar(
        select(CrossmatchResult).where(
            CrossmatchResult.offer_id == offer.id,
            ~exists().where(later.supersedes_id == CrossmatchResult.id),
        )
    )
    before = row_state(offer)
    result = CrossmatchResult(
        offer_id=offer.id,
        outcome=outcome,
        performed_on=performed_on,
        notes=notes,
        recorded_by_id=uow.actor.user_id,
        supersedes_id=None if current is None else current.id,
    )
    uow.session.add(result)
    offer.status = (
        OfferStatus.CROSSMATCH_NEGATIVE
        if outcome is CrossmatchOutcome.NEGATIVE
        else OfferStatus.CROSSMATCH_POSITIVE
    )
    uow.flush()
    uow.audit(
        "offer.crossmatch",
        "offer",
        offer.id,
        before=before,
        after={**row_state(offer), "crossmatch": row_state(result)},
    )
    return result


def response_history(session: Session, offer_id: int) -> list[OfferResponse]:
    return list(
        session.scalars(
            select(OfferResponse)
            .where(OfferResponse.offer_id == offer_id)
            .order_by(OfferResponse.id)
        )
    )


# Accepting follows the offer; declining is possible until the transplant (a positive
# crossmatch has already ruled the donation out, a cancelled offer is no longer made).
_MAY_ACCEPT = (OfferStatus.PROPOSED,)
_MAY_DECLINE = (OfferStatus.PROPOSED, OfferStatus.ACCEPTED, OfferStatus.CROSSMATCH_NEGATIVE)


def record_response(
    uow: UnitOfWork,
    offer: Offer,
    accepted: bool,
    responded_on: date,
    *,
    reason: str,
    expected_version: int,
) -> OfferResponse:
    """Record the patient's centre's answer to an offer: ``accepted`` or declined.

    A declined offer is a failed arc for the plan's repair
    (:func:`kidneyshare.workflows.recourse.repair_run`).

    Raises
    ------
    RecordConflict
        when the offer's status allows no such answer (naming the status).
    RecordInvalid
        when a decline gives no reason.
    """
    check_version("offer", offer, expected_version)
    allowed = _MAY_ACCEPT if accepted else _MAY_DECLINE
    if offer.status not in allowed:
        verb = "accepted" if accepted else "declined"
        raise RecordConflict(
            f"offer {offer.id} is {offer.status.value}; it can be {verb} only when "
            + " or ".join(s.value for s in allowed)
        )
    if not accepted and not reason.strip():
        raise RecordInvalid(f"offer {offer.id}: a decline needs a reason", field="reason")
    before = row_state(offer)
    response = OfferResponse(
        offer_id=offer.id,
        accepted=accepted,
        responded_on=responded_on,
        reason=reason,
        recorded_by_id=uow.actor.user_id,
    )
    uow.session.add(response)
    offer.status = OfferStatus.ACCEPTED if accepted else OfferStatus.DECLINED
    uow.flush()
    uow.audit(
        "offer.accept" if accepted else "offer.decline",
        "offer",
        offer.id,
        before=before,
        after={**row_state(offer), "response": row_state(response)},
    )
    return response


def record_transplant(
    uow: UnitOfWork, offer: Offer, performed_on: date, *, expected_version: int
) -> Transplant:
    """Record that the offer's transplant took place (after a negative crossmatch)."""
    check_version("offer", offer, expected_version)
    if offer.status is not OfferStatus.CROSSMATCH_NEGATIVE:
        raise RecordConflict(
            f"offer {offer.id} is {offer.status.value}; a transplant needs a negative "
            "crossmatch first"
        )
    before = row_state(offer)
    transplant = Transplant(
        offer_id=offer.id,
        donor_id=offer.donor_id,
        patient_id=offer.patient_id,
        performed_on=performed_on,
        recorded_by_id=uow.actor.user_id,
    )
    uow.session.add(transplant)
    offer.status = OfferStatus.TRANSPLANTED
    uow.flush()
    pair = uow.session.scalar(select(Pair).where(Pair.patient_id == offer.patient_id))
    if pair is not None and pair.status is not MemberStatus.TRANSPLANTED:
        set_status(uow, pair, MemberStatus.TRANSPLANTED, f"transplant of offer {offer.id}")
    altruist = uow.session.scalar(select(Altruist).where(Altruist.donor_id == offer.donor_id))
    if altruist is not None and altruist.status is not MemberStatus.TRANSPLANTED:
        set_status(uow, altruist, MemberStatus.TRANSPLANTED, f"transplant of offer {offer.id}")
    uow.audit(
        "offer.transplant",
        "offer",
        offer.id,
        before=before,
        after={**row_state(offer), "transplant": row_state(transplant)},
    )
    return transplant
