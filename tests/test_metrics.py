"""SeriesSummary against plain numpy on the whole series, fed in blocks of any size.

The quantiles are computed from the kept tail and must be bit-identical to
``np.quantile``'s default (linear) method; tvar, max and counts exact; mean and std
(merged block by block) equal to numpy's to 1e-12 relative.
"""

from __future__ import annotations

import math
import struct

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from riskshare.stats.summary import RETURN_PERIODS, SeriesSummary, share_of, tail_size

#: Every quantile a report shows: var_99, var_995 and the return periods' 1 − 1/T.
REPORTED = (0.99, 0.995, *(1 - 1 / t for t in RETURN_PERIODS))

VALUES = st.one_of(
    st.sampled_from((0.0, 0.0, 1.0, 5.0, 5.0, 100.0, -3.0, -0.0, 2.5e9)),
    st.floats(-1e9, 1e9, allow_nan=False, allow_infinity=False),
)


@st.composite
def series(draw: st.DrawFn) -> np.ndarray:
    n = draw(st.one_of(st.sampled_from((1, 2, 10, 1000)), st.integers(1, 400)))
    pool = draw(st.lists(VALUES, min_size=1, max_size=8))  # few distinct values: ties
    if draw(st.booleans()):
        values = draw(st.lists(st.sampled_from(pool), min_size=n, max_size=n))
    else:
        values = draw(st.lists(VALUES, min_size=n, max_size=n))
    return np.array(values, dtype=np.float64)


@st.composite
def cuts(draw: st.DrawFn, n: int) -> list[int]:
    """Block sizes adding up to ``n``."""
    sizes: list[int] = []
    left = n
    while left:
        size = draw(st.one_of(st.integers(1, left), st.just(left)))
        sizes.append(size)
        left -= size
    return sizes


def in_blocks(x: np.ndarray, sizes: list[int], budget: float | None = None) -> SeriesSummary:
    summary = SeriesSummary(tail_size(len(x)), budget)
    start = 0
    for size in sizes:
        summary.add(x[start : start + size])
        start += size
    return summary


def bits(value: float) -> bytes:
    """The value's bits, with −0.0 as 0.0: among tied zeros of both signs, which one
    np.partition puts first is numpy's business, and no report can tell them apart."""
    return struct.pack("<d", value + 0.0)


def close(got: float, want: float, scale: float, rtol: float = 1e-12) -> bool:
    return abs(got - want) <= rtol * max(abs(want), scale)


SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(st.data())
def test_quantiles_are_bit_identical_to_numpy(data: st.DataObject) -> None:
    x = data.draw(series())
    summary = in_blocks(x, data.draw(cuts(len(x))))
    for q in (*REPORTED, data.draw(st.floats(0.9, 1.0))):
        assert bits(summary.quantile(q)) == bits(float(np.quantile(x, q))), q


@SETTINGS
@given(st.data())
def test_figures_equal_numpy_on_the_whole_series(data: st.DataObject) -> None:
    x = data.draw(series())
    n = len(x)
    budget = data.draw(st.sampled_from((0.0, 5.0, 1e6)))
    summary = in_blocks(x, data.draw(cuts(n)), budget)
    figures = summary.figures()
    scale = float(np.max(np.abs(x)))
    assert close(float(figures["mean"]), float(np.mean(x)), scale)  # type: ignore[arg-type]
    assert close(float(figures["std"]), float(np.std(x)), scale)  # type: ignore[arg-type]
    assert close(float(figures["stderr"]), float(np.std(x)) / math.sqrt(n), scale)  # type: ignore[arg-type]
    assert figures["prob_positive"] == np.count_nonzero(x > 0) / n
    assert figures["max"] == np.max(x)
    # tvar_99: the mean of the highest ceil(0.01 × n) amounts
    highest = np.sort(x)[n - math.ceil(n / 100) :]
    assert figures["tvar_99"] == float(np.mean(highest))
    assert figures["return_periods"] == {
        str(t): float(np.quantile(x, 1 - 1 / t)) for t in RETURN_PERIODS
    }
    over = x - budget
    budget_figures = summary.budget_figures()
    assert budget_figures["prob_over_budget"] == np.count_nonzero(over > 0) / n
    assert close(budget_figures["expected_over_budget"], float(np.mean(np.maximum(over, 0))), scale)


@SETTINGS
@given(st.data())
def test_merging_in_any_grouping_or_order_gives_the_same_figures(data: st.DataObject) -> None:
    x = data.draw(series())
    sizes = data.draw(cuts(len(x)))
    keep = tail_size(len(x))
    parts: list[SeriesSummary] = []
    start = 0
    for size in sizes:
        part = SeriesSummary(keep)
        part.add(x[start : start + size])
        parts.append(part)
        start += size
    order = data.draw(st.permutations(range(len(parts))))
    merged = SeriesSummary(keep)
    for i in order:
        merged.merge(parts[i])
    sequential = in_blocks(x, sizes)
    scale = float(np.max(np.abs(x)))
    assert merged.n == sequential.n == len(x)
    for q in REPORTED:
        assert bits(merged.quantile(q)) == bits(sequential.quantile(q))
    assert merged.tail_mean(0.01) == sequential.tail_mean(0.01)
    assert merged.maximum == sequential.maximum
    assert merged.positive == sequential.positive
    assert close(merged.mean, sequential.mean, scale)
    assert close(math.sqrt(merged.m2 / merged.n), math.sqrt(sequential.m2 / sequential.n), scale)


@pytest.mark.parametrize("n", [*range(1, 60), 99, 100, 101, 999, 1000, 1001, 99_999, 100_000])
def test_the_kept_tail_reaches_every_reported_quantile(n: int) -> None:
    x = np.arange(n, dtype=np.float64)[::-1].copy()  # largest first: the worst order to keep
    summary = in_blocks(x, [max(1, n // 3), n - max(1, n // 3)] if n > 1 else [1])
    for q in REPORTED:
        assert summary.quantile(q) == np.quantile(x, q)


def test_a_quantile_below_the_kept_tail_is_refused() -> None:
    summary = in_blocks(np.arange(1000.0), [1000])
    with pytest.raises(ValueError, match="below the kept tail"):
        summary.quantile(0.5)


@pytest.mark.parametrize(
    ("x", "var_99", "tvar_99"),
    [
        # n = 1: every quantile is the one value
        pytest.param([7.0], 7.0, 7.0, id="one_year"),
        # n = 2: virtual index (2 − 1) × 0.99 = 0.99 → 0 + 0.99 × (10 − 0) = 9.9
        pytest.param([0.0, 10.0], 9.9, 10.0, id="two_years"),
        # n = 200, values 1..200: index 199 × 0.99 = 197.01 → 198 + 0.01 × 1 = 198.01;
        # ceil(0.01 × 200) = 2 highest: (199 + 200) / 2 = 199.5
        pytest.param(list(range(1, 201)), 198.01, 199.5, id="two_hundred_years"),
    ],
)
def test_figures_by_hand(x: list[float], var_99: float, tvar_99: float) -> None:
    figures = in_blocks(np.array(x, dtype=np.float64), [len(x)]).figures()
    assert figures["var_99"] == pytest.approx(var_99, rel=1e-12)
    assert figures["tvar_99"] == pytest.approx(tvar_99, rel=1e-12)


def test_share_of_a_zero_total_is_none() -> None:
    assert share_of(1.0, 0.0) is None
    assert share_of(1.0, 4.0) == 0.25
