"""``kidneyshare explain`` and ``kidneyshare repair``: why a patient was not matched, and
a run's plan repaired after failed arcs or withdrawals.

Both parse, call :mod:`kidneyshare.matching.explain` / :mod:`kidneyshare.matching.recourse`
and render; ``repair`` reads a run's plan from ``solve --json`` output.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import BaseModel, ConfigDict, ValidationError
from rich.table import Table

from kidneyshare.cli.output import stdout_console, working, write_json
from kidneyshare.cli.solve import INSTANCE_HELP
from kidneyshare.errors import ConfigError, FormatError
from kidneyshare.formats import read_instance
from kidneyshare.matching import (
    AgeRule,
    Donation,
    Exchange,
    ExchangeKind,
    Objective,
    Result,
    SolverConfig,
    Status,
    solve,
    verify,
)
from kidneyshare.matching.explain import (
    Change,
    Combination,
    RelaxLimits,
    WhatIf,
    accept_abo_incompatible,
    explain,
    what_if,
)
from kidneyshare.matching.policy import BUNDLED_POLICIES, configure
from kidneyshare.matching.recourse import ChainPolicy, Repair, exchange_path, repair
from kidneyshare.model import Instance

__all__ = ["explain_command", "parse_plan", "repair_command"]


def explain_command(
    pool: Annotated[Path, typer.Argument(metavar="POOL", help=INSTANCE_HELP, show_default=False)],
    patient: Annotated[
        str, typer.Argument(metavar="PATIENT", help="The patient (pair) id to explain.")
    ],
    policy: Annotated[
        str | None,
        typer.Option(
            "--policy",
            help=f"A policy TOML file or a bundled policy ({', '.join(BUNDLED_POLICIES)}).",
            show_default=False,
        ),
    ] = None,
    max_cycle: Annotated[
        int | None, typer.Option("--max-cycle", min=0, help="Longest cycle (K).")
    ] = None,
    max_chain: Annotated[
        int | None, typer.Option("--max-chain", min=0, help="Longest chain (L).")
    ] = None,
    objective: Annotated[
        str | None,
        typer.Option("--objective", help=", ".join(o.value for o in Objective)),
    ] = None,
    levels: Annotated[
        list[str] | None,
        typer.Option("--level", help="A level of --objective hierarchy (repeat)."),
    ] = None,
    default_probability: Annotated[
        float | None,
        typer.Option("--default-probability", help="For arcs without one (expected)."),
    ] = None,
    time_limit: Annotated[
        float | None, typer.Option("--time-limit", min=0.0, help="Seconds per solve.")
    ] = None,
    what_if_cycle: Annotated[
        int | None,
        typer.Option("--what-if-max-cycle", min=0, help="Also re-run with this K."),
    ] = None,
    what_if_chain: Annotated[
        int | None,
        typer.Option("--what-if-max-chain", min=0, help="Also re-run with this L."),
    ] = None,
    abo_incompatible: Annotated[
        Path | None,
        typer.Option(
            "--what-if-abo-incompatible",
            help="Also re-run with the arcs of this pool (the same pool built with "
            "ABO-incompatible transplants accepted).",
            show_default=False,
        ),
    ] = None,
    combine: Annotated[
        bool,
        typer.Option(
            "--what-if-combine",
            help="Make the what-if changes together in one re-run (and, when that matches "
            "the patient, each alone to say which suffices).",
        ),
    ] = False,
    json_output: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Solve the pool, then say why PATIENT was (not) matched, with what-if re-runs."""
    config = configure(
        policy,
        max_cycle=max_cycle,
        max_chain=max_chain,
        objective=objective,
        time_limit=time_limit,
        default_probability=default_probability,
        levels=levels or None,
    )
    instance = read_instance(pool)
    if patient not in instance.patient_index:
        raise ConfigError(f"{os.fspath(pool)}: no patient {patient!r} in the pool")
    requested: list[Change] = []
    if what_if_cycle is not None or what_if_chain is not None:
        requested.append(RelaxLimits(what_if_cycle, what_if_chain))
    if abo_incompatible is not None:
        requested.append(accept_abo_incompatible(instance, read_instance(abo_incompatible)))
    if combine and len(requested) < 2:
        raise ConfigError("--what-if-combine: give at least two what-if changes to combine")
    alone: list[WhatIf] = []
    with working(f"Solving {os.fspath(pool)} and explaining {patient}"):
        result = solve(instance, config)
        explanation = explain(instance, config, result, patient)

        def rerun(change: Change | Combination) -> WhatIf:
            return what_if(instance, config, change, patient_id=patient, before=result)

        if combine:
            re_runs = [rerun(Combination(tuple(requested)))]
            if re_runs[0].matched_after and not re_runs[0].matched_before:
                alone = [rerun(c) for c in requested]
        else:
            re_runs = [rerun(c) for c in requested]
    if json_output:
        document: dict[str, Any] = {
            "patient": patient,
            "run": {"status": result.status.value, "values": result.values},
            "explanation": explanation.to_json(),
            "what_if": [w.to_json() for w in re_runs],
        }
        if combine:
            document["alone"] = [w.to_json() for w in alone]
        write_json(document)
        return
    console = stdout_console()
    console.print(f"[bold]{explanation.reason.value}[/bold]: ", end="")
    console.print(explanation.sentence, markup=False)
    if explanation.levels:
        table = Table(title="Objective with the patient forced in", title_justify="left")
        for column in ("level", "run", "with patient", "drop"):
            table.add_column(column, justify="left" if column == "level" else "right")
        for c in explanation.levels:
            table.add_row(c.level, f"{c.run:g}", f"{c.with_patient:g}", f"{c.drop:g}")
        console.print(table)
    console.print(f"method: {explanation.method}, exact: {explanation.exact}", markup=False)
    for w in re_runs:
        console.print(w.sentence(), markup=False)
    if alone:
        enough = [w.change for w in alone if w.matched_after]
        console.print(
            f"Alone, {'; '.join(enough)} would match {patient} too."
            if enough
            else f"No change alone would match {patient}: it takes the combination.",
            markup=False,
        )


def repair_command(
    pool: Annotated[Path, typer.Argument(metavar="POOL", help=INSTANCE_HELP, show_default=False)],
    result_file: Annotated[
        Path,
        typer.Argument(metavar="RESULT.json", help="The run's plan: `solve --json` output."),
    ],
    failed: Annotated[
        list[str] | None,
        typer.Option("--failed", help="A failed arc DONOR:PATIENT (repeat).", show_default=False),
    ] = None,
    withdrawn: Annotated[
        list[str] | None,
        typer.Option(
            "--withdrawn",
            help="A withdrawn patient or donor id (repeat); patient:ID or donor:ID where the "
            "same id names both.",
            show_default=False,
        ),
    ] = None,
    fixed: Annotated[
        list[int] | None,
        typer.Option(
            "--fixed",
            min=1,
            help="An agreed exchange, numbered from 1 in the plan's order (cycles, then "
            "chains): kept exactly (repeat).",
            show_default=False,
        ),
    ] = None,
    chain_policy: Annotated[
        str,
        typer.Option("--chain-policy", help="A chain broken mid-way: waiting-list or re-route."),
    ] = ChainPolicy.WAITING_LIST.value,
    keep_unaffected: Annotated[
        bool,
        typer.Option("--keep-unaffected", help="Keep the exchanges no failure touches."),
    ] = False,
    json_output: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Repair a run's plan after failed arcs or withdrawals, keeping agreed exchanges."""
    instance = read_instance(pool)
    source = os.fspath(result_file)
    config, plan = parse_plan(Path(result_file).read_text(encoding="utf-8"), source)
    report = verify(instance, config, plan)
    if not report.ok:
        raise FormatError(
            f"the plan does not fit {os.fspath(pool)}: {'; '.join(report.problems)}",
            source=source,
        )
    exchanges = plan.exchanges
    for n in fixed or []:
        if n > len(exchanges):
            raise ConfigError(f"--fixed {n}: the plan has {len(exchanges)} exchanges")
    patients, donors = _withdrawn(instance, withdrawn or [])
    with working(f"Repairing the plan of {source}"):
        repaired = repair(
            instance,
            config,
            plan,
            failed_arcs=[_arc(instance, text) for text in failed or []],
            withdrawn_patients=patients,
            withdrawn_donors=donors,
            fixed=[exchanges[n - 1] for n in fixed or []],
            chain_policy=chain_policy,
            keep_unaffected=keep_unaffected,
        )
    if json_output:
        write_json(repaired.to_json())
    else:
        _render_repair(repaired)


def _render_repair(repaired: Repair) -> None:
    console = stdout_console()
    table = Table(title="Before and after", title_justify="left")
    table.add_column("exchange")
    table.add_column("status")
    table.add_column("why", overflow="fold")
    for b in repaired.broken:
        kept = "" if b.kept_prefix is None else f"; goes ahead as {exchange_path(b.kept_prefix)}"
        table.add_row(exchange_path(b.exchange), "broken", "; ".join(b.causes) + kept)
    fixed = set(repaired.fixed)
    for e in repaired.kept:
        table.add_row(exchange_path(e), "kept", "agreed (fixed)" if e in fixed else "unaffected")
    for e in repaired.dissolved:
        table.add_row(exchange_path(e), "dissolved", "re-optimised")
    for e in repaired.rechosen:
        table.add_row(exchange_path(e), "kept", "re-optimised, chosen again")
    for e in repaired.new:
        table.add_row(exchange_path(e), "new", "re-optimised")
    console.print(table)
    before, after = repaired.before, repaired.after
    levels = ", ".join(
        f"{k} {before.values.get(k, 0.0):g} -> {v:g}" for k, v in after.values.items()
    )
    console.print(f"values: {levels}", markup=False)
    console.print(
        f"newly matched: {', '.join(repaired.newly_matched) or 'none'}; no longer matched: "
        f"{', '.join(repaired.no_longer_matched) or 'none'}",
        markup=False,
    )


def _arc(instance: Instance, text: str) -> tuple[str, str]:
    """``DONOR:PATIENT``; ids may hold colons, so every split is tried against the pool."""
    known = {(a.donor, a.patient) for a in instance.arcs}
    splits = [(text[:i], text[i + 1 :]) for i, ch in enumerate(text) if ch == ":"]
    if not splits:
        raise ConfigError(f"--failed {text!r}: expected DONOR:PATIENT")
    for donor, patient in splits:
        if (donor, patient) in known:
            return donor, patient
    raise ConfigError(f"--failed {text!r}: no such arc DONOR:PATIENT in the pool")


def _withdrawn(instance: Instance, ids: list[str]) -> tuple[list[str], list[str]]:
    patients: list[str] = []
    donors: list[str] = []
    for text in ids:
        kind, _, rest = text.partition(":")
        if kind in ("patient", "donor") and rest:
            (patients if kind == "patient" else donors).append(rest)
            continue
        is_patient, is_donor = text in instance.patient_index, text in instance.donor_index
        if is_patient and is_donor:
            raise ConfigError(
                f"--withdrawn {text}: both a patient and a donor have this id; "
                f"write patient:{text} or donor:{text}"
            )
        if not is_patient and not is_donor:
            raise ConfigError(f"--withdrawn {text}: no patient or donor with this id")
        (patients if is_patient else donors).append(text)
    return patients, donors


class _DonationDocument(BaseModel):
    model_config = ConfigDict(extra="ignore")
    donor: str
    patient: str
    weight: float


class _PlanDocument(BaseModel):
    """The parts of ``solve --json`` output a repair needs."""

    model_config = ConfigDict(extra="ignore")
    status: Status
    values: dict[str, float]
    cycles: list[list[str]]
    chains: list[list[str]]
    donations: list[list[_DonationDocument]]
    config: dict[str, Any]
    bound: float | None = None
    bound_level: str = ""


def parse_plan(text: str, source: str = "<plan>") -> tuple[SolverConfig, Result]:
    """The configuration and plan of a ``solve --json`` document.

    Raises
    ------
    FormatError
        naming ``source`` and the field, for malformed JSON or a missing or mistyped field.
    """
    try:
        document = _PlanDocument.model_validate(json.loads(text))
    except json.JSONDecodeError as exc:
        raise FormatError(
            f"not valid JSON: {exc.msg}", source=source, location=f"line {exc.lineno}"
        ) from None
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise FormatError(first["msg"], source=source, location=where) from None
    vertices = document.cycles + document.chains
    if len(vertices) != len(document.donations):
        raise FormatError(
            f"{len(document.donations)} exchanges of donations for {len(vertices)} exchanges",
            source=source,
            location="donations",
        )
    exchanges = [
        Exchange(
            ExchangeKind.CYCLE if n < len(document.cycles) else ExchangeKind.CHAIN,
            tuple(v),
            tuple(Donation(d.donor, d.patient, d.weight) for d in donations),
        )
        for n, (v, donations) in enumerate(zip(vertices, document.donations, strict=True))
    ]
    settings = dict(document.config)
    try:
        settings["age_rule"] = AgeRule(**settings.get("age_rule", {}))
        if Objective.parse(settings.get("objective", "")) is not Objective.HIERARCHY:
            settings["levels"] = ()
        config = SolverConfig(**settings)
    except (TypeError, ConfigError) as exc:
        raise FormatError(str(exc), source=source, location="config") from None
    cycles = tuple(e for e in exchanges if e.kind is ExchangeKind.CYCLE)
    chains = tuple(e for e in exchanges if e.kind is ExchangeKind.CHAIN)
    result = Result(
        document.status,
        config,
        cycles,
        chains,
        document.values,
        bound=document.bound,
        bound_level=document.bound_level,
    )
    return config, result
