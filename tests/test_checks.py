"""Each cross-field rule of riskshare.model.checks fires where it should, and only there."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from riskshare.errors import format_loc
from riskshare.model.checks import check_scenario
from riskshare.model.scenario import EventTable, Scenario

Change = Callable[[dict[str, Any]], object]

BASE: dict[str, Any] = {
    "name": "checks",
    "parties": {
        "me": {"kind": "enterprise"},
        "ins": {"kind": "insurer"},
        "re": {"kind": "reinsurer"},
        "gov": {"kind": "government"},
    },
    "events": [
        {"name": "fire", "frequency": {"poisson": 0.1}, "severity": {"fixed": "10M"}},
        {"name": "flood", "frequency": {"poisson": 0.1}, "severity": {"fixed": "10M"}},
    ],
    "layers": [
        {"name": "primary", "party": "ins", "attachment": "1M", "limit": "9M"},
        {"name": "excess", "party": "re", "attachment": "10M"},
    ],
}
PARTIES = "(parties: me, ins, re, gov)"


def problems(change: Change, table: EventTable | None = None) -> list[str]:
    data = copy.deepcopy(BASE)
    change(data)
    scenario = Scenario.model_validate(data).attach(file=None, event_table=table)
    return [f"{p.severity}: {format_loc(p.loc)}: {p.message}" for p in check_scenario(scenario)]


def layers(*written: dict[str, Any]) -> Change:
    return lambda data: data.update(layers=list(written))


def test_a_valid_tower_has_no_problems() -> None:
    assert problems(lambda data: None) == []


def test_the_spec_tower_has_no_problems() -> None:
    tower = layers(
        {"name": "primary", "party": "ins", "attachment": "5M", "limit": "95M", "share": "90%"},
        {"name": "pool", "party": "re", "attachment": "100M", "limit": "400M", "reinstatements": 1},
        {"name": "backstop", "party": "gov", "attachment": "500M", "share": "80%"},
        {"name": "quota share", "party": "re", "from": "primary", "share": "50%"},
        {"name": "stop loss", "party": "gov", "from": "net:re", "aggregate_attachment": "300M"},
    )
    assert problems(tower) == []


def _events_file(data: dict[str, Any]) -> None:
    del data["events"]
    data["events_file"] = "events.csv"
    data["sources"] = {"quake": {"bearer": "ghost"}, "fire": {"bearer": "me"}}


def _only_file(data: dict[str, Any]) -> None:
    data["events_file"] = "x.csv"


def _bearers_given(data: dict[str, Any]) -> None:
    del data["parties"]["me"]
    for source in data["events"]:
        source["bearer"] = "ins"
    data["layers"] = [{"name": "a", "party": "re"}]


def _second_bearer(data: dict[str, Any]) -> None:
    data["events"][1]["bearer"] = "gov"
    data["layers"] = [{"name": "a", "party": "ins", "premium": {"amount": "1M"}}]


RESIDUAL = "say which party keeps what no layer takes with `residual: PARTY`"
CASES: list[tuple[str, Change, list[str]]] = [
    (
        "events and events_file",
        _only_file,
        [
            "error: : give exactly one of `events` (a list of event sources) and "
            "`events_file` (a CSV of events)"
        ],
    ),
    (
        "neither events nor events_file",
        lambda data: data.pop("events"),
        [
            "error: : give exactly one of `events` (a list of event sources) and "
            "`events_file` (a CSV of events)"
        ],
    ),
    (
        "sources without events_file",
        lambda data: data.update(sources={"fire": {"bearer": "me"}}),
        [
            "error: sources: `sources` goes with `events_file`; with `events`, give each "
            "source's `bearer` in its entry"
        ],
    ),
    (
        "a source name used twice",
        lambda data: data["events"].append(dict(data["events"][0])),
        ["error: events[2].name: source name `fire` is used twice (first at events[0])"],
    ),
    (
        "an unknown bearer",
        lambda data: data["events"][0].update(bearer="nobody"),
        [f"error: events[0].bearer: unknown party `nobody` {PARTIES}"],
    ),
    (
        "an unknown residual party",
        lambda data: data.update(residual="ghost"),
        [f"error: residual: unknown party `ghost` {PARTIES}"],
    ),
    (
        "no enterprise to keep the residual",
        lambda data: data["parties"].pop("me"),
        [f"error: : {RESIDUAL} (there is no enterprise party), or give every source a `bearer`"],
    ),
    (
        "several enterprises, residual ambiguous",
        lambda data: data["parties"].update(you={"kind": "enterprise"}),
        [
            f"error: : {RESIDUAL} (there are several enterprises: me, you), or give every "
            "source a `bearer`"
        ],
    ),
    ("every source has a bearer: no residual needed", _bearers_given, []),
    (
        "a layer name used twice",
        layers({"name": "a", "party": "ins", "limit": "5M"}, {"name": "a", "party": "re"}),
        [
            "error: layers[1].name: layer name `a` is used twice (first at layers[0])",
            "error: layers[1].share: with `a`, the layers on ground_up would take 200% of the "
            "slice 0–5M; layers on one subject may take at most 100% of any slice",
        ],
    ),
    (
        "a layer named like a subject",
        layers({"name": "net:me", "party": "ins"}),
        ["error: layers[0].name: `net:me` cannot name a layer: it reads as a subject in `from`"],
    ),
    (
        "an unknown party",
        layers({"name": "a", "party": "ghost"}),
        [f"error: layers[0].party: unknown party `ghost` {PARTIES}"],
    ),
    (
        "an unknown source",
        layers({"name": "a", "party": "ins", "from": "ground_up:quake"}),
        ["error: layers[0].from: unknown source `quake` (known sources: fire, flood)"],
    ),
    (
        "net: of an unknown party",
        layers({"name": "a", "party": "ins", "from": "net:ghost"}),
        [f"error: layers[0].from: unknown party `ghost` {PARTIES}"],
    ),
    (
        "a layer taking from itself",
        layers({"name": "a", "party": "ins", "from": "a"}),
        ["error: layers[0].from: layer `a` cannot take from itself"],
    ),
    (
        "a layer taking from a layer below",
        layers({"name": "a", "party": "ins", "from": "b"}, {"name": "b", "party": "re"}),
        [
            "error: layers[0].from: `b` is written below this layer; a layer can only take "
            "from a layer written above it, so move `b` up"
        ],
    ),
    (
        "an unknown layer",
        layers({"name": "a", "party": "ins", "from": "nothing"}),
        [
            "error: layers[0].from: unknown subject `nothing`: write ground_up, "
            "ground_up:SOURCE, the name of a layer above, or net:PARTY"
        ],
    ),
    (
        "reinstatements without a limit",
        layers({"name": "a", "party": "ins", "reinstatements": 1}),
        ["error: layers[0].reinstatements: `reinstatements` needs a finite per-event `limit`"],
    ),
    (
        "reinstatements beside aggregate_limit",
        layers(
            {
                "name": "a",
                "party": "ins",
                "limit": "5M",
                "reinstatements": 1,
                "aggregate_limit": "10M",
            }
        ),
        [
            "error: layers[0].reinstatements: give `reinstatements` or `aggregate_limit`, not "
            "both: reinstatements set the aggregate limit to limit × (1 + n)"
        ],
    ),
    (
        "rate on line without a limit",
        layers({"name": "a", "party": "ins", "premium": {"rate_on_line": "5%"}}),
        ["error: layers[0].premium.rate_on_line: `rate_on_line` needs a finite per-event `limit`"],
    ),
    (
        "an unknown payer",
        layers({"name": "a", "party": "ins", "premium": {"amount": "1M", "payer": "ghost"}}),
        [f"error: layers[0].premium.payer: unknown party `ghost` {PARTIES}"],
    ),
    (
        "sources with different bearers need a payer",
        _second_bearer,
        [
            "error: layers[0].premium: the subject's sources have different bearers (gov, me): "
            "say who pays with `payer: PARTY` inside `premium`"
        ],
    ),
    (
        "a reinstatement premium without reinstatements",
        layers(
            {
                "name": "a",
                "party": "ins",
                "limit": "5M",
                "premium": {"amount": "1M"},
                "reinstatement_premium": "100%",
            }
        ),
        ["error: layers[0].reinstatement_premium: `reinstatement_premium` needs `reinstatements`"],
    ),
    (
        "a reinstatement premium without a premium",
        layers(
            {
                "name": "a",
                "party": "ins",
                "limit": "5M",
                "reinstatements": 1,
                "reinstatement_premium": 1,
            }
        ),
        [
            "error: layers[0].reinstatement_premium: `reinstatement_premium` is a share of the "
            "`premium`; give the layer a premium"
        ],
    ),
    (
        "a subsidy without a premium",
        layers({"name": "a", "party": "ins", "subsidy": {"party": "gov", "share": "80%"}}),
        [
            "error: layers[0].subsidy: a subsidy pays part of the `premium`; give the layer a "
            "premium"
        ],
    ),
    (
        "a subsidy from an unknown party",
        layers(
            {
                "name": "a",
                "party": "ins",
                "premium": {"amount": "1M"},
                "subsidy": [{"party": "ghost", "share": "80%"}],
            }
        ),
        [f"error: layers[0].subsidy[0].party: unknown party `ghost` {PARTIES}"],
    ),
    (
        "a subsidy from the cedent",
        layers(
            {
                "name": "a",
                "party": "ins",
                "premium": {"amount": "1M"},
                "subsidy": {"party": "me", "share": "80%"},
            }
        ),
        [
            "error: layers[0].subsidy.party: `me` pays this premium itself; a subsidy comes "
            "from another party"
        ],
    ),
    (
        "subsidies over 100%",
        layers(
            {
                "name": "a",
                "party": "ins",
                "premium": {"amount": "1M"},
                "subsidy": [{"party": "gov", "share": "80%"}, {"party": "re", "share": "30%"}],
            }
        ),
        [
            "error: layers[0].subsidy: subsidies on one layer may pay at most 100% of its "
            "premium (these pay 110%)"
        ],
    ),
    (
        "ground_up ceded after net: of its bearer",
        layers(
            {"name": "a", "party": "ins", "limit": "5M"},
            {"name": "sl", "party": "gov", "from": "net:me"},
            {"name": "b", "party": "re", "attachment": "5M"},
        ),
        [
            "error: layers[2].from: takes from ground_up, which `me` gives up, but layer `sl` "
            "above already took net:me; that cession would take what `me` no longer holds: "
            "write this layer above `sl`"
        ],
    ),
    (
        "a layer ceded after net: of its party",
        layers(
            {"name": "a", "party": "ins"},
            {"name": "sl", "party": "gov", "from": "net:ins"},
            {"name": "qs", "party": "re", "from": "a", "share": "50%"},
        ),
        [
            "error: layers[2].from: takes from a, which `ins` gives up, but layer `sl` above "
            "already took net:ins; that cession would take what `ins` no longer holds: write "
            "this layer above `sl`"
        ],
    ),
    (
        "a 50% quota share and a 100% excess on one layer",
        layers(
            {"name": "a", "party": "ins", "limit": "100M"},
            {"name": "qs", "party": "re", "from": "a", "share": "50%"},
            {"name": "xl", "party": "gov", "from": "a", "attachment": "10M", "limit": "20M"},
        ),
        [
            "error: layers[2].share: with `qs`, the layers on layer `a` would take 150% of "
            "the slice 10M–30M; layers on one subject may take at most 100% of any slice"
        ],
    ),
    (
        "ground_up and ground_up:SOURCE count together",
        layers(
            {"name": "a", "party": "ins", "limit": "10M", "share": "60%"},
            {"name": "b", "party": "re", "from": "ground_up:fire", "limit": "10M", "share": "50%"},
        ),
        [
            "error: layers[1].share: with `a`, the layers on ground_up:fire would take 110% of "
            "the slice 0–10M; layers on one subject may take at most 100% of any slice"
        ],
    ),
    (
        "ground_up and ground_up:SOURCE within 100%",
        layers(
            {"name": "a", "party": "ins", "limit": "10M", "share": "50%"},
            {"name": "b", "party": "re", "from": "ground_up:fire", "limit": "10M", "share": "50%"},
        ),
        [],
    ),
    (
        "net: is taken afresh, never over-ceded",
        layers(
            {"name": "a", "party": "ins", "from": "net:me"},
            {"name": "b", "party": "re", "from": "net:me"},
        ),
        [],
    ),
    (
        "an annual tower on the whole of every event (Pool Re: 1B xs 1B, 1.75B xs 2B)",
        layers(
            {"name": "pool re", "party": "ins", "aggregate_limit": "1B"},
            {"name": "first", "party": "re", "aggregate_attachment": "1B", "aggregate_limit": "1B"},
            {
                "name": "second",
                "party": "gov",
                "aggregate_attachment": "2B",
                "aggregate_limit": "1.75B",
            },
        ),
        [],
    ),
    (
        "a retention then reinsurance, each year (Flood Re)",
        layers(
            {"name": "retention", "party": "ins", "limit": "500M", "aggregate_limit": "2.1B"},
            {
                "name": "reinsurance",
                "party": "re",
                "limit": "500M",
                "aggregate_attachment": "2.1B",
                "aggregate_limit": "2.3B",
                "share": "90%",
            },
            {"name": "excess", "party": "gov", "attachment": "500M"},
        ),
        [],
    ),
    (
        "an annual tower whose slices overlap",
        layers(
            {"name": "first", "party": "re", "aggregate_attachment": "1B", "aggregate_limit": "1B"},
            {"name": "second", "party": "gov", "aggregate_attachment": "1.5B", "share": "50%"},
        ),
        [
            "error: layers[1].share: with `first`, the layers on ground_up would take 150% of "
            "the annual aggregate slice 1.5B–2B of each event's slice 0–unlimited; layers on "
            "one subject may take at most 100% of any slice"
        ],
    ),
    (
        "reinstatements set the annual slice a layer above starts from",
        layers(
            {"name": "a", "party": "ins", "limit": "100M", "reinstatements": 1},
            {"name": "b", "party": "re", "limit": "100M", "aggregate_attachment": "150M"},
        ),
        [
            "error: layers[1].share: with `a`, the layers on ground_up would take 200% of "
            "the annual aggregate slice 150M–200M of each event's slice 0–100M; layers on one "
            "subject may take at most 100% of any slice"
        ],
    ),
    (
        "an annual tower above the reinstated limit",
        layers(
            {"name": "a", "party": "ins", "limit": "100M", "reinstatements": 1},
            {"name": "b", "party": "re", "limit": "100M", "aggregate_attachment": "200M"},
        ),
        [],
    ),
    (
        "an annual tower and a layer of other per-event terms over the same range",
        layers(
            {"name": "a", "party": "ins", "aggregate_limit": "1B"},
            {"name": "b", "party": "re", "aggregate_attachment": "1B"},
            {"name": "c", "party": "gov", "attachment": "10M", "limit": "20M", "share": "10%"},
        ),
        [
            "error: layers[2].share: with `a`, the layers on ground_up would take 110% of "
            "the slice 10M–30M; layers on one subject may take at most 100% of any slice"
        ],
    ),
    (
        "annual terms do not separate layers of other per-event terms",
        layers(
            {"name": "a", "party": "ins", "limit": "20M", "aggregate_limit": "1B"},
            {"name": "b", "party": "re", "aggregate_attachment": "1B"},
        ),
        [
            "error: layers[1].share: with `a`, the layers on ground_up would take 200% of "
            "the slice 0–20M; layers on one subject may take at most 100% of any slice"
        ],
    ),
    (
        "half an annual tower beside a half share of other per-event terms",
        layers(
            {"name": "a", "party": "ins", "aggregate_limit": "1B", "share": "50%"},
            {"name": "b", "party": "re", "aggregate_attachment": "1B", "share": "50%"},
            {"name": "c", "party": "gov", "attachment": "10M", "share": "50%"},
            {"name": "d", "party": "gov", "attachment": "20M", "share": "60%"},
        ),
        [
            "error: layers[3].share: with `a`, `c`, the layers on ground_up would take 160% "
            "of the slice 20M–unlimited; layers on one subject may take at most 100% of any "
            "slice"
        ],
    ),
    (
        "a franchise above the attachment makes other per-event terms",
        layers(
            {"name": "a", "party": "ins", "franchise": "5M", "aggregate_limit": "1B"},
            {"name": "b", "party": "re", "aggregate_attachment": "1B"},
        ),
        [
            "error: layers[1].share: with `a`, the layers on ground_up would take 200% of "
            "the slice 0–unlimited; layers on one subject may take at most 100% of any slice"
        ],
    ),
    (
        "a franchise at or below the attachment changes nothing",
        layers(
            {
                "name": "a",
                "party": "ins",
                "attachment": "5M",
                "franchise": "5M",
                "aggregate_limit": "1B",
            },
            {"name": "b", "party": "re", "attachment": "5M", "aggregate_attachment": "1B"},
        ),
        [],
    ),
    (
        "annual terms on ground_up and on ground_up:SOURCE count different amounts",
        layers(
            {"name": "a", "party": "ins", "aggregate_limit": "10M"},
            {"name": "b", "party": "re", "from": "ground_up:fire", "aggregate_attachment": "10M"},
        ),
        [
            "error: layers[1].share: with `a`, the layers on ground_up:fire would take 200% of "
            "the slice 0–unlimited; layers on one subject may take at most 100% of any slice"
        ],
    ),
    (
        "an annual tower on a layer",
        layers(
            {"name": "a", "party": "ins", "limit": "100M"},
            {"name": "b", "party": "re", "from": "a", "aggregate_limit": "150M"},
            {"name": "c", "party": "gov", "from": "a", "aggregate_attachment": "150M"},
        ),
        [],
    ),
    (
        "a gap in an annual tower",
        layers(
            {"name": "a", "party": "ins", "aggregate_limit": "1B"},
            {"name": "b", "party": "re", "aggregate_attachment": "2B"},
        ),
        [
            "warning: layers[1].aggregate_attachment: no layer on ground_up takes the annual "
            "aggregate slice 1B–2B below `b` (a gap in the annual tower: that part stays with "
            "the cedent)"
        ],
    ),
    (
        "a gap in the tower",
        layers(
            {"name": "a", "party": "ins", "limit": "5M"},
            {"name": "b", "party": "re", "attachment": "10M"},
        ),
        [
            "warning: layers[1].attachment: no layer on ground_up takes the slice 5M–10M "
            "below `b` (a gap in the tower: that part stays with the cedent)"
        ],
    ),
]


@pytest.mark.parametrize(
    ("change", "expected"), [case[1:] for case in CASES], ids=[case[0] for case in CASES]
)
def test_rule(change: Change, expected: list[str]) -> None:
    assert problems(change) == expected


def test_sources_of_an_events_file() -> None:
    table = EventTable(year=np.array([1], dtype=np.int64), loss=np.array([1.0]), source=("fire",))
    assert problems(_events_file, table) == [
        f"error: sources.quake.bearer: unknown party `ghost` {PARTIES}",
        "warning: sources.quake: source `quake` does not appear in the events file's "
        "`source` column",
    ]


# --- limits written as the tops of their layers ---------------------------------------


def test_a_limit_written_as_the_top_of_its_layer() -> None:
    tower = layers(
        {"name": "primary", "party": "ins", "attachment": "5M", "limit": "50M", "share": "50%"},
        {"name": "excess", "party": "re", "attachment": "50M", "limit": "100M", "share": "50%"},
    )
    assert problems(tower) == [
        "warning: layers[0].limit: limit 50M reaches 55M (5M + 50M), past `excess` which "
        "attaches at 50M: `limit` is the size of the layer above its attachment, not its top; "
        "for a layer from 5M up to 50M write limit: 45M"
    ]


def test_a_limit_below_an_attachment_nothing_ends_at() -> None:
    tower = layers({"name": "high", "party": "re", "attachment": "50M", "limit": "45M"})
    assert problems(tower) == [
        "warning: layers[0].limit: limit 45M is below attachment 50M: `limit` is the size of "
        "the layer above its attachment, not its top, so this layer takes from 50M up to 95M"
    ]


@pytest.mark.parametrize(
    "tower",
    [
        # Pool Re's annual tower: 1.75B xs 2B stacked on 1B xs 1B
        [
            {"name": "one", "party": "ins", "attachment": "1B", "limit": "1B"},
            {"name": "two", "party": "re", "attachment": "2B", "limit": "1.75B"},
        ],
        # one slice shared by two insurers
        [
            {"name": "lead", "party": "ins", "attachment": "5M", "limit": "5M", "share": "60%"},
            {"name": "follow", "party": "re", "attachment": "5M", "limit": "5M", "share": "40%"},
        ],
        # a contiguous tower whose upper layers are smaller than their attachments
        [
            {"name": "primary", "party": "ins", "limit": "10M"},
            {"name": "second", "party": "re", "attachment": "10M", "limit": "5M"},
            {"name": "third", "party": "gov", "attachment": "15M", "limit": "5M"},
        ],
    ],
    ids=["annual tower", "co-insurance", "stacked"],
)
def test_usual_towers_are_not_warned_of(tower: list[dict[str, Any]]) -> None:
    assert problems(layers(*tower)) == []
