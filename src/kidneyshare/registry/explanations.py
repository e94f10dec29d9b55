"""Explanations of a run's patients, kept once computed, and computed once.

A run is immutable (its snapshot, configuration and result never change, and what-if
re-runs read the clinical facts in force when it was made), so the answer to the same
question about the same patient never changes either: it is stored the first time it is
computed and read back every time after, never invalidated. A question is the what-if
parameters (and the format of the stored document); its key is the SHA-256 of their
canonical JSON.

Computed once: :func:`kept_or_computed` first *claims* the question, a row with the
unique key (run, patient, question) and no document, inserted in its own short
transaction. Of two requests asking at once, the unique key lets one insert; the other
finds the claim and waits (polling, never holding a transaction open) until the document
is written, then returns it. While computing, the claimant renews ``claimed_at`` every
:data:`RENEW_SECONDS` (a heartbeat thread); a claim not renewed for
:data:`LEASE_SECONDS` was left by a process that died, and the next request takes it
over. A computation that fails deletes its claim (a waiter then claims and computes
itself); a claim is never read as an answer, so nothing half-written is ever served.

Nothing here is audited: a kept explanation is derived from the run, not a change to the
registry's records.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from kidneyshare.registry.columns import utc_now
from kidneyshare.registry.errors import RecordConflict
from kidneyshare.registry.models import StoredExplanation

__all__ = [
    "LEASE_SECONDS",
    "RENEW_SECONDS",
    "WAIT_SECONDS",
    "find_explanation",
    "kept_or_computed",
    "question_key",
]

RENEW_SECONDS = 5.0
"""How often the request computing an explanation renews its claim."""
LEASE_SECONDS = 30.0
"""A claim not renewed for this long was abandoned (its process died): taken over."""
WAIT_SECONDS = 600.0
"""How long a request waits by default for another request's answer to the same question."""
_POLL_SECONDS = 0.1


def question_key(question: dict[str, Any]) -> str:
    """The SHA-256 of ``question`` as canonical JSON (sorted keys, no spaces)."""
    text = json.dumps(question, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(text.encode()).hexdigest()


def _where(run_id: int, patient_id: int, key: str) -> tuple[Any, ...]:
    return (
        StoredExplanation.run_id == run_id,
        StoredExplanation.patient_id == patient_id,
        StoredExplanation.question_sha256 == key,
    )


def find_explanation(
    session: Session, run_id: int, patient_id: int, key: str
) -> dict[str, Any] | None:
    """The document kept for this run, patient and question key, if answered (a claim
    being computed is not an answer)."""
    text = session.scalar(
        select(StoredExplanation.document).where(
            *_where(run_id, patient_id, key), StoredExplanation.document.is_not(None)
        )
    )
    return None if text is None else dict(json.loads(text))


@dataclass(frozen=True, slots=True)
class _Found:
    """What one look at the question found: its answer, our new claim (``claim``: the
    row's id), or somebody else's live claim (neither)."""

    answer: dict[str, Any] | None = None
    claim: int | None = None


def _claim(
    sessions: sessionmaker[Session], run_id: int, patient_id: int, key: str, question: Any
) -> _Found:
    """Answer, claim, or take over an abandoned claim, in one short transaction."""
    now = utc_now()
    try:
        with sessions.begin() as session:
            row = session.scalars(
                select(StoredExplanation).where(*_where(run_id, patient_id, key))
            ).one_or_none()
            if row is None:
                row = StoredExplanation(
                    run_id=run_id,
                    patient_id=patient_id,
                    question_sha256=key,
                    question=question,
                    document=None,
                    claimed_at=now,
                )
                session.add(row)
                session.flush()
                return _Found(claim=row.id)
            if row.document is not None:
                return _Found(answer=dict(json.loads(row.document)))
            beat = row.claimed_at
            if beat is not None and now - beat < timedelta(seconds=LEASE_SECONDS):
                return _Found()
            taken = session.execute(  # only if nobody renewed or took it meanwhile
                update(StoredExplanation)
                .where(
                    StoredExplanation.id == row.id,
                    StoredExplanation.document.is_(None),
                    StoredExplanation.claimed_at == beat
                    if beat is not None
                    else StoredExplanation.claimed_at.is_(None),
                )
                .values(claimed_at=now)
                .execution_options(synchronize_session=False)
            )
            return _Found(claim=row.id) if taken.rowcount == 1 else _Found()  # type: ignore[attr-defined]
    except IntegrityError:
        return _Found()  # another request inserted the claim first: wait for it


class _Heartbeat:
    """Renews a claim every :data:`RENEW_SECONDS` while its question is computed."""

    def __init__(self, sessions: sessionmaker[Session], row_id: int) -> None:
        self.sessions, self.row_id = sessions, row_id
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._beat, name="explanation-claim", daemon=True)

    def _beat(self) -> None:
        while not self.stop.wait(RENEW_SECONDS):
            try:
                with self.sessions.begin() as session:
                    session.execute(
                        update(StoredExplanation)
                        .where(
                            StoredExplanation.id == self.row_id,
                            StoredExplanation.document.is_(None),
                        )
                        .values(claimed_at=utc_now())
                    )
            except Exception:  # a missed beat only risks a takeover
                continue

    def __enter__(self) -> _Heartbeat:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        self.thread.join()


def _release(sessions: sessionmaker[Session], row_id: int) -> None:
    with sessions.begin() as session:
        session.execute(
            delete(StoredExplanation).where(
                StoredExplanation.id == row_id, StoredExplanation.document.is_(None)
            )
        )


def _answer(
    sessions: sessionmaker[Session],
    run_id: int,
    patient_id: int,
    key: str,
    row_id: int,
    document: dict[str, Any],
) -> dict[str, Any]:
    """Write ``document`` into our claim and return it as it reads back; when the claim
    was taken over and answered meanwhile (we were thought dead), that answer."""
    text = json.dumps(document, separators=(",", ":"), allow_nan=False)
    with sessions.begin() as session:
        written = session.execute(
            update(StoredExplanation)
            .where(StoredExplanation.id == row_id, StoredExplanation.document.is_(None))
            .values(document=text, claimed_at=None)
        )
        if written.rowcount != 1:  # type: ignore[attr-defined]
            kept = find_explanation(session, run_id, patient_id, key)
            if kept is not None:
                return kept
    return dict(json.loads(text))


def kept_or_computed(
    sessions: sessionmaker[Session],
    run_id: int,
    patient_id: int,
    key: str,
    question: dict[str, Any],
    compute: Callable[[], dict[str, Any]],
    *,
    wait: float = WAIT_SECONDS,
) -> dict[str, Any]:
    """The document kept for ``question`` (whose key is ``key``); when there is none,
    ``compute()`` it once and keep it (see the module notes): a request that finds the
    question claimed by another waits for its answer.

    Raises
    ------
    RecordConflict
        another request has been computing the same question for longer than ``wait``
        seconds (nothing is written; ask again later).
    Exception
        whatever ``compute()`` raises; the claim is released first.
    """
    deadline = time.monotonic() + wait
    while True:
        found = _claim(sessions, run_id, patient_id, key, question)
        if found.answer is not None:
            return found.answer
        if found.claim is not None:
            try:
                with _Heartbeat(sessions, found.claim):
                    document = compute()
            except BaseException:
                _release(sessions, found.claim)
                raise
            return _answer(sessions, run_id, patient_id, key, found.claim, document)
        if time.monotonic() >= deadline:
            raise RecordConflict(
                f"the explanation of patient {patient_id} in matching run {run_id} with these "
                f"what-if re-runs is being computed by another request (waited {wait:g} s); "
                "ask again later"
            )
        time.sleep(_POLL_SECONDS)
