"""cPRA / cRF: the share of a reference panel of donors a patient's antibodies rule out.

The calculated panel-reactive antibody (cPRA, United States) or calculated reaction
frequency (cRF, United Kingdom) of a patient is the fraction of donors in a reference
panel that carry at least one of the patient's unacceptable antigens: the chance that a
random donor has a positive virtual crossmatch. A panel donor is counted positive exactly
when :func:`~kidneyshare.compatibility.crossmatch.virtual_crossmatch` says so, so the
cPRA and the builder's arcs always agree. NHSBT's cRF counts only donors of the patient's
own ABO group (pass ``blood_group``); the OPTN cPRA counts the whole panel.

A panel is a CSV file with a header ``id,abo,hla``: one donor a line, ``hla`` the typing
as space-separated names (``A1 A2 B8 B44 Cw7 DR17 DR4 DR52 DR53 DQ2 DQ8``). kidneyshare
ships a synthetic panel (:func:`default_panel`) drawn by
:func:`kidneyshare.generators.clinical.generate_reference_panel` from published antigen
frequencies; a scheme should use a panel of its own recent donors.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path

import numpy as np
import numpy.typing as npt

from kidneyshare.compatibility._text import read_utf8
from kidneyshare.compatibility.crossmatch import hla_conflict, with_implied
from kidneyshare.compatibility.hla import HlaName
from kidneyshare.compatibility.records import ClinicalPool, HlaTyping
from kidneyshare.errors import FormatError, ModelError
from kidneyshare.model import BloodGroup, PatientId

__all__ = [
    "DEFAULT_PANEL_FILE",
    "PanelDonor",
    "ReferencePanel",
    "calculated_reaction_frequency",
    "default_panel",
    "dump_panel",
    "panel_cpra",
    "parse_panel",
    "read_panel",
]

DEFAULT_PANEL_FILE = "synthetic-uk-panel.csv"
"""The shipped panel's file name in ``kidneyshare/compatibility/data``."""

_HEADER = ["id", "abo", "hla"]


@dataclass(frozen=True, slots=True)
class PanelDonor:
    """One typed donor of a reference panel."""

    id: str
    blood_group: BloodGroup
    hla: HlaTyping


@dataclass(frozen=True, slots=True)
class ReferencePanel:
    """A reference panel of typed donors, indexed once for fast cPRA calculations."""

    donors: tuple[PanelDonor, ...]
    source: str = "<panel>"
    _carriers: dict[HlaName, npt.NDArray[np.intp]] = field(init=False, repr=False, compare=False)
    _groups: dict[BloodGroup, npt.NDArray[np.bool_]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.donors:
            raise ModelError(f"{self.source}: a reference panel needs at least one donor")
        carriers: dict[HlaName, list[int]] = {}
        for i, donor in enumerate(self.donors):
            for specificity in with_implied(donor.hla.specificities):
                carriers.setdefault(specificity, []).append(i)
        object.__setattr__(
            self, "_carriers", {s: np.array(ix, dtype=np.intp) for s, ix in carriers.items()}
        )
        groups = np.array([d.blood_group.value for d in self.donors])
        object.__setattr__(self, "_groups", {g: groups == g.value for g in BloodGroup})

    def positive(self, unacceptable: Iterable[HlaName]) -> npt.NDArray[np.bool_]:
        """For each panel donor, whether the virtual crossmatch with ``unacceptable`` is
        positive."""
        listed = tuple(unacceptable)
        hit = np.zeros(len(self.donors), dtype=bool)
        for specificity, donors in self._carriers.items():
            if any(hla_conflict(specificity, target) is not None for target in listed):
                hit[donors] = True
        return hit

    def of_group(self, blood_group: BloodGroup) -> npt.NDArray[np.bool_]:
        return self._groups[blood_group]


def calculated_reaction_frequency(
    unacceptable: Iterable[HlaName],
    panel: ReferencePanel,
    *,
    blood_group: BloodGroup | None = None,
) -> float:
    """The fraction of ``panel`` (of its ``blood_group`` donors, if given) that carry at
    least one unacceptable antigen.

    Raises
    ------
    ModelError
        when the panel has no donor of ``blood_group``.

    Examples
    --------
    >>> from kidneyshare.compatibility.hla import parse_hla_names
    >>> panel = parse_panel("id,abo,hla\\n1,O,A1 A2 B8\\n2,A,A24 B7\\n3,O,A3 B7\\n4,O,A23 B8\\n")
    >>> calculated_reaction_frequency(parse_hla_names("A9", field="u"), panel)
    0.5
    >>> calculated_reaction_frequency(parse_hla_names("A9", field="u"), panel,
    ...     blood_group=BloodGroup.O)
    0.3333333333333333
    """
    positive = panel.positive(unacceptable)
    if blood_group is None:
        return float(positive.mean())
    members = panel.of_group(blood_group)
    if not members.any():
        raise ModelError(
            f"{panel.source}: no donor of blood group {blood_group.value} in the panel; "
            "cannot compute a blood-group-identical cRF"
        )
    return float(positive[members].mean())


def panel_cpra(
    records: ClinicalPool, panel: ReferencePanel, *, same_blood_group: bool = False
) -> dict[PatientId, float]:
    """The cPRA of every patient whose unacceptable antigens are known, against ``panel``
    (only donors of the patient's own ABO group with ``same_blood_group``, as NHSBT's
    cRF), rounded to 4 decimals."""
    return {
        patient.id: round(
            calculated_reaction_frequency(
                patient.unacceptable,
                panel,
                blood_group=patient.abo.group if same_blood_group else None,
            ),
            4,
        )
        for patient in records.patients
        if patient.unacceptable is not None
    }


def parse_panel(text: str, source: str = "<panel>") -> ReferencePanel:
    """Read a panel CSV (header ``id,abo,hla``).

    Raises
    ------
    FormatError
        naming ``source`` and the line for a wrong header, a missing cell, an unknown
        blood group, a bad HLA name or a repeated id.
    """
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff")))
    header = next(reader, None)
    if header is None or [h.strip().lower() for h in header] != _HEADER:
        raise FormatError(
            f"expected the header id,abo,hla, found {','.join(header or [])!r}",
            source=source,
            location="line 1",
        )
    donors: list[PanelDonor] = []
    seen: set[str] = set()
    for row in reader:
        line = f"line {reader.line_num}"
        if not row:
            continue
        if len(row) != 3:
            raise FormatError(
                f"expected 3 cells (id,abo,hla), found {len(row)}", source=source, location=line
            )
        donor_id, abo, names = (cell.strip() for cell in row)
        if not donor_id or donor_id in seen:
            what = "an empty" if not donor_id else f"a repeated ({donor_id!r})"
            raise FormatError(f"{what} donor id", source=source, location=line)
        seen.add(donor_id)
        try:
            donors.append(
                PanelDonor(
                    donor_id,
                    BloodGroup.parse(abo, field="abo"),
                    HlaTyping.parse(names, field="hla"),
                )
            )
        except ModelError as exc:
            raise FormatError(str(exc), source=source, location=line) from exc
    try:
        return ReferencePanel(tuple(donors), source)
    except ModelError as exc:
        raise FormatError(
            "no donors: expected at least one line after the header", source=source
        ) from exc


def dump_panel(panel: ReferencePanel) -> str:
    """``panel`` as CSV text (``\\n`` line ends)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(_HEADER)
    for donor in panel.donors:
        writer.writerow([donor.id, donor.blood_group.value, " ".join(donor.hla.names)])
    return out.getvalue()


def read_panel(path: str | Path) -> ReferencePanel:
    """Read the panel CSV at ``path``."""
    return parse_panel(*read_utf8(path))


@cache
def default_panel() -> ReferencePanel:
    """The shipped synthetic panel (read once)."""
    data = resources.files("kidneyshare.compatibility") / "data" / DEFAULT_PANEL_FILE
    return parse_panel(data.read_text(encoding="utf-8"), f"kidneyshare:{DEFAULT_PANEL_FILE}")
