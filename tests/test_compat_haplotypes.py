"""The published A~B~DR haplotype table and the linkage it gives the synthetic panel.

Sampling tolerances: a frequency p estimated from n independent haplotypes has standard
error sqrt(p (1 - p) / n); the draws are seeded, and a bound of five standard errors
would be crossed by chance about once in 1.7 million checks.
"""

from __future__ import annotations

import math
from collections import defaultdict

import numpy as np
import pytest

from kidneyshare.compatibility import parse_hla_names
from kidneyshare.compatibility.cpra import default_panel
from kidneyshare.generators.hla_typing import (
    ANTIGEN_FREQUENCIES,
    HAPLOTYPE_TABLE,
    HaplotypeDraw,
    draw_haplotypes,
)
from kidneyshare.generators.seeding import make_rng

PEOPLE = 100_000
HAPLOTYPES = 2 * PEOPLE


def _within(found: float, expected: float, n: int, errors: float = 5.0) -> bool:
    return abs(found - expected) <= errors * math.sqrt(expected * (1 - expected) / n)


def _single_locus(locus: str) -> dict[str, float]:
    table = ANTIGEN_FREQUENCIES[locus]
    total = sum(table.values())
    return {name: value / total for name, value in table.items()}


@pytest.fixture(scope="module")
def drawn() -> HaplotypeDraw:
    return draw_haplotypes(make_rng(7), PEOPLE)


def _carried(drawn: HaplotypeDraw, locus: str, antigen: str) -> np.ndarray:
    return drawn.index[locus] == list(drawn.names[locus]).index(antigen)


def test_haplotype_table_is_published_figures_above_its_floor() -> None:
    """Each row names valid antigens of the linked loci and a figure as published (six
    decimals) at or above the floor; the rows sum to the stated kept mass; and no
    antigen's kept haplotypes exceed its single-locus frequency, so the remainder can
    restore every published single-locus figure exactly."""
    loci = HAPLOTYPE_TABLE["loci"]
    assert loci == ["A", "B", "DRB1"]
    assert HAPLOTYPE_TABLE["source"] == "optn-cpra-2015"
    rows = HAPLOTYPE_TABLE["haplotypes"]
    assert len(rows) == len({tuple(row[:-1]) for row in rows}) == 388
    carried: dict[tuple[str, str], float] = defaultdict(float)
    for row in rows:
        *names, value = row
        assert HAPLOTYPE_TABLE["floor"] <= value < 1 and round(value, 6) == value, row
        for locus, name in zip(loci, names, strict=True):
            assert parse_hla_names(name, field="t")[0].gene == locus, name
            carried[locus, name] += value
    assert sum(row[-1] for row in rows) == pytest.approx(HAPLOTYPE_TABLE["kept_mass"], abs=1e-9)
    for (locus, name), value in carried.items():
        assert value <= _single_locus(locus)[name] + 1e-6, (locus, name)
    assert ["A1", "B8", "DR17", 0.060818] in rows


def test_drawn_haplotypes_keep_the_published_single_locus_frequencies(
    drawn: HaplotypeDraw,
) -> None:
    """Every antigen at every locus (A, B, DR from the haplotype table and its remainder,
    C and DQ from their own tables) is drawn at its published single-locus frequency,
    normalised, within five standard errors over 200,000 haplotypes."""
    for locus in ANTIGEN_FREQUENCIES:
        for antigen, expected in _single_locus(locus).items():
            found = float(_carried(drawn, locus, antigen).mean())
            assert _within(found, expected, HAPLOTYPES), (locus, antigen, found, expected)


@pytest.mark.parametrize(
    ("a", "b", "dr", "published", "times"),
    [
        ("A1", "B8", "DR17", 0.060818, 25),
        ("A3", "B7", "DR15", 0.032718, 10),
        ("A2", "B44", "DR4", 0.028903, 3),
    ],
)
def test_drawn_haplotypes_carry_the_published_linkage(
    drawn: HaplotypeDraw, a: str, b: str, dr: str, published: float, times: int
) -> None:
    """A known Caucasian haplotype is drawn at its published A~B~DR frequency (the
    remainder adds under 0.0001), ``times`` what independent loci give and more
    (independence: A1~B8~DR17 0.0020, A3~B7~DR15 0.0027, A2~B44~DR4 0.0077)."""
    together = _carried(drawn, "A", a) & _carried(drawn, "B", b) & _carried(drawn, "DRB1", dr)
    found = float(together.mean())
    assert _within(found, published, HAPLOTYPES), (found, published)
    independent = _single_locus("A")[a] * _single_locus("B")[b] * _single_locus("DRB1")[dr]
    assert found > times * independent


def test_shipped_panel_carries_the_a1_b8_dr17_haplotype() -> None:
    """At least 1 - (1 - 0.060818)^2 = 0.118 of donors carry the A1~B8~DR17 haplotype
    (more carry the three antigens on different haplotypes); with 10,000 donors the
    standard error is 0.0032. The panel drawn with independent loci had 0.0129."""
    panel = default_panel()
    wanted = {"A1", "B8", "DR17"}
    share = sum(wanted <= {str(n) for n in d.hla.specificities} for d in panel.donors)
    assert share / len(panel.donors) > 0.118 - 4 * 0.0032
