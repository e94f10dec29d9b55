"""Clinical records: value validation, the records.json form (round trip, schema, every
kind of malformed input named by field), HLA mismatch levels and the score."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import jsonschema
import pytest

from kidneyshare.compatibility import AboType
from kidneyshare.compatibility.mismatch import HlaMismatch, hla_mismatch
from kidneyshare.compatibility.records import (
    ClinicalPool,
    DonorRecord,
    HlaTyping,
    PatientRecord,
    Sex,
)
from kidneyshare.compatibility.records_json import (
    dump_records,
    parse_records,
    read_records,
    records_schema,
    write_records,
)
from kidneyshare.compatibility.score import ScoringScheme, score_transplant
from kidneyshare.errors import ConfigError, FormatError, InstanceError, ModelError
from kidneyshare.model import DonorId, PatientId

SCHEMA_FILE = (
    Path(__file__).resolve().parents[1]
    / "src"
    / "kidneyshare"
    / "schemas"
    / "clinical-records-v1.schema.json"
)

RECORDS = {
    "format": "kidneyshare-clinical",
    "version": 1,
    "name": "tiny",
    "patients": [
        {
            "id": "p1",
            "abo": "O",
            "hla": ["A1", "A2", "B8", "B7", "DR17", "DR15"],
            "unacceptable": ["A9", "DQ7"],
            "cpra": 0.62,
            "age": 47,
            "sex": "F",
            "anti_a_titre": 4,
            "centre": "LON",
            "registered": "2025-02-01",
            "recorded": "2026-11-01",
            "antibodies_recorded": "2026-10-12",
            "declined_donors": ["a1"],
        },
        {"id": "p2", "abo": "A", "unacceptable": []},
    ],
    "donors": [
        {
            "id": "d1",
            "patient": "p1",
            "abo": "A2",
            "hla": ["A*02:01", "A24", "B7", "B*44:03", "DR4", "DRB1*15:01", "DQB1*06:02"],
            "age": 52,
            "sex": "M",
            "egfr": 96,
            "centre": "LON",
            "recorded": "2026-11-01",
        },
        {"id": "d2", "patient": "p2", "abo": "B"},
        {"id": "a1", "abo": "O", "hla": ["A1", "B8", "DR17"]},
    ],
}


def text(document: object) -> str:
    return json.dumps(document)


def test_records_read_into_value_objects() -> None:
    pool = parse_records(text(RECORDS), "r.json")
    p1 = pool.patients[0]
    assert p1.abo is AboType.O and p1.sex is Sex.FEMALE
    assert [u.name for u in p1.unacceptable or ()] == ["A9", "DQ7"]
    assert p1.registered == date(2025, 2, 1)
    assert p1.declined_donors == ("a1",) and pool.patients[1].declined_donors == ()
    assert pool.patients[1].unacceptable == () and pool.patients[1].hla is None
    d1 = pool.donors[0]
    assert d1.abo is AboType.A2 and d1.egfr == 96
    assert d1.hla is not None and d1.hla.names[0] == "A*02:01"
    assert pool.donors[2].patient is None


def test_dump_then_parse_is_the_same_pool(tmp_path: Path) -> None:
    pool = parse_records(text(RECORDS))
    assert parse_records(dump_records(pool)) == pool
    path = tmp_path / "out.json"
    write_records(pool, path)
    assert read_records(path) == pool
    assert not list(tmp_path.glob(".*.tmp"))


def test_shipped_schema_is_the_generated_one_and_accepts_the_records() -> None:
    shipped = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    assert shipped == records_schema()
    jsonschema.validate(RECORDS, shipped)
    bad = {**RECORDS, "patients": [{"id": "p1", "abo": "Z"}]}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, shipped)


def mutated(path: list[object], value: object) -> str:
    document = json.loads(text(RECORDS))
    target = document
    for step in path[:-1]:
        target = target[step]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return text(document)


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        (["patients", 0, "cpra"], 1.5, "r.json, patients[0].cpra: Input should be less than"),
        (["patients", 0, "cpra"], "0.5", "r.json, patients[0].cpra: Input should be a valid"),
        (["patients", 0, "age"], -1, "r.json, patients[0].age: Input should be greater"),
        (["patients", 0, "abo"], "C", "r.json, patients[0].abo: Input should be 'O'"),
        (["patients", 0, "abo"], KeyError, "r.json, patients[0].abo: Field required"),
        (["patients", 0, "sex"], "X", "r.json, patients[0].sex: Input should be 'F' or 'M'"),
        (["patients", 0, "anti_a_titre"], 2.5, "r.json, patients[0].anti_a_titre: Input"),
        (["patients", 0, "registered"], "2025-02-30", "r.json, patients[0].registered: Input"),
        (
            ["patients", 0, "unacceptable"],
            ["A9", "A*99:01"],
            "r.json, patients[0].unacceptable: 'A*99",
        ),
        (["patients", 0, "hla"], "A1 A2", "r.json, patients[0].hla: Input should be a valid array"),
        (["patients", 0, "colour"], "red", "r.json, patients[0].colour: Extra inputs"),
        (["donors", 0, "hla"], ["A*0201"], "r.json, donors[0].hla: 'A*0201': fields must"),
        (["donors", 0, "egfr"], 300, "r.json, donors[0].egfr: Input should be less than"),
        (["donors", 1, "patient"], "p9", "r.json: donor d2: paired with unknown patient p9"),
        (["donors", 2, "id"], "d1", "r.json: donor d1: duplicate donor id"),
        (["donors", 1, "patient"], None, "r.json: patient p2: has no donor"),
        (["format"], "kidneyshare", "r.json, format: Input should be 'kidneyshare-clinical'"),
        (["version"], 2, "r.json, version: Input should be 1, found 2"),
        (["patients"], KeyError, "r.json, patients: Field required"),
        (["patients", 0, "centre"], "  ", "r.json, patients[0]: patient p1 centre: expected"),
        (["patients", 0, "id"], " p1", "r.json, patients[0]: patient id: expected a non-empty"),
        (
            ["patients", 0, "declined_donors"],
            ["d9"],
            "r.json: patient p1: declined_donors names unknown donor d9",
        ),
        (
            ["patients", 0, "declined_donors"],
            ["a1", "a1"],
            "r.json, patients[0]: patient p1 declined_donors: a donor is listed twice",
        ),
        (
            ["patients", 0, "declined_donors"],
            "a1",
            "r.json, patients[0].declined_donors: Input should be a valid array",
        ),
    ],
)
def test_malformed_records_name_file_and_field(
    path: list[object], value: object, expected: str
) -> None:
    with pytest.raises(FormatError) as caught:
        parse_records(mutated(path, value), "r.json")
    assert str(caught.value).startswith(expected)


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ("", "r.json: malformed JSON"),
        ('{"format": ', "r.json: malformed JSON"),
        ("[]", "r.json, top level: Input should be an object"),
    ],
)
def test_not_json_or_not_an_object(document: str, expected: str) -> None:
    with pytest.raises(FormatError) as caught:
        parse_records(document, "r.json")
    assert str(caught.value).startswith(expected)


def test_value_objects_validate_their_fields() -> None:
    with pytest.raises(ModelError, match="patient p1 cpra: expected a fraction"):
        PatientRecord(PatientId("p1"), AboType.O, cpra=2)
    with pytest.raises(ModelError, match="patient p1 anti_a_titre"):
        PatientRecord(PatientId("p1"), AboType.O, anti_a_titre=-2)
    with pytest.raises(ModelError, match="donor d1 egfr"):
        DonorRecord(DonorId("d1"), AboType.O, egfr=float("nan"))
    with pytest.raises(ModelError, match="donor d1 abo: expected an AboType"):
        DonorRecord(DonorId("d1"), "O")  # type: ignore[arg-type]
    with pytest.raises(ModelError, match="sex: unknown sex 'X'"):
        Sex.parse("X", field="sex")
    assert Sex.parse("female", field="sex") is Sex.FEMALE
    with pytest.raises(InstanceError, match="duplicate patient id"):
        p = PatientRecord(PatientId("p1"), AboType.O)
        ClinicalPool((p, p), (DonorRecord(DonorId("d1"), AboType.O, PatientId("p1")),))


def test_typing_by_gene() -> None:
    typing = HlaTyping.parse("A1 A*02:01 B8 Cw7 DR17 DRB3*01:01 DQ2 DPB1*04:01", field="t")
    assert [s.name for s in typing.at("DRB1", "DRB3")] == ["DR17", "DRB3*01:01"]
    assert [s.name for s in typing.at("DPB1")] == ["DPB1*04:01"]


# -- HLA mismatch and levels ------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "dr", "level"),
    [
        (0, 0, 0, 1),
        (1, 0, 0, 2),
        (2, 0, 0, 2),
        (0, 1, 0, 2),
        (2, 1, 0, 2),
        (0, 2, 0, 3),
        (2, 2, 0, 3),
        (0, 0, 1, 3),
        (2, 1, 1, 3),
        (0, 2, 1, 4),
        (0, 0, 2, 4),
        (2, 2, 2, 4),
    ],
)
def test_nhsbt_levels(a: int, b: int, dr: int, level: int) -> None:
    assert HlaMismatch(a, b, dr).level == level


@pytest.mark.parametrize(
    ("donor", "patient", "expected"),
    [
        ("A1 A2 B8 B7 DR17 DR15", "A1 A2 B8 B7 DR17 DR15", "0-0-0"),
        ("A1 A24 B8 B44 DR17 DR4", "A1 A9 B8 B7 DR3 DR15", "0-1-1"),  # A24 matches A9, DR17 DR3
        (
            "A*01:01 A*24:02 B*08:01 B*44:02 DRB1*03:01 DRB1*04:01",
            "A1 A24 B8 B44 DR17 DR4",
            "0-0-0",
        ),
        ("A2 B7 DR4", "A1 A3 B8 B35 DR7 DR11", "1-1-1"),  # homozygous donor: one each
        ("A2 A3 B7 B8 DR4 DR7", "A1 A11 B35 B44 DR11 DR13", "2-2-2"),
        ("A2 B7 DR4", "A1 B8", None),  # patient not typed at DR
    ],
)
def test_mismatch_counts(donor: str, patient: str, expected: str | None) -> None:
    found = hla_mismatch(HlaTyping.parse(donor, field="d"), HlaTyping.parse(patient, field="p"))
    assert (None if found is None else str(found)) == expected


# -- the points scheme ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mismatch", "cpra", "years", "donor_age", "patient_age", "parts"),
    [
        (HlaMismatch(0, 0, 0), 0.99, 10, 40, 40, (50, 30, 25, 20, 10)),
        (HlaMismatch(1, 1, 0), 0.9, 2, 50, 35, (50, 20, 15, 8, 10)),
        (HlaMismatch(0, 2, 0), 0.5, 0, 60, 35, (50, 10, 5, 0, 5)),
        (HlaMismatch(2, 2, 2), 0.49, 1, 70, 30, (50, 0, 0, 4, 0)),
        (None, None, None, None, 30, (50, 0, 0, 0, 0)),
    ],
)
def test_score_parts(
    mismatch: HlaMismatch | None,
    cpra: float | None,
    years: int | None,
    donor_age: float | None,
    patient_age: float | None,
    parts: tuple[float, ...],
) -> None:
    as_of = date(2026, 1, 1)
    registered = None if years is None else date(2026 - years, 1, 1)
    score = score_transplant(
        ScoringScheme(),
        mismatch=mismatch,
        cpra=cpra,
        registered=registered,
        as_of=as_of,
        donor_age=donor_age,
        patient_age=patient_age,
    )
    got = (score.base, score.mismatch, score.sensitisation, score.waiting, score.age_difference)
    assert got == pytest.approx(parts)
    assert score.total == pytest.approx(sum(parts))


def test_scoring_scheme_rejects_bad_points() -> None:
    with pytest.raises(ConfigError, match="mismatch_level"):
        ScoringScheme(mismatch_level=(1.0, 2.0, 3.0))  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="base: expected points >= 0"):
        ScoringScheme(base=-1)
