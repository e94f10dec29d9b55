"""cPRA/cRF against a reference panel: a hand-checked panel, the shipped synthetic panel,
panel files and their errors, and the build-pool option."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kidneyshare.cli import app
from kidneyshare.compatibility import parse_hla_names
from kidneyshare.compatibility.cpra import (
    DEFAULT_PANEL_FILE,
    calculated_reaction_frequency,
    default_panel,
    dump_panel,
    panel_cpra,
    parse_panel,
    read_panel,
)
from kidneyshare.compatibility.records_json import parse_records
from kidneyshare.errors import FormatError, ModelError
from kidneyshare.generators.hla_typing import (
    ANTIGEN_FREQUENCIES,
    FREQUENCY_TABLE,
    generate_reference_panel,
)
from kidneyshare.model import BloodGroup

DATA = Path(__file__).resolve().parents[1] / "src" / "kidneyshare" / "compatibility" / "data"

HAND_PANEL = """id,abo,hla
1,O,A1 A2 B8 B44 DR17 DR4
2,O,A3 A24 B7 B35 DR15 DR11
3,A,A2 A23 B44 B62 DR4 DR7
4,A,A1 A11 B8 B57 DR17 DR13
5,B,A2 A3 B7 B27 DR15 DR1
6,O,A*24:02 A*68:01 B*51:01 B*35:01 DRB1*11:01 DRB1*13:01
7,AB,A2 B*15:01 B13 DR7 DR9
8,A,A9 B12 DR2
9,O,A26 A29 B38 B49 DR14 DR16
10,B,A2 B7 DR4
"""

# unacceptable antigens, blood group (None: whole panel), expected fraction; worked by
# hand from HAND_PANEL (the donors counted positive are listed)
HAND_CASES = [
    ("A9", None, 0.4),  # 2 (A24), 3 (A23), 6 (A*24:02), 8 (A9)
    ("A24", None, 0.3),  # 2, 6, and 8 (typed A9: may be A24)
    ("B12", None, 0.3),  # 1 and 3 (B44), 8 (B12)
    ("Bw4", None, 0.9),  # all but 10 (A2 B7: no Bw4 carrier)
    ("DR2", None, 0.4),  # 2, 5 (DR15), 8 (DR2), 9 (DR16)
    ("A2 DR4", None, 0.5),  # 1, 3, 5, 7, 10
    ("B62", None, 0.2),  # 3 (B62), 7 (B*15:01)
    ("B*35:01", None, 0.2),  # 6, and 2 (typed B35: may be B*35:01)
    ("A9", BloodGroup.O, 0.5),  # O donors 1, 2, 6, 9: 2 and 6
    ("DQ7", None, 0.0),  # nobody typed at DQ
    ("", None, 0.0),
]


@pytest.mark.parametrize(("unacceptable", "group", "expected"), HAND_CASES)
def test_hand_checked_panel(unacceptable: str, group: BloodGroup | None, expected: float) -> None:
    panel = parse_panel(HAND_PANEL, "hand.csv")
    found = calculated_reaction_frequency(
        parse_hla_names(unacceptable, field="u"), panel, blood_group=group
    )
    assert found == pytest.approx(expected)


def test_a_blood_group_missing_from_the_panel_is_an_error() -> None:
    panel = parse_panel("id,abo,hla\n1,O,A1\n")
    with pytest.raises(ModelError, match="no donor of blood group AB"):
        calculated_reaction_frequency((), panel, blood_group=BloodGroup.AB)


def test_panel_round_trip(tmp_path: Path) -> None:
    panel = parse_panel(HAND_PANEL)
    path = tmp_path / "p.csv"
    path.write_text(dump_panel(panel), encoding="utf-8")
    assert read_panel(path).donors == panel.donors


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "p.csv, line 1: expected the header id,abo,hla"),
        ("id,group,hla\n1,O,A1\n", "p.csv, line 1: expected the header id,abo,hla"),
        ("id,abo,hla\n", "p.csv: no donors"),
        ("id,abo,hla\n1,O\n", "p.csv, line 2: expected 3 cells"),
        ("id,abo,hla\n1,O,A1\n1,A,A2\n", "p.csv, line 3: a repeated ('1') donor id"),
        ("id,abo,hla\n,O,A1\n", "p.csv, line 2: an empty donor id"),
        ("id,abo,hla\n1,Q,A1\n", "p.csv, line 2: abo: unknown blood group 'Q'"),
        ("id,abo,hla\n1,O,A1 A*2:01\n", "p.csv, line 2: hla: 'A*2:01'"),
    ],
)
def test_malformed_panels(text: str, expected: str) -> None:
    with pytest.raises(FormatError) as caught:
        parse_panel(text, "p.csv")
    assert str(caught.value).startswith(expected)


def test_the_shipped_panel_is_the_seeded_synthetic_panel() -> None:
    shipped = (DATA / DEFAULT_PANEL_FILE).read_text(encoding="utf-8")
    assert shipped == dump_panel(generate_reference_panel())
    panel = default_panel()
    assert len(panel.donors) == 10_000


def test_frequency_table_is_published_figures_with_a_source_per_locus() -> None:
    """Every locus table names a source with a citation; every name is a valid HLA name
    of that locus; figures are positive, as published (at most six decimals) and sum to
    1 within the rounding of six decimals."""
    sources = FREQUENCY_TABLE["sources"]
    for locus, entry in FREQUENCY_TABLE["loci"].items():
        assert sources[entry["source"]]["citation"] and entry["table"], locus
        frequencies = entry["frequencies"]
        for name, value in frequencies.items():
            assert parse_hla_names(name, field="t")[0].gene == locus, name
            assert 0 < value < 1 and round(value, 6) == value, name
        assert abs(sum(frequencies.values()) - 1) < 1e-5, locus
    assert ANTIGEN_FREQUENCIES["A"]["A1"] == 0.16
    assert ANTIGEN_FREQUENCIES["A"]["A2"] == 0.296834


def test_shipped_panel_phenotype_frequencies_follow_hardy_weinberg() -> None:
    """An antigen of gene frequency f is carried by 1 - (1 - f)^2 of donors; with 10,000
    donors the standard error is below 0.005, so 0.02 is over four of them. The gene
    frequencies are the published ones of the table (OPTN: A2 0.296834, A1 0.16, B8
    0.112667, DR4 0.173333, C*12 0.0395, DQ2 0.219167), normalised as drawn; antigens
    without a broad antigen in the table, whose donors would also count ("may be")."""
    panel = default_panel()
    for locus, antigen in [
        ("A", "A2"),
        ("A", "A1"),
        ("B", "B8"),
        ("DRB1", "DR4"),
        ("C", "C*12"),
        ("DQB1", "DQ2"),
    ]:
        table = ANTIGEN_FREQUENCIES[locus]
        gene_frequency = table[antigen] / sum(table.values())
        expected = 1 - (1 - gene_frequency) ** 2
        found = calculated_reaction_frequency(parse_hla_names(antigen, field="u"), panel)
        assert abs(found - expected) < 0.02, antigen
    groups = [d.blood_group for d in panel.donors]
    assert abs(groups.count(BloodGroup.O) / len(groups) - 0.48) < 0.02


def test_panel_cpra_and_build_pool_option(tmp_path: Path) -> None:
    records = {
        "format": "kidneyshare-clinical",
        "version": 1,
        "patients": [
            {"id": "p1", "abo": "O", "unacceptable": ["A9"], "cpra": 0.99},
            {"id": "p2", "abo": "A"},
        ],
        "donors": [
            {"id": "d1", "patient": "p1", "abo": "A", "hla": ["A2", "B7", "DR4"]},
            {"id": "d2", "patient": "p2", "abo": "B", "hla": ["A24", "B8", "DR17"]},
        ],
    }
    pool = parse_records(json.dumps(records))
    panel = parse_panel(HAND_PANEL)
    assert panel_cpra(pool, panel) == {"p1": 0.4}
    assert panel_cpra(pool, panel, same_blood_group=True) == {"p1": 0.5}
    path, panel_path = tmp_path / "r.json", tmp_path / "panel.csv"
    path.write_text(json.dumps(records), encoding="utf-8")
    panel_path.write_text(HAND_PANEL, encoding="utf-8")
    runner = CliRunner()
    result = runner.invoke(
        app, ["build-pool", str(path), "--compute-cpra", "--panel", str(panel_path)]
    )
    assert result.exit_code == 0, result.output
    patients = {p["id"]: p for p in json.loads(result.stdout)["patients"]}
    assert patients["p1"]["cpra"] == 0.4
    result = runner.invoke(app, ["build-pool", str(path), "--panel", str(panel_path)])
    assert result.exit_code != 0
