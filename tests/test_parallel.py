"""Worker processes: they never outlive the run, and a lost one is reported plainly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from riskshare.engine.workers import Workers, can_fork
from riskshare.errors import RunError

pytestmark = pytest.mark.skipif(
    not (can_fork() and Path("/proc/self/stat").exists()), reason="needs fork and /proc"
)

#: A run long enough to be stopped part way, on any machine (seconds, not minutes).
LONG_RUN = [
    "simulate",
    "scenarios/breakthrough-consortium.yaml",
    "--years",
    "5000000",
    "--workers",
    "2",
    "--quiet",
]
DEADLINE = 60.0  # seconds; generous: a passing test takes a fraction of it


def _state(pid: int) -> str | None:
    """The process's state letter (R, S, Z...), None once it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[0]


def _alive(pid: int) -> bool:
    return _state(pid) not in (None, "Z", "X")  # a zombie has ended; only its entry is left


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(entry.name))
    return found


def _wait_until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + DEADLINE
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"waited {DEADLINE:.0f} s for {what}")
        time.sleep(0.05)


@pytest.fixture
def long_run() -> Iterator[tuple[subprocess.Popen[str], list[int]]]:
    """A run with two workers, once both are running; everything is killed at the end."""
    process = subprocess.Popen(
        [sys.executable, "-m", "riskshare", *LONG_RUN],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    workers: list[int] = []
    try:
        _wait_until(
            lambda: len(_children(process.pid)) >= 2 or process.poll() is not None,
            "the workers to start",
        )
        workers = _children(process.pid)
        assert process.poll() is None, process.communicate()[1]
        yield process, workers
    finally:
        for pid in [process.pid, *workers]:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
        process.wait()
        if process.stderr is not None:
            process.stderr.close()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_a_stop_signal_ends_the_workers_too(
    long_run: tuple[subprocess.Popen[str], list[int]], signum: int
) -> None:
    process, workers = long_run
    os.kill(process.pid, signum)
    _wait_until(lambda: process.poll() is not None, "the run to end")
    assert process.returncode == -signum  # the signal took its usual course
    _wait_until(lambda: not any(_alive(pid) for pid in workers), "the workers to end")


def test_the_workers_die_with_a_killed_parent(
    long_run: tuple[subprocess.Popen[str], list[int]],
) -> None:
    process, workers = long_run
    os.kill(process.pid, signal.SIGKILL)  # no handler runs: the system ends the workers
    _wait_until(lambda: process.poll() is not None, "the run to end")
    _wait_until(lambda: not any(_alive(pid) for pid in workers), "the workers to end")


def test_a_killed_worker_ends_the_run_with_a_plain_message(
    long_run: tuple[subprocess.Popen[str], list[int]],
) -> None:
    process, workers = long_run
    os.kill(workers[0], signal.SIGKILL)
    _wait_until(lambda: process.poll() is not None, "the run to end")
    stderr = process.communicate()[1]
    assert process.returncode == 1
    assert stderr.startswith(
        "error: a worker process stopped unexpectedly (killed by signal 9, SIGKILL"
    ), stderr
    assert stderr.rstrip().endswith("run again, or with --workers 1")
    assert "Traceback" not in stderr
    _wait_until(lambda: not any(_alive(pid) for pid in workers), "the other worker to end")


def _die(argument: object) -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def _exit(argument: object) -> None:
    os._exit(3)


def _echo(argument: object) -> object:
    return argument


@pytest.mark.parametrize(
    ("handler", "how"),
    [(_die, "killed by signal 9, SIGKILL"), (_exit, "exit status 3")],
    ids=["killed", "exited"],
)
def test_a_lost_worker_is_a_run_error(handler: Callable[[Any], Any], how: str) -> None:
    pool = Workers(2, {"echo": _echo, "die": handler})
    with pytest.raises(RunError, match=rf"a worker process stopped unexpectedly \({how}"), pool:
        assert pool.each("echo", 1) == [1, 1]
        pool.each_of("die", [None, None])


def test_the_stop_signals_are_given_back_after_a_run() -> None:
    before = [signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGHUP)]
    with Workers(2, {"echo": _echo}) as pool:
        assert pool.each("echo", 2) == [2, 2]
    assert [signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGHUP)] == before
