"""The App: sections as modes, global keys with ids, the command palette, the
acting user and the open store."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from textual import events
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from store.errors import DomainError
from store.values import Actor
from tui.textual_compat import is_exiting, keymap

if TYPE_CHECKING:
    from store.db import Store
    from store.glance import Glance


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


def _lazy(module: str, name: str) -> Callable[[], Screen]:
    """A screen factory that imports its module on first use (keeps start-up light)."""

    def make() -> Screen:
        from importlib import import_module

        return getattr(import_module(module), name)()

    return make


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
    ) -> None:
        """``store``: the open store; or None with ``glance``, the first screen's
        data read without SQLAlchemy (``store.glance``): the program then paints
        it first and opens the store right after, in a thread. ``user_keymap``:
        apply the user's keymap.toml (not for screenshots and scripted demos,
        which press the default keys)."""
        super().__init__()
        if store is None and glance is None:
            raise ValueError("IntegrationsAdmin needs a store or a glance")
        self._store = store
        self._store_lock = threading.Lock()
        self.glance = glance
        self.actor = actor
        self.first_run = first_run
        from tui.widgets.keycaster import Presenter

        # Presenter mode (--presenter, or the palette): the keys pressed, in a corner.
        self.presenter = Presenter(self)
        self._presenter_at_start = presenter
        self._keymap_problems: list[str] = []
        from tui import keys

        self.keymap_file = keys.keymap_path()
        if user_keymap:
            self._apply_user_keymap()

    # -- set-up ------------------------------------------------------------------

    def _apply_user_keymap(self) -> None:
        """Users remap keys by binding id in keymap.toml: ``"go.marketplace" = "M"``
        (in the user configuration folder, ``tui.keys.keymap_path``). What is
        wrong with the file is said once the program is up (``on_mount``)."""
        from tui import keys

        keymap, self._keymap_problems = keys.load_keymap(self.keymap_file)
        if keymap:
            self.set_keymap(keymap)

    def _check_keymap_ids(self) -> None:
        """Say which ids of keymap.toml no binding has (a typo remaps nothing).
        Runs in a thread: knowing every id imports every screen."""
        from tui import keys

        unknown = keys.unknown_ids(keymap(self), keys.all_binding_ids())
        if unknown:
            self.call_from_thread(
                self.notify,
                f"{keys.shown_path(self.keymap_file)}: no key has the id "
                f"{', '.join(map(repr, unknown))}; those lines remap nothing. "
                "The README (Keys) lists the ids.",
                title="Keymap",
                severity="warning",
                timeout=12,
            )

    def on_mount(self) -> None:
        self._size_console(self.size.width, self.size.height)
        for problem in self._keymap_problems:
            self.notify(problem, title="Keymap", severity="warning", timeout=12)
        if keymap(self):
            self.run_worker(self._check_keymap_ids, thread=True, group="keymap")
        if self.store_is_open:
            self.call_after_refresh(freeze_startup_objects)
        # The header's sub-title: set when the first screen is shown (its resume).
        if self._presenter_at_start:
            self.presenter.start()
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

        assert self.glance is not None
        store = Store(self.glance.url)
        store.prepare()
        # The ordinary start signs in before the App; this start does it now
        # (records the visit, and notices a permission changed meanwhile).
        self.actor = accounts.sign_in(store, self.actor.login)
        return store

    def open_store_soon(self) -> None:
        """Open the store in a thread, once the first screen is on the terminal."""
        if self._store is None:
            self.run_worker(self._open_store_worker, thread=True, group="open-store")

    def _open_store_worker(self) -> None:
        try:
            self.store  # noqa: B018 (opens it)
        except DomainError as exc:
            self.call_from_thread(self.report, exc)
            return
        self.call_from_thread(freeze_startup_objects)

    _title_account: tuple[str, str] | None = None  # (name, plan) the header shows

    def refresh_title(self) -> None:
        """The header follows the account's name and plan (the operator may change
        the plan while the program runs): read again, in one small query, each
        time a screen is shown (BaseScreen.on_screen_resume), never per key."""
        if self._store is None and self.glance is not None:
            info = self.glance.account  # read a moment ago, before the first paint
            self._title_account = (info.name, info.plan)
        else:
            from store import accounts

            try:
                self._title_account = accounts.name_and_plan(self.store, self.actor.account_id)
            except DomainError as exc:
                self.report(exc)
                return
        self._show_title(self.size.width)

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
        """Show a domain error (or an unexpected one) without crashing."""
        if isinstance(exc, DomainError):
            words = re.findall(r"[A-Z][a-z]*", type(exc).__name__)
            self.notify(
                str(exc),
                title=" ".join(words).capitalize(),
                severity="error",
                timeout=8,
            )
        else:
            self.notify(f"Unexpected error: {type(exc).__name__}", severity="error", timeout=8)
            self.log.error(repr(exc))

    def may_manage(self, doing: str) -> bool:
        """True when the acting user has the permission now; otherwise says why."""
        from store import accounts

        try:
            self.actor = accounts.refresh_actor(self.store, self.actor)
        except DomainError as exc:
            self.report(exc)
            return False
        if self.actor.can_manage:
            return True
        self.notify(
            f"You cannot {doing}: it needs the permission '{accounts.PERMISSION}'. "
            "Ask an owner of the account to grant it.",
            title="Read-only",
            severity="warning",
            timeout=8,
        )
        return False

    def refused_by_plan(self, suspended: str) -> bool:
        """Say at once, before any form or confirmation opens, that a change is
        refused because its integration is suspended by the plan. ``suspended``
        is the store's words (``IntegrationInfo.suspended`` and the like), ""
        when it runs: then nothing is said and False returned."""
        if not suspended:
            return False
        self.notify(suspended, title="Plan required", severity="warning", timeout=10)
        return True

    def may_change_playbooks(self, doing: str) -> bool:
        """``may_manage``, then the plan: playbooks are created and changed on a paid
        plan only (the store's words, said before any form opens). The plan is the
        one the header shows, re-read each time a screen is shown: no extra query."""
        if not self.may_manage(doing):
            return False
        from store import catalog

        plan = self._title_account[1] if self._title_account else None
        refusal = catalog.playbooks_refusal(plan, doing) if plan else None
        if refusal:
            self.notify(refusal, title="Plan required", severity="warning", timeout=10)
            return False
        return True

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

    def action_section(self, mode: str) -> None:
        if mode not in self.MODES:
            return
        if self.current_mode == mode:
            # Pressing the section key again returns to its top screen.
            while len(self.screen_stack) > 1:
                self.pop_screen()
            return
        self.switch_mode(mode)

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key):
            if is_exiting(self):
                # Quitting: keys typed after q (a fast "qu") must not open a
                # screen while the app is being taken down (it crashed).
                return
            if not event.is_forwarded and self.presenter.on:
                self.presenter.record(event)
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

    # -- command palette -------------------------------------------------------------

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        from tui.commands import palette_commands

        yield from palette_commands(self, screen)
        yield from super().get_system_commands(screen)
