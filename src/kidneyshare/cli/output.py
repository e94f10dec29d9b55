"""Where the CLI writes: results on stdout, everything else on stderr.

stdout carries only what a command produces (a JSON object, a table, an instance file),
so that it can be piped; errors, warnings and progress go to stderr. Consoles are made
when a command runs, never at import time, so that they follow the current streams.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import Any

from rich.console import Console

__all__ = [
    "EXIT_BAD_INPUT",
    "EXIT_FAILED",
    "EXIT_OK",
    "PROGRAM",
    "error_line",
    "info",
    "one_line",
    "stdout_console",
    "warning_line",
    "working",
    "write_json",
]

PROGRAM = "kidneyshare"

EXIT_OK = 0
"""The command did its work (for ``solve``: optimal or feasible-time-limit)."""
EXIT_FAILED = 1
"""The input was fine but the work failed (the solver reported an error)."""
EXIT_BAD_INPUT = 2
"""Bad input: a file that cannot be read, a malformed pool, an invalid option."""


def stdout_console() -> Console:
    """A console on stdout for a command's tables (no automatic highlighting)."""
    return Console(highlight=False)


def _stderr_console() -> Console:
    return Console(stderr=True, highlight=False, soft_wrap=True)


def one_line(message: str) -> str:
    """``message`` on one line: line breaks become single spaces."""
    return " ".join(part.strip() for part in message.splitlines() if part.strip())


def error_line(message: str) -> None:
    """Write ``kidneyshare: error: <message>`` to stderr, as exactly one line."""
    sys.stderr.write(f"{PROGRAM}: error: {one_line(message)}\n")
    sys.stderr.flush()


def warning_line(message: str) -> None:
    """Write ``kidneyshare: warning: <message>`` to stderr, as exactly one line."""
    sys.stderr.write(f"{PROGRAM}: warning: {one_line(message)}\n")
    sys.stderr.flush()


def info(message: str) -> None:
    """An informational line on stderr (never on stdout)."""
    sys.stderr.write(f"{PROGRAM}: {one_line(message)}\n")
    sys.stderr.flush()


def write_json(document: Any) -> None:
    """Write ``document`` to stdout as one JSON object followed by a newline."""
    sys.stdout.write(json.dumps(document, ensure_ascii=False) + "\n")
    sys.stdout.flush()


@contextmanager
def working(message: str) -> Iterator[None]:
    """Show a spinner with ``message`` on stderr while the block runs, when stderr is a
    terminal; do nothing otherwise (pipes and logs get no animation)."""
    console = _stderr_console()
    status = console.status(message) if console.is_terminal else nullcontext()
    with status:
        yield
