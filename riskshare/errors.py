"""The library's error types, and the located problems a scenario can have."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import IntEnum
from typing import Literal

Loc = tuple[str | int, ...]


class ExitCode(IntEnum):
    """What the command line returns."""

    OK = 0
    FAILED = 1  # an invalid scenario or a failed run
    USAGE = 2


def printable(text: str) -> str:
    """``text`` with each lone surrogate written as its escape (``\\ud800``).

    A lone surrogate is no character: printing or encoding one fails. It reaches a
    message from a file name that is not UTF-8 (Python keeps its bytes as surrogates) or
    from text a scenario was given from Python; files refuse it when read.
    """
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def format_loc(loc: Loc) -> str:
    """``("layers", 2, "share")`` → ``layers[2].share``."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return printable(text)


@dataclass(frozen=True)
class Problem:
    """One thing wrong (or worth a warning) in a scenario, where it is."""

    loc: Loc
    message: str
    severity: Literal["error", "warning"] = "error"
    file: str | None = None
    line: int | None = None
    column: int | None = None

    def at(self, file: str | None, line: int | None, column: int | None) -> Problem:
        return replace(self, file=file, line=line, column=column)

    @property
    def where(self) -> str:
        """``FILE:LINE:COLUMN`` as far as it is known."""
        parts = [printable(self.file or "<scenario>")]
        if self.line is not None:
            parts.append(str(self.line))
            if self.column is not None:
                parts.append(str(self.column))
        return ":".join(parts)

    @property
    def text(self) -> str:
        """``layers[2].share: must be at most 100% (got 120%)``: the key and the message."""
        key, message = format_loc(self.loc), printable(self.message)
        return f"{key}: {message}" if key else message

    def __str__(self) -> str:
        return f"{self.where}: {self.severity}: {self.text}"

    def to_dict(self) -> dict[str, object]:
        return {
            "file": printable(self.file) if self.file is not None else None,
            "line": self.line,
            "column": self.column,
            "severity": self.severity,
            "key": format_loc(self.loc),
            "message": printable(self.message),
        }


class RiskshareError(Exception):
    """Base of every error riskshare raises on purpose."""


class ScenarioError(RiskshareError):
    """A scenario that cannot be run: every problem found, each with its place."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.errors) or "invalid scenario")

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]


class RunError(RiskshareError):
    """A run that could not be completed or whose result failed a check."""


class OutputError(RiskshareError):
    """An output that cannot be written, or must not be: over an input, over a device."""
