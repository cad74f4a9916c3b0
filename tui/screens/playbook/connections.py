"""The playbook page's tab 2, Connected blueprints: connect and disconnect them;
enter on one shows its fields on the Mappings tab."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Static

from store import playbooks
from store.blueprints import BlueprintInfo
from store.playbooks import ConnectionInfo, PlaybookDetail
from store.refusals import limit_refusal
from tui import colours
from tui.dialogs.confirm import ConfirmDialog
from tui.dialogs.picker import NONE, PickerDialog
from tui.format import plural
from tui.keys import key_for
from tui.reading import read_then
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


def _connection_status(c: ConnectionInfo) -> Text:
    if not c.integration_enabled:
        return Text("integration disabled", style=colours.style("warn"))
    if c.missing_required_count:
        return Text(f"{c.missing_required_count} missing", style=colours.style("bad", "bold"))
    return Text("complete", style=colours.style("good"))


class ConnectionsTab(Refuses, PlaybookTab):
    BINDINGS = [
        Binding("n", "connect", "Connect", id="connections.new", tooltip="Connect a blueprint"),
        Binding("d", "disconnect", "Disconnect", id="connections.delete"),
    ]

    def compose(self) -> ComposeResult:
        yield Static("", id="conn-usage", classes="usage")
        yield FilterTable(
            ("Blueprint", "Integration", "Fields", "Mapped", "Required"),
            id="connections-table",
            empty="No blueprint is connected yet: press n to connect one.",
        )

    def show(self, detail: PlaybookDetail, select: str | None = None) -> None:
        info = detail.playbook
        usage = self.query_one("#conn-usage", Static)
        used, limit = info.connected_count, info.limit_connected_blueprints
        usage.update(Text(f"Connected blueprints {used}/{limit}"))
        new = key_for(self.app, self, "connections.new")
        self.query_one(
            FilterTable
        ).empty_text = f"No blueprint is connected yet: press {new} to connect one."
        usage.set_class(used >= limit, "-full")
        self.query_one(FilterTable).set_rows(
            [
                Row(
                    str(c.blueprint_id),
                    (
                        c.blueprint_name,
                        c.integration_name,
                        str(c.field_count),
                        f"{c.mapped_count}/{c.field_count}",
                        _connection_status(c),
                    ),
                    item=c,
                )
                for c in detail.connections
            ],
            select=select,
        )
        self.refresh_bindings()

    def selected(self) -> ConnectionInfo | None:
        return self.query_one(FilterTable).selected_item

    def refusal(self, action: str) -> Refusal | None:
        """The store's checks, in its order: the permission, the plan
        (disconnecting stays possible on any plan), then the limit or the row."""
        if action == "disconnect":
            return first(
                permission(self.admin, "disconnect blueprints from playbooks"),
                NOTHING_SELECTED if self.selected() is None else None,
            )
        if action != "connect":
            return None
        doing = "connect blueprints to playbooks"
        pb = self.page.detail.playbook if self.page.detail is not None else None
        return first(
            permission(self.admin, doing),
            playbooks_plan(self.admin, doing),
            limit(
                limit_refusal(
                    pb.connected_count,
                    pb.limit_connected_blueprints,
                    "connected blueprints",
                    holder=repr(pb.name),
                    remedy="disconnect one",
                )
            )
            if pb is not None
            else None,
        )

    @on(FilterTable.Opened)
    async def open_mappings(self, event: FilterTable.Opened) -> None:
        """Enter on a connection: its fields on the Mappings tab."""
        event.stop()
        await self.page.show_mappings_of(int(event.key))

    def action_connect(self) -> None:
        if self.refused("connect"):
            return
        # The blueprints it could connect to, read now (in a worker), then the picker.
        read_then(
            self,
            playbooks.connectable,
            self.admin.store,
            self.admin.actor.account_id,
            self.page.playbook_id,
            on_done=self._pick_to_connect,
        )

    def _pick_to_connect(self, choices: list[BlueprintInfo]) -> None:
        store, actor = self.admin.store, self.admin.actor
        if not choices:
            self.notify(
                "No blueprint left to connect: every blueprint of an enabled integration is "
                "connected already. Enable an integration in the Marketplace "
                f"({key_for(self.app, self, 'go.marketplace')}) or create a custom blueprint.",
                severity="warning",
            )
            return

        def picked(key: str | None) -> None:
            if not key or key == NONE:
                return

            def saved(c) -> None:
                extra = (
                    f"; {plural(c.missing_required_count, 'required field')} to map"
                    if c.missing_required_count
                    else ""
                )
                self.notify(f"Blueprint {c.blueprint_name!r} connected{extra}.")
                self.page.reload(select=str(c.blueprint_id))
                self.focus_main()

            self.admin.save(
                playbooks.connect, store, actor, self.page.playbook_id, int(key), on_done=saved
            )

        self.app.push_screen(
            PickerDialog(
                "Connect a blueprint",
                ("Blueprint", "Integration", "Fields", "Required"),
                [
                    Row(
                        str(b.id),
                        (b.name, b.integration_name, str(b.field_count), str(b.required_count)),
                    )
                    for b in choices
                ],
            ),
            picked,
        )

    def action_disconnect(self) -> None:
        c = self.selected()
        if c is None or self.refused("disconnect"):
            return
        # The mappings it removes, as the page's last load counted them (the store
        # refuses the change if the count is different by then: someone changed it).
        n = c.mapped_count
        message = (
            f"{plural(n, 'mapping')} from {c.blueprint_name!r} to this playbook's data fields "
            f"will be removed."
            if n
            else f"{c.blueprint_name!r} has no mappings here."
        )
        message += " The data fields and the blueprint stay."

        def answered(yes: bool | None) -> None:
            if not yes:
                return

            def saved(removed) -> None:
                self.notify(
                    f"Blueprint {c.blueprint_name!r} disconnected; "
                    f"{plural(removed, 'mapping')} removed."
                )
                self.page.reload()

            self.admin.save(
                playbooks.disconnect,
                self.admin.store,
                self.admin.actor,
                self.page.playbook_id,
                c.blueprint_id,
                expected_mappings=n,
                on_done=saved,
                on_error=lambda _exc: self.page.reload(),
            )

        self.app.push_screen(
            ConfirmDialog(
                f"Disconnect {c.blueprint_name} and remove {plural(n, 'mapping')}?",
                message,
                yes="Disconnect",
            ),
            answered,
        )
