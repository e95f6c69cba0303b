"""Figures of annual amounts, computed exactly from summaries that merge block by block.

Every figure of the spec follows from a series' count, mean, sum of squared
deviations, number of positive years, maximum and its largest ``ceil(0.1 × years) + 2``
values (the lowest quantile reported is the 0.9 of the 1-in-10 return period), so a
:class:`SeriesSummary` keeps exactly that. Moments merge with Chan's formula; a run
merges its blocks' moments in block order, so its figures do not depend on how its
blocks were scheduled. The kept values are a multiset, the same whatever order they
arrive in.

The kept values live in a :class:`~riskshare.stats.tails.Tail`, grouped by value so that
dropping the lowest never passes over the whole tail, and with a run of equal values
(zero, for a layer that pays in fewer than one year in ten, or an aggregate limit many
years reach) held as one value and a count. And a series that is a monotone function
of another, value by value (a consortium member's share of the consortium, a party's
cost that is its net plus a fixed premium), takes its tail from that series
(:meth:`SeriesSummary.derive_tail`) instead of keeping its own: rounding ``share × x``
or ``x + c`` never reverses an order, so the largest values of the one are the image of
the largest values of the other.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from riskshare.stats.tails import FloatArray, Tail

RETURN_PERIODS = (10, 50, 100, 200, 500, 1000)
#: The share of a series' largest years kept to read every reported return period: down
#: to the 1-in-10 year's (a sweep, which reports fewer figures, keeps less).
RETURN_PERIOD_TAIL_SHARE = 0.1
TVAR_SHARE = 0.01
#: Every quantile the figures read: var_99, var_995 and the return periods'.
REPORTED_QUANTILES = (0.99, 0.995, *(1 - 1 / t for t in RETURN_PERIODS))


def tail_size(years: int, share: float = RETURN_PERIOD_TAIL_SHARE) -> int:
    """How many of a series' largest values a run of ``years`` years must keep to read
    its quantiles down to ``1 - share`` (the 1-in-10 year's, by default)."""
    return min(years, math.ceil(share * years) + 2)


@dataclass(frozen=True)
class Derivation:
    """A tail taken from another series: each value ``x`` of it becomes ``x × scale``
    (``shift`` None) or ``x + shift``, rounded once, as the series' own values were."""

    source: SeriesSummary
    scale: float = 1.0
    shift: float | None = None

    def apply(self, values: FloatArray) -> FloatArray:
        if self.shift is not None:
            return values + self.shift
        return values * self.scale


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
    _tail: Tail | None = field(default=None, repr=False)
    _derived: Derivation | None = field(default=None, repr=False)

    @property
    def _kept(self) -> Tail:
        if self._tail is None:
            self._tail = Tail(self.keep)
        return self._tail

    # --- adding and merging -----------------------------------------------------------

    @classmethod
    def moments_of(cls, values: FloatArray) -> SeriesSummary:
        """A summary of ``values``' moments and counts only (no tail kept)."""
        summary = cls(0)
        summary.add(values, tail=False)
        return summary

    def add(self, annual: FloatArray, *, tail: bool = True, above: float | None = None) -> None:
        """Fold in the annual amounts of the next block of years.

        ``tail=False`` folds in the moments only: for a series whose tail is derived
        from another's (:meth:`derive_tail`). ``above`` keeps only the values above it
        for the tail: for a block's summary whose run already keeps that many larger
        values (then the block's own tail is not its own figures' any more).
        """
        n = len(annual)
        if n == 0:
            return
        mean = float(np.mean(annual))
        deviation = annual - mean
        # numpy's pairwise sum of squares, not BLAS's dot: the same bits on every
        # machine and thread count, and no BLAS threads to wake in a worker process
        np.square(deviation, out=deviation)
        other = SeriesSummary(
            self.keep,
            n=n,
            mean=mean,
            m2=float(deviation.sum()),
            positive=int(np.count_nonzero(annual > 0)),
            maximum=float(np.max(annual)),
        )
        if self.threshold is not None:
            over = np.subtract(annual, self.threshold, out=deviation)
            np.maximum(over, 0.0, out=over)
            other.over = int(np.count_nonzero(over))
            other.excess = float(np.sum(over))
        self.merge_moments(other)
        if tail and self._derived is None:
            if above is not None:
                self._kept.offer(annual[annual > above], copy=False)
            else:
                self._kept.offer(annual, copy=True)

    def merge(self, other: SeriesSummary) -> None:
        """Fold in the summary of the years that follow this one's."""
        if other.n == 0:
            return
        self.merge_moments(other)
        self.merge_tail(other)

    def merge_moments(self, other: SeriesSummary) -> None:
        """Fold in ``other``'s count, moments and counts (the years that follow this one's)."""
        if other.n == 0:
            return
        if self.n == 0:  # merging into nothing leaves the other's figures to the bit
            self.n, self.mean, self.m2 = other.n, other.mean, other.m2
            self.positive, self.maximum = other.positive, other.maximum
            self.over, self.excess = other.over, other.excess
            return
        n = self.n + other.n
        delta = other.mean - self.mean
        self.m2 = self.m2 + other.m2 + delta * delta * self.n * other.n / n
        self.mean = self.mean + delta * other.n / n
        self.n = n
        self.positive += other.positive
        self.maximum = max(self.maximum, other.maximum)
        self.over += other.over
        self.excess += other.excess

    def merge_tail(self, other: SeriesSummary, *, take: bool = False) -> None:
        """Fold in ``other``'s kept values; the order of merging does not matter.

        ``take`` hands ``other``'s arrays over instead of copying them (``other`` must
        not be used afterwards but to :meth:`forget_tail`).
        """
        if self._derived is not None or other._derived is not None or other._tail is None:
            return
        self._kept.merge(other._tail, take=take)

    def pack(self) -> None:
        """Hold the values equal to the lowest kept one as a count, to send this summary."""
        if self._tail is not None:
            self._tail.pack()

    def derive_tail(
        self, source: SeriesSummary, *, scale: float = 1.0, shift: float | None = None
    ) -> None:
        """Take the kept tail from ``source``, each value ``x`` as ``x × scale`` or ``x + shift``.

        Only for a series whose every value is that function of ``source``'s value of
        the same year, computed the same way; ``scale`` must be positive.
        """
        if not scale > 0 or (scale != 1.0 and shift is not None):
            raise ValueError("a derived tail takes a positive scale or a shift, not both")
        self._derived = Derivation(source, scale, shift)
        self._tail = None

    def forget_tail(self) -> None:
        """Drop the kept values (once they are merged elsewhere), keeping the moments."""
        self._tail = None

    def adopt_tail(self, other: SeriesSummary) -> None:
        """Take over ``other``'s kept tail as it stands (its own, merged from elsewhere)."""
        if self._derived is None:
            self._tail = other._tail

    @property
    def derived(self) -> Derivation | None:
        """Where the kept tail comes from, when it is another series' (:meth:`derive_tail`)."""
        return self._derived

    @property
    def floor(self) -> float | None:
        """A value that no newcomer at or below can displace from the kept tail."""
        return None if self._tail is None else self._tail.floor

    # --- the kept tail ----------------------------------------------------------------

    @property
    def tail_length(self) -> int:
        """How many values the kept tail holds (``min(n, keep)``)."""
        if self._derived is not None:
            return self._derived.source.tail_length
        return self._kept.length

    def _value_at(self, i: int) -> float:
        """The ``i``-th smallest kept value."""
        if self._derived is not None:
            value = self._derived.source._value_at(i)
            return float(self._derived.apply(np.array([value]))[0])
        return self._kept.value_at(i)

    def _top(self, count: int) -> FloatArray:
        """The ``count`` largest kept values, ascending."""
        if self._derived is not None:
            return self._derived.apply(self._derived.source._top(count))
        return self._kept.top(count)

    def arrange_for_figures(self) -> None:
        """Put in order, ahead, the kept values the figures read (see :meth:`figures`)."""
        if self._derived is not None:
            self._derived.source.arrange_for_figures()
            return
        positions = [p for q in REPORTED_QUANTILES for p in self._positions(q)]
        self._kept.arrange(positions, math.ceil(TVAR_SHARE * self.n))

    @property
    def tail(self) -> FloatArray:
        """The kept largest values, ascending."""
        return self._top(self.tail_length)

    def _positions(self, q: float) -> tuple[int, int]:
        """Where in the kept tail the two values that the quantile ``q`` reads are."""
        length = self.tail_length
        virtual = (self.n - 1) * q
        if virtual >= self.n - 1:
            return length - 1, length - 1
        below = math.floor(virtual) - (self.n - length)
        return below, below + 1

    def quantile(self, q: float) -> float:
        """numpy's default (linear) quantile of the whole series, from its largest values."""
        virtual = (self.n - 1) * q
        low, high = self._positions(q)
        if low < 0:
            raise ValueError(f"quantile {q} lies below the kept tail of the series")
        a, b = self._value_at(low), self._value_at(high)
        # at the top numpy takes index -1 on both sides and a weight of virtual - (-1): the
        # same arithmetic here gives the same bits (0.0 for -0.0 at the top of n > 1 years)
        top = virtual >= self.n - 1
        gamma = virtual + 1 if top else virtual - math.floor(virtual)
        diff = b - a
        if gamma >= 0.5:
            return float(b - diff * (1 - gamma))
        return float(a + diff * gamma)

    def tail_mean(self, share: float) -> float:
        """Mean of the highest ceil(share × years) amounts."""
        count = math.ceil(share * self.n)
        return float(np.mean(self._top(count)))

    # --- figures ----------------------------------------------------------------------

    def moment_figures(self) -> dict[str, float]:
        """The figures of this series that its moments and counts give."""
        std = math.sqrt(self.m2 / self.n) if self.n else 0.0
        return {
            "mean": self.mean,
            "std": std,
            "stderr": std / math.sqrt(self.n) if self.n else 0.0,
            "prob_positive": self.positive / self.n if self.n else 0.0,
        }

    def figures(self) -> dict[str, object]:
        """The spec's figures of this series."""
        self.arrange_for_figures()
        return {
            **self.moment_figures(),
            "var_99": self.quantile(0.99),
            "var_995": self.quantile(0.995),
            "tvar_99": self.tail_mean(TVAR_SHARE),
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
