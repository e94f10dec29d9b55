"""Alembic environment: runs migrations on the connection :mod:`kidneyshare.registry.migrate`
hands over (there is no alembic.ini; the package configures Alembic in code)."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from kidneyshare.registry.models import Base

config = context.config
connection: Connection | None = config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `kidneyshare db`, which passes a connection")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=True,  # SQLite cannot ALTER most things; batch mode copies the table
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
