"""An exhaustive brute-force optimum for small pools: the reference the solver is tested against.

It shares no code with :mod:`kidneyshare.matching` (only the model types are used) and is
written to be obviously correct rather than fast:

1. build the vertex graph naively from the arcs (a pair's vertex id is its patient id, an
   altruist's is its donor id; a pair gives to ``v`` if any of its donors has an arc to
   ``v``'s patient, keeping the best-weighted arc; a donor's arc to its own patient is
   ignored);
2. list every cycle (simple, on pairs, length 2..K) and every chain (an altruist followed
   by 1..L distinct pairs; its length is the number of donations, the altruist's
   included) by plain depth-first enumeration;
3. find the best set of vertex-disjoint exchanges by dynamic programming over the subsets
   of vertices: the first free vertex is either left out or covered by one exchange that
   contains it and only free vertices.

The hierarchy oracle (:func:`oracle_levels`) values each exchange once per choice of the
donors giving in it, as the UK levels read the giving donor.

Pools of about a dozen vertices take milliseconds.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import cache

from kidneyshare.model import Donor, Instance

__all__ = [
    "OracleExchange",
    "OracleSolution",
    "enumerate_exchanges",
    "oracle_optimum",
    "vertex_arcs",
]

OBJECTIVES = ("transplants", "weight")


@dataclass(frozen=True)
class OracleExchange:
    """A cycle (``kind == "cycle"``) or chain: vertex ids in donation order."""

    kind: str
    vertices: tuple[str, ...]
    transplants: int
    weight: float


@dataclass(frozen=True)
class OracleSolution:
    """The optimum ``value`` of the requested objective and one set of exchanges reaching it."""

    value: float
    exchanges: tuple[OracleExchange, ...]

    @property
    def transplants(self) -> int:
        return sum(e.transplants for e in self.exchanges)

    @property
    def weight(self) -> float:
        return sum(e.weight for e in self.exchanges)


def vertex_arcs(instance: Instance) -> dict[tuple[str, str], float]:
    """Map each vertex arc ``(u, v)`` to the best weight of any donor of ``u`` giving to ``v``."""
    best: dict[tuple[str, str], float] = {}
    for arc in instance.arcs:
        donor = instance.donor(arc.donor)
        source = donor.id if donor.patient is None else donor.patient
        if source == arc.patient:
            continue  # a donor giving to their own patient is not an exchange
        key = (source, arc.patient)
        best[key] = max(best.get(key, float("-inf")), float(arc.weight))
    return best


def enumerate_exchanges(instance: Instance, max_cycle: int, max_chain: int) -> list[OracleExchange]:
    """Every cycle of length 2..``max_cycle`` and chain of length 1..``max_chain``."""
    arcs = vertex_arcs(instance)
    pairs = sorted(p.id for p in instance.patients)
    altruists = sorted(d.id for d in instance.donors if d.patient is None)
    out: list[OracleExchange] = []

    # Cycles: each is listed once, starting at its smallest vertex id.
    def extend_cycle(path: list[str]) -> None:
        start, last = path[0], path[-1]
        if len(path) >= 2 and (last, start) in arcs:
            ws = [arcs[(path[i], path[(i + 1) % len(path)])] for i in range(len(path))]
            out.append(OracleExchange("cycle", tuple(path), len(path), sum(ws)))
        if len(path) == max_cycle:
            return
        for v in pairs:
            if v > start and v not in path and (last, v) in arcs:
                extend_cycle([*path, v])

    if max_cycle >= 2:
        for s in pairs:
            extend_cycle([s])

    # Chains: altruist, then 1..L distinct pairs; each prefix is a chain of its own.
    def extend_chain(path: list[str]) -> None:
        donations = len(path) - 1
        if donations >= 1:
            ws = [arcs[(path[i], path[i + 1])] for i in range(donations)]
            out.append(OracleExchange("chain", tuple(path), donations, sum(ws)))
        if donations == max_chain:
            return
        for v in pairs:
            if v not in path and (path[-1], v) in arcs:
                extend_chain([*path, v])

    if max_chain >= 1:
        for a in altruists:
            extend_chain([a])
    return out


def oracle_optimum(
    instance: Instance, *, max_cycle: int, max_chain: int, objective: str
) -> OracleSolution:
    """The best total ``objective`` (``"transplants"`` or ``"weight"``) over all sets of
    vertex-disjoint exchanges within the length limits."""
    if objective not in OBJECTIVES:
        raise ValueError(f"objective: expected one of {OBJECTIVES}, got {objective!r}")
    exchanges = enumerate_exchanges(instance, max_cycle, max_chain)
    pairs = {p.id for p in instance.patients}
    altruists = {d.id for d in instance.donors if d.patient is None}
    if pairs & altruists:
        raise ValueError(f"oracle: ids used by both a pair and an altruist: {pairs & altruists}")
    vertices = sorted(pairs | altruists)
    bit = {v: 1 << i for i, v in enumerate(vertices)}
    masks = [sum(bit[v] for v in e.vertices) for e in exchanges]
    values = [float(getattr(e, objective)) for e in exchanges]
    containing: dict[int, list[int]] = {i: [] for i in range(len(vertices))}
    for j, mask in enumerate(masks):
        for i in range(len(vertices)):
            if mask >> i & 1:
                containing[i].append(j)

    @cache
    def best(free: int) -> tuple[float, tuple[int, ...]]:
        if free == 0:
            return 0.0, ()
        i = (free & -free).bit_length() - 1  # the first free vertex
        value, chosen = best(free & ~(1 << i))  # leave it out
        for j in containing[i]:
            if masks[j] & free == masks[j]:
                sub_value, sub_chosen = best(free & ~masks[j])
                if values[j] + sub_value > value:
                    value, chosen = values[j] + sub_value, (j, *sub_chosen)
        return value, chosen

    value, chosen = best((1 << len(vertices)) - 1)
    return OracleSolution(value, tuple(exchanges[j] for j in chosen))


# --- lexicographic optimum over the criteria of docs/objectives.md -------------------

LEVELS = (
    "transplants",
    "weight",
    "expected-transplants",
    "effective-two-way",
    "altruists-in-short-chains",
    "three-way",
    "back-arcs",
    "score",
)
MINIMISED = {"three-way"}


def _age_points(giver_age: float | None, receiver_age: float | None) -> float:
    if giver_age is None or receiver_age is None:
        return 0.0
    diff = abs(giver_age - receiver_age)
    return (3.0 if diff <= 20 else 0.0) + round(1e-5 * (70 - diff) ** 2, 5)


def exchange_levels(instance: Instance, exchange: OracleExchange) -> list[dict[str, float]]:
    """Every criterion's value of one exchange, once for each choice of the donors
    giving in it (a pair with several donors compatible with the next patient may give
    through any of them; the criteria read the giving donor)."""
    arc = {(a.donor, a.patient): a for a in instance.arcs}
    donors_of: dict[str, list[Donor]] = {}
    for d in instance.donors:
        donors_of.setdefault(d.patient if d.patient is not None else d.id, []).append(d)
    v = exchange.vertices
    cycle = exchange.kind == "cycle"
    n = exchange.transplants
    steps = [(v[i], v[(i + 1) % len(v)]) for i in range(n)]
    three_way = n == (3 if cycle else 2)
    options = [[d for d in donors_of[a] if (d.id, b) in arc] for a, b in steps]
    out = []
    for givers in itertools.product(*options):
        gift = [arc[(d.id, b)] for d, (_, b) in zip(givers, steps, strict=True)]
        back = 0
        if three_way and cycle:
            # a -> b has its back-arc when b's giving donor is compatible with a.
            back = sum((givers[(i + 1) % 3].id, steps[i][0]) in arc for i in range(3))
        elif three_way:
            p2_to_p1 = any((d.id, v[1]) in arc for d in donors_of[v[2]])
            back = 1 + p2_to_p1 + ((givers[0].id, v[2]) in arc)
        p = [1.0 if a.probability is None else a.probability for a in gift]
        prefix, expected = 1.0, 0.0
        for x in p:
            prefix *= x
            expected += prefix
        if cycle:
            expected = n * prefix
        score = 0.0
        for i, (d, a) in enumerate(zip(givers, gift, strict=True)):
            score += a.weight
            if cycle or i + 1 < n:
                score += _age_points(d.age, givers[(i + 1) % n].age)
            else:  # the chain's last pair gives to the list: its best donor's points
                score += max(_age_points(d.age, r.age) for r in donors_of[v[-1]])
        out.append(
            {
                "transplants": float(n),
                "weight": sum(a.weight for a in gift),
                "expected-transplants": expected,
                "effective-two-way": float(n == (2 if cycle else 1) or back > 0),
                "altruists-in-short-chains": float(not cycle and n <= 2),
                "three-way": float(three_way),
                "back-arcs": float(back),
                "score": round(score, 5),
            }
        )
    return out


def oracle_levels(
    instance: Instance, *, max_cycle: int, max_chain: int, levels: tuple[str, ...]
) -> tuple[dict[str, float], tuple[OracleExchange, ...]]:
    """The lexicographic optimum over ``levels`` (most important first; ``three-way``
    minimised, the rest maximised): each level's value and one plan reaching them all.

    The same subset dynamic programme as :func:`oracle_optimum`, with vector values
    compared lexicographically (the order is compatible with addition, so the
    recursion stays exact). An exchange counts once per choice of its giving donors."""
    exchanges = []
    vectors = []
    signs = [-1.0 if name in MINIMISED else 1.0 for name in levels]
    for e in enumerate_exchanges(instance, max_cycle, max_chain):
        for own in exchange_levels(instance, e):
            exchanges.append(e)
            vectors.append(tuple(s * own[name] for s, name in zip(signs, levels, strict=True)))
    vertices = sorted(
        {p.id for p in instance.patients} | {d.id for d in instance.donors if d.patient is None}
    )
    bit = {v: 1 << i for i, v in enumerate(vertices)}
    masks = [sum(bit[v] for v in e.vertices) for e in exchanges]
    zero = tuple(0.0 for _ in levels)

    def plus(a: tuple[float, ...], b: tuple[float, ...]) -> tuple[float, ...]:
        return tuple(round(x + y, 9) for x, y in zip(a, b, strict=True))

    @cache
    def best(free: int) -> tuple[tuple[float, ...], tuple[int, ...]]:
        if free == 0:
            return zero, ()
        i = (free & -free).bit_length() - 1
        value, chosen = best(free & ~(1 << i))
        for j, mask in enumerate(masks):
            if mask >> i & 1 and mask & free == mask:
                sub_value, sub_chosen = best(free & ~mask)
                total = plus(vectors[j], sub_value)
                if total > value:
                    value, chosen = total, (j, *sub_chosen)
        return value, chosen

    value, chosen = best((1 << len(vertices)) - 1)
    totals = {name: s * x + 0.0 for name, s, x in zip(levels, signs, value, strict=True)}
    return totals, tuple(exchanges[j] for j in chosen)
