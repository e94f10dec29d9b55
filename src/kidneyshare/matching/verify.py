"""Independent verification of a result against its instance.

Nothing here is shared with the graph, enumeration or formulations: the checks are
recomputed from the instance's own records (donors, patients, arcs) and the exchanges
reported, so a bug in a formulation or a solver's false "optimal" cannot hide.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kidneyshare.errors import VerificationError
from kidneyshare.matching.config import Objective, SolverConfig
from kidneyshare.matching.result import Exchange, ExchangeKind, Result, Status
from kidneyshare.model import Instance

__all__ = ["VerificationReport", "verify"]

_TOL = 1e-6


@dataclass(frozen=True, slots=True)
class VerificationReport:
    """``ok`` when ``problems`` is empty; ``values`` are the recomputed objective values."""

    problems: tuple[str, ...]
    values: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems

    def raise_if_invalid(self) -> None:
        if self.problems:
            raise VerificationError(list(self.problems))


def verify(instance: Instance, config: SolverConfig, result: Result) -> VerificationReport:
    """Check ``result`` against ``instance`` and ``config``; never raises for a bad result.

    Checks: every donation uses an arc of the instance, from a donor of the giving pair
    (or the altruist) to the receiving patient, with the arc's weight; each pair and each
    altruist in at most one exchange; cycles of 2..K distinct pairs; chains from an
    altruist with 1..L donations (DESIGN.md's convention); the reported values equal the
    recomputed ones; the bound is not below the value, and equals it when optimal.
    """
    problems: list[str] = []
    patients = {p.id for p in instance.patients}
    paired_with: dict[str, str | None] = {d.id: d.patient for d in instance.donors}
    altruists = {d.id for d in instance.donors if d.patient is None}
    arc_weight: dict[tuple[str, str], float] = {
        (a.donor, a.patient): a.weight for a in instance.arcs
    }
    used: dict[tuple[str, str], str] = {}
    transplants = 0
    weight = 0.0

    if (config.max_cycle, config.max_chain, config.objective) != (
        result.config.max_cycle,
        result.config.max_chain,
        result.config.objective,
    ):
        problems.append("result was produced under a different configuration")

    def claim(kind: str, vid: str, label: str) -> None:
        key = (kind, vid)
        if key in used:
            problems.append(f"{kind} {vid} is used by {used[key]} and by {label}")
        else:
            used[key] = label

    def check_donation(ex: Exchange, i: int, giver: str, receiver: str, label: str) -> float:
        d = ex.donations[i]
        if d.patient != receiver:
            problems.append(f"{label}: donation {i + 1} goes to {d.patient}, expected {receiver}")
        giver_is_altruist = ex.kind is ExchangeKind.CHAIN and i == 0
        if giver_is_altruist:
            if d.donor != giver:
                problems.append(f"{label}: first donor is {d.donor}, expected altruist {giver}")
        elif paired_with.get(d.donor) != giver:
            problems.append(f"{label}: donor {d.donor} is not a donor of pair {giver}")
        w = arc_weight.get((d.donor, d.patient))
        if w is None:
            problems.append(f"{label}: no arc {d.donor}->{d.patient} in the instance")
            return 0.0
        if abs(w - d.weight) > _TOL:
            problems.append(
                f"{label}: arc {d.donor}->{d.patient} has weight {w}, reported {d.weight}"
            )
        return w

    for n, ex in enumerate(result.cycles, start=1):
        label = f"cycle {n} ({' -> '.join(ex.vertices)})"
        k = len(ex.vertices)
        if ex.kind is not ExchangeKind.CYCLE:
            problems.append(f"{label}: listed as a cycle but marked {ex.kind.value}")
        if not 2 <= k <= config.max_cycle:
            problems.append(f"{label}: length {k} outside 2..{config.max_cycle}")
        if len(set(ex.vertices)) != k:
            problems.append(f"{label}: visits a pair twice")
        if len(ex.donations) != k:
            problems.append(f"{label}: {len(ex.donations)} donations for {k} pairs")
            continue
        for i, v in enumerate(ex.vertices):
            if v not in patients:
                problems.append(f"{label}: {v} is not a pair of the instance")
            claim("pair", v, label)
            weight += check_donation(ex, i, v, ex.vertices[(i + 1) % k], label)
        transplants += k

    for n, ex in enumerate(result.chains, start=1):
        label = f"chain {n} ({' -> '.join(ex.vertices)})"
        length = len(ex.vertices) - 1
        if ex.kind is not ExchangeKind.CHAIN:
            problems.append(f"{label}: listed as a chain but marked {ex.kind.value}")
        if not ex.vertices or ex.vertices[0] not in altruists:
            problems.append(f"{label}: does not start at an altruist")
            continue
        if not 1 <= length <= config.max_chain:
            problems.append(f"{label}: length {length} outside 1..{config.max_chain}")
        if len(set(ex.vertices[1:])) != length:
            problems.append(f"{label}: visits a pair twice")
        if len(ex.donations) != length:
            problems.append(f"{label}: {len(ex.donations)} donations for length {length}")
            continue
        claim("altruist", ex.vertices[0], label)
        for i, v in enumerate(ex.vertices[1:]):
            if v not in patients:
                problems.append(f"{label}: {v} is not a pair of the instance")
            claim("pair", v, label)
            weight += check_donation(ex, i, ex.vertices[i], v, label)
        transplants += length

    values: dict[str, float] = {"transplants": float(transplants)}
    if config.objective is Objective.MAX_WEIGHT:
        values["weight"] = weight
    for key, value in values.items():
        reported = result.values.get(key)
        if reported is None:
            problems.append(f"values: {key} is not reported")
        elif abs(reported - value) > _TOL * max(1.0, abs(value)):
            problems.append(f"values: {key} reported {reported}, recomputed {value}")
    objective = values["transplants" if config.objective is Objective.MAX_TRANSPLANTS else "weight"]
    # Each patient receives at most once: no bound can exceed the sum of their best arcs.
    best_in: dict[str, float] = {}
    for (donor, patient), w in arc_weight.items():
        if paired_with.get(donor) != patient:
            gain = 1.0 if config.objective is Objective.MAX_TRANSPLANTS else w
            best_in[patient] = max(best_in.get(patient, 0.0), gain)
    ceiling = sum(best_in.values())
    if result.bound is not None:
        if result.bound > ceiling + _TOL * max(1.0, ceiling):
            problems.append(
                f"bound {result.bound} exceeds {ceiling}, the most any plan can reach "
                "(each patient receives at most once)"
            )
        if result.bound < objective - _TOL * max(1.0, abs(objective)):
            problems.append(f"bound {result.bound} is below the objective value {objective}")
        if result.status is Status.OPTIMAL and result.bound > objective + _TOL * max(
            1.0, objective
        ):
            problems.append(f"status optimal but bound {result.bound} exceeds value {objective}")
    elif result.status is Status.OPTIMAL:
        problems.append("status optimal without a proven bound")
    return VerificationReport(tuple(problems), values)
