"""Premiums, reinstatement premiums and subsidies (scenario format 1.1).

Hand-computed cases from the issue, the two properties it names (costs add up to
the ground-up loss every year; a subsidy moves cost one for one), and the fast core's
cost figures, premiums, loss ratios and rates on line against the scalar reference.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import reference
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from render import run
from strategies import Case, build, cases, errors, fast_allocation, table

from riskshare.engine.plan import Plan, compile_plan
from riskshare.engine.premiums import (
    charged_layers,
    cost_terms,
    party_costs,
    premium_flows,
    premium_of,
    premium_split,
    premiums_for,
    reinstatement_charges,
    reinstatement_rates,
)
from riskshare.engine.series import SeriesKey, annual_series
from riskshare.loading.load import load_scenario
from riskshare.model.scenario import Scenario
from riskshare.runs.explain import explain
from riskshare.runs.simulation import layer_premiums, simulate

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

PARTIES = {
    "ent": {"kind": "enterprise"},
    "ins": {"kind": "insurer"},
    "gov": {"kind": "government"},
}


def priced(layer: dict[str, Any], rows: list[tuple[int, str, float]]) -> Scenario:
    data = {
        "name": "priced",
        "parties": PARTIES,
        "events_file": "given.csv",
        "layers": [{"name": "X", "party": "ins", **layer}],
    }
    scenario = build(data, table(rows))
    assert not errors(scenario)
    return scenario


def costs(result: dict[str, Any]) -> dict[str, float]:
    return {name: entry["cost"]["mean"] for name, entry in result["parties"].items()}


# --- hand-computed -----------------------------------------------------------------

REINSTATED = {
    "attachment": 100,
    "limit": 100,
    "reinstatements": 2,
    "premium": {"amount": 10},
    "reinstatement_premium": "100%",
}


@pytest.mark.parametrize(
    ("losses", "payouts", "reinstatement_premiums", "ent_cost", "ins_cost"),
    [
        pytest.param(
            # 100 xs 100, two reinstatements: aggregate limit 100 × 3 = 300; reinstated
            # are the first n × limit = 200 of the year's payouts.
            # 150: o = 50; C = A = 50; a = 50; R = min(50, 200) − 0 = 50 → 100% × 10 × 50/100 = 5
            # 250: o = 100; C = A = 150; a = 100; R = min(150, 200) − 50 = 100 → 10 × 100/100 = 10
            # ent keeps 100 + 150 = 250 and pays 10 + 5 + 10: cost 275
            # ins pays 50 + 100 = 150 and receives 25: cost 125.  275 + 125 = 400 = the losses
            [150.0, 250.0],
            [50.0, 100.0],
            [5.0, 10.0],
            275.0,
            125.0,
            id="issue_two_reinstatements_150_250",
        ),
        pytest.param(
            # as above, then 300: o = 100; C = A = 250; a = 100; R = min(250, 200) − 150 = 50 → 5
            # then 400: o = 100; C = 350; A = min(350, 300) = 300; a = 50; R = 200 − 200 = 0
            # ent keeps 100 + 150 + 200 + 350 = 800, pays 10 + 20: 830
            # ins pays 50 + 100 + 100 + 50 = 300, receives 30: 270.  830 + 270 = 1100
            [150.0, 250.0, 300.0, 400.0],
            [50.0, 100.0, 100.0, 50.0],
            [5.0, 10.0, 5.0, 0.0],
            830.0,
            270.0,
            id="issue_two_reinstatements_used_up",
        ),
    ],
)
def test_reinstatement_premiums_by_hand(
    losses: list[float],
    payouts: list[float],
    reinstatement_premiums: list[float],
    ent_cost: float,
    ins_cost: float,
) -> None:
    scenario = priced(REINSTATED, [(1, "", loss) for loss in losses])
    allocation = fast_allocation(scenario, 1)
    np.testing.assert_allclose(allocation.payouts[0], payouts)
    # R_i at 100%; the charge is r × premium × R_i ÷ limit
    np.testing.assert_allclose(1.0 * 10 * allocation.reinstated[0] / 100, reinstatement_premiums)
    result: Any = simulate(scenario, years=1).to_dict()
    assert costs(result) == pytest.approx({"ent": ent_cost, "ins": ins_cost, "gov": 0.0})
    layer = result["layers"]["X"]
    assert layer["premium"] == 10.0
    assert layer["loss_ratio"] == pytest.approx(sum(payouts) / 10)
    assert layer["rate_on_line"] == pytest.approx(0.1)  # 10 ÷ 100


def test_an_80_percent_subsidy_on_a_3_percent_rate_on_line() -> None:
    # premium = 3% × limit 1,000 = 30; gov pays 80% = 24, ent the other 6.
    # year 1, a loss of 500: ins pays min(500 − 100, 1000) = 400, ent keeps 100.
    #   ent 100 + 6 = 106;  gov 24;  ins 400 − 30 = 370   (sum 500)
    # year 2, no loss: ent 6; gov 24; ins −30              (sum 0)
    scenario = priced(
        {
            "attachment": 100,
            "limit": 1000,
            "premium": {"rate_on_line": "3%"},
            "subsidy": {"party": "gov", "share": "80%"},
        },
        [(1, "", 500.0)],
    )
    result: Any = simulate(scenario, years=2).to_dict()
    assert costs(result) == pytest.approx(
        {"ent": (106 + 6) / 2, "gov": 24.0, "ins": (370 - 30) / 2}
    )
    assert result["parties"]["gov"]["cost"]["std"] == pytest.approx(0.0, abs=1e-12)
    assert result["parties"]["ins"]["cost"]["prob_positive"] == 0.5  # 370 > 0, −30 < 0
    assert result["parties"]["ins"]["cost"]["max"] == pytest.approx(370.0)
    layer = result["layers"]["X"]
    assert layer["premium"] == pytest.approx(30.0)
    assert layer["rate_on_line"] == pytest.approx(0.03)
    assert layer["loss_ratio"] == pytest.approx(200 / 30)  # expected payout 400 / 2 years


# --- budgets: the outlay compared with a budget is the party's cost ----------------

MINISTRY = """\
name: a ministry's budget line
simulation: {years: 4}
parties:
  ent: {kind: enterprise, budget: 12}
  ins: {kind: insurer}
  gov: {kind: government, label: Ministry, budget: 50}
events_file: losses.csv
layers:
  - name: primary
    party: ins
    attachment: 10
    limit: 90
    premium: {amount: 20}
    subsidy: {party: gov, share: 80%}
  - {name: backstop, party: gov, attachment: 100}
"""
# Year 1 has no loss; years 2, 3 and 4 one loss each: 60, 150, 300.
MINISTRY_LOSSES = "year,loss\n2,60\n3,150\n4,300\n"
# The premium, 20 a year: the ministry pays 80% (16), ent the other 4, ins receives 20.
#   year 1, no loss:  ent 4;                     ins −20;        gov 16
#   year 2, 60:   primary 50;  ent 10 + 4 = 14;  ins 50 − 20 = 30;  gov 16
#   year 3, 150:  primary 90, backstop 50:   ent 14;  ins 70;  gov 50 + 16 = 66
#   year 4, 300:  primary 90, backstop 200:  ent 14;  ins 70;  gov 200 + 16 = 216
# gov's outlay 16, 16, 66, 216 against 50: over in years 3 and 4, by 16 and 166:
#   P(over) = 2/4 = 0.5;  expected excess = (16 + 166)/4 = 45.5;  expected outlay 78.5.
# (Its net loss, 0, 0, 50, 200, would give 0.25 and 150/4 = 37.5.)
# ent's outlay 4, 14, 14, 14 against 12: over in years 2 to 4 by 2:  0.75 and 6/4 = 1.5.
# (Its net loss, 0, 10, 10, 10, never exceeds 12.)
MINISTRY_BUDGETS = {
    "gov": {"budget": 50.0, "prob_over_budget": 0.5, "expected_over_budget": 45.5},
    "ent": {"budget": 12.0, "prob_over_budget": 0.75, "expected_over_budget": 1.5},
}


@pytest.fixture
def ministry(tmp_path: Path) -> Path:
    (tmp_path / "losses.csv").write_text(MINISTRY_LOSSES, encoding="utf-8")
    path = tmp_path / "ministry.yaml"
    path.write_text(MINISTRY, encoding="utf-8")
    return path


def test_a_budget_is_compared_with_the_cost_premiums_and_subsidies_included(
    ministry: Path,
) -> None:
    result: Any = simulate(load_scenario(ministry)).to_dict()
    for name, figures in MINISTRY_BUDGETS.items():
        entry = result["parties"][name]
        assert {key: entry[key] for key in figures} == figures, name
    assert result["parties"]["gov"]["cost"]["mean"] == 78.5
    assert result["parties"]["ent"]["cost"]["mean"] == 11.5


def test_every_command_shows_a_budget_against_the_outlay(ministry: Path) -> None:
    out = ministry.parent / "out.json"
    shown = run("simulate", str(ministry), "--json", str(out))
    assert shown.exit_code == 0, shown.stderr
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["parties"]["gov"]["prob_over_budget"] == 0.5
    table = shown.stdout[shown.stdout.index("Budgets") :]
    assert table.startswith("Budgets against the cost of risk")
    ministry_row = next(line for line in table.splitlines() if "Ministry" in line)
    assert ministry_row.split() == ["Ministry", "50", "78.5", "50%", "45.5"]
    swept = run(
        "sweep",
        str(ministry),
        "--set",
        "parties.gov.budget=50,70",
        "--json",
        str(out),
    )
    assert swept.exit_code == 0, swept.stderr
    points = json.loads(out.read_text(encoding="utf-8"))["points"]
    # 70: only year 4 (216) is over, by 146
    assert [p["parties"]["gov"]["prob_over_budget"] for p in points] == [0.5, 0.25]
    assert [p["parties"]["gov"]["expected_over_budget"] for p in points] == [45.5, 36.5]


def test_a_loading_prices_the_simulated_expected_payout() -> None:
    # payouts 50 (year 1) and 0 (year 2): expected 25; loading 20% → premium 30
    scenario = priced({"attachment": 50, "premium": {"loading": "20%"}}, [(1, "", 100.0)])
    result: Any = simulate(scenario, years=2).to_dict()
    assert result["layers"]["X"]["premium"] == pytest.approx(30.0)
    assert result["layers"]["X"]["loss_ratio"] == pytest.approx(25 / 30)
    assert result["layers"]["X"]["rate_on_line"] is None  # no finite limit


def test_without_sources_the_premium_is_not_charged_to_a_bystander() -> None:
    # A ground_up layer's premium is paid by the bearer of its sources. With no
    # source at all (`events: []`), compile_plan leaves the payer at -1, and
    # premium_flows charges flows[-1]: the last party written, here `gov`, which
    # has nothing to do with the layer. The residual party (ent) should pay.
    scenario = Scenario.model_validate(
        {
            "name": "no sources",
            "parties": PARTIES,
            "events": [],
            "layers": [{"name": "X", "party": "ins", "premium": {"amount": 10}}],
        }
    )
    assert not errors(scenario)
    result: Any = simulate(scenario, years=10).to_dict()
    assert costs(result) == {"ent": 10.0, "ins": -10.0, "gov": 0.0}


def test_a_premium_nobody_can_pay_is_refused() -> None:
    # No source and no residual party (no enterprise): nobody bears ground_up, so
    # nobody can be named as the cedent. check_scenario accepts it and the run
    # charges the premium to flows[-1], the last party (`gov`). It should ask for
    # `payer: PARTY`, as it does when the sources have different bearers.
    scenario = Scenario.model_validate({
        "name": "nobody pays",
        "parties": {"ins": {"kind": "insurer"}, "re": {"kind": "reinsurer"},
                    "gov": {"kind": "government"}},
        "events": [],
        "layers": [{"name": "X", "party": "ins", "premium": {"amount": 10}}],
    })  # fmt: skip
    assert any("payer" in message for message in errors(scenario))


# --- properties ----------------------------------------------------------------------


def cost_years(scenario: Scenario, years: int) -> tuple[np.ndarray, np.ndarray, Any]:
    """(costs per party and year, ground-up loss per year, premiums) from the fast core."""
    plan = compile_plan(scenario)
    premiums = layer_premiums(plan, 0, years)
    assert premiums is not None
    series = annual_series(plan, fast_allocation(scenario, years), premiums)
    cost = np.array([series[SeriesKey.cost(i)] for i in range(len(plan.parties))])
    return cost, series[SeriesKey.total()], premiums


@SETTINGS
@given(cases(priced=True))
def test_costs_add_up_to_the_ground_up_loss_every_year(case: Case) -> None:
    cost, total, premiums = cost_years(case.scenario, case.years)
    scale = case.loss_scale + float(np.sum(np.abs(premiums)))
    np.testing.assert_allclose(cost.sum(axis=0), total, rtol=0, atol=1e-9 * scale)


@SETTINGS
@given(cases(priced=True), st.data())
def test_a_subsidy_moves_cost_from_the_cedent_to_the_subsidiser(
    case: Case, data: st.DataObject
) -> None:
    scenario = case.scenario
    plain = scenario.model_dump(by_alias=True, exclude_none=True, mode="json")
    for entry in plain["layers"]:
        entry.pop("subsidy", None)
    priced_layers = [j for j, entry in enumerate(plain["layers"]) if "premium" in entry]
    j = data.draw(st.sampled_from(priced_layers))
    base = build(plain, scenario.event_table)
    payer = reference.cedent(base, base.layers[j])
    giver = data.draw(st.sampled_from([p for p in base.parties if p != payer]))
    share = data.draw(st.sampled_from((0.8, 0.5, 1.0, 0.25)))
    subsidised_data = {**plain, "layers": [dict(entry) for entry in plain["layers"]]}
    subsidised_data["layers"][j]["subsidy"] = {"party": giver, "share": share}
    subsidised = build(subsidised_data, scenario.event_table)
    assume(not errors(subsidised))

    before, _, premiums = cost_years(base, case.years)
    after, _, premiums_after = cost_years(subsidised, case.years)
    np.testing.assert_array_equal(premiums, premiums_after)
    moved = share * premiums[j]
    parties = list(base.parties)
    expected = before.copy()
    expected[parties.index(payer)] -= moved
    expected[parties.index(giver)] += moved
    scale = case.loss_scale + float(np.sum(np.abs(premiums)))
    np.testing.assert_allclose(after, expected, rtol=0, atol=1e-9 * scale)


@SETTINGS
@given(cases(priced=True))
def test_cost_figures_premiums_and_ratios_equal_the_reference(case: Case) -> None:
    fast = simulate(case.scenario, years=case.years, seed=0).to_dict()
    ref = reference.run(case.scenario, case.years)
    assert ref.premium is not None
    scale = case.loss_scale + sum(abs(p) for p in ref.premium.values())
    reference.assert_figures_match(fast, ref.figures, scale)


# --- engine/premiums.py directly: the arithmetic, on hand-made plans -----------------


def two_layers() -> Plan:
    """X: 1,000 xs 100 for ins, 3% on line (30), gov subsidising 80%, one reinstatement
    at 50%; Y: 500 xs 1,100 for gov, 7 a year, no reinstatements."""
    data = {
        "name": "two layers",
        "parties": PARTIES,
        "events_file": "given.csv",
        "layers": [
            {
                "name": "X",
                "party": "ins",
                "attachment": 100,
                "limit": 1000,
                "reinstatements": 1,
                "reinstatement_premium": "50%",
                "premium": {"rate_on_line": "3%"},
                "subsidy": {"party": "gov", "share": "80%"},
            },
            {
                "name": "Y",
                "party": "gov",
                "attachment": 1100,
                "limit": 500,
                "premium": {"amount": 7},
            },
        ],
    }
    scenario = build(data, table([(1, "", 500.0)]))
    assert not errors(scenario)
    return compile_plan(scenario)


@pytest.mark.parametrize(
    ("premium", "expected_payout", "want"),
    [
        ({"amount": 12}, 99.0, 12.0),
        ({"rate_on_line": "3%"}, 99.0, 30.0),  # 3% × the limit of 1,000
        ({"loading": "20%"}, 25.0, 30.0),  # (1 + 20%) × 25
        (None, 99.0, 0.0),
    ],
)
def test_each_premium_form(
    premium: dict[str, Any] | None, expected_payout: float, want: float
) -> None:
    layer = {"limit": 1000} | ({"premium": premium} if premium is not None else {})
    plan = compile_plan(priced(layer, [(1, "", 1.0)]))
    assert premium_of(plan.layers[0], expected_payout) == pytest.approx(want)
    assert premiums_for(plan, np.array([expected_payout])) == pytest.approx([want])


def test_premium_flows_rates_and_costs_by_hand() -> None:
    plan = two_layers()
    assert plan.parties == ("ent", "ins", "gov")
    premiums = np.array([30.0, 7.0])
    # X: ent pays 20% of 30 = 6, gov 80% = 24, ins receives 30;
    # Y: ent (the bearer) pays 7, gov receives 7
    flows, rates = cost_terms(plan, premiums)
    np.testing.assert_allclose(flows, [6.0 + 7.0, -30.0, 24.0 - 7.0])
    np.testing.assert_allclose(premium_flows(plan, premiums), flows)
    assert charged_layers(plan) == [0]
    np.testing.assert_allclose(rates, [0.5 * 30 / 1000, 0.0])  # 50% × 30 per 1,000 of limit
    np.testing.assert_allclose(reinstatement_rates(plan, premiums), rates)
    # a year in which ent keeps 100, ins pays 400 and 400 is reinstated: the
    # reinstatement premium 0.015 × 400 = 6 goes from ent to ins
    nets = [np.array([100.0, 0.0]), np.array([400.0, 0.0]), np.array([0.0, 0.0])]
    reinstated = {0: np.array([400.0, 0.0])}
    assert reinstatement_charges(rates, reinstated).keys() == {0}
    np.testing.assert_allclose(reinstatement_charges(rates, reinstated)[0], [6.0, 0.0])
    costs = party_costs(plan, nets, reinstated, flows, rates)
    np.testing.assert_allclose(costs[0], [100 + 13 + 6, 13])
    np.testing.assert_allclose(costs[1], [400 - 30 - 6, -30])
    np.testing.assert_allclose(costs[2], [17, 17])
    np.testing.assert_allclose(sum(costs), [500.0, 0.0])  # premiums only move money


def test_premium_split_by_party() -> None:
    plan = two_layers()
    split = premium_split(plan, np.array([30.0, 7.0]))
    assert split.paid == pytest.approx({"ent": 6.0 + 7.0})
    assert split.received == pytest.approx({"ins": 30.0, "gov": 7.0})
    assert split.subsidies == pytest.approx({"gov": 24.0})
    assert premium_split(plan, None) == ({}, {}, {})


def test_reinstatements_without_a_reinstatement_premium_charge_nothing() -> None:
    layer = {"limit": 100, "reinstatements": 1, "premium": {"amount": 10}}
    plan = compile_plan(priced(layer, [(1, "", 1.0)]))
    assert charged_layers(plan) == []
    np.testing.assert_array_equal(reinstatement_rates(plan, np.array([10.0])), [0.0])
    np.testing.assert_array_equal(premium_flows(plan, np.array([10.0])), [10.0, -10.0, 0.0])
    assert reinstatement_charges(np.array([0.0]), {0: np.array([100.0])}) == {}


def test_explain_prices_a_loading_on_the_events_file_as_simulate_does(tmp_path: Path) -> None:
    """The given losses replace the events file's in the waterfall, not in the price."""
    shipped = Path(__file__).parent.parent / "scenarios"
    (tmp_path / "cat-model-ylt.csv").write_bytes((shipped / "cat-model-ylt.csv").read_bytes())
    text = (shipped / "cat-model-ylt.yaml").read_text(encoding="utf-8")
    assert "premium: {amount: 6500万}" in text
    path = tmp_path / "priced.yaml"
    path.write_text(text.replace("{amount: 6500万}", "{loading: 20%}"), encoding="utf-8")
    scenario = load_scenario(path)
    simulated: Any = simulate(scenario).layers["property cover"]["premium"]
    explained: Any = explain(scenario, [1e8]).premiums
    assert simulated > 0
    assert explained["property cover"].premium == simulated
