"""The brute-force oracle itself: hand-computed pools, and cross-checks by other means
(networkx cycle enumeration, a plain search over every subset of exchanges)."""

from __future__ import annotations

import itertools

import networkx as nx
import pytest

from kidneyshare.model import Arc, Donor, DonorId, Instance, Patient, PatientId
from oracle import enumerate_exchanges, oracle_optimum, vertex_arcs
from strategies import random_instance


def pool(
    pairs: dict[str, list[str]], altruists: list[str], arcs: list[tuple[str, str, float]]
) -> Instance:
    """``pairs`` maps each patient id to its donor ids; ``arcs`` are (donor, patient, weight)."""
    patients = [Patient(PatientId(p)) for p in pairs]
    donors = [Donor(DonorId(d), PatientId(p)) for p, ds in pairs.items() for d in ds]
    donors += [Donor(DonorId(a)) for a in altruists]
    return Instance(patients, donors, [Arc(DonorId(d), PatientId(p), w) for d, p, w in arcs])


def best(instance: Instance, k: int, length: int, objective: str = "transplants") -> float:
    return oracle_optimum(instance, max_cycle=k, max_chain=length, objective=objective).value


def test_two_cycle() -> None:
    inst = pool({"p1": ["d1"], "p2": ["d2"]}, [], [("d1", "p2", 1), ("d2", "p1", 1)])
    assert best(inst, 2, 0) == 2
    assert best(inst, 0, 0) == 0
    sol = oracle_optimum(inst, max_cycle=3, max_chain=3, objective="transplants")
    assert [e.vertices for e in sol.exchanges] == [("p1", "p2")]


def test_three_cycle_against_two_two_cycles() -> None:
    # 2-cycles p1<->p2 and p3<->p4 (weight 1 each arc); 3-cycle p1->p2->p3->p1 with the
    # arcs p2->p3 and p3->p1 heavy.
    inst = pool(
        {f"p{i}": [f"d{i}"] for i in range(1, 5)},
        [],
        [
            ("d1", "p2", 1),
            ("d2", "p1", 1),
            ("d3", "p4", 1),
            ("d4", "p3", 1),
            ("d2", "p3", 10),
            ("d3", "p1", 10),
        ],
    )
    assert best(inst, 3, 0) == 4
    assert best(inst, 3, 0, "weight") == 21  # the 3-cycle: 1 + 10 + 10
    assert best(inst, 2, 0, "weight") == 4


def test_chain_cut_at_max_chain_and_length_convention() -> None:
    inst = pool(
        {"p1": ["d1"], "p2": ["d2"], "p3": ["d3"]},
        ["a1"],
        [("a1", "p1", 1), ("d1", "p2", 1), ("d2", "p3", 1)],
    )
    assert [best(inst, 3, n) for n in range(5)] == [0, 1, 2, 3, 3]


def test_max_cycle_two_forbids_three_cycle() -> None:
    inst = pool(
        {"p1": ["d1"], "p2": ["d2"], "p3": ["d3"]},
        [],
        [("d1", "p2", 1), ("d2", "p3", 1), ("d3", "p1", 1)],
    )
    assert best(inst, 2, 3) == 0
    assert best(inst, 3, 3) == 3


def test_second_donor_and_best_arc_weight() -> None:
    inst = pool(
        {"p1": ["d1", "d1b"], "p2": ["d2"]},
        [],
        [("d1b", "p2", 5), ("d1", "p2", 1), ("d2", "p1", 2)],
    )
    assert vertex_arcs(inst) == {("p1", "p2"): 5.0, ("p2", "p1"): 2.0}
    assert best(inst, 2, 0) == 2
    assert best(inst, 2, 0, "weight") == 7


def test_arc_to_own_patient_is_ignored() -> None:
    inst = pool({"p1": ["d1", "d1b"]}, ["a1"], [("d1", "p1", 1), ("d1b", "p1", 3)])
    assert vertex_arcs(inst) == {}
    assert best(inst, 4, 3) == 0


def test_chain_against_cycle() -> None:
    # a1 -> p1 -> p2 -> p3 (3 donations) against the 2-cycle p1 <-> p2.
    inst = pool(
        {"p1": ["d1"], "p2": ["d2"], "p3": ["d3"]},
        ["a1"],
        [("a1", "p1", 1), ("d1", "p2", 1), ("d2", "p3", 1), ("d2", "p1", 1)],
    )
    assert best(inst, 2, 3) == 3
    assert best(inst, 2, 1) == 2  # the 2-cycle beats a1 -> p1 ... and a1 alone gives nothing
    assert best(inst, 2, 2) == 2


def test_counts_on_complete_pool() -> None:
    # 4 pairs, every arc, one altruist giving to all.
    names = [f"p{i}" for i in range(1, 5)]
    arcs = [(f"d{p[1:]}", q, 1.0) for p in names for q in names if p != q]
    arcs += [("a1", q, 1.0) for q in names]
    inst = pool({p: [f"d{p[1:]}"] for p in names}, ["a1"], arcs)
    kinds = [e.kind for e in enumerate_exchanges(inst, 4, 0)]
    assert kinds.count("cycle") == 6 + 8 + 6  # 2-, 3- and 4-cycles of K4
    chains = enumerate_exchanges(inst, 0, 3)
    assert len(chains) == 4 + 12 + 24  # ordered selections of 1, 2, 3 of the 4 pairs
    # Every transplant goes to a different pair, so 4 is the most; many plans reach it
    # (the 4-cycle; a1 -> x -> y plus a 2-cycle; a1 -> x plus a 3-cycle).
    assert best(inst, 4, 3) == 4
    assert best(inst, 2, 1) == 4  # two 2-cycles; a1 -> x plus one 2-cycle gives only 3


@pytest.mark.parametrize("seed", range(40))
def test_cycles_match_networkx(seed: int) -> None:
    inst = random_instance(seed)
    arcs = vertex_arcs(inst)
    g = nx.DiGraph()
    g.add_nodes_from(p.id for p in inst.patients)
    g.add_edges_from((u, v) for u, v in arcs if u in g and v in g)
    for k in (2, 3, 4):
        ours = {
            frozenset(zip(e.vertices, e.vertices[1:] + e.vertices[:1], strict=True))
            for e in enumerate_exchanges(inst, k, 0)
        }
        theirs = {
            frozenset(zip(c, c[1:] + c[:1], strict=True))
            for c in nx.simple_cycles(g, length_bound=k)
            if len(c) >= 2
        }
        assert ours == theirs


@pytest.mark.parametrize("seed", range(60))
def test_packing_matches_plain_subset_search(seed: int) -> None:
    inst = random_instance(seed, n_pairs=5, n_altruists=2, density=0.35)
    for k, length in ((2, 1), (3, 2), (4, 3)):
        exchanges = enumerate_exchanges(inst, k, length)
        if len(exchanges) > 16:
            continue
        for objective in ("transplants", "weight"):
            plain = 0.0
            for r in range(len(exchanges) + 1):
                for subset in itertools.combinations(exchanges, r):
                    used = [v for e in subset for v in e.vertices]
                    if len(used) == len(set(used)):
                        plain = max(plain, sum(getattr(e, objective) for e in subset))
            assert best(inst, k, length, objective) == pytest.approx(plain, abs=1e-9)


def test_solution_is_consistent_with_value() -> None:
    for seed in range(30):
        inst = random_instance(seed)
        sol = oracle_optimum(inst, max_cycle=3, max_chain=2, objective="weight")
        used = [v for e in sol.exchanges for v in e.vertices]
        assert len(used) == len(set(used))
        assert sol.weight == pytest.approx(sol.value)
