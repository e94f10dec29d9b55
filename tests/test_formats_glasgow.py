"""Glasgow / kep_solver JSON: both layouts, round trip, every reader error."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from format_pools import pool_key, projected, tiny_pool
from kidneyshare.errors import FormatError
from kidneyshare.formats.glasgow import dump_glasgow, parse_glasgow, read_glasgow, write_glasgow
from kidneyshare.model import BloodGroup, Instance

# test1 of kep_solver's suite, in its two layouts (re-typed here, shortened)
V1 = {
    "data": {
        "1": {
            "sources": [1],
            "dage": 50,
            "bloodtype": "O",
            "matches": [{"recipient": 2, "score": 1}],
        },
        "2": {
            "sources": [2],
            "dage": 50,
            "bloodgroup": "A",
            "matches": [{"recipient": 1, "score": 2.5}],
        },
        "3": {"altruistic": True, "dage": 60, "matches": [{"recipient": 2, "score": 1}]},
        "4": {"dage": 40, "matches": []},
    },
    "recipients": {"1": {"bloodgroup": "O", "pra": 0.25}, "2": {"bloodtype": "B", "cPRA": 0}},
}
V2 = {
    "schema": 3,
    "donors": {
        "1": {"id": "1", "paired_recipients": ["1"], "age": 50.0, "bloodtype": "O",
              "outgoing_transplants": [{"recipient": "2", "score": 1.0}]},
        "2": {"id": "2", "paired_recipients": ["2"], "age": 50.0, "bloodtype": "A",
              "outgoing_transplants": [{"recipient": "1", "score": 2.5}]},
        "3": {"id": "3", "paired_recipients": [], "age": 60.0,
              "outgoing_transplants": [{"recipient": "2", "score": 1.0}]},
        "4": {"id": "4", "paired_recipients": [], "age": 40.0, "outgoing_transplants": []},
    },
    "recipients": {"1": {"id": "1", "bloodtype": "O", "cPRA": 25.0},
                   "2": {"id": "2", "bloodtype": "B", "cPRA": 0.0}},
}  # fmt: skip


def parse(doc: dict[str, Any]) -> Instance:
    return parse_glasgow(json.dumps(doc), "kep.json")


def fails(doc: dict[str, Any] | str) -> FormatError:
    text = doc if isinstance(doc, str) else json.dumps(doc)
    with pytest.raises(FormatError) as caught:
        parse_glasgow(text, "kep.json")
    assert caught.value.source == "kep.json"
    return caught.value


def test_reads_layout_1() -> None:
    pool = parse(V1)
    assert [p.id for p in pool.patients] == ["1", "2"]
    assert pool.patients[0].cpra == 0.25 and pool.patients[1].blood_group is BloodGroup.B
    assert [d.id for d in pool.altruists] == ["3", "4"]
    assert pool.donor("2").blood_group is BloodGroup.A and pool.donor("1").age == 50.0
    assert {(a.donor, a.patient, a.weight) for a in pool.arcs} == {
        ("1", "2", 1.0),
        ("2", "1", 2.5),
        ("3", "2", 1.0),
    }


def test_layout_2_gives_the_same_pool() -> None:
    assert pool_key(parse(V2)) == pool_key(parse(V1))


def test_layout_2_as_lists() -> None:
    doc = dict(V2, donors=list(V2["donors"].values()), recipients=list(V2["recipients"].values()))
    assert pool_key(parse(doc)) == pool_key(parse(V1))


def test_patients_known_only_from_sources() -> None:
    pool = parse({"data": {"7": {"sources": [9], "matches": []}}})
    assert [(p.id, d.patient) for p, d in zip(pool.patients, pool.donors, strict=True)] == [
        ("9", "9")
    ]


def test_a_patient_may_have_two_donors() -> None:
    pool = parse({"data": {"1": {"sources": [1]}, "2": {"sources": [1]}}})
    assert [d.id for d in pool.donors_of("1")] == ["1", "2"]


def test_round_trip_keeps_what_the_format_holds() -> None:
    pool = projected(tiny_pool(), name=False, patient_age=False, probability=False)
    assert pool_key(parse_glasgow(dump_glasgow(pool))) == pool_key(pool)


def test_integer_ids_are_written_as_integers() -> None:
    doc = json.loads(dump_glasgow(parse(V1)))
    assert doc["data"]["1"]["sources"] == [1]
    assert doc["data"]["1"]["matches"] == [{"recipient": 2, "score": 1.0}]
    assert doc["data"]["3"]["altruistic"] is True and "sources" not in doc["data"]["3"]
    assert doc["recipients"]["1"] == {"bloodgroup": "O", "pra": 0.25}


def test_read_and_write_a_file(tmp_path: Path) -> None:
    path = tmp_path / "kep.json"
    write_glasgow(parse(V1), path)
    assert pool_key(read_glasgow(path)) == pool_key(parse(V1))


def donor(**fields: Any) -> dict[str, Any]:
    return {"data": {"1": {"sources": [1], **fields}}}


def recipient(**fields: Any) -> dict[str, Any]:
    return {"data": {"1": {"sources": [1]}}, "recipients": {"1": fields}}


def match(**fields: Any) -> dict[str, Any]:
    return donor(matches=[fields])


@pytest.mark.parametrize(
    ("doc", "location", "words"),
    [
        ('{"data": {"1": {"sources": [1]}\n', "line 2, column 1", "truncated"),
        ('{"data": {"1": {}, "1": {}}}', 'data["1"]', 'duplicate id "1"'),
        ('{"data": {"1": {"sources": [1], "sources": []}}}', 'data["1"].sources', "duplicate"),
        ({"donors": {}}, "top level", 'expected a "data" object'),
        ({"data": []}, "data", "expected an object, found a list"),
        ({"data": {}}, None, "empty pool"),
        (donor(bloodtype="Q"), 'data["1"].bloodtype', "unknown blood group 'Q'"),
        (donor(bloodgroup="A", bloodtype="B"), 'data["1"]', "bloodgroup and bloodtype disagree"),
        (donor(dage=-5), 'data["1"].dage', "expected an age in years"),
        (donor(dage="fifty"), 'data["1"].dage', 'found "fifty"'),
        ({"data": {"1": {"sources": [1, 2]}}}, 'data["1"].sources', 'donor "1" has 2 paired'),
        ({"data": {"1": {"sources": [True]}}}, 'data["1"].sources[0]', "found true"),
        ({"data": {"1": {"sources": 1}}}, 'data["1"].sources', "expected a list, found 1"),
        (donor(altruistic=True), 'data["1"].altruistic', "altruist with a paired patient"),
        ({"data": {"1": {"altruistic": False}}}, 'data["1"].altruistic', "no paired patient"),
        (donor(altruistic="yes"), 'data["1"].altruistic', 'expected true or false, found "yes"'),
        (match(recipient=9, score=1), 'data["1"].matches[0].recipient', 'unknown patient "9"'),
        (match(recipient=1, score=-1), 'data["1"].matches[0].score', "found -1"),
        (match(recipient=1, score="high"), 'data["1"].matches[0].score', 'found "high"'),
        (match(recipient=1), 'data["1"].matches[0]', 'missing field "score"'),
        (match(score=1), 'data["1"].matches[0]', 'missing field "recipient"'),
        (donor(matches=[{"recipient": 1, "score": 1}, {"recipient": "1", "score": 2}]),
         'data["1"].matches[1].recipient', "appears twice"),
        (recipient(bloodgroup="Z"), 'recipients["1"].bloodgroup', "unknown blood group 'Z'"),
        (recipient(pra=85), 'recipients["1"].pra', "0.85, not 85"),
        (recipient(pra=0.1, cPRA=0.2), 'recipients["1"]', "pra and cPRA disagree"),
        ({"data": {"1": {"sources": [1]}}, "recipients": {"7": {}}}, 'recipients["7"]',
         'patient "7" has no donor'),
        (dict(V2, schema=4), "schema", "unsupported schema 4"),
        (dict(V2, schema=True), "schema", "unsupported schema true"),
        (dict(V2, donors=[{"paired_recipients": []}]), "donors[0]", 'missing field "id"'),
        (dict(V2, donors={"1": {"id": "2"}}), 'donors["1"].id', "disagrees with its key"),
        (dict(V2, recipients={"1": {"cPRA": 250}}), 'recipients["1"].cPRA', "percentage"),
    ],
)  # fmt: skip
def test_errors_name_the_field(doc: dict[str, Any] | str, location: str | None, words: str) -> None:
    error = fails(doc)
    assert error.location == location
    assert words in str(error)
