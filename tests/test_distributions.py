"""Each frequency and severity form: its mean, its sampler, and the numpy call it makes."""

from __future__ import annotations

import json
import math
from collections.abc import Callable

import numpy as np
import pytest

from riskshare.model.distributions import Frequency, Severity

FREQUENCIES: list[tuple[dict[str, object], float]] = [
    ({"poisson": 1.5}, 1.5),
    ({"bernoulli": 0.3}, 0.3),
    ({"binomial": {"n": 4, "p": 0.2}}, 0.8),
    ({"negative_binomial": {"mean": 1.5, "mix_cv": 0.6}}, 1.5),
    ({"fixed": 2}, 2.0),
]

SEVERITIES: list[tuple[dict[str, object], float]] = [
    ({"lognormal": {"mean": "6M", "cv": 1.2}}, 6e6),
    ({"lognormal": {"mu": 15.5, "sigma": 1.0}}, math.exp(16.0)),
    ({"pareto": {"scale": "4M", "alpha": 3}}, 6e6),
    ({"gamma": {"mean": "3M", "cv": 0.8}}, 3e6),
    ({"uniform": {"low": "1M", "high": "5M"}}, 3e6),
    ({"fixed": "7M"}, 7e6),
    ({"empirical": {"values": ["1M", "2M", "9M"]}}, 4e6),
    ({"empirical": {"values": ["1M", "2M", "9M"], "probabilities": [0.5, 0.3, 0.2]}}, 2.9e6),
]


def name(value: object) -> str:
    if isinstance(value, dict):
        return json.dumps(value)
    return "numpy" if callable(value) else str(value)


def rng() -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(20250301))


def test_every_frequency_form_is_tested() -> None:
    assert {next(iter(given)) for given, _ in FREQUENCIES} == set(Frequency.model_fields)


def test_every_severity_form_is_tested() -> None:
    tested = {next(iter(given)) for given, _ in SEVERITIES}
    assert tested == set(Severity.model_fields) - {"cap"}


@pytest.mark.parametrize(("given", "mean"), FREQUENCIES, ids=name)
def test_frequency_mean(given: dict[str, object], mean: float) -> None:
    frequency = Frequency.model_validate(given)
    assert frequency.mean == pytest.approx(mean, rel=1e-12)
    draws = frequency.sampler()(rng(), 200_000)
    assert draws.dtype == np.int64
    assert draws.mean() == pytest.approx(mean, rel=0.02)


@pytest.mark.parametrize(("given", "mean"), SEVERITIES, ids=name)
def test_severity_mean(given: dict[str, object], mean: float) -> None:
    form = Severity.model_validate(given).chosen()
    assert form.expected() == pytest.approx(mean, rel=1e-12)
    draws = form.sampler()(rng(), 200_000)
    assert draws.dtype == np.float64
    assert draws.mean() == pytest.approx(mean, rel=0.02)


def test_pareto_without_a_finite_mean() -> None:
    assert Severity.model_validate({"pareto": {"scale": 1, "alpha": 1}}).chosen().expected() == (
        math.inf
    )


def test_cap_bounds_every_loss() -> None:
    severity = Severity.model_validate({"pareto": {"scale": "1M", "alpha": 1.1}, "cap": "5M"})
    losses = severity.sampler()(rng(), 10_000)
    assert losses.max() == 5e6
    assert losses.min() >= 1e6


# Each form is one numpy call on the block's stream: the same seed must give the same
# numbers to the last digit as that call, so changing a call shows here first.
CALLS: list[tuple[dict[str, object], Callable[[np.random.Generator, int], object]]] = [
    ({"poisson": 1.5}, lambda g, n: g.poisson(1.5, n)),
    ({"bernoulli": 0.3}, lambda g, n: (g.random(n) < 0.3).astype(np.int64)),
    ({"binomial": {"n": 4, "p": 0.2}}, lambda g, n: g.binomial(4, 0.2, n)),
    (
        {"negative_binomial": {"mean": 1.5, "mix_cv": 0.6}},
        lambda g, n: g.poisson(g.gamma(1.0 / 0.6**2, 1.5 * 0.6**2, n)),
    ),
    ({"fixed": 2}, lambda g, n: np.full(n, 2, dtype=np.int64)),
]
LOSS_CALLS: list[tuple[dict[str, object], Callable[[np.random.Generator, int], object]]] = [
    (
        {"lognormal": {"mean": 6e6, "cv": 1.2}},
        lambda g, k: g.lognormal(
            math.log(6e6) - math.log1p(1.44) / 2, math.sqrt(math.log1p(1.44)), k
        ),
    ),
    ({"lognormal": {"mu": 15.5, "sigma": 1.0}}, lambda g, k: g.lognormal(15.5, 1.0, k)),
    ({"pareto": {"scale": 4e6, "alpha": 1.5}}, lambda g, k: 4e6 * (g.pareto(1.5, k) + 1.0)),
    (
        {"gamma": {"mean": 3e6, "cv": 0.8}},
        lambda g, k: g.gamma(1.0 / 0.8**2, 3e6 * 0.8**2, k),
    ),
    ({"uniform": {"low": 1e6, "high": 5e6}}, lambda g, k: g.uniform(1e6, 5e6, k)),
    ({"fixed": 7e6}, lambda g, k: np.full(k, 7e6)),
    (
        {"empirical": {"values": [1e6, 2e6, 9e6], "probabilities": [0.5, 0.3, 0.2]}},
        lambda g, k: g.choice(np.array([1e6, 2e6, 9e6]), k, p=np.array([0.5, 0.3, 0.2])),
    ),
    (
        {"lognormal": {"mu": 15.5, "sigma": 1.0}, "cap": 1e7},
        lambda g, k: np.minimum(g.lognormal(15.5, 1.0, k), 1e7),
    ),
]


@pytest.mark.parametrize(("given", "call"), CALLS, ids=name)
def test_frequency_draws_are_one_numpy_call(
    given: dict[str, object], call: Callable[[np.random.Generator, int], object]
) -> None:
    got = Frequency.model_validate(given).sampler()(rng(), 1000)
    assert np.array_equal(got, np.asarray(call(rng(), 1000)))


@pytest.mark.parametrize(("given", "call"), LOSS_CALLS, ids=name)
def test_severity_draws_are_one_numpy_call(
    given: dict[str, object], call: Callable[[np.random.Generator, int], object]
) -> None:
    got = Severity.model_validate(given).sampler()(rng(), 1000)
    assert np.array_equal(got, np.asarray(call(rng(), 1000)))
