"""compare: scenarios side by side on common random numbers, exact about the noise."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from render import json_by_workers, run

import riskshare
from riskshare.engine.allocation import allocate
from riskshare.engine.block import events_of_block
from riskshare.engine.events import BLOCK_YEARS
from riskshare.engine.plan import compile_plan
from riskshare.engine.series import per_year
from riskshare.model.amounts import parse_amount
from riskshare.runs.compare import ComparisonError, ComparisonResult, Difference, compare
from riskshare.stats.summary import SeriesSummary

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "scenarios" / "breakthrough-consortium.yaml"
YLT = ROOT / "scenarios" / "cat-model-ylt.yaml"

TOWER = """\
name: Small tower
simulation: {years: 4000, seed: 11}
parties:
  firm: {kind: enterprise}
  lead: {kind: insurer}
  pool: {kind: consortium, members: {A: 60%, B: 40%}}
  state: {kind: government, budget: 40M}
events:
  - name: quench
    frequency: {poisson: 0.6}
    severity: {lognormal: {mean: 30M, cv: 1.5}, cap: 1B}
  - name: delay
    frequency: {bernoulli: 0.3}
    severity: {uniform: {low: 1M, high: 9M}}
layers:
  - {name: primary, party: lead, attachment: ATTACH, limit: LIMIT, share: 90%,
     premium: {loading: 20%, payer: firm}}
  - {name: pool, party: pool, attachment: 50M, limit: 150M, reinstatements: 1,
     premium: {amount: 4M, payer: firm}}
  - {name: backstop, party: state, attachment: 200M, share: SHARE}
"""


def tower(
    tmp_path: Path, name: str, attach: str = "5M", share: str = "80%", **replace: str
) -> Path:
    limit = 50e6 - parse_amount(attach)  # the primary layer reaches the pool's attachment
    text = TOWER.replace("ATTACH", attach).replace("LIMIT", repr(limit)).replace("SHARE", share)
    for old, new in replace.items():
        text = text.replace(old, new)
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def without_seconds(data: dict[str, object]) -> dict[str, object]:
    simulation = data["simulation"]
    assert isinstance(simulation, dict)
    simulation.pop("seconds")
    return data


def all_differences(result: ComparisonResult) -> list[Difference]:
    rows = [*result.parties, *result.layers, *(result.costs or ())]
    return [d for row in rows for diff in row.differences[1:] if diff for d in diff.values()]


# --- the same figures as simulate -----------------------------------------------------


def test_a_scenario_compared_with_itself_differs_by_nothing() -> None:
    scenario = riskshare.load_scenario(DEMO)
    result = compare([scenario, scenario], years=3000, seed=4)
    differences = all_differences(result)
    assert differences
    for difference in differences:
        assert difference.difference == 0
        assert difference.stderr in (0, None)
        assert difference.within_noise in (True, None)


def test_each_scenario_has_the_figures_simulate_gives_it(tmp_path: Path) -> None:
    """Loading premiums included: priced on a first pass over the same events."""
    paths = [tower(tmp_path, "a.yaml"), tower(tmp_path, "b.yaml", attach="10M", share="90%")]
    result = compare(paths)
    assert result.costs is not None
    for path, got in zip(paths, result.results, strict=True):
        want = riskshare.simulate(riskshare.load_scenario(path))
        assert without_seconds(got.to_dict()) == without_seconds(want.to_dict())


def test_figures_equal_simulate_over_several_blocks() -> None:
    scenario = riskshare.load_scenario(DEMO)
    years = BLOCK_YEARS + 700
    result = compare([scenario, scenario], years=years, seed=3)
    want = without_seconds(riskshare.simulate(scenario, years, 3).to_dict())
    assert without_seconds(result.results[1].to_dict()) == want
    assert result.years == years and result.events == want["simulation"]["events"]  # type: ignore[index]


def test_an_events_file_is_shared_too(tmp_path: Path) -> None:
    text = YLT.read_text(encoding="utf-8")
    variant = tmp_path / "ylt.yaml"
    variant.write_text(
        text.replace(
            "events_file: cat-model-ylt.csv", f"events_file: {YLT.parent}/cat-model-ylt.csv"
        ),
        encoding="utf-8",
    )
    result = compare([YLT, variant])
    differences = all_differences(result)
    assert differences and all(d.difference == 0 for d in differences)
    assert result.events == riskshare.load_scenario(YLT).event_table.loss.size  # type: ignore[union-attr]


# --- the standard errors --------------------------------------------------------------


def test_paired_standard_error_is_that_of_the_yearly_differences(tmp_path: Path) -> None:
    """Against a brute-force computation from the two towers' annual amounts."""
    a, b = tower(tmp_path, "a.yaml"), tower(tmp_path, "b.yaml", share="90%")
    result = compare([a, b], years=3000, seed=2)
    plans = [compile_plan(riskshare.load_scenario(p)) for p in (a, b)]
    events = events_of_block(plans[0], 2, 0, 0, 3000)
    nets = [per_year(events, allocate(plan, events).nets[3]) for plan in plans]
    difference = nets[1] - nets[0]
    state = next(row for row in result.parties if row.name == "state")
    diff = state.differences[1]
    assert diff is not None
    assert diff["mean"].difference == pytest.approx(difference.mean(), rel=1e-12)
    assert diff["mean"].stderr == pytest.approx(difference.std() / math.sqrt(3000), rel=1e-9)
    positive = (nets[1] > 0).astype(float) - (nets[0] > 0)
    assert diff["prob_positive"].stderr == pytest.approx(
        positive.std() / math.sqrt(3000), abs=1e-15
    )


def test_paired_standard_error_is_far_below_the_unpaired_one(tmp_path: Path) -> None:
    """A near-identical pair: the retention moves from 5M to 5.5M."""
    a, b = tower(tmp_path, "a.yaml"), tower(tmp_path, "b.yaml", attach="5.5M")
    result = compare([a, b], years=20_000, seed=9)
    firm = next(row for row in result.parties if row.name == "firm")
    diff = firm.differences[1]
    assert diff is not None
    mean = diff["mean"]
    assert mean.stderr is not None and mean.stderr_unpaired is not None
    assert 0 < mean.stderr < mean.stderr_unpaired / 20
    assert mean.within_noise is False  # a real difference, resolved by pairing
    # what two independent runs would have given: their stderrs in quadrature
    want = math.hypot(*(r.parties["firm"]["stderr"] for r in result.results))  # type: ignore[arg-type]
    assert mean.stderr_unpaired == pytest.approx(want)


def test_moments_merge_as_one_pass() -> None:
    rng = np.random.default_rng(0)
    values = rng.lognormal(0, 2, 10_001)
    moments = SeriesSummary(0)
    for part in np.array_split(values, 7):
        moments.merge_moments(SeriesSummary.moments_of(part))
    assert moments.n == len(values)
    assert moments.mean == pytest.approx(values.mean(), rel=1e-12)
    stderr = moments.moment_figures()["stderr"]
    assert stderr == pytest.approx(values.std() / math.sqrt(len(values)), rel=1e-9)


# --- rows matched by name -------------------------------------------------------------


def test_missing_parties_and_layers_are_shown_as_missing(tmp_path: Path) -> None:
    a = tower(tmp_path, "a.yaml")
    b = tower(
        tmp_path,
        "b.yaml",
        **{
            "  - {name: backstop, party: state, attachment: 200M, share: 80%}\n": "",
            "  state: {kind: government, budget: 40M}\n": "  re: {kind: reinsurer}\n",
        },
    )
    result = compare([a, b], years=2000)
    rows = {row.name: row for row in result.parties}
    assert rows["state"].figures[1] is None and rows["state"].differences[1] is None
    assert rows["re"].figures[0] is None and rows["re"].figures[1] is not None
    layers = {row.name: row for row in result.layers}
    assert layers["backstop"].figures[1] is None
    assert rows["pool/A"].member and rows["pool/A"].label == "A"
    data = result.to_dict()
    assert data["parties"]["state"]["scenarios"][1] is None  # type: ignore[index]
    assert data["parties"]["state"]["differences"] == [None, None]  # type: ignore[index]


def test_bearers_may_differ(tmp_path: Path) -> None:
    a = tower(tmp_path, "a.yaml")
    b = tower(
        tmp_path,
        "b.yaml",
        **{
            "    severity: {uniform: {low: 1M, high: 9M}}\n": (
                "    severity: {uniform: {low: 1M, high: 9M}}\n    bearer: lead\n"
            )
        },
    )
    assert riskshare.load_scenario(b).events[1].bearer == "lead"  # type: ignore[index]
    result = compare([a, b], years=2000)
    firm = next(row for row in result.parties if row.name == "firm").differences[1]
    assert firm is not None and firm["mean"].difference < 0  # the lead now bears the delays


# --- refusals -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("replace", "message"),
    [
        (
            {"mean: 30M": "mean: 35M"},
            "events[0].severity.lognormal.mean differs: 30M in {a}, 35M in {b}",
        ),
        (
            {"poisson: 0.6": "poisson: 0.7"},
            "events[0].frequency.poisson differs: 0.6 in {a}, 0.7 in {b}",
        ),
        ({", cap: 1B}": "}"}, "events[0].severity.cap differs: 1B in {a}, absent in {b}"),
        ({"name: delay": "name: slip"}, "events[1].name differs: delay in {a}, slip in {b}"),
        ({"seed: 11": "seed: 12"}, "simulation.seed differs: 11 in {a}, 12 in {b}"),
    ],
)
def test_different_events_stop_the_comparison_at_the_first_key(
    tmp_path: Path, replace: dict[str, str], message: str
) -> None:
    a, b = tower(tmp_path, "a.yaml"), tower(tmp_path, "b.yaml", **replace)
    with pytest.raises(ComparisonError) as caught:
        compare([a, b], years=100)
    assert message.format(a=a, b=b) in str(caught.value)


def test_different_years_stop_unless_overridden(tmp_path: Path) -> None:
    a, b = tower(tmp_path, "a.yaml"), tower(tmp_path, "b.yaml", **{"years: 4000": "years: 5000"})
    with pytest.raises(ComparisonError, match=r"simulation\.years differs: 4000 in .*--years"):
        compare([a, b])
    assert compare([a, b], years=500).years == 500


def test_different_events_files_stop_the_comparison(tmp_path: Path) -> None:
    csv = tmp_path / "other.csv"
    csv.write_text("year,loss\n1,5M\n", encoding="utf-8")
    variant = tmp_path / "ylt.yaml"
    variant.write_text(
        YLT.read_text(encoding="utf-8").replace(
            "events_file: cat-model-ylt.csv", "events_file: other.csv"
        ),
        encoding="utf-8",
    )
    with pytest.raises(ComparisonError, match="events_file differs"):
        compare([YLT, variant], years=10)


def test_one_scenario_is_not_a_comparison() -> None:
    with pytest.raises(ComparisonError, match="at least two"):
        compare([DEMO])


# --- the command ----------------------------------------------------------------------


def test_cli_compare_prints_side_by_side(tmp_path: Path) -> None:
    a, b = tower(tmp_path, "a.yaml"), tower(tmp_path, "b.yaml", share="90%")
    result = run("compare", str(a), str(b), "--years", "3000")
    assert result.exit_code == 0, result.stderr
    for text in ("Who absorbs what", "Cost of risk", "Layers", "Δ B − A", "same", "±", str(b)):
        assert text in result.stdout


def test_cli_compare_json_holds_the_same_content(tmp_path: Path) -> None:
    a, b = tower(tmp_path, "a.yaml"), tower(tmp_path, "b.yaml", share="90%")
    result = run("compare", str(a), str(b), "--years", "2000", "--seed", "5", "--json", "-")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    want = compare([a, b], years=2000, seed=5).to_dict()
    assert without_seconds(data) == json.loads(json.dumps(without_seconds(want)))
    state = data["parties"]["state"]["differences"][1]["mean"]
    assert set(state) == {"difference", "stderr", "stderr_unpaired", "within_two_stderr"}


def test_cli_compare_names_the_key_that_differs(tmp_path: Path) -> None:
    a, b = tower(tmp_path, "a.yaml"), tower(tmp_path, "b.yaml", **{"mean: 30M": "mean: 35M"})
    result = run("compare", str(a), str(b))
    assert result.exit_code == 1
    assert "events[0].severity.lognormal.mean differs: 30M in" in result.stderr
    assert "Traceback" not in result.stderr


def test_cli_compare_needs_two_files() -> None:
    assert run("compare", str(DEMO)).exit_code == 2


def test_cli_compare_json_does_not_depend_on_workers(tmp_path: Path) -> None:
    paths = [tower(tmp_path, "a.yaml"), tower(tmp_path, "b.yaml", share="90%")]
    out = tmp_path / "compare.json"
    one, two = json_by_workers(out, "compare", *map(str, paths), "--years", "200001")
    assert one == two


def test_a_layer_on_a_net_the_other_tower_changed_is_computed_not_copied(tmp_path: Path) -> None:
    """B's second layer takes from the enterprise where A's takes from the insurer: the
    insurer's net differs between them even though B leaves it alone, so B's third layer,
    on that net, must be B's own."""
    texts = {}
    for name, giver in (("a.yaml", "lead"), ("b.yaml", "firm")):
        texts[name] = f"""\
name: {name}
simulation: {{years: 1000, seed: 3}}
parties:
  firm: {{kind: enterprise}}
  lead: {{kind: insurer}}
  re: {{kind: reinsurer}}
  other: {{kind: reinsurer}}
events:
  - {{name: s, frequency: {{poisson: 1}}, severity: {{fixed: 100}}}}
layers:
  - {{name: primary, party: lead, limit: 50}}
  - {{name: middle, party: other, from: "net:{giver}", share: 50%}}
  - {{name: quota, party: re, from: "net:lead", share: 50%}}
"""
        (tmp_path / name).write_text(texts[name], encoding="utf-8")
    paths = [tmp_path / "a.yaml", tmp_path / "b.yaml"]
    result = compare(paths)
    for path, got in zip(paths, result.results, strict=True):
        want = riskshare.simulate(riskshare.load_scenario(path))
        assert without_seconds(got.to_dict()) == without_seconds(want.to_dict())
    assert result.results[1].parties["re"]["mean"] == 25.0 * result.results[1].events / 1000
