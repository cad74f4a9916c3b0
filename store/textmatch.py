"""Case-insensitive substring filters in SQL, shared by the audit log and the
delivery log."""

from __future__ import annotations

from typing import Any

from sqlmodel import func


def like_pattern(text: str) -> str:
    """A LIKE pattern matching ``text`` anywhere, with its own % and _ taken literally."""
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def contains(column: Any, like: str, sqlite: bool) -> Any:
    """``column`` contains the (lower-case) pattern ``like``, ignoring case.

    SQLite's LIKE already ignores case, and only for ASCII, exactly as its
    lower() folds only ASCII: so ``lower(x) LIKE p`` and ``x LIKE p`` match the
    same rows there, and the second is three times faster (a filter scans
    every entry that does not match). PostgreSQL's LIKE respects case.
    An ESCAPE clause is written only when the pattern escapes something:
    SQLite's LIKE is about 10% slower with one (PostgreSQL's escape character
    is the backslash anyway).
    """
    target = column if sqlite else func.lower(column)
    if "\\" in like:
        return target.like(like, escape="\\")
    return target.like(like)
