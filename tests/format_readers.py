"""Helper for the tests of the readers that scan matches as columns: read the same text
with the reader and with the reader that decodes each match (the reader before), and
compare what they give."""

from __future__ import annotations

from collections.abc import Callable

from kidneyshare.errors import FormatError
from kidneyshare.model import Instance

__all__ = ["expect", "same_outcome"]


def same_outcome(
    text: str, read: Callable[[str], Instance], reference: Callable[[str], Instance]
) -> Instance | FormatError:
    """The same pool from ``read`` and ``reference`` (arcs in the same order, with the
    same weights), or the same error at the same place; either is returned."""
    try:
        expected: Instance | FormatError = reference(text)
    except FormatError as error:
        expected = error
    try:
        pool = read(text)
    except FormatError as error:
        assert isinstance(expected, FormatError), f"refused: {error}"
        assert (error.location, str(error)) == (expected.location, str(expected))
        return error
    assert isinstance(expected, Instance), f"accepted, but the reference says {expected}"
    assert pool == expected
    assert pool.arcs == expected.arcs
    return pool


def expect(outcome: Instance | FormatError, location: str | None, words: str | None) -> None:
    """``outcome`` is a pool when ``words`` is ``None``, else an error at ``location``
    whose message holds ``words``."""
    if words is None:
        assert isinstance(outcome, Instance), f"refused: {outcome}"
    else:
        assert isinstance(outcome, FormatError), "accepted"
        assert outcome.location == location
        assert words in str(outcome)
