"""Annual series: their keys, how a block's are made, and the checks every block passes.

A run summarises a block of years as annual series, each named by a
:class:`SeriesKey`: the total ground-up loss (``total``), the largest event of each
year (``oep``), each party's net (``party``) and each consortium member's share of its
consortium's (``member``), each layer's payouts (``layer``) and, with premiums, each
party's cost (``cost``) and each member's share of it (``member_cost``). This module
is the only place that names them, in the order a run summarises and merges them; the
figures of a run are read back by the same keys.

Every allocated block is checked the same way: event by event, the parties' nets add
up to the loss and none is below zero (:func:`check_balance`), after the floating-point
residue of amounts fully ceded is set to zero; and each layer's exhausted years are
counted (:func:`exhausted`).

The plain path (:func:`annual_series`, on an :class:`~riskshare.engine.allocation.Allocation`
in event order) sums each year with ``np.bincount``; :mod:`riskshare.engine.block`
sums the same years in a :class:`~riskshare.engine.layout.YearLayout`, to the same
bits, and names them here too.

Imports riskshare.engine.events, plan, allocation and premiums, and riskshare.stats.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from riskshare.engine.allocation import Allocation, clean_nets
from riskshare.engine.events import EventBlock, FloatArray
from riskshare.engine.plan import Plan
from riskshare.engine.premiums import charged_layers, cost_terms, party_costs
from riskshare.errors import RunError
from riskshare.model.finite import worst_event
from riskshare.stats.summary import SeriesSummary

Kind = Literal[
    "total", "oep", "party", "member", "layer", "cost", "member_cost", "default", "unrecovered"
]


@dataclass(frozen=True)
class SeriesKey:
    """The name of one annual series of a run: its kind and, but for ``total`` and
    ``oep``, the index of its party, consortium member or layer in the plan.

    Make one with a named constructor (``SeriesKey.party(0)``); ``str`` writes it as
    ``party:0``. A run's summaries are a dict by key, in the order :func:`series_keys`
    gives: that order is the order in which they are made, merged and read.
    """

    kind: Kind
    index: int = -1

    @classmethod
    def total(cls) -> SeriesKey:
        """The total ground-up loss of each year."""
        return cls("total")

    @classmethod
    def oep(cls) -> SeriesKey:
        """The largest single event of each year (zero in a year without events)."""
        return cls("oep")

    @classmethod
    def party(cls, i: int) -> SeriesKey:
        """Party ``i``'s net amount of each year."""
        return cls("party", i)

    @classmethod
    def member(cls, k: int) -> SeriesKey:
        """Consortium member ``k``'s share of its consortium's net amount."""
        return cls("member", k)

    @classmethod
    def layer(cls, j: int) -> SeriesKey:
        """Layer ``j``'s payouts of each year."""
        return cls("layer", j)

    @classmethod
    def cost(cls, i: int) -> SeriesKey:
        """Party ``i``'s cost of each year: its net amount and the premiums it pays, less
        those it receives."""
        return cls("cost", i)

    @classmethod
    def member_cost(cls, k: int) -> SeriesKey:
        """Consortium member ``k``'s share of its consortium's cost."""
        return cls("member_cost", k)

    @classmethod
    def default(cls, d: int) -> SeriesKey:
        """1 in the years defaulter ``d`` (``Plan.defaulters``) defaults, else 0."""
        return cls("default", d)

    @classmethod
    def unrecovered(cls, i: int) -> SeriesKey:
        """What defaulting parties left unpaid on party ``i``'s cessions each year."""
        return cls("unrecovered", i)

    def __str__(self) -> str:
        return self.kind if self.index < 0 else f"{self.kind}:{self.index}"


#: A series' floor as the run knows it (None: none yet): values at or below stay home.
Floors = Callable[[SeriesKey], "float | None"]


def series_keys(plan: Plan, with_costs: bool) -> list[SeriesKey]:
    """Every series a run of ``plan`` summarises, in order (costs: where it has premiums)."""
    keys = [SeriesKey.total(), SeriesKey.oep()]
    keys += [SeriesKey.party(i) for i in range(len(plan.parties))]
    keys += [SeriesKey.member(k) for k in range(len(plan.members))]
    keys += [SeriesKey.layer(j) for j in range(len(plan.layers))]
    if with_costs:
        keys += [SeriesKey.cost(i) for i in range(len(plan.parties))]
        keys += [SeriesKey.member_cost(k) for k in range(len(plan.members))]
    if plan.has_defaults:
        keys += [SeriesKey.default(d) for d in range(len(plan.defaulters))]
        keys += [SeriesKey.unrecovered(i) for i in range(len(plan.parties))]
    return keys


def outlay_key(plan: Plan, party: int) -> SeriesKey:
    """The annual series a party's ``budget`` is compared with: its outlay, that is its
    ``cost`` where the scenario has premiums, its net (the same amounts) where it has none."""
    return SeriesKey.cost(party) if plan.has_premiums else SeriesKey.party(party)


def budget_of(plan: Plan, key: SeriesKey) -> float | None:
    """The amount a series' figures count the years above: a party's budget, on its
    outlay (:func:`outlay_key`); asked for every series of every block, so worked out
    from the key alone."""
    if key.kind not in ("party", "cost") or key != outlay_key(plan, key.index):
        return None
    return plan.budgets[key.index]


def new_summaries(plan: Plan, keep: int, with_costs: bool) -> dict[SeriesKey, SeriesSummary]:
    """Empty summaries of every series of a run, each keeping ``keep`` values of its tail."""
    return {key: SeriesSummary(keep, budget_of(plan, key)) for key in series_keys(plan, with_costs)}


# --- the series of a block ------------------------------------------------------------


def block_series(
    plan: Plan,
    parties: Sequence[FloatArray],
    *,
    total: FloatArray | None = None,
    oep: FloatArray | None = None,
    layers: Iterable[FloatArray] | None = None,
    costs: Sequence[FloatArray] | None = None,
    members: Sequence[FloatArray] | None = None,
    flags: Iterable[FloatArray] | None = None,
    unrecovered: Iterable[FloatArray] | None = None,
) -> dict[SeriesKey, FloatArray]:
    """A block's annual series by key, from each party's annual net (``parties``) and
    those of the others that the run reads; members' shares are worked out here, but
    where members hold their own parts (``members``: each member's annual net)."""
    series: dict[SeriesKey, FloatArray] = {}
    if total is not None:
        series[SeriesKey.total()] = total
    if oep is not None:
        series[SeriesKey.oep()] = oep
    series.update(_with_members(plan, parties, SeriesKey.party, SeriesKey.member, members))
    if layers is not None:
        series.update((SeriesKey.layer(j), annual) for j, annual in enumerate(layers))
    if costs is not None:
        held = None
        if members is not None:  # a member's own net, and its share of the premiums
            held = [
                members[k] + m.share * (costs[m.consortium] - parties[m.consortium])
                for k, m in enumerate(plan.members)
            ]
        series.update(_with_members(plan, costs, SeriesKey.cost, SeriesKey.member_cost, held))
    if flags is not None:
        series.update((SeriesKey.default(d), annual) for d, annual in enumerate(flags))
    if unrecovered is not None:
        series.update((SeriesKey.unrecovered(i), annual) for i, annual in enumerate(unrecovered))
    return series


def cost_series(
    plan: Plan,
    party_years: Sequence[FloatArray],
    reinstated_years: dict[int, FloatArray],
    flows: FloatArray,
    rates: FloatArray,
) -> dict[SeriesKey, FloatArray]:
    """Each party's annual cost and each consortium member's share of it
    (:func:`~riskshare.engine.premiums.party_costs`)."""
    costs = party_costs(plan, party_years, reinstated_years, flows, rates)
    return dict(_with_members(plan, costs, SeriesKey.cost, SeriesKey.member_cost))


def _with_members(
    plan: Plan,
    values: Sequence[FloatArray],
    key: Callable[[int], SeriesKey],
    member_key: Callable[[int], SeriesKey],
    members: Sequence[FloatArray] | None = None,
) -> Iterator[tuple[SeriesKey, FloatArray]]:
    """Each party's series, then each consortium member's share of its consortium's
    (or its own, where given)."""
    for i, annual in enumerate(values):
        yield key(i), annual
    for k, member in enumerate(plan.members):
        yield (
            member_key(k),
            (members[k] if members is not None else member.share * values[member.consortium]),
        )


# --- the plain path: a block's events in event order ------------------------------------


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


def annual_series(
    plan: Plan, allocation: Allocation, premiums: FloatArray | None
) -> dict[SeriesKey, FloatArray]:
    """Every annual series of one allocated block, keyed as :func:`new_summaries` keys them."""
    events = allocation.block
    party_years = [per_year(events, allocation.nets[i]) for i in range(len(plan.parties))]
    costs = None
    if premiums is not None:
        reinstated = {j: per_year(events, allocation.reinstated[j]) for j in charged_layers(plan)}
        flows, rates = cost_terms(plan, premiums)
        costs = party_costs(plan, party_years, reinstated, flows, rates)
    member_nets, unrecovered = allocation.member_nets, allocation.unrecovered
    credit = allocation.credit
    return block_series(
        plan,
        party_years,
        total=per_year(events, events.loss),
        oep=annual_max(events, events.loss),
        layers=[per_year(events, allocation.payouts[j]) for j in range(len(plan.layers))],
        costs=costs,
        members=None if member_nets is None else [per_year(events, m) for m in member_nets],
        flags=None if credit is None else list(credit.flags.astype(np.float64)),
        unrecovered=None if unrecovered is None else [per_year(events, u) for u in unrecovered],
    )


def clean_residue(allocation: Allocation) -> None:
    """Set to zero the nets that are floating-point residue of an amount fully ceded."""
    clean_nets(allocation.nets, allocation.block.loss)
    if allocation.member_nets is not None:
        clean_nets(allocation.member_nets, allocation.block.loss)


def check_allocation(allocation: Allocation, tolerance: float) -> float:
    """:func:`check_balance` of an allocation in event order."""
    block = allocation.block
    return check_balance(
        block.loss, allocation.nets, tolerance, lambda e: block.first_year + int(block.year[e]) + 1
    )


# --- the checks -------------------------------------------------------------------------


def check_balance(
    loss: FloatArray, nets: FloatArray, tolerance: float, year_of: Callable[[int], int]
) -> float:
    """Verify, event by event, that the nets add up to the loss and none is negative.

    Returns the largest absolute imbalance; raises :class:`RunError` beyond
    ``tolerance`` (relative to the loss), naming the year of the event (``year_of``: an
    event's position → the year's number in the run, from 1).
    """
    if len(loss) == 0:
        return 0.0
    scale = np.maximum(loss, 1.0)
    error = np.abs(nets.sum(axis=0) - loss)
    worst = worst_event(error / scale)
    if not error[worst] <= tolerance * scale[worst]:  # NaN fails too
        raise RunError(
            f"balance check failed: in year {year_of(worst)}, the parties' nets add up to "
            f"{nets[:, worst].sum()!r} for a loss of {loss[worst]!r}"
        )
    lowest = nets.min(axis=0)
    if np.any(lowest < -tolerance * scale):
        event = int(np.argmin(lowest / scale))
        raise RunError(
            f"balance check failed: a party's net is below zero ({lowest[event]!r}) "
            f"in year {year_of(event)}"
        )
    return float(error.max())


def exhausted(
    plan: Plan,
    year_end: FloatArray,
    limit_hit: npt.NDArray[np.float64] | npt.NDArray[np.bool_],
    idle: int = 0,
) -> FloatArray:
    """Per layer: the years in which it was exhausted, from each year's aggregate at its
    last event (``year_end``) and whether an event reached the limit (``limit_hit``),
    ``idle`` more years having no event at all."""
    counts = np.zeros(len(plan.layers))
    for j, layer in enumerate(plan.layers):
        if math.isfinite(layer.aggregate_limit):
            reached = np.count_nonzero(year_end[j] >= layer.aggregate_limit)
            counts[j] = reached + (idle if layer.aggregate_limit <= 0.0 else 0)
        elif math.isfinite(layer.limit):
            counts[j] = np.count_nonzero(limit_hit[j])
    return counts
