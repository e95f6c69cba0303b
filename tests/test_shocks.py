"""Common shocks (format 1.2): occurrences of several parts, against the reference and
against closed forms.

An occurrence of a source with ``hits`` (or the rows of an events file that share an
``event``) has several parts, each borne by its bearer; a ``ground_up`` or
``ground_up:SOURCE`` layer is given up by each bearer in proportion to its part. The
fast core must equal the scalar reference (tests/reference.py) on generated scenarios,
keep every event's balance and leave no net below zero; the Monte Carlo mean and
variance of each bearer's annual loss must match the closed forms of
docs/common-shocks.md.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import reference
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from strategies import (
    FREQUENCIES,
    SEVERITIES,
    Case,
    cases,
    errors,
    fast_allocation,
    scenario_data,
)
from test_allocation import by_row

from riskshare.engine.block import events_of_block
from riskshare.engine.plan import compile_plan
from riskshare.model.scenario import Scenario
from riskshare.runs.simulation import simulate

SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# --- rows of one occurrence in an events file -------------------------------------------


@SETTINGS
@given(cases(grouped=True))
def test_grouped_rows_give_the_reference_figures(case: Case) -> None:
    fast = simulate(case.scenario, years=case.years, seed=0).to_dict()
    ref = reference.run(case.scenario, case.years).figures
    reference.assert_figures_match(fast, ref, case.loss_scale)


@SETTINGS
@given(cases(grouped=True))
def test_grouped_rows_give_the_reference_event_by_event(case: Case) -> None:
    fast = fast_allocation(case.scenario, case.years)
    ref = reference.run(case.scenario, case.years).ledger
    n = len(ref.events)
    np.testing.assert_array_equal(fast.block.loss, [e.loss for e in ref.events])
    np.testing.assert_array_equal(fast.block.year + 1, [e.year for e in ref.events])
    atol = 1e-9 * case.loss_scale
    np.testing.assert_allclose(
        fast.payouts, by_row(ref.payouts, n, len(ref.layers)), rtol=1e-9, atol=atol
    )
    np.testing.assert_allclose(fast.nets, by_row(ref.nets, n, len(ref.parties)), atol=atol)


@SETTINGS
@given(cases(grouped=True))
def test_grouped_rows_keep_the_balance_and_no_net_is_negative(case: Case) -> None:
    allocation = fast_allocation(case.scenario, case.years)
    loss = allocation.block.loss
    scale = np.maximum(loss, 1.0)
    assert np.all(np.abs(allocation.nets.sum(axis=0) - loss) <= 1e-9 * scale)
    assert np.all(allocation.nets >= -1e-9 * scale)
    assert np.all(allocation.payouts >= 0)


# --- sources with hits ------------------------------------------------------------------


@st.composite
def hit_scenarios(draw: st.DrawFn) -> Scenario:
    """A valid scenario with sampled sources, at least one of them with hits."""
    data = draw(scenario_data(priced=False))
    names = list(data["parties"])
    entries = []
    for i, (name, spec) in enumerate(data["sources"].items()):
        entry: dict[str, Any] = {"name": name, "frequency": draw(st.sampled_from(FREQUENCIES))}
        if i == 0 or draw(st.booleans()):
            entry["hits"] = [
                {
                    "bearer": draw(st.sampled_from(names)),
                    "probability": draw(st.sampled_from((1.0, 0.6, 0.25))),
                    "severity": draw(st.sampled_from(SEVERITIES)),
                    **({"cap": 150} if draw(st.booleans()) else {}),
                }
                for _ in range(draw(st.integers(1, 4)))
            ]
        else:
            entry["severity"] = draw(st.sampled_from(SEVERITIES))
            if "bearer" in spec:
                entry["bearer"] = spec["bearer"]
        entries.append(entry)
    data = {key: value for key, value in data.items() if key not in ("events_file", "sources")}
    data["events"] = entries
    if "residual" not in data:
        data["residual"] = names[0]
    try:
        scenario = Scenario.model_validate(data)
    except ValueError:
        assume(False)
        raise
    assume(not errors(scenario))
    return scenario


def drawn_events(scenario: Scenario, seed: int, years: int) -> list[reference.Event]:
    """The fast core's draws, with their parts, as the reference's events."""
    plan = compile_plan(scenario)
    block = events_of_block(plan, seed, 0, 0, years)
    assert block.parts is not None
    parts = block.parts.resolved(plan.bearer)
    starts = parts.starts(len(block))
    out = []
    for e, (y, s, loss) in enumerate(zip(block.year, block.source, block.loss, strict=True)):
        own = range(int(starts[e]), int(starts[e + 1]))
        out.append(
            reference.Event(
                int(y) + 1,
                plan.sources[s],
                float(loss),
                tuple(
                    (
                        plan.sources[int(parts.source[k])],
                        plan.parties[int(parts.bearer[k])],
                        float(parts.loss[k]),
                    )
                    for k in own
                ),
            )
        )
    return out


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hit_scenarios(), st.integers(0, 2**32 - 1), st.sampled_from((1, 7, 120)))
def test_hits_give_the_reference_figures(scenario: Scenario, seed: int, years: int) -> None:
    drawn = drawn_events(scenario, seed, years)
    for event in drawn:  # an occurrence's loss is the sum of its hits
        assert event.parts is not None
        assert math.isclose(event.loss, math.fsum(p[2] for p in event.parts), abs_tol=1e-9)
    fast = simulate(scenario, years=years, seed=seed).to_dict()
    ref = reference.run(scenario, years, drawn)
    scale = max([1.0, *(e.loss for e in drawn)])
    reference.assert_figures_match(fast, ref.figures, scale)
    assert fast["simulation"]["events"] == len(drawn)  # occurrences, not hits


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hit_scenarios(), st.integers(0, 2**32 - 1))
def test_hits_keep_the_balance_and_no_net_is_negative(scenario: Scenario, seed: int) -> None:
    from riskshare.engine.block import allocate_block

    plan = compile_plan(scenario)
    allocation, _ = allocate_block(plan, seed, 0, 0, 200, tolerance=1e-9)
    loss = allocation.block.loss
    scale = np.maximum(loss, 1.0)
    assert np.all(np.abs(allocation.nets.sum(axis=0) - loss) <= 1e-9 * scale)
    assert np.all(allocation.nets >= -1e-9 * scale)
    assert np.all(allocation.payouts >= 0)
