"""One year, given losses: how each flows through the tower, and why."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from functools import partial

import numpy as np

from riskshare.engine import memory
from riskshare.engine.allocation import LayerTrace, allocate
from riskshare.engine.defaults import Credit, Defaulter, credit_of
from riskshare.engine.events import given_block
from riskshare.engine.plan import LayerTerms, Plan, compile_plan
from riskshare.engine.premiums import charged_layers, cost_terms, party_costs, reinstatement_charges
from riskshare.engine.series import check_allocation, clean_residue
from riskshare.errors import Problem, ScenarioError
from riskshare.model.amounts import MAX_AMOUNT, MAX_AMOUNT_TEXT, format_amount, format_share
from riskshare.model.finite import check_figures
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
    owed: float | None = None  # what the layer owed, where its party was given as defaulting

    def reason(self, unit: str | None = None) -> str:
        """Why the layer paid what it paid, in words, amounts in ``unit``."""
        return "; ".join(note.text(unit) for note in self.notes)


@dataclass(frozen=True)
class ExplainedEvent:
    loss: float
    steps: tuple[LayerStep, ...]
    parties: dict[str, float]


@dataclass(frozen=True)
class PremiumFlow:
    """A layer's premium for the year: who pays it, who subsidises it, and the
    reinstatement premiums its payouts charged."""

    premium: float
    payer: str
    subsidies: Mapping[str, float]  # party → the part of the premium it pays
    reinstatement_premiums: float

    def to_dict(self) -> dict[str, object]:
        return {
            "premium": self.premium,
            "payer": self.payer,
            "subsidies": dict(self.subsidies),
            "reinstatement_premiums": self.reinstatement_premiums,
        }


@dataclass(frozen=True)
class ExplainResult:
    """The waterfall of each given loss, and the year's totals."""

    scenario: Scenario
    source: str
    events: tuple[ExplainedEvent, ...]
    layer_totals: dict[str, float]
    party_totals: dict[str, float]
    premiums: Mapping[str, PremiumFlow] | None
    costs: dict[str, float] | None
    defaults: tuple[str, ...] = ()  # the parties and members given as defaulting

    def to_dict(self) -> dict[str, object]:
        total: dict[str, object] = {
            "loss": math.fsum(event.loss for event in self.events),
            "layers": self.layer_totals,
            "parties": self.party_totals,
        }
        out: dict[str, object] = {
            "scenario": self.scenario.header(),
            "events": [
                {
                    "loss": event.loss,
                    "layers": {step.layer: step.paid for step in event.steps},
                    "parties": event.parties,
                    **_owed(event),
                }
                for event in self.events
            ],
            "total": total,
        }
        if self.premiums is not None and self.costs is not None:
            out["premiums"] = {name: flow.to_dict() for name, flow in self.premiums.items()}
            total["cost"] = self.costs
        if self.defaults:
            out["defaults"] = list(self.defaults)
            owed: dict[str, float] = {}
            for event in self.events:
                for step in event.steps:
                    if step.owed is not None:
                        owed[step.layer] = owed.get(step.layer, 0.0) + step.owed
            total["owed"] = owed
        return out


def _owed(event: ExplainedEvent) -> dict[str, object]:
    """``{"owed": {LAYER: amount}}`` for the layers of parties given as defaulting."""
    owed = {step.layer: step.owed for step in event.steps if step.owed is not None}
    return {"owed": owed} if owed else {}


def explain(
    scenario: Scenario,
    losses: Sequence[float],
    source: str | None = None,
    defaults: Sequence[str] = (),
) -> ExplainResult:
    """Let ``losses`` happen, in that order, in one year, and trace each through the layers.

    The losses come from ``source`` (a source of the scenario) or, by default, from a
    source of their own, ``ground_up``, borne by the residual party: layers on
    ``ground_up:SOURCE`` then take nothing. Nobody defaults but the parties and members
    (``CONSORTIUM/MEMBER``) named in ``defaults``, which pay the recovery of their
    ``default`` (0% without one) of what their layers owe.
    """
    plan = compile_plan(scenario)
    plan, credit = _given_defaults(plan, tuple(dict.fromkeys(defaults)))
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
    if any(x > MAX_AMOUNT for x in losses):
        message = f"losses must be at most {MAX_AMOUNT_TEXT}, the largest amount riskshare takes"
        raise ScenarioError([Problem((), message)])
    block = given_block(list(losses), index)
    allocation = allocate(plan, block, trace=True, credit=credit)
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
                owed=_defaulted_owed(plan, credit, j, trace, e),
            )
            for j, (terms, trace) in enumerate(zip(plan.layers, allocation.traces, strict=True))
        )
        members = allocation.member_nets
        events.append(
            ExplainedEvent(
                float(loss),
                steps,
                _party_amounts(
                    plan, names, allocation.nets[:, e], None if members is None else members[:, e]
                ),
            )
        )
    layer_totals = {t.name: float(allocation.payouts[j].sum()) for j, t in enumerate(plan.layers)}
    members = allocation.member_nets
    party_totals = _party_amounts(
        plan,
        names,
        allocation.nets.sum(axis=1),
        None if members is None else members.sum(axis=1),
    )
    premiums, costs = _premium_flows(scenario, plan, allocation.reinstated, names, party_totals)
    given: tuple[str, ...] = ()
    if credit is not None:
        flags = credit.flags[:, 0]
        given = tuple(d.name for d, flag in zip(plan.defaulters, flags, strict=True) if flag)
    result = ExplainResult(
        scenario, source_name, tuple(events), layer_totals, party_totals, premiums, costs, given
    )
    check_figures(result.to_dict(), "the waterfall")
    return result


def _given_defaults(plan: Plan, names: tuple[str, ...]) -> tuple[Plan, Credit | None]:
    """The plan, with a default of 0% recovery for each name given without a ``default``
    of its own, and the credit of a year in which exactly the names given default."""
    if not names and not plan.has_defaults:
        return plan, None
    known = {d.name: d for d in plan.defaulters}
    added: list[Defaulter] = []
    for name in names:
        if name in known:
            continue
        party, _, member = name.partition("/")
        if party not in plan.parties:
            raise ScenarioError([Problem((), f"--default {name}: no party `{party}`")])
        i = plan.parties.index(party)
        k = next(
            (k for k, m in enumerate(plan.members) if m.consortium == i and m.name == member), -1
        )
        if member and k < 0:
            raise ScenarioError(
                [Problem((), f"--default {name}: `{party}` has no member `{member}`")]
            )
        added.append(Defaulter(name=name, party=i, member=k, probability=1.0, recovery=0.0))
    plan = replace(plan, defaulters=(*plan.defaulters, *added))
    flags = np.array([[d.name in names] for d in plan.defaulters], dtype=bool).reshape(-1, 1)
    return plan, credit_of(plan.defaulters, len(plan.parties), len(plan.members), flags)


def _defaulted_owed(
    plan: Plan, credit: Credit | None, j: int, trace: LayerTrace, e: int
) -> float | None:
    """What layer ``j`` owed for event ``e``, where its party or a member defaulted."""
    if credit is None or trace.owed is None:
        return None
    party = plan.layers[j].party
    defaulted = any(
        flag and d.party == party
        for d, flag in zip(plan.defaulters, credit.flags[:, 0], strict=True)
    )
    return float(trace.owed[e]) if defaulted else None


def _party_columns(plan: Plan) -> list[str]:
    """Parties, each consortium followed by its members as ``CONSORTIUM/MEMBER``."""
    names = []
    for i, party in enumerate(plan.parties):
        names.append(party)
        names.extend(f"{party}/{m.name}" for m in plan.members if m.consortium == i)
    return names


def _party_amounts(
    plan: Plan, names: list[str], nets: np.ndarray, members: np.ndarray | None = None
) -> dict[str, float]:
    amounts = {p: float(nets[i]) for i, p in enumerate(plan.parties)}
    return _with_members(plan, names, amounts, members)


def _with_members(
    plan: Plan, names: list[str], amounts: dict[str, float], members: np.ndarray | None = None
) -> dict[str, float]:
    """Each party's amount and each consortium member's share of its consortium's (or
    its own, where members hold their own parts), in the order of ``names``."""
    for k, member in enumerate(plan.members):
        consortium = plan.parties[member.consortium]
        own = float(members[k]) if members is not None else member.share * amounts[consortium]
        amounts[f"{consortium}/{member.name}"] = own
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
) -> tuple[dict[str, PremiumFlow] | None, dict[str, float] | None]:
    """The year's premiums, subsidies and reinstatement premiums, and each party's cost."""
    # priced on the scenario's own events (``plan`` has the given losses' source in
    # place of its events file), by a run that must fit as simulate's must
    priced, years = compile_plan(scenario), scenario.simulation.years
    if priced.needs_loading_pass:
        memory.check(partial(memory.estimate, scenario, [priced]), years, 1)
    premiums = layer_premiums(priced, scenario.simulation.seed, years)
    if premiums is None:
        return None, None
    flows, rates = cost_terms(plan, premiums)
    # the year as a series of one year: its nets and its reinstated payouts
    year = {j: np.array([reinstated[j].sum()]) for j in charged_layers(plan)}
    nets = [np.array([party_totals[party]]) for party in plan.parties]
    costs = party_costs(plan, nets, year, flows, rates)
    cost = {party: float(costs[i][0]) for i, party in enumerate(plan.parties)}
    charges = reinstatement_charges(rates, year)
    table: dict[str, PremiumFlow] = {}
    for j, terms in enumerate(plan.layers):
        if terms.premium_form is None:
            continue
        table[terms.name] = PremiumFlow(
            premium=float(premiums[j]),
            payer=plan.parties[terms.payer],
            subsidies={plan.parties[p]: float(premiums[j]) * share for p, share in terms.subsidies},
            reinstatement_premiums=float(charges[j][0]) if j in charges else 0.0,
        )
    return table, _with_members(plan, names, cost)
