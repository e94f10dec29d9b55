"""The ``kidneyshare`` command line: in process (Typer's CliRunner, ``main``) and as the
installed console script (subprocess).

Bad-input cases go through :func:`kidneyshare.cli.main` or the real script, because
``main`` is where library errors become one ``kidneyshare: error:`` line and exit 2;
``CliRunner`` invokes the Typer app below it.
"""

from __future__ import annotations

import itertools
import json
import shutil
import subprocess
import sys
from collections import Counter
from importlib.metadata import version
from pathlib import Path

import pytest
from typer.testing import CliRunner

import kidneyshare.cli.solve as cli_solve
from kidneyshare.cli import app, main
from kidneyshare.cli.pool_warnings import pool_warnings
from kidneyshare.formats import FORMATS, read_instance, write_instance
from kidneyshare.matching import Result, SolverConfig, Status
from kidneyshare.model import (
    Arc,
    BloodGroup,
    Donor,
    DonorId,
    Instance,
    Patient,
    PatientId,
    describe,
)

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "pool-small.json"
CONTRACT_KEYS = {
    "status",
    "objective",
    "transplants",
    "values",
    "cycles",
    "chains",
    "bound",
    "seconds",
    "config",
}
WIDE = {"COLUMNS": "200"}  # rich tables unwrapped, so that rows can be matched

runner = CliRunner()


# -- pools the tests write themselves ---------------------------------------------------


def known_pool() -> Instance:
    """Four pairs and an altruist; the only optimum (K=3, L=3) is the 2-cycle p1-p2 and
    the chain a1 -> p3 -> p4: 4 transplants. (a1 -> p3 -> p4 -> p1 gives only 3.)"""
    patients = [Patient(PatientId(f"p{i}"), BloodGroup.O, 0.1) for i in range(1, 5)]
    donors = [Donor(DonorId(f"d{i}"), PatientId(f"p{i}"), BloodGroup.O) for i in range(1, 5)]
    donors.append(Donor(DonorId("a1"), None, BloodGroup.O))
    arcs = [
        Arc(DonorId(d), PatientId(p), w)
        for d, p, w in [
            ("d1", "p2", 1.0),
            ("d2", "p1", 1.0),
            ("a1", "p3", 1.0),
            ("d3", "p4", 1.0),
            ("d4", "p1", 2.0),
        ]
    ]
    return Instance(patients, donors, arcs, name="known")


def odd_pool() -> Instance:
    """A valid pool with things a coordinator should hear about: p3 has no donor who can
    give to them, d1 can give to their own patient, p4 and a2 are isolated."""
    patients = [Patient(PatientId(f"p{i}")) for i in range(1, 5)]
    donors = [Donor(DonorId(f"d{i}"), PatientId(f"p{i}")) for i in range(1, 5)]
    donors += [Donor(DonorId("a1")), Donor(DonorId("a2"))]
    arcs = [
        Arc(DonorId(d), PatientId(p))
        for d, p in [("d1", "p2"), ("d2", "p1"), ("d1", "p1"), ("a1", "p2"), ("d3", "p1")]
    ]
    return Instance(patients, donors, arcs, name="odd")


@pytest.fixture
def known_file(tmp_path: Path) -> Path:
    path = tmp_path / "known.json"
    write_instance(known_pool(), path, "native")
    return path


@pytest.fixture
def script() -> str:
    """The installed console script, beside this interpreter or on PATH."""
    beside = Path(sys.executable).parent / "kidneyshare"
    found = str(beside) if beside.is_file() else shutil.which("kidneyshare")
    if found is None:
        pytest.skip("the kidneyshare console script is not installed (pip install -e .)")
    return found


# -- helpers --------------------------------------------------------------------------


def run_main(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run ``main(args)`` in process; return exit status, stdout and stderr."""
    with pytest.raises(SystemExit) as exited:
        main(list(args))
    out, err = capsys.readouterr()
    code = exited.value.code
    return (0 if code is None else int(code)), out, err


def run_script(
    script: str, *args: str, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [script, *args], capture_output=True, text=True, cwd=cwd, timeout=120, check=False
    )


def exchange_transplants(solution: dict[str, object]) -> int:
    """In-pool transplants of the exchanges: k per k-cycle, one less than the vertices
    per chain (its first vertex is the altruist)."""
    cycles = solution["cycles"]
    chains = solution["chains"]
    assert isinstance(cycles, list) and isinstance(chains, list)
    return sum(len(c) for c in cycles) + sum(len(c) - 1 for c in chains)


def assert_one_error_line(err: str, *fragments: str) -> None:
    assert "Traceback" not in err
    assert err.endswith("\n") and err.count("\n") == 1, err
    assert err.startswith("kidneyshare: error: "), err
    for fragment in fragments:
        assert fragment in err, (fragment, err)


def shape(instance: Instance) -> tuple[object, ...]:
    """What every format keeps, whatever it does to ids: sizes, arc counts, paired donors'
    blood groups (PrefLib keeps no altruist's) and the in/out degree sequences."""
    stats = describe(instance)
    source = {d.id: d.patient if d.patient is not None else d.id for d in instance.donors}
    out_degree = Counter(source[a.donor] for a in instance.arcs)
    in_degree = Counter(a.patient for a in instance.arcs)
    return (
        stats.pairs,
        stats.altruists,
        stats.arcs,
        stats.pair_arcs,
        stats.altruist_arcs,
        Counter(d.blood_group for d in instance.donors if d.patient is not None),
        sorted(out_degree.values()),
        sorted(in_degree.values()),
    )


# -- version, help ----------------------------------------------------------------------


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == f"kidneyshare {version('kidneyshare')}"


def test_no_command_shows_help() -> None:
    result = runner.invoke(app, [])
    for command in ("solve", "generate", "validate", "convert", "info"):
        assert command in result.output


# -- solve ----------------------------------------------------------------------------


def test_solve_json_known_optimum(known_file: Path) -> None:
    result = runner.invoke(app, ["solve", str(known_file), "--json"])
    assert result.exit_code == 0, result.output
    solution = json.loads(result.stdout)
    assert set(solution) >= CONTRACT_KEYS
    assert solution["status"] == "optimal"
    assert solution["objective"] == "max-transplants"
    assert solution["cycles"] == [["p1", "p2"]]
    assert solution["chains"] == [["a1", "p3", "p4"]]
    assert solution["transplants"] == exchange_transplants(solution) == 4
    assert solution["values"]["transplants"] == 4
    assert solution["bound"] == 4
    assert set(solution["seconds"]) >= {"build", "solve"}
    assert solution["config"]["max_cycle"] == 3
    assert solution["config"]["max_chain"] == 3


def test_solve_options_reach_the_config(script: str, known_file: Path) -> None:
    # A fresh process: HiGHS fixes its thread count at the first solve of a process.
    args = ["solve", str(known_file), "--json", "--max-cycle", "2", "--max-chain", "1"]
    args += ["--objective", "max-weight", "--formulation", "picef", "--threads", "2"]
    args += ["--seed", "5", "--time-limit", "30"]
    proc = run_script(script, *args)
    assert proc.returncode == 0, proc.stderr
    solution = json.loads(proc.stdout)
    assert solution["config"] == {
        "max_cycle": 2,
        "max_chain": 1,
        "objective": "max-weight",
        "formulation": "picef",
        "backend": "highs",
        "time_limit": 30.0,
        "threads": 2,
        "seed": 5,
        "levels": ["weight"],
        "default_probability": None,
        "age_rule": {
            "bonus": 3.0,
            "within_years": 20.0,
            "tie_break_factor": 1e-5,
            "tie_break_span": 70.0,
        },
    }
    assert solution["objective"] == "max-weight"
    assert "weight" in solution["values"]
    assert all(len(chain) - 1 <= 1 for chain in solution["chains"])
    assert solution["transplants"] == exchange_transplants(solution)


def test_solve_table(known_file: Path) -> None:
    result = runner.invoke(app, ["solve", str(known_file)], env=WIDE)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "optimal" in out
    assert "Transplants" in out and "4 (2 in 1 cycles, 2 in 1 chains)" in out
    assert "cycle" in out and "chain" in out
    assert "p1 -> p2 -> p1" in out
    assert "a1 -> p3 -> p4" in out
    assert "a1, d3" in out  # donors used by the chain
    assert result.stderr == ""


def test_solve_json_subprocess_stdout_is_only_json(script: str, known_file: Path) -> None:
    proc = run_script(script, "solve", str(known_file), "--json")
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    decoder = json.JSONDecoder()
    text = proc.stdout.strip()
    solution, end = decoder.raw_decode(text)
    assert end == len(text), "stdout holds more than one JSON object"
    assert isinstance(solution, dict)
    assert set(solution) >= CONTRACT_KEYS
    assert solution["transplants"] == exchange_transplants(solution) == 4


def test_solver_error_exits_1(monkeypatch: pytest.MonkeyPatch, known_file: Path) -> None:
    def failing(instance: Instance, config: SolverConfig) -> Result:
        return Result(status=Status.ERROR, config=config, message="the backend crashed")

    monkeypatch.setattr(cli_solve, "solve", failing)
    result = runner.invoke(app, ["solve", str(known_file), "--json"])
    assert result.exit_code == 1
    assert json.loads(result.stdout)["status"] == "error"
    assert_one_error_line(result.stderr, str(known_file), "error", "the backend crashed")


def test_bundled_example_solves(script: str) -> None:
    proc = run_script(script, "solve", str(EXAMPLE), "--json")
    assert proc.returncode == 0, proc.stderr
    solution = json.loads(proc.stdout)
    assert solution["status"] == "optimal"
    assert solution["transplants"] == exchange_transplants(solution) > 0


# -- bad input: one line on stderr, exit 2 -------------------------------------------------


def test_missing_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.json"
    for command in ("solve", "validate", "info"):
        code, out, err = run_main(capsys, command, str(missing))
        assert code == 2 and out == ""
        assert_one_error_line(err, str(missing), "no such file")


def test_directory(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, err = run_main(capsys, "solve", str(tmp_path))
    assert code == 2 and out == ""
    assert_one_error_line(err, str(tmp_path), "directory")


def test_unknown_objective(capsys: pytest.CaptureFixture[str], known_file: Path) -> None:
    code, out, err = run_main(capsys, "solve", str(known_file), "--objective", "fastest")
    assert code == 2 and out == ""
    assert_one_error_line(err, "objective", "fastest", "max-transplants")


@pytest.mark.parametrize(
    ("option", "value", "expected"),
    [("--backend", "nosuch", "highs"), ("--formulation", "nosuch", "picef")],
)
def test_unknown_backend_or_formulation(
    capsys: pytest.CaptureFixture[str], known_file: Path, option: str, value: str, expected: str
) -> None:
    code, out, err = run_main(capsys, "solve", str(known_file), option, value, "--json")
    assert code == 2 and out == ""
    assert_one_error_line(err, option.removeprefix("--"), value, expected)


def test_unknown_format(
    capsys: pytest.CaptureFixture[str], known_file: Path, tmp_path: Path
) -> None:
    code, _, err = run_main(capsys, "generate", "--pairs", "3", "--seed", "1", "--format", "csv")
    assert code == 2
    assert_one_error_line(err, "--format", "csv", "native")
    out_file = tmp_path / "x.out"
    code, _, err = run_main(capsys, "convert", str(known_file), str(out_file), "--to", "csv")
    assert code == 2
    assert_one_error_line(err, "--to", "csv", "glasgow")
    assert not out_file.exists()


def test_negative_max_cycle_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], known_file: Path
) -> None:
    code, out, err = run_main(capsys, "solve", str(known_file), "--max-cycle", "-1")
    assert code == 2 and out == ""
    assert "--max-cycle" in err
    assert "Traceback" not in err


def test_bad_time_limit(capsys: pytest.CaptureFixture[str], known_file: Path) -> None:
    code, out, err = run_main(capsys, "solve", str(known_file), "--time-limit", "0")
    assert code == 2 and out == ""
    assert_one_error_line(err, "time_limit", "positive")


# -- generate -------------------------------------------------------------------------


def test_generate_is_deterministic(tmp_path: Path) -> None:
    args = ["generate", "--pairs", "25", "--altruists", "2", "--seed", "7"]
    first, second, other = tmp_path / "a.json", tmp_path / "b.json", tmp_path / "c.json"
    for path, seed in ((first, "7"), (second, "7"), (other, "8")):
        result = runner.invoke(app, [*args[:-1], seed, "-o", str(path)])
        assert result.exit_code == 0, result.output
        assert result.stdout == ""  # the note about the file goes to stderr
    assert first.read_bytes() == second.read_bytes()
    assert first.read_bytes() != other.read_bytes()
    printed = runner.invoke(app, args)
    assert printed.exit_code == 0
    assert printed.stdout.encode() == first.read_bytes()
    pool = read_instance(first)
    assert (len(pool.patients), len(pool.altruists)) == (25, 2)


def test_generate_altruist_fraction(tmp_path: Path) -> None:
    path = tmp_path / "pool.json"
    result = runner.invoke(
        app,
        ["generate", "--pairs", "40", "--altruist-fraction", "0.1", "--seed", "2", "-o", str(path)],
    )
    assert result.exit_code == 0, result.output
    assert len(read_instance(path).altruists) == 4


def test_generate_preflib_needs_output(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, err = run_main(
        capsys, "generate", "--pairs", "5", "--seed", "1", "--format", "preflib"
    )
    assert code == 2 and out == ""
    assert_one_error_line(err, "-o")
    wmd = tmp_path / "pool.wmd"
    code, out, err = run_main(
        capsys, "generate", "--pairs", "5", "--seed", "1", "--format", "preflib", "-o", str(wmd)
    )
    assert code == 0 and out == ""
    assert wmd.is_file() and (tmp_path / "pool.dat").is_file()


def test_generate_both_altruist_options(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_main(
        capsys, "generate", "--pairs", "5", "--seed", "1", "--altruists", "1",
        "--altruist-fraction", "0.5",
    )  # fmt: skip
    assert code == 2 and out == ""
    assert_one_error_line(err, "--altruists", "--altruist-fraction")


def test_bundled_example_is_what_generate_gives() -> None:
    result = runner.invoke(app, ["generate", "--pairs", "30", "--altruists", "3", "--seed", "1"])
    assert result.exit_code == 0
    assert result.stdout.encode() == EXAMPLE.read_bytes()


# -- convert --------------------------------------------------------------------------


SUFFIX = {"native": "json", "glasgow": "json", "glasgow-xml": "xml", "preflib": "wmd"}


@pytest.mark.parametrize(("source", "target"), list(itertools.permutations(FORMATS, 2)))
def test_convert_round_trip(tmp_path: Path, source: str, target: str) -> None:
    start = tmp_path / f"start.{SUFFIX[source]}"
    middle = tmp_path / f"middle.{SUFFIX[target]}"
    back = tmp_path / f"back.{SUFFIX[source]}"
    generate = ["generate", "--pairs", "15", "--altruists", "2", "--seed", "4"]
    made = runner.invoke(app, [*generate, "--format", source, "-o", str(start)])
    assert made.exit_code == 0, made.output
    for here, there, fmt in ((start, middle, target), (middle, back, source)):
        result = runner.invoke(app, ["convert", str(here), str(there), "--to", fmt])
        assert result.exit_code == 0, result.output
        assert result.stdout == ""
    original = read_instance(start)
    assert shape(read_instance(middle)) == shape(original)
    assert shape(read_instance(back)) == shape(original)


def test_convert_to_stdout(known_file: Path) -> None:
    result = runner.invoke(app, ["convert", str(known_file), "-", "--to", "glasgow"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["data"]


def test_convert_refuses_to_overwrite_its_input(
    capsys: pytest.CaptureFixture[str], known_file: Path
) -> None:
    before = known_file.read_bytes()
    code, _, err = run_main(capsys, "convert", str(known_file), str(known_file), "--to", "glasgow")
    assert code == 2
    assert_one_error_line(err, str(known_file))
    assert known_file.read_bytes() == before


# -- validate -------------------------------------------------------------------------


def test_validate_good_file(known_file: Path) -> None:
    result = runner.invoke(app, ["validate", str(known_file)])
    assert result.exit_code == 0, result.output
    assert str(known_file) in result.stdout
    assert "native" in result.stdout
    assert "4 pairs, 1 altruists, 5 arcs" in result.stdout
    assert result.stderr == ""


def test_validate_warns_without_failing(tmp_path: Path) -> None:
    path = tmp_path / "odd.json"
    write_instance(odd_pool(), path, "native")
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 0, result.output
    warnings = result.stderr.splitlines()
    assert len(warnings) == 3
    assert all(w.startswith(f"kidneyshare: warning: {path}: ") for w in warnings)
    assert "no compatible donor" in warnings[0] and "p3, p4" in warnings[0]
    assert "own patient" in warnings[1] and "d1->p1" in warnings[1]
    assert "isolated" in warnings[2] and "p4, a2" in warnings[2]


def test_pool_warnings_none_for_a_tidy_pool() -> None:
    assert pool_warnings(known_pool()) == []


def test_validate_preflib_reports_its_companion(tmp_path: Path) -> None:
    wmd = tmp_path / "pool.wmd"
    write_instance(known_pool(), wmd, "preflib")
    result = runner.invoke(app, ["validate", str(wmd)], env=WIDE)
    assert result.exit_code == 0, result.output
    assert "preflib" in result.stdout and "pool.dat" in result.stdout


BAD_FILES = [
    # (file name, content, fragments the message must hold: file, line/field, expectation)
    (
        "truncated.json",
        '{"format": "kidneyshare", "version": 1,\n "patients": [\n',
        ["line 3", "truncated"],
    ),
    (
        "bad-cpra.json",
        '{"format": "kidneyshare", "version": 1, "name": "x",\n'
        ' "patients": [{"id": "p1", "cpra": 1.5}],\n'
        ' "donors": [{"id": "d1", "patient": "p1"}], "arcs": []}\n',
        ["patients[0].cpra", "between 0 and 1"],
    ),
    (
        "bad-arc.wmd",
        "# NUMBER ALTERNATIVES: 2\n# NUMBER EDGES: 1\n# ALTERNATIVE NAME 1: Pair 1\n"
        "# ALTERNATIVE NAME 2: Pair 2\n1,x,1\n",
        ["line 5", "expected integer vertex ids"],
    ),
    ("notes.txt", "hello\n", ["line 1", "expected native JSON"]),
    ("empty.json", "", ["expected native JSON"]),
]


@pytest.mark.parametrize(("name", "content", "fragments"), BAD_FILES, ids=[b[0] for b in BAD_FILES])
def test_validate_bad_file(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    name: str,
    content: str,
    fragments: list[str],
) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    for command in ("validate", "solve", "info"):
        code, out, err = run_main(capsys, command, str(path))
        assert code == 2 and out == ""
        assert_one_error_line(err, str(path), *fragments)


def test_validate_bad_file_subprocess(script: str, tmp_path: Path) -> None:
    name, content, fragments = BAD_FILES[1]
    (tmp_path / name).write_text(content, encoding="utf-8")
    proc = run_script(script, "validate", name, cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert_one_error_line(proc.stderr, name, *fragments)


# -- info -----------------------------------------------------------------------------


def test_info_json(known_file: Path) -> None:
    result = runner.invoke(app, ["info", str(known_file), "--json"])
    assert result.exit_code == 0, result.output
    stats = json.loads(result.stdout)
    assert stats["file"] == str(known_file)
    assert stats["format"] == "native"
    assert stats["name"] == "known"
    assert (stats["pairs"], stats["altruists"], stats["arcs"]) == (4, 1, 5)
    assert stats["patient_blood_groups"] == {"O": 4, "A": 0, "B": 0, "AB": 0, "unknown": 0}
    assert stats["cpra_bands"]["low"] == 4
    assert stats["density"] == pytest.approx(4 / 12)
    assert {"mean_in_degree", "mean_out_degree", "pairs_without_donor"} <= set(stats)


def test_info_table() -> None:
    result = runner.invoke(app, ["info", str(EXAMPLE)], env=WIDE)
    assert result.exit_code == 0, result.output
    for heading in ("Pairs", "Altruists", "Density", "Blood groups", "cPRA"):
        assert heading in result.stdout
    assert "30" in result.stdout
