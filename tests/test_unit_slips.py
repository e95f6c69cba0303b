"""An amount without its unit among amounts with one is warned of; nothing else is."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from test_checks import BASE, Change, layers

from riskshare.errors import format_loc
from riskshare.model.unit_slips import check_written


def written(change: Change) -> list[str]:
    data = copy.deepcopy(BASE)
    change(data)
    return [f"{format_loc(p.loc)}: {p.message}" for p in check_written(data)]


def test_an_amount_without_a_unit_among_amounts_with_one() -> None:
    tower = layers(
        {"name": "primary", "party": "ins", "attachment": 500, "limit": "9M"},
        {"name": "excess", "party": "re", "attachment": "10M", "franchise": "500"},
    )
    assert written(tower) == [
        "layers[0].attachment: 500 has no unit while other amounts do (500M?): "
        "write 500M if that is meant; 500 alone is 500 CNY",
        "layers[1].franchise: 500 has no unit while other amounts do (500M?): "
        "write 500M if that is meant; 500 alone is 500 CNY",
    ]


def test_the_suggested_unit_is_the_files_commonest() -> None:
    def change(data: dict[str, Any]) -> None:
        data["events"][0]["severity"] = {"empirical": {"values": ["100万", "300万", 2]}}
        data["events"][1]["severity"] = {"fixed": "1000万"}
        data["parties"]["gov"]["budget"] = "1亿"
        data["layers"] = [{"name": "p", "party": "ins", "attachment": "1M", "limit": "900万"}]
        data["currency"] = "USD"

    assert written(change) == [
        "events[0].severity.empirical.values[2]: 2 has no unit while other amounts do (2万?): "
        "write 2万 if that is meant; 2 alone is 2 USD"
    ]


@pytest.mark.parametrize("plain", [0, 10_000, "5000000", 2.5e6])
def test_zero_and_plain_amounts_near_the_others_are_not_warned_of(plain: object) -> None:
    assert written(layers({"name": "p", "party": "ins", "attachment": plain, "limit": "9M"})) == []


def test_amounts_without_units_alone_are_not_warned_of() -> None:
    def change(data: dict[str, Any]) -> None:
        for source in data["events"]:
            source["severity"] = {"fixed": 10_000_000}
        data["layers"] = [{"name": "p", "party": "ins", "attachment": 500, "limit": 9_000_000}]

    assert written(change) == []
