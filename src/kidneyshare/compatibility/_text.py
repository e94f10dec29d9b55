"""Reading the compatibility layer's input files as UTF-8 text, errors naming the file."""

from __future__ import annotations

from pathlib import Path

from kidneyshare.errors import FormatError

__all__ = ["read_utf8"]


def read_utf8(path: str | Path) -> tuple[str, str]:
    """The text of the file at ``path`` and its name for messages.

    Raises
    ------
    OSError
        when the file cannot be read.
    FormatError
        when it is not UTF-8 text.
    """
    source = str(path)
    try:
        return Path(path).read_text(encoding="utf-8"), source
    except UnicodeDecodeError as exc:
        raise FormatError("not UTF-8 text", source=source) from exc
