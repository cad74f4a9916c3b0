"""Changes off the UI thread, and the database away.

Every change a screen or a form makes goes through ``IntegrationsAdmin.save``:
the store call runs in a thread of its own, inside an async worker that awaits
it (a daemon thread: ``ctrl+q`` never waits for a call that a silent network
holds), and the App's one ``Worker.StateChanged`` handler routes its outcome:
the value to ``on_done``, a ``DomainError`` to the form field it concerns (or
the form's line, or a notification), anything else to ``report``.

While a save takes longer than ``SAYS_SAVING_AFTER_S`` the form (or, for a
one-key action, the status line of the screen) says "Saving..."; on SQLite a
write waiting for another administrator's write lock says so, and ``escape``
gives it up (the store rolls back: nothing is half-saved).

A call that cannot reach the database (``store.errors.Unreachable``), or that
has not answered within the store's answer time, puts up one banner on every
screen ("Cannot reach the database at HOST; retrying in 5 s", ``r`` retries
now) instead of a toast per failed call. The App then tries a fresh
connection with backoff (5, 10, 20, 30 s) and says when the database is back;
screens keep what they showed, which the banner says may be out of date.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from rich.text import Text
from textual.widgets import Static

if TYPE_CHECKING:
    from textual.screen import Screen

    from store.errors import DomainError
    from tui.app import IntegrationsAdmin

SAYS_SAVING_AFTER_S = 0.1
SAVING = "Saving..."
WAITING = "Waiting for another administrator's change... (escape gives up)"
GIVING_UP = "Giving up..."
BACKOFF_S = (5, 10, 20, 30)
SAVE_GROUP = "save"


class SaveView(Protocol):
    """What shows a save's state and its refusal: a form (FormDialog)."""

    def show_saving(self, state: str | None) -> None: ...

    def show_error(self, exc: DomainError) -> None: ...


@dataclass
class Save:
    """One change on its way: what to call, and where its outcome goes."""

    fn: Callable[..., Any]
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    on_done: Callable[[Any], None] | None
    view: SaveView | None
    on_error: Callable[[Exception], None] | None = None
    cancelled: threading.Event = field(default_factory=threading.Event)
    state: str | None = None  # SAVING, WAITING, GIVING_UP once said
    started: float = field(default_factory=time.monotonic)
    done: bool = False
    worker: Any = None  # its Worker, once started
    background: bool = False  # says itself how it goes (a delivery): no "Saving..."
    # The account's change counter as the change left it (Store.committed_changes)
    committed: int | None = None

    def give_up(self) -> None:
        self.cancelled.set()


STORE_THREAD = "store-call"  # the name of run_in_daemon's threads (tui.demo waits for them)


def run_in_daemon(fn: Callable[[], Any]) -> asyncio.Future:
    """``fn()`` in a daemon thread; a future of the running loop for its outcome."""
    loop = asyncio.get_running_loop()
    fut: asyncio.Future = loop.create_future()

    def settle(ok: bool, value: Any) -> None:
        if fut.done():
            return
        if ok:
            fut.set_result(value)
        else:
            fut.set_exception(value)

    def target() -> None:
        try:
            value = fn()
        except BaseException as exc:  # the worker's error, routed by the App
            with contextlib.suppress(RuntimeError):  # the loop is gone: the program quit
                loop.call_soon_threadsafe(settle, False, exc)
        else:
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(settle, True, value)

    threading.Thread(target=target, name=STORE_THREAD, daemon=True).start()
    return fut


class StatusLine(Static):
    """The App's one line over the footer of the screen in view: the database
    away (a banner), or a one-key change saving or waiting."""

    DEFAULT_CSS = """
    StatusLine {
        dock: bottom; height: auto; margin-bottom: 1; padding: 0 1;
        background: $warning 25%; color: $text; display: none;
    }
    StatusLine.-shown { display: block; }
    StatusLine.-away { background: $error 35%; text-style: bold; }
    """


class Connection:
    """Whether the database answers, as the App last saw it, and the retries
    while it does not."""

    def __init__(self, app: IntegrationsAdmin) -> None:
        self.app = app
        self.away = False
        self.where = ""
        self.attempt = 0
        self.next_try = 0.0
        self.trying = False
        self._timer = None
        self._answers = 0  # the store's count of answered calls when it went away
        self.back_at = 0.0  # when it was last back: statements sent before are forgiven

    # -- what the banner says --------------------------------------------------

    def text(self) -> str:
        if self.trying:
            return f"Cannot reach the database at {self.where}; trying again..."
        left = max(0, round(self.next_try - time.monotonic()))
        return (
            f"Cannot reach the database at {self.where}; retrying in {left} s "
            "(r retries now). What the screens show may be out of date."
        )

    # -- state -------------------------------------------------------------------

    def lost(self, where: str) -> None:
        """A call could not reach the database (or did not answer in time)."""
        if self.away:
            self.app.show_status()
            return
        self.away = True
        self.where = where or self.where
        self.attempt = 0
        self._answers = self._answered()
        self._schedule()
        if self._timer is None:
            self._timer = self.app.set_interval(1.0, self._tick, name="database-retry")
        self.app.show_status()

    def _schedule(self) -> None:
        delay = BACKOFF_S[min(self.attempt, len(BACKOFF_S) - 1)]
        self.next_try = time.monotonic() + delay

    def _answered(self) -> int:
        return self.app.store.answers if self.app.store_is_open else 0

    def answered_since(self) -> bool:
        """Whether a call of the program was answered since the database went away."""
        return self.away and self._answered() > self._answers

    def _tick(self) -> None:
        if not self.away:
            return
        if self.answered_since():
            self.back()
            return
        if not self.trying and time.monotonic() >= self.next_try:
            self.retry()
            return
        self.app.show_status()

    def retry(self) -> None:
        """Try a fresh connection now (``r``, or the backoff's time)."""
        if not self.away or self.trying:
            return
        self.trying = True
        self.app.show_status()
        self.app.run_worker(self._try, group="database-retry", exit_on_error=False)

    async def _try(self) -> None:
        from store.errors import DomainError

        app = self.app
        try:
            if app.store_is_open:
                await run_in_daemon(app.store.ping)
            else:
                await run_in_daemon(lambda: app.store)
        except (DomainError, OSError) as exc:
            where = getattr(exc, "where", "")
            self.trying = False
            self.attempt += 1
            self.where = where or self.where
            self._schedule()
            app.show_status()
            return
        self.trying = False
        self.back()

    def back(self) -> None:
        """The database answers again: the banner goes, the screen reloads."""
        if not self.away:
            return
        self.away = False
        self.back_at = time.monotonic()
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        self.app.show_status()
        self.app.notify(
            f"Connected to the database at {self.where} again.", title="Database", timeout=5
        )
        self.app.database_back()


def place_status(screen: Screen, text: str | None, *, away: bool) -> None:
    """Show ``text`` in the status line of ``screen`` (mounted once), or hide it."""
    found = screen.query(StatusLine)
    if not found:
        if text is None:
            return
        line = StatusLine(id="app-status")
        screen.mount(line)
    else:
        line = found.first()
    line.set_class(text is not None, "-shown")
    line.set_class(away, "-away")
    line.update(Text(text or ""))
