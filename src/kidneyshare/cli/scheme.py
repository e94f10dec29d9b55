"""``kidneyshare centre add``, ``user add``, ``register``: setting up a scheme's registry
from the command line (the database as ``kidneyshare db`` takes it), so that the workflow
commands need no other tool.

Thin: each command opens the database, calls one registry function in one unit of work
as the user named by ``--user`` (the scheme's own ``system`` by default) and prints
what it did. With ``--user`` the service's rules apply (:mod:`kidneyshare.registry.access`)
before anything is written: only a scheme administrator adds centres and users; a centre
coordinator registers records of their own centre only.
"""

from __future__ import annotations

import getpass
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import select

from kidneyshare.cli.output import stdout_console
from kidneyshare.cli.workflows import Url, User, _acting, _day, _options
from kidneyshare.compatibility.records import ClinicalPool
from kidneyshare.compatibility.records_json import read_records
from kidneyshare.registry import RecordInvalid, RecordNotFound, Role, UnitOfWork
from kidneyshare.registry.access import OWN_CENTRE_ONLY, Permission, Principal
from kidneyshare.registry.accounts import create_centre, create_user
from kidneyshare.registry.imports import register_records
from kidneyshare.registry.models import Centre

__all__ = ["centre_app", "register_command", "user_app"]

centre_app = typer.Typer(name="centre", help="The scheme's centres.", no_args_is_help=True)
user_app = typer.Typer(name="user", help="The registry's users.", no_args_is_help=True)


@centre_app.command("add")
def centre_add_command(
    code: Annotated[str, typer.Argument(help="Short upper-case code, for example GLA.")],
    name: Annotated[str, typer.Argument(help="The centre's name.")],
    url: Url = None,
    user: User = None,
) -> None:
    """Add a centre (a scheme administrator's)."""
    with (
        _acting(url, user, Permission.MANAGE_SCHEME) as (sessions, actor, _),
        UnitOfWork(sessions, actor) as uow,
    ):
        with _options({"code": "CODE", "name": "NAME"}):
            centre = create_centre(uow, code, name)
        stdout_console().print(f"centre {centre.code}: id {centre.id}")


@user_app.command("add")
def user_add_command(
    username: Annotated[str, typer.Argument(help="Lower-case user name.")],
    role: Annotated[Role, typer.Option("--role", help="The user's role.")],
    centre: Annotated[
        str | None, typer.Option("--centre", help="The centre's code (centre roles).")
    ] = None,
    password: Annotated[
        bool,
        typer.Option(
            "--password", help="Ask for a password to sign in to the service (else none)."
        ),
    ] = False,
    url: Url = None,
    user: User = None,
) -> None:
    """Add a user (a scheme administrator's); centre coordinators and care coordinators
    belong to a centre."""
    with _acting(url, user, Permission.MANAGE_SCHEME) as (sessions, actor, _):
        secret = None
        if password:  # asked only once the user may add users
            from kidneyshare.service.security import hash_password  # argon2, only when asked

            secret = hash_password(getpass.getpass(f"password for {username}: "))
        with UnitOfWork(sessions, actor) as uow:
            centre_id = None
            if centre is not None:
                centre_id = uow.session.scalar(select(Centre.id).where(Centre.code == centre))
                if centre_id is None:
                    raise RecordNotFound(f"--centre: no centre {centre!r}")
            with _options({"username": "USERNAME", "centre_id": "--centre"}):
                created = create_user(uow, username, secret, role, centre_id)
    where = f" at {centre}" if centre else ""
    stdout_console().print(f"user {created.username}: {role.value}{where}")


def register_command(
    records: Annotated[
        Path, typer.Argument(metavar="RECORDS", help="Clinical records JSON (build-pool's).")
    ],
    on: Annotated[
        str | None,
        typer.Option("--on", help="Date of facts whose record has none (default today)."),
    ] = None,
    url: Url = None,
    user: User = None,
) -> None:
    """Register the pairs and altruists of a clinical records file at the centres their
    records name (every record, or none; a centre coordinator's: their centre's only)."""
    pool = read_records(records)
    day = date.today() if on is None else _day(on, "--on")
    with (
        _acting(url, user, Permission.EDIT_POOL) as (sessions, actor, caller),
        UnitOfWork(sessions, actor) as uow,
    ):
        centres = {code: id_ for code, id_ in uow.session.execute(select(Centre.code, Centre.id))}
        _own_centre_records(caller, pool, centres)
        pairs, altruists = register_records(uow, pool, centres, recorded_on=day)
        stdout_console().print(f"registered {pairs} pairs and {altruists} altruists from {records}")


def _own_centre_records(caller: Principal, pool: ClinicalPool, centres: dict[str, int]) -> None:
    """Refuse a centre's user a record of another registered centre (the service's rule:
    a centre coordinator registers at their own centre only), naming the first."""
    records = [("patient", p.id, p.centre) for p in pool.patients] + [
        ("altruist", d.id, d.centre) for d in pool.donors if d.patient is None
    ]
    for kind, record_id, code in records:
        if code is not None and code in centres and not caller.registers_at(centres[code]):
            raise RecordInvalid(
                f"{caller.username}: {OWN_CENTRE_ONLY} ({kind} {record_id} is at {code})",
                field="--user",
            )
