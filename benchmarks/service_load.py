"""Load on the REST service over loopback: sustained requests per second and latency.

Starts ``kidneyshare serve`` on 127.0.0.1 (a fresh SQLite file in a temporary folder, or
``--database-url`` for an empty PostgreSQL database), adds two centres and two
coordinators, then runs ``--clients`` threads for ``--seconds``: each alternates a write
(register a pair, a new code each time) and a read (that pair by id). At the end it
counts the pairs in the registry and checks that every acknowledged write is there once
and nothing else is (zero lost, zero duplicated). Prints a table; asserts nothing on
time. The loop is bounded by ``--seconds`` and by ``--max-requests`` per client.

usage: python benchmarks/service_load.py [--clients 8] [--seconds 20] [--database-url URL]
"""

from __future__ import annotations

import argparse
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import httpx
from sqlalchemy import select

from kidneyshare.registry import SYSTEM, Role, UnitOfWork, make_engine, make_sessions, upgrade
from kidneyshare.registry.accounts import create_centre, create_user
from kidneyshare.registry.models import Patient
from kidneyshare.service.security import hash_password

PASSWORD = "load-test-password"


def seed(url: str) -> None:
    engine = make_engine(url)
    upgrade(engine)
    with UnitOfWork(make_sessions(engine), SYSTEM) as uow:
        for code in ("LA", "LB"):
            centre = create_centre(uow, code, f"Load {code}")
            create_user(
                uow,
                f"coord-{code.lower()}",
                hash_password(PASSWORD),
                Role.CENTRE_COORDINATOR,
                centre.id,
            )
    engine.dispose()


def start_server(url: str, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "from kidneyshare.cli.main import main; main()",
                "serve",
                "--port",
                str(port),
                "--database-url",
                url,
            ],
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if httpx.get(f"{base}/openapi.json", timeout=1.0).status_code == 200:
                return process, base
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit(f"the server did not start; see {log}")


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) >= 20 else max(values, default=0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--max-requests", type=int, default=20_000)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="kidneyshare-load-"))
    url = args.database_url or f"sqlite:///{folder / 'load.sqlite3'}"
    seed(url)
    process, base = start_server(url, folder / "server.log")
    writes: list[float] = []
    reads: list[float] = []
    acknowledged: list[str] = []
    errors: Counter[str] = Counter()
    lock = threading.Lock()
    try:
        tokens = {
            user: httpx.post(
                f"{base}/auth/token", data={"username": user, "password": PASSWORD}
            ).json()["access_token"]
            for user in ("coord-la", "coord-lb")
        }
        deadline = time.perf_counter() + args.seconds

        def client(number: int) -> None:
            token = tokens["coord-la" if number % 2 else "coord-lb"]
            with httpx.Client(
                base_url=base, timeout=60.0, headers={"Authorization": f"Bearer {token}"}
            ) as http:
                for i in range(args.max_requests):
                    if time.perf_counter() >= deadline:
                        return
                    code = f"L{number}-{i}"
                    body = {"patient_code": code, "donors": [{"code": f"{code}-d"}]}
                    start = time.perf_counter()
                    answer = http.post("/pairs", json=body)
                    took = time.perf_counter() - start
                    if answer.status_code != 201:
                        with lock:
                            errors[f"write {answer.status_code}"] += 1
                        continue
                    pair_id = answer.json()["id"]
                    start = time.perf_counter()
                    read = http.get(f"/pairs/{pair_id}")
                    read_took = time.perf_counter() - start
                    with lock:
                        writes.append(took)
                        acknowledged.append(code)
                        if read.status_code == 200:
                            reads.append(read_took)
                        else:
                            errors[f"read {read.status_code}"] += 1

        began = time.perf_counter()
        threads = [threading.Thread(target=client, args=(n,)) for n in range(args.clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=args.seconds + 120)
        elapsed = time.perf_counter() - began
    finally:
        process.terminate()
        process.wait(timeout=30)

    engine = make_engine(url)
    with make_sessions(engine)() as session:
        stored = Counter(session.scalars(select(Patient.code)))
    engine.dispose()
    lost = [c for c in acknowledged if c not in stored]
    duplicated = [c for c, n in stored.items() if n > 1]
    unexpected = [c for c in stored if c not in set(acknowledged)]

    backend = url.split(":", 1)[0]
    print(f"service load on {backend}, {args.clients} clients, {elapsed:.1f} s")
    print(f"{'kind':<8}{'requests':>10}{'req/s':>10}{'p50 ms':>10}{'p95 ms':>10}")
    for kind, values in (("write", writes), ("read", reads)):
        rate = len(values) / elapsed if elapsed else 0.0
        median = statistics.median(values) * 1000 if values else 0.0
        print(f"{kind:<8}{len(values):>10}{rate:>10.1f}{median:>10.1f}{p95(values) * 1000:>10.1f}")
    print(f"errors: {dict(errors) or 'none'}")
    print(
        f"records: {len(acknowledged)} acknowledged, {sum(stored.values())} stored, "
        f"{len(lost)} lost, {len(duplicated)} duplicated, {len(unexpected)} unexpected"
    )
    if lost or duplicated or unexpected or errors:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
