"""The import fences: each folder of the package imports only what its place in the flow
allows (docs/architecture.md), so the layout cannot rot.

Every import of every module counts, wherever it is written: at the top, inside a
function, or under ``TYPE_CHECKING``.
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "riskshare"

#: The parts of the package: its folders and its top-level modules.
FOLDERS = {"model", "loading", "engine", "stats", "runs", "render"}
MODULES = {"cli", "errors", "_version", "output", "__main__"}
#: What each part may not import from the package. Every part may import errors and
#: _version; no part imports the package itself (riskshare/__init__.py, the public API,
#: which imports nearly everything).
FORBIDDEN: dict[str, set[str]] = {
    "errors": FOLDERS | {"cli"},
    "_version": FOLDERS | {"cli"},
    "output": FOLDERS | {"cli"},
    "model": {"loading", "engine", "stats", "runs", "render", "cli"},
    "stats": {"model", "loading", "engine", "runs", "render", "cli"},
    "loading": {"engine", "stats", "runs", "render", "cli"},
    "engine": {"loading", "runs", "render", "cli"},
    "runs": {"render", "cli"},
    "render": {"cli"},
    "cli": set(),
    "__main__": FOLDERS,
}
#: Libraries fenced into one part: nowhere else may import them.
HOMES: dict[str, set[str]] = {
    "typer": {"cli"},
    "rich": {"render"},
    "matplotlib": {"render"},
    "fontTools": {"render"},
    "yaml": {"loading"},
}
#: The core computes with the standard library and these libraries only.
CORE: dict[str, set[str]] = {
    "model": {"numpy", "pydantic", "pydantic_core"},
    "stats": {"numpy"},
    "engine": {"numpy"},
}


def part_of(module: str) -> str:
    """The part of the package ``module`` (a dotted name under riskshare) belongs to."""
    names = module.removesuffix(".__init__").split(".")
    return names[1] if len(names) > 1 else "riskshare"


def imported(module: str, source: str) -> list[tuple[int, str]]:
    """(line, dotted name) of everything ``module`` imports, relative imports resolved.

    ``from riskshare import cli`` imports riskshare.cli; ``from riskshare import X`` of
    anything else imports the package itself.
    """
    found: list[tuple[int, str]] = []
    is_package = module.endswith(".__init__")
    here = module.removesuffix(".__init__").split(".")
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = here if is_package else here[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, *([base] if base else [])])
            if base == "riskshare":
                for alias in node.names:
                    child = alias.name in FOLDERS | MODULES
                    found.append((node.lineno, f"riskshare.{alias.name}" if child else base))
            else:
                found.append((node.lineno, base))
    return found


def violations(module: str, source: str) -> list[str]:
    """Each import of ``module`` that breaks a fence, in words."""
    part = part_of(module)
    broken = []
    for line, name in imported(module, source):
        top = name.split(".")[0]
        where = f"{module}:{line} imports {name}"
        if top == "riskshare":
            target = part_of(name)
            if target == "riskshare" and module != "riskshare.__init__":
                broken.append(f"{where}: import from the module itself, not the package")
            elif target in FORBIDDEN.get(part, set()):
                broken.append(f"{where}: {part} may not import {target}")
            elif target == "cli" and part != "__main__":
                broken.append(f"{where}: only __main__ imports the command line")
        elif top in HOMES and part not in HOMES[top]:
            broken.append(f"{where}: {top} belongs in {', '.join(sorted(HOMES[top]))}")
        elif part in CORE and top not in sys.stdlib_module_names | CORE[part]:
            allowed = ", ".join(["the standard library", *sorted(CORE[part])])
            broken.append(f"{where}: {part} imports {allowed} only")
    return broken


def module_name(path: Path) -> str:
    relative = path.relative_to(PACKAGE.parent).with_suffix("")
    return ".".join(relative.parts)


MODULE_FILES = sorted(PACKAGE.rglob("*.py"))


def test_every_part_has_rules() -> None:
    parts = {part_of(module_name(path)) for path in MODULE_FILES} - {"riskshare"}
    assert parts == set(FORBIDDEN)


@pytest.mark.parametrize("path", MODULE_FILES, ids=module_name)
def test_imports_stay_inside_the_fences(path: Path) -> None:
    broken = violations(module_name(path), path.read_text(encoding="utf-8"))
    assert not broken, "\n".join(broken)


# The fences must catch what they are there to catch.
BROKEN = [
    ("riskshare.engine.block", "from riskshare.runs.simulation import simulate"),
    ("riskshare.engine.block", "from ..render import tables"),
    ("riskshare.engine.block", "import riskshare.cli"),
    ("riskshare.engine.block", "def f():\n    from riskshare import cli"),
    ("riskshare.model.scenario", "from riskshare.engine.plan import Plan"),
    ("riskshare.model.scenario", "from . import checks\nfrom ..loading import load"),
    ("riskshare.model.scenario", "import scipy"),
    ("riskshare.stats.tails", "from pydantic import BaseModel"),
    ("riskshare.stats.summary", "from riskshare.model.amounts import format_amount"),
    ("riskshare.loading.load", "from riskshare.engine.plan import compile_plan"),
    ("riskshare.runs.compare", "from riskshare.render.tables import simulation_tables"),
    ("riskshare.render.tables", "from riskshare.cli import app"),
    ("riskshare.render.tables", "from riskshare import __version__"),
    ("riskshare.render.tables", "import yaml"),
    ("riskshare.runs.simulation", "from rich.table import Table"),
    ("riskshare.runs.simulation", "import matplotlib.pyplot"),
    ("riskshare.loading.load", "import typer"),
    ("riskshare.cli", "import yaml"),
    ("riskshare.errors", "from riskshare.model.amounts import format_amount"),
    ("riskshare.__main__", "from riskshare.runs import simulate"),
]


@pytest.mark.parametrize(("module", "source"), BROKEN)
def test_a_broken_fence_is_found(module: str, source: str) -> None:
    assert len(violations(module, source)) >= 1


ALLOWED = [
    ("riskshare.engine.block", "from riskshare.stats.summary import SeriesSummary"),
    ("riskshare.engine.block", "from .events import EventBlock"),
    ("riskshare.engine.__init__", "from . import events"),
    ("riskshare.render.tables", "from riskshare.runs.simulation import SimulationResult"),
    ("riskshare.render.tables", "from rich.table import Table"),
    ("riskshare.loading.yaml12", "import yaml"),
    ("riskshare.__main__", "from riskshare.cli import main"),
    ("riskshare.__init__", "from riskshare.runs.simulation import simulate"),
    ("riskshare.model.scenario", "import numpy.typing as npt\nfrom pydantic import Field"),
]


@pytest.mark.parametrize(("module", "source"), ALLOWED)
def test_an_allowed_import_passes(module: str, source: str) -> None:
    assert violations(module, source) == []


# --- docs/architecture.md says the same -------------------------------------------------

PAGE = PACKAGE.parent / "docs" / "architecture.md"


def table(heading: str) -> dict[str, list[str]]:
    """The rows of the table under ``heading``: first cell → the other cells."""
    text = PAGE.read_text(encoding="utf-8").split(f"\n## {heading}\n", 1)[1].split("\n## ")[0]
    rows = [line.strip("|").split("|") for line in text.splitlines() if line.startswith("| ")]
    return {cells[0].strip(): cells[1:] for cells in rows[1:]}


def named(cell: str) -> set[str]:
    return set(re.findall(r"`([^`]+)`", cell))


def test_the_page_names_every_module_in_its_folder() -> None:
    rows = {
        key.strip("`").rstrip("/"): named(cells[0])
        for key, cells in table("What each folder holds").items()
    }
    missing = []
    for path in MODULE_FILES:
        parts = path.relative_to(PACKAGE).parts
        folder = parts[0] if len(parts) > 1 else "top level"
        if parts[-1] == "__init__.py" and len(parts) > 1:
            continue
        if parts[-1] not in rows.get(folder, set()):
            missing.append("/".join(parts))
    assert not missing, f"docs/architecture.md does not name {', '.join(missing)}"


def test_the_page_states_the_fences_the_test_checks() -> None:
    rows = table("What each folder may import")
    parts = {key.strip("`").removesuffix("/").removesuffix(".py") for key in rows}
    assert parts == set(FORBIDDEN) - {"errors", "_version"}
    for key, cells in rows.items():
        part = key.strip("`").removesuffix("/").removesuffix(".py")
        allowed = (FOLDERS | {"cli"}) - FORBIDDEN[part] - {part}
        assert named(cells[0]) == allowed, part
