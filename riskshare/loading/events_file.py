"""Reading an ``events_file``: a CSV of events, each problem at its line of the file."""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from riskshare.errors import Problem
from riskshare.loading.messages import did_you_mean
from riskshare.model.amounts import parse_amount
from riskshare.model.scenario import EventTable
from riskshare.model.shocks import occurrence_problems

T = TypeVar("T")

_REQUIRED_COLUMNS = ("year", "loss")
_COLUMNS = (*_REQUIRED_COLUMNS, "source", "time", "event")
_HEADER = "year,loss (and optionally source, time and event)"
_MAX_YEAR = 10**9  # far beyond any simulation; keeps years within int64 and memory


def read_events(path: Path, written: str, display: str) -> tuple[EventTable | None, list[Problem]]:
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
    lines: list[int] = []
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
            lines.append(line)
            for name, value in values.items():
                columns[name].append(value)
    if not columns["year"] and not problems:
        return None, [Problem(("events_file",), f"{written} lists no events")]
    table = EventTable(
        year=np.array(columns["year"], dtype=np.int64),
        loss=np.array(columns["loss"], dtype=np.float64),
        source=tuple(columns.get("source", [""] * len(columns["year"]))),
        time=np.array(columns["time"], dtype=np.float64) if "time" in columns else None,
        event=tuple(columns["event"]) if "event" in columns else None,
    )
    problems += [
        Problem(("time",), message, file=display, line=lines[row])
        for row, message in occurrence_problems(table)
    ]
    return table, problems


def _header(header: list[str]) -> list[str]:
    if not header:
        return [f"the file is empty; its first line must name the columns: {_HEADER}"]
    if not set(header) & set(_COLUMNS):
        return [f"the first line must name the columns: {_HEADER}"]
    problems = [
        f"column `{name}` is named twice"
        if name in header[:i]
        else f"unknown column `{name}`{did_you_mean(name, _COLUMNS, 'columns')}"
        for i, name in enumerate(header)
        if name in header[:i] or name not in _COLUMNS
    ]
    missing = [name for name in _REQUIRED_COLUMNS if name not in header]
    problems += [f"missing column `{name}`; the columns are {_HEADER}" for name in missing]
    return problems


def _read(text: str, kind: Callable[[str], T], expected: str) -> T:
    """``text`` read as ``kind``; a ValueError saying what was expected if it is not one."""
    try:
        return kind(text)
    except ValueError:
        raise ValueError(f"must be {expected} (got {text!r})") from None


def _year(text: str) -> int:
    year = _read(text, int, "a whole number, 1 or more")
    if year < 1:
        raise ValueError(f"must be 1 or more: years count from 1 (got {year})")
    if year > _MAX_YEAR:
        raise ValueError(f"must be at most {_MAX_YEAR:,} (got {year:,})")
    return year


def _time(text: str) -> float:
    time = _read(text, float, "a number from 0 up to 1")
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
    "event": str,  # format 1.2: rows of one occurrence; empty: an occurrence of its own
}
