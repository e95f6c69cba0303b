"""Counterparty default (format 1.2): the core against the reference, and closed forms.

Closed forms (derived in docs/concepts.md, "Counterparty default"):

- a reinsurer that defaults in a share p of years, independently of the losses, and
  then pays a recovery r, pays 1 − p × (1 − r) of its expected layer: 94% for p = 10%,
  r = 40%;
- with N ~ Poisson(1) losses of 1M a year and a default of probability q only in years
  whose total is at least 3M, P(default) = q × P(N ≥ 3) = q × (1 − 2.5/e), and a
  reinsurer of the whole loss with no recovery leaves unrecovered
  q × E[N; N ≥ 3] = q × (1 − 2/e) million a year.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pytest
import reference
from hypothesis import HealthCheck, given, settings
from strategies import Case, cases

from riskshare.engine.block import allocate_block
from riskshare.engine.defaults import uniforms
from riskshare.engine.plan import compile_plan
from riskshare.engine.series import per_year
from riskshare.model.scenario import Scenario
from riskshare.runs.simulation import simulate

SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def scenario(text: dict[str, Any]) -> Scenario:
    return Scenario.model_validate(text)


@SETTINGS
@given(cases(defaults=True))
def test_every_figure_with_defaults_equals_the_reference(case: Case) -> None:
    fast = simulate(case.scenario, years=case.years, seed=0).to_dict()
    ref = reference.run(case.scenario, case.years).figures
    reference.assert_figures_match(fast, ref, case.loss_scale)


@SETTINGS
@given(cases(defaults=True))
def test_members_hold_their_consortium_and_no_net_is_negative(case: Case) -> None:
    """Conservation is checked by every run; members add up to their consortium."""
    fast = simulate(case.scenario, years=case.years, seed=0).to_dict()
    scale = case.loss_scale
    for party in fast["parties"].values():
        assert party["mean"] >= -1e-9 * scale
        assert party.get("unrecovered", 0.0) >= -1e-9 * scale
        members = party.get("members")
        if members:
            held = math.fsum(m["mean"] for m in members.values())
            assert held == pytest.approx(party["mean"], rel=1e-9, abs=1e-9 * scale)
            assert all(m["mean"] >= -1e-9 * scale for m in members.values())


def test_a_years_draw_depends_only_on_the_seed_the_year_and_the_name() -> None:
    whole = uniforms(7, "re", 0, 300)
    np.testing.assert_array_equal(uniforms(7, "re", 120, 180), whole[120:])
    assert not np.array_equal(uniforms(7, "re2", 0, 300), whole)
    assert not np.array_equal(uniforms(8, "re", 0, 300), whole)


def tower(attachment: str, default: dict[str, Any] | None = None) -> dict[str, Any]:
    re: dict[str, Any] = {"kind": "reinsurer"}
    if default is not None:
        re["default"] = default
    return {
        "name": "tower",
        "simulation": {"years": 200_000, "seed": 11},
        "parties": {"cedent": {"kind": "insurer"}, "re": re},
        "residual": "cedent",
        "events": [
            {
                "name": "loss",
                "frequency": {"poisson": 1},
                "severity": {"lognormal": {"mean": "10M", "cv": 1.5}},
            }
        ],
        "layers": [{"name": "xl", "party": "re", "attachment": attachment, "limit": "40M"}],
    }


def test_a_reinsurer_defaulting_in_10pc_of_years_with_40pc_recovery_pays_94pc() -> None:
    years, seed = 200_000, 11
    defaulting = compile_plan(scenario(tower("5M", {"probability": 0.1, "recovery": 0.4})))
    sound = compile_plan(scenario(tower("5M")))
    paid_block, _ = allocate_block(defaulting, seed, 0, 0, years, 1e-9)
    owed_block, _ = allocate_block(sound, seed, 0, 0, years, 1e-9)
    paid = per_year(paid_block.block, paid_block.payouts[0])
    owed = per_year(owed_block.block, owed_block.payouts[0])
    difference = paid - 0.94 * owed  # mean zero by the closed form
    assert abs(difference.mean()) < 4 * difference.std() / math.sqrt(years)
    assert paid.mean() / owed.mean() == pytest.approx(0.94, abs=0.01)


def test_a_stressed_default_only_in_years_of_three_losses_or_more() -> None:
    q, years = 0.5, 200_000
    text = tower("0", {"probability": 0, "stressed": {"over": "3M", "probability": q}})
    text["events"][0]["severity"] = {"fixed": "1M"}
    text["layers"][0].pop("limit")
    result = simulate(scenario(text), years=years).to_dict()
    p = q * (1 - 2.5 / math.e)
    prob = result["parties"]["re"]["prob_default"]
    assert abs(prob - p) < 4 * math.sqrt(p * (1 - p) / years)
    mean = q * (1 - 2 / math.e) * 1e6
    second = q * (2 - 3 / math.e) * 1e12  # E[(N 1{N ≥ 3} B)²]
    unrecovered = result["parties"]["cedent"]["unrecovered"]
    assert abs(unrecovered - mean) < 4 * math.sqrt((second - mean**2) / years)
    assert result["parties"]["re"]["unrecovered"] == 0.0


def test_every_structure_sees_the_same_default_years() -> None:
    """Default draws are common random numbers: another attachment, the same years."""
    default = {"probability": 0.2, "recovery": 0.5}
    low = simulate(scenario(tower("5M", default)), years=30_000).to_dict()
    high = simulate(scenario(tower("15M", default)), years=30_000).to_dict()
    assert low["parties"]["re"]["prob_default"] == high["parties"]["re"]["prob_default"]


def test_the_json_is_the_same_for_any_number_of_workers() -> None:
    text = tower("5M", {"probability": 0.1, "recovery": 0.4})
    text["parties"]["pool"] = {
        "kind": "consortium",
        "members": {"A": 0.6, "B": {"share": 0.4, "default": {"probability": 0.3}}},
    }
    text["layers"].append({"name": "qs", "party": "pool", "from": "net:cedent", "share": 0.3})
    runs = []
    for workers in (1, 2):
        document = simulate(scenario(text), years=230_000, workers=workers).to_dict()
        document["simulation"].pop("seconds")
        runs.append(json.dumps(document))
    assert runs[0] == runs[1]


def test_a_file_without_defaults_reports_no_default_figures() -> None:
    result = simulate(scenario(tower("5M")), years=1000).to_dict()
    assert "unrecovered" not in result["parties"]["cedent"]
    assert "prob_default" not in result["parties"]["re"]


def test_explain_shows_what_a_defaulting_party_owed_and_paid() -> None:
    from riskshare.runs.explain import explain

    text = tower("5M", {"probability": 0.01, "recovery": 0.4})
    text["parties"]["pool"] = {
        "kind": "consortium",
        "members": {"A": 0.5, "B": {"share": 0.5, "default": {"probability": 0.02}}},
    }
    text["layers"].append({"name": "qs", "party": "pool", "from": "net:cedent", "share": 0.3})
    document = explain(scenario(text), [30e6], defaults=["re", "pool/B"]).to_dict()
    event = document["events"][0]
    assert event["owed"] == {"xl": 25e6, "qs": pytest.approx(0.3 * 20e6)}
    assert event["layers"]["xl"] == pytest.approx(0.4 * 25e6)
    # the cedent keeps what re did not pay, and the pool takes its share of that
    assert event["layers"]["qs"] == pytest.approx(0.5 * 0.3 * 20e6)
    assert event["parties"]["pool/B"] == 0.0
    assert event["parties"]["cedent"] == pytest.approx(30e6 - 10e6 - 3e6)
    assert document["defaults"] == ["re", "pool/B"]
    plain = explain(scenario(text), [30e6]).to_dict()
    assert "owed" not in plain["events"][0] and "defaults" not in plain


def test_the_schema_covers_the_default_keys() -> None:
    from riskshare.model.scenario import scenario_json_schema

    defs: Any = scenario_json_schema()["$defs"]
    assert set(defs["Default"]["properties"]) == {"probability", "recovery", "stressed"}
    assert "default" in defs["Party"]["properties"]
    assert set(defs["MemberTerms"]["properties"]) == {"share", "default"}
