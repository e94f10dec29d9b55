"""The ``kidneyshare`` command line (Typer + rich): thin, over the library.

Commands: ``solve``, ``generate``, ``validate``, ``convert``, ``info``. The console
script runs :func:`main`.
"""

from kidneyshare.cli.main import app, main

__all__ = ["app", "main"]
