"""A demo scheme for first-time users: three centres, a generated pool, one user per role.

The pool is Saidman et al. (2006)'s generator with fixed seeds, so every demo starts the
same; the passwords are random and returned once, for ``kidneyshare serve --demo`` to
print.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from kidneyshare.formats import dump_native
from kidneyshare.generators import generate_saidman
from kidneyshare.registry.accounts import create_centre, create_user
from kidneyshare.registry.columns import utc_now
from kidneyshare.registry.imports import import_pool_text
from kidneyshare.registry.unit_of_work import SYSTEM, UnitOfWork
from kidneyshare.registry.vocabulary import Role
from kidneyshare.service.security import hash_password

__all__ = ["DEMO_CENTRES", "DemoUser", "seed_demo"]

DEMO_CENTRES = (("GLA", "Glasgow (demo)"), ("LON", "London (demo)"), ("BIR", "Birmingham (demo)"))
PAIRS_PER_CENTRE = 20
ALTRUISTS_PER_CENTRE = 1


@dataclass(frozen=True, slots=True)
class DemoUser:
    username: str
    password: str
    role: Role
    centre: str | None


def seed_demo(sessions: sessionmaker[Session]) -> list[DemoUser]:
    """Fill an empty, migrated registry with the demo scheme; the users created.

    Raises
    ------
    RecordConflict
        when the registry already holds a demo centre.
    """
    users: list[DemoUser] = []
    with UnitOfWork(sessions, SYSTEM) as uow:

        def add(username: str, role: Role, centre_id: int | None, code: str | None) -> None:
            password = secrets.token_urlsafe(12)
            create_user(uow, username, hash_password(password), role, centre_id)
            users.append(DemoUser(username, password, role, code))

        add("admin", Role.SCHEME_ADMIN, None, None)
        add("analyst", Role.ANALYST, None, None)
        for number, (code, name) in enumerate(DEMO_CENTRES, start=1):
            centre = create_centre(uow, code, name)
            add(f"coordinator-{code.lower()}", Role.CENTRE_COORDINATOR, centre.id, code)
            add(f"care-{code.lower()}", Role.CARE_COORDINATOR, centre.id, code)
            pool = generate_saidman(
                PAIRS_PER_CENTRE,
                ALTRUISTS_PER_CENTRE,
                seed=2026 + number,
                name=f"demo pool {code}",
            )
            import_pool_text(
                uow,
                centre.id,
                dump_native(pool),
                source_name=f"demo-{code.lower()}.json",
                recorded_on=utc_now().date(),
            )
    return users
