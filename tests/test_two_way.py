"""The first UK level as a maximum matching (matching/two_way.py): against networkx's
blossom algorithm on random graphs, and the hierarchy's first level against the MIP."""

from __future__ import annotations

import importlib
import itertools

import networkx as nx
import numpy as np
import pytest

from kidneyshare.generators import generate_saidman
from kidneyshare.generators.delorme import generate_delorme
from kidneyshare.matching import solve
from kidneyshare.matching.config import AgeRule, Criterion, Objective, SolverConfig
from kidneyshare.matching.criteria import CriterionData, back_arc_parts, block_values
from kidneyshare.matching.enumeration import enumerate_chains, enumerate_cycles
from kidneyshare.matching.formulations import ExchangeColumns
from kidneyshare.matching.graph import CompatibilityGraph
from kidneyshare.matching.two_way import (
    always_matched,
    keeps_two_ways,
    maximum_matching,
    two_way_edges,
)

solve_module = importlib.import_module("kidneyshare.matching.solve")


def _check_matching(n: int, u: np.ndarray, v: np.ndarray, mate: np.ndarray) -> int:
    edges = {(int(a), int(b)) for a, b in zip(u, v, strict=True)}
    edges |= {(b, a) for a, b in edges}
    for x in range(n):
        if mate[x] >= 0:
            assert mate[mate[x]] == x
            assert (x, int(mate[x])) in edges
    return int(np.count_nonzero(mate >= 0)) // 2


@pytest.mark.parametrize("seed", range(60))
def test_maximum_matching_matches_blossom(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 40))
    density = float(rng.choice([0.05, 0.1, 0.2, 0.5]))
    pairs = [(a, b) for a, b in itertools.combinations(range(n), 2) if rng.random() < density]
    u = np.asarray([a for a, _ in pairs], dtype=np.int64)
    v = np.asarray([b for _, b in pairs], dtype=np.int64)
    mate = maximum_matching(n, u, v)
    g = nx.Graph()
    g.add_nodes_from(range(n))
    g.add_edges_from(pairs)
    assert _check_matching(n, u, v, mate) == len(nx.max_weight_matching(g, maxcardinality=True))


def test_odd_cycles_need_augmenting_paths() -> None:
    # Two triangles joined by an edge, plus pendant vertices: the double cover's
    # matching can be two odd cycles (bound 3, rounding gives 2); blossoms must be
    # shrunk to find the third edge, and the pendants make the optimum 4.
    pairs = [(0, 1), (1, 2), (2, 0), (3, 4), (4, 5), (5, 3), (2, 3), (0, 6), (4, 7)]
    u = np.asarray([a for a, _ in pairs], dtype=np.int64)
    v = np.asarray([b for _, b in pairs], dtype=np.int64)
    assert _check_matching(8, u, v, maximum_matching(8, u, v)) == 4
    assert _check_matching(6, u[:7], v[:7], maximum_matching(6, u[:7], v[:7])) == 3
    empty = np.zeros(0, dtype=np.int64)
    assert (maximum_matching(3, empty, empty) == -1).all()


def _nx_size(n: int, pairs: list[tuple[int, int]], without: frozenset[int] = frozenset()) -> int:
    g = nx.Graph()
    g.add_nodes_from(x for x in range(n) if x not in without)
    g.add_edges_from((a, b) for a, b in pairs if a not in without and b not in without)
    return len(nx.max_weight_matching(g, maxcardinality=True))


@pytest.mark.parametrize("seed", range(60))
def test_always_matched_is_gallai_edmonds(seed: int) -> None:
    """A vertex is covered by every maximum matching exactly when removing it lowers
    the matching number (brute force with networkx)."""
    rng = np.random.default_rng(100 + seed)
    n = int(rng.integers(1, 30))
    density = float(rng.choice([0.05, 0.1, 0.2, 0.4]))
    pairs = [(a, b) for a, b in itertools.combinations(range(n), 2) if rng.random() < density]
    u = np.asarray([a for a, _ in pairs], dtype=np.int64)
    v = np.asarray([b for _, b in pairs], dtype=np.int64)
    covered = always_matched(n, u, v, maximum_matching(n, u, v))
    size = _nx_size(n, pairs)
    assert covered.tolist() == [_nx_size(n, pairs, frozenset({x})) < size for x in range(n)]


def test_always_matched_needs_a_maximum_matching() -> None:
    # A path of four vertices matched in its middle edge has an augmenting path.
    u = np.asarray([0, 1, 2], dtype=np.int64)
    v = np.asarray([1, 2, 3], dtype=np.int64)
    mate = np.asarray([-1, 2, 1, -1], dtype=np.int64)
    with pytest.raises(ValueError, match="not maximum"):
        always_matched(4, u, v, mate)
    empty = np.zeros(0, dtype=np.int64)
    assert not always_matched(2, empty, empty, np.full(2, -1)).any()
    # A star: its centre is always matched, each leaf is left free by some matching.
    u = np.asarray([0, 0, 0], dtype=np.int64)
    v = np.asarray([1, 2, 3], dtype=np.int64)
    assert always_matched(4, u, v, maximum_matching(4, u, v)).tolist() == [
        True,
        False,
        False,
        False,
    ]


def test_keeps_two_ways_by_hand() -> None:
    """Three-way cycles (0, 1, 2) with parts on edges (0,1), (1,2), (2,0)."""
    edges = ((0, 1), (1, 2), (2, 0))
    vertices = np.tile(np.asarray([[0, 1, 2]], dtype=np.int64), (5, 1))
    parts = np.asarray(
        [
            [True, False, False],  # back-arc on (0, 1) only
            [False, True, False],  # on (1, 2) only
            [False, False, False],  # no back-arc
            [True, False, True],  # on (0, 1) and (2, 0): both through vertex 0
            [True, True, False],  # through vertex 1
        ]
    )
    for covered, expected in (
        ([True, False, False], [True, False, False, True, False]),
        ([True, True, False], [True, False, False, False, False]),
        ([False, False, False], [True] * 5),
    ):
        kept = keeps_two_ways(vertices, parts, edges, np.asarray(covered))
        assert kept.tolist() == expected, covered


def test_dropped_exchanges_cannot_keep_the_most_two_ways() -> None:
    """Every exchange the restriction drops, once chosen, leaves fewer than the most
    effective two-ways: its own count plus a maximum matching of the rest (networkx),
    which is what the rest of a plan can reach at best."""
    dropped = 0
    for seed in range(6):
        instance = generate_delorme(30, 5, seed=seed)
        graph = CompatibilityGraph.from_instance(instance)
        data = CriterionData.build(instance, graph, AgeRule())
        u, v = two_way_edges(graph, chains=True)
        pairs = list(zip(u.tolist(), v.tolist(), strict=True))
        n = graph.n_vertices
        size = _nx_size(n, pairs)
        covered = always_matched(n, u, v, maximum_matching(n, u, v))
        for block in enumerate_cycles(graph, 3) + enumerate_chains(graph, 2):
            parts, edges = back_arc_parts(graph, block, data)
            keep = keeps_two_ways(block.vertices, parts, edges, covered)
            own = block_values(Criterion.EFFECTIVE_TWO_WAY, graph, block, data)
            for row in np.flatnonzero(~keep).tolist():
                rest = _nx_size(n, pairs, frozenset(block.vertices[row].tolist()))
                assert own[row] + rest < size
                dropped += 1
    assert dropped > 20


def test_two_way_edges_are_two_cycles_and_altruist_arcs() -> None:
    instance = generate_saidman(30, 6, seed=3)
    graph = CompatibilityGraph.from_instance(instance)
    arcs = set(zip(graph.src.tolist(), graph.dst.tolist(), strict=True))
    u, v = two_way_edges(graph, chains=True)
    expected = {(a, b) for a, b in arcs if a < graph.n_pairs and a < b and (b, a) in arcs} | {
        (a, b) for a, b in arcs if a >= graph.n_pairs
    }
    assert set(zip(u.tolist(), v.tolist(), strict=True)) == expected
    u2, _ = two_way_edges(graph, chains=False)
    assert (u2 < graph.n_pairs).all()


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("max_chain", [0, 1, 2])
@pytest.mark.parametrize("objective", [Objective.UK, Objective.UK_NHSBT])
def test_uk_first_level_is_the_maximum_matching(
    seed: int, max_chain: int, objective: Objective, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the matching start (and the restriction it brings to the later levels) the
    hierarchy's every level has the value it has when the first level is solved by the
    MIP alone and nothing is restricted, and the first is the matching's size."""
    # Delorme pools have several donors per pair (back-arcs are per donor).
    instance = generate_delorme(40, 6, seed=seed)
    config = SolverConfig(max_cycle=3, max_chain=max_chain, objective=objective)
    result = solve(instance, config)
    assert result.status.value == "optimal"
    graph = CompatibilityGraph.from_instance(instance)
    u, v = two_way_edges(graph, chains=max_chain >= 1)
    g = nx.Graph()
    g.add_edges_from(zip(u.tolist(), v.tolist(), strict=True))
    size = len(nx.max_weight_matching(g, maxcardinality=True))
    assert result.values["effective-two-way"] == size
    monkeypatch.setattr(solve_module, "_two_way_start", lambda *args: None)
    assert solve(instance, config).values == result.values


def test_listed_ids_find_exchanges_as_listed() -> None:
    """Plans handed to a level as a start (the matching, the K - 1 optimum) are found
    among the listed columns by their vertices in listing order."""
    instance = generate_saidman(40, 6, seed=4)
    graph = CompatibilityGraph.from_instance(instance)
    blocks = enumerate_cycles(graph, 3) + enumerate_chains(graph, 2)
    columns = ExchangeColumns(blocks, np.ones(graph.n_arcs))
    rng = np.random.default_rng(0)
    for b, block in enumerate(columns.blocks):
        picked = np.sort(rng.choice(len(block), size=min(5, len(block)), replace=False))
        ids = solve_module._listed_ids(
            columns, graph.n_vertices, block.is_cycle, block.vertices[picked]
        )
        assert sorted(ids.tolist()) == (columns.offsets[b] + picked).tolist()
    none = solve_module._listed_ids(columns, graph.n_vertices, True, np.zeros((0, 2), np.int64))
    assert len(none) == 0
