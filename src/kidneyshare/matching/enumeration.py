"""Vectorised enumeration of cycles and chains of a :class:`CompatibilityGraph`.

Paths are grown one arc at a time for a whole block of start vertices at once with
numpy (repeat each path by the out-degree of its last vertex, append the neighbours,
drop repeats), which keeps Python out of the inner loop: dense Saidman pools have
millions of three-cycles.

Each cycle is listed once, from its smallest vertex number; each chain from its
altruist. Results are :class:`ExchangeBlock` arrays: ``vertices[i]`` the vertex numbers of
exchange ``i`` in donation order and ``arcs[i]`` the arc indices used.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from kidneyshare.errors import FormulationTooLarge
from kidneyshare.matching.graph import CompatibilityGraph, spread_ranges

__all__ = [
    "ExchangeBlock",
    "count_cycles",
    "enumerate_chains",
    "enumerate_cycles",
    "estimate_three_cycles",
]

IntArray = npt.NDArray[np.int64]

# Rows of paths grown at once; bounds memory to a few hundred MB on dense pools.
_BLOCK_ROWS = 4_000_000


@dataclass(frozen=True, slots=True, eq=False)
class ExchangeBlock:
    """Exchanges of one kind and one length.

    ``vertices`` has shape (m, k) for cycles of length k and (m, l + 1) for chains of
    length l (altruist first); ``arcs`` has shape (m, k) or (m, l).
    """

    is_cycle: bool
    vertices: IntArray
    arcs: IntArray

    def __len__(self) -> int:
        return int(self.vertices.shape[0])

    @property
    def length(self) -> int:
        """Transplants in each exchange of the block."""
        return int(self.arcs.shape[1])


def _extend(
    graph: CompatibilityGraph,
    paths: IntArray,
    path_arcs: IntArray,
    *,
    above_first: bool,
    max_rows: int | None = None,
) -> tuple[IntArray, IntArray]:
    """Every one-arc extension of ``paths`` to a pair vertex not already on the path.

    With ``above_first`` the new vertex must exceed the path's first vertex (cycles are
    listed from their smallest vertex). Raises :class:`FormulationTooLarge` before
    allocating more than ``max_rows`` candidate rows.
    """
    last = paths[:, -1]
    start = graph.indptr[last]
    degree = graph.indptr[last + 1] - start
    total = int(degree.sum())
    if max_rows is not None and total > max_rows:
        raise FormulationTooLarge(f"more than {max_rows:,} candidate paths to extend")
    if total == 0:
        return paths[:0, :0].reshape(0, paths.shape[1] + 1), path_arcs[:0].reshape(
            0, path_arcs.shape[1] + 1
        )
    row, arc = spread_ranges(start, degree)
    nxt = graph.dst[arc]
    keep = np.ones(total, dtype=bool)
    if above_first:
        keep &= nxt > paths[row, 0]
    for j in range(paths.shape[1]):
        keep &= nxt != paths[row, j]
    row, nxt, arc = row[keep], nxt[keep], arc[keep]
    return (
        np.column_stack([paths[row], nxt]),
        np.column_stack([path_arcs[row], arc]),
    )


def _start_blocks(graph: CompatibilityGraph, starts: IntArray, depth: int) -> Iterator[IntArray]:
    """Split start vertices into groups whose path count stays near ``_BLOCK_ROWS``."""
    degree = (graph.indptr[starts + 1] - graph.indptr[starts]).astype(np.float64)
    mean_degree = max(graph.n_arcs / max(graph.n_vertices, 1), 1.0)
    estimate = degree * mean_degree ** max(depth - 1, 0)
    group: list[int] = []
    size = 0.0
    for v, e in zip(starts.tolist(), estimate.tolist(), strict=True):
        if group and size + e > _BLOCK_ROWS:
            yield np.asarray(group, dtype=np.int64)
            group, size = [], 0.0
        group.append(v)
        size += e
    if group:
        yield np.asarray(group, dtype=np.int64)


def _first_arcs(
    graph: CompatibilityGraph, starts: IntArray, *, above_first: bool
) -> tuple[IntArray, IntArray]:
    no_arcs = np.zeros((len(starts), 0), dtype=np.int64)
    return _extend(graph, starts.reshape(-1, 1), no_arcs, above_first=above_first)


def _concat(blocks: list[IntArray], width: int) -> IntArray:
    if not blocks:
        return np.zeros((0, width), dtype=np.int64)
    return np.concatenate(blocks, axis=0)


def enumerate_cycles(
    graph: CompatibilityGraph, max_cycle: int, *, limit: int | None = None
) -> list[ExchangeBlock]:
    """All simple cycles of 2..``max_cycle`` pairs, one block per length.

    Raises
    ------
    FormulationTooLarge
        when more than ``limit`` cycles exist.
    """
    if max_cycle < 2 or graph.n_pairs < 2:
        return []
    if limit is not None:
        expected = count_cycles(graph, max_cycle)
        if expected is not None and expected > limit:
            raise FormulationTooLarge(
                f"{expected:,} cycles of length <= {max_cycle}, more than the {limit:,} "
                "enumerated at most"
            )
        if expected is None and min(max_cycle, 3) >= 3:
            guess = estimate_three_cycles(graph)
            # Only a clear excess is refused on an estimate (its error is a few %).
            if guess > 2 * limit:
                raise FormulationTooLarge(
                    f"about {guess:,.0f} cycles of length 3 alone (estimated from "
                    f"{_SAMPLE_ROWS} pairs), more than the {limit:,} enumerated at most"
                )
    found: dict[int, list[IntArray]] = {k: [] for k in range(2, max_cycle + 1)}
    found_arcs: dict[int, list[IntArray]] = {k: [] for k in range(2, max_cycle + 1)}
    count = 0
    pairs = np.arange(graph.n_pairs, dtype=np.int64)
    for block in _start_blocks(graph, pairs, max_cycle - 1):
        paths, arcs = _first_arcs(graph, block, above_first=True)
        for k in range(2, max_cycle + 1):
            if len(paths) == 0:
                break
            closed, back = graph.every_arc(paths[:, -1], paths[:, 0])
            if len(closed):
                found[k].append(paths[closed])
                found_arcs[k].append(np.column_stack([arcs[closed], back]))
                count += len(closed)
                if limit is not None and count > limit:
                    raise FormulationTooLarge(
                        f"more than {limit:,} cycles of length <= {max_cycle}"
                    )
            if k < max_cycle:
                paths, arcs = _extend(graph, paths, arcs, above_first=True)
    return [
        ExchangeBlock(True, _concat(found[k], k), _concat(found_arcs[k], k))
        for k in range(2, max_cycle + 1)
    ]


# Cycles are counted ahead of enumeration up to this many pairs (one dense product).
_COUNT_UP_TO = 4_000


def count_cycles(graph: CompatibilityGraph, max_cycle: int) -> int | None:
    """The exact number of simple cycles of 2..``max_cycle`` pairs, for ``max_cycle <= 4``
    and at most 4,000 pairs (else ``None``), from traces of powers of the adjacency
    matrix A (no self-loops):

    - 2-cycles: tr(A^2) / 2 and 3-cycles: tr(A^3) / 3 (a closed walk of 2 or 3 steps is
      a simple cycle);
    - 4-cycles: (tr(A^4) - sum_u (2 c_u^2 - c_u)) / 4, where c_u is the number of 2-cycles
      through u: the closed 4-walks that are not simple are u-v-u-w-u (c_u^2 from each
      u) and u-v-w-v-u with w != u (c_v (c_v - 1) through each middle vertex v).

    One n x n product, so a pool whose cycles would overflow the enumeration cap is
    refused in a second instead of after minutes of enumeration.
    """
    n = graph.n_pairs
    if max_cycle > 4 or n > _COUNT_UP_TO:
        return None
    between = graph.src < n
    a = np.zeros((n, n), dtype=np.float32)
    a[graph.src[between], graph.dst[between]] = 1.0
    a2 = (a @ a).astype(np.float64)  # walk counts < 2^24: exact in float32
    two = float(np.trace(a2)) / 2
    total = two
    if max_cycle >= 3:
        total += float((a2 * a.T).sum()) / 3
    if max_cycle >= 4:
        c = np.diag(a2)
        total += (float((a2 * a2.T).sum()) - float((2 * c * c - c).sum())) / 4
    return round(total)


_SAMPLE_ROWS = 256


def estimate_three_cycles(graph: CompatibilityGraph) -> float:
    """The number of 3-cycles estimated from the 3-cycles through a fixed sample of
    pairs (evenly spaced, so the same pool gives the same estimate): each 3-cycle
    passes through 3 pairs, so the count is ``n / s * (cycles through the sample) / 3``.
    One ``s x n x n`` product: a second or two on 10,000 pairs."""
    n = graph.n_pairs
    if n < 3:
        return 0.0
    between = graph.src < n
    a = sp.csr_matrix(
        (np.ones(int(between.sum()), dtype=np.float32), (graph.src[between], graph.dst[between])),
        shape=(n, n),
    )
    rows = np.unique(np.linspace(0, n - 1, min(_SAMPLE_ROWS, n)).astype(np.int64))
    two_steps = a[rows] @ a  # walks u -> v -> w from each sampled u
    closing = a[:, rows].T  # arcs w -> u back to each sampled u
    through = float(two_steps.multiply(closing).sum())
    return n / len(rows) * through / 3


def enumerate_chains(
    graph: CompatibilityGraph, max_chain: int, *, limit: int | None = None
) -> list[ExchangeBlock]:
    """All chains of 1..``max_chain`` donations from each altruist, one block per length.

    Raises
    ------
    FormulationTooLarge
        when more than ``limit`` chains exist.
    """
    if max_chain < 1 or graph.n_altruists == 0:
        return []
    altruists = np.arange(graph.n_pairs, graph.n_vertices, dtype=np.int64)
    paths, arcs = _first_arcs(graph, altruists, above_first=False)
    blocks: list[ExchangeBlock] = []
    count = 0
    for length in range(1, max_chain + 1):
        if len(paths) == 0:
            break
        count += len(paths)
        if limit is not None and count > limit:
            raise FormulationTooLarge(f"more than {limit:,} chains of length <= {max_chain}")
        blocks.append(ExchangeBlock(False, paths, arcs))
        if length < max_chain:
            room = None if limit is None else 2 * limit
            paths, arcs = _extend(graph, paths, arcs, above_first=False, max_rows=room)
    return blocks
