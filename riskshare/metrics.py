"""Figures of annual amounts, computed exactly from summaries that merge block by block.

Every figure of the spec follows from a series' count, mean, sum of squared
deviations, number of positive years, maximum and its largest ``ceil(0.1 × years) + 2``
values (the lowest quantile reported is the 0.9 of the 1-in-10 return period), so a
:class:`SeriesSummary` keeps exactly that. Moments merge with Chan's formula; a run
merges its blocks' moments in block order, so its figures do not depend on how its
blocks were scheduled. The kept values are a multiset, the same whatever order they
arrive in.

Two things keep the tail small without losing a bit of it:

- the kept values equal to the lowest of them (the *floor*: zero, for a layer that pays
  in fewer than one year in ten, or an aggregate limit many years reach) are kept as a
  count, not one by one;
- a series that is a monotone function of another, value by value (a consortium
  member's share of the consortium, a party's cost that is its net plus a fixed
  premium), takes its tail from that series (:meth:`SeriesSummary.derive_tail`) instead
  of keeping its own: rounding ``share × x`` or ``x + c`` never reverses an order, so the
  largest values of the one are the image of the largest values of the other.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from riskshare.events import FloatArray

RETURN_PERIODS = (10, 50, 100, 200, 500, 1000)
TAIL_SHARE = 0.1
TVAR_SHARE = 0.01
#: Every quantile the figures read: var_99, var_995 and the return periods'.
REPORTED_QUANTILES = (0.99, 0.995, *(1 - 1 / t for t in RETURN_PERIODS))
#: Fewest kept values equal to the floor that are worth turning into a count.
TIES_WORTH_COUNTING = 64
#: Sort rather than partition where more than one value in this many repeats another.
SELECT_BY_SORTING = 4


def tail_size(years: int) -> int:
    """How many of a series' largest values a run of ``years`` years must keep."""
    return min(years, math.ceil(TAIL_SHARE * years) + 2)


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
    _kept: FloatArray = field(default_factory=lambda: np.zeros(0), repr=False)
    _ties: int = 0  # kept copies of the floor not stored in _kept
    _pending: list[FloatArray] = field(default_factory=list, repr=False)
    _pending_count: int = 0
    _floor: float | None = None  # no value at or below it can enter the kept tail
    _sorted: bool = True
    _sorted_from: float = math.inf  # _kept[_sorted_from:] is sorted, the rest below it
    _fixed: frozenset[int] = frozenset()  # indices of _kept known to hold their sorted value
    _derived: Derivation | None = field(default=None, repr=False)
    #: Offered values held before they are folded into the kept tail.
    pending_limit: int = field(default=0, repr=False)

    # --- adding and merging -----------------------------------------------------------

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
                self._offer(annual[annual > above], copy=False)
            else:
                self._offer(annual, copy=True)

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
        if self._derived is not None or other._derived is not None:
            return
        other._compact()
        self._offer(other._kept, copy=not take)
        floor = other._floor
        if other._ties and floor is not None and (self._floor is None or floor > self._floor):
            self._offer(np.full(other._ties, floor), copy=False)

    def pack(self) -> None:
        """Keep the values equal to the lowest kept one as a count, to send this summary.

        Only for a summary that takes no more values (a block's, on its way to a run):
        its floor then no longer means that lower values could not enter.
        """
        self._compact()
        kept = self._kept
        if self._ties or len(kept) < TIES_WORTH_COUNTING:
            return
        lowest = kept.min()
        at_lowest = (kept == lowest) & (np.signbit(kept) == np.signbit(lowest))
        count = int(np.count_nonzero(at_lowest))
        if count >= TIES_WORTH_COUNTING:
            self._kept, self._ties, self._floor = kept[~at_lowest], count, float(lowest)

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
        self._kept, self._ties, self._pending, self._pending_count = np.zeros(0), 0, [], 0

    def forget_tail(self) -> None:
        """Drop the kept values (once they are merged elsewhere), keeping the moments."""
        self._kept, self._ties, self._pending, self._pending_count = np.zeros(0), 0, [], 0
        self._floor, self._sorted = None, True

    @property
    def derived(self) -> Derivation | None:
        """Where the kept tail comes from, when it is another series' (:meth:`derive_tail`)."""
        return self._derived

    @property
    def floor(self) -> float | None:
        """A value that no newcomer at or below can displace from the kept tail."""
        return self._floor

    @property
    def nbytes(self) -> int:
        """Memory held by the kept and pending values."""
        return int(self._kept.nbytes) + sum(int(p.nbytes) for p in self._pending)

    # --- the kept tail ----------------------------------------------------------------

    def _offer(self, values: FloatArray, *, copy: bool) -> None:
        """Keep those of ``values`` that may belong to the largest ``keep`` of the series."""
        if self._floor is not None:
            values = values[values > self._floor]
        elif copy:
            values = values.copy()
        if len(values):
            self._pending.append(values)
            self._pending_count += len(values)
            self._sorted = False
            limit = self.pending_limit or self.keep
            if self._pending_count > limit:
                self._compact()

    def _compact(self) -> None:
        if not self._pending:
            return
        self._sorted_from, self._fixed = math.inf, frozenset()
        if len(self._kept) or len(self._pending) > 1:
            values = np.concatenate((self._kept, *self._pending))
        else:
            values = self._pending[0]  # an array this summary owns (see _offer)
        self._pending, self._pending_count = [], 0
        surplus = len(values) + self._ties - self.keep
        if surplus <= 0:
            self._kept = values
            return
        if surplus <= self._ties:
            self._ties -= surplus
            self._kept = values
            return
        cut = surplus - self._ties
        self._ties = 0
        lowest = values.min()
        at_lowest = values == lowest
        count = int(np.count_nonzero(at_lowest))
        if count >= cut:  # all that goes is the lowest value: no selection needed
            self._floor = float(lowest)
            self._ties = count - cut
            self._kept = values[~at_lowest]
            return
        if count >= TIES_WORTH_COUNTING:
            values = values[~at_lowest]
            cut -= count
        self._sorted = _select(values, cut)
        kept = values[cut:]
        floor = float(kept[0])
        self._floor = floor
        equal = kept == floor
        count = int(np.count_nonzero(equal))
        if count >= TIES_WORTH_COUNTING:
            equal &= np.signbit(kept) == (math.copysign(1.0, floor) < 0)
            count = int(np.count_nonzero(equal))
            self._ties = count
            kept = kept[~equal]
        elif cut > len(kept) // 4:
            kept = kept.copy()  # release the values cut off
        self._kept = kept

    def _sorted_kept(self) -> FloatArray:
        self._compact()
        if not self._sorted:
            self._kept.sort()
            self._sorted = True
        return self._kept

    def _in_place(self, index: int) -> bool:
        """Whether ``_kept[index]`` holds the value it would hold sorted."""
        return self._sorted or index >= self._sorted_from or index in self._fixed

    def _arrange(self, positions: list[int], top: int) -> None:
        """Put the tail's values at ``positions`` and its ``top`` largest in sorted place.

        A selection, cheaper than sorting the whole tail, for the few order
        statistics a run's figures read.
        """
        if self._derived is not None:
            self._derived.source._arrange(positions, top)
            return
        self._compact()
        kept = self._kept
        if self._sorted or not len(kept):
            return
        start = max(0, len(kept) - top)
        fixed = sorted({p - self._ties for p in positions if 0 <= p - self._ties < start})
        if start >= self._sorted_from and self._fixed.issuperset(fixed):
            return  # arranged already
        kept.partition([*fixed, start] if start < len(kept) else fixed)
        kept[start:].sort()
        self._sorted_from, self._fixed = start, frozenset(fixed)

    def arrange_for_figures(self) -> None:
        """Put in place the kept values the figures read (see :meth:`figures`)."""
        self._arrange(
            [p for q in REPORTED_QUANTILES for p in self._positions(q)],
            math.ceil(TVAR_SHARE * self.n),
        )

    def adopt_tail(self, other: SeriesSummary) -> None:
        """Take over ``other``'s kept tail as it stands (its own, merged from elsewhere)."""
        if self._derived is not None:
            return
        other._compact()
        self._kept, self._ties, self._floor = other._kept, other._ties, other._floor
        self._sorted, self._sorted_from, self._fixed = (
            other._sorted,
            other._sorted_from,
            other._fixed,
        )
        self._pending, self._pending_count = [], 0

    @property
    def tail_length(self) -> int:
        """How many values the kept tail holds (``min(n, keep)``)."""
        if self._derived is not None:
            return self._derived.source.tail_length
        self._compact()
        return len(self._kept) + self._ties

    def _value_at(self, i: int) -> float:
        """The ``i``-th smallest kept value."""
        if self._derived is not None:
            value = self._derived.source._value_at(i)
            return float(self._derived.apply(np.array([value]))[0])
        if i < self._ties:
            assert self._floor is not None
            return self._floor
        self._compact()
        kept = self._kept if self._in_place(i - self._ties) else self._sorted_kept()
        return float(kept[i - self._ties])

    def _top(self, count: int) -> FloatArray:
        """The ``count`` largest kept values, ascending."""
        if self._derived is not None:
            return self._derived.apply(self._derived.source._top(count))
        self._compact()
        kept = self._kept
        if count <= len(kept):
            if not self._in_place(len(kept) - count):
                kept = self._sorted_kept()
            return kept[len(kept) - count :]
        kept = self._sorted_kept()
        assert self._floor is not None
        return np.concatenate((np.full(count - len(kept), self._floor), kept))

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
        n = self.n
        length = self.tail_length
        virtual = (n - 1) * q
        below = math.floor(virtual)
        offset = n - length
        if below < offset:
            raise ValueError(f"quantile {q} lies below the kept tail of the series")
        if virtual >= n - 1:
            # numpy takes index -1 on both sides and a weight of virtual - (-1): the same
            # arithmetic here gives the same bits (0.0 for -0.0 at the top of n > 1 years).
            a = b = self._value_at(length - 1)
            gamma = virtual + 1
        else:
            a = self._value_at(below - offset)
            b = self._value_at(below - offset + 1)
            gamma = virtual - below
        diff = b - a
        if gamma >= 0.5:
            return float(b - diff * (1 - gamma))
        return float(a + diff * gamma)

    def tail_mean(self, share: float) -> float:
        """Mean of the highest ceil(share × years) amounts."""
        count = math.ceil(share * self.n)
        return float(np.mean(self._top(count)))

    # --- figures ----------------------------------------------------------------------

    def figures(self) -> dict[str, object]:
        """The spec's figures of this series."""
        self.arrange_for_figures()
        std = math.sqrt(self.m2 / self.n) if self.n else 0.0
        return {
            "mean": self.mean,
            "std": std,
            "stderr": std / math.sqrt(self.n) if self.n else 0.0,
            "prob_positive": self.positive / self.n if self.n else 0.0,
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


def _select(values: FloatArray, cut: int) -> bool:
    """Put the ``cut`` smallest of ``values`` first and the smallest of the rest at ``cut``.

    numpy's partition slows down tenfold and more where many values are equal (the
    zeros of a layer that seldom pays, an amount capped by a limit), and its sort is
    several times slower than partition on distinct values but fast on repeated ones:
    a sample of the values picks the one that suits. Returns whether ``values`` ended
    up sorted.
    """
    sample = np.sort(values[:: max(1, len(values) // 1024)])
    repeated = np.count_nonzero(sample[1:] == sample[:-1])
    if repeated * SELECT_BY_SORTING > len(sample):
        values.sort()
        return True
    values.partition(cut)
    return False


def share_of(mean: float, total_mean: float) -> float | None:
    """``mean`` as a share of the total's mean (None where the total is zero)."""
    return mean / total_mean if total_mean != 0 else None
