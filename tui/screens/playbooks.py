"""The Playbooks list: name, data fields n/limit, connected blueprints n/limit,
complete or how many required mappings are missing."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Header, Static

from store import accounts, catalog, playbooks
from store.playbooks import PlaybookInfo
from store.refusals import limit_refusal
from tui import colours
from tui.dialogs.confirm import ConfirmDialog
from tui.dialogs.form import FormDialog, FormField
from tui.format import page_title, plural
from tui.keys import key_for
from tui.refusing import NOTHING_SELECTED, Refusal, Refuses, first, limit, permission, plan
from tui.screens.base import BaseScreen
from tui.widgets.filter_table import FilterTable, Row
from tui.widgets.footer import Footer


def status_text(p: PlaybookInfo) -> Text:
    if p.disabled_integrations:
        # Not "complete": it depends on an integration that is paused.
        return Text(
            f"{', '.join(p.disabled_integrations)} disabled", style=colours.style("warn", "bold")
        )
    if p.missing_required_count == 0:
        return Text("complete", style=colours.style("good"))
    return Text(f"{p.missing_required_count} missing", style=colours.style("bad", "bold"))


def playbook_form(admin, pb: PlaybookInfo | None = None) -> FormDialog:
    def submit(v: dict[str, Any]) -> PlaybookInfo:
        if pb is None:
            return playbooks.create(
                admin.store, admin.actor, name=v["name"], description=v["description"]
            )
        return playbooks.update(
            admin.store,
            admin.actor,
            pb.id,
            name=v["name"],
            description=v["description"],
            version=pb.version,
        )

    return FormDialog(
        "New playbook" if pb is None else f"Edit playbook {pb.name}",
        [
            FormField(
                "name",
                "Name",
                value=pb.name if pb else "",
                placeholder="e.g. Sales agreement",
                help="1-100 characters, unique in the account",
            ),
            FormField(
                "description",
                "Description",
                value=pb.description if pb else "",
                placeholder="Which contract templates use it",
            ),
        ],
        submit,
    )


class PlaybooksScreen(Refuses, BaseScreen):
    """Every playbook of the account; `enter` opens one."""

    BINDINGS = [
        Binding("n", "new", "New playbook", id="playbooks.new"),
        Binding("e", "edit", "Edit", id="playbooks.edit"),
        Binding("d", "delete", "Delete", id="playbooks.delete"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.items: list[PlaybookInfo] = []
        self.plan: str | None = None
        self.usage = (0, 0)  # playbooks of the account: used, limit

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Playbooks", classes="section-title")
        yield Static("", id="usage", classes="usage")
        yield Static("", id="empty", classes="empty")
        yield FilterTable(("Playbook", "Data fields", "Connected", "Mappings"), id="playbooks")
        yield Footer()

    def on_mount(self) -> None:
        # Read when the screen is shown (its resume: BaseScreen), in a worker.
        self.query_one(FilterTable).focus_table()

    def load(self) -> tuple[list[PlaybookInfo], Any]:
        store, actor = self.admin.store, self.admin.actor
        return (
            playbooks.all_for_account(store, actor.account_id),
            accounts.account_info(store, actor.account_id),
        )

    def show(self, data: tuple[list[PlaybookInfo], Any]) -> None:
        self.items, account = data
        select = self.select_after
        self.plan = account.plan
        self.usage = (account.playbooks, account.limit_playbooks)
        self.refresh_bindings()
        usage = self.query_one("#usage", Static)
        note = catalog.playbooks_plan_note(account.plan)
        if note:
            usage.update(Text(note))
            usage.set_class(True, "-full")
        else:
            used, most = self.usage
            usage.update(Text(f"Playbooks {used}/{most}"))
            usage.set_class(used >= most, "-full")
        empty = self.query_one("#empty", Static)
        table = self.query_one(FilterTable)
        empty.display = not self.items
        table.display = bool(self.items)
        if not self.items:
            empty.update(
                Text.assemble(
                    "No playbooks yet.\n\nA playbook holds the data fields your contract "
                    "templates use; connect integration blueprints to it to fill them.\n\n"
                    "Press ",
                    (key_for(self.app, self, "playbooks.new"), "bold reverse"),
                    " to create one.",
                )
            )
            return
        table.set_rows(
            [
                Row(
                    str(p.id),
                    (
                        p.name,
                        f"{p.data_field_count}/{p.limit_data_fields}",
                        f"{p.connected_count}/{p.limit_connected_blueprints}",
                        status_text(p),
                    ),
                    search=p.name.lower(),
                    item=p,
                )
                for p in self.items
            ],
            select=select,
        )

    def selected(self) -> PlaybookInfo | None:
        table = self.query_one(FilterTable)
        if not table.display:
            return None
        return table.selected_item

    def refusal(self, action: str) -> Refusal | None:
        """The store's checks, in its order: the permission, the plan (deleting
        stays possible on any plan), then the limit or the row."""
        doing = {
            "new": "create playbooks",
            "edit": "change playbooks",
            "delete": "delete playbooks",
        }
        if action not in doing:
            return None
        on_plan = (
            plan(catalog.playbooks_refusal(self.plan, doing[action]))
            if self.plan and action != "delete"
            else None
        )
        if action == "new":
            return first(
                permission(self.admin, doing[action]),
                on_plan,
                limit(limit_refusal(*self.usage, "playbooks")),
            )
        return first(
            permission(self.admin, doing[action]),
            on_plan,
            NOTHING_SELECTED if self.selected() is None else None,
        )

    @on(FilterTable.Opened)
    def open_playbook(self, event: FilterTable.Opened) -> None:
        row = event.table.selected_row
        name = row.item.name if row is not None and row.key == event.key and row.item else ""

        def page() -> Screen:
            from tui.screens.playbook import PlaybookScreen

            return PlaybookScreen(int(event.key), name=name)

        # Its title at once; the page (100-150 ms to build and draw) after.
        self.admin.open_titled(page_title("Playbooks", name) if name else None, page)

    def action_new(self) -> None:
        if self.refused("new"):
            return

        def created(pb: PlaybookInfo | None) -> None:
            if pb is not None:
                self.notify(f"Playbook {pb.name!r} created.")
                self.reload(select=str(pb.id))
                self.query_one(FilterTable).focus_table()

        self.app.push_screen(playbook_form(self.admin), created)

    def action_edit(self) -> None:
        pb = self.selected()
        if pb is None or self.refused("edit"):
            return

        def saved(new: PlaybookInfo | None) -> None:
            if new is not None:
                self.reload(select=str(new.id))

        self.app.push_screen(playbook_form(self.admin, pb), saved)

    def action_delete(self) -> None:
        pb = self.selected()
        if pb is None or self.refused("delete"):
            return

        def answered(yes: bool | None) -> None:
            if not yes:
                return

            def saved(_result: object) -> None:
                self.notify(f"Playbook {pb.name!r} deleted.")
                self.reload()

            self.admin.save(
                playbooks.delete, self.admin.store, self.admin.actor, pb.id, on_done=saved
            )

        self.app.push_screen(
            ConfirmDialog(
                f"Delete the playbook {pb.name}?",
                f"{pb.name!r} will be deleted with its {plural(pb.data_field_count, 'data field')} "
                f"and its {plural(pb.connected_count, 'blueprint connection')} and their "
                "mappings. "
                "The blueprints themselves stay. This cannot be undone.",
                yes="Delete",
            ),
            answered,
        )
