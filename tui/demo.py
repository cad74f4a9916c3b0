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
import dataclasses
import hashlib
import io
import json
import os
import re
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from store import demo_start

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
            if arg not in demo_start.VARIANTS:
                raise ScriptError(f"{where}: data is one of {', '.join(demo_start.VARIANTS)}.")
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
                # What the key opened reads the store in a worker: the next key
                # is pressed on its data, as a person would (a list's rows).
                from tui.screens.loading import settled

                await settled(pilot.app)
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


# -- the template -------------------------------------------------------------------------

# Building the demo account (some 400 store calls) took 0.75 s of every start:
# it is built once into a template file in the user cache folder and copied.
# The template is a SQLite file and a JSON file beside it that says what the
# file is (the key below), its digest and what ``build`` returned. A template
# whose key differs (another program version) or whose digest does not match
# (a damaged file) is built again; where the cache folder cannot be written,
# the demo builds its account in place, as it always did.

TEMPLATE_FORMAT = 1  # what a template's JSON holds; another number makes new templates

templates_built = 0
"""How many templates this process built (the tests count them)."""


def template_folder() -> Path:
    """Where the demo's templates are: the user cache folder (platformdirs)."""
    import platformdirs

    from store.location import APP_NAME

    return platformdirs.user_cache_path(APP_NAME) / "demo"


def program_key() -> str:
    """What a template was built by: a digest of every store module and migration
    (the code that builds the account and the schema it writes) and the format.
    A new program version, or any edit of that code, gives another key."""
    import store

    root = Path(store.__file__).parent
    digest = hashlib.blake2b(f"format {TEMPLATE_FORMAT}".encode(), digest_size=16)
    for path in sorted(root.rglob("*.py")):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def _template_name(variant: str, receiver_url: str | None) -> str | None:
    """The template's file name (without suffix), or None when this demo's account
    is not kept as one: the receiver's address is in the account, so there is a
    template per port of ``RECEIVER_PORTS`` (any other port builds in place)."""
    if variant != "full" or receiver_url is None:
        return variant  # only the full account has a webhook to the receiver
    for port in demo_start.RECEIVER_PORTS:
        if receiver_url == f"http://127.0.0.1:{port}":
            return f"{variant}-receiver-{port}"
    return None


def _file_digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=32).hexdigest()


def _demo_to_json(built) -> dict:
    return dataclasses.asdict(built)


def _demo_from_json(data: dict) -> demo_start.Demo:
    from store.values import Actor

    return demo_start.Demo(
        account_id=int(data["account_id"]),
        variant=str(data["variant"]),
        actors={login: Actor(**actor) for login, actor in data["actors"].items()},
        integrations=dict(data["integrations"]),
        blueprints=dict(data["blueprints"]),
        playbooks=dict(data["playbooks"]),
        webhooks=dict(data["webhooks"]),
    )


def _build_into(path: Path, variant: str, receiver_url: str | None) -> demo_start.Demo:
    """Build the demo account into a new SQLite file at ``path``, closed after
    (every change in the file itself, none left in a WAL)."""
    global templates_built
    from store import demo as demo_data
    from store.db import Store

    store = Store(f"sqlite:///{path}")
    try:
        built = demo_data.build(store, variant=variant, receiver_url=receiver_url)
    finally:
        store.dispose()
    templates_built += 1
    return built


def _copy_template(name: str, folder: Path, destination: Path) -> demo_start.Demo | None:
    """Copy the template ``name`` to ``destination`` if it is there, of this
    program and undamaged; what it holds, or None (then nothing was copied)."""
    try:
        meta = json.loads((folder / f"{name}.json").read_text(encoding="utf-8"))
        if meta.get("key") != program_key():
            return None
        data = (folder / f"{name}.db").read_bytes()
        if _file_digest(data) != meta.get("digest"):
            return None
        built = _demo_from_json(meta["demo"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    destination.write_bytes(data)
    return built


def _make_template(
    name: str, folder: Path, variant: str, receiver_url: str | None, destination: Path
) -> demo_start.Demo:
    """Build the account, copy it to ``destination`` and keep it as the template
    ``name``. Two demos building at once each publish a whole template (the
    files are replaced, never written in place); a copy that finds a mismatch
    between a file and its JSON builds again."""
    folder.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".building-", dir=folder))
    try:
        built = _build_into(work / "demo.db", variant, receiver_url)
        data = (work / "demo.db").read_bytes()
        destination.write_bytes(data)
        meta = {
            "key": program_key(),
            "variant": variant,
            "receiver_url": receiver_url if variant == "full" else None,
            "digest": _file_digest(data),
            "demo": _demo_to_json(built),
        }
        (work / "demo.json").write_text(json.dumps(meta, indent=1), encoding="utf-8")
        os.replace(work / "demo.db", folder / f"{name}.db")
        os.replace(work / "demo.json", folder / f"{name}.json")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return built


def fill_demo_database(
    path: Path, variant: str = "full", *, receiver_url: str | None = None
) -> demo_start.Demo:
    """Put the demo account into the new SQLite file ``path``: a copy of its
    template, which is built first when missing, of another program version or
    damaged. Leaves the clock fixed at the demo's now, as ``build`` does."""
    from store import clock

    name = _template_name(variant, receiver_url)
    built = None
    if name is not None:
        folder = template_folder()
        built = _copy_template(name, folder, path)
        if built is None:
            with suppress(OSError):
                path.unlink(missing_ok=True)
                built = _make_template(name, folder, variant, receiver_url, path)
    if built is None:  # not kept as a template, or the cache folder is not writable
        with suppress(OSError):
            path.unlink(missing_ok=True)
        built = _build_into(path, variant, receiver_url)
    clock.fix(demo_start.NOW)
    return built


@contextmanager
def demo_database(variant: str = "full", *, receiver_url: str | None = None) -> Iterator:
    """A temporary SQLite database holding the demo account, deleted on exit
    (and at interpreter exit, should the exit skip this). Yields (url, demo).
    Never the user's own database. Removes the folders earlier demos left behind."""
    remove_leftovers()
    folder = Path(tempfile.mkdtemp(prefix=f"{FOLDER_PREFIX}{os.getpid()}-"))

    def remove_folder() -> None:
        # A read still finishing in a daemon thread as the program ends may open
        # the database again (SQLite recreates its file): those reads are waited
        # for first (at most 2 s: a loaded machine), and it is removed again then.
        from tui.saving import STORE_THREAD

        deadline = time.monotonic() + 2.0
        for thread in threading.enumerate():
            if thread.name == STORE_THREAD and thread is not threading.current_thread():
                thread.join(max(0.0, deadline - time.monotonic()))
        for _ in range(20):
            shutil.rmtree(folder, ignore_errors=True)
            if not folder.exists():
                return
            time.sleep(0.05)

    atexit.register(remove_folder)
    try:
        path = folder / "demo.db"
        built = fill_demo_database(path, variant, receiver_url=receiver_url)
        yield f"sqlite:///{path}", built
    finally:
        remove_folder()
        atexit.unregister(remove_folder)


@contextmanager
def demo_store(variant: str = "full", *, receiver_url: str | None = None) -> Iterator:
    """``demo_database`` with its store open: yields (store, demo)."""
    from store.db import Store

    with demo_database(variant, receiver_url=receiver_url) as (url, built):
        store = Store(url)
        try:
            yield store, built
        finally:
            store.dispose()


@contextmanager
def closing_store(store):
    """``store``, disposed on exit."""
    try:
        yield store
    finally:
        store.dispose()


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
    login: str = demo_start.OWNER,
    headless: bool = False,
    exit_at_end: bool = False,
) -> int:
    """``integrations-admin demo``: returns the exit status."""
    import sys

    from store import clock
    from store.glance import first_screen
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
        demo_start.DemoReceiver() as receiver,
        demo_database(variant_of(steps), receiver_url=receiver.url) as (url, built),
        ExitStack() as later,
    ):
        if login not in built.actors:
            print(
                f"integrations-admin: the demo's users are {', '.join(built.actors)}.",
                file=sys.stderr,
            )
            return 2

        def deterministic() -> None:
            # Tokens and keys generated in the demo are its fake ones. This loads
            # the store (SQLAlchemy): done where the store opens, after the first paint.
            from store import demo as demo_data

            later.enter_context(demo_data.deterministic(demo_data.RUNTIME_FIRST))

        # The first screen painted from a glance at the copy, as the program's own
        # start does; the store opens right after (tui/app.py).
        glance = first_screen(url, login)
        # A script presses the default keys: the user's keymap would derail it.
        if glance is not None:
            app = IntegrationsAdmin(
                None,
                glance.actor,
                glance=glance,
                presenter=presenter,
                user_keymap=not steps,
                before_store_opens=deterministic,
            )
        else:  # not expected of a fresh copy; the ordinary way still works
            from store import accounts
            from store.db import Store

            deterministic()
            store = later.enter_context(closing_store(Store(url)))
            actor = accounts.sign_in(store, login)
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
            if app.store_is_open:
                app.store.dispose()
            clock.fix(None)
    if failure:
        print(f"integrations-admin: the script stopped: {failure[0]}", file=sys.stderr)
        return 1
    return app.return_code or 0
