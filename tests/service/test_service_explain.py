"""``GET /runs/{id}/explain/{patient}`` on a pool whose reasons are known by construction
(``tests/workflows/explain_pool.py``): the reasons, the what-if re-runs, pseudonyms for
other centres' people, the errors, and the same question answered from the kept
explanation without solving."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from service_scheme import Scheme
from test_service_api import wait_for_run

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "workflows"))

from explain_pool import PAIRS

from kidneyshare.matching import explain as explaining

_CENTRE = {"GLA": "A", "LON": "B"}  # the pool's centres as the service scheme's


def _register(scheme: Scheme) -> dict[str, int]:
    """The pool, registered by each pair's centre coordinator; patient ids by code."""
    patients = {}
    for spec in PAIRS:
        centre = _CENTRE[spec["centre"]]
        body = {
            "patient_code": spec["code"],
            "patient_facts": {"recorded_on": "2026-11-01", **spec["patient"]},
            "donors": [
                {
                    "code": f"{spec['code']}d",
                    "facts": {"recorded_on": "2026-11-01", **spec["donor"]},
                }
            ],
        }
        answer = scheme.client.post(
            "/pairs", json=body, headers=scheme.auth(f"coord-{centre.lower()}")
        )
        assert answer.status_code == 201, answer.text
        patients[spec["code"]] = answer.json()["patient_id"]
    return patients


def _run(scheme: Scheme) -> int:
    started = scheme.client.post(
        "/runs", json={"policy": "max-transplants"}, headers=scheme.auth("admin")
    )
    assert started.status_code == 202, started.text
    run = wait_for_run(scheme, started.json()["id"])
    assert run["status"] == "succeeded" and run["transplants"] == 2
    run_id: int = run["id"]
    return run_id


def _explain(scheme: Scheme, user: str, path: str) -> tuple[int, Any]:
    answer = scheme.client.get(path, headers=scheme.auth(user))
    return answer.status_code, answer.json()


def test_explanations_of_a_stored_run_through_the_api(scheme: Scheme) -> None:
    ids = _register(scheme)
    run = _run(scheme)
    base = f"/runs/{run}/explain"

    status, body = _explain(scheme, "coord-a", f"{base}/{ids['X3']}?abo_incompatible_titre_max=8")
    assert status == 200, body
    assert body["reason"] == "no-compatible-donor" and body["in_snapshot"] is True
    assert body["patient"]["code"] == "X3" and body["patient"]["id"] == ids["X3"]
    assert body["sentence"].startswith("No donor in the pool is compatible with patient X3 (CA)")
    (aboi,) = body["what_if"]
    assert aboi["matched_before"] is False and aboi["matched_after"] is True
    assert (aboi["transplants_before"], aboi["transplants_after"]) == (2, 3)
    assert [p["code"] for p in aboi["newly_matched"]] == ["X3"]

    status, body = _explain(scheme, "coord-a", f"{base}/{ids['X4']}?what_if_max_cycle=4")
    assert status == 200, body
    assert body["reason"] == "only-long-exchanges" and body["shortest_cycle"] == 4
    (relaxed,) = body["what_if"]
    assert relaxed["matched_after"] is True and relaxed["transplants_after"] == 6
    moved = {p["centre_code"]: [] for p in relaxed["newly_matched"]}
    for p in relaxed["newly_matched"]:
        moved[p["centre_code"]].append(p)
    # centre A identifies its own patients only; B's appear by pseudonym
    assert sorted(p["code"] for p in moved["CA"]) == ["X4", "X6"]
    assert all(p["code"] is None and p["id"] is None for p in moved["CB"])
    assert all(p["pseudonym"].startswith("p-") for p in moved["CB"]) and len(moved["CB"]) == 2

    # a matched patient: their exchange, with the other centre's people pseudonymised,
    # in the structure and in the sentence
    status, body = _explain(scheme, "coord-a", f"{base}/{ids['X1']}")
    assert status == 200 and body["reason"] == "matched"
    donations = body["exchange"]["donations"]
    other = next(d["patient"] for d in donations if d["patient"]["centre_code"] == "CB")
    assert other["id"] is None and other["code"] is None
    assert f"{other['pseudonym']} (CB)" in body["sentence"]
    assert f"P{ids['X2']}" not in body["sentence"] and "X2" not in str(body)
    status, admin_view = _explain(scheme, "admin", f"{base}/{ids['X1']}")
    assert status == 200 and "X2 (CB)" in admin_view["sentence"]


def test_what_if_a_new_donor_and_the_notes_through_the_api(scheme: Scheme) -> None:
    ids = _register(scheme)
    run = _run(scheme)
    base = f"/runs/{run}/explain"
    # a second AB donor typed A11 for X4 (GLA, centre A) swaps with X7 (centre B)
    status, body = _explain(
        scheme, "coord-a", f"{base}/{ids['X4']}?what_if_donor=AB&what_if_donor_hla=A11"
    )
    assert status == 200, body
    (added,) = body["what_if"]
    assert added["change"] == "add donor new-donor (for X4 (CA), 1 arcs)"
    assert added["matched_after"] is True and added["transplants_after"] == 4
    (moved,) = [p for p in added["newly_matched"] if p["centre_code"] == "CB"]
    assert moved["code"] is None and moved["pseudonym"].startswith("p-")
    assert body["notes"] == ["add an AB donor (for X4 (CA)): gives to 1 of the run's patients"]
    # anti-B titres are not recorded: said, not guessed
    status, body = _explain(scheme, "coord-a", f"{base}/{ids['X3']}?abo_incompatible_titre_max=8")
    assert status == 200 and any("anti-B titres are not recorded" in n for n in body["notes"])
    assert f"P{ids['X3']}" not in str(body["notes"])
    for query, field in (
        ("what_if_donor=Q", "what_if_donor"),
        ("what_if_donor_hla=A1", "what_if_donor"),
        ("what_if_donor=O&what_if_donor_hla=A999", "what_if_donor_hla"),
        ("what_if_donor=O&what_if_donor_age=200", "what_if_donor_age"),
    ):
        status, body = _explain(scheme, "admin", f"{base}/{ids['X3']}?{query}")
        assert status == 422 and body["detail"][0]["loc"] == ["query", field], (query, body)


def test_explain_access_and_errors(scheme: Scheme) -> None:
    ids = _register(scheme)
    run = _run(scheme)
    base = f"/runs/{run}/explain"
    # the patient's centre and scheme staff may ask; another centre sees no such patient
    for user, expected in (
        ("coord-a", 200),
        ("care-a", 200),
        ("admin", 200),
        ("coord-b", 404),
        ("care-b", 404),
        ("analyst", 403),
    ):
        status, body = _explain(scheme, user, f"{base}/{ids['X3']}")
        assert status == expected, (user, body)
    assert scheme.client.get(f"{base}/{ids['X3']}").status_code == 401
    status, body = _explain(scheme, "admin", f"/runs/{run + 100}/explain/{ids['X3']}")
    assert status == 404 and body["detail"] == f"matching run {run + 100} does not exist"
    status, body = _explain(scheme, "admin", f"{base}/{ids['X7'] + 100}")
    assert status == 404 and "patient" in body["detail"]
    for query, field in (
        ("what_if_max_cycle=7", "what_if_max_cycle"),
        ("what_if_max_chain=-1", "what_if_max_chain"),
        ("abo_incompatible_titre_max=x", "abo_incompatible_titre_max"),
    ):
        status, body = _explain(scheme, "admin", f"{base}/{ids['X3']}?{query}")
        assert status == 422 and body["detail"][0]["loc"] == ["query", field], body
    status, body = _explain(scheme, "admin", f"{base}/0")
    assert status == 422 and body["detail"][0]["loc"] == ["path", "patient_id"]


def test_the_same_question_is_answered_from_the_kept_explanation(
    scheme: Scheme, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = _register(scheme)
    run = _run(scheme)
    path = f"/runs/{run}/explain/{ids['X4']}?what_if_max_cycle=4"
    solves = []
    real_solve = explaining.solve

    def solve_once(*args: object, **kwargs: object) -> object:
        if solves:
            raise AssertionError("the solver was called again")
        solves.append(1)
        return real_solve(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(explaining, "solve", solve_once)
    status, first = _explain(scheme, "coord-a", path)
    assert status == 200, first
    assert solves == [1] and first["what_if"][0]["transplants_after"] == 6
    status, second = _explain(scheme, "coord-a", path)
    assert (status, second) == (200, first)  # read back, not solved
    # the kept explanation is shown as each caller may see it
    status, admin = _explain(scheme, "admin", path)
    assert status == 200 and admin["reason"] == first["reason"]
    assert all(p["id"] is not None for p in admin["what_if"][0]["newly_matched"])
    assert any(p["id"] is None for p in first["what_if"][0]["newly_matched"])
    with pytest.raises(AssertionError, match="called again"):  # another question is solved
        _explain(scheme, "coord-a", f"/runs/{run}/explain/{ids['X4']}?what_if_max_cycle=5")


def test_combined_what_ifs_and_query_error_locations(scheme: Scheme) -> None:
    ids = _register(scheme)
    run = _run(scheme)
    base = f"/runs/{run}/explain"
    query = "what_if_max_cycle=4&abo_incompatible_titre_max=8&what_if_combine=true"
    status, body = _explain(scheme, "coord-a", f"{base}/{ids['X3']}?{query}")
    assert status == 200, body
    (both,) = body["what_if"]
    aboi = "accept ABO-incompatible transplants up to titre 8 (1 arcs)"
    assert both["changes"] == ["relax limits to K=4", aboi]
    assert both["alone"] == [
        {"change": "relax limits to K=4", "matched_after": False},
        {"change": aboi, "matched_after": True},
    ]
    assert both["sentence"].endswith(f"Alone, {aboi} would also match patient X3 (CA).")
    # a patient who was not in the run's pool can only be given an altruist: the query
    # parameter that says so is named where it was given
    late = scheme.client.post(
        "/pairs",
        json={
            "patient_code": "X8",
            "patient_facts": {"recorded_on": "2026-11-01", "blood_group": "A"},
            "donors": [{"code": "X8d", "facts": {"recorded_on": "2026-11-01", "blood_group": "B"}}],
        },
        headers=scheme.auth("coord-a"),
    )
    assert late.status_code == 201, late.text
    status, body = _explain(
        scheme, "coord-a", f"{base}/{late.json()['patient_id']}?what_if_donor=O"
    )
    assert status == 422, body
    assert body["detail"][0]["loc"] == ["query", "what_if_donor_altruist"]
    assert "only be an altruist" in body["detail"][0]["msg"]
