"""``kidneyshare crossmatch``, ``build-pool`` and ``why`` end to end, bad input included."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
from typer.testing import CliRunner

from kidneyshare.cli import app, main

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
