"""pydantic's validation errors in plain words, each located by its path in the file."""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from riskshare.errors import Loc, Problem
from riskshare.loading.yaml_messages import full_width_hint
from riskshare.model.amounts import describe, half_width, show, written_hint
from riskshare.model.scenario import Scenario


@dataclass(frozen=True)
class _Error:
    """A pydantic error, located by its path in the file.

    ``union`` says where the error went through a union (``subsidy: Subsidy |
    list[Subsidy]``) and which member was tried there: pydantic reports each member.
    """

    loc: Loc
    union: tuple[Loc, str] | None
    details: ErrorDetails

    @property
    def type(self) -> str:
        return self.details["type"]


def validation_problems(error: ValidationError, data: object) -> list[Problem]:
    errors = [_file_error(details, data) for details in error.errors(include_url=False)]
    problems: list[Problem] = []
    for item in _collapse_unions(errors):
        problem = Problem(item.loc, _message(item)) if isinstance(item, _Error) else item
        if problem not in problems:
            problems.append(problem)
    return problems


def _file_error(details: ErrorDetails, data: object) -> _Error:
    """Keep of pydantic's location the keys of the file (not union members, `[key]`)."""
    loc: list[str | int] = []
    union: tuple[Loc, str] | None = None
    current: Any = data
    parts = details["loc"]
    for i, part in enumerate(parts):
        part = "from" if part == "from_" else part
        in_file = (isinstance(current, Mapping) and part in current) or (
            _is_list(current) and isinstance(part, int) and 0 <= part < len(current)
        )
        if in_file:
            current = current[part]
        elif not (i == len(parts) - 1 and details["type"] == "missing"):
            if union is None and part != "[key]":
                union = (tuple(loc), str(part))
            continue
        loc.append(part)
    return _Error(tuple(loc), union, details)


def _collapse_unions(errors: list[_Error]) -> list[_Error | Problem]:
    """One message where a union was tried, not one for each of its members.

    Keep the errors of the member that accepted the value's shape (a list, for
    ``list[Subsidy]``); where none did, say once which shapes would do.
    """
    tried: dict[Loc, dict[str, list[_Error]]] = {}
    for error in errors:
        if error.union is not None:
            where, member = error.union
            tried.setdefault(where, {}).setdefault(member, []).append(error)
    kept: list[_Error | Problem] = []
    for error in errors:
        if error.union is None:
            kept.append(error)
            continue
        where, member = error.union
        members = tried[where]
        fitting = [
            name
            for name, found in members.items()
            if not all(e.loc == where and e.type in _EXPECTED for e in found)
        ]
        if fitting:
            if member == fitting[0]:
                kept.append(error)
        elif error is next(iter(members.values()))[0]:
            shapes = dict.fromkeys(_EXPECTED[e.type] for found in members.values() for e in found)
            given = describe(error.details["input"])
            kept.append(Problem(where, f"must be {' or '.join(shapes)}, not {given}"))
    return kept


_EXPECTED = {
    "string_type": "text",
    "list_type": "a list",
    "finite_number": "a finite number",
    **dict.fromkeys(("model_type", "model_attributes_type", "dict_type"), "a mapping of keys"),
    **dict.fromkeys(("float_type", "float_parsing"), "a number"),
    **dict.fromkeys(("int_type", "int_parsing", "int_from_float"), "a whole number"),
    **dict.fromkeys(("bool_type", "bool_parsing"), "true or false"),
}
_BOUNDS = {
    "greater_than": ("gt", "above"),
    "greater_than_equal": ("ge", "at least"),
    "less_than": ("lt", "below"),
    "less_than_equal": ("le", "at most"),
}


def _message(error: _Error) -> str:
    kind, value, ctx = error.type, error.details["input"], error.details.get("ctx", {})
    if kind == "missing":
        return f"missing required key `{error.loc[-1]}`"
    if kind == "extra_forbidden":
        key = str(error.loc[-1])
        return f"unknown key `{key}`{_key_hint(key, error.loc[:-1])}"
    hint = written_hint(value) if isinstance(value, str) and kind in _PARSING else None
    if hint is not None:
        return hint
    if kind in _EXPECTED:
        quote = kind == "string_type" and isinstance(value, (bool, int, float))
        hint = "; put it in quotes if it is a name" if quote else ""
        if (
            kind == "list_type"
            and isinstance(value, Mapping)
            and any(str(key).startswith("-") for key in value)
        ):  # `-name: x` is a key `-name`, not a list item
            hint = "; a list item needs a space after its `-` (`- name: …`)"
        return f"must be {_EXPECTED[kind]}, not {describe(value)}{hint}"
    if kind in _BOUNDS:
        bound, words = _BOUNDS[kind]
        return f"must be {words} {show(ctx.get(bound))} (got {show(value)})"
    if kind in ("enum", "literal_error"):
        choices = str(ctx.get("expected", "")).replace("'", "")
        return f"must be one of {choices} (got {show(value)})"
    if kind in ("too_short", "string_too_short"):
        if isinstance(value, str):
            return "must not be empty"
        count = ctx.get("min_length", 1)
        return f"must have at least {count} {'entry' if count == 1 else 'entries'}"
    message = error.details["msg"]
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    return message.replace("Input should be", "must be")


_PARSING = ("float_parsing", "int_parsing", "float_type", "int_type")


def _key_hint(key: str, loc: Loc) -> str:
    """A full-width colon in a key (``limit： 5M``), or the key most like it."""
    if full_width_hint(key):
        return full_width_hint(key)
    if half_width(key) != key:
        return f"; full-width characters — write `{half_width(key)}`"
    return did_you_mean(key, _keys_at(loc))


def did_you_mean(name: str, known: Sequence[str], what: str = "keys here") -> str:
    close = difflib.get_close_matches(name, known, n=1)
    if close:
        return f" (did you mean `{close[0]}`?)"
    return f"; the {what} are " + ", ".join(f"`{k}`" for k in known) if known else ""


def _keys_at(loc: Loc) -> list[str]:
    """The keys the model at ``loc`` knows (``from``, not ``from_``); [] if none."""
    kind: Any = Scenario
    for part in loc:
        kind = next(filter(None, (_child(option, part) for option in _options(kind))), None)
    models = [m for m in _options(kind) if isinstance(m, type) and issubclass(m, BaseModel)]
    return [f.alias or name for name, f in models[0].model_fields.items()] if models else []


def _child(kind: Any, part: str | int) -> Any:
    if isinstance(kind, type) and issubclass(kind, BaseModel):
        fields = kind.model_fields
        return next((f.annotation for n, f in fields.items() if part in (n, f.alias)), None)
    if get_origin(kind) is list and isinstance(part, int):
        return get_args(kind)[0]
    if get_origin(kind) is dict and isinstance(part, str):
        return get_args(kind)[1]
    return None


def _options(kind: Any) -> list[Any]:
    """The types an annotation allows, Annotated and unions unwrapped."""
    if get_origin(kind) is Annotated:
        return _options(get_args(kind)[0])
    if get_origin(kind) in (Union, UnionType):
        return [option for arg in get_args(kind) for option in _options(arg)]
    return [kind]


def _is_list(value: object) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, str)
