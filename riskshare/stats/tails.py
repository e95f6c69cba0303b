"""The largest values of a series, exactly, in groups ordered by value.

A :class:`Tail` keeps the ``keep`` largest of the values offered to it, as a multiset:
the same values whatever order they arrive in. Offered values first wait as they came (a
block's tail never needs more); once more than ``keep`` have been offered, they are
sorted into *groups* by the top 12, 14 or 16 bits of an order-preserving key of their
float64 bits (:func:`key_bits`: sign, exponent and up to four bits of mantissa, so a
group spans a factor of 2 down to about 1.04), each group with its exact count. Dropping
the lowest values is then deleting the lowest groups and selecting within one: never a
pass over the whole tail, nor a copy of it. The lowest group may hold a few values too
many while values arrive (at most an eighth of it); they are dropped before the tail is
read. A group whose values are all the same (the zeros of a layer that seldom pays, an
amount capped by a limit) holds them as one value and a count. A first offer many times
the tail's size (a block's values, before the run knows a floor) is counted group by
group, and only the top groups that hold the ``keep`` largest are sorted into the tail.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
GroupKeys = npt.NDArray[np.uint16]
#: Fewest equal values worth holding as a value and a count.
RUN_WORTH_COUNTING = 64
#: Fewest values arriving in a group worth checking for being all the same.
RUN_WORTH_CHECKING = 1024
#: Sort rather than partition where more than one value in this many repeats another.
SELECT_BY_SORTING = 4
#: Arrays a group collects before it joins them into one.
MOST_PIECES = 32
#: The lowest group drops its surplus once it is this share of the group (or a run).
SURPLUS_SHARE = 8
#: Offered values wait to be grouped until they are this share of the tail.
WAITING_SHARE = 64
#: A first offer this many times the tail's size is cut to its top groups at once.
PRESELECT = 4
_SIGN = np.uint64(1 << 63)


def key_bits(keep: int) -> int:
    """How many top bits of a value name its group, for a tail of ``keep`` values.

    Finer groups make a smaller lowest group to select in, coarser ones fewer groups
    to visit as values arrive: 12 bits is a group per binade (a factor of 2), 16 bits
    sixteen of them.
    """
    if keep <= 200_000:
        return 12
    if keep <= 2_000_000:
        return 14
    return 16


def _ordered(values: FloatArray) -> npt.NDArray[np.uint64]:
    """Each value's float64 bits, turned so that they sort as the values do: the sign bit
    set on a value that is not negative, every bit flipped on one that is."""
    raw = np.ascontiguousarray(values).view(np.uint64)
    flip = np.right_shift(raw.view(np.int64), 63).view(np.uint64)  # all ones where negative
    flip |= _SIGN
    ordered: npt.NDArray[np.uint64] = np.bitwise_xor(raw, flip, out=flip)
    return ordered


def _from_ordered(ordered: npt.NDArray[np.uint64]) -> FloatArray:
    flip = np.invert(np.right_shift(ordered.view(np.int64), 63)).view(np.uint64)
    flip |= _SIGN
    values: FloatArray = np.bitwise_xor(ordered, flip, out=flip).view(np.float64)
    return values


def group_keys(values: FloatArray, bits: int) -> GroupKeys:
    """Each value's group: a larger value never has a smaller key."""
    keys: GroupKeys = (_ordered(values) >> np.uint64(64 - bits)).astype(np.uint16)
    return keys


Packed = tuple[npt.NDArray[np.uint32], npt.NDArray[np.uint16]]
_LOW = np.uint64(0xFFFF_FFFF)


def _pack(values: FloatArray) -> Packed:
    """The 48 bits that vary within a group of 16-bit key: 6 bytes a value, not 8."""
    ordered = _ordered(values)
    return (ordered & _LOW).astype(np.uint32), (
        (ordered >> np.uint64(32)) & np.uint64(0xFFFF)
    ).astype(np.uint16)


def _unpack(packed: Packed, key: int) -> FloatArray:
    low, high = packed
    ordered = (np.uint64(key) << np.uint64(48)) | (high.astype(np.uint64) << np.uint64(32))
    return _from_ordered(ordered | low.astype(np.uint64))


def _bits(value: float) -> int:
    return int(np.array([value]).view(np.uint64)[0])


def _all_same(values: FloatArray) -> bool:
    """Whether every one of ``values`` has exactly the bits of the first."""
    bits = np.ascontiguousarray(values).view(np.uint64)
    return bool(np.all(bits == bits[0]))


class _Group:
    """The values of one group: a run of one repeated value, and arrays of others.

    In a tail of 16-bit keys, the arrays a group has joined are held *packed*: the 48
    bits below the key, 6 bytes a value instead of 8.
    """

    __slots__ = ("count", "key", "packed", "packing", "pieces", "run_count", "run_value", "sorted")

    def __init__(self, key: int, packing: bool) -> None:
        self.key, self.packing = key, packing
        self.pieces: list[FloatArray] = []  # arrays this group owns
        self.packed: list[Packed] = []
        self.run_value = 0.0
        self.run_count = 0
        self.count = 0
        self.sorted = False  # pieces is one sorted array and there is nothing else

    def add(self, values: FloatArray) -> None:
        if len(values) >= RUN_WORTH_CHECKING and _all_same(values):
            self.add_run(float(values[0]), len(values))
        else:
            self._append(values)

    def _append(self, values: FloatArray) -> None:
        self.pieces.append(values)
        self.count += len(values)
        self.sorted = False
        if len(self.pieces) > MOST_PIECES:
            self._store(np.concatenate(self.pieces))

    def _store(self, values: FloatArray) -> None:
        """Keep ``values`` in place of the pieces, packed where this group packs."""
        if self.packing and len(values) >= RUN_WORTH_CHECKING:
            self.packed.append(_pack(values))
            self.pieces = []
        else:
            self.pieces = [values]

    def arrays(self) -> list[FloatArray]:
        """The group's arrays, unpacked (its run aside)."""
        return [*self.pieces, *(_unpack(p, self.key) for p in self.packed)]

    def add_run(self, value: float, count: int) -> None:
        if self.run_count == 0 or _bits(self.run_value) == _bits(value):
            self.run_value = value
            self.run_count += count
            self.count += count
            self.sorted = False
        else:  # a second repeated value: an array like any other
            self._append(np.full(count, value))

    def values(self) -> FloatArray:
        """Every value of the group in one array this group owns, run included."""
        pieces = self.arrays()
        if self.run_count:
            pieces.insert(0, np.full(self.run_count, self.run_value))
        if not pieces:
            return np.zeros(0)
        return np.concatenate(pieces) if len(pieces) > 1 else pieces[0]

    def in_order(self) -> FloatArray:
        """The group's values, ascending (sorted once, then kept so, unpacked)."""
        if not self.pieces and not self.packed:
            return np.full(self.run_count, self.run_value)
        if not self.sorted:
            values = self.values()
            values.sort()
            self.pieces, self.packed, self.run_count, self.sorted = [values], [], 0, True
        return self.pieces[0]

    def lowest(self) -> float:
        if self.sorted:
            return float(self.pieces[0][0])
        candidates = [float(p.min()) for p in self.pieces]
        for low, high in self.packed:
            ordered = (high.astype(np.uint64) << np.uint64(32)) | low.astype(np.uint64)
            least = (np.uint64(self.key) << np.uint64(48)) | ordered.min()
            candidates.append(float(_from_ordered(np.array([least], dtype=np.uint64))[0]))
        if self.run_count:
            candidates.append(self.run_value)
        return min(candidates)

    def drop_lowest(self, count: int) -> None:
        """Forget the group's ``count`` lowest values."""
        values = self.values()
        ordered = select(values, count)
        kept = values[count:]
        if count > len(kept) // 4:
            kept = kept.copy()  # hand the dropped values' memory back
        self.count = len(kept)
        self.packed = []
        if len(kept) >= RUN_WORTH_COUNTING and _all_same(kept):
            self.pieces, self.run_value, self.run_count = [], float(kept[0]), len(kept)
            self.sorted = False
        else:
            self.run_count, self.sorted = 0, ordered and not self.packing
            self._store(kept)


class Tail:
    """The ``keep`` largest values offered, exactly (see the module's docstring)."""

    def __init__(self, keep: int) -> None:
        self.keep = keep
        #: Once ``keep`` values are held, no value at or below it can enter.
        self.floor: float | None = None
        self._waiting: list[FloatArray] = []  # offered, not grouped yet
        self._waiting_runs: list[tuple[float, int]] = []
        self._waiting_count = 0
        self._groups: dict[int, _Group] = {}
        self._grouped = 0
        self._order: list[tuple[int, int]] | None = None  # (group, values below it)
        self._batch = max(keep // WAITING_SHARE, 1 << 16)
        self._bits = key_bits(keep)

    # --- offering -----------------------------------------------------------------

    def offer(self, values: FloatArray, *, copy: bool) -> None:
        """Keep those of ``values`` that belong to the ``keep`` largest so far.

        ``copy=False`` hands ``values`` over: the tail may keep and reorder it.
        """
        if self.floor is not None:
            values = values[values > self.floor]
        elif not self._groups and not self._waiting_count and len(values) > PRESELECT * self.keep:
            self._order = None
            self._group_top(values)
            self._trim(exact=False)
            return
        elif copy:
            values = values.copy()
        if not len(values):
            return
        self._order = None
        self._waiting.append(values)
        self._waiting_count += len(values)
        self._trim(exact=False)

    def _group_top(self, values: FloatArray) -> None:
        """Group those of ``values`` in the fewest top groups that hold ``keep`` of them.

        Every value of a lower group is below every value of those groups, so below
        ``keep`` of them: it cannot be kept, and is not sorted into its group. Counting
        the groups takes one pass over the keys.
        """
        keys = group_keys(values, self._bits)
        counts = np.bincount(keys, minlength=1 << self._bits)
        from_top = np.cumsum(counts[::-1])
        above = int(np.searchsorted(from_top, self.keep))
        if from_top[above] * 2 > len(values):  # most of them (a run of zeros, say)
            self._group(values, keys)
            return
        inside = keys >= len(counts) - 1 - above
        self._group(values[inside], keys[inside])

    def offer_run(self, value: float, count: int) -> None:
        """Offer ``count`` copies of ``value``."""
        if count <= 0 or (self.floor is not None and value <= self.floor):
            return
        self._order = None
        self._waiting_runs.append((value, count))
        self._waiting_count += count
        self._trim(exact=False)

    def merge(self, other: Tail, *, take: bool) -> None:
        """Offer every value ``other`` holds (``take``: hand its arrays over, no copies)."""
        for values in other._waiting:
            self.offer(values, copy=not take)
        for value, count in other._waiting_runs:
            self.offer_run(value, count)
        for group in other._groups.values():
            if group.run_count:
                self.offer_run(group.run_value, group.run_count)
            for values in group.arrays():
                self.offer(values, copy=not take)

    def pack(self) -> None:
        """Hold the waiting values equal to the lowest of them as a value and a count."""
        if self._waiting_count < RUN_WORTH_COUNTING or not self._waiting:
            return
        lowest = min(float(w.min()) for w in self._waiting if len(w))
        target = _bits(lowest)
        same = [np.ascontiguousarray(w).view(np.uint64) == target for w in self._waiting]
        count = sum(int(np.count_nonzero(s)) for s in same)
        if count >= RUN_WORTH_COUNTING:
            self._waiting = [w[~s] for w, s in zip(self._waiting, same, strict=True)]
            self._waiting_runs.append((lowest, count))

    def _group(self, values: FloatArray, keys: GroupKeys | None = None) -> None:
        if keys is None:
            keys = group_keys(values, self._bits)
        order = np.argsort(keys, kind="stable")  # a radix sort on 16-bit keys
        keys, values = keys[order], values[order]  # values is now this tail's own
        cuts = (np.flatnonzero(keys[1:] != keys[:-1]) + 1).tolist()
        whole = not cuts
        for start, stop in zip([0, *cuts], [*cuts, len(keys)], strict=True):
            piece = values if whole else values[start:stop].copy()  # no view keeps a batch
            self._group_of(int(keys[start])).add(piece)
        self._grouped += len(values)

    def _group_run(self, value: float, count: int) -> None:
        self._group_of(int(group_keys(np.array([value]), self._bits)[0])).add_run(value, count)
        self._grouped += count

    def _group_of(self, key: int) -> _Group:
        group = self._groups.get(key)
        if group is None:
            group = self._groups[key] = _Group(key, self._bits == 16)
        return group

    def _group_waiting(self) -> None:
        waiting, runs = self._waiting, self._waiting_runs
        self._waiting, self._waiting_runs, self._waiting_count = [], [], 0
        for values in waiting:
            if len(values):
                self._group(values)
        for value, count in runs:
            self._group_run(value, count)

    def _trim(self, *, exact: bool) -> None:
        """Drop the lowest values beyond ``keep`` (``exact``: every one of them).

        Values offered wait, as they came, until there are more than ``keep`` in all
        and, once the tail is grouped, until they add up to a share of it: grouping
        them costs a pass over them and a step per group they fall in, paid less
        often on more values at once.
        """
        if self._waiting_count + self._grouped <= self.keep:
            return
        if not exact and self._groups and self._waiting_count < self._batch:
            return
        if self._waiting_count:
            self._group_waiting()
        surplus = self._grouped - self.keep
        for key in sorted(self._groups):
            group = self._groups[key]
            if group.count <= surplus:
                del self._groups[key]
                surplus -= group.count
                self._grouped -= group.count
                self._order = None
                continue
            if surplus and (exact or surplus * SURPLUS_SHARE >= group.count):
                group.drop_lowest(surplus)
                self._grouped -= surplus
                self._order = None
            self.floor = group.lowest()  # at most the keep-th largest: a safe floor
            return

    # --- reading ------------------------------------------------------------------

    def _settle(self) -> list[tuple[int, int]]:
        """Group and trim exactly, to read the tail in order."""
        if self._waiting_count:
            self._group_waiting()
        self._trim(exact=True)
        if self._order is None:
            below, order = 0, []
            for key in sorted(self._groups):
                order.append((key, below))
                below += self._groups[key].count
            self._order = order
        return self._order

    @property
    def length(self) -> int:
        """How many values the tail holds: ``keep``, or all offered if fewer."""
        self._settle()
        return self._grouped

    def _group_at(self, index: int) -> tuple[_Group, int]:
        order = self._settle()
        position = int(np.searchsorted([below for _, below in order], index, side="right")) - 1
        key, below = order[position]
        return self._groups[key], index - below

    def value_at(self, index: int) -> float:
        """The ``index``-th smallest value held."""
        group, offset = self._group_at(index)
        if not group.pieces and not group.packed:
            return group.run_value
        return float(group.in_order()[offset])

    def top(self, count: int) -> FloatArray:
        """The ``count`` largest values held, ascending."""
        order = self._settle()
        pieces, total = [], 0
        for key, _ in reversed(order):
            if total >= count:
                break
            group = self._groups[key]
            pieces.append(group.in_order())
            total += group.count
        if not pieces:
            return np.zeros(0)
        ascending = np.concatenate(pieces[::-1]) if len(pieces) > 1 else pieces[0]
        return ascending[max(0, len(ascending) - count) :]

    def arrange(self, indices: list[int], top: int) -> None:
        """Sort, ahead of reading, the groups holding ``indices`` and the ``top`` largest."""
        length = self.length
        for index in indices:
            if 0 <= index < length:
                group, _ = self._group_at(index)
                group.in_order()
        self.top(top)


def select(values: FloatArray, cut: int) -> bool:
    """Put the ``cut`` smallest of ``values`` first and the smallest of the rest at ``cut``.

    numpy's partition slows down tenfold and more where many values are equal, and its
    sort is several times slower than partition on distinct values but fast on
    repeated ones: a sample of the values picks the one that suits. Returns whether
    ``values`` ended up sorted.
    """
    sample = np.sort(values[:: max(1, len(values) // 1024)])
    repeated = np.count_nonzero(sample[1:] == sample[:-1])
    if repeated * SELECT_BY_SORTING > len(sample):
        values.sort()
        return True
    values.partition(cut)
    return False
