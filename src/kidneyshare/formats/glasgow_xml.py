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

References
----------
.. [1] W. Pettersson, kep_solver documentation, "File formats" (XML),
   https://kep-solver.readthedocs.io/
"""

from __future__ import annotations

import re
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser, ParseError

from kidneyshare.errors import FormatError
from kidneyshare.formats._files import StrPath, read_text, write_text
from kidneyshare.formats._pool import PoolBuilder
from kidneyshare.formats._values import AGE, WEIGHT, Range, quote, text_number
from kidneyshare.model import Arc, Instance

__all__ = ["dump_glasgow_xml", "parse_glasgow_xml", "read_glasgow_xml", "write_glasgow_xml"]

_TRUE = frozenset({"true", "1"})
_FALSE = frozenset({"false", "0"})
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
    """

    def __init__(self, builder: PoolBuilder) -> None:
        self.builder = builder
        self.expat: Any = None  # the expat parser, asked for the line of each start tag
        self.stack: list[_Element] = []

    def start(self, tag: str, attrib: dict[str, str]) -> None:
        element = _Element(tag, attrib, self.expat.CurrentLineNumber)
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
        _add_entry(self.builder, entry)


def _read_entries(text: str, builder: PoolBuilder) -> None:
    """Parse ``text`` safely, feeding its entries to ``builder``."""
    target = _EntryReader(builder)
    parser = DefusedXMLParser(target=target)
    target.expat = parser.parser
    try:
        parser.feed(text)
        parser.close()
    except ParseError as exc:
        line, column = exc.position
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
            target.expat.CurrentLineNumber,
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
    builder = PoolBuilder(source)
    _read_entries(text, builder)
    return builder.build()


def _add_entry(builder: PoolBuilder, entry: _Element) -> None:
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
    if matches is not None:
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
    return escape(value, {"\r": "&#13;"})


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
    matches: dict[str, list[Arc]] = {d.id: [] for d in instance.donors}
    for arc in instance.arcs:
        matches[arc.donor].append(arc)
    lines = ['<?xml version="1.0" encoding="utf-8"?>', "<data>"]
    for d in instance.donors:
        who = f"donor {quote(d.id)}"
        lines.append(f"  <entry donor_id={_attribute(d.id, who, instance)}>")
        if d.age is not None:
            lines.append(f"    <dage>{_number_text(d.age)}</dage>")
        if d.blood_group is not None:
            lines.append(f"    <bloodgroup>{d.blood_group.value}</bloodgroup>")
        if d.patient is None:
            lines.append("    <altruistic>true</altruistic>")
        else:
            lines.append("    <sources>")
            lines.append(f"      <source>{_text(d.patient, who, instance)}</source>")
            lines.append("    </sources>")
        if not matches[d.id]:
            lines.append("    <matches/>")
        else:
            lines.append("    <matches>")
            for a in matches[d.id]:
                lines.append("      <match>")
                lines.append(f"        <recipient>{_text(a.patient, who, instance)}</recipient>")
                lines.append(f"        <score>{_number_text(a.weight)}</score>")
                lines.append("      </match>")
            lines.append("    </matches>")
        lines.append("  </entry>")
    lines.append("</data>")
    return "\n".join(lines) + "\n"


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
    write_text(path, dump_glasgow_xml(instance))
