"""Hypothesis strategies: random valid scenarios and deterministic event tables.

A scenario is built layer by layer: each candidate layer is kept only if the
scenario with it still passes :func:`riskshare.model.checks.check_scenario` without errors,
so nearly nothing is rejected and every drawn scenario is valid. Amounts come from
small sets of round numbers (so that ties, exact exhaustion and exact attachment
happen often) mixed with arbitrary floats.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from hypothesis import strategies as st

from riskshare.engine.allocation import Allocation, allocate
from riskshare.engine.events import table_block
from riskshare.engine.plan import compile_plan
from riskshare.engine.series import clean_residue
from riskshare.model.checks import check_scenario
from riskshare.model.scenario import EventTable, Scenario

PARTY_NAMES = ("ent", "ins", "pool", "re", "gov")
MEMBER_SPLITS = (
    {"A": 0.5, "B": 0.5},
    {"PICC": 0.4, "CPIC": 0.35, "PingAn": 0.25},
    {"X": 0.3, "Y": 0.7},
)
SHARES = (1.0, 1.0, 0.5, 0.3, 0.7, 0.9, 0.1, 0.25, 0.75, 0.2, 0.8, 0.6, 0.4, 0.0)
ROUND_LOSSES = (0.0, 5.0, 10.0, 20.0, 25.0, 50.0, 100.0, 150.0, 200.0, 250.0, 300.0, 1000.0)

Data = dict[str, Any]


@dataclass(frozen=True)
class Case:
    """A valid scenario with its event table attached, and the years to run."""

    scenario: Scenario
    years: int

    @property
    def loss_scale(self) -> float:
        table = self.scenario.event_table
        assert table is not None
        return max(1.0, float(np.max(table.loss, initial=0.0)))


def errors(scenario: Scenario) -> list[str]:
    return [p.message for p in check_scenario(scenario) if p.severity == "error"]


def amounts(
    values: tuple[float, ...], low: float = 0.0, high: float = 500.0
) -> st.SearchStrategy[float]:
    """Mostly the round ``values``, sometimes any float in [low, high]."""
    return st.one_of(
        st.sampled_from(values),
        st.sampled_from(values),
        st.floats(low, high, allow_nan=False, allow_infinity=False),
    )


@st.composite
def parties(draw: st.DrawFn) -> Data:
    count = draw(st.integers(2, 5))
    names = PARTY_NAMES[:count]
    out: Data = {"ent": {"kind": "enterprise"}}
    for name in names[1:]:
        kind = draw(
            st.sampled_from(("insurer", "consortium", "reinsurer", "government", "enterprise"))
        )
        party: Data = {"kind": kind}
        if kind == "consortium":
            party["members"] = draw(st.sampled_from(MEMBER_SPLITS))
        out[name] = party
    for name in names:
        if draw(st.integers(0, 3)) == 0:
            out[name]["budget"] = draw(st.sampled_from((0.0, 50.0, 100.0, 250.0)))
        if draw(st.booleans()):
            out[name]["label"] = name.upper()
    return out


@st.composite
def layer(
    draw: st.DrawFn,
    index: int,
    party_names: list[str],
    sources: list[str],
    above: list[str],
    priced: bool,
) -> Data:
    subjects = [
        "ground_up",
        *(f"ground_up:{s}" for s in sources),
        *(f"net:{p}" for p in party_names),
    ]
    subjects += above * 2  # layers of layers are interesting: draw them more often
    out: Data = {
        "name": f"L{index}",
        "party": draw(st.sampled_from(party_names)),
        "from": draw(st.sampled_from(subjects)),
    }
    if draw(st.booleans()):
        out["attachment"] = draw(amounts((0.0, 10.0, 25.0, 50.0, 100.0), 0.0, 300.0))
    if draw(st.booleans()):
        out["limit"] = draw(amounts((10.0, 50.0, 100.0, 200.0), 1.0, 400.0))
    if draw(st.integers(0, 3)) == 0:
        out["franchise"] = draw(amounts((20.0, 50.0, 100.0), 0.0, 300.0))
    if draw(st.integers(0, 2)) == 0:
        out["aggregate_attachment"] = draw(amounts((0.0, 30.0, 100.0, 150.0), 0.0, 400.0))
    finite_limit = "limit" in out
    if finite_limit and draw(st.integers(0, 2)) == 0:
        out["reinstatements"] = draw(st.integers(0, 2))
    elif draw(st.integers(0, 2)) == 0:
        out["aggregate_limit"] = draw(amounts((50.0, 150.0, 300.0), 1.0, 600.0))
    if draw(st.booleans()):
        out["share"] = draw(st.sampled_from(SHARES))
    if priced and draw(st.booleans()):
        forms = ["amount", "loading"] + (["rate_on_line"] if finite_limit else [])
        form = draw(st.sampled_from(forms))
        if form == "amount":
            value = draw(amounts((5.0, 10.0, 20.0), 0.0, 100.0))
        elif form == "loading":
            value = draw(st.sampled_from((0.0, 0.2, 0.5, -0.1)))
        else:
            value = draw(st.sampled_from((0.03, 0.1, 0.25)))
        out["premium"] = {form: value}
        if draw(st.integers(0, 2)) == 0:
            out["premium"]["payer"] = draw(st.sampled_from(party_names))
        if "reinstatements" in out and draw(st.booleans()):
            out["reinstatement_premium"] = draw(st.sampled_from((1.0, 0.5, 1.5)))
        if draw(st.integers(0, 2)) == 0:
            givers = draw(
                st.lists(st.sampled_from(party_names), min_size=1, max_size=2, unique=True)
            )
            shares = draw(st.sampled_from(((0.8,), (0.5,), (0.3, 0.2), (0.6, 0.4), (1.0,))))
            subsidies = [{"party": p, "share": s} for p, s in zip(givers, shares, strict=False)]
            out["subsidy"] = subsidies[0] if len(subsidies) == 1 else subsidies
    return out


@st.composite
def event_table(
    draw: st.DrawFn, sources: list[str], max_years: int = 30, grouped: bool = False
) -> tuple[EventTable, int]:
    """Events in years 1..N: round losses, zeros, ties, several per year and source;
    ``grouped``: with an ``event`` column, rows of one occurrence (format 1.2)."""
    years = draw(st.integers(1, max_years))
    rows = draw(
        st.lists(
            st.tuples(
                st.integers(1, years), st.sampled_from(sources), amounts(ROUND_LOSSES, 0.0, 1000.0)
            ),
            min_size=0,
            max_size=60,
        )
    )
    if draw(st.integers(0, 4)) == 0:  # a long year: more events than the core's vector ranks
        long_year = draw(st.integers(1, years))
        losses = draw(st.lists(amounts(ROUND_LOSSES, 0.0, 1000.0), min_size=33, max_size=45))
        rows += [(long_year, draw(st.sampled_from(sources)), loss) for loss in losses]
    with_time = draw(st.booleans())
    times = [draw(st.sampled_from((0.1, 0.25, 0.5, 0.5, 0.9))) for _ in rows] if with_time else None
    names = [draw(st.sampled_from(("", "e1", "e1", "e2"))) for _ in rows] if grouped else None
    if names is not None and times is not None:  # an occurrence's rows share its time
        first: dict[tuple[int, str], float] = {}
        times = [
            first.setdefault((r[0], name), t) if name else t
            for r, name, t in zip(rows, names, times, strict=True)
        ]
    table = EventTable(
        year=np.array([r[0] for r in rows], dtype=np.int64),
        loss=np.array([r[2] for r in rows], dtype=np.float64),
        source=tuple(r[1] for r in rows),
        time=np.array(times, dtype=np.float64) if times is not None else None,
        event=tuple(names) if names is not None else None,
    )
    run_years = years + draw(st.sampled_from((0, 0, 0, 2)))
    return table, run_years


def build(data: Data, table: EventTable | None) -> Scenario:
    scenario = Scenario.model_validate(data)
    return scenario.attach(file=None, event_table=table)


@st.composite
def scenario_data(
    draw: st.DrawFn,
    *,
    occurrence_only: bool = False,
    priced: bool | None = None,
    franchise: bool = True,
    subjects: tuple[str, ...] | None = None,
) -> Data:
    """The dict of a valid scenario with ``events_file`` (its table is attached later).

    ``occurrence_only`` leaves out every annual term; ``priced`` forces premiums on or
    off (None: either); ``subjects`` limits the subject kinds drawn.
    """
    the_parties = draw(parties())
    names = list(the_parties)
    sources = [f"s{i}" for i in range(draw(st.integers(1, 3)))]
    spec: Data = {}
    for source in sources:  # every source is listed, so that layers may name it
        spec[source] = {"bearer": draw(st.sampled_from(names))} if draw(st.booleans()) else {}
    enterprises = [n for n, p in the_parties.items() if p["kind"] == "enterprise"]
    data: Data = {
        "name": "generated",
        "parties": the_parties,
        "events_file": "dummy.csv",
        "sources": spec,
        "layers": [],
    }
    if len(enterprises) > 1 or draw(st.booleans()):
        data["residual"] = draw(st.sampled_from(enterprises))
    with_premiums = draw(st.booleans()) if priced is None else priced
    placeholder = EventTable(np.array([1], dtype=np.int64), np.array([1.0]), (sources[0],))
    wanted = draw(st.integers(1, 6))
    tries = 0
    while len(data["layers"]) < wanted and tries < 3 * wanted:
        tries += 1
        above = [entry["name"] for entry in data["layers"]]
        candidate = draw(layer(tries, names, sources, above, with_premiums))
        if occurrence_only:
            for key in (
                "aggregate_attachment",
                "aggregate_limit",
                "reinstatements",
                "reinstatement_premium",
            ):
                candidate.pop(key, None)
        if not franchise:
            candidate.pop("franchise", None)
        if subjects is not None and not candidate["from"].startswith(subjects):
            continue
        trial = {**data, "layers": [*data["layers"], candidate]}
        try:
            scenario = build(trial, placeholder)
        except ValueError:
            continue
        if errors(scenario):
            continue
        data = trial
    if not data["layers"]:
        data["layers"] = [{"name": "L0", "party": names[-1], "share": 0.5}]
    if with_premiums and not any("premium" in entry for entry in data["layers"]):
        last = data["layers"][-1]
        last["premium"] = {"amount": 10.0, "payer": names[0]}
        last.pop("subsidy", None)
    return data


@st.composite
def cases(draw: st.DrawFn, **options: Any) -> Case:
    """A valid scenario with a deterministic event table attached (``grouped``: with
    rows of one occurrence)."""
    grouped = options.pop("grouped", False)
    data = draw(scenario_data(**options))
    sources = sorted(data["sources"])
    table, years = draw(event_table(sources, grouped=grouped))
    data = {**data, "simulation": {"years": years, "seed": 0}}
    scenario = build(data, table)
    problems = errors(scenario)
    assert not problems, problems
    return Case(scenario, years)


# --- running the fast core on given events -----------------------------------------


def table(rows: list[tuple[int, str, float]], times: list[float] | None = None) -> EventTable:
    """An event table from (year, source, loss) rows in file order."""
    return EventTable(
        year=np.array([r[0] for r in rows], dtype=np.int64),
        loss=np.array([r[2] for r in rows], dtype=np.float64),
        source=tuple(r[1] for r in rows),
        time=None if times is None else np.array(times, dtype=np.float64),
    )


def fast_allocation(scenario: Scenario, years: int) -> Allocation:
    """The fast core's allocation of the scenario's event table, residue cleaned, as a run does."""
    plan = compile_plan(scenario)
    assert plan.table is not None and plan.table_sources is not None
    allocation = allocate(plan, table_block(plan.table, plan.table_sources, 0, years))
    clean_residue(allocation)
    return allocation


# --- sampled events ----------------------------------------------------------------

FREQUENCIES: tuple[Data, ...] = (
    {"poisson": 0.7},
    {"bernoulli": 0.3},
    {"binomial": {"n": 3, "p": 0.25}},
    {"negative_binomial": {"mean": 1.0, "mix_cv": 0.8}},
    {"fixed": 2},
)
SEVERITIES: tuple[Data, ...] = (
    {"lognormal": {"mean": 100, "cv": 1.2}},
    {"lognormal": {"mu": 4, "sigma": 1}},
    {"pareto": {"scale": 20, "alpha": 1.5}},
    {"gamma": {"mean": 80, "cv": 0.7}},
    {"uniform": {"low": 0, "high": 300}},
    {"fixed": 100},
    {"empirical": {"values": [0, 50, 100, 300]}},
    {"empirical": {"values": [10, 200], "probabilities": [0.75, 0.25]}},
)


@st.composite
def sampled_scenarios(draw: st.DrawFn, **options: Any) -> Scenario:
    """A valid scenario whose sources are sampled (``events``), not read from a table."""
    data = draw(scenario_data(**options))
    entries = []
    for name, spec in data["sources"].items():
        severity = dict(draw(st.sampled_from(SEVERITIES)))
        if draw(st.booleans()):
            severity["cap"] = draw(st.sampled_from((150, 500)))
        entry: Data = {
            "name": name,
            "frequency": draw(st.sampled_from(FREQUENCIES)),
            "severity": severity,
        }
        if "bearer" in spec:
            entry["bearer"] = spec["bearer"]
        entries.append(entry)
    data = {key: value for key, value in data.items() if key not in ("events_file", "sources")}
    data["events"] = entries
    scenario = Scenario.model_validate(data)
    problems = errors(scenario)
    assert not problems, problems
    return scenario
