"""Reading and writing instance files: gzip by content, UTF-8 text, errors naming the file.

Private to :mod:`kidneyshare.formats`; the format modules' ``read_*``/``write_*`` wrappers
are the only callers.
"""

from __future__ import annotations

import codecs
import gzip
import os
import struct
import zlib
from collections.abc import Iterable
from pathlib import Path

from kidneyshare.errors import FormatError

__all__ = ["GZIP_MAGIC", "decode_text", "read_text", "write_text"]

GZIP_MAGIC = b"\x1f\x8b"

StrPath = str | os.PathLike[str]


def decode_text(data: bytes, source: str) -> str:
    """Return ``data`` as text: gunzipped when it starts with the gzip magic, then UTF-8.

    A UTF-8 byte-order mark is dropped.

    Raises
    ------
    FormatError
        when the gzip stream is corrupt or truncated, or the bytes are not UTF-8.
    """
    if data[:2] == GZIP_MAGIC:
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as exc:
            raise FormatError(
                f"corrupt or truncated gzip data ({exc}); expected a complete gzip file",
                source=source,
            ) from exc
    # the mark dropped by hand: the "utf-8-sig" codec is five times slower than "utf-8"
    start = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    try:
        return (data[start:] if start else data).decode("utf-8")
    except UnicodeDecodeError as exc:
        at = start + exc.start
        line = data.count(b"\n", 0, at) + 1
        raise FormatError(
            f"expected UTF-8 text, found the byte 0x{data[at]:02x} that is not valid UTF-8",
            source=source,
            location=f"line {line}",
        ) from exc


def read_text(path: StrPath) -> tuple[str, str]:
    """Read the file at ``path`` (gzipped or not); return ``(text, source name)``.

    Raises
    ------
    OSError
        when the file cannot be opened.
    FormatError
        as :func:`decode_text`.
    """
    source = os.fspath(path)
    data = Path(path).read_bytes()
    return decode_text(data, source), source


def write_text(path: StrPath, text: str | Iterable[str]) -> None:
    """Write ``text`` (or its pieces, in turn) as UTF-8 to ``path``, gzipped when the name
    ends in ``.gz``.

    Pieces are encoded and written one at a time, so a pool of millions of arcs is never
    held as one string. The gzip stream is the one :func:`gzip.compress` gives for the
    whole text with ``mtime=0`` (no timestamp): the same text always gives the same bytes.
    """
    pieces = [text] if isinstance(text, str) else text
    with Path(path).open("wb") as out:
        if not os.fspath(path).endswith(".gz"):
            for piece in pieces:
                out.write(piece.encode("utf-8"))
            return
        out.write(_GZIP_HEADER)
        deflate = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
        crc = size = 0
        for piece in pieces:
            data = piece.encode("utf-8")
            out.write(deflate.compress(data))
            crc = zlib.crc32(data, crc)
            size += len(data)
        out.write(deflate.flush())
        out.write(struct.pack("<II", crc, size & 0xFFFFFFFF))


_GZIP_HEADER = gzip.compress(b"", mtime=0)[:10]
"""The 10-byte header :func:`gzip.compress` writes (no name, no timestamp)."""
