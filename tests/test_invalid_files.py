"""Every invalid scenario file names its problems exactly, at the line each must name.

Each file under ``tests/scenarios/invalid`` starts with what it shows and one
``# expect:`` line per problem: ``LINE:COLUMN: SEVERITY: KEY: MESSAGE`` for the
scenario file, ``CSVFILE:LINE: SEVERITY: KEY: MESSAGE`` for a row of its events file.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from riskshare.errors import Problem, format_loc
from riskshare.loading.load import validate_file

HERE = Path(__file__).parent
INVALID = sorted((HERE / "scenarios" / "invalid").glob("*.yaml"))
VALID = sorted((HERE / "scenarios" / "valid").glob("*.yaml"))
SHIPPED = sorted((HERE.parent / "scenarios").glob("*.yaml"))
EXPECT = "# expect: "


def render(problem: Problem, scenario: Path) -> str:
    key = format_loc(problem.loc)
    text = (
        f"{problem.severity}: {key}: {problem.message}"
        if key
        else (f"{problem.severity}: {problem.message}")
    )
    if problem.file == str(scenario):
        return f"{problem.line}:{problem.column}: {text}"
    return f"{Path(problem.file or '').name}:{problem.line}: {text}"


def expected(path: Path) -> list[str]:
    lines = path.read_bytes().decode("utf-8", errors="replace").splitlines()
    return [line.removeprefix(EXPECT) for line in lines if line.startswith(EXPECT)]


def test_there_are_enough_invalid_files() -> None:
    assert len(INVALID) >= 25


@pytest.mark.parametrize("path", INVALID, ids=[p.name for p in INVALID])
def test_invalid_file(path: Path) -> None:
    wanted = expected(path)
    assert wanted, f"{path.name} states no `# expect:` line"
    assert [render(p, path) for p in validate_file(path)] == wanted


@pytest.mark.parametrize("path", INVALID, ids=[p.name for p in INVALID])
def test_every_problem_is_located(path: Path) -> None:
    for problem in validate_file(path):
        assert problem.file is not None
        assert problem.line is not None and problem.line >= 1


@pytest.mark.parametrize("path", VALID + SHIPPED, ids=[p.name for p in VALID + SHIPPED])
def test_valid_scenario_has_no_errors(path: Path) -> None:
    errors = [str(p) for p in validate_file(path) if p.severity == "error"]
    assert errors == []


@pytest.mark.parametrize("path", VALID + SHIPPED, ids=[p.name for p in VALID + SHIPPED])
def test_valid_scenario_has_no_warnings(path: Path) -> None:
    """Warnings are for slips: a shipped scenario, written with care, has none."""
    assert [str(p) for p in validate_file(path)] == []
