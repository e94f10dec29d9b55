"""The pool builder: arcs from clinical records, each combination explained, and the
properties an operator relies on."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kidneyshare.compatibility import (
    AboType,
    CompatibilityPolicy,
    judge,
    parse_hla_name,
    virtual_crossmatch,
)
from kidneyshare.compatibility.builder import assess, build_pool, latest_record_date
from kidneyshare.compatibility.records import ClinicalPool, DonorRecord, HlaTyping, PatientRecord
from kidneyshare.errors import InstanceError
from kidneyshare.model import DonorId, PatientId, describe


def typing(text: str) -> HlaTyping:
    return HlaTyping.parse(text, field="t")


def unacceptable(text: str) -> tuple:
    return typing(text).specificities


def small_pool() -> ClinicalPool:
    patients = (
        PatientRecord(
            PatientId("p1"),
            AboType.O,
            hla=typing("A1 A2 B8 B7 DR17 DR15"),
            unacceptable=unacceptable("A9 DQ7"),
            cpra=0.62,
            age=47,
            anti_a_titre=4,
            registered=date(2025, 2, 1),
            recorded=date(2026, 11, 1),
        ),
        PatientRecord(
            PatientId("p2"),
            AboType.A,
            hla=typing("A*24:02 A3 B44 B35 DR4 DR11"),
            unacceptable=(),
            age=30,
            registered=date(2026, 1, 1),
        ),
        PatientRecord(PatientId("p3"), AboType.B, unacceptable=unacceptable("B44"), age=60),
    )
    donors = (
        DonorRecord(
            DonorId("d1"),
            AboType.A2,
            PatientId("p1"),
            hla=typing("A*02:01 A24 B7 B*44:03 DR4 DRB1*15:01"),
            age=52,
        ),
        DonorRecord(
            DonorId("d2"), AboType.B, PatientId("p2"), typing("A1 A3 B8 B35 DR17 DR11"), 35
        ),
        DonorRecord(DonorId("d3"), AboType.A1, PatientId("p3"), typing("A2 A11 B44 B62 DR4 DR7")),
        DonorRecord(DonorId("a1"), AboType.O, None, typing("A1 A2 B8 B44 DR17 DR4"), 40),
    )
    return ClinicalPool(patients, donors, name="tiny")


def test_small_pool_arcs_and_reasons() -> None:
    built = build_pool(small_pool(), CompatibilityPolicy(a2_rule=True))
    arcs = {(a.donor, a.patient): a.weight for a in built.instance.arcs}
    assert arcs == {
        ("a1", "p1"): 82,
        ("d1", "p2"): 68.3,
        ("d3", "p2"): 63.3,
        ("a1", "p2"): 73.3,
        ("d2", "p3"): 55,
    }
    assert built.instance.name == "tiny"
    assert built.instance.patient("p1").cpra == 0.62
    assert built.instance.donor("d1").blood_group.value == "A"
    excluded = built.why("a1", "p3")
    assert not excluded.is_arc
    assert excluded.reasons() == [
        "ABO: compatible (O donor to B patient, ABO compatible)",
        "virtual crossmatch: positive: B44",
    ]
    arc = built.why("a1", "p1")
    assert arc.summary() == "a1 -> p1: arc, weight 82"
    assert arc.reasons()[2:] == [
        "HLA mismatch: 0-1-1 (level 3)",
        "score: 82 = 50 base + 10 HLA mismatch + 5 sensitisation + 7 waiting + 10 age difference",
    ]
    own = built.why("d1", "p1")
    assert own.own_donor and not own.is_arc
    assert own.reasons()[1] == "virtual crossmatch: positive: A24 (split of A9)"
    unknown = built.why("d2", "p3")
    assert unknown.reasons()[2] == "HLA mismatch: unknown (A, B or DR typing missing)"
    assert built.exclusions == {"abo": 2, "crossmatch": 1, "abo_and_crossmatch": 1, "declined": 0}
    assert latest_record_date(small_pool()) == date(2026, 11, 1)


def test_a_declined_donor_is_compatible_but_no_arc_and_says_why() -> None:
    pool = small_pool()
    p2 = dataclasses.replace(pool.patients[1], declined_donors=(DonorId("d3"), DonorId("a1")))
    built = build_pool(
        ClinicalPool((pool.patients[0], p2, pool.patients[2]), pool.donors),
        CompatibilityPolicy(a2_rule=True),
    )
    arcs = {(a.donor, a.patient) for a in built.instance.arcs}
    assert arcs == {("a1", "p1"), ("d1", "p2"), ("d2", "p3")}
    declined = built.why("d3", "p2")
    assert declined.compatibility.compatible and declined.declined and not declined.is_arc
    assert declined.summary() == "d3 -> p2: no arc"
    assert declined.reasons()[-1] == (
        "declined by the patient's centre: the donor is on the patient's do-not-match list"
    )
    assert declined.to_json()["declined"] is True and declined.to_json()["arc"] is False
    assert built.exclusions["declined"] == 2
    assert not built.why("d1", "p2").declined


def test_a_declined_donor_must_be_in_the_pool() -> None:
    pool = small_pool()
    p2 = dataclasses.replace(pool.patients[1], declined_donors=(DonorId("d9"),))
    with pytest.raises(InstanceError, match="p2: declined_donors names unknown donor d9"):
        ClinicalPool((pool.patients[0], p2, pool.patients[2]), pool.donors)


def test_without_the_a2_rule_the_a2_donor_loses_nothing_else_but_its_o_patients() -> None:
    plain = build_pool(small_pool())
    assert plain.why("d1", "p1").compatibility.abo.rule == "A2 donor to O patient, ABO incompatible"


def test_crossmatch_not_judged_when_facts_are_missing() -> None:
    pool = small_pool()
    patients = (dataclasses.replace(pool.patients[0], unacceptable=None), *pool.patients[1:])
    built = build_pool(ClinicalPool(patients, pool.donors))
    assert built.why("a1", "p1").reasons()[1] == (
        "virtual crossmatch: not judged (the patient's unacceptable antigens are not known)"
    )
    donors = (*pool.donors[:3], dataclasses.replace(pool.donors[3], hla=None))
    built = build_pool(ClinicalPool(pool.patients, donors))
    assert built.why("a1", "p3").reasons()[1] == (
        "virtual crossmatch: not judged (the donor's HLA typing is not known)"
    )


def test_why_names_unknown_people() -> None:
    built = build_pool(small_pool())
    with pytest.raises(InstanceError, match="unknown donor d9"):
        built.why("d9", "p1")
    with pytest.raises(InstanceError, match="unknown patient p9"):
        built.why("d1", "p9")


def test_cpra_override_reaches_patients_and_scores() -> None:
    built = build_pool(small_pool(), cpra={PatientId("p2"): 0.97})
    assert built.instance.patient("p2").cpra == 0.97
    assert built.why("a1", "p2").score.sensitisation == 25  # type: ignore[union-attr]


# -- properties on random small pools ----------------------------------------------------

NAMES = [
    "A1", "A2", "A3", "A9", "A24", "A*24:02", "A*24", "A*02:01", "A11", "A2403",
    "B7", "B8", "B12", "B44", "B*44:03", "B15", "B62", "B*15", "Bw4", "Bw6",
    "Cw7", "C*03:04", "DR4", "DR2", "DR15", "DRB1*15:01", "DR17", "DR3", "DR52",
    "DQ7", "DQ3", "DQB1*03:01", "DPB1*04:01", "DR53", "DR51", "DR7", "DRB4*01:01",
]  # fmt: skip
hla_lists = st.lists(st.sampled_from(NAMES), max_size=6).map(
    lambda names: tuple(dict.fromkeys(parse_hla_name(n) for n in names))
)
titres = st.one_of(st.none(), st.sampled_from([0, 2, 4, 8, 16, 64, 256]))
abo_types = st.sampled_from(list(AboType))
policies = st.builds(
    CompatibilityPolicy,
    a2_rule=st.booleans(),
    a2_titre_max=st.sampled_from([4, 8, 16]),
    abo_incompatible_titre_max=st.one_of(st.none(), st.sampled_from([16, 64])),
)


@st.composite
def clinical_pools(draw: st.DrawFn) -> ClinicalPool:
    n = draw(st.integers(1, 5))
    patients = []
    donors = []
    for i in range(1, n + 1):
        hla = draw(st.one_of(st.none(), hla_lists))
        patients.append(
            PatientRecord(
                PatientId(f"p{i}"),
                draw(abo_types),
                hla=None if hla is None else HlaTyping(hla),
                unacceptable=draw(st.one_of(st.none(), hla_lists)),
                cpra=draw(st.one_of(st.none(), st.floats(0, 1))),
                age=draw(st.one_of(st.none(), st.integers(18, 80))),
                anti_a_titre=draw(titres),
                anti_b_titre=draw(titres),
            )
        )
        for j in range(draw(st.integers(1, 2))):
            donor_hla = draw(st.one_of(st.none(), hla_lists))
            donors.append(
                DonorRecord(
                    DonorId(f"d{i}_{j}"),
                    draw(abo_types),
                    PatientId(f"p{i}"),
                    hla=None if donor_hla is None else HlaTyping(donor_hla),
                    age=draw(st.one_of(st.none(), st.integers(18, 80))),
                )
            )
    for k in range(draw(st.integers(0, 2))):
        donors.append(
            DonorRecord(DonorId(f"a{k}"), draw(abo_types), None, HlaTyping(draw(hla_lists)))
        )
    ids = [d.id for d in donors]
    patients = [
        dataclasses.replace(
            p, declined_donors=tuple(draw(st.lists(st.sampled_from(ids), max_size=2, unique=True)))
        )
        for p in patients
    ]
    return ClinicalPool(tuple(patients), tuple(donors))


@settings(max_examples=150, deadline=None)
@given(clinical_pools(), policies, st.data())
def test_adding_an_unacceptable_antigen_never_adds_an_arc(
    pool: ClinicalPool, policy: CompatibilityPolicy, data: st.DataObject
) -> None:
    index = data.draw(st.integers(0, len(pool.patients) - 1))
    extra = parse_hla_name(data.draw(st.sampled_from(NAMES)))
    patient = pool.patients[index]
    more = dataclasses.replace(patient, unacceptable=(*(patient.unacceptable or ()), extra))
    patients = (*pool.patients[:index], more, *pool.patients[index + 1 :])
    before = {(a.donor, a.patient) for a in build_pool(pool, policy).instance.arcs}
    after = {
        (a.donor, a.patient)
        for a in build_pool(ClinicalPool(patients, pool.donors), policy).instance.arcs
    }
    assert after <= before


@settings(max_examples=150, deadline=None)
@given(clinical_pools(), policies)
def test_every_combination_is_assessed_exactly_as_judge_would(
    pool: ClinicalPool, policy: CompatibilityPolicy
) -> None:
    built = build_pool(pool, policy)
    assert len(list(built.assessments())) == len(pool.patients) * len(pool.donors)
    arcs = {(a.donor, a.patient): a.weight for a in built.instance.arcs}
    for donor in pool.donors:
        for patient in pool.patients:
            assessment = built.why(donor.id, patient.id)
            verdict = judge(
                donor.abo,
                patient.abo,
                policy,
                anti_a_titre=patient.anti_a_titre,
                anti_b_titre=patient.anti_b_titre,
                donor_hla=None if donor.hla is None else donor.hla.specificities,
                unacceptable=patient.unacceptable,
            )
            assert assessment.compatibility == verdict
            own = donor.patient == patient.id
            assert assessment.own_donor is own
            declined = donor.id in patient.declined_donors
            assert assessment.declined is declined
            # a compatible pair's own donor -> patient is reported compatible, but is no arc
            assert assessment.compatibility.compatible is verdict.compatible
            assert ((donor.id, patient.id) in arcs) is (
                verdict.compatible and not own and not declined
            )
            if (donor.id, patient.id) in arcs:
                assert assessment.score is not None
                assert arcs[(donor.id, patient.id)] == assessment.score.total
            assert assessment.reasons()


@settings(max_examples=60, deadline=None)
@given(clinical_pools())
def test_builder_crossmatch_equals_virtual_crossmatch(pool: ClinicalPool) -> None:
    built = build_pool(pool)
    for assessment in built.assessments():
        donor = next(d for d in pool.donors if d.id == assessment.donor)
        patient = next(p for p in pool.patients if p.id == assessment.patient)
        if donor.hla is None or patient.unacceptable is None:
            assert assessment.compatibility.crossmatch is None
        else:
            expected = virtual_crossmatch(donor.hla.specificities, patient.unacceptable)
            assert assessment.compatibility.crossmatch == expected
    assert describe(built.instance).own_donor_arcs == 0


@settings(max_examples=150, deadline=None)
@given(clinical_pools(), policies, st.data())
def test_assessments_from_the_tables_equal_assess(
    pool: ClinicalPool, policy: CompatibilityPolicy, data: st.DataObject
) -> None:
    """``BuiltPool.assessments`` (crossmatch texts looked up in the pool's tables, ABO
    judged once per groups and titres) gives exactly :func:`assess` of every combination,
    in patient-then-donor record order, also with a cPRA override and an 'as of' date."""
    cpra = {p.id: data.draw(st.floats(0, 1)) for p in pool.patients[:2]}
    built = build_pool(pool, policy, as_of=date(2026, 6, 1), cpra=cpra)
    expected = [
        assess(donor, patient, policy, built.context)
        for patient in pool.patients
        for donor in pool.donors
    ]
    assert list(built.assessments()) == expected
    without_tables = dataclasses.replace(built, conflicts=None)
    assert list(without_tables.assessments()) == expected
