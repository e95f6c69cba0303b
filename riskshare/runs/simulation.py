"""Running a scenario: blocks of years through the core, checked, summarised and merged."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial

import numpy as np

from riskshare._version import __version__
from riskshare.engine import memory
from riskshare.engine.block import BlockResult
from riskshare.engine.events import FloatArray, block_spans
from riskshare.engine.passes import Paired, Pairing, Streamed
from riskshare.engine.plan import Plan, compile_plan
from riskshare.engine.premiums import PremiumSplit, premium_split, premiums_for
from riskshare.engine.schedule import Summaries, loading_premiums, stream
from riskshare.engine.series import SeriesKey, new_summaries
from riskshare.engine.workers import cores
from riskshare.errors import RunError
from riskshare.model.scenario import Scenario
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
        streamed.shared_events,
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
    total: dict[str, object]
    parties: dict[str, dict[str, object]]
    layers: dict[str, dict[str, object]]
    balance: dict[str, float]
    #: The merged summary of each annual series (``SeriesKey.total()``, ``SeriesKey.party(0)``,
    #: …), for figures beyond the JSON such as exceedance curves.
    summaries: dict[SeriesKey, SeriesSummary] = field(
        default_factory=dict, compare=False, repr=False
    )
    #: Per party: premiums paid, received and subsidised, as the run charged them.
    premium_split: PremiumSplit = field(
        default_factory=lambda: PremiumSplit({}, {}, {}), compare=False, repr=False
    )
    #: Format 1.2: the occurrences that struck more than one bearer (None: none can).
    shared_events: int | None = None

    def to_dict(self) -> dict[str, object]:
        header = run_header(self.years, self.seed, self.events, self.seconds)
        if self.shared_events is not None:
            header["shared_events"] = self.shared_events
        return {
            "riskshare_version": __version__,
            "scenario": self.scenario.header(),
            "simulation": header,
            "total": self.total,
            "parties": self.parties,
            "layers": self.layers,
            "balance": self.balance,
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
    spans = block_spans(years)
    processes = min(resolve_workers(workers, years), len(spans))
    need = partial(
        memory.estimate, scenario, plans, tail_share=tail_share, paired=pairing is not None
    )
    memory.check(need, years, processes, len(plans))
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
    total, parties, layers = assemble(scenario, plan, merged, premiums)
    return SimulationResult(
        scenario=scenario,
        years=years,
        seed=seed,
        events=merged.events,
        shared_events=merged.shared_events if plan.has_parts else None,
        seconds=seconds,
        total=total,
        parties=parties,
        layers=layers,
        balance={"max_abs_error": merged.max_abs_error},
        summaries=merged.summaries,
        premium_split=premium_split(plan, premiums),
    )


def assemble(
    scenario: Scenario, plan: Plan, merged: BlockResult, premiums: FloatArray | None
) -> tuple[dict[str, object], dict[str, dict[str, object]], dict[str, dict[str, object]]]:
    """Turn merged summaries into the JSON's ``total``, ``parties`` and ``layers``."""
    s = merged.summaries
    total = s[SeriesKey.total()].figures()
    total["oep_return_periods"] = s[SeriesKey.oep()].return_periods()
    total_mean = float(total["mean"])  # type: ignore[arg-type]
    parties: dict[str, dict[str, object]] = {}
    for i, name in enumerate(plan.parties):
        party = scenario.parties[name]
        entry: dict[str, object] = {"kind": party.kind.value, "label": scenario.party_label(name)}
        entry.update(_with_share(s[SeriesKey.party(i)], total_mean))
        if party.budget is not None:
            entry["budget"] = party.budget
            entry.update(s[SeriesKey.party(i)].budget_figures())
        if premiums is not None:
            entry["cost"] = s[SeriesKey.cost(i)].figures()
        members = {
            member.name: _member_entry(s, k, total_mean, premiums is not None)
            for k, member in enumerate(plan.members)
            if member.consortium == i
        }
        if members:
            entry["members"] = members
        parties[name] = entry
    layers: dict[str, dict[str, object]] = {}
    for j, terms in enumerate(plan.layers):
        summary = s[SeriesKey.layer(j)]
        entry = {"party": plan.parties[terms.party], "from": scenario.layers[j].from_}
        entry.update(_with_share(summary, total_mean))
        entry["prob_attach"] = entry["prob_positive"]
        has_cap = math.isfinite(terms.aggregate_limit) or math.isfinite(terms.limit)
        entry["prob_exhaust"] = float(merged.exhausted[j]) / summary.n if has_cap else None
        if premiums is not None:
            premium = float(premiums[j]) if terms.premium_form is not None else 0.0
            entry["premium"] = premium
            entry["loss_ratio"] = summary.mean / premium if premium > 0 else None
            entry["rate_on_line"] = premium / terms.limit if math.isfinite(terms.limit) else None
        layers[terms.name] = entry
    return total, parties, layers


def _with_share(summary: SeriesSummary, total_mean: float) -> dict[str, object]:
    figures = summary.figures()
    figures["share_of_total"] = share_of(summary.mean, total_mean)
    return figures


def _member_entry(
    s: dict[SeriesKey, SeriesSummary], k: int, total_mean: float, with_costs: bool
) -> dict[str, object]:
    entry = _with_share(s[SeriesKey.member(k)], total_mean)
    if with_costs:
        entry["cost"] = s[SeriesKey.member_cost(k)].figures()
    return entry
