"""The command line: exit codes, streams, JSON layout and files never left half-written."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from render import run

EXAMPLE = "tests/golden/spec-example.yaml"
FIGURES = {
    "mean",
    "std",
    "stderr",
    "prob_positive",
    "var_99",
    "var_995",
    "tvar_99",
    "max",
    "return_periods",
}
PERIODS = ["10", "50", "100", "200", "500", "1000"]


def test_simulate_prints_every_table() -> None:
    result = run("simulate", EXAMPLE, "--years", "2000")
    assert result.exit_code == 0, result.stderr
    for title in (
        "Who absorbs what",
        "Layers",
        "Return periods",
        "Budgets",
        "Balance check passed",
    ):
        assert title in result.stdout
    assert "PICC" in result.stdout


def test_simulate_json_to_stdout_is_only_json() -> None:
    result = run("simulate", EXAMPLE, "--years", "2000", "--json", "-")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert list(data) == [
        "riskshare_version",
        "scenario",
        "simulation",
        "total",
        "parties",
        "layers",
        "balance",
    ]
    assert data["simulation"]["years"] == 2000
    assert data["simulation"]["seed"] == 20250302
    assert set(data["total"]) >= FIGURES
    assert list(data["total"]["return_periods"]) == PERIODS
    assert list(data["total"]["oep_return_periods"]) == PERIODS
    pool = data["parties"]["pool"]
    assert pool["kind"] == "consortium"
    assert set(pool["members"]) == {"PICC", "CPIC", "PingAn"}
    assert FIGURES | {"share_of_total"} <= set(pool["members"]["PICC"])
    assert {"prob_over_budget", "expected_over_budget"} <= set(data["parties"]["mof"])
    layer = data["layers"]["primary"]
    assert layer["party"] == "lead" and layer["from"] == "ground_up"
    assert {"prob_attach", "prob_exhaust", "share_of_total"} <= set(layer)
    assert data["layers"]["quota share"]["prob_exhaust"] is None
    assert data["balance"]["max_abs_error"] < 1e-3


def test_same_seed_gives_the_same_json_bytes(tmp_path: Path) -> None:
    outputs = []
    for name in ("a.json", "b.json"):
        path = tmp_path / name
        assert (
            run("simulate", EXAMPLE, "--years", "3000", "--json", str(path), "--quiet").exit_code
            == 0
        )
        text = path.read_text(encoding="utf-8")
        seconds = json.dumps(json.loads(text)["simulation"]["seconds"])
        outputs.append(text.replace(f'"seconds": {seconds}', '"seconds": 0', 1))
    assert outputs[0] == outputs[1]  # the bytes, but for the run's seconds


def test_years_and_seed_override_the_file() -> None:
    a = json.loads(run("simulate", EXAMPLE, "--years", "1000", "--seed", "1", "--json", "-").stdout)
    b = json.loads(run("simulate", EXAMPLE, "--years", "1000", "--seed", "2", "--json", "-").stdout)
    assert a["simulation"]["seed"] == 1 and b["simulation"]["seed"] == 2
    assert a["total"]["mean"] != b["total"]["mean"]


def test_quiet_prints_nothing(tmp_path: Path) -> None:
    result = run(
        "simulate", EXAMPLE, "--years", "500", "--quiet", "--json", str(tmp_path / "o.json")
    )
    assert result.exit_code == 0
    assert result.stdout == "" and result.stderr == ""
    assert (tmp_path / "o.json").exists()


def test_json_into_a_missing_directory_fails_cleanly(tmp_path: Path) -> None:
    target = tmp_path / "missing" / "out.json"
    result = run("simulate", EXAMPLE, "--years", "500", "--json", str(target))
    assert result.exit_code == 1
    assert "cannot write" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert not target.exists()


def test_no_temporary_file_is_left_behind(tmp_path: Path) -> None:
    target = tmp_path / "out.json"
    assert (
        run("simulate", EXAMPLE, "--years", "500", "--json", str(target), "--quiet").exit_code == 0
    )
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]


def test_invalid_scenario_exits_1_with_a_located_message(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        Path(EXAMPLE).read_text(encoding="utf-8").replace("share: 90%", "share: 120%"),
        encoding="utf-8",
    )
    result = run("simulate", str(bad))
    assert result.exit_code == 1
    assert f"{bad}:22:" in result.stderr
    assert "layers[0].share" in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_file_exits_1(tmp_path: Path) -> None:
    result = run("simulate", str(tmp_path / "nope.yaml"))
    assert result.exit_code == 1
    assert "nope.yaml" in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["simulate"],
        ["simulate", EXAMPLE, "--years", "0"],
        ["simulate", EXAMPLE, "--no-such-option"],
        ["explain", EXAMPLE],
        ["explain", EXAMPLE, "--loss", "lots"],
        ["validate", EXAMPLE, "--format", "xml"],
        ["frobnicate"],
    ],
)
def test_usage_errors_exit_2(args: list[str]) -> None:
    assert run(*args).exit_code == 2


def test_explain_json_layout() -> None:
    result = run("explain", EXAMPLE, "--loss", "800M", "--loss", "50M", "--json", "-")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert list(data) == ["scenario", "events", "total"]
    first = data["events"][0]
    assert first["loss"] == 800e6
    # 800M: primary pays 90% of 95M; the pool 400M; the backstop 80% of 300M.
    assert first["layers"]["primary"] == pytest.approx(85.5e6)
    assert first["layers"]["pool"] == pytest.approx(400e6)
    assert first["layers"]["backstop"] == pytest.approx(240e6)
    assert first["layers"]["quota share"] == pytest.approx(42.75e6)
    assert "pool/PICC" in first["parties"]
    assert first["parties"]["pool/PICC"] == pytest.approx(0.4 * first["parties"]["pool"])
    total = data["total"]
    assert total["loss"] == 850e6
    consortium_net = sum(v for k, v in total["parties"].items() if "/" not in k)
    assert consortium_net == pytest.approx(850e6)


def test_explain_names_a_source_and_rejects_unknown_ones() -> None:
    ok = run("explain", EXAMPLE, "--loss", "10M", "--source", "magnet quench", "--json", "-")
    assert ok.exit_code == 0, ok.stderr
    bad = run("explain", EXAMPLE, "--loss", "10M", "--source", "meteor")
    assert bad.exit_code == 1
    assert "unknown source `meteor`" in bad.stderr


def test_explain_tables_give_reasons() -> None:
    result = run("explain", EXAMPLE, "--loss", "3M", "--loss", "800M")
    assert result.exit_code == 0, result.stderr
    assert "below attachment" in result.stdout
    assert "limit reached" in result.stdout
    assert "Event 2" in result.stdout


def test_validate_valid_file_exits_0() -> None:
    result = run("validate", EXAMPLE)
    assert result.exit_code == 0
    assert result.stdout == ""
    assert "1 file checked, 0 invalid" in result.stderr


def test_validate_formats(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "name: x\nparties: {a: {kind: enterprise}}\nevents: []\nlayers:\n  - {name: l, party: b}\n",
        encoding="utf-8",
    )
    text = run("validate", EXAMPLE, str(bad))
    assert text.exit_code == 1
    lines = text.stdout.splitlines()
    assert lines and all(line.startswith(f"{bad}:") for line in lines)
    assert f"{bad}:5:" in text.stdout and "unknown party `b`" in text.stdout
    github = run("validate", str(bad), "--format", "github")
    assert github.stdout.startswith(f"::error file={bad},line=5,col=")
    as_json = run("validate", EXAMPLE, str(bad), "--format", "json")
    assert as_json.exit_code == 1
    report = json.loads(as_json.stdout)
    assert [entry["valid"] for entry in report] == [True, False]
    assert report[1]["problems"][0]["line"] == 5


def test_schema_is_json_schema_of_the_format() -> None:
    result = run("schema")
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    assert schema["type"] == "object"
    assert {"name", "parties", "layers"} <= set(schema["required"])
    assert "from" in json.dumps(schema["$defs"]["Layer"])


def test_version() -> None:
    result = run("--version")
    assert result.exit_code == 0
    assert result.stdout.startswith("riskshare ")


def test_python_dash_m_runs_the_same_command() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "riskshare", "--version"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0
    assert done.stdout.startswith("riskshare ")


def test_schema_accepts_every_shipped_scenario() -> None:
    import jsonschema
    import yaml

    schema = json.loads(run("schema").stdout)
    validator = jsonschema.Draft202012Validator(schema)
    validator.check_schema(schema)
    files = sorted(Path("scenarios").glob("*.yaml")) + sorted(Path("tests/golden").glob("*.yaml"))
    assert files
    for path in files:
        errors = [e.message for e in validator.iter_errors(yaml.safe_load(path.read_text("utf-8")))]
        assert errors == [], path


def test_years_beyond_an_events_file_are_warned_about() -> None:
    result = run("simulate", "scenarios/cat-model-ylt.yaml", "--years", "2000", "--quiet")
    assert result.exit_code == 0
    assert "warning: cat-model-ylt.csv covers 1,000 years" in result.stderr
    quiet = run("simulate", "scenarios/cat-model-ylt.yaml", "--years", "500", "--quiet")
    assert "warning" not in quiet.stderr


def test_json_file_gets_the_usual_permissions(tmp_path: Path) -> None:
    import os

    target = tmp_path / "out.json"
    assert (
        run("simulate", EXAMPLE, "--years", "200", "--quiet", "--json", str(target)).exit_code == 0
    )
    umask = os.umask(0)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask


def test_the_progress_bar_runs_no_thread_for_workers_to_fork_beside(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Forking while another thread runs may deadlock the child (and warns on 3.12+)."""
    import threading

    from riskshare import cli

    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    before = threading.active_count()
    with cli._progress_bar(cli.PROGRESS_MIN_YEARS) as progress:
        assert progress is not None
        progress(1, 2)
        assert threading.active_count() == before


# --- outputs: never over an input, another output or a device -----------------------


@pytest.fixture
def no_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if a command runs anything: it must refuse before that."""
    from riskshare import cli

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the run started")

    for name in ("simulate_scenario", "compare_scenarios", "sweep_scenario", "explain_losses"):
        monkeypatch.setattr(cli, name, refuse)


def _copy(source: str, target: Path) -> Path:
    target.write_bytes(Path(source).read_bytes())
    return target


@pytest.mark.parametrize(
    "command",
    [
        ["simulate", "{s}", "--json", "{out}"],
        ["simulate", "{s}", "--plot", "{out}"],
        ["explain", "{s}", "--loss", "1B", "--json", "{out}"],
        ["sweep", "{s}", "--set", "layers[0].share=50%,60%", "--csv", "{out}"],
        ["compare", "{other}", "{s}", "--json", "{out}"],
        ["report", "{s}", "-o", "{out}"],
    ],
    ids=lambda c: f"{c[0]}-{c[-2]}",
)
@pytest.mark.parametrize("name", ["same", "hard link", "symlink"])
def test_an_output_over_an_input_is_refused_before_the_run(
    tmp_path: Path, command: list[str], name: str, no_run: None
) -> None:
    scenario = _copy(EXAMPLE, tmp_path / "s.png")  # a name --plot accepts
    other = _copy(EXAMPLE, tmp_path / "other.yaml")
    out = scenario
    if name == "hard link":
        out = tmp_path / "hard.png"
        os.link(scenario, out)
    elif name == "symlink":
        out = tmp_path / "link.png"
        out.symlink_to(scenario)
    before = scenario.read_bytes()
    args = [a.format(s=scenario, other=other, out=out) for a in command]
    result = run(*args)
    assert result.exit_code == 1, result.stderr
    assert f"error: will not write {out}: " in result.stderr
    assert "an input of this run" in result.stderr
    assert scenario.read_bytes() == before
    assert out.exists()


def test_an_output_over_the_events_file_is_refused(tmp_path: Path, no_run: None) -> None:
    scenario = _copy("scenarios/cat-model-ylt.yaml", tmp_path / "ylt.yaml")
    events = _copy("scenarios/cat-model-ylt.csv", tmp_path / "cat-model-ylt.csv")
    before = events.read_bytes()
    result = run("simulate", str(scenario), "--json", str(events))
    assert result.exit_code == 1
    assert f"will not write {events}: it is an input of this run" in result.stderr
    assert events.read_bytes() == before


@pytest.mark.parametrize(
    ("command", "options"),
    [
        (["sweep", EXAMPLE, "--set", "layers[0].share=50%,60%"], ["--json", "--csv"]),
        (["simulate", EXAMPLE], ["--json", "--plot"]),
    ],
    ids=["sweep", "simulate"],
)
@pytest.mark.parametrize("spelling", ["same", "dotted", "symlink"])
def test_two_outputs_naming_one_file_are_a_usage_error(
    tmp_path: Path, command: list[str], options: list[str], spelling: str, no_run: None
) -> None:
    first = tmp_path / "out.png"
    second = {
        "same": first,
        "dotted": tmp_path / "." / "out.png",
        "symlink": tmp_path / "link.png",
    }[spelling]
    if spelling == "symlink":
        second.symlink_to(first)
    result = run(*command, options[0], str(first), options[1], str(second))
    assert result.exit_code == 2
    assert f"{options[0]} and {options[1]} name the same file" in result.stderr
    assert not first.exists()


def test_two_outputs_to_dev_null_are_allowed() -> None:
    result = run(
        "sweep", EXAMPLE, "--set", "layers[0].share=50%,60%", "--years", "200",
        "--json", "/dev/null", "--csv", "/dev/null",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_json_to_dev_null_leaves_the_device() -> None:
    result = run("simulate", EXAMPLE, "--years", "200", "--quiet", "--json", "/dev/null")
    assert result.exit_code == 0, result.stderr
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_json_to_a_copy_of_dev_null_leaves_the_device(tmp_path: Path) -> None:
    """As /dev/null, on a node of its own (which a wrong writer may replace safely)."""
    null = tmp_path / "null"
    device = os.stat("/dev/null").st_rdev
    try:
        os.mknod(null, stat.S_IFCHR | 0o666, device)
    except PermissionError:
        pytest.skip("cannot make a device node here")
    result = run("simulate", EXAMPLE, "--years", "200", "--quiet", "--json", str(null))
    assert result.exit_code == 0, result.stderr
    assert stat.S_ISCHR(null.stat().st_mode) and null.stat().st_rdev == device
    assert [p.name for p in tmp_path.iterdir()] == ["null"]


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full here")
def test_json_to_dev_full_is_a_clear_error() -> None:
    result = run("simulate", EXAMPLE, "--years", "200", "--quiet", "--json", "/dev/full")
    assert result.exit_code == 1
    assert result.stderr == "error: cannot write /dev/full: no space left on the device\n"
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)


def test_json_to_a_fifo_is_refused(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    result = run("simulate", EXAMPLE, "--years", "200", "--quiet", "--json", str(fifo))
    assert result.exit_code == 1
    assert f"error: cannot write {fifo}: it is a named pipe" in result.stderr
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


def test_json_to_a_folder_is_refused(tmp_path: Path) -> None:
    result = run("simulate", EXAMPLE, "--years", "200", "--quiet", "--json", str(tmp_path))
    assert result.exit_code == 1
    assert f"error: cannot write {tmp_path}: it is a folder" in result.stderr


def test_json_through_a_symlink_keeps_the_link_and_the_mode(tmp_path: Path) -> None:
    real = tmp_path / "real.json"
    real.write_text("{}", encoding="utf-8")
    real.chmod(0o600)
    link = tmp_path / "link.json"
    link.symlink_to(real)
    result = run("simulate", EXAMPLE, "--years", "200", "--quiet", "--json", str(link))
    assert result.exit_code == 0, result.stderr
    assert link.is_symlink()
    assert json.loads(real.read_text(encoding="utf-8"))["simulation"]["years"] == 200
    assert stat.S_IMODE(real.stat().st_mode) == 0o600


# --- standard output that cannot be written ------------------------------------------


def _riskshare(*args: str, **streams: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "riskshare", *args],
        stderr=subprocess.PIPE,
        text=True,
        check=False,
        timeout=120,
        **streams,
    )


#: Commands that print to standard output, each less than a buffer's worth.
EVERY_PRINTING_COMMAND = pytest.mark.parametrize(
    "args",
    [
        ["schema"],
        ["simulate", EXAMPLE, "--years", "200"],
        ["explain", EXAMPLE, "--loss", "1B", "--json", "-"],
        ["--version"],
    ],
    ids=["schema", "simulate", "explain", "version"],
)


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full here")
@EVERY_PRINTING_COMMAND
def test_stdout_on_a_full_disk_is_one_line_and_exit_1(args: list[str]) -> None:
    with open("/dev/full", "w") as full:
        done = _riskshare(*args, stdout=full)
    assert done.returncode == 1
    assert done.stderr == "error: cannot write to standard output: no space left on the device\n"


@EVERY_PRINTING_COMMAND
def test_stdout_to_a_closed_pipe_ends_quietly_with_exit_1(args: list[str]) -> None:
    reader, writer = os.pipe()
    os.close(reader)  # as `| head -1` does once it has its line
    try:
        done = _riskshare(*args, stdout=writer)
    finally:
        os.close(writer)
    assert done.returncode == 1
    assert done.stderr == ""


# --- inputs that cannot be read ------------------------------------------------------


@pytest.fixture
def open_folder() -> Iterator[Path]:
    """A folder anyone may pass through (pytest's own are only their owner's)."""
    folder = Path(tempfile.mkdtemp(prefix="riskshare-"))
    folder.chmod(0o711)
    yield folder
    shutil.rmtree(folder)


def _riskshare_as_nobody(*args: str) -> subprocess.CompletedProcess[str]:
    """``riskshare ARGS`` as the user nobody, for whom permissions still count."""
    return subprocess.run(
        [sys.executable, "-m", "riskshare", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        user=65534,
        group=65534,
        extra_groups=[],
    )


@pytest.mark.parametrize(
    "command",
    [
        ["simulate", "{}"],
        ["compare", EXAMPLE, "{}"],
        ["validate", "{}"],
        ["explain", "{}", "--loss", "1B"],
        ["report", "{}", "-o", "{}.html"],
    ],
    ids=lambda c: c[0],
)
@pytest.mark.parametrize("case", ["missing", "folder", "unreadable"])
def test_an_input_that_cannot_be_read_is_exit_1_naming_the_file(
    open_folder: Path, command: list[str], case: str
) -> None:
    names = {"missing": "nope.yaml", "folder": "dir", "unreadable": "locked.yaml"}
    path = open_folder / names[case]
    if case == "folder":
        path.mkdir()
    elif case == "unreadable":
        _copy(EXAMPLE, path).chmod(0)
    args = [a.format(path) for a in command]
    if case == "unreadable" and os.geteuid() == 0:  # root reads anything
        done = _riskshare_as_nobody(*args)
        code, output = done.returncode, done.stdout + done.stderr
    else:
        result = run(*args)
        code, output = result.exit_code, result.stdout + result.stderr
    assert code == 1, output
    lines = [line for line in output.splitlines() if line.startswith(f"{path}: error: ")]
    assert lines, output
    if case == "unreadable":
        assert lines[0].endswith("cannot be read: Permission denied")
