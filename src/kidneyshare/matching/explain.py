"""Why a patient was not matched in a run, and what-if re-runs.

:func:`explain` gives one :class:`Explanation`: a :class:`Reason` and a sentence a
coordinator can read to a patient. Reasons are tried from the structural to the
competitive; the first that holds is given:

1. ``not-in-pool``; ``matched`` (with their exchange);
2. ``no-compatible-donor``: no other pair's donor and no altruist can give to them;
3. ``donors-compatible-with-nobody``: their donors can give to no other patient, so only
   the end of an altruist's chain could match them, and no chain of at most L donations
   reaches them;
4. ``only-long-exchanges``: the shortest cycle through their pair is longer than K and
   the shortest chain reaching them longer than L (breadth-first search on the pair
   graph, networkx);
5. otherwise a plan including them exists, and it is compared with the run's, level by
   level (see *Forcing a patient in* below): ``outscored`` when the top level drops
   (their options are used by better exchanges: the run's exchanges their best
   exchange would break are named, with each level's drop); ``lost-at-lower-level`` when
   the first level that drops is a lower level of a hierarchy; ``tie-broken`` when an
   equally good plan (the same value at every level) includes them and the solver's
   deterministic tie-break chose another; ``run-not-optimal`` when the run was stopped
   early and a better plan including them exists; ``unknown`` only when the forced solve
   itself failed.

Forcing a patient in
--------------------
Side constraints are not part of the solver's interface, so a patient ``v`` is forced
into the plan through the objective, exactly:

* **Local swap (a proof of a tie).** For the shortest exchanges through ``v`` (cycles up
  to K, chains up to L ending at ``v``), swap them into the run's plan in place of the
  exchanges they conflict with, and value the plan with :func:`verify`. Every plan with
  ``v`` is at most the run's optimum, level by level; so when a swapped plan equals the
  run at every level, forcing ``v`` costs nothing and the answer is exact. Used only when
  the run is proven optimal.
* **Forced solve.** Otherwise the pool is solved again with ``v`` forced by a
  lexicographic trick. Let ``j`` be the first level that reads arc weights (``weight``,
  ``score``). Phase 1 solves the hierarchy ``(weight, level_1 .. level_j-1)`` on the pool
  whose arc weights are 1 into ``v`` and 0 elsewhere: the first level makes ``v``
  matched (it receives at most once) and the next ones are then optimised among plans
  that match ``v``, exactly the forced optimum of those levels. If one drops, that is
  the answer. If none drops and weight-reading levels remain, phase 2 solves the original
  hierarchy on the pool whose arcs into ``v`` carry a bonus ``B`` larger than any plan's
  value of those levels: levels before ``j`` are untouched (they do not read weights,
  and phase 1 showed a plan with ``v`` reaches their optimum), level ``j`` now prefers
  every plan with ``v`` to every plan without, and ``B`` is a constant shift of every
  weight-reading level among plans with ``v``. The forced plan's values are recomputed
  by :func:`verify` on the original pool.

  Exactness: in a pool where some pair has several donors, the solver keeps for each
  pair and patient the heaviest arc (then the first donor id), and the back-arc
  criteria look at the giving donor; bare 0/1 weights would change which donor that is.
  So phase 1's weights are 1 into ``v`` and 0 elsewhere *plus* the original weight times
  ``1e-8 / (1 + the sum of the heaviest arc into each patient)``: the graph keeps the
  run's donors, and every plan with ``v`` (first-level value at least 1) meets the first
  level's side row, whose tolerance is 1e-6. The forced optimum is then exact. Only if
  two of a pair's weights are too close to stay apart after the scaling (checked: the
  reweighted graph must keep the run's donors) are the values those of a real plan
  including ``v`` (the drop an upper bound), and :attr:`Explanation.exact` is false.

A forced solve costs one full solve (two for a hierarchy with a weight-reading level
after the first); structural reasons and ties cost graph searches only.

What-if re-runs
---------------
:func:`what_if` applies one :data:`Change` (:class:`AddDonor`, :class:`RelaxLimits`,
:class:`AddArcs`, e.g. from :func:`accept_abo_incompatible`) to the pool or the
configuration, solves again, and reports what changes for the patient and each level.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from enum import Enum
from typing import Any

import networkx as nx

from kidneyshare.errors import ConfigError, InstanceError
from kidneyshare.matching.config import Criterion, Objective, SolverConfig
from kidneyshare.matching.recourse import (
    assemble_plan,
    exchange_json,
    exchange_path,
    match_changes,
    matched_patients,
    restrict_pool,
)
from kidneyshare.matching.result import Donation, Exchange, ExchangeKind, Result, Status
from kidneyshare.matching.solve import solve
from kidneyshare.model import Arc, Donor, Instance

__all__ = [
    "AddArcs",
    "AddDonor",
    "Change",
    "Combination",
    "Explanation",
    "LevelChange",
    "Reason",
    "RelaxLimits",
    "WhatIf",
    "accept_abo_incompatible",
    "explain",
    "explain_unmatched",
    "what_if",
]

_TOL = 1e-6
# Exchanges through a patient tried by the local swap, and how many are valued fully.
_SWAP_CANDIDATES = 20_000
_SWAP_VALUED = 5
_SWAP_REFILLED = 2
_WEIGHT_READERS = frozenset({Criterion.WEIGHT, Criterion.SCORE})
# Phase 1's share of the original arc weights (summed over any plan), far below the
# hierarchy's side-row tolerance.
_ORDER_SHARE = 1e-8


class Reason(Enum):
    """Why a patient was, or was not, matched (see the module notes for each)."""

    NOT_IN_POOL = "not-in-pool"
    MATCHED = "matched"
    NO_COMPATIBLE_DONOR = "no-compatible-donor"
    DONORS_COMPATIBLE_WITH_NOBODY = "donors-compatible-with-nobody"
    ONLY_LONG_EXCHANGES = "only-long-exchanges"
    OUTSCORED = "outscored"
    LOST_AT_LOWER_LEVEL = "lost-at-lower-level"
    TIE_BROKEN = "tie-broken"
    RUN_NOT_OPTIMAL = "run-not-optimal"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class LevelChange:
    """One objective level: the run's value and that of the best plan including the
    patient (``with_patient``); ``drop`` is how much worse (positive) it is."""

    level: str
    run: float
    with_patient: float
    minimised: bool = False

    @property
    def drop(self) -> float:
        change = self.with_patient - self.run
        return round(change if self.minimised else -change, 9) + 0.0


@dataclass(frozen=True, slots=True)
class Explanation:
    """What :func:`explain` returns.

    ``exchange`` is the patient's exchange in the run (when matched); ``alternative`` the
    exchange through them in the best plan found that includes them; ``competing`` the
    run's exchanges that ``alternative`` would break; ``levels`` every level's value in
    the run and with the patient (empty for structural reasons); ``decisive_level`` the
    first level that drops; ``shortest_cycle`` / ``shortest_chain`` the fewest pairs in a
    cycle through them / donations in a chain reaching them (``None``: none exists);
    ``method`` is ``structure``, ``local-swap`` or ``forced-solve``.
    """

    patient: str
    reason: Reason
    sentence: str
    exchange: Exchange | None = None
    alternative: Exchange | None = None
    competing: tuple[Exchange, ...] = ()
    levels: tuple[LevelChange, ...] = ()
    decisive_level: str | None = None
    shortest_cycle: int | None = None
    shortest_chain: int | None = None
    method: str = "structure"
    exact: bool = True

    def to_json(self) -> dict[str, Any]:
        return {
            "patient": self.patient,
            "reason": self.reason.value,
            "sentence": self.sentence,
            "exchange": _exchange_json(self.exchange),
            "alternative": _exchange_json(self.alternative),
            "competing": [_exchange_json(e) for e in self.competing],
            "levels": [
                {"level": c.level, "run": c.run, "with_patient": c.with_patient, "drop": c.drop}
                for c in self.levels
            ],
            "decisive_level": self.decisive_level,
            "shortest_cycle": self.shortest_cycle,
            "shortest_chain": self.shortest_chain,
            "method": self.method,
            "exact": self.exact,
        }


def explain(
    instance: Instance, config: SolverConfig, result: Result, patient_id: str
) -> Explanation:
    """Why ``patient_id`` was (not) matched in ``result``, the run of ``instance`` under
    ``config``.

    Parameters
    ----------
    instance, config, result:
        the run: its pool, configuration and solved result.
    patient_id:
        the patient (pair) to explain.

    Returns
    -------
    Explanation
        the reason, a sentence, and the evidence (lengths, competing exchanges, each
        level's drop).

    Raises
    ------
    ConfigError
        when ``result`` was not solved (nothing to explain).

    Examples
    --------
    >>> from kidneyshare.model import Arc, Donor, Patient
    >>> pool = Instance(
    ...     [Patient("p1"), Patient("p2"), Patient("p3")],
    ...     [Donor("d1", "p1"), Donor("d2", "p2"), Donor("d3", "p3")],
    ...     [Arc("d1", "p2"), Arc("d2", "p1")],
    ... )
    >>> config = SolverConfig(max_cycle=2, max_chain=0)
    >>> explain(pool, config, solve(pool, config), "p3").reason
    <Reason.NO_COMPATIBLE_DONOR: 'no-compatible-donor'>
    """
    return _Explainer(instance, config, result).explain(patient_id)


def explain_unmatched(
    instance: Instance, config: SolverConfig, result: Result
) -> tuple[Explanation, ...]:
    """An explanation for every patient of ``instance`` not matched in ``result``, in
    record order (the pair graph is built once)."""
    explainer = _Explainer(instance, config, result)
    matched = matched_patients(result)
    return tuple(explainer.explain(p.id) for p in instance.patients if p.id not in matched)


# -- the pair graph ----------------------------------------------------------------------

_Node = tuple[str, str]  # ("pair", patient id) or ("altruist", donor id): ids may collide


def _pair(pid: str) -> _Node:
    return ("pair", pid)


def _giver(donor: Donor) -> _Node:
    return ("altruist", donor.id) if donor.patient is None else ("pair", donor.patient)


def _preferred(arc: Arc, old: Arc, *, likeliest: bool, missing: float) -> bool:
    """Whether the solver's graph keeps ``arc`` rather than ``old`` (same giver and
    patient): CompatibilityGraph.from_instance's order (``missing``: the probability of
    arcs that give none)."""
    if likeliest:
        p, q = (missing if a.probability is None else a.probability for a in (arc, old))
        if p != q:
            return p > q
    return (arc.weight, old.donor) > (old.weight, arc.donor)


class _Explainer:
    """One run's pool as a pair graph, and the run's plan indexed by person."""

    def __init__(self, instance: Instance, config: SolverConfig, result: Result) -> None:
        if not result.status.solved:
            raise ConfigError(f"result: the run ended with status {result.status.value}")
        self.instance, self.config, self.result = instance, config, result
        self.graph = nx.DiGraph()
        self.graph.add_nodes_from(_giver(d) for d in instance.donors)
        # best[(giver, patient)]: the arc a plan would use (the heaviest, or for the
        # expected objective the likeliest, then the heaviest; then the first donor id).
        likeliest = config.keeps_likeliest_arcs
        missing = 1.0 if config.default_probability is None else config.default_probability
        self.best: dict[tuple[_Node, str], Arc] = {}
        for arc in instance.arcs:
            giver = _giver(instance.donor(arc.donor))
            if giver == _pair(arc.patient):
                continue  # a donor to their own patient: not an exchange
            self.graph.add_edge(giver, _pair(arc.patient))
            key = (giver, arc.patient)
            old = self.best.get(key)
            if old is None or _preferred(arc, old, likeliest=likeliest, missing=missing):
                self.best[key] = arc
        self.altruists = [_giver(d) for d in instance.donors if d.patient is None]
        self.exchange_of: dict[_Node, Exchange] = {}
        for e in result.exchanges:
            nodes = [_pair(v) for v in e.vertices]
            if e.kind is ExchangeKind.CHAIN:
                nodes[0] = ("altruist", e.vertices[0])
            for node in nodes:
                self.exchange_of[node] = e
        self._chain_reach: dict[_Node, int] | None = None

    # -- structure -----------------------------------------------------------------------
    def shortest_cycle(self, node: _Node) -> int | None:
        dist = nx.single_source_shortest_path_length(self.graph, node)
        lengths = [dist[u] + 1 for u in self.graph.predecessors(node) if u in dist]
        return min(lengths, default=None)

    def shortest_chain(self, node: _Node) -> int | None:
        if self._chain_reach is None:
            # Unit weights: the distance from the nearest altruist is the chain length.
            sources = set(self.altruists)
            reach = nx.multi_source_dijkstra_path_length(self.graph, sources) if sources else {}
            self._chain_reach = {n: int(d) for n, d in reach.items()}
        return self._chain_reach.get(node)

    def explain(self, patient_id: str) -> Explanation:
        pid = patient_id
        if pid not in self.instance.patient_index:
            return Explanation(pid, Reason.NOT_IN_POOL, f"Patient {pid} is not in this pool.")
        node = _pair(pid)
        own = self.exchange_of.get(node)
        if own is not None:
            return Explanation(pid, Reason.MATCHED, _matched_sentence(pid, own), exchange=own)
        k, chain_limit = self.config.max_cycle, self.config.max_chain
        if self.graph.in_degree(node) == 0:
            return Explanation(
                pid,
                Reason.NO_COMPATIBLE_DONOR,
                f"No donor in the pool is compatible with patient {pid}: no other pair's "
                "donor and no altruist can give to them.",
            )
        cycle, chain = self.shortest_cycle(node), self.shortest_chain(node)
        cycle_ok = cycle is not None and cycle <= k
        chain_ok = chain is not None and chain <= chain_limit
        if self.graph.out_degree(node) == 0 and not chain_ok:
            donors = ", ".join(d.id for d in self.instance.donors_of(pid))
            return Explanation(
                pid,
                Reason.DONORS_COMPATIBLE_WITH_NOBODY,
                f"The donor(s) of patient {pid} ({donors}) are compatible with no other "
                f"patient, so {pid} could only be matched at the end of an altruist's "
                f"chain, and {_chain_phrase(pid, chain, chain_limit, bool(self.altruists))}.",
                shortest_cycle=cycle,
                shortest_chain=chain,
            )
        if not cycle_ok and not chain_ok:
            # Without any cycle or chain through the pair, "longer than allowed" would be
            # wrong: no exchange of any length exists.
            head = (
                f"Patient {pid} cannot be matched in an exchange of any length"
                if cycle is None and chain is None
                else f"Patient {pid} could only be matched in exchanges longer than the scheme "
                "allows"
            )
            return Explanation(
                pid,
                Reason.ONLY_LONG_EXCHANGES,
                f"{head}: {_cycle_phrase(pid, cycle, k)}, and "
                f"{_chain_phrase(pid, chain, chain_limit, bool(self.altruists))}.",
                shortest_cycle=cycle,
                shortest_chain=chain,
            )
        return self._compete(pid, cycle, chain)

    # -- competition ---------------------------------------------------------------------
    def _compete(self, pid: str, cycle: int | None, chain: int | None) -> Explanation:
        run = self.result
        if run.status is Status.OPTIMAL:
            swapped = self._local_swap(pid)
            if swapped is not None and _compare(self.config, run.values, swapped.values) == 0:
                return self._verdict(pid, swapped, cycle, chain, "local-swap", exact=True)
        forced, exact = self._forced_plan(pid)
        if forced is None:
            return Explanation(
                pid,
                Reason.UNKNOWN,
                f"Could not decide why patient {pid} was not matched: the solve with "
                f"{pid} forced in found no plan (see the solver's limits).",
                shortest_cycle=cycle,
                shortest_chain=chain,
                method="forced-solve",
                exact=False,
            )
        return self._verdict(pid, forced, cycle, chain, "forced-solve", exact)

    def _verdict(
        self,
        pid: str,
        plan: Result,
        cycle: int | None,
        chain: int | None,
        method: str,
        exact: bool,
    ) -> Explanation:
        config, run = self.config, self.result
        levels = tuple(
            LevelChange(
                c.value, run.values.get(c.value, 0.0), plan.values.get(c.value, 0.0), c.minimised
            )
            for c in config.criteria
        )
        alternative = next(e for e in plan.exchanges if pid in _receivers(e))
        nodes = set(_nodes(alternative))
        competing = tuple(e for e in run.exchanges if nodes.intersection(_nodes(e)))
        decisive = next((c for c in levels if abs(c.drop) > _TOL), None)
        via = f"in the {_describe(alternative)}"
        breaks = ", ".join(_describe(e) for e in competing)
        if decisive is None:
            reason = Reason.TIE_BROKEN
            displaced = f" in place of the run's {breaks}" if competing else ""
            sentence = (
                f"An equally good plan, with the same value at every level, matches patient "
                f"{pid} {via}{displaced}; the solver's deterministic tie-break chose the "
                "run's plan."
            )
        elif decisive.drop < 0:
            reason = Reason.RUN_NOT_OPTIMAL
            sentence = (
                f"The run was not proven optimal: a better plan matches patient {pid} {via} "
                f"({decisive.level} {_num(decisive.run)} -> {_num(decisive.with_patient)})."
            )
        else:
            first = decisive is levels[0]
            reason = Reason.OUTSCORED if first else Reason.LOST_AT_LOWER_LEVEL
            cost = (
                f"{decisive.level} would drop from {_num(decisive.run)} to "
                f"{_num(decisive.with_patient)}"
            )
            taken = f"the run's {breaks}" if competing else "the run's exchanges"
            if first:
                sentence = (
                    f"Every exchange open to patient {pid} is outscored: the best plan that "
                    f"includes them ({via}) must break {taken}, and {cost}."
                )
            else:
                kept = ", ".join(c.level for c in levels[: levels.index(decisive)])
                sentence = (
                    f"Patient {pid} was lost at a lower level of the hierarchy: including "
                    f"them ({via}, breaking {taken}) keeps {kept} but {cost}."
                )
        return Explanation(
            pid,
            reason,
            sentence,
            alternative=alternative,
            competing=competing,
            levels=levels,
            decisive_level=None if decisive is None else decisive.level,
            shortest_cycle=cycle,
            shortest_chain=chain,
            method=method,
            exact=exact,
        )

    def _local_swap(self, pid: str) -> Result | None:
        """A plan made by swapping a short exchange through ``pid`` into the run's plan
        (module notes): the first that ties with the run, else the best tried, else
        ``None``. The most promising swaps are tried as they are, then with the people
        they free and the unmatched re-optimised among themselves."""
        scored: list[tuple[float, float, int, Exchange, set[Exchange]]] = []
        candidates = itertools.islice(self._exchanges_through(pid), _SWAP_CANDIDATES)
        for n, exchange in enumerate(candidates):
            conflicts = {self.exchange_of[x] for x in _nodes(exchange) if x in self.exchange_of}
            gain = exchange.transplants - sum(e.transplants for e in conflicts)
            weight = exchange.weight - sum(e.weight for e in conflicts)
            scored.append((-gain, -weight, n, exchange, conflicts))
        scored.sort(key=lambda s: s[:3])
        tries = [(e, c, False) for *_, e, c in scored[:_SWAP_VALUED]]
        tries += [(e, c, True) for *_, e, c in scored[:_SWAP_REFILLED]]
        best: Result | None = None
        for exchange, conflicts, refill in tries:
            kept = [e for e in self.result.exchanges if e not in conflicts]
            plan = assemble_plan(
                self.instance,
                self.config,
                [*kept, exchange, *(self._refill(kept, exchange) if refill else ())],
            )
            if best is None or _compare(self.config, best.values, plan.values) < 0:
                best = plan
            if _compare(self.config, self.result.values, best.values) <= 0:
                break
        return best

    def _refill(self, kept: list[Exchange], exchange: Exchange) -> tuple[Exchange, ...]:
        """The best exchanges among the people neither ``kept`` nor in ``exchange``."""
        taken = {x for e in [*kept, exchange] for x in _nodes(e)}
        pool = restrict_pool(
            self.instance,
            {p.id for p in self.instance.patients if _pair(p.id) not in taken},
            {n[1] for n in self.altruists if n not in taken},
            name="free people",
        )
        if pool is None:
            return ()
        refill = solve(pool, self.config)
        return refill.exchanges if refill.status.solved else ()

    def _exchanges_through(self, pid: str) -> Iterable[Exchange]:
        """Cycles through ``pid`` of at most K pairs, then chains of at most L donations
        ending at ``pid``, shortest first."""
        node = _pair(pid)
        k, chain_limit = self.config.max_cycle, self.config.max_chain
        back = [u for u in self.graph.predecessors(node) if u[0] == "pair"]
        for length in range(2, k + 1):
            for path in nx.all_simple_paths(self.graph, node, back, cutoff=length - 1):
                if len(path) == length:
                    yield self._exchange(ExchangeKind.CYCLE, path)
        for length in range(1, chain_limit + 1):
            for altruist in self.altruists:
                for path in nx.all_simple_paths(self.graph, altruist, node, cutoff=length):
                    if len(path) == length + 1:
                        yield self._exchange(ExchangeKind.CHAIN, path)

    def _exchange(self, kind: ExchangeKind, path: Sequence[_Node]) -> Exchange:
        hops = list(itertools.pairwise(path))
        if kind is ExchangeKind.CYCLE:
            hops.append((path[-1], path[0]))
        arcs = [self.best[(giver, receiver[1])] for giver, receiver in hops]
        donations = tuple(Donation(a.donor, a.patient, a.weight) for a in arcs)
        return Exchange(kind, tuple(n[1] for n in path), donations)

    def _forced_plan(self, pid: str) -> tuple[Result | None, bool]:
        """The best plan that matches ``pid`` (module notes), valued on the original pool,
        and whether it is exact; ``(None, ...)`` when a solve failed."""
        instance, config = self.instance, self.config
        criteria = config.criteria
        j = next((i for i, c in enumerate(criteria) if c in _WEIGHT_READERS), len(criteria))
        exact = True
        plan: Result | None = None
        if j > 0:
            # 1 into pid, 0 elsewhere, plus a share of the original weight so small that
            # every plan with pid meets the first level's side row (tolerance 1e-6), yet
            # large enough that the graph keeps the same donor of each pair as the run.
            scale = _ORDER_SHARE / (1.0 + sum(a.weight for a in self.best.values()))
            indicator = _reweighted(
                instance, lambda a: (1.0 if a.patient == pid else 0.0) + scale * a.weight, pid
            )
            phase1 = replace(
                config, objective=Objective.HIERARCHY, levels=(Criterion.WEIGHT, *criteria[:j])
            )
            plan = self._revalued(solve(indicator, phase1), pid)
            if plan is None:
                return None, True
            head = replace(config, objective=Objective.HIERARCHY, levels=criteria[:j])
            if j == len(criteria) or _compare(head, self.result.values, plan.values) != 0:
                return plan, exact and plan.status is Status.OPTIMAL
        bonus = _bonus(instance, config)
        boosted = _reweighted(
            instance, lambda a: a.weight + (bonus if a.patient == pid else 0.0), pid
        )
        forced = self._revalued(solve(boosted, config), pid)
        if forced is None:
            return None, True
        return forced, exact and forced.status is Status.OPTIMAL

    def _revalued(self, forced: Result, pid: str) -> Result | None:
        """``forced`` (solved on a reweighted pool) as a plan of the original pool."""
        if not forced.status.solved or pid not in matched_patients(forced):
            return None
        weight: dict[tuple[str, str], float] = {
            (a.donor, a.patient): a.weight for a in self.instance.arcs
        }
        exchanges = [
            replace(
                e,
                donations=tuple(
                    replace(d, weight=weight[(d.donor, d.patient)]) for d in e.donations
                ),
            )
            for e in forced.exchanges
        ]
        plan = assemble_plan(self.instance, self.config, exchanges)
        return replace(plan, status=forced.status)


def _reweighted(instance: Instance, weight: Callable[[Arc], float], pid: str) -> Instance:
    """The pool with every arc's weight replaced by ``weight(arc)`` (own-donor arcs, never
    used, unchanged)."""
    own = {d.id for d in instance.donors_of(pid)}
    arcs = [
        a if a.donor in own and a.patient == pid else replace(a, weight=weight(a))
        for a in instance.arcs
    ]
    return Instance(instance.patients, instance.donors, arcs, name=instance.name)


def _bonus(instance: Instance, config: SolverConfig) -> float:
    """More than any plan's value of a weight-reading level: each patient receives at
    most once, an arc's weight plus the most age points a donation can earn."""
    best_in: dict[str, float] = {}
    for a in instance.arcs:
        best_in[a.patient] = max(best_in.get(a.patient, 0.0), a.weight)
    rule = config.age_rule
    per_donation = rule.bonus + rule.tie_break_factor * rule.tie_break_span**2
    return float(math.ceil(sum(best_in.values()) + len(instance.patients) * per_donation) + 1)


def _compare(config: SolverConfig, run: dict[str, float], other: dict[str, float]) -> int:
    """Lexicographic comparison over the levels: 1 when ``run`` is better, -1 when
    ``other`` is, 0 when equal at every level."""
    for c in config.criteria:
        a, b = run.get(c.value, 0.0), other.get(c.value, 0.0)
        if abs(a - b) > _TOL * max(1.0, abs(a)):
            better = a < b if c.minimised else a > b
            return 1 if better else -1
    return 0


def _nodes(exchange: Exchange) -> list[_Node]:
    nodes = [_pair(v) for v in exchange.vertices]
    if exchange.kind is ExchangeKind.CHAIN:
        nodes[0] = ("altruist", exchange.vertices[0])
    return nodes


def _receivers(exchange: Exchange) -> set[str]:
    return {d.patient for d in exchange.donations}


def _describe(exchange: Exchange) -> str:
    if exchange.kind is ExchangeKind.CYCLE:
        return f"{len(exchange.vertices)}-way cycle {exchange_path(exchange)}"
    return f"chain {exchange_path(exchange)}"


def _num(value: float) -> str:
    return f"{value:.6g}"


def _matched_sentence(pid: str, exchange: Exchange) -> str:
    donation = next(d for d in exchange.donations if d.patient == pid)
    return (
        f"Patient {pid} is matched: they receive from donor {donation.donor} in the "
        f"{_describe(exchange)}."
    )


def _cycle_phrase(pid: str, cycle: int | None, k: int) -> str:
    if cycle is None:
        return f"no exchange cycle can pass through {pid}"
    limit = "cycles are not allowed" if k < 2 else f"the limit is {k}"
    return f"the shortest cycle through {pid} has {cycle} pairs ({limit})"


def _chain_phrase(pid: str, chain: int | None, limit: int, altruists: bool) -> str:
    if not altruists:
        return "the pool has no altruist to start a chain"
    if chain is None:
        return f"no altruist's chain can reach {pid}"
    allowed = "chains are not allowed" if limit == 0 else f"the limit is {limit}"
    return f"the shortest chain reaching {pid} has {chain} donations ({allowed})"


def _exchange_json(exchange: Exchange | None) -> dict[str, Any] | None:
    return None if exchange is None else exchange_json(exchange)


# -- what-if re-runs --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AddDonor:
    """A new donor (paired with a patient of the pool, or an altruist) and the arcs from
    them to the pool's patients."""

    donor: Donor
    arcs: tuple[Arc, ...]

    def describe(self) -> str:
        whose = "an altruist" if self.donor.patient is None else f"for {self.donor.patient}"
        return f"add donor {self.donor.id} ({whose}, {len(self.arcs)} arcs)"


@dataclass(frozen=True, slots=True)
class RelaxLimits:
    """Longer cycles (K) and/or chains (L); ``None`` keeps the run's limit."""

    max_cycle: int | None = None
    max_chain: int | None = None

    def describe(self) -> str:
        parts = [
            f"K={self.max_cycle}" if self.max_cycle is not None else "",
            f"L={self.max_chain}" if self.max_chain is not None else "",
        ]
        return "relax limits to " + ", ".join(p for p in parts if p)


@dataclass(frozen=True, slots=True)
class AddArcs:
    """Arcs the pool does not have (for instance ABO-incompatible transplants that the
    scheme would accept); an arc the pool already has is ignored."""

    arcs: tuple[Arc, ...]
    label: str = "add arcs"

    def describe(self) -> str:
        return f"{self.label} ({len(self.arcs)} arcs)"


Change = AddDonor | RelaxLimits | AddArcs


@dataclass(frozen=True, slots=True)
class Combination:
    """Several changes applied together in one re-run (``parts``, each a library
    :data:`Change`): donors and arcs added to the pool, the limits relaxed as the parts
    say (:func:`what_if` takes it like one change)."""

    parts: tuple[Change, ...]

    def describe(self) -> str:
        return " + ".join(p.describe() for p in self.parts)


def _changed_pool(instance: Instance, parts: Sequence[Change]) -> tuple[Instance, RelaxLimits]:
    """The pool with every donor and arc the parts add (``instance`` itself when they
    add none; an added arc the pool already has is ignored), and the limits they relax.

    Raises
    ------
    ConfigError
        two parts relax the same limit to different values.
    InstanceError
        an added donor's id is already in the pool, a donor's arcs are not from them,
        or an arc does not fit the pool.
    """
    donors: list[Donor] = []
    arcs: list[Arc] = []
    known: set[tuple[str, str]] | None = None
    limits: dict[str, int] = {}
    for part in parts:
        if isinstance(part, RelaxLimits):
            for name in ("max_cycle", "max_chain"):
                value = getattr(part, name)
                if value is not None and limits.setdefault(name, value) != value:
                    raise ConfigError(
                        f"combined changes set {name} twice ({limits[name]} and {value})"
                    )
            continue
        if isinstance(part, AddDonor):
            donor = part.donor
            if donor.id in instance.donor_index or any(d.id == donor.id for d in donors):
                raise InstanceError(f"donor {donor.id}: already in the pool")
            bad = [a for a in part.arcs if a.donor != donor.id]
            if bad:
                raise InstanceError(
                    f"arc {bad[0].donor}->{bad[0].patient}: expected arcs from donor {donor.id}"
                )
            donors.append(donor)
            added = list(part.arcs)
        else:
            if known is None:
                known = {(a.donor, a.patient) for a in (*instance.arcs, *arcs)}
            added = [a for a in part.arcs if (a.donor, a.patient) not in known]
        if known is not None:
            known.update((a.donor, a.patient) for a in added)
        arcs += added
    limits_relaxed = RelaxLimits(limits.get("max_cycle"), limits.get("max_chain"))
    if not donors and not arcs:
        return instance, limits_relaxed
    changed = Instance(
        instance.patients, (*instance.donors, *donors), (*instance.arcs, *arcs), name=instance.name
    )
    return changed, limits_relaxed


def accept_abo_incompatible(
    instance: Instance, source: Instance | Callable[[Instance], Iterable[Arc]]
) -> AddArcs:
    """The arcs an ABO-incompatible-accepting rule adds: those of ``source`` (the same
    pool built with ABOi accepted, or a function giving its arcs) missing from
    ``instance``."""
    arcs = source.arcs if isinstance(source, Instance) else tuple(source(instance))
    known = {(a.donor, a.patient) for a in instance.arcs}
    extra = tuple(a for a in arcs if (a.donor, a.patient) not in known)
    return AddArcs(extra, "accept ABO-incompatible transplants")


@dataclass(frozen=True, slots=True)
class WhatIf:
    """A re-run under one change: both results, each level's change, and who gains or
    loses a match; ``patient`` fields are filled when a patient was asked about."""

    change: str
    instance: Instance
    config: SolverConfig
    before: Result
    after: Result
    patient: str | None = None

    @property
    def levels(self) -> tuple[LevelChange, ...]:
        return tuple(
            LevelChange(
                c.value,
                self.before.values.get(c.value, 0.0),
                self.after.values.get(c.value, 0.0),
                c.minimised,
            )
            for c in self.config.criteria
        )

    @property
    def newly_matched(self) -> tuple[str, ...]:
        return match_changes(self.before, self.after)[0]

    @property
    def no_longer_matched(self) -> tuple[str, ...]:
        return match_changes(self.before, self.after)[1]

    @property
    def matched_before(self) -> bool | None:
        return None if self.patient is None else self.patient in matched_patients(self.before)

    @property
    def matched_after(self) -> bool | None:
        return None if self.patient is None else self.patient in matched_patients(self.after)

    def sentence(self) -> str:
        gains = ", ".join(f"{c.level} {_num(c.run)} -> {_num(c.with_patient)}" for c in self.levels)
        head = f"With the change ({self.change}): {gains}"
        if self.patient is None:
            return head + "."
        state = "matched" if self.matched_after else "not matched"
        was = "matched" if self.matched_before else "not matched"
        return f"{head}; patient {self.patient} would be {state} (was {was})."

    def to_json(self) -> dict[str, Any]:
        return {
            "change": self.change,
            "patient": self.patient,
            "matched_before": self.matched_before,
            "matched_after": self.matched_after,
            "levels": [
                {"level": c.level, "before": c.run, "after": c.with_patient} for c in self.levels
            ],
            "newly_matched": list(self.newly_matched),
            "no_longer_matched": list(self.no_longer_matched),
            "sentence": self.sentence(),
            "after": self.after.to_json(),
        }


def what_if(
    instance: Instance,
    config: SolverConfig,
    change: Change | Combination,
    *,
    patient_id: str | None = None,
    before: Result | None = None,
) -> WhatIf:
    """Re-run the matching with ``change`` applied and compare with the run ``before``
    (solved here when not given).

    Raises
    ------
    InstanceError
        when the change does not fit the pool (a donor id already used, an arc to an
        unknown patient).
    ConfigError
        for an invalid relaxed limit, or an unknown ``patient_id``.
    """
    if patient_id is not None and patient_id not in instance.patient_index:
        raise ConfigError(f"patient {patient_id}: not in the pool")
    before = before if before is not None else solve(instance, config)
    parts = change.parts if isinstance(change, Combination) else (change,)
    changed, limits = _changed_pool(instance, parts)
    new_config = config
    if limits.max_cycle is not None or limits.max_chain is not None:
        new_config = replace(
            config,
            max_cycle=config.max_cycle if limits.max_cycle is None else limits.max_cycle,
            max_chain=config.max_chain if limits.max_chain is None else limits.max_chain,
        )
    after = solve(changed, new_config)
    return WhatIf(change.describe(), changed, new_config, before, after, patient_id)
