"""The Users view: login, name, role, the permission, last seen.

An owner adds a user (`n`), grants or withdraws the permission (`g`), changes
role and permission (`e`) and removes a user (`d`); never the last owner. Others
see the list read-only and are told why when they try.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Header, Static

from store import accounts, users
from store.accounts import Actor, UserInfo
from store.refusals import owner_permission_refusal, user_remove_refusal
from tui import colours
from tui.dialogs.confirm import ConfirmDialog
from tui.dialogs.form import FormDialog, FormField
from tui.format import minute, plural
from tui.refusing import NOTHING_SELECTED, Refusal, Refuses, first, for_now, owner
from tui.screens.base import BaseScreen
from tui.widgets.filter_table import FilterTable, Row
from tui.widgets.footer import Footer

ROLE_OPTIONS = (("Member", "member"), ("Owner", "owner"))


def add_form(admin) -> FormDialog:
    def submit(v: dict[str, Any]) -> UserInfo:
        return users.add(
            admin.store,
            admin.actor,
            v["login"],
            name=v["name"],
            role=v["role"],
            can_manage=bool(v["can_manage"]),
        )

    return FormDialog(
        "Add a user",
        [
            FormField(
                "login",
                "Login",
                placeholder="their operating-system login, e.g. jdoe",
                help="They open the program as themselves (for example over SSH).",
            ),
            FormField("name", "Name", placeholder="e.g. Jane Doe"),
            FormField("role", "Role", kind="select", value="member", options=ROLE_OPTIONS),
            FormField(
                "can_manage",
                f"{accounts.PERMISSION} (space toggles)",
                kind="checkbox",
                help="Owners always have it.",
            ),
        ],
        submit,
        confirm_label="Add",
    )


def edit_form(admin, u: UserInfo) -> FormDialog:
    def submit(v: dict[str, Any]) -> UserInfo:
        # One store call, one transaction: a refusal changes neither.
        return users.update(
            admin.store, admin.actor, u.login, role=v["role"], can_manage=bool(v["can_manage"])
        )

    return FormDialog(
        f"Edit user {u.login}",
        [
            FormField("role", "Role", kind="select", value=u.role, options=ROLE_OPTIONS),
            FormField(
                "can_manage",
                f"{accounts.PERMISSION} (space toggles)",
                kind="checkbox",
                value=u.can_manage,
                help="Owners always have it; a member keeps it when demoted unless unticked.",
            ),
        ],
        submit,
        confirm_label="Save",
        intro=f"{u.name} · last seen {minute(u.last_seen_at)}",
    )


class UsersScreen(Refuses, BaseScreen):
    help_title = "Users"
    BINDINGS = [
        Binding("n", "new", "Add user", id="users.new"),
        Binding("g", "toggle_permission", "Grant/Withdraw", id="users.grant"),
        Binding("e", "edit", "Edit", id="users.edit"),
        Binding("d", "remove", "Remove", id="users.remove"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.items: list[UserInfo] = []

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Users", classes="section-title")
        yield Static("", id="users-note", classes="usage")
        yield FilterTable(("Login", "Name", "Role", "Manage integrations", "Last seen"), id="users")
        yield Footer()

    def on_mount(self) -> None:
        # Read when the screen is shown (its resume: BaseScreen), in a worker.
        self.query_one(FilterTable).focus_table()

    def load(self) -> tuple[Actor, list[UserInfo]]:
        admin = self.admin
        actor = accounts.refresh_actor(admin.store, admin.actor)  # your role, as it is now
        return actor, accounts.list_users(admin.store, actor.account_id)

    def show(self, data: tuple[Actor, list[UserInfo]]) -> None:
        admin = self.admin
        admin.actor, self.items = data
        select = self.select_after
        owners = sum(1 for u in self.items if u.role == "owner")
        note = f"{plural(len(self.items), 'user')}, {plural(owners, 'owner')} · "
        if admin.actor.is_owner:
            note += "you are an owner: you manage users"
        else:
            note += "read-only: only an owner of the account manages users"
        self.query_one("#users-note", Static).update(Text(note))
        self.query_one(FilterTable).set_rows(
            [
                Row(
                    u.login,
                    (
                        u.login + (" (you)" if u.id == admin.actor.user_id else ""),
                        u.name,
                        u.role,
                        Text("yes", style=colours.style("good")) if u.can_manage else Text("no"),
                        minute(u.last_seen_at),
                    ),
                    search=f"{u.login} {u.name} {u.role}".lower(),
                    item=u,
                )
                for u in self.items
            ],
            select=select,
        )
        self.refresh_bindings()

    def selected(self) -> UserInfo | None:
        return self.query_one(FilterTable).selected_item

    def refusal(self, action: str) -> Refusal | None:
        """Only an owner manages users (the keys are hidden for the others);
        then the row: not yourself, not the last owner, an owner keeps the
        permission (the store's words)."""
        u = self.selected()
        if action == "new":
            return owner(self.admin, "add users")
        if action == "edit":
            return first(owner(self.admin, "change users"), None if u else NOTHING_SELECTED)
        if action == "toggle_permission":
            grant = not u.can_manage if u else True
            doing = "grant permissions" if grant else "withdraw permissions"
            if u is None:
                return first(owner(self.admin, doing), NOTHING_SELECTED)
            return first(
                owner(self.admin, doing),
                for_now(
                    owner_permission_refusal(u.login, is_owner=u.role == "owner", can_manage=grant)
                ),
            )
        if action == "remove":
            if u is None:
                return first(owner(self.admin, "remove users"), NOTHING_SELECTED)
            return first(
                owner(self.admin, "remove users"),
                for_now(
                    user_remove_refusal(
                        u.login,
                        is_yourself=u.id == self.admin.actor.user_id,
                        is_owner=u.role == "owner",
                        owners=sum(1 for x in self.items if x.role == "owner"),
                    )
                ),
            )
        return None

    def _done(self, message: str, select: str | None = None) -> None:
        self.notify(message)
        self.reload(select=select)

    def action_new(self) -> None:
        if self.refused("new"):
            return

        def added(u: UserInfo | None) -> None:
            if u is not None:
                self._done(f"Added {u.login} ({u.role}).", select=u.login)

        self.app.push_screen(add_form(self.admin), added)

    def action_edit(self) -> None:
        u = self.selected()
        if self.refused("edit") or u is None:
            return

        def saved(result: UserInfo | None) -> None:
            if result is not None:
                perm = "with" if result.can_manage else "without"
                self._done(
                    f"{result.login} is {result.role}, {perm} the permission.", select=u.login
                )

        self.app.push_screen(edit_form(self.admin, u), saved)

    def action_toggle_permission(self) -> None:
        u = self.selected()
        if self.refused("toggle_permission") or u is None:
            return
        grant = not u.can_manage

        def saved(_result: object) -> None:
            verb = "granted to" if grant else "withdrawn from"
            self._done(f"'{accounts.PERMISSION}' {verb} {u.login}.", select=u.login)

        self.admin.save(
            users.set_permission, self.admin.store, self.admin.actor, u.login, grant, on_done=saved
        )

    def action_remove(self) -> None:
        u = self.selected()
        if self.refused("remove") or u is None:
            return

        def answered(yes: bool | None) -> None:
            if not yes:
                return

            def saved(_result: object) -> None:
                self._done(f"Removed {u.login}.")

            self.admin.save(
                users.remove, self.admin.store, self.admin.actor, u.login, on_done=saved
            )

        self.app.push_screen(
            ConfirmDialog(
                f"Remove the user {u.login}?",
                f"{u.name} ({u.role}) will no longer be able to open the program on this "
                "account. What they did stays in the audit log. You can add them again later.",
                yes="Remove",
            ),
            answered,
        )

    @on(FilterTable.Opened)
    def _opened(self, event: FilterTable.Opened) -> None:
        self.action_edit()
