"""What-if re-runs of a run whose pool came from a pool file: the file's arcs stand, and
ABO-incompatible or new-donor arcs are judged from the medical facts the registry holds
for its people, or said not to be judged, and why (``workflows/what_if_run.py``)."""

from __future__ import annotations

import json

from workflow_scheme import DAY, Scheme

from kidneyshare.registry import PatientFacts, UnitOfWork
from kidneyshare.registry.imports import import_pool_text
from kidneyshare.registry.models import Donor, Pair, Patient
from kidneyshare.registry.pool import record_patient_facts
from kidneyshare.workflows.explain_run import NewDonor, explain_run
from kidneyshare.workflows.matching_run import read_policy, run_matching
from kidneyshare.workflows.what_if_run import NEW_DONOR_ID

# q1 and q3 are O patients with A donors; q2 an A patient with an A donor. The file's
# only arc is e1 -> q2 (its source judged the rest incompatible, and does not say why).
POOL = {
    "format": "kidneyshare",
    "version": 1,
    "name": "imported",
    "patients": [
        {"id": "q1", "blood_group": "O", "cpra": 0.0},
        {"id": "q2", "blood_group": "A", "cpra": 0.0},
        {"id": "q3", "blood_group": "O", "cpra": 0.5},
    ],
    "donors": [
        {"id": "e1", "patient": "q1", "blood_group": "A"},
        {"id": "e2", "patient": "q2", "blood_group": "A"},
        {"id": "e3", "patient": "q3", "blood_group": "A"},
    ],
    "arcs": [{"donor": "e1", "patient": "q2"}],
}


def _import(scheme: Scheme) -> tuple[dict[str, str], dict[str, str]]:
    """The pool file imported at GLA, then anti-A titres recorded for q1 (unsensitised:
    cPRA 0) and q3 (cPRA 0.5, antibodies not typed): snapshot ids by code."""
    with UnitOfWork(scheme.sessions, scheme.admin) as uow:
        import_pool_text(
            uow,
            scheme.centres["GLA"],
            json.dumps(POOL),
            source_name="imported.json",
            recorded_on=DAY,
        )
        patients = {p.code: p.id for p in uow.session.query(Patient)}
        donors = {d.code: d.id for d in uow.session.query(Donor)}
        for code, cpra in (("q1", 0.0), ("q3", 0.5)):
            pair = uow.session.query(Pair).filter_by(patient_id=patients[code]).one()
            facts = PatientFacts(DAY, blood_group="O", anti_a_titre=4, cpra=cpra)
            record_patient_facts(
                uow, pair, facts, reason="titre measured", expected_version=pair.version
            )
    return (
        {c: f"P{i}" for c, i in patients.items()},
        {c: f"D{i}" for c, i in donors.items()},
    )


def test_abo_incompatible_and_new_donor_arcs_within_a_pool_file(scheme: Scheme) -> None:
    p, d = _import(scheme)
    run = run_matching(scheme.sessions, scheme.admin, read_policy("max-transplants"))
    assert run.transplants == 0
    ids = {code: int(key[1:]) for code, key in p.items()}
    with scheme.sessions() as session:
        # q1's antibodies are known (cPRA 0): e2 -> q1 is judged, closing q1 <-> q2
        answer = explain_run(session, run.run_id, ids["q1"], abo_incompatible_titre_max=8)
        (aboi,) = answer.what_if
        added = {(a.donor, a.patient) for a in aboi.instance.arcs}
        assert (d["e2"], p["q1"]) in added and (d["e3"], p["q1"]) in added
        assert aboi.matched_after is True and aboi.after.transplants == 2
        assert any("were judged from the facts recorded in the registry" in n for n in answer.notes)
        # q3's are not (cPRA 0.5, no typing): their combinations are left out, and said
        answer = explain_run(session, run.run_id, ids["q3"], abo_incompatible_titre_max=8)
        (aboi,) = answer.what_if
        assert all(a.patient != p["q3"] for a in aboi.instance.arcs)
        (note,) = [n for n in answer.notes if "not accepted: the file gives no arc" in n]
        assert note.startswith("accept ABO-incompatible transplants up to titre 8: 2 ")
        assert note.endswith(f"; for {p['q3']}: {d['e1']}, {d['e2']}")
        # a new O altruist gives to q1 and q2, not to q3 whose crossmatch cannot be judged
        donor = NewDonor("O", hla=("A2",), altruist=True)
        answer = explain_run(session, run.run_id, ids["q3"], new_donor=donor)
        (new,) = answer.what_if
        gives = {a.patient for a in new.instance.arcs if a.donor == NEW_DONOR_ID}
        assert gives == {p["q1"], p["q2"]}
        (note,) = [n for n in answer.notes if "no antibody record" in n]
        assert note.endswith(f"no arc to them ({p['q3']}), {p['q3']} among them")
