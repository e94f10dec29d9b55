"""kidneyshare's own instance format: versioned JSON.

Layout (version 1; the JSON Schema is ``docs/native-format.schema.json``, shipped as
``kidneyshare/schemas/native-v1.schema.json`` and returned by :func:`native_schema`)::

    {"format": "kidneyshare", "version": 1, "name": "spring run",
     "patients": [{"id": "p1", "blood_group": "O", "cpra": 0.25, "age": 51}],
     "donors": [{"id": "d1", "patient": "p1", "blood_group": "A", "age": 48},
                {"id": "a1", "patient": null}],
     "arcs": [{"donor": "a1", "patient": "p1", "weight": 1.0, "probability": 0.9}]}

``format``, ``version``, ``patients``, ``donors`` and ``arcs`` are required, as are
``id`` in every record, ``patient`` in every donor (``null`` for a non-directed donor,
so that an altruist is always declared, never implied by a forgotten field) and
``donor`` and ``patient`` in every arc. ``name``, ``blood_group``, ``cpra``, ``age``,
``weight`` (default 1) and ``probability`` may be omitted; all but ``name`` and
``weight`` may be ``null``. Unknown fields are errors, so that a misspelt field is
never silently ignored.

Unlike the external formats, this one holds everything an
:class:`~kidneyshare.model.Instance` holds: ``parse_native(dump_native(x)) == x``.

Large pools: :func:`dump_native` writes one arc per line in a fixed layout, and the
reader recognises that layout and reads the arcs as columns with array operations
(numpy) instead of decoding one JSON object per arc, with the same checks and the same
messages; any other layout of the same JSON is read by the ordinary decoder.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from operator import add
from typing import Any

import numpy as np
import numpy.typing as npt

from kidneyshare.errors import FormatError
from kidneyshare.formats._arcs import (
    ArcColumns,
    Bytes,
    FloatArray,
    IntArray,
    byte_texts,
    codes_of,
    distinct,
    runs,
)
from kidneyshare.formats._files import StrPath, read_text, write_text
from kidneyshare.formats._json import JsonFields, field, index, load_json
from kidneyshare.formats._pool import PoolBuilder
from kidneyshare.formats._values import AGE, FRACTION, PROBABILITY, WEIGHT, Range, describe
from kidneyshare.model import ArcTable, BloodGroup, Instance

__all__ = [
    "FORMAT_NAME",
    "VERSION",
    "dump_native",
    "native_schema",
    "parse_native",
    "read_native",
    "write_native",
]

FORMAT_NAME = "kidneyshare"
"""The value of the top-level ``format`` field."""

VERSION = 1
"""The layout version this module reads and writes."""

_TOP = ("format", "version", "name", "patients", "donors", "arcs")
_PATIENT = ("id", "blood_group", "cpra", "age")
_DONOR = ("id", "patient", "blood_group", "age")
_ARC = ("donor", "patient", "weight", "probability")
_GROUPS = {group.value: group for group in BloodGroup}


def parse_native(text: str, source: str = "<text>") -> Instance:
    """Read a pool from kidneyshare's native JSON.

    Parameters
    ----------
    text
        The JSON document.
    source
        The file name to report in errors.

    Returns
    -------
    Instance
        The pool, records in document order.

    Raises
    ------
    FormatError
        for malformed JSON (located by line), and for a wrong ``format`` or
        ``version``, a missing or unexpected field, a value of the wrong type or out of
        range, an unknown blood group, a duplicate id or key, an arc or donor naming an
        unknown id, a patient without a donor, or an empty pool (located by field path,
        such as ``arcs[3].weight``).

    Examples
    --------
    >>> pool = parse_native('{"format": "kidneyshare", "version": 1, "patients": [],'
    ...                     ' "donors": [{"id": "a1", "patient": null}], "arcs": []}')
    >>> [d.id for d in pool.donors]
    ['a1']
    """
    return _parse_document(decode(text, source), source)


def _parse_document(document: Any, source: str) -> Instance:
    """Build the pool from an already decoded native document."""
    f = JsonFields(source)
    top = f.as_object(document, "")
    f.only_fields(top, "", _TOP)
    kind = f.required(top, "", "format")
    if kind != FORMAT_NAME:
        raise f.error(f'expected "{FORMAT_NAME}", found {describe(kind)}', "format")
    version = f.required(top, "", "version")
    if isinstance(version, bool) or not isinstance(version, int):
        raise f.error(f"expected an integer version, found {describe(version)}", "version")
    if version != VERSION:
        raise f.error(
            f"unsupported version {version}; this kidneyshare reads version {VERSION}",
            "version",
        )
    name = f.as_string(top.get("name", ""), "name")
    builder = PoolBuilder(source)

    patients = f.as_list(f.required(top, "", "patients"), "patients")
    for i, raw in enumerate(patients):
        path = index("patients", i)
        record = f.as_object(raw, path)
        f.only_fields(record, path, _PATIENT)
        builder.add_patient(
            path,
            f.as_id(f.required(record, path, "id"), field(path, "id")),
            blood_group=_blood_group(f, record, path),
            cpra=_optional_number(f, record, path, "cpra", FRACTION),
            age=_optional_number(f, record, path, "age", AGE),
        )

    donors = f.as_list(f.required(top, "", "donors"), "donors")
    for i, raw in enumerate(donors):
        path = index("donors", i)
        record = f.as_object(raw, path)
        f.only_fields(record, path, _DONOR)
        donor_id = f.as_id(f.required(record, path, "id"), field(path, "id"))
        patient = f.required(record, path, "patient")
        builder.add_donor(
            path,
            donor_id,
            None if patient is None else f.as_id(patient, field(path, "patient")),
            blood_group=_blood_group(f, record, path),
            age=_optional_number(f, record, path, "age", AGE),
        )

    arcs = f.required(top, "", "arcs")
    if isinstance(arcs, _ScannedArcs):
        builder.add_arc_columns(_scanned_columns(f, arcs, builder), _arc_place)
        return builder.build(name)
    for i, raw in enumerate(f.as_list(arcs, "arcs")):
        path = _arc_place(i)
        record = f.as_object(raw, path)
        f.only_fields(record, path, _ARC)
        weight = 1.0
        if "weight" in record:
            weight = f.as_number(record["weight"], field(path, "weight"), WEIGHT)
        builder.add_arc(
            path,
            f.as_id(f.required(record, path, "donor"), field(path, "donor")),
            f.as_id(f.required(record, path, "patient"), field(path, "patient")),
            weight,
            _optional_number(f, record, path, "probability", PROBABILITY),
        )
    return builder.build(name)


def _arc_place(row: int) -> str:
    return index("arcs", row)


def _optional_number(
    f: JsonFields, record: dict[str, Any], path: str, name: str, allowed: Range
) -> float | None:
    value = record.get(name)
    return None if value is None else f.as_number(value, field(path, name), allowed)


def _blood_group(f: JsonFields, record: dict[str, Any], path: str) -> BloodGroup | None:
    value = record.get("blood_group")
    if value is None:
        return None
    if not isinstance(value, str):
        found = f"found {describe(value)}"
    elif value in _GROUPS:
        return _GROUPS[value]
    else:
        found = f"unknown blood group {describe(value)}"
    raise f.error(
        f'{found}; expected one of "O", "A", "B", "AB" (upper case) or null',
        field(path, "blood_group"),
    )


# -- arcs in dump_native's layout, read as columns -----------------------------------------

_OPEN = '\n  "arcs": [\n'
_CLOSE = "\n  ]\n}"
_CHUNK = 1 << 24  # characters scanned at a time: the arrays of one chunk stay small
_WIDEST = 256  # longest id or number scanned; longer ones go to the decoder
_TAIL = 4096  # blank space after the document beyond this: left to the decoder
_NEWLINE, _QUOTE, _COMMA, _BRACE, _BACKSLASH = b'\n",}\\'


@dataclass(slots=True)
class _ScannedArcs:
    """The ``arcs`` list, scanned: ids as UTF-8 bytes, and for weight and probability the
    decoded JSON value of each distinct text with every row's number for it (probability
    0 is "none given")."""

    donor: Bytes
    patient: Bytes
    weights: list[Any]
    weight: IntArray
    probabilities: list[Any]
    probability: IntArray


def decode(text: str, source: str) -> Any:
    """Decode a native document, its arcs scanned as columns when they are in the layout
    :func:`dump_native` writes (else, or for any other JSON, as :func:`load_json` does).

    Raises
    ------
    FormatError
        as :func:`load_json`.
    """
    tail = text[-_TAIL:]
    end = len(text) - len(tail) + len(tail.rstrip())  # without copying the text
    begin = text.rfind(_OPEN, 0, end) + len(_OPEN)
    stop = end - len(_CLOSE)
    if begin < len(_OPEN) or stop <= begin or not text.startswith(_CLOSE, stop):
        return load_json(text, source)
    arcs = _scan(text, begin, stop)
    if arcs is None:
        return load_json(text, source)
    # The scanned lines are a list's complete items, so the document is valid JSON if and
    # only if it is without them: decode the rest, then put the columns in their place.
    document = load_json(text[:begin] + text[stop:], source)
    if isinstance(document, dict) and document.get("arcs") == []:
        document["arcs"] = arcs
    return document


def _scan(text: str, begin: int, stop: int) -> _ScannedArcs | None:
    """The arc lines ``text[begin:stop]`` as columns, or ``None`` if any line is not in
    :func:`dump_native`'s layout (or holds an escape, or a number that is not JSON)."""
    donors: list[Bytes] = []
    patients: list[Bytes] = []
    texts: tuple[dict[bytes, int], dict[bytes, int]] = ({}, {b"": 0})
    codes: tuple[list[IntArray], list[IntArray]] = ([], [])
    at = begin
    while at < stop:
        cut = text.find("\n", min(at + _CHUNK, stop))
        cut = stop if cut < 0 or cut > stop else cut
        lines = _scan_lines(np.frombuffer(text[at:cut].encode("utf-8"), np.uint8), cut == stop)
        if lines is None:
            return None
        donors.append(lines[0])
        patients.append(lines[1])
        for known, found, column in zip(texts, codes, lines[2:], strict=True):
            found.append(_numbered(column, known))
        at = cut + 1
    try:
        values = [[json.loads(t) if t else None for t in known] for known in texts]
    except json.JSONDecodeError:
        return None
    return _ScannedArcs(
        np.concatenate(donors),
        np.concatenate(patients),
        values[0],
        np.concatenate(codes[0]),
        values[1],
        np.concatenate(codes[1]),
    )


def _numbered(column: Bytes, known: dict[bytes, int]) -> IntArray:
    """Each text's number in ``known`` (new texts are added)."""
    texts, inverse = distinct(column)
    numbers = [known.setdefault(bytes(t), len(known)) for t in texts.tolist()]
    return np.asarray(numbers, dtype=np.int64)[inverse]


def _scan_lines(buf: npt.NDArray[np.uint8], last: bool) -> tuple[Bytes, ...] | None:
    """Donor ids, patient ids, weight and probability texts (empty: none) of lines
    ``    {"donor": "D", "patient": "P", "weight": W[, "probability": Q]},``, the
    final line of the list without the comma."""
    if ((buf < 0x20) & (buf != _NEWLINE)).any() or (buf == _BACKSLASH).any():
        return None  # escapes and control characters are left to the decoder
    padded = np.concatenate((buf, np.zeros(_WIDEST, np.uint8)))  # texts read past no end
    newlines = np.flatnonzero(buf == _NEWLINE)
    starts = np.concatenate(([0], newlines + 1))
    ends = np.append(newlines, len(buf))
    quotes = np.flatnonzero(buf == _QUOTE)
    first = np.searchsorted(quotes, starts)  # each line's first quote
    counts = np.diff(first, append=len(quotes))
    given = counts == 12  # lines with a probability
    if not (given | (counts == 10)).all():
        return None
    q = [quotes[first + k] for k in (2, 3, 6, 7, 9)]  # around the ids and after "weight"
    tail = np.full(len(ends), 2)
    if last:
        tail[-1] = 1
    close = ends - tail
    number_end = close.copy()
    probability_at = quotes[first[given] + 11] + 3
    number_end[given] = quotes[first[given] + 10] - 2
    if not (
        _literal(padded, starts, b'    {"donor": "')
        and _literal(padded, q[1], b'", "patient": "')
        and _literal(padded, q[3], b'", "weight": ')
        and _literal(padded, number_end[given], b', "probability": ')
        and (buf[close] == _BRACE).all()
        and (buf[ends[tail == 2] - 1] == _COMMA).all()
    ):
        return None
    probability_begin = np.zeros(len(ends), np.int64)
    probability_begin[given] = probability_at
    probability_end = np.where(given, close, 0)
    columns = (
        _texts(padded, q[0] + 1, q[1]),
        _texts(padded, q[2] + 1, q[3]),
        _texts(padded, q[4] + 3, number_end, empty=False),
        _texts(padded, probability_begin, probability_end, empty=~given),
    )
    return None if any(c is None for c in columns) else columns  # type: ignore[return-value]


def _literal(buf: npt.NDArray[np.uint8], at: IntArray, text: bytes) -> bool:
    """Whether ``text`` is at every position ``at`` of ``buf`` (padded past its end)."""
    windows = np.lib.stride_tricks.sliding_window_view(buf, len(text))
    return bool((windows[at] == np.frombuffer(text, np.uint8)).all())


def _texts(
    buf: npt.NDArray[np.uint8],
    begin: IntArray,
    end: IntArray,
    empty: bool | npt.NDArray[np.bool_] = True,
) -> Bytes | None:
    """``buf[begin[i]:end[i]]`` for each row, or ``None`` if a text is empty where
    ``empty`` is false, or longer than :data:`_WIDEST`."""
    lengths = end - begin
    if len(lengths) and (lengths.max() > _WIDEST or (lengths < np.where(empty, 0, 1)).any()):
        return None
    return byte_texts(buf, begin, end)


def _scanned_columns(f: JsonFields, arcs: _ScannedArcs, builder: PoolBuilder) -> ArcColumns:
    """The scanned arcs as columns, every weight and probability checked as the decoder's
    records are: the first arc with a bad value is reported, at its field."""
    weights, weight_error = _values(f, arcs.weights, "weight", WEIGHT)
    probabilities, probability_error = _values(f, arcs.probabilities, "probability", PROBABILITY)
    probabilities[0] = np.nan  # none given
    bad = [
        (int(np.argmax(np.isin(codes, errors))), order, values, codes, name, allowed)
        for order, (errors, values, codes, name, allowed) in enumerate(
            (
                (weight_error, arcs.weights, arcs.weight, "weight", WEIGHT),
                (
                    probability_error,
                    arcs.probabilities,
                    arcs.probability,
                    "probability",
                    PROBABILITY,
                ),
            )
        )
        if errors
    ]
    if bad:
        row, _, values, codes, name, allowed = min(bad, key=lambda b: (b[0], b[1]))
        f.as_number(values[codes[row]], field(_arc_place(row), name), allowed)
    donors, donor = codes_of(arcs.donor, builder.donor_ids())
    patients, patient = codes_of(arcs.patient, builder.patient_ids())
    return ArcColumns(
        donors, patients, donor, patient, weights[arcs.weight], probabilities[arcs.probability]
    )


def _values(
    f: JsonFields, values: list[Any], name: str, allowed: Range
) -> tuple[FloatArray, list[int]]:
    """Each distinct value as a number (NaN for ``null`` where allowed), and the numbers
    of those that :meth:`JsonFields.as_number` refuses."""
    numbers = np.full(len(values), np.nan)
    refused: list[int] = []
    for number, value in enumerate(values):
        if value is None and name == "probability":
            continue
        try:
            numbers[number] = f.as_number(value, name, allowed)
        except FormatError:
            refused.append(number)
    return numbers, refused


# -- writing ------------------------------------------------------------------------------


def dump_native(instance: Instance) -> str:
    """Write ``instance`` as native JSON, one record per line.

    Fields whose value is unknown (``None``) are left out, except a donor's
    ``patient``, written ``null`` for an altruist. The output is deterministic: records
    in the instance's order, fields in a fixed order.

    Examples
    --------
    >>> from kidneyshare.model import Donor, DonorId, Instance
    >>> print(dump_native(Instance([], [Donor(DonorId("a1"))], [], name="demo")))
    {
      "format": "kidneyshare",
      "version": 1,
      "name": "demo",
      "patients": [],
      "donors": [
        {"id": "a1", "patient": null}
      ],
      "arcs": []
    }
    <BLANKLINE>
    """
    return "".join(_pieces(instance))


def _pieces(instance: Instance) -> Iterator[str]:
    """The text of :func:`dump_native` in pieces: the arcs a donor at a time."""
    patients: list[dict[str, Any]] = []
    for p in instance.patients:
        record: dict[str, Any] = {"id": p.id}
        if p.blood_group is not None:
            record["blood_group"] = p.blood_group.value
        if p.cpra is not None:
            record["cpra"] = p.cpra
        if p.age is not None:
            record["age"] = p.age
        patients.append(record)
    donors: list[dict[str, Any]] = []
    for d in instance.donors:
        record = {"id": d.id, "patient": d.patient}
        if d.blood_group is not None:
            record["blood_group"] = d.blood_group.value
        if d.age is not None:
            record["age"] = d.age
        donors.append(record)
    lines = [
        "{",
        f'  "format": "{FORMAT_NAME}",',
        f'  "version": {VERSION},',
        f'  "name": {_json(instance.name)},',
    ]
    for name, records in (("patients", patients), ("donors", donors)):
        if not records:
            lines.append(f'  "{name}": [],')
            continue
        lines.append(f'  "{name}": [')
        last = len(records) - 1
        lines.extend(f"    {_json(r)}{',' if i < last else ''}" for i, r in enumerate(records))
        lines.append("  ],")
    if not instance.arcs:
        yield "\n".join([*lines, '  "arcs": []', "}", ""])
        return
    yield "\n".join(lines) + _OPEN
    yield from _arc_lines(instance)
    yield _CLOSE + "\n"


def _arc_lines(instance: Instance) -> Iterator[str]:
    """The arc records, one a line, joined by commas: the same record text as
    ``json.dumps`` gives, each id and distinct value formatted once."""
    table = instance.arc_table()
    starts = [f'    {{"donor": {_json(d)}, "patient": ' for d in table.donors]
    patients = [_json(p) for p in table.patients]
    endings, ending = _endings(table)
    separator = ""
    for begin, end in runs(table.donor):
        start = starts[int(table.donor[begin])]
        records = map(
            add,
            map(patients.__getitem__, table.patient[begin:end].tolist()),
            map(endings.__getitem__, ending[begin:end].tolist()),
        )
        yield separator + start + (",\n" + start).join(records)
        separator = ",\n"


def _endings(table: ArcTable) -> tuple[list[str], IntArray]:
    """The distinct ``, "weight": w[, "probability": q]}`` endings of the arc records,
    and each arc's number for its own."""
    # one number for the pair; -1 stands for "no probability" (NaN is not one value)
    pairs, inverse = distinct(table.weight + 1j * np.nan_to_num(table.probability, nan=-1.0))
    endings = []
    for pair in pairs.tolist():
        given = "" if pair.imag < 0 else f', "probability": {_json(pair.imag)}'
        endings.append(f', "weight": {_json(pair.real)}{given}}}')
    return endings, inverse


def _json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, allow_nan=False)


def native_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of the native format, version 1.

    The schema checks structure and ranges; :func:`parse_native` also checks what a
    schema cannot (unique ids, references between records, a donor for each patient).
    """
    text = (
        resources.files("kidneyshare")
        .joinpath("schemas/native-v1.schema.json")
        .read_text(encoding="utf-8")
    )
    schema: dict[str, Any] = json.loads(text)
    return schema


def read_native(path: StrPath) -> Instance:
    """Read a native JSON file (gzipped or not); see :func:`parse_native`.

    Raises
    ------
    OSError
        when the file cannot be read.
    FormatError
        as :func:`parse_native`, naming the file.
    """
    text, source = read_text(path)
    return parse_native(text, source)


def write_native(instance: Instance, path: StrPath) -> None:
    """Write ``instance`` as native JSON to ``path`` (gzipped when it ends in ``.gz``)."""
    write_text(path, _pieces(instance))
