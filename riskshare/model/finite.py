"""Every number finite: the sizes a scenario may hold, and the figures a run may report.

Two checks, one before and one after the numbers meet numpy:

- :func:`size_problems`, a rule of :func:`riskshare.model.checks.check_scenario`: the values
  of a scenario within the range where every sum, product and draw of a run stays a
  finite number (amounts themselves are bounded where they are parsed, by
  :data:`riskshare.model.amounts.MAX_AMOUNT`);
- :func:`check_losses` on every block of drawn losses, and :func:`check_figures` on the
  figures of every result before anything is rendered or written: a
  :class:`~riskshare.errors.RunError` that names the source or the figure (and
  :func:`worst_event`, for balance checks that a NaN must fail).

The bounds and why they are what they are: docs/decisions.md, "Sizes".
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping

import numpy as np
import numpy.typing as npt

from riskshare.errors import Loc, Problem, RunError
from riskshare.model.amounts import MAX_AMOUNT, MAX_AMOUNT_TEXT, show
from riskshare.model.distributions import Frequency, Severity
from riskshare.model.scenario import Layer, Scenario

#: The most events a source may have in a year, on average: one year of them would
#: already need more memory than a machine has; below it, :mod:`riskshare.engine.memory` says
#: what fits.
MAX_EVENTS = 1e9
MAX_EVENTS_TEXT = "1,000,000,000 (10亿)"
#: The range of a coefficient of variation (``cv``, ``mix_cv``): beyond it, numpy's
#: samplers would be handed parameters that overflow or vanish.
MIN_CV, MAX_CV = 1e-6, 1e3
#: The largest rate (``rate_on_line``, ``loading``, ``reinstatement_premium``), and the
#: largest rate on line a premium amount may make: 10,000%.
MAX_RATE = 100.0
#: The smallest premium above zero: a hundredth of the currency's unit (a fen, a cent).
#: A loss ratio divides by the premium; a smaller one would make it overflow.
MIN_PREMIUM = 0.01


# --- before a run: the scenario's values ---------------------------------------------


def size_problems(scenario: Scenario) -> Iterator[Problem]:
    """Values of ``scenario`` too large or too small to compute with, at their keys."""
    for i, source in enumerate(scenario.events or []):
        yield from _frequency(("events", i, "frequency"), source.frequency)
        yield from _severity(("events", i, "severity"), source.severity)
    for i, layer in enumerate(scenario.layers):
        yield from _layer(("layers", i), layer)


def _frequency(loc: Loc, frequency: Frequency) -> Iterator[Problem]:
    counts: list[tuple[Loc, float]] = []
    if frequency.poisson is not None:
        counts.append(((*loc, "poisson"), frequency.poisson))
    if frequency.binomial is not None:
        counts.append(((*loc, "binomial", "n"), frequency.binomial.n))
    if frequency.fixed is not None:
        counts.append(((*loc, "fixed"), frequency.fixed))
    if frequency.negative_binomial is not None:
        counts.append(((*loc, "negative_binomial", "mean"), frequency.negative_binomial.mean))
        mix_cv = frequency.negative_binomial.mix_cv
        yield from _cv((*loc, "negative_binomial", "mix_cv"), mix_cv, steady="poisson")
    for where, count in counts:
        if count > MAX_EVENTS:
            yield Problem(
                where,
                f"must be at most {MAX_EVENTS_TEXT} (got {show(count)}): a source may have "
                "at most that many events a year; no machine has the memory to simulate more",
            )


def _cv(loc: Loc, cv: float, steady: str = "fixed") -> Iterator[Problem]:
    """A coefficient of variation out of range; ``steady``: the form without variation."""
    if not MIN_CV <= cv <= MAX_CV:
        hint = f"; for no variation at all, use `{steady}`" if cv < MIN_CV else ""
        yield Problem(loc, f"must be between 0.000001 and 1,000 (got {show(cv)}){hint}")


def _severity(loc: Loc, severity: Severity) -> Iterator[Problem]:
    form = severity.form
    if severity.lognormal is not None and severity.lognormal.cv is not None:
        yield from _cv((*loc, "lognormal", "cv"), severity.lognormal.cv)
    if severity.gamma is not None:
        yield from _cv((*loc, "gamma", "cv"), severity.gamma.cv)
    if severity.cap is not None:
        return  # every loss is at most the cap, itself at most MAX_AMOUNT
    if severity.pareto is not None and severity.pareto.alpha <= 1:
        yield Problem(
            (*loc, "pareto", "alpha"),
            f"a pareto severity with alpha at or below 1 has an infinite mean loss "
            f"(got alpha {show(severity.pareto.alpha)}): give the severity a `cap` "
            "(the largest loss an event can make, such as the sum insured)",
        )
        return
    mean = uncapped_mean(severity)
    if mean is not None and not mean <= MAX_AMOUNT:
        size = f"about {_large(mean)}" if math.isfinite(mean) else "too large to compute"
        yield Problem(
            (*loc, form),
            f"the mean loss of this {form} severity is {size}: above {MAX_AMOUNT_TEXT}, "
            "the largest amount riskshare takes; give the severity a `cap` (the largest "
            "loss an event can make, such as the sum insured), or smaller parameters",
        )


def uncapped_mean(severity: Severity) -> float | None:
    """The mean loss of ``severity`` without its cap (∞ where it has none; None for the
    forms whose values are amounts, each within :data:`MAX_AMOUNT` already)."""
    if severity.pareto is not None:
        alpha, scale = severity.pareto.alpha, severity.pareto.scale
        return math.inf if alpha <= 1 else scale * (alpha / (alpha - 1))
    lognormal = severity.lognormal
    if lognormal is not None and lognormal.mu is not None and lognormal.sigma is not None:
        exponent = lognormal.mu + lognormal.sigma * lognormal.sigma / 2
        return math.exp(exponent) if exponent < 709 else math.inf  # e^709: near the largest float
    return None


def _layer(loc: Loc, layer: Layer) -> Iterator[Problem]:
    if layer.limit == 0:
        yield Problem(
            (*loc, "limit"),
            "must be above 0: a layer with limit 0 never pays; for no limit write "
            "`unlimited`, and to leave the layer out remove it (or give it share 0%)",
        )
    premium = layer.premium
    rates: list[tuple[Loc, float | None]] = [
        ((*loc, "reinstatement_premium"), layer.reinstatement_premium)
    ]
    if premium is not None:
        rates.append(((*loc, "premium", "rate_on_line"), premium.rate_on_line))
        rates.append(((*loc, "premium", "loading"), premium.loading))
    for where, rate in rates:
        if rate is not None and rate > MAX_RATE:
            yield Problem(where, f"must be at most 10,000% (got {show(rate)})")
    if premium is None:
        return
    if premium.amount is not None:
        written = premium.amount
        where = (*loc, "premium", "amount")
        if 0 < layer.limit < math.inf and written / layer.limit > MAX_RATE:
            yield Problem(
                where,
                f"is more than 100 times the layer's limit ({show(layer.limit)}): a premium "
                "may be at most 10,000% of the limit; check the units of both",
            )
    elif premium.rate_on_line is not None and math.isfinite(layer.limit):
        written = premium.rate_on_line * layer.limit
        where = (*loc, "premium", "rate_on_line")
    else:
        return
    if 0 < written < MIN_PREMIUM:
        given = "got" if premium.amount is not None else "rate_on_line × limit gives"
        yield Problem(
            where,
            f"a premium must be 0 or at least 0.01, a hundredth of the currency's unit "
            f"({given} {show(written)})",
        )


def _large(number: float) -> str:
    """A number beyond the bound as a message writes it: ``2.35e17``."""
    return f"{number:.7g}".replace("e+", "e")


# --- after a run: drawn losses and reported figures -----------------------------------


def check_losses(losses: npt.NDArray[np.float64], source: str) -> None:
    """Stop a run whose ``source`` drew a loss that is not a finite amount within
    :data:`MAX_AMOUNT` (an uncapped heavy tail)."""
    if len(losses) == 0:
        return
    largest = float(np.max(losses))
    if largest <= MAX_AMOUNT:  # False for NaN
        return
    size = _large(largest) if math.isfinite(largest) else "too large to compute"
    raise RunError(
        f"source `{source}` drew a loss of {size}, above {MAX_AMOUNT_TEXT}, the largest "
        f"amount riskshare takes: give its severity a `cap` (the largest loss an event "
        f"can make, such as the sum insured) of at most 1e15"
    )


def worst_event(imbalances: npt.NDArray[np.float64]) -> int:
    """The index of the largest of an event's ``imbalances``, a NaN before any number
    (a balance check that compared NaN would pass)."""
    unknown = np.flatnonzero(np.isnan(imbalances))
    return int(unknown[0]) if len(unknown) else int(np.argmax(imbalances))


def check_figures(figures: Mapping[str, object], what: str) -> None:
    """Stop before a result with a figure that is not a finite number is shown or written,
    naming the figure (``layers.primary.loss_ratio``)."""
    found = _not_finite(figures, "")
    if found is not None:
        path, value = found
        raise RunError(
            f"{what} cannot be reported: its figure {path} is {value}, not a finite number; "
            "an amount or rate of the scenario is too large or too small beside the others"
        )


def _not_finite(value: object, path: str) -> tuple[str, float] | None:
    if isinstance(value, Mapping):
        for key, item in value.items():
            found = _not_finite(item, f"{path}.{key}" if path else str(key))
            if found is not None:
                return found
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            found = _not_finite(item, f"{path}[{index}]")
            if found is not None:
                return found
    elif isinstance(value, (float, np.floating)) and not math.isfinite(value):
        return path, float(value)
    return None
