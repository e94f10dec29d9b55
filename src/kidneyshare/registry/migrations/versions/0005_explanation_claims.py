"""Kept explanations are claimed before they are computed: ``run_explanations.document``
may be empty (the question is being answered) and ``claimed_at`` is the heartbeat of the
request computing it, so that a second request for the same question waits for the
first one's answer instead of solving again.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("run_explanations", schema=None) as batch_op:
        batch_op.alter_column("document", existing_type=sa.Text(), nullable=True)
        batch_op.add_column(sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    # A claim is an answer not yet computed: dropping it loses nothing but that request's
    # wait (it is computed again when asked).
    op.execute("DELETE FROM run_explanations WHERE document IS NULL")
    with op.batch_alter_table("run_explanations", schema=None) as batch_op:
        batch_op.drop_column("claimed_at")
        batch_op.alter_column("document", existing_type=sa.Text(), nullable=False)
