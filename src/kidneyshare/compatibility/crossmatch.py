"""The virtual crossmatch: a donor's HLA typing against a patient's unacceptable antigens.

A donor antigen that the patient has antibodies to (an *unacceptable* antigen) predicts a
positive crossmatch. Typings and lists may mix serological antigens and alleles at any
resolution; each donor specificity is compared with each unacceptable one at the finest
resolution both share:

- two alleles of one gene: their common leading fields must agree (``A*24`` conflicts
  with ``A*24:02``; ``A*24:02`` does not with ``A*24:03``);
- otherwise through serological equivalents: an unacceptable broad antigen conflicts with
  its splits and their variants (``A24 (split of A9)``), an unacceptable split with its
  variants, and ``Bw4``/``Bw6`` with every antigen carrying that epitope;
- where the donor was typed more coarsely than the unacceptable antigen (donor ``A9`` or
  ``A*24``, unacceptable ``A24`` or ``A*24:02``), the donor *may* carry it: this is counted
  as a conflict, as a laboratory would until the donor is typed further, and the text says
  "may be".

A null allele (``A*24:09N``) is not expressed and never conflicts. Alleles without a
serological equivalent (``C*12``, DQA1, DPB1) are compared as alleles only.

A donor typed at DRB1 only (no DR51/DR52/DR53 antigen, no DRB3/4/5 allele) carries the
second DRB gene that each DRB1 lineage travels with (:data:`serology.DR_ASSOCIATED`:
DR15/16 -> DR51, DR3/11/12/13/14 -> DR52, DR4/7/9 -> DR53, DR1/8/10 none), so those
antigens are compared too, and a conflict says so: ``"DR53 (implied from DRB1: DR4)"``
(:func:`implied_dr`). A typing that names any DRB3/4/5 specificity is taken as complete
there (a typed null allele, ``DRB4*01:03:01:02N``, stays unexpressed). Rare haplotypes lack
the associated gene or carry a null allele of it; until the donor is typed at DRB3/4/5 the
implied antigen counts, as a "may be" does.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from kidneyshare.compatibility import serology
from kidneyshare.compatibility.hla import HlaAllele, HlaAntigen, HlaName

__all__ = [
    "VirtualCrossmatch",
    "carried",
    "gather_conflicts",
    "hla_conflict",
    "implied_dr",
    "virtual_crossmatch",
    "with_implied",
]

_PUBLIC = ("Bw4", "Bw6")
_SECOND_DRB = ("DRB3", "DRB4", "DRB5")


@dataclass(frozen=True, slots=True)
class VirtualCrossmatch:
    """The outcome: ``positive`` when any donor specificity is unacceptable; ``conflicts``
    names each such donor specificity and why (``"A24 (split of A9)"``)."""

    positive: bool
    conflicts: tuple[str, ...]


def _allele_conflict(donor: HlaAllele, unacceptable: HlaAllele) -> str | None:
    shared = min(len(donor.fields), len(unacceptable.fields))
    if donor.fields[:shared] != unacceptable.fields[:shared]:
        return None
    if len(donor.fields) == len(unacceptable.fields):
        return donor.name
    if len(donor.fields) < len(unacceptable.fields):
        return f"{donor.name} (may be {unacceptable.name}; typed at lower resolution)"
    return f"{donor.name} (in {unacceptable.name})"


def _unacceptable_label(unacceptable: HlaName, antigen: str) -> str:
    if isinstance(unacceptable, HlaAntigen):
        return antigen
    return f"{antigen}, antigen of {unacceptable.name}"


def _public_conflict(donor_antigen: str, epitope: str) -> str | None:
    if donor_antigen == epitope:
        return ""
    if serology.bw_epitope(donor_antigen) == epitope:
        return f"carries {epitope}"
    splits = serology.BROAD_SPLITS.get(donor_antigen, ())
    if any(serology.bw_epitope(s) == epitope for s in splits):
        return f"may carry {epitope}"
    return None


def _serological_reason(donor: HlaName, unacceptable: HlaName) -> str | None:
    """Why ``donor`` conflicts with ``unacceptable`` through serology ("" when they are
    the same antigen), or ``None``."""
    donor_antigen, unacceptable_antigen = donor.antigen, unacceptable.antigen
    if donor_antigen is None or unacceptable_antigen is None:
        return None
    if unacceptable_antigen in _PUBLIC:
        return _public_conflict(donor_antigen, unacceptable_antigen)
    if donor_antigen in _PUBLIC:
        return None
    label = _unacceptable_label(unacceptable, unacceptable_antigen)
    if donor_antigen == unacceptable_antigen:
        if isinstance(unacceptable, HlaAllele) and isinstance(donor, HlaAntigen):
            return f"may be {unacceptable.name}; typed at antigen level"
        return ""
    donor_line = serology.lineage(donor_antigen)
    if unacceptable_antigen in donor_line:
        step = serology.parent(donor_antigen)
        if step is not None and step[0] == unacceptable_antigen:
            return f"{step[1]} of {label}"
        return f"within {label}"
    unacceptable_line = serology.lineage(unacceptable_antigen)
    if donor_antigen in unacceptable_line or _group_may_carry(donor, unacceptable_line):
        return f"may be {unacceptable_antigen}; typed at a broader level"
    return None


def _group_may_carry(donor: HlaName, antigens: tuple[str, ...]) -> bool:
    """Whether ``donor``, an allele whose antigen is its group's default (not fixed by a
    listed second field), may carry one of ``antigens`` (``B*15`` may be B72)."""
    if not isinstance(donor, HlaAllele):
        return False
    if len(donor.fields) >= 2 and f"{donor.gene}*{donor.fields[0]}:{donor.fields[1]}" in (
        serology.ALLELE_EXCEPTIONS
    ):
        return False
    return not serology.group_antigens(donor.gene, donor.fields[0]).isdisjoint(antigens)


@lru_cache(maxsize=1 << 16)  # pure, on immutable names; pools and panels repeat pairs
def hla_conflict(donor: HlaName, unacceptable: HlaName) -> str | None:
    """How donor specificity ``donor`` meets unacceptable ``unacceptable``, or ``None``.

    Returns
    -------
    str or None
        the donor specificity as typed, with the reason in brackets where the names
        differ: ``"A24"``, ``"A24 (split of A9)"``, ``"A*24:02 (A24, split of A9)"``,
        ``"B*44:03 (B44, carries Bw4)"``, ``"A9 (may be A24; typed at a broader level)"``.

    Examples
    --------
    >>> from kidneyshare.compatibility.hla import parse_hla_name as n
    >>> hla_conflict(n("A24"), n("A9"))
    'A24 (split of A9)'
    >>> hla_conflict(n("A*24:02"), n("A*24:03")) is None
    True
    """
    if isinstance(donor, HlaAllele) and not donor.expressed:
        return None
    if isinstance(donor, HlaAllele) and isinstance(unacceptable, HlaAllele):
        if donor.gene != unacceptable.gene:
            return None
        return _allele_conflict(donor, unacceptable)
    reason = _serological_reason(donor, unacceptable)
    if reason is None:
        return None
    parts = [p for p in (donor.antigen if isinstance(donor, HlaAllele) else None, reason) if p]
    return f"{donor.name} ({', '.join(parts)})" if parts else donor.name


def implied_dr(donor_typing: Iterable[HlaName]) -> dict[HlaAntigen, tuple[str, ...]]:
    """The DR51/DR52/DR53 antigens a DRB1-only typing implies, each with the names of the
    DRB1 specificities implying it (``{DR53: ("DR4", "DR7")}``); empty when the typing
    names any DRB3/4/5 specificity. A null DRB1 allele implies nothing.

    Examples
    --------
    >>> from kidneyshare.compatibility.hla import parse_hla_names
    >>> implied_dr(parse_hla_names("DR4 DRB1*07:01 DR17", field="donor"))
    {HlaAntigen(name='DR53'): ('DR4', 'DRB1*07:01'), HlaAntigen(name='DR52'): ('DR17',)}
    >>> implied_dr(parse_hla_names("DR4 DR17 DR52", field="donor"))
    {}
    """
    return dict(_implied(tuple(donor_typing)))


@lru_cache(maxsize=1 << 14)  # typings repeat (every patient meets every donor)
def _implied(typing: tuple[HlaName, ...]) -> tuple[tuple[HlaAntigen, tuple[str, ...]], ...]:
    if any(s.gene in _SECOND_DRB for s in typing):
        return ()
    implied: dict[HlaAntigen, list[str]] = {}
    for s in typing:
        if s.gene != "DRB1" or s.antigen is None:
            continue
        if isinstance(s, HlaAllele) and not s.expressed:
            continue
        associated = serology.associated_dr(s.antigen)
        if associated is not None:
            implied.setdefault(HlaAntigen(associated), []).append(s.name)
    return tuple((antigen, tuple(names)) for antigen, names in implied.items())


def with_implied(donor_typing: Iterable[HlaName]) -> tuple[HlaName, ...]:
    """``donor_typing`` followed by the DR51/DR52/DR53 antigens it implies
    (:func:`implied_dr`): every specificity the donor is taken to carry."""
    return tuple(s for s, _ in carried(donor_typing))


def carried(donor_typing: Iterable[HlaName]) -> tuple[tuple[HlaName, tuple[str, ...]], ...]:
    """Every specificity the donor is taken to carry, each with the DRB1 names implying it
    (``()`` for those typed): the typing in order, then the implied DR51/DR52/DR53."""
    typing = tuple(donor_typing)
    return (*((s, ()) for s in typing), *_implied(typing))


def _implied_conflict(found: str, name: str, sources: tuple[str, ...]) -> str:
    """``"DR53 (implied from DRB1: DR4)"``, keeping the conflict's own reason after it."""
    reason = found[len(name) :].strip().removeprefix("(").removesuffix(")")
    note = f"implied from DRB1: {', '.join(sources)}"
    return f"{name} ({note}{'; ' + reason if reason else ''})"


def gather_conflicts(
    found: Iterable[tuple[str, tuple[str, ...], Iterable[str | None]]],
) -> VirtualCrossmatch:
    """The crossmatch from, for each carried donor specificity in order (:func:`carried`),
    its name, the DRB1 names implying it, and :func:`hla_conflict` against each
    unacceptable specificity in order. :func:`virtual_crossmatch` and the pool builder's
    tables (which look the comparisons up) share it, so their texts agree."""
    conflicts: list[str] = []
    for name, implied_by, texts in found:
        for text in texts:
            if text is None:
                continue
            if implied_by:
                text = _implied_conflict(text, name, implied_by)
            if text not in conflicts:
                conflicts.append(text)
    return VirtualCrossmatch(positive=bool(conflicts), conflicts=tuple(conflicts))


def virtual_crossmatch(
    donor_typing: Iterable[HlaName], unacceptable: Iterable[HlaName]
) -> VirtualCrossmatch:
    """Compare every donor specificity, and the DR51/52/53 a DRB1-only typing implies
    (:func:`implied_dr`), with every unacceptable one (:func:`hla_conflict`).

    Conflicts are listed in the donor typing's order (implied antigens last), each once.

    Examples
    --------
    >>> from kidneyshare.compatibility.hla import parse_hla_names
    >>> donor = parse_hla_names("A*02:01 A24 B7 B*44:03 DR4 DRB1*15:01", field="donor")
    >>> virtual_crossmatch(donor, parse_hla_names("A9 DQ7", field="unacceptable"))
    VirtualCrossmatch(positive=True, conflicts=('A24 (split of A9)',))
    >>> virtual_crossmatch(donor, parse_hla_names("DR53", field="unacceptable")).conflicts
    ('DR53 (implied from DRB1: DR4)',)
    """
    listed = tuple(unacceptable)
    return gather_conflicts(
        (s.name, implied_by, (hla_conflict(s, t) for t in listed))
        for s, implied_by in carried(donor_typing)
    )
