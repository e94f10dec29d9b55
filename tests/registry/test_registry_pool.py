"""Pairs, altruists, clinical facts (superseded, never updated), status and the audit log."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from kidneyshare.registry import (
    Actor,
    DonorFacts,
    MemberStatus,
    PatientFacts,
    RecordConflict,
    RecordInvalid,
    UnitOfWork,
    parse_antigens,
)
from kidneyshare.registry.audit_log import list_audit_events
from kidneyshare.registry.models import AuditEvent, Pair, PatientClinicalRecord, StatusChange
from kidneyshare.registry.pool import (
    DonorEntry,
    change_status,
    current_patient_facts,
    get_pair,
    list_pairs,
    pair_donors,
    patient_facts_history,
    record_patient_facts,
    register_altruist,
    register_pair,
    status_history,
)

DAY = date(2026, 11, 20)


def _pair(sessions: sessionmaker[Session], actor: Actor, centre: int, code: str = "P-1") -> int:
    with UnitOfWork(sessions, actor) as uow:
        pair = register_pair(
            uow,
            centre,
            code,
            [
                DonorEntry(
                    f"{code}-D1", "donor ref", DonorFacts(DAY, blood_group="a", a_subgroup="A2")
                )
            ],
            patient_reference="hospital no. 123",
            patient_facts=PatientFacts(
                DAY, blood_group="O", hla=("A2", "b44"), unacceptable_antigens="A9, DR15", cpra=0.4
            ),
        )
        return pair.id


def test_registering_a_pair_stores_facts_and_audits(
    sessions: sessionmaker[Session], admin: Actor, centres: tuple[int, int]
) -> None:
    pair_id = _pair(sessions, admin, centres[0])
    with sessions() as session:
        pair = get_pair(session, pair_id)
        assert pair.status is MemberStatus.ACTIVE and pair.version == 1
        facts = current_patient_facts(session, pair.patient_id)
        assert facts is not None
        assert facts.hla == ["A2", "B44"] and facts.unacceptable_antigens == ["A9", "DR15"]
        (donor,) = pair_donors(session, pair)
        assert donor.code == "P-1-D1"
        events, total = list_audit_events(session, entity="pair", entity_id=str(pair_id))
        assert total == 1 and events[0].action == "pair.register"
        assert events[0].actor == "admin" and events[0].after is not None
        assert events[0].after["status"] == "active"


def test_a_correction_supersedes_and_the_history_shows_both(
    sessions: sessionmaker[Session], admin: Actor, centres: tuple[int, int]
) -> None:
    pair_id = _pair(sessions, admin, centres[0])
    with UnitOfWork(sessions, admin) as uow:
        pair = get_pair(uow.session, pair_id)
        record_patient_facts(
            uow,
            pair,
            PatientFacts(DAY, blood_group="B", cpra=0.5),
            reason="lab error",
            expected_version=1,
        )
    with sessions() as session:
        pair = get_pair(session, pair_id)
        history = patient_facts_history(session, pair.patient_id)
        assert [r.blood_group for r in history] == ["O", "B"]
        assert history[1].supersedes_id == history[0].id and history[1].reason == "lab error"
        current = current_patient_facts(session, pair.patient_id)
        assert current is not None and current.id == history[1].id
        assert pair.version == 2
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "patient.facts")
        ).one()
        assert event.before is not None and event.after is not None
        assert (event.before["blood_group"], event.after["blood_group"]) == ("O", "B")


def test_a_stale_version_is_a_conflict_and_writes_nothing(
    sessions: sessionmaker[Session], admin: Actor, centres: tuple[int, int]
) -> None:
    pair_id = _pair(sessions, admin, centres[0])
    with UnitOfWork(sessions, admin) as uow:
        record_patient_facts(
            uow,
            get_pair(uow.session, pair_id),
            PatientFacts(DAY, cpra=0.1),
            reason="first",
            expected_version=1,
        )
    with (
        pytest.raises(RecordConflict, match="version 2, not 1"),
        UnitOfWork(sessions, admin) as uow,
    ):
        record_patient_facts(
            uow,
            get_pair(uow.session, pair_id),
            PatientFacts(DAY, cpra=0.2),
            reason="second",
            expected_version=1,
        )
    with sessions() as session:
        assert session.scalar(select(func.count(PatientClinicalRecord.id))) == 2
        assert (
            session.scalar(
                select(func.count(AuditEvent.id)).where(AuditEvent.action == "patient.facts")
            )
            == 1
        )


def test_the_update_itself_refuses_a_version_moved_underneath(
    sessions: sessionmaker[Session], admin: Actor, centres: tuple[int, int]
) -> None:
    """The second guard: a writer that passed the version check on its read, whose row
    was changed before its UPDATE (a concurrent commit, played here by a Core UPDATE the
    ORM does not see), is refused by the UPDATE's version condition."""
    pair_id = _pair(sessions, admin, centres[0])
    with (
        pytest.raises(RecordConflict, match="changed by someone else"),
        UnitOfWork(sessions, admin) as uow,
    ):
        pair = get_pair(uow.session, pair_id)
        uow.session.execute(
            update(Pair).where(Pair.id == pair_id).values(version=2),
            execution_options={"synchronize_session": False},
        )
        record_patient_facts(uow, pair, PatientFacts(DAY), reason="late", expected_version=1)
    with sessions() as session:
        assert len(patient_facts_history(session, get_pair(session, pair_id).patient_id)) == 1
        assert get_pair(session, pair_id).version == 1


def test_invalid_facts_name_the_field(sessions: sessionmaker[Session]) -> None:
    with pytest.raises(RecordInvalid, match=r"unacceptable_antigens\[1\]: 'X9'"):
        PatientFacts(DAY, unacceptable_antigens=("A2", "X9"))
    with pytest.raises(RecordInvalid, match="a_subgroup"):
        DonorFacts(DAY, blood_group="O", a_subgroup="A2")
    with pytest.raises(RecordInvalid, match="cpra"):
        PatientFacts(DAY, cpra=1.5)
    with pytest.raises(RecordInvalid, match=r"unacceptable_antigens\[1\]: A9 is listed twice"):
        PatientFacts(DAY, unacceptable_antigens=("A9", "a9"))


def test_a_duplicate_code_writes_nothing(
    sessions: sessionmaker[Session], admin: Actor, centres: tuple[int, int]
) -> None:
    _pair(sessions, admin, centres[0], "P-7")
    with pytest.raises(RecordConflict, match="P-7"):
        _pair(sessions, admin, centres[0], "P-7")
    _pair(sessions, admin, centres[1], "P-7")  # codes are per centre
    with sessions() as session:
        assert list_pairs(session)[1] == 2
        assert list_pairs(session, centre_id=centres[0])[1] == 1


def test_status_changes_follow_the_rules_and_keep_history(
    sessions: sessionmaker[Session], admin: Actor, centres: tuple[int, int]
) -> None:
    with UnitOfWork(sessions, admin) as uow:
        altruist = register_altruist(uow, centres[0], DonorEntry("ND-1"))
        altruist_id = altruist.id
    pair_id = _pair(sessions, admin, centres[0])
    with UnitOfWork(sessions, admin) as uow:
        pair = get_pair(uow.session, pair_id)
        change_status(uow, pair, MemberStatus.SUSPENDED, reason="unwell", expected_version=1)
        change_status(uow, pair, MemberStatus.WITHDRAWN, reason="moved", expected_version=2)
    with (
        pytest.raises(RecordConflict, match="withdrawn; it can become: none"),
        UnitOfWork(sessions, admin) as uow,
    ):
        change_status(
            uow, get_pair(uow.session, pair_id), MemberStatus.ACTIVE, reason="", expected_version=3
        )
    with sessions() as session:
        history = status_history(session, get_pair(session, pair_id))
        assert [c.status for c in history] == [
            MemberStatus.ACTIVE,
            MemberStatus.SUSPENDED,
            MemberStatus.WITHDRAWN,
        ]
        assert list_pairs(session, status=MemberStatus.WITHDRAWN)[1] == 1
        assert (
            session.scalar(
                select(func.count(StatusChange.id)).where(StatusChange.altruist_id == altruist_id)
            )
            == 1
        )


_LOCI = st.sampled_from(["A", "B", "C", "DRB1", "DQB1", "DPB1"])


@given(
    names=st.lists(
        st.one_of(
            st.builds(
                lambda locus, n: f"{locus}{n}",
                st.sampled_from(["A", "B", "Cw", "DR", "DQ"]),
                st.integers(1, 999),
            ),
            st.builds(
                lambda locus, a, b: f"{locus}*{a:02d}:{b:02d}",
                _LOCI,
                st.integers(1, 99),
                st.integers(1, 99),
            ),
        ),
        max_size=8,
    )
)
def test_every_well_formed_hla_name_is_kept_in_order(names: list[str]) -> None:
    assert parse_antigens(" ".join(n.lower() for n in names), "hla", unique=False) == names


@given(
    junk=st.text(min_size=1, max_size=12).filter(
        lambda s: s.strip() and " " not in s and "," not in s
    )
)
def test_text_that_is_no_hla_name_is_refused(junk: str) -> None:
    try:
        names = parse_antigens(junk, "hla", unique=False)
    except RecordInvalid as exc:
        assert exc.field is not None and exc.field.startswith("hla[")
    else:  # the text happened to be an HLA name
        assert len(names) == len(junk.split())
