"""Where the public benchmark instances live (``$KIDNEYSHARE_SHARED_DATA``, else
``<repo>/../shared/data``), for conftest.py and the tests that read them.

Kept out of conftest.py so tests can import it: the registry and service test folders
have conftest modules of their own, and ``from conftest import ...`` could reach theirs.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def shared_data_dir() -> Path:
    """The folder of public instances (it may not exist)."""
    configured = os.environ.get("KIDNEYSHARE_SHARED_DATA")
    return Path(configured) if configured else REPO.parent / "shared" / "data"


def preflib_index_rows() -> list[dict[str, str]]:
    """The rows of ``preflib/INDEX.csv`` (empty when the folder is absent)."""
    index = shared_data_dir() / "preflib" / "INDEX.csv"
    if not index.is_file():
        return []
    with index.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))
