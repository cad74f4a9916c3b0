"""The Account view: plan, what it includes, every limit with its usage, and
the account settings. Plan and limits are the operator's (command line), shown
read-only; the settings change with the permission *Manage add-ons and
integrations* (`e`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widget import Widget
from textual.widgets import Header, Static

from store import accounts, settings
from store.accounts import AccountOverview, Actor
from store.errors import ValidationError
from tui import colours
from tui.dialogs.form import FormDialog, FormField
from tui.format import plural
from tui.keys import key_for
from tui.refusing import Refusal, Refuses, permission
from tui.screens.base import BaseScreen
from tui.widgets.footer import Footer


def _grid() -> Table:
    t = Table.grid(padding=(0, 1))
    t.add_column(no_wrap=True, min_width=36)
    t.add_column()
    return t


def render_overview(
    ov: AccountOverview, *, may_change: bool, keys: Mapping[str, str] | None = None
) -> list[Text | Table]:
    """The account as renderables, section by section; ``keys``: the keys in
    force for the Users view (``users``) and the settings (``edit``)."""
    keys = keys or {"users": "u", "edit": "e"}
    info = ov.info
    out: list[Text | Table] = []
    head = Text()
    head.append(info.name, style="bold")
    head.append(f" · {info.plan} plan · {plural(ov.users, 'user')}")
    head.append(f" ({plural(ov.owners, 'owner')}, press {keys['users']})")
    out.append(head)

    plan = _grid()
    for f in ov.features:
        mark = (
            Text("✓ ", style=colours.style("good"))
            if f.included
            else Text("✗ ", style=colours.style("bad"))
        )
        plan.add_row(
            mark + Text(f.name, style="" if f.included else "dim"),
            Text("included" if f.included else f"needs {f.needs}", style="dim"),
        )
    out.append(Text("\nThe plan includes", style="bold"))
    out.append(plan)

    limits = _grid()
    for u in ov.limits:
        used = Text(
            f"{u.used}/{u.limit}", style=colours.style("warn", "bold") if u.full else "bold"
        )
        if u.per_playbook:
            used.append(f"  fullest: {u.where}" if u.where else "  no playbook yet", style="dim")
        limits.add_row(Text(u.label), used)
    out.append(Text("\nLimits (the operator sets plan and limits)", style="bold"))
    out.append(limits)

    prefs = _grid()
    prefs.add_row(Text("Webhook timeout"), Text(f"{info.webhook_timeout_s} s"))
    prefs.add_row(
        Text(settings.ALLOW_PRIVATE_LABEL),
        Text("on", style=colours.style("warn", "bold"))
        if info.allow_private_webhooks
        else Text("off"),
    )
    changes = f" ({keys['edit']} changes them)" if may_change else ""
    out.append(Text("\nSettings" + changes, style="bold"))
    out.append(prefs)
    if not may_change:
        out.append(
            Text(
                f"\nRead-only: changing settings needs the permission '{accounts.PERMISSION}'.",
                style="italic",
            )
        )
    return out


class SettingsForm(FormDialog[bool]):
    """Turning private networks off asks first when active webhooks need them."""

    def __init__(self, *args: Any, was_on: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.was_on = was_on  # private networks were allowed when the form opened

    def action_confirm(self) -> None:
        turning_off = self.was_on and not self.values()["allow_private"]
        if not turning_off:
            super().action_confirm()
            return
        from tui.screens.webhooks_tab import confirm_private_off

        confirm_private_off(self.app, super().action_confirm)


def settings_form(admin, ov: AccountOverview) -> FormDialog:
    """Webhook timeout and private networks; Confirm saves both (each audit-logged)."""

    def submit(v: dict[str, Any]) -> bool:
        raw = str(v["webhook_timeout_s"]).strip()
        if not raw.isdigit():
            raise ValidationError(
                "webhook_timeout_s",
                f"The webhook timeout is a whole number of seconds "
                f"({settings.TIMEOUT_MIN_S}-{settings.TIMEOUT_MAX_S}).",
            )
        # One store call, one transaction: a refused form has changed nothing.
        settings.update_webhook_settings(
            admin.store,
            admin.actor,
            seconds=int(raw),
            allow_private=bool(v["allow_private"]),
        )
        return True

    return SettingsForm(
        "Account settings",
        [
            FormField(
                "webhook_timeout_s",
                f"Webhook timeout, seconds ({settings.TIMEOUT_MIN_S}-{settings.TIMEOUT_MAX_S})",
                value=str(ov.info.webhook_timeout_s),
                max_length=3,
                help="How long a receiver has to answer a delivery.",
            ),
            FormField(
                "allow_private",
                f"{settings.ALLOW_PRIVATE_LABEL} (space toggles)",
                kind="checkbox",
                value=ov.info.allow_private_webhooks,
                help="Lets webhooks reach loopback, private and link-local addresses and "
                "plain http: for intranet receivers and tests only.",
            ),
        ],
        submit,
        confirm_label="Save",
        was_on=ov.info.allow_private_webhooks,
    )


class AccountScreen(Refuses, BaseScreen):
    """Plan, limits with usage, settings."""

    help_title = "Account"
    DEFAULT_CSS = """
    AccountScreen #account-body { height: 1fr; padding: 0 1; }
    AccountScreen #account-body > Static { height: auto; }
    """
    BINDINGS = [
        Binding("e", "edit", "Edit settings", id="account.edit"),
        Binding("u", "users", "Users", id="account.users"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.overview: AccountOverview | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Account", classes="section-title")
        yield VerticalScroll(id="account-body")
        yield Footer()

    def on_mount(self) -> None:
        # Read when the screen is shown (its resume: BaseScreen), in a worker.
        self.query_one("#account-body").focus()

    def loading_target(self) -> Widget | None:
        return self.query_one("#account-body")

    def load(self) -> tuple[AccountOverview, Actor]:
        store, actor = self.admin.store, self.admin.actor
        return accounts.overview(store, actor.account_id), accounts.refresh_actor(store, actor)

    def show(self, data: tuple[AccountOverview, Actor]) -> None:
        self.overview, self.admin.actor = data
        self.refresh_bindings()
        body = self.query_one("#account-body", VerticalScroll)
        body.remove_children()
        body.mount_all(
            Static(r)
            for r in render_overview(
                self.overview,
                may_change=self.admin.actor.can_manage,
                keys={
                    "users": key_for(self.app, self, "account.users"),
                    "edit": key_for(self.app, self, "account.edit"),
                },
            )
        )

    def refusal(self, action: str) -> Refusal | None:
        if action == "edit":
            return permission(self.admin, "change the account settings")
        return None

    def action_edit(self) -> None:
        if self.overview is None or self.refused("edit"):
            return

        def saved(ok: bool | None) -> None:
            if ok:
                self.notify("Account settings saved.")
            self.reload()

        self.app.push_screen(settings_form(self.admin, self.overview), saved)

    def action_users(self) -> None:
        self.admin.open_section("users")
