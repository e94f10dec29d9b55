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
from kidneyshare.matching import Criterion, Objective, SolverConfig, solve, verify
from kidneyshare.matching.policy import BUNDLED_POLICIES, configure

__all__ = ["solve_command"]

_DEFAULT = SolverConfig()
_OBJECTIVES = ", ".join(o.value for o in Objective)
_CRITERIA = ", ".join(c.value for c in Criterion)

INSTANCE_HELP = (
    "Pool file: native JSON, Glasgow JSON or XML, or a PrefLib .wmd (its .dat beside it "
    "is read too); gzipped files are fine. The format is read from the content."
)


def solve_command(
    instance: Annotated[
        Path, typer.Argument(metavar="INSTANCE", help=INSTANCE_HELP, show_default=False)
    ],
    policy: Annotated[
        str | None,
        typer.Option(
            "--policy",
            help=(
                f"A policy TOML file, or a bundled policy ({', '.join(BUNDLED_POLICIES)}): "
                "its rules are the defaults the options below override."
            ),
            show_default=False,
        ),
    ] = None,
    max_cycle: Annotated[
        int | None,
        typer.Option(
            "--max-cycle",
            min=0,
            help=f"Longest exchange cycle (K); 0 or 1: none. [default: {_DEFAULT.max_cycle}]",
            show_default=False,
        ),
    ] = None,
    max_chain: Annotated[
        int | None,
        typer.Option(
            "--max-chain",
            min=0,
            help=(
                "Most in-pool donations in a chain, the altruist's included (L); 0: none. "
                f"[default: {_DEFAULT.max_chain}]"
            ),
            show_default=False,
        ),
    ] = None,
    objective: Annotated[
        str | None,
        typer.Option(
            "--objective",
            help=f"What to optimise: {_OBJECTIVES}. [default: {_DEFAULT.objective.value}]",
            show_default=False,
        ),
    ] = None,
    levels: Annotated[
        list[str] | None,
        typer.Option(
            "--level",
            help=f"A level of --objective hierarchy, most important first (repeat): {_CRITERIA}.",
            show_default=False,
        ),
    ] = None,
    default_probability: Annotated[
        float | None,
        typer.Option(
            "--default-probability",
            help="Success probability of arcs that give none (--objective expected).",
            show_default=False,
        ),
    ] = None,
    formulation: Annotated[
        str | None,
        typer.Option(
            "--formulation",
            help=(
                "auto, cycle, picef or priced (cycles, and chains from L = 3, priced by "
                "search). "
                f"[default: {_DEFAULT.formulation}]"
            ),
            show_default=False,
        ),
    ] = None,
    backend: Annotated[
        str | None,
        typer.Option(
            "--backend", help=f"Solver backend. [default: {_DEFAULT.backend}]", show_default=False
        ),
    ] = None,
    time_limit: Annotated[
        float | None,
        typer.Option(
            "--time-limit", min=0.0, help="Seconds for the whole solve (no limit if unset)."
        ),
    ] = None,
    threads: Annotated[
        int | None,
        typer.Option(
            "--threads",
            min=1,
            help=f"Solver threads. [default: {_DEFAULT.threads}]",
            show_default=False,
        ),
    ] = None,
    seed: Annotated[
        int | None,
        typer.Option(
            "--seed",
            min=0,
            help=f"Solver random seed. [default: {_DEFAULT.seed}]",
            show_default=False,
        ),
    ] = None,
    json_output: Annotated[
        bool,
        typer.Option("--json", help="Print one JSON object on stdout (and nothing else)."),
    ] = False,
) -> None:
    """Choose the best exchange cycles and altruist chains for a pool, and verify them.

    Exits 0 when the result is optimal or the best found within the time limit, 1 when
    the solver failed, 2 for bad input.
    """
    config = configure(
        policy,
        max_cycle=max_cycle,
        max_chain=max_chain,
        objective=objective,
        formulation=formulation,
        backend=backend,
        time_limit=time_limit,
        threads=threads,
        seed=seed,
        default_probability=default_probability,
        levels=levels or None,
    )
    source = os.fspath(instance)
    with working(f"Reading {source}"):
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
