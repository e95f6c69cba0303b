"""The fast core against the scalar reference of ``tests/reference.py``, figure by figure.

Numbers match when they agree to 1e-9 relative, or to 1e-9 × the largest loss in
absolute terms; counts and probabilities (``prob_positive``, ``prob_attach``,
``prob_exhaust`` …) must therefore agree exactly.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
import reference
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import Case, build, cases, fast_allocation, sampled_scenarios, table

from riskshare.engine import events as events_module
from riskshare.engine.allocation import allocate
from riskshare.engine.block import events_of_block
from riskshare.engine.layout import YearLayout
from riskshare.engine.plan import compile_plan
from riskshare.model.scenario import Scenario
from riskshare.runs import simulation
from riskshare.runs.simulation import simulate

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(cases())
def test_every_figure_equals_the_reference(case: Case) -> None:
    fast = simulate(case.scenario, years=case.years, seed=0).to_dict()
    ref = reference.run(case.scenario, case.years).figures
    reference.assert_figures_match(fast, ref, case.loss_scale)


@SETTINGS
@given(cases())
def test_every_event_equals_the_reference(case: Case) -> None:
    fast = fast_allocation(case.scenario, case.years)
    ref = reference.run(case.scenario, case.years).ledger
    n = len(ref.events)
    np.testing.assert_array_equal(fast.block.loss, [e.loss for e in ref.events])
    np.testing.assert_array_equal(fast.block.year + 1, [e.year for e in ref.events])
    atol = 1e-9 * case.loss_scale
    payouts, reinstated = (
        by_row(ref.payouts, n, len(ref.layers)),
        by_row(ref.reinstated, n, len(ref.layers)),
    )
    nets = by_row(ref.nets, n, len(ref.parties))
    np.testing.assert_allclose(fast.payouts, payouts, rtol=1e-9, atol=atol)
    np.testing.assert_allclose(fast.reinstated, reinstated, rtol=1e-9, atol=atol)
    np.testing.assert_allclose(fast.nets, nets, rtol=1e-9, atol=atol)
    # a net the reference cleans as residue must be cleaned by the core too, and back
    np.testing.assert_array_equal(fast.nets == 0, nets == 0)


def by_row(per_event: list[list[float]], n: int, rows: int) -> np.ndarray:
    """[event][row] lists → a (rows, events) array, as the core lays them out."""
    return np.array(per_event, dtype=float).reshape(n, rows).T


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sampled_scenarios(), st.integers(0, 2**32 - 1), st.sampled_from((1, 7, 120)))
def test_sampled_events_figures_equal_the_reference(
    scenario: Scenario, seed: int, years: int
) -> None:
    """Drawn events (replayed into the reference as a list) give the reference's figures."""
    plan = compile_plan(scenario)
    block = events_of_block(plan, seed, 0, 0, years)
    drawn = [
        reference.Event(int(y) + 1, plan.sources[s], float(loss))
        for y, s, loss in zip(block.year, block.source, block.loss, strict=True)
    ]
    fast = simulate(scenario, years=years, seed=seed).to_dict()
    ref = reference.run(scenario, years, drawn)
    scale = max([1.0, *(e.loss for e in drawn)])
    if ref.premium is not None:
        scale += sum(abs(p) for p in ref.premium.values())
    reference.assert_figures_match(fast, ref.figures, scale)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases(), st.sampled_from((1, 2, 3, 7)))
def test_blocks_of_any_size_give_the_reference_figures(case: Case, block_years: int) -> None:
    """A run cut into blocks of a few years merges to the same figures as the reference."""

    def spans(years: int) -> list[tuple[int, int]]:
        return events_module.block_spans(years, block_years)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(simulation, "block_spans", spans)
        fast = simulate(case.scenario, years=case.years, seed=0).to_dict()
    ref = reference.run(case.scenario, case.years).figures
    reference.assert_figures_match(fast, ref, case.loss_scale)


# --- pinned: a year's aggregate must not depend on the years before it ---------------
#
# The spec's aggregate is C_i = o_1 + … + o_i *within the year*. YearIndex.within_year_cumsum
# (riskshare/engine/allocation.py) computes it as a cumulative sum over the whole block minus
# the total before the year's first event, so C carries the rounding error of the
# block's running total (up to 1e11 and more over a 100,000-year block) instead of the
# year's own. A year's payouts then depend on the losses of the earlier years of its
# block. These tests fail until C is summed year by year.


def one_layer(layer: dict[str, Any], rows: list[tuple[int, str, float]]) -> Scenario:
    data = {
        "name": "pinned",
        "parties": {"ent": {"kind": "enterprise"}, "ins": {"kind": "insurer"}},
        "events_file": "given.csv",
        "layers": [{"name": "L", "party": "ins", **layer}],
    }
    return build(data, table(rows))


def test_a_years_payout_does_not_depend_on_the_years_before() -> None:
    # 100% of each loss up to an annual 1B. Year 2's loss of 0.3 alone: C = A = a = 0.3.
    layer = {"aggregate_limit": 1e9}
    alone = fast_allocation(one_layer(layer, [(2, "", 0.3)]), 2)
    assert alone.payouts[0, -1] == 0.3
    plan_scenario = one_layer(layer, [(1, "", 3e8), (2, "", 0.3)])
    after_big_year = allocate(
        compile_plan(plan_scenario),
        events_module.table_block(
            plan_scenario.event_table,  # type: ignore[arg-type]
            compile_plan(plan_scenario).table_sources,  # type: ignore[arg-type]
            0,
            2,
        ),
    )
    # got (3e8 + 0.3) − 3e8 = 0.30000001192092896
    assert after_big_year.payouts[0, -1] == 0.3


def test_a_fully_insured_enterprise_run_balances() -> None:
    # An insurer takes 100% of every loss, up to 1e12 a year; the enterprise keeps
    # nothing. At 100,000 years the block's running total reaches ~5e10, and a small
    # loss's payout comes out larger than the loss: the run stops with
    # "RunError: balance check failed: a party's net is below zero (-2.55e-06)".
    scenario = Scenario.model_validate(
        {
            "name": "fully insured",
            "parties": {"ent": {"kind": "enterprise"}, "ins": {"kind": "insurer"}},
            "events": [
                {
                    "name": "e",
                    "frequency": {"poisson": 0.5},
                    "severity": {"lognormal": {"mean": 1e6, "cv": 3}},
                }
            ],
            "layers": [{"name": "L", "party": "ins", "aggregate_limit": 1e12}],
        }
    )
    result = simulate(scenario, years=100_000, seed=0).to_dict()
    ent: Any = result["parties"]["ent"]
    assert ent["mean"] == 0.0
    assert ent["prob_positive"] == 0.0


#: Year 1: a loss of 1.31, below the 10,000 aggregate attachment. Year 2: 6,000 then
#: 4,000: C = 10,000, A = max(10,000 − 10,000, 0) = 0: the layer pays nothing in either
#: year. Got once: year 2 pays 1.8e-12, so prob_attach = 0.5.
EXACT_ATTACHMENT = (
    {"aggregate_attachment": 10_000},
    [(1, "", 1.31), (2, "", 6000.0), (2, "", 4000.0)],
)
#: Year 1: 0.53. Year 2: 6,000 then 4,000: C = 10,000 = the aggregate limit, so the limit
#: is used up in year 2: prob_exhaust = 1/2. Got once: A = 9,999.999999999998, 0.
EXACT_LIMIT = ({"aggregate_limit": 10_000}, [(1, "", 0.53), (2, "", 6000.0), (2, "", 4000.0)])


def test_an_aggregate_attachment_reached_exactly_does_not_attach() -> None:
    result: Any = simulate(one_layer(*EXACT_ATTACHMENT), years=2).to_dict()
    assert result["layers"]["L"]["max"] == 0.0
    assert result["layers"]["L"]["prob_attach"] == 0.0


def test_an_aggregate_limit_reached_exactly_is_exhausted() -> None:
    result: Any = simulate(one_layer(*EXACT_LIMIT), years=2).to_dict()
    assert result["layers"]["L"]["prob_exhaust"] == 0.5
    assert result["layers"]["L"]["max"] == 10_000.0


def test_the_reference_is_not_fooled_by_the_pinned_cases() -> None:
    """The reference computes the pinned cases as the spec says (guards the pins)."""
    ref = reference.run(one_layer(*EXACT_ATTACHMENT), 2)
    assert ref.figures["layers"]["L"]["prob_attach"] == 0.0  # type: ignore[index]
    ref = reference.run(one_layer(*EXACT_LIMIT), 2)
    assert ref.figures["layers"]["L"]["prob_exhaust"] == 0.5  # type: ignore[index]
    assert math.isclose(ref.layer["L"][1], 10_000.0)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.one_of(st.integers(0, 5), st.integers(30, 120)),  # short and long years
        min_size=1,
        max_size=40,
    ),
    st.integers(0, 2**32 - 1),
)
def test_the_layout_sums_each_year_in_time_order(counts: list[int], seed: int) -> None:
    """Running sums, previous values, year sums and maxima, the last event and the
    year of each event, in the rank-major layout with its long block, equal a loop over
    each year's events in time order, to the bit."""
    layout = YearLayout(None, len(counts), np.array(counts, dtype=np.int64))
    values = np.random.default_rng(seed).lognormal(0.0, 2.0, layout.n)
    laid = values[layout.perm]
    running, previous = np.empty(layout.n), np.empty(layout.n)
    layout.cumsum(laid, running)
    layout.previous(laid, previous)
    sums, maxima = layout.year_sums(laid), layout.year_max(laid)
    matrix_sums = layout.year_sums(np.stack([laid, 2 * laid]))
    inverse = np.argsort(layout.perm)
    starts = np.concatenate(([0], np.cumsum(counts)))
    for at, year in enumerate(layout.years):
        events = range(starts[year], starts[year + 1])
        total, before = 0.0, 0.0
        for event in events:
            position = inverse[event]
            total += values[event]
            assert running[position] == total
            assert previous[position] == before
            assert layout.year_of[position] == at
            before = values[event]
        assert sums[at] == total == matrix_sums[0, at]
        assert maxima[at] == values[starts[year] : starts[year + 1]].max()
        assert layout.last[at] == inverse[starts[year + 1] - 1]
