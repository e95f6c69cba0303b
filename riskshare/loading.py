"""Reading a scenario: a YAML file (or a mapping) → a checked :class:`Scenario`.

Every problem is reported, not only the first, each at the line and column of the key
it is about: pydantic's errors are rewritten in plain words and their locations walked
down the YAML node tree (:mod:`riskshare.yaml12`), duplicate keys and the rules of
:mod:`riskshare.checks` are added, and so are the rows of a bad ``events_file``.
"""

from __future__ import annotations

import csv
import difflib
import io
import math
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin

import numpy as np
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from riskshare import yaml12
from riskshare.amounts import parse_amount
from riskshare.checks import check_scenario
from riskshare.errors import Loc, Problem, ScenarioError
from riskshare.scenario import EventTable, Scenario

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
    scenario, problems = _load(source)
    if scenario is None or any(p.severity == "error" for p in problems):
        raise ScenarioError(problems)
    return scenario, problems


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
    scenario, problems = _build(data, None, like.file, base, like.event_table)
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
        return yaml12.read(text).data
    except yaml12.UnreadableError as error:
        raise ValueError(error.message) from None


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
    problems = list(document.duplicates) if document is not None else []
    table: EventTable | None = None
    events_file = data.get("events_file")
    if isinstance(events_file, str) and events is not None:  # read already
        table = events
    elif isinstance(events_file, str):
        display = _display(file, events_file)
        table, found = _read_events(base / events_file, events_file, display)
        problems += found
    scenario: Scenario | None = None
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as error:
        problems += _validation_problems(error, data)
    if scenario is not None:
        if table is not None:
            scenario = _with_years(scenario, table)
        scenario.attach(file=file, event_table=table)
        if events_file is None or table is not None:  # without its events, checks mislead
            problems += check_scenario(scenario)
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
        f"not {_describe(data)}"
    )


def _display(file: str | None, name: str) -> str:
    """The events file's name as a user finds it: beside the scenario file's name."""
    if file is None or os.path.isabs(name):
        return name
    return os.path.normpath(os.path.join(os.path.dirname(file), name))


# --- the events file ------------------------------------------------------------------

_REQUIRED_COLUMNS = ("year", "loss")
_COLUMNS = (*_REQUIRED_COLUMNS, "source", "time")
_HEADER = "year,loss (and optionally source and time)"
_MAX_YEAR = 10**9  # far beyond any simulation; keeps years within int64 and memory


def _read_events(path: Path, written: str, display: str) -> tuple[EventTable | None, list[Problem]]:
    """The events of a CSV file and its problems, each at its line of the file.

    A file that cannot be read is a problem of the scenario's `events_file` key. The
    table holds the rows that could be read, so that the checks still see their sources.
    """
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        where = "" if os.path.isabs(written) else " (a path relative to the scenario file's folder)"
        return None, [Problem(("events_file",), f"no such file: {written}{where}")]
    except UnicodeDecodeError:
        return None, [Problem(("events_file",), f"{written} is not UTF-8 text; save it as UTF-8")]
    except OSError as error:
        message = f"cannot read {written}: {error.strerror or error}"
        return None, [Problem(("events_file",), message)]
    try:
        return _events(_rows(text), display, written)
    except csv.Error as error:  # a field over the csv module's size limit, and the like
        return None, [Problem((), f"cannot be read as CSV: {error}", file=display)]


def _rows(text: str) -> Iterator[tuple[int, list[str]]]:
    """Each row of a CSV text with the line it ends on."""
    reader = csv.reader(io.StringIO(text))
    for row in reader:
        yield reader.line_num, row


def _events(
    rows: Iterator[tuple[int, list[str]]], display: str, written: str
) -> tuple[EventTable | None, list[Problem]]:
    header = [name.strip() for name in next(rows, (1, []))[1]]
    problems = [Problem((), message, file=display, line=1) for message in _header(header)]
    if problems:
        return None, problems
    columns: dict[str, list[Any]] = {name: [] for name in header}
    for line, row in rows:
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            message = f"has {len(row)} fields but the header names {len(header)} columns"
            problems.append(Problem((), message, file=display, line=line))
            continue
        values: dict[str, Any] = {}
        for name, cell in zip(header, row, strict=True):
            try:
                values[name] = _CELLS[name](cell.strip())
            except ValueError as error:
                problems.append(Problem((name,), str(error), file=display, line=line))
        if len(values) == len(header):
            for name, value in values.items():
                columns[name].append(value)
    if not columns["year"] and not problems:
        return None, [Problem(("events_file",), f"{written} lists no events")]
    table = EventTable(
        year=np.array(columns["year"], dtype=np.int64),
        loss=np.array(columns["loss"], dtype=np.float64),
        source=tuple(columns.get("source", [""] * len(columns["year"]))),
        time=np.array(columns["time"], dtype=np.float64) if "time" in columns else None,
    )
    return table, problems


def _header(header: list[str]) -> list[str]:
    if not header:
        return [f"the file is empty; its first line must name the columns: {_HEADER}"]
    if not set(header) & set(_COLUMNS):
        return [f"the first line must name the columns: {_HEADER}"]
    problems = [
        f"column `{name}` is named twice"
        if name in header[:i]
        else f"unknown column `{name}`{_did_you_mean(name, _COLUMNS, 'columns')}"
        for i, name in enumerate(header)
        if name in header[:i] or name not in _COLUMNS
    ]
    missing = [name for name in _REQUIRED_COLUMNS if name not in header]
    problems += [f"missing column `{name}`; the columns are {_HEADER}" for name in missing]
    return problems


def _year(text: str) -> int:
    try:
        year = int(text)
    except ValueError:
        raise ValueError(f"must be a whole number, 1 or more (got {text!r})") from None
    if year < 1:
        raise ValueError(f"must be 1 or more: years count from 1 (got {year})")
    if year > _MAX_YEAR:
        raise ValueError(f"must be at most {_MAX_YEAR:,} (got {year:,})")
    return year


def _time(text: str) -> float:
    try:
        time = float(text)
    except ValueError:
        raise ValueError(f"must be a number from 0 up to 1 (got {text!r})") from None
    if not 0 <= time < 1:
        raise ValueError(f"must be within the year: at least 0 and below 1 (got {text})")
    return time


def _source(text: str) -> str:
    if not text:
        raise ValueError("is empty; name the event's source (or leave out the column)")
    return text


_CELLS: dict[str, Callable[[str], Any]] = {
    "year": _year,
    "loss": parse_amount,
    "source": _source,
    "time": _time,
}


# --- pydantic's errors in plain words -------------------------------------------------


@dataclass(frozen=True)
class _Error:
    """A pydantic error, located by its path in the file.

    ``union`` says where the error went through a union (``subsidy: Subsidy |
    list[Subsidy]``) and which member was tried there: pydantic reports each member.
    """

    loc: Loc
    union: tuple[Loc, str] | None
    details: ErrorDetails

    @property
    def type(self) -> str:
        return self.details["type"]


def _validation_problems(error: ValidationError, data: object) -> list[Problem]:
    errors = [_file_error(details, data) for details in error.errors(include_url=False)]
    problems: list[Problem] = []
    for item in _collapse_unions(errors):
        problem = Problem(item.loc, _message(item)) if isinstance(item, _Error) else item
        if problem not in problems:
            problems.append(problem)
    return problems


def _file_error(details: ErrorDetails, data: object) -> _Error:
    """Keep of pydantic's location the keys of the file (not union members, `[key]`)."""
    loc: list[str | int] = []
    union: tuple[Loc, str] | None = None
    current: Any = data
    parts = details["loc"]
    for i, part in enumerate(parts):
        part = "from" if part == "from_" else part
        in_file = (isinstance(current, Mapping) and part in current) or (
            _is_list(current) and isinstance(part, int) and 0 <= part < len(current)
        )
        if in_file:
            current = current[part]
        elif not (i == len(parts) - 1 and details["type"] == "missing"):
            if union is None and part != "[key]":
                union = (tuple(loc), str(part))
            continue
        loc.append(part)
    return _Error(tuple(loc), union, details)


def _collapse_unions(errors: list[_Error]) -> list[_Error | Problem]:
    """One message where a union was tried, not one for each of its members.

    Keep the errors of the member that accepted the value's shape (a list, for
    ``list[Subsidy]``); where none did, say once which shapes would do.
    """
    tried: dict[Loc, dict[str, list[_Error]]] = {}
    for error in errors:
        if error.union is not None:
            where, member = error.union
            tried.setdefault(where, {}).setdefault(member, []).append(error)
    kept: list[_Error | Problem] = []
    for error in errors:
        if error.union is None:
            kept.append(error)
            continue
        where, member = error.union
        members = tried[where]
        fitting = [
            name
            for name, found in members.items()
            if not all(e.loc == where and e.type in _EXPECTED for e in found)
        ]
        if fitting:
            if member == fitting[0]:
                kept.append(error)
        elif error is next(iter(members.values()))[0]:
            shapes = dict.fromkeys(_EXPECTED[e.type] for found in members.values() for e in found)
            given = _describe(error.details["input"])
            kept.append(Problem(where, f"must be {' or '.join(shapes)}, not {given}"))
    return kept


_EXPECTED = {
    "string_type": "text",
    "list_type": "a list",
    "finite_number": "a finite number",
    **dict.fromkeys(("model_type", "model_attributes_type", "dict_type"), "a mapping of keys"),
    **dict.fromkeys(("float_type", "float_parsing"), "a number"),
    **dict.fromkeys(("int_type", "int_parsing", "int_from_float"), "a whole number"),
    **dict.fromkeys(("bool_type", "bool_parsing"), "true or false"),
}
_BOUNDS = {
    "greater_than": ("gt", "above"),
    "greater_than_equal": ("ge", "at least"),
    "less_than": ("lt", "below"),
    "less_than_equal": ("le", "at most"),
}


def _message(error: _Error) -> str:
    kind, value, ctx = error.type, error.details["input"], error.details.get("ctx", {})
    if kind == "missing":
        return f"missing required key `{error.loc[-1]}`"
    if kind == "extra_forbidden":
        key = str(error.loc[-1])
        return f"unknown key `{key}`{_did_you_mean(key, _keys_at(error.loc[:-1]))}"
    if kind in _EXPECTED:
        quote = kind == "string_type" and isinstance(value, (bool, int, float))
        hint = "; put it in quotes if it is a name" if quote else ""
        return f"must be {_EXPECTED[kind]}, not {_describe(value)}{hint}"
    if kind in _BOUNDS:
        bound, words = _BOUNDS[kind]
        return f"must be {words} {_show(ctx.get(bound))} (got {_show(value)})"
    if kind in ("enum", "literal_error"):
        choices = str(ctx.get("expected", "")).replace("'", "")
        return f"must be one of {choices} (got {_show(value)})"
    if kind in ("too_short", "string_too_short"):
        if isinstance(value, str):
            return "must not be empty"
        count = ctx.get("min_length", 1)
        return f"must have at least {count} {'entry' if count == 1 else 'entries'}"
    message = error.details["msg"]
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    return message.replace("Input should be", "must be")


def _did_you_mean(name: str, known: Sequence[str], what: str = "keys here") -> str:
    close = difflib.get_close_matches(name, known, n=1)
    if close:
        return f" (did you mean `{close[0]}`?)"
    return f"; the {what} are " + ", ".join(f"`{k}`" for k in known) if known else ""


def _keys_at(loc: Loc) -> list[str]:
    """The keys the model at ``loc`` knows (``from``, not ``from_``); [] if none."""
    kind: Any = Scenario
    for part in loc:
        kind = next(filter(None, (_child(option, part) for option in _options(kind))), None)
    models = [m for m in _options(kind) if isinstance(m, type) and issubclass(m, BaseModel)]
    return [f.alias or name for name, f in models[0].model_fields.items()] if models else []


def _child(kind: Any, part: str | int) -> Any:
    if isinstance(kind, type) and issubclass(kind, BaseModel):
        fields = kind.model_fields
        return next((f.annotation for n, f in fields.items() if part in (n, f.alias)), None)
    if get_origin(kind) is list and isinstance(part, int):
        return get_args(kind)[0]
    if get_origin(kind) is dict and isinstance(part, str):
        return get_args(kind)[1]
    return None


def _options(kind: Any) -> list[Any]:
    """The types an annotation allows, Annotated and unions unwrapped."""
    if get_origin(kind) is Annotated:
        return _options(get_args(kind)[0])
    if get_origin(kind) in (Union, UnionType):
        return [option for arg in get_args(kind) for option in _options(arg)]
    return [kind]


def _is_list(value: object) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, str)


def _describe(value: object) -> str:
    if value is None:
        return "an empty value (null)"
    if isinstance(value, bool):
        return f"the boolean {_show(value)}"
    if isinstance(value, (int, float)):
        return f"the number {_show(value)}"
    if isinstance(value, str):
        return f"the text {value!r}"
    return "a mapping" if isinstance(value, Mapping) else "a list" if _is_list(value) else "a value"


def _show(value: object) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return str(int(value))
    return repr(value) if isinstance(value, str) else str(value)
