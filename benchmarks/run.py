"""Time kidneyshare (and, where installed, kep_solver) on public and generated pools.

Usage (from the repository root)::

    .venv/bin/python benchmarks/run.py --quick
    .venv/bin/python benchmarks/run.py --time-limit 120 --markdown results.md --csv results.csv

Every solve runs in a fresh subprocess of this script (``--worker``), so a crash, an
out-of-memory error or a formulation that refuses to be built becomes one row of the
table and the run goes on. kidneyshare gets ``--time-limit`` as its own limit and is
killed if it overruns it by more than the grace period; kep_solver is run with its
defaults (CycleAndChainModel, CBC through PuLP) and killed when it exceeds the time
limit, which is reported as ``timeout``.

kep_solver counts differently (shared/DESIGN.md): its ``maxChainLength`` counts the
altruist as a donor, so kidneyshare's L is kep_solver's L + 1, and its transplant count
adds one per altruist (used or not). The table shows kep_solver's count translated to
kidneyshare's (kep_solver's value minus the number of altruists) and checks it against
kidneyshare's optimum; a disagreement is printed loudly and listed at the end.

kep_solver (AGPL-3.0) is only imported, never copied: it is an optional benchmark
dependency (``pip install -e .[bench]``).
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import itertools
import json
import math
import os
import queue
import random
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "data"

# Known optima from KidneyExchange.jl's test suite (K=3, no chains): data/README.md.
KNOWN_OPTIMA_K3 = {
    "MD-00001-00000001": 4,
    "MD-00001-00000120": 83,
    "heterogeneous_128_0_1": 85,
    "sparse_128_0_1": 28,
}

# The UK objective hierarchy as kep_solver's objectives, in kep_solver's order (used only
# with --uk), and the name of each level in kidneyshare's ``uk`` objective.
UK_LEVELS = ("EffectiveTwoWay", "TransplantCount", "BackArcs", "ThreeWay", "UKScore")
UK_NAMES = ("effective-two-way", "transplants", "back-arcs", "three-way", "score")

READY = "@@READY "
RESULT = "@@RESULT "


# --------------------------------------------------------------------------- plan


@dataclass(frozen=True)
class Source:
    """Where a pool comes from: a file, or a seeded generator."""

    name: str
    family: str  # kidneyexchange_jl | glasgow | preflib | saidman | delorme
    path: str | None = None
    pairs: int = 0
    altruists: int = 0
    seed: int = 0
    kep_file: str | None = None  # a file kep_solver reads directly (Glasgow JSON/XML)

    @property
    def has_altruists(self) -> bool:
        return self.altruists > 0


@dataclass(frozen=True)
class Run:
    source: Source
    max_cycle: int
    max_chain: int
    objective: str = "max-transplants"  # or "uk"
    kep: bool = False


@dataclass
class Row:
    instance: str
    family: str
    pairs: int | None = None
    altruists: int | None = None
    arcs: int | None = None
    K: int = 3
    L: int = 3
    objective: str = "max-transplants"
    formulation: str = ""
    transplants: int | None = None
    status: str = ""
    bound: float | None = None
    gap: float | None = None
    build_s: float | None = None
    solve_s: float | None = None
    total_s: float | None = None
    verified: str = ""
    kep_transplants: int | None = None
    kep_status: str = ""
    kep_s: float | None = None
    ratio: float | None = None
    check: str = ""
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def _existing(path: Path) -> Path | None:
    for candidate in (path, Path(f"{path}.gz")):
        if candidate.exists():
            return candidate
    if path.suffix == ".gz" and path.with_suffix("").exists():
        return path.with_suffix("")
    return None


def _small_file_source(name: str, family: str, path: Path, kep_file: str | None = None) -> Source:
    """A source for a small file, read here once to learn its size."""
    from kidneyshare.formats import read_instance

    instance = read_instance(path)
    return Source(
        name=name,
        family=family,
        path=str(path),
        pairs=len(instance.pairs),
        altruists=len(instance.altruists),
        kep_file=kep_file,
    )


def kidneyexchange_jl_sources(data: Path, quick: bool) -> list[Source]:
    root = data / "kidneyexchange_jl" / "data"
    out = []
    for sub in ("tests_cycles", "tests_chains"):
        for wmd in sorted((root / sub).glob("*.wmd")):
            if quick and ("MD-00001" not in wmd.name or "127" in wmd.name):
                continue
            out.append(_small_file_source(f"{sub}/{wmd.stem}", "kidneyexchange_jl", wmd))
    return out


def glasgow_sources(data: Path) -> list[Source]:
    root = data / "glasgow"
    out = []
    for f in sorted(root.iterdir()) if root.exists() else []:
        if "_output" in f.name or f.suffix not in (".json", ".xml"):
            continue
        out.append(_small_file_source(f"glasgow/{f.name}", "glasgow", f, kep_file=str(f)))
    return out


def preflib_sources(
    data: Path, sizes: tuple[int, ...], per_group: int, pcts: tuple[int, ...] | None = None
) -> list[Source]:
    """The first ``per_group`` available instances of each (size, altruist %) group."""
    root = data / "preflib"
    index = root / "INDEX.csv"
    if not index.exists():
        return []
    chosen: dict[tuple[int, int], list[Source]] = {}
    with index.open(newline="") as fh:
        for rec in csv.DictReader(fh):
            size, pct = int(rec["size_group"]), int(rec["altruist_pct"])
            if size not in sizes or (pcts is not None and pct not in pcts) or not rec["wmd_path"]:
                continue
            group = chosen.setdefault((size, pct), [])
            if len(group) >= per_group:
                continue
            path = _existing(root / rec["wmd_path"])
            if path is None:
                continue
            group.append(
                Source(
                    name=f"preflib/{rec['stem']}",
                    family="preflib",
                    path=str(path),
                    pairs=int(rec["pairs"]),
                    altruists=int(rec["altruists"]),
                )
            )
    return [s for key in sorted(chosen) for s in chosen[key]]


def saidman_sources(sizes: tuple[int, ...], fraction: float, seed: int) -> list[Source]:
    from kidneyshare.generators import altruists_from_fraction

    out = []
    for n in sizes:
        a = altruists_from_fraction(n, fraction)
        out.append(
            Source(
                name=f"saidman-{n}-{a}-seed{seed}",
                family="saidman",
                pairs=n,
                altruists=a,
                seed=seed,
            )
        )
    return out


def kep_available() -> bool:
    try:
        import kep_solver.programme  # noqa: F401
    except ImportError:
        return False
    return True


def delorme_source(pairs: int, fraction: float, seed: int, workdir: Path) -> Source:
    """Draw a Delorme et al. (2022) UK-style pool with kep_solver's published generator.

    The pool is written once as Glasgow JSON (layout 1) and both solvers read that file.
    The generator draws no donor ages; the Glasgow JSON writer needs them, so ages are
    drawn uniformly in 18..75 from a second seeded stream (they only matter for the UK
    score, i.e. with ``--uk``). Ids are numbers, as the Glasgow JSON layout expects.
    """
    from kep_solver.published_generators import uk_nhs_generator2022

    altruists = math.floor(pairs * fraction + 1e-9)
    name = f"delorme-{pairs}-{altruists}-seed{seed}"
    path = workdir / f"{name}.json"
    if not path.exists():
        state = random.getstate()
        try:
            random.seed(seed)  # kep_solver's generators draw from the global stream
            donor_ids = itertools.count(1)
            instance = uk_nhs_generator2022().draw(
                pairs,
                altruists,
                recipient_id_function=lambda i: str(i + 1),
                donor_id_function=lambda _recipient: str(next(donor_ids)),
                ndd_id_function=lambda i: str(1_000_000 + i),
            )
        finally:
            random.setstate(state)
        ages = random.Random(seed + 1)
        for donor in instance.allDonors():
            donor.age = ages.randint(18, 75)
        instance.writeFileJson(str(path), write_recipients=True, compressed=False)
    return Source(
        name=name,
        family="delorme",
        path=str(path),
        pairs=pairs,
        altruists=altruists,
        seed=seed,
        kep_file=str(path),
    )


def build_plan(args: argparse.Namespace, workdir: Path, log: Any) -> list[Run]:
    data = Path(args.data)
    have_kep = kep_available() and not args.no_kep
    if not have_kep and not args.no_kep:
        log("kep_solver is not installed: kidneyshare only (pip install -e .[bench])")
    sources: list[Source] = []
    if data.exists():
        sources += kidneyexchange_jl_sources(data, args.quick)
        sources += glasgow_sources(data)
        if args.quick:
            sources += preflib_sources(data, (16, 32, 64), 1, (10,))
        else:
            sources += preflib_sources(data, (16, 32, 64, 128, 256), args.preflib_sample)
            sources += preflib_sources(data, (512, 1024), args.preflib_large, (0, 10))
    else:
        log(f"no shared data at {data}: generated pools only")
    sizes = (250,) if args.quick else tuple(args.saidman_sizes)
    sources += saidman_sources(sizes, 0.10, args.seed)

    runs: list[Run] = []
    long_chain = args.long_chain
    for s in sources:
        kep = have_kep and (s.pairs <= args.kep_max_pairs)
        for k in args.max_cycle:
            runs.append(Run(s, k, 3, kep=kep))
            if s.has_altruists:
                runs.append(Run(s, k, long_chain, kep=kep and long_chain <= args.kep_max_chain))
        if args.uk and s.family == "preflib" and s.pairs >= 250:
            # The UK scheme's rules on the public pools of 250 pairs and more (K=3, L=2 =
            # kep_solver's maxChainLength 3), as on the Delorme pools below.
            runs.append(Run(s, 3, 2, objective="uk", kep=kep))
    if kep_available():  # the Delorme generator is kep_solver's, run or not
        delorme_sizes = (500,) if args.quick else tuple(args.delorme_sizes)
        for n in delorme_sizes:
            s = delorme_source(n, 0.10, args.seed, workdir)
            for k in args.max_cycle:
                runs.append(Run(s, k, 2, kep=have_kep))  # kep_solver maxChainLength 3
                long_kep = have_kep and long_chain <= args.kep_max_chain
                runs.append(Run(s, k, long_chain, kep=long_kep))
            if args.uk:
                runs.append(Run(s, 3, 2, objective="uk", kep=have_kep))
    if args.only:
        runs = [r for r in runs if any(o in r.source.name for o in args.only)]
    if args.objectives:
        runs = [r for r in runs if r.objective in args.objectives]
    return runs


# --------------------------------------------------------------------------- workers


def _emit(prefix: str, payload: dict[str, Any]) -> None:
    sys.stdout.write(prefix + json.dumps(payload) + "\n")
    sys.stdout.flush()


def _load_instance(source: dict[str, Any]) -> Any:
    if source["family"] == "saidman":
        from kidneyshare.generators import generate_saidman

        return generate_saidman(source["pairs"], source["altruists"], seed=source["seed"])
    from kidneyshare.formats import read_instance

    return read_instance(source["path"])


def worker_kidneyshare(spec: dict[str, Any]) -> None:
    from kidneyshare.errors import FormulationTooLarge
    from kidneyshare.matching import Objective, SolverConfig, solve, verify

    t0 = time.perf_counter()
    instance = _load_instance(spec["source"])
    read_s = time.perf_counter() - t0
    glasgow_out = spec.get("glasgow_out")
    if glasgow_out and not os.path.exists(glasgow_out):
        from kidneyshare.formats import dump_instance

        tmp = glasgow_out + ".part"
        Path(tmp).write_text(dump_instance(instance, "glasgow"))
        os.replace(tmp, glasgow_out)
    stats = {
        "pairs": len(instance.pairs),
        "altruists": len(instance.altruists),
        "arcs": len(instance.arcs),
        "read_s": read_s,
    }
    _emit(READY, stats)
    out: dict[str, Any] = dict(stats)
    try:
        objective = Objective.parse(spec["objective"])
    except Exception as exc:  # e.g. "uk" before kidneyshare supports it
        out.update(status="unsupported", message=str(exc))
        _emit(RESULT, out)
        return
    config = SolverConfig(
        max_cycle=spec["K"],
        max_chain=spec["L"],
        objective=objective,
        time_limit=spec["time_limit"],
        threads=spec["threads"],
    )
    t0 = time.perf_counter()
    try:
        result = solve(instance, config)
    except FormulationTooLarge as exc:
        out.update(status="too-large", message=str(exc), total_s=time.perf_counter() - t0)
        _emit(RESULT, out)
        return
    except MemoryError:
        out.update(status="out-of-memory", message="MemoryError", total_s=time.perf_counter() - t0)
        _emit(RESULT, out)
        return
    total = time.perf_counter() - t0
    report = verify(instance, config, result)
    out.update(
        status=result.status.value,
        formulation=result.formulation,
        transplants=result.transplants,
        values=result.values,
        bound=result.bound,
        gap=result.gap,
        seconds=result.seconds,
        total_s=total,
        verified="yes" if report.ok else "NO: " + "; ".join(report.problems)[:300],
        message=result.message,
    )
    _emit(RESULT, out)


def _kep_objectives(objective: str) -> list[Any]:
    from kep_solver import model as kep_model

    if objective == "uk":
        return [getattr(kep_model, name)() for name in UK_LEVELS]
    return [kep_model.TransplantCount()]


def worker_kep(spec: dict[str, Any]) -> None:
    import pulp
    from kep_solver.fileio import read_file
    from kep_solver.programme import Programme

    t0 = time.perf_counter()
    instance = read_file(spec["kep_file"])
    read_s = time.perf_counter() - t0
    ndds = sum(1 for d in instance.allDonors() if d.NDD)
    _emit(READY, {"read_s": read_s, "ndds": ndds})
    uk = spec["objective"] == "uk"
    programme = Programme(
        _kep_objectives(spec["objective"]),
        maxCycleLength=spec["K"],
        maxChainLength=spec["L"] + 1,  # kep_solver counts the altruist as a donor
        description="benchmark",
        # 3: the alternates and embedded exchanges NHSBT expects, embedded ones without
        # new donors: kidneyshare's back-arc definition (docs/objectives.md). With 2
        # (new donors allowed) kep_solver counted 265 back-arcs where kidneyshare's
        # definition gives 263 on Delorme 1,000.
        build_alt_embed=3 if uk else 0,
        full_details=False,
    )
    t0 = time.perf_counter()
    answer = programme.solve_single(instance)
    seconds = time.perf_counter() - t0
    if answer is None:
        _emit(RESULT, {"status": "error", "message": "kep_solver found no solution", "s": seconds})
        return
    solution, model = answer
    values = [float(v) for v in solution.values]
    status = pulp.LpStatus.get(model.status, str(model.status))
    transplants = values[UK_LEVELS.index("TransplantCount")] if uk else values[0]
    _emit(
        RESULT,
        {
            "status": "optimal" if status == "Optimal" else status.lower(),
            "values": values,
            "transplants": transplants,
            "ndds": ndds,
            "s": seconds,
        },
    )


def worker_main(role: str) -> None:
    spec = json.loads(sys.stdin.read())
    try:
        if role == "kidneyshare":
            worker_kidneyshare(spec)
        else:
            worker_kep(spec)
    except MemoryError:
        _emit(RESULT, {"status": "out-of-memory", "message": "MemoryError"})
    except Exception as exc:
        tb = traceback.format_exc(limit=3).replace("\n", " | ")
        _emit(
            RESULT, {"status": "error", "message": f"{type(exc).__name__}: {exc}"[:400], "tb": tb}
        )


# --------------------------------------------------------------------------- driver


@dataclass
class WorkerOutcome:
    ready: dict[str, Any] | None
    result: dict[str, Any] | None
    status: str  # "done", "timeout", "crashed"
    elapsed: float  # seconds from READY to the end (or kill)
    stderr: str = ""


def _limit_memory(limit_bytes: int | None) -> Any:
    def apply() -> None:
        if limit_bytes:
            resource.setrlimit(resource.RLIMIT_AS, (limit_bytes, limit_bytes))

    return apply


def run_worker(
    role: str,
    spec: dict[str, Any],
    *,
    limit: float,
    load_limit: float,
    memory: int | None,
) -> WorkerOutcome:
    """Start a worker, wait ``load_limit`` s for it to load the pool, then ``limit`` s."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", role]
    proc = subprocess.Popen(
        cmd,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group: CBC dies with it
        preexec_fn=_limit_memory(memory),
    )
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    proc.stdin.write(json.dumps(spec))
    proc.stdin.close()
    lines: queue.Queue[str | None] = queue.Queue()
    err_chunks: list[str] = []

    def pump_out() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.put(line)
        lines.put(None)

    def pump_err() -> None:
        assert proc.stderr is not None
        err_chunks.append(proc.stderr.read())

    threads = [
        threading.Thread(target=pump_out, daemon=True),
        threading.Thread(target=pump_err, daemon=True),
    ]
    for t in threads:
        t.start()

    ready: dict[str, Any] | None = None
    result: dict[str, Any] | None = None
    started = time.monotonic()
    deadline = started + load_limit
    status = "crashed"
    while True:
        try:
            line = lines.get(timeout=max(deadline - time.monotonic(), 0.001))
        except queue.Empty:
            status = "timeout"
            break
        if line is None:
            status = "done" if result is not None else "crashed"
            break
        if line.startswith(READY):
            ready = json.loads(line[len(READY) :])
            started = time.monotonic()
            deadline = started + limit
        elif line.startswith(RESULT):
            result = json.loads(line[len(RESULT) :])
    elapsed = time.monotonic() - started
    if status == "timeout":
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    for t in threads:
        t.join(timeout=5)
    stderr = "".join(err_chunks).strip()
    if status == "crashed" and proc.returncode and proc.returncode < 0:
        stderr = f"killed by signal {-proc.returncode}. {stderr}"
    return WorkerOutcome(ready, result, status, elapsed, stderr[-400:])


def _source_spec(s: Source) -> dict[str, Any]:
    return asdict(s)


def _kep_class(run: Run) -> tuple[str, int, int, str, bool]:
    s = run.source
    return (s.family, run.max_cycle, run.max_chain, run.objective, s.altruists > 0)


def execute(
    run: Run,
    args: argparse.Namespace,
    workdir: Path,
    memory: int | None,
    kep_timeouts: dict[tuple[str, int, int, str, bool], int],
) -> Row:
    """Solve one run with kidneyshare and, if asked, kep_solver; one row of the table.

    ``kep_timeouts`` remembers the smallest pool of each kind (family, K, L, objective,
    with or without altruists) on which kep_solver timed out; larger pools of the same
    kind are skipped (``skipped``) instead of waiting out the time limit again; this
    applies to the PrefLib and Saidman pools only (one generator, similar density).
    """
    s = run.source
    row = Row(
        instance=s.name, family=s.family, K=run.max_cycle, L=run.max_chain, objective=run.objective
    )
    kep_file = s.kep_file
    glasgow_out = None
    if run.kep and kep_file is None:
        glasgow_out = str(workdir / (s.name.replace("/", "_") + ".glasgow.json"))
        kep_file = glasgow_out
    spec = {
        "source": _source_spec(s),
        "K": run.max_cycle,
        "L": run.max_chain,
        "objective": run.objective,
        "time_limit": args.time_limit,
        "threads": args.threads,
        "glasgow_out": glasgow_out,
        "kep_file": kep_file,
    }
    grace = max(30.0, 0.5 * args.time_limit)
    ks = run_worker(
        "kidneyshare",
        spec,
        limit=args.time_limit + grace,
        load_limit=args.load_limit,
        memory=memory,
    )
    if ks.ready:
        row.pairs, row.altruists, row.arcs = (
            ks.ready["pairs"],
            ks.ready["altruists"],
            ks.ready["arcs"],
        )
        row.extra["read_s"] = ks.ready["read_s"]
    r = ks.result
    if ks.status == "timeout":
        row.status = "killed" if ks.ready else "load-timeout"
        row.total_s = ks.elapsed
        row.note = f"no answer {ks.elapsed:.0f} s after start (limit {args.time_limit:g} s + grace)"
    elif r is None:
        row.status = "crashed"
        row.note = ks.stderr or "worker died without a result"
        if "MemoryError" in ks.stderr or "bad_alloc" in ks.stderr or "signal 9" in ks.stderr:
            row.status = "out-of-memory"
    else:
        row.status = r["status"]
        row.formulation = r.get("formulation", "")
        row.transplants = r.get("transplants")
        row.bound = r.get("bound")
        row.gap = r.get("gap")
        secs = r.get("seconds") or {}
        row.build_s = secs.get("build")
        row.solve_s = secs.get("solve")
        row.total_s = r.get("total_s")
        row.verified = r.get("verified", "")
        row.note = r.get("message", "")
        row.extra["values"] = r.get("values")
        if "tb" in r:
            row.extra["traceback"] = r["tb"]

    transplant_bound = run.objective == "max-transplants"
    if (
        transplant_bound
        and row.bound is not None
        and row.pairs is not None
        and row.bound > row.pairs + 1e-6
    ):
        row.check = f"BOUND {row.bound:g} > {row.pairs} pairs"

    short = s.name.split("/")[-1]
    expected = KNOWN_OPTIMA_K3.get(short)
    if expected is not None and run.max_cycle == 3 and row.status == "optimal":
        if row.transplants == expected and (row.altruists or 0) == 0:
            row.check = f"known {expected} ok"
        elif (row.altruists or 0) == 0:
            row.check = f"KNOWN-OPTIMUM MISMATCH: expected {expected}"

    known_slow = kep_timeouts.get(_kep_class(run))
    if (
        run.kep
        and s.family in ("preflib", "saidman")
        and known_slow is not None
        and s.pairs >= known_slow
    ):
        row.kep_status = "skipped"
        row.extra["kep_skipped"] = f"kep_solver timed out on a {known_slow}-pair pool of this kind"
    elif run.kep and kep_file and os.path.exists(kep_file):
        kep = run_worker(
            "kep", spec, limit=args.time_limit, load_limit=args.load_limit, memory=memory
        )
        kr = kep.result
        if kep.status == "timeout":
            row.kep_status = "timeout" if kep.ready else "load-timeout"
            row.kep_s = kep.elapsed
            key = _kep_class(run)
            kep_timeouts[key] = min(kep_timeouts.get(key, s.pairs), s.pairs)
        elif kr is None:
            row.kep_status = "crashed"
            row.extra["kep_error"] = kep.stderr
        else:
            row.kep_status = kr["status"]
            row.kep_s = kr.get("s")
            if kr.get("message"):
                row.extra["kep_error"] = kr["message"]
            if "transplants" in kr:
                row.kep_transplants = round(kr["transplants"]) - kr["ndds"]
                row.extra["kep_values"] = kr["values"]
                if run.objective == "uk":
                    row.check = _join(row.check, compare_uk(row, kr["values"], kr["ndds"]))
                if row.altruists is not None and kr["ndds"] != row.altruists:
                    row.check = _join(
                        row.check, f"ALTRUIST COUNT MISMATCH: kep {kr['ndds']} vs {row.altruists}"
                    )
        if row.kep_s and row.total_s and row.kep_status in ("optimal", "timeout"):
            row.ratio = row.kep_s / row.total_s
        row.check = _join(row.check, compare(row))
    elif run.kep:
        row.kep_status = "no-file"
    return row


def _join(a: str, b: str) -> str:
    return "; ".join(x for x in (a, b) if x)


def compare_uk(row: Row, kep_values: list[float], ndds: int) -> str:
    """Both tools' UK levels side by side (kep_solver's transplant count includes one
    waiting-list donation per altruist, so it is translated first)."""
    ours = row.extra.get("values") or {}
    theirs = dict(zip(UK_NAMES, kep_values, strict=True))
    theirs["transplants"] -= ndds
    differ = [
        f"{name} {ours.get(name, math.nan):g} vs {theirs[name]:g}"
        for name in UK_NAMES
        if abs(ours.get(name, math.nan) - theirs[name]) > 1e-4 or name not in ours
    ]
    levels = "/".join(f"{theirs[name]:g}" for name in UK_NAMES)
    if not differ:
        return f"same UK levels {levels}"
    return "UK LEVELS DIFFER (kidneyshare vs kep_solver): " + ", ".join(differ)


def compare(row: Row) -> str:
    """Check kidneyshare's and kep_solver's transplant counts against each other."""
    if row.kep_transplants is None or row.transplants is None or row.kep_status != "optimal":
        return ""
    ks, kp = row.transplants, row.kep_transplants
    if row.status == "optimal":
        return "same optimum" if ks == kp else f"MISMATCH: kidneyshare {ks} vs kep_solver {kp}"
    if row.status == "feasible-time-limit":
        bound = row.bound if row.bound is not None else math.inf
        if kp > bound + 1e-6:
            return f"MISMATCH: kep_solver {kp} above kidneyshare's bound {bound:g}"
        if ks > kp:
            return f"MISMATCH: kidneyshare {ks} above kep_solver's optimum {kp}"
        return f"kep_solver optimum {kp}, kidneyshare {ks} at time limit"
    return ""


# --------------------------------------------------------------------------- output

COLUMNS: list[tuple[str, str]] = [
    ("instance", "instance"),
    ("pairs", "pairs"),
    ("altruists", "alt"),
    ("arcs", "arcs"),
    ("K", "K"),
    ("L", "L"),
    ("objective", "obj"),
    ("formulation", "form"),
    ("transplants", "tx"),
    ("status", "status"),
    ("bound", "bound"),
    ("gap", "gap"),
    ("build_s", "build s"),
    ("solve_s", "solve s"),
    ("total_s", "total s"),
    ("verified", "verified"),
    ("kep_transplants", "kep tx"),
    ("kep_s", "kep s"),
    ("ratio", "kep/ks"),
    ("check", "check"),
    ("note", "note"),
]


def fmt(key: str, value: Any) -> str:
    if value is None:
        return ""
    if key == "gap":
        return f"{100 * value:.2f}%"
    if key == "ratio":
        return f"{value:.2f}"
    if key == "kep_transplants":
        return str(value)
    if key == "objective":
        return {"max-transplants": "tx", "max-weight": "weight"}.get(value, value)
    if key.endswith("_s"):
        return f"{value:.2f}"
    if key == "bound":
        return f"{value:g}"
    if key == "note":
        return compact_note(str(value))
    return str(value)


def compact_note(message: str) -> str:
    """The enumeration sizes of kidneyshare's message (``cols``, ``chain vars``), or its start."""
    parts = [p.strip() for p in message.split(",")]
    keep = []
    for p in parts:
        if p.endswith(" exchange columns"):
            keep.append(p.replace(" exchange columns", " cols"))
        elif p.endswith(" chain-arc variables"):
            if not p.startswith("0 "):
                keep.append(p.replace(" chain-arc variables", " chain vars"))
        elif p.startswith("lp_value="):
            keep.append(p.replace("lp_value=", "LP "))
    return ", ".join(keep) if keep else message[:60]


def cells(row: Row) -> list[str]:
    out = []
    for key, _ in COLUMNS:
        text = fmt(key, getattr(row, key))
        if key == "kep_transplants" and row.kep_status not in ("", "optimal"):
            text = row.kep_status
        elif key == "ratio" and text and row.kep_status == "timeout":
            text = ">" + text
        out.append(text)
    return out


def render_table(rows: list[Row], title: str) -> None:
    from rich.console import Console
    from rich.table import Table

    tty = sys.stdout.isatty()
    console = Console(width=None if tty else 400)  # a log file gets unwrapped rows
    table = Table(title=title, show_lines=False)
    for key, label in COLUMNS:
        table.add_column(
            label,
            justify="right"
            if key not in ("instance", "status", "check", "note", "formulation", "verified")
            else "left",
            overflow="fold",
            no_wrap=not tty,
        )
    for row in rows:
        style = "bold red" if "MISMATCH" in row.check or row.verified.startswith("NO") else None
        table.add_row(*cells(row), style=style)
    console.print(table)


def write_markdown(rows: list[Row], path: Path, header: str) -> None:
    lines = [header, "", "| " + " | ".join(label for _, label in COLUMNS) + " |"]
    lines.append("|" + "|".join("---" for _ in COLUMNS) + "|")
    for row in rows:
        lines.append("| " + " | ".join(c.replace("|", "/") for c in cells(row)) + " |")
    path.write_text("\n".join(lines) + "\n")


def write_csv(rows: list[Row], path: Path) -> None:
    keys = [k for k, _ in COLUMNS] + ["kep_status", "family", "extra"]
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(keys)
        for row in rows:
            d = asdict(row)
            w.writerow(
                ["" if d[k] is None else (json.dumps(d[k]) if k == "extra" else d[k]) for k in keys]
            )


def progress_line(i: int, n: int, row: Row) -> str:
    parts = [
        f"[{i}/{n}] {row.instance} K={row.K} L={row.L}",
        f"pairs={row.pairs} alt={row.altruists} arcs={row.arcs}",
        f"{row.status} tx={row.transplants} bound={fmt('bound', row.bound)}",
        f"total={fmt('total_s', row.total_s) or '-'}s {row.formulation}",
    ]
    if row.kep_status:
        kep_s = fmt("kep_s", row.kep_s) or "-"
        parts.append(f"kep={row.kep_status} {row.kep_transplants} {kep_s}s")
    if row.check:
        parts.append(row.check)
    if row.note and row.status not in ("optimal",):
        parts.append(f"({row.note[:120]})")
    return " | ".join(parts)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--data", default=str(DEFAULT_DATA), help="shared data folder (default %(default)s)"
    )
    p.add_argument(
        "--time-limit",
        type=float,
        default=None,
        help="seconds per solve (default 120; 20 with --quick)",
    )
    p.add_argument(
        "--quick", action="store_true", help="a smoke subset that finishes in about a minute"
    )
    p.add_argument(
        "--preflib-sample",
        type=int,
        default=1,
        help="PrefLib pools per (size, altruist %%) up to 256 pairs",
    )
    p.add_argument(
        "--preflib-large",
        type=int,
        default=1,
        help="PrefLib 512/1,024-pair pools per size at 0%% and 10%% altruists",
    )
    p.add_argument("--saidman-sizes", type=int, nargs="+", default=[250, 500, 1000, 2000])
    p.add_argument("--delorme-sizes", type=int, nargs="+", default=[500, 1000])
    p.add_argument("--seed", type=int, default=1, help="seed of the generated pools")
    p.add_argument("--long-chain", type=int, default=6, help="the long chain cap L (default 6)")
    p.add_argument(
        "--max-cycle",
        type=int,
        nargs="+",
        default=[3],
        help="cycle caps K of the generated and public pools' runs (default 3)",
    )
    p.add_argument("--threads", type=int, default=1)
    p.add_argument(
        "--uk",
        action="store_true",
        help="also run the UK hierarchy on the Delorme pools and the public pools of 250+ pairs",
    )
    p.add_argument("--no-kep", action="store_true", help="do not run kep_solver")
    p.add_argument(
        "--kep-max-pairs",
        type=int,
        default=None,
        help="run kep_solver on PrefLib/Saidman/test pools up to this size (default 256, 64 with"
        " --quick); always on the Delorme pools",
    )
    p.add_argument(
        "--kep-max-chain",
        type=int,
        default=3,
        help="run kep_solver only where L is at most this (its chains are enumerated)",
    )
    p.add_argument(
        "--memory-gb",
        type=float,
        default=None,
        help="address-space cap per worker (default 80%% of RAM)",
    )
    p.add_argument(
        "--load-limit", type=float, default=300.0, help="seconds allowed to read or generate a pool"
    )
    p.add_argument("--only", nargs="+", help="keep runs whose instance name contains one of these")
    p.add_argument(
        "--objectives", nargs="+", help="keep runs of these objectives (max-transplants, uk)"
    )
    p.add_argument("--markdown", type=Path, help="also write the table as Markdown")
    p.add_argument("--csv", type=Path, help="also write the rows (with extra fields) as CSV")
    p.add_argument(
        "--workdir", type=Path, help="where generated pools go (default: a temporary folder)"
    )
    p.add_argument("--dry-run", action="store_true", help="list the runs and stop")
    p.add_argument("--worker", choices=["kidneyshare", "kep"], help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.time_limit is None:
        args.time_limit = 20.0 if args.quick else 120.0
    if args.kep_max_pairs is None:
        args.kep_max_pairs = 64 if args.quick else 256
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.worker:
        worker_main(args.worker)
        return 0

    def log(msg: str) -> None:
        print(msg, flush=True)

    if args.memory_gb is not None:
        memory = int(args.memory_gb * 2**30) if args.memory_gb > 0 else None
    else:
        memory = int(0.8 * os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    own_workdir = args.workdir is None
    workdir = Path(tempfile.mkdtemp(prefix="kidneyshare-bench-")) if own_workdir else args.workdir
    workdir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    rows: list[Row] = []
    try:
        runs = build_plan(args, workdir, log)
        log(f"{len(runs)} runs, time limit {args.time_limit:g} s, workdir {workdir}")
        if args.dry_run:
            for run in runs:
                s = run.source
                log(
                    f"  {s.name} pairs={s.pairs} alt={s.altruists} K={run.max_cycle} "
                    f"L={run.max_chain} {run.objective} kep={run.kep}"
                )
            return 0
        kep_timeouts: dict[tuple[str, int, int, str, bool], int] = {}
        for i, run in enumerate(runs, 1):
            row = execute(run, args, workdir, memory, kep_timeouts)
            rows.append(row)
            log(progress_line(i, len(runs), row))
            if "MISMATCH" in row.check:
                print(
                    f"!!!!! {row.instance} K={row.K} L={row.L}: {row.check}",
                    file=sys.stderr,
                    flush=True,
                )
    finally:
        if own_workdir:
            shutil.rmtree(workdir, ignore_errors=True)
    wall = time.perf_counter() - started
    title = (
        f"kidneyshare benchmarks: time limit {args.time_limit:g} s, {args.threads} thread(s), "
        f"{len(rows)} runs in {wall / 60:.1f} min"
    )
    render_table(rows, title)
    bad = [r for r in rows if "MISMATCH" in r.check or r.verified.startswith("NO")]
    if bad:
        print(f"\n!!!!! {len(bad)} MISMATCH / VERIFICATION FAILURE(S):", file=sys.stderr)
        for r in bad:
            print(f"!!!!!   {r.instance} K={r.K} L={r.L}: {r.check} {r.verified}", file=sys.stderr)
    else:
        print("\nno mismatches: every result verified, every common optimum agrees")
    if args.markdown:
        write_markdown(rows, args.markdown, f"### {title}")
    if args.csv:
        write_csv(rows, args.csv)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
