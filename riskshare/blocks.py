"""One block of years as a run needs it: drawn, laid out, allocated, checked, summarised.

:mod:`riskshare.simulation` keeps the general pieces (``events_of_block``, ``allocate``,
``annual_series``, ``summarise_block``) that ``compare``, ``sweep`` and ``bad_years``
build on. This module is the same work done the fast way, for ``simulate``'s blocks:
the events never leave the rank-major layout of :class:`~riskshare.allocation.YearLayout`
(a year's sums are added there event by event in time order, as ``np.bincount`` adds
them in event order, so every annual series is the same to the bit), the annual
series are written into one reused matrix, and a block sends back only what the run
merges: each series' moments and those of its values that can still enter the run's
kept tail.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from riskshare.allocation import RESIDUE, LaidOut, YearLayout, allocate_laid_out
from riskshare.errors import RunError
from riskshare.events import FloatArray, IntArray, draw_block, table_block
from riskshare.metrics import SeriesSummary
from riskshare.plan import Plan

#: A series' floor as the run knows it (None: none yet): values at or below stay home.
Floors = Callable[[str], "float | None"]


@dataclass(frozen=True)
class BlockJob:
    """What a run asks of each of its blocks (the same for all of them)."""

    seed: int
    keep: int
    tolerance: float  # largest imbalance, relative to the loss, that the balance check accepts
    summaries: bool = True  # False: only the payout sums (a pass for priced premiums)
    layers: int | None = None  # allocate only the first layers (the others pay nothing)
    flows: FloatArray | None = None  # each party's premium flows: summarise costs
    rates: FloatArray | None = None  # each layer's reinstatement premium rate
    cost_inputs: bool = False  # send back what the costs need, for costs priced later
    thresholds: tuple[float | None, ...] = ()  # each party's budget
    no_tail: frozenset[str] = frozenset()  # series whose tail the run derives from another


@dataclass
class BlockPart:
    """What one block contributes to a run."""

    index: int
    n_years: int
    events: int
    max_abs_error: float
    exhausted: FloatArray  # per layer: years in which the layer was exhausted
    payout_sums: FloatArray  # per layer: the sum of its annual payouts
    event_sums: FloatArray  # per layer: the sum of its payouts over events, in event order
    summaries: dict[str, SeriesSummary]
    cost_inputs: FloatArray | None  # (parties + charged layers, years): see cost_input_rows


def premium_flows(plan: Plan, premiums: FloatArray) -> FloatArray:
    """Each party's annual premium outgo less income (subsidies included), before claims."""
    flows = np.zeros(len(plan.parties))
    for layer, premium in zip(plan.layers, premiums, strict=True):
        if layer.premium_form is None:
            continue
        subsidised = sum(share for _, share in layer.subsidies)
        flows[layer.payer] += premium * (1.0 - subsidised)
        for party, share in layer.subsidies:
            flows[party] += premium * share
        flows[layer.party] -= premium
    return flows


def reinstatement_rates(plan: Plan, premiums: FloatArray) -> FloatArray:
    """Per layer: reinstatement premium charged per unit of reinstated payout."""
    return np.array(
        [
            layer.reinstatement_premium * premium / layer.limit
            if layer.reinstatement_premium is not None and layer.premium_form is not None
            else 0.0
            for layer, premium in zip(plan.layers, premiums, strict=True)
        ]
    )


def charged_layers(plan: Plan) -> list[int]:
    """The layers that can charge reinstatement premiums."""
    return [
        j
        for j, layer in enumerate(plan.layers)
        if layer.reinstatement_premium is not None and layer.premium_form is not None
    ]


def cost_series(
    plan: Plan,
    party_years: list[FloatArray],
    reinstated_years: dict[int, FloatArray],
    flows: FloatArray,
    rates: FloatArray,
) -> list[FloatArray]:
    """Each party's annual cost: its net, its premium flows and reinstatement premiums."""
    costs = [annual + flows[i] for i, annual in enumerate(party_years)]
    for j, rate in enumerate(rates):
        if rate == 0.0:
            continue
        charged = rate * reinstated_years[j]
        layer = plan.layers[j]
        costs[layer.payer] += charged
        costs[layer.party] -= charged
    return costs


def run_part(
    plan: Plan, job: BlockJob, index: int, first_year: int, n_years: int, floors: Floors
) -> BlockPart:
    """Draw, allocate, check and summarise block ``index`` of a run."""
    layout, loss, source = _laid_out_events(plan, job.seed, index, first_year, n_years)
    laid = allocate_laid_out(plan, layout, loss, source, layers=job.layers)
    nets = laid.nets
    np.copyto(nets, 0.0, where=np.abs(nets) <= RESIDUE * loss)
    error = _check_balance(laid, first_year, job.tolerance)
    n_layers = len(plan.layers)
    event_sums = np.zeros(n_layers)
    in_event_order = np.empty(layout.n)
    for j in range(n_layers if job.layers is None else job.layers):
        in_event_order[layout.perm] = laid.payouts[j]
        event_sums[j] = in_event_order.sum()
    part = BlockPart(
        index=index,
        n_years=n_years,
        events=layout.n,
        max_abs_error=error,
        exhausted=_exhausted(plan, laid),
        payout_sums=np.zeros(n_layers),
        event_sums=event_sums,
        summaries={},
        cost_inputs=None,
    )
    if job.summaries:
        _summarise(plan, job, laid, part, floors)
    return part


def _laid_out_events(
    plan: Plan, seed: int, index: int, first_year: int, n_years: int
) -> tuple[YearLayout, FloatArray, IntArray]:
    if plan.table is not None and plan.table_sources is not None:
        block = table_block(plan.table, plan.table_sources, first_year, n_years)
        layout = YearLayout(block.year, n_years)
        return layout, block.loss[layout.perm], block.source[layout.perm]
    draws = draw_block(list(plan.samplers), seed, index, n_years)
    layout = YearLayout(None, n_years, draws.counts)
    drawn = draws.time_order()[layout.perm]  # each position's index among the draws
    return layout, draws.loss[drawn], draws.source[drawn]


def _check_balance(laid: LaidOut, first_year: int, tolerance: float) -> float:
    """The largest imbalance of an event; a :class:`RunError` beyond rounding."""
    loss, nets, layout = laid.loss, laid.nets, laid.layout
    if len(loss) == 0:
        return 0.0
    scale = np.maximum(loss, 1.0)
    error = np.abs(nets.sum(axis=0) - loss)
    worst = int(np.argmax(error / scale))
    if error[worst] > tolerance * scale[worst]:
        year = first_year + int(layout.years[layout.year_of[worst]]) + 1
        raise RunError(
            f"balance check failed: in year {year}, the parties' nets add up to "
            f"{nets[:, worst].sum()!r} for a loss of {loss[worst]!r}"
        )
    lowest = nets.min(axis=0)
    if np.any(lowest < -tolerance * scale):
        event = int(np.argmin(lowest / scale))
        year = first_year + int(layout.years[layout.year_of[event]]) + 1
        raise RunError(
            f"balance check failed: a party's net is below zero ({lowest[event]!r}) in year {year}"
        )
    return float(error.max())


def _exhausted(plan: Plan, laid: LaidOut) -> FloatArray:
    counts = np.zeros(len(plan.layers))
    idle = laid.layout.n_years - len(laid.layout.years)  # years without events
    for j, layer in enumerate(plan.layers):
        if math.isfinite(layer.aggregate_limit):
            reached = np.count_nonzero(laid.year_end_aggregate[j] >= layer.aggregate_limit)
            counts[j] = reached + (idle if layer.aggregate_limit <= 0.0 else 0)
        elif math.isfinite(layer.limit):
            counts[j] = np.count_nonzero(laid.limit_hit[j])
    return counts


def _summarise(plan: Plan, job: BlockJob, laid: LaidOut, part: BlockPart, floors: Floors) -> None:
    layout = laid.layout
    n_parties, n_layers, n_members = len(plan.parties), len(plan.layers), len(plan.members)
    rows = 2 + n_parties + n_members + n_layers
    annual = np.empty((rows, layout.n_years))
    per_year = np.empty(len(layout.years))
    series: dict[str, FloatArray] = {}

    def spread(key: str, row: int, values: FloatArray) -> None:
        layout.to_years(layout.year_sums(values, per_year), annual[row])
        series[key] = annual[row]

    spread("total", 0, laid.loss)
    layout.to_years(layout.year_max(laid.loss), annual[1])
    series["oep"] = annual[1]
    party_years = []
    for i in range(n_parties):
        spread(f"party:{i}", 2 + i, laid.nets[i])
        party_years.append(annual[2 + i])
    for k, member in enumerate(plan.members):
        row = annual[2 + n_parties + k]
        np.multiply(member.share, party_years[member.consortium], out=row)
        series[f"member:{k}"] = row
    for j in range(n_layers):
        spread(f"layer:{j}", 2 + n_parties + n_members + j, laid.payouts[j])
        part.payout_sums[j] = annual[2 + n_parties + n_members + j].sum()
    charged = charged_layers(plan)
    reinstated_years = {
        j: layout.to_years(layout.year_sums(laid.reinstated[j], per_year)) for j in charged
    }
    if job.cost_inputs:
        part.cost_inputs = np.vstack([*party_years, *(reinstated_years[j] for j in charged)])
    if job.flows is not None and job.rates is not None:
        costs = cost_series(plan, party_years, reinstated_years, job.flows, job.rates)
        for i, cost in enumerate(costs):
            series[f"cost:{i}"] = cost
        for k, member in enumerate(plan.members):
            series[f"member_cost:{k}"] = member.share * costs[member.consortium]
    thresholds = dict(enumerate(job.thresholds))
    for key, values in series.items():
        threshold = thresholds.get(int(key[6:])) if key.startswith("party:") else None
        summary = SeriesSummary(job.keep, threshold)
        summary.add(values, tail=key not in job.no_tail, above=floors(key))
        part.summaries[key] = summary
