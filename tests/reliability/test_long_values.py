"""Long values at 80x24 (issue 13, item 11): a 1000-character URL or a
100-character name is shortened with an ellipsis where it is only mentioned (a
toast, a dialog, a title) and shown whole where it is the subject (the
webhook's page)."""

from __future__ import annotations

from textual.widgets._toast import Toast

from store import accounts, blueprints, marketplace, webhooks
from store.catalog import CUSTOM_KEY
from store.db import Store
from tui.app import IntegrationsAdmin
from tui.dialogs.confirm import ConfirmDialog
from tui.dialogs.form import FormDialog
from tui.format import ELLIPSIS, shorten, toast_text
from tui.screens.blueprint import BlueprintScreen
from tui.screens.webhook import WebhookScreen

from ..ui import screen_text

HOST = "https://hooks.example.com/"
URL = HOST + "a" * (1000 - len(HOST) - len("/end")) + "/end"
NAME = "Quarterly sales pipeline " + "x" * 60 + " of the north"  # 100 characters


def _account(tmp_path):
    store = Store(str(tmp_path / "long.db"))
    owner = accounts.sign_in(store, "alice")
    iid = marketplace.enable(store, owner, CUSTOM_KEY)
    return store, owner, iid


def _lines(app, widget) -> list[str]:
    """The screen's lines inside ``widget``'s content region, trimmed, non-empty."""
    r = widget.content_region
    rows = screen_text(app).splitlines()[r.y : r.bottom]
    return [line[r.x : r.right].strip() for line in rows if line[r.x : r.right].strip()]


async def _open_webhooks_tab(pilot) -> None:
    await pilot.press("enter", "4")
    await pilot.pause()


def test_shorten():
    assert shorten("abc", 3) == "abc"
    assert shorten("abcdefghij", 5) == "abcd" + ELLIPSIS
    assert shorten("abcdefghij", 5, middle=True) == "ab" + ELLIPSIS + "ij"
    assert shorten("日本語日本語", 5) == "日本" + ELLIPSIS  # by terminal cells
    assert shorten(URL, 72, middle=True).startswith(HOST)
    assert shorten(URL, 72, middle=True).endswith("/end")
    assert len(shorten(URL, 72, middle=True)) == 72


def test_toast_text_shortens_long_words_only():
    said = f"Webhook {URL} deleted."
    short = toast_text(said)
    assert short.startswith(f"Webhook {HOST}") and short.endswith("/end deleted.")
    assert len(short) < 100
    plain = "Blueprint 'Order data' deleted: its 3 fields and 2 mappings went with it."
    assert toast_text(plain) == plain
    assert len(toast_text("word " * 1000)) <= 300


async def test_a_toast_naming_a_long_url_is_a_few_lines(tmp_path):
    store, owner, iid = _account(tmp_path)
    webhooks.create(store, owner, iid, url=URL)
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await _open_webhooks_tab(pilot)
        await pilot.press("d")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("y")
        await pilot.pause()
        toasts = list(app.screen.query(Toast))
        assert len(toasts) == 1
        lines = _lines(app, toasts[0])
        assert 1 < len(lines) <= 4, lines
        said = "".join(lines)
        assert said.startswith(f"Webhook{HOST}") and said.endswith("/enddeleted.")
        assert ELLIPSIS in said
    assert webhooks.list_for_integration(store, owner.account_id, iid) == []


async def test_a_dialog_about_a_long_url_keeps_its_title_and_buttons(tmp_path):
    store, owner, iid = _account(tmp_path)
    webhooks.create(store, owner, iid, url=URL)
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(80, 24)) as pilot:
        await _open_webhooks_tab(pilot)
        await pilot.press("d")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDialog)
        dialog = app.screen.query_one("ConfirmDialog > Vertical")
        assert dialog.region.y >= 0 and dialog.region.bottom <= 24
        lines = _lines(app, dialog)
        assert lines[0] == "Delete this webhook?"
        assert any("Delete (y)" in line for line in lines)
        assert len(lines) < 14, lines
        message = "".join(lines[1:])
        assert message.startswith(HOST) and ELLIPSIS in message
        assert "/endwill stop receiving events." in message


async def test_a_long_name_keeps_titles_on_one_line(tmp_path):
    store, owner, iid = _account(tmp_path)
    bp = blueprints.create(store, owner, iid, name=NAME)
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("enter", "2")
        await pilot.pause()
        # The edit form's title: one line, ending in an ellipsis.
        await pilot.press("e")
        await pilot.pause()
        assert isinstance(app.screen, FormDialog)
        title = app.screen.query_one(".form-title")
        assert title.region.height == 1
        (shown,) = _lines(app, title)
        assert shown.startswith("Edit blueprint Quarterly sales") and shown.endswith(ELLIPSIS)
        assert app.screen.values()["name"] == NAME  # the field holds it whole
        await pilot.press("escape")
        await pilot.pause()
        # The delete confirmation: the title on one line, the message names it whole.
        await pilot.press("d")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDialog)
        title = app.screen.query_one(".title")
        assert title.region.height == 1 and _lines(app, title)[0].endswith(ELLIPSIS)
        body = app.screen.query("ConfirmDialog Static").exclude(".title").first()
        message = " ".join(_lines(app, body))
        assert NAME.replace(" ", "") in message.replace(" ", "")  # whole, over lines
        await pilot.press("n")
        await pilot.pause()
        # The page's breadcrumb.
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, BlueprintScreen) and app.screen.blueprint_id == bp.id
        (crumb,) = _lines(app, app.screen.query_one("#title"))
        assert crumb.startswith("Integrations › Custom integration › Quarterly")
        assert crumb.endswith(ELLIPSIS)


async def test_the_webhook_page_shows_a_long_url_whole(tmp_path):
    store, owner, iid = _account(tmp_path)
    webhooks.create(store, owner, iid, url=URL)
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(80, 24)) as pilot:
        await _open_webhooks_tab(pilot)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, WebhookScreen)
        app.screen.scroll_home(animate=False)
        await pilot.pause()
        settings = app.screen.query_one("#webhook-settings")
        shown = "".join("".join(line.split()) for line in _lines(app, settings))
        assert f"URL{URL}Events" in shown  # wrapped over lines, every character there
        assert ELLIPSIS not in shown
        # The delivery log below still has room for rows (the page scrolls).
        assert app.screen.query_one("FilterTable").region.height >= 6
