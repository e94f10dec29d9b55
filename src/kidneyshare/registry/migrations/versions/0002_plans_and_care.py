"""A run's policy file, plan versions (recourse), cancelled offers, and donor care:
episodes, events, follow-up visits, measurements.

Offers gain the plan version that proposed them (1 for every existing offer) and the
status ``cancelled``; a donor may then have one offer per plan version of a run.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None

JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

OLD_OFFER_STATUSES = ("proposed", "crossmatch-negative", "crossmatch-positive", "transplanted")
NEW_OFFER_STATUSES = (*OLD_OFFER_STATUSES, "cancelled")
STAGES = (
    "assessment",
    "surgery-scheduled",
    "surgery",
    "inpatient-recovery",
    "discharged",
    "follow-up",
    "withdrawn",
    "deceased",
    "lost-to-follow-up",
    "transferred",
)


def _enum(values: tuple[str, ...], name: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=32)


def _offer_status(values: tuple[str, ...]) -> None:
    # The CHECK of a non-native enum is replaced by name on both backends (SQLite through
    # batch mode's table copy).
    with op.batch_alter_table("offers", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_offers_offer_status"), type_="check")
        batch_op.create_check_constraint("offer_status", sa.column("status").in_(values))


def upgrade() -> None:
    with op.batch_alter_table("matching_runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("policy", JSON_DOCUMENT, nullable=True))
    op.create_table(
        "plan_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("based_on_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("result", JSON_DOCUMENT, nullable=False),
        sa.Column("verification", JSON_DOCUMENT, nullable=False),
        sa.Column("repair", JSON_DOCUMENT, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["based_on_id"],
            ["plan_versions.id"],
            name=op.f("fk_plan_versions_based_on_id_plan_versions"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_plan_versions_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["matching_runs.id"], name=op.f("fk_plan_versions_run_id_matching_runs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_versions")),
        sa.UniqueConstraint("run_id", "number", name="uq_plan_versions_run_number"),
    )
    with op.batch_alter_table("plan_versions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_plan_versions_run_id"), ["run_id"], unique=False)

    with op.batch_alter_table("offers", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("plan_version", sa.Integer(), server_default=sa.text("1"), nullable=False)
        )
        batch_op.drop_constraint(op.f("uq_offers_run_donor"), type_="unique")
        batch_op.create_unique_constraint(
            "uq_offers_run_plan_donor", ["run_id", "plan_version", "donor_id"]
        )
    _offer_status(NEW_OFFER_STATUSES)

    op.create_table(
        "care_episodes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("donor_id", sa.Integer(), nullable=False),
        sa.Column("centre_id", sa.Integer(), nullable=False),
        sa.Column("offer_id", sa.Integer(), nullable=True),
        sa.Column("policy_name", sa.String(length=64), nullable=False),
        sa.Column("policy_version", sa.String(length=32), nullable=False),
        sa.Column("born_on", sa.Date(), nullable=False),
        sa.Column("sex", sa.String(length=1), nullable=False),
        sa.Column("opened_on", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["centre_id"], ["centres.id"], name=op.f("fk_care_episodes_centre_id_centres")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_care_episodes_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["donor_id"], ["donors.id"], name=op.f("fk_care_episodes_donor_id_donors")
        ),
        sa.ForeignKeyConstraint(
            ["offer_id"], ["offers.id"], name=op.f("fk_care_episodes_offer_id_offers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_care_episodes")),
        sa.UniqueConstraint("offer_id", name=op.f("uq_care_episodes_offer_id")),
    )
    with op.batch_alter_table("care_episodes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_care_episodes_centre_id"), ["centre_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_care_episodes_donor_id"), ["donor_id"], unique=False)

    op.create_table(
        "care_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("episode_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            _enum(("opened", "stage-changed", "coordinator-assigned"), "care_event_kind"),
            nullable=False,
        ),
        sa.Column("on", sa.Date(), nullable=False),
        sa.Column("from_stage", _enum(STAGES, "care_from_stage"), nullable=True),
        sa.Column("to_stage", _enum(STAGES, "care_to_stage"), nullable=True),
        sa.Column("planned_for", sa.Date(), nullable=True),
        sa.Column("coordinator_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["coordinator_id"], ["users.id"], name=op.f("fk_care_events_coordinator_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["episode_id"],
            ["care_episodes.id"],
            name=op.f("fk_care_events_episode_id_care_episodes"),
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"], ["users.id"], name=op.f("fk_care_events_recorded_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_care_events")),
    )
    with op.batch_alter_table("care_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_care_events_coordinator_id"), ["coordinator_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_care_events_episode_id"), ["episode_id"], unique=False)

    op.create_table(
        "follow_up_visits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("episode_id", sa.Integer(), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["episode_id"],
            ["care_episodes.id"],
            name=op.f("fk_follow_up_visits_episode_id_care_episodes"),
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"], ["users.id"], name=op.f("fk_follow_up_visits_recorded_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_follow_up_visits")),
    )
    with op.batch_alter_table("follow_up_visits", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_follow_up_visits_episode_id"), ["episode_id"], unique=False
        )

    op.create_table(
        "care_measurements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("episode_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            _enum(
                ("creatinine", "blood-pressure", "acr", "weight", "complication"),
                "measurement_kind",
            ),
            nullable=False,
        ),
        sa.Column("taken_on", sa.Date(), nullable=False),
        sa.Column("value", JSON_DOCUMENT, nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["episode_id"],
            ["care_episodes.id"],
            name=op.f("fk_care_measurements_episode_id_care_episodes"),
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"], ["users.id"], name=op.f("fk_care_measurements_recorded_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_care_measurements")),
    )
    with op.batch_alter_table("care_measurements", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_care_measurements_episode_id"), ["episode_id"], unique=False
        )


def downgrade() -> None:
    op.drop_table("care_measurements")
    op.drop_table("follow_up_visits")
    op.drop_table("care_events")
    op.drop_table("care_episodes")
    # Offers of later plan versions and cancelled offers have no place in 0001's schema.
    op.execute(
        "DELETE FROM crossmatch_results WHERE offer_id IN (SELECT id FROM offers "
        "WHERE plan_version > 1 OR status = 'cancelled')"
    )
    op.execute(
        "DELETE FROM transplants WHERE offer_id IN (SELECT id FROM offers "
        "WHERE plan_version > 1 OR status = 'cancelled')"
    )
    op.execute("DELETE FROM offers WHERE plan_version > 1 OR status = 'cancelled'")
    _offer_status(OLD_OFFER_STATUSES)
    with op.batch_alter_table("offers", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("uq_offers_run_plan_donor"), type_="unique")
        batch_op.create_unique_constraint("uq_offers_run_donor", ["run_id", "donor_id"])
        batch_op.drop_column("plan_version")
    op.drop_table("plan_versions")
    with op.batch_alter_table("matching_runs", schema=None) as batch_op:
        batch_op.drop_column("policy")
