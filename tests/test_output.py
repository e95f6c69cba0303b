"""The output writer: whole files, modes kept, links followed, devices and inputs spared."""

from __future__ import annotations

import os
import socket
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from riskshare.errors import OutputError
from riskshare.output import overwritten_input, same_outputs, write_file, write_text


def _umask() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return umask


def _device(tmp_path: Path, name: str, kind: int, major: int, minor: int) -> Path:
    """A device node made in ``tmp_path``; the test is skipped where that is not allowed."""
    node = tmp_path / name
    try:
        os.mknod(node, kind | 0o666, os.makedev(major, minor))
    except (PermissionError, AttributeError):
        pytest.skip("cannot make a device node here")
    return node


def test_a_new_file_gets_the_usual_permissions(tmp_path: Path) -> None:
    target = tmp_path / "out.json"
    write_file(target, b"{}\n")
    assert target.read_bytes() == b"{}\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~_umask()


@pytest.mark.parametrize("mode", [0o600, 0o640, 0o444])
def test_an_existing_file_keeps_its_permissions(tmp_path: Path, mode: int) -> None:
    target = tmp_path / "out.json"
    target.write_bytes(b"old")
    target.chmod(mode)
    write_file(target, b"new")
    assert target.read_bytes() == b"new"
    assert stat.S_IMODE(target.stat().st_mode) == mode


def test_a_symlink_is_written_through(tmp_path: Path) -> None:
    real = tmp_path / "real.json"
    real.write_bytes(b"old")
    real.chmod(0o600)
    link = tmp_path / "link.json"
    link.symlink_to(real)
    write_file(link, b"new")
    assert link.is_symlink()
    assert os.readlink(link) == str(real)
    assert real.read_bytes() == b"new"
    assert stat.S_IMODE(real.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.json", "real.json"]


def test_a_symlink_into_another_folder_is_written_there(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    real = elsewhere / "real.json"
    link = tmp_path / "link.json"
    link.symlink_to(real)  # dangling: the file is made where it points
    write_file(link, b"new")
    assert link.is_symlink()
    assert real.read_bytes() == b"new"
    assert [p.name for p in elsewhere.iterdir()] == ["real.json"]


def test_dev_null_is_written_to_and_stays_a_device() -> None:
    write_file("/dev/null", b"{}\n")
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_a_character_device_is_written_to_not_replaced(tmp_path: Path) -> None:
    device = os.stat("/dev/null").st_rdev
    null = _device(tmp_path, "null", stat.S_IFCHR, os.major(device), os.minor(device))
    write_file(null, b"{}\n")
    assert stat.S_ISCHR(null.stat().st_mode)
    assert null.stat().st_rdev == os.stat("/dev/null").st_rdev
    assert [p.name for p in tmp_path.iterdir()] == ["null"]


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full here")
def test_a_full_device_is_a_clear_error() -> None:
    with pytest.raises(OutputError, match="cannot write /dev/full: no space left on the device"):
        write_file("/dev/full", b"x" * 100_000)
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)


def _fifo(path: Path) -> None:
    os.mkfifo(path)


def _folder(path: Path) -> None:
    path.mkdir()


def _socket(path: Path) -> None:
    server = socket.socket(socket.AF_UNIX)
    try:
        server.bind(str(path))
    except OSError:
        pytest.skip("path too long for a socket")
    finally:
        server.close()


def _block(path: Path) -> None:
    _device(path.parent, path.name, stat.S_IFBLK, 7, 250)


@pytest.mark.parametrize(
    ("make", "what", "check"),
    [
        (_fifo, "a named pipe", stat.S_ISFIFO),
        (_folder, "a folder", stat.S_ISDIR),
        (_socket, "a socket", stat.S_ISSOCK),
        (_block, "a block device", stat.S_ISBLK),
    ],
    ids=["fifo", "folder", "socket", "block-device"],
)
def test_other_targets_are_refused_and_left_as_they_are(
    tmp_path: Path,
    make: Callable[[Path], None],
    what: str,
    check: Callable[[int], bool],
) -> None:
    target = tmp_path / "out"
    make(target)
    with pytest.raises(OutputError, match=f"cannot write {target}: it is {what}"):
        write_file(target, b"{}\n")
    assert check(os.lstat(target).st_mode)
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_a_symlink_to_a_fifo_is_refused(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe")
    (tmp_path / "out").symlink_to(tmp_path / "pipe")
    with pytest.raises(OutputError, match="a named pipe"):
        write_file(tmp_path / "out", b"{}\n")
    assert stat.S_ISFIFO(os.stat(tmp_path / "pipe").st_mode)
    assert (tmp_path / "out").is_symlink()


def test_a_missing_folder_is_named_and_nothing_is_left(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match=r"the folder .*missing does not exist"):
        write_file(tmp_path / "missing" / "out.json", b"{}")
    assert list(tmp_path.iterdir()) == []


def test_write_text_to_dash_goes_to_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    write_text("-", "{}\n")
    assert capsys.readouterr().out == "{}\n"


def test_an_input_is_found_by_any_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    scenario = tmp_path / "s.yaml"
    scenario.write_text("name: x\n", encoding="utf-8")
    os.link(scenario, tmp_path / "hard.yaml")
    (tmp_path / "soft.yaml").symlink_to(scenario)
    (tmp_path / "sub").mkdir()
    for output in ["s.yaml", "./s.yaml", "sub/../s.yaml", str(scenario), "hard.yaml", "soft.yaml"]:
        with pytest.raises(OutputError, match=f"will not write {output}: .*an input"):
            overwritten_input([output], [Path("s.yaml")])
    # through a link on the input's side too
    with pytest.raises(OutputError, match=r"the same file as soft\.yaml"):
        overwritten_input(["s.yaml"], [Path("soft.yaml")])
    overwritten_input(["other.yaml", "-", None], [Path("s.yaml")])


def test_two_outputs_naming_one_file_are_found(tmp_path: Path) -> None:
    out = tmp_path / "out.json"
    assert same_outputs({"--json": str(out), "--csv": str(tmp_path / "." / "out.json")}) == (
        "--json",
        "--csv",
    )
    (tmp_path / "link.json").symlink_to(out)
    assert same_outputs({"--json": str(out), "--plot": tmp_path / "link.json"}) == (
        "--json",
        "--plot",
    )
    assert same_outputs({"--json": str(out), "--csv": str(tmp_path / "out.csv")}) is None
    assert same_outputs({"--json": "-", "--csv": "-"}) is None  # the CLI refuses it itself
    assert same_outputs({"--json": "/dev/null", "--csv": "/dev/null"}) is None
    assert same_outputs({"--json": str(out), "--csv": None}) is None


@pytest.mark.skipif(os.geteuid() != 0, reason="only root may give a file away")
def test_an_existing_file_keeps_its_owner(tmp_path: Path) -> None:
    target = tmp_path / "out.json"
    target.write_bytes(b"old")
    os.chown(target, 65534, 65534)
    write_file(target, b"new")
    assert (target.stat().st_uid, target.stat().st_gid) == (65534, 65534)
