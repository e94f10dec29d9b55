"""Counting cycles ahead of enumeration: exact, and a too-large pool is refused early."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.strategies import instances, random_instance

from kidneyshare.errors import FormulationTooLarge
from kidneyshare.matching.enumeration import count_cycles, enumerate_cycles
from kidneyshare.matching.graph import CompatibilityGraph


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(instance=instances(), k=st.integers(2, 4))
def test_the_count_equals_the_enumeration(instance, k: int) -> None:
    graph = CompatibilityGraph.from_instance(instance)
    assert count_cycles(graph, k) == sum(len(b) for b in enumerate_cycles(graph, k))


def test_dense_pools_count_exactly() -> None:
    for seed in range(20):
        graph = CompatibilityGraph.from_instance(random_instance(seed, n_pairs=9, density=0.8))
        for k in (2, 3, 4):
            assert count_cycles(graph, k) == sum(len(b) for b in enumerate_cycles(graph, k))


def test_no_count_beyond_four() -> None:
    graph = CompatibilityGraph.from_instance(random_instance(1, n_pairs=6))
    assert count_cycles(graph, 5) is None


def test_too_many_cycles_are_refused_with_the_count() -> None:
    graph = CompatibilityGraph.from_instance(random_instance(3, n_pairs=9, density=0.9))
    n = count_cycles(graph, 4)
    assert n is not None and n > 10
    with pytest.raises(FormulationTooLarge, match=f"{n:,} cycles of length <= 4"):
        enumerate_cycles(graph, 4, limit=10)


def test_large_pools_are_refused_on_an_estimate(monkeypatch: pytest.MonkeyPatch) -> None:
    from kidneyshare.generators import generate_saidman
    from kidneyshare.matching import enumeration

    graph = CompatibilityGraph.from_instance(generate_saidman(300, 0, seed=2))
    total = count_cycles(graph, 3)
    exact = total - count_cycles(graph, 2)
    assert enumeration.estimate_three_cycles(graph) == pytest.approx(exact, rel=0.2)
    monkeypatch.setattr(enumeration, "_COUNT_UP_TO", 10)  # as if the pool were too big to count
    with pytest.raises(FormulationTooLarge, match="estimated from"):
        enumerate_cycles(graph, 3, limit=exact // 4)
    # Within the margin the estimate refuses nothing: enumeration decides.
    assert sum(len(b) for b in enumerate_cycles(graph, 3, limit=2 * exact)) == total
