"""A slow scalar reference of the scenario format, written from the spec's text.

The scenario format (restated for users in docs/scenario-reference.md) fixes the
semantics; this module restates them as plainly as it can: Python loops over years
and, within a year, over events in time order; for each event, the layers in the
order written. Nothing here
imports the fast core (``engine/``, ``stats/``, ``runs/``): the figures come
from plain numpy on the full annual arrays. The only rule taken from the code rather
than the spec is the documented residue rule: a net within ``RESIDUE`` × the event's
loss of zero counts as zero, in the reported nets and in a ``net:`` subject.

The tests compare the fast core with this module figure by figure.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from riskshare.model.default import Default
from riskshare.model.scenario import Layer, PartyKind, Scenario

RETURN_PERIODS = (10, 50, 100, 200, 500, 1000)
#: The documented residue rule of ``riskshare.engine.series.clean_residue``.
RESIDUE = 1e-12


@dataclass(frozen=True)
class Event:
    """One event: its year (1-based), its source's name and its ground-up loss."""

    year: int
    source: str
    loss: float


@dataclass
class Ledger:
    """Everything the reference computes, event by event and year by year."""

    parties: list[str]
    layers: list[str]
    events: list[Event]  # in the order applied
    payouts: list[list[float]] = field(default_factory=list)  # [event][layer]
    raw_nets: list[list[float]] = field(default_factory=list)  # [event][party], before cleaning
    nets: list[list[float]] = field(default_factory=list)  # [event][party], residue cleaned
    reinstated: list[list[float]] = field(default_factory=list)  # [event][layer], R_i at 100%
    year_end_aggregate: list[list[float]] = field(default_factory=list)  # [year][layer]
    limit_reached: list[list[bool]] = field(default_factory=list)  # [year][layer]
    # counterparty default (format 1.2)
    defaulted: dict[str, list[bool]] = field(default_factory=dict)  # name → [year]
    members: list[dict[str, float]] = field(default_factory=list)  # [event] C/M → held
    unrecovered: list[dict[str, float]] = field(default_factory=list)  # [event] party → unpaid


# --- who is who --------------------------------------------------------------------


def residual_party(scenario: Scenario) -> str | None:
    """``residual`` as written, else the only enterprise party."""
    if scenario.residual is not None:
        return scenario.residual
    enterprises = [n for n, p in scenario.parties.items() if p.kind is PartyKind.enterprise]
    return enterprises[0] if len(enterprises) == 1 else None


def bearers(scenario: Scenario) -> dict[str, str]:
    """Source name → the party that first bears its losses."""
    residual = residual_party(scenario)
    out: dict[str, str] = {}
    if scenario.events is not None:
        for source in scenario.events:
            out[source.name] = source.bearer or residual or ""
        return out
    specs = scenario.sources or {}
    names = set(specs)
    if scenario.event_table is not None:
        names |= set(scenario.event_table.source)
    for name in names:
        bearer = specs[name].bearer if name in specs else None
        out[name] = bearer or residual or ""
    return out


def split_subject(text: str) -> tuple[str, str | None]:
    """``from`` → (kind, name): ground_up, source, layer or net."""
    text = text.strip()
    if text == "ground_up":
        return "ground_up", None
    if text.startswith("ground_up:"):
        return "source", text.split(":", 1)[1].strip()
    if text.startswith("net:"):
        return "net", text.split(":", 1)[1].strip()
    return "layer", text


def aggregate_limit(layer: Layer) -> float:
    """The annual aggregate limit: limit × (1 + n) with n reinstatements."""
    if layer.reinstatements is not None:
        return layer.limit * (1 + layer.reinstatements)
    return math.inf if layer.aggregate_limit is None else layer.aggregate_limit


def cedent(scenario: Scenario, layer: Layer) -> str:
    """Who pays the layer's premium: ``payer``, else the owner of the subject."""
    assert layer.premium is not None
    if layer.premium.payer is not None:
        return layer.premium.payer
    kind, name = split_subject(layer.from_)
    if kind == "layer":
        return scenario.layer(name or "").party
    if kind == "net":
        return name or ""
    owners = bearers(scenario)
    if kind == "source":
        return owners[name or ""]
    distinct = set(owners.values())
    assert len(distinct) == 1, "a ground_up premium with several bearers needs a payer"
    return distinct.pop()


def defaults_of(scenario: Scenario) -> dict[str, Default]:
    """``PARTY`` or ``CONSORTIUM/MEMBER`` → its ``default``, for every one that has one."""
    out: dict[str, Default] = {}
    for name, party in scenario.parties.items():
        if party.default is not None:
            out[name] = party.default
    for name, party in scenario.parties.items():
        for member, terms in party.member_defaults().items():
            out[f"{name}/{member}"] = terms
    return out


def defaults_in_year(terms: Default, total: float) -> bool:
    """Whether a default given as 0% or 100% happens in a year of total loss ``total``
    (the reference handles only these deterministic defaults)."""
    probability = terms.probability
    if terms.stressed is not None and total >= terms.stressed.over:
        probability = terms.stressed.probability
    assert probability in (0.0, 1.0), "the reference handles defaults of 0% or 100% only"
    return probability == 1.0


# --- events ------------------------------------------------------------------------


def table_events(scenario: Scenario) -> list[Event]:
    """The rows of the scenario's event table in the order they are applied.

    Years in order; within a year by ``time`` where the table has one (rows with the
    same time keep their file order), else in file order.
    """
    table = scenario.event_table
    assert table is not None
    rows = list(range(len(table.loss)))
    if table.time is not None:
        times = [float(t) for t in table.time]
        rows.sort(key=lambda r: (int(table.year[r]), times[r]))
    else:
        rows.sort(key=lambda r: int(table.year[r]))
    return [Event(int(table.year[r]), table.source[r], float(table.loss[r])) for r in rows]


# --- the allocation, event by event ------------------------------------------------


def allocate(scenario: Scenario, years: int, events: list[Event]) -> Ledger:
    """Apply the layers to ``events`` (1-based years, in the order applied)."""
    parties = list(scenario.parties)
    layers = scenario.layers
    owner_of_source = bearers(scenario)
    ledger = Ledger(parties, [layer.name for layer in layers], [])
    by_year: dict[int, list[Event]] = {}
    for event in events:
        by_year.setdefault(event.year, []).append(event)
    terms_of = defaults_of(scenario)
    ledger.defaulted = {name: [] for name in terms_of}
    shares = {name: p.member_shares() for name, p in scenario.parties.items() if p.members}

    for year in range(1, years + 1):
        cumulative = [0.0] * len(layers)  # C: occurrence amounts so far this year
        aggregate = [0.0] * len(layers)  # A: after the annual terms
        reached = [False] * len(layers)
        year_total = sum(event.loss for event in by_year.get(year, []))
        factor: dict[str, float] = {}  # what a party or member pays of what it owes
        for name, terms in terms_of.items():
            defaulted = defaults_in_year(terms, year_total)
            ledger.defaulted[name].append(defaulted)
            factor[name] = terms.recovery if defaulted else 1.0
        for event in by_year.get(year, []):
            net = dict.fromkeys(parties, 0.0)
            bearer = owner_of_source[event.source]
            net[bearer] = event.loss
            # what each member holds of its consortium's net
            holdings = {c: {m: s * net[c] for m, s in ms.items()} for c, ms in shares.items()}
            unpaid_on = dict.fromkeys(parties, 0.0)
            paid: dict[str, float] = {}
            payouts: list[float] = []
            reinstated: list[float] = []
            for j, layer in enumerate(layers):
                kind, name = split_subject(layer.from_)
                if kind == "ground_up":
                    subject, owner = event.loss, bearer
                elif kind == "source":
                    subject = event.loss if event.source == name else 0.0
                    owner = bearer
                elif kind == "layer":
                    subject, owner = paid[name or ""], scenario.layer(name or "").party
                else:
                    # the party's net, floored at 0; a net within the residue of an
                    # amount fully ceded counts as nothing to take (the residue rule)
                    held = net[name or ""]
                    subject = held if held > RESIDUE * event.loss else 0.0
                    owner = name or ""

                # 1. occurrence
                occurrence = min(max(subject - layer.attachment, 0.0), layer.limit)
                if layer.franchise is not None and subject < layer.franchise:
                    occurrence = 0.0
                if (
                    subject >= (layer.franchise or 0.0)
                    and subject - layer.attachment >= layer.limit
                ):
                    reached[j] = True
                # 2. aggregate (with no annual terms, a_i = o_i)
                cap = aggregate_limit(layer)
                if layer.aggregate_attachment > 0 or math.isfinite(cap):
                    before = aggregate[j]
                    cumulative[j] += occurrence
                    after = min(max(cumulative[j] - layer.aggregate_attachment, 0.0), cap)
                    aggregate[j] = after
                    amount = after - before
                else:
                    before = after = 0.0
                    amount = occurrence
                if layer.reinstatements is not None:
                    line = layer.reinstatements * layer.limit
                    reinstated.append(min(after, line) - min(before, line))
                else:
                    reinstated.append(0.0)
                # 3. share last
                owed = layer.share * amount
                # a defaulting party pays its recovery of what it owes; each member of a
                # consortium holds share × owed × the consortium's factor × its own
                own = factor.get(layer.party, 1.0)
                if layer.party in shares:
                    parts = {
                        m: s * owed * own * factor.get(f"{layer.party}/{m}", 1.0)
                        for m, s in shares[layer.party].items()
                    }
                    payout = math.fsum(parts.values())
                else:
                    parts, payout = {}, owed * own
                unpaid_on[owner] += owed - payout
                # the owner's members give up in proportion to what they hold of the subject
                if owner in shares:
                    members = shares[owner]
                    if kind == "net":
                        weights = dict(holdings[owner])
                    elif kind == "layer":
                        weights = {
                            m: s * factor.get(f"{owner}/{m}", 1.0) for m, s in members.items()
                        }
                    else:
                        weights = dict(members)
                    whole = sum(weights.values())
                    for m in members:
                        if whole > 0:
                            holdings[owner][m] -= payout * weights[m] / whole
                for m, part in parts.items():
                    holdings[layer.party][m] += part
                paid[layer.name] = payout
                payouts.append(payout)
                net[layer.party] += payout
                net[owner] -= payout

            ledger.members.append(
                {
                    f"{c}/{m}": 0.0 if abs(v) <= RESIDUE * event.loss else v
                    for c, ms in holdings.items()
                    for m, v in ms.items()
                }
            )
            ledger.unrecovered.append(unpaid_on)
            raw = [net[p] for p in parties]
            cleaned = [0.0 if abs(v) <= RESIDUE * event.loss else v for v in raw]
            ledger.events.append(event)
            ledger.payouts.append(payouts)
            ledger.raw_nets.append(raw)
            ledger.nets.append(cleaned)
            ledger.reinstated.append(reinstated)
        ledger.year_end_aggregate.append(aggregate)
        ledger.limit_reached.append(reached)
    return ledger


# --- figures -----------------------------------------------------------------------


def annual(ledger: Ledger, years: int, values: list[float]) -> np.ndarray:
    """Sum per-event ``values`` into their years, in the order applied."""
    out = [0.0] * years
    for event, value in zip(ledger.events, values, strict=True):
        out[event.year - 1] += value
    return np.array(out)


def figures(x: np.ndarray) -> dict[str, object]:
    """The spec's figures of an annual series, with plain numpy."""
    n = len(x)
    std = float(np.std(x))
    highest = np.sort(x)[n - (-(-n // 100)) :]  # the highest ceil(0.01 × years)
    return {
        "mean": float(np.mean(x)),
        "std": std,
        "stderr": std / math.sqrt(n),
        "prob_positive": float(np.mean(x > 0)),
        "var_99": float(np.quantile(x, 0.99)),
        "var_995": float(np.quantile(x, 0.995)),
        "tvar_99": float(np.mean(highest)),
        "max": float(np.max(x)),
        "return_periods": return_periods(x),
    }


def return_periods(x: np.ndarray) -> dict[str, float]:
    return {str(t): float(np.quantile(x, 1 - 1 / t)) for t in RETURN_PERIODS}


def share_of_total(mean: float, total: float) -> float | None:
    return mean / total if total != 0 else None


@dataclass
class Run:
    """The reference's answer: the ledger, the annual arrays and the figures."""

    ledger: Ledger
    total: np.ndarray
    party: dict[str, np.ndarray]
    layer: dict[str, np.ndarray]
    cost: dict[str, np.ndarray] | None
    premium: dict[str, float] | None
    figures: dict[str, object]


def premiums_of(scenario: Scenario, layer_years: dict[str, np.ndarray]) -> dict[str, float]:
    """Each layer's annual premium (0 without one)."""
    out: dict[str, float] = {}
    for layer in scenario.layers:
        premium = layer.premium
        if premium is None:
            out[layer.name] = 0.0
        elif premium.amount is not None:
            out[layer.name] = premium.amount
        elif premium.rate_on_line is not None:
            out[layer.name] = premium.rate_on_line * layer.limit
        else:
            assert premium.loading is not None
            out[layer.name] = (1 + premium.loading) * float(np.mean(layer_years[layer.name]))
    return out


def costs_of(
    scenario: Scenario,
    ledger: Ledger,
    years: int,
    party_years: dict[str, np.ndarray],
    premium: dict[str, float],
) -> dict[str, np.ndarray]:
    """Each party's annual cost: nets, premiums, reinstatement premiums and subsidies.

    The year's premium flows of a party are netted first (a party that pays a premium
    to itself pays nothing), then added to its net losses.
    """
    flows = dict.fromkeys(scenario.parties, 0.0)  # premiums paid less received
    charges = {p: np.zeros(years) for p in scenario.parties}  # reinstatement premiums
    for j, layer in enumerate(scenario.layers):
        if layer.premium is None:
            continue
        amount = premium[layer.name]
        payer = cedent(scenario, layer)
        subsidised = 0.0
        for subsidy in layer.subsidies:
            flows[subsidy.party] += subsidy.share * amount
            subsidised += subsidy.share
        flows[payer] += (1 - subsidised) * amount
        flows[layer.party] -= amount
        if layer.reinstatement_premium is not None:
            charge = [
                layer.reinstatement_premium * amount * row[j] / layer.limit
                for row in ledger.reinstated
            ]
            charged = annual(ledger, years, charge)
            charges[payer] += charged
            charges[layer.party] -= charged
    return {p: party_years[p] + flows[p] + charges[p] for p in scenario.parties}


def run(scenario: Scenario, years: int, events: list[Event] | None = None) -> Run:
    """The reference answer for ``scenario`` over ``years`` years of ``events``.

    Without ``events``, the scenario's event table is replayed.
    """
    if events is None:
        events = table_events(scenario)
    ledger = allocate(scenario, years, events)
    parties, layers = list(scenario.parties), scenario.layers
    total = annual(ledger, years, [e.loss for e in ledger.events])
    largest = [0.0] * years
    for event in ledger.events:
        largest[event.year - 1] = max(largest[event.year - 1], event.loss)
    party_years = {
        p: annual(ledger, years, [row[i] for row in ledger.nets]) for i, p in enumerate(parties)
    }
    layer_years = {
        layer.name: annual(ledger, years, [row[j] for row in ledger.payouts])
        for j, layer in enumerate(layers)
    }
    priced = any(layer.premium is not None for layer in layers)
    premium = premiums_of(scenario, layer_years) if priced else None
    cost = costs_of(scenario, ledger, years, party_years, premium) if premium is not None else None

    total_figures = figures(total)
    total_figures["oep_return_periods"] = return_periods(np.array(largest))
    total_mean = float(np.mean(total))

    party_out: dict[str, object] = {}
    for name, party in scenario.parties.items():
        entry: dict[str, object] = {"kind": party.kind.value, "label": party.label or name}
        entry.update(figures(party_years[name]))
        entry["share_of_total"] = share_of_total(float(np.mean(party_years[name])), total_mean)
        if party.budget is not None:
            # the outlay is the party's cost (its net where there are no premiums)
            outlay = party_years[name] if cost is None else cost[name]
            above = outlay - party.budget
            entry["budget"] = party.budget
            entry["prob_over_budget"] = float(np.mean(above > 0))
            entry["expected_over_budget"] = float(np.mean(np.maximum(above, 0.0)))
        if name in ledger.defaulted:
            entry["prob_default"] = float(np.mean(ledger.defaulted[name]))
        if ledger.defaulted:
            entry["unrecovered"] = float(
                np.mean(annual(ledger, years, [row[name] for row in ledger.unrecovered]))
            )
        if cost is not None:
            entry["cost"] = figures(cost[name])
        if party.members:
            own = any("/" in key for key in ledger.defaulted)  # members hold their own parts
            members: dict[str, object] = {}
            for member, share in party.member_shares().items():
                key = f"{name}/{member}"
                if own:
                    amounts = annual(ledger, years, [row[key] for row in ledger.members])
                else:
                    amounts = share * party_years[name]
                member_entry = figures(amounts)
                member_entry["share_of_total"] = share_of_total(float(np.mean(amounts)), total_mean)
                if key in ledger.defaulted:
                    member_entry["prob_default"] = float(np.mean(ledger.defaulted[key]))
                if cost is not None:
                    premiums = share * (cost[name] - party_years[name])
                    member_entry["cost"] = figures(amounts + premiums)
                members[member] = member_entry
            entry["members"] = members
        party_out[name] = entry

    layer_out: dict[str, object] = {}
    for j, layer in enumerate(layers):
        x = layer_years[layer.name]
        entry = {"party": layer.party, "from": layer.from_}
        entry.update(figures(x))
        entry["share_of_total"] = share_of_total(float(np.mean(x)), total_mean)
        entry["prob_attach"] = float(np.mean(x > 0))
        cap = aggregate_limit(layer)
        if math.isfinite(cap):
            used_up = [ledger.year_end_aggregate[y][j] >= cap for y in range(years)]
            entry["prob_exhaust"] = float(np.mean(used_up))
        elif math.isfinite(layer.limit):
            entry["prob_exhaust"] = float(
                np.mean([ledger.limit_reached[y][j] for y in range(years)])
            )
        else:
            entry["prob_exhaust"] = None
        if premium is not None:
            amount = premium[layer.name]
            entry["premium"] = amount
            entry["loss_ratio"] = float(np.mean(x)) / amount if amount > 0 else None
            entry["rate_on_line"] = amount / layer.limit if math.isfinite(layer.limit) else None
        layer_out[layer.name] = entry

    balance = max(
        (abs(math.fsum(row) - e.loss) for row, e in zip(ledger.nets, ledger.events, strict=True)),
        default=0.0,
    )
    out = {
        "simulation": {"years": years, "events": len(ledger.events)},
        "total": total_figures,
        "parties": party_out,
        "layers": layer_out,
        "balance": {"max_abs_error": balance},
    }
    return Run(ledger, total, party_years, layer_years, cost, premium, out)


# --- comparing the fast core's figures with these ----------------------------------


def mismatches(
    fast: object, ref: object, atol: float, rtol: float = 1e-9, path: str = ""
) -> list[str]:
    """Where ``fast`` and ``ref`` (nested dicts of figures) differ beyond tolerance.

    Numbers match when |fast − ref| ≤ max(atol, rtol × |ref|); keys must be the same.
    """
    if isinstance(ref, dict):
        if not isinstance(fast, dict):
            return [f"{path}: expected a mapping, got {fast!r}"]
        out = []
        if set(fast) != set(ref):
            out.append(
                f"{path}: keys differ: fast has {sorted(set(fast) - set(ref))} more, "
                f"lacks {sorted(set(ref) - set(fast))}"
            )
        for key in set(fast) & set(ref):
            out += mismatches(fast[key], ref[key], atol, rtol, f"{path}.{key}" if path else key)
        return out
    if isinstance(ref, bool) or ref is None or isinstance(ref, str):
        return [] if fast == ref else [f"{path}: fast {fast!r} != reference {ref!r}"]
    if isinstance(ref, (int, float)):
        if isinstance(fast, bool) or not isinstance(fast, (int, float)):
            return [f"{path}: fast {fast!r} is not a number (reference {ref!r})"]
        if math.isinf(ref) or math.isinf(fast):
            return [] if fast == ref else [f"{path}: fast {fast!r} != reference {ref!r}"]
        if abs(fast - ref) <= max(atol, rtol * abs(ref)):
            return []
        return [f"{path}: fast {fast!r} != reference {ref!r}"]
    return [f"{path}: cannot compare {ref!r}"]


FIGURES = ("total", "parties", "layers")


def assert_figures_match(fast: dict[str, Any], ref: dict[str, Any], scale: float) -> None:
    """The fast core's ``to_dict()`` against the reference's figures.

    ``scale`` is the run's money scale (the largest loss, plus premiums): numbers agree
    to 1e-9 relative or 1e-9 × scale absolute, so counts and probabilities exactly.
    """
    assert fast["simulation"]["years"] == ref["simulation"]["years"]
    assert fast["simulation"]["events"] == ref["simulation"]["events"]
    problems = mismatches(
        {key: fast[key] for key in FIGURES}, {key: ref[key] for key in FIGURES}, atol=1e-9 * scale
    )
    assert not problems, "\n".join(problems[:20])
    assert fast["balance"]["max_abs_error"] <= 1e-9 * scale
