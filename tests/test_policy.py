"""Policies as data: the bundled TOML files, parsing errors, and ``solve --policy``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.test_cli import run_main
from typer.testing import CliRunner

from kidneyshare.cli.main import app
from kidneyshare.errors import ConfigError, FormatError
from kidneyshare.matching import AgeRule, Criterion, Objective
from kidneyshare.matching.config import UK_LEVELS, UK_NHSBT_LEVELS
from kidneyshare.matching.policy import BUNDLED_POLICIES, load_policy, parse_policy

runner = CliRunner()
REPO = Path(__file__).resolve().parents[1]

MINIMAL = """
[policy]
name = "test"
version = "1"

[matching]
max_cycle = 2
max_chain = 1
objective = "hierarchy"
levels = ["three-way", "transplants"]
"""


def test_bundled_policies_load_and_match_the_repository_files() -> None:
    for name in BUNDLED_POLICIES:
        policy = load_policy(name)
        assert policy.name == name
        assert policy.references, name
        from_file = load_policy(REPO / "policies" / f"{name}.toml")
        assert from_file.config == policy.config


def test_uk_policies_hold_the_published_levels() -> None:
    uk = load_policy("uk").config
    assert (uk.max_cycle, uk.max_chain, uk.objective) == (3, 2, Objective.UK)
    assert uk.criteria == UK_LEVELS
    assert uk.age_rule == AgeRule(3.0, 20.0, 1e-5, 70.0)
    assert load_policy("uk-nhsbt").config.criteria == UK_NHSBT_LEVELS
    # The two forms differ exactly as the docs say: one more level, back-arcs last.
    assert UK_NHSBT_LEVELS.index(Criterion.BACK_ARCS) > UK_NHSBT_LEVELS.index(Criterion.THREE_WAY)
    assert UK_LEVELS.index(Criterion.BACK_ARCS) < UK_LEVELS.index(Criterion.THREE_WAY)


def test_a_custom_hierarchy_policy() -> None:
    policy = parse_policy(MINIMAL, "mine.toml")
    assert policy.config.criteria == (Criterion.THREE_WAY, Criterion.TRANSPLANTS)
    assert policy.to_dict()["config"]["levels"] == ["three-way", "transplants"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[policy", "mine.toml: not valid TOML"),
        ('[policy]\nname="x"\nversion="1"\n', r"mine.toml, matching: the \[matching\] table"),
        ("[matching]\nmax_cycle=3\n", r"mine.toml, policy: the \[policy\] table"),
        (MINIMAL + "\n[extra]\nx=1\n", r"unknown table\(s\) \['extra'\]"),
        (
            MINIMAL.replace("max_chain = 1", "max_chain = 1\nchains = 2"),
            "matching.chains: unknown key",
        ),
        (MINIMAL.replace('name = "test"', 'name = ""'), "policy.name: expected non-empty text"),
        (MINIMAL.replace("max_cycle = 2", "max_cycle = -1"), "max_cycle: expected a whole number"),
        (MINIMAL.replace('"three-way", ', '"size", '), "unknown criterion 'size'"),
        (MINIMAL + "\n[age_rule]\nbonus = -3\n", r"age_rule.bonus: expected a number >= 0"),
        (MINIMAL + "\n[solver]\nthreads = 0\n", "threads: expected at least 1"),
    ],
)
def test_bad_policies_name_file_and_key(text: str, message: str) -> None:
    with pytest.raises(FormatError, match=message):
        parse_policy(text, "mine.toml")


def test_unknown_policy_name() -> None:
    with pytest.raises(ConfigError, match="no bundled policy of that name"):
        load_policy("atlantis")


def _pool_file(tmp_path: Path) -> Path:
    # A 3-cycle without back-arcs competing with a 2-cycle: uk and max-transplants differ.
    data = {
        "format": "kidneyshare",
        "version": 1,
        "patients": [{"id": f"p{i}"} for i in range(1, 5)],
        "donors": [{"id": f"d{i}", "patient": f"p{i}"} for i in range(1, 5)],
        "arcs": [
            {"donor": d, "patient": p, "weight": 1}
            for d, p in [("d1", "p2"), ("d2", "p3"), ("d3", "p1"), ("d3", "p4"), ("d4", "p3")]
        ],
    }
    path = tmp_path / "pool.json"
    path.write_text(json.dumps(data))
    return path


def test_solve_with_a_policy_and_an_override(tmp_path: Path) -> None:
    pool = _pool_file(tmp_path)
    uk = runner.invoke(app, ["solve", str(pool), "--policy", "uk", "--json"])
    assert uk.exit_code == 0, uk.output
    out = json.loads(uk.stdout)
    assert out["objective"] == "uk"
    assert out["cycles"] == [["p3", "p4"]]
    assert out["config"]["max_chain"] == 2
    # An option given on the command line beats the policy; a new objective drops the
    # policy's levels.
    most = runner.invoke(
        app, ["solve", str(pool), "--policy", "uk", "--objective", "max-transplants", "--json"]
    )
    assert json.loads(most.stdout)["cycles"] == [["p1", "p2", "p3"]]


def test_solve_with_a_policy_file_and_levels(tmp_path: Path) -> None:
    pool = _pool_file(tmp_path)
    policy = tmp_path / "mine.toml"
    policy.write_text(MINIMAL)
    result = runner.invoke(app, ["solve", str(pool), "--policy", str(policy), "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["config"]["levels"] == ["three-way", "transplants"]
    assert out["config"]["max_cycle"] == 2
    levels = runner.invoke(
        app,
        ["solve", str(pool), "--objective", "hierarchy", "--level", "weight", "--json"],
    )
    assert json.loads(levels.stdout)["config"]["levels"] == ["weight"]


def test_solve_policy_errors_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pool = _pool_file(tmp_path)
    bad = tmp_path / "bad.toml"
    bad.write_text(MINIMAL.replace("max_cycle = 2", "max_cycle = 'three'"))
    code, _, err = run_main(capsys, "solve", str(pool), "--policy", str(bad))
    assert code == 2
    assert err.count("\n") == 1 and "bad.toml" in err and "max_cycle" in err
    code, _, err = run_main(capsys, "solve", str(pool), "--objective", "hierarchy")
    assert code == 2
    assert "needs at least one criterion" in err
