"""Cycles of two to four pairs priced on pools too large for dense matrices.

The dense pricer (:mod:`~kidneyshare.matching.pricing`) multiplies ``n x n`` matrices:
at 10,000 pairs each pricing round would cost about 10^12 operations per product. With
one value ``c`` on every arc (max-transplants) a cycle's reduced cost depends on its
vertices' duals only (``k c`` minus their sum), and the three-cycles are found with
bit sets instead:

- number the pairs by increasing dual and hold, for every pair, the set of pairs it can
  give to (``out``) and the set that can give to it (``in``) as rows of 64-bit words;
- for an arc ``u -> v`` the best third pair ``w`` (``v -> w -> u``) is the lowest set bit
  of ``out[v] & in[u]``: the pair of smallest dual among the common neighbours, exact.

Four-cycles ``a -> b -> d -> e -> a`` are found from their opposite pairs: with ``a``
the cycle's pair of smallest rank, the best ``b`` is the lowest bit of ``out[a] & in[d]``
and the best ``e`` that of ``out[d] & in[a]`` (both above ``a``'s rank), for every ``d``
whose dual leaves room for a positive cycle. The best walk may use one pair twice
(``b == e``); such a walk is two two-cycles, whose reduced costs add up to its own, so
when no two-cycle is positive the best walk through a pair of opposite pairs is a
cycle: the search is exact without a second-best bit.

Each pricing round first tries, for every pair ``u``, its few out-neighbours of smallest
dual for three-cycles (cheap, and usually enough for column generation to progress);
only when they give no positive cycle is every arc tried and every four-cycle searched,
which is exact: it finds a positive cycle whenever one exists and bounds every cycle's
reduced cost. Two-cycles are always priced exactly (each arc with its reverse).

References
----------
Abraham, D. J., Blum, A., Sandholm, T. (2007). Clearing algorithms for barter exchange
markets. ACM EC '07. (column generation over cycles; pricing by search)
Lam, E., Mak-Hau, V. (2020). Branch-and-cut-and-price for the cardinality-constrained
multi-cycle problem in kidney exchange. Computers & OR 115. (heuristic pricing first,
exact pricing only to prove the LP optimal)
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import numpy.typing as npt

from kidneyshare.errors import FormulationTooLarge
from kidneyshare.matching.enumeration import ExchangeBlock
from kidneyshare.matching.graph import CompatibilityGraph
from kidneyshare.matching.pricing import (
    SPREAD_PER_VERTEX,
    check_deadline,
    cycle_blocks,
    spread_best,
    stack_padded,
)

__all__ = ["SparseCyclePricer"]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
Words = npt.NDArray[np.uint64]

# Cycles of at most this many pairs are priced.
MAX_CYCLE = 4
# Out-neighbours of smallest dual tried per pair in the quick round.
_QUICK_NEIGHBOURS = 24
# Arcs whose bit sets are intersected at once (memory: rows x words x 8 bytes x 3).
_CHUNK = 20_000
# _ABOVE[s]: the bits of a word above bit s (ranks above a pair's own in its word).
_ABOVE = np.array(
    [~np.uint64(0) << np.uint64(s + 1) if s < 63 else np.uint64(0) for s in range(64)],
    dtype=np.uint64,
)
# Slack on dual sums compared with a threshold (floating point).
_EPS = 1e-9


class SparseCyclePricer:
    """Prices the cycles of 2..``max_cycle`` (at most 4) pairs of ``graph`` when every
    arc between pairs has the same value (``arc_value``, graph-indexed)."""

    def __init__(self, graph: CompatibilityGraph, max_cycle: int, arc_value: FloatArray) -> None:
        if not 0 <= max_cycle <= MAX_CYCLE:
            raise ValueError(
                f"max_cycle: the sparse pricer prices cycles of at most {MAX_CYCLE} pairs"
            )
        n = graph.n_pairs
        between = np.flatnonzero(graph.src < n)
        values = arc_value[between]
        if len(values) and not np.all(values == values[0]):
            raise ValueError("arc_value: the sparse pricer needs one value on every arc")
        self.graph = graph
        self.max_cycle = max_cycle
        self.all_arc_values = arc_value
        self.success: FloatArray | None = None
        self.n = n
        self.value = float(values[0]) if len(values) else 1.0
        self.src = graph.src[between]
        self.dst = graph.dst[between]
        # Each two-cycle once, from the arc whose giver has the smaller number; the
        # reverse arcs are looked up in a dense boolean matrix (28 million arcs: a
        # search for each in the sorted arc list is ten times slower).
        adjacency = np.zeros((n, n), dtype=bool)
        adjacency[self.src, self.dst] = True
        two = (self.src < self.dst) & adjacency[self.dst, self.src]
        del adjacency
        self.two_vertices = np.column_stack([self.src[two], self.dst[two]])
        self._words = max(1, (n + 63) // 64)

    # -- bit sets in dual order --------------------------------------------------------

    def _bit_sets(self, vertex_duals: FloatArray) -> tuple[IntArray, Words, Words]:
        """The pair of each rank (by dual, then number) and the ``out`` and ``in`` bit
        sets over ranks."""
        n = self.n
        by_dual = np.lexsort((np.arange(n), vertex_duals[:n]))
        rank = np.empty(n, dtype=np.int64)
        rank[by_dual] = np.arange(n)
        out_bits = self._pack(self.src, rank[self.dst])
        in_bits = self._pack(self.dst, rank[self.src])
        return by_dual, out_bits, in_bits

    def _pack(self, rows: IntArray, bits: IntArray) -> Words:
        dense = np.zeros((self.n, self._words * 64), dtype=bool)
        dense[rows, bits] = True
        packed = np.packbits(dense, axis=1, bitorder="little")
        return packed.view(np.uint64)

    @staticmethod
    def _lowest_bit(rows: Words) -> IntArray:
        """Index of the lowest set bit of each row (``-1`` for an empty row)."""
        nonzero = rows != 0
        word = np.argmax(nonzero, axis=1)
        picked = rows[np.arange(len(rows)), word]
        low = picked & (~picked + np.uint64(1))
        bit = np.log2(np.maximum(low, np.uint64(1)).astype(np.float64)).astype(np.int64)
        out: IntArray = word.astype(np.int64) * 64 + bit
        out[~nonzero.any(axis=1)] = -1
        return out

    def _quick_arcs(self, out_bits: Words, by_dual: IntArray) -> tuple[IntArray, IntArray]:
        """For every pair, the arcs to its ``_QUICK_NEIGHBOURS`` out-neighbours of
        smallest dual: (giver, receiver)."""
        rows = out_bits.copy()
        givers, receivers = [], []
        everyone = np.arange(self.n, dtype=np.int64)
        for _ in range(_QUICK_NEIGHBOURS):
            low = self._lowest_bit(rows)
            has = low >= 0
            if not has.any():
                break
            givers.append(everyone[has])
            receivers.append(by_dual[low[has]])
            word, bit = low[has] // 64, (low[has] % 64).astype(np.uint64)
            rows[everyone[has], word] &= ~(np.uint64(1) << bit)
        if not givers:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        return np.concatenate(givers), np.concatenate(receivers)

    def _third(self, u: IntArray, v: IntArray, out_bits: Words, in_bits: Words) -> IntArray:
        """Rank of the best ``w`` closing ``u -> v -> w -> u`` (``-1`` when none)."""
        best = np.empty(len(u), dtype=np.int64)
        for lo in range(0, len(u), _CHUNK):
            hi = min(len(u), lo + _CHUNK)
            best[lo:hi] = self._lowest_bit(out_bits[v[lo:hi]] & in_bits[u[lo:hi]])
        return best

    # -- pricing for the LP ------------------------------------------------------------

    def positive_cycles(
        self, vertex_duals: FloatArray, *, tolerance: float, limit: int
    ) -> tuple[list[ExchangeBlock], float]:
        """Up to ``limit`` distinct cycles of reduced cost above ``tolerance`` (best
        first), and an upper bound on every cycle's reduced cost (``inf`` when only the
        quick round ran)."""
        if self.max_cycle < 2 or self.n < 2:
            return [], -np.inf
        duals = vertex_duals[: self.n]
        two_rc = 2 * self.value - duals[self.two_vertices].sum(axis=1)
        best = float(two_rc.max(initial=-np.inf))
        keep = two_rc > tolerance
        found = [(two_rc[keep], self.two_vertices[keep])]
        if self.max_cycle >= 3:
            by_dual, out_bits, in_bits = self._bit_sets(duals)
            u, v = self._quick_arcs(out_bits, by_dual)
            three_rc, three, _ = self._three(u, v, out_bits, in_bits, by_dual, duals, tolerance)
            if len(three):
                best = np.inf  # not every arc was tried
            else:
                # The quick round found nothing: try every arc (exact), and every
                # four-cycle.
                three_rc, three, best_three = self._three(
                    self.src, self.dst, out_bits, in_bits, by_dual, duals, tolerance
                )
                best = max(best, best_three)
                if self.max_cycle >= 4:
                    four_rc, four, best_four = self._four(
                        by_dual, out_bits, in_bits, duals, tolerance
                    )
                    found.append((four_rc, four))
                    best = max(best, best_four)
            found.append((three_rc, three))
        return self._best_blocks(found, limit), best

    def _best_blocks(
        self, found: list[tuple[FloatArray, IntArray]], limit: int
    ) -> list[ExchangeBlock]:
        """Up to ``limit`` cycles of greatest reduced cost, spread over the pool
        (:func:`~kidneyshare.matching.pricing.spread_best`), as blocks."""
        rc = np.concatenate([r for r, _ in found])
        padded = stack_padded([cycles for _, cycles in found], self.max_cycle)
        chosen = spread_best(rc, padded, limit, SPREAD_PER_VERTEX)
        return self._blocks([row[row >= 0] for row in padded[chosen]])

    def _three(
        self,
        u: IntArray,
        v: IntArray,
        out_bits: Words,
        in_bits: Words,
        by_dual: IntArray,
        duals: FloatArray,
        tolerance: float,
    ) -> tuple[FloatArray, IntArray, float]:
        """The best three-cycle through each arc ``u -> v``, kept when its reduced cost
        is above ``tolerance``, each cycle once (from its smallest pair): reduced costs,
        cycles, and the best reduced cost of all."""
        w_rank = self._third(u, v, out_bits, in_bits)
        ok = w_rank >= 0
        u, v, w = u[ok], v[ok], by_dual[w_rank[ok]]
        rc = 3 * self.value - duals[u] - duals[v] - duals[w]
        best = float(rc.max(initial=-np.inf))
        keep = rc > tolerance
        cycles = np.column_stack([u[keep], v[keep], w[keep]])
        turn = np.argmin(cycles, axis=1)
        rows = np.arange(len(cycles))
        canonical = np.column_stack(
            [cycles[rows, turn], cycles[rows, (turn + 1) % 3], cycles[rows, (turn + 2) % 3]]
        )
        canonical, first = np.unique(canonical.reshape(-1, 3), axis=0, return_index=True)
        return rc[keep][first], canonical, best

    def _opposite_pairs(
        self, by_dual: IntArray, out_bits: Words, in_bits: Words, duals: FloatArray, least: float
    ) -> Iterator[tuple[int, IntArray, IntArray, IntArray, Words, Words]]:
        """For each rank ``r`` that can be the smallest of a four-cycle ``r -> b -> d ->
        e -> r`` of reduced cost >= ``least`` (ranks by dual): the ranks ``d`` that may
        close one, and for each the best ``b`` and ``e`` (``-1`` when none) with the
        candidate sets ``out[r] & in[d]`` and ``out[d] & in[r]`` (bits from ``r``'s word
        on). Pairs ``d`` whose walk cannot reach ``least`` are left out, pruned by the
        smallest duals around ``r`` and ``d``."""
        n, c = self.n, self.value
        sd = duals[by_dual]
        out_r, in_r = out_bits[by_dual], in_bits[by_dual]
        low_out, low_in = self._lowest_bit(out_r), self._lowest_bit(in_r)
        min_out = np.where(low_out >= 0, sd[low_out], np.inf)
        min_in = np.where(low_in >= 0, sd[low_in], np.inf)
        # Every pair of the cycle has a dual >= sd[r]: 4c - 4 sd[r] must reach least.
        last = int(np.searchsorted(sd, c - least / 4 + _EPS, side="right"))
        for r in range(min(last, n)):
            word = r // 64
            out_a = out_r[r, word:].copy()
            in_a = in_r[r, word:].copy()
            out_a[0] &= _ABOVE[r % 64]
            in_a[0] &= _ABOVE[r % 64]
            b0, e0 = self._lowest_bit(np.vstack([out_a, in_a]))
            if b0 < 0 or e0 < 0:
                continue
            least_b, least_e = sd[b0 + word * 64], sd[e0 + word * 64]
            room = 4 * c - sd[r] - least_b - least_e - least + _EPS
            d = np.arange(r + 1, int(np.searchsorted(sd, room, side="right")))
            if not len(d):
                continue
            reach = (
                4 * c
                - sd[r]
                - sd[d]
                - np.maximum(least_b, min_in[d])
                - np.maximum(least_e, min_out[d])
            )
            d = d[reach >= least - _EPS]
            if not len(d):
                continue
            into_d = in_r[d, word:] & out_a
            from_d = out_r[d, word:] & in_a
            b = self._lowest_bit(into_d)
            e = self._lowest_bit(from_d)
            ok = (b >= 0) & (e >= 0)
            if ok.any():
                shift = word * 64
                yield r, d[ok], b[ok] + shift, e[ok] + shift, into_d[ok], from_d[ok]

    def _four(
        self,
        by_dual: IntArray,
        out_bits: Words,
        in_bits: Words,
        duals: FloatArray,
        tolerance: float,
    ) -> tuple[FloatArray, IntArray, float]:
        """The best four-cycle for each pair of opposite pairs, kept when its reduced
        cost is above ``tolerance``: reduced costs, cycles (pair numbers in donation
        order), and a bound on every four-cycle's reduced cost (when no two-cycle is
        positive, see the module's note)."""
        sd = duals[by_dual]
        c = self.value
        rcs, cycles = [], []
        best = tolerance  # what the pruning left out is below it
        for r, d, b, e, _, _ in self._opposite_pairs(by_dual, out_bits, in_bits, duals, tolerance):
            rc = 4 * c - sd[r] - sd[d] - sd[b] - sd[e]
            best = max(best, float(rc.max()))
            keep = (rc > tolerance) & (b != e)
            if keep.any():
                rcs.append(rc[keep])
                cycles.append(
                    np.column_stack([np.full(int(keep.sum()), r), b[keep], d[keep], e[keep]])
                )
        if not cycles:
            return np.zeros(0), np.zeros((0, 4), dtype=np.int64), best
        return np.concatenate(rcs), by_dual[np.vstack(cycles)], best

    def _four_at_least(
        self,
        by_dual: IntArray,
        out_bits: Words,
        in_bits: Words,
        duals: FloatArray,
        floor: float,
        limit: int,
        deadline: float | None,
    ) -> list[IntArray]:
        """Every four-cycle of reduced cost >= ``floor`` (pair numbers in donation
        order), from the candidate sets of each pair of opposite pairs."""
        sd = duals[by_dual]
        c = self.value
        found: list[IntArray] = []
        count = 0
        for r, d, b, e, into_d, from_d in self._opposite_pairs(
            by_dual, out_bits, in_bits, duals, floor
        ):
            check_deadline(deadline, "four-cycles")
            room = 4 * c - sd[r] - sd[d] - floor + _EPS  # for sd[b] + sd[e]
            reach = sd[b] + sd[e] <= room
            shift = (r // 64) * 64
            for row in np.flatnonzero(reach):
                bs = self._ranks(into_d[row], shift)
                es = self._ranks(from_d[row], shift)
                bs, es = bs[sd[bs] <= room[row] - sd[es[0]]], es[sd[es] <= room[row] - sd[bs[0]]]
                pair_b, pair_e = np.nonzero(
                    (sd[bs][:, None] + sd[es][None, :] <= room[row]) & (bs[:, None] != es[None, :])
                )
                if len(pair_b):
                    block = np.column_stack(
                        [
                            np.full(len(pair_b), r),
                            bs[pair_b],
                            np.full(len(pair_b), d[row]),
                            es[pair_e],
                        ]
                    )
                    found.append(by_dual[block])
                    count += len(block)
            if count > limit:
                raise FormulationTooLarge(
                    f"more than {limit:,} cycles within {-floor:g} of the LP bound"
                )
        return found

    def _ranks(self, row: Words, shift: int) -> IntArray:
        """The set bits of one bit-set row (from word ``shift // 64`` on), as ranks."""
        bits = np.unpackbits(row.view(np.uint8), bitorder="little")
        ranks: IntArray = np.flatnonzero(bits).astype(np.int64) + shift
        return ranks[ranks < self.n]

    def _blocks(self, cycles: list[IntArray]) -> list[ExchangeBlock]:
        """Cycles (vertex lists) with their arcs, one arc lookup per length."""
        items: list[tuple[IntArray, IntArray]] = []
        for length in sorted({len(c) for c in cycles}):
            verts = np.asarray([c for c in cycles if len(c) == length], dtype=np.int64)
            arcs = self.graph.find_arcs(verts.ravel(), np.roll(verts, -1, axis=1).ravel())
            items += zip(verts, arcs.reshape(-1, length), strict=True)
        return cycle_blocks(items)

    # -- every cycle above a threshold -------------------------------------------------

    def cycles_at_least(
        self, vertex_duals: FloatArray, floor: float, *, limit: int, deadline: float | None = None
    ) -> list[ExchangeBlock]:
        """Every cycle whose reduced cost is at least ``floor``.

        Two-cycles are listed from the arcs; three-cycles from every arc ``u -> v``
        whose best third pair reaches ``floor``, by unpacking its common neighbours
        (only those of dual low enough); four-cycles likewise from every pair of
        opposite pairs whose best walk reaches ``floor``.

        Raises
        ------
        FormulationTooLarge
            more than ``limit`` such cycles.
        ListingOutOfTime
            ``deadline`` passed (checked between chunks of arcs and of opposite pairs).
        """
        if self.max_cycle < 2 or self.n < 2:
            return []
        duals = vertex_duals[: self.n]
        c = self.value
        two_rc = 2 * c - duals[self.two_vertices].sum(axis=1)
        found: list[IntArray] = list(self.two_vertices[two_rc >= floor - 1e-9])
        if self.max_cycle >= 3:
            by_dual, out_bits, in_bits = self._bit_sets(duals)
            w_rank = self._third(self.src, self.dst, out_bits, in_bits)
            ok = np.flatnonzero(w_rank >= 0)
            u, v = self.src[ok], self.dst[ok]
            room = 3 * c - duals[u] - duals[v] - floor + 1e-9  # w's dual must be <= room
            reach = room >= duals[by_dual[w_rank[ok]]]
            u, v, room = u[reach], v[reach], room[reach]
            sorted_duals = duals[by_dual]
            cycles: dict[tuple[int, ...], None] = {}
            for lo in range(0, len(u), _CHUNK):
                check_deadline(deadline, "three-cycles")
                hi = min(len(u), lo + _CHUNK)
                common = out_bits[v[lo:hi]] & in_bits[u[lo:hi]]
                bits = np.unpackbits(common.view(np.uint8), axis=1, bitorder="little")
                row, w_rank_all = np.nonzero(bits[:, : self.n])
                good = sorted_duals[w_rank_all] <= room[lo:hi][row]
                for a, b, w in zip(
                    u[lo:hi][row[good]].tolist(),
                    v[lo:hi][row[good]].tolist(),
                    by_dual[w_rank_all[good]].tolist(),
                    strict=True,
                ):
                    i = min(range(3), key=(a, b, w).__getitem__)
                    cycles[(a, b, w)[i:] + (a, b, w)[:i]] = None
                if len(cycles) + len(found) > limit:
                    raise FormulationTooLarge(
                        f"more than {limit:,} cycles within {-floor:g} of the LP bound"
                    )
            found += [np.asarray(cyc, dtype=np.int64) for cyc in cycles]
            if self.max_cycle >= 4:
                fours = self._four_at_least(
                    by_dual, out_bits, in_bits, duals, floor, limit - len(found), deadline
                )
                found += [row for block in fours for row in block]
        if len(found) > limit:
            raise FormulationTooLarge(
                f"more than {limit:,} cycles within {-floor:g} of the LP bound"
            )
        return self._blocks(found)
