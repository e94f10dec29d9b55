"""Graph reduction drops exactly the arcs no short cycle or chain can use."""

from __future__ import annotations

import importlib
import itertools

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.oracle import enumerate_exchanges
from tests.strategies import instances

from kidneyshare.generators import generate_saidman
from kidneyshare.matching.graph import CompatibilityGraph
from kidneyshare.matching.reduction import reduce_graph, usable_arcs
from kidneyshare.model import Arc, Donor, Instance, Patient


def _graph(arcs: list[tuple[str, str]]) -> CompatibilityGraph:
    vertices = sorted({v for a in arcs for v in a})
    patients = [Patient(v) for v in vertices if v.startswith("p")]
    donors = [
        Donor(f"d{v}" if v.startswith("p") else v, v if v.startswith("p") else None)
        for v in vertices
    ]
    donor_of = {v: (f"d{v}" if v.startswith("p") else v) for v in vertices}
    inst = Instance(patients, donors, [Arc(donor_of[u], v, 1.0) for u, v in arcs])
    return CompatibilityGraph.from_instance(inst)


def _kept(graph: CompatibilityGraph, k: int, length: int) -> set[tuple[str, str]]:
    mask = usable_arcs(graph, k, length)
    return {
        (graph.ids[int(u)], graph.ids[int(v)])
        for u, v, m in zip(graph.src, graph.dst, mask, strict=True)
        if m
    }


def test_cycle_length_decides_which_arcs_stay() -> None:
    # A 4-cycle p1 -> p2 -> p3 -> p4 -> p1 and a 2-cycle p1 <-> p5; p5 -> p6 leads nowhere.
    g = _graph(
        [
            ("p1", "p2"),
            ("p2", "p3"),
            ("p3", "p4"),
            ("p4", "p1"),
            ("p1", "p5"),
            ("p5", "p1"),
            ("p5", "p6"),
        ]
    )
    assert _kept(g, 3, 0) == {("p1", "p5"), ("p5", "p1")}
    assert _kept(g, 4, 0) == {
        ("p1", "p2"),
        ("p2", "p3"),
        ("p3", "p4"),
        ("p4", "p1"),
        ("p1", "p5"),
        ("p5", "p1"),
    }
    assert _kept(g, 0, 0) == set()


def test_chain_length_decides_which_arcs_stay() -> None:
    g = _graph([("a1", "p1"), ("p1", "p2"), ("p2", "p3")])
    assert _kept(g, 3, 1) == {("a1", "p1")}
    assert _kept(g, 3, 2) == {("a1", "p1"), ("p1", "p2")}
    assert _kept(g, 3, 3) == {("a1", "p1"), ("p1", "p2"), ("p2", "p3")}
    reduction = reduce_graph(g, 3, 2)
    assert (reduction.arcs_before, reduction.arcs_removed) == (3, 1)
    assert reduction.graph.n_arcs == 2 and reduction.graph.indptr[-1] == 2


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(instance=instances(), k=st.integers(0, 4), length=st.integers(0, 3))
def test_every_arc_of_every_feasible_exchange_survives(
    instance: Instance, k: int, length: int
) -> None:
    graph = CompatibilityGraph.from_instance(instance)
    kept = _kept(graph, k, length)
    for exchange in enumerate_exchanges(instance, k, length):
        v = exchange.vertices
        steps = (
            list(zip(v, v[1:] + v[:1], strict=True))
            if exchange.kind == "cycle"
            else list(itertools.pairwise(v))
        )
        assert set(steps) <= kept, exchange


@pytest.mark.parametrize("seed", range(8))
def test_large_pool_paths_keep_what_the_dense_product_keeps(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The paths for pools above the dense product's size (set to 0 here): the sparse
    product keeps exactly the arcs the dense one keeps, and the in/out test (for pools
    whose reach is dense) a superset of them."""
    reduction = importlib.import_module("kidneyshare.matching.reduction")
    graph = CompatibilityGraph.from_instance(generate_saidman(40 + 10 * seed, 3, seed=seed))
    k = 2 + seed % 3
    dense = usable_arcs(graph, k, 2)
    monkeypatch.setattr(reduction, "_DENSE_UP_TO", 0)
    monkeypatch.setattr(reduction, "_reach_stays_sparse", lambda *_: True)
    assert np.array_equal(usable_arcs(graph, k, 2), dense)
    monkeypatch.setattr(reduction, "_reach_stays_sparse", lambda *_: False)
    assert np.all(usable_arcs(graph, k, 2) >= dense)
