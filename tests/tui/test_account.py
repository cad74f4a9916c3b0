"""The Account view (`o`) by keys: plan, limits with usage, settings. Pilot
tests on both backends: assert on the screen, the notifications and the store."""

from __future__ import annotations

from store import audit, settings
from store.catalog import CUSTOM_KEY
from tui.app import IntegrationsAdmin
from tui.dialogs.form import FormDialog
from tui.screens.account import AccountScreen

from ..ui import field_error, flat, type_text

# -- the account view ------------------------------------------------------------------


async def test_account_view_shows_plan_limits_usage_and_settings(store, owner):
    from store import blueprints, marketplace

    iid = marketplace.enable(store, owner, CUSTOM_KEY)
    blueprints.create(store, owner, iid, name="Orders")
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await pilot.press("o")
        await pilot.pause()
        text = flat(app)
        for expected in (
            "My account · Business plan · 1 user (1 owner, press u)",
            "✓ Playbooks included",
            "Custom blueprints 1/10",
            "Connected blueprints per playbook 0/5",
            "Data fields per playbook 0/300",
            "Playbooks 0/100",
            "Webhook timeout 10 s",
            "Allow webhooks to private networks off",
        ):
            assert expected in text, expected


async def test_owner_changes_settings_and_a_bad_value_changes_nothing(store, owner):
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await pilot.press("o", "e")
        await pilot.pause()
        assert isinstance(app.screen, FormDialog)
        await pilot.press("ctrl+u")
        await type_text(pilot, "45")
        await pilot.press("tab", "space", "ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, FormDialog)
        assert field_error(app, "webhook_timeout_s") == (
            "The webhook timeout must be 1-30 seconds; 45 is outside that range."
        )
        assert settings.webhook_settings(store, owner.account_id) == settings.WebhookSettings(
            10, False
        )
        # The refused field has the focus again.
        assert app.focused is app.screen.query_one("#f-webhook_timeout_s")
        await pilot.press("ctrl+u")
        await type_text(pilot, "25")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, AccountScreen)
        assert "Webhook timeout 25 s" in flat(app)
    assert settings.webhook_settings(store, owner.account_id) == settings.WebhookSettings(25, True)
    assert [e.detail for e in audit.entries(store, owner.account_id, text="account.settings")] == [
        "Allow webhooks to private networks: off -> on",
        "webhook timeout 10 s -> 25 s",
    ]
