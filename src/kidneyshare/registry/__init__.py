"""The scheme's persistent record: SQLAlchemy 2 models, Alembic migrations, repositories.

Every write goes through a :class:`UnitOfWork` (one transaction, audit events inside it);
clinical facts are appended and superseded, never updated; nothing is deleted. The
database URL is always passed in (SQLite file or PostgreSQL via psycopg 3).
"""

from kidneyshare.registry.clinical import DonorFacts, PatientFacts, parse_antigens
from kidneyshare.registry.database import default_url, make_engine, make_sessions
from kidneyshare.registry.errors import (
    DatabaseError,
    RecordConflict,
    RecordInvalid,
    RecordNotFound,
    RegistryError,
)
from kidneyshare.registry.migrate import (
    current_revision,
    downgrade,
    ensure_current,
    head_revision,
    upgrade,
)
from kidneyshare.registry.unit_of_work import SYSTEM, Actor, UnitOfWork
from kidneyshare.registry.vocabulary import (
    CrossmatchOutcome,
    MemberStatus,
    OfferStatus,
    Role,
    RunStatus,
)

__all__ = [
    "SYSTEM",
    "Actor",
    "CrossmatchOutcome",
    "DatabaseError",
    "DonorFacts",
    "MemberStatus",
    "OfferStatus",
    "PatientFacts",
    "RecordConflict",
    "RecordInvalid",
    "RecordNotFound",
    "RegistryError",
    "Role",
    "RunStatus",
    "UnitOfWork",
    "current_revision",
    "default_url",
    "downgrade",
    "ensure_current",
    "head_revision",
    "make_engine",
    "make_sessions",
    "parse_antigens",
    "upgrade",
]
