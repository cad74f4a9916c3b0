"""Helpers for Pilot tests: read the screen as a person would, type text."""

from __future__ import annotations

from tui.demo import flat_text, screen_text

__all__ = [
    "field_error",
    "flat",
    "footer_line",
    "notes",
    "screen_text",
    "select_row",
    "settle",
    "type_text",
    "wait_until",
]


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
    await pilot.pause()


async def select_row(pilot, key: str) -> None:
    """Move the cursor of the screen's list down to the row ``key``."""
    from tui.widgets.filter_table import FilterTable

    table = pilot.app.screen.query_one(FilterTable)
    for _ in range(table.row_count):
        if table.selected_key == key:
            return
        await pilot.press("down")
    assert table.selected_key == key
