"""Formulations of the exchange-selection problem, registered by name.

- ``cycle``: every cycle and every chain enumerated as a column (tightest LP bound;
  the chain count explodes with long chains on dense pools).
- ``picef``: cycles enumerated, chains by position-indexed arc variables (compact in
  the chains).
- ``priced``: cycles priced by search instead of enumerated (column generation with
  :class:`kidneyshare.matching.pricing.CyclePricer`), chains as in PICEF.
- ``auto``: ``priced`` when the cycles are too many to enumerate cheaply, else ``cycle``
  when the chains are few enough to enumerate, else ``picef``.

Both are solved by :func:`kidneyshare.matching.master.solve_master`, which prices the
enumerated columns when they are too many to hand to the MIP at once.
"""

from __future__ import annotations

from dataclasses import dataclass

from kidneyshare.errors import ConfigError
from kidneyshare.matching.formulations.columns import ExchangeColumns
from kidneyshare.matching.formulations.picef import PicefChains, build_picef_chains

__all__ = [
    "FORMULATIONS",
    "ExchangeColumns",
    "Formulation",
    "PicefChains",
    "build_picef_chains",
    "get_formulation",
]


@dataclass(frozen=True, slots=True)
class Formulation:
    name: str
    enumerates_chains: bool
    description: str


FORMULATIONS: dict[str, Formulation] = {
    f.name: f
    for f in (
        Formulation("cycle", True, "cycles and chains enumerated (cycle formulation)"),
        Formulation("picef", False, "cycles enumerated, chains position-indexed (PICEF)"),
        Formulation(
            "priced",
            False,
            "cycles priced by search (column generation), chains position-indexed (PICEF)",
        ),
    )
}


def get_formulation(name: str) -> Formulation:
    try:
        return FORMULATIONS[name]
    except KeyError:
        known = ", ".join(["auto", *sorted(FORMULATIONS)])
        raise ConfigError(
            f"formulation: unknown formulation {name!r}; expected one of {known}"
        ) from None
