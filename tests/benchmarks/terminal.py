"""Run a program in a pseudo-terminal, as a person's terminal would, and
notice when a given text becomes visible in what it writes."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import signal
import struct
import subprocess
import termios
import threading
import time
from typing import Any

# Escape sequences: CSI (cursor moves, colours, modes) and OSC (titles ...).
_ESCAPES = re.compile(rb"\x1b\[[0-9;?<>=$]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[=>]")


def visible(raw: bytes) -> str:
    """The text a terminal would show, without escape sequences (lines run together)."""
    return _ESCAPES.sub(b"", raw).decode("utf-8", "replace")


PACKAGES = ("tui", "store", "api")


def compiled(*checkouts: str | os.PathLike[str]) -> None:
    """Write the bytecode of the program's packages in each checkout, as an
    installation does (``pip install .`` compiles every module; a checkout run
    from its sources under ``PYTHONDONTWRITEBYTECODE``, as on this machine,
    compiled some 30 modules again at every start: 50-60 ms of each first
    paint that a person's installed program does not spend). Textual and the
    other dependencies are installed, so compiled already."""
    import compileall
    from pathlib import Path

    for checkout in checkouts:
        for package in PACKAGES:
            folder = Path(checkout) / package
            if folder.is_dir() and not compileall.compile_dir(folder, quiet=1):
                raise RuntimeError(f"{folder} did not compile")


class Terminal:
    """A program started in its own pseudo-terminal of ``cols`` x ``rows``.

    ``started`` is taken just before the process is created, so times measured
    from it include the interpreter's start, every import and the first frame.
    Textual writes its frames to stderr, so stderr is the terminal too.

    A thread reads what the program writes as it comes and notes when each
    chunk arrived: a time measured here is the arrival of the chunk that showed
    the text (or changed the screen), however long finding it in the output took
    (the terminal emulator of ``wait_reaction`` is slow on a full frame).
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
        self.cols, self.rows = cols, rows
        self.arrivals: list[tuple[int, float]] = []  # (output's length after a chunk, when)
        self._more = threading.Condition()
        self._ended = False
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
        self._reader = threading.Thread(target=self._pump, name="terminal-reader", daemon=True)
        self._reader.start()

    def _pump(self) -> None:
        while True:
            try:
                chunk = os.read(self.master, 1 << 16)
            except OSError:  # the program ended, or the terminal was closed
                chunk = b""
            now = time.perf_counter()
            with self._more:
                if not chunk:
                    self._ended = True
                    self._more.notify_all()
                    return
                self.raw += chunk
                self.arrivals.append((len(self.raw), now))
                self._more.notify_all()

    def _read(self, timeout: float) -> bool:
        """Wait up to ``timeout`` for more output; False once the program ended."""
        with self._more:
            seen = len(self.arrivals)
            if not self._ended and len(self.arrivals) == seen:
                self._more.wait(timeout)
            return not self._ended or len(self.arrivals) > seen

    def _chunks_after(self, since: int, index: int) -> tuple[list[tuple[int, float]], int]:
        """The chunks ending after byte ``since`` from arrival ``index`` on, and the next index."""
        with self._more:
            new = [(end, t) for end, t in self.arrivals[index:] if end > since]
            return new, len(self.arrivals)

    def _slice(self, start: int, end: int) -> bytes:
        with self._more:
            return bytes(self.raw[start:end])

    def wait_for(self, text: str, *, since: int = 0, timeout: float = 30.0) -> float:
        """Seconds from ``started`` until the chunk that made ``text`` visible in the
        output written after byte ``since`` arrived; raises TimeoutError (with the
        screen's text) otherwise."""
        deadline = time.perf_counter() + timeout
        index, start = 0, since
        while True:
            chunks, index = self._chunks_after(since, index)
            for end, at in chunks:
                # Only the new output can hold it (and a little before, for a text
                # split between chunks or escape sequences).
                if text in visible(self._slice(max(since, start - 4096), end)):
                    return at - self.started
                start = end
            left = deadline - time.perf_counter()
            if left <= 0 or not self._read(min(left, 0.5)):
                tail = visible(self._slice(since, len(self.raw)))[-600:]
                raise TimeoutError(f"{text!r} never appeared; the program wrote: {tail!r}")

    def wait_reaction(self, *, since: int, timeout: float = 30.0) -> float:
        """Seconds from ``started`` until the chunk that made what the terminal
        shows differ from what it showed at byte ``since`` arrived: the first
        reaction to a key that a person can see (an indicator, a title, a dimmed
        button, the data). Read through a terminal emulator (pyte), so a redraw of
        the same cells is no reaction, and neither is an input's blinking cursor
        alone (one cell's colours changing, its character not); raises
        TimeoutError otherwise."""
        screen, stream = self._emulator_at(since)
        before = {y: dict(screen.buffer[y]) for y in range(self.rows)}
        deadline = time.perf_counter() + timeout
        index = 0
        while True:
            chunks, index = self._chunks_after(since, index)
            for end, at in chunks:
                screen.dirty.clear()
                stream.feed(self._slice(self._fed, end))
                self._fed = end
                changed = [
                    (before[y].get(x, screen.default_char), screen.buffer[y][x])
                    for y in screen.dirty
                    if y < self.rows
                    for x in range(self.cols)
                    if before[y].get(x, screen.default_char) != screen.buffer[y][x]
                ]
                if any(a.data != b.data for a, b in changed) or len(changed) > 1:
                    return at - self.started
            left = deadline - time.perf_counter()
            if left <= 0 or not self._read(min(left, 0.5)):
                raise TimeoutError("the screen did not change")

    def _emulator_at(self, upto: int):
        """The terminal emulator, having read the output up to byte ``upto``."""
        import pyte

        if self._emulator is None:
            screen = pyte.Screen(self.cols, self.rows)
            self._emulator = (screen, pyte.ByteStream(screen))
            self._fed = 0
        screen, stream = self._emulator
        if upto > self._fed:
            stream.feed(self._slice(self._fed, upto))
            self._fed = upto
        return screen, stream

    _emulator: tuple[Any, Any] | None = None
    _fed = 0

    def drain(self) -> None:
        """Let the reader take what the program has written so far (a moment)."""
        self._read(0.005)

    def send(self, data: bytes) -> int:
        """Type ``data``; returns the output position to pass as ``since``."""
        with self._more:
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
        # The reader sees the terminal's end (EIO) before its descriptor is closed
        # and its number given to another file.
        self._reader.join(timeout=2)
        os.close(self.master)
