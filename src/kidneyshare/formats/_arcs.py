"""Arcs as columns for the readers and writers: no :class:`~kidneyshare.model.Arc` each.

Private to :mod:`kidneyshare.formats`. A 10,000-pair pool has 28 million arcs; built or
written one object at a time they take minutes and gigabytes. Writers take the pool's
arcs as an :class:`~kidneyshare.model.ArcTable` (``Instance.arc_table()``) and format each
distinct value once (:func:`distinct`); readers hand columns of id codes and values
to the pool builder (:class:`ArcColumns`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = [
    "ArcColumns",
    "Bytes",
    "FloatArray",
    "IntArray",
    "byte_texts",
    "codes_of",
    "distinct",
    "runs",
]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
Bytes = npt.NDArray[np.bytes_]


@dataclass(slots=True)
class ArcColumns:
    """Arcs as read from a file: ``donors[donor[i]] -> patients[patient[i]]``.

    The names are as the file gives them, so they may include ids that are not in the
    pool (reported by the builder, with the arc's place). ``probability`` is NaN where
    the file gives none.
    """

    donors: list[str]
    patients: list[str]
    donor: IntArray
    patient: IntArray
    weight: FloatArray
    probability: FloatArray


def distinct(values: npt.NDArray[Any]) -> tuple[npt.NDArray[Any], IntArray]:
    """The distinct values and, for every value, the position of its own among them.

    Most columns hold one value (a pool's weights), checked for before the sort that
    finding distinct values takes.
    """
    if len(values) and (values == values[0]).all():
        return values[:1], np.zeros(len(values), np.int64)
    found, inverse = np.unique(values, return_inverse=True)
    return found, inverse.reshape(-1).astype(np.int64)


def byte_texts(buf: npt.NDArray[np.uint8], begin: IntArray, end: IntArray) -> Bytes:
    """``buf[begin[i]:end[i]]`` for each row (none longer than a few hundred bytes, none
    holding a NUL byte) as a numpy ``S`` array."""
    lengths = end - begin
    width = max(int(lengths.max()), 1) if len(lengths) else 1
    if len(buf) < width or (len(begin) and int(begin.max()) > len(buf) - width):
        buf = np.concatenate((buf, np.zeros(width, np.uint8)))  # every window inside
    # rows of a sliding window over the bytes: no index array of n * width positions
    grid = np.lib.stride_tricks.sliding_window_view(buf, width)[begin]
    grid[np.arange(width) >= lengths[:, None]] = 0
    return grid.view(f"S{width}").reshape(-1)


def runs(*keys: IntArray) -> Iterator[tuple[int, int]]:
    """``(start, end)`` of each stretch of rows over which every key stays the same."""
    n = len(keys[0])
    if not n:
        return
    change = np.zeros(n, dtype=bool)
    change[0] = True
    for key in keys:
        change[1:] |= key[1:] != key[:-1]
    bounds = np.append(np.flatnonzero(change), n).tolist()
    yield from pairwise(bounds)


def codes_of(texts: npt.NDArray[np.bytes_], known: Sequence[str]) -> tuple[list[str], IntArray]:
    """Ids given as UTF-8 bytes (a numpy ``S`` array) as numbers into a list of names:
    ``known`` first, then any id not in it (decoded), in order of first appearance."""
    names = list(known)
    codes = np.zeros(len(texts), np.int64)
    unknown = np.ones(len(texts), dtype=bool)
    if names and len(texts):
        keys: npt.NDArray[Any] = np.array([name.encode("utf-8") for name in names])
        sought: npt.NDArray[Any] = texts
        if keys.itemsize <= 8 and texts.itemsize <= 8:
            # ids of up to 8 bytes (no NUL in them) compared as 64-bit numbers: faster
            keys, sought = (a.astype("S8").view(np.uint64) for a in (keys, texts))
        order = np.argsort(keys, kind="stable")
        ordered = keys[order]
        at = np.minimum(np.searchsorted(ordered, sought), len(ordered) - 1)
        codes = order[at].astype(np.int64)
        unknown = ordered[at] != sought
    if not unknown.any():
        return names, codes
    strangers, first, inverse = np.unique(texts[unknown], return_index=True, return_inverse=True)
    by_appearance = np.argsort(first, kind="stable")
    rank = np.empty(len(strangers), np.int64)
    rank[by_appearance] = np.arange(len(strangers))
    codes[unknown] = len(names) + rank[inverse.reshape(-1)]
    names.extend(bytes(strangers[i]).decode("utf-8") for i in by_appearance.tolist())
    return names, codes
