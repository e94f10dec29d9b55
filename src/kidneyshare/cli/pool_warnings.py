"""What a coordinator should know about a pool that is valid but odd (for ``validate``).

These are read-only observations, not rules: the pool is still solved as it is. They
belong with :mod:`kidneyshare.model.statistics`, which counts some of them
(``pairs_without_donor``, ``own_donor_arcs``) without naming the people involved; until
the model layer names them, the CLI lists them here.
"""

from __future__ import annotations

from collections.abc import Sequence

from kidneyshare.model import Instance

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
    paired_with = {d.id: d.patient for d in instance.donors}
    receives: set[str] = set()
    gives: set[str] = set()  # pair (patient) ids and altruist donor ids
    own: list[str] = []
    for arc in instance.arcs:
        source = paired_with[arc.donor]
        if source == arc.patient:
            own.append(f"{arc.donor}->{arc.patient}")
            continue
        receives.add(arc.patient)
        gives.add(arc.donor if source is None else source)

    warnings: list[str] = []
    unreachable = [p.id for p in instance.patients if p.id not in receives]
    if unreachable:
        warnings.append(
            f"{_plural(len(unreachable), 'pair has', 'pairs have')} no compatible donor in "
            f"the pool (no arc in) and cannot be matched: {_listed(unreachable)}"
        )
    if own:
        warnings.append(
            f"{_plural(len(own), 'donor is', 'donors are')} compatible with their own "
            f"patient (a direct transplant, not used in exchanges): {_listed(own)}"
        )
    isolated: list[str] = [
        p.id for p in instance.patients if p.id not in receives and p.id not in gives
    ]
    isolated += [a.donor.id for a in instance.altruists if a.donor.id not in gives]
    if isolated:
        warnings.append(
            f"{_plural(len(isolated), 'vertex is', 'vertices are')} isolated (no arc in or "
            f"out): {_listed(isolated)}"
        )
    return warnings
