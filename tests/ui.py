"""Helpers for Pilot tests: read the screen as a person would, type text."""

from __future__ import annotations

import io

from rich.console import Console


def screen_text(app) -> str:
    """The whole visible screen (dialogs over their background) as plain text."""
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
    console.print(
        app.screen._compositor.render_update(full=True, screen_stack=app._background_screens)
    )
    return console.export_text()


def flat(app) -> str:
    """The screen with line breaks and runs of spaces collapsed, for messages that wrap."""
    return " ".join(screen_text(app).replace("▌", " ").split())


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
