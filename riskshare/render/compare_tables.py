"""Rendering comparisons and sweeps as rich tables: scenarios side by side, one row a point."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from rich.console import Group
from rich.table import Table
from rich.text import Text

from riskshare.render.tables import Formatter, new_table, run_line
from riskshare.runs.compare import ComparisonResult, Difference, Row
from riskshare.runs.grid import show_value
from riskshare.runs.sweep import KeyFigures, SweepResult

#: A figure's key, how tables name it, and whether it is an amount (else a share).
FIGURE_NAMES: tuple[tuple[str, str, bool], ...] = (
    ("mean", "expected", True),
    ("var_995", "VaR 99.5%", True),
    ("tvar_99", "TVaR 99%", True),
    ("prob_positive", "P(any loss)", False),
)
#: A party's figure at a sweep point (None where it has none).
Pick = Callable[[KeyFigures], float | None]
#: The sweep's tables: the figure each shows, its title, and whether it is an amount.
SWEEP_TITLES: tuple[tuple[Pick, str, bool], ...] = (
    (lambda p: p.mean, "Expected annual loss", True),
    (lambda p: p.var_995, "VaR 99.5% of the annual loss", True),
    (lambda p: p.tvar_99, "TVaR 99% of the annual loss", True),
    (lambda p: p.prob_positive, "P(any loss in a year)", False),
)
NOISE_MARK = "~"


def _letter(index: int) -> str:
    return chr(ord("A") + index) if index < 26 else f"#{index + 1}"


# --- compare --------------------------------------------------------------------------


def comparison_tables(result: ComparisonResult, unit: str | None = None) -> Group:
    """Every table of ``riskshare compare``: the scenarios, parties, costs, layers."""
    f = Formatter(unit)
    currency = result.results[0].scenario.currency
    parts: list[Table | Text] = [Text("Comparison on common events", style="bold")]
    legend = Table(box=None, show_header=False, pad_edge=False)
    legend.add_column(style="bold")
    legend.add_column()
    legend.add_column(style="dim")
    for index, (scenario, name) in enumerate(zip(result.scenarios, result.labels, strict=True)):
        legend.add_row(_letter(index), scenario.name, name if name != scenario.name else "")
    parts.append(legend)
    parts.append(
        _rows_table(f"Who absorbs what (annual amounts, {currency})", result, result.parties, f)
    )
    if result.costs is not None:
        parts.append(
            _rows_table(
                "Cost of risk (annual: net losses + premiums paid − premiums received)",
                result,
                result.costs,
                f,
                "P(cost > 0)",
            )
        )
    parts.append(_rows_table("Layers (annual payouts)", result, result.layers, f, "P(attach)"))
    parts.append(
        Text(
            f"{run_line(result.years, result.events, result.seed, result.seconds)}\n"
            f"Every scenario ran on the same events. Δ = scenario − A; ± one standard error "
            f"of the difference, from the paired years; {NOISE_MARK} marks a difference "
            f"within two standard errors of zero, which the simulation cannot tell from "
            f"noise; same: the same in every year.",
            style="dim",
        )
    )
    return Group(*parts)


def _rows_table(
    title: str, result: ComparisonResult, rows: Sequence[Row], f: Formatter, positive: str = ""
) -> Table:
    table = new_table(title)
    table.add_column("", no_wrap=True)
    table.add_column("figure", no_wrap=True)
    count = len(result.results)
    for index in range(count):
        table.add_column(_letter(index), justify="right")
        if index > 0:
            table.add_column(f"Δ {_letter(index)} − A", justify="right")
    shown = [row for row in rows if not row.member]
    for number, row in enumerate(shown):
        if number:
            table.add_section()
        for key, name, is_amount in FIGURE_NAMES:
            show = f.amount if is_amount else f.share
            cells = [
                row.label if key == "mean" else "",
                (positive or name) if key == "prob_positive" else name,
            ]
            for index in range(count):
                figures = row.figures[index]
                cells.append(show(figures[key]) if figures is not None else "missing")
                if index > 0:
                    difference = row.differences[index]
                    cells.append(
                        _difference(difference[key], is_amount, f)
                        if difference is not None
                        else "–"
                    )
            table.add_row(*cells)
    return table


def _difference(difference: Difference, is_amount: bool, f: Formatter) -> str:
    show: Callable[[float], str] = f.amount if is_amount else f.share

    def signed(value: float) -> str:
        if value == 0:
            return "0"
        return ("+" if value > 0 else "−") + show(abs(value))

    if difference.difference == 0 and difference.stderr == 0:
        return "same"  # the same amount in every simulated year
    text = signed(difference.difference)
    if difference.stderr is not None:
        text += f" ± {show(difference.stderr) if difference.stderr else '0'}"
        if difference.within_noise:
            text += f" {NOISE_MARK}"
        else:
            text += "  "
    return text


# --- sweep ----------------------------------------------------------------------------


def sweep_tables(result: SweepResult, unit: str | None = None) -> Group:
    """Every table of ``riskshare sweep``: one table a figure, one row a grid point."""
    f = Formatter(unit)
    currency = result.scenario.currency
    parts: list[Table | Text] = [
        Text(f"{result.scenario.name}: a sweep of {len(result.points)} points", style="bold")
    ]
    names = result.party_names
    for pick, title, is_amount in SWEEP_TITLES:
        if is_amount:
            title += f" ({currency})"
        parts.append(_sweep_table(title, result, names, pick, is_amount, f))
    if any(p.cost is not None for point in result.points for p in point.parties.values()):
        parts.append(
            _sweep_table(
                f"Expected annual cost of risk, premiums included ({currency})",
                result,
                names,
                _cost_mean,
                True,
                f,
            )
        )
    budgeted = [n for n in names if any(_over_budget(p.parties.get(n)) for p in result.points)]
    if budgeted:
        parts.append(
            _sweep_table(
                "P(annual outlay over budget)",
                result,
                budgeted,
                _prob_over_budget,
                False,
                f,
            )
        )
    invalid = len(result.invalid)
    parts.append(
        Text(
            f"{run_line(result.years, result.events, result.seed, result.seconds)}\n"
            f"Every point ran on the same events."
            + (f" {invalid} invalid point{'s' if invalid != 1 else ''}." if invalid else ""),
            style="dim",
        )
    )
    return Group(*parts)


def _cost_mean(figures: KeyFigures) -> float | None:
    return figures.cost.mean if figures.cost is not None else None


def _over_budget(figures: KeyFigures | None) -> bool:
    return figures is not None and figures.over_budget is not None


def _prob_over_budget(figures: KeyFigures) -> float | None:
    return figures.over_budget.prob if figures.over_budget is not None else None


def _sweep_table(
    title: str,
    result: SweepResult,
    names: Sequence[str],
    pick: Pick,
    is_amount: bool,
    f: Formatter,
) -> Table:
    table = new_table(title)
    table.add_column("#", justify="right")
    for path in result.paths:
        table.add_column(path, justify="right", no_wrap=True)
    for name in names:
        table.add_column(result.party_label(name), justify="right")
    show = f.amount if is_amount else f.share
    for number, point in enumerate(result.points, start=1):
        cells = [str(number), *(show_value(point.values[p]) for p in result.paths)]
        if not point.valid:
            cells.append("invalid")
            cells += [""] * (len(names) - 1)
        else:
            for name in names:
                entry = point.parties.get(name)
                cells.append(show(pick(entry)) if entry is not None else "missing")
        table.add_row(*cells)
    return table
