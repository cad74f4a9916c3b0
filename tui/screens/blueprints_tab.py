"""The Integration blueprints tab: list, create, edit, delete, open."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Static

from store import accounts, blueprints, integrations
from store.blueprints import BlueprintInfo
from store.errors import DomainError
from tui.dialogs.confirm import ConfirmDialog
from tui.dialogs.form import FormDialog, FormField
from tui.format import day, plural
from tui.keys import key_for
from tui.screens.tabs import TabContent
from tui.widgets.filter_table import FilterTable, Row


def blueprint_form(admin, integration_id: int, bp: BlueprintInfo | None = None) -> FormDialog:
    def submit(v: dict[str, Any]) -> BlueprintInfo:
        if bp is None:
            return blueprints.create(
                admin.store,
                admin.actor,
                integration_id,
                name=v["name"],
                description=v["description"],
            )
        return blueprints.update(
            admin.store,
            admin.actor,
            bp.id,
            name=v["name"],
            description=v["description"],
            version=bp.version,
        )

    return FormDialog(
        "Create integration blueprint" if bp is None else f"Edit blueprint {bp.name}",
        [
            FormField(
                "name",
                "Name",
                value=bp.name if bp else "",
                placeholder="e.g. Order data",
                help="1-100 characters, unique",
            ),
            FormField(
                "description",
                "Description",
                value=bp.description if bp else "",
                placeholder="What the integration uses it for",
            ),
        ],
        submit,
    )


class BlueprintsTab(TabContent):
    BINDINGS = [
        Binding("n", "new", "New blueprint", id="blueprints.new"),
        Binding("e", "edit", "Edit", id="blueprints.edit"),
        Binding("d", "delete", "Delete", id="blueprints.delete"),
    ]

    def __init__(self, integration_id: int) -> None:
        super().__init__()
        self.integration_id = integration_id
        self.items: list[BlueprintInfo] = []
        self.native = False
        self.suspended = ""  # the store's words when the plan suspends the integration

    def compose(self) -> ComposeResult:
        yield Static("", id="usage", classes="usage")
        yield FilterTable(
            ("Blueprint", "Fields", "Required", "Playbooks", "Created"),
            id="blueprints",
        )

    def on_mount(self) -> None:
        self.reload()

    def reload(self, select: str | None = None) -> None:
        store, actor = self.admin.store, self.admin.actor
        try:
            info = integrations.get(store, actor.account_id, self.integration_id)
            self.items = blueprints.for_integration(store, actor.account_id, self.integration_id)
            account = accounts.account_info(store, actor.account_id)
        except DomainError as exc:
            self.admin.report(exc)
            return
        self.native = info.native
        self.suspended = info.suspended
        usage = self.query_one("#usage", Static)
        if info.native:
            usage.update(Text(f"Synced automatically from {info.name}; read-only here."))
            usage.set_class(False, "-full")
        else:
            used, limit = account.custom_blueprints, account.limit_custom_blueprints
            usage.update(Text(f"Custom blueprints {used}/{limit}"))
            usage.set_class(used >= limit, "-full")
        table = self.query_one(FilterTable)
        new = key_for(self.app, self, "blueprints.new")
        table.empty_text = f"No blueprints yet: press {new} to create one."
        table.set_rows(
            [
                Row(
                    str(b.id),
                    (
                        b.name,
                        str(b.field_count),
                        str(b.required_count),
                        str(b.playbook_count),
                        f"{day(b.created_at)} by {b.created_by}",
                    ),
                    item=b,
                )
                for b in self.items
            ],
            select=select,
        )

    def selected(self) -> BlueprintInfo | None:
        return self.query_one(FilterTable).selected_item

    @on(FilterTable.Opened)
    def open_blueprint(self, event: FilterTable.Opened) -> None:
        from tui.screens.blueprint import BlueprintScreen

        self.app.push_screen(BlueprintScreen(int(event.key)))

    def _custom_only(self, doing: str) -> bool:
        if self.native:
            self.notify(
                f"Cannot {doing} here: native blueprints are synced from the integration. "
                "Custom blueprints belong to the Custom integration.",
                severity="warning",
            )
            return False
        return self.admin.may_manage(doing) and not self.admin.refused_by_plan(self.suspended)

    def action_new(self) -> None:
        if not self._custom_only("create blueprints"):
            return

        def created(bp: BlueprintInfo | None) -> None:
            if bp is not None:
                self.notify(f"Blueprint {bp.name!r} created.")
                self.reload(select=str(bp.id))
                self.focus_main()

        self.app.push_screen(blueprint_form(self.admin, self.integration_id), created)

    def action_edit(self) -> None:
        bp = self.selected()
        if bp is None or not self._custom_only("change blueprints"):
            return

        def saved(new: BlueprintInfo | None) -> None:
            if new is not None:
                self.reload(select=str(new.id))

        self.app.push_screen(blueprint_form(self.admin, self.integration_id, bp), saved)

    def action_delete(self) -> None:
        bp = self.selected()
        if bp is None or not self._custom_only("delete blueprints"):
            return

        def answered(yes: bool | None) -> None:
            if not yes:
                return
            try:
                blueprints.delete(self.admin.store, self.admin.actor, bp.id)
            except DomainError as exc:
                self.admin.report(exc)
                return
            self.notify(f"Blueprint {bp.name!r} deleted.")
            self.reload()

        self.app.push_screen(
            ConfirmDialog(
                f"Delete the blueprint {bp.name}?",
                f"{bp.name!r} and its {plural(bp.field_count, 'field')} will be deleted. "
                "This cannot be undone.",
                yes="Delete",
            ),
            answered,
        )
