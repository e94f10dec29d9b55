"""Cycles priced by search instead of enumerated: column generation's pricing problem.

Dense pools have too many short cycles to list (a 512-pair PrefLib pool has 51 million
cycles of at most 4 pairs). Column generation needs only the cycles whose reduced cost
``sum(arc values) - sum(vertex duals)`` is positive, and, to restrict the final MIP, the
cycles whose reduced cost is at least some threshold. Both come from one dynamic
programme over *walks*:

    W_1[s, v] = a(s -> v),   W_{j+1}[s, v] = max over arcs u -> v of W_j[s, u] + a(u -> v)

with ``a(u -> v) = value(u -> v) - dual(v)``, the best value of a j-arc walk from s to v
(a max-plus matrix product, vectorised with numpy over all start vertices at once). A
closed walk of at most K arcs is a union of simple cycles of at most K arcs whose values
add up, so

- the best closed walks through each closing arc, split into simple cycles, give every
  positive-reduced-cost cycle there is when one exists (and none exists when no closed
  walk is positive: the pricing is exact);
- ``max_j W_j[s, y]`` bounds the value of any path from s to y, which prunes a
  depth-first search for every cycle above a threshold down to the prefixes that can
  still reach it.

References
----------
Abraham, D. J., Blum, A., Sandholm, T. (2007). Clearing algorithms for barter exchange
markets: enabling nationwide kidney exchanges. ACM EC '07. (column generation with
priced cycles)
Riascos-Alvarez, L. C., Bodur, M., Aleman, D. M. (2024). A branch-and-price algorithm
enhanced by decision diagrams for the kidney exchange problem. M&SOM 26(2), first as
arXiv:2009.13715 (2020). (pricing cycles by search on dense PrefLib pools)
"""

from __future__ import annotations

import itertools
import time
from typing import Protocol

import numpy as np
import numpy.typing as npt

from kidneyshare.errors import FormulationTooLarge, KidneyshareError
from kidneyshare.matching.enumeration import ExchangeBlock
from kidneyshare.matching.formulations.columns import ExchangeColumns
from kidneyshare.matching.graph import CompatibilityGraph

__all__ = [
    "CyclePricer",
    "CyclePricing",
    "ListedCycles",
    "ListingOutOfTime",
    "check_deadline",
    "cycle_blocks",
    "spread_best",
    "stack_padded",
]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

# Cycles of at most this many pairs are priced (two steps each way from an anchor).
MAX_CYCLE = 4
# Elements of one slab of the dense max-plus product (arbitrary arc values).
_SLAB = 40_000_000
# Receiver groups of the two-step bound (uniform arc values): one product each.
_GROUPS = 48
# Candidate walks evaluated exactly at once.
_EXACT_BATCH = 4_096
# Partial paths grown at once by cycles_at_least.
_MAX_PATHS = 60_000_000
# The walk values are float32: a margin that keeps every bound an upper bound.
_MARGIN = 1e-3
# New columns per vertex in one round of the large-pool pricers (see spread_best).
SPREAD_PER_VERTEX = 4
_SPREAD_CHUNK = 50_000


class ListingOutOfTime(KidneyshareError):
    """The solve's deadline passed while the columns above a threshold were being
    listed (the master then keeps the columns it generated, as when they are too many)."""


def check_deadline(deadline: float | None, what: str) -> None:
    """Raise :class:`ListingOutOfTime` once ``deadline`` (a ``time.perf_counter``
    instant) has passed: listing near the bound can take minutes on large pools, and
    the solve must stop at its time limit."""
    if deadline is not None and time.perf_counter() >= deadline:
        raise ListingOutOfTime(f"the time limit passed while listing {what}")


class CyclePricing(Protocol):
    """What column generation needs of a cycle pricer (dense :class:`CyclePricer`, or
    :class:`~kidneyshare.matching.sparse_pricing.SparseCyclePricer` for large pools)."""

    graph: CompatibilityGraph
    max_cycle: int
    n: int
    all_arc_values: FloatArray
    # Arc success probabilities when exchanges are valued by expectation (None: sums).
    success: FloatArray | None

    def positive_cycles(
        self, vertex_duals: FloatArray, *, tolerance: float, limit: int
    ) -> tuple[list[ExchangeBlock], float]: ...

    def cycles_at_least(
        self, vertex_duals: FloatArray, floor: float, *, limit: int, deadline: float | None = None
    ) -> list[ExchangeBlock]: ...


class ListedCycles:
    """:class:`CyclePricing` over cycles listed beforehand: the cycle formulation with
    its cycles enumerated and its chains priced (when they are too many to list), each
    exchange valued by :func:`~kidneyshare.matching.formulations.columns.exchange_values`
    (by expectation with ``success`` probabilities)."""

    def __init__(
        self,
        graph: CompatibilityGraph,
        max_cycle: int,
        arc_value: FloatArray,
        cycles: list[ExchangeBlock],
        success: FloatArray | None = None,
    ) -> None:
        self.graph = graph
        self.max_cycle = max_cycle
        self.n = graph.n_pairs
        self.all_arc_values = arc_value
        self.success = success
        self.columns = ExchangeColumns(cycles, arc_value, success)
        # Vertices of every listed cycle, padded with -1 to K (for spread_best).
        self.padded = stack_padded([b.vertices for b in self.columns.blocks], max_cycle)

    def _rows(self, chosen: IntArray) -> list[ExchangeBlock]:
        return self.columns.subset(np.sort(chosen)).blocks

    def positive_cycles(
        self, vertex_duals: FloatArray, *, tolerance: float, limit: int
    ) -> tuple[list[ExchangeBlock], float]:
        """Up to ``limit`` listed cycles of reduced cost above ``tolerance``, spread
        over the pool, and the best reduced cost of all (exact)."""
        rc = self.columns.reduced_costs(vertex_duals[: self.n])
        positive = np.flatnonzero(rc > tolerance)
        chosen = spread_best(rc[positive], self.padded[positive], limit, SPREAD_PER_VERTEX)
        return self._rows(positive[chosen]), float(rc.max(initial=-np.inf))

    def cycles_at_least(
        self, vertex_duals: FloatArray, floor: float, *, limit: int, deadline: float | None = None
    ) -> list[ExchangeBlock]:
        """Every listed cycle of reduced cost at least ``floor`` (one vectorised pass:
        ``deadline`` is not checked)."""
        rc = self.columns.reduced_costs(vertex_duals[: self.n])
        chosen = np.flatnonzero(rc >= floor - 1e-9)
        if len(chosen) > limit:
            raise FormulationTooLarge(
                f"more than {limit:,} cycles within {-floor:g} of the LP bound"
            )
        return self._rows(chosen)


class CyclePricer:
    """Prices the cycles of 2..``max_cycle`` (at most 4) pairs of ``graph``, each cycle
    worth the sum of ``arc_value`` over its arcs.

    Holds the pair graph as dense ``n x n`` matrices (arc values, ``-inf`` where there is
    no arc), so it is meant for pools of a few thousand pairs.
    """

    def __init__(self, graph: CompatibilityGraph, max_cycle: int, arc_value: FloatArray) -> None:
        if not 0 <= max_cycle <= MAX_CYCLE:
            raise ValueError(
                f"max_cycle: cycles of at most {MAX_CYCLE} pairs are priced, not {max_cycle}"
            )
        self.graph = graph
        self.max_cycle = max_cycle
        self.all_arc_values = arc_value
        self.success: FloatArray | None = None
        n = graph.n_pairs
        self.n = n
        between = np.flatnonzero(graph.src < n)
        self.arc = between
        self.src = graph.src[between]
        self.dst = graph.dst[between]
        self.value = arc_value[between]
        self._graph_value = np.zeros(graph.n_arcs)
        self._graph_value[between] = self.value
        self.adjacency = np.zeros((n, n), dtype=bool)
        self.adjacency[self.src, self.dst] = True
        # With one value on every arc (max-transplants), an arc's reduced cost depends on
        # its receiver only, and the two-step bound is a few boolean matrix products.
        self.uniform = bool(len(self.value)) and bool(np.all(self.value == self.value[0]))

    def arc_matrix(self, vertex_duals: FloatArray) -> npt.NDArray[np.float32]:
        """``value(u -> v) - dual(v)`` as an ``n x n`` matrix, ``-inf`` where no arc."""
        a = np.full((self.n, self.n), -np.inf, dtype=np.float32)
        a[self.src, self.dst] = self.value - vertex_duals[self.dst]
        return a

    def two_steps(
        self, a: npt.NDArray[np.float32], vertex_duals: FloatArray
    ) -> npt.NDArray[np.float32]:
        """An upper bound on ``max_v a[s, v] + a[v, w]`` (the best two-arc walk s -> v -> w,
        ``v`` distinct from both), exact for arbitrary arc values; for uniform arc values
        the receivers' values are grouped and each group costs one matrix product."""
        n = self.n
        if not self.uniform:
            best = np.full((n, n), -np.inf, dtype=np.float32)
            rows = max(1, _SLAB // max(n * n, 1))
            for lo in range(0, n, rows):
                hi = min(n, lo + rows)
                best[lo:hi] = np.max(a[lo:hi, :, None] + a[None, :, :], axis=1)
        else:
            r = (self.value[0] - vertex_duals[:n]).astype(np.float32)
            order = np.lexsort((np.arange(n), -r))
            best = np.full((n, n), -np.inf, dtype=np.float32)
            unset = np.ones((n, n), dtype=bool)
            adj = self.adjacency.astype(np.float32)
            for group in _groups(r[order]):
                members = order[group]
                hit = (adj[:, members] @ adj[members, :]) > 0
                hit &= unset
                best[hit] = r[members[0]]  # the group's largest value
                unset &= ~hit
            best += r[None, :]
        np.fill_diagonal(best, -np.inf)
        return best

    # -- pricing for the LP ------------------------------------------------------------

    def positive_cycles(
        self, vertex_duals: FloatArray, *, tolerance: float, limit: int
    ) -> tuple[list[ExchangeBlock], float]:
        """Up to ``limit`` distinct cycles of reduced cost above ``tolerance`` (best first),
        and an upper bound on every cycle's reduced cost (the best closed walk)."""
        if self.max_cycle < 2 or self.n < 2:
            return [], -np.inf
        a = self.arc_matrix(vertex_duals)
        two = self.two_steps(a, vertex_duals)
        candidates = self._closed_walk_bounds(a, two)
        # Columns of ``a`` as rows: gathering rows is ~4x faster than gathering columns.
        a_t = np.ascontiguousarray(a.T)
        found: dict[tuple[int, ...], None] = {}
        # The best value no cycle can exceed: the exact walks evaluated, and the bounds
        # of those left unevaluated because they are <= tolerance.
        best = max(
            (float(v[v <= tolerance].max(initial=-np.inf)) for _, _, v in candidates),
            default=-np.inf,
        )
        for length, (s, w, bound) in enumerate(candidates, start=2):
            if len(found) >= 2 * limit:
                break
            hits = np.flatnonzero(bound > tolerance)
            hits = hits[np.lexsort((hits, -bound[hits]))]
            for chunk in range(0, len(hits), _EXACT_BATCH):
                sel = hits[chunk : chunk + _EXACT_BATCH]
                for walk, value in self._best_walks(a, a_t, length, s[sel], w[sel]):
                    best = max(best, value)
                    if value > tolerance:
                        for cycle in _split_closed_walk(walk):
                            found[_canonical(cycle)] = None
                if len(found) >= 2 * limit:
                    # Not every candidate was evaluated: only the walk bounds hold.
                    best = max(float(c[2].max(initial=-np.inf)) for c in candidates)
                    break
        blocks = self._blocks(list(found), vertex_duals, tolerance, limit)
        return blocks, best

    def _closed_walk_bounds(
        self, a: npt.NDArray[np.float32], two: npt.NDArray[np.float32]
    ) -> list[tuple[IntArray, IntArray, npt.NDArray[np.float32]]]:
        """For each length 2..K: (s, w, bound) over the walks' two anchor vertices."""
        out: list[tuple[IntArray, IntArray, npt.NDArray[np.float32]]] = []
        src, dst = self.src, self.dst
        # 2: s -> w -> s.  3: s -> v -> w -> s (w -> s an arc).  4: s -> v -> w -> x -> s.
        out.append((src, dst, a[src, dst] + a[dst, src]))
        if self.max_cycle >= 3:
            out.append((dst, src, two[dst, src] + a[src, dst]))
        if self.max_cycle >= 4:
            s, w = np.triu_indices(self.n, 1)
            out.append((s.astype(np.int64), w.astype(np.int64), two[s, w] + two[w, s]))
        return out

    def _best_walks(
        self,
        a: npt.NDArray[np.float32],
        a_t: npt.NDArray[np.float32],
        length: int,
        s: IntArray,
        w: IntArray,
    ) -> list[tuple[list[int], float]]:
        """The exact best closed walk of ``length`` arcs through anchors s and w, and its
        value (float32); ``a_t`` is ``a`` transposed, contiguous."""
        if length == 2:
            values = a[s, w] + a[w, s]
            return [([int(i), int(j)], float(v)) for i, j, v in zip(s, w, values, strict=True)]
        sv = a[s, :] + a_t[w, :]  # s -> v -> w for every v
        v = np.argmax(sv, axis=1)
        first = sv[np.arange(len(s)), v]
        if length == 3:
            values = first + a[w, s]
            return [
                ([int(i), int(j), int(k)], float(x))
                for i, j, k, x in zip(s, v, w, values, strict=True)
            ]
        ws = a[w, :] + a_t[s, :]  # w -> x -> s for every x
        x = np.argmax(ws, axis=1)
        values = first + ws[np.arange(len(s)), x]
        return [
            ([int(i), int(j), int(k), int(m)], float(val))
            for i, j, k, m, val in zip(s, v, w, x, values, strict=True)
        ]

    def _blocks(
        self,
        cycles: list[tuple[int, ...]],
        vertex_duals: FloatArray,
        floor: float,
        limit: int | None,
    ) -> list[ExchangeBlock]:
        """Cycles as blocks with arcs, keeping those whose exact (float64) reduced cost is
        above ``floor``, best first, at most ``limit``."""
        by_length: dict[int, list[tuple[int, ...]]] = {}
        for c in cycles:
            by_length.setdefault(len(c), []).append(c)
        scored: list[tuple[float, int, IntArray, IntArray]] = []
        for length, group in sorted(by_length.items()):
            verts = np.asarray(group, dtype=np.int64).reshape(-1, length)
            arcs = self.graph.find_arcs(verts.ravel(), np.roll(verts, -1, axis=1).ravel())
            arcs = arcs.reshape(-1, length)
            rc = self.graph_values(arcs).sum(axis=1) - vertex_duals[verts].sum(axis=1)
            keep = rc > floor
            scored += [
                (float(r), length, v, e)
                for r, v, e in zip(rc[keep], verts[keep], arcs[keep], strict=True)
            ]
        scored.sort(key=lambda t: (-t[0], t[1], tuple(t[2].tolist())))
        if limit is not None and len(scored) > limit:
            padded = stack_padded([t[2].reshape(1, -1) for t in scored], MAX_CYCLE)
            rc = np.asarray([t[0] for t in scored])
            scored = [scored[i] for i in np.sort(spread_best(rc, padded, limit, SPREAD_PER_VERTEX))]
        return cycle_blocks([(v, e) for _, _, v, e in scored])

    def graph_values(self, arcs: IntArray) -> FloatArray:
        """``arc_value`` of graph arcs (by graph arc index)."""
        return self._graph_value[arcs]

    # -- every cycle above a threshold -------------------------------------------------

    def cycles_at_least(
        self, vertex_duals: FloatArray, floor: float, *, limit: int, deadline: float | None = None
    ) -> list[ExchangeBlock]:
        """Every cycle whose reduced cost is at least ``floor``, each listed once from its
        smallest vertex, one block per length.

        Grown backwards from the smallest vertex s, one arc at a time for every path at
        once: a path y -> ... -> s of value q survives only if a walk of the remaining
        length from s to y can make up the difference (``q + bound[s, y] >= floor``).

        Raises
        ------
        FormulationTooLarge
            more than ``limit`` such cycles (or partial paths).
        ListingOutOfTime
            ``deadline`` passed (checked before each arc is added to the paths).
        """
        if self.max_cycle < 2 or self.n < 2:
            return []
        n, k_max = self.n, self.max_cycle
        a = self.arc_matrix(vertex_duals)
        one = a
        two = self.two_steps(a, vertex_duals) if k_max >= 3 else None
        # remaining[i][s, y]: bound on a walk s -> y of 1 .. K - i arcs.
        remaining: list[npt.NDArray[np.float32]] = [one]
        if two is not None:
            remaining.insert(0, np.maximum(one, two))
        if k_max >= 4 and two is not None:
            best_in = np.max(a, axis=0)  # best arc into each vertex
            three = two.max(axis=1)[:, None] + best_in[None, :]
            remaining.insert(0, np.maximum(remaining[0], three))
        cut = np.float32(floor - _MARGIN)
        in_ptr, in_src = self._in_arcs()
        found: list[tuple[IntArray, IntArray]] = []
        count = 0
        path = np.arange(n, dtype=np.int64).reshape(-1, 1)  # y ... s
        value = np.zeros(n, dtype=np.float32)
        for depth in range(1, k_max):
            if not len(path):
                break
            check_deadline(deadline, "cycles")
            y = path[:, 0]
            lo, hi = in_ptr[y], in_ptr[y + 1]
            degree = hi - lo
            total = int(degree.sum())
            if total > _MAX_PATHS:
                raise FormulationTooLarge(
                    f"more than {_MAX_PATHS:,} partial cycles within {-floor:g} of the LP bound"
                )
            row = np.repeat(np.arange(len(path)), degree)
            pos = np.repeat(lo, degree) + (
                np.arange(total) - np.repeat(np.cumsum(degree) - degree, degree)
            )
            x = in_src[pos]
            s = path[row, -1]
            new_value = value[row] + a[x, path[row, 0]]
            keep = (x > s) & (new_value + remaining[depth - 1][s, x] >= cut)
            for j in range(1, path.shape[1]):
                keep &= x != path[row, j]
            row, x, new_value = row[keep], x[keep], new_value[keep]
            path = np.column_stack([x, path[row]])
            value = new_value
            # Close with s -> x: the cycle s -> x -> ... -> s of depth + 1 arcs.
            s = path[:, -1]
            ok = np.flatnonzero(self.adjacency[s, path[:, 0]])
            if len(ok):
                verts = np.column_stack([path[ok, -1], path[ok, :-1]])
                succ = np.roll(verts, -1, axis=1)
                arcs = self.graph.find_arcs(verts.ravel(), succ.ravel()).reshape(verts.shape)
                rc = self.graph_values(arcs).sum(axis=1) - vertex_duals[verts].sum(axis=1)
                good = rc >= floor - 1e-9
                if good.any():
                    found.append((verts[good], arcs[good]))
                    count += int(good.sum())
                    if count > limit:
                        raise FormulationTooLarge(
                            f"more than {limit:,} cycles within {-floor:g} of the LP bound"
                        )
        return cycle_blocks(
            [(v, e) for verts, arcs in found for v, e in zip(verts, arcs, strict=True)]
        )

    def _in_arcs(self) -> tuple[IntArray, IntArray]:
        """In-arcs of each pair: CSR pointer and giver of each."""
        order = np.lexsort((self.src, self.dst))
        pointer = np.searchsorted(self.dst[order], np.arange(self.n + 1)).astype(np.int64)
        return pointer, self.src[order]


def _groups(sorted_values: npt.NDArray[np.float32]) -> list[slice]:
    """Split values sorted in descending order into at most ``_GROUPS`` runs, cutting
    where the values change most (exact when there are few distinct values)."""
    n = len(sorted_values)
    if n == 0:
        return []
    change = np.flatnonzero(np.diff(sorted_values) < 0) + 1
    if len(change) >= _GROUPS:
        drop = sorted_values[change - 1] - sorted_values[change]
        change = np.sort(change[np.argsort(-drop, kind="stable")[: _GROUPS - 1]])
    bounds = [0, *change.tolist(), n]
    return [slice(lo, hi) for lo, hi in itertools.pairwise(bounds)]


def _split_closed_walk(walk: list[int]) -> list[tuple[int, ...]]:
    """A closed walk (listed without repeating its first vertex) as simple cycles."""
    cycles: list[tuple[int, ...]] = []
    stack: list[int] = []
    for v in walk:
        if v in stack:
            i = stack.index(v)
            cycles.append(tuple(stack[i:]))
            del stack[i + 1 :]
        else:
            stack.append(v)
    if len(stack) >= 2:
        cycles.append(tuple(stack))
    return [c for c in cycles if len(c) >= 2]


def _canonical(cycle: tuple[int, ...]) -> tuple[int, ...]:
    """The rotation starting at the smallest vertex."""
    i = cycle.index(min(cycle))
    return cycle[i:] + cycle[:i]


def cycle_blocks(items: list[tuple[IntArray, IntArray]]) -> list[ExchangeBlock]:
    """Cycles given as (vertices, arcs) in donation order, each rotated to start at its
    smallest vertex (as enumeration lists them), one block per length."""
    by_length: dict[int, tuple[list[IntArray], list[IntArray]]] = {}
    for verts, arcs in items:
        turn = int(np.argmin(verts))
        group = by_length.setdefault(len(verts), ([], []))
        group[0].append(np.roll(verts, -turn))
        group[1].append(np.roll(arcs, -turn))
    return [
        ExchangeBlock(True, np.vstack(v).astype(np.int64), np.vstack(e).astype(np.int64))
        for _, (v, e) in sorted(by_length.items())
    ]


def stack_padded(rows: list[IntArray], width: int) -> IntArray:
    """2-D integer arrays of at most ``width`` columns (exchanges of one length each)
    stacked into one array, each row padded with -1 to ``width``."""
    out = np.full((sum(len(r) for r in rows), width), -1, dtype=np.int64)
    at = 0
    for r in rows:
        out[at : at + len(r), : r.shape[1]] = r
        at += len(r)
    return out


def spread_best(value: FloatArray, vertices: IntArray, limit: int, per_vertex: int) -> IntArray:
    """Rows of ``vertices`` (exchanges, padded with -1) to add to a restricted LP: the
    best ``value`` first, skipping an exchange when any of its vertices is already in
    ``per_vertex`` of those taken; at most ``limit``.

    Taking the best reduced costs alone piles the new columns onto a few vertices when
    many tie (at the start, every three-cycle of a max-transplants pool is worth 3),
    and the LP then climbs over many rounds; spread over the pool it climbs in a few.
    Ties are broken by a fixed scramble of the vertices, so the choice is reproducible.
    """
    m = len(value)
    if m == 0:
        return np.zeros(0, dtype=np.int64)
    scramble = np.zeros(m, dtype=np.uint64)
    for j in range(vertices.shape[1]):
        column = (vertices[:, j] + 1).astype(np.uint64)
        scramble = scramble * np.uint64(1_000_003) + column * np.uint64(2_654_435_761)
    order = np.lexsort((scramble % np.uint64(1 << 31), -value))
    taken: list[int] = []
    uses = np.zeros(int(vertices.max(initial=0)) + 2, dtype=np.int64).tolist()
    for lo in range(0, m, _SPREAD_CHUNK):
        rows = order[lo : lo + _SPREAD_CHUNK]
        for row, exchange in zip(rows.tolist(), vertices[rows].tolist(), strict=True):
            members = [v for v in exchange if v >= 0]
            if all(uses[v] < per_vertex for v in members):
                taken.append(row)
                for v in members:
                    uses[v] += 1
                if len(taken) >= limit:
                    return np.asarray(taken, dtype=np.int64)
    return np.asarray(taken, dtype=np.int64)
