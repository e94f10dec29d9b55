"""Imports (all or nothing), matching runs (snapshot, solve, verify, store), offers."""

from __future__ import annotations

import hashlib
from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from kidneyshare.errors import FormatError
from kidneyshare.formats import dump_native, parse_native
from kidneyshare.generators import generate_saidman
from kidneyshare.matching import SolverConfig, solve
from kidneyshare.registry import (
    Actor,
    CrossmatchOutcome,
    DonorFacts,
    MemberStatus,
    OfferStatus,
    PatientFacts,
    RecordConflict,
    RunStatus,
    UnitOfWork,
)
from kidneyshare.registry.imports import import_pool_text
from kidneyshare.registry.models import AuditEvent, Donor, ImportedArc, Offer, Patient
from kidneyshare.registry.outcomes import list_offers, record_crossmatch, record_transplant
from kidneyshare.registry.pool import DonorEntry, get_pair, register_pair
from kidneyshare.registry.runs import (
    create_run,
    execute_run,
    get_run,
    interrupt_unfinished,
    restart_run,
)

DAY = date(2026, 11, 20)


def _counts(session: Session) -> tuple[int, int, int, int]:
    return (
        session.scalar(select(func.count(Patient.id))) or 0,
        session.scalar(select(func.count(Donor.id))) or 0,
        session.scalar(select(func.count(ImportedArc.id))) or 0,
        session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "pool.import"))
        or 0,
    )


def test_an_import_writes_every_record_and_one_bad_record_writes_none(
    sessions: sessionmaker[Session], admin: Actor, centres: tuple[int, int]
) -> None:
    pool = generate_saidman(20, 3, seed=11)
    text = dump_native(pool)
    with UnitOfWork(sessions, admin) as uow:
        done = import_pool_text(uow, centres[0], text, source_name="pool.json", recorded_on=DAY)
        assert (done.pairs, done.altruists, done.arcs) == (20, 3, len(pool.arcs))
        assert done.sha256 == hashlib.sha256(text.encode()).hexdigest()
    with sessions() as session:
        assert _counts(session) == (20, 23, len(pool.arcs), 1)
    broken = text.replace('"blood_group": "O"', '"blood_group": "Q"', 1)
    with pytest.raises(FormatError, match=r"pool2\.json"), UnitOfWork(sessions, admin) as uow:
        import_pool_text(uow, centres[1], broken, source_name="pool2.json", recorded_on=DAY)
    with (
        pytest.raises(RecordConflict, match="already registered"),
        UnitOfWork(sessions, admin) as uow,
    ):  # the same file again at the same centre
        import_pool_text(uow, centres[0], text, source_name="pool.json", recorded_on=DAY)
    with sessions() as session:
        assert _counts(session) == (20, 23, len(pool.arcs), 1)


def test_a_run_solves_the_snapshot_verifies_and_stores_offers(
    sessions: sessionmaker[Session], admin: Actor, centres: tuple[int, int]
) -> None:
    pool = generate_saidman(25, 2, seed=5)
    with UnitOfWork(sessions, admin) as uow:
        import_pool_text(uow, centres[0], dump_native(pool), source_name="p.json", recorded_on=DAY)
    config = SolverConfig(max_cycle=3, max_chain=2)
    with UnitOfWork(sessions, admin) as uow:
        run_id = create_run(uow, {"max_cycle": 3, "max_chain": 2}).id
    phases: list[str] = []
    assert execute_run(sessions, run_id, lambda phase, _: phases.append(phase)) is (
        RunStatus.SUCCEEDED
    )
    assert phases == ["solving", "verifying", "storing"]
    expected = solve(pool, config)
    with sessions() as session:
        run = get_run(session, run_id)
        assert hashlib.sha256(run.snapshot.encode()).hexdigest() == run.snapshot_sha256
        snapshot = parse_native(run.snapshot)
        assert len(snapshot.patients) == 25 and len(snapshot.arcs) == len(pool.arcs)
        assert run.verification is not None and run.verification["ok"] is True
        assert run.result is not None
        assert run.result["transplants"] == expected.transplants
        offers, total = list_offers(session, run_id=run_id)
        assert total == expected.transplants
        assert all(o.status is OfferStatus.PROPOSED for o in offers)
        assert list_offers(session, centre_id=centres[1])[1] == 0


def test_registered_pairs_are_matched_by_the_interim_rule(
    sessions: sessionmaker[Session], admin: Actor, centres: tuple[int, int]
) -> None:
    """A-O and O-A swap; a third pair is ruled out by an unacceptable antigen."""
    with UnitOfWork(sessions, admin) as uow:
        for code, patient_group, donor_group, unacceptable, donor_hla in [
            ("X", "A", "O", (), ("A1",)),
            ("Y", "O", "A", (), ("A2",)),
            ("Z", "A", "O", ("A2",), ("B7",)),
        ]:
            register_pair(
                uow,
                centres[0],
                code,
                [
                    DonorEntry(
                        f"{code}d", facts=DonorFacts(DAY, blood_group=donor_group, hla=donor_hla)
                    )
                ],
                patient_facts=PatientFacts(
                    DAY, blood_group=patient_group, unacceptable_antigens=unacceptable
                ),
            )
    with UnitOfWork(sessions, admin) as uow:
        run_id = create_run(uow, {"max_cycle": 2, "max_chain": 0}).id
    assert execute_run(sessions, run_id) is RunStatus.SUCCEEDED
    with sessions() as session:
        run = get_run(session, run_id)
        assert run.result is not None and run.result["transplants"] == 2
        codes = {
            session.get(Patient, o.patient_id).code  # type: ignore[union-attr]
            for o in list_offers(session, run_id=run_id)[0]
        }
        assert codes == {"X", "Y"}


def test_an_interrupted_run_restarts_on_its_own_snapshot(
    sessions: sessionmaker[Session], admin: Actor, centres: tuple[int, int]
) -> None:
    with UnitOfWork(sessions, admin) as uow:
        import_pool_text(
            uow,
            centres[0],
            dump_native(generate_saidman(10, 1, seed=2)),
            source_name="p.json",
            recorded_on=DAY,
        )
        run_id = create_run(uow, {}).id
    assert interrupt_unfinished(sessions) == [run_id]
    with sessions() as session:
        run = get_run(session, run_id)
        assert run.status is RunStatus.INTERRUPTED and run.result is None
        snapshot_hash = run.snapshot_sha256
    with pytest.raises(RecordConflict, match="interrupted"), UnitOfWork(sessions, admin) as uow:
        run = get_run(uow.session, run_id)
        restart_run(uow, run)
        restart_run(uow, run)  # a queued run cannot be restarted
    with UnitOfWork(sessions, admin) as uow:
        restart_run(uow, get_run(uow.session, run_id))
    assert execute_run(sessions, run_id) is RunStatus.SUCCEEDED
    with sessions() as session:
        run = get_run(session, run_id)
        assert run.snapshot_sha256 == snapshot_hash and run.attempts == 1


def test_crossmatch_then_transplant_marks_the_pair(
    sessions: sessionmaker[Session], admin: Actor, centres: tuple[int, int]
) -> None:
    with UnitOfWork(sessions, admin) as uow:
        import_pool_text(
            uow,
            centres[0],
            dump_native(generate_saidman(15, 2, seed=8)),
            source_name="p.json",
            recorded_on=DAY,
        )
        run_id = create_run(uow, {"max_cycle": 3, "max_chain": 2}).id
    execute_run(sessions, run_id)
    with sessions() as session:
        offers = list_offers(session, run_id=run_id)[0]
    assert offers, "the generated pool should allow at least one exchange"
    offer_id = offers[0].id
    with (
        pytest.raises(RecordConflict, match="negative crossmatch first"),
        UnitOfWork(sessions, admin) as uow,
    ):
        record_transplant(uow, uow.session.get_one(Offer, offer_id), DAY, expected_version=1)
    with UnitOfWork(sessions, admin) as uow:
        offer = uow.session.get_one(Offer, offer_id)
        record_crossmatch(uow, offer, CrossmatchOutcome.POSITIVE, DAY, notes="", expected_version=1)
        record_crossmatch(
            uow, offer, CrossmatchOutcome.NEGATIVE, DAY, notes="repeat", expected_version=2
        )
        record_transplant(uow, offer, DAY, expected_version=3)
        patient_id = offer.patient_id
    with sessions() as session:
        offer = session.get_one(Offer, offer_id)
        assert offer.status is OfferStatus.TRANSPLANTED
        from kidneyshare.registry.models import Pair

        pair = session.scalars(select(Pair).where(Pair.patient_id == patient_id)).one()
        assert get_pair(session, pair.id).status is MemberStatus.TRANSPLANTED
