"""Text for narrow places. A long value (a 1000-character URL, a 100-character
name) is shortened with an ellipsis where it is only mentioned: a notification,
a dialog's title or message. Where it is the subject (the webhook's page, the
audit entry) it is shown whole. One-line titles in widgets (page breadcrumbs,
dialog titles) are cut to their width by CSS (``text-overflow: ellipsis``).
And the words around numbers and times: ``plural``; dates and ages:
``day``, ``minute``, ``second`` and ``ago`` (``never`` for no time at all)."""

from __future__ import annotations

import re
from datetime import datetime

from rich.cells import cell_len, get_character_cell_size

ELLIPSIS = "…"

# A toast is 60 columns wide, at most half the screen: 37 columns of text at 80x24.
# A word (a URL, a path) of up to two such lines is shown whole; the title is one line.
TOAST_WORD = 72
TOAST_CHARS = 300
TOAST_TITLE = 37
# A value named in a confirmation's message: two of its lines at most.
DIALOG_VALUE = 116


def _head(text: str, width: int) -> str:
    """The start of ``text`` that fits in ``width`` cells."""
    used = 0
    for i, ch in enumerate(text):
        used += get_character_cell_size(ch)
        if used > width:
            return text[:i]
    return text


def _tail(text: str, width: int) -> str:
    return _head(text[::-1], width)[::-1]


def shorten(text: str, width: int, *, middle: bool = False) -> str:
    """``text`` in at most ``width`` terminal cells: when longer, cut with an
    ellipsis at the end, or with ``middle`` in the middle, keeping both ends
    (a URL's host and its last part)."""
    if cell_len(text) <= width:
        return text
    if width < 1:
        return ""
    room = width - 1
    if not middle:
        return _head(text, room) + ELLIPSIS
    tail = _tail(text, room // 2)
    return _head(text, room - cell_len(tail)) + ELLIPSIS + tail


def page_title(*parts: str) -> str:
    """A page's title: where it is, then what it shows ("Integrations › Orders")."""
    return " › ".join(parts)


def toast_text(message: str) -> str:
    """A notification's message, a few lines at most: each run of more than
    TOAST_WORD characters without a space (a URL) shortened in the middle, and
    the whole cut at TOAST_CHARS."""
    words = re.sub(
        rf"\S{{{TOAST_WORD + 1},}}", lambda m: shorten(m.group(), TOAST_WORD, middle=True), message
    )
    return shorten(words, TOAST_CHARS)


def plural(n: int, word: str, many: str | None = None) -> str:
    """``n`` and the noun agreeing with it: ``1 user``, ``2 users``,
    ``1 entry`` / ``3 entries`` (give ``many`` when adding "s" is wrong).
    Thousands are grouped (``1,200 entries``)."""
    return f"{n:,} {word if n == 1 else (many or word + 's')}"


NEVER = "never"


def day(dt: datetime | None) -> str:
    """The date alone: ``2026-11-28`` (``never`` for None)."""
    return f"{dt:%Y-%m-%d}" if dt else NEVER


def minute(dt: datetime | None, *, utc: bool = False) -> str:
    """Date and time to the minute: ``2026-11-28 15:14``, with ``utc`` followed
    by `` UTC`` (``never`` for None)."""
    return f"{dt:%Y-%m-%d %H:%M}" + (" UTC" if utc else "") if dt else NEVER


def second(dt: datetime | None, *, utc: bool = False) -> str:
    """Date and time to the second: ``2026-11-28 15:14:14``, with ``utc``
    followed by `` UTC`` (``never`` for None)."""
    return f"{dt:%Y-%m-%d %H:%M:%S}" + (" UTC" if utc else "") if dt else NEVER


def ago(dt: datetime | None, now: datetime) -> str:
    """How long before ``now``, while recent (narrow enough for 80 columns):
    ``just now``, ``5 min ago``, ``3 h ago``, ``12 d ago``; after 60 days the
    date (``day``); ``never`` for None."""
    if dt is None:
        return NEVER
    seconds = max(0, int((now - dt).total_seconds()))
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{seconds // 60} min ago"
    if seconds < 86400:
        return f"{seconds // 3600} h ago"
    if seconds < 60 * 86400:
        return f"{seconds // 86400} d ago"
    return day(dt)
