"""pydantic's validation errors in plain words, each at its key in the file
(riskshare/loading/messages.py), without reading a file."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from pydantic import ValidationError

from riskshare.loading.messages import did_you_mean, validation_problems
from riskshare.model.scenario import Scenario

BASE: dict[str, Any] = {
    "name": "m",
    "parties": {"firm": {"kind": "enterprise"}, "lead": {"kind": "insurer"}},
    "events": [{"name": "e", "frequency": {"poisson": 1}, "severity": {"fixed": "1M"}}],
    "layers": [{"name": "l", "party": "lead", "attachment": "1M"}],
}

Change = Callable[[dict[str, Any]], object]


def problems(change: Change) -> list[tuple[tuple[str | int, ...], str]]:
    data = copy.deepcopy(BASE)
    change(data)
    with pytest.raises(ValidationError) as caught:
        Scenario.model_validate(data)
    return [(p.loc, p.message) for p in validation_problems(caught.value, data)]


def layer(**keys: object) -> Change:
    return lambda data: data["layers"][0].update(keys)


CASES: list[tuple[str, Change, tuple[str | int, ...], str]] = [
    ("missing", lambda d: d.pop("layers"), ("layers",), "missing required key `layers`"),
    (
        "missing inside",
        lambda d: d["layers"][0].pop("party"),
        ("layers", 0, "party"),
        "missing required key `party`",
    ),
    (
        "text, not a number",
        lambda d: d.update(name=12),
        ("name",),
        "must be text, not the number 12; put it in quotes if it is a name",
    ),
    (
        "from, not from_",
        layer(**{"from": 3}),
        ("layers", 0, "from"),
        "must be text, not the number 3; put it in quotes if it is a name",
    ),
    ("a list", lambda d: d.update(layers={"a": 1}), ("layers",), "must be a list, not a mapping"),
    (
        "a number",
        lambda d: d["events"][0]["frequency"].update(poisson="abc"),
        ("events", 0, "frequency", "poisson"),
        "must be a number, not the text 'abc'",
    ),
    (
        "a finite number",
        lambda d: d["events"][0]["frequency"].update(poisson=float("inf")),
        ("events", 0, "frequency", "poisson"),
        "must be a finite number, not the number inf",
    ),
    ("a bound", layer(share="120%"), ("layers", 0, "share"), "must be at most 100% (got 120%)"),
    (
        "one of",
        lambda d: d["parties"]["firm"].update(kind="bank"),
        ("parties", "firm", "kind"),
        "must be one of enterprise, insurer, consortium, reinsurer or government (got 'bank')",
    ),
    ("no entries", lambda d: d.update(parties={}), ("parties",), "must have at least 1 entry"),
    ("empty text", lambda d: d.update(name=""), ("name",), "must not be empty"),
    (
        "the model's own words",
        lambda d: d["events"][0].update(frequency={"poisson": 1, "bernoulli": 0.5}),
        ("events", 0, "frequency"),
        "frequency takes exactly one of `poisson`, `bernoulli`, `binomial`, "
        "`negative_binomial`, `fixed`; found `poisson` and `bernoulli`",
    ),
    (
        "a value type's words",
        lambda d: d["parties"].update(x={"kind": "consortium", "members": {"a": "x%"}}),
        ("parties", "x", "members", "a"),
        "is not a share: 'x%'; write a percentage such as 80% or a fraction such as 0.8",
    ),
]


@pytest.mark.parametrize(
    ("change", "loc", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_each_kind_of_error_in_words(
    change: Change, loc: tuple[str | int, ...], message: str
) -> None:
    assert problems(change) == [(loc, message)]


def test_an_unknown_key_close_to_a_known_one() -> None:
    assert problems(layer(attachmnt=1)) == [
        (("layers", 0, "attachmnt"), "unknown key `attachmnt` (did you mean `attachment`?)")
    ]


def test_an_unknown_key_lists_the_keys_of_its_place() -> None:
    [(loc, message)] = problems(layer(zzz=1))
    assert loc == ("layers", 0, "zzz")
    assert message.startswith("unknown key `zzz`; the keys here are `name`, `party`, `from`, ")


# A layer's subsidy is one subsidy or a list of them: pydantic reports each member of
# the union; one message is kept.


def test_a_union_none_of_whose_shapes_fits_says_which_would() -> None:
    assert problems(layer(subsidy="x")) == [
        (("layers", 0, "subsidy"), "must be a mapping of keys or a list, not the text 'x'")
    ]


def test_a_union_keeps_the_errors_of_the_shape_given() -> None:
    assert problems(layer(subsidy=[{"party": "firm"}])) == [
        (("layers", 0, "subsidy", 0, "share"), "missing required key `share`")
    ]
    assert problems(layer(subsidy={"party": "firm", "share": "50%", "x": 1})) == [
        (("layers", 0, "subsidy", "x"), "unknown key `x`; the keys here are `party`, `share`")
    ]


def test_every_problem_is_found_once() -> None:
    def two(data: dict[str, Any]) -> None:
        data["layers"][0].update(share="120%")
        data.pop("name")

    assert problems(two) == [
        (("name",), "missing required key `name`"),
        (("layers", 0, "share"), "must be at most 100% (got 120%)"),
    ]


@pytest.mark.parametrize(
    ("name", "known", "what", "hint"),
    [
        ("attachmnt", ["attachment", "limit"], "keys here", " (did you mean `attachment`?)"),
        ("zzz", ["attachment", "limit"], "keys here", "; the keys here are `attachment`, `limit`"),
        ("zzz", ["firm"], "parties", "; the parties are `firm`"),
        ("zzz", [], "keys here", ""),
    ],
)
def test_did_you_mean(name: str, known: list[str], what: str, hint: str) -> None:
    assert did_you_mean(name, known, what) == hint
