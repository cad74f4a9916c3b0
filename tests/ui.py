"""Helpers for Pilot tests: read the screen as a person would, type text."""

from __future__ import annotations

from tui.demo import flat_text, screen_text

__all__ = ["flat", "screen_text", "type_text", "wait_until"]


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
