"""``kidneyshare solve``: read a pool, solve it, verify the answer, show it."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from kidneyshare.cli.output import (
    EXIT_FAILED,
    error_line,
    stdout_console,
    working,
    write_json,
)
from kidneyshare.cli.render import render_solution
from kidneyshare.formats import read_instance
from kidneyshare.matching import Objective, SolverConfig, solve, verify

__all__ = ["solve_command"]

_DEFAULT = SolverConfig()
_OBJECTIVES = ", ".join(o.value for o in Objective)

INSTANCE_HELP = (
    "Pool file: native JSON, Glasgow JSON or XML, or a PrefLib .wmd (its .dat beside it "
    "is read too); gzipped files are fine. The format is read from the content."
)


def solve_command(
    instance: Annotated[
        Path, typer.Argument(metavar="INSTANCE", help=INSTANCE_HELP, show_default=False)
    ],
    max_cycle: Annotated[
        int, typer.Option("--max-cycle", min=0, help="Longest exchange cycle (K); 0 or 1: none.")
    ] = _DEFAULT.max_cycle,
    max_chain: Annotated[
        int,
        typer.Option(
            "--max-chain",
            min=0,
            help="Most in-pool donations in a chain, the altruist's included (L); 0: none.",
        ),
    ] = _DEFAULT.max_chain,
    objective: Annotated[
        str, typer.Option("--objective", help=f"What to maximise: {_OBJECTIVES}.")
    ] = _DEFAULT.objective.value,
    formulation: Annotated[
        str, typer.Option("--formulation", help="auto, cycle or picef.")
    ] = _DEFAULT.formulation,
    backend: Annotated[str, typer.Option("--backend", help="Solver backend.")] = _DEFAULT.backend,
    time_limit: Annotated[
        float | None,
        typer.Option(
            "--time-limit", min=0.0, help="Seconds for the whole solve (no limit if unset)."
        ),
    ] = _DEFAULT.time_limit,
    threads: Annotated[int, typer.Option("--threads", min=1, help="Solver threads.")] = (
        _DEFAULT.threads
    ),
    seed: Annotated[int, typer.Option("--seed", min=0, help="Solver random seed.")] = (
        _DEFAULT.seed
    ),
    json_output: Annotated[
        bool,
        typer.Option("--json", help="Print one JSON object on stdout (and nothing else)."),
    ] = False,
) -> None:
    """Choose the best exchange cycles and altruist chains for a pool, and verify them.

    Exits 0 when the result is optimal or the best found within the time limit, 1 when
    the solver failed, 2 for bad input.
    """
    config = SolverConfig(
        max_cycle=max_cycle,
        max_chain=max_chain,
        objective=Objective.parse(objective),
        formulation=formulation,
        backend=backend,
        time_limit=time_limit,
        threads=threads,
        seed=seed,
    )
    source = os.fspath(instance)
    pool = read_instance(instance)
    with working(f"Solving {source}: {len(pool.patients)} pairs, {len(pool.altruists)} altruists"):
        result = solve(pool, config)
    report = verify(pool, config, result)

    if json_output:
        write_json(result.to_json())
    else:
        render_solution(stdout_console(), source, pool, result, report)

    if not result.status.solved:
        error_line(f"{source}: the solve ended with status {result.status.value}: {result.message}")
        raise typer.Exit(EXIT_FAILED)
    if not report.ok:
        error_line(f"{source}: the result failed verification: {'; '.join(report.problems)}")
        raise typer.Exit(EXIT_FAILED)
