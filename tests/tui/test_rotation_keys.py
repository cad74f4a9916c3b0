"""Rotation and snippets by keys (issue 18): on a webhook's page `x` rotates the
signing key (the page shows both keys and when the old one ends), `z` ends the
overlap, `v` opens the verification snippets (`c` copies one); on the API
tokens tab `x` rotates a token (the new one on the one-time screen) and the
list shows the old one and when it ends, `z` ends its grace. Both backends."""

from __future__ import annotations

import pytest

from store import audit, marketplace, tokens, webhooks
from store.catalog import CUSTOM_KEY
from tui.app import IntegrationsAdmin
from tui.dialogs.form import FormDialog
from tui.dialogs.snippets import SnippetsDialog
from tui.screens.token_once import TokenOnceScreen
from tui.screens.webhook import WebhookScreen

from ..ui import flat, settle, type_text, wait_until


@pytest.fixture(autouse=True)
def _osc52_only(local_clip):
    return local_clip


async def _open_webhook(pilot) -> None:
    await pilot.press("enter", "4")
    await pilot.pause()
    await pilot.press("enter")
    await pilot.pause()


async def test_rotate_a_signing_key_by_keys_then_end_the_overlap(store, owner):
    iid = marketplace.enable(store, owner, CUSTOM_KEY)
    old = webhooks.generate_signing_key()
    w = webhooks.create(store, owner, iid, url="https://hooks.example.com/a", sign_key=old)
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await _open_webhook(pilot)
        assert isinstance(app.screen, WebhookScreen)
        assert "Previous key" not in flat(app)
        await pilot.press("x")
        await pilot.pause()
        assert isinstance(app.screen, FormDialog)
        await pilot.press("tab", "end", "backspace", "backspace")  # the overlap: 2 hours
        await type_text(pilot, "2")
        await pilot.press("ctrl+s")
        await settle(pilot)
        await wait_until(pilot, lambda: isinstance(app.screen, WebhookScreen))
        info = webhooks.get(store, owner.account_id, w.id)
        assert info.in_overlap and info.key_generated
        text = flat(app)
        assert "Previous key" in text and "still signs beside the new key until" in text
        assert "Signing key rotated" in text and old not in text
        await pilot.press("z")  # one key ends the overlap
        await settle(pilot)
        assert not webhooks.get(store, owner.account_id, w.id).in_overlap
        assert "Previous key" not in flat(app)
    actions = [e.action for e in audit.entries(store, owner.account_id)]
    assert "webhook.rotate_key" in actions and "webhook.end_overlap" in actions


async def test_snippets_open_by_v_masked_unless_revealed_and_copy(store, owner, local_clip):
    iid = marketplace.enable(store, owner, CUSTOM_KEY)
    key = "a typed signing key, 32 chars ok"
    webhooks.create(store, owner, iid, url="https://hooks.example.com/a", sign_key=key)
    secret = webhooks.receiver_secret(key)
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        await _open_webhook(pilot)
        await pilot.press("v")
        await pilot.pause()
        assert isinstance(app.screen, SnippetsDialog)
        text = flat(app)
        assert "standardwebhooks" in text and "webhook-signature" in text
        assert secret not in text and key not in text and "WEBHOOK_SECRET" in text
        for n, marker in (("2", "crypto.createHmac"), ("3", "package main"), ("4", "openssl")):
            await pilot.press(n)
            await pilot.pause()
            assert marker in flat(app)
        await pilot.press("c")
        await pilot.pause()
        assert local_clip and "openssl" in local_clip[-1] and secret not in local_clip[-1]
        await pilot.press("escape", "r", "v")  # revealed on the page: written in
        await pilot.pause()
        assert isinstance(app.screen, SnippetsDialog)
        assert secret in flat(app)


async def test_rotate_a_token_by_keys_shown_once_and_listed_with_the_old(store, owner):
    iid = marketplace.enable(store, owner, CUSTOM_KEY)
    info, old = tokens.generate(store, owner, iid, name="ERP sync")
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(120, 30), notifications=True) as pilot:
        await pilot.press("enter", "3")
        await pilot.pause()
        await pilot.press("x")
        await pilot.pause()
        assert isinstance(app.screen, FormDialog)
        await pilot.press("ctrl+s")  # the default grace: 24 hours
        await settle(pilot)
        await wait_until(pilot, lambda: isinstance(app.screen, TokenOnceScreen))
        new = app.screen._token
        assert new and new != old and new in flat(app)
        await pilot.press("enter")
        await pilot.pause()
        text = flat(app)
        assert new not in text and f"old {info.hint.removeprefix('iadm_')} until" in text
        assert tokens.verify(store, old) and tokens.verify(store, new)
        await pilot.press("z")
        await settle(pilot)
        assert f"old {info.hint.removeprefix('iadm_')} until" not in flat(app)
    with pytest.raises(Exception, match="rotated"):
        tokens.verify(store, old)
