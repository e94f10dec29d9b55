"""Bad input to the workflow commands: an unknown run, patient, offer, care episode,
centre or user exits 2 with one line naming the argument and what it named (never 1,
never a traceback), and writes nothing."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select
from workflow_scheme import Scheme, register_swaps

from kidneyshare.cli.main import main
from kidneyshare.registry import CrossmatchOutcome, UnitOfWork
from kidneyshare.registry.models import AuditEvent, Offer
from kidneyshare.registry.outcomes import record_crossmatch
from kidneyshare.workflows.matching_run import read_policy, run_matching

MISSING = "999"

CASES = [
    (
        ("user", "add", "x", "--role", "care-coordinator", "--centre", "ZZ"),
        "--centre: no centre 'ZZ'",
    ),
    (("run", "show", MISSING), "RUN: matching run 999 does not exist"),
    (("run", "repair", MISSING), "RUN: matching run 999 does not exist"),
    (("run", "explain", MISSING, "1"), "RUN: matching run 999 does not exist"),
    (("run", "explain", "{run}", MISSING), "PATIENT: patient 999 does not exist"),
    (("offers", "list", "--run", MISSING), "--run: matching run 999 does not exist"),
    (("offers", "list", "--centre", "ZZ"), "--centre: no centre 'ZZ'"),
    (
        ("offer-response", MISSING, "accept", "--on", "2026-11-19"),
        "OFFER: offer 999 does not exist",
    ),
    (
        ("crossmatch-result", MISSING, "negative", "--on", "2026-11-19"),
        "OFFER: offer 999 does not exist",
    ),
    (("transplant", MISSING, "--on", "2026-12-01"), "OFFER: offer 999 does not exist"),
    (
        ("care", "record", MISSING, "--on", "2026-12-01", "--visit"),
        "EPISODE: care episode 999 does not exist",
    ),
    (("care", "caseload", "nobody"), "COORDINATOR: no user 'nobody'"),
    (("care", "alerts", "--coordinator", "nobody"), "--coordinator: no user 'nobody'"),
    (("run", "start", "--user", "nobody"), "--user: no active user 'nobody'"),
]


def _audit_events(scheme: Scheme) -> int:
    with scheme.sessions() as session:
        return session.scalar(select(func.count(AuditEvent.id))) or 0


@pytest.mark.parametrize(("argv", "message"), CASES, ids=[" ".join(a[:2]) for a, _ in CASES])
def test_an_unknown_id_or_name_exits_2_with_one_line(
    scheme: Scheme, capsys: pytest.CaptureFixture[str], argv: tuple[str, ...], message: str
) -> None:
    register_swaps(scheme, 1)
    run = run_matching(scheme.sessions, scheme.admin, read_policy("max-transplants")).run_id
    before = _audit_events(scheme)
    with pytest.raises(SystemExit) as stop:
        main([*(a.format(run=run) for a in argv), "--database-url", scheme.url])
    captured = capsys.readouterr()
    assert stop.value.code == 2, captured.err
    assert captured.out == ""
    assert captured.err == f"kidneyshare: error: {message}\n"
    assert _audit_events(scheme) == before


# A value the workflow refuses is reported against the command-line argument that gave
# it, never the service's body field (``coordinator``, ``born_on``, ``centre_id``).
REFUSED_VALUES = [
    (
        ("transplant", "{offer}", "--on", "2026-12-01", "--coordinator", "nobody"),
        "--coordinator: 'nobody' is not an active care coordinator",
    ),
    (
        ("transplant", "{offer}", "--on", "2026-12-01", "--coordinator", "care-lon"),
        "--coordinator: care coordinator care-lon works for another centre than the donor's",
    ),
    (("transplant", "{offer}", "--on", "2026-12-01", "--sex", "X"), "--sex: donor "),
    (("transplant", "{offer}", "--on", "1800-01-01"), "--on: expected a day from 1900-01-01"),
    (
        ("offer-response", "{offer}", "decline", "--on", "2026-11-19"),
        "--reason: offer {offer}: a decline needs a reason",
    ),
    (("centre", "add", "edi", "Edinburgh"), "CODE: expected 1-16 upper-case letters"),
    (("centre", "add", "EDI", " "), "NAME: expected the centre's name"),
    (("user", "add", "X!", "--role", "analyst"), "USERNAME: expected 2-64 lower-case"),
    (
        ("user", "add", "xy", "--role", "care-coordinator"),
        "--centre: a care-coordinator belongs to a centre",
    ),
    (("care", "alerts", "--as-of", "1800-01-01"), "--as-of: expected a day from 1900-01-01"),
    (
        ("care", "caseload", "care-gla", "--as-of", "1800-01-01"),
        "--as-of: expected a day from 1900-01-01",
    ),
    (
        ("run", "explain", "{run}", "{patient}", "--what-if-donor", "Q"),
        "--what-if-donor: the blood group: unknown ABO group 'Q'",
    ),
    (
        ("run", "explain", "{run}", "{patient}", "--what-if-donor", "O",
         "--what-if-donor-hla", "A999"),
        "--what-if-donor-hla: the HLA: ",
    ),
    (
        ("run", "explain", "{run}", "{patient}", "--what-if-donor", "O",
         "--what-if-donor-age", "300"),
        "--what-if-donor-age: ",
    ),
]  # fmt: skip


@pytest.mark.parametrize(
    ("argv", "message"), REFUSED_VALUES, ids=[" ".join(a[:3]) for a, _ in REFUSED_VALUES]
)
def test_a_refused_value_names_the_option_that_gave_it(
    scheme: Scheme, capsys: pytest.CaptureFixture[str], argv: tuple[str, ...], message: str
) -> None:
    register_swaps(scheme, 1)
    run = run_matching(scheme.sessions, scheme.admin, read_policy("max-transplants")).run_id
    with scheme.sessions() as session:
        offer = session.scalars(
            select(Offer).where(Offer.patient_centre_id == scheme.centres["GLA"])
        ).first()
        assert offer is not None
        values = {"run": run, "offer": offer.id, "patient": offer.patient_id}
    with UnitOfWork(scheme.sessions, scheme.admin) as uow:  # ready for a transplant
        offer = uow.session.get_one(Offer, values["offer"])
        negative = CrossmatchOutcome.NEGATIVE
        day = date(2026, 11, 20)
        record_crossmatch(uow, offer, negative, day, notes="", expected_version=offer.version)
    before = _audit_events(scheme)
    with pytest.raises(SystemExit) as stop:
        main([*(a.format(**values) for a in argv), "--database-url", scheme.url])
    captured = capsys.readouterr()
    assert stop.value.code == 2, captured.err
    assert captured.out == ""
    assert captured.err.startswith(f"kidneyshare: error: {message.format(**values)}")
    assert captured.err.count("\n") == 1
    assert _audit_events(scheme) == before
