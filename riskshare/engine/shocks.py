"""Common shocks (format 1.2): occurrences made of several parts, each borne by its bearer.

An occurrence of a source with ``hits`` strikes several bearers at once; so do the rows
of an ``events_file`` that share an ``event``. The engine keeps its events as before,
one loss (the occurrence's total) and one source each, and beside them the occurrences'
*parts*: flat arrays of each part's event, bearer, source and loss, sorted by event.
An ordinary event is one part. Everything that needs the parts (the bearers' first
holdings, a ``ground_up`` or ``ground_up:SOURCE`` subject, the give-up of what a layer
pays from it) is a ``bincount`` or a fancy-indexed step over the parts, so a run costs
per part what it costs per event today. Without hits there are no parts, and the
engine takes its ordinary path, to the bit.

Imports only numpy and riskshare.model.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from riskshare.model.distributions import LossSampler

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class HitSampler:
    """One hit of a source: its bearer (a party index), probability and loss sampler."""

    bearer: int
    probability: float
    severity: LossSampler


@dataclass(frozen=True)
class Parts:
    """The parts of some occurrences, sorted by ``event`` (hits in the order written).

    ``bearer`` is a party index, or -1 for the bearer of the part's source (an ordinary
    event's one part).
    """

    event: IntArray
    bearer: IntArray
    source: IntArray
    loss: FloatArray

    def __len__(self) -> int:
        return len(self.loss)

    @staticmethod
    def empty() -> Parts:
        none = np.zeros(0, dtype=np.int64)
        return Parts(none, none, none, np.zeros(0))

    @staticmethod
    def single(loss: FloatArray, source: IntArray, first: int = 0) -> Parts:
        """One part for each of ordinary events ``first`` … ``first + len(loss) - 1``."""
        event = np.arange(first, first + len(loss), dtype=np.int64)
        return Parts(event, np.full(len(loss), -1, dtype=np.int64), source, loss)

    @staticmethod
    def concat(pieces: list[Parts]) -> Parts:
        if not pieces:
            return Parts.empty()
        return Parts(
            *(
                np.concatenate([getattr(p, name) for p in pieces])
                for name in ("event", "bearer", "source", "loss")
            )
        )

    def starts(self, n_events: int) -> IntArray:
        """The index of each event's first part, and the number of parts at the end."""
        counts = np.bincount(self.event, minlength=n_events)
        out = np.zeros(n_events + 1, dtype=np.int64)
        np.cumsum(counts, out=out[1:])
        return out

    def pick(self, starts: IntArray, events: npt.NDArray[np.intp]) -> Parts:
        """The parts of ``events`` (indices into the events these parts belong to), each
        renumbered to its position in ``events``; in that order."""
        first = starts[events]
        counts = starts[np.asarray(events) + 1] - first
        total = int(counts.sum())
        position = np.repeat(np.arange(len(events), dtype=np.int64), counts)
        begin = np.cumsum(counts) - counts
        index = np.repeat(first - begin, counts) + np.arange(total)
        return Parts(position, self.bearer[index], self.source[index], self.loss[index])

    def resolved(self, source_bearer: IntArray) -> Parts:
        """The parts with each ordinary part's bearer set to its source's."""
        bearer = np.where(self.bearer >= 0, self.bearer, source_bearer[self.source])
        return Parts(self.event, bearer, self.source, self.loss)

    def shared_events(self) -> int:
        """How many events struck more than one bearer (with a loss above zero).

        The parts are sorted by event: an event struck more than one bearer where the
        largest and the smallest bearer of its parts above zero differ."""
        hit = self.loss > 0
        event, bearer = self.event[hit], self.bearer[hit]
        if not len(event):
            return 0
        starts = np.flatnonzero(np.concatenate(([True], event[1:] != event[:-1])))
        most = np.maximum.reduceat(bearer, starts)
        least = np.minimum.reduceat(bearer, starts)
        return int(np.count_nonzero(most != least))


def draw_hits(
    rng: np.random.Generator, hits: tuple[HitSampler, ...], source: int, total: int, first: int
) -> tuple[FloatArray, Parts]:
    """The losses and parts of ``total`` occurrences of a source with ``hits``, numbered
    from ``first``: for each hit as written, whether it happens at each occurrence (drawn
    only when its probability is below 100%), then the losses of the hits that happen."""
    n_hits = len(hits)
    amounts = np.zeros((n_hits, total))
    struck = np.ones((n_hits, total), dtype=bool)
    loss = np.zeros(total)
    for j, hit in enumerate(hits):
        if hit.probability < 1.0:
            np.less(rng.random(total), hit.probability, out=struck[j])
            where = np.flatnonzero(struck[j])
            amounts[j, where] = hit.severity(rng, len(where))
        else:
            amounts[j] = hit.severity(rng, total)
        loss += amounts[j]  # the hits in the order written (a miss adds exactly 0)
    # occurrence by occurrence, the hits in the order written, only those that happen
    cells = struck.T.ravel()
    event = np.repeat(np.arange(first, first + total, dtype=np.int64), n_hits)[cells]
    bearer = np.tile(np.array([h.bearer for h in hits], dtype=np.int64), total)[cells]
    parts = Parts(
        event, bearer, np.full(len(event), source, dtype=np.int64), amounts.T.ravel()[cells]
    )
    return loss, parts


class Holdings:
    """Who holds a subject of several parts, event by event: each (bearer, event) pair
    once, with its fraction of the subject, so that a payout p is given up as
    p × fraction by each bearer in one fancy-indexed step."""

    def __init__(self, parts: Parts, subject: FloatArray, n_parties: int) -> None:
        key = parts.event * n_parties + parts.bearer
        if len(key) < 2 or bool(np.all(key[1:] > key[:-1])):  # each pair once, in order
            pairs, amount = key, parts.loss
        else:
            pairs, inverse = np.unique(key, return_inverse=True)
            sums = np.bincount(inverse.reshape(-1), weights=parts.loss, minlength=len(pairs))
            amount = sums.astype(np.float64, copy=False)
        self.event = pairs // n_parties
        self.bearer = pairs % n_parties
        whole = subject[self.event]
        self.fraction = np.divide(amount, whole, out=np.zeros(len(pairs)), where=whole > 0)

    def give_up(self, nets: FloatArray, payout: FloatArray) -> None:
        """Take ``payout`` from the holders, each in proportion to what it holds."""
        nets[self.bearer, self.event] -= payout[self.event] * self.fraction


class PartsView:
    """A block's parts in the allocation's event order, with the subjects and holdings
    the layers ask for, each worked out once."""

    def __init__(self, parts: Parts, loss: FloatArray, n_parties: int) -> None:
        self.parts, self.loss, self.n_parties = parts, loss, n_parties
        self._ground_up: Holdings | None = None
        self._sources: dict[int, tuple[FloatArray, Holdings]] = {}

    def first_nets(self) -> FloatArray:
        """Each party's holding of each event before any layer: its parts."""
        n = len(self.loss)
        flat = self.parts.bearer * n + self.parts.event
        size = self.n_parties * n
        nets = np.bincount(flat, weights=self.parts.loss, minlength=size).astype(np.float64)
        return nets.reshape(self.n_parties, n)

    def ground_up(self) -> Holdings:
        if self._ground_up is None:
            self._ground_up = Holdings(self.parts, self.loss, self.n_parties)
        return self._ground_up

    def source(self, index: int) -> tuple[FloatArray, Holdings]:
        """A ``ground_up:SOURCE`` subject (the event's parts from that source) and its
        holdings."""
        if index not in self._sources:
            mask = self.parts.source == index
            p = self.parts
            picked = Parts(p.event[mask], p.bearer[mask], p.source[mask], p.loss[mask])
            subject: FloatArray = np.bincount(
                picked.event, weights=picked.loss, minlength=len(self.loss)
            ).astype(np.float64, copy=False)
            self._sources[index] = (subject, Holdings(picked, subject, self.n_parties))
        return self._sources[index]


def row_leaders(year: IntArray, event: tuple[str, ...]) -> IntArray:
    """For each row of an events file, the first row of its occurrence (the rows with the
    same year and the same non-empty ``event``; a row with an empty one is its own)."""
    leaders = np.arange(len(year), dtype=np.int64)
    names, codes = np.unique(np.asarray(event, dtype=object), return_inverse=True)
    codes = codes.reshape(-1).astype(np.int64)
    grouped = np.flatnonzero(np.asarray(event, dtype=object) != "")
    if len(grouped):
        key = year[grouped].astype(np.int64) * len(names) + codes[grouped]
        _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
        leaders[grouped] = grouped[first[inverse.reshape(-1)]]
    return leaders


def grouped_rows(
    leaders: IntArray,
    inside: IntArray,
    ordered_leaders: IntArray,
    source: IntArray,
    loss: FloatArray,
) -> tuple[FloatArray, Parts]:
    """The occurrences ``ordered_leaders`` (their first rows, in the order applied) of the
    rows ``inside`` (in file order): each occurrence's loss, the sum of its rows, and
    its parts, one a row."""
    position = np.full(len(leaders), -1, dtype=np.int64)
    position[ordered_leaders] = np.arange(len(ordered_leaders))
    event = position[leaders[inside]]
    order = np.argsort(event, kind="stable")  # by occurrence, rows in file order
    rows = inside[order]
    parts = Parts(event[order], np.full(len(rows), -1, dtype=np.int64), source[rows], loss[rows])
    total = np.bincount(parts.event, weights=parts.loss, minlength=len(ordered_leaders))
    return total.astype(np.float64), parts


def given_hits(
    losses: list[float], bearers: tuple[int, ...], source: int
) -> tuple[FloatArray, Parts]:
    """Occurrences of a source with hits from given losses, one a hit in order for each
    occurrence (for ``explain``): each occurrence's loss and its parts."""
    per = len(bearers)
    n = len(losses) // per
    amounts = np.asarray(losses, dtype=np.float64)
    event = np.repeat(np.arange(n, dtype=np.int64), per)
    parts = Parts(
        event, np.tile(np.asarray(bearers, dtype=np.int64), n), np.full(n * per, source), amounts
    )
    loss = np.zeros(n)
    for j in range(per):  # the hits in the order written, as a drawn occurrence adds them
        loss += amounts[j::per]
    return loss, parts
