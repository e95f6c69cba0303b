"""Runs bigger than memory, on every core: the same figures to the bit, whatever the split.

A run streams its blocks through worker processes (riskshare.engine.passes), lays each
block out and allocates it in chunks (riskshare.engine.block), keeps each series' largest
values in value-ordered groups (riskshare.stats.tails) and checks its memory before it
starts (riskshare.engine.memory). None of that may change a figure: these tests hold the
figures of every way of running a scenario equal, bit for bit, to one another and to
the plain path (allocate a whole block, sum its annual series, merge in block order).
"""

from __future__ import annotations

import json
import multiprocessing
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from render import json_by_workers

import riskshare
from riskshare.engine import block as blocks
from riskshare.engine import events, memory
from riskshare.engine.plan import compile_plan
from riskshare.errors import RunError
from riskshare.runs import simulation
from riskshare.stats import tails as tails_module
from riskshare.stats.summary import SeriesSummary, tail_size
from riskshare.stats.tails import Tail

ROOT = Path(__file__).resolve().parent.parent
BUNDLED = ROOT / "scenarios" / "breakthrough-consortium.yaml"
YEARS = 12_345
BLOCK = 1_000  # small blocks: a dozen of them in a run of YEARS years


def figures(result: riskshare.SimulationResult) -> dict[str, Any]:
    data = result.to_dict()
    data["simulation"].pop("seconds")  # type: ignore[attr-defined]
    return data


@pytest.fixture
def small_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(simulation, "block_spans", lambda years: events.block_spans(years, BLOCK))


@pytest.fixture(scope="module")
def bundled() -> riskshare.Scenario:
    return riskshare.load_scenario(BUNDLED)


# --- the same bits for any number of workers, chunk size or way of keeping the tails ---


@pytest.mark.usefixtures("small_blocks")
@pytest.mark.parametrize("path", sorted((ROOT / "scenarios").glob("*.yaml")), ids=lambda p: p.stem)
def test_any_number_of_workers_gives_the_same_json(path: Path) -> None:
    scenario = riskshare.load_scenario(path)
    one = figures(riskshare.simulate(scenario, YEARS, 7, workers=1))
    assert figures(riskshare.simulate(scenario, YEARS, 7, workers=2)) == one
    assert figures(riskshare.simulate(scenario, YEARS, 7, workers=3)) == one


@pytest.mark.usefixtures("small_blocks")
@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("WORKER_TAILS_BYTES", 0),  # the run keeps the tails, workers send candidates
        ("COST_CACHE_BYTES", 0),  # priced premiums by a first pass
        ("CHUNK_YEARS", 7),  # chunks smaller than a block, and ragged
        ("CHUNK_YEARS", 250),  # several even chunks in each block of BLOCK years
    ],
)
def test_every_way_of_running_gives_the_same_json(
    bundled: riskshare.Scenario, monkeypatch: pytest.MonkeyPatch, setting: str, value: int
) -> None:
    want = figures(riskshare.simulate(bundled, YEARS, 3, workers=2))
    module = blocks if setting == "CHUNK_YEARS" else memory
    monkeypatch.setattr(module, setting, value)
    assert figures(riskshare.simulate(bundled, YEARS, 3, workers=2)) == want
    assert figures(riskshare.simulate(bundled, YEARS, 3, workers=1)) == want


@pytest.mark.usefixtures("small_blocks")
def test_the_stream_equals_the_plain_path_block_by_block(bundled: riskshare.Scenario) -> None:
    """allocate a whole block, sum its annual series, summarise, merge in block order."""
    plan = compile_plan(bundled)
    premiums = simulation.layer_premiums(plan, 5, YEARS)
    keep = tail_size(YEARS)
    merged: blocks.BlockResult | None = None
    for index, (first, n_years) in enumerate(simulation.block_spans(YEARS)):
        part = blocks.run_block(
            plan, 5, index, first, n_years, keep, premiums, tolerance=simulation.BALANCE_TOLERANCE
        )
        if merged is None:
            merged = part
        else:
            merged.merge(part)
    assert merged is not None
    total, parties, layers = simulation.assemble(bundled, plan, merged, premiums)
    streamed = figures(riskshare.simulate(bundled, YEARS, 5, workers=2))
    assert json.loads(json.dumps([total, parties, layers])) == json.loads(
        json.dumps([streamed["total"], streamed["parties"], streamed["layers"]])
    )
    assert streamed["simulation"]["events"] == merged.events


def test_the_json_of_the_command_does_not_depend_on_workers(tmp_path: Path) -> None:
    one, two = json_by_workers(
        tmp_path / "run.json", "simulate", str(BUNDLED), "--years", "250000", "--quiet"
    )
    assert one == two


# --- compare and sweep: several plans on one draw, on the same path ---------------------


@pytest.mark.usefixtures("small_blocks")
@pytest.mark.parametrize(
    ("setting", "value"),
    [
        (None, 0),
        ("WORKER_TAILS_BYTES", 0),  # the run keeps the tails, workers send candidates
        ("COST_CACHE_BYTES", 0),  # priced premiums by a first pass
        ("CHUNK_YEARS", 7),  # chunks smaller than a block, and ragged
    ],
)
def test_sweep_points_equal_simulate_on_any_number_of_workers(
    bundled: riskshare.Scenario, monkeypatch: pytest.MonkeyPatch, setting: str | None, value: int
) -> None:
    grid = {"layers.state backstop.attachment": ["1B", "1.5B", "3B"], "layers[0].share": [1, 0.5]}
    one = riskshare.sweep(bundled, grid, YEARS, 4, workers=1).to_dict()
    if setting is not None:
        module = blocks if setting == "CHUNK_YEARS" else memory
        monkeypatch.setattr(module, setting, value)
    for workers in (2, 3):
        got = riskshare.sweep(bundled, grid, YEARS, 4, workers=workers).to_dict()
        assert got["points"] == one["points"]
        assert got["simulation"]["events"] == one["simulation"]["events"]  # type: ignore[index]
    for point in one["points"]:  # type: ignore[attr-defined]
        values = {path: [value] for path, value in point["values"].items()}
        alone = riskshare.sweep(bundled, values, YEARS, 4, workers=1).points[0]
        assert alone.scenario is not None
        want = figures(riskshare.simulate(alone.scenario, YEARS, 4, workers=2))["parties"]
        for name, got in point["parties"].items():
            for figure in ("mean", "stderr", "prob_positive", "var_995", "tvar_99"):
                assert got[figure] == want[name][figure], (point["values"], name, figure)
                assert got["cost"][figure] == want[name]["cost"][figure]


@pytest.mark.usefixtures("small_blocks")
def test_a_comparison_is_the_same_on_any_number_of_workers(bundled: riskshare.Scenario) -> None:
    variant = riskshare.sweep(bundled, {"layers.state backstop.attachment": ["1.5B"]}, 10)
    other = variant.points[0].scenario
    assert other is not None
    one = riskshare.compare([bundled, other], YEARS, 6, workers=1).to_dict()
    one["simulation"].pop("seconds")  # type: ignore[attr-defined]
    for workers in (2, 3):
        got = riskshare.compare([bundled, other], YEARS, 6, workers=workers).to_dict()
        got["simulation"].pop("seconds")  # type: ignore[attr-defined]
        assert got == one
    want = figures(riskshare.simulate(other, YEARS, 6, workers=2))
    assert one["parties"]["state"]["scenarios"][1]["mean"] == want["parties"]["state"]["mean"]  # type: ignore[index]


# --- workers come and go cleanly --------------------------------------------------------


@pytest.mark.usefixtures("small_blocks")
def test_an_error_in_a_worker_reaches_the_caller(
    bundled: riskshare.Scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(simulation, "BALANCE_TOLERANCE", -1.0)  # every event fails
    with pytest.raises(RunError, match="balance check failed"):
        riskshare.simulate(bundled, YEARS, 1, workers=2)
    assert not multiprocessing.active_children()


@pytest.mark.usefixtures("small_blocks")
def test_no_worker_outlives_its_run(bundled: riskshare.Scenario) -> None:
    riskshare.simulate(bundled, YEARS, 1, workers=2)
    assert not multiprocessing.active_children()


def test_workers_must_be_at_least_one(bundled: riskshare.Scenario) -> None:
    with pytest.raises(RunError, match="workers must be at least 1"):
        riskshare.simulate(bundled, 1000, workers=0)


# --- the kept tail: exactly the largest values, however they arrive ---------------------

VALUES = st.one_of(
    st.sampled_from((0.0, 0.0, 0.0, 1.0, 3e8, 3e8, -2.5, 1e-300)),
    st.floats(-1e12, 1e12, allow_nan=False, allow_infinity=False).filter(lambda v: v != 0),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.lists(VALUES, max_size=300), min_size=1, max_size=12),
    st.integers(1, 400),
    st.booleans(),
    st.sampled_from((12, 14, 16)),
)
def test_a_tail_keeps_exactly_the_largest_values(
    batches: list[list[float]], keep: int, runs: bool, bits: int
) -> None:
    with pytest.MonkeyPatch.context() as patch:  # join, pack and look for runs early
        patch.setattr(tails_module, "MOST_PIECES", 1)
        patch.setattr(tails_module, "RUN_WORTH_CHECKING", 2)
        check_tail(batches, keep, runs, bits)


def check_tail(batches: list[list[float]], keep: int, runs: bool, bits: int) -> None:
    tails = [Tail(keep), Tail(keep)]
    for tail in tails:
        tail._batch = 1  # group and trim at every offer, the most demanding order
        tail._bits = bits  # the groups of a long run's tail (16 bits: packed)
    offered: list[float] = []
    for batch in batches:
        values = np.array(batch, dtype=np.float64)
        for tail in tails:
            if runs and len(values):
                tail.offer_run(float(values[0]), 70)  # a run worth counting
            tail.offer(values, copy=True)
        if runs and len(values):
            offered.extend([float(values[0])] * 70)
        offered.extend(batch)
    want = np.sort(np.array(offered))[-keep:] if offered else np.zeros(0)
    by_value, whole = tails
    assert by_value.length == whole.length == len(want)
    for index in range(len(want)):  # before anything sorts the groups
        assert by_value.value_at(index) == want[index]
    np.testing.assert_array_equal(whole.top(len(want)), want)


@given(st.lists(st.floats(allow_nan=False), min_size=2, max_size=50))
def test_a_value_s_ordered_bits_sort_as_the_values_and_turn_back(values: list[float]) -> None:
    array = np.array(values, dtype=np.float64)
    ordered = tails_module._ordered(array)
    for a, b, key_a, key_b in zip(array, array[1:], ordered, ordered[1:], strict=False):
        if a < b:
            assert key_a < key_b
        elif a > b:
            assert key_a > key_b
    back = tails_module._from_ordered(ordered)
    assert np.array_equal(back.view(np.uint64), array.view(np.uint64))


@settings(max_examples=200, deadline=None)
@given(
    st.lists(VALUES, min_size=1, max_size=2000),
    st.integers(1, 60),
    st.sampled_from((12, 14, 16)),
)
def test_a_first_offer_cut_to_its_top_groups_keeps_the_largest_values(
    values: list[float], keep: int, bits: int
) -> None:
    """A block's values offered to an empty tail many times their number: counted by
    group, and only the top groups sorted into it."""
    tail = Tail(keep)
    tail._bits = bits
    offered = np.array(values, dtype=np.float64)
    tail.offer(offered, copy=True)
    want = np.sort(offered)[-keep:]
    np.testing.assert_array_equal(tail.top(keep), want)
    assert tail.length == len(want)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.lists(VALUES, max_size=200), min_size=2, max_size=6), st.integers(1, 300))
def test_tails_merge_to_the_same_largest_values_in_any_order(
    batches: list[list[float]], keep: int
) -> None:
    parts = []
    for batch in batches:
        part = Tail(keep)
        part.offer(np.array(batch, dtype=np.float64), copy=True)
        part.pack()
        parts.append(part)
    forward, backward = Tail(keep), Tail(keep)
    for part in parts:
        forward.merge(part, take=False)
    for part in reversed(parts):
        backward.merge(part, take=False)
    everything = np.sort(np.concatenate([np.array(b, dtype=np.float64) for b in batches]))
    want = everything[-keep:]
    np.testing.assert_array_equal(forward.top(len(want)), want)
    np.testing.assert_array_equal(backward.top(len(want)), want)


def test_a_derived_tail_is_the_image_of_its_source() -> None:
    x = np.random.default_rng(1).lognormal(10, 2, 5000)
    x[::3] = 0.0
    keep = tail_size(len(x))
    party, member, cost = SeriesSummary(keep), SeriesSummary(keep), SeriesSummary(keep)
    member.derive_tail(party, scale=0.35)
    cost.derive_tail(party, shift=-12.5)
    for block in np.array_split(x, 7):
        party.add(block)
        member.add(0.35 * block, tail=False)
        cost.add(block + -12.5, tail=False)
    for summary, series in ((member, 0.35 * x), (cost, x + -12.5)):
        for q in (0.9, 0.95, 0.99, 0.995, 0.999):
            assert summary.quantile(q) == np.quantile(series, q)
        assert summary.tail_mean(0.01) == np.mean(np.sort(series)[-50:])


# --- the memory guard ------------------------------------------------------------------


def test_the_estimate_grows_with_the_years_and_the_workers(bundled: riskshare.Scenario) -> None:
    plan = compile_plan(bundled)
    small = memory.estimate(bundled, [plan], 1_000_000, 1).total
    assert memory.estimate(bundled, [plan], 10_000_000, 1).total > small
    assert memory.estimate(bundled, [plan], 1_000_000, 2).total > small
    big = memory.estimate(bundled, [plan], 100_000_000, 2)
    assert 1 * 2**30 < big.total < 4 * 2**30  # the largest tenth of 25 series of 1e8 years


def test_a_run_that_cannot_fit_says_so_and_what_to_change(
    bundled: riskshare.Scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(memory, "available", lambda: 600 * 2**20)
    with pytest.raises(RunError) as caught:
        riskshare.simulate(bundled, 100_000_000, workers=2)
    message = str(caught.value)
    assert "needs about" in message and "available" in message
    assert "run at most about" in message and ", or run it on a machine with more memory" in message
    riskshare.simulate(bundled, 10_000, workers=1)  # a small run still fits


def test_every_point_of_a_sweep_counts_in_its_estimate(bundled: riskshare.Scenario) -> None:
    plan = compile_plan(bundled)
    one = memory.estimate(bundled, [plan], 10_000_000, 1)
    three = memory.estimate(bundled, [plan] * 3, 10_000_000, 1)
    assert three.events_per_block == one.events_per_block  # the events are drawn once
    assert three.block > one.block  # each plan's series, and one allocation kept for the next
    assert three.tails == pytest.approx(3 * one.tails, rel=1e-6)
    kept_less = memory.estimate(bundled, [plan] * 3, 10_000_000, 1, tail_share=0.01)  # a sweep
    assert kept_less.tails < three.tails / 4


def test_a_sweep_that_cannot_fit_says_so_before_it_starts(
    bundled: riskshare.Scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(memory, "available", lambda: 600 * 2**20)
    grid = {"layers.state backstop.attachment": ["1B", "2B", "3B"]}
    with pytest.raises(RunError, match=r"a run of 100,000,000 years of 3 scenarios on 2 workers"):
        riskshare.sweep(bundled, grid, 100_000_000, workers=2)
    with pytest.raises(RunError, match=r"of 2 scenarios .* needs about .*more memory"):
        riskshare.compare([bundled, bundled], 100_000_000, workers=2)


def test_a_scenario_without_layers_counts_its_events() -> None:
    """The events and the balance of every block are added up, whatever the tower."""
    scenario = riskshare.Scenario.model_validate(
        {
            "name": "no layers",
            "parties": {"firm": {"kind": "enterprise"}},
            "events": [{"name": "e", "frequency": {"poisson": 1}, "severity": {"fixed": 5}}],
            "layers": [],
        }
    )
    plan = compile_plan(scenario)
    drawn = sum(
        len(blocks.events_of_block(plan, 1, block, first, n_years))
        for block, (first, n_years) in enumerate(events.block_spans(2000))
    )
    assert riskshare.simulate(scenario, 2000, 1).events == drawn > 0
