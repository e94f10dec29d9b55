"""The issue's scenario through the library, on SQLite and PostgreSQL: register -> run
under the UK policy -> offers -> one crossmatch fails -> recourse -> transplants -> care
episodes -> follow-ups -> an alert for a missed visit; then a second run."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select
from workflow_scheme import DAY, Scheme, register_swaps

from kidneyshare.care import AlertKind, Stage, load_care_policy
from kidneyshare.registry import CrossmatchOutcome, DonorFacts, RecordConflict, UnitOfWork
from kidneyshare.registry.models import Donor, DonorCareEpisode, Offer, Pair, PlanVersion
from kidneyshare.registry.outcomes import record_crossmatch
from kidneyshare.registry.pool import DonorEntry, register_altruist, register_pair
from kidneyshare.registry.vocabulary import MeasurementKind, MemberStatus, OfferStatus, RunStatus
from kidneyshare.workflows.care import (
    alerts,
    change_stage,
    coordinator_caseload,
    episode_state,
    list_episodes,
    record_measurement,
    record_transplant_with_care,
    record_visit,
)
from kidneyshare.workflows.matching_run import read_policy, run_matching
from kidneyshare.workflows.recourse import repair_run

CARE = load_care_policy("care-nhsbt")
SURGERY = date(2026, 12, 1)


def _offers(scheme: Scheme, run_id: int) -> list[Offer]:
    with scheme.sessions() as session:
        return list(
            session.scalars(
                select(Offer)
                .where(Offer.run_id == run_id, Offer.status != OfferStatus.CANCELLED)
                .order_by(Offer.exchange, Offer.position)
            )
        )


def _crossmatch(scheme: Scheme, offer_id: int, outcome: CrossmatchOutcome) -> None:
    with UnitOfWork(scheme.sessions, scheme.admin) as uow:
        offer = uow.session.get_one(Offer, offer_id)
        record_crossmatch(uow, offer, outcome, DAY, notes="", expected_version=offer.version)


def test_from_registration_to_a_missed_follow_up_over_two_runs(scheme: Scheme) -> None:
    register_swaps(scheme, 3)
    first = run_matching(scheme.sessions, scheme.admin, read_policy("uk"))
    assert first.status is RunStatus.SUCCEEDED and first.transplants == 6
    assert first.exchanges == 3
    assert {c.centre_code for c in first.centres} == {"GLA", "LON"}
    with scheme.sessions() as session:
        run_policy = session.get_one(PlanVersion, 1).run_id
        assert run_policy == first.run_id
    offers = _offers(scheme, first.run_id)
    by_exchange: dict[int, list[Offer]] = {}
    for offer in offers:
        by_exchange.setdefault(offer.exchange, []).append(offer)
    broken, _, agreed = sorted(by_exchange)
    failed = by_exchange[broken][0]
    _crossmatch(scheme, failed.id, CrossmatchOutcome.POSITIVE)
    for offer in by_exchange[agreed]:
        _crossmatch(scheme, offer.id, CrossmatchOutcome.NEGATIVE)

    with UnitOfWork(scheme.sessions, scheme.admin) as uow:
        # re-optimise every exchange not agreed, so the failed pair can re-pair
        repaired = repair_run(uow, first.run_id, keep_unaffected=False)
        version = repaired.plan.number
        record = repaired.plan.repair
    assert version == 2 and record is not None
    after = repaired.repaired.after
    assert after.transplants == 6  # the four others re-pair around the failed arc
    used = {(d.donor, d.patient) for e in after.exchanges for d in e.donations}
    assert (f"D{failed.donor_id}", f"P{failed.patient_id}") not in used
    agreed_pairs = {(f"D{o.donor_id}", f"P{o.patient_id}") for o in by_exchange[agreed]}
    assert agreed_pairs <= used
    assert record["failed_arcs"] == [f"D{failed.donor_id}:P{failed.patient_id}"]
    assert len(record["broken"]) == 1 and record["before"]["transplants"] == 6
    live = [o for o in _offers(scheme, first.run_id) if o.id != failed.id]
    assert {o.plan_version for o in live} == {1, 2}
    assert len(live) == 6 and len(repaired.new_offers) == 4
    # the failed arc's partner, and the unaffected exchange the re-optimisation dissolved
    assert len(repaired.cancelled_offers) == 3
    with (
        pytest.raises(RecordConflict, match="nothing to repair"),
        UnitOfWork(scheme.sessions, scheme.admin) as uow,
    ):
        repair_run(uow, first.run_id)  # the failed arc is no longer planned: no new failure

    # Every live offer goes ahead: crossmatch, transplant, care episode.
    episodes = []
    for offer in live:
        if offer.status is OfferStatus.PROPOSED:
            _crossmatch(scheme, offer.id, CrossmatchOutcome.NEGATIVE)
        with UnitOfWork(scheme.sessions, scheme.admin) as uow:
            row = uow.session.get_one(Offer, offer.id)
            _, episode = record_transplant_with_care(
                uow, row, SURGERY, CARE, expected_version=row.version
            )
            episodes.append(episode.id)
    with scheme.sessions() as session:
        statuses = set(session.scalars(select(Pair.status)))
        assert statuses == {MemberStatus.TRANSPLANTED}
        held = {e.id: e for e in list_episodes(session)}
        stages = {
            episode_state(session, e, CARE, as_of=SURGERY).episode.stage for e in held.values()
        }
    assert sorted(held) == sorted(episodes)
    assert stages == {Stage.SURGERY}

    # Recovery and follow-up for one donor; another misses the 2-week visit.
    seen, missed = episodes[0], episodes[1]
    with UnitOfWork(scheme.sessions, scheme.admin) as uow:
        for stage, day in (
            (Stage.INPATIENT_RECOVERY, SURGERY),
            (Stage.DISCHARGED, SURGERY + timedelta(days=3)),
            (Stage.FOLLOW_UP, SURGERY + timedelta(days=14)),
        ):
            for episode_id in (seen, missed):
                change_stage(uow, episode_id, stage, on=day, reason="recovering")
        record_visit(uow, seen, SURGERY + timedelta(days=14), notes="well")
        record_measurement(
            uow, seen, MeasurementKind.CREATININE, SURGERY + timedelta(days=14), {"umol_per_l": 110}
        )
        record_measurement(
            uow,
            seen,
            MeasurementKind.BLOOD_PRESSURE,
            SURGERY + timedelta(days=14),
            {"systolic": 128, "diastolic": 80},
        )
    as_of = SURGERY + timedelta(days=30)
    with scheme.sessions() as session:
        found = alerts(session, CARE, as_of=as_of)
        overdue = [(e.id, a) for e, a in found if a.kind is AlertKind.OVERDUE_VISIT]
        assert {e for e, _ in overdue} == set(episodes) - {seen}
        assert any(e == missed and "2 weeks" in a.message for e, a in overdue)
        state = episode_state(session, session.get_one(DonorCareEpisode, seen), CARE, as_of=as_of)
        assert state.alerts == () and state.visits[0].held_on == SURGERY + timedelta(days=14)
        coordinator = state.episode.coordinator
        load = coordinator_caseload(session, coordinator, CARE, as_of=as_of)
        assert seen in {int(e.episode_id[1:]) for e in load}
        assert load[-1].overdue_visits == 0  # the donor seen on time is least urgent

    # Run 2: new pairs; a donor who donated cannot come back, under any new code.
    with scheme.sessions() as session:
        row = session.get_one(Donor, live[0].donor_id)
        code, reference, centre = row.code, row.reference, row.centre_id
    with (
        pytest.raises(RecordConflict, match="can never enter a pool again"),
        UnitOfWork(scheme.sessions, scheme.admin) as uow,
    ):
        register_altruist(uow, centre, DonorEntry("NEW-1", reference=reference))
    with (
        pytest.raises(RecordConflict, match="donated a kidney"),
        UnitOfWork(scheme.sessions, scheme.admin) as uow,
    ):
        register_pair(uow, centre, "NEW-P", [DonorEntry(code, facts=DonorFacts(DAY))])
    register_swaps(scheme, 1, prefix="R")
    second = run_matching(scheme.sessions, scheme.admin, read_policy("uk"))
    assert second.status is RunStatus.SUCCEEDED and second.transplants == 2
