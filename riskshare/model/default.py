"""Counterparty default (format 1.2): a party or consortium member that may not pay in full.

``default: {probability, recovery, stressed: {over, probability}}`` on a party, and a
consortium member written ``MEMBER: {share: 35%, default: …}``. How a default year is
drawn and what a defaulting party pays is the engine's (:mod:`riskshare.engine.defaults`).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Discriminator, Tag

from riskshare.model.fields import Amount, Model, Share


class Stressed(Model):
    """A higher default probability in years whose total ground-up loss is at least ``over``."""

    over: Amount
    probability: Share


class Default(Model):
    """Each year the party defaults with ``probability`` (``stressed.probability`` in a bad
    year) and then pays ``recovery`` of what its layers owe."""

    probability: Share
    recovery: Share = 0.0
    stressed: Stressed | None = None


class MemberTerms(Model):
    """A consortium member written in full: its share and, optionally, its default."""

    share: Share
    default: Default | None = None


def _member_form(value: object) -> str:
    return "terms" if isinstance(value, (dict, MemberTerms)) else "share"


#: A consortium member: ``35%``, or ``{share: 35%, default: …}``.
MemberSpec = Annotated[
    Annotated[Share, Tag("share")] | Annotated[MemberTerms, Tag("terms")],
    Discriminator(_member_form),
]
