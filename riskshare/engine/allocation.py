"""The allocation core: every layer's terms applied to all events of a block at once.

For each layer, in the order written, over arrays holding every event of the block:

1. the subject s (ground-up losses, one source's losses, a layer's payouts, or a
   party's current net);
2. occurrence o = min(max(s − attachment, 0), limit), zero below the franchise;
3. aggregate C = o_1 + … + o_i summed year by year, in time order,
   A = min(max(C − aggregate attachment, 0), aggregate limit), a = A − A_previous;
4. payout p = share × a, added to the layer's party and taken from the subject's owner.

There is no loop over events: only over layers, over an event's rank within its year,
and over the few long years summed on their own (below). The work is done in a
:class:`YearLayout`: the events put in *rank-major* order, every year's first event,
then every second event, and so on, with the years ordered by how many events they have.
The events of rank r then sit in one contiguous run, and the years that have an event of
rank r are the first ``m_r`` years of the run of rank r − 1: a running sum within each
year is one vector addition per rank, and the sum is taken event by event in time order,
exactly as the spec writes it (and as a year-by-year loop would round it), so a year's
figures never depend on the other years of its block. Nothing here reads files or
prints.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from riskshare.engine.events import EventBlock, FloatArray, IntArray
from riskshare.engine.plan import LayerTerms, Plan

#: Relative size, against the event's loss, below which an amount is floating-point
#: residue of an amount fully ceded, and counts as zero.
RESIDUE = 1e-12

IndexArray = npt.NDArray[np.intp]


def clean_nets(nets: FloatArray, loss: FloatArray) -> None:
    """Set to zero, in place, the nets that are residue of an amount fully ceded."""
    np.copyto(nets, 0.0, where=np.abs(nets) <= RESIDUE * loss)


#: The first rank from which the events of the longest years may be set apart.
LONG_RANK = 32
#: Set apart once a padded block of them is at most this many times their number.
LONG_PADDING = 4


class YearLayout:
    """The events of consecutive years in rank-major order (see the module's docstring).

    ``years`` lists the years that have events, most events first (ties in year
    order); position ``p`` of the layout holds event ``perm[p]`` of the block. A year
    with more than ``ranked`` events keeps its events beyond that rank together, in
    time order, after all the ranks: the *long block*. Those years are worked as the
    rows of one padded matrix (a running sum along each row is one ``cumsum``, event
    by event in time order), so a year loss table with a few very long years costs a
    step per rank up to ``ranked``, not one per event. ``ranked`` is the first rank from
    :data:`LONG_RANK` at which the padded block is at most :data:`LONG_PADDING` times
    the events it holds (or the longest year's count, where none is).
    """

    def __init__(self, year: IntArray | None, n_years: int, counts: IntArray | None = None) -> None:
        """Lay out events whose years (non-decreasing) are ``year``, or that number ``counts``."""
        if counts is None:
            assert year is not None
            counts = np.bincount(year, minlength=n_years)
        self.n_years = n_years
        self.n = n = int(counts.sum())
        present = np.flatnonzero(counts)
        by_count = np.argsort(-counts[present], kind="stable")
        self.years: IndexArray = present[by_count]
        sorted_counts = counts[self.years]
        self.counts = sorted_counts
        first = np.cumsum(counts) - counts  # index of each year's first event
        year_first = first[self.years]
        most = int(sorted_counts[0]) if n else 0
        hist = np.bincount(sorted_counts, minlength=most + 1)
        reaching = len(self.years) - np.cumsum(hist)[:most]  # years with more than r events
        beyond = np.cumsum(reaching[::-1])[::-1]  # events of rank r or more
        ranked = most
        for r in range(LONG_RANK, most):
            if int(reaching[r]) * (most - r) <= LONG_PADDING * int(beyond[r]):
                ranked = r
                break
        self.ranked = ranked
        self.sizes: list[int] = [int(m) for m in reaching[:ranked]]
        self.offsets: list[int] = [0, *np.cumsum(self.sizes, dtype=np.intp).tolist()]
        #: (start, size) of the run of each rank: the events of rank r of the first size years
        self.runs = [(self.offsets[r], size) for r, size in enumerate(self.sizes)]
        perm = np.empty(n, dtype=np.intp)
        for r, (start, size) in enumerate(self.runs):
            np.add(year_first[:size], r, out=perm[start : start + size])
        # the long block: years 0 .. long - 1 (in ``years`` order), their events past
        # rank ``ranked``, row after row, from layout position ``long_start``
        self.long = long = int(reaching[ranked]) if ranked < most else 0
        self.long_start = start = self.offsets[-1]
        self.long_lengths = lengths = sorted_counts[:long] - ranked
        self.long_cells = np.arange(most - ranked)[None, :] < lengths[:, None]
        row_starts = np.concatenate(([0], np.cumsum(lengths)[:-1])) if long else lengths
        self.long_firsts = start + row_starts  # each row's first position
        within = np.arange(n - start) - np.repeat(row_starts, lengths)
        perm[start:] = np.repeat(year_first[:long] + ranked, lengths) + within
        self.perm = perm
        self._inverse: IndexArray | None = None
        self._last: IndexArray | None = None
        self._year_of: IndexArray | None = None

    @property
    def last(self) -> IndexArray:
        """The layout position of each year's last event."""
        if self._last is None:
            counts = np.minimum(self.counts, self.ranked)
            starts = np.asarray(self.offsets, dtype=np.intp)
            last = starts[np.maximum(counts - 1, 0)] + np.arange(len(self.years))
            last[: self.long] = self.long_firsts + self.long_lengths - 1
            self._last = last
        return self._last

    @property
    def year_of(self) -> IndexArray:
        """For each layout position, the position of its year in ``years``."""
        if self._year_of is None:
            year_of = np.empty(self.n, dtype=np.intp)
            for start, size in self.runs:
                year_of[start : start + size] = np.arange(size)
            year_of[self.long_start :] = np.repeat(np.arange(self.long), self.long_lengths)
            self._year_of = year_of
        return self._year_of

    # --- sums and shifts within each year ------------------------------------------

    def cumsum(self, values: FloatArray, out: FloatArray) -> FloatArray:
        """The running sum of ``values`` within each year, event by event in time order."""
        offsets, sizes = self.offsets, self.sizes
        if sizes:
            np.add(values[: sizes[0]], 0.0, out=out[: sizes[0]])
        for r in range(1, len(sizes)):
            start, size = offsets[r], sizes[r]
            previous = offsets[r - 1]
            np.add(
                out[previous : previous + size],
                values[start : start + size],
                out=out[start : start + size],
            )
        if self.long:
            # each long year's row: its sum at rank ``ranked - 1``, then its events
            rows = self._long_rows(values, out[offsets[-2] : offsets[-2] + self.long])
            np.cumsum(rows, axis=-1, out=rows)
            out[self.long_start :] = rows[..., 1:][..., self.long_cells]
        return out

    def previous(self, values: FloatArray, out: FloatArray) -> FloatArray:
        """``values`` of the year's previous event; zero at each year's first event."""
        offsets, sizes = self.offsets, self.sizes
        if sizes:
            out[: sizes[0]] = 0.0
        for r in range(1, len(sizes)):
            start, size = offsets[r], sizes[r]
            out[start : start + size] = values[offsets[r - 1] : offsets[r - 1] + size]
        if self.long:
            start = self.long_start
            out[start:] = values[start - 1 : -1]
            out[self.long_firsts] = values[offsets[-2] : offsets[-2] + self.long]
        return out

    def year_sums(self, values: FloatArray, out: FloatArray | None = None) -> FloatArray:
        """Each year's sum of ``values``, added event by event in time order (``years``
        order): of a vector, or of each row of a matrix."""
        shape = (*values.shape[:-1], len(self.years))
        if out is None:
            out = np.zeros(shape)
        else:
            out.fill(0.0)
        for start, size in self.runs:
            out[..., :size] += values[..., start : start + size]
        if self.long:
            rows = self._long_rows(values, out[..., : self.long])
            sums = np.cumsum(rows, axis=-1)
            out[..., : self.long] = sums[..., np.arange(self.long), self.long_lengths]
        return out

    def year_max(self, values: FloatArray) -> FloatArray:
        """Each year's largest value (``years`` order)."""
        out = np.array(values[: self.sizes[0]]) if self.sizes else np.zeros(0)
        for start, size in self.runs[1:]:
            np.maximum(out[:size], values[start : start + size], out=out[:size])
        if self.long:
            rows = np.full(self.long_cells.shape, -np.inf)
            rows[self.long_cells] = values[self.long_start :]
            np.maximum(out[: self.long], rows.max(axis=-1), out=out[: self.long])
        return out

    def _long_rows(self, values: FloatArray, first: FloatArray) -> FloatArray:
        """The long block as rows (padded with zeros), each led by ``first``'s value."""
        cells = self.long_cells
        rows = np.zeros((*values.shape[:-1], *cells.shape[:-1], cells.shape[-1] + 1))
        rows[..., 0] = first
        rows[..., 1:][..., cells] = values[..., self.long_start :]
        return rows

    def year_any(self, flags: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
        """Whether some event of each year has its flag set (``years`` order)."""
        out = np.zeros(len(self.years), dtype=bool)
        out[self.year_of[np.flatnonzero(flags)]] = True
        return out

    def to_years(self, per_year: FloatArray, out: FloatArray | None = None) -> FloatArray:
        """Values in ``years`` order spread over all the years (zero in years without
        events): a vector, or each row of a matrix."""
        if out is None:
            out = np.zeros((*per_year.shape[:-1], self.n_years))
        else:
            out.fill(0.0)
        if out.ndim == 1:
            out[self.years] = per_year
        else:  # row by row: numpy scatters along a last axis at half the speed
            for row, values in zip(out, per_year, strict=True):
                row[self.years] = values
        return out

    def to_events(self, values: FloatArray) -> FloatArray:
        """Values in layout order put back in the block's event order (along the last axis)."""
        if self._inverse is None:
            self._inverse = np.empty_like(self.perm)
            self._inverse[self.perm] = np.arange(self.n)
        # Gathering through the inverse permutation is faster than scattering through it.
        out: FloatArray = np.take(values, self._inverse, axis=-1)
        return out


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
    limit_hit: FloatArray  # (layers, years): 1 where an event reached the per-event limit (a
    # layer without an aggregate limit; for the others, exhaustion is the aggregate's)
    traces: tuple[LayerTrace, ...] | None


@dataclass(frozen=True)
class LaidOut:
    """An allocation in a :class:`YearLayout`'s order; per-year arrays in ``years`` order."""

    layout: YearLayout
    loss: FloatArray
    payouts: FloatArray  # (layers, events)
    nets: FloatArray  # (parties, events)
    reinstated: FloatArray  # (layers, events)
    year_end_aggregate: FloatArray  # (layers, years with events)
    limit_hit: npt.NDArray[np.bool_]  # (layers, years with events)
    traces: tuple[LayerTrace, ...] | None


def allocate(
    plan: Plan,
    block: EventBlock,
    *,
    trace: bool = False,
) -> Allocation:
    """Apply every layer of ``plan`` to the events of ``block``, in the block's order
    (``trace``: with each layer's working, for ``explain``)."""
    layout = YearLayout(block.year, block.n_years)
    laid = allocate_laid_out(
        plan, layout, block.loss[layout.perm], block.source[layout.perm], trace=trace
    )
    traces = None
    if laid.traces is not None:
        traces = tuple(
            LayerTrace(
                *(
                    layout.to_events(a)
                    for a in (t.subject, t.occurrence, t.aggregate_before, t.aggregate_after)
                )
            )
            for t in laid.traces
        )
    year_end = np.zeros((len(plan.layers), block.n_years))
    year_end[:, layout.years] = laid.year_end_aggregate
    limit_hit = np.zeros((len(plan.layers), block.n_years))
    limit_hit[:, layout.years] = laid.limit_hit
    return Allocation(
        block=block,
        payouts=layout.to_events(laid.payouts),
        nets=layout.to_events(laid.nets),
        reinstated=layout.to_events(laid.reinstated),
        year_end_aggregate=year_end,
        limit_hit=limit_hit,
        traces=traces,
    )


def shared_layers(plan: Plan, base: Plan, computed: int | None = None) -> tuple[bool, ...]:
    """Which of ``plan``'s layers pay, on any events, exactly what ``base``'s pay.

    Layer j is shared where its terms that decide payouts are ``base``'s layer j's, and
    its subject is the same amount: the ground-up loss (the events are the same), a
    shared layer's payouts, or the net of a party that no layer not shared has touched
    so far. The parties and the sources' bearers must be the same. ``computed`` is
    how many of ``base``'s layers were allocated (None: all).
    """
    if plan.parties != base.parties or not np.array_equal(plan.bearer, base.bearer):
        return (False,) * len(plan.layers)
    limit = len(base.layers) if computed is None else min(computed, len(base.layers))
    changed_layers: set[int] = set()
    changed_parties: set[int] = set()
    shared = []
    for j, layer in enumerate(plan.layers):
        if layer.subject == "layer":
            same_subject = layer.subject_index not in changed_layers
        elif layer.subject == "net":
            same_subject = layer.subject_index not in changed_parties
        else:
            same_subject = True
        same = j < limit and same_subject and _payout_terms(layer) == _payout_terms(base.layers[j])
        shared.append(same)
        if not same:  # its payouts may differ, and so may the nets either version moves
            changed_layers.add(j)
            changed_parties.add(layer.party)
            changed_parties.update(_givers(layer, plan))
            if j < len(base.layers):
                changed_parties.add(base.layers[j].party)
                changed_parties.update(_givers(base.layers[j], base))
    return tuple(shared)


def _payout_terms(layer: LayerTerms) -> tuple[object, ...]:
    return (
        layer.party,
        layer.subject,
        layer.subject_index,
        layer.attachment,
        layer.limit,
        layer.franchise,
        layer.aggregate_attachment,
        layer.aggregate_limit,
        layer.share,
        layer.reinstatements,
    )


def _givers(layer: LayerTerms, plan: Plan) -> set[int]:
    """The parties a layer takes its payouts from (see :func:`_give_up`)."""
    if layer.subject == "ground_up":
        return {int(b) for b in plan.bearer}
    if layer.subject == "source":
        return {int(plan.bearer[layer.subject_index])}
    if layer.subject == "layer":
        return {plan.layers[layer.subject_index].party}
    return {layer.subject_index}


def allocate_laid_out(
    plan: Plan,
    layout: YearLayout,
    loss: FloatArray,
    source: IntArray,
    *,
    trace: bool = False,
    layers: int | None = None,
    reuse: LaidOut | None = None,
    shared: tuple[bool, ...] = (),
) -> LaidOut:
    """:func:`allocate` on events already in ``layout``'s order, leaving them there.

    ``reuse`` is another plan's allocation of the same events, and ``shared`` says
    which of its layers pay what this plan's do (:func:`shared_layers`): those layers'
    payouts are copied, and only moved between the nets as the layer would move them.
    """
    n = layout.n
    n_layers, n_parties, n_present = len(plan.layers), len(plan.parties), len(layout.years)
    event_bearer = plan.bearer[source] if n else np.zeros(0, dtype=np.int64)
    single_bearer = int(event_bearer[0]) if n and np.all(event_bearer == event_bearer[0]) else -1
    columns = np.arange(n) if single_bearer < 0 else None

    nets = np.zeros((n_parties, n))
    if single_bearer >= 0:
        nets[single_bearer] = loss
    else:
        nets[event_bearer, columns] = loss
    payouts = np.zeros((n_layers, n))
    reinstated = np.zeros((n_layers, n))
    year_end = np.zeros((n_layers, n_present))
    limit_hit = np.zeros((n_layers, n_present), dtype=bool)
    traces: list[LayerTrace] = []
    work = _Buffers(n)
    residue: FloatArray | None = None  # RESIDUE × each event's loss, once a net: needs it

    for j, layer in enumerate(plan.layers[:layers]):
        if layer.subject == "net" and residue is None:
            residue = np.multiply(loss, RESIDUE)
        if reuse is not None and j < len(shared) and shared[j] and not trace:
            payout = payouts[j]
            np.copyto(payout, reuse.payouts[j])
            np.copyto(reinstated[j], reuse.reinstated[j])
            year_end[j] = reuse.year_end_aggregate[j]
            limit_hit[j] = reuse.limit_hit[j]
            nets[layer.party] += payout
            _give_up(layer, plan, payout, nets, event_bearer, single_bearer, columns)
            continue
        subject = _subject(layer, loss, source, payouts, nets, work, residue)
        occurrence = work.occurrence
        np.subtract(subject, layer.attachment, out=occurrence)
        below_franchise = subject < layer.franchise if layer.franchise > 0 else None
        # read only where no aggregate limit says when the layer is exhausted
        if math.isfinite(layer.limit) and not math.isfinite(layer.aggregate_limit):
            reached = np.greater_equal(occurrence, layer.limit, out=work.flags)
            if below_franchise is not None:
                reached &= ~below_franchise
            if reached.any():
                limit_hit[j] = layout.year_any(reached)
        _clip(occurrence, layer.limit)
        if below_franchise is not None:
            np.copyto(occurrence, 0.0, where=below_franchise)
        payout = payouts[j]
        if layer.has_aggregate:  # reinstatements set a finite aggregate limit
            after = layout.cumsum(occurrence, work.after if not trace else np.empty(n))
            np.subtract(after, layer.aggregate_attachment, out=after)
            _clip(after, layer.aggregate_limit)
            before = layout.previous(after, work.before if not trace else np.empty(n))
            np.subtract(after, before, out=payout)
            year_end[j] = after[layout.last]
            if layer.reinstatements is not None:
                cap = layer.reinstated_limit
                capped_before = np.minimum(before, cap, out=work.spare)
                np.minimum(after, cap, out=reinstated[j])
                reinstated[j] -= capped_before
        else:
            np.copyto(payout, occurrence)
            after = before = occurrence
        if layer.share != 1.0:
            payout *= layer.share
        nets[layer.party] += payout
        _give_up(layer, plan, payout, nets, event_bearer, single_bearer, columns)
        if trace:
            traces.append(
                LayerTrace(subject.copy(), occurrence.copy(), before.copy(), after.copy())
            )

    return LaidOut(
        layout=layout,
        loss=loss,
        payouts=payouts,
        nets=nets,
        reinstated=reinstated,
        year_end_aggregate=year_end,
        limit_hit=limit_hit,
        traces=tuple(traces) if trace else None,
    )


class _Buffers:
    """Work arrays of one block's length, reused by every layer."""

    def __init__(self, n: int) -> None:
        self.subject = np.empty(n)
        self.occurrence = np.empty(n)
        self.after = np.empty(n)
        self.before = np.empty(n)
        self.spare = np.empty(n)
        self.flags = np.empty(n, dtype=bool)


def _subject(
    layer: LayerTerms,
    loss: FloatArray,
    source: IntArray,
    payouts: FloatArray,
    nets: FloatArray,
    work: _Buffers,
    residue: FloatArray | None,
) -> FloatArray:
    if layer.subject == "ground_up":
        return loss
    if layer.subject == "layer":
        row: FloatArray = payouts[layer.subject_index]
        return row
    out = work.subject
    out.fill(0.0)
    if layer.subject == "source":
        np.copyto(out, loss, where=source == layer.subject_index)
        return out
    # A party's net below the residue of rounding counts as nothing to take.
    assert residue is not None
    net = nets[layer.subject_index]
    np.copyto(out, net, where=np.greater(net, residue, out=work.flags))
    return out


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
    columns: IntArray | None,
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
