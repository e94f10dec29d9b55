"""Arcs held as columns (model/arc_table.py): validation, the sequence of Arc it reads
as, lookups, and pools built on it solving exactly as pools built from Arc objects."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from kidneyshare.errors import InstanceError, ModelError
from kidneyshare.generators import generate_saidman
from kidneyshare.matching import SolverConfig, solve, verify
from kidneyshare.matching.graph import CompatibilityGraph
from kidneyshare.model import Arc, ArcTable, BloodGroup, Donor, Instance, Patient

DONORS = ("d1", "d2", "a1")
PATIENTS = ("p1", "p2")


def _people() -> tuple[list[Patient], list[Donor]]:
    patients = [Patient(p, blood_group=BloodGroup.O) for p in PATIENTS]
    donors = [
        Donor("d1", patient="p1", blood_group=BloodGroup.O),
        Donor("d2", patient="p2", blood_group=BloodGroup.O),
        Donor("a1", blood_group=BloodGroup.O),
    ]
    return patients, donors


def _table(**changes: object) -> ArcTable:
    columns: dict[str, object] = {
        "donors": DONORS,
        "patients": PATIENTS,
        "donor": [0, 1, 2],
        "patient": [1, 0, 0],
        "weight": [1.0, 2.5, 1.0],
        "probability": [np.nan, 0.5, np.nan],
    }
    columns.update(changes)
    return ArcTable(**columns)  # type: ignore[arg-type]


def test_reads_as_the_arcs_it_holds() -> None:
    table = _table()
    arcs = (
        Arc("d1", "p2", 1.0),
        Arc("d2", "p1", 2.5, 0.5),
        Arc("a1", "p1", 1.0),
    )
    assert len(table) == 3
    assert tuple(table) == arcs
    assert table[1] == arcs[1] and table[-1] == arcs[2]
    assert table[1:] == arcs[1:]
    assert table == arcs and arcs == table
    with pytest.raises(IndexError):
        table[3]
    assert pickle.loads(pickle.dumps(table)) == table


def test_instance_on_a_table_equals_the_instance_on_arc_objects() -> None:
    patients, donors = _people()
    on_table = Instance(patients, donors, _table())
    on_objects = Instance(patients, donors, tuple(_table()))
    assert on_table == on_objects
    assert on_table.arc("d2", "p1") == Arc("d2", "p1", 2.5, 0.5)
    assert on_objects.arc("d2", "p1") == Arc("d2", "p1", 2.5, 0.5)
    assert on_table.arc("d1", "p1") is None and on_objects.arc("d1", "p1") is None
    assert on_table.arc("zz", "p1") is None


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"donor": [0, 1, 3]}, "arc 2 of the arc table: unknown donor index"),
        ({"patient": [1, -1, 0]}, "arc 1 of the arc table: unknown patient index"),
        ({"weight": [1.0, -2.0, 1.0]}, "arc 1 of the arc table: weight must be finite"),
        ({"weight": [1.0, 1.0, np.inf]}, "arc 2 of the arc table: weight must be finite"),
        ({"probability": [0.0, 0.5, 1.0]}, "arc 0 of the arc table: probability"),
        ({"weight": [1.0, 1.0]}, "arc table weight: expected 3 values"),
        ({"donors": ("d1", " d2", "a1")}, "arc table donor: expected a non-empty identifier"),
    ],
)
def test_bad_columns_are_named(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ModelError, match=message):
        _table(**changes)


def test_instance_rejects_repeats_and_unknown_people() -> None:
    patients, donors = _people()
    with pytest.raises(InstanceError, match="arc d1->p2: appears more than once"):
        Instance(patients, donors, _table(donor=[0, 0, 2], patient=[1, 1, 0]))
    with pytest.raises(InstanceError, match="arc table: unknown donor zz"):
        Instance(patients, donors, _table(donors=("d1", "d2", "zz")))
    with pytest.raises(InstanceError, match="arc table: unknown patient p9"):
        Instance(patients, donors, _table(patients=("p1", "p9")))
    with pytest.raises(InstanceError, match="a donor id is listed twice"):
        Instance(patients, donors, _table(donors=("d1", "d1", "a1")))


@pytest.mark.parametrize("seed", range(4))
def test_generated_pools_solve_the_same_on_a_table_and_on_arc_objects(seed: int) -> None:
    pool = generate_saidman(40, 4, seed=seed)
    assert isinstance(pool.arcs, ArcTable)
    copy = Instance(pool.patients, pool.donors, tuple(pool.arcs), name=pool.name)
    graph, copy_graph = (CompatibilityGraph.from_instance(p) for p in (pool, copy))
    assert np.array_equal(graph.src, copy_graph.src) and np.array_equal(graph.dst, copy_graph.dst)
    assert graph.donor == copy_graph.donor
    config = SolverConfig(max_cycle=3, max_chain=3)
    result, copy_result = solve(pool, config), solve(copy, config)
    assert result.values == copy_result.values
    assert (result.cycles, result.chains) == (copy_result.cycles, copy_result.chains)
    assert verify(pool, config, result).ok and verify(copy, config, result).ok


def test_unsorted_table_with_repeats_of_a_pair_keeps_the_best_arc() -> None:
    """Arcs out of order, and two donors of one pair to the same patient: the graph keeps
    the heavier arc, as it does for Arc objects."""
    patients = [Patient("p1", blood_group=BloodGroup.O), Patient("p2", blood_group=BloodGroup.O)]
    donors = [
        Donor("d1", patient="p1", blood_group=BloodGroup.O),
        Donor("e1", patient="p1", blood_group=BloodGroup.O),
        Donor("d2", patient="p2", blood_group=BloodGroup.O),
    ]
    table = ArcTable(("d1", "e1", "d2"), PATIENTS, [2, 1, 0], [0, 1, 1], [1.0, 3.0, 2.0])
    pool = Instance(patients, donors, table)
    graph = CompatibilityGraph.from_instance(pool)
    copy_graph = CompatibilityGraph.from_instance(Instance(patients, donors, tuple(table)))
    assert graph.donor == copy_graph.donor == ("e1", "d2")
    assert graph.weight.tolist() == [3.0, 1.0]
