"""Reading input never waits for ever, never reads without limit, never ends in a traceback.

The cases of a hostile-input round: a named pipe or a device given as the scenario or its
`events_file`, files larger than any real one, lists nested hundreds deep, lone surrogate
escapes, file names that are not UTF-8. Where a case could hang, the command runs in a
subprocess with a timeout: it guards against waiting for ever; it measures nothing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from render import run

from riskshare.errors import Problem
from riskshare.loading import yaml12
from riskshare.loading.input_files import EVENTS_LIMIT, SCENARIO_LIMIT
from riskshare.loading.load import load_scenario, parse_value, validate_file

HANG = 60  # seconds after which a command is taken to wait for ever
SCENARIO = """\
name: small
parties:
  me: {kind: enterprise}
  ins: {kind: insurer, label: LABEL}
events:
  - {name: fire, frequency: {poisson: 0.1}, severity: {fixed: 10M}}
layers:
  - {name: primary, party: ins, limit: 5M}
"""
EVENTS = """\
name: from a file
parties:
  me: {kind: enterprise}
  ins: {kind: insurer}
events_file: EVENTS
layers:
  - {name: primary, party: ins, limit: 5M}
"""
needs_posix = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")


def riskshare(
    *args: str, cwd: Path, stdin: str | None = None, strict: bool = True
) -> subprocess.CompletedProcess[str]:
    """``python -m riskshare ARGS``; with ``strict``, its streams refuse what UTF-8 cannot
    encode, as a UTF-8 terminal's do."""
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"} if strict else None
    return subprocess.run(
        [sys.executable, "-m", "riskshare", *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="backslashreplace",
        timeout=HANG,
        cwd=cwd,
        input=stdin,
        env=env,
        check=False,
    )


def refused(done: subprocess.CompletedProcess[str], fragment: str) -> None:
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    assert fragment in output
    assert "Traceback" not in output


# --- what is not a regular file ---------------------------------------------------------


@needs_posix
@pytest.mark.parametrize("command", ["validate", "simulate"])
def test_a_named_pipe_as_the_scenario_is_refused_without_waiting(
    tmp_path: Path, command: str
) -> None:
    os.mkfifo(tmp_path / "scenario.yaml")  # nobody ever writes to it
    done = riskshare(command, "scenario.yaml", cwd=tmp_path)
    refused(done, "scenario.yaml: error: is a named pipe (FIFO), not a scenario file")


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero")
@pytest.mark.parametrize("command", ["validate", "simulate"])
def test_an_endless_device_as_the_scenario_is_refused(tmp_path: Path, command: str) -> None:
    done = riskshare(command, "/dev/zero", cwd=tmp_path)
    refused(done, "/dev/zero: error: is a device, not a scenario file")


@needs_posix
@pytest.mark.parametrize(
    ("events_file", "what"),
    [
        ("events.csv", "is a named pipe (FIFO)"),
        ("/dev/zero", "is a device"),
        ("folder", "is a directory"),
    ],
)
def test_an_events_file_that_is_not_a_file_is_refused(
    tmp_path: Path, events_file: str, what: str
) -> None:
    os.mkfifo(tmp_path / "events.csv")
    (tmp_path / "folder").mkdir()
    (tmp_path / "scenario.yaml").write_text(EVENTS.replace("EVENTS", events_file), "utf-8")
    done = riskshare("simulate", "scenario.yaml", "--years", "10", cwd=tmp_path)
    refused(done, f"scenario.yaml:5:1: error: events_file: {events_file} {what}, not an events")


@needs_posix
def test_a_scenario_piped_to_standard_input_is_still_read(tmp_path: Path) -> None:
    """``… | riskshare validate /dev/stdin`` worked before pipes were refused: the
    program's own standard input is the one pipe read."""
    done = riskshare("validate", "/dev/stdin", cwd=tmp_path, stdin=SCENARIO)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 file checked, 0 invalid" in done.stderr


@pytest.mark.parametrize(
    "command",
    [
        ["validate", "S"],
        ["simulate", "S"],
        ["explain", "S", "--loss", "1M"],
        ["compare", "S", "S"],
    ],
    ids=lambda command: command[0],
)
def test_an_unreadable_scenario_is_not_a_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: list[str]
) -> None:
    """As a missing file or a directory: exit 1 with the reader's reason, not exit 2.

    The file is readable (tests may run as root, who reads anything); the command
    line is told otherwise, as it would be of a file without read permission.
    """
    path = tmp_path / "scenario.yaml"
    path.write_text("name: [", "utf-8")
    monkeypatch.setattr(os, "access", lambda *args, **kwargs: False)
    result = run(*(str(path) if word == "S" else word for word in command))
    assert result.exit_code == 1
    assert "not readable" not in result.stdout + result.stderr


def test_a_scenario_is_not_read_from_a_dash(tmp_path: Path) -> None:
    result = run("validate", str(tmp_path / "-"))
    assert result.exit_code == 1
    assert "no such file" in result.stdout


# --- sizes ------------------------------------------------------------------------------


def test_a_scenario_file_larger_than_the_bound_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_text(SCENARIO + "#" * SCENARIO_LIMIT + "\n", "utf-8")
    [problem] = validate_file(path)
    size = f"{path.stat().st_size:,} bytes"
    assert problem.message == (
        f"is {size}, more than the 1 MiB a scenario file may hold; a scenario with many "
        "events gives them in an `events_file` (CSV)"
    )


def test_a_scenario_file_at_the_bound_is_read(tmp_path: Path) -> None:
    path = tmp_path / "full.yaml"
    text = SCENARIO.replace("LABEL", "lead") + "#"
    path.write_text(text + "-" * (SCENARIO_LIMIT - len(text.encode()) - 1) + "\n", "utf-8")
    assert path.stat().st_size == SCENARIO_LIMIT
    assert validate_file(path) == []


def test_an_events_file_larger_than_the_bound_is_refused_without_reading_it(
    tmp_path: Path,
) -> None:
    events = tmp_path / "events.csv"
    with events.open("wb") as handle:  # sparse: no disk is used
        handle.truncate(EVENTS_LIMIT + 1)
    (tmp_path / "scenario.yaml").write_text(EVENTS.replace("EVENTS", "events.csv"), "utf-8")
    [problem] = validate_file(tmp_path / "scenario.yaml")
    assert problem.text == (
        "events_file: events.csv is 2,147,483,649 bytes, more than the 2 GiB an events file "
        "may hold; keep fewer years or rows"
    )


# --- nesting ----------------------------------------------------------------------------


@pytest.mark.parametrize("depth", [65, 500, 100_000])
def test_nesting_beyond_64_levels_is_refused_at_its_place(tmp_path: Path, depth: int) -> None:
    path = tmp_path / "deep.yaml"
    path.write_text("name: " + "[" * depth + "]" * depth + "\n", "utf-8")
    result = run("validate", str(path))
    assert result.exit_code == 1
    # the root mapping is the first level: the 64th bracket opens the 65th
    assert result.stdout.startswith(
        f"{path}:1:{len('name: ') + 64}: error: lists and mappings nested deeper than 64 levels"
    )


def test_nesting_of_64_levels_is_read() -> None:
    data = yaml12.read("name: " + "[" * 63 + "]" * 63).data
    assert isinstance(data, dict)


def test_block_nesting_is_refused_as_flow_nesting_is() -> None:
    lines = [f"{'  ' * level}k{level}:" for level in range(200)]
    with pytest.raises(yaml12.UnreadableError) as caught:
        yaml12.read("\n".join([*lines, "  " * 200 + "end"]))
    assert (caught.value.line, caught.value.column) == (65, 129)


def test_a_chain_of_aliases_counts_as_the_values_it_names() -> None:
    """Each anchor wraps the one before: 100 lines deep in data, one level in the file."""
    lines = ["a0: &a0 [x]", *(f"a{i}: &a{i} [*a{i - 1}]" for i in range(1, 100))]
    with pytest.raises(yaml12.UnreadableError) as caught:
        yaml12.read("\n".join(lines))
    assert caught.value.message.startswith("lists and mappings nested deeper than 64 levels")
    assert caught.value.line == 64  # a63 names a list 63 deep, inside the root: 65 levels


def test_an_alias_inside_its_own_value_is_refused() -> None:
    with pytest.raises(yaml12.UnreadableError, match="would hold itself without end"):
        yaml12.read("a: &a {b: *a}")


def test_a_value_from_the_command_line_is_held_to_the_same_depth() -> None:
    with pytest.raises(ValueError, match="nested deeper than 64 levels"):
        parse_value("[" * 500 + "]" * 500)


def test_billion_laughs_stays_small() -> None:
    """Aliases share their value; nine levels of ten are read as nine small lists."""
    lines = ['a: &a ["lol"]', *(f"{n}: &{n} [{', '.join(['*' + p] * 10)}]" for p, n in
             zip("abcdefgh", "bcdefghi", strict=True))]  # fmt: skip
    data = yaml12.read("\n".join(lines)).data
    assert isinstance(data, dict) and len(data) == 9


# --- lone surrogates --------------------------------------------------------------------


def test_a_lone_surrogate_is_refused_and_every_output_can_show_it(tmp_path: Path) -> None:
    path = tmp_path / "scenario.yaml"
    path.write_text(SCENARIO.replace("LABEL", '"Lead\\ud800"'), "utf-8")
    place = "4:31: error: parties.ins.label: holds \\ud800, which is not a character"
    for command in (["simulate"], ["explain", "--loss", "1M"]):
        result = run(*command, str(path))
        assert result.exit_code == 1
        assert result.stderr.startswith(f"{path}:{place}")
    refused(riskshare("validate", "scenario.yaml", cwd=tmp_path), f"scenario.yaml:{place}")
    github = riskshare("validate", "--format", "github", "scenario.yaml", cwd=tmp_path)
    refused(github, "::error file=scenario.yaml,line=4,col=31::parties.ins.label: holds \\ud800")
    as_json = riskshare("validate", "--format", "json", "scenario.yaml", cwd=tmp_path)
    assert as_json.returncode == 1
    [report] = json.loads(as_json.stdout)
    assert report["problems"][0]["message"].startswith("holds \\ud800, which is not")


@pytest.mark.parametrize(
    "written",
    ['name: "L\\udc80"', 'name: small\ndescription: "\\ud800\\ud800"', '"k\\ud800": 1'],
)
def test_lone_surrogates_anywhere_are_problems_of_their_text(written: str) -> None:
    document = yaml12.read(written)
    assert [p.message.split(",")[0] for p in document.surrogates] in (
        ["holds \\udc80"],
        ["holds \\ud800"],
    )
    assert "\\u" in json.dumps(document.data)  # escaped in the data: safe to quote


def test_a_surrogate_pair_is_the_character_it_writes() -> None:
    """JSON writes 😀 as the pair \\ud83d\\ude00; read so, it is the character."""
    document = yaml12.read('label: "smile \\ud83d\\ude00"')
    assert document.data == {"label": "smile 😀"}
    assert document.surrogates == ()


def test_a_value_from_the_command_line_with_a_lone_surrogate_is_refused() -> None:
    with pytest.raises(ValueError, match=r"holds \\ud800"):
        parse_value('"x\\ud800"')


def test_a_problem_quoting_a_lone_surrogate_prints() -> None:
    """A scenario given as a mapping from Python is not read through YAML."""
    problem = Problem(("parties", "x\ud800"), "unknown `\udcff`", file="f\udcff.yaml", line=1)
    assert str(problem) == "f\\udcff.yaml:1: error: parties.x\\ud800: unknown `\\udcff`"
    json.dumps(problem.to_dict()).encode("utf-8")


def test_a_mapping_with_a_lone_surrogate_fails_with_a_printable_message() -> None:
    scenario = {
        "name": "n",
        "parties": {"me": {"kind": "enterprise"}, "i\ud800": {"kind": "insurer"}},
        "events": [{"name": "f", "frequency": {"fixed": 1}, "severity": {"fixed": 1}}],
        "layers": [{"name": "l", "party": "ins"}],
    }
    with pytest.raises(Exception) as caught:
        load_scenario(scenario)
    str(caught.value).encode("utf-8")


@pytest.mark.skipif(sys.platform != "linux", reason="file names of any bytes: Linux")
def test_a_file_name_that_is_not_utf8_is_shown_escaped(tmp_path: Path) -> None:
    name = os.fsdecode(b"bad\xff.yaml")  # Python holds the byte 0xff as a lone surrogate
    (tmp_path / name).write_text("name: [", "utf-8")
    for form in ("text", "github"):
        refused(riskshare("validate", "--format", form, name, cwd=tmp_path), "bad\\udcff.yaml")
    as_json = riskshare("validate", "--format", "json", name, cwd=tmp_path)
    assert as_json.returncode == 1
    [report] = json.loads(as_json.stdout)
    assert report["file"] == report["problems"][0]["file"] == "bad\\udcff.yaml"


# --- digits grouped by commas -----------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "data"),
    [
        ("{limit: 200,000,000}", {"limit": "200,000,000"}),
        ("{limit: 5,000万, share: 1}", {"limit": "5,000万", "share": 1}),
        ("{limit: 200, 000: x}", {"limit": 200, "000": "x"}),  # a key with a value
        ("{limit: 200, 000}", {"limit": 200, "000": None}),  # a space: written apart
        ("[1,000,000, 2]", ["1,000,000", 2]),
        ("[100,200,300]", [100, 200, 300]),  # no group starts with 0: three values
        ("['1',000]", ["1", 0]),  # a quoted value is not a plain number
    ],
)
def test_digits_grouped_by_commas_are_put_back_together(written: str, data: object) -> None:
    assert yaml12.read(written).data == data


# --- events files -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "content",
    [
        b"year,loss\n1,5M\n2,\xed\xa0\x80\n",  # a surrogate encoded as UTF-8 would
        b"year,loss\n" + b"1,5M\n" * 10_000 + b"2,\xff\n",  # far from the start
    ],
)
def test_an_events_file_that_is_not_utf8_is_refused(tmp_path: Path, content: bytes) -> None:
    (tmp_path / "events.csv").write_bytes(content)
    (tmp_path / "scenario.yaml").write_text(EVENTS.replace("EVENTS", "events.csv"), "utf-8")
    [problem] = validate_file(tmp_path / "scenario.yaml")
    assert problem.text == "events_file: events.csv is not UTF-8 text; save it as UTF-8"
