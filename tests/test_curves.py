"""Exceedance curves from a run's kept tails, and who pays in the total's bad years."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pytest

import riskshare
from riskshare.render.curves import MIN_PERIOD, exceedance_curves, period_grid
from riskshare.runs.bad_years import bad_year_splits, expected_split
from riskshare.runs.simulation import SimulationResult
from riskshare.stats.summary import RETURN_PERIODS

ROOT = Path(__file__).resolve().parent.parent
SPEC_EXAMPLE = ROOT / "tests" / "scenarios" / "valid" / "spec-example.yaml"

# One event a year, uniform between 0 and 100M: the enterprise keeps the first 5M of
# it, the insurer the rest; the state's budget is only reported.
RETENTION = """\
name: One event a year above a 5M retention
simulation: {years: 20000, seed: 3}
parties:
  firm:    {kind: enterprise}
  insurer: {kind: insurer, budget: 60M}
events:
  - name: loss
    frequency: {fixed: 1}
    severity: {uniform: {low: 0, high: 100M}}
layers:
  - {name: cover, party: insurer, attachment: 5M}
"""


def load_text(tmp_path: Path, text: str) -> riskshare.Scenario:
    path = tmp_path / "scenario.yaml"
    path.write_text(text, encoding="utf-8")
    return riskshare.load_scenario(path)


@pytest.fixture(scope="module")
def spec_result() -> SimulationResult:
    return riskshare.simulate(riskshare.load_scenario(SPEC_EXAMPLE), years=5000, seed=5)


def test_the_grid_runs_from_1_in_10_to_1_in_years_through_the_spec_periods() -> None:
    grid = period_grid(5000, points=50)
    assert grid[0] == MIN_PERIOD == 10
    assert grid[-1] == pytest.approx(5000)
    assert np.all(np.diff(grid) > 0)
    assert {10.0, 50.0, 100.0, 200.0, 500.0, 1000.0} <= set(grid.tolist())
    assert period_grid(3).tolist() == [10.0]


def test_curves_pass_through_the_reported_return_periods(spec_result: SimulationResult) -> None:
    curves = exceedance_curves(spec_result)
    assert curves.detailed
    periods = curves.aggregate.periods.tolist()
    figures = spec_result.total["return_periods"]
    oep = spec_result.total["oep_return_periods"]
    assert isinstance(figures, dict) and isinstance(oep, dict)
    for t in RETURN_PERIODS:
        i = periods.index(float(t))
        assert curves.aggregate.amounts[i] == figures[str(t)]
        assert curves.occurrence.amounts[i] == oep[str(t)]
        for name, curve in curves.parties.items():
            party_figures = spec_result.parties[name]["return_periods"]
            assert isinstance(party_figures, dict)
            assert curve.amounts[i] == party_figures[str(t)]


def test_curves_rise_with_the_return_period(spec_result: SimulationResult) -> None:
    curves = exceedance_curves(spec_result)
    for curve in [curves.aggregate, curves.occurrence, *curves.parties.values()]:
        assert np.all(np.diff(curve.amounts) >= 0), curve.label
    # No single event is larger than its year's total.
    assert np.all(curves.occurrence.amounts <= curves.aggregate.amounts + 1e-6)


def test_without_kept_tails_the_curves_are_the_reported_figures(
    spec_result: SimulationResult,
) -> None:
    bare = dataclasses.replace(spec_result, summaries={})
    curves = exceedance_curves(bare)
    assert not curves.detailed
    assert curves.aggregate.periods.tolist() == [float(t) for t in RETURN_PERIODS]
    figures = spec_result.total["return_periods"]
    assert isinstance(figures, dict)
    assert curves.aggregate.amounts.tolist() == [figures[str(t)] for t in RETURN_PERIODS]


def test_labels_and_budgets_come_with_the_party_curves(tmp_path: Path) -> None:
    result = riskshare.simulate(load_text(tmp_path, RETENTION), years=2000)
    curves = exceedance_curves(result)
    assert curves.parties["insurer"].budget == 60e6
    assert curves.parties["firm"].budget is None
    assert curves.parties["firm"].label == "firm"
    # The firm keeps at most 5M of its one loss a year.
    assert curves.parties["firm"].amounts.max() == pytest.approx(5e6)


def test_a_budget_comes_with_the_outlay_it_is_compared_with(tmp_path: Path) -> None:
    """With premiums, a budget is compared with the party's cost: its curve comes along."""
    priced = RETENTION.replace(
        "attachment: 5M}", "attachment: 5M, premium: {amount: 2M, payer: firm}}"
    )
    result = riskshare.simulate(load_text(tmp_path, priced), years=2000)
    cost = result.parties["insurer"]["cost"]
    assert isinstance(cost, dict)
    for curves in (
        exceedance_curves(result),
        exceedance_curves(dataclasses.replace(result, summaries={})),
    ):
        insurer = curves.parties["insurer"]
        assert insurer.outlay is not None
        periods = insurer.periods.tolist()
        for t in RETURN_PERIODS:
            assert insurer.outlay[periods.index(float(t))] == cost["return_periods"][str(t)]
        assert curves.parties["firm"].outlay is None  # no budget
    # without premiums the outlay is the net loss, already drawn
    plain = exceedance_curves(riskshare.simulate(load_text(tmp_path, RETENTION), years=2000))
    assert plain.parties["insurer"].outlay is None


def test_bad_year_splits_add_up_to_the_reported_total(spec_result: SimulationResult) -> None:
    splits = bad_year_splits(spec_result)
    assert [s.label for s in splits] == [
        "Expected year",
        "1-in-10 year",
        "1-in-100 year",
        "1-in-200 year",
    ]
    figures = spec_result.total["return_periods"]
    assert isinstance(figures, dict)
    for split in splits[1:]:
        assert split.total == figures[str(split.period)]
        assert math.fsum(split.parties.values()) == pytest.approx(split.total, rel=1e-9)
        assert all(amount >= 0 for amount in split.parties.values())
        assert split.years_averaged >= 3


def test_the_expected_year_is_the_parties_means(spec_result: SimulationResult) -> None:
    split = expected_split(spec_result)
    assert split.total == spec_result.total["mean"]
    assert split.parties == {n: e["mean"] for n, e in spec_result.parties.items()}
    assert split.years_averaged == spec_result.years


def test_in_a_bad_year_the_retention_is_full_and_the_insurer_pays_the_rest(
    tmp_path: Path,
) -> None:
    result = riskshare.simulate(load_text(tmp_path, RETENTION))
    for split in bad_year_splits(result)[1:]:
        # Bad years have one loss near 100M (1 - 1/T of it): the firm keeps 5M of it.
        assert split.total == pytest.approx(100e6 * (1 - 1 / (split.period or 1)), rel=0.01)
        assert split.parties["firm"] == pytest.approx(5e6, rel=0.01)
        assert split.parties["insurer"] == pytest.approx(split.total - 5e6, rel=0.01)


def test_bad_years_are_the_same_for_the_same_run(spec_result: SimulationResult) -> None:
    assert bad_year_splits(spec_result) == bad_year_splits(spec_result)


def test_a_run_shorter_than_the_periods_still_splits(tmp_path: Path) -> None:
    result = riskshare.simulate(load_text(tmp_path, RETENTION), years=7)
    splits = bad_year_splits(result)
    for split in splits[1:]:
        assert 1 <= split.years_averaged <= 7
        assert math.fsum(split.parties.values()) == pytest.approx(split.total)
