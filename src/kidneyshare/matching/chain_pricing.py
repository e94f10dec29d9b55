"""Chains priced by search instead of position-indexed arc variables.

With many altruists and long chains, PICEF needs a variable per (arc, position): 1.3
million on a 1,024-pair PrefLib pool at L = 6, some 140 million on a 10,000-pair
Saidman pool. Column generation needs only the chains of positive reduced cost
``sum(arc values) - sum(vertex duals)`` (the altruist's dual included), found by a
dynamic programme over walks from the altruists, one arc per round:

    B_1[v] = max over arcs a -> v from an altruist of value(a -> v) - dual(a) - dual(v)
    B_{k+1}[w] = max over arcs v -> w between pairs of B_k[v] + value(v -> w) - dual(w)

``B_k[v]`` bounds the reduced cost of every chain of k donations ending at v (a chain
is a walk that repeats no vertex), so ``max B`` bounds every chain's and the pricing
is exact: when no walk is positive no chain is. The best walks are traced back and the
simple ones become columns; when all of them repeat a vertex, every chain above the
tolerance is listed instead by a search pruned with the backward programme

    F_0[v] = 0,   F_r[v] = max(0, max over arcs v -> w of value(v -> w) - dual(w) + F_{r-1}[w])

(a chain prefix ending at v of value q can still reach ``q + F_r[v]`` with r more
donations).

References
----------
Anderson, R., Ashlagi, I., Gamarnik, D., Roth, A. E. (2015). Finding long chains in
kidney exchange using the traveling salesman problem. PNAS 112(3). (chains as priced
columns)
Riascos-Alvarez, L. C., Bodur, M., Aleman, D. M. (2024). A branch-and-price algorithm
enhanced by decision diagrams for the kidney exchange problem. M&SOM 26(2). (pricing
long chains on PrefLib pools)
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from kidneyshare.errors import FormulationTooLarge
from kidneyshare.matching.enumeration import ExchangeBlock
from kidneyshare.matching.graph import CompatibilityGraph, spread_ranges
from kidneyshare.matching.pricing import SPREAD_PER_VERTEX, spread_best, stack_padded

__all__ = ["ChainPricer"]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

# Partial chains grown at once by chains_at_least (memory: a few GB at most).
_MAX_PATHS = 40_000_000
# Cut every bound by this much: float sums in another order may differ in the last bits.
_MARGIN = 1e-9


class ChainPricer:
    """Prices the chains of 1..``max_chain`` donations of ``graph`` (each donation worth
    ``arc_value`` of its arc, the altruist's first one included); with ``arcs`` (ascending
    arc numbers), over those arcs only, the chains still carrying ``graph``'s arc
    numbers."""

    def __init__(
        self,
        graph: CompatibilityGraph,
        max_chain: int,
        arc_value: FloatArray,
        *,
        arcs: IntArray | None = None,
    ) -> None:
        self.graph = graph
        self.max_chain = max_chain
        self._graph_arc_value = arc_value
        self._arcs = arcs
        self.n_pairs, self.n_vertices = graph.n_pairs, graph.n_vertices
        if arcs is None:
            self.src, self.dst, self.arc_value = graph.src, graph.dst, arc_value
            self.indptr = graph.indptr
        else:
            self.src, self.dst, self.arc_value = graph.src[arcs], graph.dst[arcs], arc_value[arcs]
            counts = np.bincount(self.src, minlength=self.n_vertices)
            self.indptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        self.from_altruist: BoolArray = self.src >= self.n_pairs
        # Arcs grouped by receiver (ties by giver): the forward programme's max per pair.
        # The programme runs in this order throughout (its givers and which arcs leave
        # an altruist kept in it), so that each pass gathers from the n walk values only.
        self._by_receiver = np.lexsort((self.src, self.dst))
        receivers = self.dst[self._by_receiver]
        self._receiver_starts = np.flatnonzero(np.r_[True, receivers[1:] != receivers[:-1]])
        self._receivers = receivers[self._receiver_starts] if len(receivers) else receivers
        self._receiver_lengths = np.diff(np.r_[self._receiver_starts, len(receivers)])
        self._giver_by_receiver = self.src[self._by_receiver]
        self._first_by_receiver = self.from_altruist[self._by_receiver]
        # Arcs between pairs, grouped by giver (the graph's own order).
        self._givers = np.flatnonzero(np.diff(self.indptr[: self.n_pairs + 1]) > 0)

    def among(self, free: BoolArray) -> ChainPricer:
        """The pricer over the arcs between ``free`` vertices only: a dive's residual
        pool, priced in passes over its own arcs instead of the whole graph's."""
        graph = self.graph
        keep = free[graph.src] & free[graph.dst]
        if self._arcs is not None:
            mine = np.zeros(graph.n_arcs, dtype=bool)
            mine[self._arcs] = True
            keep &= mine
        return ChainPricer(graph, self.max_chain, self._graph_arc_value, arcs=np.flatnonzero(keep))

    def _blocks(self, items: list[tuple[IntArray, IntArray]]) -> list[ExchangeBlock]:
        """:func:`chain_blocks` with the arcs renumbered as in ``graph``."""
        if self._arcs is not None:
            items = [(verts, self._arcs[arcs]) for verts, arcs in items]
        return chain_blocks(items)

    def _gain(self, vertex_duals: FloatArray) -> FloatArray:
        return self.arc_value - vertex_duals[self.dst]

    def _best_into(self, values: FloatArray) -> tuple[FloatArray, IntArray]:
        """For each vertex, the best of ``values`` (one per arc, in receiver order) over
        its in-arcs and the arc giving it (first arc by giver on ties); ``-inf`` and -1
        where there is none."""
        n = self.n_vertices
        best = np.full(n, -np.inf)
        arc = np.full(n, -1, dtype=np.int64)
        if not len(values):
            return best, arc
        starts = self._receiver_starts
        top = np.maximum.reduceat(values, starts)
        best[self._receivers] = top
        # The first position reaching each receiver's top (a minimum, not a sort).
        hit = values == np.repeat(top, self._receiver_lengths)
        position = np.where(hit, np.arange(len(values)), len(values))
        first = np.minimum.reduceat(position, starts)
        reached = top > -np.inf
        arc[self._receivers[reached]] = self._by_receiver[first[reached]]
        return best, arc

    def walk_bounds(self, vertex_duals: FloatArray) -> tuple[list[FloatArray], list[IntArray]]:
        """``B_k`` for k = 1..L (index k - 1) and the last arc of each best walk."""
        gain = self._gain(vertex_duals)[self._by_receiver]
        giver, first_arc = self._giver_by_receiver, self._first_by_receiver
        best: list[FloatArray] = []
        last: list[IntArray] = []
        values = np.where(first_arc, gain - vertex_duals[giver], -np.inf)
        onward = np.where(first_arc, -np.inf, gain)
        for _ in range(self.max_chain):
            b, arc = self._best_into(values)
            best.append(b)
            last.append(arc)
            values = b[giver] + onward
        return best, last

    def positive_chains(
        self, vertex_duals: FloatArray, *, tolerance: float, limit: int
    ) -> tuple[list[ExchangeBlock], float]:
        """Up to ``limit`` distinct chains of reduced cost above ``tolerance`` (best
        first), and an upper bound on every chain's reduced cost."""
        if self.max_chain < 1 or not self.from_altruist.any():
            return [], -np.inf
        best, last = self.walk_bounds(vertex_duals)
        bound = max(float(b.max(initial=-np.inf)) for b in best)
        if bound <= tolerance:
            return [], bound
        verts_list, arcs_list, values = [], [], []
        for k, b in enumerate(best, start=1):
            ends = np.flatnonzero(b > tolerance)
            verts, arcs = self._trace(last, k, ends)
            simple = _simple_rows(verts)
            verts_list.append(verts[simple])
            arcs_list.append(arcs[simple])
            values.append(b[ends][simple])
        value = np.concatenate(values)
        if not len(value):
            # Every best walk repeats a vertex: list the simple chains instead.
            try:
                blocks = self.chains_at_least(vertex_duals, tolerance, limit=limit)
            except FormulationTooLarge:
                return [], bound
            return blocks, bound
        all_verts = stack_padded(verts_list, self.max_chain + 1)
        all_arcs = stack_padded(arcs_list, self.max_chain)
        chosen = spread_best(value, all_verts, limit, SPREAD_PER_VERTEX)
        return (
            self._blocks(
                [
                    (v[v >= 0], a[a >= 0])
                    for v, a in zip(all_verts[chosen], all_arcs[chosen], strict=True)
                ]
            ),
            bound,
        )

    def _trace(self, last: list[IntArray], k: int, ends: IntArray) -> tuple[IntArray, IntArray]:
        """The best walks of ``k`` arcs ending at ``ends``: vertices (altruist first) and
        arcs."""
        verts = np.empty((len(ends), k + 1), dtype=np.int64)
        arcs = np.empty((len(ends), k), dtype=np.int64)
        verts[:, k] = ends
        current = ends
        for j in range(k, 0, -1):
            arc = last[j - 1][current]
            arcs[:, j - 1] = arc
            current = self.src[arc]
            verts[:, j - 1] = current
        return verts, arcs

    def chains_at_least(
        self, vertex_duals: FloatArray, floor: float, *, limit: int
    ) -> list[ExchangeBlock]:
        """Every chain whose reduced cost is at least ``floor``, one block per length.

        Raises
        ------
        FormulationTooLarge
            more than ``limit`` such chains (or too many partial ones).
        """
        if self.max_chain < 1 or not self.from_altruist.any():
            return []
        gain = self._gain(vertex_duals)
        ahead = self._ahead(gain)
        cut = floor - _MARGIN
        first = np.flatnonzero(self.from_altruist)
        value = gain[first] - vertex_duals[self.src[first]]
        keep = value + ahead[self.max_chain - 1][self.dst[first]] >= cut
        path = np.column_stack([self.src[first[keep]], self.dst[first[keep]]])
        path_arcs = first[keep].reshape(-1, 1)
        value = value[keep]
        found: list[tuple[IntArray, IntArray]] = []
        count = 0
        for length in range(1, self.max_chain + 1):
            done = value >= cut
            count += int(done.sum())
            if count > limit:
                raise FormulationTooLarge(
                    f"more than {limit:,} chains within {-floor:g} of the bound"
                )
            found += list(zip(path[done], path_arcs[done], strict=True))
            if length == self.max_chain or not len(path):
                break
            last = path[:, -1]
            lo, hi = self.indptr[last], self.indptr[last + 1]
            degree = hi - lo
            total = int(degree.sum())
            if total > _MAX_PATHS:
                raise FormulationTooLarge(f"more than {_MAX_PATHS:,} partial chains")
            row, arc = spread_ranges(lo, degree)
            w = self.dst[arc]
            new_value = value[row] + gain[arc]
            remaining = self.max_chain - length - 1
            ok = new_value + ahead[remaining][w] >= cut
            for j in range(1, path.shape[1]):  # column 0 is the altruist
                ok &= w != path[row, j]
            row, arc, w = row[ok], arc[ok], w[ok]
            path = np.column_stack([path[row], w])
            path_arcs = np.column_stack([path_arcs[row], arc])
            value = new_value[ok]
        return self._blocks(found)

    def _ahead(self, gain: FloatArray) -> list[FloatArray]:
        """``F_r`` for r = 0..L-1: the best a chain ending at each pair can still add with
        at most r more donations (>= 0: it may stop)."""
        out = [np.zeros(self.n_vertices)]
        givers = self._givers
        starts = self.indptr[givers]
        for _ in range(1, self.max_chain):
            step = np.zeros(self.n_vertices)
            if len(givers):
                between = self.indptr[self.n_pairs]
                candidate = gain[:between] + out[-1][self.dst[:between]]
                step[givers] = np.maximum(np.maximum.reduceat(candidate, starts), 0.0)
            out.append(step)
        return out


def _simple_rows(verts: IntArray) -> BoolArray:
    """Rows whose vertices are all distinct."""
    if verts.shape[1] < 2:
        return np.ones(len(verts), dtype=bool)
    ordered = np.sort(verts, axis=1)
    return np.all(ordered[:, 1:] != ordered[:, :-1], axis=1)  # type: ignore[no-any-return]


def chain_blocks(items: list[tuple[IntArray, IntArray]]) -> list[ExchangeBlock]:
    """Chains given as (vertices, altruist first; arcs), one block per length."""
    by_length: dict[int, tuple[list[IntArray], list[IntArray]]] = {}
    for verts, arcs in items:
        group = by_length.setdefault(len(arcs), ([], []))
        group[0].append(np.asarray(verts, dtype=np.int64))
        group[1].append(np.asarray(arcs, dtype=np.int64))
    return [
        ExchangeBlock(False, np.vstack(v), np.vstack(e)) for _, (v, e) in sorted(by_length.items())
    ]
