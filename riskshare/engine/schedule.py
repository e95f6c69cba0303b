"""A run streamed over its blocks: which passes it takes, with which jobs.

:mod:`riskshare.engine.passes` runs the blocks and merges them; this module decides what a run
asks of its blocks. Priced (``loading``) premiums need every block's payouts before any
cost is known. Where the costs' inputs (each party's annual net and each charged layer's
annual reinstated amount) fit in :data:`~riskshare.engine.memory.COST_CACHE_BYTES`, each
worker keeps those of its blocks and sums their costs once the premiums are known: one
pass. Otherwise (or
where a comparison pairs every series of a block), a first, cheaper pass runs the layers
up to the last priced one, and a second pass runs everything. Series that are a monotone
image of another (a member's share, a cost that is a net plus a fixed premium flow) take
their tail from it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

import numpy as np

from riskshare.engine.block import BlockJob
from riskshare.engine.events import FloatArray
from riskshare.engine.memory import caches_costs
from riskshare.engine.passes import (
    Lane,
    Paired,
    Pairing,
    Pass,
    Report,
    Streamed,
    YearsDone,
)
from riskshare.engine.plan import Plan
from riskshare.engine.premiums import Priced, cost_terms, premiums_for
from riskshare.engine.series import SeriesKey
from riskshare.stats.summary import SeriesSummary

#: Makes a run's summaries of one plan: with cost series (True) or without.
Summaries = Callable[[bool], dict[SeriesKey, SeriesSummary]]


def stream(
    plans: Sequence[Plan],
    seed: int,
    spans: list[tuple[int, int]],
    keep: int,
    tolerance: float,
    new_summaries: Sequence[Summaries],
    *,
    workers: int,
    report: Report | None = None,
    pairing: tuple[Pairing, Paired] | None = None,
) -> list[Streamed]:
    """Run every block of ``spans`` under each of ``plans``, each block drawn once, and
    merge them; premiums first where they are priced.

    The plans must draw the same events (:mod:`riskshare.runs.same_events` checks it).
    ``new_summaries[i]`` makes plan i's summaries: the series it names are the ones
    summarised. With ``pairing``, each block's annual series of every plan are handed
    to ``pairing[0]`` in the worker that ran it, and what it returns to ``pairing[1]``,
    in block order; priced premiums then take their own pass first, so that every
    series of a block is known at once.
    """
    years = sum(n for _, n in spans)
    priced_later = [i for i, plan in enumerate(plans) if plan.needs_loading_pass]
    two_passes = bool(priced_later) and not caches_costs(plans, years, pairing is not None)
    progress = YearsDone(years * (2 if two_passes else 1), report)
    premiums: list[FloatArray | None] = [
        premiums_for(plan, np.zeros(len(plan.layers))) if plan.has_premiums else None
        for plan in plans
    ]
    if two_passes:
        priced = _loading_premiums(
            [plans[i] for i in priced_later], seed, spans, tolerance, workers, progress
        )
        for i, found in zip(priced_later, priced, strict=True):
            premiums[i] = found
        priced_later = []
    job = BlockJob(seed=seed, keep=keep, tolerance=tolerance, keep_series=pairing is not None)
    lanes = [
        _lane(plan, new_summaries[i](plan.has_premiums), job, premiums[i], i in priced_later)
        for i, plan in enumerate(plans)
    ]

    def price(lane: Lane, result: Streamed) -> Priced:
        result.premiums = premiums_for(lane.plan, result.event_sums / years)
        found = cost_terms(lane.plan, result.premiums)
        _derive(lane.plan, lane.summaries, found)
        return found

    results = Pass(lanes, spans, workers, pairing).run(progress, price)
    for i, result in enumerate(results):
        if i not in priced_later:
            result.premiums = premiums[i]
    return results


def _lane(
    plan: Plan,
    summaries: dict[SeriesKey, SeriesSummary],
    job: BlockJob,
    premiums: FloatArray | None,
    later: bool,
) -> Lane:
    """One plan's lane: ``job`` told which series to summarise, and either to send back
    the costs' inputs (premiums priced ``later``) or to cost with ``premiums``, known now."""
    job = replace(job, cost_inputs=later, keys=frozenset(summaries))
    known = None
    if not later and premiums is not None:
        known = cost_terms(plan, premiums)
        job = replace(job, flows=known[0], rates=known[1], event_sums=False)
    _derive(plan, summaries, known)
    return Lane(plan, _without_tails(job, summaries), summaries)


def loading_premiums(
    plan: Plan,
    seed: int,
    spans: list[tuple[int, int]],
    tolerance: float,
    workers: int,
) -> FloatArray:
    """Each layer's premium, priced ones from a pass over the layers up to the last priced."""
    years = sum(n for _, n in spans)
    return _loading_premiums([plan], seed, spans, tolerance, workers, YearsDone(years, None))[0]


def _loading_premiums(
    plans: Sequence[Plan],
    seed: int,
    spans: list[tuple[int, int]],
    tolerance: float,
    workers: int,
    progress: Callable[[int], None],
) -> list[FloatArray]:
    years = sum(n for _, n in spans)
    lanes = []
    for plan in plans:
        last = max(j for j, layer in enumerate(plan.layers) if layer.premium_form == "loading")
        job = BlockJob(seed=seed, keep=1, tolerance=tolerance, summaries=False, layers=last + 1)
        lanes.append(Lane(plan, job, {}))
    results = Pass(lanes, spans, workers).run(progress)
    return [
        premiums_for(plan, r.event_sums / years) for plan, r in zip(plans, results, strict=True)
    ]


def _derive(
    plan: Plan,
    summaries: dict[SeriesKey, SeriesSummary],
    priced: Priced | None,
) -> None:
    """Link each series that is a monotone image of another to that series' tail
    (where the run summarises both)."""

    def link(
        key: SeriesKey, source: SeriesKey, scale: float = 1.0, shift: float | None = None
    ) -> None:
        if key in summaries and source in summaries:
            summaries[key].derive_tail(summaries[source], scale=scale, shift=shift)

    # where members hold their own parts (a member may default), theirs is no image; a
    # member with no share keeps its own tail (of zeros): a tail scaled by 0 says nothing
    # of where the consortium's years rank
    members = () if plan.tracks_members else tuple(enumerate(plan.members))
    shared = [(k, member) for k, member in members if member.share > 0]
    for k, member in shared:
        link(SeriesKey.member(k), SeriesKey.party(member.consortium), scale=member.share)
    if priced is None:
        return
    flows, rates = priced
    charging = {
        party
        for j in np.flatnonzero(rates)
        for party in (plan.layers[j].payer, plan.layers[j].party)
    }
    for i in range(len(plan.parties)):
        if i not in charging:
            link(SeriesKey.cost(i), SeriesKey.party(i), shift=float(flows[i]))
    for k, member in shared:
        link(SeriesKey.member_cost(k), SeriesKey.cost(member.consortium), scale=member.share)


def _without_tails(job: BlockJob, summaries: dict[SeriesKey, SeriesSummary]) -> BlockJob:
    """``job``, told which series take their tail from another."""
    no_tail = frozenset(key for key, s in summaries.items() if s.derived is not None)
    return replace(job, no_tail=no_tail)
