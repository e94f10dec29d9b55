"""``kidneyshare run|offers|offer-response|crossmatch-result|transplant|care``: the
scheme's workflows over the registry (the database as ``kidneyshare db`` takes it).

Thin: each command opens the database, calls one workflow of
:mod:`kidneyshare.workflows` as the user named by ``--user`` (the scheme's own
``system`` by default) and prints the answer, as a table or with ``--json`` as JSON.

With ``--user`` the registry's access rules apply as in the REST service
(:mod:`kidneyshare.registry.access`): the role must allow the command, another centre's
record is "does not exist", and people the user may not identify appear by pseudonym
and centre (:mod:`kidneyshare.workflows.disclosure`, the service's pseudonyms).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import date
from enum import StrEnum
from typing import Annotated, Any, TypeVar

import typer
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from kidneyshare.care import Alert, Stage, load_care_policy
from kidneyshare.cli.db import DATABASE_URL_OPTION, database_url
from kidneyshare.cli.output import stdout_console, write_json
from kidneyshare.registry import (
    SYSTEM,
    Actor,
    CrossmatchOutcome,
    RecordInvalid,
    RecordNotFound,
    UnitOfWork,
    ensure_current,
    make_engine,
    make_sessions,
)
from kidneyshare.registry.access import SYSTEM as SYSTEM_CALLER
from kidneyshare.registry.access import Permission, Principal
from kidneyshare.registry.accounts import find_user, get_user, scheme_secret
from kidneyshare.registry.care_log import get_episode
from kidneyshare.registry.models import Centre, Offer, PlanVersion
from kidneyshare.registry.outcomes import (
    get_offer,
    list_offers,
    record_crossmatch,
    record_response,
)
from kidneyshare.registry.pool import get_patient
from kidneyshare.registry.pseudonyms import Pseudonymiser
from kidneyshare.registry.runs import get_run
from kidneyshare.registry.vocabulary import MeasurementKind
from kidneyshare.workflows.care import (
    alerts,
    change_stage,
    coordinator_caseload,
    record_measurement,
    record_transplant_with_care,
    record_visit,
)
from kidneyshare.workflows.disclosure import explanation_document, offer_documents
from kidneyshare.workflows.explain_run import NewDonor
from kidneyshare.workflows.kept_explanation import Question, explanation_of
from kidneyshare.workflows.matching_run import read_policy, run_matching
from kidneyshare.workflows.recourse import repair_run

__all__ = [
    "care_app",
    "crossmatch_result_command",
    "offer_response_command",
    "offers_app",
    "run_app",
    "transplant_command",
]

Url = Annotated[str | None, DATABASE_URL_OPTION]
User = Annotated[
    str | None,
    typer.Option("--user", help="Act as this registry user (default: the scheme's system)."),
]
Json = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]
CarePolicyName = Annotated[
    str, typer.Option("--care-policy", help="The scheme's care policy: a name or a TOML file.")
]
Day = Annotated[str, typer.Option("--on", help="The date, YYYY-MM-DD.")]
AsOf = Annotated[
    str | None, typer.Option("--as-of", help="Judge as of this date (YYYY-MM-DD); today.")
]

run_app = typer.Typer(
    name="run", help="Matching runs of the registry's pool.", no_args_is_help=True
)
offers_app = typer.Typer(name="offers", help="Offers of matching runs.", no_args_is_help=True)
care_app = typer.Typer(
    name="care", help="Donor care: caseloads, alerts, records.", no_args_is_help=True
)


Found = TypeVar("Found")


def _named(argument: str, lookup: Callable[[], Found]) -> Found:
    """``lookup()``; a record it does not find is reported against the command-line
    ``argument`` that named it (``RUN: matching run 9 does not exist``)."""
    try:
        return lookup()
    except RecordNotFound as exc:
        raise RecordNotFound(f"{argument}: {exc}") from None


@contextmanager
def _options(names: Mapping[str, str]) -> Iterator[None]:
    """Report an invalid field of a workflow's input against the command-line argument
    that gave it: the service's body field ``coordinator`` as ``--coordinator``."""
    try:
        yield
    except RecordInvalid as exc:
        if exc.field is None or exc.field not in names:
            raise
        raise RecordInvalid(exc.detail, field=names[exc.field]) from None


def _user_named(session: Session, argument: str, username: str) -> None:
    if find_user(session, username) is None:
        raise RecordNotFound(f"{argument}: no user {username!r}")


def _day(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise RecordInvalid(f"expected a date YYYY-MM-DD, got {text!r}", field=option) from None


@contextmanager
def _registry(url: str | None, user: str | None) -> Iterator[tuple[sessionmaker[Session], Actor]]:
    engine = make_engine(database_url(url))
    try:
        ensure_current(engine)
        sessions = make_sessions(engine)
        actor = SYSTEM
        if user is not None:
            with sessions() as session:
                found = find_user(session, user)
                if found is None or not found.active:
                    raise RecordNotFound(f"--user: no active user {user!r}")
                actor = Actor(found.id, found.username)
        yield sessions, actor
    finally:
        engine.dispose()


@contextmanager
def _acting(
    url: str | None, user: str | None, permission: Permission
) -> Iterator[tuple[sessionmaker[Session], Actor, Principal]]:
    """The database, the actor and their access (the scheme's system without ``--user``),
    refusing a user whose role lacks ``permission``."""
    with _registry(url, user) as (sessions, actor):
        caller = SYSTEM_CALLER
        if actor.user_id is not None:
            with sessions() as session:
                caller = Principal.of(get_user(session, actor.user_id))
        if not caller.may(permission):
            raise RecordInvalid(f"{caller.username}: {caller.refusal(permission)}", field="--user")
        yield sessions, actor, caller


def _visible(caller: Principal, argument: str, what: str, *centres: int) -> None:
    """Another centre's record does not exist for a centre's user (as the service's 404)."""
    if not caller.identifies(*centres):
        raise RecordNotFound(f"{argument}: {what} does not exist")


def _offer(session: Session, caller: Principal, offer_id: int) -> Offer:
    """The offer named by OFFER, if the user's centre is party to it."""
    offer = _named("OFFER", lambda: get_offer(session, offer_id))
    _visible(caller, "OFFER", f"offer {offer_id}", offer.donor_centre_id, offer.patient_centre_id)
    return offer


@contextmanager
def _reading(sessions: sessionmaker[Session]) -> Iterator[tuple[Session, Pseudonymiser]]:
    """A session to read in, and the scheme's pseudonyms (the service's: the key is the
    scheme's, made on first use before the session opens)."""
    pseudonyms = Pseudonymiser(bytes.fromhex(scheme_secret(sessions, "pseudonyms")))
    with sessions() as session:
        yield session, pseudonyms


def _write(json_output: bool, document: Any, render: Callable[[], None]) -> None:
    if json_output:
        write_json(document)
    else:
        render()


@run_app.command("start")
def run_start_command(
    policy: Annotated[
        str, typer.Option("--policy", help="A bundled policy or a TOML file.")
    ] = "uk",
    level: Annotated[
        list[str] | None,
        typer.Option(
            "--level", help="A hierarchy level, most important first (repeat).", show_default=False
        ),
    ] = None,
    time_limit: Annotated[float | None, typer.Option("--time-limit", help="Seconds.")] = None,
    url: Url = None,
    user: User = None,
    json_output: Json = False,
) -> None:
    """Snapshot the active pool, solve it under POLICY, verify, store, and make offers."""
    rules = read_policy(policy)
    with _acting(url, user, Permission.START_RUNS) as (sessions, actor, _):
        outcome = run_matching(sessions, actor, rules, levels=level or (), time_limit=time_limit)
    document = {
        "run": outcome.run_id,
        "status": outcome.status.value,
        "message": outcome.message,
        "policy": {"name": rules.policy.name, "version": rules.policy.version},
        "transplants": outcome.transplants,
        "exchanges": outcome.exchanges,
        "centres": {c.centre_code: c.exchanges for c in outcome.centres},
    }

    def render() -> None:
        out = stdout_console()
        out.print(
            f"run {outcome.run_id} {outcome.status.value} ({rules.policy.name} "
            f"{rules.policy.version}): {outcome.transplants} transplants in "
            f"{outcome.exchanges} exchanges {outcome.message}".rstrip()
        )
        for c in outcome.centres:
            out.print(f"  {c.centre_code}: {c.offers} offers in exchanges {sorted(c.exchanges)}")

    _write(json_output, document, render)


def _offer_json(offer: dict[str, Any]) -> dict[str, Any]:
    """An offer of :func:`offer_documents` as the CLI prints it: ``donor``/``patient``
    are registry ids, ``None`` for people the user may not identify (see the pseudonym)."""
    document = {key: offer[key] for key in ("id", "plan_version", "exchange", "kind", "position")}
    document["run"] = offer["run_id"]
    for role in ("donor", "patient"):
        person = offer[role]
        document[role] = person["id"]
        document[f"{role}_pseudonym"] = person["pseudonym"]
        document[f"{role}_centre"] = person["centre_code"]
    document["status"] = offer["status"].value
    document["version"] = offer["version"]
    return document


def _codes(session: Session) -> dict[int, str]:
    return {row_id: code for row_id, code in session.execute(select(Centre.id, Centre.code))}


def _offer_table(rows: list[dict[str, Any]]) -> None:
    out = stdout_console()
    for o in rows:
        out.print(
            f"offer {o['id']}  run {o['run']} v{o['plan_version']} exchange {o['exchange']} "
            f"({o['kind']} #{o['position']}): donor {o['donor'] or o['donor_pseudonym']} "
            f"({o['donor_centre']}) -> patient {o['patient'] or o['patient_pseudonym']} "
            f"({o['patient_centre']})  {o['status']}"
        )


@run_app.command("show")
def run_show_command(
    run_id: Annotated[int, typer.Argument(metavar="RUN", help="The run's id.")],
    url: Url = None,
    user: User = None,
    json_output: Json = False,
) -> None:
    """A run: its status, policy, plan versions and offers (with ``--user``: the offers
    of the user's centre, people of other centres by pseudonym)."""
    with (
        _acting(url, user, Permission.READ_RUNS) as (sessions, _, caller),
        _reading(sessions) as (session, pseudonyms),
    ):
        run = _named("RUN", lambda: get_run(session, run_id))
        plans = list(
            session.scalars(
                select(PlanVersion).where(PlanVersion.run_id == run_id).order_by(PlanVersion.number)
            )
        )
        rows = []
        if caller.may(Permission.READ_OFFERS):
            rows = list_offers(session, run_id=run_id, centre_id=caller.scope(), limit=10_000)[0]
        offers = [_offer_json(o) for o in offer_documents(session, rows, caller, pseudonyms)]
        document: dict[str, Any] = {
            "run": run.id,
            "status": run.status.value,
            "message": run.message,
            "policy": None
            if run.policy is None
            else {k: run.policy[k] for k in ("name", "version", "sha256")},
            "snapshot_sha256": run.snapshot_sha256,
            "transplants": None if run.result is None else run.result["transplants"],
            "plan_versions": [
                {
                    "number": p.number,
                    "reason": p.reason,
                    "transplants": p.result["transplants"],
                    "verified": p.verification.get("ok"),
                }
                for p in plans
            ],
            "offers": offers,
        }

    def render() -> None:
        out = stdout_console()
        out.print(
            f"run {document['run']} {document['status']}: {document['transplants']} transplants; "
            f"snapshot {document['snapshot_sha256'][:12]}"
        )
        for p in document["plan_versions"]:
            out.print(f"  plan v{p['number']}: {p['transplants']} transplants ({p['reason']})")
        _offer_table(offers)

    _write(json_output, document, render)


@run_app.command("repair")
def run_repair_command(
    run_id: Annotated[int, typer.Argument(metavar="RUN", help="The run's id.")],
    chain_policy: Annotated[
        str,
        typer.Option("--chain-policy", help="A chain broken mid-way: waiting-list or re-route."),
    ] = "waiting-list",
    fixed: Annotated[
        list[int] | None,
        typer.Option(
            "--fixed",
            min=1,
            help="Also keep exchange N of the current plan (repeat).",
            show_default=False,
        ),
    ] = None,
    reoptimise_all: Annotated[
        bool,
        typer.Option(
            "--reoptimise-all",
            help="Re-optimise every exchange not agreed, not only the broken ones (may match "
            "more patients; remakes offers no failure touched).",
        ),
    ] = False,
    url: Url = None,
    user: User = None,
    json_output: Json = False,
) -> None:
    """Repair the run's plan after failed crossmatches and withdrawals (a new plan version)."""
    with (
        _acting(url, user, Permission.REPAIR_PLANS) as (sessions, actor, _),
        UnitOfWork(sessions, actor) as uow,
    ):
        _named("RUN", lambda: get_run(uow.session, run_id))
        repaired = repair_run(
            uow,
            run_id,
            chain_policy=chain_policy,
            fixed=fixed or (),
            keep_unaffected=not reoptimise_all,
        )
        document: dict[str, Any] = {
            "run": run_id,
            "plan_version": repaired.plan.number,
            "cancelled_offers": list(repaired.cancelled_offers),
            "new_offers": list(repaired.new_offers),
            "repair": repaired.repaired.to_json(),
        }

    def render() -> None:
        r = document["repair"]
        out = stdout_console()
        out.print(
            f"run {run_id} plan v{document['plan_version']}: {r['before']['transplants']} -> "
            f"{r['after']['transplants']} transplants; {len(r['broken'])} broken, "
            f"{len(r['new'])} new exchanges; offers cancelled {document['cancelled_offers']}, "
            f"new {document['new_offers']}"
        )
        for b in r["broken"]:
            out.print(
                f"  broken {' -> '.join(b['exchange']['vertices'])}: {'; '.join(b['causes'])}"
            )

    _write(json_output, document, render)


# The service's what-if parameters, as ``run explain`` takes them.
_WHAT_IF_OPTIONS = {
    "what_if_donor": "--what-if-donor",
    "what_if_donor_hla": "--what-if-donor-hla",
    "what_if_donor_age": "--what-if-donor-age",
    "what_if_donor_altruist": "--what-if-donor-altruist",
}


@run_app.command("explain")
def run_explain_command(
    run_id: Annotated[int, typer.Argument(metavar="RUN", help="The run's id.")],
    patient_id: Annotated[
        int, typer.Argument(metavar="PATIENT", help="The patient's registry id.")
    ],
    what_if_cycle: Annotated[
        int | None, typer.Option("--what-if-max-cycle", min=0, help="Also re-run with this K.")
    ] = None,
    what_if_chain: Annotated[
        int | None, typer.Option("--what-if-max-chain", min=0, help="Also re-run with this L.")
    ] = None,
    abo_incompatible: Annotated[
        int | None,
        typer.Option(
            "--what-if-abo-incompatible",
            metavar="TITRE",
            help="Also re-run accepting ABO-incompatible transplants when the patient's "
            "antibodies against the donor's A/B antigens have titres at most TITRE "
            "(judged from the facts recorded by the run's time).",
            show_default=False,
        ),
    ] = None,
    new_donor: Annotated[
        str | None,
        typer.Option(
            "--what-if-donor",
            metavar="ABO",
            help="Also re-run with a new donor of this blood group (O, A, A1, A2, B, AB, "
            "A1B, A2B) for PATIENT (an altruist with --what-if-donor-altruist).",
            show_default=False,
        ),
    ] = None,
    new_donor_hla: Annotated[
        str | None,
        typer.Option(
            "--what-if-donor-hla",
            metavar="TYPING",
            help='The new donor\'s HLA typing, e.g. "A1 A24 B8 DR3"; without it the virtual '
            "crossmatch is not judged.",
            show_default=False,
        ),
    ] = None,
    new_donor_age: Annotated[
        float | None,
        typer.Option("--what-if-donor-age", min=0, help="The new donor's age in years."),
    ] = None,
    new_donor_altruist: Annotated[
        bool,
        typer.Option(
            "--what-if-donor-altruist", help="The new donor is an altruist (non-directed)."
        ),
    ] = False,
    combine: Annotated[
        bool,
        typer.Option(
            "--what-if-combine",
            help="Re-run once with every --what-if change together (saying, when that "
            "matches PATIENT, which change alone would) instead of once per change.",
        ),
    ] = False,
    url: Url = None,
    user: User = None,
    json_output: Json = False,
) -> None:
    """Why PATIENT was (not) matched in RUN's own result, with what-if re-runs: the REST
    service's document (``--json``) or its sentences, people by code and centre (with
    ``--user``, those the user may not identify by pseudonym and centre)."""
    with _options(_WHAT_IF_OPTIONS):
        donor = _new_donor(new_donor, new_donor_hla, new_donor_age, new_donor_altruist)
    with _acting(url, user, Permission.READ_POOL) as (sessions, _, caller):
        with _reading(sessions) as (session, pseudonyms):
            _named("RUN", lambda: get_run(session, run_id))
            patient = _named("PATIENT", lambda: get_patient(session, patient_id))
            _visible(caller, "PATIENT", f"patient {patient_id}", patient.centre_id)
        question = Question(what_if_cycle, what_if_chain, abo_incompatible, donor, combine=combine)
        with _options(_WHAT_IF_OPTIONS):  # computed once per question, then kept
            record = explanation_of(sessions, run_id, patient_id, question)
        with sessions() as session:
            document = explanation_document(session, record, caller, pseudonyms)

    def render() -> None:
        out = stdout_console()
        # one line per sentence (soft wrap), so that it can be searched and copied whole
        out.print(f"{document['reason']}: {document['sentence']}", markup=False, soft_wrap=True)
        for c in document["levels"]:
            out.print(
                f"  {c['level']}: run {c['run']:g}, with the patient {c['with_patient']:g} "
                f"(drop {c['drop']:g})",
                markup=False,
            )
        for w in document["what_if"]:
            out.print(w["sentence"], markup=False, soft_wrap=True)
        for note in document["notes"]:
            out.print(f"  note: {note}", markup=False, soft_wrap=True)

    _write(json_output, document, render)


def _new_donor(
    blood_group: str | None, hla: str | None, age: float | None, altruist: bool
) -> NewDonor | None:
    if blood_group is None:
        given = [
            name
            for name, value in (
                ("--what-if-donor-hla", hla),
                ("--what-if-donor-age", age),
                ("--what-if-donor-altruist", altruist or None),
            )
            if value is not None
        ]
        if given:
            raise RecordInvalid("describes a new donor: give --what-if-donor ABO", field=given[0])
        return None
    return NewDonor.parse(blood_group, hla, age=age, altruist=altruist)


@offers_app.command("list")
def offers_list_command(
    run_id: Annotated[int | None, typer.Option("--run", help="Only this run's.")] = None,
    centre: Annotated[
        str | None, typer.Option("--centre", help="Only this centre's (code).")
    ] = None,
    url: Url = None,
    user: User = None,
    json_output: Json = False,
) -> None:
    """Offers, by run, exchange and position; ``--centre`` keeps a centre's donors' and
    patients' (a centre's ``--user`` sees their own centre's only)."""
    with (
        _acting(url, user, Permission.READ_OFFERS) as (sessions, _, caller),
        _reading(sessions) as (session, pseudonyms),
    ):
        codes = _codes(session)
        centre_id = None
        if centre is not None:
            centre_id = next((i for i, c in codes.items() if c == centre), None)
            if centre_id is None:
                raise RecordNotFound(f"--centre: no centre {centre!r}")
        if run_id is not None:
            _named("--run", lambda: get_run(session, run_id))
        scope = caller.scope(centre_id)
        rows = list_offers(session, run_id=run_id, centre_id=scope, limit=10_000)[0]
        offers = [_offer_json(o) for o in offer_documents(session, rows, caller, pseudonyms)]
    _write(json_output, {"offers": offers}, lambda: _offer_table(offers))


class Answer(StrEnum):
    ACCEPT = "accept"
    DECLINE = "decline"


def offer_response_command(
    offer_id: Annotated[int, typer.Argument(metavar="OFFER", help="The offer's id.")],
    answer: Annotated[Answer, typer.Argument(help="accept or decline.")],
    on: Day,
    reason: Annotated[str, typer.Option("--reason", help="Why (required to decline).")] = "",
    url: Url = None,
    user: User = None,
) -> None:
    """Record the patient's centre's answer to an offer; a declined offer is a failed arc
    for ``run repair``."""
    with (
        _acting(url, user, Permission.RECORD_OUTCOMES) as (sessions, actor, caller),
        UnitOfWork(sessions, actor) as uow,
    ):
        offer = _offer(uow.session, caller, offer_id)
        with _options({"reason": "--reason"}):
            record_response(
                uow,
                offer,
                answer is Answer.ACCEPT,
                _day(on, "--on"),
                reason=reason,
                expected_version=offer.version,
            )
        stdout_console().print(f"offer {offer.id}: {offer.status.value}")


def crossmatch_result_command(
    offer_id: Annotated[int, typer.Argument(metavar="OFFER", help="The offer's id.")],
    outcome: Annotated[CrossmatchOutcome, typer.Argument(help="positive or negative.")],
    on: Day,
    notes: Annotated[str, typer.Option("--notes", help="The laboratory's notes.")] = "",
    url: Url = None,
    user: User = None,
) -> None:
    """Record a laboratory crossmatch result for an offer (a later one supersedes)."""
    with (
        _acting(url, user, Permission.RECORD_OUTCOMES) as (sessions, actor, caller),
        UnitOfWork(sessions, actor) as uow,
    ):
        offer = _offer(uow.session, caller, offer_id)
        record_crossmatch(
            uow, offer, outcome, _day(on, "--on"), notes=notes, expected_version=offer.version
        )
        stdout_console().print(f"offer {offer.id}: {offer.status.value}")


_TRANSPLANT_OPTIONS = {
    "performed_on": "--on",
    "coordinator": "--coordinator",
    "born_on": "--born-on",
    "sex": "--sex",
}


def transplant_command(
    offer_id: Annotated[int, typer.Argument(metavar="OFFER", help="The offer's id.")],
    on: Day,
    care_policy: CarePolicyName = "care-nhsbt",
    coordinator: Annotated[
        str | None, typer.Option("--coordinator", help="The donor's care coordinator (username).")
    ] = None,
    born_on: Annotated[
        str | None, typer.Option("--born-on", help="The donor's date of birth.")
    ] = None,
    sex: Annotated[str | None, typer.Option("--sex", help="The donor's sex, F or M.")] = None,
    url: Url = None,
    user: User = None,
) -> None:
    """Record that an offer's transplant took place; the donor's care episode reaches surgery."""
    policy = load_care_policy(care_policy)
    with (
        _acting(url, user, Permission.RECORD_OUTCOMES) as (sessions, actor, caller),
        UnitOfWork(sessions, actor) as uow,
    ):
        offer = _offer(uow.session, caller, offer_id)
        with _options(_TRANSPLANT_OPTIONS):
            _, episode = record_transplant_with_care(
                uow,
                offer,
                _day(on, "--on"),
                policy,
                expected_version=offer.version,
                coordinator=coordinator,
                born_on=None if born_on is None else _day(born_on, "--born-on"),
                sex=sex,
            )
        stdout_console().print(f"offer {offer.id}: transplanted; donor care episode {episode.id}")


_AS_OF = {"as_of": "--as-of"}


def _as_of(text: str | None) -> date:
    return date.today() if text is None else _day(text, "--as-of")


def _alert_json(episode_id: int, alert: Alert) -> dict[str, Any]:
    return {
        "episode": episode_id,
        "donor": alert.donor_id,
        "kind": alert.kind.value,
        "severity": alert.severity.value,
        "since": alert.since.isoformat(),
        "message": alert.message,
    }


@care_app.command("caseload")
def care_caseload_command(
    coordinator: Annotated[str, typer.Argument(help="The care coordinator's username.")],
    as_of: AsOf = None,
    care_policy: CarePolicyName = "care-nhsbt",
    url: Url = None,
    user: User = None,
    json_output: Json = False,
) -> None:
    """A care coordinator's donors, most urgent first, with their recovery status (a care
    coordinator's ``--user`` reads their own)."""
    policy, day = load_care_policy(care_policy), _as_of(as_of)
    with (
        _acting(url, user, Permission.READ_CARE) as (sessions, _, caller),
        sessions() as session,
    ):
        _user_named(session, "COORDINATOR", coordinator)
        if not caller.reads_caseload_of(coordinator):
            raise RecordInvalid(
                f"{caller.username}: a care coordinator reads their own caseload", field="--user"
            )
        with _options(_AS_OF):
            entries = coordinator_caseload(session, coordinator, policy, as_of=day)
    rows: list[dict[str, Any]] = [
        {
            "episode": int(e.episode_id.removeprefix("E")),
            "donor": e.donor_id,
            "stage": e.stage.value,
            "days_since_donation": e.days_since_donation,
            "next_visit": None
            if e.next_visit is None
            else {"label": e.next_visit.label, "due": e.next_visit.due.isoformat()},
            "overdue_visits": e.overdue_visits,
            "egfr": None if e.egfr.latest is None else round(e.egfr.latest.egfr, 1),
            "egfr_trend": e.egfr.direction.value,
            "alerts": [_alert_json(int(e.episode_id.removeprefix("E")), a) for a in e.alerts],
        }
        for e in entries
    ]

    def render() -> None:
        out = stdout_console()
        out.print(f"{coordinator}: {len(rows)} donors as of {day}")
        for r in rows:
            visit = (
                "-"
                if r["next_visit"] is None
                else f"{r['next_visit']['label']} due {r['next_visit']['due']}"
            )
            out.print(
                f"  episode {r['episode']} donor {r['donor']}: {r['stage']}, next {visit}, "
                f"{r['overdue_visits']} overdue, eGFR {r['egfr']} ({r['egfr_trend']}), "
                f"{len(r['alerts'])} alerts"
            )

    _write(
        json_output, {"coordinator": coordinator, "as_of": day.isoformat(), "donors": rows}, render
    )


@care_app.command("alerts")
def care_alerts_command(
    as_of: AsOf = None,
    coordinator: Annotated[
        str | None, typer.Option("--coordinator", help="Only this coordinator's donors.")
    ] = None,
    care_policy: CarePolicyName = "care-nhsbt",
    url: Url = None,
    user: User = None,
    json_output: Json = False,
) -> None:
    """Every donor care alert (missed visits, abnormal results), most severe first (a
    care coordinator's ``--user``: their centre's donors)."""
    policy, day = load_care_policy(care_policy), _as_of(as_of)
    with (
        _acting(url, user, Permission.READ_CARE) as (sessions, _, caller),
        sessions() as session,
    ):
        if coordinator is not None:
            _user_named(session, "--coordinator", coordinator)
        with _options(_AS_OF):
            found = [
                _alert_json(e.id, a)
                for e, a in alerts(
                    session, policy, as_of=day, centre_id=caller.centre_id, coordinator=coordinator
                )
            ]

    def render() -> None:
        out = stdout_console()
        out.print(f"{len(found)} alerts as of {day}")
        for a in found:
            out.print(f"  {a['severity']:8} episode {a['episode']} {a['kind']}: {a['message']}")

    _write(json_output, {"as_of": day.isoformat(), "alerts": found}, render)


_MEASURES = {
    "creatinine": (MeasurementKind.CREATININE, ("umol_per_l",)),
    "bp": (MeasurementKind.BLOOD_PRESSURE, ("systolic", "diastolic")),
    "acr": (MeasurementKind.ALBUMIN_CREATININE_RATIO, ("mg_per_mmol",)),
    "weight": (MeasurementKind.WEIGHT, ("kg",)),
}


def _measure(text: str) -> tuple[MeasurementKind, dict[str, float]]:
    name, _, values = text.partition("=")
    if name not in _MEASURES or not values:
        raise RecordInvalid(
            f"expected creatinine=UMOL_L, bp=SYS/DIA, acr=MG_MMOL or weight=KG, got {text!r}",
            field="--measure",
        )
    kind, fields = _MEASURES[name]
    parts = values.split("/")
    if len(parts) != len(fields):
        raise RecordInvalid(f"{name} takes {'/'.join(fields)}, got {values!r}", field="--measure")
    try:
        numbers = [float(p) for p in parts]
    except ValueError:
        raise RecordInvalid(
            f"{name}: expected numbers, got {values!r}", field="--measure"
        ) from None
    value = dict(zip(fields, numbers, strict=True))
    if kind is MeasurementKind.BLOOD_PRESSURE:
        value = {k: int(v) for k, v in value.items()}  # mmHg are whole numbers
    return kind, value


# The days the care workflows check, as ``care record`` takes them.
_CARE_OPTIONS = {
    "on": "--on",
    "held_on": "--on",
    "taken_on": "--on",
    "planned_for": "--planned-for",
}


@care_app.command("record")
def care_record_command(
    episode_id: Annotated[int, typer.Argument(metavar="EPISODE", help="The care episode's id.")],
    on: Day,
    visit: Annotated[
        bool, typer.Option("--visit", help="The donor attended a follow-up visit.")
    ] = False,
    stage: Annotated[
        Stage | None, typer.Option("--stage", help="Move the episode to this stage.")
    ] = None,
    planned_for: Annotated[
        str | None,
        typer.Option("--planned-for", help="The surgery date (with --stage surgery-scheduled)."),
    ] = None,
    reason: Annotated[str, typer.Option("--reason", help="Why (for a stage change).")] = "recorded",
    measure: Annotated[
        list[str] | None,
        typer.Option(
            "--measure",
            help="creatinine=UMOL_L, bp=SYS/DIA, acr=MG_MMOL or weight=KG (repeat).",
            show_default=False,
        ),
    ] = None,
    notes: Annotated[str, typer.Option("--notes", help="Visit notes.")] = "",
    url: Url = None,
    user: User = None,
) -> None:
    """Record a stage change, a follow-up visit and measurements for a care episode, in
    one transaction."""
    day = _day(on, "--on")
    measures = [_measure(m) for m in measure or []]
    if stage is None and not visit and not measures:
        raise RecordInvalid(
            "nothing to record: give --stage, --visit or --measure", field="EPISODE"
        )
    done = []
    with (
        _acting(url, user, Permission.RECORD_CARE) as (sessions, actor, caller),
        UnitOfWork(sessions, actor) as uow,
    ):
        episode = _named("EPISODE", lambda: get_episode(uow.session, episode_id))
        _visible(caller, "EPISODE", f"care episode {episode_id}", episode.centre_id)
        with _options(_CARE_OPTIONS):
            if stage is not None:
                planned = None if planned_for is None else _day(planned_for, "--planned-for")
                change_stage(uow, episode_id, stage, on=day, reason=reason, planned_for=planned)
                done.append(f"stage {stage.value}")
            if visit:
                record_visit(uow, episode_id, day, notes=notes)
                done.append("visit")
            for kind, value in measures:
                record_measurement(uow, episode_id, kind, day, value)
                done.append(kind.value)
    stdout_console().print(f"episode {episode_id} on {day}: recorded {', '.join(done)}")
