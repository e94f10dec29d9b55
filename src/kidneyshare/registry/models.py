"""The registry's tables, as SQLAlchemy 2 typed ORM models.

Rules the schema itself enforces:

- clinical facts (:class:`PatientClinicalRecord`, :class:`DonorClinicalRecord`) and
  crossmatch results are never updated: a correction is a new row whose ``supersedes_id``
  names the row it replaces. ``supersedes_id`` is unique, so a row is superseded at most
  once and two concurrent corrections of the same fact cannot both land; a partial unique
  index allows one first record per person. The current fact is the row nobody supersedes.
- rows that do change (a pair's status, an offer's state, a run's progress) carry a
  ``version`` that SQLAlchemy checks on every UPDATE (``version_id_col``), so a write based
  on a stale read fails instead of silently overwriting another one.
- the audit log (:class:`AuditEvent`) is append-only and written in the same transaction
  as the change it records (:mod:`kidneyshare.registry.unit_of_work`).
- nothing is deleted: pairs and altruists are withdrawn, users deactivated, tokens revoked.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from kidneyshare.care.pathway import Stage
from kidneyshare.registry.columns import JsonDocument, UtcDateTime, text_enum, utc_now
from kidneyshare.registry.vocabulary import (
    CareEventKind,
    CrossmatchOutcome,
    MeasurementKind,
    MemberStatus,
    OfferStatus,
    Role,
    RunStatus,
)

__all__ = [
    "Altruist",
    "ApiToken",
    "AuditEvent",
    "Base",
    "CareEvent",
    "CareMeasurement",
    "Centre",
    "CrossmatchResult",
    "Donor",
    "DonorCareEpisode",
    "DonorClinicalRecord",
    "FollowUpVisit",
    "ImportedArc",
    "MatchingRun",
    "Offer",
    "OfferResponse",
    "Pair",
    "Patient",
    "PatientClinicalRecord",
    "PlanVersion",
    "PoolImport",
    "SchemeSecret",
    "StatusChange",
    "StoredExplanation",
    "Transplant",
    "User",
]

# Stable constraint names, so that migrations can name what they drop on every backend.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def _now_column() -> Mapped[datetime]:
    return mapped_column(UtcDateTime(), default=utc_now, nullable=False)


class Centre(Base):
    """A transplant centre taking part in the scheme."""

    __tablename__ = "centres"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = _now_column()
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy reads a dict


class User(Base):
    """A person or a system allowed to use the service."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(text_enum(Role, "role"))
    centre_id: Mapped[int | None] = mapped_column(ForeignKey("centres.id"), index=True)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = _now_column()
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    centre: Mapped[Centre | None] = relationship()

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy reads a dict


class ApiToken(Base):
    """A long-lived token for a system; only the SHA-256 of its secret is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    secret_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = _now_column()
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime())

    user: Mapped[User] = relationship()


class SchemeSecret(Base):
    """A named secret generated once per scheme (token signing, pseudonym keys)."""

    __tablename__ = "scheme_secrets"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = _now_column()


class PoolImport(Base):
    """One pool file read into the registry, all of it or nothing."""

    __tablename__ = "pool_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id"), index=True)
    source_name: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    pairs: Mapped[int] = mapped_column(Integer)
    altruists: Mapped[int] = mapped_column(Integer)
    arcs: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = _now_column()
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class Patient(Base):
    """A patient registered by a centre; ``reference`` is the centre's identifiable label."""

    __tablename__ = "patients"
    __table_args__ = (UniqueConstraint("centre_id", "code", name="uq_patients_centre_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id"), index=True)
    code: Mapped[str] = mapped_column(String(64))
    reference: Mapped[str | None] = mapped_column(String(200))
    import_id: Mapped[int | None] = mapped_column(ForeignKey("pool_imports.id"), index=True)
    created_at: Mapped[datetime] = _now_column()


class Donor(Base):
    """A living donor: paired with a patient, or non-directed when ``patient_id`` is null."""

    __tablename__ = "donors"
    __table_args__ = (UniqueConstraint("centre_id", "code", name="uq_donors_centre_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id"), index=True)
    code: Mapped[str] = mapped_column(String(64))
    reference: Mapped[str | None] = mapped_column(String(200))
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patients.id"), index=True)
    import_id: Mapped[int | None] = mapped_column(ForeignKey("pool_imports.id"), index=True)
    created_at: Mapped[datetime] = _now_column()


class Pair(Base):
    """A patient and their willing donors as one member of the pool."""

    __tablename__ = "pairs"

    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id"), index=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), unique=True)
    status: Mapped[MemberStatus] = mapped_column(text_enum(MemberStatus, "member_status"))
    created_at: Mapped[datetime] = _now_column()
    updated_at: Mapped[datetime] = _now_column()
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    patient: Mapped[Patient] = relationship()
    centre: Mapped[Centre] = relationship()

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy reads a dict


class Altruist(Base):
    """A non-directed donor as one member of the pool."""

    __tablename__ = "altruists"

    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id"), index=True)
    donor_id: Mapped[int] = mapped_column(ForeignKey("donors.id"), unique=True)
    status: Mapped[MemberStatus] = mapped_column(text_enum(MemberStatus, "member_status"))
    created_at: Mapped[datetime] = _now_column()
    updated_at: Mapped[datetime] = _now_column()
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    donor: Mapped[Donor] = relationship()
    centre: Mapped[Centre] = relationship()

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy reads a dict


class StatusChange(Base):
    """One change of a pair's or altruist's pool status (the status history)."""

    __tablename__ = "status_changes"
    __table_args__ = (
        CheckConstraint("(pair_id IS NULL) <> (altruist_id IS NULL)", name="one_member"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    pair_id: Mapped[int | None] = mapped_column(ForeignKey("pairs.id"), index=True)
    altruist_id: Mapped[int | None] = mapped_column(ForeignKey("altruists.id"), index=True)
    status: Mapped[MemberStatus] = mapped_column(text_enum(MemberStatus, "member_status"))
    reason: Mapped[str] = mapped_column(Text, default="")
    recorded_at: Mapped[datetime] = _now_column()
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class PatientClinicalRecord(Base):
    """A patient's clinical facts as recorded on ``recorded_on``; never updated."""

    __tablename__ = "patient_clinical_records"
    __table_args__ = (
        Index(
            "uq_patient_clinical_records_first",
            "patient_id",
            unique=True,
            sqlite_where=text("supersedes_id IS NULL"),
            postgresql_where=text("supersedes_id IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    blood_group: Mapped[str | None] = mapped_column(String(2))
    anti_a_titre: Mapped[int | None] = mapped_column(Integer)
    hla: Mapped[list[str]] = mapped_column(JsonDocument)
    unacceptable_antigens: Mapped[list[str]] = mapped_column(JsonDocument)
    cpra: Mapped[float | None] = mapped_column(Float)
    age: Mapped[int | None] = mapped_column(Integer)
    sex: Mapped[str | None] = mapped_column(String(1))
    recorded_on: Mapped[date] = mapped_column(Date)
    recorded_at: Mapped[datetime] = _now_column()
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    supersedes_id: Mapped[int | None] = mapped_column(
        ForeignKey("patient_clinical_records.id"), unique=True
    )
    reason: Mapped[str] = mapped_column(Text, default="")


class DonorClinicalRecord(Base):
    """A donor's clinical facts as recorded on ``recorded_on``; never updated."""

    __tablename__ = "donor_clinical_records"
    __table_args__ = (
        Index(
            "uq_donor_clinical_records_first",
            "donor_id",
            unique=True,
            sqlite_where=text("supersedes_id IS NULL"),
            postgresql_where=text("supersedes_id IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    donor_id: Mapped[int] = mapped_column(ForeignKey("donors.id"), index=True)
    blood_group: Mapped[str | None] = mapped_column(String(2))
    a_subgroup: Mapped[str | None] = mapped_column(String(2))
    hla: Mapped[list[str]] = mapped_column(JsonDocument)
    age: Mapped[int | None] = mapped_column(Integer)
    sex: Mapped[str | None] = mapped_column(String(1))
    egfr: Mapped[float | None] = mapped_column(Float)
    recorded_on: Mapped[date] = mapped_column(Date)
    recorded_at: Mapped[datetime] = _now_column()
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    supersedes_id: Mapped[int | None] = mapped_column(
        ForeignKey("donor_clinical_records.id"), unique=True
    )
    reason: Mapped[str] = mapped_column(Text, default="")


class ImportedArc(Base):
    """A compatibility (donor can give to patient) read from a pool file."""

    __tablename__ = "imported_arcs"
    __table_args__ = (
        UniqueConstraint("donor_id", "patient_id", name="uq_imported_arcs_donor_patient"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    import_id: Mapped[int] = mapped_column(ForeignKey("pool_imports.id"), index=True)
    donor_id: Mapped[int] = mapped_column(ForeignKey("donors.id"))
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    weight: Mapped[float] = mapped_column(Float)
    probability: Mapped[float | None] = mapped_column(Float)


class MatchingRun(Base):
    """One matching run: the exact input, the configuration, the result and its check.

    ``snapshot`` is the pool in kidneyshare's native JSON, byte for byte what was solved;
    ``snapshot_sha256`` its SHA-256, so the run can be reproduced and defended. ``policy``
    is the scheme's policy file the configuration came from (name, version, text), when
    the run was started from one.
    """

    __tablename__ = "matching_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[RunStatus] = mapped_column(text_enum(RunStatus, "run_status"), index=True)
    phase: Mapped[str] = mapped_column(String(32), default="queued")
    progress: Mapped[int] = mapped_column(Integer, default=0)
    config: Mapped[dict[str, Any]] = mapped_column(JsonDocument)
    policy: Mapped[dict[str, Any] | None] = mapped_column(JsonDocument)
    snapshot: Mapped[str] = mapped_column(Text)
    snapshot_sha256: Mapped[str] = mapped_column(String(64))
    result: Mapped[dict[str, Any] | None] = mapped_column(JsonDocument)
    verification: Mapped[dict[str, Any] | None] = mapped_column(JsonDocument)
    message: Mapped[str] = mapped_column(Text, default="")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = _now_column()
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy reads a dict


class StoredExplanation(Base):
    """Why a patient was (not) matched in a run, computed once and kept: a run never
    changes, so neither does the answer to the same question about it.

    ``document`` is the explanation with people by snapshot id
    (:meth:`~kidneyshare.workflows.explain_run.RunExplanation.record`), as JSON text, byte
    for byte what was computed; ``question`` the what-if parameters it answers, the
    record's format and the run's policy; ``question_sha256`` the key of the parameters
    and the format (:mod:`kidneyshare.registry.explanations`). A row whose ``document`` is
    empty is a claim: the question is being computed by the request that renews
    ``claimed_at`` (its heartbeat); others wait for its answer.
    """

    __tablename__ = "run_explanations"
    __table_args__ = (
        UniqueConstraint(
            "run_id", "patient_id", "question_sha256", name="uq_run_explanations_question"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("matching_runs.id"))
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    question_sha256: Mapped[str] = mapped_column(String(64))
    question: Mapped[dict[str, Any]] = mapped_column(JsonDocument)
    document: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = _now_column()
    claimed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class PlanVersion(Base):
    """One version of a run's plan: number 1 is the run's own result; each repair after a
    failed crossmatch or a withdrawal adds the next, ``based_on`` the version it repaired.

    ``repair`` is the before/after record (broken, kept, new exchanges and their causes).
    """

    __tablename__ = "plan_versions"
    __table_args__ = (UniqueConstraint("run_id", "number", name="uq_plan_versions_run_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("matching_runs.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    based_on_id: Mapped[int | None] = mapped_column(ForeignKey("plan_versions.id"))
    reason: Mapped[str] = mapped_column(Text, default="")
    result: Mapped[dict[str, Any]] = mapped_column(JsonDocument)
    verification: Mapped[dict[str, Any]] = mapped_column(JsonDocument)
    repair: Mapped[dict[str, Any] | None] = mapped_column(JsonDocument)
    created_at: Mapped[datetime] = _now_column()
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class Offer(Base):
    """One donation proposed by a run: ``donor`` to ``patient``, part of an exchange.

    ``plan_version`` is the version of the run's plan that proposed it; a donor has at
    most one offer per version (a repaired plan cancels the offers of broken exchanges
    and adds offers for its new ones).
    """

    __tablename__ = "offers"
    __table_args__ = (
        UniqueConstraint("run_id", "plan_version", "donor_id", name="uq_offers_run_plan_donor"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("matching_runs.id"), index=True)
    plan_version: Mapped[int] = mapped_column(Integer, default=1, server_default=text("1"))
    exchange: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(8))
    position: Mapped[int] = mapped_column(Integer)
    donor_id: Mapped[int] = mapped_column(ForeignKey("donors.id"))
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    donor_centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id"), index=True)
    patient_centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id"), index=True)
    weight: Mapped[float] = mapped_column(Float)
    status: Mapped[OfferStatus] = mapped_column(text_enum(OfferStatus, "offer_status"))
    created_at: Mapped[datetime] = _now_column()
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy reads a dict


class CrossmatchResult(Base):
    """A laboratory crossmatch for an offer; a correction supersedes, never updates."""

    __tablename__ = "crossmatch_results"
    __table_args__ = (
        Index(
            "uq_crossmatch_results_first",
            "offer_id",
            unique=True,
            sqlite_where=text("supersedes_id IS NULL"),
            postgresql_where=text("supersedes_id IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("offers.id"), index=True)
    outcome: Mapped[CrossmatchOutcome] = mapped_column(
        text_enum(CrossmatchOutcome, "crossmatch_outcome")
    )
    performed_on: Mapped[date] = mapped_column(Date)
    notes: Mapped[str] = mapped_column(Text, default="")
    recorded_at: Mapped[datetime] = _now_column()
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    supersedes_id: Mapped[int | None] = mapped_column(
        ForeignKey("crossmatch_results.id"), unique=True
    )


class OfferResponse(Base):
    """The patient's centre's answer to an offer: accepted or declined, and why. Rows are
    appended; the latest is in force (a decline after an acceptance, for example)."""

    __tablename__ = "offer_responses"

    id: Mapped[int] = mapped_column(primary_key=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("offers.id"), index=True)
    accepted: Mapped[bool] = mapped_column(Boolean)
    responded_on: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text, default="")
    recorded_at: Mapped[datetime] = _now_column()
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class Transplant(Base):
    """A transplant that took place, following an offer."""

    __tablename__ = "transplants"

    id: Mapped[int] = mapped_column(primary_key=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("offers.id"), unique=True)
    donor_id: Mapped[int] = mapped_column(ForeignKey("donors.id"), unique=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), unique=True)
    performed_on: Mapped[date] = mapped_column(Date)
    recorded_at: Mapped[datetime] = _now_column()
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class DonorCareEpisode(Base):
    """A donor's care episode; its state is the replay of its :class:`CareEvent` log.

    ``born_on`` and ``sex`` are what the CKD-EPI eGFR needs; ``policy_*`` name the care
    policy whose follow-up schedule the episode follows.
    """

    __tablename__ = "care_episodes"

    id: Mapped[int] = mapped_column(primary_key=True)
    donor_id: Mapped[int] = mapped_column(ForeignKey("donors.id"), index=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id"), index=True)
    offer_id: Mapped[int | None] = mapped_column(ForeignKey("offers.id"), unique=True)
    policy_name: Mapped[str] = mapped_column(String(64))
    policy_version: Mapped[str] = mapped_column(String(32))
    born_on: Mapped[date] = mapped_column(Date)
    sex: Mapped[str] = mapped_column(String(1))
    opened_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = _now_column()
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class CareEvent(Base):
    """One event of a care episode (opened, stage changed, coordinator assigned);
    append-only, replayed in id order by :func:`kidneyshare.care.replay`."""

    __tablename__ = "care_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    episode_id: Mapped[int] = mapped_column(ForeignKey("care_episodes.id"), index=True)
    kind: Mapped[CareEventKind] = mapped_column(text_enum(CareEventKind, "care_event_kind"))
    on: Mapped[date] = mapped_column(Date)
    from_stage: Mapped[Stage | None] = mapped_column(text_enum(Stage, "care_from_stage"))
    to_stage: Mapped[Stage | None] = mapped_column(text_enum(Stage, "care_to_stage"))
    planned_for: Mapped[date | None] = mapped_column(Date)
    coordinator_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    recorded_at: Mapped[datetime] = _now_column()
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class FollowUpVisit(Base):
    """A follow-up visit the donor attended (append-only)."""

    __tablename__ = "follow_up_visits"

    id: Mapped[int] = mapped_column(primary_key=True)
    episode_id: Mapped[int] = mapped_column(ForeignKey("care_episodes.id"), index=True)
    held_on: Mapped[date] = mapped_column(Date)
    notes: Mapped[str] = mapped_column(Text, default="")
    recorded_at: Mapped[datetime] = _now_column()
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class CareMeasurement(Base):
    """One observation of a donor (creatinine, blood pressure, ...); ``value`` holds its
    fields as :mod:`kidneyshare.care.measurements` names them. Append-only."""

    __tablename__ = "care_measurements"

    id: Mapped[int] = mapped_column(primary_key=True)
    episode_id: Mapped[int] = mapped_column(ForeignKey("care_episodes.id"), index=True)
    kind: Mapped[MeasurementKind] = mapped_column(text_enum(MeasurementKind, "measurement_kind"))
    taken_on: Mapped[date] = mapped_column(Date)
    value: Mapped[dict[str, Any]] = mapped_column(JsonDocument)
    recorded_at: Mapped[datetime] = _now_column()
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class AuditEvent(Base):
    """Who did what, when, with the record before and after (append-only)."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = _now_column()
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64), index=True)
    entity: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[str] = mapped_column(String(64))
    before: Mapped[dict[str, Any] | None] = mapped_column(JsonDocument)
    after: Mapped[dict[str, Any] | None] = mapped_column(JsonDocument)

    __table_args__ = (Index("ix_audit_events_entity", "entity", "entity_id"),)
