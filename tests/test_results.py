"""Typed results: frozen figures whose attributes are the JSON's numbers, to the bit."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import riskshare
from riskshare.engine.series import SeriesKey
from riskshare.runs.results import SeriesFigures
from riskshare.runs.simulation import SimulationResult
from riskshare.runs.sweep import KeyFigures
from riskshare.stats.summary import SeriesSummary, tail_size

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "scenarios" / "breakthrough-consortium.yaml"


@pytest.fixture(scope="module")
def demo() -> SimulationResult:
    return riskshare.simulate(riskshare.load_scenario(DEMO), years=2000, seed=3)


@settings(max_examples=60)
@given(
    st.lists(st.floats(-1e9, 1e9, allow_nan=False), min_size=1, max_size=300),
    st.integers(1, 5),
)
def test_series_figures_are_the_summary_figures(values: list[float], blocks: int) -> None:
    annual = np.array(values)
    summary = SeriesSummary(tail_size(len(annual)))
    for part in np.array_split(annual, blocks):
        summary.add(part)
    assert SeriesFigures.of(summary).to_dict() == summary.figures()


def test_key_figures_are_the_series_figures(demo: SimulationResult) -> None:
    summary = demo.summaries[SeriesKey.party(0)]
    key, full = KeyFigures.of(summary), SeriesFigures.of(summary)
    assert (key.mean, key.stderr, key.prob_positive) == (
        full.mean,
        full.stderr,
        full.prob_positive,
    )
    assert (key.var_995, key.tvar_99) == (full.var_995, full.tvar_99)


def test_attributes_are_the_json_figures(demo: SimulationResult) -> None:
    data = demo.to_dict()
    for name, party in demo.parties.items():
        entry = data["parties"][name]  # type: ignore[index]
        assert party.figures.mean == entry["mean"]
        assert party.figures.return_periods[200] == entry["return_periods"]["200"]
        assert party.kind.value == entry["kind"] and party.label == entry["label"]
        assert (party.cost is not None) == ("cost" in entry)
        if party.cost is not None:
            assert party.cost.var_995 == entry["cost"]["var_995"]
        for member_name, member in party.members.items():
            assert member.figures.tvar_99 == entry["members"][member_name]["tvar_99"]
    for name, layer in demo.layers.items():
        entry = data["layers"][name]  # type: ignore[index]
        assert layer.prob_attach == entry["prob_attach"] == layer.figures.prob_positive
        assert layer.from_ == entry["from"]
        assert layer.pricing is not None and layer.pricing.premium == entry["premium"]
    assert demo.total.oep_return_periods[10] == data["total"]["oep_return_periods"]["10"]  # type: ignore[index]
    assert demo.balance.max_abs_error == data["balance"]["max_abs_error"]  # type: ignore[index]


def test_figures_read_as_their_json_objects(demo: SimulationResult) -> None:
    for party in demo.parties.values():
        assert dict(party) == party.to_dict()
        assert list(party) == list(party.to_dict())
        assert ("members" in party) == bool(party.members)
        assert ("budget" in party) == (party.budget is not None)
    layer = next(iter(demo.layers.values()))
    assert layer["prob_attach"] == layer.prob_attach
    assert dict(demo.total)["oep_return_periods"] == demo.total.to_dict()["oep_return_periods"]


def test_figures_are_frozen(demo: SimulationResult) -> None:
    party = next(iter(demo.parties.values()))
    with pytest.raises(dataclasses.FrozenInstanceError):
        party.label = "changed"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        demo.total.mean = 0.0  # type: ignore[misc]
