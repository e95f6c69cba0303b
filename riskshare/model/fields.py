"""The value types of the scenario format, each with its parser and JSON Schema.

``Amount`` (``5M``, ``3亿``), ``Limit`` (an amount or ``unlimited``), ``Share`` (``80%``),
``Rate`` (``40%`` or 0.4, may exceed 100%), ``Count`` (a whole number, ``1M`` allowed),
``Number`` (a plain number), and the frozen, unknown-key-refusing base model every part
of a scenario uses.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Annotated, ClassVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    WithJsonSchema,
    model_validator,
)
from pydantic_core import PydanticCustomError

from riskshare.model.amounts import (
    AMOUNT_PATTERN,
    MAX_AMOUNT,
    parse_amount,
    parse_share,
    written_hint,
)


def _parsed(kind: str, parse: Callable[[object], float]) -> Callable[[object], float]:
    """A validator that parses a value, its ``ValueError`` a pydantic error of ``kind``."""

    def validate(value: object) -> float:
        try:
            return parse(value)
        except ValueError as error:
            raise PydanticCustomError(kind, str(error)) from None

    return validate


_amount = _parsed("amount", parse_amount)
_limit = _parsed("amount", partial(parse_amount, allow_unlimited=True))
_share = _parsed("share", parse_share)
#: The validators of the amount types, by which a field is known to hold an amount.
AMOUNT_VALIDATORS = (_amount, _limit)


def _rate(value: object) -> float:
    """A rate or loading: a number (0.4) or a percentage (``40%``), which may exceed 100%."""
    if isinstance(value, str):
        text = value.strip()
        try:
            if not text.isascii():  # float() would read full-width digits
                raise ValueError
            return (float(text[:-1]) / 100 if text.endswith("%") else float(text)) + 0.0
        except ValueError:
            hint = written_hint(value)
            if hint is not None:
                raise PydanticCustomError("rate", "{hint}", {"hint": hint}) from None
            raise PydanticCustomError(
                "rate",
                "is not a rate: {value}; write a percentage such as 40% or a number such as 0.4",
                {"value": repr(value)},
            ) from None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise PydanticCustomError("rate", "must be a rate such as 40% or 0.4")
    try:
        return float(value) + 0.0  # -0.0 becomes 0.0
    except OverflowError:  # a whole number of more than 308 digits
        raise PydanticCustomError("rate", "is too large to be a rate") from None


def _count(value: object) -> int:
    """A whole number written as a number or an amount string (``1M`` years)."""
    if isinstance(value, bool):
        raise PydanticCustomError("count", "must be a whole number")
    try:
        number = parse_amount(value, bounded=False)
    except ValueError as error:
        raise PydanticCustomError("count", str(error)) from None
    if not number.is_integer():
        raise PydanticCustomError("count", "must be a whole number (got {value})", {"value": value})
    return int(number)


_AMOUNT_SCHEMA = {
    "anyOf": [
        {"type": "number", "minimum": 0, "maximum": MAX_AMOUNT},
        {
            "type": "string",
            "pattern": AMOUNT_PATTERN,
        },
    ],
    "description": "an amount: a number, or a number with a unit k, M, B/bn, 万 or 亿",
}
_LIMIT_SCHEMA = {
    "anyOf": [*_AMOUNT_SCHEMA["anyOf"], {"const": "unlimited"}],
    "description": "an amount, or unlimited",
}
_SHARE_SCHEMA = {
    "anyOf": [
        {"type": "number", "minimum": 0, "maximum": 1},
        {"type": "string", "pattern": r"^\s*[0-9]*\.?[0-9]+\s*%\s*$"},
    ],
    "description": "a share: 80% or 0.8",
}
_RATE_SCHEMA = {
    "anyOf": [{"type": "number"}, {"type": "string", "pattern": r"^\s*-?[0-9]*\.?[0-9]+\s*%\s*$"}],
    "description": "a rate: 40% or 0.4",
}
_COUNT_SCHEMA = {"anyOf": [{"type": "integer", "minimum": 0}, {"type": "string"}]}

Amount = Annotated[float, BeforeValidator(_amount), WithJsonSchema(_AMOUNT_SCHEMA)]
Limit = Annotated[float, BeforeValidator(_limit), WithJsonSchema(_LIMIT_SCHEMA)]
Share = Annotated[float, BeforeValidator(_share), WithJsonSchema(_SHARE_SCHEMA)]
Count = Annotated[int, BeforeValidator(_count), WithJsonSchema(_COUNT_SCHEMA)]
Rate = Annotated[float, BeforeValidator(_rate), WithJsonSchema(_RATE_SCHEMA)]
Probability = Share
#: A plain number (a frequency, a cv, an exponent), ``-0.0`` read as 0 as numpy needs.
Number = Annotated[float, AfterValidator(lambda number: number + 0.0)]
Name = Annotated[str, Field(min_length=1)]


class Model(BaseModel):
    """A part of a scenario: immutable, and unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=False)


class OneOf(Model):
    """A part written in exactly one of several forms, its fields: but for the ``besides``
    that go with any form (a severity's ``cap``, a premium's ``payer``). ``what`` names
    the part in the message that refuses none or two."""

    what: ClassVar[str]
    besides: ClassVar[tuple[str, ...]] = ()

    @model_validator(mode="after")
    def _one_form(self) -> OneOf:
        forms = [name for name in type(self).model_fields if name not in self.besides]
        given = [name for name in forms if getattr(self, name) is not None]
        if len(given) != 1:
            found = "none" if not given else " and ".join(f"`{name}`" for name in given)
            raise PydanticCustomError(
                "one_form",
                "{what} takes exactly one of {forms}; found {found}",
                {
                    "what": self.what,
                    "forms": ", ".join(f"`{name}`" for name in forms),
                    "found": found,
                },
            )
        return self

    @property
    def form(self) -> str:
        """The name of the form given."""
        return next(
            name
            for name in type(self).model_fields
            if name not in self.besides and getattr(self, name) is not None
        )
