"""The access-control matrix: every role x every endpoint x own / other centre.

A request is *admitted* when it passes authentication and authorisation (any answer but
401, 403 and 404); a *refused* one gets 403, or 404 for another centre's record (so that
its existence is not revealed). Refused writes must leave the audit log unchanged.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from service_scheme import USERS, Scheme
from test_service_api import wait_for_run

from kidneyshare.registry.vocabulary import Role

REFUSED = {401, 403, 404}
_codes = itertools.count(1000)


def _pair_body() -> dict[str, Any]:
    n = next(_codes)
    return {"patient_code": f"M-{n}", "donors": [{"code": f"MD-{n}"}]}


def _swap(scheme: Scheme, user: str) -> list[int]:
    """An A-O / O-A swap registered by ``user``'s centre; the pairs' ids."""
    ids = []
    for patient, donor in (("A", "O"), ("O", "A")):
        n = next(_codes)
        body = {
            "patient_code": f"S-{n}",
            "patient_facts": {"recorded_on": "2026-11-01", "blood_group": patient},
            "donors": [
                {"code": f"SD-{n}", "facts": {"recorded_on": "2026-11-01", "blood_group": donor}}
            ],
        }
        answer = scheme.client.post("/pairs", json=body, headers=scheme.auth(user))
        assert answer.status_code == 201, answer.text
        ids.append(answer.json()["id"])
    return ids


def _suspend(scheme: Scheme, pair_ids: list[int]) -> None:
    for pair_id in pair_ids:
        version = scheme.client.get(f"/pairs/{pair_id}", headers=scheme.auth("admin")).headers[
            "ETag"
        ]
        answer = scheme.client.post(
            f"/pairs/{pair_id}/status",
            json={"status": "suspended"},
            headers=scheme.auth("admin", **{"If-Match": version}),
        )
        assert answer.status_code == 200


@dataclass
class World:
    """Records of centre A and of centre B, so each can be reached as own or other."""

    pairs: dict[str, int]
    patients: dict[str, int]
    donors: dict[str, int]
    altruists: dict[str, int]
    offers: dict[str, int]
    run: int
    dummy_user: int
    episodes: dict[str, int]


def _build(scheme: Scheme) -> World:
    c = scheme.client
    offers: dict[str, int] = {}
    swaps: dict[str, list[int]] = {}
    run = 0
    for centre, user in (("A", "coord-a"), ("B", "coord-b")):
        # each centre's swap is matched on its own (the other centre's is suspended)
        for other in swaps.values():
            _suspend(scheme, other)
        swaps[centre] = _swap(scheme, user)
        started = c.post(
            "/runs", json={"max_cycle": 2, "max_chain": 0}, headers=scheme.auth("admin")
        )
        run = started.json()["id"]
        assert wait_for_run(scheme, run)["status"] == "succeeded"
        listed = c.get(f"/offers?run_id={run}", headers=scheme.auth("admin")).json()
        assert listed["total"] == 2
        offers[centre] = listed["items"][0]["id"]
    pairs = {centre: ids[0] for centre, ids in swaps.items()}
    read = {
        centre: c.get(f"/pairs/{pair}", headers=scheme.auth("admin")).json()
        for centre, pair in pairs.items()
    }
    patients = {centre: pair["patient_id"] for centre, pair in read.items()}
    donors = {centre: pair["donors"][0]["id"] for centre, pair in read.items()}
    altruists = {}
    for centre, user in (("A", "coord-a"), ("B", "coord-b")):
        n = next(_codes)
        answer = c.post(
            "/altruists", json={"donor": {"code": f"ND-{n}"}}, headers=scheme.auth(user)
        )
        altruists[centre] = answer.json()["id"]
    dummy = c.post(
        "/users", json={"username": "dummy", "role": "analyst"}, headers=scheme.auth("admin")
    ).json()["id"]
    episodes = {}
    for centre, donor in donors.items():
        opened = c.post(
            "/care/episodes",
            json={
                "donor_id": donor,
                "opened_on": "2026-11-20",
                "born_on": "1980-01-01",
                "sex": "M",
            },
            headers=scheme.auth("admin"),
        )
        assert opened.status_code == 201, opened.text
        episodes[centre] = opened.json()["id"]
    return World(pairs, patients, donors, altruists, offers, run, dummy, episodes)


# What each kind of endpoint needs; ``centred`` kinds depend on own / other centre.
ADMIN_ONLY = "admin-only"
READ_POOL = "read-pool"  # one record, identifiable: own centre
EDIT_POOL = "edit-pool"
OUTCOMES = "outcomes"
CENTRE_LIST = "centre-list"  # a list, cut to the caller's centre
ANYONE = "anyone"
RUNS = "runs"  # pseudonymised where not the caller's own
CARE = "care"  # donor care: care coordinators of the donor's centre
CARE_LIST = "care-list"  # donor care lists, cut to a care coordinator's centre


def admitted(user: str, kind: str, own: bool) -> bool:
    role, _ = USERS[user]
    if role is Role.SCHEME_ADMIN:
        return True
    if kind in (ANYONE, RUNS):
        return True
    if kind in (CARE, CARE_LIST):
        return role is Role.CARE_COORDINATOR and (own or kind == CARE_LIST)
    if kind == ADMIN_ONLY or role is Role.ANALYST:
        return False
    if kind == EDIT_POOL and role is Role.CARE_COORDINATOR:
        return False
    return own or kind == CENTRE_LIST  # a list is cut to the caller's centre


Path = Callable[[World, str], str]
Body = Callable[[World, str], Any]


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: Path
    kind: str
    body: Body | None = None
    version_of: Path | None = None  # GET this path for the If-Match to send
    files: bool = False


def _same(path: str) -> Path:
    return lambda w, c: path


ENDPOINTS = {
    "me": Endpoint("GET", _same("/auth/me"), ANYONE),
    "centres": Endpoint("GET", _same("/centres"), ANYONE),
    "add centre": Endpoint(
        "POST",
        _same("/centres"),
        ADMIN_ONLY,
        lambda w, c: {"code": f"X{next(_codes)}", "name": "x"},
    ),
    "users": Endpoint("GET", _same("/users"), ADMIN_ONLY),
    "add user": Endpoint(
        "POST",
        _same("/users"),
        ADMIN_ONLY,
        lambda w, c: {"username": f"u{next(_codes)}", "role": "analyst"},
    ),
    "change user": Endpoint(
        "PATCH",
        lambda w, c: f"/users/{w.dummy_user}",
        ADMIN_ONLY,
        lambda w, c: {"active": True},
        version_of=_same("/users"),
    ),
    "api token": Endpoint(
        "POST",
        lambda w, c: f"/users/{w.dummy_user}/api-tokens",
        ADMIN_ONLY,
        lambda w, c: {"name": "sys"},
    ),
    "audit": Endpoint("GET", _same("/audit"), ADMIN_ONLY),
    "pairs": Endpoint("GET", _same("/pairs"), CENTRE_LIST),
    "register pair": Endpoint(
        "POST", lambda w, c: f"/pairs?centre_id={c}", EDIT_POOL, lambda w, c: _pair_body()
    ),
    "pair": Endpoint("GET", lambda w, c: f"/pairs/{w.pairs[c]}", READ_POOL),
    "pair history": Endpoint("GET", lambda w, c: f"/pairs/{w.pairs[c]}/history", READ_POOL),
    "patient facts": Endpoint(
        "POST",
        lambda w, c: f"/pairs/{w.pairs[c]}/patient-facts",
        EDIT_POOL,
        lambda w, c: {"recorded_on": "2026-11-02", "cpra": 0.1},
        version_of=lambda w, c: f"/pairs/{w.pairs[c]}",
    ),
    "donor facts": Endpoint(
        "POST",
        lambda w, c: f"/pairs/{w.pairs[c]}/donors/{w.donors[c]}/facts",
        EDIT_POOL,
        lambda w, c: {"recorded_on": "2026-11-02", "egfr": 90},
        version_of=lambda w, c: f"/pairs/{w.pairs[c]}",
    ),
    "pair status": Endpoint(
        "POST",
        lambda w, c: f"/pairs/{w.pairs[c]}/status",
        EDIT_POOL,
        lambda w, c: {"status": "suspended"},
        version_of=lambda w, c: f"/pairs/{w.pairs[c]}",
    ),
    "altruists": Endpoint("GET", _same("/altruists"), CENTRE_LIST),
    "register altruist": Endpoint(
        "POST",
        lambda w, c: f"/altruists?centre_id={c}",
        EDIT_POOL,
        lambda w, c: {"donor": {"code": f"NA-{next(_codes)}"}},
    ),
    "altruist": Endpoint("GET", lambda w, c: f"/altruists/{w.altruists[c]}", READ_POOL),
    "altruist history": Endpoint(
        "GET", lambda w, c: f"/altruists/{w.altruists[c]}/history", READ_POOL
    ),
    "altruist facts": Endpoint(
        "POST",
        lambda w, c: f"/altruists/{w.altruists[c]}/facts",
        EDIT_POOL,
        lambda w, c: {"recorded_on": "2026-11-02", "blood_group": "O"},
        version_of=lambda w, c: f"/altruists/{w.altruists[c]}",
    ),
    "altruist status": Endpoint(
        "POST",
        lambda w, c: f"/altruists/{w.altruists[c]}/status",
        EDIT_POOL,
        lambda w, c: {"status": "suspended"},
        version_of=lambda w, c: f"/altruists/{w.altruists[c]}",
    ),
    "import": Endpoint(
        "POST",
        lambda w, c: f"/imports?centre_id={c}",
        EDIT_POOL,
        lambda w, c: {"file": ("p.json", _one_pair_file())},
        files=True,
    ),
    "start run": Endpoint(
        "POST", _same("/runs"), ADMIN_ONLY, lambda w, c: {"max_cycle": 2, "max_chain": 0}
    ),
    "runs": Endpoint("GET", _same("/runs"), RUNS),
    "run": Endpoint("GET", lambda w, c: f"/runs/{w.run}", RUNS),
    "restart run": Endpoint("POST", lambda w, c: f"/runs/{w.run}/restart", ADMIN_ONLY),
    "offers": Endpoint("GET", _same("/offers"), CENTRE_LIST),
    "offer": Endpoint("GET", lambda w, c: f"/offers/{w.offers[c]}", OUTCOMES),
    "offer response": Endpoint(
        "POST",
        lambda w, c: f"/offers/{w.offers[c]}/response",
        OUTCOMES,
        lambda w, c: {"accepted": True, "responded_on": "2026-11-19"},
        version_of=lambda w, c: f"/offers/{w.offers[c]}",
    ),
    "crossmatch": Endpoint(
        "POST",
        lambda w, c: f"/offers/{w.offers[c]}/crossmatch",
        OUTCOMES,
        lambda w, c: {"outcome": "positive", "performed_on": "2026-11-20"},
        version_of=lambda w, c: f"/offers/{w.offers[c]}",
    ),
    "transplant": Endpoint(
        "POST",
        lambda w, c: f"/offers/{w.offers[c]}/transplant",
        OUTCOMES,
        lambda w, c: {"performed_on": "2026-11-20"},
        version_of=lambda w, c: f"/offers/{w.offers[c]}",
    ),
    "plans": Endpoint("GET", lambda w, c: f"/runs/{w.run}/plans", RUNS),
    # about one identifiable patient: their centre's staff and the scheme's administrators
    "explain": Endpoint("GET", lambda w, c: f"/runs/{w.run}/explain/{w.patients[c]}", READ_POOL),
    "repair": Endpoint(
        "POST", lambda w, c: f"/runs/{w.run}/repair", ADMIN_ONLY, lambda w, c: {"reason": "x"}
    ),
    "care episodes": Endpoint("GET", _same("/care/episodes"), CARE_LIST),
    "open care episode": Endpoint(
        "POST",
        _same("/care/episodes"),
        CARE,
        lambda w, c: {
            "donor_id": w.donors[c],
            "opened_on": "2026-11-21",
            "born_on": "1980-01-01",
            "sex": "F",
        },
    ),
    "care episode": Endpoint("GET", lambda w, c: f"/care/episodes/{w.episodes[c]}", CARE),
    "care stage": Endpoint(
        "POST",
        lambda w, c: f"/care/episodes/{w.episodes[c]}/stage",
        CARE,
        lambda w, c: {"to_stage": "withdrawn", "on": "2026-11-22", "reason": "x"},
    ),
    "care coordinator": Endpoint(
        "POST",
        lambda w, c: f"/care/episodes/{w.episodes[c]}/coordinator",
        CARE,
        lambda w, c: {"coordinator": "care-a", "on": "2026-11-22", "reason": "x"},
    ),
    "care visit": Endpoint(
        "POST",
        lambda w, c: f"/care/episodes/{w.episodes[c]}/visits",
        CARE,
        lambda w, c: {"held_on": "2026-11-22"},
    ),
    "care measurement": Endpoint(
        "POST",
        lambda w, c: f"/care/episodes/{w.episodes[c]}/measurements",
        CARE,
        lambda w, c: {"kind": "creatinine", "taken_on": "2026-11-22", "value": {"umol_per_l": 90}},
    ),
    "care alerts": Endpoint("GET", _same("/care/alerts"), CARE_LIST),
    "caseload": Endpoint("GET", _same("/care/caseload"), CARE_LIST),
    "analytics pairs": Endpoint("GET", _same("/analytics/pairs"), ANYONE),
    "analytics altruists": Endpoint("GET", _same("/analytics/altruists"), ANYONE),
}


def _one_pair_file() -> str:
    n = next(_codes)
    return (
        f'{{"format": "kidneyshare", "version": 1, "patients": [{{"id": "F{n}"}}], '
        f'"donors": [{{"id": "FD{n}", "patient": "F{n}"}}], "arcs": []}}'
    )


def test_every_route_is_in_the_matrix(scheme: Scheme) -> None:
    routes = {
        (method, path)
        for path, item in scheme.client.get("/openapi.json").json()["paths"].items()
        for method in item
    }
    assert len(routes) - 1 == len(ENDPOINTS)  # all but POST /auth/token (signing in)


def _version(scheme: Scheme, world: World, endpoint: Endpoint, centre: str) -> str:
    assert endpoint.version_of is not None
    answer = scheme.client.get(endpoint.version_of(world, centre), headers=scheme.auth("admin"))
    if "ETag" in answer.headers:
        return answer.headers["ETag"]
    user = next(u for u in answer.json()["items"] if u["id"] == world.dummy_user)
    return f'"{user["version"]}"'


def _call(scheme: Scheme, world: World, name: str, user: str | None, centre_id: str) -> int:
    endpoint = ENDPOINTS[name]
    centre_key = centre_id
    path = endpoint.path(world, centre_key)
    path = path.replace(f"centre_id={centre_key}", f"centre_id={scheme.centres[centre_key]}")
    headers = {} if user is None else scheme.auth(user)
    if endpoint.version_of is not None:
        headers["If-Match"] = _version(scheme, world, endpoint, centre_key)
    body = None if endpoint.body is None else endpoint.body(world, centre_key)
    if endpoint.files:
        answer = scheme.client.request(endpoint.method, path, files=body, headers=headers)
    else:
        answer = scheme.client.request(endpoint.method, path, json=body, headers=headers)
    return answer.status_code


def _audit_total(scheme: Scheme) -> int:
    """The audit log's length once background runs (which audit too) have finished."""
    for _ in range(600):
        busy = sum(
            scheme.client.get(f"/runs?status={s}&limit=1", headers=scheme.auth("admin")).json()[
                "total"
            ]
            for s in ("queued", "running")
        )
        if not busy:
            break
        time.sleep(0.05)
    total: int = scheme.client.get("/audit?limit=1", headers=scheme.auth("admin")).json()["total"]
    return total


@pytest.mark.slow
def test_the_access_matrix(scheme: Scheme) -> None:
    world = _build(scheme)
    wrong: list[str] = []
    for name in ENDPOINTS:
        assert _call(scheme, world, name, None, "A") == 401, name
        for user, (_, home) in USERS.items():
            for centre in ("A", "B"):
                own = home == centre
                before = _audit_total(scheme)
                status = _call(scheme, world, name, user, centre)
                expected = admitted(user, ENDPOINTS[name].kind, own)
                if (status not in REFUSED) != expected or status >= 500:
                    wrong.append(f"{name} as {user} on centre {centre}: {status}")
                if status in REFUSED and _audit_total(scheme) != before:
                    wrong.append(f"{name} as {user} on centre {centre}: refused but audited")
    assert wrong == [], "\n".join(wrong)


def test_lists_show_a_coordinator_only_their_centre(scheme: Scheme) -> None:
    world = _build(scheme)
    c = scheme.client
    for user, home in (("coord-a", "A"), ("care-b", "B")):
        for path in ("/pairs", "/altruists", f"/pairs?centre_id={scheme.centres['A']}"):
            items = c.get(path, headers=scheme.auth(user)).json()["items"]
            assert items and {i["centre_id"] for i in items} == {scheme.centres[home]}
        offers = c.get("/offers", headers=scheme.auth(user)).json()["items"]
        assert {o["id"] for o in offers} == {world.offers[home], world.offers[home] + 1}
        for offer in offers:
            assert offer["donor"]["code"] is not None and offer["patient"]["code"] is not None
    analytics = c.get("/analytics/pairs", headers=scheme.auth("analyst")).json()["items"]
    assert analytics and all("code" not in m and "reference" not in m for m in analytics)
