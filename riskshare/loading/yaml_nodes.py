"""Mending a composed YAML node tree before its data is built.

:func:`join_digit_groups` puts back together the digits a comma split inside ``{…}`` or
``[…]``; :func:`lone_surrogates` escapes each lone surrogate and makes it a problem of
the text that holds it. Both walk the tree with their own stack, each node once
(aliases share nodes), and change nodes in place.
"""

from __future__ import annotations

import re

from yaml.nodes import CollectionNode, MappingNode, Node, ScalarNode, SequenceNode

from riskshare.errors import Loc, Problem, printable

_STR = "tag:yaml.org,2002:str"
_NULL = "tag:yaml.org,2002:null"


def children(node: Node) -> list[Node]:
    """The keys and values of a mapping, the items of a list; none for a scalar."""
    if isinstance(node, MappingNode):
        return [part for pair in node.value for part in pair]
    return list(node.value) if isinstance(node, SequenceNode) else []


def lone_surrogates(root: Node | None) -> tuple[Problem, ...]:
    """Each text holding a lone surrogate, a problem at its place; the text is escaped.

    A surrogate is half of the code of a character beyond U+FFFF, as in ``"\\ud800"``;
    a valid pair (``"\\ud83d\\ude00"``, as JSON writes 😀) is joined into its character.
    A lone one is no character: no file, terminal or report can hold it, so it is
    refused, and replaced by its escape so that every message can quote the text.
    """
    problems: list[Problem] = []
    seen: set[int] = set()
    stack: list[tuple[Node, Loc]] = [(root, ())] if root is not None else []

    def check(node: ScalarNode, loc: Loc, key: bool = False) -> str:
        """The node's text, pairs joined and lone surrogates escaped, each a problem."""
        text: str = node.value
        if _SURROGATE.search(text):
            text = text.encode("utf-16", "surrogatepass").decode("utf-16", "surrogatepass")
            lone = _SURROGATE.search(text)
            if lone is not None:
                text = printable(text)
                problems.append(
                    Problem(
                        (*loc, text) if key else loc,
                        f"holds {printable(lone.group())}, which is not a character but half "
                        "of the code of one (a lone surrogate); remove it, or write the "
                        "character itself",
                        line=node.start_mark.line + 1,
                        column=node.start_mark.column + 1,
                    )
                )
            node.value = text
        return text

    while stack:
        node, loc = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, ScalarNode):
            check(node, loc)
        elif isinstance(node, MappingNode):
            entries: list[tuple[Node, Loc]] = []
            for key, value in node.value:
                name = "?"
                if isinstance(key, ScalarNode) and id(key) not in seen:
                    seen.add(id(key))
                    name = check(key, loc, key=True)
                elif isinstance(key, ScalarNode):
                    name = key.value
                entries.append((value, (*loc, name)))
            stack.extend(reversed(entries))
        elif isinstance(node, SequenceNode):
            stack.extend((item, (*loc, i)) for i, item in reversed(list(enumerate(node.value))))
    return tuple(problems)


_SURROGATE = re.compile("[\ud800-\udfff]")


def join_digit_groups(root: Node, text: str) -> None:
    """Put back together the digits a comma split inside ``{…}`` or ``[…]``.

    ``{limit: 200,000,000}`` reads as ``limit: 200`` and two keys ``000``; written
    without spaces, the groups are one number with thousands separators, which the
    amount's message then explains. In a list, ``[100,200,300]`` may well be three
    values, so groups are joined there only when one starts with 0 (``[1,000,000]``).
    """
    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen or not isinstance(node, CollectionNode):
            continue
        seen.add(id(node))
        stack.extend(children(node))
        if not node.flow_style:
            continue
        if isinstance(node, MappingNode):
            node.value = _joined_entries(node.value, text)
        elif isinstance(node, SequenceNode):
            node.value = _joined_items(node.value, text)


def _joined_entries(entries: list[tuple[Node, Node]], text: str) -> list[tuple[Node, Node]]:
    joined: list[tuple[Node, Node]] = []
    for key, value in entries:
        if joined and _continues(joined[-1][1], key, text) and _is_empty(value):
            previous_key, previous = joined.pop()
            joined.append((previous_key, _join(previous, key)))
        else:
            joined.append((key, value))
    return joined


def _joined_items(items: list[Node], text: str) -> list[Node]:
    joined: list[Node] = []
    run: list[Node] = []
    for item in [*items, None]:
        if item is not None and run and _continues(run[-1], item, text):
            run.append(item)
            continue
        if len(run) > 1 and any(part.value.startswith("0") for part in run[1:]):
            node = run[0]
            for part in run[1:]:
                node = _join(node, part)
            joined.append(node)
        else:
            joined.extend(run)
        run = [item] if item is not None else []
    return joined


_FIRST_GROUP = re.compile(r"[0-9]{1,3}")
_NEXT_GROUP = re.compile(r"[0-9]{3}(?:\.[0-9]+)?\s*(?:[kKmMbB]|[bB][nN]|万|亿|%)?")


def _continues(before: Node, after: Node, text: str) -> bool:
    """Whether ``after`` is a group of three digits right after ``before`` and a comma."""
    return (
        _is_plain(before)
        and _is_plain(after)
        and (_FIRST_GROUP.fullmatch(before.value) or "," in before.value)
        and _NEXT_GROUP.fullmatch(after.value) is not None
        and after.start_mark.index == before.end_mark.index + 1
        and text[before.end_mark.index : after.start_mark.index] == ","
    )


def _join(before: Node, after: Node) -> ScalarNode:
    return ScalarNode(_STR, f"{before.value},{after.value}", before.start_mark, after.end_mark)


def _is_plain(node: Node) -> bool:
    return isinstance(node, ScalarNode) and node.style is None


def _is_empty(node: Node) -> bool:
    return _is_plain(node) and node.value == "" and node.tag == _NULL
