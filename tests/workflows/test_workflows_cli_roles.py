"""``--user`` on the workflow commands applies the service's access rules
(``registry/access.py``) and pseudonyms: centres see their own patients and offers,
other centres' people by pseudonym; care coordinators read their own caseload; only an
administrator adds centres and users, a centre coordinator registers their own centre's
records; a role without the permission is refused with one line, exit 2, nothing written."""

from __future__ import annotations

import getpass
import json
from pathlib import Path
from typing import Any

import pytest
from explain_pool import register_pool
from sqlalchemy import func, select
from workflow_scheme import Scheme, register_swaps, run_cli, run_cli_json

from kidneyshare.registry.accounts import scheme_secret
from kidneyshare.registry.models import AuditEvent, Centre, Pair, User
from kidneyshare.registry.pseudonyms import Pseudonymiser


def _people(document: Any) -> list[dict[str, Any]]:
    """Every person reference in an explanation document."""
    found = []
    if isinstance(document, dict):
        if set(document) == {"pseudonym", "centre_code", "id", "code"}:
            return [document]
        for value in document.values():
            found += _people(value)
    elif isinstance(document, list):
        for value in document:
            found += _people(value)
    return found


def _shape(document: Any) -> Any:
    """The keys of a JSON document, nested (values left out)."""
    if isinstance(document, dict):
        return {key: _shape(value) for key, value in document.items()}
    if isinstance(document, list):
        return [_shape(value) for value in document]
    return None


def test_the_cli_applies_the_service_s_roles_and_pseudonyms(
    scheme: Scheme, capsys: pytest.CaptureFixture[str]
) -> None:
    for argv in (
        ("user", "add", "coord-gla", "--role", "centre-coordinator", "--centre", "GLA"),
        ("user", "add", "analyst", "--role", "analyst"),
    ):
        assert run_cli(capsys, scheme, *argv)[0] == 0
    ids, _ = register_pool(scheme)  # X1 (GLA) and X2 (LON) swap
    register_swaps(scheme, 2)
    run = str(
        run_cli_json(capsys, scheme, "run", "start", "--policy", "uk", "--user", "admin")["run"]
    )
    pseudonyms = Pseudonymiser(bytes.fromhex(scheme_secret(scheme.sessions, "pseudonyms")))
    gla = scheme.centres["GLA"]
    with scheme.sessions() as session:
        centre_of = {p.patient_id: p.centre_id for p in session.query(Pair)}

    every = run_cli_json(capsys, scheme, "offers", "list", "--run", run)["offers"]
    assert every and all(o["donor"] is not None for o in every)  # the system sees all
    own = run_cli_json(capsys, scheme, "offers", "list", "--run", run, "--user", "coord-gla")[
        "offers"
    ]
    assert {o["id"] for o in own} == {
        o["id"] for o in every if "GLA" in (o["donor_centre"], o["patient_centre"])
    }
    for o in own:
        for role, pseudonym in (("donor", pseudonyms.donor), ("patient", pseudonyms.patient)):
            whole = next(x for x in every if x["id"] == o["id"])
            assert o[f"{role}_pseudonym"] == pseudonym(whole[role])  # the service's
            assert (o[role] is None) == (o[f"{role}_centre"] != "GLA")
    # --centre cannot widen a centre's view (as the service's list scope)
    wider = run_cli_json(
        capsys, scheme, "offers", "list", "--centre", "LON", "--user", "coord-gla"
    )["offers"]
    assert {o["id"] for o in wider} <= {o["id"] for o in own}
    shown = run_cli_json(capsys, scheme, "run", "show", run, "--user", "coord-gla")
    assert {o["id"] for o in shown["offers"]} == {o["id"] for o in own}
    assert run_cli_json(capsys, scheme, "run", "show", run, "--user", "analyst")["offers"] == []

    # X1's exchange names X2 and their donor, whom GLA may not identify
    ours = ids["X1"]
    theirs = next(p for p, c in centre_of.items() if c != gla)
    explained = run_cli_json(
        capsys, scheme, "run", "explain", run, str(ours), "--user", "coord-gla"
    )
    assert explained["reason"] == "matched" and explained["patient"]["id"] == ours
    people = _people(explained)
    assert all((p["id"] is None) == (p["centre_code"] != "GLA") for p in people)
    hidden = [p for p in people if p["id"] is None]
    assert hidden and all(f"{p['pseudonym']} (LON)" in explained["sentence"] for p in hidden)
    assert f"P{ours}" not in explained["sentence"]
    # one shape with or without --user: the system (as an administrator) identifies all
    plain = run_cli_json(capsys, scheme, "run", "explain", run, str(ours))
    assert _shape(plain) == _shape(explained)
    assert plain == run_cli_json(
        capsys, scheme, "run", "explain", run, str(ours), "--user", "admin"
    )
    assert all(p["id"] is not None for p in _people(plain))
    code, out = run_cli(capsys, scheme, "run", "explain", run, str(theirs), "--user", "coord-gla")
    assert (code, out) == (2, f"kidneyshare: error: PATIENT: patient {theirs} does not exist\n")
    code, out = run_cli(capsys, scheme, "run", "explain", run, str(ours), "--user", "analyst")
    assert (code, out) == (
        2,
        "kidneyshare: error: --user: analyst: a analyst may not read pool\n",
    )

    lon_only = [o for o in every if "GLA" not in (o["donor_centre"], o["patient_centre"])]
    if lon_only:
        offer = str(lon_only[0]["id"])
        code, out = run_cli(
            capsys, scheme, "offer-response", offer, "accept", "--on", "2026-11-19",
            "--user", "coord-gla",
        )  # fmt: skip
        assert (code, out) == (2, f"kidneyshare: error: OFFER: offer {offer} does not exist\n")
    code, out = run_cli(capsys, scheme, "run", "start", "--user", "coord-gla")
    assert code == 2 and "--user: coord-gla: a centre-coordinator may not start runs" in out
    code, out = run_cli(capsys, scheme, "care", "caseload", "care-lon", "--user", "care-gla")
    assert code == 2 and "a care coordinator reads their own caseload" in out
    assert run_cli_json(capsys, scheme, "care", "caseload", "care-gla", "--user", "care-gla")
    code, out = run_cli(capsys, scheme, "care", "alerts", "--user", "coord-gla")
    assert code == 2 and "may not read care" in out


def _written(scheme: Scheme) -> tuple[int, int, int, int]:
    """Centres, users, pairs and audit events stored."""
    with scheme.sessions() as session:
        return tuple(  # type: ignore[return-value]
            session.scalar(select(func.count()).select_from(table)) or 0
            for table in (Centre, User, Pair, AuditEvent)
        )


def test_setting_up_a_scheme_takes_the_service_s_roles(
    scheme: Scheme,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for argv in (
        ("user", "add", "coord-gla", "--role", "centre-coordinator", "--centre", "GLA"),
        ("user", "add", "analyst", "--role", "analyst"),
    ):
        assert run_cli(capsys, scheme, *argv)[0] == 0

    def no_prompt(prompt: str) -> str:
        raise AssertionError(f"asked {prompt!r} of a user who may not add users")

    monkeypatch.setattr(getpass, "getpass", no_prompt)

    def records(*centres: str) -> str:
        patients = [{"id": f"r{i}", "abo": "A", "centre": c} for i, c in enumerate(centres)]
        donors = [
            {"id": f"r{i}d", "patient": f"r{i}", "abo": "B", "centre": c}
            for i, c in enumerate(centres)
        ]
        path = tmp_path / f"records-{'-'.join(centres)}.json"
        document = {"format": "kidneyshare-clinical", "version": 1}
        path.write_text(json.dumps({**document, "patients": patients, "donors": donors}))
        return str(path)

    manage, edit, care = "may not manage scheme", "may not edit pool", "a care-coordinator"
    own = "a centre coordinator registers at their own centre only (patient r1 is at LON)"
    refused = [
        (("centre", "add", "EDI", "Edinburgh"), "coord-gla", f"a centre-coordinator {manage}"),
        (("user", "add", "x", "--password", "--role", "analyst"), "care-gla", f"{care} {manage}"),
        (("user", "add", "x", "--role", "analyst"), "analyst", f"a analyst {manage}"),
        (("register", records("GLA")), "analyst", f"a analyst {edit}"),
        (("register", records("GLA")), "care-gla", f"{care} {edit}"),
        (("register", records("GLA", "LON")), "coord-gla", own),
    ]  # fmt: skip
    before = _written(scheme)
    for argv, user, why in refused:
        code, out = run_cli(capsys, scheme, *argv, "--user", user)
        assert (code, out) == (2, f"kidneyshare: error: --user: {user}: {why}\n")
        assert _written(scheme) == before  # nothing written, not even an audit event

    code, out = run_cli(capsys, scheme, "register", records("GLA"), "--user", "coord-gla")
    assert code == 0 and "registered 1 pairs" in out
    code, out = run_cli(capsys, scheme, "centre", "add", "EDI", "Edinburgh", "--user", "admin")
    assert code == 0 and out.startswith("centre EDI: id ")
    code, out = run_cli(
        capsys, scheme, "user", "add", "coord-edi", "--role", "centre-coordinator",
        "--centre", "EDI", "--user", "admin",
    )  # fmt: skip
    assert code == 0 and out.strip() == "user coord-edi: centre-coordinator at EDI"
    code, out = run_cli(capsys, scheme, "register", records("EDI", "LON"), "--user", "admin")
    assert code == 0 and "registered 2 pairs" in out
