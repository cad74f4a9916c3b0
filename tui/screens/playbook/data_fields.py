"""The playbook page's tab 1, Data fields: add, edit and delete them."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding

from store import playbooks
from store.playbooks import DataFieldInfo, PlaybookDetail
from store.refusals import limit_refusal
from tui.dialogs.confirm import ConfirmDialog
from tui.dialogs.form import FormDialog, FormField
from tui.format import plural
from tui.keys import key_for, tab_key
from tui.refusing import (
    NOTHING_SELECTED,
    Refusal,
    Refuses,
    first,
    limit,
    permission,
    playbooks_plan,
)
from tui.screens.playbook.tab import PlaybookTab
from tui.widgets.filter_table import FilterTable, Row


def data_field_form(admin, playbook_id: int, f: DataFieldInfo | None = None) -> FormDialog:
    def submit(v: dict[str, Any]) -> DataFieldInfo:
        if f is None:
            return playbooks.add_data_field(
                admin.store,
                admin.actor,
                playbook_id,
                name=v["name"],
                description=v["description"],
                default_value=v["default_value"],
            )
        return playbooks.update_data_field(
            admin.store,
            admin.actor,
            f.id,
            name=v["name"],
            description=v["description"],
            default_value=v["default_value"],
            version=f.version,
        )

    return FormDialog(
        "Add a data field" if f is None else f"Edit data field {f.name}",
        [
            FormField(
                "name",
                "Name",
                value=f.name if f else "",
                placeholder="e.g. Customer name",
                help="1-100 characters, unique in the playbook",
            ),
            FormField("description", "Description", value=f.description if f else ""),
            FormField(
                "default_value",
                "Default value",
                value=f.default_value if f else "",
                placeholder="Used when no integration fills it",
            ),
        ],
        submit,
    )


class DataFieldsTab(Refuses, PlaybookTab):
    BINDINGS = [
        Binding("n", "new", "Add", id="data_fields.new", tooltip="Add a data field"),
        Binding("e", "edit", "Edit", id="data_fields.edit"),
        Binding("d", "delete", "Delete", id="data_fields.delete"),
    ]

    def compose(self) -> ComposeResult:
        # The empty state is the table's own, said once.
        yield FilterTable(
            ("Data field", "Mapped from", "Default value", "Description"),
            id="data-fields-table",
            empty=Text.assemble(
                "No data fields yet. Press ",
                ("n", "bold reverse"),
                " to add one, or connect a blueprint (tab 2) and press ",
                ("f", "bold reverse"),
                " to create data fields from its fields.",
            ),
        )

    def show(self, detail: PlaybookDetail, select: str | None = None) -> None:
        # The keys in force (a user's keymap may remap them), said once by the table.
        self.query_one(FilterTable).empty_text = Text.assemble(
            "No data fields yet. Press ",
            (key_for(self.app, self, "data_fields.new"), "bold reverse"),
            f" to add one, or connect a blueprint (tab {tab_key(self.app, 2)}) and press ",
            (key_for(self.app, self, "playbook.from_blueprint"), "bold reverse"),
            " to create data fields from its fields.",
        )
        self.query_one(FilterTable).set_rows(
            [
                Row(
                    str(f.id),
                    (
                        f.name,
                        ", ".join(f.sources) if f.sources else "-",
                        f.default_value,
                        f.description,
                    ),
                    item=f,
                )
                for f in detail.data_fields
            ],
            select=select,
        )
        self.refresh_bindings()

    def selected(self) -> DataFieldInfo | None:
        return self.query_one(FilterTable).selected_item

    def refusal(self, action: str) -> Refusal | None:
        """The store's checks, in its order: the permission, the plan (deleting
        stays possible on any plan), then the limit or the row."""
        doing = {
            "new": "add data fields",
            "edit": "change data fields",
            "delete": "delete data fields",
        }
        if action not in doing:
            return None
        found = first(
            permission(self.admin, doing[action]),
            playbooks_plan(self.admin, doing[action]) if action != "delete" else None,
        )
        if found is not None or action != "new":
            return found or (NOTHING_SELECTED if self.selected() is None else None)
        pb = self.page.detail.playbook if self.page.detail is not None else None
        if pb is None:
            return None
        return limit(
            limit_refusal(
                pb.data_field_count, pb.limit_data_fields, "data fields", holder=repr(pb.name)
            )
        )

    def action_new(self) -> None:
        if self.refused("new"):
            return

        def created(f: DataFieldInfo | None) -> None:
            if f is not None:
                self.notify(f"Data field {f.name!r} added.")
                self.page.reload(select=str(f.id))
                self.focus_main()

        self.app.push_screen(data_field_form(self.admin, self.page.playbook_id), created)

    def action_edit(self) -> None:
        f = self.selected()
        if f is None or self.refused("edit"):
            return

        def saved(new: DataFieldInfo | None) -> None:
            if new is not None:
                self.page.reload(select=str(new.id))

        self.app.push_screen(data_field_form(self.admin, self.page.playbook_id, f), saved)

    def action_delete(self) -> None:
        f = self.selected()
        if f is None or self.refused("delete"):
            return
        n = len(f.sources)
        message = f"{f.name!r} will be deleted"
        if n:
            message += f" with its {plural(n, 'mapping')} ({', '.join(f.sources)})"
            message += "; those blueprint fields become unmapped"
        message += "."

        def answered(yes: bool | None) -> None:
            if not yes:
                return

            def saved(_result: object) -> None:
                self.notify(f"Data field {f.name!r} deleted.")
                self.page.reload()

            self.admin.save(
                playbooks.delete_data_field,
                self.admin.store,
                self.admin.actor,
                f.id,
                expected_mappings=n,
                on_done=saved,
                on_error=lambda _exc: self.page.reload(),
            )

        self.app.push_screen(
            ConfirmDialog(f"Delete the data field {f.name}?", message, yes="Delete"), answered
        )
