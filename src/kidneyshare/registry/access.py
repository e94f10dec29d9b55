"""Who may do what: the one permission table, and the centre-scope rule.

========================  =====  ==================  ================  =======
permission                admin  centre coordinator  care coordinator  analyst
========================  =====  ==================  ================  =======
manage the scheme         yes    -                   -                 -
read identifiable pool    all    own centre          own centre        -
edit the pool / import    all    own centre          -                 -
read runs (pseudonymised
where not own)            yes    yes                 yes               yes
start / restart runs      yes    -                   -                 -
read offers               all    own centre          own centre        -
record outcomes           all    own centre          own centre        -
read donor care           all    -                   own centre        -
record donor care         all    -                   own centre        -
repair a run's plan       yes    -                   -                 -
read pseudonymised pool   yes    yes                 yes               yes
========================  =====  ==================  ================  =======

"Own centre" records of another centre are answered with 404, not 403, so that a
coordinator cannot learn whether another centre's record exists.

The REST service applies it to the signed-in user, the CLI to the user named by
``--user`` (without it, the CLI acts as the scheme's own :data:`SYSTEM`, which sees
everything).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

from kidneyshare.registry.vocabulary import Role

if TYPE_CHECKING:
    from kidneyshare.registry.models import User

__all__ = ["OWN_CENTRE_ONLY", "PERMISSIONS", "SYSTEM", "Permission", "Principal"]

OWN_CENTRE_ONLY = "a centre coordinator registers at their own centre only"
"""Why a centre's user may not register at another centre (:meth:`Principal.registers_at`)."""


class Permission(Enum):
    MANAGE_SCHEME = "manage-scheme"
    READ_POOL = "read-pool"
    EDIT_POOL = "edit-pool"
    READ_RUNS = "read-runs"
    START_RUNS = "start-runs"
    READ_OFFERS = "read-offers"
    RECORD_OUTCOMES = "record-outcomes"
    READ_CARE = "read-care"
    RECORD_CARE = "record-care"
    REPAIR_PLANS = "repair-plans"
    READ_PSEUDONYMISED = "read-pseudonymised"


PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.SCHEME_ADMIN: frozenset(Permission),
    Role.CENTRE_COORDINATOR: frozenset(
        {
            Permission.READ_POOL,
            Permission.EDIT_POOL,
            Permission.READ_RUNS,
            Permission.READ_OFFERS,
            Permission.RECORD_OUTCOMES,
            Permission.READ_PSEUDONYMISED,
        }
    ),
    Role.CARE_COORDINATOR: frozenset(
        {
            Permission.READ_POOL,
            Permission.READ_RUNS,
            Permission.READ_OFFERS,
            Permission.RECORD_OUTCOMES,
            Permission.READ_CARE,
            Permission.RECORD_CARE,
            Permission.READ_PSEUDONYMISED,
        }
    ),
    Role.ANALYST: frozenset({Permission.READ_RUNS, Permission.READ_PSEUDONYMISED}),
}


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated caller (``user_id`` ``None``: the scheme's own system)."""

    user_id: int | None
    username: str
    role: Role
    centre_id: int | None

    @classmethod
    def of(cls, user: User) -> Principal:
        return cls(user.id, user.username, user.role, user.centre_id)

    def may(self, permission: Permission) -> bool:
        return permission in PERMISSIONS[self.role]

    def refusal(self, permission: Permission) -> str:
        """Why the caller may not: ``a care-coordinator may not start runs``."""
        return f"a {self.role.value} may not {permission.value.replace('-', ' ')}"

    def scope(self, centre_id: int | None = None) -> int | None:
        """The centre a list is cut to: a centre role's own whatever was asked; for the
        scheme-wide roles, ``centre_id`` if given (``None``: every centre)."""
        return self.centre_id if self.centre_id is not None else centre_id

    def registers_at(self, centre_id: int) -> bool:
        """Whether the caller may register pool records at ``centre_id`` (given that they
        may edit the pool): a centre role at their own centre only, an administrator at
        any (else :data:`OWN_CENTRE_ONLY`)."""
        return self.scheme_wide or self.centre_id == centre_id

    def reads_caseload_of(self, username: str) -> bool:
        """A care coordinator reads their own caseload; an administrator anyone's."""
        return self.scheme_wide or username == self.username

    @property
    def scheme_wide(self) -> bool:
        """Acts for every centre (an administrator; an analyst sees only pseudonyms)."""
        return self.centre_id is None

    def identifies(self, *centre_ids: int) -> bool:
        """Whether the caller may see identifiable data of a record held by any of
        ``centre_ids`` (the donor's and the patient's centre, for an offer)."""
        if self.role is Role.ANALYST:
            return False
        return self.scheme_wide or self.centre_id in centre_ids


SYSTEM = Principal(None, "system", Role.SCHEME_ADMIN, None)
"""The scheme's own system: every permission, every centre identified."""
