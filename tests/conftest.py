"""Shared test options: ``pytest --regen-golden`` rewrites tests/golden/*.txt; and the
hypothesis profiles.

Two profiles, neither with a deadline (a test must never fail for being slow on a
busy machine): ``ci`` is derandomised, so that every run draws the same examples
and CI (``make test``, and any run with the environment variable ``CI`` set) never
fails at random; ``dev``, the default elsewhere, draws new examples each run, to
find what the fixed ones miss (``--hypothesis-seed=N`` replays one).
"""

from __future__ import annotations

import os

import pytest
from hypothesis import settings

settings.register_profile("ci", derandomize=True, database=None, deadline=None, print_blob=True)
settings.register_profile("dev", deadline=None, print_blob=True)
settings.load_profile("ci" if os.environ.get("CI", "").lower() not in ("", "0", "false") else "dev")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--regen-golden",
        action="store_true",
        default=False,
        help="rewrite the golden CLI outputs in tests/golden/ instead of comparing to them",
    )


@pytest.fixture
def regen_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--regen-golden"))
