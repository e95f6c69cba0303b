"""The figures of a run as typed, frozen objects; a dict only where JSON is written.

Each object has ``to_dict()``, the JSON of ``riskshare simulate --json`` (keys in the
order the JSON has them). Each also reads as that JSON object, ``party["mean"]`` or
``party["members"]``, as results did when they were dicts: the attributes are the typed
way in (``party.figures.mean``), the keys the way of code written for the JSON.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, fields

from riskshare.model.scenario import PartyKind
from riskshare.stats.summary import RETURN_PERIODS, TVAR_SHARE, SeriesSummary

__all__ = [
    "Balance",
    "Budget",
    "JsonMapping",
    "LayerFigures",
    "LayerPricing",
    "MemberFigures",
    "OverBudget",
    "PartyFigures",
    "SeriesFigures",
    "TotalFigures",
    "return_periods",
]


class JsonMapping(Mapping[str, object]):
    """A result that also reads as its JSON object: ``figures["mean"]``, ``"cost" in party``."""

    __slots__ = ()

    def to_dict(self) -> dict[str, object]:
        raise NotImplementedError

    def __getitem__(self, key: str) -> object:
        return self.to_dict()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.to_dict())

    def __len__(self) -> int:
        return len(self.to_dict())


def return_periods(summary: SeriesSummary) -> dict[int, float]:
    """The amount at quantile 1 − 1/T of the series, for each return period T."""
    return {t: summary.quantile(1 - 1 / t) for t in RETURN_PERIODS}


def _periods_json(amounts: Mapping[int, float]) -> dict[str, float]:
    return {str(t): amount for t, amount in amounts.items()}


@dataclass(frozen=True)
class SeriesFigures(JsonMapping):
    """The spec's figures of one annual series (a party's net, a layer's payout, a cost)."""

    mean: float
    std: float
    stderr: float
    prob_positive: float
    var_99: float
    var_995: float
    tvar_99: float
    max: float
    #: Return period in years → the annual amount exceeded once in that many years.
    return_periods: Mapping[int, float]

    @classmethod
    def of(cls, summary: SeriesSummary) -> SeriesFigures:
        """The figures of a merged summary, as :meth:`SeriesSummary.figures` computes them."""
        summary.arrange_for_figures()
        moments = summary.moment_figures()
        return cls(
            mean=moments["mean"],
            std=moments["std"],
            stderr=moments["stderr"],
            prob_positive=moments["prob_positive"],
            var_99=summary.quantile(0.99),
            var_995=summary.quantile(0.995),
            tvar_99=summary.tail_mean(TVAR_SHARE),
            max=summary.maximum,
            return_periods=return_periods(summary),
        )

    def to_dict(self) -> dict[str, object]:
        entry = {f.name: getattr(self, f.name) for f in fields(SeriesFigures)}
        entry["return_periods"] = _periods_json(self.return_periods)
        return entry


@dataclass(frozen=True)
class TotalFigures(SeriesFigures):
    """The total ground-up loss of a year, and the largest single event's return periods."""

    oep_return_periods: Mapping[int, float]

    @classmethod
    def of_total(cls, total: SeriesSummary, largest_event: SeriesSummary) -> TotalFigures:
        figures = SeriesFigures.of(total)
        return cls(**vars(figures), oep_return_periods=return_periods(largest_event))

    def to_dict(self) -> dict[str, object]:
        return {
            **super().to_dict(),
            "oep_return_periods": _periods_json(self.oep_return_periods),
        }


@dataclass(frozen=True)
class OverBudget:
    """How often, and by how much on average, a year's amount is over a budget."""

    prob: float
    expected: float

    @classmethod
    def of(cls, summary: SeriesSummary) -> OverBudget:
        figures = summary.budget_figures()
        return cls(figures["prob_over_budget"], figures["expected_over_budget"])

    def to_dict(self) -> dict[str, object]:
        return {"prob_over_budget": self.prob, "expected_over_budget": self.expected}


@dataclass(frozen=True)
class Budget:
    """A party's budget (reported, never enforced) and how often its net is over it."""

    amount: float
    over: OverBudget

    def to_dict(self) -> dict[str, object]:
        return {"budget": self.amount, **self.over.to_dict()}


@dataclass(frozen=True)
class MemberFigures(JsonMapping):
    """A consortium member's share of the consortium's net (and of its cost)."""

    figures: SeriesFigures
    share_of_total: float | None
    cost: SeriesFigures | None = None
    #: Share of years in which the member defaulted (a member with a ``default`` only).
    prob_default: float | None = None

    def to_dict(self) -> dict[str, object]:
        entry = {**self.figures.to_dict(), "share_of_total": self.share_of_total}
        if self.prob_default is not None:
            entry["prob_default"] = self.prob_default
        if self.cost is not None:
            entry["cost"] = self.cost.to_dict()
        return entry


@dataclass(frozen=True)
class PartyFigures(JsonMapping):
    """What a party absorbs: its net's figures, its cost where the scenario has premiums,
    its budget where it has one, and its members where it is a consortium."""

    kind: PartyKind
    label: str
    figures: SeriesFigures
    share_of_total: float | None
    budget: Budget | None = None
    cost: SeriesFigures | None = None
    members: Mapping[str, MemberFigures] = field(default_factory=dict)
    #: Share of years in which the party defaulted (a party with a ``default`` only).
    prob_default: float | None = None
    #: Mean annual amount defaulting parties left unpaid on its cessions (where any
    #: party or member may default).
    unrecovered: float | None = None

    def to_dict(self) -> dict[str, object]:
        entry: dict[str, object] = {"kind": self.kind.value, "label": self.label}
        entry.update(self.figures.to_dict())
        entry["share_of_total"] = self.share_of_total
        if self.budget is not None:
            entry.update(self.budget.to_dict())
        if self.prob_default is not None:
            entry["prob_default"] = self.prob_default
        if self.unrecovered is not None:
            entry["unrecovered"] = self.unrecovered
        if self.cost is not None:
            entry["cost"] = self.cost.to_dict()
        if self.members:
            entry["members"] = {name: m.to_dict() for name, m in self.members.items()}
        return entry


@dataclass(frozen=True)
class LayerPricing:
    """A layer's annual premium (0 for an unpriced layer of a run with premiums)."""

    premium: float
    loss_ratio: float | None
    rate_on_line: float | None

    def to_dict(self) -> dict[str, object]:
        return {
            "premium": self.premium,
            "loss_ratio": self.loss_ratio,
            "rate_on_line": self.rate_on_line,
        }


@dataclass(frozen=True)
class LayerFigures(JsonMapping):
    """What a layer pays: its payout's figures, how often it attaches and is exhausted."""

    party: str
    from_: str
    figures: SeriesFigures
    share_of_total: float | None
    prob_exhaust: float | None  # None for a layer without a limit
    pricing: LayerPricing | None = None  # where the run has premiums

    @property
    def prob_attach(self) -> float:
        return self.figures.prob_positive

    def to_dict(self) -> dict[str, object]:
        entry: dict[str, object] = {"party": self.party, "from": self.from_}
        entry.update(self.figures.to_dict())
        entry["share_of_total"] = self.share_of_total
        entry["prob_attach"] = self.prob_attach
        entry["prob_exhaust"] = self.prob_exhaust
        if self.pricing is not None:
            entry.update(self.pricing.to_dict())
        return entry


@dataclass(frozen=True)
class Balance(JsonMapping):
    """The balance check of a run: the largest difference between nets and loss found."""

    max_abs_error: float

    def to_dict(self) -> dict[str, object]:
        return {"max_abs_error": self.max_abs_error}
