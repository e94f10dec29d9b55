"""The virtual crossmatch at mixed resolutions, case by case and as properties."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kidneyshare.compatibility import (
    AboType,
    ClinicalPool,
    CompatibilityPolicy,
    DonorRecord,
    HlaTyping,
    PatientRecord,
    build_pool,
    calculated_reaction_frequency,
    hla_conflict,
    judge,
    parse_hla_name,
    parse_hla_names,
    parse_panel,
    serology,
    virtual_crossmatch,
)
from kidneyshare.compatibility.crossmatch import with_implied
from kidneyshare.model import DonorId, PatientId

# donor specificity, unacceptable specificity, the conflict (None: none)
PAIRS = [
    # same resolution
    ("A24", "A24", "A24"),
    ("A24", "A23", None),
    ("A*24:02", "A*24:02", "A*24:02"),
    ("A*24:02", "A*24:03", None),
    ("A*24:02", "B*44:02", None),
    # broad unacceptable, split donor (the DESIGN.md example)
    ("A24", "A9", "A24 (split of A9)"),
    ("A*24:02", "A9", "A*24:02 (A24, split of A9)"),
    ("DRB1*15:01", "DR2", "DRB1*15:01 (DR15, split of DR2)"),
    ("DQB1*03:01", "DQ3", "DQB1*03:01 (DQ7, split of DQ3)"),
    ("DRB1*03:01", "DR3", "DRB1*03:01 (DR17, split of DR3)"),
    ("Cw10", "Cw3", "Cw10 (split of Cw3)"),
    # variants (associated antigens)
    ("A*02:03", "A2", "A*02:03 (A203, variant of A2)"),
    ("A2403", "A9", "A2403 (within A9)"),
    ("A2403", "A24", "A2403 (variant of A24)"),
    # allele against serology
    ("A*02:01", "A2", "A*02:01 (A2)"),
    ("DRB4*01:01", "DR53", "DRB4*01:01 (DR53)"),
    ("DRB1*15:01", "DR16", None),
    ("DQB1*03:02", "DQ7", None),
    # donor typed more coarsely than the unacceptable antigen: may carry it
    ("A9", "A24", "A9 (may be A24; typed at a broader level)"),
    ("A24", "A*24:02", "A24 (may be A*24:02; typed at antigen level)"),
    ("A*24", "A*24:02", "A*24 (may be A*24:02; typed at lower resolution)"),
    ("B*15", "B62", "B*15 (B15, may be B62; typed at a broader level)"),
    ("B*15:99", "B72", "B*15:99 (B15, may be B72; typed at a broader level)"),
    ("DQB1*03", "DQ8", "DQB1*03 (DQ3, may be DQ8; typed at a broader level)"),
    # donor typed more finely than the unacceptable allele group
    ("A*24:02:01", "A*24:02", "A*24:02:01 (in A*24:02)"),
    ("C*12:03", "C*12", "C*12:03 (in C*12)"),
    # public epitopes
    ("B*44:03", "Bw4", "B*44:03 (B44, carries Bw4)"),
    ("A24", "Bw4", "A24 (carries Bw4)"),
    ("B7", "Bw4", None),
    ("B7", "Bw6", "B7 (carries Bw6)"),
    ("B12", "Bw4", "B12 (may carry Bw4)"),
    ("Bw4", "Bw4", "Bw4"),
    ("Bw4", "B44", None),
    # no serological equivalent, null alleles, other genes
    ("DPB1*04:01", "DPB1*04:01", "DPB1*04:01"),
    ("DPB1*04:01", "DPB1*04:02", None),
    ("DQA1*05:01", "DQ2", None),
    ("A*24:09N", "A24", None),
    ("A*24:09N", "A*24:09N", None),
    ("B7", "DR7", None),
]


@pytest.mark.parametrize(("donor", "unacceptable", "expected"), PAIRS)
def test_single_specificities(donor: str, unacceptable: str, expected: str | None) -> None:
    assert hla_conflict(parse_hla_name(donor), parse_hla_name(unacceptable)) == expected


def test_the_design_example_at_mixed_resolution() -> None:
    donor = parse_hla_names("A*02:01 A24 B7 B*44:03 DR4 DRB1*15:01", field="donor")
    result = virtual_crossmatch(donor, parse_hla_names("A9 DQ7", field="unacceptable"))
    assert result.positive
    assert result.conflicts == ("A24 (split of A9)",)


def test_several_conflicts_in_donor_order_each_once() -> None:
    donor = parse_hla_names("A*02:01 A*24:02 B*44:03 B8 DRB1*15:01 DQB1*06:02", field="d")
    unacceptable = parse_hla_names("DR2 A9 A24 Bw4 DQ1", field="u")
    result = virtual_crossmatch(donor, unacceptable)
    assert result.conflicts == (
        "A*24:02 (A24, split of A9)",
        "A*24:02 (A24)",
        "A*24:02 (A24, carries Bw4)",
        "B*44:03 (B44, carries Bw4)",
        "DRB1*15:01 (DR15, split of DR2)",
        "DQB1*06:02 (DQ6, split of DQ1)",
    )


# DRB1-only typing implies the second DRB gene's antigen (WHO / HLA FactsBook DR groups):
# (donor typing, unacceptable, conflicts)
IMPLIED_DR = [
    # the DR53 group: DR4, DR7, DR9 carry DRB4
    ("DR4", "DR53", ("DR53 (implied from DRB1: DR4)",)),
    ("DR7", "DR53", ("DR53 (implied from DRB1: DR7)",)),
    ("DR9", "DR53", ("DR53 (implied from DRB1: DR9)",)),
    ("DRB1*04:01", "DR53", ("DR53 (implied from DRB1: DRB1*04:01)",)),
    ("DRB1*07", "DR53", ("DR53 (implied from DRB1: DRB1*07)",)),
    ("A2 B7 DR4 DR7", "DR53", ("DR53 (implied from DRB1: DR4, DR7)",)),
    # the DR51 group: DR15, DR16 (broad DR2) carry DRB5
    ("DR15", "DR51", ("DR51 (implied from DRB1: DR15)",)),
    ("DR16", "DR51", ("DR51 (implied from DRB1: DR16)",)),
    ("DR2", "DR51", ("DR51 (implied from DRB1: DR2)",)),
    ("DRB1*15:01", "DR51", ("DR51 (implied from DRB1: DRB1*15:01)",)),
    # the DR52 group: DR3 (DR17, DR18), DR5 (DR11, DR12), DR6 (DR13, DR14) carry DRB3
    ("DR3", "DR52", ("DR52 (implied from DRB1: DR3)",)),
    ("DR17", "DR52", ("DR52 (implied from DRB1: DR17)",)),
    ("DR18", "DR52", ("DR52 (implied from DRB1: DR18)",)),
    ("DR5", "DR52", ("DR52 (implied from DRB1: DR5)",)),
    ("DR11", "DR52", ("DR52 (implied from DRB1: DR11)",)),
    ("DR12", "DR52", ("DR52 (implied from DRB1: DR12)",)),
    ("DR6", "DR52", ("DR52 (implied from DRB1: DR6)",)),
    ("DR13", "DR52", ("DR52 (implied from DRB1: DR13)",)),
    ("DR14", "DR52", ("DR52 (implied from DRB1: DR14)",)),
    ("DR1403", "DR52", ("DR52 (implied from DRB1: DR1403)",)),
    ("DRB1*03:01", "DR52", ("DR52 (implied from DRB1: DRB1*03:01)",)),
    ("DRB1*14:04", "DR52", ("DR52 (implied from DRB1: DRB1*14:04)",)),
    # DR1, DR103, DR8, DR10 travel with no second DRB gene
    ("DR1 DR8", "DR51 DR52 DR53", ()),
    ("DR103 DR10", "DR51 DR52 DR53", ()),
    ("DRB1*01:01 DRB1*08:01 DRB1*10:01", "DR51 DR52 DR53", ()),
    # only the group's own antigen
    ("DR4", "DR51 DR52", ()),
    ("DR15 DR17", "DR53", ()),
    # typed at DRB3/4/5: nothing implied (a typed null allele stays unexpressed)
    ("DR4 DR52", "DR53", ()),
    ("DR4 DR7 DR53", "DR53", ("DR53",)),
    ("DR4 DRB4*01:03:01:02N", "DR53", ()),
    ("DR4 DRB3*02:02", "DR53", ()),
    # a null DRB1 allele implies nothing
    ("DRB1*04:01:01:03N", "DR53", ()),
    # an unacceptable DRB4 allele: the implied DR53 may be it
    (
        "DRB1*04:01",
        "DRB4*01:01",
        ("DR53 (implied from DRB1: DRB1*04:01; may be DRB4*01:01; typed at antigen level)",),
    ),
    # implied conflicts come after the typed ones
    ("A24 DR4", "DR53 A9", ("A24 (split of A9)", "DR53 (implied from DRB1: DR4)")),
]


@pytest.mark.parametrize(("donor", "unacceptable", "expected"), IMPLIED_DR)
def test_drb1_only_typing_implies_dr51_dr52_dr53(
    donor: str, unacceptable: str, expected: tuple[str, ...]
) -> None:
    result = virtual_crossmatch(
        parse_hla_names(donor, field="donor"), parse_hla_names(unacceptable, field="u")
    )
    assert result.conflicts == expected
    assert result.positive is bool(expected)


def test_implied_antigens_reach_cpra_and_the_builder() -> None:
    """The panel and the builder count the implied antigen exactly as the crossmatch does:
    a patient with an unacceptable DR53 has no arc from a donor typed DR4 at DRB1 only."""
    panel = parse_panel("id,abo,hla\n1,O,A1 DR4\n2,O,A1 DR4 DR52\n3,O,A1 DR15\n4,O,DR7 DR53\n")
    unacceptable = parse_hla_names("DR53", field="u")
    assert calculated_reaction_frequency(unacceptable, panel) == 0.5
    records = ClinicalPool(
        (PatientRecord(PatientId("p1"), AboType.O, unacceptable=unacceptable),),
        (
            DonorRecord(DonorId("d1"), AboType.A, PatientId("p1")),
            DonorRecord(DonorId("a1"), AboType.O, hla=HlaTyping.parse("A2 DR4", field="h")),
        ),
    )
    built = build_pool(records)
    assert built.instance.arcs == ()
    assessment = built.why("a1", "p1")
    assert assessment.compatibility.crossmatch == virtual_crossmatch(
        parse_hla_names("A2 DR4", field="d"), unacceptable
    )
    assert "virtual crossmatch: positive: DR53 (implied from DRB1: DR4)" in assessment.reasons()


def test_no_unacceptable_antigens_is_negative() -> None:
    result = virtual_crossmatch(parse_hla_names("A1 B8 DR17", field="d"), ())
    assert not result.positive and result.conflicts == ()


def test_judge_leaves_the_crossmatch_out_when_hla_is_unknown() -> None:
    verdict = judge(AboType.O, AboType.A, CompatibilityPolicy(), donor_hla=None, unacceptable=())
    assert verdict.crossmatch is None and verdict.compatible
    assert verdict.to_json() == {
        "abo": {"compatible": True, "rule": "O donor to A patient, ABO compatible"},
        "virtual_crossmatch": None,
        "compatible": True,
    }


# -- properties -------------------------------------------------------------------------

ANTIGENS = sorted(serology.SEROLOGICAL_ANTIGENS)
ALLELES = sorted(
    [
        f"{gene}*{group}"
        for gene, groups in serology.ALLELE_GROUP_ANTIGENS.items()
        for group in groups
    ]
    + [
        f"{gene}*{group}:01"
        for gene, groups in serology.ALLELE_GROUP_ANTIGENS.items()
        for group in groups
    ]
    + list(serology.ALLELE_EXCEPTIONS)
    + ["DPB1*04:01", "DPB1*04:02", "DPB1*02:01", "A*24:09N", "B*44:03:01"]
)
names = st.sampled_from(ANTIGENS + ALLELES).map(parse_hla_name)
typings = st.lists(names, max_size=8)


@settings(max_examples=300, deadline=None)
@given(typings, typings, names)
def test_adding_an_unacceptable_antigen_never_makes_a_crossmatch_negative(
    donor: list, unacceptable: list, extra: object
) -> None:
    before = virtual_crossmatch(donor, unacceptable)
    after = virtual_crossmatch(donor, [*unacceptable, extra])
    assert set(before.conflicts) <= set(after.conflicts)
    assert after.positive or not before.positive


@settings(max_examples=300, deadline=None)
@given(typings)
def test_listing_the_donor_own_expressed_specificities_is_always_positive(donor: list) -> None:
    expressed = [d for d in donor if getattr(d, "expressed", True)]
    result = virtual_crossmatch(donor, donor)
    assert result.positive is bool(expressed)


@settings(max_examples=300, deadline=None)
@given(typings, typings)
def test_positive_exactly_when_some_pair_conflicts(donor: list, unacceptable: list) -> None:
    """Pairs of the donor's specificities, with those a DRB1-only typing implies."""
    carried = with_implied(donor)
    any_pair = any(hla_conflict(d, u) is not None for d in carried for u in unacceptable)
    assert virtual_crossmatch(donor, unacceptable).positive is any_pair
