"""A section key shows its screen in the next frame: Textual's switch_mode
would hold every update for 50 ms (``delay_update``) to mask the switch."""

from __future__ import annotations

from textual.app import App

from tui.app import IntegrationsAdmin


async def test_section_keys_do_not_hold_updates(store, owner, monkeypatch):
    held: list[float] = []
    monkeypatch.setattr(App, "delay_update", lambda self, delay=0.05: held.append(delay))
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(80, 24)) as pilot:
        for key in ("m", "p", "a", "i"):
            await pilot.press(key)
        assert app.current_mode == "integrations"
    assert held == []
