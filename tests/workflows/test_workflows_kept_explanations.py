"""Explanations of a stored run are computed once per question and kept
(``workflows/kept_explanation.py``, ``registry/explanations.py``, migrations 0004 and
0005): the same question (in other words too) is answered from the registry without
solving, another question is computed and kept beside it, two first requests at once
solve once, a failed or abandoned computation leaves nothing half-written, and the table
goes down and up with the migrations."""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from typing import Any

import pytest
from explain_pool import register_pool
from sqlalchemy import func, inspect, select
from workflow_scheme import Scheme, run_cli

from kidneyshare.matching import explain as explaining
from kidneyshare.matching.explain import AddArcs, RelaxLimits
from kidneyshare.model import Arc
from kidneyshare.registry import current_revision, downgrade, head_revision, make_engine, upgrade
from kidneyshare.registry import explanations as kept_module
from kidneyshare.registry.columns import utc_now
from kidneyshare.registry.errors import RecordConflict
from kidneyshare.registry.models import StoredExplanation
from kidneyshare.workflows import explain_run as explain_run_module
from kidneyshare.workflows.explain_run import NewDonor, PreparedExplanation
from kidneyshare.workflows.kept_explanation import Question, explanation_of, question_json
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
        downgrade(engine, "0004")  # claims go, answers stay
        with scheme.sessions() as session:
            assert session.scalar(select(func.count(StoredExplanation.id))) == 1
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


class _Gate:
    """:meth:`PreparedExplanation.solve` held until released, counting its calls; the
    first call fails when ``fail_first``."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, *, fail_first: bool = False) -> None:
        self.started, self.release = threading.Event(), threading.Event()
        self.calls: list[str] = []
        real = PreparedExplanation.solve

        def gated(prepared: PreparedExplanation) -> Any:
            self.calls.append(threading.current_thread().name)
            self.started.set()
            assert self.release.wait(60), "never released"
            if fail_first and len(self.calls) == 1:
                raise RuntimeError("the solver crashed")
            return real(prepared)

        monkeypatch.setattr(PreparedExplanation, "solve", gated)


def _ask_in_threads(
    scheme: Scheme, run: int, patient: int, gate: _Gate
) -> tuple[dict[str, Any], dict[str, BaseException]]:
    """Two requests for one new question, the second while the first is computing it:
    their answers and errors by thread name."""
    answers: dict[str, Any] = {}
    errors: dict[str, BaseException] = {}

    def ask() -> None:
        name = threading.current_thread().name
        try:
            question = Question(max_cycle=4)
            answers[name] = explanation_of(scheme.sessions, run, patient, question, wait=60)
        except BaseException as exc:  # reported by the test
            errors[name] = exc

    first = threading.Thread(target=ask, name="first")
    second = threading.Thread(target=ask, name="second")
    first.start()
    assert gate.started.wait(60)
    second.start()
    second.join(1.0)
    assert second.is_alive()  # waiting for the first's answer, not solving
    (claim,) = _kept(scheme)
    assert claim.document is None and claim.claimed_at is not None
    assert gate.calls == ["first"]
    gate.release.set()
    first.join(60)
    second.join(60)
    assert not first.is_alive() and not second.is_alive()
    return answers, errors


def test_two_first_requests_at_once_solve_once(
    scheme: Scheme, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids, _ = register_pool(scheme)
    run = run_matching(scheme.sessions, scheme.admin, read_policy("max-transplants")).run_id
    gate = _Gate(monkeypatch)
    answers, errors = _ask_in_threads(scheme, run, ids["X4"], gate)
    assert errors == {} and gate.calls == ["first"]  # solved once
    assert answers["first"] == answers["second"]
    assert answers["first"]["what_if"][0]["matched_after"] is True
    (row,) = _kept(scheme)
    assert json.loads(row.document or "") == answers["first"] and row.claimed_at is None


def test_a_failed_solve_releases_the_claim_to_the_waiting_request(
    scheme: Scheme, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids, _ = register_pool(scheme)
    run = run_matching(scheme.sessions, scheme.admin, read_policy("max-transplants")).run_id
    gate = _Gate(monkeypatch, fail_first=True)
    answers, errors = _ask_in_threads(scheme, run, ids["X4"], gate)
    assert isinstance(errors.pop("first"), RuntimeError) and errors == {}
    assert gate.calls == ["first", "second"]  # the waiting request claimed and solved
    (row,) = _kept(scheme)
    assert json.loads(row.document or "") == answers["second"]


def test_a_failed_solve_alone_leaves_no_row(
    scheme: Scheme, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids, _ = register_pool(scheme)
    run = run_matching(scheme.sessions, scheme.admin, read_policy("max-transplants")).run_id
    gate = _Gate(monkeypatch, fail_first=True)
    gate.release.set()
    with pytest.raises(RuntimeError, match="crashed"):
        explanation_of(scheme.sessions, run, ids["X4"], Question(max_cycle=4))
    assert _kept(scheme) == []


def _claim(scheme: Scheme, run: int, patient: int, question: Question, age: float) -> None:
    """A claim on ``question`` last renewed ``age`` seconds ago, as a request that is
    computing it (or died doing so) leaves it."""
    asked = question_json(question)
    with scheme.sessions.begin() as session:
        session.add(
            StoredExplanation(
                run_id=run,
                patient_id=patient,
                question_sha256=kept_module.question_key(asked),
                question=asked,
                document=None,
                claimed_at=utc_now() - timedelta(seconds=age),
            )
        )


def test_a_live_claim_is_waited_for_and_an_abandoned_one_taken_over(scheme: Scheme) -> None:
    ids, _ = register_pool(scheme)
    run = run_matching(scheme.sessions, scheme.admin, read_policy("max-transplants")).run_id
    question = Question(max_cycle=4)
    _claim(scheme, run, ids["X4"], question, age=1)
    with pytest.raises(RecordConflict, match="being computed by another request"):
        explanation_of(scheme.sessions, run, ids["X4"], question, wait=0.3)
    (row,) = _kept(scheme)
    assert row.document is None  # the live claim is left alone
    _claim(scheme, run, ids["X3"], question, age=kept_module.LEASE_SECONDS + 1)
    answer = explanation_of(scheme.sessions, run, ids["X3"], question, wait=0.3)
    assert answer["explanation"]["reason"] == "no-compatible-donor"
    assert [r.document is not None for r in _kept(scheme)] == [False, True]


def test_the_same_question_in_other_words_is_not_solved_again(
    scheme: Scheme, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids, donors = register_pool(scheme)
    run = run_matching(scheme.sessions, scheme.admin, read_policy("max-transplants")).run_id
    typed = Question(new_donor=NewDonor.parse("ab", "a11, DR4  b8", age=40))
    arcs = (Arc(f"D{donors['X2']}", f"P{ids['X3']}"), Arc(f"D{donors['X1']}", f"P{ids['X3']}"))
    library = Question(changes=(AddArcs(arcs, "accept these"), RelaxLimits(4)))
    first = explanation_of(scheme.sessions, run, ids["X4"], typed)
    kept = explanation_of(scheme.sessions, run, ids["X3"], library)
    added, relaxed = kept["what_if"]
    assert added["change"] == "accept these (2 arcs)" and relaxed["change"] == "relax limits to K=4"
    _no_more_solving(monkeypatch)
    # the same typing in another order, spacing and case; the age as a float
    again = Question(new_donor=NewDonor("AB", ("B8", "A11", "dr4"), age=40.0))
    assert explanation_of(scheme.sessions, run, ids["X4"], again) == first
    # library changes by their content: the arcs in another order
    swapped = Question(changes=(AddArcs(arcs[::-1], "accept these"), RelaxLimits(4)))
    assert explanation_of(scheme.sessions, run, ids["X3"], swapped) == kept
    assert len(_kept(scheme)) == 2
    # one change "combined" with nothing is that change
    alone = Question(new_donor=NewDonor("AB", ("A11", "B8", "DR4"), age=40), combine=True)
    assert explanation_of(scheme.sessions, run, ids["X4"], alone) == first
    with pytest.raises(AssertionError, match="solved again"):  # another typing is new
        explanation_of(scheme.sessions, run, ids["X4"], Question(new_donor=NewDonor("AB", ("A1",))))
