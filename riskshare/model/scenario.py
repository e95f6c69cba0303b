"""The scenario format as pydantic models: parties, sources, layers, the scenario.

Value types (amounts, shares, rates) live in :mod:`riskshare.model.fields`, frequency and
severity forms in :mod:`riskshare.model.distributions`. Rules that relate several fields
(a layer naming an unknown party, a tower that cedes more than 100% of a slice) live
in :mod:`riskshare.model.checks`; reading YAML and placing errors at their line lives in
:mod:`riskshare.loading.load`. Nothing here touches a file.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum
from typing import Annotated, ClassVar, Literal

import numpy as np
import numpy.typing as npt
from pydantic import Field, PrivateAttr, model_validator
from pydantic_core import PydanticCustomError

from riskshare.model.distributions import Frequency, Severity
from riskshare.model.fields import Amount, Count, Limit, Model, Name, OneOf, Rate, Share
from riskshare.model.shocks import Hits

FORMAT_VERSION = "1.2"


class EventSource(Model):
    name: Name
    frequency: Frequency
    severity: Severity | None = None
    bearer: Name | None = None
    hits: Hits | None = None  # format 1.2: in place of severity and bearer

    def hit_bearers(self) -> list[str]:
        """The bearers of the source's hits, in the order written (none without hits)."""
        return [hit.bearer for hit in self.hits or []]


class SourceSpec(Model):
    """A source named in an ``events_file``: who bears its losses."""

    bearer: Name | None = None


# --- parties --------------------------------------------------------------------------


class PartyKind(str, Enum):
    enterprise = "enterprise"
    insurer = "insurer"
    consortium = "consortium"
    reinsurer = "reinsurer"
    government = "government"


class Party(Model):
    kind: PartyKind
    label: str | None = None
    members: dict[Name, Share] | None = None
    budget: Amount | None = None

    @model_validator(mode="after")
    def _members(self) -> Party:
        if self.kind is PartyKind.consortium:
            if not self.members:
                raise PydanticCustomError(
                    "members", "a consortium needs `members`: member name → share, summing to 100%"
                )
            total = math.fsum(self.members.values())
            if abs(total - 1.0) > 1e-9:
                raise PydanticCustomError(
                    "members",
                    "consortium members' shares must sum to 100% (they sum to {t})",
                    {"t": f"{total * 100:.6g}%"},
                )
        elif self.members is not None:
            raise PydanticCustomError(
                "members",
                "only a consortium has `members` (this party is a {kind})",
                {"kind": self.kind.value},
            )
        return self


# --- layers ---------------------------------------------------------------------------


class Premium(OneOf):
    """The annual premium of a layer: exactly one of ``amount``, ``rate_on_line``, ``loading``."""

    what: ClassVar[str] = "premium"
    besides: ClassVar[tuple[str, ...]] = ("payer",)

    amount: Amount | None = None
    rate_on_line: Annotated[Rate, Field(ge=0, allow_inf_nan=False)] | None = None
    loading: Annotated[Rate, Field(ge=-1, allow_inf_nan=False)] | None = None
    payer: Name | None = None


class Subsidy(Model):
    party: Name
    share: Share


class Layer(Model):
    name: Name
    party: Name
    from_: str = Field(default="ground_up", alias="from")
    attachment: Amount = 0.0
    limit: Limit = math.inf
    franchise: Amount | None = None
    aggregate_attachment: Amount = 0.0
    aggregate_limit: Limit | None = None
    reinstatements: Count | None = None
    share: Share = 1.0
    premium: Premium | None = None
    reinstatement_premium: Annotated[Rate, Field(ge=0, allow_inf_nan=False)] | None = None
    subsidy: Subsidy | list[Subsidy] | None = None

    @property
    def aggregate_cap(self) -> float:
        """The annual aggregate limit in force, reinstatements included (∞ if none)."""
        if self.reinstatements is not None and math.isfinite(self.limit):
            return self.limit * (1 + self.reinstatements)
        return math.inf if self.aggregate_limit is None else self.aggregate_limit

    @property
    def subsidies(self) -> list[Subsidy]:
        if self.subsidy is None:
            return []
        return list(self.subsidy) if isinstance(self.subsidy, list) else [self.subsidy]


@dataclass(frozen=True)
class EventTable:
    """Events read from an ``events_file``: one row an event, in file order.

    ``year`` is 1-based as in the file; ``source`` holds source names (``""`` where the
    file has no source column); ``time`` is None when the file has no time column.
    """

    year: npt.NDArray[np.int64]
    loss: npt.NDArray[np.float64]
    source: tuple[str, ...]
    time: npt.NDArray[np.float64] | None = None
    event: tuple[str, ...] | None = None  # format 1.2: rows of one occurrence share a name

    @property
    def years(self) -> int:
        return int(self.year.max()) if len(self.year) else 0


# --- the scenario ---------------------------------------------------------------------


class Simulation(Model):
    years: Annotated[Count, Field(ge=1)] = 100_000
    seed: Annotated[Count, Field(ge=0)] = 0


class Scenario(Model):
    """A whole scenario: parties, event sources and the layers that share the losses."""

    name: Name
    description: str = ""
    currency: str = "CNY"
    simulation: Simulation = Simulation()
    parties: Annotated[dict[Name, Party], Field(min_length=1)]
    residual: Name | None = None
    events: list[EventSource] | None = None
    events_file: str | None = None
    sources: dict[Name, SourceSpec] | None = None
    layers: list[Layer]

    _file: str | None = PrivateAttr(default=None)
    _event_table: EventTable | None = PrivateAttr(default=None)

    @property
    def file(self) -> str | None:
        """The file the scenario was read from, if any."""
        return self._file

    @property
    def event_table(self) -> EventTable | None:
        """The events of ``events_file``, once the file has been read."""
        return self._event_table

    def attach(self, *, file: str | None, event_table: EventTable | None) -> Scenario:
        """Record where the scenario came from and the events its file lists."""
        self._file = file
        self._event_table = event_table
        return self

    def source_bearers(self) -> dict[str, str | None]:
        """Source name → the party named as its bearer (None: the residual party)."""
        if self.events is not None:
            return {source.name: source.bearer for source in self.events}
        specs = self.sources or {}
        names = set(specs)
        if self._event_table is not None:
            names |= set(self._event_table.source)
        return {name: (specs[name].bearer if name in specs else None) for name in sorted(names)}

    def source_hit_bearers(self) -> dict[str, list[str]]:
        """Source name → the bearers of its hits (format 1.2), for the sources with hits."""
        return {s.name: s.hit_bearers() for s in self.events or [] if s.hits is not None}

    def has_hits(self) -> bool:
        """Whether an occurrence may strike several bearers (``hits``, or an ``event``
        column grouping rows of an events file)."""
        table = self._event_table
        grouped = table is not None and table.event is not None
        return grouped or any(s.hits is not None for s in self.events or [])

    def residual_party(self) -> str | None:
        """The residual party: as written, or the only enterprise (None if undecided)."""
        if self.residual is not None:
            return self.residual
        enterprises = self.enterprises()
        return enterprises[0] if len(enterprises) == 1 else None

    def enterprises(self) -> list[str]:
        """The names of the ``enterprise`` parties, in the order written."""
        return [n for n, p in self.parties.items() if p.kind is PartyKind.enterprise]

    def header(self) -> dict[str, object]:
        """The ``scenario`` entry of every JSON document: name, file and currency."""
        return {"name": self.name, "file": self.file, "currency": self.currency}

    def party_label(self, name: str) -> str:
        party = self.parties[name]
        return party.label if party.label is not None else name

    def layer(self, name: str) -> Layer:
        return next(layer for layer in self.layers if layer.name == name)


SubjectKind = Literal["ground_up", "source", "layer", "net"]


def parse_subject(text: str) -> tuple[SubjectKind, str | None]:
    """Split a layer's ``from`` into its kind and the name it refers to.

    ``ground_up`` → ("ground_up", None); ``ground_up:SOURCE`` → ("source", SOURCE);
    ``net:PARTY`` → ("net", PARTY); anything else names a layer written above.
    """
    text = text.strip()
    if text == "ground_up":
        return "ground_up", None
    if text.startswith("ground_up:"):
        return "source", text[len("ground_up:") :].strip()
    if text.startswith("net:"):
        return "net", text[len("net:") :].strip()
    return "layer", text


def scenario_json_schema() -> dict[str, object]:
    """The JSON Schema of the scenario format, from the models (``riskshare schema``)."""

    def clean(node: object) -> object:
        if isinstance(node, float) and math.isinf(node):
            return "unlimited"
        if isinstance(node, dict):
            return {key: clean(value) for key, value in node.items()}
        if isinstance(node, list):
            return [clean(value) for value in node]
        return node

    document = clean(Scenario.model_json_schema(by_alias=True))
    assert isinstance(document, dict)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "riskshare scenario",
        "description": f"riskshare scenario format {FORMAT_VERSION}",
        **{k: v for k, v in document.items() if k not in ("title", "description")},
    }
