"""The issue's scenario through the REST API on SQLite and PostgreSQL: register ->
run -> offers (accepted) -> one crossmatch fails -> recourse -> transplants -> care episodes ->
follow-ups -> an alert for a missed visit; a donor who donated cannot come back."""

from __future__ import annotations

from typing import Any

from service_scheme import Scheme
from test_service_api import wait_for_run


def _pair(n: int) -> dict[str, Any]:
    patient, donor = ("A", "B") if n % 2 == 0 else ("B", "A")
    return {
        "patient_code": f"W-{n}",
        "patient_facts": {"recorded_on": "2026-11-01", "blood_group": patient},
        "donors": [
            {
                "code": f"WD-{n}",
                "reference": f"NHS {n:04d}",
                "facts": {"recorded_on": "2026-11-01", "blood_group": donor, "age": 45, "sex": "M"},
            }
        ],
    }


def test_the_scenario_through_the_api(scheme: Scheme) -> None:
    c = scheme.client
    admin = scheme.auth("admin")
    for n in range(6):
        user = "coord-a" if n < 4 else "coord-b"
        assert c.post("/pairs", json=_pair(n), headers=scheme.auth(user)).status_code == 201
    refused = c.post("/runs", json={"policy": "/etc/passwd"}, headers=admin)
    assert refused.status_code == 422 and "uk-nhsbt" in refused.text
    started = c.post("/runs", json={"policy": "uk", "levels": ["transplants"]}, headers=admin)
    assert started.status_code == 202, started.text
    run = wait_for_run(scheme, started.json()["id"])
    assert run["status"] == "succeeded" and run["transplants"] == 6
    assert run["policy"]["name"] == "uk" and run["config"]["levels"] == ["transplants"]
    plans = c.get(f"/runs/{run['id']}/plans", headers=admin).json()
    assert [p["number"] for p in plans] == [1] and plans[0]["transplants"] == 6
    offers = c.get(f"/offers?run_id={run['id']}", headers=admin).json()["items"]
    exchanges = sorted({o["exchange"] for o in offers})
    failed = next(o for o in offers if o["exchange"] == exchanges[0])

    def crossmatch(offer: dict[str, Any], outcome: str) -> dict[str, Any]:
        answer = c.post(
            f"/offers/{offer['id']}/crossmatch",
            json={"outcome": outcome, "performed_on": "2026-11-20"},
            headers=scheme.auth("admin", **{"If-Match": f'"{offer["version"]}"'}),
        )
        assert answer.status_code == 200, answer.text
        result: dict[str, Any] = answer.json()
        return result

    crossmatch(failed, "positive")
    repaired = c.post(f"/runs/{run['id']}/repair", json={"keep_unaffected": False}, headers=admin)
    assert repaired.status_code == 201, repaired.text
    plan = repaired.json()
    assert plan["number"] == 2 and plan["transplants"] == 6 and plan["new_offers"]
    arc = f"D{failed['donor']['id']}:P{failed['patient']['id']}"
    assert plan["repair"]["failed_arcs"] == [arc]
    again = c.post(f"/runs/{run['id']}/repair", json={}, headers=admin)
    assert again.status_code == 409 and "nothing to repair" in again.json()["detail"]
    seen_plans = c.get(f"/runs/{run['id']}/plans", headers=scheme.auth("coord-b")).json()
    assert [p["number"] for p in seen_plans] == [1, 2] and seen_plans[1]["repair"] is None

    live = c.get(f"/offers?run_id={run['id']}&status=proposed", headers=admin).json()["items"]
    assert len(live) == 6

    def respond(offer: dict[str, Any], body: dict[str, Any]) -> Any:
        return c.post(
            f"/offers/{offer['id']}/response",
            json={"responded_on": "2026-11-19", **body},
            headers=scheme.auth("admin", **{"If-Match": f'"{offer["version"]}"'}),
        )

    unexplained = respond(live[0], {"accepted": False})
    assert unexplained.status_code == 422 and "reason" in unexplained.text
    accepted = []
    for offer in live:
        answer = respond(offer, {"accepted": True})
        assert answer.status_code == 200 and answer.json()["status"] == "accepted", answer.text
        accepted.append(answer.json())
    assert respond(accepted[0], {"accepted": True}).status_code == 409
    for offer in accepted:
        done = crossmatch(offer, "negative")
        tx = c.post(
            f"/offers/{offer['id']}/transplant",
            json={"performed_on": "2026-12-01"},
            headers=scheme.auth("admin", **{"If-Match": f'"{done["version"]}"'}),
        )
        assert tx.status_code == 200, tx.text
    episodes = c.get("/care/episodes?as_of=2026-12-01", headers=admin).json()
    assert len(episodes) == 6 and {e["stage"] for e in episodes} == {"surgery"}
    mine = c.get("/care/episodes", headers=scheme.auth("care-b")).json()
    assert mine and {e["centre_id"] for e in mine} == {scheme.centres["B"]}
    assert c.get("/care/episodes", headers=scheme.auth("coord-a")).status_code == 403

    ids = [e["id"] for e in episodes if e["centre_id"] == scheme.centres["A"]]
    seen, missed = ids[0], ids[1]
    care_a = scheme.auth("care-a")
    for stage, day in (
        ("inpatient-recovery", "2026-12-01"),
        ("discharged", "2026-12-04"),
        ("follow-up", "2026-12-15"),
    ):
        for episode in (seen, missed):
            answer = c.post(
                f"/care/episodes/{episode}/stage",
                json={"to_stage": stage, "on": day, "reason": "recovering"},
                headers=care_a,
            )
            assert answer.status_code == 200, answer.text
    wrong = c.post(
        f"/care/episodes/{seen}/stage",
        json={"to_stage": "withdrawn", "on": "2026-12-16", "reason": "x"},
        headers=care_a,
    )
    assert wrong.status_code == 409 and "not allowed" in wrong.json()["detail"]
    visit = c.post(f"/care/episodes/{seen}/visits", json={"held_on": "2026-12-15"}, headers=care_a)
    assert visit.status_code == 201
    bp = c.post(
        f"/care/episodes/{seen}/measurements",
        json={
            "kind": "blood-pressure",
            "taken_on": "2026-12-15",
            "value": {"systolic": 150, "diastolic": 85},
        },
        headers=care_a,
    )
    assert bp.status_code == 201 and [a["kind"] for a in bp.json()["alerts"]] == ["hypertension"]
    bad = c.post(
        f"/care/episodes/{seen}/measurements",
        json={"kind": "creatinine", "taken_on": "2026-12-15", "value": {"umol_per_l": 9000}},
        headers=care_a,
    )
    assert bad.status_code == 422 and "creatinine" in bad.text
    alerts = c.get("/care/alerts?as_of=2027-01-10", headers=care_a).json()
    overdue = {a["episode_id"] for a in alerts if a["kind"] == "overdue-visit"}
    assert missed in overdue and seen not in overdue
    caseload = c.get("/care/caseload?as_of=2027-01-10", headers=care_a).json()
    assert caseload and {e["episode_id"] for e in caseload} <= set(ids)
    assert c.get("/care/caseload?coordinator=care-b", headers=care_a).status_code == 403

    # A donor who has donated is refused as a new altruist under the same reference.
    again_donor = c.post(
        "/altruists",
        json={"donor": {"code": "ND-1", "reference": "nhs 0000"}},
        headers=scheme.auth("coord-a"),
    )
    assert again_donor.status_code == 409 and "can never enter a pool again" in again_donor.text
