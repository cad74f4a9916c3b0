"""Shared fixtures (helpers: ``tests/helpers.py`` for store data, ``tests/ui.py``
for Pilot).

``store`` runs each store test on a fresh SQLite file and, when
``TEST_DATABASE_URL`` is set (CI sets it), on a fresh PostgreSQL database too.
If that server is set but unreachable the run fails: PostgreSQL is never
skipped silently.
"""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from store import accounts, clock, marketplace, users
from store.accounts import Actor
from store.db import Store
from tui import clipboard

from .ui import wait_for_loads_after_keys

# Screens read the store in thread workers: a key, a click or a start waits for
# those loads before the test reads the screen (tests/ui.py).
wait_for_loads_after_keys()

PG_URL = os.environ.get("TEST_DATABASE_URL", "")
BACKENDS = ["sqlite", "postgresql"] if PG_URL else ["sqlite"]


def _pg_admin_url() -> str:
    url = PG_URL
    if url.startswith(("postgresql://", "postgres://")):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


# The longest tests (minutes each on this 2-core machine) start first, one at
# the head of each worker's share: pytest-xdist's ``worksteal`` (pyproject)
# hands worker i the i-th of N consecutive shares and lets idle workers take
# the tail of a busy one's queue, so none of these starts late and runs alone
# at the end of the run. The memory test, the longest, has a worker to itself.
LONGEST_FIRST = (
    "tests/perf/test_memory.py::",
    "tests/reliability/test_dispatch_faults.py::test_sigkill_mid_batch",
    "tests/tui/test_demo.py::test_screenshots_are_the_same_bytes_every_time",
    "tests/tui/test_recording.py::test_the_main_story_recorded",
)


def pytest_collection_modifyitems(config, items) -> None:
    def rank(item) -> int | None:
        found = (i for i, p in enumerate(LONGEST_FIRST) if item.nodeid.startswith(p))
        return next(found, None)

    longest = sorted((i for i in items if rank(i) is not None), key=rank)
    rest = [i for i in items if rank(i) is None]
    workers = int(getattr(config, "workerinput", {}).get("workercount", 1))
    heads: list[list] = [[] for _ in range(workers)]
    for n, item in enumerate(longest):
        w = 0 if n == 0 or workers == 1 else 1 + (n - 1) % (workers - 1)
        heads[w].append(item)
    ordered: list = []
    left = len(items)
    for w in range(workers):
        share = left // (workers - w)  # as worksteal's first split counts it
        left -= share
        take = max(0, share - len(heads[w]))
        ordered += heads[w] + rest[:take]
        rest = rest[take:]
    items[:] = ordered + rest


def pytest_report_header(config) -> str:
    if PG_URL:
        shown = make_url(_pg_admin_url()).render_as_string(hide_password=True)
        return f"store backends: sqlite, postgresql ({shown})"
    return "store backends: sqlite only (set TEST_DATABASE_URL to add PostgreSQL)"


def pytest_sessionstart(session) -> None:
    if PG_URL:
        try:
            eng = create_engine(_pg_admin_url(), connect_args={"connect_timeout": 5})
            with eng.connect() as c:
                c.execute(text("select 1"))
            eng.dispose()
        except Exception as exc:  # fail loudly, never skip
            raise pytest.UsageError(
                f"TEST_DATABASE_URL is set but the server is unreachable: {exc}"
            ) from exc


def make_database_url(backend: str, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database of the given backend; dropped afterwards."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.db'}"
        return
    admin = _pg_admin_url()
    name = f"t_{uuid.uuid4().hex[:16]}"
    eng = create_engine(admin, isolation_level="AUTOCOMMIT")
    with eng.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(admin).set(database=name).render_as_string(hide_password=False)
    finally:
        with eng.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        eng.dispose()


def pg_behind_proxy(tmp_path: Path, query: str = "") -> Iterator[tuple]:
    """(a store on a fresh PostgreSQL database through a proxy on loopback,
    the proxy, the owner alice, the Custom integration's id): the account made
    directly, before the proxy is in the way. ``query``: added to the URL."""
    from store.catalog import CUSTOM_KEY
    from tests.latency_proxy import Proxy

    gen = make_database_url("postgresql", tmp_path)
    url = next(gen)
    direct = Store(url)
    direct.prepare()
    owner = accounts.sign_in(direct, "alice")
    custom = marketplace.enable(direct, owner, CUSTOM_KEY)
    direct.dispose()
    port = int(url.rsplit(":", 1)[1].split("/", 1)[0])
    proxy = Proxy(port)
    st = Store(url.replace(f":{port}/", f":{proxy.port}/") + query)
    try:
        yield st, proxy, owner, custom
    finally:
        proxy.silent.clear()
        proxy.close()
        st.dispose()
        next(gen, None)


@pytest.fixture(params=BACKENDS)
def db_url(request, tmp_path) -> Iterator[str]:
    yield from make_database_url(request.param, tmp_path)


@pytest.fixture
def store(db_url) -> Iterator[Store]:
    st = Store(db_url)
    st.prepare()
    yield st
    st.dispose()


@pytest.fixture
def owner(store) -> Actor:
    """The OS login that opened the new database: owner with the permission."""
    return accounts.sign_in(store, "alice", name="Alice Admin")


@pytest.fixture
def member(store, owner) -> Actor:
    """A user without the permission Manage add-ons and integrations."""
    users.add(store, owner, "bob", name="Bob Viewer")
    return accounts.sign_in(store, "bob")


@pytest.fixture(autouse=True)
def _no_user_keymap(monkeypatch) -> None:
    """The App reads keymap.toml from the user's configuration folder: tests
    press the default keys, whatever the person running them has remapped
    (a folder that does not exist, the same path on every run)."""
    monkeypatch.setenv("XDG_CONFIG_HOME", "/nonexistent/xdg-config")


@pytest.fixture(autouse=True)
def _log_folder_of_the_run(monkeypatch, tmp_path_factory) -> None:
    """The program's log (errors always, everything with --debug) goes to a
    folder of this run, never into the home of the person running the tests."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path_factory.getbasetemp() / "state"))


@pytest.fixture(autouse=True)
def _cache_folder_of_the_run(monkeypatch, tmp_path_factory) -> None:
    """The demo keeps its account's template in the user cache folder: one
    folder for the whole run (built once, then copied), never the home of the
    person running the tests."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.getbasetemp() / "cache"))


@pytest.fixture(autouse=True)
def _steady_cursor(monkeypatch) -> None:
    """An Input's cursor blinks every 0.5 s: a screenshot taken on a loaded
    machine could catch it off. Tests see it on, as the screenshots do."""
    from textual.widgets import Input

    monkeypatch.setattr(Input, "_toggle_cursor", lambda self: None)


@pytest.fixture(autouse=True)
def _keys_wait_for_changes(monkeypatch) -> None:
    """A change runs off the UI thread (``IntegrationsAdmin.save``): a key or a
    click that started one returns once its outcome has been handled (the form
    closed or showing its refusal), as a person would wait for it, unless the
    change waits for another administrator's or the database is away (a test of
    those states sees them)."""
    import asyncio

    from textual.pilot import Pilot

    from tui.saving import GIVING_UP, WAITING

    press, click = Pilot.press, Pilot.click

    async def until_handled(pilot) -> None:
        on_the_way = getattr(pilot.app, "changes_on_the_way", None)
        if on_the_way is None:
            return
        for _ in range(3000):  # a condition, not a clock: at most a minute
            if all(j.done or j.background or j.state in (WAITING, GIVING_UP) for j in on_the_way()):
                break
            if pilot.app.connection.away:  # the banner says the network holds it
                break
            await asyncio.sleep(0.02)
        await pilot.pause()

    async def pressed(self, *keys: str) -> None:
        await press(self, *keys)
        await until_handled(self)

    async def clicked(self, *args, **kwargs):
        result = await click(self, *args, **kwargs)
        await until_handled(self)
        return result

    monkeypatch.setattr(Pilot, "press", pressed)
    monkeypatch.setattr(Pilot, "click", clicked)


@pytest.fixture(autouse=True)
def _unfreeze_clock() -> Iterator[None]:
    yield
    clock.fix(None)


@pytest.fixture
def custom(store, owner) -> int:
    """The Custom integration, enabled: its id."""
    return marketplace.enable(store, owner, "custom")


@pytest.fixture(scope="module")
def receiver():
    """A real HTTP server on 127.0.0.1 (threaded, so a hung handler blocks nothing else)."""
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    yield server
    server.clear()
    server.stop()


@pytest.fixture
def release():
    """An event hung handlers wait on; set when the test ends."""
    ev = threading.Event()
    yield ev
    ev.set()


@pytest.fixture
def local_clip(monkeypatch) -> list[str]:
    """A local clipboard that records what it receives (never the real one)."""
    copied: list[str] = []
    monkeypatch.setattr(clipboard, "no_local_clipboard", lambda *a, **k: None)
    monkeypatch.setattr(clipboard, "_local_copy", copied.append)
    return copied
