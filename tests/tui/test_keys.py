"""Keys in force, the one-time token screen's seal, and the palette of every
action and setting (issue 13, items 5, 6 and 7).

The user's keymap is written where the program looks for it: a keymap.toml in
a temporary XDG_CONFIG_HOME.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from textual.command import CommandPalette
from textual.widgets import OptionList

from store import audit, blueprints, marketplace, settings, tokens, webhooks
from store.catalog import CUSTOM_KEY
from store.errors import ValidationError
from tui import keys
from tui.app import IntegrationsAdmin
from tui.dialogs.confirm import ConfirmDialog
from tui.dialogs.form import FormDialog
from tui.screens.help import HelpScreen
from tui.screens.integration import IntegrationScreen
from tui.screens.token_once import TokenOnceScreen
from tui.widgets.tabs import TabbedPanes

from ..ui import flat, footer_line, screen_text, type_text, wait_until

TOKEN_RE = re.compile(r"iadm_[0-9A-Za-z]{35}")


@pytest.fixture
def keymap(tmp_path, monkeypatch):
    """Write the user's keymap.toml under a temporary XDG_CONFIG_HOME."""
    config = tmp_path / "config"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config))

    def write(text: str) -> Path:
        path = config / "integrations-admin" / "keymap.toml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path

    return write


# -- item 5: the keymap file and the keys in force -------------------------------------


def test_keymap_path_honours_xdg_config_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    assert keys.keymap_path() == tmp_path / "cfg" / "integrations-admin" / "keymap.toml"
    # Without it, the Linux default: ~/.config/integrations-admin/keymap.toml.
    monkeypatch.delenv("XDG_CONFIG_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert keys.keymap_path() == tmp_path / "home" / ".config" / "integrations-admin" / (
        "keymap.toml"
    )


def test_keymap_ids_quoted_or_dotted(tmp_path):
    path = tmp_path / "keymap.toml"
    path.write_text('go.marketplace = "M"\n"blueprints.new" = "ctrl+n"\n', encoding="utf-8")
    assert keys.load_keymap(path) == ({"go.marketplace": "M", "blueprints.new": "ctrl+n"}, [])


def test_say_key():
    assert [keys.say_key(k) for k in ("M", "ctrl+n", "question_mark", "slash", "enter")] == [
        "M",
        "ctrl+n",
        "?",
        "/",
        "enter",
    ]


async def test_remapped_keys_are_named_and_work_everywhere(store, owner, keymap):
    keymap('"go.marketplace" = "M"\n"blueprints.new" = "ctrl+n"\n')
    iid = marketplace.enable(store, owner, CUSTOM_KEY)
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await pilot.pause()
        assert app.keymap_file.parent.parent.name == "config"  # XDG_CONFIG_HOME was read
        # The footer keeps the remapped key in its place, named by its key in force.
        line = footer_line(app)
        assert "M Marketplace" in line
        assert "m Marketplace" not in line

        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        rows = [ln.split() for ln in screen_text(app).splitlines()]
        assert any(r[1:3] == ["M", "Marketplace"] for r in rows if len(r) > 2)
        assert not any(r[1:3] == ["m", "Marketplace"] for r in rows if len(r) > 2)
        await pilot.press("escape")

        await pilot.press("m")  # the old key does nothing now
        await pilot.pause()
        assert app.current_mode == "integrations"
        await pilot.press("M")
        await pilot.pause()
        assert app.current_mode == "marketplace"

        await pilot.press("i", "enter", "2")
        await pilot.pause()
        assert "No blueprints yet: press ctrl+n to create one." in flat(app)
        assert "press n " not in flat(app)
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert isinstance(app.screen, FormDialog)
        await type_text(pilot, "Orders")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert not isinstance(app.screen, FormDialog)
    assert [b.name for b in blueprints.for_integration(store, owner.account_id, iid)] == ["Orders"]


async def test_empty_integrations_list_names_the_remapped_key(store, owner, keymap):
    keymap('"go.marketplace" = "M"\n')
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert "Press M to open the Marketplace" in flat(app)


async def test_a_bad_keymap_is_reported(store, owner, keymap):
    keymap('"go.marketplace" = \n')
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await pilot.pause()
        assert "keymap.toml was not read" in flat(app)
        assert "M Marketplace" not in footer_line(app)


async def test_an_unknown_key_id_is_reported(store, owner, keymap):
    keymap('"go.marketplce" = "M"\n"blueprints.new" = 5\n')
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await wait_until(pilot, lambda: "no key has the id 'go.marketplce'" in flat(app))
        assert "'blueprints.new' in" in flat(app) and "(got 5); ignored." in flat(app)


# -- item 6: nothing leaves the one-time token screen ----------------------------------


async def _token_screen(pilot, app) -> str:
    await pilot.press("enter", "3", "n")
    await type_text(pilot, "ERP")
    await pilot.press("ctrl+s")
    await pilot.pause()
    assert isinstance(app.screen, TokenOnceScreen)
    (token,) = TOKEN_RE.findall(screen_text(app))
    return token


async def test_remapped_section_key_does_not_leave_the_token_screen(store, owner):
    marketplace.enable(store, owner, CUSTOM_KEY)
    app = IntegrationsAdmin(store, owner)
    app.set_keymap({"go.marketplace": "M", "go.audit": "ctrl+a"})  # as keymap.toml does
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        token = await _token_screen(pilot, app)
        for key in ("M", "ctrl+a", "i", "question_mark", "ctrl+p", "o", "u"):
            await pilot.press(key)
            await pilot.pause()
            assert isinstance(app.screen, TokenOnceScreen), key
            assert app.current_mode == "integrations"
            assert token in str(app.screen.query_one("#token").render())
            assert not any(isinstance(s, CommandPalette) for s in app.screen_stack)
        assert "Copy the token (c) and close this screen (enter) first" in flat(app)
        # Said once, not piled up over the token.
        assert sum(n.message.startswith("Copy the token") for n in app._notifications) == 1
        # The footer offers only the screen's own keys (and quit, which asks).
        line = footer_line(app)
        assert "Marketplace" not in line and "Help" not in line
        assert "c Copy" in line


async def test_quit_on_the_token_screen_asks_first(store, owner):
    marketplace.enable(store, owner, CUSTOM_KEY)
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        token = await _token_screen(pilot, app)
        for quit_key in ("q", "ctrl+q"):
            await pilot.press(quit_key)
            await pilot.pause()
            assert isinstance(app.screen, ConfirmDialog)
            assert "The token will never be shown again. Quit anyway?" in flat(app)
            await pilot.press("n")
            await pilot.pause()
            assert app.is_running
            assert isinstance(app.screen, TokenOnceScreen)
            assert token in str(app.screen.query_one("#token").render())
        await pilot.press("q")
        await pilot.pause()
        await pilot.press("y")
        await wait_until(pilot, lambda: not app.is_running)
    assert app.return_code == 0


async def test_quit_elsewhere_still_quits_at_once(store, owner):
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("q")
        await wait_until(pilot, lambda: not app.is_running)


# -- item 7: every action and setting from the palette ---------------------------------


async def palette(pilot, app, query: str) -> list[str]:
    """Open the palette, type ``query`` and return the titles it offers."""
    await pilot.press("ctrl+p")
    await wait_until(pilot, lambda: isinstance(app.screen, CommandPalette))
    await type_text(pilot, query)

    def titles() -> list[str]:
        options = app.screen.query_one(OptionList)
        return [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]

    await wait_until(pilot, lambda: bool(titles()))
    return [t.splitlines()[0] for t in titles()]


async def choose(pilot, app, query: str, title: str) -> None:
    """Type ``query`` in the palette and run the entry titled ``title``."""
    found = await palette(pilot, app, query)
    assert title in found, found
    for _ in range(found.index(title)):
        await pilot.press("down")
    await pilot.press("enter")
    await pilot.pause()
    await pilot.pause()


async def test_private_networks_setting_from_the_marketplace(store, owner):
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await pilot.press("m")
        await pilot.pause()
        await choose(pilot, app, "private", "Allow webhooks to private networks")
        assert isinstance(app.screen, ConfirmDialog)
        assert "Allow webhooks to private networks?" in flat(app)
        assert "Currently off." in flat(app)
        await pilot.press("y")
        await pilot.pause()
        assert app.current_mode == "marketplace"  # set where the user is
        assert "Allow webhooks to private networks: on." in flat(app)
    assert settings.webhook_settings(store, owner.account_id).allow_private
    (entry,) = [e for e in audit.entries(store, owner.account_id) if e.action == "account.settings"]
    assert entry.actor == owner.login and "off -> on" in entry.detail


async def test_private_networks_no_changes_nothing_and_member_is_refused(store, owner, member):
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await choose(pilot, app, "private", "Allow webhooks to private networks")
        await pilot.press("n")
        await pilot.pause()
    assert not settings.webhook_settings(store, owner.account_id).allow_private

    app = IntegrationsAdmin(store, member)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await choose(pilot, app, "private", "Allow webhooks to private networks")
        assert not isinstance(app.screen, ConfirmDialog)  # said at once, nothing asked
        assert "Manage add-ons and integrations" in flat(app)
    assert not settings.webhook_settings(store, owner.account_id).allow_private


async def test_generate_token_from_the_audit_log(store, owner):
    marketplace.enable(store, owner, CUSTOM_KEY)
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await pilot.press("a")
        await pilot.pause()
        found = await palette(pilot, app, "token")
        assert "Generate API token" in found
        await pilot.press("escape")
        await pilot.pause()
        await choose(pilot, app, "generate api token", "Generate API token")
        await wait_until(pilot, lambda: isinstance(app.screen, FormDialog))
        assert app.current_mode == "integrations"
        below = app.screen_stack[-2]
        assert isinstance(below, IntegrationScreen)
        assert below.query_one(TabbedPanes).active == "tokens"
        await type_text(pilot, "ERP")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, TokenOnceScreen)
        await pilot.press("enter")
    (info,) = tokens.list_for_integration(store, owner.account_id, below.integration_id)
    assert info.name == "ERP"


async def test_generate_token_refused_for_a_member_without_a_form(store, owner, member):
    marketplace.enable(store, owner, CUSTOM_KEY)
    app = IntegrationsAdmin(store, member)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await pilot.press("a")
        await choose(pilot, app, "generate api token", "Generate API token")
        await wait_until(pilot, lambda: "Manage add-ons and integrations" in flat(app))
        assert isinstance(app.screen, IntegrationScreen)
        assert app.screen.query_one(TabbedPanes).active == "tokens"


async def test_generate_token_without_the_custom_integration_says_so(store, owner):
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await choose(pilot, app, "generate api token", "Generate API token")
        await pilot.pause()
        assert app.current_mode == "marketplace"
        assert "Custom integration, which is not enabled" in flat(app)
        assert not isinstance(app.screen, FormDialog)


async def test_webhook_finds_new_webhook_from_every_section(store, owner):
    marketplace.enable(store, owner, CUSTOM_KEY)
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        for section in ("m", "i", "p", "a", "o", "u"):
            await pilot.press(section)
            await pilot.pause()
            found = await palette(pilot, app, "webhook")
            assert "New webhook" in found, (section, found)
            assert "Webhook settings" in found
            await pilot.press("escape")
            await pilot.pause()
        # And choosing it opens the webhook form on the Custom integration's tab.
        await choose(pilot, app, "new webhook", "New webhook")
        await wait_until(pilot, lambda: isinstance(app.screen, FormDialog))
        assert app.screen_stack[-2].query_one(TabbedPanes).active == "webhooks"


async def test_new_playbook_and_add_user_from_elsewhere(store, owner):
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await choose(pilot, app, "new playbook", "New playbook")
        await wait_until(pilot, lambda: isinstance(app.screen, FormDialog))
        assert app.current_mode == "playbooks"
        await pilot.press("escape")
        await pilot.pause()
        await choose(pilot, app, "add user", "Add user")
        await wait_until(pilot, lambda: isinstance(app.screen, FormDialog))
        assert app.current_mode == "users"


def test_the_http_refusal_says_where_the_setting_is(store, owner):
    iid = marketplace.enable(store, owner, CUSTOM_KEY)
    with pytest.raises(ValidationError) as refused:
        webhooks.create(store, owner, iid, url="http://hooks.example.com/x")
    assert "'Allow webhooks to private networks'" in str(refused.value)
    assert 'ctrl+p "private"' in str(refused.value)


def test_readme_lists_every_binding_id():
    """The README's table of ids is what users remap by: it names every one."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    listed = set(re.findall(r"`([a-z_]+\.[a-z_0-9]+)`", readme))
    ours = {i for i in keys.all_binding_ids() if "." in i and not i.startswith("tabs.")}
    assert ours - listed == set()


async def test_screenshots_and_scripts_ignore_the_user_keymap(store, owner, keymap):
    keymap('"go.marketplace" = "M"\n')
    app = IntegrationsAdmin(store, owner, user_keymap=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("m")
        await pilot.pause()
        assert app.current_mode == "marketplace"
        assert "m Marketplace" in footer_line(app)


async def test_private_networks_off_from_the_palette_names_the_webhooks_first(store, owner):
    iid = marketplace.enable(store, owner, CUSTOM_KEY)
    settings.set_allow_private_webhooks(store, owner, True)
    webhooks.create(store, owner, iid, url="http://10.0.0.5:8080/hook")
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await choose(pilot, app, "private", "Allow webhooks to private networks")
        assert isinstance(app.screen, ConfirmDialog)
        assert "1 active webhook of this account needs private networks" in flat(app)
        assert "http://10.0.0.5:8080/hook" in flat(app)
        await pilot.press("n")
        await pilot.pause()
        assert settings.webhook_settings(store, owner.account_id).allow_private
        await choose(pilot, app, "private", "Allow webhooks to private networks")
        await pilot.press("y")
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmDialog)  # one question, not two
        assert "Allow webhooks to private networks: off." in flat(app)
    assert not settings.webhook_settings(store, owner.account_id).allow_private


async def test_the_webhook_page_names_its_remapped_keys(store, owner, keymap):
    keymap('"webhook.reveal" = "ctrl+r"\n"webhook.copy_key" = "K"\n')
    iid = marketplace.enable(store, owner, CUSTOM_KEY)
    webhooks.create(
        store,
        owner,
        iid,
        url="https://hooks.example.com/in",
        sign_key=webhooks.generate_signing_key(),
    )
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await pilot.press("enter", "4")
        await pilot.pause()
        await pilot.press("enter")
        await wait_until(pilot, lambda: "(generated;" in screen_text(app))
        assert "(generated; ctrl+r reveals, K copies)" in screen_text(app)
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: "hides)" in screen_text(app))
        assert "(ctrl+r hides)" in screen_text(app)
