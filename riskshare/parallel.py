"""The blocks of a run in worker processes, handed back as they finish.

Workers are forked from the running process (Linux's default start method), so they
inherit the compiled plan, its samplers (closures, which cannot be pickled) and the
task as they are, with nothing to send but a block's index; only what a block
contributes travels back. Whatever order the blocks finish in, the caller merges what
needs an order (moments) in block order, so a run's figures do not depend on the
number of workers. One worker, or one block, runs in the calling process: no pool.

Where ``fork`` is not available (Windows, macOS defaults aside), the blocks run in the
calling process.
"""

from __future__ import annotations

import multiprocessing
import os
import resource
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

_task: Callable[[int], Any] | None = None


def cores() -> int:
    """The number of cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


@dataclass
class PoolStats:
    """Peak resident memory of each worker, as each last reported it (bytes)."""

    workers: dict[int, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.workers.values())


def _run(index: int) -> tuple[int, int, int, Any]:
    assert _task is not None
    result = _task(index)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return index, os.getpid(), peak, result


def for_each_block(
    task: Callable[[int], Any],
    count: int,
    workers: int,
    receive: Callable[[int, Any], None],
    stats: PoolStats | None = None,
) -> None:
    """Call ``task(i)`` for i in 0..count-1 on ``workers`` processes; ``receive(i, result)``.

    ``receive`` runs in the calling process, in the order the blocks finish. ``task``
    is inherited by forked workers, so it may close over anything.
    """
    global _task
    if workers <= 1 or count <= 1 or not can_fork():
        for index in range(count):
            receive(index, task(index))
        return
    context = multiprocessing.get_context("fork")
    _task = task
    try:
        with context.Pool(min(workers, count)) as pool:
            for index, pid, peak, result in pool.imap_unordered(_run, range(count)):
                if stats is not None:
                    stats.workers[pid] = max(stats.workers.get(pid, 0), peak)
                receive(index, result)
    finally:
        _task = None


def shared_floats(count: int) -> Any:
    """``count`` float64 values in memory shared with forked workers, all NaN to start."""
    if can_fork():
        buffer = multiprocessing.get_context("fork").RawArray("d", max(count, 1))
        values = np.frombuffer(buffer, dtype=np.float64, count=count)
    else:  # pragma: no cover - no workers then
        values = np.empty(count)
    values.fill(np.nan)
    return values
