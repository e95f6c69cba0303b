"""Input files read whole, within a size bound, and only if they are regular files.

A scenario path or an ``events_file`` may name a named pipe (FIFO), a device such as
``/dev/zero``, a directory or a socket: reading one would block for ever or never end.
:func:`read_bounded` refuses them before opening them for reading (and checks again on
the opened file, which is opened without waiting for a writer), refuses a file larger
than its bound from its size, and reads at most one byte beyond the bound, so that
nothing is ever read without limit. The program's own standard input, piped, is the
one pipe read (``cat x.yaml | riskshare validate /dev/stdin`` has always worked).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

#: The largest scenario file read: about a hundred times the largest real one. PyYAML
#: reads 30 KB to 1 MB a second, so a file this size takes up to half a minute.
SCENARIO_LIMIT = 1 << 20
#: The largest events file read: tens of millions of rows of a year loss table.
EVENTS_LIMIT = 2 << 30


class InputFileError(ValueError):
    """A file that cannot be read: why, in words that follow the file's name."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def read_bounded(path: Path, limit: int, what: str, hint: str = "") -> bytes:
    """The bytes of the regular file at ``path``, at most ``limit`` of them.

    ``what`` names the file's role in messages (``a scenario file``), ``hint`` says what
    to do about a file too large (``; …``). Raises :class:`InputFileError` for a missing
    or unreadable file, one that is not a regular file, and one larger than ``limit``.
    The one pipe read is the program's own standard input (``… | riskshare validate
    /dev/stdin``), whose writer ends it; it is read up to the bound as well.
    """
    try:
        status = os.stat(path)
        piped = _is_piped_stdin(status)
        if not piped:
            _check(status.st_mode, what)
        if piped:  # read as it is: opened anew, a pipe would wait for another writer
            descriptor = os.dup(0)
        else:  # opening a named pipe waits for a writer; opened without waiting, it is refused
            flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
            descriptor = os.open(path, flags | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise InputFileError("no such file") from None
    except OSError as error:
        raise InputFileError(f"cannot be read: {error.strerror or error}") from None
    try:
        with os.fdopen(descriptor, "rb") as handle:
            status = os.fstat(handle.fileno())
            if not piped:
                _check(status.st_mode, what)  # the path may name another file by now
            if status.st_size > limit:
                found = _size(status.st_size)
                if found == _size(limit):
                    found = f"{status.st_size:,} bytes"
                raise InputFileError(
                    f"is {found}, more than the {_size(limit)} {what} may hold{hint}"
                )
            data = handle.read(limit + 1)
    except OSError as error:
        raise InputFileError(f"cannot be read: {error.strerror or error}") from None
    if len(data) > limit:
        raise InputFileError(f"holds more than the {_size(limit)} {what} may hold{hint}")
    return data


def _is_piped_stdin(status: os.stat_result) -> bool:
    """Whether ``status`` is of a pipe that is this program's standard input."""
    if not stat.S_ISFIFO(status.st_mode):
        return False
    try:
        stdin = os.fstat(0)
    except OSError:
        return False
    return (stdin.st_dev, stdin.st_ino) == (status.st_dev, status.st_ino)


def _check(mode: int, what: str) -> None:
    """Refuse what is not a regular file, naming what it is."""
    if stat.S_ISREG(mode):
        return
    if stat.S_ISDIR(mode):
        raise InputFileError(f"is a directory, not {what}")
    if stat.S_ISFIFO(mode):
        kind = "a named pipe (FIFO)"
    elif stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        kind = "a device"
    elif stat.S_ISSOCK(mode):
        kind = "a socket"
    else:
        kind = "something other than a file"
    raise InputFileError(
        f"is {kind}, not {what}; riskshare reads only regular files: save the content to "
        "a file and give its path"
    )


def _size(count: int) -> str:
    """``16 MiB``, ``2.5 GiB``, ``812 bytes``."""
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if count >= size:
            return f"{count / size:.3g} {unit}"
    return f"{count} bytes"
