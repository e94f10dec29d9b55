"""The verifier rejects tampered results (and accepts the real one).

A real result is solved on a small pool with a unique optimum, then tampered with
``dataclasses.replace``. Unless a case tampers with them on purpose, the reported values
and bound are recomputed to agree with the tampered exchanges, so that each case carries
exactly one fault; the verifier must report it with a message naming the offending id.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import pytest

from kidneyshare.errors import VerificationError
from kidneyshare.matching import (
    Donation,
    Exchange,
    ExchangeKind,
    Objective,
    Result,
    SolverConfig,
    Status,
    solve,
    verify,
)
from kidneyshare.model import Arc, Donor, DonorId, Instance, Patient, PatientId

# p1 <-> p2 is a 2-cycle; p1 -> p2 -> p3 -> p1 a 3-cycle (p3 has two donors, d3b giving
# the better arc to p1); a1 -> p4 -> p5 -> p6 a chain; a2 -> p3; d6 gives to their own
# patient. With K=2, L=2 the optimum is unique: the cycle (p1, p2), the chains
# (a1, p4, p5) and (a2, p3): 5 transplants, weight 8.
PAIRS = {"p1": ["d1"], "p2": ["d2"], "p3": ["d3", "d3b"], "p4": ["d4"], "p5": ["d5"], "p6": ["d6"]}
ALTRUISTS = ["a1", "a2"]
ARCS = [
    ("d1", "p2", 2.0),
    ("d2", "p1", 3.0),
    ("d2", "p3", 1.0),
    ("d3", "p1", 1.0),
    ("d3b", "p1", 4.0),
    ("a1", "p4", 1.0),
    ("d4", "p5", 1.0),
    ("d5", "p6", 1.0),
    ("a2", "p3", 1.0),
    ("d6", "p6", 1.0),
]
WEIGHTS = {(d, p): w for d, p, w in ARCS}
INSTANCE = Instance(
    [Patient(PatientId(p)) for p in PAIRS],
    [Donor(DonorId(d), PatientId(p)) for p, ds in PAIRS.items() for d in ds]
    + [Donor(DonorId(a)) for a in ALTRUISTS],
    [Arc(DonorId(d), PatientId(p), w) for d, p, w in ARCS],
)
OBJECTIVES = (Objective.MAX_TRANSPLANTS, Objective.MAX_WEIGHT)


def config(objective: Objective, formulation: str = "cycle") -> SolverConfig:
    return SolverConfig(max_cycle=2, max_chain=2, objective=objective, formulation=formulation)


def exchange(kind: ExchangeKind, vertices: Sequence[str], donors: Sequence[str]) -> Exchange:
    """An exchange through ``vertices`` whose i-th donation is made by ``donors[i]`` to the
    next vertex (wrapping round for a cycle), weighted as in the pool (1 if no such arc)."""
    recipients = [vertices[(i + 1) % len(vertices)] for i in range(len(donors))]
    pairs = zip(donors, recipients, strict=True)
    return Exchange(
        kind, tuple(vertices), tuple(Donation(d, p, WEIGHTS.get((d, p), 1.0)) for d, p in pairs)
    )


def cycle(vertices: Sequence[str], donors: Sequence[str]) -> Exchange:
    return exchange(ExchangeKind.CYCLE, vertices, donors)


def chain(vertices: Sequence[str], donors: Sequence[str]) -> Exchange:
    return exchange(ExchangeKind.CHAIN, vertices, donors)


BASE_CYCLE = cycle(["p1", "p2"], ["d1", "d2"])
BASE_CHAINS = (chain(["a1", "p4", "p5"], ["a1", "d4"]), chain(["a2", "p3"], ["a2"]))


def real_result(objective: Objective, formulation: str = "cycle") -> Result:
    result = solve(INSTANCE, config(objective, formulation))
    assert result.status is Status.OPTIMAL
    return result


def tampered(
    result: Result,
    cycles: Sequence[Exchange] | None = None,
    chains: Sequence[Exchange] | None = None,
) -> Result:
    """``result`` with its exchanges replaced, its values and bound made to agree with them."""
    cycles = result.cycles if cycles is None else tuple(cycles)
    chains = result.chains if chains is None else tuple(chains)
    donations = [d for e in (*cycles, *chains) for d in e.donations]
    values = {"transplants": float(len(donations))}
    if result.config.objective is Objective.MAX_WEIGHT:
        values["weight"] = sum(d.weight for d in donations)
    value = values[result.config.objective.value.replace("max-", "")]
    bound = max(result.bound if result.bound is not None else value, value)
    return dataclasses.replace(result, cycles=cycles, chains=chains, values=values, bound=bound)


def assert_rejected(result: Result, offending: Sequence[str]) -> None:
    report = verify(INSTANCE, result.config, result)
    assert not report.ok, f"accepted a tampered result: {result}"
    assert any(o in problem for problem in report.problems for o in offending), (
        f"no problem names any of {list(offending)}: {report.problems}"
    )
    with pytest.raises(VerificationError):
        report.raise_if_invalid()


@pytest.mark.parametrize("formulation", ["cycle", "picef"])
@pytest.mark.parametrize("objective", OBJECTIVES)
def test_untampered_result_is_ok(objective: Objective, formulation: str) -> None:
    result = real_result(objective, formulation)
    assert result.cycles == (BASE_CYCLE,)
    assert result.chains == BASE_CHAINS
    report = verify(INSTANCE, result.config, result)
    assert report.ok, report.problems
    assert report.problems == ()
    report.raise_if_invalid()
    # A consistent rewrite of the same exchanges is still fine (the helper adds no fault).
    assert verify(INSTANCE, result.config, tampered(result)).ok


# Each case: (name, cycles, chains, ids of which at least one must be named).
CASES = [
    (
        "cycle uses a missing arc d1->p3",
        [cycle(["p1", "p3"], ["d1", "d3"])],
        [BASE_CHAINS[0]],
        ["d1", "p3"],
    ),
    (
        "p1 in a cycle and in a chain",
        [BASE_CYCLE],
        [BASE_CHAINS[0], chain(["a2", "p3", "p1"], ["a2", "d3"])],
        ["p1"],
    ),
    ("the same cycle twice", [BASE_CYCLE, BASE_CYCLE], None, ["p1", "p2"]),
    (
        "3-cycle with K=2",
        [cycle(["p1", "p2", "p3"], ["d1", "d2", "d3"])],
        [BASE_CHAINS[0]],
        ["p1", "p2", "p3"],
    ),
    (
        "chain of 3 donations with L=2",
        None,
        [chain(["a1", "p4", "p5", "p6"], ["a1", "d4", "d5"]), BASE_CHAINS[1]],
        ["a1"],
    ),
    (
        "chain started by pair p4",
        None,
        [chain(["p4", "p5", "p6"], ["d4", "d5"]), BASE_CHAINS[1]],
        ["p4"],
    ),
    ("p2's donation made by d3, donor of p3", [cycle(["p1", "p2"], ["d1", "d3"])], None, ["d3"]),
    ("donation by an unknown donor dX", [cycle(["p1", "p2"], ["d1", "dX"])], None, ["dX"]),
    ("one-vertex cycle on the self arc d6->p6", [BASE_CYCLE, cycle(["p6"], ["d6"])], None, ["p6"]),
    (
        "donations do not follow the vertices (d2 gives to p3 in the cycle p1, p2)",
        [
            Exchange(
                ExchangeKind.CYCLE,
                ("p1", "p2"),
                (Donation("d1", "p2", 2.0), Donation("d2", "p3", 1.0)),
            )
        ],
        [BASE_CHAINS[0]],
        ["p1", "p3", "d2"],
    ),
]


@pytest.mark.parametrize("objective", OBJECTIVES)
@pytest.mark.parametrize(
    ("name", "cycles", "chains", "offending"), CASES, ids=[case[0] for case in CASES]
)
def test_tampered_exchanges_are_rejected(
    objective: Objective,
    name: str,
    cycles: list[Exchange] | None,
    chains: list[Exchange] | None,
    offending: list[str],
) -> None:
    assert_rejected(tampered(real_result(objective), cycles, chains), offending)


@pytest.mark.parametrize("objective", OBJECTIVES)
def test_wrong_transplants_value_is_rejected(objective: Objective) -> None:
    result = real_result(objective)
    values = {**result.values, "transplants": result.values["transplants"] + 1}
    bound = max(result.bound or 0.0, values["transplants"])
    assert_rejected(dataclasses.replace(result, values=values, bound=bound), ["transplants"])


def test_wrong_weight_value_is_rejected() -> None:
    result = real_result(Objective.MAX_WEIGHT)
    values = {**result.values, "weight": result.values["weight"] + 0.5}
    bound = max(result.bound or 0.0, values["weight"])
    assert_rejected(dataclasses.replace(result, values=values, bound=bound), ["weight"])


def test_donation_weight_not_the_arcs_is_rejected() -> None:
    # d1 -> p2 has weight 2; the result claims 50 and sums its values consistently.
    result = real_result(Objective.MAX_WEIGHT)
    lying = Exchange(
        ExchangeKind.CYCLE, ("p1", "p2"), (Donation("d1", "p2", 50.0), Donation("d2", "p1", 3.0))
    )
    assert_rejected(tampered(result, cycles=[lying]), ["d1", "p2", "weight"])


@pytest.mark.parametrize("objective", OBJECTIVES)
def test_bound_below_value_is_rejected(objective: Objective) -> None:
    result = real_result(objective)
    assert_rejected(dataclasses.replace(result, bound=result.objective_value - 1), ["bound"])
