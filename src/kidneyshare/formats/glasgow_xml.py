"""The XML form of the Glasgow / kep_solver instance format.

Layout::

    <?xml version="1.0" encoding="utf-8"?>
    <data>
      <entry donor_id="1">
        <dage>50</dage>
        <bloodgroup>O</bloodgroup>
        <sources><source>1</source></sources>
        <matches>
          <match><recipient>2</recipient><score>1</score></match>
        </matches>
      </entry>
      <entry donor_id="3">
        <altruistic>true</altruistic>
        <matches/>
      </entry>
    </data>

One ``entry`` per donor, as in layout 1 of the JSON form
(:mod:`kidneyshare.formats.glasgow`): an entry without ``sources`` (or with
``<altruistic>true</altruistic>``) is a non-directed donor. ``bloodtype`` is read as a
synonym of ``bloodgroup``; other elements inside an entry are ignored. The format has no
place for patients' details, the pool's name or arcs' probabilities: patients are known
by id only.

Input is parsed with :mod:`defusedxml` (no DTDs' entity expansion, no external
entities), never with :mod:`xml.etree` directly. Errors give the line of the element.

Large pools: the ``<matches>`` blocks in the indented layout that
:func:`dump_glasgow_xml` and kep_solver write are read as columns with array operations
(numpy; :mod:`kidneyshare.formats._matches`) and the rest of the document is parsed
without their items, lines still counted in the whole document, with the same checks
and the same messages; any other document is read element by element. The writer
formats each donor's matches from the arc columns, a donor at a time.

References
----------
.. [1] W. Pettersson, kep_solver documentation, "File formats" (XML),
   https://kep-solver.readthedocs.io/
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Iterator
from itertools import accumulate
from operator import add
from typing import Any
from xml.sax.saxutils import escape, quoteattr

import numpy as np
import numpy.typing as npt
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser, ParseError

from kidneyshare.errors import FormatError
from kidneyshare.formats._arcs import distinct
from kidneyshare.formats._files import StrPath, read_text, write_text
from kidneyshare.formats._matches import ItemLayout, MatchColumns, ScannedMatches, scan_items
from kidneyshare.formats._pool import PoolBuilder
from kidneyshare.formats._values import AGE, WEIGHT, Range, quote, text_number
from kidneyshare.model import Instance

__all__ = ["dump_glasgow_xml", "parse_glasgow_xml", "read_glasgow_xml", "write_glasgow_xml"]

_TRUE = frozenset({"true", "1"})
_FALSE = frozenset({"false", "0"})
_ESCAPES = {"\r": "&#13;"}  # besides & < >: a carriage return read back as itself
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


class _Element:
    """An element of the parsed document, with the line it starts on.

    ``text`` is the element's own character data, stripped, once the element has ended.
    """

    __slots__ = ("attrib", "children", "line", "tag", "text")

    def __init__(self, tag: str, attrib: dict[str, str], line: int) -> None:
        self.tag = tag
        self.attrib = attrib
        self.line = line
        self.children: list[_Element] = []
        self.text = ""


class _EntryReader:
    """A parser target that hands each complete ``<entry>`` to the pool builder.

    Each child of the root is built as a small :class:`_Element` tree with line
    numbers, read as soon as it ends, then dropped: the document is never held whole.
    With ``blocks``, the text parsed is the document without its scanned matches'
    items, and lines are counted in the document.
    """

    def __init__(self, builder: PoolBuilder, blocks: _Blocks | None = None) -> None:
        self.builder = builder
        self.blocks = blocks
        self.expat: Any = None  # the expat parser, asked for the line of each start tag
        self.stack: list[_Element] = []

    def line(self, line: int | None = None) -> int:
        """The document's line of ``line`` of the text parsed (by default, the parser's)."""
        line = self.expat.CurrentLineNumber if line is None else line
        return line if self.blocks is None else self.blocks.line(line)

    def start(self, tag: str, attrib: dict[str, str]) -> None:
        element = _Element(tag, attrib, self.line())
        if not self.stack and tag != "data":
            raise self.builder.error(
                f"expected the root element <data>, found <{tag}>", element.line
            )
        if len(self.stack) > 1:
            self.stack[-1].children.append(element)
        self.stack.append(element)

    def end(self, tag: str) -> None:
        element = self.stack.pop()
        element.text = element.text.strip()
        if len(self.stack) == 1:
            self._entry(element)
        elif not self.stack:
            _no_text(self.builder, element)

    def data(self, text: str) -> None:
        if self.stack:
            self.stack[-1].text += text

    def close(self) -> None:
        return None

    def _entry(self, entry: _Element) -> None:
        if entry.tag != "entry":
            raise self.builder.error(
                f"unexpected element <{entry.tag}> in <data>; expected <entry> elements, "
                "one per donor",
                entry.line,
            )
        _add_entry(self.builder, entry, self.blocks)


def _read_entries(text: str, builder: PoolBuilder, blocks: _Blocks | None = None) -> None:
    """Parse ``text`` safely, feeding its entries to ``builder``."""
    target = _EntryReader(builder, blocks)
    parser = DefusedXMLParser(target=target)
    target.expat = parser.parser
    try:
        parser.feed(text)
        parser.close()
    except ParseError as exc:
        line, column = exc.position
        line = target.line(line)
        reason = str(exc).split(": line ")[0]
        hint = (
            " (the text ends early: is the file truncated?)" if reason == "no element found" else ""
        )
        raise FormatError(
            f"malformed XML: {reason}{hint}",
            source=builder.source,
            location=f"line {line}, column {column}",
        ) from exc
    except DefusedXmlException as exc:
        raise builder.error(
            f"forbidden XML construct ({exc}); DTDs, entity declarations and external "
            "references are refused for safety",
            target.line(),
        ) from exc


def parse_glasgow_xml(text: str, source: str = "<text>") -> Instance:
    """Read a pool from the Glasgow / kep_solver XML form.

    Parameters
    ----------
    text
        The XML document.
    source
        The file name to report in errors.

    Returns
    -------
    Instance
        The pool: patients (ids only) in order of first mention in ``sources``; donors
        and arcs in document order.

    Raises
    ------
    FormatError
        located by line: malformed or truncated XML, a forbidden DTD or entity, a root
        other than ``<data>``, an element other than ``<entry>`` in it, a missing
        ``donor_id``, a duplicate donor id, a repeated field, a donor with more than
        one paired patient, an altruist with a paired patient, an unknown blood group,
        a negative or non-numeric score or age, an arc to an unknown patient, or an
        empty pool.

    References
    ----------
    .. [1] W. Pettersson, kep_solver documentation, "File formats" (XML).
    """
    blocks = _Blocks.scan(text)
    if blocks is not None:
        builder = PoolBuilder(source)
        try:
            _read_entries(blocks.rest, builder, blocks)
            blocks.put(builder)
            return builder.build()
        except _Unscanned:
            pass
    builder = PoolBuilder(source)
    _read_entries(text, builder)
    return builder.build()


class _Unscanned(Exception):
    """The scanned blocks were not every ``<matches>`` of the entries with items, in
    order: the document is read element by element instead."""


_XML_ITEMS = ItemLayout(
    b"<match>",
    b"<recipient>",
    b"</recipient>",
    b"<score>",
    b"</score>",
    b"</match>",
    b"",
    quoted=False,
    counted=(b"<", b">"),
)
_BLOCK = "<matches>\n"
_FIRST_ITEM = re.compile(r"\n( *)<match>\n( *)<recipient>")
_SPACES = re.compile(" *")
_BLANK = re.compile("[ \n]*")


class _Blocks:
    """The ``<matches>`` blocks of a document in the indented layout that
    :func:`dump_glasgow_xml` and kep_solver write, their items read as columns
    (:mod:`kidneyshare.formats._matches`), and the document without those items
    (``rest``): each block's ``<matches>`` and ``</matches>`` on consecutive lines,
    the columns of every other line as they were. The entries are read from ``rest``,
    lines counted in the document; each ``<matches>`` of an entry on a block's line
    takes that block's items (:meth:`claim`)."""

    __slots__ = ("_columns", "_lines", "_shift", "_tag_lines", "_tags", "rest")

    def __init__(self, rest: str, scanned: ScannedMatches, tags: list[int]) -> None:
        self.rest = rest
        self._tags = tags  # the document's line of each block's <matches>
        self._tag_lines = frozenset(tags)
        sizes = np.diff(scanned.bounds).tolist()
        removed = [4 * size for size in sizes]  # lines of items taken out of each block
        before = [0, *accumulate(removed)]
        self._lines = [tag - done for tag, done in zip(tags, before, strict=False)]
        self._shift = before[1:]  # lines taken out up to each block, in rest's lines
        self._columns = MatchColumns(scanned, _weight)

    @classmethod
    def scan(cls, text: str) -> _Blocks | None:
        """The blocks of ``text``, or ``None`` if it has none, or any is not in the
        layout (then the document is read element by element)."""
        spans: list[tuple[int, int]] = []
        at = text.find(_BLOCK)
        while at >= 0:
            begin = at + len(_BLOCK) - 1  # the newline before the first item
            close = text.find("</matches>", begin)
            end = text.rfind("\n", begin, close) if close >= 0 else -1
            start_of_line = text.rfind("\n", 0, at) + 1
            if (
                end < begin
                or not _SPACES.fullmatch(text, end + 1, close)
                or not _SPACES.fullmatch(text, start_of_line, at)
            ):
                return None
            if not _BLANK.fullmatch(text, begin, end):  # (no items: parsed as it is)
                spans.append((begin, end))
            at = text.find(_BLOCK, close)
        if not spans:
            return None
        item = _FIRST_ITEM.match(text, spans[0][0])
        if item is None or len(item[2]) <= len(item[1]):
            return None
        scanned = scan_items(
            text, spans, _XML_ITEMS, (len(item[1]), len(item[2])), lambda t: t.decode()
        )
        if scanned is None:
            return None
        rest: list[str] = []
        tags: list[int] = []
        line, done = 1, 0
        for (begin, end), size in zip(spans, np.diff(scanned.bounds).tolist(), strict=True):
            line += text.count("\n", done, begin)
            tags.append(line)
            rest.append(text[done:begin])
            line += 4 * size  # the items' lines
            done = end
        rest.append(text[done:])
        return cls("".join(rest), scanned, tags)

    def line(self, line: int) -> int:
        """The document's line of ``line`` of ``rest``."""
        blocks = bisect_left(self._lines, line)  # the blocks whose <matches> is before
        return line + (self._shift[blocks - 1] if blocks else 0)

    def claim(self, matches: _Element) -> bool:
        """Whether ``matches`` is the next block's; raises :class:`_Unscanned` for one
        that is not a block's but has items (they cannot join the columns)."""
        number = len(self._columns.donors)
        if number < len(self._tags) and matches.line == self._tags[number]:
            return True
        if matches.children or matches.line in self._tag_lines:  # (a block passed over)
            raise _Unscanned
        return False

    def add(self, builder: PoolBuilder, donor_id: str) -> None:
        """Hand the next block to ``donor_id``; its first bad score is an error."""
        number = len(self._columns.donors)
        refused = self._columns.add(donor_id)
        if refused is not None:
            at, text = refused
            raise builder.error(
                f"expected {WEIGHT.expected} in <score>, found {quote(text.strip())}",
                self._tags[number] + 4 * at + 3,
            )

    def put(self, builder: PoolBuilder) -> None:
        """Give ``builder`` the arcs of the blocks; raises :class:`_Unscanned` unless
        every block was claimed."""
        if len(self._columns.donors) != len(self._tags):
            raise _Unscanned
        builder.add_arc_columns(self._columns.arcs(builder.patient_ids()), self._place)

    def _place(self, row: int) -> int:
        number, at = self._columns.item(row)
        return self._tags[number] + 4 * at + 2


def _weight(text: str) -> float:
    """A score's text as the reader takes it; :class:`FormatError` (without a place)
    when it does not."""
    value = text_number(text.strip())
    if value is None or not WEIGHT.contains(value):
        raise FormatError("refused score")
    return value


def _add_entry(builder: PoolBuilder, entry: _Element, blocks: _Blocks | None = None) -> None:
    """Add the donor of one ``<entry>``, their paired patient if new, and their arcs."""
    _no_text(builder, entry)
    if "donor_id" not in entry.attrib:
        raise builder.error("missing attribute donor_id on <entry>", entry.line)
    donor_id = entry.attrib["donor_id"]
    who = f"donor {quote(donor_id)}"
    fields: dict[str, _Element] = {}
    for child in entry.children:
        if child.tag in fields:
            raise builder.error(
                f"<{child.tag}> given twice for {who} (first on line {fields[child.tag].line}); "
                "expected at most one",
                child.line,
            )
        fields[child.tag] = child
    patient = _paired_patient(builder, entry, fields, who)
    groups = [
        (element, builder.blood_group(element.text, element.line, f"{who} blood group"))
        for name in ("bloodgroup", "bloodtype")
        if (element := fields.get(name)) is not None
    ]
    if len(groups) == 2 and groups[0][1] != groups[1][1]:
        raise builder.error(
            f"<bloodgroup> and <bloodtype> of {who} disagree; expected one value",
            groups[1][0].line,
        )
    age = fields.get("dage")
    builder.add_donor(
        entry.line,
        donor_id,
        patient,
        blood_group=groups[0][1] if groups else None,
        age=None if age is None else _number(builder, age, AGE),
    )
    matches = fields.get("matches")
    if matches is not None and blocks is not None and blocks.claim(matches):
        _no_text(builder, matches)
        blocks.add(builder, donor_id)
    elif matches is not None:
        _add_matches(builder, matches, donor_id, who)


def _paired_patient(
    builder: PoolBuilder, entry: _Element, fields: dict[str, _Element], who: str
) -> str | None:
    """The patient in ``<sources>`` (added to the pool when first seen), or ``None`` for
    an altruist; ``<altruistic>`` must agree."""
    patients: list[tuple[str, int]] = []
    sources = fields.get("sources")
    if sources is not None:
        _no_text(builder, sources)
        for source in sources.children:
            if source.tag != "source":
                raise builder.error(
                    f"unexpected element <{source.tag}> in <sources>; expected <source>",
                    source.line,
                )
            if not source.text:
                raise builder.error("expected a patient id in <source>, found nothing", source.line)
            patients.append((source.text, source.line))
    if len(patients) > 1:
        raise builder.error(
            f"{who} has {len(patients)} paired patients "
            f"({', '.join(quote(p) for p, _ in patients)}); "
            "kidneyshare pairs each donor with exactly one patient",
            sources.line if sources is not None else entry.line,
        )
    flag = fields.get("altruistic")
    if flag is not None:
        value = flag.text.lower()
        if value not in _TRUE | _FALSE:
            raise builder.error(
                f"expected true or false in <altruistic>, found {quote(flag.text)}", flag.line
            )
        if value in _TRUE and patients:
            raise builder.error(
                f"altruist with a paired patient: {who} is marked altruistic but lists "
                f"patient {quote(patients[0][0])} in <sources>; a non-directed donor has no "
                "paired patient",
                flag.line,
            )
        if value in _FALSE and not patients:
            raise builder.error(
                f"{who} is marked altruistic false but lists no paired patient; expected a "
                "<source>, or <altruistic>true</altruistic>",
                flag.line,
            )
    if not patients:
        return None
    patient, line = patients[0]
    if not builder.has_patient(patient):
        builder.add_patient(line, patient)
    return patient


def _add_matches(builder: PoolBuilder, matches: _Element, donor_id: str, who: str) -> None:
    _no_text(builder, matches)
    for match in matches.children:
        if match.tag != "match":
            raise builder.error(
                f"unexpected element <{match.tag}> in <matches>; expected <match>", match.line
            )
        _no_text(builder, match)
        parts: dict[str, list[_Element]] = {"recipient": [], "score": []}
        for child in match.children:
            if child.tag in parts:
                parts[child.tag].append(child)
        for name, found in parts.items():
            if len(found) != 1:
                raise builder.error(
                    f"expected exactly one <{name}> in <match> of {who}, found {len(found)}",
                    match.line,
                )
        recipient = parts["recipient"][0]
        if not recipient.text:
            raise builder.error(
                "expected a patient id in <recipient>, found nothing", recipient.line
            )
        score = _number(builder, parts["score"][0], WEIGHT)
        builder.add_arc(recipient.line, donor_id, recipient.text, score)


def _no_text(builder: PoolBuilder, element: _Element) -> None:
    """Text directly inside a container element is a mistake, never ignored."""
    if element.text:
        raise builder.error(
            f"unexpected text {quote(element.text[:40])} directly inside <{element.tag}>; "
            "expected only elements there",
            element.line,
        )


def _number(builder: PoolBuilder, element: _Element, allowed: Range) -> float:
    value = text_number(element.text)
    if value is None or not allowed.contains(value):
        raise builder.error(
            f"expected {allowed.expected} in <{element.tag}>, found {quote(element.text)}",
            element.line,
        )
    return value


def _text(value: str, who: str, instance: Instance) -> str:
    if _NOT_XML.search(value):
        raise FormatError(
            f"{quote(value)} holds a character that XML 1.0 cannot carry",
            source=instance.name or "<instance>",
            location=who,
        )
    return escape(value, _ESCAPES)


def _attribute(value: str, who: str, instance: Instance) -> str:
    _text(value, who, instance)
    return quoteattr(value)


def _number_text(value: float) -> str:
    """``1`` for 1.0 (as in kep_solver's files), else the shortest exact decimal."""
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(float(value))


def dump_glasgow_xml(instance: Instance) -> str:
    """Write ``instance`` in the Glasgow XML form.

    Donors' ages and blood groups and arcs' scores are written; patients appear by id
    only (the format has no place for their details), and the pool's name and arcs'
    probabilities are left out. Non-directed donors get
    ``<altruistic>true</altruistic>`` and no ``<sources>``.

    Raises
    ------
    FormatError
        when an id holds a character that XML 1.0 cannot carry (a control character).

    References
    ----------
    .. [1] W. Pettersson, kep_solver documentation, "File formats" (XML).
    """
    return "".join(_pieces(instance))


def _pieces(instance: Instance) -> Iterator[str]:
    """The text of :func:`dump_glasgow_xml` in pieces, a donor at a time, each donor's
    matches formatted from the arc columns (each patient's and score's text once). Every
    id is checked before the first piece, in the order the text names them."""
    table = instance.arc_table()
    order = np.argsort(table.donor, kind="stable")
    patient = table.patient[order]
    scores, score = distinct(table.weight[order])
    bounds = np.searchsorted(table.donor[order], np.arange(len(table.donors) + 1)).tolist()
    number: dict[str, int] = {d: i for i, d in enumerate(table.donors)}
    carried = [not _NOT_XML.search(p) for p in table.patients]
    for d in instance.donors:  # an error before any text is written
        who = f"donor {quote(d.id)}"
        _attribute(d.id, who, instance)
        if d.patient is not None:
            _text(d.patient, who, instance)
        at = number.get(d.id)
        if at is not None and not all(map(carried.__getitem__, _rows(patient, bounds, at))):
            bad = next(p for p in _rows(patient, bounds, at) if not carried[p])
            _text(table.patients[bad], who, instance)
    opening = [
        f"      <match>\n        <recipient>{escape(p, _ESCAPES)}</recipient>\n        <score>"
        for p in table.patients
    ]
    closing = [f"{_number_text(w)}</score>\n      </match>\n" for w in scores.tolist()]
    yield '<?xml version="1.0" encoding="utf-8"?>\n<data>\n'
    for d in instance.donors:
        lines = [f"  <entry donor_id={quoteattr(d.id)}>\n"]
        if d.age is not None:
            lines.append(f"    <dage>{_number_text(d.age)}</dage>\n")
        if d.blood_group is not None:
            lines.append(f"    <bloodgroup>{d.blood_group.value}</bloodgroup>\n")
        if d.patient is None:
            lines.append("    <altruistic>true</altruistic>\n")
        else:
            source = escape(d.patient, _ESCAPES)
            lines.append(f"    <sources>\n      <source>{source}</source>\n    </sources>\n")
        at = number.get(d.id)
        if at is None or bounds[at] == bounds[at + 1]:
            lines.append("    <matches/>\n")
        else:
            begin, end = bounds[at], bounds[at + 1]
            lines.append("    <matches>\n")
            lines.extend(
                map(
                    add,
                    map(opening.__getitem__, patient[begin:end].tolist()),
                    map(closing.__getitem__, score[begin:end].tolist()),
                )
            )
            lines.append("    </matches>\n")
        lines.append("  </entry>\n")
        yield "".join(lines)
    yield "</data>\n"


def _rows(patient: npt.NDArray[np.int64], bounds: list[int], at: int) -> list[int]:
    """The patients of donor number ``at``'s arcs."""
    rows: list[int] = patient[bounds[at] : bounds[at + 1]].tolist()
    return rows


def read_glasgow_xml(path: StrPath) -> Instance:
    """Read a Glasgow XML file (gzipped or not); see :func:`parse_glasgow_xml`.

    Raises
    ------
    OSError
        when the file cannot be read.
    FormatError
        as :func:`parse_glasgow_xml`, naming the file.
    """
    text, source = read_text(path)
    return parse_glasgow_xml(text, source)


def write_glasgow_xml(instance: Instance, path: StrPath) -> None:
    """Write ``instance`` in the Glasgow XML form to ``path`` (gzipped if ``.gz``)."""
    write_text(path, _pieces(instance))
