"""The scheme's clinical rules that vary between schemes: one frozen object."""

from __future__ import annotations

from dataclasses import dataclass

from kidneyshare.errors import ConfigError, KidneyshareError

__all__ = ["DEFAULT_A2_TITRE_MAX", "CompatibilityPolicy", "check_titre"]

DEFAULT_A2_TITRE_MAX = 8
"""Highest anti-A titre at which an A2 kidney may go to an O or B patient by default."""


def check_titre(
    value: object, field: str, error: type[KidneyshareError] = ConfigError
) -> int | None:
    """``value`` as an antibody titre (the reciprocal dilution, an integer >= 1; 0 for
    none detected), or ``None`` when unknown; ``error`` is raised otherwise."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise error(
            f"{field}: expected a titre as a whole number >= 0 (the reciprocal dilution, "
            f"such as 8 for 1:8), got {value!r}"
        )
    return value


@dataclass(frozen=True, slots=True)
class CompatibilityPolicy:
    """Which donor-patient combinations the scheme accepts.

    Attributes
    ----------
    a2_rule:
        allow an A2 donor to an O or B patient, and an A2B donor to a B patient, when the
        patient's anti-A titre is known and at most ``a2_titre_max`` (A2 red cells carry
        little A antigen; Nelson et al., Transplantation 2002; the NHSBT Living Donor
        Kidney Sharing Scheme applies this rule). Off by default: the plain ABO rule.
    a2_titre_max:
        that titre limit, 8 (1:8) by default.
    abo_incompatible_titre_max:
        allow an ABO-incompatible transplant (with desensitisation) when every antibody
        against the donor's A/B antigens has a known titre at most this; ``None`` (the
        default) never allows one.

    Raises
    ------
    ConfigError
        naming the field when a titre limit is not a whole number >= 0.
    """

    a2_rule: bool = False
    a2_titre_max: int = DEFAULT_A2_TITRE_MAX
    abo_incompatible_titre_max: int | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.a2_rule, bool):
            raise ConfigError(f"a2_rule: expected true or false, got {self.a2_rule!r}")
        if check_titre(self.a2_titre_max, "a2_titre_max") is None:
            raise ConfigError("a2_titre_max: expected a whole number >= 0, got None")
        check_titre(self.abo_incompatible_titre_max, "abo_incompatible_titre_max")
