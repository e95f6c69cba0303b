"""A scenario compiled for the allocation core: names resolved to indices, terms to floats.

The plan is small, immutable and picklable, so worker processes can receive it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from riskshare.engine.events import IntArray, SourceSampler, frequency_sampler, severity_sampler
from riskshare.errors import Problem, ScenarioError
from riskshare.model.checks import subject_owner
from riskshare.model.scenario import EventTable, Premium, Scenario, SubjectKind, parse_subject


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
    layer_index: dict[str, int] = {}
    layers: list[LayerTerms] = []
    for layer in scenario.layers:
        kind, name = parse_subject(layer.from_)
        if kind == "source":
            index = source_index[name or ""]
        elif kind == "layer":
            index = layer_index[name or ""]
        elif kind == "net":
            index = party_index[name or ""]
        else:
            index = -1
        premium = layer.premium
        payer = -1
        if premium is not None:
            owners = subject_owner(scenario, layer)
            named = premium.payer or (next(iter(owners)) if len(owners) == 1 else None)
            payer = party_index[named] if named is not None else -1
        layers.append(
            LayerTerms(
                name=layer.name,
                party=party_index[layer.party],
                subject=kind,
                subject_index=index,
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
                payer=payer,
                subsidies=tuple((party_index[s.party], s.share) for s in layer.subsidies),
            )
        )
        layer_index[layer.name] = len(layers) - 1
    members = tuple(
        Member(party_index[name], member, share)
        for name, party in scenario.parties.items()
        for member, share in (party.members or {}).items()
    )
    table = scenario.event_table
    table_sources = None
    if table is not None:
        names, codes = np.unique(np.asarray(table.source, dtype=object), return_inverse=True)
        lookup = np.array([source_index[str(n)] for n in names], dtype=np.int64)
        table_sources = lookup[codes.reshape(-1)] if len(names) else np.zeros(0, dtype=np.int64)
    samplers = tuple(
        SourceSampler(frequency_sampler(s.frequency), severity_sampler(s.severity))
        for s in scenario.events or []
    )
    return Plan(
        parties=parties,
        members=members,
        sources=sources,
        bearer=bearer,
        residual=residual,
        layers=tuple(layers),
        samplers=samplers,
        table=table,
        table_sources=table_sources,
        budgets=tuple(p.budget for p in scenario.parties.values()),
    )


def _premium_value(premium: Premium | None) -> float:
    return 0.0 if premium is None else float(getattr(premium, premium.form))
