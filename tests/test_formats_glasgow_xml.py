"""Glasgow XML: reading, round trip, safety, every reader error."""

from __future__ import annotations

from pathlib import Path

import pytest

from format_pools import pool_key, projected, tiny_pool
from kidneyshare.errors import FormatError
from kidneyshare.formats.glasgow import parse_glasgow
from kidneyshare.formats.glasgow_xml import (
    dump_glasgow_xml,
    parse_glasgow_xml,
    read_glasgow_xml,
    write_glasgow_xml,
)
from kidneyshare.model import BloodGroup, Donor, DonorId, Instance

XML = """<?xml version="1.0" encoding="utf-8"?>
<data>
  <entry donor_id="1">
    <dage>50</dage>
    <bloodgroup>O</bloodgroup>
    <sources>
      <source>1</source>
    </sources>
    <matches>
      <match>
        <recipient>2</recipient>
        <score>1</score>
      </match>
    </matches>
  </entry>
  <entry donor_id="2">
    <sources><source>2</source></sources>
    <matches><match><recipient>1</recipient><score>2.5</score></match></matches>
  </entry>
  <entry donor_id="3">
    <altruistic>true</altruistic>
    <matches><match><recipient>2</recipient><score>1</score></match></matches>
  </entry>
</data>
"""


def fails(text: str) -> FormatError:
    with pytest.raises(FormatError) as caught:
        parse_glasgow_xml(text, "kep.xml")
    assert caught.value.source == "kep.xml"
    return caught.value


def entry(body: str, donor_id: str = "1") -> str:
    return f'<data>\n<entry donor_id="{donor_id}">\n{body}\n</entry>\n</data>'


def test_reads_entries() -> None:
    pool = parse_glasgow_xml(XML)
    assert [p.id for p in pool.patients] == ["1", "2"]
    assert [d.id for d in pool.altruists] == ["3"]
    assert pool.donor("1").blood_group is BloodGroup.O and pool.donor("1").age == 50.0
    assert {(a.donor, a.patient, a.weight) for a in pool.arcs} == {
        ("1", "2", 1.0),
        ("2", "1", 2.5),
        ("3", "2", 1.0),
    }


def test_same_pool_as_the_json_form() -> None:
    text = (
        '{"data": {"1": {"sources": [1], "dage": 50, "bloodtype": "O", "matches": '
        '[{"recipient": 2, "score": 1}]}, "2": {"sources": [2], "matches": [{"recipient": 1, '
        '"score": 2.5}]}, "3": {"altruistic": true, "matches": [{"recipient": 2, "score": 1}]}}}'
    )
    assert pool_key(parse_glasgow_xml(XML)) == pool_key(parse_glasgow(text))


def test_round_trip_keeps_what_the_format_holds() -> None:
    pool = projected(tiny_pool(), name=False, patient_details=False, probability=False)
    assert pool_key(parse_glasgow_xml(dump_glasgow_xml(pool))) == pool_key(pool)


def test_awkward_ids_survive() -> None:
    odd = "a<&>\"'\r\n\tb"
    pool = Instance([], [Donor(DonorId(odd))], [])
    assert parse_glasgow_xml(dump_glasgow_xml(pool)) == pool


def test_dump_refuses_what_xml_cannot_carry() -> None:
    with pytest.raises(FormatError, match=r"XML 1\.0"):
        dump_glasgow_xml(Instance([], [Donor(DonorId("a\x01"))], []))


def test_dump_looks_like_kep_solver_files() -> None:
    text = dump_glasgow_xml(parse_glasgow_xml(XML))
    assert '  <entry donor_id="1">\n    <dage>50</dage>\n    <bloodgroup>O</bloodgroup>' in text
    assert "<score>2.5</score>" in text and "<score>1</score>" in text


def test_read_and_write_a_file(tmp_path: Path) -> None:
    path = tmp_path / "kep.xml.gz"
    write_glasgow_xml(parse_glasgow_xml(XML), path)
    assert pool_key(read_glasgow_xml(path)) == pool_key(parse_glasgow_xml(XML))


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE data [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>
<data>&b;</data>"""

EXTERNAL = """<?xml version="1.0"?>
<!DOCTYPE data [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<data><entry donor_id="&x;"/></data>"""


@pytest.mark.parametrize(
    ("text", "location", "words"),
    [
        ("<data>\n<entry donor_id='1'>\n</data>", "line 3, column 2", "mismatched tag"),
        ('<data>\n<entry donor_id="1">\n<sources>', "line 3, column 9", "truncated"),
        (BILLION_LAUGHS, "line 2", "forbidden XML construct"),
        (EXTERNAL, "line 2", "forbidden XML construct"),
        ("<pool/>", "line 1", "expected the root element <data>, found <pool>"),
        ("<data>\n<donor/>\n</data>", "line 2", "unexpected element <donor>"),
        ("<data>\n<entry/>\n</data>", "line 2", "missing attribute donor_id"),
        ("<data>\n</data>", None, "empty pool"),
        ("<data>\n1</data>", "line 1", 'unexpected text "1" directly inside <data>'),
        (
            '<data>\n<entry donor_id="1"/>\n<entry donor_id="1"/>\n</data>',
            "line 3",
            'duplicate donor id "1" (first at line 2)',
        ),
        (entry("<sources>1</sources>"), "line 3", "unexpected text"),
        (entry("<sources><patient>1</patient></sources>"), "line 3", "expected <source>"),
        (entry("<sources><source/></sources>"), "line 3", "expected a patient id"),
        (
            entry("<sources>\n<source>1</source>\n<source>2</source>\n</sources>"),
            "line 3",
            'donor "1" has 2 paired patients ("1", "2")',
        ),
        (
            entry("<sources><source>1</source></sources>\n<altruistic>true</altruistic>"),
            "line 4",
            "altruist with a paired patient",
        ),
        (entry("<altruistic>false</altruistic>"), "line 3", "no paired patient"),
        (entry("<altruistic>maybe</altruistic>"), "line 3", 'found "maybe"'),
        (entry("<dage>50</dage>\n<dage>51</dage>"), "line 4", "<dage> given twice"),
        (entry("<dage>old</dage>"), "line 3", 'an age in years between 0 and 120 in <dage>'),
        (entry("<bloodgroup>Q</bloodgroup>"), "line 3", "unknown blood group 'Q'"),
        (
            entry("<bloodgroup>A</bloodgroup>\n<bloodtype>B</bloodtype>"),
            "line 4",
            "disagree",
        ),
        (
            entry("<matches>\n<match><recipient>9</recipient><score>1</score></match>\n</matches>"),
            "line 4",
            'arc to unknown patient "9"',
        ),
        (
            entry("<sources><source>1</source></sources>\n<matches>\n<match>"
                  "<recipient>1</recipient><score>-1</score></match>\n</matches>"),
            "line 5",
            'expected a finite number >= 0 in <score>, found "-1"',
        ),
        (
            entry("<sources><source>1</source></sources>\n<matches>\n<match>"
                  "<recipient>1</recipient><score>x</score></match>\n</matches>"),
            "line 5",
            'found "x"',
        ),
        (
            entry("<matches>\n<match><recipient>1</recipient></match>\n</matches>"),
            "line 4",
            "expected exactly one <score>",
        ),
        (entry("<matches>\n<hit/>\n</matches>"), "line 4", "expected <match>"),
    ],
)  # fmt: skip
def test_errors_give_the_line(text: str, location: str | None, words: str) -> None:
    error = fails(text)
    assert error.location == location
    assert words in str(error)
