"""The ranges numeric fields may take, and short descriptions of found values.

Private to :mod:`kidneyshare.formats`. The ranges repeat the model's rules so that a
reader can report the exact field (``arcs[3].weight``, ``line 12``) before the model
would report only the record.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

__all__ = [
    "AGE",
    "FRACTION",
    "PERCENT",
    "PROBABILITY",
    "WEIGHT",
    "Range",
    "describe",
    "quote",
    "text_number",
]


@dataclass(frozen=True, slots=True)
class Range:
    """A closed interval (open at ``low`` when ``low_open``), finite numbers only."""

    low: float
    high: float
    expected: str
    low_open: bool = False

    def contains(self, value: float) -> bool:
        if not math.isfinite(value):
            return False
        above = value > self.low if self.low_open else value >= self.low
        return above and value <= self.high


WEIGHT = Range(0.0, math.inf, "a finite number >= 0")
FRACTION = Range(0.0, 1.0, "a fraction between 0 and 1")
PERCENT = Range(0.0, 100.0, "a percentage between 0 and 100")
AGE = Range(0.0, 120.0, "an age in years between 0 and 120")
PROBABILITY = Range(0.0, 1.0, "a probability greater than 0 and at most 1", low_open=True)


def quote(text: str) -> str:
    """``text`` in double quotes, escaped as in JSON (ids and keys in messages)."""
    return json.dumps(text, ensure_ascii=False)


def describe(value: object) -> str:
    """A short description of a decoded JSON value for "found ..." in messages."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return quote(shown)
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def text_number(text: str) -> float | None:
    """``text`` read as a decimal number, or ``None`` when it is not one."""
    try:
        return float(text)
    except ValueError:
        return None
