"""Recourse (``matching.recourse.repair`` and ``kidneyshare repair``): a run's plan
repaired after failed arcs and withdrawals.

Unit tests on tiny pools where the repair is known by construction; Hypothesis
properties on random small pools: the repaired plan never uses a failed arc or a
withdrawn person, never changes a fixed exchange, and passes verify on the full pool.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from kidneyshare.cli import app, main
from kidneyshare.errors import ConfigError
from kidneyshare.formats import write_instance
from kidneyshare.matching import ExchangeKind, Result, SolverConfig, solve, verify
from kidneyshare.matching.explain import Reason, explain
from kidneyshare.matching.recourse import ChainPolicy, matched_patients, repair
from kidneyshare.model import Arc, Donor, DonorId, Instance, Patient, PatientId
from strategies import describe, instances
from test_explain import pool

runner = CliRunner()


def _cycle(result: Result, members: set[str]) -> int:
    return next(i for i, e in enumerate(result.exchanges) if set(e.vertices) == members)


def test_failed_arc_breaks_the_cycle_and_the_pairs_are_re_optimised() -> None:
    # The run picks the 3-cycle p1-p2-p3; when d1->p2 fails, p1 and p3 swap instead.
    instance = pool(3, "d1:p2 d2:p3 d3:p1 d1:p3")
    config = SolverConfig(max_cycle=3, max_chain=0)
    result = solve(instance, config)
    assert result.transplants == 3
    r = repair(instance, config, result, failed_arcs=[("d1", "p2")])
    assert [b.causes for b in r.broken] == [("arc d1->p2 failed",)]
    assert [set(e.vertices) for e in r.new] == [{"p1", "p3"}]
    assert r.after.transplants == 2 and r.no_longer_matched == ("p2",)
    assert r.reduced is not None and ("d1", "p2") not in {
        (a.donor, a.patient) for a in r.reduced.arcs
    }


def test_fixed_exchange_is_kept_and_a_broken_fixed_exchange_is_an_error() -> None:
    instance = pool(4, "d1:p2 d2:p1 d3:p4 d4:p3 d1:p4 d4:p1")
    config = SolverConfig(max_cycle=2, max_chain=0)
    result = solve(instance, config)
    fixed = result.exchanges[_cycle(result, {"p1", "p2"})]
    r = repair(instance, config, result, failed_arcs=[("d3", "p4")], fixed=[fixed])
    assert fixed in r.kept and fixed in r.after.exchanges
    with pytest.raises(ConfigError, match="agreed exchange p1 -> p2 -> p1 is broken"):
        repair(instance, config, result, failed_arcs=[("d1", "p2")], fixed=[fixed])


def test_chain_broken_mid_way_goes_to_the_waiting_list_or_is_re_routed() -> None:
    # a1 -> p1 -> p2 -> p3 is the only long chain; d2->p3 fails. p4 is another route.
    instance = pool(4, "a1:p1 d1:p2 d2:p3 d1:p4", altruists=1)
    config = SolverConfig(max_cycle=2, max_chain=3)
    result = solve(instance, config)
    assert [e.vertices for e in result.chains] == [("a1", "p1", "p2", "p3")]
    ended = repair(instance, config, result, failed_arcs=[("d2", "p3")])
    assert [e.vertices for e in ended.truncated] == [("a1", "p1", "p2")]
    assert ended.broken[0].kept_prefix == ended.truncated[0]
    assert [e.vertices for e in ended.after.chains] == [("a1", "p1", "p2")]
    rerouted = repair(instance, config, result, failed_arcs=[("d2", "p3")], chain_policy="re-route")
    assert rerouted.truncated == ()
    assert [e.vertices for e in rerouted.after.chains] == [("a1", "p1", "p2")] or [
        e.vertices for e in rerouted.after.chains
    ] == [("a1", "p1", "p4")]
    assert rerouted.chain_policy is ChainPolicy.RE_ROUTE


def test_withdrawals_of_a_patient_a_donor_and_an_altruist() -> None:
    instance = pool(4, "a1:p1 d1:p2 d3:p4 d4:p3", altruists=1)
    config = SolverConfig(max_cycle=2, max_chain=2)
    result = solve(instance, config)
    r = repair(instance, config, result, withdrawn_patients=["p3"], withdrawn_donors=["a1"])
    assert "p3" not in matched_patients(r.after) and "p4" not in matched_patients(r.after)
    assert r.after.exchanges == ()
    causes = {c for b in r.broken for c in b.causes}
    assert "patient p3 withdrew" in causes and "altruist a1 withdrew" in causes
    r = repair(instance, config, result, withdrawn_donors=["d4"])
    assert {"p3", "p4"}.isdisjoint(matched_patients(r.after))
    assert "the donors of pair p4 withdrew" in {c for b in r.broken for c in b.causes}


def test_keep_unaffected_leaves_other_exchanges_alone() -> None:
    instance = pool(4, "d1:p2 d2:p1 d3:p4 d4:p3 d1:p3 d3:p1")
    config = SolverConfig(max_cycle=2, max_chain=0)
    result = solve(instance, config)
    broken = next(e for e in result.exchanges if "p1" in e.vertices)
    arc = (broken.donations[0].donor, broken.donations[0].patient)
    r = repair(instance, config, result, failed_arcs=[arc], keep_unaffected=True)
    others = [e for e in result.exchanges if e is not broken]
    assert all(e in r.kept for e in others)


def test_bad_input_names_the_arc_or_person() -> None:
    instance = pool(2, "d1:p2 d2:p1")
    config = SolverConfig(max_cycle=2, max_chain=0)
    result = solve(instance, config)
    with pytest.raises(ConfigError, match="failed arc d1:p1: no such arc"):
        repair(instance, config, result, failed_arcs=[("d1", "p1")])
    with pytest.raises(ConfigError, match="withdrawn patient p9"):
        repair(instance, config, result, withdrawn_patients=["p9"])
    with pytest.raises(ConfigError, match="chain policy: unknown policy 'later'"):
        repair(instance, config, result, chain_policy="later")


@st.composite
def failures(draw: st.DrawFn) -> tuple[Instance, SolverConfig, Result, dict[str, object]]:
    instance = draw(instances(max_pairs=8, max_altruists=3))
    config = SolverConfig(max_cycle=draw(st.integers(2, 3)), max_chain=draw(st.integers(0, 3)))
    result = solve(instance, config)
    used = sorted({(d.donor, d.patient) for e in result.exchanges for d in e.donations})
    arcs = sorted({(a.donor, a.patient) for a in instance.arcs})
    failed = draw(st.lists(st.sampled_from(used), max_size=3)) if used else []
    failed += draw(st.lists(st.sampled_from(arcs), max_size=2)) if arcs else []
    patients = draw(st.lists(st.sampled_from([p.id for p in instance.patients]), max_size=2))
    donors = draw(st.lists(st.sampled_from([d.id for d in instance.donors]), max_size=1))
    gone = set(failed)
    intact = [
        e
        for e in result.exchanges
        if not {(d.donor, d.patient) for d in e.donations} & gone
        and not set(e.vertices) & set(patients) | set(donors)
        and not {d.donor for d in e.donations} & set(donors)
        and not any(
            all(x.id in donors for x in instance.donors_of(v))
            for v in e.vertices
            if v in instance.patient_index
        )
    ]
    fixed = draw(st.lists(st.sampled_from(intact), unique=True)) if intact else []
    options: dict[str, object] = {
        "failed_arcs": failed,
        "withdrawn_patients": patients,
        "withdrawn_donors": donors,
        "fixed": fixed,
        "chain_policy": draw(st.sampled_from(list(ChainPolicy))),
        "keep_unaffected": draw(st.booleans()),
    }
    return instance, config, result, options


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(failures())
def test_repair_never_uses_a_failure_and_keeps_fixed_exchanges(
    case: tuple[Instance, SolverConfig, Result, dict[str, object]],
) -> None:
    instance, config, result, options = case
    r = repair(instance, config, result, **options)  # type: ignore[arg-type]
    note = f"{options} in {describe(instance)}"
    failed = set(options["failed_arcs"])  # type: ignore[call-overload]
    patients = set(options["withdrawn_patients"])  # type: ignore[call-overload]
    donors = set(options["withdrawn_donors"])  # type: ignore[call-overload]
    for e in r.after.exchanges:
        for d in e.donations:
            assert (d.donor, d.patient) not in failed, note
            assert d.donor not in donors and d.patient not in patients, note
    for e in options["fixed"]:  # type: ignore[attr-defined]
        assert e in r.after.exchanges, note
    assert verify(instance, config, r.after).ok, note
    if r.reduced is not None and r.reoptimised is not None:
        assert verify(r.reduced, config, r.reoptimised).ok, note
    before = set(result.exchanges)
    assert set(r.kept) <= before and set(r.rechosen) <= before
    assert not set(r.new) & before


# -- the command line -------------------------------------------------------------------


def _files(tmp_path: Path) -> tuple[Path, Path]:
    pool_path = tmp_path / "pool.json"
    write_instance(pool(4, "a1:p1 d1:p2 d2:p3 d1:p4 d3:p4 d4:p3", altruists=1), pool_path, "native")
    solved = runner.invoke(
        app, ["solve", str(pool_path), "--max-cycle", "2", "--max-chain", "3", "--json"]
    )
    assert solved.exit_code == 0, solved.output
    plan_path = tmp_path / "result.json"
    plan_path.write_text(solved.stdout, encoding="utf-8")
    return pool_path, plan_path


def test_cli_repair_json(tmp_path: Path) -> None:
    pool_path, plan_path = _files(tmp_path)
    plan = json.loads(plan_path.read_text())
    first = plan["donations"][0][0]
    out = runner.invoke(
        app,
        [
            "repair",
            str(pool_path),
            str(plan_path),
            "--failed",
            f"{first['donor']}:{first['patient']}",
            "--json",
        ],
    )
    assert out.exit_code == 0, out.output
    document = json.loads(out.stdout)
    assert document["failed_arcs"] == [f"{first['donor']}:{first['patient']}"]
    assert document["broken"] and document["after"]["status"] == "feasible-time-limit"
    used = {(d["donor"], d["patient"]) for e in document["after"]["donations"] for d in e}
    assert (first["donor"], first["patient"]) not in used


def test_cli_repair_table_and_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pool_path, plan_path = _files(tmp_path)
    out = runner.invoke(
        app,
        ["repair", str(pool_path), str(plan_path), "--withdrawn", "p2", "--fixed", "1"],
        env={"COLUMNS": "200"},
    )
    assert out.exit_code == 0, out.output
    assert "Before and after" in out.stdout and "patient p2 withdrew" in out.stdout
    for args, message in [
        (["--failed", "d1-p2"], "expected DONOR:PATIENT"),
        (["--failed", "d1:p1"], "no such arc"),
        (["--withdrawn", "x9"], "no patient or donor with this id"),
        (["--fixed", "9"], "the plan has"),
    ]:
        with pytest.raises(SystemExit) as stop:
            main(["repair", str(pool_path), str(plan_path), *args])
        assert stop.value.code == 2
        assert message in capsys.readouterr().err
    plan_path.write_text('{"status": "optimal"}', encoding="utf-8")
    with pytest.raises(SystemExit) as stop:
        main(["repair", str(pool_path), str(plan_path)])
    assert stop.value.code == 2
    assert "result.json, values: Field required" in capsys.readouterr().err


def test_an_altruist_sharing_a_patients_id_is_not_taken_for_the_patient() -> None:
    # Glasgow pools number donors and patients separately: altruist "p2" and patient "p2".
    patients = [Patient(PatientId(f"p{i}")) for i in (1, 2, 3)]
    donors = [Donor(DonorId(f"d{i}"), PatientId(f"p{i}")) for i in (1, 2, 3)]
    donors.append(Donor(DonorId("p2")))
    arcs = [Arc(DonorId(d), PatientId(p)) for d, p in [("p2", "p1"), ("d2", "p3"), ("d3", "p2")]]
    instance = Instance(patients, donors, arcs)
    config = SolverConfig(max_cycle=2, max_chain=1)
    result = solve(instance, config)
    r = repair(instance, config, result, withdrawn_patients=["p2"])
    assert [e.vertices for e in r.after.chains] == [("p2", "p1")]
    assert [b.exchange.kind for b in r.broken] == [ExchangeKind.CYCLE]
    assert explain(instance, config, result, "p1").reason is Reason.MATCHED
