"""Explanations of a stored run are computed once per question and kept
(``workflows/kept_explanation.py``, ``registry/explanations.py``, migration 0004): the
same question is answered from the registry without solving, another question is
computed and kept beside it, and the table goes down and up with the migration."""

from __future__ import annotations

import json

import pytest
from explain_pool import register_pool
from sqlalchemy import func, inspect, select
from workflow_scheme import Scheme, run_cli

from kidneyshare.matching import explain as explaining
from kidneyshare.registry import current_revision, downgrade, head_revision, make_engine, upgrade
from kidneyshare.registry.models import StoredExplanation
from kidneyshare.workflows import explain_run as explain_run_module
from kidneyshare.workflows.explain_run import NewDonor
from kidneyshare.workflows.kept_explanation import Question, explanation_of
from kidneyshare.workflows.matching_run import read_policy, run_matching


def _kept(scheme: Scheme) -> list[StoredExplanation]:
    with scheme.sessions() as session:
        return list(session.scalars(select(StoredExplanation).order_by(StoredExplanation.id)))


def _no_more_solving(monkeypatch: pytest.MonkeyPatch) -> None:
    """From now on, explaining or solving anything fails the test."""

    def fail(*args: object, **kwargs: object) -> None:
        raise AssertionError("solved again")

    monkeypatch.setattr(explaining, "solve", fail)
    monkeypatch.setattr(explain_run_module, "explain", fail)
    monkeypatch.setattr(explain_run_module, "what_if", fail)


def test_an_explanation_is_computed_once_and_kept(
    scheme: Scheme, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    ids, _ = register_pool(scheme)
    run = run_matching(scheme.sessions, scheme.admin, read_policy("max-transplants")).run_id
    solves = []
    real_solve = explaining.solve

    def counting(*args: object, **kwargs: object) -> object:
        solves.append(1)
        return real_solve(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(explaining, "solve", counting)
    relaxed = Question(max_cycle=4)
    first = explanation_of(scheme.sessions, run, ids["X4"], relaxed)
    assert solves  # the re-run with K = 4 was solved
    assert first["explanation"]["reason"] == "only-long-exchanges"
    (row,) = _kept(scheme)
    assert (row.run_id, row.patient_id) == (run, ids["X4"])
    assert row.question["max_cycle"] == 4 and row.question["new_donor"] is None
    assert row.question["policy"]["name"] == "max-transplants"
    assert json.loads(row.document) == first

    code, text = run_cli(capsys, scheme, "run", "explain", str(run), str(ids["X4"]), "--json")
    assert code == 0, text  # another question: computed and kept beside the first
    assert len(_kept(scheme)) == 2

    _no_more_solving(monkeypatch)
    assert explanation_of(scheme.sessions, run, ids["X4"], relaxed) == first
    code, again = run_cli(capsys, scheme, "run", "explain", str(run), str(ids["X4"]), "--json")
    assert (code, again) == (0, text)  # the same bytes, nothing solved
    assert len(_kept(scheme)) == 2
    with pytest.raises(AssertionError, match="solved again"):  # a new question is solved
        explanation_of(scheme.sessions, run, ids["X4"], Question(new_donor=NewDonor("AB")))
    assert len(_kept(scheme)) == 2  # and nothing is kept when it fails


def test_migration_0004_down_and_up_with_kept_explanations(scheme: Scheme) -> None:
    ids, _ = register_pool(scheme)
    run = run_matching(scheme.sessions, scheme.admin, read_policy("max-transplants")).run_id
    kept = explanation_of(scheme.sessions, run, ids["X3"], Question())
    engine = make_engine(scheme.url)
    try:
        downgrade(engine, "0003")
        assert "run_explanations" not in inspect(engine).get_table_names()
        upgrade(engine)
        assert current_revision(engine) == head_revision()
        with scheme.sessions() as session:
            assert session.scalar(select(func.count(StoredExplanation.id))) == 0
        # the run is as it was: the explanation is computed again, the same
        assert explanation_of(scheme.sessions, run, ids["X3"], Question()) == kept
        assert len(_kept(scheme)) == 1
    finally:
        engine.dispose()
