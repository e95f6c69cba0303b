"""The allocation core: every layer's terms applied to all events of a block at once.

For each layer, in the order written, over arrays holding every event of the block:

1. the subject s (ground-up losses, one source's losses, a layer's payouts, or a
   party's current net);
2. occurrence o = min(max(s − attachment, 0), limit), zero below the franchise;
3. aggregate C = o cumulated within each year (a cumulative sum restarted at each
   year's first event), A = min(max(C − aggregate attachment, 0), aggregate limit),
   a = A − A_previous;
4. payout p = share × a, added to the layer's party and taken from the subject's owner.

There is no loop over events or years: only over layers. Nothing here reads files or
prints.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from riskshare.events import EventBlock, FloatArray, IntArray
from riskshare.plan import LayerTerms, Plan


#: Relative size, against the event's loss, below which an amount is floating-point
#: residue of an amount fully ceded, and counts as zero.
RESIDUE = 1e-12


@dataclass(frozen=True)
class LayerTrace:
    """A layer's working for each event, kept for ``explain``."""

    subject: FloatArray
    occurrence: FloatArray
    aggregate_before: FloatArray  # A_{i-1}
    aggregate_after: FloatArray  # A_i


@dataclass(frozen=True)
class Allocation:
    """Who absorbs what, event by event, for one block."""

    block: EventBlock
    payouts: FloatArray  # (layers, events): p_i of each layer
    nets: FloatArray  # (parties, events): each party's net absorbed amount
    reinstated: FloatArray  # (layers, events): R_i, the payout reinstated (at 100%)
    year_end_aggregate: FloatArray  # (layers, years): A at the year's last event
    limit_hit: FloatArray  # (layers, years): 1 where some event reached the per-event limit
    traces: tuple[LayerTrace, ...] | None


class YearIndex:
    """Where each year's events start, to restart cumulative sums at year boundaries."""

    def __init__(self, year: IntArray, n_years: int) -> None:
        n = len(year)
        self.year = year
        self.n_years = n_years
        boundary = np.empty(n, dtype=bool)
        if n:
            boundary[0] = True
            np.not_equal(year[1:], year[:-1], out=boundary[1:])
        self.first = boundary  # True at each year's first event
        self.starts = np.flatnonzero(boundary)
        self.lengths = np.diff(np.append(self.starts, n))
        self.last = np.append(self.starts[1:] - 1, n - 1) if n else self.starts
        self.years_with_events = year[self.starts] if n else self.starts

    def within_year_cumsum(self, values: FloatArray) -> FloatArray:
        """Cumulative sum of ``values`` restarted at each year's first event."""
        total = np.cumsum(values)
        if len(total) == 0:
            return total
        before = np.concatenate(([0.0], total[self.starts[1:] - 1]))
        total -= np.repeat(before, self.lengths)
        return total

    def previous(self, values: FloatArray) -> FloatArray:
        """``values`` shifted one event later within each year; zero at a year's first event."""
        shifted = np.empty_like(values)
        if len(values):
            shifted[0] = 0.0
            shifted[1:] = values[:-1]
            shifted[self.first] = 0.0
        return shifted

    def per_year_last(self, values: FloatArray) -> FloatArray:
        """The value at each year's last event (zero in years without events)."""
        out = np.zeros(self.n_years)
        if len(values):
            out[self.years_with_events] = values[self.last]
        return out

    def per_year_any(self, flags: npt.NDArray[np.bool_]) -> FloatArray:
        """1 in each year where some event's flag is set, else 0."""
        out = np.zeros(self.n_years)
        if len(flags):
            hits = np.logical_or.reduceat(flags, self.starts)
            out[self.years_with_events] = hits
        return out


def allocate(plan: Plan, block: EventBlock, *, trace: bool = False) -> Allocation:
    """Apply every layer of ``plan`` to the events of ``block``."""
    n = len(block)
    n_layers, n_parties = len(plan.layers), len(plan.parties)
    years = YearIndex(block.year, block.n_years)
    event_bearer = plan.bearer[block.source] if n else np.zeros(0, dtype=np.int64)
    single_bearer = int(event_bearer[0]) if n and np.all(event_bearer == event_bearer[0]) else -1
    columns = np.arange(n)

    nets = np.zeros((n_parties, n))
    if single_bearer >= 0:
        nets[single_bearer] = block.loss
    else:
        nets[event_bearer, columns] = block.loss
    payouts = np.zeros((n_layers, n))
    reinstated = np.zeros((n_layers, n))
    year_end = np.zeros((n_layers, block.n_years))
    limit_hit = np.zeros((n_layers, block.n_years))
    traces: list[LayerTrace] = []

    for j, layer in enumerate(plan.layers):
        subject = _subject(layer, block, payouts, nets)
        occurrence = _occurrence(layer, subject)
        if layer.has_aggregate or layer.reinstatements is not None:
            cumulative = years.within_year_cumsum(occurrence)
            after = _clip(cumulative - layer.aggregate_attachment, layer.aggregate_limit)
            before = years.previous(after)
            paid = after - before
            year_end[j] = years.per_year_last(after)
            if layer.reinstatements is not None:
                cap = layer.reinstated_limit
                reinstated[j] = np.minimum(after, cap) - np.minimum(before, cap)
        else:
            paid = occurrence
            after = before = occurrence
        if np.isfinite(layer.limit):
            reached = (subject - layer.attachment >= layer.limit) & (subject >= layer.franchise)
            limit_hit[j] = years.per_year_any(reached)
        payout = paid * layer.share if layer.share != 1.0 else paid.copy()
        payouts[j] = payout
        nets[layer.party] += payout
        _give_up(layer, plan, payout, nets, event_bearer, single_bearer, columns)
        if trace:
            traces.append(LayerTrace(subject.copy(), occurrence, before, after))

    return Allocation(
        block=block,
        payouts=payouts,
        nets=nets,
        reinstated=reinstated,
        year_end_aggregate=year_end,
        limit_hit=limit_hit,
        traces=tuple(traces) if trace else None,
    )


def _subject(
    layer: LayerTerms, block: EventBlock, payouts: FloatArray, nets: FloatArray
) -> FloatArray:
    if layer.subject == "ground_up":
        return block.loss
    subject: FloatArray
    if layer.subject == "source":
        subject = np.where(block.source == layer.subject_index, block.loss, 0.0)
    elif layer.subject == "layer":
        subject = payouts[layer.subject_index]
    else:
        # A party's net below the residue of rounding counts as nothing to take.
        net = nets[layer.subject_index]
        subject = np.where(net > RESIDUE * block.loss, net, 0.0)
    return subject


def _occurrence(layer: LayerTerms, subject: FloatArray) -> FloatArray:
    occurrence = _clip(subject - layer.attachment, layer.limit)
    if layer.franchise > 0:
        occurrence[subject < layer.franchise] = 0.0
    return occurrence


def _clip(values: FloatArray, upper: float) -> FloatArray:
    """min(max(values, 0), upper), in place on ``values``."""
    np.maximum(values, 0.0, out=values)
    if np.isfinite(upper):
        np.minimum(values, upper, out=values)
    return values


def _give_up(
    layer: LayerTerms,
    plan: Plan,
    payout: FloatArray,
    nets: FloatArray,
    event_bearer: IntArray,
    single_bearer: int,
    columns: IntArray,
) -> None:
    """Take ``payout`` from the owner of the layer's subject."""
    if layer.subject == "ground_up":
        if single_bearer >= 0:
            nets[single_bearer] -= payout
        elif len(payout):
            nets[event_bearer, columns] -= payout
    elif layer.subject == "source":
        nets[plan.bearer[layer.subject_index]] -= payout
    elif layer.subject == "layer":
        nets[plan.layers[layer.subject_index].party] -= payout
    else:
        nets[layer.subject_index] -= payout
