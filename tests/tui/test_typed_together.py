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


async def test_tab_in_a_burst_moves_the_keys_after_it_to_the_next_field(store, owner, custom):
    """A name, tab, a description, tab, space (the checkbox), ctrl+s, typed in one
    burst: each key lands in the field that tab brought it to, not all in the
    first one (Textual hands a key to the widget focused when it is dispatched,
    and tab moved the focus only when the first field reached it)."""
    bp = blueprints.create(store, owner, custom, name="Orders")
    app = IntegrationsAdmin(store, owner)
    app.CHANGES_POLL_S = 3600
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        await pilot.press("enter", "2")
        await loaded(pilot)
        await pilot.press("enter")
        await loaded(pilot)
        await pilot.press("n")
        assert isinstance(app.screen, FormDialog)
        _burst(app, [*"Ref", "tab", *"Their ref", "tab", "space", "ctrl+s"])
        await settle(pilot)
        await loaded(pilot)
        assert not isinstance(app.screen, FormDialog), screen_text(app)
    got = blueprints.detail(store, owner.account_id, bp.id).fields
    fields = [(f.name, f.description, f.mapping_required) for f in got]
    assert fields == [("Ref", "Their ref", True)]
