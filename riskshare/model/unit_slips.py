"""Amounts written without their unit, where the file's other amounts carry one.

``attachment: 500`` in a file of ``5M`` and ``500万`` most likely lost its unit. The
rule reads the amounts as written (the data of the file, not the model, where 500 and
500万 are both numbers) and finds them by the models' types, so that every key that
holds an amount is covered without a list of keys. Warnings only; a file without units
is taken as written.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, BeforeValidator

from riskshare.errors import Loc, Problem
from riskshare.model.amounts import parse_amount, show, unit_of
from riskshare.model.fields import AMOUNT_VALIDATORS
from riskshare.model.scenario import Scenario


def check_written(data: Mapping[str, Any]) -> list[Problem]:
    """Warnings about how a scenario file writes its amounts, in file order.

    An amount written without a unit (``attachment: 500``) in a file whose other
    amounts carry one (``5M``, ``500万``), and more than a thousand times smaller than
    the smallest of them, is most likely missing its unit: the warning names the file's
    commonest unit. Amounts below 1 (no whole unit of the currency: `500` meaning 500万
    is never one) and large plain numbers (``5000000``) are taken as written.
    """
    written: list[tuple[Loc, str, float, str]] = []
    for loc, value in _amounts(Scenario, [], data, ()):
        unit = unit_of(value)
        try:
            amount = parse_amount(value)
        except ValueError:
            continue
        if unit is not None:
            text = value.strip() if isinstance(value, str) else show(value)
            written.append((loc, text, amount, unit))
    with_unit = [(amount, unit) for _, _, amount, unit in written if unit and amount > 0]
    if not with_unit:
        return []
    smallest = min(amount for amount, _ in with_unit)
    unit = Counter(unit for _, unit in with_unit).most_common(1)[0][0]
    currency = data.get("currency")
    currency = currency if isinstance(currency, str) else "CNY"
    return [
        Problem(
            loc,
            f"{text} has no unit while other amounts do ({text}{unit}?): write {text}{unit} "
            f"if that is meant; {text} alone is {text} {currency}",
            "warning",
        )
        for loc, text, amount, written_unit in written
        if not written_unit and amount >= 1 and amount * 1000 < smallest
    ]


def _amounts(
    kind: Any, metadata: Sequence[object], value: object, loc: Loc
) -> Iterator[tuple[Loc, object]]:
    """Each amount of ``value`` (data read for the type ``kind``) with its key path."""
    if any(isinstance(m, BeforeValidator) and m.func in AMOUNT_VALIDATORS for m in metadata):
        yield loc, value
        return
    origin = get_origin(kind)
    if origin is Annotated:
        base, *more = get_args(kind)
        yield from _amounts(base, [*metadata, *more], value, loc)
    elif origin in (Union, UnionType):
        for option in get_args(kind):
            found = list(_amounts(option, [], value, loc))
            if found:
                yield from found
                return
    elif isinstance(kind, type) and issubclass(kind, BaseModel) and isinstance(value, Mapping):
        for name, field in kind.model_fields.items():
            key = field.alias or name
            if key in value:
                yield from _amounts(field.annotation, field.metadata, value[key], (*loc, key))
    elif origin is list and isinstance(value, list):
        for i, item in enumerate(value):
            yield from _amounts(get_args(kind)[0], [], item, (*loc, i))
    elif origin is dict and isinstance(value, Mapping):
        for key, item in value.items():
            yield from _amounts(get_args(kind)[1], [], item, (*loc, key))
