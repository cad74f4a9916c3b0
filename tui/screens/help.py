"""`?`: the keys of the current screen, then the keys that work everywhere."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

GLOBAL_KEYS = [
    ("m", "Marketplace"),
    ("i", "Integrations"),
    ("p", "Playbooks"),
    ("a", "Audit log"),
    ("o", "Account: plan, limits with usage, settings"),
    ("u", "Users: roles and the permission"),
    ("ctrl+p", "Command palette: every action, screen and object by name"),
    ("?", "This help"),
    ("escape", "Back / close the dialog"),
    ("q, ctrl+q", "Quit"),
]
LIST_KEYS = [
    ("up down / j k", "Move"),
    ("home end / g G", "First / last row (g G where the screen has no key of its own)"),
    ("enter", "Open the selected row"),
    ("/", "Filter: type to narrow; enter/down to the list; escape clears"),
    ("1..9, [ ]", "Tabs: pick one, previous / next"),
]
FORM_KEYS = [
    ("tab / shift+tab", "Next / previous field"),
    ("space", "Toggle a checkbox"),
    ("ctrl+s", "Confirm"),
    ("y / n", "Answer a confirmation"),
]


def _table(title: str, rows: list[tuple[str, str]]) -> Table:
    t = Table(
        title=title, title_justify="left", show_header=False, box=None, expand=True, padding=(0, 1)
    )
    t.add_column("key", style="bold", no_wrap=True, width=18)
    t.add_column("does", ratio=1)
    for key, does in rows:
        t.add_row(Text(key), Text(does))
    return t


class HelpScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 78; max-width: 100%; height: auto; max-height: 100%;
        border: thick $primary 70%; background: $surface; padding: 0 1;
    }
    """
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
        for active in self.under.active_bindings.values():
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
        with VerticalScroll():
            yield Static(_table(f"Keys of this screen: {title}", self.screen_keys()))
            yield Static(_table("Everywhere", GLOBAL_KEYS))
            yield Static(_table("Lists, tables and tabs", LIST_KEYS))
            yield Static(_table("Forms and dialogs", FORM_KEYS))
            yield Static(
                Text(
                    "Keys can be remapped by binding id in "
                    "~/.config/integrations-admin/keymap.toml. escape closes this help.",
                    style="italic",
                )
            )

    def action_close(self) -> None:
        self.dismiss(None)
