"""Upper bounds on a plan's value that need no cycles or chains.

The **assignment bound**: every plan is a set of donations in which each vertex gives at
most once and each pair receives at most once, which is a matching between givers and
receivers in the bipartite graph of the arcs. Dropping the length limits (and the rule
that a pair gives only if it receives) leaves a maximum-weight bipartite matching, solved
exactly in milliseconds; its value bounds every plan's, and the LP relaxation of the
cycle formulation and of PICEF too (their solutions map onto fractional matchings of the
same value, and the bipartite matching polytope is integral). On dense pools it is often
the optimum itself: then a plan that meets it needs no further proof.

References
----------
Roth, A. E., Sönmez, T., Ünver, M. U. (2005). Pairwise kidney exchange. Journal of
Economic Theory 125(2). (unbounded exchanges as an assignment problem)
Abraham, D. J., Blum, A., Sandholm, T. (2007). Clearing algorithms for barter exchange
markets. ACM EC '07. (the bound from unbounded cycles)
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.sparse.csgraph import maximum_bipartite_matching, min_weight_full_bipartite_matching

from kidneyshare.matching.graph import CompatibilityGraph

__all__ = ["assignment_arcs", "assignment_bound"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

# Cost of "gives to nobody" and "ends a chain": tiny and positive (scipy drops explicit
# zeros), far below any arc's value.
_IDLE = 1e-9


def assignment_bound(graph: CompatibilityGraph, arc_value: FloatArray) -> float:
    """The largest total ``arc_value`` of a set of arcs in which each vertex gives at
    most once and each pair receives at most once (arcs of value <= 0 never help).

    Examples
    --------
    A pool of two pairs that can swap has bound 2 with unit values.
    """
    return float(arc_value[assignment_arcs(graph, arc_value)].sum())


def assignment_arcs(graph: CompatibilityGraph, arc_value: FloatArray) -> IntArray:
    """The arcs (graph arc numbers, ascending) of a set reaching
    :func:`assignment_bound`: a maximum-weight bipartite matching of givers (every
    vertex) to receivers (every pair), with one "nobody" column per vertex so that a
    full matching always exists. Its cycles and chains are unbounded in length, so it
    is a plan only where they happen to be short: a good start for the LP."""
    n, pairs = graph.n_vertices, graph.n_pairs
    useful = arc_value > 0
    src, dst, value = graph.src[useful], graph.dst[useful], arc_value[useful]
    if len(value) and np.all(value == value[0]):
        # One value on every arc: a maximum-cardinality matching (Hopcroft-Karp) is a
        # maximum-weight one, and on 28 million arcs 25 times faster.
        matrix = sp.csr_matrix((np.ones(len(src), dtype=np.int8), (src, dst)), shape=(n, pairs))
        receiver = maximum_bipartite_matching(matrix, perm_type="column")
        giver = np.flatnonzero(receiver >= 0)
        return np.sort(graph.find_arcs(giver.astype(np.int64), receiver[giver].astype(np.int64)))
    rows = np.concatenate([src, np.arange(n)])
    cols = np.concatenate([dst, pairs + np.arange(n)])
    cost = np.concatenate([-value, np.full(n, _IDLE)])
    matrix = sp.csr_matrix((cost, (rows, cols)), shape=(n, pairs + n))
    giver, receiver = min_weight_full_bipartite_matching(matrix)
    donated = receiver < pairs
    chosen = graph.find_arcs(giver[donated].astype(np.int64), receiver[donated].astype(np.int64))
    return np.sort(chosen)
