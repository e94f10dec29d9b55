"""Random HLA typings and the synthetic reference panel, from published antigen frequencies.

Each locus is drawn independently (linkage equilibrium) from the antigen (gene)
frequencies below, two antigens per locus (Hardy-Weinberg); DR51/52/53 follow from the
DRB1 antigens as the DRB3/4/5 genes do (``serology.DR_ASSOCIATED``: DR15/16 carry DRB5
-> DR51; DR3/11/12/13/14 carry DRB3 -> DR52; DR4/7/9 carry DRB4 -> DR53), and are listed
in the typing. Real haplotypes are in linkage disequilibrium (A1-B8-DR17 is common in the
UK), so a real panel has somewhat fewer distinct phenotypes; cPRA values against this
panel are indicative, not clinical.

Sources of the figures
----------------------
The HLA figures are the table ``compatibility/data/hla-antigen-frequencies.json``, which
names the source of each locus table. At HLA-A, -B, -C, -DR and -DQ they are the OPTN
CPRA calculator's single-locus antigen frequencies for US Caucasian deceased donors
(version "optn_2015", derived by gene counting of broad and split antigens as in Leffell
et al., Transplantation 83:964-972, 2007), kept as published: six decimals, broad
antigens (donors typed only at the broad level, such as A28, B14, DR3, DQ1, Cw3)
included, entries of 0 left out. Each locus sums to 1 within rounding and is normalised
when drawn. They are US, not UK, figures: no UK table of published antigen frequencies
was found (NHSBT's cRF panel is not published as frequencies). ABO frequencies are those
NHS Blood and Transplant publishes for the UK population (O 48 %, A 38 %, B 10 %, AB
4 %). A scheme should compute cRF against its own recent donors.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from importlib import resources
from typing import Any, Final

import numpy as np

from kidneyshare.compatibility import serology
from kidneyshare.compatibility.cpra import PanelDonor, ReferencePanel
from kidneyshare.compatibility.records import HlaTyping
from kidneyshare.generators.seeding import make_rng
from kidneyshare.model import BloodGroup

__all__ = [
    "ANTIGEN_FREQUENCIES",
    "FREQUENCY_FILE",
    "FREQUENCY_TABLE",
    "PANEL_SEED",
    "PANEL_SIZE",
    "UK_BLOOD_GROUPS",
    "draw_typings",
    "generate_reference_panel",
]

UK_BLOOD_GROUPS: Final = {"O": 0.48, "A": 0.38, "B": 0.10, "AB": 0.04}
"""UK population ABO frequencies (NHS Blood and Transplant)."""

FREQUENCY_FILE: Final = "hla-antigen-frequencies.json"
"""The table of antigen frequencies in ``kidneyshare/compatibility/data``."""


def _read_frequency_table() -> dict[str, Any]:
    data = resources.files("kidneyshare.compatibility") / "data" / FREQUENCY_FILE
    table: dict[str, Any] = json.loads(data.read_text(encoding="utf-8"))
    return table


FREQUENCY_TABLE: Final = _read_frequency_table()
"""The whole table: ``sources`` (citations) and ``loci`` (each with its ``source``,
``table``, the names ``published_as`` where the source's code differs, and
``frequencies``)."""

ANTIGEN_FREQUENCIES: Final[Mapping[str, Mapping[str, float]]] = {
    locus: dict(entry["frequencies"]) for locus, entry in FREQUENCY_TABLE["loci"].items()
}
"""Antigen gene frequencies by locus (A, B, C, DRB1, DQB1), as published (each
normalised to 1 when drawn)."""

PANEL_SIZE: Final = 10_000
"""Donors in the shipped synthetic panel (the size of NHSBT's cRF panel)."""
PANEL_SEED: Final = 20221
"""The seed the shipped panel was drawn with."""


def _normalised(frequencies: Mapping[str, float]) -> tuple[list[str], np.ndarray]:
    names = list(frequencies)
    weights = np.array([frequencies[n] for n in names], dtype=float)
    return names, weights / weights.sum()


def draw_typings(rng: np.random.Generator, count: int) -> list[HlaTyping]:
    """``count`` random typings: two antigens at A, B, C, DR and DQ, plus DR51/52/53.

    A homozygous locus is listed once. The names are those of the frequency table:
    serological (split level, or broad where the source's donors were typed only at the
    broad level), ``C*12``-style allele groups where a C antigen has no serological name,
    and ``A*66:01`` where the source lists an allele.
    """
    loci = [_normalised(frequencies) for frequencies in ANTIGEN_FREQUENCIES.values()]
    draws = [rng.choice(len(names), size=(count, 2), p=weights) for names, weights in loci]
    typings: list[HlaTyping] = []
    for person in range(count):
        names: list[str] = []
        for (locus_names, _), drawn in zip(loci, draws, strict=True):
            names.extend(dict.fromkeys(locus_names[i] for i in drawn[person]))
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
