"""Service tests: the real app on a real database (SQLite and PostgreSQL), two centres
and one user per role and centre, signed in through the API."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "registry"))

from registry_backends import database_url, postgres_database
from service_scheme import USERS, Scheme, seed_users, sign_in

from kidneyshare.service import create_app

__all__ = ["database_url", "postgres_database"]


@pytest.fixture
def scheme(database_url: str) -> Iterator[Scheme]:
    centres = seed_users(database_url)
    with TestClient(create_app(database_url)) as client:
        yield Scheme(client, centres, {user: sign_in(client, user) for user in USERS})
