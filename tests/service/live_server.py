"""A real ``kidneyshare serve`` process on 127.0.0.1, for tests that need one."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

__all__ = ["LiveServer", "live_server"]

_MAIN = "from kidneyshare.cli.main import main; main()"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class LiveServer:
    process: subprocess.Popen[bytes]
    base_url: str
    log: Path

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {} if token is None else {"Authorization": f"Bearer {token}"}
        return httpx.Client(base_url=self.base_url, headers=headers, timeout=60.0)

    def sign_in(self, username: str, password: str) -> str:
        with self.client() as client:
            answer = client.post("/auth/token", data={"username": username, "password": password})
            answer.raise_for_status()
            token: str = answer.json()["access_token"]
            return token

    def kill(self) -> None:
        """SIGKILL: no shutdown handlers, no flushing, as a crash or an OOM kill."""
        self.process.kill()
        self.process.wait(timeout=30)


@contextmanager
def live_server(database_url: str, folder: Path) -> Iterator[LiveServer]:
    """Start the service on a free loopback port; stop it (if still running) afterwards."""
    port = _free_port()
    log = folder / f"server-{port}.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [
                sys.executable,
                "-c",
                _MAIN,
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--database-url",
                database_url,
            ],
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    server = LiveServer(process, f"http://127.0.0.1:{port}", log)
    try:
        for _ in range(300):  # up to 30 s to start
            if process.poll() is not None:
                raise AssertionError(f"the server exited: {log.read_text()}")
            try:
                if httpx.get(f"{server.base_url}/openapi.json", timeout=1.0).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        else:
            raise AssertionError(f"the server did not start: {log.read_text()}")
        yield server
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=30)
