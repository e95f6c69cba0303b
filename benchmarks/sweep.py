"""What a sweep saves: a 20-point sweep against 20 separate simulate runs.

    .venv/bin/python benchmarks/sweep.py [--years N] [--points K] [--scenario PATH]

Sweeps the attachment of the government backstop of the demo scenario over K values
(default 20, from 1B up) for N simulated years (default 200,000), then runs each
point's scenario with ``riskshare.simulate``, checks that the sweep's figures are the
same, and prints both times and their ratio: all in one process, then with one worker
per core, after a short run of each to warm up. The sweep draws and lays out each
block's events once for every point, copies from the point before the layers the
moved backstop does not reach, and summarises only the key figures of each party; the
separate runs draw and lay out the events, allocate every layer and summarise every
series of every run.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import riskshare
from riskshare.engine.workers import cores

ROOT = Path(__file__).resolve().parent.parent
FIGURES = ("mean", "prob_positive", "var_995", "tvar_99")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--years", type=int, default=200_000)
    parser.add_argument("--points", type=int, default=20)
    parser.add_argument(
        "--scenario", type=Path, default=ROOT / "scenarios" / "breakthrough-consortium.yaml"
    )
    parser.add_argument(
        "--layer", default="state backstop", help="the layer whose attachment moves"
    )
    args = parser.parse_args()

    scenario = riskshare.load_scenario(args.scenario)
    values = [f"{1000 + 100 * i}M" for i in range(args.points)]
    grid = {f"layers.{args.layer}.attachment": values}

    def swept(workers: int | None) -> tuple[float, riskshare.SweepResult]:
        started = time.perf_counter()
        result = riskshare.sweep(scenario, grid, years=args.years, seed=1, workers=workers)
        return time.perf_counter() - started, result

    # warm up both paths first (numpy's first calls, the allocator's first pages), so
    # that neither the sweep nor the separate runs pay for what the other left behind
    riskshare.sweep(scenario, grid, years=10_000, seed=1, workers=1)
    riskshare.simulate(scenario, years=10_000, seed=1, workers=1)
    sweep_one, result = swept(1)
    sweep_every, again = swept(None)
    if result.invalid:
        raise SystemExit("\n".join(m for p in result.invalid for m in p.messages()))
    assert again.to_dict()["points"] == result.to_dict()["points"]

    def separately(workers: int | None) -> float:
        started = time.perf_counter()
        for point in result.points:
            assert point.scenario is not None
            run = riskshare.simulate(point.scenario, years=args.years, seed=1, workers=workers)
            for name, figures in point.parties.items():
                for figure in FIGURES:
                    assert figures[figure] == run.parties[name][figure], (point.name, name)
        return time.perf_counter() - started

    one, every = separately(1), separately(None)
    print(
        f"{args.scenario.name}: {args.points} points x {args.years:,} years\n"
        f"  one process      sweep {sweep_one:6.2f} s   {args.points} separate runs "
        f"{one:6.2f} s   ratio {sweep_one / one:5.2f}\n"
        f"  every core ({cores()})   sweep {sweep_every:6.2f} s   {args.points} separate runs "
        f"{every:6.2f} s   ratio {sweep_every / every:5.2f}\n"
        "  (the same figures, checked)"
    )


if __name__ == "__main__":
    main()
