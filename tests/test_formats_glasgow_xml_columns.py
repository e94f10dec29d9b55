"""Glasgow XML matches read as columns: the same pools and errors, at the same lines, as
reading each element.

The reader scans the ``<matches>`` blocks of the indented layout (``dump_glasgow_xml``'s
and kep_solver's) as byte columns and parses the rest of the document; every other
text is read element by element. Each test here compares the two on the same text.
"""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings

from format_pools import XML_IDS, pool_key, pools, projected
from format_readers import expect
from format_readers import same_outcome as same_outcome_of
from kidneyshare.errors import FormatError
from kidneyshare.formats._pool import PoolBuilder
from kidneyshare.formats.glasgow_xml import (
    _Blocks,
    _read_entries,
    dump_glasgow_xml,
    parse_glasgow_xml,
)
from kidneyshare.generators import altruists_from_fraction, generate_saidman
from kidneyshare.model import Arc, BloodGroup, Donor, DonorId, Instance, Patient, PatientId

SOURCE = "kep.xml"


def element_by_element(text: str) -> Instance:
    """The pool as read one element at a time (the reader before)."""
    builder = PoolBuilder(SOURCE)
    _read_entries(text, builder)
    return builder.build()


def same_outcome(text: str) -> Instance | FormatError:
    """Read ``text`` both ways: the same pool, or the same error at the same line."""
    return same_outcome_of(text, lambda t: parse_glasgow_xml(t, SOURCE), element_by_element)


def generated(pairs: int, seed: int) -> Instance:
    pool = generate_saidman(pairs, altruists_from_fraction(pairs, 0.1), seed=seed)
    rng = random.Random(seed)
    arcs = [Arc(a.donor, a.patient, rng.choice([0.0, 1.0, 2.5, 1e6, 0.125])) for a in pool.arcs]
    return projected(
        Instance(pool.patients, pool.donors, arcs), patient_details=False, probability=False
    )


@pytest.mark.parametrize("seed", [1, 2])
def test_a_generated_pool_reads_as_before(seed: int) -> None:
    pool = generated(250, seed)
    text = dump_glasgow_xml(pool)
    assert _Blocks.scan(text) is not None
    read = same_outcome(text)
    assert pool_key(read) == pool_key(pool)  # type: ignore[arg-type]
    assert len(pool.arcs) > 1000


@settings(max_examples=60, deadline=None)
@given(pools(XML_IDS))
def test_any_pool_reads_as_before(pool: Instance) -> None:
    same_outcome(dump_glasgow_xml(projected(pool, patient_details=False, probability=False)))


# -- a damaged document: the element reader's error at the same line, or its pool -------

P1, P2, P3 = PatientId("1"), PatientId("2"), PatientId("3")
DOC = dump_glasgow_xml(
    Instance(
        [Patient(P1), Patient(P2), Patient(P3)],
        [
            Donor(DonorId("1"), P1),
            Donor(DonorId("2"), P2),
            Donor(DonorId("3"), P3),
            Donor(DonorId("4"), None, BloodGroup.A),
        ],
        [
            Arc(DonorId("1"), P2, 1.0),
            Arc(DonorId("2"), P1, 2.5),
            Arc(DonorId("2"), P3, 1.0),
            Arc(DonorId("4"), P3, 1.0),
        ],
    )
)
R, S = "<recipient>1</recipient>", "<score>2.5</score>"
ITEM = "      <match>\n        " + R + "\n        " + S + "\n      </match>\n"


def test_the_document_is_scanned() -> None:
    assert _Blocks.scan(DOC) is not None
    assert len(same_outcome(DOC).arcs) == 4  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("old", "new", "location", "words"),
    [
        ("2.5", "-1", "line 21", "found \"-1\""),
        ("2.5", "high", "line 21", "found \"high\""),
        ("2.5", " 2.5 ", None, None),
        ("2.5", "", "line 21", "found \"\""),
        ("2.5", "1e400", "line 21", "found \"1e400\""),
        ("2.5", "nan", "line 21", "found \"nan\""),
        ("2.5", "1_0", None, None),
        (R, "<recipient>9</recipient>", "line 20", "unknown patient \"9\""),
        (R, "<recipient>3</recipient>", "line 24", "appears twice"),
        (R, "<recipient></recipient>", "line 20", "found nothing"),
        (R, "<recipient> 1 </recipient>", None, None),
        (R, "<recipient>a&amp;b</recipient>", "line 20", "unknown patient \"a&b\""),
        (R, "<recipient>p\u00e9</recipient>", "line 20", "unknown patient \"p\u00e9\""),
        (R, "<recipient>a b</recipient>", "line 20", "unknown patient \"a b\""),
        (R, "<recipient>a--b</recipient>", "line 20", "unknown patient \"a--b\""),
        (R, "<recipient>a<b</recipient>", "line 20, column 22", "malformed XML"),
        (R, "<recipient>a>b</recipient>", "line 20", "unknown patient \"a>b\""),
        (R, "<recipient>1</recipient><note>x</note>", None, None),
        (R + "\n        " + S, R, "line 19", "exactly one <score>"),
        (S, S + "\n        " + S, "line 19", "exactly one <score>"),
        (R, "\t" + R, None, None),
        (R, "<recipient>1</recipient >", None, None),
        (S + "\n      </match>", S + "\n      </match><!-- c -->", None, None),
        ("      </match>\n    </matches>\n  </entry>\n  <entry donor_id=\"3\">",
         "      </match>\n    </matches>\n  </entry>\n  <entry donor_id=\"3\" x=\"<\">",
         "line 29, column 25", "malformed XML"),
        ("<bloodgroup>A</bloodgroup>", "<bloodgroup>Q</bloodgroup>", "line 36",
         "unknown blood group"),
        ("</data>", "</date>", "line 45, column 2", "mismatched tag"),
        ("<matches/>", "<matches>\n    </matches>", None, None),
        ("<matches/>", "<matches>\n\n    </matches>", None, None),
        ("<matches/>", "<matches>\n  x  </matches>", "line 33", "unexpected text \"x\""),
        ("<matches/>", "<matches>\n      <match>\n        <recipient>1</recipient>\n"
         "        <score>1</score>\n      </match>\n    </matches>\n    <matches/>", "line 39",
         "<matches> given twice"),
        ("<matches/>", "<!--\n    <matches>\n      <match>\n        <recipient>1</recipient>"
         "\n        <score>1</score>\n      </match>\n    </matches>\n    -->", None, None),
        ("<matches/>", "<!--\n    <matches>\n      <match>\n        <recipient>1--</recipient>"
         "\n        <score>1</score>\n      </match>\n    </matches>\n    -->",
         "line 36, column 22", "malformed XML"),
        ("      <source>3</source>\n", "      <source>3</source>\n    <matches>\n" + ITEM
         + "    </matches>\n", "line 32", "unexpected element <matches> in <sources>"),
    ],
)  # fmt: skip
def test_a_damaged_document_reads_as_before(
    old: str, new: str, location: str | None, words: str | None
) -> None:
    assert old in DOC
    outcome = same_outcome(DOC.replace(old, new, 1))
    expect(outcome, location, words)


def test_errors_after_blocks_name_the_documents_line() -> None:
    """Lines after the scanned items are counted in the document, not in what is
    parsed without them."""
    text = DOC.replace('<entry donor_id="4">', '<entry donor_id="4">\n    <dage>old</dage>')
    error = same_outcome(text)
    assert isinstance(error, FormatError) and error.location == "line 36"
