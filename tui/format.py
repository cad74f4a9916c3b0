"""Small helpers for the words screens show."""

from __future__ import annotations


def plural(n: int, word: str, many: str | None = None) -> str:
    """``n`` and the noun agreeing with it: ``1 user``, ``2 users``,
    ``1 entry`` / ``3 entries`` (give ``many`` when adding "s" is wrong).
    Thousands are grouped (``1,200 entries``)."""
    return f"{n:,} {word if n == 1 else (many or word + 's')}"
