"""What a coordinator should know about a pool that is valid but odd (for ``validate``).

These are read-only observations, not rules: the pool is still solved as it is. They
belong with :mod:`kidneyshare.model.statistics`, which counts some of them
(``pairs_without_donor``, ``own_donor_arcs``) without naming the people involved; until
the model layer names them, the CLI lists them here.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from kidneyshare.model import Instance
from kidneyshare.model.statistics import arc_ends

__all__ = ["pool_warnings"]

_SHOWN = 10
"""Ids listed in one warning before the rest are counted."""


def _listed(ids: Sequence[str]) -> str:
    shown = ", ".join(ids[:_SHOWN])
    more = len(ids) - _SHOWN
    return shown if more <= 0 else f"{shown} and {more} more"


def _plural(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def pool_warnings(instance: Instance) -> list[str]:
    """Warnings about ``instance``, each one sentence naming the people concerned.

    - pairs whose patient has no arc from any other pair's donor or an altruist (they
      cannot be matched in this pool);
    - arcs from a donor to their own patient (a compatible pair: a direct transplant,
      never part of an exchange);
    - isolated vertices: pairs with no arc in or out (own-patient arcs aside) and
      altruists who can give to nobody.

    Parameters
    ----------
    instance:
        a valid pool.

    Returns
    -------
    list[str]
        empty when there is nothing to report.
    """
    source, patient, donor = arc_ends(instance)
    own = source == patient
    receives = np.zeros(len(instance.patients), dtype=bool)
    receives[patient[~own]] = True
    gives = np.zeros(len(instance.patients), dtype=bool)  # pairs with an arc out
    gives[source[~own & (source >= 0)]] = True
    donor_gives = np.zeros(len(instance.donors), dtype=bool)
    donor_gives[donor[~own]] = True
    own_arcs = [
        f"{instance.donors[d].id}->{instance.patients[p].id}"
        for d, p in zip(donor[own].tolist(), patient[own].tolist(), strict=True)
    ]

    warnings: list[str] = []
    unreachable = [
        p.id for p, arc_in in zip(instance.patients, receives, strict=True) if not arc_in
    ]
    if unreachable:
        warnings.append(
            f"{_plural(len(unreachable), 'pair has', 'pairs have')} no compatible donor in "
            f"the pool (no arc in) and cannot be matched: {_listed(unreachable)}"
        )
    if own_arcs:
        warnings.append(
            f"{_plural(len(own_arcs), 'donor is', 'donors are')} compatible with their own "
            f"patient (a direct transplant, not used in exchanges): {_listed(own_arcs)}"
        )
    isolated: list[str] = [
        p.id
        for p, arc_in, arc_out in zip(instance.patients, receives, gives, strict=True)
        if not arc_in and not arc_out
    ]
    isolated += [
        d.id
        for d, arc_out in zip(instance.donors, donor_gives, strict=True)
        if d.patient is None and not arc_out
    ]
    if isolated:
        warnings.append(
            f"{_plural(len(isolated), 'vertex is', 'vertices are')} isolated (no arc in or "
            f"out): {_listed(isolated)}"
        )
    return warnings
