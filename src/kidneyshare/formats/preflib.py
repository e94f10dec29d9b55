"""PrefLib kidney instances: weighted matching data (``.wmd``) and its ``.dat`` companion.

Both ``.wmd`` layouts are read; the 2022 one is written.

- **2022 layout**: header lines ``# KEY: value`` (``NUMBER ALTERNATIVES`` = V vertices,
  ``NUMBER EDGES`` = E arc lines, ``ALTERNATIVE NAME i`` = the label of vertex i, and
  ``FILE NAME``, ``TITLE`` ... which are kept only as the pool's name from ``TITLE``),
  then E lines ``src,dst,weight`` with 1-based vertex ids.
- **old layout**: a first line ``V,E``, then V lines ``i,<label>``, then E lines
  ``src,dst,weight`` with **0-based** vertex ids.

A vertex labelled ``Pair i`` is a patient with one paired donor: patient ``"i"`` and
donor ``"i"``. A vertex labelled ``Alturist i`` (PrefLib's spelling) or ``Altruist i``
is the non-directed donor ``"i"``. The number in a label must be the vertex's own.

An arc ``u,v,w`` means that the donor of u can give to the patient of v, with weight w.
PrefLib adds a weight-0 arc from every pair to every altruist so that chains can be
modelled as cycles; an altruist has no patient, so every arc into an altruist is such
a dummy and is dropped. All other arcs are kept with their weight.

The ``.dat`` companion is a CSV with the header
``Pair,Patient,Donor,Wife-P?,%Pra,Out-Deg,Altruist`` and one row per vertex: the
patient's and donor's ABO groups, the spousal flag, ``%Pra`` (the patient's
probability of a positive crossmatch, kept as the patient's ``cpra``), the vertex's
number of arc lines in the ``.wmd`` (dummy arcs included) and the altruist flag. On
altruist rows the blood types disagree with the arcs in PrefLib's files, so they are
checked for form but not used. An empty blood-type or ``%Pra`` cell means unknown
(kidneyshare writes one where the pool does not know the value).

Large pools (a 10,000-pair pool has 38 million arc lines): arc lines of plain digits
are read as columns with array operations (numpy), each distinct weight text once, and
any other line as Python reads numbers, so the same lines are accepted and the same
first error is reported as by a line-by-line reader; writing formats the lines of one
source and weight in one piece.

References
----------
.. [1] N. Mattei and T. Walsh, "PrefLib: A Library for Preferences", ADT 2013;
   dataset 00036 "kidney", https://www.preflib.org/dataset/00036
.. [2] J. P. Dickerson, A. D. Procaccia and T. Sandholm, "Optimizing Kidney Exchange
   with Transplant Chains: Theory and Reality", AAMAS 2012.
.. [3] S. L. Saidman, A. E. Roth, T. Sönmez, M. U. Ünver and F. L. Delmonico,
   "Increasing the opportunity of live kidney donation by matching for two- and
   three-way exchanges", Transplantation 81(5) (2006).
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import chain
from pathlib import Path

import numpy as np
import numpy.typing as npt

from kidneyshare.errors import FormatError, ModelError
from kidneyshare.formats._arcs import FloatArray, IntArray, byte_texts, distinct, runs
from kidneyshare.formats._files import StrPath, read_text, write_text
from kidneyshare.formats._values import FRACTION, quote, text_number
from kidneyshare.model import ArcTable, BloodGroup, Donor, DonorId, Instance, Patient, PatientId

__all__ = [
    "DAT_HEADER",
    "dat_path_for",
    "dump_preflib",
    "dump_preflib_dat",
    "parse_preflib",
    "read_preflib",
    "write_preflib",
]

DAT_HEADER = ("Pair", "Patient", "Donor", "Wife-P?", "%Pra", "Out-Deg", "Altruist")
"""The columns of a ``.dat`` companion file, in order."""

_PAIR_LABEL = "Pair"
_ALTRUIST_LABELS = ("Alturist", "Altruist")
_NAME_KEY = "ALTERNATIVE NAME"
_HEADER_KEYS = (
    "FILE NAME",
    "TITLE",
    "DESCRIPTION",
    "DATA TYPE",
    "MODIFICATION TYPE",
    "RELATES TO",
    "RELATED FILES",
    "PUBLICATION DATE",
    "MODIFICATION DATE",
)


@dataclass(slots=True)
class _Graph:
    """The ``.wmd`` read: vertex kinds, kept arcs and what the ``.dat`` is checked against."""

    altruist: list[bool]  # by vertex number; index 0 unused
    src: IntArray  # the kept arcs (dummy arcs dropped), 1-based vertex numbers
    dst: IntArray
    weight: FloatArray
    out_degree: list[int]  # arc lines from each vertex, dummy arcs included
    name: str


def parse_preflib(
    text: str,
    source: str = "<text>",
    dat_text: str | None = None,
    dat_source: str = "<dat>",
) -> Instance:
    """Read a pool from a PrefLib ``.wmd`` (either layout) and optionally its ``.dat``.

    Parameters
    ----------
    text
        The ``.wmd`` text.
    source
        The ``.wmd`` file name to report in errors.
    dat_text
        The ``.dat`` companion's text, if there is one.
    dat_source
        The ``.dat`` file name to report in errors.

    Returns
    -------
    Instance
        Patients and donors in vertex order, arcs in file order, dummy arcs into
        altruists dropped; named after the ``TITLE`` header (2022 layout) if any.

    Raises
    ------
    FormatError
        located by line: a malformed header or count line, an unknown vertex label, a
        missing or repeated vertex, an arc line that is not ``src,dst,weight``, a
        non-integer vertex id, an arc naming no vertex, a negative or non-numeric
        weight, a repeated arc, more or fewer arc lines than the header announces, an
        empty pool; in the ``.dat``: a wrong header or row count, an unknown blood
        group, a ``%Pra`` outside [0, 1], or an ``Out-Deg`` or ``Altruist`` flag that
        disagrees with the ``.wmd``.

    References
    ----------
    .. [1] PrefLib dataset 00036 "kidney", https://www.preflib.org/dataset/00036

    Examples
    --------
    An old-layout file: pair 1, altruist 2, the dummy arc 0,1 into the altruist and the
    arc 1,0 from the altruist to the pair (ids 0-based):

    >>> pool = parse_preflib("2,2\\n1,Pair 1\\n2,Alturist 2\\n0,1,0\\n1,0,1\\n")
    >>> [(a.donor, a.patient, a.weight) for a in pool.arcs]
    [('2', '1', 1.0)]
    >>> parse_preflib("2,3\\n1,Pair 1\\n2,Alturist 2\\n0,1,0\\n1,0,1\\n1,0,1\\n", "x.wmd")
    Traceback (most recent call last):
    ...
    kidneyshare.errors.FormatError: x.wmd, line 6: the arc 1,0 appears twice (first on line 5)
    """
    graph = _WmdReader(text, source).read()
    count = len(graph.altruist) - 1
    rows = _read_dat(dat_text, dat_source, graph) if dat_text is not None else None
    patients: list[Patient] = []
    donors: list[Donor] = []
    patient_of = np.full(count + 1, -1, dtype=np.int64)  # vertex -> position in patients
    try:
        for vertex in range(1, count + 1):
            donor_id = DonorId(str(vertex))
            if graph.altruist[vertex]:
                donors.append(Donor(donor_id))
                continue
            patient_group, donor_group, cpra = rows[vertex - 1] if rows else (None, None, None)
            patient_id = PatientId(str(vertex))
            patient_of[vertex] = len(patients)
            patients.append(Patient(patient_id, patient_group, cpra))
            donors.append(Donor(donor_id, patient_id, donor_group))
        arcs = ArcTable(
            [d.id for d in donors],
            [p.id for p in patients],
            graph.src - 1,
            patient_of[graph.dst],
            graph.weight,
        )
        return Instance(patients, donors, arcs, graph.name)
    except ModelError as exc:
        raise FormatError(str(exc), source=source) from exc


_ODD_BREAKS = re.compile("[\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")
"""Line breaks other than ``\\n`` that :meth:`str.splitlines` (the line numbering) knows."""

_CHUNK_LINES = 1 << 18  # arc lines parsed at a time: the arrays of one chunk stay small
_DIGITS = 15  # longest vertex id parsed with array operations (exact in float64 sums)
_WIDEST = 64  # longest weight text parsed with array operations


class _WmdReader:
    """One pass over the lines of a ``.wmd`` text."""

    def __init__(self, text: str, source: str) -> None:
        self.source = source
        if _ODD_BREAKS.search(text):
            text = "\n".join(text.splitlines())
        # Lines are found in the UTF-8 bytes (with numpy) and decoded when one is read:
        # a pool of 10,000 pairs has 38 million lines, too many to hold as strings.
        self.data = text.encode("utf-8")
        self.buf = np.frombuffer(self.data, np.uint8)
        self.breaks = np.flatnonzero(self.buf == ord("\n"))
        end = len(self.breaks) + (0 if text.endswith("\n") or not text else 1)
        while end and not self.line(end - 1).strip():
            end -= 1
        self.end = end  # trailing blank lines are not records

    def start(self, number: int) -> int:
        """Where line ``number`` (0-based) starts in :attr:`data`."""
        return 0 if number == 0 else int(self.breaks[number - 1]) + 1

    def stop(self, number: int) -> int:
        """Where line ``number`` (0-based) ends in :attr:`data`, its break excluded."""
        return int(self.breaks[number]) if number < len(self.breaks) else len(self.data)

    def line(self, number: int) -> str:
        return self.data[self.start(number) : self.stop(number)].decode("utf-8")

    def error(self, message: str, line: int | None) -> FormatError:
        return FormatError(
            message, source=self.source, location=None if line is None else f"line {line}"
        )

    def read(self) -> _Graph:
        if not self.end:
            raise self.error("empty file: expected a PrefLib .wmd (a header, then arcs)", None)
        if self.line(0).startswith("#"):
            altruist, first_arc, edges, edges_line, name = self._header_2022()
            base = 1
        else:
            altruist, first_arc, edges, edges_line = self._header_old()
            name, base = "", 0
        return self._arcs(altruist, first_arc, edges, edges_line, name, base)

    def _count(self, text: str, what: str, line: int) -> int:
        try:
            value = int(text)
        except ValueError:
            value = -1
        if value < 0:
            raise self.error(f"expected {what} (an integer >= 0), found {quote(text)}", line)
        return value

    def _header_2022(self) -> tuple[list[bool], int, int, int, str]:
        header: dict[str, tuple[str, int]] = {}
        labels: dict[int, tuple[str, int]] = {}
        number = 0
        while number < self.end and (line := self.line(number)).startswith("#"):
            number += 1
            name, colon, value = line[1:].partition(":")
            name, value = name.strip(), value.strip()
            if not colon or not name:
                raise self.error(
                    f'expected a header line "# KEY: value", found {quote(line)}', number
                )
            if name.startswith(_NAME_KEY):
                vertex_text = name[len(_NAME_KEY) :].strip()
                vertex = self._count(vertex_text, f'a vertex number after "{_NAME_KEY}"', number)
                if vertex in labels:
                    first = labels[vertex][1]
                    raise self.error(
                        f"vertex {vertex} is named twice (first on line {first})", number
                    )
                labels[vertex] = (value, number)
            elif name in header:
                raise self.error(
                    f'header key "{name}" given twice (first on line {header[name][1]})', number
                )
            else:
                header[name] = (value, number)
        first_arc = number

        kind = header.get("DATA TYPE")
        if kind is not None and kind[0].lower() != "wmd":
            raise self.error(
                f'expected DATA TYPE "wmd" (weighted matching data), found {quote(kind[0])}',
                kind[1],
            )
        counts: list[tuple[int, int]] = []
        for key, what in (
            ("NUMBER ALTERNATIVES", "the number of vertices"),
            ("NUMBER EDGES", "the number of arc lines"),
        ):
            if key not in header:
                raise self.error(f'missing header line "# {key}: <{what}>"', first_arc)
            value, at = header[key]
            counts.append((self._count(value, what, at), at))
        (vertices, vertices_line), (edges, edges_line) = counts
        altruist = [False] * (vertices + 1)
        for vertex, (label, at) in labels.items():
            if not 1 <= vertex <= vertices:
                expected = f"; expected vertices 1-{vertices}" if vertices else ""
                raise self.error(
                    f"vertex {vertex} is beyond NUMBER ALTERNATIVES: {vertices}{expected}", at
                )
            altruist[vertex] = self._label(label, vertex, at)
        for vertex in range(1, vertices + 1):
            if vertex not in labels:
                raise self.error(
                    f'no "# {_NAME_KEY} {vertex}: <label>" line; expected one for each '
                    f"vertex 1-{vertices}",
                    vertices_line,
                )
        title = header.get("TITLE", ("", 0))[0]
        return altruist, first_arc, edges, edges_line, title

    def _header_old(self) -> tuple[list[bool], int, int, int]:
        first = self.line(0)
        counts = first.split(",")
        if len(counts) != 2:
            raise self.error(
                'expected a first line "V,E" (vertex and arc counts) or a '
                f'"# KEY: value" header, found {quote(first)}',
                1,
            )
        vertices = self._count(counts[0].strip(), "the number of vertices V", 1)
        edges = self._count(counts[1].strip(), "the number of arcs E", 1)
        altruist = [False] * (vertices + 1)
        for vertex in range(1, vertices + 1):
            if vertex >= self.end:
                raise self.error(
                    f"the file ends after {vertex - 1} vertex lines; expected {vertices}",
                    self.end,
                )
            line = self.line(vertex)
            number, comma, label = line.partition(",")
            if not comma or number.strip() != str(vertex):
                raise self.error(
                    f'expected the vertex line "{vertex},<label>", found {quote(line)}',
                    vertex + 1,
                )
            altruist[vertex] = self._label(label, vertex, vertex + 1)
        return altruist, vertices + 1, edges, 1

    def _label(self, label: str, vertex: int, line: int) -> bool:
        """Whether the vertex labelled ``label`` is an altruist."""
        kind, _, number = label.strip().partition(" ")
        expected = f'expected "{_PAIR_LABEL} {vertex}" or "{_ALTRUIST_LABELS[0]} {vertex}"'
        if kind != _PAIR_LABEL and kind not in _ALTRUIST_LABELS:
            raise self.error(f"unknown vertex label {quote(label.strip())}; {expected}", line)
        if number.strip() != str(vertex):
            raise self.error(
                f"vertex label {quote(label.strip())} does not name vertex {vertex}; {expected}",
                line,
            )
        return kind != _PAIR_LABEL

    def _arcs(
        self,
        altruist: list[bool],
        first_arc: int,
        edges: int,
        edges_line: int,
        name: str,
        base: int,
    ) -> _Graph:
        vertices = len(altruist) - 1
        if vertices == 0:
            raise self.error(
                "empty pool: the file declares 0 vertices; expected at least one",
                edges_line,
            )
        src, dst, weight, malformed = self._arc_columns(first_arc)
        shift = 1 - base  # to 1-based
        src += shift
        dst += shift
        # The first line in error, as a line-by-line reader would find it: a line that is
        # not src,dst,weight, names no vertex or has a bad weight, or repeats an earlier arc.
        refused = (
            malformed
            | (src < 1)
            | (src > vertices)
            | (dst < 1)
            | (dst > vertices)
            | ~((weight >= 0) & (weight < math.inf))
        )
        found = self.end - first_arc
        row = int(np.argmax(refused)) if refused.any() else found
        key = src[:row] * (vertices + 1) + dst[:row]
        if not (key[1:] > key[:-1]).all():  # lines in order (as written) repeat nothing
            names = [str(v) for v in range(vertices + 1)]
            before = ArcTable(names, names, src[:row], dst[:row], weight[:row])
            repeat = before.duplicate()
            if repeat is not None:
                first = before.position(str(src[repeat]), str(dst[repeat]))
                arc = f"{src[repeat] - shift},{dst[repeat] - shift}"
                raise self.error(
                    f"the arc {arc} appears twice (first on line {first_arc + (first or 0) + 1})",
                    first_arc + repeat + 1,
                )
        del key
        if row < found:
            raise self._refused(row, first_arc, src, dst, malformed, vertices, base)
        if found > edges:
            raise self.error(
                f"more arc lines than NUMBER EDGES: expected {edges} arcs (line {edges_line}), "
                f"found {found}",
                first_arc + edges + 1,
            )
        if found < edges:
            raise self.error(
                f"expected {edges} arc lines (line {edges_line}), found {found}: "
                "is the file truncated?",
                self.end,
            )
        out_degree = np.bincount(src, minlength=vertices + 1).tolist()
        kept = ~np.asarray(altruist)[dst]  # arcs into an altruist are PrefLib's dummies
        return _Graph(altruist, src[kept], dst[kept], weight[kept], out_degree, name)

    def _refused(
        self,
        row: int,
        first_arc: int,
        src: IntArray,
        dst: IntArray,
        malformed: npt.NDArray[np.bool_],
        vertices: int,
        base: int,
    ) -> FormatError:
        """The error of the arc line in ``row``, which is malformed, names no vertex or
        has a bad weight."""
        number = first_arc + row + 1
        line = self.line(first_arc + row)
        if malformed[row]:
            return self._bad_arc(line, number)
        s, d = int(src[row]), int(dst[row])
        if not (1 <= s <= vertices and 1 <= d <= vertices):
            return self._unknown_vertex(line, s, d, vertices, base, number)
        return self.error(
            f"expected a weight (a finite number >= 0) in arc {quote(line)}, "
            f"found {quote(line.split(',')[2].strip())}",
            number,
        )

    def _arc_columns(
        self, first_arc: int
    ) -> tuple[IntArray, IntArray, FloatArray, npt.NDArray[np.bool_]]:
        """Source, destination and weight of the arc lines as written, and which lines
        are not ``src,dst,weight`` (their values are then 0)."""
        found = max(self.end - first_arc, 0)
        src, dst = np.zeros(found, np.int64), np.zeros(found, np.int64)
        weight, malformed = np.zeros(found), np.zeros(found, dtype=bool)
        for first in range(first_arc, self.end, _CHUNK_LINES):
            rows = slice(first - first_arc, min(first + _CHUNK_LINES, self.end) - first_arc)
            (src[rows], dst[rows], weight[rows], malformed[rows]) = self._arc_chunk(
                first, min(first + _CHUNK_LINES, self.end)
            )
        return src, dst, weight, malformed

    def _arc_chunk(
        self, first: int, end: int
    ) -> tuple[IntArray, IntArray, FloatArray, npt.NDArray[np.bool_]]:
        """:meth:`_arc_columns` of lines ``first`` to ``end - 1``.

        Lines of digits, a comma, digits, a comma and a weight are read with array
        operations, each distinct weight text once; any other line as ``int``, ``int``,
        ``float`` of its three comma-separated parts, as Python reads them.
        """
        begin = self.start(first)
        buf = self.buf[begin : self.stop(end - 1)]
        stops = np.append(self.breaks[first : end - 1], begin + len(buf)) - begin
        starts = np.concatenate(([0], stops[:-1] + 1))
        commas = np.flatnonzero(buf == ord(","))
        count = np.bincount(np.searchsorted(stops, commas), minlength=len(stops))
        at = np.minimum(np.cumsum(count) - count, max(len(commas) - 2, 0))
        plain = count == 2
        c1 = np.where(plain, commas[at] if len(commas) else 0, starts)
        c2 = np.where(plain, commas[at + 1] if len(commas) > 1 else 0, starts)
        plain &= (
            _between(c1 - starts, 1, _DIGITS)
            & _between(c2 - c1 - 1, 1, _DIGITS)
            & _between(stops - c2 - 1, 1, _WIDEST)
        )
        # control (but the line breaks) or non-ASCII bytes
        odd = np.flatnonzero(((buf < 0x20) & (buf != ord("\n"))) | (buf >= 0x80))
        plain[np.searchsorted(stops, odd)] = False
        src, digits = _number(buf, starts, c1)
        dst, more_digits = _number(buf, c1 + 1, c2)
        plain &= digits & more_digits
        src[~plain] = 0
        dst[~plain] = 0
        weight = np.zeros(len(stops))
        malformed = ~plain
        chosen = np.flatnonzero(plain)
        texts, codes = distinct(byte_texts(buf, c2[chosen] + 1, stops[chosen]))
        values = [text_number(t.decode("ascii")) for t in texts.tolist()]
        numbers = np.array([0.0 if v is None else v for v in values], dtype=np.float64)
        weight[chosen] = numbers[codes]
        malformed[chosen] = np.array([v is None for v in values], dtype=bool)[codes]
        for row in np.flatnonzero(~plain).tolist():  # rare: spaces, signs, other digits ...
            parsed = _parse_arc(self.line(first + row))
            if parsed is not None:
                src[row], dst[row], weight[row] = parsed
                malformed[row] = False
        return src, dst, weight, malformed

    def _bad_arc(self, line: str, number: int) -> FormatError:
        fields = [part.strip() for part in line.split(",")]
        if len(fields) != 3:
            found = "an empty line" if not line.strip() else quote(line)
            return self.error(f'expected an arc line "src,dst,weight", found {found}', number)
        for part in fields[:2]:
            try:
                int(part)
            except ValueError:
                return self.error(
                    f"expected integer vertex ids in arc {quote(line)}, found {quote(part)}",
                    number,
                )
        return self.error(
            f"expected a weight (a finite number >= 0) in arc {quote(line)}, "
            f"found {quote(fields[2])}",
            number,
        )

    def _unknown_vertex(
        self, line: str, src: int, dst: int, vertices: int, base: int, number: int
    ) -> FormatError:
        bad = src if not 1 <= src <= vertices else dst
        return self.error(
            f"arc {quote(line)} names unknown vertex {bad - 1 + base}; expected vertex ids "
            f"{base}-{vertices - 1 + base} ({vertices} vertices, numbered from {base} in "
            "this layout's arcs)",
            number,
        )


_LIMIT = 1 << 62  # vertex ids beyond this are kept at it (they name no vertex either way)


def _parse_arc(line: str) -> tuple[int, int, float] | None:
    """``src,dst,weight`` read as Python reads numbers, or ``None`` if it is not that."""
    try:
        s, d, w = line.split(",")
        return max(-_LIMIT, min(int(s), _LIMIT)), max(-_LIMIT, min(int(d), _LIMIT)), float(w)
    except ValueError:
        return None


def _between(values: IntArray, low: int, high: int) -> npt.NDArray[np.bool_]:
    return (values >= low) & (values <= high)


def _number(
    buf: npt.NDArray[np.uint8], begin: IntArray, end: IntArray
) -> tuple[IntArray, npt.NDArray[np.bool_]]:
    """``buf[begin[i]:end[i]]`` read as a decimal number, and whether it is digits only;
    rows longer than :data:`_DIGITS` give nonsense, and are not used."""
    width = int(np.clip((end - begin).max(), 1, _DIGITS)) if len(end) else 1
    places = np.arange(width - 1, -1, -1)
    at = end[:, None] - 1 - places  # right-aligned: the last digit is the units
    digits = np.take(buf, at, mode="clip") - np.uint8(ord("0"))  # not a digit: above 9
    digits[at < begin[:, None]] = 0
    values: IntArray = digits.astype(np.int64) @ (10**places)
    return values, np.asarray((digits <= 9).all(axis=1))


_Row = tuple[BloodGroup | None, BloodGroup | None, float | None]


def _read_dat(text: str, source: str, graph: _Graph) -> list[_Row]:
    """The ``(patient group, donor group, %Pra)`` of each vertex, checked against the graph.

    Altruist rows give ``(None, None, None)``: their blood types are not trusted.
    """

    def error(message: str, line: int | None) -> FormatError:
        return FormatError(
            message, source=source, location=None if line is None else f"line {line}"
        )

    lines = text.splitlines()
    end = len(lines)
    while end and not lines[end - 1].strip():
        end -= 1
    if not end:
        raise error(f"empty file: expected the header {','.join(DAT_HEADER)}", None)
    header = tuple(cell.strip() for cell in lines[0].split(","))
    if header != DAT_HEADER:
        raise error(
            f"expected the header {quote(','.join(DAT_HEADER))}, found {quote(lines[0])}", 1
        )
    vertices = len(graph.altruist) - 1
    if end - 1 != vertices:
        raise error(
            f"expected {vertices} rows, one for each vertex of the .wmd, found {end - 1}",
            vertices + 2 if end - 1 > vertices else end,  # the first extra row, or the last
        )
    rows: list[_Row] = []
    for vertex in range(1, vertices + 1):
        number = vertex + 1
        line = lines[vertex]
        cells = [cell.strip() for cell in line.split(",")]
        if len(cells) != len(DAT_HEADER):
            raise error(
                f"expected {len(DAT_HEADER)} comma-separated values ({','.join(DAT_HEADER)}), "
                f"found {quote(line)}",
                number,
            )
        pair, patient, donor, spouse, pra, degree, flag = cells
        if pair != str(vertex):
            raise error(f"expected the row of vertex {vertex}, found Pair {quote(pair)}", number)
        groups: list[BloodGroup | None] = []
        for column, cell in (("Patient", patient), ("Donor", donor)):
            try:
                groups.append(BloodGroup.parse(cell, field=column) if cell else None)
            except ModelError as exc:
                raise error(str(exc), number) from exc
        if spouse not in ("0", "1"):
            raise error(f"expected Wife-P? 0 or 1, found {quote(spouse)}", number)
        cpra = text_number(pra) if pra else None
        if pra and (cpra is None or not FRACTION.contains(cpra)):
            raise error(f"expected %Pra {FRACTION.expected}, found {quote(pra)}", number)
        if flag not in ("0", "1"):
            raise error(f"expected Altruist 0 or 1, found {quote(flag)}", number)
        if (flag == "1") != graph.altruist[vertex]:
            kind = "an altruist" if graph.altruist[vertex] else "a pair"
            raise error(
                f"Altruist {flag} disagrees with the .wmd, where vertex {vertex} is {kind}; "
                "is this the .dat of another instance?",
                number,
            )
        if degree != str(graph.out_degree[vertex]):
            raise error(
                f"Out-Deg {quote(degree)} disagrees with the .wmd, where vertex {vertex} has "
                f"{graph.out_degree[vertex]} arc lines (dummy arcs included); "
                "is this the .dat of another instance?",
                number,
            )
        if graph.altruist[vertex]:
            rows.append((None, None, None))
        else:
            rows.append((groups[0], groups[1], cpra))
    return rows


@dataclass(frozen=True, slots=True)
class _Numbering:
    """PrefLib vertex numbers: pairs 1..P in patient order, then altruists."""

    pairs: list[tuple[Patient, Donor]]
    altruists: list[Donor]
    of_donor: dict[str, int]
    of_patient: dict[str, int]

    @property
    def vertices(self) -> int:
        return len(self.pairs) + len(self.altruists)


def _numbering(instance: Instance) -> _Numbering:
    source = instance.name or "<instance>"
    pairs: list[tuple[Patient, Donor]] = []
    of_donor: dict[str, int] = {}
    of_patient: dict[str, int] = {}
    for patient in instance.patients:
        donors = instance.donors_of(patient.id)
        if len(donors) != 1:
            raise FormatError(
                f"patient {quote(patient.id)} has {len(donors)} donors; a PrefLib .wmd holds "
                "exactly one donor per pair",
                source=source,
                location=f"patient {quote(patient.id)}",
            )
        pairs.append((patient, donors[0]))
        of_patient[patient.id] = of_donor[donors[0].id] = len(pairs)
    altruists = [d for d in instance.donors if d.patient is None]
    for offset, donor in enumerate(altruists, start=len(pairs) + 1):
        of_donor[donor.id] = offset
    return _Numbering(pairs, altruists, of_donor, of_patient)


def _arc_lines(instance: Instance, numbering: _Numbering) -> Iterator[str]:
    """Every arc line, dummy arcs from each pair to each altruist included, sorted by
    source and destination; the lines of a source that share a weight in one piece.

    A pair's dummy arcs go to the altruists, numbered after every pair, so they follow
    its other arcs: they are written from text made once, not sorted with them.
    """
    table = instance.arc_table()
    src, dst = _vertices(table, numbering)
    pairs, vertices = len(numbering.pairs), numbering.vertices
    key = src * (vertices + 1) + dst
    if not (key[1:] > key[:-1]).all():  # a generated pool's arcs are in order already
        order = np.argsort(key, kind="stable")
        src, dst = src[order], dst[order]
        weights, code = distinct(table.weight[order])
    else:
        weights, code = distinct(table.weight)
    del key
    texts = [repr(w) for w in weights.tolist()]
    names = [str(v) for v in range(vertices + 1)]
    into_altruists = ",0.0\n{0},".join(names[pairs + 1 :])

    def dummies(vertex: int) -> str:
        if not 1 <= vertex <= pairs or not into_altruists:
            return ""
        return f"{vertex},{into_altruists.format(vertex)},0.0\n"

    last = 0  # the source written last; every source before it is complete
    for begin, end in runs(src, code):
        source = int(src[begin])
        if source != last:
            yield "".join(dummies(v) for v in range(last, source))
            last = source
        start, ending = names[source], texts[code[begin]]
        lines = f",{ending}\n{start},".join(map(names.__getitem__, dst[begin:end].tolist()))
        yield f"{start},{lines},{ending}\n"
    for vertex in range(last, vertices + 1):
        yield dummies(vertex)


def _vertices(table: ArcTable, numbering: _Numbering) -> tuple[IntArray, IntArray]:
    """The vertex numbers of each arc's donor and patient."""
    donor = np.array([numbering.of_donor[d] for d in table.donors], dtype=np.int64)
    patient = np.array([numbering.of_patient[p] for p in table.patients], dtype=np.int64)
    return donor[table.donor], patient[table.patient]


def dump_preflib(instance: Instance, *, file_name: str = "", dat_name: str = "") -> str:
    """Write ``instance`` as a PrefLib ``.wmd`` in the 2022 layout.

    Pairs become vertices ``1..P`` in patient order (labelled ``Pair i``), altruists
    ``P+1..V`` (labelled ``Alturist i``, PrefLib's spelling), so ids are renumbered
    unless they already follow that scheme. A weight-0 dummy arc is written from every
    pair to every altruist, as in PrefLib's files. The pool's name becomes the
    ``TITLE``; ``file_name`` and ``dat_name`` fill ``FILE NAME`` and ``RELATED FILES``.
    Blood groups and cPRA go in the ``.dat`` (:func:`dump_preflib_dat`); ages and
    probabilities have no place in either file.

    Raises
    ------
    FormatError
        when a patient has several donors (a vertex is one pair), or a header value
        holds a line break.

    References
    ----------
    .. [1] PrefLib dataset 00036 "kidney", https://www.preflib.org/dataset/00036
    """
    return "".join(_wmd_pieces(instance, file_name, dat_name))


def _wmd_pieces(instance: Instance, file_name: str, dat_name: str) -> Iterator[str]:
    """The text of :func:`dump_preflib` in pieces, checked before the first is made."""
    named = (("pool name", instance.name), ("file name", file_name), ("dat name", dat_name))
    for label, value in named:
        if value and value.splitlines() != [value]:
            raise FormatError(
                f"the {label} {quote(value)} holds a line break; a .wmd header line cannot",
                source=instance.name or "<instance>",
            )
    numbering = _numbering(instance)
    pairs = len(numbering.pairs)
    edges = len(instance.arcs) + pairs * len(numbering.altruists)
    values = {"FILE NAME": file_name, "TITLE": instance.name, "DATA TYPE": "wmd"}
    values["RELATED FILES"] = dat_name
    lines = [f"# {key}: {values.get(key, '')}" for key in _HEADER_KEYS]
    lines.append(f"# NUMBER ALTERNATIVES: {numbering.vertices}")
    lines.append(f"# NUMBER EDGES: {edges}")
    lines.extend(f"# {_NAME_KEY} {v}: {_PAIR_LABEL} {v}" for v in range(1, pairs + 1))
    lines.extend(
        f"# {_NAME_KEY} {v}: {_ALTRUIST_LABELS[0]} {v}"
        for v in range(pairs + 1, numbering.vertices + 1)
    )
    return chain(["\n".join(lines) + "\n"], _arc_lines(instance, numbering))


def dump_preflib_dat(instance: Instance) -> str:
    """Write the ``.dat`` companion of :func:`dump_preflib`'s ``.wmd``.

    Each pair row gives the patient's and donor's blood groups and the patient's cPRA
    as ``%Pra`` (empty cells where unknown); ``Wife-P?`` is 0 (kidneyshare does not
    record it); ``Out-Deg`` counts the vertex's arc lines, dummy arcs included. An
    altruist row repeats the donor's blood group in both columns with ``%Pra`` 0.0;
    readers, this one included, ignore those values.

    Raises
    ------
    FormatError
        as :func:`dump_preflib`.
    """
    numbering = _numbering(instance)
    src, _ = _vertices(instance.arc_table(), numbering)
    degree = np.bincount(src, minlength=numbering.vertices + 1)
    degree[1 : len(numbering.pairs) + 1] += len(numbering.altruists)  # the dummy arcs
    lines = [",".join(DAT_HEADER)]
    for vertex, (patient, donor) in enumerate(numbering.pairs, start=1):
        cpra = "" if patient.cpra is None else repr(float(patient.cpra))
        lines.append(
            f"{vertex},{_group(patient.blood_group)},{_group(donor.blood_group)},0,{cpra},"
            f"{degree[vertex]},0"
        )
    for vertex, donor in enumerate(numbering.altruists, start=len(numbering.pairs) + 1):
        group = _group(donor.blood_group)
        lines.append(f"{vertex},{group},{group},0,0.0,{degree[vertex]},1")
    return "\n".join(lines) + "\n"


def _group(group: BloodGroup | None) -> str:
    return "" if group is None else group.value


def dat_path_for(path: StrPath) -> Path:
    """The ``.dat`` companion's path for a ``.wmd`` path: ``x.wmd`` and ``x.wmd.gz``
    give ``x.dat``; any other name gets ``.dat`` appended."""
    name = Path(path).name
    if name.endswith(".gz"):
        name = name[:-3]
    if name.endswith(".wmd"):
        name = name[:-4]
    return Path(path).with_name(name + ".dat")


def _companion(path: StrPath) -> Path | None:
    """The ``.dat`` (or ``.dat.gz``) beside ``path``, if either exists."""
    dat = dat_path_for(path)
    for candidate in (dat, dat.with_name(dat.name + ".gz")):
        if candidate.is_file():
            return candidate
    return None


def read_preflib(path: StrPath, dat_path: StrPath | None = None) -> Instance:
    """Read a PrefLib ``.wmd`` or ``.wmd.gz`` and its ``.dat`` companion.

    Parameters
    ----------
    path
        The ``.wmd`` file, gzipped or not (recognised by content).
    dat_path
        The ``.dat`` file; by default ``x.dat`` (or ``x.dat.gz``) beside ``x.wmd`` or
        ``x.wmd.gz``, read when present.

    Raises
    ------
    OSError
        when a file cannot be read.
    FormatError
        as :func:`parse_preflib`, naming the file at fault.
    """
    text, source = read_text(path)
    dat = Path(dat_path) if dat_path is not None else _companion(path)
    if dat is None:
        return parse_preflib(text, source)
    dat_text, dat_source = read_text(dat)
    return parse_preflib(text, source, dat_text, dat_source)


def write_preflib(instance: Instance, path: StrPath, *, dat: bool = True) -> None:
    """Write ``instance`` as a ``.wmd`` (gzipped when ``path`` ends in ``.gz``) and,
    unless ``dat`` is false, its ``.dat`` companion at :func:`dat_path_for` ``(path)``.

    Raises
    ------
    FormatError
        as :func:`dump_preflib`.
    """
    dat_file = dat_path_for(path)
    wmd_name = Path(path).name.removesuffix(".gz")
    write_text(path, _wmd_pieces(instance, wmd_name, dat_file.name if dat else ""))
    if dat:
        write_text(dat_file, dump_preflib_dat(instance))


def _read_companion(path: StrPath) -> tuple[str, str] | None:
    """The text and name of the ``.dat`` beside ``path``, if there is one."""
    dat = _companion(os.fspath(path))
    return None if dat is None else read_text(dat)
