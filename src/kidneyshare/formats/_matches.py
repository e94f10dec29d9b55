"""Glasgow JSON ``matches`` read as columns: no decoded object per match.

Private to :mod:`kidneyshare.formats.glasgow`. A 10,000-pair pool has 28 million
matches; decoded by :func:`json.loads` they take one dict, one id string and one number
each (some 12 GB) before a single check is made. The layout that ``json.dumps(...,
indent=N)`` writes, which is how :func:`~kidneyshare.formats.glasgow.dump_glasgow` and
kep_solver write these files::

    "matches": [
      {
        "recipient": 2,
        "score": 1
      },
      ...
    ]

is recognised instead, and each list's items are read as byte columns with numpy
(recipient ids as UTF-8, score texts, each distinct score text decoded once by
:func:`json.loads`). The rest of the document, with each scanned list replaced by a
number (``"matches": [0]``, ``[1]``, ... in document order), is decoded as usual, and
the reader checks that those numbers came back as the lists of its donors (else, as for
any list in another layout, the whole document is decoded object by object).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from kidneyshare.errors import FormatError
from kidneyshare.formats._arcs import Bytes, IntArray, byte_texts, distinct
from kidneyshare.formats._json import load_json

__all__ = ["ScannedMatches", "scan_matches"]

_KEY = re.compile(r'"(?:matches|outgoing_transplants)": \[')  # layout 1's or 2's
_ITEM = re.compile(r"\n( *)\{\n( *)\"")  # the first item's indentation and its keys'
_CLOSING = re.compile(r"\n *")  # after the last item, before "]"
_EMPTY = re.compile(r"[ \t\n\r]*")
_CHUNK = 1 << 24  # characters scanned at a time: the arrays of one chunk stay small
_WIDEST = 256  # longest id or score scanned; longer ones go to the decoder
_NEWLINE, _QUOTE, _COMMA, _BACKSLASH, _SPACE, _OPEN, _CLOSE = b'\n",\\ {}'
_RECIPIENT, _SCORE = b'"recipient": ', b'"score": '
_ZERO, _NINE = b"09"
_PAD = 16  # bytes after a chunk: every 8 bytes read from a position in it are in memory
_MASKS = np.array([(1 << 8 * k) - 1 for k in range(9)], dtype=np.uint64)  # k low bytes


@dataclass(slots=True)
class ScannedMatches:
    """The items of every scanned list, in document order: list ``k`` is rows
    ``bounds[k]:bounds[k + 1]``; ``recipient`` holds the ids as UTF-8 (a JSON integer by
    its digits, as the decoder's ids are), ``scores`` the decoded value of each distinct
    score text and ``score`` each row's number among them."""

    recipient: Bytes
    scores: list[Any]
    score: IntArray
    bounds: IntArray


def scan_matches(text: str, source: str) -> tuple[Any, ScannedMatches | None]:
    """Decode a Glasgow document, its non-empty ``matches`` (``outgoing_transplants``)
    lists scanned as columns when every one is in the indented layout; else ``(the
    document as load_json decodes it, None)``.

    Raises
    ------
    FormatError
        as :func:`load_json`, for the whole text.
    """
    lists = _lists(text)
    if lists is None or not lists:
        return load_json(text, source), None
    indents = _indents(text, lists[0][0])
    if indents is None:
        return load_json(text, source), None
    scanned = _scan(text, lists, *indents)
    if scanned is None:
        return load_json(text, source), None
    rest: list[str] = []
    at = 0
    for number, (begin, end) in enumerate(lists):
        rest += (text[at:begin], str(number))
        at = end
    rest.append(text[at:])
    # The scanned items are a list's complete values, so the document is valid JSON if and
    # only if it is with a number in their place; a decoding error is located on the text.
    try:
        return load_json("".join(rest), source), scanned
    except FormatError:
        return load_json(text, source), None


def _lists(text: str) -> list[tuple[int, int]] | None:
    """``(begin, end)`` of each non-empty list's items ``text[begin:end]``, from after the
    ``[`` to the ``}`` of the last item, in document order; ``None`` if a list does not
    close as the layout does. Only lists of the key found first are taken (the other
    layout's, if any, are decoded as usual)."""
    first = _KEY.search(text)
    if first is None:
        return []
    key = first[0]
    found: list[tuple[int, int]] = []
    at = first.start()
    while at >= 0:
        begin = at + len(key)
        end = text.find("]", begin)
        if end < 0:
            return None
        if not _EMPTY.fullmatch(text, begin, end):
            last = text.rfind("}", begin, end) + 1
            if not last or not _CLOSING.fullmatch(text, last, end):
                return None
            found.append((begin, last))
        at = text.find(key, end)
    return found


def _indents(text: str, begin: int) -> tuple[int, int] | None:
    """Spaces before an item's braces and before its keys, from the first list."""
    item = _ITEM.match(text, begin)
    if item is None or len(item[2]) <= len(item[1]):
        return None
    return len(item[1]), len(item[2])


def _scan(text: str, lists: list[tuple[int, int]], outer: int, inner: int) -> ScannedMatches | None:
    """The items of ``lists`` as columns, a chunk of lists at a time, or ``None`` if any
    item is not in the layout (or holds an escape, or a score that is not JSON)."""
    recipients: list[Bytes] = []
    scores: list[Bytes] = []
    counts: list[IntArray] = []
    first = 0
    while first < len(lists):
        last, size = first, 0
        while last < len(lists) and (last == first or size < _CHUNK):
            size += lists[last][1] - lists[last][0] + 1
            last += 1
        try:
            pieces = [text[begin:end].encode("utf-8") for begin, end in lists[first:last]]
        except UnicodeEncodeError:  # a lone surrogate: the decoder's to judge
            return None
        starts = np.cumsum([0] + [len(piece) + 1 for piece in pieces[:-1]], dtype=np.int64)
        found = _scan_items(_Chunk(b",".join([*pieces, bytes(_PAD)])), starts, outer, inner)
        del pieces
        if found is None:
            return None
        recipients.append(found[0])
        scores.append(found[1])
        counts.append(found[2])
        first = last
    texts, score = distinct(np.concatenate(scores))
    try:
        values = [json.loads(t) for t in texts.tolist()]
    except ValueError:  # not JSON (or not UTF-8)
        return None
    bounds = np.concatenate(([0], np.cumsum(np.concatenate(counts)))).astype(np.int64)
    return ScannedMatches(np.concatenate(recipients), values, score, bounds)


class _Chunk:
    """Bytes followed by ``_PAD`` bytes (a comma, then NULs), read as bytes or as the
    8 bytes from each position (a little-endian integer: texts compared in one step)."""

    __slots__ = ("buf", "words")

    def __init__(self, data: bytes) -> None:
        size = len(data) - _PAD - 1
        self.buf: npt.NDArray[np.uint8] = np.frombuffer(data, np.uint8, size)
        self.words: npt.NDArray[np.uint64] = np.ndarray(
            (size + 1,), dtype="<u8", buffer=data, strides=(1,)
        )

    def holds(self, at: IntArray, text: bytes) -> bool:
        """Whether ``text`` is at every position ``at``."""
        if not len(at):
            return True
        if int(at.max()) + len(text) > len(self.buf):
            return False  # past the end
        for part in range(0, len(text), 8):
            word = text[part : part + 8]
            found = self.words[at + part if part else at]
            if len(word) < 8:
                found = found & _MASKS[len(word)]
            if not (found == int.from_bytes(word, "little")).all():
                return False
        return True

    def texts(self, begin: IntArray, end: IntArray) -> Bytes:
        """``buf[begin[i]:end[i]]`` for each row, as a numpy ``S`` array."""
        lengths = end - begin
        if len(lengths) and lengths.max() > 8:
            return byte_texts(self.buf, begin, end)
        found: Bytes = (self.words[begin] & _MASKS[lengths]).view("S8")
        return found


def _scan_items(
    chunk: _Chunk, starts: IntArray, outer: int, inner: int
) -> tuple[Bytes, Bytes, IntArray] | None:
    """Recipient ids, score texts and the number of items of each list, for lists'
    items joined by commas in ``chunk`` (list ``k`` from ``starts[k]``); each item is
    the four lines ``\\n{outer}{``, ``\\n{inner}"recipient": ID,``, ``\\n{inner}"score":
    SCORE``, ``\\n{outer}}``, the id a JSON string or a non-negative integer.

    Every byte is accounted for: the lines' lengths and their characters other than
    the indentation are checked where they must be, the ids and scores are taken out
    (and must hold no escape or control character), and then the buffer must hold
    exactly as many spaces and quotes as the indentation, the keys, the ids and the
    scores do (so the indentation is all spaces, and a string id has no quote inside).
    """
    buf = chunk.buf
    newlines = np.flatnonzero(buf == _NEWLINE)
    if not len(newlines) or len(newlines) % 4 or newlines[0] != 0:
        return None
    line = newlines.reshape(-1, 4) + 1  # where each item's four lines begin
    end = np.append(newlines[1:], len(buf)).reshape(-1, 4)
    n = len(line)
    closing = np.full(n, outer + 2)  # "}," but the last item's "}"
    closing[-1] = outer + 1
    key = line[:, 1:3] + inner
    if not (
        (end[:, 0] - line[:, 0] == outer + 1).all()
        and (buf[line[:, 0] + outer] == _OPEN).all()
        and chunk.holds(key[:, 0], _RECIPIENT)
        and (buf[end[:, 1] - 1] == _COMMA).all()
        and chunk.holds(key[:, 1], _SCORE)
        and (end[:, 3] - line[:, 3] == closing).all()
        and (buf[line[:, 3] + outer] == _CLOSE).all()
        and (buf[end[:-1, 3] - 1] == _COMMA).all()
    ):
        return None
    first = np.searchsorted(line[:, 0] - 1, starts)
    if (first >= n).any() or (line[np.minimum(first, n - 1), 0] - 1 != starts).any():
        return None  # a list that does not begin with an item
    id_begin, id_end = key[:, 0] + len(_RECIPIENT), end[:, 1] - 1
    quoted = buf[id_begin] == _QUOTE
    lengths = id_end - id_begin
    score_begin, score_end = key[:, 1] + len(_SCORE), end[:, 2]
    score_lengths = score_end - score_begin
    if (
        (lengths > _WIDEST).any()
        or (score_lengths > _WIDEST).any()
        or (score_lengths < 1).any()
        or (quoted & ((lengths < 2) | (buf[id_end - 1] != _QUOTE))).any()
    ):
        return None
    ids = chunk.texts(id_begin + quoted, id_end - quoted)
    scores = chunk.texts(score_begin, score_end)
    if (
        not _integers(ids, lengths, ~quoted)
        or _escaped(ids, lengths - 2 * quoted)
        or _escaped(scores, score_lengths)
    ):
        return None
    spaces = n * (2 * (outer + inner) + 2) + _count(ids, b" ") + _count(scores, b" ")
    quotes = n * 4 + 2 * int(quoted.sum()) + _count(scores, b'"')
    if np.count_nonzero(buf == _SPACE) != spaces or np.count_nonzero(buf == _QUOTE) != quotes:
        return None
    return ids, scores, np.diff(np.append(first, n))


def _escaped(texts: Bytes, lengths: IntArray) -> bool:
    """Whether any text (of the given lengths) holds an escape or a control character
    (tabs too), which are left to the decoder; the NULs that pad a numpy ``S`` array
    are not the texts', a NUL of a text is one byte fewer than its length."""
    grid = texts.view(np.uint8)
    return bool(
        ((grid < 0x20) & (grid != 0)).any()
        or (grid == _BACKSLASH).any()
        or np.count_nonzero(grid) != int(lengths.sum())
    )


def _count(texts: Bytes, byte: bytes) -> int:
    """How many times ``byte`` occurs in ``texts``."""
    return int(np.count_nonzero(texts.view(np.uint8) == ord(byte)))


def _integers(ids: Bytes, lengths: IntArray, rows: npt.NDArray[np.bool_]) -> bool:
    """Whether each id of ``rows`` is a JSON integer >= 0 (digits, no leading zero)."""
    if not rows.any():
        return True
    grid = ids[rows].view(np.uint8).reshape(int(rows.sum()), -1)
    digits = ((grid >= _ZERO) & (grid <= _NINE)) | (grid == 0)
    given = lengths[rows]
    return bool(
        digits.all() and (given >= 1).all() and ((grid[:, 0] != _ZERO) | (given == 1)).all()
    )
