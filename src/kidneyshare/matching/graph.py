"""The compatibility graph on which every formulation is built.

Vertices are pairs (one per patient, all of the patient's donors collapsed into it) and
altruists. Vertex numbers follow a canonical order of the ids (natural sort, pairs first,
then altruists), so the record order of the input never reaches a solver: the same pool
in any order gives the same model and the same exchanges.

Several donors of one pair may be compatible with the same patient: the graph keeps one
arc per (giver, receiver) vertex pair, the one of greatest weight (for the expected
objective the likeliest to succeed, then the heaviest; ties: the donor whose id sorts
first), and remembers which donor it was, so that a plan names its donors.
An arc from a donor to their own patient is a direct transplant, not an exchange, and is
left out.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from kidneyshare.model import ArcTable, Instance, PatientId

__all__ = ["CompatibilityGraph", "natural_key"]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

_DIGITS = re.compile(r"(\d+)")


def natural_key(identifier: str) -> tuple[tuple[int, str | int], ...]:
    """Sort key putting ``p2`` before ``p10`` (digit runs compare as numbers)."""
    parts = _DIGITS.split(identifier)
    return tuple((1, int(p)) if i % 2 else (0, p) for i, p in enumerate(parts))


@dataclass(frozen=True, slots=True, eq=False)
class CompatibilityGraph:
    """Directed graph of vertex numbers with arcs sorted by (source, target).

    Attributes
    ----------
    ids:
        vertex id of each vertex number: pair (patient) ids ``0 .. n_pairs-1`` then
        altruist (donor) ids.
    n_pairs:
        number of pair vertices; vertices ``>= n_pairs`` are altruists.
    src, dst:
        arc end points; every ``dst < n_pairs`` (nobody gives to an altruist).
    weight, probability:
        the kept arc's weight and success probability (``missing_probability`` where
        unknown).
    donor:
        donor id giving each arc.
    indptr:
        CSR row pointer: out-arcs of ``u`` are ``indptr[u]:indptr[u+1]``.
    """

    ids: tuple[str, ...]
    n_pairs: int
    src: IntArray
    dst: IntArray
    weight: FloatArray
    probability: FloatArray
    donor: tuple[str, ...]
    indptr: IntArray

    @property
    def n_vertices(self) -> int:
        return len(self.ids)

    @property
    def n_altruists(self) -> int:
        return len(self.ids) - self.n_pairs

    @property
    def n_arcs(self) -> int:
        return int(self.src.shape[0])

    def arc_keys(self) -> IntArray:
        """``src * n_vertices + dst`` for each arc, sorted ascending (for arc lookup)."""
        return self.src * self.n_vertices + self.dst

    def every_arc(self, sources: IntArray, targets: IntArray) -> tuple[IntArray, IntArray]:
        """Every arc from ``sources[i]`` to ``targets[i]`` (several where a pair's donors
        are kept apart): ``(i, arc)`` for each, by i, then arc."""
        keys = self.arc_keys()
        wanted = sources.astype(np.int64) * self.n_vertices + targets
        first = np.searchsorted(keys, wanted, side="left")
        count = np.searchsorted(keys, wanted, side="right") - first
        return spread_ranges(first, count)

    def find_arcs(self, sources: IntArray, targets: IntArray) -> IntArray:
        """Arc index of each (source, target), or -1 where there is no such arc."""
        keys = self.arc_keys()
        wanted = sources.astype(np.int64) * self.n_vertices + targets
        pos = np.searchsorted(keys, wanted)
        pos_clipped = np.minimum(pos, max(len(keys) - 1, 0))
        found = (pos < len(keys)) & (keys[pos_clipped] == wanted) if len(keys) else pos < 0
        return np.where(found, pos_clipped, -1).astype(np.int64)

    @classmethod
    def from_instance(
        cls,
        instance: Instance,
        *,
        missing_probability: float = 1.0,
        by_probability: bool = False,
        every_donor: bool = False,
    ) -> CompatibilityGraph:
        """The graph of ``instance``; arcs without a success probability get
        ``missing_probability``. With ``by_probability`` the arc kept per (giver,
        receiver) is the likeliest to succeed (then the heaviest, then the first donor
        id): the choice that maximises expected transplants, which rise with every
        arc's probability. With ``every_donor`` every donor's arc stays (parallel arcs,
        the one kept otherwise first): for criteria that read which donor gives (age
        points, back-arcs), where a per-arc choice is not exact."""
        pair_ids = sorted((p.id for p in instance.patients), key=natural_key)
        altruist_ids = sorted((d.id for d in instance.donors if d.patient is None), key=natural_key)
        ids = tuple(pair_ids) + tuple(altruist_ids)
        vertex_of_patient = {pid: i for i, pid in enumerate(pair_ids)}
        vertex_of_donor: dict[str, int] = {}
        for d in instance.donors:
            if d.patient is not None:
                vertex_of_donor[d.id] = vertex_of_patient[d.patient]
        for i, aid in enumerate(altruist_ids):
            vertex_of_donor[aid] = len(pair_ids) + i
        donor_names = sorted(vertex_of_donor, key=natural_key)
        donor_rank = {did: i for i, did in enumerate(donor_names)}

        if isinstance(instance.arcs, ArcTable):
            src, dst, weight, prob, rank = _table_columns(
                instance.arcs, vertex_of_donor, vertex_of_patient, donor_rank, missing_probability
            )
        else:
            m = len(instance.arcs)
            src = np.empty(m, dtype=np.int64)
            dst = np.empty(m, dtype=np.int64)
            weight = np.empty(m, dtype=np.float64)
            prob = np.empty(m, dtype=np.float64)
            rank = np.empty(m, dtype=np.int64)
            for i, a in enumerate(instance.arcs):
                src[i] = vertex_of_donor[a.donor]
                dst[i] = vertex_of_patient[a.patient]
                weight[i] = a.weight
                prob[i] = missing_probability if a.probability is None else a.probability
                rank[i] = donor_rank[a.donor]
        keep = src != dst
        if not keep.all():
            src, dst, weight, prob, rank = (
                src[keep],
                dst[keep],
                weight[keep],
                prob[keep],
                rank[keep],
            )
        key = src * len(ids) + dst
        if not np.all(key[1:] > key[:-1]):
            # Best arc per (src, dst): greatest weight (or probability), then first
            # donor id. (Arcs already in order with no repeats, as generated pools give
            # them, skip this.)
            keys = (rank, -weight, -prob, dst, src) if by_probability else (rank, -weight, dst, src)
            order = np.lexsort(keys)
            src, dst, weight, prob, rank = (
                src[order],
                dst[order],
                weight[order],
                prob[order],
                rank[order],
            )
            first = np.ones(len(src), dtype=bool)
            if not every_donor:
                first[1:] = (src[1:] != src[:-1]) | (dst[1:] != dst[:-1])
            src, dst, weight, prob, rank = (
                src[first],
                dst[first],
                weight[first],
                prob[first],
                rank[first],
            )
        indptr = np.concatenate([[0], np.cumsum(np.bincount(src, minlength=len(ids)))]).astype(
            np.int64
        )
        return cls(
            ids=ids,
            n_pairs=len(pair_ids),
            src=src,
            dst=dst,
            weight=weight,
            probability=prob,
            donor=tuple(np.asarray(donor_names, dtype=object)[rank].tolist()),
            indptr=indptr,
        )

    def distances_from_altruists(self) -> IntArray:
        """Fewest arcs from any altruist to each vertex (altruists 0, unreachable -1)."""
        n = self.n_vertices
        dist = np.full(n, -1, dtype=np.int64)
        frontier = np.arange(self.n_pairs, n, dtype=np.int64)
        dist[frontier] = 0
        level = 0
        while len(frontier):
            level += 1
            starts, ends = self.indptr[frontier], self.indptr[frontier + 1]
            nxt = np.concatenate([self.dst[s:e] for s, e in zip(starts, ends, strict=True)])
            nxt = np.unique(nxt)
            nxt = nxt[dist[nxt] < 0]
            dist[nxt] = level
            frontier = nxt
        return dist


def spread_ranges(start: IntArray, count: IntArray) -> tuple[IntArray, IntArray]:
    """The index ranges ``start[i] .. start[i] + count[i] - 1`` laid end to end, as
    ``(i, index)`` for each index, by i then index (arc ranges of CSR rows, say)."""
    count = count.astype(np.int64)
    rows = np.repeat(np.arange(len(count), dtype=np.int64), count)
    offset = np.arange(len(rows), dtype=np.int64) - np.repeat(np.cumsum(count) - count, count)
    return rows, (np.repeat(start, count) + offset).astype(np.int64)


def _table_columns(
    table: ArcTable,
    vertex_of_donor: Mapping[str, int],
    vertex_of_patient: Mapping[PatientId, int],
    donor_rank: Mapping[str, int],
    missing_probability: float,
) -> tuple[IntArray, IntArray, FloatArray, FloatArray, IntArray]:
    """``from_instance``'s arc columns read from an :class:`ArcTable` with array
    operations (a 10,000-pair pool has 28 million arcs)."""
    donor_vertex = np.asarray([vertex_of_donor[d] for d in table.donors], dtype=np.int64)
    donor_order = np.asarray([donor_rank[d] for d in table.donors], dtype=np.int64)
    patient_vertex = np.asarray([vertex_of_patient[p] for p in table.patients], dtype=np.int64)
    probability = np.where(np.isnan(table.probability), missing_probability, table.probability)
    return (
        donor_vertex[table.donor],
        patient_vertex[table.patient],
        table.weight.astype(np.float64, copy=True),
        probability,
        donor_order[table.donor],
    )
