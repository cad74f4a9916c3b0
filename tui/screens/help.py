"""`?`: the keys of the current screen, then the keys that work everywhere."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Static

from tui.dialogs.base import Dialog
from tui.keys import key_for, ordered_bindings, shown_path

if TYPE_CHECKING:
    from textual.app import App

# (what it does, the binding ids whose keys in force do it). Keys that have no
# binding of ours (Textual's own: tab, space, arrows) are written as they are.
GLOBAL_KEYS: list[tuple[str, tuple[str, ...]]] = [
    ("Marketplace", ("go.marketplace",)),
    ("Integrations", ("go.integrations",)),
    ("Playbooks", ("go.playbooks",)),
    ("Audit log", ("go.audit",)),
    ("Account: plan, limits with usage, settings", ("go.account",)),
    ("Users: roles and the permission", ("go.users",)),
    ("Command palette: every action, setting, screen and object by name", ("app.palette",)),
    ("This help", ("app.help",)),
    ("Back / close the dialog", ("screen.back",)),
    ("Quit", ("app.quit", "app.quit_ctrl")),
]


def global_keys(app: App) -> list[tuple[str, str]]:
    from tui.app import IntegrationsAdmin
    from tui.screens.base import BaseScreen

    def keys(*ids: str) -> str:
        return ", ".join(
            key_for(app, BaseScreen if i.startswith("screen.") else IntegrationsAdmin, i)
            for i in ids
        )

    return [(keys(*ids), does) for does, ids in GLOBAL_KEYS]


def list_keys(app: App) -> list[tuple[str, str]]:
    from tui.screens.tabs import TabbedScreen
    from tui.widgets.filter_table import FilterTable, RowTable

    down, up = key_for(app, RowTable, "list.down"), key_for(app, RowTable, "list.up")
    prev, next_ = key_for(app, TabbedScreen, "tabs.prev"), key_for(app, TabbedScreen, "tabs.next")
    return [
        (f"up down / {down} {up}", "Move"),
        (
            "{} {} / {} {}".format(
                *(
                    key_for(app, RowTable, i)
                    for i in ("list.first", "list.last", "list.first_letter", "list.last_letter")
                )
            ),
            "First / last row (the letters where the screen has no key of its own)",
        ),
        ("enter", "Open the selected row"),
        (
            key_for(app, FilterTable, "list.filter"),
            "Filter: type to narrow; enter/down to the list; escape clears",
        ),
        (f"1..9, {prev} {next_}", "Tabs: pick one, previous / next"),
    ]


def form_keys(app: App) -> list[tuple[str, str]]:
    from tui.dialogs.confirm import ConfirmDialog
    from tui.dialogs.form import FormDialog

    yes, no = key_for(app, ConfirmDialog, "confirm.yes"), key_for(app, ConfirmDialog, "confirm.no")
    return [
        (
            f"{key_for(app, FormDialog, 'form.next')} / {key_for(app, FormDialog, 'form.prev')}",
            "Next / previous field",
        ),
        ("space", "Toggle a checkbox"),
        (key_for(app, FormDialog, "form.confirm"), "Confirm"),
        (f"{yes} / {no}", "Answer a confirmation"),
    ]


def _table(title: str, rows: list[tuple[str, str]]) -> Table:
    t = Table(
        # Text, not a str (Rich reads a str title as markup): the title may name a screen's object.
        title=Text(title, style="table.title"),
        title_justify="left",
        show_header=False,
        box=None,
        expand=True,
        padding=(0, 1),
    )
    t.add_column("key", style="bold", no_wrap=True, width=18)
    t.add_column("does", ratio=1)
    for key, does in rows:
        t.add_row(Text(key), Text(does))
    return t


class HelpScreen(Dialog[None]):
    DEFAULT_CSS = "HelpScreen > .dialog { width: 78; max-height: 100%; padding: 0 1; }"
    BINDINGS = [
        Binding("escape,question_mark,q", "close", "Close", id="help.close"),
    ]

    def __init__(self, under: Screen) -> None:
        super().__init__()
        self.under = under

    def screen_keys(self) -> list[tuple[str, str]]:
        """Keys bound on the screen underneath and its focused widgets."""
        seen: set[str] = set()
        rows: list[tuple[str, str]] = []
        for active in ordered_bindings(self.under):
            b = active.binding
            # Only the keys the footer shows; the general ones are listed below.
            if not b.show or not b.description or b.action in seen:
                continue
            if b.id and b.id.startswith(("go.", "app.", "tabs.")):
                continue
            seen.add(b.action)
            rows.append((self.app.get_key_display(b), b.description))
        return rows

    def compose(self) -> ComposeResult:
        title = getattr(self.under, "help_title", type(self.under).__name__.replace("Screen", ""))
        with VerticalScroll(classes="dialog"):
            yield Static(_table(f"Keys of this screen: {title}", self.screen_keys()))
            yield Static(_table("Everywhere", global_keys(self.app)))
            yield Static(_table("Lists, tables and tabs", list_keys(self.app)))
            yield Static(_table("Forms and dialogs", form_keys(self.app)))
            close = key_for(self.app, self, "help.close")
            path = shown_path(self.app.keymap_file)  # type: ignore[attr-defined]
            yield Static(
                Text.assemble(
                    "Keys can be remapped by binding id (README: Keys) in\n",
                    # One line whatever its length: the help keeps its height.
                    Text(path, no_wrap=True, overflow="ellipsis"),
                    f"\n{close} closes this help.",
                    style="italic",
                )
            )
