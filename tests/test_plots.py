"""Figures: the shipped Chinese font, the tower's layout, and images for every scenario."""

from __future__ import annotations

import io
import subprocess
import sys
import warnings
from pathlib import Path

import matplotlib.image
import numpy as np
import pytest
from matplotlib.ft2font import FT2Font
from render import run

import riskshare
from riskshare.render import plots
from riskshare.render.curves import exceedance_curves
from riskshare.render.tower import display_width, tower_panels, wrap
from riskshare.runs.bad_years import bad_year_splits
from riskshare.runs.simulation import SimulationResult

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = sorted((ROOT / "scenarios").glob("*.yaml"))
CHINESE = ROOT / "tests" / "golden" / "chinese-labels.yaml"
SPEC_EXAMPLE = ROOT / "tests" / "scenarios" / "valid" / "spec-example.yaml"


# --- the Chinese font ------------------------------------------------------------------


def test_the_shipped_font_has_the_glyphs_of_the_policy_words() -> None:
    font = FT2Font(str(plots.FONT_FILE))
    for char in "科技保险共保体首台套再保险人政府兜底中央财政晶圆制造企业万亿":
        assert font.get_char_index(ord(char)) != 0, char


def test_the_shipped_font_covers_every_chinese_label_of_the_bundled_scenarios() -> None:
    font = FT2Font(str(plots.FONT_FILE))
    for path in [*SHIPPED, CHINESE]:
        scenario = riskshare.load_scenario(path)
        texts = [scenario.name, *(layer.name for layer in scenario.layers)]
        texts += [scenario.party_label(name) for name in scenario.parties]
        for char in "".join(texts):
            if display_width(char) > 1:
                assert font.get_char_index(ord(char)) != 0, f"{path.name}: {char}"


def test_the_font_license_ships_beside_the_font() -> None:
    license_text = (plots.FONT_FILE.parent / "OFL.txt").read_text(encoding="utf-8")
    assert "SIL OPEN FONT LICENSE Version 1.1" in license_text


def render_label(text: str) -> np.ndarray:
    """``text`` drawn alone with the figures' fonts, as a grey-level array."""
    with plots.styled():
        figure = plots.Figure(figsize=(0.6, 0.6), dpi=100)
        figure.text(0.5, 0.5, text, fontsize=24, ha="center", va="center")
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png")
    pixels = matplotlib.image.imread(io.BytesIO(buffer.getvalue()))
    return np.asarray(pixels[:, :, :3].mean(axis=2))


def test_a_chinese_label_renders_as_glyphs_not_boxes() -> None:
    bao, xian = render_label("保"), render_label("险")
    assert (bao < 0.5).mean() > 0.02, "保 drew nothing"
    # A missing glyph draws the same box for every character; real glyphs differ.
    assert np.abs(bao - xian).mean() > 0.02
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # matplotlib warns that the glyph is missing
        tofu = render_label("\ue000")  # a private-use code point: no font has it
    assert np.abs(bao - tofu).mean() > 0.02


def test_figures_fall_back_to_the_shipped_font_after_dejavu() -> None:
    families = plots.font_families()
    assert families[0] == "DejaVu Sans"
    assert families[1] == "Riskshare Sans SC"


# --- the tower's layout ----------------------------------------------------------------


def test_tower_panels_follow_the_subjects_of_the_layers() -> None:
    scenario = riskshare.load_scenario(SPEC_EXAMPLE)
    panels = tower_panels(scenario)
    assert [p.subject for p in panels] == ["ground_up", "primary", "net:pool"]
    ground = panels[0]
    assert ground.breakpoints == (0.0, 5e6, 100e6, 500e6, float("inf"))
    primary, pool, backstop = ground.bands
    assert (primary.low, primary.high, primary.width) == (1, 2, 0.9)
    assert (pool.low, pool.high, pool.width) == (2, 3, 1.0)
    assert (backstop.low, backstop.high, backstop.width) == (3, 4, 0.8)
    assert ground.free_levels() == [0]
    assert "Fusion start-up" in ground.note
    assert panels[1].source_layer == 0
    assert panels[1].title == "Paid by layer ‘primary’"
    # The stop loss has only annual terms: it sits at its aggregate attachment.
    (stop,) = panels[2].bands
    assert stop.annual and panels[2].breakpoints == (0.0, 300e6, float("inf"))


def test_layers_over_a_net_each_get_a_lane() -> None:
    scenario = riskshare.load_scenario(ROOT / "scenarios" / "first-of-its-kind-equipment.yaml")
    net = next(p for p in tower_panels(scenario) if p.subject == "net:insurer")
    quota, excess = net.bands
    assert net.lanes == 2
    assert (quota.x, quota.width, quota.lane_end) == (0.0, 0.25, 0.5)
    assert (excess.x, excess.width, excess.lane_end) == (0.5, 0.5, 1.0)


def test_wrap_keeps_latin_words_and_breaks_chinese_anywhere() -> None:
    assert wrap("unlimited xs 1B, agg 5B, 80%", 12) == ["unlimited xs", "1B, agg 5B,", "80%"]
    assert wrap("集成电路关键领域共保体", 8) == ["集成电路", "关键领域", "共保体"]
    assert wrap("consortiumexcess", 5) == ["consortiumexcess"]


# --- images ----------------------------------------------------------------------------


def test_party_colours_are_distinct_and_stable() -> None:
    scenario = riskshare.load_scenario(ROOT / "scenarios" / "regional-innovation-pilot.yaml")
    colours = plots.party_colours(scenario)
    assert set(colours) == set(scenario.parties)
    assert len(set(colours.values())) == len(colours)
    assert colours == plots.party_colours(scenario)


def check_png(data: bytes, height_range: tuple[float, float]) -> None:
    """A real picture: PNG, the page's width, a sane height, not blank, in colour."""
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    pixels = matplotlib.image.imread(io.BytesIO(data))[:, :, :3]
    height, width = pixels.shape[:2]
    assert width == round(plots.PAGE_WIDTH * plots.PNG_DPI)
    low, high = height_range
    assert low * plots.PNG_DPI <= height <= high * plots.PNG_DPI
    rgb = np.round(pixels * 255).astype(int).reshape(-1, 3)
    assert len(np.unique(rgb @ np.array([65536, 256, 1]))) > 64, "too few colours: blank?"
    assert np.mean(rgb.min(axis=1) < 200) > 0.02, "almost nothing drawn"
    saturated = rgb.max(axis=1) - rgb.min(axis=1) > 60
    assert saturated.mean() > 0.002, "no colour: the parties' colours are missing"


@pytest.fixture(scope="module", params=SHIPPED, ids=lambda p: p.stem)
def shipped_result(request: pytest.FixtureRequest) -> SimulationResult:
    scenario = riskshare.load_scenario(request.param)
    return riskshare.simulate(scenario, years=2000, seed=3)


def test_every_bundled_scenario_gets_its_figures(shipped_result: SimulationResult) -> None:
    scenario = shipped_result.scenario
    tower = plots.figure_bytes(plots.tower_figure(scenario, shipped_result), "png")
    check_png(tower, (3.0, 12.0))
    splits = bad_year_splits(shipped_result)
    who = plots.figure_bytes(plots.who_pays_figure(shipped_result, splits), "png")
    check_png(who, (2.5, 5.0))
    curves = exceedance_curves(shipped_result)
    exceedance = plots.figure_bytes(plots.exceedance_figure(shipped_result, curves), "png")
    check_png(exceedance, (3.5, 5.0))


def test_a_budget_line_is_drawn_beside_the_outlay_it_is_compared_with() -> None:
    """With premiums, a party's budget is compared with its cost: that curve is drawn."""
    priced = riskshare.simulate(riskshare.load_scenario(CHINESE), years=1000)
    plain = riskshare.simulate(riskshare.load_scenario(SPEC_EXAMPLE), years=1000)
    labels = {}
    for name, result in (("priced", priced), ("plain", plain)):
        figure = plots.exceedance_figure(result, exceedance_curves(result))
        labels[name] = [str(line.get_label()) for line in figure.axes[0].get_lines()]
    budgeted = [str(entry["label"]) for entry in priced.parties.values() if "budget" in entry]
    assert budgeted
    for label in budgeted:
        assert f"{label}: outlay, premiums included" in labels["priced"]
    assert not any("outlay" in label for label in labels["plain"])


def test_svg_figures_have_text_as_paths_and_no_url() -> None:
    result = riskshare.simulate(riskshare.load_scenario(CHINESE), years=1000)
    svg = plots.exceedance_image(result, "svg").decode("utf-8")
    assert "<svg" in svg and "<text" not in svg
    assert "matplotlib.org" not in svg and "<dc:date>" not in svg


def test_figure_formats_are_png_and_svg() -> None:
    result = riskshare.simulate(riskshare.load_scenario(SPEC_EXAMPLE), years=200)
    with pytest.raises(ValueError, match="png or svg"):
        plots.exceedance_image(result, "pdf")


def test_drawing_leaves_the_callers_matplotlib_settings_alone() -> None:
    import matplotlib

    before = matplotlib.rcParams["font.family"]
    result = riskshare.simulate(riskshare.load_scenario(SPEC_EXAMPLE), years=200)
    plots.exceedance_image(result, "png")
    assert matplotlib.rcParams["font.family"] == before


# --- the command line ------------------------------------------------------------------


@pytest.mark.parametrize("suffix", ["png", "svg"])
def test_simulate_plot_writes_the_exceedance_curves(tmp_path: Path, suffix: str) -> None:
    target = tmp_path / f"curves.{suffix}"
    result = run("simulate", str(SPEC_EXAMPLE), "--years", "2000", "--quiet", "--plot", str(target))
    assert result.exit_code == 0, result.stderr
    data = target.read_bytes()
    if suffix == "png":
        check_png(data, (3.5, 5.0))
    else:
        assert b"<svg" in data
    assert [p.name for p in tmp_path.iterdir()] == [target.name]  # no temporary left


def test_simulate_plot_refuses_other_formats(tmp_path: Path) -> None:
    result = run("simulate", str(SPEC_EXAMPLE), "--plot", str(tmp_path / "curves.pdf"))
    assert result.exit_code == 2
    assert ".png or .svg" in result.stderr
    assert not (tmp_path / "curves.pdf").exists()


def test_the_core_commands_do_not_import_matplotlib() -> None:
    code = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from riskshare.cli import app\n"
        f"result = CliRunner().invoke(app, ['simulate', {str(SPEC_EXAMPLE)!r}, '--years', '100'])\n"
        "assert result.exit_code == 0, result.output\n"
        f"result = CliRunner().invoke(app, ['explain', {str(SPEC_EXAMPLE)!r}, '--loss', '80M'])\n"
        "assert result.exit_code == 0, result.output\n"
        "assert 'matplotlib' not in sys.modules, 'a core command imported matplotlib'\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert completed.returncode == 0, completed.stderr
