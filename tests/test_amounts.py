"""Amounts with units, shares, and how amounts are shown."""

from __future__ import annotations

import math
import re

import pytest

from riskshare.model.amounts import (
    AMOUNT_PATTERN,
    format_amount,
    format_share,
    half_width,
    parse_amount,
    parse_share,
    unit_of,
    written_hint,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("800k", 800_000.0),
        ("800K", 800_000.0),
        ("5M", 5_000_000.0),
        ("5m", 5_000_000.0),
        ("1.2B", 1_200_000_000.0),
        ("1.2bn", 1_200_000_000.0),
        ("1.2BN", 1_200_000_000.0),
        ("500万", 5_000_000.0),
        ("3亿", 300_000_000.0),
        ("0.07亿", 7_000_000.0),
        ("1.15M", 1_150_000.0),
        ("1e9", 1e9),
        ("1.5e3k", 1_500_000.0),
        ("1_000_000", 1_000_000.0),
        (" 5 M ", 5_000_000.0),
        (".5k", 500.0),
        ("0", 0.0),
        (1e9, 1e9),
        (5, 5.0),
        (0, 0.0),
    ],
)
def test_amounts_with_units(text: object, expected: float) -> None:
    assert parse_amount(text) == expected


def test_two_decimal_amounts_are_exact_in_every_unit() -> None:
    units = {"k": 3, "M": 6, "B": 9, "万": 4, "亿": 8}
    for hundredths in range(1, 2000):
        for unit, exponent in units.items():
            text = f"{hundredths // 100}.{hundredths % 100:02d}{unit}"
            assert parse_amount(text) == float(f"{hundredths}e{exponent - 2}"), text


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("-5M", "must not be negative (got -5M)"),
        (-5, "must not be negative (got -5)"),
        (-2.5, "must not be negative (got -2.5)"),
        (math.nan, "must be an amount, not NaN"),
        (math.inf, "must be a finite amount"),
        ("unlimited", "must be a finite amount here; unlimited is not allowed"),
        (
            "5MM",
            "is not an amount: '5MM'; write a number with an optional unit, "
            "such as 800k, 5M, 1.2B, 500万 or 3亿",
        ),
        (
            "nan",
            "is not an amount: 'nan'; write a number with an optional unit, "
            "such as 800k, 5M, 1.2B, 500万 or 3亿",
        ),
        ("1e400", "is too large to be an amount: '1e400'"),
        (True, "must be an amount such as 5M or 3亿, not true"),
        (None, "must be an amount such as 5M or 3亿, not an empty value (null)"),
        ([1], "must be an amount such as 5M or 3亿, not a list"),
        ({"a": 1}, "must be an amount such as 5M or 3亿, not a mapping"),
    ],
)
def test_amounts_refused(value: object, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_amount(value)
    assert str(caught.value) == message


@pytest.mark.parametrize("value", ["unlimited", "Unlimited", " unlimited ", math.inf])
def test_unlimited_where_a_limit_is_allowed(value: object) -> None:
    assert parse_amount(value, allow_unlimited=True) == math.inf


def test_negative_infinity_is_not_unlimited() -> None:
    with pytest.raises(ValueError, match=r"^must be a finite amount \(write unlimited"):
        parse_amount(-math.inf, allow_unlimited=True)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("80%", 0.8),
        ("12.5%", 0.125),
        ("100%", 1.0),
        ("0%", 0.0),
        (" 80 % ", 0.8),
        (0.8, 0.8),
        ("0.8", 0.8),
        (1, 1.0),
        (0, 0.0),
    ],
)
def test_shares(value: object, expected: float) -> None:
    assert parse_share(value) == pytest.approx(expected, abs=0)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("120%", "must be at most 100% (got 120%)"),
        (80, "must be between 0 and 1 (or 0% and 100%), got 80; write 80% for a percentage"),
        (-0.1, "must be between 0 and 1 (or 0% and 100%), got -0.1"),
        (math.nan, "must be between 0 and 1 (or 0% and 100%), got nan"),
        (
            "-5%",
            "is not a share: '-5%'; write a percentage such as 80% or a fraction such as 0.8",
        ),
        ("abc", "is not a share: 'abc'; write a percentage such as 80% or a fraction such as 0.8"),
        (True, "must be a share such as 80% or 0.8, not true"),
        (None, "must be a share such as 80% or 0.8, not an empty value (null)"),
    ],
)
def test_shares_refused(value: object, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_share(value)
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("value", "unit", "text"),
    [
        (85.5e6, None, "85.5M"),
        (1.2e9, None, "1.2B"),
        (950e3, None, "950k"),
        (1234.5, None, "1.23k"),
        (123_456_789, None, "123M"),
        (-5e6, None, "-5M"),
        (12.345, None, "12.3"),
        (0.001234, None, "0.00123"),
        (0, None, "0"),
        (math.inf, None, "unlimited"),
        (math.nan, None, "–"),
        (5e8, "亿", "5亿"),
        (5e4, "万", "5万"),
        (1.5e6, "M", "1.5M"),
        (2.5e9, "B", "2.5B"),
        (999_499, None, "999k"),
        (999_500, None, "1M"),
        (999.6e6, None, "1B"),
        (0.855e8, "亿", "0.855亿"),
        (7, "亿", "<0.001亿"),
        (-7, "亿", "-<0.001亿"),
    ],
)
def test_format_amount(value: float, unit: str | None, text: str) -> None:
    assert format_amount(value, unit) == text


@pytest.mark.parametrize("text", ["800k", "5M", "1.2B", "500万", "3亿", "12.5M", "950k"])
def test_formatted_amounts_read_back(text: str) -> None:
    value = parse_amount(text)
    assert parse_amount(format_amount(value)) == pytest.approx(value, rel=5e-3)


@pytest.mark.parametrize(
    ("value", "text"), [(0.9, "90%"), (0.125, "12.5%"), (1 / 3, "33.33%"), (0, "0%"), (1, "100%")]
)
def test_format_share(value: float, text: str) -> None:
    assert format_share(value) == text


@pytest.mark.parametrize(
    "text",
    ["5M", "5m", "1.2B", "1.2bn", "5bN", "500万", "3亿", "1e9", "1_000_000", ".5M", " 5 M ",
     "1.2.3", "5MM", "abc", "-5", "", "5 M B", "1e", "万"],
)  # fmt: skip
def test_the_schema_accepts_the_amounts_the_parser_does(text: str) -> None:
    """Editors check amounts with the JSON Schema's pattern; it must agree with the parser."""
    try:
        parse_amount(text)
        parsed = True
    except ValueError:
        parsed = False
    assert bool(re.match(AMOUNT_PATTERN, text)) == parsed


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("５Ｍ", "full-width digits in '５Ｍ' — write 5M"),
        ("５００万", "full-width digits in '５００万' — write 500万"),
        ("5Ｍ", "full-width characters in '5Ｍ' — write 5M"),
        ("１", "full-width digits in '１' — write 1"),
        (
            "200,000,000",
            "write 200,000,000 as 200000000, 200_000_000 or 2亿 "
            "(commas separate entries: inside {…}, in a CSV row)",
        ),
        (
            "5,000,000",
            "write 5,000,000 as 5000000, 5_000_000 or 5M "
            "(commas separate entries: inside {…}, in a CSV row)",
        ),
        (
            "1,250,000.5",
            "write 1,250,000.5 as 1250000.5 or 1_250_000.5 "
            "(commas separate entries: inside {…}, in a CSV row)",
        ),
        (
            "5,000万",
            "write 5,000万 as 5000万 or 5_000万 "
            "(commas separate entries: inside {…}, in a CSV row)",
        ),
    ],
)
def test_amounts_written_as_a_person_might_are_explained(value: str, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_amount(value)
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("８０％", "full-width digits in '８０％' — write 80%"),
        ("80％", "full-width characters in '80％' — write 80%"),
        ("０.８", "full-width digits in '０.８' — write 0.8"),
    ],
)
def test_full_width_shares_are_refused_with_the_ascii_form(value: str, message: str) -> None:
    """float() reads full-width digits; a share must not, as no amount does."""
    with pytest.raises(ValueError) as caught:
        parse_share(value)
    assert str(caught.value) == message


def test_digits_of_other_scripts_are_not_read_as_a_share() -> None:
    with pytest.raises(ValueError, match="is not a share"):
        parse_share("٠.٨")  # Arabic-Indic digits, which float() would read as 0.8


@pytest.mark.parametrize(
    ("text", "half"),
    [("８０％", "80%"), ("ｌｉｍｉｔ：　5M", "limit: 5M"), ("５００万", "500万"), ("5M", "5M")],
)
def test_half_width(text: str, half: str) -> None:
    assert half_width(text) == half


@pytest.mark.parametrize("text", ["5M", "80%", "abc", "1,2", "12,34", "", "5 000"])
def test_no_hint_for_other_text(text: str) -> None:
    assert written_hint(text) is None


@pytest.mark.parametrize(
    ("value", "unit"),
    [("5M", "M"), ("500万", "万"), (" 1.2bn ", "bn"), ("500", ""), (500, ""), (0.5, ""),
     ("unlimited", None), ("5MM", None), (True, None), (None, None)],
)  # fmt: skip
def test_unit_of(value: object, unit: str | None) -> None:
    assert unit_of(value) == unit
