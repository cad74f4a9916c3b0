"""`integrations-admin demo` removes its temporary database however it ends:
SIGTERM, SIGHUP, the terminal closing (an SSH connection dropped); and a demo
removes the folders that earlier demos, killed outright, left behind. Real
processes in a pseudo-terminal. Issue 13, item 14."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

from tui import demo

PROGRAM = Path(sys.executable).with_name("integrations-admin")
START_TIMEOUT_S = 90  # a busy machine: the first paint usually takes 1-3 s
EXIT_TIMEOUT_S = 60


def _drain(fd: int, timeout: float) -> bytes:
    """What the program wrote within ``timeout`` (b"" at once if the terminal is gone)."""
    try:
        ready, _, _ = select.select([fd], [], [], timeout)
        return os.read(fd, 65536) if ready else b""
    except OSError:  # the other side closed: nothing more to read
        return b""


def start_demo(tmpdir: Path) -> tuple[int, int]:
    """Start the demo in an 80x24 pseudo-terminal with its temporary files in
    ``tmpdir``; returns (pid, terminal fd) once it has painted its first screen."""
    env = {**os.environ, "TMPDIR": str(tmpdir), "TERM": "xterm-256color"}
    pid, fd = pty.fork()
    if pid == 0:  # the child: become the demo at once
        try:
            os.execve(str(PROGRAM), [str(PROGRAM), "demo"], env)
        finally:
            os._exit(127)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    seen = b""
    deadline = time.monotonic() + START_TIMEOUT_S
    while b"Northwind" not in seen:
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            pytest.fail(f"the demo did not paint within {START_TIMEOUT_S} s: {seen[-500:]!r}")
        seen += _drain(fd, 0.2)
    return pid, fd


def wait_for_exit(pid: int, fd: int | None) -> int:
    """The exit status; keeps reading the terminal meanwhile (a full terminal
    buffer would block the program's last writes)."""
    deadline = time.monotonic() + EXIT_TIMEOUT_S
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        if fd is not None:
            _drain(fd, 0.1)
        else:
            time.sleep(0.1)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    pytest.fail(f"the demo did not exit within {EXIT_TIMEOUT_S} s")


def folders(tmpdir: Path, pid: int) -> list[Path]:
    return sorted(tmpdir.glob(f"{demo.FOLDER_PREFIX}{pid}-*"))


def dead_pid() -> int:
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_a_signal_ends_the_demo_and_removes_its_database(tmp_path, sig):
    pid, fd = start_demo(tmp_path)
    try:
        [folder] = folders(tmp_path, pid)
        assert (folder / "demo.db").exists()
        os.kill(pid, sig)
        assert wait_for_exit(pid, fd) == 128 + sig
    finally:
        os.close(fd)
    assert not folder.exists()
    assert list(tmp_path.iterdir()) == []


def test_closing_the_terminal_removes_the_demos_database(tmp_path):
    """The SSH connection drops: the terminal's other end closes, the kernel
    sends SIGHUP, and writes to the terminal fail from then on."""
    pid, fd = start_demo(tmp_path)
    [folder] = folders(tmp_path, pid)
    os.close(fd)
    wait_for_exit(pid, None)
    assert not folder.exists()


def test_the_next_demo_removes_what_a_killed_one_left(tmp_path):
    gone = dead_pid()
    left = tmp_path / f"{demo.FOLDER_PREFIX}{gone}-abcd1234"
    left.mkdir()
    (left / "demo.db").write_bytes(b"SQLite format 3\0")
    running = tmp_path / f"{demo.FOLDER_PREFIX}{os.getpid()}-efgh5678"  # this test: alive
    running.mkdir()
    unrelated = tmp_path / f"{demo.FOLDER_PREFIX}notes"
    unrelated.mkdir()

    pid, fd = start_demo(tmp_path)
    try:
        assert not left.exists()
        assert running.exists() and unrelated.exists()
        os.kill(pid, signal.SIGTERM)
        wait_for_exit(pid, fd)
    finally:
        os.close(fd)
    assert sorted(tmp_path.iterdir()) == sorted([running, unrelated])


def test_leftovers_are_only_those_of_dead_demos_of_this_user(tmp_path):
    gone = dead_pid()
    left = tmp_path / f"{demo.FOLDER_PREFIX}{gone}-x"
    left.mkdir()
    a_file = tmp_path / f"{demo.FOLDER_PREFIX}{gone}-file"
    a_file.write_text("not a folder")
    link = tmp_path / f"{demo.FOLDER_PREFIX}{gone}-link"
    target = tmp_path / "elsewhere"
    target.mkdir()
    link.symlink_to(target)
    mine = tmp_path / f"{demo.FOLDER_PREFIX}{os.getpid()}-y"
    mine.mkdir()
    assert demo.remove_leftovers(tmp_path) == [left]
    assert a_file.exists() and link.exists() and target.exists() and mine.exists()
