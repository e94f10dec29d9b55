"""The engine issue's bar on every public instance of up to 256 pairs.

For each shared/data file of at most ``--max-pairs`` pairs: K=3, L=3 with the cycle
formulation and with PICEF (they must agree wherever both are proven optimal), and
K=4, L=6 with the automatic choice (``--runs`` also offers K=3, L=3 with cycles priced by
search, and with the automatic choice). Every result is verified; runs with the same K
and L must agree wherever they are proven optimal. Prints one row per run as it goes
(with the formulation the run used), then a summary.

usage: python benchmarks/public_bar.py [--data ../shared/data] [--time-limit 120]
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from pathlib import Path

from kidneyshare.errors import FormulationTooLarge
from kidneyshare.formats import read_instance
from kidneyshare.matching import SolverConfig, Status, solve, verify

REPO = Path(__file__).resolve().parents[1]
RUNS = (
    ("K3L3-cycle", 3, 3, "cycle"),
    ("K3L3-picef", 3, 3, "picef"),
    ("K3L3-priced", 3, 3, "priced"),
    ("K3L3-auto", 3, 3, "auto"),
    ("K4L6-auto", 4, 6, "auto"),
)


def instances(data: Path, max_pairs: int, min_pairs: int = 0, every: int = 1) -> list[Path]:
    """The PrefLib pools of min..max pairs (every ``every``-th of each size), then the
    other public files."""
    files: list[Path] = []
    seen: dict[int, int] = {}
    with (data / "preflib" / "INDEX.csv").open(newline="") as handle:
        for row in csv.DictReader(handle):
            pairs = int(row["pairs"])
            if row["wmd"] == "missing" or not min_pairs <= pairs <= max_pairs:
                continue
            seen[pairs] = seen.get(pairs, 0) + 1
            if (seen[pairs] - 1) % every == 0:
                path = data / "preflib" / row["wmd_path"]
                gzipped = path.with_name(path.name + ".gz")
                files.append(gzipped if not path.exists() and gzipped.exists() else path)
    files += sorted((data / "kidneyexchange_jl").rglob("*.wmd"))
    files += sorted(p for p in (data / "glasgow").glob("*") if "output" not in p.name)
    return files


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--time-limit", type=float, default=120.0)
    parser.add_argument("--max-pairs", type=int, default=256)
    parser.add_argument("--min-pairs", type=int, default=0)
    parser.add_argument("--every", type=int, default=1, help="every N-th PrefLib pool per size")
    parser.add_argument(
        "--runs",
        nargs="+",
        choices=[name for name, *_ in RUNS],
        default=["K3L3-cycle", "K3L3-picef", "K4L6-auto"],
    )
    args = parser.parse_args()
    counts: dict[str, dict[str, int]] = {name: {} for name, *_ in RUNS}
    disagreements: list[str] = []
    slowest: dict[str, tuple[float, str]] = {name: (0.0, "") for name, *_ in RUNS}
    print(
        "instance | pairs | altruists | run | formulation | status | transplants | bound | "
        "seconds | verified"
    )
    for path in instances(args.data, args.max_pairs, args.min_pairs, args.every):
        instance = read_instance(path)
        if len(instance.patients) < args.min_pairs:
            continue
        label = str(path.relative_to(args.data))
        values: dict[tuple[int, int], dict[str, float]] = {}
        for name, k, chain, formulation in RUNS:
            if name not in args.runs:
                continue
            config = SolverConfig(
                max_cycle=k, max_chain=chain, formulation=formulation, time_limit=args.time_limit
            )
            started = time.perf_counter()
            try:
                result = solve(instance, config)
            except FormulationTooLarge as exc:
                seconds = time.perf_counter() - started
                counts[name]["too-large"] = counts[name].get("too-large", 0) + 1
                print(
                    f"{label} | {len(instance.patients)} | {len(instance.altruists)} | {name} | "
                    f"| too-large | | | {seconds:.2f} | {exc}",
                    flush=True,
                )
                continue
            seconds = time.perf_counter() - started
            ok = verify(instance, config, result).ok
            status = result.status.value if ok else "NOT-VERIFIED"
            counts[name][status] = counts[name].get(status, 0) + 1
            if result.status is Status.OPTIMAL:
                values.setdefault((k, chain), {})[name] = result.objective_value
            slowest[name] = max(slowest[name], (seconds, label))
            print(
                f"{label} | {len(instance.patients)} | {len(instance.altruists)} | {name} | "
                f"{result.formulation} | {status} | {result.transplants} | {result.bound} | "
                f"{seconds:.2f} | {ok}",
                flush=True,
            )
        for same in values.values():
            if len(set(same.values())) > 1:
                disagreements.append(f"{label} {same}")
    print("\nsummary")
    for name, *_ in RUNS:
        print(f"  {name}: {counts[name]}; slowest {slowest[name][0]:.1f} s ({slowest[name][1]})")
    print(f"  formulations disagree on: {disagreements or 'none'}")
    return 1 if disagreements else 0


if __name__ == "__main__":
    sys.exit(main())
