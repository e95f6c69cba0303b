"""Golden CLI output at a fixed width and seed; ``pytest --regen-golden`` rewrites it."""

from __future__ import annotations

from pathlib import Path

import pytest
from render import run, stable

GOLDEN = Path(__file__).parent / "golden"

CASES = {
    "simulate-spec-example": ["simulate", "tests/golden/spec-example.yaml"],
    "explain-spec-example": [
        "explain",
        "tests/golden/spec-example.yaml",
        "--loss",
        "800M",
        "--loss",
        "50M",
        "--loss",
        "3M",
    ],
    "simulate-chinese-labels": ["simulate", "tests/golden/chinese-labels.yaml", "--units", "万"],
    "explain-chinese-labels": [
        "explain",
        "tests/golden/chinese-labels.yaml",
        "--loss",
        "3亿",
        "--loss",
        "4亿",
    ],
    "compare-spec-example": [
        "compare",
        "tests/golden/spec-example.yaml",
        "tests/golden/spec-example-90.yaml",
    ],
    "sweep-spec-example": [
        "sweep",
        "tests/golden/spec-example.yaml",
        "--set",
        "layers.backstop.attachment=500M,1B",
        "--set",
        "layers.backstop.share=80%,90%",
    ],
    "sweep-chinese-labels": [
        "sweep",
        "tests/golden/chinese-labels.yaml",
        "--set",
        "layers[0].share=50%,100%",
        "--units",
        "万",
    ],
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_golden_output(name: str, regen_golden: bool) -> None:
    result = run(*CASES[name])
    assert result.exit_code == 0, result.stderr
    output = stable(result.stdout)
    path = GOLDEN / f"{name}.txt"
    if regen_golden:
        path.write_text(output, encoding="utf-8")
    assert output == path.read_text(encoding="utf-8"), f"run pytest --regen-golden to accept {name}"


def test_chinese_labels_line_up() -> None:
    """Rows with wide (Chinese) labels end at the same display column as the header."""
    from rich.cells import cell_len

    output = run(*CASES["simulate-chinese-labels"]).stdout
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("Who absorbs what"))
    end = next(i for i, line in enumerate(lines) if line.startswith("Cost of risk"))
    table = [line for line in lines[start + 1 : end] if line.strip()]
    assert len({cell_len(line) for line in table}) == 1, table
    header = next(line for line in table if line.lstrip().startswith("party"))
    expected_end = cell_len(header[: header.index("expected") + len("expected")])
    chinese = [line for line in table if any("\u4e00" <= ch <= "\u9fff" for ch in line.split()[0])]
    assert len(chinese) >= 5
    for line in chinese:
        amount = line.split()[2]
        assert cell_len(line[: line.index(amount) + len(amount)]) == expected_end, line
