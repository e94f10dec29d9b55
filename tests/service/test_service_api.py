"""The API end to end: sign-in, registration, corrections with versions, imports, runs,
offers and outcomes, on SQLite and PostgreSQL."""

from __future__ import annotations

import time
from typing import Any

from service_scheme import Scheme

from kidneyshare.formats import dump_native
from kidneyshare.generators import generate_saidman

PAIR = {
    "patient_code": "P-1",
    "patient_reference": "MRN 0042",
    "patient_facts": {
        "recorded_on": "2026-11-01",
        "blood_group": "O",
        "cpra": 0.2,
        "hla": ["A2", "B44"],
        "unacceptable_antigens": ["A9"],
    },
    "donors": [
        {
            "code": "D-1",
            "reference": "spouse",
            "facts": {"recorded_on": "2026-11-01", "blood_group": "A", "hla": ["A24"]},
        }
    ],
}


def _register(scheme: Scheme, user: str = "coord-a", body: dict[str, Any] = PAIR) -> Any:
    answer = scheme.client.post("/pairs", json=body, headers=scheme.auth(user))
    assert answer.status_code == 201, answer.text
    return answer


def test_sign_in_rejects_a_wrong_password_and_bad_tokens(scheme: Scheme) -> None:
    c = scheme.client
    assert c.post("/auth/token", data={"username": "admin", "password": "nope"}).status_code == 401
    assert c.post("/auth/token", data={"username": "ghost", "password": "x"}).status_code == 401
    assert c.get("/auth/me").status_code == 401
    assert (
        c.get("/auth/me", headers={"Authorization": "Bearer forged.token.here"}).status_code == 401
    )
    me = c.get("/auth/me", headers=scheme.auth("coord-a")).json()
    assert me["role"] == "centre-coordinator" and me["centre_id"] == scheme.centres["A"]


def test_api_tokens_sign_systems_in_and_deactivation_locks_out(scheme: Scheme) -> None:
    c = scheme.client
    users = c.get("/users", headers=scheme.auth("admin")).json()["items"]
    lab = next(u for u in users if u["username"] == "care-a")
    issued = c.post(
        f"/users/{lab['id']}/api-tokens", json={"name": "lab"}, headers=scheme.auth("admin")
    )
    assert issued.status_code == 201
    token = issued.json()["token"]
    assert (
        c.get("/auth/me", headers={"Authorization": f"Bearer {token}"}).json()["username"]
        == "care-a"
    )
    off = c.patch(
        f"/users/{lab['id']}",
        json={"active": False},
        headers=scheme.auth("admin", **{"If-Match": f'"{lab["version"]}"'}),
    )
    assert off.status_code == 200, off.text
    assert c.get("/auth/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_register_read_correct_with_versions_and_history(scheme: Scheme) -> None:
    c = scheme.client
    created = _register(scheme)
    pair = created.json()
    assert created.headers["ETag"] == '"1"'
    assert pair["patient_facts"]["unacceptable_antigens"] == ["A9"]
    url = f"/pairs/{pair['id']}"
    fix = {"recorded_on": "2026-11-02", "blood_group": "B", "reason": "typing error"}
    no_version = c.post(f"{url}/patient-facts", json=fix, headers=scheme.auth("coord-a"))
    assert no_version.status_code == 428
    ok = c.post(
        f"{url}/patient-facts", json=fix, headers=scheme.auth("coord-a", **{"If-Match": '"1"'})
    )
    assert ok.status_code == 200 and ok.headers["ETag"] == '"2"'
    stale = c.post(
        f"{url}/patient-facts", json=fix, headers=scheme.auth("coord-a", **{"If-Match": '"1"'})
    )
    assert stale.status_code == 409
    history = c.get(f"{url}/history", headers=scheme.auth("care-a")).json()
    assert [r["blood_group"] for r in history["patient"]] == ["O", "B"]
    assert history["patient"][1]["supersedes_id"] == history["patient"][0]["id"]
    withdrawn = c.post(
        f"{url}/status",
        json={"status": "withdrawn", "reason": "moved"},
        headers=scheme.auth("coord-a", **{"If-Match": '"2"'}),
    )
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "withdrawn"
    listed = c.get("/pairs?status=withdrawn", headers=scheme.auth("admin")).json()
    assert listed["total"] == 1 and listed["items"][0]["id"] == pair["id"]
    audit = c.get(f"/audit?entity=pair&entity_id={pair['id']}", headers=scheme.auth("admin"))
    assert [e["action"] for e in audit.json()["items"]] == [
        "pair.status",
        "patient.facts",
        "pair.register",
    ]


def test_invalid_payloads_get_422_with_the_field_and_write_nothing(scheme: Scheme) -> None:
    c = scheme.client
    events_before = c.get("/audit", headers=scheme.auth("admin")).json()["total"]
    bad_hla = {
        **PAIR,
        "patient_facts": {**PAIR["patient_facts"], "unacceptable_antigens": ["A9", "XYZ"]},
    }
    answer = c.post("/pairs", json=bad_hla, headers=scheme.auth("coord-a"))
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["loc"] == [
        "body",
        "patient_facts",
        "unacceptable_antigens",
        "1",
    ]
    bad_donor = {
        **PAIR,
        "donors": [
            {
                "code": "D-2",
                "facts": {"recorded_on": "2026-11-01", "blood_group": "O", "a_subgroup": "A2"},
            }
        ],
    }
    answer = c.post("/pairs", json=bad_donor, headers=scheme.auth("coord-a"))
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["loc"] == ["body", "donors", "0", "facts", "a_subgroup"]
    missing = c.post("/pairs", json={"patient_code": "P-9"}, headers=scheme.auth("coord-a"))
    assert missing.status_code == 422
    assert missing.json()["detail"][0]["loc"] == ["body", "donors"]
    extra = c.post("/pairs", json={**PAIR, "nickname": "x"}, headers=scheme.auth("coord-a"))
    assert extra.status_code == 422
    assert c.get("/pairs", headers=scheme.auth("admin")).json()["total"] == 0
    assert c.get("/audit", headers=scheme.auth("admin")).json()["total"] == events_before


def test_pagination_and_filters(scheme: Scheme) -> None:
    for i in range(7):
        body = {**PAIR, "patient_code": f"P-{i}", "donors": [{"code": f"D-{i}"}]}
        _register(scheme, "coord-a" if i % 2 else "coord-b", body)
    c = scheme.client
    page = c.get("/pairs?limit=3&offset=3", headers=scheme.auth("admin")).json()
    assert (page["total"], len(page["items"]), page["offset"]) == (7, 3, 3)
    ids = [p["id"] for p in c.get("/pairs?limit=200", headers=scheme.auth("admin")).json()["items"]]
    assert ids == sorted(ids)
    own = c.get("/pairs", headers=scheme.auth("coord-a")).json()
    assert own["total"] == 3 and {p["centre_id"] for p in own["items"]} == {scheme.centres["A"]}
    assert c.get("/pairs?limit=0", headers=scheme.auth("admin")).status_code == 422
    assert c.get("/pairs?limit=500", headers=scheme.auth("admin")).status_code == 422


def test_an_import_is_all_or_nothing(scheme: Scheme) -> None:
    c = scheme.client
    text = dump_native(generate_saidman(30, 3, seed=4))
    broken = text.replace('"patient": "p3"', '"patient": "nobody"', 1)
    answer = c.post(
        "/imports", files={"file": ("pool.json", broken)}, headers=scheme.auth("coord-a")
    )
    assert answer.status_code == 422, answer.text
    assert "pool.json" in answer.json()["detail"][0]["msg"]
    assert c.get("/pairs", headers=scheme.auth("admin")).json()["total"] == 0
    done = c.post("/imports", files={"file": ("pool.json", text)}, headers=scheme.auth("coord-a"))
    assert done.status_code == 201, done.text
    assert (done.json()["pairs"], done.json()["altruists"]) == (30, 3)
    again = c.post("/imports", files={"file": ("pool.json", text)}, headers=scheme.auth("coord-a"))
    assert again.status_code == 409
    assert c.get("/pairs", headers=scheme.auth("admin")).json()["total"] == 30


def wait_for_run(scheme: Scheme, run_id: int, user: str = "admin") -> dict[str, Any]:
    """Poll the run until it ends (bounded: at most 600 polls)."""
    for _ in range(600):
        run: dict[str, Any] = scheme.client.get(f"/runs/{run_id}", headers=scheme.auth(user)).json()
        if run["status"] in ("succeeded", "failed", "interrupted"):
            return run
        time.sleep(0.1)
    raise AssertionError(f"run {run_id} did not finish: {run}")


def test_a_run_offers_crossmatch_and_transplant(scheme: Scheme) -> None:
    c = scheme.client
    for user, seed in (("coord-a", 1), ("coord-b", 2)):
        text = dump_native(generate_saidman(15, 1, seed=seed))
        assert (
            c.post(
                "/imports", files={"file": ("p.json", text)}, headers=scheme.auth(user)
            ).status_code
            == 201
        )
    started = c.post("/runs", json={"max_cycle": 3, "max_chain": 2}, headers=scheme.auth("admin"))
    assert started.status_code == 202, started.text
    run = wait_for_run(scheme, started.json()["id"])
    assert run["status"] == "succeeded" and run["verification"]["ok"] is True
    assert run["transplants"] > 0 and len(run["snapshot_sha256"]) == 64
    # coordinators see their own people identified, others by pseudonym only
    seen = wait_for_run(scheme, run["id"], "coord-a")
    for exchange in seen["exchanges"]:
        for donation in exchange["donations"]:
            for person in (donation["donor"], donation["patient"]):
                assert (person["code"] is not None) == (person["centre_code"] == "CA")
    analyst = wait_for_run(scheme, run["id"], "analyst")
    assert all(
        p["code"] is None and p["id"] is None
        for e in analyst["exchanges"]
        for d in e["donations"]
        for p in (d["donor"], d["patient"])
    )
    offers = c.get(f"/offers?run_id={run['id']}", headers=scheme.auth("care-a")).json()
    assert offers["total"] > 0
    offer = offers["items"][0]
    url = f"/offers/{offer['id']}"
    xm = c.post(
        f"{url}/crossmatch",
        json={"outcome": "negative", "performed_on": "2026-11-20"},
        headers=scheme.auth("care-a", **{"If-Match": f'"{offer["version"]}"'}),
    )
    assert xm.status_code == 200 and xm.json()["status"] == "crossmatch-negative"
    tx = c.post(
        f"{url}/transplant",
        # the donor's care episode opens with the transplant: eGFR needs birth date and sex
        json={"performed_on": "2026-11-24", "born_on": "1980-05-01", "sex": "F"},
        headers=scheme.auth("care-a", **{"If-Match": xm.headers["ETag"]}),
    )
    assert tx.status_code == 200 and tx.json()["status"] == "transplanted"
