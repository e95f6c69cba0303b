"""A run streamed over its blocks: the passes it takes, and the merge in block order.

A block's events live only while its worker summarises it; the run keeps each
series' moments and kept tail (:mod:`riskshare.metrics`), so its memory depends on
the block size and the tail, not on the events. Blocks run in any order on any
number of workers (:mod:`riskshare.parallel`); their tails are merged as they arrive
(a multiset: the order does not matter) and their moments strictly in block order
(floating-point sums: the order does), so the figures are the same to the bit for
any number of workers. After each merge the run publishes each series' floor, and a
worker sends only the values above it.

Priced (``loading``) premiums need every block's payouts before any cost is known.
Where the costs' inputs (each party's annual net and each charged layer's annual
reinstated amount) fit in :data:`COST_CACHE_BYTES`, one pass keeps them and the costs
are summed from them at the end; otherwise a first, cheaper pass runs the layers up
to the last priced one, and a second pass runs the rest.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

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
from riskshare.metrics import SeriesSummary
from riskshare.parallel import PoolStats, for_each_block, shared_floats
from riskshare.plan import Plan

#: Largest size of the costs' inputs kept for costs priced after a first pass.
COST_CACHE_BYTES = 256 * 2**20

Summaries = Callable[[bool], dict[str, SeriesSummary]]
Report = Callable[[float], None]


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


def passes(plan: Plan, years: int) -> int:
    """How many passes over the blocks a run takes."""
    if plan.needs_loading_pass and cost_cache_bytes(plan, years) > COST_CACHE_BYTES:
        return 2
    return 1


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
    rounds = passes(plan, years)
    progress = _Progress(years * rounds, report)
    stats = PoolStats()
    if plan.needs_loading_pass and rounds == 2:
        premiums = loading_premiums(plan, seed, spans, tolerance, workers, progress, stats)
        return with_premiums(
            plan, seed, spans, keep, tolerance, new_summaries, premiums, workers, progress, stats
        )
    if not plan.needs_loading_pass:
        fixed = _premiums(plan, np.zeros(len(plan.layers))) if plan.has_premiums else None
        return with_premiums(
            plan, seed, spans, keep, tolerance, new_summaries, fixed, workers, progress, stats
        )
    # one pass: the losses now, the costs' inputs kept, the costs once priced
    summaries = new_summaries(True)
    losses = {k: s for k, s in summaries.items() if not k.startswith(("cost:", "member_cost:"))}
    job = BlockJob(seed=seed, keep=keep, tolerance=tolerance, thresholds=plan.budgets,
                   cost_inputs=True)  # fmt: skip
    inputs: list[FloatArray] = []
    result = _merge(plan, _with_tails(job, plan, losses, None), spans, losses, workers,
                    progress, stats, inputs)  # fmt: skip
    premiums = _premiums(plan, result.event_sums / years)
    flows, rates = premium_flows(plan, premiums), reinstatement_rates(plan, premiums)
    costs = {k: s for k, s in summaries.items() if k not in losses}
    _derive(plan, summaries, (flows, rates))
    charged = charged_layers(plan)
    n_parties = len(plan.parties)
    for block_inputs in inputs:
        party_years = list(block_inputs[:n_parties])
        reinstated = dict(zip(charged, block_inputs[n_parties:], strict=True))
        series = cost_series(plan, party_years, reinstated, flows, rates)
        for i, annual in enumerate(series):
            _add(costs[f"cost:{i}"], annual)
        for k, member in enumerate(plan.members):
            _add(costs[f"member_cost:{k}"], member.share * series[member.consortium])
    inputs.clear()
    result.summaries = summaries
    result.premiums = premiums
    return result


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
    first = _merge(plan, job, spans, {}, workers, progress or _Progress(years, None),
                   stats or PoolStats())  # fmt: skip
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
    job = BlockJob(seed=seed, keep=keep, tolerance=tolerance, thresholds=plan.budgets)
    priced = None
    if premiums is not None:
        priced = (premium_flows(plan, premiums), reinstatement_rates(plan, premiums))
        job = BlockJob(seed=seed, keep=keep, tolerance=tolerance, thresholds=plan.budgets,
                       flows=priced[0], rates=priced[1])  # fmt: skip
    summaries = new_summaries(premiums is not None)
    job = _with_tails(job, plan, summaries, priced)
    result = _merge(plan, job, spans, summaries, workers, progress or _Progress(years, None),
                    stats or PoolStats())  # fmt: skip
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


def _add(merged: SeriesSummary, annual: FloatArray) -> None:
    """Fold in a block's series as a block summary merged in block order would be."""
    block = SeriesSummary(merged.keep, merged.threshold)
    block.add(annual, tail=merged.derived is None, above=merged.floor)
    merged.merge(block)


def _premiums(plan: Plan, expected: FloatArray) -> FloatArray:
    return np.array([layer.premium_for(e) for layer, e in zip(plan.layers, expected, strict=True)])


def _derive(
    plan: Plan,
    summaries: dict[str, SeriesSummary],
    priced: tuple[FloatArray, FloatArray] | None,
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


def _with_tails(
    job: BlockJob,
    plan: Plan,
    summaries: dict[str, SeriesSummary],
    priced: tuple[FloatArray, FloatArray] | None,
) -> BlockJob:
    _derive(plan, summaries, priced)
    no_tail = frozenset(key for key, s in summaries.items() if s.derived is not None)
    return BlockJob(
        seed=job.seed, keep=job.keep, tolerance=job.tolerance, summaries=job.summaries,
        layers=job.layers, flows=job.flows, rates=job.rates, cost_inputs=job.cost_inputs,
        thresholds=job.thresholds, no_tail=no_tail,
    )  # fmt: skip


def _merge(
    plan: Plan,
    job: BlockJob,
    spans: list[tuple[int, int]],
    summaries: dict[str, SeriesSummary],
    workers: int,
    progress: Callable[[int], None],
    stats: PoolStats,
    inputs: list[FloatArray] | None = None,
) -> Streamed:
    """Run the blocks of ``spans`` with ``job``; merge into ``summaries``."""
    n_layers = len(plan.layers)
    result = Streamed(
        summaries=summaries,
        premiums=None,
        exhausted=np.zeros(n_layers),
        payout_sums=np.zeros(n_layers),
        event_sums=np.zeros(n_layers),
        stats=stats,
    )
    keys = list(summaries)
    slot = {key: i for i, key in enumerate(keys)}
    floors = shared_floats(len(keys))
    waiting: dict[int, BlockPart] = {}
    following = [0]

    def floor_of(key: str) -> float | None:
        value = float(floors[slot[key]]) if key in slot else math.nan
        return None if math.isnan(value) else value

    def task(index: int) -> BlockPart:
        first, n_years = spans[index]
        return run_part(plan, job, index, first, n_years, floor_of)

    def receive(index: int, part: BlockPart) -> None:
        for key, block in part.summaries.items():
            merged = summaries[key]
            merged.merge_tail(block)
            block.forget_tail()
            if merged.floor is not None:
                floors[slot[key]] = merged.floor
        waiting[index] = part
        while following[0] in waiting:
            ready = waiting.pop(following[0])
            for key, block in ready.summaries.items():
                summaries[key].merge_moments(block)
            result.events += ready.events
            result.max_abs_error = max(result.max_abs_error, ready.max_abs_error)
            result.exhausted += ready.exhausted
            result.payout_sums += ready.payout_sums
            result.event_sums += ready.event_sums
            if inputs is not None and ready.cost_inputs is not None:
                inputs.append(ready.cost_inputs)
            following[0] += 1
        progress(part.n_years)

    for_each_block(task, len(spans), workers, receive, stats)
    return result
