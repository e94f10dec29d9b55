"""Explanations of a stored matching run (``workflows/explain_run.py``) on a pool whose
reasons are known by construction (``explain_pool``), and through ``kidneyshare run
explain``."""

from __future__ import annotations

import json
from typing import Any

import pytest
from explain_pool import register_pool
from workflow_scheme import DAY, Scheme, run_cli

from kidneyshare.compatibility import CompatibilityPolicy
from kidneyshare.errors import ConfigError
from kidneyshare.matching.explain import Reason, RelaxLimits
from kidneyshare.registry import PatientFacts, RecordConflict, UnitOfWork
from kidneyshare.registry.errors import RecordInvalid, RecordNotFound
from kidneyshare.registry.models import Pair
from kidneyshare.registry.pool import (
    change_status,
    record_patient_facts,
)
from kidneyshare.registry.runs import get_run
from kidneyshare.registry.vocabulary import MemberStatus
from kidneyshare.workflows.explain_run import NewDonor, explain_run, stored_run
from kidneyshare.workflows.matching_run import read_policy, run_matching, start_run
from kidneyshare.workflows.what_if_run import NEW_DONOR_ID


def _run(scheme: Scheme) -> int:
    # max-transplants: cycles of at most 3 pairs (the pool has no altruist)
    outcome = run_matching(scheme.sessions, scheme.admin, read_policy("max-transplants"))
    assert outcome.transplants == 2  # the X1-X2 swap only
    return outcome.run_id


def test_why_a_patient_was_not_selected_in_a_stored_run(scheme: Scheme) -> None:
    ids, donors = register_pool(scheme)
    run_id = _run(scheme)
    with scheme.sessions() as session:
        matched = explain_run(session, run_id, ids["X1"])
        assert matched.explanation.reason is Reason.MATCHED
        assert matched.explanation.exchange is not None
        assert set(matched.explanation.exchange.vertices) == {f"P{ids['X1']}", f"P{ids['X2']}"}

        none = explain_run(session, run_id, ids["X3"], abo_incompatible_titre_max=8)
        assert none.explanation.reason is Reason.NO_COMPATIBLE_DONOR
        (aboi,) = none.what_if
        assert aboi.matched_before is False and aboi.matched_after is True
        assert aboi.after.transplants == 3
        assert set(aboi.newly_matched) == {f"P{ids['X3']}"}
        # only X2's donor becomes able to give to X3 (anti-B titres are not recorded)
        snapshot = stored_run(get_run(session, run_id)).instance
        added = {(a.donor, a.patient) for a in aboi.instance.arcs} - {
            (a.donor, a.patient) for a in snapshot.arcs
        }
        assert added == {(f"D{donors['X2']}", f"P{ids['X3']}")}

        long = explain_run(session, run_id, ids["X4"], max_cycle=4)
        assert long.explanation.reason is Reason.ONLY_LONG_EXCHANGES
        assert long.explanation.shortest_cycle == 4
        (relaxed,) = long.what_if
        assert relaxed.matched_after is True and relaxed.after.transplants == 6
        assert set(relaxed.newly_matched) == {f"P{ids[c]}" for c in ("X4", "X5", "X6", "X7")}
        assert relaxed.no_longer_matched == ()

        with pytest.raises(RecordNotFound, match="matching run 999"):
            explain_run(session, 999, ids["X1"])
        with pytest.raises(RecordNotFound, match="patient 999"):
            explain_run(session, run_id, 999)
        with pytest.raises(ConfigError):
            explain_run(session, run_id, ids["X4"], max_cycle=-1)
    with UnitOfWork(scheme.sessions, scheme.admin) as uow:
        queued = start_run(uow, read_policy("max-transplants")).id
    with scheme.sessions() as session, pytest.raises(RecordConflict, match="is queued"):
        explain_run(session, queued, ids["X1"])  # no result yet


def test_a_patient_who_left_before_the_run_and_a_pool_that_changed(scheme: Scheme) -> None:
    ids, _ = register_pool(scheme)
    with UnitOfWork(scheme.sessions, scheme.admin) as uow:
        pair = uow.session.query(Pair).filter_by(patient_id=ids["X3"]).one()
        change_status(
            uow, pair, MemberStatus.SUSPENDED, reason="ill", expected_version=pair.version
        )
    run_id = _run(scheme)
    with scheme.sessions() as session:
        gone = explain_run(session, run_id, ids["X3"], max_cycle=4)
        assert not gone.in_snapshot
        assert gone.explanation.reason is Reason.NOT_IN_POOL
        assert gone.what_if[0].patient is None  # the re-run is not about them
    with UnitOfWork(scheme.sessions, scheme.admin) as uow:
        pair = uow.session.query(Pair).filter_by(patient_id=ids["X3"]).one()
        change_status(uow, pair, MemberStatus.ACTIVE, reason="well", expected_version=pair.version)
    with scheme.sessions() as session:
        # the pool changed since the run; the re-run is judged on the run's members
        answer = explain_run(session, run_id, ids["X4"], abo_incompatible_titre_max=8)
        (aboi,) = answer.what_if
        assert aboi.newly_matched == () and aboi.after.transplants == 2
        assert f"P{ids['X3']}" not in {p.id for p in aboi.instance.patients}


def test_abo_incompatible_re_runs_read_the_facts_of_the_run_s_time(scheme: Scheme) -> None:
    ids, donors = register_pool(scheme)
    run_id = _run(scheme)
    with UnitOfWork(scheme.sessions, scheme.admin) as uow:
        pair = uow.session.query(Pair).filter_by(patient_id=ids["X3"]).one()
        record_patient_facts(
            uow,
            pair,
            PatientFacts(DAY, blood_group="O", anti_a_titre=64),
            reason="new titre",
            expected_version=pair.version,
        )
    with scheme.sessions() as session:
        answer = explain_run(session, run_id, ids["X3"], abo_incompatible_titre_max=8)
        (aboi,) = answer.what_if
        assert aboi.matched_after is True  # titre 4 when the run was made, not 64
        assert aboi.change == "accept ABO-incompatible transplants up to titre 8 (1 arcs)"
        # X1's B donor and the AB donors to X3 (O) need an anti-B titre, which the
        # registry does not keep
        (anti_b,) = [n for n in answer.notes if "anti-B" in n]
        assert "were not accepted" in anti_b
        theirs = ", ".join(f"D{donors[c]}" for c in ("X1", "X4", "X5", "X6", "X7"))
        assert anti_b.endswith(f"for P{ids['X3']}: {theirs}")
    later = _run(scheme)
    with scheme.sessions() as session:
        # a run made now, with the titre of 64, gains nothing for X3
        (now,) = explain_run(session, later, ids["X3"], abo_incompatible_titre_max=8).what_if
        assert now.matched_after is False


def test_a_run_judged_under_other_rules_is_refused_with_the_difference(scheme: Scheme) -> None:
    ids, donors = register_pool(scheme)
    aboi = CompatibilityPolicy(abo_incompatible_titre_max=8)
    outcome = run_matching(
        scheme.sessions, scheme.admin, read_policy("max-transplants"), compatibility=aboi
    )
    arc = f"D{donors['X2']} -> P{ids['X3']}"
    with (
        scheme.sessions() as session,
        pytest.raises(RecordConflict, match=f"the run's arc {arc} is not given by the facts"),
    ):
        explain_run(session, outcome.run_id, ids["X3"], abo_incompatible_titre_max=8)


def test_a_hypothetical_donor(scheme: Scheme) -> None:
    ids, _ = register_pool(scheme)
    run_id = _run(scheme)
    with scheme.sessions() as session:
        # a second AB donor for X4 typed A11: every AB patient but X7 refuses A11, and
        # X7's donor gives to X4, so X4 and X7 can swap
        second = NewDonor("AB", hla=("A11",))
        answer = explain_run(session, run_id, ids["X4"], new_donor=second)
        (added,) = answer.what_if
        assert added.matched_before is False and added.matched_after is True
        assert added.after.transplants == 4
        assert set(added.newly_matched) == {f"P{ids['X4']}", f"P{ids['X7']}"}
        assert answer.notes == (
            f"add an AB donor (for P{ids['X4']}): gives to 1 of the run's patients",
        )
        # an O altruist whose A2 and A11 every AB patient refuses gives to X1, X2, X3;
        # X3's (untyped) A donor to the AB patients: alt -> X3 -> X4 -> X5 and the swap
        altruist = NewDonor("O", hla=("A2", "A11"), age=45, altruist=True)
        (chain,) = explain_run(session, run_id, ids["X3"], new_donor=altruist).what_if
        assert chain.change == "add donor new-donor (an altruist, 3 arcs)"
        assert chain.matched_after is True and chain.after.transplants == 5
        untyped = explain_run(session, run_id, ids["X3"], new_donor=NewDonor("O", altruist=True))
        assert any("no HLA typing given" in n for n in untyped.notes)
        with pytest.raises(RecordInvalid, match="what_if_donor: the blood group: unknown ABO"):
            explain_run(session, run_id, ids["X3"], new_donor=NewDonor("Q"))


def test_run_explain_from_the_command_line(
    scheme: Scheme, capsys: pytest.CaptureFixture[str]
) -> None:
    ids, _ = register_pool(scheme)
    run_id = str(_run(scheme))
    code, out = run_cli(
        capsys,
        scheme,
        "run",
        "explain",
        run_id,
        str(ids["X3"]),
        "--what-if-abo-incompatible",
        "8",
        "--json",
    )
    assert code == 0, out
    document: dict[str, Any] = json.loads(out)
    # the service's document: people by id, code and centre (the system identifies all)
    assert document["run_id"] == int(run_id) and document["reason"] == "no-compatible-donor"
    patient = dict(document["patient"])
    assert patient.pop("pseudonym").startswith("p-")
    assert patient == {"id": ids["X3"], "code": "X3", "centre_code": "GLA"}
    assert "patient X3 (GLA)" in document["sentence"]
    (aboi,) = document["what_if"]
    assert aboi["matched_before"] is False and aboi["matched_after"] is True
    assert [p["code"] for p in aboi["newly_matched"]] == ["X3"]
    code, out = run_cli(
        capsys, scheme, "run", "explain", run_id, str(ids["X4"]), "--what-if-max-cycle", "4"
    )
    assert code == 0, out
    assert out.startswith("only-long-exchanges: ")
    assert "patient X4 (GLA) would be matched (was not matched)" in out
    code, out = run_cli(
        capsys,
        scheme,
        "run",
        "explain",
        run_id,
        str(ids["X4"]),
        "--what-if-donor",
        "AB",
        "--what-if-donor-hla",
        "A11",
        "--json",
    )
    assert code == 0, out
    document = json.loads(out)
    (added,) = document["what_if"]
    assert added["matched_after"] is True and added["transplants_after"] == 4
    assert document["notes"] == ["add an AB donor (for X4 (GLA)): gives to 1 of the run's patients"]
    code, out = run_cli(
        capsys, scheme, "run", "explain", run_id, str(ids["X3"]), "--what-if-abo-incompatible", "8"
    )
    assert code == 0 and "  note: accept ABO-incompatible transplants up to titre 8: anti-B" in out
    for argv, message in (
        (("--what-if-donor-hla", "A11"), "--what-if-donor-hla: describes a new donor"),
        (("--what-if-donor", "Q"), "--what-if-donor: the blood group: unknown ABO group 'Q'"),
        (("--what-if-donor", "O", "--what-if-donor-hla", "A999"), "--what-if-donor-hla: the HLA"),
    ):
        code, out = run_cli(capsys, scheme, "run", "explain", run_id, str(ids["X4"]), *argv)
        assert code == 2 and out.count("\n") == 1 and message in out, out
    code, out = run_cli(capsys, scheme, "run", "explain", "999", str(ids["X4"]))
    assert code == 2 and out == "kidneyshare: error: RUN: matching run 999 does not exist\n"
    code, out = run_cli(
        capsys, scheme, "run", "explain", run_id, str(ids["X4"]), "--what-if-max-cycle", "-1"
    )
    assert code == 2 and "--what-if-max-cycle" in out


def test_what_ifs_combined_in_one_re_run(
    scheme: Scheme, capsys: pytest.CaptureFixture[str]
) -> None:
    ids, donors = register_pool(scheme)
    run_id = _run(scheme)
    x3 = f"P{ids['X3']}"
    aboi = "accept ABO-incompatible transplants up to titre 8 (1 arcs)"
    with scheme.sessions() as session:
        answer = explain_run(
            session, run_id, ids["X3"], max_cycle=4, abo_incompatible_titre_max=8, combine=True
        )
        (both,) = answer.what_if  # one re-run with both changes
        assert both.change == f"relax limits to K=4 + {aboi}"
        assert both.config.max_cycle == 4 and both.matched_after is True
        assert (f"D{donors['X2']}", x3) in {(a.donor, a.patient) for a in both.instance.arcs}
        # it matches X3, so each change is re-run alone: only the ABO-incompatible one does
        assert [(a.change, a.matched_after) for a in answer.alone] == [
            ("relax limits to K=4", False),
            (aboi, True),
        ]
        record = answer.record()["what_if"][0]
        assert record["changes"] == ["relax limits to K=4", aboi]
        assert record["alone"] == [
            {"change": "relax limits to K=4", "matched_after": False},
            {"change": aboi, "matched_after": True},
        ]
        assert record["sentence"].endswith(f"Alone, {aboi} would also match patient {x3}.")
        # a new donor together with ABO-incompatible transplants is judged under that rule
        # too: an A altruist gives to the O patient X3 (titre 4) only then
        donor = NewDonor("A", hla=("A2", "A11"), altruist=True)
        apart = explain_run(session, run_id, ids["X3"], new_donor=donor).what_if[0]
        assert (NEW_DONOR_ID, x3) not in {(a.donor, a.patient) for a in apart.instance.arcs}
        together = explain_run(
            session, run_id, ids["X3"], abo_incompatible_titre_max=8, new_donor=donor, combine=True
        )
        (both,) = together.what_if
        assert (NEW_DONOR_ID, x3) in {(a.donor, a.patient) for a in both.instance.arcs}
        assert len(together.notes) == len(set(together.notes))
        assert any(
            "accepting ABO-incompatible transplants up to titre 8" in n for n in together.notes
        )
        with pytest.raises(ConfigError, match="max_cycle twice"):
            explain_run(
                session, run_id, ids["X3"], max_cycle=4, changes=[RelaxLimits(5)], combine=True
            )
    code, out = run_cli(
        capsys,
        scheme,
        "run",
        "explain",
        str(run_id),
        str(ids["X3"]),
        "--what-if-max-cycle",
        "4",
        "--what-if-abo-incompatible",
        "8",
        "--what-if-combine",
        "--json",
    )
    assert code == 0, out
    (re_run,) = json.loads(out)["what_if"]
    assert re_run["changes"] == ["relax limits to K=4", aboi]
    assert [a["matched_after"] for a in re_run["alone"]] == [False, True]
    assert "Alone, accept ABO-incompatible transplants" in re_run["sentence"]
    assert "patient X3 (GLA)" in re_run["sentence"]
