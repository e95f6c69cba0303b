"""engine/series.py: the keys of the annual series, a block's series, the balance check
and the count of exhausted years, on hand-made plans and arrays."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from strategies import build, errors, table

from riskshare.engine.allocation import allocate
from riskshare.engine.events import given_block
from riskshare.engine.plan import Plan, compile_plan
from riskshare.engine.series import (
    SeriesKey,
    annual_series,
    block_series,
    check_allocation,
    check_balance,
    exhausted,
    new_summaries,
    outlay_key,
    series_keys,
)
from riskshare.errors import RunError


def consortium_plan() -> Plan:
    """ent bears the losses; 50 xs 10 for the pool (two members, 60% and 40%), at most
    100 a year, 7 a year paid by ent; mof has a budget of 20."""
    scenario = build(
        {
            "name": "series",
            "parties": {
                "ent": {"kind": "enterprise"},
                "pool": {"kind": "consortium", "members": {"A": "60%", "B": "40%"}},
                "mof": {"kind": "government", "budget": 20},
            },
            "events_file": "given.csv",
            "layers": [
                {
                    "name": "X",
                    "party": "pool",
                    "attachment": 10,
                    "limit": 50,
                    "aggregate_limit": 100,
                    "premium": {"amount": 7},
                }
            ],
        },
        table([(1, "", 30.0)]),
    )
    assert not errors(scenario)
    return compile_plan(scenario)


def test_a_key_is_written_as_before_and_is_a_plain_value() -> None:
    assert str(SeriesKey.total()) == "total"
    assert str(SeriesKey.oep()) == "oep"
    assert str(SeriesKey.party(3)) == "party:3"
    assert str(SeriesKey.member(0)) == "member:0"
    assert str(SeriesKey.layer(12)) == "layer:12"
    assert str(SeriesKey.cost(1)) == "cost:1"
    assert str(SeriesKey.member_cost(2)) == "member_cost:2"
    assert SeriesKey.party(1) == SeriesKey.party(1)
    assert hash(SeriesKey.party(1)) == hash(SeriesKey.party(1))
    assert SeriesKey.party(1) != SeriesKey.cost(1) != SeriesKey.member(1)
    assert SeriesKey.party(1) != SeriesKey.party(2)
    assert len({SeriesKey.total(), SeriesKey.total(), SeriesKey.layer(0)}) == 2
    # keys travel to and from the workers
    assert pickle.loads(pickle.dumps(SeriesKey.member_cost(4))) == SeriesKey.member_cost(4)
    with pytest.raises(AttributeError):
        SeriesKey.party(0).index = 1  # type: ignore[misc]


def test_a_run_summarises_its_series_in_one_order() -> None:
    plan = consortium_plan()
    assert [str(k) for k in series_keys(plan, with_costs=False)] == [
        "total", "oep", "party:0", "party:1", "party:2", "member:0", "member:1", "layer:0",
    ]  # fmt: skip
    assert [str(k) for k in series_keys(plan, with_costs=True)][8:] == [
        "cost:0", "cost:1", "cost:2", "member_cost:0", "member_cost:1",
    ]  # fmt: skip
    summaries = new_summaries(plan, 5, with_costs=True)
    assert list(summaries) == series_keys(plan, with_costs=True)
    # only a party's outlay counts the years above its budget: its cost, where the
    # scenario has premiums, its net where it has none
    assert outlay_key(plan, 2) == (SeriesKey.cost(2) if plan.has_premiums else SeriesKey.party(2))
    outlay, other = outlay_key(plan, 2), SeriesKey.party(2)
    if outlay == other:
        other = SeriesKey.cost(2)
    assert summaries[outlay].threshold == 20.0
    assert summaries[other].threshold is None
    assert summaries[SeriesKey.party(0)].threshold is None


def test_members_take_their_share_of_their_consortium() -> None:
    plan = consortium_plan()
    parties = [np.array([1.0, 2.0]), np.array([10.0, 0.0]), np.array([0.0, 0.0])]
    series = block_series(plan, parties, costs=[p + 1 for p in parties])
    assert list(map(str, series)) == [
        "party:0", "party:1", "party:2", "member:0", "member:1",
        "cost:0", "cost:1", "cost:2", "member_cost:0", "member_cost:1",
    ]  # fmt: skip
    np.testing.assert_array_equal(series[SeriesKey.member(0)], [6.0, 0.0])
    np.testing.assert_array_equal(series[SeriesKey.member(1)], [4.0, 0.0])
    np.testing.assert_array_equal(series[SeriesKey.member_cost(0)], [6.6, 0.6])


def test_the_series_of_a_given_year() -> None:
    # losses 30 then 100 in one year: the pool pays 20 then 50; ent keeps 10 and 50
    plan = consortium_plan()
    allocation = allocate(plan, given_block([30.0, 100.0], 0))
    series = annual_series(plan, allocation, np.array([7.0]))
    want = {
        "total": 130.0, "oep": 100.0, "party:0": 60.0, "party:1": 70.0, "party:2": 0.0,
        "member:0": 42.0, "member:1": 28.0, "layer:0": 70.0,
        "cost:0": 67.0, "cost:1": 63.0, "cost:2": 0.0,
        "member_cost:0": 37.8, "member_cost:1": 25.2,
    }  # fmt: skip
    assert {str(k): float(v[0]) for k, v in series.items()} == pytest.approx(want)
    assert check_allocation(allocation, 1e-9) == 0.0


def test_the_balance_check_names_the_year_of_the_event() -> None:
    loss = np.array([10.0, 5.0, 8.0])
    nets = np.array([[10.0, 2.0, 8.0], [0.0, 3.0, 0.0]])
    assert check_balance(loss, nets, 1e-9, lambda e: 100 + e) == 0.0
    unbalanced = nets.copy()
    unbalanced[1, 2] = 1.0  # the third event's nets add up to 9
    with pytest.raises(RunError, match=r"^balance check failed: in year 102, the parties' nets"):
        check_balance(loss, unbalanced, 1e-9, lambda e: 100 + e)
    negative = np.array([[11.0, 2.0, 8.0], [-1.0, 3.0, 0.0]])
    with pytest.raises(RunError, match=r"net is below zero .*-1\.0.* in year 100$"):
        check_balance(loss, negative, 1e-9, lambda e: 100 + e)
    assert check_balance(np.zeros(0), np.zeros((2, 0)), 1e-9, lambda e: e) == 0.0


def test_exhausted_years_count_the_aggregate_or_the_limit() -> None:
    plan = consortium_plan()  # X: limit 50, aggregate limit 100
    year_end = np.array([[100.0, 40.0, 100.0]])
    limit_hit = np.array([[True, True, False]])
    # the aggregate decides where there is one; years without events never reach it
    np.testing.assert_array_equal(exhausted(plan, year_end, limit_hit, idle=5), [2.0])
