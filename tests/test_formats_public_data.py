"""Every public instance in ../shared/data reads, with the counts its index gives.

Marked ``public_data``: skipped when the folder is absent (see ``conftest.py``).
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from format_pools import pool_key
from kidneyshare.errors import FormatError
from kidneyshare.formats import read_instance
from kidneyshare.formats._files import read_text
from kidneyshare.model import Instance

pytestmark = pytest.mark.public_data

# (pairs, altruists, arcs), counted by hand from kep_solver's test files
GLASGOW = {
    "test1.json": (4, 0, 5),
    "test1.v2.json": (4, 0, 5),
    "test1.xml": (4, 0, 5),
    "test2.json": (6, 0, 10),
    "test2.xml": (6, 0, 10),
    "test_simple_chains.json": (1, 2, 1),
}


def counts(pool: Instance) -> tuple[int, int, int]:
    return len(pool.patients), len(pool.altruists), len(pool.arcs)


def test_glasgow_examples(shared_data: Path) -> None:
    folder = shared_data / "glasgow"
    for name, expected in GLASGOW.items():
        assert counts(read_instance(folder / name)) == expected, name
    v1, v2 = read_instance(folder / "test1.json"), read_instance(folder / "test1.v2.json")
    assert v1 == v2  # cPRA 25 (percent, layout 2) is pra 0.25 (fraction, layout 1)
    assert read_instance(folder / "test2.json") == read_instance(folder / "test2.xml")
    xml = read_instance(folder / "test1.xml")
    assert set(xml.donors) == set(v1.donors) and set(xml.arcs) == set(v1.arcs)


def test_glasgow_solution_files_are_refused(shared_data: Path) -> None:
    for name in ("test1_output.json", "test1_output.xml"):
        with pytest.raises(FormatError) as caught:
            read_instance(shared_data / "glasgow" / name)
        assert caught.value.source.endswith(name)


def test_every_glasgow_file_is_covered(shared_data: Path) -> None:
    names = {p.name for p in (shared_data / "glasgow").iterdir() if "_output" not in p.name}
    assert names == set(GLASGOW)


def _index(shared_data: Path) -> list[dict[str, str]]:
    with (shared_data / "preflib" / "INDEX.csv").open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _index_row(shared_data: Path, stem: str) -> dict[str, str]:
    return next(row for row in _index(shared_data) if row["stem"] == stem)


def test_kidneyexchange_jl_instances(shared_data: Path) -> None:
    files = sorted((shared_data / "kidneyexchange_jl").rglob("*.wmd"))
    assert len(files) == 9
    for path in files:
        pool = read_instance(path)
        assert pool.patients[0].blood_group is not None, f"{path}: .dat not read"
        name = path.name.removesuffix(".wmd")
        if name.startswith("MD-00001-"):
            row = _index_row(shared_data, "00036-" + name.removeprefix("MD-00001-"))
            expected = (int(row["pairs"]), int(row["altruists"]), int(row["compat_arcs"]))
        else:  # <kind>_<pairs>_<altruists>_<k>, no dummy arcs
            _, pairs, altruists, _ = name.split("_")
            edges = int(read_text(path)[0].split("\n", 1)[0].split(",")[1])
            expected = (int(pairs), int(altruists), edges)
        assert counts(pool) == expected, path


def test_old_and_2022_layouts_agree(shared_data: Path) -> None:
    jl = shared_data / "kidneyexchange_jl"
    for old in sorted(jl.rglob("MD-00001-*.wmd")):
        number = old.name.removeprefix("MD-00001-").removesuffix(".wmd")
        new = read_instance(shared_data / "preflib" / "00036" / f"00036-{number}.wmd")
        assert pool_key(read_instance(old)) == pool_key(new), old


def _wmd_path(shared_data: Path, row: dict[str, str]) -> Path:
    path = shared_data / "preflib" / row["wmd_path"]
    return path if path.is_file() else path.with_name(path.name + ".gz")


def test_preflib_instance(shared_data: Path, preflib_row: dict[str, str]) -> None:
    pool = read_instance(_wmd_path(shared_data, preflib_row))
    expected = (
        int(preflib_row["pairs"]),
        int(preflib_row["altruists"]),
        int(preflib_row["compat_arcs"]),
    )
    assert counts(pool) == expected
    assert all(a.weight == 1.0 for a in pool.arcs)
    assert (pool.patients[0].blood_group is not None) == (preflib_row["dat"] == "present")


def test_every_preflib_file_is_indexed(shared_data: Path) -> None:
    listed = {_wmd_path(shared_data, row) for row in _index(shared_data) if row["wmd"] != "missing"}
    on_disk = {
        p
        for folder in ("00036", "00036_reconstructed")
        for p in (shared_data / "preflib" / folder).iterdir()
        if p.name.endswith((".wmd", ".wmd.gz"))
    }
    assert on_disk == listed
    assert len(on_disk) == 270
