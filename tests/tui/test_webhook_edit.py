"""Editing a webhook by keys (issue 17): `e` on the Webhooks tab and on the
webhook's page opens the form filled with what is saved; a new URL makes it
unverified and the screen asks for a new Test; an edit opened before someone
else's change is refused instead of overwriting it. A real receiver on loopback.
"""

from __future__ import annotations

import pytest
from textual.widgets import Input

from store import audit, marketplace, settings, webhooks
from store.catalog import CUSTOM_KEY
from tui.app import IntegrationsAdmin
from tui.dialogs.confirm import ConfirmDialog
from tui.dialogs.webhook_form import WebhookForm
from tui.screens.webhook import WebhookScreen

from ..ui import flat, settle, type_text, wait_until


@pytest.fixture(autouse=True)
def _clear(receiver):
    yield
    receiver.clear()


def _hook(store, owner, receiver, path="/old"):
    iid = marketplace.enable(store, owner, CUSTOM_KEY)
    settings.set_allow_private_webhooks(store, owner, True)
    return webhooks.update(
        store,
        owner,
        webhooks.create(store, owner, iid, url=receiver.url_for(path)).id,
        verified=True,
    )


async def _clear_and_type(pilot, app, field: str, text: str) -> None:
    box = app.screen.query_one(f"#f-{field}", Input)
    box.value = ""
    box.focus()
    await pilot.pause()
    await type_text(pilot, text)


async def test_edit_from_the_tab_changes_the_url_and_asks_for_a_test(store, owner, receiver):
    hook = _hook(store, owner, receiver)
    receiver.expect_request("/new", method="POST").respond_with_data("ok")
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await pilot.press("enter", "4")
        await pilot.pause()
        assert "e Edit" in flat(app)
        await pilot.press("e")
        await pilot.pause()
        assert isinstance(app.screen, WebhookForm)
        assert app.screen.query_one("#f-url", Input).value == hook.url
        assert "Edit the webhook" in flat(app)
        assert "Verified by a test of this URL" in flat(app)
        new_url = receiver.url_for("/new")
        await _clear_and_type(pilot, app, "url", new_url)
        assert "A new URL or key is not verified" in flat(app)
        await pilot.press("ctrl+s")
        await pilot.pause()
        # Saved, unverified: the screen asks for a new Test at once.
        saved = webhooks.get(store, owner.account_id, hook.id)
        assert (saved.url, saved.verified, saved.version) == (new_url, False, hook.version + 1)
        assert isinstance(app.screen, ConfirmDialog)
        assert "Test the changed webhook?" in flat(app)
        await pilot.press("y")
        await settle(pilot)
        await wait_until(pilot, lambda: len(receiver.log) == 1)
        await settle(pilot)
        assert receiver.log[0][0].path == "/new"
        entries = audit.entries(store, owner.account_id)
        [entry] = [e for e in entries if e.action == "webhook.update"]
        assert "/old -> " in entry.detail and "/new" in entry.detail


async def test_edit_tested_in_the_form_is_saved_verified_with_the_same_key(store, owner, receiver):
    hook = _hook(store, owner, receiver)
    key = webhooks.generate_signing_key()
    hook = webhooks.update(store, owner, hook.id, sign_key=key, verified=True)
    receiver.expect_request("/moved", method="POST").respond_with_data("ok")
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        app.push_screen(WebhookScreen(hook.id))
        await pilot.pause()
        await pilot.press("e")
        await pilot.pause()
        assert isinstance(app.screen, WebhookForm)
        assert "blank keeps the current one" in flat(app)
        await _clear_and_type(pilot, app, "url", receiver.url_for("/moved"))
        await pilot.press("ctrl+t")
        await wait_until(pilot, lambda: "✓ Verified" in flat(app))
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, WebhookScreen)
        saved = webhooks.get(store, owner.account_id, hook.id)
        assert saved.verified and saved.url.endswith("/moved")
        assert saved.key_masked == hook.key_masked  # blank kept the key
        assert webhooks.reveal_key(store, owner, hook.id) == key
        # The test was signed with the saved key and is the log's newest entry.
        request = receiver.log[0][0]
        assert request.headers["webhook-signature"].startswith("v1,")
        await settle(pilot)
        assert "/moved" in flat(app)
        assert saved.delivery_count == 1


async def test_an_edit_opened_before_another_change_is_refused(store, owner, receiver):
    hook = _hook(store, owner, receiver)
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        app.push_screen(WebhookScreen(hook.id))
        await pilot.pause()
        await pilot.press("e")
        await pilot.pause()
        # Someone else changes it meanwhile.
        webhooks.update(store, owner, hook.id, event_types=["contract:sign"])
        await _clear_and_type(pilot, app, "url", receiver.url_for("/mine"))
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, WebhookForm)  # kept open with what was typed
        assert "changed" in flat(app) and "meanwhile" in flat(app)
        after = webhooks.get(store, owner.account_id, hook.id)
        assert after.url == hook.url and after.event_types == ("contract:sign",)


async def test_member_cannot_edit(store, owner, member, receiver):
    _hook(store, owner, receiver)
    app = IntegrationsAdmin(store, member)
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await pilot.press("enter", "4")
        await pilot.pause()
        await pilot.press("e")
        await pilot.pause()
        assert not isinstance(app.screen, WebhookForm)
