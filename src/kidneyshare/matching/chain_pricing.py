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

Failure-aware chains (arc success probabilities ``p``) are worth their expected
successful prefix: the k-th donation counts ``value_k p_1 ... p_k``. A prefix of
reduced cost ``q`` whose arcs all succeed with probability ``P`` gains ``P x`` minus
the duals ``D`` of any continuation worth ``x`` if it all succeeded; the best gain
``G(P) = max(P x - D)`` is convex in P with ``G(0) = 0`` (stopping), so ``G(P) <= P
G(1)``, and the programmes above carry over with each arc's gain scaled by ``p``:

    F_r[v] = max(0, max over v -> w of p (value + F_{r-1}[w]) - dual(w))
    B_{k+1}[w] = max over v -> w of B_k[v] + P_k[v] p value - dual(w),
    P_{k+1}[w] = max over v -> w of P_k[v] p

(``P_k[v]``: the likeliest walk of k arcs to v). ``B`` and ``P`` may come from
different walks, so ``max B`` is a bound, and each traced walk is valued afresh.

References
----------
Anderson, R., Ashlagi, I., Gamarnik, D., Roth, A. E. (2015). Finding long chains in
kidney exchange using the traveling salesman problem. PNAS 112(3). (chains as priced
columns)
Riascos-Alvarez, L. C., Bodur, M., Aleman, D. M. (2024). A branch-and-price algorithm
enhanced by decision diagrams for the kidney exchange problem. M&SOM 26(2). (pricing
long chains on PrefLib pools)
Dickerson, J. P., Procaccia, A. D., Sandholm, T. (2019). Failure-aware kidney exchange.
Management Science 65(4). (expected value of a chain; chains priced as columns)
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from kidneyshare.errors import FormulationTooLarge
from kidneyshare.matching.enumeration import ExchangeBlock
from kidneyshare.matching.formulations.columns import exchange_values
from kidneyshare.matching.graph import CompatibilityGraph, spread_ranges
from kidneyshare.matching.pricing import (
    SPREAD_PER_VERTEX,
    check_deadline,
    spread_best,
    stack_padded,
)

__all__ = ["ChainPricer"]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

# Partial chains grown at once by chains_at_least (memory: a few GB at most).
_MAX_PATHS = 40_000_000
# Chains extended at once by chains_at_least, between checks of the time limit.
_EXTEND_AT_ONCE = 2_000_000
# Floors tried when listing the positive chains for a pricing round.
_LISTING_TRIES = 12
# Cut every bound by this much: float sums in another order may differ in the last bits.
_MARGIN = 1e-9


class ChainPricer:
    """Prices the chains of 1..``max_chain`` donations of ``graph`` (each donation worth
    ``arc_value`` of its arc, the altruist's first one included; with ``success``
    probabilities, only if it and those before it succeed); with ``arcs`` (ascending arc
    numbers), over those arcs only, the chains still carrying ``graph``'s arc
    numbers."""

    def __init__(
        self,
        graph: CompatibilityGraph,
        max_chain: int,
        arc_value: FloatArray,
        *,
        success: FloatArray | None = None,
        arcs: IntArray | None = None,
    ) -> None:
        self.graph = graph
        self.max_chain = max_chain
        self._graph_arc_value = arc_value
        self._graph_success = success
        self._arcs = arcs
        self.n_pairs, self.n_vertices = graph.n_pairs, graph.n_vertices
        if arcs is None:
            self.src, self.dst, self.arc_value = graph.src, graph.dst, arc_value
            self.success = success
            self.indptr = graph.indptr
        else:
            self.src, self.dst, self.arc_value = graph.src[arcs], graph.dst[arcs], arc_value[arcs]
            self.success = None if success is None else success[arcs]
            counts = np.bincount(self.src, minlength=self.n_vertices)
            self.indptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        # A donation's worth when every arc before it succeeded (its own success counted).
        self._step = self.arc_value if self.success is None else self.arc_value * self.success
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
        return ChainPricer(
            graph,
            self.max_chain,
            self._graph_arc_value,
            success=self._graph_success,
            arcs=np.flatnonzero(keep),
        )

    def _blocks(self, items: list[tuple[IntArray, IntArray]]) -> list[ExchangeBlock]:
        """:func:`chain_blocks` with the arcs renumbered as in ``graph``."""
        if self._arcs is not None:
            items = [(verts, self._arcs[arcs]) for verts, arcs in items]
        return chain_blocks(items)

    def _gain(self, vertex_duals: FloatArray) -> FloatArray:
        """Each arc's donation less its receiver's dual, as if every arc before it
        succeeded."""
        return self._step - vertex_duals[self.dst]

    def _reduced_costs(
        self, verts: IntArray, arcs: IntArray, vertex_duals: FloatArray
    ) -> FloatArray:
        """The reduced costs of chains given by their vertices and (local) arcs."""
        chains = ExchangeBlock(False, verts, arcs)
        value = exchange_values(chains, self.arc_value, self.success)
        return value - vertex_duals[verts].sum(axis=1)  # type: ignore[no-any-return]

    def _first_donations(
        self, vertex_duals: FloatArray, gain: FloatArray
    ) -> tuple[IntArray, FloatArray, FloatArray]:
        """The arcs leaving an altruist, each as a chain of one donation: its reduced
        cost and the chance that it succeeds (1 without success probabilities)."""
        first = np.flatnonzero(self.from_altruist)
        value = gain[first] - vertex_duals[self.src[first]]
        chance = np.ones(len(first)) if self.success is None else self.success[first]
        return first, value, chance

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
        if self.success is not None:
            # Failure-aware: each arc's donation scaled by the likeliest walk to its giver.
            p = self.success[self._by_receiver]
            step = np.where(first_arc, 0.0, self._step[self._by_receiver])
            cost = vertex_duals[self.dst[self._by_receiver]]
            reach = np.where(first_arc, p, 0.0)
        for _ in range(self.max_chain):
            b, arc = self._best_into(values)
            best.append(b)
            last.append(arc)
            if self.success is None:
                values = b[giver] + onward
            else:
                likeliest = self._max_into(reach)
                values = np.where(first_arc, -np.inf, b[giver] + likeliest[giver] * step - cost)
                reach = np.where(first_arc, 0.0, likeliest[giver] * p)
        return best, last

    def _max_into(self, values: FloatArray) -> FloatArray:
        """For each vertex, the largest of ``values`` (>= 0, one per arc in receiver
        order) over its in-arcs; 0 where there is none."""
        out = np.zeros(self.n_vertices)
        if len(values):
            out[self._receivers] = np.maximum.reduceat(values, self._receiver_starts)
        return out

    def positive_chains(
        self, vertex_duals: FloatArray, *, tolerance: float, limit: int
    ) -> tuple[list[ExchangeBlock], float]:
        """Up to ``limit`` distinct chains of reduced cost above ``tolerance`` (best
        first), and an upper bound on every chain's reduced cost."""
        if self.max_chain < 1 or not self.from_altruist.any():
            return [], -np.inf
        best, last = self.walk_bounds(vertex_duals)
        bound = max(float(b.max(initial=-np.inf)) for b in best)
        if self.success is not None:
            bound = min(bound, self._start_bound(vertex_duals))
        if bound <= tolerance:
            return [], bound
        verts_list, arcs_list, values = [], [], []
        for k, b in enumerate(best, start=1):
            ends = np.flatnonzero(b > tolerance)
            verts, arcs = self._trace(last, k, ends)
            keep = _simple_rows(verts)
            value = b[ends]
            if self.success is not None:
                # B_k bounds the walk; its own value may be lower.
                value = self._reduced_costs(verts, arcs, vertex_duals)
                keep &= value > tolerance
            verts_list.append(verts[keep])
            arcs_list.append(arcs[keep])
            values.append(value[keep])
        value = np.concatenate(values)
        if not len(value):
            # No best walk is a positive chain: list the simple chains instead.
            return self._listed_positive(vertex_duals, tolerance, bound, limit)
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

    def _listed_positive(
        self, vertex_duals: FloatArray, tolerance: float, bound: float, limit: int
    ) -> tuple[list[ExchangeBlock], float]:
        """The chains of reduced cost above ``tolerance`` when no best walk is one: all
        of them if at most ``limit`` (none: ``tolerance`` bounds every chain), else those
        above a floor raised by bisection towards ``bound`` until at most ``limit`` are
        (or ``limit`` of those above the highest floor tried, when many tie)."""
        low, high, floor = tolerance, bound, tolerance
        for _ in range(_LISTING_TRIES):
            try:
                blocks = self.chains_at_least(vertex_duals, floor, limit=limit)
            except FormulationTooLarge:
                low = floor  # too many: only the better ones
            else:
                if blocks:
                    return blocks, bound
                if floor == tolerance:
                    return [], min(bound, tolerance)
                high = floor  # none this good: lower the floor
            floor = (low + high) / 2
        try:
            return self.chains_at_least(vertex_duals, low, limit=limit, truncate=True), bound
        except FormulationTooLarge:  # too many partial chains
            return [], bound

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
        self,
        vertex_duals: FloatArray,
        floor: float,
        *,
        limit: int,
        truncate: bool = False,
        deadline: float | None = None,
    ) -> list[ExchangeBlock]:
        """Every chain whose reduced cost is at least ``floor``, one block per length
        (with ``truncate``, only the first ``limit`` of them, shortest first).

        Raises
        ------
        FormulationTooLarge
            more than ``limit`` such chains (unless ``truncate``), or too many partial
            ones.
        ListingOutOfTime
            ``deadline`` passed (checked between slices of the chains extended).
        """
        if self.max_chain < 1 or not self.from_altruist.any():
            return []
        gain = self._gain(vertex_duals)
        ahead = self._ahead(gain)
        cut = floor - _MARGIN
        # ``chance``: that every arc so far succeeds.
        first, value, chance = self._first_donations(vertex_duals, gain)
        keep = value + chance * ahead[self.max_chain - 1][self.dst[first]] >= cut
        path = np.column_stack([self.src[first[keep]], self.dst[first[keep]]])
        path_arcs = first[keep].reshape(-1, 1)
        value, chance = value[keep], chance[keep]
        found: list[tuple[IntArray, IntArray]] = []
        count = 0
        for length in range(1, self.max_chain + 1):
            done = value >= cut
            count += int(done.sum())
            found += list(zip(path[done], path_arcs[done], strict=True))
            if count > limit:
                if truncate:
                    return self._blocks(found[:limit])
                raise FormulationTooLarge(
                    f"more than {limit:,} chains within {-floor:g} of the bound"
                )
            if length == self.max_chain or not len(path):
                break
            last = path[:, -1]
            degree = self.indptr[last + 1] - self.indptr[last]
            if int(degree.sum()) > _MAX_PATHS:
                raise FormulationTooLarge(f"more than {_MAX_PATHS:,} partial chains")
            # One donation more, a slice of the chains at a time (the time limit is
            # checked between slices: a step over tens of millions takes seconds).
            ends = np.cumsum(degree)
            parts = []
            start = 0
            while start < len(path):
                check_deadline(deadline, "chains")
                reached = ends[start - 1] if start else 0
                stop = max(
                    start + 1, int(np.searchsorted(ends, reached + _EXTEND_AT_ONCE, "right"))
                )
                part = slice(start, stop)
                parts.append(
                    self._extend(
                        path[part],
                        path_arcs[part],
                        value[part],
                        chance[part],
                        length,
                        gain,
                        ahead,
                        vertex_duals,
                        cut,
                    )
                )
                start = stop
            path, path_arcs, value, chance = (
                np.concatenate([p[i] for p in parts]) for i in range(4)
            )
        return self._blocks(found)

    def _extend(
        self,
        path: IntArray,
        path_arcs: IntArray,
        value: FloatArray,
        chance: FloatArray,
        length: int,
        gain: FloatArray,
        ahead: list[FloatArray],
        vertex_duals: FloatArray,
        cut: float,
    ) -> tuple[IntArray, IntArray, FloatArray, FloatArray]:
        """The chains of ``length`` donations (``path``: vertices, altruist first, and
        their arcs, value and chance) extended by one donation each way that can still
        reach ``cut`` and repeats no pair."""
        last = path[:, -1]
        row, arc = spread_ranges(self.indptr[last], self.indptr[last + 1] - self.indptr[last])
        w = self.dst[arc]
        if self.success is None:
            new_value = value[row] + gain[arc]
            new_chance = chance[row]
        else:
            new_value = value[row] + chance[row] * self._step[arc] - vertex_duals[w]
            new_chance = chance[row] * self.success[arc]
        remaining = self.max_chain - length - 1
        ok = new_value + new_chance * ahead[remaining][w] >= cut
        for j in range(1, path.shape[1]):  # column 0 is the altruist
            ok &= w != path[row, j]
        row, arc, w = row[ok], arc[ok], w[ok]
        return (
            np.column_stack([path[row], w]),
            np.column_stack([path_arcs[row], arc]),
            new_value[ok],
            new_chance[ok],
        )

    def _ahead(self, gain: FloatArray) -> list[FloatArray]:
        """``F_r`` for r = 0..L-1: the best a chain ending at each pair can still add with
        at most r more donations (>= 0: it may stop), when every arc so far succeeded."""
        out = [np.zeros(self.n_vertices)]
        givers = self._givers
        starts = self.indptr[givers]
        between = self.indptr[self.n_pairs]
        for _ in range(1, self.max_chain):
            step = np.zeros(self.n_vertices)
            if len(givers):
                onward = out[-1][self.dst[:between]]
                if self.success is not None:
                    onward = onward * self.success[:between]
                candidate = gain[:between] + onward
                step[givers] = np.maximum(np.maximum.reduceat(candidate, starts), 0.0)
            out.append(step)
        return out

    def _start_bound(self, vertex_duals: FloatArray) -> float:
        """The backward programme's bound on every chain's reduced cost."""
        gain = self._gain(vertex_duals)
        first, value, chance = self._first_donations(vertex_duals, gain)
        ahead = self._ahead(gain)[self.max_chain - 1]
        return float((value + chance * ahead[self.dst[first]]).max(initial=-np.inf))


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
