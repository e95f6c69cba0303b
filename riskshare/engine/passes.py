"""One pass over a run's blocks, on workers that keep their share of it between calls.

A pass runs every block of a run under one or more *lanes*: a plan, the job each of
its blocks is given (:class:`~riskshare.engine.block.BlockJob`) and the summaries its
blocks merge into. ``simulate`` has one lane; ``compare`` and ``sweep`` one per scenario
or grid point, all on the same events, each block drawn once
(:func:`~riskshare.engine.block.run_parts`).

A block's events live only while a worker summarises it; the run keeps each series'
moments and kept tail (:mod:`riskshare.stats.summary`), so its memory depends on the block
size and the tail, not on the number of years. Blocks run in any order on any number
of workers (:mod:`riskshare.engine.workers`). Moments are merged strictly in block order
(floating-point sums: the order matters); tails are multisets, the same whatever
order they are merged in, so each worker merges the tails of the blocks it ran and
hands its merged tails over at the end, series by series. Where the workers' tails
together would take more than :data:`~riskshare.engine.memory.WORKER_TAILS_BYTES`, the
workers send each block's candidates instead and the run keeps one merged tail. Either
way every series' floor is published in shared memory, and a block sends or keeps only
the values above the highest floor known.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np

from riskshare.engine.block import BlockJob, BlockPart, run_parts, summary_of
from riskshare.engine.events import FloatArray
from riskshare.engine.memory import tail_bytes, tails_in_workers
from riskshare.engine.plan import Plan
from riskshare.engine.premiums import Priced, charged_layers
from riskshare.engine.series import SeriesKey, cost_series
from riskshare.engine.workers import Handler, Workers, shared_floats, worker_number
from riskshare.stats.summary import SeriesSummary

Report = Callable[[float], None]
#: In a worker: a block's index and each plan's annual series of it -> what the run keeps
#: of them (paired differences, say), handed to the matching :data:`Paired`.
Pairing = Callable[[int, list[dict[SeriesKey, FloatArray]]], Any]
#: Here: what :data:`Pairing` made of each block, block after block in block order.
Paired = Callable[[int, Any], None]


@dataclass
class Streamed:
    """What a run's blocks add up to."""

    summaries: dict[SeriesKey, SeriesSummary]
    premiums: FloatArray | None
    events: int = 0
    max_abs_error: float = 0.0
    exhausted: FloatArray = field(default_factory=lambda: np.zeros(0))
    event_sums: FloatArray = field(default_factory=lambda: np.zeros(0))  # of event payouts
    shared_events: int = 0  # format 1.2: occurrences that struck more than one bearer


class YearsDone:
    """Years done, over every pass, as a share of the whole run."""

    def __init__(self, total: int, report: Report | None) -> None:
        self.total, self.report, self.done = total, report, 0

    def __call__(self, n_years: int) -> None:
        self.done += n_years
        if self.report is not None:
            self.report(self.done / self.total)


@dataclass(frozen=True)
class Lane:
    """One plan's share of a pass: its job, and the summaries its blocks merge into."""

    plan: Plan
    job: BlockJob
    summaries: dict[SeriesKey, SeriesSummary]


Parts = list[BlockPart | None]  # a block's part under each lane (None: nothing of it)
Key = tuple[int, SeriesKey]  # a lane and one of its series


class Pass:
    """One pass over a run's blocks, under one or more plans (lanes) that share its
    events, on workers that keep their share of it between calls.

    The handlers run in the workers (or, with one worker, here); :meth:`run` runs here.
    """

    def __init__(
        self,
        lanes: Sequence[Lane],
        spans: list[tuple[int, int]],
        workers: int,
        pairing: tuple[Pairing, Paired] | None = None,
    ) -> None:
        self.lanes, self.spans, self.workers = lanes, spans, workers
        self.pairing = pairing
        years = sum(n for _, n in spans)
        tails = sum(tail_bytes(lane.plan, years, lane.job.keep) for lane in lanes)
        self.local = tails_in_workers(tails, workers)
        self.keys: list[Key] = [(at, k) for at, lane in enumerate(lanes) for k in lane.summaries]
        self.slot = {key: i for i, key in enumerate(self.keys)}
        # one row per worker, and a last one for this process's merged tails
        self.floors = shared_floats((workers + 1, len(self.keys)))
        self.tails: dict[Key, SeriesSummary] = {}  # a worker's merged tails
        self.inputs: dict[tuple[int, int], FloatArray] = {}  # (lane, block): costs' inputs

    # --- in the workers ---------------------------------------------------------------

    def floor(self, lane: int, key: SeriesKey) -> float | None:
        """The highest floor any worker, or the run, has published for a lane's series."""
        slot = self.slot.get((lane, key))
        if slot is None:
            return None
        column = self.floors[:, slot]
        known = column[~np.isnan(column)]
        return float(known.max()) if len(known) else None

    def block(self, index: int) -> tuple[Parts, Any]:
        first, n_years = self.spans[index]
        parts = run_parts(
            [lane.plan for lane in self.lanes],
            [lane.job for lane in self.lanes],
            index,
            first,
            n_years,
            [partial(self.floor, at) for at in range(len(self.lanes))],
        )
        paired = None
        if self.pairing is not None:
            paired = self.pairing[0](index, [part.series or {} for part in parts])
        for at, part in enumerate(parts):
            part.series = None
            if part.cost_inputs is not None:
                self.inputs[(at, index)] = part.cost_inputs
                part.cost_inputs = None
            if self.local:
                self._keep(at, part.summaries)
        return list[BlockPart | None](parts), paired

    def costs(
        self, given: tuple[dict[int, Priced], dict[int, frozenset[SeriesKey]]]
    ) -> list[tuple[int, Parts]]:
        """Each kept block's cost summaries, the premiums being known."""
        priced, no_tail = given
        blocks: dict[int, Parts] = {}
        for at, index in sorted(self.inputs):
            plan, keep = self.lanes[at].plan, self.lanes[at].job.keep
            (flows, rates), inputs = priced[at], self.inputs.pop((at, index))
            n_parties = len(plan.parties)
            reinstated = dict(zip(charged_layers(plan), inputs[n_parties:], strict=True))
            series = cost_series(plan, list(inputs[:n_parties]), reinstated, flows, rates)
            part = BlockPart.empty(len(plan.layers))
            for key, values in series.items():
                if key not in self.lanes[at].summaries:
                    continue
                summary = summary_of(
                    values,
                    keep,
                    threshold=None,
                    tail=key not in no_tail[at],
                    above=self.floor(at, key),
                )
                part.summaries[key] = summary
            if self.local:
                self._keep(at, part.summaries)
            blocks.setdefault(index, [None] * len(self.lanes))[at] = part
        return sorted(blocks.items())

    def gather(self, owner: dict[Key, int]) -> dict[Key, SeriesSummary]:
        """Hand over this worker's tails of the series another worker combines."""
        mine = worker_number()
        return {
            key: self.tails.pop(key) for key in list(self.tails) if owner.get(key, mine) != mine
        }

    def combine(self, given: tuple[dict[Key, list[SeriesSummary]], list[Key], int]) -> Any:
        """Merge the other workers' tails of this worker's series into its own ones and
        put in place the values the figures read; hand them over."""
        tails, keys, years = given
        combined = {}
        for key in keys:
            own = self.tails.pop(key, None) or SeriesSummary(self.lanes[key[0]].job.keep)
            for other in tails.get(key, []):
                own.merge_tail(other, take=True)
            own.n = years
            own.arrange_for_figures()
            combined[key] = own
        return combined

    def _keep(self, lane: int, summaries: dict[SeriesKey, SeriesSummary]) -> None:
        row = worker_number()
        for name, block in summaries.items():
            key = (lane, name)
            if key not in self.tails:
                self.tails[key] = SeriesSummary(self.lanes[lane].job.keep)
            kept = self.tails[key]
            kept.merge_tail(block, take=True)
            block.forget_tail()
            if kept.floor is not None:
                self.floors[row, self.slot[key]] = kept.floor

    # --- here -------------------------------------------------------------------------

    def run(
        self,
        progress: Callable[[int], None],
        price: Callable[[Lane, Streamed], Priced] | None = None,
    ) -> list[Streamed]:
        """Every block under every lane, merged in block order; then, with ``price``,
        the costs of the lanes whose premiums the blocks priced; then the tails."""
        merged = _InOrder(self)

        def block_done(index: int, answer: tuple[Parts, Any]) -> None:
            merged.receive(index, *answer)
            progress(self.spans[index][1])

        handlers: dict[str, Handler] = {
            "block": self.block,
            "costs": self.costs,
            "gather": self.gather,
            "combine": self.combine,
        }
        with Workers(min(self.workers, len(self.spans)), handlers) as pool:
            pool.map("block", list(range(len(self.spans))), block_done)
            if price is not None:
                self._price_later(pool, price, merged)
            if self.local:
                self._collect(pool, sum(n for _, n in self.spans))
        return merged.results

    def _price_later(
        self, pool: Workers, price: Callable[[Lane, Streamed], Priced], merged: _InOrder
    ) -> None:
        """Price the premiums of the lanes that kept their costs' inputs, now that their
        payouts are summed, and merge each kept block's costs, in block order."""
        later = [at for at, lane in enumerate(self.lanes) if lane.job.cost_inputs]
        if not later:
            return
        priced = {at: price(self.lanes[at], merged.results[at]) for at in later}
        no_tail = {
            at: frozenset(k for k, s in self.lanes[at].summaries.items() if s.derived)
            for at in later
        }
        merged.restart()
        for answers in pool.each("costs", (priced, no_tail)):
            for index, parts in answers:
                merged.receive(index, parts)

    def _collect(self, pool: Workers, years: int) -> None:
        """Merge the workers' tails, each series in one worker, all workers at once."""
        keys = [
            (at, name)
            for at, lane in enumerate(self.lanes)
            for name, summary in lane.summaries.items()
            if summary.derived is None
        ]
        owner = {key: i % pool.size for i, key in enumerate(keys)}
        given: list[dict[Key, list[SeriesSummary]]] = [{} for _ in range(pool.size)]
        for tails in pool.each("gather", owner):
            for key, tail in tails.items():
                given[owner[key]].setdefault(key, []).append(tail)
        arguments = [
            (given[w], [key for key in keys if owner[key] == w], years) for w in range(pool.size)
        ]
        given.clear()
        for combined in pool.each_of("combine", arguments):
            for (at, name), tail in combined.items():
                self.lanes[at].summaries[name].adopt_tail(tail)

    def merge_tails(self, lane: int, summaries: dict[SeriesKey, SeriesSummary]) -> None:
        """Merge a block's tails into the run's own, where the run keeps them, and
        publish the new floors."""
        row = len(self.floors) - 1
        for name, block in summaries.items():
            merged = self.lanes[lane].summaries[name]
            merged.merge_tail(block, take=True)
            block.forget_tail()
            if merged.floor is not None:
                self.floors[row, self.slot[(lane, name)]] = merged.floor


class _InOrder:
    """A pass's blocks as they arrive, in any order, merged strictly in block order (the
    moments: floating-point sums; the tails, where the run keeps them, as they come)."""

    def __init__(self, run: Pass) -> None:
        self.run = run
        self.results = [
            Streamed(
                summaries=lane.summaries,
                premiums=None,
                exhausted=np.zeros(len(lane.plan.layers)),
                event_sums=np.zeros(len(lane.plan.layers)),
            )
            for lane in run.lanes
        ]
        self.waiting: dict[int, tuple[Parts, Any]] = {}
        self.following = 0  # the next block to merge

    def restart(self) -> None:
        """Merge from the first block again (the costs priced after a pass)."""
        self.following = 0

    def receive(self, index: int, parts: Parts, paired: Any = None) -> None:
        run = self.run
        if not run.local:
            for at, part in enumerate(parts):
                if part is not None:
                    run.merge_tails(at, part.summaries)
        self.waiting[index] = (parts, paired)
        while self.following in self.waiting:
            ready, extra = self.waiting.pop(self.following)
            self._merge(ready)
            if run.pairing is not None and extra is not None:
                run.pairing[1](self.following, extra)
            self.following += 1

    def _merge(self, parts: Parts) -> None:
        for lane, result, part in zip(self.run.lanes, self.results, parts, strict=True):
            if part is None:
                continue
            for key, block in part.summaries.items():
                lane.summaries[key].merge_moments(block)
            result.events += part.events
            result.shared_events += part.shared_events
            result.max_abs_error = max(result.max_abs_error, part.max_abs_error)
            result.exhausted += part.exhausted
            result.event_sums += part.event_sums
