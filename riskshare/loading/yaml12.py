"""YAML read as YAML 1.2 would, with the node tree kept so that keys have positions.

PyYAML resolves plain scalars by YAML 1.1, where ``NO``, ``on`` and ``yes`` are booleans
and ``2025-03-02`` is a date. :class:`Yaml12Loader` follows the YAML 1.2 core schema
instead, and keeps every mapping key a string (a member named ``2024`` or ``true``
stays that name). :func:`read_file` returns a :class:`Document`: the data, and the node tree
that :meth:`Document.position` walks to place a key path at its line and column.

Hostile input is refused before it can do harm: a file larger than
:data:`~riskshare.loading.input_files.SCENARIO_LIMIT` or that is not a regular file, lists and
mappings nested deeper than :data:`MAX_DEPTH` (an alias counts as the value it names),
and an alias used inside the value it names. A lone surrogate (``"\\ud800"``), which no
file or terminal can hold, is a problem of its key, shown escaped; digits grouped by
commas inside ``{…}`` or ``[…]`` (``200,000,000``) are put back together, so that the
amount's message explains them instead of three keys.

This module, :mod:`riskshare.loading.yaml_nodes` and :mod:`riskshare.loading.load` are the only ones
that touch ``yaml``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Hashable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import ConstructorError
from yaml.events import AliasEvent, CollectionStartEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from riskshare.errors import Loc, Problem
from riskshare.loading.input_files import SCENARIO_LIMIT, InputFileError, read_bounded
from riskshare.loading.yaml_messages import explain
from riskshare.loading.yaml_nodes import children, join_digit_groups, lone_surrogates

_TAG = "tag:yaml.org,2002:"
_MERGE = _TAG + "merge"

#: The deepest nesting of lists and mappings read; a scenario needs six at most.
MAX_DEPTH = 64

# The YAML 1.2 core schema (https://yaml.org/spec/1.2.2/#1032-tag-resolution):
# tag, pattern, the characters a matching scalar can start with ("" for the empty one).
_CORE_SCHEMA: tuple[tuple[str, str, list[str]], ...] = (
    ("bool", r"true|True|TRUE|false|False|FALSE", list("tTfF")),
    ("null", r"~|null|Null|NULL|", ["~", "n", "N", ""]),
    ("int", r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+", list("-+0123456789")),
    (
        "float",
        r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN)",
        list("-+.0123456789"),
    ),
    ("merge", r"<<", ["<"]),
)


class Yaml12Loader(yaml.SafeLoader):
    """A safe loader with YAML 1.2 core-schema scalars and string mapping keys.

    Composing refuses lists and mappings nested deeper than :data:`MAX_DEPTH`, counting
    through aliases, before Python's recursion limit is near, and an alias used inside
    the value it names.
    """

    yaml_implicit_resolvers: dict[Any, Any] = {}  # noqa: RUF012 (PyYAML's own class table)

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._open = 0  # lists and mappings being composed around the next node
        self._levels: dict[int, int] = {}  # id(node) → levels of lists and mappings in it

    def compose_node(self, parent: Node | None, index: int) -> Node | None:
        event = self.peek_event()  # type: ignore[no-untyped-call]
        if isinstance(event, AliasEvent):
            node = super().compose_node(parent, index)
            levels = self._levels.get(id(node))
            if levels is None:  # its value is still being composed: it holds itself
                raise _unreadable(
                    f"the alias `*{event.anchor}` is used inside the value `&{event.anchor}` "
                    "names, so that value would hold itself without end; write it out instead",
                    event.start_mark,
                )
            if self._open + levels > MAX_DEPTH:
                raise _too_deep(event.start_mark, through_alias=True)
            return node
        collection = isinstance(event, CollectionStartEvent)
        if collection and self._open >= MAX_DEPTH:
            raise _too_deep(event.start_mark)
        self._open += collection
        try:
            node = super().compose_node(parent, index)
        finally:
            self._open -= collection
        if node is not None:
            self._levels[id(node)] = collection + max(
                (self._levels[id(child)] for child in children(node)), default=0
            )
        return node

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Hashable, Any]:
        self.flatten_mapping(node)
        mapping: dict[Hashable, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode):
                raise ConstructorError(
                    None, None, "a key must be a name, not a list or a mapping", key_node.start_mark
                )
            # The key's text as written: `2024:` or `true:` name a member, not a number.
            mapping[key_node.value] = self.construct_object(value_node, deep=deep)
        return mapping


def _construct_int(loader: Yaml12Loader, node: ScalarNode) -> int:
    text = loader.construct_scalar(node)
    try:
        if text.startswith("0o"):
            return int(text[2:], 8)
        if text.startswith("0x"):
            return int(text[2:], 16)
        return int(text)
    except ValueError:
        raise ConstructorError(None, None, f"{text!r} is not an integer", node.start_mark) from None


def _construct_float(loader: Yaml12Loader, node: ScalarNode) -> float:
    text = loader.construct_scalar(node).lower()
    if text.endswith(".inf"):
        return -math.inf if text.startswith("-") else math.inf
    if text == ".nan":
        return math.nan
    try:
        return float(text)
    except ValueError:
        raise ConstructorError(None, None, f"{text!r} is not a number", node.start_mark) from None


for _name, _pattern, _first in _CORE_SCHEMA:
    Yaml12Loader.add_implicit_resolver(_TAG + _name, re.compile(f"^(?:{_pattern})$"), _first)
Yaml12Loader.add_constructor(_TAG + "int", _construct_int)
Yaml12Loader.add_constructor(_TAG + "float", _construct_float)


class UnreadableError(ValueError):
    """A file that is not UTF-8 YAML: why, and the 1-based line and column if known."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column


def _unreadable(message: str, mark: Any) -> UnreadableError:
    """The error at ``mark``, a PyYAML mark (the stubs know two kinds)."""
    if mark is None:
        return UnreadableError(message)
    return UnreadableError(message, mark.line + 1, mark.column + 1)


def _too_deep(mark: Any, through_alias: bool = False) -> UnreadableError:
    alias = " (counting the value this alias names)" if through_alias else ""
    return _unreadable(
        f"lists and mappings nested deeper than {MAX_DEPTH} levels{alias}; "
        "a scenario needs a few levels at most",
        mark,
    )


@dataclass(frozen=True)
class Document:
    """A YAML document: its data, the node tree that places key paths, and its problems:
    keys written twice, and text holding a lone surrogate."""

    root: Node | None
    data: object
    duplicates: tuple[Problem, ...] = ()
    surrogates: tuple[Problem, ...] = ()

    @property
    def problems(self) -> tuple[Problem, ...]:
        return self.duplicates + self.surrogates

    def position(self, loc: Loc) -> tuple[int, int] | tuple[None, None]:
        """1-based line and column of the key at ``loc``, or as near as the file goes.

        A path ending in a key points at that key; one ending in a list index, at the
        item. Where a segment is not in the file (a missing key), the walk stops at the
        deepest node it found.
        """
        node = self.root
        if node is None:
            return None, None
        mark = node.start_mark
        for part in loc:
            if isinstance(node, MappingNode):
                keys = [(k, v) for k, v in node.value if _key_text(k) == str(part)]
                if not keys:
                    break
                key, node = keys[-1]  # the value in force is the last one written
                mark = key.start_mark
            elif isinstance(node, SequenceNode) and isinstance(part, int):
                if not 0 <= part < len(node.value):
                    break
                node = node.value[part]
                mark = node.start_mark
            else:
                break
        return mark.line + 1, mark.column + 1


def _duplicate_keys(root: Node | None) -> tuple[Problem, ...]:
    """Every key written twice in one mapping, located at its second occurrence."""
    problems: list[Problem] = []
    seen: set[int] = set()

    def walk(node: Node, loc: Loc) -> None:
        if id(node) in seen:  # an alias met again, or a recursive one
            return
        seen.add(id(node))
        if isinstance(node, MappingNode):
            first: dict[str, Node] = {}
            for key, value in node.value:
                name = _key_text(key)
                if name is None or key.tag == _MERGE:
                    continue
                if name in first:
                    line = first[name].start_mark.line + 1
                    problems.append(
                        Problem(
                            (*loc, name),
                            f"duplicate key `{name}` (first at line {line})",
                            line=key.start_mark.line + 1,
                            column=key.start_mark.column + 1,
                        )
                    )
                first.setdefault(name, key)
                walk(value, (*loc, name))
        elif isinstance(node, SequenceNode):
            for index, item in enumerate(node.value):
                walk(item, (*loc, index))

    if root is not None:
        walk(root, ())
    return tuple(problems)


def _key_text(node: Node) -> str | None:
    return node.value if isinstance(node, ScalarNode) else None


def read_file(path: Path) -> Document:
    """Read a UTF-8 YAML file; :class:`UnreadableError` if it cannot be read or is not YAML."""
    try:
        raw = read_bounded(
            path,
            SCENARIO_LIMIT,
            "a scenario file",
            "; a scenario with many events gives them in an `events_file` (CSV)",
        )
    except InputFileError as error:
        stdin = " (a scenario is read from a file, not from standard input)"
        missing = str(path) == "-" and error.reason == "no such file"
        raise UnreadableError(error.reason + (stdin if missing else "")) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        # columns count characters, as every other message's do, not bytes
        before = raw[: error.start].decode("utf-8")
        line, column = _line_column(before, len(before))
        raise UnreadableError(
            f"is not UTF-8 text (byte 0x{raw[error.start]:02x}); save the file as UTF-8",
            line,
            column,
        ) from None
    return read(text.removeprefix("\ufeff"))


def read(text: str) -> Document:
    """Compose and construct one YAML document; :class:`UnreadableError` if it is not YAML."""
    try:
        loader = Yaml12Loader(text)
    except yaml.reader.ReaderError as error:
        line, column = _line_column(text, error.position)
        raise UnreadableError(
            f"invalid YAML: the control character U+{error.character:04X} is not allowed; "
            "remove it",
            line,
            column,
        ) from None
    try:
        root = loader.get_single_node()
        if root is not None:
            join_digit_groups(root, text)
        # Look for duplicates before construction merges `<<` keys into the mappings.
        duplicates = _duplicate_keys(root)
        surrogates = lone_surrogates(root)
        data = loader.construct_document(root) if root is not None else None
    except yaml.MarkedYAMLError as error:
        raise _syntax_error(error, text) from None
    finally:
        loader.dispose()
    return Document(root, data, duplicates, surrogates)


def _syntax_error(error: yaml.MarkedYAMLError, text: str) -> UnreadableError:
    """PyYAML's complaint in plain words, at the place the fix is to be made."""
    problem_mark, context_mark = error.problem_mark, error.context_mark
    message, at_context = explain(
        error.problem or "",
        error.context or "",
        context_mark.line + 1 if context_mark is not None else None,
        _lines_between(text, context_mark, problem_mark),
    )
    mark = context_mark if at_context and context_mark is not None else problem_mark
    mark = mark or context_mark
    if mark is None:
        return UnreadableError(f"invalid YAML: {message}", None, None)
    return UnreadableError(f"invalid YAML: {message}", mark.line + 1, mark.column + 1)


def _lines_between(text: str, first: yaml.Mark | None, last: yaml.Mark | None) -> str:
    """The lines of ``text`` from one mark's to the other's, for the full-width hints."""
    lines = [mark.line for mark in (first, last) if mark is not None]
    if not lines:
        return ""
    return "\n".join(text.splitlines()[min(lines) : max(lines) + 1])


def _line_column(text: str, index: int) -> tuple[int, int]:
    before = text[:index]
    return before.count("\n") + 1, index - (before.rfind("\n") + 1) + 1
