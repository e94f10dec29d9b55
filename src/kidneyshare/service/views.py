"""Registry rows as response bodies, identified or pseudonymised for the caller."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kidneyshare.registry.access import Principal
from kidneyshare.registry.models import (
    Altruist,
    Centre,
    Donor,
    MatchingRun,
    Offer,
    Pair,
)
from kidneyshare.registry.pool import (
    current_donor_facts,
    current_patient_facts,
    donor_facts_history,
    pair_donors,
    patient_facts_history,
    status_history,
)
from kidneyshare.registry.pseudonyms import Pseudonymiser
from kidneyshare.registry.snapshot import parse_donor_key, parse_patient_key
from kidneyshare.service.schemas.explain import (
    ExplanationPublic,
)
from kidneyshare.service.schemas.pool import (
    AltruistPublic,
    DonorFactsPublic,
    DonorPublic,
    FactsHistory,
    PairPublic,
    PatientFactsPublic,
    PseudonymisedMember,
    StatusChangePublic,
)
from kidneyshare.service.schemas.runs import (
    OfferPublic,
    RunExchange,
    RunPublic,
)
from kidneyshare.workflows.disclosure import People, explanation_document, offer_documents

__all__ = [
    "altruist_view",
    "explanation_view",
    "history_view",
    "offer_views",
    "pair_view",
    "pseudonymised_members",
    "run_view",
]


def _donor_view(session: Session, donor: Donor) -> DonorPublic:
    facts = current_donor_facts(session, donor.id)
    return DonorPublic(
        id=donor.id,
        code=donor.code,
        reference=donor.reference,
        facts=None if facts is None else DonorFactsPublic.model_validate(facts),
    )


def pair_view(session: Session, pair: Pair) -> PairPublic:
    facts = current_patient_facts(session, pair.patient_id)
    return PairPublic(
        id=pair.id,
        centre_id=pair.centre_id,
        status=pair.status,
        version=pair.version,
        patient_id=pair.patient_id,
        patient_code=pair.patient.code,
        patient_reference=pair.patient.reference,
        patient_facts=None if facts is None else PatientFactsPublic.model_validate(facts),
        donors=[_donor_view(session, d) for d in pair_donors(session, pair)],
        updated_at=pair.updated_at,
    )


def altruist_view(session: Session, altruist: Altruist) -> AltruistPublic:
    return AltruistPublic(
        id=altruist.id,
        centre_id=altruist.centre_id,
        status=altruist.status,
        version=altruist.version,
        donor=_donor_view(session, altruist.donor),
        updated_at=altruist.updated_at,
    )


def history_view(session: Session, member: Pair | Altruist) -> FactsHistory:
    if isinstance(member, Pair):
        patient = [
            PatientFactsPublic.model_validate(r)
            for r in patient_facts_history(session, member.patient_id)
        ]
        donors = pair_donors(session, member)
    else:
        patient, donors = [], [member.donor]
    return FactsHistory(
        patient=patient,
        donors={
            d.id: [DonorFactsPublic.model_validate(r) for r in donor_facts_history(session, d.id)]
            for d in donors
        },
        status=[StatusChangePublic.model_validate(c) for c in status_history(session, member)],
    )


def run_view(
    session: Session, run: MatchingRun, caller: Principal, pseudonyms: Pseudonymiser
) -> RunPublic:
    view = RunPublic(
        id=run.id,
        status=run.status,
        phase=run.phase,
        progress=run.progress,
        config=run.config,
        snapshot_sha256=run.snapshot_sha256,
        attempts=run.attempts,
        message=run.message,
        created_at=run.created_at,
        started_at=run.started_at,
        finished_at=run.finished_at,
        verification=run.verification,
        policy=None
        if run.policy is None
        else {key: str(run.policy[key]) for key in ("name", "version", "sha256")},
    )
    if run.result is None:
        return view
    exchanges: list[dict[str, Any]] = [
        {"kind": "cycle" if i < len(run.result["cycles"]) else "chain", "donations": donations}
        for i, donations in enumerate(run.result["donations"])
    ]
    donations = [d for e in exchanges for d in e["donations"]]
    people = People(
        session,
        (parse_patient_key(d["patient"]) for d in donations),
        (parse_donor_key(d["donor"]) for d in donations),
        caller,
        pseudonyms,
    )
    view.transplants = run.result["transplants"]
    view.exchanges = [
        RunExchange.model_validate(
            {
                "kind": e["kind"],
                "donations": [
                    people.donation(d["donor"], d["patient"], d["weight"]) for d in e["donations"]
                ],
            }
        )
        for e in exchanges
    ]
    return view


def offer_views(
    session: Session, offers: Sequence[Offer], caller: Principal, pseudonyms: Pseudonymiser
) -> list[OfferPublic]:
    return [
        OfferPublic.model_validate(d) for d in offer_documents(session, offers, caller, pseudonyms)
    ]


def pseudonymised_members(
    session: Session,
    pairs: Sequence[Pair],
    altruists: Sequence[Altruist],
    pseudonyms: Pseudonymiser,
) -> list[PseudonymisedMember]:
    codes = {row_id: code for row_id, code in session.execute(select(Centre.id, Centre.code))}
    members = []
    for pair in pairs:
        facts = current_patient_facts(session, pair.patient_id)
        members.append(
            PseudonymisedMember(
                kind="pair",
                pseudonym=pseudonyms.patient(pair.patient_id),
                centre_code=codes[pair.centre_id],
                status=pair.status,
                blood_group=None if facts is None else facts.blood_group,
                cpra=None if facts is None else facts.cpra,
                donor_pseudonyms=[pseudonyms.donor(d.id) for d in pair_donors(session, pair)],
            )
        )
    for altruist in altruists:
        facts_d = current_donor_facts(session, altruist.donor_id)
        members.append(
            PseudonymisedMember(
                kind="altruist",
                pseudonym=pseudonyms.donor(altruist.donor_id),
                centre_code=codes[altruist.centre_id],
                status=altruist.status,
                blood_group=None if facts_d is None else facts_d.blood_group,
                cpra=None,
                donor_pseudonyms=[],
            )
        )
    return members


def explanation_view(
    session: Session, record: dict[str, Any], caller: Principal, pseudonyms: Pseudonymiser
) -> ExplanationPublic:
    """An explanation (:meth:`RunExplanation.record
    <kidneyshare.workflows.explain_run.RunExplanation.record>`) with every person as the
    caller may see them (sentences too)."""
    return ExplanationPublic.model_validate(
        explanation_document(session, record, caller, pseudonyms)
    )
