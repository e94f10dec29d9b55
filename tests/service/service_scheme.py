"""A scheme for the service tests: two centres and one user per role and centre."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from fastapi.testclient import TestClient

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "registry"))


from kidneyshare.registry import SYSTEM, Role, UnitOfWork, make_engine, make_sessions, upgrade
from kidneyshare.registry.accounts import create_centre, create_user
from kidneyshare.service.security import hash_password

__all__ = ["PASSWORD", "USERS", "Scheme", "seed_users", "sign_in"]

PASSWORD = "correct horse battery"
USERS = {
    "admin": (Role.SCHEME_ADMIN, None),
    "coord-a": (Role.CENTRE_COORDINATOR, "A"),
    "care-a": (Role.CARE_COORDINATOR, "A"),
    "coord-b": (Role.CENTRE_COORDINATOR, "B"),
    "care-b": (Role.CARE_COORDINATOR, "B"),
    "analyst": (Role.ANALYST, None),
}


@dataclass
class Scheme:
    client: TestClient
    centres: dict[str, int]
    tokens: dict[str, str]

    def auth(self, user: str, **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[user]}", **extra}


def seed_users(url: str) -> dict[str, int]:
    """Migrate the database and add centres A and B and the users of :data:`USERS`."""
    engine = make_engine(url)
    upgrade(engine)
    with UnitOfWork(make_sessions(engine), SYSTEM) as uow:
        centres = {
            "A": create_centre(uow, "CA", "Centre A").id,
            "B": create_centre(uow, "CB", "Centre B").id,
        }
        hashed = hash_password(PASSWORD)
        for name, (role, centre) in USERS.items():
            create_user(uow, name, hashed, role, None if centre is None else centres[centre])
    engine.dispose()
    return centres


def sign_in(client: TestClient, user: str) -> str:
    answer = client.post("/auth/token", data={"username": user, "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    token: str = answer.json()["access_token"]
    return token
