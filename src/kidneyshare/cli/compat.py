"""Compatibility commands: ``crossmatch`` (one donor against one patient)."""

from __future__ import annotations

from typing import Annotated

import typer

from kidneyshare.cli.output import write_json
from kidneyshare.compatibility import (
    DEFAULT_A2_TITRE_MAX,
    AboType,
    Compatibility,
    CompatibilityPolicy,
    judge,
    parse_hla_names,
)

__all__ = ["crossmatch_command"]

_ABO_NAMES = ", ".join(t.value for t in AboType)


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
