"""Every shipped scenario validates, runs, balances and explains."""

from __future__ import annotations

from pathlib import Path

import pytest

import riskshare

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = sorted((ROOT / "scenarios").glob("*.yaml"))


def test_the_library_has_the_programmes_of_the_policy() -> None:
    names = {path.stem for path in SHIPPED}
    assert "breakthrough-consortium" in names
    assert len(names) >= 9


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_shipped_scenario_runs(path: Path) -> None:
    problems = riskshare.validate_file(path)
    assert [p for p in problems if p.severity == "error"] == []
    scenario = riskshare.load_scenario(path)
    assert scenario.description.strip(), "each scenario says what it models"
    years = min(scenario.simulation.years, 3_000)
    result = riskshare.simulate(scenario, years=years, seed=11)
    data = result.to_dict()
    total = data["total"]
    assert isinstance(total, dict)
    parties = data["parties"]
    assert isinstance(parties, dict)
    assert sum(entry["mean"] for entry in parties.values()) == pytest.approx(
        total["mean"], rel=1e-9
    )
    assert result.balance["max_abs_error"] <= 1e-6 * max(1.0, float(total["max"]))
    # Without a residual party, the given loss must come from a named source.
    source = None if scenario.residual_party() else next(iter(scenario.source_bearers()))
    worst = float(total["max"]) or 1e6
    explained = riskshare.explain(scenario, [worst], source=source).to_dict()
    assert explained["total"]["loss"] == worst


def test_every_scenario_has_a_header_comment() -> None:
    for path in SHIPPED:
        first = path.read_text(encoding="utf-8").lstrip().splitlines()[0]
        assert first.startswith("#"), f"{path.name} opens with a comment that says what it models"
