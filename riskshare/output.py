"""Writing a command's outputs: whole files, never over an input, never over a device.

Every file a command writes (JSON, CSV, a figure, a report) goes through
:func:`write_file`:

- a regular file, or a name not yet taken, is written whole or not at all: into a
  temporary file in the same folder, then renamed over the target. An existing file
  keeps its permissions; a new one gets the usual ``0666`` less the umask;
- a symbolic link is followed: the link stays, the file it points to is replaced;
- a character device (``/dev/null``, ``/dev/stdout``, a terminal) is written to
  directly, never replaced by a file;
- anything else (a folder, a named pipe, a socket, a disk) is refused.

:func:`overwritten_input` and :func:`same_outputs` let a command refuse, before it
runs, an output that names one of its inputs or another of its outputs.
"""

from __future__ import annotations

import errno
import os
import stat
import sys
import tempfile
from collections.abc import Iterable, Mapping
from contextlib import suppress
from pathlib import Path

from riskshare.errors import OutputError

#: The target that means standard output.
STDOUT = "-"

PathLike = str | os.PathLike[str]

_KINDS = {
    stat.S_IFDIR: "a folder; name a file inside it",
    stat.S_IFIFO: "a named pipe; name a file, or write to standard output with - and pipe that",
    stat.S_IFSOCK: "a socket; name a file",
    stat.S_IFBLK: "a block device (a disk); name a file",
}

_CAUSES = {
    errno.ENOSPC: "no space left on the device",
    errno.EDQUOT: "the disk quota is used up",
    errno.EFBIG: "the file would be too large",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.EROFS: "the file system is read-only",
    errno.ELOOP: "too many levels of symbolic links",
    errno.ENAMETOOLONG: "the name is too long",
}


def cause(error: OSError) -> str:
    """Why ``error`` happened, in a few plain words."""
    if error.errno in _CAUSES:
        return _CAUSES[error.errno]
    return (error.strerror or str(error)).lower()


def write_text(target: PathLike, text: str) -> None:
    """Write ``text`` as UTF-8 to the file ``target``, or to standard output for ``-``."""
    if str(target) == STDOUT:
        sys.stdout.write(text)
    else:
        write_file(target, text.encode("utf-8"))


def write_file(target: PathLike, data: bytes) -> None:
    """Write ``data`` to ``target`` as the module says; :class:`OutputError` if it cannot."""
    try:
        old: os.stat_result | None = os.stat(target)  # through symbolic links
    except FileNotFoundError:
        old = None
    except OSError as error:
        raise OutputError(f"cannot write {target}: {cause(error)}") from None
    if old is None or stat.S_ISREG(old.st_mode):
        _replace(target, data, old)
    elif stat.S_ISCHR(old.st_mode):
        _write_device(target, data)
    else:
        raise OutputError(f"cannot write {target}: it is {_KINDS[stat.S_IFMT(old.st_mode)]}")


def is_device(target: PathLike) -> bool:
    """Whether ``target`` is a character device (``/dev/null``), which outputs may share."""
    try:
        return stat.S_ISCHR(os.stat(target).st_mode)
    except OSError:
        return False


def same_file(one: PathLike, other: PathLike) -> bool:
    """Whether the two names lead to the same file: through links, hard or symbolic."""
    try:
        return os.path.samefile(one, other)
    except OSError:  # one of them does not exist (yet)
        return os.path.realpath(one) == os.path.realpath(other)


def overwritten_input(outputs: Iterable[PathLike | None], inputs: Iterable[PathLike]) -> None:
    """:class:`OutputError` if an output (``-`` and None aside) is one of the ``inputs``."""
    sources = list(inputs)
    for output in outputs:
        if output is None or str(output) == STDOUT:
            continue
        for source in sources:
            if same_file(output, source):
                raise OutputError(
                    f"will not write {output}: {_input_name(output, source)}, which would be "
                    "lost; write the output to another file"
                )


def same_outputs(outputs: Mapping[str, PathLike | None]) -> tuple[str, str] | None:
    """The first two options (of ``option -> target``) naming the same file, if any.

    ``-`` (standard output) and character devices such as ``/dev/null`` may be shared.
    """
    named = [
        (option, target)
        for option, target in outputs.items()
        if target is not None and str(target) != STDOUT and not is_device(target)
    ]
    for at, (option, target) in enumerate(named):
        for other, other_target in named[at + 1 :]:
            if same_file(target, other_target):
                return option, other
    return None


def _input_name(output: PathLike, source: PathLike) -> str:
    if os.fspath(output) == os.fspath(source):
        return "it is an input of this run"
    return f"it is the same file as {source}, an input of this run"


def _replace(target: PathLike, data: bytes, old: os.stat_result | None) -> None:
    """Write a new file beside the real target and rename it over the target.

    The new file takes the old one's permissions, and its owner and group where this
    process may give them; a file that did not exist gets 0666 less the umask.
    """
    real = Path(os.path.realpath(target))  # through symbolic links: the link stays
    if old is None:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask  # as open() would make it, not the temporary's 0600
    else:
        mode = stat.S_IMODE(old.st_mode)
    temporary: Path | None = None
    try:
        with tempfile.NamedTemporaryFile(
            "wb", dir=real.parent, prefix=f".{real.name}.", suffix=".tmp", delete=False
        ) as handle:
            temporary = Path(handle.name)
            handle.write(data)
            made = os.fstat(handle.fileno())
        if old is not None and (old.st_uid, old.st_gid) != (made.st_uid, made.st_gid):
            with suppress(OSError):  # only root may give a file away
                os.chown(temporary, old.st_uid, old.st_gid)
        temporary.chmod(mode)  # after chown, which clears the set-id bits
        os.replace(temporary, real)
    except BaseException as error:
        if temporary is not None:
            temporary.unlink(missing_ok=True)
        if isinstance(error, OSError):
            if isinstance(error, FileNotFoundError) and not real.parent.is_dir():
                link = os.path.islink(target)
                folder = real.parent if link else os.path.dirname(os.fspath(target)) or "."
                raise OutputError(
                    f"cannot write {target}: the folder {folder} does not exist"
                ) from None
            raise OutputError(f"cannot write {target}: {cause(error)}") from None
        raise


def _write_device(target: PathLike, data: bytes) -> None:
    """Write straight to a character device: opened as it is, never created or replaced."""
    try:
        descriptor = os.open(target, os.O_WRONLY | os.O_NOCTTY)
    except OSError as error:
        raise OutputError(f"cannot write {target}: {cause(error)}") from None
    try:
        with open(descriptor, "wb", closefd=True) as device:
            if not stat.S_ISCHR(os.fstat(descriptor).st_mode):  # replaced since looked at
                raise OutputError(f"cannot write {target}: it changed while being written")
            device.write(data)
    except OSError as error:
        raise OutputError(f"cannot write {target}: {cause(error)}") from None
