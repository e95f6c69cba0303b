"""Simulated events: frequency and severity sampling into arrays, block by block.

A run is cut into blocks of :data:`BLOCK_YEARS` whole years. Block ``b`` draws from
its own stream, ``SeedSequence(seed, spawn_key=(b,))``, so any block can be produced
on its own, in any order or process, and a run's numbers do not depend on how its
blocks are scheduled. Within a block the sources are drawn one after another:
counts per year, then losses, then each event's time within its year.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from riskshare.engine.shocks import HitSampler, Parts, draw_hits, grouped_rows, row_leaders
from riskshare.model.distributions import CountSampler, LossSampler
from riskshare.model.scenario import EventTable

BLOCK_YEARS = 100_000

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class EventBlock:
    """The events of ``n_years`` consecutive years, in the order they are applied.

    ``year`` is the year within the block (0-based, non-decreasing), ``source`` the
    index of each event's source, ``loss`` its ground-up loss.
    """

    first_year: int
    n_years: int
    year: IntArray
    source: IntArray
    loss: FloatArray
    parts: Parts | None = None  # format 1.2: the occurrences' parts, where some have several

    def __len__(self) -> int:
        return len(self.loss)


# --- blocks ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SourceSampler:
    """A source's samplers, as its forms declare them (:mod:`riskshare.model.distributions`)."""

    frequency: CountSampler
    severity: LossSampler | None
    hits: tuple[HitSampler, ...] | None = None  # format 1.2: in place of ``severity``


def block_spans(years: int, block_years: int = BLOCK_YEARS) -> list[tuple[int, int]]:
    """(first year, number of years) of each block of a run of ``years`` years."""
    return [(start, min(block_years, years - start)) for start in range(0, years, block_years)]


def block_rng(seed: int, block: int) -> np.random.Generator:
    """The random stream of block ``block`` of a run with seed ``seed``."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(block,))))


@dataclass(frozen=True)
class Draws:
    """A block's draws, source after source, before they are put in time order.

    ``key`` is each event's year plus its time within the year; ``counts`` the number
    of events of each year, all sources together; ``offsets[s, y]`` the index of the
    first draw of source ``s`` in year ``y`` (each source's draws are in year order).
    """

    n_years: int
    counts: IntArray
    offsets: IntArray  # (sources, years + 1)
    year: IntArray
    source: IntArray
    loss: FloatArray
    key: FloatArray
    parts: Parts | None = None  # by draw, where some source has hits
    part_starts: IntArray | None = None  # each draw's first part

    def time_order(self) -> npt.NDArray[np.intp]:
        """The draws' indices in the order the events are applied (stable on ties)."""
        return np.argsort(self.key, kind="stable")

    def pick_parts(self, drawn: npt.NDArray[np.intp]) -> Parts | None:
        """The parts of the draws ``drawn``, renumbered to their positions in it."""
        if self.parts is None or self.part_starts is None:
            return None
        return self.parts.pick(self.part_starts, drawn)

    def chunk_order(self, start: int, stop: int) -> npt.NDArray[np.intp]:
        """The indices of the draws of years ``start`` to ``stop`` in the order applied.

        The same order as :meth:`time_order`'s for those years: a stable sort of the
        same keys, taken in the same order.
        """
        pieces = [np.arange(row[start], row[stop]) for row in self.offsets]
        if not pieces:
            return np.zeros(0, dtype=np.intp)
        drawn = np.concatenate(pieces) if len(pieces) > 1 else pieces[0]
        return drawn[np.argsort(self.key[drawn], kind="stable")]


def draw_block(samplers: list[SourceSampler], seed: int, block: int, n_years: int) -> Draws:
    """Draw the events of one block: for each source its counts, losses, then times."""
    rng = block_rng(seed, block)
    counts = np.zeros(n_years, dtype=np.int64)
    offsets = np.zeros((len(samplers), n_years + 1), dtype=np.int64)
    years: list[IntArray] = []
    losses: list[FloatArray] = []
    sources: list[IntArray] = []
    keys: list[FloatArray] = []
    every_year = np.arange(n_years, dtype=np.int64)
    drawn = 0
    with_hits = any(sampler.hits is not None for sampler in samplers)
    parts: list[Parts] = []
    for index, sampler in enumerate(samplers):
        source_counts = sampler.frequency(rng, n_years)
        counts += source_counts
        np.cumsum(source_counts, out=offsets[index, 1:])
        offsets[index] += drawn
        total = int(source_counts.sum())
        drawn += total
        year = np.repeat(every_year, source_counts)
        if sampler.hits is not None:
            loss, hit_parts = draw_hits(rng, sampler.hits, index, total, drawn - total)
            losses.append(loss)
            parts.append(hit_parts)
        else:
            assert sampler.severity is not None
            losses.append(sampler.severity(rng, total))
            if with_hits:
                source_of = np.full(total, index, dtype=np.int64)
                parts.append(Parts.single(losses[-1], source_of, drawn - total))
        keys.append(np.add(year, rng.random(total)))
        years.append(year)
        sources.append(np.full(total, index, dtype=np.int64))
    if not samplers:
        empty = np.zeros(0)
        none = empty.astype(np.int64)
        return Draws(n_years, counts, offsets, none, none, empty, empty)
    all_parts = Parts.concat(parts) if with_hits else None
    return Draws(
        n_years=n_years,
        counts=counts,
        offsets=offsets,
        year=np.concatenate(years),
        source=np.concatenate(sources),
        loss=np.concatenate(losses),
        key=np.concatenate(keys),
        parts=all_parts,
        part_starts=all_parts.starts(drawn) if all_parts is not None else None,
    )


def simulate_block(
    samplers: list[SourceSampler], seed: int, block: int, first_year: int, n_years: int
) -> EventBlock:
    """Draw the events of one block, every source's events merged in time order."""
    draws = draw_block(samplers, seed, block, n_years)
    order = draws.time_order()
    return EventBlock(
        first_year=first_year,
        n_years=n_years,
        year=draws.year[order],
        source=draws.source[order],
        loss=draws.loss[order],
        parts=draws.pick_parts(order),
    )


def table_block(
    table: EventTable, source_codes: IntArray, first_year: int, n_years: int
) -> EventBlock:
    """The events of an ``events_file`` that fall in one block, in the order to apply them.

    ``source_codes`` gives each row's source index. Within a year, events are applied
    by their ``time`` where the file has one, and in file order where it does not.
    """
    year0 = table.year - 1 - first_year
    inside = np.flatnonzero((year0 >= 0) & (year0 < n_years))
    if table.event is not None:  # format 1.2: rows of one occurrence
        leaders = row_leaders(table.year, table.event)
        rows = inside
        inside = inside[leaders[inside] == inside]
    year = year0[inside]
    if table.time is not None:
        order = np.lexsort((table.time[inside], year))
    else:
        order = np.argsort(year, kind="stable")
    picked = inside[order]
    if table.event is not None:
        loss, parts = grouped_rows(leaders, rows, picked, source_codes, table.loss)
        return EventBlock(
            first_year=first_year,
            n_years=n_years,
            year=year[order].astype(np.int64),
            source=source_codes[picked],
            loss=loss,
            parts=parts,
        )
    return EventBlock(
        first_year=first_year,
        n_years=n_years,
        year=year[order].astype(np.int64),
        source=source_codes[picked],
        loss=table.loss[picked].astype(np.float64),
    )


def given_block(losses: list[float], source: int) -> EventBlock:
    """One year in which ``losses`` happen in the order given (for ``explain``)."""
    n = len(losses)
    return EventBlock(
        first_year=0,
        n_years=1,
        year=np.zeros(n, dtype=np.int64),
        source=np.full(n, source, dtype=np.int64),
        loss=np.asarray(losses, dtype=np.float64),
    )
