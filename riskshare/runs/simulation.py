"""Running a scenario: blocks of years through the core, checked, summarised and merged."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial

import numpy as np

from riskshare._version import __version__
from riskshare.engine import memory
from riskshare.engine.block import BlockResult
from riskshare.engine.events import BLOCK_YEARS, FloatArray, block_spans
from riskshare.engine.passes import Paired, Pairing, Streamed
from riskshare.engine.plan import Plan, compile_plan
from riskshare.engine.premiums import PremiumSplit, premium_split, premiums_for
from riskshare.engine.schedule import Summaries, loading_premiums, stream
from riskshare.engine.series import SeriesKey, new_summaries, outlay_key
from riskshare.engine.workers import cores
from riskshare.errors import RunError
from riskshare.model.finite import check_figures
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
from riskshare.stats.summary import RETURN_PERIOD_TAIL_SHARE, SeriesSummary, share_of, tail_size

Progress = Callable[[int, int], None]

#: Largest imbalance, relative to the event's loss, that a run accepts.
BALANCE_TOLERANCE = 1e-9
#: Shortest run that uses every core unless told otherwise: shorter ones gain less
#: than starting the workers costs.
PARALLEL_MIN_YEARS = 200_000


def layer_premiums(plan: Plan, seed: int, years: int, *, workers: int = 1) -> FloatArray | None:
    """Each layer's annual premium; a priced (``loading``) premium takes a first pass."""
    if not plan.has_premiums:
        return None
    if plan.needs_loading_pass:
        return loading_premiums(plan, seed, block_spans(years), BALANCE_TOLERANCE, workers)
    return premiums_for(plan, np.zeros(len(plan.layers)))


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
    #: The merged summary of each annual series (``SeriesKey.total()``, ``SeriesKey.party(0)``,
    #: …), for figures beyond the JSON such as exceedance curves.
    summaries: dict[SeriesKey, SeriesSummary] = field(
        default_factory=dict, compare=False, repr=False
    )
    #: Per party: premiums paid, received and subsidised, as the run charged them.
    premium_split: PremiumSplit = field(
        default_factory=lambda: PremiumSplit({}, {}, {}), compare=False, repr=False
    )

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
        RETURN_PERIOD_TAIL_SHARE,
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
    resolved = resolve_workers(workers, years)
    # before anything the size of the run is built, its list of blocks included
    blocks = -(-years // BLOCK_YEARS)
    need = partial(
        memory.estimate, scenario, plans, tail_share=tail_share, paired=pairing is not None
    )
    memory.check(need, years, min(resolved, blocks), len(plans))
    spans = block_spans(years)
    processes = min(resolved, len(spans))
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
    result = SimulationResult(
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
        premium_split=premium_split(plan, premiums),
    )
    check_figures(result.to_dict(), "the run")
    return result


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
    total = TotalFigures.of_total(s[SeriesKey.total()], s[SeriesKey.oep()])
    with_costs = premiums is not None
    parties = {
        name: _party_entry(scenario, plan, s, i, total.mean, with_costs)
        for i, name in enumerate(plan.parties)
    }
    layers: dict[str, LayerFigures] = {}
    for j, terms in enumerate(plan.layers):
        summary = s[SeriesKey.layer(j)]
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
    s: dict[SeriesKey, SeriesSummary],
    i: int,
    total_mean: float,
    with_costs: bool,
) -> PartyFigures:
    """The figures of party ``i``: its net, budget, cost and members."""
    name = plan.parties[i]
    party = scenario.parties[name]
    figures, share = _with_share(s[SeriesKey.party(i)], total_mean)
    budget = None
    if party.budget is not None:
        budget = Budget(party.budget, OverBudget.of(s[outlay_key(plan, i)]))
    credit = credit_figures(plan, s, i)
    return PartyFigures(
        kind=party.kind,
        label=scenario.party_label(name),
        figures=figures,
        share_of_total=share,
        budget=budget,
        cost=SeriesFigures.of(s[SeriesKey.cost(i)]) if with_costs else None,
        members={
            member.name: _member_entry(plan, s, k, total_mean, with_costs)
            for k, member in enumerate(plan.members)
            if member.consortium == i
        },
        prob_default=credit.get("prob_default"),
        unrecovered=credit.get("unrecovered"),
    )


def _with_share(summary: SeriesSummary, total_mean: float) -> tuple[SeriesFigures, float | None]:
    """A series' figures, and its mean as a share of the total's."""
    return SeriesFigures.of(summary), share_of(summary.mean, total_mean)


def credit_figures(
    plan: Plan, s: dict[SeriesKey, SeriesSummary], party: int, member: int = -1
) -> dict[str, float]:
    """``prob_default`` of a party (or ``member``) with a ``default``, and, where any
    party may default, a party's ``unrecovered``: the mean annual amount that defaulting
    parties left unpaid on its cessions."""
    figures: dict[str, float] = {}
    for d, defaulter in enumerate(plan.defaulters):
        if defaulter.member == member and (member >= 0 or defaulter.party == party):
            figures["prob_default"] = s[SeriesKey.default(d)].mean
    if plan.has_defaults and member < 0:
        figures["unrecovered"] = s[SeriesKey.unrecovered(party)].mean
    return figures


def _member_entry(
    plan: Plan, s: dict[SeriesKey, SeriesSummary], k: int, total_mean: float, with_costs: bool
) -> MemberFigures:
    figures, share = _with_share(s[SeriesKey.member(k)], total_mean)
    cost = SeriesFigures.of(s[SeriesKey.member_cost(k)]) if with_costs else None
    credit = credit_figures(plan, s, plan.members[k].consortium, k)
    return MemberFigures(figures, share, cost, prob_default=credit.get("prob_default"))
