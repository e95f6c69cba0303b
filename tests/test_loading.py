"""Reading scenarios: YAML 1.2, positions, duplicate keys, events files, mappings."""

from __future__ import annotations

import math
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from riskshare.errors import Problem, ScenarioError
from riskshare.loading.load import load_scenario, load_scenario_with_warnings, validate_file
from riskshare.loading.yaml12 import read
from riskshare.model.scenario import Scenario

SPEC_EXAMPLE = Path(__file__).parent / "scenarios" / "valid" / "spec-example.yaml"

SMALL = """\
name: small
parties:
  me: {kind: enterprise}
  ins: {kind: insurer}
events:
  - {name: fire, frequency: {poisson: 0.1}, severity: {fixed: 10M}}
layers:
  - {name: primary, party: ins, attachment: 1M, limit: 9M}
"""


def write(tmp_path: Path, text: str, name: str = "scenario.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def places(problems: list[Problem]) -> list[tuple[int | None, int | None, str]]:
    return [(p.line, p.column, p.message) for p in problems]


# --- YAML 1.2 ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("scalar", "value"),
    [
        ("true", True),
        ("False", False),
        ("TRUE", True),
        ("NO", "NO"),
        ("no", "no"),
        ("yes", "yes"),
        ("on", "on"),
        ("Off", "Off"),
        ("y", "y"),
        ("~", None),
        ("null", None),
        ("", None),
        ("12", 12),
        ("012", 12),
        ("-7", -7),
        ("0o17", 15),
        ("0x1F", 31),
        ("1e9", 1e9),
        ("1.5", 1.5),
        ("1.", 1.0),
        (".5", 0.5),
        ("-2.5E-3", -0.0025),
        (".inf", math.inf),
        ("-.Inf", -math.inf),
        ("1_000_000", "1_000_000"),
        ("1:30", "1:30"),
        ("2025-03-02", "2025-03-02"),
        ("5M", "5M"),
        ("0b101", "0b101"),
    ],
)
def test_yaml_1_2_core_schema(scalar: str, value: object) -> None:
    assert read(f"key: {scalar}\n").data == {"key": value}


def test_yaml_nan() -> None:
    data = read("key: .NaN\n").data
    assert isinstance(data, dict) and math.isnan(data["key"])


def test_mapping_keys_stay_the_names_written() -> None:
    data = read("2024: a\ntrue: b\nNO: c\n~: d\n1.5: e\n").data
    assert data == {"2024": "a", "true": "b", "NO": "c", "~": "d", "1.5": "e"}


def test_member_named_no_stays_a_string(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        SMALL.replace(
            "  ins: {kind: insurer}\n",
            "  ins: {kind: consortium, members: {NO: 40%, on: 35%, 2024: 25%}}\n",
        ),
    )
    scenario = load_scenario(path)
    members = scenario.parties["ins"].members
    assert members == {"NO": 0.4, "on": 0.35, "2024": 0.25}


def test_1e9_is_an_amount(tmp_path: Path) -> None:
    path = write(tmp_path, SMALL.replace("limit: 9M", "limit: 1e9"))
    assert load_scenario(path).layers[0].limit == 1e9


def test_underscored_numbers_are_amounts(tmp_path: Path) -> None:
    path = write(tmp_path, SMALL.replace("limit: 9M", "limit: 1_000_000"))
    assert load_scenario(path).layers[0].limit == 1_000_000.0


def test_a_byte_order_mark_is_allowed(tmp_path: Path) -> None:
    path = tmp_path / "bom.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + SMALL.encode())
    assert validate_file(path) == []


def test_anchors_and_merge_keys_are_not_duplicates() -> None:
    document = read("base: &base {a: 1, b: 2}\nmore: {<<: *base, b: 3}\n")
    assert document.duplicates == ()
    assert document.data == {"base": {"a": 1, "b": 2}, "more": {"a": 1, "b": 3}}


# --- duplicate keys ---------------------------------------------------------------------


def test_every_duplicate_key_is_reported_at_its_second_occurrence(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        SMALL.replace("  ins: {kind: insurer}\n", "  ins: {kind: insurer, kind: insurer}\n")
        + "  - name: excess\n    party: ins\n    attachment: 10M\n    party: me\n",
    )
    problems = validate_file(path)
    assert [(p.loc, p.line, p.column, p.message) for p in problems] == [
        (("parties", "ins", "kind"), 4, 24, "duplicate key `kind` (first at line 4)"),
        (("layers", 1, "party"), 12, 5, "duplicate key `party` (first at line 10)"),
    ]
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert len(caught.value.errors) == 2


# --- positions --------------------------------------------------------------------------


def test_missing_keys_point_at_the_mapping_that_lacks_them(tmp_path: Path) -> None:
    text = "# a comment\n\n" + SMALL.replace("name: small\n", "").replace(
        "  - {name: primary, party: ins, attachment: 1M, limit: 9M}",
        "  - attachment: 1M\n    limit: 9M",
    )
    problems = validate_file(write(tmp_path, text))
    assert places(problems) == [
        (3, 1, "missing required key `name`"),
        (9, 5, "missing required key `name`"),
        (9, 5, "missing required key `party`"),
    ]
    assert [p.loc for p in problems] == [
        ("name",),
        ("layers", 0, "name"),
        ("layers", 0, "party"),
    ]


def test_a_key_path_points_at_its_key(tmp_path: Path) -> None:
    text = SMALL + "  - {name: quota, party: ins, from: primary, share: 120%}\n"
    [problem] = validate_file(write(tmp_path, text))
    assert problem.loc == ("layers", 1, "share")
    assert (problem.line, problem.column) == (9, 46)
    assert str(problem).endswith(
        "scenario.yaml:9:46: error: layers[1].share: must be at most 100% (got 120%)"
    )


def test_union_members_give_one_message(tmp_path: Path) -> None:
    text = SMALL.replace(
        "limit: 9M}", "limit: 9M, premium: {amount: 1M}, subsidy: {party: me, share: 2}}"
    )
    problems = validate_file(write(tmp_path, text))
    assert [(p.loc, p.message) for p in problems] == [
        (
            ("layers", 0, "subsidy", "share"),
            "must be between 0 and 1 (or 0% and 100%), got 2; write 2% for a percentage",
        )
    ]


def test_messages_are_plain_words(tmp_path: Path) -> None:
    text = SMALL.replace("poisson: 0.1", "poisson: -1").replace("kind: insurer", "kind: 5")
    messages = [p.message for p in validate_file(write(tmp_path, text))]
    assert messages == [
        "must be one of enterprise, insurer, consortium, reinsurer or government (got 5)",
        "must be at least 0 (got -1)",
    ]


# --- files that are not scenarios ---------------------------------------------------------


def test_validate_file_never_raises(tmp_path: Path) -> None:
    missing = tmp_path / "missing.yaml"
    assert [(str(p), p.line) for p in validate_file(missing)] == [
        (f"{missing}: error: no such file", None)
    ]
    [directory] = validate_file(tmp_path)
    assert directory.message == "is a directory, not a scenario file"
    (tmp_path / "latin1.yaml").write_bytes(b"name: caf\xe9\n")
    [latin1] = validate_file(tmp_path / "latin1.yaml")
    assert (latin1.line, latin1.column) == (1, 10)


def test_load_scenario_raises_with_every_problem(tmp_path: Path) -> None:
    text = SMALL.replace("limit: 9M}", "limit: 5M}") + (
        "  - {name: excess, party: nobody, attachment: 10M}\n"
        "  - {name: excess, party: ins, attachment: 20M}\n"
    )
    path = write(tmp_path, text)
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    problems = caught.value.problems
    assert [(p.severity, p.line, p.column, p.loc[-1]) for p in problems] == [
        ("error", 9, 20, "party"),
        ("warning", 9, 35, "attachment"),
        ("error", 10, 5, "share"),
        ("error", 10, 6, "name"),
    ]
    assert all(p.file == str(path) and p.column is not None for p in problems)
    assert str(caught.value).splitlines()[0].startswith(f"{path}:9:")


def test_warnings_of_a_valid_scenario(tmp_path: Path) -> None:
    text = (
        SMALL.replace("limit: 9M}", "limit: 5M}")
        + "  - {name: excess, party: me, attachment: 10M}\n"
    )
    scenario, warnings = load_scenario_with_warnings(write(tmp_path, text))
    assert scenario.file == str(tmp_path / "scenario.yaml")
    assert [(w.severity, w.line, w.column) for w in warnings] == [("warning", 9, 31)]
    assert load_scenario(tmp_path / "scenario.yaml").name == "small"


# --- events files -------------------------------------------------------------------------

EVENTS = """\
name: from a file
parties:
  me: {kind: enterprise}
  ins: {kind: insurer}
events_file: data/events.csv
layers:
  - {name: primary, party: ins, from: "ground_up:quake"}
"""


def events_scenario(tmp_path: Path, csv: str, yaml: str = EVENTS) -> Path:
    (tmp_path / "data").mkdir(exist_ok=True)
    (tmp_path / "data" / "events.csv").write_text(csv, encoding="utf-8")
    return write(tmp_path, yaml)


def test_events_file_is_read(tmp_path: Path) -> None:
    path = events_scenario(
        tmp_path, "year,source,loss,time\n1,quake,5M,0.5\n3,flood,1e9,0\n3,quake,2500000,0.25\n"
    )
    scenario = load_scenario(path)
    table = scenario.event_table
    assert table is not None
    assert table.year.tolist() == [1, 3, 3]
    assert table.loss.tolist() == [5e6, 1e9, 2.5e6]
    assert table.source == ("quake", "flood", "quake")
    assert table.time is not None and table.time.tolist() == [0.5, 0.0, 0.25]
    assert table.year.dtype == np.int64
    assert scenario.simulation.years == 3


def test_events_file_without_source_or_time(tmp_path: Path) -> None:
    yaml = EVENTS.replace('from: "ground_up:quake"', "limit: 9M")
    scenario = load_scenario(events_scenario(tmp_path, "year,loss\n2,5M\n\n1,800k\n", yaml))
    table = scenario.event_table
    assert table is not None
    assert table.source == ("", "")
    assert table.time is None
    assert table.loss.tolist() == [5e6, 8e5]


@pytest.mark.parametrize(
    ("simulation", "years"),
    [
        ("", 7),
        ("simulation: {years: 10}\n", 10),
        ("simulation: {years: 2}\n", 7),
        ("simulation: {seed: 3}\n", 7),
        ("simulation: {years: 7}\n", 7),
    ],
)
def test_years_of_an_events_file(tmp_path: Path, simulation: str, years: int) -> None:
    path = events_scenario(
        tmp_path, "year,loss,source\n7,5M,quake\n2,1M,quake\n", EVENTS + simulation
    )
    scenario = load_scenario(path)
    assert scenario.simulation.years == years
    assert scenario.event_table is not None and scenario.file == str(path)


def test_bad_rows_name_the_csv_and_its_line(tmp_path: Path) -> None:
    path = events_scenario(tmp_path, "year,loss,source\n1,5M,quake\n2,-5M,quake\n0,1M,quake\n")
    problems = validate_file(path)
    csv = str(tmp_path / "data" / "events.csv")
    assert [str(p) for p in problems] == [
        f"{csv}:3: error: loss: must not be negative (got -5M)",
        f"{csv}:4: error: year: must be 1 or more: years count from 1 (got 0)",
    ]


def test_a_missing_events_file_is_an_error_at_its_key(tmp_path: Path) -> None:
    [problem] = validate_file(write(tmp_path, EVENTS))
    assert (problem.loc, problem.line, problem.column) == (("events_file",), 5, 1)
    assert problem.message == (
        "no such file: data/events.csv (a path relative to the scenario file's folder)"
    )


def test_an_events_file_without_events(tmp_path: Path) -> None:
    [problem] = validate_file(events_scenario(tmp_path, "year,loss\n"))
    assert (problem.line, problem.message) == (5, "data/events.csv lists no events")


# --- mappings, for notebooks --------------------------------------------------------------


def small_mapping() -> dict[str, Any]:
    data = read(SMALL).data
    assert isinstance(data, dict)
    return data


def test_a_mapping_loads_like_a_file() -> None:
    scenario = load_scenario(small_mapping())
    assert isinstance(scenario, Scenario)
    assert scenario.file is None
    assert scenario.layers[0].attachment == 1e6


def test_a_bad_mapping_has_no_positions() -> None:
    data = small_mapping()
    data["layers"][0]["attachement"] = data["layers"][0].pop("attachment")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(data)
    [problem] = caught.value.problems
    assert (problem.file, problem.line, problem.column) == (None, None, None)
    assert str(problem) == (
        "<scenario>: error: layers[0].attachement: unknown key `attachement` "
        "(did you mean `attachment`?)"
    )


def test_a_mapping_reads_its_events_file_from_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    events_scenario(tmp_path, "year,loss,source\n4,5M,quake\n")
    monkeypatch.chdir(tmp_path)
    data = read(EVENTS).data
    assert isinstance(data, dict)
    scenario = load_scenario(data)
    assert scenario.simulation.years == 4


# --- the spec ---------------------------------------------------------------------------


def test_the_spec_example_loads_without_problems() -> None:
    assert validate_file(SPEC_EXAMPLE) == []
    scenario, warnings = load_scenario_with_warnings(SPEC_EXAMPLE)
    assert warnings == []
    assert scenario.simulation.years == 200_000
    assert scenario.parties["mof"].budget == 1e8
    assert scenario.parties["pool"].members == {"PICC": 0.4, "CPIC": 0.35, "PingAn": 0.25}
    assert [layer.from_ for layer in scenario.layers] == [
        "ground_up",
        "ground_up",
        "ground_up",
        "primary",
        "net:pool",
    ]
    assert scenario.layers[2].limit == math.inf
    assert scenario.layers[2].aggregate_limit == 1.5e9
