"""Premiums and costs: what each layer charges, who pays it, and each party's annual cost.

The only place premium arithmetic is written. A layer's annual premium is a fixed
amount, a rate on its limit, or its expected payout with a loading (known only once a
run has summed the layer's payouts: :mod:`riskshare.engine.schedule` prices it). The
payer pays the premium less the parts other parties subsidise; the layer's party
receives it whole. A layer with reinstatements charges, per unit of payout reinstated,
its reinstatement premium rate times the premium over the limit. A party's annual cost
is its net loss, plus the premiums it pays, less those it receives, plus the
reinstatement premiums it pays, less those it receives.

Imports riskshare.engine.events (array types) and riskshare.engine.plan.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import NamedTuple

import numpy as np

from riskshare.engine.events import FloatArray
from riskshare.engine.plan import LayerTerms, Plan

#: Each party's premium flows (:func:`premium_flows`) and each layer's reinstatement
#: premium rate (:func:`reinstatement_rates`): what a run needs of the premiums to cost.
Priced = tuple[FloatArray, FloatArray]


def premium_of(layer: LayerTerms, expected_payout: float) -> float:
    """A layer's annual premium, given its simulated expected payout."""
    if layer.premium_form is None:
        return 0.0
    if layer.premium_form == "amount":
        return layer.premium_value
    if layer.premium_form == "rate_on_line":
        return layer.premium_value * layer.limit
    return (1.0 + layer.premium_value) * expected_payout


def premiums_for(plan: Plan, expected: FloatArray) -> FloatArray:
    """Each layer's annual premium, given each layer's expected payout (zeros where no
    premium is priced)."""
    return np.array([premium_of(layer, e) for layer, e in zip(plan.layers, expected, strict=True)])


def _payments(layer: LayerTerms, premium: float) -> tuple[float, list[tuple[int, float]]]:
    """What the payer pays of a layer's ``premium``, and what each subsidising party pays."""
    subsidised = sum(share for _, share in layer.subsidies)
    return premium * (1.0 - subsidised), [
        (party, premium * share) for party, share in layer.subsidies
    ]


def premium_flows(plan: Plan, premiums: FloatArray) -> FloatArray:
    """Each party's annual premium outgo less income (subsidies included), before claims."""
    flows = np.zeros(len(plan.parties))
    for layer, premium in zip(plan.layers, premiums, strict=True):
        if layer.premium_form is None:
            continue
        paid, subsidies = _payments(layer, premium)
        flows[layer.payer] += paid
        for party, subsidy in subsidies:
            flows[party] += subsidy
        flows[layer.party] -= premium
    return flows


def charged_layers(plan: Plan) -> list[int]:
    """The layers that can charge reinstatement premiums."""
    return [
        j
        for j, layer in enumerate(plan.layers)
        if layer.reinstatement_premium is not None and layer.premium_form is not None
    ]


def reinstatement_rates(plan: Plan, premiums: FloatArray) -> FloatArray:
    """Per layer: reinstatement premium charged per unit of reinstated payout."""
    rates = np.zeros(len(plan.layers))
    for j in charged_layers(plan):
        layer = plan.layers[j]
        assert layer.reinstatement_premium is not None
        rates[j] = layer.reinstatement_premium * premiums[j] / layer.limit
    return rates


def cost_terms(plan: Plan, premiums: FloatArray) -> Priced:
    """What costing needs of ``premiums``: each party's flows, each layer's rate."""
    return premium_flows(plan, premiums), reinstatement_rates(plan, premiums)


def reinstatement_charges(
    rates: FloatArray, reinstated: Mapping[int, FloatArray]
) -> dict[int, FloatArray]:
    """Per layer that charges any: its reinstatement premiums (rate × payout reinstated),
    year by year, from each charged layer's reinstated payouts ``reinstated``."""
    return {j: rates[j] * amounts for j, amounts in reinstated.items() if rates[j] != 0.0}


def party_costs(
    plan: Plan,
    party_years: Sequence[FloatArray],
    reinstated: Mapping[int, FloatArray],
    flows: FloatArray,
    rates: FloatArray,
) -> list[FloatArray]:
    """Each party's annual cost: its net (``party_years``), its premium flows, and the
    reinstatement premiums it pays less those it receives, given each charged layer's
    reinstated payouts (``reinstated``, in layer order)."""
    costs = [annual + flows[i] for i, annual in enumerate(party_years)]
    for j, charged in reinstatement_charges(rates, reinstated).items():
        layer = plan.layers[j]
        costs[layer.payer] += charged
        costs[layer.party] -= charged
    return costs


class PremiumSplit(NamedTuple):
    """Per party name: premiums paid (after subsidies), premiums received, subsidies
    paid; a party that does none of one is absent from it."""

    paid: dict[str, float]
    received: dict[str, float]
    subsidies: dict[str, float]


def premium_split(plan: Plan, premiums: FloatArray | None) -> PremiumSplit:
    """Who pays and who receives each layer's premium, summed per party (empty without
    premiums)."""
    split = PremiumSplit({}, {}, {})
    if premiums is None:
        return split
    for layer, premium in zip(plan.layers, premiums, strict=True):
        if layer.premium_form is None:
            continue
        paid, subsidies = _payments(layer, float(premium))
        _add(split.paid, plan.parties[layer.payer], paid)
        _add(split.received, plan.parties[layer.party], float(premium))
        for party, subsidy in subsidies:
            _add(split.subsidies, plan.parties[party], subsidy)
    return split


def _add(amounts: dict[str, float], name: str, amount: float) -> None:
    amounts[name] = amounts.get(name, 0.0) + amount
