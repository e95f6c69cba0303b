"""The terminal: the consoles tables and messages are printed to, the progress bar of a
long run, and whether figures can be drawn.

The command line prints through these, so that rich and matplotlib stay inside render/.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

WIDTH_WHEN_PIPED = 150


def stdout_console() -> Console:
    """The console for tables: the terminal's width, or a wide page when piped to a file."""
    width = None if sys.stdout.isatty() or "COLUMNS" in os.environ else WIDTH_WHEN_PIPED
    return Console(highlight=False, soft_wrap=False, width=width)


def stderr_console() -> Console:
    """The console for messages and warnings."""
    return Console(stderr=True, highlight=False, soft_wrap=True)


@contextmanager
def progress_bar(label: str, total: int) -> Iterator[Callable[[int, int], None]]:
    """A bar on stderr, and the function that moves it to ``done`` of ``total``."""
    with Progress(
        TextColumn(label),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeRemainingColumn(),
        console=stderr_console(),
        transient=True,
        auto_refresh=False,  # redrawn at each block: no thread running when workers fork
    ) as bar:
        task = bar.add_task(label, total=total)
        yield lambda done, total: bar.update(task, completed=done, refresh=True)


def can_draw() -> bool:
    """Whether matplotlib, the optional ``report`` extra, is installed."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True
