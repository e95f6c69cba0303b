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


# --- Monte Carlo against the closed forms of docs/common-shocks.md ------------------------

#: λ of each bearer's own source (fixed 10M losses) and μ of the field-wide shock.
OWN_RATE, SHOCK_RATE = 0.1, 0.05
#: Each hit of the shock: probability, E[Y], E[Y²] (a: fixed 10M; b: uniform 5M–15M at
#: 60%; c: fixed 10M capped at 8M).
HITS = {"a": (1.0, 10.0, 100.0), "b": (0.6, 10.0, 100.0 + 100.0 / 12), "c": (1.0, 8.0, 64.0)}


def shock_scenario(correlated: bool) -> Scenario:
    hits: list[dict[str, Any]] = [
        {"bearer": "a", "severity": {"fixed": 10}},
        {"bearer": "b", "probability": 0.6, "severity": {"uniform": {"low": 5, "high": 15}}},
        {"bearer": "c", "severity": {"fixed": 10}, "cap": 8},
    ]
    own = [
        {
            "name": f"own {p}",
            "bearer": p,
            "frequency": {"poisson": OWN_RATE},
            "severity": {"fixed": 10},
        }
        for p in "abc"
    ]
    if correlated:
        shock: list[dict[str, Any]] = [
            {"name": "shock", "frequency": {"poisson": SHOCK_RATE}, "hits": hits}
        ]
    else:  # the same hits, each its own source of rate μ q: independent of the others
        shock = [
            {
                "name": f"shock {h['bearer']}",
                "frequency": {"poisson": SHOCK_RATE * h.get("probability", 1.0)},
                "hits": [{k: v for k, v in h.items() if k != "probability"}],
            }
            for h in hits
        ]
    return Scenario.model_validate(
        {
            "name": "shock",
            "parties": {p: {"kind": "enterprise"} for p in "abc"},
            "residual": "a",
            "events": own + shock,
            "layers": [{"name": "nothing", "party": "a", "share": 0.0}],
        }
    )


def closed_form(correlated: bool) -> dict[str, tuple[float, float]]:
    """(mean, variance) of each bearer's and the total's annual loss."""
    out = {}
    for p, (q, m1, m2) in HITS.items():
        out[p] = (OWN_RATE * 10 + SHOCK_RATE * q * m1, OWN_RATE * 100 + SHOCK_RATE * q * m2)
    mean = sum(m for m, _ in out.values())
    variance = sum(v for _, v in out.values())
    if correlated:  # the covariances: μ q_i q_j E[Y_i] E[Y_j] for each ordered pair i ≠ j
        for i, (qi, mi, _) in HITS.items():
            for j, (qj, mj, _) in HITS.items():
                if i != j:
                    variance += SHOCK_RATE * qi * qj * mi * mj
    out["total"] = (mean, variance)
    return out


def test_a_common_shock_has_the_closed_form_mean_and_variance() -> None:
    years = 400_000
    for correlated in (True, False):
        scenario = shock_scenario(correlated)
        result: Any = simulate(scenario, years=years, seed=11).to_dict()
        expected = closed_form(correlated)
        for name, (mean, variance) in expected.items():
            figures = result["total"] if name == "total" else result["parties"][name]
            std = figures["std"]
            assert abs(figures["mean"] - mean) <= 4 * std / math.sqrt(years), (name, correlated)
            # the standard error of a variance: √((m4 − σ⁴)/n), m4 ≤ the largest year² σ²
            m4 = figures["max"] ** 2 * std**2
            error = math.sqrt(max(m4 - std**4, 0.0) / years)
            assert abs(std**2 - variance) <= 4 * error, (name, correlated, std**2, variance)
    # the correlation adds μ Σ_{i≠j} q_i q_j E[Y_i] E[Y_j] to the total's variance only
    assert closed_form(True)["total"][1] > closed_form(False)["total"][1]
    assert closed_form(True)["a"] == closed_form(False)["a"]


# --- explain ------------------------------------------------------------------------------


def test_explain_takes_one_loss_per_hit_and_shows_what_each_bearer_gave_up() -> None:
    from riskshare.errors import ScenarioError
    from riskshare.runs.explain import explain

    scenario = Scenario.model_validate(
        {
            "name": "explain",
            "parties": {
                "a": {"kind": "enterprise"},
                "b": {"kind": "enterprise"},
                "ins": {"kind": "insurer"},
            },
            "residual": "a",
            "events": [
                {
                    "name": "shock",
                    "frequency": {"poisson": 0.1},
                    "hits": [
                        {"bearer": "a", "severity": {"fixed": 1}},
                        {"bearer": "b", "severity": {"fixed": 1}},
                    ],
                }
            ],
            "layers": [
                {"name": "own a", "party": "ins", "from": "net:a", "attachment": 2},
                {"name": "cat", "party": "ins", "from": "net:ins", "attachment": 1, "limit": 4},
            ],
        }
    )
    result = explain(scenario, [10, 30, 4, 0], "shock").to_dict()
    first, second = result["events"]  # type: ignore[misc]
    assert first["loss"] == 40 and second["loss"] == 4
    assert first["parts"] == {"a": 10, "b": 30}
    assert first["parties"] == {"a": 2, "b": 30, "ins": 8}
    assert first["given_up"] == {"a": 8, "b": 0}
    assert second["parts"] == {"a": 4, "b": 0}
    try:
        explain(scenario, [10, 30, 4], "shock")
    except ScenarioError as error:
        assert "one --loss per hit" in str(error.problems[0].message)
    else:
        raise AssertionError("three losses for two hits must be refused")


# --- runs ---------------------------------------------------------------------------------


def test_hits_give_the_same_json_on_any_number_of_workers() -> None:
    scenario = shock_scenario(True)
    runs = []
    for workers in (1, 2):
        result: Any = simulate(scenario, years=250_000, seed=5, workers=workers).to_dict()
        result["simulation"].pop("seconds")
        runs.append(result)
    assert runs[0] == runs[1]
    # every shock strikes a and c: each occurrence of it struck more than one bearer
    shared = runs[0]["simulation"]["shared_events"]
    assert abs(shared - 250_000 * SHOCK_RATE) <= 4 * math.sqrt(250_000 * SHOCK_RATE)


def test_a_file_without_hits_reports_no_shared_events() -> None:
    scenario = shock_scenario(True)
    data = scenario.model_dump(by_alias=True, exclude_none=True, mode="json")
    data["events"] = data["events"][:3]
    result: Any = simulate(Scenario.model_validate(data), years=100, seed=5).to_dict()
    assert "shared_events" not in result["simulation"]


def test_compare_and_sweep_run_hits_on_common_random_numbers() -> None:
    from riskshare.runs.compare import compare
    from riskshare.runs.sweep import sweep

    base = shock_scenario(True).model_dump(by_alias=True, exclude_none=True, mode="json")
    base["parties"]["ins"] = {"kind": "insurer"}
    base["layers"] = [
        {"name": "cat", "party": "ins", "from": "ground_up:shock", "attachment": 15},
        {"name": "own a", "party": "ins", "from": "net:a", "attachment": 5},
    ]
    with_cat = Scenario.model_validate(base)
    assert not errors(with_cat)
    base["layers"] = base["layers"][1:]
    without = Scenario.model_validate(base)
    result = compare([with_cat, without], years=20_000, seed=3, workers=1)
    for scenario, figures in zip((with_cat, without), result.results, strict=True):
        alone: Any = simulate(scenario, years=20_000, seed=3, workers=1).to_dict()
        got: Any = figures.to_dict()
        alone["simulation"].pop("seconds")
        got["simulation"].pop("seconds")
        assert got == alone
    swept = sweep(with_cat, {"layers.cat.attachment": [10, 15]}, years=20_000, seed=3, workers=1)
    assert len(swept.points) == 2
    # the other structure's shock must be the same: other hits are other events
    changed = with_cat.model_dump(by_alias=True, exclude_none=True, mode="json")
    changed["events"][3]["hits"][1]["probability"] = 0.5
    try:
        compare([with_cat, Scenario.model_validate(changed)], years=100, seed=3)
    except Exception as error:  # the comparison error names the difference
        assert "hits" in str(error)
    else:
        raise AssertionError("two files with different hits must not be compared")


def test_hits_are_drawn_in_the_order_the_spec_gives() -> None:
    """Counts per year; for each hit as written, whether it happens (only below 100%),
    then its losses; then the events' times."""
    from riskshare.engine.events import block_rng, draw_block

    scenario = Scenario.model_validate(
        {
            "name": "order",
            "parties": {"a": {"kind": "enterprise"}, "b": {"kind": "enterprise"}},
            "residual": "a",
            "events": [
                {
                    "name": "shock",
                    "frequency": {"poisson": 1.5},
                    "hits": [
                        {"bearer": "a", "severity": {"uniform": {"low": 0, "high": 10}}},
                        {
                            "bearer": "b",
                            "probability": 0.4,
                            "severity": {"gamma": {"mean": 5, "cv": 1}},
                        },
                    ],
                }
            ],
            "layers": [{"name": "none", "party": "b", "share": 0.0}],
        }
    )
    plan = compile_plan(scenario)
    draws = draw_block(list(plan.samplers), 7, 0, 50)
    rng = block_rng(7, 0)
    counts = rng.poisson(1.5, 50)
    total = int(counts.sum())
    a = rng.uniform(0, 10, total)
    struck = rng.random(total) < 0.4
    b = rng.gamma(1.0, 5.0, int(struck.sum()))
    times = np.repeat(np.arange(50), counts) + rng.random(total)
    expected = a.copy()
    expected[struck] += b
    np.testing.assert_array_equal(draws.loss, expected)
    np.testing.assert_array_equal(draws.key, times)
    assert draws.parts is not None
    np.testing.assert_array_equal(draws.parts.loss[draws.parts.bearer == 1], b)
