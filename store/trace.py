"""Diagnostics of store calls: how long each transaction took and how many
round trips to the database it made, on the standard ``logging`` logger
``integrations_admin.store`` (the program decides where, if anywhere, that
goes: ``tui/diagnostics.py`` with ``--debug``).

Off unless ``enable()`` is called before a Store opens: then nothing is
counted and nothing is logged. Never a statement's parameters, a row or a
URL's password: only the store function's name, the kind of transaction, the
round trips, the milliseconds and, for a failure, the error's class.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

log = logging.getLogger("integrations_admin.store")
_enabled = False
_local = threading.local()
_PLUMBING = ("store.db", "store.change", "store.trace", "store.validate", "contextlib")


def enable(on: bool = True) -> None:
    """Count and log the store's transactions from now on (Stores opened later)."""
    global _enabled
    _enabled = on


def enabled() -> bool:
    return _enabled


def instrument(engine: Engine) -> None:
    """Count this engine's round trips (SQLAlchemy's ``before_cursor_execute``)."""
    from sqlalchemy import event

    event.listen(engine, "before_cursor_execute", _count)


def _count(*_args: object, **_kwargs: object) -> None:
    _local.trips = getattr(_local, "trips", 0) + 1


def count_trip() -> None:
    """One statement sent outside SQLAlchemy's execution (``store.driver``)."""
    _count()


def round_trips() -> int:
    """The round trips this thread has made so far."""
    return getattr(_local, "trips", 0)


def _caller() -> str:
    """The store function that opened the transaction (``store.tokens.generate``):
    the outermost public one of the store's frames (``active``, not its helper
    ``_infos``)."""
    frame = sys._getframe(1)
    found = ""
    while frame is not None:
        module = frame.f_globals.get("__name__", "")
        if not module.startswith("store.") and not module.startswith("contextlib"):
            break
        if not module.startswith(_PLUMBING):
            name = f"{module}.{frame.f_code.co_name}"
            if not found or not frame.f_code.co_name.startswith("_"):
                found = name
        frame = frame.f_back
    return found or "?"


@contextmanager
def span(kind: str, label: str = "") -> Iterator[None]:
    """Log one transaction (``read``, ``write``): its caller (or ``label``, for
    reads a screen groups: ``Store.together``), round trips, time."""
    if not _enabled:
        yield
        return
    caller = label or _caller()
    trips, started = round_trips(), time.perf_counter()
    outcome = "ok"
    try:
        yield
    except BaseException as exc:
        outcome = f"failed ({type(exc).__name__})"
        raise
    finally:
        ms = (time.perf_counter() - started) * 1000
        log.debug(
            "%s: %s, %d round trips, %.1f ms, %s",
            caller,
            kind,
            round_trips() - trips,
            ms,
            outcome,
        )
