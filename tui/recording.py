"""``demo --play SCRIPT --record FILE.cast``: an asciicast v2 recording of what
the terminal showed, made by the program itself.

The demo runs in a child process on a pseudo-terminal of the size asked
(``--size 100x30``), exactly as it would in a terminal of that size; every
byte it writes to the terminal is an event of the recording, with the time it
was written (real timings: the script's own pauses, the program's own speed).
So what plays back is what a viewer would have seen: presenter mode's keys
included, and a secret typed into a password field as the bullets the field
shows (the keys are never written anywhere but to the program).

asciicast v2: a JSON header line ``{"version": 2, "width", "height",
"timestamp", "env"}``, then one JSON array per event, ``[seconds, "o", text]``.
"""

from __future__ import annotations

import codecs
import json
import os
import select
import signal
import struct
import sys
import time
from pathlib import Path

DEFAULT_SIZE = (100, 30)


def parse_size(text: str) -> tuple[int, int]:
    """``100x30`` -> (100, 30); at least 80x24 (the program's smallest), at most 500x200."""
    width, sep, height = text.lower().partition("x")
    if not sep or not width.strip().isdigit() or not height.strip().isdigit():
        raise ValueError(f"--size takes COLUMNSxROWS, e.g. 100x30 (got {text!r}).")
    size = int(width), int(height)
    if not (80 <= size[0] <= 500 and 24 <= size[1] <= 200):
        raise ValueError(f"--size: from 80x24 to 500x200 (got {text!r}).")
    return size


def record(
    argv: list[str],
    cast: Path,
    *,
    size: tuple[int, int] = DEFAULT_SIZE,
    title: str = "",
    env: dict[str, str] | None = None,
) -> int:
    """Run ``argv`` on a pseudo-terminal of ``size`` and write what it shows to
    ``cast`` (asciicast v2). Returns the child's exit status."""
    import fcntl
    import pty
    import termios

    width, height = size
    child_env = {
        **os.environ,
        **(env or {}),
        "TERM": "xterm-256color",
        "COLORTERM": "truecolor",
        "COLUMNS": str(width),
        "LINES": str(height),
    }
    cast.parent.mkdir(parents=True, exist_ok=True)
    out = cast.open("w", encoding="utf-8")
    pid, fd = pty.fork()
    if pid == 0:  # the child: the program, in a terminal of that size
        try:
            fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", height, width, 0, 0))
            os.execvpe(argv[0], argv, child_env)
        finally:
            os._exit(127)
    header = {
        "version": 2,
        "width": width,
        "height": height,
        "timestamp": int(time.time()),
        "env": {"TERM": "xterm-256color", "SHELL": os.environ.get("SHELL", "/bin/sh")},
    }
    if title:
        header["title"] = title
    out.write(json.dumps(header) + "\n")
    decoder = codecs.getincrementaldecoder("utf-8")("replace")
    started = time.monotonic()
    status = 1
    try:
        while True:
            try:
                ready, _, _ = select.select([fd], [], [], 0.5)
            except InterruptedError:
                continue
            if not ready:
                done, code = os.waitpid(pid, os.WNOHANG)
                if done:
                    status = os.waitstatus_to_exitcode(code)
                    pid = 0
                    break
                continue
            try:
                data = os.read(fd, 65536)
            except OSError:  # EIO: the child closed the terminal
                data = b""
            if not data:
                break
            text = decoder.decode(data)
            if text:
                at = round(time.monotonic() - started, 6)
                out.write(json.dumps([at, "o", text], ensure_ascii=False) + "\n")
        rest = decoder.decode(b"", final=True)
        if rest:
            out.write(json.dumps([round(time.monotonic() - started, 6), "o", rest]) + "\n")
    except KeyboardInterrupt:
        if pid:
            os.kill(pid, signal.SIGTERM)
    finally:
        out.close()
        os.close(fd)
        if pid:
            _, code = os.waitpid(pid, 0)
            status = os.waitstatus_to_exitcode(code)
    return status


def record_demo(
    script: Path,
    cast: Path,
    *,
    size: tuple[int, int],
    speed: float,
    presenter: bool,
    login: str,
) -> int:
    """``demo --play SCRIPT --record FILE``: the demo, recorded, quitting at the
    script's end."""
    argv = [sys.executable, "-m", "tui.cli", "demo", "--play", str(script), "--exit"]
    argv += ["--speed", str(speed), "--as", login]
    if presenter:
        argv.append("--presenter")
    print(
        f"Recording {script} at {size[0]}x{size[1]} into {cast} (the demo plays unseen "
        "until the script ends)...",
        file=sys.stderr,
        flush=True,
    )
    started = time.monotonic()
    status = record(argv, cast, size=size, title=f"integrations-admin: {script.name}")
    took = time.monotonic() - started
    if status == 0:
        print(
            f"Wrote {cast} ({took:.0f} s). Play it with `asciinema play {cast}`.",
            file=sys.stderr,
        )
    else:
        print(
            f"integrations-admin: the demo ended with status {status}; {cast} holds what "
            "it showed until then.",
            file=sys.stderr,
        )
    return status
