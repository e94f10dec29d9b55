"""Offers accepted or declined by a centre, on SQLite and PostgreSQL: the allowed answers,
their log, and a decline repaired like a failed crossmatch while accepted exchanges stay."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text
from workflow_scheme import DAY, Scheme, register_swaps

from kidneyshare.registry import (
    CrossmatchOutcome,
    RecordConflict,
    RecordInvalid,
    UnitOfWork,
    current_revision,
    downgrade,
    head_revision,
    make_engine,
    upgrade,
)
from kidneyshare.registry.models import AuditEvent, Offer
from kidneyshare.registry.outcomes import record_crossmatch, record_response, response_history
from kidneyshare.registry.vocabulary import OfferStatus
from kidneyshare.workflows.matching_run import read_policy, run_matching
from kidneyshare.workflows.recourse import repair_run


def _answer(scheme: Scheme, offer_id: int, accepted: bool, reason: str = "") -> OfferStatus:
    with UnitOfWork(scheme.sessions, scheme.admin) as uow:
        offer = uow.session.get_one(Offer, offer_id)
        record_response(uow, offer, accepted, DAY, reason=reason, expected_version=offer.version)
        return offer.status


def _by_exchange(scheme: Scheme, run_id: int) -> dict[int, list[Offer]]:
    found: dict[int, list[Offer]] = {}
    with scheme.sessions() as session:
        for offer in session.scalars(
            select(Offer).where(Offer.run_id == run_id).order_by(Offer.exchange, Offer.position)
        ):
            found.setdefault(offer.exchange, []).append(offer)
    return found


def test_answers_follow_the_offer_and_are_logged(scheme: Scheme) -> None:
    register_swaps(scheme, 1)
    run = run_matching(scheme.sessions, scheme.admin, read_policy("uk"))
    (offers,) = _by_exchange(scheme, run.run_id).values()
    first, second = offers
    assert _answer(scheme, first.id, accepted=True) is OfferStatus.ACCEPTED
    with pytest.raises(RecordConflict, match="accepted only when proposed"):
        _answer(scheme, first.id, accepted=True)
    # the crossmatch follows an acceptance
    with UnitOfWork(scheme.sessions, scheme.admin) as uow:
        row = uow.session.get_one(Offer, first.id)
        record_crossmatch(
            uow, row, CrossmatchOutcome.NEGATIVE, DAY, notes="", expected_version=row.version
        )
    with pytest.raises(RecordInvalid, match="needs a reason") as bad:
        _answer(scheme, second.id, accepted=False, reason="  ")
    assert bad.value.field == "reason"
    assert _answer(scheme, second.id, False, "donor too old for us") is OfferStatus.DECLINED
    with pytest.raises(RecordConflict, match=r"offer \d+ is declined"):
        _answer(scheme, second.id, accepted=True)
    with (
        pytest.raises(RecordConflict, match="already declined"),
        UnitOfWork(scheme.sessions, scheme.admin) as uow,
    ):
        row = uow.session.get_one(Offer, second.id)
        record_crossmatch(
            uow, row, CrossmatchOutcome.NEGATIVE, DAY, notes="", expected_version=row.version
        )
    # a centre may still decline after a negative crossmatch, until the transplant
    assert _answer(scheme, first.id, False, "patient unwell") is OfferStatus.DECLINED
    with scheme.sessions() as session:
        history = response_history(session, first.id)
        assert [(r.accepted, r.reason) for r in history] == [
            (True, ""),
            (False, "patient unwell"),
        ]
        actions = list(
            session.scalars(
                select(AuditEvent.action)
                .where(AuditEvent.action.in_(["offer.accept", "offer.decline"]))
                .order_by(AuditEvent.id)
            )
        )
    assert actions == ["offer.accept", "offer.decline", "offer.decline"]


def test_a_decline_is_repaired_and_accepted_exchanges_are_kept(scheme: Scheme) -> None:
    register_swaps(scheme, 3)
    run = run_matching(scheme.sessions, scheme.admin, read_policy("uk"))
    exchanges = _by_exchange(scheme, run.run_id)
    declined_in, _, accepted_in = sorted(exchanges)
    declined = exchanges[declined_in][1]
    _answer(scheme, declined.id, False, "size mismatch")
    for offer in exchanges[accepted_in]:
        _answer(scheme, offer.id, accepted=True)
    with UnitOfWork(scheme.sessions, scheme.admin) as uow:
        # re-optimise everything not agreed: the accepted exchange must still be kept
        repaired = repair_run(uow, run.run_id, keep_unaffected=False)
    record = repaired.plan.repair
    assert record is not None
    assert record["failed_arcs"] == [f"D{declined.donor_id}:P{declined.patient_id}"]
    used = {(d.donor, d.patient) for e in repaired.repaired.after.exchanges for d in e.donations}
    assert (f"D{declined.donor_id}", f"P{declined.patient_id}") not in used
    kept = {(f"D{o.donor_id}", f"P{o.patient_id}") for o in exchanges[accepted_in]}
    assert kept <= used
    with scheme.sessions() as session:
        statuses = {
            o.id: o.status for o in session.scalars(select(Offer).where(Offer.run_id == run.run_id))
        }
    assert statuses[declined.id] is OfferStatus.DECLINED  # never cancelled over
    assert all(statuses[o.id] is OfferStatus.ACCEPTED for o in exchanges[accepted_in])
    assert all(statuses[o] is OfferStatus.CANCELLED for o in repaired.cancelled_offers)
    assert repaired.repaired.after.transplants == 6


def test_migration_0003_down_and_up_with_answers(scheme: Scheme) -> None:
    register_swaps(scheme, 1)
    run = run_matching(scheme.sessions, scheme.admin, read_policy("uk"))
    (offers,) = _by_exchange(scheme, run.run_id).values()
    _answer(scheme, offers[0].id, accepted=True)
    _answer(scheme, offers[1].id, False, "withdrawn consent")
    engine = make_engine(scheme.url)
    try:
        downgrade(engine, "0002")
        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT status FROM offers WHERE run_id = :run ORDER BY position"),
                {"run": run.run_id},
            ).scalars()
            # 0002 has no answers: accepted is proposed again, declined is cancelled
            assert list(rows) == ["proposed", "cancelled"]
        upgrade(engine)
        assert current_revision(engine) == head_revision()
    finally:
        engine.dispose()
