"""The allocation core: every layer's terms applied to all events of a block at once.

For each layer, in the order written, over arrays holding every event of the block:

1. the subject s (ground-up losses, one source's losses, a layer's payouts, or a
   party's current net);
2. occurrence o = min(max(s − attachment, 0), limit), zero below the franchise;
3. aggregate C = o_1 + … + o_i summed year by year, in time order,
   A = min(max(C − aggregate attachment, 0), aggregate limit), a = A − A_previous;
4. payout p = share × a, added to the layer's party and taken from the subject's owner.

There is no loop over events: only over layers, over an event's rank within its year,
and over the few long years summed on their own. The work is done in a
:class:`~riskshare.engine.layout.YearLayout`, where a running sum within each year is
one vector addition per rank, taken event by event in time order, exactly as the spec
writes it. Nothing here reads files or prints.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from riskshare.engine.events import EventBlock, FloatArray, IntArray
from riskshare.engine.layout import YearLayout
from riskshare.engine.plan import LayerTerms, Plan
from riskshare.engine.shocks import Parts, PartsView

#: Relative size, against the event's loss, below which an amount is floating-point
#: residue of an amount fully ceded, and counts as zero.
RESIDUE = 1e-12


def clean_nets(nets: FloatArray, loss: FloatArray) -> None:
    """Set to zero, in place, the nets that are residue of an amount fully ceded."""
    np.copyto(nets, 0.0, where=np.abs(nets) <= RESIDUE * loss)


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
    parts = None
    if block.parts is not None:
        parts = block.parts.pick(block.parts.starts(len(block)), layout.perm)
    laid = allocate_laid_out(
        plan, layout, block.loss[layout.perm], block.source[layout.perm], trace=trace, parts=parts
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
    if (
        plan.parties != base.parties
        or not np.array_equal(plan.bearer, base.bearer)
        or plan.hit_bearers != base.hit_bearers
    ):
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
        return {p for source in range(len(plan.sources)) for p in plan.bearers_of(source)}
    if layer.subject == "source":
        return plan.bearers_of(layer.subject_index)
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
    parts: Parts | None = None,
    layers: int | None = None,
    reuse: LaidOut | None = None,
    shared: tuple[bool, ...] = (),
) -> LaidOut:
    """:func:`allocate` on events already in ``layout``'s order, leaving them there.

    ``reuse`` is another plan's allocation of the same events, and ``shared`` says
    which of its layers pay what this plan's do (:func:`shared_layers`): those layers'
    payouts are copied, and only moved between the nets as the layer would move them.
    """
    tower = _Tower(plan, layout, loss, source)
    if parts is not None:
        tower.with_parts(parts)
    traces: list[LayerTrace] = []
    for j, layer in enumerate(plan.layers[:layers]):
        if reuse is not None and j < len(shared) and shared[j] and not trace:
            tower.copy(j, layer, reuse)
        else:
            traced = tower.apply(j, layer, trace)
            if traced is not None:
                traces.append(traced)
    return tower.laid_out(tuple(traces) if trace else None)


class _Tower:
    """A block's allocation as it is worked out, layer after layer, in place: each
    party's nets (the bearer's losses at first), each layer's payouts and reinstated
    payouts, and per year its aggregate at the last event and whether the limit was hit."""

    def __init__(self, plan: Plan, layout: YearLayout, loss: FloatArray, source: IntArray) -> None:
        n = layout.n
        n_layers, n_present = len(plan.layers), len(layout.years)
        self.plan, self.layout, self.loss, self.source = plan, layout, loss, source
        self.bearer = plan.bearer[source] if n else np.zeros(0, dtype=np.int64)
        single = n and np.all(self.bearer == self.bearer[0])
        self.single_bearer = int(self.bearer[0]) if single else -1
        self.columns = np.arange(n) if self.single_bearer < 0 else None
        self.nets = np.zeros((len(plan.parties), n))
        if self.single_bearer >= 0:
            self.nets[self.single_bearer] = loss
        else:
            self.nets[self.bearer, self.columns] = loss
        self.payouts = np.zeros((n_layers, n))
        self.reinstated = np.zeros((n_layers, n))
        self.year_end = np.zeros((n_layers, n_present))
        self.limit_hit = np.zeros((n_layers, n_present), dtype=bool)
        self.work = _Buffers(n)
        self.residue: FloatArray | None = None  # RESIDUE × each event's loss, once needed
        self.parts: PartsView | None = None  # format 1.2: events of several parts

    def with_parts(self, parts: Parts) -> None:
        """Events of several parts (format 1.2): each bearer first holds its parts, and
        a ``ground_up`` or ``ground_up:SOURCE`` subject is given up part by part."""
        self.parts = PartsView(parts.resolved(self.plan.bearer), self.loss, len(self.plan.parties))
        self.nets = self.parts.first_nets()

    def copy(self, j: int, layer: LayerTerms, reuse: LaidOut) -> None:
        """Layer ``j`` as another plan's allocation of the same events has it."""
        payout = self.payouts[j]
        np.copyto(payout, reuse.payouts[j])
        np.copyto(self.reinstated[j], reuse.reinstated[j])
        self.year_end[j] = reuse.year_end_aggregate[j]
        self.limit_hit[j] = reuse.limit_hit[j]
        self.pay(layer, payout)

    def apply(self, j: int, layer: LayerTerms, trace: bool) -> LayerTrace | None:
        """Apply layer ``j``'s terms to every event (``trace``: keep its working)."""
        subject = self.subject(layer)
        occurrence = self.occurrence(j, layer, subject)
        before, after = self.aggregate(j, layer, occurrence, trace)
        payout = self.payouts[j]
        if layer.share != 1.0:
            payout *= layer.share
        self.pay(layer, payout)
        if not trace:
            return None
        return LayerTrace(subject.copy(), occurrence.copy(), before.copy(), after.copy())

    def subject(self, layer: LayerTerms) -> FloatArray:
        """The amount the layer applies to, event by event."""
        if layer.subject == "net" and self.residue is None:
            self.residue = np.multiply(self.loss, RESIDUE)
        if self.parts is not None and layer.subject == "source":
            return self.parts.source(layer.subject_index)[0]
        return _subject(
            layer, self.loss, self.source, self.payouts, self.nets, self.work, self.residue
        )

    def occurrence(self, j: int, layer: LayerTerms, subject: FloatArray) -> FloatArray:
        """o = min(max(s − attachment, 0), limit), zero below the franchise; and the
        years in which an event reached the limit (where no aggregate limit says when
        the layer is exhausted)."""
        occurrence = self.work.occurrence
        np.subtract(subject, layer.attachment, out=occurrence)
        below_franchise = subject < layer.franchise if layer.franchise > 0 else None
        if math.isfinite(layer.limit) and not math.isfinite(layer.aggregate_limit):
            reached = np.greater_equal(occurrence, layer.limit, out=self.work.flags)
            if below_franchise is not None:
                reached &= ~below_franchise
            if reached.any():
                self.limit_hit[j] = self.layout.year_any(reached)
        _clip(occurrence, layer.limit)
        if below_franchise is not None:
            np.copyto(occurrence, 0.0, where=below_franchise)
        return occurrence

    def aggregate(
        self, j: int, layer: LayerTerms, occurrence: FloatArray, trace: bool
    ) -> tuple[FloatArray, FloatArray]:
        """The layer's payouts before its share, a = A − A_previous, into ``payouts[j]``,
        with its reinstated payouts and each year's aggregate at its last event; returns
        (A_previous, A) (both the occurrence where the layer has no aggregate terms)."""
        payout = self.payouts[j]
        if not layer.has_aggregate:  # reinstatements set a finite aggregate limit
            np.copyto(payout, occurrence)
            return occurrence, occurrence
        layout, work = self.layout, self.work
        after = layout.cumsum(occurrence, work.after if not trace else np.empty(layout.n))
        np.subtract(after, layer.aggregate_attachment, out=after)
        _clip(after, layer.aggregate_limit)
        before = layout.previous(after, work.before if not trace else np.empty(layout.n))
        np.subtract(after, before, out=payout)
        self.year_end[j] = after[layout.last]
        if layer.reinstatements is not None:
            cap = layer.reinstated_limit
            capped_before = np.minimum(before, cap, out=work.spare)
            np.minimum(after, cap, out=self.reinstated[j])
            self.reinstated[j] -= capped_before
        return before, after

    def pay(self, layer: LayerTerms, payout: FloatArray) -> None:
        """Add ``payout`` to the layer's party and take it from its subject's owner."""
        self.nets[layer.party] += payout
        if self.parts is not None and layer.subject == "ground_up":
            self.parts.ground_up().give_up(self.nets, payout)
            return
        if self.parts is not None and layer.subject == "source":
            self.parts.source(layer.subject_index)[1].give_up(self.nets, payout)
            return
        _give_up(layer, self.plan, payout, self.nets, self.bearer, self.single_bearer, self.columns)

    def laid_out(self, traces: tuple[LayerTrace, ...] | None) -> LaidOut:
        return LaidOut(
            layout=self.layout,
            loss=self.loss,
            payouts=self.payouts,
            nets=self.nets,
            reinstated=self.reinstated,
            year_end_aggregate=self.year_end,
            limit_hit=self.limit_hit,
            traces=traces,
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
