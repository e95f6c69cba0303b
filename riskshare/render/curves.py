"""Exceedance curves: the annual amount exceeded once in T years, for a grid of T.

A run keeps the largest ``ceil(0.1 × years) + 2`` values of each annual series (see
:mod:`riskshare.stats.summary`), which fixes every quantile from 0.9 up: so a curve runs from
the 1-in-10 year to the 1-in-``years`` year. Where a result carries no kept tails
(one rebuilt from JSON, say), the curve falls back to the spec's return-period figures.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from riskshare.engine.series import SeriesKey
from riskshare.runs.results import Budget
from riskshare.runs.simulation import SimulationResult
from riskshare.stats.summary import RETURN_PERIOD_TAIL_SHARE, RETURN_PERIODS, SeriesSummary
from riskshare.stats.tails import FloatArray

#: The shortest return period a curve shows: the lowest quantile every run can give.
MIN_PERIOD = 1 / RETURN_PERIOD_TAIL_SHARE
#: Points of a curve drawn from the kept tails, log-spaced in the return period.
POINTS = 160


@dataclass(frozen=True)
class Curve:
    """One exceedance curve: ``amounts[i]`` is exceeded once in ``periods[i]`` years."""

    label: str
    periods: FloatArray
    amounts: FloatArray
    budget: float | None = None
    #: What the budget is compared with where it is not ``amounts``: the party's annual
    #: outlay, its cost with premiums and subsidies (None without premiums: the net).
    outlay: FloatArray | None = None


@dataclass(frozen=True)
class ExceedanceCurves:
    """The total's aggregate and occurrence curves and each party's aggregate curve."""

    aggregate: Curve  # the total ground-up loss of a year
    occurrence: Curve  # the largest single event of a year
    parties: dict[str, Curve]  # party name → its annual net amount (and outlay, budgeted)
    detailed: bool  # drawn from the kept tails (True) or the return-period figures only


def period_grid(years: int, points: int = POINTS) -> FloatArray:
    """Return periods from 1-in-10 to 1-in-``years``, log-spaced, with the spec's periods."""
    top = max(float(years), MIN_PERIOD)
    grid = np.geomspace(MIN_PERIOD, top, points) if top > MIN_PERIOD else np.array([MIN_PERIOD])
    standard = [float(t) for t in RETURN_PERIODS if t <= top]
    return np.unique(np.concatenate((grid, standard)))


def exceedance_curves(result: SimulationResult, points: int = POINTS) -> ExceedanceCurves:
    """The exceedance curves of a run, from its kept tails where it has them."""
    summaries: Mapping[SeriesKey, SeriesSummary] = result.summaries
    detailed = SeriesKey.total() in summaries and SeriesKey.oep() in summaries
    if detailed:
        periods = period_grid(result.years, points)

        def from_summary(key: SeriesKey) -> FloatArray:
            summary = summaries[key]
            return np.array([summary.quantile(1 - 1 / t) for t in periods])

        total, oep = from_summary(SeriesKey.total()), from_summary(SeriesKey.oep())
        party_amounts = {
            name: from_summary(SeriesKey.party(i)) for i, name in enumerate(result.parties)
        }
        outlays = {
            name: from_summary(SeriesKey.cost(i))
            for i, (name, party) in enumerate(result.parties.items())
            if party.budget is not None and SeriesKey.cost(i) in summaries
        }
    else:
        periods = np.array([float(t) for t in RETURN_PERIODS if t <= max(result.years, MIN_PERIOD)])
        total = _figures(result.total.return_periods, periods)
        oep = _figures(result.total.oep_return_periods, periods)
        party_amounts = {
            name: _figures(party.figures.return_periods, periods)
            for name, party in result.parties.items()
        }
        outlays = {
            name: _figures(party.cost.return_periods, periods)
            for name, party in result.parties.items()
            if party.budget is not None and party.cost is not None
        }
    parties = {
        name: Curve(
            label=party.label,
            periods=periods,
            amounts=party_amounts[name],
            budget=_budget(party.budget),
            outlay=outlays.get(name),
        )
        for name, party in result.parties.items()
    }
    return ExceedanceCurves(
        aggregate=Curve("Total ground-up loss", periods, total),
        occurrence=Curve("Largest single event", periods, oep),
        parties=parties,
        detailed=detailed,
    )


def _figures(return_periods: Mapping[int, float], periods: FloatArray) -> FloatArray:
    return np.array([return_periods[round(t)] for t in periods])


def _budget(budget: Budget | None) -> float | None:
    if budget is not None and math.isfinite(budget.amount):
        return float(budget.amount)
    return None
