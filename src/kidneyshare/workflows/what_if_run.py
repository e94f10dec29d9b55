"""What-if changes to a stored run that need the registry's clinical facts: accepting
ABO-incompatible transplants up to an antibody titre, and a hypothetical new donor.

A run's snapshot keeps blood groups, not HLA typings, unacceptable antigens or titres, so
these changes are judged from the registry's facts, read as they were when the run was
made (facts are append-only: a correction supersedes, nothing is overwritten). That is
right only if those facts give the run's very snapshot, which is checked first: the
run's members with the facts in force at the run's creation, judged under the plain
rules, must give the stored snapshot byte for byte (same SHA-256). A run made under other
compatibility rules, or with a fact recorded while it was being made, is refused with the
first difference found. Pool members who joined or left since the run change nothing.

Each change comes with notes on what the registry could not say: anti-B titres are not
recorded (so no ABO-incompatible transplant needing one is accepted), a patient's
missing anti-A titre, a new donor without an HLA typing (the virtual crossmatch is then
not judged). They are shown with the explanation, never guessed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from kidneyshare.compatibility import (
    AboType,
    CompatibilityPolicy,
    DonorRecord,
    HlaTyping,
    PatientRecord,
    assess,
)
from kidneyshare.compatibility.abo import abo_compatibility
from kidneyshare.errors import KidneyshareError
from kidneyshare.formats import dump_native
from kidneyshare.matching.explain import AddArcs, AddDonor, Change, accept_abo_incompatible
from kidneyshare.model import Arc, Donor, DonorId, Instance, Patient, PatientId
from kidneyshare.registry.errors import RecordConflict, RecordInvalid
from kidneyshare.registry.models import MatchingRun
from kidneyshare.registry.runs import snapshot_digest
from kidneyshare.registry.snapshot import RebuiltSnapshot, rebuild_snapshot

__all__ = ["NEW_DONOR_ID", "JudgedChange", "NewDonor", "RunFacts"]

NEW_DONOR_ID = "new-donor"
"""The hypothetical donor's id in re-runs (registry donors are ``D<id>``)."""

_LISTED = 5  # ids named in a note before "and N more"


@dataclass(frozen=True, slots=True)
class NewDonor:
    """A hypothetical donor for a what-if re-run: a second donor for the patient asked
    about, or (``altruist``) a non-directed donor. ``hla`` ``None``: typing not known,
    so the virtual crossmatch is not judged (said in the notes)."""

    blood_group: str
    hla: tuple[str, ...] | None = None
    age: float | None = None
    altruist: bool = False

    @classmethod
    def parse(
        cls,
        blood_group: str,
        hla: str | None = None,
        *,
        age: float | None = None,
        altruist: bool = False,
    ) -> NewDonor:
        """The donor as typed: ``hla`` names separated by spaces or commas.

        Raises
        ------
        RecordInvalid
            as :meth:`record`.
        """
        typing = None if hla is None else tuple(hla.replace(",", " ").split())
        donor = cls(blood_group, typing, age, altruist)
        donor.record(None)
        return donor

    def record(self, patient: str | None) -> DonorRecord:
        """The donor's clinical record, giving for ``patient`` (``None``: an altruist).

        Raises
        ------
        RecordInvalid
            naming the service's parameter (``what_if_donor``, ``what_if_donor_hla``,
            ``what_if_donor_age``) whose value cannot be read.
        """
        with _field("what_if_donor"):
            abo = AboType.parse(self.blood_group, field="the blood group")
        with _field("what_if_donor_hla"):
            typing = None if self.hla is None else HlaTyping.parse(self.hla, field="the HLA")
        with _field("what_if_donor_age"):
            return DonorRecord(
                DonorId(NEW_DONOR_ID),
                abo,
                patient=None if patient is None else PatientId(patient),
                hla=typing,
                age=self.age,
            )


@contextmanager
def _field(name: str) -> Iterator[None]:
    """A library error reading a new donor's value as :class:`RecordInvalid` of ``name``."""
    try:
        yield
    except KidneyshareError as exc:
        raise RecordInvalid(str(exc), field=name) from exc


@dataclass(frozen=True, slots=True)
class JudgedChange:
    """A change for :func:`~kidneyshare.matching.explain.what_if` and the notes on what
    it could not judge (snapshot ids, ``P<id>``/``D<id>``)."""

    change: Change
    notes: tuple[str, ...] = ()


def _listed(ids: Sequence[str]) -> str:
    shown = ", ".join(ids[:_LISTED])
    return shown if len(ids) <= _LISTED else f"{shown} and {len(ids) - _LISTED} more"


def _first_difference(stored: Instance, rebuilt: Instance) -> str:
    ours: tuple[Patient | Donor, ...] = (*stored.patients, *stored.donors)
    theirs: tuple[Patient | Donor, ...] = (*rebuilt.patients, *rebuilt.donors)
    for a, b in zip(ours, theirs, strict=True):
        if a != b:
            return f"{a.id} differs ({a} in the run, {b} from the facts)"
    run_arcs = {(a.donor, a.patient): a for a in stored.arcs}
    fact_arcs = {(a.donor, a.patient): a for a in rebuilt.arcs}
    for key, arc in run_arcs.items():
        if key not in fact_arcs:
            return f"the run's arc {key[0]} -> {key[1]} is not given by the facts"
        if fact_arcs[key] != arc:
            return f"arc {key[0]} -> {key[1]} differs ({arc} in the run, {fact_arcs[key]})"
    extra = next(k for k in fact_arcs if k not in run_arcs)
    return f"the facts give the arc {extra[0]} -> {extra[1]}, which the run did not have"


class RunFacts:
    """A stored run's members with the clinical facts in force when it was made, checked
    once (on first use) to give the run's very snapshot."""

    def __init__(self, session: Session, run: MatchingRun, instance: Instance) -> None:
        self.session, self.run, self.instance = session, run, instance
        self._checked = False

    @property
    def at(self) -> datetime:
        return self.run.created_at

    def rebuilt(
        self, policy: CompatibilityPolicy, extra_donors: Sequence[DonorRecord] = ()
    ) -> RebuiltSnapshot:
        """The run's members judged under ``policy`` (with ``extra_donors``).

        Raises
        ------
        RecordConflict
            the facts recorded by the run's time do not give its snapshot.
        """
        if not self._checked:
            plain = rebuild_snapshot(self.session, self.instance, self.at)
            if snapshot_digest(dump_native(plain.instance)) != self.run.snapshot_sha256:
                raise RecordConflict(
                    f"matching run {self.run.id}: the clinical facts recorded by the run's "
                    f"time ({self.at:%Y-%m-%d %H:%M:%S} UTC) do not give its snapshot: "
                    f"{_first_difference(self.instance, plain.instance)}; it was judged under "
                    "other compatibility rules, or facts were recorded while it was being "
                    "made, so a re-run needing clinical facts cannot be judged"
                )
            self._checked = True
        return rebuild_snapshot(
            self.session, self.instance, self.at, policy, extra_donors=extra_donors
        )

    def abo_incompatible(self, titre_max: int, patient: str | None) -> JudgedChange:
        """The arcs gained by accepting ABO-incompatible transplants when every antibody
        against the donor's A/B antigens has a titre of at most ``titre_max``, with notes
        on the combinations left out for an unrecorded titre (``patient``: the one asked
        about, named in the notes).

        Raises
        ------
        RecordConflict
            as :meth:`rebuilt`.
        ModelError
            ``titre_max`` is not a whole number >= 0.
        """
        policy = CompatibilityPolicy(abo_incompatible_titre_max=titre_max)
        wider = self.rebuilt(policy)
        label = f"accept ABO-incompatible transplants up to titre {titre_max}"
        within, notes = _within_files(label, self.instance, wider, policy, patient)
        arcs = (*wider.instance.arcs, *within)
        change = accept_abo_incompatible(self.instance, lambda _: arcs)
        notes += _unknown_titres(label, wider, patient)
        notes += _no_blood_group(label, self.instance, "no ABO-incompatible combination")
        return JudgedChange(AddArcs(change.arcs, label), notes)

    def new_donor(
        self, donor: NewDonor, patient: str | None, titre_max: int | None = None
    ) -> JudgedChange:
        """A hypothetical donor for ``patient`` (or an altruist) and their arcs to the
        run's patients, judged from the facts of the run's time under the plain rules
        (``titre_max``: accepting ABO-incompatible transplants up to that titre).

        Raises
        ------
        RecordInvalid
            a field of the donor cannot be read, or a donor for a patient who was not in
            the run's pool.
        RecordConflict
            as :meth:`rebuilt`.
        """
        if not donor.altruist and patient is None:
            raise RecordInvalid(
                "the patient was not in the run's pool: a new donor can only be an altruist",
                field="what_if_donor_altruist",
            )
        record = donor.record(None if donor.altruist else patient)
        policy = CompatibilityPolicy(abo_incompatible_titre_max=titre_max)
        built = self.rebuilt(policy, [record])
        arcs = tuple(a for a in built.instance.arcs if a.donor == NEW_DONOR_ID)
        unknown = {p.id for p in built.patient_records if not _antibodies_known(p, built)}
        left_out = sorted(a.patient for a in arcs if a.patient in unknown)
        arcs = tuple(a for a in arcs if a.patient not in unknown)
        added = Donor(
            record.id, patient=record.patient, blood_group=record.abo.group, age=record.age
        )
        whose = "an altruist" if record.patient is None else f"for {record.patient}"
        article = "an" if record.abo.value[0] in "AO" else "a"
        label = f"add {article} {record.abo.value} donor ({whose})"
        if titre_max is not None:
            label += f" accepting ABO-incompatible transplants up to titre {titre_max}"
        notes = [f"{label}: gives to {len(arcs)} of the run's patients"]
        if record.hla is None:
            sensitised = sum(1 for p in built.patient_records if p.unacceptable)
            notes.append(
                f"{label}: no HLA typing given, so the virtual crossmatch was not judged "
                f"(taken as negative, also with the {sensitised} patients who have "
                "unacceptable antigens)"
            )
        if left_out:
            mine = f", {patient} among them" if patient in left_out else ""
            notes.append(
                f"{label}: {len(left_out)} patients read from pool files have no antibody "
                "record in the registry (no HLA typing, unacceptable antigens or cPRA of 0), "
                f"so the new donor's crossmatch with them cannot be judged and was not "
                f"taken as negative: no arc to them ({_listed(left_out)}){mine}"
            )
        notes += _no_blood_group(label, self.instance, "no arc to them")
        return JudgedChange(AddDonor(added, arcs), tuple(notes))


def _antibodies_known(patient: PatientRecord, pool: RebuiltSnapshot) -> bool:
    """Whether a virtual crossmatch with ``patient`` can be judged from the registry. A
    pool file gives arcs, not antibodies, so for a patient read from one an empty list of
    unacceptable antigens says nothing, unless their HLA typing (a work-up) or a cPRA of
    0 was recorded; a patient registered with facts has the antibodies recorded."""
    if pool.imports.get(patient.id) is None:
        return True
    return patient.hla is not None or bool(patient.unacceptable) or patient.cpra == 0


def _within_files(
    label: str,
    stored: Instance,
    pool: RebuiltSnapshot,
    policy: CompatibilityPolicy,
    patient: str | None,
) -> tuple[list[Arc], tuple[str, ...]]:
    """ABO-incompatible combinations between people read from the same pool file, which
    the snapshot takes from the file and so :func:`rebuild_snapshot` does not re-judge:
    the arcs judged from the registry's facts, and notes on those that could not be.

    Only a combination without an arc in the file whose blood groups are incompatible
    under the plain rule and accepted under ``policy`` is in question (the file left an
    ABO-compatible one out for another reason, which the facts cannot overrule). The file
    does not say whether blood groups alone left it out: it is judged (ABO under
    ``policy``, virtual crossmatch, the compatibility score as its weight, as for
    registered people) when the patient's antibodies are known (:func:`_antibodies_known`)
    and, if they have any, the donor's HLA typing too; otherwise it is left out and
    counted in a note."""
    in_file = {(a.donor, a.patient) for a in stored.arcs}
    plain = CompatibilityPolicy()
    judged: list[Arc] = []
    unjudged: list[tuple[str, str]] = []
    for p in pool.patient_records:
        source = pool.imports.get(p.id)
        if source is None:
            continue
        known = _antibodies_known(p, pool)
        for d in pool.donor_records:
            if pool.imports.get(d.id) != source or d.patient == p.id:
                continue
            titres = {"anti_a_titre": p.anti_a_titre, "anti_b_titre": p.anti_b_titre}
            if (d.id, p.id) in in_file or abo_compatibility(
                d.abo, p.abo, plain, **titres
            ).compatible:
                continue
            verdict = assess(d, p, policy)
            if not verdict.compatibility.abo.compatible:
                continue  # refused by the titre rule: said by _unknown_titres
            if not known or (d.hla is None and p.unacceptable):
                unjudged.append((d.id, p.id))
            elif verdict.is_arc and verdict.score is not None:
                judged.append(Arc(d.id, p.id, weight=verdict.score.total))
    notes = []
    if judged:
        notes.append(
            f"{label}: {len(judged)} combinations between people read from the same pool "
            "file, not arcs in the file, were judged from the facts recorded in the "
            "registry (blood groups and antibodies), taking the file to have left them "
            "out for their blood groups alone"
        )
    if unjudged:
        theirs = [d for d, p in unjudged if p == patient]
        mine = f"; for {patient}: {_listed(theirs)}" if theirs else ""
        notes.append(
            f"{label}: {len(unjudged)} ABO-incompatible combinations between people read "
            "from the same pool file were not accepted: the file gives no arc and does not "
            "say whether their blood groups alone left it out, and the registry has no "
            "antibody record for the patient (no HLA typing, unacceptable antigens or cPRA "
            f"of 0) or no HLA typing for the donor to judge the crossmatch by{mine}"
        )
    return judged, tuple(notes)


def _no_blood_group(label: str, stored: Instance, consequence: str) -> tuple[str, ...]:
    """A note on the run's people with no recorded blood group (pool files without
    them, such as PrefLib's), whom nothing ABO can be judged for."""
    patients = [p.id for p in stored.patients if p.blood_group is None]
    donors = [d.id for d in stored.donors if d.blood_group is None]
    if not patients and not donors:
        return ()
    return (
        f"{label}: {len(patients)} patients and {len(donors)} donors of the run have no "
        f"recorded blood group (read from a pool file without them), so {consequence} "
        "could be judged for them",
    )


def _unknown_titres(label: str, pool: RebuiltSnapshot, patient: str | None) -> tuple[str, ...]:
    """Notes on the ABO-incompatible combinations not accepted because a titre they need
    is not recorded: anti-B titres never are, anti-A titres for some patients."""
    needs_b: list[tuple[str, str]] = []
    needs_a: Counter[str] = Counter()
    for p in pool.patient_records:
        for d in pool.donor_records:
            if d.patient == p.id:
                continue
            missing = d.abo.antigens - p.abo.antigens
            if "B" in missing:
                needs_b.append((d.id, p.id))
            elif "A" in missing and p.anti_a_titre is None:
                needs_a[p.id] += 1
    notes = []
    if needs_b:
        theirs = [d for d, p in needs_b if p == patient]
        mine = f"; for {patient}: {_listed(theirs)}" if theirs else ""
        notes.append(
            f"{label}: anti-B titres are not recorded in the registry, so the "
            f"{len(needs_b)} combinations needing one (a B or AB donor to an O or A patient) "
            f"were not accepted{mine}"
        )
    if needs_a:
        who = sorted(needs_a, key=lambda p: (p != patient, p))
        notes.append(
            f"{label}: no anti-A titre recorded for {len(needs_a)} patients "
            f"({_listed(who)}), so their {sum(needs_a.values())} combinations needing one "
            "were not accepted"
        )
    return tuple(notes)
