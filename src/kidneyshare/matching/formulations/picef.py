"""Chains by position-indexed arc variables (the chain part of PICEF).

Variable ``y[a, k]`` says arc ``a`` is the k-th donation of some chain. An altruist's
arcs take position 1 only; a pair's arcs take positions ``max(2, d + 1) .. L`` where ``d``
is the fewest arcs from any altruist to the pair (a pair further away cannot give
earlier). Rows: each altruist gives at most once (its vertex row), each pair receives at
most once (its vertex row, shared with the cycles), and a pair gives at position k+1 only
if it received at position k (flow rows).

References
----------
Dickerson, J. P., Manlove, D. F., Plaut, B., Sandholm, T., Trimble, J. (2016).
Position-indexed formulations for kidney exchange. ACM EC '16, 25-42.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from kidneyshare.matching.graph import CompatibilityGraph

__all__ = ["PicefChains", "build_picef_chains"]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True, eq=False)
class PicefChains:
    """The chain variables and their rows, ready to append to a vertex-row master.

    ``matrix`` has ``n_vertices + n_flow_rows`` rows (vertex rows first, in vertex
    order, then one flow row per (pair, position) that needs one).
    """

    arc: IntArray
    position: IntArray
    values: FloatArray
    matrix: sp.csc_matrix
    n_flow_rows: int

    def __len__(self) -> int:
        return int(self.arc.shape[0])

    def subset(self, ids: IntArray, values: FloatArray) -> PicefChains:
        """The variables ``ids`` (renumbered in that order) with objective ``values``;
        the rows stay as they are."""
        return PicefChains(
            self.arc[ids], self.position[ids], values, self.matrix[:, ids], self.n_flow_rows
        )


def build_picef_chains(
    graph: CompatibilityGraph, max_chain: int, arc_value: FloatArray
) -> PicefChains:
    n = graph.n_vertices
    empty = np.zeros(0, dtype=np.int64)
    if max_chain < 1 or graph.n_altruists == 0:
        return PicefChains(empty, empty, np.zeros(0), sp.csc_matrix((n, 0)), 0)
    dist = graph.distances_from_altruists()
    from_altruist = graph.src >= graph.n_pairs
    arc_list: list[IntArray] = [np.flatnonzero(from_altruist)]
    pos_list: list[IntArray] = [np.ones(len(arc_list[0]), dtype=np.int64)]
    d_src = dist[graph.src]
    for k in range(2, max_chain + 1):
        ok = ~from_altruist & (d_src >= 1) & (d_src <= k - 1)
        idx = np.flatnonzero(ok)
        arc_list.append(idx)
        pos_list.append(np.full(len(idx), k, dtype=np.int64))
    arc = np.concatenate(arc_list)
    position = np.concatenate(pos_list)
    m = len(arc)
    cols = np.arange(m, dtype=np.int64)
    src, dst = graph.src[arc], graph.dst[arc]

    # Flow rows, one per (pair, position k) with a giving variable at k + 1.
    gives = position >= 2
    flow_keys = np.unique(src[gives] * (max_chain + 1) + (position[gives] - 1))
    n_flow = len(flow_keys)

    def flow_row(vertex: IntArray, k: IntArray) -> tuple[IntArray, npt.NDArray[np.bool_]]:
        key = vertex * (max_chain + 1) + k
        pos = np.searchsorted(flow_keys, key)
        pos_c = np.minimum(pos, max(n_flow - 1, 0))
        hit = (pos < n_flow) & (flow_keys[pos_c] == key) if n_flow else np.zeros(len(key), bool)
        return n + pos_c, hit

    # Receiving: +1 in the receiver's vertex row, +1 in its flow row at this position.
    recv_flow, recv_hit = flow_row(dst, position)
    # Giving at position k >= 2: -1 in the giver's flow row at k - 1.
    give_flow, give_hit = flow_row(src, position - 1)
    give_hit &= gives
    # Altruists' own vertex row: +1 for each of their position-1 arcs.
    alt = position == 1
    rows = np.concatenate([dst, recv_flow[recv_hit], give_flow[give_hit], src[alt]])
    cols_all = np.concatenate([cols, cols[recv_hit], cols[give_hit], cols[alt]])
    vals = np.concatenate(
        [
            np.ones(m),
            np.ones(int(recv_hit.sum())),
            -np.ones(int(give_hit.sum())),
            np.ones(int(alt.sum())),
        ]
    )
    matrix = sp.csc_matrix((vals, (rows, cols_all)), shape=(n + n_flow, m))
    return PicefChains(arc, position, arc_value[arc], matrix, n_flow)
