"""The Glasgow / kep_solver "data" JSON instance format.

Layout 1 (read and written)::

    {"data": {"1": {"sources": [1], "dage": 50, "bloodtype": "O",
                    "matches": [{"recipient": 2, "score": 1}]},
              "3": {"altruistic": true, "dage": 60, "matches": []}},
     "recipients": {"1": {"bloodgroup": "O", "pra": 0.25}}}

``data`` maps each donor id to the donor: ``sources`` lists the paired patient (none for
a non-directed donor), ``dage`` is the donor's age, ``bloodgroup`` or ``bloodtype`` the
blood group, ``altruistic: true`` marks a non-directed donor, and ``matches`` the
patients the donor can give to, with the transplant's ``score`` (read as the arc's
weight). The optional ``recipients`` maps patient ids to ``bloodgroup``/``bloodtype``
and ``pra``/``cPRA`` (a fraction). Ids may be JSON integers; they are read as text.
Other fields (``waiting_time``, arrival times ...) are ignored.

Layout 2 (``"schema": 2`` or ``3``; read only) has ``donors`` (a list, or a mapping from
id) with ``id``, ``paired_recipients``, ``age``, ``bloodtype`` and
``outgoing_transplants`` (``recipient``, ``score``), and ``recipients`` with ``id``,
``bloodtype`` and ``cPRA`` as a percentage (25 for 0.25).

kidneyshare pairs each donor with exactly one patient (a patient may have several
donors), so a donor listing several patients is an error, as is a donor marked
``altruistic`` that lists a patient.

The format has no place for the pool's name, patients' ages or arcs' probabilities:
:func:`dump_glasgow` leaves them out.

Large pools: the ``matches`` lists in the indented layout that :func:`dump_glasgow` and
kep_solver write are read as columns with array operations (numpy) instead of decoding
one JSON object per match (:mod:`kidneyshare.formats._matches`), with the same checks
and the same messages; lists in any other layout are decoded as before, and
:func:`dump_glasgow` formats each donor's matches from the arc columns when it writes it.

References
----------
.. [1] W. Pettersson, kep_solver documentation, "File formats" (JSON v1 and v2),
   https://kep-solver.readthedocs.io/
.. [2] D. F. Manlove and G. O'Malley, "Paired and altruistic kidney donation in the
   UK: algorithms and experimentation", ACM Journal of Experimental Algorithmics 19
   (2015).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from operator import add
from typing import Any, TypeVar

import numpy as np

from kidneyshare.formats._arcs import ArcColumns, distinct
from kidneyshare.formats._files import StrPath, read_text, write_text
from kidneyshare.formats._json import JsonFields, field, index, key, load_json
from kidneyshare.formats._matches import MatchColumns, ScannedMatches, scan_matches
from kidneyshare.formats._pool import PoolBuilder
from kidneyshare.formats._values import AGE, PERCENT, WEIGHT, Range, quote
from kidneyshare.model import BloodGroup, Instance

__all__ = ["dump_glasgow", "parse_glasgow", "read_glasgow", "write_glasgow"]

_FRACTION_V1 = Range(
    0.0, 1.0, "a fraction between 0 and 1 (this layout gives cPRA as a fraction: 0.85, not 85)"
)
_SCHEMAS = (2, 3)
_T = TypeVar("_T")
_INTEGER_ID = re.compile(r"0|[1-9][0-9]{0,17}")


@dataclass(frozen=True, slots=True)
class _Layout:
    """The field names of one layout of the format."""

    donors: str
    sources: str
    matches: str
    age: str
    cpra_fields: tuple[str, ...]
    cpra_range: Range
    cpra_divisor: float


_V1 = _Layout("data", "sources", "matches", "dage", ("pra", "cPRA"), _FRACTION_V1, 1.0)
_V2 = _Layout(
    "donors", "paired_recipients", "outgoing_transplants", "age", ("cPRA",), PERCENT, 100.0
)


def parse_glasgow(text: str, source: str = "<text>") -> Instance:
    """Read a pool from Glasgow / kep_solver JSON (layout 1, or 2 with ``"schema"``).

    Parameters
    ----------
    text
        The JSON document.
    source
        The file name to report in errors.

    Returns
    -------
    Instance
        The pool: patients in the order of ``recipients``, then of first mention in
        ``sources``; donors and arcs in document order.

    Raises
    ------
    FormatError
        for malformed JSON (located by line), and, located by field path such as
        ``data["3"].matches[0].score``: a duplicate id or key, a donor with more than
        one paired patient, an altruist with a paired patient, an unknown blood group,
        a negative or non-numeric score, an arc to an unknown patient, a recipient with
        no donor, an unsupported ``schema``, or an empty pool.

    References
    ----------
    .. [1] W. Pettersson, kep_solver documentation, "File formats".

    Examples
    --------
    >>> pool = parse_glasgow('{"data": {"1": {"sources": [1], "matches": []},'
    ...                      ' "2": {"altruistic": true, "matches": [{"recipient": 1,'
    ...                      ' "score": 3}]}}}')
    >>> [(a.donor, a.patient, a.weight) for a in pool.arcs]
    [('2', '1', 3.0)]
    """
    return _parse_document(decode(text, source), source)


def decode(text: str, source: str) -> Any:
    """Decode a Glasgow document; its matches lists in the indented layout are read as
    columns and left in the document as :class:`_ScannedList` (see
    :mod:`kidneyshare.formats._matches`), others decoded as :func:`load_json` does.

    Raises
    ------
    FormatError
        as :func:`load_json`.
    """
    document, scanned = scan_matches(text, source)
    if scanned is not None and not _put_scanned(document, scanned):
        return load_json(text, source)
    return document


def _parse_document(document: Any, source: str) -> Instance:
    """Build the pool from an already decoded Glasgow document."""
    f = JsonFields(source)
    top = f.as_object(document, "")
    if "schema" in top:
        schema = top["schema"]
        if isinstance(schema, bool) or schema not in _SCHEMAS:
            raise f.error(
                f"unsupported schema {json.dumps(schema)}; expected 2 or 3 "
                '(or no "schema" and a "data" object for layout 1)',
                "schema",
            )
        layout = _V2
    elif "data" in top:
        layout = _V1
    else:
        raise f.error(
            'expected a "data" object of donors (or "schema" and "donors"), '
            f"found only {', '.join(quote(k) for k in top) or 'an empty object'}",
            "",
        )
    builder = PoolBuilder(source)
    if "recipients" in top:
        for where, patient_id, record in _records(f, top["recipients"], "recipients", layout):
            _add_recipient(f, builder, layout, where, patient_id, record)
    columns = _MatchColumns(f)
    for where, donor_id, record in _records(
        f, f.required(top, "", layout.donors), layout.donors, layout
    ):
        _add_donor(f, builder, layout, where, donor_id, record, columns)
    arcs = columns.arcs(builder.patient_ids())
    if arcs is not None:
        builder.add_arc_columns(arcs, columns.place)
    return builder.build()


def _put_scanned(document: Any, scanned: ScannedMatches) -> bool:
    """Put each scanned list in the donor record where the number that stands for it came
    back; ``False`` (nothing put) unless each number is a donor's matches list, in order,
    and every other non-empty matches list is one of them (else a list was another's: a
    key with an escape, a field of a recipient ...)."""
    if not isinstance(document, dict):
        return False
    layout = _V2 if "schema" in document else _V1
    donors = document.get(layout.donors)
    if isinstance(donors, dict):
        donors = list(donors.values())
    if not isinstance(donors, list):
        return False
    found: list[dict[str, Any]] = []
    for record in donors:
        if not isinstance(record, dict) or record.get(layout.matches, []) == []:
            continue
        value = record[layout.matches]
        if not (
            type(value) is list
            and len(value) == 1
            and type(value[0]) is int
            and value[0] == len(found)
        ):
            return False
        found.append(record)
    if len(found) != len(scanned.bounds) - 1:
        return False
    for number, record in enumerate(found):
        record[layout.matches] = _ScannedList(number, scanned)
    return True


class _ScannedList(list[Any]):
    """A donor's matches list read as columns: rows of list ``number`` of ``scanned``
    (empty as a list, so that the checks of a list pass as they did)."""

    __slots__ = ("number", "scanned")

    def __init__(self, number: int, scanned: ScannedMatches) -> None:
        super().__init__()
        self.number = number
        self.scanned = scanned


class _MatchColumns:
    """The scanned matches, handed out donor by donor: each donor's first bad score is
    reported when the donor is read, as the decoded matches are."""

    __slots__ = ("_columns", "_f", "_paths")

    def __init__(self, f: JsonFields) -> None:
        self._f = f
        self._columns: MatchColumns | None = None
        self._paths: list[str] = []  # each list's path, in order

    def _weight(self, value: Any) -> float:
        return self._f.as_number(value, "score", WEIGHT)

    def add(self, matches: _ScannedList, donor_id: str, path: str) -> None:
        """Hand the scanned list ``matches`` to ``donor_id``, whose list is at ``path``."""
        if self._columns is None:
            self._columns = MatchColumns(matches.scanned, self._weight)
        self._paths.append(path)
        refused = self._columns.add(donor_id)
        if refused is not None:
            at, value = refused
            self._f.as_number(value, field(index(path, at), "score"), WEIGHT)

    def place(self, row: int) -> str:
        """The path of the recipient of arc ``row``."""
        assert self._columns is not None
        number, at = self._columns.item(row)
        return field(index(self._paths[number], at), "recipient")

    def arcs(self, patients: list[str]) -> ArcColumns | None:
        """The arcs, patients numbered after ``patients``; ``None`` without scanned lists."""
        return None if self._columns is None else self._columns.arcs(patients)


def _records(
    f: JsonFields, value: Any, path: str, layout: _Layout
) -> list[tuple[str, str, dict[str, Any]]]:
    """``(path, id, record)`` for a mapping from ids to records, or (layout 2) a list of
    records that each carry an ``id``."""
    out: list[tuple[str, str, dict[str, Any]]] = []
    if isinstance(value, list) and layout is _V2:
        for i, raw in enumerate(value):
            where = index(path, i)
            record = f.as_object(raw, where)
            record_id = f.as_id(f.required(record, where, "id"), field(where, "id"), integers=True)
            out.append((where, record_id, record))
        return out
    for record_key, raw in f.as_object(value, path, keyed=True).items():
        where = key(path, record_key)
        record = f.as_object(raw, where)
        if "id" in record:
            record_id = f.as_id(record["id"], field(where, "id"), integers=True)
            if record_id != record_key:
                raise f.error(
                    f"id {quote(record_id)} disagrees with its key {quote(record_key)}",
                    field(where, "id"),
                )
        out.append((where, record_key, record))
    return out


def _add_recipient(
    f: JsonFields,
    builder: PoolBuilder,
    layout: _Layout,
    where: str,
    patient_id: str,
    record: dict[str, Any],
) -> None:
    cpra = _agreed(
        f,
        where,
        [
            (name, f.as_number(record[name], field(where, name), layout.cpra_range))
            for name in layout.cpra_fields
            if record.get(name) is not None
        ],
    )
    builder.add_patient(
        where,
        patient_id,
        blood_group=_blood_group(f, builder, record, where, f"patient {quote(patient_id)}"),
        cpra=None if cpra is None else cpra / layout.cpra_divisor,
    )


def _add_donor(
    f: JsonFields,
    builder: PoolBuilder,
    layout: _Layout,
    where: str,
    donor_id: str,
    record: dict[str, Any],
    columns: _MatchColumns,
) -> None:
    who = f"donor {quote(donor_id)}"
    sources_path = field(where, layout.sources)
    sources = f.as_list(record.get(layout.sources, []), sources_path)
    patients = [f.as_id(s, index(sources_path, i), integers=True) for i, s in enumerate(sources)]
    if len(patients) > 1:
        raise f.error(
            f"{who} has {len(patients)} paired patients "
            f"({', '.join(quote(p) for p in patients)}); "
            "kidneyshare pairs each donor with exactly one patient",
            sources_path,
        )
    if "altruistic" in record:
        flag_path = field(where, "altruistic")
        altruistic = f.as_bool(record["altruistic"], flag_path)
        if altruistic and patients:
            raise f.error(
                f"altruist with a paired patient: {who} is marked altruistic but lists "
                f"patient {quote(patients[0])} in {layout.sources}; "
                "a non-directed donor has no paired patient",
                flag_path,
            )
        if not altruistic and not patients:
            raise f.error(
                f"{who} is marked altruistic: false but lists no paired patient; expected "
                f"a patient id in {layout.sources}, or altruistic: true",
                flag_path,
            )
    patient = patients[0] if patients else None
    if patient is not None and not builder.has_patient(patient):
        builder.add_patient(index(sources_path, 0), patient)
    age = record.get(layout.age)
    builder.add_donor(
        where,
        donor_id,
        patient,
        blood_group=_blood_group(f, builder, record, where, who),
        age=None if age is None else f.as_number(age, field(where, layout.age), AGE),
    )
    matches_path = field(where, layout.matches)
    matches = f.as_list(record.get(layout.matches, []), matches_path)
    if isinstance(matches, _ScannedList):
        columns.add(matches, donor_id, matches_path)
        return
    for i, raw in enumerate(matches):
        match_path = index(matches_path, i)
        match = f.as_object(raw, match_path)
        recipient_path = field(match_path, "recipient")
        recipient = f.as_id(
            f.required(match, match_path, "recipient"), recipient_path, integers=True
        )
        score = f.as_number(
            f.required(match, match_path, "score"), field(match_path, "score"), WEIGHT
        )
        builder.add_arc(recipient_path, donor_id, recipient, score)


def _blood_group(
    f: JsonFields, builder: PoolBuilder, record: dict[str, Any], where: str, who: str
) -> BloodGroup | None:
    return _agreed(
        f,
        where,
        [
            (name, builder.blood_group(record[name], field(where, name), f"{who} blood group"))
            for name in ("bloodgroup", "bloodtype")
            if record.get(name) is not None
        ],
    )


def _agreed(f: JsonFields, where: str, values: list[tuple[str, _T]]) -> _T | None:
    """The value given under one or more alternative field names, which must agree."""
    if not values:
        return None
    (first_name, first), *others = values
    for name, value in others:
        if value != first:
            raise f.error(
                f"{first_name} and {name} disagree ({_shown(first)} and {_shown(value)}); "
                "expected one value",
                where,
            )
    return first


def _shown(value: object) -> str:
    return value.value if isinstance(value, BloodGroup) else repr(value)


def _id_out(identifier: str) -> int | str:
    """Ids that are plain decimal integers are written as JSON integers, as kep_solver's
    layout 1 expects of patient ids; others as strings."""
    return int(identifier) if _INTEGER_ID.fullmatch(identifier) else identifier


def dump_glasgow(instance: Instance) -> str:
    """Write ``instance`` as Glasgow JSON, layout 1 (``data`` and ``recipients``).

    Non-directed donors get ``"altruistic": true`` and no ``sources``. Patient ids that
    are plain integers are written as JSON integers. The pool's name, patients' ages and
    arcs' probabilities have no place in the format and are left out.

    References
    ----------
    .. [1] W. Pettersson, kep_solver documentation, "File formats", JSON v1.
    """
    return "".join(_pieces(instance))


_NO_MATCHES = '"matches": []'
"""How ``json.dumps`` writes a donor's empty ``matches``; the unescaped quotes never
occur inside a JSON string, so each occurrence is one donor's."""


def _pieces(instance: Instance) -> Iterator[str]:
    """The text of :func:`dump_glasgow` in pieces: the document is written by
    ``json.dumps`` with every ``matches`` empty, then each donor's matches are put in
    their place, formatted from the arc columns as ``json.dumps`` formats them."""
    data: dict[str, dict[str, Any]] = {}
    for d in instance.donors:
        entry: dict[str, Any] = {}
        if d.patient is None:
            entry["altruistic"] = True
        else:
            entry["sources"] = [_id_out(d.patient)]
        if d.age is not None:
            entry["dage"] = d.age
        if d.blood_group is not None:
            entry["bloodtype"] = d.blood_group.value
        entry["matches"] = []
        data[d.id] = entry
    recipients: dict[str, dict[str, Any]] = {}
    for p in instance.patients:
        info: dict[str, Any] = {}
        if p.blood_group is not None:
            info["bloodgroup"] = p.blood_group.value
        if p.cpra is not None:
            info["pra"] = p.cpra
        recipients[p.id] = info
    document = {"data": data, "recipients": recipients}
    text = json.dumps(document, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    between = text.split(_NO_MATCHES)
    assert len(between) == len(instance.donors) + 1
    matches = _matches(instance)
    for donor, before in zip(instance.donors, between, strict=False):
        yield before
        yield matches(donor.id)
    yield between[-1]


def _matches(instance: Instance) -> Callable[[str], str]:
    """The text of a donor's ``"matches": [...]`` as ``json.dumps(indent=2)`` writes it
    at a donor's depth, arcs in the pool's order; each formatted when asked for, so that
    the file's text is never held whole."""
    table = instance.arc_table()
    order = np.argsort(table.donor, kind="stable")
    donor, patient = table.donor[order], table.patient[order]
    scores, score = distinct(table.weight[order])
    bounds = np.searchsorted(donor, np.arange(len(table.donors) + 1)).tolist()
    number: dict[str, int] = {d: i for i, d in enumerate(table.donors)}
    opening = [
        f'        {{\n          "recipient": {_dumped(_id_out(p))},\n          "score": '
        for p in table.patients
    ]
    closing = [f"{_dumped(w)}\n        }}" for w in scores.tolist()]

    def text(donor_id: str) -> str:
        at = number.get(donor_id)
        if at is None or bounds[at] == bounds[at + 1]:
            return _NO_MATCHES
        begin, end = bounds[at], bounds[at + 1]
        items = map(
            add,
            map(opening.__getitem__, patient[begin:end].tolist()),
            map(closing.__getitem__, score[begin:end].tolist()),
        )
        return '"matches": [\n' + ",\n".join(items) + "\n      ]"

    return text


def _dumped(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, allow_nan=False)


def read_glasgow(path: StrPath) -> Instance:
    """Read a Glasgow JSON file (gzipped or not); see :func:`parse_glasgow`.

    Raises
    ------
    OSError
        when the file cannot be read.
    FormatError
        as :func:`parse_glasgow`, naming the file.
    """
    text, source = read_text(path)
    return parse_glasgow(text, source)


def write_glasgow(instance: Instance, path: StrPath) -> None:
    """Write ``instance`` as Glasgow JSON layout 1 to ``path`` (gzipped if ``.gz``)."""
    write_text(path, _pieces(instance))
