"""Medical compatibility: ABO (with A2 and ABO-incompatible rules), HLA names and their
serological equivalents, the virtual crossmatch, HLA mismatches, cPRA and arc scores,
clinical records and the pool builder (docs/compatibility.md).

The only layer that knows medicine. Functions are pure: clinical facts and a
:class:`CompatibilityPolicy` in, a judgement out.
"""

from kidneyshare.compatibility.abo import AboJudgement, AboType, abo_compatibility
from kidneyshare.compatibility.builder import (
    Assessment,
    BuiltPool,
    ScoringContext,
    assess,
    build_pool,
)
from kidneyshare.compatibility.cpra import (
    PanelDonor,
    ReferencePanel,
    calculated_reaction_frequency,
    default_panel,
    panel_cpra,
    parse_panel,
    read_panel,
)
from kidneyshare.compatibility.crossmatch import VirtualCrossmatch, hla_conflict, virtual_crossmatch
from kidneyshare.compatibility.hla import (
    HlaAllele,
    HlaAntigen,
    HlaName,
    parse_hla_name,
    parse_hla_names,
)
from kidneyshare.compatibility.judgement import Compatibility, judge
from kidneyshare.compatibility.mismatch import HlaMismatch, hla_mismatch
from kidneyshare.compatibility.policy import DEFAULT_A2_TITRE_MAX, CompatibilityPolicy
from kidneyshare.compatibility.records import (
    ClinicalPool,
    DonorRecord,
    HlaTyping,
    PatientRecord,
    Sex,
)
from kidneyshare.compatibility.records_json import (
    dump_records,
    parse_records,
    read_records,
    records_schema,
    write_records,
)
from kidneyshare.compatibility.score import ScoreParts, ScoringScheme, score_transplant

__all__ = [
    "DEFAULT_A2_TITRE_MAX",
    "AboJudgement",
    "AboType",
    "Assessment",
    "BuiltPool",
    "ClinicalPool",
    "Compatibility",
    "CompatibilityPolicy",
    "DonorRecord",
    "HlaAllele",
    "HlaAntigen",
    "HlaMismatch",
    "HlaName",
    "HlaTyping",
    "PanelDonor",
    "PatientRecord",
    "ReferencePanel",
    "ScoreParts",
    "ScoringContext",
    "ScoringScheme",
    "Sex",
    "VirtualCrossmatch",
    "abo_compatibility",
    "assess",
    "build_pool",
    "calculated_reaction_frequency",
    "default_panel",
    "dump_records",
    "hla_conflict",
    "hla_mismatch",
    "judge",
    "panel_cpra",
    "parse_hla_name",
    "parse_hla_names",
    "parse_panel",
    "parse_records",
    "read_panel",
    "read_records",
    "records_schema",
    "score_transplant",
    "virtual_crossmatch",
    "write_records",
]
