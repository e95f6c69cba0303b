"""Amounts with units (``5M``, ``1.2B``, ``3亿``, ``500万``) and shares (``80%``).

Parsing raises :class:`ValueError` with a message written for the person who typed
the value; the scenario models turn it into a located validation error.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from decimal import Context, Decimal

UNLIMITED = "unlimited"

#: The largest amount a scenario, an events file or ``explain --loss`` may hold:
#: 10^15 (1000万亿). Amounts whose size is at most 10^-12 of an event's loss count
#: as zero (rounding residue), so below this bound the residue of any loss is under
#: 1,000 of the currency, and a layer's payout is never wiped as dust.
MAX_AMOUNT = 1e15
#: The bound as messages write it.
MAX_AMOUNT_TEXT = "1e15 (1000万亿)"

_MULTIPLIERS: dict[str, float] = {
    "": 1.0,
    "k": 1e3,
    "m": 1e6,
    "b": 1e9,
    "bn": 1e9,
    "万": 1e4,
    "亿": 1e8,
}

_EXPONENTS: dict[str, int] = {unit: round(math.log10(m)) for unit, m in _MULTIPLIERS.items()}
_WIDE = Context(prec=40, traps=[])  # exact enough; too large becomes Infinity, not an error

_NUMBER = r"[0-9][0-9_]*(?:\.[0-9_]*)?(?:[eE][-+]?[0-9]+)?|\.[0-9]+(?:[eE][-+]?[0-9]+)?"
_UNIT = r"[kKmMbB]|[bB][nN]|万|亿"
_AMOUNT = re.compile(rf"^\s*(?P<number>{_NUMBER})\s*(?P<unit>{_UNIT})?\s*$")
#: The same, as the JSON Schema's pattern for an amount written as a string.
AMOUNT_PATTERN = rf"^\s*(?:{_NUMBER})\s*(?:{_UNIT})?\s*$"

_SHARE = re.compile(r"^\s*(?P<number>[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*%\s*$")
_GROUPED = re.compile(
    rf"^\s*(?P<digits>[0-9]{{1,3}}(?:,[0-9]{{3}})+)(?P<fraction>\.[0-9]+)?\s*(?P<unit>{_UNIT})?\s*$"
)
#: Full-width forms of ASCII (U+FF01–U+FF5E) and the ideographic space, to ASCII.
_HALF_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}
_UNIT_FORMS = (("M", 6), ("亿", 8), ("万", 4), ("B", 9), ("k", 3))


def parse_amount(value: object, *, allow_unlimited: bool = False, bounded: bool = True) -> float:
    """Return the amount ``value`` stands for, as a float.

    Numbers are taken as they are; strings may carry a unit: ``k`` (10^3), ``M``/``m``
    (10^6), ``B``/``bn`` (10^9), ``万`` (10^4), ``亿`` (10^8). ``unlimited`` is infinity
    where ``allow_unlimited`` is set. Negative, NaN and infinite amounts are refused, and
    so are finite amounts above :data:`MAX_AMOUNT` unless ``bounded`` is False (a
    count, such as a number of years, is not a sum of money). ``-0.0`` is read as 0.
    """
    number = _parse_number(value, allow_unlimited)
    if bounded and math.isfinite(number) and number > MAX_AMOUNT:
        raise ValueError(
            f"must be at most {MAX_AMOUNT_TEXT}, the largest amount riskshare takes "
            f"(got {show(value)}): beyond it, rounding could hide a real payout"
        )
    return number + 0.0  # -0.0 becomes 0.0, which numpy takes as a bound or a scale


def _parse_number(value: object, allow_unlimited: bool) -> float:
    if isinstance(value, bool):
        raise ValueError(f"must be an amount such as 5M or 3亿, not {str(value).lower()}")
    if isinstance(value, (int, float)):
        try:
            number = float(value)
        except OverflowError:  # a whole number of more than 308 digits
            raise ValueError("is too large to be an amount") from None
        if math.isnan(number):
            raise ValueError("must be an amount, not NaN")
        if math.isinf(number):
            if allow_unlimited and number > 0:
                return math.inf
            hint = " (write unlimited for no limit)" if allow_unlimited else ""
            raise ValueError(f"must be a finite amount{hint}")
        if number < 0:
            raise ValueError(f"must not be negative (got {show(value)})")
        return number
    if isinstance(value, str):
        text = value.strip()
        if text.lower() == UNLIMITED:
            if allow_unlimited:
                return math.inf
            raise ValueError("must be a finite amount here; unlimited is not allowed")
        if text.startswith("-"):
            raise ValueError(f"must not be negative (got {text})")
        match = _AMOUNT.match(text)
        if match is None:
            raise ValueError(
                written_hint(value)
                or f"is not an amount: {value!r}; write a number with an optional unit, "
                "such as 800k, 5M, 1.2B, 500万 or 3亿"
            )
        unit = (match["unit"] or "").lower()
        # Scale in decimal, so that 0.07亿 is 7000000 and not 7000000.000000001.
        scaled = Decimal(match["number"].replace("_", "")).scaleb(_EXPONENTS[unit], _WIDE)
        result = float(scaled)
        if math.isinf(result):
            raise ValueError(f"is too large to be an amount: {value!r}")
        return result
    raise ValueError(f"must be an amount such as 5M or 3亿, not {describe(value)}")


def parse_share(value: object) -> float:
    """Return the fraction a share stands for: ``80%`` or ``0.8`` give 0.8.

    A share lies between 0 and 100% inclusive; a bare number above 1 is refused rather
    than guessed at, since ``80`` is more likely a forgotten ``%`` than 8000%.
    """
    if isinstance(value, bool):
        raise ValueError(f"must be a share such as 80% or 0.8, not {str(value).lower()}")
    if isinstance(value, (int, float)):
        try:
            number = float(value)
        except OverflowError:  # a whole number of more than 308 digits
            number = math.inf
        if math.isnan(number) or number < 0 or number > 1:
            hint = f"; write {show(value)}% for a percentage" if 1 < number <= 100 else ""
            raise ValueError(f"must be between 0 and 1 (or 0% and 100%), got {show(value)}{hint}")
        return number + 0.0  # -0.0 becomes 0.0
    if isinstance(value, str):
        match = _SHARE.match(value)
        if match is None:
            try:
                if not value.isascii():  # float() would read full-width digits
                    raise ValueError
                number = float(value.strip())
            except ValueError:
                raise ValueError(
                    written_hint(value)
                    or f"is not a share: {value!r}; write a percentage such as 80% or a "
                    "fraction such as 0.8"
                ) from None
            return parse_share(number)
        percent = float(match["number"])
        if percent > 100:
            raise ValueError(f"must be at most 100% (got {value.strip()})")
        return percent / 100.0
    raise ValueError(f"must be a share such as 80% or 0.8, not {describe(value)}")


def written_hint(text: str) -> str | None:
    """What is wrong with a number written in full-width characters or with thousands
    separators, and how to write it; None for any other text.

    Full-width digits (``８０％``, as a Chinese input method types them) are refused
    everywhere a number is read, rather than read silently in some places and not in
    others; the message shows the number in ASCII.
    """
    half = half_width(text).strip()
    if half != text.strip():
        kind = "digits" if any("０" <= c <= "９" for c in text) else "characters"
        return f"full-width {kind} in {text!r} — write {half}"
    grouped = _GROUPED.match(text)
    if grouped is None:
        return None
    digits, fraction, unit = grouped["digits"], grouped["fraction"] or "", grouped["unit"] or ""
    forms = [
        f"{digits.replace(',', '')}{fraction}{unit}",
        f"{digits.replace(',', '_')}{fraction}{unit}",
    ]
    short = _with_unit(Decimal(forms[0])) if not unit else forms[0]
    if len(short) < len(forms[0]):  # 2亿, not 1.2500005M
        forms.append(short)
    written = ", ".join(forms[:-1]) + f" or {forms[-1]}"
    return (
        f"write {text.strip()} as {written} (commas separate entries: inside {{…}}, in a CSV row)"
    )


def half_width(text: str) -> str:
    """``text`` with full-width ASCII forms (``８０％``, ``：``) as their ASCII twins."""
    return text.translate(_HALF_WIDTH)


def _with_unit(number: Decimal) -> str:
    """The shortest exact way to write ``number`` with a unit: 200000000 → ``2亿``."""
    forms = []
    for unit, exponent in _UNIT_FORMS:
        scaled = number.scaleb(-exponent)
        if scaled >= 1:
            forms.append(f"{scaled.normalize():f}{unit}")
    return min(forms, key=len, default=f"{number.normalize():f}")


def unit_of(value: object) -> str | None:
    """The unit an amount is written with (``M`` for ``5M``), ``""`` for none (``500``),
    None for what is not an amount or is ``unlimited``."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return ""
    if isinstance(value, str):
        match = _AMOUNT.match(value)
        return (match["unit"] or "") if match is not None else None
    return None


def describe(value: object) -> str:
    """A value as a message names it: ``the number 5``, ``a list``, ``an empty value (null)``."""
    if value is None:
        return "an empty value (null)"
    if isinstance(value, bool):
        return f"the boolean {show(value)}"
    if isinstance(value, (int, float)):
        return f"the number {show(value)}"
    if isinstance(value, str):
        return f"the text {value!r}"
    if isinstance(value, Mapping):
        return "a mapping"
    return "a list" if isinstance(value, Sequence) else "a value"


def show(value: object) -> str:
    """A value as a message quotes it: ``true``, ``5`` (not ``5.0``), ``'5MM'``, and a
    number beyond 10^16 in powers of ten (``1e21``, not 22 digits)."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int) and abs(value) >= 10**16:
        if abs(value) >= 10**300:
            return f"a number of about {int(value.bit_length() * math.log10(2)) + 1} digits"
        return f"{value:.15g}".replace("e+", "e")
    if isinstance(value, float) and math.isfinite(value) and abs(value) >= 1e16:
        return f"{value:.15g}".replace("e+", "e")
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return str(int(value))
    return repr(value) if isinstance(value, str) else str(value)


_UNIT_STEPS: tuple[tuple[float, str], ...] = ((1e9, "B"), (1e6, "M"), (1e3, "k"))
UNIT_CHOICES: dict[str, float] = {"M": 1e6, "B": 1e9, "万": 1e4, "亿": 1e8}


def format_amount(value: float, unit: str | None = None) -> str:
    """Render an amount for a table: ``85.5M``, ``1.2B``, ``950k``, ``0``.

    With ``unit`` (one of ``M``, ``B``, ``万``, ``亿``) every amount is shown in that unit.
    Three significant figures are kept at least, so nearby figures stay distinguishable.
    """
    if math.isnan(value):
        return "–"
    if math.isinf(value):
        return UNLIMITED
    if unit is not None:
        scaled = value / UNIT_CHOICES[unit]
        if 0 < abs(scaled) < 0.001:
            return f"{'-' if scaled < 0 else ''}<0.001{unit}"
        return f"{_significant(scaled)}{unit}"
    magnitude = abs(value)
    for step, suffix in _UNIT_STEPS:
        # From 999.5 of the unit below on, the amount reads as 1 of this unit, not 1,000.
        if magnitude >= step * 0.9995:
            return f"{_significant(value / step)}{suffix}"
    if magnitude == 0:
        return "0"
    return _significant(value)


def _significant(number: float) -> str:
    """At least three significant figures, thousands separated: 1,234 · 85.5 · 0.855."""
    magnitude = abs(number)
    if magnitude == 0:
        return "0"
    if magnitude >= 100:
        text = f"{number:,.0f}"
    elif magnitude >= 10:
        text = f"{number:.1f}"
    else:
        text = f"{number:.3g}"
    if "." in text and "e" not in text:
        text = text.rstrip("0").rstrip(".")
    return text


def format_share(value: float) -> str:
    """Render a fraction as a percentage: 0.9 → ``90%``, 0.125 → ``12.5%``."""
    percent = value * 100
    text = f"{percent:.2f}".rstrip("0").rstrip(".")
    return f"{text}%"
