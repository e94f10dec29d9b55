"""Against a real server process on 127.0.0.1: many clients at once, and a server killed
in the middle of an import or a run. Every loop here is bounded in count and time."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest
from live_server import LiveServer, live_server
from service_scheme import PASSWORD, seed_users
from sqlalchemy import func, select

from kidneyshare.formats import dump_native
from kidneyshare.generators import generate_saidman
from kidneyshare.registry import RunStatus, make_engine, make_sessions
from kidneyshare.registry.models import (
    AuditEvent,
    Donor,
    ImportedArc,
    MatchingRun,
    Offer,
    Pair,
    Patient,
    PoolImport,
)

CLIENTS = 8
WRITES_PER_CLIENT = 15

pytestmark = pytest.mark.slow


def _pair(code: str) -> dict[str, object]:
    return {
        "patient_code": code,
        "patient_facts": {"recorded_on": "2026-11-01", "blood_group": "O"},
        "donors": [
            {"code": f"{code}-d", "facts": {"recorded_on": "2026-11-01", "blood_group": "A"}}
        ],
    }


def test_many_clients_at_once_lose_nothing_and_one_edit_wins(
    database_url: str, tmp_path: Path
) -> None:
    centres = seed_users(database_url)
    failures: list[str] = []
    with live_server(database_url, tmp_path) as server:
        tokens = {u: server.sign_in(u, PASSWORD) for u in ("coord-a", "coord-b", "admin")}

        def writer(number: int) -> None:
            user = "coord-a" if number % 2 else "coord-b"
            with server.client(tokens[user]) as client:
                for i in range(WRITES_PER_CLIENT):
                    answer = client.post("/pairs", json=_pair(f"C{number}-{i}"))
                    if answer.status_code != 201:
                        failures.append(f"{answer.status_code} {answer.text}")
                    if client.get("/pairs?limit=5").status_code != 200:
                        failures.append("read failed")

        threads = [threading.Thread(target=writer, args=(n,)) for n in range(CLIENTS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=300)
        assert not any(t.is_alive() for t in threads)
        assert failures == []

        # every client edits the same pair from the same read: exactly one wins
        with server.client(tokens["admin"]) as client:
            target = client.get("/pairs?limit=1").json()["items"][0]
        answers: list[int] = []

        def editor(number: int) -> None:
            with server.client(tokens["admin"]) as client:
                answer = client.post(
                    f"/pairs/{target['id']}/patient-facts",
                    json={"recorded_on": "2026-11-03", "cpra": number / 100},
                    headers={"If-Match": f'"{target["version"]}"'},
                )
                answers.append(answer.status_code)

        threads = [threading.Thread(target=editor, args=(n,)) for n in range(CLIENTS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert Counter(answers) == {200: 1, 409: CLIENTS - 1}

    engine = make_engine(database_url)
    with make_sessions(engine)() as session:
        codes = list(session.scalars(select(Patient.code)))
        assert len(codes) == CLIENTS * WRITES_PER_CLIENT == len(set(codes))
        by_centre = Counter(session.scalars(select(Pair.centre_id)))
        assert by_centre == {
            centres["A"]: CLIENTS // 2 * WRITES_PER_CLIENT,
            centres["B"]: CLIENTS // 2 * WRITES_PER_CLIENT,
        }
        registered = session.scalar(
            select(func.count(AuditEvent.id)).where(AuditEvent.action == "pair.register")
        )
        assert registered == CLIENTS * WRITES_PER_CLIENT
        assert (
            session.scalar(
                select(func.count(AuditEvent.id)).where(AuditEvent.action == "patient.facts")
            )
            == 1
        )
    engine.dispose()


def _import_counts(database_url: str) -> tuple[int, int, int, int]:
    engine = make_engine(database_url)
    try:
        with make_sessions(engine)() as session:
            return (
                session.scalar(select(func.count(PoolImport.id))) or 0,
                session.scalar(select(func.count(Patient.id))) or 0,
                session.scalar(select(func.count(Donor.id))) or 0,
                session.scalar(select(func.count(ImportedArc.id))) or 0,
            )
    finally:
        engine.dispose()


def test_a_server_killed_mid_import_leaves_all_or_nothing(
    database_url: str, tmp_path: Path
) -> None:
    """SIGKILL the server at growing delays into a large import (while it parses, while it
    writes, ...): each time the registry holds the whole file or none of it."""
    seed_users(database_url)
    pool = generate_saidman(400, 10, seed=21)
    text = dump_native(pool)
    full = (1, 400, 410, len(pool.arcs))
    for delay in (0.5, 1.5, 3.0):
        with live_server(database_url, tmp_path) as server:
            token = server.sign_in("coord-a", PASSWORD)

            def upload(server: LiveServer = server, token: str = token) -> None:
                try:
                    with server.client(token) as client:
                        client.post("/imports", files={"file": ("big.json", text)})
                except httpx.TransportError:
                    pass  # the server was killed before it answered

            thread = threading.Thread(target=upload)
            thread.start()
            time.sleep(delay)
            server.kill()
            thread.join(timeout=60)
        counts = _import_counts(database_url)
        assert counts in ((0, 0, 0, 0), full), f"partial import after {delay} s: {counts}"
        if counts == full:
            break  # the import finished before this kill; nothing more to interrupt
    with (
        live_server(database_url, tmp_path) as server,
        server.client(server.sign_in("coord-a", PASSWORD)) as client,
    ):  # the import can be done again, once
        answer = client.post("/imports", files={"file": ("big.json", text)})
        assert answer.status_code == (409 if counts == full else 201)
    assert _import_counts(database_url) == full


def test_a_server_killed_mid_run_leaves_no_result_and_the_run_restarts(
    database_url: str, tmp_path: Path
) -> None:
    seed_users(database_url)
    with live_server(database_url, tmp_path) as server:
        with server.client(server.sign_in("coord-a", PASSWORD)) as client:
            text = dump_native(generate_saidman(150, 5, seed=9))
            assert client.post("/imports", files={"file": ("p.json", text)}).status_code == 201
        with server.client(server.sign_in("admin", PASSWORD)) as client:
            run = client.post("/runs", json={"max_cycle": 3, "max_chain": 3}).json()
            for _ in range(1000):  # at most ~20 s
                seen = client.get(f"/runs/{run['id']}").json()
                if seen["status"] != "queued":
                    break
                time.sleep(0.02)
            assert seen["status"] == "running", seen
            server.kill()

    engine = make_engine(database_url)
    with make_sessions(engine)() as session:
        stored = session.get_one(MatchingRun, run["id"])
        assert stored.status is RunStatus.RUNNING and stored.result is None
        assert session.scalar(select(func.count(Offer.id))) == 0
    engine.dispose()

    with (
        live_server(database_url, tmp_path) as server,
        server.client(server.sign_in("admin", PASSWORD)) as client,
    ):
        seen = client.get(f"/runs/{run['id']}").json()
        assert seen["status"] == "interrupted"
        restarted = client.post(f"/runs/{run['id']}/restart")
        assert restarted.status_code == 202
        for _ in range(1200):  # at most ~120 s
            seen = client.get(f"/runs/{run['id']}").json()
            if seen["status"] not in ("queued", "running"):
                break
            time.sleep(0.1)
        assert seen["status"] == "succeeded", seen
        assert seen["snapshot_sha256"] == run["snapshot_sha256"]
        assert seen["attempts"] == 2 and seen["verification"]["ok"] is True
        offers = client.get(f"/offers?run_id={run['id']}").json()
        assert offers["total"] == seen["transplants"] > 0


def test_serve_demo_prints_sign_ins_that_work(tmp_path: Path) -> None:
    """``kidneyshare serve --demo``: three centres, a generated pool, one user per role."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    out = tmp_path / "demo.out"
    with out.open("wb") as sink:
        process = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "from kidneyshare.cli.main import main; main()",
                "serve",
                "--demo",
                "--port",
                str(port),
            ],
            stdout=sink,
            stderr=subprocess.DEVNULL,
            cwd=tmp_path,
            env={
                k: v for k, v in __import__("os").environ.items() if k != "KIDNEYSHARE_DATABASE_URL"
            },
        )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(600):  # up to 60 s: the demo imports three pools first
            try:
                if httpx.get(f"{base}/openapi.json", timeout=1.0).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        lines = [line.split() for line in out.read_text().splitlines() if line.startswith("  ")]
        logins = {fields[0]: fields[1] for fields in lines}
        assert set(logins) == {
            "admin",
            "analyst",
            "coordinator-gla",
            "care-gla",
            "coordinator-lon",
            "care-lon",
            "coordinator-bir",
            "care-bir",
        }
        token = httpx.post(
            f"{base}/auth/token",
            data={"username": "coordinator-lon", "password": logins["coordinator-lon"]},
        )
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        assert len(httpx.get(f"{base}/centres", headers=headers).json()) == 3
        assert httpx.get(f"{base}/pairs", headers=headers).json()["total"] == 20
        assert not list(tmp_path.glob("*.sqlite3"))  # the demo never touches the folder's DB
    finally:
        process.terminate()
        process.wait(timeout=30)
