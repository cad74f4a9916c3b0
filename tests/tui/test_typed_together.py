"""Keys that arrive together (fast typing; over SSH one read often brings
several) are applied in their order, a form's priority keys included: a name
typed and saved with ctrl+s in one burst is saved whole. Each key is posted to
the App at once, as Textual's driver does with the keys of one read."""

from __future__ import annotations

from textual import events

from store import blueprints
from tui.app import IntegrationsAdmin
from tui.dialogs.form import FormDialog

from ..ui import loaded, screen_text, settle


def _burst(app, keys: list[str]) -> None:
    for key in keys:
        if len(key) == 1:
            app.post_message(events.Key(key, key))
        else:
            app.post_message(events.Key(key, "\x7f" if key == "backspace" else None))


async def test_a_name_typed_and_saved_in_one_burst_is_saved_whole(store, owner, custom):
    app = IntegrationsAdmin(store, owner)
    app.CHANGES_POLL_S = 3600
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        await pilot.press("enter", "2", "n")
        assert isinstance(app.screen, FormDialog)
        _burst(app, [*"Shippinx", "backspace", "g", "ctrl+s"])
        await settle(pilot)
        await loaded(pilot)
        assert not isinstance(app.screen, FormDialog), screen_text(app)
        names = [b.name for b in blueprints.for_integration(store, owner.account_id, custom)]
        assert names == ["Shipping"]
        assert "Shipping" in screen_text(app)
