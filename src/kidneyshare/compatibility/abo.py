"""ABO compatibility with subgroups (A1/A2), the A2 rule and ABO-incompatible transplants.

The plain rule: O gives to everyone, AB receives from everyone, otherwise the groups must
be the same. A donor's red cells carry the antigens of their group (A, B or both); a
patient has antibodies to the antigens they lack (an O patient has anti-A and anti-B).
Two policy switches (:class:`~kidneyshare.compatibility.policy.CompatibilityPolicy`)
widen it: the A2 rule, and ABO-incompatible transplantation below a titre limit.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from kidneyshare.compatibility.policy import CompatibilityPolicy
from kidneyshare.errors import ModelError
from kidneyshare.model import BloodGroup

__all__ = ["AboJudgement", "AboType", "abo_compatibility"]


class AboType(Enum):
    """An ABO group with its A subgroup where typed (``A`` and ``AB``: subgroup unknown)."""

    O = "O"  # noqa: E741 - the blood group's name
    A = "A"
    A1 = "A1"
    A2 = "A2"
    B = "B"
    AB = "AB"
    A1B = "A1B"
    A2B = "A2B"

    @classmethod
    def parse(cls, text: object, *, field: str = "ABO group") -> AboType:
        """Read ``O``, ``A``, ``A1``, ``A2``, ``B``, ``AB``, ``A1B``, ``A2B`` (any case).

        Raises
        ------
        ModelError
            naming ``field`` and the value otherwise.
        """
        if isinstance(text, AboType):
            return text
        if isinstance(text, BloodGroup):
            return cls(text.value)
        if isinstance(text, str):
            key = text.strip().upper()
            for member in cls:
                if member.value == key:
                    return member
        names = ", ".join(m.value for m in cls)
        raise ModelError(f"{field}: unknown ABO group {text!r}; expected one of {names}")

    @property
    def group(self) -> BloodGroup:
        """The ABO group without subgroup."""
        return BloodGroup(self.value.replace("1", "").replace("2", ""))

    @property
    def antigens(self) -> frozenset[str]:
        """``{"A"}``, ``{"B"}``, ``{"A", "B"}`` or the empty set."""
        return frozenset(self.group.value.replace("O", ""))

    @property
    def weak_a(self) -> bool:
        """A2 or A2B: red cells with little A antigen."""
        return self in (AboType.A2, AboType.A2B)


@dataclass(frozen=True, slots=True)
class AboJudgement:
    """Whether the ABO groups allow the transplant, and the rule that decided it."""

    compatible: bool
    rule: str


def _titres(
    missing: frozenset[str], anti_a: int | None, anti_b: int | None
) -> list[tuple[str, int | None]]:
    known = {"A": anti_a, "B": anti_b}
    return [(f"anti-{antigen}", known[antigen]) for antigen in sorted(missing)]


def _within(titres: list[tuple[str, int | None]], limit: int) -> tuple[bool, str]:
    """Whether every titre is known and at most ``limit``, and the reason in words."""
    parts: list[str] = []
    ok = True
    for name, titre in titres:
        if titre is None:
            parts.append(f"{name} titre unknown")
            ok = False
        elif titre <= limit:
            parts.append(f"{name} titre {titre} <= {limit}")
        else:
            parts.append(f"{name} titre {titre} > {limit}")
            ok = False
    return ok, ", ".join(parts)


def abo_compatibility(
    donor: AboType,
    patient: AboType,
    policy: CompatibilityPolicy,
    *,
    anti_a_titre: int | None = None,
    anti_b_titre: int | None = None,
) -> AboJudgement:
    """Judge a donor's ABO group against a patient's under ``policy``.

    In order: the plain rule; then, with ``policy.a2_rule``, an A2 donor to an O or B
    patient (A2B to B) whose anti-A titre is at most ``policy.a2_titre_max``; then, with
    ``policy.abo_incompatible_titre_max`` set, an ABO-incompatible transplant when the
    patient's titre against each donor antigen they lack is known and at most that. An
    unknown titre never allows a transplant. A donor typed ``A`` or ``AB`` without a
    subgroup is not taken to be A2.

    Examples
    --------
    >>> policy = CompatibilityPolicy(a2_rule=True)
    >>> abo_compatibility(AboType.A2, AboType.O, policy, anti_a_titre=4)
    AboJudgement(compatible=True, rule='A2 donor to O patient, anti-A titre 4 <= 8')
    """
    head = f"{donor.value} donor to {patient.value} patient"
    if donor.group.can_donate_to(patient.group):
        same = donor.group is patient.group
        return AboJudgement(True, f"{head}, ABO {'identical' if same else 'compatible'}")
    missing = donor.antigens - patient.antigens
    reasons: list[str] = []
    if policy.a2_rule and donor.weak_a and missing == {"A"}:
        ok, why = _within(_titres(missing, anti_a_titre, anti_b_titre), policy.a2_titre_max)
        if ok:
            return AboJudgement(True, f"{head}, {why}")
        reasons.append(f"A2 rule not met: {why}")
    limit = policy.abo_incompatible_titre_max
    if limit is not None:
        ok, why = _within(_titres(missing, anti_a_titre, anti_b_titre), limit)
        if ok:
            return AboJudgement(True, f"{head}, ABO-incompatible transplant: {why}")
        reasons.append(f"ABO-incompatible limit not met: {why}")
    tail = f" ({'; '.join(reasons)})" if reasons else ""
    return AboJudgement(False, f"{head}, ABO incompatible{tail}")
