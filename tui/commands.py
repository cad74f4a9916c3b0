"""Command palette entries: sections, the current screen's actions, every
action and setting of the program by name from any screen (choosing one jumps
to where it lives and runs it there), and every integration, blueprint and
playbook by name; and the provider that shows them all literally.

Every entry is made by ``_command``: one place decides how a title is shown.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any, cast

from textual.app import SystemCommand
from textual.command import DiscoveryHit, Hit, Hits
from textual.content import Content
from textual.fuzzy import Matcher
from textual.screen import Screen
from textual.system_commands import SystemCommandsProvider

from store import blueprints, integrations, playbooks, settings
from store.catalog import CUSTOM_KEY
from store.errors import DomainError
from store.refusals import PERMISSION
from tui.keys import key_for

if TYPE_CHECKING:
    from textual.dom import DOMNode

    from store.blueprints import BlueprintInfo
    from store.playbooks import PlaybookInfo
    from store.values import IntegrationInfo
    from tui.app import IntegrationsAdmin


class LiteralCommands(SystemCommandsProvider):
    """Textual's system-command provider, with every title and help shown as
    text: they hold names from data, and Textual reads a string as markup (a
    name like ``[link=x]y[/link]`` or ``Sale [/b]`` crashed the palette,
    ``[bold red]X[/]`` was drawn red, ``Contracts [v2]`` lost ``[v2]``).
    Escaping would not do: the fuzzy match and its highlight would run over the
    escaped text, whose offsets are not the name's."""

    _commands: list[SystemCommand] | None = None

    async def startup(self) -> None:
        """Once per opening of the palette: the account's objects read in a thread
        (one transaction), the entries made from them. Keystrokes then only match:
        no query per key."""
        import asyncio

        app = cast("IntegrationsAdmin", self.app)
        objects = await asyncio.to_thread(read_palette_objects, app)
        self._commands = list(app.system_commands(self.screen, objects))

    def commands(self) -> list[SystemCommand]:
        if self._commands is None:  # startup failed (logged by Textual): read now
            self._commands = list(self.app.get_system_commands(self.screen))
        return self._commands

    async def discover(self) -> Hits:
        commands = sorted(self.commands(), key=lambda c: c[0])
        for title, help_text, callback, discover in commands:
            if discover:
                yield DiscoveryHit(Content(title), callback, text=title, help=_literal(help_text))

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, callback, *_ in self.commands():
            if (score := matcher.match(title)) > 0:
                yield Hit(
                    score,
                    _highlight(matcher, title),
                    callback,
                    text=title,
                    help=_literal(help_text),
                )


def _literal(text: str) -> Any:
    """Help text as Content (typed ``str`` in Textual, which passes a Content
    through ``Content.from_markup`` unchanged)."""
    return Content(text)


def _highlight(matcher: Matcher, title: str) -> Content:
    """``Matcher.highlight`` over the title as text, not as markup."""
    content = Content(title)
    score, offsets = matcher.fuzzy_search.match(matcher.query, title)
    if score:
        for offset in offsets:
            if not title[offset].isspace():
                content = content.stylize(matcher.match_style, offset, offset + 1)
    return content


def _command(title: str, help: str, callback: Callable[[], object]) -> SystemCommand:
    """One palette entry."""
    return SystemCommand(title, help, callback)


def _screen_actions(app: IntegrationsAdmin, screen: Screen) -> Iterable[SystemCommand]:
    seen: set[str] = set()
    for active in screen.active_bindings.values():
        b = active.binding
        if not b.description or not b.show or b.action in seen or not active.enabled:
            continue
        if b.id and b.id.startswith(("go.", "app.")):
            continue
        seen.add(b.action)
        node = active.node
        yield _command(
            b.description,
            f"On this screen ({app.get_key_display(b)})",
            partial(app.run_action, b.action, node),
        )


# -- every action, from anywhere ---------------------------------------------------


def _tab_class(name: str) -> type:
    """The class of a tab or screen by name (imported when the palette asks)."""
    from importlib import import_module

    module, cls = {
        "blueprints": ("tui.screens.blueprints_tab", "BlueprintsTab"),
        "tokens": ("tui.screens.tokens_tab", "TokensTab"),
        "webhooks": ("tui.screens.webhooks_tab", "WebhooksTab"),
        "fields": ("tui.screens.blueprint", "FieldsTab"),
        "data_fields": ("tui.screens.playbook.data_fields", "DataFieldsTab"),
        "connections": ("tui.screens.playbook.connections", "ConnectionsTab"),
        "playbooks": ("tui.screens.playbooks", "PlaybooksScreen"),
        "users": ("tui.screens.users", "UsersScreen"),
        "account": ("tui.screens.account", "AccountScreen"),
        "marketplace": ("tui.screens.marketplace", "MarketplaceScreen"),
    }[name]
    return getattr(import_module(module), cls)


@dataclass(frozen=True)
class Action:
    """An action of the program where it lives.

    ``section``: the app mode it lives in; ``tab``: a tab of the Custom
    integration (its screen is opened on it); ``holder``: the tab or screen
    (``_tab_class`` name) whose binding ``binding`` runs it; ``action``: what to
    run there once arrived, or None when it needs a row chosen first (then
    ``hint`` says how, with ``{key}`` the binding's key in force)."""

    title: str
    where: str
    section: str
    holder: str
    binding: str
    action: str | None = None
    tab: str | None = None
    hint: str = ""
    fallback: str | None = None  # binding of the action to run without a Custom integration


CUSTOM = "{custom}"  # the Custom integration's name, in ``where``

ACTIONS: tuple[Action, ...] = (
    Action(
        "New blueprint",
        f"{CUSTOM} › Integration blueprints",
        "integrations",
        "blueprints",
        "blueprints.new",
        "new",
        tab="blueprints",
    ),
    Action(
        "Add blueprint field",
        f"{CUSTOM} › a blueprint › Fields",
        "integrations",
        "fields",
        "fields.new",
        tab="blueprints",
        hint="Open the blueprint (enter), then press {key} to add a field.",
    ),
    Action(
        "Generate API token",
        f"{CUSTOM} › API tokens",
        "integrations",
        "tokens",
        "tokens.new",
        "new",
        tab="tokens",
    ),
    Action(
        "Revoke API token",
        f"{CUSTOM} › API tokens",
        "integrations",
        "tokens",
        "tokens.revoke",
        tab="tokens",
        hint="Choose the token, then press {key} to revoke it.",
    ),
    Action(
        "New webhook",
        f"{CUSTOM} › Webhooks",
        "integrations",
        "webhooks",
        "webhooks.new",
        "new",
        tab="webhooks",
    ),
    Action(
        "Test webhook",
        f"{CUSTOM} › Webhooks",
        "integrations",
        "webhooks",
        "webhooks.test",
        tab="webhooks",
        hint="Choose the webhook, then press {key} to test it.",
    ),
    Action(
        "Webhook settings",
        f"{CUSTOM} › Webhooks",
        "integrations",
        "webhooks",
        "webhooks.settings",
        "settings",
        tab="webhooks",
        fallback="account.edit",  # the same form lives in the Account view
    ),
    Action("New playbook", "Playbooks", "playbooks", "playbooks", "playbooks.new", "new"),
    Action(
        "New data field",
        "Playbooks › a playbook › Data fields",
        "playbooks",
        "data_fields",
        "data_fields.new",
        hint="Open the playbook (enter), then press {key} to add a data field.",
    ),
    Action(
        "Connect blueprint to playbook",
        "Playbooks › a playbook › Connected blueprints",
        "playbooks",
        "connections",
        "connections.new",
        hint="Open the playbook (enter), go to its Connected blueprints tab, "
        "then press {key} to connect a blueprint.",
    ),
    Action(
        "Enable or disable extension",
        "Marketplace",
        "marketplace",
        "marketplace",
        "marketplace.toggle",
        hint="Choose the extension, then press {key} to enable or disable it.",
    ),
    Action("Add user", "Users", "users", "users", "users.new", "new"),
    Action(
        "Grant or withdraw the permission",
        "Users",
        "users",
        "users",
        "users.grant",
        hint=f"Choose the user, then press {{key}} to grant or withdraw {PERMISSION}.",
    ),
    Action("Account settings", "Account", "account", "account", "account.edit", "edit"),
)


def _action(binding: str) -> Action:
    return next(a for a in ACTIONS if a.binding == binding)


def _custom(app: IntegrationsAdmin) -> IntegrationInfo | None:
    """The account's Custom integration, if it is enabled."""
    active = integrations.active(app.store, app.actor.account_id)
    return next((i for i in active if i.key == CUSTOM_KEY), None)


async def _open_section(app: IntegrationsAdmin, mode: str) -> Screen:
    """The top screen of a section, as its key pressed twice shows it."""
    if app.current_mode != mode:
        await app.switch_mode(mode)
    while len(app.screen_stack) > 1:
        await app.pop_screen()
    return app.screen


def _say_custom_missing(app: IntegrationsAdmin, title: str) -> None:
    """Said when an action of the Custom integration cannot be reached: the
    plan's refusal (the store's words), or how to enable it."""
    from store import accounts, catalog, marketplace

    ext = catalog.extension(CUSTOM_KEY)
    plan = accounts.account_info(app.store, app.actor.account_id).plan
    refusal = marketplace.plan_refusal(ext, plan)
    if refusal is None:
        refusal = (
            f"{title} belongs to the {ext.name}, which is not enabled: choose it in the "
            f"Marketplace and press {key_for(app, None, 'marketplace.toggle', default='e')}."
        )
    app.notify(refusal, title=title, severity="warning", timeout=8)


async def run_action_where_it_lives(app: IntegrationsAdmin, action: Action) -> None:
    """Jump to where ``action`` lives (section, screen, tab), then run it there,
    or say how to when it needs a row chosen first. Refusals (permission, plan)
    are said at once by the action itself, before any form."""
    from tui.screens.integration import IntegrationScreen
    from tui.screens.loading import Loads

    holder_cls = _tab_class(action.holder)
    try:
        if action.tab is not None:
            custom = _custom(app)
            if custom is None and action.fallback:
                await run_action_where_it_lives(app, _action(action.fallback))
                return
            if custom is None:
                _say_custom_missing(app, action.title)
                await _open_section(app, "marketplace")
                return
            await _open_section(app, "integrations")
            screen: Screen = IntegrationScreen(custom.id, tab=action.tab)
            await app.push_screen(screen)
        else:
            screen = await _open_section(app, action.section)
    except DomainError as exc:
        app.report(exc)
        return

    def arrived() -> None:
        if action.action is None:
            key = key_for(app, holder_cls, action.binding)
            app.notify(action.hint.format(key=key), title=action.title, timeout=8)
            return
        node: DOMNode
        if isinstance(screen, holder_cls):
            node = screen
        else:
            found = screen.query(holder_cls)
            if not found:
                return
            node = found.first()
        run = partial(app.call_later, app.run_action, action.action, node)
        # Once the data it decides on is there (the limit, the plan, the rows).
        if isinstance(node, Loads) and node.loads_data():
            node.after_loaded(run)
        elif isinstance(screen, Loads):
            screen.after_loaded(run)
        else:
            run()

    # Once the screen has shown itself (its tab chosen, its list loaded).
    screen.call_after_refresh(arrived)


def _actions(app: IntegrationsAdmin, custom_name: str) -> Iterable[SystemCommand]:
    for action in ACTIONS:
        key = key_for(app, _tab_class(action.holder), action.binding)
        yield _command(
            action.title,
            f"{action.where.format(custom=custom_name)} ({key})",
            partial(run_action_where_it_lives, app, action),
        )


# -- settings --------------------------------------------------------------------


def toggle_private_networks(app: IntegrationsAdmin) -> None:
    """The on/off setting *Allow webhooks to private networks*: asks y/n, then
    sets it through the store function the settings form uses (audit-logged)."""
    from tui.dialogs.confirm import ConfirmDialog

    label = settings.ALLOW_PRIVATE_LABEL
    if not app.may_manage("change the webhook settings"):
        return
    try:
        current = settings.webhook_settings(app.store, app.actor.account_id).allow_private
    except DomainError as exc:
        app.report(exc)
        return
    turn_on = not current
    if turn_on:
        message = (
            "Currently off. On, webhooks may reach loopback, private and link-local "
            "addresses and plain http: for intranet receivers and tests only."
        )
    else:
        message = "Currently on. Off, webhooks may reach only public https addresses."

    def answered(yes: bool | None) -> None:
        if not yes:
            return

        def saved(now) -> None:
            app.reload_screen()  # the screen below, resumed before this was saved
            app.notify(
                f"{label}: {'on' if now.allow_private else 'off'}.", title="Account settings"
            )

        app.save(settings.set_allow_private_webhooks, app.store, app.actor, turn_on, on_done=saved)

    def ask() -> None:
        app.push_screen(
            ConfirmDialog(
                f"{label}?" if turn_on else f"Turn off {label}?",
                message,
                yes="Turn on" if turn_on else "Turn off",
                danger=turn_on,
            ),
            answered,
        )

    if turn_on:
        ask()
        return
    from tui.screens.webhooks_tab import confirm_private_off

    # Webhooks that use http or private destinations are named first, and that
    # warning is the y/n; with none, the plain question.
    confirm_private_off(app, ask, on_yes=lambda: answered(True))


async def open_webhook_timeout(app: IntegrationsAdmin) -> None:
    """The webhook timeout is a field of the account settings form: open it there."""
    await run_action_where_it_lives(app, _action("account.edit"))


def _settings(app: IntegrationsAdmin, allow_private: bool | None) -> Iterable[SystemCommand]:
    state = "" if allow_private is None else f", now {'on' if allow_private else 'off'}"
    edit = key_for(app, _tab_class("account"), "account.edit")
    yield _command(
        settings.ALLOW_PRIVATE_LABEL,
        f"Setting, on/off{state}: asks y/n · also Account ({edit}) and Webhooks tab",
        partial(toggle_private_networks, app),
    )
    yield _command(
        "Webhook timeout",
        f"Setting: how long a receiver has to answer · Account ({edit})",
        partial(open_webhook_timeout, app),
    )
    yield _command(
        "Presenter mode: " + ("off" if app.presenter.on else "show the keys pressed"),
        "Setting, on/off: for recordings, the keys you press show in the bottom-right corner",
        app.action_toggle_presenter,
    )


@dataclass(frozen=True)
class PaletteObjects:
    """The account's objects the palette names, read once per opening."""

    integrations: list[IntegrationInfo]
    allow_private: bool | None  # None: could not be read
    blueprints: list[BlueprintInfo]
    playbooks: list[PlaybookInfo]


def read_palette_objects(app: IntegrationsAdmin) -> PaletteObjects:
    """Read them (in a thread: ``LiteralCommands.startup``), in one transaction.
    What cannot be read is left out, as before; nothing is asked while the
    database is away (the palette says so)."""
    if app.connection.away:
        return PaletteObjects([], None, [], [])
    try:
        store, account_id = app.store, app.actor.account_id
        with store.together():
            active = integrations.active(store, account_id)
            allow_private: bool | None = settings.webhook_settings(store, account_id).allow_private
            try:
                bps = blueprints.all_for_account(store, account_id)
                books = playbooks.all_for_account(store, account_id)
            except DomainError:
                bps, books = [], []
    except DomainError:
        return PaletteObjects([], None, [], [])
    return PaletteObjects(active, allow_private, bps, books)


def palette_commands(
    app: IntegrationsAdmin, screen: Screen, objects: PaletteObjects | None = None
) -> Iterable[SystemCommand]:
    """The palette's entries; ``objects`` read already (else read now)."""
    from tui.app import SECTION_TITLES

    for mode, title in SECTION_TITLES.items():
        if mode in app.MODES:
            yield _command(
                f"Go to {title}",
                f"Open the {title} section",
                partial(app.open_section, mode),
            )
    yield from _screen_actions(app, screen)
    if app.connection.away:  # asking would wait on the network: say so instead
        yield from _actions(app, "Custom integration")
        yield _unavailable(app)
        return
    if objects is None:
        objects = read_palette_objects(app)
    active, allow_private = objects.integrations, objects.allow_private
    custom = next((i for i in active if i.key == CUSTOM_KEY), None)
    yield from _actions(app, custom.name if custom else "Custom integration")
    yield from _settings(app, allow_private)
    bps, books = objects.blueprints, objects.playbooks
    enabled = {i.id for i in active}
    for i in active:
        yield _command(
            f"Integration: {i.name}",
            f"Open {i.name} ({i.category})",
            partial(_open_integration, app, i.id),
        )
    for b in bps:
        if b.integration_id in enabled:
            yield _command(
                f"Blueprint: {b.name}",
                f"Open the blueprint of {b.integration_name}",
                partial(_open_blueprint, app, b.id),
            )
    for p in books:
        yield _command(
            f"Playbook: {p.name}",
            "Open the playbook" + ("" if p.complete else " (incomplete)"),
            partial(_open_playbook, app, p.id),
        )


def _unavailable(app: IntegrationsAdmin) -> SystemCommand:
    """In place of the objects (integrations, blueprints, playbooks) when the
    database cannot be asked for them: say so, and retry when chosen."""
    return _command(
        "Objects unavailable: cannot reach the database",
        "Integrations, blueprints and playbooks are found by name once it answers; "
        "choose this to retry now",
        app.connection.retry,
    )


def _open_integration(app: IntegrationsAdmin, integration_id: int) -> None:
    from tui.screens.integration import IntegrationScreen

    app.switch_mode("integrations")
    app.push_screen(IntegrationScreen(integration_id))


def _open_blueprint(app: IntegrationsAdmin, blueprint_id: int) -> None:
    from tui.screens.blueprint import BlueprintScreen

    app.switch_mode("integrations")
    app.push_screen(BlueprintScreen(blueprint_id))


def _open_playbook(app: IntegrationsAdmin, playbook_id: int) -> None:
    from tui.screens.playbook import PlaybookScreen

    app.switch_mode("playbooks")
    app.push_screen(PlaybookScreen(playbook_id))
