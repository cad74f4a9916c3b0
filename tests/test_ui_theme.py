"""Themes (issue 20): the theme chosen in the palette is in force at the next
start, and what screens colour follows the theme; the help shows the keys in
force. Two real App runs with one temporary XDG_CONFIG_HOME."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from rich.text import Text

from store import playbooks
from tui import colours, config
from tui.app import IntegrationsAdmin
from tui.screens.help import HelpScreen

from .ui import flat, screen_text, type_text, wait_until


@pytest.fixture
def cfg(tmp_path, monkeypatch) -> Path:
    home = tmp_path / "xdg-config"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home))
    monkeypatch.delenv(config.ENV_THEME, raising=False)
    path = home / "integrations-admin" / "config.toml"
    path.parent.mkdir(parents=True)
    path.write_text("# my settings\npresenter = false  # not for me\n", encoding="utf-8")
    return path


async def test_the_theme_chosen_in_the_palette_is_there_at_the_next_start(store, owner, cfg):
    app = IntegrationsAdmin(store, owner, settings=config.load())
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await pilot.pause()
        assert app.theme == "textual-dark"
        # The palette's own command, as a person picks it: ctrl+p, "theme", then the name.
        await pilot.press("ctrl+p")
        await type_text(pilot, "theme")
        await wait_until(pilot, lambda: "Change the current theme" in flat(app))
        await pilot.press("enter")
        await wait_until(pilot, lambda: "Search for themes" in flat(app))
        await type_text(pilot, "textual-light")
        await wait_until(pilot, lambda: "textual-light" in flat(app))
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.theme == "textual-light")
        await wait_until(pilot, lambda: "saved in" in flat(app))
    text = cfg.read_text(encoding="utf-8")
    assert 'theme = "textual-light"' in text
    assert "# my settings" in text and "# not for me" in text  # the user's file, kept

    second = IntegrationsAdmin(store, owner, settings=config.load())
    async with second.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert second.theme == "textual-light"
        assert second.current_theme.dark is False


async def test_the_theme_of_a_flag_is_not_written(store, owner, cfg):
    app = IntegrationsAdmin(store, owner, settings=config.load(config.Flags(theme="nord")))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert app.theme == "nord"
    assert "theme" not in cfg.read_text(encoding="utf-8")


def _colours_of(text: Text) -> set[str]:
    return {str(span.style).split()[-1].lower() for span in text.spans} | (
        {str(text.style).split()[-1].lower()} if str(text.style) else set()
    )


async def test_what_screens_colour_comes_from_the_theme(store, owner, cfg):
    """A playbook with a missing required mapping says so in the theme's
    error colour, dark and light alike (it was "bold red" whatever the theme)."""
    from tui.screens.playbooks import status_text

    playbooks.create(store, owner, name="Sales agreement")
    app = IntegrationsAdmin(store, owner, settings=config.load())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("p")
        await wait_until(pilot, lambda: "Sales agreement" in flat(app))
        for theme in ("textual-dark", "textual-light"):
            app.theme = theme
            await pilot.pause()
            want = app.get_css_variables()["text-success"].lower()
            [info] = playbooks.all_for_account(store, owner.account_id)
            cell = status_text(info)
            assert cell.plain == "complete"
            assert _colours_of(cell) == {want}, theme
            assert re.fullmatch(r"#[0-9a-f]{6}", want)
    assert colours.style("good").lower().endswith(want)


async def test_help_shows_the_keys_in_force(store, owner, cfg):
    cfg.write_text('[keymap]\n"go.audit" = "A"\n"app.palette" = "f2"\n', encoding="utf-8")
    app = IntegrationsAdmin(store, owner, settings=config.load())
    async with app.run_test(size=(80, 40)) as pilot:
        await pilot.pause()
        await pilot.press("question_mark")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))
        rows = [ln.split() for ln in screen_text(app).splitlines()]
        assert any(r[1:4] == ["A", "Audit", "log"] for r in rows if len(r) > 3)
        assert any(r[1:3] == ["f2", "Command"] for r in rows if len(r) > 2)
        assert "config.toml" in flat(app)
