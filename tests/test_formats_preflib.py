"""PrefLib .wmd (both layouts) and .dat: reading, round trip, every reader error."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from format_pools import pool_key
from kidneyshare.errors import FormatError
from kidneyshare.formats.preflib import (
    dat_path_for,
    dump_preflib,
    dump_preflib_dat,
    parse_preflib,
    read_preflib,
    write_preflib,
)
from kidneyshare.generators import generate_saidman
from kidneyshare.model import Arc, BloodGroup, Donor, DonorId, Instance, Patient, PatientId

# three pairs and one altruist, in the 2022 layout (shaped like 00036-00000011.wmd)
NEW = """\
# FILE NAME: tiny.wmd
# TITLE: Kidney Matching - 3 with 1
# DESCRIPTION: 
# DATA TYPE: wmd
# MODIFICATION TYPE: synthetic
# RELATES TO: 
# RELATED FILES: tiny.dat
# PUBLICATION DATE: 2013-08-17
# MODIFICATION DATE: 2022-09-16
# NUMBER ALTERNATIVES: 4
# NUMBER EDGES: 8
# ALTERNATIVE NAME 1: Pair 1
# ALTERNATIVE NAME 2: Pair 2
# ALTERNATIVE NAME 3: Pair 3
# ALTERNATIVE NAME 4: Alturist 4
1,2,1.0
1,4,0.0
2,1,1.0
2,4,0.0
3,1,0.0
3,4,0.0
4,2,1.0
4,3,1.0
"""  # noqa: W291 - PrefLib writes "DESCRIPTION: " with a trailing space

# the same graph in the old layout: "V,E", vertex lines, 0-based arcs
OLD = """\
4,8
1,Pair 1 
2,Pair 2 
3,Pair 3 
4,Alturist 4 
0,1,1
0,3,0
1,0,1
1,3,0
2,0,0
2,3,0
3,1,1
3,2,1
"""  # noqa: W291

DAT = """\
Pair,Patient,Donor,Wife-P?,%Pra,Out-Deg,Altruist
1,O,A,0,0.05,2,0
2,A,O,1,0.2875,2,0
3,B,AB,0,0.9,2,0
4,B,AB,0,0.05,2,1
"""

ARCS = {("1", "2", 1.0), ("2", "1", 1.0), ("3", "1", 0.0), ("4", "2", 1.0), ("4", "3", 1.0)}


def arcs_of(pool: Instance) -> set[tuple[str, str, float]]:
    return {(a.donor, a.patient, a.weight) for a in pool.arcs}


def test_reads_the_2022_layout() -> None:
    pool = parse_preflib(NEW)
    assert [p.id for p in pool.patients] == ["1", "2", "3"]
    assert [(d.id, d.patient) for d in pool.donors] == [
        ("1", "1"),
        ("2", "2"),
        ("3", "3"),
        ("4", None),
    ]
    assert arcs_of(pool) == ARCS  # dummy arcs into the altruist dropped, 3->1 weight 0 kept
    assert pool.name == "Kidney Matching - 3 with 1"


def test_old_layout_is_the_same_graph() -> None:
    old = parse_preflib(OLD)
    assert arcs_of(old) == ARCS
    assert pool_key(old) == pool_key(parse_preflib(NEW))
    assert old.name == ""


def test_lines_as_python_reads_numbers() -> None:
    # lines read with array operations and lines read one by one give the same arcs
    odd = NEW.replace("2,1,1.0", " 2 , +1 ,5_0e-1 ").replace("4,3,1.0", "٤,3,1.0")
    assert arcs_of(parse_preflib(odd)) == ARCS - {("2", "1", 1.0)} | {("2", "1", 5.0)}
    assert arcs_of(parse_preflib(NEW.replace("\n", "\r\n"))) == ARCS
    assert arcs_of(parse_preflib(NEW.replace("\n", "\r"))) == ARCS


def test_a_generated_pool_round_trips() -> None:
    pool = generate_saidman(60, 6, seed=5)  # ids renumbered on the first trip
    again = parse_preflib(dump_preflib(pool), dat_text=dump_preflib_dat(pool))
    assert len(again.arcs) == len(pool.arcs)
    assert parse_preflib(dump_preflib(again), dat_text=dump_preflib_dat(again)) == again


def test_altruist_spelt_correctly() -> None:
    pool = parse_preflib(OLD.replace("Alturist", "Altruist"))
    assert [d.id for d in pool.altruists] == ["4"]


def test_dat_gives_blood_groups_and_cpra() -> None:
    pool = parse_preflib(NEW, "tiny.wmd", DAT, "tiny.dat")
    assert pool.patient("2").blood_group is BloodGroup.A
    assert pool.patient("2").cpra == 0.2875
    assert pool.donor("3").blood_group is BloodGroup.AB
    assert pool.donor("4").blood_group is None  # altruist rows are not trusted


def test_dat_empty_cells_mean_unknown() -> None:
    dat = DAT.replace("1,O,A,0,0.05,2,0", "1,,,0,,2,0")
    pool = parse_preflib(NEW, dat_text=dat)
    assert pool.patient("1").blood_group is None and pool.patient("1").cpra is None


def test_round_trip_with_dat() -> None:
    pool = parse_preflib(NEW, dat_text=DAT)
    wmd, dat = dump_preflib(pool), dump_preflib_dat(pool)
    again = parse_preflib(wmd, dat_text=dat)
    assert pool_key(again) == pool_key(pool) and again.name == pool.name
    assert wmd.count("\n") == NEW.count("\n")
    assert "# NUMBER EDGES: 8\n" in wmd and "# ALTERNATIVE NAME 4: Alturist 4\n" in wmd
    assert dat.splitlines()[1:3] == ["1,O,A,0,0.05,2,0", "2,A,O,0,0.2875,2,0"]


def test_dump_renumbers_other_ids() -> None:
    pool = Instance(
        [Patient(PatientId("x"))],
        [Donor(DonorId("dx"), PatientId("x")), Donor(DonorId("alt"))],
        [Arc(DonorId("alt"), PatientId("x"), 3.5)],
    )
    assert arcs_of(parse_preflib(dump_preflib(pool))) == {("2", "1", 3.5)}


def test_dump_refuses_a_patient_with_two_donors() -> None:
    pool = Instance(
        [Patient(PatientId("p"))],
        [Donor(DonorId("d1"), PatientId("p")), Donor(DonorId("d2"), PatientId("p"))],
        [],
    )
    with pytest.raises(FormatError, match='patient "p" has 2 donors'):
        dump_preflib(pool)


def test_dump_refuses_a_name_with_a_line_break() -> None:
    pool = Instance([], [Donor(DonorId("a"))], [], name="two\nlines")
    with pytest.raises(FormatError, match="line break"):
        dump_preflib(pool)


def test_read_gzipped_with_companion(tmp_path: Path) -> None:
    (tmp_path / "tiny.wmd.gz").write_bytes(gzip.compress(NEW.encode()))
    (tmp_path / "tiny.dat").write_text(DAT)
    pool = read_preflib(tmp_path / "tiny.wmd.gz")
    assert pool.patient("1").blood_group is BloodGroup.O


def test_companion_errors_name_the_dat(tmp_path: Path) -> None:
    (tmp_path / "tiny.wmd").write_text(NEW)
    (tmp_path / "tiny.dat").write_text(DAT.replace("3,B,AB", "3,B,XY"))
    with pytest.raises(FormatError) as caught:
        read_preflib(tmp_path / "tiny.wmd")
    assert caught.value.source == str(tmp_path / "tiny.dat")
    assert caught.value.location == "line 4"


def test_write_puts_the_dat_beside(tmp_path: Path) -> None:
    pool = parse_preflib(NEW, dat_text=DAT)
    write_preflib(pool, tmp_path / "out.wmd.gz")
    assert (tmp_path / "out.dat").is_file()
    assert (
        "# RELATED FILES: out.dat"
        in gzip.decompress((tmp_path / "out.wmd.gz").read_bytes()).decode()
    )
    assert pool_key(read_preflib(tmp_path / "out.wmd.gz")) == pool_key(pool)


def test_dat_path_for() -> None:
    assert dat_path_for("a/x.wmd.gz") == Path("a/x.dat")
    assert dat_path_for("x.wmd") == Path("x.dat")
    assert dat_path_for("x.txt") == Path("x.txt.dat")


def fails(text: str, dat: str | None = None) -> FormatError:
    with pytest.raises(FormatError) as caught:
        parse_preflib(text, "tiny.wmd", dat, "tiny.dat")
    return caught.value


def edit(text: str, old: str, new: str) -> str:
    assert old in text
    return text.replace(old, new, 1)


@pytest.mark.parametrize(
    ("text", "location", "words"),
    [
        ("", None, "empty file"),
        (
            edit(NEW, "# NUMBER EDGES: 8", "# NUMBER EDGES: 9"),
            "line 23",
            "expected 9 arc lines (line 11), found 8",
        ),
        (
            edit(NEW, "# NUMBER EDGES: 8", "# NUMBER EDGES: 7"),
            "line 23",
            "more arc lines than NUMBER EDGES",
        ),
        (edit(NEW, "# NUMBER EDGES: 8", "# NUMBER EDGES: many"), "line 11", 'found "many"'),
        (edit(NEW, "# NUMBER EDGES: 8\n", ""), "line 14", 'missing header line "# NUMBER EDGES'),
        (edit(NEW, "# DATA TYPE: wmd", "# DATA TYPE: soc"), "line 4", 'expected DATA TYPE "wmd"'),
        (
            edit(NEW, "# DESCRIPTION: ", "# DESCRIPTION"),
            "line 3",
            'expected a header line "# KEY: value"',
        ),
        (edit(NEW, "# TITLE", "# FILE NAME"), "line 2", 'header key "FILE NAME" given twice'),
        (edit(NEW, "Alturist 4", "Donor 4"), "line 15", 'unknown vertex label "Donor 4"'),
        (edit(NEW, "Alturist 4", "Alturist 5"), "line 15", "does not name vertex 4"),
        (edit(NEW, "# ALTERNATIVE NAME 3: Pair 3\n", ""), "line 10", 'no "# ALTERNATIVE NAME 3'),
        (edit(NEW, "NAME 3: Pair 3", "NAME 2: Pair 2"), "line 14", "vertex 2 is named twice"),
        (edit(NEW, "NAME 3: Pair 3", "NAME 7: Pair 7"), "line 14", "vertex 7 is beyond"),
        (edit(NEW, "NAME 3: Pair 3", "NAME x: Pair 3"), "line 14", 'found "x"'),
        (
            edit(NEW, "2,1,1.0", "2,one,1.0"),
            "line 18",
            'expected integer vertex ids in arc "2,one,1.0", found "one"',
        ),
        (edit(NEW, "2,1,1.0", "2.0,1,1.0"), "line 18", 'found "2.0"'),
        (edit(NEW, "2,1,1.0", "2,5,1.0"), "line 18", "unknown vertex 5; expected vertex ids 1-4"),
        (edit(NEW, "2,1,1.0", "0,1,1.0"), "line 18", "unknown vertex 0"),
        (
            edit(NEW, "2,1,1.0", "2,1,-1.0"),
            "line 18",
            'expected a weight (a finite number >= 0) in arc "2,1,-1.0", found "-1.0"',
        ),
        (edit(NEW, "2,1,1.0", "2,1,high"), "line 18", 'found "high"'),
        (edit(NEW, "2,1,1.0", "2,1,nan"), "line 18", 'found "nan"'),
        (
            edit(NEW, "2,1,1.0", "2,1"),
            "line 18",
            'expected an arc line "src,dst,weight", found "2,1"',
        ),
        (edit(NEW, "2,1,1.0", ""), "line 18", "found an empty line"),
        (edit(NEW, "2,1,1.0", "# 2,1,1.0"), "line 18", 'found "# 2"'),
        (
            edit(NEW, "2,1,1.0", "1,2,1.0"),
            "line 18",
            "the arc 1,2 appears twice (first on line 16)",
        ),
        (
            edit(NEW, "# NUMBER ALTERNATIVES: 4", "# NUMBER ALTERNATIVES: 0"),
            "line 12",
            "vertex 1 is beyond NUMBER ALTERNATIVES: 0",
        ),
        ("# NUMBER ALTERNATIVES: 0\n# NUMBER EDGES: 0\n", "line 2", "empty pool"),
        ("hello world\n", "line 1", 'expected a first line "V,E"'),
        (edit(OLD, "4,8", "4,9"), "line 13", "expected 9 arc lines (line 1), found 8"),
        (edit(OLD, "4,8", "four,8"), "line 1", 'found "four"'),
        (edit(OLD, "3,Pair 3 ", "7,Pair 3"), "line 4", 'expected the vertex line "3,<label>"'),
        (edit(OLD, "3,Pair 3 ", "3,Patient 3"), "line 4", 'unknown vertex label "Patient 3"'),
        (edit(OLD, "1,0,1", "1,4,1"), "line 8", "unknown vertex 4; expected vertex ids 0-3"),
        ("5,0\n1,Pair 1\n", "line 2", "the file ends after 1 vertex lines; expected 5"),
    ],
)
def test_wmd_errors_give_the_line(text: str, location: str | None, words: str) -> None:
    error = fails(text)
    assert error.source == "tiny.wmd"
    assert error.location == location
    assert words in str(error)


@pytest.mark.parametrize(
    ("dat", "location", "words"),
    [
        ("", None, "empty file"),
        (edit(DAT, "Wife-P?", "Wife"), "line 1", "expected the header"),
        (
            edit(DAT, "3,B,AB,0,0.9,2,0\n", ""),
            "line 4",
            "expected 4 rows, one for each vertex of the .wmd, found 3",
        ),
        (DAT + "5,O,O,0,0.05,0,0\n", "line 6", "found 5"),
        (edit(DAT, "3,B,AB", "3,B,XY"), "line 4", "Donor: unknown blood group 'XY'"),
        (
            edit(DAT, "1,O,A,0,0.05", "1,O,A,0,1.5"),
            "line 2",
            'expected %Pra a fraction between 0 and 1, found "1.5"',
        ),
        (edit(DAT, "1,O,A,0,", "1,O,A,2,"), "line 2", 'expected Wife-P? 0 or 1, found "2"'),
        (edit(DAT, "0.05,2,0", "0.05,3,0"), "line 2", 'Out-Deg "3" disagrees with the .wmd'),
        (edit(DAT, "0.05,2,1", "0.05,2,0"), "line 5", "Altruist 0 disagrees with the .wmd"),
        (edit(DAT, "0.05,2,1", "0.05,2,yes"), "line 5", 'expected Altruist 0 or 1, found "yes"'),
        (
            edit(DAT, "2,A,O,1,", "7,A,O,1,"),
            "line 3",
            'expected the row of vertex 2, found Pair "7"',
        ),
        (edit(DAT, "2,A,O,1,0.2875,2,0", "2,A,O"), "line 3", "expected 7 comma-separated values"),
    ],
)
def test_dat_errors_give_the_line(dat: str, location: str | None, words: str) -> None:
    error = fails(NEW, dat)
    assert error.source == "tiny.dat"
    assert error.location == location
    assert words in str(error)
