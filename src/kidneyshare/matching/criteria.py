"""The value of every enumerated exchange under each :class:`Criterion`, vectorised.

A hierarchy is solved one level at a time over the same columns, so each criterion
only has to say what one cycle or chain is worth. Definitions (docs/objectives.md):

- *two-way / three-way exchange*: a cycle of 2 / 3 pairs, or a chain of 1 / 2 pairs
  (the altruist and the chain's final donation to the deceased-donor waiting list make
  it a 2- / 3-donor exchange, as the UK scheme counts).
- *back-arc* of a three-way exchange: for each donation u -> v in it, v's donor in the
  exchange (the one giving v's donation) is compatible with u's patient, so that the
  two could still swap (NHSBT counts only back-arcs that bring in no new donor). In a
  chain the altruist stands for the waiting list, to which every pair's donor can give,
  so the back-arc from the first pair to the altruist always exists; the one from the
  altruist to the second pair exists when the altruist is compatible with it, and the
  one from the second pair to the first when a donor of the second pair (its donation
  goes to the waiting list, so any of them may give it) is compatible with the first.
- *effective two-way*: a two-way exchange, or a three-way one with a back-arc (every
  three-way chain has one, see above): it still gives two transplants if one fails.
- *score*: each in-pool donation's arc weight plus the UK donor-age rule: 3 points when
  the giving donor and the receiving pair's own donor differ in age by at most 20
  years, plus a tie-break of 1e-5 * (70 - age difference)^2 rounded to 5 decimals; no
  age points where an age is unknown. The receiving pair's donor is the one giving the
  next donation; at a chain's end (the donation to the waiting list) the pair's donor
  with the most points.
- *expected transplants*: a cycle gives its length times the product of its arcs'
  success probabilities (all or nothing); a chain gives the expected length of its
  successful prefix, sum over i of the product of its first i probabilities.

References
----------
Manlove, D. F., O'Malley, G. (2014). Paired and altruistic kidney donation in the UK:
algorithms and experimentation. ACM J. Experimental Algorithmics 19, 2.6.
Delorme, M., et al. (2022). Improved instance generation for kidney exchange
programmes. Computers & Operations Research 141. (the age rule's figures)
Dickerson, J. P., Procaccia, A. D., Sandholm, T. (2019). Failure-aware kidney exchange.
Management Science 65(4). (expected transplants of cycles and chains)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from kidneyshare.matching.config import AgeRule, Criterion
from kidneyshare.matching.enumeration import ExchangeBlock
from kidneyshare.matching.formulations.columns import exchange_values
from kidneyshare.matching.graph import CompatibilityGraph
from kidneyshare.model import Instance

__all__ = [
    "CriterionData",
    "age_points",
    "back_arc_parts",
    "block_values",
    "chain_arc_values",
    "picef_expresses",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

# Criteria whose value is a sum over arcs, position-free: PICEF's chain-arc variables
# can carry them. Expected transplants can be carried when every arc has the same
# success probability p (the arc at position k is worth p^k); the others need whole
# chains (the cycle formulation).
ARC_LOCAL = frozenset({Criterion.TRANSPLANTS, Criterion.WEIGHT})


def picef_expresses(criterion: Criterion, graph: CompatibilityGraph) -> bool:
    """Whether PICEF's position-indexed chain arcs can carry ``criterion`` on ``graph``."""
    if criterion is Criterion.EXPECTED_TRANSPLANTS:
        p = graph.probability
        return not len(p) or bool(np.all(p == p[0]))
    return criterion in ARC_LOCAL


def age_points(giver_age: FloatArray, receiver_donor_age: FloatArray, rule: AgeRule) -> FloatArray:
    """UK age rule for donations: bonus plus tie-break, 0 where an age is unknown."""
    diff = np.abs(giver_age - receiver_donor_age)
    known = ~np.isnan(diff)
    d = np.where(known, diff, 0.0)
    points = np.where(d <= rule.within_years, rule.bonus, 0.0)
    points = points + np.round(rule.tie_break_factor * (rule.tie_break_span - d) ** 2, 5)
    return np.where(known, points, 0.0)


@dataclass(frozen=True, slots=True, eq=False)
class CriterionData:
    """What the criteria need beyond the graph: donor ages, per arc and per pair."""

    graph: CompatibilityGraph
    giver_age: FloatArray
    """Age of the donor giving each arc (nan when unknown); the receiving pair's donor of
    a donation is the giver of the exchange's next donation."""
    end_points: FloatArray
    """Age points of each arc when it ends a chain: best over the receiver's donors."""
    giver_number: IntArray
    """Number of the donor giving each arc (donors numbered in id order)."""
    donor_patient_keys: IntArray
    """``donor number * n_vertices + patient vertex`` of every arc of the instance
    (every donor, not only the one the graph keeps per pair), sorted."""
    rule: AgeRule
    pair_keys: IntArray
    """``giving vertex * n_vertices + receiving vertex`` for every arc of the instance,
    sorted: compatibility between vertices whether or not the (possibly reduced) graph
    kept the arc."""

    def donor_gives(self, donors: IntArray, patients: IntArray) -> npt.NDArray[np.bool_]:
        """Whether each donor (by number) has an arc to each patient (by vertex)."""
        return _member(self.donor_patient_keys, donors * self.graph.n_vertices + patients)

    def vertex_gives(self, givers: IntArray, receivers: IntArray) -> npt.NDArray[np.bool_]:
        """Whether some donor of each giving vertex has an arc to each receiving patient."""
        return _member(self.pair_keys, givers * self.graph.n_vertices + receivers)

    @classmethod
    def build(cls, instance: Instance, graph: CompatibilityGraph, rule: AgeRule) -> CriterionData:
        age: dict[str, float] = {
            d.id: (math.nan if d.age is None else float(d.age)) for d in instance.donors
        }
        giver_age = np.array([age[d] for d in graph.donor], dtype=np.float64)
        slots: list[list[float]] = [[] for _ in range(graph.n_pairs)]
        number = {pid: i for i, pid in enumerate(graph.ids[: graph.n_pairs])}
        for d in instance.donors:
            if d.patient is not None:
                slots[number[d.patient]].append(age[d.id])
        width = max((len(s) for s in slots), default=1)
        table = np.full((graph.n_pairs, max(width, 1)), np.nan)
        for i, s in enumerate(slots):
            table[i, : len(s)] = s
        end_points = np.zeros(graph.n_arcs)
        for j in range(table.shape[1]):
            end_points = np.maximum(end_points, age_points(giver_age, table[graph.dst, j], rule))
        donors = sorted(d.id for d in instance.donors)
        donor_number: dict[str, int] = {did: i for i, did in enumerate(donors)}
        giver_number = np.array([donor_number[d] for d in graph.donor], dtype=np.int64)
        n = graph.n_vertices
        vertex = {vid: i for i, vid in enumerate(graph.ids)}
        giver_vertex = {
            d.id: vertex[d.patient if d.patient is not None else d.id] for d in instance.donors
        }
        keys = np.array(
            [donor_number[a.donor] * n + number[a.patient] for a in instance.arcs], dtype=np.int64
        )
        pair_keys = np.array(
            [giver_vertex[a.donor] * n + number[a.patient] for a in instance.arcs], dtype=np.int64
        )
        return cls(
            graph,
            giver_age,
            end_points,
            giver_number,
            np.unique(keys),
            rule,
            np.unique(pair_keys),
        )


def _member(sorted_keys: IntArray, keys: IntArray) -> npt.NDArray[np.bool_]:
    if not len(sorted_keys):
        return np.zeros(len(keys), dtype=bool)
    pos = np.minimum(np.searchsorted(sorted_keys, keys), len(sorted_keys) - 1)
    return sorted_keys[pos] == keys  # type: ignore[no-any-return]


def block_values(
    criterion: Criterion,
    g: CompatibilityGraph,
    block: ExchangeBlock,
    data: CriterionData | None = None,
) -> FloatArray:
    """The criterion's value of each exchange of ``block`` (a count for ``THREE_WAY``,
    which the caller minimises); ``SCORE`` needs the donor ages in ``data``."""
    arcs, m = block.arcs, len(block)
    k = block.length
    if criterion is Criterion.TRANSPLANTS:
        return np.full(m, float(k))
    if criterion is Criterion.WEIGHT:
        return g.weight[arcs].sum(axis=1)  # type: ignore[no-any-return]
    if criterion is Criterion.EXPECTED_TRANSPLANTS:
        # Each donation worth one transplant, if it and (in a chain) those before succeed.
        return exchange_values(block, np.broadcast_to(1.0, (g.n_arcs,)), g.probability)
    if criterion is Criterion.SCORE:
        if data is None:
            raise ValueError("the score criterion needs donor ages (CriterionData)")
        points = np.zeros((m, k))
        if block.is_cycle:
            nxt = np.roll(arcs, -1, axis=1)
            points = age_points(data.giver_age[arcs], data.giver_age[nxt], data.rule)
        elif k:
            if k > 1:
                points[:, :-1] = age_points(
                    data.giver_age[arcs[:, :-1]], data.giver_age[arcs[:, 1:]], data.rule
                )
            points[:, -1] = data.end_points[arcs[:, -1]]
        return np.round(g.weight[arcs].sum(axis=1) + points.sum(axis=1), 5)  # type: ignore[no-any-return]
    three_way = k == (3 if block.is_cycle else 2)
    if criterion is Criterion.THREE_WAY:
        return np.full(m, 1.0 if three_way else 0.0)
    if criterion is Criterion.ALTRUISTS_IN_SHORT_CHAINS:
        return np.full(m, 1.0 if not block.is_cycle and k <= 2 else 0.0)
    if three_way and data is None:
        raise ValueError(f"the {criterion.value} criterion needs the donors (CriterionData)")
    back = (
        back_arc_parts(g, block, data)[0].sum(axis=1).astype(np.float64)
        if three_way and data is not None
        else np.zeros(m)
    )
    if criterion is Criterion.BACK_ARCS:
        return back
    # EFFECTIVE_TWO_WAY
    two_way = k == (2 if block.is_cycle else 1)
    if two_way:
        return np.ones(m)
    return (back > 0).astype(np.float64) if three_way else np.zeros(m)


def back_arc_parts(
    g: CompatibilityGraph, block: ExchangeBlock, data: CriterionData
) -> tuple[npt.NDArray[np.bool_], tuple[tuple[int, int], ...]]:
    """The two-way exchanges inside each exchange of ``block``, as ``(parts, edges)``:
    ``parts[r, k]`` says whether exchange r can fall back on the two-way exchange
    between its vertices ``edges[k]`` (positions in ``block.vertices``), that is, for a
    three-way exchange, whether it has that back-arc. A two-way exchange is its own
    part; longer exchanges have none."""
    v, arcs, m = block.vertices, block.arcs, len(block)
    if block.length == (2 if block.is_cycle else 1):
        return np.ones((m, 1), dtype=bool), ((0, 1),)
    if block.length != (3 if block.is_cycle else 2):
        return np.zeros((m, 0), dtype=bool), ()
    if block.is_cycle:
        # Donation j goes v_j -> v_j+1; its back-arc is v_j+1's giving donor to v_j.
        parts = np.column_stack(
            [data.donor_gives(data.giver_number[arcs[:, (j + 1) % 3]], v[:, j]) for j in range(3)]
        )
        return parts, ((0, 1), (1, 2), (2, 0))
    # (altruist, p1, p2): p1 -> waiting list always; p2 -> p1; altruist -> p2.
    parts = np.column_stack(
        [
            np.ones(m, dtype=bool),
            data.vertex_gives(v[:, 2], v[:, 1]),
            data.vertex_gives(v[:, 0], v[:, 2]),
        ]
    )
    return parts, ((0, 1), (1, 2), (0, 2))


def chain_arc_values(
    criterion: Criterion, graph: CompatibilityGraph, arcs: IntArray, positions: IntArray
) -> FloatArray:
    """Value of PICEF chain-arc variables (where :func:`picef_expresses` says so)."""
    if criterion is Criterion.TRANSPLANTS:
        return np.ones(len(arcs))
    if criterion is Criterion.WEIGHT:
        return graph.weight[arcs]
    if criterion is Criterion.EXPECTED_TRANSPLANTS and picef_expresses(criterion, graph):
        # The k-th donation happens when the first k all succeed: p^k.
        return graph.probability[arcs] ** positions.astype(np.float64)
    raise ValueError(f"{criterion.value} is not a sum over arcs")
