"""HLA names: valid names read to their canonical form, bad names reported (never guessed),
and the serological tables consistent with themselves."""

from __future__ import annotations

import pytest

from kidneyshare.compatibility import (
    HlaAllele,
    HlaAntigen,
    parse_hla_name,
    parse_hla_names,
    serology,
)
from kidneyshare.errors import ModelError

# text, canonical name, serological equivalent
VALID = [
    ("A24", "A24", "A24"),
    ("a9", "A9", "A9"),
    ("Cw7", "Cw7", "Cw7"),
    ("C7", "Cw7", "Cw7"),
    ("DR15", "DR15", "DR15"),
    ("DR51", "DR51", "DR51"),
    ("DQ7", "DQ7", "DQ7"),
    ("Bw4", "Bw4", "Bw4"),
    ("B2708", "B2708", "B2708"),
    ("A*24:02", "A*24:02", "A24"),
    ("A*24", "A*24", "A24"),
    ("HLA-A*02:01", "A*02:01", "A2"),
    ("A*02:03", "A*02:03", "A203"),
    ("B*44:03:01", "B*44:03:01", "B44"),
    ("B*15:01", "B*15:01", "B62"),
    ("B*15", "B*15", "B15"),
    ("B*15:99", "B*15:99", "B15"),
    ("B*14:02", "B*14:02", "B65"),
    ("C*03:04", "C*03:04", "Cw10"),
    ("C*12:03", "C*12:03", None),
    ("DRB1*15:01", "DRB1*15:01", "DR15"),
    ("DRB1*03:01", "DRB1*03:01", "DR17"),
    ("DRB1*03", "DRB1*03", "DR3"),
    ("DRB3*02:02", "DRB3*02:02", "DR52"),
    ("DRB4*01:01", "DRB4*01:01", "DR53"),
    ("DRB5*01:01", "DRB5*01:01", "DR51"),
    ("DQB1*03:02", "DQB1*03:02", "DQ8"),
    ("DQA1*05:01", "DQA1*05:01", None),
    ("DPA1*01:03", "DPA1*01:03", None),
    ("DPB1*04:01", "DPB1*04:01", None),
    ("DPB1*104:01", "DPB1*104:01", None),
    ("A*24:09N", "A*24:09N", "A24"),
    ("A*02:01:01:01", "A*02:01:01:01", "A2"),
    ("  b7 ", "B7", "B7"),
]


@pytest.mark.parametrize(("text", "name", "antigen"), VALID)
def test_valid_names(text: str, name: str, antigen: str | None) -> None:
    parsed = parse_hla_name(text)
    assert parsed.name == name
    assert parsed.antigen == antigen
    assert str(parsed) == name
    assert parse_hla_name(name) == parsed  # the canonical name reads back to itself


def test_allele_parts_and_expression() -> None:
    allele = parse_hla_name("A*24:09N")
    assert isinstance(allele, HlaAllele)
    assert (allele.gene, allele.fields, allele.suffix, allele.group) == (
        "A",
        ("24", "09"),
        "N",
        "A*24",
    )
    assert not allele.expressed
    assert parse_hla_name("A*24:02").expressed  # type: ignore[union-attr]
    assert parse_hla_name("DR52").gene == "DRB3"
    assert parse_hla_name("Cw9").gene == "C"


# text, a fragment of the reason
INVALID = [
    ("A*2:01", "each field has at least two digits"),
    ("A*0201", "fields must be separated by ':'"),
    ("B*4403", "fields must be separated by ':'"),
    ("A*99:01", "no HLA-A allele group 99"),
    ("DRB1*02:01", "no HLA-DRB1 allele group 02"),
    ("X*01:01", "unknown gene 'X'"),
    ("DRB9*01:01", "unknown gene 'DRB9'"),
    ("A*02:01:01:01:01", "expected 1 to 4 fields"),
    ("A*02:01X", "expression suffix 'X'"),
    ("A*02N", "after at least two fields"),
    ("A*02:1234", "a field is too long"),
    ("A*", "expected GENE*FIELD"),
    ("A*02::01", "expected GENE*FIELD"),
    ("*02:01", "expected GENE*FIELD"),
    ("A99", "unknown serological antigen"),
    ("A02", "unknown serological antigen"),
    ("B100", "unknown serological antigen"),
    ("Cw11", "unknown serological antigen"),
    ("DR19", "unknown serological antigen"),
    ("DPw2", "HLA-DP has no serological antigens"),
    ("DP1", "HLA-DP has no serological antigens"),
    ("HLA", "not an HLA name"),
    ("24", "not an HLA name"),
    ("A-24", "not an HLA name"),
]


@pytest.mark.parametrize(("text", "reason"), INVALID)
def test_invalid_names_are_reported_with_the_name_and_reason(text: str, reason: str) -> None:
    with pytest.raises(ModelError) as caught:
        parse_hla_name(text)
    message = str(caught.value)
    assert repr(text.strip()) in message
    assert reason in message


def test_empty_and_non_text_names() -> None:
    with pytest.raises(ModelError, match="empty"):
        parse_hla_name("  ")
    with pytest.raises(ModelError, match="expected text"):
        parse_hla_name(24)  # type: ignore[arg-type]


def test_a_list_reports_every_bad_name_under_its_field() -> None:
    with pytest.raises(ModelError) as caught:
        parse_hla_names("A24 A*2:01, B7 A99", field="donor d1 hla")
    message = str(caught.value)
    assert message.startswith("donor d1 hla: ")
    assert "'A*2:01'" in message and "'A99'" in message and "'B7'" not in message


def test_a_list_reads_spaces_commas_and_sequences_and_drops_repeats() -> None:
    assert parse_hla_names("A24, A24 B*07:02", field="f") == parse_hla_names(
        ["A24", "B*07:02", "a24"], field="f"
    )
    assert parse_hla_names("", field="f") == ()


def test_value_objects_validate_themselves() -> None:
    with pytest.raises(ModelError, match="unknown serological antigen"):
        HlaAntigen("A99")
    with pytest.raises(ModelError, match="no HLA-B allele group 99"):
        HlaAllele("B", ("99", "01"))


# -- the tables -------------------------------------------------------------------------


def test_every_split_and_variant_is_a_known_antigen_of_its_family_gene() -> None:
    for broad, splits in serology.BROAD_SPLITS.items():
        for split in splits:
            assert serology.parent(split) == (broad, "split")
            assert serology.antigen_gene(split) == serology.antigen_gene(broad)
    for variant, antigen in serology.ASSOCIATED.items():
        assert serology.parent(variant) == (antigen, "variant")
        assert antigen in serology.SEROLOGICAL_ANTIGENS


def test_every_allele_antigen_in_the_tables_is_a_known_antigen_of_the_same_gene() -> None:
    for gene, groups in serology.ALLELE_GROUP_ANTIGENS.items():
        for antigen in groups.values():
            if antigen is not None:
                assert antigen in serology.SEROLOGICAL_ANTIGENS
                assert serology.antigen_gene(antigen) == gene
    for allele, antigen in serology.ALLELE_EXCEPTIONS.items():
        gene, fields = allele.split("*")
        assert serology.is_known_group(gene, fields.split(":")[0])
        assert serology.antigen_gene(antigen) == gene
        # the exception is narrower than (or equal to) the group's default antigen
        default = serology.ALLELE_GROUP_ANTIGENS[gene][fields.split(":")[0]]
        assert default is not None
        related = default in serology.lineage(antigen) or antigen in serology.lineage(default)
        # B*15 also encodes the B70 family (B70, B71, B72), which WHO lists apart from B15
        assert related or (allele.startswith("B*15:") and antigen in {"B70", "B71", "B72"})
        assert antigen in serology.group_antigens(gene, fields.split(":")[0])


def test_bw4_and_bw6_are_disjoint_and_splits_follow_their_broad() -> None:
    assert not serology.BW4 & serology.BW6
    assert serology.bw_epitope("B44") == "Bw4"
    assert serology.bw_epitope("B12") is None  # B44 is Bw4, B45 is Bw6
    assert serology.bw_epitope("A24") == "Bw4"
    for broad, splits in serology.BROAD_SPLITS.items():
        epitope = serology.bw_epitope(broad)
        if epitope is not None:
            assert all(serology.bw_epitope(s) == epitope for s in splits)


def test_lineage_goes_from_narrow_to_broad() -> None:
    assert serology.lineage("A2403") == ("A2403", "A24", "A9")
    assert serology.lineage("A1") == ("A1",)


def test_public_api_is_pinned() -> None:
    import kidneyshare.compatibility as compatibility

    assert sorted(compatibility.__all__) == sorted(
        [
            "DEFAULT_A2_TITRE_MAX", "AboJudgement", "AboType", "Assessment", "BuiltPool",
            "ClinicalPool", "Compatibility", "CompatibilityPolicy", "DonorRecord", "HlaAllele",
            "HlaAntigen", "HlaMismatch", "HlaName", "HlaTyping", "PanelDonor", "PatientRecord",
            "ReferencePanel", "ScoreParts", "ScoringContext", "ScoringScheme", "Sex",
            "VirtualCrossmatch", "abo_compatibility", "assess", "build_pool",
            "calculated_reaction_frequency", "default_panel", "dump_records", "hla_conflict",
            "hla_mismatch", "judge", "panel_cpra", "parse_hla_name", "parse_hla_names",
            "parse_panel", "parse_records", "read_panel", "read_records", "records_schema",
            "score_transplant", "virtual_crossmatch", "write_records",
        ]
    )  # fmt: skip
    assert all(hasattr(compatibility, name) for name in compatibility.__all__)
