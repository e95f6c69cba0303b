"""Generated scenarios, some made hostile, through the command line: never a traceback.

Each example is a scenario of :mod:`strategies` (valid as drawn) with a few hostile
mutations (extreme but valid numbers, zero shares and limits, no layers, odd unicode
in labels and names, several problems at once), written as a YAML file and run
in-process as a user would: ``riskshare validate FILE`` and ``riskshare simulate FILE
--years 20 --json OUT``. Whatever the file holds, each command exits 0 or 1 and never
shows a traceback; a run that succeeds balances every event and writes no NaN.
"""

from __future__ import annotations

import copy
import json
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import Data, sampled_data
from typer.testing import CliRunner, Result

from riskshare.cli import app

YEARS = 20
#: Largest imbalance of an event the run accepts, relative to its loss (as the run's check).
BALANCE = 1e-9

#: Amounts far from the round numbers of the strategies, all valid.
EXTREME_AMOUNTS: tuple[object, ...] = (
    0,
    0.0,
    1e-6,
    1e-3,
    1,
    1e9,
    1e12,
    1e15,
    "5万",
    "1.2亿",
    "3B",
    "800k",
    "1_000_000",
    # Left out for now, each a known crash being fixed elsewhere (issue 12, numbers):
    # 1e300 and 1e308 (values that overflow to inf in the run), 5e-324 (a subnormal
    # premium), -0.0 (passes validation, refused by numpy).
)
#: Labels, names and descriptions a user may type: accents, right-to-left text, emoji
#: and their joiners, combining marks, full-width forms, zero-width characters.
ODD_TEXT: tuple[str, ...] = (
    "Ministère des Finances",
    "وزارة المالية",
    "שותפות\u200f",
    "🏭⚡️🔥",
    "👩\u200d🔬 lab",
    "e\u0301\u0302\u0303",
    "中央财政（首台套）",
    "ＡＢＣ１２３",
    "zero\u200bwidth\u2060joiner",
    "tab\tinside",
    "  spaces  ",
    "a" * 300,
    "'quoted' \"double\" `back` {brace} [bracket] #hash &amp; *star",
    # Left out for now, a known crash being fixed elsewhere (issue 12, parser and
    # outputs): a lone surrogate such as "L\ud800", which passes validate and
    # crashes every writer.
)


def _amount_paths(data: Data) -> list[tuple[Any, ...]]:
    """Where the scenario holds an amount a mutation may replace."""
    paths: list[tuple[Any, ...]] = []
    for i, layer in enumerate(data["layers"]):
        for key in ("attachment", "limit", "franchise", "aggregate_attachment", "aggregate_limit"):
            paths.append(("layers", i, key))
        premium = layer.get("premium", {})
        if "amount" in premium:
            paths.append(("layers", i, "premium", "amount"))
    for i, source in enumerate(data["events"]):
        severity = source["severity"]
        if "fixed" in severity:
            paths.append(("events", i, "severity", "fixed"))
        paths.append(("events", i, "severity", "cap"))
    for name in data["parties"]:
        paths.append(("parties", name, "budget"))
    return paths


def _get(data: Data, path: tuple[Any, ...]) -> object:
    target: Any = data
    for key in path:
        if key not in target:
            return None
        target = target[key]
    return target


def _set(data: Data, path: tuple[Any, ...], value: object) -> None:
    target: Any = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value


Mutation = Callable[[st.DrawFn, Data], None]


def _one_amount(draw: st.DrawFn, data: Data) -> None:
    path = draw(st.sampled_from(_amount_paths(data)))
    _set(data, path, draw(st.sampled_from(EXTREME_AMOUNTS)))


def _every_amount(draw: st.DrawFn, data: Data) -> None:
    """The whole scenario in another unit: every amount times one factor."""
    factor = draw(st.sampled_from((1e-6, 1e-3, 1e4, 1e8, 1e12)))
    for path in _amount_paths(data):
        value = _get(data, path)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            _set(data, path, value * factor)
    for source in data["events"]:
        for form in source["severity"].values():
            if isinstance(form, dict):
                for key, value in form.items():
                    if key in ("mean", "scale", "low", "high"):
                        form[key] = value * factor
                    elif key == "values":
                        form[key] = [v * factor for v in value]


def _zero_share(draw: st.DrawFn, data: Data) -> None:
    if data["layers"]:
        layer = draw(st.sampled_from(data["layers"]))
        layer["share"] = draw(st.sampled_from((0, "0%", 0.0, "100%", 1e-9, "0.001%")))


def _zero_limit(draw: st.DrawFn, data: Data) -> None:
    if data["layers"]:
        layer = draw(st.sampled_from(data["layers"]))
        layer[draw(st.sampled_from(("limit", "aggregate_limit")))] = 0
        layer.pop("reinstatements", None)
        layer.pop("reinstatement_premium", None)


def _zero_member(draw: st.DrawFn, data: Data) -> None:
    consortia = [p for p in data["parties"].values() if "members" in p]
    if consortia:  # a member with nothing, beside the others' 100%
        party = draw(st.sampled_from(consortia))
        party["members"] = {**party["members"], "Nobody": "0%"}


def _no_layers(draw: st.DrawFn, data: Data) -> None:
    data["layers"] = []


def _no_events(draw: st.DrawFn, data: Data) -> None:
    data["events"] = []


def _odd_labels(draw: st.DrawFn, data: Data) -> None:
    name = draw(st.sampled_from(sorted(data["parties"])))
    data["parties"][name]["label"] = draw(st.sampled_from(ODD_TEXT))
    if draw(st.booleans()):
        data["description"] = draw(st.sampled_from(ODD_TEXT))
    if draw(st.booleans()):
        data["name"] = draw(st.sampled_from(ODD_TEXT))
    if draw(st.booleans()):
        data["currency"] = draw(st.sampled_from(ODD_TEXT))


def _odd_layer_name(draw: st.DrawFn, data: Data) -> None:
    if data["layers"]:
        layer = draw(st.sampled_from(data["layers"]))
        old, new = layer["name"], draw(st.sampled_from(ODD_TEXT))
        layer["name"] = new
        for entry in data["layers"]:  # a layer of this layer follows the new name
            if entry.get("from") == old:
                entry["from"] = new


def _odd_source_name(draw: st.DrawFn, data: Data) -> None:
    if data["events"]:
        source = draw(st.sampled_from(data["events"]))
        old, new = source["name"], draw(st.sampled_from(ODD_TEXT))
        source["name"] = new
        for entry in data["layers"]:
            if entry.get("from") == f"ground_up:{old}":
                entry["from"] = f"ground_up:{new}"


def _odd_member_name(draw: st.DrawFn, data: Data) -> None:
    consortia = [p for p in data["parties"].values() if "members" in p]
    if consortia:
        party = draw(st.sampled_from(consortia))
        members = list(party["members"].items())
        members[0] = (draw(st.sampled_from(ODD_TEXT)), members[0][1])
        party["members"] = dict(members)


def _frequency(draw: st.DrawFn, data: Data) -> None:
    if data["events"]:
        source = draw(st.sampled_from(data["events"]))
        source["frequency"] = draw(
            st.sampled_from(
                (
                    {"poisson": 0},
                    {"fixed": 0},
                    {"bernoulli": 0},
                    {"bernoulli": 1},
                    {"poisson": 200},
                    {"fixed": 60},
                    {"binomial": {"n": 1000, "p": 0.05}},
                    {"negative_binomial": {"mean": 5, "mix_cv": 4}},
                )
            )
        )


def _reinstatements(draw: st.DrawFn, data: Data) -> None:
    if data["layers"]:
        layer = draw(st.sampled_from(data["layers"]))
        layer["reinstatements"] = draw(st.integers(0, 3))


def _premium(draw: st.DrawFn, data: Data) -> None:
    if data["layers"]:
        layer = draw(st.sampled_from(data["layers"]))
        layer["premium"] = draw(
            st.sampled_from(
                (
                    {"loading": -0.99},
                    {"loading": 10},
                    {"amount": 0},
                    {"amount": "1亿"},
                    {"rate_on_line": "100%"},
                    {"rate_on_line": 0},
                )
            )
        )


def _years(draw: st.DrawFn, data: Data) -> None:
    data["simulation"] = {"years": draw(st.integers(1, 3)), "seed": draw(st.integers(0, 9))}


MUTATIONS: tuple[Mutation, ...] = (
    _one_amount,
    _every_amount,
    _zero_share,
    _zero_limit,
    _zero_member,
    _no_layers,
    _no_events,
    _odd_labels,
    _odd_layer_name,
    _odd_source_name,
    _odd_member_name,
    _frequency,
    _reinstatements,
    _premium,
    _years,
)


@st.composite
def hostile_data(draw: st.DrawFn) -> Data:
    """A valid generated scenario with zero to four hostile mutations."""
    data = copy.deepcopy(draw(sampled_data()))
    for _ in range(draw(st.integers(0, 4))):
        draw(st.sampled_from(MUTATIONS))(draw, data)
    _avoid_known_crashes(data)
    return data


def _avoid_known_crashes(data: Data) -> None:
    """Leave out, for now, the cases of known crashes being fixed elsewhere (issue 12,
    numbers): each is a test of its own there; take it out of here once it is fixed."""
    layers = data["layers"]
    # `limit: 0` on any layer of a scenario with a premium: a division by zero in the
    # rate on line (ZeroDivisionError in simulation.assemble).
    if any(_is_zero(layer.get("limit")) for layer in layers):
        for layer in layers:
            for key in ("premium", "subsidy", "reinstatement_premium"):
                layer.pop(key, None)
    # a consortium member with a 0% share: validate accepts it, simulate crashes
    # ("a derived tail takes a positive scale", ValueError in metrics.derive_tail).
    for party in data["parties"].values():
        if "members" in party:
            party["members"] = {m: s for m, s in party["members"].items() if not _is_zero(s)}


def _is_zero(value: object) -> bool:
    return value is not None and str(value).strip("%") in ("0", "0.0")


def _invoke(*args: str) -> Result:
    return CliRunner().invoke(
        app, list(args), env={"COLUMNS": "100", "NO_COLOR": "1", "TERM": "dumb"}
    )


def _no_traceback(result: Result, command: str) -> None:
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        shown = "".join(traceback.format_exception(result.exception))
        raise AssertionError(f"`{command}` raised instead of reporting:\n{shown}")
    output = result.stdout + result.stderr
    assert "Traceback" not in output, f"`{command}` showed a traceback:\n{output}"
    assert result.exit_code in (0, 1), f"`{command}` exited {result.exit_code}:\n{output}"


def _refuse_constants(name: str) -> float:
    """Refuse NaN and Infinity, which Python writes into a JSON file and no JSON allows."""
    raise AssertionError(f"the JSON holds {name}")


@settings(
    max_examples=250,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(hostile_data())
def test_any_scenario_exits_0_or_1_without_a_traceback(tmp_path: Path, data: Data) -> None:
    scenario = tmp_path / "scenario.yaml"
    out = tmp_path / "out.json"
    out.unlink(missing_ok=True)
    scenario.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "utf-8")

    checked = _invoke("validate", str(scenario))
    _no_traceback(checked, "validate")
    ran = _invoke("simulate", str(scenario), "--years", str(YEARS), "--json", str(out))
    _no_traceback(ran, "simulate")
    if checked.exit_code == 0:  # a file validate accepts runs
        assert ran.exit_code == 0, ran.stdout + ran.stderr
    if ran.exit_code != 0:
        assert not out.exists(), "a failed run wrote its JSON"
        return
    result = json.loads(out.read_text(encoding="utf-8"), parse_constant=_refuse_constants)
    largest = max(1.0, float(result["total"]["max"]))
    assert result["balance"]["max_abs_error"] <= BALANCE * largest
