"""Secrets stay secret: one scripted session by keys (a token generated and
copied, a webhook with a typed key and one with a generated key, tests and
deliveries to a loopback receiver), then every place a secret could leak to
is scanned: the SQLite file (WAL included), the audit table, the log output
and the screenshots saved along the way.

Expected: the token appears nowhere (only its hash and hint are kept); the
signing keys appear in the ``webhook.sign_key`` column only; the receiver gets
signatures that verify with the official ``standardwebhooks`` library, never a
key or the token.
"""

from __future__ import annotations

import html
import logging
import re
import shutil
import sqlite3
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import String, func, select
from sqlmodel import SQLModel
from standardwebhooks import Webhook as StandardWebhook

from store import accounts, audit, deliveries, webhooks
from store.catalog import CUSTOM_KEY
from store.db import Store
from tui.app import IntegrationsAdmin
from tui.dialogs.form import FormDialog
from tui.screens.token_once import TokenOnceScreen
from tui.widgets.filter_table import FilterTable

from ..ui import flat, screen_text, settle, type_text

TOKEN_RE = re.compile(r"iadm_[0-9A-Za-z]{35}")
TYPED_KEY = "Typed-Sgn-Kx-7Rq0m4Zt2Vw9-Lb"


def fragments(secret: str, n: int = 10) -> set[str]:
    """Every n-character piece of a secret: a partial leak is a leak too (a
    token's display hint, prefix and last 4 characters, stays shorter)."""
    return {secret[i : i + n] for i in range(len(secret) - n + 1)}


def leaks(text: str, secrets: list[str]) -> list[str]:
    return sorted({f for s in secrets for f in fragments(s) if f in text})


@pytest.fixture
def receiver():
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    server.expect_request("/typed", method="POST").respond_with_data("thanks")
    server.expect_request("/generated", method="POST").respond_with_data("thanks")
    yield server
    server.clear()
    server.stop()


async def test_a_whole_session_leaks_no_secret(tmp_path, receiver, local_clip, caplog, capsys):
    caplog.set_level(logging.DEBUG)
    path = tmp_path / "secrets.db"
    store = Store(str(path))
    owner = accounts.sign_in(store, "alice")
    shots: list[str] = []

    def screenshot(name: str) -> None:
        shots.append(app.save_screenshot(filename=f"{name}.svg", path=str(tmp_path)))

    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        # Enable the Custom integration in the Marketplace, open it.
        await pilot.press("m")
        await pilot.pause()
        table = app.screen.query_one(FilterTable)
        for _ in range(30):
            if table.selected_key == CUSTOM_KEY:
                break
            await pilot.press("down")
        await pilot.press("e", "i", "enter", "3")
        await pilot.pause()

        # A token: generated, shown once, copied, closed.
        await pilot.press("n")
        await type_text(pilot, "ERP sync")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, TokenOnceScreen)
        (token,) = TOKEN_RE.findall(screen_text(app))
        await pilot.press("c")
        await pilot.pause()
        assert app.clipboard == token and local_clip == [token]
        await pilot.press("enter")
        await pilot.pause()
        assert token not in screen_text(app)
        screenshot("tokens-tab")

        # Webhooks: allow the loopback receiver, then one typed and one generated key.
        await pilot.press("4", "s")
        await pilot.press("tab", "space", "ctrl+s")
        await pilot.pause()
        keys: dict[str, str] = {}
        for name in ("typed", "generated"):
            await pilot.press("n")
            form = app.screen
            form.set_value("url", receiver.url_for(f"/{name}"))  # (typing it is slow)
            await pilot.pause()
            if name == "typed":
                await pilot.press("tab")
                await type_text(pilot, TYPED_KEY)
            else:
                await pilot.press("ctrl+g")
            keys[name] = form.values()["sign_key"]
            await pilot.press("ctrl+t")  # Test: a delivery to the receiver
            await settle(pilot)
            assert "✓ Verified" in flat(app)
            await pilot.press("ctrl+s")
            await pilot.pause()
            assert not isinstance(app.screen, FormDialog)
        assert keys["typed"] == TYPED_KEY and keys["generated"].startswith("whsec_")
        screenshot("webhooks-tab")

        # Test each from the list (logged deliveries), open one: its page and a delivery.
        await pilot.press("t")
        await settle(pilot)
        await pilot.press("down", "t")
        await settle(pilot)
        await pilot.press("enter")
        await pilot.pause()
        screenshot("webhook-page")
        await pilot.press("enter")
        await pilot.pause()
        screenshot("delivery-page")
        assert app.clipboard == ""  # the token left Textual's clipboard when its screen closed

    secrets = [token, *keys.values()]
    typed, generated = keys["typed"], keys["generated"]

    # The webhook requests: signed, verified by the official library, no secret inside.
    requests = [r for r, _ in receiver.log]
    assert len(requests) == 4
    for req in requests:
        key = typed if req.path == "/typed" else generated
        StandardWebhook(key if key.startswith("whsec_") else _as_whsec(key)).verify(
            req.get_data(), dict(req.headers)
        )
        wire = req.get_data(as_text=True) + str(dict(req.headers))
        assert leaks(wire, secrets) == []

    # The database, logically: the keys live in webhook.sign_key and nowhere else.
    found = _columns_holding(store, secrets)
    assert found == {("webhook", "sign_key")}, found
    hooks = webhooks.list_for_integration(
        store, owner.account_id, requests and _custom(store, owner)
    )
    assert sorted(webhooks.reveal_key(store, owner, h.id) or "" for h in hooks) == sorted(
        keys.values()
    )
    assert sum(len(deliveries.deliveries(store, h.id)) for h in hooks) == 4

    # The audit table, every entry whole.
    entries = audit.entries(store, owner.account_id, limit=5000)
    assert len(entries) >= 8
    assert leaks(repr(entries), secrets) == []
    store.dispose()

    # The file's bytes: the token never (WAL and free pages included) ...
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("secrets.db*"))
    assert leaks(raw.decode("latin-1"), [token]) == []
    # ... and nothing at all once the signing key column is emptied.
    copy = tmp_path / "scrubbed.db"
    shutil.copyfile(path, copy)
    conn = sqlite3.connect(copy, isolation_level=None)
    conn.execute("PRAGMA journal_mode = DELETE")  # one file to read
    conn.execute("UPDATE webhook SET sign_key = NULL")
    conn.execute("VACUUM")  # rewrites the file from what remains
    conn.close()
    assert sorted(p.name for p in tmp_path.glob("scrubbed.db*")) == ["scrubbed.db"]
    assert leaks(copy.read_bytes().decode("latin-1"), secrets) == []

    # Log output (every logger, DEBUG up) and whatever reached stdout/stderr.
    out = capsys.readouterr()
    assert caplog.records  # the session did log (httpx, werkzeug...)
    assert leaks(caplog.text + out.out + out.err, secrets) == []

    # The screenshots.
    assert len(shots) == 4
    for shot in shots:
        svg = html.unescape(Path(shot).read_text(encoding="utf-8")).replace("\xa0", " ")
        assert "integrations-admin" in svg
        assert leaks(svg, secrets) == [], shot


def _as_whsec(typed: str) -> str:
    """standardwebhooks takes ``whsec_`` + base64 of the HMAC key; a typed key's
    HMAC key is its UTF-8 bytes."""
    import base64

    return "whsec_" + base64.b64encode(typed.encode()).decode()


def _custom(store: Store, owner) -> int:
    from store import integrations

    return next(i.id for i in integrations.active(store, owner.account_id) if i.key == CUSTOM_KEY)


def _is_text(column) -> bool:
    # String, Text, and SQLModel's AutoString (a decorator around String)
    return isinstance(getattr(column.type, "impl", column.type), String)


def _columns_holding(store: Store, secrets: list[str]) -> set[tuple[str, str]]:
    """Every (table, column) of text whose value contains a piece of a secret."""
    found = set()
    with store.engine.connect() as conn:
        for table in SQLModel.metadata.sorted_tables:
            for column in table.columns:
                if not _is_text(column):
                    continue
                for piece in {f for s in secrets for f in fragments(s)}:
                    hit = conn.execute(
                        select(func.count()).select_from(table).where(column.contains(piece))
                    ).scalar()
                    if hit:
                        found.add((table.name, column.name))
                        break
    return found
