"""The first UK level exactly: the most effective two-way exchanges is a maximum matching.

An effective two-way exchange (docs/objectives.md) is a two-way exchange (a 2-cycle, or
a chain of one pair: altruist, pair, waiting list) or a three-way one with a back-arc.
A three-way cycle u -> v -> w with the back-arc v -> u contains the 2-cycle {u, v}; a
three-way chain (a, p1, p2) contains the chain (a, p1). Replacing each three-way
exchange of a plan by the two-way exchange inside it keeps the plan feasible and its
count of effective two-ways, so their most, over every plan, is the size of a maximum
matching in the undirected graph whose edges are the 2-cycles and (when chains are
allowed) the altruists' arcs. That is polynomial (Edmonds 1965), while the same level
as a set-packing MIP over every cycle and chain took HiGHS 86 s on a 1,024-pair pool
with 102 altruists.

The matching is found in three steps, each exact:

1. an upper bound: half a maximum matching of the bipartite double cover (every vertex
   v as v_out and v_in, every edge uv as u_out-v_in and v_out-u_in) is the fractional
   matching number (a maximum fractional matching is half-integral; Balinski 1965),
   computed by Hopcroft-Karp (scipy);
2. a matching from the double cover's: its edges form vertex-disjoint paths and cycles
   of the graph; alternate edges along each, losing half an edge per odd cycle;
3. Edmonds' augmenting paths with blossom shrinking from each vertex left free, until
   the bound is reached or no vertex has an augmenting path (a vertex with none keeps
   none after later augmentations, so each is searched from at most once).

References
----------
Edmonds, J. (1965). Paths, trees, and flowers. Canadian J. Mathematics 17.
Balinski, M. L. (1965). Integer programming: methods, uses, computation. Management
Science 12(3) (half-integral fractional matchings).
Manlove, D. F., O'Malley, G. (2014). Paired and altruistic kidney donation in the UK:
algorithms and experimentation. ACM J. Experimental Algorithmics 19 (the criteria).
"""

from __future__ import annotations

from collections import deque

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.sparse.csgraph import maximum_bipartite_matching

from kidneyshare.matching.graph import CompatibilityGraph

__all__ = ["always_matched", "keeps_two_ways", "maximum_matching", "two_way_edges"]

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


def two_way_edges(graph: CompatibilityGraph, *, chains: bool) -> tuple[IntArray, IntArray]:
    """The two-way exchanges of ``graph`` as undirected edges ``(u, v)``: pairs ``u < v``
    with arcs both ways, and (with ``chains``) each altruist's arc ``(altruist, pair)``."""
    src, dst = graph.src, graph.dst
    from_pair = src < graph.n_pairs  # every arc ends at a pair
    two = from_pair & (src < dst) & (graph.find_arcs(dst, src) >= 0)
    keep = two | (~from_pair if chains else np.zeros(len(src), dtype=bool))
    return src[keep], dst[keep]


def maximum_matching(n: int, u: IntArray, v: IntArray) -> IntArray:
    """A maximum matching of the undirected graph on ``0 .. n-1`` with edges ``(u[i],
    v[i])``, as ``mate`` (``mate[x]`` is x's partner, -1 when free)."""
    mate = np.full(n, -1, dtype=np.int64)
    if not len(u):
        return mate
    adjacency = _adjacency(n, u, v)
    cover = maximum_bipartite_matching(adjacency, perm_type="column")
    bound = int(np.count_nonzero(cover >= 0)) // 2
    mate = _alternate(cover)
    size = int(np.count_nonzero(mate >= 0)) // 2
    if size < bound:
        size = _augment(_neighbours(adjacency), mate, size, bound)
    return mate


def always_matched(n: int, u: IntArray, v: IntArray, mate: IntArray) -> BoolArray:
    """The vertices that every maximum matching covers, given one maximum matching
    ``mate`` of the graph (as :func:`maximum_matching` returns it).

    By the Gallai-Edmonds structure theorem the others, D, are the vertices some
    maximum matching leaves free, and they are exactly the outer (even) vertices of
    Edmonds' alternating forest grown from every free vertex at once until it stops
    growing (Lovasz & Plummer 1986, Matching Theory, ch. 3.2). The forest cannot find
    an augmenting path from a maximum matching; a ``ValueError`` says ``mate`` was not one.
    """
    if not len(u):
        return np.zeros(n, dtype=bool)
    match = mate.tolist()
    free = [x for x in range(n) if match[x] < 0]
    _, _, outer = _forest(free, _neighbours(_adjacency(n, u, v)), match)
    return ~np.asarray(outer, dtype=bool)


def keeps_two_ways(
    vertices: IntArray,
    parts: BoolArray,
    edges: tuple[tuple[int, int], ...],
    covered: BoolArray,
) -> BoolArray:
    """Which exchanges can be in a plan with the most effective two-ways.

    Such a plan, keeping one two-way part of each of its effective exchanges, is a
    maximum matching, whichever parts are kept; so it covers every ``covered`` vertex
    (:func:`always_matched`), each through every part of its exchange. An exchange
    (``vertices`` by row, ``parts`` and ``edges`` as
    :func:`~kidneyshare.matching.criteria.back_arc_parts` gives them) is kept when each
    of its covered vertices lies on every one of its parts, and it has a part.
    """
    keep = np.ones(len(vertices), dtype=bool)
    if not covered.any():
        return keep
    has_part = parts.any(axis=1)
    for position in range(vertices.shape[1]):
        on_covered = covered[vertices[:, position]]
        missed = np.zeros(len(vertices), dtype=bool)
        for k, edge in enumerate(edges):
            if position not in edge:
                missed |= parts[:, k]
        keep &= ~on_covered | (has_part & ~missed)
    return keep


def _adjacency(n: int, u: IntArray, v: IntArray) -> sp.csr_matrix:
    adjacency = sp.coo_matrix(
        (np.ones(2 * len(u), dtype=np.int8), (np.concatenate([u, v]), np.concatenate([v, u]))),
        shape=(n, n),
    ).tocsr()
    adjacency.sum_duplicates()
    return adjacency


def _neighbours(adjacency: sp.csr_matrix) -> list[list[int]]:
    indptr, indices = adjacency.indptr, adjacency.indices
    return [indices[indptr[x] : indptr[x + 1]].tolist() for x in range(adjacency.shape[0])]


def _alternate(cover: IntArray) -> IntArray:
    """A matching from a double-cover matching: ``cover[x]`` is the vertex whose in-copy
    x's out-copy is matched to. Follow each path and cycle of x -> cover[x], taking every
    other edge (from a path's start, so even paths lose nothing)."""
    n = len(cover)
    mate = np.full(n, -1, dtype=np.int64)
    has_pred = np.zeros(n, dtype=bool)
    has_pred[cover[cover >= 0]] = True
    seen = np.zeros(n, dtype=bool)
    # Paths first (from the vertices nothing points to), then the cycles left over.
    starts = [x for x in range(n) if not has_pred[x]] + list(range(n))
    for start in starts:
        if seen[start]:
            continue
        x, take = start, True
        while not seen[x]:
            seen[x] = True
            y = int(cover[x])
            if y < 0:
                break
            if take and not seen[y]:
                mate[x], mate[y] = y, x
            take = not take
            x = y
    return mate


def _augment(neighbours: list[list[int]], mate: IntArray, size: int, bound: int) -> int:
    """Grow ``mate`` in place by Edmonds' augmenting paths until it has ``bound`` edges
    or no free vertex has an augmenting path; return its size."""
    n = len(neighbours)
    match = mate.tolist()
    for root in range(n):
        if size >= bound:
            break
        if match[root] >= 0 or not neighbours[root]:
            continue
        end, parent, _ = _forest([root], neighbours, match)
        if end >= 0:
            _flip(end, parent, match)
            size += 1
    mate[:] = match
    return size


def _flip(end: int, parent: list[int], match: list[int]) -> None:
    """Augment along the path from the free vertex ``end`` back to the root."""
    y = end
    while y >= 0:
        x = parent[y]
        after = match[x]
        match[y], match[x] = x, y
        y = after


def _forest(
    roots: list[int], neighbours: list[list[int]], match: list[int]
) -> tuple[int, list[int], list[bool]]:
    """Edmonds' alternating forest grown breadth-first from the free vertices ``roots``,
    blossoms shrunk by their base, as ``(end, parent, outer)``.

    ``end`` is the first free vertex outside ``roots`` the forest reaches: an augmenting
    path from its tree's root, to follow back through ``parent`` (:func:`_flip`); -1
    when the forest stopped growing without one. ``outer`` marks the outer (even)
    vertices. Two adjacent outer vertices of different trees would make an augmenting
    path between two roots: the forest is grown from every free vertex only for a
    maximum matching, so that is a ``ValueError``.
    """
    n = len(neighbours)
    parent = [-1] * n
    base = list(range(n))
    outer = [False] * n
    for r in roots:
        outer[r] = True
    queue = deque(roots)

    def common_base(a: int, b: int) -> int:
        on_path = [False] * n
        while True:
            a = base[a]
            on_path[a] = True
            if match[a] < 0:
                break
            a = parent[match[a]]
        while True:
            b = base[b]
            if on_path[b]:
                return b
            if match[b] < 0:
                raise ValueError("an augmenting path exists: the matching is not maximum")
            b = parent[match[b]]

    def mark(x: int, stem: int, child: int, blossom: list[bool]) -> None:
        while base[x] != stem:
            blossom[base[x]] = blossom[base[match[x]]] = True
            parent[x] = child
            child = match[x]
            x = parent[match[x]]

    while queue:
        x = queue.popleft()
        for y in neighbours[x]:
            if base[x] == base[y] or match[x] == y:
                continue
            if outer[y]:
                # Both outer, in one tree: an odd cycle, shrink it into its base.
                stem = common_base(x, y)
                blossom = [False] * n
                mark(x, stem, y, blossom)
                mark(y, stem, x, blossom)
                for z in range(n):
                    if blossom[base[z]]:
                        base[z] = stem
                        if not outer[z]:
                            outer[z] = True
                            queue.append(z)
            elif parent[y] < 0:
                parent[y] = x
                if match[y] < 0:
                    return y, parent, outer
                # y becomes inner, its partner outer.
                outer[match[y]] = True
                queue.append(match[y])
    return -1, parent, outer
