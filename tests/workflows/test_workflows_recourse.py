"""Recourse through the workflow, as properties on random pools: the repaired plan never
uses a failed arc or someone who left, never changes an agreed exchange, is verified, and
the offers follow it; and migration 0002 goes down and up with repaired plans stored."""

from __future__ import annotations

import uuid
from datetime import date
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from kidneyshare.formats import dump_native
from kidneyshare.generators import generate_saidman
from kidneyshare.registry import (
    SYSTEM,
    CrossmatchOutcome,
    UnitOfWork,
    downgrade,
    make_engine,
    make_sessions,
    upgrade,
)
from kidneyshare.registry.accounts import create_centre
from kidneyshare.registry.imports import import_pool_text
from kidneyshare.registry.models import Offer, Pair, PlanVersion
from kidneyshare.registry.outcomes import record_crossmatch
from kidneyshare.registry.pool import change_status
from kidneyshare.registry.vocabulary import MemberStatus, OfferStatus, RunStatus
from kidneyshare.workflows.matching_run import read_policy, run_matching
from kidneyshare.workflows.recourse import repair_run

DAY = date(2026, 11, 20)


def _scheme(folder: Path, seed: int) -> tuple[object, int]:
    engine = make_engine(f"sqlite:///{folder / f'r{seed}-{uuid.uuid4().hex}.sqlite3'}")
    upgrade(engine)
    sessions = make_sessions(engine)
    with UnitOfWork(sessions, SYSTEM) as uow:
        centre = create_centre(uow, "GLA", "Glasgow").id
        import_pool_text(
            uow,
            centre,
            dump_native(generate_saidman(14, 2, seed=seed)),
            source_name="pool.json",
            recorded_on=DAY,
        )
    outcome = run_matching(sessions, SYSTEM, read_policy("max-transplants"))
    assert outcome.status is RunStatus.SUCCEEDED
    return engine, outcome.run_id


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(seed=st.integers(0, 10_000), choices=st.data())
def test_recourse_never_uses_a_failure_nor_changes_an_agreed_exchange(
    tmp_path: Path, seed: int, choices: st.DataObject
) -> None:
    engine, run_id = _scheme(tmp_path, seed)
    sessions = make_sessions(engine)
    try:
        with sessions() as session:
            offers = list(session.scalars(select(Offer).where(Offer.run_id == run_id)))
        exchanges = sorted({o.exchange for o in offers})
        if not exchanges:
            return
        agreed = choices.draw(st.sets(st.sampled_from(exchanges), max_size=len(exchanges) - 1))
        rest = [o for o in offers if o.exchange not in agreed]
        failed = choices.draw(
            st.lists(st.sampled_from(rest), min_size=1, max_size=3, unique_by=lambda o: o.id)
        )
        with UnitOfWork(sessions, SYSTEM) as uow:
            for offer in offers:
                row = uow.session.get_one(Offer, offer.id)
                if offer.exchange in agreed:
                    outcome = CrossmatchOutcome.NEGATIVE
                elif offer in failed:
                    outcome = CrossmatchOutcome.POSITIVE
                else:
                    continue
                record_crossmatch(uow, row, outcome, DAY, notes="", expected_version=row.version)
            withdraw = choices.draw(st.booleans())
            leaving = None
            if withdraw:
                candidates = [o.patient_id for o in rest if o not in failed]
                if candidates:
                    leaving = choices.draw(st.sampled_from(candidates))
                    pair = uow.session.scalars(select(Pair).where(Pair.patient_id == leaving)).one()
                    change_status(
                        uow,
                        pair,
                        MemberStatus.WITHDRAWN,
                        reason="moved away",
                        expected_version=pair.version,
                    )
        with UnitOfWork(sessions, SYSTEM) as uow:
            repaired = repair_run(
                uow,
                run_id,
                chain_policy=choices.draw(st.sampled_from(["waiting-list", "re-route"])),
                keep_unaffected=choices.draw(st.booleans()),
            )
        after = repaired.repaired.after
        used = {(d.donor, d.patient) for e in after.exchanges for d in e.donations}
        assert not used & {(f"D{o.donor_id}", f"P{o.patient_id}") for o in failed}
        if leaving is not None:
            assert all(p != f"P{leaving}" for _, p in used)
        for offer in offers:
            if offer.exchange in agreed:
                assert (f"D{offer.donor_id}", f"P{offer.patient_id}") in used
        assert repaired.plan.verification["ok"] is True
        with sessions() as session:
            live = session.scalars(
                select(Offer).where(
                    Offer.run_id == run_id,
                    Offer.status.in_((OfferStatus.PROPOSED, OfferStatus.CROSSMATCH_NEGATIVE)),
                )
            )
            assert {(f"D{o.donor_id}", f"P{o.patient_id}") for o in live} == used
    finally:
        engine.dispose()


def test_migration_0002_goes_down_and_up_with_repaired_plans(tmp_path: Path) -> None:
    engine, run_id = _scheme(tmp_path, 7)
    sessions = make_sessions(engine)
    try:
        with UnitOfWork(sessions, SYSTEM) as uow:
            offer = uow.session.scalars(select(Offer).where(Offer.run_id == run_id)).first()
            assert offer is not None
            record_crossmatch(
                uow, offer, CrossmatchOutcome.POSITIVE, DAY, notes="", expected_version=1
            )
        with UnitOfWork(sessions, SYSTEM) as uow:
            repair_run(uow, run_id)
        with sessions() as session:
            assert session.scalar(select(func.count(PlanVersion.id))) == 2
            kept = session.scalar(
                select(func.count(Offer.id)).where(
                    Offer.plan_version == 1, Offer.status != OfferStatus.CANCELLED
                )
            )
        downgrade(engine, "0001")
        with engine.connect() as connection:
            count = connection.exec_driver_sql("SELECT count(*) FROM offers").scalar()
        assert count == kept
        upgrade(engine)
        with sessions() as session:
            assert session.scalar(select(func.count(PlanVersion.id))) == 0
            assert set(session.scalars(select(Offer.plan_version))) == {1}
    finally:
        engine.dispose()
