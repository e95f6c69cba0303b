"""Every number finite: sizes refused before a run, draws and figures checked after it.

Each hostile number of issue 12, in the library and through the command line: a
message that says what to change and exit 1 (2 for a bad command-line value), never
a traceback, never a figure that is not a number.
"""

from __future__ import annotations

import copy
import json
import math
import resource
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from render import run

import riskshare
from riskshare.engine import memory
from riskshare.engine.plan import compile_plan
from riskshare.errors import RunError, ScenarioError
from riskshare.loading.load import load_scenario, validate_file
from riskshare.model import finite
from riskshare.model.amounts import MAX_AMOUNT, parse_amount, parse_share, show
from riskshare.model.scenario import Scenario
from riskshare.runs import simulation

EXAMPLE = "tests/golden/spec-example.yaml"

BASE: dict[str, Any] = {
    "name": "hostile",
    "simulation": {"years": 2000, "seed": 1},
    "parties": {
        "me": {"kind": "enterprise"},
        "ins": {"kind": "insurer"},
        "pool": {"kind": "consortium", "members": {"A": "60%", "B": "40%"}},
    },
    "events": [
        {
            "name": "fire",
            "frequency": {"poisson": 0.5},
            "severity": {"lognormal": {"mean": "10M", "cv": 1}},
        }
    ],
    "layers": [
        {
            "name": "primary",
            "party": "ins",
            "attachment": "1M",
            "limit": "9M",
            "premium": {"amount": "1M"},
        },
        {"name": "excess", "party": "pool", "attachment": "10M", "limit": "20M"},
    ],
}


def changed(path: tuple[str | int, ...], value: object) -> dict[str, Any]:
    """``BASE`` with the value at ``path`` replaced."""
    data = copy.deepcopy(BASE)
    place: Any = data
    for key in path[:-1]:
        place = place[key]
    place[path[-1]] = value
    return data


def written(tmp_path: Path, data: dict[str, Any], name: str = "hostile.yaml") -> str:
    """``data`` as a scenario file (JSON is YAML 1.2)."""
    path = tmp_path / name
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return str(path)


def refused(data: dict[str, Any]) -> list[str]:
    with pytest.raises(ScenarioError) as caught:
        load_scenario(data)
    return [str(p) for p in caught.value.errors]


def assert_clean_failure(result: Any, code: int, fragment: str) -> None:
    assert result.exit_code == code, (result.stdout, result.stderr)
    assert fragment in result.stderr + result.stdout  # validate lists problems on stdout
    assert "Traceback" not in result.stderr + result.stdout
    assert "not JSON compliant" not in result.stderr


EVENT = ("events", 0)
PREMIUM = ("layers", 0, "premium")

#: (where, the hostile value, a fragment of the message that refuses it)
HOSTILE: list[tuple[tuple[str | int, ...], object, str]] = [
    (("layers", 0, "limit"), 0, "layers[0].limit: must be above 0"),
    (PREMIUM, {"amount": 5e-324}, "a premium must be 0 or at least 0.01"),
    (PREMIUM, {"amount": 1e-300}, "a premium must be 0 or at least 0.01"),
    (PREMIUM, {"rate_on_line": 1e-300}, "rate_on_line × limit gives"),
    (PREMIUM, {"amount": 1e308}, "premium.amount: must be at most 1e15"),
    (PREMIUM, {"rate_on_line": 1e308}, "rate_on_line: must be at most 10,000%"),
    (PREMIUM, {"loading": 1e308}, "loading: must be at most 10,000%"),
    (PREMIUM, {"amount": "1B"}, "more than 100 times the layer's limit"),
    (("layers", 0, "attachment"), 1e308, "attachment: must be at most 1e15"),
    (("layers", 0, "limit"), 1e308, "limit: must be at most 1e15"),
    (("layers", 1, "aggregate_limit"), 1e308, "aggregate_limit: must be at most 1e15"),
    (("parties", "me", "budget"), 1e308, "budget: must be at most 1e15"),
    (("parties", "me", "budget"), 10**400, "budget: is too large to be an amount"),
    ((*EVENT, "severity"), {"fixed": 1e308}, "severity.fixed: must be at most 1e15"),
    ((*EVENT, "severity"), {"fixed": "1e21"}, "must be at most 1e15 (1000万亿)"),
    ((*EVENT, "severity"), {"fixed": "1M", "cap": 1e308}, "cap: must be at most 1e15"),
    ((*EVENT, "severity"), {"pareto": {"scale": 1e308, "alpha": 2}}, "must be at most 1e15"),
    ((*EVENT, "severity"), {"pareto": {"scale": "1M", "alpha": 1}}, "give the severity a `cap`"),
    ((*EVENT, "severity"), {"pareto": {"scale": "1M", "alpha": 0.5}}, "infinite mean loss"),
    ((*EVENT, "severity"), {"pareto": {"scale": "1B", "alpha": 1.0000001}}, "about 1e16"),
    ((*EVENT, "severity"), {"lognormal": {"mu": 710, "sigma": 1}}, "too large to compute"),
    ((*EVENT, "severity"), {"lognormal": {"mu": 1, "sigma": 1e200}}, "too large to compute"),
    ((*EVENT, "severity"), {"lognormal": {"mean": "1M", "cv": 1e308}}, "between 0.000001"),
    ((*EVENT, "severity"), {"lognormal": {"mean": "1M", "cv": 1e-300}}, "use `fixed`"),
    ((*EVENT, "severity"), {"gamma": {"mean": "1M", "cv": 1e308}}, "between 0.000001"),
    ((*EVENT, "severity"), {"gamma": {"mean": "1M", "cv": 1e-300}}, "use `fixed`"),
    ((*EVENT, "frequency"), {"poisson": 1e308}, "poisson: must be at most 1,000,000,000"),
    ((*EVENT, "frequency"), {"fixed": 10**12}, "fixed: must be at most 1,000,000,000"),
    ((*EVENT, "frequency"), {"binomial": {"n": 2**63 + 1, "p": 0.5}}, "n: must be at most"),
    ((*EVENT, "frequency"), {"binomial": {"n": "1e19", "p": 0.5}}, "n: must be at most"),
    (
        (*EVENT, "frequency"),
        {"negative_binomial": {"mean": 1e308, "mix_cv": 1}},
        "mean: must be at most 1,000,000,000",
    ),
    (
        (*EVENT, "frequency"),
        {"negative_binomial": {"mean": 1, "mix_cv": 1e308}},
        "mix_cv: must be between 0.000001 and 1,000",
    ),
    (
        (*EVENT, "frequency"),
        {"negative_binomial": {"mean": 1, "mix_cv": 1e-300}},
        "use `poisson`",
    ),
]
IDS = [f"{'.'.join(map(str, where[-2:]))}={value}"[:60] for where, value, _ in HOSTILE]


@pytest.mark.parametrize(("where", "value", "fragment"), HOSTILE, ids=IDS)
def test_a_hostile_number_is_refused_by_the_library(
    where: tuple[str | int, ...], value: object, fragment: str
) -> None:
    errors = refused(changed(where, value))
    assert any(fragment in error for error in errors), errors


@pytest.mark.parametrize(("where", "value", "fragment"), HOSTILE, ids=IDS)
def test_a_hostile_number_exits_1_on_the_command_line(
    tmp_path: Path, where: tuple[str | int, ...], value: object, fragment: str
) -> None:
    path = written(tmp_path, changed(where, value))
    checked = run("validate", path)
    assert_clean_failure(checked, 1, fragment)  # validate and simulate agree
    ran = run("simulate", path, "--json", "-")
    assert_clean_failure(ran, 1, fragment)
    assert ran.stdout == ""
    assert f"{path}:" in ran.stderr  # FILE:LINE:COLUMN


def test_every_number_in_range_still_runs() -> None:
    """The bounds themselves are valid values."""
    data = changed(("layers", 1, "limit"), MAX_AMOUNT)
    data["parties"]["me"]["budget"] = MAX_AMOUNT
    data["events"][0]["severity"] = {"pareto": {"scale": "1M", "alpha": 0.5}, "cap": "1e15"}
    data["events"][0]["frequency"] = {"negative_binomial": {"mean": 1, "mix_cv": 1000}}
    data["layers"][0]["premium"] = {"amount": 0.01}
    riskshare.simulate(load_scenario(data), years=500)


@pytest.mark.parametrize(
    "severity",
    [
        {"pareto": {"scale": "1M", "alpha": 1e-300}, "cap": "1B"},
        {"lognormal": {"mu": 710, "sigma": 1}, "cap": "1B"},
        {"lognormal": {"mu": 1, "sigma": 1e300}, "cap": "1B"},
    ],
)
def test_a_cap_makes_any_heavy_tail_finite(severity: dict[str, object]) -> None:
    result = riskshare.simulate(load_scenario(changed((*EVENT, "severity"), severity)), 500)
    assert result.total["max"] <= 1e9 * 10  # a few capped events a year at most


# --- a zero limit, a member with no share --------------------------------------------


def test_a_zero_limit_is_refused_at_its_line() -> None:
    (problem,) = validate_file(Path("tests/scenarios/invalid/limit-zero.yaml"))
    assert problem.severity == "error"
    assert problem.line == 10
    assert "write `unlimited`" in problem.message


ZERO_MEMBER = changed(("parties", "pool", "members"), {"A": "100%", "B": "0%"})


@pytest.mark.parametrize("premium", [None, {"amount": "300k"}])
def test_a_member_with_no_share_is_reported_as_zero(premium: dict[str, str] | None) -> None:
    data = copy.deepcopy(ZERO_MEMBER)
    if premium is not None:
        data["layers"][1]["premium"] = premium
    result = riskshare.simulate(load_scenario(data), years=5000)
    pool = result.parties["pool"]
    members: Any = pool["members"]
    assert pool["mean"] > 0
    assert set(_numbers(members["B"])) == {0.0}
    assert members["A"]["mean"] == pool["mean"]
    assert members["A"]["var_995"] == pool["var_995"]
    if premium is not None:
        assert members["B"]["cost"]["mean"] == 0
        assert members["A"]["cost"]["tvar_99"] == pool["cost"]["tvar_99"]  # type: ignore[index]


def test_validate_and_simulate_agree_on_a_member_with_no_share(tmp_path: Path) -> None:
    path = written(tmp_path, ZERO_MEMBER)
    assert run("validate", path).exit_code == 0
    result = run("simulate", path, "--json", "-")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["parties"]["pool"]["members"]["B"]["mean"] == 0
    shown = run("explain", path, "--loss", "25M", "--json", "-")
    assert shown.exit_code == 0, shown.stderr
    assert json.loads(shown.stdout)["total"]["parties"]["pool/B"] == 0


# --- -0.0 is 0 ------------------------------------------------------------------------


NEGATIVE_ZEROS: list[tuple[tuple[str | int, ...], object]] = [
    ((*EVENT, "frequency"), {"negative_binomial": {"mean": -0.0, "mix_cv": 1}}),
    ((*EVENT, "frequency"), {"poisson": -0.0}),
    ((*EVENT, "severity"), {"uniform": {"low": -0.0, "high": -0.0}}),
    ((*EVENT, "severity"), {"uniform": {"low": 0, "high": -0.0}}),
    ((*EVENT, "severity"), {"gamma": {"mean": "1M", "cv": 1}, "cap": -0.0}),
    (("layers", 0, "attachment"), -0.0),
    (("layers", 0, "share"), -0.0),
    (PREMIUM, {"rate_on_line": -0.0}),
]


@pytest.mark.parametrize(("where", "value"), NEGATIVE_ZEROS)
def test_negative_zero_is_read_as_zero(where: tuple[str | int, ...], value: object) -> None:
    scenario = load_scenario(changed(where, value))
    riskshare.simulate(scenario, years=500)
    signs = [math.copysign(1.0, x) for x in _numbers(scenario.model_dump())]
    assert -1.0 not in signs


@pytest.mark.parametrize(("where", "value"), [NEGATIVE_ZEROS[0], NEGATIVE_ZEROS[3]])
def test_negative_zero_runs_on_the_command_line(
    tmp_path: Path, where: tuple[str | int, ...], value: object
) -> None:
    result = run("simulate", written(tmp_path, changed(where, value)), "--json", "-")
    assert result.exit_code == 0, result.stderr


def _numbers(value: object) -> list[float]:
    if isinstance(value, dict):
        return [x for item in value.values() for x in _numbers(item)]
    if isinstance(value, list):
        return [x for item in value for x in _numbers(item)]
    return [value] if isinstance(value, float) else []


def test_parsing_turns_negative_zero_into_zero() -> None:
    for number in (parse_amount(-0.0), parse_share(-0.0), parse_amount(-0.0, bounded=False)):
        assert math.copysign(1.0, number) == 1.0


# --- the largest amount: 1e15 ---------------------------------------------------------


@pytest.mark.parametrize("value", [1e15, "1e15", "10000000亿", "1000000B", 10**15])
def test_the_largest_amount_is_taken(value: object) -> None:
    assert parse_amount(value) == MAX_AMOUNT


@pytest.mark.parametrize("value", [1.0000001e15, "2e15", "1e21", 1e308, "20000000亿", 10**16])
def test_an_amount_above_the_largest_is_refused(value: object) -> None:
    with pytest.raises(ValueError, match=r"must be at most 1e15 \(1000万亿\)"):
        parse_amount(value)


def test_a_number_beyond_any_float_is_refused_as_an_amount_or_a_share() -> None:
    with pytest.raises(ValueError, match="too large to be an amount"):
        parse_amount(10**400)
    with pytest.raises(ValueError, match="between 0 and 1"):
        parse_share(10**400)
    assert show(10**400) == "a number of about 401 digits"
    assert show(1e21) == "1e21"


def test_a_loss_at_the_bound_keeps_a_real_payout() -> None:
    """At 1e15 the rounding-residue rule zeroes at most 1,000: a 50M payout stays."""
    data = changed(("layers", 0, "limit"), "50M")
    data["layers"][0]["attachment"] = 0
    data["layers"][1]["attachment"] = "50M"
    result = riskshare.explain(load_scenario(data), [MAX_AMOUNT])
    assert result.events[0].parties["ins"] == 50e6
    assert result.events[0].parties["me"] == MAX_AMOUNT - 50e6 - 20e6


def test_explain_refuses_a_loss_above_the_bound() -> None:
    scenario = load_scenario(BASE)
    with pytest.raises(ScenarioError, match=r"at most 1e15"):
        riskshare.explain(scenario, [1e308, 1e308])


def test_explain_refuses_a_loss_above_the_bound_on_the_command_line() -> None:
    result = run("explain", EXAMPLE, "--loss", "1e308", "--loss", "1e308", "--json", "-")
    assert_clean_failure(result, 2, "must be at most 1e15")
    assert "--loss" in result.stderr


def test_an_events_file_loss_above_the_bound_is_refused_at_its_row() -> None:
    problems = validate_file(Path("tests/scenarios/invalid/events-file-loss-too-large.yaml"))
    assert [(Path(p.file or "").name, p.line) for p in problems] == [
        ("events-file-loss-too-large.csv", 3),
        ("events-file-loss-too-large.csv", 4),
    ]


HEAVY = changed((*EVENT, "severity"), {"lognormal": {"mean": "1000000亿", "cv": 50}})


def test_a_drawn_loss_above_the_bound_stops_the_run() -> None:
    scenario = load_scenario(HEAVY)
    with pytest.raises(RunError, match=r"source `fire` drew a loss of .*give its severity a `cap`"):
        riskshare.simulate(scenario, years=2000)


def test_a_drawn_loss_above_the_bound_stops_the_run_on_every_worker() -> None:
    scenario = load_scenario(HEAVY)
    with pytest.raises(RunError, match="source `fire` drew a loss"):
        riskshare.simulate(scenario, years=250_000, workers=2)


def test_a_drawn_loss_above_the_bound_exits_1(tmp_path: Path) -> None:
    result = run("simulate", written(tmp_path, HEAVY), "--json", "-")
    assert_clean_failure(result, 1, "source `fire` drew a loss of")
    assert result.stdout == ""
    capped = copy.deepcopy(HEAVY)
    capped["events"][0]["severity"]["cap"] = "1e15"
    assert run("simulate", written(tmp_path, capped), "--json", "-").exit_code == 0


def test_drawn_losses_that_are_not_numbers_stop_the_run() -> None:
    for losses in ([1.0, math.nan], [math.inf]):
        with pytest.raises(RunError, match="too large to compute"):
            finite.check_losses(np.array(losses), "fire")
    finite.check_losses(np.array([0.0, MAX_AMOUNT]), "fire")


# --- every figure finite before it is shown ------------------------------------------


def test_a_figure_that_is_not_finite_is_named() -> None:
    figures = {"layers": {"primary": {"loss_ratio": math.inf}}, "periods": [1.0, math.nan]}
    with pytest.raises(RunError, match=r"figure layers\.primary\.loss_ratio is inf"):
        finite.check_figures(figures, "the run")
    with pytest.raises(RunError, match=r"figure periods\[1\] is nan"):
        finite.check_figures({"periods": [1.0, math.nan]}, "the run")
    finite.check_figures({"seed": 10**30, "label": "x", "none": None, "ok": [1.0]}, "the run")


def unchecked(data: dict[str, Any]) -> Scenario:
    """A scenario that skipped the checks of :func:`load_scenario`."""
    return Scenario.model_validate(data).attach(file=None, event_table=None)


def test_a_run_with_a_figure_that_is_not_finite_fails() -> None:
    scenario = unchecked(changed(PREMIUM, {"amount": 5e-324}))
    with pytest.raises(RunError, match=r"layers\.primary\.loss_ratio is inf"):
        riskshare.simulate(scenario, years=500)


def test_a_figure_that_is_not_finite_exits_1_before_any_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(finite, "MIN_PREMIUM", 0.0)  # let the subnormal premium through
    path = written(tmp_path, changed(PREMIUM, {"amount": 5e-324}))
    for args in (["--json", "-"], []):
        result = run("simulate", path, *args)
        assert_clean_failure(result, 1, "loss_ratio is inf, not a finite number")
        assert result.stdout == ""


# --- the balance check fails on NaN ---------------------------------------------------


def _poisoned(nets: np.ndarray, loss: np.ndarray) -> None:
    nets[0, 0] = math.nan


def test_a_balance_that_is_nan_fails_in_a_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("riskshare.engine.block.clean_nets", _poisoned)
    with pytest.raises(RunError, match=r"balance check failed.*nan"):
        riskshare.simulate(load_scenario(BASE), years=500)


def test_a_balance_that_is_nan_fails_in_explain(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("riskshare.engine.series.clean_nets", _poisoned)
    with pytest.raises(RunError, match=r"balance check failed.*nan"):
        riskshare.explain(load_scenario(BASE), [5e6])


def test_a_balance_that_is_nan_exits_1(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("riskshare.engine.block.clean_nets", _poisoned)
    result = run("simulate", EXAMPLE, "--years", "500")
    assert_clean_failure(result, 1, "balance check failed")
    assert "Balance check passed" not in result.stdout


def test_the_worst_event_is_a_nan_before_any_number() -> None:
    assert finite.worst_event(np.array([0.5, math.nan, 2.0])) == 1
    assert finite.worst_event(np.array([0.5, 3.0, 2.0])) == 1
    assert finite.worst_event(np.array([0.5, 0.0, 2.0])) == 2


# --- memory: checked before anything the size of the run is built --------------------

HUGE_YEARS = 10_000_000_000_000


def _no_blocks(*_args: object) -> list[tuple[int, int]]:
    raise AssertionError("the blocks of a run that cannot fit were laid out")


def test_a_run_too_large_for_memory_fails_before_its_blocks_are_listed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(simulation, "block_spans", _no_blocks)
    with pytest.raises(RunError, match="run at most about"):
        riskshare.simulate(load_scenario(BASE), years=HUGE_YEARS)


def test_explain_checks_the_memory_of_its_pricing_run(monkeypatch: pytest.MonkeyPatch) -> None:
    data = changed(PREMIUM, {"loading": "20%"})
    data["simulation"]["years"] = HUGE_YEARS
    monkeypatch.setattr(simulation, "block_spans", _no_blocks)
    with pytest.raises(RunError, match="needs about"):
        riskshare.explain(load_scenario(data), [5e6])


@pytest.mark.parametrize("command", ["simulate", "report"])
def test_a_run_too_large_for_memory_exits_1(tmp_path: Path, command: str) -> None:
    args = [command, EXAMPLE, "--years", str(HUGE_YEARS)]
    if command == "report":
        args += ["-o", str(tmp_path / "report.html")]
    result = run(*args)
    assert_clean_failure(result, 1, "run at most about")
    assert not (tmp_path / "report.html").exists()


def test_compare_too_large_for_memory_exits_1() -> None:
    result = run("compare", EXAMPLE, EXAMPLE, "--years", str(HUGE_YEARS))
    assert_clean_failure(result, 1, "run at most about")


def test_the_estimate_of_an_unchecked_huge_frequency_does_not_overflow() -> None:
    scenario = unchecked(changed((*EVENT, "frequency"), {"poisson": 1e308}))
    found = memory.estimate(scenario, [compile_plan(scenario)], 100_000, 1)
    assert found.events_per_block == 2**62


def test_the_memory_available_is_at_most_what_the_process_limits_leave(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    limits = {resource.RLIMIT_AS: 3 * 10**9, resource.RLIMIT_DATA: 2 * 10**9}
    monkeypatch.setattr(
        resource, "getrlimit", lambda which: (limits.get(which, resource.RLIM_INFINITY),) * 2
    )
    have = memory.available()
    assert have is not None and have <= 2 * 10**9
    limits.clear()
    assert memory._process_limits() == []


def _limit_address_space() -> None:  # pragma: no cover - runs in the child
    resource.setrlimit(resource.RLIMIT_AS, (2 * 10**9, 2 * 10**9))


@pytest.mark.skipif(sys.platform != "linux", reason="ulimit -v as Linux has it")
def test_a_run_beyond_ulimit_v_fails_with_the_advice() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "riskshare", "simulate", EXAMPLE, "--years", "300000000", "--quiet"],
        capture_output=True,
        text=True,
        preexec_fn=_limit_address_space,
        timeout=120,
        check=False,
    )
    assert result.returncode == 1, result.stderr
    assert "is available: " in result.stderr
    assert "run at most about" in result.stderr
    assert "Traceback" not in result.stderr
