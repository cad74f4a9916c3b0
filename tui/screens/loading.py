"""Screens and tabs that show store data: ``load()`` reads it in a thread worker,
in one read transaction (``Store.together``), and ``show(data)`` puts it on the
screen on the UI thread, with no store call. The UI thread never waits on the
database: a team's PostgreSQL may be 20-100 ms away.

``reload()`` starts the load (exclusive: a newer load replaces one in flight);
a load that takes longer than ``LOADING_AFTER_S`` shows Textual's loading
indicator over the list until its data arrives; keys keep working meanwhile
(escape leaves, and leaving a screen cancels its loads: Textual cancels the
workers of a node that is removed). A ``DomainError`` is reported as every
other one; anything unexpected goes to ``App.report`` too, never a crash.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any, cast

from textual.css.query import NoMatches
from textual.widget import Widget
from textual.worker import get_current_worker

from store.errors import DomainError

if TYPE_CHECKING:
    from textual.timer import Timer

    from tui.app import IntegrationsAdmin

LOADING_AFTER_S = 0.1  # a load longer than this shows the loading indicator
LOAD_GROUP = "load"  # the workers' group (one per node: a newer load replaces one)
WAITED_GROUPS = (LOAD_GROUP, "read")  # settled() waits for these (tui/reading.py: "read")


class Loads:
    """A mixin for a Screen or a Widget that shows store data.

    Subclasses define ``load`` (thread; store reads only, returns plain values)
    and ``show`` (UI thread; no store call). ``select`` given to ``reload`` is
    kept for ``show`` as ``self.select_after`` (the row to put the cursor on).
    """

    select_after: str | None = None
    # Closing on purpose (what it shows was deleted from it): its loads are
    # neither started, shown nor reported ("that webhook no longer exists").
    leaving = False
    _load_timer: Timer | None = None
    _covered: Widget | None = None  # what the loading indicator covers now
    _loads_started = 0
    _loads_shown = 0
    # The account's change counter (App.changes_seen) when the load shown
    # started: what is shown is at least that new. None: not known.
    data_changes: int | None = None
    _changes_at_load: int | None = None
    # The counter after a change of its own that this node showed without
    # reading (``applied_own_change``), until its screen's next reload.
    own_change_applied: int | None = None

    def load(self) -> Any:
        """Read what the screen shows (in a thread worker). Nothing by default."""
        return None

    def show(self, data: Any) -> None:
        """Show what ``load`` read (on the UI thread)."""

    def load_also(self) -> Any:
        """What every load of this kind reads besides ``load`` (a screen: the
        header's name and plan), in the same transaction."""
        return None

    def show_also(self, data: Any) -> None:
        """Show what ``load_also`` read."""

    _after_load: tuple[Callable[[], object], ...] = ()

    def after_loaded(self, fn: Callable[[], object]) -> None:
        """Call ``fn`` once this node shows its data: now if it has, else right
        after its next load is shown (a palette action run where it lives
        decides on what the screen read, as a key pressed there would)."""
        if not self.loads_data() or self.has_loaded:
            fn()
        else:
            self._after_load = (*self._after_load, fn)

    def _run_after_load(self) -> None:
        waiting, self._after_load = self._after_load, ()
        for fn in waiting:
            cast(Widget, self).call_later(fn)

    @property
    def has_loaded(self) -> bool:
        """Whether a load has been shown since the last one started."""
        return self._loads_shown >= self._loads_started > 0

    def loads_data(self) -> bool:
        return type(self).load is not Loads.load

    def loading_target(self) -> Widget | None:
        """What the loading indicator covers: the list, else the whole node."""
        found = cast(Widget, self).query("FilterTable")
        return found.first() if found else None

    def reload(self, select: str | None = None) -> None:
        """Read the data again in a worker, then show it."""
        node = cast(Widget, self)
        if select is not None:
            self.select_after = select
        if not self.loads_data() or not node.is_attached or self.leaving:
            return
        self._loads_started += 1
        serial = self._loads_started
        admin = cast("IntegrationsAdmin", node.app)
        self._changes_at_load = admin.changes_seen
        worker = node.run_worker(
            # The function, not a coroutine: a load replaced before it started
            # never creates one (nor its "never awaited" warning).
            partial(self._load_off_the_loop, serial),
            exclusive=True,
            group=LOAD_GROUP,
            name=f"load {type(self).__name__}",
            exit_on_error=False,
        )
        admin.load_running(worker)
        if self._load_timer is None:
            self._load_timer = node.set_timer(LOADING_AFTER_S, self._show_loading)

    def ride_along(self) -> int:
        """This node's load is read within another's (its screen's): count it as
        started; ``shown_along`` shows it."""
        self._loads_started += 1
        self._changes_at_load = cast("IntegrationsAdmin", cast(Widget, self).app).changes_seen
        return self._loads_started

    def shown_along(self, serial: int, data: Any) -> None:
        """Show a load read within another's, unless a newer load of its own started."""
        if serial != self._loads_started or not cast(Widget, self).is_attached:
            return
        self._loads_shown = serial
        self.data_changes = self._changes_at_load
        self._end_loading()
        try:
            self.show(data)
        finally:
            self.select_after = None
        self._run_after_load()

    def applied_own_change(self, apply: Callable[[], None]) -> bool:
        """After a change made from here (its outcome handled now): when the
        account's counter says it was the only change since what is shown was
        read, ``apply()`` shows its result without reading again, and True;
        else False, and the caller reloads. A load in flight: False."""
        admin = cast("IntegrationsAdmin", cast(Widget, self).app)
        count, shown = admin.last_own_change, self.data_changes
        if count is None or shown is None or count != shown + 1 or not self.has_loaded:
            return False
        apply()
        self.data_changes = self.own_change_applied = count
        return True

    @property
    def loads_started(self) -> int:
        """How many loads of this node were started (its own and along its screen's)."""
        return self._loads_started

    @property
    def never_loaded(self) -> bool:
        return self._loads_started == 0

    async def _load_off_the_loop(self, serial: int) -> None:
        """The load in a daemon thread (``tui.saving.run_in_daemon``), awaited:
        a read held by a silent network neither freezes the screen nor keeps
        the program from quitting (Textual's thread workers run in the loop's
        default executor, which is waited for at exit)."""
        from tui.saving import run_in_daemon

        node = cast(Widget, self)
        admin = cast("IntegrationsAdmin", node.app)
        outcome = await run_in_daemon(lambda: self._read(admin))  # cancelled: a newer
        if get_current_worker().is_cancelled:  # load, or the screen went
            return
        self._arrived(serial, *outcome)

    def _read(self, admin: IntegrationsAdmin) -> tuple[str, Any]:
        try:
            with admin.store.together(label=f"{type(self).__name__}.load"):
                return ("data", (self.load(), self.load_also()))
        except DomainError as exc:
            return ("error", exc)
        except Exception as exc:  # one place reports the unexpected
            return ("unexpected", exc)

    def _arrived(self, serial: int, kind: str, value: Any) -> None:
        node = cast(Widget, self)
        admin = cast("IntegrationsAdmin", node.app)
        if serial != self._loads_started:
            return  # a newer load is coming
        self._loads_shown = serial
        self._end_loading()
        if self.leaving:
            return
        if kind == "error":
            admin.report(value)
            return
        if kind == "unexpected":
            admin.report(value)
            return
        if not node.is_attached:
            return
        data, also = value
        self.data_changes = self._changes_at_load
        try:
            self.show_also(also)
            self.show(data)
        except NoMatches:
            return  # taken down meanwhile (closing, switching)
        except Exception as exc:  # one place reports the unexpected, never a crash
            admin.report(exc)
            return
        finally:
            self.select_after = None
        self._run_after_load()

    def _show_loading(self) -> None:
        self._load_timer = None
        if self.has_loaded:
            return
        target = self.loading_target()
        if target is not None:
            self._covered = target
            target.loading = True

    def _end_loading(self) -> None:
        if self._load_timer is not None:
            self._load_timer.stop()
            self._load_timer = None
        target, self._covered = self._covered, None
        if target is not None and target.loading:
            target.loading = False


async def settled(app: Any, *, rounds: int = 500) -> None:
    """Wait until every load wanted or in flight has been shown (for scripts and
    tests that drive the App with Pilot and read the screen next: demos,
    screenshots). A condition, not a clock."""
    import asyncio

    for _ in range(rounds):
        await asyncio.sleep(0)
        # A worker cancelled before it started stays "pending" for Textual: not waited.
        loads = [
            w
            for w in app.workers
            if w.group in WAITED_GROUPS and not (w.is_finished or w.is_cancelled)
        ]
        if loads:
            await app.workers.wait_for_complete(loads)
            continue
        if not getattr(app, "loads_pending", 0):
            return
        await asyncio.sleep(0.005)
