"""The ``kidneyshare`` command: a thin Typer app over the library.

Each command parses its options, calls one library function and renders the answer;
no matching, format or medical rule lives here. Errors the library raises on purpose
(:class:`~kidneyshare.errors.KidneyshareError`) and failed file operations
(:class:`OSError`) are caught once, in :func:`main`, and shown as one line on stderr::

    kidneyshare: error: pool.json, patients[3].cpra: expected a number between 0 and 1, ...

Exit status: 0 done (for ``solve``: optimal or feasible-time-limit), 1 the work failed
(solver error) or the registry's state refuses it (a conflict: a run not yet succeeded,
nothing to repair), 2 bad input (unreadable or malformed file, unknown name or id,
invalid option; Typer's own usage errors also exit 2).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Annotated, NoReturn

import typer

from kidneyshare.cli.compat import (
    build_pool_command,
    crossmatch_command,
    generate_records_command,
    why_command,
)
from kidneyshare.cli.db import db_app
from kidneyshare.cli.explain import explain_command, repair_command
from kidneyshare.cli.output import EXIT_BAD_INPUT, EXIT_FAILED, PROGRAM, error_line
from kidneyshare.cli.pool import (
    convert_command,
    generate_command,
    info_command,
    validate_command,
)
from kidneyshare.cli.serve import serve_command
from kidneyshare.cli.solve import solve_command
from kidneyshare.errors import KidneyshareError

__all__ = ["app", "main"]

app = typer.Typer(
    name=PROGRAM,
    help="Living-donor kidney sharing: pools, optimal verified exchanges.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",
)
app.command("solve")(solve_command)
app.command("generate")(generate_command)
app.command("validate")(validate_command)
app.command("convert")(convert_command)
app.command("info")(info_command)
app.add_typer(db_app)
app.command("serve")(serve_command)
app.command("crossmatch")(crossmatch_command)
app.command("build-pool")(build_pool_command)
app.command("why")(why_command)
app.command("generate-records")(generate_records_command)
app.command("explain")(explain_command)
app.command("repair")(repair_command)
# The registry's workflow commands load SQLAlchemy and the registry (seconds of imports):
# they are added only when one of them (or the full help) is asked for.
_WORKFLOW_COMMANDS = frozenset(
    {
        "run",
        "offers",
        "offer-response",
        "crossmatch-result",
        "transplant",
        "care",
        "centre",
        "user",
        "register",
    }
)
_workflows_added = False


def _add_workflow_commands() -> None:
    global _workflows_added
    if _workflows_added:
        return
    from kidneyshare.cli.workflows import (
        care_app,
        crossmatch_result_command,
        offer_response_command,
        offers_app,
        run_app,
        transplant_command,
    )

    app.add_typer(run_app)
    app.add_typer(offers_app)
    app.command("offer-response")(offer_response_command)
    app.command("crossmatch-result")(crossmatch_result_command)
    app.command("transplant")(transplant_command)
    app.add_typer(care_app)
    from kidneyshare.cli.scheme import centre_app, register_command, user_app

    app.add_typer(centre_app)
    app.add_typer(user_app)
    app.command("register")(register_command)
    _workflows_added = True


def _wants_workflows(args: Sequence[str]) -> bool:
    """Whether the command line names a workflow command, or lists every command."""
    command = next((a for a in args if not a.startswith("-")), None)
    return command is None or command in _WORKFLOW_COMMANDS


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version  # only for --version

    try:
        return version("kidneyshare")
    except PackageNotFoundError:
        return "unknown (not installed)"


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"{PROGRAM} {_version()}")
        raise typer.Exit()


@app.callback()
def _root(
    show_version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_print_version,
            is_eager=True,
            help="Show the version and exit.",
        ),
    ] = False,
) -> None:
    """Living-donor kidney sharing: pools, optimal verified exchanges."""


def _os_message(exc: OSError) -> str:
    """``<file>: <reason>`` for a failed file operation (no errno, no traceback)."""
    reason = exc.strerror or str(exc)
    if isinstance(exc, IsADirectoryError):
        reason += "; expected a file"
    if exc.filename is None:
        return reason
    where = exc.filename if exc.filename2 is None else f"{exc.filename} -> {exc.filename2}"
    return f"{where}: {reason[:1].lower()}{reason[1:]}"


def _exit_status(exc: KidneyshareError | OSError) -> int:
    """2 for bad input (a file, a value, a name or id that names nothing: ``ValueError``,
    ``LookupError`` and ``OSError``), 1 when the input was fine but the work failed
    (solver, verification, size cap, a registry conflict)."""
    bad_input = (ValueError, LookupError, OSError)
    return EXIT_BAD_INPUT if isinstance(exc, bad_input) else EXIT_FAILED


def main(argv: Sequence[str] | None = None) -> NoReturn:
    """Run the ``kidneyshare`` command line (the console script's entry point).

    Parameters
    ----------
    argv:
        the arguments after the program name; ``sys.argv[1:]`` by default.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    if _wants_workflows(args):
        _add_workflow_commands()
    try:
        app(args=args, prog_name=PROGRAM)
    except (KidneyshareError, OSError) as exc:
        message = _os_message(exc) if isinstance(exc, OSError) else str(exc)
        error_line(message)
        sys.exit(_exit_status(exc))
    sys.exit(0)  # app() exits itself; this is for a run that returns
