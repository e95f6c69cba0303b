"""Rendering results as rich tables for people who read tables, not code."""

from __future__ import annotations

import math
from collections.abc import Mapping

from rich import box
from rich.console import Group
from rich.table import Table
from rich.text import Text

from riskshare.model.amounts import format_amount, format_share
from riskshare.model.scenario import Layer, Scenario
from riskshare.runs.explain import ExplainResult
from riskshare.runs.simulation import SimulationResult
from riskshare.stats.summary import RETURN_PERIODS

Figures = Mapping[str, object]


class Formatter:
    """Amounts in readable units, shares as percentages."""

    def __init__(self, unit: str | None = None) -> None:
        self.unit = unit

    def amount(self, value: object) -> str:
        if value is None:
            return "–"
        number = float(value)  # type: ignore[arg-type]
        return "0" if number == 0 else format_amount(number, self.unit)

    @staticmethod
    def share(value: object) -> str:
        if value is None:
            return "–"
        number = float(value)  # type: ignore[arg-type]
        if 0 < number < 0.0001:
            return "<0.01%"
        return format_share(round(number, 4))


def layer_terms(layer: Layer, unit: str | None = None) -> str:
    """A layer's terms in words: ``95M xs 5M, 90%, 1 reinst.``."""
    f = Formatter(unit)
    if math.isfinite(layer.limit):
        parts = [f"{f.amount(layer.limit)} xs {f.amount(layer.attachment)}"]
    elif layer.attachment > 0:
        parts = [f"unlimited xs {f.amount(layer.attachment)}"]
    else:
        parts = ["all"]
    if layer.franchise:
        parts.append(f"franchise {f.amount(layer.franchise)}")
    if layer.aggregate_attachment > 0 or layer.aggregate_limit is not None:
        agg = "agg "
        agg += f.amount(layer.aggregate_limit) if layer.aggregate_limit is not None else "unlimited"
        if layer.aggregate_attachment > 0:
            agg += f" xs {f.amount(layer.aggregate_attachment)}"
        parts.append(agg)
    if layer.share != 1.0:
        parts.append(Formatter.share(layer.share))
    if layer.reinstatements is not None:
        parts.append(f"{layer.reinstatements} reinst.")
    return ", ".join(parts)


def simulation_tables(result: SimulationResult, unit: str | None = None) -> Group:
    """Every table of ``riskshare simulate``, in reading order."""
    f = Formatter(unit)
    scenario = result.scenario
    parts: list[Table | Text] = [
        Text(scenario.name, style="bold"),
        _absorbs_table(result, f),
    ]
    if any("cost" in entry for entry in result.parties.values()):
        parts.append(_cost_table(result, f))
    parts.append(_layers_table(result, f))
    if any(layer.premium is not None for layer in scenario.layers):
        parts.append(_premium_layers_table(result, f))
    if any("budget" in entry for entry in result.parties.values()):
        parts.append(_budget_table(result, f))
    parts.append(_return_period_table(result, f))
    parts.append(_footer(result))
    return Group(*parts)


def new_table(title: str) -> Table:
    """A table as every riskshare table looks: a bold title on the left, a simple head."""
    return Table(
        title=title, title_justify="left", title_style="bold", box=box.SIMPLE_HEAD, pad_edge=False
    )


def _absorbs_table(result: SimulationResult, f: Formatter) -> Table:
    currency = result.scenario.currency
    table = new_table(f"Who absorbs what (annual amounts, {currency})")
    table.add_column("party")
    table.add_column("kind")
    for header in (
        "expected",
        "share",
        "std",
        "P(any loss)",
        "VaR 99.5%",
        "TVaR 99%",
        "worst year",
    ):
        table.add_column(header, justify="right")
    for entry in result.parties.values():
        table.add_row(str(entry["label"]), str(entry["kind"]), *_loss_cells(entry, f))
        for member, figures in _members(entry).items():
            table.add_row(f"  {member}", "member", *_loss_cells(figures, f))
    table.add_section()
    table.add_row(
        "Total ground-up loss", "", *_loss_cells({**result.total, "share_of_total": 1.0}, f)
    )
    return table


def _members(entry: Figures) -> Mapping[str, Figures]:
    members = entry.get("members")
    return members if isinstance(members, Mapping) else {}


def _loss_cells(figures: Figures, f: Formatter) -> list[str]:
    return [
        f.amount(figures["mean"]),
        f.share(figures.get("share_of_total")),
        f.amount(figures["std"]),
        f.share(figures["prob_positive"]),
        f.amount(figures["var_995"]),
        f.amount(figures["tvar_99"]),
        f.amount(figures["max"]),
    ]


def _cost_table(result: SimulationResult, f: Formatter) -> Table:
    table = new_table("Cost of risk (annual: net losses + premiums paid − premiums received)")
    table.add_column("party")
    for header in (
        "premium paid",
        "premium received",
        "subsidy paid",
        "expected net loss",
        "expected cost",
        "VaR 99.5% of cost",
        "P(cost > 0)",
    ):
        table.add_column(header, justify="right")
    paid, received, subsidies = result.premium_split
    for name, entry in result.parties.items():
        cost = entry.get("cost")
        if not isinstance(cost, Mapping):
            continue
        table.add_row(
            str(entry["label"]),
            f.amount(paid.get(name, 0.0)),
            f.amount(received.get(name, 0.0)),
            f.amount(subsidies.get(name, 0.0)),
            f.amount(entry["mean"]),
            f.amount(cost["mean"]),
            f.amount(cost["var_995"]),
            f.share(cost["prob_positive"]),
        )
    return table


def _layers_table(result: SimulationResult, f: Formatter) -> Table:
    table = new_table("Layers")
    table.add_column("layer", no_wrap=True)
    table.add_column("party")
    table.add_column("from", no_wrap=True)
    table.add_column("terms", min_width=22)
    for header in ("expected payout", "P(attach)", "P(exhaust)"):
        table.add_column(header, justify="right", min_width=min(len(header), 10))
    for layer in result.scenario.layers:
        entry = result.layers[layer.name]
        table.add_row(
            layer.name,
            result.scenario.party_label(layer.party),
            layer.from_,
            layer_terms(layer, f.unit),
            f.amount(entry["mean"]),
            f.share(entry["prob_attach"]),
            f.share(entry["prob_exhaust"]),
        )
    return table


def _premium_layers_table(result: SimulationResult, f: Formatter) -> Table:
    table = new_table("Layer premiums")
    table.add_column("layer", no_wrap=True)
    table.add_column("party")
    for header in ("premium", "expected payout", "loss ratio", "rate on line"):
        table.add_column(header, justify="right")
    for layer in result.scenario.layers:
        entry = result.layers[layer.name]
        if layer.premium is None:
            continue
        table.add_row(
            layer.name,
            result.scenario.party_label(layer.party),
            f.amount(entry.get("premium")),
            f.amount(entry["mean"]),
            f.share(entry.get("loss_ratio")),
            f.share(entry.get("rate_on_line")),
        )
    return table


def _budget_table(result: SimulationResult, f: Formatter) -> Table:
    table = new_table("Budgets (reported, never enforced)")
    table.add_column("party")
    for header in ("budget", "expected outlay", "P(over budget)", "expected excess"):
        table.add_column(header, justify="right")
    for entry in result.parties.values():
        if "budget" in entry:
            table.add_row(
                str(entry["label"]),
                f.amount(entry["budget"]),
                f.amount(entry["mean"]),
                f.share(entry["prob_over_budget"]),
                f.amount(entry["expected_over_budget"]),
            )
    return table


def _return_period_table(result: SimulationResult, f: Formatter) -> Table:
    table = new_table("Return periods (annual amount exceeded once in T years on average)")
    table.add_column("")
    for period in RETURN_PERIODS:
        table.add_column(f"1-in-{period}", justify="right")

    def row(label: str, periods: object) -> None:
        assert isinstance(periods, Mapping)
        table.add_row(label, *(f.amount(periods[str(t)]) for t in RETURN_PERIODS))

    row("Total ground-up loss", result.total["return_periods"])
    row("Largest single event", result.total["oep_return_periods"])
    table.add_section()
    for entry in result.parties.values():
        row(str(entry["label"]), entry["return_periods"])
    return table


def run_line(years: int, events: int, seed: int, seconds: float) -> str:
    """``1,000,000 years · 1,999,794 events · seed 7 · 1.15 s``: the line under a run."""
    return f"{years:,} years · {events:,} events · seed {seed} · {seconds:.2f} s"


def footer_text(result: SimulationResult) -> str:
    """The run and its balance check, as the line under ``simulate``'s tables."""
    error = result.balance["max_abs_error"]
    shared = ""
    if result.shared_events is not None:  # format 1.2: events of several bearers
        shared = (
            f"{result.shared_events:,} of the {result.events:,} events struck more than "
            "one bearer at once.\n"
        )
    return (
        f"{run_line(result.years, result.events, result.seed, result.seconds)}\n"
        f"{shared}"
        f"Balance check passed: the parties' nets add up to each event's loss "
        f"(largest difference {error:.3g} {result.scenario.currency})."
    )


def _footer(result: SimulationResult) -> Text:
    return Text(footer_text(result), style="dim")


def explain_tables(result: ExplainResult, unit: str | None = None) -> Group:
    """The waterfall of each given loss, then the year's totals per party."""
    f = Formatter(unit)
    scenario = result.scenario
    parts: list[Table | Text] = [Text(scenario.name, style="bold")]
    labels = _labels(scenario)
    for number, event in enumerate(result.events, start=1):
        table = new_table(
            f"Event {number}: ground-up loss {f.amount(event.loss)} (source {result.source})"
        )
        table.add_column("layer")
        table.add_column("party")
        table.add_column("subject", justify="right")
        table.add_column("pays", justify="right")
        table.add_column("why")
        for step in event.steps:
            table.add_row(
                step.layer,
                labels.get(step.party, step.party),
                f.amount(step.subject),
                f.amount(step.paid),
                step.reason(f.unit),
            )
        parts.append(table)
        if event.bearer_parts is not None and event.given_up is not None:
            parts.append(_bearer_table(event.bearer_parts, event.given_up, f, labels))
    totals = new_table(f"The year's totals ({scenario.currency})")
    totals.add_column("party")
    totals.add_column("net absorbed", justify="right")
    if result.costs is not None:
        totals.add_column("cost (with premiums)", justify="right")
    for name, amount in result.party_totals.items():
        label = f"  {name.split('/', 1)[1]}" if "/" in name else labels.get(name, name)
        row = [label, f.amount(amount)]
        if result.costs is not None:
            row.append(f.amount(result.costs[name]))
        totals.add_row(*row)
    totals.add_section()
    totals.add_row(
        "Total",
        f.amount(math.fsum(e.loss for e in result.events)),
        *(
            [f.amount(math.fsum(v for k, v in result.costs.items() if "/" not in k))]
            if result.costs is not None
            else []
        ),
    )
    parts.append(totals)
    if result.premiums:
        parts.append(_premium_table(result, f, labels))
    return Group(*parts)


def _bearer_table(
    held: dict[str, float], given_up: dict[str, float], f: Formatter, labels: dict[str, str]
) -> Table:
    """Format 1.2: each bearer's part of an occurrence and what it gave up."""
    table = new_table("Each bearer's part of the event")
    table.add_column("bearer")
    table.add_column("its part", justify="right")
    table.add_column("gave up", justify="right")
    for name, amount in held.items():
        table.add_row(labels.get(name, name), f.amount(amount), f.amount(given_up[name]))
    return table


def _premium_table(result: ExplainResult, f: Formatter, labels: dict[str, str]) -> Table:
    table = new_table("Premiums for the year")
    table.add_column("layer")
    table.add_column("premium", justify="right")
    table.add_column("paid by")
    table.add_column("subsidies")
    table.add_column("reinstatement premiums", justify="right")
    assert result.premiums is not None
    for name, flow in result.premiums.items():
        subsidies = flow["subsidies"]
        assert isinstance(subsidies, Mapping)
        table.add_row(
            name,
            f.amount(flow["premium"]),
            labels.get(str(flow["payer"]), str(flow["payer"])),
            ", ".join(f"{labels.get(p, p)} {f.amount(a)}" for p, a in subsidies.items()) or "–",
            f.amount(flow["reinstatement_premiums"]),
        )
    return table


def _labels(scenario: Scenario) -> dict[str, str]:
    return {name: scenario.party_label(name) for name in scenario.parties}
