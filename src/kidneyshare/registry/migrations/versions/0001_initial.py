"""The initial registry schema: every table of kidneyshare.registry.models at 0.1.

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None

JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "centres",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_centres")),
        sa.UniqueConstraint("code", name=op.f("uq_centres_code")),
    )
    op.create_table(
        "scheme_secrets",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_scheme_secrets")),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=True),
        sa.Column(
            "role",
            sa.Enum(
                "scheme-admin",
                "centre-coordinator",
                "care-coordinator",
                "analyst",
                name="role",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("centre_id", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["centre_id"], ["centres.id"], name=op.f("fk_users_centre_id_centres")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_users_centre_id"), ["centre_id"], unique=False)

    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("secret_sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_api_tokens_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("secret_sha256", name=op.f("uq_api_tokens_secret_sha256")),
    )
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_tokens_user_id"), ["user_id"], unique=False)

    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("entity", sa.String(length=32), nullable=False),
        sa.Column("entity_id", sa.String(length=64), nullable=False),
        sa.Column("before", JSON_DOCUMENT, nullable=True),
        sa.Column("after", JSON_DOCUMENT, nullable=True),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"], name=op.f("fk_audit_events_actor_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
    )
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_events_action"), ["action"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_events_actor_id"), ["actor_id"], unique=False)
        batch_op.create_index("ix_audit_events_entity", ["entity", "entity_id"], unique=False)

    op.create_table(
        "matching_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "queued",
                "running",
                "succeeded",
                "failed",
                "interrupted",
                name="run_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("phase", sa.String(length=32), nullable=False),
        sa.Column("progress", sa.Integer(), nullable=False),
        sa.Column("config", JSON_DOCUMENT, nullable=False),
        sa.Column("snapshot", sa.Text(), nullable=False),
        sa.Column("snapshot_sha256", sa.String(length=64), nullable=False),
        sa.Column("result", JSON_DOCUMENT, nullable=True),
        sa.Column("verification", JSON_DOCUMENT, nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["requested_by_id"], ["users.id"], name=op.f("fk_matching_runs_requested_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_matching_runs")),
    )
    with op.batch_alter_table("matching_runs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_matching_runs_status"), ["status"], unique=False)

    op.create_table(
        "pool_imports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("centre_id", sa.Integer(), nullable=False),
        sa.Column("source_name", sa.String(length=255), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("pairs", sa.Integer(), nullable=False),
        sa.Column("altruists", sa.Integer(), nullable=False),
        sa.Column("arcs", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["centre_id"], ["centres.id"], name=op.f("fk_pool_imports_centre_id_centres")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_pool_imports_created_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pool_imports")),
    )
    with op.batch_alter_table("pool_imports", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pool_imports_centre_id"), ["centre_id"], unique=False)

    op.create_table(
        "patients",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("centre_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("reference", sa.String(length=200), nullable=True),
        sa.Column("import_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["centre_id"], ["centres.id"], name=op.f("fk_patients_centre_id_centres")
        ),
        sa.ForeignKeyConstraint(
            ["import_id"], ["pool_imports.id"], name=op.f("fk_patients_import_id_pool_imports")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patients")),
        sa.UniqueConstraint("centre_id", "code", name="uq_patients_centre_code"),
    )
    with op.batch_alter_table("patients", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_patients_centre_id"), ["centre_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_patients_import_id"), ["import_id"], unique=False)

    op.create_table(
        "donors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("centre_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("reference", sa.String(length=200), nullable=True),
        sa.Column("patient_id", sa.Integer(), nullable=True),
        sa.Column("import_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["centre_id"], ["centres.id"], name=op.f("fk_donors_centre_id_centres")
        ),
        sa.ForeignKeyConstraint(
            ["import_id"], ["pool_imports.id"], name=op.f("fk_donors_import_id_pool_imports")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_donors_patient_id_patients")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_donors")),
        sa.UniqueConstraint("centre_id", "code", name="uq_donors_centre_code"),
    )
    with op.batch_alter_table("donors", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_donors_centre_id"), ["centre_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_donors_import_id"), ["import_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_donors_patient_id"), ["patient_id"], unique=False)

    op.create_table(
        "pairs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("centre_id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "active",
                "suspended",
                "withdrawn",
                "transplanted",
                name="member_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["centre_id"], ["centres.id"], name=op.f("fk_pairs_centre_id_centres")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_pairs_patient_id_patients")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pairs")),
        sa.UniqueConstraint("patient_id", name=op.f("uq_pairs_patient_id")),
    )
    with op.batch_alter_table("pairs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pairs_centre_id"), ["centre_id"], unique=False)

    op.create_table(
        "patient_clinical_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("blood_group", sa.String(length=2), nullable=True),
        sa.Column("anti_a_titre", sa.Integer(), nullable=True),
        sa.Column("hla", JSON_DOCUMENT, nullable=False),
        sa.Column("unacceptable_antigens", JSON_DOCUMENT, nullable=False),
        sa.Column("cpra", sa.Float(), nullable=True),
        sa.Column("age", sa.Integer(), nullable=True),
        sa.Column("sex", sa.String(length=1), nullable=True),
        sa.Column("recorded_on", sa.Date(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("supersedes_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name=op.f("fk_patient_clinical_records_patient_id_patients"),
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["users.id"],
            name=op.f("fk_patient_clinical_records_recorded_by_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["supersedes_id"],
            ["patient_clinical_records.id"],
            name=op.f("fk_patient_clinical_records_supersedes_id_patient_clinical_records"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patient_clinical_records")),
        sa.UniqueConstraint(
            "supersedes_id", name=op.f("uq_patient_clinical_records_supersedes_id")
        ),
    )
    with op.batch_alter_table("patient_clinical_records", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_patient_clinical_records_patient_id"), ["patient_id"], unique=False
        )
        batch_op.create_index(
            "uq_patient_clinical_records_first",
            ["patient_id"],
            unique=True,
            sqlite_where=sa.text("supersedes_id IS NULL"),
            postgresql_where=sa.text("supersedes_id IS NULL"),
        )

    op.create_table(
        "altruists",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("centre_id", sa.Integer(), nullable=False),
        sa.Column("donor_id", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "active",
                "suspended",
                "withdrawn",
                "transplanted",
                name="member_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["centre_id"], ["centres.id"], name=op.f("fk_altruists_centre_id_centres")
        ),
        sa.ForeignKeyConstraint(
            ["donor_id"], ["donors.id"], name=op.f("fk_altruists_donor_id_donors")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_altruists")),
        sa.UniqueConstraint("donor_id", name=op.f("uq_altruists_donor_id")),
    )
    with op.batch_alter_table("altruists", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_altruists_centre_id"), ["centre_id"], unique=False)

    op.create_table(
        "donor_clinical_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("donor_id", sa.Integer(), nullable=False),
        sa.Column("blood_group", sa.String(length=2), nullable=True),
        sa.Column("a_subgroup", sa.String(length=2), nullable=True),
        sa.Column("hla", JSON_DOCUMENT, nullable=False),
        sa.Column("age", sa.Integer(), nullable=True),
        sa.Column("sex", sa.String(length=1), nullable=True),
        sa.Column("egfr", sa.Float(), nullable=True),
        sa.Column("recorded_on", sa.Date(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("supersedes_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["donor_id"], ["donors.id"], name=op.f("fk_donor_clinical_records_donor_id_donors")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["users.id"],
            name=op.f("fk_donor_clinical_records_recorded_by_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["supersedes_id"],
            ["donor_clinical_records.id"],
            name=op.f("fk_donor_clinical_records_supersedes_id_donor_clinical_records"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_donor_clinical_records")),
        sa.UniqueConstraint("supersedes_id", name=op.f("uq_donor_clinical_records_supersedes_id")),
    )
    with op.batch_alter_table("donor_clinical_records", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_donor_clinical_records_donor_id"), ["donor_id"], unique=False
        )
        batch_op.create_index(
            "uq_donor_clinical_records_first",
            ["donor_id"],
            unique=True,
            sqlite_where=sa.text("supersedes_id IS NULL"),
            postgresql_where=sa.text("supersedes_id IS NULL"),
        )

    op.create_table(
        "imported_arcs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.Column("donor_id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("weight", sa.Float(), nullable=False),
        sa.Column("probability", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["donor_id"], ["donors.id"], name=op.f("fk_imported_arcs_donor_id_donors")
        ),
        sa.ForeignKeyConstraint(
            ["import_id"], ["pool_imports.id"], name=op.f("fk_imported_arcs_import_id_pool_imports")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_imported_arcs_patient_id_patients")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_imported_arcs")),
        sa.UniqueConstraint("donor_id", "patient_id", name="uq_imported_arcs_donor_patient"),
    )
    with op.batch_alter_table("imported_arcs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_imported_arcs_import_id"), ["import_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_imported_arcs_patient_id"), ["patient_id"], unique=False
        )

    op.create_table(
        "offers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("exchange", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("donor_id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("donor_centre_id", sa.Integer(), nullable=False),
        sa.Column("patient_centre_id", sa.Integer(), nullable=False),
        sa.Column("weight", sa.Float(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "proposed",
                "crossmatch-negative",
                "crossmatch-positive",
                "transplanted",
                name="offer_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["donor_centre_id"], ["centres.id"], name=op.f("fk_offers_donor_centre_id_centres")
        ),
        sa.ForeignKeyConstraint(
            ["donor_id"], ["donors.id"], name=op.f("fk_offers_donor_id_donors")
        ),
        sa.ForeignKeyConstraint(
            ["patient_centre_id"], ["centres.id"], name=op.f("fk_offers_patient_centre_id_centres")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_offers_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["matching_runs.id"], name=op.f("fk_offers_run_id_matching_runs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_offers")),
        sa.UniqueConstraint("run_id", "donor_id", name="uq_offers_run_donor"),
    )
    with op.batch_alter_table("offers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_offers_donor_centre_id"), ["donor_centre_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_offers_patient_centre_id"), ["patient_centre_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_offers_run_id"), ["run_id"], unique=False)

    op.create_table(
        "crossmatch_results",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("offer_id", sa.Integer(), nullable=False),
        sa.Column(
            "outcome",
            sa.Enum(
                "negative",
                "positive",
                name="crossmatch_outcome",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("performed_on", sa.Date(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("supersedes_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["offer_id"], ["offers.id"], name=op.f("fk_crossmatch_results_offer_id_offers")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["users.id"],
            name=op.f("fk_crossmatch_results_recorded_by_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["supersedes_id"],
            ["crossmatch_results.id"],
            name=op.f("fk_crossmatch_results_supersedes_id_crossmatch_results"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crossmatch_results")),
        sa.UniqueConstraint("supersedes_id", name=op.f("uq_crossmatch_results_supersedes_id")),
    )
    with op.batch_alter_table("crossmatch_results", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_crossmatch_results_offer_id"), ["offer_id"], unique=False
        )
        batch_op.create_index(
            "uq_crossmatch_results_first",
            ["offer_id"],
            unique=True,
            sqlite_where=sa.text("supersedes_id IS NULL"),
            postgresql_where=sa.text("supersedes_id IS NULL"),
        )

    op.create_table(
        "status_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pair_id", sa.Integer(), nullable=True),
        sa.Column("altruist_id", sa.Integer(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "active",
                "suspended",
                "withdrawn",
                "transplanted",
                name="member_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "(pair_id IS NULL) <> (altruist_id IS NULL)", name=op.f("ck_status_changes_one_member")
        ),
        sa.ForeignKeyConstraint(
            ["altruist_id"], ["altruists.id"], name=op.f("fk_status_changes_altruist_id_altruists")
        ),
        sa.ForeignKeyConstraint(
            ["pair_id"], ["pairs.id"], name=op.f("fk_status_changes_pair_id_pairs")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"], ["users.id"], name=op.f("fk_status_changes_recorded_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_status_changes")),
    )
    with op.batch_alter_table("status_changes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_status_changes_altruist_id"), ["altruist_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_status_changes_pair_id"), ["pair_id"], unique=False)

    op.create_table(
        "transplants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("offer_id", sa.Integer(), nullable=False),
        sa.Column("donor_id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("performed_on", sa.Date(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["donor_id"], ["donors.id"], name=op.f("fk_transplants_donor_id_donors")
        ),
        sa.ForeignKeyConstraint(
            ["offer_id"], ["offers.id"], name=op.f("fk_transplants_offer_id_offers")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_transplants_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"], ["users.id"], name=op.f("fk_transplants_recorded_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transplants")),
        sa.UniqueConstraint("donor_id", name=op.f("uq_transplants_donor_id")),
        sa.UniqueConstraint("offer_id", name=op.f("uq_transplants_offer_id")),
        sa.UniqueConstraint("patient_id", name=op.f("uq_transplants_patient_id")),
    )


def downgrade() -> None:
    # Tables go in reverse order of their foreign keys; their indexes go with them.
    op.drop_table("transplants")
    op.drop_table("status_changes")
    op.drop_table("crossmatch_results")
    op.drop_table("offers")
    op.drop_table("imported_arcs")
    op.drop_table("donor_clinical_records")
    op.drop_table("altruists")
    op.drop_table("patient_clinical_records")
    op.drop_table("pairs")
    op.drop_table("donors")
    op.drop_table("patients")
    op.drop_table("pool_imports")
    op.drop_table("matching_runs")
    op.drop_table("audit_events")
    op.drop_table("api_tokens")
    op.drop_table("users")
    op.drop_table("scheme_secrets")
    op.drop_table("centres")
