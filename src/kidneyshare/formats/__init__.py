"""Reading and writing pools: kidneyshare's native JSON and the field's formats.

One module per format, each with a pure ``parse_*(text, source) -> Instance`` and
``dump_*(instance) -> str`` and thin ``read_*(path)`` / ``write_*(instance, path)``:

========================  =============  ==============================================
format name               module         what
========================  =============  ==============================================
``"native"``              ``native``     kidneyshare's versioned JSON (lossless)
``"glasgow"``             ``glasgow``    Glasgow / kep_solver "data" JSON (layout 1; 2 read)
``"glasgow-xml"``         ``glasgow_xml`` its XML form
``"preflib"``             ``preflib``    PrefLib ``.wmd`` (2022 and old layouts) + ``.dat``
========================  =============  ==============================================

The functions here pick the format from the content (:func:`detect_format`), never from
the file name; files may be gzipped (recognised by content). Every problem with the
input is a :class:`~kidneyshare.errors.FormatError` naming the file and the line or
field, saying what was expected and what was found.

Examples
--------
>>> from kidneyshare.formats import detect_format, dump_instance, parse_instance
>>> text = '{"data": {"1": {"sources": [1], "matches": [{"recipient": 1, "score": 1}]}}}'
>>> detect_format(text)
'glasgow'
>>> pool = parse_instance(text)
>>> detect_format(dump_instance(pool, "preflib"))
'preflib'
"""

from __future__ import annotations

import re
from typing import Any

from kidneyshare.errors import ConfigError, FormatError
from kidneyshare.formats import glasgow, native, preflib
from kidneyshare.formats._files import StrPath, read_text
from kidneyshare.formats._values import quote
from kidneyshare.formats.glasgow import dump_glasgow, parse_glasgow, read_glasgow, write_glasgow
from kidneyshare.formats.glasgow_xml import (
    dump_glasgow_xml,
    parse_glasgow_xml,
    read_glasgow_xml,
    write_glasgow_xml,
)
from kidneyshare.formats.native import (
    dump_native,
    native_schema,
    parse_native,
    read_native,
    write_native,
)
from kidneyshare.formats.preflib import (
    dat_path_for,
    dump_preflib,
    dump_preflib_dat,
    parse_preflib,
    read_preflib,
    write_preflib,
)
from kidneyshare.model import Instance

__all__ = [
    "FORMATS",
    "dat_path_for",
    "detect_format",
    "dump_glasgow",
    "dump_glasgow_xml",
    "dump_instance",
    "dump_native",
    "dump_preflib",
    "dump_preflib_dat",
    "native_schema",
    "parse_glasgow",
    "parse_glasgow_xml",
    "parse_instance",
    "parse_native",
    "parse_preflib",
    "read_glasgow",
    "read_glasgow_xml",
    "read_instance",
    "read_instance_format",
    "read_native",
    "read_preflib",
    "write_glasgow",
    "write_glasgow_xml",
    "write_instance",
    "write_native",
    "write_preflib",
]

FORMATS = ("native", "glasgow", "glasgow-xml", "preflib")
"""The names of the formats kidneyshare reads and writes."""

_EXPECTED = "native JSON, Glasgow JSON or XML, or a PrefLib .wmd"
_CONTENT = re.compile("[^\ufeff \t\r\n]")
"""The first character of a file's content (after a byte-order mark and blank space)."""
_GLASGOW_FIRST = re.compile(r'\{[ \t\r\n]*"(?:data|schema|recipients)"')
"""The start of a Glasgow document, decoded by its own decoder (its matches as columns)."""


def _sniff(text: str, source: str) -> tuple[str, Any]:
    """The format of ``text`` and, for JSON, the decoded document (to decode it once)."""
    # positions, not copies: a pool file may be gigabytes
    found = _CONTENT.search(text)
    if found is None:
        raise FormatError(f"empty input: expected {_EXPECTED}", source=source)
    at = found.start()
    stop = text.find("\n", at)
    first_line = text[at : len(text) if stop < 0 else stop]
    first = text[at]
    if first == "<":
        return "glasgow-xml", None
    if first in "{[":
        decode = glasgow.decode if _GLASGOW_FIRST.match(text, at) else native.decode
        document = decode(text, source)
        if not isinstance(document, dict):
            raise FormatError(
                f"expected a JSON object at the top level ({_EXPECTED}), found a list",
                source=source,
                location="top level",
            )
        if "format" in document:
            return "native", document
        if "data" in document or "schema" in document:
            return "glasgow", document
        keys = ", ".join(quote(k) for k in list(document)[:6]) or "none"
        raise FormatError(
            'unrecognised JSON: expected "format": "kidneyshare" (native) or a "data" '
            f'object or "schema" (Glasgow) at the top level, found the keys {keys}',
            source=source,
            location="top level",
        )
    if first == "#" or _is_count_line(first_line):
        return "preflib", None
    line = text.count("\n", 0, at) + 1
    shown = first_line[:40]
    raise FormatError(
        f"unrecognised format: expected {_EXPECTED}, found {quote(shown)}",
        source=source,
        location=f"line {line}",
    )


def _is_count_line(line: str) -> bool:
    """Whether ``line`` is the ``V,E`` first line of an old-layout PrefLib ``.wmd``."""
    parts = line.strip().split(",")
    return len(parts) == 2 and all(p.strip().isdigit() for p in parts)


def detect_format(text: str, source: str = "<text>") -> str:
    """The format of ``text``, judged from its content: one of :data:`FORMATS`.

    XML is taken as Glasgow XML; a JSON object with a ``format`` field as native, with
    ``data`` or ``schema`` as Glasgow JSON; text starting with ``#`` or a ``V,E`` line
    as PrefLib.

    Raises
    ------
    FormatError
        when the text is empty, is malformed JSON, or is none of these.
    """
    return _sniff(text, source)[0]


def _check_name(format: str) -> None:
    if format not in FORMATS:
        raise ConfigError(f"unknown format {format!r}; expected one of {', '.join(FORMATS)}")


def _parse(
    fmt: str,
    text: str,
    source: str,
    document: Any,
    dat: tuple[str, str] | None,
) -> Instance:
    if dat is not None and fmt != "preflib":
        raise FormatError(
            f"a .dat companion ({dat[1]}) goes with a PrefLib .wmd, but this is {fmt}",
            source=source,
        )
    if fmt == "native":
        if document is None:
            return parse_native(text, source)
        return native._parse_document(document, source)
    if fmt == "glasgow":
        if document is None:
            return parse_glasgow(text, source)
        return glasgow._parse_document(document, source)
    if fmt == "glasgow-xml":
        return parse_glasgow_xml(text, source)
    if dat is None:
        return parse_preflib(text, source)
    return parse_preflib(text, source, dat[0], dat[1])


def parse_instance(
    text: str,
    source: str = "<text>",
    dat_text: str | None = None,
    *,
    dat_source: str = "<dat>",
    format: str | None = None,
) -> Instance:
    """Read a pool from ``text`` in any format of :data:`FORMATS`.

    Parameters
    ----------
    text
        The file's text.
    source
        The file name to report in errors.
    dat_text
        A PrefLib ``.dat`` companion's text (only with a ``.wmd``).
    dat_source
        The ``.dat`` file name to report in errors.
    format
        Read in this format instead of detecting it.

    Raises
    ------
    FormatError
        when the format cannot be recognised, ``dat_text`` comes with another format
        than PrefLib, or the text is not a valid pool in its format.
    ConfigError
        when ``format`` is not one of :data:`FORMATS`.
    """
    text = text.removeprefix("\ufeff")
    if format is None:
        fmt, document = _sniff(text, source)
    else:
        _check_name(format)
        fmt, document = format, None
    dat = None if dat_text is None else (dat_text, dat_source)
    return _parse(fmt, text, source, document, dat)


def read_instance(path: StrPath) -> Instance:
    """Read the pool in the file at ``path``, in any format of :data:`FORMATS`.

    The file may be gzipped (recognised by content). For a PrefLib ``.wmd`` (or
    ``.wmd.gz``) the ``.dat`` beside it (``x.dat``, or ``x.dat.gz``) is read when present.

    Raises
    ------
    OSError
        when a file cannot be read.
    FormatError
        as :func:`parse_instance`, naming the file at fault.
    """
    return read_instance_format(path)[0]


def read_instance_format(path: StrPath) -> tuple[Instance, str]:
    """:func:`read_instance`, with the name of the format the file was found in (the
    file is read once)."""
    text, source = read_text(path)
    fmt, document = _sniff(text, source)
    if document is not None:
        text = ""  # decoded: let a large file's text go before the pool is built
    dat = preflib._read_companion(path) if fmt == "preflib" else None
    return _parse(fmt, text, source, document, dat), fmt


def dump_instance(instance: Instance, format: str) -> str:
    """Write ``instance`` in ``format`` (for PrefLib, the ``.wmd`` only).

    Raises
    ------
    ConfigError
        when ``format`` is not one of :data:`FORMATS`.
    FormatError
        when the format cannot hold the pool (see each module's ``dump_*``).
    """
    _check_name(format)
    if format == "native":
        return dump_native(instance)
    if format == "glasgow":
        return dump_glasgow(instance)
    if format == "glasgow-xml":
        return dump_glasgow_xml(instance)
    return dump_preflib(instance)


def write_instance(instance: Instance, path: StrPath, format: str) -> None:
    """Write ``instance`` to ``path`` in ``format``, gzipped when ``path`` ends in ``.gz``.

    For PrefLib the ``.dat`` companion is written beside the ``.wmd``
    (:func:`~kidneyshare.formats.preflib.write_preflib`).

    Raises
    ------
    ConfigError
        when ``format`` is not one of :data:`FORMATS`.
    FormatError
        when the format cannot hold the pool.
    """
    _check_name(format)
    if format == "preflib":
        write_preflib(instance, path)
    elif format == "native":
        write_native(instance, path)  # written in pieces, never one string
    elif format == "glasgow":
        write_glasgow(instance, path)
    else:
        write_glasgow_xml(instance, path)
