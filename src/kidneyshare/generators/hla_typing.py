"""Random HLA typings and the synthetic reference panel, from antigen frequencies.

Each locus is drawn independently (linkage equilibrium) from the antigen (gene)
frequencies below, two antigens per locus (Hardy-Weinberg); DR51/52/53 follow from the
DRB1 antigens as the DRB3/4/5 genes do (DR15/16 carry DRB5 -> DR51; DR3/11/12/13/14
carry DRB3 -> DR52; DR4/7/9 carry DRB4 -> DR53). Real haplotypes are in linkage
disequilibrium (A1-B8-DR17 is common in the UK), so a real panel has somewhat fewer
distinct phenotypes; cPRA values against this panel are indicative, not clinical.

Sources of the figures
----------------------
Frequencies are gene frequencies of serological antigens (split level) for populations
of European ancestry, rounded and normalised to 1 at each locus. A1 (0.16) and A2
(0.29) are the OPTN deceased-donor figures rounded (A*01 0.157, A*02 0.293; population
"USA OPTN Caucasian", n = 8,525, in the Allele Frequency Net Database: F. F.
Gonzalez-Galarza et al., Nucleic Acids Research 48:D783-D788, 2020; on the OPTN donor
frequencies see also M. S. Leffell, W. S. Cherikh, G. Land, A. A. Zachary, Transplantation
83:964-972, 2007); the database's UK "Wales" donors (n = 1,798) have A*01 0.211 and A*02
0.302. The other figures have *not* been checked one by one against a published table:
they are rounded values of the same order as those populations' and are illustrative
only (a known gap; replace the table by one population's published figures to close it).
ABO frequencies are
those NHS Blood and Transplant publishes for the UK population (O 48 %, A 38 %, B 10 %,
AB 4 %). A scheme should compute cRF against its own recent donors.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

import numpy as np

from kidneyshare.compatibility.cpra import PanelDonor, ReferencePanel
from kidneyshare.compatibility.records import HlaTyping
from kidneyshare.generators.seeding import make_rng
from kidneyshare.model import BloodGroup

__all__ = [
    "ANTIGEN_FREQUENCIES",
    "PANEL_SEED",
    "PANEL_SIZE",
    "UK_BLOOD_GROUPS",
    "draw_typings",
    "generate_reference_panel",
]

UK_BLOOD_GROUPS: Final = {"O": 0.48, "A": 0.38, "B": 0.10, "AB": 0.04}
"""UK population ABO frequencies (NHS Blood and Transplant)."""

ANTIGEN_FREQUENCIES: Final[Mapping[str, Mapping[str, float]]] = {
    "A": {
        "A1": 0.16, "A2": 0.29, "A3": 0.14, "A11": 0.06, "A23": 0.02, "A24": 0.09,
        "A25": 0.02, "A26": 0.03, "A29": 0.035, "A30": 0.025, "A31": 0.025, "A32": 0.035,
        "A33": 0.01, "A34": 0.003, "A36": 0.002, "A43": 0.001, "A66": 0.003, "A68": 0.04,
        "A69": 0.003, "A74": 0.002, "A80": 0.001,
    },
    "B": {
        "B7": 0.13, "B8": 0.11, "B13": 0.02, "B18": 0.045, "B27": 0.045, "B35": 0.075,
        "B37": 0.015, "B38": 0.02, "B39": 0.02, "B41": 0.01, "B42": 0.002, "B44": 0.12,
        "B45": 0.008, "B46": 0.001, "B47": 0.003, "B48": 0.002, "B49": 0.015, "B50": 0.01,
        "B51": 0.05, "B52": 0.01, "B53": 0.005, "B54": 0.002, "B55": 0.02, "B56": 0.006,
        "B57": 0.035, "B58": 0.008, "B59": 0.001, "B60": 0.05, "B61": 0.015, "B62": 0.06,
        "B63": 0.003, "B64": 0.005, "B65": 0.02, "B71": 0.002, "B72": 0.002, "B73": 0.001,
        "B75": 0.002, "B76": 0.001, "B81": 0.001, "B82": 0.001,
    },
    "C": {
        "Cw1": 0.04, "Cw2": 0.05, "Cw4": 0.11, "Cw5": 0.09, "Cw6": 0.10, "Cw7": 0.30,
        "Cw8": 0.03, "Cw9": 0.05, "Cw10": 0.07, "C*12": 0.06, "C*14": 0.015, "C*15": 0.04,
        "C*16": 0.04, "C*17": 0.008, "C*18": 0.001,
    },
    "DRB1": {
        "DR1": 0.09, "DR103": 0.005, "DR15": 0.14, "DR16": 0.01, "DR17": 0.11,
        "DR18": 0.005, "DR4": 0.16, "DR7": 0.13, "DR8": 0.025, "DR9": 0.01, "DR10": 0.008,
        "DR11": 0.10, "DR12": 0.02, "DR13": 0.15, "DR14": 0.04,
    },
    "DQB1": {
        "DQ2": 0.22, "DQ4": 0.03, "DQ5": 0.16, "DQ6": 0.26, "DQ7": 0.19, "DQ8": 0.10,
        "DQ9": 0.03,
    },
}  # fmt: skip
"""Antigen gene frequencies by locus (each normalised to 1 when drawn)."""

_DR_ASSOCIATED: Final = {
    **dict.fromkeys(("DR15", "DR16"), "DR51"),
    **dict.fromkeys(("DR17", "DR18", "DR11", "DR12", "DR13", "DR14"), "DR52"),
    **dict.fromkeys(("DR4", "DR7", "DR9"), "DR53"),
}

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

    A homozygous locus is listed once. The names are serological (split level), and
    ``C*12``-style allele groups where a C antigen has no serological name.
    """
    loci = [_normalised(frequencies) for frequencies in ANTIGEN_FREQUENCIES.values()]
    draws = [rng.choice(len(names), size=(count, 2), p=weights) for names, weights in loci]
    typings: list[HlaTyping] = []
    for person in range(count):
        names: list[str] = []
        for (locus_names, _), drawn in zip(loci, draws, strict=True):
            names.extend(dict.fromkeys(locus_names[i] for i in drawn[person]))
        dr = [name for name in names if name in _DR_ASSOCIATED]
        names.extend(sorted({_DR_ASSOCIATED[name] for name in dr}))
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
