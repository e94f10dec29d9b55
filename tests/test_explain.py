"""Explanations for patients (``matching.explain``) and what-if re-runs.

Unit tests build tiny pools where the right reason is known by construction, one per
reason; property tests check explanations against the exhaustive oracle on random small
pools; a slow test explains every unmatched patient of a generated 250-pair pool.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import random
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from kidneyshare.cli import app
from kidneyshare.formats import write_instance
from kidneyshare.generators import generate_saidman
from kidneyshare.matching import Objective, Result, SolverConfig, solve
from kidneyshare.matching.explain import (
    AddArcs,
    AddDonor,
    Reason,
    RelaxLimits,
    _compare,
    accept_abo_incompatible,
    explain,
    explain_unmatched,
    what_if,
)
from kidneyshare.matching.recourse import assemble_plan, matched_patients
from kidneyshare.matching.result import Donation, Exchange, ExchangeKind
from kidneyshare.model import Arc, Donor, DonorId, Instance, Patient, PatientId
from oracle import enumerate_exchanges, oracle_optimum
from strategies import describe, instances

runner = CliRunner()


def pool(pairs: int, arcs: str, altruists: int = 0) -> Instance:
    """Patients p1..pN with donors d1..dN, altruists a1..aM, and arcs written
    ``"d1:p2 a1:p3"`` or ``"d1:p2:5"`` (with a weight)."""
    patients = [Patient(PatientId(f"p{i}")) for i in range(1, pairs + 1)]
    donors = [Donor(DonorId(f"d{i}"), PatientId(f"p{i}")) for i in range(1, pairs + 1)]
    donors += [Donor(DonorId(f"a{j}")) for j in range(1, altruists + 1)]
    parsed = []
    for text in arcs.split():
        donor, patient, *weight = text.split(":")
        parsed.append(Arc(DonorId(donor), PatientId(patient), float(weight[0]) if weight else 1.0))
    return Instance(patients, donors, parsed, name="explain-test")


def run(instance: Instance, **options: object) -> tuple[SolverConfig, Result]:
    config = SolverConfig(**options)  # type: ignore[arg-type]
    return config, solve(instance, config)


# -- one pool per reason ---------------------------------------------------------------


def test_not_in_pool() -> None:
    instance = pool(2, "d1:p2 d2:p1")
    config, result = run(instance, max_cycle=2, max_chain=0)
    e = explain(instance, config, result, "p9")
    assert e.reason is Reason.NOT_IN_POOL
    assert "not in this pool" in e.sentence


def test_matched_patient_is_reported_with_their_exchange() -> None:
    instance = pool(2, "d1:p2 d2:p1")
    config, result = run(instance, max_cycle=2, max_chain=0)
    e = explain(instance, config, result, "p1")
    assert e.reason is Reason.MATCHED
    assert e.exchange is not None and set(e.exchange.vertices) == {"p1", "p2"}
    assert "receive from donor d2" in e.sentence


def test_no_compatible_donor() -> None:
    # p3's own donor is compatible with p3 (a direct transplant, not an exchange).
    instance = pool(3, "d1:p2 d2:p1 d3:p1 d3:p3")
    config, result = run(instance, max_cycle=3, max_chain=2)
    e = explain(instance, config, result, "p3")
    assert e.reason is Reason.NO_COMPATIBLE_DONOR
    assert "No donor in the pool is compatible with patient p3" in e.sentence


def test_donors_compatible_with_nobody() -> None:
    # d1 can give to p3, but d3 can give to nobody and the only chain is too long.
    instance = pool(3, "d1:p2 d2:p1 d1:p3 a1:p2", altruists=1)
    config, result = run(instance, max_cycle=3, max_chain=1)
    e = explain(instance, config, result, "p3")
    assert e.reason is Reason.DONORS_COMPATIBLE_WITH_NOBODY
    assert e.shortest_cycle is None and e.shortest_chain == 3
    assert "(d3)" in e.sentence and "3 donations (the limit is 1)" in e.sentence


def test_only_long_exchanges() -> None:
    # A 4-cycle only; K = 3 and the altruist's shortest chain to p3 has 3 donations.
    instance = pool(4, "d1:p2 d2:p3 d3:p4 d4:p1 a1:p1", altruists=1)
    config, result = run(instance, max_cycle=3, max_chain=2)
    e = explain(instance, config, result, "p4")
    assert e.reason is Reason.ONLY_LONG_EXCHANGES
    assert (e.shortest_cycle, e.shortest_chain) == (4, 4)
    assert "shortest cycle through p4 has 4 pairs (the limit is 3)" in e.sentence
    assert "longer than the scheme allows" in e.sentence


def test_no_exchange_of_any_length_is_not_called_too_long() -> None:
    # p1 receives from d3 and gives to p2, but nobody gives to p3: no cycle through p1.
    instance = pool(4, "d1:p2 d2:p4 d4:p2 d3:p1")
    config, result = run(instance, max_cycle=3, max_chain=2)
    e = explain(instance, config, result, "p3")
    assert e.reason is Reason.NO_COMPATIBLE_DONOR
    e = explain(instance, config, result, "p1")
    assert e.reason is Reason.ONLY_LONG_EXCHANGES
    assert (e.shortest_cycle, e.shortest_chain) == (None, None)
    assert e.sentence.startswith("Patient p1 cannot be matched in an exchange of any length")


def test_outscored_names_the_competing_exchange_and_the_drop() -> None:
    # p4 can only swap with p1, who is in a better three-way cycle.
    instance = pool(4, "d1:p2 d2:p3 d3:p1 d4:p1 d1:p4")
    config, result = run(instance, max_cycle=3, max_chain=0)
    e = explain(instance, config, result, "p4")
    assert e.reason is Reason.OUTSCORED
    assert [set(c.vertices) for c in e.competing] == [{"p1", "p2", "p3"}]
    assert e.alternative is not None and set(e.alternative.vertices) == {"p1", "p4"}
    assert e.decisive_level == "transplants"
    assert [(c.run, c.with_patient, c.drop) for c in e.levels] == [(3.0, 2.0, 1.0)]
    assert "transplants would drop from 3 to 2" in e.sentence


def test_lost_at_a_lower_level_of_the_hierarchy() -> None:
    # Two two-way cycles through p1: the same transplants, but p1-p2 weighs more.
    instance = pool(3, "d1:p2:5 d2:p1:5 d1:p3:1 d3:p1:1")
    config, result = run(
        instance, max_cycle=2, max_chain=0, objective="hierarchy", levels=("transplants", "weight")
    )
    e = explain(instance, config, result, "p3")
    assert e.reason is Reason.LOST_AT_LOWER_LEVEL
    assert e.decisive_level == "weight"
    assert [c.drop for c in e.levels] == [0.0, 8.0]
    assert "keeps transplants but weight would drop from 10 to 2" in e.sentence


def test_lost_at_a_lower_level_under_the_uk_hierarchy() -> None:
    # Under the UK levels the score (arc weights) decides between equal two-ways.
    instance = pool(3, "d1:p2:5 d2:p1:5 d1:p3:1 d3:p1:1")
    config, result = run(instance, max_cycle=3, max_chain=2, objective="uk")
    e = explain(instance, config, result, "p3")
    assert e.reason is Reason.LOST_AT_LOWER_LEVEL
    assert e.decisive_level == "score"
    assert e.method == "local-swap" or e.method == "forced-solve"


def test_tie_broken() -> None:
    instance = pool(3, "d1:p2 d2:p1 d1:p3 d3:p1")
    config, result = run(instance, max_cycle=2, max_chain=0)
    unmatched = next(p for p in ("p2", "p3") if p not in matched_patients(result))
    e = explain(instance, config, result, unmatched)
    assert e.reason is Reason.TIE_BROKEN
    assert e.exact and all(c.drop == 0 for c in e.levels)
    assert "equally good plan" in e.sentence


def test_run_not_optimal() -> None:
    instance = pool(2, "d1:p2 d2:p1")
    config = SolverConfig(max_cycle=2, max_chain=0)
    empty = assemble_plan(instance, config, [])
    e = explain(instance, config, empty, "p1")
    assert e.reason is Reason.RUN_NOT_OPTIMAL
    assert e.levels[0].drop == -2.0


def test_forced_solve_with_a_weight_level_after_the_first() -> None:
    # Phase 1 (top levels) then phase 2 (the score) must both run for p3.
    instance = pool(3, "d1:p2:5 d2:p1:5 d1:p3:1 d3:p1:1")
    config, result = run(instance, max_cycle=3, max_chain=2, objective="uk")
    # Knock out the local swap by asking for the forced solve directly.
    from kidneyshare.matching.explain import _Explainer

    forced, exact = _Explainer(instance, config, result)._forced_plan("p3")
    assert forced is not None and exact
    assert "p3" in matched_patients(forced)
    assert forced.values["score"] < result.values["score"]


def _multi_donor_pool(seed: int) -> Instance:
    """Pairs with one to three donors, arcs with weights 1-5 (so a pair's donors
    differ), donor ages for the age rule."""
    rng = random.Random(seed)
    n = rng.randint(4, 7)
    patients = [Patient(PatientId(f"p{i}")) for i in range(1, n + 1)]
    donors = [
        Donor(DonorId(f"p{i}_d{k}"), PatientId(f"p{i}"), age=rng.randint(20, 70))
        for i in range(1, n + 1)
        for k in range(1, rng.randint(1, 3) + 1)
    ]
    arcs = [
        Arc(d.id, p.id, float(rng.randint(1, 5)))
        for d in donors
        for p in patients
        if d.patient != p.id and rng.random() < 0.45
    ]
    return Instance(patients, donors, arcs, name=f"multi-donor-{seed}")


def _forced_by_brute_force(
    instance: Instance, config: SolverConfig, pid: str
) -> dict[str, float] | None:
    """The best level values of a plan matching ``pid`` (cycles only): over every cycle
    E through pid and every choice of the donors giving in it, E's values plus the
    optimum of the pool without E's pairs (every level is a sum over exchanges and
    lexicographic order respects addition)."""
    options: dict[tuple[str, str], list[Arc]] = {}
    for a in instance.arcs:
        giver = instance.donor(a.donor).patient
        if giver != a.patient:
            options.setdefault((str(giver), a.patient), []).append(a)
    others = [p.id for p in instance.patients if p.id != pid]
    best: dict[str, float] | None = None
    for length in range(2, config.max_cycle + 1):
        for rest in itertools.permutations(others, length - 1):
            ring = (pid, *rest)
            steps = [(ring[i], ring[(i + 1) % length]) for i in range(length)]
            if not all(step in options for step in steps):
                continue
            for arcs in itertools.product(*(options[s] for s in steps)):
                gifts = tuple(Donation(a.donor, a.patient, a.weight) for a in arcs)
                total = _with_the_rest(instance, config, ring, gifts)
                if best is None or _compare(config, total, best) > 0:
                    best = total
    return best


def _with_the_rest(
    instance: Instance, config: SolverConfig, ring: tuple[str, ...], gifts: tuple[Donation, ...]
) -> dict[str, float]:
    """The levels of the cycle ``ring`` (donations ``gifts``) plus the optimum of the
    pool without its pairs."""
    mine = assemble_plan(instance, config, [Exchange(ExchangeKind.CYCLE, ring, gifts)])
    people = set(ring)
    left = Instance(
        [p for p in instance.patients if p.id not in people],
        [d for d in instance.donors if d.patient not in people],
        [
            a
            for a in instance.arcs
            if a.patient not in people and instance.donor(a.donor).patient not in people
        ],
    )
    rest_values = solve(left, config).values if left.patients else {}
    return {c.value: mine.values[c.value] + rest_values.get(c.value, 0.0) for c in config.criteria}


@pytest.mark.parametrize("seed", range(40))
def test_forced_plan_is_exact_when_pairs_have_several_donors(seed: int) -> None:
    """The UK hierarchy (back-arcs read the giving donor) on pools whose pairs have
    several donors of different weights: the forced plan of every unmatched patient is
    exact and reaches the brute-force forced optimum at every level down to the first
    that drops."""
    instance = _multi_donor_pool(seed)
    config, result = run(instance, max_cycle=3, max_chain=0, objective="uk")
    from kidneyshare.matching.explain import _Explainer

    explainer = _Explainer(instance, config, result)
    for p in instance.patients:
        if p.id in matched_patients(result):
            continue
        expected = _forced_by_brute_force(instance, config, p.id)
        forced, exact = explainer._forced_plan(p.id)
        if expected is None:
            continue
        assert forced is not None and exact, p.id
        # Down to the first level that drops (the reason); below it the forced plan is
        # any plan keeping that level, not optimised further.
        for c in config.criteria:
            assert forced.values[c.value] == pytest.approx(expected[c.value], abs=1e-6), (
                p.id,
                c.value,
            )
            if abs(expected[c.value] - result.values[c.value]) > 1e-6:
                break


@pytest.mark.parametrize("seed", range(20))
@pytest.mark.parametrize("objective", ["max-weight", "expected", "uk"])
def test_explainer_names_the_donor_the_solver_keeps(seed: int, objective: str) -> None:
    """For every giving pair and patient, the explainer's arc is the one the solver's
    graph keeps: the heaviest, or for the expected objective the likeliest (pairs with
    several donors whose weights and probabilities disagree)."""
    from kidneyshare.matching.explain import _Explainer
    from kidneyshare.matching.graph import CompatibilityGraph

    rng = random.Random(1_000 + seed)
    base = _multi_donor_pool(seed)
    instance = Instance(
        base.patients,
        base.donors,
        [dataclasses.replace(a, probability=rng.choice([0.3, 0.6, 0.9])) for a in base.arcs],
    )
    config, result = run(instance, max_cycle=3, max_chain=0, objective=objective)
    explainer = _Explainer(instance, config, result)
    graph = CompatibilityGraph.from_instance(instance, by_probability=config.keeps_likeliest_arcs)
    kept = {
        (graph.ids[u], graph.ids[v]): donor
        for u, v, donor in zip(graph.src.tolist(), graph.dst.tolist(), graph.donor, strict=True)
    }
    named = {(giver[1], patient): arc.donor for (giver, patient), arc in explainer.best.items()}
    assert named == kept


# -- what-if re-runs --------------------------------------------------------------------


def test_what_if_relaxing_k_matches_a_long_cycle() -> None:
    instance = pool(4, "d1:p2 d2:p3 d3:p4 d4:p1")
    config, result = run(instance, max_cycle=3, max_chain=0)
    w = what_if(instance, config, RelaxLimits(max_cycle=4), patient_id="p4", before=result)
    assert (w.matched_before, w.matched_after) == (False, True)
    assert w.newly_matched == ("p1", "p2", "p3", "p4")
    assert [(c.run, c.with_patient) for c in w.levels] == [(0.0, 4.0)]
    assert "patient p4 would be matched (was not matched)" in w.sentence()


def test_what_if_adding_a_donor() -> None:
    instance = pool(3, "d1:p2 d2:p1")
    config = SolverConfig(max_cycle=2, max_chain=0)
    change = AddDonor(
        Donor(DonorId("d3b"), PatientId("p3")), (Arc(DonorId("d3b"), PatientId("p1")),)
    )
    # p3 still has no in-arc: adding their second donor cannot help them alone.
    w = what_if(instance, config, change, patient_id="p3")
    assert w.matched_after is False
    altruist = AddDonor(Donor(DonorId("a1")), (Arc(DonorId("a1"), PatientId("p3")),))
    w = what_if(instance, SolverConfig(max_cycle=2, max_chain=1), altruist, patient_id="p3")
    assert (w.matched_before, w.matched_after) == (False, True)


def test_what_if_accepting_abo_incompatible_from_a_second_pool() -> None:
    instance = pool(3, "d1:p2 d2:p1")
    aboi = pool(3, "d1:p2 d2:p1 d2:p3 d3:p1")  # a three-way cycle through p3
    config, result = run(instance, max_cycle=3, max_chain=0)
    change = accept_abo_incompatible(instance, aboi)
    assert isinstance(change, AddArcs) and len(change.arcs) == 2
    w = what_if(instance, config, change, patient_id="p3", before=result)
    assert w.matched_after is True
    by_callback = accept_abo_incompatible(instance, lambda pool: aboi.arcs)
    assert by_callback.arcs == change.arcs


def test_what_if_rejects_a_donor_already_in_the_pool() -> None:
    instance = pool(2, "d1:p2 d2:p1")
    with pytest.raises(ValueError, match="d1: already in the pool"):
        what_if(instance, SolverConfig(), AddDonor(Donor(DonorId("d1"), PatientId("p2")), ()))


# -- properties -------------------------------------------------------------------------


def _in_arcs(instance: Instance, pid: str) -> bool:
    own = {d.id for d in instance.donors_of(pid)}
    return any(a.patient == pid and a.donor not in own for a in instance.arcs)


def _forced_oracle(instance: Instance, pid: str, k: int, chain: int) -> float | None:
    """Most transplants of a plan matching ``pid``, by brute force; None when none does."""
    best = None
    for e in enumerate_exchanges(instance, k, chain):
        if pid not in e.vertices[(1 if e.kind == "chain" else 0) :]:
            continue
        gone = set(e.vertices)
        patients = [p for p in instance.patients if p.id not in gone]
        donors = [
            d for d in instance.donors if (d.patient if d.patient is not None else d.id) not in gone
        ]
        keep = {d.id for d in donors}
        arcs = [a for a in instance.arcs if a.donor in keep and a.patient not in gone]
        rest = 0.0
        if patients:
            sub = Instance(patients, donors, arcs)
            rest = oracle_optimum(sub, max_cycle=k, max_chain=chain, objective="transplants").value
        value = e.transplants + rest
        best = value if best is None else max(best, value)
    return best


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances(max_pairs=7, max_altruists=2), st.integers(2, 3), st.integers(0, 2))
def test_explanations_agree_with_the_oracle(instance: Instance, k: int, chain: int) -> None:
    config, result = run(instance, max_cycle=k, max_chain=chain)
    matched = matched_patients(result)
    for patient in instance.patients:
        e = explain(instance, config, result, patient.id)
        note = f"{patient.id}: {e.reason.value}: {e.sentence} in {describe(instance)}"
        assert (e.reason is Reason.MATCHED) == (patient.id in matched), note
        if patient.id in matched:
            continue
        assert (e.reason is Reason.NO_COMPATIBLE_DONOR) == (not _in_arcs(instance, patient.id))
        assert e.reason is not Reason.UNKNOWN, note
        forced = _forced_oracle(instance, patient.id, k, chain)
        structural = {
            Reason.NO_COMPATIBLE_DONOR,
            Reason.DONORS_COMPATIBLE_WITH_NOBODY,
            Reason.ONLY_LONG_EXCHANGES,
        }
        assert (e.reason in structural) == (forced is None), note
        if forced is not None:
            assert e.reason in (Reason.OUTSCORED, Reason.TIE_BROKEN), note
            assert e.levels[0].with_patient == forced, note
            assert (e.reason is Reason.TIE_BROKEN) == (forced == result.values["transplants"])
            assert e.alternative is not None and patient.id in e.alternative.vertices


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances(max_pairs=6, max_altruists=2))
def test_hierarchy_explanations_are_consistent(instance: Instance) -> None:
    config, result = run(
        instance, max_cycle=3, max_chain=2, objective="hierarchy", levels=("transplants", "weight")
    )
    for e in explain_unmatched(instance, config, result):
        assert e.reason is not Reason.UNKNOWN
        if e.levels:
            first = next((c for c in e.levels if c.drop != 0), None)
            expected = {
                None: Reason.TIE_BROKEN,
                "transplants": Reason.OUTSCORED,
                "weight": Reason.LOST_AT_LOWER_LEVEL,
            }[None if first is None else first.level]
            assert e.reason is expected
            assert all(c.drop >= 0 for c in e.levels[: e.levels.index(first) + 1 if first else 0])


@pytest.mark.slow
def test_every_unmatched_patient_of_a_250_pair_pool_gets_a_specific_reason() -> None:
    instance = generate_saidman(250, 25, seed=1)
    config, result = run(instance, max_cycle=3, max_chain=1)
    explanations = explain_unmatched(instance, config, result)
    assert len(explanations) == 250 - len(matched_patients(result)) > 0
    reasons = Counter(e.reason for e in explanations)
    assert Reason.UNKNOWN not in reasons and Reason.MATCHED not in reasons
    for e in explanations:
        if e.reason is Reason.NO_COMPATIBLE_DONOR:
            assert not _in_arcs(instance, e.patient)
        if e.levels:
            assert e.exact and e.alternative is not None
            assert e.patient in e.alternative.vertices


# -- the command line -------------------------------------------------------------------


def test_cli_explain_json(tmp_path: Path) -> None:
    path = tmp_path / "pool.json"
    write_instance(pool(4, "d1:p2 d2:p3 d3:p1 d4:p1 d1:p4"), path, "native")
    out = runner.invoke(
        app,
        [
            "explain",
            str(path),
            "p4",
            "--max-cycle",
            "3",
            "--max-chain",
            "0",
            "--what-if-max-cycle",
            "4",
            "--json",
        ],
    )
    assert out.exit_code == 0, out.output
    document = json.loads(out.stdout)
    assert document["explanation"]["reason"] == "outscored"
    assert document["explanation"]["levels"][0]["drop"] == 1.0
    assert document["what_if"][0]["change"] == "relax limits to K=4"


def test_cli_explain_combined_what_if(tmp_path: Path) -> None:
    """p4 is matched only by a four-cycle through an ABO-incompatible arc: neither
    relaxing K nor accepting ABOi alone matches them, together they do."""
    path, aboi = tmp_path / "pool.json", tmp_path / "aboi.json"
    write_instance(pool(4, "d1:p2 d2:p3 d3:p4"), path, "native")
    write_instance(pool(4, "d1:p2 d2:p3 d3:p4 d4:p1"), aboi, "native")
    options = ["--max-cycle", "3", "--max-chain", "0", "--what-if-max-cycle", "4"]
    options += ["--what-if-abo-incompatible", str(aboi), "--what-if-combine"]
    out = runner.invoke(app, ["explain", str(path), "p4", *options, "--json"])
    assert out.exit_code == 0, out.output
    document = json.loads(out.stdout)
    (both,) = document["what_if"]
    assert both["change"].startswith("relax limits to K=4 + accept ABO-incompatible")
    assert (both["matched_before"], both["matched_after"]) == (False, True)
    assert [w["matched_after"] for w in document["alone"]] == [False, False]
    text = runner.invoke(app, ["explain", str(path), "p4", *options])
    assert "No change alone would match p4: it takes the combination." in text.stdout
    from kidneyshare.cli import main

    with pytest.raises(SystemExit) as stop:
        main(["explain", str(path), "p4", "--what-if-max-cycle", "4", "--what-if-combine"])
    assert stop.value.code == 2


def test_cli_explain_text_and_unknown_patient(tmp_path: Path) -> None:
    path = tmp_path / "pool.json"
    write_instance(pool(3, "d1:p2 d2:p1"), path, "native")
    out = runner.invoke(app, ["explain", str(path), "p3", "--objective", Objective.UK.value])
    assert out.exit_code == 0, out.output
    assert "no-compatible-donor" in out.stdout
    from kidneyshare.cli import main

    with pytest.raises(SystemExit) as stop:
        main(["explain", str(path), "p7"])
    assert stop.value.code == 2
