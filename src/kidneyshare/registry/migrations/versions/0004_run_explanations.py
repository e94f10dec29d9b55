"""Explanations of a run's patients, kept once computed: the ``run_explanations`` table
(one row per run, patient and what-if question).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None

JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "run_explanations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("question_sha256", sa.String(length=64), nullable=False),
        sa.Column("question", JSON_DOCUMENT, nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["matching_runs.id"], name=op.f("fk_run_explanations_run_id_matching_runs")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_run_explanations_patient_id_patients")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_run_explanations")),
        sa.UniqueConstraint(
            "run_id", "patient_id", "question_sha256", name="uq_run_explanations_question"
        ),
    )
    with op.batch_alter_table("run_explanations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_run_explanations_patient_id"), ["patient_id"], unique=False
        )


def downgrade() -> None:
    # Nothing but the kept explanations is lost: each is computed again when asked.
    op.drop_table("run_explanations")
