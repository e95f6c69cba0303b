"""Worker processes that run a run's blocks and keep their share of it between calls.

Workers are forked from the running process (Linux's default start method), so they
inherit the compiled plan, its samplers (closures, which cannot be pickled) and the
handlers as they are: a call sends only a handler's name and a small argument, and
only what a block contributes travels back. Each worker keeps its own state from
call to call (the kept tails of the blocks it ran, say), which the caller collects at
the end. Whatever order the calls finish in, the caller merges what needs an order
(moments) in block order, so a run's figures do not depend on the number of workers.

With one worker, or where ``fork`` is not available, the handlers run in the calling
process: the same code, with no pool.

Workers never outlive the run: a worker is killed by the system when the process that
forked it ends, however it ends (Linux), and SIGTERM or SIGHUP to that process while
workers run stops them first, then takes its usual course. A worker that dies on its own
(killed, out of memory) ends the run with a :class:`RunError` that says so.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import threading
from collections.abc import Callable, Mapping, Sequence
from contextlib import suppress
from multiprocessing.connection import Connection, wait
from types import FrameType, TracebackType
from typing import Any

import numpy as np

from riskshare.errors import RunError

Handler = Callable[[Any], Any]

_worker = 0  # this process's number among the workers (0 in the calling process)

#: Calls each worker has in hand at once: the next is waiting while one is answered.
IN_FLIGHT = 2

#: Signals that end a run with workers: the workers are stopped before the signal acts.
STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP)
_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


class Stopped(BaseException):
    """A stop signal (SIGTERM, SIGHUP) received while workers ran."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def cores() -> int:
    """The number of cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


def worker_number() -> int:
    """This process's number among a run's workers (0 in the calling process)."""
    return _worker


class Workers:
    """``count`` forked processes that run ``handlers`` and keep their state between calls.

    Use as a context manager; on leaving it, the workers are stopped (killed, if the
    block was left by an error).
    """

    def __init__(self, count: int, handlers: Mapping[str, Handler]) -> None:
        tune_allocator()  # before forking: the workers inherit it
        self._processes: list[Any] = []
        self._connections: list[Connection] = []
        self._local = count <= 1 or not can_fork()
        self.size = 1 if self._local else count
        self._handlers = handlers
        if self._local:
            return
        context = multiprocessing.get_context("fork")
        for number in range(count):
            parent, child = context.Pipe()
            # forked, the worker inherits the handlers as they are: nothing is pickled
            process = context.Process(
                target=_serve, args=(child, number, handlers, os.getpid()), daemon=True
            )
            process.start()
            child.close()
            self._processes.append(process)
            self._connections.append(parent)
        self._signals = _catch_stop_signals()
        # the workers reuse their blocks' memory; this process, which only merges,
        # hands what it frees back (its peak is the run's tails, not blocks)
        _mallopt(_M_TRIM_THRESHOLD, MERGER_TRIM_THRESHOLD)

    def __enter__(self) -> Workers:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._local:
            return
        _restore(self._signals)  # a second signal now acts at once; workers die with us
        _mallopt(_M_TRIM_THRESHOLD, ALLOCATOR_SETTINGS[_M_TRIM_THRESHOLD])
        for connection in self._connections:
            try:
                if kind is None:
                    connection.send(None)
            except OSError:  # pragma: no cover - a worker already gone
                pass
        for process in self._processes:
            if kind is not None:
                process.kill()
            process.join()
        for connection in self._connections:
            connection.close()
        if isinstance(error, Stopped):  # the workers are gone: the signal takes its course
            os.kill(os.getpid(), error.signum)

    def map(self, op: str, items: Sequence[Any], receive: Callable[[Any, Any], None]) -> None:
        """Call handler ``op`` on each of ``items``; ``receive(item, result)`` as each ends.

        ``receive`` runs in the calling process, in the order the calls finish.
        """
        if self._local:
            for item in items:
                receive(item, self._handlers[op](item))
            return
        waiting = list(reversed(items))
        busy: dict[Connection, list[Any]] = {c: [] for c in self._connections}
        for _ in range(IN_FLIGHT):
            for connection in self._connections:
                if waiting:
                    item = waiting.pop()
                    self._send(connection, (op, item))
                    busy[connection].append(item)
        while any(busy.values()):
            for ready in wait([c for c, held in busy.items() if held]):
                assert isinstance(ready, Connection)
                connection = ready
                result = self._answer(connection)
                item = busy[connection].pop(0)
                if waiting:
                    following = waiting.pop()
                    self._send(connection, (op, following))
                    busy[connection].append(following)
                receive(item, result)

    def each(self, op: str, argument: Any) -> list[Any]:
        """Call handler ``op`` once in every worker; their results, worker by worker."""
        if self._local:
            return [self._handlers[op](argument)]
        for connection in self._connections:
            self._send(connection, (op, argument))
        return [self._answer(connection) for connection in self._connections]

    def each_of(self, op: str, arguments: Sequence[Any]) -> list[Any]:
        """Call handler ``op`` in every worker, worker ``w`` with ``arguments[w]``."""
        if self._local:
            return [self._handlers[op](arguments[0])]
        for connection, argument in zip(self._connections, arguments, strict=True):
            self._send(connection, (op, argument))
        return [self._answer(connection) for connection in self._connections]

    def _send(self, connection: Connection, message: Any) -> None:
        try:
            connection.send(message)
        except OSError:
            raise self._lost(connection) from None

    def _answer(self, connection: Connection) -> Any:
        try:
            status, result = connection.recv()
        except (EOFError, OSError):
            raise self._lost(connection) from None
        if status == "error":
            raise result
        return result

    def _lost(self, connection: Connection) -> RunError:
        """The error of a run whose worker at the other end of ``connection`` is gone."""
        process = self._processes[self._connections.index(connection)]
        process.join(timeout=5)
        code = process.exitcode
        if code is None:
            how = "it stopped answering"
        elif code < 0:
            how = f"killed by signal {-code}, {_signal_name(-code)}"
            if -code == signal.SIGKILL:
                how += ", as the system does when memory runs out"
        else:
            how = f"exit status {code}"
        return RunError(
            f"a worker process stopped unexpectedly ({how}); run again, or with --workers 1"
        )


def _signal_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return "an unknown signal"


def _catch_stop_signals() -> dict[int, Any]:
    """Turn the stop signals into :class:`Stopped` while workers run; the handlers before.

    Only signals left to their default action (not ignored, as under ``nohup``, nor
    handled by the program), and only from the main thread, where Python runs handlers.
    """
    if threading.current_thread() is not threading.main_thread():
        return {}
    before: dict[int, Any] = {}
    for signum in STOP_SIGNALS:
        if signal.getsignal(signum) is signal.SIG_DFL:
            before[signum] = signal.signal(signum, _stop)
    return before


def _stop(signum: int, frame: FrameType | None) -> None:
    raise Stopped(signum)


def _restore(handlers: Mapping[int, Any]) -> None:
    for signum, handler in handlers.items():
        signal.signal(signum, handler)


def _die_with(parent: int) -> None:
    """In a worker: be killed when ``parent`` ends, and take the stop signals as they come."""
    for signum in STOP_SIGNALS:
        signal.signal(signum, signal.SIG_DFL)
    with suppress(OSError, AttributeError):  # not Linux: the stop signals still do
        ctypes.CDLL("libc.so.6").prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # it ended before the request was made
        os._exit(1)


def _serve(
    connection: Connection, number: int, handlers: Mapping[str, Handler], parent: int
) -> None:
    """A worker's loop: run the handler each message names, send back what it returns."""
    global _worker
    _die_with(parent)
    _worker = number
    while True:
        try:
            message = connection.recv()
        except EOFError:
            return
        if message is None:
            return
        op, argument = message
        try:
            answer: tuple[str, Any] = ("ok", handlers[op](argument))
        except BaseException as error:  # handed to the caller to raise
            answer = ("error", error)
        try:
            connection.send(answer)
        except Exception as error:  # an answer that cannot be pickled
            connection.send(("error", RuntimeError(f"cannot send back {answer[1]!r}: {error}")))


def shared_floats(shape: tuple[int, ...]) -> Any:
    """float64 values in memory shared with workers forked after, all NaN to start."""
    count = int(np.prod(shape))
    if can_fork():
        buffer = multiprocessing.get_context("fork").RawArray("d", max(count, 1))
        values = np.frombuffer(buffer, dtype=np.float64, count=count).reshape(shape)
    else:  # pragma: no cover - no workers then
        values = np.empty(shape)
    values.fill(np.nan)
    return values


#: glibc's mallopt parameters, and the values a run sets (see tune_allocator).
_M_TRIM_THRESHOLD, _M_TOP_PAD, _M_MMAP_THRESHOLD = -1, -2, -3
ALLOCATOR_SETTINGS = {
    _M_MMAP_THRESHOLD: 64 * 2**20,
    _M_TRIM_THRESHOLD: 256 * 2**20,
    _M_TOP_PAD: 64 * 2**20,
}
#: What the process that merges keeps of the memory it frees, while workers run.
MERGER_TRIM_THRESHOLD = 16 * 2**20
_tuned = False


def _mallopt(option: int, value: int) -> bool:
    try:
        return bool(ctypes.CDLL("libc.so.6").mallopt(option, value) == 1)
    except (OSError, AttributeError):
        return False


def tune_allocator() -> bool:
    """Let glibc keep freed memory for reuse instead of handing it back at once.

    A block allocates and frees a few hundred arrays of 1-20 MB. By default glibc
    serves each with a fresh ``mmap`` and unmaps it when freed, so every block pays a
    page fault per 4 kB touched: on a virtual machine, twice the cost of the
    arithmetic. Served from the heap and kept (up to 256 MB free), the pages are
    reused block after block. Process-wide and idempotent; off glibc, does nothing
    and returns False.
    """
    global _tuned
    if _tuned:
        return True
    _tuned = all(_mallopt(option, value) for option, value in ALLOCATOR_SETTINGS.items())
    return _tuned
