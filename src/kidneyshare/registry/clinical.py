"""Clinical facts as the registry stores them, checked before they are written.

HLA typings and unacceptable antigens are kept as validated text lists: each name must be
a serological specificity (``A2``, ``A24``, ``Cw7``, ``DR15``, ``DQ7``, ``Bw4``) or an
allele name in the WHO nomenclature (``A*02:01``, ``DRB1*15:01``, ``B*44:03:01``; Marsh
et al., "Nomenclature for factors of the HLA system, 2010", Tissue Antigens 75:291).
What the names *mean* for compatibility (splits, broads, cPRA) is the compatibility
layer's business; the registry only refuses text that is no HLA name at all.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from kidneyshare.registry.errors import RecordInvalid

__all__ = ["DonorFacts", "PatientFacts", "parse_antigens"]

_SEROLOGICAL = re.compile(r"(A|B|CW|C|DR|DQ|DP|BW)([1-9][0-9]{0,3})")
_ALLELE = re.compile(
    r"(A|B|C|DRB1|DRB3|DRB4|DRB5|DQA1|DQB1|DPA1|DPB1)\*[0-9]{2,4}(:[0-9]{2,4}){0,3}[NLSCAQ]?"
)
_BLOOD_GROUPS = ("O", "A", "B", "AB")
_A_SUBGROUPS = ("A1", "A2")
_SEXES = ("F", "M")


def _canonical_antigen(raw: str, field: str) -> str:
    name = raw.strip().upper()
    if _ALLELE.fullmatch(name):
        return name
    match = _SEROLOGICAL.fullmatch(name)
    if match:
        locus = {"CW": "Cw", "BW": "Bw"}.get(match.group(1), match.group(1))
        return locus + match.group(2)
    raise RecordInvalid(
        f"{raw!r} is not an HLA name; expected a serological name such as A24 or DR15, "
        "or an allele such as A*24:02 or DRB1*15:01",
        field=field,
    )


def parse_antigens(value: str | Sequence[str], field: str, *, unique: bool) -> list[str]:
    """The canonical list of HLA names in ``value`` (a list, or text split on spaces and
    commas), in the order given.

    Raises
    ------
    RecordInvalid
        naming ``field[i]`` for a name that is not HLA, or a repeated name when ``unique``.
    """
    items = value.replace(",", " ").split() if isinstance(value, str) else list(value)
    names: list[str] = []
    for i, item in enumerate(items):
        if not isinstance(item, str):
            raise RecordInvalid(f"expected text, got {item!r}", field=f"{field}[{i}]")
        name = _canonical_antigen(item, f"{field}[{i}]")
        if unique and name in names:
            raise RecordInvalid(f"{name} is listed twice", field=f"{field}[{i}]")
        names.append(name)
    return names


def _choice(value: str | None, choices: tuple[str, ...], field: str) -> str | None:
    if value is None:
        return None
    key = value.strip().upper()
    if key not in choices:
        raise RecordInvalid(f"expected one of {', '.join(choices)}, got {value!r}", field=field)
    return key


def _number(
    value: float | None, low: float, high: float, field: str, *, whole: bool = False
) -> None:
    if value is None:
        return
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or not low <= value <= high
        or (whole and value != int(value))
    ):
        kind = "a whole number" if whole else "a number"
        raise RecordInvalid(f"expected {kind} from {low:g} to {high:g}, got {value!r}", field=field)


def _recorded_on(value: date, field: str = "recorded_on") -> None:
    if not isinstance(value, date):
        raise RecordInvalid(f"expected a date, got {value!r}", field=field)


@dataclass(frozen=True, slots=True)
class PatientFacts:
    """A patient's clinical facts on ``recorded_on`` (validated and normalised here).

    ``cpra`` is a fraction in [0, 1]; ``anti_a_titre`` the reciprocal anti-A IgG titre
    (8 for 1:8), which the A2-donor rule reads.
    """

    recorded_on: date
    blood_group: str | None = None
    anti_a_titre: int | None = None
    hla: tuple[str, ...] = ()
    unacceptable_antigens: tuple[str, ...] = ()
    cpra: float | None = None
    age: int | None = None
    sex: str | None = None

    def __post_init__(self) -> None:
        _recorded_on(self.recorded_on)
        object.__setattr__(
            self, "blood_group", _choice(self.blood_group, _BLOOD_GROUPS, "blood_group")
        )
        object.__setattr__(self, "sex", _choice(self.sex, _SEXES, "sex"))
        _number(self.anti_a_titre, 0, 4096, "anti_a_titre", whole=True)
        _number(self.cpra, 0, 1, "cpra")
        _number(self.age, 0, 120, "age", whole=True)
        object.__setattr__(self, "hla", tuple(parse_antigens(self.hla, "hla", unique=False)))
        object.__setattr__(
            self,
            "unacceptable_antigens",
            tuple(parse_antigens(self.unacceptable_antigens, "unacceptable_antigens", unique=True)),
        )


@dataclass(frozen=True, slots=True)
class DonorFacts:
    """A donor's clinical facts on ``recorded_on``.

    ``a_subgroup`` (``A1``/``A2``) only for donors of group A or AB; ``egfr`` in
    mL/min/1.73 m².
    """

    recorded_on: date
    blood_group: str | None = None
    a_subgroup: str | None = None
    hla: tuple[str, ...] = ()
    age: int | None = None
    sex: str | None = None
    egfr: float | None = None

    def __post_init__(self) -> None:
        _recorded_on(self.recorded_on)
        group = _choice(self.blood_group, _BLOOD_GROUPS, "blood_group")
        object.__setattr__(self, "blood_group", group)
        subgroup = _choice(self.a_subgroup, _A_SUBGROUPS, "a_subgroup")
        if subgroup is not None and group not in ("A", "AB"):
            raise RecordInvalid(
                f"an A subgroup is only recorded for group A or AB donors, not {group}",
                field="a_subgroup",
            )
        object.__setattr__(self, "a_subgroup", subgroup)
        object.__setattr__(self, "sex", _choice(self.sex, _SEXES, "sex"))
        _number(self.age, 0, 120, "age", whole=True)
        _number(self.egfr, 0, 250, "egfr")
        object.__setattr__(self, "hla", tuple(parse_antigens(self.hla, "hla", unique=False)))
