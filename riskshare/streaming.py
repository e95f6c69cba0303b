"""A run streamed over its blocks: the passes it takes, and the merge in block order.

A block's events live only while a worker summarises it; the run keeps each series'
moments and kept tail (:mod:`riskshare.metrics`), so its memory depends on the block
size and the tail, not on the number of years. Blocks run in any order on any number
of workers (:mod:`riskshare.parallel`). Moments are merged strictly in block order
(floating-point sums: the order matters); tails are multisets, the same whatever
order they are merged in, so each worker merges the tails of the blocks it ran and
hands its merged tails over at the end, series by series. Where the workers' tails
together would take more than :data:`WORKER_TAILS_BYTES`, the workers send each
block's candidates instead and the run keeps one merged tail. Either way every
series' floor is published in shared memory, and a block sends or keeps only the
values above the highest floor known.

Priced (``loading``) premiums need every block's payouts before any cost is known.
Where the costs' inputs (each party's annual net and each charged layer's annual
reinstated amount) fit in :data:`COST_CACHE_BYTES`, each worker keeps those of its
blocks and sums their costs once the premiums are known; otherwise a first, cheaper
pass runs the layers up to the last priced one, and a second pass runs the rest.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from riskshare.blocks import (
    BlockJob,
    BlockPart,
    charged_layers,
    cost_series,
    premium_flows,
    reinstatement_rates,
    run_part,
)
from riskshare.events import FloatArray
from riskshare.metrics import SeriesSummary, tail_size
from riskshare.parallel import Handler, PoolStats, Workers, shared_floats, worker_number
from riskshare.plan import Plan
from riskshare.tails import key_bits

#: Largest size of the costs' inputs the workers keep for costs priced after a pass.
COST_CACHE_BYTES = 256 * 2**20
#: Largest size of the tails the workers keep between them (an estimate, see below).
WORKER_TAILS_BYTES = 512 * 2**20

Summaries = Callable[[bool], dict[str, SeriesSummary]]
Report = Callable[[float], None]
Priced = tuple[FloatArray, FloatArray]  # each party's premium flows, each layer's rate


@dataclass
class Streamed:
    """What a run's blocks add up to."""

    summaries: dict[str, SeriesSummary]
    premiums: FloatArray | None
    events: int = 0
    max_abs_error: float = 0.0
    exhausted: FloatArray = field(default_factory=lambda: np.zeros(0))
    payout_sums: FloatArray = field(default_factory=lambda: np.zeros(0))  # of annual payouts
    event_sums: FloatArray = field(default_factory=lambda: np.zeros(0))  # of event payouts
    stats: PoolStats = field(default_factory=PoolStats)


def cost_cache_bytes(plan: Plan, years: int) -> int:
    """Memory the costs' inputs of a run of ``years`` years take."""
    return 8 * years * (len(plan.parties) + len(charged_layers(plan)))


def tail_bytes(plan: Plan, years: int) -> int:
    """Memory one full set of kept tails of a run takes, at most."""
    series = 2 + 2 * len(plan.parties) + len(plan.layers)  # the rest derive their tails
    keep = tail_size(years)
    value = 6 if key_bits(keep) == 16 else 8  # long runs' tails are packed
    return value * series * keep


def passes(plan: Plan, years: int) -> int:
    """How many passes over the blocks a run takes."""
    if plan.needs_loading_pass and cost_cache_bytes(plan, years) > COST_CACHE_BYTES:
        return 2
    return 1


def tails_in_workers(plan: Plan, years: int, workers: int) -> bool:
    """Whether each worker keeps the tails of its blocks (or sends them block by block)."""
    return workers <= 1 or workers * tail_bytes(plan, years) <= WORKER_TAILS_BYTES


def stream(
    plan: Plan,
    seed: int,
    spans: list[tuple[int, int]],
    keep: int,
    tolerance: float,
    new_summaries: Summaries,
    *,
    workers: int,
    report: Report | None = None,
) -> Streamed:
    """Run every block of ``spans`` and merge them; premiums first where they are priced."""
    years = sum(n for _, n in spans)
    progress = _Progress(years * passes(plan, years), report)
    stats = PoolStats()
    if not plan.needs_loading_pass:
        fixed = _premiums(plan, np.zeros(len(plan.layers))) if plan.has_premiums else None
        return with_premiums(
            plan, seed, spans, keep, tolerance, new_summaries, fixed, workers, progress, stats
        )
    if passes(plan, years) == 2:
        premiums = loading_premiums(plan, seed, spans, tolerance, workers, progress, stats)
        return with_premiums(
            plan, seed, spans, keep, tolerance, new_summaries, premiums, workers, progress, stats
        )
    # one pass: the losses now, the costs' inputs kept, the costs once priced
    summaries = new_summaries(True)
    _derive(plan, summaries, None)
    job = BlockJob(
        seed=seed, keep=keep, tolerance=tolerance, thresholds=plan.budgets, cost_inputs=True
    )
    run = _Pass(plan, _without_tails(job, summaries), spans, summaries, workers, stats)

    def price(result: Streamed) -> Priced:
        result.premiums = _premiums(plan, result.event_sums / years)
        priced = (premium_flows(plan, result.premiums), reinstatement_rates(plan, result.premiums))
        _derive(plan, summaries, priced)
        return priced

    return run.run(progress, price)


def loading_premiums(
    plan: Plan,
    seed: int,
    spans: list[tuple[int, int]],
    tolerance: float,
    workers: int,
    progress: Callable[[int], None] | None = None,
    stats: PoolStats | None = None,
) -> FloatArray:
    """Each layer's premium, priced ones from a pass over the layers up to the last priced."""
    years = sum(n for _, n in spans)
    last = max(j for j, layer in enumerate(plan.layers) if layer.premium_form == "loading")
    job = BlockJob(seed=seed, keep=1, tolerance=tolerance, summaries=False, layers=last + 1)
    run = _Pass(plan, job, spans, {}, workers, stats or PoolStats())
    first = run.run(progress or _Progress(years, None))
    return _premiums(plan, first.event_sums / years)


def with_premiums(
    plan: Plan,
    seed: int,
    spans: list[tuple[int, int]],
    keep: int,
    tolerance: float,
    new_summaries: Summaries,
    premiums: FloatArray | None,
    workers: int,
    progress: Callable[[int], None] | None = None,
    stats: PoolStats | None = None,
) -> Streamed:
    """Run and merge every block, the premiums (if any) known."""
    years = sum(n for _, n in spans)
    summaries = new_summaries(premiums is not None)
    priced = None
    job = BlockJob(seed=seed, keep=keep, tolerance=tolerance, thresholds=plan.budgets)
    if premiums is not None:
        priced = (premium_flows(plan, premiums), reinstatement_rates(plan, premiums))
        job = BlockJob(
            seed=seed,
            keep=keep,
            tolerance=tolerance,
            thresholds=plan.budgets,
            flows=priced[0],
            rates=priced[1],
            event_sums=False,
        )
    _derive(plan, summaries, priced)
    job = _without_tails(job, summaries)
    result = _Pass(plan, job, spans, summaries, workers, stats or PoolStats()).run(
        progress or _Progress(years, None)
    )
    result.premiums = premiums
    return result


class _Progress:
    """Years done, over every pass, as a share of the whole run."""

    def __init__(self, total: int, report: Report | None) -> None:
        self.total, self.report, self.done = total, report, 0

    def __call__(self, n_years: int) -> None:
        self.done += n_years
        if self.report is not None:
            self.report(self.done / self.total)


class _Pass:
    """One pass over a run's blocks with one job, on workers that keep their share.

    The handlers run in the workers (or, with one worker, here); :meth:`run` runs here.
    """

    def __init__(
        self,
        plan: Plan,
        job: BlockJob,
        spans: list[tuple[int, int]],
        summaries: dict[str, SeriesSummary],
        workers: int,
        stats: PoolStats,
    ) -> None:
        self.plan, self.job, self.spans, self.summaries = plan, job, spans, summaries
        self.workers, self.stats = workers, stats
        years = sum(n for _, n in spans)
        self.local = tails_in_workers(plan, years, workers)
        self.keys = list(summaries)
        self.slot = {key: i for i, key in enumerate(self.keys)}
        # one row per worker, and a last one for this process's merged tails
        self.floors = shared_floats((workers + 1, len(self.keys)))
        self.tails: dict[str, SeriesSummary] = {}  # a worker's merged tails
        self.inputs: dict[int, FloatArray] = {}  # a worker's blocks' costs' inputs

    # --- in the workers ---------------------------------------------------------------

    def floor(self, key: str) -> float | None:
        """The highest floor any worker, or the run, has published for ``key``."""
        if key not in self.slot:
            return None
        column = self.floors[:, self.slot[key]]
        known = column[~np.isnan(column)]
        return float(known.max()) if len(known) else None

    def block(self, index: int) -> BlockPart:
        first, n_years = self.spans[index]
        part = run_part(self.plan, self.job, index, first, n_years, self.floor)
        if part.cost_inputs is not None:
            self.inputs[index] = part.cost_inputs
            part.cost_inputs = None
        if self.local:
            self._keep(part.summaries)
        return part

    def costs(self, priced: tuple[Priced, frozenset[str]]) -> list[BlockPart]:
        """Each kept block's cost summaries, the premiums being known."""
        (flows, rates), no_tail = priced
        plan, parts = self.plan, []
        n_parties = len(plan.parties)
        charged = charged_layers(plan)
        for index in sorted(self.inputs):
            inputs = self.inputs.pop(index)
            reinstated = dict(zip(charged, inputs[n_parties:], strict=True))
            series = cost_series(plan, list(inputs[:n_parties]), reinstated, flows, rates)
            annual = {f"cost:{i}": cost for i, cost in enumerate(series)}
            for k, member in enumerate(plan.members):
                annual[f"member_cost:{k}"] = member.share * series[member.consortium]
            part = BlockPart(
                index, len(inputs[0]), 0, 0.0, np.zeros(0), np.zeros(0), np.zeros(0), {}, None
            )
            for key, values in annual.items():
                summary = SeriesSummary(self.job.keep)
                summary.add(values, tail=key not in no_tail, above=self.floor(key))
                summary.pack()
                part.summaries[key] = summary
            if self.local:
                self._keep(part.summaries)
            parts.append(part)
        return parts

    def gather(self, owner: dict[str, int]) -> dict[str, SeriesSummary]:
        """Hand over this worker's tails of the series another worker combines."""
        mine = worker_number()
        return {
            key: self.tails.pop(key) for key in list(self.tails) if owner.get(key, mine) != mine
        }

    def combine(self, given: tuple[dict[str, list[SeriesSummary]], list[str], int]) -> Any:
        """Merge the other workers' tails of this worker's series into its own ones and
        put in place the values the figures read; hand them over."""
        tails, keys, years = given
        combined = {}
        for key in keys:
            own = self.tails.pop(key, None) or SeriesSummary(self.job.keep)
            for other in tails.get(key, []):
                own.merge_tail(other, take=True)
            own.n = years
            own.arrange_for_figures()
            combined[key] = own
        return combined

    def _keep(self, summaries: dict[str, SeriesSummary]) -> None:
        row = worker_number()
        for key, block in summaries.items():
            if key not in self.tails:
                self.tails[key] = SeriesSummary(self.job.keep)
            kept = self.tails[key]
            kept.merge_tail(block, take=True)
            block.forget_tail()
            if kept.floor is not None:
                self.floors[row, self.slot[key]] = kept.floor

    # --- here -------------------------------------------------------------------------

    def run(
        self, progress: Callable[[int], None], price: Callable[[Streamed], Priced] | None = None
    ) -> Streamed:
        n_layers = len(self.plan.layers)
        result = Streamed(
            summaries=self.summaries,
            premiums=None,
            exhausted=np.zeros(n_layers),
            payout_sums=np.zeros(n_layers),
            event_sums=np.zeros(n_layers),
            stats=self.stats,
        )
        waiting: dict[int, BlockPart] = {}
        following = [0]

        def receive(index: int, part: BlockPart) -> None:
            if not self.local:
                self._merge_tails(part.summaries)
            waiting[index] = part
            while following[0] in waiting:
                ready = waiting.pop(following[0])
                for key, block in ready.summaries.items():
                    self.summaries[key].merge_moments(block)
                if len(ready.exhausted):  # a block's part, not its costs'
                    result.events += ready.events
                    result.max_abs_error = max(result.max_abs_error, ready.max_abs_error)
                    result.exhausted += ready.exhausted
                    result.payout_sums += ready.payout_sums
                    result.event_sums += ready.event_sums
                following[0] += 1

        def block_done(index: int, part: BlockPart) -> None:
            receive(index, part)
            progress(part.n_years)

        handlers: dict[str, Handler] = {
            "block": self.block,
            "costs": self.costs,
            "gather": self.gather,
            "combine": self.combine,
        }
        with Workers(min(self.workers, len(self.spans)), handlers, self.stats) as pool:
            pool.map("block", list(range(len(self.spans))), block_done)
            if price is not None:
                priced = price(result)
                no_tail = frozenset(k for k, s in self.summaries.items() if s.derived is not None)
                following[0] = 0
                for parts in pool.each("costs", (priced, no_tail)):
                    for part in parts:
                        receive(part.index, part)
            if self.local:
                self._collect(pool, sum(n for _, n in self.spans))
        return result

    def _collect(self, pool: Workers, years: int) -> None:
        """Merge the workers' tails, each series in one worker, all workers at once."""
        keys = [key for key, summary in self.summaries.items() if summary.derived is None]
        owner = {key: i % pool.size for i, key in enumerate(keys)}
        given: list[dict[str, list[SeriesSummary]]] = [{} for _ in range(pool.size)]
        for tails in pool.each("gather", owner):
            for key, tail in tails.items():
                given[owner[key]].setdefault(key, []).append(tail)
        arguments = [
            (given[w], [key for key in keys if owner[key] == w], years) for w in range(pool.size)
        ]
        given.clear()
        for combined in pool.each_of("combine", arguments):
            for key, tail in combined.items():
                self.summaries[key].adopt_tail(tail)

    def _merge_tails(self, summaries: dict[str, SeriesSummary]) -> None:
        row = len(self.floors) - 1
        for key, block in summaries.items():
            merged = self.summaries[key]
            merged.merge_tail(block, take=True)
            block.forget_tail()
            if merged.floor is not None:
                self.floors[row, self.slot[key]] = merged.floor


def _premiums(plan: Plan, expected: FloatArray) -> FloatArray:
    return np.array([layer.premium_for(e) for layer, e in zip(plan.layers, expected, strict=True)])


def _derive(
    plan: Plan,
    summaries: dict[str, SeriesSummary],
    priced: Priced | None,
) -> None:
    """Link each series that is a monotone image of another to that series' tail."""
    for k, member in enumerate(plan.members):
        source = summaries[f"party:{member.consortium}"]
        summaries[f"member:{k}"].derive_tail(source, scale=member.share)
    if priced is None or "cost:0" not in summaries:
        return
    flows, rates = priced
    charging = {
        party
        for j in np.flatnonzero(rates)
        for party in (plan.layers[j].payer, plan.layers[j].party)
    }
    for i in range(len(plan.parties)):
        if i not in charging:
            summaries[f"cost:{i}"].derive_tail(summaries[f"party:{i}"], shift=float(flows[i]))
    for k, member in enumerate(plan.members):
        source = summaries[f"cost:{member.consortium}"]
        summaries[f"member_cost:{k}"].derive_tail(source, scale=member.share)


def _without_tails(job: BlockJob, summaries: dict[str, SeriesSummary]) -> BlockJob:
    """``job``, told which series take their tail from another."""
    no_tail = frozenset(key for key, s in summaries.items() if s.derived is not None)
    return BlockJob(
        seed=job.seed,
        keep=job.keep,
        tolerance=job.tolerance,
        summaries=job.summaries,
        layers=job.layers,
        flows=job.flows,
        rates=job.rates,
        cost_inputs=job.cost_inputs,
        thresholds=job.thresholds,
        no_tail=no_tail,
        event_sums=job.event_sums,
    )
