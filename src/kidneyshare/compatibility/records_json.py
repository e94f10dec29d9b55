"""The JSON form of clinical records (``records.json``), read and written losslessly.

::

    {"format": "kidneyshare-clinical", "version": 1, "name": "run 2026-11",
     "patients": [{"id": "p1", "abo": "O", "hla": ["A1", "A*02:01", "B8", "DR17"],
                   "unacceptable": ["A9", "DQ7"], "cpra": 0.62, "age": 47, "sex": "F",
                   "anti_a_titre": 8, "centre": "LON", "registered": "2025-02-01",
                   "recorded": "2026-11-01", "antibodies_recorded": "2026-10-12",
                   "declined_donors": ["d7"]}],
     "donors": [{"id": "d1", "patient": "p1", "abo": "A2", "hla": ["A24", "B7", "DR15"],
                 "age": 52, "sex": "M", "egfr": 96, "centre": "LON",
                 "recorded": "2026-11-01"}]}

Every field but ``id`` and ``abo`` may be left out (unknown; no ``declined_donors``
means none declined); dates are ISO
``YYYY-MM-DD``. The JSON Schema is :func:`records_schema`, shipped as
``kidneyshare/schemas/clinical-records-v1.schema.json``. Validation uses pydantic; each
problem is reported as a :class:`~kidneyshare.errors.FormatError` naming the file and the
field (``patients[3].unacceptable``).
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from kidneyshare.compatibility._text import read_utf8
from kidneyshare.compatibility.abo import AboType
from kidneyshare.compatibility.records import (
    ClinicalPool,
    DonorRecord,
    HlaTyping,
    PatientRecord,
    Sex,
)
from kidneyshare.errors import FormatError, ModelError
from kidneyshare.model import DonorId, PatientId

__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "dump_records",
    "parse_records",
    "read_records",
    "records_schema",
    "write_records",
]

FORMAT_NAME: Final = "kidneyshare-clinical"
FORMAT_VERSION: Final = 1

AboText = Literal["O", "A", "A1", "A2", "B", "AB", "A1B", "A2B"]
Titre = Annotated[int, Field(ge=0, description="reciprocal dilution: 8 for 1:8; 0 none")]
Age = Annotated[float, Field(ge=0, le=120, description="years")]
HlaList = Annotated[
    list[str],
    Field(description='serological antigens and/or alleles: ["A24", "A*02:01", "DRB1*15:01"]'),
]


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PatientJson(_Record):
    """One patient in ``records.json``."""

    id: Annotated[str, Field(min_length=1)]
    abo: AboText
    hla: HlaList | None = None
    unacceptable: HlaList | None = None
    cpra: Annotated[float, Field(ge=0, le=1)] | None = None
    age: Age | None = None
    sex: Literal["F", "M"] | None = None
    anti_a_titre: Titre | None = None
    anti_b_titre: Titre | None = None
    centre: str | None = None
    registered: date | None = None
    recorded: date | None = None
    antibodies_recorded: date | None = None
    declined_donors: (
        Annotated[
            list[Annotated[str, Field(min_length=1)]],
            Field(description="donor ids the patient's centre has declined (do-not-match)"),
        ]
        | None
    ) = None


class DonorJson(_Record):
    """One donor in ``records.json``; no ``patient`` for a non-directed donor."""

    id: Annotated[str, Field(min_length=1)]
    abo: AboText
    patient: str | None = None
    hla: HlaList | None = None
    age: Age | None = None
    sex: Literal["F", "M"] | None = None
    egfr: Annotated[float, Field(ge=0, le=250, description="mL/min/1.73 m2")] | None = None
    centre: str | None = None
    recorded: date | None = None


class RecordsJson(_Record):
    """A ``records.json`` document: the clinical records of one pool."""

    format: Literal["kidneyshare-clinical"]
    version: Literal[1]
    name: str = ""
    patients: list[PatientJson]
    donors: list[DonorJson]


def records_schema() -> dict[str, Any]:
    """The JSON Schema of ``records.json``."""
    schema = RecordsJson.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "kidneyshare clinical records, version 1"
    return schema


def _location(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "top level"


def _validation_error(exc: ValidationError, source: str) -> FormatError:
    first = exc.errors(include_url=False)[0]
    found = "" if first["type"] == "missing" else f", found {json.dumps(first.get('input'))}"
    if first["type"].startswith("json"):
        return FormatError(f"malformed JSON: {first['msg']}", source=source)
    return FormatError(f"{first['msg']}{found}", source=source, location=_location(first["loc"]))


def _typing(names: list[str] | None, field: str, source: str) -> HlaTyping | None:
    if names is None:
        return None
    try:
        return HlaTyping.parse(names, field="HLA")
    except ModelError as exc:
        raise FormatError(str(exc).removeprefix("HLA: "), source=source, location=field) from exc


def _patient(item: PatientJson, i: int, source: str) -> PatientRecord:
    where = f"patients[{i}]"
    unacceptable = _typing(item.unacceptable, f"{where}.unacceptable", source)
    try:
        return PatientRecord(
            id=PatientId(item.id),
            abo=AboType(item.abo),
            hla=_typing(item.hla, f"{where}.hla", source),
            unacceptable=None if unacceptable is None else unacceptable.specificities,
            cpra=item.cpra,
            age=item.age,
            sex=None if item.sex is None else Sex(item.sex),
            anti_a_titre=item.anti_a_titre,
            anti_b_titre=item.anti_b_titre,
            centre=item.centre,
            registered=item.registered,
            recorded=item.recorded,
            antibodies_recorded=item.antibodies_recorded,
            declined_donors=tuple(DonorId(d) for d in item.declined_donors or ()),
        )
    except ModelError as exc:
        raise FormatError(str(exc), source=source, location=where) from exc


def _donor(item: DonorJson, i: int, source: str) -> DonorRecord:
    where = f"donors[{i}]"
    try:
        return DonorRecord(
            id=DonorId(item.id),
            abo=AboType(item.abo),
            patient=None if item.patient is None else PatientId(item.patient),
            hla=_typing(item.hla, f"{where}.hla", source),
            age=item.age,
            sex=None if item.sex is None else Sex(item.sex),
            egfr=item.egfr,
            centre=item.centre,
            recorded=item.recorded,
        )
    except ModelError as exc:
        raise FormatError(str(exc), source=source, location=where) from exc


def parse_records(text: str, source: str = "<text>") -> ClinicalPool:
    """Read a ``records.json`` document.

    Raises
    ------
    FormatError
        naming ``source`` and the field for malformed JSON, a missing or unknown field, a
        value of the wrong type or range, a bad HLA name, or an inconsistent pool.
    """
    try:
        document = RecordsJson.model_validate_json(text, strict=True)
    except ValidationError as exc:
        raise _validation_error(exc, source) from exc
    patients = tuple(_patient(p, i, source) for i, p in enumerate(document.patients))
    donors = tuple(_donor(d, i, source) for i, d in enumerate(document.donors))
    try:
        return ClinicalPool(patients, donors, name=document.name)
    except ModelError as exc:
        raise FormatError(str(exc), source=source) from exc


def _names(typing: HlaTyping | None) -> list[str] | None:
    return None if typing is None else list(typing.names)


def dump_records(pool: ClinicalPool) -> str:
    """``pool`` as a ``records.json`` document (unknown fields left out)."""
    patients = [
        PatientJson(
            id=p.id,
            abo=p.abo.value,
            hla=_names(p.hla),
            unacceptable=None if p.unacceptable is None else [u.name for u in p.unacceptable],
            cpra=p.cpra,
            age=p.age,
            sex=None if p.sex is None else p.sex.value,
            anti_a_titre=p.anti_a_titre,
            anti_b_titre=p.anti_b_titre,
            centre=p.centre,
            registered=p.registered,
            recorded=p.recorded,
            antibodies_recorded=p.antibodies_recorded,
            declined_donors=list(p.declined_donors) or None,
        )
        for p in pool.patients
    ]
    donors = [
        DonorJson(
            id=d.id,
            abo=d.abo.value,
            patient=d.patient,
            hla=_names(d.hla),
            age=d.age,
            sex=None if d.sex is None else d.sex.value,
            egfr=d.egfr,
            centre=d.centre,
            recorded=d.recorded,
        )
        for d in pool.donors
    ]
    document = RecordsJson(
        format=FORMAT_NAME,
        version=FORMAT_VERSION,
        name=pool.name,
        patients=patients,
        donors=donors,
    )
    return document.model_dump_json(exclude_none=True, indent=1) + "\n"


def read_records(path: str | Path) -> ClinicalPool:
    """Read the ``records.json`` file at ``path`` (see :func:`parse_records`)."""
    return parse_records(*read_utf8(path))


def write_records(pool: ClinicalPool, path: str | Path) -> None:
    """Write ``pool`` to ``path`` whole: to a temporary file first, then renamed."""
    target = Path(path)
    temporary = target.with_name(f".{target.name}.tmp")
    temporary.write_text(dump_records(pool), encoding="utf-8")
    temporary.replace(target)
