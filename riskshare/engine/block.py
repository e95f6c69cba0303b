"""One block of years as a run needs it: drawn, laid out, allocated, checked, summarised.

The fast path, for the blocks of ``simulate``, ``compare`` and ``sweep``: the events
never leave the rank-major layout of :class:`~riskshare.engine.layout.YearLayout` (a
year's sums are added there event by event in time order, as ``np.bincount`` adds them
in event order, so every annual series is the same to the bit as the plain path's), a
block drawn once is allocated under every plan of a run, the annual series are written
into reused matrices, and a block sends back only what the run merges: each series'
moments and those of its values that can still enter the run's kept tail.

The plain path (:func:`run_block`: :func:`events_of_block`, :func:`allocate_block`,
:func:`summarise_block`) does the same work in event order, a block at a time; the
tests hold the runs equal to it. Both name, check and count their series with
:mod:`riskshare.engine.series`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np

from riskshare.engine.allocation import (
    Allocation,
    LaidOut,
    allocate,
    allocate_laid_out,
    clean_nets,
    shared_layers,
)
from riskshare.engine.events import (
    EventBlock,
    FloatArray,
    IntArray,
    draw_block,
    simulate_block,
    table_block,
)
from riskshare.engine.layout import YearLayout
from riskshare.engine.plan import Plan
from riskshare.engine.premiums import charged_layers, party_costs
from riskshare.engine.series import (
    Floors,
    SeriesKey,
    annual_series,
    block_series,
    check_allocation,
    check_balance,
    clean_residue,
    exhausted,
    new_summaries,
    threshold,
)
from riskshare.engine.shocks import Parts
from riskshare.stats.summary import SeriesSummary


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
    event_sums: bool = True  # sum the priced layers' payouts over events
    no_tail: frozenset[SeriesKey] = frozenset()  # series whose tail the run derives from another
    keys: frozenset[SeriesKey] | None = None  # summarise only these series (None: all)
    keep_series: bool = False  # hand back the block's annual series (paired differences)


@dataclass
class BlockPart:
    """What one block contributes to a run (its costs' part: no events, only summaries)."""

    events: int
    max_abs_error: float
    exhausted: FloatArray  # per layer: years in which the layer was exhausted
    event_sums: FloatArray  # per layer: the sum of its payouts over events, in event order
    summaries: dict[SeriesKey, SeriesSummary] = field(default_factory=dict)
    cost_inputs: FloatArray | None = None  # (parties + charged layers, years): nets, reinstated
    series: dict[SeriesKey, FloatArray] | None = None  # the annual series, where kept
    shared_events: int = 0  # format 1.2: occurrences that struck more than one bearer

    @classmethod
    def empty(cls, n_layers: int, events: int = 0) -> BlockPart:
        return cls(events, 0.0, np.zeros(n_layers), np.zeros(n_layers))


def summary_of(
    values: FloatArray, keep: int, *, threshold: float | None, tail: bool, above: float | None
) -> SeriesSummary:
    """One block's summary of an annual series, ready to send: its moments, and its values
    above ``above`` for the kept tail (none where ``tail`` is False: a derived tail)."""
    summary = SeriesSummary(keep, threshold)
    summary.add(values, tail=tail, above=above)
    summary.pack()
    return summary


def run_parts(
    plans: Sequence[Plan],
    jobs: Sequence[BlockJob],
    index: int,
    first_year: int,
    n_years: int,
    floors: Sequence[Floors],
) -> list[BlockPart]:
    """Block ``index`` of a run under each of ``plans``, its events drawn once.

    The plans must draw the same events (:mod:`riskshare.runs.same_events` checks it).
    The block is drawn whole (its random stream is), then put in time order and laid
    out in chunks of :data:`CHUNK_YEARS` years, small enough for a chunk's arrays to
    stay in a core's cache: the same figures to the bit, since every step is one
    year's or one event's. Under one plan each chunk is allocated as soon as it is laid
    out; under several, the chunks are laid out once and allocated under each plan in
    turn, each plan copying from the one before it the payouts of the layers they
    share (:func:`~riskshare.engine.allocation.shared_layers`): a sweep of the top of a tower
    recomputes only what the swept value changes.
    """
    events = _BlockEvents(plans[0], jobs[0].seed, index, first_year, n_years)
    if len(plans) == 1:
        return [
            _allocate_part(
                plans[0], jobs[0], first_year, n_years, events.n, events.chunks(), floors[0]
            )
        ]
    chunks = list(events.chunks())
    # what each plan shares with the plan before it; a plan's allocation of each chunk
    # is kept only where the next plan shares some of it
    shared = [()] + [
        shared_layers(plans[i], plans[i - 1], jobs[i - 1].layers) for i in range(1, len(plans))
    ]
    parts: list[BlockPart] = []
    previous: list[LaidOut] = []
    for i, (plan, job, floor) in enumerate(zip(plans, jobs, floors, strict=True)):
        kept: list[LaidOut] | None = [] if i + 1 < len(plans) and any(shared[i + 1]) else None
        reuse = (previous, shared[i]) if any(shared[i]) else None
        parts.append(
            _allocate_part(plan, job, first_year, n_years, events.n, chunks, floor, reuse, kept)
        )
        previous = kept or []
    return parts


def _allocate_part(
    plan: Plan,
    job: BlockJob,
    first_year: int,
    n_years: int,
    n_events: int,
    chunks: Iterable[_Chunk],
    floors: Floors,
    reuse: tuple[list[LaidOut], tuple[bool, ...]] | None = None,
    kept: list[LaidOut] | None = None,
) -> BlockPart:
    """One plan's share of a block; ``reuse``: another plan's allocation of each chunk
    and which of its layers this plan shares; ``kept`` collects this plan's."""
    part = BlockPart.empty(len(plan.layers), n_events)
    sums = _EventSums(plan, job, n_events)
    rows = _Rows(plan, charged_layers(plan), n_years, job.keys) if job.summaries else None
    for number, chunk in enumerate(chunks):
        laid = allocate_laid_out(
            plan,
            chunk.layout,
            chunk.loss,
            chunk.source,
            parts=chunk.parts,
            layers=job.layers,
            reuse=reuse[0][number] if reuse is not None else None,
            shared=reuse[1] if reuse is not None else (),
        )
        if kept is not None:
            kept.append(laid)
        if rows is not None:  # a pass for the premiums only sums payouts
            settle(plan, laid, first_year + chunk.start, job.tolerance, part)
            if chunk.parts is not None:
                part.shared_events += chunk.parts.resolved(plan.bearer).shared_events()
            rows.add(laid, chunk.start, chunk.stop)
        sums.add(laid, chunk.offset)
    sums.into(part.event_sums)
    if rows is not None:
        _summarise(plan, job, rows, part, floors)
    return part


class _EventSums:
    """The sum over a block's events of each priced (``loading``) layer's payouts, taken
    in event order (as a run's premiums are defined) from chunks in layout order."""

    def __init__(self, plan: Plan, job: BlockJob, n_events: int) -> None:
        computed = len(plan.layers) if job.layers is None else job.layers
        self.priced = [
            j
            for j in range(computed)
            if job.event_sums and plan.layers[j].premium_form == "loading"
        ]
        self.in_event_order = np.empty((len(self.priced), n_events))

    def add(self, laid: LaidOut, offset: int) -> None:
        """A chunk's payouts, whose first event is event ``offset`` of the block."""
        for row, j in enumerate(self.priced):
            self.in_event_order[row, offset + laid.layout.perm] = laid.payouts[j]

    def into(self, event_sums: FloatArray) -> None:
        for row, j in enumerate(self.priced):
            event_sums[j] = self.in_event_order[row].sum()


#: Years laid out and allocated at a time: about 20,000 events of the bundled
#: scenario, whose arrays (160 kB each) stay in a core's cache.
CHUNK_YEARS = 10_000


@dataclass(frozen=True)
class _Chunk:
    """Years ``start`` to ``stop`` of a block: their layout, their losses and sources
    in it, and where in the block's time order their first event is."""

    start: int
    stop: int
    layout: YearLayout
    loss: FloatArray
    source: IntArray
    offset: int
    parts: Parts | None = None  # format 1.2: the events' parts, in the layout's order


class _BlockEvents:
    """A block's events, handed out chunk by chunk in a :class:`YearLayout`."""

    def __init__(self, plan: Plan, seed: int, index: int, first_year: int, n_years: int) -> None:
        self.n_years = n_years
        self.table: EventBlock | None = None
        if plan.table is not None and plan.table_sources is not None:
            self.table = table_block(plan.table, plan.table_sources, first_year, n_years)
            self.n = len(self.table)
            if self.table.parts is not None:
                self.table_starts = self.table.parts.starts(self.n)
        else:
            self.draws = draw_block(list(plan.samplers), seed, index, n_years)
            self.n = len(self.draws.loss)
            self.before = np.concatenate(([0], np.cumsum(self.draws.counts)))

    def chunks(self) -> Iterator[_Chunk]:
        for start in range(0, self.n_years, CHUNK_YEARS):
            yield self.chunk(start, min(start + CHUNK_YEARS, self.n_years))

    def chunk(self, start: int, stop: int) -> _Chunk:
        if self.table is not None:
            year = self.table.year
            first, last = (int(i) for i in np.searchsorted(year, [start, stop]))
            layout = YearLayout(year[first:last] - start, stop - start)
            picked = layout.perm + first
            table_parts = self.table.parts
            return _Chunk(
                start,
                stop,
                layout,
                self.table.loss[picked],
                self.table.source[picked],
                first,
                table_parts.pick(self.table_starts, picked) if table_parts is not None else None,
            )
        layout = YearLayout(None, stop - start, self.draws.counts[start:stop])
        drawn = self.draws.chunk_order(start, stop)[layout.perm]
        return _Chunk(
            start,
            stop,
            layout,
            self.draws.loss[drawn],
            self.draws.source[drawn],
            int(self.before[start]),
            self.draws.pick_parts(drawn),
        )


class _Rows:
    """A block's annual series, filled in chunk by chunk (only those a run reads)."""

    def __init__(
        self, plan: Plan, charged: list[int], n_years: int, keys: frozenset[SeriesKey] | None
    ) -> None:
        def wanted(kind: str) -> bool:
            return keys is None or any(key.kind == kind for key in keys)

        self.plan, self.charged = plan, charged
        self.total = np.empty(n_years) if wanted("total") else None
        self.oep = np.empty(n_years) if wanted("oep") else None
        self.parties = np.empty((len(plan.parties), n_years))
        self.layers = np.empty((len(plan.layers), n_years)) if wanted("layer") else None
        self.reinstated = np.empty((len(charged), n_years))

    def add(self, laid: LaidOut, start: int, stop: int) -> None:
        """Sum a chunk's events year by year; every row of a matrix at once, each year's
        sum added event by event in time order."""
        layout = laid.layout

        def spread(values: FloatArray, out: FloatArray) -> None:
            layout.to_years(layout.year_sums(values), out[..., start:stop])

        if self.total is not None:
            spread(laid.loss, self.total)
        if self.oep is not None:
            layout.to_years(layout.year_max(laid.loss), self.oep[start:stop])
        spread(laid.nets, self.parties)
        if self.layers is not None:
            spread(laid.payouts, self.layers)
        if self.charged:
            spread(laid.reinstated[self.charged], self.reinstated)


def settle(plan: Plan, laid: LaidOut, first_year: int, tolerance: float, part: BlockPart) -> None:
    """Clean a chunk's nets of residue, check its balance event by event and count the
    layers it exhausted, into ``part``."""
    clean_nets(laid.nets, laid.loss)
    layout = laid.layout

    def year_of(event: int) -> int:
        return first_year + int(layout.years[layout.year_of[event]]) + 1

    error = check_balance(laid.loss, laid.nets, tolerance, year_of)
    part.max_abs_error = max(part.max_abs_error, error)
    idle = layout.n_years - len(layout.years)  # years without events
    part.exhausted += exhausted(plan, laid.year_end_aggregate, laid.limit_hit, idle)


def _summarise(plan: Plan, job: BlockJob, rows: _Rows, part: BlockPart, floors: Floors) -> None:
    party_years = list(rows.parties)
    if job.cost_inputs:
        part.cost_inputs = np.concatenate((rows.parties, rows.reinstated))
    costs = None
    if job.flows is not None and job.rates is not None:
        reinstated_years = dict(zip(rows.charged, rows.reinstated, strict=True))
        costs = party_costs(plan, party_years, reinstated_years, job.flows, job.rates)
    series = block_series(
        plan, party_years, total=rows.total, oep=rows.oep, layers=rows.layers, costs=costs
    )
    if job.keep_series:
        part.series = series
    for key, values in series.items():
        if job.keys is None or key in job.keys:
            part.summaries[key] = summary_of(
                values,
                job.keep,
                threshold=threshold(plan, key),
                tail=key not in job.no_tail,
                above=floors(key),
            )


# --- the plain path: a block at a time, in event order ----------------------------------


@dataclass
class BlockResult:
    """What one block contributes to a run, on the plain path; blocks merged in order."""

    summaries: dict[SeriesKey, SeriesSummary]
    events: int
    max_abs_error: float
    exhausted: FloatArray  # per layer: years in which the layer was exhausted
    shared_events: int = 0  # format 1.2: occurrences that struck more than one bearer

    def merge(self, other: BlockResult) -> None:
        for key, summary in self.summaries.items():
            summary.merge(other.summaries[key])
        self.events += other.events
        self.shared_events += other.shared_events
        self.max_abs_error = max(self.max_abs_error, other.max_abs_error)
        self.exhausted += other.exhausted


def events_of_block(plan: Plan, seed: int, block: int, first_year: int, n_years: int) -> EventBlock:
    """The events of one block, drawn or read from the events file."""
    if plan.table is not None and plan.table_sources is not None:
        return table_block(plan.table, plan.table_sources, first_year, n_years)
    return simulate_block(list(plan.samplers), seed, block, first_year, n_years)


def allocate_block(
    plan: Plan, seed: int, block: int, first_year: int, n_years: int, tolerance: float
) -> tuple[Allocation, float]:
    """Draw and allocate one block of years; check its balance and return the largest error."""
    allocation = allocate(plan, events_of_block(plan, seed, block, first_year, n_years))
    clean_residue(allocation)
    return allocation, check_allocation(allocation, tolerance)


def run_block(
    plan: Plan,
    seed: int,
    block: int,
    first_year: int,
    n_years: int,
    keep: int,
    premiums: FloatArray | None,
    *,
    tolerance: float,
) -> BlockResult:
    """Draw, allocate, check and summarise one block of years."""
    allocation, error = allocate_block(plan, seed, block, first_year, n_years, tolerance)
    return summarise_block(plan, allocation, error, keep, premiums)


def summarise_block(
    plan: Plan,
    allocation: Allocation,
    error: float,
    keep: int,
    premiums: FloatArray | None,
) -> BlockResult:
    """Summarise one allocated and checked block."""
    series = annual_series(plan, allocation, premiums)
    summaries = new_summaries(plan, keep, premiums is not None)
    for key, summary in summaries.items():
        summary.add(series[key])
    counts = exhausted(plan, allocation.year_end_aggregate, allocation.limit_hit)
    parts = allocation.block.parts
    shared = parts.resolved(plan.bearer).shared_events() if parts is not None else 0
    return BlockResult(summaries, len(allocation.block), error, counts, shared)
