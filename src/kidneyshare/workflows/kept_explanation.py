"""An explanation of a stored run, computed once per question and kept.

:func:`explanation_of` answers from the registry's kept explanations
(:mod:`kidneyshare.registry.explanations`) when the same question about the same run and
patient was asked before, and otherwise computes it (:func:`.explain_run`: a forced solve
for a competitive reason, one solve per what-if re-run) and keeps it; two requests asking
the same new question at once solve it once (the second waits for the first's answer). A
run never changes, so nothing kept is ever invalidated; :data:`FORMAT` is part of every
key, so a new format of the document (or of the reasoning) is a new question.

A question's key is made from its canonical form, so that the same question asked in
other words is the same question: a new donor's blood group and HLA names as the
compatibility layer reads them (``a2`` is ``A2``, ``A*02:01`` as written by the
nomenclature), its typing as a set in a fixed order (``"B8, A1"`` and ``"A1 B8"`` are one
typing), and library changes by their content (arcs in donor, patient order).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from kidneyshare.matching.explain import AddArcs, AddDonor, Change, RelaxLimits
from kidneyshare.model import Arc
from kidneyshare.registry.explanations import (
    WAIT_SECONDS,
    find_explanation,
    kept_or_computed,
    question_key,
)
from kidneyshare.registry.pool import get_patient
from kidneyshare.registry.runs import get_run
from kidneyshare.workflows.explain_run import NewDonor, Question, prepare_explanation

__all__ = ["FORMAT", "Question", "explanation_of", "question_json"]

FORMAT = 2
"""The version of the kept document (:meth:`.RunExplanation.record`); raise it when the
document or the reasoning behind it changes, so that older answers are not served.
2: re-runs carry ``changes`` and ``alone`` (combined questions); questions are keyed by
their canonical form."""


def question_json(question: Question) -> dict[str, Any]:
    """``question`` in canonical form (see the module notes), with :data:`FORMAT`.

    Raises
    ------
    RecordInvalid
        a new donor's value cannot be read (naming the service's parameter).
    """
    q = question
    return {
        "format": FORMAT,
        "max_cycle": q.max_cycle,
        "max_chain": q.max_chain,
        "abo_incompatible_titre_max": q.abo_incompatible_titre_max,
        "new_donor": None if q.new_donor is None else _donor_json(q.new_donor),
        "changes": [_change_json(c) for c in q.changes],
        # one change combined with nothing is that change
        "combine": q.combine and q.count > 1,
    }


def _donor_json(donor: NewDonor) -> dict[str, Any]:
    record = donor.record(None)
    return {
        "blood_group": record.abo.value,
        "hla": None if record.hla is None else sorted(record.hla.names),
        "age": None if donor.age is None else float(donor.age),
        "altruist": donor.altruist,
    }


def _arcs_json(arcs: Sequence[Arc]) -> list[list[Any]]:
    return sorted([a.donor, a.patient, a.weight, a.probability] for a in arcs)


def _change_json(change: Change) -> dict[str, Any]:
    if isinstance(change, RelaxLimits):
        return {"relax": {"max_cycle": change.max_cycle, "max_chain": change.max_chain}}
    if isinstance(change, AddArcs):
        return {"add_arcs": {"label": change.label, "arcs": _arcs_json(change.arcs)}}
    assert isinstance(change, AddDonor)
    d = change.donor
    group = None if d.blood_group is None else d.blood_group.value
    return {
        "add_donor": {
            "donor": {"id": d.id, "patient": d.patient, "blood_group": group, "age": d.age},
            "arcs": _arcs_json(change.arcs),
        }
    }


def explanation_of(
    sessions: sessionmaker[Session],
    run_id: int,
    patient_id: int,
    question: Question,
    *,
    wait: float = WAIT_SECONDS,
) -> dict[str, Any]:
    """Why the registry patient ``patient_id`` was (not) matched in run ``run_id``, with
    the re-runs ``question`` asks for: :meth:`.RunExplanation.record`, kept. When another
    request is computing the same question, its answer, waited for up to ``wait``
    seconds. No transaction is held open while solving.

    Raises
    ------
    RecordNotFound, RecordConflict, RecordInvalid, ConfigError, InstanceError
        as :func:`.explain_run` (nothing is kept then); RecordConflict also when another
        request computing the question has not answered within ``wait`` seconds.
    """
    asked = question_json(question)
    key = question_key(asked)
    with sessions() as session:
        run = get_run(session, run_id)
        get_patient(session, patient_id)
        kept = find_explanation(session, run_id, patient_id, key)
        if kept is not None:
            return kept
        policy = (
            None
            if run.policy is None
            else {k: run.policy.get(k) for k in ("name", "version", "sha256")}
        )

    def compute() -> dict[str, Any]:
        with sessions() as session:  # read, then solve with no transaction open
            prepared = prepare_explanation(session, run_id, patient_id, question)
        return prepared.solve().record()

    stored = {**asked, "policy": policy}
    return kept_or_computed(sessions, run_id, patient_id, key, stored, compute, wait=wait)
