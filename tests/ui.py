"""Helpers for Pilot tests: read the screen as a person would, type text."""

from __future__ import annotations

from tui.demo import flat_text, screen_text

__all__ = ["flat", "screen_text", "type_text"]


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
