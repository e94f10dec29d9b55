"""Arcs held as columns (numpy arrays) instead of one object each.

A 10,000-pair Saidman pool has 28 million arcs: as :class:`Arc` objects they take
several GB and minutes to build and check. An :class:`ArcTable` holds the same arcs as
index and value arrays, validated with whole-array operations, and still reads as a
sequence of :class:`Arc` (each built when asked for), so code written for a tuple of
arcs works on it unchanged, and the matching engine reads the arrays directly.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, overload

import numpy as np
import numpy.typing as npt

from kidneyshare.errors import ModelError
from kidneyshare.model.arc import Arc
from kidneyshare.model.people import DonorId, PatientId, check_id

__all__ = ["ArcTable"]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


class ArcTable(Sequence[Arc]):
    """Arcs ``donors[donor[i]] -> patients[patient[i]]`` with ``weight[i]`` and
    ``probability[i]`` (NaN where unknown), in the given order.

    Raises
    ------
    ModelError
        naming the first offending arc: an index outside the id lists, a weight that is
        negative or not finite, a probability outside (0, 1], arrays of unequal length,
        or a bad id.
    """

    __slots__ = (
        "_keys",
        "_numbers",
        "_order",
        "donor",
        "donors",
        "patient",
        "patients",
        "probability",
        "weight",
    )

    def __init__(
        self,
        donors: Sequence[str],
        patients: Sequence[str],
        donor: npt.ArrayLike,
        patient: npt.ArrayLike,
        weight: npt.ArrayLike | None = None,
        probability: npt.ArrayLike | None = None,
    ) -> None:
        self.donors = tuple(DonorId(check_id(d, "arc table donor")) for d in donors)
        self.patients = tuple(PatientId(check_id(p, "arc table patient")) for p in patients)
        self.donor: IntArray = np.asarray(donor, dtype=np.int64)
        self.patient: IntArray = np.asarray(patient, dtype=np.int64)
        m = len(self.donor)
        self.weight: FloatArray = (
            np.ones(m) if weight is None else np.asarray(weight, dtype=np.float64)
        )
        self.probability: FloatArray = (
            np.full(m, np.nan) if probability is None else np.asarray(probability, np.float64)
        )
        for name in ("patient", "weight", "probability"):
            array = getattr(self, name)
            if array.shape != (m,):
                raise ModelError(
                    f"arc table {name}: expected {m} values (one per arc), got shape {array.shape}"
                )
        self._check()
        keys = self.donor * max(len(self.patients), 1) + self.patient
        if np.all(keys[1:] > keys[:-1]):  # already in order (a generator's arcs)
            self._order: IntArray = np.arange(len(keys), dtype=np.int64)
            self._keys: IntArray = keys
        else:
            self._order = np.argsort(keys, kind="stable")
            self._keys = keys[self._order]
        self._numbers: tuple[dict[str, int], dict[str, int]] | None = None

    def _first(self, bad: npt.NDArray[np.bool_], what: str) -> None:
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ModelError(f"arc {i} of the arc table: {what}, got {self._describe(i)}")

    def _describe(self, i: int) -> str:
        d, p = int(self.donor[i]), int(self.patient[i])
        giver = self.donors[d] if 0 <= d < len(self.donors) else f"donor index {d}"
        receiver = self.patients[p] if 0 <= p < len(self.patients) else f"patient index {p}"
        return f"{giver}->{receiver} weight {self.weight[i]!r} probability {self.probability[i]!r}"

    def _check(self) -> None:
        self._first((self.donor < 0) | (self.donor >= len(self.donors)), "unknown donor index")
        self._first(
            (self.patient < 0) | (self.patient >= len(self.patients)), "unknown patient index"
        )
        self._first(~np.isfinite(self.weight) | (self.weight < 0), "weight must be finite, >= 0")
        p = self.probability
        self._first(~np.isnan(p) & ~((p > 0) & (p <= 1)), "probability must be in (0, 1]")

    # -- lookups -----------------------------------------------------------------------

    def duplicate(self) -> int | None:
        """Position of an arc that repeats an earlier (donor, patient), or ``None``."""
        same = np.flatnonzero(self._keys[1:] == self._keys[:-1])
        if not len(same):
            return None
        return int(self._order[same + 1].min())

    def position(self, donor: str, patient: str) -> int | None:
        """Position of the arc ``donor -> patient``, or ``None`` when there is none."""
        if self._numbers is None:
            self._numbers = (
                {d: i for i, d in enumerate(self.donors)},
                {p: i for i, p in enumerate(self.patients)},
            )
        d, p = self._numbers[0].get(donor), self._numbers[1].get(patient)
        if d is None or p is None:
            return None
        key = d * max(len(self.patients), 1) + p
        at = int(np.searchsorted(self._keys, key))
        if at < len(self._keys) and self._keys[at] == key:
            return int(self._order[at])
        return None

    # -- the sequence of Arc -----------------------------------------------------------

    def __len__(self) -> int:
        return int(self.donor.shape[0])

    def _arc(self, i: int) -> Arc:
        p = float(self.probability[i])
        return Arc(
            self.donors[int(self.donor[i])],
            self.patients[int(self.patient[i])],
            float(self.weight[i]),
            None if np.isnan(p) else p,
        )

    @overload
    def __getitem__(self, index: int) -> Arc: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[Arc, ...]: ...

    def __getitem__(self, index: int | slice) -> Arc | tuple[Arc, ...]:
        if isinstance(index, slice):
            return tuple(self._arc(i) for i in range(*index.indices(len(self))))
        if not -len(self) <= index < len(self):
            raise IndexError(f"arc {index} of {len(self)}")
        return self._arc(index % len(self))

    def __iter__(self) -> Iterator[Arc]:
        for i in range(len(self)):
            yield self._arc(i)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, ArcTable):
            return (
                self.donors == other.donors
                and self.patients == other.patients
                and np.array_equal(self.donor, other.donor)
                and np.array_equal(self.patient, other.patient)
                and np.array_equal(self.weight, other.weight)
                and np.array_equal(self.probability, other.probability, equal_nan=True)
            )
        if isinstance(other, Sequence):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    def __hash__(self) -> int:
        return hash((len(self), self.donors, self.patients))

    def __repr__(self) -> str:
        return (
            f"ArcTable({len(self)} arcs, {len(self.donors)} donors, {len(self.patients)} patients)"
        )

    def __reduce__(self) -> tuple[Any, ...]:
        return (
            ArcTable,
            (self.donors, self.patients, self.donor, self.patient, self.weight, self.probability),
        )
