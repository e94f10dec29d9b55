"""Compatibility commands: ``crossmatch`` (one donor against one patient), ``build-pool``
(clinical records -> pool) and ``why`` (one donor-patient combination explained)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from kidneyshare.cli.json_text import Encoded, indented_json
from kidneyshare.cli.output import info, write_json
from kidneyshare.compatibility import (
    DEFAULT_A2_TITRE_MAX,
    AboType,
    Compatibility,
    CompatibilityPolicy,
    judge,
    parse_hla_names,
)
from kidneyshare.compatibility.builder import BuiltPool, build_pool
from kidneyshare.compatibility.cpra import default_panel, panel_cpra, read_panel
from kidneyshare.compatibility.records_json import dump_records, read_records, write_records
from kidneyshare.errors import ConfigError
from kidneyshare.formats import FORMATS, dump_instance, write_instance
from kidneyshare.formats._files import write_text

__all__ = ["build_pool_command", "crossmatch_command", "generate_records_command", "why_command"]

_ABO_NAMES = ", ".join(t.value for t in AboType)
_STDOUT = "-"

A2Rule = Annotated[
    bool,
    typer.Option(
        "--a2-rule",
        help="Allow A2/A2B donors to O/B patients whose anti-A titre is at most --titre-max.",
    ),
]
TitreMax = Annotated[
    int, typer.Option("--titre-max", min=0, help="Highest anti-A titre for the A2 rule.")
]
AboiTitreMax = Annotated[
    int | None,
    typer.Option(
        "--aboi-titre-max",
        min=0,
        help="Allow ABO-incompatible transplants when the patient's antibody titres "
        "against the donor's antigens are at most this (never, if unset).",
    ),
]
AsOf = Annotated[
    str | None,
    typer.Option(
        "--as-of",
        help="Date waiting time is counted to, YYYY-MM-DD (default: the latest date "
        "recorded in the records).",
    ),
]
ComputeCpra = Annotated[
    bool,
    typer.Option(
        "--compute-cpra",
        help="Compute each patient's cPRA from their unacceptable antigens against the "
        "reference panel (--panel, or the shipped synthetic UK panel) instead of the "
        "recorded value.",
    ),
]
Panel = Annotated[
    Path | None,
    typer.Option("--panel", help="Reference panel CSV (id,abo,hla) for --compute-cpra."),
]
SameGroup = Annotated[
    bool,
    typer.Option(
        "--crf-same-group",
        help="With --compute-cpra: count only panel donors of the patient's ABO group "
        "(NHSBT's cRF).",
    ),
]
RecordsArgument = Annotated[
    Path,
    typer.Argument(
        metavar="RECORDS", help="Clinical records JSON (docs/compatibility.md).", show_default=False
    ),
]


def _render(verdict: Compatibility) -> None:
    abo = verdict.abo
    typer.echo(f"ABO: {'compatible' if abo.compatible else 'incompatible'} ({abo.rule})")
    xm = verdict.crossmatch
    if xm is None:
        typer.echo("virtual crossmatch: not judged (donor HLA or unacceptable antigens not given)")
    elif xm.positive:
        typer.echo(f"virtual crossmatch: positive: {', '.join(xm.conflicts)}")
    else:
        typer.echo("virtual crossmatch: negative")
    typer.echo(f"compatible: {'yes' if verdict.compatible else 'no'}")


def crossmatch_command(
    donor_abo: Annotated[
        str, typer.Option("--donor-abo", help=f"Donor's ABO group: {_ABO_NAMES}.")
    ],
    patient_abo: Annotated[
        str, typer.Option("--patient-abo", help=f"Patient's ABO group: {_ABO_NAMES}.")
    ],
    anti_a_titre: Annotated[
        int | None,
        typer.Option("--anti-a-titre", min=0, help="Patient's anti-A titre (8 for 1:8)."),
    ] = None,
    anti_b_titre: Annotated[
        int | None,
        typer.Option("--anti-b-titre", min=0, help="Patient's anti-B titre (8 for 1:8)."),
    ] = None,
    a2_rule: Annotated[
        bool,
        typer.Option(
            "--a2-rule",
            help="Allow A2/A2B donors to O/B patients whose anti-A titre is at most --titre-max.",
        ),
    ] = False,
    titre_max: Annotated[
        int, typer.Option("--titre-max", min=0, help="Highest anti-A titre for the A2 rule.")
    ] = DEFAULT_A2_TITRE_MAX,
    aboi_titre_max: Annotated[
        int | None,
        typer.Option(
            "--aboi-titre-max",
            min=0,
            help="Allow ABO-incompatible transplants when the patient's antibody titres "
            "against the donor's antigens are at most this (never, if unset).",
        ),
    ] = None,
    donor_hla: Annotated[
        str | None,
        typer.Option(
            "--donor-hla",
            help='Donor HLA typing, serological and/or alleles: "A*02:01 A24 B7 DR4".',
        ),
    ] = None,
    unacceptable: Annotated[
        str | None,
        typer.Option("--unacceptable", help='Patient\'s unacceptable antigens: "A9 DQ7".'),
    ] = None,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print one JSON object on stdout.")
    ] = False,
) -> None:
    """Check one donor against one patient: ABO rule and virtual crossmatch.

    Either HLA option may be left out; then only ABO is judged. Exits 2 naming a
    malformed HLA name or ABO group.
    """
    policy = CompatibilityPolicy(
        a2_rule=a2_rule, a2_titre_max=titre_max, abo_incompatible_titre_max=aboi_titre_max
    )
    verdict = judge(
        AboType.parse(donor_abo, field="--donor-abo"),
        AboType.parse(patient_abo, field="--patient-abo"),
        policy,
        anti_a_titre=anti_a_titre,
        anti_b_titre=anti_b_titre,
        donor_hla=None if donor_hla is None else parse_hla_names(donor_hla, field="--donor-hla"),
        unacceptable=None
        if unacceptable is None
        else parse_hla_names(unacceptable, field="--unacceptable"),
    )
    if json_output:
        write_json(verdict.to_json())
    else:
        _render(verdict)


def _as_of(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"--as-of: expected a date YYYY-MM-DD, got {text!r}") from None


@dataclass(frozen=True, slots=True)
class _BuildOptions:
    a2_rule: bool
    titre_max: int
    aboi_titre_max: int | None
    as_of: str | None
    compute_cpra: bool
    panel: Path | None
    same_group: bool


def _build(records_path: Path, options: _BuildOptions) -> BuiltPool:
    policy = CompatibilityPolicy(
        a2_rule=options.a2_rule,
        a2_titre_max=options.titre_max,
        abo_incompatible_titre_max=options.aboi_titre_max,
    )
    if options.panel is not None and not options.compute_cpra:
        raise ConfigError("--panel: goes with --compute-cpra, which was not given")
    records = read_records(records_path)
    cpra = None
    if options.compute_cpra:
        panel = default_panel() if options.panel is None else read_panel(options.panel)
        cpra = panel_cpra(records, panel, same_blood_group=options.same_group)
    return build_pool(records, policy, as_of=_as_of(options.as_of), cpra=cpra)


def build_pool_command(
    records: RecordsArgument,
    output: Annotated[
        Path,
        typer.Option("--output", "-o", help="Pool file to write (- for stdout)."),
    ] = Path(_STDOUT),
    format_name: Annotated[
        str, typer.Option("--format", help=f"Output format: {', '.join(FORMATS)}.")
    ] = "native",
    explain: Annotated[
        Path | None,
        typer.Option(
            "--explain",
            help="Also write every donor-patient assessment (arc or not, and why) as JSON.",
        ),
    ] = None,
    a2_rule: A2Rule = False,
    titre_max: TitreMax = DEFAULT_A2_TITRE_MAX,
    aboi_titre_max: AboiTitreMax = None,
    as_of: AsOf = None,
    compute_cpra: ComputeCpra = False,
    panel: Panel = None,
    same_group: SameGroup = False,
) -> None:
    """Build a pool from clinical records: ABO rule, virtual crossmatch and score for
    every donor and patient; compatible combinations become weighted arcs."""
    if format_name not in FORMATS:
        raise ConfigError(
            f"--format: unknown format {format_name!r}; expected one of {', '.join(FORMATS)}"
        )
    to_stdout = os.fspath(output) == _STDOUT
    if to_stdout and format_name == "preflib":
        raise ConfigError("--output: PrefLib writes a .wmd and a .dat; expected a file path")
    options = _BuildOptions(
        a2_rule, titre_max, aboi_titre_max, as_of, compute_cpra, panel, same_group
    )
    built = _build(records, options)
    pool = built.instance
    if to_stdout:
        typer.echo(dump_instance(pool, format_name), nl=False)
    else:
        write_instance(pool, output, format_name)
    if explain is not None:
        # json.dumps(document, ensure_ascii=False, indent=1), each assessment encoded as
        # it is made (cli.json_text: the same bytes, about twice as fast)
        document = {
            "records": os.fspath(records),
            "assessments": [Encoded(indented_json(a.to_json(), 2)) for a in built.assessments()],
        }
        write_text(explain, indented_json(document) + "\n")
    excluded = built.exclusions
    info(
        f"built {len(pool.patients)} pairs, {len(pool.altruists)} altruists, "
        f"{len(pool.arcs)} arcs from {records}; no arc: {excluded['abo']} ABO, "
        f"{excluded['crossmatch']} crossmatch, {excluded['abo_and_crossmatch']} both, "
        f"{excluded['declined']} declined by the patient's centre"
    )


def why_command(
    donor: Annotated[str, typer.Argument(metavar="DONOR", help="Donor id.")],
    patient: Annotated[str, typer.Argument(metavar="PATIENT", help="Patient id.")],
    records: Annotated[
        Path, typer.Option("--records", help="Clinical records JSON the pool is built from.")
    ],
    a2_rule: A2Rule = False,
    titre_max: TitreMax = DEFAULT_A2_TITRE_MAX,
    aboi_titre_max: AboiTitreMax = None,
    as_of: AsOf = None,
    compute_cpra: ComputeCpra = False,
    panel: Panel = None,
    same_group: SameGroup = False,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print one JSON object on stdout.")
    ] = False,
) -> None:
    """Explain why DONOR can or cannot give to PATIENT in the pool built from RECORDS
    (use the same policy options as build-pool)."""
    options = _BuildOptions(
        a2_rule, titre_max, aboi_titre_max, as_of, compute_cpra, panel, same_group
    )
    assessment = _build(records, options).why(donor, patient)
    if json_output:
        write_json(assessment.to_json())
        return
    typer.echo(assessment.summary())
    for line in assessment.reasons():
        typer.echo(f"  {line}")


def generate_records_command(
    pairs: Annotated[int, typer.Option("--pairs", min=0, help="Patients with their donors.")],
    seed: Annotated[int, typer.Option("--seed", min=0, help="Random seed.")],
    altruists: Annotated[int, typer.Option("--altruists", min=0, help="Non-directed donors.")] = 0,
    output: Annotated[
        Path, typer.Option("--output", "-o", help="records.json to write (- for stdout).")
    ] = Path(_STDOUT),
) -> None:
    """Draw clinical records (blood groups, HLA, unacceptable antigens, cPRA) from the
    Delorme et al. (2022) UK model, for build-pool."""
    from kidneyshare.generators.clinical import generate_clinical  # only for this command

    records = generate_clinical(pairs, altruists, seed=seed)
    if os.fspath(output) == _STDOUT:
        typer.echo(dump_records(records), nl=False)
        return
    write_records(records, output)
    info(f"wrote {pairs} patients and {len(records.donors)} donors to {output}")
