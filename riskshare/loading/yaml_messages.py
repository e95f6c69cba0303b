"""PyYAML's complaints about a file's syntax, in words that name the cause and the fix.

PyYAML speaks of tokens (``expected <block end>, but found '?'``); a person editing a
scenario needs to hear that a key is indented differently from the keys above it. The
commonest complaints each have a sentence here; the rest keep PyYAML's words with its
token names spelt out. A full-width colon, comma or bracket on the lines at fault, as a
Chinese input method types them, is named, since it is the cause more often than not.

Nothing here imports ``yaml``: :mod:`riskshare.loading.yaml12` passes the texts and the lines.
"""

from __future__ import annotations

import re

# PyYAML's token names, in plain words.
_TOKENS = {
    "<stream end>": "the end of the file",
    "<block end>": "the end of the indented block",
    "<block mapping start>": "a new key",
    "<block sequence start>": "a list item",
    "<scalar>": "a value",
    "<alias>": "an alias (*)",
    "<anchor>": "an anchor (&)",
    "<tag>": "a tag (!)",
    "<document start>": "a new document (---)",
    "<document end>": "the end of the document (...)",
    "'?'": "a new key",
    "'-'": "a list item (-)",
    "':'": "`:`",
    "','": "`,`",
    "'{'": "`{`",
    "'}'": "`}`",
    "'['": "`[`",
    "']'": "`]`",
}

#: Full-width punctuation that YAML does not read as punctuation, and its ASCII twin.
FULL_WIDTH_PUNCTUATION = {
    "：": ("colon", ":"),
    "，": ("comma", ","),
    "｛": ("brace", "{"),
    "｝": ("brace", "}"),
    "［": ("bracket", "["),
    "］": ("bracket", "]"),
    "＃": ("hash", "#"),
    "＂": ("quote", '"'),
    "＇": ("quote", "'"),
}

_FOUND = re.compile(r"but (?:found|got) (.+)$")


def explain(problem: str, context: str, context_line: int | None, lines: str) -> tuple[str, bool]:
    """The complaint in plain words, and whether it is placed at the context's mark.

    ``problem`` and ``context`` are PyYAML's texts (``context`` such as ``while parsing a
    flow mapping``, begun on ``context_line``); ``lines`` are the lines at fault.
    """
    found_match = _FOUND.search(problem)
    found = found_match.group(1) if found_match else ""
    if len(found) > 1 and found[0] == found[-1] == "'":  # PyYAML quotes a token's name
        found = found[1:-1]
    since = f" on line {context_line}" if context_line is not None else ""
    message, at_context = _sentence(problem, context, found, since, lines)
    return message + full_width_hint(lines), at_context


def _sentence(problem: str, context: str, found: str, since: str, lines: str) -> tuple[str, bool]:
    if problem.startswith("found character '\\t'"):
        return "a tab where YAML needs spaces; indent with spaces, not tabs", False
    if problem.endswith("that cannot start any token"):
        character = problem.removeprefix("found character ").split(" ", 1)[0]
        return f"a value cannot start with {character}; put the value in quotes", False
    if problem.startswith("could not find expected ':'"):
        return "a key without its `:`; write `key: value`, with a space after the colon", True
    if problem.startswith("mapping values are not allowed"):
        return (
            "a second `: ` on the line; a value holding `: ` must be put in quotes "
            "(or, if this is a key, indent it as the keys above it)",
            False,
        )
    if problem.startswith("sequence entries are not allowed"):
        return "a list item (-) where a value is expected; start the list on a new line", False
    if problem.startswith("expected <block end>"):
        return _block_end(found, since, lines), False
    if problem.startswith(("expected ',' or '}'", "expected ',' or ']'")):
        return _flow_end(problem, found, since)
    if problem.startswith("expected the node content"):
        if found == "<stream end>":
            return "the file ends where a value is expected: close what is still open", False
        return f"a value is expected here, not {_words(repr(found))}", False
    if "scanning a quoted scalar" in context:
        return (
            "this quote is never closed; end the value with the same quote "
            "(to write ' inside '…', write it twice: '')",
            True,
        )
    if problem.startswith("found unknown escape character") or (
        "double-quoted scalar" in context and "escape" in problem
    ):
        return (
            'a backslash \\ in "…" starts an escape such as \\n; write \\\\ for a '
            "backslash, or put the value in '…' instead",
            False,
        )
    if problem.startswith("found undefined alias"):
        name = problem.removeprefix("found undefined alias ").strip("'")
        return (
            f"`*{name}` names no anchor `&{name}` above it; put the value in quotes if it "
            "is text that starts with *",
            False,
        )
    if context.startswith(("while scanning an alias", "while scanning an anchor")):
        return "a value starting with * or & must be put in quotes", True
    if problem.startswith("could not determine a constructor for the tag") or ("tag" in context):
        tag = problem.rsplit(" ", 1)[-1]
        return (
            f"{tag} is a YAML tag riskshare does not read; put the value in quotes if it is "
            "text that starts with !",
            False,
        )
    if context.startswith("expected a single document"):
        return (
            "a second document (after a `---` line): a scenario file holds one; "
            "remove the `---` line or split the file",
            False,
        )
    return _in_words(problem, context, since), False


def _block_end(found: str, since: str, lines: str) -> str:
    """``expected <block end>, but found X``: a line out of step with its block."""
    block = f"the block that starts{since}"
    last = lines.splitlines()[-1].lstrip() if lines else ""
    if found in ("?", "<block mapping start>"):
        if re.match(r"-[^\s-]", last):
            return "a list item needs a space after its `-` (`- name: …`)"
        return (
            f"this key is indented differently from the keys of {block}; "
            "keys of one mapping start in the same column"
        )
    if found in ("-", "<block sequence start>"):
        return (
            f"a list item (-) that does not line up with {block}; "
            "indent the list under the key it belongs to"
        )
    if found == "<scalar>":
        return (
            "more text after a complete value; put the whole value in quotes (in '…', "
            "write a ' as '')"
        )
    if found in ("}", "]"):
        opening = "{" if found == "}" else "["
        return f"a `{found}` that closes no `{opening}`; remove it"
    return f"this line does not line up with {block}; indent it as the lines of that block"


def _flow_end(problem: str, found: str, since: str) -> tuple[str, bool]:
    """``expected ',' or '}', but got X``: inside ``{…}`` or ``[…]``."""
    closing = "}" if "'}'" in problem else "]"
    opening = "{" if closing == "}" else "["
    if found == "<stream end>":
        return f"this `{opening}` is never closed; end it with `{closing}`", True
    if found in ("]", "}"):
        return f"the `{opening}`{since} is closed with `{found}`; close it with `{closing}`", False
    if found == ":":
        return (
            f"a `,` is missing between two entries of the `{opening}…{closing}`{since} "
            "(commas separate its entries)",
            False,
        )
    return (
        f"expected `,` or `{closing}` here, in the `{opening}…{closing}`{since}, but found "
        f"{_words(repr(found))}",
        False,
    )


def _in_words(problem: str, context: str, since: str) -> str:
    message = problem
    if problem.startswith("but ") or not problem:
        message = ", ".join(part for part in (context, problem) if part) or "cannot be read"
    elif context:
        message += f" ({context}{since})"
    return _words(message)


def _words(text: str) -> str:
    for token, words in _TOKENS.items():
        text = text.replace(f"'{token}'", words).replace(token, words)
    return text


def full_width_hint(text: str) -> str:
    """``; full-width colon '：' — use ':' (ASCII)`` for each kind in ``text``, or ""."""
    hints = dict.fromkeys(
        f"full-width {name} '{character}' — use '{ascii_twin}' (ASCII)"
        for character, (name, ascii_twin) in FULL_WIDTH_PUNCTUATION.items()
        if character in text
    )
    return "".join(f"; {hint}" for hint in hints)
