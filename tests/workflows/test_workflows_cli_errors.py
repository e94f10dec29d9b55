"""Bad input to the workflow commands: an unknown run, patient, offer, care episode,
centre or user exits 2 with one line naming the argument and what it named (never 1,
never a traceback), and writes nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from workflow_scheme import Scheme, register_swaps

from kidneyshare.cli.main import main
from kidneyshare.registry.models import AuditEvent
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
