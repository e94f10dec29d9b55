"""The arcs a pool should have under the Delorme et al. (2022) compatibility chance.

Given each patient's cPRA, each donor of a compatible blood group (not the patient's
own) gets an arc with the patient's compatibility chance (rule "band-pra0"); patients
below cPRA 0.01 draw their chance from the published distribution, which adds its
variance. Shared by the tests of both UK generators.
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from kidneyshare.generators.delorme import UNSENSITISED_CHANCE, compatibility_chance
from kidneyshare.model import Instance


def expected_arcs(pool: Instance) -> tuple[float, float]:
    """The expected number of donor -> patient arcs of ``pool`` and its variance."""
    values = np.array([(b[0] + b[1]) / 2 for b in UNSENSITISED_CHANCE])
    weights = np.array([b[2] for b in UNSENSITISED_CHANCE])
    second = np.array([(b[0] ** 2 + b[0] * b[1] + b[1] ** 2) / 3 for b in UNSENSITISED_CHANCE])
    mean0, var0 = float(values @ weights), float(second @ weights - (values @ weights) ** 2)
    groups = Counter(d.blood_group for d in pool.donors)
    expected = variance = 0.0
    for p in pool.patients:
        assert p.blood_group is not None and p.cpra is not None
        own = Counter(d.blood_group for d in pool.donors_of(p.id))
        n = sum(c for g, c in groups.items() if g is not None and g.can_donate_to(p.blood_group))
        n -= sum(c for g, c in own.items() if g is not None and g.can_donate_to(p.blood_group))
        if p.cpra < 0.01:
            expected += n * mean0
            variance += n * mean0 * (1 - mean0) + n * (n - 1) * var0
        else:
            chance = compatibility_chance("band-pra0", p.cpra, 0.0)
            expected += n * chance
            variance += n * chance * (1 - chance)
    return expected, variance
