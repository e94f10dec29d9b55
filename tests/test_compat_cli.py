"""``kidneyshare crossmatch``, ``build-pool`` and ``why`` end to end, bad input included."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kidneyshare.cli import app, main
from kidneyshare.formats import read_instance

runner = CliRunner()

DESIGN_EXAMPLE = [
    "crossmatch",
    "--donor-abo",
    "A2",
    "--patient-abo",
    "O",
    "--anti-a-titre",
    "4",
    "--a2-rule",
    "--donor-hla",
    "A*02:01 A24 B7 B*44:03 DR4 DRB1*15:01",
    "--unacceptable",
    "A9 DQ7",
    "--json",
]


def run_main(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as stopped:
        main(args)
    out, err = capsys.readouterr()
    code = stopped.value.code
    return (code if isinstance(code, int) else 1), out, err


def test_crossmatch_json_is_the_design_contract() -> None:
    result = runner.invoke(app, DESIGN_EXAMPLE)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "abo": {"compatible": True, "rule": "A2 donor to O patient, anti-A titre 4 <= 8"},
        "virtual_crossmatch": {"positive": True, "conflicts": ["A24 (split of A9)"]},
        "compatible": False,
    }


def test_crossmatch_without_a2_rule_uses_the_plain_rule() -> None:
    args = [a for a in DESIGN_EXAMPLE if a != "--a2-rule"]
    document = json.loads(runner.invoke(app, args).stdout)
    assert document["abo"] == {
        "compatible": False,
        "rule": "A2 donor to O patient, ABO incompatible",
    }


def test_crossmatch_titre_max_option() -> None:
    args = [*DESIGN_EXAMPLE, "--titre-max", "2"]
    document = json.loads(runner.invoke(app, args).stdout)
    assert document["abo"]["compatible"] is False
    assert "anti-A titre 4 > 2" in document["abo"]["rule"]


def test_crossmatch_without_hla_judges_abo_only() -> None:
    result = runner.invoke(
        app,
        ["crossmatch", "--donor-abo", "O", "--patient-abo", "B", "--unacceptable", "A2", "--json"],
    )
    assert json.loads(result.stdout) == {
        "abo": {"compatible": True, "rule": "O donor to B patient, ABO compatible"},
        "virtual_crossmatch": None,
        "compatible": True,
    }


def test_crossmatch_text_output() -> None:
    result = runner.invoke(app, DESIGN_EXAMPLE[:-1])
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [
        "ABO: compatible (A2 donor to O patient, anti-A titre 4 <= 8)",
        "virtual crossmatch: positive: A24 (split of A9)",
        "compatible: no",
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--donor-hla", "A*2:01 B7"],
            "kidneyshare: error: --donor-hla: 'A*2:01': each field has at least two digits",
        ),
        (["--unacceptable", "A99"], "kidneyshare: error: --unacceptable: 'A99': unknown"),
        (["--donor-abo", "C"], "kidneyshare: error: --donor-abo: unknown ABO group 'C'"),
    ],
)
def test_crossmatch_bad_input_exits_2_with_one_line(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["crossmatch", "--donor-abo", "A", "--patient-abo", "O", "--donor-hla", "A1"]
    code, out, err = run_main([*base, *args], capsys)
    assert code == 2
    assert out == ""
    assert err.startswith(message)
    assert err.count("\n") == 1


def test_crossmatch_as_installed_script() -> None:
    script = shutil.which("kidneyshare")
    if script is None:
        pytest.skip("the kidneyshare console script is not on PATH")
    done = subprocess.run([script, *DESIGN_EXAMPLE], capture_output=True, text=True, check=False)
    assert done.returncode == 0
    assert json.loads(done.stdout)["virtual_crossmatch"]["conflicts"] == ["A24 (split of A9)"]
    bad = subprocess.run(
        [script, "crossmatch", "--donor-abo", "A", "--patient-abo", "O", "--donor-hla", "A*0201"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert bad.returncode == 2
    assert "Traceback" not in bad.stderr
    assert bad.stderr.startswith("kidneyshare: error: --donor-hla: 'A*0201'")


# -- build-pool and why ----------------------------------------------------------------

RECORDS = {
    "format": "kidneyshare-clinical",
    "version": 1,
    "name": "cli",
    "patients": [
        {
            "id": "p1",
            "abo": "O",
            "hla": ["A1", "A2", "B8", "B7", "DR17", "DR15"],
            "unacceptable": ["A9"],
            "anti_a_titre": 4,
            "recorded": "2026-11-01",
        },
        {"id": "p2", "abo": "A", "unacceptable": ["B44"]},
    ],
    "donors": [
        {"id": "d1", "patient": "p1", "abo": "A2", "hla": ["A2", "B7", "DR4"]},
        {"id": "d2", "patient": "p2", "abo": "O", "hla": ["A1", "B8", "DR17"]},
        {"id": "a1", "abo": "O", "hla": ["A24", "B44", "DR4"]},
    ],
}


@pytest.fixture
def records_file(tmp_path: Path) -> Path:
    path = tmp_path / "records.json"
    path.write_text(json.dumps(RECORDS), encoding="utf-8")
    return path


def test_build_pool_writes_a_native_pool_and_explanations(
    records_file: Path, tmp_path: Path
) -> None:
    out, explain = tmp_path / "pool.json", tmp_path / "why.json"
    result = runner.invoke(
        app,
        ["build-pool", str(records_file), "-o", str(out), "--explain", str(explain), "--a2-rule"],
    )
    assert result.exit_code == 0, result.output
    pool = read_instance(out)
    assert {(a.donor, a.patient) for a in pool.arcs} == {("d1", "p2"), ("d2", "p1")}
    assert "built 2 pairs, 1 altruists, 2 arcs" in result.stderr
    document = json.loads(explain.read_text(encoding="utf-8"))
    assessments = {(a["donor"], a["patient"]): a for a in document["assessments"]}
    assert len(assessments) == 6
    assert assessments[("a1", "p1")]["virtual_crossmatch"]["conflicts"] == ["A24 (split of A9)"]
    assert assessments[("d1", "p2")]["arc"] is True


def test_build_pool_to_stdout_in_another_format(records_file: Path) -> None:
    result = runner.invoke(app, ["build-pool", str(records_file), "--format", "glasgow"])
    assert result.exit_code == 0
    assert "data" in json.loads(result.stdout)


def test_why_text_and_json(records_file: Path) -> None:
    result = runner.invoke(app, ["why", "a1", "p1", "--records", str(records_file)])
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [
        "a1 -> p1: no arc",
        "  ABO: compatible (O donor to O patient, ABO identical)",
        "  virtual crossmatch: positive: A24 (split of A9)",
    ]
    result = runner.invoke(
        app, ["why", "d1", "p1", "--records", str(records_file), "--a2-rule", "--json"]
    )
    document = json.loads(result.stdout)
    assert document["own_donor"] is True and document["arc"] is False
    assert document["abo"]["rule"] == "A2 donor to O patient, anti-A titre 4 <= 8"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("patients", 0, "unacceptable", ["A*2:01"]), "records.json, patients[0].unacceptable"),
        (("donors", 0, "abo", "Q"), "records.json, donors[0].abo: Input should be"),
        (("patients", 1, "cpra", 7), "records.json, patients[1].cpra"),
    ],
)
def test_build_pool_bad_records_exit_2_and_write_nothing(
    change: tuple[str, int, str, object],
    message: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    document = json.loads(json.dumps(RECORDS))
    section, index, field, value = change
    document[section][index][field] = value
    path = tmp_path / "records.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    out = tmp_path / "pool.json"
    code, stdout, err = run_main(["build-pool", str(path), "-o", str(out)], capsys)
    assert code == 2
    assert stdout == ""
    assert err.startswith(f"kidneyshare: error: {path.parent / message}")
    assert err.count("\n") == 1
    assert not out.exists()


def test_why_unknown_donor_and_missing_file_exit_2(
    records_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run_main(["why", "zz", "p1", "--records", str(records_file)], capsys)
    assert code == 2 and "unknown donor zz" in err
    missing = tmp_path / "nope.json"
    code, _, err = run_main(["build-pool", str(missing)], capsys)
    assert code == 2 and str(missing) in err
    code, _, err = run_main(["build-pool", str(records_file), "--as-of", "2026-02-30"], capsys)
    assert code == 2 and "--as-of: expected a date" in err


def test_generated_records_build_and_explain_end_to_end(tmp_path: Path) -> None:
    records, pool_file = tmp_path / "records.json", tmp_path / "pool.json"
    result = runner.invoke(
        app,
        [
            "generate-records",
            "--pairs",
            "40",
            "--altruists",
            "3",
            "--seed",
            "9",
            "-o",
            str(records),
        ],
    )
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["build-pool", str(records), "-o", str(pool_file)])
    assert result.exit_code == 0, result.output
    pool = read_instance(pool_file)
    assert len(pool.patients) == 40 and len(pool.altruists) == 3
    arc = pool.arcs[0]
    result = runner.invoke(app, ["why", arc.donor, arc.patient, "--records", str(records)])
    assert (
        result.stdout.splitlines()[0] == f"{arc.donor} -> {arc.patient}: arc, weight {arc.weight:g}"
    )
    stdout = runner.invoke(app, ["generate-records", "--pairs", "2", "--seed", "9"]).stdout
    assert json.loads(stdout)["format"] == "kidneyshare-clinical"
