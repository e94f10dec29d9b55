"""Registry people as a caller may see them, in run results, offers and explanations.

A person of a centre the caller may identify (:meth:`Principal.identifies
<kidneyshare.registry.access.Principal.identifies>`) appears with their registry id and
code; anyone else only by pseudonym (:class:`~kidneyshare.registry.pseudonyms.Pseudonymiser`)
and centre code, in the library's sentences too (snapshot ids ``P<id>``/``D<id>``
relabelled). The REST service validates these documents into its response schemas; the
CLI prints them for the user named by ``--user``. One rule, two interfaces.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kidneyshare.registry.access import Principal
from kidneyshare.registry.keys import parse_donor_key, parse_patient_key
from kidneyshare.registry.models import Centre, Donor, Offer, Patient
from kidneyshare.registry.pseudonyms import Pseudonymiser

__all__ = ["People", "explanation_document", "offer_documents"]

Document = dict[str, Any]

# Snapshot ids (registry/keys.py) as they appear in the library's sentences.
_KEY = re.compile(r"\b([PD])(\d+)\b")


class People:
    """Looks up the patients and donors a result names, once each, and shows each as
    ``{"pseudonym", "centre_code", "id", "code"}`` (``id``/``code`` ``None`` where the
    caller may not identify them)."""

    def __init__(
        self,
        session: Session,
        patient_ids: Iterable[int],
        donor_ids: Iterable[int],
        caller: Principal,
        pseudonyms: Pseudonymiser,
    ) -> None:
        self.caller, self.pseudonyms = caller, pseudonyms
        self.centre_codes: dict[int, str] = {
            row_id: code for row_id, code in session.execute(select(Centre.id, Centre.code))
        }
        self.patients = {
            row.id: (row.code, row.centre_id)
            for row in session.scalars(select(Patient).where(Patient.id.in_(set(patient_ids))))
        }
        self.donors = {
            row.id: (row.code, row.centre_id)
            for row in session.scalars(select(Donor).where(Donor.id.in_(set(donor_ids))))
        }

    def patient(self, patient_id: int) -> Document:
        code, centre = self.patients[patient_id]
        return self._ref(self.pseudonyms.patient(patient_id), centre, patient_id, code)

    def donor(self, donor_id: int) -> Document:
        code, centre = self.donors[donor_id]
        return self._ref(self.pseudonyms.donor(donor_id), centre, donor_id, code)

    def _ref(self, pseudonym: str, centre: int, row_id: int, code: str) -> Document:
        known = self.caller.identifies(centre)
        return {
            "pseudonym": pseudonym,
            "centre_code": self.centre_codes[centre],
            "id": row_id if known else None,
            "code": code if known else None,
        }

    def relabel(self, text: str) -> str:
        """``text`` with each snapshot id of a known person replaced by their code (or
        pseudonym) and centre: ``X2 (LON)``."""

        def label(match: re.Match[str]) -> str:
            kind, row_id = match[1], int(match[2])
            known = self.patients if kind == "P" else self.donors
            if row_id not in known:
                return match[0]
            ref = self.patient(row_id) if kind == "P" else self.donor(row_id)
            return f"{ref['code'] or ref['pseudonym']} ({ref['centre_code']})"

        return _KEY.sub(label, text)

    def donation(self, donor_key: str, patient_key: str, weight: float) -> Document:
        return {
            "donor": self.donor(parse_donor_key(donor_key)),
            "patient": self.patient(parse_patient_key(patient_key)),
            "weight": weight,
        }


def offer_documents(
    session: Session, offers: Sequence[Offer], caller: Principal, pseudonyms: Pseudonymiser
) -> list[Document]:
    """Each offer with its donor and patient as the caller may see them."""
    people = People(
        session, (o.patient_id for o in offers), (o.donor_id for o in offers), caller, pseudonyms
    )
    return [
        {
            "id": o.id,
            "run_id": o.run_id,
            "plan_version": o.plan_version,
            "exchange": o.exchange,
            "kind": o.kind,
            "position": o.position,
            "donor": people.donor(o.donor_id),
            "patient": people.patient(o.patient_id),
            "weight": o.weight,
            "status": o.status,
            "version": o.version,
        }
        for o in offers
    ]


def explanation_document(
    session: Session, record: Document, caller: Principal, pseudonyms: Pseudonymiser
) -> Document:
    """An explanation (:meth:`RunExplanation.record
    <kidneyshare.workflows.explain_run.RunExplanation.record>`) with every person as the
    caller may see them: structures and sentences name people by code or pseudonym (with
    their centre), never snapshot ids. The one shape of the service and the CLI."""
    e, re_runs = record["explanation"], record["what_if"]
    labels = [
        label
        for w in re_runs
        for label in (*w["changes"], *(a["change"] for a in w["alone"] or ()))
    ]
    texts = [e["sentence"], *(w["sentence"] for w in re_runs), *record["notes"], *labels]
    keys = [(m[0], int(m[1])) for text in texts for m in _KEY.findall(text)]
    exchanges = [x for x in (e["exchange"], e["alternative"], *e["competing"]) if x is not None]
    donations = [d for x in exchanges for d in x["donations"]]
    moved = [p for w in re_runs for p in (*w["newly_matched"], *w["no_longer_matched"])]
    people = People(
        session,
        [record["patient_id"], *(parse_patient_key(p) for p in moved)]
        + [parse_patient_key(d["patient"]) for d in donations]
        + [i for kind, i in keys if kind == "P"],
        [parse_donor_key(d["donor"]) for d in donations] + [i for kind, i in keys if kind == "D"],
        caller,
        pseudonyms,
    )

    def exchange(x: Document | None) -> Document | None:
        if x is None:
            return None
        return {
            "kind": x["kind"],
            "donations": [
                people.donation(d["donor"], d["patient"], d["weight"]) for d in x["donations"]
            ],
        }

    def patients(keys: Sequence[str]) -> list[Document]:
        return [people.patient(parse_patient_key(p)) for p in keys]

    document = {k: v for k, v in e.items() if k != "patient"}  # levels, lengths, method ...
    return {
        **document,
        "run_id": record["run_id"],
        "patient": people.patient(record["patient_id"]),
        "in_snapshot": record["in_snapshot"],
        "sentence": people.relabel(e["sentence"]),
        "exchange": exchange(e["exchange"]),
        "alternative": exchange(e["alternative"]),
        "competing": [exchange(x) for x in e["competing"]],
        "what_if": [
            {
                **w,
                "change": people.relabel(w["change"]),
                "changes": [people.relabel(c) for c in w["changes"]],
                "alone": None
                if w["alone"] is None
                else [{**a, "change": people.relabel(a["change"])} for a in w["alone"]],
                "newly_matched": patients(w["newly_matched"]),
                "no_longer_matched": patients(w["no_longer_matched"]),
                "sentence": people.relabel(w["sentence"]),
            }
            for w in re_runs
        ],
        "notes": [people.relabel(note) for note in record["notes"]],
    }
