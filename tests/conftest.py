"""Shared test configuration: where the public benchmark instances live.

Tests that read ``../shared/data`` are marked ``public_data`` and skip cleanly when the
folder is absent. The folder is ``$KIDNEYSHARE_SHARED_DATA`` when that is set, else
``<repo>/../shared/data``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.shared_data import preflib_index_rows, shared_data_dir


@pytest.fixture
def shared_data() -> Path:
    """The public-instances folder; skips the test when it is absent."""
    folder = shared_data_dir()
    if not folder.is_dir():
        pytest.skip(f"public instances not found at {folder} (set KIDNEYSHARE_SHARED_DATA)")
    return folder


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Give a test that takes ``preflib_row`` one case per PrefLib instance on disk."""
    if "preflib_row" not in metafunc.fixturenames:
        return
    rows = [row for row in preflib_index_rows() if row["wmd"] != "missing"]
    if rows:
        metafunc.parametrize("preflib_row", rows, ids=[row["stem"] for row in rows])
    else:
        skip = pytest.mark.skip(reason=f"no PrefLib index under {shared_data_dir()}")
        metafunc.parametrize("preflib_row", [pytest.param(None, marks=skip)], ids=["absent"])
