"""The Integration blueprints tab: list, create, edit, delete, open."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Static

from store import accounts, blueprints
from store.blueprints import BlueprintInfo
from store.errors import DomainError
from store.refusals import (
    NATIVE_BLUEPRINTS,
    blueprint_delete_refusal,
    limit_refusal,
    native_integration_refusal,
    read_only_blueprint_refusal,
)
from store.values import AccountInfo, IntegrationInfo
from tui.dialogs.confirm import ConfirmDialog
from tui.dialogs.form import FormDialog, FormField
from tui.format import day, plural
from tui.keys import key_for
from tui.refusing import (
    NOTHING_SELECTED,
    Refusal,
    Refuses,
    first,
    for_now,
    limit,
    permission,
    read_only,
    suspended,
)
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


# The playbooks a blueprint is connected to are named when `d` is pressed (one read).
_CONNECTED = Refusal("")
DOING = {"new": "create blueprints", "edit": "change blueprints", "delete": "delete blueprints"}


class BlueprintsTab(Refuses, TabContent):
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
        self.integration_name = ""
        self.suspended = ""  # the store's words when the plan suspends the integration
        self.usage = (0, 0)  # custom blueprints of the account: used, limit

    def compose(self) -> ComposeResult:
        yield Static("", id="usage", classes="usage")
        yield FilterTable(
            ("Blueprint", "Fields", "Required", "Playbooks", "Created"),
            id="blueprints",
        )

    def load(self) -> tuple[IntegrationInfo, list[BlueprintInfo], AccountInfo]:
        store, actor = self.admin.store, self.admin.actor
        return (
            self.integration_info(self.integration_id),
            blueprints.for_integration(store, actor.account_id, self.integration_id),
            accounts.account_info(store, actor.account_id),
        )

    _shown: tuple[IntegrationInfo, list[BlueprintInfo], AccountInfo] | None = None

    def show(self, data: tuple[IntegrationInfo, list[BlueprintInfo], AccountInfo]) -> None:
        self._shown = data
        info, self.items, account = data
        info = self.on_plan(info, account.plan)
        select = self.select_after
        self.native = info.native
        self.integration_name = info.name
        self.suspended = info.suspended
        self.usage = (account.custom_blueprints, account.limit_custom_blueprints)
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
        self.refresh_bindings()

    def selected(self) -> BlueprintInfo | None:
        return self.query_one(FilterTable).selected_item

    @on(FilterTable.Opened)
    def open_blueprint(self, event: FilterTable.Opened) -> None:
        from tui.screens.blueprint import BlueprintScreen

        self.app.push_screen(BlueprintScreen(int(event.key)))

    def refusal(self, action: str) -> Refusal | None:
        """The store's checks, in its order: the permission, a native
        integration's blueprints (read-only), the plan, then the limit or the
        row (connected to playbooks)."""
        doing = DOING.get(action)
        if doing is None:
            return None
        if action == "new":
            return first(
                permission(self.admin, doing),
                read_only(
                    native_integration_refusal(
                        self.integration_name, self.native, NATIVE_BLUEPRINTS
                    )
                ),
                suspended(self.suspended),
                limit(limit_refusal(*self.usage, "custom blueprints")),
            )
        bp = self.selected()
        return first(
            permission(self.admin, doing),
            read_only(
                read_only_blueprint_refusal(bp.name, bp.native)
                if bp is not None
                else native_integration_refusal(
                    self.integration_name, self.native, NATIVE_BLUEPRINTS
                )
            ),
            suspended(self.suspended),
            NOTHING_SELECTED if bp is None else None,
            _CONNECTED if action == "delete" and bp is not None and bp.playbook_count else None,
        )

    def refusal_now(self, action: str) -> Refusal | None:
        found = self.refusal(action)
        bp = self.selected()
        if found is not _CONNECTED or bp is None:
            return found
        try:
            detail = blueprints.detail(self.admin.store, self.admin.actor.account_id, bp.id)
        except DomainError as exc:
            return for_now(str(exc))
        return for_now(blueprint_delete_refusal(bp.name, detail.playbooks))

    def action_new(self) -> None:
        if self.refused("new"):
            return

        def created(bp: BlueprintInfo | None) -> None:
            if bp is not None:
                self.notify(f"Blueprint {bp.name!r} created.")
                self.show_own_change(bp)
                self.focus_main()

        self.app.push_screen(blueprint_form(self.admin, self.integration_id), created)

    def show_own_change(self, bp: BlueprintInfo) -> None:
        """The blueprint as its change (a create or an edit) returned it, put in
        the list without reading it again when no one else changed anything
        meanwhile; else the list is read again."""

        def apply() -> None:
            assert self._shown is not None
            info, items, account = self._shown
            # Created: not in the list yet (nor in a load that read after it).
            new = all(b.id != bp.id for b in items)
            items = sorted([*(b for b in items if b.id != bp.id), bp], key=lambda b: b.list_key)
            used = account.custom_blueprints + (1 if new else 0)
            self.select_after = str(bp.id)
            try:
                self.show((info, items, replace(account, custom_blueprints=used)))
            finally:
                self.select_after = None

        if self._shown is None or not self.applied_own_change(apply):
            self.reload(select=str(bp.id))

    def action_edit(self) -> None:
        bp = self.selected()
        if bp is None or self.refused("edit"):
            return

        def saved(new: BlueprintInfo | None) -> None:
            if new is not None:
                self.show_own_change(new)

        self.app.push_screen(blueprint_form(self.admin, self.integration_id, bp), saved)

    def action_delete(self) -> None:
        bp = self.selected()
        if bp is None or self.refused("delete"):
            return

        def answered(yes: bool | None) -> None:
            if not yes:
                return

            def saved(_result: object) -> None:
                self.notify(f"Blueprint {bp.name!r} deleted.")
                self.reload()

            self.admin.save(
                blueprints.delete, self.admin.store, self.admin.actor, bp.id, on_done=saved
            )

        self.app.push_screen(
            ConfirmDialog(
                f"Delete the blueprint {bp.name}?",
                f"{bp.name!r} and its {plural(bp.field_count, 'field')} will be deleted. "
                "This cannot be undone.",
                yes="Delete",
            ),
            answered,
        )
