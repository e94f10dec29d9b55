"""HLA-A, -B and -DR mismatches between a donor and a patient, and NHSBT's levels.

A donor antigen is *matched* when the patient has the same antigen or one of the same
family (a broad antigen and its splits, an antigen and its variants: donor A24 and
patient A9 match). Alleles are compared through their serological equivalents; an allele
without one (rare at A, B, DRB1) is compared by its group. Each locus counts 0, 1 or 2
mismatched donor antigens (a donor with one antigen at a locus, homozygous or blank,
counts at most 1).

The four levels are those of the UK's 2006 National Kidney Allocation Scheme (NHS Blood
and Transplant, kidney allocation policy POL186), also used by the UK Living Kidney
Sharing Scheme:

========  ===========================================================
level 1   000 (A-B-DR)
level 2   0 DR and 0 or 1 B mismatches (100, 200, 010, 110, 210)
level 3   0 DR and 2 B, or 1 DR and 0 or 1 B
level 4   1 DR and 2 B, or 2 DR
========  ===========================================================
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from kidneyshare.compatibility import serology
from kidneyshare.compatibility.hla import HlaAllele, HlaName
from kidneyshare.compatibility.records import HlaTyping

__all__ = ["HlaMismatch", "LocusAntigens", "count_mismatch", "hla_mismatch", "locus_antigens"]


@dataclass(frozen=True, slots=True)
class HlaMismatch:
    """Mismatched donor antigens at HLA-A, -B and -DR (each 0, 1 or 2)."""

    a: int
    b: int
    dr: int

    @property
    def level(self) -> int:
        """NHSBT mismatch level, 1 (best) to 4."""
        if self.a == self.b == self.dr == 0:
            return 1
        if self.dr == 0 and self.b <= 1:
            return 2
        if (self.dr == 0 and self.b == 2) or (self.dr == 1 and self.b <= 1):
            return 3
        return 4

    def __str__(self) -> str:
        return f"{self.a}-{self.b}-{self.dr}"


def _keys(specificities: tuple[HlaName, ...]) -> set[str]:
    keys: set[str] = set()
    for s in specificities:
        if isinstance(s, HlaAllele) and not s.expressed:
            continue
        antigen = s.antigen
        if antigen is None and isinstance(s, HlaAllele):
            keys.add(s.group)
        elif antigen is not None and antigen not in ("Bw4", "Bw6"):
            keys.add(antigen)
    return keys


@lru_cache(maxsize=1 << 14)  # a few hundred antigens: pairs repeat across a pool
def _same_family(one: str, other: str) -> bool:
    return one in serology.lineage(other) or other in serology.lineage(one)


LocusAntigens = tuple[frozenset[str], frozenset[str], frozenset[str]]
"""A typing's expressed antigens at HLA-A, -B and -DR (allele groups where no antigen)."""


def locus_antigens(typing: HlaTyping | None) -> LocusAntigens | None:
    """The antigens :func:`hla_mismatch` compares, or ``None`` when a locus is untyped."""
    if typing is None:
        return None
    keys = tuple(frozenset(_keys(typing.at(gene))) for gene in ("A", "B", "DRB1"))
    if not all(keys):
        return None
    return keys[0], keys[1], keys[2]


@lru_cache(maxsize=1 << 16)
def _count(donor_keys: frozenset[str], patient_keys: frozenset[str]) -> int:
    mismatched = [d for d in donor_keys if not any(_same_family(d, p) for p in patient_keys)]
    return min(len(mismatched), 2)


def count_mismatch(
    donor: LocusAntigens | None, patient: LocusAntigens | None
) -> HlaMismatch | None:
    """:func:`hla_mismatch` from antigens already gathered by :func:`locus_antigens`."""
    if donor is None or patient is None:
        return None
    return HlaMismatch(*(_count(d, p) for d, p in zip(donor, patient, strict=True)))


def hla_mismatch(donor: HlaTyping | None, patient: HlaTyping | None) -> HlaMismatch | None:
    """Count the donor's mismatched HLA-A, -B and -DR antigens, or ``None`` when either
    typing lacks one of these loci.

    Examples
    --------
    >>> d = HlaTyping.parse("A1 A24 B8 B44 DR17 DR4", field="donor")
    >>> p = HlaTyping.parse("A1 A9 B8 B7 DR3 DR15", field="patient")
    >>> m = hla_mismatch(d, p)
    >>> str(m), m.level
    ('0-1-1', 3)
    """
    return count_mismatch(locus_antigens(donor), locus_antigens(patient))
