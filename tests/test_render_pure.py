"""Renderers draw what they are given: no plan compiled, no years allocated again."""

from __future__ import annotations

import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

import riskshare
from riskshare.render import plots
from riskshare.render.html import report_html
from riskshare.runs.bad_years import bad_year_splits

ROOT = Path(__file__).resolve().parent.parent
NO_PREMIUMS = ROOT / "tests" / "scenarios" / "valid" / "spec-example.yaml"
#: What runs or compiles: any binding of these names in riskshare's modules.
RUNNERS = ("compile_plan", "run_plans", "stream", "simulate", "allocate", "bad_year_splits")


def test_the_report_and_its_figures_run_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    result = riskshare.simulate(riskshare.load_scenario(NO_PREMIUMS), years=500, seed=2)
    splits = bad_year_splits(result)

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("a renderer ran the simulation")

    for name, module in list(sys.modules.items()):
        if name.startswith("riskshare"):
            for runner in RUNNERS:
                if hasattr(module, runner):
                    monkeypatch.setattr(module, runner, refuse)
    when = datetime(2025, 3, 2, tzinfo=timezone.utc)
    assert report_html(result, splits, generated=when).startswith("<!DOCTYPE html>")
    assert plots.exceedance_image(result, "svg")
    assert plots.who_pays_figure(result, splits) is not None
