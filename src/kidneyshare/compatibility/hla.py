"""HLA names: serological antigens (``A24``, ``Cw7``, ``DR15``) and alleles (``A*24:02``).

Names are read strictly, following the WHO nomenclature (Marsh et al., Tissue Antigens
75:291, 2010): an allele is ``GENE*FIELD[:FIELD...]`` with an optional expression suffix
(``N`` null, ``L`` low, ``S`` secreted, ``C`` cytoplasm, ``A`` aberrant, ``Q`` questionable);
fields have at least two digits and are separated by colons. A name that breaks these
rules, or an antigen or allele group the tables of :mod:`~kidneyshare.compatibility.serology`
do not know, is reported with the reason; nothing is guessed or silently dropped. Case is
ignored and an ``HLA-`` prefix is allowed (``hla-a*02:01`` reads as ``A*02:01``); ``C7`` is
read as ``Cw7``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Final

from kidneyshare.compatibility import serology
from kidneyshare.errors import ModelError

__all__ = [
    "HlaAllele",
    "HlaAntigen",
    "HlaName",
    "parse_hla_name",
    "parse_hla_names",
]

_SUFFIXES: Final = "NLSCAQ"
_ALLELE: Final = re.compile(r"(?P<gene>[A-Z]+[0-9]?)\*(?P<rest>.*)")
_FIELDS: Final = re.compile(r"(?P<fields>[0-9]+(?::[0-9]+)*)(?P<suffix>[A-Z]?)")
_ANTIGEN: Final = re.compile(r"(?P<prefix>CW|BW|DR|DQ|DPW|DP|A|B|C)(?P<number>[0-9]+)")
_ANTIGEN_PREFIX: Final = {"CW": "Cw", "C": "Cw", "BW": "Bw", "DR": "DR", "DQ": "DQ"}


@dataclass(frozen=True, slots=True)
class HlaAntigen:
    """A serological specificity, canonically named (``A24``, ``Cw7``, ``DR51``, ``Bw4``)."""

    name: str

    def __post_init__(self) -> None:
        if self.name not in serology.SEROLOGICAL_ANTIGENS:
            raise ModelError(f"HLA antigen: unknown serological antigen {self.name!r}")

    @property
    def gene(self) -> str:
        return serology.antigen_gene(self.name)

    @property
    def antigen(self) -> str:
        """The antigen itself (so that antigens and alleles share this attribute)."""
        return self.name

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True, slots=True)
class HlaAllele:
    """An allele or allele group at any resolution: ``A*24`` (one field), ``A*24:02``,
    ``A*24:02:01:01``; ``suffix`` is the expression suffix or ``""``."""

    gene: str
    fields: tuple[str, ...]
    suffix: str = ""

    def __post_init__(self) -> None:
        problem = _allele_problem(self.gene, self.fields, self.suffix)
        if problem is not None:
            raise ModelError(f"HLA allele {self.name!r}: {problem}")

    @property
    def name(self) -> str:
        return f"{self.gene}*{':'.join(self.fields)}{self.suffix}"

    @property
    def group(self) -> str:
        """The first-field group (``A*24``)."""
        return f"{self.gene}*{self.fields[0]}"

    @property
    def expressed(self) -> bool:
        """False for a null allele (``N``): no protein on the cell, nothing to react to."""
        return self.suffix != "N"

    @property
    def antigen(self) -> str | None:
        """The serological equivalent (``A24`` for ``A*24:02``), or ``None`` if none."""
        return serology.allele_antigen(self.gene, self.fields)

    def __str__(self) -> str:
        return self.name


HlaName = HlaAntigen | HlaAllele
"""One typed or listed HLA specificity."""


def _allele_problem(gene: str, fields: tuple[str, ...], suffix: str) -> str | None:
    """Why ``gene*fields suffix`` is not a valid allele name, or ``None`` if it is."""
    if gene not in serology.GENES:
        return f"unknown gene {gene!r}; expected one of {', '.join(serology.GENES)}"
    if not fields or len(fields) > 4:
        return "expected 1 to 4 fields separated by ':'"
    if any(not f.isdigit() or len(f) < 2 for f in fields):
        return "each field has at least two digits (for example A*02:01)"
    if len(fields[0]) > 4 or any(len(f) > 3 for f in fields[1:3]):
        return "a field is too long (first field at most 4 digits, second and third at most 3)"
    if suffix and (suffix not in _SUFFIXES or len(fields) < 2):
        return (
            f"expression suffix {suffix!r}: expected one of {', '.join(_SUFFIXES)} "
            "after at least two fields"
        )
    if not serology.is_known_group(gene, fields[0]):
        return f"no HLA-{gene} allele group {fields[0]} in the WHO allele groups"
    return None


def _parse_allele(gene: str, rest: str, shown: str) -> HlaAllele:
    match = _FIELDS.fullmatch(rest)
    if match is None:
        raise ModelError(f"{shown!r}: expected GENE*FIELD[:FIELD...] such as A*24:02 after the '*'")
    fields = tuple(match["fields"].split(":"))
    if len(fields) == 1 and len(fields[0]) > (4 if gene == "DPB1" else 3):
        raise ModelError(
            f"{shown!r}: fields must be separated by ':' (names without colons were "
            "retired in 2010); write the fields out, for example A*02:01"
        )
    problem = _allele_problem(gene, fields, match["suffix"])
    if problem is not None:
        raise ModelError(f"{shown!r}: {problem}")
    return HlaAllele(gene, fields, match["suffix"])


def _parse_antigen(key: str, shown: str) -> HlaAntigen:
    match = _ANTIGEN.fullmatch(key)
    if match is None:
        raise ModelError(
            f"{shown!r}: not an HLA name; expected an antigen such as A24, Cw7, DR15, DQ7 "
            "or an allele such as A*24:02"
        )
    if match["prefix"] in ("DP", "DPW"):
        raise ModelError(
            f"{shown!r}: HLA-DP has no serological antigens; give DPB1 alleles "
            "(for example DPB1*04:01)"
        )
    prefix = _ANTIGEN_PREFIX.get(match["prefix"], match["prefix"])
    name = prefix + match["number"]
    if name not in serology.SEROLOGICAL_ANTIGENS:
        raise ModelError(f"{shown!r}: unknown serological antigen (not a WHO specificity)")
    return HlaAntigen(name)


@lru_cache(maxsize=8192)  # names repeat across a pool or panel; values are immutable
def _parse_cached(text: str) -> HlaName:
    return _parse_text(text)


def parse_hla_name(text: str) -> HlaName:
    """Read one HLA name.

    Parameters
    ----------
    text:
        ``A24``, ``Cw7``, ``DR15``, ``DR51``, ``DQ7``, ``Bw4`` or an allele ``A*24:02``,
        ``DRB1*15:01``, ``DPB1*04:01``, ``B*44:03:01``, ``A*24:09N``.

    Returns
    -------
    HlaAntigen or HlaAllele

    Raises
    ------
    ModelError
        naming the text and what is wrong with it.

    Examples
    --------
    >>> parse_hla_name("A*24:02").antigen, parse_hla_name("c7").name
    ('A24', 'Cw7')
    """
    if not isinstance(text, str):
        raise ModelError(f"HLA name: expected text, got {text!r}")
    return _parse_cached(text)


def _parse_text(text: str) -> HlaName:
    shown = text.strip()
    key = shown.upper().removeprefix("HLA-")
    if not key:
        raise ModelError("HLA name: empty")
    match = _ALLELE.fullmatch(key)
    if match is not None:
        return _parse_allele(match["gene"], match["rest"], shown)
    if "*" in key:
        raise ModelError(f"{shown!r}: expected GENE*FIELD[:FIELD...] such as A*24:02")
    return _parse_antigen(key, shown)


def parse_hla_names(names: str | Iterable[str], *, field: str) -> tuple[HlaName, ...]:
    """Read a list of HLA names: one string separated by spaces or commas, or strings.

    Repeated names are kept once (in first-seen order). Every bad name is reported,
    in one error.

    Raises
    ------
    ModelError
        ``"<field>: 'A*2:01': each field has ...; 'A99': unknown ..."``.
    """
    items = names.replace(",", " ").split() if isinstance(names, str) else list(names)
    parsed: list[HlaName] = []
    problems: list[str] = []
    for item in items:
        try:
            name = parse_hla_name(item)
        except ModelError as exc:
            problems.append(str(exc))
            continue
        if name not in parsed:
            parsed.append(name)
    if problems:
        raise ModelError(f"{field}: {'; '.join(problems)}")
    return tuple(parsed)
