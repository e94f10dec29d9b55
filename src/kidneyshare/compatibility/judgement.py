"""One donor against one patient: the ABO judgement and the virtual crossmatch together."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from kidneyshare.compatibility.abo import AboJudgement, AboType, abo_compatibility
from kidneyshare.compatibility.crossmatch import VirtualCrossmatch, virtual_crossmatch
from kidneyshare.compatibility.hla import HlaName
from kidneyshare.compatibility.policy import CompatibilityPolicy

__all__ = ["Compatibility", "judge"]


@dataclass(frozen=True, slots=True)
class Compatibility:
    """ABO and virtual crossmatch outcomes; ``crossmatch`` is ``None`` when the donor's
    typing or the patient's unacceptable antigens are not known (only ABO was judged)."""

    abo: AboJudgement
    crossmatch: VirtualCrossmatch | None

    @property
    def compatible(self) -> bool:
        """ABO allows it and the virtual crossmatch (where judged) is negative."""
        return self.abo.compatible and not (self.crossmatch and self.crossmatch.positive)

    def to_json(self) -> dict[str, Any]:
        """The JSON object of ``kidneyshare crossmatch --json`` (shared/DESIGN.md)."""
        xm = self.crossmatch
        return {
            "abo": {"compatible": self.abo.compatible, "rule": self.abo.rule},
            "virtual_crossmatch": None
            if xm is None
            else {"positive": xm.positive, "conflicts": list(xm.conflicts)},
            "compatible": self.compatible,
        }


def judge(
    donor_abo: AboType,
    patient_abo: AboType,
    policy: CompatibilityPolicy,
    *,
    anti_a_titre: int | None = None,
    anti_b_titre: int | None = None,
    donor_hla: Sequence[HlaName] | None = None,
    unacceptable: Sequence[HlaName] | None = None,
) -> Compatibility:
    """Judge a donor against a patient from bare clinical facts.

    ``donor_hla`` or ``unacceptable`` ``None`` means not known: the crossmatch is not
    judged. An empty ``unacceptable`` list means the patient has no unacceptable antigen
    (a negative crossmatch).

    Examples
    --------
    >>> from kidneyshare.compatibility.hla import parse_hla_names
    >>> verdict = judge(AboType.A2, AboType.O, CompatibilityPolicy(a2_rule=True),
    ...     anti_a_titre=4, donor_hla=parse_hla_names("A24 B7", field="donor"),
    ...     unacceptable=parse_hla_names("A9", field="unacceptable"))
    >>> verdict.abo.compatible, verdict.compatible
    (True, False)
    """
    abo = abo_compatibility(
        donor_abo, patient_abo, policy, anti_a_titre=anti_a_titre, anti_b_titre=anti_b_titre
    )
    xm = (
        None
        if donor_hla is None or unacceptable is None
        else virtual_crossmatch(donor_hla, unacceptable)
    )
    return Compatibility(abo, xm)
