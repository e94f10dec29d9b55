"""Random HLA typings and the synthetic reference panel, from published antigen and
haplotype frequencies.

Each person gets two haplotypes. At HLA-A, -B and -DR a haplotype is drawn whole from the
published three-locus A~B~DR haplotype frequencies, so the typings carry the linkage
disequilibrium of the source population (A1~B8~DR17 is 6.1 % of its haplotypes, where
independent loci would give 0.2 %). The published table is kept down to a frequency floor
(:data:`HAPLOTYPE_TABLE`); the rest of its mass is drawn with A, B and DR independent,
each from what the single-locus frequencies leave after the kept haplotypes, so every
antigen keeps its published single-locus frequency. HLA-C and -DQ are drawn independently
of the haplotype (and of each other) from their single-locus frequencies: the source's
Caucasian tables that involve C or DQ carry no linkage (the haplotype file's ``not_used``
says why), so real B~C and DR~DQ linkage (B8 with Cw7, DR17 with DQ2) is missing.
DR51/52/53 follow from the DRB1 antigens as the DRB3/4/5 genes do
(``serology.DR_ASSOCIATED``: DR15/16 carry DRB5 -> DR51; DR3/11/12/13/14 carry DRB3 ->
DR52; DR4/7/9 carry DRB4 -> DR53), and are listed in the typing. A person's two
haplotypes are independent draws (random mating), so each locus is in Hardy-Weinberg
proportions. cPRA values against this panel are indicative, not clinical.

Sources of the figures
----------------------
The single-locus figures are the table ``compatibility/data/hla-antigen-frequencies.json``
and the haplotype figures ``compatibility/data/hla-haplotype-frequencies.json``; each names
its source. Both are the OPTN CPRA calculator's figures for US Caucasian deceased donors
(version "optn_2015", derived as in Leffell et al., Transplantation 83:964-972, 2007):
single-locus (S1) antigen frequencies at HLA-A, -B, -C, -DR and -DQ, and the three-locus
A~B~DR (S3 - ABDR) haplotype frequencies at or above 0.0005, kept as published: six
decimals, broad antigens (donors typed only at the broad level, such as A28, B14, DR3,
DQ1, Cw3) included, entries of 0 left out. Each single-locus table sums to 1 within
rounding and is normalised when drawn. They are US, not UK, figures: no UK table of
published antigen or haplotype frequencies was found (NHSBT's cRF panel is not published
as frequencies). ABO frequencies are those NHS Blood and Transplant publishes for the UK
population (O 48 %, A 38 %, B 10 %, AB 4 %). A scheme should compute cRF against its own
recent donors.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from kidneyshare.compatibility import serology
from kidneyshare.compatibility.cpra import PanelDonor, ReferencePanel
from kidneyshare.compatibility.records import HlaTyping
from kidneyshare.generators.seeding import make_rng
from kidneyshare.model import BloodGroup

__all__ = [
    "ANTIGEN_FREQUENCIES",
    "FREQUENCY_FILE",
    "FREQUENCY_TABLE",
    "HAPLOTYPE_FILE",
    "HAPLOTYPE_TABLE",
    "PANEL_SEED",
    "PANEL_SIZE",
    "UK_BLOOD_GROUPS",
    "HaplotypeDraw",
    "draw_haplotypes",
    "draw_typings",
    "generate_reference_panel",
]

UK_BLOOD_GROUPS: Final = {"O": 0.48, "A": 0.38, "B": 0.10, "AB": 0.04}
"""UK population ABO frequencies (NHS Blood and Transplant)."""

FREQUENCY_FILE: Final = "hla-antigen-frequencies.json"
"""The table of antigen frequencies in ``kidneyshare/compatibility/data``."""
HAPLOTYPE_FILE: Final = "hla-haplotype-frequencies.json"
"""The table of haplotype frequencies in ``kidneyshare/compatibility/data``."""


def _read_data_table(name: str) -> dict[str, Any]:
    data = resources.files("kidneyshare.compatibility") / "data" / name
    table: dict[str, Any] = json.loads(data.read_text(encoding="utf-8"))
    return table


FREQUENCY_TABLE: Final = _read_data_table(FREQUENCY_FILE)
"""The whole table: ``sources`` (citations) and ``loci`` (each with its ``source``,
``table``, the names ``published_as`` where the source's code differs, and
``frequencies``)."""

ANTIGEN_FREQUENCIES: Final[Mapping[str, Mapping[str, float]]] = {
    locus: dict(entry["frequencies"]) for locus, entry in FREQUENCY_TABLE["loci"].items()
}
"""Antigen gene frequencies by locus (A, B, C, DRB1, DQB1), as published (each
normalised to 1 when drawn)."""

HAPLOTYPE_TABLE: Final[Mapping[str, Any]] = _read_data_table(HAPLOTYPE_FILE)["tables"]["A~B~DRB1"]
"""The published A~B~DR haplotype table: ``loci`` (``A``, ``B``, ``DRB1``), ``floor``,
``kept_mass``, ``source``, ``notes`` and ``haplotypes`` (``[A, B, DR, frequency]`` rows at or
above the floor, as published)."""

PANEL_SIZE: Final = 10_000
"""Donors in the shipped synthetic panel (the size of NHSBT's cRF panel)."""
PANEL_SEED: Final = 20221
"""The seed the shipped panel was drawn with."""


def _normalised(frequencies: Mapping[str, float]) -> tuple[list[str], np.ndarray]:
    names = list(frequencies)
    weights = np.array([frequencies[n] for n in names], dtype=float)
    return names, weights / weights.sum()


@dataclass(frozen=True)
class HaplotypeDraw:
    """``count`` people's two haplotypes: ``index[locus][person, k]`` is the position in
    ``names[locus]`` of the antigen haplotype ``k`` (0 or 1) carries at that locus."""

    names: Mapping[str, Sequence[str]]
    index: Mapping[str, npt.NDArray[np.intp]]


@functools.cache
def _linked_model() -> tuple[
    list[str], list[npt.NDArray[np.intp]], npt.NDArray[np.float64], list[npt.NDArray[np.float64]]
]:
    """The linked loci, each kept haplotype's antigen index at each, the probabilities of
    the kept haplotypes followed by that of the remainder, and each locus's remainder
    distribution: what its single-locus frequencies leave after the kept haplotypes."""
    loci: list[str] = list(HAPLOTYPE_TABLE["loci"])
    rows = HAPLOTYPE_TABLE["haplotypes"]
    kept = np.array([row[-1] for row in rows], dtype=float)
    columns: list[npt.NDArray[np.intp]] = []
    remainders: list[npt.NDArray[np.float64]] = []
    for position, locus in enumerate(loci):
        names, weights = _normalised(ANTIGEN_FREQUENCIES[locus])
        column = np.array([names.index(row[position]) for row in rows], dtype=np.intp)
        left = np.clip(weights - np.bincount(column, weights=kept, minlength=len(names)), 0.0, None)
        columns.append(column)
        remainders.append(left / left.sum())
    rest = max(0.0, 1.0 - float(kept.sum()))
    return loci, columns, np.append(kept, rest) / (kept.sum() + rest), remainders


def draw_haplotypes(rng: np.random.Generator, count: int) -> HaplotypeDraw:
    """Two haplotypes for each of ``count`` people.

    A, B and DRB1 come together from the published haplotype table (a kept haplotype, or
    for the table's remainder mass, one antigen a locus from the remainder
    distributions); C and DQB1, which the table does not link, are drawn from their
    single-locus frequencies.
    """
    linked, columns, probabilities, remainders = _linked_model()
    names = {locus: _normalised(ANTIGEN_FREQUENCIES[locus])[0] for locus in ANTIGEN_FREQUENCIES}
    chosen = rng.choice(len(probabilities), size=(count, 2), p=probabilities)
    rest = chosen == len(probabilities) - 1
    index: dict[str, npt.NDArray[np.intp]] = {}
    for locus, column, remainder in zip(linked, columns, remainders, strict=True):
        drawn = column[np.where(rest, 0, chosen)]
        drawn[rest] = rng.choice(len(remainder), size=int(rest.sum()), p=remainder)
        index[locus] = drawn
    for locus in ANTIGEN_FREQUENCIES:
        if locus not in index:
            _, weights = _normalised(ANTIGEN_FREQUENCIES[locus])
            index[locus] = rng.choice(len(weights), size=(count, 2), p=weights)
    return HaplotypeDraw(names, {locus: index[locus] for locus in ANTIGEN_FREQUENCIES})


def draw_typings(rng: np.random.Generator, count: int) -> list[HlaTyping]:
    """``count`` random typings: two antigens at A, B, C, DR and DQ, plus DR51/52/53.

    The two haplotypes are :func:`draw_haplotypes`'s (A~B~DR linked as published). A
    homozygous locus is listed once. The names are those of the frequency table:
    serological (split level, or broad where the source's donors were typed only at the
    broad level), ``C*12``-style allele groups where a C antigen has no serological name,
    and ``A*66:01`` where the source lists an allele.
    """
    drawn = draw_haplotypes(rng, count)
    typings: list[HlaTyping] = []
    for person in range(count):
        names: list[str] = []
        for locus, locus_names in drawn.names.items():
            names.extend(dict.fromkeys(locus_names[i] for i in drawn.index[locus][person]))
        associated = {serology.associated_dr(name) for name in names}
        names.extend(sorted(a for a in associated if a is not None))
        typings.append(HlaTyping.parse(names, field="generated typing"))
    return typings


def generate_reference_panel(size: int = PANEL_SIZE, seed: int = PANEL_SEED) -> ReferencePanel:
    """A synthetic reference panel of ``size`` donors with UK blood groups and typings.

    The shipped ``compatibility/data/synthetic-uk-panel.csv`` is
    ``dump_panel(generate_reference_panel())`` (a test checks it).
    """
    rng = make_rng(seed)
    groups, weights = _normalised(UK_BLOOD_GROUPS)
    abo = rng.choice(len(groups), size=size, p=weights)
    typings = draw_typings(rng, size)
    donors = tuple(
        PanelDonor(f"R{i + 1:05d}", BloodGroup(groups[g]), typing)
        for i, (g, typing) in enumerate(zip(abo.tolist(), typings, strict=True))
    )
    return ReferencePanel(donors, source=f"synthetic panel (size {size}, seed {seed})")
