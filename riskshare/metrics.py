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
#: Fewest kept values equal to the floor that are worth turning into a count.
TIES_WORTH_COUNTING = 64


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
    _derived: Derivation | None = field(default=None, repr=False)
    #: Offered values held before they are folded into the kept tail.
    pending_limit: int = field(default=0, repr=False)

    # --- adding and merging -----------------------------------------------------------

    def add(self, annual: FloatArray, *, tail: bool = True) -> None:
        """Fold in the annual amounts of the next block of years.

        ``tail=False`` folds in the moments only: for a series whose tail is derived
        from another's (:meth:`derive_tail`).
        """
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
        self.merge_moments(other)
        if tail and self._derived is None:
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
        n = self.n + other.n
        delta = other.mean - self.mean
        self.m2 = self.m2 + other.m2 + delta * delta * self.n * other.n / n
        self.mean = self.mean + delta * other.n / n
        self.n = n
        self.positive += other.positive
        self.maximum = max(self.maximum, other.maximum)
        self.over += other.over
        self.excess += other.excess

    def merge_tail(self, other: SeriesSummary) -> None:
        """Fold in ``other``'s kept values; the order of merging does not matter."""
        if self._derived is not None or other._derived is not None:
            return
        other._compact()
        self._offer(other._kept, copy=True)
        if other._ties and other._floor is not None:
            self._offer(np.full(other._ties, other._floor), copy=False)

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

    def candidates(self, floor: float | None) -> FloatArray:
        """The offered values above ``floor``, for a summary sent to be merged elsewhere."""
        self._compact()
        values = self._kept
        if self._ties and self._floor is not None:
            values = np.concatenate((np.full(self._ties, self._floor), values))
        if floor is not None:
            values = values[values > floor]
        return values

    def drop_tail_below(self, floor: float | None) -> None:
        """Forget the kept values at or below ``floor`` (another summary's floor).

        For a block's summary on its way to a run's merged one: values the run can no
        longer keep need not travel. The block's own figures are then no longer exact.
        """
        values = self.candidates(floor)
        self._kept, self._ties, self._floor, self._sorted = values, 0, None, False

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
        values = np.concatenate((self._kept, *self._pending))
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
        values.partition(cut)
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
        kept = self._sorted_kept()
        if i < self._ties:
            assert self._floor is not None
            return self._floor
        return float(kept[i - self._ties])

    def _top(self, count: int) -> FloatArray:
        """The ``count`` largest kept values, ascending."""
        if self._derived is not None:
            return self._derived.apply(self._derived.source._top(count))
        kept = self._sorted_kept()
        if count <= len(kept):
            return kept[len(kept) - count :]
        assert self._floor is not None
        return np.concatenate((np.full(count - len(kept), self._floor), kept))

    @property
    def tail(self) -> FloatArray:
        """The kept largest values, ascending."""
        return self._top(self.tail_length)

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
