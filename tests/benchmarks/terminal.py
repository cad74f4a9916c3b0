"""Run a program in a pseudo-terminal, as a person's terminal would, and
notice when a given text becomes visible in what it writes."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import signal
import struct
import subprocess
import termios
import time

# Escape sequences: CSI (cursor moves, colours, modes) and OSC (titles ...).
_ESCAPES = re.compile(rb"\x1b\[[0-9;?<>=$]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[=>]")


def visible(raw: bytes) -> str:
    """The text a terminal would show, without escape sequences (lines run together)."""
    return _ESCAPES.sub(b"", raw).decode("utf-8", "replace")


class Terminal:
    """A program started in its own pseudo-terminal of ``cols`` x ``rows``.

    ``started`` is taken just before the process is created, so times measured
    from it include the interpreter's start, every import and the first frame.
    Textual writes its frames to stderr, so stderr is the terminal too.
    """

    def __init__(
        self,
        argv: list[str],
        *,
        cols: int = 80,
        rows: int = 24,
        env: dict[str, str] | None = None,
        cwd: str | None = None,
    ) -> None:
        self.master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        full_env = dict(os.environ, TERM="xterm-256color", COLORTERM="truecolor")
        full_env.update(env or {})
        self.raw = bytearray()
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(
            argv,
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=full_env,
            cwd=cwd,
            start_new_session=True,
        )
        os.close(slave)

    def _read(self, timeout: float) -> bool:
        ready, _, _ = select.select([self.master], [], [], timeout)
        if not ready:
            return True
        try:
            chunk = os.read(self.master, 1 << 16)
        except OSError:  # the program ended
            return False
        if not chunk:
            return False
        self.raw += chunk
        return True

    def wait_for(self, text: str, *, since: int = 0, timeout: float = 30.0) -> float:
        """Seconds from ``started`` until ``text`` is visible in the output written
        after byte ``since``; raises TimeoutError (with the screen's text) otherwise."""
        deadline = time.perf_counter() + timeout
        while True:
            if text in visible(bytes(self.raw[since:])):
                return time.perf_counter() - self.started
            left = deadline - time.perf_counter()
            if left <= 0 or not self._read(min(left, 0.5)):
                tail = visible(bytes(self.raw[since:]))[-600:]
                raise TimeoutError(f"{text!r} never appeared; the program wrote: {tail!r}")

    def wait_change(self, *, since: int, timeout: float = 30.0) -> float:
        """Seconds from ``started`` until the program writes visible text after
        byte ``since`` (its first reaction to a key: an indicator, a title, the
        data); raises TimeoutError otherwise."""
        deadline = time.perf_counter() + timeout
        while True:
            if visible(bytes(self.raw[since:])).strip():
                return time.perf_counter() - self.started
            left = deadline - time.perf_counter()
            if left <= 0 or not self._read(min(left, 0.5)):
                raise TimeoutError("the program wrote nothing visible")

    def drain(self) -> None:
        """Read what the program has written so far (nothing waited for)."""
        while True:
            ready, _, _ = select.select([self.master], [], [], 0)
            if not ready or not self._read(0):
                return

    def send(self, data: bytes) -> int:
        """Type ``data``; returns the output position to pass as ``since``."""
        mark = len(self.raw)
        os.write(self.master, data)
        return mark

    def peak_rss_kb(self) -> int:
        """The program's peak resident set size so far (VmHWM), in KiB."""
        with open(f"/proc/{self.proc.pid}/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
        return 0

    def close(self) -> None:
        """End the program (it is ours: killed by its own process id)."""
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        os.close(self.master)
