"""Seeded pool generators: the same seed gives the same pool on every machine."""

from kidneyshare.generators.saidman import (
    BLOOD_GROUP_ORDER,
    SaidmanParameters,
    altruists_from_fraction,
    generate_saidman,
)
from kidneyshare.generators.seeding import make_rng

__all__ = [
    "BLOOD_GROUP_ORDER",
    "SaidmanParameters",
    "altruists_from_fraction",
    "generate_saidman",
    "make_rng",
]
