"""Helpers for Pilot tests: read the screen as a person would, type text."""

from __future__ import annotations

import threading
from contextlib import contextmanager

from tui.demo import flat_text, screen_text
from tui.screens.loading import settled

__all__ = [
    "field_error",
    "flat",
    "footer_line",
    "hold_reads",
    "loaded",
    "notes",
    "screen_text",
    "select_row",
    "settle",
    "type_text",
    "wait_for_loads_after_keys",
    "wait_until",
]


def hold_reads(store) -> threading.Event:
    """Every read in a worker blocks until the event is set (a database far
    away, or silent): a condition the test controls, not a sleep."""
    release = threading.Event()
    together = store.together

    @contextmanager
    def slow(label: str = ""):
        release.wait(30)
        with together(label):
            yield

    store.together = slow  # type: ignore[method-assign]
    return release


def footer_line(app) -> str:
    return screen_text(app).splitlines()[-1]


def notes(app) -> list[str]:
    """The messages of the notifications shown."""
    return [n.message for n in app._notifications]


def field_error(app, name: str) -> str:
    """The error a form shows under one of its fields."""
    return str(app.screen.query_one(f"#e-{name}").content)


def flat(app) -> str:
    """The screen with line breaks and runs of spaces collapsed, for messages that wrap."""
    return flat_text(app)


async def type_text(pilot, text: str) -> None:
    keys = {
        " ": "space",
        "/": "slash",
        "?": "question_mark",
        "[": "left_square_bracket",
        "]": "right_square_bracket",
        ".": "full_stop",
        ":": "colon",
        "-": "minus",
        "_": "underscore",
        "'": "apostrophe",
        ",": "comma",
    }
    await pilot.press(*[keys.get(ch, ch) for ch in text])


async def wait_until(pilot, predicate, tries: int = 100) -> None:
    """Let the app work until ``predicate()`` holds (a condition, not a clock)."""
    for _ in range(tries):
        if predicate():
            return
        await pilot.pause(0.02)
    assert predicate()


async def settle(pilot) -> None:
    """Let the screen's thread workers finish and their results land."""
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await settled(pilot.app)
    await pilot.pause()


async def loaded(pilot) -> None:
    """Let the screens' loads (tui/screens/loading.py) land and paint. Every
    ``pilot.press`` and ``run_test`` does this already (tests/conftest.py), for
    the program's App (another App is left as Textual runs it)."""
    if not hasattr(pilot.app, "loads_pending"):
        return
    await settled(pilot.app)
    await pilot.pause()


def wait_for_loads_after_keys() -> None:
    """Make ``Pilot.press`` (before each key and after the last), ``Pilot.click``,
    ``App.run_test`` and a snapshot's last wait also wait for the screens'
    loads: they read the store in thread workers now, and a test reads the
    screen right after a key. The original press, which returns before the
    data arrives, stays as ``Pilot.press_now`` (for tests of what shows while a
    load is slow)."""
    from contextlib import asynccontextmanager

    from textual.app import App
    from textual.pilot import Pilot

    if getattr(Pilot, "press_now", None) is not None:
        return
    press, click, animations = Pilot.press, Pilot.click, Pilot.wait_for_scheduled_animations
    run_test = App.run_test

    async def press_and_load(self, *keys: str) -> None:
        # Each key once the screen shows its data, as a person reads before the
        # next key (a snapshot's first keys come right after the start).
        for key in keys:
            await loaded(self)
            await press(self, key)
        await loaded(self)

    async def click_and_load(self, *args, **kwargs):
        result = await click(self, *args, **kwargs)
        await loaded(self)
        return result

    async def animations_and_loads(self) -> None:
        await loaded(self)
        await animations(self)

    @asynccontextmanager
    async def run_test_loaded(self, *args, **kwargs):
        async with run_test(self, *args, **kwargs) as pilot:
            await loaded(pilot)
            yield pilot

    Pilot.press_now = press  # type: ignore[attr-defined]
    Pilot.press = press_and_load  # type: ignore[method-assign]
    Pilot.click = click_and_load  # type: ignore[method-assign]
    Pilot.wait_for_scheduled_animations = animations_and_loads  # type: ignore[method-assign]
    App.run_test = run_test_loaded  # type: ignore[method-assign]


async def select_row(pilot, key: str) -> None:
    """Move the cursor of the screen's list down to the row ``key``."""
    from tui.widgets.filter_table import FilterTable

    table = pilot.app.screen.query_one(FilterTable)
    for _ in range(table.row_count):
        if table.selected_key == key:
            return
        await pilot.press("down")
    assert table.selected_key == key
