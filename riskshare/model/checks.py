"""Rules that relate several parts of a scenario.

Each rule returns :class:`~riskshare.errors.Problem` values located by key path
(``("layers", 2, "from")``); :mod:`riskshare.loading.load` turns paths into lines.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from dataclasses import dataclass

from riskshare.errors import Loc, Problem
from riskshare.model.amounts import format_amount, format_share
from riskshare.model.finite import size_problems
from riskshare.model.scenario import Layer, Scenario, parse_subject

_TOLERANCE = 1e-9
RESERVED_LAYER_NAMES = ("ground_up",)


def check_scenario(scenario: Scenario) -> list[Problem]:
    """Every cross-field problem of ``scenario``, errors and warnings, in file order."""
    problems: list[Problem] = []
    for rule in (
        _sources,
        _residual,
        _defaults,
        _layers,
        _premiums,
        _net_order,
        _slices,
        size_problems,
    ):
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
    if kind == "source":
        bearer = bearers.get(name or "")
        return {bearer} if bearer is not None else set()
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
    needed = any(b is None for b in scenario.source_bearers().values())
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


def _defaults(scenario: Scenario) -> Iterator[Problem]:
    """A government does not default: it backs the programme (format 1.2)."""
    for name, party in scenario.parties.items():
        if party.default is not None and party.kind.value == "government":
            yield Problem(
                ("parties", name, "default"),
                f"a government party cannot default: remove `default` from `{name}`",
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
    slips: list[Problem] = []
    for key, subject in unique.items():
        members = list(key)
        for problem in _over_ceded(scenario, subject, members):
            index = problem.loc[1]
            if isinstance(index, int) and index not in reported:
                reported.add(index)
                yield problem
        yield from _gaps(scenario, subject, members)
        for problem in _limit_slips(scenario, members):
            if problem not in slips:
                slips.append(problem)
                yield problem


@dataclass(frozen=True)
class _Take:
    """What one layer takes of its subject: the share ``share`` of the annual slice
    ``[annual_low, annual_high)`` of what its per-event slice ``[low, high)`` gives.

    ``terms`` are the per-event terms in force (the subject, attachment, limit and a
    franchise that can matter): layers with the same terms take the same amount of every
    event, so only their annual slices tell them apart.
    """

    index: int
    name: str
    terms: tuple[str, float, float, float]
    low: float
    high: float
    annual_low: float
    annual_high: float
    share: float


def _take(layer: Layer, index: int) -> _Take | None:
    """What ``layer`` takes of its subject (None: nothing, ever)."""
    low, high = layer.attachment, layer.attachment + layer.limit
    annual_low = layer.aggregate_attachment
    annual_high = annual_low + layer.aggregate_cap
    if layer.share == 0 or high <= low or annual_high <= annual_low:
        return None
    # a franchise at or below the attachment never changes what the layer takes
    franchise = layer.franchise if layer.franchise is not None else 0.0
    in_force = franchise if franchise > layer.attachment else 0.0
    terms = (layer.from_, layer.attachment, layer.limit, in_force)
    return _Take(index, layer.name, terms, low, high, annual_low, annual_high, layer.share)


def _over_ceded(scenario: Scenario, subject: str, members: list[int]) -> Iterator[Problem]:
    """Each layer that, with the layers written above it, would take more than 100% of
    a slice of ``subject``: of an annual slice among layers with the same per-event
    terms, of a per-event slice among the others (whose annual terms count the
    amounts of different slices, so they cannot keep the layers apart)."""
    taken: list[_Take] = []
    for i in members:
        take = _take(scenario.layers[i], i)
        if take is None:
            continue
        problem = _annual_problem(take, taken, subject) or _per_event_problem(take, taken, subject)
        if problem is not None:
            yield problem
        taken.append(take)


def _annual_problem(take: _Take, taken: list[_Take], subject: str) -> Problem | None:
    """Over-cession of an annual slice by ``take`` and the layers of the same terms."""
    siblings = [t for t in taken if t.terms == take.terms]
    bounds = (x for t in siblings for x in (t.annual_low, t.annual_high))
    cuts = sorted({take.annual_low, take.annual_high, *_inside(bounds, take, annual=True)})
    for a, b in itertools.pairwise(cuts):
        over = [t for t in siblings if t.annual_low < b and t.annual_high > a]
        total = take.share + math.fsum(t.share for t in over)
        if total > 1 + _TOLERANCE:
            per_event = _slice(take.low, take.high)
            where = (
                f"the slice {per_event}"
                if (a, b) == (0.0, math.inf)
                else f"the annual aggregate slice {_slice(a, b)} of each event's slice {per_event}"
            )
            return _over_problem(take, over, subject, total, where)
    return None


def _per_event_problem(take: _Take, taken: list[_Take], subject: str) -> Problem | None:
    """Over-cession of a per-event slice by ``take`` and the layers of other terms.

    Each set of layers with the same terms takes, of any part of its per-event slice,
    at most the largest sum of their shares over its annual slices: ``take``'s own set
    counts where ``take`` is, the others at their largest.
    """
    own, own_over = _coverage(
        [take, *(t for t in taken if t.terms == take.terms)], take.annual_low, take.annual_high
    )
    groups: dict[tuple[str, float, float, float], list[_Take]] = {}
    for t in taken:
        if t.terms != take.terms:
            groups.setdefault(t.terms, []).append(t)
    weights = [(group[0], *_coverage(group, 0.0, math.inf)) for group in groups.values()]
    bounds = (x for first, _, _ in weights for x in (first.low, first.high))
    cuts = sorted({take.low, take.high, *_inside(bounds, take, annual=False)})
    for a, b in itertools.pairwise(cuts):
        over = [(w, ts) for first, w, ts in weights if first.low < b and first.high > a]
        total = own + math.fsum(w for w, _ in over)
        if total > 1 + _TOLERANCE:
            others = [t for t in own_over if t is not take] + [t for _, ts in over for t in ts]
            return _over_problem(take, others, subject, total, f"the slice {_slice(a, b)}")
    return None


def _inside(bounds: Iterator[float], take: _Take, *, annual: bool) -> Iterator[float]:
    low, high = (take.annual_low, take.annual_high) if annual else (take.low, take.high)
    return (x for x in bounds if low < x < high)


def _coverage(takes: list[_Take], low: float, high: float) -> tuple[float, list[_Take]]:
    """The largest sum of shares of ``takes`` (of the same terms) at any point of the
    annual range ``[low, high)``, and the layers that reach it."""
    bounds = (x for t in takes for x in (t.annual_low, t.annual_high))
    cuts = sorted({low, high, *(x for x in bounds if low < x < high)})
    best: tuple[float, list[_Take]] = (0.0, [])
    for a, b in itertools.pairwise(cuts):
        over = [t for t in takes if t.annual_low < b and t.annual_high > a]
        total = math.fsum(t.share for t in over)
        if total > best[0]:
            best = (total, over)
    return best


def _over_problem(
    take: _Take, others: list[_Take], subject: str, total: float, where: str
) -> Problem:
    names = ", ".join(f"`{t.name}`" for t in sorted(others, key=lambda t: t.index))
    return Problem(
        ("layers", take.index, "share"),
        f"with {names}, the layers on {subject} would take {format_share(total)} of "
        f"{where}; layers on one subject may take at most 100% of any slice",
    )


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
    yield from _annual_gaps(scenario, subject, members)


def _annual_gaps(scenario: Scenario, subject: str, members: list[int]) -> Iterator[Problem]:
    """Gaps between the annual slices of layers with the same per-event terms."""
    groups: dict[tuple[str, float, float, float], list[_Take]] = {}
    for i in members:
        take = _take(scenario.layers[i], i)
        if take is not None:
            groups.setdefault(take.terms, []).append(take)
    for group in groups.values():
        reach = -math.inf
        for take in sorted(group, key=lambda t: (t.annual_low, t.annual_high, t.index)):
            if reach != -math.inf and take.annual_low > reach * (1 + _TOLERANCE):
                yield Problem(
                    ("layers", take.index, "aggregate_attachment"),
                    f"no layer on {subject} takes the annual aggregate slice "
                    f"{_slice(reach, take.annual_low)} below `{take.name}` (a gap in the "
                    "annual tower: that part stays with the cedent)",
                    "warning",
                )
            reach = max(reach, take.annual_high)


def _limit_slips(scenario: Scenario, members: list[int]) -> Iterator[Problem]:
    """Warnings where a `limit` looks written as the top of its layer, not its size.

    Two signs, among the layers on one subject: the next layer attaches exactly at
    this layer's `limit`, which this layer then overlaps (5M xs 5M below 50M xs 50M:
    the writer meant 5M up to 50M); or a limit below its attachment on a layer with no
    layer ending where it starts (an excess layer stacked on another, as 1.75B xs 2B
    on 1B xs 1B, is the usual shape and is not warned of).
    """
    layers = scenario.layers
    for i in members:
        layer = layers[i]
        low, size = layer.attachment, layer.limit
        if not 0 < size < math.inf or low <= 0:
            continue
        above = [
            j
            for j in members
            if _same(layers[j].attachment, size) and low < layers[j].attachment < low + size
        ]
        if above:
            yield Problem(
                ("layers", i, "limit"),
                f"limit {format_amount(size)} reaches {format_amount(low + size)} "
                f"({format_amount(low)} + {format_amount(size)}), past `{layers[above[0]].name}` "
                f"which attaches at {format_amount(size)}: `limit` is the size of the layer "
                f"above its attachment, not its top; for a layer from {format_amount(low)} up "
                f"to {format_amount(size)} write limit: {format_amount(size - low)}",
                "warning",
            )
        elif size < low and not any(
            _same(layers[j].attachment + layers[j].limit, low) for j in members if j != i
        ):
            yield Problem(
                ("layers", i, "limit"),
                f"limit {format_amount(size)} is below attachment {format_amount(low)}: "
                "`limit` is the size of the layer above its attachment, not its top, so this "
                f"layer takes from {format_amount(low)} up to {format_amount(low + size)}",
                "warning",
            )


def _same(a: float, b: float) -> bool:
    return math.isfinite(a) and abs(a - b) <= _TOLERANCE * max(abs(a), abs(b))


def _slice(low: float, high: float) -> str:
    return f"{format_amount(low)}–{format_amount(high)}"


def _unknown_party(loc: Loc, name: str, scenario: Scenario) -> Problem:
    known = ", ".join(scenario.parties)
    return Problem(loc, f"unknown party `{name}` (parties: {known})")
