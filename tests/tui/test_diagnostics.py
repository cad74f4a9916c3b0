"""The diagnostic log (issue 20): with --debug it holds store calls with
their round trips and times, workers and errors with tracebacks, and never a
token, a signing key, a password or a request body; an unexpected error names
the log instead of a class name and the program goes on; a crash leaves a
crash file."""

from __future__ import annotations

import re

import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy.engine import make_url

from store import accounts
from store.catalog import CUSTOM_KEY
from store.db import Store
from tui import config, diagnostics
from tui.app import IntegrationsAdmin
from tui.screens.token_once import TokenOnceScreen
from tui.widgets.filter_table import FilterTable

from ..ui import flat, screen_text, type_text, wait_until

TOKEN_RE = re.compile(r"iadm_[0-9A-Za-z]{35}")
PASSWORD = "Pw-Hunter2-NotForLogs"
TYPED_KEY = "Typed-Sgn-Kx-7Rq0m4Zt2Vw9-Lb"


@pytest.fixture
def log_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    yield config.log_dir()
    diagnostics.stop()


@pytest.fixture
def receiver():
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    server.expect_request("/hook", method="POST").respond_with_data("thanks")
    yield server
    server.clear()
    server.stop()


def _fragments(secret: str, n: int = 10) -> set[str]:
    return {secret[i : i + n] for i in range(len(secret) - n + 1)}


async def test_the_debug_log_has_the_calls_and_no_secret(db_url, log_dir, receiver):
    url = db_url
    if not url.startswith("sqlite"):
        # A password in the URL (the test server trusts loopback: it is not checked,
        # but the program holds it, as a team's would).
        url = make_url(db_url).set(password=PASSWORD).render_as_string(hide_password=False)
    path = diagnostics.start(debug=True)
    store = Store(url)
    store.prepare()
    owner = accounts.sign_in(store, "alice")
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await pilot.press("m")
        await pilot.pause()
        table = app.screen.query_one(FilterTable)
        for _ in range(30):
            if table.selected_key == CUSTOM_KEY:
                break
            await pilot.press("down")
        await pilot.press("e", "i", "enter", "3", "n")
        await type_text(pilot, "ERP sync")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: isinstance(app.screen, TokenOnceScreen))
        (token,) = TOKEN_RE.findall(screen_text(app))
        await pilot.press("enter")
        await pilot.press("4", "s", "tab", "space", "ctrl+s")
        await pilot.pause()
        keys = []
        for typed in (True, False):
            await pilot.press("n")
            form = app.screen
            form.set_value("url", receiver.url_for("/hook"))
            await pilot.pause()
            if typed:
                await pilot.press("tab")
                await type_text(pilot, TYPED_KEY)
            else:
                await pilot.press("ctrl+g")
            keys.append(form.values()["sign_key"])
            await pilot.press("ctrl+t")  # a test delivery: a request body, signed
            await app.workers.wait_for_complete()
            await wait_until(pilot, lambda: "Verified" in flat(app))
            await pilot.press("ctrl+s")
            await pilot.pause()
        await pilot.press("t")
        await app.workers.wait_for_complete()
        await pilot.pause()
    store.dispose()
    diagnostics.stop()

    log = path.read_text(encoding="utf-8")
    body = receiver.log[0][0].get_data(as_text=True)
    secrets = [token, *keys, PASSWORD]
    assert len(body) > 40 and keys[1].startswith("whsec_")
    leaked = sorted({f for s in secrets for f in _fragments(s) if f in log})
    # The body: no run of 30 of its characters (a date alone may match the log's times).
    leaked += sorted({f for f in _fragments(body, 30) if f in log})
    assert leaked == []
    # What it is for: store calls by name with round trips and times, workers.
    assert re.search(r"store\.tokens\.\w+: write, \d+ round trips, [\d.]+ ms, ok", log)
    # A screen's load names the screen (its reads share one session: Store.together).
    assert re.search(r"IntegrationsScreen\.load: read, \d+ round trips", log)
    assert re.search(r"worker .* (success|cancelled) after [\d.]+ ms", log)


async def test_an_unexpected_error_names_the_log_and_the_program_goes_on(store, owner, log_dir):
    """What ``report`` is given that is not a domain error (a bug met by a
    screen): the notification names the log, not a class; the traceback is in it."""
    path = diagnostics.start(debug=False)
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await pilot.pause()
        try:
            raise RuntimeError("a bug, for the test")
        except RuntimeError as exc:
            app.report(exc)
        await wait_until(pilot, lambda: "Unexpected error" in flat(app))
        assert "RuntimeError" not in flat(app)
        # The path is elided in its middle when long (a deep temporary folder):
        # its end, the file name, stays.
        assert "-admin.log (attach it to a bug report)" in flat(app)
        await pilot.press("m")  # still running
        await pilot.pause()
        assert app.current_mode == "marketplace"
    log = path.read_text(encoding="utf-8")
    assert "RuntimeError: a bug, for the test" in log and "Traceback" in log


def test_redact_masks_what_looks_like_a_secret():
    text = diagnostics.redact(
        "postgresql+psycopg://team:s3cr3t@db/x iadm_" + "A" * 35 + " whsec_QUJDREVGR0g= token=abc"
    )
    assert "s3cr3t" not in text and "AAAAAAAAAA" not in text and "QUJDREVGR0g" not in text
    assert "abc" not in text


def test_a_crash_writes_a_crash_file(log_dir):
    diagnostics.start(debug=False)
    try:
        raise ValueError("boom")
    except ValueError as exc:
        path = diagnostics.write_crash(exc)
    assert path is not None and path.parent == log_dir and path.name.startswith("crash-")
    assert "ValueError: boom" in path.read_text(encoding="utf-8")
