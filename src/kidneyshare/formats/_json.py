"""JSON decoding that keeps duplicate keys visible, and typed access with field paths.

Private to :mod:`kidneyshare.formats`. Every accessor takes the value and its path
(``data["3"].matches[0].score``) and raises :class:`~kidneyshare.errors.FormatError`
saying what was expected there and what was found.
"""

from __future__ import annotations

import json
import math
from typing import Any

from kidneyshare.errors import FormatError
from kidneyshare.formats._values import Range, describe, quote

__all__ = ["JsonFields", "field", "index", "key", "load_json"]

ROOT = ""


class _DuplicateKeys(dict[str, Any]):
    """A decoded JSON object in which some key appeared more than once."""

    __slots__ = ("duplicates",)

    duplicates: tuple[str, ...]


def _object_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) == len(pairs):
        return obj
    seen: set[str] = set()
    duplicates: list[str] = []
    for name, _ in pairs:
        if name in seen and name not in duplicates:
            duplicates.append(name)
        seen.add(name)
    marked = _DuplicateKeys(obj)
    marked.duplicates = tuple(duplicates)
    return marked


def load_json(text: str, source: str) -> Any:
    """Decode ``text``; objects with a repeated key are marked for :class:`JsonFields`.

    Raises
    ------
    FormatError
        for malformed or truncated JSON, located by line and column.
    """
    try:
        return json.loads(text, object_pairs_hook=_object_pairs)
    except json.JSONDecodeError as exc:
        ends_early = not text[exc.pos :].strip()
        hint = " (the text ends early: is the file truncated?)" if ends_early else ""
        raise FormatError(
            f"malformed JSON: {exc.msg}{hint}",
            source=source,
            location=f"line {exc.lineno}, column {exc.colno}",
        ) from exc
    except RecursionError as exc:
        raise FormatError("malformed JSON: nested too deeply", source=source) from exc


def field(path: str, name: str) -> str:
    """Path of the named field ``name`` of the object at ``path``."""
    return f"{path}.{name}" if path else name


def key(path: str, name: str) -> str:
    """Path of the entry keyed by the id ``name`` in the mapping at ``path``."""
    return f"{path}[{quote(name)}]"


def index(path: str, i: int) -> str:
    """Path of item ``i`` (0-based) of the list at ``path``."""
    return f"{path}[{i}]"


class JsonFields:
    """Typed access to decoded JSON values, raising errors that name ``source``."""

    __slots__ = ("source",)

    def __init__(self, source: str) -> None:
        self.source = source

    def error(self, message: str, path: str | None) -> FormatError:
        location = None if path is None else (path or "top level")
        return FormatError(message, source=self.source, location=location)

    def as_object(self, value: Any, path: str, *, keyed: bool = False) -> dict[str, Any]:
        """``value`` as an object whose keys each appear once.

        ``keyed`` marks a mapping from ids to records; a repeated key there is a
        duplicate id and is located as ``path["id"]``, else as ``path.name``.
        """
        if not isinstance(value, dict):
            raise self.error(f"expected an object, found {describe(value)}", path)
        if isinstance(value, _DuplicateKeys):
            name = value.duplicates[0]
            where = key(path, name) if keyed else field(path, name)
            what = "id" if keyed else "field"
            raise self.error(
                f"duplicate {what} {quote(name)}: each key may appear only once in an object",
                where,
            )
        return value

    def as_list(self, value: Any, path: str) -> list[Any]:
        if not isinstance(value, list):
            raise self.error(f"expected a list, found {describe(value)}", path)
        return value

    def as_string(self, value: Any, path: str) -> str:
        if not isinstance(value, str):
            raise self.error(f"expected a string, found {describe(value)}", path)
        return value

    def as_bool(self, value: Any, path: str) -> bool:
        if not isinstance(value, bool):
            raise self.error(f"expected true or false, found {describe(value)}", path)
        return value

    def as_number(self, value: Any, path: str, allowed: Range) -> float:
        """``value`` as a float within ``allowed`` (JSON numbers only, not strings)."""
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.error(f"expected {allowed.expected}, found {describe(value)}", path)
        try:
            number = float(value)
        except OverflowError:
            number = math.inf
        if not allowed.contains(number):
            raise self.error(f"expected {allowed.expected}, found {describe(value)}", path)
        return number

    def as_id(self, value: Any, path: str, *, integers: bool = False) -> str:
        """``value`` as an id: a string, or with ``integers`` also a JSON integer."""
        if isinstance(value, str):
            return value
        if integers and isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        expected = "an id (a string or an integer)" if integers else "an id (a string)"
        raise self.error(f"expected {expected}, found {describe(value)}", path)

    def only_fields(self, obj: dict[str, Any], path: str, allowed: tuple[str, ...]) -> None:
        """Reject any field of ``obj`` not in ``allowed`` (strict formats)."""
        for name in obj:
            if name not in allowed:
                raise self.error(
                    f"unexpected field {quote(name)}; expected only {', '.join(allowed)}",
                    field(path, name),
                )

    def required(self, obj: dict[str, Any], path: str, name: str) -> Any:
        if name not in obj:
            raise self.error(f"missing field {quote(name)}", path)
        return obj[name]
