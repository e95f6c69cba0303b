"""The checks that scenarios can run on one set of events (runs/same_events.py), on the
models alone: what must match, what may differ, and the message naming the first
difference."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from riskshare.model.scenario import EventTable, Scenario
from riskshare.runs.same_events import ComparisonError, check_same_events, label, plans_of

SOURCE: dict[str, Any] = {
    "name": "e",
    "frequency": {"poisson": 1},
    "severity": {"lognormal": {"mean": "30M", "cv": 1}},
}
SAME = "scenarios are compared on the same simulated events, so their event sources must be"


def scenario(name: str = "a", **keys: Any) -> Scenario:
    data: dict[str, Any] = {
        "name": name,
        "parties": {"firm": {"kind": "enterprise"}, "lead": {"kind": "insurer"}},
        "events": [SOURCE],
        "layers": [{"name": "l", "party": "lead", "attachment": "1M"}],
        **keys,
    }
    return Scenario.model_validate(data)


def source(**changes: Any) -> list[dict[str, Any]]:
    return [{**SOURCE, **changes}]


TABLE = EventTable(year=np.array([1, 2]), loss=np.array([1e6, 2e6]), source=("s", "s"))


def from_table(name: str, table: EventTable, **keys: Any) -> Scenario:
    made = scenario(name, events=None, events_file="ylt.csv", **keys)
    return made.attach(file=f"{name}.yaml", event_table=table)


def test_nothing_to_compare() -> None:
    with pytest.raises(ComparisonError, match="nothing to compare: give at least one scenario"):
        check_same_events([])


def test_one_scenario_runs_on_its_own_settings() -> None:
    assert check_same_events([scenario(simulation={"years": 700, "seed": 3})]) == (700, 3)


@pytest.mark.parametrize(
    ("events", "difference"),
    [
        (
            source(severity={"lognormal": {"mean": "35M", "cv": 1}}),
            "events[0].severity.lognormal.mean differs: 30M in a, 35M in b",
        ),
        (
            source(severity={**SOURCE["severity"], "cap": "2B"}),
            "events[0].severity.cap differs: absent in a, 2B in b",
        ),
        (
            source(frequency={"bernoulli": 0.5}),
            "events[0].frequency.poisson differs: 1 in a, absent in b",
        ),
        (source(name="f"), "events[0].name differs: e in a, f in b"),
        ([SOURCE, SOURCE], "events differs: 1 entry in a, 2 entries in b"),
    ],
)
def test_the_first_difference_in_the_sources_is_named(
    events: list[dict[str, Any]], difference: str
) -> None:
    with pytest.raises(ComparisonError) as caught:
        check_same_events([scenario(), scenario("b", events=events)])
    assert str(caught.value) == f"{difference}; {SAME} the same"


def test_sources_that_read_alike_are_the_same() -> None:
    same = source(frequency={"poisson": 1.0}, severity={"lognormal": {"mean": 30e6, "cv": 1}})
    assert check_same_events([scenario(), scenario("b", events=same)]) == (100_000, 0)


def test_a_bearer_may_differ() -> None:
    assert check_same_events([scenario(), scenario("b", events=source(bearer="lead"))])


def test_events_against_an_events_file() -> None:
    with pytest.raises(ComparisonError, match=r"^events differs: 1 entry in a, absent in b;"):
        check_same_events([scenario(), scenario("b", events=None, events_file="ylt.csv")])


@pytest.mark.parametrize("key", ["years", "seed"])
def test_the_simulation_must_match_unless_overridden(key: str) -> None:
    scenarios = [scenario(), scenario("b", simulation={key: 10})]
    option = "--years N" if key == "years" else "--seed S"
    with pytest.raises(ComparisonError) as caught:
        check_same_events(scenarios)
    assert str(caught.value) == (
        f"simulation.{key} differs: {100_000 if key == 'years' else 0} in a, 10 in b; scenarios "
        f"are compared on the same simulated years: make them equal, or pass {option} "
        f"(years= or seed= in Python)"
    )
    years, seed = check_same_events(scenarios, **{key: 5})
    assert (years if key == "years" else seed) == 5


def test_the_same_events_file_is_the_same_events() -> None:
    assert check_same_events([from_table("a", TABLE), from_table("b", TABLE)]) == (100_000, 0)


@pytest.mark.parametrize(
    "other",
    [
        EventTable(year=TABLE.year, loss=np.array([1e6, 3e6]), source=TABLE.source),
        EventTable(year=np.array([1, 3]), loss=TABLE.loss, source=TABLE.source),
        EventTable(year=TABLE.year, loss=TABLE.loss, source=("s", "t")),
        EventTable(year=TABLE.year, loss=TABLE.loss, source=TABLE.source, time=np.zeros(2)),
    ],
)
def test_different_events_in_the_files(other: EventTable) -> None:
    with pytest.raises(ComparisonError) as caught:
        check_same_events([from_table("a", TABLE), from_table("b", other)])
    assert str(caught.value) == (
        "events_file differs: the 2 events of ylt.csv in a.yaml, the 2 different events of "
        f"ylt.csv in b.yaml; {SAME} the same"
    )


def test_plans_must_name_the_same_sources() -> None:
    scenarios = [from_table("a", TABLE), from_table("b", TABLE, sources={"x": {"bearer": "firm"}})]
    with pytest.raises(ComparisonError) as caught:
        plans_of(scenarios)
    assert (
        str(caught.value)
        == f"the event sources differ: s in a.yaml, s, x in b.yaml; {SAME} the same"
    )


def test_plans_of_the_same_events() -> None:
    plans = plans_of([scenario(), scenario("b", events=source(bearer="lead"))])
    assert [plan.sources for plan in plans] == [("e",), ("e",)]


def test_a_scenario_is_named_by_its_file_else_its_name() -> None:
    assert label(from_table("a", TABLE), 0) == "a.yaml"
    assert label(scenario("mine"), 4) == "mine"
