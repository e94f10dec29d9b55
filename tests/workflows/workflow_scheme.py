"""A small scheme for the workflow tests: centres GLA and LON, an administrator, a care
coordinator at each centre, and pairs whose compatibility is known by construction.

The swap pool: ``n`` pairs of an A patient with a B donor and ``n`` pairs of a B patient
with an A donor (plain ABO, no HLA). Every B donor can give to every B patient and every A
donor to every A patient, so every pair is in some two-way exchange and the optimum
matches all ``2n`` patients; after a failed arc the rest can still be re-paired.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from kidneyshare.cli.main import main
from kidneyshare.registry import (
    Actor,
    DonorFacts,
    PatientFacts,
    Role,
    UnitOfWork,
    make_engine,
    make_sessions,
    upgrade,
)
from kidneyshare.registry.accounts import create_centre, create_user
from kidneyshare.registry.pool import DonorEntry, register_pair

__all__ = ["DAY", "Scheme", "register_swaps", "run_cli", "run_cli_json", "scheme"]

DAY = date(2026, 11, 2)


@dataclass
class Scheme:
    sessions: sessionmaker[Session]
    admin: Actor
    centres: dict[str, int]
    url: str


@pytest.fixture
def scheme(database_url: str) -> Iterator[Scheme]:
    engine = make_engine(database_url)
    upgrade(engine)
    sessions = make_sessions(engine)
    with UnitOfWork(sessions, Actor(None, "setup")) as uow:
        admin = create_user(uow, "admin", None, Role.SCHEME_ADMIN, None)
        centres = {
            "GLA": create_centre(uow, "GLA", "Glasgow").id,
            "LON": create_centre(uow, "LON", "London").id,
        }
        create_user(uow, "care-gla", None, Role.CARE_COORDINATOR, centres["GLA"])
        create_user(uow, "care-lon", None, Role.CARE_COORDINATOR, centres["LON"])
        actor = Actor(admin.id, admin.username)
    yield Scheme(sessions, actor, centres, database_url)
    engine.dispose()


def register_swaps(scheme: Scheme, n: int, prefix: str = "S") -> list[int]:
    """Register ``n`` A-patient/B-donor and ``n`` B-patient/A-donor pairs, alternately at
    GLA and LON; the pairs' ids."""
    ids = []
    with UnitOfWork(scheme.sessions, scheme.admin) as uow:
        for i in range(2 * n):
            patient, donor = ("A", "B") if i % 2 == 0 else ("B", "A")
            centre = scheme.centres["GLA" if i % 4 < 2 else "LON"]
            pair = register_pair(
                uow,
                centre,
                f"{prefix}{i}",
                [
                    DonorEntry(
                        f"{prefix}{i}d",
                        reference=f"NHS-{prefix}-{i}",
                        facts=DonorFacts(DAY, blood_group=donor, age=40 + i, sex="F"),
                    )
                ],
                patient_facts=PatientFacts(DAY, blood_group=patient, age=50),
            )
            ids.append(pair.id)
    return ids


def run_cli(capsys: pytest.CaptureFixture[str], scheme: Scheme, *argv: str) -> tuple[int, str]:
    """``kidneyshare ARGV`` on the scheme's database: the exit status and the output
    (stdout then stderr)."""
    with pytest.raises(SystemExit) as stop:
        main([*argv, "--database-url", scheme.url])
    captured = capsys.readouterr()
    return int(stop.value.code or 0), captured.out + captured.err


def run_cli_json(capsys: pytest.CaptureFixture[str], scheme: Scheme, *argv: str) -> Any:
    """The JSON document of ``kidneyshare ARGV --json`` (which must exit 0)."""
    code, out = run_cli(capsys, scheme, *argv, "--json")
    assert code == 0, out
    return json.loads(out)
