"""Run the command line in-process, the way the golden tests and CLI tests see it."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from riskshare.cli import app

WIDTH = 120
_SECONDS = re.compile(r"\d+\.\d+ s$", re.MULTILINE)
_ROUNDING = re.compile(r"largest\s+difference\s+\S+")


@dataclass(frozen=True)
class Run:
    exit_code: int
    stdout: str
    stderr: str


def run(*args: str) -> Run:
    """``riskshare ARGS`` with a fixed-width, colourless console and separate streams."""
    runner = CliRunner()
    result = runner.invoke(
        app, list(args), env={"COLUMNS": str(WIDTH), "NO_COLOR": "1", "TERM": "dumb"}
    )
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return Run(result.exit_code, result.stdout, result.stderr)


def json_by_workers(out: Path, *args: str) -> list[dict[str, Any]]:
    """The JSON ``riskshare ARGS --json OUT`` writes with 1 and with 2 workers, without
    the run's ``seconds`` (the one key that may differ)."""
    documents = []
    for workers in ("1", "2"):
        out.unlink(missing_ok=True)  # each run must write its own
        result = run(*args, "--workers", workers, "--json", str(out))
        assert result.exit_code == 0, result.stderr
        data = json.loads(out.read_text(encoding="utf-8"))
        data["simulation"].pop("seconds")
        documents.append(data)
    return documents


def stable(text: str) -> str:
    """Output with the run time and the size of floating-point rounding masked.

    The run time changes from run to run; the largest rounding difference of the
    balance check changes with the order of floating-point operations, which an
    optimisation of the core may change without changing any figure.
    """
    return _ROUNDING.sub("largest difference <rounding>", _SECONDS.sub("<seconds> s", text))
