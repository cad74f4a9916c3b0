"""The store's notion of now. Fixed by the demo and by snapshot tests."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

_fixed: datetime | None = None
_source: Callable[[], datetime] | None = None


def now() -> datetime:
    """Current time, timezone-aware UTC, to the second."""
    if _fixed is not None:
        return _fixed
    if _source is not None:
        return _source()
    return datetime.now(UTC).replace(microsecond=0)


def fix(at: datetime | None) -> None:
    """Freeze the clock at ``at`` (aware), or unfreeze with None."""
    global _fixed
    _fixed = at


def set_source(source: Callable[[], datetime] | None) -> None:
    global _source
    _source = source


def precise_now() -> datetime:
    """``now()`` with microseconds when the clock runs (the dispatcher's schedule
    and leases need finer than seconds); the fixed or set time otherwise."""
    if _fixed is not None:
        return _fixed
    if _source is not None:
        return _source()
    return datetime.now(UTC)
