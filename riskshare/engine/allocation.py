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

from riskshare.engine.defaults import Credit, credit_of
from riskshare.engine.events import EventBlock, FloatArray, IntArray
from riskshare.engine.layout import YearLayout
from riskshare.engine.plan import LayerTerms, Plan

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
    owed: FloatArray | None = None  # what the layer owed, where its party may default


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
    credit: Credit | None = None  # the block's default years, where any party may default
    member_nets: FloatArray | None = None  # (members, events), where members hold their own
    unrecovered: FloatArray | None = None  # (parties, events): left unpaid on its cessions


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
    member_nets: FloatArray | None = None  # (members, events), where members hold their own
    unrecovered: FloatArray | None = None  # (parties, events), where any party may default


def allocate(
    plan: Plan,
    block: EventBlock,
    *,
    trace: bool = False,
    credit: Credit | None = None,
) -> Allocation:
    """Apply every layer of ``plan`` to the events of ``block``, in the block's order
    (``trace``: with each layer's working, for ``explain``; ``credit``: the block's
    default years, where the plan has defaults)."""
    layout = YearLayout(block.year, block.n_years)
    laid = allocate_laid_out(
        plan, layout, block.loss[layout.perm], block.source[layout.perm], trace=trace, credit=credit
    )
    traces = None
    if laid.traces is not None:
        traces = tuple(
            LayerTrace(
                subject=layout.to_events(t.subject),
                occurrence=layout.to_events(t.occurrence),
                aggregate_before=layout.to_events(t.aggregate_before),
                aggregate_after=layout.to_events(t.aggregate_after),
                owed=_to_events(layout, t.owed),
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
        credit=credit,
        member_nets=_to_events(layout, laid.member_nets),
        unrecovered=_to_events(layout, laid.unrecovered),
    )


def _to_events(layout: YearLayout, values: FloatArray | None) -> FloatArray | None:
    return None if values is None else layout.to_events(values)


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
    if plan.has_defaults or base.has_defaults:  # a payout then depends on who defaults
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
    credit: Credit | None = None,
) -> LaidOut:
    """:func:`allocate` on events already in ``layout``'s order, leaving them there.

    ``reuse`` is another plan's allocation of the same events, and ``shared`` says
    which of its layers pay what this plan's do (:func:`shared_layers`): those layers'
    payouts are copied, and only moved between the nets as the layer would move them.
    ``credit``: the years' default flags (years of ``layout``), where the plan has defaults.
    """
    tower = _Tower(plan, layout, loss, source)
    if plan.has_defaults:
        tower.with_credit(credit)
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
        self.credit: Credit | None = None  # set by :meth:`with_credit`
        self.member_rows: dict[int, list[tuple[int, float]]] = {}
        self.member_nets = np.zeros((0, 0))
        self.receipts: list[tuple[int, FloatArray]] = []  # each member's part of a payout
        self.unrecovered = np.zeros((0, 0))

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
        owed = self.default(layer, payout) if self.credit is not None else None
        self.pay(layer, payout)
        if not trace:
            return None
        return LayerTrace(subject.copy(), occurrence.copy(), before.copy(), after.copy(), owed)

    def with_credit(self, credit: Credit | None) -> None:
        """Make the layers of defaulting parties pay what the default years of ``credit``
        leave them paying (none: nobody defaults), members hold their own parts, and
        what is left unpaid be counted as each cedent's ``unrecovered``."""
        plan, layout, n = self.plan, self.layout, self.layout.n
        if credit is None:
            no_years = np.zeros((len(plan.defaulters), layout.n_years), dtype=bool)
            credit = credit_of(plan.defaulters, len(plan.parties), len(plan.members), no_years)
        self.credit = credit
        event_year = layout.years[layout.year_of] if n else np.zeros(0, dtype=np.intp)
        self.party_factor = credit.party_factor[:, event_year]
        self.member_factor = credit.member_factor[:, event_year]
        self.defaulting = {d.party for d in plan.defaulters}
        self.unrecovered = np.zeros((len(plan.parties), n))
        self.member_rows = {}
        if plan.tracks_members:
            for k, member in enumerate(plan.members):
                self.member_rows.setdefault(member.consortium, []).append((k, member.share))
            self.member_nets = np.zeros((len(plan.members), n))
            for k, member in enumerate(plan.members):
                np.multiply(self.nets[member.consortium], member.share, out=self.member_nets[k])

    def default(self, layer: LayerTerms, payout: FloatArray) -> FloatArray | None:
        """Turn what the layer owes (``payout``) into what its party pays, in place: each
        member of a consortium holds share × owed × the consortium's factor × its own;
        count what is left unpaid against the owners of the subject. Returns what was
        owed (None where the party cannot default)."""
        party = layer.party
        members = self.member_rows.get(party)
        if party not in self.defaulting:
            return None
        owed: FloatArray = payout.copy()
        factor = self.party_factor[party]
        if members:
            payout.fill(0.0)
            for k, share in members:
                held = self.member_factor[k] * factor
                held *= owed
                held *= share
                self.receipts.append((k, held))
                payout += held
        else:
            payout *= factor
        unpaid = owed - payout
        _give_up(layer, self.plan, -unpaid, self.unrecovered, *self.givers)
        return owed

    def subject(self, layer: LayerTerms) -> FloatArray:
        """The amount the layer applies to, event by event."""
        if layer.subject == "net" and self.residue is None:
            self.residue = np.multiply(self.loss, RESIDUE)
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

    @property
    def givers(self) -> tuple[IntArray, int, IntArray | None]:
        return self.bearer, self.single_bearer, self.columns

    def pay(self, layer: LayerTerms, payout: FloatArray) -> None:
        """Add ``payout`` to the layer's party and take it from its subject's owner."""
        if self.member_rows:
            self.members_give_up(layer, payout)
        self.nets[layer.party] += payout
        _give_up(layer, self.plan, payout, self.nets, self.bearer, self.single_bearer, self.columns)

    def members_give_up(self, layer: LayerTerms, payout: FloatArray) -> None:
        """Where the subject's owner is a consortium whose members hold their own parts,
        each member gives up in proportion to what it holds of the subject (and, for a
        layer that is not its consortium's own receipt, members receive their share)."""
        self.give_up_members(layer, payout)
        receipts, self.receipts = self.receipts, []
        if not receipts and layer.party in self.member_rows:
            receipts = [(k, share * payout) for k, share in self.member_rows[layer.party]]
        for k, held in receipts:
            self.member_nets[k] += held

    def give_up_members(self, layer: LayerTerms, payout: FloatArray) -> None:
        plan = self.plan
        if layer.subject == "net":
            owner = layer.subject_index
            if owner not in self.member_rows:
                return
            rows = [k for k, _ in self.member_rows[owner]]
            held = self.member_nets[rows]
            total = held.sum(axis=0)
            weight = np.divide(payout, total, out=np.zeros_like(payout), where=total > 0)
            self.member_nets[rows] -= held * weight
        elif layer.subject == "layer":
            owner = plan.layers[layer.subject_index].party
            if owner not in self.member_rows:
                return
            parts = [(k, share * self.member_factor[k]) for k, share in self.member_rows[owner]]
            total = np.sum([part for _, part in parts], axis=0)
            for k, part in parts:
                given = np.divide(part * payout, total, out=np.zeros_like(payout), where=total > 0)
                self.member_nets[k] -= given
        else:
            if layer.subject == "source":
                owners = np.full(len(payout), plan.bearer[layer.subject_index])
            else:
                owners = self.bearer
            for owner, members in self.member_rows.items():
                mine = owners == owner
                if mine.any():
                    for k, share in members:
                        self.member_nets[k] -= np.where(mine, share * payout, 0.0)

    def laid_out(self, traces: tuple[LayerTrace, ...] | None) -> LaidOut:
        return LaidOut(
            member_nets=self.member_nets if self.member_rows else None,
            unrecovered=self.unrecovered if self.credit is not None else None,
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
