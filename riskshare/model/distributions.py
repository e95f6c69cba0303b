"""Event frequency and severity: each form of the format as a model.

Each form declares its parameters here; :mod:`riskshare.engine.events` declares its sampler.
"""

from __future__ import annotations

import math
from typing import Annotated

from pydantic import Field, model_validator
from pydantic_core import PydanticCustomError

from riskshare.model.fields import Amount, Count, Model, Probability, exactly_one

# --- frequency ------------------------------------------------------------------------


class Binomial(Model):
    n: Count
    p: Probability


class NegativeBinomial(Model):
    mean: Annotated[float, Field(ge=0, allow_inf_nan=False)]
    mix_cv: Annotated[float, Field(gt=0, allow_inf_nan=False)]


class Frequency(Model):
    """Events per simulated year: exactly one form."""

    poisson: Annotated[float, Field(ge=0, allow_inf_nan=False)] | None = None
    bernoulli: Probability | None = None
    binomial: Binomial | None = None
    negative_binomial: NegativeBinomial | None = None
    fixed: Count | None = None

    @model_validator(mode="after")
    def _one_form(self) -> Frequency:
        exactly_one(self, "frequency")
        return self

    @property
    def mean(self) -> float:
        """Expected number of events per year."""
        if self.poisson is not None:
            return self.poisson
        if self.bernoulli is not None:
            return self.bernoulli
        if self.binomial is not None:
            return self.binomial.n * self.binomial.p
        if self.negative_binomial is not None:
            return self.negative_binomial.mean
        assert self.fixed is not None
        return float(self.fixed)


# --- severity -------------------------------------------------------------------------


class Lognormal(Model):
    """Either ``{mean, cv}`` of X or ``{mu, sigma}`` of ln X."""

    mean: Amount | None = None
    cv: Annotated[float, Field(gt=0, allow_inf_nan=False)] | None = None
    mu: Annotated[float, Field(allow_inf_nan=False)] | None = None
    sigma: Annotated[float, Field(gt=0, allow_inf_nan=False)] | None = None

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


class Pareto(Model):
    scale: Annotated[Amount, Field(gt=0)]
    alpha: Annotated[float, Field(gt=0, allow_inf_nan=False)]


class Gamma(Model):
    mean: Annotated[Amount, Field(gt=0)]
    cv: Annotated[float, Field(gt=0, allow_inf_nan=False)]


class Uniform(Model):
    low: Amount
    high: Amount

    @model_validator(mode="after")
    def _ordered(self) -> Uniform:
        if self.high < self.low:
            raise PydanticCustomError("uniform", "uniform needs low ≤ high")
        return self


class Empirical(Model):
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


class Severity(Model):
    """Ground-up loss per event: exactly one form, and an optional ``cap``."""

    lognormal: Lognormal | None = None
    pareto: Pareto | None = None
    gamma: Gamma | None = None
    uniform: Uniform | None = None
    fixed: Amount | None = None
    empirical: Empirical | None = None
    cap: Amount | None = None

    @model_validator(mode="after")
    def _one_form(self) -> Severity:
        exactly_one(self, "severity", besides=("cap",))
        return self

    @property
    def form(self) -> str:
        return next(
            name
            for name in type(self).model_fields
            if name != "cap" and getattr(self, name) is not None
        )
