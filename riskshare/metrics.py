"""Figures of annual amounts, computed exactly from summaries that merge block by block.

Every figure of the spec follows from a series' count, mean, sum of squared
deviations, number of positive years, maximum and its largest ``ceil(0.1 × years) + 2``
values (the lowest quantile reported is the 0.9 of the 1-in-10 return period), so a
:class:`SeriesSummary` keeps exactly that. Summaries of consecutive blocks merge in
block order, which makes a run's figures independent of how its blocks were scheduled.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from riskshare.events import FloatArray

RETURN_PERIODS = (10, 50, 100, 200, 500, 1000)
TAIL_SHARE = 0.1


def tail_size(years: int) -> int:
    """How many of a series' largest values a run of ``years`` years must keep."""
    return min(years, math.ceil(TAIL_SHARE * years) + 2)


@dataclass
class SeriesSummary:
    """A mergeable summary of an annual series (years without events count as zero)."""

    keep: int
    threshold: float | None = None  # a budget: count and sum the years above it
    n: int = 0
    mean: float = 0.0
    m2: float = 0.0
    positive: int = 0
    maximum: float = -math.inf
    over: int = 0
    excess: float = 0.0
    _kept: FloatArray = field(default_factory=lambda: np.zeros(0), repr=False)
    _pending: list[FloatArray] = field(default_factory=list, repr=False)
    _pending_count: int = 0
    _floor: float | None = None  # no value at or below it can enter the kept tail
    _sorted: bool = True

    def add(self, annual: FloatArray) -> None:
        """Fold in the annual amounts of the next block of years."""
        n = len(annual)
        if n == 0:
            return
        mean = float(np.mean(annual))
        deviation = annual - mean
        other = SeriesSummary(
            self.keep,
            n=n,
            mean=mean,
            m2=float(np.dot(deviation, deviation)),
            positive=int(np.count_nonzero(annual > 0)),
            maximum=float(np.max(annual)),
        )
        if self.threshold is not None:
            above = np.subtract(annual, self.threshold, out=deviation)
            np.maximum(above, 0.0, out=above)
            other.over = int(np.count_nonzero(above))
            other.excess = float(np.sum(above))
        self._merge_moments(other)
        self._offer(annual)

    def merge(self, other: SeriesSummary) -> None:
        """Fold in the summary of the years that follow this one's."""
        if other.n == 0:
            return
        self._merge_moments(other)
        other._compact()
        self._offer(other._kept)

    def _merge_moments(self, other: SeriesSummary) -> None:
        n = self.n + other.n
        delta = other.mean - self.mean
        self.m2 = self.m2 + other.m2 + delta * delta * self.n * other.n / n
        self.mean = self.mean + delta * other.n / n
        self.n = n
        self.positive += other.positive
        self.maximum = max(self.maximum, other.maximum)
        self.over += other.over
        self.excess += other.excess

    def _offer(self, values: FloatArray) -> None:
        """Keep those of ``values`` that may belong to the largest ``keep`` of the series."""
        if self._floor is not None:
            values = values[values > self._floor]
        if len(values):
            self._pending.append(values.copy())
            self._pending_count += len(values)
            self._sorted = False
            if self._pending_count > self.keep:
                self._compact()

    def _compact(self) -> None:
        if not self._pending:
            return
        values = np.concatenate((self._kept, *self._pending))
        self._pending, self._pending_count = [], 0
        if len(values) > self.keep:
            cut = len(values) - self.keep
            values = np.partition(values, cut)[cut:]
            self._floor = float(values[0])
        self._kept = values

    @property
    def tail(self) -> FloatArray:
        """The kept largest values, ascending."""
        self._compact()
        if not self._sorted:
            self._kept.sort()
            self._sorted = True
        return self._kept

    def quantile(self, q: float) -> float:
        """numpy's default (linear) quantile of the whole series, from its largest values."""
        n, top = self.n, self.tail
        virtual = (n - 1) * q
        below = math.floor(virtual)
        offset = n - len(top)
        if below < offset:
            raise ValueError(f"quantile {q} lies below the kept tail of the series")
        if virtual >= n - 1:
            return float(top[-1])
        a = top[below - offset]
        b = top[below - offset + 1]
        gamma = virtual - below
        diff = b - a
        if gamma >= 0.5:
            return float(b - diff * (1 - gamma))
        return float(a + diff * gamma)

    def tail_mean(self, share: float) -> float:
        """Mean of the highest ceil(share × years) amounts."""
        count = math.ceil(share * self.n)
        return float(np.mean(self.tail[-count:]))

    def figures(self) -> dict[str, object]:
        """The spec's figures of this series."""
        std = math.sqrt(self.m2 / self.n) if self.n else 0.0
        return {
            "mean": self.mean,
            "std": std,
            "stderr": std / math.sqrt(self.n) if self.n else 0.0,
            "prob_positive": self.positive / self.n if self.n else 0.0,
            "var_99": self.quantile(0.99),
            "var_995": self.quantile(0.995),
            "tvar_99": self.tail_mean(0.01),
            "max": self.maximum,
            "return_periods": self.return_periods(),
        }

    def return_periods(self) -> dict[str, float]:
        """The amount at quantile 1 − 1/T for each return period T."""
        return {str(t): self.quantile(1 - 1 / t) for t in RETURN_PERIODS}

    def budget_figures(self) -> dict[str, float]:
        return {
            "prob_over_budget": self.over / self.n if self.n else 0.0,
            "expected_over_budget": self.excess / self.n if self.n else 0.0,
        }


def share_of(mean: float, total_mean: float) -> float | None:
    """``mean`` as a share of the total's mean (None where the total is zero)."""
    return mean / total_mean if total_mean != 0 else None
