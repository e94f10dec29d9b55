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
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from kidneyshare.formats._files import StrPath, read_text, write_text
from kidneyshare.formats._json import JsonFields, field, index, load_json
from kidneyshare.formats._pool import PoolBuilder
from kidneyshare.formats._values import AGE, FRACTION, PROBABILITY, WEIGHT, Range, describe
from kidneyshare.model import BloodGroup, Instance

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
    return _parse_document(load_json(text, source), source)


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

    arcs = f.as_list(f.required(top, "", "arcs"), "arcs")
    for i, raw in enumerate(arcs):
        path = index("arcs", i)
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
    arcs: list[dict[str, Any]] = []
    for a in instance.arcs:
        record = {"donor": a.donor, "patient": a.patient, "weight": a.weight}
        if a.probability is not None:
            record["probability"] = a.probability
        arcs.append(record)

    lines = [
        "{",
        f'  "format": "{FORMAT_NAME}",',
        f'  "version": {VERSION},',
        f'  "name": {_json(instance.name)},',
    ]
    sections = (("patients", patients), ("donors", donors), ("arcs", arcs))
    for number, (name, records) in enumerate(sections):
        comma = "," if number < len(sections) - 1 else ""
        if not records:
            lines.append(f'  "{name}": []{comma}')
            continue
        lines.append(f'  "{name}": [')
        last = len(records) - 1
        lines.extend(f"    {_json(r)}{',' if i < last else ''}" for i, r in enumerate(records))
        lines.append(f"  ]{comma}")
    lines.append("}")
    return "\n".join(lines) + "\n"


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
    write_text(path, dump_native(instance))
