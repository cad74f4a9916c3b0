"""A blueprint's page: its fields and the playbooks connected to it."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Header, Static

from store import blueprints, playbooks, validate
from store.blueprints import BlueprintDetail, FieldInfo
from store.errors import DomainError
from store.refusals import read_only_blueprint_refusal
from tui.dialogs.confirm import ConfirmDialog
from tui.dialogs.form import FormDialog, FormField
from tui.format import day, plural
from tui.keys import key_for
from tui.reading import read_then
from tui.refusing import (
    NOTHING_SELECTED,
    Refusal,
    Refuses,
    first,
    permission,
    read_only,
    suspended,
)
from tui.screens.tabs import TabbedScreen, TabContent
from tui.widgets.filter_table import FilterTable, Row
from tui.widgets.footer import Footer
from tui.widgets.tabs import TabbedPanes, TabPane


class FieldForm(FormDialog):
    """The blueprint field form: before a field is saved as *mapping required*
    where that leaves playbooks with a missing mapping, it asks first, naming them."""

    def __init__(self, admin, blueprint_id: int, f: FieldInfo | None, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.admin = admin
        self.blueprint_id = blueprint_id
        self.field = f

    def action_confirm(self) -> None:
        v = self.values()
        if not v["mapping_required"] or (self.field is not None and self.field.mapping_required):
            super().action_confirm()
            return
        if self.saving is not None and not self.saving.done:
            return  # one save at a time, as the form's own confirm
        self.clear_errors()
        try:
            name = validate.name(v["name"])  # a bad name is said first, before asking
        except DomainError as exc:
            self.show_error(exc)
            return
        # The playbooks it would leave incomplete, read now (in a worker), then ask.
        read_then(
            self,
            playbooks.playbooks_made_incomplete,
            self.admin.store,
            self.admin.actor.account_id,
            self.blueprint_id,
            self.field.id if self.field else None,
            on_done=lambda names: self._ask_required(name, names),
            on_error=self.show_error,
        )

    def _ask_required(self, name: str, names: tuple[str, ...]) -> None:
        if not names:
            super().action_confirm()
            return

        def answered(yes: bool | None) -> None:
            if yes:
                super(FieldForm, self).action_confirm()

        listed = ", ".join(repr(n) for n in names)
        self.app.push_screen(
            ConfirmDialog(
                f"Make {name} required?",
                f"{name!r} is not mapped in {plural(len(names), 'playbook')} connected to this "
                f"blueprint: {listed}. Once required, it leaves "
                f"{'that playbook' if len(names) == 1 else 'them'} incomplete until it is "
                "mapped there.",
                yes="Make it required",
                danger=False,
            ),
            answered,
        )


def field_form(admin, blueprint_id: int, f: FieldInfo | None = None) -> FormDialog:
    def submit(v: dict[str, Any]) -> FieldInfo:
        if f is None:
            return blueprints.add_field(
                admin.store,
                admin.actor,
                blueprint_id,
                name=v["name"],
                description=v["description"],
                mapping_required=v["mapping_required"],
            )
        return blueprints.update_field(
            admin.store,
            admin.actor,
            f.id,
            name=v["name"],
            description=v["description"],
            mapping_required=v["mapping_required"],
            version=f.version,
        )

    return FieldForm(
        admin,
        blueprint_id,
        f,
        "Add an integration blueprint field" if f is None else f"Edit field {f.name}",
        [
            FormField("name", "Name", value=f.name if f else "", placeholder="e.g. Order number"),
            FormField("description", "Description", value=f.description if f else ""),
            FormField(
                "mapping_required",
                "Mapping required (space toggles)",
                kind="checkbox",
                value=f.mapping_required if f else False,
                help="A required field must be mapped to a data field in every playbook "
                "the blueprint is connected to.",
            ),
        ],
        submit,
    )


class FieldsTab(Refuses, TabContent):
    BINDINGS = [
        Binding("n", "new", "Add field", id="fields.new"),
        Binding("e", "edit", "Edit", id="fields.edit"),
        Binding("d", "delete", "Delete", id="fields.delete"),
    ]

    def __init__(self, page: BlueprintScreen) -> None:
        super().__init__()
        self.page = page

    def compose(self) -> ComposeResult:
        yield FilterTable(
            ("Field", "Required", "Description"),
            id="fields",
            empty=f"No fields yet: press {key_for(self.app, self, 'fields.new')} to add one.",
        )

    def show(self, detail: BlueprintDetail, select: str | None = None) -> None:
        self.query_one(FilterTable).set_rows(
            [
                Row(
                    str(f.id),
                    (f.name, "yes" if f.mapping_required else "no", f.description),
                    item=f,
                )
                for f in detail.fields
            ],
            select=select,
        )
        self.refresh_bindings()

    def selected(self) -> FieldInfo | None:
        return self.query_one(FilterTable).selected_item

    def refusal(self, action: str) -> Refusal | None:
        """The store's checks, in its order: the permission, a native
        blueprint (read-only), the plan, the row."""
        doing = {
            "new": "add blueprint fields",
            "edit": "change blueprint fields",
            "delete": "delete blueprint fields",
        }.get(action)
        detail = self.page.detail
        if doing is None or detail is None:
            return None
        bp = detail.blueprint
        return first(
            permission(self.admin, doing),
            read_only(read_only_blueprint_refusal(bp.name, bp.native)),
            suspended(bp.suspended),
            NOTHING_SELECTED if action != "new" and self.selected() is None else None,
        )

    def action_new(self) -> None:
        if self.refused("new"):
            return

        def created(f: FieldInfo | None) -> None:
            if f is not None:
                self.notify(f"Field {f.name!r} added.")
                self.page.reload(select=str(f.id))
                self.focus_main()

        self.app.push_screen(field_form(self.admin, self.page.blueprint_id), created)

    def action_edit(self) -> None:
        f = self.selected()
        if f is None or self.refused("edit"):
            return

        def saved(new: FieldInfo | None) -> None:
            if new is not None:
                self.page.reload(select=str(new.id))

        self.app.push_screen(field_form(self.admin, self.page.blueprint_id, f), saved)

    def action_delete(self) -> None:
        f = self.selected()
        if f is None or self.refused("delete"):
            return

        def answered(yes: bool | None) -> None:
            if not yes:
                return

            def saved(_result: object) -> None:
                self.notify(f"Field {f.name!r} deleted.")
                self.page.reload()

            self.admin.save(
                blueprints.delete_field, self.admin.store, self.admin.actor, f.id, on_done=saved
            )

        self.app.push_screen(
            ConfirmDialog(
                f"Delete the field {f.name}?",
                f"{f.name!r} will be deleted, with its mappings in every playbook.",
                yes="Delete",
            ),
            answered,
        )


class PlaybooksTab(TabContent):
    """The playbooks the blueprint is connected to; `enter` opens one."""

    def compose(self) -> ComposeResult:
        yield Static("", id="playbooks-hint", classes="hint")
        yield FilterTable(("Connected playbook",), id="connected", empty="")

    def show(self, detail: BlueprintDetail) -> None:
        n = len(detail.playbooks)
        self.query_one("#playbooks-hint", Static).update(
            Text(
                "Not connected to any playbook yet."
                if n == 0
                else f"Connected to {plural(n, 'playbook')} (enter opens one). A connected "
                "blueprint cannot be deleted until it is disconnected."
            )
        )
        self.query_one(FilterTable).set_rows(
            [
                Row(str(pid), (name,))
                for pid, name in zip(detail.playbook_ids, detail.playbooks, strict=True)
            ]
        )

    @on(FilterTable.Opened, "#connected")
    def open_playbook(self, event: FilterTable.Opened) -> None:
        event.stop()
        from tui.screens.playbook import PlaybookScreen

        self.app.push_screen(PlaybookScreen(int(event.key)))


class BlueprintScreen(TabbedScreen):
    def __init__(self, blueprint_id: int) -> None:
        super().__init__()
        self.blueprint_id = blueprint_id
        self.detail: BlueprintDetail | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="title", classes="section-title")
        yield Static("", id="summary", classes="hint")
        with TabbedPanes(initial="fields"):
            with TabPane("Integration blueprint fields", id="fields"):
                yield FieldsTab(self)
            with TabPane("Connected playbooks", id="playbooks"):
                yield PlaybooksTab()
        yield Footer()

    def on_mount(self) -> None:
        # Read when the screen is shown (its resume: BaseScreen), in a worker.
        self.query_one(FieldsTab).focus_main()

    def load_own(self) -> BlueprintDetail:
        """The blueprint with its fields and playbooks, in one store call (thread):
        both tabs show part of it."""
        return blueprints.detail(self.admin.store, self.admin.actor.account_id, self.blueprint_id)

    def show_own(self, detail: BlueprintDetail) -> None:
        self.detail = detail
        bp = detail.blueprint
        self.query_one("#title", Static).update(
            Text(f"Integrations › {bp.integration_name} › {bp.name}")
        )
        kind = "native, synced" if bp.native else "custom"
        summary = Text(f"{bp.description}\n" if bp.description else "")
        summary.append(
            f"{plural(bp.field_count, 'field')} "
            f"({bp.required_count} mapping required) · {kind} · "
            f"created {day(bp.created_at)} by {bp.created_by}"
        )
        self.query_one("#summary", Static).update(summary)
        self.query_one(FieldsTab).show(detail, self.select_after)
        self.query_one(PlaybooksTab).show(detail)
