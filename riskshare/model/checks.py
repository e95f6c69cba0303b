"""Rules that relate several parts of a scenario.

Each rule returns :class:`~riskshare.errors.Problem` values located by key path
(``("layers", 2, "from")``); :mod:`riskshare.loading.load` turns paths into lines.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator

from riskshare.errors import Loc, Problem
from riskshare.model.amounts import format_amount, format_share
from riskshare.model.scenario import Layer, Scenario, parse_subject
from riskshare.model.shocks import shock_problems

_TOLERANCE = 1e-9
RESERVED_LAYER_NAMES = ("ground_up",)


def check_scenario(scenario: Scenario) -> list[Problem]:
    """Every cross-field problem of ``scenario``, errors and warnings, in file order."""
    problems: list[Problem] = []
    for rule in (_sources, shock_problems, _residual, _layers, _premiums, _net_order, _slices):
        problems.extend(rule(scenario))
    return problems


def subject_owner(scenario: Scenario, layer: Layer) -> set[str]:
    """The parties that give up what ``layer`` pays: the cedents of its subject."""
    kind, name = parse_subject(layer.from_)
    if kind == "layer":
        return {scenario.layer(name).party} if name in _layer_names(scenario) else set()
    if kind == "net":
        return {name} if name is not None else set()
    bearers = _bearers(scenario)
    hit_bearers = scenario.source_hit_bearers()
    if kind == "source":
        if name in hit_bearers:
            return set(hit_bearers[name])
        bearer = bearers.get(name or "")
        return {bearer} if bearer is not None else set()
    if hit_bearers:
        return {p for ps in hit_bearers.values() for p in ps} | {
            b for source, b in bearers.items() if b is not None and source not in hit_bearers
        }
    if not bearers:  # no source at all: a ground_up loss would be the residual party's
        residual = scenario.residual_party()
        return {residual} if residual is not None else set()
    return {b for b in bearers.values() if b is not None}


def _bearers(scenario: Scenario) -> dict[str, str | None]:
    """Source → bearer, with the residual party filled in where it is decided."""
    residual = scenario.residual_party()
    return {
        source: bearer if bearer is not None else residual
        for source, bearer in scenario.source_bearers().items()
    }


def _layer_names(scenario: Scenario) -> set[str]:
    return {layer.name for layer in scenario.layers}


def _sources(scenario: Scenario) -> Iterator[Problem]:
    has_events = scenario.events is not None
    has_file = scenario.events_file is not None
    if has_events == has_file:
        yield Problem(
            (),
            "give exactly one of `events` (a list of event sources) and "
            "`events_file` (a CSV of events)",
        )
    if scenario.sources is not None and not has_file:
        yield Problem(
            ("sources",),
            "`sources` goes with `events_file`; with `events`, "
            "give each source's `bearer` in its entry",
        )
    seen: dict[str, int] = {}
    for i, source in enumerate(scenario.events or []):
        if source.name in seen:
            yield Problem(
                ("events", i, "name"),
                f"source name `{source.name}` is used twice (first at events[{seen[source.name]}])",
            )
        seen.setdefault(source.name, i)
        if source.bearer is not None and source.bearer not in scenario.parties:
            yield _unknown_party(("events", i, "bearer"), source.bearer, scenario)
    table = scenario.event_table
    in_file = set(table.source) if table is not None else set()
    for name, spec in (scenario.sources or {}).items():
        if spec.bearer is not None and spec.bearer not in scenario.parties:
            yield _unknown_party(("sources", name, "bearer"), spec.bearer, scenario)
        if table is not None and name not in in_file:
            yield Problem(
                ("sources", name),
                f"source `{name}` does not appear in the events file's `source` column",
                "warning",
            )


def _residual(scenario: Scenario) -> Iterator[Problem]:
    if scenario.residual is not None:
        if scenario.residual not in scenario.parties:
            yield _unknown_party(("residual",), scenario.residual, scenario)
        return
    hits = scenario.source_hit_bearers()
    needed = any(b is None for s, b in scenario.source_bearers().items() if s not in hits)
    if not needed or scenario.residual_party() is not None:
        return
    enterprises = scenario.enterprises()
    found = (
        "there is no enterprise party"
        if not enterprises
        else "there are several enterprises: " + ", ".join(enterprises)
    )
    yield Problem(
        (),
        f"say which party keeps what no layer takes with `residual: PARTY` "
        f"({found}), or give every source a `bearer`",
    )


def _layers(scenario: Scenario) -> Iterator[Problem]:
    seen: dict[str, int] = {}
    sources = scenario.source_bearers()
    for i, layer in enumerate(scenario.layers):
        if layer.name in seen:
            yield Problem(
                ("layers", i, "name"),
                f"layer name `{layer.name}` is used twice (first at layers[{seen[layer.name]}])",
            )
        elif layer.name in RESERVED_LAYER_NAMES or layer.name.startswith(("ground_up:", "net:")):
            yield Problem(
                ("layers", i, "name"),
                f"`{layer.name}` cannot name a layer: it reads as a subject in `from`",
            )
        if layer.party not in scenario.parties:
            yield _unknown_party(("layers", i, "party"), layer.party, scenario)
        kind, name = parse_subject(layer.from_)
        loc: Loc = ("layers", i, "from")
        if kind == "source" and name not in sources:
            known = ", ".join(sorted(sources)) or "none"
            yield Problem(loc, f"unknown source `{name}` (known sources: {known})")
        elif kind == "net" and name not in scenario.parties:
            yield _unknown_party(loc, name or "", scenario)
        elif kind == "layer":
            if name == layer.name:
                yield Problem(loc, f"layer `{layer.name}` cannot take from itself")
            elif name in seen:
                pass
            elif name in _layer_names(scenario):
                yield Problem(
                    loc,
                    f"`{name}` is written below this layer; a layer can only take "
                    f"from a layer written above it, so move `{name}` up",
                )
            else:
                yield Problem(
                    loc,
                    f"unknown subject `{name}`: write ground_up, ground_up:SOURCE, "
                    f"the name of a layer above, or net:PARTY",
                )
        seen.setdefault(layer.name, i)
        if layer.reinstatements is not None:
            if not math.isfinite(layer.limit):
                yield Problem(
                    ("layers", i, "reinstatements"),
                    "`reinstatements` needs a finite per-event `limit`",
                )
            if layer.aggregate_limit is not None:
                yield Problem(
                    ("layers", i, "reinstatements"),
                    "give `reinstatements` or `aggregate_limit`, not both: "
                    "reinstatements set the aggregate limit to limit × (1 + n)",
                )


def _premiums(scenario: Scenario) -> Iterator[Problem]:
    for i, layer in enumerate(scenario.layers):
        premium = layer.premium
        if premium is not None:
            if premium.rate_on_line is not None and not math.isfinite(layer.limit):
                yield Problem(
                    ("layers", i, "premium", "rate_on_line"),
                    "`rate_on_line` needs a finite per-event `limit`",
                )
            if premium.payer is not None and premium.payer not in scenario.parties:
                yield _unknown_party(("layers", i, "premium", "payer"), premium.payer, scenario)
            owners = subject_owner(scenario, layer)
            if premium.payer is None and not owners:
                yield Problem(
                    ("layers", i, "premium"),
                    "nobody bears this layer's subject, so nobody can be its cedent: "
                    "say who pays with `payer: PARTY` inside `premium`",
                )
            if premium.payer is None and len(owners) > 1:
                yield Problem(
                    ("layers", i, "premium"),
                    f"the subject's sources have different bearers ({', '.join(sorted(owners))}): "
                    f"say who pays with `payer: PARTY` inside `premium`",
                )
        if layer.reinstatement_premium is not None and layer.reinstatements is None:
            yield Problem(
                ("layers", i, "reinstatement_premium"),
                "`reinstatement_premium` needs `reinstatements`",
            )
        if layer.reinstatement_premium is not None and premium is None:
            yield Problem(
                ("layers", i, "reinstatement_premium"),
                "`reinstatement_premium` is a share of the `premium`; give the layer a premium",
            )
        if layer.subsidy is not None:
            yield from _subsidies(scenario, i, layer)


def _subsidies(scenario: Scenario, i: int, layer: Layer) -> Iterator[Problem]:
    base: Loc = ("layers", i, "subsidy")
    if layer.premium is None:
        yield Problem(base, "a subsidy pays part of the `premium`; give the layer a premium")
    payer = layer.premium.payer if layer.premium is not None else None
    cedents = {payer} if payer is not None else subject_owner(scenario, layer)
    total = 0.0
    for j, subsidy in enumerate(layer.subsidies):
        loc = (*base, j) if isinstance(layer.subsidy, list) else base
        total += subsidy.share
        if subsidy.party not in scenario.parties:
            yield _unknown_party((*loc, "party"), subsidy.party, scenario)
        elif subsidy.party in cedents:
            yield Problem(
                (*loc, "party"),
                f"`{subsidy.party}` pays this premium itself; a subsidy comes from another party",
            )
    if total > 1 + _TOLERANCE:
        yield Problem(
            base,
            f"subsidies on one layer may pay at most 100% of its premium "
            f"(these pay {format_share(total)})",
        )


def _net_order(scenario: Scenario) -> Iterator[Problem]:
    """A cession from what a party gives up, after a layer took the party's net."""
    net_taken: dict[str, str] = {}
    for i, layer in enumerate(scenario.layers):
        kind, name = parse_subject(layer.from_)
        if kind == "net" and name is not None:
            net_taken.setdefault(name, layer.name)
            continue
        givers = subject_owner(scenario, layer)
        for party in sorted(givers & set(net_taken)):
            yield Problem(
                ("layers", i, "from"),
                f"takes from {layer.from_}, which `{party}` gives up, but layer "
                f"`{net_taken[party]}` above already took net:{party}; that cession "
                f"would take what `{party}` no longer holds: write this layer above "
                f"`{net_taken[party]}`",
            )


def _slices(scenario: Scenario) -> Iterator[Problem]:
    """Over-ceded slices (errors) and gaps in a tower (warnings), subject by subject."""
    groups: dict[str, list[int]] = {}
    sources = list(scenario.source_bearers())
    for i, layer in enumerate(scenario.layers):
        kind, name = parse_subject(layer.from_)
        if kind == "net":
            continue
        if kind == "layer":
            groups.setdefault(f"layer `{name}`", []).append(i)
        elif kind == "source":
            groups.setdefault(f"ground_up:{name}", []).append(i)
        else:
            for source in sources or [""]:
                groups.setdefault(f"ground_up:{source}" if source else "ground_up", []).append(i)
    unique: dict[tuple[int, ...], str] = {}
    for subject, members in groups.items():
        key = tuple(sorted(members))
        only_ground_up = all(parse_subject(scenario.layers[i].from_)[0] == "ground_up" for i in key)
        if key not in unique:
            unique[key] = "ground_up" if only_ground_up else subject
    reported: set[int] = set()
    for key, subject in unique.items():
        members = list(key)
        for problem in _over_ceded(scenario, subject, members):
            index = problem.loc[1]
            if isinstance(index, int) and index not in reported:
                reported.add(index)
                yield problem
        yield from _gaps(scenario, subject, members)


def _over_ceded(scenario: Scenario, subject: str, members: list[int]) -> Iterator[Problem]:
    taken: list[tuple[float, float, float, str]] = []
    for i in members:
        layer = scenario.layers[i]
        low, high = layer.attachment, layer.attachment + layer.limit
        if layer.share == 0 or high <= low:
            continue
        cuts = sorted({low, high, *(x for t in taken for x in t[:2] if low < x < high)})
        for a, b in itertools.pairwise(cuts):
            over = [t for t in taken if t[0] < b and t[1] > a]
            total = layer.share + math.fsum(t[2] for t in over)
            if total > 1 + _TOLERANCE:
                others = ", ".join(f"`{t[3]}`" for t in over)
                yield Problem(
                    ("layers", i, "share"),
                    f"with {others}, the layers on {subject} "
                    f"would take {format_share(total)} of the slice {_slice(a, b)}; layers on one "
                    f"subject may take at most 100% of any slice",
                )
                break
        taken.append((low, high, layer.share, layer.name))


def _gaps(scenario: Scenario, subject: str, members: list[int]) -> Iterator[Problem]:
    spans = sorted(
        (scenario.layers[i].attachment, scenario.layers[i].attachment + scenario.layers[i].limit, i)
        for i in members
        if scenario.layers[i].share > 0
    )
    reach = -math.inf
    for low, high, i in spans:
        if reach != -math.inf and low > reach * (1 + _TOLERANCE):
            yield Problem(
                ("layers", i, "attachment"),
                f"no layer on {subject} takes the slice {_slice(reach, low)} below "
                f"`{scenario.layers[i].name}` (a gap in the tower: that part stays with "
                "the cedent)",
                "warning",
            )
        reach = max(reach, high)


def _slice(low: float, high: float) -> str:
    return f"{format_amount(low)}–{format_amount(high)}"


def _unknown_party(loc: Loc, name: str, scenario: Scenario) -> Problem:
    known = ", ".join(scenario.parties)
    return Problem(loc, f"unknown party `{name}` (parties: {known})")
