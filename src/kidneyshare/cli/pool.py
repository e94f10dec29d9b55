"""Pool commands: ``generate``, ``validate``, ``convert`` and ``info``."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Annotated

import typer

from kidneyshare.cli.output import (
    info,
    stdout_console,
    warning_line,
    working,
    write_json,
)
from kidneyshare.cli.pool_warnings import pool_warnings
from kidneyshare.cli.render import render_statistics
from kidneyshare.cli.solve import INSTANCE_HELP
from kidneyshare.errors import ConfigError
from kidneyshare.formats import (
    FORMATS,
    dat_path_for,
    dump_instance,
    read_instance_format,
    write_instance,
)
from kidneyshare.generators import altruists_from_fraction, generate_saidman
from kidneyshare.generators.delorme import generate_delorme
from kidneyshare.model import Instance, describe

__all__ = ["convert_command", "generate_command", "info_command", "validate_command"]

_FORMAT_NAMES = ", ".join(FORMATS)
_STDOUT = "-"


def _check_format(option: str, name: str) -> None:
    """Refuse an unknown format name before any work is done."""
    if name not in FORMATS:
        raise ConfigError(f"{option}: unknown format {name!r}; expected one of {_FORMAT_NAMES}")


def _counts(instance: Instance) -> str:
    return (
        f"{len(instance.patients)} pairs, {len(instance.altruists)} altruists, "
        f"{len(instance.arcs)} arcs"
    )


def _read(path: Path) -> tuple[Instance, str]:
    """The pool in ``path`` and the format it was found in."""
    with working(f"Reading {path}"):
        return read_instance_format(path)


def _companion(path: Path) -> Path | None:
    """The PrefLib ``.dat`` beside ``path`` that :func:`read_instance` reads, if any."""
    dat = dat_path_for(path)
    for candidate in (dat, dat.with_name(dat.name + ".gz")):
        if candidate.is_file():
            return candidate
    return None


def _write(instance: Instance, output: Path, format_name: str) -> None:
    """Write ``instance`` to ``output`` (``-``: stdout) and say so on stderr."""
    if os.fspath(output) == _STDOUT:
        if format_name == "preflib":
            raise ConfigError(
                "OUTPUT: PrefLib is a .wmd with a .dat companion; expected a file path, not -"
            )
        typer.echo(dump_instance(instance, format_name), nl=False)
        return
    with working(f"Writing {output}"):
        write_instance(instance, output, format_name)
    also = f" and {dat_path_for(output)}" if format_name == "preflib" else ""
    info(f"wrote {_counts(instance)} to {output}{also} ({format_name})")


def generate_command(
    pairs: Annotated[int, typer.Option("--pairs", min=0, help="Incompatible patient-donor pairs.")],
    seed: Annotated[
        int, typer.Option("--seed", min=0, help="Random seed: the same seed, the same pool.")
    ],
    altruists: Annotated[
        int | None, typer.Option("--altruists", min=0, help="Altruists (non-directed donors).")
    ] = None,
    altruist_fraction: Annotated[
        float | None,
        typer.Option(
            "--altruist-fraction",
            min=0.0,
            max=1.0,
            help="Altruists as a fraction of the pairs, rounded down (instead of --altruists).",
        ),
    ] = None,
    format_name: Annotated[
        str, typer.Option("--format", help=f"Output format: {_FORMAT_NAMES}.")
    ] = "native",
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="File to write (stdout if unset; required for preflib, which also writes "
            "the .dat beside it).",
        ),
    ] = None,
    model: Annotated[
        str,
        typer.Option(
            "--model",
            help="saidman (Saidman et al. 2006) or delorme (Delorme et al. 2022, UK).",
        ),
    ] = "saidman",
) -> None:
    """Draw a pool with the Saidman et al. (2006) or Delorme et al. (2022) generator."""
    _check_format("--format", format_name)
    if altruists is not None and altruist_fraction is not None:
        raise ConfigError(
            "--altruists, --altruist-fraction: expected at most one of them, got both"
        )
    if output is None and format_name == "preflib":
        raise ConfigError(
            "--output: PrefLib is a .wmd with a .dat companion; expected -o PATH for the .wmd"
        )
    count = (
        altruists_from_fraction(pairs, altruist_fraction)
        if altruist_fraction is not None
        else altruists or 0
    )
    if model not in ("saidman", "delorme"):
        raise ConfigError(f"--model: unknown generator {model!r}; expected saidman or delorme")
    draw = generate_delorme if model == "delorme" else generate_saidman
    with working(f"Generating {pairs} pairs and {count} altruists"):
        instance = draw(pairs, count, seed=seed)
    _write(instance, Path(_STDOUT) if output is None else output, format_name)


def validate_command(
    instance: Annotated[
        Path, typer.Argument(metavar="INSTANCE", help=INSTANCE_HELP, show_default=False)
    ],
) -> None:
    """Check that a pool file can be read; report its format and size.

    Exits 2 with the problem (file, line or field, what was expected) when it cannot be
    read. Warns on stderr, without failing, about pairs that no donor can give to, donors
    compatible with their own patient, and isolated vertices.
    """
    source = os.fspath(instance)
    pool, format_name = _read(instance)
    details = f"{format_name}"
    if format_name == "preflib":
        dat = _companion(instance)
        details += f", with {dat}" if dat else ", no .dat beside it (blood groups, cPRA unknown)"
    named = f" {pool.name!r}" if pool.name else ""
    typer.echo(
        f"{source}: valid pool{named} ({details}): {_counts(pool)}, {len(pool.donors)} donors"
    )
    for warning in pool_warnings(pool):
        warning_line(f"{source}: {warning}")


def convert_command(
    source_path: Annotated[Path, typer.Argument(metavar="INPUT", help=INSTANCE_HELP)],
    output: Annotated[
        Path,
        typer.Argument(
            metavar="OUTPUT",
            help="File to write (- for stdout); for preflib the .dat is written beside it.",
        ),
    ],
    to: Annotated[str, typer.Option("--to", help=f"Output format: {_FORMAT_NAMES}.")],
) -> None:
    """Read a pool in any format and write it in another.

    Fields the output format has no place for (ages, names, probabilities ...) are left
    out; see each format's documentation.
    """
    _check_format("--to", to)
    if os.fspath(output) != _STDOUT and output.resolve() == source_path.resolve():
        raise ConfigError(f"OUTPUT: {output} is the input file; expected another path")
    pool, format_name = _read(source_path)
    info(f"read {source_path} ({format_name}): {_counts(pool)}")
    _write(pool, output, to)


def info_command(
    instance: Annotated[
        Path, typer.Argument(metavar="INSTANCE", help=INSTANCE_HELP, show_default=False)
    ],
    json_output: Annotated[
        bool, typer.Option("--json", help="Print one JSON object on stdout.")
    ] = False,
) -> None:
    """Pool statistics: sizes, arcs, density, degrees, blood groups and cPRA bands."""
    pool, format_name = _read(instance)
    stats = describe(pool)
    source = os.fspath(instance)
    if json_output:
        write_json(
            {"file": source, "format": format_name, "name": pool.name} | dataclasses.asdict(stats)
        )
    else:
        render_statistics(stdout_console(), source, format_name, pool, stats)
