"""A slow scalar reference of the scenario format, written from the spec's text.

``/work/shared/spec/scenario-format.md`` fixes the semantics; this module restates
them as plainly as it can: Python loops over years and, within a year, over events
in time order; for each event, the layers in the order written. Nothing here
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

from riskshare.model.scenario import Layer, PartyKind, Scenario

RETURN_PERIODS = (10, 50, 100, 200, 500, 1000)
#: The documented residue rule of ``riskshare.engine.series.clean_residue``.
RESIDUE = 1e-12


@dataclass(frozen=True)
class Event:
    """One event: its year (1-based), its source's name and its ground-up loss; with
    several parts (format 1.2), each part's source, bearer and loss (the loss their sum)."""

    year: int
    source: str
    loss: float
    parts: tuple[tuple[str, str, float], ...] | None = None


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
    if table.event is not None:
        return grouped_events(scenario, rows)
    return [Event(int(table.year[r]), table.source[r], float(table.loss[r])) for r in rows]


def grouped_events(scenario: Scenario, rows: list[int]) -> list[Event]:
    """Format 1.2: rows with the same year and the same non-empty ``event`` are one
    occurrence, at its first row's (in file order) time and place; its parts are its
    rows in file order, each borne by its source's bearer."""
    table = scenario.event_table
    assert table is not None and table.event is not None
    owner = bearers(scenario)
    groups: dict[tuple[int, str], list[int]] = {}
    for r in range(len(table.loss)):  # file order
        name = table.event[r]
        key = (int(table.year[r]), name) if name else (-1, str(r))
        groups.setdefault(key, []).append(r)
    out = []
    for r in rows:
        name = table.event[r]
        members = groups[(int(table.year[r]), name) if name else (-1, str(r))]
        if members[0] != r:
            continue  # not the occurrence's first row
        parts = tuple(
            (table.source[m], owner[table.source[m]], float(table.loss[m])) for m in members
        )
        loss = 0.0
        for part in parts:
            loss += part[2]
        out.append(Event(int(table.year[r]), table.source[r], loss, parts))
    return out


def parts_of(event: Event, owner_of_source: dict[str, str]) -> tuple[tuple[str, str, float], ...]:
    """An event's parts: as given, or one part borne by its source's bearer."""
    if event.parts is not None:
        return event.parts
    return ((event.source, owner_of_source[event.source], event.loss),)


def holders(parts: tuple[tuple[str, str, float], ...], source: str | None) -> dict[str, float]:
    """Who holds how much of a subject made of ``parts`` (of one ``source``, or all)."""
    held: dict[str, float] = {}
    for part_source, bearer, loss in parts:
        if source is None or part_source == source:
            held[bearer] = held.get(bearer, 0.0) + loss
    return held


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

    for year in range(1, years + 1):
        cumulative = [0.0] * len(layers)  # C: occurrence amounts so far this year
        aggregate = [0.0] * len(layers)  # A: after the annual terms
        reached = [False] * len(layers)
        for event in by_year.get(year, []):
            net = dict.fromkeys(parties, 0.0)
            parts = parts_of(event, owner_of_source)
            for _, part_bearer, part_loss in parts:
                net[part_bearer] += part_loss
            paid: dict[str, float] = {}
            payouts: list[float] = []
            reinstated: list[float] = []
            for j, layer in enumerate(layers):
                kind, name = split_subject(layer.from_)
                # the owners of the subject, and what each holds of it
                if kind == "ground_up":
                    subject, owners = event.loss, holders(parts, None)
                elif kind == "source":
                    owners = holders(parts, name)
                    subject = 0.0
                    for held in owners.values():
                        subject += held
                elif kind == "layer":
                    subject = paid[name or ""]
                    owners = {scenario.layer(name or "").party: subject}
                else:
                    # the party's net, floored at 0; a net within the residue of an
                    # amount fully ceded counts as nothing to take (the residue rule)
                    held = net[name or ""]
                    subject = held if held > RESIDUE * event.loss else 0.0
                    owners = {name or "": subject}

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
                payout = layer.share * amount
                paid[layer.name] = payout
                payouts.append(payout)
                net[layer.party] += payout
                # each owner gives up in proportion to what it holds of the subject
                for owner, held in owners.items():
                    if len(owners) == 1:
                        net[owner] -= payout
                    elif subject > 0:
                        net[owner] -= payout * held / subject

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
            above = party_years[name] - party.budget
            entry["budget"] = party.budget
            entry["prob_over_budget"] = float(np.mean(above > 0))
            entry["expected_over_budget"] = float(np.mean(np.maximum(above, 0.0)))
        if cost is not None:
            entry["cost"] = figures(cost[name])
        if party.members:
            members: dict[str, object] = {}
            for member, share in party.members.items():
                amounts = share * party_years[name]
                member_entry = figures(amounts)
                member_entry["share_of_total"] = share_of_total(float(np.mean(amounts)), total_mean)
                if cost is not None:
                    member_entry["cost"] = figures(share * cost[name])
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
