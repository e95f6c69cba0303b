"""The grid of a sweep, without running it: key paths, values, and each point's scenario."""

from __future__ import annotations

import pytest

from riskshare.model.scenario import Scenario
from riskshare.runs.grid import GridError, grid_points, parse_path, parse_set, show_value

BASE = {
    "name": "grid",
    "parties": {
        "firm": {"kind": "enterprise"},
        "lead": {"kind": "insurer"},
        "mof": {"kind": "government", "budget": "30M"},
    },
    "events": [
        {
            "name": "failure",
            "frequency": {"poisson": 0.5},
            "severity": {"lognormal": {"mean": "40M", "cv": 2}},
        }
    ],
    "layers": [
        {"name": "primary", "party": "lead", "attachment": "2M", "limit": "98M"},
        {"name": "backstop", "party": "mof", "attachment": "100M", "share": "80%"},
    ],
}


@pytest.fixture
def base() -> Scenario:
    return Scenario.model_validate(BASE)


# --- paths and values -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "path"),
    [
        ("layers[-1].share", ("layers", -1, "share")),
        ("layers[0][1]", ("layers", 0, 1)),
        (" layers [ 1 ] . share ", ("layers", 1, "share")),
        ("parties.mof.members.a", ("parties", "mof", "members", "a")),
    ],
)
def test_indices_names_and_spaces(text: str, path: tuple[str | int, ...]) -> None:
    assert parse_path(text) == path


@pytest.mark.parametrize(
    ("spec", "path", "values"),
    [
        ("a=x", "a", ["x"]),
        (" a.b = 1 , 2 ", "a.b", [1, 2]),
        ('a="x, [y", z', "a", ["x, [y", "z"]),
        ("a=[1, 2],[3]", "a", [[1, 2], [3]]),
        ("a={p: [1, 2]},{p: 3}", "a", [{"p": [1, 2]}, {"p": 3}]),
        ("a=true,null", "a", [True, None]),
    ],
)
def test_set_splits_values_at_top_level_commas(spec: str, path: str, values: list[object]) -> None:
    assert parse_set(spec) == (path, values)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("a", "is not PATH=V1,V2"),
        (" =1", "is not PATH=V1,V2"),
        ("a= , ", "gives no values after `=`"),
        ("a={p: 1", "in `a={p: 1`"),
    ],
)
def test_malformed_set(spec: str, message: str) -> None:
    with pytest.raises(GridError, match=message):
        parse_set(spec)


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (True, "true"),
        (None, "null"),
        (500e6, "500M"),
        (2.0, "2"),
        (0.8, "0.8"),
        ("80%", "80%"),
        ({"loading": "20%", "payer": "firm"}, "{loading: 20%, payer: firm}"),
        ([1.0, "x"], "[1, x]"),
        (float("inf"), "inf"),
    ],
)
def test_values_are_shown_as_written(value: object, shown: str) -> None:
    assert show_value(value) == shown


# --- points ---------------------------------------------------------------------------


def test_points_are_every_combination_first_path_slowest(base: Scenario) -> None:
    points = grid_points(
        base, {"layers.backstop.share": ["50%", "90%"], "parties.mof.budget": ["1M", "2M", "3M"]}
    )
    assert [tuple(p.values.values()) for p in points] == [
        (s, b) for s in ("50%", "90%") for b in ("1M", "2M", "3M")
    ]
    scenarios = [p.scenario for p in points]
    assert all(s is not None for s in scenarios)
    assert [(s.layer("backstop").share, s.parties["mof"].budget) for s in scenarios if s] == [
        (s, b) for s in (0.5, 0.9) for b in (1e6, 2e6, 3e6)
    ]
    assert base.layer("backstop").share == 0.8  # the base is left as it was


def test_a_point_sets_a_key_the_base_leaves_out(base: Scenario) -> None:
    (point,) = grid_points(base, {"layers.primary.premium": [{"amount": "1M"}]})
    assert point.scenario is not None
    premium = point.scenario.layer("primary").premium
    assert premium is not None and premium.amount == 1e6


def test_invalid_points_carry_their_errors_not_a_scenario(base: Scenario) -> None:
    good, bad = grid_points(base, {"layers[1].share": ["90%", "120%"]})
    assert good.scenario is not None and good.errors == ()
    assert bad.scenario is None
    assert [e.text for e in bad.errors] == ["layers[1].share: must be at most 100% (got 120%)"]


def test_only_warnings_the_base_does_not_have_are_the_points(base: Scenario) -> None:
    same, gap = grid_points(base, {"layers.backstop.attachment": ["100M", "150M"]})
    assert same.warnings == ()
    assert len(gap.warnings) == 1 and "a gap in the tower" in str(gap.warnings[0])


@pytest.mark.parametrize(
    ("grid", "message"),
    [
        ({}, "the grid is empty"),
        ({"layers.backstop.share": []}, "give a list of one or more values"),
        ({"layers.backstop.share": "80%"}, "give a list of one or more values"),
        ({"layers.0.share": [1]}, "no entry of layers is named `0`"),
        ({"parties[0].budget": [1]}, "parties is a mapping of keys, not a list"),
        ({"layers[-3].share": [1]}, "layers has 2 entries, numbered from 0; there is no \\[-3\\]"),
        ({"events.failure.severity.cap": ["1B"]}, "would change the simulated events"),
        ({"events[0].name": ["other"]}, "would change the simulated events"),
        ({"simulation": [{"years": 10}]}, "would change the simulated events"),
        ({"events_file": ["x.csv"]}, "would change the simulated events"),
        (
            {"layers[-1].share": ["90%"], "layers.backstop.share": ["80%"]},
            "sets layers\\[1\\].share, which another path sets too",
        ),
    ],
)
def test_grid_errors(base: Scenario, grid: dict[str, object], message: str) -> None:
    with pytest.raises(GridError, match=message):
        grid_points(base, grid)  # type: ignore[arg-type]


def test_a_sources_bearer_may_be_swept(base: Scenario) -> None:
    points = grid_points(base, {"events.failure.bearer": ["firm", "lead"]})
    bearers = [p.scenario.events[0].bearer for p in points if p.scenario and p.scenario.events]
    assert bearers == ["firm", "lead"]
