"""A playbook's page: 1 Data fields, 2 Connected blueprints, 3 Mappings.

The page loads the playbook once per refresh (``playbooks.detail``: four
queries whatever the size) and hands the same value to every tab; each tab
fills its table in one call.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Header, Static

from store import playbooks
from store.errors import DomainError
from store.playbooks import (
    ConnectionInfo,
    DataFieldInfo,
    FromBlueprintResult,
    MappingRow,
    PlaybookDetail,
)
from tui.dialogs.confirm import ConfirmDialog
from tui.dialogs.form import FormDialog, FormField
from tui.dialogs.picker import NONE, PickerDialog, best_match
from tui.format import plural
from tui.keys import key_for, tab_key
from tui.screens.tabs import TabbedScreen, TabContent
from tui.widgets.filter_table import FilterTable, Row
from tui.widgets.footer import Footer
from tui.widgets.tabs import TabbedPanes, TabPane


def missing_text() -> Text:
    return Text("missing (required)", style="bold red")


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


class _PageTab(TabContent):
    """A tab that shows part of the page's PlaybookDetail."""

    def __init__(self, page: PlaybookScreen) -> None:
        super().__init__()
        self.page = page
        self.shown: PlaybookDetail | None = None
        self._ready = False  # composed: its table exists
        self._fresh = False  # just built from the page's detail
        self._select_on_mount: str | None = None
        self._focus_on_mount = False

    def on_mount(self) -> None:
        # Mounted when its tab is first shown (PlaybookScreen.tab_content).
        self._ready = True
        self._fresh = True  # until the next refresh: see reload()
        self.call_after_refresh(setattr, self, "_fresh", False)
        if self.page.detail is not None:
            self.present(self.page.detail, self._select_on_mount)
        if self._focus_on_mount:
            self.focus_main()

    def reload(self) -> None:
        # Switching to a tab refreshes from the store (someone may have changed
        # it), except right after it was built from what the page just loaded.
        if self._fresh:
            self._fresh = False
            return
        self.page.reload()

    def present(self, detail: PlaybookDetail, select: str | None = None) -> None:
        """Fill the tab, unless it already shows exactly this: refilling hundreds
        of rows is the one visible cost, so it is skipped when the store
        returned the same value."""
        if not self._ready:
            self._select_on_mount = select  # shown by on_mount
            return
        if select is None and detail == self.shown:
            return
        self.shown = detail
        self.show(detail, select)

    def focus_main(self) -> None:
        if not self._ready:
            self._focus_on_mount = True
            return
        super().focus_main()

    def show(self, detail: PlaybookDetail, select: str | None = None) -> None:
        raise NotImplementedError


class DataFieldsTab(_PageTab):
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
            (key_for(self.app, PlaybookScreen, "playbook.from_blueprint"), "bold reverse"),
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

    def selected(self) -> DataFieldInfo | None:
        return self.query_one(FilterTable).selected_item

    def action_new(self) -> None:
        if not self.admin.may_change_playbooks("add data fields"):
            return

        def created(f: DataFieldInfo | None) -> None:
            if f is not None:
                self.notify(f"Data field {f.name!r} added.")
                self.page.reload(select=str(f.id))
                self.focus_main()

        self.app.push_screen(data_field_form(self.admin, self.page.playbook_id), created)

    def action_edit(self) -> None:
        f = self.selected()
        if f is None or not self.admin.may_change_playbooks("change data fields"):
            return

        def saved(new: DataFieldInfo | None) -> None:
            if new is not None:
                self.page.reload(select=str(new.id))

        self.app.push_screen(data_field_form(self.admin, self.page.playbook_id, f), saved)

    def action_delete(self) -> None:
        f = self.selected()
        if f is None or not self.admin.may_manage("delete data fields"):
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
            try:
                playbooks.delete_data_field(
                    self.admin.store, self.admin.actor, f.id, expected_mappings=n
                )
            except DomainError as exc:
                self.admin.report(exc)
                self.page.reload()
                return
            self.notify(f"Data field {f.name!r} deleted.")
            self.page.reload()

        self.app.push_screen(
            ConfirmDialog(f"Delete the data field {f.name}?", message, yes="Delete"), answered
        )


def _connection_status(c: ConnectionInfo) -> Text:
    if not c.integration_enabled:
        return Text("integration disabled", style="yellow")
    if c.missing_required_count:
        return Text(f"{c.missing_required_count} missing", style="bold red")
    return Text("complete", style="green")


class ConnectionsTab(_PageTab):
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

    def selected(self) -> ConnectionInfo | None:
        return self.query_one(FilterTable).selected_item

    @on(FilterTable.Opened)
    async def open_mappings(self, event: FilterTable.Opened) -> None:
        """Enter on a connection: its fields on the Mappings tab."""
        event.stop()
        await self.page.show_mappings_of(int(event.key))

    def action_connect(self) -> None:
        if not self.admin.may_change_playbooks("connect blueprints"):
            return
        d = self.page.detail
        if d is not None and d.playbook.connected_count >= d.playbook.limit_connected_blueprints:
            used, limit = d.playbook.connected_count, d.playbook.limit_connected_blueprints
            self.notify(
                f"{d.playbook.name!r} already has {used} of {limit} connected blueprints: "
                "disconnect one or ask your operator to raise the limit.",
                title="Limit reached",
                severity="error",
            )
            return
        store, actor = self.admin.store, self.admin.actor
        try:
            choices = playbooks.connectable(store, actor.account_id, self.page.playbook_id)
        except DomainError as exc:
            self.admin.report(exc)
            return
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
            try:
                c = playbooks.connect(store, actor, self.page.playbook_id, int(key))
            except DomainError as exc:
                self.admin.report(exc)
                return
            extra = (
                f"; {plural(c.missing_required_count, 'required field')} to map"
                if c.missing_required_count
                else ""
            )
            self.notify(f"Blueprint {c.blueprint_name!r} connected{extra}.")
            self.page.reload(select=str(c.blueprint_id))
            self.focus_main()

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
        if c is None or not self.admin.may_manage("disconnect blueprints"):
            return
        try:
            n = playbooks.mappings_count(self.admin.store, self.page.playbook_id, c.blueprint_id)
        except DomainError as exc:
            self.admin.report(exc)
            return
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
            try:
                removed = playbooks.disconnect(
                    self.admin.store,
                    self.admin.actor,
                    self.page.playbook_id,
                    c.blueprint_id,
                    expected_mappings=n,
                )
            except DomainError as exc:
                self.admin.report(exc)
                self.page.reload()
                return
            self.notify(
                f"Blueprint {c.blueprint_name!r} disconnected; "
                f"{plural(removed, 'mapping')} removed."
            )
            self.page.reload()

        self.app.push_screen(
            ConfirmDialog(
                f"Disconnect {c.blueprint_name} and remove {plural(n, 'mapping')}?",
                message,
                yes="Disconnect",
            ),
            answered,
        )


class MappingsTab(_PageTab):
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
                        Text(r.field_name, style="bold red") if r.missing else r.field_name,
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
            try:
                new = playbooks.set_mapping(
                    self.admin.store, self.admin.actor, self.page.playbook_id, row.field_id, target
                )
            except DomainError as exc:
                self.admin.report(exc)
                return
            label = f"{new.blueprint_name} / {new.field_name}"
            if new.data_field_name is None:
                self.notify(f"{label} is no longer mapped.")
            else:
                self.notify(f"{label} -> {new.data_field_name}")
            self.page.reload(select=str(row.field_id))
            self.focus_main()

        if not rows and row.data_field_id is None:
            self.notify(
                f"This playbook has no data fields yet: add one on tab {tab_key(self.app, 1)} "
                f"({key_for(self.app, DataFieldsTab, 'data_fields.new')}), or press "
                f"{key_for(self.app, PlaybookScreen, 'playbook.from_blueprint')} to create them "
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


# The tabs of a playbook, in order (keys 1..3).
TABS: list[tuple[str, str, Callable[[PlaybookScreen], _PageTab]]] = [
    ("data-fields", "Data fields", DataFieldsTab),
    ("connections", "Connected blueprints", ConnectionsTab),
    ("mappings", "Mappings", MappingsTab),
]


class PlaybookScreen(TabbedScreen):
    DEFAULT_CSS = """
    PlaybookScreen #status { height: auto; max-height: 2; padding: 0 1; }
    PlaybookScreen #status.-complete { color: $success; }
    PlaybookScreen #status.-incomplete { color: $error; text-style: bold; }
    PlaybookScreen #status.-blocked { color: $warning; text-style: bold; }
    """
    BINDINGS = [
        Binding(
            "f",
            "fields_from_blueprint",
            "From blueprint",
            id="playbook.from_blueprint",
            tooltip="Create data fields from the unmapped fields of a connected blueprint",
        ),
    ]

    def __init__(self, playbook_id: int, *, tab: str = "data-fields") -> None:
        super().__init__()
        self.playbook_id = playbook_id
        self.initial_tab = tab
        self.detail: PlaybookDetail | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="title", classes="section-title")
        yield Static("", id="usage", classes="usage")
        yield Static("", id="status")
        with TabbedPanes(initial=self.initial_tab):
            for pane_id, title, factory in TABS:
                with TabPane(title, id=pane_id):
                    # Only the visible tab's table is built now; the others when
                    # first shown: a hidden table costs as much to mount as a shown one.
                    if pane_id == self.initial_tab:
                        yield factory(self)
        yield Footer()

    def on_mount(self) -> None:
        self.reload()
        self.active_tab().focus_main()

    def reload(self, select: str | None = None) -> None:
        """Load the playbook (one store call) and show it on the visible tab."""
        try:
            self.detail = playbooks.detail(
                self.admin.store, self.admin.actor.account_id, self.playbook_id
            )
        except DomainError as exc:
            self.admin.report(exc)
            return
        d = self.detail
        info = d.playbook
        self.query_one("#title", Static).update(Text(f"Playbooks › {info.name}"))
        usage = self.query_one("#usage", Static)
        usage.update(
            Text(
                f"Data fields {info.data_field_count}/{info.limit_data_fields} · "
                f"Connected blueprints {info.connected_count}/{info.limit_connected_blueprints}"
            )
        )
        usage.set_class(
            info.data_field_count >= info.limit_data_fields
            or info.connected_count >= info.limit_connected_blueprints,
            "-full",
        )
        status = self.query_one("#status", Static)
        c = d.completeness  # the store's words: complete, what is missing, what it depends on
        if not d.connections:
            status.update(Text("Complete: no blueprint connected yet."))
        else:
            status.update(Text(c.summary, overflow="ellipsis"))
        status.set_class(c.complete, "-complete")
        status.set_class(bool(c.missing) and not c.disabled, "-incomplete")
        status.set_class(bool(c.disabled), "-blocked")
        # Only the visible tab is filled now; the others when they are shown.
        self.active_tab().present(d, select)

    def active_tab(self) -> _PageTab:
        return self.tab_content(self.query_one(TabbedPanes).active)

    async def build_tab(self, pane_id: str) -> None:
        """Mount a tab's content before showing it, from a key: the keys typed
        next (``2`` then ``n``) wait for it, so they reach that tab."""
        pane = self.query_one(TabbedPanes).get_pane(pane_id)
        if not pane.query(_PageTab):
            await pane.mount(next(f for pid, _, f in TABS if pid == pane_id)(self))

    async def action_tab(self, n: int) -> None:
        ids = self.tab_ids()
        if 1 <= n <= len(ids):
            await self.build_tab(ids[n - 1])
        super().action_tab(n)

    async def action_tab_step(self, step: int) -> None:
        ids = self.tab_ids()
        if ids:
            current = self.query_one(TabbedPanes).active
            i = ids.index(current) if current in ids else 0
            await self.build_tab(ids[(i + step) % len(ids)])
        super().action_tab_step(step)

    def tab_content(self, pane_id: str) -> _PageTab:
        """The content of a tab, mounted on first use (it then shows ``detail``)."""
        pane = self.query_one(TabbedPanes).get_pane(pane_id)
        found = pane.query(_PageTab)
        if found:
            return found.first()
        factory = next(f for pid, _, f in TABS if pid == pane_id)
        tab = factory(self)
        pane.mount(tab)
        return tab

    def on_tabbed_panes_tab_activated(self, event: TabbedPanes.TabActivated) -> None:
        tab = self.active_tab()  # mounts it the first time
        super().on_tabbed_panes_tab_activated(event)
        if self.detail is not None:
            tab.present(self.detail)

    async def show_mappings_of(self, blueprint_id: int) -> None:
        """The Mappings tab, on the first field of ``blueprint_id``."""
        await self.build_tab("mappings")
        self.query_one(TabbedPanes).active = "mappings"
        tab = self.tab_content("mappings")
        if self.detail is not None:
            first = next((r for r in self.detail.mappings if r.blueprint_id == blueprint_id), None)
            tab.present(self.detail, select=str(first.field_id) if first else None)
        tab.focus_main()

    # -- create data fields from a blueprint ---------------------------------------

    def action_fields_from_blueprint(self) -> None:
        d = self.detail
        if d is None or not self.admin.may_change_playbooks("create data fields"):
            return
        if not d.connections:
            self.notify(
                f"Connect a blueprint first (tab {tab_key(self.app, 2)}, "
                f"{key_for(self.app, ConnectionsTab, 'connections.new')}): "
                "data fields are created from its fields.",
                severity="warning",
            )
            return
        unmapped = [c for c in d.connections if c.mapped_count < c.field_count]
        candidates = [c for c in unmapped if c.read_only_reason is None]
        if not candidates:
            if unmapped:  # only blueprints of disabled integrations have unmapped fields
                reason = unmapped[0].read_only_reason or ""
                self.notify(reason, title="Read-only", severity="warning")
            else:
                self.notify("Every field of every connected blueprint is mapped already.")
            return
        if len(candidates) == 1:
            self._preview(candidates[0].blueprint_id)
            return

        def picked(key: str | None) -> None:
            if key and key != NONE:
                self._preview(int(key))

        self.app.push_screen(
            PickerDialog(
                "Create data fields from which blueprint?",
                ("Blueprint", "Integration", "Unmapped fields"),
                [
                    Row(
                        str(c.blueprint_id),
                        (c.blueprint_name, c.integration_name, str(c.field_count - c.mapped_count)),
                    )
                    for c in candidates
                ],
            ),
            picked,
        )

    def _preview(self, blueprint_id: int) -> None:
        store, actor = self.admin.store, self.admin.actor
        try:
            plan = playbooks.preview_from_blueprint(store, actor, self.playbook_id, blueprint_id)
        except DomainError as exc:
            self.admin.report(exc)
            return
        if not plan.changed:
            self.notify(
                f"Nothing to create from {plan.blueprint_name!r}: "
                + (
                    f"{plural(len(plan.skipped), 'field')} cannot be mapped automatically "
                    f"({', '.join(plan.skipped)}): a data field of that name already receives "
                    "a field of this blueprint."
                    if plan.skipped
                    else "every field is mapped."
                ),
                severity="warning",
            )
            return
        lines = []
        if plan.created:
            lines.append(
                f"Creates {plural(len(plan.created), 'data field')} and maps them: "
                + ", ".join(plan.created)
                + "."
            )
        if plan.mapped_to_existing:
            lines.append(
                "Maps to the existing data field of the same name: "
                + ", ".join(plan.mapped_to_existing)
                + "."
            )
        if plan.skipped:
            lines.append(
                "Leaves unmapped (a data field of that name already receives a field of this "
                "blueprint): " + ", ".join(plan.skipped) + "."
            )

        def answered(yes: bool | None) -> None:
            if yes:
                self._create_from(blueprint_id)

        self.app.push_screen(
            ConfirmDialog(
                f"Create data fields from {plan.blueprint_name}?",
                "\n".join(lines),
                yes="Create",
                danger=False,
            ),
            answered,
        )

    def _create_from(self, blueprint_id: int) -> None:
        try:
            res: FromBlueprintResult = playbooks.create_data_fields_from_blueprint(
                self.admin.store, self.admin.actor, self.playbook_id, blueprint_id
            )
        except DomainError as exc:
            self.admin.report(exc)
            self.reload()
            return
        parts = [f"{plural(len(res.created), 'data field')} created and mapped"]
        if res.mapped_to_existing:
            parts.append(f"{len(res.mapped_to_existing)} mapped to existing data fields")
        if res.skipped:
            parts.append(f"{len(res.skipped)} left unmapped")
        self.notify(f"From {res.blueprint_name!r}: " + "; ".join(parts) + ".")
        self.query_one(TabbedPanes).active = "data-fields"
        self.reload(select=str(res.data_field_ids[0]) if res.data_field_ids else None)
        self.tab_content("data-fields").focus_main()
