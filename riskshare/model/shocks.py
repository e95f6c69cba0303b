"""Common shocks (format 1.2): an event source whose occurrences strike several bearers.

A source with ``hits`` in place of ``severity`` and ``bearer``: at each occurrence, each
hit happens with its ``probability`` (independently of the others) and, when it does,
its ``bearer`` suffers a loss drawn from its own ``severity`` (capped at its ``cap``).
The occurrence's ground-up loss is the sum of its hits. :mod:`riskshare.engine.shocks`
draws them; here is only what a hit is.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Annotated

import numpy as np
from pydantic import Field, model_validator
from pydantic_core import PydanticCustomError

from riskshare.errors import Problem
from riskshare.model.distributions import LossArray, LossSampler, Severity
from riskshare.model.fields import Amount, Model, Name, Probability

if TYPE_CHECKING:
    from riskshare.model.scenario import EventTable, Scenario


class Hit(Model):
    """One bearer struck by an occurrence of a common shock: who, how likely, how much."""

    bearer: Name
    probability: Probability = 1.0
    severity: Severity
    cap: Amount | None = None

    @model_validator(mode="after")
    def _one_cap(self) -> Hit:
        if self.cap is not None and self.severity.cap is not None:
            raise PydanticCustomError(
                "hit_cap",
                "give the hit's `cap` once: beside `severity` or inside it, not both",
            )
        return self

    def sampler(self) -> LossSampler:
        """Draws ``k`` losses of this hit, capped at the hit's ``cap`` where one is given."""
        draw = self.severity.sampler()
        cap = self.cap
        if cap is None:
            return draw

        def capped(rng: np.random.Generator, k: int) -> LossArray:
            losses = draw(rng, k)
            return np.minimum(losses, cap, out=losses)

        return capped


Hits = Annotated[list[Hit], Field(min_length=1)]


def shock_problems(scenario: Scenario) -> Iterator[Problem]:
    """A source with both or neither of ``severity`` and ``hits``, a ``bearer`` beside
    ``hits``, and a hit's unknown bearer."""
    for i, source in enumerate(scenario.events or []):
        loc: tuple[str | int, ...] = ("events", i)
        if source.hits is None:
            if source.severity is None:
                yield Problem(
                    loc,
                    f"event source `{source.name}` needs `severity` (with an optional "
                    "`bearer`), or `hits` for an occurrence that strikes several bearers",
                )
            continue
        if source.severity is not None:
            yield Problem(
                (*loc, "hits"),
                "`hits` replaces `severity`: give each hit its own `severity` and "
                "remove the source's `severity`",
            )
        if source.bearer is not None:
            yield Problem(
                (*loc, "hits"),
                "`hits` replaces `bearer`: give each hit its own `bearer` and "
                "remove the source's `bearer`",
            )
        for j, hit in enumerate(source.hits):
            if hit.bearer not in scenario.parties:
                known = ", ".join(scenario.parties)
                yield Problem(
                    (*loc, "hits", j, "bearer"),
                    f"unknown party `{hit.bearer}` (parties: {known})",
                )


def occurrence_leaders(year: Sequence[int], event: Sequence[str]) -> list[int]:
    """For each row of an events file, the first row of its occurrence: the rows with
    the same year and the same non-empty ``event`` are one occurrence; a row with an
    empty ``event`` is an occurrence of its own."""
    first: dict[tuple[int, str], int] = {}
    leaders = []
    for row, (y, name) in enumerate(zip(year, event, strict=True)):
        leaders.append(first.setdefault((int(y), name), row) if name else row)
    return leaders


def occurrence_problems(table: EventTable) -> Iterator[tuple[int, str]]:
    """(row, message) for each row of an occurrence whose time is not its first row's."""
    if table.event is None or table.time is None:
        return
    leaders = occurrence_leaders(table.year.tolist(), table.event)
    for row, leader in enumerate(leaders):
        if table.time[row] != table.time[leader]:
            yield (
                row,
                f"rows of one occurrence (year {int(table.year[row])}, event "
                f"`{table.event[row]}`) must have the same time: this row has "
                f"{float(table.time[row]):g}, the occurrence's first row "
                f"{float(table.time[leader]):g}",
            )
