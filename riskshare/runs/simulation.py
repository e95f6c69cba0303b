"""Running a scenario: blocks of years through the core, checked, summarised and merged."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial

import numpy as np

from riskshare import __version__
from riskshare.engine import memory
from riskshare.engine.allocation import Allocation, allocate, clean_nets
from riskshare.engine.block import charged_layers, cost_series, premium_flows, reinstatement_rates
from riskshare.engine.events import EventBlock, FloatArray, block_spans, simulate_block, table_block
from riskshare.engine.passes import Paired, Pairing, Streamed
from riskshare.engine.plan import Plan, compile_plan
from riskshare.engine.schedule import Summaries, loading_premiums, stream
from riskshare.engine.workers import cores
from riskshare.errors import RunError
from riskshare.model.scenario import Scenario
from riskshare.runs.results import (
    Balance,
    Budget,
    LayerFigures,
    LayerPricing,
    MemberFigures,
    OverBudget,
    PartyFigures,
    SeriesFigures,
    TotalFigures,
)
from riskshare.stats.summary import TAIL_SHARE, SeriesSummary, share_of, tail_size

Progress = Callable[[int, int], None]

#: Largest imbalance, relative to the event's loss, that a run accepts.
BALANCE_TOLERANCE = 1e-9
#: Shortest run that uses every core unless told otherwise: shorter ones gain less
#: than starting the workers costs.
PARALLEL_MIN_YEARS = 200_000


def events_of_block(plan: Plan, seed: int, block: int, first_year: int, n_years: int) -> EventBlock:
    """The events of one block, drawn or read from the events file."""
    if plan.table is not None and plan.table_sources is not None:
        return table_block(plan.table, plan.table_sources, first_year, n_years)
    return simulate_block(list(plan.samplers), seed, block, first_year, n_years)


def check_balance(allocation: Allocation) -> float:
    """Verify, event by event, that nets add up to the loss and none is negative.

    Returns the largest absolute imbalance; raises :class:`RunError` beyond rounding.
    """
    loss = allocation.block.loss
    if len(loss) == 0:
        return 0.0
    scale = np.maximum(loss, 1.0)
    error = np.abs(allocation.nets.sum(axis=0) - loss)
    worst = int(np.argmax(error / scale))
    if error[worst] > BALANCE_TOLERANCE * scale[worst]:
        year = allocation.block.first_year + allocation.block.year[worst] + 1
        raise RunError(
            f"balance check failed: in year {year}, "
            f"the parties' nets add up to {allocation.nets[:, worst].sum()!r} for a loss of "
            f"{loss[worst]!r}"
        )
    lowest = allocation.nets.min(axis=0)
    if np.any(lowest < -BALANCE_TOLERANCE * scale):
        event = int(np.argmin(lowest / scale))
        raise RunError(
            f"balance check failed: a party's net is below zero ({lowest[event]!r}) in year "
            f"{allocation.block.first_year + allocation.block.year[event] + 1}"
        )
    return float(error.max())


def clean_residue(allocation: Allocation) -> None:
    """Set to zero the nets that are floating-point residue of an amount fully ceded."""
    clean_nets(allocation.nets, allocation.block.loss)


def per_year(block: EventBlock, values: FloatArray) -> FloatArray:
    """Annual sums of per-event ``values`` (years without events count as zero)."""
    sums = np.bincount(block.year, weights=values, minlength=block.n_years)
    return sums.astype(np.float64, copy=False)


def annual_max(block: EventBlock, values: FloatArray) -> FloatArray:
    """The largest per-event value of each year (zero in years without events)."""
    out = np.zeros(block.n_years)
    if len(values):
        starts = np.flatnonzero(np.diff(block.year, prepend=-1))
        out[block.year[starts]] = np.maximum.reduceat(values, starts)
    return out


@dataclass
class BlockResult:
    """What one block contributes to a run."""

    summaries: dict[str, SeriesSummary]
    events: int
    max_abs_error: float
    exhausted: FloatArray  # per layer: years in which the layer was exhausted

    def merge(self, other: BlockResult) -> None:
        for key, summary in self.summaries.items():
            summary.merge(other.summaries[key])
        self.events += other.events
        self.max_abs_error = max(self.max_abs_error, other.max_abs_error)
        self.exhausted += other.exhausted


def allocate_block(
    plan: Plan, seed: int, block: int, first_year: int, n_years: int
) -> tuple[Allocation, float]:
    """Draw and allocate one block of years; check its balance and return the largest error."""
    allocation = allocate(plan, events_of_block(plan, seed, block, first_year, n_years))
    clean_residue(allocation)
    return allocation, check_balance(allocation)


def run_block(
    plan: Plan,
    seed: int,
    block: int,
    first_year: int,
    n_years: int,
    keep: int,
    premiums: FloatArray | None,
) -> BlockResult:
    """Draw, allocate, check and summarise one block of years."""
    allocation, error = allocate_block(plan, seed, block, first_year, n_years)
    return summarise_block(plan, allocation, error, keep, premiums)


def annual_series(
    plan: Plan, allocation: Allocation, premiums: FloatArray | None
) -> dict[str, FloatArray]:
    """Every annual series of one allocated block, keyed as :func:`new_summaries` keys them.

    ``compare`` and ``sweep`` use these to allocate several plans over the same events.
    """
    events = allocation.block
    series = {
        "total": per_year(events, events.loss),
        "oep": annual_max(events, events.loss),
    }
    party_years = [per_year(events, allocation.nets[i]) for i in range(len(plan.parties))]
    for i, annual in enumerate(party_years):
        series[f"party:{i}"] = annual
    for k, member in enumerate(plan.members):
        series[f"member:{k}"] = member.share * party_years[member.consortium]
    for j in range(len(plan.layers)):
        series[f"layer:{j}"] = per_year(events, allocation.payouts[j])
    if premiums is not None:
        reinstated = {j: per_year(events, allocation.reinstated[j]) for j in charged_layers(plan)}
        flows, rates = premium_flows(plan, premiums), reinstatement_rates(plan, premiums)
        series |= cost_series(plan, party_years, reinstated, flows, rates)
    return series


def summarise_block(
    plan: Plan,
    allocation: Allocation,
    error: float,
    keep: int,
    premiums: FloatArray | None,
) -> BlockResult:
    """Summarise one allocated and checked block: the plain path, which the tests hold
    the streamed runs equal to."""
    series = annual_series(plan, allocation, premiums)
    summaries = new_summaries(plan, keep, premiums is not None)
    for key, summary in summaries.items():
        summary.add(series[key])
    return BlockResult(summaries, len(allocation.block), error, _exhausted(plan, allocation))


def _exhausted(plan: Plan, allocation: Allocation) -> FloatArray:
    counts = np.zeros(len(plan.layers))
    for j, layer in enumerate(plan.layers):
        if math.isfinite(layer.aggregate_limit):
            counts[j] = np.count_nonzero(allocation.year_end_aggregate[j] >= layer.aggregate_limit)
        elif math.isfinite(layer.limit):
            counts[j] = np.count_nonzero(allocation.limit_hit[j])
    return counts


def new_summaries(plan: Plan, keep: int, with_costs: bool) -> dict[str, SeriesSummary]:
    summaries = {"total": SeriesSummary(keep), "oep": SeriesSummary(keep)}
    for i, budget in enumerate(plan.budgets):
        summaries[f"party:{i}"] = SeriesSummary(keep, budget)
    for k in range(len(plan.members)):
        summaries[f"member:{k}"] = SeriesSummary(keep)
    for j in range(len(plan.layers)):
        summaries[f"layer:{j}"] = SeriesSummary(keep)
    if with_costs:
        for i in range(len(plan.parties)):
            summaries[f"cost:{i}"] = SeriesSummary(keep)
        for k in range(len(plan.members)):
            summaries[f"member_cost:{k}"] = SeriesSummary(keep)
    return summaries


def layer_premiums(plan: Plan, seed: int, years: int, *, workers: int = 1) -> FloatArray | None:
    """Each layer's annual premium; a priced (``loading``) premium takes a first pass."""
    if not plan.has_premiums:
        return None
    if plan.needs_loading_pass:
        return loading_premiums(plan, seed, block_spans(years), BALANCE_TOLERANCE, workers)
    return np.array([layer.premium_for(0.0) for layer in plan.layers])


def resolve_workers(workers: int | None, years: int) -> int:
    """The number of worker processes for a run: ``None`` is every core, for long runs."""
    if workers is None:
        return cores() if years >= PARALLEL_MIN_YEARS else 1
    if workers < 1:
        raise RunError(f"workers must be at least 1 (got {workers})")
    return workers


def block_result(streamed: Streamed) -> BlockResult:
    return BlockResult(
        streamed.summaries,
        streamed.events,
        streamed.max_abs_error,
        streamed.exhausted,
    )


def run_header(years: int, seed: int, events: int, seconds: float) -> dict[str, object]:
    """The ``simulation`` entry of every JSON document of a run."""
    return {"years": years, "seed": seed, "events": events, "seconds": seconds}


@dataclass(frozen=True)
class SimulationResult:
    """The figures of a run, as ``simulate --json`` writes them."""

    scenario: Scenario
    years: int
    seed: int
    events: int
    seconds: float
    total: TotalFigures
    parties: Mapping[str, PartyFigures]
    layers: Mapping[str, LayerFigures]
    balance: Balance
    #: The merged summary of each annual series ("total", "oep", "party:0", "layer:2", …),
    #: for figures beyond the JSON such as exceedance curves.
    summaries: dict[str, SeriesSummary] = field(default_factory=dict, compare=False, repr=False)

    def to_dict(self) -> dict[str, object]:
        return {
            "riskshare_version": __version__,
            "scenario": self.scenario.header(),
            "simulation": run_header(self.years, self.seed, self.events, self.seconds),
            "total": self.total.to_dict(),
            "parties": {name: party.to_dict() for name, party in self.parties.items()},
            "layers": {name: layer.to_dict() for name, layer in self.layers.items()},
            "balance": self.balance.to_dict(),
        }


def simulate(
    scenario: Scenario,
    years: int | None = None,
    seed: int | None = None,
    *,
    progress: Progress | None = None,
    workers: int | None = None,
) -> SimulationResult:
    """Run ``scenario`` for ``years`` simulated years (default: the file's) and return its figures.

    ``workers`` processes run the blocks of years (default: one per core for runs of
    at least ``PARALLEL_MIN_YEARS`` years); the figures are the same to the bit for
    any number of them.
    """
    started = time.perf_counter()
    years = scenario.simulation.years if years is None else years
    seed = scenario.simulation.seed if seed is None else seed
    if years < 1:
        raise RunError(f"years must be at least 1 (got {years})")
    plan = compile_plan(scenario)
    keep = tail_size(years)
    (streamed,) = run_plans(
        scenario,
        [plan],
        seed,
        years,
        TAIL_SHARE,
        [partial(new_summaries, plan, keep)],
        workers=workers,
        progress=progress,
    )
    merged = block_result(streamed)
    seconds = round(time.perf_counter() - started, 3)
    return result_of(scenario, plan, merged, streamed.premiums, years, seed, seconds)


def run_plans(
    scenario: Scenario,
    plans: Sequence[Plan],
    seed: int,
    years: int,
    tail_share: float,
    new_summaries: Sequence[Summaries],
    *,
    workers: int | None = None,
    progress: Progress | None = None,
    pairing: tuple[Pairing, Paired] | None = None,
) -> list[Streamed]:
    """Every block of a run of ``years`` years, under each of ``plans`` (``simulate``'s
    one, or ``compare``'s and ``sweep``'s several on ``scenario``'s events), each block
    drawn once; on ``workers`` processes, after a check that the run fits in memory.

    Each series keeps the largest ``tail_share`` of its years (``tail_size``), as the
    summaries ``new_summaries`` make do; ``new_summaries`` and ``pairing`` are
    :func:`riskshare.engine.schedule.stream`'s.
    """
    spans = block_spans(years)
    processes = min(resolve_workers(workers, years), len(spans))
    memory.check(scenario, plans, years, processes, tail_share, paired=pairing is not None)
    return stream(
        plans,
        seed,
        spans,
        tail_size(years, tail_share),
        BALANCE_TOLERANCE,
        new_summaries,
        workers=processes,
        report=None if progress is None else lambda share: progress(round(share * years), years),
        pairing=pairing,
    )


def result_of(
    scenario: Scenario,
    plan: Plan,
    merged: BlockResult,
    premiums: FloatArray | None,
    years: int,
    seed: int,
    seconds: float,
) -> SimulationResult:
    """The :class:`SimulationResult` of a run whose blocks were merged into ``merged``."""
    total, parties, layers = figures_of(scenario, plan, merged, premiums)
    return SimulationResult(
        scenario=scenario,
        years=years,
        seed=seed,
        events=merged.events,
        seconds=seconds,
        total=total,
        parties=parties,
        layers=layers,
        balance=Balance(merged.max_abs_error),
        summaries=merged.summaries,
    )


def assemble(
    scenario: Scenario, plan: Plan, merged: BlockResult, premiums: FloatArray | None
) -> tuple[dict[str, object], dict[str, dict[str, object]], dict[str, dict[str, object]]]:
    """Turn merged summaries into the JSON's ``total``, ``parties`` and ``layers``."""
    total, parties, layers = figures_of(scenario, plan, merged, premiums)
    return (
        total.to_dict(),
        {name: party.to_dict() for name, party in parties.items()},
        {name: layer.to_dict() for name, layer in layers.items()},
    )


def figures_of(
    scenario: Scenario, plan: Plan, merged: BlockResult, premiums: FloatArray | None
) -> tuple[TotalFigures, dict[str, PartyFigures], dict[str, LayerFigures]]:
    """Turn merged summaries into the figures of the total, each party and each layer."""
    s = merged.summaries
    total = TotalFigures.of_total(s["total"], s["oep"])
    with_costs = premiums is not None
    parties = {
        name: _party_entry(scenario, plan, s, i, total.mean, with_costs)
        for i, name in enumerate(plan.parties)
    }
    layers: dict[str, LayerFigures] = {}
    for j, terms in enumerate(plan.layers):
        summary = s[f"layer:{j}"]
        figures, share = _with_share(summary, total.mean)
        has_cap = math.isfinite(terms.aggregate_limit) or math.isfinite(terms.limit)
        pricing = None
        if premiums is not None:
            premium = float(premiums[j]) if terms.premium_form is not None else 0.0
            pricing = LayerPricing(
                premium=premium,
                loss_ratio=summary.mean / premium if premium > 0 else None,
                rate_on_line=premium / terms.limit if math.isfinite(terms.limit) else None,
            )
        layers[terms.name] = LayerFigures(
            party=plan.parties[terms.party],
            from_=scenario.layers[j].from_,
            figures=figures,
            share_of_total=share,
            prob_exhaust=float(merged.exhausted[j]) / summary.n if has_cap else None,
            pricing=pricing,
        )
    return total, parties, layers


def _party_entry(
    scenario: Scenario,
    plan: Plan,
    s: dict[str, SeriesSummary],
    i: int,
    total_mean: float,
    with_costs: bool,
) -> PartyFigures:
    """The figures of party ``i``: its net, budget, cost and members."""
    name = plan.parties[i]
    party = scenario.parties[name]
    figures, share = _with_share(s[f"party:{i}"], total_mean)
    budget = None
    if party.budget is not None:
        budget = Budget(party.budget, OverBudget.of(s[f"party:{i}"]))
    return PartyFigures(
        kind=party.kind,
        label=scenario.party_label(name),
        figures=figures,
        share_of_total=share,
        budget=budget,
        cost=SeriesFigures.of(s[f"cost:{i}"]) if with_costs else None,
        members={
            member.name: _member_entry(s, k, total_mean, with_costs)
            for k, member in enumerate(plan.members)
            if member.consortium == i
        },
    )


def _with_share(summary: SeriesSummary, total_mean: float) -> tuple[SeriesFigures, float | None]:
    """A series' figures, and its mean as a share of the total's."""
    return SeriesFigures.of(summary), share_of(summary.mean, total_mean)


def _member_entry(
    s: dict[str, SeriesSummary], k: int, total_mean: float, with_costs: bool
) -> MemberFigures:
    figures, share = _with_share(s[f"member:{k}"], total_mean)
    cost = SeriesFigures.of(s[f"member_cost:{k}"]) if with_costs else None
    return MemberFigures(figures, share, cost)
