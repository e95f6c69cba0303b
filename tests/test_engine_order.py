"""The engine's modules import one another in the one order its docstring states."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import riskshare.engine

ENGINE = Path(riskshare.engine.__file__).parent


def stated_order() -> list[str]:
    """The chain ``workers → events → … → schedule`` of riskshare/engine/__init__.py."""
    doc = riskshare.engine.__doc__ or ""
    chain = re.search(r"^\s*(\w+(?:\s*→\s*\w+)+)", doc, re.MULTILINE | re.DOTALL)
    assert chain is not None, "the engine's docstring states no order"
    return [name.strip() for name in chain.group(1).split("→")]


def engine_imports(path: Path) -> set[str]:
    """The engine modules ``path`` imports, at its top or inside a function."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        for name in names:
            if name.startswith("riskshare.engine."):
                found.add(name.split(".")[2])
    return found


def test_the_stated_order_names_every_engine_module() -> None:
    modules = sorted(p.stem for p in ENGINE.glob("*.py") if p.stem != "__init__")
    assert sorted(stated_order()) == modules


def test_each_engine_module_imports_only_those_before_it() -> None:
    order = stated_order()
    wrong = [
        f"{module} imports {other}, which comes after it"
        for at, module in enumerate(order)
        for other in sorted(engine_imports(ENGINE / f"{module}.py"))
        if other not in order[:at]
    ]
    assert not wrong
