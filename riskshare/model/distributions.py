"""Event frequency and severity: each form of the format declares, once, its parameters,
its mean and its sampler.

A form whose parameters are a mapping (``binomial: {n, p}``) is a model of its own; a
form written as one number (``poisson: 1.5``) is a small frozen class around that number.
:class:`Frequency` and :class:`Severity` hold exactly one form and ask it for its mean and
its sampler; :mod:`riskshare.engine.events` draws with the samplers, the memory estimate
reads the frequency's mean. Nothing else knows the forms: a new form is one class and
one field (and, if it is written as one number, one entry in ``_NUMBER_FREQUENCIES`` or
``_NUMBER_SEVERITIES``).

A sampler is a function of a :class:`numpy.random.Generator` and a count: it draws the
number of events of each of ``n`` years, or ``k`` ground-up losses, with vectorised numpy
calls made always in the same order, so the same seed gives the same numbers to the last
digit.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, Protocol, TypeVar

import numpy as np
import numpy.typing as npt
from pydantic import Field, model_validator
from pydantic_core import PydanticCustomError

from riskshare.model.fields import Amount, Count, Model, Number, OneOf, Probability

CountArray = npt.NDArray[np.int64]
LossArray = npt.NDArray[np.float64]
#: Draws the number of events in each of ``n`` years.
CountSampler = Callable[[np.random.Generator, int], CountArray]
#: Draws ``k`` ground-up losses.
LossSampler = Callable[[np.random.Generator, int], LossArray]


class FrequencyForm(Protocol):
    """What a frequency form declares besides its parameters."""

    def expected(self) -> float:
        """The expected number of events per year."""
        ...

    def sampler(self) -> CountSampler: ...


class SeverityForm(Protocol):
    """What a severity form declares besides its parameters."""

    def expected(self) -> float:
        """The expected ground-up loss per event, before any ``cap`` (∞ where infinite)."""
        ...

    def sampler(self) -> LossSampler: ...


@dataclass(frozen=True)
class _Number:
    """A form written as one number, which is also its mean."""

    value: float

    def expected(self) -> float:
        return float(self.value)


F = TypeVar("F", FrequencyForm, SeverityForm)


def _form_of(model: OneOf, numbers: Mapping[str, Callable[[Any], F]]) -> F:
    """The form given in ``model``: the model of its parameters, or its one number made
    a form by ``numbers``."""
    value = getattr(model, model.form)
    make = numbers.get(model.form)
    form: F = value if make is None else make(value)
    return form


# --- frequency ------------------------------------------------------------------------


class Poisson(_Number):
    """``poisson: λ``: λ events a year on average."""

    def sampler(self) -> CountSampler:
        rate = self.value
        return lambda rng, n: rng.poisson(rate, n)


class Bernoulli(_Number):
    """``bernoulli: p``: one event in a year with probability p, else none."""

    def sampler(self) -> CountSampler:
        p = self.value
        return lambda rng, n: (rng.random(n) < p).astype(np.int64)


class FixedCount(_Number):
    """``fixed: n``: exactly n events every year."""

    def sampler(self) -> CountSampler:
        fixed = self.value
        return lambda rng, n: np.full(n, fixed, dtype=np.int64)


# A model's docstring is its description in ``riskshare schema``: the forms that are
# models say what they are in a comment.


class Binomial(Model):  # n trials a year, each an event with probability p
    n: Count
    p: Probability

    def expected(self) -> float:
        return self.n * self.p

    def sampler(self) -> CountSampler:
        trials, prob = self.n, self.p
        return lambda rng, n: rng.binomial(trials, prob, n)


class NegativeBinomial(Model):  # Poisson whose mean is gamma-distributed
    mean: Annotated[Number, Field(ge=0, allow_inf_nan=False)]
    mix_cv: Annotated[Number, Field(gt=0, allow_inf_nan=False)]

    def expected(self) -> float:
        return self.mean

    def sampler(self) -> CountSampler:
        mean, cv = self.mean, self.mix_cv
        shape, scale = 1.0 / cv**2, mean * cv**2
        return lambda rng, n: rng.poisson(rng.gamma(shape, scale, n))


class Frequency(OneOf):
    """Events per simulated year: exactly one form."""

    what: ClassVar[str] = "frequency"

    poisson: Annotated[Number, Field(ge=0, allow_inf_nan=False)] | None = None
    bernoulli: Probability | None = None
    binomial: Binomial | None = None
    negative_binomial: NegativeBinomial | None = None
    fixed: Count | None = None

    @property
    def mean(self) -> float:
        """Expected number of events per year."""
        return self.chosen().expected()

    def sampler(self) -> CountSampler:
        """A function drawing the number of events in each of ``n`` years."""
        return self.chosen().sampler()

    def chosen(self) -> FrequencyForm:
        """The form given, which knows its mean and its sampler."""
        return _form_of(self, _NUMBER_FREQUENCIES)


#: The frequency forms written as one number, and the class each number makes.
_NUMBER_FREQUENCIES: dict[str, Callable[[Any], FrequencyForm]] = {
    "poisson": Poisson,
    "bernoulli": Bernoulli,
    "fixed": FixedCount,
}


# --- severity -------------------------------------------------------------------------


class Lognormal(Model):
    """Either ``{mean, cv}`` of X or ``{mu, sigma}`` of ln X."""

    mean: Amount | None = None
    cv: Annotated[Number, Field(gt=0, allow_inf_nan=False)] | None = None
    mu: Annotated[Number, Field(allow_inf_nan=False)] | None = None
    sigma: Annotated[Number, Field(gt=0, allow_inf_nan=False)] | None = None

    @model_validator(mode="after")
    def _one_pair(self) -> Lognormal:
        by_moments = self.mean is not None and self.cv is not None
        by_logs = self.mu is not None and self.sigma is not None
        given = [k for k in ("mean", "cv", "mu", "sigma") if getattr(self, k) is not None]
        if len(given) != 2 or not (by_moments or by_logs):
            raise PydanticCustomError(
                "lognormal",
                "lognormal takes either {mean, cv} or {mu, sigma}; found {found}",
                {"found": "{" + ", ".join(given) + "}"},
            )
        if by_moments and self.mean == 0:
            raise PydanticCustomError("lognormal", "lognormal mean must be above zero")
        return self

    def log_parameters(self) -> tuple[float, float]:
        """(mu, sigma) of ln X."""
        if self.mu is not None and self.sigma is not None:
            return self.mu, self.sigma
        assert self.mean is not None and self.cv is not None
        sigma2 = math.log1p(self.cv**2)
        return math.log(self.mean) - sigma2 / 2, math.sqrt(sigma2)

    def expected(self) -> float:
        if self.mean is not None:
            return self.mean
        mu, sigma = self.log_parameters()
        return math.exp(mu + sigma**2 / 2)

    def sampler(self) -> LossSampler:
        mu, sigma = self.log_parameters()
        return lambda rng, k: rng.lognormal(mu, sigma, k)


class Pareto(Model):  # P(X > x) = (scale / x)^alpha for x ≥ scale
    scale: Annotated[Amount, Field(gt=0)]
    alpha: Annotated[Number, Field(gt=0, allow_inf_nan=False)]

    def expected(self) -> float:
        return self.alpha * self.scale / (self.alpha - 1) if self.alpha > 1 else math.inf

    def sampler(self) -> LossSampler:
        scale, alpha = self.scale, self.alpha
        # numpy's pareto is the Lomax (Pareto II); 1 + Lomax is Pareto I with scale 1.
        return lambda rng, k: scale * (rng.pareto(alpha, k) + 1.0)


class Gamma(Model):
    mean: Annotated[Amount, Field(gt=0)]
    cv: Annotated[Number, Field(gt=0, allow_inf_nan=False)]

    def expected(self) -> float:
        return self.mean

    def sampler(self) -> LossSampler:
        shape, scale = 1.0 / self.cv**2, self.mean * self.cv**2
        return lambda rng, k: rng.gamma(shape, scale, k)


class Uniform(Model):
    low: Amount
    high: Amount

    @model_validator(mode="after")
    def _ordered(self) -> Uniform:
        if self.high < self.low:
            raise PydanticCustomError("uniform", "uniform needs low ≤ high")
        return self

    def expected(self) -> float:
        return (self.low + self.high) / 2

    def sampler(self) -> LossSampler:
        low, high = self.low, self.high
        return lambda rng, k: rng.uniform(low, high, k)


class Empirical(Model):  # one of the values, equally likely unless probabilities are given
    values: Annotated[list[Amount], Field(min_length=1)]
    probabilities: list[Probability] | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Empirical:
        if self.probabilities is not None:
            if len(self.probabilities) != len(self.values):
                raise PydanticCustomError(
                    "empirical",
                    "empirical has {v} values but {p} probabilities",
                    {"v": len(self.values), "p": len(self.probabilities)},
                )
            if abs(math.fsum(self.probabilities) - 1.0) > 1e-9:
                raise PydanticCustomError(
                    "empirical",
                    "empirical probabilities must sum to 1 (they sum to {s})",
                    {"s": f"{math.fsum(self.probabilities):.6g}"},
                )
        return self

    def _weights(self) -> LossArray | None:
        """The probabilities as drawn: scaled to sum to 1 exactly (None: all equal)."""
        probs = self.probabilities
        return None if probs is None else np.asarray(probs, dtype=np.float64) / np.sum(probs)

    def expected(self) -> float:
        values = np.asarray(self.values, dtype=np.float64)
        weights = self._weights()
        return float(np.mean(values) if weights is None else np.dot(values, weights))

    def sampler(self) -> LossSampler:
        values = np.asarray(self.values, dtype=np.float64)
        weights = self._weights()
        return lambda rng, k: rng.choice(values, k, p=weights)


class FixedLoss(_Number):
    """``fixed: amount``: every event loses exactly that amount."""

    def sampler(self) -> LossSampler:
        fixed = self.value
        return lambda rng, k: np.full(k, fixed, dtype=np.float64)


class Severity(OneOf):
    """Ground-up loss per event: exactly one form, and an optional ``cap``."""

    what: ClassVar[str] = "severity"
    besides: ClassVar[tuple[str, ...]] = ("cap",)

    lognormal: Lognormal | None = None
    pareto: Pareto | None = None
    gamma: Gamma | None = None
    uniform: Uniform | None = None
    fixed: Amount | None = None
    empirical: Empirical | None = None
    cap: Amount | None = None

    def chosen(self) -> SeverityForm:
        """The form given, which knows its mean and its sampler (the ``cap`` aside)."""
        return _form_of(self, _NUMBER_SEVERITIES)

    def sampler(self) -> LossSampler:
        """A function drawing ``k`` ground-up losses, capped at ``cap`` where one is given."""
        draw = self.chosen().sampler()
        cap = self.cap
        if cap is None:
            return draw

        def capped(rng: np.random.Generator, k: int) -> LossArray:
            losses = draw(rng, k)
            return np.minimum(losses, cap, out=losses)

        return capped


#: The severity forms written as one number, and the class each number makes.
_NUMBER_SEVERITIES: dict[str, Callable[[Any], SeverityForm]] = {"fixed": FixedLoss}
