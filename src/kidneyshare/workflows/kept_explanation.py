"""An explanation of a stored run, computed once per question and kept.

:func:`explanation_of` answers from the registry's kept explanations
(:mod:`kidneyshare.registry.explanations`) when the same question about the same run and
patient was asked before, and otherwise computes it (:func:`.explain_run`: a forced solve
for a competitive reason, one solve per what-if re-run) and keeps it. A run never
changes, so nothing kept is ever invalidated; :data:`FORMAT` is part of every key, so a
new format of the document (or of the reasoning) is a new question.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from kidneyshare.registry.explanations import find_explanation, question_key, store_explanation
from kidneyshare.registry.pool import get_patient
from kidneyshare.registry.runs import get_run
from kidneyshare.workflows.explain_run import NewDonor, explain_run

__all__ = ["FORMAT", "Question", "explanation_of"]

FORMAT = 1
"""The version of the kept document (:meth:`.RunExplanation.record`); raise it when the
document or the reasoning behind it changes, so that older answers are not served."""


@dataclass(frozen=True, slots=True)
class Question:
    """The what-if re-runs asked for with an explanation (none: the explanation alone),
    as :func:`.explain_run` takes them."""

    max_cycle: int | None = None
    max_chain: int | None = None
    abo_incompatible_titre_max: int | None = None
    new_donor: NewDonor | None = None

    def to_json(self) -> dict[str, Any]:
        donor = self.new_donor
        return {
            "format": FORMAT,
            "max_cycle": self.max_cycle,
            "max_chain": self.max_chain,
            "abo_incompatible_titre_max": self.abo_incompatible_titre_max,
            "new_donor": None
            if donor is None
            else {
                "blood_group": donor.blood_group,
                "hla": None if donor.hla is None else list(donor.hla),
                "age": donor.age,
                "altruist": donor.altruist,
            },
        }


def explanation_of(
    sessions: sessionmaker[Session], run_id: int, patient_id: int, question: Question
) -> dict[str, Any]:
    """Why the registry patient ``patient_id`` was (not) matched in run ``run_id``, with
    the re-runs ``question`` asks for: :meth:`.RunExplanation.record`, kept.

    Raises
    ------
    RecordNotFound, RecordConflict, RecordInvalid, ConfigError
        as :func:`.explain_run` (nothing is kept then).
    """
    asked = question.to_json()
    key = question_key(asked)
    with sessions() as session:
        run = get_run(session, run_id)
        get_patient(session, patient_id)
        kept = find_explanation(session, run_id, patient_id, key)
        if kept is not None:
            return kept
        answer = explain_run(
            session,
            run_id,
            patient_id,
            max_cycle=question.max_cycle,
            max_chain=question.max_chain,
            abo_incompatible_titre_max=question.abo_incompatible_titre_max,
            new_donor=question.new_donor,
        )
        policy = (
            None
            if run.policy is None
            else {k: run.policy.get(k) for k in ("name", "version", "sha256")}
        )
    record = answer.record()
    return store_explanation(sessions, run_id, patient_id, key, {**asked, "policy": policy}, record)
