"""The scenario through the ``kidneyshare`` command: run -> offers -> a positive
crossmatch -> repair -> offers accepted -> transplants -> care records -> a missed-visit
alert; and a scheme set up from the command line (centres, users, clinical records
registered) that runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from workflow_scheme import Scheme, register_swaps, run_cli, run_cli_json


def test_the_scenario_from_the_command_line(
    scheme: Scheme, capsys: pytest.CaptureFixture[str]
) -> None:
    register_swaps(scheme, 2)
    started = run_cli_json(capsys, scheme, "run", "start", "--policy", "uk", "--user", "admin")
    assert started["status"] == "succeeded" and started["transplants"] == 4
    assert started["policy"]["name"] == "uk" and set(started["centres"]) == {"GLA", "LON"}
    run = str(started["run"])
    offers = run_cli_json(capsys, scheme, "offers", "list", "--run", run)["offers"]
    assert len(offers) == 4
    first = offers[0]
    code, out = run_cli(
        capsys, scheme, "crossmatch-result", str(first["id"]), "positive", "--on", "2026-11-20"
    )
    assert code == 0 and "crossmatch-positive" in out
    repaired = run_cli_json(capsys, scheme, "run", "repair", run, "--reoptimise-all")
    assert repaired["plan_version"] == 2
    assert repaired["repair"]["failed_arcs"] == [f"D{first['donor']}:P{first['patient']}"]
    shown = run_cli_json(capsys, scheme, "run", "show", run)
    assert [p["number"] for p in shown["plan_versions"]] == [1, 2]
    live = [o for o in shown["offers"] if o["status"] == "proposed"]
    assert live and all(o["plan_version"] == 2 for o in live)
    code, out = run_cli(
        capsys, scheme, "offer-response", str(live[0]["id"]), "decline", "--on", "2026-11-19"
    )
    assert code == 2 and out.count("\n") == 1 and "needs a reason" in out
    episodes = []
    for offer in live:
        code, out = run_cli(
            capsys, scheme, "offer-response", str(offer["id"]), "accept", "--on", "2026-11-19"
        )
        assert code == 0 and out.strip() == f"offer {offer['id']}: accepted", out
        assert (
            run_cli(
                capsys,
                scheme,
                "crossmatch-result",
                str(offer["id"]),
                "negative",
                "--on",
                "2026-11-21",
            )[0]
            == 0
        )
        code, out = run_cli(capsys, scheme, "transplant", str(offer["id"]), "--on", "2026-12-01")
        assert code == 0, out
        episodes.append(int(out.rsplit(" ", 1)[1]))
    seen = str(episodes[0])
    for stage, day in (
        ("inpatient-recovery", "2026-12-01"),
        ("discharged", "2026-12-04"),
        ("follow-up", "2026-12-15"),
    ):
        for episode in episodes:
            assert (
                run_cli(
                    capsys, scheme, "care", "record", str(episode), "--on", day, "--stage", stage
                )[0]
                == 0
            )
    code, out = run_cli(
        capsys,
        scheme,
        "care",
        "record",
        seen,
        "--on",
        "2026-12-15",
        "--visit",
        "--measure",
        "creatinine=105",
        "--measure",
        "bp=126/78",
    )
    assert code == 0 and "visit" in out
    alerts = run_cli_json(capsys, scheme, "care", "alerts", "--as-of", "2027-01-10")["alerts"]
    overdue = {a["episode"] for a in alerts if a["kind"] == "overdue-visit"}
    assert overdue == set(episodes) - {int(seen)}
    caseload = run_cli_json(capsys, scheme, "care", "caseload", "care-gla", "--as-of", "2027-01-10")
    assert all(d["stage"] == "follow-up" for d in caseload["donors"])
    # bad input: one line, exit 2
    code, out = run_cli(capsys, scheme, "care", "record", seen, "--on", "2026-13-01", "--visit")
    assert code == 2 and out.count("\n") == 1 and "--on" in out
    code, out = run_cli(
        capsys, scheme, "care", "record", seen, "--on", "2026-12-20", "--measure", "bp=80/120"
    )
    assert code == 2 and "diastolic" in out


def test_a_scheme_set_up_from_the_command_line(
    scheme: Scheme, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out = run_cli(capsys, scheme, "centre", "add", "EDI", "Edinburgh")
    assert code == 0 and out.startswith("centre EDI: id ")
    code, out = run_cli(
        capsys, scheme, "user", "add", "care-edi", "--role", "care-coordinator", "--centre", "EDI"
    )
    assert code == 0 and out.strip() == "user care-edi: care-coordinator at EDI"
    code, out = run_cli(capsys, scheme, "centre", "add", "edi", "x")
    assert code == 2 and out.count("\n") == 1 and "upper-case" in out
    records = {
        "format": "kidneyshare-clinical",
        "version": 1,
        "patients": [
            {"id": "x1", "abo": "A", "hla": ["A1", "B8"], "unacceptable": [], "centre": "EDI"},
            {"id": "x2", "abo": "B", "unacceptable": ["A*24:02"], "cpra": 0.3, "centre": "GLA"},
        ],
        "donors": [
            {"id": "x1d", "patient": "x1", "abo": "B", "hla": ["A24"], "centre": "EDI"},
            {"id": "x2d", "patient": "x2", "abo": "A2", "hla": ["A2"], "age": 51, "centre": "GLA"},
            {"id": "x3", "abo": "O", "centre": "ZZZ"},
        ],
    }
    path = tmp_path / "records.json"
    path.write_text(json.dumps(records))
    code, out = run_cli(capsys, scheme, "register", str(path), "--on", "2026-11-02")
    assert code == 2 and out.count("\n") == 1
    assert "donors.x3.centre" in out and "'ZZZ'" in out
    records["donors"][2]["centre"] = "EDI"
    path.write_text(json.dumps(records))
    code, out = run_cli(capsys, scheme, "register", str(path), "--on", "2026-11-02")
    assert code == 0 and "registered 2 pairs and 1 altruists" in out
    started = run_cli_json(capsys, scheme, "run", "start", "--policy", "uk", "--user", "admin")
    # x1's donor carries A24, unacceptable to x2 (A*24:02 is A24): only the altruist's
    # chain x3 -> x2 -> x1 works, and the facts came through the registration
    assert started["transplants"] == 2
    offers = run_cli_json(capsys, scheme, "offers", "list", "--centre", "EDI")["offers"]
    assert len(offers) == 2
