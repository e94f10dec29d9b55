"""Registry rows as response bodies, identified or pseudonymised for the caller."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kidneyshare.matching import Exchange
from kidneyshare.registry.models import (
    Altruist,
    Centre,
    Donor,
    MatchingRun,
    Offer,
    Pair,
    Patient,
)
from kidneyshare.registry.pool import (
    current_donor_facts,
    current_patient_facts,
    donor_facts_history,
    pair_donors,
    patient_facts_history,
    status_history,
)
from kidneyshare.registry.snapshot import parse_donor_key, parse_patient_key
from kidneyshare.service.access import Principal
from kidneyshare.service.pseudonyms import Pseudonymiser
from kidneyshare.service.schemas.explain import (
    ExplanationPublic,
    LevelComparison,
    WhatIfLevel,
    WhatIfPublic,
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
    PersonRef,
    RunDonation,
    RunExchange,
    RunPublic,
)
from kidneyshare.workflows.explain_run import RunExplanation

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


class _People:
    """Looks up the patients and donors a result names, once each."""

    def __init__(
        self,
        session: Session,
        patient_ids: Iterable[int],
        donor_ids: Iterable[int],
        caller: Principal,
        pseudonyms: Pseudonymiser,
    ) -> None:
        self.caller, self.pseudonyms = caller, pseudonyms
        codes = {row_id: code for row_id, code in session.execute(select(Centre.id, Centre.code))}
        self.patients = {
            row.id: (row.code, row.centre_id)
            for row in session.scalars(select(Patient).where(Patient.id.in_(set(patient_ids))))
        }
        self.donors = {
            row.id: (row.code, row.centre_id)
            for row in session.scalars(select(Donor).where(Donor.id.in_(set(donor_ids))))
        }
        self.centre_codes: dict[int, str] = codes

    def patient(self, patient_id: int) -> PersonRef:
        code, centre = self.patients[patient_id]
        return self._ref(self.pseudonyms.patient(patient_id), centre, patient_id, code)

    def donor(self, donor_id: int) -> PersonRef:
        code, centre = self.donors[donor_id]
        return self._ref(self.pseudonyms.donor(donor_id), centre, donor_id, code)

    def _ref(self, pseudonym: str, centre: int, row_id: int, code: str) -> PersonRef:
        ref = PersonRef(pseudonym=pseudonym, centre_code=self.centre_codes[centre])
        if self.caller.identifies(centre):
            ref.id, ref.code = row_id, code
        return ref


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
    people = _People(
        session,
        (parse_patient_key(d["patient"]) for d in donations),
        (parse_donor_key(d["donor"]) for d in donations),
        caller,
        pseudonyms,
    )
    view.transplants = run.result["transplants"]
    view.exchanges = [
        RunExchange(
            kind=e["kind"],
            donations=[
                RunDonation(
                    donor=people.donor(parse_donor_key(d["donor"])),
                    patient=people.patient(parse_patient_key(d["patient"])),
                    weight=d["weight"],
                )
                for d in e["donations"]
            ],
        )
        for e in exchanges
    ]
    return view


def offer_views(
    session: Session, offers: Sequence[Offer], caller: Principal, pseudonyms: Pseudonymiser
) -> list[OfferPublic]:
    people = _People(
        session, (o.patient_id for o in offers), (o.donor_id for o in offers), caller, pseudonyms
    )
    return [
        OfferPublic(
            id=o.id,
            run_id=o.run_id,
            exchange=o.exchange,
            kind=o.kind,
            position=o.position,
            donor=people.donor(o.donor_id),
            patient=people.patient(o.patient_id),
            weight=o.weight,
            status=o.status,
            version=o.version,
            plan_version=o.plan_version,
        )
        for o in offers
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


# Snapshot ids (registry/keys.py) as they appear in the library's sentences.
_KEY = re.compile(r"\b([PD])(\d+)\b")


def explanation_view(
    session: Session, answer: RunExplanation, caller: Principal, pseudonyms: Pseudonymiser
) -> ExplanationPublic:
    """An explanation with every person as the caller may see them: the sentences name
    people by code or pseudonym (with their centre) instead of snapshot ids."""
    e = answer.explanation
    sentences = [e.sentence, *(w.sentence() for w in answer.what_if), *answer.notes]
    keys = [(m[0], int(m[1])) for text in sentences for m in _KEY.findall(text)]
    exchanges = [x for x in (e.exchange, e.alternative, *e.competing) if x is not None]
    donations = [d for x in exchanges for d in x.donations]
    moved = [p for w in answer.what_if for p in (*w.newly_matched, *w.no_longer_matched)]
    people = _People(
        session,
        [answer.patient_id, *(parse_patient_key(p) for p in moved)]
        + [parse_patient_key(d.patient) for d in donations]
        + [i for kind, i in keys if kind == "P"],
        [parse_donor_key(d.donor) for d in donations] + [i for kind, i in keys if kind == "D"],
        caller,
        pseudonyms,
    )

    def label(match: re.Match[str]) -> str:
        kind, row_id = match[1], int(match[2])
        known = people.patients if kind == "P" else people.donors
        if row_id not in known:
            return match[0]
        ref = people.patient(row_id) if kind == "P" else people.donor(row_id)
        return f"{ref.code or ref.pseudonym} ({ref.centre_code})"

    def exchange(x: Exchange | None) -> RunExchange | None:
        if x is None:
            return None
        return RunExchange(
            kind=x.kind.value,
            donations=[
                RunDonation(
                    donor=people.donor(parse_donor_key(d.donor)),
                    patient=people.patient(parse_patient_key(d.patient)),
                    weight=d.weight,
                )
                for d in x.donations
            ],
        )

    return ExplanationPublic(
        run_id=answer.run_id,
        patient=people.patient(answer.patient_id),
        in_snapshot=answer.in_snapshot,
        reason=e.reason,
        sentence=_KEY.sub(label, e.sentence),
        exchange=exchange(e.exchange),
        alternative=exchange(e.alternative),
        competing=[x for x in map(exchange, e.competing) if x is not None],
        levels=[
            LevelComparison(level=c.level, run=c.run, with_patient=c.with_patient, drop=c.drop)
            for c in e.levels
        ],
        decisive_level=e.decisive_level,
        shortest_cycle=e.shortest_cycle,
        shortest_chain=e.shortest_chain,
        method=e.method,
        exact=e.exact,
        what_if=[
            WhatIfPublic(
                change=_KEY.sub(label, w.change),
                matched_before=w.matched_before,
                matched_after=w.matched_after,
                transplants_before=w.before.transplants,
                transplants_after=w.after.transplants,
                levels=[
                    WhatIfLevel(level=c.level, before=c.run, after=c.with_patient) for c in w.levels
                ],
                newly_matched=[people.patient(parse_patient_key(p)) for p in w.newly_matched],
                no_longer_matched=[
                    people.patient(parse_patient_key(p)) for p in w.no_longer_matched
                ],
                sentence=_KEY.sub(label, w.sentence()),
            )
            for w in answer.what_if
        ],
        notes=[_KEY.sub(label, note) for note in answer.notes],
    )
