"""Glasgow matches read as columns: no decoded object or element per match.

Private to :mod:`kidneyshare.formats.glasgow` and :mod:`~kidneyshare.formats.glasgow_xml`.
A 10,000-pair pool has 28 million matches; decoded by :func:`json.loads` they take one
dict, one id string and one number each (some 12 GB) before a single check is made, and
an XML parser calls back three times per element. The indented layouts that
:func:`~kidneyshare.formats.glasgow.dump_glasgow` and
:func:`~kidneyshare.formats.glasgow_xml.dump_glasgow_xml` write, as kep_solver does::

    "matches": [                       <matches>
      {                                  <match>
        "recipient": 2,                    <recipient>2</recipient>
        "score": 1                         <score>1</score>
      },                                 </match>
      ...                                ...
    ]                                  </matches>

are recognised instead (:class:`ItemLayout`: four lines an item, any indentation), and
each list's items are read as byte columns with numpy (:func:`scan_items`: recipient
ids as UTF-8, each distinct score text read once), every byte accounted for. The
readers parse the rest of the document as usual and hand each list to its donor
(:class:`MatchColumns`). For JSON (:func:`scan_matches`) each scanned list is replaced by
a number (``"matches": [0]``, ``[1]``, ... in document order), and the reader checks
that those numbers came back as the lists of its donors; else, as for any list in
another layout, the whole document is decoded object by object.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from kidneyshare.errors import FormatError
from kidneyshare.formats._arcs import ArcColumns, Bytes, IntArray, byte_texts, codes_of, distinct
from kidneyshare.formats._json import load_json

__all__ = [
    "JSON_ITEMS",
    "ItemLayout",
    "MatchColumns",
    "ScannedMatches",
    "scan_items",
    "scan_matches",
]

_KEY = re.compile(r'"(?:matches|outgoing_transplants)": \[')  # layout 1's or 2's
_ITEM = re.compile(r"\n( *)\{\n( *)\"")  # the first item's indentation and its keys'
_CLOSING = re.compile(r"\n *")  # after the last item, before "]"
_EMPTY = re.compile(r"[ \t\n\r]*")
_CHUNK = 1 << 24  # characters scanned at a time: the arrays of one chunk stay small
_WIDEST = 256  # longest id or score scanned; longer ones go to the decoder
_NEWLINE, _QUOTE, _BACKSLASH, _SPACE, _DASH = b'\n"\\ -'
_ZERO, _NINE = b"09"
_LESS, _GREATER, _AMPERSAND = b"<>&"
_PAD = 16  # bytes after a chunk: every 8 bytes read from a position in it are in memory
_MASKS = np.array([(1 << 8 * k) - 1 for k in range(9)], dtype=np.uint64)  # k low bytes


@dataclass(slots=True)
class ScannedMatches:
    """The items of every scanned list, in document order: list ``k`` is rows
    ``bounds[k]:bounds[k + 1]``; ``recipient`` holds the ids as UTF-8 (a JSON integer by
    its digits, as the decoder's ids are), ``scores`` the value of each distinct score
    text (as the reader's ``value`` gives it) and ``score`` each row's number among
    them."""

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
    scanned = scan_items(text, lists, JSON_ITEMS, indents, json.loads)
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


def scan_items(
    text: str,
    lists: list[tuple[int, int]],
    layout: ItemLayout,
    indents: tuple[int, int],
    value: Callable[[bytes], Any],
) -> ScannedMatches | None:
    """The items of ``lists`` (``text[begin:end]`` each) as columns, a chunk of lists at a
    time, each distinct score text as ``value`` gives it; ``None`` if any item is not in
    ``layout`` at ``indents`` (spaces before an item's first and last lines, before its
    others), holds an escape, or has a score that ``value`` refuses (``ValueError``)."""
    recipients: list[Bytes] = []
    scores: list[Bytes] = []
    counts: list[IntArray] = []
    joint = layout.separator
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
        starts = np.cumsum([0] + [len(p) + len(joint) for p in pieces[:-1]], dtype=np.int64)
        chunk = _Chunk(joint.join([*pieces, bytes(_PAD)]), _PAD + len(joint))
        del pieces
        found = _scan_items(chunk, starts, layout, *indents)
        if found is None:
            return None
        recipients.append(found[0])
        scores.append(found[1])
        counts.append(found[2])
        first = last
    texts, score = distinct(np.concatenate(scores))
    try:
        values = [value(t) for t in texts.tolist()]
    except ValueError:
        return None
    bounds = np.concatenate(([0], np.cumsum(np.concatenate(counts)))).astype(np.int64)
    return ScannedMatches(np.concatenate(recipients), values, score, bounds)


class _Chunk:
    """Bytes followed by ``after`` more (at least 8: a separator, NULs), read as bytes or
    as the 8 bytes from each position (a little-endian integer: texts compared in one
    step)."""

    __slots__ = ("buf", "words")

    def __init__(self, data: bytes, after: int) -> None:
        size = len(data) - after
        self.buf: npt.NDArray[np.uint8] = np.frombuffer(data, np.uint8, size)
        self.words: npt.NDArray[np.uint64] = np.ndarray(
            (size + 1,), dtype="<u8", buffer=data, strides=(1,)
        )

    def holds(self, at: IntArray, text: bytes) -> bool:
        """Whether ``text`` is at every position ``at``."""
        if not len(at) or not text:
            return True
        if int(at.max()) + len(text) > len(self.buf) or int(at.min()) < 0:
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
    chunk: _Chunk, starts: IntArray, layout: ItemLayout, outer: int, inner: int
) -> tuple[Bytes, Bytes, IntArray] | None:
    """Recipient ids, score texts and the number of items of each list, for lists'
    items joined by ``layout.separator`` in ``chunk`` (list ``k`` from ``starts[k]``);
    each item is four lines, each after a newline: ``{outer}OPEN``, ``{inner}RECIPIENT
    ID AFTER_RECIPIENT``, ``{inner}SCORE TEXT AFTER_SCORE``, ``{outer}CLOSE`` (then the
    separator, but after the last item).

    Every byte is accounted for: the lines' lengths and their characters other than
    the indentation are checked where they must be, the ids and scores are taken out
    (and must hold nothing that the decoder would read otherwise: escapes, control
    characters ...), and then the buffer must hold exactly as many spaces (and, for
    each of ``layout.counted``, as many of that character) as the indentation, the
    keys, the ids and the scores do: so the indentation is all spaces.
    """
    buf = chunk.buf
    newlines = np.flatnonzero(buf == _NEWLINE)
    if not len(newlines) or len(newlines) % 4 or newlines[0] != 0:
        return None
    line = newlines.reshape(-1, 4) + 1  # where each item's four lines begin
    end = np.append(newlines[1:], len(buf)).reshape(-1, 4)
    n = len(line)
    last = np.full(n, outer + len(layout.close) + len(layout.separator))
    last[-1] = outer + len(layout.close)
    key = line[:, 1:3] + inner
    id_begin, id_end = key[:, 0] + len(layout.recipient), end[:, 1] - len(layout.after_recipient)
    score_begin, score_end = key[:, 1] + len(layout.score), end[:, 2] - len(layout.after_score)
    if not (
        (end[:, 0] - line[:, 0] == outer + len(layout.open)).all()
        and chunk.holds(line[:, 0] + outer, layout.open)
        and chunk.holds(key[:, 0], layout.recipient)
        and chunk.holds(id_end, layout.after_recipient)
        and chunk.holds(key[:, 1], layout.score)
        and chunk.holds(score_end, layout.after_score)
        and (end[:, 3] - line[:, 3] == last).all()
        and chunk.holds(line[:, 3] + outer, layout.close)
        and chunk.holds(end[:-1, 3] - len(layout.separator), layout.separator)
    ):
        return None
    first = np.searchsorted(line[:, 0] - 1, starts)
    if (first >= n).any() or (line[np.minimum(first, n - 1), 0] - 1 != starts).any():
        return None  # a list that does not begin with an item
    lengths, score_lengths = id_end - id_begin, score_end - score_begin
    if (
        (lengths > _WIDEST).any()
        or (lengths < 0).any()  # (the line shorter than its fixed text)
        or (score_lengths > _WIDEST).any()
        or (score_lengths < 1).any()
    ):
        return None
    quoted = np.zeros(n, dtype=bool)
    if layout.quoted:  # a JSON string, or a JSON integer
        quoted = buf[id_begin] == _QUOTE
        if (quoted & ((lengths < 2) | (buf[id_end - 1] != _QUOTE))).any():
            return None
    ids = chunk.texts(id_begin + quoted, id_end - quoted)
    scores = chunk.texts(score_begin, score_end)
    if not layout.accepts(ids, lengths - 2 * quoted, quoted, scores, score_lengths):
        return None
    counted = {b" ": n * layout.spaces(outer, inner)} | {
        mark: n * layout.key_text().count(mark) for mark in layout.counted
    }
    if layout.quoted:
        counted[b'"'] += 2 * int(quoted.sum())
    for mark, expected in counted.items():
        found = _count(ids, mark) + _count(scores, mark)
        if np.count_nonzero(buf == ord(mark)) != expected + found:
            return None
    return ids, scores, np.diff(np.append(first, n))


class MatchColumns:
    """Scanned lists handed to their donors in order (:meth:`add`), then the arcs of the
    lists handed out (:meth:`arcs`). ``weight`` reads a score's value as the decoder
    does, raising :class:`FormatError` for one it refuses; each list's first refused
    score is returned by :meth:`add`, for the reader to report where it is."""

    __slots__ = ("_refused", "_weights", "donors", "scanned")

    def __init__(self, scanned: ScannedMatches, weight: Callable[[Any], float]) -> None:
        self.scanned = scanned
        self._weights = np.full(len(scanned.scores), np.nan)
        refused = np.zeros(len(scanned.scores), dtype=bool)
        for number, value in enumerate(scanned.scores):
            try:
                self._weights[number] = weight(value)
            except FormatError:
                refused[number] = True
        self._refused = np.flatnonzero(refused[scanned.score])  # rows with a bad score
        self.donors: list[str] = []  # the donor of each list handed out, in order

    def add(self, donor_id: str) -> tuple[int, Any] | None:
        """Hand the next list to ``donor_id``; its first refused score (its position in
        the list and its value), if any."""
        bounds = self.scanned.bounds
        begin, end = bounds[len(self.donors) : len(self.donors) + 2].tolist()
        self.donors.append(donor_id)
        at = int(np.searchsorted(self._refused, begin))
        if at < len(self._refused) and self._refused[at] < end:
            row = int(self._refused[at])
            return row - begin, self.scanned.scores[self.scanned.score[row]]
        return None

    def item(self, row: int) -> tuple[int, int]:
        """The list of arc ``row`` and its position there."""
        bounds = self.scanned.bounds
        number = int(np.searchsorted(bounds, row, side="right")) - 1
        return number, row - int(bounds[number])

    def arcs(self, patients: list[str]) -> ArcColumns:
        """The arcs of the lists handed out (all of them), patients numbered after
        ``patients`` (then ids not among them)."""
        scanned = self.scanned
        assert len(self.donors) == len(scanned.bounds) - 1
        names, patient = codes_of(scanned.recipient, patients)
        sizes = np.diff(scanned.bounds)
        return ArcColumns(
            self.donors,
            names,
            np.repeat(np.arange(len(sizes), dtype=np.int64), sizes),
            patient,
            self._weights[scanned.score],
            np.full(len(patient), np.nan),
        )


@dataclass(frozen=True, slots=True)
class ItemLayout:
    """The fixed text of an item's four lines (see :func:`_scan_items`), the separator
    between items, whether ids may be quoted (JSON strings, else JSON integers) or are
    plain text (XML), and the characters besides spaces that must occur exactly as
    often as the fixed text and the ids and scores have them."""

    open: bytes
    recipient: bytes
    after_recipient: bytes
    score: bytes
    after_score: bytes
    close: bytes
    separator: bytes
    quoted: bool
    counted: tuple[bytes, ...]

    def key_text(self) -> bytes:
        return b"".join(
            (self.open, self.recipient, self.after_recipient, self.score, self.after_score)
        ) + b"".join((self.close, self.separator))

    def spaces(self, outer: int, inner: int) -> int:
        """The spaces of an item outside its id and score."""
        return 2 * (outer + inner) + self.key_text().count(b" ")

    def accepts(
        self,
        ids: Bytes,
        id_lengths: IntArray,
        quoted: npt.NDArray[np.bool_],
        scores: Bytes,
        score_lengths: IntArray,
    ) -> bool:
        """Whether the ids and scores are read by the scan as by the decoder."""
        if self.quoted:
            return (
                _integers(ids, id_lengths, ~quoted)
                and _count(ids, b'"') == 0  # a string's only quotes are its own two
                and not _escaped(ids, id_lengths)
                and not _escaped(scores, score_lengths)
            )
        return _plain(ids, id_lengths, edges=True) and _plain(scores, score_lengths, edges=False)


JSON_ITEMS = ItemLayout(
    b"{", b'"recipient": ', b",", b'"score": ', b"", b"}", b",", quoted=True, counted=(b'"',)
)
"""An item of ``json.dumps(indent=N)``; a comma separates items."""


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


def _plain(texts: Bytes, lengths: IntArray, *, edges: bool) -> bool:
    """Whether each text (of the given lengths) is XML character data that the reader
    takes as it is: printable ASCII without ``<``, ``>``, ``&`` (no markup, no entity, no
    end of a comment, CDATA section or processing instruction), no ``--``, and, with
    ``edges``, no space first or last (the reader strips them) and not empty."""
    grid = texts.view(np.uint8).reshape(len(texts), -1)
    if (
        ((grid < 0x20) & (grid != 0)).any()
        or (grid > 0x7E).any()
        or np.count_nonzero(grid) != int(lengths.sum())
        or ((grid == _LESS) | (grid == _GREATER) | (grid == _AMPERSAND)).any()
        or ((grid[:, 1:] == _DASH) & (grid[:, :-1] == _DASH)).any()
    ):
        return False
    if not edges or not len(texts):
        return True
    last = grid[np.arange(len(texts)), np.maximum(lengths - 1, 0)]
    return bool((lengths >= 1).all() and (grid[:, 0] != _SPACE).all() and (last != _SPACE).all())


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
