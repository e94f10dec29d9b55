"""``solve(instance, config) -> Result``: the one entry point of the matching engine."""

from __future__ import annotations

import logging
import time
from dataclasses import replace

import numpy as np

from kidneyshare.errors import ConfigError, FormulationTooLarge, SolverError
from kidneyshare.matching import master as master_module
from kidneyshare.matching.backends import Capability, get_backend
from kidneyshare.matching.config import Objective, SolverConfig
from kidneyshare.matching.enumeration import ExchangeBlock, enumerate_chains, enumerate_cycles
from kidneyshare.matching.formulations import (
    ExchangeColumns,
    PicefChains,
    build_picef_chains,
    get_formulation,
)
from kidneyshare.matching.graph import CompatibilityGraph
from kidneyshare.matching.linear import BackendOutcome
from kidneyshare.matching.master import MasterSolution, solve_master
from kidneyshare.matching.result import Donation, Exchange, ExchangeKind, Result, Status
from kidneyshare.matching.verify import verify
from kidneyshare.model import Instance

__all__ = ["solve"]

log = logging.getLogger(__name__)

# Enumeration caps: beyond them a formulation is refused (cycles) or swapped (chains).
CYCLE_LIMIT = 25_000_000
CHAIN_LIMIT = 20_000_000
AUTO_CHAIN_LIMIT = 200_000
# The master needs integer solves and LP duals (for pricing and the reduced-cost bound).
_NEEDED_CAPABILITIES = frozenset({Capability.INTEGER, Capability.DUALS})


def solve(instance: Instance, config: SolverConfig | None = None) -> Result:
    """Choose the exchanges that maximise the objective, prove it, and verify them.

    Parameters
    ----------
    instance:
        the pool.
    config:
        K, L, objective, formulation, backend and limits; defaults to
        ``SolverConfig()`` (K=3, L=3, max-transplants, auto, HiGHS).

    Returns
    -------
    Result
        status, canonical exchanges, recomputed values, proven bound, timings. The
        result has passed :func:`~kidneyshare.matching.verify`; if it had not, the status
        is ``error`` and ``message`` lists the problems (no exchanges are returned).

    Raises
    ------
    ConfigError
        unknown backend or formulation.
    FormulationTooLarge
        the cycles alone exceed the enumeration cap.
    """
    config = config or SolverConfig()
    backend = get_backend(config.backend)
    missing = _NEEDED_CAPABILITIES - backend.capabilities
    if missing:
        names = ", ".join(sorted(c.value for c in missing))
        raise ConfigError(f"backend: {config.backend!r} cannot be used here: it lacks {names}")
    if config.formulation != "auto":
        get_formulation(config.formulation)
    started = time.perf_counter()
    deadline = None if config.time_limit is None else started + config.time_limit

    graph = CompatibilityGraph.from_instance(instance)
    if config.objective is Objective.MAX_TRANSPLANTS:
        arc_value = np.ones(graph.n_arcs)
    else:
        arc_value = graph.weight.copy()
    integral = bool(np.all(arc_value == np.round(arc_value)))

    cycles = enumerate_cycles(graph, config.max_cycle, limit=CYCLE_LIMIT)
    formulation, chain_blocks = _chain_blocks(graph, config)
    columns = ExchangeColumns(cycles + chain_blocks, arc_value)
    if formulation == "picef":
        chains = build_picef_chains(graph, config.max_chain, arc_value)
    else:
        chains = build_picef_chains(graph, 0, arc_value)
    built = time.perf_counter()
    log.debug(
        "built %s: %d vertices, %d arcs, %d exchange columns, %d chain-arc variables in %.2f s",
        formulation,
        graph.n_vertices,
        graph.n_arcs,
        len(columns),
        len(chains),
        built - started,
    )

    master = solve_master(
        columns,
        chains,
        graph.n_vertices,
        backend,
        integral=integral,
        deadline=deadline,
        threads=config.threads,
        seed=config.seed,
        simple_bound=_simple_bound(graph, arc_value),
        start_from=_shorter_cycles_start(
            instance, config, graph, columns, chains, formulation, deadline
        ),
    )
    solved = time.perf_counter()

    try:
        cycle_list, chain_list = _exchanges(graph, columns, chains, master)
    except SolverError as exc:
        return Result(
            status=Status.ERROR,
            config=config,
            seconds={"build": built - started, "solve": solved - built},
            formulation=formulation,
            message=str(exc),
        )
    transplants = sum(e.transplants for e in cycle_list + chain_list)
    values: dict[str, float] = {"transplants": float(transplants)}
    if config.objective is Objective.MAX_WEIGHT:
        values["weight"] = float(sum(e.weight for e in cycle_list + chain_list))
    value = values["transplants" if config.objective is Objective.MAX_TRANSPLANTS else "weight"]
    status, bound = _status(master, value)
    result = Result(
        status=status,
        config=config,
        cycles=tuple(cycle_list),
        chains=tuple(chain_list),
        values=values,
        bound=bound,
        seconds={"build": built - started, "solve": solved - built},
        formulation=formulation,
        message=_message(master, len(columns), len(chains)),
    )
    report = verify(instance, config, result)
    if not report.ok:
        return Result(
            status=Status.ERROR,
            config=config,
            seconds=result.seconds,
            formulation=formulation,
            message="the solver's answer failed verification: " + "; ".join(report.problems),
        )
    return result


def _chain_blocks(
    graph: CompatibilityGraph, config: SolverConfig
) -> tuple[str, list[ExchangeBlock]]:
    """Pick the formulation ('auto' resolves here) and enumerate chains if it needs them."""
    if config.formulation == "picef":
        return "picef", []
    if config.formulation == "cycle":
        return "cycle", enumerate_chains(graph, config.max_chain, limit=CHAIN_LIMIT)
    try:
        return "cycle", enumerate_chains(graph, config.max_chain, limit=AUTO_CHAIN_LIMIT)
    except FormulationTooLarge:
        return "picef", []


def _shorter_cycles_start(
    instance: Instance,
    config: SolverConfig,
    graph: CompatibilityGraph,
    columns: ExchangeColumns,
    chains: PicefChains,
    formulation: str,
    deadline: float | None,
) -> tuple[np.ndarray, np.ndarray] | None:
    """With K >= 4 on a large model, the optimum for K - 1 as a starting solution.

    It is cheap (the K - 1 model is far smaller) and on dense pools it often already
    meets the K LP bound, which then proves it optimal at once. Only cycles and PICEF
    chain arcs are carried over.
    """
    if config.max_cycle < 4 or len(columns) + len(chains) <= master_module.DIRECT_LIMIT:
        return None
    limit = None if deadline is None else max(deadline - time.perf_counter(), 0.01)
    shorter_config = replace(
        config, max_cycle=config.max_cycle - 1, formulation=formulation, time_limit=limit
    )
    shorter = solve(instance, shorter_config)
    if not shorter.status.solved:
        return None
    number = {vid: i for i, vid in enumerate(graph.ids)}
    wanted: dict[int, list[tuple[int, ...]]] = {}
    for cycle in shorter.cycles:
        wanted.setdefault(len(cycle.vertices), []).append(tuple(number[v] for v in cycle.vertices))
    n = max(graph.n_vertices, 1)
    found: list[np.ndarray] = []
    for b, block in enumerate(columns.blocks):
        if not block.is_cycle or block.length not in wanted:
            continue
        weights = n ** np.arange(block.length, dtype=np.int64)
        keys = block.vertices @ weights
        want = np.asarray(wanted[block.length], dtype=np.int64) @ weights
        found.append(columns.offsets[b] + np.flatnonzero(np.isin(keys, want)))
    column_ids = np.concatenate(found) if found else np.zeros(0, dtype=np.int64)
    chain_vars: list[int] = []
    if formulation == "picef" and len(chains):
        var_of = {
            (int(a), int(k)): i
            for i, (a, k) in enumerate(zip(chains.arc, chains.position, strict=True))
        }
        for chain in shorter.chains:
            verts = [number[v] for v in chain.vertices]
            arcs = graph.find_arcs(np.asarray(verts[:-1]), np.asarray(verts[1:]))
            chain_vars += [
                var_of[(int(a), k + 1)] for k, a in enumerate(arcs) if (int(a), k + 1) in var_of
            ]
    return column_ids, np.asarray(sorted(chain_vars), dtype=np.int64)


def _simple_bound(graph: CompatibilityGraph, arc_value: np.ndarray) -> float:
    """Each pair receives at most once: the sum of each pair's best incoming arc."""
    best = np.zeros(graph.n_pairs)
    np.maximum.at(best, graph.dst, arc_value)
    return float(best.sum())


def _status(master: MasterSolution, value: float) -> tuple[Status, float | None]:
    bound = master.bound
    tol = 1e-6 * max(1.0, abs(value))
    if bound is not None and bound <= value + tol and master.outcome is not BackendOutcome.ERROR:
        # The solution meets a proven bound, whatever stopped the solver.
        return Status.OPTIMAL, value
    if master.outcome is BackendOutcome.OPTIMAL:
        if bound is None or bound <= value + 1e-6 * max(1.0, abs(value)):
            return Status.OPTIMAL, value
        return Status.FEASIBLE_TIME_LIMIT, bound
    if master.outcome is BackendOutcome.TIME_LIMIT:
        return Status.FEASIBLE_TIME_LIMIT, None if bound is None else max(bound, value)
    return Status.ERROR, None


def _message(master: MasterSolution, n_columns: int, n_chain_vars: int) -> str:
    parts = [f"{n_columns} exchange columns", f"{n_chain_vars} chain-arc variables"]
    parts += [f"{k}={v:g}" for k, v in sorted(master.details.items())]
    return ", ".join(parts)


def _donation(graph: CompatibilityGraph, arc: int) -> Donation:
    return Donation(
        donor=graph.donor[arc],
        patient=graph.ids[int(graph.dst[arc])],
        weight=float(graph.weight[arc]),
    )


def _exchanges(
    graph: CompatibilityGraph,
    columns: ExchangeColumns,
    chains: PicefChains,
    master: MasterSolution,
) -> tuple[list[Exchange], list[Exchange]]:
    """Turn chosen columns and chain arcs into canonical, id-labelled exchanges."""
    cycles: list[tuple[tuple[int, ...], Exchange]] = []
    chain_list: list[tuple[tuple[int, ...], Exchange]] = []
    for column in master.columns.tolist():
        block, row = columns.exchange(column)
        verts = tuple(int(v) for v in block.vertices[row])
        arcs = [int(a) for a in block.arcs[row]]
        kind = ExchangeKind.CYCLE if block.is_cycle else ExchangeKind.CHAIN
        ex = Exchange(
            kind, tuple(graph.ids[v] for v in verts), tuple(_donation(graph, a) for a in arcs)
        )
        (cycles if block.is_cycle else chain_list).append((verts, ex))
    for verts, arcs in _trace_chains(graph, chains, master.chain_vars):
        ex = Exchange(
            ExchangeKind.CHAIN,
            tuple(graph.ids[v] for v in verts),
            tuple(_donation(graph, a) for a in arcs),
        )
        chain_list.append((verts, ex))
    cycles.sort(key=lambda t: t[0])
    chain_list.sort(key=lambda t: t[0])
    return [e for _, e in cycles], [e for _, e in chain_list]


def _trace_chains(
    graph: CompatibilityGraph, chains: PicefChains, chosen: np.ndarray
) -> list[tuple[tuple[int, ...], list[int]]]:
    """Follow chosen position-indexed arcs from each altruist; every arc must be reached."""
    by_start: dict[tuple[int, int], list[int]] = {}
    for var in chosen.tolist():
        arc = int(chains.arc[var])
        by_start.setdefault((int(graph.src[arc]), int(chains.position[var])), []).append(arc)
    traced: list[tuple[tuple[int, ...], list[int]]] = []
    reached = 0
    for altruist in range(graph.n_pairs, graph.n_vertices):
        first = by_start.get((altruist, 1))
        if not first:
            continue
        verts, arcs = [altruist], []
        arc_list: list[int] | None = first
        position = 1
        while arc_list:
            arc = arc_list[0]
            arcs.append(arc)
            reached += len(arc_list)
            verts.append(int(graph.dst[arc]))
            position += 1
            arc_list = by_start.get((verts[-1], position))
        traced.append((tuple(verts), arcs))
    if reached != len(chosen) or any(len(v) > 1 for v in by_start.values()):
        raise SolverError("the solver's chain arcs do not form chains from altruists")
    return traced
