"""A playbook's page: 1 Data fields, 2 Connected blueprints, 3 Mappings (one
module each beside this one).

The page loads the playbook once per refresh (``load_own``, in a worker:
``playbooks.detail``, four queries whatever the size) and hands the same value
to every tab; each tab fills its table in one call, on the UI thread, with no
store call. A tab is built the first time it is shown (``build_tab``), by a
key, a click or the code: a hidden table costs as much to mount as a shown one.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Header, Static

from store import playbooks
from store.playbooks import FromBlueprintResult, PlaybookDetail
from tui.dialogs.confirm import ConfirmDialog
from tui.dialogs.picker import NONE, PickerDialog
from tui.format import page_title, plural
from tui.keys import key_for, tab_key
from tui.reading import read_then
from tui.refusing import Refusal, Refuses, first, permission, playbooks_plan
from tui.screens.playbook.connections import ConnectionsTab
from tui.screens.playbook.data_fields import DataFieldsTab
from tui.screens.playbook.mappings import MappingsTab
from tui.screens.playbook.tab import PlaybookTab
from tui.screens.tabs import TabbedScreen
from tui.widgets.filter_table import Row
from tui.widgets.footer import Footer
from tui.widgets.tabs import TabbedPanes, TabPane

# The tabs of a playbook, in order (keys 1..3).
TABS: list[tuple[str, str, type[PlaybookTab]]] = [
    ("data-fields", "Data fields", DataFieldsTab),
    ("connections", "Connected blueprints", ConnectionsTab),
    ("mappings", "Mappings", MappingsTab),
]


class PlaybookScreen(Refuses, TabbedScreen):
    DEFAULT_CSS = """
    PlaybookScreen #status { height: auto; max-height: 2; padding: 0 1; }
    PlaybookScreen #status.-complete { color: $text-success; }
    PlaybookScreen #status.-incomplete { color: $text-error; text-style: bold; }
    PlaybookScreen #status.-blocked { color: $text-warning; text-style: bold; }
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

    def __init__(self, playbook_id: int, *, tab: str = "data-fields", name: str = "") -> None:
        super().__init__()
        self.playbook_id = playbook_id
        self.initial_tab = tab
        self.known_name = name  # from the list that opened it: the title before the data
        self.detail: PlaybookDetail | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        title = page_title("Playbooks", self.known_name) if self.known_name else ""
        yield Static(Text(title), id="title", classes="section-title")
        yield Static("", id="usage", classes="usage")
        yield Static("", id="status")
        with TabbedPanes(initial=self.initial_tab):
            for pane_id, title, tab_class in TABS:
                with TabPane(title, id=pane_id):
                    # The tab shown first is built with the page (shown by on_mount);
                    # the others by build_tab, when first shown.
                    if pane_id == self.initial_tab:
                        yield tab_class(self)
        yield Footer()

    def on_mount(self) -> None:
        # Read when the screen is shown (its resume: BaseScreen), in a worker.
        tab = self.tab(self.initial_tab)
        if tab is not None:
            tab.focus_main()

    def load_own(self) -> PlaybookDetail:
        """The playbook, in one store call (thread): every tab shows part of it."""
        return playbooks.detail(self.admin.store, self.admin.actor.account_id, self.playbook_id)

    def show_own(self, detail: PlaybookDetail) -> None:
        """Show the playbook on the page and on the visible tab."""
        self.detail = d = detail
        info = d.playbook
        self.refresh_bindings()
        self.query_one("#title", Static).update(Text(page_title("Playbooks", info.name)))
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
        shown = self.tab(self.query_one(TabbedPanes).active)
        if shown is not None:
            shown.present(d, self.select_after)

    def tab(self, pane_id: str) -> PlaybookTab | None:
        """The content of a tab, or None while it has never been shown."""
        found = self.query_one(TabbedPanes).get_pane(pane_id).query(PlaybookTab)
        return found.first() if found else None

    def tab_built(self, pane_id: str) -> bool:
        return self.tab(pane_id) is not None

    async def build_tab(self, pane_id: str) -> bool:
        """Build a tab's content the first time it is shown (awaited, so the
        keys typed next, ``2`` then ``n``, reach that tab); whether it was built
        now. It is filled by whoever shows it (``show_tab``)."""
        if self.tab(pane_id) is not None:
            return False
        tab_class = next(c for pid, _, c in TABS if pid == pane_id)
        await self.query_one(TabbedPanes).get_pane(pane_id).mount(tab_class(self))
        return True

    def show_tab(self, pane_id: str, *, refresh: bool = True, select: str | None = None) -> None:
        """Show a built tab: with ``refresh``, read the playbook again (someone
        may have changed it: in a worker, the tab filled when it arrives), else
        show what the page holds."""
        self.query_one(TabbedPanes).active = pane_id
        tab = self.tab(pane_id)
        if tab is None:
            return
        if refresh:
            self.reload(select)
        elif self.detail is not None:
            tab.present(self.detail, select)
        tab.focus_main()

    async def on_tabbed_panes_tab_activated(self, event: TabbedPanes.TabActivated) -> None:
        # A click on a tab's title (a key or the code built and filled it already,
        # or builds it after showing its title: ``open_tab``).
        pane_id = event.pane.id or ""
        if pane_id == self.titled_first:
            return
        await self.build_tab(pane_id)
        tab = self.tab(pane_id)
        if tab is not None and self.detail is not None:
            tab.present(self.detail)

    async def show_mappings_of(self, blueprint_id: int) -> None:
        """The Mappings tab, on the first field of ``blueprint_id``."""
        await self.build_tab("mappings")
        d = self.detail
        first = next((r for r in d.mappings if r.blueprint_id == blueprint_id), None) if d else None
        self.show_tab("mappings", refresh=False, select=str(first.field_id) if first else None)

    # -- create data fields from a blueprint ---------------------------------------

    def refusal(self, action: str) -> Refusal | None:
        if action != "fields_from_blueprint":
            return None
        return first(
            permission(self.admin, "create data fields"),
            playbooks_plan(self.admin, "create data fields"),
        )

    def action_fields_from_blueprint(self) -> None:
        d = self.detail
        if d is None or self.refused("fields_from_blueprint"):
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
        """What creating data fields from the blueprint would do, read now (in a
        worker: ``read_then``), then the confirmation that says it."""
        read_then(
            self,
            playbooks.preview_from_blueprint,
            self.admin.store,
            self.admin.actor,
            self.playbook_id,
            blueprint_id,
            on_done=lambda plan: self._confirm_from(blueprint_id, plan),
        )

    def _confirm_from(self, blueprint_id: int, plan: FromBlueprintResult) -> None:
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
                self.admin.save(
                    playbooks.create_data_fields_from_blueprint,
                    self.admin.store,
                    self.admin.actor,
                    self.playbook_id,
                    blueprint_id,
                    on_done=self._created_from,
                    on_error=lambda _exc: self.reload(),
                )

        self.app.push_screen(
            ConfirmDialog(
                f"Create data fields from {plan.blueprint_name}?",
                "\n".join(lines),
                yes="Create",
                danger=False,
            ),
            answered,
        )

    async def _created_from(self, res: FromBlueprintResult) -> None:
        parts = [f"{plural(len(res.created), 'data field')} created and mapped"]
        if res.mapped_to_existing:
            parts.append(f"{len(res.mapped_to_existing)} mapped to existing data fields")
        if res.skipped:
            parts.append(f"{len(res.skipped)} left unmapped")
        self.notify(f"From {res.blueprint_name!r}: " + "; ".join(parts) + ".")
        await self.build_tab("data-fields")
        self.show_tab(
            "data-fields", select=str(res.data_field_ids[0]) if res.data_field_ids else None
        )
