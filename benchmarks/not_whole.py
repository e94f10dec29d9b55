"""Objectives whose values are not whole, on the pools of docs/benchmarks.md.

Two families, as in the sections "Failure-aware objective with a probability on each
arc" and "Time limits, plans for objectives that are not whole" of docs/benchmarks.md:

- ``delorme-N-expected-L``: a Delorme et al. (2022) pool of N pairs and N/10 altruists
  (kep_solver's generator, seed 1, see ``run.py``), each arc's success probability drawn
  uniformly in 0.50-1.00 (two decimals, numpy seed 1, in the file's arc order),
  ``--objective expected``;
- ``saidman-N-weight-L``: a Saidman pool of N pairs and N/10 altruists (seed 2), each
  arc's weight drawn uniformly in 0.50-1.50 (two decimals, numpy seed 2), max-weight.

K=3 throughout. Every result is verified. Prints one row per run as it goes: status,
value, bound, gap, seconds. Benchmarks, not tests: nothing here asserts a time.

usage: python benchmarks/not_whole.py [--runs delorme-500-expected-4 ...] [--time-limit S]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from kidneyshare.generators import altruists_from_fraction, generate_saidman
from kidneyshare.matching import Objective, SolverConfig, solve, verify
from kidneyshare.model import Arc, Instance
from kidneyshare.model.arc_table import ArcTable

# The runs of docs/benchmarks.md (name: pool family, pairs, objective, L, time limit).
RUNS = {
    "delorme-500-expected-3": ("delorme", 500, "expected", 3, 300.0),
    "delorme-500-expected-4": ("delorme", 500, "expected", 4, 300.0),
    "delorme-500-expected-6": ("delorme", 500, "expected", 6, 300.0),
    "delorme-1000-expected-3": ("delorme", 1000, "expected", 3, 600.0),
    "delorme-1000-expected-4": ("delorme", 1000, "expected", 4, 600.0),
    "saidman-1000-weight-6": ("saidman", 1000, "weight", 6, 300.0),
}
QUICK = ("delorme-500-expected-3", "delorme-500-expected-6")


def _redrawn(
    instance: Instance, *, weight: np.ndarray | None, probability: np.ndarray | None
) -> Instance:
    """``instance`` with new arc weights or probabilities, in its arc order."""
    arcs = instance.arcs
    if isinstance(arcs, ArcTable):
        new: Sequence[Arc] = ArcTable(
            arcs.donors,
            arcs.patients,
            arcs.donor,
            arcs.patient,
            arcs.weight if weight is None else weight,
            arcs.probability if probability is None else probability,
        )
    else:
        new = [
            replace(
                arc,
                weight=arc.weight if weight is None else float(weight[i]),
                probability=arc.probability if probability is None else float(probability[i]),
            )
            for i, arc in enumerate(arcs)
        ]
    return Instance(instance.patients, instance.donors, new, name=instance.name)


def pool(family: str, pairs: int, workdir: Path) -> Instance:
    """The pool of a run, with its drawn probabilities or weights."""
    if family == "delorme":
        from kidneyshare.formats import read_instance
        from run import delorme_source

        base = read_instance(delorme_source(pairs, 0.1, 1, workdir).path)
        drawn = np.round(np.random.default_rng(1).uniform(0.5, 1.0, len(base.arcs)), 2)
        return _redrawn(base, weight=None, probability=drawn)
    base = generate_saidman(pairs, altruists_from_fraction(pairs, 0.1), seed=2)
    drawn = np.round(np.random.default_rng(2).uniform(0.5, 1.5, len(base.arcs)), 2)
    return _redrawn(base, weight=drawn, probability=None)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", nargs="+", choices=sorted(RUNS), help="default: all")
    parser.add_argument("--quick", action="store_true", help="the two 500-pair runs at L=3/6")
    parser.add_argument("--time-limit", type=float, help="seconds per run (default: per run)")
    parser.add_argument("--workdir", type=Path, help="where generated pools go")
    args = parser.parse_args()
    names = args.runs or (list(QUICK) if args.quick else list(RUNS))
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="kidneyshare-not-whole-"))
    workdir.mkdir(parents=True, exist_ok=True)
    print(
        "run | pairs | altruists | L | limit | status | value | bound | gap % | seconds | verified"
    )
    for name in names:
        family, pairs, objective, max_chain, limit = RUNS[name]
        instance = pool(family, pairs, workdir)
        config = SolverConfig(
            max_cycle=3,
            max_chain=max_chain,
            objective=Objective.EXPECTED if objective == "expected" else Objective.MAX_WEIGHT,
            time_limit=args.time_limit or limit,
        )
        started = time.perf_counter()
        result = solve(instance, config)
        seconds = time.perf_counter() - started
        ok = verify(instance, config, result).ok
        value, bound = result.objective_value, result.bound
        gap = 100 * (bound - value) / max(abs(bound), 1e-9) if bound is not None else float("nan")
        altruists = len(instance.altruists)
        print(
            f"{name} | {pairs} | {altruists} | {max_chain} | {config.time_limit:g} | "
            f"{result.status.value} | {value:.6f} | {bound} | {gap:.3f} | {seconds:.1f} | {ok}",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
