"""sweep: a grid of values over one scenario, on the same events, row by row."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from render import json_by_workers, run

import riskshare
from riskshare.engine.allocation import shared_layers
from riskshare.engine.plan import compile_plan
from riskshare.loading.load import load_variant
from riskshare.runs.sweep import GridError, parse_path, parse_set, sweep

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "scenarios" / "breakthrough-consortium.yaml"
YLT = ROOT / "scenarios" / "cat-model-ylt.yaml"
FIGURES = ("mean", "stderr", "prob_positive", "var_995", "tvar_99")

TOWER = """\
name: Government attachment
simulation: {years: 3000, seed: 21}
parties:
  firm: {kind: enterprise}
  plant: {kind: enterprise}
  lead: {kind: insurer}
  mof: {kind: government, budget: 30M}
residual: firm
events:
  - name: failure
    frequency: {poisson: 0.5}
    severity: {lognormal: {mean: 40M, cv: 2}}
layers:
  - {name: primary, party: lead, attachment: 2M, limit: 98M, premium: {loading: 25%}}
  - name: backstop
    party: mof
    attachment: 100M
    share: 80%
    premium: {amount: 1M}
    subsidy: {party: mof, share: 50%}
"""


@pytest.fixture
def scenario_file(tmp_path: Path) -> Path:
    path = tmp_path / "tower.yaml"
    path.write_text(TOWER, encoding="utf-8")
    return path


# --- paths and values -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "path"),
    [
        ("layers.backstop.attachment", ("layers", "backstop", "attachment")),
        ("layers[2].share", ("layers", 2, "share")),
        ("parties.mof.budget", ("parties", "mof", "budget")),
        ("layers.state backstop.share", ("layers", "state backstop", "share")),
        ("events[0].bearer", ("events", 0, "bearer")),
        ("residual", ("residual",)),
    ],
)
def test_paths(text: str, path: tuple[str | int, ...]) -> None:
    assert parse_path(text) == path


@pytest.mark.parametrize("text", ["", ".share", "layers..share", "layers[x].share", "[2].share"])
def test_malformed_paths(text: str) -> None:
    with pytest.raises(GridError, match="is not a key path"):
        parse_path(text)


@pytest.mark.parametrize(
    ("spec", "values"),
    [
        ("layers.x.attachment=500M,1B", ["500M", "1B"]),
        ("layers.x.share=80%, 90%", ["80%", "90%"]),
        ("layers.x.share=0.8,1", [0.8, 1]),
        ("layers.x.limit=1亿,unlimited", ["1亿", "unlimited"]),
        (
            "layers.x.premium={loading: 20%, payer: firm},{amount: 5M}",
            [
                {"loading": "20%", "payer": "firm"},
                {"amount": "5M"},
            ],
        ),
        ("residual=firm", ["firm"]),
        ("parties.firm.label='a, b',c", ["a, b", "c"]),
    ],
)
def test_values_read_as_in_a_scenario_file(spec: str, values: list[object]) -> None:
    assert parse_set(spec)[1] == values


@pytest.mark.parametrize("spec", ["layers.x.share", "=80%", "layers.x.share=", "a=[1,"])
def test_malformed_sets(spec: str) -> None:
    with pytest.raises(GridError):
        parse_set(spec)


# --- the rows equal separate runs -----------------------------------------------------


def test_sweep_rows_equal_separate_simulate_runs(scenario_file: Path) -> None:
    """Premiums priced by loading, a subsidy and a budget included."""
    grid: dict[str, list[object]] = {
        "layers.backstop.attachment": ["100M", "150M", "250M"],
        "layers[1].share": ["80%", 0.9],
    }
    result = sweep(scenario_file, grid)
    assert [tuple(p.values.values()) for p in result.points] == [
        (a, s) for a in grid["layers.backstop.attachment"] for s in grid["layers[1].share"]
    ]
    assert all(p.valid for p in result.points)
    for point in result.points:
        assert point.scenario is not None
        want = riskshare.simulate(point.scenario).to_dict()["parties"]
        assert isinstance(want, dict)
        for name, got in point.parties.items():
            for figure in FIGURES:
                assert got[figure] == want[name][figure], (point.name, name, figure)
                assert got["cost"][figure] == want[name]["cost"][figure]  # type: ignore[index]
        mof = point.parties["mof"]
        assert mof["prob_over_budget"] == want["mof"]["prob_over_budget"]
        assert mof["expected_over_budget"] == want["mof"]["expected_over_budget"]
    layer = result.points[2].scenario.layer("backstop")  # type: ignore[union-attr]
    assert (layer.attachment, layer.share) == (150e6, 0.8)


def test_sweep_over_several_blocks_equals_simulate() -> None:
    years = riskshare.engine.events.BLOCK_YEARS + 300
    result = sweep(DEMO, {"layers.state backstop.share": ["70%"]}, years=years, seed=8)
    point = result.points[0]
    assert point.scenario is not None
    want = riskshare.simulate(point.scenario, years, 8).to_dict()["parties"]
    for name, got in point.parties.items():
        for figure in FIGURES:
            assert got[figure] == want[name][figure]  # type: ignore[index]
    assert result.events == riskshare.simulate(point.scenario, years, 8).events


def test_sweep_of_an_events_file_reuses_its_table() -> None:
    scenario = riskshare.load_scenario(YLT)
    layer = scenario.layers[0].name
    result = sweep(scenario, {f"layers.{layer}.share": ["50%", "100%"]})
    for point in result.points:
        assert point.scenario is not None and point.scenario.event_table is scenario.event_table
        want = riskshare.simulate(point.scenario).to_dict()["parties"]
        for name, got in point.parties.items():
            assert got["mean"] == want[name]["mean"]  # type: ignore[index]


def test_a_swept_bearer_is_allowed(scenario_file: Path) -> None:
    result = sweep(scenario_file, {"events.failure.bearer": ["firm", "plant"]}, years=500)
    assert all(p.valid for p in result.points)
    assert result.points[0].parties["plant"]["mean"] == 0
    assert result.points[1].parties["firm"]["mean"] == 0
    assert result.points[1].parties["plant"]["mean"] == result.points[0].parties["firm"]["mean"]


# --- invalid points -------------------------------------------------------------------


def test_invalid_points_are_reported_and_the_others_run(scenario_file: Path) -> None:
    result = sweep(scenario_file, {"layers.backstop.share": ["80%", "120%", "90%"]}, years=500)
    assert [p.valid for p in result.points] == [True, False, True]
    bad = result.invalid[0]
    assert bad.messages() == [
        "point layers.backstop.share=120%: layers[1].share: must be at most 100% (got 120%)"
    ]
    assert bad.to_dict()["errors"] == ["layers[1].share: must be at most 100% (got 120%)"]


def test_a_point_that_opens_a_gap_warns(scenario_file: Path) -> None:
    result = sweep(scenario_file, {"layers.backstop.attachment": ["100M", "150M"]}, years=200)
    assert result.points[0].warnings == ()
    assert "a gap in the tower" in result.points[1].messages()[0]
    assert (
        result.points[1]
        .messages()[0]
        .startswith("point layers.backstop.attachment=150M: warning: layers[1].attachment:")
    )


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("events[0].frequency.poisson", "would change the simulated events"),
        ("simulation.years", "would change the simulated events"),
        ("events_file", "would change the simulated events"),
        ("layers.nosuch.attachment", "no entry of layers is named `nosuch`"),
        ("layers[5].share", "layers has 2 entries"),
        ("parties.nobody.budget", "parties has no key `nobody`"),
        ("layers.backstop.attachment.x", "is a single value"),
    ],
)
def test_grid_errors(scenario_file: Path, path: str, message: str) -> None:
    with pytest.raises(GridError, match=message):
        sweep(scenario_file, {path: [1]})


def test_the_same_key_twice_is_a_grid_error(scenario_file: Path) -> None:
    with pytest.raises(GridError, match="another path sets too"):
        sweep(scenario_file, {"layers.backstop.share": ["80%"], "layers[1].share": ["90%"]})


def test_a_variant_of_itself_loads_unchanged() -> None:
    scenario = riskshare.load_scenario(DEMO)
    same, _ = load_variant(scenario.model_dump(by_alias=True, exclude_unset=True), scenario)
    assert same == scenario


# --- the command ----------------------------------------------------------------------


def test_cli_sweep_prints_one_row_per_point(scenario_file: Path) -> None:
    result = run(
        "sweep",
        str(scenario_file),
        "--set",
        "layers.backstop.attachment=100M,200M",
        "--years",
        "500",
    )
    assert result.exit_code == 0, result.stderr
    assert (
        "Expected annual loss" in result.stdout and "P(annual outlay over budget)" in result.stdout
    )
    rows = [
        line.split() for line in result.stdout.splitlines() if line.split()[:1] in (["1"], ["2"])
    ]
    tables = 6  # the figures' tables, then the budget's
    assert [row[:2] for row in rows] == [["1", "100M"], ["2", "200M"]] * tables


def test_cli_sweep_writes_csv_and_json(scenario_file: Path, tmp_path: Path) -> None:
    target = tmp_path / "out" / "sweep.csv"
    target.parent.mkdir()
    result = run(
        "sweep",
        str(scenario_file),
        "--set",
        "layers.backstop.share=80%,90%",
        "--set",
        "parties.mof.budget=20M,40M",
        "--years",
        "400",
        "--csv",
        str(target),
        "--json",
        "-",
    )
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["paths"] == ["layers.backstop.share", "parties.mof.budget"]
    assert len(data["points"]) == 4
    rows = list(csv.reader(target.read_text(encoding="utf-8").splitlines()))
    assert rows[0][:4] == ["point", "layers.backstop.share", "parties.mof.budget", "valid"]
    assert [r[1:3] for r in rows[1:]] == [
        ["80%", "20M"],
        ["80%", "40M"],
        ["90%", "20M"],
        ["90%", "40M"],
    ]
    mean = rows[0].index("mof.mean")
    assert float(rows[2][mean]) == data["points"][1]["parties"]["mof"]["mean"]
    assert sorted(p.name for p in target.parent.iterdir()) == ["sweep.csv"]  # no temporary left


def test_cli_sweep_exits_1_after_reporting_invalid_points(scenario_file: Path) -> None:
    result = run(
        "sweep", str(scenario_file), "--set", "layers.backstop.share=80%,120%", "--years", "300"
    )
    assert result.exit_code == 1
    assert (
        "point layers.backstop.share=120%: layers[1].share: must be at most 100%" in result.stderr
    )
    assert "invalid" in result.stdout and "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["--set", "layers.backstop.share"],
        ["--set", "events[0].frequency.poisson=1,2"],
        ["--set", "layers.nosuch.share=1"],
        ["--set", "layers.backstop.share=1", "--set", "layers.backstop.share=2"],
        ["--set", "layers.backstop.share=1", "--json", "-", "--csv", "-"],
    ],
)
def test_cli_sweep_usage_errors(scenario_file: Path, args: list[str]) -> None:
    result = run("sweep", str(scenario_file), *args)
    assert result.exit_code == 2, result.stdout + result.stderr


def test_cli_sweep_json_does_not_depend_on_workers(scenario_file: Path, tmp_path: Path) -> None:
    one, two = json_by_workers(
        tmp_path / "sweep.json",
        "sweep", str(scenario_file), "--set", "layers.backstop.attachment=100M,300M",
        "--years", "200001",
    )  # fmt: skip
    assert one == two
    assert one["simulation"]["years"] == 200001


def test_a_point_recomputes_only_the_layers_its_values_reach() -> None:
    """Moving the state backstop changes what it pays and what the maker keeps: the
    maker's retention relief (from net:maker) is recomputed, every other layer copied."""
    result = sweep(DEMO, {"layers.state backstop.attachment": ["1B", "2B"]}, years=10)
    first, second = (compile_plan(p.scenario) for p in result.points if p.scenario)
    shared = shared_layers(second, first)
    recomputed = [t.name for t, same in zip(second.layers, shared, strict=True) if not same]
    assert recomputed == ["state backstop", "retention relief"]
    assert all(shared_layers(first, first))
