"""``integrations-admin demo``: the app on the demo account, in a temporary
database deleted afterwards, and ``demo --play SCRIPT``: a walk-through
replayed at a human pace, for recordings (asciinema or any screen recorder).

A script is plain text, one step per line; ``#`` starts a comment:

    data story              the account to start from: ``full`` (default) or
                            ``story`` (no Custom integration yet); first step only
    key m                   press keys (one or more, Textual's names: enter,
    key j j enter           escape, ctrl+s, space, tab, question_mark, ...)
    type Order data         type text into the focused input ({receiver} is
                            replaced by the demo receiver's URL)
    pause 1.5               wait that many seconds
    wait Verified           wait (at most 15 s) until the screen shows this text

Keys are pressed one by one, each followed by a short pause, and text is typed
a character at a time, so viewers can follow; ``--speed`` divides every pause.
"""

from __future__ import annotations

import asyncio
import atexit
import io
import os
import re
import shutil
import signal
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from store import demo as demo_data

KEY_PAUSE_S = 0.5  # after each key
CHAR_PAUSE_S = 0.07  # after each typed character
WAIT_TIMEOUT_S = 15.0
INSTANT = 1000.0  # from this speed on, text is typed at once (screenshots, tests)
COMMANDS = ("data", "key", "type", "pause", "wait")


class ScriptError(Exception):
    """A script that cannot be read or played; the message names the line."""


@dataclass(frozen=True)
class Step:
    line: int
    command: str
    arg: str

    @property
    def keys(self) -> list[str]:
        return self.arg.split()


def parse_script(text: str, *, name: str = "script") -> list[Step]:
    """The steps of a script, checked (unknown commands, bad numbers, misplaced
    ``data``) before anything is played."""
    steps: list[Step] = []
    for n, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        command, _, arg = line.partition(" ")
        # "type" keeps its text as written (inner spaces included), the rest is trimmed.
        arg = raw.split(command, 1)[1][1:] if command == "type" else arg.strip()
        where = f"{name}, line {n}"
        if command not in COMMANDS:
            raise ScriptError(f"{where}: unknown command {command!r}; use {', '.join(COMMANDS)}.")
        if command == "data":
            if steps:
                raise ScriptError(f"{where}: 'data' must be the first step.")
            if arg not in demo_data.VARIANTS:
                raise ScriptError(f"{where}: data is one of {', '.join(demo_data.VARIANTS)}.")
        elif command == "pause":
            try:
                if float(arg) < 0:
                    raise ValueError
            except ValueError:
                raise ScriptError(f"{where}: pause takes seconds, e.g. pause 1.5.") from None
        elif not arg:
            raise ScriptError(f"{where}: {command} needs an argument.")
        steps.append(Step(n, command, arg))
    return steps


def variant_of(steps: list[Step]) -> str:
    return steps[0].arg if steps and steps[0].command == "data" else "full"


def screen_text(app) -> str:
    """The visible screen (dialogs over their background) as plain text."""
    from rich.console import Console

    from tui.textual_compat import render_screen

    width, height = app.size
    console = Console(
        width=width,
        height=height,
        file=io.StringIO(),
        force_terminal=True,
        color_system=None,
        record=True,
        legacy_windows=False,
        safe_box=False,
    )
    console.print(render_screen(app))
    return console.export_text()


def flat_text(app) -> str:
    """The screen as one line (runs of spaces and toast borders collapsed), so a
    phrase is found even where a notification wraps it."""
    return " ".join(screen_text(app).replace("▌", " ").split())


async def play(pilot, steps: list[Step], *, speed: float = 1.0, receiver_url: str = "") -> None:
    """Play ``steps`` on the app of ``pilot``: a live app (``App.run(auto_pilot=...)``)
    or one under test (``App.run_test()``). Raises ScriptError when a ``wait`` times out."""
    speed = max(speed, 0.001)
    await pilot.pause()
    for step in steps:
        if step.command == "key":
            for key in step.keys:
                await pilot.press(key)
                await asyncio.sleep(KEY_PAUSE_S / speed)
        elif step.command == "type":
            text = step.arg.replace("{receiver}", receiver_url)
            if speed >= INSTANT:
                await _type_at_once(pilot, text)
                continue
            for char in text:
                await pilot.press(char)
                await asyncio.sleep(CHAR_PAUSE_S / speed)
        elif step.command == "pause":
            await asyncio.sleep(float(step.arg) / speed)
        elif step.command == "wait":
            await _wait_for(pilot, step)
    await pilot.pause()


async def _type_at_once(pilot, text: str) -> None:
    """Type ``text`` without waiting between characters (screenshots and tests):
    the same key events as pressing them one by one, queued at once. Returns
    once the input shows them (a busy machine may take a moment)."""
    import unicodedata

    from textual import events
    from textual.widgets import Input

    app = pilot.app
    box = app.focused if isinstance(app.focused, Input) else None
    before = box.value if box is not None else ""
    for char in text:
        key = char
        if not char.isalnum():
            with suppress(ValueError):
                key = unicodedata.name(char).lower().replace("-", "_").replace(" ", "_")
        app.post_message(events.Key(key, char))
    await pilot.pause()
    if box is not None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + WAIT_TIMEOUT_S
        while box.value != before + text and loop.time() < deadline:
            await asyncio.sleep(0.02)


async def _wait_for(pilot, step: Step) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT_TIMEOUT_S
    while step.arg not in flat_text(pilot.app):
        if loop.time() > deadline:
            raise ScriptError(
                f"line {step.line}: waited {WAIT_TIMEOUT_S:g} s for {step.arg!r} on the screen; "
                f"it shows: {flat_text(pilot.app)[:600]}"
            )
        await asyncio.sleep(0.05)


# -- the demo command ---------------------------------------------------------------------


# A demo's temporary folder is named with the process that made it, so that a
# later demo can tell the folders of demos that died (SIGKILL, a crash, a power
# cut) from those of demos still running: integrations-admin-demo-<pid>-<random>.
FOLDER_PREFIX = "integrations-admin-demo-"
_FOLDER_NAME = re.compile(re.escape(FOLDER_PREFIX) + r"(\d+)-")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    except OverflowError:  # not a pid at all
        return False
    return True


def remove_leftovers(tempdir: Path | None = None) -> list[Path]:
    """Remove the folders of earlier demos whose process is gone: only this
    user's, only folders named by a demo. Returns what it removed."""
    where = Path(tempdir or tempfile.gettempdir())
    removed: list[Path] = []
    try:
        entries = list(where.glob(FOLDER_PREFIX + "*"))
    except OSError:
        return removed
    for entry in entries:
        match = _FOLDER_NAME.match(entry.name)
        if match is None:
            continue
        try:
            info = entry.lstat()
        except OSError:
            continue
        pid = int(match.group(1))
        if (
            not entry.is_dir()
            or entry.is_symlink()
            or info.st_uid != os.getuid()
            or pid == os.getpid()
            or _alive(pid)
        ):
            continue
        shutil.rmtree(entry, ignore_errors=True)
        removed.append(entry)
    return removed


@contextmanager
def demo_store(variant: str = "full", *, receiver_url: str | None = None) -> Iterator:
    """A temporary database holding the demo account, deleted on exit (and at
    interpreter exit, should the exit skip this). Yields (store, demo). Never the
    user's own database. Removes the folders earlier demos left behind."""
    from store.db import Store

    remove_leftovers()
    folder = Path(tempfile.mkdtemp(prefix=f"{FOLDER_PREFIX}{os.getpid()}-"))

    def remove_folder() -> None:
        shutil.rmtree(folder, ignore_errors=True)

    atexit.register(remove_folder)
    try:
        store = Store(f"sqlite:///{folder / 'demo.db'}")
        try:
            built = demo_data.build(store, variant=variant, receiver_url=receiver_url)
            yield store, built
        finally:
            store.dispose()
    finally:
        remove_folder()
        atexit.unregister(remove_folder)


class _EndOnSignal:
    """SIGTERM and SIGHUP (an SSH connection dropped, the terminal closed) end the
    demo as quitting does, so that its temporary database is removed: while the
    app runs, by asking it to exit; before, by unwinding (SystemExit); once it is
    closing, they are ignored so the clean-up finishes."""

    SIGNALS = (signal.SIGTERM, signal.SIGHUP)

    def __init__(self) -> None:
        self.app = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.closing = False
        self._before: dict[int, object] = {}

    def __enter__(self) -> _EndOnSignal:
        for sig in self.SIGNALS:
            self._before[sig] = signal.signal(sig, self)
        return self

    def __exit__(self, *exc) -> None:
        for sig, handler in self._before.items():
            signal.signal(sig, handler)  # type: ignore[arg-type]

    def running(self, app, loop: asyncio.AbstractEventLoop) -> None:
        self.app, self.loop = app, loop

    def stopped(self) -> None:
        self.loop = None
        self.closing = True

    def __call__(self, signum: int, _frame) -> None:
        if self.closing:
            return
        loop = self.loop
        if loop is not None and self.app is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self.app.exit, None, 128 + signum)
            return
        raise SystemExit(128 + signum)


def run_demo(
    *,
    script: Path | None = None,
    presenter: bool = False,
    speed: float = 1.0,
    login: str = demo_data.OWNER,
    headless: bool = False,
    exit_at_end: bool = False,
) -> int:
    """``integrations-admin demo``: returns the exit status."""
    import sys

    from store import accounts, clock
    from tui.app import IntegrationsAdmin

    steps: list[Step] = []
    if script is not None:
        try:
            steps = parse_script(script.read_text(encoding="utf-8"), name=str(script))
        except OSError as exc:
            print(f"integrations-admin: cannot read {script}: {exc.strerror}", file=sys.stderr)
            return 2
        except ScriptError as exc:
            print(f"integrations-admin: {exc}", file=sys.stderr)
            return 2
    failure: list[BaseException] = []
    with (
        _EndOnSignal() as on_signal,
        demo_data.DemoReceiver() as receiver,
        demo_data.deterministic(demo_data.RUNTIME_FIRST),
        demo_store(variant_of(steps), receiver_url=receiver.url) as (store, built),
    ):
        if login not in built.actors:
            print(
                f"integrations-admin: the demo's users are {', '.join(built.actors)}.",
                file=sys.stderr,
            )
            return 2
        actor = accounts.sign_in(store, login)
        # A script presses the default keys: the user's keymap would derail it.
        app = IntegrationsAdmin(store, actor, presenter=presenter, user_keymap=not steps)

        async def auto_pilot(pilot) -> None:
            on_signal.running(app, asyncio.get_running_loop())
            if not steps:
                return
            try:
                await play(pilot, steps, speed=speed, receiver_url=receiver.url)
            except Exception as exc:  # reported after the app has closed
                failure.append(exc)
                app.exit(return_code=1)
                return
            if exit_at_end:  # a recording (demo --record) ends with its script
                app.exit()

        try:
            app.run(auto_pilot=auto_pilot, headless=headless)
        finally:
            on_signal.stopped()
            clock.fix(None)
    if failure:
        print(f"integrations-admin: the script stopped: {failure[0]}", file=sys.stderr)
        return 1
    return app.return_code or 0
