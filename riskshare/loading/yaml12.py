"""YAML read as YAML 1.2 would, with the node tree kept so that keys have positions.

PyYAML resolves plain scalars by YAML 1.1, where ``NO``, ``on`` and ``yes`` are booleans
and ``2025-03-02`` is a date. :class:`Yaml12Loader` follows the YAML 1.2 core schema
instead, and keeps every mapping key a string (a member named ``2024`` or ``true``
stays that name). :func:`read_file` returns a :class:`Document`: the data, and the node tree
that :meth:`Document.position` walks to place a key path at its line and column.

This module and :mod:`riskshare.loading.load` are the only ones that touch ``yaml``.
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
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from riskshare.errors import Loc, Problem

_TAG = "tag:yaml.org,2002:"
_MERGE = _TAG + "merge"

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
    """A safe loader with YAML 1.2 core-schema scalars and string mapping keys."""

    yaml_implicit_resolvers: dict[Any, Any] = {}  # noqa: RUF012 (PyYAML's own class table)

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


@dataclass(frozen=True)
class Document:
    """A YAML document: its data, the node tree that places key paths, its duplicate keys."""

    root: Node | None
    data: object
    duplicates: tuple[Problem, ...] = ()

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
        raw = path.read_bytes()
    except FileNotFoundError:
        raise UnreadableError("no such file") from None
    except IsADirectoryError:
        raise UnreadableError("is a directory, not a scenario file") from None
    except OSError as error:
        raise UnreadableError(f"cannot be read: {error.strerror or error}") from None
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
        # Look for duplicates before construction merges `<<` keys into the mappings.
        duplicates = _duplicate_keys(root)
        data = loader.construct_document(root) if root is not None else None
    except yaml.MarkedYAMLError as error:
        raise _syntax_error(error) from None
    finally:
        loader.dispose()
    return Document(root, data, duplicates)


# What to do about PyYAML's commonest complaints, and its token names in plain words.
_HINTS = {
    "found character '\\t'": "; indent with spaces, not tabs",
    "mapping values are not allowed": "; a value holding `: ` must be put in quotes",
    "could not find expected ':'": "; a key needs a `:` after it",
}
_TOKENS = {
    "<stream end>": "the end of the file",
    "<block end>": "the end of the indented block",
    "<block mapping start>": "a new key",
    "<block sequence start>": "a list item",
}


def _syntax_error(error: yaml.MarkedYAMLError) -> UnreadableError:
    problem, context = error.problem or "", error.context or ""
    if problem.startswith("but ") or not problem:
        message = ", ".join(part for part in (context, problem) if part) or "cannot be read"
    else:
        message = problem
        if context and error.context_mark is not None:
            message += f" ({context} from line {error.context_mark.line + 1})"
    for token, words in _TOKENS.items():
        message = message.replace(f"'{token}'", words).replace(token, words)
    message += "".join(hint for start, hint in _HINTS.items() if problem.startswith(start))
    mark = error.problem_mark or error.context_mark
    if problem.startswith("could not find expected ':'") and error.context_mark is not None:
        mark = error.context_mark  # the key without its colon, not where the scan gave up
    if mark is None:
        return UnreadableError(f"invalid YAML: {message}", None, None)
    return UnreadableError(f"invalid YAML: {message}", mark.line + 1, mark.column + 1)


def _line_column(text: str, index: int) -> tuple[int, int]:
    before = text[:index]
    return before.count("\n") + 1, index - (before.rfind("\n") + 1) + 1
