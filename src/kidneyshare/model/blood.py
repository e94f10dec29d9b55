"""ABO blood groups."""

from __future__ import annotations

from enum import Enum

from kidneyshare.errors import ModelError

__all__ = ["BloodGroup"]


class BloodGroup(Enum):
    """A patient's or donor's ABO blood group.

    Only the four ABO groups are modelled here; subgroups (A1/A2) and antibody titres
    belong to the compatibility layer.
    """

    O = "O"  # noqa: E741 - the blood group's name
    A = "A"
    B = "B"
    AB = "AB"

    @classmethod
    def parse(cls, text: object, *, field: str = "blood group") -> BloodGroup:
        """Read ``O``, ``A``, ``B`` or ``AB`` (any case, surrounding spaces ignored).

        Raises
        ------
        ModelError
            naming ``field`` and the value when it is not one of the four groups.
        """
        if isinstance(text, BloodGroup):
            return text
        if isinstance(text, str):
            key = text.strip().upper()
            for group in cls:
                if group.value == key:
                    return group
        raise ModelError(f"{field}: unknown blood group {text!r}; expected one of O, A, B, AB")

    def can_donate_to(self, recipient: BloodGroup) -> bool:
        """The plain ABO rule: O gives to all, AB receives from all, else same group."""
        return self is BloodGroup.O or recipient is BloodGroup.AB or self is recipient
