"""The scenario format as pydantic models: field types, defaults and one-field rules.

Rules that relate several fields (a layer naming an unknown party, a tower that cedes
more than 100% of a slice) live in :mod:`riskshare.checks`; reading YAML and placing
errors at their line lives in :mod:`riskshare.loading`. Nothing here touches a file.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum
from typing import Annotated, Literal

import numpy as np
import numpy.typing as npt

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from riskshare.amounts import parse_amount, parse_share

FORMAT_VERSION = "1.1"


def _amount(value: object) -> float:
    try:
        return parse_amount(value)
    except ValueError as error:
        raise PydanticCustomError("amount", str(error)) from None


def _limit(value: object) -> float:
    try:
        return parse_amount(value, allow_unlimited=True)
    except ValueError as error:
        raise PydanticCustomError("amount", str(error)) from None


def _share(value: object) -> float:
    try:
        return parse_share(value)
    except ValueError as error:
        raise PydanticCustomError("share", str(error)) from None


def _rate(value: object) -> float:
    """A rate or loading: a number (0.4) or a percentage (``40%``), which may exceed 100%."""
    if isinstance(value, str):
        text = value.strip()
        try:
            return float(text[:-1]) / 100 if text.endswith("%") else float(text)
        except ValueError:
            raise PydanticCustomError(
                "rate", "is not a rate: {value!r}; write a percentage such as 40% or a number "
                "such as 0.4", {"value": value},
            ) from None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise PydanticCustomError("rate", "must be a rate such as 40% or 0.4")
    return float(value)


def _count(value: object) -> int:
    """A whole number written as a number or an amount string (``1M`` years)."""
    if isinstance(value, bool):
        raise PydanticCustomError("count", "must be a whole number")
    try:
        number = parse_amount(value)
    except ValueError as error:
        raise PydanticCustomError("count", str(error)) from None
    if not number.is_integer():
        raise PydanticCustomError("count", "must be a whole number (got {value})", {"value": value})
    return int(number)


_AMOUNT_SCHEMA = {
    "anyOf": [
        {"type": "number", "minimum": 0},
        {
            "type": "string",
            "pattern": r"^\s*[0-9.][0-9_.]*([eE][-+]?[0-9]+)?\s*(k|K|m|M|b|B|bn|Bn|BN|万|亿)?\s*$",
        },
    ],
    "description": "an amount: a number, or a number with a unit k, M, B/bn, 万 or 亿",
}
_LIMIT_SCHEMA = {
    "anyOf": [*_AMOUNT_SCHEMA["anyOf"], {"const": "unlimited"}],
    "description": "an amount, or unlimited",
}
_SHARE_SCHEMA = {
    "anyOf": [
        {"type": "number", "minimum": 0, "maximum": 1},
        {"type": "string", "pattern": r"^\s*[0-9]*\.?[0-9]+\s*%\s*$"},
    ],
    "description": "a share: 80% or 0.8",
}
_RATE_SCHEMA = {
    "anyOf": [{"type": "number"}, {"type": "string", "pattern": r"^\s*-?[0-9]*\.?[0-9]+\s*%\s*$"}],
    "description": "a rate: 40% or 0.4",
}
_COUNT_SCHEMA = {"anyOf": [{"type": "integer", "minimum": 0}, {"type": "string"}]}

Amount = Annotated[float, BeforeValidator(_amount), WithJsonSchema(_AMOUNT_SCHEMA)]
Limit = Annotated[float, BeforeValidator(_limit), WithJsonSchema(_LIMIT_SCHEMA)]
Share = Annotated[float, BeforeValidator(_share), WithJsonSchema(_SHARE_SCHEMA)]
Count = Annotated[int, BeforeValidator(_count), WithJsonSchema(_COUNT_SCHEMA)]
Rate = Annotated[float, BeforeValidator(_rate), WithJsonSchema(_RATE_SCHEMA)]
Probability = Share
Name = Annotated[str, Field(min_length=1)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=False)


def _exactly_one(model: BaseModel, what: str) -> BaseModel:
    given = [name for name in type(model).model_fields if getattr(model, name) is not None]
    forms = ", ".join(f"`{name}`" for name in type(model).model_fields if name != "cap")
    given = [name for name in given if name != "cap"]
    if len(given) != 1:
        found = "none" if not given else " and ".join(f"`{name}`" for name in given)
        raise PydanticCustomError(
            "one_form",
            "{what} takes exactly one of {forms}; found {found}",
            {"what": what, "forms": forms, "found": found},
        )
    return model


# --- frequency ------------------------------------------------------------------------


class Binomial(_Model):
    n: Count
    p: Probability


class NegativeBinomial(_Model):
    mean: Annotated[float, Field(ge=0, allow_inf_nan=False)]
    mix_cv: Annotated[float, Field(gt=0, allow_inf_nan=False)]


class Frequency(_Model):
    """Events per simulated year: exactly one form."""

    poisson: Annotated[float, Field(ge=0, allow_inf_nan=False)] | None = None
    bernoulli: Probability | None = None
    binomial: Binomial | None = None
    negative_binomial: NegativeBinomial | None = None
    fixed: Count | None = None

    @model_validator(mode="after")
    def _one_form(self) -> Frequency:
        _exactly_one(self, "frequency")
        return self

    @property
    def form(self) -> str:
        return next(name for name in type(self).model_fields if getattr(self, name) is not None)

    @property
    def mean(self) -> float:
        """Expected number of events per year."""
        if self.poisson is not None:
            return self.poisson
        if self.bernoulli is not None:
            return self.bernoulli
        if self.binomial is not None:
            return self.binomial.n * self.binomial.p
        if self.negative_binomial is not None:
            return self.negative_binomial.mean
        assert self.fixed is not None
        return float(self.fixed)


# --- severity -------------------------------------------------------------------------


class Lognormal(_Model):
    """Either ``{mean, cv}`` of X or ``{mu, sigma}`` of ln X."""

    mean: Amount | None = None
    cv: Annotated[float, Field(gt=0, allow_inf_nan=False)] | None = None
    mu: Annotated[float, Field(allow_inf_nan=False)] | None = None
    sigma: Annotated[float, Field(gt=0, allow_inf_nan=False)] | None = None

    @model_validator(mode="after")
    def _one_pair(self) -> Lognormal:
        by_moments = self.mean is not None and self.cv is not None
        by_logs = self.mu is not None and self.sigma is not None
        given = [k for k in ("mean", "cv", "mu", "sigma") if getattr(self, k) is not None]
        if len(given) != 2 or not (by_moments or by_logs):
            raise PydanticCustomError(
                "lognormal",
                "lognormal takes either {mean, cv} or {mu, sigma}; found {found}",
                {"found": "{" + ", ".join(given) + "}"},
            )
        if by_moments and self.mean == 0:
            raise PydanticCustomError("lognormal", "lognormal mean must be above zero")
        return self

    def log_parameters(self) -> tuple[float, float]:
        """(mu, sigma) of ln X."""
        if self.mu is not None and self.sigma is not None:
            return self.mu, self.sigma
        assert self.mean is not None and self.cv is not None
        sigma2 = math.log1p(self.cv**2)
        return math.log(self.mean) - sigma2 / 2, math.sqrt(sigma2)


class Pareto(_Model):
    scale: Annotated[Amount, Field(gt=0)]
    alpha: Annotated[float, Field(gt=0, allow_inf_nan=False)]


class Gamma(_Model):
    mean: Annotated[Amount, Field(gt=0)]
    cv: Annotated[float, Field(gt=0, allow_inf_nan=False)]


class Uniform(_Model):
    low: Amount
    high: Amount

    @model_validator(mode="after")
    def _ordered(self) -> Uniform:
        if self.high < self.low:
            raise PydanticCustomError("uniform", "uniform needs low ≤ high")
        return self


class Empirical(_Model):
    values: Annotated[list[Amount], Field(min_length=1)]
    probabilities: list[Probability] | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Empirical:
        if self.probabilities is not None:
            if len(self.probabilities) != len(self.values):
                raise PydanticCustomError(
                    "empirical",
                    "empirical has {v} values but {p} probabilities",
                    {"v": len(self.values), "p": len(self.probabilities)},
                )
            if abs(math.fsum(self.probabilities) - 1.0) > 1e-9:
                raise PydanticCustomError(
                    "empirical",
                    "empirical probabilities must sum to 1 (they sum to {s:.6g})",
                    {"s": math.fsum(self.probabilities)},
                )
        return self


class Severity(_Model):
    """Ground-up loss per event: exactly one form, and an optional ``cap``."""

    lognormal: Lognormal | None = None
    pareto: Pareto | None = None
    gamma: Gamma | None = None
    uniform: Uniform | None = None
    fixed: Amount | None = None
    empirical: Empirical | None = None
    cap: Amount | None = None

    @model_validator(mode="after")
    def _one_form(self) -> Severity:
        _exactly_one(self, "severity")
        return self

    @property
    def form(self) -> str:
        return next(
            name
            for name in type(self).model_fields
            if name != "cap" and getattr(self, name) is not None
        )


class EventSource(_Model):
    name: Name
    frequency: Frequency
    severity: Severity
    bearer: Name | None = None


class SourceSpec(_Model):
    """A source named in an ``events_file``: who bears its losses."""

    bearer: Name | None = None


# --- parties --------------------------------------------------------------------------


class PartyKind(str, Enum):
    enterprise = "enterprise"
    insurer = "insurer"
    consortium = "consortium"
    reinsurer = "reinsurer"
    government = "government"


class Party(_Model):
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


class Premium(_Model):
    """The annual premium of a layer: exactly one of ``amount``, ``rate_on_line``, ``loading``."""

    amount: Amount | None = None
    rate_on_line: Annotated[Rate, Field(ge=0, allow_inf_nan=False)] | None = None
    loading: Annotated[Rate, Field(ge=-1, allow_inf_nan=False)] | None = None
    payer: Name | None = None

    @model_validator(mode="after")
    def _one_form(self) -> Premium:
        given = [k for k in ("amount", "rate_on_line", "loading") if getattr(self, k) is not None]
        if len(given) != 1:
            found = "none" if not given else " and ".join(f"`{k}`" for k in given)
            raise PydanticCustomError(
                "one_form",
                "premium takes exactly one of `amount`, `rate_on_line`, `loading`; found {found}",
                {"found": found},
            )
        return self

    @property
    def form(self) -> Literal["amount", "rate_on_line", "loading"]:
        if self.amount is not None:
            return "amount"
        return "rate_on_line" if self.rate_on_line is not None else "loading"


class Subsidy(_Model):
    party: Name
    share: Share


class Layer(_Model):
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

    @property
    def source_names(self) -> list[str]:
        return sorted(set(self.source))

    @property
    def years(self) -> int:
        return int(self.year.max()) if len(self.year) else 0


# --- the scenario ---------------------------------------------------------------------


class Simulation(_Model):
    years: Annotated[Count, Field(ge=1)] = 100_000
    seed: Annotated[Count, Field(ge=0)] = 0


class Scenario(_Model):
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

    def residual_party(self) -> str | None:
        """The residual party: as written, or the only enterprise (None if undecided)."""
        if self.residual is not None:
            return self.residual
        enterprises = [n for n, p in self.parties.items() if p.kind is PartyKind.enterprise]
        return enterprises[0] if len(enterprises) == 1 else None

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
