"""Independent verification of a result against its instance.

Nothing here is shared with the graph, enumeration or formulations: the checks are
recomputed from the instance's own records (donors, patients, arcs) and the exchanges
reported, so a bug in a formulation or a solver's false "optimal" cannot hide.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from kidneyshare.errors import VerificationError
from kidneyshare.matching.config import Criterion, SolverConfig
from kidneyshare.matching.result import Exchange, ExchangeKind, Result, Status
from kidneyshare.model import ArcTable, Instance

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
    altruist with 1..L donations (DESIGN.md's convention); every level's reported value
    equals the recomputed one (docs/objectives.md's definitions, written again here from
    the instance's records); the bound is on the right side of its level's value, and
    equals it when optimal.
    """
    problems: list[str] = []
    patients = {p.id for p in instance.patients}
    paired_with: dict[str, str | None] = {d.id: d.patient for d in instance.donors}
    altruists = {d.id for d in instance.donors if d.patient is None}
    used: dict[tuple[str, str], str] = {}
    transplants = 0
    weight = 0.0

    if (config.max_cycle, config.max_chain, config.criteria) != (
        result.config.max_cycle,
        result.config.max_chain,
        result.config.criteria,
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
        arc = instance.arc(d.donor, d.patient)
        if arc is None:
            problems.append(f"{label}: no arc {d.donor}->{d.patient} in the instance")
            return 0.0
        w = arc.weight
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
    if not problems:
        levels = _LevelCounter(instance, config)
        for ex in result.exchanges:
            levels.add(ex)
        for criterion in config.criteria:
            values[criterion.value] = levels.totals[criterion]
    for key, value in values.items():
        reported = result.values.get(key)
        if reported is None:
            problems.append(f"values: {key} is not reported")
        elif abs(reported - value) > _TOL * max(1.0, abs(value)):
            problems.append(f"values: {key} reported {reported}, recomputed {value}")
    if problems:
        return VerificationReport(tuple(problems), values)
    level = Criterion.parse(result.bound_level) if result.bound_level else config.criteria[-1]
    if level not in config.criteria:
        problems.append(f"bound_level {level.value} is not a level of the objective")
        return VerificationReport(tuple(problems), values)
    objective = values[level.value]
    # Each patient receives at most once: no bound can exceed the sum of their best arcs.
    ceiling = _best_arcs_in(instance, weighted=level is Criterion.WEIGHT)
    bounded_by_ceiling = level in (
        Criterion.TRANSPLANTS,
        Criterion.WEIGHT,
        Criterion.EXPECTED_TRANSPLANTS,
    )
    # A minimised level's bound is a lower bound: compare on the maximised scale.
    sign = -1.0 if level.minimised else 1.0
    if result.bound is not None:
        bound, value = sign * result.bound, sign * objective
        tol = _TOL * max(1.0, abs(value))
        if bounded_by_ceiling and result.bound > ceiling + _TOL * max(1.0, ceiling):
            problems.append(
                f"bound {result.bound} exceeds {ceiling}, the most any plan can reach "
                "(each patient receives at most once)"
            )
        if bound < value - tol:
            problems.append(
                f"bound {result.bound} is on the wrong side of the {level.value} value {objective}"
            )
        if result.status is Status.OPTIMAL and bound > value + tol:
            problems.append(
                f"status optimal but bound {result.bound} differs from the {level.value} "
                f"value {objective}"
            )
    elif result.status is Status.OPTIMAL:
        problems.append("status optimal without a proven bound")
    return VerificationReport(tuple(problems), values)


class _LevelCounter:
    """Every criterion's total over a plan, from the instance's records alone."""

    def __init__(self, instance: Instance, config: SolverConfig) -> None:
        self.criteria = config.criteria
        self.totals = dict.fromkeys(self.criteria, 0.0)
        self.age: dict[str, float | None] = {d.id: d.age for d in instance.donors}
        self.donors_of: dict[str, list[str]] = {}
        self.giver_of: dict[str, str] = {}  # donor id -> the vertex (pair or altruist) giving
        for d in instance.donors:
            self.giver_of[d.id] = d.patient if d.patient is not None else d.id
            if d.patient is not None:
                self.donors_of.setdefault(d.patient, []).append(d.id)
        self.instance = instance
        self.default_probability = config.default_probability
        self.age_rule = config.age_rule

    def _age_points(self, giver: str, receiver_donor: str) -> float:
        a, b = self.age.get(giver), self.age.get(receiver_donor)
        if a is None or b is None:
            return 0.0
        rule, diff = self.age_rule, abs(a - b)
        bonus = rule.bonus if diff <= rule.within_years else 0.0
        return bonus + round(rule.tie_break_factor * (rule.tie_break_span - diff) ** 2, 5)

    def _arc(self, donor: str, patient: str) -> bool:
        return self.instance.arc(donor, patient) is not None

    def _can_give(self, giver: str, patient: str) -> bool:
        """A donor of ``giver`` (a pair, or the altruist itself) has an arc to ``patient``."""
        donors = self.donors_of.get(giver, [giver])
        return any(self._arc(d, patient) for d in donors)

    def _success(self, donor: str, patient: str) -> float:
        arc = self.instance.arc(donor, patient)
        p = None if arc is None else arc.probability
        if p is None:
            p = self.default_probability
        return 1.0 if p is None else p

    def add(self, ex: Exchange) -> None:
        v, d = ex.vertices, ex.donations
        cycle = ex.kind is ExchangeKind.CYCLE
        n = len(d)
        three_way = n == (3 if cycle else 2)
        back = 0
        if three_way and cycle:
            # v[i+1]'s own donor in the exchange (giving d[i+1]) back to v[i]'s patient.
            back = sum(self._arc(d[(i + 1) % 3].donor, v[i]) for i in range(3))
        elif three_way:
            # The first pair can always give to the waiting list (the altruist's place).
            back = 1 + self._can_give(v[2], v[1]) + self._can_give(v[0], v[2])
        p = [self._success(x.donor, x.patient) for x in d]
        expected = n * math.prod(p) if cycle else sum(math.prod(p[: i + 1]) for i in range(n))
        score = 0.0
        for i, x in enumerate(d):
            score += x.weight
            if cycle or i + 1 < n:
                score += self._age_points(x.donor, d[(i + 1) % n].donor)
            else:
                score += max(
                    (self._age_points(x.donor, r) for r in self.donors_of.get(x.patient, [])),
                    default=0.0,
                )
        gains = {
            Criterion.TRANSPLANTS: float(n),
            Criterion.WEIGHT: sum(x.weight for x in d),
            Criterion.EXPECTED_TRANSPLANTS: expected,
            Criterion.EFFECTIVE_TWO_WAY: float(n == (2 if cycle else 1) or back > 0),
            Criterion.ALTRUISTS_IN_SHORT_CHAINS: float(not cycle and n <= 2),
            Criterion.THREE_WAY: float(three_way),
            Criterion.BACK_ARCS: float(back),
            Criterion.SCORE: round(score, 5),
        }
        for c in self.criteria:
            self.totals[c] += gains[c]


def _best_arcs_in(instance: Instance, *, weighted: bool) -> float:
    """Each patient receives at most once: the sum over patients of their best arc's
    value (weight, or 1), arcs from their own donors left out."""
    paired_with: dict[str, str | None] = {d.id: d.patient for d in instance.donors}
    arcs = instance.arcs
    if isinstance(arcs, ArcTable):
        number: dict[str, int] = {p: i for i, p in enumerate(arcs.patients)}
        own = np.asarray([number.get(paired_with.get(d) or "", -1) for d in arcs.donors])
        useful = own[arcs.donor] != arcs.patient
        receivers = arcs.patient[useful]
        if not weighted:
            return float(np.count_nonzero(np.bincount(receivers, minlength=len(number))))
        best = np.zeros(len(number))
        np.maximum.at(best, receivers, arcs.weight[useful])
        return float(best.sum())
    best_in: dict[str, float] = {}
    for a in arcs:
        if paired_with.get(a.donor) != a.patient:
            gain_of = a.weight if weighted else 1.0
            best_in[a.patient] = max(best_in.get(a.patient, 0.0), gain_of)
    return sum(best_in.values())
