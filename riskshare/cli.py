"""The ``riskshare`` command: a thin shell over the library.

Each command loads, makes one library call and renders. Every error the library
raises on purpose ends in one place, :func:`_funnel`, around every command: one
message, the exit code of its kind (:class:`~riskshare.errors.ExitCode`), no traceback
(a sweep's malformed ``--set`` path is a usage error, exit 2, as typer reports it).
"""

from __future__ import annotations

import csv
import errno
import functools
import io
import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, NoReturn, ParamSpec

import typer

from riskshare._version import __version__
from riskshare.errors import ExitCode, Problem, RiskshareError, ScenarioError, printable
from riskshare.loading.load import load_scenario_with_warnings, validate_file
from riskshare.model.amounts import parse_amount
from riskshare.model.scenario import Scenario, scenario_json_schema
from riskshare.output import (
    cause,
    overwritten_input,
    same_outputs,
    write_file,
    write_text,
)
from riskshare.render.compare_tables import comparison_tables, sweep_tables
from riskshare.render.tables import explain_tables, simulation_tables
from riskshare.render.terminal import can_draw, progress_bar
from riskshare.render.terminal import stderr_console as _stderr
from riskshare.render.terminal import stdout_console as _stdout
from riskshare.runs.bad_years import bad_year_splits
from riskshare.runs.compare import compare as compare_scenarios
from riskshare.runs.explain import explain as explain_losses
from riskshare.runs.grid import GridError, parse_set
from riskshare.runs.simulation import Progress
from riskshare.runs.simulation import simulate as simulate_scenario
from riskshare.runs.sweep import sweep as sweep_scenario

app = typer.Typer(
    name="riskshare",
    help="Simulate multi-layer risk sharing for technology insurance: who absorbs what, "
    "how often, and how bad a bad year gets.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

P = ParamSpec("P")
PROGRESS_MIN_YEARS = 500_000


class Units(str, Enum):
    M = "M"
    B = "B"
    wan = "万"
    yi = "亿"


class ProblemFormat(str, Enum):
    text = "text"
    json = "json"
    github = "github"


def _fail(message: str) -> NoReturn:
    _stderr().print(message, markup=False)
    raise typer.Exit(ExitCode.FAILED)


@contextmanager
def _funnel() -> Iterator[None]:
    """Where every error the library raises on purpose ends: one message and its exit code.

    A malformed or unknown ``--set`` path is a usage error (exit 2), as typer reports
    its own; an invalid scenario or a failed run (exit 1) prints each problem found; a
    file that cannot be read (exit 1) names it.
    """
    try:
        yield
    except GridError as error:
        raise typer.BadParameter(str(error), param_hint="--set") from None
    except ScenarioError as error:
        _fail("\n".join(str(p) for p in error.errors))
    except RiskshareError as error:
        _fail(f"error: {error}")
    except OSError as error:
        if error.errno == errno.EPIPE or error.filename is None:
            raise  # standard output failed: main() says so (or, for a closed pipe, ends quietly)
        _fail(f"error: {error.filename or ''}: {error.strerror or error}")


def _command(function: Callable[P, None]) -> Callable[P, None]:
    """Register ``function`` as a command of ``riskshare``, its errors ending in :func:`_funnel`."""

    @functools.wraps(function)
    def funnelled(*args: P.args, **kwargs: P.kwargs) -> None:
        with _funnel():
            function(*args, **kwargs)

    app.command()(funnelled)
    return funnelled


def _load(path: Path) -> Scenario:
    scenario, warnings = load_scenario_with_warnings(path)
    console = _stderr()
    for warning in warnings:
        console.print(str(warning), markup=False)
    return scenario


def _write_json(data: object, target: str) -> None:
    """Write ``data`` as JSON to the file ``target``, or to stdout for ``-``."""
    text = json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    write_text(target, text)  # a file's failure ends in the funnel, stdout's in main()


def _write_csv(rows: list[list[object]], target: str) -> None:
    """Write ``rows`` as CSV to the file ``target``, or to stdout for ``-``."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    write_text(target, buffer.getvalue())


def _separate_outputs(**outputs: str | Path | None) -> None:
    """A usage error where two output options name the same file (one would be lost)."""
    named = {f"--{option}": target for option, target in outputs.items()}
    clash = same_outputs(named)
    if clash is not None:
        first, second = clash
        raise typer.BadParameter(
            f"{first} and {second} name the same file, {named[first]}; give each its own file"
        )


def _inputs(path: Path, scenario: Scenario) -> list[Path]:
    """The files a run reads: the scenario file and its events file."""
    files = [path]
    if scenario.events_file is not None:
        files.append(path.parent / scenario.events_file)
    return files


def _not_over_inputs(inputs: list[Path], *outputs: str | Path | None) -> None:
    """Exit 1, before anything runs, where an output would write over an input."""
    overwritten_input(outputs, inputs)


def _json_and_tables(
    json_path: str | None, data: Callable[[], object], tables: Callable[[], object]
) -> None:
    """Write the JSON where ``--json`` asks, and print the tables unless it went to stdout."""
    if json_path is not None:
        _write_json(data(), json_path)
    if json_path != "-":
        _stdout().print(tables())


def _figure_format(path: Path, option: str) -> str:
    """png or svg, from the file name; anything else is a usage error."""
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in ("png", "svg"):
        raise typer.BadParameter(
            f"{str(path)!r}: write the figure to a .png or .svg file", param_hint=option
        )
    return fmt


def _needs_report_extra() -> None:
    """Fail with the install command when matplotlib, an optional extra, is missing."""
    if not can_draw():
        _fail(
            "error: figures and reports need matplotlib; install it with "
            "pip install 'riskshare[report]'"
        )


@contextmanager
def _progress_bar(years: int) -> Iterator[Progress | None]:
    """A progress bar on stderr, only where a person is watching a long run."""
    if years < PROGRESS_MIN_YEARS or not sys.stderr.isatty():
        yield None
        return
    with progress_bar("simulating", years) as progress:
        yield progress


@contextmanager
def _running(scenario: Scenario, years: int | None) -> Iterator[Progress | None]:
    """The progress bar of a run; a warning first where --years outruns an events file."""
    run_years = years if years is not None else scenario.simulation.years
    covered = scenario.simulation.years
    if scenario.event_table is not None and run_years > covered:
        _stderr().print(
            f"warning: {scenario.events_file} covers {covered:,} years; the other "
            f"{run_years - covered:,} of the {run_years:,} simulated years have no events, "
            "which lowers every expected amount",
            markup=False,
        )
    with _progress_bar(run_years) as progress:
        yield progress


def _version(value: bool) -> None:
    if value:
        typer.echo(f"riskshare {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Simulate multi-layer risk sharing for technology insurance."""


# readable=False: an unreadable file is reported as the library reads it (exit 1), as a
# missing one or a folder is, not by typer's own check (a usage error, exit 2)
ScenarioPath = Annotated[
    Path, typer.Argument(metavar="SCENARIO", readable=False, help="The scenario YAML file.")
]
UnitsOption = Annotated[
    Units | None, typer.Option("--units", help="Show every amount in this unit.")
]


def _also_write(flag: str, what: str) -> Any:
    """An option that also writes the output as JSON or CSV (``-``: only that, to stdout)."""
    form = flag.removeprefix("--").upper()
    return typer.Option(
        flag,
        metavar="PATH",
        help=f"Also write {what} as {form}; - writes only the {form} to stdout.",
    )


def _run_option(flag: str, files: str) -> Any:
    """``--years`` or ``--seed``, overriding the scenario file's (or ``files``')."""
    what, least = ("Simulated years", 1) if flag == "--years" else ("Random seed", 0)
    return typer.Option(flag, min=least, help=f"{what} (overrides the {files}).")


YearsOption = Annotated[int | None, _run_option("--years", "file")]
SeedOption = Annotated[int | None, _run_option("--seed", "file")]
FilesYearsOption = Annotated[int | None, _run_option("--years", "files")]
FilesSeedOption = Annotated[int | None, _run_option("--seed", "files")]
WorkersOption = Annotated[
    int | None,
    typer.Option(
        "--workers",
        min=1,
        metavar="N",
        help="Worker processes (default: one per core, for runs of 200,000 years or more); "
        "the figures do not depend on it.",
    ),
]


@_command
def simulate(
    scenario_path: ScenarioPath,
    years: YearsOption = None,
    seed: SeedOption = None,
    json_path: Annotated[str | None, _also_write("--json", "the figures")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="Print no tables.")] = False,
    units: UnitsOption = None,
    plot_path: Annotated[
        Path | None,
        typer.Option(
            "--plot",
            metavar="FILE",
            readable=False,
            help="Also draw the exceedance curves to FILE.png or FILE.svg "
            "(needs pip install 'riskshare[report]').",
        ),
    ] = None,
    workers: WorkersOption = None,
) -> None:
    """Run the scenario and print who absorbs what, each layer and the return periods."""
    plot_format = _figure_format(plot_path, "--plot") if plot_path is not None else None
    _separate_outputs(json=json_path, plot=plot_path)
    if plot_path is not None:
        _needs_report_extra()
    scenario = _load(scenario_path)
    _not_over_inputs(_inputs(scenario_path, scenario), json_path, plot_path)
    with _running(scenario, years) as progress:
        result = simulate_scenario(scenario, years, seed, progress=progress, workers=workers)
    if json_path is not None:
        _write_json(result.to_dict(), json_path)
    if plot_path is not None and plot_format is not None:
        from riskshare.render.plots import exceedance_image

        write_file(plot_path, exceedance_image(result, plot_format))
    if not quiet and json_path != "-":
        _stdout().print(simulation_tables(result, units.value if units else None))


@_command
def report(
    scenario_path: ScenarioPath,
    output: Annotated[
        Path,
        typer.Option(
            "--output",
            "-o",
            metavar="FILE.html",
            readable=False,
            help="Where to write the report (HTML).",
        ),
    ],
    years: YearsOption = None,
    seed: SeedOption = None,
    workers: WorkersOption = None,
) -> None:
    """Write a one-file HTML report: the tower, who pays, exceedance curves and the tables."""
    _needs_report_extra()
    scenario = _load(scenario_path)
    _not_over_inputs(_inputs(scenario_path, scenario), output)
    with _running(scenario, years) as progress:
        result = simulate_scenario(scenario, years, seed, progress=progress, workers=workers)
    bad_years = bad_year_splits(result, workers=workers)
    from riskshare.render.html import report_html

    document = report_html(result, bad_years)
    write_file(output, document.encode("utf-8"))
    _stderr().print(f"wrote {output}", markup=False)


@_command
def explain(
    scenario_path: ScenarioPath,
    loss: Annotated[
        list[str],
        typer.Option(
            "--loss",
            metavar="AMOUNT",
            help="A ground-up loss (800M, 3亿); repeat for several, applied in order.",
        ),
    ],
    source: Annotated[
        str | None,
        typer.Option(
            "--source",
            metavar="NAME",
            help="The source the losses come from "
            "(default: ground_up, borne by the residual party).",
        ),
    ] = None,
    default: Annotated[
        list[str] | None,
        typer.Option(
            "--default",
            metavar="PARTY",
            help="A party (or CONSORTIUM/MEMBER) that defaults this year and pays only "
            "its recovery; repeat for several.",
        ),
    ] = None,
    json_path: Annotated[str | None, _also_write("--json", "the waterfall")] = None,
    units: UnitsOption = None,
) -> None:
    """Show how given losses, in one year, flow through the tower, layer by layer."""
    losses = []
    for text in loss:
        try:
            losses.append(parse_amount(text))
        except ValueError as error:
            raise typer.BadParameter(f"{text!r} {error}", param_hint="--loss") from None
    scenario = _load(scenario_path)
    _not_over_inputs(_inputs(scenario_path, scenario), json_path)
    result = explain_losses(scenario, losses, source, default or ())
    unit = units.value if units else None
    _json_and_tables(json_path, result.to_dict, lambda: explain_tables(result, unit))


@_command
def compare(
    scenario_paths: Annotated[
        list[Path],
        typer.Argument(
            metavar="SCENARIO...",
            readable=False,
            help="Two or more scenario files with the same events; the first is the base.",
        ),
    ],
    years: FilesYearsOption = None,
    seed: FilesSeedOption = None,
    json_path: Annotated[str | None, _also_write("--json", "the comparison")] = None,
    units: UnitsOption = None,
    workers: WorkersOption = None,
) -> None:
    """Run scenarios on the same simulated events and set their figures side by side."""
    if len(scenario_paths) < 2:
        raise typer.BadParameter("give two or more scenario files", param_hint="SCENARIO...")
    scenarios = [_load(path) for path in scenario_paths]
    inputs = [
        file for p, s in zip(scenario_paths, scenarios, strict=True) for file in _inputs(p, s)
    ]
    _not_over_inputs(inputs, json_path)
    with _running(scenarios[0], years) as progress:
        result = compare_scenarios(scenarios, years, seed, progress=progress, workers=workers)
    unit = units.value if units else None
    _json_and_tables(json_path, result.to_dict, lambda: comparison_tables(result, unit))


@_command
def sweep(
    scenario_path: ScenarioPath,
    assignments: Annotated[
        list[str],
        typer.Option(
            "--set",
            metavar="PATH=V1,V2,...",
            help="A key of the scenario and the values to try, such as "
            "layers.backstop.attachment=500M,1B or layers[2].share=80%,90%; repeat for a grid.",
        ),
    ],
    years: FilesYearsOption = None,
    seed: FilesSeedOption = None,
    json_path: Annotated[str | None, _also_write("--json", "every point")] = None,
    csv_path: Annotated[str | None, _also_write("--csv", "one row per point")] = None,
    units: UnitsOption = None,
    workers: WorkersOption = None,
) -> None:
    """Run a scenario at every point of a grid of values, all on the same events.

    Exit 1 when any point's values make an invalid scenario (each is reported on
    stderr; the other points still run).
    """
    if json_path == "-" and csv_path == "-":
        raise typer.BadParameter("only one of --json and --csv can write to stdout (-)")
    _separate_outputs(json=json_path, csv=csv_path)
    grid: dict[str, list[object]] = {}
    for spec in assignments:
        path, values = parse_set(spec)
        if path in grid:
            raise typer.BadParameter(f"`{path}` is given twice", param_hint="--set")
        grid[path] = values
    scenario = _load(scenario_path)
    _not_over_inputs(_inputs(scenario_path, scenario), json_path, csv_path)
    with _running(scenario, years) as progress:
        result = sweep_scenario(scenario, grid, years, seed, progress=progress, workers=workers)
    console = _stderr()
    for point in result.points:
        for message in point.messages():
            console.print(message, markup=False)
    if json_path is not None:
        _write_json(result.to_dict(), json_path)
    if csv_path is not None:
        _write_csv(result.rows(), csv_path)
    if "-" not in (json_path, csv_path):
        _stdout().print(sweep_tables(result, units.value if units else None))
    if result.invalid:
        raise typer.Exit(ExitCode.FAILED)


@_command
def validate(
    files: Annotated[
        list[Path],
        typer.Argument(metavar="FILE...", readable=False, help="Scenario files to check."),
    ],
    output_format: Annotated[
        ProblemFormat,
        typer.Option("--format", help="text, json, or github (workflow annotations)."),
    ] = ProblemFormat.text,
) -> None:
    """Check scenario files without simulating; exit 1 when any is invalid."""
    results = {str(path): validate_file(path) for path in files}
    invalid = [
        name for name, problems in results.items() if any(p.severity == "error" for p in problems)
    ]
    if output_format is ProblemFormat.json:
        _write_json(
            [
                {
                    "file": printable(name),
                    "valid": name not in invalid,
                    "problems": [p.to_dict() for p in problems],
                }
                for name, problems in results.items()
            ],
            "-",
        )
    else:
        for problems in results.values():
            for problem in problems:
                typer.echo(
                    _github(problem) if output_format is ProblemFormat.github else str(problem)
                )
        summary = (
            f"{len(files)} file{'s' if len(files) != 1 else ''} checked, {len(invalid)} invalid"
        )
        _stderr().print(summary, markup=False)
    if invalid:
        raise typer.Exit(ExitCode.FAILED)


def _github(problem: Problem) -> str:
    """A GitHub Actions workflow command that annotates the line at fault."""
    fields = [f"file={printable(problem.file)}"] if problem.file else []
    if problem.line is not None:
        fields.append(f"line={problem.line}")
    if problem.column is not None:
        fields.append(f"col={problem.column}")
    message = problem.text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return f"::{problem.severity} {','.join(fields)}::{message}"


@_command
def schema() -> None:
    """Print the JSON Schema of the scenario format, for editors and other tools."""
    _write_json(scenario_json_schema(), "-")


def main() -> None:
    """Entry point of the ``riskshare`` console script.

    Standard output that cannot be written (a full disk) ends the command with one line
    on stderr and exit 1; a closed pipe (``riskshare simulate X | head -1``) ends it
    quietly with exit 1: the reader has all it wanted. Either way, nothing is left for
    the interpreter to complain about at exit.
    """
    code: str | int | None
    try:
        app()
        code = ExitCode.OK  # pragma: no cover - app() always exits
    except SystemExit as end:
        code = end.code
    except OSError as error:  # a write to standard output, as the command printed
        code = _stdout_failed(error)
    try:
        sys.stdout.flush()
    except OSError as error:  # what was still buffered
        code = _stdout_failed(error)
    sys.exit(code)


def _stdout_failed(error: OSError) -> int:
    """Say why standard output failed (unless its reader is gone); exit 1."""
    try:  # what is still buffered goes nowhere, instead of failing again at exit
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass
    if error.errno != errno.EPIPE:
        where = error.filename or "standard output"
        with suppress(OSError):
            _stderr().print(f"error: cannot write to {where}: {cause(error)}", markup=False)
    return ExitCode.FAILED
