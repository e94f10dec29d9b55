"""Reading and writing large pool files: seconds, file size and memory per format.

For each size, a Saidman pool (10 % altruists, ``--seed``) is generated and written in
each format by one process, and read back by another, so that each phase's peak memory
(maximum resident set size) is its own. With ``--cli``, the end-to-end commands a
researcher runs are timed too: ``kidneyshare generate`` and then ``kidneyshare solve
--max-cycle 3 --max-chain 6 --json`` on the largest size. Prints one Markdown table.
A benchmark, not a test: nothing here asserts a time. Runs one measurement at a time
(a 10,000-pair pool takes a few GB).

usage: python benchmarks/formats.py [--pairs 1000 2000 10000] [--formats native preflib]
                                    [--cli] [--dir DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SUFFIX = {"native": ".json", "preflib": ".wmd", "glasgow": ".glasgow.json", "glasgow-xml": ".xml"}

# Run in a fresh interpreter: generate and write, or read, and print one JSON line.
WRITE = """
import json, os, resource, sys, time
from kidneyshare.formats import write_instance
from kidneyshare.generators import altruists_from_fraction, generate_saidman
pairs, seed, fmt, path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
pool = generate_saidman(pairs, altruists_from_fraction(pairs, 0.1), seed=seed)
start = time.perf_counter()
write_instance(pool, path, fmt)
seconds = time.perf_counter() - start
size = os.path.getsize(path) + (os.path.getsize(path[:-4] + ".dat") if fmt == "preflib" else 0)
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"arcs": len(pool.arcs), "seconds": seconds, "bytes": size, "rss": rss}))
"""
READ = """
import json, resource, sys, time
from kidneyshare.formats import read_instance
start = time.perf_counter()
pool = read_instance(sys.argv[1])
seconds = time.perf_counter() - start
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"arcs": len(pool.arcs), "seconds": seconds, "rss": rss}))
"""


def child(script: str, *args: str) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-c", script, *args], capture_output=True, text=True, check=True
    )
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def timed(command: list[str]) -> tuple[float, int, str]:
    """Wall seconds, peak memory (bytes) and stdout of ``command``."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert process.stdout is not None
    out = process.stdout.read().decode()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} exited {process.returncode}")
    return time.perf_counter() - start, usage.ru_maxrss * 1024, out


def size(count: float) -> str:
    return f"{count / 1e6:,.0f} MB" if count >= 1e6 else f"{count / 1e3:,.0f} kB"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pairs", type=int, nargs="+", default=[1000, 2000, 10000])
    parser.add_argument("--formats", nargs="+", default=["native", "preflib"], choices=SUFFIX)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--cli", action="store_true", help="also generate and solve by the CLI")
    parser.add_argument("--dir", type=Path, help="where to write the files (a temporary one)")
    args = parser.parse_args()
    folder = args.dir or Path(tempfile.mkdtemp(prefix="kidneyshare-formats-"))
    folder.mkdir(parents=True, exist_ok=True)
    print(
        f"cores: {os.cpu_count()}, load average: {', '.join(f'{x:.1f}' for x in os.getloadavg())}"
    )
    print()
    print("| pairs | arcs | format | file size | write s | write peak | read s | read peak |")
    print("|---|---|---|---|---|---|---|---|")
    for pairs in args.pairs:
        for fmt in args.formats:
            path = folder / f"saidman-{pairs}{SUFFIX[fmt]}"
            wrote = child(WRITE, str(pairs), str(args.seed), fmt, os.fspath(path))
            read = child(READ, os.fspath(path))
            assert read["arcs"] == wrote["arcs"]
            print(
                f"| {pairs:,} | {int(wrote['arcs']):,} | {fmt} | {size(wrote['bytes'])} "
                f"| {wrote['seconds']:.1f} | {size(wrote['rss'])} | {read['seconds']:.1f} "
                f"| {size(read['rss'])} |",
                flush=True,
            )
            path.unlink()
            path.with_suffix(".dat").unlink(missing_ok=True)
    if args.cli:
        pairs = max(args.pairs)
        program = shutil.which("kidneyshare") or "kidneyshare"
        pool = folder / f"saidman-{pairs}.json"
        generate = [program, "generate", "--pairs", str(pairs), "--altruist-fraction", "0.1"]
        generate += ["--seed", str(args.seed), "-o", os.fspath(pool)]
        solve = [program, "solve", os.fspath(pool), "--max-cycle", "3", "--max-chain", "6"]
        print()
        print("| command | wall s | peak memory | result |")
        print("|---|---|---|---|")
        seconds, peak, _ = timed(generate)
        print(
            f"| generate --pairs {pairs:,} | {seconds:.1f} | {size(peak)} "
            f"| {size(pool.stat().st_size)} file |"
        )
        seconds, peak, out = timed([*solve, "--json"])
        result = json.loads(out)
        inside = ", ".join(f"{k} {v:.1f} s" for k, v in result["seconds"].items())
        print(
            f"| solve --max-cycle 3 --max-chain 6 --json | {seconds:.1f} | {size(peak)} "
            f"| {result['status']}, {result['transplants']} transplants ({inside}) |"
        )
        pool.unlink()
    if args.dir is None:
        shutil.rmtree(folder)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
