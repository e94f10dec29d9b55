"""The registry workflows at scheme size: snapshot, run, recourse and care queries.

A Saidman pool is imported (its arcs are the file's) and pairs with clinical facts are
registered (their arcs are judged by kidneyshare.compatibility against everyone); a run
under the policy, then ``--failures`` random offers get a positive crossmatch and the plan
is repaired. Prints one row per step with its wall time.

usage: python benchmarks/workflows.py [--pairs 250] [--registered 100] [--policy uk]
       [--failures 5] [--database-url sqlite:///FILE] [--seed 1]
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from datetime import date
from pathlib import Path

from sqlalchemy import select

from kidneyshare.formats import dump_native
from kidneyshare.generators import generate_saidman
from kidneyshare.registry import (
    SYSTEM,
    CrossmatchOutcome,
    DonorFacts,
    PatientFacts,
    UnitOfWork,
    make_engine,
    make_sessions,
    upgrade,
)
from kidneyshare.registry.accounts import create_centre
from kidneyshare.registry.imports import import_pool_text
from kidneyshare.registry.models import Offer
from kidneyshare.registry.outcomes import record_crossmatch
from kidneyshare.registry.pool import DonorEntry, register_pair
from kidneyshare.registry.snapshot import snapshot_pool
from kidneyshare.workflows.matching_run import read_policy, run_matching
from kidneyshare.workflows.recourse import repair_run

DAY = date(2026, 11, 1)
GROUPS = ("O", "A", "A", "B", "AB")
HLA = ("A1", "A2", "A3", "A24", "B7", "B8", "B44", "B57", "DR1", "DR4", "DR7", "DR15")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=250)
    parser.add_argument("--registered", type=int, default=100)
    parser.add_argument("--policy", default="uk")
    parser.add_argument("--failures", type=int, default=5)
    parser.add_argument("--database-url")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.sqlite3'}"
    rng = random.Random(args.seed)
    engine = make_engine(url)
    upgrade(engine)
    sessions = make_sessions(engine)
    rows: list[tuple[str, float, str]] = []

    start = time.perf_counter()
    with UnitOfWork(sessions, SYSTEM) as uow:
        centre = create_centre(uow, "GLA", "Glasgow").id
        pool = generate_saidman(args.pairs, max(1, args.pairs // 50), seed=args.seed)
        import_pool_text(uow, centre, dump_native(pool), source_name="p.json", recorded_on=DAY)
        for i in range(args.registered):
            donor = DonorFacts(DAY, blood_group=rng.choice(GROUPS), hla=rng.sample(HLA, 4), age=45)
            patient = PatientFacts(
                DAY,
                blood_group=rng.choice(GROUPS),
                unacceptable_antigens=rng.sample(HLA, rng.randint(0, 3)),
            )
            register_pair(
                uow, centre, f"R{i}", [DonorEntry(f"R{i}d", facts=donor)], patient_facts=patient
            )
    rows.append(
        (
            "import + register",
            time.perf_counter() - start,
            f"{args.pairs} + {args.registered} pairs",
        )
    )

    start = time.perf_counter()
    with sessions() as session:
        snapshot = snapshot_pool(session, "bench")
    assert snapshot.instance is not None
    rows.append(("snapshot", time.perf_counter() - start, f"{len(snapshot.instance.arcs)} arcs"))

    start = time.perf_counter()
    outcome = run_matching(sessions, SYSTEM, read_policy(args.policy))
    rows.append(
        (f"run ({args.policy})", time.perf_counter() - start, f"{outcome.transplants} transplants")
    )

    with sessions() as session:
        offers = list(session.scalars(select(Offer).where(Offer.run_id == outcome.run_id)))
    with UnitOfWork(sessions, SYSTEM) as uow:
        for offer in rng.sample(offers, min(args.failures, len(offers))):
            row = uow.session.get_one(Offer, offer.id)
            record_crossmatch(
                uow, row, CrossmatchOutcome.POSITIVE, DAY, notes="", expected_version=row.version
            )
    start = time.perf_counter()
    with UnitOfWork(sessions, SYSTEM) as uow:
        repaired = repair_run(uow, outcome.run_id)
        note = (
            f"{repaired.repaired.before.transplants} -> {repaired.repaired.after.transplants} "
            f"transplants, {len(repaired.cancelled_offers)} offers cancelled, "
            f"{len(repaired.new_offers)} new"
        )
    rows.append(("repair", time.perf_counter() - start, note))
    engine.dispose()

    print(f"{'step':<20} {'seconds':>8}  what")
    for step, seconds, what in rows:
        print(f"{step:<20} {seconds:>8.2f}  {what}")


if __name__ == "__main__":
    main()
