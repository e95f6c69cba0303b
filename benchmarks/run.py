"""riskshare's benchmark suite: ``make bench`` (or ``python benchmarks/run.py``).

Runs the bundled scenario (8 layers, about 2 events a year) at three sizes through
the command line, end to end, with 1 and with 2 workers, and prints a table:

- wall: seconds from launching ``riskshare simulate`` to its exit (start-up included);
- run: the run's own time (the JSON's ``simulation.seconds``: allocation and figures);
- events/s: events simulated per second of wall time;
- peak memory (MB of 10^6 bytes): the largest sum, over the process and its workers, of their
  proportional set sizes (PSS: a page shared by n processes counts 1/n in each), sampled
  every 50 ms (reading them costs the run little at that pace);
- floor: numpy alone drawing the same frequency and severity variates, plus one read
  and one write of an event array per layer, in this process;
- run / floor: the run's time over the floor;
- other load: the cores that other processes kept busy meanwhile (from /proc/stat,
  less the run's own CPU time): a measurement with other load is not the code's alone.

It also times the scalar reference of ``tests/reference.py`` (a loop over years and
events, as the spec reads) on the S workload's events, and checks that the JSON of
every run is the same, but for ``seconds``, with 1 and with 2 workers.

``--xl`` adds a run of 100,000,000 years with 2 workers (a few minutes);
``--sizes S,M`` picks workloads; ``--json FILE`` writes the measurements.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from riskshare.engine.events import block_rng, block_spans
from riskshare.engine.plan import Plan, compile_plan

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "scenarios" / "breakthrough-consortium.yaml"
WORKLOADS = {"S": 100_000, "M": 1_000_000, "L": 10_000_000, "XL": 100_000_000}
SEED = 20250302
#: Cores other processes may keep busy before a measurement is flagged as disturbed.
BUSY = 0.2


@dataclass
class Measured:
    workload: str
    years: int
    workers: int
    events: int
    wall: float
    run: float
    peak_bytes: int
    floor: float
    others: float  # cores other processes kept busy during the run (0: a quiet machine)

    @property
    def events_per_second(self) -> float:
        return self.events / self.wall

    @property
    def times_floor(self) -> float:
        return self.run / self.floor


# --- memory of a process tree ------------------------------------------------------


def _tree(pid: int) -> list[int]:
    found, stack = [], [pid]
    while stack:
        current = stack.pop()
        found.append(current)
        try:
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as handle:
                    stack.extend(int(child) for child in handle.read().split())
        except OSError:
            pass
    return found


def _pss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as handle:
            for line in handle:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


class PeakMemory:
    """The largest total PSS of a process and its descendants, sampled in a thread."""

    def __init__(self, pid: int, every: float = 0.05) -> None:
        self.pid, self.every, self.peak = pid, every, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, sum(_pss(p) for p in _tree(self.pid)))
            self._stop.wait(self.every)

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return self.peak


# --- the measurements ----------------------------------------------------------------


def busy_seconds() -> float:
    """CPU time every process of the machine has used so far (from /proc/stat)."""
    with open("/proc/stat") as handle:
        fields = [int(v) for v in handle.readline().split()[1:]]
    idle = fields[3] + fields[4]  # idle and iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def run_cli(years: int, workers: int, out: Path) -> tuple[float, int, float, dict[str, object]]:
    """Run ``riskshare simulate`` end to end: its wall time, peak memory, the cores other
    processes kept busy meanwhile, and its JSON."""
    command = [sys.executable, "-m", "riskshare", "simulate", str(SCENARIO)]
    command += ["--years", str(years), "--seed", str(SEED), "--workers", str(workers)]
    command += ["--json", str(out), "--quiet"]
    busy = busy_seconds()
    mine = time.process_time()  # this process's own, watching memory included
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT)
    watch = PeakMemory(process.pid)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    peak = watch.stop()
    ours = usage.ru_utime + usage.ru_stime + time.process_time() - mine
    others = busy_seconds() - busy - ours
    if process.returncode != 0:
        raise SystemExit(f"riskshare simulate failed (exit {process.returncode})")
    return wall, peak, max(0.0, others) / wall, json.loads(out.read_text(encoding="utf-8"))


def floor_block(plan: Plan, block: int, n_years: int) -> None:
    """numpy alone, for one block: its frequency and severity variates, and one read and
    one write of an event array per layer."""
    rng = block_rng(SEED, block)
    losses = []
    for sampler in plan.samplers:
        counts = sampler.frequency(rng, n_years)
        losses.append(sampler.severity(rng, int(counts.sum())))
    events = np.concatenate(losses)
    out = np.empty_like(events)
    for _ in plan.layers:
        np.multiply(events, 1.0, out=out)


def floor_seconds(years: int) -> float:
    """The floor of a run of ``years`` years, block by block as the run draws them."""
    from riskshare import load_scenario

    plan = compile_plan(load_scenario(SCENARIO))
    started = time.perf_counter()
    for block, (_, n_years) in enumerate(block_spans(years)):
        floor_block(plan, block, n_years)
    return time.perf_counter() - started


def reference_seconds(years: int) -> tuple[float, float] | None:
    """The scalar reference on the S workload's events, and riskshare in-process on
    the same years; None where tests/reference.py is not there (an installed copy)."""
    sys.path.insert(0, str(ROOT / "tests"))
    try:
        import reference  # type: ignore[import-not-found]
    except ImportError:
        return None
    import riskshare
    from riskshare.engine.block import events_of_block
    from riskshare.engine.events import block_spans
    from riskshare.engine.plan import compile_plan

    scenario = riskshare.load_scenario(SCENARIO)
    plan = compile_plan(scenario)
    events = []
    for block, (first, n_years) in enumerate(block_spans(years)):
        drawn = events_of_block(plan, SEED, block, first, n_years)
        events.extend(
            reference.Event(first + int(y) + 1, plan.sources[s], float(loss))
            for y, s, loss in zip(drawn.year, drawn.source, drawn.loss, strict=True)
        )
    started = time.perf_counter()
    reference.run(scenario, years, events)
    scalar = time.perf_counter() - started
    started = time.perf_counter()
    riskshare.simulate(scenario, years, SEED, workers=1)
    return scalar, time.perf_counter() - started


def without_seconds(data: dict[str, object]) -> dict[str, object]:
    simulation = dict(data["simulation"])  # type: ignore[call-overload]
    simulation.pop("seconds")
    return {**data, "simulation": simulation}


# --- the table -----------------------------------------------------------------------


def table(rows: list[Measured], reference: tuple[float, float] | None, commit: str) -> str:
    lines = [
        f"riskshare benchmarks, commit {commit}, {os.cpu_count()} cores, "
        f"scenario {SCENARIO.name}, seed {SEED}",
        "",
        "| workload | years | events | workers | wall s | run s | events/s | peak memory "
        "| floor s | run / floor | other load |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r.workload} | {r.years:,} | {r.events:,} | {r.workers} | {r.wall:.2f} "
            f"| {r.run:.2f} | {r.events_per_second / 1e6:.2f} M | {r.peak_bytes / 1e6:,.0f} MB "
            f"| {r.floor:.3f} | {r.times_floor:.1f}× | {r.others:.2f} |"
        )
    lines.append("")
    if any(r.others > BUSY for r in rows):
        lines.append(
            f"warning: other processes kept more than {BUSY} of a core busy during some "
            "runs (other load): their times are not this code's alone"
        )
    if reference is None:
        lines.append("scalar reference: not run (it runs with the S workload)")
    else:
        scalar, fast = reference
        lines.append(
            f"scalar reference (tests/reference.py) on S: {scalar:.1f} s against "
            f"{fast:.2f} s in-process with 1 worker: {scalar / fast:.0f}× slower"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="S,M,L", help="workloads to run (S, M, L, XL)")
    parser.add_argument("--xl", action="store_true", help="also run 100,000,000 years")
    parser.add_argument("--json", type=Path, help="also write the measurements here")
    args = parser.parse_args()
    sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    if args.xl and "XL" not in sizes:
        sizes.append("XL")
    commit = (
        subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
        or "unknown"
    )
    rows: list[Measured] = []
    with tempfile.TemporaryDirectory() as scratch:
        for size in sizes:
            years = WORKLOADS[size]
            floor = floor_seconds(years)
            results = {}
            for workers in (1, 2) if size != "XL" else (2,):
                out = Path(scratch) / f"{size}-{workers}.json"
                wall, peak, others, data = run_cli(years, workers, out)
                simulation = data["simulation"]
                assert isinstance(simulation, dict)
                rows.append(
                    Measured(
                        size,
                        years,
                        workers,
                        int(simulation["events"]),
                        wall,
                        float(simulation["seconds"]),
                        peak,
                        floor,
                        others,
                    )
                )
                results[workers] = without_seconds(data)
                print(f"{size} with {workers} worker(s): {wall:.2f} s", file=sys.stderr)
            if len(results) == 2 and results[1] != results[2]:
                raise SystemExit(f"{size}: the JSON differs between 1 and 2 workers")
    reference = reference_seconds(WORKLOADS["S"]) if "S" in sizes else None
    if "S" in sizes and reference is None:
        raise SystemExit("the scalar reference is not there: run from a clone, with tests/")
    print(table(rows, reference, commit))
    if args.json is not None:
        payload = {
            "commit": commit,
            "rows": [asdict(r) for r in rows],
            "reference": reference,
        }
        args.json.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
