"""Serological HLA antigens: broad/split families, associated antigens, Bw4/Bw6, and the
serological equivalent of each allele group.

Transcribed (by hand, as facts) from:

- the WHO Nomenclature Committee for Factors of the HLA System: S. G. E. Marsh et al.,
  "Nomenclature for factors of the HLA system, 2010", Tissue Antigens 75:291-455 (2010),
  Table "Complete listing of recognised HLA specificities" (broad antigens and their
  splits, associated antigens, the Bw4 and Bw6 public epitopes);
- the HLA dictionary of serological equivalents: R. Holdsworth et al., "The HLA
  dictionary 2008: a summary of HLA-A, -B, -C, -DRB1/3/4/5, and -DQB1 alleles and their
  association with serologically defined HLA-A, -B, -C, -DR, and -DQ antigens", Tissue
  Antigens 73:95-170 (2009), and its update E. Nunes et al., Hum. Immunol. 72:1214 (2011);
- the DR haplotype groups (which second expressed DRB gene a DRB1 lineage travels with,
  :data:`DR_ASSOCIATED`): the WHO report above (DR51, DR52 and DR53 are the products of
  DRB5, DRB3 and DRB4) and S. G. E. Marsh, P. Parham, L. D. Barber, *The HLA FactsBook*,
  Academic Press (2000), its DR haplotype groups: the DR51 group (DRB1*15, *16 with DRB5),
  the DR52 group (DRB1*03, *11, *12, *13, *14 with DRB3), the DR53 group (DRB1*04, *07,
  *09 with DRB4), and the DR1 and DR8 groups (DRB1*01, *10; *08) with no second
  expressed DRB gene.

Only the common antigens and allele groups of the classical loci are covered. An allele
group whose first field alone does not fix the split (``B*15``, ``DRB1*03``, ``DQB1*03``,
``C*03``) maps to the broad antigen unless its second field is listed in
:data:`ALLELE_EXCEPTIONS`; a scheme typing such donors at two fields gets the split.
Groups with no serological equivalent (``C*12``, DQA1, DPA1, DPB1 ...) map to ``None``:
they are compared as alleles only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

__all__ = [
    "ALLELE_EXCEPTIONS",
    "ALLELE_GROUP_ANTIGENS",
    "ASSOCIATED",
    "BROAD_SPLITS",
    "BW4",
    "BW6",
    "DR_ASSOCIATED",
    "GENES",
    "SEROLOGICAL_ANTIGENS",
    "allele_antigen",
    "antigen_gene",
    "associated_dr",
    "bw_epitope",
    "group_antigens",
    "is_known_group",
    "lineage",
    "parent",
]

GENES: Final = (
    "A",
    "B",
    "C",
    "DRB1",
    "DRB3",
    "DRB4",
    "DRB5",
    "DQA1",
    "DQB1",
    "DPA1",
    "DPB1",
)
"""The HLA genes a typing may name, in the order typings are shown."""

BROAD_SPLITS: Final[Mapping[str, tuple[str, ...]]] = {
    "A9": ("A23", "A24"),
    "A10": ("A25", "A26", "A34", "A66"),
    "A19": ("A29", "A30", "A31", "A32", "A33", "A74"),
    "A28": ("A68", "A69"),
    "B5": ("B51", "B52"),
    "B12": ("B44", "B45"),
    "B14": ("B64", "B65"),
    "B15": ("B62", "B63", "B75", "B76", "B77"),
    "B16": ("B38", "B39"),
    "B17": ("B57", "B58"),
    "B21": ("B49", "B50"),
    "B22": ("B54", "B55", "B56"),
    "B40": ("B60", "B61"),
    "B70": ("B71", "B72"),
    "Cw3": ("Cw9", "Cw10"),
    "DR2": ("DR15", "DR16"),
    "DR3": ("DR17", "DR18"),
    "DR5": ("DR11", "DR12"),
    "DR6": ("DR13", "DR14"),
    "DQ1": ("DQ5", "DQ6"),
    "DQ3": ("DQ7", "DQ8", "DQ9"),
}
"""WHO broad antigens and their splits."""

ASSOCIATED: Final[Mapping[str, str]] = {
    "A203": "A2",
    "A210": "A2",
    "A2403": "A24",
    "B703": "B7",
    "B2708": "B27",
    "B3901": "B39",
    "B3902": "B39",
    "B5102": "B51",
    "B5103": "B51",
    "DR103": "DR1",
    "DR1403": "DR14",
    "DR1404": "DR14",
}
"""WHO associated antigens (serological variants) and the antigen each is a variant of."""

_SINGLE: Final = [
    "A1",
    "A2",
    "A3",
    "A11",
    "A36",
    "A43",
    "A80",
    "B7",
    "B8",
    "B13",
    "B18",
    "B27",
    "B35",
    "B37",
    "B41",
    "B42",
    "B46",
    "B47",
    "B48",
    "B53",
    "B59",
    "B67",
    "B73",
    "B78",
    "B81",
    "B82",
    "Cw1",
    "Cw2",
    "Cw4",
    "Cw5",
    "Cw6",
    "Cw7",
    "Cw8",
    "DR1",
    "DR4",
    "DR7",
    "DR8",
    "DR9",
    "DR10",
    "DR51",
    "DR52",
    "DR53",
    "DQ2",
    "DQ4",
]

BW4: Final = frozenset(
    [
        "A23",
        "A24",
        "A2403",
        "A25",
        "A32",
        "B5",
        "B5102",
        "B5103",
        "B13",
        "B17",
        "B27",
        "B37",
        "B38",
        "B44",
        "B47",
        "B49",
        "B51",
        "B52",
        "B53",
        "B57",
        "B58",
        "B59",
        "B63",
        "B77",
    ]
)
"""Antigens carrying the Bw4 public epitope (WHO listing)."""

BW6: Final = frozenset(
    [
        "B7",
        "B703",
        "B8",
        "B14",
        "B18",
        "B22",
        "B2708",
        "B35",
        "B39",
        "B3901",
        "B3902",
        "B40",
        "B41",
        "B42",
        "B45",
        "B46",
        "B48",
        "B50",
        "B54",
        "B55",
        "B56",
        "B60",
        "B61",
        "B62",
        "B64",
        "B65",
        "B67",
        "B70",
        "B71",
        "B72",
        "B73",
        "B75",
        "B76",
        "B78",
        "B81",
        "B82",
    ]
)
"""Antigens carrying the Bw6 public epitope (WHO listing)."""

SEROLOGICAL_ANTIGENS: Final = frozenset(
    [
        *BROAD_SPLITS,
        *(s for splits in BROAD_SPLITS.values() for s in splits),
        *ASSOCIATED,
        *_SINGLE,
        "Bw4",
        "Bw6",
    ]
)
"""Every serological name :func:`~kidneyshare.compatibility.hla.parse_hla_name` accepts."""

_PARENT: Final[dict[str, tuple[str, str]]] = {
    **{split: (broad, "split") for broad, splits in BROAD_SPLITS.items() for split in splits},
    **{variant: (antigen, "variant") for variant, antigen in ASSOCIATED.items()},
}

ALLELE_GROUP_ANTIGENS: Final[Mapping[str, Mapping[str, str | None]]] = {
    "A": {
        g: f"A{int(g)}"
        for g in [
            "01",
            "02",
            "03",
            "11",
            "23",
            "24",
            "25",
            "26",
            "29",
            "30",
            "31",
            "32",
            "33",
            "34",
            "36",
            "43",
            "66",
            "68",
            "69",
            "74",
            "80",
        ]
    },
    "B": {
        **{
            g: f"B{int(g)}"
            for g in [
                "07",
                "08",
                "13",
                "14",
                "15",
                "18",
                "27",
                "35",
                "37",
                "38",
                "39",
                "40",
                "41",
                "42",
                "44",
                "45",
                "46",
                "47",
                "48",
                "49",
                "50",
                "51",
                "52",
                "53",
                "54",
                "55",
                "56",
                "57",
                "58",
                "59",
                "67",
                "73",
                "78",
                "81",
                "82",
            ]
        },
        "83": None,
    },
    "C": {
        **{g: f"Cw{int(g)}" for g in ["01", "02", "03", "04", "05", "06", "07", "08"]},
        **{g: None for g in ["12", "14", "15", "16", "17", "18"]},
    },
    "DRB1": {
        g: f"DR{int(g)}"
        for g in ["01", "03", "04", "07", "08", "09", "10", "11", "12", "13", "14", "15", "16"]
    },
    "DRB3": {"01": "DR52", "02": "DR52", "03": "DR52"},
    "DRB4": {"01": "DR53"},
    "DRB5": {"01": "DR51", "02": "DR51"},
    "DQB1": {"02": "DQ2", "03": "DQ3", "04": "DQ4", "05": "DQ5", "06": "DQ6"},
    "DQA1": {g: None for g in ["01", "02", "03", "04", "05", "06"]},
    "DPA1": {g: None for g in ["01", "02", "03", "04"]},
}
"""Serological equivalent of each allele group (first field), by gene.

DPB1 is absent: its groups are numerous (one per protein) and none has a serological
equivalent, so any numeric DPB1 group is accepted (:func:`is_known_group`)."""

ALLELE_EXCEPTIONS: Final[Mapping[str, str]] = {
    "A*02:03": "A203",
    "A*02:10": "A210",
    "A*24:03": "A2403",
    "B*07:03": "B703",
    "B*14:01": "B64",
    "B*14:02": "B65",
    "B*15:01": "B62",
    "B*15:02": "B75",
    "B*15:03": "B72",
    "B*15:04": "B62",
    "B*15:05": "B62",
    "B*15:07": "B62",
    "B*15:08": "B75",
    "B*15:09": "B70",
    "B*15:10": "B71",
    "B*15:11": "B75",
    "B*15:12": "B76",
    "B*15:13": "B77",
    "B*15:16": "B63",
    "B*15:17": "B63",
    "B*15:18": "B71",
    "B*15:21": "B75",
    "B*27:08": "B2708",
    "B*39:01": "B3901",
    "B*39:02": "B3902",
    "B*40:01": "B60",
    "B*40:02": "B61",
    "B*40:06": "B61",
    "B*51:02": "B5102",
    "B*51:03": "B5103",
    "C*03:02": "Cw10",
    "C*03:03": "Cw9",
    "C*03:04": "Cw10",
    "DRB1*01:03": "DR103",
    "DRB1*03:01": "DR17",
    "DRB1*03:02": "DR18",
    "DRB1*14:03": "DR1403",
    "DRB1*14:04": "DR1404",
    "DQB1*03:01": "DQ7",
    "DQB1*03:02": "DQ8",
    "DQB1*03:03": "DQ9",
    "DQB1*03:04": "DQ7",
}
"""Two-field alleles whose antigen is not the group's default (a split, or a variant)."""

DR_ASSOCIATED: Final[Mapping[str, str]] = {
    **dict.fromkeys(("DR2", "DR15", "DR16"), "DR51"),
    **dict.fromkeys(("DR3", "DR17", "DR18", "DR5", "DR11", "DR12", "DR6", "DR13", "DR14"), "DR52"),
    **dict.fromkeys(("DR4", "DR7", "DR9"), "DR53"),
}
"""The DR51/DR52/DR53 specificity (the product of DRB5/DRB3/DRB4) that the haplotype of
each DRB1 antigen carries (broad antigens too: every split of DR3, DR5 and DR6 is in the
DR52 group). DR1, DR103, DR8 and DR10 haplotypes carry none. Variants follow their
antigen (DR1403 -> DR14 -> DR52; :func:`associated_dr`)."""

_PREFIX_GENE: Final = (("Bw", "B"), ("Cw", "C"), ("DR", "DRB1"), ("DQ", "DQB1"))
_BROAD_DR_GENE: Final = {"DR51": "DRB5", "DR52": "DRB3", "DR53": "DRB4"}


def antigen_gene(antigen: str) -> str:
    """The gene that encodes serological ``antigen`` (``Cw7`` -> ``C``, ``DR52`` -> ``DRB3``).

    ``Bw4`` and ``Bw6`` are given as ``B``; A23, A24, A25 and A32 carry Bw4 too.
    """
    if antigen in _BROAD_DR_GENE:
        return _BROAD_DR_GENE[antigen]
    for prefix, gene in _PREFIX_GENE:
        if antigen.startswith(prefix):
            return gene
    return antigen.rstrip("0123456789")


def parent(antigen: str) -> tuple[str, str] | None:
    """The broader antigen and how ``antigen`` relates to it: ``("A9", "split")`` for A24,
    ``("A2", "variant")`` for A203; ``None`` for a broad or single antigen."""
    return _PARENT.get(antigen)


def lineage(antigen: str) -> tuple[str, ...]:
    """``antigen`` and every antigen it falls within, narrowest first (A2403, A24, A9)."""
    chain = [antigen]
    step = _PARENT.get(antigen)
    while step is not None:
        chain.append(step[0])
        step = _PARENT.get(step[0])
    return tuple(chain)


def bw_epitope(antigen: str) -> str | None:
    """``"Bw4"``, ``"Bw6"`` or ``None`` (no epitope, or a broad antigen whose splits differ)."""
    if antigen in BW4:
        return "Bw4"
    if antigen in BW6:
        return "Bw6"
    return None


def is_known_group(gene: str, group: str) -> bool:
    """Whether ``gene*group`` is an allele group of the tables (any number for DPB1)."""
    if gene == "DPB1":
        return group.isdigit()
    return group in ALLELE_GROUP_ANTIGENS.get(gene, {})


def allele_antigen(gene: str, fields: tuple[str, ...]) -> str | None:
    """The serological equivalent of the allele ``gene*fields``, or ``None`` when it has
    none. A one-field name gets its group's antigen (a broad one where the splits need
    the second field)."""
    if len(fields) >= 2:
        exception = ALLELE_EXCEPTIONS.get(f"{gene}*{fields[0]}:{fields[1]}")
        if exception is not None:
            return exception
    return ALLELE_GROUP_ANTIGENS.get(gene, {}).get(fields[0])


def group_antigens(gene: str, group: str) -> frozenset[str]:
    """Every antigen an allele of ``gene*group`` may carry: the group's default antigen and
    those of its listed two-field exceptions (``B*15`` may be B62 ... or B70, B71, B72)."""
    antigens = {
        antigen
        for allele, antigen in ALLELE_EXCEPTIONS.items()
        if allele.startswith(f"{gene}*{group}:")
    }
    default = ALLELE_GROUP_ANTIGENS.get(gene, {}).get(group)
    if default is not None:
        antigens.add(default)
    return frozenset(antigens)


def associated_dr(antigen: str) -> str | None:
    """The DR51/DR52/DR53 that a DRB1 antigen's haplotype carries (``DR4`` -> ``DR53``,
    ``DR1403`` -> ``DR52``), or ``None`` (``DR1``, ``DR8``, ``DR10``, or not a DRB1 antigen)."""
    for name in lineage(antigen):
        if name in DR_ASSOCIATED:
            return DR_ASSOCIATED[name]
    return None
