"""Command palette entries: sections, the current screen's actions, and every
integration and blueprint by name; and the provider that shows them literally."""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from typing import TYPE_CHECKING, Any

from textual.app import SystemCommand
from textual.command import DiscoveryHit, Hit, Hits
from textual.content import Content
from textual.fuzzy import Matcher
from textual.screen import Screen
from textual.system_commands import SystemCommandsProvider

from store import blueprints, integrations, playbooks
from store.errors import DomainError

if TYPE_CHECKING:
    from tui.app import IntegrationsAdmin


class LiteralCommands(SystemCommandsProvider):
    """Textual's system-command provider, with every title and help shown as
    text: they hold names from data, and Textual reads a string as markup (a
    name like ``[link=x]y[/link]`` or ``Sale [/b]`` crashed the palette,
    ``[bold red]X[/]`` was drawn red, ``Contracts [v2]`` lost ``[v2]``).
    Escaping would not do: the fuzzy match and its highlight would run over the
    escaped text, whose offsets are not the name's."""

    async def discover(self) -> Hits:
        commands = sorted(self.app.get_system_commands(self.screen), key=lambda c: c[0])
        for title, help_text, callback, discover in commands:
            if discover:
                yield DiscoveryHit(Content(title), callback, text=title, help=_literal(help_text))

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, callback, *_ in self.app.get_system_commands(self.screen):
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
        yield SystemCommand(
            b.description,
            f"On this screen ({app.get_key_display(b)})",
            partial(app.run_action, b.action, node),
        )


def palette_commands(app: IntegrationsAdmin, screen: Screen) -> Iterable[SystemCommand]:
    for mode, title in (
        ("integrations", "Integrations"),
        ("marketplace", "Marketplace"),
        ("playbooks", "Playbooks"),
        ("audit", "Audit log"),
        ("account", "Account"),
        ("users", "Users"),
    ):
        if mode in app.MODES:
            yield SystemCommand(
                f"Go to {title}",
                f"Open the {title} section",
                partial(app.action_section, mode),
            )
    yield SystemCommand(
        "Presenter mode: " + ("off" if app.presenter.on else "show the keys pressed"),
        "For recordings: the keys you press show in the bottom-right corner",
        app.action_toggle_presenter,
    )
    yield from _screen_actions(app, screen)
    try:
        active = integrations.active(app.store, app.actor.account_id)
        bps = blueprints.all_for_account(app.store, app.actor.account_id)
        books = playbooks.all_for_account(app.store, app.actor.account_id)
    except DomainError:
        return
    enabled = {i.id for i in active}
    for i in active:
        yield SystemCommand(
            f"Integration: {i.name}",
            f"Open {i.name} ({i.category})",
            partial(_open_integration, app, i.id),
        )
    for b in bps:
        if b.integration_id in enabled:
            yield SystemCommand(
                f"Blueprint: {b.name}",
                f"Open the blueprint of {b.integration_name}",
                partial(_open_blueprint, app, b.id),
            )
    for p in books:
        yield SystemCommand(
            f"Playbook: {p.name}",
            "Open the playbook" + ("" if p.complete else " (incomplete)"),
            partial(_open_playbook, app, p.id),
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
