"""Reading a scenario: a YAML file (or a mapping) → a checked :class:`Scenario`.

Every problem is reported, not only the first, each at the line and column of the key
it is about: pydantic's errors are rewritten in plain words and their locations walked
down the YAML node tree (:mod:`riskshare.loading.yaml12`), duplicate keys and the rules of
:mod:`riskshare.model.checks` are added, and so are the rows of a bad ``events_file``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from riskshare.errors import Problem, ScenarioError
from riskshare.loading import yaml12
from riskshare.loading.events_file import read_events
from riskshare.loading.messages import validation_problems
from riskshare.model.amounts import describe
from riskshare.model.checks import check_scenario
from riskshare.model.scenario import EventTable, Scenario
from riskshare.model.unit_slips import check_written

Source = str | os.PathLike[str] | Mapping[str, Any]


def load_scenario(source: Source) -> Scenario:
    """Read and check a scenario file (or an already-parsed mapping).

    Raises :class:`ScenarioError` holding every problem found, errors and warnings, each
    with its file, line and column, when there is at least one error.
    """
    scenario, _warnings = load_scenario_with_warnings(source)
    return scenario


def load_scenario_with_warnings(source: Source) -> tuple[Scenario, list[Problem]]:
    """As :func:`load_scenario`, and the warnings of the valid scenario too."""
    return _valid(*_load(source))


def validate_file(path: str | os.PathLike[str]) -> list[Problem]:
    """Every problem of the scenario file at ``path``, errors and warnings; never raises."""
    return _load(path)[1]


def load_variant(data: Mapping[str, Any], like: Scenario) -> tuple[Scenario, list[Problem]]:
    """Check ``data``, a changed copy of the scenario ``like`` as a mapping, as if read
    from ``like``'s file, with the events ``like`` read from its ``events_file``.

    As :func:`load_scenario_with_warnings` (problems name ``like``'s file, without lines);
    ``riskshare sweep`` checks each grid point with it.
    """
    base = Path(like.file).parent if like.file is not None else Path.cwd()
    return _valid(*_build(data, None, like.file, base, like.event_table))


def _valid(scenario: Scenario | None, problems: list[Problem]) -> tuple[Scenario, list[Problem]]:
    """The scenario and its warnings; :class:`ScenarioError` if it has any error."""
    if scenario is None or any(p.severity == "error" for p in problems):
        raise ScenarioError(problems)
    return scenario, problems


def parse_value(text: str) -> object:
    """A value typed on the command line, read as YAML 1.2 reads it in a scenario file.

    ``500M``, ``80%`` and ``unlimited`` stay text (the scenario's amounts and shares parse
    them), ``0.8`` is a number, ``{loading: 20%}`` a mapping. :class:`ValueError` if the
    text is not YAML.
    """
    try:
        document = yaml12.read(text)
    except yaml12.UnreadableError as error:
        raise ValueError(error.message) from None
    if document.surrogates:
        raise ValueError(document.surrogates[0].text)
    return document.data


# --- the steps ------------------------------------------------------------------------


def _load(source: Source) -> tuple[Scenario | None, list[Problem]]:
    if isinstance(source, Mapping):
        return _build(dict(source), None, None, Path.cwd())
    file = str(source)
    try:
        document = yaml12.read_file(Path(source))
    except yaml12.UnreadableError as error:
        return None, [Problem((), error.message, file=file, line=error.line, column=error.column)]
    if not isinstance(document.data, dict):
        line, column = document.position(())
        return None, [
            Problem(
                (), _not_a_mapping(document.data), file=file, line=line or 1, column=column or 1
            )
        ]
    return _build(document.data, document, file, Path(source).parent)


def _build(
    data: Mapping[str, Any],
    document: yaml12.Document | None,
    file: str | None,
    base: Path,
    events: EventTable | None = None,
) -> tuple[Scenario | None, list[Problem]]:
    problems = list(document.problems) if document is not None else []
    table: EventTable | None = None
    events_file = data.get("events_file")
    if isinstance(events_file, str) and events is not None:  # read already
        table = events
    elif isinstance(events_file, str):
        display = _display(file, events_file)
        table, found = read_events(base / events_file, events_file, display)
        problems += found
    scenario: Scenario | None = None
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as error:
        problems += validation_problems(error, data)
    if scenario is not None:
        if table is not None:
            scenario = _with_years(scenario, table)
        scenario.attach(file=file, event_table=table)
        if events_file is None or table is not None:  # without its events, checks mislead
            problems += check_scenario(scenario)
        if document is not None:  # how a file writes its amounts, not a mapping's
            problems += check_written(data)
    located = [_place(p, document, file) for p in problems]
    return scenario, sorted(located, key=lambda p: (p.file != file, p.line or 0, p.column or 0))


def _place(problem: Problem, document: yaml12.Document | None, file: str | None) -> Problem:
    if problem.file is not None:  # a row of the events file
        return problem
    if problem.line is not None or document is None:
        return problem.at(file, problem.line, problem.column)
    return problem.at(file, *document.position(problem.loc))


def _with_years(scenario: Scenario, table: EventTable) -> Scenario:
    """The file's years set ``simulation.years`` unless that is given and larger."""
    years_given = "simulation" in scenario.model_fields_set and (
        "years" in scenario.simulation.model_fields_set
    )
    if table.years == 0 or (years_given and scenario.simulation.years >= table.years):
        return scenario
    simulation = scenario.simulation.model_copy(update={"years": table.years})
    return scenario.model_copy(update={"simulation": simulation})


def _not_a_mapping(data: object) -> str:
    if data is None:
        return (
            "the file is empty; a scenario needs at least `name`, `parties`, `events` and `layers`"
        )
    return (
        "the top level must be a mapping of keys such as `name:`, `parties:` and `layers:`, "
        f"not {describe(data)}"
    )


def _display(file: str | None, name: str) -> str:
    """The events file's name as a user finds it: beside the scenario file's name."""
    if file is None or os.path.isabs(name):
        return name
    return os.path.normpath(os.path.join(os.path.dirname(file), name))
