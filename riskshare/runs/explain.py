"""One year, given losses: how each flows through the tower, and why."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from riskshare.engine.allocation import LayerTrace, allocate
from riskshare.engine.events import EventBlock, given_block
from riskshare.engine.plan import LayerTerms, Plan, compile_plan
from riskshare.engine.premiums import charged_layers, cost_terms, party_costs, reinstatement_charges
from riskshare.engine.series import check_allocation, clean_residue
from riskshare.engine.shocks import Parts, given_hits
from riskshare.errors import Problem, ScenarioError
from riskshare.model.amounts import format_amount, format_share
from riskshare.model.scenario import Scenario
from riskshare.runs.simulation import BALANCE_TOLERANCE, layer_premiums


@dataclass(frozen=True)
class Note:
    """One part of the reason for a payout, with its amounts kept as numbers."""

    template: str  # "limit reached ({0} per event)"
    amounts: tuple[float, ...] = ()

    def text(self, unit: str | None = None) -> str:
        return self.template.format(*(format_amount(a, unit) for a in self.amounts))


@dataclass(frozen=True)
class LayerStep:
    """What one layer did with one event, and why."""

    layer: str
    party: str
    subject: float
    paid: float
    notes: tuple[Note, ...]

    def reason(self, unit: str | None = None) -> str:
        """Why the layer paid what it paid, in words, amounts in ``unit``."""
        return "; ".join(note.text(unit) for note in self.notes)


@dataclass(frozen=True)
class ExplainedEvent:
    loss: float
    steps: tuple[LayerStep, ...]
    parties: dict[str, float]
    #: format 1.2, an occurrence of a source with hits: each bearer's part of the loss,
    #: and what it gave up of it (its part, plus what its layers received, less its net)
    bearer_parts: dict[str, float] | None = None
    given_up: dict[str, float] | None = None


@dataclass(frozen=True)
class ExplainResult:
    """The waterfall of each given loss, and the year's totals."""

    scenario: Scenario
    source: str
    events: tuple[ExplainedEvent, ...]
    layer_totals: dict[str, float]
    party_totals: dict[str, float]
    premiums: dict[str, dict[str, object]] | None
    costs: dict[str, float] | None

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {
            "scenario": self.scenario.header(),
            "events": [
                {
                    "loss": event.loss,
                    "layers": {step.layer: step.paid for step in event.steps},
                    "parties": event.parties,
                    **(
                        {"parts": event.bearer_parts, "given_up": event.given_up}
                        if event.bearer_parts is not None
                        else {}
                    ),
                }
                for event in self.events
            ],
            "total": {
                "loss": math.fsum(event.loss for event in self.events),
                "layers": self.layer_totals,
                "parties": self.party_totals,
            },
        }
        if self.premiums is not None and self.costs is not None:
            out["premiums"] = self.premiums
            total = out["total"]
            assert isinstance(total, dict)
            total["cost"] = self.costs
        return out


def explain(
    scenario: Scenario, losses: Sequence[float], source: str | None = None
) -> ExplainResult:
    """Let ``losses`` happen, in that order, in one year, and trace each through the layers.

    The losses come from ``source`` (a source of the scenario) or, by default, from a
    source of their own, ``ground_up``, borne by the residual party: layers on
    ``ground_up:SOURCE`` then take nothing.
    """
    plan = compile_plan(scenario)
    if source is None:
        plan, index = plan.with_explain_source()
        source_name = "ground_up"
    elif source in plan.sources:
        index, source_name = plan.sources.index(source), source
    else:
        known = ", ".join(plan.sources) or "none"
        raise ScenarioError([Problem((), f"unknown source `{source}` (sources: {known})")])
    if any(not math.isfinite(x) or x < 0 for x in losses):
        raise ScenarioError([Problem((), "losses must be finite amounts, not negative")])
    hit_bearers = dict(plan.hit_bearers).get(index)
    if hit_bearers is not None:
        block = _given_occurrences(plan, list(losses), index, hit_bearers)
    else:
        block = given_block(list(losses), index)
    allocation = allocate(plan, block, trace=True)
    clean_residue(allocation)
    check_allocation(allocation, BALANCE_TOLERANCE)
    assert allocation.traces is not None
    names = _party_columns(plan)
    events = []
    for e, loss in enumerate(block.loss):
        steps = tuple(
            LayerStep(
                layer=terms.name,
                party=plan.parties[terms.party],
                subject=float(trace.subject[e]),
                paid=float(allocation.payouts[j, e]),
                notes=_reason(terms, trace, e),
            )
            for j, (terms, trace) in enumerate(zip(plan.layers, allocation.traces, strict=True))
        )
        nets = allocation.nets[:, e]
        bearer_parts = given_up = None
        if block.parts is not None and hit_bearers is not None:
            bearer_parts, given_up = _bearer_parts(plan, block.parts, allocation.payouts, nets, e)
        events.append(
            ExplainedEvent(
                float(loss), steps, _party_amounts(plan, names, nets), bearer_parts, given_up
            )
        )
    layer_totals = {t.name: float(allocation.payouts[j].sum()) for j, t in enumerate(plan.layers)}
    party_totals = _party_amounts(plan, names, allocation.nets.sum(axis=1))
    premiums, costs = _premium_flows(scenario, plan, allocation.reinstated, names, party_totals)
    return ExplainResult(
        scenario, source_name, tuple(events), layer_totals, party_totals, premiums, costs
    )


def _given_occurrences(
    plan: Plan, losses: list[float], index: int, bearers: tuple[int, ...]
) -> EventBlock:
    """Occurrences of a source with hits: one given loss a hit, in order, for each."""
    per = len(bearers)
    if not losses or len(losses) % per:
        named = ", ".join(plan.parties[b] for b in bearers)
        raise ScenarioError(
            [
                Problem(
                    (),
                    f"source `{plan.sources[index]}` has {per} hits ({named}): give one "
                    f"--loss per hit, in that order, for each event (got {len(losses)})",
                )
            ]
        )
    loss, parts = given_hits(losses, bearers, index)
    n = len(loss)
    year, source = np.zeros(n, dtype=np.int64), np.full(n, index, dtype=np.int64)
    return EventBlock(0, 1, year, source, loss, parts)


def _bearer_parts(
    plan: Plan, parts: Parts, payouts: np.ndarray, nets: np.ndarray, e: int
) -> tuple[dict[str, float], dict[str, float]]:
    """Each bearer's part of event ``e`` and what it gave up of what it held."""
    held: dict[int, float] = {}
    for k in np.flatnonzero(parts.event == e):
        b = int(parts.bearer[k])
        held[b] = held.get(b, 0.0) + float(parts.loss[k])
    received = dict.fromkeys(held, 0.0)
    for j, terms in enumerate(plan.layers):
        if terms.party in received:
            received[terms.party] += float(payouts[j, e])
    given = {b: max(held[b] + received[b] - float(nets[b]), 0.0) for b in held}
    return (
        {plan.parties[b]: amount for b, amount in held.items()},
        {plan.parties[b]: amount for b, amount in given.items()},
    )


def _party_columns(plan: Plan) -> list[str]:
    """Parties, each consortium followed by its members as ``CONSORTIUM/MEMBER``."""
    names = []
    for i, party in enumerate(plan.parties):
        names.append(party)
        names.extend(f"{party}/{m.name}" for m in plan.members if m.consortium == i)
    return names


def _party_amounts(plan: Plan, names: list[str], nets: np.ndarray) -> dict[str, float]:
    return _with_members(plan, names, {p: float(nets[i]) for i, p in enumerate(plan.parties)})


def _with_members(plan: Plan, names: list[str], amounts: dict[str, float]) -> dict[str, float]:
    """Each party's amount and each consortium member's share of its consortium's, in the
    order of ``names``."""
    for member in plan.members:
        consortium = plan.parties[member.consortium]
        amounts[f"{consortium}/{member.name}"] = member.share * amounts[consortium]
    return {name: amounts[name] for name in names}


def _reason(terms: LayerTerms, trace: LayerTrace, e: int) -> tuple[Note, ...]:
    """Why the layer paid what it paid for event ``e``."""
    s = float(trace.subject[e])
    occurrence = float(trace.occurrence[e])
    before, after = float(trace.aggregate_before[e]), float(trace.aggregate_after[e])
    aggregate = terms.has_aggregate  # reinstatements set a finite aggregate limit
    capped = math.isfinite(terms.aggregate_limit)
    if s <= 0:
        return (Note("nothing to take: the subject is zero"),)
    if terms.franchise > 0 and s < terms.franchise:
        return (Note("franchise not met ({0} < {1})", (s, terms.franchise)),)
    if s <= terms.attachment:
        return (Note("below attachment ({0} ≤ {1})", (s, terms.attachment)),)
    notes = []
    if math.isfinite(terms.limit) and occurrence >= terms.limit:
        notes.append(Note("limit reached ({0} per event)", (terms.limit,)))
    if aggregate:
        if capped and before >= terms.aggregate_limit:
            return (Note("aggregate used up ({0} a year)", (terms.aggregate_limit,)),)
        if after == 0:
            retention = Note(
                "within the annual aggregate retention of {0}", (terms.aggregate_attachment,)
            )
            return (retention,)
        if after - before < occurrence:
            if capped and after >= terms.aggregate_limit:
                notes.append(Note("aggregate used up ({0} a year)", (terms.aggregate_limit,)))
            else:
                notes.append(
                    Note(
                        "part within the annual aggregate retention of {0}",
                        (terms.aggregate_attachment,),
                    )
                )
    if terms.share != 1.0:
        notes.append(Note(f"{format_share(terms.share)} share"))
    if not notes:
        notes.append(Note("in the layer ({0} above {1})", (occurrence, terms.attachment)))
    return tuple(notes)


def _premium_flows(
    scenario: Scenario,
    plan: Plan,
    reinstated: np.ndarray,
    names: list[str],
    party_totals: dict[str, float],
) -> tuple[dict[str, dict[str, object]] | None, dict[str, float] | None]:
    """The year's premiums, subsidies and reinstatement premiums, and each party's cost."""
    premiums = layer_premiums(plan, scenario.simulation.seed, scenario.simulation.years)
    if premiums is None:
        return None, None
    flows, rates = cost_terms(plan, premiums)
    # the year as a series of one year: its nets and its reinstated payouts
    year = {j: np.array([reinstated[j].sum()]) for j in charged_layers(plan)}
    nets = [np.array([party_totals[party]]) for party in plan.parties]
    costs = party_costs(plan, nets, year, flows, rates)
    cost = {party: float(costs[i][0]) for i, party in enumerate(plan.parties)}
    charges = reinstatement_charges(rates, year)
    table: dict[str, dict[str, object]] = {}
    for j, terms in enumerate(plan.layers):
        if terms.premium_form is None:
            continue
        table[terms.name] = {
            "premium": float(premiums[j]),
            "payer": plan.parties[terms.payer],
            "subsidies": {
                plan.parties[p]: float(premiums[j]) * share for p, share in terms.subsidies
            },
            "reinstatement_premiums": float(charges[j][0]) if j in charges else 0.0,
        }
    return table, _with_members(plan, names, cost)
