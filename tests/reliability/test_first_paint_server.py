"""A start on PostgreSQL paints the frame before the store is open (it opens
in a thread), and a server that cannot be reached is said on that frame."""

from __future__ import annotations

import pytest

from store import accounts, marketplace
from store.catalog import CUSTOM_KEY
from store.db import Store
from store.values import Actor
from tests.latency_proxy import Proxy, free_port
from tui.app import IntegrationsAdmin

from ..conftest import PG_URL, make_database_url
from ..ui import flat, wait_until

pytestmark = pytest.mark.skipif(not PG_URL, reason="needs TEST_DATABASE_URL (PostgreSQL)")


def pending(login: str) -> Actor:
    """Who the command line starts with before signing in (tui/cli.py)."""
    return Actor(0, login, login, 0, "member", False)


async def test_the_frame_says_connecting_then_shows_the_data(tmp_path):
    gen = make_database_url("postgresql", tmp_path)
    url = next(gen)
    direct = Store(url)
    direct.prepare()
    owner = accounts.sign_in(direct, "alice")
    marketplace.enable(direct, owner, CUSTOM_KEY)
    direct.dispose()
    port = int(url.rsplit(":", 1)[1].split("/", 1)[0])
    proxy = Proxy(port)
    proxy.silent.set()  # the server does not answer yet: the frame must not wait
    app = IntegrationsAdmin(None, pending("alice"), url=url.replace(f":{port}/", f":{proxy.port}/"))
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            await wait_until(pilot, lambda: "Connecting to" in flat(app))
            assert f"Connecting to 127.0.0.1:{proxy.port}..." in flat(app)
            assert "Integrations" in flat(app)  # the section's title, and the footer's keys
            assert "Marketplace" in flat(app)
            proxy.silent.clear()
            await wait_until(pilot, lambda: "Custom integration" in flat(app), tries=500)
            assert app.actor.login == "alice" and app.actor.is_owner
            await wait_until(pilot, lambda: "alice (owner)" in app.sub_title, tries=100)
    finally:
        proxy.close()
        if app.store_is_open:
            app.store.dispose()
        next(gen, None)


async def test_an_unreachable_server_at_start_is_said_on_the_frame():
    port = free_port()  # nothing listens there
    url = f"postgresql+psycopg://alice@127.0.0.1:{port}/integrations"
    app = IntegrationsAdmin(None, pending("alice"), url=url)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: "Cannot reach the database at" in flat(app), tries=500)
        text = flat(app)
        assert f"Cannot reach the database at 127.0.0.1:{port}" in text
        assert "retrying in" in text  # the banner: it is retried, not left
        assert "your next action will try again" not in text
        assert app.is_running
