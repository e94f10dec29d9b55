"""``solve(instance, config) -> Result``: the one entry point of the matching engine."""

from __future__ import annotations

import logging
import math
import time
from dataclasses import replace
from typing import Any

import numpy as np
import numpy.typing as npt

from kidneyshare.errors import ConfigError, FormulationTooLarge, SolverError
from kidneyshare.matching import master as master_module
from kidneyshare.matching.backends import Capability, get_backend
from kidneyshare.matching.bounds import assignment_bound
from kidneyshare.matching.chain_pricing import ChainPricer
from kidneyshare.matching.config import Criterion, SolverConfig
from kidneyshare.matching.criteria import (
    CriterionData,
    back_arc_parts,
    block_values,
    chain_arc_values,
    picef_expresses,
)
from kidneyshare.matching.enumeration import (
    ExchangeBlock,
    count_cycles,
    enumerate_chains,
    enumerate_cycles,
    estimate_three_cycles,
)
from kidneyshare.matching.formulations import (
    ExchangeColumns,
    PicefChains,
    build_picef_chains,
    get_formulation,
)
from kidneyshare.matching.graph import CompatibilityGraph
from kidneyshare.matching.linear import BackendOutcome
from kidneyshare.matching.master import (
    UNLISTED_NEAR_BOUND,
    MasterSolution,
    SideRows,
    solve_master,
    with_survivors,
)
from kidneyshare.matching.pricing import MAX_CYCLE as PRICED_MAX_CYCLE
from kidneyshare.matching.pricing import CyclePricer, CyclePricing, ListedCycles
from kidneyshare.matching.reduction import reduce_graph
from kidneyshare.matching.result import Donation, Exchange, ExchangeKind, Result, Status
from kidneyshare.matching.sparse_pricing import MAX_CYCLE as SPARSE_MAX_CYCLE
from kidneyshare.matching.sparse_pricing import SparseCyclePricer
from kidneyshare.matching.two_way import (
    always_matched,
    keeps_two_ways,
    maximum_matching,
    two_way_edges,
)
from kidneyshare.matching.verify import verify
from kidneyshare.model import Instance

__all__ = ["solve"]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

log = logging.getLogger(__name__)

# Enumeration caps: beyond them a formulation is refused (cycles) or swapped (chains).
CYCLE_LIMIT = 25_000_000
CHAIN_LIMIT = 20_000_000
AUTO_CHAIN_LIMIT = 200_000
# ``auto`` prices cycles by search (column generation) instead of enumerating them when
# there are more than this many cycles, or (L >= 3) chains; the dense pricer's matrices
# limit it to PRICED_MAX_PAIRS pairs. 20,000: the 128-pair pools at K=4 L=6 took 20-95 s
# enumerated (160,000 cycles, or PICEF) and take 1.6-6.3 s priced; PrefLib 67 (32 pairs,
# 4 altruists, 150,000 chains) 36 s and 0.2 s.
PRICED_FROM_CYCLES = 20_000
PRICED_FROM_CHAINS = 20_000
PRICED_MAX_PAIRS = 5_000
# With one value on every arc (K <= 4), pools above this many pairs are priced with
# bit sets (sparse_pricing) instead of dense matrices (Saidman 5,000 + 500 at K=4 L=6:
# 121 s dense, 46 s with bit sets).
SPARSE_PRICING_FROM_PAIRS = 3_000
# When ``auto``'s priced solve cannot list the columns it needs to prove its plan, PICEF
# is tried in the time left if it has at most this many cycles and arcs x L. Delorme
# 500 + 50, K=3 L=6: priced left 358 against a bound of 359 (millions of chains near
# the bound); PICEF (7,802 cycles, 75,460 chain-arc variables) proved 359 in 24.6 s.
PICEF_FALLBACK_CYCLES = 2_000_000
PICEF_FALLBACK_VARIABLES = 2_000_000
# With cycles priced, chains of at least this many donations are priced as well; and
# chains of any length from this many pairs on. Delorme 5,000 + 500, K=3 L=2: the LP
# reached its bound in 6 s over 10,481 columns, against 87 s over 216,061 columns and
# 1.8 million PICEF chain-arc variables; K=3 L=2 in one run: Delorme 1,000 + 100
# 13.1 -> 4.6 s, PrefLib 211/212 (512 + 51) 3.9 -> 0.8 s and 4.6 -> 1.3 s, 251/252
# (1,024 + 102) 6.5 -> 4.1 s and 6.2 -> 3.8 s, 241 (1,024 + 51) 3.1 -> 4.9 s.
PRICED_CHAINS_FROM = 3
PRICED_SHORT_CHAINS_FROM_PAIRS = 500
# From this K on, large models start from the K - 1 optimum (at K = 3 the K = 2 start
# did not pay on Delorme 1,000-pair pools: 67 s without, 76 s with).
MIN_K_FOR_SHORTER_START = 4
# Criteria that look at individual donors (ages, back-arcs), not only the pair graph.
_NEEDS_DONORS = frozenset({Criterion.SCORE, Criterion.BACK_ARCS, Criterion.EFFECTIVE_TWO_WAY})
# The master needs integer solves and LP duals (for pricing and the reduced-cost bound).
_NEEDED_CAPABILITIES = frozenset({Capability.INTEGER, Capability.DUALS})


def solve(instance: Instance, config: SolverConfig | None = None) -> Result:
    """Choose the exchanges that optimise the objective, prove it, and verify them.

    A hierarchy (``uk``, ``uk-nhsbt``, ``hierarchy``) is solved lexicographically: each
    level is proven optimal, then kept at that value by a side row while the next is
    optimised, starting from the previous level's plan.

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
        unknown backend or formulation; an objective the formulation cannot express;
        arcs without a success probability for the expected objective.
    FormulationTooLarge
        the cycles (or, for criteria that need whole chains, the chains) exceed the
        enumeration cap.
    """
    config = config or SolverConfig()
    backend = get_backend(config.backend)
    missing = _NEEDED_CAPABILITIES - backend.capabilities
    if missing:
        names = ", ".join(sorted(c.value for c in missing))
        raise ConfigError(f"backend: {config.backend!r} cannot be used here: it lacks {names}")
    if config.formulation != "auto":
        get_formulation(config.formulation)
    criteria = config.criteria
    started = time.perf_counter()
    deadline = None if config.time_limit is None else started + config.time_limit

    full_graph = CompatibilityGraph.from_instance(
        instance,
        missing_probability=_missing_probability(instance, config),
        by_probability=config.keeps_likeliest_arcs,
        # Levels that read the giving donor (ages, back-arcs) get every donor's arc: an
        # exchange then comes once per choice of its pairs' donors, as in kep_solver,
        # whose vertices are donors.
        every_donor=bool(_NEEDS_DONORS & set(criteria)),
    )
    reduction = reduce_graph(full_graph, config.max_cycle, config.max_chain)
    graph = reduction.graph
    whole = [c for c in criteria if not picef_expresses(c, graph)]
    whole_chains = bool(whole)
    if whole_chains and config.formulation == "picef":
        names = ", ".join(c.value for c in whole)
        why = "it needs whole chains"
        if Criterion.EXPECTED_TRANSPLANTS in whole:
            why += ", or one success probability shared by every arc"
        raise ConfigError(
            f"formulation: picef cannot express {names} here ({why}); use the cycle formulation"
        )
    pricer = _pricer(graph, config, whole_chains)
    cycles: list[ExchangeBlock] = []
    chain_blocks: list[ExchangeBlock] = []
    if pricer is not None:
        formulation = "priced"
    else:
        cycles = enumerate_cycles(graph, config.max_cycle, limit=CYCLE_LIMIT)
        formulation, listed_chains = _chain_blocks(graph, config, whole_chains)
        worth = _chain_values(graph, config, whole_chains)
        if listed_chains is not None:
            chain_blocks = listed_chains
        elif worth is not None:
            # Too many chains to list for the cycle formulation: its cycles stay listed,
            # its chains are priced (the same model, columns found by search).
            arc_value, success = worth
            pricer = ListedCycles(graph, config.max_cycle, arc_value, cycles, success)
            cycles = []
    chain_pricer = _chain_pricer(graph, config, pricer)
    # A single priced objective whose plan pricing cannot prove may be handed to PICEF.
    picef_may_follow = (
        pricer is not None
        and len(criteria) == 1
        and not whole_chains
        and _picef_may_follow(graph, config)
    )
    columns = ExchangeColumns(cycles + chain_blocks, np.ones(graph.n_arcs))
    picef_length = config.max_chain if formulation != "cycle" and chain_pricer is None else 0
    chains = build_picef_chains(graph, picef_length, np.ones(graph.n_arcs))
    data = None
    if _NEEDS_DONORS & set(criteria):
        data = CriterionData.build(instance, graph, config.age_rule)
    levels = [_level_values(c, graph, data, columns, chains) for c in criteria]
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

    side = SideRows.none(len(columns), len(chains))
    incumbent: tuple[np.ndarray, np.ndarray] | None = None
    master: MasterSolution | None = None
    status, bound, bound_level = Status.OPTIMAL, None, criteria[-1]
    details: dict[str, float] = {"arcs_removed": float(reduction.arcs_removed)}
    # Columns (and chain variables) still able to appear in a plan optimal for every
    # level solved so far; each proven level drops the rest for good (reduced costs).
    alive = np.arange(len(columns), dtype=np.int64)
    chain_alive = np.arange(len(chains), dtype=np.int64)
    # With the first level's most effective two-ways: the vertices every such plan covers.
    covered: BoolArray | None = None
    # The last level's LP support: where the next level's column generation starts.
    lp_support: tuple[np.ndarray, np.ndarray] | None = None
    for index, criterion in enumerate(criteria):
        column_values, chain_values = levels[index]
        simple_bound = _simple_bound(graph, criterion)
        if index == 0 and len(criteria) == 1 and pricer is None:
            incumbent = _shorter_cycles_start(
                instance, config, graph, columns, chains, formulation, deadline
            )
        elif index == 0 and criterion is Criterion.EFFECTIVE_TWO_WAY and pricer is None:
            matching = _two_way_start(graph, config, columns)
            if matching is not None:
                matched, covered = matching
                incumbent = (matched, np.zeros(0, dtype=np.int64))
                simple_bound = float(len(matched))
        lp_seen: list[Any] = []
        listed: list[ExchangeColumns] = []
        level = solve_master(
            columns.subset(alive).with_values(column_values[alive]),
            chains.subset(chain_alive, chain_values[chain_alive]),
            graph.n_vertices,
            backend,
            integral=_whole(column_values)
            and _whole(chain_values)
            and (pricer is None or (pricer.success is None and _whole(pricer.all_arc_values))),
            deadline=deadline,
            threads=config.threads,
            seed=config.seed,
            simple_bound=simple_bound,
            start_from=None if incumbent is None else _positions(alive, chain_alive, incumbent),
            lp_from=None
            if lp_support is None
            else _alive_positions(alive, chain_alive, lp_support),
            side=side.subset(alive, chain_alive),
            lp_seen=lp_seen,
            pricer=pricer,
            listed=listed,
            chain_pricer=chain_pricer,
            unlisted_stops=picef_may_follow,
        )
        if listed:
            # The cycles the pricer listed replace the (empty) enumerated ones.
            columns = listed[-1]
            levels[index] = _level_values(criterion, graph, data, columns, chains)
            column_values = levels[index][0]
            alive = np.arange(len(columns), dtype=np.int64)
        else:
            level = with_survivors(level, lp_seen)
            if lp_seen:
                # On a degenerate level the interior LP solution spans the optimal face,
                # the next level's feasible region: PrefLib 251's third UK level
                # otherwise grew its LP from the best columns over some 30 rounds.
                lp = lp_seen[0][0]
                lp_support = (alive[lp.support], chain_alive[lp.chain_support])
        details.update({f"{criterion.value}.{k}": v for k, v in level.details.items()})
        details[f"{criterion.value}.columns"] = float(len(alive) + len(chain_alive))
        chosen = (alive[level.columns], chain_alive[level.chain_vars])
        if level.keep is not None and level.chain_keep is not None:
            alive = np.union1d(alive[level.keep], chosen[0])
            chain_alive = np.union1d(chain_alive[level.chain_keep], chosen[1])
        level = replace(level, columns=chosen[0], chain_vars=chosen[1], keep=None, chain_keep=None)
        if master is not None and (
            level.outcome is BackendOutcome.ERROR
            or _plan_value(column_values, chain_values, level)
            < _plan_value(column_values, chain_values, master) - 1e-9
        ):
            # The solver stopped without beating the plan of the level above: keep it.
            level = replace(level, columns=master.columns, chain_vars=master.chain_vars)
        master = level
        value = _plan_value(column_values, chain_values, level)
        status, level_bound = _status(level, value)
        sign = -1.0 if criterion.minimised else 1.0
        bound = None if level_bound is None else sign * level_bound
        bound_level = criterion
        if status is not Status.OPTIMAL:
            break
        incumbent = (level.columns, level.chain_vars)
        if index + 1 < len(criteria):
            tol = 1e-6 * max(1.0, abs(value))
            side = side.add(column_values, chain_values, value - tol)
            if index == 0 and covered is not None and value >= simple_bound - tol:
                # The most effective two-ways are kept: so is every vertex they must cover.
                assert data is not None
                keep, counts = _two_way_restriction(graph, data, columns, covered)
                if keep[level.columns].all():
                    alive = alive[keep[alive]]
                    side = side.add(counts, np.zeros(len(chains)), float(covered.sum()))
                else:
                    log.warning("the two-way plan breaks the matching's restriction: not used")
    solved = time.perf_counter()
    assert master is not None  # criteria is never empty

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
    values: dict[str, float] = {
        "transplants": float(sum(e.transplants for e in cycle_list + chain_list))
    }
    for criterion, (column_values, chain_values) in zip(criteria, levels, strict=True):
        sign = -1.0 if criterion.minimised else 1.0
        values[criterion.value] = _clean(sign * _plan_value(column_values, chain_values, master))
    result = Result(
        status=status,
        config=config,
        cycles=tuple(cycle_list),
        chains=tuple(chain_list),
        values=values,
        bound=None if bound is None else _clean(bound),
        seconds={"build": built - started, "solve": solved - built},
        formulation=formulation,
        message=_message(details, len(columns), len(chains)),
        bound_level=bound_level.value,
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
    if picef_may_follow and any(key.endswith("." + UNLISTED_NEAR_BOUND) for key in details):
        return _picef_fallback(instance, config, result, deadline)
    return result


def _picef_may_follow(graph: CompatibilityGraph, config: SolverConfig) -> bool:
    """``auto`` may follow an unproven priced solve with PICEF: small enough."""
    return (
        config.formulation == "auto"
        and graph.n_arcs * config.max_chain <= PICEF_FALLBACK_VARIABLES
        and _cycle_count(graph, config.max_cycle) <= PICEF_FALLBACK_CYCLES
    )


def _picef_fallback(
    instance: Instance, config: SolverConfig, first: Result, deadline: float | None
) -> Result:
    """``first`` (an unproven priced solve of ``auto`` that could not list the columns
    near its bound, where :func:`_picef_may_follow`) or, when the time left allows,
    PICEF's proven optimum.

    On sparse pools with long chains there can be millions of chains near the LP bound
    while PICEF stays small: its chain-arc variables grow with arcs times L, not with the
    number of chains."""
    remaining = None if deadline is None else deadline - time.perf_counter()
    if remaining is not None and remaining < 1.0:
        return first
    log.info("the priced solve left its plan unproven: trying PICEF in the time left")
    try:
        second = solve(instance, replace(config, formulation="picef", time_limit=remaining))
    except FormulationTooLarge:
        return first
    if second.status is not Status.OPTIMAL:
        return first
    return replace(
        second,
        config=config,
        seconds={k: first.seconds.get(k, 0.0) + v for k, v in second.seconds.items()},
        message=f"priced left its plan unproven, then picef: {second.message}",
    )


def _missing_probability(instance: Instance, config: SolverConfig) -> float:
    """Success probability for arcs that give none (only the expected objective asks)."""
    if Criterion.EXPECTED_TRANSPLANTS not in config.criteria:
        return 1.0
    if config.default_probability is not None:
        return config.default_probability
    for arc in instance.arcs:
        if arc.probability is None:
            raise ConfigError(
                f"objective expected: arc {arc.donor}->{arc.patient} has no success "
                "probability; give one for every arc or set a default probability"
            )
    return 1.0


def _level_values(
    criterion: Criterion,
    graph: CompatibilityGraph,
    data: CriterionData | None,
    columns: ExchangeColumns,
    chains: PicefChains,
) -> tuple[np.ndarray, np.ndarray]:
    """Objective of every column and chain variable for one level, signed to maximise."""
    sign = -1.0 if criterion.minimised else 1.0
    blocks = [block_values(criterion, graph, b, data) for b in columns.blocks]
    column_values = sign * (np.concatenate(blocks) if blocks else np.zeros(0))
    chain_values = (
        sign * chain_arc_values(criterion, graph, chains.arc, chains.position)
        if len(chains)
        else np.zeros(0)
    )
    return column_values, chain_values


def _positions(
    alive: np.ndarray, chain_alive: np.ndarray, plan: tuple[np.ndarray, np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """A plan's columns and chain variables as positions among the alive ones."""
    return np.searchsorted(alive, plan[0]), np.searchsorted(chain_alive, plan[1])


def _alive_positions(
    alive: np.ndarray, chain_alive: np.ndarray, columns: tuple[np.ndarray, np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """Positions among the alive ones of those of ``columns`` still alive."""
    kept = np.intersect1d(columns[0], alive), np.intersect1d(columns[1], chain_alive)
    return _positions(alive, chain_alive, kept)


def _whole(values: np.ndarray) -> bool:
    return bool(np.all(values == np.round(values)))


def _clean(value: float) -> float:
    """Round away float noise of sums (values are whole or have at most 5 decimals,
    expected transplants excepted), keeping -0.0 out of reports."""
    rounded = round(value, 9)
    return rounded + 0.0


def _plan_value(column_values: np.ndarray, chain_values: np.ndarray, plan: MasterSolution) -> float:
    return float(column_values[plan.columns].sum() + chain_values[plan.chain_vars].sum())


def _single_arc_value(
    graph: CompatibilityGraph, config: SolverConfig, whole_chains: bool
) -> FloatArray | None:
    """Each arc's value when the objective is one sum over arcs (max-transplants or
    max-weight), the only kind priced by search; ``None`` otherwise."""
    criteria = config.criteria
    if len(criteria) != 1 or whole_chains:
        return None
    if criteria[0] is Criterion.TRANSPLANTS:
        return np.ones(graph.n_arcs)
    if criteria[0] is Criterion.WEIGHT:
        return graph.weight
    return None


def _chain_values(
    graph: CompatibilityGraph, config: SolverConfig, whole_chains: bool
) -> tuple[FloatArray, FloatArray | None] | None:
    """What priced chains are worth when the objective is one criterion a chain pricer
    values (:class:`~kidneyshare.matching.chain_pricing.ChainPricer`): each donation's
    value and, for expected transplants, each arc's success probability (a donation
    counts only if those before it succeed); ``None`` otherwise."""
    criteria = config.criteria
    if criteria == (Criterion.EXPECTED_TRANSPLANTS,):
        return np.ones(graph.n_arcs), graph.probability
    single = _single_arc_value(graph, config, whole_chains)
    return None if single is None else (single, None)


def _pricer(
    graph: CompatibilityGraph, config: SolverConfig, whole_chains: bool
) -> CyclePricing | None:
    """The cycle pricer when cycles are to be priced by search instead of enumerated:
    ``formulation="priced"``, or ``auto`` on a pool whose cycles are too many to list
    cheaply. Pricing needs a single objective that is a sum over arcs, K <= 4, and
    either a pool small enough for the dense pricer's matrices or one value on every
    arc (the bit-set pricer, used from ``SPARSE_PRICING_FROM_PAIRS`` pairs on)."""
    values = _single_arc_value(graph, config, whole_chains)
    single = values is not None
    uniform = values is not None and bool(np.all(values == values[:1]))
    dense = config.max_cycle <= PRICED_MAX_CYCLE and graph.n_pairs <= PRICED_MAX_PAIRS
    sparse = config.max_cycle <= SPARSE_MAX_CYCLE and uniform
    if config.formulation == "priced":
        if not single or not (dense or sparse):
            raise ConfigError(
                "formulation: priced needs one objective of max-transplants or max-weight, "
                f"--max-cycle at most {PRICED_MAX_CYCLE} and at most {PRICED_MAX_PAIRS:,} "
                f"pairs (any number of pairs with max-transplants, or one weight on "
                f"every arc, and --max-cycle at most {SPARSE_MAX_CYCLE})"
            )
    elif (
        config.formulation != "auto"
        or not single
        or not (dense or sparse)
        or not _many_exchanges(graph, config)
    ):
        return None
    assert values is not None
    if sparse and (graph.n_pairs >= SPARSE_PRICING_FROM_PAIRS or not dense):
        return SparseCyclePricer(graph, config.max_cycle, values)
    return CyclePricer(graph, config.max_cycle, values)


def _chain_pricer(
    graph: CompatibilityGraph, config: SolverConfig, pricer: CyclePricing | None
) -> ChainPricer | None:
    """With cycles priced, chains are priced columns too (rather than PICEF's
    variable per arc and position) when they may be long: from L = 3 on, PICEF's
    variables outnumber the chains worth pricing on dense pools; and on pools of
    ``PRICED_SHORT_CHAINS_FROM_PAIRS`` pairs or more, where even L = 2 gives PICEF a
    variable per arc."""
    if pricer is None or not graph.n_altruists or config.max_chain < 1:
        return None
    if config.max_chain < PRICED_CHAINS_FROM and graph.n_pairs < PRICED_SHORT_CHAINS_FROM_PAIRS:
        return None
    return ChainPricer(graph, config.max_chain, pricer.all_arc_values, success=pricer.success)


def _many_exchanges(graph: CompatibilityGraph, config: SolverConfig) -> bool:
    """More cycles than ``PRICED_FROM_CYCLES`` or, with chains of L >= 3, more chains
    than ``PRICED_FROM_CHAINS``: enough that pricing them beats listing them."""
    if _cycle_count(graph, config.max_cycle) > PRICED_FROM_CYCLES:
        return True
    if config.max_chain < PRICED_CHAINS_FROM or not graph.n_altruists:
        return False
    try:
        enumerate_chains(graph, config.max_chain, limit=PRICED_FROM_CHAINS)
    except FormulationTooLarge:
        return True
    return False


def _cycle_count(graph: CompatibilityGraph, max_cycle: int) -> float:
    """The number of cycles of <= ``max_cycle`` pairs, exact where cheap, else the
    sampled estimate of the three-cycles (a lower bound for K = 4)."""
    exact = count_cycles(graph, max_cycle)
    if exact is not None:
        return float(exact)
    return estimate_three_cycles(graph) if max_cycle >= 3 else 0.0


def _chain_blocks(
    graph: CompatibilityGraph, config: SolverConfig, whole_chains: bool
) -> tuple[str, list[ExchangeBlock] | None]:
    """Pick the formulation ('auto' resolves here) and enumerate chains if it needs them.

    Criteria that value whole chains (``whole_chains``) need them enumerated. For the
    cycle formulation with a single objective a chain pricer values (a sum over arcs, or
    expected transplants) and chains of L >= 3, more than ``AUTO_CHAIN_LIMIT`` chains are
    not listed (``None``): they are priced instead."""
    if config.formulation == "picef":
        return "picef", []
    if config.formulation == "cycle" or whole_chains:
        priceable = (
            _chain_values(graph, config, whole_chains) is not None
            and config.max_chain >= PRICED_CHAINS_FROM
        )
        try:
            limit = AUTO_CHAIN_LIMIT if priceable else CHAIN_LIMIT
            return "cycle", enumerate_chains(graph, config.max_chain, limit=limit)
        except FormulationTooLarge:
            if priceable:
                return "cycle", None
            raise
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
    small = len(columns) + len(chains) <= master_module.DIRECT_LIMIT
    if config.max_cycle < MIN_K_FOR_SHORTER_START or small:
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
    column_ids = np.concatenate(
        [np.zeros(0, dtype=np.int64)]
        + [
            _listed_ids(columns, graph.n_vertices, True, np.asarray(rows, dtype=np.int64))
            for rows in wanted.values()
        ]
    )
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


def _two_way_start(
    graph: CompatibilityGraph, config: SolverConfig, columns: ExchangeColumns
) -> tuple[np.ndarray, BoolArray | None] | None:
    """The most effective two-way exchanges, as the listed columns of a maximum
    matching of the 2-cycles and altruists' arcs (:mod:`~kidneyshare.matching.two_way`):
    a plan optimal for that level, so its size is also the level's bound; with the
    vertices every such plan covers (``None`` without 2-cycles, K < 2, whose chains'
    back-arcs are not two-way exchanges). ``None`` when some matched exchange is not
    listed (then the level is solved as usual)."""
    chains = config.max_chain >= 1
    u, v = two_way_edges(graph, chains=chains)
    if config.max_cycle < 2:
        keep = u >= graph.n_pairs
        u, v = u[keep], v[keep]
    mate = maximum_matching(graph.n_vertices, u, v)
    low = np.flatnonzero((mate >= 0) & (np.arange(graph.n_vertices) < mate))
    # (low, mate[low]) is a 2-cycle listed from its smaller vertex, or (pair, altruist):
    # an altruist's number is above every pair's, and a chain lists the altruist first.
    chain = mate[low] >= graph.n_pairs
    cycles = np.column_stack([low[~chain], mate[low[~chain]]])
    chain_rows = np.column_stack([mate[low[chain]], low[chain]])
    ids = np.concatenate(
        [
            _listed_ids(columns, graph.n_vertices, True, cycles),
            _listed_ids(columns, graph.n_vertices, False, chain_rows),
        ]
    )
    if len(ids) != len(low):
        return None
    covered = always_matched(graph.n_vertices, u, v, mate) if config.max_cycle >= 2 else None
    return np.sort(ids), covered


def _two_way_restriction(
    graph: CompatibilityGraph, data: CriterionData, columns: ExchangeColumns, covered: BoolArray
) -> tuple[BoolArray, FloatArray]:
    """Under the most effective two-ways: which columns can still be chosen
    (:func:`~kidneyshare.matching.two_way.keeps_two_ways`), and each column's number of
    ``covered`` vertices, whose sum over a plan must then be ``covered.sum()`` (with
    each vertex covered at most once, that row makes every covered vertex's row an
    equality, in the LP too)."""
    keep = [np.zeros(0, dtype=bool)]
    counts = [np.zeros(0)]
    for block in columns.blocks:
        parts, edges = back_arc_parts(graph, block, data)
        keep.append(keeps_two_ways(block.vertices, parts, edges, covered))
        counts.append(covered[block.vertices].sum(axis=1).astype(np.float64))
    return np.concatenate(keep), np.concatenate(counts)


def _listed_ids(
    columns: ExchangeColumns, n_vertices: int, is_cycle: bool, rows: np.ndarray
) -> np.ndarray:
    """Ids of the listed cycles (or chains) whose vertices, in the order they are listed
    (a cycle from its smallest vertex, a chain from its altruist), are a row of
    ``rows``: the first listed of each (others differ only in the donors giving)."""
    width = rows.shape[1]
    weights = max(n_vertices, 1) ** np.arange(width, dtype=np.int64)
    want = rows @ weights
    found = [np.zeros(0, dtype=np.int64)]
    for b, block in enumerate(columns.blocks):
        if block.is_cycle == is_cycle and block.vertices.shape[1] == width:
            keys = block.vertices @ weights
            listed = np.flatnonzero(np.isin(keys, want))
            _, first = np.unique(keys[listed], return_index=True)
            found.append(columns.offsets[b] + np.sort(listed[first]))
    return np.concatenate(found)


def _simple_bound(graph: CompatibilityGraph, criterion: Criterion) -> float:
    """The assignment bound (:func:`~kidneyshare.matching.bounds.assignment_bound`) for
    the criteria that are sums over donations of at most the arc's value; no bound for
    the others."""
    if criterion is Criterion.WEIGHT:
        return assignment_bound(graph, graph.weight)
    if criterion in (Criterion.TRANSPLANTS, Criterion.EXPECTED_TRANSPLANTS):
        return assignment_bound(graph, np.ones(graph.n_arcs))
    return math.inf


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


def _message(details: dict[str, float], n_columns: int, n_chain_vars: int) -> str:
    parts = [f"{n_columns} exchange columns", f"{n_chain_vars} chain-arc variables"]
    parts += [f"{k}={v:g}" for k, v in sorted(details.items())]
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
