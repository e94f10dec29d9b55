"""ABO rules: every donor subgroup against every patient group, and every policy switch."""

from __future__ import annotations

import pytest

from kidneyshare.compatibility import AboType, CompatibilityPolicy, abo_compatibility
from kidneyshare.errors import ConfigError, ModelError
from kidneyshare.model import BloodGroup

PLAIN = CompatibilityPolicy()

# donor type -> the patient groups the plain rule allows
PLAIN_ALLOWED = {
    "O": {"O", "A", "B", "AB"},
    "A": {"A", "AB"},
    "A1": {"A", "AB"},
    "A2": {"A", "AB"},
    "B": {"B", "AB"},
    "AB": {"AB"},
    "A1B": {"AB"},
    "A2B": {"AB"},
}


@pytest.mark.parametrize("donor", list(PLAIN_ALLOWED))
@pytest.mark.parametrize("patient", ["O", "A", "B", "AB"])
def test_plain_rule_for_every_donor_subgroup_and_patient_group(donor: str, patient: str) -> None:
    verdict = abo_compatibility(AboType(donor), AboType(patient), PLAIN, anti_a_titre=2)
    expected = patient in PLAIN_ALLOWED[donor]
    assert verdict.compatible is expected
    assert verdict.rule.startswith(f"{donor} donor to {patient} patient, ")
    if not expected:
        assert verdict.rule.endswith("ABO incompatible")
    elif AboType(donor).group.value == patient:
        assert verdict.rule.endswith("ABO identical")
    else:
        assert verdict.rule.endswith("ABO compatible")


def test_the_plain_rule_agrees_with_the_model_blood_group_rule() -> None:
    for donor in AboType:
        for patient in BloodGroup:
            verdict = abo_compatibility(donor, AboType.parse(patient), PLAIN)
            assert verdict.compatible is donor.group.can_donate_to(patient)


A2 = CompatibilityPolicy(a2_rule=True)
A2_16 = CompatibilityPolicy(a2_rule=True, a2_titre_max=16)
ABOI_64 = CompatibilityPolicy(abo_incompatible_titre_max=64)
BOTH = CompatibilityPolicy(a2_rule=True, abo_incompatible_titre_max=64)

# donor, patient, policy, anti-A, anti-B, compatible, exact rule
POLICY_CASES = [
    ("A2", "O", A2, 4, None, True, "A2 donor to O patient, anti-A titre 4 <= 8"),
    ("A2", "O", A2, 8, None, True, "A2 donor to O patient, anti-A titre 8 <= 8"),
    ("A2", "O", A2, 0, None, True, "A2 donor to O patient, anti-A titre 0 <= 8"),
    (
        "A2",
        "O",
        A2,
        16,
        None,
        False,
        "A2 donor to O patient, ABO incompatible (A2 rule not met: anti-A titre 16 > 8)",
    ),
    (
        "A2",
        "O",
        A2,
        None,
        None,
        False,
        "A2 donor to O patient, ABO incompatible (A2 rule not met: anti-A titre unknown)",
    ),
    ("A2", "O", A2_16, 16, None, True, "A2 donor to O patient, anti-A titre 16 <= 16"),
    ("A2", "B", A2, 2, None, True, "A2 donor to B patient, anti-A titre 2 <= 8"),
    ("A2B", "B", A2, 4, None, True, "A2B donor to B patient, anti-A titre 4 <= 8"),
    ("A2B", "O", A2, 2, 2, False, "A2B donor to O patient, ABO incompatible"),
    ("A2B", "A", A2, 2, 2, False, "A2B donor to A patient, ABO incompatible"),
    ("A1", "O", A2, 2, None, False, "A1 donor to O patient, ABO incompatible"),
    ("A", "O", A2, 2, None, False, "A donor to O patient, ABO incompatible"),
    ("A2", "O", PLAIN, 2, None, False, "A2 donor to O patient, ABO incompatible"),
    ("A2", "A", A2, 64, None, True, "A2 donor to A patient, ABO identical"),
    (
        "A",
        "O",
        ABOI_64,
        32,
        None,
        True,
        "A donor to O patient, ABO-incompatible transplant: anti-A titre 32 <= 64",
    ),
    (
        "B",
        "A",
        ABOI_64,
        None,
        64,
        True,
        "B donor to A patient, ABO-incompatible transplant: anti-B titre 64 <= 64",
    ),
    (
        "AB",
        "O",
        ABOI_64,
        16,
        8,
        True,
        "AB donor to O patient, ABO-incompatible transplant: anti-A titre 16 <= 64, "
        "anti-B titre 8 <= 64",
    ),
    (
        "AB",
        "O",
        ABOI_64,
        16,
        128,
        False,
        "AB donor to O patient, ABO incompatible (ABO-incompatible limit not met: "
        "anti-A titre 16 <= 64, anti-B titre 128 > 64)",
    ),
    (
        "B",
        "O",
        ABOI_64,
        2,
        None,
        False,
        "B donor to O patient, ABO incompatible (ABO-incompatible limit not met: "
        "anti-B titre unknown)",
    ),
    (
        "A2",
        "O",
        BOTH,
        32,
        None,
        True,
        "A2 donor to O patient, ABO-incompatible transplant: anti-A titre 32 <= 64",
    ),
    (
        "A2",
        "O",
        BOTH,
        128,
        None,
        False,
        "A2 donor to O patient, ABO incompatible (A2 rule not met: anti-A titre 128 > 8; "
        "ABO-incompatible limit not met: anti-A titre 128 > 64)",
    ),
]


@pytest.mark.parametrize(
    ("donor", "patient", "policy", "anti_a", "anti_b", "compatible", "rule"), POLICY_CASES
)
def test_policy_cases(
    donor: str,
    patient: str,
    policy: CompatibilityPolicy,
    anti_a: int | None,
    anti_b: int | None,
    compatible: bool,
    rule: str,
) -> None:
    verdict = abo_compatibility(
        AboType.parse(donor),
        AboType.parse(patient),
        policy,
        anti_a_titre=anti_a,
        anti_b_titre=anti_b,
    )
    assert (verdict.compatible, verdict.rule) == (compatible, rule)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("o", AboType.O), (" a2 ", AboType.A2), ("A1B", AboType.A1B), (BloodGroup.AB, AboType.AB)],
)
def test_abo_parse(text: object, expected: AboType) -> None:
    assert AboType.parse(text) is expected


@pytest.mark.parametrize("text", ["A3", "0", "", "AB2", None, 1])
def test_abo_parse_rejects_other_values(text: object) -> None:
    with pytest.raises(ModelError, match="donor abo: unknown ABO group"):
        AboType.parse(text, field="donor abo")


def test_subgroups_map_to_groups_and_antigens() -> None:
    assert AboType.A2B.group is BloodGroup.AB
    assert AboType.A1.antigens == {"A"}
    assert AboType.O.antigens == frozenset()
    assert AboType.A2.weak_a and AboType.A2B.weak_a and not AboType.A.weak_a


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"a2_titre_max": -1}, "a2_titre_max"),
        ({"a2_titre_max": 2.5}, "a2_titre_max"),
        ({"abo_incompatible_titre_max": True}, "abo_incompatible_titre_max"),
        ({"a2_rule": "yes"}, "a2_rule"),
    ],
)
def test_policy_rejects_bad_values(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(ConfigError, match=field):
        CompatibilityPolicy(**kwargs)  # type: ignore[arg-type]
