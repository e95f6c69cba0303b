"""The events of a block in *rank-major* order, where sums within a year are vector steps.

A :class:`YearLayout` puts every year's first event first, then every year's second
event, and so on, with the years ordered by how many events they have. The events of
rank r then sit in one contiguous run, and the years that have an event of rank r are
the first ``m_r`` years of the run of rank r − 1: a running sum within each year is one
vector addition per rank, and the sum is taken event by event in time order, exactly as
the spec writes it (and as a year-by-year loop would round it), so a year's figures
never depend on the other years of its block. The few very long years of a year loss
table are worked as the rows of one padded matrix (the *long block*).

The allocation core (:mod:`riskshare.engine.allocation`) applies the layers in this
order; the annual series (:mod:`riskshare.engine.block`) are summed in it.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from riskshare.engine.events import FloatArray, IntArray

IndexArray = npt.NDArray[np.intp]


#: The first rank from which the events of the longest years may be set apart.
LONG_RANK = 32
#: Set apart once a padded block of them is at most this many times their number.
LONG_PADDING = 4


class YearLayout:
    """The events of consecutive years in rank-major order (see the module's docstring).

    ``years`` lists the years that have events, most events first (ties in year
    order); position ``p`` of the layout holds event ``perm[p]`` of the block. A year
    with more than ``ranked`` events keeps its events beyond that rank together, in
    time order, after all the ranks: the *long block*. Those years are worked as the
    rows of one padded matrix (a running sum along each row is one ``cumsum``, event
    by event in time order), so a year loss table with a few very long years costs a
    step per rank up to ``ranked``, not one per event. ``ranked`` is the first rank from
    :data:`LONG_RANK` at which the padded block is at most :data:`LONG_PADDING` times
    the events it holds (or the longest year's count, where none is).
    """

    def __init__(self, year: IntArray | None, n_years: int, counts: IntArray | None = None) -> None:
        """Lay out events whose years (non-decreasing) are ``year``, or that number ``counts``."""
        if counts is None:
            assert year is not None
            counts = np.bincount(year, minlength=n_years)
        self.n_years = n_years
        self.n = n = int(counts.sum())
        present = np.flatnonzero(counts)
        by_count = np.argsort(-counts[present], kind="stable")
        self.years: IndexArray = present[by_count]
        sorted_counts = counts[self.years]
        self.counts = sorted_counts
        first = np.cumsum(counts) - counts  # index of each year's first event
        year_first = first[self.years]
        most = int(sorted_counts[0]) if n else 0
        hist = np.bincount(sorted_counts, minlength=most + 1)
        reaching = len(self.years) - np.cumsum(hist)[:most]  # years with more than r events
        beyond = np.cumsum(reaching[::-1])[::-1]  # events of rank r or more
        ranked = most
        for r in range(LONG_RANK, most):
            if int(reaching[r]) * (most - r) <= LONG_PADDING * int(beyond[r]):
                ranked = r
                break
        self.ranked = ranked
        self.sizes: list[int] = [int(m) for m in reaching[:ranked]]
        self.offsets: list[int] = [0, *np.cumsum(self.sizes, dtype=np.intp).tolist()]
        #: (start, size) of the run of each rank: the events of rank r of the first size years
        self.runs = [(self.offsets[r], size) for r, size in enumerate(self.sizes)]
        perm = np.empty(n, dtype=np.intp)
        for r, (start, size) in enumerate(self.runs):
            np.add(year_first[:size], r, out=perm[start : start + size])
        # the long block: years 0 .. long - 1 (in ``years`` order), their events past
        # rank ``ranked``, row after row, from layout position ``long_start``
        self.long = long = int(reaching[ranked]) if ranked < most else 0
        self.long_start = start = self.offsets[-1]
        self.long_lengths = lengths = sorted_counts[:long] - ranked
        self.long_cells = np.arange(most - ranked)[None, :] < lengths[:, None]
        row_starts = np.concatenate(([0], np.cumsum(lengths)[:-1])) if long else lengths
        self.long_firsts = start + row_starts  # each row's first position
        within = np.arange(n - start) - np.repeat(row_starts, lengths)
        perm[start:] = np.repeat(year_first[:long] + ranked, lengths) + within
        self.perm = perm
        self._inverse: IndexArray | None = None
        self._last: IndexArray | None = None
        self._year_of: IndexArray | None = None

    @property
    def last(self) -> IndexArray:
        """The layout position of each year's last event."""
        if self._last is None:
            counts = np.minimum(self.counts, self.ranked)
            starts = np.asarray(self.offsets, dtype=np.intp)
            last = starts[np.maximum(counts - 1, 0)] + np.arange(len(self.years))
            last[: self.long] = self.long_firsts + self.long_lengths - 1
            self._last = last
        return self._last

    @property
    def year_of(self) -> IndexArray:
        """For each layout position, the position of its year in ``years``."""
        if self._year_of is None:
            year_of = np.empty(self.n, dtype=np.intp)
            for start, size in self.runs:
                year_of[start : start + size] = np.arange(size)
            year_of[self.long_start :] = np.repeat(np.arange(self.long), self.long_lengths)
            self._year_of = year_of
        return self._year_of

    # --- sums and shifts within each year ------------------------------------------

    def cumsum(self, values: FloatArray, out: FloatArray) -> FloatArray:
        """The running sum of ``values`` within each year, event by event in time order."""
        offsets, sizes = self.offsets, self.sizes
        if sizes:
            np.add(values[: sizes[0]], 0.0, out=out[: sizes[0]])
        for r in range(1, len(sizes)):
            start, size = offsets[r], sizes[r]
            previous = offsets[r - 1]
            np.add(
                out[previous : previous + size],
                values[start : start + size],
                out=out[start : start + size],
            )
        if self.long:
            # each long year's row: its sum at rank ``ranked - 1``, then its events
            rows = self._long_rows(values, out[offsets[-2] : offsets[-2] + self.long])
            np.cumsum(rows, axis=-1, out=rows)
            out[self.long_start :] = rows[..., 1:][..., self.long_cells]
        return out

    def previous(self, values: FloatArray, out: FloatArray) -> FloatArray:
        """``values`` of the year's previous event; zero at each year's first event."""
        offsets, sizes = self.offsets, self.sizes
        if sizes:
            out[: sizes[0]] = 0.0
        for r in range(1, len(sizes)):
            start, size = offsets[r], sizes[r]
            out[start : start + size] = values[offsets[r - 1] : offsets[r - 1] + size]
        if self.long:
            start = self.long_start
            out[start:] = values[start - 1 : -1]
            out[self.long_firsts] = values[offsets[-2] : offsets[-2] + self.long]
        return out

    def year_sums(self, values: FloatArray, out: FloatArray | None = None) -> FloatArray:
        """Each year's sum of ``values``, added event by event in time order (``years``
        order): of a vector, or of each row of a matrix."""
        shape = (*values.shape[:-1], len(self.years))
        if out is None:
            out = np.zeros(shape)
        else:
            out.fill(0.0)
        for start, size in self.runs:
            out[..., :size] += values[..., start : start + size]
        if self.long:
            rows = self._long_rows(values, out[..., : self.long])
            sums = np.cumsum(rows, axis=-1)
            out[..., : self.long] = sums[..., np.arange(self.long), self.long_lengths]
        return out

    def year_max(self, values: FloatArray) -> FloatArray:
        """Each year's largest value (``years`` order)."""
        out = np.array(values[: self.sizes[0]]) if self.sizes else np.zeros(0)
        for start, size in self.runs[1:]:
            np.maximum(out[:size], values[start : start + size], out=out[:size])
        if self.long:
            rows = np.full(self.long_cells.shape, -np.inf)
            rows[self.long_cells] = values[self.long_start :]
            np.maximum(out[: self.long], rows.max(axis=-1), out=out[: self.long])
        return out

    def _long_rows(self, values: FloatArray, first: FloatArray) -> FloatArray:
        """The long block as rows (padded with zeros), each led by ``first``'s value."""
        cells = self.long_cells
        rows = np.zeros((*values.shape[:-1], *cells.shape[:-1], cells.shape[-1] + 1))
        rows[..., 0] = first
        rows[..., 1:][..., cells] = values[..., self.long_start :]
        return rows

    def year_any(self, flags: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
        """Whether some event of each year has its flag set (``years`` order)."""
        out = np.zeros(len(self.years), dtype=bool)
        out[self.year_of[np.flatnonzero(flags)]] = True
        return out

    def to_years(self, per_year: FloatArray, out: FloatArray | None = None) -> FloatArray:
        """Values in ``years`` order spread over all the years (zero in years without
        events): a vector, or each row of a matrix."""
        if out is None:
            out = np.zeros((*per_year.shape[:-1], self.n_years))
        else:
            out.fill(0.0)
        if out.ndim == 1:
            out[self.years] = per_year
        else:  # row by row: numpy scatters along a last axis at half the speed
            for row, values in zip(out, per_year, strict=True):
                row[self.years] = values
        return out

    def to_events(self, values: FloatArray) -> FloatArray:
        """Values in layout order put back in the block's event order (along the last axis)."""
        if self._inverse is None:
            self._inverse = np.empty_like(self.perm)
            self._inverse[self.perm] = np.arange(self.n)
        # Gathering through the inverse permutation is faster than scattering through it.
        out: FloatArray = np.take(values, self._inverse, axis=-1)
        return out
