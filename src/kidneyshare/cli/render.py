"""Rich tables for people: a solution, a pool's statistics.

Rendering only: every figure shown is computed by the library (``Result``,
``VerificationReport``, ``PoolStatistics``). Ids and file names are shown as plain text,
never read as rich markup.
"""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from kidneyshare.matching import Exchange, ExchangeKind, Result, VerificationReport
from kidneyshare.model import Instance, PoolStatistics
from kidneyshare.model.statistics import CPRA_HIGH, CPRA_MEDIUM

__all__ = ["render_solution", "render_statistics"]


def _number(value: float) -> str:
    """``16`` for 16.0, ``2.5`` for 2.5: figures as a coordinator would write them."""
    return f"{value:,.6g}" if abs(value) < 1e15 else repr(value)


def _summary_grid() -> Table:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    return grid


def _pool_line(source: str, instance: Instance) -> str:
    named = f" ({instance.name})" if instance.name else ""
    return (
        f"{source}{named}: {len(instance.patients)} pairs, {len(instance.altruists)} "
        f"altruists, {len(instance.arcs)} arcs"
    )


def _bound_text(result: Result) -> str:
    if result.bound is None:
        return "none proven"
    gap = result.gap
    shown = "" if gap is None else f" (gap {gap:.2%})"
    level = f" on {result.bound_level}" if len(result.config.criteria) > 1 else ""
    return f"{_number(result.bound)}{level}{shown}"


def _exchange_path(exchange: Exchange) -> str:
    vertices = list(exchange.vertices)
    if exchange.kind is ExchangeKind.CYCLE and vertices:
        vertices.append(vertices[0])
    return " -> ".join(vertices)


def _exchange_table(result: Result) -> Table:
    table = Table(title="Exchanges", title_justify="left")
    table.add_column("#", justify="right")
    table.add_column("kind")
    table.add_column("length", justify="right")
    table.add_column("vertices in donation order", overflow="fold")
    table.add_column("donors used", overflow="fold")
    table.add_column("weight", justify="right")
    for number, exchange in enumerate(result.exchanges, start=1):
        table.add_row(
            str(number),
            exchange.kind.value,
            str(exchange.transplants),
            Text(_exchange_path(exchange)),
            Text(", ".join(d.donor for d in exchange.donations)),
            _number(exchange.weight),
        )
    return table


def render_solution(
    console: Console,
    source: str,
    instance: Instance,
    result: Result,
    report: VerificationReport,
) -> None:
    """Print a solve's summary and its table of exchanges.

    Parameters
    ----------
    console:
        where to print (stdout).
    source:
        the instance file's name.
    instance, result, report:
        the pool, what :func:`~kidneyshare.matching.solve` returned, and what
        :func:`~kidneyshare.matching.verify` found.
    """
    config = result.config
    in_cycles = sum(e.transplants for e in result.cycles)
    in_chains = sum(e.transplants for e in result.chains)
    grid = _summary_grid()
    grid.add_row("Pool", Text(_pool_line(source, instance)))
    grid.add_row("Status", result.status.value)
    grid.add_row(
        "Objective",
        f"{config.objective.value}, cycles up to {config.max_cycle}, "
        f"chains up to {config.max_chain} donations",
    )
    grid.add_row(
        "Transplants",
        f"{result.transplants} ({in_cycles} in {len(result.cycles)} cycles, "
        f"{in_chains} in {len(result.chains)} chains)",
    )
    values = ", ".join(f"{name} {_number(v)}" for name, v in result.values.items())
    grid.add_row("Values", values or "none")
    grid.add_row("Bound", _bound_text(result))
    grid.add_row("Formulation", f"{result.formulation or config.formulation} on {config.backend}")
    times = ", ".join(f"{name} {seconds:.3f} s" for name, seconds in result.seconds.items())
    grid.add_row("Time", times or "not measured")
    grid.add_row("Verified", "yes" if report.ok else Text("; ".join(report.problems)))
    console.print(grid)
    console.print()
    if result.exchanges:
        console.print(_exchange_table(result))
    else:
        console.print("No exchanges selected.")


def _counts_table(title: str, rows: list[tuple[str, list[int]]], columns: list[str]) -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column("")
    for column in columns:
        table.add_column(column, justify="right")
    for label, counts in rows:
        table.add_row(label, *(str(c) for c in counts))
    return table


def render_statistics(
    console: Console, source: str, format_name: str, instance: Instance, stats: PoolStatistics
) -> None:
    """Print a pool's statistics (:func:`kidneyshare.model.describe`) as tables."""
    grid = _summary_grid()
    grid.add_row("File", Text(f"{source} ({format_name})"))
    grid.add_row("Name", Text(instance.name or "(none)"))
    grid.add_row("Pairs", str(stats.pairs))
    grid.add_row("Altruists", str(stats.altruists))
    grid.add_row("Donors", f"{stats.donors} (paired and altruists)")
    grid.add_row(
        "Arcs",
        f"{stats.arcs} ({stats.pair_arcs} pair to pair, {stats.altruist_arcs} from "
        f"altruists, {stats.own_donor_arcs} to a donor's own patient)",
    )
    grid.add_row("Density", f"{stats.density:.4f} (pair-to-pair arcs / possible)")
    grid.add_row(
        "Degrees",
        f"mean in {stats.mean_in_degree:.2f}, mean out {stats.mean_out_degree:.2f} per pair",
    )
    unmatchable = stats.pairs_without_donor
    grid.add_row(
        "Unmatchable",
        f"{unmatchable} {'pair' if unmatchable == 1 else 'pairs'} with no compatible donor",
    )
    console.print(grid)
    console.print()

    groups = ["O", "A", "B", "AB", "unknown"]
    patient, donor = stats.patient_blood_groups, stats.donor_blood_groups
    console.print(
        _counts_table(
            "Blood groups",
            [
                ("patients", [getattr(patient, g) for g in groups]),
                ("donors", [getattr(donor, g) for g in groups]),
            ],
            groups,
        )
    )
    bands = stats.cpra_bands
    console.print(
        _counts_table(
            "Patients by cPRA",
            [("patients", [bands.low, bands.medium, bands.high, bands.unknown])],
            [
                f"low (< {CPRA_MEDIUM:g})",
                f"medium ({CPRA_MEDIUM:g} to < {CPRA_HIGH:g})",
                f"high (>= {CPRA_HIGH:g})",
                "unknown",
            ],
        )
    )
