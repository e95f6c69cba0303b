"""Hand-computed towers, each named after the passage of the spec it works through.

The spec is the scenario format (docs/scenario-reference.md) ("Layers": occurrence, aggregate,
share last; "A complete example"). Each row gives the events of a year (or two) in
the order applied, and by hand each layer's payout and each party's net per event;
the arithmetic is in the comments. Both the fast core and the scalar reference of
``tests/reference.py`` must reproduce every number, which also checks the reference.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import reference
from strategies import build, errors, fast_allocation, table

from riskshare.engine.allocation import allocate
from riskshare.engine.events import given_block
from riskshare.engine.plan import compile_plan
from riskshare.engine.series import clean_residue
from riskshare.loading.load import load_scenario
from riskshare.runs.simulation import simulate

M = 1e6

Rows = list[tuple[int, str, float]]


def tower(layers: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    """A scenario with an enterprise, an insurer, a reinsurer and a government."""
    data: dict[str, Any] = {
        "name": "hand-computed",
        "parties": {
            "ent": {"kind": "enterprise"},
            "ins": {"kind": "insurer"},
            "re": {"kind": "reinsurer"},
            "gov": {"kind": "government"},
        },
        "events_file": "given.csv",
        "layers": layers,
    }
    data.update(extra)
    return data


TOWERS = [
    pytest.param(
        # o_i = 0 when s_i < franchise; else min(max(s − 20, 0), 60).
        tower([{"name": "F", "party": "ins", "attachment": 20, "limit": 60, "franchise": 50}]),
        [(1, "", 49.0), (1, "", 50.0), (1, "", 100.0), (1, "", 20.0)],
        None,
        # 49 < 50 → 0;  50 ≥ 50 → min(30, 60) = 30;  100 → min(80, 60) = 60;  20 < 50 → 0
        {"F": [0, 30, 60, 0]},
        {"ent": [49, 20, 40, 20], "ins": [0, 30, 60, 0]},
        id="spec_layers_franchise",
    ),
    pytest.param(
        # C: 60, 120, 180, 280 | 120;  A = min(max(C − 100, 0), 150): 0, 20, 80, 150 | 20
        tower([{"name": "A", "party": "ins", "aggregate_attachment": 100, "aggregate_limit": 150}]),
        [(1, "", 60.0), (1, "", 60.0), (1, "", 60.0), (1, "", 100.0), (2, "", 120.0)],
        None,
        # a = A_i − A_{i−1}: 0, 20, 60, 70 | year 2 restarts: 20
        {"A": [0, 20, 60, 70, 20]},
        {"ent": [60, 40, 0, 30, 100], "ins": [0, 20, 60, 70, 20]},
        id="spec_layers_aggregate_attachment_and_limit",
    ),
    pytest.param(
        # reinstatements: 1 → aggregate limit 100 × (1 + 1) = 200.
        # o = min(max(s − 100, 0), 100): 100, 50, 100, 100;  C: 100, 150, 250, 350
        tower(
            [{"name": "R", "party": "ins", "attachment": 100, "limit": 100, "reinstatements": 1}]
        ),
        [(1, "", 250.0), (1, "", 150.0), (1, "", 300.0), (1, "", 400.0)],
        None,
        # A = min(C, 200): 100, 150, 200, 200 → a: 100, 50, 50, 0
        {"R": [100, 50, 50, 0]},
        {"ent": [150, 100, 250, 400], "ins": [100, 50, 50, 0]},
        id="spec_layers_reinstatements",
    ),
    pytest.param(
        # An annual tower on the whole of every event (Pool Re's shape, in units of 10M):
        # same per-event terms, so each layer takes its slice of the year's sum C.
        # C: 80, 160, 240, 440
        # P = min(C, 100): 80, 100, 100, 100            → a: 80, 20, 0, 0
        # X = min(max(C − 100, 0), 100): 0, 60, 100, 100 → a: 0, 60, 40, 0
        # Y = min(max(C − 200, 0), 175): 0, 0, 40, 175   → a: 0, 0, 40, 135
        tower(
            [
                {"name": "P", "party": "ins", "aggregate_limit": 100},
                {"name": "X", "party": "re", "aggregate_attachment": 100, "aggregate_limit": 100},
                {"name": "Y", "party": "gov", "aggregate_attachment": 200, "aggregate_limit": 175},
            ]
        ),
        [(1, "", 80.0), (1, "", 80.0), (1, "", 80.0), (1, "", 200.0)],
        None,
        {"P": [80, 20, 0, 0], "X": [0, 60, 40, 0], "Y": [0, 0, 40, 135]},
        # ent keeps only what is above 375 in the year: 200 − 135 = 65 of the last event
        {"ent": [0, 0, 0, 65], "ins": [80, 20, 0, 0], "re": [0, 60, 40, 0], "gov": [0, 0, 40, 135]},
        id="spec_layers_annual_tower",
    ),
    pytest.param(
        # A: 100 xs 50 → 50, 100, 0;  B takes 40% of A's payout from ins: 20, 40, 0.
        tower(
            [
                {"name": "A", "party": "ins", "attachment": 50, "limit": 100},
                {"name": "B", "party": "re", "from": "A", "share": 0.4},
            ]
        ),
        [(1, "", 100.0), (1, "", 200.0), (1, "", 30.0)],
        None,
        {"A": [50, 100, 0], "B": [20, 40, 0]},
        # ins keeps 50 − 20 = 30 and 100 − 40 = 60; ent keeps 50, 100 and all of 30
        {"ent": [50, 100, 30], "ins": [30, 60, 0], "re": [20, 40, 0]},
        id="spec_layers_quota_share_of_a_layer",
    ),
    pytest.param(
        # Q: 80% of ground up → 80, 120, 160; ent's net: 20, 30, 40.
        # SL on net:ent, aggregate attachment 50: C 20, 50, 90; A 0, 0, 40 → a 0, 0, 40.
        tower(
            [
                {"name": "Q", "party": "ins", "share": 0.8},
                {"name": "SL", "party": "gov", "from": "net:ent", "aggregate_attachment": 50},
            ]
        ),
        [(1, "", 100.0), (1, "", 150.0), (1, "", 200.0)],
        None,
        {"Q": [80, 120, 160], "SL": [0, 0, 40]},
        {"ent": [20, 30, 0], "ins": [80, 120, 160], "gov": [0, 0, 40]},
        id="spec_layers_net_stop_loss",
    ),
    pytest.param(
        # F only sees fire: 100 − 10 = 90, cyber → 0, 5 − 10 → 0.
        # C only sees cyber: min(100, 50) = 50.
        tower(
            [
                {"name": "F", "party": "ins", "from": "ground_up:fire", "attachment": 10},
                {"name": "C", "party": "re", "from": "ground_up:cyber", "limit": 50},
            ],
            sources={"fire": {}, "cyber": {}},
        ),
        [(1, "fire", 100.0), (1, "cyber", 100.0), (1, "fire", 5.0)],
        None,
        {"F": [90, 0, 0], "C": [0, 50, 0]},
        {"ent": [10, 50, 5], "ins": [90, 0, 0], "re": [0, 50, 0]},
        id="spec_layers_source_specific",
    ),
    pytest.param(
        # Two enterprises each bear their own source. G: 50% of each loss above 10,
        # taken from the event's bearer: a 100 → 45, b 40 → 15, a 5 → 0.
        # H: 50% of 10 xs 30 of b only, taken from lab: b 40 → 0.5 × 10 = 5.
        {
            "name": "several bearers",
            "parties": {
                "plant": {"kind": "enterprise"},
                "lab": {"kind": "enterprise"},
                "ins": {"kind": "insurer"},
                "re": {"kind": "reinsurer"},
            },
            "events_file": "given.csv",
            "sources": {"a": {"bearer": "plant"}, "b": {"bearer": "lab"}},
            "layers": [
                {"name": "G", "party": "ins", "attachment": 10, "share": 0.5},
                {
                    "name": "H",
                    "party": "re",
                    "from": "ground_up:b",
                    "attachment": 30,
                    "limit": 10,
                    "share": 0.5,
                },
            ],
        },
        [(1, "a", 100.0), (1, "b", 40.0), (1, "a", 5.0)],
        None,
        {"G": [45, 15, 0], "H": [0, 5, 0]},
        # plant keeps 100 − 45 = 55 and 5; lab keeps 40 − 15 − 5 = 20
        {"plant": [55, 0, 5], "lab": [0, 20, 0], "ins": [45, 15, 0], "re": [0, 5, 0]},
        id="spec_event_sources_several_bearers",
    ),
    pytest.param(
        # "a 20% share of a layer with aggregate_limit: 50M pays at most 10M a year"
        # o: 30, 40, 10;  C: 30, 70, 80;  A = min(C, 50): 30, 50, 50;  a: 30, 20, 0
        # p = 20% × a: 6, 4, 0  (10 in the year)
        tower([{"name": "S", "party": "ins", "share": 0.2, "aggregate_limit": 50 * M}]),
        [(1, "", 30 * M), (1, "", 40 * M), (1, "", 10 * M)],
        None,
        {"S": [6 * M, 4 * M, 0]},
        {"ent": [24 * M, 36 * M, 10 * M], "ins": [6 * M, 4 * M, 0]},
        id="spec_layers_share_applies_last",
    ),
    pytest.param(
        # The file lists 80 (time 0.9) before 50 (time 0.1): applied 50 then 80.
        # aggregate limit 100: C 50, 130 → A 50, 100 → a 50, 50.
        tower([{"name": "T", "party": "ins", "aggregate_limit": 100}]),
        [(1, "", 80.0), (1, "", 50.0)],
        [0.9, 0.1],
        {"T": [50, 50]},  # in the order applied: 50 first
        {"ent": [0, 30], "ins": [50, 50]},
        id="spec_event_sources_time_order",
    ),
    pytest.param(
        # Without a time column, file order: 80 then 50 → a 80, 20.
        tower([{"name": "T", "party": "ins", "aggregate_limit": 100}]),
        [(1, "", 80.0), (1, "", 50.0)],
        None,
        {"T": [80, 20]},
        {"ent": [0, 30], "ins": [80, 20]},
        id="spec_event_sources_file_order",
    ),
]


def expected_rows(expected: dict[str, list[float]], names: list[str], n: int) -> np.ndarray:
    return np.array([expected.get(name, [0.0] * n) for name in names], dtype=float)


@pytest.mark.parametrize(("data", "rows", "times", "payouts", "nets"), TOWERS)
def test_tower_by_hand(
    data: dict[str, Any],
    rows: Rows,
    times: list[float] | None,
    payouts: dict[str, list[float]],
    nets: dict[str, list[float]],
) -> None:
    scenario = build(data, table(rows, times))
    assert errors(scenario) == []  # every tower worked through is a valid scenario
    years = max(r[0] for r in rows)
    layers = [layer.name for layer in scenario.layers]
    parties = list(scenario.parties)
    n = len(rows)

    fast = fast_allocation(scenario, years)
    np.testing.assert_allclose(
        fast.payouts, expected_rows(payouts, layers, n), rtol=1e-12, atol=1e-9
    )
    np.testing.assert_allclose(fast.nets, expected_rows(nets, parties, n), rtol=1e-12, atol=1e-9)

    ref = reference.run(scenario, years).ledger
    np.testing.assert_allclose(
        np.array(ref.payouts).T, expected_rows(payouts, layers, n), rtol=1e-12, atol=1e-9
    )
    np.testing.assert_allclose(
        np.array(ref.nets).T, expected_rows(nets, parties, n), rtol=1e-12, atol=1e-9
    )


# --- the spec's complete example ---------------------------------------------------

SPEC_EXAMPLE = """\
name: Fusion magnet first-of-its-kind programme
description: Prototype superconducting magnet, insured in layers.
currency: CNY
simulation:
  years: 200000          # simulated years (trials)
  seed: 20250302
parties:
  startup:    {kind: enterprise, label: Fusion start-up}
  lead:       {kind: insurer, label: Lead insurer}
  pool:       {kind: consortium, members: {PICC: 40%, CPIC: 35%, PingAn: 25%}}
  re:         {kind: reinsurer}
  mof:        {kind: government, label: Ministry of Finance, budget: 1亿}
residual: startup        # who keeps what no layer takes
events:
  - name: magnet quench
    frequency: {poisson: 0.08}
    severity: {lognormal: {mean: 120M, cv: 1.5}, cap: 2B}
  - name: commissioning delay
    frequency: {bernoulli: 0.2}
    severity: {uniform: {low: 5M, high: 40M}}
layers:
  - {name: primary,  party: lead, attachment: 5M,   limit: 95M,  share: 90%}
  - {name: pool,     party: pool, attachment: 100M, limit: 400M, reinstatements: 1}
  - {name: backstop, party: mof,  attachment: 500M, share: 80%,  aggregate_limit: 1.5B}
  - {name: quota share, party: re, from: primary, share: 50%}
  - {name: stop loss,   party: mof, from: net:pool, aggregate_attachment: 300M}
"""

# One year with losses 50M, 250M, 700M, 600M, in that order (amounts in M below).
SPEC_LOSSES = [50.0, 250.0, 700.0, 600.0]
# primary:  o = min(max(s − 5, 0), 95) = 45, 95, 95, 95;  p = 90% → 40.5, 85.5, 85.5, 85.5
# pool:     o = min(max(s − 100, 0), 400) = 0, 150, 400, 400;  aggregate 400 × (1 + 1) = 800
#           C = 0, 150, 550, 950;  A = min(C, 800) = 0, 150, 550, 800;  a = 0, 150, 400, 250
# backstop: o = max(s − 500, 0) = 0, 0, 200, 100;  C = A = 0, 0, 200, 300 (≤ 1500)
#           p = 80% × a = 0, 0, 160, 80
# quota share: 50% of primary's payout = 20.25, 42.75, 42.75, 42.75, taken from lead
# stop loss: subject = pool's net after the layers above = pool's payout 0, 150, 400, 250
#           C = 0, 150, 550, 800;  A = max(C − 300, 0) = 0, 0, 250, 500;  a = 0, 0, 250, 250
SPEC_PAYOUTS = {
    "primary": [40.5, 85.5, 85.5, 85.5],
    "pool": [0.0, 150.0, 400.0, 250.0],
    "backstop": [0.0, 0.0, 160.0, 80.0],
    "quota share": [20.25, 42.75, 42.75, 42.75],
    "stop loss": [0.0, 0.0, 250.0, 250.0],
}
# startup: s − primary − pool − backstop = 9.5, 14.5, 54.5, 184.5      (year 263)
# lead:    primary − quota share        = 20.25, 42.75, 42.75, 42.75  (year 148.5)
# re:      quota share                                                 (year 148.5)
# pool:    pool − stop loss             = 0, 150, 150, 0               (year 300)
# mof:     backstop + stop loss         = 0, 0, 410, 330               (year 740)
# each event adds up: 9.5 + 20.25 + 20.25 = 50; 14.5 + 42.75 × 2 + 150 = 250; …
SPEC_NETS = {
    "startup": [9.5, 14.5, 54.5, 184.5],
    "lead": [20.25, 42.75, 42.75, 42.75],
    "pool": [0.0, 150.0, 150.0, 0.0],
    "re": [20.25, 42.75, 42.75, 42.75],
    "mof": [0.0, 0.0, 410.0, 330.0],
}


@pytest.fixture
def spec_example(tmp_path: Path) -> Any:
    path = tmp_path / "fusion.yaml"
    path.write_text(SPEC_EXAMPLE, encoding="utf-8")
    return load_scenario(path)


def test_spec_complete_example_by_hand(spec_example: Any) -> None:
    plan = compile_plan(spec_example)
    allocation = allocate(plan, given_block([loss * M for loss in SPEC_LOSSES], 0))
    clean_residue(allocation)
    layers = [layer.name for layer in spec_example.layers]
    parties = list(spec_example.parties)
    np.testing.assert_allclose(
        allocation.payouts / M, expected_rows(SPEC_PAYOUTS, layers, 4), rtol=1e-12
    )
    np.testing.assert_allclose(
        allocation.nets / M, expected_rows(SPEC_NETS, parties, 4), rtol=1e-12
    )
    # the pool's aggregate (800M = 400M × 2) is used up at the year's last event
    assert allocation.year_end_aggregate[layers.index("pool"), 0] == pytest.approx(800 * M)

    events = [reference.Event(1, "magnet quench", loss * M) for loss in SPEC_LOSSES]
    ref = reference.allocate(spec_example, 1, events)
    np.testing.assert_allclose(
        np.array(ref.payouts).T / M, expected_rows(SPEC_PAYOUTS, layers, 4), rtol=1e-12
    )
    np.testing.assert_allclose(
        np.array(ref.nets).T / M, expected_rows(SPEC_NETS, parties, 4), rtol=1e-12
    )


def test_spec_complete_example_year_figures(spec_example: Any) -> None:
    """One simulated year of the hand-computed losses: the figures are that year's sums."""
    data = spec_example.model_dump(by_alias=True, exclude_none=True, mode="json")
    data.pop("events")
    data["events_file"] = "given.csv"
    data["sources"] = {"magnet quench": {}}
    rows = [(1, "magnet quench", loss * M) for loss in SPEC_LOSSES]
    scenario = build(data, table(rows))
    result = simulate(scenario, years=1).to_dict()
    parties: Any = result["parties"]
    layers: Any = result["layers"]
    # year sums (M): startup 263, lead 148.5, re 148.5, pool 300, mof 740; total 1600
    for name, year in {"startup": 263, "lead": 148.5, "re": 148.5, "pool": 300, "mof": 740}.items():
        assert parties[name]["mean"] == pytest.approx(year * M, rel=1e-12)
        assert parties[name]["max"] == pytest.approx(year * M, rel=1e-12)
    # the consortium's 300M in proportion: 40%, 35%, 25%
    for member, share in {"PICC": 0.40, "CPIC": 0.35, "PingAn": 0.25}.items():
        assert parties["pool"]["members"][member]["mean"] == pytest.approx(share * 300 * M)
    # mof's budget is 1亿 = 100M: 740M exceeds it by 640M in the one year
    assert parties["mof"]["prob_over_budget"] == 1.0
    assert parties["mof"]["expected_over_budget"] == pytest.approx(640 * M)
    for name, year in {
        "primary": 297,
        "pool": 800,
        "backstop": 240,
        "quota share": 148.5,
        "stop loss": 500,
    }.items():
        assert layers[name]["mean"] == pytest.approx(year * M, rel=1e-12)
    assert layers["pool"]["prob_exhaust"] == 1.0  # 800M of 800M used
    assert layers["backstop"]["prob_exhaust"] == 0.0  # 300M of 1.5B
    assert layers["primary"]["prob_exhaust"] == 1.0  # 250M reaches the 95M per-event limit
    assert layers["stop loss"]["prob_exhaust"] is None  # no limit of either kind
    assert result["total"]["oep_return_periods"]["10"] == pytest.approx(700 * M)  # type: ignore[index]
