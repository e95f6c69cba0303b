"""Where a block's time goes: each step of a run, timed on its own, against the floor.

    .venv/bin/python benchmarks/phases.py [--blocks K] [--repeat R]

Runs K blocks of 100,000 years of the bundled scenario (the M workload's first K
blocks, seed 20250302) in this process, step by step as ``riskshare.engine.block`` runs
them, and prints the milliseconds each step takes per block, the best of R rounds
(the machine's noise is above 10%; the best round is the code's own time), and the
same as a multiple of the floor of ``benchmarks/run.py`` (numpy drawing the same
frequency and severity variates, plus one read and one write of an event array per
layer), timed the same way:

- drawing: the block's counts, losses and times (``events.draw_block``);
- time order and layout: each chunk's events sorted by time within their years and
  laid out rank-major (``YearLayout``);
- layers: the allocation core, every layer over every chunk (``allocate_laid_out``);
- residue and balance: nets of amounts fully ceded set to zero, the event-by-event
  balance check, the exhausted layers;
- annual sums: every series summed year by year;
- summaries: moments and the values that can enter each kept tail, with the floors a
  run publishes after its first block.

The blocks are a one-worker run's: the figures of a run are what these add up to,
plus the start of the process, the merge and the output.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

from run import SCENARIO, SEED, floor_block  # the suite's floor, as it times it

from riskshare import load_scenario
from riskshare.engine import block as blocks
from riskshare.engine.allocation import allocate_laid_out
from riskshare.engine.events import BLOCK_YEARS
from riskshare.engine.plan import Plan, compile_plan
from riskshare.engine.premiums import charged_layers
from riskshare.engine.series import SeriesKey
from riskshare.engine.workers import tune_allocator
from riskshare.runs.simulation import BALANCE_TOLERANCE
from riskshare.stats.summary import SeriesSummary, tail_size

RUN_YEARS = 1_000_000  # the M workload: what the kept tails are sized for
STEPS = (
    "drawing",
    "time order and layout",
    "layers",
    "residue and balance",
    "annual sums",
    "summaries",
)


def run_blocks(plan: Plan, count: int) -> dict[str, float]:
    """Seconds each step took over ``count`` blocks, run as a one-worker run runs them."""
    spent = dict.fromkeys(STEPS, 0.0)
    keep = tail_size(RUN_YEARS)
    kept: dict[SeriesKey, SeriesSummary] = {}

    def floors(key: SeriesKey) -> float | None:
        return kept[key].floor if key in kept else None

    job = blocks.BlockJob(seed=SEED, keep=keep, tolerance=BALANCE_TOLERANCE, cost_inputs=True)
    charged = charged_layers(plan)
    clock = [time.perf_counter()]

    def lap(step: str) -> None:
        now = time.perf_counter()
        spent[step] += now - clock[0]
        clock[0] = now

    for block in range(count):
        clock[0] = time.perf_counter()
        events = blocks._BlockEvents(plan, SEED, block, 0, BLOCK_YEARS)
        lap("drawing")
        rows = blocks._Rows(plan, charged, BLOCK_YEARS, None)
        part = blocks.BlockPart.empty(len(plan.layers), events.n)
        for chunk in events.chunks():
            lap("time order and layout")
            laid = allocate_laid_out(plan, chunk.layout, chunk.loss, chunk.source)
            lap("layers")
            blocks.settle(plan, laid, chunk.start, job.tolerance, part)
            lap("residue and balance")
            rows.add(laid, chunk.start, chunk.stop)
            lap("annual sums")
        blocks._summarise(plan, job, rows, part, floors)
        for key, summary in part.summaries.items():
            kept.setdefault(key, SeriesSummary(keep)).merge_tail(summary, take=True)
        lap("summaries")
    return spent


def best_of(repeat: int, work: Callable[[], dict[str, float]]) -> dict[str, float]:
    rounds = [work() for _ in range(repeat)]
    return {step: min(r[step] for r in rounds) for step in rounds[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--blocks", type=int, default=10, help="blocks of 100,000 years")
    parser.add_argument("--repeat", type=int, default=5, help="rounds; the best is shown")
    args = parser.parse_args()
    tune_allocator()
    plan = compile_plan(load_scenario(SCENARIO))
    run_blocks(plan, 1)  # warm up: first calls, the allocator's pages

    def floor_round() -> dict[str, float]:
        started = time.perf_counter()
        for block in range(args.blocks):
            floor_block(plan, block, BLOCK_YEARS)
        return {"floor": time.perf_counter() - started}

    floor = best_of(args.repeat, floor_round)["floor"] / args.blocks
    spent = best_of(args.repeat, lambda: run_blocks(plan, args.blocks))
    per_block = {step: seconds / args.blocks for step, seconds in spent.items()}
    total = sum(per_block.values())
    print(
        f"{SCENARIO.name}: {args.blocks} blocks of {BLOCK_YEARS:,} years, one process, "
        f"best of {args.repeat}\n"
    )
    print("| step | ms per block | × floor |")
    print("|---|---:|---:|")
    for step, seconds in per_block.items():
        print(f"| {step} | {1000 * seconds:.1f} | {seconds / floor:.2f} |")
    print(f"| **all steps** | **{1000 * total:.1f}** | **{total / floor:.2f}** |")
    print(f"| floor | {1000 * floor:.1f} | 1.00 |")


if __name__ == "__main__":
    main()
