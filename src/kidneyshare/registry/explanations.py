"""Explanations of a run's patients, kept once computed.

A run is immutable (its snapshot, configuration and result never change, and what-if
re-runs read the clinical facts in force when it was made), so the answer to the same
question about the same patient never changes either: it is stored the first time it is
computed and read back every time after, never invalidated. A question is the what-if
parameters (and the format of the stored document); its key is the SHA-256 of their
canonical JSON. Two requests computing the same question at once both store it; the
second insert meets the unique key and reads the first one's row instead.

Nothing here is audited: a kept explanation is derived from the run, not a change to the
registry's records.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from kidneyshare.registry.errors import RecordConflict
from kidneyshare.registry.models import StoredExplanation
from kidneyshare.registry.unit_of_work import SYSTEM, UnitOfWork

__all__ = ["find_explanation", "question_key", "store_explanation"]


def question_key(question: dict[str, Any]) -> str:
    """The SHA-256 of ``question`` as canonical JSON (sorted keys, no spaces)."""
    text = json.dumps(question, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(text.encode()).hexdigest()


def find_explanation(
    session: Session, run_id: int, patient_id: int, key: str
) -> dict[str, Any] | None:
    """The document kept for this run, patient and question key, if any."""
    text = session.scalar(
        select(StoredExplanation.document).where(
            StoredExplanation.run_id == run_id,
            StoredExplanation.patient_id == patient_id,
            StoredExplanation.question_sha256 == key,
        )
    )
    return None if text is None else dict(json.loads(text))


def store_explanation(
    sessions: sessionmaker[Session],
    run_id: int,
    patient_id: int,
    key: str,
    question: dict[str, Any],
    document: dict[str, Any],
) -> dict[str, Any]:
    """Keep ``document`` as the answer to ``question`` (whose key is ``key``), one row in
    its own transaction, and return it as it reads back; when another request kept the
    same question first, theirs."""
    text = json.dumps(document, separators=(",", ":"), allow_nan=False)
    row = StoredExplanation(
        run_id=run_id, patient_id=patient_id, question_sha256=key, question=question, document=text
    )
    try:
        with UnitOfWork(sessions, SYSTEM) as uow:
            uow.session.add(row)
    except RecordConflict:
        with sessions() as session:
            kept = find_explanation(session, run_id, patient_id, key)
        if kept is None:
            raise
        return kept
    return dict(json.loads(text))
