"""Enumerated exchanges as columns of a set-packing model (the cycle formulation).

Each column is one cycle or chain; its coefficient is 1 in the row of every vertex it
uses (each vertex at most once) and its objective the sum of its arcs' values, or, with
arc success probabilities, its expected value (:func:`exchange_values`).

References
----------
Roth, A. E., Sönmez, T., Ünver, M. U. (2007). Efficient kidney exchange: coincidence of
wants in markets with compatibility-based preferences. American Economic Review 97(3).
Abraham, D. J., Blum, A., Sandholm, T. (2007). Clearing algorithms for barter exchange
markets: enabling nationwide kidney exchanges. ACM EC '07.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from kidneyshare.matching.enumeration import ExchangeBlock

__all__ = ["ExchangeColumns", "exchange_values"]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


def exchange_values(
    block: ExchangeBlock, arc_value: FloatArray, success: FloatArray | None = None
) -> FloatArray:
    """The value of each exchange of ``block``: the sum of its arcs' ``arc_value``; or,
    with ``success`` probabilities, its expected value: a cycle's arcs count only if all
    of them succeed (``sum(value) * prod(p)``), and a chain's k-th donation only if the
    first k succeed (``sum_k value_k * p_1 ... p_k``, the successful prefix). With unit
    arc values these are expected transplants (Dickerson, Procaccia, Sandholm 2019,
    Management Science 65(4), "Failure-aware kidney exchange")."""
    values = arc_value[block.arcs]
    if success is None:
        return values.sum(axis=1)  # type: ignore[no-any-return]
    p = success[block.arcs]
    if block.is_cycle:
        return values.sum(axis=1) * p.prod(axis=1)  # type: ignore[no-any-return]
    return (values * np.cumprod(p, axis=1)).sum(axis=1)  # type: ignore[no-any-return]


class ExchangeColumns:
    """All enumerated exchanges, numbered ``0 .. len-1`` block after block, each valued
    by :func:`exchange_values`."""

    def __init__(
        self,
        blocks: list[ExchangeBlock],
        arc_value: FloatArray,
        success: FloatArray | None = None,
    ) -> None:
        self.blocks = [b for b in blocks if len(b)]
        sizes = [len(b) for b in self.blocks]
        self.offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        self.values = (
            np.concatenate([exchange_values(b, arc_value, success) for b in self.blocks])
            if self.blocks
            else np.zeros(0)
        )

    def __len__(self) -> int:
        return int(self.offsets[-1])

    def subset(self, ids: IntArray) -> ExchangeColumns:
        """The columns ``ids`` (ascending), renumbered ``0 .. len(ids)-1`` in that order."""
        block, row = self._locate(ids)
        other = object.__new__(ExchangeColumns)
        other.blocks = []
        sizes = []
        for b_index, b in enumerate(self.blocks):
            rows = row[block == b_index]
            if len(rows):
                other.blocks.append(ExchangeBlock(b.is_cycle, b.vertices[rows], b.arcs[rows]))
                sizes.append(len(rows))
        other.offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        other.values = self.values[ids]
        return other

    def with_values(self, values: FloatArray) -> ExchangeColumns:
        """The same columns with another objective (one level of a hierarchy)."""
        other = object.__new__(ExchangeColumns)
        other.blocks, other.offsets, other.values = self.blocks, self.offsets, values
        return other

    def reduced_costs(self, duals: FloatArray) -> FloatArray:
        """Objective minus the duals of the vertex rows each exchange uses."""
        if not self.blocks:
            return np.zeros(0)
        used = np.concatenate([duals[b.vertices].sum(axis=1) for b in self.blocks])
        return self.values - used  # type: ignore[no-any-return]

    def touching(self, vertices: BoolArray) -> BoolArray:
        """The columns whose exchange uses one of the marked vertices."""
        if not self.blocks:
            return np.zeros(0, dtype=bool)
        return np.concatenate([vertices[b.vertices].any(axis=1) for b in self.blocks])

    def _locate(self, ids: IntArray) -> tuple[IntArray, IntArray]:
        block = np.searchsorted(self.offsets, ids, side="right") - 1
        return block, ids - self.offsets[block]

    def matrix(self, ids: IntArray, n_rows: int) -> sp.csc_matrix:
        """Vertex-row incidence (``n_rows`` x ``len(ids)``) of the given columns."""
        block, row = self._locate(ids)
        rows_list: list[IntArray] = []
        cols_list: list[IntArray] = []
        for b_index, b in enumerate(self.blocks):
            sel = np.flatnonzero(block == b_index)
            if not len(sel):
                continue
            verts = b.vertices[row[sel]]
            rows_list.append(verts.ravel())
            cols_list.append(np.repeat(sel, verts.shape[1]))
        if not rows_list:
            return sp.csc_matrix((n_rows, len(ids)))
        r = np.concatenate(rows_list)
        c = np.concatenate(cols_list)
        return sp.csc_matrix((np.ones(len(r)), (r, c)), shape=(n_rows, len(ids)))

    def exchange(self, column: int) -> tuple[ExchangeBlock, int]:
        """The block holding ``column`` and its row in that block."""
        b = int(np.searchsorted(self.offsets, column, side="right") - 1)
        return self.blocks[b], column - int(self.offsets[b])
