"""Recourse: repair a matching run's plan after arcs fail or people withdraw.

Around a third of proposed UK matches do not proceed (a positive laboratory crossmatch,
illness, withdrawal). :func:`repair` takes the run's plan, the failed arcs and withdrawn
people, and the exchanges already agreed (*fixed*), and returns a new plan:

1. every exchange touched by a failure is *broken*: a cycle as a whole; a chain from its
   first donation that cannot go ahead (a failed arc, a withdrawn donor, or a receiving
   pair that withdrew or whose donors all withdrew);
2. fixed exchanges are kept exactly, and a broken fixed exchange is an error (an agreed
   exchange that failed must be released by the caller first);
3. a chain broken mid-way either goes ahead up to the last pair before the failure,
   whose donor then gives to the deceased-donor waiting list
   (:attr:`ChainPolicy.WAITING_LIST`), or is dissolved so that its altruist and pairs are
   re-optimised with everyone else and the chain may be re-routed
   (:attr:`ChainPolicy.RE_ROUTE`);
4. every other pair and altruist still in the pool (those of broken exchanges, the
   unmatched, and the unaffected non-fixed exchanges unless ``keep_unaffected``) is
   re-optimised with :func:`~kidneyshare.matching.solve` on the *reduced pool*: those
   people only, without the failed arcs and the withdrawn;
5. the repaired plan is verified twice: the re-optimised part with
   :func:`~kidneyshare.matching.verify` on the reduced pool, the whole plan on the full
   pool (arcs, length limits, each person once, values recomputed), and checked to use
   no failed arc, no withdrawn person, and every fixed exchange unchanged.

The repaired plan is optimal for the re-optimised part (when that solve is) but, being
constrained by what is kept, not necessarily for the full pool.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from kidneyshare.errors import ConfigError, VerificationError
from kidneyshare.matching.config import SolverConfig
from kidneyshare.matching.result import Exchange, ExchangeKind, Result, Status
from kidneyshare.matching.solve import solve
from kidneyshare.matching.verify import verify
from kidneyshare.model import Instance

__all__ = [
    "BrokenExchange",
    "ChainPolicy",
    "Repair",
    "assemble_plan",
    "exchange_json",
    "exchange_path",
    "match_changes",
    "matched_patients",
    "repair",
    "restrict_pool",
]


class ChainPolicy(Enum):
    """What happens to a chain broken mid-way."""

    WAITING_LIST = "waiting-list"
    """The chain goes ahead up to the last pair before the failure; that pair's donor
    gives to the deceased-donor waiting list."""
    RE_ROUTE = "re-route"
    """The whole chain is dissolved: its altruist and pairs are re-optimised."""


@dataclass(frozen=True, slots=True)
class BrokenExchange:
    """An exchange of the run that cannot go ahead as planned.

    ``causes`` say why (``"arc d3->p7 failed"``, ``"patient p7 withdrew"``);
    ``kept_prefix`` is what of a chain still goes ahead under the waiting-list policy.
    """

    exchange: Exchange
    causes: tuple[str, ...]
    kept_prefix: Exchange | None = None


@dataclass(frozen=True, slots=True)
class Repair:
    """What :func:`repair` returns: the plans before and after, and how they differ.

    ``after`` is the whole repaired plan as a :class:`Result` on the full pool (its
    values recomputed by :func:`verify`; its status ``feasible-time-limit`` because the
    kept exchanges constrain it and no bound is proven for the full pool);
    ``reoptimised`` is the solve of the reduced pool (``None`` when nobody was left to
    re-optimise) and ``reduced`` that pool.
    """

    before: Result
    after: Result
    chain_policy: ChainPolicy
    failed_arcs: tuple[tuple[str, str], ...]
    withdrawn_patients: tuple[str, ...]
    withdrawn_donors: tuple[str, ...]
    fixed: tuple[Exchange, ...]
    broken: tuple[BrokenExchange, ...]
    kept: tuple[Exchange, ...]
    """Exchanges of the run kept exactly (fixed, and unaffected ones when asked)."""
    truncated: tuple[Exchange, ...]
    """Prefixes of broken chains that still go ahead (waiting-list policy)."""
    new: tuple[Exchange, ...]
    """Exchanges chosen by the re-optimisation that the run did not have."""
    rechosen: tuple[Exchange, ...]
    """Exchanges of the run that the re-optimisation chose again, unchanged."""
    dissolved: tuple[Exchange, ...]
    """Unaffected, non-fixed exchanges of the run that the re-optimisation replaced."""
    reoptimised: Result | None
    reduced: Instance | None
    problems: tuple[str, ...] = field(default=())

    @property
    def newly_matched(self) -> tuple[str, ...]:
        return match_changes(self.before, self.after)[0]

    @property
    def no_longer_matched(self) -> tuple[str, ...]:
        return match_changes(self.before, self.after)[1]

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready before/after record (``kidneyshare repair --json``)."""
        ex = exchange_json
        return {
            "chain_policy": self.chain_policy.value,
            "failed_arcs": [f"{d}:{p}" for d, p in self.failed_arcs],
            "withdrawn_patients": list(self.withdrawn_patients),
            "withdrawn_donors": list(self.withdrawn_donors),
            "broken": [
                {
                    "exchange": ex(b.exchange),
                    "causes": list(b.causes),
                    "kept_prefix": None if b.kept_prefix is None else ex(b.kept_prefix),
                }
                for b in self.broken
            ],
            "fixed": [ex(e) for e in self.fixed],
            "kept": [ex(e) for e in self.kept],
            "truncated": [ex(e) for e in self.truncated],
            "new": [ex(e) for e in self.new],
            "rechosen": [ex(e) for e in self.rechosen],
            "dissolved": [ex(e) for e in self.dissolved],
            "newly_matched": list(self.newly_matched),
            "no_longer_matched": list(self.no_longer_matched),
            "before": {"transplants": self.before.transplants, "values": self.before.values},
            "after": self.after.to_json(),
            "reoptimised_status": (
                None if self.reoptimised is None else self.reoptimised.status.value
            ),
        }


def matched_patients(result: Result) -> set[str]:
    """Patients who receive a kidney in ``result``."""
    return {d.patient for e in result.exchanges for d in e.donations}


def match_changes(before: Result, after: Result) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The patients matched in ``after`` but not ``before``, and the reverse (sorted)."""
    old, new = matched_patients(before), matched_patients(after)
    return tuple(sorted(new - old)), tuple(sorted(old - new))


def exchange_path(exchange: Exchange) -> str:
    """``p1 -> p2 -> p1`` for a cycle, ``a1 -> p3 -> p4`` for a chain."""
    vertices = list(exchange.vertices)
    if exchange.kind is ExchangeKind.CYCLE:
        vertices.append(vertices[0])
    return " -> ".join(vertices)


def exchange_json(exchange: Exchange) -> dict[str, Any]:
    """An exchange as JSON: kind, vertices and each donation."""
    return {
        "kind": exchange.kind.value,
        "vertices": list(exchange.vertices),
        "donations": [
            {"donor": d.donor, "patient": d.patient, "weight": d.weight} for d in exchange.donations
        ],
    }


def assemble_plan(
    instance: Instance,
    config: SolverConfig,
    exchanges: Iterable[Exchange],
    message: str = "assembled plan: not proven optimal for this pool",
) -> Result:
    """A :class:`Result` for a plan put together outside the solver, verified.

    The values are recomputed by :func:`verify` from the instance's records; the status
    is ``feasible-time-limit`` with no bound (nothing is proven about optimality).

    Raises
    ------
    VerificationError
        when the plan breaks the pool's rules (unknown arc, someone used twice, a length
        limit).
    """
    cycles = tuple(e for e in exchanges if e.kind is ExchangeKind.CYCLE)
    chains = tuple(e for e in exchanges if e.kind is ExchangeKind.CHAIN)
    if len(cycles) + len(chains) == 0:
        values = {"transplants": 0.0} | {c.value: 0.0 for c in config.criteria}
        return Result(Status.FEASIBLE_TIME_LIMIT, config, values=values, message=message)
    draft = Result(Status.FEASIBLE_TIME_LIMIT, config, cycles, chains, message=message)
    # A plan without values: verify reports them missing and recomputes them.
    recomputed = verify(instance, config, draft).values
    plan = Result(Status.FEASIBLE_TIME_LIMIT, config, cycles, chains, recomputed, message=message)
    verify(instance, config, plan).raise_if_invalid()
    return plan


def repair(
    instance: Instance,
    config: SolverConfig,
    result: Result,
    *,
    failed_arcs: Iterable[tuple[str, str]] = (),
    withdrawn_patients: Iterable[str] = (),
    withdrawn_donors: Iterable[str] = (),
    fixed: Collection[Exchange] = (),
    chain_policy: ChainPolicy | str = ChainPolicy.WAITING_LIST,
    keep_unaffected: bool = False,
) -> Repair:
    """Repair ``result`` after failures, keeping the ``fixed`` exchanges exactly.

    Parameters
    ----------
    instance, config, result:
        the run: its pool, configuration and plan.
    failed_arcs:
        ``(donor id, patient id)`` arcs that failed (a positive crossmatch); each must be
        an arc of the pool, planned or not.
    withdrawn_patients, withdrawn_donors:
        people who left the pool (an altruist is a donor). A pair whose donors all
        withdrew cannot take part.
    fixed:
        exchanges of ``result`` already agreed: kept exactly.
    chain_policy:
        what happens to a chain broken mid-way (:class:`ChainPolicy`).
    keep_unaffected:
        keep the run's unaffected exchanges as well, re-optimising only the people of
        broken exchanges and the unmatched (fewer changes for centres, maybe fewer
        transplants).

    Returns
    -------
    Repair
        the broken exchanges, what is kept, the new exchanges, and the plans before and
        after (see the module notes for the checks made).

    Raises
    ------
    ConfigError
        an unknown arc or person, a fixed exchange that is not in the plan or that the
        failures break, or a result that was not solved.
    VerificationError
        if the repaired plan breaks a rule (a defect: it never should).
    """
    try:
        policy = ChainPolicy(chain_policy)
    except ValueError:
        names = ", ".join(p.value for p in ChainPolicy)
        raise ConfigError(
            f"chain policy: unknown policy {chain_policy!r}; expected one of {names}"
        ) from None
    if not result.status.solved:
        raise ConfigError(f"result: the run ended with status {result.status.value}; no plan")
    failed = _check_arcs(instance, failed_arcs)
    gone_patients = _check_ids(withdrawn_patients, instance.patient_index, "patient")
    gone_donors = _check_ids(withdrawn_donors, instance.donor_index, "donor")
    fixed_set = _check_fixed(result, fixed)

    def pair_unable(patient: str) -> str | None:
        if patient in gone_patients:
            return f"patient {patient} withdrew"
        if all(d.id in gone_donors for d in instance.donors_of(patient)):
            return f"the donors of pair {patient} withdrew"
        return None

    def donation_unable(donor: str, patient: str) -> str | None:
        if (donor, patient) in failed:
            return f"arc {donor}->{patient} failed"
        if donor in gone_donors:
            return f"donor {donor} withdrew"
        return pair_unable(patient)

    broken: list[BrokenExchange] = []
    kept: list[Exchange] = []
    truncated: list[Exchange] = []
    reoptimisable: list[Exchange] = []
    for exchange in result.exchanges:
        # Every pair of an exchange receives one of its donations, so checking donations
        # covers withdrawn pairs too (and never mistakes an altruist id for a patient's).
        causes = [c for d in exchange.donations if (c := donation_unable(d.donor, d.patient))]
        if exchange.kind is ExchangeKind.CHAIN and exchange.vertices[0] in gone_donors:
            causes.append(f"altruist {exchange.vertices[0]} withdrew")
        causes = list(dict.fromkeys(causes))
        if causes:
            if exchange in fixed_set:
                raise ConfigError(
                    f"fixed: the agreed exchange {exchange_path(exchange)} is broken "
                    f"({'; '.join(causes)}); release it before repairing"
                )
            prefix = None
            if exchange.kind is ExchangeKind.CHAIN and policy is ChainPolicy.WAITING_LIST:
                prefix = _chain_prefix(exchange, donation_unable)
                if prefix is not None:
                    truncated.append(prefix)
            broken.append(BrokenExchange(exchange, tuple(causes), prefix))
        elif exchange in fixed_set or keep_unaffected:
            kept.append(exchange)
        else:
            reoptimisable.append(exchange)

    taken = {v for e in kept + truncated for v in e.vertices}
    reduced = restrict_pool(
        instance,
        {p.id for p in instance.patients if p.id not in taken and pair_unable(p.id) is None},
        {a.id for a in instance.altruists if a.id not in taken and a.id not in gone_donors},
        without_arcs=failed,
        without_donors=gone_donors,
        name="reduced for recourse",
    )
    new: tuple[Exchange, ...] = ()
    reoptimised = None
    problems: list[str] = []
    if reduced is not None:
        reoptimised = solve(reduced, config)
        if not reoptimised.status.solved:
            raise VerificationError(
                [
                    f"re-optimisation ended with status {reoptimised.status.value}: "
                    f"{reoptimised.message}"
                ]
            )
        verify(reduced, config, reoptimised).raise_if_invalid()
        new = reoptimised.exchanges
    after = assemble_plan(
        instance,
        config,
        kept + truncated + list(new),
        message=f"repaired plan ({policy.value}); not proven optimal for the full pool",
    )
    problems += _check_repaired(after, failed, gone_patients, gone_donors, fixed_set)
    if problems:
        raise VerificationError(problems)
    after_set, planned = set(after.exchanges), set(result.exchanges)
    return Repair(
        before=result,
        after=after,
        chain_policy=policy,
        failed_arcs=tuple(sorted(failed)),
        withdrawn_patients=tuple(sorted(gone_patients)),
        withdrawn_donors=tuple(sorted(gone_donors)),
        fixed=tuple(e for e in result.exchanges if e in fixed_set),
        broken=tuple(broken),
        kept=tuple(kept),
        truncated=tuple(truncated),
        new=tuple(e for e in new if e not in planned),
        rechosen=tuple(e for e in new if e in planned),
        dissolved=tuple(e for e in reoptimisable if e not in after_set),
        reoptimised=reoptimised,
        reduced=reduced,
    )


def _check_arcs(instance: Instance, arcs: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
    known = {(a.donor, a.patient) for a in instance.arcs}
    failed: set[tuple[str, str]] = set()
    for donor, patient in arcs:
        if (donor, patient) not in known:
            raise ConfigError(f"failed arc {donor}:{patient}: no such arc in the pool")
        failed.add((donor, patient))
    return failed


def _check_ids(ids: Iterable[str], known: Collection[str], kind: str) -> set[str]:
    found = set()
    for i in ids:
        if i not in known:
            raise ConfigError(f"withdrawn {kind} {i}: no such {kind} in the pool")
        found.add(i)
    return found


def _check_fixed(result: Result, fixed: Collection[Exchange]) -> set[Exchange]:
    planned = set(result.exchanges)
    for e in fixed:
        if e not in planned:
            raise ConfigError(
                f"fixed: the exchange {exchange_path(e)} is not an exchange of the plan"
            )
    return set(fixed)


def _chain_prefix(chain: Exchange, donation_unable: Any) -> Exchange | None:
    """The part of ``chain`` before its first donation that cannot go ahead, or ``None``
    when not even the altruist's donation can."""
    stop = next(
        i for i, d in enumerate(chain.donations) if donation_unable(d.donor, d.patient) is not None
    )
    if stop == 0:
        return None
    return Exchange(ExchangeKind.CHAIN, chain.vertices[: stop + 1], chain.donations[:stop])


def restrict_pool(
    instance: Instance,
    patients: Collection[str],
    altruists: Collection[str],
    *,
    without_arcs: Collection[tuple[str, str]] = frozenset(),
    without_donors: Collection[str] = frozenset(),
    name: str = "restricted",
) -> Instance | None:
    """The pool of only ``patients`` (with their donors) and ``altruists``, less the
    ``without_donors`` and the ``without_arcs``; ``None`` when no patient is left."""
    kept = [p for p in instance.patients if p.id in patients]
    if not kept:
        return None
    keep = {p.id for p in kept}
    donors = [
        d
        for d in instance.donors
        if d.id not in without_donors
        and (d.patient in keep if d.patient is not None else d.id in altruists)
    ]
    giving = {d.id for d in donors}
    arcs = [
        a
        for a in instance.arcs
        if a.donor in giving and a.patient in keep and (a.donor, a.patient) not in without_arcs
    ]
    return Instance(kept, donors, arcs, name=f"{instance.name} ({name})".strip())


def _check_repaired(
    plan: Result,
    failed: set[tuple[str, str]],
    gone_patients: set[str],
    gone_donors: set[str],
    fixed: set[Exchange],
) -> list[str]:
    """The recourse rules verify cannot know: no failed arc, nobody withdrawn, every
    fixed exchange present and unchanged."""
    problems = []
    planned = set(plan.exchanges)
    for e in plan.exchanges:
        for d in e.donations:
            if (d.donor, d.patient) in failed:
                problems.append(f"{exchange_path(e)} uses the failed arc {d.donor}->{d.patient}")
            if d.donor in gone_donors or d.patient in gone_patients:
                problems.append(
                    f"{exchange_path(e)} uses a withdrawn person ({d.donor}->{d.patient})"
                )
    problems += [
        f"fixed exchange {exchange_path(e)} was changed" for e in fixed if e not in planned
    ]
    return problems
