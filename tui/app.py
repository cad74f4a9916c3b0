"""The App: sections as modes, global keys with ids, the command palette, the
acting user and the open store."""

from __future__ import annotations

import inspect
import re
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Mapping
from functools import partial
from typing import TYPE_CHECKING, Any

from textual import events
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Input

from store.errors import DomainError
from store.values import Actor
from tui import colours
from tui.textual_compat import action_target, is_exiting, keymap, mode_built

if TYPE_CHECKING:
    from rich.text import Text
    from textual.dom import DOMNode
    from textual.timer import Timer
    from textual.widgets import Static

    from store.db import Store
    from store.glance import Glance, Soon
    from tui.config import Settings
    from tui.saving import Save


def tune_gc() -> None:
    """Fewer, larger collections of young objects for the program's run.

    Textual allocates many short-lived objects per frame. With Python's
    default thresholds (700, 10, 10) a full collection, which walks every
    live object (some 130,000 once SQLAlchemy and Textual are loaded: about
    100 ms on a small machine), ran every few screens opened, and was the
    larger part of opening the largest playbook one time in two. Most objects
    die by reference counting anyway; cycles wait a little longer.
    """
    import gc

    gc.set_threshold(20_000, 20, 20)


def freeze_startup_objects() -> None:
    """Move what the start built (modules, classes, SQLAlchemy's mappers,
    Textual's stylesheet: most of the live objects) out of the collector's
    sight: a full collection then walks only what came later, instead of
    pausing the program for about 100 ms every so often. Called once the
    store is open and the first screen is up; those objects live as long as
    the program anyway. (No collection first: it would be that pause, once.)"""
    import gc

    gc.freeze()


# A closed screen is freed by a full collection (see ``collect_closed_screens``):
# this long after the last screen closed, once no key came for ``_KEYS_QUIET_S``
# (never later than ``_COLLECT_AT_THE_LATEST_S``).
COLLECT_AFTER_CLOSE_S = 0.1
_KEYS_QUIET_S = 0.1
_COLLECT_AT_THE_LATEST_S = 1.0


def _palette_provider() -> type:
    """The command palette's provider, imported on first use (keeps start-up light)."""
    from tui.commands import LiteralCommands

    return LiteralCommands


# Textual's one-line Header: the icon (8 columns) and the clock's space (10) beside
# the title, which shows as "TITLE — SUB_TITLE" and is cut with an ellipsis.
_HEADER_CHROME = 8 + 10
_MIN_NAME = 8  # an account name is not shortened below this (with its ellipsis)


def fit_sub_title(
    title: str, account: str, plan: str, login: str, role: str, read_only: bool, width: int
) -> str:
    """The header's sub-title for a terminal ``width`` columns wide.

    Account name, plan, login and role matter most: when the whole line does
    not fit, ", read-only" becomes ", ro" first, then the account name is
    shortened with an ellipsis (to no less than a few characters). Whatever
    still does not fit is cut by the header itself."""
    from rich.cells import cell_len

    from tui.format import shorten

    budget = width - _HEADER_CHROME - cell_len(title) - len(" — ")
    full = f"{account} · {plan} · {login} ({role}{', read-only' if read_only else ''})"
    if cell_len(full) <= budget:
        return full
    tail = f" · {plan} · {login} ({role}{', ro' if read_only else ''})"
    if cell_len(account) + cell_len(tail) <= budget:
        return account + tail
    return shorten(account, max(_MIN_NAME, budget - cell_len(tail))).rstrip() + tail


# Each section's title, as its screen and the palette say it.
SECTION_TITLES = {
    "integrations": "Integrations",
    "marketplace": "Marketplace",
    "playbooks": "Playbooks",
    "audit": "Audit log",
    "contracts": "Contracts",
    "account": "Account",
    "users": "Users",
}

# Besides the sections' (``MODES``), the modules of the screens a key opens,
# imported once the first screen is shown (``IntegrationsAdmin.warm_up``), not on
# the key: 10-20 ms each, 100 ms for an integration's page.
WARM_UP = ("tui.screens.integration", "tui.screens.playbook", "tui.screens.help")


def _lazy(module: str, name: str) -> Callable[[], Screen]:
    """A screen factory that imports its module on first use (keeps start-up light;
    ``WARM_UP`` imports it soon after)."""

    def make() -> Screen:
        from importlib import import_module

        from tui.textual_compat import built_with_current_css

        return built_with_current_css(getattr(import_module(module), name)())

    make.module = module  # type: ignore[attr-defined]
    return make


# Keys handed on to the focused text box once (see IntegrationsAdmin.on_event):
# never handed on twice, so a key a box declines cannot go round in a loop.
_REROUTED: weakref.WeakSet[events.Key] = weakref.WeakSet()


class IntegrationsAdmin(App[None]):
    """integrations-admin: connect your contract platform to your other systems."""

    TITLE = "integrations-admin"
    CSS_PATH = "app.tcss"
    # Sections. Each keeps its own screen stack; its key (BINDINGS below, id
    # "go.<mode>") switches to it. Register new sections in both places.
    MODES = {
        "integrations": _lazy("tui.screens.integrations", "IntegrationsScreen"),
        "marketplace": _lazy("tui.screens.marketplace", "MarketplaceScreen"),
        "playbooks": _lazy("tui.screens.playbooks", "PlaybooksScreen"),
        "audit": _lazy("tui.screens.audit", "AuditScreen"),
        "account": _lazy("tui.screens.account", "AccountScreen"),
        "users": _lazy("tui.screens.users", "UsersScreen"),
        "contracts": _lazy("tui.screens.contracts", "ContractsScreen"),
    }
    DEFAULT_MODE = "integrations"
    COMMANDS = {_palette_provider}  # the system commands, shown literally
    BINDINGS = [
        Binding("m", "section('marketplace')", "Marketplace", id="go.marketplace"),
        Binding("i", "section('integrations')", "Integrations", id="go.integrations"),
        Binding("p", "section('playbooks')", "Playbooks", id="go.playbooks"),
        Binding("a", "section('audit')", "Audit log", id="go.audit"),
        Binding("o", "section('account')", "Account", show=False, id="go.account"),
        Binding("u", "section('users')", "Users", show=False, id="go.users"),
        # C (shift+c): the lower-case c copies on the webhook and token screens.
        Binding("C", "section('contracts')", "Contracts", show=False, id="go.contracts"),
        Binding("question_mark", "help", "Help", id="app.help"),
        # Only while the database is away (the banner says so) or a one-key
        # change waits for another administrator's (the status line says so).
        Binding("r", "retry_database", "Retry now", show=False, id="app.retry_database"),
        Binding("escape", "give_up", "Give up", show=False, priority=True, id="app.give_up_saving"),
        Binding("q", "quit", "Quit", id="app.quit"),
        Binding("ctrl+q", "quit", "Quit", show=False, id="app.quit_ctrl", priority=True),
        # Textual's own palette binding has no id: this one can be remapped too.
        Binding(
            "ctrl+p",
            "command_palette",
            "palette",
            show=False,
            priority=True,
            id="app.palette",
            tooltip="Open the command palette",
        ),
    ]

    def __init__(
        self,
        store: Store | None,
        actor: Actor,
        *,
        first_run: bool = False,
        presenter: bool = False,
        glance: Glance | None = None,
        user_keymap: bool = True,
        settings: Settings | None = None,
        before_store_opens: Callable[[], None] | None = None,
        url: str | None = None,
        server_glance: Soon | None = None,
    ) -> None:
        """``store``: the open store; or None with ``glance``, the first screen's
        data read without SQLAlchemy (``store.glance``): the program then paints
        it first and opens the store right after, in a thread. ``user_keymap``:
        apply the user's settings (keymap, theme; not for screenshots and
        scripted demos, which press the default keys and look the same on every
        run). ``settings``: those the command line has read (``tui.config``);
        otherwise the App reads the file itself. ``before_store_opens``: called
        in the thread that opens the store from a glance, just before (the demo
        makes its generated secrets deterministic there, after the first paint).
        ``url``: with neither a store nor a glance (PostgreSQL), the database to
        open in a thread once the frame is painted ("Connecting to HOST..." until
        then); ``server_glance``: its first screen, already being read
        (``store.glance.Soon``, started before Textual was imported)."""
        super().__init__()
        if store is None and glance is None and url is None:
            raise ValueError("IntegrationsAdmin needs a store, a glance or a url")
        self._store = store
        self._store_lock = threading.Lock()
        self.glance = glance
        self._before_store_opens = before_store_opens
        self._server_glance = server_glance
        self._url = glance.url if glance is not None else (url or (store.url if store else None))
        self.open_failure: str | None = None  # why the store could not be opened at start
        from tui.saving import Connection

        self.connection = Connection(self)
        self._saves: dict[object, Save] = {}
        self.actor = actor
        self.first_run = first_run
        from tui.widgets.keycaster import Presenter

        # Presenter mode (--presenter, or the palette): the keys pressed, in a corner.
        self.presenter = Presenter(self)
        self._presenter_at_start = presenter
        self._keymap_problems: list[str] = []
        from tui import config

        self.settings: Settings | None = None
        self.keymap_file = config.config_path()
        self._keymap_sources: dict[str, str] = {}
        if user_keymap:
            self._apply_settings(settings)
        self._theme_shown = self.theme
        from tui import diagnostics
        from tui.textual_compat import (
            keep_parsed_css,
            keys_in_order,
            next_frame_on_time,
            on_new_worker,
            unpin_render_caches,
        )

        on_new_worker(self, diagnostics.watch_worker)
        # A section's first screen parsed all the CSS again, twice (see there).
        keep_parsed_css(self)
        # Closed screens' widgets would stay in memory otherwise (textual#6665).
        unpin_render_caches()
        # Keys typed together reach a text field in their order (textual#6605).
        keys_in_order()
        # The frame after a key's echo waited a frame too many (Textual's timer).
        next_frame_on_time()

    # -- set-up ------------------------------------------------------------------

    def _apply_settings(self, settings: Settings | None) -> None:
        """The user's settings (``tui.config``): keys remapped by binding id
        under [keymap] (``"go.marketplace" = "M"``; keymap.toml is still read),
        the theme, presenter mode. What is wrong with them is said once the
        program is up (``on_mount``)."""
        from tui import config

        if settings is None:
            try:
                settings = config.load()
            except config.ConfigError as exc:
                self._keymap_problems = [f"{exc} Nothing of it was used."]
                return
        self.settings = settings
        self.keymap_file = settings.path
        self._keymap_sources = settings.keymap_sources
        self._keymap_problems = list(settings.notices)
        if settings.keymap:
            self.set_keymap(settings.keymap)
        theme = str(settings.theme.value)
        if theme in self.available_themes:
            self.theme = theme
        else:
            self._keymap_problems.append(
                f"{settings.theme.source}: there is no theme {theme!r}; the themes are "
                f"{', '.join(sorted(self.available_themes))}."
            )
        if settings.presenter.value:
            self._presenter_at_start = True

    def _check_keymap_ids(self) -> None:
        """Say which ids of keymap.toml no binding has (a typo remaps nothing).
        Runs in a thread: knowing every id imports every screen."""
        from tui import keys

        unknown = keys.unknown_ids(keymap(self), keys.all_binding_ids())
        if unknown:
            files = sorted({self._keymap_sources.get(i, "").split(",")[0] for i in unknown} - {""})
            where = " and ".join(files) or keys.shown_path(self.keymap_file)
            self.call_from_thread(
                self.notify,
                f"{where}: no key has the id "
                f"{', '.join(map(repr, unknown))}; those lines remap nothing. "
                "The README (Keys) lists the ids.",
                title="Keymap",
                severity="warning",
                timeout=12,
            )

    def on_mount(self) -> None:
        from tui.textual_compat import first_screen_styled

        self._size_console(self.size.width, self.size.height)
        self.call_after_refresh(first_screen_styled, self)
        colours.use(self.theme_variables)
        if self._keymap_problems:
            # One notice for them all: at 80x24 a toast each pushed the first off the top.
            self.notify(
                "\n".join(self._keymap_problems), title="Settings", severity="warning", timeout=12
            )
        if keymap(self):
            self.run_worker(self._check_keymap_ids, thread=True, group="keymap")
        if self.store_is_open:
            self.call_after_refresh(freeze_startup_objects)
            self.call_after_refresh(self.warm_up)  # after the first frame
        self.watch_changes()
        # The header's sub-title: set when the first screen is shown (its resume).
        if self._presenter_at_start:
            self.presenter.start()
        if not self._url or not self._url.startswith("sqlite"):  # a server: watch its answers
            self.set_interval(0.5, self.watch_statements, name="watch-statements")
        upgraded = self._store.upgrade_notice if self._store is not None else None
        if upgraded:
            self.notify(upgraded, title="Database upgraded", timeout=12, whole=True)
        if self.first_run:
            self.notify(
                f"Created a new database at {self.store.display_location}. "
                f"You are its owner ({self.actor.login}).",
                title="Welcome",
                timeout=12,
                whole=True,
            )

    def watch_theme(self, name: str) -> None:
        """A theme chosen (the palette's *Theme*): the colours of what screens say
        follow it (the screen in view is drawn again), and it is written to the
        settings file so the next start has it too."""
        colours.use(self.get_css_variables())
        shown = getattr(self, "_theme_shown", None)
        if shown is None or name == shown:
            return  # the theme of the start (set in __init__), not a choice
        self._theme_shown = name
        self._recolour()
        if self.settings is None:
            return
        from tui import config

        try:
            path = config.save_theme(name, self.settings.path)
        except config.ConfigError as exc:
            self.notify(f"The theme was not saved: {exc}", title="Theme", severity="warning")
            return
        self.notify(f"Theme {name} saved in {config.shown_path(path)}.", title="Theme", timeout=4)

    def _recolour(self) -> None:
        """Draw the screen in view again with the new theme's colours (its rows
        were built with the old ones; the others are when next shown)."""
        if not self.is_running or not self.screen_stack:
            return
        screen = self.screen
        if hasattr(screen, "shown"):
            screen.shown = None  # the list skips a reload of the same rows
        reload = getattr(screen, "reload", None)
        if callable(reload):
            try:
                reload()
            except Exception as exc:  # a screen still composing: it draws itself soon
                self.log.warning(f"recolour: {exc!r}")

    def on_resize(self, event: events.Resize) -> None:
        self._size_console(event.size.width, event.size.height)
        self._show_title(event.size.width)  # from what was read: no store round trip

    def _size_console(self, width: int, height: int) -> None:
        """Tell Rich's console the terminal's size. Textual leaves it unset, and
        Rich then asks the operating system (up to three calls) every time its
        options are read: for each cell a table measures, thousands of times
        when a long list is filled."""
        self.console.size = (width, height)

    # -- the store ------------------------------------------------------------------

    @property
    def store(self) -> Store:
        """The open store. Started from a glance, the store opens right after the
        first paint (``open_store_soon``); a screen that needs it sooner waits."""
        if self._store is None:
            with self._store_lock:
                if self._store is None:
                    self._store = self._open_store()
        return self._store

    @property
    def store_is_open(self) -> bool:
        return self._store is not None

    def _open_store(self) -> Store:
        # Imports SQLAlchemy, SQLModel and the models: what the first paint skipped.
        from store import accounts
        from store.db import Store

        assert self._url is not None
        if self._before_store_opens is not None:
            self._before_store_opens()
        store = Store(self._url)
        store.prepare()
        # The ordinary start signs in before the App; this start does it now
        # (records the visit, and notices a permission changed meanwhile).
        self.actor = accounts.sign_in(store, self.actor.login)
        if self.glance is not None:
            # In this thread, not in a worker of its own: a worker started as the
            # store opens could outlive a quick exit (a signal just after the first
            # paint) and keep the program from ending.
            try:
                self._opened_changes = accounts.changes(store, self.actor.account_id)
            except DomainError:
                self._opened_changes = None  # the first poll reads it
        return store

    _opened_changes: object | None = None  # the change counter as the store opened

    def open_store_soon(self) -> None:
        """Open the store in a thread, once the first screen is on the terminal."""
        if self._store is None:
            self.run_worker(self._open_store_worker, group="open-store", exit_on_error=False)

    async def _open_store_worker(self) -> None:
        # In a daemon thread (tui.saving): quitting never waits for a server
        # that does not answer.
        from tui.saving import run_in_daemon

        url = self._url
        if self._store is None and self.glance is None and url and not url.startswith("sqlite"):
            # A server: its first screen with psycopg alone (store.glance), shown
            # before SQLAlchemy and the models load (0.7 s of the start).
            from store.glance import first_screen_on_server

            login = self.actor.login
            soon = self._server_glance
            self._server_glance = None
            read = soon.result if soon is not None else partial(first_screen_on_server, url, login)
            try:
                seen = await run_in_daemon(read)
            except DomainError as exc:
                self._store_not_opened(exc)
                return
            if seen is not None and self._store is None:
                self._glanced(seen)
                await self._until_painted()
        try:
            await run_in_daemon(lambda: self.store)
        except DomainError as exc:
            self._store_not_opened(exc)
            return
        self._store_opened()

    @property
    def connecting_to(self) -> str:
        """The server being connected to, as the first screen names it (before
        the first paint: without SQLAlchemy)."""
        from store.location import server_of

        return server_of(self._url)

    def _store_not_opened(self, exc: DomainError) -> None:
        """The store could not be opened at start: the first screen says why
        (the frame stays); an unreachable server is retried (the banner)."""
        from store.errors import Unreachable

        self.open_failure = str(exc)
        if isinstance(exc, Unreachable):
            self.connection.lost(exc.where)
        else:
            self.report(exc)
        self.reload_screen()

    async def _until_painted(self) -> None:
        """Until what was just shown is painted and written to the terminal (a
        second at most): opening the store takes the interpreter for 0.7 s of
        imports, and started at once it delayed the glance's rows, and the frame
        itself when the glance came first (the terminal is written by a thread)."""
        from tui.frames import painted

        # A frame's time for the writer thread: the imports hold the interpreter.
        await painted(self, timeout=1.0, settle=1 / 60)

    def _glanced(self, seen: Glance) -> None:
        """The first screen's data, read from the server before the store opened."""
        self.glance = seen
        self.actor = seen.actor
        self.show_title((seen.account.name, seen.account.plan))
        show = getattr(self.screen, "show_glance", None)
        if callable(show):
            show()

    def warm_up(self) -> None:
        """Once the first screen is shown and the store open, import the modules
        of the screens the next keys open, in a thread: a section's first opening
        spent 10-20 ms importing its screen before it could show anything, an
        integration's page 100 ms. Done before a person's first key, mostly."""
        if self._warmed_up:
            return
        self._warmed_up = True
        sections = [getattr(make, "module", None) for make in self.MODES.values()]
        modules = [m for m in sections if isinstance(m, str)] + list(WARM_UP)

        def imports() -> None:
            from importlib import import_module

            for module in modules:
                import_module(module)

        self.run_worker(imports, thread=True, group="warm-up", exit_on_error=False)

    _warmed_up = False

    def _store_opened(self) -> None:
        freeze_startup_objects()
        self.warm_up()
        self.open_failure = None
        if self.glance is None:  # nothing was shown yet: the first screen's data now
            store = self._store
            if store is not None and store.upgrade_notice:
                self.notify(store.upgrade_notice, title="Database upgraded", timeout=12, whole=True)
            if store is not None and store.created:
                self.notify(
                    f"Created a new database at {store.display_location}. "
                    f"You are its owner ({self.actor.login}).",
                    title="Welcome",
                    timeout=12,
                    whole=True,
                )
            self.refresh_title()
            self.reload_screen()
        elif self._opened_changes is not None:
            # The glance showed the first screen: the change counter read as the
            # store opened, not at the first poll 2 s later. Until it is known, a
            # screen opened meanwhile had no counter to compare with, and a change
            # made there read its screen again instead of showing its own result.
            self._changes_read(self._opened_changes)

    def reload_screen(self) -> None:
        if not self.is_running or not self.screen_stack:
            return
        reload = getattr(self.screen, "reload", None)
        if callable(reload):
            try:
                reload()
            except Exception as exc:  # a screen still composing: it loads itself soon
                self.log.warning(f"reload: {exc!r}")

    _title_account: tuple[str, str] | None = None  # (name, plan) the header shows

    # -- loads (tui/screens/loading.py) ----------------------------------------------

    # Loads wanted (a screen's resume, before its worker starts) and loads in
    # flight (their workers); tests and scripts wait for none (tui/screens/loading.py
    # ``settled``). A worker counts until it ends or is cancelled: one cancelled
    # before it started (a newer load replaced it) never runs its own ending.
    _loads_wanted = 0
    _load_workers: list[Any] = []

    @property
    def loads_pending(self) -> int:
        self._load_workers = [
            w for w in self._load_workers if not (w.is_finished or w.is_cancelled)
        ]
        return self._loads_wanted + len(self._load_workers)

    def load_started(self, node: object) -> None:
        self._loads_wanted += 1

    def load_ended(self, node: object) -> None:
        self._loads_wanted = max(0, self._loads_wanted - 1)

    def load_running(self, worker: Any) -> None:
        """A load's (or a read's) worker: pending until it ends or is cancelled."""
        self._load_workers = [*self._load_workers, worker]

    # Others' changes appear by themselves: the account's change counter
    # (store.accounts.changes, one small query) is read every CHANGES_POLL_S in a
    # worker; when it moved, the screen shown reads its data again (the cursor
    # stays on the same row: FilterTable keeps the selection by key).
    CHANGES_POLL_S = 2.0
    _changes_seen: int | None = None
    _polling_changes = False

    def watch_changes(self) -> None:
        """Start polling the change counter (on_mount; once the store is open)."""
        self.set_interval(self.CHANGES_POLL_S, self.poll_changes, name="changes")

    def poll_changes(self) -> None:
        if self._polling_changes or not self.store_is_open or is_exiting(self):
            return
        self._polling_changes = True
        # The function, not a coroutine: a worker cancelled before it starts (the
        # program quitting) leaves no coroutine that was never awaited.
        self.run_worker(self._poll_changes_off_the_loop, group="changes", exit_on_error=False)

    async def _poll_changes_off_the_loop(self) -> None:
        # A daemon thread (not the default executor): a poll held by a silent
        # network never keeps the program from quitting.
        from tui.saving import run_in_daemon

        try:
            found = await run_in_daemon(self._read_changes)
        finally:
            self._polling_changes = False
        if found is not None:
            self._changes_read(*found)

    def _read_changes(self) -> tuple[object, object | None] | None:
        """The change counter; when it moved, who acts as well (an owner may have
        changed their permission: the footer follows before they press a key)."""
        from store import accounts

        try:
            found = accounts.changes(self.store, self.actor.account_id)
            seen = self._changes_seen
            moved = seen is not None and found.count != seen
            return found, (accounts.refresh_actor(self.store, self.actor) if moved else None)
        except DomainError:
            return None  # quietly: the next poll tries again, and a key press reports it

    def _changes_read(self, found: object, actor: object | None = None) -> None:
        count = getattr(found, "count", None)
        if count is None or (self._changes_seen is not None and count <= self._changes_seen):
            return  # nothing new (or read before a change of ours that is known already)
        first = self._changes_seen is None
        self.show_title(found)
        if first:
            return  # the screen shown was read a moment ago
        if actor is not None and actor != self.actor:
            self.actor = actor  # type: ignore[assignment]
            self.screen.refresh_bindings()
        screen = self.screen
        if getattr(screen, "loads_data", None) and screen.loads_data() and screen.is_current:
            screen.reload()

    # The change counter as this program's last change left it (None: unknown):
    # a screen that made it shows its result without reading again when that is
    # one more than the counter of what it shows (Loads.applied_own_change).
    last_own_change: int | None = None

    def own_change_committed(self, count: int | None) -> None:
        """A change made here committed, leaving the account's counter at ``count``.
        When that is the next after the counter seen, the change was the only
        one meanwhile: the poll has nothing to reload for it."""
        self.last_own_change = count
        if count is not None and self._changes_seen is not None and count == self._changes_seen + 1:
            self._changes_seen = count

    @property
    def changes_seen(self) -> int | None:
        """The account's change counter as last read (a screen's load, the poll)."""
        return self._changes_seen

    def read_title(self) -> object:
        """The header's account name and plan, with the change counter, read in a
        screen's load (its worker, its transaction); None before the store is open."""
        if not self.store_is_open:
            return None
        from store import accounts

        return accounts.header(self.store, self.actor.account_id)

    def show_title(self, found: object) -> None:
        """Show what ``read_title`` read (UI thread), or a (name, plan) pair."""
        if found is None:
            return
        if isinstance(found, tuple):
            self._title_account = found
        else:
            self._title_account = (found.name, found.plan)  # type: ignore[attr-defined]
            count = found.count  # type: ignore[attr-defined]
            # The counter only grows: a load read before our latest change keeps it.
            if self._changes_seen is None or count > self._changes_seen:
                self._changes_seen = count
        self._show_title(self.size.width)

    def refresh_title(self) -> None:
        """The header follows the account's name and plan (the operator may change
        the plan while the program runs): read again, in one small query in a
        worker, each time a screen that loads in its own way is shown (screens
        that load through ``load`` read it there: ``read_title``)."""
        if self._store is None and self.glance is not None:
            info = self.glance.account  # read a moment ago, before the first paint
            self._title_account = (info.name, info.plan)
        elif self._store is None:
            return  # opening in a thread (PostgreSQL): the title comes once it is open
        else:
            # Read in a worker (it was read here, on the UI thread: the audit log
            # then showed nothing until the database had answered, 435 ms at 50 ms
            # one way); the title shown meanwhile is the last one read.
            self.run_worker(
                self._read_title_off_the_loop, group="title", exclusive=True, exit_on_error=False
            )
            return
        self._show_title(self.size.width)

    async def _read_title_off_the_loop(self) -> None:
        from store import accounts
        from tui.saving import run_in_daemon

        store, account_id = self.store, self.actor.account_id
        try:
            found = await run_in_daemon(lambda: accounts.name_and_plan(store, account_id))
        except DomainError as exc:
            self.report(exc)
            return
        self.show_title(found)

    def _show_title(self, width: int) -> None:
        if self._title_account is None:
            return
        name, plan = self._title_account
        role = "owner" if self.actor.is_owner else "member"
        self.sub_title = fit_sub_title(
            self.title, name, plan, self.actor.login, role, not self.actor.can_manage, width
        )

    # -- shared by screens -----------------------------------------------------------

    def notify(  # type: ignore[override]
        self, message: str, *, markup: bool = False, whole: bool = False, **kwargs
    ) -> None:
        """Notifications always show text literally (widgets pass markup=True by
        default): a name like ``[bold]x`` must appear as typed. A long value in
        them (a 1000-character URL) is shortened: a toast stays a few lines.
        ``whole``: the value is the notice's subject (where the database and
        its backup are), shown in full."""
        from tui.format import TOAST_TITLE, shorten, toast_text

        if kwargs.get("title"):
            kwargs["title"] = shorten(kwargs["title"], TOAST_TITLE)
        super().notify(message if whole else toast_text(message), markup=False, **kwargs)

    def report(self, exc: Exception) -> None:
        """Show a domain error (or an unexpected one) without crashing. The
        database out of reach is the banner's (one, however many calls failed)."""
        from store.errors import Unreachable

        if isinstance(exc, Unreachable):
            self.connection.lost(exc.where)
            return
        if isinstance(exc, DomainError):
            words = re.findall(r"[A-Z][a-z]*", type(exc).__name__)
            self.notify(
                str(exc),
                title=" ".join(words).capitalize(),
                severity="error",
                timeout=8,
            )
        else:
            from tui import diagnostics
            from tui.config import shown_path

            path = diagnostics.unexpected(exc, f"on {type(self.screen).__name__}")
            self.notify(
                "Something went wrong that the program did not expect; it goes on where it "
                f"can. The details are in {shown_path(path)} (attach it to a bug report).",
                title="Unexpected error",
                severity="error",
                timeout=15,
                whole=True,
            )

    def may_manage(self, doing: str) -> bool:
        """True when the acting user has the permission; otherwise says why (the
        store's words: ``refusals.manage_refusal``)."""
        from store.refusals import manage_refusal

        # Who acts as last read (a screen's load, the change poll): no store
        # call on the UI thread; the store checks again when the change is made.
        refusal = manage_refusal(self.actor, doing)
        if refusal is None:
            return True
        self.notify(refusal, title="Read-only", severity="warning", timeout=8)
        return False

    @property
    def account_plan(self) -> str | None:
        """The account's plan as the header shows it (read again each time a
        screen is shown): what a screen asks the plan's refusals with."""
        return self._title_account[1] if self._title_account else None

    # -- actions -------------------------------------------------------------------

    def _sealing_screen(self) -> Screen | None:
        """The screen of the current stack that nothing may leave but by its own
        keys (the one-time token screen), if one is open."""
        try:
            stack = self.screen_stack
        except Exception:  # no stack yet (starting) or any more (closing)
            return None
        return next((s for s in stack if getattr(s, "seals_app", False)), None)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Under a sealing screen the app's keys do nothing, whatever keys they are
        # mapped to (the footer hides them too); quit stays, and asks first.
        if action != "quit" and self._sealing_screen() is not None:
            return False
        if action == "retry_database":  # (the App is still being made: not yet)
            connection = getattr(self, "connection", None)
            return connection is not None and connection.away
        if action == "give_up":
            saves = getattr(self, "_saves", {})
            return any(
                s.view is None and s.state is not None and not s.cancelled.is_set()
                for s in saves.values()
            )
        return super().check_action(action, parameters)

    async def action_quit(self) -> None:
        sealing = self._sealing_screen()
        if sealing is None:
            self.exit()
            return
        from tui.dialogs.confirm import ConfirmDialog

        if isinstance(self.screen, ConfirmDialog) and getattr(self.screen, "asks_quit", False):
            return  # already asking: y or n answers
        dialog = ConfirmDialog(
            "Quit now?",
            getattr(sealing, "quit_warning", "Quit anyway?"),
            yes="Quit",
        )
        dialog.asks_quit = True  # type: ignore[attr-defined]

        def answered(yes: bool | None) -> None:
            if yes:
                self.exit()

        self.push_screen(dialog, answered)

    async def run_action(
        self,
        action: str,  # type: ignore[override]
        default_namespace: DOMNode | None = None,
        namespaces: Mapping[str, DOMNode] | None = None,
    ) -> bool:
        """Textual drops a key whose action its node disables (``check_action``:
        a dimmed or hidden key in the footer) without a word. Here a node that
        knows why (``tui.refusing.Refuses``) says it: a key, a footer click or
        the command palette learns the store's refusal, and nothing opens."""
        from tui.refusing import Refuses

        target, name = action_target(
            self, action, self if default_namespace is None else default_namespace, namespaces
        )
        refused = isinstance(target, Refuses) and target.refusal(name) is not None
        if refused and target.refused(name):  # type: ignore[union-attr]
            return True
        return await super().run_action(action, default_namespace, namespaces)

    async def action_section(self, mode: str) -> None:
        """A section's key. A section opened for the first time shows its title
        first, on the screen in view, then its own screen: building and drawing
        that takes 40-50 ms, and the key showed nothing until then. The keys
        typed meanwhile wait for the section (this action holds them)."""
        if mode in self.MODES and mode != self.current_mode and not mode_built(self, mode):
            await self._title_first(SECTION_TITLES.get(mode))
        self.open_section(mode)

    _titled: tuple[Static, object, Text] | None = None  # the title shown first, what it was

    async def _title_first(self, title: str | None) -> None:
        """Show ``title`` in the title of the screen in view, until it is drawn."""
        from tui.frames import painted

        if self._show_title_first(title):
            await painted(self.screen)

    def _show_title_first(self, title: str | None) -> bool:
        from rich.text import Text
        from textual.widgets import Static

        found = self.screen.query(".section-title")
        if title is None or not found or not isinstance(found.first(), Static):
            return False
        shown: Static = found.first(Static)
        text = Text(title)
        self._titled = (shown, shown.content, text)
        shown.update(text)
        return True

    def _untitle(self) -> None:
        """The screen left, titled as it was (out of view now)."""
        titled, self._titled = self._titled, None
        if titled is not None and titled[0].content is titled[2]:
            titled[0].update(titled[1])

    def open_titled(self, title: str | None, make: Callable[[], Screen]) -> None:
        """Push the screen ``make`` builds (an integration's page, a playbook's),
        its title shown first in the screen in view: building and drawing such a
        page takes 100-150 ms, and the key showed nothing until then. Called from
        a screen's handler, the page is pushed from the App's queue, once the
        title is drawn (the screen's own queue must be free to draw it); the keys
        that come meanwhile wait in that queue, and reach the page."""
        if not self._show_title_first(title):
            self.push_screen(make())
            return
        self.call_later(self._push_when_titled, make)

    async def _push_when_titled(self, make: Callable[[], Screen]) -> None:
        from tui.frames import painted

        try:
            await painted(self.screen)
            self.push_screen(make())
        finally:
            self._untitle()

    def open_section(self, mode: str) -> None:
        """Show a section (its top screen if it is the section in view)."""
        if mode not in self.MODES:
            return
        if self.current_mode == mode:
            # Pressing the section key again returns to its top screen.
            while len(self.screen_stack) > 1:
                self.pop_screen()
            return
        self._switching = True
        try:
            self.switch_mode(mode)
        finally:
            self._switching = False
            self._untitle()

    _switching = False  # a section key's switch_mode is under way

    def delay_update(self, delay: float = 0.05) -> None:
        """Textual's switch_mode holds every update for 50 ms to mask the
        switch: a section key then showed its screen 50 ms late, at every delay
        of the database. A section's screen is drawn in one frame anyway; the
        palette's own use (closing over the screen it opens) keeps the delay."""
        if self._switching:
            return
        super().delay_update(delay)

    # -- memory ------------------------------------------------------------------

    _collect_timer: Timer | None = None
    _collect_due_since = 0.0
    _last_key_at = 0.0

    def collect_closed_screens(self) -> None:
        """Free a closed screen soon, with a full collection in a quiet moment.

        A closed screen's widgets hold each other (parents, children, message
        pumps, bound methods): they are cycles, freed only by a collection of
        the oldest generation, which the thresholds of ``tune_gc`` make rare.
        Until then the next screen was built beside the garbage of the last
        one, in new memory: the largest playbook opened and closed 100 times
        grew the process by some 36 MB (Python's allocator keeps an arena
        while any object in it lives, and the survivors of each opening
        were spread over the new ones). Collected once the screen is gone,
        the next one reuses its memory: +5 MB over the same 95 openings
        (tests/perf/test_memory.py). The collection walks only what came
        after the start (``freeze_startup_objects``): 13-28 ms for a closed
        playbook page of 30,000 objects, taken when no key came for a moment
        rather than on the key that closed it."""
        if self._collect_timer is None:  # a screen closed meanwhile goes with it
            self._collect_due_since = time.monotonic()
            self._collect_timer = self.set_timer(COLLECT_AFTER_CLOSE_S, self._collect_when_quiet)

    def _collect_when_quiet(self) -> None:
        import gc

        now = time.monotonic()
        if (
            now - self._last_key_at < _KEYS_QUIET_S
            and now - self._collect_due_since < _COLLECT_AT_THE_LATEST_S
        ):
            self._collect_timer = self.set_timer(_KEYS_QUIET_S, self._collect_when_quiet)
            return
        self._collect_timer = None
        gc.collect()

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key):
            self._last_key_at = time.monotonic()
            if is_exiting(self):
                # Quitting: keys typed after q (a fast "qu") must not open a
                # screen while the app is being taken down (it crashed).
                return
            if not event.is_forwarded and self.presenter.on:
                self.presenter.record(event)
            if (
                event.is_forwarded
                and event.is_printable
                and isinstance(self.focused, Input)
                and event not in _REROUTED  # a key the box itself let through stays put
            ):
                # Typed in one burst after `/` (a paste, a fast typist, SSH delivering
                # keys together): Textual forwarded these to the list before `/`
                # moved the focus to the filter box, and they came back unhandled.
                # An Input keeps the printable keys it gets, so they are the box's.
                again = events.Key(event.key, event.character)
                _REROUTED.add(again)
                self.focused.post_message(again)
                return
        await super().on_event(event)

    def action_toggle_presenter(self) -> None:
        on = self.presenter.toggle()
        self.notify(
            "Presenter mode on: the keys you press show in the bottom-right corner."
            if on
            else "Presenter mode off.",
            title="Presenter mode",
            timeout=3,
        )

    def action_help(self) -> None:
        from tui.screens.help import HelpScreen

        if isinstance(self.screen, HelpScreen):
            return
        self.push_screen(HelpScreen(self.screen))

    # -- changes, off the UI thread (tui/saving.py) -----------------------------------

    def save(
        self,
        fn: Callable[..., object],
        *args: object,
        on_done: Callable[[object], None] | None = None,
        field_errors_to: object | None = None,
        on_error: Callable[[Exception], None] | None = None,
        background: bool = False,
        **kwargs: object,
    ) -> Save:
        """Run the store call ``fn(*args, **kwargs)`` (a change) off the UI
        thread; its value goes to ``on_done`` (on the UI thread). A DomainError
        goes to ``field_errors_to`` (a form: under the field it concerns) or to
        a notification, anything else to ``report``; ``on_error`` too, when
        given, for a screen that must know. A form (``field_errors_to``) says
        "Saving..." while it takes long, and waiting for another
        administrator's lock; without a form the screen's status line does.
        ``background``: a change that says itself how it goes and may take as
        long as a webhook receiver (a test delivery, a resend: "Testing…"): no
        "Saving..." for it. Returns the change on its way (``tui.saving.Save``: its worker, and
        ``give_up()``)."""
        from tui.saving import SAVE_GROUP, SAYS_SAVING_AFTER_S, Save

        job = Save(fn, args, kwargs, on_done, field_errors_to, on_error)  # type: ignore[arg-type]
        job.background = background
        worker = self.run_worker(
            self._run_save(job), group=SAVE_GROUP, exit_on_error=False, exclusive=False
        )
        self._saves[worker] = job
        job.worker = worker
        if not background:
            self.set_timer(SAYS_SAVING_AFTER_S, lambda: self._say_saving(job))
        return job

    async def _run_save(self, job) -> object:
        from tui.saving import WAITING, run_in_daemon

        def waiting() -> None:  # from the store's thread, once the lock is another's
            self.call_from_thread(self._set_save_state, job, WAITING)

        def call() -> object:
            with self.store.patience(waiting, job.cancelled):
                result = job.fn(*job.args, **job.kwargs)
                if inspect.iscoroutine(result):  # a delivery: its own loop, in this thread
                    import asyncio

                    result = asyncio.run(result)
                job.committed = self.store.committed_changes()
                return result

        return await run_in_daemon(call)

    def _say_saving(self, job) -> None:
        from tui.saving import SAVING

        if not job.done and job.state is None:
            self._set_save_state(job, SAVING)

    def watch_statements(self) -> None:
        """Twice a second (PostgreSQL): a statement not answered within the
        server's own statement timeout (and half a second) is one a silent
        network holds, whichever screen or change sent it: the banner says so."""
        store = self._store
        if store is None or not store.answer_within_s or self.connection.away:
            return

        sent = store.oldest_statement_sent()
        now = time.monotonic()
        if (
            sent is not None
            and sent > self.connection.back_at
            and now - sent > store.answer_within_s + 0.5
        ):
            self.connection.lost(store.server)

    def _set_save_state(self, job, state: str | None) -> None:
        if job.done and state is not None:
            return
        job.state = state
        if job.view is not None:
            try:
                job.view.show_saving(state)  # type: ignore[attr-defined]
            except Exception as exc:  # the form was closed meanwhile
                self.log.warning(f"saving state: {exc!r}")
        else:
            self.show_status()
        self.refresh_bindings()

    async def on_worker_state_changed(self, event) -> None:
        """The one handler of every change's outcome (``save``)."""
        from textual.worker import WorkerState

        job = self._saves.get(event.worker)
        if job is None or event.state not in (
            WorkerState.SUCCESS,
            WorkerState.ERROR,
            WorkerState.CANCELLED,
        ):
            return
        del self._saves[event.worker]
        job.done = True
        self._set_save_state(job, None)
        if event.state == WorkerState.SUCCESS:
            if self.connection.away:
                self.connection.back()
            self.own_change_committed(job.committed)
            if job.on_done is not None:
                shown = job.on_done(event.worker.result)
                if inspect.isawaitable(shown):
                    await shown
            return
        if event.state == WorkerState.CANCELLED:
            return
        exc = event.worker.error
        self.save_failed(job, exc)

    def changes_on_the_way(self) -> list[Save]:
        """The changes started by ``save`` whose outcome has not been handled yet."""
        return list(self._saves.values())

    def save_failed(self, job, exc: BaseException) -> None:
        """Where a change's error goes: the form, a notification, the banner, report."""
        from store.errors import Unreachable

        if isinstance(exc, Unreachable):
            self.connection.lost(exc.where)
        if isinstance(exc, DomainError) and job.view is not None:
            try:
                job.view.show_error(exc)  # type: ignore[attr-defined]
            except Exception:  # the form was closed meanwhile
                self.report(exc)
        elif isinstance(exc, Exception):
            self.report(exc)
        if job.on_error is not None and isinstance(exc, Exception):
            job.on_error(exc)

    def action_give_up(self) -> None:
        """escape while a one-key change waits for another administrator's."""
        from tui.saving import GIVING_UP

        for job in self._saves.values():
            if job.view is None and job.state is not None and not job.cancelled.is_set():
                job.give_up()
                self._set_save_state(job, GIVING_UP)

    def action_retry_database(self) -> None:
        self.connection.retry()

    def show_status(self) -> None:
        """The status line of the screen in view: the database away first, then
        a one-key change saving or waiting."""
        from tui.saving import place_status

        if not self.is_running or not self.screen_stack:
            return
        if self.connection.answered_since():  # a screen's read was answered: it is back
            self.connection.back()
            return
        text = None
        away = self.connection.away
        if away:
            text = self.connection.text()
        else:
            states = [j.state for j in self._saves.values() if j.view is None and j.state]
            text = states[-1] if states else None
        try:
            place_status(self.screen, text, away=away)
        except Exception as exc:  # a screen being composed or torn down
            self.log.warning(f"status: {exc!r}")

    def database_back(self) -> None:
        """The database answers again: the screen in view shows fresh data."""
        if not self.store_is_open:
            self.open_store_soon()
        elif self.open_failure is not None:
            self._store_opened()
        else:
            self.reload_screen()

    # -- command palette -------------------------------------------------------------

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from self.system_commands(screen, None)

    def system_commands(self, screen: Screen, objects: object) -> Iterable[SystemCommand]:
        """The palette's entries from the account's objects read once per opening
        (``tui.commands.read_palette_objects``; None: read them now)."""
        from tui.commands import palette_commands

        yield from palette_commands(self, screen, objects)  # type: ignore[arg-type]
        yield from super().get_system_commands(screen)
