"""With a form, dialog or card open, the footer shows that dialog's keys and
never those of the screen behind it (they do not work while it is open): a
form's `tab` and `ctrl+s`, a confirmation's `y` and `n`, the one-time token
screen's `c`. Pilot tests on both backends, reading the footer's text."""

from __future__ import annotations

from store import blueprints, marketplace, playbooks
from store.catalog import CUSTOM_KEY
from tui.app import IntegrationsAdmin
from tui.dialogs.confirm import ConfirmDialog
from tui.dialogs.form import FormDialog
from tui.dialogs.picker import PickerDialog
from tui.dialogs.webhook_form import WebhookForm
from tui.screens.audit import AuditEntryScreen
from tui.screens.help import HelpScreen
from tui.screens.marketplace import ExtensionCard
from tui.screens.token_once import TokenOnceScreen
from tui.widgets.footer import Footer

from .ui import screen_text, wait_until

# Keys of the screens behind the dialogs below: none may show in a dialog's footer.
BEHIND = (
    "New blueprint",
    "New token",
    "New webhook",
    "Connect",
    "Delete",
    "Filter",
    "Back",
    "Marketplace",
    "Integrations",
    "Playbooks",
    "palette",
)


def footer_text(app) -> str:
    """The footer as drawn on the screen on top (a dialog's own, over the one behind)."""
    return app.screen.query_one(Footer).render().plain


async def shows(pilot, kind: type, *keys: str) -> str:
    """The screen on top is a ``kind`` whose footer shows ``keys`` (key and what it
    does, as drawn) and none of the keys of the screen behind."""
    app = pilot.app
    await wait_until(pilot, lambda: isinstance(app.screen, kind) and app.screen.query(Footer))
    await pilot.pause()
    text = footer_text(app)
    for key in keys:
        assert key in text, (key, text)
    for behind in BEHIND:
        assert behind not in text, (behind, text)
    # It is the footer the terminal shows, on the bottom line (over the one behind).
    assert screen_text(app).splitlines()[-1].strip() == text.strip()
    return text


async def test_forms_show_tab_and_ctrl_s_not_the_keys_behind(store, owner):
    iid = marketplace.enable(store, owner, CUSTOM_KEY)
    blueprints.create(store, owner, iid, name="Orders")
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await pilot.press("enter", "2", "n")
        await shows(pilot, FormDialog, "tab Next field", "^s Confirm", "esc Cancel")
        # Moving to the next field, the footer stays the form's.
        await pilot.press("tab")
        await shows(pilot, FormDialog, "tab Next field", "^s Confirm")
        await pilot.press("escape")
        await pilot.pause()
        # Back on the list: its own keys again.
        assert "New blueprint" in footer_text(app)
        # The webhook form adds its Test and Generate keys.
        await pilot.press("4", "n")
        await shows(pilot, WebhookForm, "tab Next field", "^s Confirm", "^t Test")
        await pilot.press("escape")
        # A confirmation: y and n.
        await pilot.press("2", "d")
        await shows(pilot, ConfirmDialog, "y Yes", "n No")
        await pilot.press("n")


async def test_picker_card_help_entry_and_account_form(store, owner):
    iid = marketplace.enable(store, owner, CUSTOM_KEY)
    blueprints.create(store, owner, iid, name="Orders")
    playbooks.create(store, owner, name="Sales")
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await pilot.press("p", "enter", "2", "n")  # connect a blueprint: the picker
        await shows(pilot, PickerDialog, "esc Cancel")
        await pilot.press("escape")
        await pilot.press("m", "enter")  # an extension's card
        await shows(pilot, ExtensionCard, "e Enable/Disable", "esc Close")
        await pilot.press("escape")
        await pilot.press("question_mark")
        await shows(pilot, HelpScreen, "esc Close")
        await pilot.press("escape")
        await pilot.press("a")
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.press("enter")  # an audit entry
        await shows(pilot, AuditEntryScreen, "esc Close")
        await pilot.press("escape")
        await pilot.press("o", "e")  # the account's settings form
        await shows(pilot, FormDialog, "tab Next field", "^s Confirm", "esc Cancel")


async def test_the_one_time_token_screen_shows_copy_and_done_only(store, owner):
    marketplace.enable(store, owner, CUSTOM_KEY)
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await pilot.press("enter", "3", "n")
        await shows(pilot, FormDialog, "^s Confirm")
        for ch in "ERP":
            await pilot.press(ch)
        await pilot.press("ctrl+s")
        text = await shows(pilot, TokenOnceScreen, "c Copy", "⏎ Done")
        assert "Audit log" not in text and "Help" not in text
