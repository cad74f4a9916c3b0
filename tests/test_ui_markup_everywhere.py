"""Text from data is shown literally everywhere: the command palette, dialogs,
forms, page titles, the header, notifications, the help screen and the audit
log (issue 13, item 1).

Textual reads a ``str`` as markup in most widgets: ``[link=x]y[/link]`` or
``Sale [/b]`` raise a MarkupError (the palette crashed the program),
``[bold red]X[/]`` is drawn red, ``Contracts [v2]`` loses ``[v2]``, a name
ending in a backslash escapes what follows, and ``[@click=app.quit]Q[/]``
becomes a link that quits.
"""

from __future__ import annotations

import pytest
from textual.command import CommandPalette
from textual.widgets import OptionList

from store import accounts, blueprints, marketplace, playbooks
from store.catalog import CUSTOM_KEY
from store.db import Store
from tui.app import IntegrationsAdmin

from .ui import screen_text, type_text

# (name, what to type in the palette to find it)
HOSTILE = [
    ("[link=http://evil.example]click me[/link]", "click me"),
    ("Sale [/b]", "Sale"),
    ("[bold red]X[/]", "bold red"),
    ("Contracts [v2]", "Contracts"),
    ("Trail\\", "Trail"),
    ("[@click=app.quit]Q[/]", "click=app"),
]
NAMES = [name for name, _ in HOSTILE]
KEYS = {"=": "equals_sign", "\\": "backslash", "@": "at"}


async def _type(pilot, text: str) -> None:
    for part in text:
        if part in KEYS:
            await pilot.press(KEYS[part])
        else:
            await type_text(pilot, part)


async def _until(pilot, app, text: str) -> str:
    """The screen, once it shows ``text`` (the palette searches in a worker)."""
    shown = ""
    for _ in range(100):
        await pilot.pause(0.02)
        shown = screen_text(app)
        if text in shown:
            break
    return shown


def _palette_prompts(app) -> list:
    options = app.screen.query_one(OptionList)
    return [options.get_option_at_index(i).prompt for i in range(options.option_count)]


def _account(tmp_path) -> tuple[Store, object]:
    store = Store(str(tmp_path / "markup.db"))
    owner = accounts.sign_in(store, "alice")
    iid = marketplace.enable(store, owner, CUSTOM_KEY)
    for name in NAMES:
        blueprints.create(store, owner, iid, name=name)
        playbooks.create(store, owner, name=name)
    return store, owner


async def test_palette_shows_names_literally(tmp_path):
    store, owner = _account(tmp_path)
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(120, 36)) as pilot:
        # Discovery (nothing typed yet) lists commands too: no crash there.
        await pilot.press("ctrl+p")
        await _until(pilot, app, "Blueprint: ")
        assert isinstance(app.screen, CommandPalette)
        await pilot.press("escape")
        for name, typed in HOSTILE:
            await pilot.press("ctrl+p")
            await _type(pilot, typed)
            shown = await _until(pilot, app, f"Playbook: {name}")
            assert app.is_running, name
            assert f"Blueprint: {name}" in shown, name
            assert f"Playbook: {name}" in shown, name
            # Only the match highlight and the help's style: no colour, link or action.
            for prompt in _palette_prompts(app):
                for span in prompt.spans:
                    style = str(span.style)  # a markup tag, or a Style
                    assert not any(w in style for w in ("red", "link", "@click")), (name, span)
                    assert not getattr(span.style, "link", None), (name, span)
            await pilot.press("escape")
            await pilot.pause()
        assert app.is_running

        # Choosing a hit opens it; the name is literal on its page too.
        await pilot.press("ctrl+p")
        await _type(pilot, "Trail")
        await _until(pilot, app, "Blueprint: Trail\\")
        await pilot.press("enter")
        await pilot.pause()
        assert "Custom integration › Trail\\" in screen_text(app)
        assert app.is_running


@pytest.mark.parametrize("name", ["Sale [/b]", "[link=http://evil.example]click me[/link]"])
async def test_palette_does_not_crash_on_markup_errors(tmp_path, name):
    """The first report: one such name ended the program on the next ctrl+p."""
    store = Store(str(tmp_path / "markup.db"))
    owner = accounts.sign_in(store, "alice")
    iid = marketplace.enable(store, owner, CUSTOM_KEY)
    blueprints.create(store, owner, iid, name=name)
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("ctrl+p")
        await _type(pilot, "blueprint")
        shown = await _until(pilot, app, f"Blueprint: {name}")
        assert f"Blueprint: {name}" in shown
        assert app.is_running
