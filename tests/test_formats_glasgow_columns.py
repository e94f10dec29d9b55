"""Glasgow JSON matches read as columns: the same pools and errors as decoding each
match object.

The reader scans the ``matches`` lists of the indented layout (``dump_glasgow``'s and
kep_solver's) as byte columns; every other text goes to the per-object decoder. Each
test here compares the two on the same text.
"""

from __future__ import annotations

import json
import random
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given, settings

from format_pools import NUMBER_IDS, pool_key, pools, projected
from format_readers import expect
from format_readers import same_outcome as same_outcome_of
from kidneyshare.errors import FormatError
from kidneyshare.formats._json import load_json
from kidneyshare.formats.glasgow import (
    _parse_document,
    _ScannedList,
    decode,
    dump_glasgow,
    parse_glasgow,
)
from kidneyshare.generators import altruists_from_fraction, generate_saidman
from kidneyshare.model import Arc, Instance

SOURCE = "kep.json"


def decoded(text: str) -> Instance:
    """The pool as read with every match decoded as an object (the reader before)."""
    return _parse_document(load_json(text, SOURCE), SOURCE)


def scanned(text: str) -> bool:
    """Whether the reader takes the matches of ``text`` as columns."""

    def found(value: Any) -> bool:
        if isinstance(value, _ScannedList):
            return True
        if isinstance(value, dict):
            value = list(value.values())
        return isinstance(value, list) and any(found(v) for v in value)

    return found(decode(text, SOURCE))


def same_outcome(text: str) -> Instance | FormatError:
    """Read ``text`` both ways: the same pool, or the same error at the same place."""
    return same_outcome_of(text, lambda t: parse_glasgow(t, SOURCE), decoded)


def saidman(pairs: int, seed: int) -> Instance:
    pool = generate_saidman(pairs, altruists_from_fraction(pairs, 0.1), seed=seed)
    return projected(pool, name=False, patient_age=False, probability=False)


def with_scores(pool: Instance, seed: int) -> Instance:
    """``pool`` with scores of several kinds: integers, fractions, 0, large."""
    rng = random.Random(seed)
    choices = [0.0, 1.0, 2.5, 3.0, 0.1, 1e6, 12345.678]
    arcs = [Arc(a.donor, a.patient, rng.choice(choices)) for a in pool.arcs]
    return Instance(pool.patients, pool.donors, arcs)


@pytest.mark.parametrize("seed", [1, 2])
def test_a_generated_pool_reads_as_before(seed: int) -> None:
    pool = with_scores(saidman(300, seed), seed)
    text = dump_glasgow(pool)
    assert scanned(text)
    read = same_outcome(text)
    assert isinstance(read, Instance)
    assert pool_key(read) == pool_key(pool)
    assert len(read.arcs) > 1000


def arcs_from(pool: Instance) -> dict[str, list[Arc]]:
    """Each donor's arcs, in the pool's order."""
    out: dict[str, list[Arc]] = {d.id: [] for d in pool.donors}
    for arc in pool.arcs:
        out[arc.donor].append(arc)
    return out


def integer_document(pool: Instance) -> dict[str, Any]:
    """``pool`` as kep_solver writes it: integer ids, integer scores where whole."""
    number = {p.id: i for i, p in enumerate(pool.patients, 1)}
    arcs = arcs_from(pool)
    data: dict[str, Any] = {}
    for i, d in enumerate(pool.donors, 1):
        entry: dict[str, Any] = {"sources": [number[d.patient]]} if d.patient else {}
        if d.patient is None:
            entry["altruistic"] = True
        entry["dage"] = 40
        entry["matches"] = [
            {"recipient": number[a.patient], "score": int(a.weight) if a.weight == 1 else a.weight}
            for a in arcs[d.id]
        ]
        data[str(i)] = entry
    recipients = {str(number[p.id]): {"bloodgroup": "O", "cPRA": 0.5} for p in pool.patients}
    return {"data": data, "recipients": recipients}


def test_kep_solver_layout_with_integer_ids_reads_as_before() -> None:
    document = integer_document(with_scores(saidman(200, 3), 3))
    text = json.dumps(document, indent=2)
    assert scanned(text)
    read = same_outcome(text)
    assert isinstance(read, Instance) and len(read.arcs) > 500


def test_layout_2_lists_are_scanned_too() -> None:
    pool = with_scores(saidman(40, 4), 4)
    arcs = arcs_from(pool)
    document = {
        "schema": 3,
        "donors": [
            {
                "id": d.id,
                "paired_recipients": [d.patient] if d.patient else [],
                "outgoing_transplants": [
                    {"recipient": a.patient, "score": a.weight} for a in arcs[d.id]
                ],
            }
            for d in pool.donors
        ],
        "recipients": [{"id": p.id} for p in pool.patients],
    }
    text = json.dumps(document, indent=4)
    assert scanned(text)
    assert pool_key(same_outcome(text)) == pool_key(  # type: ignore[arg-type]
        projected(pool, patient_details=False, donor_age=False, donor_groups=False)
    )


def test_long_ids_and_scores_read_as_before() -> None:
    pool = saidman(30, 6)
    renamed = {p.id: f"patient-number-{p.id}-of-the-pool" for p in pool.patients}
    arcs = [Arc(a.donor, renamed[a.patient], 123456.789) for a in pool.arcs]
    text = dump_glasgow(
        Instance(
            [replace(p, id=renamed[p.id]) for p in pool.patients],
            [replace(d, patient=d.patient and renamed[d.patient]) for d in pool.donors],
            arcs,
        )
    )
    assert scanned(text)
    assert len(same_outcome(text).arcs) == len(arcs)  # type: ignore[union-attr]


def test_other_layouts_are_decoded() -> None:
    text = dump_glasgow(saidman(30, 5))
    compact = json.dumps(json.loads(text))
    assert not scanned(compact)
    assert same_outcome(compact) == same_outcome(text)


@settings(max_examples=60, deadline=None)
@given(pools())
def test_any_pool_reads_as_decoded(pool: Instance) -> None:
    same_outcome(dump_glasgow(projected(pool, name=False, patient_age=False, probability=False)))


@settings(max_examples=30, deadline=None)
@given(pools(NUMBER_IDS))
def test_any_pool_with_number_ids_reads_as_decoded(pool: Instance) -> None:
    text = dump_glasgow(projected(pool, name=False, patient_age=False, probability=False))
    same_outcome(text)


# -- a damaged match in the scanned layout: the decoder's error, or its pool -------------

DOC = {
    "data": {
        "1": {"sources": [1], "matches": [{"recipient": 2, "score": 1}]},
        "2": {"sources": [2], "matches": [{"recipient": 1, "score": 2.5},
                                          {"recipient": 3, "score": 1}]},
        "3": {"sources": [3], "matches": []},
        "4": {"altruistic": True, "matches": [{"recipient": 3, "score": 1}]},
    },
    "recipients": {"1": {"bloodgroup": "O"}},
}  # fmt: skip
TEXT = json.dumps(DOC, indent=2)
R = '"recipient": 1,'
ITEM = '{\n          "recipient": 1,\n          "score": 2.5\n        }'


def test_the_document_is_scanned() -> None:
    assert ITEM in TEXT and scanned(TEXT)
    assert len(same_outcome(TEXT).arcs) == 4  # type: ignore[union-attr]


def edited(old: str, new: str, text: str = TEXT) -> str:
    assert old in text
    return text.replace(old, new, 1)


R, S = '"recipient": 1,', '"score": 2.5'
AT0, AT1 = 'data["2"].matches[0]', 'data["2"].matches[1]'


@pytest.mark.parametrize(
    ("old", "new", "location", "words"),
    [
        ("2.5", "-1", AT0 + ".score", "found -1"),
        ("2.5", '"high"', AT0 + ".score", 'found "high"'),
        ("2.5", "null", AT0 + ".score", "found null"),
        ("2.5", "true", AT0 + ".score", "found true"),
        ("2.5", "NaN", AT0 + ".score", "found nan"),
        ("2.5", "1e400", AT0 + ".score", "found inf"),
        ("2.5", "[1, 2]", AT0 + ".score", "found a list"),
        ("2.5", "2.5.1", "line 21, column 23", "delimiter"),
        ("2.5", "", "line 22, column 9", "Expecting value"),
        (R, '"recipient": 9,', AT0 + ".recipient", 'unknown patient "9"'),
        (R, '"recipient": "9",', AT0 + ".recipient", 'unknown patient "9"'),
        (R, '"recipient": 3,', AT1 + ".recipient", "appears twice"),
        (R, '"recipient": "3",', AT1 + ".recipient", "appears twice"),
        (R, '"recipient": 1.5,', AT0 + ".recipient", "expected an id"),
        (R, '"recipient": true,', AT0 + ".recipient", "found true"),
        (R, '"recipient": -1,', AT0 + ".recipient", 'unknown patient "-1"'),
        (R, '"recipient": 01,', "line 20, column 25", "delimiter"),
        (R, '"recipient": "p\\u00e9",', AT0 + ".recipient", 'unknown patient "pé"'),
        (R, '"recipient": "pé",', AT0 + ".recipient", 'unknown patient "pé"'),
        (R, '"recipient": "a\\"b",', AT0 + ".recipient", 'unknown patient "a\\"b"'),
        (R, '"recipient": "a"b",', "line 20, column 27", "delimiter"),
        (R, '"recipient": "a\tb",', "line 20, column 26", "control character"),
        (R, '"recipient": "a" "b",', "line 20, column 28", "delimiter"),
        (R, '"recipient": 1 2,', "line 20, column 26", "delimiter"),
        (R, '"recipient": 1, "x": 2,', None, None),
        (R, '"recipient": "a\x00b",', "line 20, column 26", "control character"),
        (R, '"recipient": "a-rather-long-patient-id",', AT0 + ".recipient", "unknown patient"),
        (R, '"recipient": 12345678901,', AT0 + ".recipient", 'unknown patient "12345678901"'),
        (S, S + "\r", None, None),
        (S, "\t " + S, None, None),
        (S, "\u00a0" + S, "line 21, column 11", "Expecting"),
        (S, S.replace("2.5", '"2\\u002e5"'), AT0 + ".score", 'found "2.5"'),
        (S, S.replace("2.5", "12345678.5"), None, None),
        (R + "\n", R[:-1] + "\n", "line 21, column 11", "delimiter"),
        (R + "\n          " + S, R[:-1], AT0, 'missing field "score"'),
        (S, S + ',\n          "score": 3', AT0 + ".score", "duplicate field"),
        (S, S.replace(" ", "  "), None, None),
        (S, S + " ", None, None),
        (S, S.replace("2.5", "2 5"), "line 21, column 22", "delimiter"),
        (S + "\n        },", S + "\n        }", "line 23, column 9", "delimiter"),
        (S + "\n        },", S + "\n        },,", "line 22, column 11", "Expecting"),
        ("[\n        2\n      ]", "[\n        2\n      ],\n      \"matches\": []",
         'data["2"].matches', "duplicate field"),
        ('"bloodgroup"', '"matches": [\n        {\n          "recipient": 1,\n          '
         '"score": 1\n        }\n      ],\n      "bloodgroup"', None, None),
        ('"4": {', '"4\\"matches": {', None, None),
        ('"4": {', '"2": {', 'data["2"]', 'duplicate id "2"'),
    ],
)  # fmt: skip
def test_a_damaged_match_reads_as_decoded(
    old: str, new: str, location: str | None, words: str | None
) -> None:
    outcome = same_outcome(edited(old, new))
    expect(outcome, location, words)


def test_errors_come_in_document_order() -> None:
    """A bad score of donor 2 before the bad blood group of donor 4; an unknown
    recipient of donor 1 after both (references are checked once all is read)."""
    text = edited("2.5", "-2")
    text = edited('"altruistic": true', '"altruistic": true,\n    "bloodtype": "Q"', text)
    text = edited('"recipient": 2', '"recipient": 7', text)
    error = same_outcome(text)
    assert isinstance(error, FormatError) and error.location == 'data["2"].matches[0].score'
    error = same_outcome(edited("-2", "2", text))
    assert isinstance(error, FormatError) and error.location == 'data["4"].bloodtype'
    error = same_outcome(edited('"bloodtype": "Q"', '"bloodtype": "A"', edited("-2", "2", text)))
    assert isinstance(error, FormatError) and 'unknown patient "7"' in str(error)
    assert error.location == 'data["1"].matches[0].recipient'
