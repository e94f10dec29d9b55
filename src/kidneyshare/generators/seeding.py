"""The one way a generator turns a seed into random numbers.

Every generator takes an explicit integer ``seed`` and calls :func:`make_rng` once; the
global state of :mod:`random` and :mod:`numpy.random` is never read or changed. The bit
generator is PCG64, whose output for a given seed is the same on every platform, so the
same seed gives the same pool on every machine.
"""

from __future__ import annotations

import operator

import numpy as np

from kidneyshare.errors import ConfigError

__all__ = ["make_rng"]


def make_rng(seed: int) -> np.random.Generator:
    """Return a fresh, independent ``numpy.random.Generator`` (PCG64) seeded with ``seed``.

    Parameters
    ----------
    seed:
        a non-negative integer. The same seed always yields the same stream of numbers.

    Returns
    -------
    numpy.random.Generator
        used by the caller alone; no global random state is involved.

    Raises
    ------
    ConfigError
        when ``seed`` is not a non-negative integer (``True``/``False`` are refused).

    Examples
    --------
    >>> make_rng(7).random() == make_rng(7).random()
    True
    """
    try:
        value = operator.index(seed)
    except TypeError:
        value = -1
    if isinstance(seed, bool) or value < 0:
        raise ConfigError(f"seed: expected a non-negative integer, got {seed!r}")
    return np.random.Generator(np.random.PCG64(value))
