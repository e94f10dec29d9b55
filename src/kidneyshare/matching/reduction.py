"""Graph reduction: drop the arcs no feasible exchange can use, before anything is built.

An arc u -> v between pairs lies on a cycle of at most K pairs only if v reaches u in at
most K - 1 arcs; an arc lies on a chain of at most L donations only if its giver is an
altruist, or a pair some altruist reaches in at most L - 1 arcs. An arc meeting neither
test is in no cycle and no chain, so removing it changes no optimum (and no level of a
hierarchy, which only ever values exchanges). Pairs left without arcs simply stay
unmatched.

Reachability within K - 1 arcs is a boolean matrix power (BLAS, or scipy's sparse
product), cheap next to enumeration; on dense pools nearly every arc survives, on sparse
ones (highly sensitised patients, few altruists) many do not, which shrinks PICEF's
chain-arc variables and the LP. On large dense pools the power itself is the expense (a
5,000-pair Saidman pool: 58 s for the sparse square) and would remove next to nothing,
so there only the weaker test runs: an arc on a cycle joins a pair that receives from a
pair to one that gives to a pair (repeated until nothing changes).

References
----------
Anderson, R., Ashlagi, I., Gamarnik, D., Roth, A. E. (2015). Finding long chains in
kidney exchange using the traveling salesman problem. PNAS 112(3). (arc elimination by
reachability, used by most exact solvers since)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from kidneyshare.matching.graph import CompatibilityGraph

__all__ = ["Reduction", "reduce_graph"]

BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class Reduction:
    """The reduced graph and what was removed."""

    graph: CompatibilityGraph
    arcs_before: int
    arcs_removed: int


def usable_arcs(graph: CompatibilityGraph, max_cycle: int, max_chain: int) -> BoolArray:
    """Which arcs lie on some cycle of <= ``max_cycle`` pairs or chain of <= ``max_chain``
    donations (a necessary condition: distances ignore the simple-path requirement)."""
    n_pairs = graph.n_pairs
    usable = np.zeros(graph.n_arcs, dtype=bool)
    between_pairs = graph.src < n_pairs
    if max_cycle >= 2 and n_pairs:
        src, dst = graph.src[between_pairs], graph.dst[between_pairs]
        if n_pairs > _DENSE_UP_TO and not _reach_stays_sparse(len(src), n_pairs, max_cycle - 1):
            usable[np.flatnonzero(between_pairs)[_on_some_cycle(src, dst, n_pairs)]] = True
        else:
            reach = _within(src, dst, n_pairs, max_cycle - 1)
            # Arc u -> v closes a cycle of <= K pairs iff v reaches u within K - 1 arcs.
            usable[np.flatnonzero(between_pairs)[reach(dst, src)]] = True
    if max_chain >= 1 and graph.n_altruists:
        dist = graph.distances_from_altruists()
        d = dist[graph.src]
        usable |= (d >= 0) & (d + 1 <= max_chain)
    return usable


# Up to this many pairs reachability is a dense matrix product (BLAS); beyond it a
# sparse one where the reach stays sparse (_reach_stays_sparse), else only the in/out
# test of _on_some_cycle. (The sparse product on a Delorme 5,000-pair pool, 1.8 million
# arcs whose reach within 3 arcs is nearly every pair, took 96 s to remove 3 % of the
# arcs.)
_DENSE_UP_TO = 3_000
_SPARSE_POWER_UP_TO = 2_000_000


def _reach_stays_sparse(n_arcs: int, n: int, steps: int) -> bool:
    """Whether the pairs within ``steps`` arcs of each other are likely few enough for
    a sparse product: at most an eighth of all pairs, by the mean out-degree."""
    return n_arcs <= _SPARSE_POWER_UP_TO and (n_arcs / max(n, 1)) ** steps <= n / 8


def _on_some_cycle(src: npt.NDArray[np.int64], dst: npt.NDArray[np.int64], n: int) -> BoolArray:
    """Arcs whose giver receives from, and whose receiver gives to, a pair by an arc
    that also passes the test (a necessary condition for lying on a cycle)."""
    alive = np.ones(len(src), dtype=bool)
    while True:
        receives = np.bincount(dst[alive], minlength=n) > 0
        gives = np.bincount(src[alive], minlength=n) > 0
        still = alive & receives[src] & gives[dst]
        if still.sum() == alive.sum():
            return still
        alive = still


def _within(
    src: npt.NDArray[np.int64], dst: npt.NDArray[np.int64], n: int, steps: int
) -> Callable[[npt.NDArray[np.int64], npt.NDArray[np.int64]], BoolArray]:
    """A lookup ``(a, b) -> whether b is within 1..steps arcs of a``."""
    if n <= _DENSE_UP_TO:
        step = np.zeros((n, n), dtype=np.float32)
        step[src, dst] = 1.0
        reach, power = step.copy(), step
        for _ in range(steps - 1):
            power = np.minimum(power @ step, 1.0)
            reach = np.maximum(reach, power)
        dense = reach > 0
        return lambda a, b: dense[a, b]
    sparse_step = sp.csr_matrix((np.ones(len(src), dtype=bool), (src, dst)), shape=(n, n))
    sparse_reach, sparse_power = sparse_step.copy(), sparse_step
    for _ in range(steps - 1):
        sparse_power = (sparse_power @ sparse_step).astype(bool)
        sparse_reach = (sparse_reach + sparse_power).astype(bool)
    found = sparse_reach.tocoo()
    keys = np.unique(found.row.astype(np.int64) * n + found.col)

    def lookup(a: npt.NDArray[np.int64], b: npt.NDArray[np.int64]) -> BoolArray:
        wanted = a * n + b
        if not len(keys):
            return np.zeros(len(wanted), dtype=bool)
        pos = np.minimum(np.searchsorted(keys, wanted), len(keys) - 1)
        return keys[pos] == wanted  # type: ignore[no-any-return]

    return lookup


def reduce_graph(graph: CompatibilityGraph, max_cycle: int, max_chain: int) -> Reduction:
    """The graph without the arcs :func:`usable_arcs` rules out (vertex numbers kept)."""
    keep = usable_arcs(graph, max_cycle, max_chain)
    if keep.all():
        return Reduction(graph, graph.n_arcs, 0)
    src = graph.src[keep]
    indptr = np.zeros(graph.n_vertices + 1, dtype=np.int64)
    indptr[1:] = np.bincount(src, minlength=graph.n_vertices)
    reduced = CompatibilityGraph(
        ids=graph.ids,
        n_pairs=graph.n_pairs,
        src=src,
        dst=graph.dst[keep],
        weight=graph.weight[keep],
        probability=graph.probability[keep],
        donor=tuple(np.asarray(graph.donor, dtype=object)[keep].tolist()),
        indptr=np.cumsum(indptr),
    )
    return Reduction(reduced, graph.n_arcs, int((~keep).sum()))
