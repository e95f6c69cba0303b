"""Docs that cannot drift: snippets load, commands run, every option is documented.

Conventions in the Markdown files (README.md and docs/**/*.md):

- ```yaml holds a complete scenario; it must load without errors. ```yaml file=NAME
  also writes it as NAME for the console blocks of the same page; ```yaml fragment
  is a piece of a scenario, shown but not loaded.
- ```console holds commands, each on a line starting with ``$ riskshare``; each runs
  in-process (in a scratch folder that sees ``scenarios/``, ``docs/`` and ``tests/``)
  and must exit 0, unless the line ends with a comment ``# exit N``.
- ```python runs as it is, in the same scratch folder.
"""

from __future__ import annotations

import glob
import re
import shlex
import textwrap
from pathlib import Path

import pytest
from render import run

from riskshare.cli import app
from riskshare.loading.load import load_scenario

ROOT = Path(__file__).resolve().parent.parent
PAGES = sorted([ROOT / "README.md", *(ROOT / "docs").rglob("*.md")])
#: A fenced block, at the margin or indented (in a list item) as far as its closing fence.
FENCE = re.compile(r"^( *)```([^\n`]*)\n(.*?)^\1```", re.MULTILINE | re.DOTALL)
EXIT = re.compile(r"#\s*exit\s+(\d+)\s*$")


def blocks(page: Path) -> list[tuple[str, str]]:
    text = page.read_text(encoding="utf-8")
    return [(m.group(2).strip(), textwrap.dedent(m.group(3))) for m in FENCE.finditer(text)]


def page_id(page: Path) -> str:
    return str(page.relative_to(ROOT))


@pytest.fixture
def scratch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("scenarios", "docs", "tests"):
        (tmp_path / name).symlink_to(ROOT / name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_yaml_snippets_load(page: Path, scratch: Path) -> None:
    for info, body in blocks(page):
        words = info.split()
        if not words or words[0] != "yaml" or "fragment" in words:
            continue
        target = scratch / _file_name(words, "snippet.yaml")
        target.write_text(body, encoding="utf-8")
        load_scenario(target)


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_commands_run(page: Path, scratch: Path) -> None:
    for info, body in blocks(page):
        words = info.split()
        if words[:1] == ["yaml"] and "fragment" not in words:
            (scratch / _file_name(words, "snippet.yaml")).write_text(body, encoding="utf-8")
        if words[:1] != ["console"]:
            continue
        for line in body.splitlines():
            if not line.startswith("$ riskshare "):
                continue
            command = line[len("$ riskshare ") :]
            expected = EXIT.search(command)
            args = _expand(shlex.split(command, comments=True))
            result = run(*args)
            want = int(expected.group(1)) if expected else 0
            assert result.exit_code == want, (
                f"{page_id(page)}: {line}\n{result.stdout}{result.stderr}"
            )


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_python_snippets_run(page: Path, scratch: Path) -> None:
    for info, body in blocks(page):
        if info.split()[:1] == ["python"]:
            exec(compile(body, f"{page_id(page)}:python", "exec"), {"__name__": "docs"})


def _expand(args: list[str]) -> list[str]:
    """Expand wildcards as the shell would."""
    expanded: list[str] = []
    for arg in args:
        matches = sorted(glob.glob(arg)) if any(c in arg for c in "*?[") else []
        expanded.extend(matches or [arg])
    return expanded


def _file_name(words: list[str], default: str) -> str:
    for word in words:
        if word.startswith("file="):
            return word[len("file=") :]
    return default


def test_every_command_and_option_is_documented() -> None:
    """docs/commands.md names every command and every one of its options."""
    import typer.main

    reference = (ROOT / "docs" / "commands.md").read_text(encoding="utf-8")
    group = typer.main.get_command(app)
    assert hasattr(group, "commands")
    sections = {
        match.group(1): match.group(2)
        for match in re.finditer(r"^## riskshare (\S+)\n(.*?)(?=^## |\Z)", reference, re.M | re.S)
    }
    for name, command in group.commands.items():
        assert name in sections, f"command {name} has no section in docs/commands.md"
        for param in command.params:
            for option in param.opts:
                if option.startswith("--") and option != "--help":
                    # written about in its own section, not only in the pasted --help
                    assert f"`{option}" in sections[name], f"{name} {option} is not described"


HELP = re.compile(
    r"^```console\n\$ riskshare ((?:\S+ )?--help)\n```\s*\n```text\n(.*?)^```",
    re.MULTILINE | re.DOTALL,
)


def test_help_text_in_the_command_reference_is_current(regen_golden: bool) -> None:
    """Each `--help` pasted in docs/commands.md is what the command prints today.

    ``pytest --regen-golden`` pastes the current text in.
    """
    path = ROOT / "docs" / "commands.md"
    reference = path.read_text(encoding="utf-8")
    pasted = HELP.findall(reference)
    assert len(pasted) >= 7
    for command, text in pasted:
        result = run(*command.split())
        assert result.exit_code == 0
        if regen_golden:
            reference = reference.replace(f"```text\n{text}```", f"```text\n{result.stdout}```", 1)
        else:
            assert result.stdout == text, f"docs/commands.md: `riskshare {command}` has changed"
    if regen_golden:
        path.write_text(reference, encoding="utf-8")
