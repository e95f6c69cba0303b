"""How much memory a run will take, worked out before it starts, and whether it fits.

A run's memory is a few fixed parts (see docs/performance.md):

- each worker's block: the events of one block of 100,000 years (64 bytes an event
  while they are drawn and sorted) and the block's annual series (8 bytes a year for
  each);
- the kept tails: the largest values of each annual series that keeps its own (10% of
  the years; 1% in a sweep), 8 bytes a value (6 in long runs, which pack them), held by
  the workers (short runs) or by the run (long ones), with an eighth more of offered
  values waiting to be selected;
- with priced premiums, the costs' inputs where a run keeps them (see
  :mod:`riskshare.engine.schedule`);
- each process's interpreter and libraries.

A ``compare`` or ``sweep`` runs several plans on one draw of each block: the block's
events once, each plan's annual series, tails and costs' inputs.

The sizes of the kept tails and of the costs' inputs, and the budgets that decide where
a run keeps them (:data:`WORKER_TAILS_BYTES`, :data:`COST_CACHE_BYTES`), are set here:
:mod:`riskshare.engine.passes` and :mod:`riskshare.engine.schedule` read them, and the
estimate counts what they will keep.

:func:`check` compares the estimate with the memory the machine (or its container) has
available and, where the run would not fit, raises a :class:`RunError` that says what
to change instead of letting the system kill the run part way.

Imports riskshare.engine.events, plan and premiums, and riskshare.stats: nothing that
runs a block.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from riskshare.engine.events import BLOCK_YEARS
from riskshare.engine.plan import Plan
from riskshare.engine.premiums import charged_layers
from riskshare.errors import RunError
from riskshare.model.scenario import Scenario
from riskshare.stats.summary import RETURN_PERIOD_TAIL_SHARE, tail_size
from riskshare.stats.tails import key_bits

MB = 2**20
#: An interpreter with numpy and riskshare loaded; a forked worker shares most of it.
PROCESS_BYTES = 90 * MB
WORKER_BYTES = 40 * MB
#: Bytes per event of a block while it is drawn, sorted and laid out.
EVENT_BYTES = 64
#: Part of the available memory a run may plan to use.
HEADROOM = 0.9
#: Largest size of the tails the workers keep between them (an estimate, see tail_bytes).
WORKER_TAILS_BYTES = 512 * 2**20
#: Largest size of the costs' inputs the workers keep for costs priced after a pass.
COST_CACHE_BYTES = 256 * 2**20


def tail_bytes(plan: Plan, years: int, keep: int | None = None) -> int:
    """Memory the kept tails of one plan's run take, at most, keeping ``keep`` values a
    series (default: ``simulate``'s ``tail_size(years)``)."""
    series = 2 + 2 * len(plan.parties) + len(plan.layers)  # the rest derive their tails
    full = tail_size(years)
    value = 6 if key_bits(full) == 16 else 8  # long runs' tails are packed
    return value * series * (full if keep is None else keep)


def tails_in_workers(tails: int, workers: int) -> bool:
    """Whether each worker keeps the tails of its blocks (``tails`` bytes in all, see
    :func:`tail_bytes`), or sends them block by block for the run to keep."""
    return workers <= 1 or workers * tails <= WORKER_TAILS_BYTES


def cost_cache_bytes(plan: Plan, years: int) -> int:
    """Memory the costs' inputs of a run of ``years`` years take."""
    return 8 * years * (len(plan.parties) + len(charged_layers(plan)))


def caches_costs(plans: Sequence[Plan], years: int, paired: bool) -> int:
    """The bytes of costs' inputs a run keeps to price its premiums in its one pass; 0
    where it prices them in a pass of their own first (or has none to price)."""
    cache = sum(cost_cache_bytes(plan, years) for plan in plans if plan.needs_loading_pass)
    return 0 if paired or cache > COST_CACHE_BYTES else cache


@dataclass(frozen=True)
class Estimate:
    """A run's expected peak memory, part by part (bytes)."""

    workers: int
    events_per_block: int
    block: int  # one worker's block at work
    tails: int  # all kept tails, wherever they are held
    costs: int  # the costs' inputs kept for priced premiums
    processes: int  # interpreters and libraries

    @property
    def total(self) -> int:
        return self.workers * self.block + self.tails + self.costs + self.processes

    def describe(self) -> str:
        parts = [
            f"{_size(self.block)} for each worker's block of {BLOCK_YEARS:,} years "
            f"(about {self.events_per_block:,} events)",
            f"{_size(self.tails)} for the largest values of each annual series",
        ]
        if self.costs:
            parts.append(f"{_size(self.costs)} for the costs' inputs")
        parts.append(f"{_size(self.processes)} for the processes themselves")
        return ", ".join(parts)


def events_per_block(scenario: Scenario, plan: Plan, years: int) -> int:
    """The events of the fullest block: expected ones, with room for chance (an
    occurrence of several parts counted as an event per part, and one more)."""
    if plan.table is not None:
        blocks = (np.asarray(plan.table.year) - 1) // BLOCK_YEARS
        return int(np.bincount(blocks).max()) if len(blocks) else 0
    # an occurrence of a source with hits (format 1.2) also keeps a part per hit: it
    # weighs about as much as an event for each of its hits, and one more
    mean = sum(s.frequency.mean * (1 + len(s.hits or [])) for s in scenario.events or []) * min(
        years, BLOCK_YEARS
    )
    return int(mean + 6 * math.sqrt(mean) + 1)


def estimate(
    scenario: Scenario,
    plans: Sequence[Plan],
    years: int,
    workers: int,
    tail_share: float = RETURN_PERIOD_TAIL_SHARE,
    paired: bool = False,
) -> Estimate:
    """The peak memory of a run of ``years`` years on ``workers`` processes: of
    ``scenario`` (``plans`` its one plan), or of several plans on its events (``compare``,
    ``sweep``, ``paired`` for compare's paired differences), each keeping the largest
    ``tail_share`` of the years of each series (default: ``simulate``'s 10%; a sweep's
    1%)."""
    block_years = min(years, BLOCK_YEARS)
    events = events_per_block(scenario, plans[0], years)
    block = events * EVENT_BYTES
    if len(plans) > 1:  # a plan's allocation of the block, kept for the next plan to copy
        rows = max(2 * len(plan.layers) + len(plan.parties) for plan in plans)
        block += 2 * 8 * events * rows
    kept = slack = 0
    for plan in plans:
        # the annual series of a block: total, largest event, parties, members,
        # layers, costs, members' costs and reinstated amounts
        series = 2 + 2 * (len(plan.parties) + len(plan.members)) + 2 * len(plan.layers)
        block += 2 * 8 * block_years * series
        tails = tail_bytes(plan, years, tail_size(years, tail_share))
        kept += tails
        # a block's values waiting to be grouped, and the lowest groups' surplus
        slack += tails // 8 + 8 * block_years * series
    if workers > 1 and tails_in_workers(kept, workers):
        # each worker's, and the others' share it combines with its own (as they
        # arrive, and as they are unpickled); then the run's, as they arrive too
        tails = workers * (2 * kept + slack) + 2 * kept
    else:
        tails = kept + slack
    costs = caches_costs(plans, years, paired)
    processes = PROCESS_BYTES + workers * WORKER_BYTES if workers > 1 else PROCESS_BYTES
    return Estimate(workers, events, block, tails, costs, processes)


def available() -> int | None:
    """Memory this process may still take: the system's, or its container's if less."""
    found = []
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                found.append(int(line.split()[1]) * 1024)
    except OSError:
        pass
    for limit_file, usage_file in (
        ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
        (
            "/sys/fs/cgroup/memory/memory.limit_in_bytes",
            "/sys/fs/cgroup/memory/memory.usage_in_bytes",
        ),
    ):
        try:
            limit = Path(limit_file).read_text().strip()
            usage = int(Path(usage_file).read_text().strip())
        except (OSError, ValueError):
            continue
        if limit.isdigit() and int(limit) < 2**60:
            found.append(int(limit) - usage)
    return min(found) if found else None


#: A run's :func:`estimate` for a number of years and of workers (the run's own, or
#: fewer, to say what would fit).
Need = Callable[[int, int], Estimate]


def check(need: Need, years: int, workers: int, scenarios: int = 1) -> Estimate:
    """The estimate of a run of ``years`` years on ``workers`` processes (of ``scenarios``
    scenarios on the same events); a :class:`RunError` saying what to change where it
    cannot fit."""
    found = need(years, workers)
    have = available()
    if have is None or found.total <= HEADROOM * have:
        return found
    advice = []
    if workers > 1 and need(years, 1).total <= HEADROOM * have:
        advice.append("run it on one worker (--workers 1)")
    fitting = _fitting_years(lambda y: need(y, workers).total, years, HEADROOM * have)
    if fitting:
        advice.append(f"run at most about {fitting:,} years")
    advice.append("run it on a machine with more memory")
    what = f"a run of {years:,} years"
    if scenarios > 1:
        what += f" of {scenarios} scenarios"
    raise RunError(
        f"{what} on {workers} worker{'s' if workers != 1 else ''} needs "
        f"about {_size(found.total)} ({found.describe()}), and only {_size(have)} is "
        f"available: {', '.join(advice[:-1])}{', or ' if len(advice) > 1 else ''}{advice[-1]}"
    )


def _fitting_years(total: Callable[[int], int], years: int, budget: float) -> int | None:
    low, high = 0, years
    while high - low > max(1, years // 1000):
        middle = (low + high) // 2
        if total(max(middle, 1)) <= budget:
            low = middle
        else:
            high = middle
    if low < 1000:
        return None
    step = int(10 ** (len(str(low)) - 2))  # two significant digits, rounded down
    return low // step * step


def _size(count: int) -> str:
    """Bytes in decimal units, as the memory targets are written (1 GB = 10^9 bytes)."""
    if count >= 10**9:
        return f"{count / 10**9:.1f} GB"
    return f"{count / 10**6:,.0f} MB"


__all__ = [
    "COST_CACHE_BYTES",
    "WORKER_TAILS_BYTES",
    "Estimate",
    "Need",
    "available",
    "caches_costs",
    "check",
    "estimate",
    "tail_bytes",
    "tails_in_workers",
]
