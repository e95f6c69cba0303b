"""A scenario compiled for the allocation core: names resolved to indices, terms to floats.

The plan is small, immutable and picklable, so worker processes can receive it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from riskshare.engine.events import IntArray, SourceSampler
from riskshare.engine.shocks import HitSampler
from riskshare.errors import Problem, ScenarioError
from riskshare.model.checks import subject_owner
from riskshare.model.scenario import (
    EventTable,
    Layer,
    Premium,
    Scenario,
    SubjectKind,
    parse_subject,
)


@dataclass(frozen=True)
class LayerTerms:
    """One layer's terms, with its party and subject as indices."""

    name: str
    party: int
    subject: SubjectKind
    subject_index: int  # source, layer or party index; -1 for ground_up
    attachment: float
    limit: float
    franchise: float
    aggregate_attachment: float
    aggregate_limit: float
    share: float
    reinstatements: int | None
    reinstatement_premium: float | None
    premium_form: str | None  # "amount", "rate_on_line", "loading" or None
    premium_value: float
    payer: int  # the party that pays the premium; -1 where nobody can be named
    subsidies: tuple[tuple[int, float], ...]

    @property
    def has_aggregate(self) -> bool:
        return self.aggregate_attachment > 0 or math.isfinite(self.aggregate_limit)

    @property
    def reinstated_limit(self) -> float:
        """n × limit: the part of a year's payouts that is reinstated."""
        if self.reinstatements is None:
            return 0.0
        return self.reinstatements * self.limit


@dataclass(frozen=True)
class Member:
    consortium: int
    name: str
    share: float


@dataclass(frozen=True)
class Plan:
    """Everything the allocation core needs, and nothing it does not."""

    parties: tuple[str, ...]
    members: tuple[Member, ...]
    sources: tuple[str, ...]
    bearer: IntArray  # party index of each source's bearer
    residual: int  # -1 where the scenario names none and needs none
    layers: tuple[LayerTerms, ...]
    samplers: tuple[SourceSampler, ...]
    table: EventTable | None
    table_sources: IntArray | None  # each events_file row's source index
    budgets: tuple[float | None, ...]
    #: format 1.2: the bearers of each source with ``hits`` (source index → party indices)
    hit_bearers: tuple[tuple[int, tuple[int, ...]], ...] = ()

    @property
    def has_parts(self) -> bool:
        """Whether an event may have several parts (hits, or grouped rows of a file)."""
        return bool(self.hit_bearers) or (self.table is not None and self.table.event is not None)

    def bearers_of(self, source: int) -> set[int]:
        """The parties that first bear a source's losses."""
        for index, bearers in self.hit_bearers:
            if index == source:
                return set(bearers)
        return {int(self.bearer[source])}

    @property
    def has_premiums(self) -> bool:
        return any(layer.premium_form is not None for layer in self.layers)

    @property
    def needs_loading_pass(self) -> bool:
        return any(layer.premium_form == "loading" for layer in self.layers)

    def with_explain_source(self) -> tuple[Plan, int]:
        """The plan with one more source, ``ground_up``, borne by the residual party."""
        if self.residual < 0:
            raise ScenarioError(
                [
                    Problem(
                        ("residual",),
                        "explain needs a residual party to bear "
                        "the given losses: name one with `residual: PARTY`, "
                        "or pass --source NAME",
                    )
                ]
            )
        plan = replace(
            self,
            sources=(*self.sources, "ground_up"),
            bearer=np.append(self.bearer, self.residual),
            table=None,
            table_sources=None,
        )
        return plan, len(self.sources)


def compile_plan(scenario: Scenario) -> Plan:
    """Resolve ``scenario`` into a :class:`Plan`. The scenario must have been checked."""
    parties = tuple(scenario.parties)
    party_index = {name: i for i, name in enumerate(parties)}
    residual_name = scenario.residual_party()
    residual = party_index[residual_name] if residual_name is not None else -1
    bearers = scenario.source_bearers()
    sources = tuple(bearers)
    source_index = {name: i for i, name in enumerate(sources)}
    bearer = np.array(
        [party_index[b] if b is not None else residual for b in bearers.values()], dtype=np.int64
    )
    layers = _layers(scenario, party_index, source_index)
    members = tuple(
        Member(party_index[name], member, share)
        for name, party in scenario.parties.items()
        for member, share in (party.members or {}).items()
    )
    table = scenario.event_table
    samplers = tuple(
        SourceSampler(s.frequency.sampler(), s.severity.sampler())
        if s.severity is not None
        else SourceSampler(
            s.frequency.sampler(),
            None,
            tuple(
                HitSampler(party_index[h.bearer], h.probability, h.sampler()) for h in s.hits or ()
            ),
        )
        for s in scenario.events or []
    )
    hit_bearers = tuple(
        (source_index[name], tuple(party_index[b] for b in bearers))
        for name, bearers in scenario.source_hit_bearers().items()
    )
    return Plan(
        parties=parties,
        members=members,
        sources=sources,
        bearer=bearer,
        residual=residual,
        layers=layers,
        samplers=samplers,
        table=table,
        table_sources=_table_sources(table, source_index) if table is not None else None,
        budgets=tuple(p.budget for p in scenario.parties.values()),
        hit_bearers=hit_bearers,
    )


def _layers(
    scenario: Scenario, party_index: dict[str, int], source_index: dict[str, int]
) -> tuple[LayerTerms, ...]:
    """Each layer's terms in the order written, its party, subject and payer as indices."""
    layer_index: dict[str, int] = {}
    layers: list[LayerTerms] = []
    for layer in scenario.layers:
        kind, name = parse_subject(layer.from_)
        indices = {"source": source_index, "layer": layer_index, "net": party_index}.get(kind)
        premium = layer.premium
        layers.append(
            LayerTerms(
                name=layer.name,
                party=party_index[layer.party],
                subject=kind,
                subject_index=indices[name or ""] if indices is not None else -1,
                attachment=layer.attachment,
                limit=layer.limit,
                franchise=layer.franchise or 0.0,
                aggregate_attachment=layer.aggregate_attachment,
                aggregate_limit=layer.aggregate_cap,
                share=layer.share,
                reinstatements=layer.reinstatements,
                reinstatement_premium=layer.reinstatement_premium,
                premium_form=premium.form if premium is not None else None,
                premium_value=_premium_value(premium),
                payer=_payer(scenario, layer, party_index),
                subsidies=tuple((party_index[s.party], s.share) for s in layer.subsidies),
            )
        )
        layer_index[layer.name] = len(layers) - 1
    return tuple(layers)


def _payer(scenario: Scenario, layer: Layer, party_index: dict[str, int]) -> int:
    """The party that pays the layer's premium: as named, or the one owner of its
    subject; -1 where it has no premium or nobody can be named."""
    if layer.premium is None:
        return -1
    owners = subject_owner(scenario, layer)
    named = layer.premium.payer or (next(iter(owners)) if len(owners) == 1 else None)
    return party_index[named] if named is not None else -1


def _table_sources(table: EventTable, source_index: dict[str, int]) -> IntArray:
    """Each events_file row's source index."""
    names, codes = np.unique(np.asarray(table.source, dtype=object), return_inverse=True)
    lookup = np.array([source_index[str(n)] for n in names], dtype=np.int64)
    return lookup[codes.reshape(-1)] if len(names) else np.zeros(0, dtype=np.int64)


def _premium_value(premium: Premium | None) -> float:
    return 0.0 if premium is None else float(getattr(premium, premium.form))
