"""The Webhooks tab by keys, against a real HTTP server on loopback: create
with a test, confirm, find the delivery in the log, resend; a hung receiver
never freezes the interface; snapshots with a fixed clock.

Pilot tests run on both backends. Snapshot tests use a SQLite file, a fixed
clock, an obviously fake signing key and fixed test results (no latency or
port that changes from run to run).
"""

from __future__ import annotations

import asyncio
import base64
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from standardwebhooks import Webhook as StandardWebhook
from textual import events
from textual.widgets import Input, Static
from werkzeug import Response

from store import accounts, audit, clock, deliveries, marketplace, settings, webhooks
from store.catalog import CUSTOM_KEY
from store.db import Store
from store.deliveries import AttemptResult, Event
from tui import clipboard
from tui.app import IntegrationsAdmin
from tui.dialogs.confirm import ConfirmDialog
from tui.dialogs.form import FormDialog
from tui.dialogs.webhook_form import WebhookForm
from tui.screens import webhooks_tab
from tui.screens.help import HelpScreen
from tui.screens.webhook import DeliveryScreen, WebhookScreen
from tui.widgets.filter_table import FilterTable
from tui.widgets.footer import Footer

from ..ui import flat, screen_text, settle, type_text, wait_until

T0 = datetime(2026, 11, 28, 15, 14, 14, tzinfo=UTC)
FAKE_KEY = "whsec_" + base64.b64encode(b"EXAMPLE0not0a0real0signing0key00").decode()


@pytest.fixture(autouse=True)
def _clear(receiver):
    yield
    receiver.clear()


async def open_webhooks_tab(pilot, *, row: int = 0) -> None:
    """From the Integrations list: the row-th integration, tab 4."""
    await pilot.press(*(["down"] * row), "enter", "4")
    await pilot.pause()


def webhook_list(app) -> FilterTable:
    return app.screen.query_one("#webhook-list", FilterTable)


# -- create, test, confirm, log ------------------------------------------------------


async def test_create_by_keys_test_confirm_and_find_the_delivery(store, owner, receiver):
    iid = marketplace.enable(store, owner, CUSTOM_KEY)
    receiver.expect_request("/contracts", method="POST").respond_with_data("thanks")
    url = receiver.url_for("/contracts")
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await open_webhooks_tab(pilot)
        assert "private networks off (s)" in flat(app)

        # The receiver is on loopback: allow private networks, by keys.
        await pilot.press("s")
        assert isinstance(app.screen, FormDialog)
        await pilot.press("tab", "space", "ctrl+s")
        await pilot.pause()
        assert settings.webhook_settings(store, owner.account_id).allow_private
        assert "private networks on (s)" in flat(app)

        await pilot.press("n")
        form = app.screen
        assert isinstance(form, WebhookForm)
        assert "Not verified yet: ctrl+t sends a test delivery to this URL." in flat(app)
        await type_text(pilot, url)
        await pilot.press("ctrl+g")  # generate a signing key
        key = form.values()["sign_key"]
        assert key.startswith("whsec_")
        await pilot.press("ctrl+t")
        await settle(pilot)
        assert "✓ Verified: HTTP 200 OK ·" in flat(app)
        [req] = [r for r, _ in receiver.log]
        payload = StandardWebhook(key).verify(req.get_data(), dict(req.headers))
        assert payload["events"][0]["type"] == "webhook:test"

        await pilot.press("ctrl+s")
        await pilot.pause()
        assert not isinstance(app.screen, FormDialog)
        assert "created (verified by its test)" in flat(app)

        [w] = webhooks.list_for_integration(store, owner.account_id, iid)
        assert (w.url, w.verified, w.signed, w.delivery_count) == (url, True, True, 1)
        assert webhook_list(app).selected_key == str(w.id)
        # The list shows the URL's start (the page shows it whole): find its row by that.
        start = webhooks_tab.short_url(url)[:-1]
        row = next(
            line
            for line in screen_text(app).splitlines()
            if start in line and "│" not in line and "▌" not in line
        )
        assert "yes" in row and "ok (200)" in row

        await pilot.press("enter")  # the webhook's page: its delivery log
        await pilot.pause()
        assert isinstance(app.screen, WebhookScreen)
        assert key not in flat(app) and webhooks.mask_key(key) in flat(app)
        [d] = deliveries.deliveries(store, w.id)
        assert d.callback_id == payload["callback_id"]
        assert d.callback_id[:12] in flat(app) and "webhook:test" in flat(app)

        app.clear_notifications()
        await pilot.press("enter")  # the delivery: request and response
        await pilot.pause()
        assert isinstance(app.screen, DeliveryScreen)
        text = flat(app)
        assert d.callback_id in text and "200 OK" in text
        assert f"webhook-signature: {req.headers['Webhook-Signature']}" in text
        assert "User-Agent: integrations-admin/0.1.0" in text

        await pilot.press("r")  # resend: same callback id, logged as a new attempt
        await settle(pilot)
        assert "Resent as delivery" in flat(app)
        again = deliveries.deliveries(store, w.id)
        assert [x.callback_id for x in again] == [d.callback_id, d.callback_id]
        assert again[0].resend_of_id == d.id
        assert len(receiver.log) == 2


async def test_confirm_without_a_test_says_not_verified(store, owner):
    iid = marketplace.enable(store, owner, CUSTOM_KEY)
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await open_webhooks_tab(pilot)
        await pilot.press("n")
        await type_text(pilot, "https://hooks.example.com/x")
        assert "Not verified yet" in flat(app)
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "created (not verified)" in flat(app)
    [w] = webhooks.list_for_integration(store, owner.account_id, iid)
    assert not w.verified and w.delivery_count == 0


async def test_form_errors_stay_in_the_form(store, owner, receiver):
    iid = marketplace.enable(store, owner, CUSTOM_KEY)
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await open_webhooks_tab(pilot)
        await pilot.press("n")
        await type_text(pilot, receiver.url_for("/x"))  # http, private networks off
        await pilot.press("ctrl+t")
        await settle(pilot)
        assert isinstance(app.screen, WebhookForm)
        assert "The URL must start with https://. Plain http is accepted only" in flat(app)
        assert "Not verified yet" in flat(app)
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, WebhookForm)
        assert app.screen.values()["url"] == receiver.url_for("/x")
    assert webhooks.list_for_integration(store, owner.account_id, iid) == []
    assert receiver.log == []


async def test_a_url_over_1000_characters_is_refused_next_to_the_field(store, owner):
    iid = marketplace.enable(store, owner, CUSTOM_KEY)
    url = "https://hooks.example.com/" + "a" * (1001 - len("https://hooks.example.com/"))
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await open_webhooks_tab(pilot)
        await pilot.press("n")
        form = app.screen
        assert isinstance(form, WebhookForm)
        # Pasted (typing 1001 keys is slow; a paste goes through max_length as typing does).
        form.query_one("#f-url", Input).post_message(events.Paste(url))
        await pilot.pause()
        assert form.values()["url"] == url  # nothing cut
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is form
        error = form.query_one("#e-url", Static)
        assert error.has_class("shown")
        assert "The URL is 1001 characters long; at most 1000." in str(error.render())
        assert form.values()["url"] == url  # kept as typed
    assert webhooks.list_for_integration(store, owner.account_id, iid) == []


# -- never frozen ----------------------------------------------------------------------


async def test_keys_are_handled_while_a_receiver_hangs(store, owner, receiver, release):
    iid = marketplace.enable(store, owner, CUSTOM_KEY)
    settings.set_allow_private_webhooks(store, owner, True)
    arrived = threading.Event()

    def hang(_request):
        arrived.set()
        release.wait(30)
        return Response("finally")

    receiver.expect_request("/hang").respond_with_handler(hang)
    receiver.expect_request("/fine").respond_with_data("ok")
    slow = webhooks.create(store, owner, iid, url=receiver.url_for("/hang"))
    fine = webhooks.create(store, owner, iid, url=receiver.url_for("/fine"))
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await open_webhooks_tab(pilot)
        table = webhook_list(app)
        while table.selected_key != str(slow.id):
            await pilot.press("down")
        await pilot.press("t")
        await pilot.pause()
        await asyncio.to_thread(arrived.wait, 10)  # the request is at the receiver, hanging
        assert "testing…" in flat(app)

        # While the receiver hangs: filter the list, open help, open a tab.
        await pilot.press("slash")
        await type_text(pilot, "fine")
        await pilot.pause()
        assert table.row_count == 1 and table.selected_key == str(fine.id)
        await pilot.press("escape")
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        assert "New webhook" in flat(app) and "Webhook settings" in flat(app)
        await pilot.press("escape", "1")
        await pilot.pause()
        assert "Custom integration extension" in flat(app)  # the Details tab
        assert not release.is_set() and any(w.is_running for w in app.workers)

        release.set()
        await settle(pilot)
        assert "Test of" in flat(app) and "HTTP 200 OK" in flat(app)
    [d] = deliveries.deliveries(store, slow.id)
    assert d.success


async def test_escape_cancels_a_running_test_and_keeps_the_form(store, owner, receiver, release):
    iid = marketplace.enable(store, owner, CUSTOM_KEY)
    settings.set_allow_private_webhooks(store, owner, True)
    receiver.expect_request("/hang").respond_with_handler(
        lambda _r: (release.wait(30), Response("late"))[1]
    )
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await open_webhooks_tab(pilot)
        await pilot.press("n")
        await type_text(pilot, receiver.url_for("/hang"))
        await pilot.press("ctrl+t")
        await pilot.pause()
        assert "Testing… (escape cancels the test)" in flat(app)
        await type_text(pilot, "/x")  # the form stays usable meanwhile
        assert app.screen.values()["url"].endswith("/hang/x")
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, WebhookForm)
        assert "Test cancelled: not verified." in flat(app)
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, FormDialog)
    assert webhooks.list_for_integration(store, owner.account_id, iid) == []


# -- page, reveal, delete, read-only ------------------------------------------------------


async def test_reveal_key_is_explicit_and_audited(store, owner):
    iid = marketplace.enable(store, owner, CUSTOM_KEY)
    key = webhooks.generate_signing_key()
    webhooks.create(store, owner, iid, url="https://hooks.example.com/a", sign_key=key)
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await open_webhooks_tab(pilot)
        await pilot.press("enter")
        await pilot.pause()
        assert key not in flat(app) and webhooks.mask_key(key) in flat(app)
        await pilot.press("r")
        await pilot.pause()
        assert key in flat(app)
        await pilot.press("r")
        await pilot.pause()
        assert key not in flat(app)
        await pilot.press("r", "escape", "enter")  # leaving the page hides it again
        await pilot.pause()
        assert isinstance(app.screen, WebhookScreen) and key not in flat(app)
    entries = audit.entries(store, owner.account_id, text="reveal_key")
    assert len(entries) == 2 and all(key not in e.detail for e in entries)


def footer_labels(app) -> list[str]:
    keys, _palette = app.screen.query_one(Footer).keys()
    return [f"{k.display} {k.description}" for k in keys]


async def test_footer_says_hide_key_while_the_key_is_revealed(store, owner):
    iid = marketplace.enable(store, owner, CUSTOM_KEY)
    webhooks.create(
        store,
        owner,
        iid,
        url="https://hooks.example.com/a",
        sign_key=webhooks.generate_signing_key(),
    )

    async def footer_says(pilot, shown: str, not_shown: str) -> None:
        # The reveal is read in a worker: wait for the footer to follow (or fail).
        def says() -> bool:
            labels = footer_labels(app)
            return shown in labels and not_shown not in labels

        await wait_until(pilot, says)

    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        await open_webhooks_tab(pilot)
        await pilot.press("enter")
        await footer_says(pilot, "r Reveal key", "r Hide key")
        await pilot.press("r")
        await footer_says(pilot, "r Hide key", "r Reveal key")
        await pilot.press("r")
        await footer_says(pilot, "r Reveal key", "r Hide key")
        await pilot.press("r")
        await footer_says(pilot, "r Hide key", "r Reveal key")
        await pilot.press("escape", "enter")  # leaving the page hides the key
        await footer_says(pilot, "r Reveal key", "r Hide key")
        assert isinstance(app.screen, WebhookScreen)


async def test_a_key_revealed_in_one_session_is_not_hide_key_in_the_next(store, owner):
    # The footer's label is set per screen: it must not stick to the class (Textual's
    # copy of a class's bindings shares its lists), or every later page says "Hide".
    iid = marketplace.enable(store, owner, CUSTOM_KEY)
    webhooks.create(
        store,
        owner,
        iid,
        url="https://hooks.example.com/a",
        sign_key=webhooks.generate_signing_key(),
    )
    for _ in range(2):
        app = IntegrationsAdmin(store, owner)
        async with app.run_test(size=(120, 36), notifications=True) as pilot:
            await open_webhooks_tab(pilot)
            await pilot.press("enter")
            await pilot.pause()
            assert isinstance(app.screen, WebhookScreen)
            assert "r Reveal key" in footer_labels(app) and "r Hide key" not in footer_labels(app)
            await pilot.press("r")  # and the session ends with the key revealed
            await wait_until(pilot, lambda app=app: "r Hide key" in footer_labels(app))


async def test_a_typed_key_shows_its_receiver_secret_masked_revealed_copied(
    store, owner, monkeypatch
):
    copied: list[str] = []
    monkeypatch.setattr(clipboard, "no_local_clipboard", lambda *a, **k: None)
    monkeypatch.setattr(clipboard, "_local_copy", copied.append)
    iid = marketplace.enable(store, owner, CUSTOM_KEY)
    typed = "a typed signing key, 32 chars ok"
    secret = webhooks.receiver_secret(typed)
    webhooks.create(store, owner, iid, url="https://hooks.example.com/a", sign_key=typed)
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        await open_webhooks_tab(pilot)
        await pilot.press("enter")
        await pilot.pause()
        text = flat(app)
        assert "Receiver secret" in text and webhooks.mask_key(secret) in text
        assert "paste this into a Standard Webhooks library" in text
        assert secret not in text and typed not in text
        assert "w Copy receiver secret" in footer_labels(app)
        await pilot.press("r")
        await pilot.pause()
        text = flat(app)
        assert typed in text and secret in text
        await pilot.press("r", "w")
        await pilot.pause()
        assert copied == [secret] and app.clipboard == secret
        assert secret not in flat(app)


async def test_a_generated_key_has_no_separate_receiver_secret(store, owner):
    iid = marketplace.enable(store, owner, CUSTOM_KEY)
    key = webhooks.generate_signing_key()
    webhooks.create(store, owner, iid, url="https://hooks.example.com/a", sign_key=key)
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        await open_webhooks_tab(pilot)
        await pilot.press("enter")
        await pilot.pause()
        assert "Receiver secret" not in flat(app)
        assert not any("receiver secret" in label for label in footer_labels(app))


async def test_a_guessable_typed_key_is_refused_under_the_key_field(store, owner):
    iid = marketplace.enable(store, owner, CUSTOM_KEY)
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await open_webhooks_tab(pilot)
        await pilot.press("n")
        form = app.screen
        await type_text(pilot, "https://hooks.example.com/x")
        await pilot.press("tab")
        await type_text(pilot, "Summer2026Summer2026Summer")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is form
        error = form.query_one("#e-sign_key", Static)
        assert error.has_class("shown")
        shown = str(error.render())
        assert shown.startswith("This signing key is too easy to guess")
        assert "Press ctrl+g to generate one." in shown
        assert form.values()["sign_key"] == "Summer2026Summer2026Summer"  # kept
        await pilot.press("ctrl+g", "ctrl+s")  # a generated key goes through
        await pilot.pause()
        assert not isinstance(app.screen, FormDialog)
    [w] = webhooks.list_for_integration(store, owner.account_id, iid)
    assert w.key_generated


async def test_presenter_mode_masks_the_signing_key_field(store, owner):
    """Presenting, the key field is masked: a generated key (ctrl+g) or a typed one
    never shows in clear; presenting off shows it again (issue 13, item 15)."""
    marketplace.enable(store, owner, CUSTOM_KEY)
    app = IntegrationsAdmin(store, owner, presenter=True)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await open_webhooks_tab(pilot)
        await pilot.press("n")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, WebhookForm)
        field = form.query_one("#f-sign_key", Input)
        assert field.password
        assert not form.query_one("#f-url", Input).password  # only secrets are masked
        await pilot.press("ctrl+g")
        await pilot.pause()
        key = form.values()["sign_key"]
        assert key.startswith("whsec_")
        assert key not in screen_text(app) and key[6:20] not in screen_text(app)
        typed = "x7#Lq9!vR2mT@8kZpW4sN0yB"
        field.value = ""
        await type_text(pilot, typed)
        assert form.values()["sign_key"] == typed and typed not in screen_text(app)

        app.action_toggle_presenter()  # off: the field shows what it holds again
        await pilot.pause()
        assert not field.password and typed in screen_text(app)
        app.action_toggle_presenter()  # on again, with the form open
        await pilot.pause()
        assert field.password and typed not in screen_text(app)


async def test_turning_private_networks_off_names_the_webhooks_that_need_them(store, owner):
    iid = marketplace.enable(store, owner, CUSTOM_KEY)
    settings.set_allow_private_webhooks(store, owner, True)
    intranet = "http://10.0.0.5:8080/" + "long/" * 20 + "hook"
    webhooks.create(store, owner, iid, url=intranet)
    webhooks.create(store, owner, iid, url="https://localhost:8443/hook")
    webhooks.create(store, owner, iid, url="https://hooks.example.com/public")
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await open_webhooks_tab(pilot)
        await pilot.press("s")
        assert isinstance(app.screen, FormDialog)
        await pilot.press("tab", "space", "ctrl+s")  # untick, save
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDialog)
        text = " ".join(str(w.render()) for w in app.screen.query(Static))  # as it wraps
        assert "Turn off 'Allow webhooks to private networks'?" in text
        assert "2 active webhooks of this account need private networks" in text
        assert intranet[:47] + "…" in text
        assert intranet not in text  # shortened
        assert "plain http; 10.0.0.5 is a private-network address" in text
        assert "https://localhost:8443/hook (localhost is a loopback name)" in text
        assert "hooks.example.com" not in text
        assert "Host names are not looked up here" in text

        await pilot.press("n")  # no: back in the form, nothing changed
        await pilot.pause()
        assert isinstance(app.screen, FormDialog)
        assert settings.webhook_settings(store, owner.account_id).allow_private

        await pilot.press("ctrl+s", "y")
        await pilot.pause()
        assert not isinstance(app.screen, FormDialog | ConfirmDialog)
        assert "private networks off (s)" in flat(app)
    assert not settings.webhook_settings(store, owner.account_id).allow_private


async def test_turning_private_networks_off_without_private_webhooks_asks_nothing(store, owner):
    iid = marketplace.enable(store, owner, CUSTOM_KEY)
    settings.set_allow_private_webhooks(store, owner, True)
    webhooks.create(store, owner, iid, url="https://hooks.example.com/public")
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await open_webhooks_tab(pilot)
        await pilot.press("s", "tab", "space", "ctrl+s")
        await pilot.pause()
        assert not isinstance(app.screen, FormDialog | ConfirmDialog)
    assert not settings.webhook_settings(store, owner.account_id).allow_private


async def test_delete_after_confirmation(store, owner):
    iid = marketplace.enable(store, owner, CUSTOM_KEY)
    webhooks.create(store, owner, iid, url="https://hooks.example.com/a")
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await open_webhooks_tab(pilot)
        await pilot.press("d")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDialog)
        assert "https://hooks.example.com/a will stop receiving events" in flat(app)
        await pilot.press("n")
        await pilot.pause()
        assert len(webhooks.list_for_integration(store, owner.account_id, iid)) == 1
        await pilot.press("d", "y")
        await pilot.pause()
        assert "Webhook https://hooks.example.com/a deleted." in flat(app)
    assert webhooks.list_for_integration(store, owner.account_id, iid) == []


async def test_delete_from_the_webhook_page_closes_it(store, owner):
    iid = marketplace.enable(store, owner, CUSTOM_KEY)
    urls = ["https://hooks.example.com/a", "https://hooks.example.com/b"]
    for url in urls:
        webhooks.create(store, owner, iid, url=url)
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await open_webhooks_tab(pilot)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, WebhookScreen)
        url = app.screen.info.url
        await pilot.press("d")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDialog)
        shown = flat(app)
        assert f"{url} will stop receiving events." in shown
        assert "The webhook will be deleted." in shown  # no delivery logged: none named
        await pilot.press("y")
        await pilot.pause()
        assert not isinstance(app.screen, (ConfirmDialog, WebhookScreen))  # back on the tab
        assert f"Webhook {url} deleted." in flat(app)
        # The page, uncovered a moment before it closes, does not look for it.
        assert "no longer exists" not in flat(app)
        assert [r.cells[0] for r in webhook_list(app)._shown] != []
        assert all(url not in str(r.cells) for r in webhook_list(app)._shown)
    left = webhooks.list_for_integration(store, owner.account_id, iid)
    assert [w.url for w in left] == [u for u in urls if u != url]


async def test_native_webhooks_are_read_only(store, owner):
    sf = marketplace.enable(store, owner, "salesforce")
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await open_webhooks_tab(pilot)
        assert "managed by the integration and read-only" in flat(app)
        [managed] = webhooks.list_for_integration(store, owner.account_id, sf)
        assert webhooks_tab.short_url(managed.url) in flat(app)
        said = []
        for key in ("n", "t", "d"):
            await pilot.press(key)
            await pilot.pause()
            assert not isinstance(app.screen, FormDialog | ConfirmDialog)
            said.append([n.message for n in app._notifications][-1])
        # The store's words, said at once: native (n), managed (t sends, d changes).
        assert said == [
            "Salesforce is a native integration: its webhooks are managed and read-only. "
            "Your own webhooks belong to the Custom integration.",
            "This webhook is managed by Salesforce: the platform sends to it.",
            "This webhook is managed by Salesforce: it is read-only here. "
            "Disable Salesforce in the Marketplace to stop it.",
        ]
    [w] = webhooks.list_for_integration(store, owner.account_id, sf)
    assert w.managed and w.delivery_count == 0


async def test_member_sees_but_cannot_act(store, owner, member):
    iid = marketplace.enable(store, owner, CUSTOM_KEY)
    webhooks.create(store, owner, iid, url="https://hooks.example.com/a")
    app = IntegrationsAdmin(store, member)
    # 120 columns: at 80 a URL is cut to leave room for the Health column.
    async with app.run_test(size=(120, 30), notifications=True) as pilot:
        await open_webhooks_tab(pilot)
        assert "https://hooks.example.com/a" in flat(app)
        for key in ("n", "t", "s", "d"):
            await pilot.press(key)
            await pilot.pause()
            assert not isinstance(app.screen, FormDialog | ConfirmDialog)
        assert "Manage add-ons and integrations" in flat(app)
    [w] = webhooks.list_for_integration(store, owner.account_id, iid)
    assert w.delivery_count == 0


# -- snapshots --------------------------------------------------------------------------


def _logged(
    store,
    owner,
    webhook_id: int,
    *,
    at: datetime,
    ok: bool,
    status: int | None,
    reason: str,
    latency: int | None,
    event: str = "contract:sign",
) -> None:
    """A delivery in the log with fixed content (no network, nothing random)."""
    callback_id = f"{webhook_id:02d}{int(at.timestamp()):x}".ljust(40, "a")
    body = deliveries.build_body(callback_id, [Event(4711, event, at)], FAKE_KEY, contract_id=1234)
    headers = deliveries.build_headers(callback_id, int(at.timestamp()), body, FAKE_KEY)
    headers = {"Host": "hooks.example.com", **headers, "Content-Length": str(len(body))}
    response = (
        f"HTTP {status} {'OK' if ok else 'Internal Server Error'}\ncontent-type: text/plain\n\n"
        + ("received" if ok else "database unavailable")
        if status
        else ""
    )
    attempt = AttemptResult(
        ok=ok,
        status_code=status,
        latency_ms=latency,
        reason=reason,
        url="https://hooks.example.com/contracts",
        event_type=event,
        callback_id=callback_id,
        attempted_at=at,
        request_headers=tuple(headers.items()),
        request_body=body,
        response_excerpt=response,
        response_bytes=len(response),
        response_truncated=False,
    )
    with store.write(owner.account_id) as s:
        deliveries.log_attempt(s, webhook_id, attempt)


@pytest.fixture
def snap(tmp_path: Path):
    clock.fix(T0 - timedelta(days=3))
    store = Store(f"sqlite:///{tmp_path / 'snap.db'}")
    store.prepare()
    owner = accounts.sign_in(store, "alice", name="Alice Admin")
    iid = marketplace.enable(store, owner, CUSTOM_KEY)
    main = webhooks.create(
        store,
        owner,
        iid,
        url="https://hooks.example.com/contracts",
        sign_key=FAKE_KEY,
        verified=True,
    )
    erp = webhooks.create(
        store,
        owner,
        iid,
        url="https://erp.example.net/api/oneflow/events",
        event_types=["contract:sign", "contract:decline"],
    )
    webhooks.create(store, owner, iid, url="https://intranet.example.org/hook")
    _logged(
        store,
        owner,
        main.id,
        at=T0 - timedelta(hours=5),
        ok=False,
        status=500,
        reason="HTTP 500 Internal Server Error: the receiver did not accept the delivery.",
        latency=87,
    )
    _logged(
        store,
        owner,
        main.id,
        at=T0 - timedelta(hours=1),
        ok=True,
        status=200,
        reason="HTTP 200 OK",
        latency=42,
    )
    _logged(
        store,
        owner,
        erp.id,
        at=T0 - timedelta(hours=2),
        ok=False,
        status=None,
        reason="Timeout: erp.example.net did not answer within 10 s.",
        latency=10004,
    )
    clock.fix(T0)
    yield store, owner, iid
    store.dispose()


def _fixed_test(ok: bool):
    async def fake(store, actor, integration_id, url, sign_key):
        return AttemptResult(
            ok=ok,
            status_code=200 if ok else None,
            latency_ms=42 if ok else 10003,
            reason="HTTP 200 OK"
            if ok
            else "Timeout: hooks.example.com did not answer within 10 s.",
            url=url,
            event_type="webhook:test",
            callback_id="c" * 40,
            attempted_at=T0,
            request_headers=(),
            request_body="{}",
            response_excerpt="",
            response_bytes=0,
            response_truncated=False,
        )

    return fake


SIZES = pytest.mark.parametrize("size", [(80, 24), (120, 36)], ids=["80x24", "120x36"])


@SIZES
def test_snapshot_webhooks_tab(snap_compare, snap, size):
    store, owner, _ = snap
    assert snap_compare(IntegrationsAdmin(store, owner), press=["enter", "4"], terminal_size=size)


@SIZES
@pytest.mark.parametrize("ok", [True, False], ids=["passing", "failing"])
def test_snapshot_form_after_a_test(snap_compare, snap, monkeypatch, size, ok):
    store, owner, _ = snap
    monkeypatch.setattr(deliveries, "test_url", _fixed_test(ok))
    app = IntegrationsAdmin(store, owner)

    async def run(pilot) -> None:
        await pilot.press("enter", "4", "n")
        # Typed only once the form is there (else its letters are section keys).
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, FormDialog))
        await type_text(pilot, "https://hooks.example.com/new")
        await pilot.press("ctrl+t")
        await settle(pilot)

    assert snap_compare(app, run_before=run, terminal_size=size)


@SIZES
def test_snapshot_delivery_page(snap_compare, snap, size):
    store, owner, _ = snap
    assert snap_compare(
        IntegrationsAdmin(store, owner),
        press=["enter", "4", "enter", "enter"],
        terminal_size=size,
    )


async def test_an_unexpected_error_in_the_form_test_names_the_log_not_a_class(
    store, owner, monkeypatch, tmp_path
):
    """The form stays open with what was typed; the notification says where the
    details are (the log file), never the exception's class or its words."""
    from tui import diagnostics

    from ..ui import notes

    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    diagnostics.stop()  # a command-line test before this one may have left its log set
    diagnostics.start(debug=False)  # as the program's command line does
    marketplace.enable(store, owner, CUSTOM_KEY)

    async def broken(*_args, **_kw):
        raise RuntimeError("boom from deep inside")

    monkeypatch.setattr(deliveries, "test_url", broken)
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await open_webhooks_tab(pilot)
        await pilot.press("n")
        await type_text(pilot, "https://hooks.example.com/new")
        await pilot.press("ctrl+t")
        await wait_until(pilot, lambda: "could not run" in flat(app))
        assert isinstance(app.screen, WebhookForm)
        assert app.screen.values()["url"] == "https://hooks.example.com/new"
        said = " ".join(notes(app))
        assert "integrations-admin.log" in said
        assert "RuntimeError" not in flat(app) and "boom" not in flat(app)
        assert "RuntimeError" not in said and "boom" not in said
    diagnostics.stop()
    log = next((tmp_path / "state").rglob("integrations-admin.log"))
    assert "boom from deep inside" in log.read_text()  # the details are there
