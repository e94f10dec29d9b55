"""Offers accepted or declined by the patient's centre: statuses ``accepted`` and
``declined``, and the ``offer_responses`` log (who answered, when and why).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None

OLD_OFFER_STATUSES = (
    "proposed",
    "crossmatch-negative",
    "crossmatch-positive",
    "transplanted",
    "cancelled",
)
NEW_OFFER_STATUSES = ("proposed", "accepted", "declined", *OLD_OFFER_STATUSES[1:])


def _offer_status(values: tuple[str, ...]) -> None:
    # As in 0002: the CHECK is replaced by name (SQLite through batch mode's table copy).
    with op.batch_alter_table("offers", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_offers_offer_status"), type_="check")
        batch_op.create_check_constraint("offer_status", sa.column("status").in_(values))


def upgrade() -> None:
    _offer_status(NEW_OFFER_STATUSES)
    op.create_table(
        "offer_responses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("offer_id", sa.Integer(), nullable=False),
        sa.Column("accepted", sa.Boolean(), nullable=False),
        sa.Column("responded_on", sa.Date(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["offer_id"], ["offers.id"], name=op.f("fk_offer_responses_offer_id_offers")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"], ["users.id"], name=op.f("fk_offer_responses_recorded_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_offer_responses")),
    )
    with op.batch_alter_table("offer_responses", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_offer_responses_offer_id"), ["offer_id"], unique=False)


def downgrade() -> None:
    op.drop_table("offer_responses")
    # 0002 knows no answers: an accepted offer is proposed again; a declined one is
    # cancelled (its plan no longer proposes it).
    op.execute("UPDATE offers SET status = 'proposed' WHERE status = 'accepted'")
    op.execute("UPDATE offers SET status = 'cancelled' WHERE status = 'declined'")
    _offer_status(OLD_OFFER_STATUSES)
