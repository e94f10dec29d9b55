"""Medical compatibility: ABO (with A2 and ABO-incompatible rules), HLA names and their
serological equivalents, the virtual crossmatch, HLA mismatches, cPRA and arc scores.

The only layer that knows medicine. Functions are pure: clinical facts and a
:class:`CompatibilityPolicy` in, a judgement out.
"""

from kidneyshare.compatibility.abo import AboJudgement, AboType, abo_compatibility
from kidneyshare.compatibility.crossmatch import VirtualCrossmatch, hla_conflict, virtual_crossmatch
from kidneyshare.compatibility.hla import (
    HlaAllele,
    HlaAntigen,
    HlaName,
    parse_hla_name,
    parse_hla_names,
)
from kidneyshare.compatibility.judgement import Compatibility, judge
from kidneyshare.compatibility.policy import DEFAULT_A2_TITRE_MAX, CompatibilityPolicy

__all__ = [
    "DEFAULT_A2_TITRE_MAX",
    "AboJudgement",
    "AboType",
    "Compatibility",
    "CompatibilityPolicy",
    "HlaAllele",
    "HlaAntigen",
    "HlaName",
    "VirtualCrossmatch",
    "abo_compatibility",
    "hla_conflict",
    "judge",
    "parse_hla_name",
    "parse_hla_names",
    "virtual_crossmatch",
]
