"""Counterparty default: which years each party or member defaults, and what it then pays.

Each party or consortium member with a ``default`` draws one uniform per simulated
year from a stream of its own, keyed by the run's seed and a stable hash of its name
(``PARTY`` or ``CONSORTIUM/MEMBER``): a :class:`numpy.random.SeedSequence` with
``spawn_key = (DEFAULT_STREAM, hash)``, PCG64, and year ``y`` (from 0) is the
``y``-th double of the stream, reached by ``advance``. So a year's draw depends only
on the seed, the year and the name: never on the events, the blocks, the workers or
the other parties, and ``compare`` and ``sweep`` see the same default years for the
same party in every structure. It defaults when the uniform is below its
probability, the stressed one in years whose total ground-up loss is at least
``stressed.over``. In a default year it pays ``recovery`` of what its layers owe.

Imports riskshare.engine.events only for its array types.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

import numpy as np

from riskshare.engine.events import FloatArray

#: The first word of every default stream's spawn key, apart from the blocks' (b,).
DEFAULT_STREAM = 0x64656661  # "defa"


@dataclass(frozen=True)
class Defaulter:
    """A party (``member`` −1) or a consortium member that may default, with its terms."""

    name: str  # PARTY or CONSORTIUM/MEMBER: the key of its draws
    party: int  # the party, or the member's consortium
    member: int  # the member's index in the plan, −1 for a party
    probability: float
    recovery: float
    over: float = math.inf  # stressed in years whose total is at least this
    stressed_probability: float = 0.0


def name_key(name: str) -> int:
    """A stable 64-bit key of a name (Python's ``hash`` changes from run to run)."""
    return int.from_bytes(hashlib.sha256(name.encode("utf-8")).digest()[:8], "little")


def uniforms(seed: int, name: str, first_year: int, n_years: int) -> FloatArray:
    """The default draws of ``name`` for years ``first_year`` .. ``first_year + n_years − 1``."""
    sequence = np.random.SeedSequence(seed, spawn_key=(DEFAULT_STREAM, name_key(name)))
    bits = np.random.PCG64(sequence)
    bits.advance(first_year)  # one double is one 64-bit output
    drawn: FloatArray = np.random.Generator(bits).random(n_years)
    return drawn


def default_flags(
    defaulters: tuple[Defaulter, ...], seed: int, first_year: int, totals: FloatArray
) -> np.ndarray:
    """(defaulters, years): whether each defaults in each year, ``totals`` each year's
    total ground-up loss."""
    flags = np.zeros((len(defaulters), len(totals)), dtype=bool)
    for d, defaulter in enumerate(defaulters):
        u = uniforms(seed, defaulter.name, first_year, len(totals))
        probability = np.full(len(totals), defaulter.probability)
        if math.isfinite(defaulter.over):
            probability[totals >= defaulter.over] = defaulter.stressed_probability
        flags[d] = u < probability
    return flags


@dataclass(frozen=True)
class Credit:
    """The default years of a stretch of years and what each party and member pays in them.

    ``party_factor[i, y]`` is what party ``i`` pays of what its layers owe in year ``y``
    (its recovery in a default year, 1 otherwise), ``member_factor[k, y]`` member ``k``'s;
    ``flags`` are :func:`default_flags`.
    """

    flags: np.ndarray
    party_factor: FloatArray
    member_factor: FloatArray


def credit_of(
    defaulters: tuple[Defaulter, ...], n_parties: int, n_members: int, flags: np.ndarray
) -> Credit:
    """The :class:`Credit` of default ``flags`` (as :func:`default_flags` gives them)."""
    n_years = flags.shape[1]
    party_factor = np.ones((n_parties, n_years))
    member_factor = np.ones((n_members, n_years))
    for d, defaulter in enumerate(defaulters):
        row = member_factor[defaulter.member] if defaulter.member >= 0 else None
        if row is None:
            row = party_factor[defaulter.party]
        row[flags[d]] = defaulter.recovery
    return Credit(flags, party_factor, member_factor)


def drawn_credit(
    defaulters: tuple[Defaulter, ...],
    n_parties: int,
    n_members: int,
    seed: int,
    first_year: int,
    totals: FloatArray,
) -> Credit:
    """The :class:`Credit` of years ``first_year`` on, drawn from ``seed``."""
    flags = default_flags(defaulters, seed, first_year, totals)
    return credit_of(defaulters, n_parties, n_members, flags)
