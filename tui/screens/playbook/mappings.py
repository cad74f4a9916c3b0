"""The playbook page's tab 3, Mappings: every field of the connected blueprints
and the data field it fills; enter picks the data field."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.widgets import Static

from store import playbooks
from store.playbooks import MappingRow, PlaybookDetail
from tui import colours
from tui.dialogs.picker import NONE, PickerDialog, best_match
from tui.keys import key_for, tab_key
from tui.screens.playbook.connections import ConnectionsTab
from tui.screens.playbook.data_fields import DataFieldsTab
from tui.screens.playbook.tab import PlaybookTab
from tui.widgets.filter_table import FilterTable, Row


def missing_text() -> Text:
    return Text("missing (required)", style=colours.style("bad", "bold"))


class MappingsTab(PlaybookTab):
    def compose(self) -> ComposeResult:
        yield Static("", id="map-hint", classes="hint")
        yield FilterTable(
            ("Blueprint", "Field", "Required", "Data field"),
            id="mappings-table",
            empty="No blueprint is connected: connect one on tab 2 (n).",
        )

    def show(self, detail: PlaybookDetail, select: str | None = None) -> None:
        hint = self.query_one("#map-hint", Static)
        hint.display = bool(detail.mappings)  # else the table's empty state says it
        paused = [c for c in detail.connections if not c.integration_enabled]
        if paused and len(paused) == len(detail.connections):
            # Nothing here can change now: no key offered, the reason instead.
            hint.update(Text(f"Read-only: {detail.completeness.summary}"))
        else:
            text = "enter chooses the data field · / then 'missing' shows what is left to map"
            if paused:
                names = ", ".join(c.blueprint_name for c in paused)
                text += f" · read-only (integration disabled): {names}"
            hint.update(Text(text))
        table = self.query_one(FilterTable)
        tab, new = tab_key(self.app, 2), key_for(self.app, ConnectionsTab, "connections.new")
        table.empty_text = (
            "The connected blueprints have no fields yet."
            if detail.connections
            else f"No blueprint is connected: connect one on tab {tab} ({new})."
        )
        table.set_rows(
            [
                Row(
                    str(r.field_id),
                    (
                        r.blueprint_name,
                        Text(r.field_name, style=colours.style("bad", "bold"))
                        if r.missing
                        else r.field_name,
                        "yes" if r.required else "",
                        missing_text() if r.missing else (r.data_field_name or "-"),
                    ),
                    search=" ".join(
                        (
                            r.blueprint_name,
                            r.field_name,
                            "required" if r.required else "",
                            "missing" if r.missing else (r.data_field_name or ""),
                        )
                    ).lower(),
                    item=r,
                )
                for r in detail.mappings
            ],
            select=select,
        )

    def selected(self) -> MappingRow | None:
        return self.query_one(FilterTable).selected_item

    @on(FilterTable.Opened)
    def pick_data_field(self, event: FilterTable.Opened) -> None:
        event.stop()
        row, detail = self.selected(), self.page.detail
        if row is None or detail is None:
            return
        conn = next((c for c in detail.connections if c.blueprint_id == row.blueprint_id), None)
        if conn is not None and conn.read_only_reason:
            # Said before any picker opens: the store would refuse the change.
            self.notify(conn.read_only_reason, title="Read-only", severity="warning")
            return
        if not self.admin.may_manage("change mappings"):
            return
        # Which data fields already take a field of this blueprint (one per blueprint).
        taken = {
            r.data_field_id: r.field_name
            for r in detail.mappings
            if r.blueprint_id == row.blueprint_id
            and r.data_field_id is not None
            and r.field_id != row.field_id
        }
        rows = [
            Row(
                str(f.id),
                (
                    f.name,
                    f"has {row.blueprint_name} / {taken[f.id]} (one per blueprint)"
                    if f.id in taken
                    else (", ".join(f.sources) or "-"),
                ),
                search=f.name.lower(),
            )
            for f in detail.data_fields
        ]

        def picked(key: str | None) -> None:
            if key is None:
                return
            target = None if key == NONE else int(key)
            if target == row.data_field_id:
                return

            def saved(new) -> None:
                label = f"{new.blueprint_name} / {new.field_name}"
                if new.data_field_name is None:
                    self.notify(f"{label} is no longer mapped.")
                else:
                    self.notify(f"{label} -> {new.data_field_name}")
                self.page.reload(select=str(row.field_id))
                self.focus_main()

            self.admin.save(
                playbooks.set_mapping,
                self.admin.store,
                self.admin.actor,
                self.page.playbook_id,
                row.field_id,
                target,
                on_done=saved,
            )

        if not rows and row.data_field_id is None:
            self.notify(
                f"This playbook has no data fields yet: add one on tab {tab_key(self.app, 1)} "
                f"({key_for(self.app, DataFieldsTab, 'data_fields.new')}), or press "
                f"{key_for(self.app, self, 'playbook.from_blueprint')} to create them "
                "from the blueprint's fields.",
                severity="warning",
            )
            return
        # The cursor starts on the current data field, else on the likely one:
        # the data field named like the blueprint field, else the first one free.
        free = [r for r in rows if int(r.key) not in taken]
        start = str(row.data_field_id) if row.data_field_id else best_match(free, row.field_name)
        self.app.push_screen(
            PickerDialog(
                f"Map {row.blueprint_name} / {row.field_name} to a data field"
                + (" (required)" if row.required else ""),
                ("Data field", "Receives"),
                rows,
                none_label="(none: not mapped)",
                select=start or NONE,
            ),
            picked,
        )
