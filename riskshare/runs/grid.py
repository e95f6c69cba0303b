"""A grid of values over the keys of a scenario, and the scenario at each point.

``layers.backstop.attachment=500M,1B`` and ``layers[2].share=80%,90%`` make a grid of
four points; each point's scenario is the base scenario with those keys set, checked
as a scenario file would be (:func:`riskshare.loading.load.load_variant`). Keys that decide
the simulated events are refused: every point is to run on the same events.
"""

from __future__ import annotations

import copy
import itertools
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from riskshare.errors import Problem, RiskshareError, ScenarioError, format_loc
from riskshare.loading.load import load_variant, parse_value
from riskshare.model.amounts import format_amount
from riskshare.model.scenario import Scenario

#: Top-level keys that decide the simulated events: a sweep cannot change them, except
#: a source's ``bearer`` (who bears the events, not which events happen).
EVENT_KEYS = ("events", "events_file", "sources", "simulation")

Path = tuple[str | int, ...]


class GridError(RiskshareError):
    """A grid that cannot be swept: a malformed or unknown path, no values, or a path
    that would change the simulated events."""


_SEGMENT = re.compile(r"(?P<name>[^.\[\]]*)(?P<indices>(\[\s*-?\d+\s*\])*)")


def parse_path(text: str) -> Path:
    """``layers[2].share`` → ``("layers", 2, "share")``; ``layers.backstop.attachment`` →
    ``("layers", "backstop", "attachment")``: a name in a list picks the entry so named."""
    parts: list[str | int] = []
    for segment in text.strip().split("."):
        match = _SEGMENT.fullmatch(segment.strip())
        name = match["name"].strip() if match else ""
        if match is None or (not name and not match["indices"]) or (not parts and not name):
            raise GridError(
                f"`{text}` is not a key path; write keys joined by dots, with [N] for the "
                f"N-th entry of a list (from 0): layers.backstop.attachment, layers[2].share, "
                f"parties.mof.budget"
            )
        if name:
            parts.append(name)
        parts += [int(i) for i in re.findall(r"-?\d+", match["indices"])]
    return tuple(parts)


def parse_set(spec: str) -> tuple[str, list[object]]:
    """``PATH=V1,V2,…`` (as ``--set`` takes it) → the path and its values.

    Each value is read as it would be in a scenario file (YAML 1.2): ``500M``, ``80%``,
    ``1亿`` and ``unlimited`` stay text for the scenario's own parsing, ``0.8`` is a number.
    Commas inside ``[…]``, ``{…}`` or quotes do not separate values.
    """
    path, equals, values = spec.partition("=")
    if not equals or not path.strip():
        raise GridError(f"`{spec}` is not PATH=V1,V2,…; for example layers.backstop.share=80%,90%")
    texts = _split_values(values)
    if not any(t.strip() for t in texts):
        raise GridError(f"`{spec}` gives no values after `=`")
    parsed: list[object] = []
    for text in texts:
        try:
            parsed.append(parse_value(text.strip()))
        except ValueError as error:
            raise GridError(f"`{text.strip()}` in `{spec}`: {error}") from None
    return path.strip(), parsed


def _split_values(text: str) -> list[str]:
    parts, depth, quote, current = [], 0, "", ""
    for char in text:
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char in "[{":
            depth += 1
        elif char in "]}":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append(current)
            current = ""
            continue
        current += char
    parts.append(current)
    return parts


def show_value(value: object) -> str:
    """A grid value as a person wrote it: ``500M``, ``80%``, ``0.8``, ``{loading: 20%}``."""
    if isinstance(value, bool):
        return str(value).lower()
    if value is None:
        return "null"
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return format_amount(value) if abs(value) >= 1000 else str(int(value))
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k}: {show_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(show_value(v) for v in value) + "]"
    return str(value)


def _locate(data: Mapping[str, Any], path: Path, text: str) -> Path:
    """The path with names of list entries turned into indices; GridError if not there."""
    loc: list[str | int] = []
    node: Any = data
    for depth, part in enumerate(path):
        last = depth == len(path) - 1
        where = format_loc(tuple(loc)) or "the scenario"
        if isinstance(node, list):
            if isinstance(part, int):
                if not -len(node) <= part < len(node):
                    raise GridError(
                        f"`{text}`: {where} has {len(node)} entries, numbered from 0; "
                        f"there is no [{part}]"
                    )
                index = part % len(node)
            else:
                named = [
                    i
                    for i, e in enumerate(node)
                    if isinstance(e, Mapping) and e.get("name") == part
                ]
                if not named:
                    names = ", ".join(f"`{e.get('name')}`" for e in node if isinstance(e, Mapping))
                    raise GridError(f"`{text}`: no entry of {where} is named `{part}` ({names})")
                index = named[0]
            loc.append(index)
            node = node[index]
        elif isinstance(node, Mapping):
            if isinstance(part, int):
                raise GridError(f"`{text}`: {where} is a mapping of keys, not a list")
            if part not in node and not last:
                known = ", ".join(f"`{k}`" for k in node) or "none"
                raise GridError(f"`{text}`: {where} has no key `{part}` (its keys: {known})")
            loc.append(part)
            node = node.get(part)
        else:
            raise GridError(f"`{text}`: {where} is a single value; it has no `{part}`")
    return tuple(loc)


def _check_events_untouched(loc: Path, text: str) -> None:
    if loc[0] in EVENT_KEYS and not (len(loc) == 3 and loc[2] == "bearer"):
        raise GridError(
            f"`{text}` would change the simulated events; a sweep draws the events once and "
            f"re-runs only the layers on them. Sweep layers, parties, residual or a source's "
            f"bearer; compare separate scenario files for other event sources, and set the "
            f"years and seed with --years and --seed"
        )


def _assign(data: dict[str, Any], loc: Path, value: object) -> None:
    node: Any = data
    for part in loc[:-1]:
        node = node[part]
    node[loc[-1]] = copy.deepcopy(value)


@dataclass(frozen=True)
class GridPoint:
    """One point of a grid: its values (path → value, as given) and its scenario, or the
    errors that make it invalid; ``warnings`` are those the base scenario does not have."""

    values: Mapping[str, object]
    scenario: Scenario | None
    errors: tuple[Problem, ...] = ()
    warnings: tuple[Problem, ...] = ()


def grid_points(base: Scenario, grid: Mapping[str, Sequence[object]]) -> list[GridPoint]:
    """Every combination of ``grid``'s values (the first path varying slowest), checked.

    Raises :class:`GridError` for a path that is malformed, not in the scenario or would
    change the simulated events, and for a path without values.
    """
    data = base.model_dump(by_alias=True, exclude_unset=True)
    paths = list(grid)
    if not paths:
        raise GridError("the grid is empty: give at least one path and its values")
    locs: list[Path] = []
    for text in paths:
        values = grid[text]
        if isinstance(values, (str, bytes)) or not isinstance(values, Sequence) or not values:
            raise GridError(f"`{text}`: give a list of one or more values")
        loc = _locate(data, parse_path(text), text)
        _check_events_untouched(loc, text)
        if loc in locs:
            raise GridError(f"`{text}` sets {format_loc(loc)}, which another path sets too")
        locs.append(loc)
    _, base_warnings = load_variant(data, base)
    known = {str(w) for w in base_warnings}
    points = []
    for combo in itertools.product(*(grid[p] for p in paths)):
        changed = copy.deepcopy(data)
        for loc, value in zip(locs, combo, strict=True):
            _assign(changed, loc, value)
        given = dict(zip(paths, combo, strict=True))
        try:
            scenario, warnings = load_variant(changed, base)
        except ScenarioError as error:
            points.append(GridPoint(given, None, errors=tuple(error.errors)))
            continue
        fresh = tuple(w for w in warnings if str(w) not in known)
        points.append(GridPoint(given, scenario, warnings=fresh))
    return points
