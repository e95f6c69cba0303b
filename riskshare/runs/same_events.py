"""Common random numbers: one set of simulated events for several scenarios.

Scenarios whose events are the same (the same sources, or the same events file, and
the same years and seed) can be run on one draw: each block of years is drawn, or read
from the events file, once, and allocated under every scenario's plan
(:func:`riskshare.runs.simulation.run_plans`). :mod:`riskshare.runs.compare` and
:mod:`riskshare.runs.sweep` are built on it. A block's events depend only on the seed and
the block's index, and each plan's share of a block is allocated and summarised as
``simulate`` does it, so each scenario's figures are exactly those ``simulate`` gives
it alone.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

import numpy as np

from riskshare.engine.plan import Plan, compile_plan
from riskshare.errors import RiskshareError
from riskshare.loading.load import load_scenario
from riskshare.model.amounts import format_amount
from riskshare.model.scenario import Scenario

ScenarioSource = Scenario | str | os.PathLike[str]


class ComparisonError(RiskshareError):
    """Scenarios that cannot be run on common events, and why."""


def load(source: ScenarioSource) -> Scenario:
    """A scenario as given, or read from its file."""
    return source if isinstance(source, Scenario) else load_scenario(source)


# --- the same events ------------------------------------------------------------------


def label(scenario: Scenario, index: int) -> str:
    """How messages and tables name a scenario: its file as given, else its name."""
    return scenario.file or scenario.name or f"scenario {index + 1}"


def check_same_events(
    scenarios: Sequence[Scenario], years: int | None = None, seed: int | None = None
) -> tuple[int, int]:
    """The years and seed of a run on common events; :class:`ComparisonError` if there is none.

    The scenarios must draw the same events: the same event sources (name, frequency
    and severity, in the same order; a source's ``bearer`` may differ, since it decides
    who bears an event, not which events happen), or the same events in their
    ``events_file``, and the same ``simulation`` (unless ``years`` and ``seed`` override it).
    """
    if not scenarios:
        raise ComparisonError("nothing to compare: give at least one scenario")
    first, name = scenarios[0], label(scenarios[0], 0)
    for index, other in enumerate(scenarios[1:], start=1):
        found = _first_difference(_events_view(first), _events_view(other), "")
        if found is None:
            found = _table_difference(first, other)
        if found is not None:
            path, a, b = found
            raise ComparisonError(
                f"{path} differs: {a} in {name}, {b} in {label(other, index)}; scenarios "
                f"are compared on the same simulated events, so their event sources must "
                f"be the same"
            )
    run_years = _same_setting(scenarios, "years", years)
    run_seed = _same_setting(scenarios, "seed", seed)
    return run_years, run_seed


def _events_view(scenario: Scenario) -> dict[str, object]:
    """What decides a scenario's events: its sources without their bearers, its file."""
    view: dict[str, object] = {}
    if scenario.events is not None:
        view["events"] = [
            source.model_dump(by_alias=True, exclude={"bearer"}, exclude_none=True)
            for source in scenario.events
        ]
    if scenario.events_file is not None:
        view["events_file"] = True
    return view


def _same_setting(scenarios: Sequence[Scenario], key: str, override: int | None) -> int:
    if override is not None:
        return override
    values = [getattr(s.simulation, key) for s in scenarios]
    for index, value in enumerate(values[1:], start=1):
        if value != values[0]:
            option = "--years N" if key == "years" else "--seed S"
            raise ComparisonError(
                f"simulation.{key} differs: {values[0]} in {label(scenarios[0], 0)}, {value} "
                f"in {label(scenarios[index], index)}; scenarios are compared on the same "
                f"simulated years: make them equal, or pass {option} (years= or seed= in Python)"
            )
    return int(values[0])


def _first_difference(a: object, b: object, path: str) -> tuple[str, str, str] | None:
    """The first key path where ``a`` and ``b`` differ, with each side's value in words."""
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        for key in [*a, *(k for k in b if k not in a)]:
            where = f"{path}.{key}" if path else str(key)
            if key not in a or key not in b:
                return where, _show(a.get(key)), _show(b.get(key))
            found = _first_difference(a[key], b[key], where)
            if found is not None:
                return found
        return None
    if isinstance(a, list) and isinstance(b, list):
        for index, (x, y) in enumerate(zip(a, b, strict=False)):
            found = _first_difference(x, y, f"{path}[{index}]")
            if found is not None:
                return found
        if len(a) != len(b):
            return path, _count(len(a)), _count(len(b))
        return None
    if a != b:
        return path, _show(a), _show(b)
    return None


def _table_difference(a: Scenario, b: Scenario) -> tuple[str, str, str] | None:
    table_a, table_b = a.event_table, b.event_table
    if table_a is None or table_b is None:
        return None
    times_a, times_b = table_a.time, table_b.time
    same_times = (
        times_a is None and times_b is None
        if times_a is None or times_b is None
        else np.array_equal(times_a, times_b)
    )
    same = (
        np.array_equal(table_a.year, table_b.year)
        and np.array_equal(table_a.loss, table_b.loss)
        and table_a.source == table_b.source
        and same_times
        and table_a.event == table_b.event  # format 1.2: the rows of each occurrence
    )
    if same:
        return None
    return (
        "events_file",
        f"the {len(table_a.loss)} events of {a.events_file}",
        f"the {len(table_b.loss)} different events of {b.events_file}",
    )


def _show(value: object) -> str:
    if value is None:
        return "absent"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (int, float)):
        return format_amount(float(value)) if abs(value) >= 1000 else f"{value:g}"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k}: {_show(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return _count(len(value))
    return str(value)


def _count(n: int) -> str:
    return f"{n} entr{'y' if n == 1 else 'ies'}"


# --- running several plans on one set of events ---------------------------------------


def plans_of(scenarios: Sequence[Scenario]) -> list[Plan]:
    """Each scenario's plan; the plans must name the same sources in the same order."""
    plans = [compile_plan(s) for s in scenarios]
    for index, plan in enumerate(plans[1:], start=1):
        if plan.sources != plans[0].sources:
            raise ComparisonError(
                f"the event sources differ: {', '.join(plans[0].sources) or 'none'} in "
                f"{label(scenarios[0], 0)}, {', '.join(plan.sources) or 'none'} in "
                f"{label(scenarios[index], index)}; scenarios are compared on the same "
                f"simulated events, so their event sources must be the same"
            )
    return plans
