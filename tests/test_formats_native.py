"""kidneyshare's native JSON: round trip, every reader error, and the JSON Schema."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest

from format_pools import tiny_pool
from kidneyshare.errors import FormatError, ModelError
from kidneyshare.formats import native_schema
from kidneyshare.formats._json import load_json
from kidneyshare.formats.native import (
    _parse_document,
    _ScannedArcs,
    decode,
    dump_native,
    parse_native,
    read_native,
    write_native,
)
from kidneyshare.generators import generate_saidman
from kidneyshare.model import Instance

REPO = Path(__file__).resolve().parents[1]


def document(**changes: Any) -> dict[str, Any]:
    """A valid small document, with top-level fields replaced by ``changes``."""
    base: dict[str, Any] = {
        "format": "kidneyshare",
        "version": 1,
        "name": "demo",
        "patients": [{"id": "p1", "blood_group": "O", "cpra": 0.5, "age": 40}],
        "donors": [
            {"id": "d1", "patient": "p1", "blood_group": "A"},
            {"id": "a1", "patient": None},
        ],
        "arcs": [{"donor": "a1", "patient": "p1", "weight": 2, "probability": 0.9}],
    }
    base.update(changes)
    return base


def parse(doc: dict[str, Any]) -> Instance:
    return parse_native(json.dumps(doc), "pool.json")


def fails(doc: dict[str, Any] | str) -> FormatError:
    text = doc if isinstance(doc, str) else json.dumps(doc)
    with pytest.raises(FormatError) as caught:
        parse_native(text, "pool.json")
    assert caught.value.source == "pool.json"
    return caught.value


def test_round_trip_is_exact() -> None:
    pool = tiny_pool()
    assert parse_native(dump_native(pool)) == pool


def test_reads_a_document() -> None:
    pool = parse(document())
    assert [p.id for p in pool.patients] == ["p1"]
    assert [a.id for a in pool.altruists] == ["a1"]
    assert pool.arcs[0].weight == 2.0 and pool.arcs[0].probability == 0.9
    assert pool.name == "demo"


def test_optional_fields_may_be_omitted() -> None:
    pool = parse(
        {
            "format": "kidneyshare",
            "version": 1,
            "patients": [{"id": "p1"}],
            "donors": [{"id": "d1", "patient": "p1"}],
            "arcs": [{"donor": "d1", "patient": "p1"}],
        }
    )
    assert pool.arcs[0].weight == 1.0
    assert pool.patients[0].blood_group is None and pool.name == ""


def test_dump_is_one_record_per_line() -> None:
    text = dump_native(tiny_pool())
    assert '    {"donor": "d2", "patient": "p1", "weight": 2.5, "probability": 0.9},' in text
    assert '    {"id": "a1", "patient": null, "blood_group": "B", "age": 60.0}' in text


def test_read_and_write_a_file(tmp_path: Path) -> None:
    path = tmp_path / "pool.json.gz"
    write_native(tiny_pool(), path)
    assert path.read_bytes()[:2] == b"\x1f\x8b"
    assert read_native(path) == tiny_pool()


def test_a_file_written_in_pieces_has_the_bytes_of_the_whole_text(tmp_path: Path) -> None:
    pool = generate_saidman(40, 4, seed=2)  # one piece per donor
    text = dump_native(pool).encode("utf-8")
    write_native(pool, tmp_path / "pool.json")
    write_native(pool, tmp_path / "pool.json.gz")
    assert (tmp_path / "pool.json").read_bytes() == text
    assert (tmp_path / "pool.json.gz").read_bytes() == gzip.compress(text, mtime=0)


@pytest.mark.parametrize(
    ("doc", "location", "words"),
    [
        (
            '{"format": "kidneyshare",\n "version": 1,\n "patients": [\n',
            "line 4, column 1",
            "truncated",
        ),
        ('{"format": "kidneyshare" "version": 1}', "line 1, column 26", "delimiter"),
        ('{"format": "kidneyshare", "version": 1, "version": 1}', "version", "duplicate field"),
        ("[1, 2]", "top level", "expected an object, found a list"),
    ],
)
def test_malformed_json(doc: str, location: str, words: str) -> None:
    error = fails(doc)
    assert error.location == location
    assert words in str(error)


def patient(**fields: Any) -> dict[str, Any]:
    return document(patients=[{"id": "p1", **fields}])


def arc(**fields: Any) -> dict[str, Any]:
    return document(arcs=[{"donor": "a1", "patient": "p1", **fields}])


@pytest.mark.parametrize(
    ("doc", "location", "words"),
    [
        (document(format="glasgow"), "format", 'expected "kidneyshare", found "glasgow"'),
        (document(version=2), "version", "unsupported version 2"),
        (document(version="1"), "version", 'expected an integer version, found "1"'),
        ({"format": "kidneyshare", "version": 1}, "top level", 'missing field "patients"'),
        (document(extra=1), "extra", 'unexpected field "extra"'),
        (patient(blodd_group="O"), "patients[0].blodd_group", 'unexpected field "blodd_group"'),
        (patient(blood_group="Q"), "patients[0].blood_group", 'unknown blood group "Q"'),
        (patient(blood_group="o"), "patients[0].blood_group", "upper case"),
        (patient(blood_group=1), "patients[0].blood_group", "found 1"),
        (patient(cpra=85), "patients[0].cpra", "expected a fraction between 0 and 1, found 85"),
        (patient(age=200), "patients[0].age", "found 200"),
        (document(patients=[{"blood_group": "O"}]), "patients[0]", 'missing field "id"'),
        (document(patients=[{"id": 3}]), "patients[0].id", "expected an id (a string), found 3"),
        (document(patients=[{"id": " p1"}]), "patients[0]", "non-empty identifier"),
        (
            document(patients=[{"id": "p1"}, {"id": "p1"}]),
            "patients[1]",
            'duplicate patient id "p1" (first at patients[0])',
        ),
        (document(patients=[{"id": "p1"}, {"id": "p2"}]), "patients[1]", "has no donor"),
        (document(donors=[{"id": "d1", "patient": "p1"}, {"id": "a1"}]), "donors[1]", '"patient"'),
        (
            document(donors=[{"id": "d1", "patient": "p1"}, {"id": "d1", "patient": None}]),
            "donors[1]",
            'duplicate donor id "d1"',
        ),
        (
            document(donors=[{"id": "d1", "patient": "p9"}]),
            "donors[0]",
            'paired with patient "p9", who is not in the pool',
        ),
        (arc(weight=-1), "arcs[0].weight", "expected a finite number >= 0, found -1"),
        (arc(weight="1"), "arcs[0].weight", 'found "1"'),
        (arc(weight=True), "arcs[0].weight", "found true"),
        (arc(weight=None), "arcs[0].weight", "found null"),
        (arc(probability=0), "arcs[0].probability", "greater than 0"),
        (document(arcs=[{"donor": "a1", "patient": "p9"}]), "arcs[0]", 'unknown patient "p9"'),
        (document(arcs=[{"donor": "x", "patient": "p1"}]), "arcs[0]", 'unknown donor "x"'),
        (
            document(arcs=[{"donor": "a1", "patient": "p1"}, {"donor": "a1", "patient": "p1"}]),
            "arcs[1]",
            "appears twice (first at arcs[0])",
        ),
        (document(arcs={}), "arcs", "expected a list, found an object"),
        (document(patients=[], donors=[], arcs=[]), None, "empty pool"),
    ],
)
def test_errors_name_the_field(doc: dict[str, Any], location: str | None, words: str) -> None:
    error = fails(doc)
    assert error.location == location
    assert words in str(error)


def test_non_finite_weight_is_refused() -> None:
    text = json.dumps(arc(weight=1)).replace('"weight": 1', '"weight": NaN')
    error = fails(text)
    assert error.location == "arcs[0].weight" and "found nan" in str(error)


def test_model_errors_are_wrapped_with_their_cause() -> None:
    error = fails(document(patients=[{"id": "p1 "}]))
    assert isinstance(error.__cause__, ModelError)


# -- the JSON Schema ----------------------------------------------------------------------


def test_schema_copies_agree() -> None:
    docs = json.loads((REPO / "docs" / "native-format.schema.json").read_text("utf-8"))
    shipped = REPO / "src" / "kidneyshare" / "schemas" / "native-v1.schema.json"
    assert json.loads(shipped.read_text("utf-8")) == docs
    assert native_schema() == docs


VALID = [
    document(),
    json.loads(dump_native(tiny_pool())),
    {
        "format": "kidneyshare",
        "version": 1,
        "patients": [],
        "donors": [{"id": "a", "patient": None}],
        "arcs": [],
    },
]
INVALID = [
    document(format="other"),
    document(version=2),
    document(extra=True),
    patient(blood_group="Q"),
    patient(cpra=1.5),
    patient(age=-1),
    arc(weight=-0.5),
    arc(weight="1"),
    arc(probability=0),
    document(donors=[{"id": "d1"}]),
    document(patients=[{"id": ""}]),
    document(patients=[], donors=[], arcs=[]),
    {"format": "kidneyshare", "version": 1, "patients": [], "donors": []},
]


@pytest.mark.parametrize("doc", VALID)
def test_schema_accepts_what_the_reader_accepts(doc: dict[str, Any]) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.validate(doc, native_schema())
    parse(doc)


@pytest.mark.parametrize("doc", INVALID)
def test_schema_refuses_what_the_reader_refuses(doc: dict[str, Any]) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, native_schema())
    fails(doc)


def test_schema_is_a_valid_schema() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.Draft202012Validator.check_schema(native_schema())


# -- arcs in the written layout are scanned as columns ------------------------------------


def test_the_written_layout_is_scanned_as_columns() -> None:
    text = dump_native(tiny_pool())
    assert isinstance(decode(text, "pool.json")["arcs"], _ScannedArcs)
    assert not isinstance(decode(json.dumps(json.loads(text)), "pool.json")["arcs"], _ScannedArcs)


def test_a_large_pool_round_trips_through_the_columns() -> None:
    pool = generate_saidman(60, 6, seed=5)
    assert parse_native(dump_native(pool)) == pool


ARC = '    {"donor": "d2", "patient": "p1", "weight": 2.5, "probability": 0.9}'


@pytest.mark.parametrize(
    ("new", "location", "words"),
    [
        (ARC.replace("2.5", "-1"), "arcs[1].weight", "expected a finite number >= 0, found -1"),
        (ARC.replace("2.5", "null"), "arcs[1].weight", "found null"),
        (ARC.replace("2.5", "NaN"), "arcs[1].weight", "found nan"),
        (ARC.replace("2.5", "true"), "arcs[1].weight", "found true"),
        (ARC.replace("2.5", '"2.5"'), "arcs[1].weight", 'found "2.5"'),
        (ARC.replace("2.5", "[1, 2]"), "arcs[1].weight", "found a list"),
        (ARC.replace("0.9", "0"), "arcs[1].probability", "greater than 0"),
        (ARC.replace("0.9", "1.5"), "arcs[1].probability", "found 1.5"),
        (ARC.replace("2.5", "-1").replace("0.9", "0"), "arcs[1].weight", "found -1"),
        (ARC.replace('"d2"', '"x"'), "arcs[1]", 'unknown donor "x"'),
        (ARC.replace('"p1"', '"p\\u00e9"'), "arcs[1]", 'unknown patient "pé"'),
        (ARC.replace('"p1"', '"pé"'), "arcs[1]", 'unknown patient "pé"'),
        (
            ARC.replace('"d2", "patient": "p1"', '"d1", "patient": "p2"'),
            "arcs[1]",
            "appears twice (first at arcs[0])",
        ),
        (ARC.replace('"weight"', '"wieght"'), "arcs[1].wieght", 'unexpected field "wieght"'),
        (ARC.replace("2.5", "2.5.1"), "line 17, column 51", "delimiter"),
        (ARC.replace("}", ""), "line 18, column 5", "property name"),
    ],
)
def test_scanned_arcs_give_the_decoders_errors(new: str, location: str, words: str) -> None:
    text = dump_native(tiny_pool())
    assert ARC in text
    edited = text.replace(ARC, new)
    error = fails(edited)
    with pytest.raises(FormatError) as decoded:  # each arc decoded as an object
        _parse_document(load_json(edited, "pool.json"), "pool.json")
    assert (error.location, str(error)) == (location, str(decoded.value))
    assert words in str(error)
